"""``smspec bench NAME``: benchmarks, each a module ``smspec.tools.bench_<name>``; ``smspec bench
all`` runs them all (or ``--only`` some) with their default arguments and prints one table of
every measure they record (``smspec.tools.benchtable``): ours, the peer or limit measured in the
same run and the ratio, or the peer's figure measured elsewhere with its source. ``--json``
prints the table as JSON on standard output (the benchmarks' own text goes to standard error).
A benchmark that records no measures yet appears with its printed text only."""

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
    benchmarks = _benchmarks()
    p = sub.add_parser("all", help="every benchmark, one table: ours, the peer or limit, the ratio",
                       description="Run every benchmark (or --only some) with its default arguments, each "
                       "from the clean spec backend, and print one table of the measures they record: "
                       "ours, the peer or physical limit measured in the same run and the ratio; a peer "
                       "that cannot run here is printed with its figure and source, never divided.")
    p.add_argument("--only", type=_names(sorted(benchmarks)), default=None, metavar="NAMES",
                   help=f"comma-separated benchmarks to run (of {', '.join(sorted(benchmarks))})")
    p.add_argument("--skip", type=_names(sorted(benchmarks)), default=None, metavar="NAMES",
                   help="comma-separated benchmarks to leave out")
    p.add_argument("--json", action="store_true", help="print the table as JSON on standard output")
    p.set_defaults(func=lambda args: run_all(args, benchmarks))
    for name, module in sorted(benchmarks.items()):
        doc = (module.__doc__ or "").strip().splitlines()
        p = sub.add_parser(name, help=doc[0] if doc else name, description=(module.__doc__ or "").strip())
        module.add_arguments(p)  # type: ignore[attr-defined]
        p.set_defaults(func=_from_clean_spec(module.run))  # type: ignore[attr-defined]
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def _names(known: list[str]) -> Callable[[str], list[str]]:
    """An argparse ``type``: a comma-separated list of benchmark names."""

    def parse(text: str) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in known]
        if unknown or not names:
            raise argparse.ArgumentTypeError(f"expected benchmark names from {', '.join(known)}, got {text!r}")
        return names

    return parse


def run_all(args: argparse.Namespace, benchmarks: dict[str, object]) -> int:
    import contextlib
    import io
    import json
    import os
    import sys

    from smspec.tools import benchtable

    names = [name for name in sorted(benchmarks) if (args.only is None or name in args.only)
             and (args.skip is None or name not in args.skip)]
    if not names:
        raise CliError("--only and --skip leave no benchmark to run")
    benchtable.take()
    measures: list[benchtable.Measure] = []
    texts: dict[str, str] = {}
    for name in names:
        module = benchmarks[name]
        sub = argparse.ArgumentParser(prog=f"smspec bench {name}")
        module.add_arguments(sub)  # type: ignore[attr-defined]
        defaults = sub.parse_args([])
        print(f"== bench {name}", file=sys.stderr)
        captured = io.StringIO()
        target = sys.stderr if args.json else sys.stdout
        with contextlib.redirect_stdout(captured):
            _from_clean_spec(module.run)(defaults)  # type: ignore[attr-defined]
        text = captured.getvalue()
        print(text, end="", file=target)
        recorded = benchtable.take()
        measures += recorded
        if not recorded:
            texts[name] = text
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    if args.json:
        json.dump({"machine": {"cpus": os.cpu_count(), "load_average": load},
                   "measures": [m.as_dict() for m in measures],
                   "printed_only": texts}, sys.stdout, indent=2)
        print()
    else:
        print(f"\nall measures (machine: {os.cpu_count()} logical CPUs, load average {load}):")
        print(benchtable.table(measures))
        if texts:
            print(f"benchmarks that print text only (no recorded measures): {', '.join(sorted(texts))}")
    return 0
