"""``{spec-definitions}`` directive: every definition of every spec document, in reading order,
linked to its heading and to its first line, with the backends that replace it (from the
impl/gpu registry)."""

from __future__ import annotations

from docutils import nodes
from spec_lines import note_spec_dependencies, numbered_lines
from spec_order import reading_order
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


def definition_headings(stem: str) -> list[tuple[int, tuple[str, ...]]]:
    """(line, names) of every ``#### `name` `` heading of ``spec/<stem>.md``, in order; the line
    is the first line of its code (its constant row, or its first numbered line), else the
    heading's own line."""
    from markdown_it import MarkdownIt
    from smspec.spec._markdown import parse_document
    from spec_lines import SPEC_DIR, numbered_lines

    path = SPEC_DIR / f"{stem}.md"
    tokens = MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8"))
    numbered = sorted(numbered_lines(stem))
    constants = {c.name: c.line for c in parse_document(path).constants}
    headings: list[tuple[int, tuple[str, ...]]] = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.markup == "####" and token.map is not None:
            children = tokens[i + 1].children or []
            names = tuple(c.content for c in children if c.type == "code_inline")
            rest = "".join(c.content for c in children if c.type != "code_inline").strip(" ,")
            if names and not rest:
                headings.append((token.map[0] + 1, names))
    found: list[tuple[int, tuple[str, ...]]] = []
    for k, (line, names) in enumerate(headings):
        end = headings[k + 1][0] if k + 1 < len(headings) else 10**9
        code = [n for n in numbered if line < n < end]
        first = constants.get(names[0]) or (code[0] if code else line)
        found.append((first, names))
    return found


class SpecDefinitions(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        note_spec_dependencies(self.env)
        from smspec.impl.registry import all_replacements

        replaced: dict[tuple[str, str], list[str]] = {}
        for r in all_replacements():
            replaced.setdefault((r.module, r.name), []).append(r.backend)
        result: list[nodes.Node] = []
        for stem in reading_order():
            section = nodes.section(ids=[f"definitions-{stem}"])
            title = nodes.title()
            title += nodes.Text(f"{stem}.md")
            section += title
            table = nodes.table(classes=["spec-definitions"])
            group = nodes.tgroup(cols=3)
            table += group
            for width in (40, 10, 15):
                group += nodes.colspec(colwidth=width)
            head = nodes.thead()
            body = nodes.tbody()
            group += head
            group += body
            row = nodes.row()
            for text in ("definition", "line", "replaced by"):
                entry = nodes.entry()
                entry += nodes.paragraph(text=text)
                row += entry
            head += row
            numbered = numbered_lines(stem)
            for line, names in definition_headings(stem):
                row = nodes.row()
                cell = nodes.entry()
                para = nodes.paragraph()
                for k, name in enumerate(names):
                    if k:
                        para += nodes.Text(", ")
                    ref = addnodes.pending_xref(
                        "", refdomain="spec", reftype="def", reftarget=f"{stem}.{name}",
                        refexplicit=True, refwarn=True,
                    )
                    ref += nodes.literal(name, name)
                    para += ref
                cell += para
                row += cell
                cell = nodes.entry()
                para = nodes.paragraph()
                if line in numbered:
                    ref = addnodes.pending_xref(
                        "", refdomain="spec", reftype="line", reftarget=f"{stem}:{line}",
                        refexplicit=True, refwarn=True,
                    )
                    ref += nodes.Text(str(line))
                    para += ref
                else:
                    para += nodes.Text(str(line))
                cell += para
                row += cell
                backends = sorted({b for n in names for b in replaced.get((stem, n), [])})
                cell = nodes.entry()
                cell += nodes.paragraph(text=", ".join(backends) or "-")
                row += cell
                body += row
            section += table
            result.append(section)
        return result


def setup(app: Sphinx) -> dict[str, object]:
    app.add_directive("spec-definitions", SpecDefinitions)
    return {"parallel_read_safe": True}
