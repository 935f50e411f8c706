"""`smspec tortoise simulate` / `replay`: exit codes, one-line errors, saved traces replay."""

from __future__ import annotations

import json

import pytest
from smspec.tools.cli import main


def test_simulate_save_and_replay(tmp_path, capsys):
    trace = tmp_path / "run.json"
    assert main(["--preset", "tiny", "tortoise", "simulate", "--layers", "24", "--smeshers", "6",
                 "--partition", "4:4", "--quiet", "--save", str(trace)]) == 0
    out = capsys.readouterr().out
    assert "nodes agree on every verified layer: True" in out
    assert main(["--preset", "tiny", "tortoise", "replay", str(trace), "--backend", "spec", "--quiet"]) == 0
    assert "output records match the recording" in capsys.readouterr().out
    data = json.loads(trace.read_text())
    last_tally = [o for o in data["outputs"] if o["op"] == "tally"][-1]
    last_tally["verified"] -= 1
    trace.write_text(json.dumps(data))
    assert main(["--preset", "tiny", "tortoise", "replay", str(trace), "--quiet"]) == 1


@pytest.mark.parametrize("argv,message", [
    (["tortoise", "simulate", "--partition", "3"], "--partition: expected START:LENGTH"),
    (["tortoise", "simulate", "--byzantine", "2"], "--byzantine: expected a fraction"),
    (["tortoise", "simulate", "--missing-hare", "a,b"], "--missing-hare: expected comma-separated"),
    (["tortoise", "replay", "/nonexistent/trace.json"], "does not exist"),
])
def test_bad_input_is_one_line_error(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("smspec: error: ") and message in err and err.count("\n") == 1
