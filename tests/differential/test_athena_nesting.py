"""Paths whose inner loops nest deeper than CPython compiles.

CPython refuses a function with more than 20 nested loops ("too many statically nested
blocks"). A program is free to nest its loops as deep as it likes: before ``MAX_INNER_LOOPS``
capped the inner loops a path runs in place, a hot path of 25 nested loops raised SyntaxError
in the impl, where the spec runs it. Each program here nests `depth` loops (each taken once
but the innermost, a countdown from the outer turn + 2 when `counted`) inside an outer countdown, and is compared with
the spec as a compiled block and inside a region, at every gas limit.
"""

from __future__ import annotations

import pytest
from smspec.impl import athena as impl
from smspec.tests.differential.test_athena_region import check_every_gas, source_of, warmed
from smspec.tests.spec.athena.asm import raw_program

pytestmark = pytest.mark.usefixtures("spec_backend")


def nested_loops(depth: int, counted: bool, turns: int = 3) -> bytes:
    lines = [f"li x3, {turns}", "li x1, 0", "top:", "addi x4, x4, 1"]
    for k in range(depth):
        lines += [f"l{k}:", "addi x2, x2, 1"]
    if counted:
        lines += ["addi x5, x3, 2", "c:", "addi x6, x6, 3", "addi x5, x5, -1", "bne x5, x0, c"]
    lines += [f"bne x1, x0, l{k}" for k in reversed(range(depth))]
    lines += ["addi x3, x3, -1", "bne x3, x0, top", "addi a0, x2, 0"]
    return raw_program("\n".join(lines))


def loops_held(source: str) -> int:
    """The most loops any line of generated `source` is inside."""
    return max(impl._loop_depths(source.splitlines()))


@pytest.mark.parametrize("counted", [False, True])
@pytest.mark.parametrize("depth", [impl.MAX_INNER_LOOPS - 1, impl.MAX_INNER_LOOPS, impl.MAX_INNER_LOOPS + 1, 30])
def test_deeply_nested_loops_compile_and_agree_with_the_spec(depth, counted):
    code = nested_loops(depth, counted)
    warm = warmed(code, 1, b"")
    assert warm.engine.region is not None
    region = impl.region_source(sorted(warm.engine.segments), warm.engine.segments)
    assert loops_held(region) <= impl.MAX_LOOPS
    # the path runs as many loops in place as Python allows, and no more
    block = impl.block_source(warm.program, 8)
    assert loops_held(block) == 1 + min(depth + counted, impl.MAX_INNER_LOOPS)
    assert "while True" in source_of(warm, 8)
    check_every_gas(warm, code, b"", stride=7)
