"""Tortoise: layers per CPU second and peak memory, spec vs impl, as the history grows.

The network simulator (tools/tortoise_sim.py) produces, layer by layer, one ATX per smesher per
epoch, one ballot per smesher per layer (``--ballots`` per layer), one block and Hare output per
layer and the weak coins; honest by default, or a 50/50 partition of 2*hdist layers that heals
(``--scenario partition``), which keeps the node in full mode for a while. Its node runs with the
backend measured and nothing is recorded: events stream through, a layer's ballots are delivered
as objects in one ``on_ballots`` call (spec/tortoise.md: ``on_ballot`` on each, in order, each
refusal reported in its place; the node replays its stored ballots the same way), and only the
CPU time of the node's own tortoise calls is counted (ballot decoding, storing, counting,
tallying, encoding votes, applying), per layer. The node encodes its opinion
once per layer, and that call is the timed one (no untimed call warms the impl's memos first);
making the workload (ids, ballot objects, events, and decoding the events into the calls) is not
timed, on either backend; an epoch's ATXs, like a layer's ballots, are timed as one batch.

Each (backend, layer count) runs in its own child process, so its peak resident memory (above
the child's start) is its own. Printed per run: layers per CPU second overall, milliseconds per
layer over the first and the last quarter (a cost per layer that grows with history shows up as
a last quarter slower than the first), peak memory, and the impl/spec ratio of each size. The
load average and wall time are printed too: the machine may be shared. ``tortoise s`` is the
CPU time of the timed tortoise calls; the rest of ``wall s`` is the simulator making the workload
(ids, ballots, events), which no ratio includes. ``GC s`` is the part of ``tortoise s`` spent in
Python's cyclic garbage collections that happened to start inside a timed call: which call
triggers one depends on every allocation in the process (the simulator's included), so a single
full collection (tens of milliseconds with a large heap) can land in or out of a short run's timed
calls; the ratio is printed with and without them.

A run of 50 layers times only a few tens of milliseconds of the impl, so one run's ratio moves
with whatever else the machine does at that moment. ``--repeat N`` runs each size N times, the
spec and the impl alternating (each pair close together in time, under the same load), prints
every run, and gives the median of the N paired ratios with their range.
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import time
from typing import Any

from smspec.tools.bench_athena import load_average, peak_kib, reset_peak
from smspec.tools.cli import CliError, integer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", dest="bench_preset", choices=("mainnet", "testnet", "tiny"), default="mainnet",
                        help="protocol preset (layers per epoch, hdist, window...; default mainnet)")
    parser.add_argument("--ballots", type=integer(1, 100_000, "a ballot count"), default=1000,
                        help="ballots per layer (default 1000)")
    parser.add_argument("--layers", default="50,400", metavar="N[,N...]",
                        help="layer counts to simulate, each a separate run (default 50,400; e.g. 50,400,800,4032)")
    parser.add_argument("--scenario", choices=("honest", "partition"), default="honest",
                        help="honest network, or a 50/50 partition of 2*hdist layers that heals (default honest)")
    parser.add_argument("--window", type=integer(1, 100_000, "a window size"), default=None,
                        help="override the window size (layers kept behind the verified layer); with a window "
                        "shorter than the run the cost per layer should stay flat")
    parser.add_argument("--backends", default="spec,impl", help="comma-separated backends to time (default spec,impl)")
    parser.add_argument("--spec-max-layers", type=integer(4, 100_000, "a layer count"), default=800, metavar="N",
                        help="skip the spec for layer counts above N (default 800: the spec is slow)")
    parser.add_argument("--repeat", type=integer(1, 100, "a repeat count"), default=1, metavar="N",
                        help="run each size N times, spec and impl alternating, and print the median of the N "
                        "paired impl/spec ratios with their range (default 1)")


def _layer_counts(text: str) -> list[int]:
    try:
        counts = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise CliError("--layers: expected comma-separated layer counts, e.g. 50,400,4032") from None
    if not counts or min(counts) < 4 or max(counts) > 100_000:
        raise CliError("--layers: each count must be between 4 and 100,000")
    return counts


def _simulate(args: argparse.Namespace, backend: str, layers: int) -> dict[str, Any]:
    """One run: select the backend, simulate, return the node's per-tally CPU marks and memory."""
    from smspec import spec
    from smspec.impl import registry
    from smspec.tools.tortoise_sim import Scenario, Simulation

    start_rss = reset_peak()
    registry.use_backend(backend)
    tortoise = spec.load("tortoise", args.bench_preset)
    hdist = tortoise.TortoiseConfig().hdist
    config = {"window_size": args.window, "historical_window_end": 0} if args.window else {}
    partition = args.scenario == "partition"
    scenario = Scenario(layers=layers, smeshers=args.ballots, seed=1, config=config, record=False,
                        observed_sides=2 if partition else 1, partition_start=4 if partition else 0,
                        partition_layers=2 * hdist if partition else 0)
    wall = time.perf_counter()
    sim = Simulation(tortoise, scenario).run()
    wall = time.perf_counter() - wall
    node = sim.nodes[0]
    peak = peak_kib(start_rss)
    state = node.state
    return {"marks": node.marks, "gc": node.gc_seconds, "peak_kib": peak, "wall": wall,
            "lag": state.last - state.verified,
            "layers_held": len(state.layers), "ballots_held": sum(len(b) for b in state.ballots.values()),
            "evicted": state.evicted, "last": state.last}


def _in_child(function: Any, *arguments: Any) -> dict[str, Any]:
    if not hasattr(os, "fork"):
        return function(*arguments)  # type: ignore[no-any-return]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            payload = pickle.dumps(function(*arguments))
        except BaseException as error:  # noqa: BLE001 - reported to the parent
            payload = pickle.dumps({"error": repr(error)})
        with os.fdopen(write, "wb") as pipe:
            pipe.write(payload)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    if not data:
        raise CliError("a benchmark child process died (out of memory?)")
    result = pickle.loads(data)  # noqa: S301 - our own child's output
    if "error" in result:
        raise CliError(f"benchmark run failed: {result['error']}")
    return result  # type: ignore[no-any-return]


def run(args: argparse.Namespace) -> None:
    counts = _layer_counts(args.layers)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends:
        raise CliError("--backends: name at least one backend (spec, impl)")
    for backend in backends:
        if backend not in ("spec", "impl"):
            raise CliError(f"unknown backend {backend!r} (expected spec or impl)")
    print(f"tortoise: {args.ballots} ballots per layer (delivered through on_ballots, one call per layer), preset "
          f"{args.bench_preset}, scenario {args.scenario}, window {args.window or 'of the preset'}; "
          f"load average {load_average()}, {os.cpu_count()} CPUs")
    if args.window is not None:
        from smspec import spec

        length = spec.load("tortoise", args.bench_preset).LAYERS_PER_EPOCH
        if args.window < length:
            print(f"  note: a window shorter than an epoch ({length} layers) evicts reference ballots that later "
                  "ballots of the epoch point to, so those are refused (spec/tortoise.md, Window and epoch length); "
                  "use a preset with shorter epochs (testnet, tiny) to see a short window at work")
    print(f"  {'backend':7} {'layers':>6} {'layers/s':>9} {'ms/layer first q':>16} {'ms/layer last q':>15} "
          f"{'peak MB':>8} {'held layers':>11} {'held ballots':>12} {'verified lag':>12} {'tortoise s':>10} {'GC s':>6} "
          f"{'wall s':>7}")
    wall = time.perf_counter()
    for layers in counts:
        ratios: list[float] = []
        ratios_without_gc: list[float] = []
        for repetition in range(args.repeat):
            rates: dict[str, float] = {}
            without_gc: dict[str, float] = {}
            for backend in backends:
                if backend == "spec" and layers > args.spec_max_layers:
                    if repetition == 0:
                        print(f"  {backend:7} {layers:>6}  skipped (above --spec-max-layers {args.spec_max_layers})")
                    continue
                result = _in_child(_simulate, args, backend, layers)
                marks = result["marks"]
                total = marks[-1]
                quarter = max(1, len(marks) // 4)
                first = marks[quarter - 1] / quarter
                last = (marks[-1] - marks[-quarter - 1]) / quarter if len(marks) > quarter else total / len(marks)
                rates[backend] = len(marks) / total
                without_gc[backend] = len(marks) / max(total - result["gc"], 1e-9)
                print(f"  {backend:7} {layers:>6} {len(marks) / total:9.1f} {first * 1e3:16.2f} {last * 1e3:15.2f} "
                      f"{result['peak_kib'] / 1024:8.0f} {result['layers_held']:>11,} {result['ballots_held']:>12,} "
                      f"{result['lag']:>12} {total:10.2f} {result['gc']:6.2f} {result['wall']:7.1f}")
            if "spec" in rates and "impl" in rates:
                ratios.append(rates["impl"] / rates["spec"])
                ratios_without_gc.append(without_gc["impl"] / without_gc["spec"])
        if len(ratios) == 1:
            print(f"  impl/spec at {layers} layers: {ratios[0]:.1f}x; {ratios_without_gc[0]:.1f}x without the garbage "
                  "collections that fell inside the timed calls")
        elif ratios:
            print(f"  impl/spec at {layers} layers: median {statistics.median(ratios):.1f}x (range {min(ratios):.1f}x to "
                  f"{max(ratios):.1f}x over {len(ratios)} paired runs); median {statistics.median(ratios_without_gc):.1f}x "
                  "without the garbage collections that fell inside the timed calls")
    print(f"  load average after: {load_average()}; {time.perf_counter() - wall:.0f} s wall")
