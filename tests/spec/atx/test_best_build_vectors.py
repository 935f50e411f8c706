"""ATX v3 (spec/atx_best.md) vectors of the smesher's side and of the version dispatch, tiny preset:
the challenge a set registers (`nipost_challenge_v3`), a v3 ATX built and signed from explicit parts
(`build_atx_v3`, `sign_atx_v3`) and a blob of any version received (`handle_atx`).

Expected bytes are assembled here from the layouts the documents state, roots with the blake3
package, signatures with PyNaCl (libsodium's Ed25519); weights from the formulas, as in
test_best_vectors.py.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import attrs
import blake3
import nacl.bindings
from smspec.conformance.cases import Case, vector_source
from smspec.conformance.jsonio import value_to_jsonable
from smspec.tests.spec.atx.best_builders import best, pb, scale
from smspec.tests.spec.atx.builders import EMPTY, GOLDEN, atx, crypto, good_post, node_id, seed
from smspec.tests.spec.atx.test_best_vectors import (
    TICKS,
    accepted,
    alice_solo,
    hand_encoded,
    hand_value,
    merged,
    merged_world,
    solo_world,
)
from smspec.tests.spec.atx.test_validate import post_json

IDENTITY_SET_DOMAIN = b"spacemesh/post-best/v1/identity-set"  # post_best.md's constant table
GENESIS = bytes([0x47]) * 20


def compact(value: int) -> bytes:
    """SCALE compact integer (single, two- and four-byte modes and the big-integer mode)."""
    if value < 1 << 6:
        return bytes([value << 2])
    if value < 1 << 14:
        return ((value << 2) | 1).to_bytes(2, "little")
    if value < 1 << 30:
        return ((value << 2) | 2).to_bytes(4, "little")
    size = (value.bit_length() + 7) // 8
    return bytes([((size - 4) << 2) | 3]) + value.to_bytes(size, "little")


def set_root(identities: list[tuple[bytes, bytes, int]]) -> bytes:
    """post_best.md `identity_set_root` by hand: BLAKE3(domain ‖ SCALE list of (node, commitment, units))."""
    encoded = compact(len(identities)) + b"".join(n + c + compact(u) for n, c, u in identities)
    return blake3.blake3(IDENTITY_SET_DOMAIN + encoded).digest()


def post_bytes(post: Any) -> bytes:
    return compact(post.nonce) + compact(len(post.indices)) + post.indices + compact(post.pow)


def identities_json(identities: list[tuple[bytes, bytes, int]]) -> list[dict[str, Any]]:
    return [{"node_id": n, "commitment_atx_id": c, "num_units": u} for n, c, u in identities]


# ----------------------------------------------------------------------------------------------
# atx/build/challenge_v3


@vector_source("atx", "build", "challenge_v3", presets=("tiny",))
def test_build_challenge_v3_vectors():
    alice = (node_id("alice"), GOLDEN, 2)
    post = good_post(7)
    challenge = b"".join([compact(1), GOLDEN, set_root([alice]), compact(1), EMPTY, b"\x01", post_bytes(post)])
    yield Case("initial", inputs={"publish_epoch": 1, "positioning_atx": GOLDEN, "identities": identities_json([alice]),
                                  "previous": [EMPTY], "initial_post": value_to_jsonable(post, atx.PostV1)},
               expected={"challenge": challenge, "hash": blake3.blake3(b"\x03" + challenge).digest()},
               spec_ref="atx_best.md#nipost_challenge_v3",
               description="alice's initial set of one (2 SU): the empty ID as previous ATX and her initial PoST; "
               "the encoding and its PoET leaf assembled by hand")
    members = [(node_id(f"m{i}"), bytes([0x30 + i]) * 32, i + 1) for i in range(3)]
    previous = [bytes([0x50 + i]) * 32 for i in range(3)]
    challenge = b"".join([compact(70000), bytes([7]) * 32, set_root(members), compact(3), *previous, b"\x00"])
    yield Case("merged_three", inputs={"publish_epoch": 70000, "positioning_atx": bytes([7]) * 32,
                                       "identities": identities_json(members), "previous": previous,
                                       "initial_post": None},
               expected={"challenge": challenge, "hash": blake3.blake3(b"\x03" + challenge).digest()},
               spec_ref="atx_best.md#nipost_challenge_v3",
               description="a set of three (1, 2, 3 SU) with a previous ATX each, no initial PoST; publish epoch 70000 "
               "(four-byte compact)")
    reordered = [members[1], members[0], members[2]]
    challenge = b"".join([compact(5), bytes([7]) * 32, set_root(reordered), compact(3), *previous, b"\x00"])
    yield Case("member_order_matters", inputs={"publish_epoch": 5, "positioning_atx": bytes([7]) * 32,
                                               "identities": identities_json(reordered), "previous": previous,
                                               "initial_post": None},
               expected={"challenge": challenge, "hash": blake3.blake3(b"\x03" + challenge).digest()},
               spec_ref="atx_best.md#nipost_challenge_v3",
               description="the same three identities in another order: another set root (the set is ordered)")


# ----------------------------------------------------------------------------------------------
# atx/build/v3


def hand_id(value: Any, scheme: Any) -> bytes:
    """The v3 ID from atx_best.md's leaf list (no initial PoST, no certificates), blake3 package;
    crypto.md's merkle_root for the tree shape only."""
    nipost = value.nipost
    h = lambda data: blake3.blake3(data).digest()  # noqa: E731
    nipost_leaves = [
        h(scale.encode(nipost.membership, atx.MerkleProofV2)),
        nipost.challenge,
        h(scale.encode(nipost.members, scale.Slice(best.MemberV3, 256))),
        nipost.identity_set_root,
        h(scale.encode(nipost.proof, pb.BestProof)),
        nipost.membership_leaf_index.to_bytes(8, "little") + bytes(24),
    ]
    assert value.initial is None and not value.marriages
    leaves = [
        value.publish_epoch.to_bytes(4, "little") + bytes(28),
        value.positioning_atx,
        value.coinbase if scheme == atx.IdScheme.A else value.coinbase + bytes(8),
        EMPTY,
        crypto.merkle_root(list(value.previous_atxs) + [EMPTY] * (256 - len(value.previous_atxs))),
        crypto.merkle_root(nipost_leaves),
        value.vrf_nonce.to_bytes(8, "little") + bytes(24),
        crypto.merkle_root([EMPTY] * 256),
        EMPTY if value.marriage_atx is None else value.marriage_atx,
    ]
    return crypto.merkle_root(leaves)


def nacl_signature(signer: str, message: bytes) -> bytes:
    """crypto.md `sign` with libsodium: Ed25519 over genesis ‖ domain ATX (0) ‖ message."""
    _, secret = nacl.bindings.crypto_sign_seed_keypair(seed(signer))
    return nacl.bindings.crypto_sign(GENESIS + b"\x00" + message, secret)[:64]


def build_inputs(value: Any, identities: list[tuple[bytes, bytes, int]], signer: str, scheme: str) -> dict[str, Any]:
    nipost = value.nipost
    return {
        "publish_epoch": value.publish_epoch, "positioning_atx": value.positioning_atx, "coinbase": value.coinbase,
        "previous_atxs": list(value.previous_atxs),
        "members": value_to_jsonable(nipost.members, scale.Slice(best.MemberV3, 256)),
        "identities": identities_json(identities), "poet_ref": nipost.challenge,
        "membership_nodes": list(nipost.membership.nodes), "leaf_index": nipost.membership_leaf_index,
        "proof": value_to_jsonable(nipost.proof, pb.BestProof), "vrf_nonce": value.vrf_nonce,
        "smesher_id": node_id(signer), "initial": None, "marriages": [], "marriage_atx": value.marriage_atx,
        "seed": seed(signer), "genesis_id": GENESIS, "scheme": scheme,
    }


@vector_source("atx", "build", "v3", presets=("tiny",))
def test_build_v3_vectors():
    # The hand-assembled ATX of test_best_vectors.py, its set root that of alice at 2 SU, signed by alice.
    alice = (node_id("alice"), GOLDEN, 2)
    root = set_root([alice])
    value = hand_value()
    value = attrs.evolve(value, nipost=attrs.evolve(value.nipost, identity_set_root=root), smesher_id=node_id("alice"))
    unsigned = hand_encoded()[:-96].replace(bytes([0x5E]) * 32, root)
    for tag, scheme in (("a", atx.IdScheme.A), ("b", atx.IdScheme.B)):
        atx_id = hand_id(value, scheme)
        blob = unsigned + node_id("alice") + nacl_signature("alice", atx_id)
        yield Case(f"hand_solo_{tag}", inputs=build_inputs(value, [alice], "alice", tag),
                   expected={"blob": blob, "id": atx_id}, spec_ref="atx_best.md#build_atx_v3",
                   description=f"the hand-assembled solo ATX built from its parts and signed by alice under ID scheme "
                   f"{tag.upper()}: the layout's bytes with the set root, the smesher and a libsodium signature")
    # A merged ATX: three members with their previous ATXs and a marriage ATX (the leaf 8 of the ID).
    members = [(node_id(f"m{i}"), GOLDEN, 1) for i in range(3)]
    prev = [bytes([0x60 + i]) * 32 for i in range(2)]
    proof = pb.BestProof(kth_score=2**50 + 3, groups=[pb.BestProofGroup(identity=i, index_steps=[i + 1, 5])
                                                       for i in range(3)])
    nipost = best.NiPostV3(atx.MerkleProofV2([bytes([0x71]) * 32, bytes([0x72]) * 32]), bytes([0x73]) * 32, 2,
                           [best.MemberV3(0, 0, 1), best.MemberV3(1, 1, 1), best.MemberV3(2, 1, 1)], set_root(members),
                           proof)
    value = best.ActivationTxV3(9, bytes([0x74]) * 32, bytes([0x75]) * 24, None, prev, nipost, 2**33, [],
                                bytes([0x76]) * 32, node_id("m0"), bytes(64))
    unsigned = b"".join([
        compact(9), bytes([0x74]) * 32, bytes([0x75]) * 24, b"\x00", compact(2), *prev,
        compact(2), bytes([0x71]) * 32, bytes([0x72]) * 32, bytes([0x73]) * 32, compact(2),
        compact(3), *(compact(a) + compact(b) + compact(c) for a, b, c in ((0, 0, 1), (1, 1, 1), (2, 1, 1))),
        set_root(members), compact(2**50 + 3), compact(3),
        *(compact(i) + compact(2) + compact(i + 1) + compact(5) for i in range(3)),
        compact(2**33), b"\x00", b"\x01", bytes([0x76]) * 32, node_id("m0"),
    ])
    atx_id = hand_id(value, atx.IdScheme.B)
    yield Case("merged_three_b", inputs=build_inputs(value, members, "m0", "b"),
               expected={"blob": unsigned + nacl_signature("m0", atx_id), "id": atx_id},
               spec_ref="atx_best.md#build_atx_v3",
               description="a merged ATX of three identities (two previous ATXs, a marriage ATX) built from its parts "
               "and signed by m0 under ID scheme B; bytes assembled by hand, a libsodium signature")


# ----------------------------------------------------------------------------------------------
# atx/validate/any


@vector_source("atx", "validate", "any", presets=("tiny",))
def test_validate_any_vectors():
    world, ids = solo_world()
    good = alice_solo(world, ids)
    case = accepted(world, good, "v3_solo", [("alice", ids["alice"], 2)], [2])
    yield dataclasses.replace(case, spec_ref="atx_best.md#handle_atx",
                       description="an epoch-3 blob (v3 from epoch 3 in the configuration): validated as a v3 ATX")
    world, ids = solo_world()
    v2 = world.solo("alice", 2, ids["alice"], num_units=2, leaf_index=5)
    # v2 weight = effective units x ticks; the positioning ATX (alice's initial) ends at tick 10.
    yield Case("v2_solo", inputs=world.inputs(v2), spec_ref="atx_best.md#handle_atx",
               expected={"id": "0x" + world.atx_id(v2).hex(), "base_tick_height": TICKS, "tick_count": TICKS,
                         "tick_height": 2 * TICKS, "num_units": 2, "weight": 2 * TICKS,
                         "posts": [post_json("alice", ids["alice"], 2)], "finding": None},
               description="an epoch-2 blob (v2 below epoch 3 in the configuration): validated as a v2 ATX")
    world, ids = solo_world()
    known = alice_solo(world, ids)
    world.submit_v3(known)
    case = accepted(world, known, "v3_already_known", [("alice", ids["alice"], 2)], [2])
    yield dataclasses.replace(case, spec_ref="atx_best.md#handle_atx_v3",
                       description="a v3 ATX the node already stored: the stored ATX again, no finding")
    world, ids = solo_world()
    inputs = world.inputs_v3(alice_solo(world, ids))
    inputs["config"] = dict(inputs["config"], atx_versions=[[0, 2], [3, 4]])
    yield Case("unknown_version", inputs=inputs, error="InvalidAtx", reason="unsupported_version",
               spec_ref="atx_best.md#handle_atx",
               description="the configuration maps epoch 3 to version 4, which no document validates")
    inputs = world.inputs_v3(alice_solo(world, ids))
    inputs["config"] = dict(inputs["config"], atx_versions=[[4, 2], [5, 3]])
    inputs["history"] = []
    yield Case("v1_epoch", inputs=inputs, error="InvalidAtx", reason="unsupported_version",
               spec_ref="atx_best.md#handle_atx",
               description="the configuration starts v2 at epoch 4: an epoch-3 blob is v1, validated outside the documents")
    world, info = merged_world()
    value = merged(world, info, ["m0", "m1", "m2"])
    case = accepted(world, value, "v3_merged", [(n, info["latest"][n], 1) for n in ("m0", "m1", "m2")], [1, 1, 1])
    yield dataclasses.replace(case, spec_ref="atx_best.md#handle_atx",
                       description="a merged v3 ATX of three married identities after their v2 ATXs")
