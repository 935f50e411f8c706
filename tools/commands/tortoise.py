"""``smspec tortoise``: replay tortoise traces and simulate networks (spec/tortoise.md)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from smspec.tools.cli import (
    MAX_JSON_DEPTH,
    CliError,
    check_output,
    integer,
    json_depth,
    read_input,
    real,
    set_backend_from_args,
)

MAX_LAYERS = 100_000
MAX_U64 = 2**64 - 1


def _module() -> Any:
    from smspec import spec

    return spec.load("tortoise", spec.active_preset())


def _layers(text: str, option: str, layers: int) -> tuple[int, ...]:
    if not text:
        return ()
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise CliError(f"{option}: expected comma-separated layer offsets, got {text[:40]!r}") from None
    if any(v < 1 for v in values):
        raise CliError(f"{option}: layer offsets start at 1 (the first layer after genesis)")
    if max(values) > layers:
        raise CliError(f"{option}: layer offset {max(values)} is beyond the {layers} simulated layers (--layers)")
    return values


def _fraction(value: float, option: str) -> float:
    if not 0.0 <= value <= 1.0:
        raise CliError(f"{option}: expected a fraction between 0 and 1, got {value}")
    return value


def _partition(text: str | None) -> tuple[int, int, float]:
    if not text:
        return 0, 0, 0.5
    parts = text.split(":")
    try:
        start, length = int(parts[0]), int(parts[1])
        fraction = float(parts[2]) if len(parts) > 2 else 0.5
    except (ValueError, IndexError):
        raise CliError(f"--partition: expected START:LENGTH[:FRACTION], got {text!r}") from None
    if start < 1 or length < 1 or len(parts) > 3:
        raise CliError("--partition: START and LENGTH must be positive (START counts from the first layer)")
    return start, length, _fraction(fraction, "--partition FRACTION")


def simulate_command(args: argparse.Namespace) -> int:
    from smspec.tools.tortoise_sim import Scenario, Simulation
    from smspec.tools.tortoise_trace import SMSPEC_FORMAT
    from tqdm import tqdm

    backend = set_backend_from_args(args)
    tortoise = _module()
    if args.save:
        check_output(args.save, "--save")
    start, length, fraction = _partition(args.partition)
    config = {}
    for name in ("hdist", "zdist", "window_size", "bad_beacon_vote_delay_layers"):
        value = getattr(args, name)
        if value is not None:
            config[name] = value
    scenario = Scenario(
        layers=args.layers, smeshers=args.smeshers, seed=args.seed, partition_start=start, partition_layers=length,
        partition_fraction=fraction, byzantine_fraction=_fraction(args.byzantine, "--byzantine"),
        early_block_fraction=_fraction(args.early_blocks, "--early-blocks"),
        bad_beacon_fraction=_fraction(args.bad_beacon, "--bad-beacon"),
        missing_hare=_layers(args.missing_hare, "--missing-hare", args.layers),
        empty_hare=_layers(args.empty_hare, "--empty-hare", args.layers),
        late_blocks=_layers(args.late_blocks, "--late-blocks", args.layers), shuffle_ballots=args.shuffle,
        shuffle_seed=args.seed + 1, config=config,
    )
    try:
        simulation = Simulation(tortoise, scenario)
    except (ValueError, tortoise.SpecError) as error:
        raise CliError(str(error)) from None
    with tqdm(total=args.layers, desc="layers", unit="layer", disable=args.quiet) as progress:
        simulation.run(progress)
    genesis = simulation.genesis
    print(f"preset {tortoise.LAYERS_PER_EPOCH} layers/epoch, hdist {simulation.config.hdist}, zdist "
          f"{simulation.config.zdist}, backend {backend}; genesis {genesis}; {len(simulation.nodes)} nodes")
    print("layer  " + "  ".join(f"node{i}(side {n.side})" for i, n in enumerate(simulation.nodes)))
    for offset, row in enumerate(simulation.history, start=1):
        cells = [f"{'F' if full else 'V'} {verified:>7}" for _, verified, full in row]
        marker = " split" if simulation.partitioned(genesis + offset) else ""
        if args.verbose or offset == len(simulation.history) or any(
                v != genesis + offset - 1 for _, v, _ in row) or marker:
            print(f"{genesis + offset:>5}  " + "  ".join(f"{c:>15}" for c in cells) + marker)
    lag = simulation.lag()
    agree = simulation.agree()
    print(f"final: verified lags last by {lag}; nodes agree on every verified layer: {agree}")
    if args.save:
        node = simulation.nodes[0]
        data = {"format": SMSPEC_FORMAT, "config": {k: getattr(simulation.config, k) for k in config_fields(tortoise)},
                "preset_layers_per_epoch": tortoise.LAYERS_PER_EPOCH, "events": node.events, "outputs": node.outputs}
        try:
            Path(args.save).write_text(json.dumps(data) + "\n")
        except OSError as error:
            raise CliError(f"--save: cannot write {args.save}: {error.strerror}") from None
        print(f"saved the trace of node 0 ({len(node.events)} events) to {args.save}")
    return 0 if agree else 1


def config_fields(tortoise: Any) -> list[str]:
    import attrs

    return [f.name for f in attrs.fields(tortoise.TortoiseConfig)]


def replay_command(args: argparse.Namespace) -> int:
    from smspec.tools import tortoise_trace
    from tqdm import tqdm

    backend = set_backend_from_args(args)
    tortoise = _module()
    path = Path(args.trace)
    try:
        text = read_input(path, "TRACE").decode("utf-8")
    except UnicodeDecodeError:
        raise CliError(f"{path}: not a trace (not UTF-8 text)") from None
    if json_depth(text) > MAX_JSON_DEPTH:
        raise CliError(f"{path}: not a trace (JSON nested deeper than {MAX_JSON_DEPTH} levels)")
    try:
        kind, data = tortoise_trace.parse(text, path)
    except tortoise_trace.TraceError as error:
        raise CliError(str(error)) from None
    if kind == "smspec":
        try:
            outputs, differences = tortoise_trace.replay_smspec(tortoise, data)
        except (KeyError, ValueError, TypeError, AttributeError, IndexError) as error:
            raise CliError(f"{path}: malformed smspec trace: {error}") from None
        tallies = [o for o in outputs if o["op"] == "tally"]
        print(f"{path}: smspec trace, {len(data['events'])} events, {len(tallies)} tallies, backend {backend}")
        if tallies:
            last = tallies[-1]
            print(f"final: layer {last['layer']}, verified {last['verified']}, mode {last['mode']}")
        if "outputs" not in data:
            print("no recorded outputs to compare with")
            return 0
        if differences:
            index, want, got = differences[0]
            print(f"{len(differences)} output records differ; first at record {index}:")
            print(f"  recorded: {json.dumps(want)[:300]}")
            print(f"  replayed: {json.dumps(got)[:300]}")
            return 1
        print(f"all {len(outputs)} output records match the recording")
        return 0
    with tqdm(total=len(data), desc="events", unit="event", disable=args.quiet) as progress:
        try:
            report = tortoise_trace.replay_legacy(tortoise, data, progress)
        except tortoise_trace.TraceError as error:
            raise CliError(f"{path}: {error}") from None
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
            raise CliError(f"{path}: malformed go-spacemesh trace event: {error}") from None
    print(f"{path}: go-spacemesh trace (May-2023 schema), config {report.config}, backend {backend}")
    for check in sorted(report.checks):
        total, bad = report.checks[check], report.mismatches[check]
        print(f"  {check:15s} {total - bad:6d} / {total:<6d} agree")
    for example in report.examples:
        print(f"  differs: {example}")
    print("note: these traces predate go-spacemesh's June-2023 opinion rework and PR #5002; "
          "differences are expected (docs/tortoise.md)")
    return 1 if (args.strict and sum(report.mismatches.values())) else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tortoise", help="replay tortoise traces and simulate networks (spec/tortoise.md)",
        description="The tortoise (layer voting consensus): replay recorded traces and run the network "
        "simulator. The preset comes from the global --preset option (tiny: 4 layers per epoch).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    replay = sub.add_parser(
        "replay", help="replay a trace and compare with what it recorded",
        description="Replay an smspec trace (from `smspec tortoise simulate --save`), comparing every tally "
        "and encode record, or a go-spacemesh tracer file (May-2023 schema), reporting agreement per kind "
        "of check. Exit 1 when an smspec trace does not reproduce (or, with --strict, on any difference).",
    )
    replay.add_argument("trace", metavar="TRACE", help="trace file (smspec JSON or go-spacemesh JSON lines)")
    replay.add_argument("--backend", choices=("spec", "impl"), default="impl", help="implementation to run (default impl)")
    replay.add_argument("--strict", action="store_true", help="exit 1 on any difference in a go-spacemesh trace")
    replay.add_argument("--quiet", action="store_true", help="no progress bar")
    replay.set_defaults(func=replay_command)

    simulate = sub.add_parser(
        "simulate", help="simulate a network of smeshers and observing nodes",
        description="Simulate layers of ballots from honest and byzantine smeshers, partitions that heal, "
        "late and early blocks, bad beacons and missing Hare output; print each node's verified layer "
        "where it is not the previous layer (V = verifying mode, F = full mode). Exit 1 if the nodes "
        "end up disagreeing on a verified layer.",
    )
    simulate.add_argument("--layers", type=integer(1, MAX_LAYERS, "a layer count"), default=40, help="layers to simulate after genesis (default 40)")
    simulate.add_argument("--smeshers", type=integer(1, 10_000, "a smesher count"), default=12, help="smeshers, one ballot each per layer (default 12)")
    simulate.add_argument("--seed", type=integer(0, MAX_U64, "a seed"), default=0, help="random seed (default 0)")
    simulate.add_argument("--partition", metavar="START:LENGTH[:FRACTION]",
                          help="split the network at layer offset START for LENGTH layers; FRACTION of the "
                          "smeshers on side 0 (default 0.5)")
    simulate.add_argument("--byzantine", type=real(0, 1, "a fraction"), default=0.0,
                          help="fraction of smeshers voting against the previous layer's Hare block")
    simulate.add_argument("--early-blocks", type=real(0, 1, "a fraction"), default=0.0,
                          help="fraction of smeshers supporting a block nobody has")
    simulate.add_argument("--bad-beacon", type=real(0, 1, "a fraction"), default=0.0, help="fraction of smeshers declaring a wrong beacon")
    simulate.add_argument("--missing-hare", default="", metavar="L1,L2",
                          help="layer offsets without any Hare output (terminated after zdist)")
    simulate.add_argument("--empty-hare", default="", metavar="L1,L2", help="layer offsets with an empty Hare output")
    simulate.add_argument("--late-blocks", default="", metavar="L1,L2",
                          help="layer offsets whose block arrives one layer late (after its Hare output)")
    simulate.add_argument("--shuffle", action="store_true", help="deliver each layer's ballots in random order")
    simulate.add_argument("--hdist", type=integer(0, MAX_LAYERS, "a layer count"), help="override the preset's hdist")
    simulate.add_argument("--zdist", type=integer(0, MAX_LAYERS, "a layer count"), help="override the preset's zdist")
    simulate.add_argument("--window-size", type=integer(0, MAX_LAYERS, "a layer count"), help="override the preset's window size")
    simulate.add_argument("--bad-beacon-vote-delay-layers", type=integer(0, MAX_LAYERS, "a layer count"),
                          help="override the preset's bad-beacon delay")
    simulate.add_argument("--save", metavar="PATH", help="write node 0's events and outputs as an smspec trace")
    simulate.add_argument("--verbose", action="store_true", help="print every layer")
    simulate.add_argument("--quiet", action="store_true", help="no progress bar")
    simulate.add_argument("--backend", choices=("spec", "impl"), default="impl", help="implementation to run (default impl)")
    simulate.set_defaults(func=simulate_command)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)
