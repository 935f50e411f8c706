"""ATX v3 (spec/atx_best.md) behaviour beyond the vectors: version dispatch, sampled verifiers
and the invalid-entry proof, v2 proofs over v3 ATXs, chains of v3 ATXs, proofs reused across
sets, and both ID schemes."""

from __future__ import annotations

import attrs
import blake3
import pytest
from smspec.tests.spec.atx.best_builders import (
    BestMember,
    BestWorld,
    best,
    pb,
    scale,
    solo_history,
)
from smspec.tests.spec.atx.builders import EMPTY, GOLDEN, atx, good_post, mal, node_id
from smspec.tests.spec.atx.test_best_vectors import (
    alice_solo,
    detections,
    forged_but_sampled_past,
    merged,
    merged_world,
    solo_world,
    with_proof,
)

SCHEMES = (atx.IdScheme.A, atx.IdScheme.B)


def test_handle_atx_dispatches_by_publish_epoch():
    world, ids = solo_world()
    value = alice_solo(world, ids)
    stored, finding = best.handle_atx(world.blob_v3(value), world.store, world.config, world.verifier, world.best_verifier)
    assert stored.version == best.ATX_V3 and finding is None
    # The same blob again is known: returned as stored, nothing is checked again.
    again, _ = best.handle_atx(world.blob_v3(value), world.store, world.config, world.verifier, world.best_verifier)
    assert again is stored
    # A v2 ATX of epoch 2 goes through the v2 pipeline.
    v2 = world.solo("bob", 2, ids["bob"], num_units=1)
    stored_v2, _ = best.handle_atx(world.blob(v2), world.store, world.config, world.verifier, world.best_verifier)
    assert stored_v2.version == atx.ATX_V2
    # A v3 blob published in a v2 epoch is decoded as v2, and fails to decode.
    early = alice_solo(world, ids)
    early = world.sign_v3(attrs.evolve(early, publish_epoch=2), "alice")
    with pytest.raises(Exception) as error:
        best.handle_atx(world.blob_v3(early), world.store, world.config, world.verifier, world.best_verifier)
    assert type(error.value).__name__ in ("InvalidEncoding", "InvalidAtx")
    # Versions 1 are not validated here.
    v1_config = attrs.evolve(world.config, atx_versions=())
    with pytest.raises(atx.InvalidAtx) as refused:
        best.handle_atx(world.blob_v3(value), world.store, v1_config, world.verifier, world.best_verifier)
    assert refused.value.reason == "unsupported_version"


@pytest.mark.parametrize("scheme", SCHEMES)
def test_accepted_under_both_schemes_and_ids_differ(scheme):
    world = BestWorld(scheme)
    ids = solo_history(world, ["alice"], units=2)
    value = alice_solo(world, ids)
    stored, finding = world.submit_v3(value)
    assert finding is None and stored.id == best.atx_id_v3(value, scheme)
    other = atx.IdScheme.B if scheme == atx.IdScheme.A else atx.IdScheme.A
    assert best.atx_id_v3(value, other) != stored.id


def test_a_chain_of_v3_atxs_uses_the_declared_units_of_the_previous_v3_atx():
    world, ids = solo_world()
    first, _ = world.submit_v3(alice_solo(world, ids))
    assert first.posts[0].units == 2
    # alice now declares 4 SU: her effective units are the 2 she declared before.
    second = world.v3("alice", 4, [BestMember("alice", 0, first.id, 4)], positioning=first.id)
    validated = best.validate_atx_v3(second, world.store, world.config, world.verifier, world.best_verifier)
    assert validated.weight_labels <= 2 * 2 * pb.LABELS_PER_UNIT
    assert validated.posts[0].units == 4 and validated.posts[0].previous == first.id


def test_sampling_verifier_accepts_a_forgery_that_the_full_check_rejects_and_the_proof_convicts():
    world, forged, seed = forged_but_sampled_past()
    sampled = best.SpecBestVerifier(4, seed)
    validated = best.validate_atx_v3(forged, world.store, world.config, world.verifier, sampled)
    honest_labels = ((pb.POST_BEST_K - 1) << 64) // (forged.nipost.proof.kth_score * 4 // 3 + 1)
    assert validated.weight_labels > honest_labels  # the forgery claims more than the data gives
    with pytest.raises(atx.InvalidAtx) as error:
        best.validate_atx_v3(forged, world.store, world.config, world.verifier, best.SpecBestVerifier())
    assert error.value.reason == "best_score_above_kth"
    finding = best.invalid_entry_finding(forged, world.store, world.config)
    assert finding.node_id == node_id("alice") and finding.proof_type == mal.PROOF_BEST_INVALID_ENTRY
    envelope = mal.ATXProof(mal.ATX_PROOF_VERSION, finding.proof_type, scale.encode(finding.proof, best.ProofBestInvalidEntry))
    assert best.verify_atx_proof_v3(envelope, world.config, world.verifier) == node_id("alice")
    # A node that knows only malfeasance.md does not know the type.
    with pytest.raises(mal.InvalidProof) as unknown:
        mal.verify_atx_proof(envelope, world.config, world.verifier)
    assert unknown.value.reason == "unknown_proof_type"


def test_honest_atx_has_no_invalid_entry():
    world, ids = solo_world()
    assert best.invalid_entry_finding(alice_solo(world, ids), world.store, world.config) is None


@pytest.mark.parametrize("scheme", SCHEMES)
def test_v2_proofs_verify_v3_atxs_with_the_v2_verifier(scheme):
    """Double marriage and double merge of v3 ATXs are proven in v2's formats, which a node that
    knows only malfeasance.md verifies: v3 keeps leaves 0, 7 and 8 of the ATX tree."""
    convicted = {}
    for name, world, offending, culprit, proof_type, _ in detections_under(scheme):
        _, finding = world.submit_v3(offending)
        assert finding.node_id == node_id(culprit)
        if proof_type in (mal.PROOF_DOUBLE_MARRY, mal.PROOF_DOUBLE_MERGE):
            body = scale.encode(finding.proof, type(finding.proof))
            envelope = mal.ATXProof(mal.ATX_PROOF_VERSION, proof_type, body)
            convicted[name] = mal.verify_atx_proof(envelope, world.config, world.verifier)
        else:
            envelope = mal.ATXProof(mal.ATX_PROOF_VERSION, proof_type, scale.encode(finding.proof, type(finding.proof)))
            convicted[name] = best.verify_atx_proof_v3(envelope, world.config, world.verifier)
    assert convicted == {"double_set": node_id("m1"), "double_merge": node_id("m2"), "double_marry": node_id("m1")}


def detections_under(scheme):
    """The vectors' detection scenarios, rebuilt under `scheme`."""
    import smspec.tests.spec.atx.test_best_vectors as vectors

    original = vectors.BestWorld
    vectors.BestWorld = lambda: original(scheme)  # type: ignore[assignment,misc]
    try:
        return detections()
    finally:
        vectors.BestWorld = original


def test_a_proof_reused_for_another_set_is_rejected_by_every_verifier():
    """The proof of {m0, m1} in an ATX that declares {m0, m1, m2}: its entries are scored under
    the other set's keys, so every sampled verifier finds an entry above the K-th score."""
    world, info = merged_world()
    two = merged(world, info, ["m0", "m1"])
    three = merged(world, info, ["m0", "m1", "m2"])
    reused = with_proof(world, three, "m0", kth_score=two.nipost.proof.kth_score, groups=two.nipost.proof.groups)
    for n in range(20):
        with pytest.raises(atx.InvalidAtx) as error:
            best.validate_atx_v3(reused, world.store, world.config, world.verifier, best.SpecBestVerifier(4, bytes([n])))
        assert error.value.reason == "best_score_above_kth"


def test_dropped_data_lowers_the_weight_and_is_not_malfeasance():
    """A member that kept half of its labels proves honestly over what it has: a valid ATX with
    a lower weight (the K-th score of the labels held)."""
    world, ids = solo_world()
    full = alice_solo(world, ids)
    half = world.v3("alice", 3, [BestMember("alice", 0, ids["alice"], 2, kept=0.5)], positioning=ids["alice"])
    for value in (full, half):
        best.validate_atx_v3(value, world.store, world.config, world.verifier, world.best_verifier)
    # Different PoET rounds, so the K-th scores are independent; the weights are checked in the
    # property tests. Here: the half proof names labels of the first half only.
    entries = pb.proof_entries(half.nipost.proof)
    assert all(index < pb.LABELS_PER_UNIT for _, index in entries)


def test_initial_v3_atx_starts_a_chain():
    world = BestWorld()
    value = world.v3("carol", 3, [BestMember("carol", 0, EMPTY, 1)], positioning=GOLDEN, initial_post=good_post(7))
    stored, _ = world.submit_v3(value)
    assert stored.commitment_atx == GOLDEN and world.store.commitment_atx(node_id("carol")) == GOLDEN
    nxt = world.v3("carol", 4, [BestMember("carol", 0, stored.id, 1)], positioning=stored.id)
    stored_next, finding = world.submit_v3(nxt)
    assert finding is None and stored_next.base_tick_height == stored.tick_height()


def test_marriage_in_a_v3_atx_then_merged_v3_atx():
    """Sets form after the switch to v3: a v3 ATX marries, a merged v3 ATX follows two epochs later."""
    world = BestWorld()
    ids = solo_history(world, ["x0", "x1"])
    certificates = [world.certificate("x0", "x0", EMPTY), world.certificate("x1", "x0", ids["x1"])]
    wedding = world.v3("x0", 3, [BestMember("x0", 0, ids["x0"], 1)], positioning=ids["x0"], marriages=certificates)
    wedding_stored, _ = world.submit_v3(wedding)
    x1_next, _ = world.submit_v3(world.v3("x1", 3, [BestMember("x1", 0, ids["x1"], 1)], positioning=ids["x1"]))
    members = [BestMember("x0", 0, wedding_stored.id, 1), BestMember("x1", 1, x1_next.id, 1)]
    value = world.v3("x0", 5, members, positioning=wedding_stored.id, marriage_atx=wedding_stored.id)
    stored, finding = world.submit_v3(value)
    assert finding is None and [p.node_id for p in stored.posts] == [node_id("x0"), node_id("x1")]
    assert world.store.marriage(node_id("x1")).marriage_atx == wedding_stored.id


def test_sqlite_store_holds_v3_atxs():
    from smspec.impl.atx import SqliteAtxStore

    world, ids = solo_world()
    store = SqliteAtxStore(atx)
    value = alice_solo(world, ids)
    for poet in world.poets:
        store.add_poet_proof(atx.PoetProofInfo(poet["ref"], poet["membership_root"], poet["leaf_count"]))
    for entry in world.history:
        mal.handle_atx_v2(entry["v2"], store, world.config, world.verifier)
    stored, _ = best.handle_atx_v3(world.blob_v3(value), store, world.config, world.verifier, world.best_verifier)
    again = store.get_atx(stored.id)
    assert again == stored and again.version == 3


def test_v3_challenge_is_hashed_after_its_own_domain_byte():
    # atx_best.md, challenge domain: 0x03 before the v3 challenge, where v1 and v2 use 0x00.
    world, ids = solo_world()
    challenge = best.atx_challenge_v3(alice_solo(world, ids))
    body = scale.encode(challenge, best.NIPostChallengeV3)
    assert best.CHALLENGE_PREFIX_V3 == b"\x03" != atx.CHALLENGE_PREFIX
    assert best.challenge_hash_v3(challenge) == blake3.blake3(b"\x03" + body).digest()


def test_an_older_previous_atx_of_a_v3_member_is_not_malfeasance():
    # atx_best.md, no previous-ATX collision rule: alice's second v3 ATX names her initial ATX
    # again, not her newest (epoch 3) ATX; it is accepted and nobody is convicted.
    world, ids = solo_world()
    first, _ = world.submit_v3(alice_solo(world, ids))
    stale = world.v3("alice", 4, [BestMember("alice", 0, ids["alice"], 2)], positioning=first.id)
    stored, finding = world.submit_v3(stale)
    assert finding is None
    assert stored.posts[0].previous == ids["alice"] != first.id
    assert not world.store.is_malicious(node_id("alice"))
