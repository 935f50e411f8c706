"""Codec triads of the Hare wire types (vectors hare/wire/*, hare4/wire/*): value JSON, SCALE bytes
and the message hash, with an invalid-encoding suite beside each (tests/spec/wirecases.py)."""

from __future__ import annotations

import blake3
from smspec.conformance.cases import vector_source
from smspec.spec import hare, hare4, scale
from smspec.tests.spec.wirecases import invalid_cases, triad_cases

from .test_messages import PROOF, REF_AC, fields, pid, signed_proof


def message(**overrides) -> hare.Message:
    f = fields(**overrides)
    body = hare.Body(layer=f["layer"], iter=f["iter"], round=f["round"],
                     value=hare.Value(proposals=tuple(f["proposals"]), reference=f["reference"]),
                     eligibility=hare.HareEligibility(proof=f["proof"], count=f["count"]))
    return hare.Message(body=body, sender=f["sender"], signature=f["signature"])


def body_hash(body) -> bytes:
    """The message hash: blake3 of the body's encoding (computed with the blake3 package)."""
    return blake3.blake3(scale.encode(body, type(body))).digest()


@vector_source("hare", "wire", "message")
def test_message_triad():
    for name, value in (("commit", message()), ("preround", message(iter=0, round=0, reference=None,
                                                                   proposals=[pid("a"), pid("b")]))):
        yield from triad_cases(name, hare.Message, value, "hare.md#message", f"a Hare 3 {name} message",
                               ids={"body_hash": body_hash(value.body)})
    yield from invalid_cases("commit", hare.Message, scale.encode(message(), hare.Message), "hare.md#message",
                             "a Hare 3 commit message")
    preround = message(iter=0, round=0, reference=None, proposals=[pid("a")])
    yield from invalid_cases("preround", hare.Message, scale.encode(preround, hare.Message), "hare.md#message",
                             "a Hare 3 preround message")


def equivocation() -> hare.HareProof:
    a = hare.Body(layer=20, iter=0, round=0, value=hare.Value(proposals=(pid("a"),)))
    b = hare.Body(layer=20, iter=0, round=0, value=hare.Value(proposals=(pid("b"),)))
    return signed_proof(bytes([5]) * 32, a, b)


@vector_source("hare", "wire", "hare_proof")
def test_hare_proof_triad():
    proof = equivocation()
    yield from triad_cases("preround_equivocation", hare.HareProof, proof, "hare.md#hareproofmsg-hareproof",
                           "two signed preround messages of one identity")
    yield from invalid_cases("preround_equivocation", hare.HareProof, scale.encode(proof, hare.HareProof),
                             "hare.md#hareproofmsg-hareproof", "a Hare equivocation proof")


@vector_source("hare", "wire", "malfeasance_proof")
def test_malfeasance_proof_triad():
    wrapper = hare.malfeasance_proof(equivocation())
    body = scale.encode(equivocation(), hare.HareProof)
    # compact32 layer 20 (0x50), the raw type byte 03, the proof (hare.md#malfeasanceproof)
    known = bytes([20 << 2, 3]) + body
    yield from triad_cases("preround_equivocation", hare.MalfeasanceProof, wrapper, "hare.md#malfeasanceproof",
                           "the stored wrapper of a Hare equivocation proof", encoded=known)
    yield from invalid_cases("preround_equivocation", hare.MalfeasanceProof, known, "hare.md#malfeasanceproof",
                             "a Hare malfeasance proof wrapper")


def message4(compacts: tuple[bytes, ...], **body) -> hare4.Message4:
    value = hare4.Value4(compact_proposals=compacts, reference=body.pop("reference", None))
    return hare4.Message4(body=hare4.Body4(value=value, eligibility=hare.HareEligibility(proof=PROOF, count=1), **body),
                          sender=bytes(range(32)), signature=bytes(64))


@vector_source("hare4", "wire", "message4")
def test_message4_triad():
    values = {"preround": message4((b"abcd", b"efgh"), layer=9, iter=0, round=0),
              "commit": message4((), layer=105720, iter=1, round=6, reference=REF_AC)}
    for name, value in values.items():
        yield from triad_cases(name, hare4.Message4, value, "hare4.md#message4", f"a Hare 4 {name} message",
                               ids={"body_hash": body_hash(value.body)})
    yield from invalid_cases("preround", hare4.Message4, scale.encode(values["preround"], hare4.Message4),
                             "hare4.md#message4", "a Hare 4 preround message")


@vector_source("hare4", "wire", "compact_id_request")
def test_compact_id_request_triad():
    value = hare4.CompactIdRequest(msg_id=bytes(range(32)))
    ref = "hare4.md#compactidrequest-compactidresponse"
    yield from triad_cases("request", hare4.CompactIdRequest, value, ref, "a full-exchange request",
                           encoded=bytes(range(32)))
    yield from invalid_cases("request", hare4.CompactIdRequest, bytes(range(32)), ref, "a full-exchange request")


@vector_source("hare4", "wire", "compact_id_response")
def test_compact_id_response_triad():
    ids = tuple(bytes([i]) * 20 for i in range(3))
    value = hare4.CompactIdResponse(ids=ids)
    ref = "hare4.md#compactidrequest-compactidresponse"
    known = bytes([3 << 2]) + b"".join(ids)  # compact32 count 3, then the IDs
    yield from triad_cases("three_ids", hare4.CompactIdResponse, value, ref, "a full-exchange response of three IDs",
                           encoded=known)
    yield from invalid_cases("three_ids", hare4.CompactIdResponse, known, ref, "a full-exchange response")

