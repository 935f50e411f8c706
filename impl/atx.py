"""Fast ATX v2 codec and ID, and a SQLite ATX store, agreeing with spec/atx.md.

* ``decode_atx_v2`` / ``encode_atx_v2``: a decoder and encoder written for the one ATX v2 layout
  (no codec interpretation), with the spec's checks in the spec's order, so errors carry the same
  class and reason.
* ``atx_id_v2``: the Merkle roots computed level by level with precomputed all-zero subtrees, so
  the trees padded to 256 leaves cost about one hash per real leaf instead of 255. Trees that
  contain an empty leaf (scheme A only) go to the spec's merkle-tree port, which has the quirk.
* ``SqliteAtxStore``: the spec's ``AtxStore`` interface over SQLite (tables shaped like
  go-spacemesh's ``atxs``, ``posts``, ``marriages``, ``identities``, ``poets``).

``tests/differential/test_atx.py`` checks all of them against the spec with Hypothesis.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

import blake3
from smspec.impl.registry import replaces
from smspec.impl.scale import decode_compact, encode_compact
from smspec.spec.errors import InvalidEncoding, InvalidValue

if TYPE_CHECKING:  # the spec's classes, named in the replacements' signatures
    from smspec.spec.atx import ActivationTxV2, IdScheme
    from smspec.spec.atx_best import ActivationTxV3

ZERO = bytes(32)
NODE_PREFIX = b"\x01"


def _node(left: bytes, right: bytes) -> bytes:
    return blake3.blake3(NODE_PREFIX + left + right).digest()


ZERO_ROOTS = [ZERO]
for _ in range(10):
    ZERO_ROOTS.append(_node(ZERO_ROOTS[-1], ZERO_ROOTS[-1]))


# ---------------------------------------------------------------------------------------------
# Merkle roots


def _level_root(leaves: list, fallback: Any) -> bytes:
    """MT root of non-empty leaves (per-level zero padding); `fallback` if a leaf is empty."""
    for leaf in leaves:
        if not leaf:
            return fallback(leaves)
    level = list(leaves)
    while len(level) > 1:
        if len(level) & 1:
            level.append(ZERO)
        level = [_node(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0] if level else b""


def _padded_root(leaves: list, height: int, fallback: Any) -> bytes:
    """MT root of `leaves` followed by zero leaves up to 2**height leaves."""
    for leaf in leaves:
        if not leaf:
            return fallback(list(leaves) + [ZERO] * ((1 << height) - len(leaves)))
    if not leaves:
        return ZERO_ROOTS[height]
    level = list(leaves)
    for h in range(height):
        if len(level) & 1:
            level.append(ZERO_ROOTS[h])
        level = [_node(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def _u32(value: int) -> bytes:
    return value.to_bytes(4, "little")


def _pad(value: int, width: int) -> bytes:
    return value.to_bytes(width, "little") + bytes(32 - width)


def _post_scale(post: Any) -> bytes:
    indices = post.indices
    return encode_compact(post.nonce, 32) + encode_compact(len(indices), 32) + indices + encode_compact(post.pow, 64)


def _post_root(post: Any, a: bool, fallback: Any) -> bytes:
    if a:
        return _level_root([_u32(post.nonce), post.indices, post.pow.to_bytes(8, "little")], fallback)
    return blake3.blake3(_post_scale(post)).digest()


def _shared_leaves(atx: Any, a: bool, fallback: Any) -> tuple[bytes, bytes, bytes]:
    """(initial root, previous ATXs root, marriages root): the leaves v2 and v3 share."""
    certificates = []
    for certificate in atx.marriages:
        if a:
            certificates.append(_node(certificate.reference_atx, certificate.signature))
        else:
            certificates.append(blake3.blake3(certificate.reference_atx + certificate.signature).digest())
    if atx.initial is not None:
        initial = _node(atx.initial.commitment_atx, _post_root(atx.initial.post, a, fallback))
    else:
        initial = ZERO
    return initial, _padded_root(atx.previous_atxs, 8, fallback), _padded_root(certificates, 8, fallback)


@replaces("atx", "atx_id_v2", factory=True)
def make_atx_id_v2(spec: Any) -> Any:
    scheme_a = spec.IdScheme.A
    fallback = spec.merkle_root

    def post_root(post: Any, a: bool) -> bytes:
        return _post_root(post, a, fallback)

    def atx_id_v2(atx: ActivationTxV2, scheme: IdScheme) -> bytes:
        """The ATX v2 ID: the root of its 9-leaf tree (GS `ActivationTxV2.ID`)."""
        a = scheme == scheme_a
        prevs = atx.previous_atxs
        nipost_roots = []
        for nipost in atx.niposts:
            membership = b"".join([encode_compact(len(nipost.membership.nodes), 32), *nipost.membership.nodes])
            sub_roots = []
            for sub in nipost.posts:
                index = sub.prev_atx_index
                if index < len(prevs):
                    prev = prevs[index]
                elif a:
                    sub_roots.append(b"")
                    continue
                else:
                    prev = ZERO
                if a:
                    first, last = _u32(sub.marriage_index), _u32(sub.num_units)
                else:
                    first, last = _pad(sub.marriage_index, 4), _pad(sub.num_units, 4)
                leaves = [first, prev, _pad(sub.membership_leaf_index, 8), post_root(sub.post, a), last]
                sub_roots.append(_level_root(leaves, fallback))
            posts_root = _padded_root(sub_roots, 8, fallback)
            leaf = membership if a else blake3.blake3(membership).digest()
            nipost_roots.append(_level_root([leaf, nipost.challenge, posts_root], fallback))
        initial, previous_root, marriages_root = _shared_leaves(atx, a, fallback)
        leaves = [
            _pad(atx.publish_epoch, 4),
            atx.positioning_atx,
            atx.coinbase if a else atx.coinbase + bytes(8),
            initial,
            previous_root,
            _padded_root(nipost_roots, 2, fallback),
            _pad(atx.vrf_nonce, 8),
            marriages_root,
            ZERO if atx.marriage_atx is None else atx.marriage_atx,
        ]
        return _level_root(leaves, fallback)

    return atx_id_v2


@replaces("atx_best", "atx_id_v3", factory=True)
def make_atx_id_v3(spec: Any) -> Any:
    """spec/atx_best.md's ID: v2's top-level tree (same shared leaves) over the one v3 NiPost."""
    scheme_a = spec.IdScheme.A
    fallback = spec.merkle_root

    def atx_id_v3(atx: ActivationTxV3, scheme: IdScheme) -> bytes:
        """The ATX v3 ID: the root of its 9-leaf tree."""
        a = scheme == scheme_a
        nipost = atx.nipost
        nipost_leaves = [
            spec.membership_root_v3(nipost.membership),
            nipost.challenge,
            spec.members_root(nipost.members),
            nipost.identity_set_root,
            spec.best_proof_root(nipost.proof),
            _pad(nipost.membership_leaf_index, 8),
        ]
        initial, previous_root, marriages_root = _shared_leaves(atx, a, fallback)
        leaves = [
            _pad(atx.publish_epoch, 4),
            atx.positioning_atx,
            atx.coinbase if a else atx.coinbase + bytes(8),
            initial,
            previous_root,
            _level_root(nipost_leaves, fallback),
            _pad(atx.vrf_nonce, 8),
            marriages_root,
            ZERO if atx.marriage_atx is None else atx.marriage_atx,
        ]
        return _level_root(leaves, fallback)

    return atx_id_v3


# ---------------------------------------------------------------------------------------------
# Codec


def _take(data: bytes, offset: int, count: int) -> tuple[bytes, int]:
    end = offset + count
    if end > len(data):
        raise InvalidEncoding("short_input", f"need {count} bytes at offset {offset}, have {len(data) - offset}")
    return data[offset:end], end


def _length(data: bytes, offset: int, max_length: int) -> tuple[int, int]:
    length, offset = decode_compact(data, offset, 32)
    if length > max_length:
        raise InvalidEncoding("length_over_max", f"length {length} > max {max_length}")
    return length, offset


def _tag(data: bytes, offset: int) -> tuple[bool, int]:
    if offset >= len(data):
        raise InvalidEncoding("short_input", f"need 1 bytes at offset {offset}, have 0")
    return data[offset] == 1, offset + 1


def _hashes(data: bytes, offset: int, max_length: int) -> tuple[list, int]:
    count, offset = _length(data, offset, max_length)
    items = []
    for _ in range(count):
        item, offset = _take(data, offset, 32)
        items.append(item)
    return items, offset


@replaces("atx", "decode_atx_v2", factory=True)
def make_decode_atx_v2(spec: Any) -> Any:
    PostV1, SubPostV2, NiPostV2 = spec.PostV1, spec.SubPostV2, spec.NiPostV2
    MerkleProofV2, MarriageCertificate = spec.MerkleProofV2, spec.MarriageCertificate
    InitialAtxPartsV2, ActivationTxV2 = spec.InitialAtxPartsV2, spec.ActivationTxV2
    max_indices, max_nodes = spec.MAX_POST_INDICES, spec.MAX_MEMBERSHIP_NODES

    def post(data: bytes, offset: int) -> tuple[Any, int]:
        nonce, offset = decode_compact(data, offset, 32)
        count, offset = _length(data, offset, max_indices)
        indices, offset = _take(data, offset, count)
        pow_, offset = decode_compact(data, offset, 64)
        return PostV1(nonce, indices, pow_), offset

    def decode_atx_v2(blob: bytes) -> ActivationTxV2:
        """An ATX v2 from its wire bytes (every byte must be used)."""
        data = blob if type(blob) is bytes else bytes(blob)
        epoch, offset = decode_compact(data, 0, 32)
        positioning, offset = _take(data, offset, 32)
        coinbase, offset = _take(data, offset, 24)
        present, offset = _tag(data, offset)
        initial = None
        if present:
            commitment, offset = _take(data, offset, 32)
            initial_post, offset = post(data, offset)
            initial = InitialAtxPartsV2(commitment, initial_post)
        previous, offset = _hashes(data, offset, spec.MAX_PREVIOUS_ATXS)
        nipost_count, offset = _length(data, offset, spec.MAX_NIPOSTS)
        niposts = []
        for _ in range(nipost_count):
            nodes, offset = _hashes(data, offset, max_nodes)
            challenge, offset = _take(data, offset, 32)
            sub_count, offset = _length(data, offset, spec.MAX_SUB_POSTS)
            subs = []
            for _ in range(sub_count):
                marriage_index, offset = decode_compact(data, offset, 32)
                prev_index, offset = decode_compact(data, offset, 32)
                leaf_index, offset = decode_compact(data, offset, 64)
                sub_post, offset = post(data, offset)
                units, offset = decode_compact(data, offset, 32)
                subs.append(SubPostV2(marriage_index, prev_index, leaf_index, sub_post, units))
            niposts.append(NiPostV2(MerkleProofV2(nodes), challenge, subs))
        vrf_nonce, offset = decode_compact(data, offset, 64)
        marriage_count, offset = _length(data, offset, spec.MAX_MARRIAGES)
        marriages = []
        for _ in range(marriage_count):
            reference, offset = _take(data, offset, 32)
            signature, offset = _take(data, offset, 64)
            marriages.append(MarriageCertificate(reference, signature))
        present, offset = _tag(data, offset)
        marriage_atx = None
        if present:
            marriage_atx, offset = _take(data, offset, 32)
        smesher, offset = _take(data, offset, 32)
        signature, offset = _take(data, offset, 64)
        if offset != len(data):
            raise InvalidEncoding("trailing_bytes", f"{len(data) - offset} bytes left after the value")
        return ActivationTxV2(epoch, positioning, coinbase, initial, previous, niposts, vrf_nonce, marriages,
                              marriage_atx, smesher, signature)

    return decode_atx_v2


def _fixed(value: Any, size: int) -> bytes:
    if not isinstance(value, (bytes, bytearray)):
        raise InvalidValue("wrong_type", f"[{size}]byte needs bytes, got {type(value).__name__}")
    if len(value) != size:
        raise InvalidValue("wrong_length", f"[{size}]byte given {len(value)} bytes")
    return bytes(value)


def _write_length(length: int, max_length: int, out: bytearray) -> None:
    if length > max_length:
        raise InvalidValue("length_over_max", f"length {length} > max {max_length}")
    out += encode_compact(length, 32)


@replaces("atx", "encode_atx_v2", factory=True)
def make_encode_atx_v2(spec: Any) -> Any:
    def post(value: Any, out: bytearray) -> None:
        out += encode_compact(value.nonce, 32)
        if not isinstance(value.indices, (bytes, bytearray)):
            raise InvalidValue("wrong_type", "[]byte needs bytes")
        _write_length(len(value.indices), spec.MAX_POST_INDICES, out)
        out += value.indices
        out += encode_compact(value.pow, 64)

    def encode_atx_v2(atx: ActivationTxV2) -> bytes:
        """The wire bytes of an ATX v2."""
        if type(atx) is not spec.ActivationTxV2:
            return spec.encode(atx, spec.ActivationTxV2)  # the spec's error for a wrong type
        out = bytearray(encode_compact(atx.publish_epoch, 32))
        out += _fixed(atx.positioning_atx, 32)
        out += _fixed(atx.coinbase, 24)
        if atx.initial is None:
            out.append(0)
        else:
            out.append(1)
            out += _fixed(atx.initial.commitment_atx, 32)
            post(atx.initial.post, out)
        _write_length(len(atx.previous_atxs), spec.MAX_PREVIOUS_ATXS, out)
        for prev in atx.previous_atxs:
            out += _fixed(prev, 32)
        _write_length(len(atx.niposts), spec.MAX_NIPOSTS, out)
        for nipost in atx.niposts:
            _write_length(len(nipost.membership.nodes), spec.MAX_MEMBERSHIP_NODES, out)
            for node in nipost.membership.nodes:
                out += _fixed(node, 32)
            out += _fixed(nipost.challenge, 32)
            _write_length(len(nipost.posts), spec.MAX_SUB_POSTS, out)
            for sub in nipost.posts:
                out += encode_compact(sub.marriage_index, 32)
                out += encode_compact(sub.prev_atx_index, 32)
                out += encode_compact(sub.membership_leaf_index, 64)
                post(sub.post, out)
                out += encode_compact(sub.num_units, 32)
        out += encode_compact(atx.vrf_nonce, 64)
        _write_length(len(atx.marriages), spec.MAX_MARRIAGES, out)
        for certificate in atx.marriages:
            out += _fixed(certificate.reference_atx, 32)
            out += _fixed(certificate.signature, 64)
        if atx.marriage_atx is None:
            out.append(0)
        else:
            out.append(1)
            out += _fixed(atx.marriage_atx, 32)
        out += _fixed(atx.smesher_id, 32)
        out += _fixed(atx.signature, 64)
        return bytes(out)

    return encode_atx_v2


# ---------------------------------------------------------------------------------------------
# SQLite store

SCHEMA = """
CREATE TABLE IF NOT EXISTS atxs (
    id BLOB PRIMARY KEY, version INTEGER, smesher_id BLOB, publish_epoch INTEGER, coinbase BLOB,
    base_tick_height TEXT, tick_count TEXT, num_units INTEGER, weight TEXT, vrf_nonce TEXT,
    commitment_atx BLOB, marriage_atx BLOB, blob BLOB, seq INTEGER);
CREATE TABLE IF NOT EXISTS posts (
    atx_id BLOB, node_id BLOB, previous BLOB, previous_index INTEGER, units INTEGER, position INTEGER,
    PRIMARY KEY (atx_id, node_id));
CREATE INDEX IF NOT EXISTS posts_by_node ON posts (node_id);
CREATE TABLE IF NOT EXISTS poets (ref BLOB PRIMARY KEY, membership_root BLOB, leaf_count TEXT);
CREATE TABLE IF NOT EXISTS marriages (
    node_id BLOB PRIMARY KEY, set_id INTEGER, marriage_atx BLOB, target BLOB, idx INTEGER,
    signature BLOB, seq INTEGER);
CREATE TABLE IF NOT EXISTS malicious (node_id BLOB PRIMARY KEY);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER);
"""


class SqliteAtxStore:
    """The spec's `AtxStore` in SQLite (uint64 values are kept as decimal text)."""

    def __init__(self, spec: Any, path: str = ":memory:") -> None:
        self.spec = spec
        self.db = sqlite3.connect(path)
        self.db.executescript(SCHEMA)
        self.db.execute("INSERT OR IGNORE INTO counters VALUES ('set_id', 1), ('seq', 0)")

    def _next(self, name: str) -> int:
        (value,) = self.db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        self.db.execute("UPDATE counters SET value = value + 1 WHERE name = ?", (name,))
        return value

    def _atx(self, row: Any) -> Any:
        posts = tuple(
            self.spec.IdentityPost(n, p, i, u)
            for n, p, i, u in self.db.execute(
                "SELECT node_id, previous, previous_index, units FROM posts WHERE atx_id = ? ORDER BY position", (row[0],)
            )
        )
        return self.spec.StoredAtx(
            id=row[0], version=row[1], smesher_id=row[2], publish_epoch=row[3], coinbase=row[4],
            base_tick_height=int(row[5]), tick_count=int(row[6]), num_units=row[7], weight=int(row[8]),
            vrf_nonce=int(row[9]), commitment_atx=row[10], marriage_atx=row[11], posts=posts, blob=row[12],
        )

    _COLUMNS = ("id, version, smesher_id, publish_epoch, coinbase, base_tick_height, tick_count, num_units, "
                "weight, vrf_nonce, commitment_atx, marriage_atx, blob")

    def get_atx(self, atx_id: bytes) -> Any:
        row = self.db.execute(f"SELECT {self._COLUMNS} FROM atxs WHERE id = ?", (atx_id,)).fetchone()
        return None if row is None else self._atx(row)

    def poet_proof(self, ref: bytes) -> Any:
        row = self.db.execute("SELECT ref, membership_root, leaf_count FROM poets WHERE ref = ?", (ref,)).fetchone()
        return None if row is None else self.spec.PoetProofInfo(row[0], row[1], int(row[2]))

    def marriage(self, node_id: bytes) -> Any:
        row = self.db.execute(
            "SELECT node_id, set_id, marriage_atx, target, idx, signature FROM marriages WHERE node_id = ?", (node_id,)
        ).fetchone()
        return None if row is None else self.spec.MarriageRecord(*row)

    def set_members(self, set_id: int) -> list:
        rows = self.db.execute("SELECT node_id FROM marriages WHERE set_id = ? ORDER BY seq", (set_id,))
        return [row[0] for row in rows]

    def commitment_atx(self, node_id: bytes) -> bytes | None:
        row = self.db.execute(
            "SELECT commitment_atx FROM atxs WHERE smesher_id = ? AND commitment_atx IS NOT NULL "
            "ORDER BY publish_epoch DESC, seq ASC LIMIT 1",
            (node_id,),
        ).fetchone()
        return None if row is None else row[0]

    def atxs_of(self, node_id: bytes) -> list:
        rows = self.db.execute(
            f"SELECT {', '.join('a.' + c.strip() for c in self._COLUMNS.split(','))} FROM atxs a "
            "JOIN posts p ON p.atx_id = a.id WHERE p.node_id = ? ORDER BY a.seq",
            (node_id,),
        ).fetchall()
        return [self._atx(row) for row in rows]

    def add_atx(self, atx: Any) -> None:
        if self.db.execute("SELECT 1 FROM atxs WHERE id = ?", (atx.id,)).fetchone():
            return
        self.db.execute(
            "INSERT INTO atxs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (atx.id, atx.version, atx.smesher_id, atx.publish_epoch, atx.coinbase, str(atx.base_tick_height),
             str(atx.tick_count), atx.num_units, str(atx.weight), str(atx.vrf_nonce), atx.commitment_atx,
             atx.marriage_atx, atx.blob, self._next("seq")),
        )
        for position, post in enumerate(atx.posts):
            self.db.execute(
                "INSERT OR IGNORE INTO posts VALUES (?, ?, ?, ?, ?, ?)",
                (atx.id, post.node_id, post.previous, post.previous_index, post.units, position),
            )

    def add_poet_proof(self, info: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO poets VALUES (?, ?, ?)", (info.ref, info.membership_root,
                                                                          str(info.leaf_count)))

    def add_marriage(self, record: Any) -> None:
        existing = self.db.execute("SELECT seq FROM marriages WHERE node_id = ?", (record.node_id,)).fetchone()
        seq = existing[0] if existing else self._next("seq")
        self.db.execute(
            "INSERT OR REPLACE INTO marriages VALUES (?, ?, ?, ?, ?, ?, ?)",
            (record.node_id, record.set_id, record.marriage_atx, record.target, record.index, record.signature, seq),
        )

    def move_set(self, from_id: int, to_id: int) -> None:
        self.db.execute("UPDATE marriages SET set_id = ? WHERE set_id = ?", (to_id, from_id))

    def new_set_id(self) -> int:
        return self._next("set_id")

    def set_malicious(self, node_id: bytes) -> None:
        self.db.execute("INSERT OR IGNORE INTO malicious VALUES (?)", (node_id,))

    def is_malicious(self, node_id: bytes) -> bool:
        return self.db.execute("SELECT 1 FROM malicious WHERE node_id = ?", (node_id,)).fetchone() is not None

    @property
    def malicious(self) -> set:
        return {row[0] for row in self.db.execute("SELECT node_id FROM malicious")}

