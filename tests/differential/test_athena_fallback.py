"""Generated code that CPython cannot compile: the impl falls back, and agrees with the spec.

The impl compiles hot blocks and regions from generated Python source. Where ``compile``
refuses that source (a SyntaxError such as "too many statically nested blocks", a
RecursionError or MemoryError for source nested too deep, a ValueError or OverflowError), the
block runs in tier 0 and a region's blocks run on their own: the run's outcome (registers,
memory, gas, steps, status, output) is the spec's at every gas limit, and a warning naming the
pc is given once per cause. The failures are forced (``compile`` replaced in the impl's
module) and real (the cap on nested loops, ``MAX_INNER_LOOPS``, raised past what CPython
compiles).
"""

from __future__ import annotations

import builtins
import warnings

import pytest
from smspec.impl import athena as impl
from smspec.tests.differential.test_athena_nesting import nested_loops
from smspec.tests.differential.test_athena_region import check_every_gas, warmed

pytestmark = pytest.mark.usefixtures("spec_backend")


def fallback_warnings(record: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, impl.CompileFallbackWarning)]


@pytest.fixture
def fresh_causes(monkeypatch):
    """No cause warned about yet (each is warned about once per process)."""
    monkeypatch.setattr(impl, "_compile_failures", set())


def refusing(what: str, error: Exception):
    """A ``compile`` that raises `error` for generated code of kind `what` ("block", "region")."""
    def compile_(source, filename, mode, *args, **kwargs):
        if filename.startswith(f"<athena {what} "):
            raise error
        return builtins.compile(source, filename, mode, *args, **kwargs)
    return compile_


@pytest.mark.usefixtures("fresh_causes")
@pytest.mark.parametrize("error", [SyntaxError("too many statically nested blocks"), RecursionError("deep"),
                                   MemoryError(), ValueError("bad"), OverflowError("big")],
                         ids=lambda error: type(error).__name__)
@pytest.mark.parametrize("what", ["block", "region"])
@pytest.mark.parametrize("threshold", [0, 1])
def test_code_that_does_not_compile_runs_as_the_spec_with_one_warning(monkeypatch, what, error, threshold):
    monkeypatch.setattr(impl, "compile", refusing(what, error), raising=False)
    code = nested_loops(3, counted=True)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        warm = warmed(code, threshold, b"")
        check_every_gas(warm, code, b"", stride=5)
    messages = fallback_warnings(record)
    # many blocks (or regions) fail the same way: one warning, naming the pc and the cause
    assert len(messages) == 1, messages
    assert f"the {what} at pc 0x" in messages[0] and type(error).__name__ in messages[0]
    assert warm.engine.region is None
    if what == "block":
        assert warm.engine.paths == {} and warm.engine.compiled == 0
    else:
        assert warm.engine.paths  # the blocks are compiled, and run on their own


@pytest.mark.usefixtures("fresh_causes")
@pytest.mark.parametrize(("depth", "counted", "what"), [(17, True, "region"), (18, False, "region"),
                                                        (20, False, "block"), (23, True, "block")])
def test_loops_nested_past_what_cpython_compiles_run_as_the_spec(monkeypatch, depth, counted, what):
    # with the cap raised, the paths hold more nested loops than CPython compiles in one function:
    # the region's own loop takes the first cases past it, the block's the others
    monkeypatch.setattr(impl, "MAX_INNER_LOOPS", 40)
    code = nested_loops(depth, counted)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        warm = warmed(code, 1, b"")
        check_every_gas(warm, code, b"", stride=11)
    messages = fallback_warnings(record)
    assert any(f"the {what} at pc 0x" in m and "too many statically nested blocks" in m for m in messages), messages
    assert len(messages) == len(set(m.split("pc ")[0] for m in messages))  # one per cause
