"""Property tests (Hypothesis) for the invariants of tortoise.md §7, on the simulator.

I1 order independence: results do not depend on the delivery order of a layer's ballots.
I3 liveness: an honest synchronous network verifies the previous layer at every tally.
I4 consistency: honest nodes agree on every layer up to the lower verified layer.
I5 healing: after a 50/50 or 70/30 partition heals, all nodes are live again and agree.
I7 irreversibility: with an honest majority, validity of verified layers outside hdist never flips.
"""

from __future__ import annotations

import pytest
import smspec.spec.tiny.tortoise as T
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from smspec.tools.tortoise_sim import Scenario, Simulation

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def results(sim: Simulation) -> list:
    state = sim.nodes[0].state
    out = []
    for result in T.layer_results(state, state.evicted + 1, state.processed):
        out.append((result.layer, result.verified, result.opinion,
                    tuple((b.header, b.valid, b.invalid, b.hare) for b in result.blocks)))
    return out


@SETTINGS
@given(seed=st.integers(0, 2**16), smeshers=st.integers(3, 10), shuffle_seed=st.integers(1, 2**16),
       byzantine=st.sampled_from([0.0, 0.2]))
def test_i1_delivery_order_does_not_change_results(seed, smeshers, shuffle_seed, byzantine):
    base = dict(layers=14, smeshers=smeshers, seed=seed, byzantine_fraction=byzantine)
    ordered = Simulation(T, Scenario(**base)).run()
    shuffled = Simulation(T, Scenario(**base, shuffle_ballots=True, shuffle_seed=shuffle_seed)).run()
    assert results(ordered) == results(shuffled)
    assert ordered.history == shuffled.history


@SETTINGS
@given(seed=st.integers(0, 2**16), smeshers=st.integers(2, 12), late=st.booleans())
def test_i3_liveness_honest(seed, smeshers, late):
    sim = Simulation(T, Scenario(layers=16, smeshers=smeshers, seed=seed, shuffle_ballots=True,
                                 shuffle_seed=seed + 1, late_blocks=(5,) if late else ())).run()
    for offset, row in enumerate(sim.history, start=1):
        assert all(verified == 7 + offset - 1 for _, verified, _ in row)


@SETTINGS
@given(seed=st.integers(0, 2**16), fraction=st.sampled_from([0.5, 0.7]), length=st.integers(2, 8),
       start=st.integers(2, 6))
def test_i4_i5_partition_heals_and_nodes_agree(seed, fraction, length, start):
    sim = Simulation(T, Scenario(layers=start + length + 28, smeshers=10, seed=seed, partition_start=start,
                                 partition_layers=length, partition_fraction=fraction)).run()
    assert sim.lag() == [1, 1]
    assert sim.agree()


@SETTINGS
@given(seed=st.integers(0, 2**16), byzantine=st.sampled_from([0.0, 0.1, 0.2]))
def test_i7_validity_of_verified_layers_is_stable(seed, byzantine):
    sim = Simulation(T, Scenario(layers=2, smeshers=10, seed=seed, byzantine_fraction=byzantine))
    sim.late = []
    seen: dict = {}
    hdist = sim.config.hdist
    for layer in range(8, 8 + 24):
        sim.step(layer)
        for node in sim.nodes:
            sim.apply(node, {"op": "tally", "layer": layer})
        state = sim.nodes[0].state
        for lid in range(state.evicted + 1, state.verified + 1):
            if lid + hdist > state.last:
                continue
            for block in T.get_layer(state, lid).blocks:
                key = (lid, block.id)
                assert seen.setdefault(key, block.validity) == block.validity


@pytest.mark.slow
@pytest.mark.parametrize("fraction", [0.5, 0.7])
@pytest.mark.parametrize("length", [8, 16])
@pytest.mark.parametrize("adversity", ["none", "byzantine", "bad_beacon"])
def test_long_partitions_heal_with_adversaries(fraction, length, adversity):
    """Longer splits, with 10% byzantine or 20% bad-beacon smeshers: every node is live again
    (lag 1, or 2 with byzantine weight in the mix) and all agree on every verified layer."""
    extra = {"byzantine": {"byzantine_fraction": 0.1}, "bad_beacon": {"bad_beacon_fraction": 0.2}}.get(adversity, {})
    for seed in range(3):
        sim = Simulation(T, Scenario(layers=5 + length + 40, smeshers=12, seed=seed, partition_start=5,
                                     partition_layers=length, partition_fraction=fraction, **extra)).run()
        assert max(sim.lag()) <= (2 if adversity == "byzantine" else 1)
        assert sim.agree()


def test_heal_time_after_even_split_is_half_the_split():
    """Measured property of the model (docs/tortoise.md): after a 50/50 split of n layers the nodes
    verify the previous layer again n/2 layers after the heal; after a 70/30 split, 3 layers."""
    for fraction, length, expected in [(0.5, 4, 2), (0.5, 8, 4), (0.7, 8, 3)]:
        sim = Simulation(T, Scenario(layers=5 + length + 30, smeshers=12, seed=1, partition_start=5,
                                     partition_layers=length, partition_fraction=fraction)).run()
        last_lagging = max(offset for offset, row in enumerate(sim.history, start=1)
                           if any(verified != 7 + offset - 1 for _, verified, _ in row))
        assert last_lagging - (5 + length) + 1 == expected


@SETTINGS
@given(seed=st.integers(0, 2**16), shuffle_seed=st.integers(0, 2**16), partition=st.sampled_from([0, 4]),
       byzantine=st.sampled_from([0.0, 0.2]))
def test_i1_i4_nodes_with_different_delivery_orders_agree(seed, shuffle_seed, partition, byzantine):
    """Two nodes per side, each receiving every layer's ballots in its own order: nodes of one side
    report the same verified layer and mode at every tally, and all agree on verified layers."""
    sim = Simulation(T, Scenario(layers=24, smeshers=8, seed=seed, nodes_per_side=2, order_per_node=True,
                                 shuffle_seed=shuffle_seed, partition_start=3, partition_layers=partition,
                                 byzantine_fraction=byzantine)).run()
    for row in sim.history:
        by_side: dict = {}
        for index, verified, full in row:
            by_side.setdefault(sim.nodes[index].side, set()).add((verified, full))
        assert all(len(values) == 1 for values in by_side.values())
    assert sim.agree()
    states = [node.state for node in sim.nodes]
    low = max(s.evicted for s in states) + 1
    for layer in range(low, min(s.processed for s in states) + 1):
        for side in (0, 1):  # nodes with the same inputs in different orders: the same opinion
            assert len({T.get_layer(n.state, layer).opinion for n in sim.nodes if n.side == side}) == 1
