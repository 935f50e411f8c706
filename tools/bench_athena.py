"""Athena VM: instructions per second, spec vs impl, on a loop-heavy program and a compiled C program.

Both backends run the same loaded program in the same process, one after the other; the
ratio impl/spec is printed per program. The loop program is programs/loop.S (or, without the
cross toolchain, the same loop hand-assembled); the C program is programs/isa.c built with
GCC + picolibc (skipped when the toolchain is absent).
"""

from __future__ import annotations

import argparse
import struct
import time
from typing import Any

from smspec.tools.cli import integer

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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--loop-n", type=integer(1, 2**32 - 1, "a loop count"), default=100_000, metavar="N", help="turns of the loop program (default 100,000)")
    parser.add_argument("--seed", type=integer(0, 2**32 - 1, "a u32 input"), default=50_000, metavar="N",
                        help="input of the C program (its Fibonacci loop runs N turns; default 50,000)")
    parser.add_argument("--repeat", type=integer(1, 1000, "a repeat count"), default=3, metavar="K", help="best of K runs per backend (default 3)")


def _programs(args: argparse.Namespace, athena: Any) -> list[tuple[str, Any, bytes]]:
    from smspec.tests.spec.athena import toolchain
    from smspec.tests.spec.athena.asm import raw_program

    programs = []
    if toolchain.toolchain_available():
        programs.append(("loop (programs/loop.S)", athena.load_program(toolchain._build("loop")), struct.pack("<I", args.loop_n)))
        programs.append(("C (programs/isa.c, -O2 + picolibc)", athena.load_program(toolchain._build("isa")),
                         struct.pack("<I", args.seed)))
    else:
        print("cross toolchain absent: using the hand-assembled loop, skipping the C program")
        programs.append(("loop (hand-assembled)", athena.load_program(raw_program(LOOP_TEXT.format(n=args.loop_n))), b""))
    return programs


def _time(run: Any, athena: Any, program: Any, input_stream: bytes, repeat: int) -> tuple[float, Any]:
    best = float("inf")
    machine = None
    for _ in range(repeat):
        start = time.perf_counter()
        machine = run(program, program.pc_start, input_stream, athena.InMemoryHost(), athena.AthenaContext(), 2**32 - 1)
        best = min(best, time.perf_counter() - start)
    return best, machine


def run(args: argparse.Namespace) -> None:
    import smspec.spec.athena as athena
    from smspec.impl.athena import make_run
    from tqdm import tqdm

    spec_run = athena.__dict__.get("__spec_originals__", {}).get("run", athena.run)
    impl_run = make_run(athena)
    rows = []
    programs = _programs(args, athena)
    with tqdm(total=2 * len(programs), desc="athena bench", unit="run", leave=False) as progress:
        for name, program, input_stream in programs:
            spec_time, spec_machine = _time(spec_run, athena, program, input_stream, args.repeat)
            progress.update()
            impl_time, impl_machine = _time(impl_run, athena, program, input_stream, args.repeat)
            progress.update()
            if (spec_machine.steps, bytes(spec_machine.output)) != (impl_machine.steps, bytes(impl_machine.output)):
                raise SystemExit(f"{name}: spec and impl disagree")
            steps = spec_machine.steps
            rows.append((name, steps, steps / spec_time, steps / impl_time, spec_time / impl_time))
    print(f"{'program':40} {'instructions':>12} {'spec instr/s':>14} {'impl instr/s':>14} {'impl/spec':>10}")
    for name, steps, spec_rate, impl_rate, ratio in rows:
        print(f"{name:40} {steps:>12,} {spec_rate:>14,.0f} {impl_rate:>14,.0f} {ratio:>9.1f}x")
