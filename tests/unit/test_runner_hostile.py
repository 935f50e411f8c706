"""The conformance runner against hostile and broken client adapters (issue 15).

Every behaviour ends in a verdict per case and a summary: noise is reported and skipped, a
client that exits, closes its output, hangs or floods is stopped (its whole process group) and
the remaining cases are reported ``not run``. The adapters are tiny Python scripts (one
behaviour each, chosen by argv) answering cases whose expected output echoes their input.
"""

from __future__ import annotations

import json
import os
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from smspec.conformance import runner
from smspec.conformance.runner import StoredCase, bounded_json, choose, run_client, values_equal

ADAPTER = r'''
import json, os, signal, subprocess, sys, time
behaviour = sys.argv[1]
out = sys.stdout
def send(obj):
    out.write(json.dumps(obj) + "\n"); out.flush()
for line in sys.stdin:
    request = json.loads(line)
    i = request["id"]
    good = {"id": i, "output": {"n": request["inputs"]["n"]}}
    if behaviour == "no_reading":
        send(good); time.sleep(60)  # never reads the second request
    if i != 2:
        if behaviour == "decimal_strings":
            good["output"]["n"] = str(request["inputs"]["n"])
        send(good); continue
    if behaviour == "noise":
        out.write("starting up...\n"); out.write("\x00garbage\n"); send(good)
    elif behaviour == "not_utf8":
        out.buffer.write(b"\xff\xfe log\n"); out.flush(); send(good)
    elif behaviour == "not_objects":
        out.write("[1, 2]\n"); out.write('{"level": "info"}\n'); out.write('"text"\n'); send(good)
    elif behaviour == "deep_then_answer":
        out.write("[" * 100000 + "\n"); send(good)
    elif behaviour == "deep_only":
        out.write("[" * 100000 + "\n"); out.flush(); time.sleep(60)
    elif behaviour == "nan":
        out.write('{"id": %d, "output": {"n": NaN}}\n' % i); send(good)
    elif behaviour == "close_stdout":
        out.flush(); os.close(1); time.sleep(60)
    elif behaviour == "exit":
        sys.exit(3)
    elif behaviour == "killed":
        os.kill(os.getpid(), signal.SIGKILL)
    elif behaviour == "hang":
        time.sleep(60)
    elif behaviour == "grandchild":
        child = subprocess.Popen(["sleep", "60"])  # inherits stdout and keeps it open
        with open(sys.argv[2], "w") as f:
            f.write(str(child.pid))
        os._exit(0)
    elif behaviour == "flood":
        chunk = "x" * 65536
        for _ in range(400):
            out.write(chunk)
        out.flush(); time.sleep(60)
    elif behaviour == "wrong_id":
        send({**good, "id": 99})
    elif behaviour == "twice":
        send(good); send(good)
    elif behaviour == "stale_then_answer":
        send({"id": 1, "output": {}}); send(good)
    elif behaviour == "unsupported_no":
        send({"id": i, "unsupported": "no"})
    elif behaviour == "unsupported_false":
        send({"id": i, "unsupported": False})
    elif behaviour == "unsupported_and_output":
        send({**good, "unsupported": True})
    elif behaviour == "unsupported":
        send({"id": i, "unsupported": True})
    elif behaviour == "output_and_error":
        send({**good, "error": "InvalidValue"})
    elif behaviour == "neither":
        send({"id": i, "result": 1})
    elif behaviour == "error_not_string":
        send({"id": i, "error": 5})
    elif behaviour == "bool_for_int":
        send({"id": i, "output": {"n": True}})
    elif behaviour == "leading_zero":
        send({"id": i, "output": {"n": "01"}})
    else:
        send(good)
'''


def make_case(tmp_path: Path, name: str, n: int) -> StoredCase:
    document = {
        "format": runner.VECTOR_FORMAT,
        "manifest": {"preset": "mainnet", "domain": "selftest", "runner": "echo", "handler": "n", "case": name},
        "description": "echo", "spec_ref": "", "inputs": {"n": n}, "expected": {"output": {"n": n}}, "blobs": {},
    }
    return StoredCase(tmp_path / name / "case.json", document)


@pytest.fixture
def cases(tmp_path: Path) -> list[StoredCase]:
    return [make_case(tmp_path, f"c{i}", value) for i, value in enumerate((1, 2, 2**60, 4), start=1)]


def run_behaviour(tmp_path: Path, cases: list[StoredCase], behaviour: str, *extra: str, timeout: float = 5.0,
                  max_answer_bytes: int = runner.MAX_ANSWER_BYTES) -> runner.RunSummary:
    script = tmp_path / "adapter.py"
    script.write_text(ADAPTER)
    command = " ".join([sys.executable, str(script), behaviour, *extra])
    return run_client(command, cases, tmp_path / "blobs", timeout=timeout, max_answer_bytes=max_answer_bytes)


def statuses(summary: runner.RunSummary) -> list[str]:
    return [r.status + (" (not run)" if r.not_run else "") for r in summary.results]


ALL_PASS = ["passed"] * 4


@pytest.mark.parametrize(("behaviour", "notes"), [
    ("noise", ["stray output (not JSON (Expecting value: line 1 column 1 (char 0))): 'starting up...'",
               "stray output (not JSON (Expecting value: line 1 column 1 (char 0))): '\\x00garbage'"]),
    ("not_utf8", ["stray output (not UTF-8): '\\\\xff\\\\xfe log'"]),
    ("not_objects", ["stray output (not an answer object): '[1, 2]'",
                     "stray output (not an answer object): '{\"level\": \"info\"}'",
                     "stray output (not an answer object): '\"text\"'"]),
    ("deep_then_answer", [f"stray output (nested deeper than 128 levels): {'[' * 120!r}..."]),
    ("nan", ["stray output (not JSON (NaN is not JSON)): '{\"id\": 2, \"output\": {\"n\": NaN}}'"]),
    ("twice", ["a second answer to request 2 ignored"]),
    ("stale_then_answer", ["a second answer to request 1 ignored"]),
])
def test_noise_is_reported_not_fatal(tmp_path, cases, behaviour, notes) -> None:
    summary = run_behaviour(tmp_path, cases, behaviour)
    assert statuses(summary) == ALL_PASS
    assert [n.text for n in summary.notes] == notes
    case = "mainnet/selftest/echo/n/c3" if behaviour == "twice" else "mainnet/selftest/echo/n/c2"
    assert {n.case for n in summary.notes} == {case}


@pytest.mark.parametrize(("behaviour", "detail"), [
    ("close_stdout", "the client closed its standard output and kept running"),
    ("exit", "the client exited with status 3"),
    ("killed", "the client was killed by signal 9"),
    ("hang", "no answer within 2 s"),
    ("deep_only", "no answer within 2 s (after 1 stray line(s))"),
    ("no_reading", None),  # the request fits the pipe buffer: a plain timeout
])
def test_a_client_that_cannot_answer_fails_the_rest_in_one_line(tmp_path, cases, behaviour, detail) -> None:
    started = time.monotonic()
    summary = run_behaviour(tmp_path, cases, behaviour, timeout=2.0)
    assert time.monotonic() - started < 20  # the runner never waits for the client's 60 s sleep
    assert statuses(summary) == ["passed", "failed", "failed (not run)", "failed (not run)"]
    assert summary.results[1].detail == (detail or "no answer within 2 s")
    reason = detail if behaviour not in ("hang", "deep_only", "no_reading") else \
        f"the client stopped answering ({detail or 'no answer within 2 s'})"
    assert summary.results[2].detail == f"not run: {reason}"
    assert summary.line == "1 passed, 3 failed, 0 skipped"


def test_a_client_that_does_not_read_a_big_request_times_out(tmp_path) -> None:
    """A request larger than the pipe buffer, to a client that never reads: the write is bounded."""
    big = [make_case(tmp_path, "c1", 1), make_case(tmp_path, "c2", 2)]
    big[1].document["inputs"]["pad"] = "00" * 2**20
    summary = run_behaviour(tmp_path, big, "no_reading", timeout=2.0)
    assert statuses(summary) == ["passed", "failed"]
    assert summary.results[1].detail == "the client did not read its request within 2 s"


def test_a_grandchild_holding_the_output_is_stopped_too(tmp_path, cases) -> None:
    pid_file = tmp_path / "grandchild.pid"
    summary = run_behaviour(tmp_path, cases, "grandchild", str(pid_file), timeout=2.0)
    assert summary.results[1].detail == "no answer within 2 s"
    pid = int(pid_file.read_text())
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the adapter's child {pid} still runs")


def test_an_endless_line_is_cut_at_the_bound(tmp_path, cases) -> None:
    """25 MiB without a newline against a 1 MiB bound: refused once the bound is passed."""
    summary = run_behaviour(tmp_path, cases, "flood", timeout=20.0, max_answer_bytes=2**20)
    assert statuses(summary) == ["passed", "failed", "failed (not run)", "failed (not run)"]
    assert summary.results[1].detail == f"the client wrote a line longer than {2**20} bytes"


@pytest.mark.parametrize(("behaviour", "status", "detail"), [
    ("wrong_id", "failed", "answer carries id 99, expected 2"),
    ("unsupported_no", "failed", "'unsupported' must be true, got \"no\""),
    ("unsupported_false", "failed", "'unsupported' must be true, got false"),
    ("unsupported_and_output", "failed",
     "an answer carries exactly one of output, error, unsupported; this one has output, unsupported"),
    ("output_and_error", "failed",
     "an answer carries exactly one of output, error, unsupported; this one has output, error"),
    ("neither", "failed", "an answer carries exactly one of output, error, unsupported; this one has none"),
    ("error_not_string", "failed", "'error' must be an error class name, got 5"),
    ("bool_for_int", "failed", "output differs:\n  n: expected 2\n     got      true"),
    ("leading_zero", "failed", "output differs:\n  n: expected 2\n     got      \"01\""),
    ("unsupported", "skipped", "client: unsupported"),
])
def test_malformed_answers_fail_only_their_case(tmp_path, cases, behaviour, status, detail) -> None:
    summary = run_behaviour(tmp_path, cases, behaviour)
    assert statuses(summary) == ["passed", status, "passed", "passed"]
    assert summary.results[1].detail == detail


def test_numbers_may_be_decimal_strings(tmp_path, cases) -> None:
    """The format: read every integer as "number or decimal string", both ways."""
    summary = run_behaviour(tmp_path, cases, "decimal_strings")
    assert statuses(summary) == ALL_PASS
    assert values_equal("18446744073709551615", 18446744073709551615)
    assert values_equal(100000, "100000")
    assert not values_equal(1, True) and not values_equal(True, 1) and not values_equal(0, None)
    assert not values_equal("0x01", 1) and not values_equal(5, "5.0") and not values_equal(5, "+5")
    assert values_equal({"a": [1, "2"]}, {"a": ["1", 2]})
    assert not values_equal({"a": 1}, {"a": 1, "b": 2})


def test_bounded_json() -> None:
    assert bounded_json(b'{"a": "[[[["}', "x") == {"a": "[[[["}  # brackets in strings do not count
    assert bounded_json(b"[" * 128 + b"]" * 128, "x") is not None
    with pytest.raises(ValueError, match="nested deeper than 128 levels"):
        bounded_json(b"[" * 129 + b"]" * 129, "x")
    with pytest.raises(ValueError, match="not JSON"):
        bounded_json(b"[Infinity]", "x")


@pytest.mark.parametrize(("patterns", "expected"), [
    (["crypto/signature/ed25519"], ["crypto/signature/ed25519_sign/a", "crypto/signature/ed25519_verify/b"]),
    (["crypto/signature/sign"], ["crypto/signature/sign/c"]),
    (["crypto/signature/ed25519_verify/b"], ["crypto/signature/ed25519_verify/b"]),
    (["scale"], ["scale/codec/bool/d"]),
    (["/scale/codec"], ["scale/codec/bool/d"]),
    (["nosuch"], []),
])
def test_filters_select_by_prefix(tmp_path, patterns, expected) -> None:
    names = ["crypto/signature/ed25519_sign/a", "crypto/signature/ed25519_verify/b", "crypto/signature/sign/c",
             "scale/codec/bool/d"]
    stored = []
    for name in names:
        domain, run_name, handler, case = name.split("/")
        stored.append(StoredCase(tmp_path, {"manifest": {"preset": "mainnet", "domain": domain, "runner": run_name,
                                                         "handler": handler, "case": case}}))
    assert [c.name.split("/", 1)[1] for c in choose(stored, patterns, [], [])] == expected
    assert [c.name.split("/", 1)[1] for c in choose(stored, [], patterns, [])] == [n for n in names if n not in expected]


def test_levels_reports_and_coverage(tmp_path, capsys) -> None:
    """A run through the command line: levels, the coverage line, JUnit and JSON reports."""
    root = tmp_path / "vectors"
    levels = {"c1": {}, "c2": {"level": "spec-strict", "decision": "scale.md#string"}, "c3": {"typed_input": False},
              "c4": {}}
    for i, (name, extra) in enumerate(levels.items(), start=1):
        case = make_case(root, name, i)
        path = root / "mainnet" / "selftest" / "echo" / ("n" if i < 4 else "m") / name / "case.json"
        case.document["manifest"]["handler"] = "n" if i < 4 else "m"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({**case.document, **extra}))
    script = tmp_path / "adapter.py"
    script.write_text(ADAPTER)
    junit, report = tmp_path / "out.xml", tmp_path / "out.json"
    argv = ["--dir", str(root), "--client", f"{sys.executable} {script} unsupported", "--report", "junit", str(junit),
            "--report", "json", str(report)]
    assert runner.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "coverage: answered 3 of 4 cases (75.0%), unsupported 1; handlers answered: 2 of 2",
        "live: 1 passed, 0 failed, 1 skipped; spec-strict: 1 passed, 0 failed, 0 skipped; "
        "untyped-input: 1 passed, 0 failed, 0 skipped",
        "3 passed, 0 failed, 1 skipped",
    ]
    tree = ET.parse(junit).getroot()
    assert tree.attrib == {"name": "smspec-conformance", "tests": "4", "failures": "0", "skipped": "1"}
    assert [s.attrib["name"] for s in tree] == ["live", "spec-strict", "untyped-input"]
    # cases run in path order: handler m (c4) first, so c1 gets id 2 and the answer "unsupported"
    assert [c.attrib["name"] for c in tree.iter("testcase")] == ["c4", "c1", "c2", "c3"]
    assert tree.find("testsuite/testcase[@name='c1']/skipped").attrib == {"message": "client: unsupported"}
    data = json.loads(report.read_text())
    assert data["summary"]["live"] == {"passed": 1, "failed": 0, "skipped": 1}
    assert data["cases"]["mainnet/selftest/echo/n/c1"] == {"status": "skipped", "level": "live",
                                                           "detail": "client: unsupported"}
    assert data["cases"]["mainnet/selftest/echo/n/c2"] == {"status": "passed", "level": "spec-strict"}
    assert runner.main([*argv, "--live"]) == 0
    assert capsys.readouterr().out.splitlines()[-2:] == ["live: 1 passed, 0 failed, 1 skipped",
                                                         "1 passed, 0 failed, 1 skipped"]
    assert runner.main([*argv[:4], "--report", "xml", str(junit)]) == 2
    assert capsys.readouterr().err == "run.py: error: --report: unknown format 'xml' (junit or json)\n"


def test_a_modified_case_file_is_refused(tmp_path, capsys) -> None:
    root = tmp_path / "vectors"
    case = make_case(root, "c1", 1)
    path = root / "mainnet" / "selftest" / "echo" / "n" / "c1" / "case.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(case.document))
    (root / "index.json").write_text(json.dumps({"format": runner.INDEX_FORMAT, "cases": {
        "mainnet/selftest/echo/n/c1/case.json": "0" * 64}}))
    assert runner.main(["--dir", str(root), "--client", "true"]) == 2
    assert capsys.readouterr().err == f"run.py: error: {path}: sha256 differs from index.json (a modified case file)\n"


def test_a_devnet_case_is_reported_under_devnet_only(tmp_path) -> None:
    manifest = {"preset": "tiny", "domain": "node", "runner": "proposal", "handler": "validate", "case": "c"}
    for extra, level in [({"level": "devnet", "typed_input": False}, "devnet"), ({"level": "devnet"}, "devnet"),
                         ({"level": "live", "typed_input": False}, "untyped-input"), ({"level": "live"}, "live")]:
        assert StoredCase(tmp_path, {"manifest": manifest, **extra}).level == level
    assert runner.LEVELS == ("live", "spec-strict", "untyped-input", "devnet")
