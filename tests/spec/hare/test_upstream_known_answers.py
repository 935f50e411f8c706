"""Hare eligibility counts and validations obtained by running the upstream fixed-point library.

Provenance: spacemeshos/fixed tag v0.1.2 (commit 9c89065893217a61ab59f8455fa2cb2b1ea96d92),
`DivUint64`, `FracFromBytes` and `BinCDF`, driven by a throwaway Go program that repeats
go-spacemesh `hare3/eligibility/oracle.go` (`prepareEligibilityCheck`, `CalcEligibility`,
`Validate`) line for line; computed by running upstream with Go 1.19.8 on 2026-11-22. The same
harness compared the spec with upstream on several thousand random (weight, total weight,
committee, VRF fraction) inputs, including fractions exactly at and one unit below a CDF value
(no mismatch); a curated handful is kept here.

Each case gives the first 8 bytes of the VRF proof as a little-endian integer (its top byte is not
part of the 56-bit fraction).
"""

from __future__ import annotations

import pytest
from smspec.spec import hare

# (weight, total weight, committee, proof[0:8] as LE uint64) -> CalcEligibility count or error
CALC_ELIGIBILITY = [
    (800, 1600, 800, 0x0000000000000000, 281),  # CONFIRMED.md: CDF underflows to 0 for small x
    (2**30 + 1, 2**31, 50, 0x0123456789ABCDEF, 0),  # n above 2^30: count 0 without error
    (2**30, 2**31, 50, 0x00FFFFFFFFFFFFFF, 78),
    (0, 1000, 50, 0x00FFFFFFFFFFFFFF, 0),
    (3, 5, 50, 0x0080000000000000, 30),  # committee > total weight
    (1, 1, 5, 0x00FFFFFFFFFFFFFF, 5),
    (10, 0, 5, 0x0000000000000007, "zero_total_weight"),
    (10, 100, 0, 0x0000000000000007, "zero_committee"),
    (123456, 98765432, 50, 0x00F1E2D3C4B5A697, 1),
    (123456, 98765432, 50, 0x0000000000000123, 0),
    (1600, 16000, 400, 0x0055555555555555, 37),
    (7 * 2**20, 2**30, 800, 0xFF7FFFFFFFFFFFFF, 5),
    (4_000_000, 4_000_000_000, 50, 0x0001020304050607, 0),
    (48, 1000, 5, 0x00FEDCBA98765432, 2),
    (5, 1000, 5, 0x00A0000000000000, 0),
    (999, 1000, 5, 0x00FFFFFFFFFFFFFE, 33),
    # fraction exactly at CDF(k) (count k + 1) and one unit below it (count k)
    (1600, 16000, 400, 0x0000000000000000, 1),
    (1600, 16000, 400, 0x00000000000008E5, 4),
    (1600, 16000, 400, 0x00000000000008E4, 3),
    (48, 1000, 5, 0x00C9416AFA68B30C, 1),
    (48, 1000, 5, 0x00C9416AFA68B30B, 0),
    (48, 1000, 5, 0x00FFF950745CB1D4, 4),
    (48, 1000, 5, 0x00FFF950745CB1D3, 3),
    (123456, 98765432, 50, 0x00F07D65EC096D78, 1),
    (123456, 98765432, 50, 0x00F07D65EC096D77, 0),
    (123456, 98765432, 50, 0x00FFFFF5DA8FBCA5, 4),
    (123456, 98765432, 50, 0x00FFFFF5DA8FBCA4, 3),
]

# (weight, total weight, committee, proof[0:8], claimed count) -> Validate result or error
VALIDATE = [
    (800, 1600, 800, 0x0000000000000000, 281, True),
    (800, 1600, 800, 0x0000000000000000, 280, False),
    (800, 1600, 800, 0x0000000000000000, 0, False),
    (2**30 + 1, 2**31, 50, 0x0000000000000005, 0, "weight_above_maximum"),
    (1600, 16000, 400, 0x0055555555555555, 40, False),
    (1600, 16000, 400, 0x0055555555555555, 41, False),
    (3, 5, 50, 0x0080000000000000, 30, True),
    (3, 5, 50, 0x0080000000000000, 31, False),
    (0, 1000, 50, 0x00FFFFFFFFFFFFFF, 0, True),
]


def proof(head: int) -> bytes:
    return head.to_bytes(8, "little") + bytes(72)


def outcome(function, *args):
    try:
        return function(*args)
    except hare.EligibilityError as error:
        return error.reason


@pytest.mark.parametrize(("weight", "total", "committee", "head", "expected"), CALC_ELIGIBILITY)
def test_eligibility_count(weight, total, committee, head, expected):
    assert outcome(hare.eligibility_count, proof(head), weight, total, committee) == expected


@pytest.mark.parametrize(("weight", "total", "committee", "head", "count", "expected"), VALIDATE)
def test_validate_eligibility_count(weight, total, committee, head, count, expected):
    assert outcome(hare.validate_eligibility_count, proof(head), weight, total, committee, count) == expected
