"""More ATX vectors: process_atx_v2 (atx/validate/process), the invalid-PoST finding
(atx/malfeasance/invalid_post), and validation with real PoST data and post.md's verifier
(verifier "spec", tiny preset).

Known answers: accepted ATXs' stored fields follow from the scenario as in test_validate.py;
the invalid-PoST scenario fails at position 2 of bob's stub PoST (bad_post), so the proof names
the first passing position and the failing one; the real-PoST ATXs are valid by construction
(alice's data, proofs and VRF nonce come from post.md's initializer and prover).
"""

from __future__ import annotations

import tempfile

import attrs
from smspec.conformance.cases import Case, output_fields, vector_source
from smspec.spec import load

from .builders import EMPTY, GOLDEN, Member, World, atx, mal, married_pair, node_id
from .test_malfeasance import invalid_post_proof
from .test_validate import post_json


@vector_source("atx", "validate", "process")
def test_process_vectors():
    ref = "atx.md#process_atx_v2"
    world = World()
    alice0 = world.initial("alice", 1, num_units=4)
    expected = {"id": "0x" + world.atx_id(alice0).hex(), "base_tick_height": 0, "tick_count": 10, "tick_height": 10,
                "num_units": 4, "weight": 40, "posts": [post_json("alice", EMPTY, 4)]}
    yield Case("initial_accepted", inputs=world.inputs(alice0), expected=expected, spec_ref=ref,
               description="an initial ATX is validated and stored; no malfeasance detection runs")
    world.submit(alice0)
    yield Case("known_returns_stored", inputs=world.inputs(alice0), expected=expected, spec_ref=ref,
               description="the same ATX again: its ID is stored, the stored ATX is returned")
    yield Case("rejected", inputs=world.inputs(world.solo("alice", 32, world.atx_id(alice0))), error="InvalidAtx",
               reason="publish_epoch_too_far", spec_ref=ref, description="S4 applies as in atx/validate/v2")
    yield Case("undecodable", inputs=world.inputs(b"\x00"), error="InvalidEncoding", spec_ref=ref,
               description="one byte is not an ATX")


@vector_source("atx", "malfeasance", "invalid_post")
def test_invalid_post_vectors():
    ref = "malfeasance.md#invalid_post_finding"
    for scheme, tag in ((atx.IdScheme.B, "b"), (atx.IdScheme.A, "a")):
        finding, world, offending = invalid_post_proof(scheme)
        inputs = {**world.inputs(offending), "node_id": node_id("bob"), "nipost_index": 0,
                  "commitment_atx": world.store.commitment_atx(node_id("bob")), "k2": 4}
        known = {"node_id": "0x" + node_id("bob").hex(), "proof_type": mal.PROOF_INVALID_POST}
        if scheme == atx.IdScheme.A:
            yield Case(f"bob_fails_at_2_{tag}", inputs=inputs, expected={"finding": {**known, "proof": None}}, spec_ref=ref,
                       description="scheme A has no invalid-PoST proof format: a finding without a proof")
            continue

        def check(output: dict, known=known) -> None:
            assert {k: output["finding"][k] for k in known} == known and output["finding"]["proof"].startswith("0x")
        yield Case(f"bob_fails_at_2_{tag}", inputs=inputs, check=check, spec_ref=ref,
                   description="bob's stub PoST fails at position 2: a proof with a passing and the failing position")
        honest = {**inputs, "node_id": node_id("alice"), "commitment_atx": world.store.commitment_atx(node_id("alice"))}
        yield Case(f"alice_passes_everywhere_{tag}", inputs=honest, expected={"finding": None}, spec_ref=ref,
                   description="alice's PoST passes every position: no proof can be built")
    world = World(atx.IdScheme.B)
    ids = married_pair(world)
    m, bob1 = ids["marriage"], ids["bob_solo"]
    all_bad = atx.PostV1(nonce=0, indices=bytes([0xFF] * 4), pow=1)
    offending = world.merged("alice", 4, m, [Member("alice", 0, m, 4), Member("bob", 1, bob1, 3, post=all_bad)],
                             positioning=m)
    inputs = {**world.inputs(offending), "node_id": node_id("bob"), "nipost_index": 0,
              "commitment_atx": world.store.commitment_atx(node_id("bob")), "k2": 4}
    yield Case("no_passing_position", inputs=inputs, expected={"finding": None}, spec_ref=ref,
               description="bob's PoST fails at every position: the proof needs a passing one, none is built")


def real_world():
    """alice with 2 units of real tiny PoST data: her initial ATX, and the PoST prover."""
    post = load("post", "tiny")
    datadir = tempfile.mkdtemp(prefix="smspec-real-post-")
    metadata = post.initialize(datadir, node_id("alice"), GOLDEN, 2, post.LABELS_PER_UNIT, post.MAX_FILE_SIZE,
                               post.SCRYPT_N)

    def prove(challenge: bytes):
        proof = post.generate_proof(datadir, challenge, 16)
        return atx.PostV1(proof.nonce, proof.indices, proof.pow)

    world = World(atx.IdScheme.B)
    world.verifier = atx.SpecPostVerifier(post)
    initial_post = prove(EMPTY)
    challenge = atx.challenge_hash_v2(atx.NIPostChallengeV2(1, EMPTY, GOLDEN, initial_post))
    ref, _ = world.poet({1: challenge}, 1000)
    initial = world.initial("alice", 1, num_units=2, vrf_nonce=metadata.nonce, initial_post=initial_post, post=prove(ref))
    return post, metadata, prove, world, initial


@vector_source("atx", "validate", "v2", presets=("tiny",))
def test_real_post_vectors():
    ref = "atx.md#specpostverifier"
    post, metadata, prove, world, initial = real_world()
    inputs = {**world.inputs(initial), "verifier": "spec"}
    yield Case("real_post_initial_accepted", inputs=inputs, check=output_fields(num_units=2, weight=20), spec_ref=ref,
               description="an initial ATX with real tiny PoST data, verified by post.md (K3 = K2) and a real VRF nonce")
    world.submit(initial)
    initial_id = world.atx_id(initial)
    challenge = atx.challenge_hash_v2(atx.NIPostChallengeV2(2, initial_id, initial_id, None))
    poet_ref, _ = world.poet({0: challenge}, 1000)
    good = prove(poet_ref)
    solo = world.solo("alice", 2, initial_id, num_units=2, vrf_nonce=metadata.nonce, post=good)
    yield Case("real_post_solo_accepted", inputs={**world.inputs(solo), "verifier": "spec"},
               check=output_fields(num_units=2, weight=20), spec_ref=ref,
               description="her solo ATX in epoch 2 with a real PoST for its PoET proof")
    bits = post.required_bits(2 * post.LABELS_PER_UNIT)
    indices = post.decompress_indices(good.indices, bits)[: post.K2]
    for replacement in range(2 * post.LABELS_PER_UNIT):
        altered = attrs.evolve(good, indices=post.compress_indices([replacement, *indices[1:]], bits))
        if replacement not in indices and not world.verifier.verify_post_index(node_id("alice"), GOLDEN, poet_ref,
                                                                               altered, 2, 0):
            break
    bad = world.solo("alice", 2, initial_id, num_units=2, vrf_nonce=metadata.nonce, post=altered)
    yield Case("real_post_altered_index", inputs={**world.inputs(bad), "verifier": "spec"}, error="InvalidAtx",
               reason="invalid_post", spec_ref=ref,
               description="the first proven index replaced by one whose label fails: the real verifier rejects it")
    nonce = next(n for n in range(metadata.nonce + 1, 10**6)
                 if not post.verify_vrf_nonce(node_id("alice"), GOLDEN, 2, n))
    wrong = world.solo("alice", 2, initial_id, num_units=2, vrf_nonce=nonce, post=good)
    yield Case("real_post_wrong_vrf_nonce", inputs={**world.inputs(wrong), "verifier": "spec"}, error="InvalidAtx",
               reason="invalid_vrf_nonce", spec_ref=ref,
               description=f"VRF nonce {nonce}: its label is not below the difficulty for alice's data")


@vector_source("atx", "malfeasance", "invalid_post", presets=("tiny",))
def test_real_post_invalid_post_vectors():
    post, metadata, prove, world, initial = real_world()
    world.submit(initial)
    initial_id = world.atx_id(initial)
    challenge = atx.challenge_hash_v2(atx.NIPostChallengeV2(2, initial_id, initial_id, None))
    poet_ref, _ = world.poet({0: challenge}, 1000)
    good = prove(poet_ref)
    bits = post.required_bits(2 * post.LABELS_PER_UNIT)
    indices = post.decompress_indices(good.indices, bits)[: post.K2]
    for replacement in range(2 * post.LABELS_PER_UNIT):
        altered = attrs.evolve(good, indices=post.compress_indices([replacement, *indices[1:]], bits))
        if replacement not in indices and not world.verifier.verify_post_index(node_id("alice"), GOLDEN, poet_ref,
                                                                               altered, 2, 0):
            break
    bad = world.solo("alice", 2, initial_id, num_units=2, vrf_nonce=metadata.nonce, post=altered)
    inputs = {**world.inputs(bad), "verifier": "spec", "node_id": node_id("alice"), "nipost_index": 0,
              "commitment_atx": GOLDEN, "k2": post.K2}

    def check(output: dict) -> None:
        assert output["finding"]["node_id"] == "0x" + node_id("alice").hex()
        assert output["finding"]["proof_type"] == mal.PROOF_INVALID_POST and output["finding"]["proof"]
    yield Case("real_post_first_index_fails", inputs=inputs, check=check, spec_ref="malfeasance.md#invalid_post_finding",
               description="alice's real PoST with its first index replaced: position 0 fails, position 1 passes "
               "(post.md's verifier, one index at a time): an invalid-PoST proof")
