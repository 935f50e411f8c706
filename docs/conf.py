"""Sphinx configuration: MyST renders spec/*.md directly (the repository root is the source)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

project = "smspec"
author = "smspec contributors"
copyright = "2026, smspec contributors"
extensions = ["myst_parser", "cli_reference", "spec_index"]
root_doc = "docs/index"
# The source directory is the repository root (see the Makefile): only these files are pages.
include_patterns = ["docs/*.md", "spec/*.md", "conformance/formats/*.md"]
exclude_patterns = ["docs/_build/**", ".venv/**", "build/**", "vectors/**"]
myst_enable_extensions = ["colon_fence", "deflist", "fieldlist", "attrs_inline", "dollarmath"]
myst_heading_anchors = 4
html_theme = "alabaster"
html_title = "smspec: the executable Spacemesh specification"
pygments_style = "sphinx"
# Links from the spec to files outside the documentation (research notes, source files)
# are plain references, not documents.
suppress_warnings = ["myst.xref_missing", "myst.header"]


def setup(app):  # noqa: ANN001, ANN201 - Sphinx hook
    from pygments.lexers import PythonLexer

    # Illustrative (non-normative) code blocks are highlighted like Python but never run.
    app.add_lexer("python-example", PythonLexer)
