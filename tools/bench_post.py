"""PoST (spec/post.md): initialization labels per CPU-second and proving GiB per CPU-second,
each beside its peer or physical limit measured in the same run.

Initialization: the same label range at scrypt N (default 8192, mainnet) computed by the readable
spec, the numpy impl and the OpenCL kernel (pocl on the CPU here, or a GPU). Each line gives
labels/s of wall time, labels per CPU-second of this process (the per-core figure: pocl and numpy
threads are included) and the ratio to the spec. The peer is the C scrypt-jane that post-rs
links (spacemeshos/scrypt-jane, built with ``-DSCRYPT_CHACHA -DSCRYPT_KECCAK512``): given its
shared library (``--scrypt-jane PATH`` or ``SMSPEC_SCRYPT_JANE``; docs/post.md says how to build
it) it runs in this process, one core, and every backend gets its ratio to it; without it the
figure measured elsewhere is printed with its source and no ratio.

Proving: one pass of the label test over random labels with the mainnet 4-SU difficulty (so that
almost nothing passes and the pass is never cut short), for 16 and 64 nonces, by the impl (one
thread) and by the spec on a small sample. The limit is this machine's AES-128 on one core
(OpenSSL through ``cryptography``, into a reused buffer, over the same data), measured in the
same rounds: a pass of N nonces needs N / 16 AES encryptions of every label, so its limit is the
AES rate divided by N / 16. The AES rate is the faster of OpenSSL's ECB mode and its XTS mode with
the tweak whose encryption is zero, which gives exactly ECB's outputs on OpenSSL's VAES path (the
impl encrypts that way, so ECB mode alone would understate the limit); both are printed. post-rs
cannot run here; its published figures are printed as measured elsewhere.

Figures are medians of ``--rounds`` rounds (default 3), each round running ours and the peer
back to back; CPU time (``time.process_time``) is used because the machine may be shared.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import time

from smspec import spec
from smspec.tools import benchtable
from smspec.tools.cli import CliError, integer

C_ELSEWHERE = ("360-470 labels per CPU-s at N = 8192",
               "issue 17: spacemeshos/scrypt-jane -O3 on a 2-core AMD EPYC with AES-NI/AVX-512")
POST_RS_ELSEWHERE = {
    16: ("about 2 GiB/s per thread", "post-rs PR #36 table, x86 with AES-NI"),
    64: ("0.19 GiB/s per thread", "post-rs PR #36 table, Apple M1"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scrypt-n", type=integer(2, 2**20, "scrypt N"), default=8192, help="scrypt N for the init runs (default 8192)")
    parser.add_argument("--spec-labels", type=integer(1, 2**20, "a label count"), default=2, help="labels for the spec run (default 2)")
    parser.add_argument("--impl-labels", type=integer(1, 2**24, "a label count"), default=256, help="labels for the numpy run (default 256)")
    parser.add_argument("--opencl-labels", type=integer(1, 2**26, "a label count"), default=1024, help="labels for the OpenCL run (default 1024)")
    parser.add_argument("--c-labels", type=integer(1, 2**20, "a label count"), default=128, help="labels for the C scrypt-jane run (default 128)")
    parser.add_argument("--mib", type=integer(1, 2**14, "MiB"), default=32, help="MiB of labels for the impl proving runs (default 32)")
    parser.add_argument("--spec-kib", type=integer(1, 2**20, "KiB"), default=4, help="KiB of labels for the spec proving runs (default 4)")
    parser.add_argument("--no-init", action="store_true", help="skip the initialization runs")
    parser.add_argument("--no-prove", action="store_true", help="skip the proving runs")
    parser.add_argument("--k2pow-hashes", type=integer(0, 2**20, "a hash count"), default=64, help="RandomX hashes for the k2pow run (0 skips it)")
    parser.add_argument("--fast-randomx", action="store_true", help="also time RandomX fast mode (builds the 2 GiB dataset: minutes)")
    parser.add_argument("--rounds", type=integer(1, 100, "a round count"), default=3, help="rounds; medians are printed (default 3)")
    parser.add_argument("--scrypt-jane", metavar="PATH", default=os.environ.get("SMSPEC_SCRYPT_JANE"),
                        help="shared library of the C scrypt-jane, to measure it in this run (default: $SMSPEC_SCRYPT_JANE)")


def _timed(function, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def run(args: argparse.Namespace) -> None:
    post = spec.load("post", "mainnet")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    peer = ScryptJane(args.scrypt_jane) if args.scrypt_jane else None  # a bad path is refused before any run
    print(f"machine: {os.cpu_count()} logical CPUs, load average {load:.2f} (shared: figures are per CPU-second)")
    if not args.no_init:
        init_runs(post, args, peer)
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
        benchtable.record("post", f"k2pow RandomX {'fast' if full_memory else 'light'} mode", "hashes per CPU-s", per_cpu)
        print(f"  {'fast' if full_memory else 'light'} mode: set-up {setup:.1f} s, {rate:.1f} H/s with {pool.threads} threads,"
              f" {per_cpu:.1f} H per CPU-s; one 4-SU nonce group takes about {group_4su / 60:.1f} min")


class ScryptJane:
    """The C scrypt-jane through ctypes: ``scrypt(password, ..., Nfactor, 0, 0, out, 32)``."""

    def __init__(self, path: str) -> None:
        try:
            self.library = ctypes.CDLL(os.path.abspath(path))
            self.scrypt = self.library.scrypt
        except (OSError, AttributeError) as error:
            raise CliError(f"--scrypt-jane {path}: not a scrypt-jane library ({error})") from None
        self.scrypt.restype = None
        self.scrypt.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t,
                                ctypes.c_ubyte, ctypes.c_ubyte, ctypes.c_ubyte, ctypes.c_char_p, ctypes.c_size_t]

    def compute_labels(self, commitment: bytes, start: int, count: int, scrypt_n: int) -> bytes:
        out = ctypes.create_string_buffer(32)
        labels = []
        for index in range(start, start + count):
            password = commitment + index.to_bytes(8, "little") + bytes(32)
            self.scrypt(password, len(password), b"", 0, scrypt_n.bit_length() - 2, 0, 0, out, 32)  # N = 2^(Nfactor+1)
            labels.append(out.raw)
        return b"".join(labels)


def init_runs(post, args: argparse.Namespace, peer: ScryptJane | None = None) -> None:
    from smspec.impl import post as impl

    n = args.scrypt_n
    commitment = post.compute_commitment(bytes(32), bytes(32))
    spec_compute = post.__dict__.get("__spec_originals__", {}).get("compute_labels", post.compute_labels)
    runs = [("spec", spec_compute, args.spec_labels, 1), ("impl (numpy)", impl.compute_labels, args.impl_labels, args.rounds)]
    if peer is not None:
        runs.append(("C scrypt-jane (one core)", peer.compute_labels, args.c_labels, args.rounds))
    from smspec.gpu import opencl_available

    if opencl_available():
        from smspec.gpu import post as gpu

        engine = gpu.engine()
        engine.outputs(commitment, 0, min(64, args.opencl_labels), n)  # compile and warm up
        runs.append((f"opencl ({engine.name}, {engine.labels_per_item} labels/item, {engine.layout})",
                     gpu.compute_labels, args.opencl_labels, args.rounds))
    print(f"\ninitialization, scrypt N = {n}, medians of {args.rounds} rounds (the spec: one):")
    reference = spec_compute(commitment, 0, 1, n)
    per_cpu: dict[str, list[float]] = {name: [] for name, *_ in runs}
    walls: dict[str, list[float]] = {name: [] for name, *_ in runs}
    for round_index in range(args.rounds):
        for name, function, count, rounds in runs:
            if round_index >= rounds:
                continue
            outputs, wall, cpu = _timed(function, commitment, 0, count, n)
            if outputs[:32] != reference:
                raise SystemExit(f"{name} disagrees with the spec")
            per_cpu[name].append(count / max(cpu, 1e-9))
            walls[name].append(count / wall)
    c_rate = benchtable.median(per_cpu[runs[2][0]]) if peer is not None else None
    print(f"  {'backend':<72} {'labels/s':>10} {'per CPU-s':>10} {'vs spec':>9} {'vs C/core':>10}")
    base = benchtable.median(per_cpu["spec"])
    for name, *_ in runs:
        rate, cpu_rate = benchtable.median(walls[name]), benchtable.median(per_cpu[name])
        versus_c = f"{cpu_rate / c_rate:>9.2f}x" if c_rate else f"{'-':>10}"
        print(f"  {name:<72} {rate:>10.1f} {cpu_rate:>10.1f} {cpu_rate / base:>8.0f}x {versus_c}")
        if name.startswith("C scrypt-jane"):
            continue
        measure = f"PoST init {name.split(' (')[0]}, N = {n}"
        if c_rate:
            benchtable.record("post", measure, "labels per CPU-s", cpu_rate, "C scrypt-jane, one core", c_rate)
        else:
            benchtable.elsewhere("post", measure, "labels per CPU-s", cpu_rate, "C scrypt-jane, one core", *C_ELSEWHERE)
    if c_rate is None:
        print(f"  C scrypt-jane: {benchtable.ELSEWHERE}, {C_ELSEWHERE[0]} ({C_ELSEWHERE[1]});"
              " pass --scrypt-jane PATH to measure it here")


def aes_limit(data: bytes, ecb_mode: bool = False) -> float:
    """GiB per CPU-second of AES-128 over ``data`` on one core (OpenSSL, reused buffer): the
    impl's encryptor (XTS with a zero tweak: ECB's outputs) or OpenSSL's ECB mode."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from smspec.impl.post import AES_SLICE_LABELS, _ecb_encryptor

    cipher = Cipher(algorithms.AES(bytes(16)), modes.ECB()).encryptor() if ecb_mode else _ecb_encryptor(bytes(16))
    step = 16 * AES_SLICE_LABELS
    output = bytearray(step + 16)
    view = memoryview(data)
    start = time.process_time()
    for offset in range(0, len(data), step):
        cipher.update_into(view[offset:offset + step], output)
    return len(data) / 2**30 / max(time.process_time() - start, 1e-9)


def prove_runs(post, args: argparse.Namespace) -> None:
    from smspec.impl import post as impl

    difficulty = post.proving_difficulty(26, 4 * 2**32)  # mainnet, 4 SU
    challenge = bytes(range(32))
    data = os.urandom(args.mib * 2**20)
    sample = data[:args.spec_kib * 1024]
    spec_find = post.__dict__.get("__spec_originals__", {}).get("find_passing_nonce", post.find_passing_nonce)
    gib = len(data) / 2**30
    limits: list[float] = []
    ecb_limits: list[float] = []
    ours: dict[int, list[float]] = {16: [], 64: []}
    walls: dict[int, list[float]] = {16: [], 64: []}
    for _ in range(args.rounds):
        limits.append(aes_limit(data))
        ecb_limits.append(aes_limit(data, ecb_mode=True))
        for nonces in ours:
            pows = [0] * (nonces // 16)
            _, wall, cpu = _timed(impl.find_passing_nonce, data, challenge, 0, nonces, pows, difficulty, 10**9)
            ours[nonces].append(gib / max(cpu, 1e-9))
            walls[nonces].append(gib / wall)
    xts, ecb = benchtable.median(limits), benchtable.median(ecb_limits)
    limit = max(xts, ecb)
    print(f"\nproving pass, difficulty {difficulty:#x} (mainnet 4 SU), impl on {args.mib} MiB (one thread),"
          f" spec on {args.spec_kib} KiB, medians of {args.rounds} rounds:")
    print(f"  AES-128 limit (OpenSSL via cryptography, one core, same data): {limit:.2f} GiB per CPU-s"
          f" (XTS mode with a zero tweak, ECB's outputs: {xts:.2f}; ECB mode: {ecb:.2f})")
    print(f"  {'nonces':>6} {'impl GiB/s':>11} {'impl GiB/CPU-s':>15} {'limit':>7} {'of limit':>9} {'spec GiB/s':>11} {'impl/spec':>10}")
    for nonces in ours:
        pows = [0] * (nonces // 16)
        _, spec_wall, _ = _timed(spec_find, sample, challenge, 0, nonces, pows, difficulty, 10**9)
        fast, per_cpu = benchtable.median(walls[nonces]), benchtable.median(ours[nonces])
        slow = len(sample) / 2**30 / spec_wall
        nonce_limit = limit / (nonces // 16)
        print(f"  {nonces:>6} {fast:>11.3f} {per_cpu:>15.3f} {nonce_limit:>7.2f} {per_cpu / nonce_limit:>8.2f}x"
              f" {slow:>11.6f} {fast / slow:>9.0f}x")
        benchtable.record("post", f"PoST proving, {nonces} nonces", "GiB per CPU-s", per_cpu,
                          f"AES-128 limit / {nonces // 16} (OpenSSL, one core, faster of ECB and zero-tweak XTS)", nonce_limit)
        figure, where = POST_RS_ELSEWHERE[nonces]
        benchtable.elsewhere("post", f"PoST proving, {nonces} nonces", "GiB per CPU-s", per_cpu, "post-rs", figure, where)
        print(f"         post-rs: {benchtable.ELSEWHERE}, {figure} ({where})")
