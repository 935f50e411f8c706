"""Athena: the impl's value ranges (impl/athena.py, ``_BlockCompiler.span`` / ``exact``) against the spec.

Along a compiled path the compiler knows a range for each register (a byte or half just loaded, an
AND with a small mask, a shift right, a comparison's 0 or 1, a remainder below its divisor, sums
and products of those) and writes an ALU instruction with no 32-bit mask, or a signed comparison
with no sign flip, where the range shows the value stays within 0..2**32-1. A counted loop gets a
copy that assumes, at the start of each pass, its registers below 2**31 and its counters far
enough from a wrap (``speculation``, ``counted_exit``), run under a test at entry. Each test
compares the impl's final state with the spec's at every gas limit, with values chosen at the edges
of those ranges (so a wrong range, a missing mask or a wrong test at entry shows as a wrong value).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smspec.impl import athena as impl
from smspec.tests.differential.test_athena_region import (
    DATA,
    M,
    check_every_gas,
    from_input,
    source_of,
    spec_state,
    warmed,
    words_in,
)
from smspec.tests.differential.test_athena_unroll import label_pc
from smspec.tests.spec.athena.asm import raw_program

pytestmark = pytest.mark.usefixtures("spec_backend")

EDGES = st.one_of(st.sampled_from([0, 1, 2, 7, 255, 256, 0xFFFF, 2**31 - 2, 2**31 - 1, 2**31, 2**31 + 1, M - 1, M]),
                  st.integers(0, 300), st.integers(0, M))
REGISTERS = ["t1", "t2", "a1", "a2", "a3", "a4", "a5", "s1"]  # s0 points at the input, ra counts turns
INPUT = DATA - 64  # where ``from_input`` reads the input words to
ARITHMETIC = ["add", "sub", "mul", "sra", "slt", "sltu", "remu", "divu", "and", "or", "xor", "srl", "sll", "mulhu"]


@st.composite
def bounded_code(draw) -> list[str]:
    """Instructions that give registers small ranges, then ones whose masks the ranges decide."""
    lines = []
    for _ in range(draw(st.integers(1, 10))):
        rd, rs, rt = (draw(st.sampled_from(REGISTERS)) for _ in range(3))
        kind = draw(st.integers(0, 5))
        if kind == 0:  # a range from a mask, a shift, a load or a comparison
            lines.append(draw(st.sampled_from([
                f"andi {rd}, {rs}, {draw(st.sampled_from([0, 1, 7, 255, 2047, -1, -2048]))}",
                f"srli {rd}, {rs}, {draw(st.sampled_from([0, 1, 2, 16, 31]))}",
                f"lbu {rd}, {draw(st.integers(0, 15))}(s0)",
                f"lhu {rd}, {2 * draw(st.integers(0, 7))}(s0)",
                f"sltu {rd}, {rs}, {rt}",
                f"slti {rd}, {rs}, {draw(st.sampled_from([0, 1, 2047, -1, -2048]))}",
            ])))
        elif kind == 1:
            lines.append(f"addi {rd}, {rs}, {draw(st.sampled_from([0, 1, 4, 2047, -1, -4, -2048]))}")
        elif kind == 2:
            lines.append(f"slli {rd}, {rs}, {draw(st.sampled_from([1, 2, 3, 16, 31]))}")
        elif kind == 3:
            lines.append(f"srai {rd}, {rs}, {draw(st.sampled_from([0, 1, 5, 31]))}")
        else:
            lines.append(f"{draw(st.sampled_from(ARITHMETIC))} {rd}, {rs}, {rt}")
    return lines


def program(body: list[str], loop: bool) -> str:
    """The registers from the input (its words are the loads' bytes), then `body` once, or in
    a loop of `ra` turns, and its registers summed into a0 (their values are the final state's)."""
    text = from_input("ra", "s0", *REGISTERS) + "bne ra, zero, loop\njal zero, done\nloop:\n" + "\n".join(body) + "\n"
    if loop:
        text += "addi ra, ra, -1\nbne ra, zero, loop\n"
    return text + "done:\nadd a0, a1, a2\n"


@settings(max_examples=40, deadline=None)
@given(bounded_code(), st.lists(EDGES, min_size=len(REGISTERS), max_size=len(REGISTERS)), st.integers(1, 3),
       st.booleans(), st.sampled_from([0, 1]))
def test_random_code_with_bounded_values(body, values, turns, loop, threshold):
    code = raw_program(program(body, loop))
    warm = warmed(code, threshold, words_in(4, INPUT, *values))
    check_every_gas(warm, code, words_in(turns, INPUT, *values))


def lines_of(source: str) -> set[str]:
    """The statements of generated `source`, each a whole line without its indentation."""
    return {line.strip() for line in source.splitlines()}


def test_ranges_drop_masks_and_sign_flips():
    # what the ranges decide, in the generated source: no mask where the value stays in range,
    # the mask where it may not
    text = from_input("s0", "a1") + """
      bne s0, zero, block
    block:
      lbu a2, 0(s0)
      andi a3, a1, 2047
      add a4, a2, a3
      slli a4, a4, 3
      addi a5, a4, -1
      blt a2, a3, far
      srli t1, a1, 1
      add t1, t1, t1
      add t2, a1, a2
      remu a2, a2, a3
    far:
      addi a0, a0, 1
    """
    code = raw_program(text)
    warm = warmed(code, 0, words_in(DATA, 5))
    source = impl.block_source(warm.program, label_pc(text, "block"))
    assert {"x14 = x12 + x13", "x14 = x14 << 3"} <= lines_of(source)
    assert "x15 = x14 - 1 if x14 >= 1 else x14 - 1 + 4294967296" in source  # may be 0 - 1: the wrap is tested
    assert "if x12 < x13:" in source  # both below 2**31: no sign flip
    assert {"x6 = x6 + x6", f"x7 = (x11 + x12) & {M}"} <= lines_of(source)
    assert "x12 = (x12 % x13) if x13 else x12" in source  # a3 may be 0
    for a1 in (0, 5, 2047, 2048, M, 2**31):
        stream = words_in(DATA, a1)
        check_every_gas(warm, code, stream)


# What gives a register a range (the input register r into t), and what the range decides: each
# operation's result is stored (a value outside 0..2**32-1, from a dropped mask that was needed,
# shows in the final memory) and each branch counts into a5; the producers are repeated before
# each operation, so that both are on one compiled path (a block holds at most 64 instructions)
PRODUCERS = [
    "mv {t}, {r}", "sltu {t}, zero, {r}", "andi {t}, {r}, 1", "andi {t}, {r}, 2047", "srli {t}, {r}, 1",
    "srli {t}, {r}, 16", "srli {t}, {r}, 31", "lbu {t}, {offset}(s0)", "lhu {t}, {offset}(s0)",
    "andi {t}, {r}, 255\naddi {t}, {t}, 1", "srli {t}, {r}, 1\naddi {t}, {t}, 1", "andi {t}, {r}, 2047\nslli {t}, {t}, 20",
    "lbu {t}, {offset}(s0)\nslli {t}, {t}, 24", "lhu {t}, {offset}(s0)\nslli {t}, {t}, 16",
]
CONSUMERS = [
    *(f"{name} a3, t1, t2" for name in ("add", "sub", "mul", "sra", "slt", "sltu", "remu", "divu", "and", "or", "xor",
                                        "srl", "sll", "mulhu")),
    *(f"{name} a3, t1, {imm}" for name in ("addi", "slti") for imm in (1, -1, 2047, -2048)),
    "slli a3, t1, 1", "slli a3, t1, 31", "srai a3, t1, 1", "srai a3, t1, 31", "sltiu a3, t1, -1",
    "sub a3, t2, t1", "sub a3, zero, t1", "add a3, t1, t1", "mul a3, t1, t1",
]
EDGE_VALUES = [0, 1, 2**31 - 1, 2**31, M]


@pytest.mark.parametrize("first", range(len(PRODUCERS)))
def test_every_range_at_its_edges(first):
    lines = []
    offset = 0
    for second in range(len(PRODUCERS)):
        producers = [PRODUCERS[first].format(t="t1", r="a1", offset=0),
                     PRODUCERS[second].format(t="t2", r="a2", offset=4)]
        for consumer in CONSUMERS:
            lines += [*producers, consumer, f"sw a3, {offset}(s1)"]
            offset += 4
        for branch in ("blt", "bge"):
            label = f"{branch}{second}"
            lines += [*producers, f"{branch} t1, t2, {label}", "addi a5, a5, 1", f"{label}:", "slli a5, a5, 1"]
    text = from_input("a1", "a2", "s0", "s1") + "bne s0, zero, block\nblock:\n" + "\n".join(lines) + "\nmv a0, a5\n"
    code = raw_program(text)
    warm = warmed(code, 0, words_in(3, 5, INPUT, DATA))
    for a1 in EDGE_VALUES:
        for a2 in EDGE_VALUES:
            stream = words_in(a1, a2, INPUT, DATA)
            expected = spec_state(code, 10**6, stream)
            assert expected[6] is None
            assert warm.state(10**6, stream) == expected, (a1, a2)


# A Fibonacci loop modulo a divisor (as isa.c's): a2 = a3 + a5, a4 counts, a3 = a5, a5 = a2 % a0,
# until a4 reaches a1; its copy with no mask assumes a3, a5 and a0 below 2**31 and a4 below a1
FIBONACCI = from_input("a1", "a3", "a4", "a5", "a0") + """  # a0 last: the others are read through it
  bne a1, zero, loop
  jal zero, done
loop:
  add a2, a3, a5
  addi a4, a4, 1
  mv a3, a5
  remu a5, a2, a0
  bne a4, a1, loop
done:
  add a0, a3, a5
"""


@pytest.mark.parametrize(("divisor", "a3", "a5"), [
    (7919, 0, 1), (2**31 - 1, 2**31 - 2, 2**31 - 3), (2**31, 2**31 - 1, 2**31 - 1), (M, M, M - 1),
    (0, 5, 6), (0, 2**31 - 1, 2**31 - 1), (3, 2**31 + 5, 1), (2**31 + 1, 2**31, 2**31)])
@pytest.mark.parametrize(("start", "end"), [(0, 5), (M - 2, 2), (9, 7), (5, 5)])
@pytest.mark.parametrize("threshold", [0, 1])
def test_a_counted_loop_assumes_ranges_tested_at_entry(divisor, a3, a5, start, end, threshold):
    code = raw_program(FIBONACCI)
    warm = warmed(code, threshold, words_in(40, 0, 0, 1, 7919))
    head = label_pc(FIBONACCI, "loop")
    source = source_of(warm, head)
    assert {"x12 = x13 + x15", "x14 = x14 + 1"} <= lines_of(source)  # the copy with no masks
    stream = words_in(end, a3, start, a5, divisor)
    if 0 < (end - start) % 2**32 < 40:  # a few turns: every gas limit
        check_every_gas(warm, code, stream)
    else:  # the counter passes the wrap (2**32 turns when it starts at the bound): the gas runs out first
        for gas in (0, 1, 2, 50, 51, 52, 53, 54, 55, 997, 5000):
            assert warm.state(gas, stream) == spec_state(code, gas, stream), gas


# Counters the loop's last branch compares with a bound (``counted_exit``): up or down, by one or
# by a stride, to the bound exactly (BNE) or while below or above it (BLTU); a second counter
# (t1, a pointer) moves with it, and a value (a5) sums the counter's low bits (a mask dropped)
COUNTERS = from_input("a1", "a4", "t1") + """
  bne a1, zero, loop
  jal zero, done
loop:
  andi t2, a4, 255
  add a5, a5, t2
  addi t1, t1, {other}
  addi a4, a4, {step}
  {branch}
done:
  add a0, a5, t1
"""
EXITS = {
    "bne": "bne a4, a1, loop",
    "bltu": "bltu a4, a1, loop",
    "bgtu": "bltu a1, a4, loop",
    "bne0": "bne a4, zero, loop",
}


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(sorted(EXITS)), st.sampled_from([1, 4, 5, -1, -4, -5]), st.sampled_from([0, 8, -8, 2047]),
       EDGES, EDGES, st.integers(0, 40), st.sampled_from([0, 1]))
def test_counters_compared_with_a_bound(exit_kind, step, other, start, pointer, distance, threshold):
    text = COUNTERS.format(step=step, other=other, branch=EXITS[exit_kind])
    code = raw_program(text)
    warm = warmed(code, threshold, words_in(2 ** 20, 0, 0))  # runs until the gas of its warm runs is out
    for end in ((start + step * distance) & M, (start + distance) & M, start ^ 1):
        stream = words_in(end, start, pointer)
        expected = spec_state(code, 10**4, stream)
        assert warm.state(10**4, stream) == expected
        if expected[4] < 300:
            check_every_gas(warm, code, stream)
        else:
            for gas in range(expected[4] - 12, expected[4] + 3):
                assert warm.state(gas, stream) == spec_state(code, gas, stream), gas


@pytest.mark.parametrize("threshold", [0, 1])
def test_a_counter_near_the_wrap_takes_the_generic_loop(threshold):
    # counting down to zero from a few (the copy with no mask) and from a value whose decrements
    # pass below 0 (a4 = 0 first: the generic copy wraps it to 2**32 - 1); counting up by 4 to a
    # bound it steps over
    # (the last value before the bound: below 2**32 or past it), and up by 4 while below a bound
    # near 2**32 (the counter passes 2**32 - 1 when the bound is above 2**32 - 4), and down by 4
    # while above a bound below 3
    for step, branch, cases in ((-1, "bne a4, zero, loop", [(0, 3), (0, 0), (0, 1)]),
                                (4, "bne a4, a1, loop", [(16, 0), (15, 0), (2, M - 1), (M - 3, 3), (M - 1, M - 10)]),
                                (4, "bltu a4, a1, loop", [(M - 2, M - 11), (M - 3, M - 11), (M, M - 8), (8, 0)]),
                                (-4, "bltu a1, a4, loop", [(2, 11), (3, 11), (0, 8), (1, 1)])):
        text = COUNTERS.format(step=step, other=8, branch=branch)
        code = raw_program(text)
        warm = warmed(code, threshold, words_in(400, 0, DATA))
        for end, start in cases:
            stream = words_in(end, start, DATA)  # t1 far from the wrap: its test passes
            expected = spec_state(code, 2000, stream)
            assert warm.state(2000, stream) == expected
            for gas in (*range(0, 40), *range(expected[4] - 10, expected[4] + 3)):
                assert warm.state(gas, stream) == spec_state(code, gas, stream), gas


# A value doubled each pass: its assumption (below 2**31 at the start of each pass) does not hold
# at the pass's end, so the copy with no masks must not assume it (its top bit, summed in a2,
# shows a missing mask: sums and products alone are right modulo 2**32 without one)
DOUBLING = from_input("a4", "a5") + """
  bne a4, zero, loop
  jal zero, done
loop:
  add a5, a5, a5
  addi a5, a5, 1
  srli t2, a5, 31
  add a2, a2, t2
  addi a4, a4, -1
  bne a4, zero, loop
done:
  mv a0, a5
"""


@pytest.mark.parametrize("threshold", [0, 1])
@pytest.mark.parametrize(("turns", "a5"), [(40, 1), (3, 2**30), (2, 2**31 - 1), (1, 2**31 - 1), (3, 0)])
def test_an_assumption_the_pass_breaks_is_not_made(turns, a5, threshold):
    code = raw_program(DOUBLING)
    warm = warmed(code, threshold, words_in(50, 3))
    check_every_gas(warm, code, words_in(turns, a5))


# A counter whose loop ends only when the gas runs out (its branch tests a register the loop never
# writes): the test at entry bounds the passes by the gas (``(limit - done) // turn + 1``), so a
# counter that starts just far enough from the wrap for one pass fewer must take the generic copy
# (a counter passing 2**32 - 1 unmasked shows in its top bits, summed into a5)
ENDLESS = from_input("a1", "t1") + """
  bne a1, zero, loop
  jal zero, done
loop:
  addi t1, t1, {step}
  srli t2, t1, 31
  add a5, a5, t2
  bne a1, zero, loop
done:
  mv a0, t1
"""


@pytest.mark.parametrize("step", [4, -4, 1])
@pytest.mark.parametrize("threshold", [0, 1])
def test_a_counter_the_gas_bounds_near_the_wrap(step, threshold):
    code = raw_program(ENDLESS.format(step=step))
    warm = warmed(code, threshold, words_in(1, 0))  # endless: runs until its warm runs' gas is out
    head = label_pc(ENDLESS.format(step=step), "loop")
    source = source_of(warm, head)
    assert f"x6 = x6 {'+' if step > 0 else '-'} {abs(step)}\n" in source + "\n"  # the copy with no mask
    for gas in range(0, 400, 5):
        passes = gas // 16  # about what the gas allows (4 gas per instruction, 4 instructions per pass)
        for margin in range(-8, 9):  # the counter's distance to the wrap, around what the gas allows
            start = M - step * (passes + margin) + 1 if step > 0 else -step * (passes + margin) - 1
            stream = words_in(1, start)
            assert warm.state(gas, stream) == spec_state(code, gas, stream), (gas, start)


# An inner loop counted down by a register that holds a constant c >= 1 at its entry, written by
# a single ADDI of -1 and tested by the back-edge BNE against zero (a CRC's bit loop, as isa.c's):
# the counter is within 1..c at the head of each turn, so its decrement has no mask
# (``_BlockCompiler.countdown``); a counter that starts at 0, steps by more or twice a turn, or
# whose start is not a constant keeps the mask (a counter passing below 0 unmasked shows in its
# top bits, summed into a5). The bit loop negates a 0 or 1 (``0 - (a2 & 1)``) with no arithmetic.
COUNTDOWN = from_input("a1", "a2", "a4") + """
  bne a1, zero, outer
  jal zero, done
outer:
  {entry}
inner:
  andi t2, a2, 1
  sub t2, zero, t2
  srli a2, a2, 1
  and t2, t2, a4
  {step}
  xor a2, a2, t2
  srli a3, t0, 31
  add a5, a5, a3
  bne t0, zero, inner
  addi a1, a1, -1
  bne a1, zero, outer
done:
  add a0, a2, a5
"""
ENTRIES = {1: "addi t0, zero, 1", 3: "addi t0, zero, 3", 8: "addi t0, zero, 8", 0: "addi t0, zero, 0",
           M: "addi t0, zero, -1", 2**31: "lui t0, 0x80000", None: "andi t0, a1, 7"}
STEPS = {"one": "addi t0, t0, -1", "twice": "addi t0, t0, -1\naddi t0, t0, -1", "two": "addi t0, t0, -2",
         "up": "addi t0, t0, 1"}


def check_countdown_runs(warm, code: bytes) -> None:
    """COUNTDOWN against the spec on four inputs: at every gas limit where the run ends within a
    few hundred instructions, at a spread of limits where its counter passes the wrap."""
    for turns, crc, poly in ((1, 1, 0xEDB88320), (2, M, 0xEDB88320), (3, 2**31, M), (2, 0xDEADBEEF, 1)):
        stream = words_in(turns, crc, poly)
        if spec_state(code, 4000, stream)[6] is None:  # ends within a few hundred instructions
            check_every_gas(warm, code, stream)
        else:  # the counter passes the wrap: the gas runs out first
            for gas in (*range(0, 160, 3), 997, 4000):
                assert warm.state(gas, stream) == spec_state(code, gas, stream), gas


@pytest.mark.parametrize("threshold", [0, 1])
@pytest.mark.parametrize("step", sorted(STEPS))
@pytest.mark.parametrize("entry", list(ENTRIES), ids=str)
def test_an_inner_loop_counted_down_from_a_constant(entry, step, threshold, monkeypatch):
    monkeypatch.setattr(impl, "UNROLL_INNER", 0)  # the loop as a loop (written out turn by turn: test_athena_countdown.py)
    text = COUNTDOWN.format(entry=ENTRIES[entry], step=STEPS[step])
    code = raw_program(text)
    warm = warmed(code, threshold, words_in(3, 0xEDB88320, 0xEDB88320))
    head = label_pc(text, "outer")
    source = source_of(warm, head)
    assert "x7 = 0xFFFFFFFF if x7 else 0" in source
    unmasked = step == "one" and entry not in (0, None)
    assert ("x5 = x5 - 1" in lines_of(source)) == unmasked, source
    imm = {"one": -1, "twice": -1, "two": -2, "up": 1}[step]
    wrapping = f"x5 = x5 + {imm} if x5 < {2**32 - imm} else x5 + {imm} - 4294967296" if imm > 0 else \
        f"x5 = x5 - {-imm} if x5 >= {-imm} else x5 - {-imm} + 4294967296"
    assert (wrapping in source) == (not unmasked), source
    check_countdown_runs(warm, code)


# The counter of the middle loop (t0, from 3) is decremented inside the loop nested in it (t1's,
# from 2, which has the countdown range, its BNE's operands the other way round): twice a turn,
# so it passes below 0 and must keep its mask
NESTED_COUNTDOWN = from_input("a1") + """
  bne a1, zero, outer
  jal zero, done
outer:
  addi t0, zero, 3
middle:
  addi t1, zero, 2
inner:
  addi t0, t0, -1
  srli a3, t0, 31
  add a5, a5, a3
  addi t1, t1, -1
  bne zero, t1, inner
  bne zero, t0, middle
  addi a1, a1, -1
  bne a1, zero, outer
done:
  mv a0, a5
"""


@pytest.mark.parametrize("threshold", [0, 1])
def test_a_countdown_decremented_in_a_nested_loop_keeps_its_mask(threshold, monkeypatch):
    monkeypatch.setattr(impl, "UNROLL_INNER", 0)  # the inner loop as a loop, not written out turn by turn
    code = raw_program(NESTED_COUNTDOWN)
    warm = warmed(code, threshold, words_in(2))
    head = label_pc(NESTED_COUNTDOWN, "outer")
    source = source_of(warm, head)
    assert {"x6 = x6 - 1", "x5 = x5 - 1 if x5 >= 1 else x5 - 1 + 4294967296"} <= lines_of(source), source
    for turns in (1, 2):
        stream = words_in(turns)
        for gas in (*range(0, 200), 997, 4000):
            assert warm.state(gas, stream) == spec_state(code, gas, stream), gas


# The generic forms that replace masks and sign flips (``_wrapped_sum``, ``_less``, SUB and SLLI
# by 2 or more): registers the compiler knows nothing of, against constants on either side of a
# comparison (x0, a small one, a negative one), at the values where a wrap or a sign changes
WRAP_VALUES = [0, 1, 2, 2046, 2047, 2048, 2**31 - 2048, 2**31 - 1, 2**31, 2**31 + 1, M - 2047, M - 1, M]
WRAP_CONSUMERS = [
    *(f"addi a3, t1, {imm}" for imm in (1, -1, 2, -2, 2047, -2048)),
    *(f"slti a3, t1, {imm}" for imm in (0, 1, -1, 2047, -2048)),
    *(f"slli a3, t1, {shift}" for shift in (1, 2, 3, 16, 30, 31)),
    "sub a3, t1, t2", "sub a3, t2, t1", "sub a3, zero, t1", "sub a3, t1, gp", "sub a3, tp, t1",
    "slt a3, t1, t2", "slt a3, t2, t1", "slt a3, t1, zero", "slt a3, zero, t1",
    "slt a3, t1, gp", "slt a3, gp, t1", "slt a3, t1, tp", "slt a3, tp, t1",
]


def test_wrap_and_sign_forms_at_their_edges():
    lines = ["li gp, 5", "li tp, -5"]
    offset = 0
    for consumer in WRAP_CONSUMERS:
        lines += [consumer, f"sw a3, {offset}(s1)"]
        offset += 4
    for branch in ("blt", "bge"):
        for k, (first, second) in enumerate([("t1", "t2"), ("t2", "t1"), ("t1", "zero"), ("zero", "t1"),
                                             ("t1", "gp"), ("gp", "t1"), ("t1", "tp"), ("tp", "t1")]):
            label = f"{branch}{k}"
            lines += [f"{branch} {first}, {second}, {label}", "addi a5, a5, 1", f"{label}:", "slli a5, a5, 1"]
    text = from_input("t1", "t2", "s0", "s1") + "bne s0, zero, block\nblock:\n" + "\n".join(lines) + "\nmv a0, a5\n"
    code = raw_program(text)
    warm = warmed(code, 0, words_in(3, 5, INPUT, DATA))
    source = impl.block_source(warm.program, label_pc(text, "block"))
    # no sign flip of t1 or t2; one mask, SLLI by 1's (M >> 1 is no one-digit integer)
    assert "(x6 ^ 0x80000000)" not in source and "(x7 ^ 0x80000000)" not in source
    assert source.count(f"& {M}") == 1 and f"x13 = (x6 << 1) & {M}" in source
    for a1 in WRAP_VALUES:
        for a2 in (0, 1, 2**31 - 1, 2**31, M):
            stream = words_in(a1, a2, INPUT, DATA)
            expected = spec_state(code, 10**6, stream)
            assert expected[6] is None
            assert warm.state(10**6, stream) == expected, (a1, a2)
