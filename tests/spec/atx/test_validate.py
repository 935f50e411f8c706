"""ATX v2 validation: each rule accepted and rejected, weights, and the upstream quirks.

Expected numbers are worked by hand from atx.md (tick size 100, PoET leaf count 1000 = 10
ticks unless stated). The PoST verifier is the vectors' stub (conformance/handlers/atx.py).
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from smspec.conformance.cases import Case, vector_source
from smspec.tests.spec.atx.builders import (
    BIG_NONCE,
    EMPTY,
    GOLDEN,
    Member,
    World,
    atx,
    bad_post,
    good_post,
    married_pair,
    node_id,
    scale,
)

MAX32 = 2**32 - 1


def post_json(name: str, previous: bytes, units: int) -> dict[str, Any]:
    return {"node_id": "0x" + node_id(name).hex(), "previous": "0x" + previous.hex(), "units": units}


def accepted(world: World, value: Any, name: str, *, base: int, ticks: int, units: int, weight: int,
             posts: list, description: str = "") -> Case:
    expected = {
        "id": "0x" + world.atx_id(value).hex(),
        "base_tick_height": base,
        "tick_count": ticks,
        "tick_height": (base + ticks) % 2**64,
        "num_units": units,
        "weight": weight,
        "posts": posts,
        "finding": None,
    }
    return Case(name, inputs=world.inputs(value), expected=expected, description=description,
                spec_ref="atx.md#validate_atx_v2")


def rejected(world: World, value: Any, name: str, reason: str, description: str = "") -> Case:
    return Case(name, inputs=world.inputs(value), error="InvalidAtx", reason=reason, description=description,
                spec_ref="atx.md#the-validation-pipeline")


def resign(world: World, value: Any, signer: str, **changes: Any) -> Any:
    return world.sign(attrs.evolve(value, **changes), signer)


def set_sub_post(value: Any, nipost: int = 0, post: int = 0, **changes: Any) -> list:
    niposts = list(value.niposts)
    subs = list(niposts[nipost].posts)
    subs[post] = attrs.evolve(subs[post], **changes)
    niposts[nipost] = attrs.evolve(niposts[nipost], posts=subs)
    return niposts


def solo_cases(scheme: Any, tag: str):
    world = World(scheme)
    alice0 = world.initial("alice", 1, num_units=4)
    yield accepted(world, alice0, f"initial_accepted_{tag}", base=0, ticks=10, units=4, weight=40,
                   posts=[post_json("alice", EMPTY, 4)], description="initial ATX on the golden positioning ATX")
    world.submit(alice0)
    alice0_id = world.atx_id(alice0)

    solo = world.solo("alice", 2, alice0_id, num_units=6, leaf_count=1050)
    yield accepted(world, solo, f"solo_units_capped_by_previous_{tag}", base=10, ticks=10, units=4, weight=40,
                   posts=[post_json("alice", alice0_id, 6)],
                   description="effective units = min(previous 4, declared 6); stored units stay 6")
    smaller = world.solo("alice", 2, alice0_id, num_units=2, leaf_count=2599)
    yield accepted(world, smaller, f"solo_units_shrink_{tag}", base=10, ticks=25, units=2, weight=50,
                   posts=[post_json("alice", alice0_id, 2)],
                   description="declared 2 units, fewer than the previous 4: 2 effective units, 25 ticks")
    if tag != "a":
        return
    # S1
    flipped = bytes([solo.signature[0] ^ 1]) + solo.signature[1:]
    yield rejected(world, attrs.evolve(solo, signature=flipped), "s1_invalid_signature", "invalid_signature", description="S1: one bit of the signature flipped")
    yield rejected(world, attrs.evolve(solo, smesher_id=node_id("bob")), "s1_wrong_signer", "invalid_signature", description="S1: the smesher ID names bob while alice signed")
    # S2
    yield rejected(world, world.solo("alice", 2, alice0_id, positioning=EMPTY), "s2_empty_positioning_atx",
                   "empty_positioning_atx", description="S2: the positioning ATX is 32 zero bytes")
    # S3
    only_bob = [world.certificate("bob", "alice", alice0_id)]
    yield rejected(world, world.solo("alice", 2, alice0_id, marriages=only_bob), "s3_no_self_marriage",
                   "no_self_marriage", description="S3: marriage certificates without the signer's own certificate")
    # S4: current epoch 30
    yield rejected(world, world.solo("alice", 32, alice0_id), "s4_publish_epoch_too_far", "publish_epoch_too_far", description="S4: publish epoch 32 with current epoch 30")
    yield accepted(world, world.solo("alice", 31, alice0_id), "s4_publish_epoch_next", base=10, ticks=10,
                   units=4, weight=40, posts=[post_json("alice", alice0_id, 4)], description="S4: publish epoch 31 = current epoch + 1 is accepted")
    # S5
    yield rejected(world, resign(world, solo, "alice", niposts=[]), "s5_solo_no_nipost", "solo_nipost_count", description="S5: a solo ATX without a NiPost")
    yield rejected(world, resign(world, solo, "alice", niposts=[solo.niposts[0]] * 2), "s5_solo_two_niposts",
                   "solo_nipost_count", description="S5: a solo ATX with two NiPosts")
    two_posts = [attrs.evolve(solo.niposts[0], posts=[solo.niposts[0].posts[0]] * 2)]
    yield rejected(world, resign(world, solo, "alice", niposts=two_posts), "s5_solo_two_posts", "solo_post_count", description="S5: a solo NiPost with two sub-posts")
    yield rejected(world, resign(world, solo, "alice", niposts=set_sub_post(solo, prev_atx_index=1)),
                   "s5_solo_prev_atx_index", "solo_prev_atx_index", description="S5: a solo sub-post naming previous ATX 1 instead of 0")
    # S6
    yield rejected(world, resign(world, alice0, "alice", marriage_atx=alice0_id), "s6_initial_with_marriage_atx",
                   "initial_with_marriage_atx", description="S6: an initial ATX naming a marriage ATX")
    no_commitment = attrs.evolve(alice0.initial, commitment_atx=EMPTY)
    yield rejected(world, resign(world, alice0, "alice", initial=no_commitment), "s6_initial_missing_commitment",
                   "initial_missing_commitment", description="S6: an initial ATX whose commitment ATX is 32 zero bytes")
    yield rejected(world, resign(world, alice0, "alice", previous_atxs=[alice0_id]), "s6_initial_with_previous",
                   "initial_with_previous", description="S6: an initial ATX naming a previous ATX")
    yield rejected(world, world.initial("bob", 2, num_units=4, vrf_nonce=3), "s6_initial_invalid_vrf_nonce",
                   "invalid_vrf_nonce", "the stub accepts a nonce iff nonce >= units (3 < 4)")
    bad_initial = attrs.evolve(alice0.initial, post=bad_post())
    yield rejected(world, resign(world, alice0, "alice", initial=bad_initial), "s6_invalid_initial_post",
                   "invalid_initial_post", description="S6: the initial PoST fails the stub verifier (an 0xff index byte)")
    # S7
    yield rejected(world, resign(world, solo, "alice", previous_atxs=[EMPTY]), "s7_empty_previous_atx",
                   "empty_previous_atx", description="S7: a previous ATX of 32 zero bytes")
    yield rejected(world, resign(world, solo, "alice", previous_atxs=[GOLDEN]), "s7_golden_previous_atx",
                   "golden_previous_atx", description="S7: the golden ATX named as previous ATX")
    # S8 (solo)
    yield rejected(world, resign(world, solo, "alice", previous_atxs=[alice0_id, alice0_id]),
                   "s8_solo_previous_count", "solo_previous_count", description="S8: a solo ATX naming two previous ATXs")
    # C1
    yield rejected(world, world.solo("alice", 2, alice0_id, positioning=bytes([9]) * 32), "c1_positioning_atx_missing",
                   "positioning_atx_missing", description="C1: a positioning ATX the store does not hold")
    bob0 = world.initial("bob", 2, num_units=4)
    world.submit(bob0)
    yield rejected(world, world.solo("alice", 2, alice0_id, positioning=world.atx_id(bob0)),
                   "c1_positioning_atx_too_new", "positioning_atx_too_new", description="C1: a positioning ATX published in the same epoch (bob's epoch-2 ATX)")
    # C3
    yield rejected(world, world.initial("carol", 3, commitment=bytes([7]) * 32), "c3_commitment_atx_missing",
                   "commitment_atx_missing", description="C3: an initial ATX whose commitment ATX is unknown")
    yield rejected(world, world.initial("carol", 2, commitment=world.atx_id(bob0)), "c3_commitment_atx_too_new",
                   "commitment_atx_too_new", description="C3: a commitment ATX from the ATX's own publish epoch")
    yield accepted(world, world.initial("carol", 3, commitment=world.atx_id(bob0), num_units=1), "c3_commitment_atx",
                   base=0, ticks=10, units=1, weight=10, posts=[post_json("carol", EMPTY, 1)], description="C3: an initial ATX committing to bob's older ATX is accepted")
    # C4
    yield rejected(world, world.solo("alice", 2, bytes([8]) * 32, positioning=alice0_id), "c4_previous_atx_missing",
                   "previous_atx_missing", description="C4: a previous ATX the store does not hold")
    yield rejected(world, world.solo("alice", 2, world.atx_id(bob0), positioning=alice0_id),
                   "c4_previous_atx_too_new", "previous_atx_too_new", description="C4: a previous ATX from the same publish epoch")
    # C6: bob's initial ATX has no post of alice
    yield rejected(world, world.solo("alice", 3, world.atx_id(bob0), positioning=alice0_id),
                   "c6_identity_not_in_previous", "identity_not_in_previous", description="C6: alice names bob's initial ATX as her previous ATX")
    # C7
    unknown_poet = [attrs.evolve(solo.niposts[0], challenge=bytes([3]) * 32)]
    yield rejected(world, resign(world, solo, "alice", niposts=unknown_poet), "c7_poet_proof_missing",
                   "poet_proof_missing", description="C7: a challenge for which no PoET proof is known")
    nodes = list(solo.niposts[0].membership.nodes)
    nodes[0] = bytes(32)
    tampered = [attrs.evolve(solo.niposts[0], membership=atx.MerkleProofV2(nodes))]
    yield rejected(world, resign(world, solo, "alice", niposts=tampered), "c7_invalid_membership",
                   "invalid_membership", description="C7: a membership proof with its first node zeroed")
    yield rejected(world, resign(world, solo, "alice", niposts=set_sub_post(solo, membership_leaf_index=1)),
                   "c7_wrong_leaf_index", "invalid_membership", description="C7: a membership proof for leaf 1 instead of 0")
    yield rejected(world, resign(world, solo, "alice", positioning_atx=GOLDEN), "c7_challenge_names_positioning",
                   "invalid_membership", "the registered challenge named another positioning ATX")
    # C9, C11
    yield rejected(world, world.solo("alice", 2, alice0_id, post=bad_post()), "c9_invalid_post", "invalid_post", description="C9: the sub-post's PoST fails the stub verifier (an 0xff index byte)")
    yield rejected(world, world.solo("alice", 2, alice0_id, num_units=6, vrf_nonce=5), "c11_invalid_vrf_nonce",
                   "invalid_vrf_nonce", "the nonce is checked against the declared units (6), not the effective 4")
    yield accepted(world, world.solo("alice", 2, alice0_id, num_units=6, vrf_nonce=6), "c11_vrf_nonce_declared_units",
                   base=10, ticks=10, units=4, weight=40, posts=[post_json("alice", alice0_id, 6)], description="C11: nonce 6 passes against the declared 6 units (effective units are 4)")
    # A known ID is not validated again: the stored ATX is returned.
    world.submit(solo)
    yield accepted(world, solo, "known_atx_returns_stored", base=10, ticks=10, units=4, weight=40,
                   posts=[post_json("alice", alice0_id, 6)], description="an ATX whose ID is already stored is not validated again: the stored ATX is returned")


def marriage_cases(scheme: Any, tag: str):
    world = World(scheme)
    alice0 = world.initial("alice", 1, num_units=4, leaf_index=1)
    world.submit(alice0)
    bob0 = world.initial("bob", 1, num_units=3, leaf_index=2)
    world.submit(bob0)
    alice0_id, bob0_id = world.atx_id(alice0), world.atx_id(bob0)
    certs = [world.certificate("alice", "alice", EMPTY), world.certificate("bob", "alice", bob0_id)]
    wedding = world.solo("alice", 2, alice0_id, marriages=certs)
    yield accepted(world, wedding, f"marriage_accepted_{tag}", base=10, ticks=10, units=4, weight=40,
                   posts=[post_json("alice", alice0_id, 4)], description="alice marries bob in a solo ATX")
    initial_wedding = world.initial("carol", 2, num_units=2, marriages=[world.certificate("carol", "carol", EMPTY),
                                                                        world.certificate("bob", "carol", bob0_id)])
    yield accepted(world, initial_wedding, f"marriage_in_initial_atx_{tag}", base=0, ticks=10, units=2, weight=20,
                   posts=[post_json("carol", EMPTY, 2)], description="carol marries bob in her initial ATX")
    if tag != "a":
        return
    yield rejected(world, world.solo("alice", 2, alice0_id, marriages=[certs[0], world.certificate("bob", "alice",
                                                                                                    bytes([5]) * 32)]),
                   "c2_reference_atx_missing", "reference_atx_missing", description="C2: bob's certificate names a reference ATX the store does not hold")
    yield rejected(world, world.solo("alice", 2, alice0_id, marriages=[certs[0], world.certificate("bob", "carol",
                                                                                                    bob0_id)]),
                   "c2_invalid_certificate", "invalid_certificate", "bob signed a marriage to carol, not alice")
    yield rejected(world, world.solo("alice", 2, alice0_id, marriages=[certs[0], certs[1], certs[1]]),
                   "c2_duplicate_certificate", "duplicate_certificate", description="C2: bob's certificate listed twice")
    yield rejected(world, world.solo("alice", 2, alice0_id, marriages=[certs[0], world.certificate("alice", "alice",
                                                                                                    alice0_id)]),
                   "c2_self_certificate_twice", "duplicate_certificate", description="C2: alice certifies herself a second time, with a reference ATX")


def merged_cases(scheme: Any, tag: str):
    world = World(scheme)
    ids = married_pair(world)
    m, bob1 = ids["marriage"], ids["bob_solo"]
    both = [Member("alice", 0, m, 4), Member("bob", 1, bob1, 5)]
    merged = world.merged("alice", 4, m, both, positioning=m)
    yield accepted(world, merged, f"merged_accepted_{tag}", base=20, ticks=10, units=7, weight=70,
                   posts=[post_json("alice", m, 4), post_json("bob", bob1, 5)],
                   description="bob's effective units are min(3, 5)")
    split = [Member("alice", 0, m, 4, nipost=0), Member("bob", 1, bob1, 3, nipost=1)]
    two = world.merged("alice", 4, m, split, positioning=m, leaf_counts=(1000, 2550))
    yield accepted(world, two, f"merged_two_niposts_{tag}", base=20, ticks=10, units=7, weight=4 * 10 + 3 * 25,
                   posts=[post_json("alice", m, 4), post_json("bob", bob1, 3)],
                   description="weight = sum of units x ticks per NiPost; tick count = the smallest")
    by_bob = world.merged("bob", 4, m, [Member("bob", 1, bob1, 3)], positioning=bob1)
    yield accepted(world, by_bob, f"merged_by_second_member_{tag}", base=20, ticks=10, units=3, weight=30,
                   posts=[post_json("bob", bob1, 3)], description="bob, the second member, publishes a merged ATX of his own sub-post")
    if tag != "a":
        return
    # Quirks
    shared = [Member("alice", 0, m, 4, leaf_index=0), Member("bob", 1, bob1, 3, leaf_index=0)]
    yield accepted(world, world.merged("alice", 4, m, shared, positioning=m), "quirk_shared_leaf_index_unchecked",
                   base=20, ticks=10, units=7, weight=70, posts=[post_json("alice", m, 4), post_json("bob", bob1, 3)],
                   description="bob's challenge (another previous ATX) is never checked: only the first sub-post "
                               "per leaf index is")
    zero = [Member("alice", 0, m, 4), Member("bob", 1, bob1, 0)]
    yield accepted(world, world.merged("alice", 4, m, zero, positioning=m), "quirk_zero_units",
                   base=20, ticks=10, units=4, weight=40, posts=[post_json("alice", m, 4), post_json("bob", bob1, 0)],
                   description="no ATX-level NumUnits bounds; a verifier without bounds (the stub) accepts 0 units")
    extra = world.merged("alice", 4, m, both, positioning=m, previous_atxs=[m, bob1, ids["bob_initial"]])
    yield accepted(world, extra, "quirk_unused_previous_atx", base=20, ticks=10, units=7, weight=70,
                   posts=[post_json("alice", m, 4), post_json("bob", bob1, 5)],
                   description="an unused entry of PreviousATXs is not rejected")
    # S8
    yield rejected(world, resign(world, merged, "alice", marriages=[world.certificate("alice", "alice", EMPTY)]),
                   "s8_merged_with_marriages", "merged_with_marriages", description="S8: a merged ATX that also carries marriage certificates")
    yield rejected(world, world.merged("alice", 4, m, [Member("alice", 0, m, 4), Member("bob", 0, bob1, 3)],
                                       positioning=m), "s8_duplicate_marriage_index", "duplicate_marriage_index", description="S8: two sub-posts naming marriage index 0")
    # C5
    yield rejected(world, world.merged("alice", 3, m, both, positioning=m), "c5_marriage_atx_too_new",
                   "marriage_atx_too_new", "the marriage ATX (epoch 2) must be at least 2 epochs older")
    carol0 = world.initial("carol", 1, num_units=2, leaf_index=3)
    world.submit(carol0)
    carol_id = world.atx_id(carol0)
    yield rejected(world, world.merged("carol", 4, m, [Member("carol", 0, carol_id, 2)], positioning=m),
                   "c5_not_married", "not_married", description="C5: carol merges under alice and bob's marriage ATX without being in it")
    yield rejected(world, world.merged("alice", 4, ids["alice_initial"], both, positioning=m),
                   "c5_marriage_atx_mismatch", "marriage_atx_mismatch", description="C5: the marriage ATX named is not the one alice married in")
    yield rejected(world, world.merged("alice", 4, m, [Member("alice", 0, m, 4), Member("bob", 2, bob1, 3)],
                                       positioning=m), "c5_marriage_index_out_of_range", "marriage_index_out_of_range", description="C5: marriage index 2 in a set of two")
    # C6
    swapped = world.merged("alice", 4, m, [Member("alice", 0, m, 4), Member("bob", 1, m, 3)], positioning=m)
    yield rejected(world, swapped, "c6_merged_identity_not_in_previous", "identity_not_in_previous",
                   "bob's sub-post names alice's marriage ATX, to which bob contributed nothing")
    yield rejected(world, resign(world, merged, "alice", niposts=set_sub_post(merged, post=1, prev_atx_index=7)),
                   "c6_prev_atx_index_out_of_range", "prev_atx_index_out_of_range", description="C6: bob's sub-post names previous ATX 7 of 2")
    # C7: a NiPost without sub-posts has no leaf to prove
    empty_nipost = list(merged.niposts) + [attrs.evolve(merged.niposts[0], posts=[])]
    yield rejected(world, resign(world, merged, "alice", niposts=empty_nipost), "c7_nipost_without_posts",
                   "membership_malformed", description="C7: a NiPost without sub-posts has no leaf to prove (membership_malformed)")
    # C9
    yield rejected(world, world.merged("alice", 4, m, [Member("alice", 0, m, 4), Member("bob", 1, bob1, 3,
                                                                                         post=bad_post())],
                                       positioning=m), "c9_invalid_post_of_member", "invalid_post", description="C9: bob's sub-post fails the stub verifier")
    # C10
    yield rejected(world, world.merged("alice", 4, m, [Member("bob", 1, bob1, 3)], positioning=m),
                   "c10_signer_not_included", "signer_not_included", description="C10: alice signs a merged ATX holding only bob's sub-post")
    yield rejected(world, resign(world, merged, "alice", niposts=[]), "c10_no_nipost", "signer_not_included", description="C10: a merged ATX without NiPosts does not include its signer")
    # C11: merged VRF nonce against the declared total 4 + 5 = 9
    yield rejected(world, world.merged("alice", 4, m, both, positioning=m, vrf_nonce=8), "c11_merged_vrf_nonce",
                   "invalid_vrf_nonce", description="C11: nonce 8 fails against the declared total 4 + 5 = 9 units (stub rule nonce >= units)")


def overflow_cases():
    # Units near 2^32: alice and bob each have MAX32 units.
    world = World()
    ids = married_pair(world, alice_units=MAX32, bob_units=MAX32)
    m, bob1 = ids["marriage"], ids["bob_solo"]
    members = [Member("alice", 0, m, MAX32), Member("bob", 1, bob1, MAX32)]
    yield accepted(world, world.merged("alice", 4, m, members, positioning=m), "quirk_units_addend_dropped",
                   base=20, ticks=10, units=MAX32, weight=MAX32 * 10,
                   posts=[post_json("alice", m, MAX32), post_json("bob", bob1, MAX32)],
                   description="bob's addend would overflow uint32 in the NiPost sum and is silently dropped")
    split = [Member("alice", 0, m, MAX32, nipost=0), Member("bob", 1, bob1, MAX32, nipost=1)]
    yield rejected(world, world.merged("alice", 4, m, split, positioning=m, leaf_counts=(1000, 1000)),
                   "c8_units_overflow", "units_overflow", "the sum over NiPosts is checked")
    wrap = [Member("alice", 0, m, MAX32), Member("bob", 1, bob1, 6)]
    yield accepted(world, world.merged("alice", 4, m, wrap, positioning=m, vrf_nonce=10), "quirk_total_units_wrap",
                   base=20, ticks=10, units=MAX32, weight=MAX32 * 10,
                   posts=[post_json("alice", m, MAX32), post_json("bob", bob1, 6)],
                   description="declared units MAX32 + 6 wrap to 5 for the VRF nonce check (stub: 10 >= 5)")
    # Ticks near 2^64 with tick size 1.
    world = World(tick_size=1)
    ids = married_pair(world, alice_units=2, bob_units=1)
    m, bob1 = ids["marriage"], ids["bob_solo"]
    base = 2000  # tick size 1: each ATX of the history has 1000 ticks
    huge = 2**64 - 1
    split = [Member("alice", 0, m, 1, nipost=0), Member("bob", 1, bob1, 1, nipost=1)]
    yield accepted(world, world.merged("alice", 4, m, split, positioning=m, leaf_counts=(huge, huge)),
                   "quirk_weight_sum_wraps", base=base, ticks=huge, units=2, weight=(2 * huge) % 2**64,
                   posts=[post_json("alice", m, 1), post_json("bob", bob1, 1)],
                   description="1 x (2^64-1) + 1 x (2^64-1) wraps modulo 2^64")
    two = [Member("alice", 0, m, 2), Member("bob", 1, bob1, 1)]
    yield rejected(world, world.merged("alice", 4, m, two, positioning=m, leaf_counts=(2**63,)), "c8_weight_overflow",
                   "weight_overflow", "3 units x 2^63 ticks does not fit in uint64")


def coexistence_cases():
    world = World()
    post = good_post(3)
    challenge = atx.NIPostChallengeV1(1, 0, EMPTY, GOLDEN, GOLDEN, post)
    nipost = atx.NIPostV1(atx.MerkleProofV1([], 0), good_post(4), atx.PostMetadataV1(bytes(32), 1024))
    v1 = atx.ActivationTxV1(atx.InnerActivationTxV1(challenge, bytes(24), 5, nipost, node_id("dave"), BIG_NONCE),
                            node_id("dave"), bytes(64))
    v1_id = world.submit_v1(v1, base_tick_height=0, tick_count=12)
    after = world.solo("dave", 2, v1_id, num_units=7)
    yield accepted(world, after, "v2_after_v1", base=12, ticks=10, units=5, weight=50,
                   posts=[post_json("dave", v1_id, 7)],
                   description="a v1 ATX as previous and positioning ATX: its NumUnits cap the effective units")
    # A v1 ATX that is not initial gives no commitment ATX.
    lone = attrs.evolve(v1, inner=attrs.evolve(v1.inner, challenge=attrs.evolve(challenge, commitment_atx_id=None,
                                                                                 initial_post=None,
                                                                                 prev_atx_id=GOLDEN, sequence=1),
                                              node_id=None), smesher_id=node_id("erin"))
    lone_id = world.submit_v1(lone, base_tick_height=0, tick_count=12)
    yield rejected(world, world.solo("erin", 2, lone_id, num_units=5), "c9_commitment_unknown", "commitment_unknown", description="C9: erin's only previous ATX is a non-initial v1 ATX, so no commitment ATX is known")


@vector_source("atx", "validate", "v2")
def test_validation_vectors():
    for tag, scheme in (("a", atx.IdScheme.A), ("b", atx.IdScheme.B)):
        yield from solo_cases(scheme, tag)
        yield from marriage_cases(scheme, tag)
        yield from merged_cases(scheme, tag)
    yield from overflow_cases()
    yield from coexistence_cases()


def test_every_rejection_reason_has_a_case():
    import re
    from pathlib import Path

    doc = (Path(atx.__file__)).read_text()
    table = doc[doc.index("| rule | reason |"):doc.index("#### `validate_syntax_v2`")]
    reasons = set(re.findall(r"`([a-z0-9_]+)`", table))
    covered = {c.reason for c in test_validation_vectors.vector_source.cases() if c.reason}
    # marriage_atx_missing needs a marriage record without its ATX, which a consistent store never holds.
    assert reasons - covered == {"marriage_atx_missing"}


def test_stub_rules_reach_the_verifier_with_declared_units():
    calls = []

    class Recorder:
        def verify_post(self, *args):
            calls.append(("post", args[4]))

        def verify_vrf_nonce(self, node, commitment, nonce, units):
            calls.append(("vrf", units))

    world = World()
    world.verifier = Recorder()
    alice0 = world.initial("alice", 1, num_units=4)
    world.submit(alice0)
    world.submit(world.solo("alice", 2, world.atx_id(alice0), num_units=9))
    assert calls == [("vrf", 4), ("post", 4), ("post", 4), ("post", 9), ("vrf", 9)]


def test_store_keeps_first_blob_for_an_id():
    world = World()
    alice0 = world.initial("alice", 1)
    stored, _ = world.submit(alice0)
    blob = scale.encode(alice0, atx.ActivationTxV2)
    assert atx.process_atx_v2(blob, world.store, world.config, world.verifier) is stored
    assert len(world.store.atxs) == 1


@pytest.mark.parametrize("reason", ["invalid_signature"])
def test_validate_raises_invalid_atx(reason):
    world = World()
    alice0 = world.initial("alice", 1)
    broken = attrs.evolve(alice0, signature=bytes(64))
    with pytest.raises(atx.InvalidAtx) as error:
        atx.validate_atx_v2(broken, world.store, world.config, world.verifier)
    assert error.value.reason == reason


def test_spec_post_verifier_checks_every_index():
    # atx.md, K3 subset seeded by the receiver: the spec's verifier passes k3 = K2 (every index),
    # not a K3 subset, to post.md's verify_proof.
    seen: dict[str, Any] = {}

    class Config:
        k2, k3 = 37, 5

    class Post:
        @staticmethod
        def Proof(nonce, indices, pow):  # noqa: N802 - post.md's class name
            return (nonce, indices, pow)

        @staticmethod
        def preset_config():
            return Config

        @staticmethod
        def verify_proof(proof, challenge, node_id, commitment_atx, num_units, config, k3):
            seen.update(proof=proof, k3=k3)

    post = atx.PostV1(nonce=3, indices=b"\x01", pow=9)
    atx.SpecPostVerifier(Post).verify_post(bytes(32), bytes(32), bytes(32), post, 4)
    assert seen == {"proof": (3, b"\x01", 9), "k3": 37}
