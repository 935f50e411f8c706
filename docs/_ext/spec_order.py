"""The reading order of the spec documents: the entries of the "Specification" toctree of
``docs/index.md`` (the README's order). A spec document missing there fails the build (Sphinx
warns about a document in no toctree); it is listed last here until it is added."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_ENTRY = re.compile(r"^/spec/(?P<stem>[a-z0-9_]+)$")


def reading_order() -> list[str]:
    text = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    block = text.split(":caption: Specification", 1)[1].split("```", 1)[0]
    listed = [m["stem"] for line in block.splitlines() if (m := _ENTRY.match(line.strip()))]
    rest = sorted(p.stem for p in (ROOT / "spec").glob("*.md") if p.stem not in listed)
    return [stem for stem in listed if (ROOT / "spec" / f"{stem}.md").exists()] + rest
