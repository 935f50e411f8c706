"""``smspec bench tortoise --repeat``: paired runs, alternating, and the median of their ratios."""

from __future__ import annotations

import re
import statistics

from smspec.tools.cli import main


def _rows(text: str, backend: str, layers: int) -> list[float]:
    """layers/s of each printed run of a backend at a size."""
    return [float(line.split()[2]) for line in text.splitlines() if line.split()[:2] == [backend, str(layers)]]


def test_repeat_alternates_and_prints_the_median_of_the_paired_ratios(capsys):
    assert main(["bench", "tortoise", "--layers", "4", "--ballots", "3", "--repeat", "3"]) == 0
    text = capsys.readouterr().out
    rows = [line.split()[0] for line in text.splitlines() if line.split()[1:2] == ["4"]]
    assert rows == ["spec", "impl"] * 3  # alternating, each pair under the same load
    spec, impl = _rows(text, "spec", 4), _rows(text, "impl", 4)
    (line,) = [line for line in text.splitlines() if "impl/spec at 4 layers" in line]
    found = re.search(r"median ([0-9.]+)x \(range ([0-9.]+)x to ([0-9.]+)x over 3 paired runs\)", line)
    assert found, line
    ratios = [i / s for i, s in zip(impl, spec)]  # from the printed (rounded) rates: within rounding
    for value, expected in zip(map(float, found.groups()), (statistics.median(ratios), min(ratios), max(ratios))):
        assert abs(value - expected) <= 0.05 + 0.01 * expected


def test_repeat_skips_the_spec_once_above_its_limit(capsys):
    assert main(["bench", "tortoise", "--layers", "5", "--ballots", "2", "--repeat", "2",
                 "--spec-max-layers", "4"]) == 0
    text = capsys.readouterr().out
    assert text.count("skipped (above --spec-max-layers 4)") == 1
    assert len(_rows(text, "impl", 5)) == 2 and "impl/spec at 5" not in text
