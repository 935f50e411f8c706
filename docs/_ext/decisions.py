"""*Decision* paragraphs: one fixed form, rendered as a box, listed on a generated page.

The form (docs/developing.md, "Decision paragraphs"): a paragraph that starts

    *Decision* (short title): what upstream does, citing the file; what the spec does; why;
    which vector or test shows it.

* the title is a few words naming what is decided (no citation in it);
* at least one upstream file is cited in a form ``upstream.py`` resolves (a link to the file at
  the pinned commit); the project's research notes are never cited;
* vectors are named by case name, tests as ``tests/<path>.py::<name>`` (``checks.py``).

``{spec-decisions}`` lists every decision of every document, in reading order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from checks import Check, checks_in
from docutils import nodes
from markdown_it import MarkdownIt
from spec_lines import SPEC_DIR, is_spec_doc, note_spec_dependencies
from spec_order import reading_order
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util.docutils import SphinxDirective
from upstream import RESEARCH, Citation, citations

FORM = re.compile(r"^\*Decision\* \((?P<title>[^()`]{2,80})\): ")
START = re.compile(r"^\*Decision\*")
_parser = MarkdownIt("commonmark")


@dataclass
class Decision:
    stem: str
    line: int
    title: str  # "" when the paragraph does not have the fixed form
    text: str
    citations: list[Citation] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    missing_tests: list[str] = field(default_factory=list)
    anchor: str = ""

    @property
    def problems(self) -> list[str]:
        found = []
        if not self.title:
            found.append("does not start with '*Decision* (short title): '")
        if not self.citations:
            found.append("cites no upstream file")
        if RESEARCH.search(self.text):
            found.append("cites research notes outside the repository")
        found += [f"names a test that does not exist: {t}" for t in self.missing_tests]
        return found


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def parse_decisions(stem: str) -> list[Decision]:
    """Every *Decision* paragraph of ``spec/<stem>.md``, in order."""
    path = SPEC_DIR / f"{stem}.md"
    tokens = _parser.parse(path.read_text(encoding="utf-8"))
    found: list[Decision] = []
    anchors: set[str] = set()
    for i, token in enumerate(tokens):
        if token.type != "paragraph_open" or token.map is None:
            continue
        text = tokens[i + 1].content
        if not START.match(text):
            continue
        form = FORM.match(text)
        title = form["title"].strip() if form else ""
        checks, missing = checks_in(text)
        anchor = base = f"decision-{slug(title) or 'untitled'}"
        k = 1
        while anchor in anchors:
            k += 1
            anchor = f"{base}-{k}"
        anchors.add(anchor)
        found.append(Decision(stem, token.map[0] + 1, title, text, citations(text, stem), checks, missing, anchor))
    return found


def all_decisions() -> list[Decision]:
    return [d for stem in reading_order() for d in parse_decisions(stem)]


def _check_reference(check: Check) -> nodes.Node:
    """A link to the test source of a vector or a test (HTML), or its name."""
    label = nodes.literal(check.name, check.name)
    if not check.path:
        return label
    ref = addnodes.pending_xref(
        "", refdomain="spec", reftype="source", reftarget=f"{check.path}:{check.line}",
        refexplicit=True, refwarn=True,
    )
    ref += label
    return ref


def _citation_reference(citation: Citation, text: str | None = None) -> nodes.reference:
    ref = nodes.reference("", "", refuri=citation.url, classes=["upstream"])
    ref += nodes.literal(text or citation.label, text or citation.label)
    return ref


def _fields(decision: Decision) -> nodes.field_list:
    fields = nodes.field_list(classes=["decision-fields"])
    for name, items in (
        ("Upstream", [_citation_reference(c) for c in decision.citations]),
        ("Shown by", [_shown(c) for c in decision.checks]),
    ):
        body = nodes.paragraph()
        for k, item in enumerate(items):
            if k:
                body += nodes.Text("; ")
            body += item
        if not items:
            body += nodes.emphasis(text="not named in the paragraph")
        fields += nodes.field("", nodes.field_name(text=name), nodes.field_body("", body))
    return fields


def _shown(check: Check) -> nodes.Node:
    span = nodes.inline()
    span += nodes.Text(f"{check.kind} ")
    span += _check_reference(check)
    if check.kind == "vector":
        span += nodes.Text(" (")
        span += nodes.literal(check.detail, check.detail)
        span += nodes.Text(")")
    return span


class DecisionBoxes(SphinxTransform):
    """Each *Decision* paragraph of a spec document becomes a titled box with its links."""

    default_priority = 405

    def apply(self, **kwargs: Any) -> None:
        if not is_spec_doc(self.env.docname):
            return
        stem = self.env.docname.split("/", 1)[1]
        decisions = parse_decisions(stem)
        paragraphs = [
            p for p in self.document.findall(nodes.paragraph)
            if p.children and isinstance(p[0], nodes.emphasis) and p[0].astext() == "Decision"
            and len(p) > 1 and isinstance(p[1], nodes.Text) and re.match(r"^( \(|:)", p[1].astext())
        ]
        if len(paragraphs) != len(decisions):
            from sphinx.util import logging

            logging.getLogger(__name__).warning(
                "%d Decision paragraphs rendered but %d parsed", len(paragraphs), len(decisions),
                location=self.document, type="spec", subtype="decision",
            )
            return
        for paragraph, decision in zip(paragraphs, decisions, strict=True):
            box = nodes.admonition(classes=["decision"], ids=[decision.anchor])
            self.document.ids[decision.anchor] = box
            box += nodes.title(text=f"Decision: {decision.title or '(untitled)'}")
            body = nodes.paragraph()
            rest = paragraph.children[1:]
            first = rest[0].astext()
            prefix = re.match(r"^( \([^()]*\))?: ?", first)
            body += nodes.Text(first[prefix.end() :] if prefix else first)
            by_text = {c.text: c for c in decision.citations}
            for child in rest[1:]:
                if isinstance(child, nodes.literal) and child.astext() in by_text:
                    body += _citation_reference(by_text[child.astext()], child.astext())
                else:
                    body += child.deepcopy()
            box += body
            box += _fields(decision)
            paragraph.replace_self(box)


class SpecDecisions(SphinxDirective):
    """The decisions of every spec document, with their upstream links and what shows them."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        note_spec_dependencies(self.env)
        result: list[nodes.Node] = []
        total = named = 0
        for stem in reading_order():
            decisions = parse_decisions(stem)
            if not decisions:
                continue
            section = nodes.section(ids=[f"decisions-{stem}"])
            section += nodes.title(text=f"{stem}.md ({len(decisions)})")
            items = nodes.bullet_list()
            for decision in decisions:
                total += 1
                named += bool(decision.checks)
                item = nodes.list_item()
                head = nodes.paragraph()
                ref = addnodes.pending_xref(
                    "", refdomain="spec", reftype="anchor", reftarget=f"spec/{stem}#{decision.anchor}",
                    refexplicit=True, refwarn=True,
                )
                ref += nodes.strong(text=decision.title or "(untitled)")
                head += ref
                head += nodes.Text(f" (spec/{stem}.md, line {decision.line})")
                item += head
                item += _fields(decision)
                items += item
            section += items
            result.append(section)
        summary = nodes.paragraph(
            text=f"{total} decisions; {named} name the vector or test that shows them, "
            f"{total - named} do not yet."
        )
        return [summary, *result]


def write_pages(app: Sphinx) -> None:
    """The test source pages the decisions (and claims) link to."""
    from checks import GENERATED, write_source_pages
    from claims import all_claims

    paths = {c.path for d in all_decisions() for c in d.checks if c.path}
    paths |= {c.path for claim in all_claims() for c in claim.checks}
    keep = {GENERATED / f"{p}.md" for p in paths}
    if GENERATED.exists():
        for old in GENERATED.rglob("*.md"):
            if old not in keep:
                old.unlink()
    write_source_pages(paths)


def setup(app: Sphinx) -> dict[str, object]:
    app.add_transform(DecisionBoxes)
    app.add_directive("spec-decisions", SpecDecisions)
    app.connect("builder-inited", write_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


