"""``smspec check``: exhaustive bounded checking of Hare and the Tortoise on the spec's own code
(docs/check.md).

Exit status: 0 when every invariant holds in every state within the bounds, 1 when a state breaks
one (the counterexample is printed, minimised, and written with ``--counterexample``), 2 for bad
input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from smspec.tools.cli import CliError, check_output, integer

ENGINES = ("local", "processes", "dask")


def _names(allowed: tuple[str, ...], what: str):
    def parse(text: str) -> tuple[str, ...]:
        items = tuple(item.strip() for item in text.split(",") if item.strip())
        if not items:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list of {what}")
        for item in items:
            if item not in allowed:
                raise argparse.ArgumentTypeError(f"unknown {what} {item!r}; choose from {', '.join(allowed)}")
        return items

    parse.__name__ = "names"
    return parse


def _partition(text: str) -> tuple[int, int]:
    parts = text.split(":")
    if len(parts) != 2 or len(text) > 20:
        raise argparse.ArgumentTypeError(f"expected START:LENGTH (layers, e.g. 1:2), got {text[:40]!r}")
    try:
        start, length = int(parts[0]), int(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected START:LENGTH of integers, got {text[:40]!r}") from None
    if not 1 <= start <= 8 or not 1 <= length <= 8:
        raise argparse.ArgumentTypeError("START and LENGTH must be 1..8")
    return start, length


def _common(parser: argparse.ArgumentParser, invariants: tuple[str, ...]) -> None:
    parser.add_argument("--invariants", type=_names(invariants, "invariant"), default=invariants,
                        help=f"invariants to check (default all: {','.join(invariants)})")
    parser.add_argument("--search", choices=("bfs", "dfs"), default="bfs",
                        help="bfs: level by level, every state (default); dfs: depth first, stops at the "
                             "first violation (finds deep counterexamples sooner)")
    parser.add_argument("--workers", type=integer(1, 256, "a worker count"), default=1,
                        help="processes expanding each level (bfs; default 1)")
    parser.add_argument("--engine", choices=ENGINES, default=None,
                        help="local (one process), processes (a multiprocessing pool, the default with "
                             "--workers > 1) or dask (a Dask cluster: --scheduler, else a local one)")
    parser.add_argument("--scheduler", default=None, help="address of a Dask scheduler (with --engine dask)")
    parser.add_argument("--max-states", type=integer(1, 10**9, "a state count"), default=None,
                        help="stop after this many distinct states (the run is then incomplete)")
    parser.add_argument("--counterexample", metavar="FILE", default=None,
                        help="write a found counterexample (schedule, minimised schedule, per-node traces) as JSON")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def register(subparsers: Any) -> None:
    from smspec.tools.check.hare import INVARIANTS as HARE_INVARIANTS
    from smspec.tools.check.tortoise import INVARIANTS as TORTOISE_INVARIANTS
    from smspec.tools.check.tortoise import VOTES

    parser = subparsers.add_parser("check", help="exhaustive bounded checking of Hare and the Tortoise",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="check_command", metavar="MODEL")

    hare = sub.add_parser("hare", help="every schedule of a small Hare session (spec/hare.md)",
                          description="Explore every delivery schedule, loss pattern, VRF leader order and "
                                      "byzantine message of a small Hare session on the spec's state machine.")
    hare.add_argument("--members", type=integer(2, 7, "a member count"), default=4,
                      help="identities, each with eligibility count 1 (default 4; threshold members//2+1)")
    hare.add_argument("--byzantine", type=integer(0, 6, "a byzantine count"), default=1,
                      help="byzantine members among them (default 1)")
    hare.add_argument("--iterations", type=integer(1, 4, "an iteration count"), default=1,
                      help="iterations limit: the session stops at hardlock of this iteration (default 1)")
    hare.add_argument("--proposals", type=integer(1, 3, "a proposal count"), default=1,
                      help="proposal IDs; values are all their subsets (default 1)")
    hare.add_argument("--initial", choices=("same", "all"), default="same",
                      help="honest initial sets: all the IDs (same), or every combination of subsets (all)")
    hare.add_argument("--equivocation", type=integer(1, 3, "a value count"), default=1,
                      help="most distinct values a byzantine member sends in one round (default 1; 2 equivocates)")
    hare.add_argument("--late", type=integer(0, 3, "a round count"), default=1,
                      help="most rounds a message may arrive late (default 1)")
    hare.add_argument("--no-synchrony", action="store_true",
                      help="honest messages may also be late or lost, each receiver independently")
    hare.add_argument("--hare4", action="store_true",
                      help="messages go over the Hare 4 wire (compact preround IDs, reconstructed on receipt)")
    _common(hare, HARE_INVARIANTS)
    hare.set_defaults(func=hare_command)

    tortoise = sub.add_parser("tortoise", help="every schedule of a few tortoise layers (spec/tortoise.md)",
                              description="Explore every Hare output, weak coin and byzantine ballot of a few "
                                          "layers seen by two honest nodes, on the spec's tortoise.")
    tortoise.add_argument("--layers", type=integer(1, 8, "a layer count"), default=3, help="layers after genesis (default 3)")
    tortoise.add_argument("--honest", type=integer(1, 4, "a smesher count"), default=2,
                          help="honest smeshers, one ballot each per layer (default 2)")
    tortoise.add_argument("--split", type=integer(1, 3, "a smesher count"), default=1,
                          help="honest smeshers hosted by node A; the others by B (default 1)")
    tortoise.add_argument("--byzantine", type=integer(0, 2, "a smesher count"), default=1,
                          help="byzantine smeshers (default 1)")
    tortoise.add_argument("--weight", type=integer(1, 10**6, "an ATX weight"), default=100,
                          help="ATX weight of each honest smesher (default 100)")
    tortoise.add_argument("--byzantine-weight", type=integer(1, 10**6, "an ATX weight"), default=20,
                          help="ATX weight of each byzantine smesher (default 20)")
    tortoise.add_argument("--partition", type=_partition, default=None,
                          help="START:LENGTH: nodes A and B are split from layer START for LENGTH layers")
    tortoise.add_argument("--hare", type=_names(("block", "empty"), "Hare output"), default=("block", "empty"),
                          help="Hare outputs explored per layer (default block,empty)")
    tortoise.add_argument("--no-coins", action="store_true", help="the weak coin is always true")
    tortoise.add_argument("--votes", type=_names(VOTES, "byzantine vote"), default=VOTES,
                          help=f"byzantine ballots explored (default {','.join(VOTES)})")
    _common(tortoise, TORTOISE_INVARIANTS)
    tortoise.set_defaults(func=tortoise_command)

    claims = sub.add_parser("claims", help="rerun the checks behind the spec documents' Claims sections",
                            description="Run every claim of smspec.tools.check.claims, compare with the recorded "
                                        "results (exit 1 on a difference), or record them with --write.")
    claims.add_argument("--only", default=None, help="one claim id")
    claims.add_argument("--slow", action="store_true", help="also the claims marked slow (larger bounds)")
    claims.add_argument("--write", action="store_true",
                        help="record the results, the Claims sections and the counterexample vectors")
    claims.add_argument("--quiet", action="store_true", help="no progress lines")
    claims.set_defaults(func=claims_command)


def _engine(args: argparse.Namespace) -> Any:
    from smspec.tools.check.explore import make_engine

    name = args.engine or ("processes" if args.workers > 1 else "local")
    if args.scheduler and name != "dask":
        raise CliError("--scheduler needs --engine dask")
    if args.search == "dfs" and (name != "local" or args.workers > 1):
        raise CliError("--search dfs runs in one process (no --workers or --engine)")
    try:
        return make_engine(name, args.workers, args.scheduler)
    except (RuntimeError, OSError, ValueError) as error:
        raise CliError(str(error)) from None


def run_check(model: Any, bounds: dict[str, Any], args: argparse.Namespace) -> int:
    from smspec.tools.check.explore import explore, search

    if args.counterexample:
        check_output(args.counterexample, "--counterexample")
    engine = _engine(args)

    def progress(result: Any) -> None:
        if not args.quiet and not args.json:
            print(f"  level {result.depth}: {result.levels[-1]} states, {result.explored} explored, "
                  f"{result.seconds if result.seconds else 0:.0f} s", file=sys.stderr, flush=True)

    try:
        if args.search == "dfs":
            result = search(model, bounds, max_states=args.max_states)
        else:
            result = explore(model, bounds, engine=engine, max_states=args.max_states, progress=progress)
    finally:
        engine.close()
    report = result.summary()
    report["load"] = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    report["cpus"] = os.cpu_count()
    written = None
    if result.counterexample is not None:
        from smspec.tools.check.vectors import counterexample_document

        written = counterexample_document(model, result)
        report["minimised"] = written["minimised"]
        if args.counterexample:
            with open(args.counterexample, "w", encoding="utf-8") as handle:
                json.dump(written, handle, indent=1, sort_keys=True)
                handle.write("\n")
    if args.json:
        print(json.dumps(report, indent=1, sort_keys=True))
    else:
        verdict = "VIOLATED" if result.counterexample else ("holds" if result.complete else "holds so far (incomplete)")
        print(f"{model.name}: {verdict}: {result.explored} states explored, {result.distinct} distinct, "
              f"depth {result.depth}, {result.seconds:.1f} s ({result.engine}, {result.workers} worker(s), "
              f"load {report['load']})")
        if written is not None:
            for violation in written["minimised"]["violations"]:
                print(f"  {violation}")
            print(f"  minimised schedule ({len(written['minimised']['deviations'])} deviations from a quiet run):")
            for item in written["minimised"]["deviations"]:
                print(f"    {item}")
    return 1 if result.counterexample is not None else 0


def hare_command(args: argparse.Namespace) -> int:
    from smspec.tools.check.hare import HareBounds, HareModel

    if args.byzantine >= args.members:
        raise CliError("--byzantine must be below --members (at least one honest member)")
    bounds = HareBounds(members=args.members, byzantine=args.byzantine, iterations=args.iterations,
                        proposals=args.proposals, initial=args.initial, equivocation=args.equivocation,
                        late=args.late, synchrony=not args.no_synchrony)
    model = HareModel(bounds, invariants=args.invariants, wire="hare4" if args.hare4 else "hare3")
    return run_check(model, bounds.as_dict(), args)


def tortoise_command(args: argparse.Namespace) -> int:
    from smspec.tools.check.tortoise import TortoiseBounds, TortoiseModel

    if args.split >= args.honest and args.partition is not None:
        raise CliError("--partition needs honest smeshers on both sides: --split below --honest")
    if args.split > args.honest:
        raise CliError("--split must be at most --honest")
    partition = args.partition or (0, 0)
    if partition[0] + partition[1] > args.layers:
        raise CliError("--partition must heal within --layers (START + LENGTH <= LAYERS): convergence is "
                       "checked at the last layer")
    bounds = TortoiseBounds(layers=args.layers, honest=args.honest, split=args.split, byzantine=args.byzantine,
                            weight=args.weight, byzantine_weight=args.byzantine_weight, partition=partition,
                            hare=args.hare, coins=not args.no_coins, votes=args.votes)
    model = TortoiseModel(bounds, invariants=args.invariants)
    return run_check(model, bounds.as_dict(), args)


def claims_command(args: argparse.Namespace) -> int:
    from smspec.tools.check import claims

    ids = [claim.id for claim in claims.CLAIMS]
    if args.only is not None and args.only not in ids:
        raise CliError(f"--only: unknown claim {args.only!r}; choose from {', '.join(ids)}")
    progress = None if args.quiet else (lambda text: print(text, file=sys.stderr, flush=True))
    return claims.run(only=args.only, slow=args.slow, write=args.write, progress=progress)
