"""Devnet cost: split vs combined, and how the cost grows with nodes and services.

All runs use the tiny preset, the impl backend, keys derived from one seed and a fresh
temporary directory (removed afterwards), side by side in one process. Each prints the CPU
seconds it cost (``time.process_time`` of this process: the in-process devnet runs every node
here; for the split run, this process plus its node and service processes, read with
``getrusage(RUSAGE_CHILDREN)`` once they have exited) and, labelled, its wall-clock seconds (the
machine may be shared: wall-clock ratios are distorted by other work, CPU ratios far less); and
the same for the *quiet* layers (ballot layers without an ATX phase), per layer (the split run's
quiet layers in wall-clock time only: its processes still run then). The runs:

* **combined vs split**: the in-process devnet (nodes and smeshing services in one process,
  calling each other directly, like go-spacemesh's combined mode) against ``--tcp`` (every node
  and every smeshing service a process of its own: gossip over TCP, services over HTTP), same
  nodes, same keys; both must reach the same state root;
* **nodes**: the in-process devnet with 4, 8 and 16 nodes (``--nodes-list``); each step prints
  its CPU ratio to the first, for the whole run and for the quiet layers, next to the linear
  bound N/N0 and whether it is within it;
* **services per node**: 4 nodes with 1 and 2 smeshing services each (``--smeshers-list``);
* ``--memo``: the "post-memo" devnet rule on and off (every node verifies every PoST itself).

``--profile`` prints the top cProfile entries of the first in-process run.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import resource
import shutil
import tempfile
import time

from smspec.tools.cli import CliError, integer

SEED = "smspec-bench"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--layers", type=integer(9, 400, "a layer count"), default=24,
                        help="layers per run (default 24: ballots from layer 8, ATX phases in every epoch from "
                             "1; 12 layers leave only 3 quiet layers, too few for a steady per-layer figure)")
    parser.add_argument("--nodes-list", default="4,8,16", help="node counts of the scaling runs (default 4,8,16)")
    parser.add_argument("--smeshers-list", default="1,2", help="services per node of the 4-node runs (default 1,2)")
    parser.add_argument("--no-tcp", action="store_true", help="skip the split (processes) run")
    parser.add_argument("--memo", action="store_true", help="also compare the post-memo rule on and off")
    parser.add_argument("--profile", action="store_true", help="print the top cProfile entries of the first run")
    parser.add_argument("--top", type=integer(1, 10_000, "an entry count"), default=20, help="cProfile entries to print (default 20)")


def _counts(text: str, what: str, low: int, high: int) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise CliError(f"{what}: a comma-separated list of integers, got {text!r}") from None
    if not values or any(not low <= v <= high for v in values):
        raise CliError(f"{what}: values in {low}..{high}")
    return values


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(config, tcp: bool = False, profile: bool = False) -> dict:
    from smspec.tools.node import protocol as p
    from smspec.tools.node.devnet import Devnet

    directory = tempfile.mkdtemp(prefix="smspec-bench-devnet-")
    try:
        devnet = Devnet(directory, config, p.modules(backend="impl"))
        per_layer: list = []
        profiler = cProfile.Profile() if profile else None
        started = time.perf_counter()
        cpu_started = time.process_time()
        children_started = _children_cpu()
        last = [cpu_started]
        if profiler is not None:
            profiler.enable()

        def record(info) -> None:
            now = time.process_time()
            per_layer.append((info.layer, bool(info.atxs), info.seconds, now - last[0]))
            last[0] = now

        if tcp:
            from smspec.tools.node.tcp import TcpDevnet

            runner = TcpDevnet(devnet)
            summary = runner.run(record)
            timings = dict(runner.schedule.timings)
        else:
            summary = devnet.run(record)
            timings = dict(devnet.timings)
        if profiler is not None:
            profiler.disable()
        elapsed = time.perf_counter() - started
        devnet.close()
        cpu = time.process_time() - cpu_started + (_children_cpu() - children_started)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    if not summary["agree"]:
        raise CliError("the devnet's nodes disagreed; the benchmark is void")
    quiet = [(wall, cpu) for layer, atx, wall, cpu in per_layer if not atx and layer >= 8]
    stats = pstats.Stats(profiler, stream=io.StringIO()) if profiler is not None else None
    return {"elapsed": elapsed, "cpu": cpu, "layers": config.layers, "tcp": tcp,
            "quiet_wall": sum(w for w, _ in quiet) / max(len(quiet), 1),
            # the split run's processes are still running during its layers: only wall is known there
            "quiet_cpu": None if tcp else sum(c for _, c in quiet) / max(len(quiet), 1),
            "timings": timings, "root": summary["state_root"], "stats": stats}


def _line(name: str, result: dict) -> str:
    quiet = (f"quiet layers {result['quiet_cpu']:6.3f} CPU-s/layer" if result["quiet_cpu"] is not None
             else "quiet layers  (CPU n/a)")
    return (f"{name:36s} CPU {result['cpu']:7.2f}s  {quiet} | wall {result['elapsed']:6.2f}s, "
            f"quiet {result['quiet_wall']:6.3f} s/layer")


def _within(ratio: float, bound: float) -> str:
    return "within" if ratio <= bound else "ABOVE"


def _scaling(nodes: int, base_nodes: int, result: dict, base: dict) -> str:
    """One scaling step: the CPU ratios to the first run next to the linear bound N/N0."""
    bound = nodes / base_nodes
    whole = result["cpu"] / base["cpu"]
    line = f"  {base_nodes} -> {nodes} nodes: CPU whole run {whole:5.2f}x ({_within(whole, bound)} the linear bound {bound:.2f}x)"
    if not base["quiet_cpu"]:
        return line + ", no quiet layers (--layers 10 or more)"
    quiet = result["quiet_cpu"] / base["quiet_cpu"]
    return line + f", quiet layers {quiet:5.2f}x ({_within(quiet, bound)} it)"


def run(args: argparse.Namespace) -> None:
    from smspec.tools.node.devnet import DevnetConfig
    from smspec.tools.node.wallet import build_wallet_program

    if not 9 <= args.layers <= 400:
        raise CliError("--layers: expected 9..400 (ballots start at layer 8)")
    nodes_list = _counts(args.nodes_list, "--nodes-list", 1, 32)
    smeshers_list = _counts(args.smeshers_list, "--smeshers-list", 1, 8)
    try:
        build_wallet_program()
    except RuntimeError as error:
        raise CliError(str(error)) from None

    def config(nodes: int = 4, smeshers: int = 1, memo: bool = True) -> DevnetConfig:
        return DevnetConfig(nodes=nodes, layers=args.layers, smeshers=smeshers, post_memo=memo, key_seed=SEED)

    print(f"devnet benchmark: {args.layers} layers, tiny preset, impl backend, keys from --key-seed {SEED}")
    print("CPU: CPU-seconds (this process; with the split run, its node and service processes too); "
          "wall: wall-clock seconds")
    combined = _run(config(), profile=args.profile)
    print(_line("combined (in-process), 4 nodes", combined))
    if not args.no_tcp:
        split = _run(config(), tcp=True)
        print(_line("split (node + service processes), 4", split))
        same = "same state root" if split["root"] == combined["root"] else "DIFFERENT state roots"
        print(f"  split / combined: {split['cpu'] / combined['cpu']:.2f}x the CPU, "
              f"{split['elapsed'] / combined['elapsed']:.2f}x the wall time ({same})")
        print("  wall-clock seconds per phase (the coordinator's view):")
        for phase in sorted(combined["timings"], key=lambda k: -combined["timings"][k]):
            print(f"    {phase:45s} combined {combined['timings'][phase]:7.2f}s  split "
                  f"{split['timings'].get(phase, 0.0):7.2f}s")
    runs = []
    for nodes in nodes_list:
        result = combined if nodes == 4 else _run(config(nodes))
        runs.append((nodes, result))
        print(_line(f"{nodes} nodes, 1 service each", result))
    if len(runs) > 1:
        base_nodes, base = runs[0]
        print(f"nodes scaling, CPU-seconds against the {base_nodes}-node run (linear bound: N / {base_nodes}):")
        for nodes, result in runs[1:]:
            print(_scaling(nodes, base_nodes, result, base))
    for smeshers in smeshers_list:
        result = combined if smeshers == 1 else _run(config(4, smeshers))
        print(_line(f"4 nodes, {smeshers} service(s) each", result) +
              f"  {result['cpu'] / combined['cpu']:.2f}x one each (CPU)")
    if args.memo:
        without = _run(config(memo=False))
        print(_line("post-memo off, 4 nodes", without) +
              f"  the memo saves {without['cpu'] / combined['cpu']:.2f}x the CPU")
    if combined["stats"] is not None:
        stream = io.StringIO()
        combined["stats"].stream = stream
        combined["stats"].sort_stats("cumulative").print_stats(args.top)
        print("cProfile of the combined run (cumulative), top entries:")
        for line in stream.getvalue().splitlines():
            if line.strip() and ("/" in line or "ncalls" in line):
                print("   " + line)
