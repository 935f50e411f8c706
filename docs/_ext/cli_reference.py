"""``{smspec-cli}`` directive: the --help text of every smspec command, generated at build time."""

from __future__ import annotations

import argparse

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


def _walk(parser: argparse.ArgumentParser, prefix: str):
    yield prefix, parser.format_help()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in sorted(action.choices.items()):
                yield from _walk(sub, f"{prefix} {name}")


class CliReference(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        from smspec.tools.cli import build_parser

        result: list[nodes.Node] = []
        for command, text in _walk(build_parser(), "smspec"):
            section_id = nodes.make_id(command)
            section = nodes.section(ids=[section_id])
            section += nodes.title(text=command)
            section += nodes.literal_block(text, text)
            result.append(section)
        return result


def setup(app: Sphinx) -> dict[str, object]:
    app.add_directive("smspec-cli", CliReference)
    return {"parallel_read_safe": True}
