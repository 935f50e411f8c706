"""Athena: a word kept in a temporary after the register that held it is written (impl/athena.py,
``_BlockCompiler.keep`` and ``temporary``) against the spec.

A compiled path remembers the word a store or load at `register + offset` left, held by a
register; when that register is written, the word is held by a temporary that the store or load
assigns too (only where a later load reads it), and a later word load from the same place is a
copy of it. Every test runs the impl with its region built, checks that the generated code reads
such a temporary, and compares the final state with the spec's at every gas limit: aliasing
stores (another base register, a byte or half, the same word, a constant address) between the
temporary's store and the load, the base register written, inner loops, the copies of an
unrolled loop, and random code with misaligned and out-of-range bases (faults inside the path).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smspec.tests.differential.test_athena_region import (
    DATA,
    M,
    check_every_gas,
    forced_region,
    from_input,
    source_of,
    spec_state,
    two_base_body,
    two_base_loop,
    words_in,
)
from smspec.tests.spec.athena.asm import i_type, raw_program, s_type

pytestmark = pytest.mark.usefixtures("spec_backend")

READS_TEMPORARY = re.compile(r"^\s*x\d+ = f\d+$", re.MULTILINE)
ASSIGNS_TEMPORARY = re.compile(r" = f\d+ = ")

# (loop body, second base - first base, what the loop adds to a5 in all its 5 turns, whether a
# load reads a temporary): a2 = 7 and a3 = 11 at the start, s0 = DATA, s1 = DATA + delta
CASES = {
    # the stored register written, then the word loaded: a copy of the temporary
    "store kept": ("sw a2, 4(s0)\nxor a3, a3, a2\naddi a2, a2, 5\nlw a4, 4(s0)\nadd a5, a5, a4", 0,
                   7 + 12 + 17 + 22 + 27, True),
    # the loaded register written, then the word loaded again
    "load kept": ("lw a4, 8(s0)\naddi a4, a4, 3\nsw a4, 12(s0)\nlw a3, 8(s0)\nadd a5, a5, a3\nsw a4, 8(s0)", 0,
                  0 + 3 + 6 + 9 + 12, True),
    # two words, one register: both kept by one temporary
    "two words": ("sw a2, 0(s0)\nsw a2, 8(s0)\nli a2, 1\nlw a4, 0(s0)\nlw a3, 8(s0)\nadd a5, a5, a4\n"
                  "add a5, a5, a3\naddi a2, a2, 6", 0, 14 + 4 * 14, True),
    # a store through another register that points at the word kept
    "other base": ("sw a2, 4(s0)\naddi a2, a2, 5\nsw a3, 0(s1)\nlw a4, 4(s0)\nadd a5, a5, a4", 4, 5 * 11, False),
    # the same, at another word (the temporary is forgotten all the same: s1 may point anywhere)
    "other base elsewhere": ("sw a2, 4(s0)\naddi a2, a2, 5\nsw a3, 0(s1)\nlw a4, 4(s0)\nadd a5, a5, a4", 64,
                             7 + 12 + 17 + 22 + 27, False),
    # a byte and a half stored into the word kept
    "byte": ("sw a2, 0(s0)\nli a2, 99\nsb a3, 1(s0)\nlw a4, 0(s0)\nadd a5, a5, a4\nli a2, 7", 0,
             5 * (7 + (11 << 8)), False),
    "half": ("sw a2, 0(s0)\nli a2, 99\nsh a3, 2(s0)\nlw a4, 0(s0)\nadd a5, a5, a4\nli a2, 7", 0,
             5 * (7 + (11 << 16)), False),
    # the same word stored again from another register
    "same word": ("sw a2, 8(s0)\naddi a2, a2, 1\nsw a3, 8(s0)\nlw a4, 8(s0)\nadd a5, a5, a4", 0, 5 * 11, False),
    # a store at a constant address over the word kept
    "constant address": (f"sw a2, 4(s0)\naddi a2, a2, 5\nli t2, {DATA + 4}\nsw a3, 0(t2)\nlw a4, 4(s0)\n"
                         "add a5, a5, a4", 0, 5 * 11, False),
    # the base register moved: the word is another one
    "base written": ("sw a2, 4(s0)\naddi a2, a2, 5\naddi s0, s0, 4\nlw a4, 0(s0)\nadd a5, a5, a4\n"
                     "lw a4, 4(s0)\nadd a5, a5, a4", 0, 7 + 12 + 17 + 22 + 27, False),
    # an inner loop that stores through another register over the word kept
    "inner loop": ("sw a2, 0(s0)\naddi a2, a2, 1\nli t1, 3\ninner:\nsw t1, 0(s1)\naddi t1, t1, -1\n"
                   "bne t1, zero, inner\nlw a4, 0(s0)\nadd a5, a5, a4", 0, 5 * 1, False),
    # a word kept before an inner loop that leaves it alone: forgotten at the loop (loaded again)
    "inner loop elsewhere": ("sw a2, 0(s0)\naddi a2, a2, 1\nli t1, 3\ninner:\nsw t1, 0(s1)\naddi t1, t1, -1\n"
                             "bne t1, zero, inner\nlw a4, 0(s0)\nadd a5, a5, a4", 64, 7 + 8 + 9 + 10 + 11, False),
    # a word kept before an inner loop whose first turn reads it and then stores over it: the
    # later turns read what the loop stored
    "inner loop reads": ("sw a2, 0(s0)\naddi a2, a2, 1\nli t1, 3\ninner:\nlw a4, 0(s0)\nadd a5, a5, a4\n"
                         "sw t1, 0(s1)\naddi t1, t1, -1\nbne t1, zero, inner", 0, 7 + 8 + 9 + 10 + 11 + 5 * 5, False),
    # inside an inner loop: kept and read in each of its turns
    "in an inner loop": ("li t1, 3\ninner:\nsw a2, 0(s0)\naddi a2, a2, 1\nlw a4, 0(s0)\nadd a5, a5, a4\n"
                         "addi t1, t1, -1\nbne t1, zero, inner\nlw a4, 0(s0)\nadd a5, a5, a4",
                         0, sum(range(7, 22)) + sum(range(9, 22, 3)), True),
}


@pytest.mark.parametrize("threshold", [0, 1])
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_kept_word_at_every_gas_limit(case, threshold):
    body, delta, total, reads = CASES[case]
    text = from_input("s0", "s1") + f"li a2, 7\nli a3, 11\nli ra, 5\nloop:\n{body}\naddi ra, ra, -1\nbne ra, zero, loop"
    code = raw_program(text)
    stream = words_in(DATA, DATA + delta)
    warm = forced_region(code, threshold, stream)
    assert warm is not None
    source = "\n".join(source_of(warm, start) for start in sorted(warm.engine.segments))
    assert bool(READS_TEMPORARY.search(source)) == reads, source
    assert bool(ASSIGNS_TEMPORARY.search(source)) == reads, source
    expected = spec_state(code, 10**6, stream)
    assert expected[6] is None and expected[0][15] == total
    check_every_gas(warm, code, stream)


def test_a_kept_word_in_the_copies_of_an_unrolled_loop():
    # a loop of 6 instructions runs two copies of its path a turn: the second copy reads the
    # temporaries of the first, and the last odd pass its own
    text = (from_input("s0") + "li a2, 7\nli ra, 5\nbne ra, zero, loop\njal zero, done\nloop:\nsw a2, 0(s0)\n"
            "addi a2, a2, 3\nlw a4, 0(s0)\nadd a5, a5, a4\naddi ra, ra, -1\nbne ra, zero, loop\ndone:\nli t0, 0\n")
    code = raw_program(text)
    stream = words_in(DATA)
    warm = forced_region(code, 1, stream)
    assert warm is not None
    source = "\n".join(source_of(warm, start) for start in sorted(warm.engine.segments))
    assert "for turn in range(turns >> 1):" in source
    assert len(READS_TEMPORARY.findall(source)) >= 3, source
    expected = spec_state(code, 10**6, stream)
    assert expected[6] is None and expected[0][15] == 7 + 10 + 13 + 16 + 19
    check_every_gas(warm, code, stream)


@pytest.mark.parametrize(("base", "reason"), [(DATA + 2, "misaligned"), (M - 3, "wraps"), (60, "stepped"),
                                              (DATA, None)])
def test_a_fault_after_a_kept_word(base, reason):
    # s0 from the input, s1 = DATA: the word kept from s1, then an access from s0 that traps
    # (misaligned, or a word over the top of memory), or a store the compiled check refuses
    # (below 2088: the spec steps it and it succeeds); the register written in between holds
    # its new value at the fault
    text = (from_input("s0", "s1") + "li a2, 7\nli ra, 3\nloop:\nsw a2, 0(s1)\naddi a2, a2, 5\nlw a4, 0(s1)\n"
            "sw a4, 4(s0)\nlw a3, 0(s1)\nadd a5, a5, a3\naddi ra, ra, -1\nbne ra, zero, loop")
    code = raw_program(text)
    stream = words_in(base, DATA)
    warm = forced_region(code, 0, words_in(DATA, DATA))
    assert warm is not None
    expected = spec_state(code, 10**6, stream)
    assert (expected[6] is None) == (reason in (None, "stepped"))
    check_every_gas(warm, code, stream)


@st.composite
def overwriting_code(draw):
    # word and byte accesses from two base registers (s0, s1) that may point at the same words,
    # or at misaligned or out-of-range addresses, with the stored and loaded registers written
    # often (ALU and loads into them): words kept in temporaries, forgotten at aliasing stores
    def narrow_store(draw, base, offset, register):
        width = draw(st.sampled_from([0, 1]))
        return s_type(offset + draw(st.integers(0, 3)) * (1 if width == 0 else 2) % 4, register, base, width, 0x23)

    def overwrite(draw, base, offset, register):
        return i_type(draw(st.integers(-5, 5)), draw(st.sampled_from([0, 12, 13, 14, 15])), 0, register, 0x13)

    return two_base_body(draw, (3, 16), 7, {4: narrow_store, 5: overwrite})


@settings(max_examples=60, deadline=None)
@given(overwriting_code(), st.sampled_from([0, 4, -4, 8]), st.sampled_from([DATA, DATA + 2, 2048, 44, M - 7]),
       st.integers(1, 4), st.sampled_from([0, 1]))
def test_random_kept_words(body, delta, base, turns, threshold):
    # warmed with s0 = s1 = DATA (+ delta), then run at every gas limit from a base that may
    # fault or be stepped (misaligned, below the store check, at the top of memory)
    warm_stream = words_in(DATA, DATA + delta)
    code = two_base_loop(body, turns)
    warm = forced_region(code, threshold, warm_stream)
    assert warm is not None
    check_every_gas(warm, code, warm_stream, 2)
    check_every_gas(warm, code, words_in(base, DATA + delta), 3)
