"""Best-labels PoST: estimator statistics and proving throughput (GiB/s) against today's prover.

Statistics (Monte Carlo on the exact law of the K-th lowest score, weights from the spec's
integer estimator): split vs merged mean weight with a 95 % confidence interval, mean and
relative standard deviation against 1/sqrt(K-2) for several K, the effect of dropping a
fraction f of the data, and spot-check detection rates against the exact formula.

Throughput, on the same random label data, in one run: the best-labels pass (spec, impl numpy,
gpu OpenCL when a device exists) against today's pass (``find_passing_nonce`` of spec/post.md on
a sample, and of impl/post.py, the PoST engineer's batched-AES prover, on all of it), with
difficulty 0 so that nothing passes and no pass is cut short.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from smspec import spec
from smspec.tools.cli import integer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trials", type=integer(1, 10**7, "a trial count"), default=4000, help="Monte Carlo trials per statistic (default 4000)")
    parser.add_argument("--mib", type=integer(1, 2**14, "MiB"), default=64, help="MiB of labels for the fast backends (default 64)")
    parser.add_argument("--spec-kib", type=integer(1, 2**20, "KiB"), default=64, help="KiB of labels for the pure-Python spec passes (default 64)")
    parser.add_argument("--nonces", type=integer(16, 2**16, "a nonce count"), default=288, help="nonces per pass of today's prover (default 288, mainnet)")
    parser.add_argument("--k", type=integer(1, 2**20, "K"), default=None, help="K for the throughput runs (default: mainnet POST_BEST_K)")
    parser.add_argument("--no-stats", action="store_true", help="skip the statistics")
    parser.add_argument("--no-throughput", action="store_true", help="skip the throughput runs")


def run(args: argparse.Namespace) -> None:
    pb = spec.load("post_best", "mainnet")
    if not args.no_stats:
        statistics(pb, args.trials)
    if not args.no_throughput:
        throughput(pb, args)


# ----------------------------------------------------------------------------------------------


def statistics(pb, trials: int) -> None:
    from smspec.tools import post_best_stats as stats

    n = 2**36  # 16 SU of mainnet labels
    print(f"(1) split vs merged: {n} labels, mean weight of the sum of the parts' proofs / one proof, {trials} trials")
    print(f"    {'K':>6} {'parts':>6} {'ratio':>8} {'95% CI':>20} {'sd merged':>10} {'sd split':>9}")
    for k in (64, pb.POST_BEST_K):
        for parts in (2, 16, 256):
            merged, split = stats.merged_vs_split(pb, n, parts, k, trials, seed=parts * 7 + k)
            r = stats.ratio_of_means(split, merged)
            print(f"    {k:>6} {parts:>6} {r.value:>8.4f} [{r.low:.4f}, {r.high:.4f}]"
                  f" {merged.std() / n:>10.4f} {split.std() / n:>9.4f}")
    print(f"\n(2) estimator: mean weight / true labels and relative sd vs 1/sqrt(K-2) (capped at 2x; {trials} trials)")
    print(f"    {'K':>6} {'mean':>8} {'+-2se':>7} {'rsd':>8} {'theory':>8} {'ratio':>6}")
    for k in (4, 16, 64, 256, 1024, 4096):
        s = stats.estimator_spread(pb, n, k, trials, seed=k, capped=k >= 16)
        print(f"    {k:>6} {s.mean:>8.4f} {2 * s.mean_se:>7.4f} {s.rsd:>8.4f} {s.rsd_theory:>8.4f} {s.rsd / s.rsd_theory:>6.3f}"
              + ("   (uncapped: the cap takes ~8 % off at K = 4)" if k < 16 else ""))
    print(f"\n(3) dropping a fraction f of the data: mean weight / full size (K = 64, {trials} trials)")
    print(f"    {'f':>6} {'mean':>8} {'expected':>9} {'+-2se':>7}")
    for f in (0.0, 0.1, 0.25, 0.5, 0.9):
        s = stats.estimator_spread(pb, n, 64, trials, seed=int(100 * f) + 1, kept=1 - f)
        print(f"    {f:>6.2f} {s.mean:>8.4f} {1 - f:>9.4f} {2 * s.mean_se:>7.4f}")
    print("\n(5) spot checks: share of verifiers that miss every forged entry, measured vs exact")
    print(f"    {'K':>6} {'K3':>4} {'forged':>7} {'measured':>9} {'exact':>9} {'(1-F/K)^K3':>11}")
    verifiers = max(1000, trials // 2)
    for k, k3, forged in ((pb.POST_BEST_K, pb.POST_BEST_K3, pb.POST_BEST_K // 2), (pb.POST_BEST_K, pb.POST_BEST_K3, pb.POST_BEST_K // 11),
                          (pb.POST_BEST_K, 1, pb.POST_BEST_K // 2), (16, 4, 4)):
        rng = np.random.default_rng(k + forged)
        positions = set(int(p) for p in rng.choice(k, size=forged, replace=False))
        miss = stats.measured_miss_rate(pb, k, k3, positions, verifiers)
        print(f"    {k:>6} {k3:>4} {forged:>7} {miss:>9.4f} {stats.miss_probability(k, k3, forged):>9.4f}"
              f" {(1 - forged / k) ** k3:>11.4f}")
    print()


# ----------------------------------------------------------------------------------------------


def _timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def _chunks(pb, data: bytes, chunk_bytes: int = 1 << 20):
    return [pb.LabelChunk(identity=0, first_index=start // 16, data=data[start:start + chunk_bytes])
            for start in range(0, len(data), chunk_bytes)]


def throughput(pb, args: argparse.Namespace) -> None:
    post = spec.load("post", "mainnet")
    k = args.k or pb.POST_BEST_K
    gib = 2**30
    rng = np.random.default_rng(1)
    big = rng.integers(0, 256, size=args.mib << 20, dtype=np.uint8).tobytes()
    small = big[: args.spec_kib << 10]
    challenge = bytes(range(32))
    identity = pb.BestIdentity(node_id=bytes(32), commitment_atx_id=bytes(32), num_units=4)
    print(f"throughput: best-labels pass (K = {k}) vs today's pass ({args.nonces} nonces, difficulty 0: a full pass)")
    rows = []

    def add(name: str, seconds: float, size: int) -> float:
        rate = size / seconds / gib
        rows.append((name, size, seconds, rate))
        return rate

    from smspec.impl import post_best as impl

    spec_prove = pb.__dict__.get("__spec_originals__", {}).get("prove_best") or pb.prove_best
    spec_best = add("best labels, spec (pure Python)", _timed(spec_prove, [identity], _chunks(pb, small), challenge, min(k, len(small) // 16)), len(small))
    impl_prove = impl.make_prover(pb, impl.score_chunk)
    impl_best = add("best labels, impl (numpy, 1 MiB chunks)", _timed(impl_prove, [identity], iter(_chunks(pb, big)), challenge, k), len(big))
    gpu_best = None
    from smspec.gpu import opencl_available

    if opencl_available():
        from smspec.gpu import post_best as gpu

        gpu.score_chunk(bytes(16), bytes(16))  # build the program outside the timing
        gpu_prove = impl.make_prover(pb, gpu.score_chunk)
        gpu_chunks = _chunks(pb, big, 16 << 20)
        gpu_best = add("best labels, gpu (OpenCL, 16 MiB chunks)", _timed(gpu_prove, [identity], iter(gpu_chunks), challenge, k), len(big))
    spec_pass = post.__dict__.get("__spec_originals__", {}).get("find_passing_nonce") or post.find_passing_nonce
    today_small = small[: max(16 * 8, len(small) // max(1, args.nonces // 16))]
    pows = [0] * (args.nonces // 16)
    spec_today = add(f"today's pass, spec find_passing_nonce ({args.nonces} nonces)",
                     _timed(spec_pass, today_small, challenge, 0, args.nonces, pows, 0, 37), len(today_small))
    from smspec.impl import post as post_impl

    numpy_today = add(f"today's pass, impl find_passing_nonce ({args.nonces // 16} AES/label)",
                      _timed(post_impl.find_passing_nonce, big, challenge, 0, args.nonces, pows, 0, 37), len(big))
    print(f"    {'what':<52} {'bytes':>11} {'seconds':>8} {'GiB/s':>8}")
    for name, size, seconds, rate in rows:
        print(f"    {name:<52} {size:>11} {seconds:>8.3f} {rate:>8.4f}")
    print("ratios (best labels / today, same backend kind):")
    print(f"    spec:  {spec_best / spec_today:8.1f}x")
    print(f"    numpy: {impl_best / numpy_today:8.1f}x   (today's pass costs {args.nonces // 16} AES per label, best labels 1)")
    if gpu_best is not None:
        print(f"    gpu / impl (best labels): {gpu_best / impl_best:8.2f}x  (device: {_device_name()})")
    print(f"    impl / spec (best labels): {impl_best / spec_best:8.0f}x")


def _device_name() -> str:
    from smspec.gpu.post_best import _context

    context, _, _ = _context()
    return context.devices[0].name.strip()
