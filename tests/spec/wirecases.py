"""Cases of the codec triads (``<domain>/wire/<type>``): valid values both ways, and an
invalid-encoding suite made from each valid encoding.

Known answers: a decode case expects the value the test built (its JSON written by jsonio from
the Python value, not by the handler under test); an encode case checks that its bytes decode
back to that value and, where a hand-assembled encoding exists, expects those bytes. The
invalid encodings are made by mutations whose error is known by construction:

* no bytes, the encoding without its last byte: ``short_input``;
* one byte appended: ``trailing_bytes``;
* the first field, a compact below 64, rewritten in the two-byte mode: ``non_canonical_compact``;
* the count of the first slice (or byte slice) field set to its max + 1: ``length_over_max``
  (go-scale checks the count before reading the elements).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from smspec.conformance.cases import Case, output_fields
from smspec.conformance.jsonio import value_to_jsonable
from smspec.spec import load

scale = load("scale", "mainnet")


def decodes_to(codec: Any, value: Any):
    """A check that the output's `encoded` bytes decode (spec decoder) back to `value`."""
    def check(output: dict) -> None:
        decoded = scale.decode(bytes.fromhex(output["encoded"][2:]), codec)
        assert decoded == value, f"{output['encoded'][:40]}... decodes to another value"
    return check


def triad_cases(name: str, codec: Any, value: Any, ref: str, what: str, encoded: bytes | None = None,
                ids: dict[str, Any] | None = None) -> Iterator[Case]:
    """`<name>_encode` and `<name>_decode`: the value and its bytes, both ways (IDs: known ones)."""
    blob = scale.encode(value, codec) if encoded is None else encoded
    known = dict(ids or {})
    if encoded is not None:
        yield Case(f"{name}_encode", inputs={"value": value_to_jsonable(value, codec)},
                   check=output_fields(encoded=encoded, **known), spec_ref=ref,
                   description=f"{what}: encode (hand-assembled bytes)")
    else:
        check = decodes_to(codec, value)
        if known:
            fields = output_fields(**known)

            def both(output: dict, a=check, b=fields) -> None:
                a(output)
                b(output)
            check = both
        yield Case(f"{name}_encode", inputs={"value": value_to_jsonable(value, codec)}, check=check,
                   spec_ref=ref, description=f"{what}: encode; the bytes decode back to the value")
    yield Case(f"{name}_decode", inputs={"encoded": blob}, check=output_fields(value=value_to_jsonable(value, codec),
                                                                                 **known),
               spec_ref=ref, description=f"{what}: decode to the value built by the test")


def field_offsets(codec: Any, blob: bytes) -> list[tuple[str, Any, int, int]]:
    """(name, codec, start, end) of each top-level field of a struct's valid encoding."""
    found = []
    offset = 0
    for field_name, field_codec in scale.struct_fields(codec):
        _, end = scale.decode_value(blob, offset, field_codec, 0)
        found.append((field_name, field_codec, offset, end))
        offset = end
    return found


def invalid_cases(prefix: str, codec: Any, blob: bytes, ref: str, what: str) -> Iterator[Case]:
    """The invalid-encoding suite of one valid encoding (see the module docstring)."""
    def bad(name: str, data: bytes, reason: str, description: str) -> Case:
        return Case(f"{prefix}_{name}", inputs={"encoded": data}, error="InvalidEncoding", reason=reason,
                    spec_ref=ref, description=f"{what}: {description}")

    yield bad("empty", b"", "short_input", "no bytes")
    yield bad("truncated", blob[:-1], "short_input", "the encoding without its last byte")
    yield bad("trailing", blob + b"\x00", "trailing_bytes", "one byte appended")
    fields = field_offsets(codec, blob)
    name, first, start, end = fields[0]
    if isinstance(first, scale.CompactCodec) and blob[start] & 3 == 0:
        wide = (((blob[start] >> 2) << 2) | 1).to_bytes(2, "little")
        yield bad("non_canonical_first", blob[:start] + wide + blob[end:], "non_canonical_compact",
                  f"the first field `{name}` ({blob[start] >> 2}) in the two-byte compact mode")
    for name, field_codec, start, _end in fields:
        if isinstance(field_codec, scale.Slice | scale.ByteSlice) and field_codec.max_length < 2**30 - 1:
            _, after_count = scale.decode_compact(blob, start, 32)
            count = scale.encode_compact(field_codec.max_length + 1, 32)
            yield bad("count_over_max", blob[:start] + count + blob[after_count:], "length_over_max",
                      f"the count of `{name}` set to its max + 1 ({field_codec.max_length + 1})")
            break
