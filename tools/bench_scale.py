"""SCALE codec: encode/decode throughput of the spec and the impl, side by side, and their ratio.

Workloads: compact integers (a mix of all four modes), a small two-field struct (the wallet
SpendPayload of go-spacemesh), and a Hare preround message with 50 proposal IDs (hare.md §2.2
layout: compacts, a slice of 20-byte IDs, an option, fixed byte arrays). Each workload is first
checked to give identical bytes and values on both backends.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import attrs
from smspec.tools.cli import integer, real


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=real(0.001, 3600, "seconds"), default=0.5,
                        help="time spent measuring each workload and backend (default 0.5)")
    parser.add_argument("--rounds", type=integer(1, 1000, "a round count"), default=5,
                        help="alternating spec/impl rounds per measurement; the best is kept (default 5)")


def _rate(function: Callable[[], Any], seconds: float) -> float:
    """Calls per second of ``function``, measured for about ``seconds``."""
    calls = 0
    batch = 1
    start = time.perf_counter()
    elapsed = 0.0
    while elapsed < seconds:
        for _ in range(batch):
            function()
        calls += batch
        batch = min(batch * 2, 4096)
        elapsed = time.perf_counter() - start
    return calls / elapsed


def _workloads(scale: Any) -> list[tuple[str, Any, Any]]:
    @attrs.frozen
    class SpendPayload:
        nonce: int = scale.scale_field(scale.Compact64)
        gas_price: int = scale.scale_field(scale.Compact64)

    @attrs.frozen
    class Value:
        proposals: list[bytes] = scale.scale_field(scale.Slice(scale.Bytes(20), 2350))
        reference: bytes | None = scale.scale_field(scale.Option(scale.Bytes(32)))

    @attrs.frozen
    class Eligibility:
        proof: bytes = scale.scale_field(scale.Bytes(80))
        count: int = scale.scale_field(scale.Compact16)

    @attrs.frozen
    class Body:
        layer: int = scale.scale_field(scale.Compact32)
        iteration: int = scale.scale_field(scale.Compact8)
        round: int = scale.scale_field(scale.Compact8)
        value: Value = scale.scale_field(Value)
        eligibility: Eligibility = scale.scale_field(Eligibility)

    @attrs.frozen
    class Message:
        body: Body = scale.scale_field(Body)
        sender: bytes = scale.scale_field(scale.Bytes(32))
        signature: bytes = scale.scale_field(scale.Bytes(64))

    compacts = scale.Slice(scale.Compact64, 100)
    numbers = [7, 300, 70000, 2**31 + 5, 2**50] * 20
    message = Message(
        body=Body(layer=105720, iteration=0, round=2,
                  value=Value([bytes([i]) * 20 for i in range(50)], None),
                  eligibility=Eligibility(bytes(80), 3)),
        sender=bytes(range(32)), signature=bytes(64),
    )
    return [
        ("100 compact64 (all modes)", numbers, compacts),
        ("SpendPayload struct", SpendPayload(1543, 111222333), SpendPayload),
        ("Hare message, 50 IDs", message, Message),
    ]


def run(args: argparse.Namespace) -> None:
    from smspec.impl import registry
    from smspec.impl import scale as impl
    from smspec.spec import scale
    from smspec.tools.cli import CliError

    if args.seconds <= 0:
        raise CliError("--seconds must be positive")
    if args.rounds < 1:
        raise CliError("--rounds must be at least 1")
    previous = registry.active_backend()
    registry.use_backend("spec")  # the spec side must run unpatched
    try:
        print(f"{'workload':28} {'op':6} {'spec ops/s':>12} {'impl ops/s':>12} {'impl/spec':>10}")
        for name, value, codec in _workloads(scale):
            data = scale.encode(value, codec)
            if impl.encode(value, codec) != data or impl.decode(data, codec) != scale.decode(data, codec):
                raise CliError(f"impl and spec disagree on {name}")
            for op, spec_call, impl_call in (
                ("encode", lambda v=value, c=codec: scale.encode(v, c), lambda v=value, c=codec: impl.encode(v, c)),
                ("decode", lambda d=data, c=codec: scale.decode(d, c), lambda d=data, c=codec: impl.decode(d, c)),
            ):
                # Alternate short rounds and keep each side's best, so load changes on a
                # shared machine hit both sides alike.
                spec_rate = impl_rate = 0.0
                for _ in range(args.rounds):
                    spec_rate = max(spec_rate, _rate(spec_call, args.seconds / args.rounds))
                    impl_rate = max(impl_rate, _rate(impl_call, args.seconds / args.rounds))
                print(f"{name:28} {op:6} {spec_rate:12,.0f} {impl_rate:12,.0f} {impl_rate / spec_rate:9.1f}x")
    finally:
        registry.use_backend(previous)
