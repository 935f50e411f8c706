"""Tortoise layers per second, spec vs impl, on one simulated event stream.

The workload is generated once by the simulator (tools/tortoise_sim.py) with the spec: one ATX per
smesher per epoch, one ballot per smesher per layer (so ``--ballots`` ballots per layer), one
block and Hare output per layer, weak coins; honest by default, or a 50/50 partition that heals
(``--scenario partition``), which keeps the node in full mode for a while. The recorded events of
one node are then parsed once and replayed on a fresh node with each backend; only the replay is
timed (ballot decoding, storing, counting, tallying, encoding votes). The figures printed are
layers per second over the whole run and over its last quarter (a cost per layer that grows with
history shows up as a slower last quarter), and the impl/spec ratio.
"""

from __future__ import annotations

import argparse
import time

from smspec.conformance.handlers import tortoise as events_mod
from smspec.tools.cli import CliError, integer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", dest="bench_preset", choices=("mainnet", "testnet", "tiny"), default="mainnet",
                        help="protocol preset (layers per epoch, hdist, window...; default mainnet)")
    parser.add_argument("--ballots", type=integer(1, 100_000, "a ballot count"), default=1000, help="ballots per layer (default 1000)")
    parser.add_argument("--layers", type=integer(4, 100_000, "a layer count"), default=200, help="layers to simulate (default 200)")
    parser.add_argument("--scenario", choices=("honest", "partition"), default="honest",
                        help="honest network, or a 50/50 partition of 2*hdist layers that heals (default honest)")
    parser.add_argument("--window", type=integer(1, 100_000, "a window size"), default=None,
                        help="override the window size (layers kept behind the verified layer); with a window "
                        "shorter than the run the cost per layer should stay flat")
    parser.add_argument("--backends", default="spec,impl", help="comma-separated backends to time (default spec,impl)")


def _parse(tortoise, events: list) -> list:
    """Turn recorded events into (function, arguments) calls, outside the timed region."""
    calls = []
    for event in events:
        op = event["op"]
        if op == "ballot":
            calls.append(("ballot", events_mod.ballot_from_json(tortoise, event)))
        elif op in ("tally", "encode"):
            calls.append((op, int(event["layer"])))
        else:
            calls.append(("event", event))
    return calls


def _replay(tortoise, config, calls: list) -> list[float]:
    """Run the calls on a fresh node; returns the time at the end of each tally."""
    state = tortoise.new_tortoise(config)
    marks = []
    start = time.perf_counter()
    for op, arg in calls:
        if op == "ballot":
            try:
                tortoise.on_ballot(state, arg)
            except tortoise.InvalidBallot:
                pass
        elif op == "tally":
            tortoise.tally_votes(state, arg)
            marks.append(time.perf_counter() - start)
        elif op == "encode":
            try:
                tortoise.encode_votes(state, arg)
            except tortoise.EncodeVotesError:
                pass
        else:
            events_mod.apply_event(tortoise, state, arg)
    return marks


def run(args: argparse.Namespace) -> None:
    from smspec import spec
    from smspec.impl import registry
    from smspec.tools.tortoise_sim import Scenario, Simulation

    if args.ballots < 1 or args.layers < 4:
        raise CliError("need --ballots >= 1 and --layers >= 4")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends:
        raise CliError("--backends: name at least one backend (spec, impl)")
    for backend in backends:
        if backend not in ("spec", "impl"):
            raise CliError(f"unknown backend {backend!r} (expected spec or impl)")
    tortoise = spec.load("tortoise", args.bench_preset)
    previous = registry.active_backend()
    registry.use_backend("spec")
    hdist = tortoise.TortoiseConfig().hdist
    if args.window is not None and args.window < 1:
        raise CliError("--window must be positive")
    config = {"window_size": args.window, "historical_window_end": 0} if args.window else {}
    scenario = Scenario(layers=args.layers, smeshers=args.ballots, seed=1, config=config,
                        observed_sides=2 if args.scenario == "partition" else 1,
                        partition_start=4 if args.scenario == "partition" else 0,
                        partition_layers=2 * hdist if args.scenario == "partition" else 0)
    print(f"generating: {args.layers} layers x {args.ballots} ballots, preset {args.bench_preset}, "
          f"scenario {args.scenario} (spec simulator)...", flush=True)
    t0 = time.perf_counter()
    sim = Simulation(tortoise, scenario).run()
    print(f"  generated in {time.perf_counter() - t0:.1f} s; node 0 ended with verified = last - "
          f"{sim.lag()[0]}; {len(sim.nodes[0].events)} events")
    calls = _parse(tortoise, sim.nodes[0].events)
    config = sim.config
    results = {}
    try:
        for backend in backends:
            registry.use_backend(backend)
            marks = _replay(tortoise, config, calls)
            total = marks[-1]
            quarter = max(1, len(marks) // 4)
            tail = marks[-1] - marks[-quarter - 1] if len(marks) > quarter else total
            results[backend] = (len(marks) / total, quarter / tail)
            print(f"  {backend:5s} {len(marks) / total:8.2f} layers/s overall, {quarter / tail:8.2f} layers/s "
                  f"over the last {quarter} layers ({total:.2f} s)")
    finally:
        registry.use_backend(previous)
    if "spec" in results and "impl" in results:
        print(f"  impl/spec: {results['impl'][0] / results['spec'][0]:.2f}x overall, "
              f"{results['impl'][1] / results['spec'][1]:.2f}x over the last quarter")
