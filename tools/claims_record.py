"""pytest plugin: record how much checking each test had, for the docs' Claims page.

Loaded by ``python -m smspec.tools.claims_run`` (``-p smspec.tools.claims_record``). For every
test item it records the outcome, the call's duration and, for a Hypothesis test, the examples
it ran (the ``N passing, M failing`` counts of Hypothesis's own statistics, summed over its
phases). The file named by ``SMSPEC_CLAIMS_RECORD`` receives one JSON object per item.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Generator
from typing import Any

import pytest

_COUNTS = re.compile(r"(\d+) passing, (\d+) failing")


def hypothesis_examples(statistics: str) -> int:
    """Examples run, from Hypothesis's statistics text (every phase: reuse, generate, shrink)."""
    return sum(int(passing) + int(failing) for passing, failing in _COUNTS.findall(statistics))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    path = os.environ.get("SMSPEC_CLAIMS_RECORD")
    if not path or (report.when != "call" and not (report.when == "setup" and report.outcome != "passed")):
        return
    statistics = getattr(item, "hypothesis_statistics", None)
    entry = {
        "nodeid": item.nodeid,
        "outcome": report.outcome,
        "seconds": round(report.duration, 3),
        "examples": hypothesis_examples(statistics) if statistics else None,
    }
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")
