"""ATX validation with real PoST verification (spec/post.md, tiny preset) through `SpecPostVerifier`.

alice initializes 2 units of tiny PoST data, proves the initial PoST (zero challenge) and the
PoSTs for her PoET proofs, and her initial and solo ATXs are accepted by the real verifier. A
PoST with one altered index is rejected, and the invalid-PoST malfeasance proof built from it
(one passing and one failing position) verifies with the real verifier.
"""

from __future__ import annotations

import attrs
import pytest
from smspec.spec import load
from smspec.tests.spec.atx.builders import EMPTY, GOLDEN, World, atx, mal, node_id
from smspec.tests.spec.post.helpers import needs_randomx

UNITS = 2


@pytest.fixture(scope="module", autouse=True)
def impl_backend():
    """The PoST impl (cached RandomX VM, fast labels; differential-tested against spec/post.md)
    keeps this under a few seconds; every replacement in force is differential-tested."""
    from smspec.impl import registry

    previous = registry.active_backend()
    registry.use_backend("impl")
    yield
    registry.use_backend(previous)


@pytest.fixture(scope="module")
def tiny_alice(tmp_path_factory, impl_backend):
    post = load("post", "tiny")
    datadir = str(tmp_path_factory.mktemp("alice-post"))
    metadata = post.initialize(datadir, node_id("alice"), GOLDEN, UNITS, post.LABELS_PER_UNIT, post.MAX_FILE_SIZE,
                               post.SCRYPT_N)

    def prove(challenge: bytes):
        proof = post.generate_proof(datadir, challenge, 16)
        return atx.PostV1(proof.nonce, proof.indices, proof.pow)

    return post, metadata, prove


@needs_randomx
def test_real_post_accept_reject_and_invalid_post_proof(tiny_alice):
    post, metadata, prove = tiny_alice
    world = World(atx.IdScheme.B)
    world.verifier = atx.SpecPostVerifier(post)
    # Initial ATX: the initial PoST answers the zero challenge, the sub-post the PoET proof.
    initial_post = prove(EMPTY)
    challenge = atx.challenge_hash_v2(atx.NIPostChallengeV2(1, EMPTY, GOLDEN, initial_post))
    ref, _ = world.poet({1: challenge}, 1000)
    initial = world.initial("alice", 1, num_units=UNITS, vrf_nonce=metadata.nonce, initial_post=initial_post,
                            post=prove(ref))
    stored, finding = world.submit(initial)
    assert stored.weight == UNITS * 10 and finding is None
    initial_id = world.atx_id(initial)
    # Solo ATX in epoch 2 with a real PoST for its PoET proof.
    challenge = atx.challenge_hash_v2(atx.NIPostChallengeV2(2, initial_id, initial_id, None))
    ref, _ = world.poet({0: challenge}, 1000)
    good = prove(ref)
    solo = world.solo("alice", 2, initial_id, num_units=UNITS, vrf_nonce=metadata.nonce, post=good)
    validated = atx.validate_atx_v2(solo, world.store, world.config, world.verifier)
    assert validated.weight == UNITS * 10
    # The VRF nonce must be valid for alice's data.
    wrong_nonce = world.solo("alice", 2, initial_id, num_units=UNITS, vrf_nonce=metadata.nonce + 1, post=good)
    if not post.verify_vrf_nonce(node_id("alice"), GOLDEN, UNITS, metadata.nonce + 1):
        with pytest.raises(atx.InvalidAtx) as error:
            atx.validate_atx_v2(wrong_nonce, world.store, world.config, world.verifier)
        assert error.value.reason == "invalid_vrf_nonce"
    # Alter the first proven index: that position fails, the others still pass.
    bits = post.required_bits(UNITS * post.LABELS_PER_UNIT)
    indices = post.decompress_indices(good.indices, bits)[: post.K2]
    config = post.preset_config()
    arguments = (node_id("alice"), GOLDEN, ref)
    for replacement in range(UNITS * post.LABELS_PER_UNIT):
        if replacement in indices:
            continue
        altered = attrs.evolve(good, indices=post.compress_indices([replacement, *indices[1:]], bits))
        if not world.verifier.verify_post_index(*arguments, altered, UNITS, 0):
            break
    assert world.verifier.verify_post_index(*arguments, altered, UNITS, 1)
    bad = world.solo("alice", 2, initial_id, num_units=UNITS, vrf_nonce=metadata.nonce, post=altered)
    with pytest.raises(atx.InvalidAtx) as error:
        atx.validate_atx_v2(bad, world.store, world.config, world.verifier)
    assert error.value.reason == "invalid_post"
    finding = mal.invalid_post_finding(bad, node_id("alice"), 0, GOLDEN, config.k2, world.store, world.config,
                                       world.verifier)
    assert finding.proof.invalid_post_proof.invalid_post_index == 0
    assert mal.verify_invalid_post(finding.proof, world.config, world.verifier) == node_id("alice")
    # The same proof against the honest PoST does not convict.
    honest = attrs.evolve(finding.proof.invalid_post_proof, post=good)
    with pytest.raises(mal.InvalidProof):
        mal.verify_invalid_post(attrs.evolve(finding.proof, invalid_post_proof=honest), world.config, world.verifier)


@needs_randomx
def test_zero_units_rejected_by_real_verifier(tiny_alice):
    """atx.md decision on the skipped NumUnits bounds: post-rs's verifier rejects 0 units."""
    post, _, prove = tiny_alice
    verifier = atx.SpecPostVerifier(post)
    proof = prove(bytes([1]) * 32)
    verifier.verify_post(node_id("alice"), GOLDEN, bytes([1]) * 32, proof, UNITS)
    with pytest.raises(post.InvalidProof) as error:
        verifier.verify_post(node_id("alice"), GOLDEN, bytes([1]) * 32, proof, 0)
    assert error.value.reason == "num_units_too_small"
