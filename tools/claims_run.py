"""Run the tests every spec document's Claims section names, and record how much checking each
claim had in ``docs/claims-record.json`` (the Claims page shows it; nothing there is typed).

    python -m smspec.tools.claims_run            # all claims (``make claims``)
    python -m smspec.tools.claims_run --only hare --jobs 2

The record holds, per test (the pytest node of each parametrized case), its outcome, duration
and Hypothesis examples, the sha256 of each test file at the time (the page marks a claim
*stale* when its test file changed since), the git commit and the date.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "docs" / "claims-record.json"


def _claims() -> list[object]:
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    from claims import all_claims

    return all_claims()


def file_digest(path: str) -> str:
    return hashlib.sha256((ROOT / path).read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m smspec.tools.claims_run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", default=[], help="a spec document's name (repeatable)")
    parser.add_argument("--jobs", type=int, default=1, help="pytest-xdist workers (default 1)")
    args = parser.parse_args(argv)
    claims = [c for c in _claims() if not args.only or c.stem in args.only]  # type: ignore[attr-defined]
    tests = sorted({check.name for claim in claims for check in claim.checks})  # type: ignore[attr-defined]
    if not tests:
        print("claims: no test to run", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        lines = Path(tmp) / "record.jsonl"
        env = dict(os.environ, SMSPEC_CLAIMS_RECORD=str(lines))
        command = [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "smspec.tools.claims_record",
            "-q", "-m", "slow or not slow", *(["-n", str(args.jobs)] if args.jobs > 1 else []), *tests,
        ]
        status = subprocess.run(command, cwd=ROOT, env=env).returncode
        entries = [json.loads(line) for line in lines.read_text(encoding="utf-8").splitlines()] if lines.exists() else []
    old = json.loads(RECORD.read_text(encoding="utf-8")) if RECORD.exists() else {"tests": {}, "files": {}}
    ran_files = {t.split("::", 1)[0] for t in tests}
    record = {
        "commit": subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "tests": {k: v for k, v in old["tests"].items() if k.split("::", 1)[0] not in ran_files},
        "files": {k: v for k, v in old["files"].items() if k not in ran_files},
    }
    for entry in entries:
        record["tests"][entry.pop("nodeid")] = entry
    for path in ran_files:
        record["files"][path] = file_digest(path)
    RECORD.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"claims: {len(entries)} test runs of {len(tests)} named tests recorded in {RECORD.relative_to(ROOT)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
