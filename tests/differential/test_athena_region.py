"""Athena: the impl's region functions (impl/athena.py, ``Engine.build_region``) against the spec.

A program's compiled blocks are joined into one region function once a whole run compiled no
new block: the registers stay in its locals from one block to the next, and it dispatches on
the pc. Each test runs a program often enough for the region to be built (and checks that it
was), then compares the impl's final state with the spec's (registers, memory, pc, gas, steps,
status, reason and detail, output) where a region is most likely to go wrong: gas running out
at every instruction of a region, a fault inside a region (its pc, the registers written by the
blocks before it), a syscall leaving a region, stores over the program's own code, deep
recursion, and random programs.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest
import smspec.spec.athena as athena_module
from hypothesis import given, settings
from hypothesis import strategies as st
from smspec.impl import athena as impl
from smspec.tests.differential.test_athena import (
    BASE_REGISTER,
    alu,
    athena_program,
    backend,
    final_state,
    impl_run,
    memory_op,
    prepared_host,
    raw,
)
from smspec.tests.differential.test_athena import spec_run as spec_runner
from smspec.tests.spec.athena.asm import assemble_words, b_type, i_type, raw_program, s_type

pytestmark = pytest.mark.usefixtures("spec_backend")

DATA = 0x2000
M = 0xFFFFFFFF
WARM_RUNS = 4  # a run that compiles nothing new, then the region is built at the start of the next one


def spec_state(code: bytes, gas: int, input_stream: bytes) -> tuple:
    program = athena_module.load_program(code)
    machine = spec_runner()(program, program.pc_start, input_stream, prepared_host(), athena_module.AthenaContext(),
                            gas, None, athena_module.LIVE_GAS_SCHEDULE)
    return final_state(machine)


def from_input(*registers: str, at: int = DATA - 64) -> str:
    """Assembly that sets `registers` from the input's words (HINT_READ, to address `at`, left in
    a0), so that the compiler knows nothing of their values (the block after the ``ecall`` starts
    with them unknown)."""
    loads = "\n".join(f"lw {name}, {4 * index}(a0)" for index, name in enumerate(registers))
    return f"li t0, 0xF1\nli a0, {at}\nli a1, {4 * len(registers)}\necall\n{loads}\n"


class Warm:
    """An impl program whose engine has built its region (at `threshold`), run by `state`."""

    def __init__(self, code: bytes, warm_input: bytes, threshold: int | None = 1, gas: int = 10**6) -> None:
        self.threshold = threshold
        self.run = impl_run(threshold)
        with backend("impl"):
            self.program = athena_module.load_program(code)
            for _ in range(WARM_RUNS):
                machine = self.state(gas, warm_input)
            self.engine = impl.engine_of(self.program, threshold)
        self.warm_state = machine
        assert self.engine.region is not None, "the region was not built"
        entries = [block for block in self.engine.blocks.values() if block.__name__ == "enter"]
        assert len(entries) >= 2

    def state(self, gas: int, input_stream: bytes) -> tuple:
        with backend("impl"):
            machine = self.run(self.program, self.program.pc_start, input_stream, prepared_host(),
                               athena_module.AthenaContext(), gas, None, athena_module.LIVE_GAS_SCHEDULE)
        return final_state(machine)


# A loop that calls a function which loads and stores at DATA + 16 + (delta once the turn passes
# K; on odd turns it skips an instruction, so the region has several blocks): the turns, K and
# delta come from the input (HINT_READ), so a warm run never faults and a later run faults inside
# the region, at the turn chosen: delta 1 makes the LW misaligned, delta
# -(DATA + 8) makes the SW store below address 40.
FAULTS = from_input("s1", "s0", "gp", at=DATA) + """
  li a2, 0
loop:
  addi a2, a2, 1
  jal ra, f
  bne a2, s1, loop
  jal zero, done
f:
  andi t1, a2, 1
  bne t1, zero, odd
  addi a5, a5, 5
odd:
  slt t1, s0, a2
  mul t2, t1, gp
  add a3, a0, t2
  lw a4, 16(a3)
  add a5, a5, a4
  addi a4, a4, 3
  sw a4, 16(a3)
  ret
done:
  addi a0, a5, 0
"""


def faults_input(turns: int, k: int, delta: int) -> bytes:
    return struct.pack("<IIi", turns, k, delta)


def test_gas_running_out_at_every_instruction_of_a_region():
    code = raw_program(FAULTS)
    warm = Warm(code, faults_input(30, 1000, 0))
    stream = faults_input(12, 1000, 0)
    total = spec_state(code, 10**6, stream)[4]
    assert total > 12 * 11 * 4
    for gas in range(0, total + 9):
        assert warm.state(gas, stream) == spec_state(code, gas, stream), gas


@pytest.mark.parametrize("delta", [1, -(DATA + 8)])
@pytest.mark.parametrize("k", [0, 1, 7])
def test_a_fault_inside_a_region_at_its_pc_with_the_registers_before_it(delta, k):
    code = raw_program(FAULTS)
    warm = Warm(code, faults_input(30, 1000, 0))
    stream = faults_input(20, k, delta)
    expected = spec_state(code, 10**6, stream)
    trap = expected[6]
    assert trap is not None and trap[1] == ("misaligned_load" if delta == 1 else "store_out_of_bounds"), trap
    assert warm.state(10**6, stream) == expected
    for gas in range(expected[4] - 12, expected[4] + 5):  # and out of gas just before or at it
        assert warm.state(gas, stream) == spec_state(code, gas, stream), gas


# A loop whose body makes a syscall (WRITE of 4 bytes, then HINT_LEN): the region leaves at each
# `ecall` and is entered again after it.
SYSCALL_LOOP = """
  li s1, {turns}
  li s0, {data}
loop:
  sw s1, 0(s0)
  li t0, 2
  li a0, 3
  addi a1, s0, 0
  li a2, 4
  ecall
  li t0, 0xF0
  ecall
  add a5, a5, t0
  addi s1, s1, -1
  bne s1, zero, loop
"""


def test_a_syscall_leaves_the_region_and_enters_it_again():
    code = raw_program(SYSCALL_LOOP.format(turns=25, data=DATA))
    warm = Warm(code, b"xyz")
    for stream in (b"", b"abcdefgh"):
        total = spec_state(code, 10**6, stream)[4]
        for gas in [*range(0, 120), *range(total - 60, total + 5), 10**6]:
            assert warm.state(gas, stream) == spec_state(code, gas, stream), gas
    assert warm.state(10**6, b"ab")[7] == b"".join(struct.pack("<I", turn) for turn in range(25, 0, -1))


# The program stores a different instruction over the head of its own loop each turn: Athena
# fetches from the program, not from memory (spec/athena.md, ``fetch``), so the stores change
# the memory and never the code, in the spec and in a region alike.
SELF_MODIFYING_HIGH = """
  li s1, 40
  li s0, {patch}
  jal zero, loop
  nop
  nop
  nop
  nop
  nop
  nop
  nop
  nop
  nop
loop:
  addi a5, a5, 1
  sw s0, {target}(zero)
  lw a4, {target}(zero)
  addi s1, s1, -1
  bne s1, zero, loop
"""


def test_stores_over_the_loop_body_itself():
    patch = assemble_words("addi a5, a5, 100")[0]
    words = assemble_words(SELF_MODIFYING_HIGH.format(patch=patch, target=0))
    target = 4 * words.index(assemble_words("addi a5, a5, 1")[0])
    assert target >= 40  # above the protected words: the store runs
    code = raw_program(SELF_MODIFYING_HIGH.format(patch=patch, target=target))
    warm = Warm(code, b"")
    expected = spec_state(code, 10**6, b"")
    assert expected[6] is None and expected[0][15] == 40  # the loop added 1 each turn
    assert expected[1][target] == patch  # and the memory holds the patch
    assert warm.state(10**6, b"") == expected
    for gas in range(0, 80):
        assert warm.state(gas, b"") == spec_state(code, gas, b""), gas


# Recursion: sum(n) = n + sum(n - 1) with a stack frame per call, n from the input.
RECURSION = """
  li sp, 0x80000
  li t0, 0xF1
  li a0, {data}
  li a1, 4
  ecall
  lw a0, 0(a0)
  jal ra, sum
  jal zero, done
sum:
  beq a0, zero, base
  addi sp, sp, -8
  sw ra, 4(sp)
  sw a0, 0(sp)
  addi a0, a0, -1
  jal ra, sum
  lw a1, 0(sp)
  lw ra, 4(sp)
  addi sp, sp, 8
  add a0, a0, a1
  ret
base:
  ret
done:
  addi a5, a0, 0
"""


@pytest.mark.parametrize("threshold", [1, 0, impl.DEFAULT_THRESHOLD])
def test_deep_recursion_in_a_region(threshold):
    code = raw_program(RECURSION.format(data=DATA))
    warm = Warm(code, struct.pack("<I", 300), threshold=threshold)
    for depth in (0, 1, 2, 1000, 5000):
        stream = struct.pack("<I", depth)
        expected = spec_state(code, 10**7, stream)
        assert expected[0][15] == depth * (depth + 1) // 2
        assert warm.state(10**7, stream) == expected
    stream = struct.pack("<I", 40)
    total = spec_state(code, 10**6, stream)[4]
    for gas in range(total - 200, total + 5):  # out of gas while returning
        assert warm.state(gas, stream) == spec_state(code, gas, stream), gas


@given(athena_program(), st.integers(0, 3000), st.sampled_from([0, 1]))
@settings(max_examples=60, deadline=None)
def test_random_programs_in_a_region(words, gas, threshold):
    code = raw(words)
    run = impl_run(threshold)
    expected = spec_state(code, gas, b"abcdefgh")
    with backend("impl"):
        program = athena_module.load_program(code)
        engine = impl.engine_of(program, threshold)
        for turn in range(WARM_RUNS + 2):
            if turn == WARM_RUNS and engine.region is None:
                engine.build_region()  # whatever compiled blocks there are (settle waits for two)
            machine = run(program, program.pc_start, b"abcdefgh", prepared_host(), athena_module.AthenaContext(),
                          gas, None, athena_module.LIVE_GAS_SCHEDULE)
            assert final_state(machine) == expected


def test_region_source_dispatches_on_every_block_start():
    code = raw_program(RECURSION.format(data=DATA))
    warm = Warm(code, struct.pack("<I", 50))
    starts = sorted(warm.engine.segments)  # the blocks of the region (any compiled since run on their own)
    assert set(starts) <= set(warm.engine.paths) and len(starts) >= 2
    for start in starts:
        assert warm.engine.blocks[start].__name__ == "enter"
    source = impl.region_source(starts, warm.engine.segments)
    for start in starts:
        assert source.count(f"if pc == {start}:") == 1
    compile(source, "<region>", "exec")


def words_in(*values: int) -> bytes:
    return b"".join(struct.pack("<I", value & M) for value in values)


def forced_region(code: bytes, threshold: int, input_stream: bytes = b"abcdefgh") -> Warm | None:
    """`code` run until its region is built, or built from whatever blocks were compiled."""
    warm = warmed(code, threshold, input_stream)
    return warm if warm.engine.region is not None else None


def warmed(code: bytes, threshold: int, input_stream: bytes = b"abcdefgh") -> Warm:
    """`code` run `WARM_RUNS` times on the impl, then its region built from the blocks compiled
    (where one can be built)."""
    run = impl_run(threshold)
    with backend("impl"):
        program = athena_module.load_program(code)
        engine = impl.engine_of(program, threshold)
        for _ in range(WARM_RUNS):
            run(program, program.pc_start, input_stream, prepared_host(), athena_module.AthenaContext(), 10**6, None,
                athena_module.LIVE_GAS_SCHEDULE)
        if engine.region is None:
            engine.build_region()
    warm = Warm.__new__(Warm)
    warm.threshold, warm.run, warm.program, warm.engine = threshold, run, program, engine
    return warm


def source_of(warm: Warm, head: int) -> str:
    """The generated code holding the block at `head`: its region segment once there is a region."""
    return "\n".join(warm.engine.segments[head][0]) if warm.engine.region else impl.block_source(warm.program, head)


def check_every_gas(warm: Warm, code: bytes, input_stream: bytes, stride: int = 1) -> None:
    total = spec_state(code, 10**6, input_stream)[4]
    for gas in range(0, total + 9, stride):
        assert warm.state(gas, input_stream) == spec_state(code, gas, input_stream), gas


@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(alu(), memory_op(aligned=False)), max_size=6),
       st.lists(st.one_of(alu(), memory_op(aligned=False)), max_size=6),
       st.integers(1, 8), st.sampled_from([0, 1, 4, 5, 6, 7]), st.integers(0, 15), st.integers(0, 15),
       st.sampled_from([0, 1]))
def test_random_loops_with_a_branch_in_a_region(first, second, turns, funct3, rs1, rs2, threshold):
    # a counted loop (x1) around random code with a forward branch over part of it, so the
    # region has several blocks: every gas limit gives the spec's state
    def spare(w: int) -> int:  # the random code never writes the counter or the base
        return w if (w & 0x7F) == 0x23 or (w >> 7) & 31 not in (1, BASE_REGISTER) else (w & ~(31 << 7)) | (3 << 7)

    first, second = [spare(w) for w in first], [spare(w) for w in second]
    body = [*first, b_type(4 * (len(second) + 1), rs2, rs1, funct3), *second, i_type(-1, 1, 0, 1, 0x13)]
    words = [(DATA >> 12 << 12) | (BASE_REGISTER << 7) | 0x37, i_type(turns, 0, 0, 1, 0x13), *body,
             b_type(-4 * len(body), 0, 1, 1)]
    code = raw(words)
    warm = forced_region(code, threshold)
    if warm is None:
        return  # nothing was compiled: the first instructions trap
    total = spec_state(code, 10**6, b"abcdefgh")[4]
    for gas in range(0, total + 9, 3):
        assert warm.state(gas, b"abcdefgh") == spec_state(code, gas, b"abcdefgh"), gas


@settings(max_examples=30, deadline=None)
@given(st.integers(-2048, 2047), st.integers(-2048, 2047), st.sampled_from([0, 1, 4, 5, 6, 7]), st.integers(1, 5),
       st.sampled_from([0, 1]))
def test_branches_on_known_constants_are_decided_when_compiled(first, second, funct3, turns, threshold):
    # the compiler decides a branch whose registers hold constants on its path (taken: the rest
    # of the path is dead; not taken: no test): either way the spec's state at every gas limit
    body = [i_type(first, 0, 0, 12, 0x13), i_type(second, 0, 0, 13, 0x13), b_type(8, 13, 12, funct3),
            i_type(1, 14, 0, 14, 0x13), i_type(3, 15, 0, 15, 0x13), i_type(-1, 1, 0, 1, 0x13)]
    words = [i_type(turns, 0, 0, 1, 0x13), *body, b_type(-4 * len(body), 0, 1, 1)]
    code = raw(words)
    warm = forced_region(code, threshold)
    assert warm is not None
    expected = spec_state(code, 10**6, b"")
    taken = {0: first == second, 1: first != second, 4: first < second, 5: first >= second,
             6: first % 2**32 < second % 2**32, 7: first % 2**32 >= second % 2**32}[funct3]
    assert expected[0][14] == (0 if taken else turns) and expected[0][15] == 3 * turns
    for gas in range(0, expected[4] + 9, 2):
        assert warm.state(gas, b"") == spec_state(code, gas, b""), gas


# A loop dividing by a register it never writes (the input's second word): its block tests the
# divisor once at entry and runs divisions without a zero test when it is not 0.
DIVISIONS = from_input("s1", "s0", at=DATA) + """
  li a3, 1
  li a4, 0
loop:
  add a2, a3, a5
  addi a4, a4, 1
  mv a3, a5
  remu a5, a2, s0
  divu t1, a2, s0
  xor a5, a5, t1
  bne a4, s1, loop
"""


@pytest.mark.parametrize("divisor", [0, 1, 7, 2**31, 2**32 - 1])
def test_divisions_by_a_register_the_loop_never_writes(divisor):
    code = raw_program(DIVISIONS)
    for warm_divisor in (7, 0):  # the region built with either version running
        warm = Warm(code, struct.pack("<II", 40, warm_divisor), threshold=0)
        stream = struct.pack("<II", 9, divisor)
        expected = spec_state(code, 10**6, stream)
        assert expected[6] is None and expected[0][14] == 9
        for gas in range(0, expected[4] + 9):
            assert warm.state(gas, stream) == spec_state(code, gas, stream), gas


BASES = st.one_of(st.integers(0, 160), st.integers(2000, 2200), st.integers(M - 2200, M), st.integers(0, M))


@st.composite
def stack_code(draw):
    # accesses at 12-bit offsets from a base register (s0) that ADDI moves, as C code uses its
    # stack pointer: the first store from it checks its bounds once, later ones rely on them
    items = []
    aligned = draw(st.integers(0, 9)) > 0  # most programs keep every access aligned
    for _ in range(draw(st.integers(1, 10))):
        kind = draw(st.integers(0, 3))
        offset = draw(st.one_of(st.integers(-2048, 2047), st.integers(-16, 16)))
        width = draw(st.sampled_from([0, 1, 2]))
        if aligned:
            offset &= -4
        if kind == 0:
            items.append(s_type(offset, draw(st.integers(0, 15)), BASE_REGISTER, width, 0x23))
        elif kind == 1:
            funct3 = width if width == 2 else width + 4 * draw(st.integers(0, 1))
            items.append(i_type(offset, BASE_REGISTER, funct3, draw(st.sampled_from([12, 13])), 0x03))
        elif kind == 2:
            items.append(i_type(draw(st.integers(-2048, 2047)) & (-4 if aligned else -1), BASE_REGISTER, 0,
                                BASE_REGISTER, 0x13))
        else:
            items.append(i_type(draw(st.integers(-64, 64)), BASE_REGISTER, 0, 14, 0x13))  # a copy to a5-1
    return items


@settings(max_examples=40, deadline=None)
@given(BASES, stack_code(), st.integers(1, 4), st.sampled_from([0, 1]))
def test_stores_from_a_bounded_register(base, body, turns, threshold):
    # s0 = base (from the input), then a loop (x1 counts) of the random accesses; every gas
    # limit gives the spec's state
    stream = words_in(base & -4 if base % 3 else base)
    words = [*assemble_words(from_input("s0")), i_type(turns, 0, 0, 1, 0x13)]
    body = [*body, i_type(-1, 1, 0, 1, 0x13)]
    words += [*body, b_type(-4 * len(body), 0, 1, 1)]
    code = raw(words)
    warm = forced_region(code, threshold, stream)
    if warm is None:
        return  # nothing compiled: the first access traps
    check_every_gas(warm, code, stream, 3)


def test_a_store_below_the_bounds_is_stepped_by_the_spec():
    # a base of 100: legal stores the compiled check refuses (below 40 + 2048) run in the spec's step
    code = raw_program(from_input("s0") + "li s1, 30\nloop:\nsw s1, 0(s0)\nsw s1, -60(s0)\naddi s1, s1, -1\n"
                       "bne s1, zero, loop")
    stream = words_in(100)
    warm = forced_region(code, 0, stream)
    assert warm is not None
    source = impl.region_source(sorted(warm.engine.segments), warm.engine.segments)
    assert "if not 2088 <= x8 <= 4294967292" in source
    expected = spec_state(code, 10**6, stream)
    assert expected[6] is None and expected[1][100] == 1 and expected[1][40] == 1
    assert warm.state(10**6, stream) == expected
    check_every_gas(warm, code, stream)


def two_base_body(draw, sizes: tuple[int, int], kinds: int, others: dict[int, Callable[..., int]]) -> list[int]:
    """Instruction words for `two_base_loop`: each a kind from 0 to `kinds`, a base register (s0
    or s1), a word offset and a register (zero, a2-a5). Kinds 0-1 store the register's word at the
    offset (SW), 2-3 load it (LW), a kind in `others` is ``others[kind](draw, base, offset,
    register)``, any other adds a small constant to the register."""
    items = []
    for _ in range(draw(st.integers(*sizes))):
        kind = draw(st.integers(0, kinds))
        base = draw(st.sampled_from([8, 9]))
        offset = 4 * draw(st.integers(-3, 3))
        register = draw(st.sampled_from([0, 12, 13, 14, 15]))
        if kind <= 1:
            items.append(s_type(offset, register, base, 2, 0x23))
        elif kind <= 3:
            items.append(i_type(offset, base, 2, register, 0x03))
        elif kind in others:
            items.append(others[kind](draw, base, offset, register))
        else:
            items.append(i_type(draw(st.integers(-5, 5)), register, 0, register, 0x13))
    return items


@st.composite
def aliasing_code(draw):
    # word and byte accesses from two base registers (s0, s1) that may point at the same words:
    # a load after a store reads the word the compiler remembers only while no store from the
    # other base, of a byte or half, or at the same offset came in between
    def byte_store(draw, base, offset, register):
        return s_type(offset + draw(st.integers(0, 3)), register, base, 0, 0x23)

    return two_base_body(draw, (2, 14), 5, {4: byte_store})


def two_base_loop(body: list[int], turns: int) -> bytes:
    """A raw program: s0 and s1 from the input, a2 = 7, a3 = 11, then `body` (instruction words)
    run `turns` times, counted down in ra."""
    words = [*assemble_words(from_input("s0", "s1") + "li a2, 7\nli a3, 11"), i_type(turns, 0, 0, 1, 0x13)]
    body = [*body, i_type(-1, 1, 0, 1, 0x13)]
    return raw([*words, *body, b_type(-4 * len(body), 0, 1, 1)])


@settings(max_examples=40, deadline=None)
@given(aliasing_code(), st.sampled_from([0, 4, -4, 8]), st.integers(1, 4), st.sampled_from([0, 1]))
def test_loads_after_stores_through_aliasing_registers(body, delta, turns, threshold):
    stream = words_in(DATA, DATA + delta)
    code = two_base_loop(body, turns)
    warm = forced_region(code, threshold, stream)
    assert warm is not None
    check_every_gas(warm, code, stream, 2)


FORWARDING = {
    # a store through another register that points at the word remembered
    "other base": ("sw a2, 4(s0)\nsw a3, 0(s1)\nlw a4, 4(s0)\nadd a5, a5, a4", 4, 11),
    # a byte stored into the word remembered
    "byte": ("sw a2, 0(s0)\nsb a3, 1(s0)\nlw a4, 0(s0)\nadd a5, a5, a4", 0, 7 + (11 << 8)),
    # the same word stored again
    "same word": ("sw a2, 8(s0)\nsw a3, 8(s0)\nlw a4, 8(s0)\nadd a5, a5, a4", 0, 11),
    # an inner loop that loads, changes and stores the word a store before it set
    "inner loop": ("sw a2, 0(s0)\nli t1, 3\ninner:\nlw a4, 0(s0)\naddi a4, a4, 1\nsw a4, 0(s1)\naddi t1, t1, -1\n"
                   "bne t1, zero, inner\nlw a4, 0(s0)\nadd a5, a5, a4", 0, 10),
}


@pytest.mark.parametrize("threshold", [0, 1])
@pytest.mark.parametrize("case", sorted(FORWARDING))
def test_a_remembered_word_is_forgotten_when_a_store_may_change_it(case, threshold):
    body, delta, per_turn = FORWARDING[case]
    text = from_input("s0", "s1") + f"li a2, 7\nli a3, 11\nli ra, 5\nloop:\n{body}\naddi ra, ra, -1\nbne ra, zero, loop"
    code = raw_program(text)
    stream = words_in(DATA, DATA + delta)
    warm = forced_region(code, threshold, stream)
    assert warm is not None
    expected = spec_state(code, 10**6, stream)
    assert expected[6] is None and expected[0][15] == 5 * per_turn
    check_every_gas(warm, code, stream)


@pytest.mark.parametrize(("base", "step"), [(M - 2100, 2000), (2100, -2000), (M - 2100, 1000), (3000, -2048)])
def test_bounds_carried_through_addi_stop_where_it_could_wrap(base, step):
    # the first store bounds s0; ADDIs move it (unmasked while the bounds show no wrap) until it
    # may wrap past 0 or 2**32: from there the value is masked and the next store checks again
    text = from_input("s0") + (f"li s1, 3\nloop:\nsw s1, 0(s0)\naddi s0, s0, {step}\nsw s1, 4(s0)\n"
                               f"addi s0, s0, {step}\nlw a5, 0(s0)\nsw s1, 8(s0)\naddi s1, s1, -1\nbne s1, zero, loop")
    code = raw_program(text)
    stream = words_in(base)
    warm = forced_region(code, 0, stream)
    assert warm is not None
    expected = spec_state(code, 10**6, stream)
    assert warm.state(10**6, stream) == expected
    check_every_gas(warm, code, stream)


def test_stores_below_the_top_of_memory(monkeypatch):
    # C code's stack starts at the top of memory: a store checks its base against 2**32-4 less
    # its own offset, so stores at offsets up to it from a stack pointer near the top need no
    # other check, and one at a greater offset checks again
    text = from_input("s0") + ("li s1, 4\nloop:\nsw s1, 0(s0)\nsw s1, 8(s0)\nsw s1, 4(s0)\nlw a5, 8(s0)\n"
                               "sw a5, 12(s0)\naddi s1, s1, -1\nbne s1, zero, loop")
    code = raw_program(text)
    words = assemble_words(text)
    loop = 4 * words.index(assemble_words("sw s1, 0(s0)")[0])
    # three checks in a copy of the path (not at 4); the loop's `for` has three copies: two a
    # turn (the second knows the first's checks passed: none) and one for an odd last pass (a
    # block of its own: only a region's segment gets the copy for a counter that cannot wrap)
    monkeypatch.setattr(impl, "UNROLL", 16)  # its 7 instructions are unrolled (not by default)
    assert impl.block_source(athena_module.load_program(code), loop).count("if not 2088 <= x8 <=") == 3 + 0 + 3
    for base in (M - 15, M - 11, M - 3, 2088, 2084):
        stream = words_in(base)
        warm = forced_region(code, 0, stream)
        assert warm is not None
        expected = spec_state(code, 10**6, stream)
        assert (expected[6] is None) == (base in (M - 15, 2088, 2084)), base  # 2084: the spec steps its stores
        check_every_gas(warm, code, stream)
