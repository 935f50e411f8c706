"""``smspec spec``: the literate spec documents (list, presets, build mirrors for linters)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from smspec.tools.cli import CliError, check_output

PRESET_DIR_NAME = "presets"
DEFAULT_BUILD_DIR = Path("build/specpy")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "spec",
        help="spec documents: list them, check presets, build Python mirrors for linters",
        description="The normative spec is spec/*.md. These commands inspect it; nothing here is "
        "needed to import the spec (documents compile on import).",
    )
    sub = parser.add_subparsers(dest="spec_command", metavar="ACTION")
    lst = sub.add_parser("list", help="list spec documents with their definitions and preset parameters")
    lst.set_defaults(func=cmd_list)
    presets = sub.add_parser(
        "presets",
        help="write or check spec/presets/<preset>.json against the Markdown preset tables",
        description="The preset data files are what client teams load; the Markdown tables are the "
        "source. --check (the default) exits 1 if they have drifted; --write regenerates them.",
    )
    presets.add_argument("--write", action="store_true", help="regenerate the preset files")
    presets.set_defaults(func=cmd_presets)
    build = sub.add_parser(
        "build",
        help="write plain .py mirrors of every document (line N = line N of the .md) for mypy/ruff/coverage",
        description="Write build/specpy/smspec/spec/<name>.py for each document and preset-free "
        "imports. Line N of each file is line N of its Markdown document, so every tool's report "
        "points at the right .md line.",
    )
    build.add_argument("--out", type=Path, default=None,
                       help="output root, a directory created if missing inside an existing one "
                       f"(default {DEFAULT_BUILD_DIR}, created with its parents)")
    build.set_defaults(func=cmd_build)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def cmd_list(args: argparse.Namespace) -> int:
    from smspec import spec
    from smspec.spec._markdown import parse_document

    for name in spec.available_modules():
        doc = parse_document(spec.document_path(name))
        names = sorted({n for ns in doc.headings.values() for n in ns})
        presets = [c.name for c in doc.constants if c.kind == "preset"]
        print(f"{name}: {len(doc.code_lines)} code lines, {len(names)} named definitions"
              + (f", preset parameters: {', '.join(presets)}" if presets else ""))
    return 0


def preset_data() -> dict[str, dict[str, dict[str, object]]]:
    """{preset: {document: {PARAMETER: value}}} evaluated from the Markdown tables."""
    from smspec import spec
    from smspec.spec._markdown import preset_values

    data: dict[str, dict[str, dict[str, object]]] = {}
    for preset in spec.PRESETS:
        data[preset] = {}
        for name in spec.available_modules():
            values = preset_values(spec.document_path(name), preset)
            if values:
                data[preset][name] = values
    return data


def preset_file_text(values: dict[str, dict[str, object]]) -> str:
    """Preset data as client teams load it (bytes as 0x-hex, integers above 2^53 as strings)."""
    from smspec.conformance.cases import to_json

    return json.dumps(to_json(values), sort_keys=True, indent=2) + "\n"


def cmd_presets(args: argparse.Namespace) -> int:
    from smspec import spec

    directory = spec.SPEC_DIR / PRESET_DIR_NAME
    drift = []
    for preset, values in preset_data().items():
        path = directory / f"{preset}.json"
        text = preset_file_text(values)
        if args.write:
            directory.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
        elif not path.exists() or path.read_text(encoding="utf-8") != text:
            drift.append(str(path))
    if args.write:
        print(f"wrote {directory}/{{{','.join(spec.PRESETS)}}}.json")
        return 0
    if drift:
        print("preset files differ from the Markdown tables: " + ", ".join(drift))
        print("run `smspec spec presets --write` and commit the result")
        return 1
    print("preset files match the Markdown tables")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from smspec import spec
    from smspec.spec._markdown import SpecFormatError, parse_document, render_source

    out = DEFAULT_BUILD_DIR if args.out is None else check_output(args.out, "--out", directory=True)
    target = out / "smspec" / "spec"
    try:
        target.mkdir(parents=True, exist_ok=True)
        for init in (out / "smspec" / "__init__.py", target / "__init__.py"):
            init.write_text("")
        (target / "py.typed").write_text("")
        for name in spec.available_modules():
            try:
                doc = parse_document(spec.document_path(name))
            except SpecFormatError as e:
                raise CliError(str(e)) from e
            header_free = render_source(doc, "mainnet")
            (target / f"{name}.py").write_text(header_free + "\n", encoding="utf-8")
    except OSError as e:
        raise CliError(f"--out {str(out)!r}: cannot write {e.filename or ''}: {e.strerror or e}") from None
    print(f"wrote {len(spec.available_modules())} mirrors under {target}")
    return 0
