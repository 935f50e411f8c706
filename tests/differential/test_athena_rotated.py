"""Athena: loops whose test is a block of its own (impl/athena.py, ``Engine.superblock``) against the spec.

gcc lays out some loops (``memcmp``, ``strcmp``) with the body first and the loop's test after
it: the body ends with a branch *taken* to the test, which branches back to the body. The
superblock from the body goes on through that taken branch (as its negation, which leaves the
loop at the next instruction) into the test, so the whole loop is one path back to its start,
compiled as a loop in place instead of two blocks joined by the region's dispatch. Each test
compares the impl's final state with the spec's (registers, memory, pc, gas, steps, status,
reason and detail, output): for each of the six branches as the body's last instruction, the
loop leaving through it at every turn or running to its count, with gas running out at every
instruction, with the loop compiled as a block of its own and as a segment of a region.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smspec.impl import athena as impl
from smspec.tests.differential.test_athena_region import (
    DATA,
    source_of,
    spec_state,
    warmed,
    words_in,
)
from smspec.tests.differential.test_athena_unroll import label_pc
from smspec.tests.spec.athena.asm import raw_program

pytestmark = pytest.mark.usefixtures("spec_backend")

BRANCHES = ("beq", "bne", "blt", "bge", "bltu", "bgeu")
WORDS = 8  # words in each of the two arrays the loop compares


def compare_loop(branch: str) -> str:
    """Compares the words of two arrays (read from the input after the count) while `branch`
    holds between them, at most `a2` of them; a0 is the difference where it stopped, or 0."""
    return f"""
  li t0, 0xF1
  li a0, {DATA - 64}
  li a1, 4
  ecall
  lw a2, 0(a0)
  li t0, 0xF1
  li a0, {DATA}
  li a1, {8 * WORDS}
  ecall
  li a1, {DATA + 4 * WORDS}
  li a4, 0
test:
  bne a2, a4, loop
  li a0, 0
  jal zero, done
loop:
  slli a5, a4, 2
  add a5, a0, a5
  lw a5, 0(a5)
  slli a3, a4, 2
  add a3, a1, a3
  lw a3, 0(a3)
  addi a4, a4, 1
  {branch} a5, a3, test
  sub a0, a5, a3
done:
  addi s1, a4, 0
"""


def stream(count: int, first: list[int], second: list[int]) -> bytes:
    return words_in(count) + words_in(*first) + words_in(*second)


def warm_engine(code: bytes, region: bool, monkeypatch: pytest.MonkeyPatch):
    """`code` run until its loop is compiled: as a block of its own (threshold 0, no region)
    or as a segment of a region (threshold 1, the region built after the warm runs)."""
    if not region:
        monkeypatch.setattr(impl.Engine, "build_region", lambda self: None)
    warm = warmed(code, 1 if region else 0, stream(WORDS, [0] * WORDS, [0] * WORDS))
    assert (warm.engine.region is not None) == region
    return warm


def assert_rotated(warm, branch: str, text: str) -> None:
    """The superblock from `loop` goes on through the body's branch, negated (to the next
    instruction), into the test at `test`, and is compiled as a loop back to its start."""
    loop, test = label_pc(text, "loop"), label_pc(text, "test")
    path = warm.engine.paths[loop]
    names = [(pc, ins.name, ins.imm) for pc, ins, _ in path]
    assert names[-2:] == [(loop + 28, impl.INVERSE[branch], 4), (test, "bne", loop - test)]
    source = source_of(warm, loop)
    assert "for turn in range(turns)" in source  # a loop in place: no block of its own for the test


@pytest.mark.parametrize("region", [False, True])
@pytest.mark.parametrize("branch", BRANCHES)
def test_gas_running_out_at_every_instruction_of_a_rotated_loop(branch, region, monkeypatch):
    text = compare_loop(branch)
    code = raw_program(text)
    warm = warm_engine(code, region, monkeypatch)
    assert_rotated(warm, branch, text)
    # equal words up to the fifth, then a smaller one and a larger one with its sign bit: every
    # branch goes on for some turns and leaves through the body's branch or the test
    first = [7, 7, 7, 7, 3, 0x80000001, 9, 9]
    second = [7, 7, 7, 7, 5, 2, 9, 9]
    for count in (0, 1, 5, 6, WORDS):
        data = stream(count, first, second)
        total = spec_state(code, 10**6, data)[4]
        for gas in range(0, total + 9):
            assert warm.state(gas, data) == spec_state(code, gas, data), (count, gas)


@pytest.mark.parametrize("region", [False, True])
@settings(max_examples=40, deadline=None)
@given(branch=st.sampled_from(BRANCHES), count=st.integers(0, WORDS),
       first=st.lists(st.sampled_from([0, 1, 2, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]), min_size=WORDS, max_size=WORDS),
       second=st.lists(st.sampled_from([0, 1, 2, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]), min_size=WORDS, max_size=WORDS))
def test_random_arrays_through_a_rotated_loop(region, branch, count, first, second):
    code = raw_program(compare_loop(branch))
    with pytest.MonkeyPatch.context() as monkeypatch:
        warm = warm_engine(code, region, monkeypatch)
        data = stream(count, first, second)
        assert warm.state(10**6, data) == spec_state(code, 10**6, data)


@pytest.mark.parametrize("threshold", [0, 1])
@pytest.mark.parametrize("turns", [1, 2, 3])
def test_a_test_whose_both_ways_go_to_the_start_stays_a_block_of_its_own(turns, threshold):
    # `beq zero, zero` to the next instruction, the start of the loop: its target and its
    # fall-through are both the start, so the path does not go on through it (a loop of one
    # branch back to the start each way is not what the negation is for)
    text = f"""
  li a1, {turns}
test:
  beq zero, zero, loop
loop:
  addi a1, a1, -1
  bne a1, zero, test
  addi a0, a1, 7
"""
    code = raw_program(text)
    warm = warmed(code, threshold)
    loop = label_pc(text, "loop")
    if loop in warm.engine.paths:
        assert label_pc(text, "test") not in [pc for pc, _, _ in warm.engine.paths[loop]]
    total = spec_state(code, 10**6, b"")[4]
    for gas in range(0, total + 9):
        assert warm.state(gas, b"") == spec_state(code, gas, b""), gas
