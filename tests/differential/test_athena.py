"""Athena: the fast interpreter (impl/athena.py) against the spec, and both against Unicorn.

Random programs are streams of valid RV32EM instructions of every group (plus raw random words
that happen to decode, to reach the lax-decoding corners), short branches and jumps in both
directions, loads and stores around a base register, and a few syscalls. Spec and impl must end
in the same state: registers, memory, pc, gas, steps, status and reason, output.

Unicorn (an independent emulator, standard RISC-V) runs the subset where Athena and standard
RISC-V agree: no JALR (Athena keeps the low bit), aligned accesses above address 40, no ecall,
programs that end by running off the code. Registers, memory and instruction counts must match.
"""

from __future__ import annotations

import pytest
import smspec.spec.athena as athena_module
from hypothesis import given, settings
from hypothesis import strategies as st
from smspec.impl.athena import make_run
from smspec.tests.spec.athena.asm import b_type, i_type, j_type, r_type, s_type

M = 0xFFFFFFFF
BASE_REGISTER = 8  # s0 points at data memory and is never overwritten
DATA = 0x2000
REG = st.integers(1, 15).filter(lambda r: r != BASE_REGISTER)
SRC = st.integers(0, 15)
IMM12 = st.integers(-2048, 2047)
R_OPS = [(0, 0), (0, 0x20), (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (5, 0x20), (6, 0), (7, 0),
         (0, 1), (1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (7, 1)]


def spec_run():
    return athena_module.__dict__.get("__spec_originals__", {}).get("run", athena_module.run)


IMPL_RUN = make_run(athena_module)


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
    return prologue + [w for item in items for w in item]


def raw(words: list[int]) -> bytes:
    return b"\x7fATH" + b"".join(w.to_bytes(4, "little") for w in words)


def final_state(machine) -> tuple:
    trap = machine.trap
    return (
        list(machine.registers),
        {a: v for a, v in machine.memory.items() if v},
        machine.pc,
        machine.gas,
        machine.steps,
        None if trap is None else (trap.status, trap.reason),
        bytes(machine.output),
        machine.input_position,
    )


def run_both(code: bytes, gas: int, input_stream: bytes = b"abcdefgh"):
    program = athena_module.load_program(code)
    results = []
    for run in (spec_run(), IMPL_RUN):
        host = athena_module.InMemoryHost()
        host.account(b"\x00" * 24).balance = 123456789
        machine = run(program, program.pc_start, input_stream, host, athena_module.AthenaContext(), gas)
        results.append(final_state(machine))
    return results


@given(athena_program(), st.integers(0, 3000))
def test_impl_matches_spec_on_random_programs(words, gas):
    spec_state, impl_state = run_both(raw(words), gas)
    assert impl_state == spec_state


@given(st.lists(st.one_of(alu(), memory_op(aligned=True)), min_size=1, max_size=30), st.integers(1, 30))
def test_impl_matches_spec_in_loops(body, turns):
    # a counted loop around random straight-line code: exercises the in-block loop and budgets
    words = [(DATA >> 12 << 12) | (BASE_REGISTER << 7) | 0x37, i_type(turns, 0, 0, 1, 0x13)]
    body = [w if (w >> 7) & 31 != 1 or (w & 0x7F) == 0x23 else (w & ~(31 << 7)) | (2 << 7) for w in body]
    words += body + [i_type(-1, 1, 0, 1, 0x13), b_type(-4 * (len(body) + 1), 0, 1, 1)]
    for gas in (10**6, 4 * len(words) * turns // 2):
        spec_state, impl_state = run_both(raw(words), gas)
        assert impl_state == spec_state


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
    for run in (spec_run(), IMPL_RUN):
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
    for run in (spec_run(), IMPL_RUN):
        machine = run(program, program.pc_start, input_stream, athena_module.InMemoryHost(), athena_module.AthenaContext(), 10**8)
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


@given(st.lists(st.tuples(st.sampled_from(SYSCALL_NUMBERS), st.lists(INTERESTING, min_size=6, max_size=6)),
                min_size=1, max_size=4), st.binary(max_size=64))
def test_random_syscalls_end_with_a_status(calls, input_stream):
    # any syscall number with any arguments ends in a defined state: never a Python exception
    words = []
    for number, arguments in calls:
        words += load_immediate(5, number)
        for register, value in zip(range(10, 16), arguments):
            words += load_immediate(register, value)
        words.append(0x73)
    spec_state, impl_state = run_both(raw(words), 10**6, input_stream)
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
    host = athena_module.InMemoryHost()
    message = athena_module.Message(recipient=bytes(24), sender=bytes(24), gas=10_000, input=payload)
    result = athena_module.call_program(code, message, host, bytes(24))
    assert isinstance(result.status, athena_module.StatusCode)
    assert result.gas_left <= 10_000
    if result.status != athena_module.StatusCode.SUCCESS:
        assert (result.gas_left, result.output) == (0, None)
