"""Shrinking a counterexample: delta debugging over its schedule (tooling).

A schedule's *deviations* are the parts of its choices that differ from a quiet step (for Hare a
byzantine message with its delivery, an honest message delivered late or lost; for the tortoise
a byzantine ballot). ``ddmin`` (Zeller and Hildebrandt, 2002) removes deviations in halves,
quarters, ... down to single ones, keeping every removal after which the schedule, replayed on
the spec, still breaks the same invariant; the result is 1-minimal: removing any single
remaining deviation makes the violation disappear.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def invariant_of(violation: str) -> str:
    """The invariant a violation message names (the text before its colon)."""
    return violation.split(":", 1)[0]


def ddmin(items: list[Any], fails: Callable[[list[Any]], bool]) -> list[Any]:
    """A 1-minimal sublist of ``items`` for which ``fails`` holds (``fails(items)`` must hold)."""
    granularity = 2
    while len(items) >= 2:
        size = -(-len(items) // granularity)
        chunks = [items[i:i + size] for i in range(0, len(items), size)]
        reduced = False
        for index in range(len(chunks)):
            complement = [item for k, chunk in enumerate(chunks) if k != index for item in chunk]
            if fails(complement):
                items = complement
                granularity = max(granularity - 1, 2)
                reduced = True
                break
        if not reduced:
            if granularity >= len(items):
                break
            granularity = min(granularity * 2, len(items))
    if len(items) == 1 and fails([]):
        return []
    return items


def minimize(model: Any, schedule: list[Any], violations: list[str]) -> tuple[list[Any], list[str]]:
    """The shortest-found schedule that still breaks the first violated invariant, and the
    violations its replay shows."""
    target = invariant_of(violations[0])

    def fails(kept: list[Any]) -> bool:
        _, broken = model.replay(model.restrict(schedule, kept))
        return any(invariant_of(v) == target for v in broken)

    deviations = model.deviations(schedule)
    if not fails(deviations):
        raise AssertionError("the counterexample does not replay: the model is not deterministic")
    kept = ddmin(deviations, fails)
    minimal = model.restrict(schedule, kept)
    # cut the quiet steps after the violation (replay runs the session to its end anyway)
    _, broken = model.replay(minimal)
    return minimal, broken
