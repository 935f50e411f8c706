"""Fast SCALE codec: the same results and errors as spec/scale.md, several times faster.

Each codec (a descriptor such as ``Slice(Bytes(20), 2350)`` or a struct class) is compiled once
into a pair of closures, an encoder writing into one ``bytearray`` and a decoder walking a
``bytes`` object by offset, and the pair is cached per codec. Struct classes get their field plans
resolved up front and are rebuilt through their ``__init__`` with positional arguments. Compact
integers use precomputed one-byte encodings and ``struct`` packing.

Semantics, including the order in which checks are made (which decides the error ``reason``),
mirror the spec exactly; ``tests/differential/test_scale.py`` checks this with Hypothesis and
CrossHair. The codec classes themselves are the spec's: only the functions are replaced.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import attrs
from smspec.impl.registry import replaces
from smspec.spec import scale as _spec
from smspec.spec.errors import InvalidEncoding, InvalidValue

MAX_UINT6 = 2**6 - 1
MAX_UINT14 = 2**14 - 1
MAX_UINT30 = 2**30 - 1
MAX_NESTED = 6  # spec MAX_NESTED (checked equal by the differential tests)
# The spec module is only read when a codec is first compiled: this module can be imported by
# the backend hook while the spec document itself is still loading.

_ONE_BYTE = [bytes([v << 2]) for v in range(64)]
_pack_u16 = struct.Struct("<H").pack
_pack_u32 = struct.Struct("<I").pack
_unpack_u16 = struct.Struct("<H").unpack_from
_unpack_u32 = struct.Struct("<I").unpack_from
_TWO_BYTE_FROM = 2**14  # first value of the four-byte mode
_BIG_FROM = 2**30

Encoder = Callable[[Any, int, bytearray], None]
Decoder = Callable[[bytes, int, int], tuple[Any, int]]


def _short(offset: int, count: int, have: int) -> InvalidEncoding:
    return InvalidEncoding("short_input", f"need {count} bytes at offset {offset}, have {have - offset}")


# ---------------------------------------------------------------------------------------------
# Compact integers


def _check_int(value: Any, bits: int, kind: str) -> None:
    """The slow path of the integer checks (anything but an in-range plain int)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue("wrong_type", f"{kind}{bits} needs an int, got {type(value).__name__}")
    if value < 0 or value >= 2**bits:
        raise InvalidValue("out_of_range", f"{value} does not fit in uint{bits}")


def _write_compact(value: int, out: bytearray) -> None:
    """Append the compact encoding of an already range-checked value."""
    if value < 64:
        out += _ONE_BYTE[value]
    elif value < _TWO_BYTE_FROM:
        out += _pack_u16((value << 2) | 1)
    elif value < _BIG_FROM:
        out += _pack_u32((value << 2) | 2)
    else:
        byte_count = (value.bit_length() + 7) >> 3
        out.append(((byte_count - 4) << 2) | 3)
        out += value.to_bytes(byte_count, "little")


@replaces("scale")
def encode_compact(value: int, bits: int) -> bytes:
    """The compact encoding of `value` as an unsigned integer of `bits` bits."""
    if type(value) is not int or value < 0 or value >> bits:
        _check_int(value, bits, "compact")
    if value < 64:
        return _ONE_BYTE[value]
    out = bytearray()
    _write_compact(value, out)
    return bytes(out)


def _read_compact(data: bytes, offset: int, bits: int, size: int) -> tuple[int, int]:
    """Decode a compact uint`bits` at `offset` of `data` (whose length is `size`)."""
    if offset >= size:
        raise _short(offset, 1, size)
    first = data[offset]
    mode = first & 3
    if mode == 0:
        return first >> 2, offset + 1
    if mode == 1:
        if offset + 2 > size:
            raise _short(offset + 1, 1, size)
        value = (first + (data[offset + 1] << 8)) >> 2
        if value <= MAX_UINT6:
            raise InvalidEncoding("non_canonical_compact", f"value {value} in the two-byte mode")
        if value >> bits:
            raise InvalidEncoding("compact_overflow", f"value {value} overflows uint{bits}")
        return value, offset + 2
    if mode == 2:
        if bits == 8:
            raise InvalidEncoding("compact_overflow", "the four-byte mode overflows uint8")
        if offset + 4 > size:
            raise _short(offset + 1, 3, size)
        value = (first + (data[offset + 1] << 8) + (data[offset + 2] << 16) + (data[offset + 3] << 24)) >> 2
        if value <= MAX_UINT14:
            raise InvalidEncoding("non_canonical_compact", f"value {value} in the four-byte mode")
        if value >> bits:
            raise InvalidEncoding("compact_overflow", f"value {value} overflows uint{bits}")
        return value, offset + 4
    if bits <= 16:
        raise InvalidEncoding("compact_overflow", f"the big-integer mode overflows uint{bits}")
    byte_count = (first >> 2) + 4
    if byte_count > bits >> 3:
        raise InvalidEncoding("compact_overflow", f"compact{bits} cannot take {byte_count} bytes")
    start = offset + 1
    end = start + byte_count
    if end > size:
        raise _short(start, byte_count, size)
    value = int.from_bytes(data[start:end], "little")
    if value <= MAX_UINT30:
        raise InvalidEncoding("non_canonical_compact", f"value {value} in the big-integer mode")
    return value, end


@replaces("scale")
def decode_compact(data: bytes, offset: int, bits: int) -> tuple[int, int]:
    """Decode a compact uint`bits` at `offset`; return (value, offset after it)."""
    return _read_compact(data, offset, bits, len(data))


# ---------------------------------------------------------------------------------------------
# Plans: one (encoder, decoder) pair per codec


_PLANS: dict[Any, tuple[Encoder, Decoder]] = {}


def _plan(codec: Any) -> tuple[Encoder, Decoder]:
    try:
        return _PLANS[codec]
    except KeyError:
        pass
    except TypeError:  # an unhashable "codec": not one
        return _invalid_plan(codec)
    plan = _compile(codec)
    _PLANS[codec] = plan
    return plan


def _invalid_plan(codec: Any) -> tuple[Encoder, Decoder]:
    def fail(*_: Any) -> Any:
        raise TypeError(f"{codec!r} is not a SCALE codec")

    return fail, fail


def _nested(depth: int, error: type) -> int:
    if depth >= MAX_NESTED:
        raise error("nested_too_deep", f"more than {MAX_NESTED} nested levels")
    return depth + 1


def _compile(codec: Any) -> tuple[Encoder, Decoder]:
    if isinstance(codec, _spec.CompactCodec):
        return _compact_plan(codec.bits)
    if isinstance(codec, _spec.UintCodec):
        return _uint_plan(codec.bits)
    if isinstance(codec, _spec.BoolCodec):
        return _bool_plan()
    if isinstance(codec, _spec.Bytes):
        return _bytes_plan(codec.size)
    if isinstance(codec, _spec.ByteSlice):
        return _byte_slice_plan(codec.max_length)
    if isinstance(codec, _spec.String):
        return _string_plan(codec.max_length)
    if isinstance(codec, _spec.Slice):
        return _slice_plan(codec)
    if isinstance(codec, _spec.Array):
        return _array_plan(codec)
    if isinstance(codec, _spec.Option):
        return _option_plan(codec)
    if _spec.is_struct_class(codec):
        return _struct_plan(codec)
    return _invalid_plan(codec)


def _compact_plan(bits: int) -> tuple[Encoder, Decoder]:
    def enc(value: Any, depth: int, out: bytearray) -> None:
        if type(value) is not int or value < 0 or value >> bits:
            _check_int(value, bits, "compact")
        if value < 64:
            out.append(value << 2)
        else:
            _write_compact(value, out)

    def dec(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
        return _read_compact(data, offset, bits, len(data))

    return enc, dec


def _uint_plan(bits: int) -> tuple[Encoder, Decoder]:
    size = bits // 8

    def enc(value: Any, depth: int, out: bytearray) -> None:
        if type(value) is not int or value < 0 or value >> bits:
            _check_int(value, bits, "uint")
        out += value.to_bytes(size, "little")

    def dec(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
        end = offset + size
        if end > len(data):
            raise _short(offset, size, len(data))
        return int.from_bytes(data[offset:end], "little"), end

    return enc, dec


def _bool_plan() -> tuple[Encoder, Decoder]:
    def enc(value: Any, depth: int, out: bytearray) -> None:
        if value is True:
            out.append(1)
        elif value is False:
            out.append(0)
        else:
            raise InvalidValue("wrong_type", f"bool needs a bool, got {type(value).__name__}")

    def dec(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
        if offset >= len(data):
            raise _short(offset, 1, len(data))
        return data[offset] == 1, offset + 1

    return enc, dec


def _bytes_plan(size: int) -> tuple[Encoder, Decoder]:
    def enc(value: Any, depth: int, out: bytearray) -> None:
        if not isinstance(value, (bytes, bytearray)):
            raise InvalidValue("wrong_type", f"[{size}]byte needs bytes, got {type(value).__name__}")
        if len(value) != size:
            raise InvalidValue("wrong_length", f"[{size}]byte given {len(value)} bytes")
        out += value

    def dec(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
        end = offset + size
        if end > len(data):
            raise _short(offset, size, len(data))
        return data[offset:end], end

    return enc, dec


def _write_length(length: int, max_length: int, out: bytearray) -> None:
    if length > max_length:
        raise InvalidValue("length_over_max", f"length {length} > max {max_length}")
    if length < 64:
        out.append(length << 2)
    else:
        _write_compact(length, out)


def _read_length(data: bytes, offset: int, max_length: int) -> tuple[int, int]:
    if offset < len(data) and not data[offset] & 3:
        length, offset = data[offset] >> 2, offset + 1
    else:
        length, offset = _read_compact(data, offset, 32, len(data))
    if length > max_length:
        raise InvalidEncoding("length_over_max", f"length {length} > max {max_length}")
    return length, offset


def _byte_slice_plan(max_length: int) -> tuple[Encoder, Decoder]:
    def enc(value: Any, depth: int, out: bytearray) -> None:
        if not isinstance(value, (bytes, bytearray)):
            raise InvalidValue("wrong_type", f"[]byte needs bytes, got {type(value).__name__}")
        _write_length(len(value), max_length, out)
        out += value

    def dec(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
        length, offset = _read_length(data, offset, max_length)
        end = offset + length
        if end > len(data):
            raise _short(offset, length, len(data))
        return data[offset:end], end

    return enc, dec


def _string_plan(max_length: int) -> tuple[Encoder, Decoder]:
    def enc(value: Any, depth: int, out: bytearray) -> None:
        if not isinstance(value, str):
            raise InvalidValue("wrong_type", f"string needs a str, got {type(value).__name__}")
        try:
            text = value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidValue("invalid_utf8", "the string is not encodable as UTF-8") from None
        _write_length(len(text), max_length, out)
        out += text

    def dec(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
        length, offset = _read_length(data, offset, max_length)
        end = offset + length
        if end > len(data):
            raise _short(offset, length, len(data))
        try:
            return data[offset:end].decode("utf-8"), end
        except UnicodeDecodeError:
            raise InvalidEncoding("invalid_utf8", "string field is not UTF-8") from None

    return enc, dec


def _slice_plan(codec: Any) -> tuple[Encoder, Decoder]:
    element_enc, element_dec = _plan(codec.element)
    counted = _spec.is_object_codec(codec.element)
    max_length = codec.max_length
    fixed = codec.element.size if isinstance(codec.element, _spec.Bytes) else None

    bits = codec.element.bits if isinstance(codec.element, _spec.CompactCodec) else 0

    def enc(value: Any, depth: int, out: bytearray) -> None:
        if counted:
            depth = _nested(depth, InvalidValue)
        if not isinstance(value, (list, tuple)):
            raise InvalidValue("wrong_type", f"a slice needs a list, got {type(value).__name__}")
        _write_length(len(value), max_length, out)
        if fixed is not None:
            for element in value:
                if type(element) is bytes and len(element) == fixed:
                    out += element
                else:
                    element_enc(element, depth, out)
        elif bits:
            append = out.append
            for element in value:
                if type(element) is not int or element < 0 or element >> bits:
                    _check_int(element, bits, "compact")
                if element < 64:
                    append(element << 2)
                elif element < _TWO_BYTE_FROM:
                    out += _pack_u16((element << 2) | 1)
                elif element < _BIG_FROM:
                    out += _pack_u32((element << 2) | 2)
                else:
                    byte_count = (element.bit_length() + 7) >> 3
                    append(((byte_count - 4) << 2) | 3)
                    out += element.to_bytes(byte_count, "little")
        else:
            for element in value:
                element_enc(element, depth, out)

    def dec_compacts(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
        length, offset = _read_length(data, offset, max_length)
        size = len(data)
        elements = []
        append = elements.append
        for _ in range(length):
            if offset + 4 <= size:
                first = data[offset]
                mode = first & 3
                if mode == 0:
                    append(first >> 2)
                    offset += 1
                    continue
                if mode == 2 and bits > 16:  # uint16 values need the full checks
                    value = (first + (data[offset + 1] << 8) + (data[offset + 2] << 16)
                             + (data[offset + 3] << 24)) >> 2
                    if value > MAX_UINT14:
                        append(value)
                        offset += 4
                        continue
            element, offset = _read_compact(data, offset, bits, size)
            append(element)
        return elements, offset

    def dec_fixed(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
        """Slices of fixed-size byte arrays (IDs, hashes) are cut straight out of the input."""
        assert fixed is not None
        depth = _nested(depth, InvalidEncoding)
        length, offset = _read_length(data, offset, max_length)
        end = offset + length * fixed  # fixed >= 1: the spec refuses slices of Bytes(0)
        if end > len(data):
            raise _short(offset, length * fixed, len(data))
        return [data[i:i + fixed] for i in range(offset, end, fixed)], end

    def dec(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
        if counted:
            depth = _nested(depth, InvalidEncoding)
        length, offset = _read_length(data, offset, max_length)
        elements = []
        append = elements.append
        for _ in range(length):
            element, offset = element_dec(data, offset, depth)
            append(element)
        return elements, offset

    if fixed is not None:
        return enc, dec_fixed
    return enc, (dec_compacts if bits else dec)


def _array_plan(codec: Any) -> tuple[Encoder, Decoder]:
    element_enc, element_dec = _plan(codec.element)
    length = codec.length

    def enc(value: Any, depth: int, out: bytearray) -> None:
        depth = _nested(depth, InvalidValue)
        if not isinstance(value, (list, tuple)):
            raise InvalidValue("wrong_type", f"an array needs a list, got {type(value).__name__}")
        if len(value) != length:
            raise InvalidValue("wrong_length", f"array of {length} given {len(value)} elements")
        for element in value:
            element_enc(element, depth, out)

    def dec(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
        depth = _nested(depth, InvalidEncoding)
        elements = []
        for _ in range(length):
            element, offset = element_dec(data, offset, depth)
            elements.append(element)
        return elements, offset

    return enc, dec


def _option_plan(codec: Any) -> tuple[Encoder, Decoder]:
    element_enc, element_dec = _plan(codec.element)
    counted = _spec.is_object_codec(codec.element)

    def enc(value: Any, depth: int, out: bytearray) -> None:
        if counted:
            depth = _nested(depth, InvalidValue)
        if value is None:
            out.append(0)
        else:
            out.append(1)
            element_enc(value, depth, out)

    def dec(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
        if counted:
            depth = _nested(depth, InvalidEncoding)
        if offset >= len(data):
            raise _short(offset, 1, len(data))
        if data[offset] != 1:
            return None, offset + 1
        return element_dec(data, offset + 1, depth)

    return enc, dec


def _encode_compact_slow(value: Any, bits: int, out: bytearray) -> None:
    if type(value) is not int or value < 0 or value >> bits:
        _check_int(value, bits, "compact")
    _write_compact(value, out)


def _struct_plan(struct_class: type) -> tuple[Encoder, Decoder]:
    """Generate an encoder and a decoder specialised to the fields of ``struct_class``.

    Compact, fixed-bytes and bool fields are handled inline (a fast path for the common case,
    falling back to the general plan, which raises the spec's errors); other fields call their
    own plans. Fields are visited in declaration order, so errors come in the spec's order.
    """
    fields = attrs.fields(struct_class)
    positional = all(field.init and not field.kw_only for field in fields)
    name = struct_class.__name__
    namespace: dict[str, Any] = {
        "cls": struct_class, "InvalidValue": InvalidValue, "short": _short, "read_compact": _read_compact,
        "encode_compact_slow": _encode_compact_slow, "type_name": name,
        "pack_u16": _pack_u16, "pack_u32": _pack_u32,
    }
    enc_lines = [
        "def enc(value, depth, out):",
        "    if not isinstance(value, cls):",
        "        raise InvalidValue('wrong_type', f'{type_name} needs a {type_name}, got {type(value).__name__}')",
    ]
    dec_lines = ["def dec(data, offset, depth):", "    size = len(data)"]
    for index, field in enumerate(fields):
        codec = field.metadata["scale"]
        field_enc, field_dec = _plan(codec)
        namespace[f"enc{index}"] = field_enc
        namespace[f"dec{index}"] = field_dec
        enc_lines.append(f"    v = value.{field.name}")
        if isinstance(codec, _spec.CompactCodec):
            bits = codec.bits
            two_byte_end = min(2**14, 2**bits)
            four_byte_end = min(2**30, 2**bits)
            enc_lines += [
                "    if type(v) is not int:",
                f"        encode_compact_slow(v, {bits}, out)",
                "    elif 0 <= v < 64:",
                "        out.append(v << 2)",
                f"    elif 64 <= v < {two_byte_end}:",
                "        out += pack_u16((v << 2) | 1)",
                f"    elif {2**14} <= v < {four_byte_end}:",
                "        out += pack_u32((v << 2) | 2)",
                "    else:",
                f"        encode_compact_slow(v, {bits}, out)",
            ]
            # Inline the one-, two- and four-byte forms when they are complete and canonical;
            # everything else (short input, errors, big integers) goes through read_compact.
            dec_lines += [
                "    if offset < size:",
                "        b = data[offset]",
                "        m = b & 3",
                "    else:",
                "        m = 4",
                "    if m == 0:",
                f"        f{index} = b >> 2",
                "        offset += 1",
                f"    elif m == 1 and offset + 2 <= size and 64 <= (v := (b + (data[offset + 1] << 8)) >> 2) < {two_byte_end}:",
                f"        f{index} = v",
                "        offset += 2",
            ]
            if bits > 16:
                dec_lines += [
                    "    elif m == 2 and offset + 4 <= size and (v := (b + (data[offset + 1] << 8) + (data[offset + 2] << 16)"
                    " + (data[offset + 3] << 24)) >> 2) > 16383:",
                    f"        f{index} = v",
                    "        offset += 4",
                ]
            dec_lines += [
                "    else:",
                f"        f{index}, offset = read_compact(data, offset, {bits}, size)",
            ]
        elif isinstance(codec, _spec.Bytes):
            length = codec.size
            enc_lines += [
                f"    if type(v) is bytes and len(v) == {length}:",
                "        out += v",
                "    else:",
                f"        enc{index}(v, depth, out)",
            ]
            dec_lines += [
                f"    end = offset + {length}",
                "    if end > size:",
                f"        raise short(offset, {length}, size)",
                f"    f{index} = data[offset:end]",
                "    offset = end",
            ]
        elif isinstance(codec, _spec.BoolCodec):
            enc_lines += [
                "    if v is True:",
                "        out.append(1)",
                "    elif v is False:",
                "        out.append(0)",
                "    else:",
                f"        enc{index}(v, depth, out)",
            ]
            dec_lines += [
                "    if offset >= size:",
                "        raise short(offset, 1, size)",
                f"    f{index} = data[offset] == 1",
                "    offset += 1",
            ]
        else:
            enc_lines.append(f"    enc{index}(v, depth, out)")
            dec_lines.append(f"    f{index}, offset = dec{index}(data, offset, depth)")
    if positional:
        arguments = ", ".join(f"f{i}" for i in range(len(fields)))
    else:
        arguments = ", ".join(f"{field.name}=f{i}" for i, field in enumerate(fields))
    dec_lines.append(f"    return cls({arguments}), offset")
    source = "\n".join(enc_lines) + "\n\n" + "\n".join(dec_lines) + "\n"
    exec(compile(source, f"<scale plan for {name}>", "exec"), namespace)  # noqa: S102 - generated from field codecs
    return namespace["enc"], namespace["dec"]


# ---------------------------------------------------------------------------------------------
# Entry points


@replaces("scale")
def encode(value: Any, codec: Any) -> bytes:
    """The SCALE encoding of `value` as the type `codec` (GS `codec.Encode`)."""
    out = bytearray()
    _plan(codec)[0](value, 0, out)
    return bytes(out)


@replaces("scale")
def decode(data: bytes, codec: Any) -> Any:
    """The value of type `codec` that `data` encodes; every byte must be used."""
    if type(data) is not bytes:
        data = bytes(data)
    value, offset = _plan(codec)[1](data, 0, 0)
    if offset != len(data):
        raise InvalidEncoding("trailing_bytes", f"{len(data) - offset} bytes left after the value")
    return value


@replaces("scale")
def decode_prefix(data: bytes, codec: Any) -> tuple[Any, int]:
    """Decode one value of type `codec` from the start of `data`; return (value, bytes used)."""
    if type(data) is not bytes:
        data = bytes(data)
    return _plan(codec)[1](data, 0, 0)
