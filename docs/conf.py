"""Sphinx configuration: MyST renders spec/*.md directly (the repository root is the source)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

project = "smspec"
# The package's version (tools/_root/__init__.py), read without importing it; EPUB 3 requires one.
version = release = re.search(r'__version__ = "([^"]+)"', (ROOT / "tools" / "_root" / "__init__.py").read_text()).group(1)
author = "smspec contributors"
copyright = "2026, smspec contributors"
extensions = ["myst_parser", "cli_reference", "spec_index", "spec_lines", "decisions", "claims", "figures", "internal_links", "epub_paths",
              "sphinxcontrib.rsvgconverter"]  # SVG figures as PDF in the LaTeX edition (rsvg-convert)
root_doc = "docs/index"
# The source directory is the repository root (see the Makefile): only these files are pages.
include_patterns = [
    "docs/*.md", "spec/*.md", "conformance/formats/*.md", "conformance/formats/handlers/*.md",
    "docs/_generated/**.md",  # test source pages the decisions and claims link to (generated)
]
exclude_patterns = ["docs/_build/**", ".venv/**", "build/**", "vectors/**"]
myst_enable_extensions = ["colon_fence", "deflist", "fieldlist", "attrs_inline", "dollarmath"]
myst_heading_anchors = 4
# furo: a left navigation in reading order, a right "on this page" listing every definition,
# a search box on every page and a print style without sidebars (docs/developing.md says why
# it was chosen over pydata-sphinx-theme and sphinx-book-theme).
graphviz_output_format = "svg"
html_theme = "furo"
html_title = "smspec: the executable Spacemesh specification"
# The EPUB edition (make docs): its contents, spine and navigation from one normalized list
# (docs/_ext/epub_paths.py says why).
epub_tocscope = "includehidden"
html_static_path = ["_static"]  # relative to docs/, the configuration directory
html_css_files = ["smspec.css"]


def setup(app):  # noqa: ANN001, ANN201 - Sphinx hook
    from pygments.lexers import PythonLexer

    # Illustrative (non-normative) code blocks are highlighted like Python but never run.
    app.add_lexer("python-example", PythonLexer)

# The PDF edition (make docs-pdf): Sphinx's LaTeX builder through Debian's TeX Live. Long code
# lines wrap, forced even where a line has no break point, so no normative line is clipped.
latex_engine = "pdflatex"
latex_documents = [(root_doc, "smspec.tex", html_title, author, "manual")]
latex_elements = {
    "papersize": "a4paper",
    "pointsize": "10pt",
    "sphinxsetup": "verbatimwrapslines=true, verbatimforcewraps=true, verbatimmaxoverfull=0, verbatimmaxunderfull=0",
    # characters of the documents that pdflatex's utf8 input does not know
    "preamble": r"""
\usepackage{newunicodechar}
\newunicodechar{‖}{\ensuremath{\Vert}}
\newunicodechar{≥}{\ensuremath{\geq}}
\newunicodechar{≤}{\ensuremath{\leq}}
\newunicodechar{→}{\ensuremath{\rightarrow}}
\newunicodechar{−}{\ensuremath{-}}
\newunicodechar{≈}{\ensuremath{\approx}}
\newunicodechar{²}{\ensuremath{^{2}}}
\newunicodechar{³}{\ensuremath{^{3}}}
\newunicodechar{Σ}{\ensuremath{\Sigma}}
\newunicodechar{Γ}{\ensuremath{\Gamma}}
\newunicodechar{∩}{\ensuremath{\cap}}
\newunicodechar{∪}{\ensuremath{\cup}}
\newunicodechar{⌊}{\ensuremath{\lfloor}}
\newunicodechar{⌋}{\ensuremath{\rfloor}}
""",
}
latex_show_urls = "no"
