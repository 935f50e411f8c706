"""Hare simulated layers per second, spec vs impl, for a 400- and a 50-member committee.

Each measurement simulates whole layers on the deterministic network of tools/hare_sim.py: every
identity computes its eligibility (ECVRF proof, binomial CDF count) for every round, signs its
messages, and every receiving node decodes, verifies the signature and the VRF, validates the
count and runs the state machine (``--mode full``, the default). ``--mode light`` skips signatures
and VRFs and measures eligibility counting (``hare.eligibility_count`` of the backend) and the
protocol alone. Identities (as many as the
committee, weights 1..10) are hosted by ``--nodes`` honest nodes. The same configuration is run
with each backend in the same process (a fresh simulator each time; the impl caches start empty),
so the figures and their ratio are side by side.
"""

from __future__ import annotations

import argparse
import time

from smspec.tools.cli import CliError, integer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--committees", default="50,400", help="comma-separated committee sizes (default 50,400)")
    parser.add_argument("--layers", type=integer(1, 10_000, "a layer count"), default=1, help="layers per measurement (default 1)")
    parser.add_argument("--nodes", type=integer(1, 2000, "a node count"), default=4, help="honest nodes hosting the identities (default 4)")
    parser.add_argument("--mode", choices=("full", "light"), default="full",
                        help="full: signatures and VRFs; light: eligibility and protocol only (default full)")
    parser.add_argument("--backends", default="spec,impl", help="comma-separated backends to time (default spec,impl)")
    parser.add_argument("--hare4", action="store_true", help="simulate Hare 4 instead of Hare 3")
    parser.add_argument("--seed", type=integer(0, 2**64 - 1, "a seed"), default=1, help="simulation seed (default 1)")


def run(args: argparse.Namespace) -> None:
    from smspec import spec
    from smspec.impl import registry
    from smspec.tools.hare_sim import SimConfig, Simulator

    try:
        committees = [int(c) for c in args.committees.split(",") if c.strip()]
    except ValueError:
        raise CliError(f"--committees: expected comma-separated integers, got {args.committees!r}") from None
    if not committees or any(c < 2 or c > 2000 for c in committees):
        raise CliError("--committees: sizes between 2 and 2000")
    if args.layers < 1 or args.nodes < 1:
        raise CliError("--layers and --nodes must be positive")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends:
        raise CliError("--backends: name at least one backend (spec, impl)")
    for backend in backends:
        if backend not in ("spec", "impl"):
            raise CliError(f"unknown backend {backend!r} (expected spec or impl)")
    previous = registry.active_backend()
    print(f"hare{'4' if args.hare4 else '3'} {args.mode} mode, {args.nodes} nodes, {args.layers} layer(s) per run")
    try:
        for committee in committees:
            rates: dict[str, float] = {}
            cpu_rates: dict[str, float] = {}
            for backend in backends:
                registry.use_backend(backend)
                registry.check_backend()  # every spec module, including hare's imports from crypto
                config = SimConfig(members=committee, committee=committee, nodes=args.nodes, hare4=args.hare4,
                                   full_crypto=args.mode == "full", seed=args.seed, layers=args.layers,
                                   memo_eligibility=False)
                sim = Simulator(config, spec.load("hare"), spec.load("hare4"), spec.load("crypto"))
                start, cpu_start = time.perf_counter(), time.process_time()
                decided = 0
                messages = 0
                for k in range(args.layers):
                    outcome = sim.run_layer(config.first_layer + k)
                    decided += outcome.decided
                    messages += outcome.stats["messages_sent"]
                elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
                rates[backend] = args.layers / elapsed
                cpu_rates[backend] = args.layers / max(cpu, 1e-9)
                print(f"committee {committee:4d} {backend:4s}: {rates[backend]:9.4f} layers/s "
                      f"({elapsed:7.2f} s, {cpu:7.2f} CPU-s, {messages} messages, "
                      f"{decided}/{args.layers} layers decided)", flush=True)
            if "spec" in rates and "impl" in rates:
                print(f"committee {committee:4d} impl/spec: {rates['impl'] / rates['spec']:.1f}x "
                      f"(per CPU-second: {cpu_rates['impl'] / cpu_rates['spec']:.1f}x)")
    finally:
        registry.use_backend(previous)
