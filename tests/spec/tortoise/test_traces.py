"""Event-trace vectors (tortoise/events/trace): events in, and after every tally the verified
layer, the mode, and the opinion hash and valid/invalid blocks of the newest layers.

The traces come from the simulator (tools/tortoise_sim.py) on the tiny preset; the expected
outputs are what the simulated node itself reported while it ran, so a replay of the recorded
events must reproduce the live run exactly. The tests below also check, on those outputs, the
property each scenario is about.
"""

from __future__ import annotations

import functools

import attrs
import smspec.spec.tiny.tortoise as T
from smspec.conformance.cases import Case, vector_source
from smspec.tools.tortoise_sim import Scenario, Simulation

REF = "tortoise.md#tally_votes"

SCENARIOS = {
    "honest": Scenario(layers=12, smeshers=4, seed=1),
    "honest_shuffled": Scenario(layers=12, smeshers=5, seed=2, shuffle_ballots=True, shuffle_seed=7),
    "partition_50_50": Scenario(layers=26, smeshers=6, seed=3, partition_start=4, partition_layers=4),
    "partition_70_30": Scenario(layers=26, smeshers=6, seed=4, partition_start=4, partition_layers=4,
                                partition_fraction=0.7),
    "bad_beacon": Scenario(layers=14, smeshers=6, seed=5, bad_beacon_fraction=0.34),
    "missing_and_empty_hare": Scenario(layers=14, smeshers=4, seed=6, missing_hare=(3,), empty_hare=(6,)),
    "late_block": Scenario(layers=12, smeshers=4, seed=7, late_blocks=(4,)),
    "byzantine": Scenario(layers=16, smeshers=6, seed=8, byzantine_fraction=0.34),
    "early_block": Scenario(layers=12, smeshers=6, seed=9, early_block_fraction=0.34),
}


@functools.cache
def run(name: str) -> Simulation:
    return Simulation(T, SCENARIOS[name]).run()


def config_json() -> dict:
    return {f.name: getattr(T.TortoiseConfig(), f.name) for f in attrs.fields(T.TortoiseConfig)}


@vector_source("tortoise", "events", "trace", presets=("tiny",))
def test_event_trace_vectors():
    for name in SCENARIOS:
        node = run(name).nodes[0]
        yield Case(name, inputs={"config": config_json(), "events": node.events, "depth": 8},
                   expected={"outputs": node.outputs}, spec_ref=REF,
                   description=f"simulated {name} scenario, node on side 0")


def tallies(name: str) -> list[dict]:
    return [o for o in run(name).nodes[0].outputs if o["op"] == "tally"]


def test_honest_traces_verify_previous_layer():
    for name in ("honest", "honest_shuffled", "late_block"):
        assert all(o["verified"] == o["layer"] - 1 for o in tallies(name)), name


def test_missing_hare_output_stalls_until_hdist_then_recovers():
    """Like go-spacemesh TestLongTermination: the layer is terminated as empty after zdist, but
    ballots that abstained on it are not good for the new opinion; the full tortoise settles it
    once it is hdist old, and the node returns to verifying mode."""
    missing = 7 + 3
    hdist = T.TortoiseConfig().hdist
    out = tallies("missing_and_empty_hare")
    for o in out:
        if missing < o["layer"] < missing + hdist:
            assert o["verified"] == missing - 1
        else:
            assert o["verified"] == o["layer"] - 1
    assert out[-1]["mode"] == "verifying"


def test_partition_traces_heal():
    for name in ("partition_50_50", "partition_70_30"):
        out = tallies(name)
        assert any(o["mode"] == "full" for o in out)
        assert any(o["verified"] < o["layer"] - 1 for o in out)
        assert out[-1]["verified"] == out[-1]["layer"] - 1 and out[-1]["mode"] == "verifying"


def test_empty_hare_layer_has_no_valid_block():
    out = tallies("missing_and_empty_hare")[-1]
    empty_layer = 7 + 6
    layer = next(item for item in out["layers"] if item["layer"] == empty_layer)
    assert layer["valid"] == [] and len(layer["invalid"]) == 1


@vector_source("tortoise", "events", "trace", presets=("mainnet",))
def test_upstream_scenario_trace_vectors():
    """go-spacemesh fixture scenarios as event traces; the expected `updates` and `mode` records
    are the upstream tests' expected results (tests/spec/tortoise/test_upstream_fixtures.py)."""
    from . import test_upstream_fixtures as fixtures

    for name in ("sanity", "disagreement", "epoch_gap", "switch", "on_malfeasance_atxs",
                 "on_malfeasance_ballots", "duplicate_ballot"):
        session = getattr(fixtures, f"{name}_session")()
        events, expected = session.trace()
        config = {f.name: getattr(session.config, f.name) for f in attrs.fields(T.TortoiseConfig)}
        if name == "duplicate_ballot":
            expected = [{"op": "ballot", "id": events[-1]["id"], "error": "ballot_exists"}]
        yield Case(f"upstream_{name}", inputs={"config": config, "events": events,
                                               "record": ["updates", "mode", "ballot"]},
                   expected={"outputs": expected}, spec_ref=REF,
                   description=f"go-spacemesh tortoise test {name} (upstream expected Updates/Mode)")
