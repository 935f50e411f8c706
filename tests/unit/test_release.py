"""Vector releases (issue 15): the versioning rule, the upstream pins, and a tarball that works
unpacked anywhere with nothing else from the repository."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from smspec.conformance import release, runner
from smspec.tools.cli import main

VENV_SMSPEC = Path(sys.executable).parent / "smspec"


def index(cases: dict[str, str], expected: dict[str, str], blobs: dict[str, int] | None = None) -> dict:
    return {"cases": cases, "expected": expected, "blobs": blobs or {}}


BASE = {"vectors_version": "2.3.4", "vector_format": runner.VECTOR_FORMAT, **index({"a": "1", "b": "2"}, {"a": "x", "b": "y"})}


@pytest.mark.parametrize(("current", "version"), [
    (index({"a": "1", "b": "2"}, {"a": "x", "b": "y"}), "2.3.4"),  # unchanged
    (index({"a": "9", "b": "2"}, {"a": "x", "b": "y"}), "2.3.5"),  # a description changed
    (index({"a": "1", "b": "2"}, {"a": "x", "b": "y"}, {"s": 1}), "2.3.5"),  # a blob added
    (index({"a": "1", "b": "2", "c": "3"}, {"a": "x", "b": "y", "c": "z"}), "2.4.0"),  # a case added
    (index({"a": "1", "b": "7"}, {"a": "x", "b": "w"}), "3.0.0"),  # an expected outcome changed
    (index({"a": "1"}, {"a": "x"}), "3.0.0"),  # a case removed
    (index({"a": "1", "c": "3"}, {"a": "x", "c": "z"}), "3.0.0"),  # removed and added: breaking wins
])
def test_versioning_rule(current: dict, version: str) -> None:
    assert release.next_version(BASE, current)[0] == version


def test_first_release_and_bad_versions() -> None:
    assert release.next_version(None, index({}, {})) == ("1.0.0", "first release")
    with pytest.raises(ValueError, match="not a MAJOR.MINOR.PATCH version"):
        release.next_version({**BASE, "vectors_version": "1.0"}, BASE)


def test_upstream_pins_come_from_the_documents_citations() -> None:
    assert release.upstream_pins("scale.md") == {"spacemeshos/go-scale": ["v1.2.1"],
                                                 "spacemeshos/go-spacemesh": ["cc65f271"]}
    assert release.upstream_pins("athena.md")["athenavm/athena"] == ["e1e7a7f7"]
    assert release.upstream_pins("post.md")["spacemeshos/post-rs"] == ["a2d155a2"]
    assert release.upstream_pins("fixed.md") == {"spacemeshos/fixed": ["v0.1.2"]}
    assert release.upstream_pins("tortoise.md")["spacemeshos/go-spacemesh"] == ["cc65f271"]
    # hare4 cites nothing of its own besides GS; it imports hare, which imports fixed, crypto, scale
    pins = release.domain_pins({"hare4.md"})
    assert {"spacemeshos/go-spacemesh", "spacemeshos/fixed", "spacemeshos/go-scale"} <= set(pins)


def test_the_runner_is_standard_library_only() -> None:
    tree = ast.parse(Path(runner.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported - {"__future__"} <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("pack")
    vectors = root / "vectors"
    argv = ["vectors", "generate", "--dir", str(vectors), "--quiet", "--only", "scale/codec/bool",
            "--only", "scale/codec/string", "--only", "post_best/score/label_score", "--only", "athena/hostile/run"]
    assert main(argv) == 0
    assert main(["vectors", "pack", "--dir", str(vectors), "--out", str(root / "out")]) == 0
    return vectors, root / "out"


def test_pack_writes_one_reproducible_tarball_per_preset(packed: tuple[Path, Path], tmp_path: Path) -> None:
    vectors, out = packed
    names = sorted(p.name for p in out.iterdir())
    assert names == ["smspec-vectors-1.0.0-mainnet.tar.gz", "smspec-vectors-1.0.0-tiny.tar.gz"]
    assert main(["vectors", "pack", "--dir", str(vectors), "--out", str(tmp_path), "--preset", "tiny"]) == 0
    assert (tmp_path / names[1]).read_bytes() == (out / names[1]).read_bytes()
    with tarfile.open(out / names[1]) as tar:
        members = tar.getnames()
    top = "smspec-vectors-1.0.0-tiny/"
    assert all(m.startswith(top) for m in members)
    for needed in ("run.py", "manifest.json", "index.json", "README.md", "presets/tiny.json", "spec/post_best.md",
                   "conformance/formats/adapter.md", "conformance/formats/handlers/post_best-score-label_score.md",
                   "examples/example_adapter.py"):
        assert top + needed in members, needed
    assert not any("/mainnet/" in m for m in members)


def test_the_manifest_names_versions_and_pins(packed: tuple[Path, Path], tmp_path: Path) -> None:
    _, out = packed
    with tarfile.open(out / "smspec-vectors-1.0.0-mainnet.tar.gz") as tar:
        member = tar.extractfile("smspec-vectors-1.0.0-mainnet/manifest.json")
        assert member is not None
        manifest = json.loads(member.read())
    assert manifest["vector_format"] == "smspec-vector/1" and manifest["adapter_protocol"] == "smspec-adapter/1"
    assert manifest["vectors_version"] == "1.0.0" and manifest["preset"] == "mainnet"
    assert manifest["smspec_commit"] != "" and manifest["smspec_version"]
    assert manifest["domains"]["scale"]["upstream"] == {"spacemeshos/go-scale": ["v1.2.1"],
                                                        "spacemeshos/go-spacemesh": ["cc65f271"]}
    assert manifest["domains"]["athena"]["upstream"]["athenavm/athena"] == ["e1e7a7f7"]
    assert manifest["levels"]["spec-strict"] >= 1  # scale/codec/string/decode_not_utf8 and Athena panics


def test_an_unpacked_tarball_runs_the_reference_adapter_alone(packed: tuple[Path, Path], tmp_path: Path) -> None:
    """Elsewhere, with a bare Python (-I: no PYTHONPATH, no user site) and only the tarball: the
    runner it ships drives smspec's reference adapter through every case."""
    _, out = packed
    with tarfile.open(out / "smspec-vectors-1.0.0-mainnet.tar.gz") as tar:
        tar.extractall(tmp_path, filter="data")
    unpacked = tmp_path / "smspec-vectors-1.0.0-mainnet"
    python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SMSPEC", "VIRTUAL_ENV"))}
    done = subprocess.run([python, "-I", "run.py", "--client", f"{VENV_SMSPEC} vectors serve", "--report", "json",
                           "report.json"], cwd=unpacked, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    total = len(json.loads((unpacked / "index.json").read_text())["cases"])
    assert lines[-1] == f"{total} passed, 0 failed, 0 skipped"
    assert lines[-2].startswith("live: ") and "spec-strict: " in lines[-2]
    report = json.loads((unpacked / "report.json").read_text())
    assert report["vectors"]["vectors_version"] == "1.0.0" and len(report["cases"]) == total


def test_generate_records_the_version_against_the_release(packed: tuple[Path, Path], tmp_path: Path) -> None:
    vectors, _ = packed
    copy = tmp_path / "vectors"
    shutil.copytree(vectors, copy)
    assert main(["vectors", "pack", "--dir", str(copy), "--out", str(tmp_path / "out"), "--release"]) == 0
    assert json.loads((copy / "release.json").read_text())["vectors_version"] == "1.0.0"
    assert main(["vectors", "generate", "--dir", str(copy), "--quiet", "--only", "scale/codec/bool"]) == 0
    assert json.loads((copy / "index.json").read_text())["vectors_version"] == "1.0.0"  # nothing changed
    assert main(["vectors", "generate", "--dir", str(copy), "--quiet", "--only", "scale/codec/uint"]) == 0
    assert json.loads((copy / "index.json").read_text())["vectors_version"] == "1.1.0"  # cases added
