"""smspec.conformance.jsonio: JSON forms of spec values (bytes as 0x-hex, options as null)."""

from __future__ import annotations

import json

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smspec.conformance.jsonio import (
    from_jsonable,
    to_jsonable,
    value_from_jsonable,
    value_to_jsonable,
)
from smspec.spec.scale import (
    Array,
    Bool,
    Bytes,
    ByteSlice,
    Compact8,
    Compact64,
    Option,
    Slice,
    String,
    encode,
    scale_field,
)
from smspec.tests.spec.scale.strategies import codecs, values


@attrs.frozen
class Leaf:
    flag: bool = scale_field(Bool)
    blob: bytes = scale_field(ByteSlice(8))


@attrs.frozen
class Tree:
    id: bytes = scale_field(Bytes(4))
    count: int = scale_field(Compact64)
    name: str = scale_field(String(10))
    leaves: list[Leaf] = scale_field(Slice(Leaf, 4))
    pair: list[Leaf] = scale_field(Array(Leaf, 2))
    extra: Leaf | None = scale_field(Option(Leaf))
    small: int | None = scale_field(Option(Compact8))


TREE = Tree(
    id=b"\x01\x02\x03\xff", count=2**64 - 1, name="tree", leaves=[Leaf(True, b"")],
    pair=[Leaf(False, b"\x00"), Leaf(True, b"\xab\xcd")], extra=None, small=7,
)
TREE_JSON = {
    "id": "0x010203ff", "count": 2**64 - 1, "name": "tree",
    "leaves": [{"flag": True, "blob": "0x"}],
    "pair": [{"flag": False, "blob": "0x00"}, {"flag": True, "blob": "0xabcd"}],
    "extra": None, "small": 7,
}


def test_struct_to_json():
    assert to_jsonable(TREE) == TREE_JSON
    assert list(to_jsonable(TREE)) == [f.name for f in attrs.fields(Tree)]  # declaration order


def test_struct_from_json():
    assert from_jsonable(Tree, TREE_JSON) == TREE
    as_text = dict(TREE_JSON, count=str(2**64 - 1))  # vectors carry big ints as decimal strings
    assert from_jsonable(Tree, as_text) == TREE
    assert from_jsonable(Tree, json.loads(json.dumps(TREE_JSON))) == TREE


def test_lists_and_plain_values():
    assert to_jsonable([TREE, TREE]) == [TREE_JSON, TREE_JSON]
    assert from_jsonable(list[Tree], [TREE_JSON]) == [TREE]
    assert to_jsonable(b"\x00\x01") == "0x0001"
    assert from_jsonable(bytes, "0x0001") == b"\x00\x01"
    assert from_jsonable(int, "123") == 123


@attrs.frozen
class Annotated:
    """A plain attrs class (not a SCALE struct): converted through its annotations."""

    key: bytes
    amount: int
    tags: list[bytes] = attrs.field(factory=list)


def test_plain_attrs_class_uses_annotations():
    value = Annotated(b"\xaa", 5, [b"\x01"])
    data = to_jsonable(value)
    assert data == {"key": "0xaa", "amount": 5, "tags": ["0x01"]}
    assert from_jsonable(Annotated, data) == value


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (dict(TREE_JSON, id="010203ff"), "Tree.id: expected a 0x-prefixed hex string"),
        (dict(TREE_JSON, id="0xzz"), "Tree.id: '0xzz' is not valid hex"),
        (dict(TREE_JSON, count="many"), "Tree.count: expected an integer"),
        (dict(TREE_JSON, bogus=1), "unknown field(s) bogus"),
        ({k: v for k, v in TREE_JSON.items() if k != "name"}, "missing field(s) name"),
    ],
)
def test_bad_json_names_the_path(data, message):
    with pytest.raises((ValueError, TypeError)) as info:
        from_jsonable(Tree, data)
    assert message in str(info.value)


def test_json_of_the_wrong_kind_is_the_encoders_wrong_type():
    """A boolean where an integer goes, a number for bytes, a list for a struct: passed on, and
    scale.encode refuses them with InvalidValue wrong_type (what the scale vectors expect)."""
    from smspec.spec import scale
    from smspec.spec.errors import InvalidValue

    for data, codec in ((True, scale.Compact32), (1, scale.Bool), (5, scale.Bytes(2)), ([1], scale.String(4)),
                        ({}, scale.Slice(scale.Compact32, 3)), ([], Tree)):
        value = value_from_jsonable(data, codec)
        with pytest.raises(InvalidValue) as info:
            scale.encode(value, codec)
        assert info.value.reason == "wrong_type"


@given(st.data())
@settings(max_examples=200)
def test_json_round_trip_any_codec(data):
    codec = data.draw(codecs())
    value = data.draw(values(codec))
    text = json.dumps(value_to_jsonable(value, codec))
    back = value_from_jsonable(json.loads(text), codec)
    assert back == value
    assert encode(back, codec) == encode(value, codec)
