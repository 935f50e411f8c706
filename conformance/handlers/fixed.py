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


def raw_hex(value: Any) -> str:
    return f"0x{value.raw:032x}"


def parse_raw(fixed: Any, text: str) -> Any:
    if not isinstance(text, str) or not text.startswith("0x") or len(text) != 34:
        raise ValueError(f"expected a 0x-prefixed 32-digit raw word, got {text!r}")
    return fixed.Fixed(int(text, 16))


@handler("fixed", "arith", "div_uint64")
def div_uint64(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: p, q (uint64). output: raw (hex 128-bit word) of DivUint64(p, q)."""
    fixed = spec("fixed")
    return {"raw": raw_hex(fixed.div_uint64(as_int(inputs["p"]), as_int(inputs["q"])))}


@handler("fixed", "arith", "binop")
def binop(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: op (add|sub|mul|div), x, y (raw words). output: raw."""
    fixed = spec("fixed")
    operations = {"add": fixed.add, "sub": fixed.sub, "mul": fixed.mul, "div": fixed.div}
    x, y = parse_raw(fixed, inputs["x"]), parse_raw(fixed, inputs["y"])
    return {"raw": raw_hex(operations[inputs["op"]](x, y))}


@handler("fixed", "arith", "bin_cdf")
def bin_cdf(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: n, x (integers), p (raw word). output: raw of BinCDF(n, p, x)."""
    fixed = spec("fixed")
    return {"raw": raw_hex(fixed.bin_cdf(as_int(inputs["n"]), parse_raw(fixed, inputs["p"]), as_int(inputs["x"])))}
