"""Slices and arrays of elements that encode to nothing are refused (spec/scale.md,
`encodes_to_nothing`), so decoding work is bounded by the input."""

from __future__ import annotations

import time

import attrs
import pytest
from smspec.spec import scale
from smspec.spec.errors import InvalidEncoding


@attrs.frozen
class Empty:
    pass


@attrs.frozen
class Hollow:
    nothing: bytes = scale.scale_field(scale.Bytes(0))
    none_either: list = scale.scale_field(scale.Array(scale.Bytes(1), 0))


@pytest.mark.parametrize("element", [scale.Bytes(0), scale.Array(scale.Bytes(1), 0), Empty, Hollow])
def test_zero_size_elements_are_refused(element):
    assert scale.encodes_to_nothing(element)
    with pytest.raises(TypeError, match="encodes to no bytes"):
        scale.Slice(element, 2**30 - 1)
    with pytest.raises(TypeError, match="encodes to no bytes"):
        scale.Array(element, 100_000_000)


@pytest.mark.parametrize("element", [scale.Bytes(1), scale.Array(scale.Bytes(1), 1), scale.Compact16])
def test_sized_elements_are_accepted(element):
    assert not scale.encodes_to_nothing(element)
    scale.Slice(element, 5)
    if scale.is_object_codec(element):
        scale.Array(element, 5)


@pytest.mark.parametrize(("codec", "data"), [
    (scale.Slice(scale.Bytes(1), 2**30 - 1), bytes.fromhex("feffffff")),  # a count of 2^30 - 1, no elements
    (scale.Slice(scale.Array(scale.Bytes(2), 1), 2**30 - 1), bytes.fromhex("feffffff") + b"\x01" * 3),
    (scale.Array(scale.Bytes(1), 100_000_000), b""),
    (scale.Array(scale.Array(scale.Bytes(1), 10_000), 10_000), b"\x00" * 5),
])
def test_announced_counts_fail_fast_on_short_input(codec, data):
    started = time.monotonic()
    with pytest.raises(InvalidEncoding) as error:
        scale.decode(data, codec)
    assert error.value.reason == "short_input"
    assert time.monotonic() - started < 1.0
