"""Set reconciliation in the node (spec/sync.md, docs/sync.md "In the node").

A node keeps one item store per synced set (``new_item_store`` of spec/sync.md: the FPTree under
the impl backend), named like go-spacemesh's sync2 sets:

| set | IDs | object served by fetch |
| --- | --- | --- |
| ``sync2/poet`` | PoET proof references | the PoET proof |
| ``sync2/atx/<e>`` | IDs of the ATXs published in epoch ``e`` | the ATX |
| ``sync2/malfeasance`` | identities with a malfeasance proof the node can serve | the gossip form of the proof |
| ``sync2/tx`` | transactions not refused | the transaction |
| ``sync2/proposal/<L>`` | proposal (ballot) IDs of layer ``L``, 20 bytes padded with zeros to 32 | the proposal |
| ``sync2/cert/<L>`` | signers of certificates of layer ``L`` | the certificate (with its block) |

Stores are built from the database when first used and kept up to date as the node stores
objects (:meth:`NodeSync.stored`). A *session* reconciles one set with one peer: the initiator
runs :class:`~smspec.spec.sync.Reconciler` ``initiate()`` (or ``probe()``), the peer answers with
a fresh responder per session (:meth:`NodeSync.serve_request`); both sides' ``accept(id)`` fetch
the object from the other side (:meth:`NodeSync.serve_fetch`), check that it is the object the ID
names and feed it through the node's handlers before the ID joins the set. A node that catches up
(a restart, a healed partition) reconciles every set of the layers it may lack
(:func:`reconcile`, :func:`catch_up`), each set against every peer the multi-peer plan
(``probe`` of each peer, ``plan_sync``) picks.

Wire (inside the frames of ``tools/node/tcp.py``; numbers big-endian):

* ``sync>``: session ID (4) ‖ set name length (1) ‖ set name (ASCII) ‖ the sender's round, its
  messages encoded back to back (``encode_message``);
* ``sync<``: session ID (4) ‖ status (1: 0 answer, 1 refusal) ‖ the answering round (or the
  refusal's reason);
* ``fetch>``: request ID (4) ‖ set name length (1) ‖ set name ‖ the 32-byte ID;
* ``fetch<``: request ID (4) ‖ found (1) ‖ the object's bytes.

Every request gets exactly one answer. A peer whose answer breaks the protocol (a ``SyncError``,
undecodable bytes, a refusal, an object that is not the one its ID names, an object that fails
the node's validation for a reason that does not depend on what the node knows) is dropped for
the rest of the catch-up; nothing it sent is stored unless the node's own validation accepted it.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from smspec.spec import sync
from smspec.spec.errors import SpecError
from smspec.tools.node import protocol as p

SYNC_REQUEST = "sync>"
SYNC_REPLY = "sync<"
FETCH_REQUEST = "fetch>"
FETCH_REPLY = "fetch<"
FRAME_KINDS = (SYNC_REQUEST, SYNC_REPLY, FETCH_REQUEST, FETCH_REPLY)

PREFIX = "sync2/"
KINDS = ("poet", "atx", "malfeasance", "tx", "proposal", "cert")
PER_EPOCH = ("atx",)
PER_LAYER = ("proposal", "cert")
ID_SIZE = sync.KEY_SIZE
PROPOSAL_ID_SIZE = 20

CONFIG = sync.SyncConfig()  # go-spacemesh's defaults (MinHash sample opening, no recent sync)
STORE_CACHE = 256  # item stores kept built (the others are rebuilt from the database when used)
MAX_SESSIONS_PER_PEER = 8  # responder sessions one peer may hold open
MAX_SESSIONS = 64
SESSION_IDLE = 120.0  # seconds after which an unfinished responder session is dropped
MAX_UNHELD = 100_000  # IDs per set remembered as refused for now (contextual reasons)
MAX_HELD_BYTES = 16 * 2**20  # bytes of refused objects kept per set for a retry

# Rejection reasons that say the object itself is invalid, whatever the receiving node knows: a
# peer that serves such an object is dropped. Every other rejection depends on the node's view (a
# dependency it lacks yet, an identity it already knows to be malicious, a layer it has not
# reached): the ID counts as handled for the session, the object is kept for a retry at the end
# of the set's sessions, and nothing is stored unless a handler accepts it.
INTRINSIC_REASONS = frozenset({
    # signatures
    "bad_signature", "invalid_signature", "invalid_atx_signature",
    # ATX syntax and proofs that need no other object (atx.md S1-S8, C7-C9, C11)
    "empty_positioning_atx", "no_self_marriage", "solo_nipost_count", "solo_post_count",
    "solo_prev_atx_index", "initial_with_marriage_atx", "initial_missing_commitment", "initial_with_previous",
    "invalid_vrf_nonce", "invalid_initial_post", "empty_previous_atx", "golden_previous_atx",
    "merged_with_marriages", "duplicate_marriage_index", "solo_previous_count", "membership_malformed",
    "invalid_membership", "invalid_post", "invalid_certificate", "weight_overflow", "units_overflow",
    # proposals (spec/node.md validate_proposal) and certificates
    "genesis_layer", "atx_of_another_smesher", "bad_eligibility_proof", "not_eligible_in_layer",
    "certificate_block_mismatch",
    # PoET proofs (rule poet)
    "poet_too_short", "poet_bad_work",
})


class PeerError(Exception):
    """The peer broke the sync protocol, refused, or went away: drop it."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class Peer(Protocol):
    """One peer as the sync code talks to it (in-process calls, a coordinated devnet's TCP link,
    or a self-clocked node's gossip link)."""

    name: str

    def exchange(self, set_name: str, sid: int, data: bytes) -> bytes:
        """Send our round of session `sid` of `set_name`; the peer's answering round."""
        ...

    def fetch(self, set_name: str, key: bytes) -> bytes | None:
        """The object the peer holds under `key` in `set_name` (None: it has none)."""
        ...


# ---------------------------------------------------------------------------------------------
# set names and frames


def set_name(kind: str, arg: int | None = None) -> str:
    return f"{PREFIX}{kind}" if arg is None else f"{PREFIX}{kind}/{arg}"


def parse_set_name(name: str) -> tuple[str, int | None]:
    """(kind, epoch or layer) of a set name; PeerError for anything else."""
    if not name.startswith(PREFIX):
        raise PeerError("unknown_set", name[:64])
    parts = name[len(PREFIX):].split("/")
    kind = parts[0]
    if kind not in KINDS:
        raise PeerError("unknown_set", name[:64])
    if kind in PER_EPOCH or kind in PER_LAYER:
        if len(parts) != 2 or not parts[1].isdigit() or len(parts[1]) > 9 or str(int(parts[1])) != parts[1]:
            raise PeerError("unknown_set", name[:64])
        return kind, int(parts[1])
    if len(parts) != 1:
        raise PeerError("unknown_set", name[:64])
    return kind, None


def _name_bytes(name: str) -> bytes:
    data = name.encode("ascii")
    if len(data) > 255:
        raise ValueError("set name too long")
    return bytes([len(data)]) + data


def _read_name(payload: bytes, offset: int) -> tuple[str, int]:
    if offset >= len(payload):
        raise PeerError("malformed_frame", "no set name")
    size = payload[offset]
    raw = payload[offset + 1:offset + 1 + size]
    if len(raw) != size:
        raise PeerError("malformed_frame", "truncated set name")
    try:
        return raw.decode("ascii"), offset + 1 + size
    except UnicodeDecodeError:
        raise PeerError("malformed_frame", "set name is not ASCII") from None


def encode_request(sid: int, name: str, data: bytes) -> bytes:
    return sid.to_bytes(4, "big") + _name_bytes(name) + data


def decode_request(payload: bytes) -> tuple[int, str, bytes]:
    if len(payload) < 4:
        raise PeerError("malformed_frame", "short sync request")
    name, offset = _read_name(payload, 4)
    return int.from_bytes(payload[:4], "big"), name, payload[offset:]


def encode_reply(sid: int, data: bytes, refused: str | None = None) -> bytes:
    if refused is not None:
        return sid.to_bytes(4, "big") + b"\x01" + refused.encode("ascii", "replace")[:200]
    return sid.to_bytes(4, "big") + b"\x00" + data


def decode_reply(payload: bytes) -> tuple[int, bytes]:
    """(session ID, the answering round); PeerError for a refusal or a malformed frame."""
    if len(payload) < 5 or payload[4] not in (0, 1):
        raise PeerError("malformed_frame", "short or malformed sync answer")
    if payload[4] == 1:
        raise PeerError("refused", payload[5:].decode("ascii", "replace"))
    return int.from_bytes(payload[:4], "big"), payload[5:]


def encode_fetch(rid: int, name: str, key: bytes) -> bytes:
    return rid.to_bytes(4, "big") + _name_bytes(name) + key


def decode_fetch(payload: bytes) -> tuple[int, str, bytes]:
    if len(payload) < 4:
        raise PeerError("malformed_frame", "short fetch request")
    name, offset = _read_name(payload, 4)
    key = payload[offset:]
    if len(key) != ID_SIZE:
        raise PeerError("malformed_frame", "a fetch names one 32-byte ID")
    return int.from_bytes(payload[:4], "big"), name, key


def encode_fetch_reply(rid: int, data: bytes | None) -> bytes:
    return rid.to_bytes(4, "big") + (b"\x00" if data is None else b"\x01" + data)


def decode_fetch_reply(payload: bytes) -> tuple[int, bytes | None]:
    if len(payload) < 5 or payload[4] not in (0, 1):
        raise PeerError("malformed_frame", "short or malformed fetch answer")
    return int.from_bytes(payload[:4], "big"), (payload[5:] if payload[4] == 1 else None)


def frame_ident(payload: bytes) -> int:
    """The session or request ID an answer frame belongs to (-1 when it has none)."""
    return int.from_bytes(payload[:4], "big") if len(payload) >= 4 else -1


def encode_round(messages: list[Any]) -> bytes:
    return b"".join(sync.encode_message(message) for message in messages)


def decode_round(data: bytes) -> list[Any]:
    """The messages of a round sent back to back; PeerError when the bytes do not decode."""
    messages = []
    offset = 0
    try:
        while offset < len(data):
            message, offset = sync.decode_message_prefix(data, offset)
            messages.append(message)
    except SpecError as error:
        raise PeerError("malformed_round", getattr(error, "reason", str(error))) from None
    return messages


# ---------------------------------------------------------------------------------------------
# what a node counts


@dataclass
class SyncStats:
    """What a node's reconciliation did (its /metrics and status show the totals)."""

    sessions: int = 0  # sessions this node initiated that ended
    probes: int = 0
    served: int = 0  # sessions it answered that ended
    rounds: int = 0  # rounds received from peers
    bytes_sent: int = 0  # sync messages, both roles
    bytes_received: int = 0
    fetch_bytes: int = 0  # objects fetched for new IDs
    items: int = 0  # objects fetched and stored as new
    refused: int = 0  # objects fetched and not taken (for now)
    errors: int = 0  # sessions that ended with a protocol error (the peer dropped)

    def as_metrics(self) -> dict[str, int]:
        return {f"sync_{name}": value for name, value in asdict(self).items()}


# ---------------------------------------------------------------------------------------------
# one node's sets


class SetStore:
    """An item store of one set (spec/sync.md `ItemStore`) that does not take in the IDs its node
    refused for now (a refused ID is answered as received, never announced as held)."""

    def __init__(self, inner: Any, unheld: dict[bytes, bytes | None]) -> None:
        self.inner = inner
        self.unheld = unheld

    def count(self) -> int:
        return self.inner.count()

    def first(self) -> bytes | None:
        return self.inner.first()

    def contains(self, key: bytes) -> bool:
        return self.inner.contains(key)

    def add(self, key: bytes, received_at: int) -> None:
        if key not in self.unheld:
            self.inner.add(key, received_at)

    def range_info(self, x: bytes, y: bytes) -> Any:
        return self.inner.range_info(x, y)

    def range_items(self, x: bytes, y: bytes, limit: int | None) -> list[bytes]:
        return self.inner.range_items(x, y, limit)

    def split_range(self, x: bytes, y: bytes, count: int) -> Any:
        return self.inner.split_range(x, y, count)

    def recent(self, since: int) -> list[bytes]:
        return self.inner.recent(since)


@dataclass
class Session:
    side: Any  # the Reconciler
    name: str
    started: float


class NodeSync:
    """A node's synced sets: its stores, the objects it serves, its validation of fetched ones,
    the sessions it answers, and what all of that cost (`stats`)."""

    def __init__(self, node: Any) -> None:
        self.node = node
        self.stores: OrderedDict[str, SetStore] = OrderedDict()
        self.unheld: dict[str, dict[bytes, bytes | None]] = {}  # set -> refused ID -> object kept for a retry
        self.sessions: dict[tuple, Session] = {}
        self.stats = SyncStats()
        self.sids = itertools.count(1)
        self.multipeer = sync.MultiPeerConfig()
        self.log = logging.getLogger(f"smspec.node{node.index}.sync")

    # -- the sets -------------------------------------------------------------------------------

    def check_name(self, name: str) -> tuple[str, int | None]:
        """A set this node answers for: per-layer sets up to the next layer, per-epoch sets up
        to the next epoch (a peer cannot make it build stores without end)."""
        kind, arg = parse_set_name(name)
        node = self.node
        if kind in PER_LAYER and arg is not None and arg > node.current_layer + 1:
            raise PeerError("unknown_set", f"{name}: layer beyond the next")
        if kind in PER_EPOCH and arg is not None and arg > node.epoch_of(node.current_layer) + 1:
            raise PeerError("unknown_set", f"{name}: epoch beyond the next")
        return kind, arg

    def store(self, name: str) -> SetStore:
        """The item store of a set (built from the database on first use)."""
        store = self.stores.get(name)
        if store is not None:
            self.stores.move_to_end(name)
            return store
        kind, arg = parse_set_name(name)
        now = time.time_ns()
        ids = self.node.store.sync_ids(kind, arg)
        if kind == "malfeasance":
            ids = [node_id for node_id in ids if self.servable_proof(node_id)]
        keys = {self.key_of(kind, key): now for key in ids}
        store = SetStore(sync.new_item_store(keys), self.unheld.setdefault(name, {}))
        self.stores[name] = store
        while len(self.stores) > STORE_CACHE:
            self.stores.popitem(last=False)
        return store

    @staticmethod
    def key_of(kind: str, stored_id: bytes) -> bytes:
        """The 32-byte ID of a stored object's ID (proposal IDs are 20 bytes: padded with zeros)."""
        if kind == "proposal":
            return stored_id + bytes(ID_SIZE - len(stored_id))
        return stored_id

    def servable_proof(self, node_id: bytes) -> bool:
        """Whether the node holds a malfeasance proof of `node_id` in a form peers can check."""
        data = self.node.store.sync_object("malfeasance", None, node_id)
        return data is not None and (data[0] != self.node.MALFEASANCE_ATX
                                     or (len(data) > 1 and data[1] in self.node.m.mal.PROOF_CLASSES))

    def stored(self, kind: str, arg: int | None, stored_id: bytes) -> None:
        """The node stored a new object: its ID joins its set (when the set's store is built)."""
        if kind == "malfeasance" and not self.servable_proof(stored_id):
            return
        name = set_name(kind, arg)
        key = self.key_of(kind, stored_id)
        self.unheld.get(name, {}).pop(key, None)
        store = self.stores.get(name)
        if store is not None:
            store.inner.add(key, time.time_ns())

    def fetch_object(self, name: str, key: bytes) -> bytes | None:
        """What this node serves under `key` in a set (None: nothing)."""
        kind, arg = self.check_name(name)
        if kind == "proposal":
            if key[PROPOSAL_ID_SIZE:] != bytes(ID_SIZE - PROPOSAL_ID_SIZE):
                return None
            key = key[:PROPOSAL_ID_SIZE]
        return self.node.store.sync_object(kind, arg, key)

    # -- validating what a peer serves -------------------------------------------------------------

    def content_key(self, kind: str, arg: int | None, data: bytes) -> bytes | None:
        """The ID a fetched object has in set (kind, arg); None when it does not decode or does
        not belong to the set."""
        node, m = self.node, self.node.m
        try:
            if kind == "poet":
                return p.poet_ref(p.decode(data, p.PoetProof))
            if kind == "atx":
                atx = m.atx.decode_atx_v2(data)
                if atx.publish_epoch != arg:
                    return None
                return m.atx.atx_id_v2(atx, node.atx_config().id_scheme)
            if kind == "tx":
                return p.tx_id(p.decode(data, p.Tx))
            if kind == "proposal":
                proposal = p.decode(data, p.Proposal)
                return None if proposal.layer != arg else self.key_of(kind, p.proposal_id(proposal))
            if kind == "cert":
                cert = p.decode(data, p.Certificate)
                return None if cert.layer != arg else cert.signer
            return node.malfeasance_identity(data)[0]
        except (SpecError, ValueError, IndexError):
            return None

    def accept(self, name: str, key: bytes, peer: Peer) -> bool:
        """spec/sync.md's acceptance callback: fetch the object from the peer, check that it is
        the one `key` names and feed it through the node's handlers. False (the session ends and
        the peer is dropped) when the peer cannot back the ID."""
        kind, arg = parse_set_name(name)
        stats = self.stats
        unheld = self.unheld.setdefault(name, {})
        if key in unheld:
            return True  # refused for now, earlier: not fetched again
        try:
            data = peer.fetch(name, key)
        except PeerError as error:
            self.log.info("fetch of %s %s from %s failed: %s", name, key.hex()[:16], peer.name, error)
            return False
        if data is None:
            return False  # announced, not served
        stats.fetch_bytes += len(data)
        if self.content_key(kind, arg, data) != key:
            self.log.warning("peer %s served another object than %s of %s", peer.name, key.hex()[:16], name)
            return False
        node = self.node
        verdict = node.receive(kind, data)
        node.take_outbox()  # proofs made while syncing travel by the malfeasance set
        if verdict.status == "accepted":
            stats.items += 1
            return True
        if verdict.status == "duplicate":
            return True
        if verdict.reason in INTRINSIC_REASONS:
            self.log.warning("peer %s served an invalid object of %s: %s", peer.name, name, verdict.reason)
            return False
        stats.refused += 1
        if len(unheld) < MAX_UNHELD:
            held = sum(len(v) for v in unheld.values() if v is not None)
            unheld[key] = data if held + len(data) <= MAX_HELD_BYTES else None
        return True

    def retry(self, name: str) -> int:
        """Feed the objects refused for now again until no more are taken; how many were."""
        kind, _ = parse_set_name(name)
        unheld = self.unheld.get(name, {})
        taken = 0
        progress = True
        while progress:
            progress = False
            for key, data in list(unheld.items()):
                if data is None:
                    continue
                verdict = self.node.receive(kind, data)
                self.node.take_outbox()
                if verdict.valid:
                    unheld.pop(key, None)
                    store = self.stores.get(name)
                    if store is not None:
                        store.inner.add(key, time.time_ns())
                    taken += verdict.status == "accepted"
                    progress = True
        self.stats.items += taken
        return taken

    # -- answering peers ---------------------------------------------------------------------------

    def serve_request(self, peer_key: Any, peer: Peer, payload: bytes) -> bytes:
        """A `sync>` frame from a peer: our answering round (a `sync<` payload)."""
        now = time.monotonic()
        for stale in [k for k, s in self.sessions.items() if now - s.started > SESSION_IDLE]:
            del self.sessions[stale]
        try:
            sid, name, data = decode_request(payload)
        except PeerError as error:
            return encode_reply(frame_ident(payload) & 0xFFFFFFFF, b"", error.reason)
        key = (peer_key, sid)
        session = self.sessions.get(key)
        try:
            if session is None:
                self.check_name(name)
                if (len(self.sessions) >= MAX_SESSIONS
                        or sum(1 for k in self.sessions if k[0] == peer_key) >= MAX_SESSIONS_PER_PEER):
                    raise PeerError("busy", "too many open sessions")
                side = sync.Reconciler(self.store(name), lambda k: self.accept(name, k, peer), CONFIG,
                                       time.time_ns())
                session = self.sessions[key] = Session(side, name, now)
            elif session.name != name:
                raise PeerError("unexpected_set", "a session keeps its set")
            side = session.side
            before = (side.bytes_sent, side.bytes_received, side.rounds_received)
            answer: list[Any] = []
            for message in decode_round(data):
                answer += side.handle(message)
            self.stats.bytes_sent += side.bytes_sent - before[0]
            self.stats.bytes_received += side.bytes_received - before[1]
            self.stats.rounds += side.rounds_received - before[2]
        except (PeerError, SpecError) as error:
            self.sessions.pop(key, None)
            self.stats.errors += 1
            reason = getattr(error, "reason", type(error).__name__)
            self.log.info("session %d of %s from %s refused: %s", sid, name, peer.name, reason)
            return encode_reply(sid, b"", reason)
        if side.done:
            self.sessions.pop(key, None)
            self.stats.served += 1
            self.retry(name)
        return encode_reply(sid, encode_round(answer))

    def serve_fetch(self, payload: bytes) -> bytes:
        """A `fetch>` frame from a peer: the object (a `fetch<` payload)."""
        try:
            rid, name, key = decode_fetch(payload)
            data = self.fetch_object(name, key)
        except PeerError:
            return encode_fetch_reply(frame_ident(payload) & 0xFFFFFFFF, None)
        return encode_fetch_reply(rid, data)

    def forget_peer(self, peer_key: Any) -> None:
        for key in [k for k in self.sessions if k[0] == peer_key]:
            del self.sessions[key]

    # -- initiating ------------------------------------------------------------------------------

    def session(self, name: str, peer: Peer, x: bytes | None = None, y: bytes | None = None,
                probe: bool = False) -> Any:
        """One session we initiate over a set (or a range of it) with a peer; the Reconciler
        when it ended as the protocol says. PeerError (or a SpecError of the reconciler) otherwise."""
        stats = self.stats
        side = sync.Reconciler(self.store(name), lambda k: self.accept(name, k, peer), CONFIG, time.time_ns())
        out = side.probe(x, y) if probe else side.initiate(x, y)
        sid = next(self.sids) & 0xFFFFFFFF
        try:
            while out:
                answer = peer.exchange(name, sid, encode_round(out))
                out = []
                for message in decode_round(answer):
                    out += side.handle(message)
            if not side.done:
                raise PeerError("session_unfinished", "the peer stopped answering before the session ended")
        finally:
            stats.bytes_sent += side.bytes_sent
            stats.bytes_received += side.bytes_received
            stats.rounds += side.rounds_received
        if probe:
            stats.probes += 1
        else:
            stats.sessions += 1
        return side

    def sync_set(self, name: str, peers: list[Peer], dropped: set[str]) -> None:
        """Reconcile one set with the peers the multi-peer plan picks (spec/sync.md "Multi-peer
        sync"): probe each, then a split sync (a range per peer, then the whole set) or a full
        sync (the whole set with each syncable peer). A peer that breaks the protocol joins
        `dropped`."""
        live = [peer for peer in peers if peer.name not in dropped]
        probes: list[Any] = []
        for peer in live:
            probes.append(self._guarded(name, peer, dropped, probe=True))
        results = [None if side is None else side.probe_result for side in probes]
        plan = sync.plan_sync(self.store(name).count(), results, False, self.multipeer)
        if plan.kind == "split":
            for index, (x, y) in zip(plan.peers, plan.ranges, strict=True):
                self._guarded(name, live[index], dropped, x=x, y=y)
        if plan.kind in ("split", "full"):
            for index in plan.peers:
                self._guarded(name, live[index], dropped)
        self.retry(name)

    def _guarded(self, name: str, peer: Peer, dropped: set[str], **session: Any) -> Any:
        if peer.name in dropped:
            return None
        try:
            return self.session(name, peer, **session)
        except (PeerError, SpecError) as error:
            self.stats.errors += 1
            dropped.add(peer.name)
            self.log.warning("sync of %s with %s failed (%s): peer dropped for this sync", name, peer.name,
                             getattr(error, "reason", error))
            return None


# ---------------------------------------------------------------------------------------------
# catching up


def set_names(node: Any, first_layer: int, last_layer: int) -> list[str]:
    """The sets a node reconciles to hold what its peers hold of layers first..last, in an order
    whose objects' dependencies come first: PoET proofs, the ATXs of each epoch from the one
    before, malfeasance proofs, transactions, then proposals and certificates layer by layer."""
    first_epoch = max(0, node.epoch_of(max(first_layer, 0)) - 1)
    names = [set_name("poet")]
    names += [set_name("atx", epoch) for epoch in range(first_epoch, node.epoch_of(last_layer) + 1)]
    names += [set_name("malfeasance"), set_name("tx")]
    layers = range(max(first_layer, node.first_ballot_layer), last_layer + 1)
    names += [set_name("proposal", layer) for layer in layers]
    names += [set_name("cert", layer) for layer in layers]
    return names


def reconcile(node: Any, peers: list[Peer], first_layer: int, last_layer: int) -> SyncStats:
    """Reconcile every set of layers first..last with the peers; what it cost."""
    return reconcile_until(node, peers, first_layer, last_layer, None)[0]


def reconcile_until(node: Any, peers: list[Peer], first_layer: int, last_layer: int,
                    deadline: float | None, done: set[str] | None = None) -> tuple[SyncStats, bool]:
    """As `reconcile`, starting no set after `deadline` (time.monotonic()); what it cost and
    whether every set was reconciled. `done`, where given, names the sets an unfinished pass
    before this one reconciled: they are skipped, and each set this call reconciles joins it, so
    passes that run out of time one after another still reach every set (rather than spending
    each time share on the first sets again)."""
    before = SyncStats(**asdict(node.sync.stats))
    dropped: set[str] = set()
    complete = True
    for name in set_names(node, first_layer, last_layer):
        if done is not None and name in done:
            continue
        if deadline is not None and time.monotonic() >= deadline:
            complete = False
            break
        node.sync.sync_set(name, peers, dropped)
        if done is not None:
            done.add(name)
    after = node.sync.stats
    return SyncStats(**{k: getattr(after, k) - v for k, v in asdict(before).items()}), complete


def catch_up(node: Any, peers: list[Peer], upto: int, current: int | None = None) -> SyncStats:
    """Rule "sync": a node that was down reconciles every set of the layers it may lack with its
    peers, then finishes every layer up to `upto` (`current`: the layer the network is in)."""
    now = upto if current is None else max(upto, current)
    first = max(0, node.last_done() - node.L)
    node.prepare_layers(now)
    spent = reconcile(node, peers, first, now)
    node.finish_layers(upto)
    return spent


def describe(spent: SyncStats) -> str:
    """One line of what a catch-up or a heal cost."""
    return (f"{spent.items} new objects; {spent.sessions} sessions opened after {spent.probes} probes, "
            f"{spent.served} answered, "
            f"{spent.rounds} rounds, {spent.bytes_sent + spent.bytes_received} bytes of sync messages and "
            f"{spent.fetch_bytes} of objects fetched" + (f", {spent.errors} peer errors" if spent.errors else ""))


def heal_events(before: dict[int, dict[str, int]], after: dict[int, dict[str, int]]) -> list[str]:
    """What a partition's heal cost, from each live node's `SyncStats` (as a dict) before and
    after it: one line per node (its own sessions and its answers to its peers' sessions during
    the whole heal), then the devnet-wide total (every session counted by both its ends)."""
    events = []
    total = SyncStats()
    for index in sorted(after):
        spent = SyncStats(**{k: v - before[index][k] for k, v in after[index].items()})
        total = SyncStats(**{k: v + getattr(spent, k) for k, v in asdict(total).items()})
        events.append(f"partition healed: node {index} reconciled with {len(after) - 1} peers: {describe(spent)}")
    events.append(f"partition healed: devnet-wide ({len(after)} nodes together): {describe(total)}")
    return events


class LocalPeer:
    """Another node of this process, reached by direct calls; the frames' payloads are encoded
    and decoded as over a link."""

    def __init__(self, target: Any, origin: Any) -> None:
        self.target = target
        self.origin = origin
        self.name = f"node{target.index}"

    def exchange(self, set_name: str, sid: int, data: bytes) -> bytes:
        back = LocalPeer(self.origin, self.target)
        answer = self.target.sync.serve_request(("local", self.origin.index), back,
                                                encode_request(sid, set_name, data))
        got, round_data = decode_reply(answer)
        if got != sid:
            raise PeerError("malformed_frame", "answer to another session")
        return round_data

    def fetch(self, set_name: str, key: bytes) -> bytes | None:
        rid = 1
        _, data = decode_fetch_reply(self.target.sync.serve_fetch(encode_fetch(rid, set_name, key)))
        return data


__all__ = ["CONFIG", "FRAME_KINDS", "LocalPeer", "describe", "NodeSync", "Peer", "PeerError", "SyncStats", "catch_up",
           "reconcile", "set_name", "set_names"]
