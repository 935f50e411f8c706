"""``smspec hare``: Hare eligibility and network simulation (spec/hare.md, spec/hare4.md)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from smspec.tools.cli import CliError, integer, set_backend_from_args

MAX_U64 = 2**64 - 1
MAX_U16 = 2**16 - 1  # counts and committee sizes are uint16 (spec/hare.md MAX_COUNT)


def _proof(text: str) -> bytes:
    cleaned = text[2:] if text.lower().startswith("0x") else text
    try:
        data = bytes.fromhex(cleaned)
    except ValueError:
        raise CliError(f"--vrf-proof: not hex: {text!r}") from None
    if not 8 <= len(data) <= 80:
        raise CliError(f"--vrf-proof: expected 8 to 80 bytes (an 80-byte ECVRF proof; shorter is zero-filled), got {len(data)}")
    return data.ljust(80, b"\0")


def _u64(value: int, option: str) -> int:
    if not 0 <= value <= MAX_U64:
        raise CliError(f"{option}: expected an unsigned 64-bit integer, got {value}")
    return value


def eligibility_command(args: argparse.Namespace) -> int:
    from smspec import spec

    set_backend_from_args(args)
    hare = spec.load("hare")
    proof = _proof(args.vrf_proof)
    weight = _u64(args.weight, "--weight")
    total = _u64(args.total_weight, "--total-weight")
    committee = args.committee
    if not 0 <= committee <= 65535:
        raise CliError(f"--committee: expected 0..65535 (uint16), got {committee}")
    if weight > total:
        raise CliError(f"--weight {weight} is larger than --total-weight {total}")
    try:
        count = hare.eligibility_count(proof, weight, total, committee)
        valid = None if args.count is None else hare.validate_eligibility_count(proof, weight, total, committee, args.count)
    except hare.EligibilityError as error:
        raise CliError(f"eligibility: {error.reason} ({error.detail})") from None
    if args.json:
        out: dict[str, Any] = {"count": count, "vrf_fraction": f"0x{hare.vrf_fraction(proof).raw:014x}"}
        if valid is not None:
            out["valid"] = valid
        print(json.dumps(out))
    elif valid is None:
        print(count)
    else:
        print(f"{count} (claimed count {args.count} is {'valid' if valid else 'invalid'})")
    return 1 if valid is False else 0


def simulate_command(args: argparse.Namespace) -> int:
    from smspec import spec
    from smspec.tools.hare_sim import BEHAVIOURS, SimConfig, Simulator
    from tqdm import tqdm

    set_backend_from_args(args)
    if not 1 <= args.members <= 2000:
        raise CliError("--members must be between 1 and 2000")
    if not 0 <= args.byzantine < args.members:
        raise CliError("--byzantine must be at least 0 and below --members (at least one honest identity)")
    if not 1 <= args.layers <= 10_000:
        raise CliError("--layers must be between 1 and 10000")
    behaviours = tuple(b.strip() for b in args.behaviours.split(",") if b.strip())
    for kind in behaviours or ("",):
        if kind not in BEHAVIOURS:
            raise CliError(f"--behaviours: unknown behaviour {kind!r}; choose from {', '.join(BEHAVIOURS)}")
    if args.committee is not None and not 1 <= args.committee <= 65535:
        raise CliError("--committee must be between 1 and 65535")
    if not 1 <= args.max_delay_ms <= 100_000 or not 1 <= args.max_weight <= 2**20:
        raise CliError("--max-delay-ms must be 1..100000 and --max-weight 1..2^20")
    config = SimConfig(
        members=args.members, byzantine=args.byzantine, behaviours=behaviours, layers=args.layers, seed=args.seed,
        committee=args.committee, nodes=args.nodes, hare4=args.hare4, full_crypto=args.full_crypto,
        max_delay_ms=args.max_delay_ms, max_weight=args.max_weight, partition=args.partition,
        proposals_per_layer=args.proposals,
    )
    sim = Simulator(config, spec.load("hare"), spec.load("hare4"), spec.load("crypto"))
    rows = []
    for k in tqdm(range(args.layers), desc="layers", unit="layer", disable=args.quiet or args.json, leave=False):
        outcome = sim.run_layer(config.first_layer + k)
        results = [r for r in outcome.results.values() if r is not None]
        iterations = sorted({i for i in outcome.result_iter.values() if i is not None})
        coins = sorted({c for c in outcome.coins.values() if c is not None})
        drops = {k[len("dropped_"):]: v for k, v in sorted(outcome.stats.items()) if k.startswith("dropped_")}
        rows.append({
            "layer": outcome.layer, "decided": len(results), "honest_nodes": len(outcome.results),
            "agreed": outcome.agreed, "result_size": len(results[0]) if results else None,
            "result_is_initial": bool(results) and results[0] == outcome.initial,
            "iterations": iterations, "coins": coins,
            "messages": outcome.stats["messages_sent"], "bytes": outcome.stats["bytes_sent"],
            "deliveries": outcome.stats["deliveries"], "equivocations": outcome.stats["equivocation_proofs"],
            "dropped": drops,
        })
    if args.json:
        print(json.dumps({"config": {"members": args.members, "byzantine": args.byzantine, "seed": args.seed,
                                     "hare4": args.hare4, "committee": sim.committee}, "layers": rows}, indent=1))
        return 0
    print(f"hare{'4' if args.hare4 else '3'}: {args.members} identities ({args.byzantine} byzantine: "
          f"{','.join(behaviours) if args.byzantine else '-'}), committee {sim.committee}, "
          f"threshold {sim.committee // 2 + 1}, {len(sim.honest_nodes)} honest nodes, seed {args.seed}")
    for row in rows:
        outcome_text = "no result" if not row["decided"] else (
            f"result of {row['result_size']} IDs{' (= initial set)' if row['result_is_initial'] else ''}"
            f" at iteration {','.join(map(str, row['iterations']))}")
        agreement = "agreed" if row["agreed"] else "DISAGREEMENT"
        drops = " ".join(f"{k}={v}" for k, v in row["dropped"].items()) or "none"
        print(f"layer {row['layer']}: {row['decided']}/{row['honest_nodes']} decided, {agreement}, {outcome_text}, "
              f"coin {row['coins'] or '-'} | {row['messages']} msgs {row['bytes']} B, {row['deliveries']} deliveries, "
              f"{row['equivocations']} equivocation proofs, dropped: {drops}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "hare", help="Hare eligibility and network simulation (spec/hare.md)",
        description="Hare 3/4 consensus: compute eligibility counts and simulate a network of honest and "
        "byzantine participants.",
    )
    sub = parser.add_subparsers(dest="hare_command", metavar="COMMAND")

    elig = sub.add_parser("eligibility", help="eligibility count from a VRF proof",
                          description="The number of committee seats a VRF proof gives an identity (CalcEligibility), "
                          "computed with the spacemeshos/fixed binomial CDF. Only the first 7 proof bytes matter. With --count, "
                          "exit status 1 when the claimed count is invalid.")
    elig.add_argument("--vrf-proof", required=True, metavar="HEX", help="the ECVRF proof (80 bytes; shorter is zero-filled)")
    elig.add_argument("--weight", type=integer(0, MAX_U64, "a u64 weight"), required=True, metavar="W", help="the identity's ATX weight")
    elig.add_argument("--total-weight", type=integer(0, MAX_U64, "a u64 weight"), required=True, metavar="T", help="total weight of the active set")
    elig.add_argument("--committee", type=integer(0, MAX_U16, "a u16 committee size"), required=True, metavar="C",
                      help="expected committee size (50 on mainnet since layer 105720, 5 for propose)")
    elig.add_argument("--count", type=integer(0, MAX_U16, "a u16 count"), default=None, metavar="X", help="also validate a claimed count X")
    elig.add_argument("--json", action="store_true", help="print JSON")
    elig.add_argument("--backend", choices=("spec", "impl"), default="impl", help="implementation to run (default impl)")
    elig.set_defaults(func=eligibility_command)

    sim = sub.add_parser("simulate", help="simulate Hare on a seeded network",
                         description="Deterministic discrete-event simulation (smspec.tools.hare_sim): per layer, how "
                         "many honest nodes decided, whether they agree, and message statistics.")
    sim.add_argument("--members", type=integer(1, 2000, "a member count"), required=True, metavar="N", help="number of identities")
    sim.add_argument("--byzantine", type=integer(0, 1999, "a byzantine count"), default=0, metavar="F", help="how many identities are byzantine (default 0)")
    sim.add_argument("--layers", type=integer(1, 10_000, "a layer count"), default=1, metavar="L", help="layers to simulate (default 1)")
    sim.add_argument("--seed", type=integer(0, MAX_U64, "a seed"), default=0, metavar="S", help="random seed (default 0)")
    sim.add_argument("--hare4", action="store_true", help="Hare 4 (compact preround IDs) instead of Hare 3")
    sim.add_argument("--committee", type=integer(1, MAX_U16, "a committee size"), default=None, metavar="C", help="committee size (default: --members)")
    sim.add_argument("--behaviours", default="equivocate", metavar="LIST",
                     help="comma-separated byzantine behaviours, cycled: silent, equivocate, delay, late, oversized, "
                     "malformed, split (default equivocate)")
    sim.add_argument("--nodes", type=integer(1, 2000, "a node count"), default=None, metavar="K", help="honest nodes hosting the honest identities "
                     "(default one per identity)")
    sim.add_argument("--full-crypto", action="store_true", help="sign, VRF-prove and fully validate every message (slow)")
    sim.add_argument("--max-delay-ms", type=integer(1, 100_000, "milliseconds"), default=300, help="largest network delay in ms (rounds last 1000 ms)")
    sim.add_argument("--max-weight", type=integer(1, 2**20, "a weight"), default=10, help="identity weights are drawn from 1..W (default 10)")
    sim.add_argument("--proposals", type=integer(0, 1000, "a proposal count"), default=5, help="proposals per layer (default 5)")
    sim.add_argument("--partition", action="store_true", help="split the honest nodes into two halves that hear each "
                     "other only 3 rounds late (breaks synchrony)")
    sim.add_argument("--json", action="store_true", help="print JSON")
    sim.add_argument("--quiet", action="store_true", help="no progress bar")
    sim.add_argument("--backend", choices=("spec", "impl"), default="impl", help="implementation to run (default impl)")
    sim.set_defaults(func=simulate_command)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)
