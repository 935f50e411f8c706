"""Spec coverage by the vectors alone (issue 15): the Markdown coverage plugin reports branches and
applies coverage's exclusions, and ``smspec vectors coverage`` measures what cases reach."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import smspec.spec as spec_package
from smspec.conformance.vector_coverage import definitions, measure
from smspec.tools.cli import main

ROOT = spec_package.SPEC_DIR.parent


def test_branch_reports_and_default_exclusions(tmp_path: Path) -> None:
    """Branch coverage of a document (it used to crash: the reporter had no coverage object) and
    the `...` bodies of interface stubs excluded, not counted."""
    script = tmp_path / "use.py"
    script.write_text("from smspec.spec import scale, atx\nscale.decode(b'\\x04', scale.Compact32)\n")
    env = {**os.environ, "COVERAGE_CORE": "ctrace"}
    rc = f"--rcfile={ROOT / 'pyproject.toml'}"
    subprocess.run([sys.executable, "-m", "coverage", "run", "--branch", rc, str(script)], cwd=tmp_path, check=True,
                   env=env)
    done = subprocess.run([sys.executable, "-m", "coverage", "json", rc, "-o", "cov.json"], cwd=tmp_path,
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    files = {str(Path(k).resolve()): v for k, v in json.loads((tmp_path / "cov.json").read_text())["files"].items()}
    scale_md = files[str(spec_package.SPEC_DIR / "scale.md")]
    assert scale_md["summary"]["num_branches"] > 50 and scale_md["summary"]["covered_branches"] > 0
    lines = (spec_package.SPEC_DIR / "atx.md").read_text().split("\n")
    stubs = [n for n, text in enumerate(lines, 1) if text.strip() == "..." or text.rstrip().endswith(") -> None: ...")]
    atx_md = files[str(spec_package.SPEC_DIR / "atx.md")]
    assert stubs and set(stubs) <= set(atx_md["excluded_lines"])
    assert not set(stubs) & set(atx_md["missing_lines"])


def test_definitions_skip_interface_stubs() -> None:
    names = [name for name, _, _ in definitions(spec_package.SPEC_DIR / "atx.md")]
    assert "validate_atx_v2" in names and "MemoryAtxStore.add_atx" in names
    assert "PostVerifier.verify_post" not in names and "AtxStore.add_atx" not in names


@pytest.mark.slow
def test_vectors_coverage_of_a_few_cases(tmp_path: Path, capsys) -> None:
    vectors = tmp_path / "v"
    assert main(["vectors", "generate", "--dir", str(vectors), "--quiet", "--only", "scale/codec/bool"]) == 0
    report = measure(vectors)
    by_name = {d.document: d for d in report.documents}
    scale_md = by_name["scale.md"]
    assert 0 < scale_md.statement_percent < 100
    assert "encode_compact" in scale_md.unreached and "encode_value" not in scale_md.unreached
    athena = by_name["athena.md"]
    assert athena.statements > 500 and len(athena.unreached) == athena.definitions  # no Athena case
    capsys.readouterr()
    assert main(["vectors", "coverage", "--dir", str(vectors), "--min-statements", "99"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "spec coverage by 8 vector cases alone (statements, branches; per document):"
    assert "  scale.md: encode_compact" in out
    assert out.splitlines()[-1].startswith("below the minimum: statements ")


def test_a_node_api_case_leaves_the_backend_under_test() -> None:
    """The node's modules switch the process to the impl backend; the handler switches back, so
    the cases after it run (and are measured) on the backend under test."""
    from smspec.conformance.execute import run_handler
    from smspec.impl import registry

    before = registry.active_backend()
    try:
        registry.use_backend("spec")
        outcome = run_handler("node_api/request/answer", {"method": "GET", "path": "/node/v1/info", "body": "0x"},
                              "mainnet")
        assert outcome["output"]["status"] == 200
        assert registry.active_backend() == "spec"
    finally:
        registry.use_backend(before)


def test_a_node_api_case_is_computed_on_the_backend_under_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """Network info reads the preset's parameters through the node's modules: under the spec
    backend they are the spec's, and the process never switches to the impl during the case."""
    from smspec.conformance.execute import run_handler
    from smspec.impl import registry
    from smspec.tools.node import protocol

    seen: list[str] = []
    original = registry.use_backend

    def recording(name: str) -> None:
        seen.append(name)
        original(name)

    before = registry.active_backend()
    monkeypatch.setattr(registry, "use_backend", recording)
    try:
        original("spec")
        outcome = run_handler("node_api/request/answer",
                              {"method": "POST", "path": "/spacemesh.v2alpha1.NetworkService/Info", "body": "0x"},
                              "mainnet")
        assert outcome["output"]["status"] == 200 and outcome["output"]["body"]["labelsPerUnit"]
        assert "impl" not in seen and registry.active_backend() == "spec", seen
        assert protocol.modules(backend="spec").backend == "spec"
    finally:
        original(before)
