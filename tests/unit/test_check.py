"""The bounded checker (smspec.tools.check, docs/check.md): exploration, reductions, planted bugs,
minimisation, counterexample vectors, engines and the command line.

Bounds here are small (each test well under 20 s on two busy cores); the claims' larger runs are
in test_check_claims.py.
"""

from __future__ import annotations

import inspect
import json
import types

import pytest
from smspec import spec
from smspec.conformance.cases import to_json
from smspec.tools import cli
from smspec.tools.check import explore as explore_mod
from smspec.tools.check.explore import explore, make_engine, search
from smspec.tools.check.hare import HareBounds, HareModel, StepChoice
from smspec.tools.check.minimize import ddmin, minimize
from smspec.tools.check.snapshot import snapshot
from smspec.tools.check.tortoise import LayerChoice, TortoiseBounds, TortoiseModel
from smspec.tools.check.vectors import counterexample_document, node_outputs

hare = spec.load("hare", "mainnet")
tortoise = spec.load("tortoise", "mainnet")


def planted(module, name: str, old: str, new: str):
    """A copy of a spec module in which the function `name` is recompiled from its own source
    with `old` replaced by `new` (every other function of the copy calls the planted one)."""
    namespace: dict = {}
    copy = types.ModuleType(f"{module.__name__}_planted")
    namespace = copy.__dict__
    for key, value in module.__dict__.items():
        if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
            value = types.FunctionType(value.__code__, namespace, value.__name__, value.__defaults__, value.__closure__)
        namespace.setdefault(key, value)
    source = inspect.getsource(getattr(module, name))
    assert source.count(old) == 1, f"{old!r} not once in {name}"
    exec(compile(source.replace(old, new), f"<planted {name}>", "exec"), namespace)
    return copy


class Outcomes:
    """A model wrapper recording the outcome (results per node, sorted) of every final state."""

    def __init__(self, model):
        self.model = model
        self.name = model.name
        self.seen: set = set()

    def initial(self):
        return self.model.initial()

    def successors(self, state):
        return self.model.successors(state)

    def key(self, state):
        return self.model.key(state)

    def violations(self, state):
        if self.model.final(state):
            self.seen.add(tuple(sorted((repr(n.result), n.result_iter) for n in state.nodes)))
        return self.model.violations(state)


# -- the Hare model --------------------------------------------------------------------------------

def test_hare_small_bounds_hold_in_every_state():
    bounds = HareBounds(members=3, byzantine=1, iterations=1, late=0)
    result = explore(HareModel(bounds, hare=hare), bounds.as_dict())
    assert result.complete and result.counterexample is None
    assert result.depth == 8  # preround, softlock, propose, wait1, wait2, commit, notify, hardlock(1)
    assert result.distinct == sum(result.levels)


@pytest.mark.parametrize("bounds", [
    HareBounds(members=3, byzantine=1, iterations=1, late=0),
    HareBounds(members=3, byzantine=1, iterations=1, late=0, initial="all"),
    HareBounds(members=2, byzantine=0, iterations=1, late=1, synchrony=False),
], ids=["sync", "initial_all", "no_synchrony"])
def test_reductions_reach_the_same_outcomes(bounds):
    """Dead-state elimination, leader classes and stopping decided sessions are optimisations:
    with all of them off the same final outcomes (results per node) are reached."""
    reduced = Outcomes(HareModel(bounds, hare=hare))
    full = Outcomes(HareModel(bounds, hare=hare, reduce_dead=False, reduce_rankings=False, stop_decided=False))
    small = explore(reduced, bounds.as_dict(), stop_at_violation=False)
    large = explore(full, bounds.as_dict(), stop_at_violation=False)
    assert (small.counterexample is None) == (large.counterexample is None) == bounds.synchrony
    assert reduced.seen == {o for o in full.seen if o in reduced.seen}  # nothing invented
    # a decided branch stops early, so its final state is reached sooner; compare the results only
    assert {tuple(r for r, _ in o) for o in reduced.seen} == {tuple(r for r, _ in o) for o in full.seen}
    assert small.distinct <= large.distinct


def test_symmetric_choices_give_one_key():
    """A byzantine preround late at honest node 0 or late at honest node 2: the same state up to
    renaming, so one key; late at two nodes is another state."""
    bounds = HareBounds(members=4, byzantine=1, iterations=1)
    model = HareModel(bounds, hare=hare)
    (_, world), = model.initial()
    after, executed, messages = model.execute(world)

    def key(delays):
        child, _ = model.deliver(after, executed, messages, StepChoice(byzantine=((3, 1, delays),)), {})[0]
        return model.key(child)

    assert key((2, 1, 1)) == key((1, 1, 2)) == key((1, 2, 1))
    assert key((2, 2, 1)) != key((2, 1, 1))
    # and the choices themselves are filtered: one per class while the honest nodes are alike
    choices = model.choices(world, after, executed, messages)
    lates = sorted(sum(d == 2 for d in c.byzantine[0][2]) for c in choices if c.byzantine and c.byzantine[0][1] == 1)
    assert lates == [0, 1, 2, 3]


def test_planted_bug_is_found_minimised_and_written_as_vectors():
    """A copy of `execute_round` whose hardlock asks one grade too much of the notifies: the
    session never outputs, and the checker says so with a minimal, replayable counterexample."""
    buggy = planted(hare, "execute_round", "IterRound(ir.iter - 1, Round.NOTIFY), Grade.GRADE5",
                    "IterRound(ir.iter - 1, Round.NOTIFY), Grade.GRADE5 + 1")
    bounds = HareBounds(members=3, byzantine=1, iterations=1, late=0)
    model = HareModel(bounds, hare=buggy)
    result = explore(model, bounds.as_dict())
    assert result.counterexample is not None
    assert result.counterexample.violations[0].startswith("termination:")
    document = counterexample_document(model, result)
    assert document["minimised"]["deviations"] == []  # a quiet run shows it
    assert [o["result"] for o in document["outcome"]] == [None, None]
    for trace in document["traces"]:
        # replayed by the vector handler on the buggy module: no result at hardlock(1) ...
        steps = [s for s in trace["outputs"]["steps"] if "terminated" in s]
        assert len(steps) == 8 and all(s["result"] is None for s in steps)
        # ... while the correct spec outputs the initial list from the same inputs
        fixed = [s for s in node_outputs(HareModel(bounds, hare=hare), trace["inputs"])["steps"] if "terminated" in s]
        assert fixed[-1]["result"] == ["0x" + "a0" * 20]
    # the same bounds on the correct spec hold
    assert explore(HareModel(bounds, hare=hare), bounds.as_dict()).counterexample is None


def test_byzantine_majority_counterexample_replays():
    bounds = HareBounds(members=4, byzantine=2, iterations=1)
    model = HareModel(bounds, hare=hare, invariants=("termination",))
    result = search(model, bounds.as_dict())
    assert result.counterexample is not None
    minimal, broken = minimize(model, result.counterexample.schedule, result.counterexample.violations)
    assert broken and broken[0].startswith("termination:")
    worlds, again = model.replay(minimal)
    assert again == broken and all(node.result is None for node in worlds[-1].nodes)


def test_hare4_wire_reaches_the_same_states():
    bounds = HareBounds(members=3, byzantine=1, iterations=1, late=0)
    three = explore(HareModel(bounds, hare=hare), bounds.as_dict())
    four = explore(HareModel(bounds, hare=hare, wire="hare4"), bounds.as_dict())
    assert (four.explored, four.distinct, four.depth) == (three.explored, three.distinct, three.depth)
    assert four.counterexample is None


# -- the Tortoise model ----------------------------------------------------------------------------

def test_tortoise_small_bounds_hold():
    bounds = TortoiseBounds(layers=2, byzantine_weight=20, hare=("block", "empty"))
    result = explore(TortoiseModel(bounds, tortoise=tortoise), bounds.as_dict())
    assert result.complete and result.counterexample is None and result.depth == 2


def test_tortoise_heavy_byzantine_counterexample_replays_through_the_handler():
    bounds = TortoiseBounds(layers=2, byzantine_weight=200)
    model = TortoiseModel(bounds, tortoise=tortoise, invariants=("convergence",))
    result = search(model, bounds.as_dict())
    assert result.counterexample is not None
    document = counterexample_document(model, result)
    assert document["minimised"]["violations"][0].startswith("convergence: verified layer 0 behind layer 2")
    for trace in document["traces"]:
        tallies = [o for o in trace["outputs"]["outputs"] if o["op"] == "tally"]
        assert tallies[-1]["verified"] == model.genesis  # nothing verified: the silent third weighs too much


def test_planted_tortoise_bug_is_found():
    """A copy of `compute_layer_opinion` that never trusts the Hare output (validity everywhere):
    within hdist its opinion hash is no longer the hash of the node's own votes."""
    buggy = planted(tortoise, "compute_layer_opinion",
                    "if within_distance(state.config.hdist, layer.layer, state.last):", "if False:")
    bounds = TortoiseBounds(layers=2, byzantine_weight=20)
    result = search(TortoiseModel(bounds, tortoise=buggy), bounds.as_dict())
    assert result.counterexample is not None
    assert result.counterexample.violations[0].startswith("opinions: node A's opinion hash of layer 1")
    assert explore(TortoiseModel(bounds, tortoise=tortoise), bounds.as_dict()).counterexample is None


def test_tortoise_replay_is_deterministic():
    bounds = TortoiseBounds(layers=2, byzantine_weight=20)
    model = TortoiseModel(bounds, tortoise=tortoise)
    schedule = ["start", LayerChoice(hare=("empty",), coin=(False,), byzantine=(("reject", "both"),)),
                LayerChoice(hare=("block",), coin=(True,), byzantine=(("as_a", "both"),))]
    first, _ = model.replay(schedule)
    second, _ = model.replay(schedule)
    assert model.key(first[-1]) == model.key(second[-1])
    traces = model.traces(schedule)
    assert [e["op"] for e in traces[0]["events"]][:5] == ["atx", "atx", "atx", "beacon", "encode"]


# -- pieces ----------------------------------------------------------------------------------------

def test_snapshot_copies_mutable_parts_and_keeps_sharing():
    state = tortoise.new_tortoise(tortoise.TortoiseConfig())
    layer = tortoise.get_layer(state, 100)
    block = tortoise.BlockInfo(id=b"\x01" * 20, layer=100, height=1)
    layer.blocks.append(block)
    vote = tortoise.LayerVote(layer=100, vote=tortoise.AGAINST, supported=[block], opinion=b"", prev=None)
    layer.opinions[b"x"] = vote
    copy = snapshot(state)
    assert copy is not state and copy.layers[100] is not layer
    copied_layer = copy.layers[100]
    assert copied_layer.opinions[b"x"].supported[0] is copied_layer.blocks[0]  # sharing kept
    copied_layer.blocks[0].validity = tortoise.SUPPORT
    assert block.validity == tortoise.ABSTAIN  # the original is untouched
    frozen = tortoise.BlockHeader(id=b"\x02" * 20, layer=1, height=2)
    assert snapshot(frozen) is frozen


def test_ddmin_finds_a_one_minimal_subset():
    items = list(range(16))
    assert ddmin(items, lambda kept: {3, 11} <= set(kept)) == [3, 11]
    assert ddmin(items, lambda kept: True) == []


def test_process_engine_gives_the_same_counts():
    bounds = HareBounds(members=3, byzantine=1, iterations=1, late=0)
    local = explore(HareModel(bounds, hare=hare), bounds.as_dict())
    engine = make_engine("processes", 2)
    try:
        pooled = explore(HareModel(bounds, hare=hare), bounds.as_dict(), engine=engine, chunk_size=4)
    finally:
        engine.close()
    assert (pooled.explored, pooled.distinct, pooled.depth, pooled.levels) == \
        (local.explored, local.distinct, local.depth, local.levels)
    assert pooled.workers == 2


@pytest.mark.slow  # a local Dask cluster takes 10-30 s to start on two busy cores
def test_dask_engine_gives_the_same_counts():
    pytest.importorskip("dask.distributed", reason="dask is optional: pip install 'smspec[distributed]'")
    bounds = HareBounds(members=3, byzantine=1, iterations=1, late=0)
    local = explore(HareModel(bounds, hare=hare), bounds.as_dict())
    engine = make_engine("dask", 2)
    try:
        distributed = explore(HareModel(bounds, hare=hare), bounds.as_dict(), engine=engine)
    finally:
        engine.close()
    assert (distributed.explored, distributed.distinct, distributed.levels) == (local.explored, local.distinct, local.levels)


def test_unknown_engine_and_missing_dask_are_errors(monkeypatch):
    with pytest.raises(ValueError, match="unknown engine"):
        make_engine("spark", 2)
    monkeypatch.setitem(__import__("sys").modules, "dask.distributed", None)
    with pytest.raises(RuntimeError, match="smspec\\[distributed\\]"):
        explore_mod.DaskEngine(1)


# -- command line ----------------------------------------------------------------------------------

def test_cli_reports_a_holding_check(capsys):
    status = cli.main(["check", "hare", "--members", "3", "--byzantine", "1", "--late", "0", "--quiet", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert status == 0
    assert report["violated"] is False and report["complete"] is True and report["depth"] == 8


def test_cli_writes_a_counterexample(tmp_path, capsys):
    out = tmp_path / "ce.json"
    status = cli.main(["check", "hare", "--members", "4", "--byzantine", "2", "--invariants", "termination",
                       "--search", "dfs", "--counterexample", str(out)])
    assert status == 1
    text = capsys.readouterr().out
    assert "VIOLATED" in text and "termination:" in text
    document = json.loads(out.read_text())
    assert document["model"] == "hare" and len(document["traces"]) == 2
    assert document["traces"][0]["inputs"] == to_json(document["traces"][0]["inputs"])
