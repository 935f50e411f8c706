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


def test_built_site_has_no_broken_internal_link(site: Path) -> None:
    import internal_links

    assert internal_links.broken_links(site) == []
