"""The EPUB edition's table of contents, with the root document in a subdirectory.

Sphinx's EPUB builder (9.0) takes the contents' links as they are written in the root document,
``docs/index``: relative to ``docs/`` (``auditors.xhtml``, ``../spec/hare.xhtml``). It prefixes
``docs/`` for the package's spine but never normalizes ``docs/../spec/hare.xhtml``, so those pages
drop out of the spine, and it writes ``nav.xhtml`` and ``toc.ncx`` (at the root of the book) with
the unprefixed links, which lead nowhere. Here every link of the contents is made relative to the
root of the book and normalized, and the navigation files are built from that one list
(``epub_tocscope = "includehidden"``, set in ``conf.py``). ``tools/docs_epub_check.py`` checks
the result.
"""

from __future__ import annotations

import posixpath
from typing import Any

from sphinx.application import Sphinx


def _normalize_contents(app: Sphinx) -> None:
    builder: Any = app.builder
    if builder.name != "epub":
        return
    get_toc = builder.get_toc

    def normalized_get_toc() -> None:
        get_toc()  # links prefixed with the root document's directory
        for item in builder.refnodes:
            uri, hashmark, fragment = item["refuri"].partition("#")
            item["refuri"] = posixpath.normpath(uri) + hashmark + fragment

    builder.get_toc = normalized_get_toc


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", _normalize_contents)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
