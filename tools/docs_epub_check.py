"""Check the EPUB edition: a well-formed container holding every spec document, every code line numbered.

    python -m smspec.tools.docs_epub_check docs/_build/epub/smspec.epub   # (make docs runs it)

An EPUB is a zip whose first entry is ``mimetype``, stored uncompressed, reading
``application/epub+zip``; ``META-INF/container.xml`` names the package document, whose manifest
lists the pages and whose spine orders them. This checks that, that every link of the navigation
(``nav.xhtml``, ``toc.ncx``) leads to a page of the book, and that each ``spec/<stem>.md``
of the repository is a page of the spine carrying the anchor ``<stem>-L<N>`` for every line N
shown with a number in the site (every line inside a fenced code block), so an auditor reading the
e-book finds each normative line by the number it has in the repository.
"""

from __future__ import annotations

import posixpath
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from pathlib import Path

MIMETYPE = b"application/epub+zip"
CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
OPF = "{http://www.idpf.org/2007/opf}"


def spine_pages(epub: zipfile.ZipFile) -> dict[str, str]:
    """Path inside the zip of each page in the spine, keyed by its path relative to the package."""
    entries = epub.infolist()
    if not entries or entries[0].filename != "mimetype":
        raise ValueError("the first entry is not 'mimetype'")
    if entries[0].compress_type != zipfile.ZIP_STORED or epub.read("mimetype") != MIMETYPE:
        raise ValueError("'mimetype' is compressed or does not read application/epub+zip")
    container = ET.fromstring(epub.read("META-INF/container.xml"))
    rootfile = container.find(f"{CONTAINER}rootfiles/{CONTAINER}rootfile")
    if rootfile is None or not rootfile.get("full-path"):
        raise ValueError("META-INF/container.xml names no package document")
    package_path = rootfile.get("full-path", "")
    package = ET.fromstring(epub.read(package_path))
    base = posixpath.dirname(package_path)
    manifest = {item.get("id"): item.get("href", "") for item in package.iter(f"{OPF}item")}
    pages: dict[str, str] = {}
    for itemref in package.iter(f"{OPF}itemref"):
        href = manifest.get(itemref.get("idref"))
        if href is None:
            raise ValueError(f"the spine names {itemref.get('idref')!r}, which the manifest lacks")
        pages[href] = posixpath.join(base, href) if base else href
    names = set(epub.namelist())
    missing = sorted(href for href, path in pages.items() if path not in names)
    if missing:
        raise ValueError(f"spine pages missing from the archive: {', '.join(missing)}")
    return pages


def dead_navigation(epub: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(navigation file, target) for every link of ``nav.xhtml`` and ``toc.ncx`` to a missing page."""
    names = set(epub.namelist())
    dead = []
    for name in sorted(names):
        if posixpath.basename(name) not in ("nav.xhtml", "toc.ncx"):
            continue
        text = epub.read(name).decode("utf-8")
        for link in re.findall(r'(?:href|src)="([^"#:]+)(?:#[^"]*)?"', text):
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), link))
            if target not in names:
                dead.append((name, target))
    return dead


def check(epub_path: Path, numbered: dict[str, set[int]]) -> list[str]:
    """Problems found; `numbered` maps each spec stem to the lines that must carry an anchor."""
    try:
        epub = zipfile.ZipFile(epub_path)
    except (OSError, zipfile.BadZipFile) as error:
        return [f"cannot open {epub_path}: {error}"]
    with epub:
        try:
            pages = spine_pages(epub)
        except (ValueError, KeyError, ET.ParseError) as error:
            return [str(error)]
        problems = [f"{nav}: leads to {target}, which the archive lacks" for nav, target in dead_navigation(epub)]
        for stem, lines in sorted(numbered.items()):
            href = f"spec/{stem}.xhtml"
            if href not in pages:
                problems.append(f"{href}: not in the spine")
                continue
            text = epub.read(pages[href]).decode("utf-8")
            anchored = {int(n) for n in re.findall(rf'id="{re.escape(stem)}-L(\d+)"', text)}
            absent = sorted(lines - anchored)
            if absent:
                problems.append(f"{href}: {len(absent)} code lines without their number, first line {absent[0]}")
        return problems


def repository_lines(root: Path) -> dict[str, set[int]]:
    """The numbered lines of each spec document, as the site's extension counts them."""
    sys.path.insert(0, str(root / "docs" / "_ext"))
    from spec_lines import numbered_lines, spec_stems  # noqa: PLC0415 - docs/_ext of the checkout

    lines: Callable[[str], set[int]] = numbered_lines
    return {stem: lines(stem) for stem in sorted(spec_stems())}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m smspec.tools.docs_epub_check BUILD_DIR/smspec.epub", file=sys.stderr)
        return 2
    root = Path(__file__).resolve().parents[1]
    if not (root / "docs" / "_ext" / "spec_lines.py").is_file():
        print("smspec: error: run this from a checkout (it reads spec/ and docs/_ext/)", file=sys.stderr)
        return 2
    numbered = repository_lines(root)
    problems = check(Path(args[0]), numbered)
    if problems:
        print(f"docs-epub: {len(problems)} problems:", *problems, sep="\n  ")
        return 1
    total = sum(len(v) for v in numbered.values())
    print(f"docs-epub: {len(numbered)} spec documents, all {total} code lines numbered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
