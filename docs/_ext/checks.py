"""What a spec document names as showing something: conformance vectors and tests.

* a vector is named by its case name in inline code (``quirk_zero_units``), found in the
  committed ``vectors/index.json``; the test that yields it is found by the case name written
  as a string in ``tests/spec``;
* a test is named as ``tests/<path>.py::<test function>`` (or ``::Class::test``) in inline code;
  it must exist (the file, and a ``def``/``class`` of that name in it).

Both are rendered as links to generated pages showing the test source with line numbers
(``docs/_generated/``, HTML only; the other editions show the name).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "docs" / "_generated"
TEST_REF = re.compile(r"^(?P<path>tests/[\w/]+\.py)(?:::(?P<name>[\w:]+))?$")


@dataclass(frozen=True)
class Check:
    kind: str  # "vector" or "test"
    name: str  # case name, or test id
    path: str  # test file, relative to the repository
    line: int  # line of the test (the vector's case, or the test function)
    detail: str  # vector ids (preset/kind/group/handler/case), or ""


@cache
def vector_cases() -> dict[str, tuple[str, ...]]:
    """case name -> every vector id of that name (from the committed vectors/index.json)."""
    index = json.loads((ROOT / "vectors" / "index.json").read_text(encoding="utf-8"))
    cases: dict[str, list[str]] = {}
    for path in index["cases"]:
        parts = path.split("/")
        cases.setdefault(parts[-2], []).append("/".join(parts[:-1]))
    return {name: tuple(sorted(paths)) for name, paths in cases.items()}


@cache
def _test_sources() -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(
        (str(p.relative_to(ROOT)), tuple(p.read_text(encoding="utf-8").split("\n")))
        for p in sorted((ROOT / "tests").rglob("*.py"))
    )


def find_vector(name: str) -> Check | None:
    ids = vector_cases().get(name)
    if not ids:
        return None
    quoted = re.compile(rf"""["']{re.escape(name)}["']""")
    for path, lines in _test_sources():
        if not path.startswith("tests/spec/"):
            continue
        for number, text in enumerate(lines, 1):
            if quoted.search(text):
                return Check("vector", name, path, number, ", ".join(ids))
    return Check("vector", name, "", 0, ", ".join(ids))


@cache
def _definitions(path: str) -> dict[str, int]:
    """``name`` and ``Class::name`` -> line, for the functions and classes of a test file."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    found: dict[str, int] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            line = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            found[node.name] = line
            if isinstance(node, ast.ClassDef):
                for inner in node.body:
                    if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        found[f"{node.name}::{inner.name}"] = inner.lineno
    return found


def find_test(reference: str) -> Check | None:
    """The test ``tests/x.py::name`` names, or None when the file or the test is missing."""
    match = TEST_REF.match(reference)
    if not match or not (ROOT / match["path"]).is_file():
        return None
    if match["name"] is None:
        return Check("test", reference, match["path"], 1, "")
    line = _definitions(match["path"]).get(match["name"])
    if line is None:
        return None
    return Check("test", reference, match["path"], line, "")


def find_test_function(name: str) -> Check | None:
    """The test function ``name`` (``test_...``) when exactly one test file defines it."""
    found = [
        Check("test", f"{path}::{name}", path, _definitions(path)[name], "")
        for path, _ in _test_sources()
        if Path(path).name.startswith("test_") and name in _definitions(path)
    ]
    return found[0] if len(found) == 1 else None


def checks_in(markdown: str) -> tuple[list[Check], list[str]]:
    """The vectors and tests a paragraph names, and the test references that do not resolve."""
    found: list[Check] = []
    missing: list[str] = []
    for code in re.findall(r"`([^`]+)`", markdown):
        if code.startswith("tests/"):
            check = find_test(code)
        elif re.fullmatch(r"test_\w+", code):
            check = find_test_function(code)
        else:
            check = find_vector(code)
        if check is not None:
            if check not in found:
                found.append(check)
        elif code.startswith("tests/"):
            missing.append(code)
    return found, missing


def source_docname(path: str) -> str:
    """The docname of the generated page showing test file ``path``."""
    return f"docs/_generated/{path}"


def write_source_pages(paths: set[str]) -> None:
    """One orphan page per test file, its source numbered from line 1 (HTML only)."""
    for path in sorted(paths):
        page = GENERATED / f"{path}.md"
        page.parent.mkdir(parents=True, exist_ok=True)
        depth = "../" * (len(Path(path).parts) + 1)
        text = (
            "---\norphan: true\n---\n\n"
            f"# `{path}`\n\n"
            f"```{{literalinclude}} {depth}{path}\n:language: python\n:linenos:\n```\n"
        )
        if not page.exists() or page.read_text(encoding="utf-8") != text:
            page.write_text(text, encoding="utf-8")
