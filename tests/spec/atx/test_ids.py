"""ATX v2 IDs under both schemes, checked against an independent level-by-level computation.

Upstream go-spacemesh has no golden ATX v2 ID (shared/research/atx.md §7.1), so the expected IDs
come from ``reference_id`` below: a second implementation written from the research notes
(§2.4.2 scheme B, §2.4.3 scheme A) that shares no code with spec/atx.md or crypto.md's tree.
"""

from __future__ import annotations

import blake3
import pytest
from smspec.conformance.cases import Case, vector_source
from smspec.tests.spec.atx.builders import (
    EMPTY,
    GOLDEN,
    Member,
    World,
    atx,
    married_pair,
    node_id,
    scale,
)

Z = bytes(32)


def h(*chunks: bytes) -> bytes:
    return blake3.blake3(b"".join(chunks)).digest()


def level_root(leaves: list[bytes]) -> bytes:
    """Root of a tree padded per level with one zero node; no leaf may be empty."""
    level = list(leaves)
    while len(level) > 1:
        if len(level) % 2:
            level.append(Z)
        level = [h(b"\x01", level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def pad(leaves: list[bytes], size: int) -> list[bytes]:
    return leaves + [Z] * (size - len(leaves))


def le(value: int, width: int) -> bytes:
    return value.to_bytes(width, "little")


def reference_id(value, scheme: str) -> bytes:
    def post_root(p) -> bytes:
        if scheme == "a":
            return level_root([le(p.nonce, 4), p.indices, le(p.pow, 8)])
        return h(scale.encode(p, atx.PostV1))

    def u32(x: int) -> bytes:
        return le(x, 4) if scheme == "a" else le(x, 4) + bytes(28)

    def sub_root(sp, prevs) -> bytes | None:
        if sp.prev_atx_index >= len(prevs):
            if scheme == "a":
                return None  # an empty leaf: it vanishes from the posts tree
            prev = Z
        else:
            prev = prevs[sp.prev_atx_index]
        return level_root([u32(sp.marriage_index), prev, le(sp.membership_leaf_index, 8) + bytes(24),
                           post_root(sp.post), u32(sp.num_units)])

    def nipost_root(np, prevs) -> bytes:
        membership = scale.encode(np.membership, atx.MerkleProofV2)
        subs = [r for r in (sub_root(sp, prevs) for sp in np.posts) if r is not None]
        # an empty leaf arriving first vanishes; the padding leaves follow it
        posts = level_root(subs + [Z] * (256 - len(np.posts)))
        return level_root([membership if scheme == "a" else h(membership), np.challenge, posts])

    def cert_root(c) -> bytes:
        return level_root([c.reference_atx, c.signature]) if scheme == "a" else h(c.reference_atx, c.signature)

    initial = Z
    if value.initial is not None:
        initial = level_root([value.initial.commitment_atx, post_root(value.initial.post)])
    leaves = [
        le(value.publish_epoch, 4) + bytes(28),
        value.positioning_atx,
        value.coinbase if scheme == "a" else value.coinbase + bytes(8),
        initial,
        level_root(pad(list(value.previous_atxs), 256)),
        level_root(pad([nipost_root(np, value.previous_atxs) for np in value.niposts], 4)),
        le(value.vrf_nonce, 8) + bytes(24),
        level_root(pad([cert_root(c) for c in value.marriages], 256)),
        value.marriage_atx or Z,
    ]
    return level_root(leaves)


def scenario(scheme) -> dict:
    """An initial, a solo, a marriage and a merged ATX (signed under `scheme`)."""
    world = World(scheme)
    ids = married_pair(world)
    members = [Member("alice", 0, ids["marriage"], 4), Member("bob", 1, ids["bob_solo"], 3)]
    merged = world.merged("alice", 4, ids["marriage"], members, positioning=ids["marriage"])
    found = {}
    for entry in world.history:
        value = atx.decode_atx_v2(entry["v2"])
        kind = "initial" if value.initial else ("marriage" if value.marriages else "solo")
        found.setdefault(kind, value)
    found["merged"] = merged
    return found


SCHEMES = {"a": atx.IdScheme.A, "b": atx.IdScheme.B}


@vector_source("atx", "id", "v2")
def test_atx_id_vectors():
    for name, scheme in SCHEMES.items():
        for kind, value in scenario(scheme).items():
            blob = scale.encode(value, atx.ActivationTxV2)
            for id_name in ("a", "b"):
                yield Case(
                    f"{kind}_signed_{name}_id_{id_name}",
                    inputs={"blob": blob, "scheme": id_name},
                    expected={"id": "0x" + reference_id(value, id_name).hex()},
                    spec_ref="atx.md#atx_id_v2",
                    description=f"{kind} ATX v2 (signed under scheme {name}), ID under scheme {id_name}",
                )


@pytest.mark.parametrize("scheme", ["a", "b"])
def test_ids_match_reference_and_signatures(scheme):
    crypto = pytest.importorskip("smspec.spec.crypto")
    for value in scenario(SCHEMES[scheme]).values():
        atx_id = atx.atx_id_v2(value, SCHEMES[scheme])
        assert atx_id == reference_id(value, scheme)
        assert crypto.verify_signature(value.smesher_id, crypto.Domain.ATX, World().config.genesis_id, atx_id,
                                       value.signature)


def test_schemes_differ_and_ignore_signature():
    value = scenario(atx.IdScheme.A)["solo"]
    assert atx.atx_id_v2(value, atx.IdScheme.A) != atx.atx_id_v2(value, atx.IdScheme.B)
    import attrs

    unsigned = attrs.evolve(value, signature=bytes(64), smesher_id=node_id("mallory"))
    for scheme in SCHEMES.values():
        assert atx.atx_id_v2(unsigned, scheme) == atx.atx_id_v2(value, scheme)


def test_scheme_a_initial_sub_post_leaf_is_empty():
    """Scheme A: an initial ATX's sub-post root is nil, so its posts tree is 255 zero leaves."""
    value = scenario(atx.IdScheme.A)["initial"]
    assert atx.sub_post_root(value.niposts[0].posts[0], [], atx.IdScheme.A) == b""
    assert atx.sub_posts_root(value.niposts[0].posts, [], atx.IdScheme.A) == level_root([Z] * 255)
    # Scheme B names the zero ATX as the previous one instead.
    sub = value.niposts[0].posts[0]
    leaves = atx.sub_post_leaves(sub, EMPTY, atx.IdScheme.B)
    assert atx.sub_post_root(sub, [], atx.IdScheme.B) == level_root(leaves)


def test_id_changes_with_every_field():
    base = scenario(atx.IdScheme.B)["merged"]
    import attrs

    variants = [
        attrs.evolve(base, publish_epoch=base.publish_epoch + 1),
        attrs.evolve(base, positioning_atx=GOLDEN),
        attrs.evolve(base, coinbase=bytes(24)),
        attrs.evolve(base, vrf_nonce=base.vrf_nonce + 1),
        attrs.evolve(base, marriage_atx=None),
        attrs.evolve(base, previous_atxs=list(reversed(base.previous_atxs))),
        attrs.evolve(base, niposts=[attrs.evolve(base.niposts[0], challenge=Z)]),
    ]
    for scheme in SCHEMES.values():
        ids = {atx.atx_id_v2(v, scheme) for v in [base, *variants]}
        assert len(ids) == len(variants) + 1


# Test keys of go-spacemesh activation/e2e/atx_merge_test.go (64-byte ed25519 private keys, seed ‖ public
# key), research notes atx.md §7.1: ATXs signed with their seeds verify under the keys' public halves.
UPSTREAM_KEYS = [
    "1f2b77052ecc193038156d5c32f08d449742e7dda81fa172f8ac90839d34c769"
    "35a5d9365d1317c3002838126409e138321c57a5651d758485336c1e7e5af101",
    "6f385445a53d8af57874acd2dd98023858df7aa62f0b6e91ffdd51198036e2c3"
    "31d2a7c55ba1e29312ac71dd419b4edc019b6406960cfc8ffb3d7550dde2ca1b",
]


def test_upstream_test_keys_sign_atx_ids():
    import attrs
    from smspec.tests.spec.atx.builders import GENESIS_ID, crypto

    value = scenario(atx.IdScheme.A)["solo"]
    for key in UPSTREAM_KEYS:
        private = bytes.fromhex(key)
        seed, public = private[:32], private[32:]
        assert crypto.public_key(seed) == public
        for scheme in SCHEMES.values():
            signed = attrs.evolve(value, smesher_id=public)
            atx_id = atx.atx_id_v2(signed, scheme)
            signed = attrs.evolve(signed, signature=crypto.sign(seed, crypto.Domain.ATX, GENESIS_ID, atx_id))
            assert atx.verify_atx_signature_v2(signed, atx_id, GENESIS_ID)
            assert not atx.verify_atx_signature_v2(signed, atx.atx_id_v2(signed, _other(scheme)), GENESIS_ID)


def _other(scheme):
    return atx.IdScheme.B if scheme == atx.IdScheme.A else atx.IdScheme.A


def test_default_id_scheme_is_a():
    # atx.md, default ID scheme: a config that names no scheme computes v1.7.6's IDs (scheme A).
    config = atx.AtxConfig(genesis_id=bytes(20), golden_atx=GOLDEN, current_epoch=1)
    assert config.id_scheme is atx.IdScheme.A
    value = scenario(atx.IdScheme.A)["solo"]
    assert atx.atx_id_v2(value, config.id_scheme) == reference_id(value, "a") != reference_id(value, "b")
