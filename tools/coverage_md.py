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

from coverage.config import DEFAULT_EXCLUDE, DEFAULT_PARTIAL, DEFAULT_PARTIAL_ALWAYS
from coverage.misc import join_regex
from coverage.parser import PythonParser
from coverage.plugin import CoveragePlugin, FileTracer
from coverage.python import PythonFileReporter
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
    """coverage.py's Python reporter over a document's rendered code, with the exclusion and
    partial-branch rules of the coverage configuration (``...`` interface stubs, ``# pragma: no
    cover``, ``while True:``), which the plugin received in :meth:`MarkdownSpecPlugin.configure`."""

    def __init__(self, filename: str, rules: _Rules) -> None:
        super().__init__(filename, coverage=None)
        self.rules = rules

    def source(self) -> str:
        if self._source is None:
            self._source = render_source(parse_document(Path(self.filename)), "mainnet")
        return self._source

    @property
    def parser(self) -> PythonParser:
        if self._parser is None:
            self._parser = PythonParser(text=self.source(), filename=self.filename,
                                        exclude=join_regex(self.rules.exclude))
            self._parser.parse_source()
        return self._parser

    def no_branch_lines(self) -> set[int]:
        return self.parser.lines_matching(join_regex(self.rules.partial))


class _Rules:
    """The exclusion and partial-branch regexes in force (coverage's defaults until configured)."""

    def __init__(self) -> None:
        self.exclude: list[str] = list(DEFAULT_EXCLUDE)
        self.partial: list[str] = list(DEFAULT_PARTIAL) + list(DEFAULT_PARTIAL_ALWAYS)


class MarkdownSpecPlugin(CoveragePlugin):
    def __init__(self) -> None:
        self.rules = _Rules()

    def configure(self, config: Any) -> None:
        """Take the configuration's exclusion rules (coverage.py passes its config or itself)."""
        exclude = config.get_option("report:exclude_lines")
        partial = config.get_option("report:partial_branches")
        always = config.get_option("report:partial_branches_always")
        if exclude is not None:
            self.rules.exclude = list(exclude)
        if partial is not None or always is not None:
            self.rules.partial = list(partial or []) + list(always or [])

    def file_tracer(self, filename: str) -> FileTracer | None:
        return _DocumentTracer(filename) if _is_spec_document(filename) else None

    def file_reporter(self, filename: str) -> Any:
        return _DocumentReporter(filename, self.rules)


def coverage_init(reg: Any, options: dict[str, Any] | None = None) -> None:
    plugin = MarkdownSpecPlugin()
    reg.add_file_tracer(plugin)
    reg.add_configurer(plugin)
