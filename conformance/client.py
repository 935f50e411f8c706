"""Driving a client implementation through the JSON-lines adapter protocol.

The runner starts the client command once and talks to it over its standard input and output,
one JSON object per line (see ``conformance/formats/adapter.md``)::

    runner -> client  {"id": 7, "preset": "mainnet", "domain": "scale", "runner": "codec",
                       "handler": "compact32", "case": "max", "inputs": {...}}
    client -> runner  {"id": 7, "output": {...}}
                  or  {"id": 7, "error": "InvalidEncoding", "reason": "trailing_bytes"}
                  or  {"id": 7, "unsupported": true}

Anything the client writes to its standard error is passed through to the user's terminal.
"""

from __future__ import annotations

import json
import os
import selectors
import shlex
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smspec.conformance.execute import StoredCase, describe_difference, outcome_matches

PROTOCOL = "smspec-adapter/1"


@dataclass
class CaseResult:
    name: str
    status: str  # "passed", "failed", "skipped"
    detail: str = ""


@dataclass
class RunSummary:
    results: list[CaseResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def line(self) -> str:
        return f"{self.count('passed')} passed, {self.count('failed')} failed, {self.count('skipped')} skipped"


class ClientProcess:
    """A running client adapter with line-based request/response and per-case timeouts."""

    def __init__(self, command: str, cwd: Path | None = None) -> None:
        self.command = command
        self.process = subprocess.Popen(
            shlex.split(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            cwd=cwd,
            env={**os.environ, "SMSPEC_ADAPTER_PROTOCOL": PROTOCOL},
        )
        assert self.process.stdout is not None
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.process.stdout, selectors.EVENT_READ)
        self.buffer = b""

    def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        proc = self.process
        assert proc.stdin is not None and proc.stdout is not None
        if proc.poll() is not None:
            raise ConnectionError(f"client exited with status {proc.returncode}")
        try:
            proc.stdin.write((json.dumps(message, sort_keys=True) + "\n").encode())
            proc.stdin.flush()
        except BrokenPipeError as e:
            raise ConnectionError("client closed its input") from e
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no answer within {timeout:g} s")
            if not self.selector.select(remaining):
                continue
            chunk = os.read(proc.stdout.fileno(), 1 << 16)
            if not chunk:
                proc.wait(timeout=5)
                raise ConnectionError(f"client exited with status {proc.returncode}")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            answer = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"client wrote a line that is not JSON: {line[:200]!r}") from e
        if not isinstance(answer, dict):
            raise ValueError(f"client answer is not a JSON object: {line[:200]!r}")
        return answer

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                assert self.process.stdin is not None
                self.process.stdin.close()
                self.process.wait(timeout=5)
            except (subprocess.TimeoutExpired, BrokenPipeError, OSError):
                self.process.kill()
                self.process.wait()
        self.selector.close()


def request_for(case: StoredCase, case_id: int, blob_dir: Path) -> dict[str, Any]:
    m = case.document["manifest"]
    inputs = _with_blob_paths(case.document["inputs"], blob_dir)
    return {
        "id": case_id,
        "preset": m["preset"],
        "domain": m["domain"],
        "runner": m["runner"],
        "handler": m["handler"],
        "case": m["case"],
        "inputs": inputs,
    }


def _with_blob_paths(value: Any, blob_dir: Path) -> Any:
    if isinstance(value, dict):
        if set(value) == {"blob", "size"}:
            return {**value, "path": str((blob_dir / f"{value['blob']}.bin").resolve())}
        return {k: _with_blob_paths(v, blob_dir) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_blob_paths(v, blob_dir) for v in value]
    return value


def run_client(
    command: str,
    cases: list[StoredCase],
    blob_dir: Path,
    timeout: float = 60.0,
    on_result: Callable[[CaseResult], None] | None = None,
) -> RunSummary:
    """Send every case to the client; compare its answers with the expected outcomes."""
    summary = RunSummary()
    client: ClientProcess | None = ClientProcess(command)
    dead_reason = ""
    try:
        for case_id, case in enumerate(cases, start=1):
            expected = case.document["expected"]
            if client is None:
                result = CaseResult(case.name, "failed", f"not run: {dead_reason}")
            else:
                try:
                    answer = client.request(request_for(case, case_id, blob_dir), timeout)
                    result = judge(case, case_id, expected, answer)
                except (ConnectionError, ValueError) as e:
                    dead_reason = str(e)
                    result = CaseResult(case.name, "failed", f"client failure: {e}")
                    client.close()
                    client = None
                except TimeoutError as e:
                    dead_reason = f"client stopped answering ({e})"
                    result = CaseResult(case.name, "failed", str(e))
                    client.close()
                    client = None
            summary.results.append(result)
            if on_result:
                on_result(result)
    finally:
        if client is not None:
            client.close()
    return summary


def judge(case: StoredCase, case_id: int, expected: dict[str, Any], answer: dict[str, Any]) -> CaseResult:
    if answer.get("id") != case_id:
        return CaseResult(case.name, "failed", f"answer carries id {answer.get('id')!r}, expected {case_id}")
    if answer.get("unsupported"):
        return CaseResult(case.name, "skipped", "client: unsupported")
    got = {k: answer[k] for k in ("output", "error", "reason") if k in answer}
    if "output" not in got and "error" not in got:
        return CaseResult(case.name, "failed", "answer has neither output nor error")
    if outcome_matches(expected, got):
        return CaseResult(case.name, "passed")
    return CaseResult(case.name, "failed", describe_difference(expected, got))
