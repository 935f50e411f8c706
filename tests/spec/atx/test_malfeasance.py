"""ATX malfeasance: detection after storing, proof formats, verification (valid and invalid)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from smspec.conformance.cases import Case, to_json, vector_source
from smspec.conformance.handlers.atx import config_json
from smspec.tests.spec.atx.builders import (
    COINBASE,
    EMPTY,
    Member,
    World,
    atx,
    bad_post,
    mal,
    married_pair,
    node_id,
    scale,
)


def hexid(name: str) -> str:
    return "0x" + node_id(name).hex()


def envelope(proof_type: int, proof: Any) -> bytes:
    body = scale.encode(proof, type(proof))  # a proof's class is its codec
    return scale.encode(mal.ATXProof(mal.ATX_PROOF_VERSION, proof_type, body), mal.ATXProof)


def detections(scheme: Any) -> list[tuple[str, World, Any, str, int, list[str]]]:
    """(name, world before, offending ATX, convicted, proof type, malicious identities)."""
    found = []
    # Double marriage: bob married alice, then also certifies carol's marriage.
    world = World(scheme)
    ids = married_pair(world)
    carol0 = world.initial("carol", 1, num_units=2, leaf_index=3)
    world.submit(carol0)
    certs = [world.certificate("carol", "carol", EMPTY), world.certificate("bob", "carol", ids["bob_initial"])]
    offending = world.solo("carol", 2, world.atx_id(carol0), marriages=certs, num_units=2)
    found.append(("double_marry", world, offending, "bob", mal.PROOF_DOUBLE_MARRY, ["alice", "bob", "carol"]))
    # Double merge: alice and bob each publish a merged ATX for the same marriage in epoch 4.
    world = World(scheme)
    ids = married_pair(world)
    m = ids["marriage"]
    world.submit(world.merged("alice", 4, m, [Member("alice", 0, m, 4)], positioning=m))
    offending = world.merged("bob", 4, m, [Member("bob", 1, ids["bob_solo"], 3)], positioning=m)
    found.append(("double_merge", world, offending, "bob", mal.PROOF_DOUBLE_MERGE, ["alice", "bob"]))
    # Double post: two solo ATXs of alice in epoch 2 naming the same previous ATX.
    world = World(scheme)
    alice0 = world.initial("alice", 1)
    world.submit(alice0)
    world.submit(world.solo("alice", 2, world.atx_id(alice0)))
    offending = world.solo("alice", 2, world.atx_id(alice0), coinbase=bytes(24))
    found.append(("double_post", world, offending, "alice", mal.PROOF_INVALID_PREVIOUS_V2, ["alice"]))
    # Invalid previous: in epoch 3 alice names her initial ATX again instead of her epoch-2 ATX.
    world = World(scheme)
    alice0 = world.initial("alice", 1)
    world.submit(alice0)
    world.submit(world.solo("alice", 2, world.atx_id(alice0)))
    offending = world.solo("alice", 3, world.atx_id(alice0))
    found.append(("invalid_previous", world, offending, "alice", mal.PROOF_INVALID_PREVIOUS_V2, ["alice"]))
    # Double post through a merged ATX: bob publishes solo and is also merged by alice in epoch 4.
    world = World(scheme)
    ids = married_pair(world)
    m, bob1 = ids["marriage"], ids["bob_solo"]
    world.submit(world.solo("bob", 4, bob1))
    offending = world.merged("alice", 4, m, [Member("alice", 0, m, 4), Member("bob", 1, bob1, 3)], positioning=m)
    found.append(("merged_double_post", world, offending, "bob", mal.PROOF_INVALID_PREVIOUS_V2, ["alice", "bob"]))
    # Invalid previous against a v1 ATX: dave's v1 chain, then a v2 ATX naming a stale v1 ATX.
    world = World(scheme)
    first = world.submit_v1(world.v1("dave", 1, EMPTY, 0), base_tick_height=0, tick_count=10)
    second = world.submit_v1(world.v1("dave", 2, first, 1), base_tick_height=10, tick_count=10)
    offending = world.solo("dave", 3, first, positioning=second)
    found.append(("invalid_previous_v1", world, offending, "dave", mal.PROOF_INVALID_PREVIOUS_V1, ["dave"]))
    return found


SCHEMES = (("a", atx.IdScheme.A), ("b", atx.IdScheme.B))


@vector_source("atx", "malfeasance", "detect")
def test_detection_vectors():
    for tag, scheme in SCHEMES:
        for name, world, offending, culprit, proof_type, malicious in detections(scheme):
            inputs = world.inputs(offending)
            # The proof itself is built by the spec; test_detected_proofs_verify checks it verifies.
            _, _, store, config = load(to_json(inputs))
            _, finding = mal.handle_atx_v2(inputs["blob"], store, config, world.verifier)
            assert finding is not None and finding.proof_type == proof_type
            yield Case(
                f"{name}_{tag}",
                inputs=inputs,
                expected={
                    "finding": {"node_id": hexid(culprit), "proof_type": proof_type,
                                "proof": None if finding.proof is None else envelope(proof_type, finding.proof)},
                    "malicious": sorted(hexid(n) for n in malicious),
                },
                spec_ref="malfeasance.md#detect_malfeasance",
                description=f"{name.replace('_', ' ')} under ID scheme {tag.upper()}: detected as proof type "
                f"{proof_type} against {culprit}" + (" (scheme A cannot express this proof: proof null)"
                                                     if finding.proof is None else ""),
            )
    world = World()
    alice0 = world.initial("alice", 1)
    world.submit(alice0)
    yield Case("honest_solo", inputs=world.inputs(world.solo("alice", 2, world.atx_id(alice0))),
               expected={"finding": None, "malicious": []}, description="an honest solo ATX: no finding, nobody malicious", spec_ref="malfeasance.md#detect_malfeasance")
    world = World()
    alice0 = world.initial("alice", 1)
    world.submit(alice0)
    world.submit(world.solo("alice", 2, world.atx_id(alice0)))
    world.submit(world.solo("alice", 2, world.atx_id(alice0), coinbase=bytes(24)))
    yield Case("already_malicious", inputs=world.inputs(world.solo("alice", 2, world.atx_id(alice0),
                                                                   coinbase=bytes([1]) * 24)),
               expected={"finding": None, "malicious": [hexid("alice")]}, spec_ref="malfeasance.md#detect_malfeasance",
               description="a third epoch-2 ATX of alice on the same previous ATX, after her double post made her "
               "malicious: no new finding")
    world = World()
    ids = married_pair(world)
    m = ids["marriage"]
    first = world.merged("alice", 4, m, [Member("alice", 0, m, 4), Member("bob", 1, ids["bob_solo"], 3)], positioning=m)
    world.submit(first)
    first_id = world.atx_id(first)
    later = world.merged("alice", 5, m, [Member("alice", 0, first_id, 4), Member("bob", 1, first_id, 3)],
                         positioning=first_id)
    yield Case("merged_next_epoch", inputs=world.inputs(later), expected={"finding": None, "malicious": []},
               spec_ref="malfeasance.md#detect_double_merge",
               description="alice and bob's merged ATX of epoch 4, then their merged ATX of epoch 5 on the same "
               "marriage ATX: one merge per epoch, no finding")
    world = World()
    first = world.submit_v1(world.v1("dave", 1, EMPTY, 0), base_tick_height=0, tick_count=10)
    world.submit_v1(world.v1("dave", 2, first, 1), base_tick_height=10, tick_count=10)
    yield Case("v2_beside_v1_same_epoch", inputs=world.inputs(world.solo("dave", 2, first)),
               expected={"finding": None, "malicious": []}, spec_ref="malfeasance.md#detect_double_post",
               description="dave's v1 ATX of epoch 2, then his v2 ATX of epoch 2 on the same previous ATX: the double "
               "post rule compares v2 ATXs only, and the previous ATX is the expected one: no finding")


def load(inputs: dict) -> tuple:
    from smspec.conformance.handlers.atx import load_state
    from smspec.spec import load as load_module

    return load_state(lambda name: load_module(name, "mainnet"), inputs)


def detected(scheme: Any) -> dict[str, tuple[Any, Any]]:
    """name -> (finding, config)"""
    out = {}
    for name, world, offending, _, _, _ in detections(scheme):
        _, finding = world.submit(offending)
        out[name] = (finding, world.config)
    return out


def invalid_post_proof(scheme: Any) -> tuple[Any, Any, Any]:
    """A merged ATX in which bob's PoST fails at position 2: (finding, world, ATX)."""
    world = World(scheme)
    ids = married_pair(world)
    m, bob1 = ids["marriage"], ids["bob_solo"]
    offending = world.merged(
        "alice", 4, m, [Member("alice", 0, m, 4), Member("bob", 1, bob1, 3, post=bad_post())], positioning=m
    )
    with pytest.raises(atx.InvalidAtx) as error:
        atx.validate_atx_v2(offending, world.store, world.config, world.verifier)
    assert error.value.reason == "invalid_post"
    finding = mal.invalid_post_finding(
        offending, node_id("bob"), 0, world.store.commitment_atx(node_id("bob")), 4, world.store, world.config,
        world.verifier,
    )
    return finding, world, offending


def verify_inputs(config: Any, proof: bytes) -> dict:
    return {"config": config_json(config), "verifier": "stub", "proof": proof}


def bad(config: Any, proof_type: int, proof: Any, name: str, reason: str, description: str = "") -> Case:
    return Case(name, inputs=verify_inputs(config, envelope(proof_type, proof)), error="InvalidProof", reason=reason,
                description=description, spec_ref="malfeasance.md#verify_atx_proof")


def flip(data: bytes) -> bytes:
    return bytes([data[0] ^ 1]) + data[1:]


@vector_source("atx", "malfeasance", "verify")
def test_verification_vectors():
    for tag, scheme in SCHEMES:
        found = detected(scheme)
        for name, (finding, config) in found.items():
            if finding.proof is None:
                assert tag == "a" and finding.proof_type in (mal.PROOF_INVALID_PREVIOUS_V1,
                                                             mal.PROOF_INVALID_PREVIOUS_V2)
                continue
            yield Case(f"{name}_valid_{tag}", inputs=verify_inputs(config, envelope(finding.proof_type, finding.proof)),
                       expected={"node_id": "0x" + finding.node_id.hex()}, spec_ref="malfeasance.md#verify_atx_proof",
                       description=f"the {name.replace('_', ' ')} proof detected under scheme {tag.upper()} verifies")
        finding, world, _ = invalid_post_proof(scheme)
        config = world.config
        if tag == "b":
            yield Case("invalid_post_valid_b", inputs=verify_inputs(config, envelope(mal.PROOF_INVALID_POST,
                                                                                   finding.proof)),
                       expected={"node_id": hexid("bob")}, spec_ref="malfeasance.md#verify_invalid_post",
                       description="an invalid-PoST proof against bob's sub-post in a merged ATX verifies (scheme B)")
            yield from prev_and_post_mutations(config, found, finding)
            continue
        assert finding.proof is None
        # Double marry, v1.7.6 format (scheme A)
        marry, _ = found["double_marry"]
        p = marry.proof
        assert isinstance(p, mal.ProofDoubleMarryA)
        t = mal.PROOF_DOUBLE_MARRY
        first, second = p.proofs

        def halves(one, two, proof=p):
            return attrs.evolve(proof, proofs=[one, two])

        yield bad(config, t, halves(first, first), "double_marry_same_atx", "same_atx", description="scheme A double-marry proof whose two halves are the same ATX")
        yield bad(config, t, halves(attrs.evolve(first, signature=flip(first.signature)), second),
                  "double_marry_bad_atx_signature", "invalid_atx_signature", description="scheme A double-marry proof with one ATX signature bit flipped")
        yield bad(config, t, halves(first, attrs.evolve(second, certificate_signature=flip(second.certificate_signature))),
                  "double_marry_bad_certificate_signature", "invalid_certificate_signature", description="scheme A double-marry proof with a certificate signature bit flipped")
        yield bad(config, t, halves(attrs.evolve(first, certificate_index=0), second),
                  "double_marry_wrong_certificate_index", "invalid_certificate_proof", description="scheme A double-marry proof naming certificate 0 for the wrong identity")
        yield bad(config, t, halves(attrs.evolve(first, marriage_root=EMPTY), second),
                  "double_marry_wrong_marriages_root", "invalid_marriages_root_proof", description="scheme A double-marry proof with a zeroed marriages root")
        yield bad(config, t, attrs.evolve(p, node_id=node_id("alice")), "double_marry_wrong_node",
                  "invalid_certificate_signature", "alice signed no certificate for carol")
        # Double merge
        merge, _ = found["double_merge"]
        p = merge.proof
        t = mal.PROOF_DOUBLE_MERGE
        yield bad(config, t, attrs.evolve(p, second=p.first), "double_merge_same_atx", "same_atx", description="double-merge proof whose two halves are the same ATX")
        yield bad(config, t, attrs.evolve(p, publish_epoch=p.publish_epoch + 1), "double_merge_wrong_epoch",
                  "invalid_publish_epoch_proof", description="double-merge proof claiming the next publish epoch")
        yield bad(config, t, attrs.evolve(p, marriage_atx=EMPTY), "double_merge_wrong_marriage_atx",
                  "invalid_marriage_atx_proof", description="double-merge proof naming a zero marriage ATX")
        yield bad(config, t, attrs.evolve(p, marriage_atx_smesher_id=node_id("bob")),
                  "double_merge_wrong_marriage_smesher", "invalid_certificate_signature", description="double-merge proof naming bob as the marriage ATX's smesher")
        # Envelope
        raw = scale.encode(mal.ATXProof(0, 0x10, b"\x00"), mal.ATXProof)
        yield Case("unknown_proof_type", inputs=verify_inputs(config, raw), error="InvalidProof",
                   reason="unknown_proof_type", description="an ATXProof envelope of proof type 0x10, which no rule defines", spec_ref="malfeasance.md#verify_atx_proof")
        garbage = scale.encode(mal.ATXProof(0, mal.PROOF_DOUBLE_MARRY, b"\x01\x02"), mal.ATXProof)
        yield Case("undecodable_proof", inputs=verify_inputs(config, garbage), error="InvalidEncoding", description="a double-marry envelope whose proof bytes (01 02) do not decode", spec_ref="malfeasance.md#verify_atx_proof")


def prev_and_post_mutations(config, found, finding):
    # Double marry, GSL format (scheme B)
    marry, _ = found["double_marry"]
    p = marry.proof
    t = mal.PROOF_DOUBLE_MARRY
    yield bad(config, t, attrs.evolve(p, atx_id2=p.atx_id1, smesher_id2=p.smesher_id1, signature2=p.signature1,
                                      proof2=p.proof1), "double_marry_gsl_same_atx", "same_atx", description="scheme B double-marry proof whose two halves are the same ATX")
    yield bad(config, t, attrs.evolve(p, signature1=flip(p.signature1)), "double_marry_gsl_bad_atx_signature",
              "invalid_atx_signature", description="scheme B double-marry proof with one ATX signature bit flipped")
    cert = attrs.evolve(p.proof2.certificate, signature=flip(p.proof2.certificate.signature))
    yield bad(config, t, attrs.evolve(p, proof2=attrs.evolve(p.proof2, certificate=cert)),
              "double_marry_gsl_bad_certificate_signature", "invalid_certificate_signature", description="scheme B double-marry proof with a certificate signature bit flipped")
    yield bad(config, t, attrs.evolve(p, proof1=attrs.evolve(p.proof1, certificate_index=0)),
              "double_marry_gsl_wrong_certificate_index", "invalid_certificate_proof", description="scheme B double-marry proof naming certificate 0")
    yield bad(config, t, attrs.evolve(p, proof1=attrs.evolve(p.proof1, marriage_certificates_root=EMPTY)),
              "double_marry_gsl_wrong_marriages_root", "invalid_marriages_root_proof", description="scheme B double-marry proof with a zeroed marriage certificates root")
    # Invalid previous (and double post)
    prev, _ = found["merged_double_post"]
    p = prev.proof
    t = mal.PROOF_INVALID_PREVIOUS_V2
    merged_half = p.first if p.first.marriage_proof is not None else p.second
    assert merged_half.marriage_proof is not None
    yield bad(config, t, attrs.evolve(p, second=p.first), "invalid_prev_same_atx", "same_atx", description="invalid-previous proof whose two halves are the same ATX")
    yield bad(config, t, attrs.evolve(p, prev_atx=EMPTY), "invalid_prev_wrong_previous", "invalid_prev_atx_proof", description="invalid-previous proof naming a zero previous ATX")
    merged_field = "first" if p.first is merged_half else "second"
    stripped = attrs.evolve(merged_half, marriage_proof=None)
    yield bad(config, t, attrs.evolve(p, **{merged_field: stripped}), "invalid_prev_missing_marriage_proof",
              "missing_marriage_proof", description="invalid-previous proof of a merged ATX without its marriage proof")
    shifted = attrs.evolve(p.first, nipost_index=1)
    yield bad(config, t, attrs.evolve(p, first=shifted), "invalid_prev_wrong_nipost_index",
              "invalid_nipost_root_proof", description="invalid-previous proof pointing at NiPost 1")
    moved = attrs.evolve(p.first, sub_post_root_index=p.first.sub_post_root_index + 1)
    yield bad(config, t, attrs.evolve(p, first=moved), "invalid_prev_wrong_sub_post_index",
              "invalid_sub_post_root_proof", description="invalid-previous proof pointing at the next sub-post")
    mp = merged_half.marriage_proof
    wrong_index = attrs.evolve(mp, node_id_marry_proof=mp.smesher_id_marry_proof)
    yield bad(config, t, attrs.evolve(p, **{merged_field: attrs.evolve(merged_half, marriage_proof=wrong_index)}),
              "invalid_prev_marriage_proof_of_other", "invalid_certificate_signature", description="invalid-previous proof whose marriage proof certifies the other identity")
    # Invalid PoST
    p = finding.proof
    t = mal.PROOF_INVALID_POST
    body = p.invalid_post_proof
    yield bad(config, t, attrs.evolve(p, invalid_post_proof=attrs.evolve(body, valid_post_index=2)),
              "invalid_post_no_valid_index", "invalid_commitment", description="invalid-PoST proof naming index 2 as the valid one: the commitment does not match")
    yield bad(config, t, attrs.evolve(p, invalid_post_proof=attrs.evolve(body, invalid_post_index=0)),
              "invalid_post_index_is_valid", "post_is_valid", description="invalid-PoST proof naming index 0, which the stub verifier accepts")
    yield bad(config, t, attrs.evolve(p, invalid_post_proof=attrs.evolve(body, num_units=9)),
              "invalid_post_wrong_num_units", "invalid_num_units_proof", description="invalid-PoST proof claiming 9 units")
    yield bad(config, t, attrs.evolve(p, invalid_post_proof=attrs.evolve(body, post=atx.PostV1(0, b"\xff", 0))),
              "invalid_post_substituted_post", "invalid_post_proof", description="invalid-PoST proof carrying another PoST than the ATX's")
    yield bad(config, t, attrs.evolve(p, invalid_post_proof=attrs.evolve(body, challenge=EMPTY)),
              "invalid_post_wrong_challenge", "invalid_challenge_proof", description="invalid-PoST proof with a zero challenge")
    yield bad(config, t, attrs.evolve(p, marriage_proof=None), "invalid_post_missing_marriage_proof",
              "missing_marriage_proof", description="invalid-PoST proof of a married identity without its marriage proof")
    yield bad(config, t, attrs.evolve(p, signature=flip(p.signature)), "invalid_post_bad_signature",
              "invalid_atx_signature", description="invalid-PoST proof with one ATX signature bit flipped")
    # Invalid previous against a v1 ATX
    v1_finding, _ = found["invalid_previous_v1"]
    p = v1_finding.proof
    t = mal.PROOF_INVALID_PREVIOUS_V1
    yield bad(config, t, attrs.evolve(p, atx_v1=attrs.evolve(p.atx_v1, signature=flip(p.atx_v1.signature))),
              "invalid_prev_v1_bad_v1_signature", "invalid_atx_signature", description="invalid-previous-v1 proof whose v1 ATX signature has a bit flipped")
    yield bad(config, t, attrs.evolve(p, prev_atx=EMPTY), "invalid_prev_v1_wrong_previous", "invalid_prev_atx_proof", description="invalid-previous-v1 proof naming a zero previous ATX")
    yield from conditional_field_cases(config, found, finding)


def altered_hash(proof: list[bytes]) -> list[bytes]:
    """`proof` with its first node's last byte changed."""
    first = proof[0]
    return [first[:-1] + bytes([first[-1] ^ 0xFF])] + proof[1:]


def valid(config: Any, proof_type: int, proof: Any, culprit: bytes, name: str, description: str) -> Case:
    return Case(name, inputs=verify_inputs(config, envelope(proof_type, proof)), expected={"node_id": culprit},
                description=description, spec_ref="malfeasance.md#verify_atx_proof")


def conditional_field_cases(config, found, finding):
    """`marriage_index_proof` is read only when the proof carries a marriage proof (the Decision in
    malfeasance.md, *Fields read only with a marriage proof*): without one, any value verifies."""
    # Issue 12's report: double_post_valid_b with byte 871 of the envelope changed. That byte lies in
    # the first half's marriage_index_proof[0]; alice's ATXs are solo, so the proof stays valid.
    double_post, _ = found["double_post"]
    p = double_post.proof
    t = mal.PROOF_INVALID_PREVIOUS_V2
    assert p.first.marriage_proof is None and p.second.marriage_proof is None
    original = envelope(t, p)
    changed = bytearray(original)
    changed[871] ^= 0xFF
    decoded = scale.decode(scale.decode(bytes(changed), mal.ATXProof).proof, mal.ProofInvalidPrevAtxV2)
    assert decoded == attrs.evolve(p, first=attrs.evolve(p.first, marriage_index_proof=decoded.first.marriage_index_proof))
    assert decoded.first.marriage_index_proof[1:] == p.first.marriage_index_proof[1:]
    yield Case("double_post_unused_marriage_index_proof_changed", inputs=verify_inputs(config, bytes(changed)),
               expected={"node_id": hexid("alice")}, spec_ref="malfeasance.md#verify_prev_atx_proof",
               description="double_post_valid_b with byte 871 (first.marriage_index_proof[0]) changed: "
                           "not read without a marriage proof, so still valid (as go-spacemesh)")
    yield valid(config, t, attrs.evolve(p, first=attrs.evolve(p.first, marriage_index_proof=[]),
                                        second=attrs.evolve(p.second, marriage_index_proof=[])),
                hexid("alice"), "double_post_unused_marriage_index_proof_empty",
                "both halves solo, marriage_index_proof empty: still valid")
    v1_finding, _ = found["invalid_previous_v1"]
    p = v1_finding.proof
    assert p.proof.marriage_proof is None
    yield valid(config, mal.PROOF_INVALID_PREVIOUS_V1,
                attrs.evolve(p, proof=attrs.evolve(p.proof, marriage_index_proof=altered_hash(p.proof.marriage_index_proof))),
                hexid("dave"), "invalid_prev_v1_unused_marriage_index_proof_changed",
                "the v2 half is dave's solo ATX: its marriage_index_proof is not read")
    # With a marriage proof the field is read: the same change is rejected.
    merged, _ = found["merged_double_post"]
    p = merged.proof
    field = "first" if p.first.marriage_proof is not None else "second"
    half = getattr(p, field)
    yield bad(config, mal.PROOF_INVALID_PREVIOUS_V2,
              attrs.evolve(p, **{field: attrs.evolve(half, marriage_index_proof=altered_hash(half.marriage_index_proof))}),
              "invalid_prev_marriage_index_proof_changed", "invalid_marriage_index_proof",
              "bob's half in alice's merged ATX carries a marriage proof, so its marriage index proof is checked")
    # Invalid PoST: bob's (married) proof checks the field; alice's, as the merged ATX's signer, does not.
    body = finding.proof.invalid_post_proof
    assert finding.proof.marriage_proof is not None
    yield bad(config, mal.PROOF_INVALID_POST,
              attrs.evolve(finding.proof, invalid_post_proof=attrs.evolve(
                  body, marriage_index_proof=altered_hash(body.marriage_index_proof))),
              "invalid_post_marriage_index_proof_changed", "invalid_marriage_index_proof", description="invalid-PoST proof of bob (married): an altered marriage index proof is checked and rejected")
    signer, signer_config = signer_invalid_post_proof()
    assert signer.proof.marriage_proof is None and signer_config == config
    body = signer.proof.invalid_post_proof
    yield valid(config, mal.PROOF_INVALID_POST, signer.proof, hexid("alice"), "invalid_post_signer_valid_b",
                "alice's own PoST in her merged ATX (NiPost 1) fails: no marriage proof needed")
    yield valid(config, mal.PROOF_INVALID_POST,
                attrs.evolve(signer.proof, invalid_post_proof=attrs.evolve(
                    body, marriage_index_proof=altered_hash(body.marriage_index_proof))),
                hexid("alice"), "invalid_post_signer_unused_marriage_index_proof_changed",
                "without a marriage proof the marriage index proof is not read")


def signer_invalid_post_proof() -> tuple[Any, Any]:
    """(finding, config): alice's PoST fails in NiPost 1 of the merged ATX she signs."""
    world = World(atx.IdScheme.B)
    ids = married_pair(world)
    m, bob1 = ids["marriage"], ids["bob_solo"]
    members = [Member("bob", 1, bob1, 3, nipost=0), Member("alice", 0, m, 4, nipost=1, post=bad_post())]
    offending = world.merged("alice", 4, m, members, positioning=m, leaf_counts=(1000, 1000))
    commitment = world.store.commitment_atx(node_id("alice"))
    finding = mal.invalid_post_finding(offending, node_id("alice"), 1, commitment, 4, world.store, world.config,
                                       world.verifier)
    return finding, world.config


def test_detected_proofs_verify_and_name_the_culprit():
    for _, scheme in SCHEMES:
        for name, (finding, config) in detected(scheme).items():
            if finding.proof is None:
                continue
            env = mal.ATXProof(0, finding.proof_type, scale.encode(finding.proof, type(finding.proof)))
            assert mal.verify_atx_proof(env, config, World().verifier) == finding.node_id, name


def test_proofs_do_not_transfer_between_schemes():
    finding, config = detected(atx.IdScheme.B)["merged_double_post"]
    other = attrs.evolve(config, id_scheme=atx.IdScheme.A)
    with pytest.raises(mal.InvalidProof):
        mal.verify_invalid_prev_v2(finding.proof, other)
    # A v1.7.6-format double-marriage proof is not a proof for a scheme-B network.
    finding, config = detected(atx.IdScheme.A)["double_marry"]
    env = mal.ATXProof(0, finding.proof_type, scale.encode(finding.proof, type(finding.proof)))
    assert mal.verify_atx_proof(env, config, World().verifier) == node_id("bob")
    from smspec.spec.errors import SpecError

    with pytest.raises(SpecError):
        mal.verify_atx_proof(env, attrs.evolve(config, id_scheme=atx.IdScheme.B), World().verifier)


def test_equivocation_set_rule():
    """A married identity never joins a second set: a double marriage merges the sets, and malice spreads."""
    world = World()
    ids = married_pair(world)
    carol0 = world.initial("carol", 1, num_units=2, leaf_index=3)
    world.submit(carol0)
    certs = [world.certificate("carol", "carol", EMPTY), world.certificate("bob", "carol", ids["bob_initial"])]
    wedding2 = world.solo("carol", 2, world.atx_id(carol0), marriages=certs, num_units=2)
    stored, finding = world.submit(wedding2)
    store = world.store
    bob = store.marriage(node_id("bob"))
    assert bob.marriage_atx == ids["marriage"]  # bob's record still names his first marriage
    assert store.marriage(node_id("carol")).set_id == bob.set_id == store.marriage(node_id("alice")).set_id
    assert store.set_members(bob.set_id) == [node_id("alice"), node_id("bob"), node_id("carol")]
    assert finding.node_id == node_id("bob")
    assert all(store.is_malicious(node_id(n)) for n in ("alice", "bob", "carol"))
    # A later ATX by a malicious signer is stored but not re-proven.
    later = world.solo("alice", 3, ids["marriage"])
    assert world.submit(later)[1] is None


def test_v1_previous_collision_proof():
    """ProofInvalidPrevAtxV1: a v2 ATX and a signed v1 ATX of one identity name the same previous ATX."""
    from smspec.tests.spec.atx.builders import GENESIS_ID, crypto, good_post, seed

    world = World(atx.IdScheme.B)
    alice0 = world.initial("alice", 1)
    world.submit(alice0)
    alice0_id = world.atx_id(alice0)
    v2 = world.solo("alice", 2, alice0_id)
    world.submit(v2)
    challenge = atx.NIPostChallengeV1(2, 1, alice0_id, alice0_id, None, None)
    inner = atx.InnerActivationTxV1(challenge, COINBASE, 4, atx.NIPostV1(atx.MerkleProofV1([], 0), good_post(), None),
                                    None, None)
    unsigned = atx.ActivationTxV1(inner, node_id("alice"), bytes(64))
    signature = crypto.sign(seed("alice"), crypto.Domain.ATX, GENESIS_ID, atx.signed_bytes_v1(unsigned))
    v1 = attrs.evolve(unsigned, signature=signature)
    prev, half = mal.make_invalid_prev_atx_proof(v2, node_id("alice"), world.store, world.scheme)
    proof = mal.ProofInvalidPrevAtxV1(node_id("alice"), prev, half, v1)
    assert mal.verify_invalid_prev_v1(proof, world.config) == node_id("alice")
    with pytest.raises(mal.InvalidProof) as error:
        mal.verify_invalid_prev_v1(attrs.evolve(proof, atx_v1=attrs.evolve(v1, signature=bytes(64))), world.config)
    assert error.value.reason == "invalid_atx_signature"


def test_invalid_post_proof_for_merged_signer_in_second_nipost():
    """The signer of a merged ATX needs no marriage proof; its sub-post is found in the NiPost named."""
    world = World(atx.IdScheme.B)
    ids = married_pair(world)
    m, bob1 = ids["marriage"], ids["bob_solo"]
    members = [Member("bob", 1, bob1, 3, nipost=0), Member("alice", 0, m, 4, nipost=1, post=bad_post())]
    offending = world.merged("alice", 4, m, members, positioning=m, leaf_counts=(1000, 1000))
    finding, _ = signer_invalid_post_proof()
    assert finding.proof.marriage_proof is None
    assert finding.proof.invalid_post_proof.nipost_index == 1
    assert mal.verify_invalid_post(finding.proof, world.config, world.verifier) == node_id("alice")
    # bob's PoST in NiPost 0 is valid: no proof can be built against it.
    assert mal.invalid_post_finding(offending, node_id("bob"), 0, world.store.commitment_atx(node_id("bob")), 4,
                                    world.store, world.config, world.verifier) is None
