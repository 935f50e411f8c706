"""Athena VM: spec vs impl (and Unicorn) on compiled C, straight-line suites, program sizes and hostile programs.

Every figure is measured in this run, side by side, as CPU time of this process (the machine
may be shared: wall time and the load average are printed too).

1. Compiled programs (GCC + picolibc, tests/spec/athena/programs): the loop program, isa.c with
   input 0 (a short call, ~31k instructions) and with a long input, and the wallet template's
   ``spend``. The impl is timed *cold* (fresh process state: nothing loaded, decoded or compiled)
   and *warm* (best of --repeat runs of the same code: loaded programs and compiled blocks are
   cached per code, as when the devnet runs the same template every layer), and *hot* (best of
   --repeat runs after --hot-runs more: by then every block entered often enough is compiled).
   Unicorn (when installed) runs the same ELF files natively; its rate uses our instruction count.
2. Suites given with --elf (files or directories of ELF programs, e.g. riscv-tests and
   riscv-arch-test built for rv32em): every program loaded and run once, in-process, spec and
   impl alternately, --repeat times (medians per program): the suite's totals, and the worst
   program's impl/spec time (the goal: never above 1).
3. Program size: raw programs of N words that run 12 instructions: load + run time against N.
4. Hostile programs (unless --no-hostile): loops of one syscall on 64 KiB buffers and of memory or
   storage growth, under the live gas schedule and the bounded one (spec/athena.md, *Gas
   schedules*). Each runs in a new process at growing gas limits up to --hostile-gas (default
   10^7, the devnet limit) while a run stays under 2 s; printed: the gas reached, CPU seconds,
   microseconds per gas, the time projected for --hostile-gas, and the process's peak memory
   above its start. The spec runs the same programs at 200 gas for comparison.
"""

from __future__ import annotations

import argparse
import gc
import glob
import os
import resource
import statistics
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from smspec.tools import benchtable
from smspec.tools.cli import CliError, integer

LOOP_TEXT = """
  li a0, {n}
  li a1, 0
loop:
  mul a2, a0, a0
  xor a2, a2, a0
  add a1, a1, a2
  addi a0, a0, -1
  bne a0, zero, loop
"""
HOSTILE_SLOW_RUN = 2.0  # seconds of CPU after which the hostile runs stop growing the gas
SPEC_HOSTILE_GAS = 200


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--loop-n", type=integer(1, 2**32 - 1, "a loop count"), default=100_000, metavar="N",
                        help="turns of the loop program (default 100,000)")
    parser.add_argument("--seed", type=integer(0, 2**32 - 1, "a u32 input"), default=50_000, metavar="N",
                        help="input of the long isa.c run (its Fibonacci loop runs N turns; default 50,000)")
    parser.add_argument("--repeat", type=integer(1, 1000, "a repeat count"), default=3, metavar="K",
                        help="best of K runs (default 3)")
    parser.add_argument("--hot-runs", type=integer(0, 100_000, "a run count"), default=60, metavar="N",
                        help="runs between the warm and the hot figures (default 60)")
    parser.add_argument("--elf", action="append", default=[], metavar="PATH",
                        help="an ELF program, a directory of them (*.elf) or a glob; one suite per option")
    parser.add_argument("--sizes", default="1024,65536,1048576", metavar="N,N,...",
                        help="program sizes in words for the size table (default 1024,65536,1048576; the spec "
                        "loads only sizes up to 262144)")
    parser.add_argument("--hostile-gas", type=integer(100, 2**32 - 1, "a gas limit"), default=10_000_000, metavar="G",
                        help="gas limit the hostile programs grow to (default 10,000,000)")
    parser.add_argument("--no-hostile", action="store_true", help="skip the hostile programs")


# ---------------------------------------------------------------------------------------------
# helpers


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


class Timer:
    """CPU and wall seconds of a block."""

    def __enter__(self) -> Timer:
        self.cpu, self.wall = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu = time.process_time() - self.cpu
        self.wall = time.perf_counter() - self.wall


def _backend(name: str) -> Any:
    """Select a backend from scratch (the impl's per-selection caches start empty) and return athena."""
    import smspec.spec.athena as athena
    from smspec.impl import athena as impl
    from smspec.impl import registry

    registry.use_backend("spec")
    registry.use_backend(name)
    if name == "impl":
        for cache in ("_engines", "_decoded_words", "_op_cache", "_jalr_targets", "_word_ops"):
            getattr(impl, cache, {}).clear()
    return athena


def _run(athena: Any, program: Any, entry: int, input_stream: bytes, gas: int = 2**32 - 1, host: Any = None,
         schedule: Any = None) -> Any:
    host = athena.InMemoryHost() if host is None else host
    return athena.run(program, entry, input_stream, host, athena.AthenaContext(), gas, None,
                      schedule or athena.LIVE_GAS_SCHEDULE)


def _rate(steps: int, seconds: float) -> str:
    return f"{steps / seconds / 1e6:8.2f}M" if seconds > 0 else "       -"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:7.1f}x" if b > 0 else "      -"


# ---------------------------------------------------------------------------------------------
# 1. compiled programs


def _unicorn_seconds(code: bytes, input_stream: bytes, steps: int) -> float | None:
    """Unicorn's CPU seconds on an ELF program (HINT_LEN, HINT_READ, WRITE and HALT emulated)."""
    try:
        import unicorn
        from unicorn import riscv_const
    except ImportError:
        return None
    emu = unicorn.Uc(unicorn.UC_ARCH_RISCV, unicorn.UC_MODE_RISCV32)
    emu.mem_map(0, 0x400000)
    entry, phoff = struct.unpack_from("<II", code, 24)
    for index in range(struct.unpack_from("<H", code, 44)[0]):
        kind, offset, vaddr, _, filesz, _, _, _ = struct.unpack_from("<8I", code, phoff + 32 * index)
        if kind == 1:
            emu.mem_write(vaddr, code[offset : offset + filesz])
    reg = {i: getattr(riscv_const, f"UC_RISCV_REG_X{i}") for i in (5, 10, 11, 12)}
    state = {"position": 0}

    def on_interrupt(uc: Any, number: int, user_data: Any) -> None:
        t0, a0, a1 = (uc.reg_read(reg[i]) for i in (5, 10, 11))
        remaining = len(input_stream) - state["position"]
        if t0 == 0:
            uc.emu_stop()
        elif t0 == 0xF0:
            uc.reg_write(reg[5], remaining)
        elif t0 == 0xF1:
            data = input_stream[state["position"] : state["position"] + a1]
            if len(data) % 4 and (a0 + len(data)) % 4:
                data += b"\x00" * (-(a0 + len(data)) % 4)
            uc.mem_write(a0, data)
            state["position"] += a1
            uc.reg_write(reg[5], a1)

    emu.hook_add(unicorn.UC_HOOK_INTR, on_interrupt)
    with Timer() as timer:
        emu.emu_start(entry, 0xFFFFFFFF)  # runs to HALT (emu_stop); a count would add a per-instruction hook
    return timer.cpu


def _compiled_programs(args: argparse.Namespace) -> None:
    from smspec.tests.spec.athena import toolchain

    if not toolchain.toolchain_available():
        print("1. compiled programs: skipped (the RISC-V cross toolchain is not installed)")
        return
    athena = _backend("spec")
    wallet = toolchain._build("wallet")
    owner = bytes(range(32))
    import nacl.signing

    key = nacl.signing.SigningKey(owner)
    arguments = bytes(range(100, 124)) + struct.pack("<Q", 5)
    signature = key.sign(arguments).signature
    spend_input = athena.encode_execution_payload(bytes(key.verify_key), athena.method_selector("athexp_spend"),
                                                  arguments + signature)
    cases = [
        ("loop.S", toolchain._build("loop"), struct.pack("<I", args.loop_n), None),
        ("isa.c, input 0 (short call)", toolchain._build("isa"), struct.pack("<I", 0), None),
        (f"isa.c, input {args.seed:,}", toolchain._build("isa"), struct.pack("<I", args.seed), None),
        ("wallet.c spend (call_program)", wallet, spend_input, "call"),
    ]
    print("1. compiled programs: instructions per CPU second (M = 10^6); impl cold = first run in a fresh state,")
    print(f"   warm = best of the next {args.repeat} runs, hot = best of {args.repeat} runs after {args.hot_runs} more "
          "(programs and compiled blocks cached per code)")
    print(f"   {'program':32} {'instr':>9} {'spec':>9} {'impl cold':>9} {'impl warm':>9} {'impl hot':>9} {'unicorn':>9}"
          f" {'cold/spec':>9} {'warm/spec':>9} {'hot/spec':>9} {'hot/uc':>8}")
    for name, code, input_stream, kind in cases:
        results = {}
        for backend in ("spec", "impl"):
            athena = _backend(backend)
            times = []
            steps = 0
            for _ in range(1 if backend == "spec" else 2 * args.repeat + 1 + args.hot_runs):
                with Timer() as timer:
                    if kind == "call":
                        steps = _call_wallet(athena, code, input_stream)
                    else:
                        program = athena.load_program(code)
                        machine = _run(athena, program, program.pc_start, input_stream)
                        if machine.trap is not None:
                            raise CliError(f"{name}: {machine.trap.reason}")
                        steps = machine.steps
                times.append(timer.cpu)
            results[backend] = (steps, times)
        steps, spec_times = results["spec"]
        impl_steps, impl_times = results["impl"]
        if impl_steps != steps:
            raise CliError(f"{name}: spec ran {steps} instructions, impl {impl_steps}")
        spec_time, cold = spec_times[0], impl_times[0]
        warm, hot = min(impl_times[1 : 1 + args.repeat]), min(impl_times[-args.repeat :])
        unicorn = _unicorn_seconds(code, input_stream, steps) if kind is None else None
        for label, seconds in (("cold", cold), ("hot", hot)):
            benchtable.record("athena", f"{name}, impl {label}", "M instr per CPU-s", steps / seconds / 1e6,
                              *(("Unicorn", steps / unicorn / 1e6) if unicorn else ()))
        print(f"   {name:32} {steps:>9,} {_rate(steps, spec_time)} {_rate(steps, cold)} {_rate(steps, warm)} "
              f"{_rate(steps, hot)} {_rate(steps, unicorn) if unicorn else '        -'} {_ratio(spec_time, cold):>9} "
              f"{_ratio(spec_time, warm):>9} {_ratio(spec_time, hot):>9} "
              f"{_ratio(unicorn, hot) if unicorn else '       -':>8}")


def _call_wallet(athena: Any, code: bytes, payload: bytes) -> int:
    """One spend through call_program; returns the instructions it ran (gas used / 4, less the verify)."""
    host = athena.InMemoryHost()
    wallet = bytes([9]) * 24
    host.account(wallet).balance = 1000
    message = athena.Message(recipient=wallet, sender=wallet, gas=10**7, input=payload)
    result = athena.call_program(code, message, host, bytes(24))
    if result.status != athena.StatusCode.SUCCESS:
        raise CliError(f"wallet spend: {result.status.name}")
    return (10**7 - result.gas_left - athena.ED25519_EXTRA_GAS) // 4  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------
# 2. suites, 3. sizes


def _suite_files(pattern: str) -> list[str]:
    path = Path(pattern)
    if path.is_dir():
        found = sorted(str(p) for p in path.glob("*.elf"))
        if not found:
            raise CliError(f"--elf {pattern}: no *.elf file in this directory")
        return found
    if path.is_file():
        return [str(path)]
    found = sorted(glob.glob(pattern))
    if not found:
        raise CliError(f"--elf {pattern}: no such file, directory or match")
    return found


def _load_and_run(athena: Any, code: bytes) -> tuple[float, float, Any]:
    """CPU seconds of load_program and of run (0 when the program is invalid), and the outcome.
    The garbage the programs before left is collected first, outside the timing: otherwise a
    collection that their objects brought due lands in this program's run (a generation-1 pass of
    about 0.8 ms doubled a 0.6 ms arch-test run)."""
    gc.collect()
    with Timer() as load:
        try:
            program = athena.load_program(code)
        except athena.InvalidProgram as error:
            return load.cpu, 0.0, ("invalid", error.reason, 0)
    with Timer() as timer:
        machine = _run(athena, program, program.pc_start, b"", 10**8)
    return load.cpu, timer.cpu, (machine.steps, None if machine.trap is None else machine.trap.reason, len(program.words))


def _suites(args: argparse.Namespace) -> None:
    if not args.elf:
        return
    print(f"2. suites (--elf): every program loaded and run once, in-process; the suite run by the spec, then the impl"
          f" (its caches\n   emptied first), {args.repeat} times; seconds of CPU (sums of each program's median); worst ="
          " the program with the\n   highest impl/spec time (load + run, medians), and how many programs the impl runs"
          " slower than the spec; the heap\n   from before the suites is frozen (gc.freeze), and garbage is collected"
          " before each program, outside its timing")
    print(f"   {'suite':40} {'programs':>8} {'words':>10} {'instr':>9} {'spec load':>9} {'spec run':>9}"
          f" {'impl load':>9} {'impl run':>9} {'spec/impl':>9}  worst impl/spec (program), slower")
    for pattern in args.elf:
        files = _suite_files(pattern)
        totals = {"spec": [0.0, 0.0], "impl": [0.0, 0.0]}
        steps = words = failed = slower = 0
        worst = (0.0, "")
        codes = [Path(path).read_bytes() for path in files]
        all_times: list[dict[str, list[tuple[float, float]]]] = [{"spec": [], "impl": []} for _ in files]
        all_outcomes: list[set[Any]] = [set() for _ in files]
        # the heap from before the suite (imports, section 1) is frozen: a full collection landing in a
        # program's timed run scans what the suite itself keeps, not 10-20 ms of unrelated objects
        gc.collect()
        gc.freeze()
        try:
            for _ in range(args.repeat):
                for backend in ("spec", "impl"):
                    athena = _backend(backend)  # the impl's caches start empty: every program is new to it
                    for code, times, outcomes in zip(codes, all_times, all_outcomes):
                        load, run, outcome = _load_and_run(athena, code)
                        times[backend].append((load, run))
                        outcomes.add(outcome)
        finally:
            gc.unfreeze()
        for path, times, outcomes in zip(files, all_times, all_outcomes):
            if len(outcomes) != 1:
                raise CliError(f"{path}: spec and impl disagree: {sorted(outcomes, key=str)}")
            program_steps, reason, program_words = outcomes.pop()
            if program_steps != "invalid":
                steps += program_steps
                words += program_words
            failed += reason is not None
            medians = {}
            for backend, pairs in times.items():
                load = statistics.median(p[0] for p in pairs)
                run = statistics.median(p[1] for p in pairs)
                totals[backend][0] += load
                totals[backend][1] += run
                medians[backend] = statistics.median(p[0] + p[1] for p in pairs)
            ratio = medians["impl"] / medians["spec"] if medians["spec"] > 0 else 0.0
            slower += ratio > 1
            if ratio > worst[0]:
                worst = (ratio, Path(path).name)
        (spec_load, spec_run), (impl_load, impl_run) = totals["spec"], totals["impl"]
        label = pattern if len(pattern) <= 40 else "..." + pattern[-37:]
        benchtable.record("athena", f"suite {Path(pattern).name}: worst program, impl time / spec time", "ratio",
                          worst[0])
        print(f"   {label:40} {len(files):>8} {words:>10,} {steps:>9,} {spec_load:9.3f} {spec_run:9.3f} "
              f"{impl_load:9.3f} {impl_run:9.3f} {_ratio(spec_load + spec_run, impl_load + impl_run):>9}  "
              f"{worst[0]:.2f} ({worst[1]}), {slower} slower"
              + (f"  ({failed} ended with a failure)" if failed else ""))


def _size_list(text: str) -> list[int]:
    try:
        sizes = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise CliError("--sizes: expected comma-separated word counts") from None
    if not sizes or min(sizes) < 8 or max(sizes) > 1 << 24:
        raise CliError("--sizes: each size must be between 8 and 16,777,216 words")
    return sizes


def _sizes(args: argparse.Namespace) -> None:
    from smspec.tests.spec.athena.asm import b_type, i_type

    sizes = _size_list(args.sizes)
    print("3. program size: a raw program of N words (a 5-turn loop, a jump to 0, then nops) runs 13 instructions;")
    print("   load + run seconds of CPU (cold)")
    print(f"   {'words':>10} {'spec':>9} {'impl':>9} {'impl/spec':>9}")
    loop = [i_type(5, 0, 0, 10, 0x13), i_type(-1, 10, 0, 10, 0x13), b_type(-4, 0, 10, 1), i_type(0, 0, 0, 0, 0x67)]
    for size in sizes:
        words = loop + [0x13] * (size - len(loop))
        code = b"\x7fATH" + b"".join(w.to_bytes(4, "little") for w in words)
        seconds = {}
        for backend in ("spec", "impl"):
            if backend == "spec" and size > 262144:
                continue
            athena = _backend(backend)
            with Timer() as timer:
                program = athena.load_program(code)
                machine = _run(athena, program, 0, b"")
            if machine.steps != 12 or not machine.halted:
                raise CliError(f"size {size}: unexpected end ({machine.steps} steps)")
            seconds[backend] = timer.cpu
        spec = seconds.get("spec")
        print(f"   {size:>10,} {spec if spec is not None else float('nan'):9.4f} {seconds['impl']:9.4f} "
              f"{_ratio(spec, seconds['impl']) if spec is not None else '        -':>9}")


# ---------------------------------------------------------------------------------------------
# 4. hostile programs


def hostile_programs() -> list[tuple[str, str, bytes]]:
    """(name, what it does, input stream) of each hostile program (raw format, text assembled here)."""
    import nacl.signing

    key = nacl.signing.SigningKey(bytes([7]) * 32)
    load_key = "li t0, 0xF1\nlui a0, 0x20\nli a1, 96\necall\n"
    # a syscall that returns a value overwrites t0: those loops set t0 again every turn
    return [
        ("write_console_64k", "li t0, 2\nli a0, 1\nlui a1, 0x10\nlui a2, 0x10\nloop: ecall\nj loop", b""),
        ("ed25519_64k_small_order_key",
         "lui a0, 0x10\nlui a1, 0x10\nlui a2, 0x20\nlui a3, 0x21\nloop: li t0, 0x640020\necall\nj loop", b""),
        ("ed25519_64k_valid_key", load_key + "lui a0, 0x10\nlui a1, 0x10\nlui a2, 0x20\n"
         "lui a3, 0x20\naddi a3, a3, 32\nloop: li t0, 0x640020\necall\nj loop", bytes(key.verify_key) + bytes(64)),
        ("spawn_64k_distinct", "li t0, 0xA4\nlui a0, 0x10\nlui a1, 0x10\nlui a2, 0x30\n"
         "loop: sw a4, 0(a0)\naddi a4, a4, 1\necall\nj loop", b""),
        ("host_call_64k_input", "lui a0, 0x20\nlui a1, 0x10\nlui a2, 0x10\nli a3, 0\nli a4, 0\n"
         "lui a5, 0x21\nloop: li t0, 0xA2\necall\nj loop", b""),
        ("storage_writes_distinct", "lui a0, 0x20\nlui a1, 0x21\n"
         "loop: sw a4, 0(a0)\naddi a4, a4, 1\nli t0, 0xA1\necall\nj loop", b""),
        ("memory_sweep", "lui a0, 1\nli a1, 4\nloop: sw a0, 0(a0)\nadd a0, a0, a1\nj loop", b""),
    ]


def turn_gas(name: str, bounded: bool) -> int:
    """Gas of one turn of a hostile program's loop (from its label ``loop`` back to it), measured
    by the spec's trace: the gas between the second and third visit of the loop's first word."""
    from smspec.tests.spec.athena.asm import assemble_words, raw_program

    text, input_stream = {n: (t, i) for n, t, i in hostile_programs()}[name]
    loop_pc = 4 * len(assemble_words(text.split("loop:")[0]))
    athena = _backend("spec")
    visits: list[int] = []

    def trace(record: Any) -> None:
        if record.pc == loop_pc:
            visits.append(record.gas)

    schedule = athena.BOUNDED_GAS_SCHEDULE if bounded else athena.LIVE_GAS_SCHEDULE
    program = athena.load_program(raw_program(text))
    gas = 1000
    while len(visits) < 3:
        visits.clear()
        athena.run(program, 0, input_stream, athena.InMemoryHost(), athena.AthenaContext(), gas, trace, schedule)
        gas *= 4
    return visits[2] - visits[1]


def hostile_floor(name: str) -> tuple[float, int]:
    """The machine's own floor for one turn of a hostile program: CPU seconds of the work its
    syscall must do on the bytes it names, done by C code (memcpy, Python's UTF-8 decoder, hashlib,
    blake3, libsodium), best of 3 batches; and the bytes that work must keep (what the host holds)."""
    import hashlib

    import blake3
    import nacl.bindings
    import nacl.signing

    buffer = bytearray(65536)
    view = memoryview(buffer)
    held: list[Any] = []
    store: dict[bytes, bytes] = {}
    counter = [0]
    key = nacl.signing.SigningKey(bytes([7]) * 32)
    signed_empty = key.sign(b"").signature  # a libsodium verification of a short message: its point work
    public_key = bytes(key.verify_key)

    def console() -> None:  # WRITE to fd 1: copy the buffer out of guest memory and check it is UTF-8
        bytes(view).decode("utf-8")

    def sha512() -> None:  # ED25519_VERIFY's SHA-512(R || A || message), reading the message in place
        digest = hashlib.sha512(bytes(32))
        digest.update(public_key)
        digest.update(view)
        digest.digest()

    def verify() -> None:  # the hash, then libsodium's verification (its double scalar multiplication)
        sha512()
        nacl.bindings.crypto_sign_open(signed_empty, public_key)

    def spawn() -> None:  # SPAWN: the host keeps a copy of the blob and hashes template || blob
        buffer[0:4] = counter[0].to_bytes(4, "little")
        counter[0] += 1
        blob = bytes(view)
        address = blake3.blake3(bytes(24))
        address.update(blob)
        address.digest()
        held.append(blob)

    def call() -> None:  # HOST_CALL: the message's input is a copy of the buffer
        bytes(view)

    def storage() -> None:  # HOST_WRITE of a new key: the host keeps 32 + 32 bytes
        counter[0] += 1
        store[counter[0].to_bytes(32, "little")] = bytes(view[:32])

    def sweep() -> None:  # a store of one word
        counter[0] += 4
        struct.pack_into("<I", buffer, counter[0] & 0xFFFC, counter[0])

    work, kept = {
        "write_console_64k": (console, 0),
        "ed25519_64k_small_order_key": (sha512, 0),
        "ed25519_64k_valid_key": (verify, 0),
        "spawn_64k_distinct": (spawn, 65536 + 24),
        "host_call_64k_input": (call, 0),
        "storage_writes_distinct": (storage, 64),
        "memory_sweep": (sweep, 4),
    }[name]
    turns = 200 if kept > 4096 else 2000
    best = float("inf")
    for _ in range(3):
        with Timer() as timer:
            for _ in range(turns):
                work()
        best = min(best, timer.cpu / turns)
        held.clear()
        store.clear()
    return best, kept


def rss_kib() -> int:
    """This process's resident memory now, in KiB."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def reset_peak() -> int:
    """Start a peak-memory measurement: reset the kernel's high-water mark of this process to its
    resident memory now (a child's ``ru_maxrss`` starts at its parent's peak, across fork and exec)
    and return that resident memory in KiB."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass
    return rss_kib()


def peak_kib(start: int) -> int:
    """Peak resident memory in KiB above ``start`` (from reset_peak) since reset_peak."""
    try:
        with open("/proc/self/status") as status:
            peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return max(0, peak - start)


def hostile_series(backend: str, name: str, bounded: bool, levels: list[int]) -> dict[str, Any]:
    """In a fresh process: run one hostile program at growing gas limits, stopping after a run
    over HOSTILE_SLOW_RUN seconds or one that ends otherwise than out of gas. Returns the last
    run's (gas used, reason), its CPU seconds, and the process's peak memory above its start."""
    from smspec.tests.spec.athena.asm import raw_program

    text, input_stream = {n: (t, i) for n, t, i in hostile_programs()}[name]
    athena = _backend(backend)
    program = athena.load_program(raw_program(text))
    schedule = athena.BOUNDED_GAS_SCHEDULE if bounded else athena.LIVE_GAS_SCHEDULE
    start = reset_peak()
    result: dict[str, Any] = {}
    for gas in levels:
        with Timer() as timer:
            machine = _run(athena, program, 0, input_stream, gas, schedule=schedule)
        reason = None if machine.trap is None else machine.trap.reason
        result = {"gas": machine.gas, "reason": reason, "cpu": timer.cpu}
        del machine
        if timer.cpu > HOSTILE_SLOW_RUN or reason != "out_of_gas":
            break
    result["peak_kib"] = peak_kib(start)
    return result


def _fresh(function: Callable[..., Any], *arguments: Any) -> Any:
    """Run a module-level function in a new interpreter (its memory is its own)."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, arguments)


def _hostile(args: argparse.Namespace) -> None:
    target = args.hostile_gas
    levels = []
    gas = 10_000
    while gas < target:
        levels.append(gas)
        gas *= 10
    levels.append(target)
    print(f"4. hostile programs (each in a new process; gas grows x10 up to {target:,} while a run stays under "
          f"{HOSTILE_SLOW_RUN:.0f} s; peak = the process's resident memory above its start)")
    print("   floor = the machine's own cost of the syscall work that gas buys at the limit (turns of the loop x one\n"
          "   turn's bytes copied, checked, hashed or verified by C code: memcpy, the UTF-8 decoder, hashlib, blake3,\n"
          "   libsodium; measured now) and the bytes that work must keep; a floor over 1 s or 100 MB means no\n"
          "   implementation of that schedule can stay within them")
    print(f"   {'program':30} {'schedule':8} {'gas used':>11} {'impl s':>8} {'us/gas':>8} {'s at limit':>10}"
          f" {'peak MB':>8} {'spec us/gas':>11} {'impl/spec':>9} {'turn gas':>8} {'floor s':>8} {'/floor':>7}"
          f" {'floor MB':>9}  within 1 s and 100 MB")
    for name, _, _ in hostile_programs():
        floor_turn, floor_kept = _fresh(hostile_floor, name)
        for bounded in (False, True):
            gas_per_turn = _fresh(turn_gas, name, bounded)
            turns = target // gas_per_turn
            floor_s, floor_mb = floor_turn * turns, floor_kept * turns / 1e6
            spec = _fresh(hostile_series, "spec", name, bounded, [SPEC_HOSTILE_GAS])
            spec_per_gas = spec["cpu"] / max(spec["gas"], 1) * 1e6
            impl = _fresh(hostile_series, "impl", name, bounded, levels)
            used, reason, cpu = impl["gas"], impl["reason"], impl["cpu"]
            per_gas = cpu / max(used, 1) * 1e6
            projected = per_gas * target / 1e6 if reason == "out_of_gas" else cpu
            peak_mb = impl["peak_kib"] / 1024
            short = used < target and reason == "out_of_gas"
            if short:
                peak_mb *= target / max(used, 1)  # memory grows with gas in these loops: projected
            verdict = "yes" if projected <= 1.0 and peak_mb <= 100 else "no"
            if verdict == "no" and (floor_s > 1.0 or floor_mb > 100):
                verdict = "no: not on any implementation (floor)"
            note = f" (ended: {reason})" if reason != "out_of_gas" else " (projected)" if short else ""
            benchtable.record("athena", f"hostile {name}, {'bounded' if bounded else 'live'} schedule: CPU-s at "
                              f"{target:,} gas", "s", projected, "the machine's floor for that work", floor_s)
            print(f"   {name:30} {'bounded' if bounded else 'live':8} {used:>11,} {cpu:8.3f} {per_gas:8.3f} "
                  f"{projected:10.2f} {peak_mb:8.1f} {spec_per_gas:11.2f} {_ratio(spec_per_gas, per_gas):>9} "
                  f"{gas_per_turn:>8,} {floor_s:8.3f} {_ratio(projected, floor_s):>7} {floor_mb:9.1f}  {verdict}{note}")


def run(args: argparse.Namespace) -> None:
    _size_list(args.sizes)  # bad arguments fail before anything runs
    for pattern in args.elf:
        _suite_files(pattern)
    print(f"load average before: {load_average()} (1, 5, 15 min); {os.cpu_count()} CPUs")
    with Timer() as total:
        _compiled_programs(args)
        _suites(args)
        _sizes(args)
        if not args.no_hostile:
            _hostile(args)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"load average after: {load_average()}; this run: {total.cpu:.1f} s CPU here, "
          f"{children.ru_utime + children.ru_stime:.1f} s in child processes, {total.wall:.1f} s wall")
