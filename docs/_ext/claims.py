"""Claims sections: the properties each spec document asserts, and what checks them.

The format (docs/developing.md, "Claims"): a ``## Claims`` section, the last before
``## Non-normative notes`` (or the document's last), holding one table

    | claim | property | checked by | kind |
    | --- | --- | --- | --- |
    | `round_trip` | Every value a codec accepts ... | `tests/spec/scale/test_fuzz.py::test_valid_values_round_trip` | hypothesis |

* ``claim``: a snake_case name in inline code, unique in the document;
* ``property``: the proposition, in words;
* ``checked by``: one or more tests, each ``tests/<path>.py::<test>`` in inline code;
* ``kind``: one of ``KINDS``.

``{spec-claims}`` lists every claim with its status: each named test must exist (its file and
its ``def``), and how much checking it had comes from ``docs/claims-record.json``, written by
``python -m smspec.tools.claims_run`` (``make claims``), never from the document.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from checks import ROOT, Check, find_test
from docutils import nodes
from markdown_it import MarkdownIt
from spec_lines import SPEC_DIR, note_spec_dependencies
from spec_order import reading_order
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

KINDS = ("example", "vectors", "hypothesis", "crosshair", "simulation", "model-check")
HEADER = ["claim", "property", "checked by", "kind"]
NAME = re.compile(r"^`([a-z][a-z0-9_]*)`$")
RECORD = ROOT / "docs" / "claims-record.json"
_parser = MarkdownIt("commonmark").enable("table")


@dataclass
class Claim:
    stem: str
    line: int
    name: str
    property: str
    kind: str
    checks: list[Check] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        found = [f"names a test that does not exist: {m}" for m in self.missing]
        if not self.checks:
            found.append("names no test")
        if self.kind not in KINDS:
            found.append(f"kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if not self.name:
            found.append("the claim cell is not one snake_case name in inline code")
        return found


def parse_claims(stem: str) -> tuple[list[Claim], list[str]]:
    """The claims of ``spec/<stem>.md`` and the problems of its Claims section's shape."""
    text = (SPEC_DIR / f"{stem}.md").read_text(encoding="utf-8")
    tokens = _parser.parse(text)
    problems: list[str] = []
    headings = [
        (i, t) for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h2"
    ]
    titles = [tokens[i + 1].content.strip() for i, _ in headings]
    if "Claims" not in titles:
        return [], [f"spec/{stem}.md has no '## Claims' section"]
    k = titles.index("Claims")
    after = titles[k + 1 :]
    if after not in ([], ["Non-normative notes"]):
        problems.append(f"spec/{stem}.md: '## Claims' must be the last section before the notes (found {after})")
    start = headings[k][0]
    end = headings[k + 1][0] if k + 1 < len(headings) else len(tokens)
    claims: list[Claim] = []
    rows: list[tuple[int, list[str]]] = []
    header: list[str] = []
    row: list[str] | None = None
    row_line = 0
    in_head = False
    for token in tokens[start:end]:
        if token.type in ("thead_open", "thead_close"):
            in_head = token.type == "thead_open"
        elif token.type == "tr_open":
            row, row_line = [], (token.map[0] + 1) if token.map else 0
        elif token.type == "inline" and row is not None:
            row.append(token.content.strip())
        elif token.type == "tr_close" and row is not None:
            if in_head:
                header = row
            else:
                rows.append((row_line, row))
            row = None
    if header != HEADER:
        problems.append(f"spec/{stem}.md: the Claims table's header must be {' | '.join(HEADER)} (found {header})")
        return claims, problems
    seen: set[str] = set()
    for line, cells in rows:
        name_match = NAME.match(cells[0])
        name = name_match[1] if name_match else ""
        if name in seen:
            problems.append(f"spec/{stem}.md:{line}: claim {name} is named twice")
        seen.add(name)
        checks: list[Check] = []
        missing: list[str] = []
        for reference in re.findall(r"`([^`]+)`", cells[2]):
            check = find_test(reference)
            if check is None:
                missing.append(reference)
            elif check not in checks:
                checks.append(check)
        claims.append(Claim(stem, line, name, cells[1], cells[3].strip("` "), checks, missing))
    return claims, problems


def all_claims() -> list[Claim]:
    return [c for stem in reading_order() for c in parse_claims(stem)[0]]


def load_record() -> dict[str, Any]:
    if not RECORD.exists():
        return {"tests": {}, "files": {}, "commit": "", "date": ""}
    return json.loads(RECORD.read_text(encoding="utf-8"))


def status(claim: Claim, record: dict[str, Any]) -> tuple[str, str]:
    """(status, how much checking) of a claim, from the recorded run."""
    runs = examples = 0
    seconds = 0.0
    outcomes: set[str] = set()
    stale = False
    for check in claim.checks:
        digest = hashlib.sha256((ROOT / check.path).read_bytes()).hexdigest()
        if record["files"].get(check.path) != digest:
            stale = True
        for nodeid, entry in record["tests"].items():
            if nodeid == check.name or nodeid.startswith(check.name + "["):
                runs += 1
                outcomes.add(entry["outcome"])
                examples += entry["examples"] or 0
                seconds += entry["seconds"]
    if runs == 0:
        return "not recorded", "-"
    verdict = "failed" if "failed" in outcomes else "skipped" if outcomes == {"skipped"} else "passed"
    if stale:
        verdict += " (stale: a test file changed since)"
    amount = f"{runs} test run{'s' if runs != 1 else ''}"
    if examples:
        amount += f", {examples} Hypothesis examples"
    amount += f", {seconds:.1f} s"
    return verdict, amount


def _cell(*children: nodes.Node, text: str | None = None) -> nodes.entry:
    entry = nodes.entry()
    para = nodes.paragraph()
    if text is not None:
        para += nodes.Text(text)
    for child in children:
        para += child
    entry += para
    return entry


def _test_link(check: Check) -> nodes.Node:
    ref = addnodes.pending_xref(
        "", refdomain="spec", reftype="source", reftarget=f"{check.path}:{check.line}",
        refexplicit=True, refwarn=True,
    )
    label = check.name.split("/")[-1]
    ref += nodes.literal(label, label)
    return ref


class SpecClaims(SphinxDirective):
    """Every claim of every spec document, with its status from the recorded run."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        note_spec_dependencies(self.env)
        record = load_record()
        result: list[nodes.Node] = []
        counts: dict[str, int] = {}
        for stem in reading_order():
            claims, _ = parse_claims(stem)
            if not claims:
                continue
            section = nodes.section(ids=[f"claims-{stem}"])
            section += nodes.title(text=f"{stem}.md ({len(claims)})")
            table = nodes.table(classes=["spec-claims"])
            group = nodes.tgroup(cols=5)
            table += group
            for width in (14, 40, 26, 8, 22):
                group += nodes.colspec(colwidth=width)
            head = nodes.thead()
            body = nodes.tbody()
            group += head
            group += body
            row = nodes.row()
            for text in ("claim", "property", "checked by", "kind", "status (recorded run)"):
                row += _cell(text=text)
            head += row
            for claim in claims:
                verdict, amount = status(claim, record)
                counts[verdict.split(" ")[0]] = counts.get(verdict.split(" ")[0], 0) + 1
                row = nodes.row()
                row += _cell(nodes.literal(claim.name, claim.name))
                row += _cell(text=re.sub(r"`([^`]*)`", r"\1", claim.property))
                links: list[nodes.Node] = []
                for k, check in enumerate(claim.checks):
                    if k:
                        links.append(nodes.Text(", "))
                    links.append(_test_link(check))
                row += _cell(*links)
                row += _cell(text=claim.kind)
                row += _cell(nodes.strong(text=verdict), nodes.Text(f": {amount}"))
                body += row
            section += table
            result.append(section)
        total = sum(counts.values())
        summary = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
        when = f"recorded {record['date']} at commit {record['commit'][:12]}" if record["date"] else "no run recorded"
        intro = nodes.paragraph(text=f"{total} claims: {summary} ({when}).")
        return [intro, *result]


def setup(app: Sphinx) -> dict[str, object]:
    app.add_directive("spec-claims", SpecClaims)
    return {"parallel_read_safe": True}


