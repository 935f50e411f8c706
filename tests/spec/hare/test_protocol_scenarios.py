"""The 21 upstream state-machine scenarios (hare.md research §8.2) against spec/hare.md."""

from __future__ import annotations

import pytest
from smspec.conformance.cases import Case, to_json, vector_source
from smspec.conformance.handlers.hare import run_trace
from smspec.spec import hare
from smspec.tests.spec.hare.scenarios import SCENARIOS, UNSET, Input, Next, pid, trace_inputs


def expected_message(step: Next):
    if step.round is None:
        return None
    if step.ref is not None:
        value = {"proposals": [], "reference": "0x" + hare.proposals_hash(tuple(pid(x) for x in step.ref)).hex()}
    else:
        value = {"proposals": ["0x" + pid(x).hex() for x in step.proposals or []], "reference": None}
    return {"iter": step.iter, "round": step.round, **value}


def scenario_check(scenario):
    """A check of a trace output against the upstream test's expectations (UNSET: not asserted)."""
    def check(output: dict) -> None:
        outputs = output["steps"]
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
    return check


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_upstream_scenario(scenario):
    scenario_check(scenario)(run_trace(hare, to_json(trace_inputs(scenario, hare.proposals_hash))))


@vector_source("hare", "protocol", "trace")
def test_protocol_trace_vectors():
    for scenario in SCENARIOS:
        yield Case(f"upstream_{scenario.name}", inputs=trace_inputs(scenario, hare.proposals_hash),
                   check=scenario_check(scenario), spec_ref="hare.md#next_round",
                   description=f"go-spacemesh hare3/protocol_test.go TestProtocol scenario {scenario.name!r}")


def late_preround_trace() -> dict:
    """A preround message stamped at hardlock of iteration 1 (seven rounds late)."""
    a, b = pid("a"), pid("b")
    steps = [{"next": True}]
    steps.append({"input": {"sender": b"1".ljust(32, b"\0"), "iter": 0, "round": 0, "proposals": [a], "reference": None,
                            "proof": bytes(80), "count": 11, "atx_grade": 5, "malicious": False, "msg_hash": b"m1".ljust(32, b"\0")}})
    steps += [{"next": True}] * 6  # softlock propose wait1 wait2 commit notify
    steps.append({"input": {"sender": b"2".ljust(32, b"\0"), "iter": 0, "round": 0, "proposals": [b], "reference": None,
                            "proof": bytes([1]) + bytes(79), "count": 11, "atx_grade": 5, "malicious": False,
                            "msg_hash": b"m2".ljust(32, b"\0")}})
    steps += [{"next": True}] * 3  # hardlock softlock propose (iteration 1)
    return {"threshold": 10, "initial": [], "steps": steps}


def test_late_preround_is_not_counted():
    # Decision (hare.md grade_since): go-spacemesh grades this message 255 (uint8 wrap) and would
    # propose [a, b] in iteration 1; the spec grades it 0 and proposes [a].
    outputs = run_trace(hare, to_json(late_preround_trace()))["steps"]
    assert outputs[-1]["message"] == {"iter": 1, "round": 3, "proposals": ["0x" + pid("a").hex()], "reference": None}


@vector_source("hare", "protocol", "trace_decisions")
def test_decision_trace_vectors():
    expected_propose = {"iter": 1, "round": 3, "proposals": ["0x" + pid("a").hex()], "reference": None}

    def proposes_a_only(output: dict) -> None:
        assert output["steps"][-1]["message"] == expected_propose

    yield Case("late_preround_grade_saturates", inputs=late_preround_trace(), check=proposes_a_only,
               spec_ref="hare.md#grade_since-upstream_grade_since",
               description="a preround stamped at hardlock(1) does not count (upstream: grade 255, counts)")
