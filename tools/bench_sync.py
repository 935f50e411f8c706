"""Sync v2 (spec/sync.md): bytes and rounds of set reconciliation vs sending the set; spec vs impl time.

For each set size n and difference d, two sets of n random 32-byte IDs that differ in d IDs
(d/2 only on each side) are reconciled by two in-memory reconcilers, once with go-spacemesh's
defaults (MinHash on, max_diff 0.01: a sample showing more than 1% difference makes the range
go whole) and once with the recursive method only (max_diff off). Printed per run: round trips,
messages, bytes in both directions, and those bytes as a fraction of sending one whole set in
ItemBatches (32 bytes an ID plus batch headers). d = 0 must be found in one round trip.

Time: the same session on the spec's store (a sorted list: a range fingerprint costs one XOR per
ID of the range) and on the impl's FPTree (a prefix tree: a few node XORs per bound), the rest of
the reconciler being the spec's code in both; both must exchange identical messages. The spec
runs up to --spec-max IDs (its whole-set fingerprint alone costs n XORs per comparison); the
impl at every size. Store building is timed separately.
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

from smspec.tools.cli import CliError, integer, integer_list

MODES = {"minhash": {}, "recursive": {"max_diff": None}}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=integer_list(1, 10_000_000, "a set size", max_items=10),
                        default=[100_000, 1_000_000], help="set sizes n (default 100000,1000000)")
    parser.add_argument("--diffs", type=integer_list(0, 10_000_000, "a difference", max_items=10),
                        default=[0, 10, 1000, 10_000], help="differences d (default 0,10,1000,10000)")
    parser.add_argument("--spec-max", type=integer(0, 10_000_000, "a set size"), default=100_000,
                        help="largest n timed on the spec store as well (default 100000)")
    parser.add_argument("--seed", type=integer(0, 2**32 - 1, "a seed"), default=1, help="set generator seed")


def _sets(n: int, d: int, seed: int) -> tuple[dict[bytes, int], dict[bytes, int]]:
    rng = random.Random(f"{seed}/{n}/{d}")
    shared = {rng.randbytes(32): 0 for _ in range(n - d // 2)}
    only_a = {rng.randbytes(32): 0 for _ in range(d // 2)}
    only_b = {rng.randbytes(32): 0 for _ in range(d - d // 2)}
    return shared | only_a, shared | only_b


def _whole_set_bytes(sync: Any, n: int) -> int:
    """Bytes of one set sent as ItemBatches of the default chunk size."""
    chunk = sync.DEFAULT_ITEM_CHUNK_SIZE
    total = 0
    for start in range(0, n, chunk):
        count = min(chunk, n - start)
        total += 1 + len(sync.encode_compact(count, 32)) + 1 + 32 * count
    return total


def _session(sync: Any, stores: tuple[Any, Any], config: Any) -> tuple[list, float, Any, Any]:
    a = sync.Reconciler(stores[0], lambda key: True, config)
    b = sync.Reconciler(stores[1], lambda key: True, config)
    start = time.perf_counter()
    rounds = sync.sync_pair(a, b)
    return rounds, time.perf_counter() - start, a, b


def _build(sync: Any, a_items: dict, b_items: dict) -> tuple[tuple[Any, Any], float]:
    start = time.perf_counter()
    stores = (sync.new_item_store(a_items), sync.new_item_store(b_items))
    return stores, time.perf_counter() - start


def run(args: argparse.Namespace) -> None:
    from smspec.impl import registry
    from smspec.spec import sync

    too_big = [d for d in args.diffs if d > min(args.sizes)]
    if too_big:
        raise CliError(f"--diffs {too_big[0]} exceeds the smallest --sizes ({min(args.sizes)})")
    print(f"{'n':>9} {'d':>6} {'mode':9} {'rounds':>6} {'msgs':>7} {'bytes':>11} {'of set':>8} "
          f"{'spec s':>8} {'impl s':>8} {'impl/spec':>9}", flush=True)
    for n in args.sizes:
        whole = _whole_set_bytes(sync, n)
        for d in args.diffs:
            a_items, b_items = _sets(n, d, args.seed)
            union = len(set(a_items) | set(b_items))
            for mode, options in MODES.items():
                config = sync.SyncConfig(**options)
                results = {}
                builds = {}
                for backend in ("spec", "impl"):
                    if backend == "spec" and n > args.spec_max:
                        continue
                    registry.use_backend(backend)
                    try:
                        stores, builds[backend] = _build(sync, a_items, b_items)
                        rounds, seconds, a, b = _session(sync, stores, config)
                    finally:
                        registry.use_backend("spec")
                    if a.store.count() != union or b.store.count() != union:
                        raise CliError(f"{backend} store did not reach the union (n={n}, d={d}, {mode})")
                    results[backend] = (rounds, seconds, a.bytes_sent + b.bytes_sent)
                rounds, impl_seconds, total_bytes = results["impl"]
                if "spec" in results and results["spec"][0] != rounds:
                    raise CliError(f"spec and impl stores exchanged different messages (n={n}, d={d}, {mode})")
                if d == 0 and len(rounds) != 2:
                    raise CliError(f"equal sets took {len(rounds)} rounds, not one round trip")
                messages = sum(len(r) for r in rounds)
                spec_text = f"{results['spec'][1]:8.2f}" if "spec" in results else f"{'-':>8}"
                ratio = f"{results['spec'][1] / impl_seconds:8.1f}x" if "spec" in results else f"{'-':>9}"
                print(f"{n:9,} {d:6,} {mode:9} {len(rounds):6} {messages:7,} {total_bytes:11,} "
                      f"{total_bytes / whole:7.2%} {spec_text} {impl_seconds:8.2f} {ratio}", flush=True)
            build_text = ", ".join(f"{backend} {seconds:.2f} s" for backend, seconds in builds.items())
            print(f"{'':>9} {'':>6} building both stores: {build_text}", flush=True)
        print(f"{'':>9} sending the whole set of {n:,} IDs: {whole:,} bytes", flush=True)
