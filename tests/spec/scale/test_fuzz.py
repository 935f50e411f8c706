"""Fuzzing the SCALE decoder and round trips (spec/scale.md).

Arbitrary bytes decode to a value or raise ``InvalidEncoding``, never anything else (no
``IndexError``, no silent truncation); valid values round-trip; a successful decode re-encodes to
bytes that decode to the same value.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smspec.spec import scale
from smspec.spec.errors import InvalidEncoding
from smspec.tests.spec.scale.strategies import codec_and_bytes, codecs, values


def check_decode(codec, data: bytes) -> None:
    try:
        value = scale.decode(data, codec)
    except InvalidEncoding as error:
        assert error.reason in {
            "short_input", "trailing_bytes", "non_canonical_compact", "compact_overflow",
            "length_over_max", "nested_too_deep", "invalid_utf8",
        }
        return
    # Decoding consumed everything, and the canonical re-encoding means the same value.
    again = scale.encode(value, codec)
    assert scale.decode(again, codec) == value
    assert scale.decode_prefix(data + b"\x00", codec) == (value, len(data))


@given(codec_and_bytes())
@settings(max_examples=1000)
def test_decode_raises_only_invalid_encoding(case):
    check_decode(*case)


@pytest.mark.slow
@given(codec_and_bytes())
@settings(max_examples=20000)
def test_decode_raises_only_invalid_encoding_long(case):
    check_decode(*case)


@given(st.data())
@settings(max_examples=500)
def test_valid_values_round_trip(data):
    codec = data.draw(codecs())
    value = data.draw(values(codec))
    encoded = scale.encode(value, codec)
    assert scale.decode(encoded, codec) == value
    assert scale.decode_prefix(encoded + b"\xff\xff", codec) == (value, len(encoded))
