"""The format pages of the handlers, generated from their schemas.

``conformance/formats/handlers/<page>.md`` holds one page per handler contract and ``README.md``
the index. ``python -m smspec.conformance.pages --write`` regenerates them;
``tests/unit/test_format_pages.py`` fails when the committed pages differ from the schemas.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from smspec.conformance import handlers as handler_registry
from smspec.conformance.schema import Schema, render_page

PAGES_DIR = Path(__file__).resolve().parent / "formats" / "handlers"


def schemas() -> list[Schema]:
    """Every handler schema once, by page name (a schema serving several handlers is one page)."""
    found: dict[str, Schema] = {}
    for key, handler in sorted(handler_registry.discover().items()):
        if handler.schema is None:
            raise ValueError(f"handler {key} has no schema")
        other = found.setdefault(handler.schema.page, handler.schema)
        if other is not handler.schema:
            raise ValueError(f"two schemas use the page name {handler.schema.page!r}")
    return [found[name] for name in sorted(found)]


def render_index(all_schemas: list[Schema]) -> str:
    lines = ["# Handler format pages", "",
             "<!-- generated from the handlers' schemas; do not edit: python -m smspec.conformance.pages --write -->",
             "", "One page per handler contract: its inputs (with the defaults every case file carries), its "
             "output, every error class and reason, and notes (order of checks, conventions). The JSON "
             "conventions and the error model are in [../adapter.md](../adapter.md).", "",
             "| handler | page | what it checks |", "| --- | --- | --- |"]
    for schema in all_schemas:
        keys = sorted(schema.keys)
        shown = f"`{keys[0]}`" if len(keys) == 1 else f"`{keys[0].rsplit('/', 1)[0].split('/')[0]}/*/{keys[0].rsplit('/', 1)[1]}`" \
            if len({k.rsplit('/', 1)[1] for k in keys}) == 1 else f"`{keys[0].rsplit('/', 1)[0]}/*`"
        summary = " ".join(schema.summary.split())
        summary = summary if len(summary) <= 110 else summary[:107].rsplit(" ", 1)[0] + " ..."
        lines.append(f"| {shown} | [{schema.page}.md]({schema.page}.md) | {summary.replace('|', '/')} |")
    # the pages of the documentation site (docs/index.md lists this index; this lists the pages)
    lines += ["", "```{toctree}", ":hidden:", "", *[schema.page for schema in all_schemas], "```"]
    return "\n".join(lines) + "\n"


def rendered() -> dict[str, str]:
    """File name -> text of every page and the index."""
    all_schemas = schemas()
    pages = {f"{schema.page}.md": render_page(schema) for schema in all_schemas}
    pages["README.md"] = render_index(all_schemas)
    return pages


def differences(directory: Path = PAGES_DIR) -> list[str]:
    """The pages under ``directory`` that differ from the schemas (missing, changed or stale)."""
    want = rendered()
    found = {p.name for p in directory.glob("*.md")} if directory.is_dir() else set()
    problems = []
    for name in sorted(set(want) | found):
        path = directory / name
        if name not in want:
            problems.append(f"stale: {name}")
        elif name not in found:
            problems.append(f"missing: {name}")
        elif path.read_text(encoding="utf-8") != want[name]:
            problems.append(f"changed: {name}")
    return problems


def write(directory: Path = PAGES_DIR) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    want = rendered()
    for stale in directory.glob("*.md"):
        if stale.name not in want:
            stale.unlink()
    for name, text in want.items():
        (directory / name).write_text(text, encoding="utf-8", newline="\n")
    return sorted(want)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m smspec.conformance.pages", description=__doc__)
    parser.add_argument("--write", action="store_true", help="regenerate the pages (default: check them)")
    args = parser.parse_args(argv)
    if args.write:
        print(f"wrote {len(write())} pages under {PAGES_DIR}")
        return 0
    problems = differences()
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
