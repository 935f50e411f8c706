"""ATX v3 (spec/atx_best.md) vectors, tiny preset: codec triad, validation with named reasons,
weights, malfeasance detection and proof verification.

Every v3 ATX carries a real best-labels proof (scrypt labels, tiny preset), built by
best_builders.py. Expected weights are computed here from the formulas of post_best.md and
atx_best.md (`floor((K - 1) 2^64 / (v + 1))`, the two caps, `labels x ticks / 128`), not by the
spec's functions.
"""

from __future__ import annotations

from typing import Any

import attrs
import blake3
from smspec.conformance.cases import Case, output_fields, to_json, vector_source
from smspec.conformance.jsonio import value_to_jsonable
from smspec.tests.spec.atx.best_builders import (
    BestMember,
    BestWorld,
    best,
    married_set,
    pb,
    scale,
    solo_history,
)
from smspec.tests.spec.atx.builders import (
    BIG_NONCE,
    EMPTY,
    GOLDEN,
    atx,
    bad_post,
    good_post,
    mal,
    node_id,
)

TICKS = 10  # leaf count 1000 / tick size 100
LPU = 128  # tiny LABELS_PER_UNIT


def hexid(name: str) -> str:
    return "0x" + node_id(name).hex()


def capped_labels(value: Any, effective_units: list[int]) -> int:
    """The v3 weight in labels, from the proof's K-th score and the formulas of the documents."""
    k = pb.POST_BEST_K
    estimate = ((k - 1) << 64) // (value.nipost.proof.kth_score + 1)
    declared = sum(m.num_units for m in value.nipost.members) * LPU
    return min(estimate, 2 * declared, 2 * sum(effective_units) * LPU)


def accepted(world: BestWorld, value: Any, name: str, posts: list[tuple[str, bytes, int]],
             effective_units: list[int], description: str = "") -> Case:
    labels = capped_labels(value, effective_units)
    positioning = world.store.get_atx(value.positioning_atx)
    base = 0 if positioning is None else positioning.tick_height()
    expected = {
        "id": "0x" + world.atx_id_v3(value).hex(),
        "base_tick_height": base,
        "tick_count": TICKS,
        "tick_height": base + TICKS,
        "num_units": labels // LPU,
        "weight": labels * TICKS // LPU,
        "posts": [{"node_id": hexid(n), "previous": "0x" + p.hex(), "units": u} for n, p, u in posts],
        "finding": None,
    }
    return Case(name, inputs=world.inputs_v3(value), expected=expected, description=description,
                spec_ref="atx_best.md#validate_atx_v3")


REFUSED = {
    "invalid_signature": "the signature does not verify",
    "empty_positioning_atx": "the positioning ATX ID is empty",
    "publish_epoch_too_far": "a publish epoch far beyond the current one",
    "solo_prev_atx_index": "a solo ATX's member names a previous ATX index other than 0",
    "solo_previous_count": "a solo ATX with two previous ATXs",
    "golden_previous_atx": "the golden ATX named as a previous ATX",
    "initial_missing_commitment": "an initial ATX without its commitment ATX",
    "invalid_initial_post": "an initial ATX whose initial PoST the verifier refuses",
    "previous_atx_missing": "a previous ATX the node does not know",
    "identity_set_mismatch": "the identity set root differs from the members' set",
    "poet_proof_missing": "a challenge for which the node knows no PoET proof",
    "kth_score_claimed_too_low": "a K-th score claimed below the entries' scores",
    "kth_score_claimed_too_high": "a K-th score that no entry attains",
    "entry_missing": "one entry fewer than K",
    "index_beyond_declared": "an entry index beyond the identity's declared labels",
    "foreign_identity": "a group naming an identity outside the set",
    "entry_twice": "the same entry twice",
    "signer_not_included": "a merged ATX whose signer is not among its members",
    "no_members": "a merged ATX with no member",
    "duplicate_marriage_index": "the same marriage index twice",
    "marriage_index_out_of_range": "a marriage index beyond the marriage ATX's certificates",
    "groups_out_of_order": "proof groups whose identities are not increasing",
    "merged_with_marriages": "a merged ATX that also carries marriage certificates",
}


def rejected(world: BestWorld, value: Any, name: str, reason: str, description: str = "") -> Case:
    return Case(name, inputs=world.inputs_v3(value), error="InvalidAtx", reason=reason,
                description=description or REFUSED[name], spec_ref="atx_best.md#the-validation-pipeline")


def resign(world: BestWorld, value: Any, signer: str, **changes: Any) -> Any:
    return world.sign_v3(attrs.evolve(value, **changes), signer)


def with_proof(world: BestWorld, value: Any, signer: str, **changes: Any) -> Any:
    """`value` with its best-labels proof changed (and signed again)."""
    proof = attrs.evolve(value.nipost.proof, **changes)
    return resign(world, value, signer, nipost=attrs.evolve(value.nipost, proof=proof))


def with_nipost(world: BestWorld, value: Any, signer: str, **changes: Any) -> Any:
    return resign(world, value, signer, nipost=attrs.evolve(value.nipost, **changes))


# ----------------------------------------------------------------------------------------------
# scenarios


def solo_world() -> tuple[BestWorld, dict[str, bytes]]:
    """alice (2 SU) and bob (1 SU) published initial v2 ATXs in epoch 1 (10 ticks each)."""
    world = BestWorld()
    ids = solo_history(world, ["alice"], units=2)
    ids.update(solo_history(world, ["bob"], units=1))
    return world, ids


def alice_solo(world: BestWorld, ids: dict[str, bytes], **options: Any) -> Any:
    return world.v3("alice", 3, [BestMember("alice", 0, ids["alice"], 2)], positioning=ids["alice"], **options)


def merged_world() -> tuple[BestWorld, dict[str, Any]]:
    """m0, m1, m2 (1 SU each) married in m0's epoch-2 ATX; merged v3 ATXs from epoch 4."""
    world = BestWorld()
    return world, married_set(world, ["m0", "m1", "m2"])


def members_of(info: dict[str, Any], names: list[str], units: int = 1) -> list[BestMember]:
    return [BestMember(n, int(n[1:]), info["latest"][n], units) for n in names]


def merged(world: BestWorld, info: dict[str, Any], names: list[str], signer: str = "m0", **options: Any) -> Any:
    m = info["marriage"]
    return world.v3(signer, 4, members_of(info, names), positioning=m, marriage_atx=m, **options)


# ----------------------------------------------------------------------------------------------
# codec triad


SMESHER = bytes([0xDD]) * 32
SIGNATURE = bytes([0xEE]) * 64


def hand_value() -> Any:
    """A small solo ATX v3 with every field chosen by hand."""
    proof = pb.BestProof(kth_score=2**40, groups=[pb.BestProofGroup(identity=0, index_steps=[3, 1, 70])])
    nipost = best.NiPostV3(
        atx.MerkleProofV2([bytes([0x01]) * 32]), bytes([0xCC]) * 32, 5,
        [best.MemberV3(0, 0, 2)], bytes([0x5E]) * 32, proof,
    )
    return best.ActivationTxV3(7, bytes([0xAA]) * 32, bytes([0x11]) * 24, None, [bytes([0xBB]) * 32], nipost,
                               2**30, [], None, SMESHER, SIGNATURE)


def hand_encoded() -> bytes:
    """`hand_value` assembled byte by byte from the layout stated in atx_best.md (not via scale.md)."""
    return b"".join([
        bytes([7 << 2]),  # publish_epoch 7, compact32
        bytes([0xAA]) * 32,  # positioning_atx
        bytes([0x11]) * 24,  # coinbase
        b"\x00",  # initial: absent
        bytes([1 << 2]), bytes([0xBB]) * 32,  # previous_atxs: 1 entry
        bytes([1 << 2]), bytes([0x01]) * 32,  # nipost.membership.nodes: 1 node
        bytes([0xCC]) * 32,  # nipost.challenge
        bytes([5 << 2]),  # nipost.membership_leaf_index 5, compact64
        bytes([1 << 2]), b"\x00", b"\x00", bytes([2 << 2]),  # members: (0, 0, 2 units)
        bytes([0x5E]) * 32,  # identity_set_root
        # proof.kth_score 2^40: compact64 big-integer mode, 6 bytes, prefix ((6 - 4) << 2) | 3
        bytes([((6 - 4) << 2) | 3]), (2**40).to_bytes(6, "little"),
        bytes([1 << 2]), b"\x00",  # groups: 1; identity 0
        bytes([3 << 2]), bytes([3 << 2]), bytes([1 << 2]), ((70 << 2) | 1).to_bytes(2, "little"),  # steps 3, 1, 70
        bytes.fromhex("0300000040"),  # vrf_nonce 2^30
        b"\x00",  # marriages: none
        b"\x00",  # marriage_atx: absent
        SMESHER,
        SIGNATURE,
    ])


def expected_id(value: Any, scheme: Any) -> bytes:
    """The v3 ID from the leaf list of atx_best.md, computed with the blake3 package and the
    merkle-tree port of crypto.md for the tree shape only."""
    from smspec.tests.spec.atx.builders import crypto

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
    leaves = [
        value.publish_epoch.to_bytes(4, "little") + bytes(28),
        value.positioning_atx,
        value.coinbase if scheme == atx.IdScheme.A else value.coinbase + bytes(8),
        EMPTY,
        crypto.merkle_root(list(value.previous_atxs) + [EMPTY] * (256 - len(value.previous_atxs))),
        crypto.merkle_root(nipost_leaves),
        value.vrf_nonce.to_bytes(8, "little") + bytes(24),
        crypto.merkle_root([EMPTY] * 256),
        EMPTY,
    ]
    return crypto.merkle_root(leaves)


@vector_source("atx", "codec", "decode_v3", presets=("tiny",))
def test_decode_v3_vectors():
    value = hand_value()
    json_value = value_to_jsonable(value, best.ActivationTxV3)
    yield Case("hand_assembled", inputs={"blob": hand_encoded()},
               expected={"atx": json_value, "reencoded": hand_encoded()},
               spec_ref="atx_best.md#activationtxv3", description="every field by hand; the layout of the document")
    world, ids = solo_world()
    real = alice_solo(world, ids)
    blob = world.blob_v3(real)
    yield Case("real_solo", description="a solo v3 ATX built by the spec decodes and re-encodes byte for byte", spec_ref="atx_best.md#encode_atx_v3-decode_atx_v3", inputs={"blob": blob},
               expected={"atx": value_to_jsonable(real, best.ActivationTxV3), "reencoded": blob})
    yield Case("truncated", description="the last byte missing", spec_ref="atx_best.md#encode_atx_v3-decode_atx_v3", inputs={"blob": blob[:-1]}, error="InvalidEncoding")
    yield Case("trailing_byte", description="a byte after the ATX", spec_ref="atx_best.md#encode_atx_v3-decode_atx_v3", inputs={"blob": blob + b"\x00"}, error="InvalidEncoding")
    too_many = hand_encoded().replace(bytes([1 << 2]) + b"\x00\x00" + bytes([2 << 2]), bytes.fromhex("0504") + b"\x00\x00" + bytes([2 << 2]), 1)
    yield Case("members_over_max", spec_ref="atx_best.md#activationtxv3", inputs={"blob": too_many}, error="InvalidEncoding",
               description="a member count of 257 (compact 0x0504) is above MAX_MEMBERS")


@vector_source("atx", "codec", "encode_v3", presets=("tiny",))
def test_encode_v3_vectors():
    yield Case("hand_assembled", description="the hand-assembled v3 ATX encodes to the bytes of the document's layout", inputs={"atx": value_to_jsonable(hand_value(), best.ActivationTxV3)},
               expected={"blob": hand_encoded()}, spec_ref="atx_best.md#activationtxv3")


@vector_source("atx", "id", "v3", presets=("tiny",))
def test_id_v3_vectors():
    world, ids = solo_world()
    real = alice_solo(world, ids)
    for tag, scheme in (("a", atx.IdScheme.A), ("b", atx.IdScheme.B)):
        yield Case(f"hand_assembled_{tag}", inputs={"blob": hand_encoded(), "scheme": tag},
                   expected={"id": expected_id(hand_value(), scheme)}, spec_ref="atx_best.md#atx_leaves_v3",
                   description=f"the ID (scheme {tag.upper()}) of the hand-assembled v3 ATX, its tree computed by hand")
        yield Case(f"real_solo_{tag}", inputs={"blob": world.blob_v3(real), "scheme": tag},
                   expected={"id": expected_id(real, scheme)}, spec_ref="atx_best.md#atx_id_v3",
                   description=f"the ID (scheme {tag.upper()}) of a solo v3 ATX built by the spec")


# ----------------------------------------------------------------------------------------------
# validation


def validation_cases() -> list[Case]:
    cases = []
    world, ids = solo_world()
    good = alice_solo(world, ids)
    cases.append(accepted(world, good, "solo", [("alice", ids["alice"], 2)], [2],
                          "alice's first v3 ATX after her initial v2 ATX"))
    grown = world.v3("bob", 3, [BestMember("bob", 0, ids["bob"], 4)], positioning=ids["bob"])
    cases.append(accepted(world, grown, "cap_effective_units", [("bob", ids["bob"], 4)], [1],
                          "bob declares 4 SU after 1 SU: the estimate is capped at twice the effective 1 SU"))
    initial = world.v3("carol", 3, [BestMember("carol", 0, EMPTY, 1)], positioning=GOLDEN, initial_post=good_post(7))
    cases.append(accepted(world, initial, "initial", [("carol", EMPTY, 1)], [1], "an initial v3 ATX"))
    # S-rules
    cases.append(rejected(world, attrs.evolve(good, signature=bytes(64)), "invalid_signature", "invalid_signature"))
    cases.append(rejected(world, resign(world, good, "alice", positioning_atx=EMPTY), "empty_positioning_atx",
                          "empty_positioning_atx"))
    cases.append(rejected(world, resign(world, good, "alice", publish_epoch=40), "publish_epoch_too_far",
                          "publish_epoch_too_far"))
    two = world.v3("alice", 3, [BestMember("alice", 0, ids["alice"], 2), BestMember("bob", 1, ids["bob"], 1)],
                   positioning=ids["alice"])
    cases.append(rejected(world, two, "solo_member_count", "solo_member_count", "two members without a marriage ATX"))
    cases.append(rejected(world, with_nipost(world, good, "alice", members=[best.MemberV3(0, 1, 2)]),
                          "solo_prev_atx_index", "solo_prev_atx_index"))
    cases.append(rejected(world, resign(world, good, "alice", previous_atxs=[ids["alice"], ids["bob"]]),
                          "solo_previous_count", "solo_previous_count"))
    cases.append(rejected(world, resign(world, good, "alice", previous_atxs=[GOLDEN]), "golden_previous_atx",
                          "golden_previous_atx"))
    cases.append(rejected(world, resign(world, initial, "carol", initial=atx.InitialAtxPartsV2(EMPTY, good_post(7))),
                          "initial_missing_commitment", "initial_missing_commitment"))
    cases.append(rejected(world, world.v3("carol", 3, [BestMember("carol", 0, EMPTY, 1)], positioning=GOLDEN,
                                          initial_post=bad_post(7)), "invalid_initial_post", "invalid_initial_post"))
    cases.append(rejected(world, resign(world, good, "alice", vrf_nonce=1), "invalid_vrf_nonce", "invalid_vrf_nonce",
                          "the stub's nonce rule: the nonce must reach the declared units"))
    cases.append(rejected(world, resign(world, good, "alice", marriages=[world.certificate("bob", "alice", ids["bob"])]),
                          "no_self_marriage", "no_self_marriage",
                          "a marriage certificate of bob but none of the signer alice"))
    cases.append(rejected(world, resign(world, initial, "carol", marriage_atx=ids["alice"]), "initial_with_marriage_atx",
                          "initial_with_marriage_atx", "an initial ATX naming a marriage ATX"))
    cases.append(rejected(world, resign(world, initial, "carol", previous_atxs=[ids["alice"]]), "initial_with_previous",
                          "initial_with_previous", "an initial ATX with a previous ATX"))
    cases.append(rejected(world, resign(world, initial, "carol", vrf_nonce=0), "initial_invalid_vrf_nonce",
                          "invalid_vrf_nonce", "an initial ATX whose VRF nonce the stub refuses (checked against the "
                          "initial commitment ATX)"))
    cases.append(rejected(world, resign(world, good, "alice", previous_atxs=[EMPTY]), "empty_previous_atx",
                          "empty_previous_atx", "the empty ID named as a previous ATX"))
    # C-rules of v2
    cases.append(rejected(world, resign(world, good, "alice", previous_atxs=[bytes([0x42]) * 32]), "previous_atx_missing",
                          "previous_atx_missing"))
    stranger = world.v3("alice", 3, [BestMember("alice", 0, ids["bob"], 2)], positioning=ids["alice"])
    cases.append(rejected(world, stranger, "identity_not_in_previous", "identity_not_in_previous",
                          "alice names bob's ATX as her previous ATX"))
    # B1, C7: the set and its binding
    five = pb.identity_set_root([pb.BestIdentity(node_id("alice"), GOLDEN, 5)])
    oversized = with_nipost(world, good, "alice", members=[best.MemberV3(0, 0, 5)], identity_set_root=five)
    cases.append(rejected(world, oversized, "bad_identity_set", "bad_identity_set",
                          "5 SU is above the tiny preset's MAX_NUM_UNITS"))
    cases.append(rejected(world, with_nipost(world, good, "alice", identity_set_root=bytes([0x5E]) * 32),
                          "identity_set_mismatch", "identity_set_mismatch"))
    bound_elsewhere = alice_solo(world, ids, registered=[pb.BestIdentity(node_id("alice"), GOLDEN, 1)])
    cases.append(rejected(world, bound_elsewhere, "registered_for_another_set", "invalid_membership",
                          "the PoET registration committed to alice at 1 SU, the ATX declares 2 SU"))
    cases.append(rejected(world, with_nipost(world, good, "alice", challenge=bytes([0x43]) * 32), "poet_proof_missing",
                          "poet_proof_missing"))
    # B2: the proof (every entry checked)
    proof = good.nipost.proof
    cases.append(rejected(world, with_proof(world, good, "alice", kth_score=proof.kth_score // 4),
                          "kth_score_claimed_too_low", "best_score_above_kth"))
    cases.append(rejected(world, with_proof(world, good, "alice", kth_score=proof.kth_score + 1),
                          "kth_score_claimed_too_high", "best_kth_score_not_attained"))
    steps = proof.groups[0].index_steps
    short = [attrs.evolve(proof.groups[0], index_steps=steps[:-1])]
    cases.append(rejected(world, with_proof(world, good, "alice", groups=short), "entry_missing", "best_wrong_entry_count"))
    beyond = [attrs.evolve(proof.groups[0], index_steps=steps[:-1] + [steps[-1] + 256])]
    cases.append(rejected(world, with_proof(world, good, "alice", groups=beyond), "index_beyond_declared",
                          "best_index_out_of_range"))
    foreign = [attrs.evolve(proof.groups[0], identity=1)]
    cases.append(rejected(world, with_proof(world, good, "alice", groups=foreign), "foreign_identity",
                          "best_identity_out_of_range"))
    twice = [attrs.evolve(proof.groups[0], index_steps=steps[:1] + [0] + steps[2:])]
    cases.append(rejected(world, with_proof(world, good, "alice", groups=twice), "entry_twice", "best_duplicate_entry"))
    bobs_data = world.v3("alice", 3, [BestMember("alice", 0, ids["alice"], 2)], positioning=ids["alice"])
    reused = with_proof(world, good, "alice", kth_score=bobs_data.nipost.proof.kth_score,
                        groups=bobs_data.nipost.proof.groups)
    cases.append(rejected(world, reused, "proof_of_another_round", "best_score_above_kth",
                          "a proof made for another PoET proof (another challenge) of the same set"))
    # commitment ATXs other than the golden one (a world of their own: the PoET proofs they add stay out
    # of the other cases)
    world, ids = solo_world()
    committed = world.v3("dave", 3, [BestMember("dave", 0, EMPTY, 1, commitment=ids["bob"])], positioning=GOLDEN,
                         initial_post=good_post(8))
    cases.append(accepted(world, committed, "initial_committed_to_stored_atx", [("dave", EMPTY, 1)], [1],
                          "an initial v3 ATX whose commitment ATX is bob's stored epoch-1 ATX"))
    unknown = world.v3("dave", 3, [BestMember("dave", 0, EMPTY, 1, commitment=bytes([0x42]) * 32)], positioning=GOLDEN,
                       initial_post=good_post(8))
    cases.append(rejected(world, unknown, "commitment_atx_missing", "commitment_atx_missing",
                          "an initial v3 ATX whose commitment ATX the node does not know"))
    # dependencies published in the ATX's own epoch
    world, ids = solo_world()
    first = alice_solo(world, ids)
    world.submit_v3(first)
    first_id = world.atx_id_v3(first)
    again = world.v3("alice", 3, [BestMember("alice", 0, first_id, 2)], positioning=ids["alice"])
    cases.append(rejected(world, again, "previous_atx_too_new", "previous_atx_too_new",
                          "a second epoch-3 ATX of alice naming her first epoch-3 ATX as previous ATX"))
    fresh = world.v3("dave", 3, [BestMember("dave", 0, EMPTY, 1, commitment=first_id)], positioning=GOLDEN,
                     initial_post=good_post(8))
    cases.append(rejected(world, fresh, "commitment_atx_too_new", "commitment_atx_too_new",
                          "an initial epoch-3 ATX whose commitment ATX is alice's epoch-3 ATX"))
    # merged ATXs
    world, info = merged_world()
    good_merged = merged(world, info, ["m0", "m1", "m2"])
    latest = info["latest"]
    cases.append(accepted(world, good_merged, "merged_three",
                          [(n, latest[n], 1) for n in ("m0", "m1", "m2")], [1, 1, 1], "three married identities, one proof"))
    cases.append(rejected(world, merged(world, info, ["m1", "m2"], signer="m0"), "signer_not_included",
                          "signer_not_included"))
    cases.append(rejected(world, with_nipost(world, good_merged, "m0", members=[]), "no_members", "no_members"))
    doubled = [good_merged.nipost.members[0], good_merged.nipost.members[0]]
    cases.append(rejected(world, with_nipost(world, good_merged, "m0", members=doubled), "duplicate_marriage_index",
                          "duplicate_marriage_index"))
    far = [attrs.evolve(good_merged.nipost.members[2], marriage_index=7)]
    cases.append(rejected(world, with_nipost(world, good_merged, "m0", members=good_merged.nipost.members[:2] + far),
                          "marriage_index_out_of_range", "marriage_index_out_of_range"))
    beyond_previous = [attrs.evolve(good_merged.nipost.members[1], prev_atx_index=len(good_merged.previous_atxs))]
    cases.append(rejected(world, with_nipost(world, good_merged, "m0", members=good_merged.nipost.members[:1]
                                             + beyond_previous + good_merged.nipost.members[2:]),
                          "prev_atx_index_out_of_range", "prev_atx_index_out_of_range",
                          "a member naming a previous ATX index beyond the ATX's previous ATXs"))
    groups = good_merged.nipost.proof.groups
    assert len(groups) >= 2
    swapped = [groups[1], groups[0]] + list(groups[2:])
    cases.append(rejected(world, with_proof(world, good_merged, "m0", groups=swapped), "groups_out_of_order",
                          "best_identities_not_increasing"))
    certificate = world.certificate("m0", "m0", EMPTY)
    cases.append(rejected(world, resign(world, good_merged, "m0", marriages=[certificate]), "merged_with_marriages",
                          "merged_with_marriages"))
    early = world.v3("m0", 3, members_of(info, ["m0", "m1"]), positioning=info["marriage"], marriage_atx=info["marriage"])
    cases.append(rejected(world, early, "marriage_atx_too_new", "marriage_atx_too_new",
                          "a merged ATX needs its marriage ATX two epochs earlier"))
    return cases


@vector_source("atx", "validate", "v3", presets=("tiny",))
def test_validate_v3_vectors():
    yield from validation_cases()


def weight_case(name: str, verified: int, units: list[int], ticks: int, **outcome: Any) -> Case:
    identities = [{"node_id": hexid(f"w{i}"), "commitment_atx_id": "0x" + GOLDEN.hex(), "num_units": u}
                  for i, u in enumerate(units)]
    inputs = {"verified_labels": verified, "identities": identities, "tick_count": ticks}
    if "error" in outcome:
        return Case(name, inputs=inputs, error="InvalidAtx", reason=outcome["error"], spec_ref="atx_best.md#weight_v3",
                    description=f"{verified} verified labels, units {units}, {ticks} ticks: the weight overflows 64 bits")
    return Case(name, inputs=inputs, expected=outcome, spec_ref="atx_best.md#weight_v3",
                description=f"{verified} verified labels, units {units}, {ticks} ticks: "
                "floor(min(labels, 2 x 128 x effective units) x ticks / 128)")


@vector_source("atx", "weight", "v3", presets=("tiny",))
def test_weight_v3_vectors():
    # Worked by hand: weight = floor(min(labels, 2 * 128 * sum(units)) * ticks / 128).
    yield weight_case("below_cap", 300, [2], 10, weight_labels=300, num_units=2, weight=23)
    yield weight_case("at_cap", 512, [2], 10, weight_labels=512, num_units=4, weight=40)
    yield weight_case("above_cap", 10**9, [1, 2], 7, weight_labels=768, num_units=6, weight=42)
    yield weight_case("zero_ticks", 400, [4], 0, weight_labels=400, num_units=3, weight=0)
    yield weight_case("weight_overflow", 2 * 128 * 4, [4], 2**62, error="weight_overflow")
    yield Case("units_overflow", inputs={"verified_labels": 2**40, "tick_count": 1, "identities": [
        {"node_id": hexid(f"w{i}"), "commitment_atx_id": "0x" + GOLDEN.hex(), "num_units": 2**32 - 1} for i in range(2)]},
        error="InvalidAtx", reason="units_overflow", spec_ref="atx_best.md#weight_v3",
        description="2^40 verified labels under a cap of 2 x 128 x (2^33 - 2): 2^33 whole units do not fit 32 bits "
        "(the weight, 2^33, does fit 64)")
    yield weight_case("largest_weight", 2 * 128 * 4, [4], (2**64 - 1) * 128 // 1024,
                      weight_labels=1024, num_units=8, weight=(((2**64 - 1) * 128 // 1024) * 1024) // 128)


# ----------------------------------------------------------------------------------------------
# malfeasance


def detections() -> list[tuple[str, BestWorld, Any, str, int, list[str]]]:
    """(name, world before, offending v3 ATX, convicted, proof type, malicious identities)."""
    found = []
    # An identity in two sets: m1 publishes a solo v3 ATX, m0 merges m0 and m1 in the same epoch.
    world, info = merged_world()
    latest = info["latest"]
    world.submit_v3(world.v3("m1", 4, [BestMember("m1", 0, latest["m1"], 1)], positioning=latest["m1"]))
    offending = merged(world, info, ["m0", "m1"])
    found.append(("double_set", world, offending, "m1", mal.PROOF_BEST_DOUBLE_SET, ["m0", "m1", "m2"]))
    # A double merge: m0 merges {m0, m1} and m2 merges {m2} for the same marriage in epoch 4.
    world, info = merged_world()
    world.submit_v3(merged(world, info, ["m0", "m1"]))
    offending = merged(world, info, ["m2"], signer="m2")
    found.append(("double_merge", world, offending, "m2", mal.PROOF_DOUBLE_MERGE, ["m0", "m1", "m2"]))
    # A double marriage in a v3 ATX: m1, married to m0 in epoch 2, certifies carol's v3 marriage.
    world, info = merged_world()
    carol = solo_history(world, ["carol"])["carol"]
    certificates = [world.certificate("carol", "carol", EMPTY), world.certificate("m1", "carol", info["initial"]["m1"])]
    offending = world.v3("carol", 3, [BestMember("carol", 0, carol, 1)], positioning=carol, marriages=certificates)
    found.append(("double_marry", world, offending, "m1", mal.PROOF_DOUBLE_MARRY, ["carol", "m0", "m1", "m2"]))
    return found


@vector_source("atx", "malfeasance", "detect_v3", presets=("tiny",))
def test_detect_v3_vectors():
    for name, world, offending, culprit, proof_type, malicious in detections():
        _, finding = world.submit_v3(offending)
        assert finding is not None and finding.proof_type == proof_type and finding.node_id == node_id(culprit)
        world.history.pop()
        body = scale.encode(finding.proof, type(finding.proof))
        envelope = scale.encode(mal.ATXProof(mal.ATX_PROOF_VERSION, proof_type, body), mal.ATXProof)
        yield Case(name, inputs=world.inputs_v3(offending), check=output_fields(
            finding={"node_id": hexid(culprit), "proof_type": proof_type, "proof": envelope},
            malicious=sorted(hexid(n) for n in malicious)), spec_ref="atx_best.md#detect_malfeasance_v3",
            description=DETECTED[name])
    world, info = merged_world()
    latest = info["latest"]
    world.submit_v3(world.v3("m1", 4, [BestMember("m1", 0, latest["m1"], 1)], positioning=latest["m1"]))
    world.submit_v3(merged(world, info, ["m0", "m1"]))
    yield Case("signer_already_malicious", inputs=world.inputs_v3(merged(world, info, ["m0", "m2"])),
               expected={"finding": None, "malicious": sorted(hexid(n) for n in ("m0", "m1", "m2"))},
               spec_ref="atx_best.md#detect_malfeasance_v3",
               description="after the double set made m0, m1 and m2 malicious, m0 merges m0 and m2 in the same epoch: "
               "no new finding against a malicious signer")
    world, info = merged_world()
    yield Case("honest_merged", description="an honest merged ATX of three identities: no finding", spec_ref="atx_best.md#detect_malfeasance_v3", inputs=world.inputs_v3(merged(world, info, ["m0", "m1", "m2"])),
               expected={"finding": None, "malicious": []})


DETECTED = {
    "double_set": "m1 publishes a solo v3 ATX and is merged by m0 in the same epoch: an identity in two sets",
    "double_merge": "two merged ATXs for the same marriage in one epoch",
    "double_marry": "m1, married to m0, certifies carol's marriage in a v3 ATX: a double marriage",
}


def forged_but_sampled_past() -> tuple[BestWorld, Any, bytes]:
    """alice's ATX with a K-th score claimed a quarter too low, and a verifier seed whose 4 spot
    checks all miss the entries above the claim (found by search; deterministic)."""
    world, ids = solo_world()
    honest = alice_solo(world, ids)
    forged = with_proof(world, honest, "alice", kth_score=honest.nipost.proof.kth_score * 3 // 4)
    identities = [pb.BestIdentity(node_id("alice"), GOLDEN, 2)]
    for n in range(1000):
        seed = n.to_bytes(4, "little")
        try:
            pb.verify_best_proof(forged.nipost.proof, identities, forged.nipost.challenge, pb.POST_BEST_K, 4, seed)
        except pb.InvalidProof:
            continue
        return world, forged, seed
    raise AssertionError("no seed misses the forged entries")


@vector_source("atx", "malfeasance", "invalid_entry", presets=("tiny",))
def test_invalid_entry_vectors():
    world, forged, seed = forged_but_sampled_past()
    finding = best.invalid_entry_finding(forged, world.store, world.config)
    assert finding is not None
    body = scale.encode(finding.proof, best.ProofBestInvalidEntry)
    envelope = scale.encode(mal.ATXProof(mal.ATX_PROOF_VERSION, mal.PROOF_BEST_INVALID_ENTRY, body), mal.ATXProof)
    yield Case("forged_kth_score", description="a K-th score claimed a quarter too low, missed by the validator's spot checks: the invalid-entry proof", inputs=world.inputs_v3(forged), check=output_fields(
        finding={"node_id": hexid("alice"), "proof_type": mal.PROOF_BEST_INVALID_ENTRY, "proof": envelope}),
        spec_ref="atx_best.md#invalid_entry_finding")
    world, ids = solo_world()
    yield Case("honest", description="an honest solo ATX: no invalid entry", spec_ref="atx_best.md#invalid_entry_finding", inputs=world.inputs_v3(alice_solo(world, ids)), expected={"finding": None})


def proofs() -> dict[str, tuple[int, Any, Any, str]]:
    """name -> (proof type, proof, config, convicted) for every v3 finding."""
    out = {}
    for name, world, offending, culprit, proof_type, _ in detections():
        _, finding = world.submit_v3(offending)
        out[name] = (proof_type, finding.proof, world.config, culprit)
    world, forged, _ = forged_but_sampled_past()
    finding = best.invalid_entry_finding(forged, world.store, world.config)
    out["invalid_entry"] = (mal.PROOF_BEST_INVALID_ENTRY, finding.proof, world.config, "alice")
    return out


def verify_inputs(config: Any, proof_type: int, proof: Any) -> dict[str, Any]:
    from smspec.conformance.handlers.atx import config_json

    body = scale.encode(proof, type(proof))
    return {"config": config_json(config), "verifier": "stub",
            "proof": scale.encode(mal.ATXProof(mal.ATX_PROOF_VERSION, proof_type, body), mal.ATXProof)}


VERIFY_REF = {"double_set": "atx_best.md#verify_double_set", "invalid_entry": "atx_best.md#verify_invalid_entry"}


@vector_source("atx", "malfeasance", "verify_v3", presets=("tiny",))
def test_verify_v3_vectors():
    found = proofs()
    for name, (proof_type, proof, config, culprit) in found.items():
        yield Case(f"{name}_valid", inputs=verify_inputs(config, proof_type, proof), expected={"node_id": hexid(culprit)},
                   spec_ref="atx_best.md#verify_atx_proof_v3",
                   description=f"the {name.replace('_', '-')} proof the detection found: valid, against {culprit}")

    def bad(name: str, kind: str, reason: str, **changes: Any) -> Case:
        proof_type, proof, config, _ = found[kind]
        return Case(name, inputs=verify_inputs(config, proof_type, attrs.evolve(proof, **changes)),
                    error="InvalidProof", reason=reason, spec_ref=VERIFY_REF[kind],
                    description=f"the valid {kind.replace('_', '-')} proof with {', '.join(changes)} changed: {reason}")

    _, double_set, _, _ = found["double_set"]
    first = double_set.first
    yield bad("double_set_same_atx", "double_set", "same_atx", second=first)
    yield bad("double_set_other_epoch", "double_set", "invalid_publish_epoch_proof", publish_epoch=5)
    yield bad("double_set_other_identity", "double_set", "wrong_identity", node_id=node_id("m2"))
    yield bad("double_set_changed_set", "double_set", "invalid_identity_set_proof",
              first=attrs.evolve(first, identities=first.identities[:1]))
    yield bad("double_set_position_out_of_range", "double_set", "wrong_identity",
              first=attrs.evolve(first, position=9))
    yield bad("double_set_bad_signature", "double_set", "invalid_atx_signature",
              first=attrs.evolve(first, signature=bytes(64)))
    yield bad("double_set_bad_nipost_path", "double_set", "invalid_nipost_root_proof",
              first=attrs.evolve(first, nipost_root=bytes(32)))
    _, entry, _, _ = found["invalid_entry"]
    yield bad("invalid_entry_good_entry", "invalid_entry", "entry_is_valid", position=good_position(entry))
    yield bad("invalid_entry_other_challenge", "invalid_entry", "invalid_challenge_proof", challenge=bytes(32))
    yield bad("invalid_entry_other_proof", "invalid_entry", "invalid_best_proof_proof",
              proof=attrs.evolve(entry.proof, kth_score=entry.proof.kth_score + 1))
    yield bad("invalid_entry_other_set", "invalid_entry", "invalid_identity_set_proof",
              identities=[attrs.evolve(entry.identities[0], num_units=1)])
    yield bad("invalid_entry_position_out_of_range", "invalid_entry", "entry_not_checkable", position=pb.POST_BEST_K)
    proof_type, proof, config, _ = found["double_set"]
    envelope = verify_inputs(config, 0x7F, proof)
    yield Case("unknown_type", description="a proof envelope of type 0x7f", spec_ref="atx_best.md#verify_atx_proof_v3", inputs=envelope, error="InvalidProof", reason="unknown_proof_type")


def good_position(proof: Any) -> int:
    """A position whose entry reaches the claimed K-th score."""
    for position in range(pb.POST_BEST_K):
        if pb.verify_best_entry(proof.proof, proof.identities, proof.challenge, pb.POST_BEST_K, position):
            return position
    raise AssertionError("every entry fails")


def test_vectors_json_round_trip():
    """The v3 inputs survive the vectors' JSON form (blobs of bytes, big integers as strings)."""
    world, ids = solo_world()
    inputs = to_json(world.inputs_v3(alice_solo(world, ids)))
    assert inputs["history"][0]["v2"].startswith("0x")
    assert BIG_NONCE > 2**30


# ----------------------------------------------------------------------------------------------
# codec triads of the v3 wire types (vectors atx/wire/*_v3, malfeasance/wire/proof_best_*)


@vector_source("atx", "wire", "activation_tx_v3", presets=("tiny",))
def test_activation_tx_v3_triad():
    from smspec.tests.spec.wirecases import invalid_cases, triad_cases

    ids = {"id_a": expected_id(hand_value(), atx.IdScheme.A), "id_b": expected_id(hand_value(), atx.IdScheme.B)}
    yield from triad_cases("hand_assembled", best.ActivationTxV3, hand_value(), "atx_best.md#activationtxv3",
                           "the hand-assembled solo ATX v3", encoded=hand_encoded(), ids=ids)
    world, solo_ids = solo_world()
    value = alice_solo(world, solo_ids)
    yield from triad_cases("real_solo", best.ActivationTxV3, value, "atx_best.md#activationtxv3",
                           "alice's solo ATX v3 built by the spec",
                           ids={"id_a": expected_id(value, atx.IdScheme.A), "id_b": expected_id(value, atx.IdScheme.B)})
    world, info = merged_world()
    yield from triad_cases("merged", best.ActivationTxV3, merged(world, info, ["m0", "m1", "m2"]),
                           "atx_best.md#activationtxv3", "a merged ATX v3 of three identities built by the spec")
    yield from invalid_cases("hand_assembled", best.ActivationTxV3, hand_encoded(), "atx_best.md#activationtxv3",
                             "the hand-assembled solo ATX v3")


@vector_source("atx", "wire", "nipost_challenge_v3", presets=("tiny",))
def test_nipost_challenge_v3_triad():
    from smspec.tests.spec.wirecases import invalid_cases, triad_cases

    initial = best.NIPostChallengeV3(publish_epoch=1, positioning_atx=GOLDEN, identity_set_root=bytes([0x5E]) * 32,
                                     previous_atxs=[], initial_post=good_post())
    later = best.NIPostChallengeV3(publish_epoch=70000, positioning_atx=bytes([7]) * 32,
                                   identity_set_root=bytes([0x5F]) * 32, previous_atxs=[bytes([8]) * 32, bytes([9]) * 32],
                                   initial_post=None)
    for name, value in (("initial", initial), ("later", later)):
        encoded = scale.encode(value, best.NIPostChallengeV3)
        # the PoET leaf: blake3 of the prefix byte 03 and the encoding (blake3 package)
        yield from triad_cases(name, best.NIPostChallengeV3, value, "atx_best.md#nipostchallengev3",
                               f"a v3 NiPoST challenge ({name})", ids={"hash": blake3.blake3(b"\x03" + encoded).digest()})
    yield from invalid_cases("later", best.NIPostChallengeV3, scale.encode(later, best.NIPostChallengeV3),
                             "atx_best.md#nipostchallengev3", "a v3 NiPoST challenge")


def best_proof_source(kind: str, handler: str, cls_name: str, ref: str):
    @vector_source("malfeasance", "wire", handler, presets=("tiny",))
    def source():
        from smspec.tests.spec.wirecases import invalid_cases, triad_cases

        _, proof, _, culprit = proofs()[kind]
        codec = getattr(best, cls_name)
        what = f"the {kind.replace('_', '-')} proof against {culprit} found by the detection"
        yield from triad_cases("detected", codec, proof, ref, what)
        yield from invalid_cases("detected", codec, scale.encode(proof, codec), ref, what)

    source.__name__ = source.__qualname__ = f"test_{handler}_triad"
    return source


test_proof_best_double_set_triad = best_proof_source("double_set", "proof_best_double_set", "ProofBestDoubleSet",
                                                     "atx_best.md#proofbestdoubleset")
test_proof_best_invalid_entry_triad = best_proof_source("invalid_entry", "proof_best_invalid_entry",
                                                        "ProofBestInvalidEntry", "atx_best.md#proofbestinvalidentry")
