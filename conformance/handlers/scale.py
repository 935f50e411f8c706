"""Handlers of the ``scale/codec/*`` vectors: SCALE exactly as go-scale v1.2.1 (spec/scale.md).

Every handler of this runner is the same function (:func:`codec_case`, whose docstring is the
contract client teams implement); the handler name only groups the cases by the kind of type they
exercise: ``compact8`` ... ``compact64``, ``uint``, ``bool``, ``bytes``, ``byte_slice``,
``string``, ``option``, ``slice``, ``array``, ``struct``, ``nesting``.
"""

from __future__ import annotations

from typing import Any

import attrs
from smspec.conformance.handlers import handler, hexbytes, hexstr
from smspec.conformance.jsonio import value_from_jsonable, value_to_jsonable
from smspec.conformance.schema import Record, Schema, inp, out, raises

HANDLER_NAMES = (
    "compact8", "compact16", "compact32", "compact64", "uint", "bool", "bytes", "byte_slice",
    "string", "option", "slice", "array", "struct", "nesting",
)

_SIMPLE = {
    "compact8": "Compact8", "compact16": "Compact16", "compact32": "Compact32",
    "compact64": "Compact64", "uint16": "Uint16", "uint32": "Uint32", "uint64": "Uint64",
    "bool": "Bool",
}


def _size(value: Any, what: str) -> int:
    """A size or length of a type description: an integer in 0 .. 2^32 - 1 (a compact32)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**32 - 1:
        raise ValueError(f"{what} must be an integer from 0 to 2^32 - 1, got {value!r}")
    return value


def _fields(description: Any, scale: Any) -> dict[str, Any]:
    if not isinstance(description, list):
        raise ValueError(f"struct fields are a list of [NAME, TYPE] pairs, not {description!r}")
    fields = {}
    for entry in description:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
            raise ValueError(f"a struct field is a [NAME, TYPE] pair, not {entry!r}")
        name, field_type = entry
        if not name.isidentifier() or name.startswith("_") or name in fields:
            raise ValueError(f"struct field name {name!r} is not a new identifier without a leading underscore")
        fields[name] = scale.scale_field(codec_from_description(field_type, scale))
    return fields


def codec_from_description(description: Any, scale: Any) -> Any:
    """The codec of ``scale`` (the spec module) that a JSON type description names (ValueError or
    TypeError when it names none)."""
    if isinstance(description, str):
        if description not in _SIMPLE:
            raise ValueError(f"unknown SCALE type {description!r}")
        return getattr(scale, _SIMPLE[description])
    if not isinstance(description, dict):
        raise ValueError(f"a type description is a string or an object, not {description!r}")
    if "bytes" in description:
        return scale.Bytes(_size(description["bytes"], "bytes"))
    if "byte_slice" in description:
        return scale.ByteSlice(_size(description["byte_slice"], "byte_slice"))
    if "string" in description:
        return scale.String(_size(description["string"], "string"))
    if "slice" in description:
        return scale.Slice(codec_from_description(description["slice"], scale), _size(description["max"], "max"))
    if "array" in description:
        return scale.Array(codec_from_description(description["array"], scale),
                           _size(description["length"], "length"))
    if "option" in description:
        return scale.Option(codec_from_description(description["option"], scale))
    if "struct" in description:
        return attrs.make_class("Struct", _fields(description["struct"], scale), frozen=True)
    raise ValueError(f"unknown SCALE type description {description!r}")


def codec_case(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """SCALE encode or decode with go-spacemesh's codec rules (the schema is :data:`SCHEMA`)."""
    scale = spec("scale")
    codec = codec_from_description(inputs["type"], scale)
    if "value" in inputs:
        value = value_from_jsonable(inputs["value"], codec)
        return {"encoded": hexstr(scale.encode(value, codec))}
    value = scale.decode(hexbytes(inputs["encoded"]), codec)
    return {"value": value_to_jsonable(value, codec)}


SCHEMA = Schema(
    page="scale-codec",
    summary="""
SCALE encoding and decoding exactly as go-spacemesh's `codec` package runs go-scale v1.2.1: the
case names a type (a *type description*) and gives either a value to **encode** or bytes to
**decode**. The handler name only groups the cases by the kind of type they exercise.
""",
    spec=("scale.md#encode", "scale.md#decode-decode_prefix", "scale.md#decode_compact"),
    inputs=(
        inp("type", "text|{TypeDescription}", "the SCALE type: a name (`compact8`, `compact16`, `compact32`, "
            "`compact64`, `uint16`, `uint32`, `uint64`, `bool`) or an object (see TypeDescription)"),
        inp("value", "json", "a value of the type to encode, in the JSON form below"),
        inp("encoded", "hex", "bytes to decode with go-spacemesh's `codec.Decode` rules: the whole input is one value"),
    ),
    one_of=(("value", "encoded"),),
    outputs=(
        out("encoded", "hex", "the encoding (cases with `value`)", optional=True),
        out("value", "json", "the decoded value, in the same JSON form as `value` (cases with `encoded`)",
            optional=True),
    ),
    raises=(
        raises("InvalidEncoding", ("short_input", "trailing_bytes", "non_canonical_compact", "compact_overflow",
                                   "length_over_max", "nested_too_deep", "invalid_utf8"),
               "bytes go-scale rejects (decode cases); the reasons are scale.md's table"),
        raises("InvalidValue", ("out_of_range", "length_over_max", "wrong_length", "nested_too_deep",
                                "invalid_utf8", "wrong_type"),
               "a value that cannot be encoded (encode cases)"),
    ),
    records=(
        Record("TypeDescription", """
Exactly one of the following keys (with `max` beside `slice`, `length` beside `array`). Sizes are
integers from 0 to 2^32 - 1.
""", (
            inp("bytes", "uint", "`{\"bytes\": N}`: exactly N raw bytes (Go `[N]byte`)", optional=True),
            inp("byte_slice", "uint", "`{\"byte_slice\": M}`: compact32 length + bytes, length at most M "
                "(`[]byte` with `max=M`)", optional=True),
            inp("string", "uint", "`{\"string\": M}`: compact32 byte length + UTF-8 bytes, at most M bytes",
                optional=True),
            inp("slice", "text|{TypeDescription}", "`{\"slice\": T, \"max\": M}`: compact32 count + elements, "
                "count at most M", optional=True),
            inp("max", "uint", "the slice's maximum count", optional=True),
            inp("array", "text|{TypeDescription}", "`{\"array\": T, \"length\": N}`: N elements, no prefix",
                optional=True),
            inp("length", "uint", "the array's length", optional=True),
            inp("option", "text|{TypeDescription}", "`{\"option\": T}`: tag byte `00` (absent) or `01` + a "
                "value of T", optional=True),
            inp("struct", "list<list<json>>", "`{\"struct\": [[NAME, T], ...]}`: the fields' encodings in "
                "order, no prefix", optional=True),
        )),
    ),
    notes=(
        "Value JSON: integers are numbers or decimal strings (above 2^53 always strings); bytes are `0x` "
        "hex; an option is `null` or its value; slices and arrays are arrays; a struct is an object keyed by "
        "field name.",
        "Order of checks when decoding a compact (scale.md#decode_compact, go-scale's order): the mode is read "
        "from the first byte and checked against the type **before** more bytes are read (mode `10` for "
        "compact8, mode `11` for compact8/16 and a big-integer header announcing more bytes than the type "
        "holds are `compact_overflow` even when no further byte is present); then the value bytes are read "
        "(`short_input`); then a value in a longer mode than needed is `non_canonical_compact`, and a value "
        "too large for the type `compact_overflow`.",
        "A length prefix is checked against `max` before its elements or bytes are read: "
        "`{\"byte_slice\": 4}` with `14` is `length_over_max`, not `short_input`.",
        "Leniencies of go-scale kept by the spec: a bool or option tag other than `01` reads as false / absent; "
        "compact64's big-integer form may carry extra zero high bytes (`070000008000` is 2^31).",
        "Nesting: options of non-integers, slices of non-integers and arrays each open one level when entered "
        "(before the value is looked at); a seventh level is `nested_too_deep`, even for an absent option or "
        "an empty slice.",
        "Strings: go-scale accepts any bytes in a string; the spec requires UTF-8 (a *Decision* of "
        "scale.md#string), so `decode_not_utf8` is a spec-strict case.",
    ),
)


for _name in HANDLER_NAMES:
    handler("scale", "codec", _name, schema=SCHEMA)(codec_case)
