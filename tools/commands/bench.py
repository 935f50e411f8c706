"""``smspec bench NAME``: benchmarks, each a module ``smspec.tools.bench_<name>``."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from collections.abc import Callable

import smspec.tools as tools_package
from smspec.tools.cli import CliError


def _benchmarks() -> dict[str, object]:
    found = {}
    for info in pkgutil.iter_modules(tools_package.__path__):
        if info.name.startswith("bench_"):
            found[info.name[len("bench_"):]] = importlib.import_module(f"smspec.tools.{info.name}")
    return found


def _from_clean_spec(run: Callable[[argparse.Namespace], object]) -> Callable[[argparse.Namespace], object]:
    """Run a benchmark from the spec backend, checked clean, and restore the backend after it.

    A benchmark's "spec" side (the spec's own functions, called directly or with ``spec``
    selected) then runs nothing but spec code, and its "impl" side whatever it selects or calls.
    """

    def run_clean(args: argparse.Namespace) -> object:
        from smspec.impl import registry

        previous = registry.active_backend()
        registry.use_backend("spec")
        try:
            registry.check_backend()
        except RuntimeError as e:
            raise CliError(str(e)) from e
        try:
            return run(args)
        finally:
            registry.use_backend(previous)

    return run_clean


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
        p.set_defaults(func=_from_clean_spec(module.run))  # type: ignore[attr-defined]
    parser.set_defaults(func=lambda args: parser.print_help() or 2)
