"""PoST (spec/post.md): initialization labels/s and proving GiB/s, spec vs impl vs OpenCL.

Initialization: the same label range at scrypt N (default 8192, mainnet) computed by the readable
spec, the numpy impl and the OpenCL kernel (pocl on the CPU here, or a GPU). Each line gives
labels/s of wall time, labels per CPU-second of this process (the per-core figure: pocl and numpy
threads are included) and the ratio to the spec. The physical anchor is the C scrypt-jane, about
700 labels/s on one core of this kind of machine.

Proving: one pass of the label test over random labels with the mainnet 4-SU difficulty (so that
almost nothing passes and the pass is never cut short), for 16 and 288 nonces, by the impl
(batched AES-NI through pycryptodome, one thread) and by the spec on a small sample. Anchor:
post-rs reports about 0.19 GiB/s per thread with 64 nonces on an Apple M1.
"""

from __future__ import annotations

import argparse
import os
import time

from smspec import spec
from smspec.tools.cli import integer

C_ANCHOR_LABELS_PER_CORE = 700


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scrypt-n", type=integer(2, 2**20, "scrypt N"), default=8192, help="scrypt N for the init runs (default 8192)")
    parser.add_argument("--spec-labels", type=integer(1, 2**20, "a label count"), default=2, help="labels for the spec run (default 2)")
    parser.add_argument("--impl-labels", type=integer(1, 2**24, "a label count"), default=256, help="labels for the numpy run (default 256)")
    parser.add_argument("--opencl-labels", type=integer(1, 2**26, "a label count"), default=1024, help="labels for the OpenCL run (default 1024)")
    parser.add_argument("--mib", type=integer(1, 2**14, "MiB"), default=32, help="MiB of labels for the impl proving runs (default 32)")
    parser.add_argument("--spec-kib", type=integer(1, 2**20, "KiB"), default=4, help="KiB of labels for the spec proving runs (default 4)")
    parser.add_argument("--no-init", action="store_true", help="skip the initialization runs")
    parser.add_argument("--no-prove", action="store_true", help="skip the proving runs")
    parser.add_argument("--k2pow-hashes", type=integer(0, 2**20, "a hash count"), default=64, help="RandomX hashes for the k2pow run (0 skips it)")
    parser.add_argument("--fast-randomx", action="store_true", help="also time RandomX fast mode (builds the 2 GiB dataset: minutes)")


def _timed(function, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def run(args: argparse.Namespace) -> None:
    post = spec.load("post", "mainnet")
    print(f"machine: {os.cpu_count()} logical CPUs (shared: figures per CPU-second are the per-core ones)")
    if not args.no_init:
        init_runs(post, args)
    if not args.no_prove:
        prove_runs(post, args)
    if args.k2pow_hashes:
        k2pow_runs(post, args)


def k2pow_runs(post, args: argparse.Namespace) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from smspec.impl import post as impl

    print(f"\nk2pow (RandomX), {args.k2pow_hashes} hashes; mainnet needs 4687.5 x num_units hashes per nonce group:")
    modes = [False, True] if args.fast_randomx else [False]
    for full_memory in modes:
        pool, setup, _ = _timed(impl.RandomXPool, post.RANDOMX_KEY, full_memory)
        inputs = [i.to_bytes(48, "little") for i in range(args.k2pow_hashes)]
        with ThreadPoolExecutor(pool.threads) as executor:
            _, wall, cpu = _timed(lambda hasher, hashes: list(executor.map(hasher, hashes)), pool.hash, inputs)
        rate, per_cpu = len(inputs) / wall, len(inputs) / max(cpu, 1e-9)
        group_4su = 4 * 4687.5 / rate
        print(f"  {'fast' if full_memory else 'light'} mode: set-up {setup:.1f} s, {rate:.1f} H/s with {pool.threads} threads,"
              f" {per_cpu:.1f} H per CPU-s; one 4-SU nonce group takes about {group_4su / 60:.1f} min")


def init_runs(post, args: argparse.Namespace) -> None:
    from smspec.impl import post as impl

    n = args.scrypt_n
    commitment = post.compute_commitment(bytes(32), bytes(32))
    spec_compute = post.__dict__.get("__spec_originals__", {}).get("compute_labels", post.compute_labels)
    runs = [("spec", spec_compute, args.spec_labels), ("impl (numpy)", impl.compute_labels, args.impl_labels)]
    from smspec.gpu import opencl_available

    if opencl_available():
        from smspec.gpu import post as gpu

        engine = gpu.engine()
        engine.outputs(commitment, 0, min(64, args.opencl_labels), n)  # compile and warm up
        runs.append((f"opencl ({engine.name}, {engine.labels_per_item} labels/item)", gpu.compute_labels,
                     args.opencl_labels))
    print(f"\ninitialization, scrypt N = {n}:")
    print(f"  {'backend':<60} {'labels':>7} {'labels/s':>10} {'per CPU-s':>10} {'vs spec':>9} {'vs C/core':>10}")
    reference = None
    base = None
    for name, function, count in runs:
        outputs, wall, cpu = _timed(function, commitment, 0, count, n)
        if reference is None:
            reference = outputs
        elif outputs[:len(reference)] != reference[:len(outputs)]:
            raise SystemExit(f"{name} disagrees with the spec")
        rate, per_cpu = count / wall, count / max(cpu, 1e-9)
        base = base or per_cpu
        print(f"  {name:<60} {count:>7} {rate:>10.1f} {per_cpu:>10.1f} {per_cpu / base:>8.0f}x"
              f" {per_cpu / C_ANCHOR_LABELS_PER_CORE:>9.2f}x")


def prove_runs(post, args: argparse.Namespace) -> None:
    from smspec.impl import post as impl

    difficulty = post.proving_difficulty(26, 4 * 2**32)  # mainnet, 4 SU
    challenge = bytes(range(32))
    data = os.urandom(args.mib * 2**20)
    sample = data[:args.spec_kib * 1024]
    spec_find = post.__dict__.get("__spec_originals__", {}).get("find_passing_nonce", post.find_passing_nonce)
    print(f"\nproving pass, difficulty {difficulty:#x} (mainnet 4 SU), impl on {args.mib} MiB, spec on {args.spec_kib} KiB:")
    print(f"  {'nonces':>6} {'impl GiB/s':>11} {'impl GiB/CPU-s':>15} {'spec GiB/s':>11} {'impl/spec':>10} {'vs post-rs M1':>14}")
    for nonces in (16, 288):
        pows = [0] * (nonces // 16)
        _, wall, cpu = _timed(impl.find_passing_nonce, data, challenge, 0, nonces, pows, difficulty, 10**9)
        _, spec_wall, _ = _timed(spec_find, sample, challenge, 0, nonces, pows, difficulty, 10**9)
        gib = len(data) / 2**30
        fast, per_cpu, slow = gib / wall, gib / max(cpu, 1e-9), len(sample) / 2**30 / spec_wall
        # post-rs: 0.194 GiB/s per thread at 64 nonces, scaled by 64 / nonces (linear in nonce groups)
        anchor = 0.194 * 64 / nonces
        print(f"  {nonces:>6} {fast:>11.3f} {per_cpu:>15.3f} {slow:>11.6f} {fast / slow:>9.0f}x {per_cpu / anchor:>13.2f}x")
