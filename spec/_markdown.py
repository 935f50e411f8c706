"""Compile a literate Markdown spec document into Python, keeping line numbers.

Rules (checked here, so a malformed document fails loudly at import):

* Only fenced blocks whose info string is exactly ``python`` are code.  Any other block
  (``python-example``, ``text`` ...) is illustration and never runs.
* Code blocks hold definitions only: ``def``, ``class``, imports, and assignments of names
  (type aliases).  Every definition sits under a heading that names it in inline code, e.g.
  ``#### `encode_compact` ``.
* Constant tables are data.  A table whose header is ``Name | Value | Description`` defines
  module constants; a table whose header names every preset (``Name | mainnet | testnet | tiny
  | Description``) defines preset parameters, and the column of the module's preset is used.
  Rows start with an inline-code ``UPPER_CASE`` name; values are inline-code Python
  expressions.  A description ending with ``(= 4,294,967,296)`` is checked against the value.
* The generated source has exactly as many lines as the document; line N of one is line N of
  the other.  A constant row becomes the assignment on that same line.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

PRESET_NAMES = ("mainnet", "testnet", "tiny")
_CONSTANT_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_ANNOTATION = re.compile(r"\(=\s*([0-9][0-9,_]*)\s*\)\s*$")
_ALLOWED_IMPORT_ROOTS = {
    "__future__", "attrs", "blake3", "collections", "dataclasses", "enum", "functools",
    "hashlib", "hmac", "math", "nacl", "struct", "typing", "smspec", "abc", "bisect",
    "itertools", "heapq", "ctypes", "json", "pathlib", "os", "fractions", "Crypto",
}


class SpecFormatError(SyntaxError):
    """A spec document breaks the literate-spec rules (see module docstring)."""


@dataclass
class Constant:
    name: str
    line: int  # 1-based line in the document
    expression: str
    kind: str  # "constant" or "preset"
    values: dict[str, str] = field(default_factory=dict)  # preset -> expression
    annotation: int | None = None


@dataclass
class Document:
    path: Path
    lines: list[str]
    code_lines: dict[int, str]  # 1-based line -> code text
    headings: dict[int, tuple[str, ...]]  # 1-based line of each code line -> names in heading
    constants: list[Constant]


_md = MarkdownIt("commonmark").enable("table")


def _inline_code_spans(inline: Token) -> list[str]:
    return [child.content for child in (inline.children or []) if child.type == "code_inline"]


def _cell_text(inline: Token) -> str:
    return inline.content.strip()


_parsed: dict[tuple[str, int, int], Document] = {}


def parse_document(path: Path) -> Document:
    """Parse a document (cached by path, size and modification time, so edits are seen)."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _parsed:
        _parsed[key] = _parse_document(path)
    return _parsed[key]


def _parse_document(path: Path) -> Document:
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    tokens = _md.parse(text)
    code_lines: dict[int, str] = {}
    headings: dict[int, tuple[str, ...]] = {}
    constants: list[Constant] = []
    current_names: tuple[str, ...] = ()

    def fail(line: int, message: str) -> SpecFormatError:
        return SpecFormatError(f"{path}:{line}: {message}", (str(path), line, 1, lines[line - 1]))

    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            current_names = tuple(_inline_code_spans(tokens[i + 1]))
        elif tok.type == "fence" and tok.info.strip() == "python":
            assert tok.map is not None
            start, end = tok.map
            if lines[start] != lines[start].lstrip():
                raise fail(start + 1, "python code fences must not be indented")
            closing = end - 1
            if lines[closing].strip() not in ("```", "~~~", "````"):
                raise fail(start + 1, "python code fence is not closed")
            for n in range(start + 1, closing):
                code_lines[n + 1] = lines[n]
                headings[n + 1] = current_names
        elif tok.type == "table_open":
            i = _parse_table(tokens, i, path, lines, constants, fail)
        i += 1
    return Document(path, lines, code_lines, headings, constants)


def _parse_table(
    tokens: list[Token],
    i: int,
    path: Path,
    lines: list[str],
    constants: list[Constant],
    fail: Callable[[int, str], SpecFormatError],
) -> int:
    rows: list[tuple[int, list[Token]]] = []
    j = i
    row: list[Token] = []
    row_line = 0
    while tokens[j].type != "table_close":
        t = tokens[j]
        if t.type == "tr_open":
            row = []
            row_line = (t.map[0] + 1) if t.map else 0
        elif t.type == "inline":
            row.append(t)
        elif t.type == "tr_close":
            rows.append((row_line, row))
        j += 1
    if not rows:
        return j
    header = [_cell_text(c).lower() for c in rows[0][1]]
    if len(header) >= 3 and header[0] == "name" and header[1] == "value":
        kind = "constant"
    elif header and header[0] == "name" and all(p in header for p in PRESET_NAMES):
        kind = "preset"
    else:
        return j
    for line, cells in rows[1:]:
        spans = _inline_code_spans(cells[0])
        if not spans or not _CONSTANT_NAME.match(spans[0]) or _cell_text(cells[0]) != f"`{spans[0]}`":
            continue
        name = spans[0]
        description = _cell_text(cells[-1])
        annotation_match = _ANNOTATION.search(description)
        annotation = int(annotation_match.group(1).replace(",", "").replace("_", "")) if annotation_match else None
        if kind == "constant":
            value_spans = _inline_code_spans(cells[1])
            if len(value_spans) != 1:
                raise fail(line, f"constant {name}: the value cell must be one inline-code expression")
            constants.append(Constant(name, line, value_spans[0], kind, annotation=annotation))
        else:
            values: dict[str, str] = {}
            for preset in PRESET_NAMES:
                cell = cells[header.index(preset)]
                value_spans = _inline_code_spans(cell)
                if len(value_spans) != 1:
                    raise fail(line, f"preset parameter {name}: the {preset} cell must be one inline-code expression")
                values[preset] = value_spans[0]
            constants.append(Constant(name, line, values["mainnet"], kind, values, annotation))
    return j


def render_source(doc: Document, preset: str) -> str:
    """The Python source of ``doc`` for ``preset``: as many lines as the document."""
    out = [""] * len(doc.lines)
    for line, code in doc.code_lines.items():
        out[line - 1] = code
    for const in doc.constants:
        expression = const.values[preset] if const.kind == "preset" else const.expression
        out[const.line - 1] = f"{const.name} = {expression}"
    return "\n".join(out)


class _PresetImports(ast.NodeTransformer):
    """Rewrite ``from smspec.spec.X import ...`` to the importer's preset."""

    def __init__(self, package: str, preset: str) -> None:
        self.package = package
        self.preset = preset

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.ImportFrom:
        module = node.module or ""
        if module.startswith(self.package + ".") and module.count(".") == self.package.count(".") + 1:
            node.module = f"{self.package}.{self.preset}.{module[len(self.package) + 1:]}"
        return node


def _check_structure(doc: Document, tree: ast.Module, package: str) -> None:
    path = doc.path

    def fail(line: int, message: str) -> SpecFormatError:
        return SpecFormatError(f"{path}:{line}: {message}", (str(path), line, 1, doc.lines[line - 1]))

    constant_lines = {c.line for c in doc.constants}
    for stmt in tree.body:
        line = stmt.lineno
        if line in constant_lines:
            continue
        names: list[str] = []
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in stmt.names] if isinstance(stmt, ast.Import) else [stmt.module or ""]
            for module in modules:
                root = module.split(".")[0]
                if root not in _ALLOWED_IMPORT_ROOTS:
                    raise fail(line, f"spec code may not import {module!r}")
                if module.startswith("smspec.") and not module.startswith(package + "."):
                    raise fail(line, f"spec code imports only other spec modules, not {module!r}")
            continue
        if isinstance(stmt, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            names = [stmt.name]
            decorators = stmt.decorator_list
            if decorators:
                line = min(d.lineno for d in decorators)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                if not isinstance(target, ast.Name):
                    raise fail(line, "spec code may only assign plain names")
                names.append(target.id)
        else:
            raise fail(line, f"spec code blocks hold definitions only, not a {type(stmt).__name__} statement")
        heading = doc.headings.get(line, ())
        for name in names:
            if name not in heading:
                shown = ", ".join(f"`{h}`" for h in heading) or "no inline-code name"
                raise fail(line, f"definition {name!r} must sit under a heading naming `{name}` (its heading has {shown})")


def compile_document(path: Path, preset: str, package: str) -> tuple[CodeType, Callable[[dict[str, Any]], None]]:
    """Compile a document for ``preset``.

    Returns the code object (filename = the .md path) and a check to run on the executed
    module namespace (it verifies ``(= N)`` annotations of constants).
    """
    doc = parse_document(path)
    source = render_source(doc, preset)
    tree = ast.parse(source, filename=str(path))
    _check_structure(doc, tree, package)
    tree = _PresetImports(package, preset).visit(tree)
    ast.fix_missing_locations(tree)
    code = compile(tree, str(path), "exec")

    def check(namespace: dict[str, Any]) -> None:
        for const in doc.constants:
            if const.annotation is not None and namespace.get(const.name) != const.annotation:
                if const.kind == "preset" and preset != "mainnet":
                    continue  # annotations describe the mainnet column
                raise SpecFormatError(
                    f"{path}:{const.line}: {const.name} = {namespace.get(const.name)!r} "
                    f"but its description says (= {const.annotation:,})"
                )

    return code, check


def preset_values(path: Path, preset: str) -> dict[str, Any]:
    """Evaluated preset parameters of one document for one preset (for the preset data files)."""
    doc = parse_document(path)
    namespace: dict[str, Any] = {}
    result: dict[str, Any] = {}
    for const in doc.constants:
        expression = const.values[preset] if const.kind == "preset" else const.expression
        try:
            namespace[const.name] = eval(expression, namespace)  # noqa: S307 - the spec's own tables
        except NameError:
            namespace[const.name] = None
        if const.kind == "preset":
            result[const.name] = namespace[const.name]
    return result
