"""Handlers of the ``fixed/arith/*`` vectors: spacemeshos/fixed v0.1.2 arithmetic (spec/fixed.md).

A ``Fixed`` value travels as its raw 128-bit word written as a ``0x`` hex string of 32 digits:
bit 127 is the sign, bits 0..126 the magnitude times 2^56 (1.0 is
``0x00000000000000000100000000000000``).

* ``div_uint64``: inputs ``p``, ``q`` (uint64, decimal strings above 2^53). Output ``{"raw"}``.
* ``binop``: inputs ``op`` (``add``, ``sub``, ``mul``, ``div``), ``x``, ``y`` (raw words).
  Output ``{"raw"}``. A Go panic is ``InvalidValue`` (class ``ArithmeticPanic``, reasons
  ``overflow``, ``division_by_zero``).
* ``bin_cdf``: inputs ``n``, ``x`` (integers), ``p`` (raw word). Output ``{"raw"}``.
"""

from __future__ import annotations

from typing import Any

from smspec.conformance.handlers import as_int, handler
from smspec.conformance.schema import Schema, inp, out, raises


def raw_hex(value: Any) -> str:
    return f"0x{value.raw:032x}"


def parse_raw(fixed: Any, text: str) -> Any:
    if not isinstance(text, str) or not text.startswith("0x") or len(text) != 34:
        raise ValueError(f"expected a 0x-prefixed 32-digit raw word, got {text!r}")
    return fixed.Fixed(int(text, 16))


@handler("fixed", "arith", "div_uint64", schema=Schema(
    page="fixed-arith-div_uint64", summary="`fixed.DivUint64(p, q)` of spacemeshos/fixed v0.1.2 (not floor division: see fixed.md).",
    spec=("fixed.md#div_uint64",),
    inputs=(inp("p", "uint:64", "the dividend"), inp("q", "uint:64", "the divisor")),
    outputs=(out("raw", "hex:16", "the quotient's raw word"),),
    raises=(raises("ArithmeticPanic", ("overflow", "division_by_zero"), "a Go panic of the library (ArithmeticPanic is an InvalidValue)"),), notes=("A Fixed travels as its raw 128-bit word, `0x` and 32 hex digits: bit 127 is the sign, bits 0..126 the magnitude times 2^56 (1.0 is `0x00000000000000000100000000000000`).",)))
def div_uint64(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: p, q (uint64). output: raw (hex 128-bit word) of DivUint64(p, q)."""
    fixed = spec("fixed")
    return {"raw": raw_hex(fixed.div_uint64(as_int(inputs["p"]), as_int(inputs["q"])))}


@handler("fixed", "arith", "binop", schema=Schema(
    page="fixed-arith-binop", summary="Addition, subtraction, multiplication or division of two Fixed values.",
    spec=("fixed.md#add-sub-unsigned_sub", "fixed.md#mul", "fixed.md#div"),
    inputs=(inp("op", "enum:add,sub,mul,div", "the operation"), inp("x", "hex:16", "the left operand (raw word)"),
            inp("y", "hex:16", "the right operand (raw word)")),
    outputs=(out("raw", "hex:16", "the result's raw word"),),
    raises=(raises("ArithmeticPanic", ("overflow", "division_by_zero"), "a Go panic of the library (ArithmeticPanic is an InvalidValue)"),), notes=("A Fixed travels as its raw 128-bit word, `0x` and 32 hex digits: bit 127 is the sign, bits 0..126 the magnitude times 2^56 (1.0 is `0x00000000000000000100000000000000`).",)))
def binop(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: op (add|sub|mul|div), x, y (raw words). output: raw."""
    fixed = spec("fixed")
    operations = {"add": fixed.add, "sub": fixed.sub, "mul": fixed.mul, "div": fixed.div}
    x, y = parse_raw(fixed, inputs["x"]), parse_raw(fixed, inputs["y"])
    return {"raw": raw_hex(operations[inputs["op"]](x, y))}


@handler("fixed", "arith", "bin_cdf", schema=Schema(
    page="fixed-arith-bin_cdf", summary="`fixed.BinCDF(n, p, x)`: the binomial CDF as the library computes it.",
    spec=("fixed.md#bin_cdf",),
    inputs=(inp("n", "int", "trials"), inp("p", "hex:16", "the success probability (raw word)"),
            inp("x", "int", "successes (may be negative)")),
    outputs=(out("raw", "hex:16", "the CDF's raw word"),),
    notes=("A Fixed travels as its raw 128-bit word, `0x` and 32 hex digits: bit 127 is the sign, bits 0..126 the magnitude times 2^56 (1.0 is `0x00000000000000000100000000000000`).",)))
def bin_cdf(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: n, x (integers), p (raw word). output: raw of BinCDF(n, p, x)."""
    fixed = spec("fixed")
    return {"raw": raw_hex(fixed.bin_cdf(as_int(inputs["n"]), parse_raw(fixed, inputs["p"]), as_int(inputs["x"])))}
