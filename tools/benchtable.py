"""Measures that benchmarks report for ``smspec bench all``: ours, the peer or limit, the ratio.

A benchmark module calls :func:`record` for each measure it prints. A peer measured in the same
run gives a ratio; a peer that cannot run here is recorded with :func:`elsewhere`: its figure
and where it was measured, and no ratio (a figure from another machine or day is never divided
into one measured now).
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass

ELSEWHERE = "measured elsewhere"
HERE = "measured in this run"


@dataclass(frozen=True)
class Measure:
    bench: str  # the benchmark (``smspec bench NAME``)
    name: str  # what is measured
    unit: str
    ours: float
    peer: str  # the peer implementation or physical limit compared against ("" for none)
    peer_value: float | None  # its figure in the same unit (None if there is no peer)
    source: str  # HERE, or ELSEWHERE plus where and by whom
    ratio: float | None  # ours / peer_value, only for a peer measured in this run

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


_RECORDED: list[Measure] = []


def record(bench: str, name: str, unit: str, ours: float, peer: str = "", peer_value: float | None = None,
           ) -> Measure:
    """A measure whose peer (if any) was measured in this run, side by side."""
    ratio = ours / peer_value if peer_value else None
    measure = Measure(bench, name, unit, ours, peer, peer_value, HERE if peer else "", ratio)
    _RECORDED.append(measure)
    return measure


def elsewhere(bench: str, name: str, unit: str, ours: float, peer: str, figure: str, where: str) -> Measure:
    """A measure whose peer cannot run here: its figure (text, e.g. a range) and its source."""
    measure = Measure(bench, name, unit, ours, f"{peer}: {figure}", None, f"{ELSEWHERE} ({where})", None)
    _RECORDED.append(measure)
    return measure


def take() -> list[Measure]:
    """The measures recorded since the last call (and forget them)."""
    taken = list(_RECORDED)
    _RECORDED.clear()
    return taken


def median(values: list[float]) -> float:
    return statistics.median(values)


def table(measures: list[Measure]) -> str:
    """The measures as an aligned text table."""
    rows = [("bench", "measure", "ours", "unit", "peer or limit", "peer", "ratio", "source")]
    for m in measures:
        rows.append((m.bench, m.name, f"{m.ours:.4g}", m.unit, m.peer,
                     "" if m.peer_value is None else f"{m.peer_value:.4g}",
                     "" if m.ratio is None else f"{m.ratio:.3g}x", m.source))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)
