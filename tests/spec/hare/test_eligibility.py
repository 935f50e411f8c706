"""Eligibility oracle (hare.md): upstream known answers, quirks, grades, hare4 helpers."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from smspec.conformance.cases import Case, spec_output, vector_source
from smspec.spec import crypto, hare, hare4
from smspec.tests.spec.hare import wire

# GS hare3/eligibility/oracle_test.go:244-274 (TestCalcEligibility "ok"): miner weight 1 of total
# 15, committee 10; 64-byte proofs zero-filled to 80 bytes; expected counts from upstream.
UPSTREAM_PROOFS = [
    ("0516a574aef37257d6811ea53ef55d4cbb0e14674900a0d5165bd6742513840d02442d979fdabc7059645d1e8f8a0f44d0db2aa90f23374dd74a3636d4ecdab7", 1),
    ("73929b4b69090bb6133e2f8cd73989b35228e7e6d8c6745e4100d9c5eb48ca2624ee2889e55124195a130f74ea56e53a73a1c4dee60baa13ad3b1c0ed4f80d9c", 0),
    ("e2c27ad65b752b763173b588518764b6c1e42896d57e0eabef9bcac68e07b87729a4ef9e5f17d8c1cb34ffd0d65ee9a7e63e63b77a7bcab1140a76fc04c271de", 0),
    ("384460966938c87644987fe00c0f9d4f9a5e2dcd4bdc08392ed94203895ba325036725a22346e35aa707993babef716aa1b6b3dfc653a44cb23ac8f743cbbc3d", 1),
    ("15c5f565a75888970059b070bfaed1998a9d423ddac9f6af83da51db02149044ea6aeb86294341c7a950ac5de2855bbebc11cc28b02c08bc903e4cf41439717d", 1),
]


def proof_with_fraction(fraction_56: int, tail: int = 0) -> bytes:
    return fraction_56.to_bytes(7, "little") + bytes([tail]) + bytes(72)


def exact_count(fraction_56: int, weight: int, total_weight: int, committee: int) -> tuple[int, Decimal]:
    """(count, margin) by the definition of CalcEligibility with exact p = committee / total (the
    smallest x with CDF(x) > fraction, CDF to ~70 digits; GS hare3/eligibility/oracle.go), and how
    far the fraction lies from the CDF values around it. The spec computes in 72.56 fixed point
    (about 1e-14 accurate), so the count is a known answer only when the margin is well above that."""
    n = weight
    if committee > total_weight:
        total_weight *= committee
        n *= committee
    with localcontext() as context:
        context.prec = 80
        p = Decimal(committee) / Decimal(total_weight)
        fraction = Decimal(fraction_56) / Decimal(2**56)
        term = (1 - p) ** n
        below, cdf = Decimal(0), term
        for x in range(n):
            if cdf > fraction:
                return x, min(cdf - fraction, fraction - below) if x else cdf - fraction
            term = term * (n - x) / (x + 1) * p / (1 - p)
            below, cdf = cdf, cdf + term
    return n, fraction - below


ROBUST = Decimal(2) ** -40


def known_count(fraction_56: int, weight: int, total_weight: int, committee: int) -> int:
    count, margin = exact_count(fraction_56, weight, total_weight, committee)
    assert margin > ROBUST, f"the fraction lies within {margin:.1e} of a CDF value: no independent count"
    return count


@vector_source("hare", "eligibility", "count")
def test_eligibility_count_vectors():
    for index, (hex_proof, count) in enumerate(UPSTREAM_PROOFS):
        yield Case(f"upstream_oracle_test_{index}",
                   inputs={"proof": bytes.fromhex(hex_proof) + bytes(16), "weight": 1, "total_weight": 15,
                           "committee": 10, "count": count},
                   expected={"count": count, "valid": True}, spec_ref="hare.md#eligibility_count",
                   description=f"go-spacemesh oracle_test.go proof {index}: weight 1 of 15, committee 10, count {count}")
    # CONFIRMED.md (Go run): vrfFrac 0, weight 800 of 1600, committee 800 -> 281 (CDF underflows to 0).
    yield Case("confirmed_zero_fraction_281", inputs={"proof": bytes(80), "weight": 800, "total_weight": 1600,
                                                      "committee": 800}, expected={"count": 281}, description="VRF fraction 0, weight 800 of 1600, committee 800: count 281 (the CDF underflows to 0; confirmed by running go-spacemesh)", spec_ref="hare.md#eligibility_count")
    # CONFIRMED.md: weight above 2^30: CalcEligibility gives 0 without error ...
    yield Case("confirmed_weight_above_2_30", inputs={"proof": bytes(80), "weight": 2**30 + 1,
                                                      "total_weight": 2**31, "committee": 50}, expected={"count": 0}, description="weight above 2^30: CalcEligibility gives 0 without an error (confirmed)", spec_ref="hare.md#eligibility_count")
    # ... while Validate errors.
    yield Case("validate_weight_above_2_30", inputs={"proof": bytes(80), "weight": 2**30 + 1, "total_weight": 2**31,
                                                     "committee": 50, "count": 1},
               error="EligibilityError", reason="weight_above_maximum", description="weight above 2^30: validating a claimed count is an error (confirmed)", spec_ref="hare.md#validate_eligibility_count")
    yield Case("zero_committee", inputs={"proof": bytes(80), "weight": 1, "total_weight": 15, "committee": 0},
               error="EligibilityError", reason="zero_committee", description="committee 0: the oracle refuses", spec_ref="hare.md#eligibility_parameters")
    yield Case("zero_total_weight", inputs={"proof": bytes(80), "weight": 0, "total_weight": 0, "committee": 5},
               error="EligibilityError", reason="zero_total_weight", description="total weight 0: the oracle refuses", spec_ref="hare.md#eligibility_parameters")
    # committee > total weight: both n and the total are multiplied by the committee (n = 150,
    # p = 1/10); the counts below come from the exact CDF (exact_count).
    yield Case("committee_above_total", inputs={"proof": proof_with_fraction(2**55), "weight": 3, "total_weight": 10,
                                                "committee": 50, "count": 15},
               expected={"count": known_count(2**55, 3, 10, 50), "valid": True}, description="committee 50 above total weight 10: n and the total are scaled by the committee (n = 150, p = 1/10)", spec_ref="hare.md#eligibility_parameters")
    # mainnet-like sizes (DivUint64(50, 2^20) has the exact-division quirk, p one unit low).
    for index, fraction in enumerate([0, 2**54, 2**55]):
        yield Case(f"mainnet_shape_{index}", inputs={"proof": proof_with_fraction(fraction), "weight": 2**12,
                                                     "total_weight": 2**20, "committee": 50},
                   expected={"count": known_count(fraction, 2**12, 2**20, 50)}, spec_ref="hare.md#eligibility_count",
                   description=f"weight 2^12 of 2^20, committee 50, fraction {fraction:#x}/2^56 (count from the exact CDF)")
        yield Case(f"leaders_{index}", inputs={"proof": proof_with_fraction(fraction), "weight": 2**12,
                                               "total_weight": 2**20, "committee": 5},
                   expected={"count": known_count(fraction, 2**12, 2**20, 5)}, spec_ref="hare.md#eligibility_count",
                   description=f"weight 2^12 of 2^20, committee 5 (propose round), fraction {fraction:#x}/2^56")
    # A fraction of 1 - 2^-56 lies closer to the CDF values than fixed point resolves (about
    # 1e-17 away): the count is the spec's (the exact CDF gives the same today, 11 and 7).
    yield Case("mainnet_shape_3", inputs={"proof": proof_with_fraction(2**56 - 1), "weight": 2**12,
                                          "total_weight": 2**20, "committee": 50}, check=spec_output, description="fraction 1 - 2^-56 with mainnet sizes, committee 50: the spec's count (closer to a CDF value than fixed point resolves)", spec_ref="hare.md#eligibility_count")
    yield Case("leaders_3", inputs={"proof": proof_with_fraction(2**56 - 1), "weight": 2**12,
                                    "total_weight": 2**20, "committee": 5}, check=spec_output, description="fraction 1 - 2^-56 with mainnet sizes, committee 5: the spec's count", spec_ref="hare.md#eligibility_count")
    yield Case("high_byte_ignored", inputs={"proof": proof_with_fraction(2**55, tail=0xFF), "weight": 2**12,
                                            "total_weight": 2**20, "committee": 50},
               expected={"count": known_count(2**55, 2**12, 2**20, 50)},
               description="byte 7 of the proof is not part of the fraction", spec_ref="hare.md#vrf_fraction")


def test_validate_agrees_with_count_at_boundaries():
    p_weight, total, committee = 40, 1000, 50
    n, p = hare.eligibility_parameters(p_weight, total, committee)
    for x in range(0, 8):
        boundary = hare.bin_cdf(n, p, x).raw  # the smallest fraction with count x + 1
        if boundary >= 2**56:
            break
        below, at = proof_with_fraction(boundary - 1), proof_with_fraction(boundary)
        assert hare.eligibility_count(below, p_weight, total, committee) == x
        assert hare.eligibility_count(at, p_weight, total, committee) == x + 1
        assert hare.validate_eligibility_count(at, p_weight, total, committee, x + 1)
        assert not hare.validate_eligibility_count(at, p_weight, total, committee, x)


def test_high_byte_is_not_part_of_fraction():
    a = hare.eligibility_count(proof_with_fraction(2**55, 0), 2**12, 2**20, 50)
    b = hare.eligibility_count(proof_with_fraction(2**55, 0xFF), 2**12, 2**20, 50)
    assert a == b


def own_eligibility(vrf_message: bytes, weight: int, total_weight: int, committee: int):
    """A check of an own-eligibility output: the VRF message written out by hand (wire.py) and
    the count that the exact CDF gives for the output's proof (the proof itself is the spec's
    ECVRF, checked against RFC 9381 in tests/spec/crypto)."""
    def check(output: dict) -> None:
        assert output["vrf_message"] == "0x" + vrf_message.hex()
        fraction = int.from_bytes(bytes.fromhex(output["proof"][2:])[:7], "little")
        assert output["count"] == known_count(fraction, weight, total_weight, committee)
    return check


@vector_source("hare", "eligibility", "vrf")
def test_eligibility_vrf_vectors():
    beacon, layer = bytes.fromhex("01000000"), 105720
    # (weight, total, round, committee of that round at layer 105720: 5 for propose, else 50)
    for index, (weight, total, round_kind, committee) in enumerate(
        [(100, 1000, 0, 50), (100, 1000, 3, 5), (10, 10**6, 6, 50), (2**20, 2**21, 7, 50)]
    ):
        iteration = 1 if round_kind else 0
        alpha = wire.vrf_message(beacon, layer, 7 * iteration + round_kind)
        yield Case(f"own_{index}", inputs={"secret": bytes([index + 1]) * 32, "beacon": beacon,
                                           "layer": layer, "iter": iteration, "round": round_kind,
                                           "weight": weight, "total_weight": total},
                   check=own_eligibility(alpha, weight, total, committee), spec_ref="hare.md#own_eligibility",
                   description=f"own eligibility at layer 105720, iteration {iteration}, round {round_kind}, weight "
                   f"{weight} of {total} (committee {committee}): VRF message by hand, count from the exact CDF")


def test_vrf_message_known_answer():
    # research §3.1 (derived from the SCALE rules): beacon 01000000, round 1, layer 50
    assert hare.vrf_message(bytes.fromhex("01000000"), 50, 1).hex() == "080100000004c8"


def test_message_grade_uses_vrf_and_counts():
    secret = bytes([3]) * 32
    sender = crypto.public_key(secret)
    active = hare.ActiveSet(beacon=b"\x01\x02\x03\x04", weights={sender: 30, b"x" * 32: 70})
    ir = hare.IterRound(0, hare.Round.PREROUND)
    own = hare.own_eligibility(active, secret, sender, 105720, ir, 50, 5)
    assert own is not None and own.count > 0  # expected count 50 * 30/100 = 15
    body = hare.Body(layer=105720, iter=0, round=0, eligibility=own)
    assert hare.message_grade(active, body, sender, 50, 5) == hare.Grade.GRADE5
    inflated = hare.Body(layer=105720, iter=0, round=0, eligibility=hare.HareEligibility(own.proof, own.count + 1))
    assert hare.message_grade(active, inflated, sender, 50, 5) == hare.Grade.GRADE0
    other_round = hare.Body(layer=105720, iter=0, round=3, eligibility=own)
    assert hare.message_grade(active, other_round, sender, 50, 5) == hare.Grade.GRADE0


def test_committee_upgrade_boundary():
    # GS hare3/hare_test.go:952-974 shape, with the mainnet upgrade layer.
    assert hare.committee_for(0) == 400 and hare.committee_for(105719) == 400
    assert hare.committee_for(105720) == 50 and hare.committee_for(10**6) == 50
    assert hare.threshold_for(105719) == 201 and hare.threshold_for(105720) == 26
    assert hare.round_committee(105720, hare.Round.PROPOSE) == 5


def test_round_timing():
    starts = [hare.round_start_ms(hare.IterRound(i, r)) for i, r in [(0, 0), (0, 2), (0, 3), (0, 6), (0, 7), (1, 1), (4, 1)]]
    assert starts == [25000, 37000, 49000, 85000, 97000, 109000, 361000]


@vector_source("hare", "grade", "grade")
def test_grade_vectors():
    pre = [0, 0]
    # Worked by hand from GS hare3 IterRound.Delay and Grade: delay = 7 * iter + round apart, one
    # less after preround of iteration 0 (no hardlock 0); grade 6 - delay, which go-spacemesh
    # truncates to a uint8 and the spec saturates at 0.
    for name, received, since, delay, grade, upstream in [
        ("on_time", [0, 0], pre, 0, 6, 6), ("one_late_preround", [0, 2], pre, 1, 5, 5),
        ("propose_delay1", [0, 4], [0, 3], 1, 5, 5),
        ("preround_delay6", [0, 7], pre, 6, 0, 0),
        # Decision (hare.md grade_since): upstream wraps to 255 at delay 7; the spec saturates at 0.
        ("preround_delay7_wraps_upstream", [1, 1], pre, 7, 0, 255), ("preround_delay8", [1, 2], pre, 8, 0, 254),
        ("commit_from_previous_iteration", [1, 2], [0, 6], 3, 3, 3),
    ]:
        yield Case(name, inputs={"received": received, "since": since}, spec_ref="hare.md#grade_since-upstream_grade_since",
                   expected={"delay": delay, "grade": grade, "upstream_grade": upstream},
                   description=f"received at {received}, round of {since}: delay {delay}, grade {grade}"
                   + (f", go-spacemesh's uint8 grade {upstream}" if upstream != grade else ""))


def test_grade_wraparound_documented():
    pre = hare.IterRound(0, hare.Round.PREROUND)
    # stamped notify(0): six rounds late (hardlock 0 is skipped), grade 0 either way
    assert hare.grade_since(hare.IterRound(0, 7), pre) == 0 and hare.upstream_grade_since(hare.IterRound(0, 7), pre) == 0
    # stamped hardlock(1): seven rounds late; go-spacemesh wraps to 255, the spec stays at 0
    assert hare.delay_since(hare.IterRound(1, 1), pre) == 7
    assert hare.upstream_grade_since(hare.IterRound(1, 1), pre) == 255
    assert hare.grade_since(hare.IterRound(1, 1), pre) == 0
    assert hare.upstream_grade_since(hare.IterRound(1, 2), pre) == 254


@vector_source("hare4", "compact", "reconstruct")
def test_reconstruct_vectors():
    a, b, c = (bytes([x]) * 20 for x in (1, 2, 3))
    local = [[c, b"cccc"], [a, b"aaaa"], [b, b"aaaa"]]
    yield Case("all_match", inputs={"compacts": [b"cccc", b"aaaa"], "local": local}, expected={"proposals": [a, c]}, description="two compact IDs each match one local proposal; the result is sorted", spec_ref="hare4.md#reconstruct_proposals")
    yield Case("collision_takes_first_unused", inputs={"compacts": [b"aaaa", b"aaaa"], "local": local},
               expected={"proposals": [a, b]}, description="two proposals share a compact ID: each occurrence takes the first unused one", spec_ref="hare4.md#reconstruct_proposals")
    yield Case("unmatched", inputs={"compacts": [b"dddd"], "local": local},
               error="InvalidHareMessage", reason="cannot_match_proposals", description="a compact ID no local proposal has", spec_ref="hare4.md#reconstruct_proposals")
    yield Case("too_many_of_one_compact", inputs={"compacts": [b"cccc", b"cccc"], "local": local},
               error="InvalidHareMessage", reason="cannot_match_proposals", description="a compact ID listed twice but held by one local proposal", spec_ref="hare4.md#reconstruct_proposals")
    yield Case("no_local_proposals", inputs={"compacts": [], "local": []},
               error="InvalidHareMessage", reason="no_layer_proposals", description="no local proposals for the layer", spec_ref="hare4.md#reconstruct_proposals")


@vector_source("hare4", "exchange", "frames")
def test_exchange_vectors():
    # request: LEB128 length 32 and the ID; response: compact32 length 21, then compact 1 and the ID.
    yield Case("one_id", inputs={"msg_id": bytes(range(32)), "ids": [bytes([9]) * 20]},
               expected={"request": b"\x20" + bytes(range(32)), "response": b"\x54\x04" + bytes([9]) * 20}, description="request: LEB128 length 32 then the message ID; response: compact32 length 21, compact 1, the ID", spec_ref="hare4.md#request_frame")
    yield Case("empty", inputs={"msg_id": bytes(32), "ids": []},
               expected={"request": b"\x20" + bytes(32), "response": b"\x04\x00"}, description="an empty response: compact32 length 1 then compact 0", spec_ref="hare4.md#response_frame")
    # Decision (hare4.md response_frame): more than 2050 IDs cannot be served.
    yield Case("over_response_limit", inputs={"msg_id": bytes(32), "ids": [i.to_bytes(20, "big") for i in range(2051)]},
               error="InvalidValue", reason="length_over_max", description="2051 IDs exceed the response limit of 2050 (Decision)", spec_ref="hare4.md#response_frame")


def test_parse_response_frame_limits():
    frame = hare4.response_frame((bytes(20),))
    assert hare4.parse_response_frame(frame) == (bytes(20),)
    with pytest.raises(hare4.InvalidEncoding):
        hare4.parse_response_frame(frame + b"\x00")
    with pytest.raises(hare4.InvalidEncoding):
        hare4.parse_response_frame(bytes.fromhex("02093d00"))  # compact32 1,000,000: refused
