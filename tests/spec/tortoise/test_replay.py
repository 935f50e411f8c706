"""Replay of the historical go-spacemesh traces (workplace shared/data/tortoise-traces, May 2023).

They predate the opinion rework (June 2023) and PR #5002 (active set removed from the tortoise),
so they are not exact oracles for the pinned commit (tortoise.md §8.3); docs/tortoise.md records
where the replay differs. What must hold: every ballot decodes exactly as recorded (same accept /
reject), and the encoded opinion hashes and per-layer opinion hashes agree where the semantics
did not change. Skipped when the workplace data is not present.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import smspec.spec.tiny.tortoise as T
from smspec.tools import tortoise_trace

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "tortoise-traces"
DATA = DATA.resolve()


def replay(name: str):
    path = DATA / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    kind, events = tortoise_trace.load(path)
    assert kind == "legacy"
    return tortoise_trace.replay_legacy(T, events)


@pytest.mark.parametrize("name", ["partition_70_30_success.json", "failed_nodes_success.json"])
def test_replay_matches_hashes(name):
    report = replay(name)
    assert report.checks["decode"] > 400 and report.mismatches["decode"] == 0
    assert report.checks["encode"] > 10 and report.mismatches["encode"] == 0
    assert report.checks["layer_opinion"] > 50 and report.mismatches["layer_opinion"] == 0


def test_replay_partition_50_50_diverges_once():
    """All ballots decode as recorded; one encoded opinion (layer 20) differs, after which the
    layer opinions of the later layers differ too (documented in docs/tortoise.md)."""
    report = replay("partition_50_50_success.json")
    assert report.mismatches["decode"] == 0 and report.checks["decode"] == 804
    assert report.mismatches["encode"] == 1


def test_oldest_schema_is_refused_clearly():
    path = DATA / "failed_nodes_2023-05-30_oldformat.json"
    if not path.exists():
        pytest.skip(f"{path} not available")
    kind, events = tortoise_trace.load(path)
    with pytest.raises(tortoise_trace.TraceError, match="2023-05-30 schema"):
        tortoise_trace.replay_legacy(T, events)
