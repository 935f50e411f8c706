"""Check the PDF edition's LaTeX log: no code block has a line running past the margin.

    python -m smspec.tools.docs_pdf_check docs/_build/latex/smspec   # (make docs-pdf runs it)

TeX reports every line it could not fit as an "Overfull \\hbox ... at lines A--B" of the .tex
file. This maps each to the environment it is in and fails (exit 1) when one lies in a code
block (``sphinxVerbatim``, ``sphinxVerbatimintable``), where an overfull line would be clipped
at the page edge. Overfull text elsewhere (a word wider than a narrow table column) is counted
and reported, not refused.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

OVERFULL = re.compile(r"^Overfull \\hbox \((?P<width>[0-9.]+)pt too wide\) (?:in paragraph|detected) at lines? (?P<first>\d+)(?:--(?P<last>\d+))?", re.M)
BEGIN = re.compile(r"\\begin\{(sphinxVerbatim|sphinxVerbatimintable|sphinxalltt)\}")
END = re.compile(r"\\end\{(sphinxVerbatim|sphinxVerbatimintable|sphinxalltt)\}")


def code_ranges(tex: str) -> list[tuple[int, int]]:
    """1-based (first, last) lines of every code block of the .tex file."""
    ranges: list[tuple[int, int]] = []
    start = 0
    for number, line in enumerate(tex.split("\n"), 1):
        if BEGIN.search(line):
            start = number
        if END.search(line) and start:
            ranges.append((start, number))
            start = 0
    return ranges


def overfull_in_code(tex: str, log: str) -> tuple[list[str], int]:
    """(overfull lines inside code blocks, overfull boxes elsewhere)."""
    ranges = code_ranges(tex)
    in_code: list[str] = []
    elsewhere = 0
    for match in OVERFULL.finditer(log):
        first = int(match["first"])
        last = int(match["last"] or first)
        if any(a <= first and last <= b for a, b in ranges):
            in_code.append(f"tex lines {first}-{last}: {match['width']}pt too wide")
        else:
            elsewhere += 1
    return in_code, elsewhere


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m smspec.tools.docs_pdf_check BUILD_DIR/NAME (without .tex)", file=sys.stderr)
        return 2
    base = Path(args[0])
    try:
        tex = base.with_suffix(".tex").read_text(encoding="utf-8")
        log = base.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        print(f"smspec: error: cannot read the LaTeX build: {error}", file=sys.stderr)
        return 2
    in_code, elsewhere = overfull_in_code(tex, log)
    blocks = len(code_ranges(tex))
    if in_code:
        print(f"docs-pdf: {len(in_code)} code lines run past the margin:", *in_code, sep="\n  ")
        return 1
    print(f"docs-pdf: {blocks} code blocks, none with a line past the margin "
          f"({elsewhere} overfull lines of text outside code)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
