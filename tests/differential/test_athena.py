"""Athena: the fast VM (impl/athena.py) against the spec, and both against Unicorn.

Random programs are streams of valid RV32EM instructions of every group (plus raw random words
that happen to decode, to reach the lax-decoding corners), short branches and jumps in both
directions, loads and stores around a base register, and a few syscalls. Spec and impl must end
in the same state: registers, memory, pc, gas, steps, status and reason, output. The spec side
runs under the spec backend (spec ``load_program`` and ``run``); the impl side under the impl
backend (lazy ``load_program``, tiered ``run``, bulk syscall memory), at several tiering
thresholds: 0 (every block compiled at once), 1, the default, and None (never compiled).

Unicorn (an independent emulator, standard RISC-V) runs the subset where Athena and standard
RISC-V agree: no JALR (Athena keeps the low bit), aligned accesses above address 40, no ecall,
programs that end by running off the code. Registers, memory and instruction counts must match.

The mechanisms of the impl are also checked one by one: the vectorized validity test against
``decode_instruction``, lazy loading (programs, errors, memory images with overlapping
segments), the bulk syscall memory helpers, libsodium-based ed25519 (torsion, small-order and
non-canonical keys), and the gas schedules.
"""

from __future__ import annotations

import contextlib
import struct

import numpy as np
import pytest
import smspec.spec.athena as athena_module
from hypothesis import given, settings
from hypothesis import strategies as st
from smspec.impl import athena as impl
from smspec.impl import registry
from smspec.tests.spec.athena.asm import b_type, i_type, j_type, r_type, s_type

pytestmark = pytest.mark.usefixtures("spec_backend")

M = 0xFFFFFFFF
BASE_REGISTER = 8  # s0 points at data memory and is never overwritten
DATA = 0x2000
REG = st.integers(1, 15).filter(lambda r: r != BASE_REGISTER)
SRC = st.integers(0, 15)
IMM12 = st.integers(-2048, 2047)
R_OPS = [(0, 0), (0, 0x20), (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (5, 0x20), (6, 0), (7, 0),
         (0, 1), (1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (7, 1)]
THRESHOLDS = (impl.DEFAULT_THRESHOLD, 0, 1, None)


@contextlib.contextmanager
def backend(name: str):
    previous = registry.active_backend()
    registry.use_backend(name)
    try:
        yield athena_module
    finally:
        registry.use_backend(previous)


def spec_run():
    return registry.original(athena_module, "run")


def impl_run(threshold=impl.DEFAULT_THRESHOLD):
    """The impl run at a tiering threshold (call it under the impl backend)."""
    return impl.make_run(athena_module, threshold)


@st.composite
def alu(draw, lax: bool = True):
    kind = draw(st.integers(0, 4))
    rd = draw(REG)
    rs1 = draw(SRC)
    if kind == 0:
        funct3, funct7 = draw(st.sampled_from(R_OPS))
        return r_type(funct7, draw(SRC), rs1, funct3, rd, 0x33)
    if kind == 1:
        funct3 = draw(st.sampled_from([0, 2, 3, 4, 6, 7]))
        return i_type(draw(IMM12), rs1, funct3, rd, 0x13)
    if kind == 2:
        shifts = [(1, 0), (5, 0), (5, 0x20)] + ([(1, 0x7F)] if lax else [])  # SLLI ignores funct7 in Athena
        funct3, funct7 = draw(st.sampled_from(shifts))
        return r_type(funct7, draw(st.integers(0, 31)), rs1, funct3, rd, 0x13)
    opcode = 0x37 if kind == 3 else 0x17
    return (draw(st.integers(0, 0xFFFFF)) << 12) | (rd << 7) | opcode


@st.composite
def memory_op(draw, aligned: bool):
    width = draw(st.sampled_from([0, 1, 2]))
    offset = draw(st.integers(-64, 64))
    if aligned:
        offset &= ~((1 << width) - 1)
    if draw(st.booleans()):
        funct3 = width if width == 2 else draw(st.sampled_from([width, width + 4]))
        return i_type(offset, BASE_REGISTER, funct3, draw(REG), 0x03)
    return s_type(offset, draw(SRC), BASE_REGISTER, width, 0x23)


@st.composite
def control(draw, jalr: bool):
    kind = draw(st.integers(0, 2 if jalr else 1))
    offset = 4 * draw(st.integers(-6, 8))
    if kind == 0:
        return b_type(offset, draw(SRC), draw(SRC), draw(st.sampled_from([0, 1, 4, 5, 6, 7])))
    if kind == 1:
        return j_type(offset, draw(st.sampled_from([0, 1, 5])))
    return i_type(draw(st.integers(-8, 40)), draw(SRC), 0, draw(st.sampled_from([0, 1])), 0x67)


def decodable(word: int) -> bool:
    try:
        athena_module.decode_instruction(word)
    except athena_module.InvalidProgram:
        return False
    return True


SYSCALLS = st.sampled_from([
    [i_type(0xF0, 0, 0, 5, 0x13), 0x73],  # HINT_LEN
    [i_type(0xF1, 0, 0, 5, 0x13), i_type(0, BASE_REGISTER, 0, 10, 0x13), i_type(3, 0, 0, 11, 0x13), 0x73],
    [i_type(2, 0, 0, 5, 0x13), i_type(3, 0, 0, 10, 0x13), i_type(0, BASE_REGISTER, 0, 11, 0x13),
     i_type(5, 0, 0, 12, 0x13), 0x73],  # WRITE 5 bytes to the output
    [i_type(0xA3, 0, 0, 5, 0x13), i_type(0, BASE_REGISTER, 0, 10, 0x13), 0x73],  # GETBALANCE
    [0x00100073], [0x0FF0000F],  # EBREAK, FENCE
])


@st.composite
def athena_program(draw):
    items = draw(st.lists(st.one_of(
        alu().map(lambda w: [w]),
        memory_op(aligned=False).map(lambda w: [w]),
        control(jalr=True).map(lambda w: [w]),
        SYSCALLS,
        st.integers(0, M).filter(decodable).map(lambda w: [w]),
    ), min_size=1, max_size=40))
    prologue = [(DATA >> 12 << 12) | (BASE_REGISTER << 7) | 0x37]
    if draw(st.integers(0, 3)) == 0:  # data around the protected words below address 40
        prologue = [i_type(draw(st.integers(0, 100)), 0, 0, BASE_REGISTER, 0x13)]
    return prologue + [w for item in items for w in item]


def raw(words: list[int]) -> bytes:
    return b"\x7fATH" + b"".join(w.to_bytes(4, "little") for w in words)


def final_state(machine) -> tuple:
    trap = machine.trap
    return (
        list(machine.registers),
        {a: v for a, v in machine.memory.items() if v},
        len(machine.memory),
        machine.pc,
        machine.gas,
        machine.steps,
        None if trap is None else (trap.status, trap.reason, trap.detail),
        bytes(machine.output),
        machine.input_position,
    )


def prepared_host():
    host = athena_module.InMemoryHost()
    host.account(b"\x00" * 24).balance = 123456789
    return host


def run_both(code: bytes, gas: int, input_stream: bytes = b"abcdefgh", thresholds=THRESHOLDS,
             schedule=athena_module.LIVE_GAS_SCHEDULE):
    """The final state under the spec, then under the impl at each threshold."""
    results = []
    program = athena_module.load_program(code)
    machine = spec_run()(program, program.pc_start, input_stream, prepared_host(), athena_module.AthenaContext(), gas,
                         None, schedule)
    results.append(final_state(machine))
    with backend("impl"):
        for threshold in thresholds:
            for program in (athena_module.load_program(code), registry.original(athena_module, "load_program")(code)):
                for _ in range(2):  # a second run finds the blocks the first one built (and compiled)
                    machine = impl_run(threshold)(program, program.pc_start, input_stream, prepared_host(),
                                                  athena_module.AthenaContext(), gas, None, schedule)
                    results.append(final_state(machine))
    return results


@given(athena_program(), st.integers(0, 3000))
def test_impl_matches_spec_on_random_programs(words, gas):
    spec_state, *impl_states = run_both(raw(words), gas)
    for impl_state in impl_states:
        assert impl_state == spec_state


@given(st.lists(st.one_of(alu(), memory_op(aligned=True)), min_size=1, max_size=30), st.integers(1, 30))
def test_impl_matches_spec_in_loops(body, turns):
    # a counted loop around random straight-line code: exercises the in-block loop and budgets
    words = [(DATA >> 12 << 12) | (BASE_REGISTER << 7) | 0x37, i_type(turns, 0, 0, 1, 0x13)]
    body = [w if (w >> 7) & 31 != 1 or (w & 0x7F) == 0x23 else (w & ~(31 << 7)) | (2 << 7) for w in body]
    words += body + [i_type(-1, 1, 0, 1, 0x13), b_type(-4 * (len(body) + 1), 0, 1, 1)]
    for gas in (10**6, 4 * len(words) * turns // 2):
        spec_state, *impl_states = run_both(raw(words), gas)
        for impl_state in impl_states:
            assert impl_state == spec_state


@settings(max_examples=20)
@given(st.lists(st.one_of(alu(), memory_op(aligned=False)), min_size=0, max_size=6),
       st.lists(st.one_of(alu(), memory_op(aligned=False)), min_size=0, max_size=6),
       st.integers(1, 4), st.integers(1, 4), st.integers(0, 3))
def test_nested_loops_at_every_gas_limit(head, inner, outer_turns, inner_turns, base_offset):
    # a counted loop inside a counted loop, random code (accesses that may be misaligned from a
    # base that moves, so alignment facts and step exits inside the inner loop are exercised)
    # before and in the inner loop: every limit up to the end gives the spec's state
    keep = {1, 2, BASE_REGISTER}

    def spare(w: int) -> int:  # no instruction of the random code writes the counters or the base
        return w if (w & 0x7F) == 0x23 or (w >> 7) & 31 not in keep else (w & ~(31 << 7)) | (3 << 7)

    head, inner = [spare(w) for w in head], [spare(w) for w in inner]
    words = [(DATA >> 12 << 12) | (BASE_REGISTER << 7) | 0x37, i_type(outer_turns, 0, 0, 1, 0x13)]
    outer_body = head + [i_type(inner_turns, 0, 0, 2, 0x13)]
    inner_body = inner + [i_type(base_offset, BASE_REGISTER, 0, BASE_REGISTER, 0x13), i_type(-1, 2, 0, 2, 0x13)]
    words += outer_body + inner_body + [b_type(-4 * len(inner_body), 0, 2, 1)]
    words += [i_type(-1, 1, 0, 1, 0x13), b_type(-4 * (len(outer_body) + len(inner_body) + 2), 0, 1, 1)]
    total = run_both(raw(words), 10**6, thresholds=())[0][5]
    for gas in range(0, 4 * total + 8, 4):  # 4 gas per instruction: a limit of 4j + 1..3 is one of 4j
        spec_state, *impl_states = run_both(raw(words), gas, thresholds=(0, 1))
        for impl_state in impl_states:
            assert impl_state == spec_state


@pytest.mark.parametrize("base", [0, 1, 2, 3])
def test_alignment_learned_from_an_access(base):
    # a compiled block learns a register's low bits from an access that passed its alignment
    # check and decides later checks from it: two accesses from one base at every pair of
    # offsets and widths (word and half loads and stores), compiled at once, end as in the spec
    load = {"lw": 2, "lh": 1, "lhu": 5}
    store = {"sw": 2, "sh": 1}
    for first in ("lw", "lh", "sw", "sh"):
        for second in ("lw", "lhu", "sw", "sh"):
            for first_offset in range(-2, 4):
                for second_offset in range(4):
                    words = [(DATA >> 12 << 12) | (BASE_REGISTER << 7) | 0x37,
                             i_type(base, BASE_REGISTER, 0, BASE_REGISTER, 0x13), i_type(77, 0, 0, 9, 0x13),
                             b_type(4, 0, 0, 0)]  # taken: the accesses start a block where the base is unknown
                    for name, offset in ((first, first_offset), (second, second_offset)):
                        if name in load:
                            words.append(i_type(offset, BASE_REGISTER, load[name], 10, 0x03))
                        else:
                            words.append(s_type(offset, 9, BASE_REGISTER, store[name], 0x23))
                    words.append(i_type(1, 0, 0, 11, 0x13))
                    spec_state, *impl_states = run_both(raw(words), 10**6, thresholds=(0,))
                    for impl_state in impl_states:
                        assert impl_state == spec_state, (first, first_offset, second, second_offset)


CALLS = """
  li s1, {turns}
  li s0, {f}
loop:
  jal ra, f
  addi a1, a1, 1
  jalr ra, 0(s0)
  addi a2, a2, 1
  xori s0, s0, {toggle}
  addi s1, s1, -1
  bne s1, zero, loop
  j end
f:
  addi a0, a0, 3
  andi a3, a0, 4
  beq a3, zero, skip
  addi a4, a4, 1
skip:
  ret
g:
  addi a5, a5, 7
  jalr zero, 0(ra)
end:
  addi a0, a0, 1
"""


@pytest.mark.parametrize("toggle", [False, True])
def test_calls_and_returns_followed_at_every_gas_limit(toggle):
    # a superblock follows a call and the return to a link set on its path, and a JALR to the
    # target tier 0 saw last, checked when it runs: one function called from two sites (its
    # return goes to either), the indirect call alternating between two functions or not
    from smspec.tests.spec.athena.asm import raw_program

    lines = [line.strip() for line in CALLS.split("\n") if line.strip()]
    # every instruction of the program is one word (its constants are small)
    f = 4 * sum(1 for line in lines[: lines.index("f:")] if not line.endswith(":"))
    g = 4 * sum(1 for line in lines[: lines.index("g:")] if not line.endswith(":"))
    code = raw_program(CALLS.format(turns=6, f=f, toggle=(f ^ g) if toggle else 0))
    end = run_both(code, 10**6, thresholds=())[0]
    assert end[0][15] == (21 if toggle else 0) and end[0][11] == 6  # g ran on every other turn
    total = end[5]
    for gas in range(0, 4 * total + 8, 4):
        spec_state, *impl_states = run_both(code, gas, thresholds=(impl.DEFAULT_THRESHOLD, 0, 1, 2))
        for impl_state in impl_states:
            assert impl_state == spec_state, gas


# ---------------------------------------------------------------------------------------------
# Unicorn


def unicorn_run(words: list[int], max_steps: int):
    unicorn = pytest.importorskip("unicorn")
    from unicorn import riscv_const

    emu = unicorn.Uc(unicorn.UC_ARCH_RISCV, unicorn.UC_MODE_RISCV32)
    emu.mem_map(0, 0x10000)
    code = b"".join(w.to_bytes(4, "little") for w in words)
    emu.mem_write(0, code)
    count = [0]

    def on_code(uc, address, size, user_data):
        count[0] += 1

    emu.hook_add(unicorn.UC_HOOK_CODE, on_code)
    emu.emu_start(0, len(code), count=max_steps)
    registers = [0] + [emu.reg_read(getattr(riscv_const, f"UC_RISCV_REG_X{i}")) for i in range(1, 16)]
    memory = {}
    data = emu.mem_read(DATA - 0x100, 0x200)
    for offset in range(0, 0x200, 4):
        value = int.from_bytes(data[offset : offset + 4], "little")
        if value:
            memory[DATA - 0x100 + offset] = value
    return registers, memory, count[0], emu.reg_read(riscv_const.UC_RISCV_REG_PC)


@st.composite
def unicorn_program(draw):
    items = draw(st.lists(st.one_of(alu(lax=False), memory_op(aligned=True), control(jalr=False)), min_size=1, max_size=40))
    # branches and jumps go forward only, so every program ends by running off the code
    fixed = []
    for index, w in enumerate(items):
        opcode = w & 0x7F
        room = len(items) - index  # words from this one to the end of the code
        if opcode == 0x63:
            fixed.append(b_type(4 * draw(st.integers(1, room)), (w >> 20) & 31, (w >> 15) & 31, (w >> 12) & 7))
        elif opcode == 0x6F:
            fixed.append(j_type(4 * draw(st.integers(1, room)), (w >> 7) & 31))
        else:
            fixed.append(w)
    return [(DATA >> 12 << 12) | (BASE_REGISTER << 7) | 0x37] + fixed


@given(unicorn_program())
@settings(max_examples=30)
def test_spec_and_impl_match_unicorn(words):
    end = 4 * len(words)
    program = athena_module.load_program(raw(words))
    with backend("impl"):
        runs = [impl_run(threshold) for threshold in (0, None)]
    for run in (spec_run(), *runs):
        machine = run(program, 0, b"", athena_module.InMemoryHost(), athena_module.AthenaContext(), 10**6)
        assert machine.trap is None
        registers, memory, count, pc = unicorn_run(words, 10**4)
        data_memory = {a: v for a, v in machine.memory.items() if v and DATA - 0x100 <= a < DATA + 0x100}
        assert machine.registers == registers
        assert data_memory == memory
        assert machine.steps == count
        assert machine.gas == 4 * count
        assert machine.pc == pc >= end


# Compiled programs (C + picolibc, assembly) on Unicorn: output, registers, stack/code/data memory
# and instruction counts. HINT_LEN/HINT_READ/WRITE/HALT are
# emulated by an ecall hook following the host-ABI table of spec/athena.md.


COMPILED_WINDOW = (0x1F0000, 0x210000)  # stack below 0x200400, code at 0x200800, data after it


def unicorn_run_elf(code: bytes, input_stream: bytes, max_steps: int):
    import struct

    unicorn = pytest.importorskip("unicorn")
    from unicorn import riscv_const

    emu = unicorn.Uc(unicorn.UC_ARCH_RISCV, unicorn.UC_MODE_RISCV32)
    emu.mem_map(0, 0x400000)
    entry, phoff = struct.unpack_from("<II", code, 24)
    phnum = struct.unpack_from("<H", code, 44)[0]
    for index in range(phnum):
        kind, offset, vaddr, _, filesz, _, _, _ = struct.unpack_from("<8I", code, phoff + 32 * index)
        if kind == 1:
            emu.mem_write(vaddr, code[offset : offset + filesz])
    reg = {i: getattr(riscv_const, f"UC_RISCV_REG_X{i}") for i in range(1, 16)}
    state = {"count": 0, "position": 0, "output": bytearray(), "exit": None}

    def on_code(uc, address, size, user_data):
        state["count"] += 1

    def on_interrupt(uc, number, user_data):
        t0, a0, a1, a2 = (uc.reg_read(reg[i]) for i in (5, 10, 11, 12))
        remaining = len(input_stream) - state["position"]
        if t0 == 0:
            state["exit"] = a0
            uc.emu_stop()
        elif t0 == 2 and a0 == 3:
            state["output"] += uc.mem_read(a1, a2)
        elif t0 == 0xF0:
            uc.reg_write(reg[5], remaining)
        elif t0 == 0xF1 and a1 <= remaining:
            data = input_stream[state["position"] : state["position"] + a1]
            if len(data) % 4 and (a0 + len(data)) % 4:  # Athena zero-fills the last word
                data += b"\x00" * (-(a0 + len(data)) % 4)
            uc.mem_write(a0, data)
            state["position"] += a1
            uc.reg_write(reg[5], a1)
        else:
            raise AssertionError(f"unexpected syscall {t0:#x}")

    emu.hook_add(unicorn.UC_HOOK_CODE, on_code)
    emu.hook_add(unicorn.UC_HOOK_INTR, on_interrupt)
    emu.emu_start(entry, 0xFFFFFFFF, count=max_steps)
    registers = [0] + [emu.reg_read(reg[i]) for i in range(1, 16)]
    window = emu.mem_read(COMPILED_WINDOW[0], COMPILED_WINDOW[1] - COMPILED_WINDOW[0])
    memory = {}
    for offset in range(0, len(window), 4):
        value = int.from_bytes(window[offset : offset + 4], "little")
        if value:
            memory[COMPILED_WINDOW[0] + offset] = value
    return registers, bytes(state["output"]), state["count"], state["exit"], memory


@pytest.mark.parametrize(("name", "seed"), [("isa", 0), ("isa", 6), ("isa", 25), ("loop", 3000)])
def test_compiled_programs_match_unicorn(name, seed):
    import struct

    from smspec.tests.spec.athena.toolchain import build

    code = build(name)
    input_stream = struct.pack("<I", seed)
    program = athena_module.load_program(code)
    registers, output, count, exit_code, memory = unicorn_run_elf(code, input_stream, 10**6)
    assert exit_code == 0
    machines = [spec_run()(program, program.pc_start, input_stream, athena_module.InMemoryHost(),
                           athena_module.AthenaContext(), 10**8)]
    with backend("impl"):
        lazy = athena_module.load_program(code)
        for threshold in THRESHOLDS:
            machines.append(impl_run(threshold)(lazy, lazy.pc_start, input_stream, athena_module.InMemoryHost(),
                                                athena_module.AthenaContext(), 10**8))
    for machine in machines:
        assert machine.trap is None and machine.halted
        assert bytes(machine.output) == output
        assert machine.registers == registers
        window = {a: v for a, v in machine.memory.items() if v and COMPILED_WINDOW[0] <= a < COMPILED_WINDOW[1]}
        assert window == memory
        assert machine.steps == count
        assert machine.gas == 4 * count


SYSCALL_NUMBERS = [0x00, 0x02, 0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xF0, 0xF1, 0x00640020, 0x01, 0xFF, M]
INTERESTING = st.one_of(
    st.integers(0, M), st.sampled_from([0, 1, 3, 4, 36, 40, 0x1000, 0x1001, 0x1002, 0xFFFFFFFC, M, 0x10000, 0x10001])
)


def load_immediate(register: int, value: int) -> list[int]:
    low = value & 0xFFF
    high = ((value + 0x800) >> 12) & 0xFFFFF
    return [(high << 12) | (register << 7) | 0x37, i_type(low - 4096 if low >= 2048 else low, register, 0, register, 0x13)]


SYSCALL_CALLS = st.lists(st.tuples(st.sampled_from(SYSCALL_NUMBERS), st.lists(INTERESTING, min_size=6, max_size=6)),
                         min_size=1, max_size=4)


def syscall_words(calls) -> list[int]:
    """Each call: t0 and a0..a5 loaded with the drawn values, then ecall."""
    words = []
    for number, arguments in calls:
        words += load_immediate(5, number)
        for register, value in zip(range(10, 16), arguments):
            words += load_immediate(register, value)
        words.append(0x73)
    return words


@given(SYSCALL_CALLS, st.binary(max_size=64))
def test_random_syscalls_end_with_a_status(calls, input_stream):
    # any syscall number with any arguments ends in a defined state: never a Python exception
    spec_state, *impl_states = run_both(raw(syscall_words(calls)), 10**6, input_stream)
    for impl_state in impl_states:
        assert impl_state == spec_state


def mutated_elf(draw_data):
    from smspec.tests.spec.athena.asm import elf_program

    base = bytearray(elf_program("f: addi a0, zero, 1\nret", data=b"xy", exports={"athexp_f": "f"}))
    for position, value in draw_data:
        base[position % len(base)] = value
    return bytes(base)


CODE = st.one_of(
    st.binary(max_size=200),
    st.binary(max_size=200).map(lambda b: b"\x7fATH" + b),
    st.binary(max_size=200).map(lambda b: b"\x7fELF" + b),
    st.lists(st.tuples(st.integers(0, 10**4), st.integers(0, 255)), max_size=4).map(mutated_elf),
)


@given(CODE, st.one_of(st.none(), st.binary(max_size=40)))
def test_arbitrary_code_and_payload_give_a_result(code, payload):
    results = []
    for name in ("spec", "impl"):
        with backend(name):
            host = athena_module.InMemoryHost()
            message = athena_module.Message(recipient=bytes(24), sender=bytes(24), gas=10_000, input=payload)
            results.append(athena_module.call_program(code, message, host, bytes(24)))
    result = results[0]
    assert isinstance(result.status, athena_module.StatusCode)
    assert result.gas_left <= 10_000
    if result.status != athena_module.StatusCode.SUCCESS:
        assert (result.gas_left, result.output) == (0, None)
    assert results[1] == result


# ---------------------------------------------------------------------------------------------
# The impl's mechanisms one by one


def outcome_of(function, *args):
    try:
        return ("ok", function(*args))
    except athena_module.VmTrap as trap:
        return ("trap", type(trap).__name__, trap.status, trap.reason, trap.detail)


OPCODES = [0x03, 0x0F, 0x13, 0x17, 0x23, 0x33, 0x37, 0x63, 0x67, 0x6F, 0x73]


@st.composite
def instruction_like_word(draw):
    """A word with a known opcode and random fields (most of the decoder's corners)."""
    word = draw(st.integers(0, M)) & ~0x7F | draw(st.sampled_from(OPCODES))
    if draw(st.booleans()):  # small register fields
        for shift in (7, 15, 20):
            word = word & ~(31 << shift) | (draw(st.integers(0, 17)) << shift)
    if draw(st.booleans()):
        word = word & ~(0x7F << 25) | (draw(st.sampled_from([0, 1, 0x20, 0x7F])) << 25)
    if word & 0x7F == 0x73 and draw(st.booleans()):
        word = (draw(st.sampled_from([0, 1, 0x105, 0x302, 2])) << 20) | (draw(st.integers(0, 7)) << 12) | 0x73
    return word


@settings(max_examples=300)
@given(st.lists(st.one_of(st.integers(0, M), instruction_like_word()), min_size=1, max_size=64))
def test_vectorized_validity_matches_the_decoder(words):
    expected = [decodable(w) for w in words]
    for check in (impl.valid_words, impl._valid_words_by_rules):  # the table (large programs), the rules
        assert [bool(v) for v in check(np.array(words, dtype=np.uint32))] == expected


def test_vectorized_validity_on_every_opcode_funct3_funct7():
    words = [(funct7 << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode
             for opcode in range(128) for funct3 in range(8) for funct7 in (0, 1, 0x20, 0x21, 0x7F)
             for rd, rs1, rs2 in ((0, 0, 0), (1, 2, 3), (16, 0, 0), (0, 16, 0), (0, 0, 16), (31, 31, 31))]
    expected = [decodable(w) for w in words]
    for check in (impl.valid_words, impl._valid_words_by_rules):  # the table (large programs), the rules
        assert [bool(v) for v in check(np.array(words, dtype=np.uint32))] == expected


def elf_with_segments(segments, entry: int, code_first: bool = True) -> bytes:
    """An ELF file with the given (vaddr, data, flags) PT_LOAD segments, in that header order."""
    header_size, phdr_size = 52, 32
    offset = header_size + phdr_size * len(segments)
    phdrs, body = b"", b""
    for vaddr, data, flags in segments:
        phdrs += struct.pack("<IIIIIIII", 1, offset + len(body), vaddr, vaddr, len(data), len(data) + 8, flags, 4)
        body += data
    ident = b"\x7fELF" + bytes([1, 1, 1, 0]) + b"\x00" * 8
    header = ident + struct.pack("<HHIIIIIHHHHHH", 2, 243, 1, entry, header_size, 0, 0, header_size, phdr_size,
                                 len(segments), 40, 0, 0)
    return header + phdrs + body


def words_bytes(words) -> bytes:
    return b"".join((w & M).to_bytes(4, "little") for w in words)


@st.composite
def segmented_elf(draw):
    """Code reading and writing data in several segments, some overlapping, some odd-sized."""
    base = 0x10000
    data_segments = []
    for _ in range(draw(st.integers(1, 4))):
        vaddr = base + 4 * draw(st.integers(0, 3000))
        data = draw(st.binary(min_size=0, max_size=64))
        data_segments.append((vaddr, data, 6))
    text = []
    for _ in range(draw(st.integers(1, 12))):
        offset = 4 * draw(st.integers(0, 3100))
        register = draw(st.sampled_from([10, 11, 12]))
        # s0 = base + offset (lui + addi), then a load or a store
        high, low = ((base + offset + 0x800) >> 12) & 0xFFFFF, (base + offset) & 0xFFF
        text += [(high << 12) | (8 << 7) | 0x37, i_type(low - 4096 if low >= 2048 else low, 8, 0, 8, 0x13)]
        kind = draw(st.integers(0, 2))
        if kind == 0:
            text.append(i_type(0, 8, 2, register, 0x03))  # lw
        elif kind == 1:
            text.append(i_type(draw(st.integers(0, 3)), 8, 4, register, 0x03))  # lbu
        else:
            text.append(s_type(draw(st.integers(0, 3)), register, 8, 0, 0x23))  # sb
    code_segment = (0x1000, words_bytes(text), 5)
    segments = data_segments[:]
    segments.insert(draw(st.integers(0, len(segments))), code_segment)
    return elf_with_segments(segments, 0x1000)


@settings(max_examples=150)
@given(segmented_elf())
def test_lazy_memory_matches_the_spec_image(code):
    spec_state, *impl_states = run_both(code, 10**5, thresholds=(impl.DEFAULT_THRESHOLD, 0))
    for impl_state in impl_states:
        assert impl_state == spec_state


def program_fields(program) -> tuple:
    return (tuple(program.instructions), tuple(program.words), program.pc_base, program.pc_start,
            dict(program.memory_image), program.exports, program.selectors)


def load_outcome(load, code):
    try:
        return ("ok", program_fields(load(code)))
    except athena_module.InvalidProgram as error:
        return ("error", error.reason, error.detail)


@settings(max_examples=300)
@given(st.one_of(CODE, segmented_elf(), st.lists(st.integers(0, M), max_size=20).map(raw),
                 st.lists(instruction_like_word(), max_size=20).map(raw)))
def test_lazy_load_gives_the_spec_program_or_error(code):
    expected = load_outcome(registry.original(athena_module, "load_program"), code)
    fast = impl.make_load_program(athena_module)
    assert load_outcome(fast, code) == expected
    assert load_outcome(fast, code) == expected  # from the cache


def test_lazy_load_reads_only_what_runs():
    # a 4 MiB code segment: a loop, a jump to 0 (the end), then nops. Loading builds no instruction
    # objects beyond those fetched, and the run touches no image page
    nops = [i_type(0, 0, 0, 0, 0x13)] * (1 << 20)
    loop = [i_type(5, 0, 0, 10, 0x13), i_type(-1, 10, 0, 10, 0x13), b_type(-4, 0, 10, 1), i_type(0, 0, 0, 0, 0x67)]
    code = elf_with_segments([(0x1000, words_bytes(loop + nops), 5)], 0x1000)
    with backend("impl"):
        program = athena_module.load_program(code)
        machine = athena_module.run(program, 0x1000, b"", athena_module.InMemoryHost(), athena_module.AthenaContext(), 10**6)
        assert (machine.halted, machine.steps, machine.registers[10]) == (True, 12, 0)
        assert len(program.instructions._decoded) <= 4 and program.memory_image._full is None
        assert machine.memory.pending == program.memory_image.pages()
        assert len(machine.memory) == (1 << 20) + 4  # a whole view still sees every image word


MEMORY_ADDRESSES = st.one_of(st.integers(0x1000, 0x1100).map(lambda a: a & ~3),
                             st.integers(M - 0x40, M).map(lambda a: a & ~3), st.integers(0, 64).map(lambda a: a & ~3))


def machine_with(memory, input_stream=b""):
    program = registry.original(athena_module, "load_program")(raw([0x13]))
    return athena_module.Machine(program=program, host=athena_module.InMemoryHost(),
                                 context=athena_module.AthenaContext(), max_gas=10**6, pc=0, memory=memory,
                                 input_stream=bytearray(input_stream))


def memories(words: dict):
    """The same memory as a plain dict, and as a LazyMemory over an image holding every word."""
    lazy_image = impl.LazyImage([(a, impl._words_of(v.to_bytes(4, "little"))) for a, v in sorted(words.items())])
    return [dict(words), impl.LazyMemory(lazy_image)]


@settings(max_examples=400)
@given(st.dictionaries(MEMORY_ADDRESSES, st.integers(0, M), max_size=40),
       st.one_of(st.integers(0x1000, 0x1100), st.integers(M - 0x40, M), st.integers(0, 0x40), st.integers(0, M)),
       st.one_of(st.integers(0, 300), st.sampled_from([0x10000, 0x10001, M])),
       st.binary(max_size=300))
def test_bulk_syscall_memory_matches_the_spec(words, address, length, data):
    spec_read = registry.original(athena_module, "read_bytes")
    spec_write = registry.original(athena_module, "write_words")
    spec_hint = registry.original(athena_module, "syscall_hint_read")
    fast_read = impl._read_bytes_factory(athena_module)
    fast_write = impl._write_words_factory(athena_module)
    fast_hint = impl._syscall_hint_read_factory(athena_module)
    expected = outcome_of(spec_read, machine_with(dict(words)), address, length)
    for memory in memories(words):
        assert outcome_of(fast_read, machine_with(memory), address, length) == expected
    chunk = data[: len(data) - len(data) % 4]
    reference = machine_with(dict(words))
    expected = (outcome_of(spec_write, reference, address, chunk), dict(reference.memory))
    for memory in memories(words):
        machine = machine_with(memory)
        assert (outcome_of(fast_write, machine, address, chunk), dict(machine.memory)) == expected
    reference = machine_with(dict(words), data)
    reference.input_position = 3
    expected = (outcome_of(spec_hint, reference, address, length), dict(reference.memory), reference.input_position)
    for memory in memories(words):
        machine = machine_with(memory, data)
        machine.input_position = 3
        assert (outcome_of(fast_hint, machine, address, length), dict(machine.memory), machine.input_position) == expected


# ed25519: keys with a torsion component, small-order and non-canonical encodings

SMALL_ORDER = [
    bytes.fromhex("0100000000000000000000000000000000000000000000000000000000000000"),
    bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    bytes.fromhex("0000000000000000000000000000000000000000000000000000000000000000"),
    bytes.fromhex("0000000000000000000000000000000000000000000000000000000000000080"),
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    bytes.fromhex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),  # y = p + 1: non-canonical 1
    bytes.fromhex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),  # y = p: non-canonical 0
]
A = athena_module


def key_with_torsion(secret: int, torsion: bytes) -> bytes:
    point = A.ed25519_multiply(secret, A.ED25519_BASE)
    extra = A.ed25519_decompress(torsion)
    return A.ed25519_compress(A.ed25519_add(point, extra))


def dalek_signature(secret: int, public: bytes, message: bytes, nonce: int) -> bytes:
    """R = [nonce]B, s = nonce + k * secret: valid under dalek's rules when [k] kills the key's torsion."""
    r_bytes = A.ed25519_compress(A.ed25519_multiply(nonce, A.ED25519_BASE))
    k = int.from_bytes(__import__("hashlib").sha512(r_bytes + public + message).digest(), "little") % A.ED25519_L
    return r_bytes + ((nonce + k * secret) % A.ED25519_L).to_bytes(32, "little")


@settings(max_examples=60)
@given(st.integers(1, A.ED25519_L - 1), st.sampled_from(SMALL_ORDER + [None]), st.binary(max_size=40),
       st.integers(1, A.ED25519_L - 1), st.sampled_from(["as_signed", "flip", "s_plus_l", "random"]),
       st.binary(min_size=64, max_size=64))
def test_ed25519_verify_matches_the_spec(secret, torsion, message, nonce, variant, noise):
    public = A.ed25519_compress(A.ed25519_multiply(secret, A.ED25519_BASE)) if torsion is None else key_with_torsion(secret, torsion)
    signature = dalek_signature(secret, public, message, nonce)
    if variant == "flip":
        signature = bytes([signature[0] ^ 1]) + signature[1:]
    elif variant == "s_plus_l":
        signature = signature[:32] + (int.from_bytes(signature[32:], "little") + A.ED25519_L).to_bytes(32, "little")
    elif variant == "random":
        signature = noise
    fast = impl._ed25519_verify_factory(athena_module)
    spec_verify = registry.original(athena_module, "ed25519_verify")
    assert fast(public, message, signature) == spec_verify(public, message, signature)


def test_ed25519_torsion_keys_accept_and_reject_like_the_spec():
    fast = impl._ed25519_verify_factory(athena_module)
    spec_verify = registry.original(athena_module, "ed25519_verify")
    accepted = 0
    for index, torsion in enumerate(SMALL_ORDER):
        public = key_with_torsion(1234567 + index, torsion)
        for nonce in range(1, 12):
            signature = dalek_signature(1234567 + index, public, b"m", nonce)
            verdict = spec_verify(public, b"m", signature)
            accepted += verdict
            assert fast(public, b"m", signature) == verdict
        for small in SMALL_ORDER:  # the key itself of small order, R of small order, s = 0
            assert fast(small, b"m", small + bytes(32)) == spec_verify(small, b"m", small + bytes(32))
    assert accepted > 8  # valid signatures with torsion keys were exercised, not only rejections


# Gas schedules


def test_bounded_schedule_charges_bytes_and_verifications():
    # WRITE 10 bytes to the output, then HINT_READ 3: live charges 4 per instruction only
    text = [i_type(2, 0, 0, 5, 0x13), i_type(3, 0, 0, 10, 0x13), i_type(0x100, 0, 0, 11, 0x13),
            i_type(10, 0, 0, 12, 0x13), 0x73, i_type(0xF1, 0, 0, 5, 0x13), i_type(0x200, 0, 0, 10, 0x13),
            i_type(3, 0, 0, 11, 0x13), 0x73]
    live = run_both(raw(text), 10**6)
    bounded = run_both(raw(text), 10**6, schedule=A.BOUNDED_GAS_SCHEDULE)
    assert all(state == live[0] for state in live) and all(state == bounded[0] for state in bounded)
    assert live[0][4] == 4 * 9
    assert bounded[0][4] == 4 * 9 + 10 + 3


@given(SYSCALL_CALLS, st.binary(max_size=64))
def test_random_syscalls_under_the_bounded_schedule(calls, input_stream):
    spec_state, *impl_states = run_both(raw(syscall_words(calls)), 10**6, input_stream,
                                        thresholds=(impl.DEFAULT_THRESHOLD,), schedule=A.BOUNDED_GAS_SCHEDULE)
    for impl_state in impl_states:
        assert impl_state == spec_state


@settings(max_examples=40)
@given(SYSCALL_CALLS, st.binary(max_size=64), st.booleans())
def test_syscalls_running_out_of_gas(calls, input_stream, bounded):
    # the impl runs an ecall without the spec's step (its syscall, then step's gas and halting
    # rules): limits one below, at and one above the gas after each ecall that completes (a
    # syscall's extra gas and its bytes included) end alike
    schedule = A.BOUNDED_GAS_SCHEDULE if bounded else A.LIVE_GAS_SCHEDULE
    code = raw(syscall_words([(0xF0, [0] * 6), *calls]))  # HINT_LEN first: at least one ecall completes
    program = athena_module.load_program(code)
    after_ecall: list[int] = []
    spec_run()(program, program.pc_start, input_stream, prepared_host(), athena_module.AthenaContext(), 10**6,
               lambda record: after_ecall.append(record.gas) if record.word == 0x73 else None, schedule)
    assert after_ecall
    for gas in sorted({limit + delta for limit in after_ecall for delta in (-1, 0, 1)}):
        spec_state, *impl_states = run_both(code, gas, input_stream, thresholds=(impl.DEFAULT_THRESHOLD, 0),
                                            schedule=schedule)
        for impl_state in impl_states:
            assert impl_state == spec_state


@pytest.mark.parametrize("funct3", [0, 1, 2])
def test_stores_around_the_protected_words(funct3):
    # every store width at every address 0..63 (protected below 40, misaligned halves and words),
    # straight-line and in a loop that compiles
    for address in range(64):
        for words in ([i_type(address, 0, 0, BASE_REGISTER, 0x13), i_type(7, 0, 0, 10, 0x13),
                       s_type(0, 10, BASE_REGISTER, funct3, 0x23)],
                      [i_type(address, 0, 0, BASE_REGISTER, 0x13), i_type(3, 0, 0, 1, 0x13),
                       s_type(0, 1, BASE_REGISTER, funct3, 0x23), i_type(-1, 1, 0, 1, 0x13), b_type(-8, 0, 1, 1)]):
            spec_state, *impl_states = run_both(raw(words), 10**4, thresholds=(0, 1, None))
            for impl_state in impl_states:
                assert impl_state == spec_state


@pytest.mark.parametrize("funct3", [0, 1, 2, 4, 5])
def test_loads_at_every_alignment(funct3):
    for address in range(0x2000, 0x2008):
        words = [i_type(address, 0, 0, BASE_REGISTER, 0x13), i_type(-1, 0, 0, 10, 0x13),
                 s_type(0, 10, BASE_REGISTER, 2, 0x23) if address % 4 == 0 else 0x13,
                 i_type(0, BASE_REGISTER, funct3, 11, 0x03), i_type(0, BASE_REGISTER, funct3, 0, 0x03)]
        spec_state, *impl_states = run_both(raw(words), 10**4, thresholds=(0, 1, None))
        for impl_state in impl_states:
            assert impl_state == spec_state


def assert_one_pass_blocks_match(code: bytes) -> None:
    """Engine.basic (the one-pass tier-0 builder, op tuples cached per word) gives at every pc
    exactly the op tuples, pcs and end of _tier0 over the basic-block path."""
    with backend("impl"):
        program = athena_module.load_program(code)
    engine = impl.Engine(program, impl.DEFAULT_THRESHOLD)
    assert engine.words is not None
    for index in range(engine.size):
        pc = (engine.base + 4 * index) & M
        assert engine.basic(pc) == impl._tier0(engine.superblock(pc, basic=True)), hex(pc)


@settings(max_examples=150, deadline=None)
@given(athena_program())
def test_one_pass_tier0_blocks_match_the_path_builder(words):
    impl._word_ops.clear()
    assert_one_pass_blocks_match(raw(words))
    assert_one_pass_blocks_match(raw(words))  # the second time from the per-word cache


def test_one_pass_tier0_blocks_follow_jumps_like_the_path_builder():
    # jal to itself, jal back into the block, jal forward (followed), jal to 0, jal out of the code
    words = [i_type(1, 0, 0, 5, 0x13), j_type(0, 0), i_type(2, 0, 0, 6, 0x13), j_type(-8, 1), j_type(8, 0),
             0x13, j_type(-4 * 6, 0), 0x13, j_type(1 << 12, 0), i_type(0, 1, 0, 0, 0x67)]
    assert_one_pass_blocks_match(raw(words))
    from smspec.tests.spec.athena.toolchain import build

    for name in ("isa", "wallet"):
        code = build(name)
        if code is not None:  # without the RISC-V toolchain, the raw programs above only
            assert_one_pass_blocks_match(code)


def first_run(code: bytes, gas: int, input_stream: bytes = b"abcdefgh") -> tuple[tuple, impl.Engine]:
    """The final state of the impl's first run of `code` (a fresh engine, the default threshold) and its engine."""
    with backend("impl"):
        program = athena_module.load_program(code)
        impl._engines.pop((id(program), impl.DEFAULT_THRESHOLD), None)
        machine = impl_run()(program, program.pc_start, input_stream, prepared_host(), athena_module.AthenaContext(),
                             gas, None, athena_module.LIVE_GAS_SCHEDULE)
        return final_state(machine), impl.engine_of(program, impl.DEFAULT_THRESHOLD)


@settings(max_examples=200, deadline=None)
@given(athena_program(), st.integers(0, 600))
def test_first_visits_run_without_building_blocks(words, gas):
    # a pc entered for the first time runs through the walker: same state as the spec at any gas
    # limit (the walk stops at the budget, a taken branch or jump, an ecall, the end of the code),
    # and a block is built only at a start entered before
    spec_state = run_both(raw(words), gas, thresholds=())[0]
    state, engine = first_run(raw(words), gas)
    assert state == spec_state
    assert set(engine.blocks) <= engine.visited


def test_straight_line_code_run_once_builds_no_block():
    # riscv-tests-like code: straight-line ALU, loads and stores, a forward jump, then a HALT
    words = [(DATA >> 12 << 12) | (BASE_REGISTER << 7) | 0x37, i_type(5, 0, 0, 10, 0x13),
             s_type(4, 10, BASE_REGISTER, 2, 0x23), i_type(4, BASE_REGISTER, 2, 11, 0x03), r_type(0, 10, 11, 0, 12, 0x33),
             j_type(8, 0), i_type(99, 0, 0, 12, 0x13), i_type(0, 0, 0, 5, 0x13), 0x73]
    end = run_both(raw(words), 10**6, thresholds=())[0]
    assert end[0][12] == 10 and end[5] == 7  # the jump skips one instruction; the HALT ecall is not counted
    for gas in range(0, 4 * 9):
        spec_state = run_both(raw(words), gas, thresholds=())[0]
        state, engine = first_run(raw(words), gas)
        assert state == spec_state, gas
        assert engine.blocks == {} and engine.compiled == 0


def test_first_visit_runs_off_the_code_at_the_top_of_the_address_space():
    # code in the last words a segment may hold (its end at most 2**32 - 1): the walker runs off it
    from smspec.tests.spec.athena.asm import elf_program

    code = elf_program("addi a0, zero, 7\naddi a1, a0, 1\naddi a2, a1, 1", code_base=0xFFFFFFF0, data_base=0x10000)
    for gas in range(0, 16):
        spec_state = run_both(code, gas, thresholds=())[0]
        state, engine = first_run(code, gas)
        assert state == spec_state, gas
    assert spec_state[3] == 0xFFFFFFFC and spec_state[0][12] == 9 and spec_state[5] == 3
