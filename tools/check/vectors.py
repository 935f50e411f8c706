"""Counterexamples as conformance vectors (tooling).

A counterexample found by the explorer is minimised (``minimize``) and replayed with recording
on: each honest node's part of it is exactly the input of an existing vector kind,
``hare/protocol/trace`` (the node's initial list, then its ``next_round`` and ``on_input`` calls
in order) or ``tortoise/events/trace`` (the node's events). The handler of that kind computes
the outputs a client must reproduce; ``counterexample_document`` keeps both, and the vector
sources ``tests/spec/hare/test_check_counterexamples.py`` and
``tests/spec/tortoise/test_check_counterexamples.py`` yield them as cases whose ``expected`` is
that outcome (the per-node results that break the invariant).
"""

from __future__ import annotations

import json
from typing import Any

from smspec.conformance.cases import to_json
from smspec.tools.check.minimize import minimize


def _choice_json(choice: Any) -> Any:
    return choice.to_json() if hasattr(choice, "to_json") else choice


def node_outputs(model: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    """What the vector kind's handler answers for one node's trace (run on the model's module)."""
    if model.name == "hare":
        from smspec.conformance.handlers.hare import run_trace

        return run_trace(model.hare, inputs)
    from smspec.conformance.handlers import tortoise as handlers

    config = handlers.config_from_json(model.t, inputs["config"])
    return {"outputs": handlers.run_trace(model.t, config, inputs["events"])}


def counterexample_document(model: Any, result: Any) -> dict[str, Any]:
    """The minimised counterexample of an exploration, with per-node vector inputs and outputs."""
    found = result.counterexample
    minimal, broken = minimize(model, found.schedule, found.violations)
    worlds, _ = model.replay(minimal)
    traces = []
    for inputs in model.traces(minimal):
        inputs = to_json(inputs)
        traces.append({"inputs": inputs, "outputs": to_json(node_outputs(model, inputs))})
    return {
        "model": model.name,
        "bounds": result.bounds,
        "invariants": list(model.invariants),
        "found": {"violations": found.violations, "depth": found.depth,
                  "deviations": len(model.deviations(found.schedule))},
        "minimised": {"violations": broken,
                      "deviations": [json.dumps(to_json(list(_deviation(d))), sort_keys=True)
                                     for d in model.deviations(minimal)],
                      "schedule": [to_json(_choice_json(c)) for c in minimal]},
        "outcome": to_json(model.outcome(worlds[-1])),
        "traces": traces,
    }


def _deviation(item: tuple[int, str, Any]) -> tuple[Any, ...]:
    step, kind, value = item
    return (step, kind, value)
