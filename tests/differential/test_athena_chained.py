"""Athena: a region's exits written out as the short segments they go to (impl/athena.py,
``_chained``) against the spec.

In a region function, an exit to the start of another short segment of the region (a taken
branch, the end of a path) is a copy of that segment's code: the copy runs at once, without the
region's dispatch on the pc, and its own exits leave the segment the exit was in (from inside
a counted ``for``, an inner loop, or the copies of an unrolled loop). Each test builds the region
(checking that the copy is there) and compares the impl's final state with the spec's at every
gas limit, with faults, syscalls and jumps to 0 inside the copy.
"""

from __future__ import annotations

import re
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smspec.impl import athena as impl
from smspec.tests.differential.test_athena import alu, raw
from smspec.tests.differential.test_athena_region import (
    DATA,
    Warm,
    check_every_gas,
    forced_region,
    from_input,
    spec_state,
    warmed,
)
from smspec.tests.spec.athena.asm import (
    _labels,
    _lines,
    assemble_words,
    b_type,
    i_type,
    raw_program,
)

pytestmark = pytest.mark.usefixtures("spec_backend")


def label_pc(text: str, label: str) -> int:
    return _labels(_lines(text), 0)[label]


def copies(warm: Warm, target: int) -> int:
    """How many times the region's source holds the code of the segment at `target` (its gas check)."""
    source = impl.region_source(sorted(warm.engine.segments), warm.engine.segments)
    return len(re.findall(rf"nx = {target}; (?:done \+= 0; )?st = True; break", source))


# turns (s1), the turn from which a load is off by delta (s0 < turn), delta (gp) from the input;
# on odd turns a taken branch leaves the loop's path for `odd`, whose segment is written out there
BRANCH = from_input("s1", "s0", "gp", at=DATA) + """
  li a2, 0
loop:
  addi a2, a2, 1
  andi t1, a2, 1
  bne t1, zero, odd
  addi a5, a5, 5
odd:
  slt t1, s0, a2
  mul t2, t1, gp
  add a3, a0, t2
  lw a4, 16(a3)
  add a5, a5, a4
  {extra}
  bne a2, s1, loop
done:
  addi a0, a5, 0
"""
EXTRAS = {
    "plain": "addi a4, a4, 3\n  sw a4, 16(a3)",
    # a syscall in the copy (HINT_LEN): the segment ends at the ecall, which the run steps
    "syscall": "li t0, 0xF0\n  ecall\n  add a5, a5, t0",
}


def branch_input(turns: int, k: int, delta: int) -> bytes:
    return struct.pack("<IIi", turns, k, delta)


def warm_branch(extra: str, monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, Warm, str]:
    monkeypatch.setattr(impl, "INLINE_LINES", 1000)
    text = BRANCH.format(extra=EXTRAS[extra])
    code = raw_program(text)
    warm = warmed(code, 1, branch_input(30, 1000, 0))
    assert copies(warm, label_pc(text, "odd")) >= 2
    return code, warm, text


@pytest.mark.parametrize("extra", sorted(EXTRAS))
@pytest.mark.parametrize("turns", [1, 2, 5, 12])
def test_gas_running_out_at_every_instruction_of_a_copy(extra, turns, monkeypatch):
    code, warm, _ = warm_branch(extra, monkeypatch)
    stream = branch_input(turns, 1000, 0)
    assert warm.state(10**6, stream) == spec_state(code, 10**6, stream)
    check_every_gas(warm, code, stream)


@pytest.mark.parametrize("extra", sorted(EXTRAS))
@pytest.mark.parametrize("delta", [1, -(DATA + 8), 0x40000000])
@pytest.mark.parametrize("k", [0, 1, 2, 6])
def test_a_fault_inside_a_copy(extra, delta, k, monkeypatch):
    # from turn k + 1 on the load is misaligned (delta 1), or the store below 40 (a fault in
    # "plain", the load reads address 8 in "syscall"), or the address far away: in the copy on
    # odd turns, in the loop's own path on even ones
    code, warm, _ = warm_branch(extra, monkeypatch)
    stream = branch_input(9, k, delta)
    expected = spec_state(code, 10**6, stream)
    if delta == 1:
        assert expected[6] is not None and expected[6][1] == "misaligned_load"
    assert warm.state(10**6, stream) == expected
    check_every_gas(warm, code, stream)


# An inner loop with an exit to a short segment (`out`) from inside it; `out` goes back to the
# outer loop's head by a taken branch
INNER = from_input("s1", "s0", at=DATA) + """
  li a2, 0
loop:
  li t1, 4
inner:
  addi a5, a5, 1
  beq a5, s0, out
  addi t1, t1, -1
  bne t1, zero, inner
  addi a2, a2, 1
  bne a2, s1, loop
  jal zero, done
out:
  addi a5, a5, 100
  slli s0, s0, 1
  addi a2, a2, 1
  bne a2, s1, loop
done:
  add a0, a5, a2
"""


@pytest.mark.parametrize("hit", [1, 3, 6, 40])
def test_an_exit_from_an_inner_loop_to_a_copy(hit, monkeypatch):
    monkeypatch.setattr(impl, "INLINE_LINES", 1000)
    text = INNER
    code = raw_program(text)
    warm = warmed(code, 1, struct.pack("<II", 40, 3))
    assert copies(warm, label_pc(text, "out")) >= 2
    stream = struct.pack("<II", 12, hit)
    assert warm.state(10**6, stream) == spec_state(code, 10**6, stream)
    check_every_gas(warm, code, stream)


# A short loop (two copies of its path a turn) whose taken branch leaves for `skip` on the turns
# where the counter has none of the mask's bits (s0); `skip` loads from a2 (from the input)
UNROLLED = from_input("s1", "s0", "a2", at=DATA) + """
  bne s1, zero, loop
  jal zero, done
loop:
  and t1, s1, s0
  beq t1, zero, skip
  addi s1, s1, -1
  bne s1, zero, loop
  jal zero, done
skip:
  lw a4, 0(a2)
  add a5, a5, a4
  addi a2, a2, 4
  addi s1, s1, -1
  bne s1, zero, loop
done:
  add a0, a5, a2
"""


@pytest.mark.parametrize("mask", [1, 3, 4, 0xFFFF])
@pytest.mark.parametrize("base", [DATA, DATA + 2, DATA - 4])
def test_an_exit_from_the_copies_of_an_unrolled_loop(mask, base, monkeypatch):
    # the load in `skip` is misaligned from a base of DATA + 2: a fault in the copy, after the
    # loop ran its passes in the first or the second copy of a turn
    monkeypatch.setattr(impl, "INLINE_LINES", 1000)
    text = UNROLLED
    code = raw_program(text)
    warm = warmed(code, 1, struct.pack("<III", 30, 1, DATA))
    assert "for turn in range(turns >> 1):" in "\n".join(warm.engine.segments[label_pc(text, "loop")][0])
    assert copies(warm, label_pc(text, "skip")) >= 2
    stream = struct.pack("<III", 13, mask, base)
    expected = spec_state(code, 10**6, stream)
    assert (expected[6] is not None) == (base == DATA + 2 and mask != 0xFFFF)
    assert warm.state(10**6, stream) == expected
    check_every_gas(warm, code, stream)


# A block at 0 that the program jumps to at its end: a jump to 0 halts, so that exit is never
# written out as the block at 0
HALTS = from_input("s1", at=DATA) + """
loop:
  addi a5, a5, 1
  bne a5, s1, loop
  jal zero, 0
"""


def test_a_jump_to_0_halts_in_a_region(monkeypatch):
    monkeypatch.setattr(impl, "INLINE_LINES", 1000)
    text = HALTS
    code = raw_program(text)
    warm = warmed(code, 1, struct.pack("<I", 30))
    assert 0 in warm.engine.paths
    for turns in (1, 5):
        stream = struct.pack("<I", turns)
        expected = spec_state(code, 10**6, stream)
        assert expected[6] is None and expected[0][15] == turns
        assert warm.state(10**6, stream) == expected  # with gas for the block at 0 to run again
        check_every_gas(warm, code, stream)


@settings(max_examples=30, deadline=None)
@given(st.lists(alu(), max_size=4), st.lists(alu(), max_size=4), st.integers(1, 8), st.integers(0, 7),
       st.sampled_from([0, 1]))
def test_random_code_around_short_segments(first, second, turns, pattern, threshold):
    # a loop (x1 counts) whose forward branches on the counter's low bits skip random code: the
    # branches' targets start short segments, written out at the exits that go to them
    def spare(w: int) -> int:  # the random code never writes the counter (x1) or the branches' t1, t2
        return w if (w >> 7) & 31 not in (1, 6, 7) else (w & ~(31 << 7)) | (3 << 7)

    first, second = [spare(w) for w in first], [spare(w) for w in second]
    words = [*assemble_words(f"li t0, 0xF1\nli a0, {DATA}\nli a1, 8\necall"), i_type(turns, 0, 0, 1, 0x13)]
    body = [i_type(pattern, 1, 7, 6, 0x13),  # t1 = x1 & pattern
            b_type(4 * (len(first) + 1), 6, 0, 0),  # beq t1, zero, over the first part
            *first,
            i_type(1, 1, 7, 7, 0x13),  # t2 = x1 & 1
            b_type(4 * (len(second) + 1), 7, 0, 1),  # bne t2, zero, over the second part
            *second,
            i_type(-1, 1, 0, 1, 0x13)]
    words += [*body, b_type(-4 * len(body), 0, 1, 1)]
    code = raw(words)
    warm = forced_region(code, threshold, b"abcdefgh")
    if warm is None:
        return
    check_every_gas(warm, code, b"abcdefgh", 2)


def test_only_short_segments_of_the_region_are_written_out(monkeypatch):
    # the rule itself, on hand-written segments: an exit to a segment of the region (16) is its
    # copy; one to a segment compiled but not in this region (24: its registers are not loaded),
    # to the segment itself, to 0 or to a segment longer than INLINE_LINES (32) stays an exit
    monkeypatch.setattr(impl, "INLINE_LINES", 3)
    exits = ["nx = 16; done += 1; st = False; break", "nx = 24; done += 2; st = False; break",
             "nx = 8; done += 3; st = False; break", "nx = 0; done += 4; st = False; break",
             "nx = 32; done += 5; st = False; break"]
    segments = {8: (["while True:", *("    " + line for line in exits)], {1}),
                16: (["while True:", "    x2 = 5", "    nx = 8; done += 1; st = False; break"], {2}),
                24: (["while True:", "    nx = 8; done += 1; st = False; break"], set()),
                32: (["while True:", "    x3 = 1", "    x3 = 2", "    nx = 8; done += 2; st = False; break"], {3}),
                0: (["while True:", "    nx = 8; done += 1; st = False; break"], set())}
    assert impl._chained(8, {0, 8, 16, 32}, segments) == [
        "while True:", "    done += 1", "    while True:", "        x2 = 5",
        "        nx = 8; done += 1; st = False; break", "    break", *("    " + line for line in exits[1:])]


def nested(loops: int, body: list[str]) -> list[str]:
    """`body` inside `loops` nested ``while True`` loops, as segment lines."""
    lines = [f"{'    ' * level}while True:" for level in range(loops)]
    return lines + ["    " * loops + line for line in body]


@pytest.mark.parametrize("inner", [1, 2, 3])
def test_a_copy_stays_within_the_loops_python_nests(inner):
    # CPython compiles at most 20 nested loops in a function: the region's own loop, 17 around
    # the exit and the copy's `inner` make 19, 20 (copied) or 21 (left an exit); the region
    # compiles either way
    exit_line = "nx = 16; done += 1; st = False; break"
    segments = {8: (nested(17, ["x1 = 1", exit_line]), {1}),
                16: (nested(inner, ["x2 = 5", "nx = 8; done += 1; st = False; break"]), {2})}
    chained = impl._chained(8, {8, 16}, segments)
    assert (chained[-1] != "    " * 17 + exit_line) == (inner <= 2)
    assert callable(impl._compile_region([8, 16], segments))
