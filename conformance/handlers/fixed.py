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


FUNCTION_OPS = ("div64", "from_float", "to_float", "lgamma", "exp", "log56", "ilog56", "incomplete_beta", "floor",
                "ceil", "round", "from_bytes", "to_bytes", "with_sign_of", "equal_to", "less_than", "shift_left",
                "shift_right", "mul_uint64")


@handler("fixed", "arith", "function", schema=Schema(
    page="fixed-arith-function",
    summary="The other functions of spacemeshos/fixed v0.1.2 the protocol relies on, one per `op` (table below).",
    spec=("fixed.md#div64", "fixed.md#from_float", "fixed.md#to_float", "fixed.md#lgamma", "fixed.md#exp",
          "fixed.md#log56-ilog56", "fixed.md#incomplete_beta", "fixed.md#floor_fixed-ceil_fixed-round_fixed",
          "fixed.md#frac_from_bytes-from_bytes-to_bytes", "fixed.md#shift_left", "fixed.md#shift_right",
          "fixed.md#mul_uint64"),
    inputs=(inp("op", "enum:" + ",".join(FUNCTION_OPS), "the function"),
            inp("args", "list<json>", "its arguments: raw words as 32-digit hex, integers, floats as their "
                "IEEE 754 binary64 bit pattern (uint64), bytes as hex")),
    outputs=(out("result", "json", "a raw word (hex), an integer, a boolean, a float's bit pattern (uint64) or hex "
                 "bytes, per the table"),),
    raises=(raises("ArithmeticPanic", ("overflow", "division_by_zero", "negative_shift"), "a Go panic of the library"),),
    notes=("`op` → args → result: `div64` [p int, q int] → raw; `from_float` [bits] → raw; `to_float` [raw] → bits; "
           "`lgamma` [x int] → raw; `exp` [raw] → raw; `log56`, `ilog56` [x int] → int (2^-56 units); "
           "`incomplete_beta` [a int, b int, x int (2^-56 units)] → raw; `floor`, `ceil`, `round` [raw] → int; "
           "`from_bytes` [16 bytes hex, little-endian lo then hi] → raw; `to_bytes` [raw] → 16 bytes hex; "
           "`with_sign_of` [raw, raw] → raw; `equal_to`, `less_than` [raw, raw] → bool; `shift_left`, "
           "`shift_right` [raw, count] → raw; `mul_uint64` [raw, uint64] → raw.",
           "A Fixed travels as its raw 128-bit word, `0x` and 32 hex digits (see fixed-arith-binop).")))
def function(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """One of spacemeshos/fixed's functions (schema: FUNCTION_OPS)."""
    import struct

    fixed = spec("fixed")
    op, args = inputs["op"], inputs["args"]
    raw = lambda text: parse_raw(fixed, text)  # noqa: E731
    if op == "div64":
        return {"result": raw_hex(fixed.div64(as_int(args[0]), as_int(args[1])))}
    if op == "from_float":
        value = struct.unpack("<d", struct.pack("<Q", as_int(args[0])))[0]
        return {"result": raw_hex(fixed.from_float(value))}
    if op == "to_float":
        return {"result": struct.unpack("<Q", struct.pack("<d", fixed.to_float(raw(args[0]))))[0]}
    if op == "lgamma":
        return {"result": raw_hex(fixed.lgamma(as_int(args[0])))}
    if op == "exp":
        return {"result": raw_hex(fixed.exp(raw(args[0])))}
    if op in ("log56", "ilog56"):
        return {"result": getattr(fixed, op)(as_int(args[0]))}
    if op == "incomplete_beta":
        return {"result": raw_hex(fixed.incomplete_beta(as_int(args[0]), as_int(args[1]), as_int(args[2])))}
    if op in ("floor", "ceil", "round"):
        return {"result": getattr(fixed, f"{op}_fixed")(raw(args[0]))}
    if op == "from_bytes":
        return {"result": raw_hex(fixed.from_bytes(bytes.fromhex(args[0][2:])))}
    if op == "to_bytes":
        return {"result": "0x" + fixed.to_bytes(raw(args[0])).hex()}
    if op == "with_sign_of":
        return {"result": raw_hex(fixed.with_sign_of(raw(args[0]), raw(args[1])))}
    if op in ("equal_to", "less_than"):
        return {"result": getattr(fixed, op)(raw(args[0]), raw(args[1]))}
    if op in ("shift_left", "shift_right"):
        return {"result": raw_hex(getattr(fixed, op)(raw(args[0]), as_int(args[1])))}
    if op == "mul_uint64":
        return {"result": raw_hex(fixed.mul_uint64(raw(args[0]), as_int(args[1])))}
    raise ValueError(f"unknown op {op!r}")
