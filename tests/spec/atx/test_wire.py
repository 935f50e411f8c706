"""Codec triads of the ATX and malfeasance wire types (vectors atx/wire/*, malfeasance/wire/*):
value JSON, SCALE bytes and IDs, and an invalid-encoding suite beside each (tests/spec/wirecases.py).

Values come from the ATX scenarios of builders.py and the malfeasance detections of
test_malfeasance.py; the hand-assembled ATX v2 of test_codec.py gives known bytes.
"""

from __future__ import annotations

import blake3
from smspec.conformance.cases import vector_source
from smspec.tests.spec.wirecases import invalid_cases, triad_cases

from .builders import EMPTY, GOLDEN, World, atx, good_post, mal, married_pair, scale
from .test_codec import hand_decoded_solo, hand_encoded_solo, v1_atx
from .test_ids import scenario
from .test_malfeasance import detected, invalid_post_proof

A = "atx.md#"


@vector_source("atx", "wire", "activation_tx_v1")
def test_activation_tx_v1_triad():
    for name, value in (("initial", v1_atx()), ("non_initial", v1_atx(epoch=9, initial=False))):
        inner = scale.encode(value.inner, atx.InnerActivationTxV1)
        # ID = blake3(SCALE(inner)) computed with the blake3 package (atx.md#atx_id_v1-signed_bytes_v1)
        yield from triad_cases(name, atx.ActivationTxV1, value, A + "activationtxv1",
                               f"an ATX v1 ({name.replace('_', ' ')})",
                               ids={"id": blake3.blake3(inner).digest(), "signing_domain": b"\x00"})
    value = v1_atx()
    yield from invalid_cases("initial", atx.ActivationTxV1, scale.encode(value, atx.ActivationTxV1),
                             A + "activationtxv1", "an ATX v1")


@vector_source("atx", "wire", "activation_tx_v2")
def test_activation_tx_v2_triad():
    yield from triad_cases("hand_assembled_solo", atx.ActivationTxV2, hand_decoded_solo(), A + "activationtxv2",
                           "the hand-assembled solo ATX v2", encoded=hand_encoded_solo())
    for kind, value in scenario(atx.IdScheme.A).items():
        yield from triad_cases(kind, atx.ActivationTxV2, value, A + "activationtxv2",
                               f"the {kind} ATX v2 of the ID scenario")
    blob = hand_encoded_solo()
    yield from invalid_cases("solo", atx.ActivationTxV2, blob, A + "activationtxv2", "the hand-assembled solo ATX v2")
    merged = scale.encode(scenario(atx.IdScheme.A)["merged"], atx.ActivationTxV2)
    yield from invalid_cases("merged", atx.ActivationTxV2, merged, A + "activationtxv2", "the merged ATX v2")


@vector_source("atx", "wire", "post_v1")
def test_post_v1_triad():
    values = {"small": good_post(3), "large": atx.PostV1(nonce=2**32 - 1, indices=bytes(range(200)), pow=2**64 - 1)}
    for name, value in values.items():
        yield from triad_cases(name, atx.PostV1, value, A + "postv1", f"a PoST proof ({name} fields)")
    yield from invalid_cases("small", atx.PostV1, scale.encode(values["small"], atx.PostV1), A + "postv1", "a PoST proof")


@vector_source("atx", "wire", "marriage_certificate")
def test_marriage_certificate_triad():
    world = World()
    ids = married_pair(world)
    for name, cert in (("self", world.certificate("alice", "alice", EMPTY)),
                       ("with_reference", world.certificate("bob", "alice", ids["bob_initial"]))):
        yield from triad_cases(name, atx.MarriageCertificate, cert, A + "marriagecertificate",
                               f"a marriage certificate ({name.replace('_', ' ')})")
    cert = world.certificate("bob", "alice", ids["bob_initial"])
    yield from invalid_cases("cert", atx.MarriageCertificate, scale.encode(cert, atx.MarriageCertificate),
                             A + "marriagecertificate", "a marriage certificate")


@vector_source("atx", "wire", "nipost_challenge_v2")
def test_nipost_challenge_v2_triad():
    initial = atx.NIPostChallengeV2(publish_epoch=1, prev_atx_id=EMPTY, positioning_atx_id=GOLDEN, initial_post=good_post())
    later = atx.NIPostChallengeV2(publish_epoch=70000, prev_atx_id=bytes([7]) * 32, positioning_atx_id=GOLDEN,
                                  initial_post=None)
    for name, value in (("initial", initial), ("later", later)):
        encoded = scale.encode(value, atx.NIPostChallengeV2)
        # the PoET leaf: blake3 of the prefix byte 00 and the encoding (blake3 package)
        yield from triad_cases(name, atx.NIPostChallengeV2, value, A + "nipostchallengev2",
                               f"a NiPoST challenge ({name})", ids={"hash": blake3.blake3(b"\x00" + encoded).digest()})
    yield from invalid_cases("initial", atx.NIPostChallengeV2, scale.encode(initial, atx.NIPostChallengeV2),
                             A + "nipostchallengev2", "a NiPoST challenge")


def proofs() -> dict[str, tuple[str, object]]:
    """handler name -> (description, proof value) of every malfeasance proof type."""
    found: dict[str, tuple[str, object]] = {}
    for scheme, tag in ((atx.IdScheme.A, "a"), (atx.IdScheme.B, "b")):
        for name, (finding, _) in detected(scheme).items():
            if finding.proof is None:
                continue
            cls = type(finding.proof).__name__
            found.setdefault(cls, (f"the {name.replace('_', ' ')} proof detected under scheme {tag.upper()}", finding.proof))
    finding, _, _ = invalid_post_proof(atx.IdScheme.B)
    found.setdefault("ProofInvalidPost", ("the invalid-PoST proof of bob's sub-post", finding.proof))
    return found


MAL_TYPES = {"ProofDoubleMarry": "proof_double_marry", "ProofDoubleMarryA": "proof_double_marry_a",
             "ProofDoubleMerge": "proof_double_merge", "ProofInvalidPost": "proof_invalid_post",
             "ProofInvalidPrevAtxV2": "proof_invalid_prev_atx_v2", "ProofInvalidPrevAtxV1": "proof_invalid_prev_atx_v1"}


def malfeasance_source(cls_name: str):
    handler = MAL_TYPES[cls_name]

    @vector_source("malfeasance", "wire", handler)
    def source():
        description, value = proofs()[cls_name]
        codec = getattr(mal, cls_name)
        from smspec.conformance.specrefs import anchor_of

        ref = anchor_of("malfeasance.md", cls_name)
        yield from triad_cases("detected", codec, value, ref, description)
        yield from invalid_cases("detected", codec, scale.encode(value, codec), ref, description)

    source.__name__ = source.__qualname__ = f"test_{handler}_triad"
    return source


test_proof_double_marry_triad = malfeasance_source("ProofDoubleMarry")
test_proof_double_marry_a_triad = malfeasance_source("ProofDoubleMarryA")
test_proof_double_merge_triad = malfeasance_source("ProofDoubleMerge")
test_proof_invalid_post_triad = malfeasance_source("ProofInvalidPost")
test_proof_invalid_prev_atx_v2_triad = malfeasance_source("ProofInvalidPrevAtxV2")
test_proof_invalid_prev_atx_v1_triad = malfeasance_source("ProofInvalidPrevAtxV1")


@vector_source("malfeasance", "wire", "atx_proof")
def test_atx_proof_triad():
    description, value = proofs()["ProofDoubleMerge"]
    body = scale.encode(value, mal.ProofDoubleMerge)
    envelope = mal.ATXProof(mal.ATX_PROOF_VERSION, mal.PROOF_DOUBLE_MERGE, body)
    ref = "malfeasance.md#atxproof"
    # version, proof type (compact8 each), then the compact32 length and the proof bytes
    length = scale.encode_compact(len(body), 32)
    known = bytes([mal.ATX_PROOF_VERSION << 2, mal.PROOF_DOUBLE_MERGE << 2]) + length + body
    yield from triad_cases("double_merge", mal.ATXProof, envelope, ref, "an ATXProof envelope of a double-merge proof",
                           encoded=known)
    yield from invalid_cases("double_merge", mal.ATXProof, known, ref, "an ATXProof envelope")


@vector_source("atx", "wire", "nipost_challenge_v1")
def test_nipost_challenge_v1_triad():
    value = v1_atx().inner.challenge
    encoded = scale.encode(value, atx.NIPostChallengeV1)
    yield from triad_cases("initial", atx.NIPostChallengeV1, value, A + "nipostchallengev1",
                           "the NiPoST challenge of an initial ATX v1", ids={"hash": blake3.blake3(b"\x00" + encoded).digest()})
    yield from invalid_cases("initial", atx.NIPostChallengeV1, encoded, A + "nipostchallengev1", "a v1 NiPoST challenge")
