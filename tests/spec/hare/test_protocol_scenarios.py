"""The 21 upstream state-machine scenarios (hare.md research §8.2) against spec/hare.md."""

from __future__ import annotations

import pytest

from smspec.conformance.cases import Case, to_json, vector_source
from smspec.spec import hare
from smspec.tests.spec.hare.scenarios import SCENARIOS, UNSET, Input, Next, pid, trace_inputs

from smspec.conformance.handlers.hare import run_trace


def expected_message(step: Next):
    if step.round is None:
        return None
    if step.ref is not None:
        value = {"proposals": [], "reference": "0x" + hare.proposals_hash(tuple(pid(x) for x in step.ref)).hex()}
    else:
        value = {"proposals": ["0x" + pid(x).hex() for x in step.proposals or []], "reference": None}
    return {"iter": step.iter, "round": step.round, **value}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_upstream_scenario(scenario):
    outputs = run_trace(hare, to_json(trace_inputs(scenario, hare.proposals_hash)))["steps"]
    assert len(outputs) == len(scenario.steps)
    for index, (step, got) in enumerate(zip(scenario.steps, outputs)):
        where = f"{scenario.name} step {index}"
        if isinstance(step, Input):
            if step.relay is not None:
                assert got["relay"] is step.relay, where
            if step.equivocation:
                assert got["equivocation"] is not None, where
            continue
        if step.active:
            result = None if step.result is UNSET or step.result is None else ["0x" + pid(x).hex() for x in step.result]
            assert got == {
                "coin": None if step.coin is UNSET else step.coin,
                "result": result,
                "terminated": False if step.terminated is UNSET else step.terminated,
                "message": expected_message(step),
            }, where
            continue
        if step.coin is not UNSET:
            assert got["coin"] == step.coin, where
        if step.result is not UNSET:
            want = None if step.result is None else ["0x" + pid(x).hex() for x in step.result]
            assert got["result"] == want, where
        if step.terminated is not UNSET:
            assert got["terminated"] == step.terminated, where


@vector_source("hare", "protocol", "trace")
def test_protocol_trace_vectors():
    for scenario in SCENARIOS:
        yield Case(f"upstream_{scenario.name}", inputs=trace_inputs(scenario, hare.proposals_hash),
                   spec_ref="hare.md#next_round",
                   description=f"go-spacemesh hare3/protocol_test.go TestProtocol scenario {scenario.name!r}")
