"""impl/tortoise.py against spec/tortoise.md.

* ``fixed_udiv``: Hypothesis draws dividends and divisors across the 128-bit range, with many exact
  multiples (where the library's quotient is one unit low); same quotient or same error.
* The counting replacements (grouped full counting, late-block debits, good-weight recount,
  memoized weights) change only the order of integer additions, so whole simulated networks
  (partitions, byzantine and bad-beacon smeshers, late blocks, missing Hare output) must end in
  exactly the same state, field by field, and report the same outputs at every step.
"""

from __future__ import annotations

import pytest
import smspec.spec.tiny.tortoise as T
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from smspec.impl import registry
from smspec.impl import tortoise as impl
from smspec.tools.tortoise_sim import Scenario, Simulation

pytestmark = pytest.mark.usefixtures("spec_backend")


def outcome(function, *args):
    try:
        return ("ok", function(*args))
    except T.SpecError as error:
        return ("error", type(error).__name__, error.reason)


def test_every_replaced_function_is_covered():
    replaced = {r.name for r in registry.all_replacements() if r.module == "tortoise"}
    assert replaced == {"fixed_udiv", "ballot_weight", "count_ballots_full", "count_for_late_block",
                        "recount_good_ballots", "run_verifying", "run_full", "on_ballot", "count_ballots",
                        "count_ballot_verifying", "add_block", "on_block", "on_hare_output",
                        "encode_votes_with_base", "encode_votes"}


@st.composite
def division(draw):
    if draw(st.booleans()):
        v = draw(st.integers(1, 2**100)) << draw(st.integers(0, 26))
        q = draw(st.integers(0, 2**70))
        u = q * v + draw(st.sampled_from([0, 0, 1])) * draw(st.integers(0, v - 1))
    else:
        u = draw(st.integers(0, 2**127 - 1))
        v = draw(st.integers(0, 2**draw(st.integers(1, 126))))
    return min(u, 2**127 - 1), min(v, 2**127 - 1)


@settings(max_examples=3000, deadline=None)
@given(division())
def test_fixed_udiv(pair):
    u, v = pair
    assert outcome(impl.fixed_udiv, u, v) == outcome(T.fixed_udiv, u, v)


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 2**60), st.integers(1, 2**40), st.integers(0, 25000))
def test_ballot_weight(numerator, denominator, eligibilities):
    numerator, denominator = T.reduce_fraction(numerator, denominator)
    fast = impl._ballot_weight_factory(T)
    assert fast(numerator, denominator, eligibilities) == T.ballot_weight(numerator, denominator, eligibilities)


def digest(state) -> tuple:
    layers = []
    for lid in sorted(state.layers):
        layer = state.layers[lid]
        layers.append((lid, layer.empty, layer.hare_terminated, layer.good_uncounted, layer.reference_height,
                       layer.coinflip, layer.opinion,
                       tuple((b.id, b.height, b.hare, b.margin, b.validity, b.data) for b in layer.blocks)))
    delayed = tuple((k, tuple(b.id for b in v)) for k, v in sorted(state.delayed.items()))
    return (state.last, state.processed, state.verified, state.evicted, state.pending, state.local_threshold,
            state.total_good_weight, state.is_full, state.full_counted, tuple(layers), delayed,
            tuple(b.id for b in state.retriable))


def run_both(scenario: Scenario):
    registry.use_backend("spec")
    spec_sim = Simulation(T, scenario).run()
    registry.use_backend("impl")
    try:
        assert T.count_ballots_full is not T.__spec_originals__["count_ballots_full"]
        impl_sim = Simulation(T, scenario).run()
    finally:
        registry.use_backend("spec")
    return spec_sim, impl_sim


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16), smeshers=st.integers(2, 9), partition=st.sampled_from([0, 3, 6]),
       fraction=st.sampled_from([0.5, 0.7]), byzantine=st.sampled_from([0.0, 0.2, 0.4]),
       bad_beacon=st.sampled_from([0.0, 0.25]), late=st.booleans(), missing=st.booleans())
def test_simulated_networks_end_in_the_same_state(seed, smeshers, partition, fraction, byzantine, bad_beacon,
                                                  late, missing):
    scenario = Scenario(layers=22, smeshers=smeshers, seed=seed, partition_start=3, partition_layers=partition,
                        partition_fraction=fraction, byzantine_fraction=byzantine, bad_beacon_fraction=bad_beacon,
                        late_blocks=(5, 11) if late else (), missing_hare=(7,) if missing else (),
                        config={"bad_beacon_vote_delay_layers": 3})
    spec_sim, impl_sim = run_both(scenario)
    for a, b in zip(spec_sim.nodes, impl_sim.nodes):
        assert a.outputs == b.outputs
        assert digest(a.state) == digest(b.state)
