"""Athena: tier-0 blocks filled into the region (impl/athena.py, ``Engine.fill``) against the spec.

When a region is built (and every ``REGION_RUNS`` runs after), each block still in tier 0 that
has been entered ``FILL_ENTRIES`` times is compiled with its path cut before the first start of a
block the region holds, and joins the region. The program below has two hot loops (compiled at
once) and after them a chain of small blocks, each entered once a run, which the threshold alone
would compile only after hundreds of runs. The tests check that the chain is filled in with cut
paths, and that every input and every gas limit gives the spec's final state.
"""

from __future__ import annotations

import struct

import pytest
import smspec.spec.athena as athena_module
from smspec.impl import athena as impl
from smspec.tests.differential.test_athena import impl_run
from smspec.tests.differential.test_athena_region import DATA, Warm, backend, from_input, spec_state
from smspec.tests.spec.athena.asm import raw_program

pytestmark = pytest.mark.usefixtures("spec_backend")

CHAIN = from_input("s1", "s0", at=DATA) + """
  li a2, 0
  li a5, 0
loop1:
  addi a2, a2, 1
  add a5, a5, a2
  bne a2, s1, loop1
  li a2, 0
loop2:
  addi a2, a2, 1
  xor a5, a5, a2
  bne a2, s1, loop2
  andi t1, s0, 1
  beq t1, zero, l1
  addi a5, a5, 3
l1:
  andi t1, s0, 2
  beq t1, zero, l2
  xori a5, a5, 5
l2:
  andi t1, s0, 4
  beq t1, zero, l3
  slli a5, a5, 1
l3:
  andi t1, s0, 8
  beq t1, zero, l4
  sw a5, 16(a0)
  lw a4, 16(a0)
  add a5, a5, a4
  add a3, s0, a0
  lw a4, 0(a3)
l4:
  jal ra, f
  andi t1, s0, 16
  bne t1, zero, l5
  addi a5, a5, 7
l5:
  jal zero, done
f:
  andi t1, s0, 32
  beq t1, zero, f1
  addi a5, a5, -1
f1:
  ret
done:
  addi a0, a5, 0
"""
RUNS = 2 * impl.REGION_RUNS + 4  # enough for the chain's blocks to be entered FILL_ENTRIES times and a fill


def stream(turns: int, bits: int) -> bytes:
    return struct.pack("<II", turns, bits)


def filled(code: bytes, threshold: int = impl.DEFAULT_THRESHOLD) -> Warm:
    """`code` run `RUNS` times on the impl (every way through the chain's first blocks taken)."""
    warm = Warm.__new__(Warm)
    warm.threshold, warm.run = threshold, impl_run(threshold)
    with backend("impl"):
        warm.program = athena_module.load_program(code)
        warm.engine = impl.engine_of(warm.program, threshold)
    for _ in range(RUNS):
        warm.state(10**6, stream(20, 0))
    assert warm.engine.region is not None
    return warm


@pytest.mark.parametrize("threshold", [impl.DEFAULT_THRESHOLD, 16])
def test_small_blocks_entered_often_join_the_region_with_cut_paths(threshold):
    code = raw_program(CHAIN)
    warm = filled(code, threshold)
    engine = warm.engine
    cut = [start for start, path in engine.paths.items()
           if len(path) < len(engine.superblock(start)) and engine.blocks[start].__name__ == "enter"]
    assert len(cut) >= 3, "the chain's blocks were not filled into the region"
    for start in cut:  # each cut path ends before another block of the region, or at a jump
        pc, ins, followed = engine.paths[start][-1]
        assert (pc + 4) & impl.M in engine.paths or ins.name in ("jal", "jalr", *impl.BRANCHES)
    assert not [start for start, block in engine.blocks.items() if impl._entries(block) >= impl.FILL_ENTRIES]
    for bits in range(64):  # every way through the chain, leaving the cut paths at every exit
        expected = spec_state(code, 10**6, stream(7, bits))
        assert warm.state(10**6, stream(7, bits)) == expected, bits
    for bits in (0, 8, 63):
        total = spec_state(code, 10**6, stream(3, bits))[4]
        for gas in range(total + 9):
            assert warm.state(gas, stream(3, bits)) == spec_state(code, gas, stream(3, bits)), (bits, gas)


def test_a_fault_in_a_filled_block():
    # bits with bit 3 set load from DATA + bits: 8 + DATA is aligned, 9 + DATA is not (a misaligned LW)
    code = raw_program(CHAIN)
    warm = filled(code)
    for bits in (9, 10, 11, 13):
        expected = spec_state(code, 10**6, stream(5, bits))
        assert expected[6] is not None  # a trap
        assert warm.state(10**6, stream(5, bits)) == expected, bits
