"""Issue 15's "done when": a client team downloads one tarball, reads the handler pages, writes an
adapter in another language, and sees "live: N passed, 0 failed; spec-strict: ...".

The adapter is conformance/adapters/node/adapter.mjs, an independent JavaScript SCALE codec that
follows the live network (go-scale accepts any bytes in a string), and Ed25519 signing and
verification under curve25519-voi's rules in BigInt arithmetic. It runs from an unpacked release
tarball with the tarball's own runner and a bare Python; skipped without ``node``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from smspec.tools.cli import main

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node (Node.js 18+) is not installed: the example adapter is JavaScript")


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("node")
    assert main(["vectors", "generate", "--dir", str(root / "vectors"), "--quiet", "--only", "scale",
                 "--only", "crypto/signature"]) == 0
    assert main(["vectors", "pack", "--dir", str(root / "vectors"), "--out", str(root / "dist")]) == 0
    (tarball,) = (root / "dist").glob("smspec-vectors-*-mainnet.tar.gz")
    with tarfile.open(tarball) as tar:
        tar.extractall(root / "elsewhere", filter="data")
    (top,) = (root / "elsewhere").iterdir()
    return top


def run(top: Path, *args: str, verify: str = "") -> subprocess.CompletedProcess:
    python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "SMSPEC_NODE"))}
    if verify:
        env["SMSPEC_NODE_VERIFY"] = verify
    return subprocess.run([python, "-I", "run.py", "--client", f"{NODE} examples/adapter.mjs", *args], cwd=top,
                          capture_output=True, text=True, env=env, timeout=600)


def levels(top: Path) -> dict[str, int]:
    counts = {"live": 0, "spec-strict": 0, "untyped-input": 0}
    for path in json.loads((top / "index.json").read_text())["cases"]:
        case = json.loads((top / path).read_text())
        level = "spec-strict" if case["level"] == "spec-strict" else "live" if case["typed_input"] else "untyped-input"
        counts[level] += 1
    return counts


def test_a_javascript_adapter_is_green_on_the_live_cases(unpacked: Path) -> None:
    counts = levels(unpacked)
    assert counts["spec-strict"] == 1  # scale/codec/string/decode_not_utf8
    done = run(unpacked)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0] == ("FAIL mainnet/scale/codec/string/decode_not_utf8: expected error InvalidEncoding "
                        "(invalid_utf8), got output {\"value\": \"\\ufffd\\ufffd\"}")
    total = sum(counts.values())
    assert lines[-3:] == [
        f"coverage: answered {total} of {total} cases (100.0%), unsupported 0; handlers answered: 18 of 18",
        f"live: {counts['live']} passed, 0 failed, 0 skipped; spec-strict: 0 passed, 1 failed, 0 skipped; "
        f"untyped-input: {counts['untyped-input']} passed, 0 failed, 0 skipped",
        f"{total - 1} passed, 1 failed, 0 skipped",
    ]


def test_live_only_is_all_green(unpacked: Path) -> None:
    done = run(unpacked, "--live", "--report", "junit", "live.xml")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    live = levels(unpacked)["live"]
    assert done.stdout.strip().splitlines()[-2:] == [f"live: {live} passed, 0 failed, 0 skipped",
                                                    f"{live} passed, 0 failed, 0 skipped"]
    assert 'failures="0"' in (unpacked / "live.xml").read_text()


# The three crafted signatures of crypto.md's Decision on ed25519 verification rules.
CRAFTED = {"small_order_a_rejected", "small_order_r_accepted", "torsion_public_key_cofactored"}


def test_the_platform_verifier_forks_only_on_the_crafted_signatures(unpacked: Path) -> None:
    """Node's own Ed25519 verifier (OpenSSL) is not curve25519-voi: the vectors show where."""
    done = run(unpacked, "--only", "crypto/signature", verify="openssl")
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    failed = {line.split()[1].rstrip(":").rsplit("/", 1)[1]
              for line in done.stdout.splitlines() if line.startswith("FAIL ")}
    assert failed and failed <= CRAFTED, failed
    done = run(unpacked, "--only", "crypto/signature")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1].endswith(" passed, 0 failed, 0 skipped")
