"""``{spec-definitions}`` directive: every definition of every spec document, with its location,
and which backends replace it (from the impl/gpu registry)."""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


class SpecDefinitions(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        from smspec import spec
        from smspec.impl.registry import all_replacements
        from smspec.spec._markdown import parse_document

        replaced: dict[tuple[str, str], list[str]] = {}
        for r in all_replacements():
            replaced.setdefault((r.module, r.name), []).append(r.backend)
        table = nodes.table()
        group = nodes.tgroup(cols=4)
        table += group
        for width in (20, 30, 10, 15):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        body = nodes.tbody()
        group += body

        def row(cells: list[str], into: nodes.Element) -> None:
            r = nodes.row()
            for text in cells:
                entry = nodes.entry()
                entry += nodes.paragraph(text=text)
                r += entry
            into += r

        row(["document", "definition", "line", "replaced by"], head)
        for name in spec.available_modules():
            doc = parse_document(spec.document_path(name))
            first_line: dict[str, int] = {}
            for line, names in sorted(doc.headings.items()):
                for n in names:
                    first_line.setdefault(n, line)
            for definition, line in sorted(first_line.items(), key=lambda kv: kv[1]):
                backends = ", ".join(sorted(replaced.get((name, definition), []))) or "-"
                row([f"{name}.md", definition, str(line), backends], body)
        return [table]


def setup(app: Sphinx) -> dict[str, object]:
    app.add_directive("spec-definitions", SpecDefinitions)
    return {"parallel_read_safe": True}
