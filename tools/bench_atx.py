"""ATX v2 validation throughput (ATXs per second), spec against impl, measured side by side.

The workloads are a solo ATX, a marriage ATX and merged ATXs of several sizes, each validated
against the same prepared in-memory store (``validate_atx_v2``: signature, positioning, marriages,
previous ATXs, PoET membership, units and weight). PoST verification, whose cost is the label
recomputation of spec/post.md, is excluded: the vectors' stub verifier stands in for it. Decoding
plus ID computation is measured separately. "impl" is the impl backend: impl/atx.py's decoder,
encoder and ID, with every other impl replacement in force (impl/crypto.py signatures, Merkle).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from smspec.tools.cli import integer_list, real
from tqdm import tqdm


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=real(0.001, 3600, "seconds"), default=1.0, help="minimum seconds per measurement (default 1)")
    parser.add_argument("--sizes", type=integer_list(2, 256, "merged ATX size"), default=[2, 16, 64], help="merged ATX sizes, comma separated (default 2,16,64)")
    parser.add_argument("--scheme", choices=("a", "b"), default="a", help="ATX ID scheme (default a, v1.7.6)")


def rate(function: Callable[[], object], seconds: float) -> float:
    """Calls per second of `function`, over at least `seconds`."""
    function()
    count = 0
    start = time.perf_counter()
    while True:
        function()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed


def run(args: argparse.Namespace) -> None:
    from smspec.impl import registry
    from smspec.tests.spec.atx.builders import Member, World, atx, married_group

    sizes = list(args.sizes)
    scheme = atx.IdScheme(args.scheme)
    registry.use_backend("impl")  # building the scenario is faster with the impl
    world = World(scheme)
    group = married_group(world, max(sizes + [2]))
    names, latest, marriage = group["names"], group["latest"], group["marriage"]
    workloads = [("solo", world.solo(names[0], 4, latest[names[0]]))]
    wedding = group["wedding"]
    workloads.append((f"marriage ({len(wedding.marriages)} certificates)", wedding))
    for size in sizes:
        members = [Member(name, i, latest[name], 4) for i, name in enumerate(names[:size])]
        workloads.append((f"merged, {size} identities", world.merged(names[0], 4, marriage, members, positioning=marriage)))
    blobs = [(label, atx.encode_atx_v2(value)) for label, value in workloads]

    def validation(value):
        store = world.store
        if value is wedding:  # validate the marriage ATX as if it were new
            from smspec.spec.atx import MemoryAtxStore

            store = MemoryAtxStore(atxs={k: v for k, v in world.store.atxs.items() if k != atx.atx_id_v2(value, scheme)},
                                   poet_proofs=world.store.poet_proofs)
        return lambda: atx.validate_atx_v2(value, store, world.config, world.verifier)

    results = []
    for label, value in tqdm(workloads, desc="validate", unit="workload"):
        row = [label]
        for backend in ("spec", "impl"):
            registry.use_backend(backend)
            row.append(rate(validation(value), args.seconds))
        results.append(row)
    def decode_and_id(blob: bytes) -> Callable[[], object]:
        return lambda: atx.atx_id_v2(atx.decode_atx_v2(blob), scheme)

    decode_results = []
    for label, blob in tqdm(blobs, desc="decode+id", unit="workload"):
        row = [label]
        for backend in ("spec", "impl"):
            registry.use_backend(backend)
            row.append(rate(decode_and_id(blob), args.seconds))
        decode_results.append(row)
    registry.use_backend("spec")

    print(f"ATX v2 validation, ID scheme {args.scheme.upper()}, PoST verification stubbed (ATXs per second)")
    print(f"  {'workload':<32} {'spec':>10} {'impl':>10} {'impl/spec':>10}")
    for label, spec_rate, impl_rate in results:
        print(f"  {label:<32} {spec_rate:>10.1f} {impl_rate:>10.1f} {impl_rate / spec_rate:>9.1f}x")
    print("decode + ID (per second)")
    for label, spec_rate, impl_rate in decode_results:
        print(f"  {label:<32} {spec_rate:>10.1f} {impl_rate:>10.1f} {impl_rate / spec_rate:>9.1f}x")
