"""Thresholds, weights and fixed-point arithmetic (spec/tortoise.md#global_threshold ...).

Known answers: the eight cases of go-spacemesh `tortoise/threshold_test.go:15-129`
(TestComputeThreshold, confirmed by running upstream, shared/research/CONFIRMED.md); expected
weights from `tortoise_test.go:412-488`; ballot weights from `TestComputeBallotWeight`
(`tortoise_test.go:1494-1634`); medians from `threshold_test.go:131-184` plus the uint64 overflow
confirmed upstream; DivUint64 values confirmed upstream (CONFIRMED.md, fixed-point section).
Upstream states the values as decimals; ``raw`` converts them to 2^-56 units exactly.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from smspec.conformance.cases import Case, vector_source

REF = "tortoise.md#global_threshold"
L = 4  # go-spacemesh unit tests: layers per epoch 4, effective genesis 7
G = 2 * L - 1


def raw(value) -> str:
    scaled = Fraction(value) * 2**56
    assert scaled.denominator == 1
    return str(scaled.numerator)


def threshold_case(name, *, target, processed, last, epochs, expected, window=1000, hist=None):
    inputs = {"layers_per_epoch": L, "window_size": window, "target": target, "processed": processed,
              "last": last, "epochs": {str(k): v for k, v in epochs.items()}}
    if hist:
        inputs["historical_window_end"], inputs["historical_window_size"] = hist
    return Case(name, inputs=inputs, expected={"threshold_raw": raw(expected)}, spec_ref=REF,
                description="go-spacemesh TestComputeThreshold")


@vector_source("tortoise", "thresholds", "global", presets=("mainnet",))
def test_global_threshold_vectors():
    yield threshold_case("sanity", target=G, processed=G + L, last=G + L, epochs={2: 45}, expected=15)
    yield threshold_case("shorter_than_epoch", target=G, processed=G + L // 2, last=G + L // 2,
                         epochs={2: 45}, expected=Fraction(15, 2))
    yield threshold_case("multi_epoch", target=G, processed=G + 3 * L, last=G + 3 * L,
                         epochs={2: 40, 3: 40, 4: 40}, expected=40)
    yield threshold_case("not_full_epoch", target=G, processed=G + L - 1, last=G + L - 1,
                         epochs={2: 40}, expected=10)
    yield threshold_case("multiple_not_full_epochs", target=G + 1, processed=G + 2 * L - 2,
                         last=G + 2 * L - 2, epochs={2: 60, 3: 60}, expected=25)
    yield threshold_case("window_size", target=G, processed=0, last=G + L, epochs={2: 45},
                         expected=Fraction(15, 2), window=2)
    yield threshold_case("window_ignored_if_processed_past_window", target=G, processed=G + L - 1,
                         last=G + L, epochs={2: 45}, expected=Fraction(45, 4), window=2)
    yield threshold_case("historical_window_by_target", target=G, processed=0, last=G + 2 * L,
                         epochs={2: 45, 3: 45}, expected=15, window=2, hist=(G + L, 4))


@vector_source("tortoise", "thresholds", "ballot_weight", presets=("mainnet",))
def test_ballot_weight_vectors():
    for name, atx, epoch_elig, elig, want in [
        ("atx50_elig5_one", 50, 5, 1, 10), ("atx50_elig5_two", 50, 5, 2, 20),
        ("atx50_elig5_three", 50, 5, 3, 30), ("atx100_elig5_one", 100, 5, 1, 20),
    ]:
        yield Case(name, inputs={"atx_weight": atx, "epoch_eligibilities": epoch_elig, "eligibilities": elig},
                   expected={"weight_raw": raw(want)}, spec_ref="tortoise.md#ballot_weight",
                   description="go-spacemesh TestComputeBallotWeight")
    # DivUint64 is one unit low for exact quotients with a divisor >= 256 (CONFIRMED.md:
    # DivUint64(50, 51200) = 0x3fffffffffff); 50/51200 reduces to 1/1024, which behaves alike.
    yield Case("fixed_point_truncation", inputs={"atx_weight": 50, "epoch_eligibilities": 51200, "eligibilities": 3},
               expected={"weight_raw": str(3 * 0x3FFFFFFFFFFF)}, spec_ref="tortoise.md#fixed_udiv",
               description="weight per eligibility 1/1024 comes out one unit low, times 3")
    yield Case("reduced_before_division", inputs={"atx_weight": 4032, "epoch_eligibilities": 8064, "eligibilities": 1},
               expected={"weight_raw": str(2**55)}, spec_ref="tortoise.md#ballot_weight",
               description="4032/8064 reduces to 1/2 first, and DivUint64(1, 2) is exact")


@vector_source("tortoise", "thresholds", "median", presets=("mainnet",))
def test_median_vectors():
    for name, heights, want in [
        ("two", [10, 20], 15), ("three", [30, 10, 20], 20), ("four", [30, 20, 10, 40], 25),
        ("none", [], 0), ("uint64_overflow", [2**63 + 1, 2**63 + 3], 2),
    ]:
        yield Case(name, inputs={"heights": heights}, expected={"median": str(want)},
                   spec_ref="tortoise.md#median_height",
                   description="go-spacemesh getMedian (overflow confirmed upstream)")


@pytest.mark.parametrize("p,q,want", [
    (800, 1600, 0x7FFFFFFFFFFFFF), (400, 400, 0xFFFFFFFFFFFFFF), (800, 800, 0xFFFFFFFFFFFFFF),
    (10, 10, 2**56), (255, 255, 2**56), (10, 15, 0xAAAAAAAAAAAAAA), (50, 100, 2**55),
    (50, 2**20, 0x31FFFFFFFFF), (50, 51200, 0x3FFFFFFFFFFF),
])
def test_fixed_divide_matches_upstream(p, q, want):
    from smspec.spec import tortoise

    assert tortoise.fixed_divide(p, q) == want


@pytest.mark.parametrize("target,last,weights,want", [
    (G, G + 2, {2: 10}, 5), (G, G + 4, {2: 10}, 10), (G + 2, G + 7, {2: 8, 3: 12}, 13),
    (G + 2, G + 13, {2: 4, 3: 12, 4: 12, 5: 4}, 27), (G, G + 8, {2: 8, 3: 12}, 20),
])
def test_expected_weight_upstream(target, last, weights, want):
    """go-spacemesh TestComputeExpectedWeight (tortoise_test.go:412-488), L = 4."""
    from smspec.spec import tortoise

    state = tortoise.new_tortoise(tortoise.TortoiseConfig(layers_per_epoch=L))
    for epoch, weight in weights.items():
        state.epochs[epoch] = tortoise.EpochInfo(weight=tortoise.fixed_from_int(weight))
    assert tortoise.expected_weight(state, target, last) == want * 2**56


@pytest.mark.parametrize("weight,threshold,want", [(121, 120, 1), (120, 120, 0), (-121, 120, -1), (0, 5, 0)])
def test_crosses_threshold_upstream(weight, threshold, want):
    """go-spacemesh TestCrossesThreshold (tortoise_test.go:349-410)."""
    from smspec.spec import tortoise

    assert tortoise.crosses_threshold(weight << 56, threshold << 56) == want


def test_mainnet_local_threshold_uses_truncating_division():
    """W / 3 / 4032 goes through the one-step-corrected division (divisor >= 256)."""
    from smspec.spec import tortoise

    state = tortoise.new_tortoise(tortoise.TortoiseConfig(layers_per_epoch=4032))
    state.epochs[5] = tortoise.EpochInfo(weight=tortoise.fixed_from_int(3 * 4032))
    # exact value is 1.0; the library's division gives one unit less
    assert tortoise.compute_local_threshold(state, 5) == 2**56 - 1
