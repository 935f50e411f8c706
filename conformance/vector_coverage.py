"""Spec coverage by the vectors alone: which normative statements, branches and definitions the
conformance cases reach.

``measure(directory)`` runs, in a fresh interpreter, every stored case of ``directory`` through
its handler on the spec backend under coverage.py (branch coverage, the Markdown plugin
``smspec.tools.coverage_md``, so lines are the documents' lines), and returns per document the
statements and branches reached and the definitions (functions and methods with a body) that no
case reaches. ``smspec vectors coverage`` prints it.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class DocumentCoverage:
    document: str
    statements: int
    missing_statements: list[int]
    branches: int
    missing_branches: list[tuple[int, int]]
    definitions: int
    unreached: list[str] = field(default_factory=list)

    @property
    def statement_percent(self) -> float:
        return 100.0 * (self.statements - len(self.missing_statements)) / self.statements if self.statements else 100.0

    @property
    def branch_percent(self) -> float:
        return 100.0 * (self.branches - len(self.missing_branches)) / self.branches if self.branches else 100.0


@dataclass
class Report:
    documents: list[DocumentCoverage]
    cases: int

    def total(self) -> tuple[float, float]:
        statements = sum(d.statements for d in self.documents)
        hit = statements - sum(len(d.missing_statements) for d in self.documents)
        branches = sum(d.branches for d in self.documents)
        taken = branches - sum(len(d.missing_branches) for d in self.documents)
        return (100.0 * hit / statements if statements else 100.0, 100.0 * taken / branches if branches else 100.0)

    def lines(self) -> list[str]:
        out = [f"spec coverage by {self.cases} vector cases alone (statements, branches; per document):",
               f"{'document':<18} {'stmts':>6} {'miss':>5} {'stmt%':>7} {'branch':>7} {'miss':>5} {'branch%':>8} "
               f"{'unreached defs':>15}"]
        for d in self.documents:
            out.append(f"{d.document:<18} {d.statements:>6} {len(d.missing_statements):>5} {d.statement_percent:>6.1f}% "
                       f"{d.branches:>7} {len(d.missing_branches):>5} {d.branch_percent:>7.1f}% "
                       f"{len(d.unreached):>6} of {d.definitions:<4}")
        statements, branches = self.total()
        out.append(f"{'total':<18} {sum(d.statements for d in self.documents):>6} "
                   f"{sum(len(d.missing_statements) for d in self.documents):>5} {statements:>6.1f}% "
                   f"{sum(d.branches for d in self.documents):>7} {sum(len(d.missing_branches) for d in self.documents):>5} "
                   f"{branches:>7.1f}% {sum(len(d.unreached) for d in self.documents):>6} of "
                   f"{sum(d.definitions for d in self.documents)}")
        unreached = [(d.document, name) for d in self.documents for name in d.unreached]
        if unreached:
            out.append("definitions no vector reaches:")
            for document, name in unreached:
                out.append(f"  {document}: {name}")
        else:
            out.append("every normative definition is reached by a vector")
        return out

    def to_json(self) -> dict[str, Any]:
        statements, branches = self.total()
        return {"cases": self.cases, "statements_percent": round(statements, 2), "branches_percent": round(branches, 2),
                "documents": {d.document: {"statements": d.statements, "missing_statements": d.missing_statements,
                                           "branches": d.branches, "missing_branches": [list(b) for b in d.missing_branches],
                                           "statement_percent": round(d.statement_percent, 2),
                                           "branch_percent": round(d.branch_percent, 2),
                                           "definitions": d.definitions, "unreached": d.unreached}
                              for d in self.documents}}


def definitions(path: Path) -> list[tuple[str, int, int]]:
    """(qualified name, first body line, last line) of every function and method of a document's
    code whose body is not an interface stub (``...`` or a docstring alone)."""
    from smspec.spec._markdown import parse_document, render_source

    tree = ast.parse(render_source(parse_document(path), "mainnet"))
    found = []

    def visit(nodes: list[ast.stmt], prefix: str) -> None:
        for node in nodes:
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
                if body:
                    found.append((prefix + node.name, body[0].lineno, node.end_lineno or body[-1].lineno))

    visit(tree.body, "")
    return found


def _child(directory: str, out: str) -> None:
    """In a fresh interpreter: run every case under coverage and write the JSON report."""
    import coverage
    from smspec import spec
    from smspec.tools.coverage_md import coverage_init

    spec_dir = Path(spec.SPEC_DIR)
    cov = coverage.Coverage(data_file=None, branch=True, config_file=False, include=[str(spec_dir / "*.md")],
                            plugins=[coverage_init])
    cov.start()
    from smspec.conformance.execute import load_vectors, run_handler
    from smspec.impl import registry

    registry.use_backend("spec")
    for name in spec.available_modules():  # every document is measured, whether a case loads it or not
        spec.load(name, "mainnet")
    cases = load_vectors(Path(directory))
    for case in cases:
        run_handler(case.key, case.document["inputs"], case.preset)
    cov.stop()
    report = Path(out)
    cov.json_report(outfile=str(report.with_suffix(".coverage.json")))
    data = json.loads(report.with_suffix(".coverage.json").read_text())
    data["cases"] = len(cases)
    report.write_text(json.dumps(data))


def measure(directory: Path) -> Report:
    """Run the vectors under ``directory`` under coverage in a child interpreter; the report."""
    from smspec import spec

    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "report.json"
        env = {**os.environ, "COVERAGE_CORE": "ctrace", "SMSPEC_BACKEND": "spec"}
        done = subprocess.run([sys.executable, "-m", "smspec.conformance.vector_coverage", str(directory.resolve()),
                               str(out)], capture_output=True, text=True, env=env, cwd=work)
        if done.returncode != 0:
            raise RuntimeError(f"the coverage run failed: {done.stderr.strip().splitlines()[-1] if done.stderr else ''}")
        data = json.loads(out.read_text())
    spec_dir = Path(spec.SPEC_DIR)
    files = {str(Path(name).resolve()): entry for name, entry in data["files"].items()}
    documents = []
    for path in sorted(spec_dir.glob("*.md")):
        entry = files.get(str(path.resolve()))
        defs = definitions(path)
        if entry is None:
            documents.append(DocumentCoverage(path.name, 0, [], 0, [], len(defs), [name for name, _, _ in defs]))
            continue
        executed = set(entry["executed_lines"])
        unreached = [name for name, first, last in defs if not any(first <= line <= last for line in executed)]
        summary = entry["summary"]
        documents.append(DocumentCoverage(
            path.name, summary["num_statements"], entry["missing_lines"], summary.get("num_branches", 0),
            [tuple(b) for b in entry.get("missing_branches", [])], len(defs), unreached))
    return Report([d for d in documents if d.statements or d.definitions], data["cases"])


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])
