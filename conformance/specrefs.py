"""Spec references (``document.md#anchor``) resolved the way the documentation site resolves them.

The site (Sphinx + MyST, ``docs/conf.py``: ``myst_heading_anchors = 4``) gives every heading of
level 1 to 4 an anchor: the GitHub-style slug of its text (the text and inline-code parts of the
heading, lower-cased, spaces to ``-``, every character but word characters, ``-`` and spaces
dropped), made unique within the document by ``-1``, ``-2`` ... suffixes. So the heading
``#### `encode_compact`, `decode_compact` `` is ``scale.md#encode_compact-decode_compact`` and
``#### `Domain` `` is ``crypto.md#domain``. ``tests/unit/test_case_explanations.py`` checks this
module against MyST's own slugs.

A case's ``spec_ref`` must name such an anchor; a spec-strict case's ``decision`` must name the
section holding the ``*Decision*`` paragraph it follows.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

ANCHOR_LEVELS = 4
_CLEAN = re.compile(r"[^\w\u4e00-\u9fff\- ]")
_md = MarkdownIt("commonmark").enable("table")


def slugify(title: str) -> str:
    """MyST's ``github_slugify``."""
    return _CLEAN.sub("", title.lower().replace(" ", "-"))


@dataclass(frozen=True)
class Heading:
    level: int
    title: str  # the text and inline-code parts, as the slug sees them
    slug: str
    line: int  # 1-based
    end: int  # 1-based line where the section ends (exclusive): the next heading of level <= this
    names: tuple[str, ...]  # the inline-code names in the heading (definitions it names)


def spec_dir() -> Path:
    from smspec import spec

    return Path(spec.SPEC_DIR)


@functools.cache
def _headings(path: Path, mtime: float) -> tuple[Heading, ...]:
    lines = path.read_text(encoding="utf-8").split("\n")
    tokens = _md.parse("\n".join(lines))
    raw = []
    for i, token in enumerate(tokens):
        if token.type != "heading_open" or token.map is None:
            continue
        inline = tokens[i + 1]
        children = inline.children or []
        title = "".join(c.content for c in children if c.type in ("text", "code_inline"))
        names = tuple(c.content for c in children if c.type == "code_inline")
        raw.append((int(token.tag[1]), title, token.map[0] + 1, names))
    found: list[Heading] = []
    used: set[str] = set()
    for n, (level, title, line, names) in enumerate(raw):
        end = next((r[2] for r in raw[n + 1:] if r[0] <= level), len(lines) + 1)
        slug = ""
        if level <= ANCHOR_LEVELS:
            base = slugify(title)
            if base:
                slug, k = base, 1
                while slug in used:
                    slug, k = f"{base}-{k}", k + 1
                used.add(slug)
        found.append(Heading(level, title, slug, line, end, names))
    return tuple(found)


def headings(document: str) -> tuple[Heading, ...]:
    """The headings of ``spec/<document>`` (``"scale.md"``)."""
    path = spec_dir() / document
    if not path.is_file():
        raise LookupError(f"no spec document {document!r}")
    return _headings(path, path.stat().st_mtime)


def documents() -> list[str]:
    return sorted(p.name for p in spec_dir().glob("*.md"))


class BadReference(ValueError):
    """A spec reference that names no anchor of the documentation site."""


def resolve(ref: str) -> Heading:
    """The heading a ``document.md#anchor`` reference names (BadReference otherwise)."""
    document, _, anchor = ref.partition("#")
    if not document.endswith(".md") or not anchor:
        raise BadReference(f"{ref!r} is not of the form document.md#anchor")
    try:
        found = headings(document)
    except LookupError as e:
        raise BadReference(f"{ref!r}: {e}") from None
    for heading in found:
        if heading.slug and heading.slug == anchor:
            return heading
    hint = suggest(document, anchor)
    raise BadReference(f"{ref!r}: no heading of {document} has the anchor {anchor!r}"
                       + (f" (did you mean {hint!r}?)" if hint else ""))


def suggest(document: str, anchor: str) -> str | None:
    """The anchor of the heading defining ``anchor`` as a name, if any (for error messages)."""
    try:
        found = headings(document)
    except LookupError:
        return None
    for heading in found:
        if heading.slug and (anchor in heading.names or anchor.lower() in (n.lower() for n in heading.names)):
            return f"{document}#{heading.slug}"
    wanted = slugify(anchor.replace("_", " ")).replace("-", "")
    for heading in found:
        if heading.slug and heading.slug.replace("-", "").replace("_", "") == wanted.replace("_", ""):
            return f"{document}#{heading.slug}"
    return None


def anchor_of(document: str, name: str) -> str:
    """``document#slug`` of the heading that names definition ``name`` (LookupError if none)."""
    for heading in headings(document):
        if name in heading.names and heading.slug:
            return f"{document}#{heading.slug}"
    raise LookupError(f"no heading of {document} names {name!r}")


def section_text(ref: str) -> str:
    """The text of the section a reference names (its heading to the next of the same level)."""
    heading = resolve(ref)
    lines = (spec_dir() / ref.partition("#")[0]).read_text(encoding="utf-8").split("\n")
    return "\n".join(lines[heading.line - 1:heading.end - 1])


def has_decision(ref: str) -> bool:
    """Whether the section ``ref`` names holds a ``*Decision*`` paragraph."""
    return "*Decision*" in section_text(ref)
