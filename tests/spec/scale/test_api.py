"""The Python API of spec/scale.md: struct classes, codec construction, value types, decode_prefix.

These rules are about Python values (wrong types, codec descriptors), so they are plain tests,
not vectors.
"""

from __future__ import annotations

import attrs
import pytest
from smspec.spec import scale
from smspec.spec.errors import InvalidEncoding, InvalidValue
from smspec.spec.scale import (
    Array,
    Bool,
    Bytes,
    ByteSlice,
    Compact8,
    Compact16,
    Compact32,
    Compact64,
    Option,
    Slice,
    String,
    Uint32,
    decode,
    decode_prefix,
    encode,
    scale_field,
)


@attrs.frozen
class Inner:
    a: int = scale_field(Compact16)
    b: bytes = scale_field(Bytes(2))


@attrs.frozen
class Outer:
    head: int = scale_field(Compact32)
    inner: Inner = scale_field(Inner)
    items: list[Inner] = scale_field(Slice(Inner, 3))
    maybe: Inner | None = scale_field(Option(Inner), default=None)


def test_struct_round_trip_and_layout():
    value = Outer(head=64, inner=Inner(1, b"ab"), items=[Inner(2, b"cd")], maybe=Inner(3, b"ef"))
    data = encode(value, Outer)
    assert data.hex() == "0101" + "04" + "6162" + "04" + "08" + "6364" + "01" + "0c" + "6566"
    assert decode(data, Outer) == value
    assert decode(bytearray(data), Outer) == value
    assert decode(memoryview(data), Outer) == value


def test_scale_field_passes_attrs_arguments():
    field = attrs.fields(Outer).maybe
    assert field.default is None
    assert field.metadata["scale"] == Option(Inner)
    assert Outer(0, Inner(0, b"\x00\x00"), []).maybe is None


def test_decode_prefix_reports_consumed_bytes():
    assert decode_prefix(bytes.fromhex("0101ffff"), Compact16) == (64, 2)
    with pytest.raises(InvalidEncoding) as info:
        decode(bytes.fromhex("0101ffff"), Compact16)
    assert info.value.reason == "trailing_bytes"


@pytest.mark.parametrize(
    ("value", "codec", "reason"),
    [
        (True, Compact8, "wrong_type"),
        ("1", Compact64, "wrong_type"),
        (1.0, Compact32, "wrong_type"),
        (1, Bool, "wrong_type"),
        ("ab", Bytes(2), "wrong_type"),
        ([1, 2], ByteSlice(4), "wrong_type"),
        (b"abc", String(4), "wrong_type"),
        ("\ud800", String(4), "invalid_utf8"),
        ((1, 2), Array(Bytes(1), 2), "wrong_type"),
        ({1}, Slice(Compact16, 4), "wrong_type"),
        (Inner(1, b"ab"), Outer, "wrong_type"),
        (Inner(1, b"abc"), Inner, "wrong_length"),
        (-1, Uint32, "out_of_range"),
    ],
)
def test_encode_rejects_bad_values(value, codec, reason):
    with pytest.raises(InvalidValue) as info:
        encode(value, codec)
    assert info.value.reason == reason


def test_tuples_encode_like_lists_and_decode_as_lists():
    codec = Slice(Compact16, 3)
    assert encode((1, 2), codec) == encode([1, 2], codec) == bytes.fromhex("080408")
    assert decode(bytes.fromhex("080408"), codec) == [1, 2]


@pytest.mark.parametrize(
    "make",
    [
        lambda: Slice(Compact8, 3),  # []uint8 is a ByteSlice
        lambda: Slice(Bool, 3),
        lambda: Slice(ByteSlice(3), 3),  # [][]byte is refused by scalegen
        lambda: Slice(String(3), 3),  # []string is refused by scalegen
        lambda: Array(Compact32, 3),
        lambda: Option(Option(Compact8)),
        lambda: Option(Bool),
    ],
)
def test_unsupported_codecs_are_refused(make):
    with pytest.raises(TypeError):
        make()


def test_invalid_codec_parameters():
    with pytest.raises(ValueError):
        scale.CompactCodec(24)
    with pytest.raises(ValueError):
        Bytes(-1)


def test_not_a_codec():
    with pytest.raises(TypeError):
        encode(1, int)
    with pytest.raises(TypeError):
        decode(b"\x00", "compact8")


def test_uint8_field_is_compact_not_raw():
    # A byte-kinded Go field (ProofType 0x11) is a compact8: 0x11 << 2 = 0x44 (atx.md §1.1).
    assert encode(0x11, Compact8) == b"\x44"
    assert encode(2**32, Compact64) == bytes.fromhex("070000000001")
