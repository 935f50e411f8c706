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
    """SCALE encode or decode, with go-spacemesh's codec rules (spec/scale.md).

    **Inputs** (one JSON object):

    * ``type``: the SCALE type, written as a *type description*:

      - ``"compact8"``, ``"compact16"``, ``"compact32"``, ``"compact64"``: compact unsigned integers;
      - ``"uint16"``, ``"uint32"``, ``"uint64"``: fixed-width little-endian integers;
      - ``"bool"``;
      - ``{"bytes": N}``: exactly N raw bytes (Go ``[N]byte``);
      - ``{"byte_slice": M}``: compact32 length + bytes, length at most M (``[]byte`` ``max=M``);
      - ``{"string": M}``: compact32 byte length + UTF-8 bytes, at most M bytes;
      - ``{"slice": T, "max": M}``: compact32 count + elements of type T, count at most M;
      - ``{"array": T, "length": N}``: N elements of type T, no prefix;
      - ``{"option": T}``: tag byte ``00`` (absent) or ``01`` + a value of T;
      - ``{"struct": [[NAME, T], ...]}``: the fields' encodings in order, no prefix.

    * and exactly one of

      - ``value``: a value of that type to **encode**. Integers are JSON numbers or decimal strings
        (those above 2^53 are always strings); bytes are ``0x`` hex; options are ``null`` or the
        value; slices and arrays are JSON arrays; structs are objects keyed by field name.
      - ``encoded``: ``0x`` hex bytes to **decode** with go-spacemesh's ``codec.Decode`` rules: the
        whole input must be one value.

    **Output**: for ``value`` cases ``{"encoded": "0x..."}``; for ``encoded`` cases
    ``{"value": ...}`` in the same JSON form as ``value`` inputs.

    **Errors**: bytes go-scale rejects give ``InvalidEncoding`` with a reason among
    ``short_input``, ``trailing_bytes``, ``non_canonical_compact``, ``compact_overflow``,
    ``length_over_max``, ``nested_too_deep``, ``invalid_utf8``. Values that cannot be encoded give
    ``InvalidValue`` (``out_of_range``, ``length_over_max``, ``wrong_length``, ``nested_too_deep``).
    A client must reject with the same class; matching the reason is recommended.

    **Rules clients most often miss** (all from go-scale v1.2.1, see spec/scale.md): a compact in a
    longer form than needed is rejected, except that compact64's big-integer form may carry extra
    zero high bytes (``070000008000`` is 2^31); a bool or option tag other than ``01`` reads as
    false / absent; options of non-integers, slices of non-integers and arrays each open one
    nesting level, and a seventh level is rejected (``nested_too_deep``), even for an absent
    option or an empty slice.
    """
    scale = spec("scale")
    codec = codec_from_description(inputs["type"], scale)
    if "value" in inputs:
        value = value_from_jsonable(inputs["value"], codec)
        return {"encoded": hexstr(scale.encode(value, codec))}
    value = scale.decode(hexbytes(inputs["encoded"]), codec)
    return {"value": value_to_jsonable(value, codec)}


for _name in HANDLER_NAMES:
    handler("scale", "codec", _name)(codec_case)
