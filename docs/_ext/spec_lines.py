"""Spec documents rendered as an auditor reads them in the repository.

* Every fenced block of a ``spec/*.md`` document is numbered with the document's own line
  numbers (line N of the rendered block is line N of the Markdown file, which is line N of
  the compiled module), and each numbered line is an anchor ``<stem>-L<N>`` (``hare-L343``;
  the capital L keeps it apart from heading slugs, which are lower case, also in the
  single-page edition).
* Every definition heading (``#### `name` ``, possibly several names) is an object of the
  ``spec`` domain: the search finds it by name, the general index lists it, the role
  ``{spec:def}`name``` links to it, and ``x.md#name`` links land on it (each name is an id
  of its section).
* Inline code ``spec/x.md:N`` (or ``x.md:N`` for a spec document) links to that line.
* Heading levels are made consecutive when a page is read (a definition is always ``####``
  in the source, also right below a ``##``): the line count does not change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from docutils import nodes
from markdown_it import MarkdownIt
from pygments.formatters import HtmlFormatter
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx.domains import Domain, ObjType
from sphinx.environment import BuildEnvironment
from sphinx.highlighting import PygmentsBridge
from sphinx.roles import XRefRole
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.nodes import make_refnode

ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = ROOT / "spec"
_heading_parser = MarkdownIt("commonmark")
LINE_REF = re.compile(r"^(?:spec/)?(?P<stem>[a-z0-9_]+)\.md:(?P<first>\d+)(?:-(?P<last>\d+))?$")



def note_spec_dependencies(env) -> None:
    """Make a page generated from the spec documents (and their tests' records) rebuild when
    any of them changes: Sphinx tracks only the page's own source otherwise."""
    for path in sorted(SPEC_DIR.glob("*.md")):
        env.note_dependency(str(path))
    record = ROOT / "docs" / "claims-record.json"
    if record.exists():
        env.note_dependency(str(record))

def spec_stems() -> set[str]:
    return {p.stem for p in SPEC_DIR.glob("*.md")}


def numbered_lines(stem: str) -> set[int]:
    """The lines of ``spec/<stem>.md`` shown with a number (the inside of every fenced code block;
    a ``{directive}`` fence, such as a figure, is not code)."""
    path = SPEC_DIR / f"{stem}.md"
    key = (stem, path.stat().st_mtime_ns)
    if key not in _numbered:
        found: set[int] = set()
        for token in _heading_parser.parse(path.read_text(encoding="utf-8")):
            if token.type == "fence" and token.map is not None and not token.info.startswith("{"):
                found.update(range(token.map[0] + 2, token.map[1]))
        _numbered[key] = found
    return _numbered[key]


_numbered: dict[tuple[str, int], set[int]] = {}


GENERATED_SOURCES = "docs/_generated/"


def is_spec_doc(docname: str) -> bool:
    return docname.startswith("spec/") and docname.count("/") == 1


def line_anchor(stem: str, line: int) -> str:
    """The id of line ``line`` of ``spec/<stem>.md`` in the rendered page."""
    return f"{stem}-L{line}"


class LineAnchoredHtmlFormatter(HtmlFormatter):  # type: ignore[type-arg]
    """Pygments' HTML formatter, with ``linespans`` ids ``<prefix>L<N>`` (see ``line_anchor``)."""

    def _wrap_linespans(self, inner: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
        number = self.linenostart - 1
        for is_line, line in inner:
            if is_line:
                number += 1
                yield 1, f'<span id="{self.linespans}L{number}">{line}</span>'
            else:
                yield 0, line


def consecutive_headings(text: str) -> str:
    """``text`` with each ATX heading's level lowered to one below its parent's rendered level.

    A heading's parent is the nearest earlier heading of a smaller level. The result has the
    same lines (only the run of ``#`` changes), so source line numbers stay valid.
    """
    lines = text.split("\n")
    stack: list[tuple[int, int]] = []  # (level in the source, rendered level)
    for token in _heading_parser.parse(text):
        if token.type != "heading_open" or token.markup[0] != "#" or token.map is None:
            continue
        level = len(token.markup)
        while stack and stack[-1][0] >= level:
            stack.pop()
        rendered = stack[-1][1] + 1 if stack else 1
        stack.append((level, rendered))
        if rendered != level:
            row = token.map[0]
            stripped = lines[row].lstrip()
            indent = lines[row][: len(lines[row]) - len(stripped)]
            lines[row] = indent + "#" * rendered + stripped[level:]
    return "\n".join(lines)


def on_source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    if app.env.doc2path(docname).suffix == ".md":
        source[0] = consecutive_headings(source[0])


def definition_names(title: nodes.Node) -> list[str]:
    """The names a definition heading declares: its inline-code spans, when they are all of it."""
    names: list[str] = []
    for child in title.children:
        if isinstance(child, nodes.literal):
            names.append(child.astext())
        elif child.astext().strip(" ,"):
            return []
    return names


class NumberSpecBlocks(SphinxTransform):
    """Number the fenced blocks of spec documents with their Markdown line numbers."""

    default_priority = 400

    def apply(self, **kwargs: Any) -> None:
        if self.env.docname.startswith(GENERATED_SOURCES):
            # a test file's source page: numbered from 1 by literalinclude; anchor each line
            stem = Path(self.env.docname).stem
            for block in self.document.findall(nodes.literal_block):
                block.setdefault("highlight_args", {})["linespans"] = f"{stem}-"
                block["classes"].append("spec-lines")
            return
        if not is_spec_doc(self.env.docname):
            return
        stem = self.env.docname.split("/", 1)[1]
        for block in self.document.findall(nodes.literal_block):
            if block.line is None:
                continue
            # MyST records the 1-based line of the opening fence: the code starts on the next.
            first = block.line + 1
            block["linenos"] = True
            args = block.setdefault("highlight_args", {})
            args["linenostart"] = first
            args["linespans"] = f"{stem}-"
            block["classes"].append("spec-lines")


class DefinitionTargets(SphinxTransform):
    """Each definition heading's names become ids of its section and ``spec`` domain objects."""

    default_priority = 401

    def apply(self, **kwargs: Any) -> None:
        if not is_spec_doc(self.env.docname):
            return
        stem = self.env.docname.split("/", 1)[1]
        domain = self.env.get_domain("spec")
        assert isinstance(domain, SpecDomain)
        slugs = self.env.metadata[self.env.docname].setdefault("myst_slugs", {})
        for section in self.document.findall(nodes.section):
            title = section[0]
            if not isinstance(title, nodes.title):
                continue
            names = definition_names(title)
            if not names:
                continue
            entries = []
            for name in names:
                anchor = name if name not in self.document.ids else section["ids"][0]
                if anchor not in section["ids"]:
                    section["ids"].append(anchor)
                    self.document.ids[anchor] = section
                slugs.setdefault(name, (section.line or 0, anchor, name))
                domain.note_definition(stem, name, self.env.docname, anchor, section.line or 0)
                entries.append(("single", f"{name} ({stem}.md)", anchor, "", None))
            index = addnodes.index(entries=entries)
            section.insert(1, index)


class LinkLineReferences(SphinxTransform):
    """Inline code ``spec/x.md:N`` (or ``x.md:N-M``) becomes a link to that line."""

    default_priority = 402

    def apply(self, **kwargs: Any) -> None:
        stems = spec_stems()
        for literal in list(self.document.findall(nodes.literal)):
            if isinstance(literal.parent, (nodes.reference, nodes.title)):
                continue
            match = LINE_REF.match(literal.astext())
            if not match or match["stem"] not in stems:
                continue
            ref = addnodes.pending_xref(
                "", refdomain="spec", reftype="line", reftarget=f"{match['stem']}:{match['first']}",
                refexplicit=True, refwarn=True,
            )
            ref += literal.deepcopy()
            literal.replace_self(ref)


class BreakableLiterals(SphinxPostTransform):
    """LaTeX edition: long inline code may break after ``_ / : , . -`` and inside long runs of
    digits (test paths, 77-digit constants), so no table cell or line runs into the margin."""

    default_priority = 800
    formats = ("latex",)
    POINTS = re.compile(r"(?<=[_/:,.\-])|(?<=[0-9]{12})(?=[0-9])")

    def run(self, **kwargs: Any) -> None:
        for literal in list(self.document.findall(nodes.literal)):
            if isinstance(literal, nodes.literal_block) or len(literal.astext()) < 10:
                continue
            if len(literal.children) != 1 or not isinstance(literal[0], nodes.Text):
                continue
            pieces = [p for p in self.POINTS.split(literal.astext()) if p]
            if len(pieces) < 2:
                continue
            literal.children = []
            for k, piece in enumerate(pieces):
                if k:
                    literal += nodes.raw("", r"\allowbreak{}", format="latex")
                literal += nodes.Text(piece)


class SpecDomain(Domain):
    """Definitions of the spec documents, as objects the search and the index know."""

    name = "spec"
    label = "spec"
    object_types = {"definition": ObjType("definition", "def")}
    roles = {"def": XRefRole()}
    initial_data: dict[str, Any] = {"definitions": {}}

    @property
    def definitions(self) -> dict[str, tuple[str, str, str, int]]:
        """``stem.name`` -> (name, docname, anchor, line of the heading)."""
        return self.data.setdefault("definitions", {})

    def note_definition(self, stem: str, name: str, docname: str, anchor: str, line: int) -> None:
        self.definitions.setdefault(f"{stem}.{name}", (name, docname, anchor, line))

    def clear_doc(self, docname: str) -> None:
        for key, value in list(self.definitions.items()):
            if value[1] == docname:
                del self.definitions[key]

    def merge_domaindata(self, docnames: Iterable[str], otherdata: dict[str, Any]) -> None:
        for key, value in otherdata["definitions"].items():
            if value[1] in docnames:
                self.definitions[key] = value

    def get_objects(self) -> Iterator[tuple[str, str, str, str, str, int]]:
        for fullname, (name, docname, anchor, _line) in sorted(self.definitions.items()):
            yield fullname, name, "definition", docname, anchor, 1

    def find(self, target: str) -> tuple[str, str, str] | None:
        """(docname, anchor, name) of ``name`` or ``stem.name`` (the first document defining it)."""
        if target in self.definitions:
            name, docname, anchor, _ = self.definitions[target]
            return docname, anchor, name
        for fullname in sorted(self.definitions):
            name, docname, anchor, _ = self.definitions[fullname]
            if name == target:
                return docname, anchor, name
        return None

    def resolve_xref(
        self, env: BuildEnvironment, fromdocname: str, builder: Builder, typ: str, target: str,
        node: addnodes.pending_xref, contnode: nodes.Element,
    ) -> nodes.reference | None:
        ref = self._resolve(env, fromdocname, builder, typ, target, contnode)
        if ref is not None and builder.name == "singlehtml" and "#" in ref.get("refuri", ""):
            # one page: the anchor alone (line and definition ids are unique across documents)
            ref["refuri"] = "#" + ref["refuri"].rsplit("#", 1)[1]
        return ref

    def _resolve(
        self, env: BuildEnvironment, fromdocname: str, builder: Builder, typ: str, target: str,
        contnode: nodes.Element,
    ) -> nodes.reference | None:
        if typ == "source":  # a test file's line, on its generated page (HTML editions only)
            path, line = target.rsplit(":", 1)
            docname = GENERATED_SOURCES + path
            if builder.format != "html" or builder.name == "singlehtml":
                return contnode  # type: ignore[return-value]
            if docname not in env.all_docs:
                return None
            return make_refnode(builder, fromdocname, docname, line_anchor(Path(path).stem, int(line)), contnode)
        if typ == "anchor":
            docname, anchor = target.split("#", 1)
            if docname not in env.all_docs:
                return None
            return make_refnode(builder, fromdocname, docname, anchor, contnode)
        if typ == "line":
            stem, line = target.split(":")
            docname = f"spec/{stem}"
            if docname not in env.all_docs or int(line) not in numbered_lines(stem):
                return None
            return make_refnode(builder, fromdocname, docname, line_anchor(stem, int(line)), contnode)
        found = self.find(target)
        if found is None:
            return None
        docname, anchor, _ = found
        return make_refnode(builder, fromdocname, docname, anchor, contnode, target)

    def resolve_any_xref(
        self, env: BuildEnvironment, fromdocname: str, builder: Builder, target: str,
        node: addnodes.pending_xref, contnode: nodes.Element,
    ) -> list[tuple[str, nodes.reference]]:
        ref = self.resolve_xref(env, fromdocname, builder, "def", target, node, contnode)
        return [("spec:def", ref)] if ref is not None else []


def missing_reference(app: Sphinx, env: BuildEnvironment, node: nodes.Element, contnode: nodes.Node) -> None:
    """A ``spec`` reference that resolves to nothing fails the build (``-W``)."""
    if node.get("refdomain") == "spec":
        from sphinx.util import logging

        logging.getLogger(__name__).warning(
            "spec reference to an unknown %s: %s", node.get("reftype"), node.get("reftarget"),
            location=node, type="spec", subtype="ref",
        )


def setup(app: Sphinx) -> dict[str, object]:
    PygmentsBridge.html_formatter = LineAnchoredHtmlFormatter
    app.add_domain(SpecDomain)
    app.connect("source-read", on_source_read)
    app.add_transform(NumberSpecBlocks)
    app.add_transform(DefinitionTargets)
    app.add_transform(LinkLineReferences)
    app.add_post_transform(BreakableLiterals)
    app.connect("missing-reference", missing_reference)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
