"""Athena: the impl's unrolled counted loops (impl/athena.py, ``_BlockCompiler.unrolled``) against the spec.

A compiled loop whose path goes back to its start runs its turns with a ``for`` over the passes
the gas allows; a short one runs two copies of the path in each turn of that ``for`` (and a last
odd pass in a ``for`` of one copy). Each test compares the impl's final state with the spec's
(registers, memory, pc, gas, steps, status, reason and detail, output) at every gas limit, so
that gas runs out at each instruction of both copies, for loop counts 0, 1, odd and even, with
the loop compiled as a block of its own and as a segment of a region; and faults in either copy.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smspec.impl import athena as impl
from smspec.tests.differential.test_athena import alu
from smspec.tests.differential.test_athena_region import (
    DATA,
    Warm,
    from_input,
    spec_state,
    warmed,
    words_in,
)
from smspec.tests.spec.athena.asm import _labels, _lines, raw_program

pytestmark = pytest.mark.usefixtures("spec_backend")

UNROLLED = "for turn in range(turns >> 1):"


def warm_engine(code: bytes, warm_input: bytes, region: bool, monkeypatch: pytest.MonkeyPatch) -> Warm:
    """`code` run until its loop is compiled: as a block of its own (no region is built, threshold
    0) or as a segment of a region (threshold 1, the region built after the warm runs)."""
    threshold = 1 if region else 0
    monkeypatch.setattr(impl, "UNROLL", 16)  # the loops here are longer than the default's
    if not region:
        monkeypatch.setattr(impl.Engine, "build_region", lambda self: None)
    warm = warmed(code, threshold, warm_input)
    assert (warm.engine.region is not None) == region
    return warm


def label_pc(text: str, label: str) -> int:
    return _labels(_lines(text), 0)[label]


def assert_unrolled(warm: Warm, text: str, region: bool) -> None:
    """The loop at the label `loop` is compiled with two copies of its path a turn."""
    pc = label_pc(text, "loop")
    assert pc in warm.engine.paths
    if region:
        assert UNROLLED in "\n".join(warm.engine.segments[pc][0])
    else:
        assert UNROLLED in impl.block_source(warm.program, pc)


def every_gas(warm: Warm, code: bytes, stream: bytes) -> int:
    total = spec_state(code, 10**6, stream)[4]
    for gas in range(0, total + 9):
        assert warm.state(gas, stream) == spec_state(code, gas, stream), gas
    return total


# Each loop is entered by a taken branch, so that its head starts a block of its own.

# A counted loop (s1 turns, none when 0) of ALU operations, a store and a load of the word stored
# (the second copy knows the store's checks passed and the word it stored)
COUNTED = from_input("s1", "s0") + """
  li a5, 0
  li a2, 0
  bne s1, zero, loop
  jal zero, done
loop:
  addi a5, a5, 3
  xor a5, a5, a2
  sw a5, 0(s0)
  lw a4, 0(s0)
  add a2, a2, a4
  addi s1, s1, -1
  bne s1, zero, loop
done:
  add a0, a5, a2
"""


@pytest.mark.parametrize("region", [False, True])
@pytest.mark.parametrize("turns", [0, 1, 2, 3, 4, 7])
def test_gas_running_out_at_each_instruction_of_both_copies(turns, region, monkeypatch):
    code = raw_program(COUNTED)
    warm = warm_engine(code, words_in(40, DATA), region, monkeypatch)
    assert_unrolled(warm, COUNTED, region)
    stream = words_in(turns, DATA + 4 * turns)
    total = every_gas(warm, code, stream)
    assert total >= 7 * turns


# A load whose address is misaligned (by 1) at the turn where the counter s1 equals a3: the
# input chooses the turn, in the first or the second copy of a turn of the `for`
FAULTING = from_input("s1", "s0", "a3") + """
  li a5, 0
  bne s1, zero, loop
  jal zero, done
loop:
  addi a5, a5, 5
  sub a1, s1, a3
  sltiu a1, a1, 1
  add t2, s0, a1
  lw a4, 0(t2)
  add a5, a5, a4
  addi s1, s1, -1
  bne s1, zero, loop
done:
  addi a0, a5, 0
"""


@pytest.mark.parametrize("region", [False, True])
@pytest.mark.parametrize("fault_turn", [0, 1, 2, 3, 4, 5])
def test_a_fault_in_either_copy_at_its_pc_and_gas(fault_turn, region, monkeypatch):
    code = raw_program(FAULTING)
    warm = warm_engine(code, words_in(30, DATA, 0), region, monkeypatch)
    assert_unrolled(warm, FAULTING, region)
    stream = words_in(50, DATA, 50 - fault_turn)  # turn `fault_turn` (from 0) loads from DATA + 1
    expected = spec_state(code, 10**6, stream)
    assert expected[6] is not None and expected[6][1] == "misaligned_load", expected[6]
    assert expected[3] == label_pc(FAULTING, "loop") + 16  # the pc of the load
    assert warm.state(10**6, stream) == expected
    for gas in range(max(expected[4] - 20, 0), expected[4] + 5):
        assert warm.state(gas, stream) == spec_state(code, gas, stream), gas


# Back to the start from the middle of the path (a short pass) and from its end
SHORT_PASSES = from_input("s1") + """
  li a5, 0
  bne s1, zero, loop
  jal zero, done
loop:
  addi s1, s1, -1
  andi t1, s1, 1
  addi a5, a5, 1
  bne t1, zero, loop
  addi a5, a5, 7
  xor a5, a5, s1
  bne s1, zero, loop
done:
  addi a0, a5, 0
"""

# A loop that leaves from its first instruction and goes back to it by a JAL
JAL_LOOP = from_input("s1") + """
  li a5, 0
  bne s1, zero, loop
  jal zero, done
loop:
  beq s1, zero, done
  addi s1, s1, -1
  add a5, a5, s1
  slli a5, a5, 1
  jal zero, loop
done:
  addi a0, a5, 0
"""


@pytest.mark.parametrize("region", [False, True])
@pytest.mark.parametrize("text", [SHORT_PASSES, JAL_LOOP])
@pytest.mark.parametrize("turns", [0, 1, 2, 5, 6])
def test_short_passes_and_a_jal_back(text, turns, region, monkeypatch):
    code = raw_program(text)
    warm = warm_engine(code, words_in(40), region, monkeypatch)
    assert_unrolled(warm, text, region)
    every_gas(warm, code, words_in(turns))


@settings(max_examples=30, deadline=None)
@given(st.lists(alu(lax=False), min_size=1, max_size=7), st.integers(0, 5), st.integers(0, 2**32 - 1),
       st.booleans())
def test_random_counted_loops(body, turns, seed, region):
    # random ALU code in a counted loop (x1 counts the turns; the body never writes x1 or x0)
    monkeypatch = pytest.MonkeyPatch()
    try:
        words = [word if (word >> 7) & 31 != 1 else (word & ~(31 << 7)) | (5 << 7) for word in body]
        text = from_input("ra", "t1") + "bne ra, zero, loop\njal zero, done\nloop:\n" + "".join(
            f".word {word}\n" for word in words) + "addi ra, ra, -1\nbne ra, zero, loop\ndone:\nadd a0, t1, t2\n"
        code = raw_program(text)
        warm = warm_engine(code, words_in(20, seed), region, monkeypatch)
        assert_unrolled(warm, text, region)
        every_gas(warm, code, words_in(turns, seed))
    finally:
        monkeypatch.undo()
