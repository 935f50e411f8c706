"""JSON forms of spec values, for the CLI and the conformance vectors.

``to_jsonable(obj)`` turns a spec value (an attrs struct class instance, a list of them, bytes,
ints, ...) into plain JSON data; ``from_jsonable(cls, data)`` builds the value back. Conventions:

* ``bytes`` are ``"0x"``-prefixed lowercase hex strings;
* attrs classes are JSON objects keyed by field name, in declaration order;
* an absent option is ``null``; slices and arrays are JSON arrays;
* integers stay integers (``smspec.conformance.cases.to_json`` turns those above 2^53 into
  decimal strings when writing vectors); reading accepts either form.

SCALE struct classes (attrs classes whose fields are declared with
``smspec.spec.scale.scale_field``) are converted field by field following each field's codec, so
they need no type annotations. Other attrs classes go through cattrs' usual annotation-driven
conversion with the same hooks for ``bytes`` and ``int``.

Errors in ``data`` raise ``ValueError`` (or ``TypeError``) with a message naming the path of the
bad item, e.g. ``body.proposals[3]: expected a 0x-prefixed hex string``.
"""

from __future__ import annotations

from typing import Any

import cattrs
from smspec.spec import scale

__all__ = ["converter", "from_jsonable", "to_jsonable", "value_from_jsonable", "value_to_jsonable"]


def _hex(data: bytes) -> str:
    return "0x" + bytes(data).hex()


def _parse_hex(data: Any, where: str) -> bytes:
    if not isinstance(data, str) or not data.startswith("0x"):
        raise ValueError(f"{where}: expected a 0x-prefixed hex string, got {data!r}")
    try:
        return bytes.fromhex(data[2:])
    except ValueError:
        raise ValueError(f"{where}: {data!r} is not valid hex") from None


def _parse_int(data: Any, where: str) -> int:
    if isinstance(data, bool):
        raise TypeError(f"{where}: expected an integer, got a boolean")
    if isinstance(data, int):
        return data
    if isinstance(data, str) and data.lstrip("-").isdigit():
        return int(data)
    raise ValueError(f"{where}: expected an integer or a decimal string, got {data!r}")


def value_to_jsonable(value: Any, codec: Any) -> Any:
    """The JSON form of ``value``, a value of the SCALE type ``codec``."""
    if isinstance(codec, (scale.Bytes, scale.ByteSlice)):
        return _hex(value)
    if isinstance(codec, (scale.Slice, scale.Array)):
        return [value_to_jsonable(item, codec.element) for item in value]
    if isinstance(codec, scale.Option):
        return None if value is None else value_to_jsonable(value, codec.element)
    if scale.is_struct_class(codec):
        return {name: value_to_jsonable(getattr(value, name), field_codec)
                for name, field_codec in scale.struct_fields(codec)}
    return value  # integers, booleans, strings


def value_from_jsonable(data: Any, codec: Any, where: str = "value") -> Any:
    """The value of SCALE type ``codec`` whose JSON form is ``data``.

    JSON of the wrong kind for the codec (a boolean for an integer, a number for bytes, an object
    for a list) is passed on unchanged: ``scale.encode`` refuses it with ``InvalidValue``
    (``wrong_type``), the answer the vectors expect. Malformed JSON of the right kind (hex that is
    not hex, a struct object with unknown or missing fields) raises ``ValueError`` here; ranges and
    lengths are checked by ``scale.encode`` (``InvalidValue``).
    """
    if isinstance(codec, (scale.CompactCodec, scale.UintCodec)):
        if isinstance(data, bool) or not isinstance(data, int | str):
            return data
        return _parse_int(data, where)
    if isinstance(codec, scale.BoolCodec):
        return data
    if isinstance(codec, (scale.Bytes, scale.ByteSlice)):
        return _parse_hex(data, where) if isinstance(data, str) else data
    if isinstance(codec, scale.String):
        return data
    if isinstance(codec, (scale.Slice, scale.Array)):
        if not isinstance(data, list):
            return data
        return [value_from_jsonable(item, codec.element, f"{where}[{i}]") for i, item in enumerate(data)]
    if isinstance(codec, scale.Option):
        return None if data is None else value_from_jsonable(data, codec.element, where)
    if scale.is_struct_class(codec):
        if not isinstance(data, dict):
            return data
        fields = scale.struct_fields(codec)
        names = [name for name, _ in fields]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)} for {codec.__name__}")
        missing = [name for name in names if name not in data]
        if missing:
            raise ValueError(f"{where}: missing field(s) {', '.join(missing)} for {codec.__name__}")
        return codec(**{name: value_from_jsonable(data[name], field_codec, f"{where}.{name}")
                        for name, field_codec in fields})
    raise TypeError(f"{codec!r} is not a SCALE codec")


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter()
    conv.register_unstructure_hook(bytes, _hex)
    conv.register_structure_hook(bytes, lambda data, _: _parse_hex(data, "value"))
    conv.register_structure_hook(int, lambda data, _: _parse_int(data, "value"))
    conv.register_unstructure_hook_factory(
        scale.is_struct_class, lambda cls: (lambda obj: value_to_jsonable(obj, cls))
    )
    conv.register_structure_hook_factory(
        scale.is_struct_class, lambda cls: (lambda data, _: value_from_jsonable(data, cls, cls.__name__))
    )
    return conv


converter = _make_converter()


def to_jsonable(obj: Any) -> Any:
    """Plain JSON data (dicts, lists, str, int, bool, None) for a spec value."""
    return converter.unstructure(obj)


def from_jsonable(cls: Any, data: Any) -> Any:
    """The value of type ``cls`` (an attrs class, ``list[Cls]``, ``bytes`` ...) that ``data`` describes."""
    return converter.structure(data, cls)
