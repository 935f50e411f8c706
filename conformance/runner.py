#!/usr/bin/env python3
"""The smspec conformance runner: drives a client adapter through the vectors.

This file stands alone: it needs Python >= 3.9 and its standard library only, so a release
tarball ships it as ``run.py`` and a client team runs ``python3 run.py --client "./my-adapter"``
without installing smspec. ``smspec vectors run`` is this runner too.

The runner starts the client once and exchanges one JSON object per line over its standard input
and output (protocol ``smspec-adapter/1``, ``formats/adapter.md``)::

    runner -> client  {"id": 7, "preset": "mainnet", "domain": "scale", "runner": "codec",
                       "handler": "compact32", "case": "max", "inputs": {...}}
    client -> runner  {"id": 7, "output": {...}}
                  or  {"id": 7, "error": "InvalidEncoding", "reason": "trailing_bytes"}
                  or  {"id": 7, "unsupported": true}

Nothing the client does ends the runner without a verdict per case and a summary: a line that
is not an answer (a log line, non-UTF-8 bytes, JSON nested too deeply) is reported and skipped;
an answer line longer than ``--max-answer-bytes``, a client that exits, closes its standard
output or stops answering within ``--timeout`` fails that case in one line, the client is
stopped (its whole process group) and the remaining cases are reported ``not run``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import selectors
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

VECTOR_FORMAT = "smspec-vector/1"
INDEX_FORMAT = "smspec-vectors-index/1"
PROTOCOL = "smspec-adapter/1"
REPORT_FORMAT = "smspec-conformance-report/1"
MAX_DEPTH = 128  # deepest JSON nesting read from a client or a case file
MAX_ANSWER_BYTES = 64 * 2**20  # longest answer line (the largest expected output is ~0.2 MB)
MAX_CASE_BYTES = 64 * 2**20
STOP_GRACE_SECONDS = 2.0  # how long a client may take to exit after its input is closed
LEVELS = ("live", "spec-strict", "untyped-input", "devnet")
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)\Z")
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


class VectorError(Exception):
    """The vectors cannot be read (a missing, modified or malformed file): one line for the user."""


# ---------------------------------------------------------------------------------------------
# Bounded JSON


def json_depth(text: str, limit: int) -> int:
    """The deepest ``[``/``{`` nesting of JSON ``text`` (strings skipped), stopping above ``limit``."""
    depth = deepest = 0
    for token in _JSON_TOKENS.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif char in "]}":
            depth -= 1
    return deepest


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def bounded_json(data: bytes, what: str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse RFC 8259 JSON from bytes (UTF-8, no NaN/Infinity, nesting at most ``max_depth``);
    ValueError with a one-line reason otherwise."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{what} is not UTF-8") from None
    if json_depth(text, max_depth) > max_depth:
        raise ValueError(f"{what} is nested deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as e:
        raise ValueError(f"{what} is not JSON ({str(e)[:100]})") from None


# ---------------------------------------------------------------------------------------------
# Comparing outcomes


def is_integer_text(value: Any) -> bool:
    return isinstance(value, str) and _DECIMAL.match(value) is not None


def as_integer(value: Any) -> int | None:
    """The integer a JSON value denotes (a number, or a canonical decimal string), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if is_integer_text(value):
        return int(value)
    return None


def values_equal(want: Any, got: Any) -> bool:
    """JSON equality with the format's one allowance: where an integer is expected (a number or
    a decimal string), a number or a canonical decimal string of the same value matches.
    Booleans are never numbers; object keys must be the same."""
    if isinstance(want, bool) or isinstance(got, bool) or want is None or got is None:
        return type(want) is type(got) and want == got
    expected_integer = as_integer(want)
    if expected_integer is not None:
        return as_integer(got) == expected_integer
    if isinstance(want, dict):
        return (isinstance(got, dict) and set(want) == set(got)
                and all(values_equal(want[k], got[k]) for k in want))
    if isinstance(want, list):
        return (isinstance(got, list) and len(want) == len(got)
                and all(values_equal(a, b) for a, b in zip(want, got)))
    return type(want) is type(got) and want == got


def outcome_matches(expected: dict[str, Any], got: dict[str, Any]) -> bool:
    """An error case matches on the class, and on the reason when the case names one; an output
    case matches when the output equals the expected one (:func:`values_equal`)."""
    if "error" in expected:
        if got.get("error") != expected["error"]:
            return False
        return "reason" not in expected or got.get("reason") == expected["reason"]
    return "error" not in got and "output" in got and values_equal(expected.get("output"), got["output"])


def show_outcome(outcome: dict[str, Any]) -> str:
    """One line for an outcome: its error (and reason), or the start of its output."""
    if "error" in outcome:
        return f"error {outcome['error']}" + (f" ({outcome['reason']})" if outcome.get("reason") else "")
    if "unsupported" in outcome:
        return "unsupported"
    return f"output {json.dumps(outcome.get('output'), sort_keys=True)[:200]}"


def describe_difference(expected: dict[str, Any], got: dict[str, Any]) -> str:
    """A short human-readable diff of two outcomes."""
    if "error" in expected and got.get("error") == expected["error"]:
        return (f"right error class {expected['error']}, wrong reason: expected {expected.get('reason')!r}, "
                f"got {got.get('reason')!r}")
    if "error" in expected or "error" in got:
        return f"expected {show_outcome(expected)}, got {show_outcome(got)}"
    lines = []
    want, have = expected.get("output"), got.get("output")
    if isinstance(want, dict) and isinstance(have, dict):
        for k in sorted(set(want) | set(have)):
            if not values_equal(want.get(k, "<missing>"), have.get(k, "<missing>")):
                lines.append(f"  {k}: expected {json.dumps(want.get(k, '<missing>'))[:160]}")
                lines.append(f"  {' ' * len(k)}  got      {json.dumps(have.get(k, '<missing>'))[:160]}")
        return "output differs:\n" + "\n".join(lines)
    return f"expected {json.dumps(want)[:200]}, got {json.dumps(have)[:200]}"


# ---------------------------------------------------------------------------------------------
# Reading vectors


@dataclass
class StoredCase:
    path: Path
    document: dict[str, Any]

    @property
    def key(self) -> str:
        m = self.document["manifest"]
        return f"{m['domain']}/{m['runner']}/{m['handler']}"

    @property
    def preset(self) -> str:
        return str(self.document["manifest"]["preset"])

    @property
    def name(self) -> str:
        m = self.document["manifest"]
        return f"{m['preset']}/{m['domain']}/{m['runner']}/{m['handler']}/{m['case']}"

    @property
    def level(self) -> str:
        """``live``, ``spec-strict`` (a rule stricter than the live network), ``untyped-input``
        (live behaviour, on an input a typed client cannot represent), or ``devnet`` (a rule only
        smspec's devnet has: no live network runs it)."""
        if self.document.get("level") == "devnet":
            return "devnet"
        if self.document.get("level") == "spec-strict":
            return "spec-strict"
        if self.document.get("typed_input") is False:
            return "untyped-input"
        return "live"


def _read_bounded(path: Path, limit: int) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise VectorError(f"{path}: larger than {limit} bytes")
    return data


def _case_document(path: Path, data: bytes) -> dict[str, Any]:
    try:
        document = bounded_json(data, str(path))
    except ValueError as e:
        raise VectorError(str(e)) from None
    if not isinstance(document, dict) or document.get("format") != VECTOR_FORMAT:
        found = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise VectorError(f"{path}: unknown format {found!r} (expected {VECTOR_FORMAT})")
    manifest = document.get("manifest")
    fields = ("preset", "domain", "runner", "handler", "case")
    if (not isinstance(manifest, dict) or not all(isinstance(manifest.get(f), str) for f in fields)
            or not isinstance(document.get("inputs"), dict) or not isinstance(document.get("expected"), dict)):
        raise VectorError(f"{path}: not a case (manifest, inputs and expected are required)")
    return document


def load_index(root: Path) -> dict[str, Any] | None:
    path = root / "index.json"
    if not path.is_file():
        return None
    try:
        index = bounded_json(_read_bounded(path, MAX_CASE_BYTES), str(path))
    except (ValueError, OSError) as e:
        raise VectorError(f"{path}: {e}") from None
    if not isinstance(index, dict) or index.get("format") != INDEX_FORMAT or not isinstance(index.get("cases"), dict):
        raise VectorError(f"{path}: not a vector index ({INDEX_FORMAT})")
    return index


def load_cases(root: Path) -> list[StoredCase]:
    """Every case under ``root``, sorted by path. With an ``index.json`` (a generated or released
    tree), exactly the cases it lists, each checked against its sha256."""
    index = load_index(root)
    found = []
    if index is None:
        paths = sorted(root.glob("*/*/*/*/*/case.json"))
    else:
        paths = [root / name for name in sorted(index["cases"])]
        listed = set(paths)
        extra = [p for p in sorted(root.glob("*/*/*/*/*/case.json")) if p not in listed]
        if extra:
            raise VectorError(f"{extra[0]}: a case file that index.json does not list")
    for path in paths:
        try:
            data = _read_bounded(path, MAX_CASE_BYTES)
        except OSError as e:
            raise VectorError(f"{path}: {e.strerror or e}") from None
        if index is not None:
            digest = hashlib.sha256(data).hexdigest()
            if digest != index["cases"][str(path.relative_to(root)).replace(os.sep, "/")]:
                raise VectorError(f"{path}: sha256 differs from index.json (a modified case file)")
        found.append(StoredCase(path, _case_document(path, data)))
    return found


def pattern_matches(pattern: str, name: str) -> bool:
    """A filter PATTERN selects the cases whose ``domain/runner/handler/case`` starts with it
    (``scale``, ``crypto/signature/ed25519``, ``post/labels/scrypt/index_0``)."""
    return name.startswith(pattern.lstrip("/"))


def selected(name: str, only: list[str], skip: list[str]) -> bool:
    if only and not any(pattern_matches(p, name) for p in only):
        return False
    return not any(pattern_matches(p, name) for p in skip)


def choose(cases: list[StoredCase], only: list[str], skip: list[str], presets: list[str],
           live: bool = False) -> list[StoredCase]:
    """The cases that pass the filters (``presets`` empty: all; ``live``: live cases only)."""
    return [
        c for c in cases
        if selected(c.name.split("/", 1)[1], only, skip)
        and (not presets or c.preset in presets)
        and (not live or c.level == "live")
    ]


# ---------------------------------------------------------------------------------------------
# Talking to the client


class ClientGone(Exception):
    """The client cannot answer any more (exited, closed its output, stopped answering, or wrote
    an oversized line): the verdict of the current case, and the reason later cases are not run."""


class ClientProcess:
    """A running client adapter: line-based requests and answers with time and size bounds."""

    def __init__(self, command: str, max_answer_bytes: int = MAX_ANSWER_BYTES) -> None:
        self.command = command
        self.max_answer_bytes = max_answer_bytes
        self.process = subprocess.Popen(
            shlex.split(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            env={**os.environ, "SMSPEC_ADAPTER_PROTOCOL": PROTOCOL},
            start_new_session=True,  # its own process group: stopping it stops its children too
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin_fd = self.process.stdin.fileno()
        self.stdout_fd = self.process.stdout.fileno()
        os.set_blocking(self.stdin_fd, False)
        self.buffer = bytearray()
        self.scanned = 0  # bytes of `buffer` known to hold no newline
        self.closed = False

    def _gone(self, what: str) -> ClientGone:
        """Why the client cannot answer, after ``what`` happened to its pipe: it exited (with its
        status), or it is still running."""
        try:
            self.process.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            return ClientGone(f"the client {what} and kept running")
        status = self.process.returncode
        if status < 0:
            return ClientGone(f"the client was killed by signal {-status}")
        return ClientGone(f"the client exited with status {status}")

    def send(self, message: dict[str, Any], deadline: float, timeout: float) -> None:
        """Write one request line, never blocking past ``deadline`` (a client that stops reading
        its input would otherwise hang the runner)."""
        data = memoryview((json.dumps(message, sort_keys=True) + "\n").encode())
        with selectors.DefaultSelector() as selector:
            selector.register(self.stdin_fd, selectors.EVENT_WRITE)
            while data:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ClientGone(f"the client did not read its request within {timeout:g} s")
                if not selector.select(remaining):
                    continue
                try:
                    written = os.write(self.stdin_fd, data)
                except BlockingIOError:
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    raise self._gone("closed its standard input") from None
                data = data[written:]

    def read_line(self, deadline: float, timeout: float) -> bytes:
        """The next line of the client's output (without its newline). The newline scan is
        linear: each byte is examined once, however the line arrives."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.stdout_fd, selectors.EVENT_READ)
            while True:
                newline = self.buffer.find(b"\n", self.scanned)
                if newline >= 0:
                    line = bytes(self.buffer[:newline])
                    del self.buffer[:newline + 1]
                    self.scanned = 0
                    return line
                self.scanned = len(self.buffer)
                if len(self.buffer) > self.max_answer_bytes:
                    raise ClientGone(f"the client wrote a line longer than {self.max_answer_bytes} bytes")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no answer within {timeout:g} s")
                if not selector.select(remaining):
                    continue
                chunk = os.read(self.stdout_fd, 1 << 16)
                if not chunk:
                    raise self._gone("closed its standard output")
                self.buffer += chunk

    def close(self) -> None:
        """Close the client's input, give it a moment to exit, then stop its process group."""
        if self.closed:
            return
        self.closed = True
        try:
            assert self.process.stdin is not None
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            pass
        for sig, wait in ((signal.SIGTERM, 1.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.process.pid, sig)  # the client's children too (its own session)
            except (ProcessLookupError, PermissionError):
                break  # nothing of the group is left
            try:
                self.process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        assert self.process.stdout is not None
        self.process.stdout.close()


# ---------------------------------------------------------------------------------------------
# Running


@dataclass
class CaseResult:
    name: str
    status: str  # "passed", "failed", "skipped"
    detail: str = ""
    level: str = "live"
    not_run: bool = False


@dataclass
class Note:
    """Something the client did that is reported but is not a case's verdict (a stray line)."""

    case: str
    text: str


@dataclass
class RunSummary:
    results: list[CaseResult] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    interrupted: bool = False

    def count(self, status: str, level: str | None = None) -> int:
        return sum(1 for r in self.results if r.status == status and (level is None or r.level == level))

    @property
    def line(self) -> str:
        return f"{self.count('passed')} passed, {self.count('failed')} failed, {self.count('skipped')} skipped"

    @property
    def level_line(self) -> str:
        """``live: N passed, N failed, N skipped; spec-strict: ...; untyped-input: ...; devnet: ...``."""
        parts = []
        for level in LEVELS:
            if any(r.level == level for r in self.results):
                parts.append(f"{level}: {self.count('passed', level)} passed, {self.count('failed', level)} failed, "
                             f"{self.count('skipped', level)} skipped")
        return "; ".join(parts)

    @property
    def coverage_line(self) -> str:
        """Which cases and handlers the client answered (anything but ``unsupported``)."""
        total = len(self.results)
        answered = [r for r in self.results if r.status != "skipped" and not r.not_run]
        unsupported = self.count("skipped")
        handlers = {r.name.rsplit("/", 1)[0].split("/", 1)[1] for r in self.results}
        answered_handlers = {r.name.rsplit("/", 1)[0].split("/", 1)[1] for r in answered}
        share = 100.0 * len(answered) / total if total else 0.0
        not_run = sum(1 for r in self.results if r.not_run)
        return (f"coverage: answered {len(answered)} of {total} cases ({share:.1f}%), unsupported {unsupported}"
                + (f", not run {not_run}" if not_run else "")
                + f"; handlers answered: {len(answered_handlers)} of {len(handlers)}")


def request_for(case: StoredCase, case_id: int, blob_dir: Path) -> dict[str, Any]:
    m = case.document["manifest"]
    return {
        "id": case_id,
        "preset": m["preset"],
        "domain": m["domain"],
        "runner": m["runner"],
        "handler": m["handler"],
        "case": m["case"],
        "inputs": _with_blob_paths(case.document["inputs"], blob_dir),
    }


def _with_blob_paths(value: Any, blob_dir: Path) -> Any:
    if isinstance(value, dict):
        if set(value) == {"blob", "size"}:
            return {**value, "path": str((blob_dir / f"{value['blob']}.bin").resolve())}
        return {k: _with_blob_paths(v, blob_dir) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_blob_paths(v, blob_dir) for v in value]
    return value


def _excerpt(line: bytes) -> str:
    text = line[:120].decode("utf-8", "backslashreplace")
    return repr(text) + ("..." if len(line) > 120 else "")


def receive_answer(client: ClientProcess, case: StoredCase, case_id: int, deadline: float, timeout: float,
                   note: Callable[[Note], None]) -> dict[str, Any]:
    """Read lines until one is an answer: a JSON object carrying an ``id``. Any other line is
    noise (reported through ``note``), and so is an answer to an earlier request."""
    stray = 0
    while True:
        try:
            line = client.read_line(deadline, timeout)
        except TimeoutError as e:
            raise TimeoutError(f"{e}" + (f" (after {stray} stray line(s))" if stray else "")) from None
        if not line.strip():
            continue
        try:
            answer = bounded_json(line, "line")
        except ValueError as e:
            stray += 1
            note(Note(case.name, f"stray output ({str(e).split(' ', 2)[-1]}): {_excerpt(line)}"))
            continue
        if not isinstance(answer, dict) or "id" not in answer:
            stray += 1
            note(Note(case.name, f"stray output (not an answer object): {_excerpt(line)}"))
            continue
        answer_id = answer["id"]
        if isinstance(answer_id, int) and not isinstance(answer_id, bool) and 0 < answer_id < case_id:
            stray += 1
            note(Note(case.name, f"a second answer to request {answer_id} ignored"))
            continue
        return answer


def judge(case: StoredCase, case_id: int, answer: dict[str, Any]) -> CaseResult:
    """The verdict on one answer (see ``formats/adapter.md``, "Answers")."""
    def result(status: str, detail: str = "") -> CaseResult:
        return CaseResult(case.name, status, detail, case.level)

    if answer.get("id") != case_id or isinstance(answer.get("id"), bool):
        return result("failed", f"answer carries id {answer.get('id')!r}, expected {case_id}")
    kinds = [k for k in ("output", "error", "unsupported") if k in answer]
    if len(kinds) != 1:
        return result("failed", "an answer carries exactly one of output, error, unsupported; this one has "
                      + (", ".join(kinds) if kinds else "none"))
    if "unsupported" in answer:
        if answer["unsupported"] is not True:
            return result("failed", f"'unsupported' must be true, got {json.dumps(answer['unsupported'])[:60]}")
        return result("skipped", "client: unsupported")
    if "error" in answer:
        if not isinstance(answer["error"], str) or not answer["error"]:
            return result("failed", f"'error' must be an error class name, got {json.dumps(answer['error'])[:60]}")
        if answer.get("reason") is not None and not isinstance(answer["reason"], str):
            return result("failed", f"'reason' must be a string or absent, got {json.dumps(answer['reason'])[:60]}")
    got = {k: answer[k] for k in ("output", "error", "reason") if k in answer}
    expected = case.document["expected"]
    if outcome_matches(expected, got):
        return result("passed")
    return result("failed", describe_difference(expected, got))


def run_client(
    command: str,
    cases: list[StoredCase],
    blob_dir: Path,
    timeout: float = 60.0,
    on_result: Callable[[CaseResult], None] | None = None,
    on_note: Callable[[Note], None] | None = None,
    max_answer_bytes: int = MAX_ANSWER_BYTES,
) -> RunSummary:
    """Send every case to the client and judge its answers. Always returns a summary with one
    result per case (OSError only when the client cannot be started at all)."""
    summary = RunSummary()

    def note(n: Note) -> None:
        summary.notes.append(n)
        if on_note:
            on_note(n)

    def record(result: CaseResult) -> None:
        summary.results.append(result)
        if on_result:
            on_result(result)

    client: ClientProcess | None = ClientProcess(command, max_answer_bytes)
    dead_reason = ""
    try:
        for case_id, case in enumerate(cases, start=1):
            if client is None:
                record(CaseResult(case.name, "failed", f"not run: {dead_reason}", case.level, not_run=True))
                continue
            deadline = time.monotonic() + timeout
            try:
                client.send(request_for(case, case_id, blob_dir), deadline, timeout)
                answer = receive_answer(client, case, case_id, deadline, timeout, note)
            except (ClientGone, TimeoutError) as e:
                dead_reason = str(e) if isinstance(e, ClientGone) else f"the client stopped answering ({e})"
                record(CaseResult(case.name, "failed", str(e), case.level))
                client.close()
                client = None
                continue
            record(judge(case, case_id, answer))
    except KeyboardInterrupt:
        summary.interrupted = True
        for case in cases[len(summary.results):]:
            summary.results.append(CaseResult(case.name, "failed", "not run: interrupted", case.level, not_run=True))
    finally:
        if client is not None:
            client.close()
    return summary


# ---------------------------------------------------------------------------------------------
# Reports


def vector_release(root: Path) -> dict[str, Any]:
    """What the vectors are: the release manifest's identity (a tarball), else the index's."""
    manifest = root / "manifest.json"
    if manifest.is_file():
        try:
            data = bounded_json(_read_bounded(manifest, MAX_CASE_BYTES), str(manifest))
        except (ValueError, OSError, VectorError):
            data = None
        if isinstance(data, dict):
            return {k: data[k] for k in ("vectors_version", "vector_format", "preset", "smspec_version",
                                          "smspec_commit") if k in data}
    index = load_index(root)
    return {} if index is None else {k: index[k] for k in ("vectors_version", "spec_version") if k in index}


def json_report(summary: RunSummary, command: str, release: dict[str, Any]) -> str:
    """A deterministic JSON report (no times): commit it to track conformance over time."""
    counts = {level: {s: summary.count(s, level) for s in ("passed", "failed", "skipped")} for level in LEVELS}
    report = {
        "format": REPORT_FORMAT,
        "vectors": release,
        "client": command,
        "summary": {"total": {s: summary.count(s) for s in ("passed", "failed", "skipped")}, **counts},
        "coverage": summary.coverage_line,
        "cases": {r.name: {"status": r.status, "level": r.level, **({"detail": r.detail} if r.detail else {})}
                  for r in summary.results},
        "notes": [{"case": n.case, "text": n.text} for n in summary.notes],
    }
    return json.dumps(report, sort_keys=True, indent=1) + "\n"


def junit_report(summary: RunSummary, command: str, release: dict[str, Any]) -> str:
    """JUnit XML: one test suite per level, one test case per vector case (class name: its
    ``preset/domain/runner/handler``)."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    out.append(f'<testsuites name="smspec-conformance" tests="{len(summary.results)}" '
               f'failures="{summary.count("failed")}" skipped="{summary.count("skipped")}">')
    for level in LEVELS:
        results = [r for r in summary.results if r.level == level]
        if not results:
            continue
        out.append(f'  <testsuite name={quoteattr(level)} tests="{len(results)}" '
                   f'failures="{summary.count("failed", level)}" skipped="{summary.count("skipped", level)}">')
        out.append("    <properties>")
        out.append(f'      <property name="client" value={quoteattr(command)}/>')
        for key in sorted(release):
            out.append(f"      <property name={quoteattr(key)} value={quoteattr(str(release[key]))}/>")
        out.append("    </properties>")
        for r in results:
            classname, name = r.name.rsplit("/", 1)
            head = f"    <testcase classname={quoteattr(classname)} name={quoteattr(name)}"
            if r.status == "passed":
                out.append(head + "/>")
            elif r.status == "skipped":
                out.append(head + f"><skipped message={quoteattr(r.detail)}/></testcase>")
            else:
                message = _xml_text(r.detail.splitlines()[0] if r.detail else "failed")
                out.append(head + f"><failure message={quoteattr(message)}>{_xml_body(r.detail)}</failure></testcase>")
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


def _xml_text(text: str) -> str:
    """Text XML 1.0 can carry (control characters other than tab and newline dropped)."""
    return "".join(ch for ch in text if ch in "\t\n" or ord(ch) >= 0x20)


def _xml_body(text: str) -> str:
    return _xml_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------------------------------------
# Command line (``python3 run.py``; ``smspec vectors run`` adds its own parser around run())


def add_arguments(parser: argparse.ArgumentParser, default_dir: Path, seconds: Callable[[str], float] | None = None,
                  answer_bytes: Callable[[str], int] | None = None) -> None:
    """The runner's options (``seconds`` / ``answer_bytes``: the argument types to use)."""
    parser.add_argument("--client", required=True, metavar="CMD",
                        help="command line of the client adapter (split like a shell line, no shell)")
    parser.add_argument("--dir", type=Path, default=default_dir, help=f"vector directory (default: {default_dir})")
    parser.add_argument("--only", action="append", default=[], metavar="PREFIX",
                        help="run only cases whose domain/runner/handler/case starts with PREFIX "
                        "(e.g. scale, crypto/signature/ed25519, post/labels); repeatable")
    parser.add_argument("--skip", action="append", default=[], metavar="PREFIX",
                        help="skip cases whose domain/runner/handler/case starts with PREFIX; repeatable")
    parser.add_argument("--preset", dest="vector_preset", action="append", default=[],
                        choices=("mainnet", "testnet", "tiny"), help="only cases of this preset; repeatable")
    parser.add_argument("--live", action="store_true",
                        help="only the live cases (no spec-strict rule, no input a typed client cannot hold, no rule "
                        "only smspec's devnet has)")
    parser.add_argument("--timeout", type=seconds or _seconds, default=60.0, help="seconds allowed per case (default 60)")
    parser.add_argument("--max-answer-bytes", type=answer_bytes or _answer_bytes, default=MAX_ANSWER_BYTES, metavar="N",
                        help=f"longest answer line accepted (default {MAX_ANSWER_BYTES})")
    parser.add_argument("--report", nargs=2, action="append", default=[], metavar=("FORMAT", "FILE"),
                        help="also write a report: junit or json, to FILE; repeatable")
    parser.add_argument("--verbose", "-v", action="store_true", help="also list passed and skipped cases")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0.01 <= value <= 86_400:  # also refuses nan
        raise argparse.ArgumentTypeError(f"seconds must be from 0.01 to 86400, got {text!r}")
    return value


def _answer_bytes(text: str) -> int:
    if not text.isdigit() or not 1024 <= int(text) <= 2**32:
        raise argparse.ArgumentTypeError(f"bytes must be an integer from 1024 to 2^32, got {text!r}")
    return int(text)


class UsageError(Exception):
    """Bad arguments or vectors: one line, exit 2."""


def check_reports(reports: list[list[str]]) -> None:
    for kind, path in reports:
        if kind not in ("junit", "json"):
            raise UsageError(f"--report: unknown format {kind!r} (junit or json)")
        target = Path(path)
        if target.is_dir():
            raise UsageError(f"--report {kind}: {path!r} is a directory, expected a file")
        if not target.absolute().parent.is_dir():
            raise UsageError(f"--report {kind}: the directory of {path!r} does not exist")


def run(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    """Run the client over the selected vectors; prints failures, notes and the summary. Returns
    the exit status (0: nothing failed, 1: failures). UsageError / VectorError for bad input."""
    try:
        if not shlex.split(args.client):
            raise UsageError("--client: empty command line")
    except ValueError as e:
        raise UsageError(f"--client {args.client!r}: {e}") from None
    check_reports(args.report)
    if not args.dir.is_dir():
        raise UsageError(f"no vectors under {args.dir}/ (not a directory)")
    cases = load_cases(args.dir)
    if not cases:
        raise UsageError(f"no vectors under {args.dir}/")
    chosen = choose(cases, args.only, args.skip, args.vector_preset, args.live)
    if not chosen:
        raise UsageError("no case matches the filters")

    def report(result: CaseResult) -> None:
        if result.status == "failed":
            out(f"FAIL {result.name}: {result.detail}")
        elif args.verbose:
            out(f"{result.status.upper():4} {result.name}" + (f": {result.detail}" if result.detail else ""))

    shown = [0]

    def note(n: Note) -> None:
        shown[0] += 1
        if shown[0] <= 20 or args.verbose:
            out(f"NOTE {n.case}: {n.text}")

    try:
        summary = run_client(args.client, chosen, args.dir / "blobs", timeout=args.timeout, on_result=report,
                             on_note=note, max_answer_bytes=args.max_answer_bytes)
    except OSError as e:
        raise UsageError(f"cannot start the client: {e}") from None
    release = vector_release(args.dir)
    for kind, path in args.report:
        text = junit_report(summary, args.client, release) if kind == "junit" else json_report(summary, args.client, release)
        Path(path).write_text(text, encoding="utf-8")
    if summary.notes:
        out(f"notes: {len(summary.notes)} line(s) on the client's standard output were not answers"
            + (" (first 20 shown)" if len(summary.notes) > 20 and not args.verbose else ""))
    out(summary.coverage_line)
    out(summary.level_line)
    out(summary.line)
    if summary.interrupted:
        return 130
    return 1 if summary.count("failed") else 0


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve().parent
    default_dir = here if (here / "index.json").is_file() else Path("vectors")
    parser = argparse.ArgumentParser(
        prog="run.py",
        description="Run a client adapter over the smspec conformance vectors (protocol: formats/adapter.md).",
    )
    add_arguments(parser, default_dir)
    args = parser.parse_args(argv)
    try:
        return run(args, out=lambda text: print(text, flush=True))
    except (UsageError, VectorError) as e:
        print(f"run.py: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
