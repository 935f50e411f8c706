"""Athena: inner loops written out turn by turn (impl/athena.py, ``_BlockCompiler.unroll``) against the spec.

An inner loop of ALU instructions counted down from a constant c (a CRC's bit loop, ``for (k =
8; k; k--)``) runs exactly c turns: the compiler writes its body out c times, with the counter a
constant in each copy, no test and no back-edge, and one gas check for all the turns at the
loop's head. Each test compares the impl's final state with the spec's (registers, memory, pc,
gas, steps, status, reason and detail, output) at every gas limit, so that the gas runs out
before, at and inside the written-out turns, as a block of its own and as a region's segment,
for counts written out and counts left as a loop (too many instructions, not a countdown).
"""

from __future__ import annotations

import pytest
from smspec.tests.differential.test_athena_ranges import (
    COUNTDOWN,
    ENTRIES,
    STEPS,
    check_countdown_runs,
)
from smspec.tests.differential.test_athena_region import (
    check_every_gas,
    from_input,
    source_of,
    warmed,
    words_in,
)
from smspec.tests.differential.test_athena_unroll import label_pc
from smspec.tests.spec.athena.asm import raw_program

pytestmark = pytest.mark.usefixtures("spec_backend")

M = 0xFFFFFFFF
BODY = 9  # the inner loop of COUNTDOWN: eight instructions and its back-edge
ENTRIES_HERE = {**ENTRIES, 7: "addi t0, zero, 7"}


@pytest.mark.parametrize("threshold", [0, 1])
@pytest.mark.parametrize("step", ["one", "twice"])  # the other steps: test_athena_ranges.py
@pytest.mark.parametrize("entry", [1, 3, 7, 8, None], ids=str)
def test_a_countdown_loop_written_out_at_every_gas_limit(entry, step, threshold):
    text = COUNTDOWN.format(entry=ENTRIES_HERE[entry], step=STEPS[step])
    code = raw_program(text)
    warm = warmed(code, threshold, words_in(3, 0xEDB88320, 0xEDB88320))
    source = source_of(warm, label_pc(text, "outer"))
    written_out = step == "one" and entry in (1, 3, 7)  # 8 turns of 9 are more than UNROLL_INNER
    body = BODY + (step == "twice")  # its instructions and back-edge
    assert written_out == (f"done += {body}; continue" not in source), source  # no back-edge going on
    if written_out:
        assert [f"x5 = {value}" in source for value in range(entry)] == [True] * entry
        assert "x5 = x5 - 1" not in source
        assert f"if done > limit - {(entry - 1) * BODY}: nx = {label_pc(text, 'inner')};" in source
        assert (f"done += {(entry - 1) * BODY}\n" in source) == (entry > 1)
    check_countdown_runs(warm, code)


# The inner loop is the end of the code: after its last turn the block leaves past the code (a halt)
AT_THE_END = """
  li t0, 0xF1
  li a0, 0x1000
  li a1, 4
  ecall
  lw a2, 0(a0)
  bne a2, zero, outer
  jal zero, outer
outer:
  addi t0, zero, 4
inner:
  srli a3, a2, 1
  xor a2, a2, a3
  addi t0, t0, -1
  bne t0, zero, inner
"""


@pytest.mark.parametrize("threshold", [0, 1])
def test_a_countdown_loop_at_the_end_of_the_code(threshold):
    code = raw_program(AT_THE_END)
    warm = warmed(code, threshold, words_in(12345))
    source = source_of(warm, label_pc(AT_THE_END, "outer"))
    assert "x5 = 0\n" in source and "x5 = x5 - 1" not in source, source
    for value in (0, 1, 0xDEADBEEF, M):
        check_every_gas(warm, code, words_in(value))


# A 0 or 1 negated is all ones or zero (a CRC's `-(crc & 1)`), and an AND with it is a choice
# between the other value and 0, with no arithmetic; not any more in an inner loop that writes
# the register (here from its second turn: `addi t2, t2, 5`), nor after it
CHOICE = from_input("a1", "a2", "a4") + """
top:
  andi t1, a2, 1
  sub t2, zero, t1
  {first}
loop:
  {inner}
  add a5, a5, a3
  addi t2, t2, 5
  addi a1, a1, -1
  bne a1, zero, loop
  and a0, a4, t2
  add a0, a0, a5
"""


@pytest.mark.parametrize("threshold", [0, 1])
@pytest.mark.parametrize("order", ["and {0}, t2, a4", "and {0}, a4, t2"])
def test_an_and_with_all_ones_or_zero_is_a_choice(order, threshold):
    text = CHOICE.format(first=order.format("s1"), inner=order.format("a3"))
    code = raw_program(text)
    warm = warmed(code, threshold, words_in(3, 1, 0x12345678))
    top = label_pc(text, "top")
    start = next(start for start, path in warm.engine.paths.items() if top in [pc for pc, _, _ in path])
    source = source_of(warm, start)
    assert "x9 = x14 if x7 else 0" in source, source  # s1 = a4 if t2 else 0, before the loop
    assert "x13 = x14 if x7 else 0" not in source, source  # a3 inside it: t2 is written there
    for turns, value, mask in ((1, 1, 0x12345678), (2, 1, M), (3, 0, M), (2, 3, 0x80000001), (1, 2, 0)):
        check_every_gas(warm, code, words_in(turns, value, mask))


REWRITTEN = from_input("a2", "a4") + """
top:
  andi t1, a2, 1
  sub t2, zero, t1
  and s1, t2, a4
  addi t2, t2, 3
  and s0, t2, a4
  add a0, s0, s1
"""


@pytest.mark.parametrize("threshold", [0, 1])
def test_a_register_written_after_its_choice_is_no_choice(threshold):
    # s1 = a4 if t2 else 0; once t2 is written (t2 + 3), its AND is arithmetic again
    code = raw_program(REWRITTEN)
    warm = warmed(code, threshold, words_in(1, 0x12345678))
    top = label_pc(REWRITTEN, "top")
    start = next(start for start, path in warm.engine.paths.items() if top in [pc for pc, _, _ in path])
    source = source_of(warm, start)
    assert "x9 = x14 if x7 else 0" in source and "x8 = x14 if x7 else 0" not in source, source
    for value, mask in ((1, 0x12345678), (0, M), (2, 0xFFFFFFF0), (3, 0)):
        check_every_gas(warm, code, words_in(value, mask))
