"""Values of the wrong JSON kind for their SCALE type (scale/codec/*): encoding refuses them with
InvalidValue wrong_type (scale.md#encode_value), and a string that has no UTF-8 form (a lone
surrogate, which JSON can carry as an escape) with invalid_utf8. A typed client cannot even hold
these values: the cases are untyped-input.
"""

from __future__ import annotations

from smspec.conformance.cases import Case, vector_source


def wrong(name: str, kind, value, what: str, reason: str = "wrong_type") -> Case:
    return Case(f"encode_{name}", inputs={"type": kind, "value": value}, error="InvalidValue", reason=reason,
                spec_ref="scale.md#encode_value", description=what)


@vector_source("scale", "codec", "nesting")
def test_wrong_type_vectors():
    yield wrong("wrong_type_compact_bool", "compact32", True, "a boolean for a compact32")
    yield wrong("wrong_type_uint_list", "uint64", [1], "a list for a uint64")
    yield wrong("wrong_type_bool_number", "bool", 1, "the number 1 for a bool")
    yield wrong("wrong_type_bytes_number", {"bytes": 2}, 5, "a number for [2]byte")
    yield wrong("wrong_type_byte_slice_list", {"byte_slice": 4}, [1, 2], "a list for []byte")
    yield wrong("wrong_type_string_number", {"string": 4}, 5, "a number for a string")
    yield wrong("wrong_type_slice_object", {"slice": "compact32", "max": 3}, {}, "an object for a slice")
    yield wrong("wrong_type_array_text", {"array": {"bytes": 1}, "length": 1}, "x", "text for an array")
    yield wrong("wrong_type_struct_list", {"struct": [["a", "compact8"]]}, [1], "a list for a struct")
    yield wrong("lone_surrogate", {"string": 8}, "a\udc80", "a string holding a lone surrogate (no UTF-8 form)",
                reason="invalid_utf8")
