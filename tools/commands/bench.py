"""``smspec bench NAME``: benchmarks, each a module ``smspec.tools.bench_<name>``."""

from __future__ import annotations

import argparse
import importlib
import pkgutil

import smspec.tools as tools_package


def _benchmarks() -> dict[str, object]:
    found = {}
    for info in pkgutil.iter_modules(tools_package.__path__):
        if info.name.startswith("bench_"):
            found[info.name[len("bench_"):]] = importlib.import_module(f"smspec.tools.{info.name}")
    return found


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="run a benchmark (ratios measured side by side in one run)",
        description="Benchmarks print throughput of each backend measured in the same run and "
        "their ratios. They never run as part of the test suite.",
    )
    sub = parser.add_subparsers(dest="benchmark", metavar="NAME")
    for name, module in sorted(_benchmarks().items()):
        doc = (module.__doc__ or "").strip().splitlines()
        p = sub.add_parser(name, help=doc[0] if doc else name, description=(module.__doc__ or "").strip())
        module.add_arguments(p)  # type: ignore[attr-defined]
        p.set_defaults(func=module.run)  # type: ignore[attr-defined]
    parser.set_defaults(func=lambda args: parser.print_help() or 2)
