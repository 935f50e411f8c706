"""In-process devnet layers per second (tiny preset, impl backend) and where the time goes.

Runs the devnet of ``smspec devnet up`` (4 nodes, fresh temporary directory, SQLite) twice in the
same process, side by side: with the "post-memo" devnet rule (each PoST verified once per
process) and without it (every node verifies every PoST itself, as separate machines would).
For each it prints layers/s over the whole run and over the layers without an ATX phase, and
the time per phase (ATX phase split into PoST/PoET/validation, proposals, Hare, tortoise and
state). ``--profile`` adds the top cProfile entries of the first run.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import tempfile
import time

from smspec.tools.cli import CliError, integer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--layers", type=integer(9, 400, "a layer count"), default=16, help="layers per run (default 16: ATX phases in epochs 1-3)")
    parser.add_argument("--nodes", type=integer(1, 16, "a node count"), default=4, help="nodes (default 4)")
    parser.add_argument("--profile", action="store_true", help="print the top cProfile entries (cumulative) of run 1")
    parser.add_argument("--top", type=integer(1, 10_000, "an entry count"), default=20, help="cProfile entries to print (default 20)")
    parser.add_argument("--only-memo", action="store_true", help="skip the run without the PoST memo")


def _run(config, profile: bool) -> tuple[dict, float, list, pstats.Stats | None]:
    from smspec.tools.node import protocol as p
    from smspec.tools.node.devnet import Devnet

    directory = tempfile.mkdtemp(prefix="smspec-bench-devnet-")
    try:
        devnet = Devnet(directory, config, p.modules(backend="impl"))
        per_layer: list = []
        profiler = cProfile.Profile() if profile else None
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        summary = devnet.run(lambda info: per_layer.append((info.layer, bool(info.atxs), info.seconds)))
        if profiler is not None:
            profiler.disable()
        elapsed = time.perf_counter() - started
        timings = dict(devnet.timings)
        devnet.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    if not summary["agree"]:
        raise CliError("the devnet's nodes disagreed; the benchmark is void")
    stats = pstats.Stats(profiler, stream=io.StringIO()) if profiler is not None else None
    return timings, elapsed, per_layer, stats


def run(args: argparse.Namespace) -> None:
    from smspec.tools.node.devnet import DevnetConfig

    if not 9 <= args.layers <= 400:
        raise CliError("--layers: expected 9..400 (ballots start at layer 8)")
    if not 1 <= args.nodes <= 16:
        raise CliError("--nodes: expected 1..16")
    from smspec.tools.node.wallet import build_wallet_program

    try:
        build_wallet_program()
    except RuntimeError as error:
        raise CliError(str(error)) from None
    variants = [("post-memo on", True)] + ([] if args.only_memo else [("post-memo off", False)])
    results = []
    for index, (name, memo) in enumerate(variants):
        config = DevnetConfig(nodes=args.nodes, layers=args.layers, post_memo=memo)
        timings, elapsed, per_layer, stats = _run(config, args.profile and index == 0)
        quiet = [s for _, atx, s in per_layer if not atx and _ >= 8]
        results.append((name, elapsed, per_layer, quiet))
        print(f"{name}: {args.layers} layers, {args.nodes} nodes in {elapsed:.2f}s = {args.layers / elapsed:.2f} layers/s; "
              f"layers with ballots and no ATX phase: {len(quiet) / max(sum(quiet), 1e-9):.2f} layers/s")
        total = sum(timings.values())
        for phase, seconds in sorted(timings.items(), key=lambda item: -item[1]):
            print(f"  {phase:45s} {seconds:8.2f}s  {100 * seconds / total:5.1f}%")
        if stats is not None:
            stream = io.StringIO()
            stats.stream = stream
            stats.sort_stats("cumulative").print_stats(args.top)
            print("  cProfile (cumulative), top entries:")
            for line in stream.getvalue().splitlines():
                if line.strip() and ("/" in line or "ncalls" in line):
                    print("   " + line)
    if len(results) == 2:
        (_, with_memo, *_), (_, without, *_) = results
        print(f"ratio post-memo on / off (whole run): {without / with_memo:.2f}x faster with the memo")
