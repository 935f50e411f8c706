"""The other functions of spacemeshos/fixed v0.1.2 as vectors (fixed/arith/function).

Known answers: the upstream lists of test_upstream_known_answers.py (obtained by running the Go
library; a panic there is the error class ArithmeticPanic here, its reason not known from
upstream), and values worked out by hand from the raw-word layout (bit 127 the sign, 56
fraction bits), each stated next to its case.
"""

from __future__ import annotations

from smspec.conformance.cases import Case, vector_source

from .test_upstream_known_answers import (
    DIV64,
    EXP,
    FROM_FLOAT,
    INCOMPLETE,
    LGAMMA,
    LOG,
    PANIC,
    TO_FLOAT,
    float_bits,
)

ONE = 2**56
NEG = 2**127
F = "fixed.md#"


def raw(value: int) -> str:
    return f"0x{value:032x}"


def case(name: str, op: str, args: list, result, ref: str, description: str, reason: str | None = None) -> Case:
    if result == PANIC:
        return Case(name, inputs={"op": op, "args": args}, error="ArithmeticPanic", reason=reason, spec_ref=ref,
                    description=description)
    return Case(name, inputs={"op": op, "args": args}, expected={"result": result}, spec_ref=ref,
                description=description)


@vector_source("fixed", "arith", "function")
def test_function_vectors():
    up = "(running fixed v0.1.2)"
    for index, ((p, q), expected) in enumerate(DIV64):
        yield case(f"div64_{index}", "div64", [p, q], expected if expected == PANIC else raw(expected), F + "div64",
                   f"Div64({p}, {q}) {up}")
    for index, (value, expected) in enumerate(FROM_FLOAT):
        yield case(f"from_float_{index}", "from_float", [float_bits(value)], expected if expected == PANIC else raw(expected),
                   F + "from_float", f"From({value!r}) {up}")
    for index, (word, expected) in enumerate(TO_FLOAT):
        yield case(f"to_float_{index}", "to_float", [raw(word)], expected, F + "to_float", f"Float() of {word:#x} {up}")
    for index, (x, expected) in enumerate(LGAMMA):
        yield case(f"lgamma_{index}", "lgamma", [x], expected if expected == PANIC else raw(expected), F + "lgamma",
                   f"lgamma({x}) {up}")
    for index, (word, expected) in enumerate(EXP):
        yield case(f"exp_{index}", "exp", [raw(word)], expected if expected == PANIC else raw(expected), F + "exp",
                   f"exp({word:#x}) {up}")
    for index, (function, x, expected) in enumerate(LOG):
        name = function.__name__
        yield case(f"{name}_{index}", name, [x], expected, F + "log56-ilog56", f"{name}({x}) {up}")
    for index, ((a, b, x), expected) in enumerate(INCOMPLETE):
        yield case(f"incomplete_beta_{index}", "incomplete_beta", [a, b, x], expected if expected == PANIC else raw(expected),
                   F + "incomplete_beta", f"incomplete({a}, {b}, {x}) {up}")
    # By hand: 2.5 is 0x0280.., 2.25 is 0x0240..; floor/ceil/round as Go's Floor/Ceil/Round.
    rounding = F + "floor_fixed-ceil_fixed-round_fixed"
    for name, op, word, expected in [
        ("floor_2_5", "floor", 0x280000000000000, 2), ("floor_minus_2_5", "floor", NEG | 0x280000000000000, -3),
        ("floor_3", "floor", 3 * ONE, 3), ("ceil_2_5", "ceil", 0x280000000000000, 3),
        ("ceil_minus_2_5", "ceil", NEG | 0x280000000000000, -2), ("round_2_5", "round", 0x280000000000000, 3),
        ("round_minus_2_5", "round", NEG | 0x280000000000000, -3), ("round_2_25", "round", 0x240000000000000, 2),
    ]:
        yield case(name, op, [raw(word)], expected, rounding, f"{op} of {word:#x} is {expected} (by hand)")
    yield case("floor_integer_part_overflow", "floor", [raw(2**126)], PANIC, rounding,
               "2^70 has no int64 integer part: Go panics", reason="overflow")
    layout = F + "frac_from_bytes-from_bytes-to_bytes"
    yield case("from_bytes_one_unit", "from_bytes", ["0x01" + "00" * 15], raw(1), layout,
               "little-endian lo then hi: byte 0 = 1 is one unit (2^-56)")
    yield case("to_bytes_one", "to_bytes", [raw(ONE)], "0x" + "00" * 7 + "01" + "00" * 8, layout,
               "1.0 = 2^56: byte 7 of the low word is 01")
    yield case("with_sign_of_negative", "with_sign_of", [raw(ONE), raw(NEG | ONE // 2)], raw(NEG | ONE),
               F + "neg-abs_fixed-with_sign_of", "1.0 with the sign of -0.5 is -1.0 (by hand)")
    compare = F + "less_than-greater_than-equal_to"
    yield case("equal_to_same", "equal_to", [raw(ONE), raw(ONE)], True, compare, "identical raw words are equal")
    yield case("equal_to_signed_zeros", "equal_to", [raw(0), raw(NEG)], False, compare,
               "+0 and -0 differ: raw words are compared")
    yield case("less_than_negative_is_greater", "less_than", [raw(NEG | 1), raw(ONE)], False, compare,
               "a negative value's raw word (sign bit set) is above every non-negative one's")
    yield case("shift_left_by_4", "shift_left", [raw(NEG | ONE), 4], raw(NEG | 16 * ONE), F + "shift_left",
               "-1.0 << 4 keeps the sign: -16.0 (by hand)")
    yield case("shift_left_beyond_64", "shift_left", [raw(1), 70], raw(2**70), F + "shift_left",
               "a shift of 70 moves the low word into the high one (by hand)")
    yield case("shift_left_beyond_64_overflow", "shift_left", [raw(2**64), 70], PANIC, F + "shift_left",
               "bits in the high word shifted by more than 64 are lost: Go panics", reason="overflow")
    yield case("shift_left_overflow", "shift_left", [raw(2**120), 8], PANIC, F + "shift_left",
               "bit 120 shifted by 8 reaches the sign bit: Go panics", reason="overflow")
    yield case("shift_right_beyond_64", "shift_right", [raw(NEG | 2**100), 70], raw(NEG | 2**30), F + "shift_right",
               "2^100 >> 70 = 2^30, the sign kept (by hand)")
    yield case("mul_uint64_overflow", "mul_uint64", [raw(2**100), 2**28], PANIC, F + "mul_uint64",
               "2^100 x 2^28 passes 2^128: Go panics", reason="overflow")
    # More by hand: a negative shift count panics in Go; 0.0 converts both ways to the zero word;
    # ln(1) = 0; e^200 does not fit 72 integer bits, e^-200 is below one unit.
    yield case("shift_left_negative", "shift_left", [raw(ONE), -1], PANIC, F + "shift_left",
               "a negative shift count: Go panics", reason="negative_shift")
    yield case("shift_right_negative", "shift_right", [raw(ONE), -1], PANIC, F + "shift_right",
               "a negative shift count: Go panics", reason="negative_shift")
    yield case("from_float_zero", "from_float", [0], raw(0), F + "from_float", "0.0 is the zero word")
    yield case("to_float_zero", "to_float", [raw(0)], 0, F + "to_float", "the zero word is 0.0 (bits 0)")
    yield case("log56_one", "log56", [ONE], 0, F + "log56-ilog56", "ln(1) = 0")
    for x in (0, -3):
        yield case(f"lgamma_{'zero' if x == 0 else 'negative'}", "lgamma", [x], PANIC, F + "lgamma",
                   f"lgamma({x}), x <= 0: ArithmeticPanic (fixed.md#lgamma)", reason="overflow")
    yield case("exp_200", "exp", [raw(200 * ONE)], PANIC, F + "exp", "e^200 does not fit the integer bits: ArithmeticPanic",
               reason="overflow")
    yield case("exp_minus_200", "exp", [raw(NEG | 200 * ONE)], raw(0), F + "exp", "e^-200 is below 2^-56: zero")
