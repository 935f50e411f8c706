"""Screenshots of the auditor's edition, each checked for what it must show.

    make docs-screenshots        # builds the site and the PDF first
    python -m smspec.tools.docs_screenshots [--site docs/_build/html] [--pdf docs/_build/latex/smspec.pdf] [--out DIR]

Debian's chromium (``/usr/bin/chromium``, headless, no sandbox, no network features) driven by
playwright opens the built site from its files and writes PNGs to ``docs/_build/screenshots``:

1. ``search.png``: the search page for ``grade_since``; its first result must be the definition
   (``spec/hare.html#grade_since``);
2. ``definition.png``: that result followed; the page must land on the definition, and the
   number shown beside ``def grade_since`` must be its line in ``spec/hare.md``;
3. ``decisions.png``: the Decisions page; it must link an upstream file at its pinned commit;
4. ``claims.png``: the Claims page; it must show a recorded status;
5. ``pdf.png``: the PDF page holding ``def grade_since`` (pdftoppm), whose text must carry the
   same line number.

A check that fails prints what the page showed and exits 1. Look at the PNGs too: they are the
part of the check a person does.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


class CheckFailed(Exception):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def definition_line(name: str = "grade_since", stem: str = "hare") -> int:
    lines = (ROOT / "spec" / f"{stem}.md").read_text(encoding="utf-8").split("\n")
    return next(n for n, text in enumerate(lines, 1) if text.startswith(f"def {name}("))


def shoot_site(site: Path, out: Path, chromium: str) -> list[str]:
    from playwright.sync_api import sync_playwright

    done: list[str] = []
    line = definition_line()
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        still = "html { scroll-behavior: auto !important; }"

        page.goto((site / "search.html").as_uri() + "?q=grade_since")
        page.wait_for_selector("#search-results li a", timeout=30000)
        page.add_style_tag(content=still)
        first = page.locator("#search-results li a").first
        href = first.get_attribute("href") or ""
        expect(href.endswith("spec/hare.html#grade_since"), f"first search result for grade_since is {href!r}")
        page.screenshot(path=str(out / "search.png"))
        done.append("search.png")

        first.click()
        page.wait_for_load_state("load")
        page.add_style_tag(content=still)
        page.wait_for_timeout(300)
        expect(page.url.endswith("#grade_since"), f"the search result opened {page.url}")
        number = page.locator(f"#hare-L{line} .linenos").inner_text().strip()
        code = page.locator(f"#hare-L{line}").inner_text()
        expect(number == str(line) and "def grade_since(" in code,
               f"line {line} of spec/hare.md shows number {number!r} and {code!r}")
        page.locator("#grade_since").scroll_into_view_if_needed()
        page.evaluate("document.getElementById('grade_since').scrollIntoView({block: 'start'})")
        page.wait_for_timeout(200)
        page.screenshot(path=str(out / "definition.png"))
        done.append("definition.png")

        page.goto((site / "docs" / "decisions.html").as_uri())
        page.add_style_tag(content=still)
        links = page.locator('a[href^="https://github.com/spacemeshos/go-spacemesh/blob/"]')
        expect(links.count() > 0, "the Decisions page links no go-spacemesh file")
        target = links.first.get_attribute("href") or ""
        expect(re.search(r"/blob/[0-9a-f]{40}/", target) is not None, f"upstream link {target!r} is not at a commit")
        page.locator("#decisions-hare").scroll_into_view_if_needed()
        page.evaluate("document.getElementById('decisions-hare').scrollIntoView({block: 'start'})")
        page.wait_for_timeout(200)
        page.screenshot(path=str(out / "decisions.png"))
        done.append("decisions.png")

        page.goto((site / "docs" / "claims.html").as_uri())
        page.add_style_tag(content=still)
        text = page.locator("article").inner_text()
        expect(re.search(r"\d+ claims: ", text) is not None and "passed" in text,
               f"the Claims page shows no recorded status: {text[:300]!r}")
        page.evaluate("document.getElementById('claims-hare').scrollIntoView({block: 'start'})")
        page.wait_for_timeout(200)
        page.screenshot(path=str(out / "claims.png"))
        done.append("claims.png")
        browser.close()
    return done


def shoot_pdf(pdf: Path, out: Path) -> list[str]:
    line = definition_line()
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(
        ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout)[1])
    for number in range(1, pages + 1):
        text = subprocess.run(["pdftotext", "-layout", "-f", str(number), "-l", str(number), str(pdf), "-"],
                              capture_output=True, text=True, check=True).stdout
        if re.search(rf"^\s*{line}\s+def grade_since\(", text, re.M):
            subprocess.run(["pdftoppm", "-f", str(number), "-l", str(number), "-r", "90", "-png",
                            "-singlefile", str(pdf), str(out / "pdf")], check=True)
            return ["pdf.png"]
    raise CheckFailed(f"no page of {pdf} shows line {line} beside def grade_since")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m smspec.tools.docs_screenshots", description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=ROOT / "docs" / "_build" / "html")
    parser.add_argument("--pdf", type=Path, default=ROOT / "docs" / "_build" / "latex" / "smspec.pdf")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "_build" / "screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)
    if not (args.site / "search.html").exists():
        print(f"smspec: error: no built site in {args.site} (make docs)", file=sys.stderr)
        return 2
    if not Path(args.chromium).exists() or shutil.which("pdftoppm") is None:
        print("smspec: error: needs chromium and pdftoppm (SMSPEC_DOCS_PDF=1 bash scripts/setup-system.sh)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        done = shoot_site(args.site, args.out, args.chromium)
        if args.pdf.exists():
            done += shoot_pdf(args.pdf, args.out)
        else:
            print(f"docs-screenshots: no PDF at {args.pdf} (make docs-pdf); skipped its page")
    except CheckFailed as failure:
        print(f"docs-screenshots: check failed: {failure}", file=sys.stderr)
        return 1
    print(f"docs-screenshots: {', '.join(done)} in {args.out}, every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
