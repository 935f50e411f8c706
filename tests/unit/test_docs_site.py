"""The rendered site shows what the repository holds (docs/_ext, docs/conf.py).

One HTML build of the whole site (as ``make docs``: ``-W``, no suppressed warnings) is shared
by the tests of this module; each checks one promise of the auditor's edition against the
Markdown sources.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SPHINX = Path(sys.executable).parent / "sphinx-build"
sys.path.insert(0, str(REPO / "docs" / "_ext"))

import spec_lines  # noqa: E402  (docs/_ext is not a package)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [str(SPHINX), "-W", "-q", "-c", "docs", "-b", "html", ".", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return out


class _Lines(HTMLParser):
    """Text of every ``<span id="<stem>-L<N>">`` line of a page, without its number."""

    def __init__(self, stem: str) -> None:
        super().__init__(convert_charrefs=True)
        self.pattern = re.compile(rf"^{re.escape(stem)}-L(\d+)$")
        self.lines: dict[int, list[str]] = {}
        self.numbers: dict[int, str] = {}
        self.current: int | None = None
        self.depth = 0
        self.in_number = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if self.current is None:
            match = self.pattern.match(found.get("id") or "")
            if tag == "span" and match:
                self.current = int(match[1])
                self.lines[self.current] = []
                self.numbers[self.current] = ""
                self.depth = 1
            return
        if tag == "span":
            self.depth += 1
            self.in_number = found.get("class") == "linenos"

    def handle_endtag(self, tag: str) -> None:
        if self.current is not None and tag == "span":
            self.depth -= 1
            self.in_number = False
            if self.depth == 0:
                self.current = None

    def handle_data(self, data: str) -> None:
        if self.current is None:
            return
        if self.in_number:
            self.numbers[self.current] += data
        else:
            self.lines[self.current].append(data)


def rendered_lines(site: Path, stem: str) -> tuple[dict[int, str], dict[int, str]]:
    parser = _Lines(stem)
    parser.feed((site / "spec" / f"{stem}.html").read_text(encoding="utf-8"))
    text = {n: "".join(parts).rstrip("\n") for n, parts in parser.lines.items()}
    return text, {n: number.strip() for n, number in parser.numbers.items()}


def test_known_definition_is_numbered_with_its_markdown_line(site: Path) -> None:
    source = (REPO / "spec" / "hare.md").read_text(encoding="utf-8").split("\n")
    line = next(n for n, text in enumerate(source, 1) if text.startswith("def grade_since("))
    text, numbers = rendered_lines(site, "hare")
    assert numbers[line] == str(line)
    assert text[line].startswith("def grade_since(")


@pytest.mark.parametrize("stem", sorted(p.stem for p in (REPO / "spec").glob("*.md")))
def test_every_spec_line_shown_is_the_markdown_line_of_that_number(site: Path, stem: str) -> None:
    source = (REPO / "spec" / f"{stem}.md").read_text(encoding="utf-8").split("\n")
    text, numbers = rendered_lines(site, stem)
    expected = spec_lines.numbered_lines(stem)
    assert set(text) == expected
    for n in expected:
        assert numbers[n] == str(n)
        assert text[n] == source[n - 1], f"spec/{stem}.md:{n}"


def test_definition_anchor_search_entry_and_index_link(site: Path) -> None:
    page = (site / "spec" / "hare.html").read_text(encoding="utf-8")
    # a heading naming two definitions is the target of both names
    assert re.search(r'<section id="grade-since-upstream-grade-since"[^>]*>', page)
    assert 'id="grade_since"' in page and 'id="upstream_grade_since"' in page
    index_text = (site / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(index_text[index_text.index("(") + 1 : index_text.rindex(")")])
    docnames = index["docnames"]
    entries = [e for prefix in index["objects"].values() for e in prefix if e[4] == "grade_since"]
    assert [(docnames[e[0]], e[3]) for e in entries] == [("spec/hare", "grade_since")]
    definitions = (site / "docs" / "definitions.html").read_text(encoding="utf-8")
    source = (REPO / "spec" / "hare.md").read_text(encoding="utf-8").split("\n")
    line = next(n for n, text in enumerate(source, 1) if text.startswith("def grade_since("))
    assert 'href="../spec/hare.html#grade_since"' in definitions
    assert f'href="../spec/hare.html#hare-L{line}">{line}</a>' in definitions


def test_definitions_index_names_the_backend_that_replaces_a_definition(site: Path) -> None:
    from smspec.impl.registry import all_replacements

    replaced = next(r for r in all_replacements() if r.module == "post" and r.name == "compute_labels")
    definitions = html.unescape((site / "docs" / "definitions.html").read_text(encoding="utf-8"))
    row = re.search(r'href="../spec/post.html#compute_labels".*?</tr>', definitions, re.S)
    assert row is not None
    assert replaced.backend in re.sub(r"<[^>]+>", " ", row.group(0)).split()


def test_consecutive_headings_keeps_lines_and_code() -> None:
    text = "# T\n## A\n#### `f`\n```python\n#### not a heading\n```\n### B\n#### `g`\n## C\n#### `h`"
    assert spec_lines.consecutive_headings(text) == (
        "# T\n## A\n### `f`\n```python\n#### not a heading\n```\n### B\n#### `g`\n## C\n### `h`"
    )


import decisions  # noqa: E402
import upstream  # noqa: E402


def test_every_decision_has_the_fixed_form_an_upstream_link_and_no_research_note() -> None:
    found = decisions.all_decisions()
    assert len(found) >= 80
    problems = [f"spec/{d.stem}.md:{d.line}: {p}" for d in found for p in d.problems]
    assert problems == []


def test_a_decision_paragraph_is_never_inside_another_paragraph() -> None:
    from markdown_it import MarkdownIt

    inline_form = re.compile(r"\*Decision\*(?: \(|:)")
    misplaced = []
    for path in sorted((REPO / "spec").glob("*.md")):
        tokens = MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8"))
        for token in tokens:
            if token.type == "inline" and token.map is not None:
                for match in inline_form.finditer(token.content):
                    if match.start() != 0:
                        misplaced.append(f"{path.name}:{token.map[0] + 1}")
    assert misplaced == []


def test_decision_rules_reject_what_they_should() -> None:
    def problems(text: str) -> list[str]:
        checks, missing = decisions.checks_in(text)
        d = decisions.Decision("hare", 1, (decisions.FORM.match(text) or {"title": ""})["title"], text,
                               upstream.citations(text, "hare"), checks, missing)
        return d.problems

    good = "*Decision* (late messages): go-spacemesh wraps (GS `hare3/types.go:55-57`)."
    assert problems(good) == []
    assert problems("*Decision*: go-spacemesh wraps (GS `hare3/types.go:55-57`).") == [
        "does not start with '*Decision* (short title): '"
    ]
    assert problems("*Decision* (late messages): go-spacemesh wraps.") == ["cites no upstream file"]
    assert problems(good + " See research §10 item 1.") == ["cites research notes outside the repository"]
    assert problems(good + " Shown by `tests/spec/hare/test_nothing.py::test_x`.") == [
        "names a test that does not exist: tests/spec/hare/test_nothing.py::test_x"
    ]


def test_citations_resolve_to_the_file_at_the_pinned_commit() -> None:
    text = "(GS `hare3/types.go:55-57`, `hare3/hare.go:353`; PR `src/metadata.rs`) and `core/x.rs:5`"
    urls = [c.url for c in upstream.citations(text, "athena")]
    gs, pr, ath = (upstream.PINNED[k][1] for k in ("GS", "PR", "ATH"))
    assert urls == [
        f"https://github.com/spacemeshos/go-spacemesh/blob/{gs}/hare3/types.go#L55-L57",
        f"https://github.com/spacemeshos/go-spacemesh/blob/{gs}/hare3/hare.go#L353",
        f"https://github.com/spacemeshos/post-rs/blob/{pr}/src/metadata.rs",
        f"https://github.com/athenavm/athena/blob/{ath}/core/x.rs#L5",
    ]
    assert all(len(commit) == 40 for _, commit, _ in upstream.PINNED.values())


def test_decision_box_and_index_link_upstream_and_the_test(site: Path) -> None:
    page = (site / "spec" / "hare.html").read_text(encoding="utf-8")
    box = re.search(r'<div class="decision admonition" id="decision-round-numbers-above-7">(.*?)</div>', page, re.S)
    assert box is not None
    gs = upstream.PINNED["GS"][1]
    assert f'href="https://github.com/spacemeshos/go-spacemesh/blob/{gs}/hare3/types.go#L17-L21"' in box.group(1)
    index = (site / "docs" / "decisions.html").read_text(encoding="utf-8")
    assert 'href="../spec/hare.html#decision-round-numbers-above-7"' in index
    source = (REPO / "tests/spec/hare/test_messages.py").read_text(encoding="utf-8").split("\n")
    line = next(n for n, text in enumerate(source, 1) if '"round_8_rejected"' in text)
    link = f'href="_generated/tests/spec/hare/test_messages.py.html#test_messages-L{line}"'
    assert link in index
    shown = (site / "docs/_generated/tests/spec/hare/test_messages.py.html").read_text(encoding="utf-8")
    assert f'<span id="test_messages-L{line}">' in shown


def _page_titles() -> dict[str, str]:
    from markdown_it import MarkdownIt

    titles = {}
    for path in [*REPO.glob("spec/*.md"), *REPO.glob("docs/*.md"), *REPO.glob("conformance/formats/*.md")]:
        tokens = MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8"))
        first = next(i for i, t in enumerate(tokens) if t.type == "heading_open")
        assert tokens[first].tag == "h1", path
        titles[str(path.relative_to(REPO))] = tokens[first + 1].content
    return titles


def test_page_titles_are_unique() -> None:
    titles = _page_titles()
    assert len(set(titles.values())) == len(titles), sorted(titles.values())


def test_navigation_reading_order_and_guides_listed_once(site: Path) -> None:
    import spec_order

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    order = [m for m in re.findall(r"`spec/([a-z0-9_]+)\.md`", readme.split("The spec documents:")[1])]
    assert spec_order.reading_order()[: len(order)] == order
    assert set(spec_order.reading_order()) == {p.stem for p in (REPO / "spec").glob("*.md")}
    page = (site / "docs" / "cli.html").read_text(encoding="utf-8")  # a page without a toctree
    nav = re.findall(r'<a class="reference internal" href="([^"#]+)">', page.split('class="sidebar-tree"')[1])
    assert len(nav) == len(set(nav)), [n for n in nav if nav.count(n) > 1]
    spec_links = [n.split("/")[-1][: -len(".html")] for n in nav if n.startswith("../spec/")]
    assert spec_links == spec_order.reading_order()


def test_search_finds_a_definition_by_name(site: Path) -> None:
    text = (site / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1 : text.rindex(")")])
    names = {e[4] for prefix in index["objects"].values() for e in prefix}
    from smspec.spec._markdown import parse_document

    heading_names = {
        n for p in (REPO / "spec").glob("*.md") for names in parse_document(p).headings.values() for n in names
    }
    assert heading_names <= names


def test_no_warning_is_suppressed() -> None:
    conf = (REPO / "docs" / "conf.py").read_text(encoding="utf-8")
    assert "suppress_warnings" not in conf
    assert '"internal_links"' in conf


def test_internal_link_check_finds_a_missing_page_and_a_missing_anchor(tmp_path: Path) -> None:
    import internal_links

    (tmp_path / "sub").mkdir()
    (tmp_path / "index.html").write_text(
        '<a href="sub/a.html#here">ok</a> <a href="sub/a.html#gone">x</a> <a href="nope.html">y</a>'
        ' <a href="https://example.org/x#y">external</a> <a href="#top">self</a>',
        encoding="utf-8",
    )
    (tmp_path / "sub" / "a.html").write_text('<p id="here">a</p> <a href="../index.html#top">up</a>', encoding="utf-8")
    assert internal_links.broken_links(tmp_path) == [
        "index.html: #top (no id 'top')",
        "index.html: nope.html (no such file)",
        "index.html: sub/a.html#gone (no id 'gone')",
        "sub/a.html: ../index.html#top (no id 'top')",
    ]


def test_single_page_links_with_two_fragments_are_pointed_at_the_heading(tmp_path: Path) -> None:
    import internal_links

    (tmp_path / "index.html").write_text(
        '<section id="document-spec/atx"><h4 id="postv1">PostV1</h4></section>'
        '<a href="#document-spec/atx#postv1">a</a> <a href="#document-spec/atx#gone">b</a> <a href="#postv1">c</a>',
        encoding="utf-8")
    assert internal_links.broken_links(tmp_path) != []
    assert internal_links.single_page_fragments(tmp_path) == 2
    text = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert '<a href="#postv1">a</a> <a href="#document-spec/atx">b</a> <a href="#postv1">c</a>' in text
    assert internal_links.broken_links(tmp_path) == []


def test_built_site_has_no_broken_internal_link(site: Path) -> None:
    import internal_links

    assert internal_links.broken_links(site) == []


import claims  # noqa: E402


@pytest.mark.parametrize("stem", sorted(p.stem for p in (REPO / "spec").glob("*.md")))
def test_claims_section_has_the_format_and_its_tests_exist(stem: str) -> None:
    found, problems = claims.parse_claims(stem)
    assert problems == []
    assert found, f"spec/{stem}.md names no claim"
    assert [f"{c.name}: {p}" for c in found for p in c.problems] == []


def test_claims_parser_rejects_a_missing_test_and_a_bad_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "x.md").write_text(
        "# X\n\n## Claims\n\n| claim | property | checked by | kind |\n| --- | --- | --- | --- |\n"
        "| `a` | p | `tests/spec/hare/test_simulation.py::test_deterministic` | simulation |\n"
        "| `b` | p | `tests/spec/hare/test_simulation.py::test_nothing` | guess |\n\n## Non-normative notes\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(claims, "SPEC_DIR", tmp_path)
    found, problems = claims.parse_claims("x")
    assert problems == []
    assert [c.problems for c in found] == [
        [],
        ["names a test that does not exist: tests/spec/hare/test_simulation.py::test_nothing", "names no test",
         "kind 'guess' is not one of example, vectors, hypothesis, crosshair, simulation, model-check"],
    ]


def test_claim_status_comes_from_the_record() -> None:
    claim = next(c for c in claims.all_claims() if c.stem == "scale" and c.name == "round_trip")
    check = claim.checks[0]
    digest = __import__("hashlib").sha256((REPO / check.path).read_bytes()).hexdigest()
    record = {"files": {check.path: digest}, "tests": {check.name: {"outcome": "passed", "seconds": 2.5, "examples": 300}}}
    assert claims.status(claim, record) == ("passed", "1 test run, 300 Hypothesis examples, 2.5 s")
    record["files"][check.path] = "0" * 64
    assert claims.status(claim, record)[0] == "passed (stale: a test file changed since)"
    assert claims.status(claim, {"files": {}, "tests": {}}) == ("not recorded", "-")


def test_recording_plugin_counts_hypothesis_examples(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text(
        "from hypothesis import given, settings, strategies as st\n\n"
        "@settings(max_examples=37, database=None)\n@given(st.integers())\ndef test_h(n):\n    assert n == n\n\n"
        "def test_plain():\n    pass\n",
        encoding="utf-8",
    )
    record = tmp_path / "record.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "smspec.tools.claims_record",
         "-o", "addopts=", str(tmp_path / "test_x.py")],
        cwd=tmp_path, capture_output=True, text=True, env={**__import__("os").environ, "SMSPEC_CLAIMS_RECORD": str(record)},
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    entries = {json.loads(line)["nodeid"].split("::")[1]: json.loads(line) for line in record.read_text().splitlines()}
    assert entries["test_h"]["outcome"] == "passed" and entries["test_h"]["examples"] == 37
    assert entries["test_plain"]["examples"] is None


def test_claims_page_shows_the_recorded_status(site: Path) -> None:
    page = html.unescape((site / "docs" / "claims.html").read_text(encoding="utf-8"))
    record = claims.load_record()
    claim = next(c for c in claims.all_claims() if c.stem == "scale" and c.name == "round_trip")
    verdict, amount = claims.status(claim, record)
    text = re.sub(r"<[^>]+>", "", page)
    assert f"{verdict}: {amount}" in text
    assert 'href="_generated/tests/spec/scale/test_fuzz.py.html#test_fuzz-L' in page


import figures  # noqa: E402


def test_hare_figure_follows_the_spec_round_sequence() -> None:
    from smspec.spec import hare

    dot = figures.hare_rounds()
    edges = re.findall(r"^  r(\d)_(\d) -> r(\d)_(\d);$", dot, re.M)
    for a_iter, a_round, b_iter, b_round in edges:
        following = hare.next_iter_round(hare.IterRound(int(a_iter), hare.Round(int(a_round))))
        assert (following.iter, int(following.round)) == (int(b_iter), int(b_round))
    assert edges[0][:2] == ("0", str(int(hare.Round.PREROUND)))
    assert len(edges) == 14  # iteration 0 skips hardlock: 7 rounds, then 8, then hardlock of iteration 2


@pytest.mark.parametrize("name", sorted(figures.FIGURES))
def test_figure_renders_with_graphviz(name: str) -> None:
    import shutil

    dot = shutil.which("dot")
    if dot is None:
        pytest.skip("graphviz's dot is not installed (scripts/setup-system.sh installs it)")
    result = subprocess.run([dot, "-Tsvg"], input=figures.FIGURES[name](), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert result.stdout.lstrip().startswith("<?xml")


def test_every_figure_is_on_its_spec_page(site: Path) -> None:
    pages = {"hare-rounds": "hare", "tortoise-modes": "tortoise", "atx-marriage": "atx", "post-pipeline": "post",
             "node-split": "node"}
    assert set(pages) == set(figures.FIGURES)
    for name, stem in pages.items():
        page = (site / "spec" / f"{stem}.html").read_text(encoding="utf-8")
        figure = re.search(rf'<figure class="[^"]*" id="figure-{name}">(.*?)</figure>', page, re.S)
        assert figure is not None, name
        image = re.search(r'(?:src|data)="([^"]*graphviz-[0-9a-f]+\.svg)"', figure.group(1))
        assert image is not None and (site / "spec" / image.group(1)).resolve().is_file()
    best = (site / "spec" / "post_best.html").read_text(encoding="utf-8")
    assert "post_best_weights.svg" in best and "post_best_split.svg" in best


def test_pdf_check_refuses_an_overfull_code_line_only() -> None:
    from smspec.tools import docs_pdf_check

    tex = "a\n\\begin{sphinxVerbatim}[numbers=left]\nlong line\n\\end{sphinxVerbatim}\nb\n"
    text_only = "Overfull \\hbox (12.5pt too wide) in paragraph at lines 5--5\n"
    in_code = "Overfull \\hbox (40.0pt too wide) detected at line 3\n"
    assert docs_pdf_check.overfull_in_code(tex, text_only) == ([], 1)
    assert docs_pdf_check.overfull_in_code(tex, in_code) == (["tex lines 3-3: 40.0pt too wide"], 0)


@pytest.mark.slow
def test_screenshots_of_the_site_and_the_pdf(tmp_path: Path) -> None:
    """make docs and make docs-pdf first; about a minute (chromium, pdftoppm)."""
    import shutil

    pytest.importorskip("playwright")
    if not Path("/usr/bin/chromium").exists() or shutil.which("pdftoppm") is None:
        pytest.skip("chromium and poppler-utils: SMSPEC_DOCS_PDF=1 bash scripts/setup-system.sh")
    site = REPO / "docs" / "_build" / "html"
    if not (site / "search.html").exists():
        pytest.skip("no built site: make docs")
    result = subprocess.run(
        [sys.executable, "-m", "smspec.tools.docs_screenshots", "--out", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert {p.name for p in tmp_path.glob("*.png")} >= {"search.png", "definition.png", "decisions.png", "claims.png"}


def test_node_split_figure_follows_the_openapi_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """The figure counts the node-service routes of the node's OpenAPI document; a document
    without them is refused rather than drawn empty."""
    from smspec.tools.node import openapi

    routes = sum(1 for ops in openapi.document()["paths"].values() for op in ops.values()
                 if "node service" in op.get("tags", []))
    drawn = sum(int(n) for n in re.findall(r"\w+: (\d+) routes?", figures.node_split()))
    assert drawn == routes > 0
    monkeypatch.setattr(openapi, "document", lambda: {"paths": {}})
    with pytest.raises(ValueError, match="no node-service route"):
        figures.node_split()
