"""Crypto primitives: throughput of the spec and the impl, side by side, and their ratio.

Workloads: ECVRF prove, verify and proof-to-hash (RFC 9381 ELL2, a 13-byte Hare-style alpha),
Ed25519 sign and verify over go-spacemesh's signed bytes, and a Merkle root over 1,024 32-byte
leaves with go-spacemesh's node hash. Each workload is first checked to give identical results
on both backends. Rates are calls per second of CPU time (the machine may be shared), the
median of ``--rounds`` rounds, each round measuring spec and impl back to back; the ratio is
impl/spec.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from smspec.tools import benchtable
from smspec.tools.cli import integer, real
from tqdm import tqdm


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=real(0.001, 3600, "seconds"), default=0.5,
                        help="time spent measuring each workload and backend per round (default 0.5)")
    parser.add_argument("--rounds", type=integer(1, 1000, "a round count"), default=3,
                        help="alternating spec/impl rounds per workload; the median is kept (default 3)")
    parser.add_argument("--leaves", type=integer(1, 2**20, "a leaf count"), default=1024,
                        help="number of leaves of the Merkle workload (default 1024)")


def _backends() -> tuple[Any, dict[str, Callable[..., Any]]]:
    """The unpatched spec module's functions and the impl replacements."""
    from smspec.impl import registry
    from smspec.spec import crypto

    originals = crypto.__dict__.get("__spec_originals__", {})
    spec_functions = {name: originals.get(name, getattr(crypto, name)) for name in dir(crypto)}
    impl_functions = {}
    for r in registry.replacements("impl"):
        if r.module == "crypto":
            impl_functions[r.name] = r.function(crypto) if r.factory else r.function
    return crypto, {"spec": spec_functions, "impl": {**spec_functions, **impl_functions}}  # type: ignore[dict-item]


def run(args: argparse.Namespace) -> None:
    from smspec.tools.cli import CliError

    if args.seconds <= 0 or args.rounds < 1 or args.leaves < 1:
        raise CliError("--seconds must be > 0, --rounds >= 1 and --leaves >= 1")
    crypto, backends = _backends()
    seed = bytes(range(32))
    alpha = bytes.fromhex("0801000000") + bytes(8)
    genesis = bytes.fromhex("9eebff023abb17ccb775c602daade8ed708f0a50")
    message = bytes(range(36))
    public = crypto.public_key(seed)
    proof = crypto.vrf_prove(seed, alpha)
    signed = crypto.signed_bytes(crypto.Domain.HARE, genesis, message)
    signature = crypto.ed25519_sign(seed, signed)
    leaves = [i.to_bytes(32, "little") for i in range(args.leaves)]

    def workloads(f: dict[str, Callable[..., Any]]) -> dict[str, Callable[[], Any]]:
        return {
            "vrf prove": lambda: f["vrf_prove"](seed, alpha),
            "vrf verify": lambda: f["vrf_verify"](public, proof, alpha),
            "vrf proof_to_hash": lambda: f["vrf_proof_to_hash"](proof),
            "ed25519 sign (genesis|domain|msg)": lambda: f["ed25519_sign"](seed, signed),
            "ed25519 verify": lambda: f["ed25519_verify"](public, signed, signature),
            f"merkle root, {args.leaves} leaves": lambda: f["merkle_root"](leaves),
        }

    spec_work, impl_work = workloads(backends["spec"]), workloads(backends["impl"])
    for name in spec_work:
        if spec_work[name]() != impl_work[name]():
            raise CliError(f"backends disagree on workload {name!r}")
    print(f"{'workload':<36} {'spec/CPU-s':>12} {'impl/CPU-s':>12} {'impl/spec':>10}")
    for name in tqdm(list(spec_work), desc="crypto bench", leave=False):
        rates: dict[str, list[float]] = {"spec": [], "impl": []}
        for _ in range(args.rounds):
            rates["spec"].append(cpu_rate(spec_work[name], args.seconds))
            rates["impl"].append(cpu_rate(impl_work[name], args.seconds))
        spec_rate, impl_rate = benchtable.median(rates["spec"]), benchtable.median(rates["impl"])
        benchtable.record("crypto", name, "calls per CPU-s", impl_rate, "the spec (same run)", spec_rate)
        tqdm.write(f"{name:<36} {spec_rate:>12,.1f} {impl_rate:>12,.1f} {impl_rate / spec_rate:>9.1f}x")


def cpu_rate(function: Callable[[], Any], seconds: float) -> float:
    """Calls per CPU-second of ``function``, called for about ``seconds`` of CPU time."""
    calls = 0
    start = time.process_time()
    while True:
        function()
        calls += 1
        elapsed = time.process_time() - start
        if elapsed >= seconds:
            return calls / elapsed
