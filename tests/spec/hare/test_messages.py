"""Hare message encodings, hashes, signed bytes, validation rules and equivocation proofs."""

from __future__ import annotations

import pytest
from smspec.conformance.cases import Case, vector_source
from smspec.spec import crypto, hare, hare4
from smspec.spec.errors import InvalidEncoding
from smspec.tests.spec.hare import wire

MAINNET_GENESIS_ID = bytes.fromhex("9eebff023abb17ccb775c602daade8ed708f0a50")


def pid(name: str) -> bytes:
    return name.encode().ljust(20, b"\0")


PROOF = bytes(range(80))
REF_AC = hare.proposals_hash((pid("a"), pid("c")))


def fields(**overrides):
    base = {"layer": 105720, "iter": 1, "round": 6, "proposals": [], "reference": REF_AC,
            "proof": PROOF, "count": 3, "sender": bytes(range(32)), "signature": bytes(64)}
    base.update(overrides)
    return base


def test_worked_example_from_research_notes():
    # hare.md research §2.4 (derived with an independent re-implementation of the rules).
    assert REF_AC.hex() == "77bc7b1e79e50b25ed0651ab1bd807d9a6cca869e0783930eff3b24fd150136e"
    body = hare.Body(layer=105720, iter=1, round=hare.Round.COMMIT, value=hare.Value(reference=REF_AC),
                     eligibility=hare.HareEligibility(proof=PROOF, count=3))
    encoded = hare.encode(body, hare.Body)
    assert encoded == bytes.fromhex("e2730600041800") + b"\x01" + REF_AC + PROOF + b"\x0c"
    assert hare.message_hash(body).hex() == "b287e7284563572b86638fde4fabc7892987cfb486348b2f27e1063b87c497fa"
    assert hare.signed_bytes(body) == bytes.fromhex("e273060034") + hare.message_hash(body)
    # hare4 adds the (empty) compact list after the reference: one trailing 00 byte.
    body4 = hare4.Body4(layer=105720, iter=1, round=6, value=hare4.Value4(reference=REF_AC),
                        eligibility=hare.HareEligibility(proof=PROOF, count=3))
    assert hare.encode(body4, hare4.Body4) == encoded[:-81] + b"\x00" + encoded[-81:]


def test_empty_proposals_hash_is_blake3_of_nothing():
    assert hare.proposals_hash(()).hex().startswith("af1349b9")


def encoding(f: dict) -> dict:
    """The known answer of hare/message/encode, written out by hand (wire.py)."""
    return {"encoded": wire.message(f), "body_hash": wire.body_hash(f), "signed_bytes": wire.signed_bytes(f)}


def test_wire_layout_matches_worked_example():
    # wire.py, the source of the message known answers, agrees with the research notes' example.
    f = fields()
    assert wire.body_hash(f).hex() == "b287e7284563572b86638fde4fabc7892987cfb486348b2f27e1063b87c497fa"
    assert wire.body(f) == bytes.fromhex("e2730600041800") + b"\x01" + REF_AC + PROOF + b"\x0c"


@vector_source("hare", "message", "encode")
def test_message_encode_vectors():
    def case(name: str, f: dict, **kw) -> Case:
        return Case(name, inputs=f, expected=encoding(f), **kw)

    yield case("commit_hare3", fields(), spec_ref="hare.md#message", description="a Hare 3 commit message (layer 105720, iteration 1, with a reference): SCALE bytes, body hash, signed bytes")
    yield case("notify_hare3", fields(round=7, iter=2), spec_ref="hare.md#message", description="a notify message of iteration 2 (round 7)")
    yield case("preround_hare3_two_ids", fields(iter=0, round=0, reference=None, proposals=[pid("a"), pid("b")]), description="a preround message with two proposal IDs and no reference", spec_ref="hare.md#message")
    yield case("preround_hare3_64_ids", fields(iter=0, round=0, reference=None, proposals=[bytes([i]) * 20 for i in range(64)]),
               description="64 IDs: the count needs the two-byte compact mode", spec_ref="hare.md#message")
    yield case("small_layer", fields(layer=7, count=64), description="layer 7 and eligibility count 64: one-byte and two-byte compacts", spec_ref="hare.md#message")
    yield case("preround_hare4_compacts", fields(iter=0, round=0, reference=None,
                                                 compact_proposals=[b"\x01\x02\x03\x04", b"\x05\x06\x07\x08"]), description="a Hare 4 preround message carrying two compact (4-byte) proposal IDs", spec_ref="hare4.md#message4")
    yield case("commit_hare4", fields(compact_proposals=[]), description="a Hare 4 commit message with an empty compact list", spec_ref="hare4.md#message4")
    yield Case("too_many_proposals", inputs=fields(iter=0, round=0, reference=None,
                                                   proposals=[i.to_bytes(20, "big") for i in range(2351)]),
               error="InvalidValue", reason="length_over_max", description="2351 proposal IDs exceed the maximum of 2350: the message cannot be encoded", spec_ref="hare.md#value")


def encoded_message(**overrides) -> bytes:
    f = fields(**overrides)
    body = hare.Body(layer=f["layer"], iter=f["iter"], round=f["round"],
                     value=hare.Value(proposals=tuple(f["proposals"]), reference=f["reference"]),
                     eligibility=hare.HareEligibility(proof=f["proof"], count=f["count"]))
    return hare.encode(hare.Message(body=body, sender=f["sender"], signature=f["signature"]), hare.Message)


def decoding(f: dict) -> dict:
    """The known answer of hare/message/decode: the fields, the body hash and the signed bytes."""
    return {**f, "body_hash": wire.body_hash(f), "signed_bytes": wire.signed_bytes(f)}


@vector_source("hare", "message", "decode")
def test_message_decode_vectors():
    good = encoded_message()
    yield Case("commit", inputs={"encoded": good}, expected=decoding(fields()), description="the commit message decodes to its fields, body hash and signed bytes", spec_ref="hare.md#decode_message")
    yield Case("trailing_byte", inputs={"encoded": good + b"\x00"}, error="InvalidEncoding", reason="trailing_bytes", description="a message with one byte appended", spec_ref="hare.md#decode_message")
    yield Case("truncated", inputs={"encoded": good[:-1]}, error="InvalidEncoding", description="a message without its last byte", spec_ref="hare.md#decode_message")
    # Upstream fuzz seeds (GS hare3/types_test.go): all too short.
    for index, seed in enumerate([b"", b"\x00", b"\x00\x01\x01", b"\x00\x01\x01\x00\x0a"]):
        yield Case(f"fuzz_seed_{index}", inputs={"encoded": seed}, error="InvalidEncoding", spec_ref="hare.md#decode_message",
                   description=f"go-spacemesh's fuzz seed {seed.hex() or '(empty)'}: too short")
    yield Case("commit_without_reference", inputs={"encoded": encoded_message(reference=None)},
               error="InvalidHareMessage", reason="reference_missing", description="a commit message without a reference: rejected", spec_ref="hare.md#validate_message")
    yield Case("preround_with_reference", inputs={"encoded": encoded_message(iter=0, round=0)},
               error="InvalidHareMessage", reason="reference_present", description="a preround message carrying a reference: rejected", spec_ref="hare.md#validate_message")
    # Decision (hare.md validate_message): go-spacemesh accepts round 8..255 and then panics.
    yield Case("round_8_rejected", inputs={"encoded": encoded_message(round=8, reference=None)},
               error="InvalidHareMessage", reason="round_out_of_range", description="round 8 does not exist: rejected (Decision: go-spacemesh accepts rounds 8..255 and later panics)", spec_ref="hare.md#validate_message")
    # Decision: go-spacemesh accepts repeated IDs and counts each occurrence.
    yield Case("duplicate_ids_rejected", inputs={"encoded": encoded_message(iter=0, round=0, reference=None,
                                                                           proposals=[pid("a"), pid("a")])},
               error="InvalidHareMessage", reason="duplicate_proposals", description="a preround message repeating a proposal ID: rejected (Decision: go-spacemesh counts each occurrence)", spec_ref="hare.md#validate_message")
    # An option tag other than 01 decodes as "absent" (go-scale): a commit then lacks its reference.
    bad_tag = bytearray(good)
    bad_tag[7] = 0x02
    yield Case("option_tag_2_is_absent", inputs={"encoded": bytes(bad_tag[:8]) + bytes(bad_tag[8 + 32:])},
               error="InvalidHareMessage", reason="reference_missing", description="a reference option tag 02 reads as absent (go-scale), so the commit lacks its reference", spec_ref="hare.md#validate_message")
    yield Case("non_message_round_accepted", inputs={"encoded": encoded_message(round=4, reference=None)},
               expected=decoding(fields(round=4, reference=None)),
               description="wait1 messages are accepted and stored, as upstream", spec_ref="hare.md#validate_message")
    preround4 = fields(layer=9, iter=0, round=0, reference=None, count=1, sender=bytes(32), compact_proposals=[b"abcd"])
    yield Case("hare4_preround", inputs={"hare4": True, "encoded": hare.encode(hare4.Message4(
        body=hare4.Body4(layer=9, iter=0, round=0, value=hare4.Value4(compact_proposals=(b"abcd",)),
                         eligibility=hare.HareEligibility(proof=PROOF, count=1)),
        sender=bytes(32)), hare4.Message4)}, expected=decoding(preround4), description="a Hare 4 preround message decodes with decode_message4", spec_ref="hare4.md#decode_message4")


def test_non_minimal_compact_rejected():
    good = encoded_message(layer=7)
    assert good[0] == 7 << 2
    with pytest.raises(InvalidEncoding):
        hare.decode_message(bytes([(7 << 2) | 1, 0]) + good[1:])


@vector_source("hare", "message", "sign")
def test_message_sign_vectors():
    for name, overrides in [("commit", {}), ("preround", {"iter": 0, "round": 0, "reference": None,
                                                          "proposals": [pid("a"), pid("b")]})]:
        f = fields(**overrides)
        secret = bytes([7]) * 32
        sender, signature = wire.public_key(secret), wire.signature(secret, MAINNET_GENESIS_ID, f)
        known = {"sender": sender, "signature": signature,
                 "encoded": wire.message({**f, "sender": sender, "signature": signature})}
        f.pop("sender")
        f.pop("signature")
        yield Case(f"mainnet_{name}", inputs={"secret": secret, "genesis_id": MAINNET_GENESIS_ID, **f},
                   expected=known, spec_ref="hare.md#sign_body",
                   description=f"a {name} body signed with seed 07..07 under the mainnet genesis ID (Ed25519 by PyNaCl)")


def test_signature_roundtrip_and_domain():
    secret = bytes([9]) * 32
    body = hare.Body(layer=5, iter=0, round=0, value=hare.Value(proposals=(pid("x"),)))
    signature = hare.sign_body(secret, MAINNET_GENESIS_ID, body)
    sender = crypto.public_key(secret)
    assert hare.verify_body(sender, MAINNET_GENESIS_ID, body, signature)
    assert not hare.verify_body(sender, bytes(20), body, signature)
    # the signature is over genesis || 0x03 || metadata
    assert crypto.verify_signature(sender, crypto.Domain.HARE, MAINNET_GENESIS_ID, hare.signed_bytes(body), signature)
    assert not crypto.verify_signature(sender, crypto.Domain.BALLOT, MAINNET_GENESIS_ID, hare.signed_bytes(body), signature)


def signed_proof(secret: bytes, first: hare.Body, second: hare.Body) -> hare.HareProof:
    sender = crypto.public_key(secret)
    messages = []
    for body in (first, second):
        messages.append(hare.proof_message(hare.Message(body=body, sender=sender,
                                                        signature=hare.sign_body(secret, MAINNET_GENESIS_ID, body))))
    return hare.HareProof(messages=tuple(messages))


@vector_source("hare", "malfeasance", "validate")
def test_malfeasance_vectors():
    secret = bytes([5]) * 32
    a = hare.Body(layer=20, iter=0, round=0, value=hare.Value(proposals=(pid("a"),)))
    b = hare.Body(layer=20, iter=0, round=0, value=hare.Value(proposals=(pid("b"),)))
    encode = lambda proof: hare.encode(proof, hare.HareProof)  # noqa: E731
    base = {"genesis_id": MAINNET_GENESIS_ID, "has_atx": True}

    def convicts(proof: bytes) -> dict:
        # the equivocator's key (PyNaCl) and the stored wrapper: compact32 layer 20, type byte 3, proof
        return {"smesher_id": wire.public_key(secret), "encoded_wrapper": wire.compact(20) + b"\x03" + proof}

    equivocation = encode(signed_proof(secret, a, b))
    yield Case("preround_equivocation", inputs={"proof": equivocation, **base}, expected=convicts(equivocation), description="two different preround messages of one identity in the same round convict it", spec_ref="hare.md#validate_hare_proof")
    # (iter 1, preround) and (iter 0, notify) share absolute round 7: a valid proof.
    late_pre = hare.Body(layer=20, iter=1, round=0, value=hare.Value(proposals=(pid("a"),)))
    notify = hare.Body(layer=20, iter=0, round=7, value=hare.Value(reference=REF_AC))
    collision = encode(signed_proof(secret, late_pre, notify))
    yield Case("absolute_round_collision", inputs={"proof": collision, **base}, expected=convicts(collision), description="(iteration 1, preround) and (iteration 0, notify) share absolute round 7: a valid proof", spec_ref="hare.md#validate_hare_proof")
    yield Case("same_message", inputs={"proof": encode(signed_proof(secret, a, a)), **base},
               error="InvalidMalfeasanceProof", reason="same_message", description="a proof of one message twice is not an equivocation", spec_ref="hare.md#validate_hare_proof")
    c = hare.Body(layer=20, iter=0, round=3, value=hare.Value(proposals=(pid("a"),)))
    yield Case("different_rounds", inputs={"proof": encode(signed_proof(secret, a, c)), **base},
               error="InvalidMalfeasanceProof", reason="different_rounds", description="messages of two different rounds are not an equivocation", spec_ref="hare.md#validate_hare_proof")
    yield Case("no_atx", inputs={"proof": encode(signed_proof(secret, a, b)), "genesis_id": MAINNET_GENESIS_ID,
                                 "has_atx": False}, error="InvalidMalfeasanceProof", reason="no_atx", description="an equivocator without an ATX cannot be convicted", spec_ref="hare.md#validate_hare_proof")
    yield Case("wrong_genesis", inputs={"proof": encode(signed_proof(secret, a, b)), "genesis_id": bytes(20),
                                        "has_atx": True}, error="InvalidMalfeasanceProof", reason="bad_signature", description="signatures checked under another genesis ID fail", spec_ref="hare.md#validate_hare_proof")
    mixed = hare.HareProof(messages=(signed_proof(secret, a, b).messages[0], signed_proof(bytes([6]) * 32, a, b).messages[1]))
    yield Case("different_smeshers", inputs={"proof": encode(mixed), **base},
               error="InvalidMalfeasanceProof", reason="different_smeshers", description="messages of two identities are not an equivocation", spec_ref="hare.md#validate_hare_proof")


def test_malfeasance_wrapper_layout():
    proof = signed_proof(bytes([5]) * 32, hare.Body(layer=20, iter=0, round=0),
                         hare.Body(layer=20, iter=0, round=0, value=hare.Value(proposals=(pid("b"),))))
    wrapper = hare.encode(hare.malfeasance_proof(proof), hare.MalfeasanceProof)
    assert wrapper[:2] == bytes([20 << 2, 3])  # compact32 layer, then the raw type byte 3
    assert wrapper[2:] == hare.encode(proof, hare.HareProof)
    assert len(wrapper[2:]) == 2 * (1 + 1 + 32 + 32 + 64)
