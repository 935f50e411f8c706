"""Check every internal link of the built HTML site: the target file exists and, when the link
has a fragment, the target page has an element with that id. A broken link is a warning, so
``make docs`` (``-W``) fails on it. External links (``http:``, ``https:``, ``mailto:``) are not
fetched: the build runs without a network."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)
HREF = re.compile(r'<a\s[^>]*?href="([^"]*)"')
ID = re.compile(r'\sid="([^"]*)"')


def broken_links(outdir: Path) -> list[str]:
    """``page: href`` for every internal link of the site under ``outdir`` that leads nowhere."""
    ids: dict[Path, set[str]] = {}

    def ids_of(page: Path) -> set[str]:
        if page not in ids:
            ids[page] = set(ID.findall(page.read_text(encoding="utf-8")))
        return ids[page]

    broken: list[str] = []
    for page in sorted(outdir.rglob("*.html")):
        if "_static" in page.parts or "_sources" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        for href in sorted(set(HREF.findall(text))):
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith("javascript:"):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(outdir)}: {href} (no such file)")
                continue
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html" and fragment not in ids_of(target):
                broken.append(f"{page.relative_to(outdir)}: {href} (no id {fragment!r})")
    return broken


DOC_FRAGMENT = re.compile(r'href="#document-([^"#]+)#([^"]+)"')


def single_page_fragments(outdir: Path) -> int:
    """In the single-page edition MyST writes a link to a heading of another document as
    ``#document-DOC#ANCHOR`` (two fragments, which no browser follows) when the link is a relative
    path from outside the document tree (the handler pages link ``../../../spec/x.md#anchor``);
    point it at ``#ANCHOR``, as the single page's other links to that heading are, or at the
    document's start when the page has no such id. How many links were rewritten."""
    count = 0
    for page in sorted(outdir.rglob("*.html")):
        if "_static" in page.parts or "_sources" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        ids = set(ID.findall(text))

        def point(match: re.Match[str], ids: set[str] = ids) -> str:
            nonlocal count
            count += 1
            doc, anchor = match.group(1), match.group(2)
            return f'href="#{anchor}"' if anchor in ids else f'href="#document-{doc}"'

        fixed = DOC_FRAGMENT.sub(point, text)
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")
    return count


def check(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    if app.builder.name == "singlehtml":
        single_page_fragments(Path(app.outdir))
    for problem in broken_links(Path(app.outdir)):
        logger.warning("broken internal link: %s", problem, type="spec", subtype="link")


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("build-finished", check)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
