"""coverage.py plugin: measure and report spec code by the line of its Markdown document.

Spec modules are compiled from ``spec/*.md`` with the document as their file name, so the
tracer records document line numbers already. This plugin tells coverage that those files are
Python whose source is the document's rendered code (line N of one is line N of the other), so
``coverage report``/``html`` show ``spec/scale.md`` with its real line numbers.

Enable with ``[tool.coverage.run] plugins = ["smspec.tools.coverage_md"]`` (pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coverage.plugin import CoveragePlugin, FileTracer
from coverage.python import PythonFileReporter, PythonParser
from smspec.spec._markdown import parse_document, render_source


def _is_spec_document(filename: str) -> bool:
    path = Path(filename)
    return path.suffix == ".md" and path.parent.name == "spec"


class _DocumentTracer(FileTracer):
    def __init__(self, filename: str) -> None:
        self.filename = filename

    def source_filename(self) -> str:
        return self.filename


class _DocumentReporter(PythonFileReporter):
    def source(self) -> str:
        if self._source is None:
            self._source = render_source(parse_document(Path(self.filename)), "mainnet")
        return self._source

    @property
    def parser(self) -> PythonParser:
        if self._parser is None:
            exclude = self.coverage._exclude_regex("exclude") if self.coverage else None
            self._parser = PythonParser(text=self.source(), filename=self.filename, exclude=exclude)
            self._parser.parse_source()
        return self._parser


class MarkdownSpecPlugin(CoveragePlugin):
    def file_tracer(self, filename: str) -> FileTracer | None:
        return _DocumentTracer(filename) if _is_spec_document(filename) else None

    def file_reporter(self, filename: str) -> Any:
        return _DocumentReporter(filename)


def coverage_init(reg: Any, options: dict[str, Any]) -> None:
    reg.add_file_tracer(MarkdownSpecPlugin())
