"""Hypothesis strategies for SCALE codecs and their values (shared by the fuzz and differential tests)."""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import strategies as st
from smspec.spec import scale

COMPACTS = [scale.Compact8, scale.Compact16, scale.Compact32, scale.Compact64]
UINTS = [scale.Uint16, scale.Uint32, scale.Uint64]

_struct_counter = [0]


def _make_struct(codecs: list[Any]) -> type:
    _struct_counter[0] += 1
    fields = {f"f{i}": scale.scale_field(codec) for i, codec in enumerate(codecs)}
    return attrs.make_class(f"Fuzz{_struct_counter[0]}", fields, frozen=True)


def _leaf_codecs() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(COMPACTS + UINTS + [scale.Bool]),
        st.integers(0, 40).map(scale.Bytes),
        st.integers(0, 70).map(scale.ByteSlice),
        st.integers(0, 12).map(scale.String),
    )


def _extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    objects = children.filter(scale.is_object_codec)
    elements = objects.filter(lambda codec: not scale.encodes_to_nothing(codec))  # spec/scale.md refuses the others
    slice_elements = st.one_of(st.sampled_from(COMPACTS[1:]), elements)
    option_elements = st.one_of(st.sampled_from(COMPACTS), objects)
    return st.one_of(
        st.builds(scale.Slice, slice_elements, st.integers(0, 5) | st.just(70)),
        st.builds(scale.Array, elements, st.integers(0, 3)),
        st.builds(scale.Option, option_elements),
        st.lists(children, max_size=4).map(_make_struct),
    )


_CODECS = st.recursive(_leaf_codecs(), _extend, max_leaves=8)
_VALUES: dict[Any, st.SearchStrategy[Any]] = {}


def codecs() -> st.SearchStrategy[Any]:
    """Any codec the spec supports, including struct classes nested up to a few levels."""
    return _CODECS


def values(codec: Any) -> st.SearchStrategy[Any]:
    """Valid values of ``codec`` (boundaries of each compact mode are favoured)."""
    if codec not in _VALUES:
        _VALUES[codec] = _values(codec)
    return _VALUES[codec]


def _values(codec: Any) -> st.SearchStrategy[Any]:
    if isinstance(codec, (scale.CompactCodec, scale.UintCodec)):
        top = 2**codec.bits - 1
        edges = [v for v in (0, 63, 64, 16383, 16384, 2**30 - 1, 2**30, 2**32 - 1, 2**32, top) if v <= top]
        return st.sampled_from(edges) | st.integers(0, top)
    if isinstance(codec, scale.BoolCodec):
        return st.booleans()
    if isinstance(codec, scale.Bytes):
        return st.binary(min_size=codec.size, max_size=codec.size)
    if isinstance(codec, scale.ByteSlice):
        return st.binary(max_size=codec.max_length)
    if isinstance(codec, scale.String):
        return st.text(max_size=codec.max_length).filter(
            lambda s: len(s.encode("utf-8", "surrogatepass")) <= codec.max_length and s.isprintable()
        )
    if isinstance(codec, scale.Slice):
        return st.lists(values(codec.element), max_size=min(codec.max_length, 4))
    if isinstance(codec, scale.Array):
        return st.lists(values(codec.element), min_size=codec.length, max_size=codec.length)
    if isinstance(codec, scale.Option):
        return st.none() | values(codec.element)
    if scale.is_struct_class(codec):
        return st.fixed_dictionaries({name: values(c) for name, c in scale.struct_fields(codec)}).map(
            lambda kwargs: codec(**kwargs)
        )
    raise TypeError(codec)


def maybe_invalid_values(codec: Any) -> st.SearchStrategy[Any]:
    """Values of ``codec`` that are sometimes out of range, too long or of the wrong type."""
    junk = st.sampled_from([None, -1, 2**64, b"\x00", "x", 1.5, [], True])
    if isinstance(codec, (scale.CompactCodec, scale.UintCodec)):
        return values(codec) | st.integers(-(2**65), 2**65) | junk
    if isinstance(codec, (scale.Bytes, scale.ByteSlice)):
        return values(codec) | st.binary(max_size=80) | junk
    if isinstance(codec, scale.String):
        return values(codec) | st.text(max_size=20) | junk
    if isinstance(codec, (scale.Slice, scale.Array)):
        return st.lists(maybe_invalid_values(codec.element), max_size=6) | junk
    if isinstance(codec, scale.Option):
        return st.none() | maybe_invalid_values(codec.element)
    if scale.is_struct_class(codec):
        return st.fixed_dictionaries({name: maybe_invalid_values(c) for name, c in scale.struct_fields(codec)}).map(
            lambda kwargs: codec(**kwargs)
        ) | junk
    return values(codec) | junk


@st.composite
def codec_and_bytes(draw: st.DrawFn) -> tuple[Any, bytes]:
    """A codec and input bytes: random, or a valid encoding truncated, extended or with a byte changed."""
    codec = draw(codecs())
    if draw(st.booleans()):
        return codec, draw(st.binary(max_size=64))
    data = bytearray(scale.encode(draw(values(codec)), codec))
    action = draw(st.sampled_from(["keep", "truncate", "append", "flip"]))
    if action == "truncate" and data:
        del data[draw(st.integers(0, len(data) - 1)):]
    elif action == "append":
        data += draw(st.binary(min_size=1, max_size=4))
    elif action == "flip" and data:
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return codec, bytes(data)
