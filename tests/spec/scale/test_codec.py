"""Fixed integers, bools, byte arrays and slices, strings, options, slices, arrays, structs and
the nesting limit (spec/scale.md): vectors scale/codec/<handler>.

Known answers marked "GS golden" are copied from go-spacemesh
`genvm/templates/wallet/golden/*.json` (atx.md §1.3); "upstream" ones from go-scale v1.2.1
`encoder_test.go` / `decoder_test.go` (file:line in the comments); "CONFIRMED" ones were settled by running
go-scale v1.2.1 (shared/research/CONFIRMED.md). The rest follow by hand from the rules in
spec/scale.md (each expected hex is spelled out, never computed by the code under test).
"""

from __future__ import annotations

from typing import Any

from smspec.conformance.cases import Case, vector_source


def enc(name: str, kind: Any, value: Any, hex_out: str, ref: str, note: str) -> Case:
    return Case(name, inputs={"type": kind, "value": value}, expected={"encoded": "0x" + hex_out},
                spec_ref=f"scale.md#{ref}", description=note)


def dec(name: str, kind: Any, hex_in: str, value: Any, ref: str, note: str) -> Case:
    return Case(name, inputs={"type": kind, "encoded": "0x" + hex_in}, expected={"value": value},
                spec_ref=f"scale.md#{ref}", description=note)


def both(name: str, kind: Any, value: Any, hex_out: str, ref: str, note: str):
    yield enc(f"{name}_encode", kind, value, hex_out, ref, note)
    yield dec(f"{name}_decode", kind, hex_out, value, ref, note)


def bad(name: str, kind: Any, hex_in: str, reason: str, ref: str, note: str) -> Case:
    return Case(f"decode_{name}", inputs={"type": kind, "encoded": "0x" + hex_in}, error="InvalidEncoding",
                reason=reason, spec_ref=f"scale.md#{ref}", description=note)


def bad_value(name: str, kind: Any, value: Any, reason: str, ref: str, note: str) -> Case:
    return Case(f"encode_{name}", inputs={"type": kind, "value": value}, error="InvalidValue", reason=reason,
                spec_ref=f"scale.md#{ref}", description=note)


@vector_source("scale", "codec", "uint")
def test_uint():
    ref = "encode_uint-decode_uint"
    yield from both("uint32_one", "uint32", 1, "01000000", ref, "fixed 4-byte little-endian")
    yield from both("uint64_max", "uint64", 2**64 - 1, "ffffffffffffffff", ref, "fixed 8-byte little-endian")
    # SC encoder_test.go:282-293 / decoder_test.go TestDecodeUint: fixed little-endian integers
    yield from both("upstream_uint16", "uint16", 0x1234, "3412", ref, "go-scale EncodeUint16 known answer")
    yield from both("upstream_uint32", "uint32", 0x12345678, "78563412", ref, "go-scale EncodeUint32 known answer")
    yield from both("upstream_uint64", "uint64", 0x123456789ABCDEF0, "f0debc9a78563412", ref,
                    "go-scale EncodeUint64 known answer")
    yield bad("uint16_short", "uint16", "12", "short_input", ref, "one of two bytes")
    yield bad("uint32_trailing", "uint32", "0100000000", "trailing_bytes", ref, "five bytes for a uint32")
    yield bad_value("uint16_too_big", "uint16", 65536, "out_of_range", ref, "65536 does not fit in 16 bits")


@vector_source("scale", "codec", "bool")
def test_bool():
    ref = "decode_value"
    yield from both("true", "bool", True, "01", ref, "true is 01")
    yield from both("false", "bool", False, "00", ref, "false is 00")
    # CONFIRMED: a bool/option byte other than 01 reads as false / absent
    yield dec("lenient_02_is_false", "bool", "02", False, ref, "CONFIRMED leniency: 02 decodes as false")
    yield dec("lenient_ff_is_false", "bool", "ff", False, ref, "CONFIRMED leniency: ff decodes as false")
    yield bad("empty", "bool", "", "short_input", ref, "no byte")
    yield bad("trailing", "bool", "0100", "trailing_bytes", ref, "two bytes")


@vector_source("scale", "codec", "bytes")
def test_bytes():
    ref = "bytes"
    yield from both("four", {"bytes": 4}, b"\x01\x02\x03\x04", "01020304", ref, "raw bytes, no prefix")
    yield from both("zero_size", {"bytes": 0}, b"", "", ref, "an empty array encodes as nothing")
    # GS golden SpawnArguments.json: a 32-byte public key 00..0012345678 is written raw
    key = bytes(28) + bytes.fromhex("12345678")
    yield from both("golden_spawn_public_key", {"bytes": 32}, key, key.hex(), ref,
                    "GS wallet SpawnArguments: PublicKey [32]byte")
    yield bad("short", {"bytes": 4}, "010203", "short_input", ref, "3 of 4 bytes")
    yield bad("trailing", {"bytes": 4}, "0102030405", "trailing_bytes", ref, "5 bytes for [4]byte")
    yield bad_value("wrong_length", {"bytes": 4}, b"\x01\x02\x03", "wrong_length", ref, "3 bytes for [4]byte")


@vector_source("scale", "codec", "byte_slice")
def test_byte_slice():
    ref = "byteslice"
    yield from both("empty", {"byte_slice": 4}, b"", "00", ref, "length 0, no bytes")
    yield from both("four", {"byte_slice": 4}, bytes.fromhex("deadbeef"), "10deadbeef", ref,
                    "compact32 length 4 (10) then the bytes")
    yield from both("sixty_four", {"byte_slice": 100}, bytes(range(64)), "0101" + bytes(range(64)).hex(), ref,
                    "length 64 takes the two-byte compact form 0101")
    yield bad_value("over_max", {"byte_slice": 4}, bytes(5), "length_over_max", ref,
                    "5 bytes in a []byte with max=4 cannot be encoded")
    yield bad("over_max", {"byte_slice": 4}, "140102030405", "length_over_max", ref,
              "length 5 above max=4 is rejected before reading the bytes")
    yield bad("over_max_no_body", {"byte_slice": 4}, "14", "length_over_max", ref,
              "the length check comes before the short input")
    yield bad("short", {"byte_slice": 4}, "0c0102", "short_input", ref, "length 3, two bytes given")
    yield bad("non_canonical_length", {"byte_slice": 4}, "0100", "non_canonical_compact", ref,
              "length 0 in the two-byte compact form")
    yield bad("trailing", {"byte_slice": 4}, "040100", "trailing_bytes", ref, "length 1, two bytes given")


@vector_source("scale", "codec", "string")
def test_string():
    ref = "string"
    yield from both("abc", {"string": 5}, "abc", "0c616263", ref, "byte length 3 then UTF-8")
    yield from both("empty", {"string": 5}, "", "00", ref, "empty string")
    yield from both("utf8", {"string": 5}, "h\u00e9", "0c68c3a9", ref, "max counts UTF-8 bytes: 3")
    yield bad_value("over_max_bytes", {"string": 5}, "h\u00e9llo", "length_over_max", ref,
                    "5 characters but 6 UTF-8 bytes exceed max=5")
    yield bad("not_utf8", {"string": 5}, "08fffe", "invalid_utf8", ref, "bytes ff fe are not UTF-8")
    yield bad("over_max", {"string": 2}, "0c616263", "length_over_max", ref, "length 3 above max=2")


@vector_source("scale", "codec", "option")
def test_option():
    ref = "option"
    yield from both("compact_absent", {"option": "compact32"}, None, "00", ref, "absent: tag 00")
    yield from both("compact_present", {"option": "compact32"}, 5, "0114", ref, "present: 01 then compact 5")
    # SC encoder_test.go:136-204 (uint8/16/32/64PtrTestCases): *uintN is 00, or 01 then the compact
    upstream_pointers = [
        ("compact8", None, "00"), ("compact8", 1, "0104"), ("compact8", 63, "01fc"), ("compact8", 255, "01fd03"),
        ("compact16", 255, "01fd03"), ("compact16", 65535, "01feff0300"),
        ("compact32", 2**30 - 1, "01feffffff"), ("compact32", 2**32 - 1, "0103ffffffff"),
        ("compact64", 2**32 - 1, "0103ffffffff"), ("compact64", 2**64 - 1, "0113ffffffffffffffff"),
    ]
    for kind, value, hex_out in upstream_pointers:
        yield from both(f"upstream_{kind}_ptr_{'nil' if value is None else value}", {"option": kind}, value,
                        hex_out, ref, "go-scale EncodeCompactNPtr known answer")
    hash32 = bytes(range(32))
    yield from both("hash_present", {"option": {"bytes": 32}}, hash32, "01" + hash32.hex(), ref,
                    "an optional Hash32 (Hare Reference)")
    # CONFIRMED: an option tag other than 01 decodes as absent
    yield dec("lenient_tag_02", {"option": "compact32"}, "02", None, ref,
              "CONFIRMED leniency: tag 02 reads as absent")
    yield bad("lenient_tag_ff_then_trailing", {"option": "compact32"}, "ff14", "trailing_bytes", ref,
              "tag ff reads as absent, so the value byte is left over")
    yield bad("present_missing_value", {"option": {"bytes": 32}}, "01" + "00" * 31, "short_input", ref,
              "tag 01 then 31 of 32 bytes")
    yield bad("empty", {"option": "compact8"}, "", "short_input", ref, "no tag byte")
    yield bad("present_bad_compact", {"option": "compact8"}, "0102", "compact_overflow", ref,
              "the value is checked like any compact8")


@vector_source("scale", "codec", "slice")
def test_slice():
    ref = "slice"
    kind = {"slice": "compact32", "max": 3}
    yield from both("compacts_empty", kind, [], "00", ref, "count 0")
    yield from both("compacts_three", kind, [1, 64, 100000], "0c" + "04" + "0101" + "821a0600", ref,
                    "count 3 then three compact32 elements")
    yield bad_value("compacts_over_max", kind, [1, 2, 3, 4], "length_over_max", ref, "4 elements, max=3")
    yield bad("compacts_over_max", kind, "1004040404", "length_over_max", ref, "count 4 above max=3")
    yield bad("compacts_short", kind, "0804", "short_input", ref, "count 2, one element")
    yield bad("compacts_bad_element", kind, "04fd00", "non_canonical_compact", ref,
              "an element in a non-minimal form")
    # SC encoder_test.go:206-222 (uint16/32/64SliceTestCases), decoded with go-scale's default limit 2^20
    for bits, top, hex_out in ((16, 2**16 - 1, "10103c5cfeff0300"), (32, 2**32 - 1, "10103c5c03ffffffff"),
                               (64, 2**64 - 1, "10103c5c13ffffffffffffffff")):
        yield from both(f"upstream_uint{bits}_slice", {"slice": f"compact{bits}", "max": 2**20}, [4, 15, 23, top],
                        hex_out, ref, f"go-scale EncodeUint{bits}Slice known answer")
    ids = [bytes([i]) * 20 for i in range(2)]
    yield from both("proposal_ids", {"slice": {"bytes": 20}, "max": 2350}, ids, "08" + ids[0].hex() + ids[1].hex(),
                    ref, "Hare proposal IDs: compact count then 20-byte IDs")
    point = {"struct": [["x", "compact16"], ["y", "bool"]]}
    yield from both("structs", {"slice": point, "max": 10}, [{"x": 1, "y": True}, {"x": 64, "y": False}],
                    "08" + "0401" + "010100", ref, "struct elements back to back")
    yield bad_value("element_out_of_range", {"slice": "compact16", "max": 3}, [65536], "out_of_range", ref,
                    "an element outside uint16")


@vector_source("scale", "codec", "array")
def test_array():
    ref = "array"
    kind = {"array": {"bytes": 2}, "length": 2}
    yield from both("two_pairs", kind, [b"\x01\x02", b"\x03\x04"], "01020304", ref, "no count prefix")
    yield bad_value("wrong_count", kind, [b"\x01\x02"], "wrong_length", ref, "one element for [2]T")
    yield bad("short", kind, "010203", "short_input", ref, "3 of 4 bytes")
    point = {"struct": [["x", "compact8"]]}
    yield from both("structs", {"array": point, "length": 3}, [{"x": 0}, {"x": 63}, {"x": 64}], "00fc0101", ref,
                    "struct elements back to back")


@vector_source("scale", "codec", "struct")
def test_struct():
    ref = "encode_value"
    payload = {"struct": [["nonce", "compact64"], ["gas_price", "compact64"]]}
    # GS golden SpendPayload.json: {Nonce: 1543, GasPrice: 111222333} -> 1d18f678841a
    yield from both("golden_spend_payload", payload, {"nonce": 1543, "gas_price": 111222333}, "1d18f678841a",
                    ref, "GS wallet SpendPayload: two compact64 fields")
    # GS golden SpawnPayload.json: {Nonce: 1543, GasPrice: 256} -> 1d180104
    yield from both("golden_spawn_payload", payload, {"nonce": 1543, "gas_price": 256}, "1d180104",
                    ref, "GS wallet SpawnPayload: two compact64 fields")
    # GS golden SpendArguments.json: {Destination: 24 bytes 00..00 03 33 33, Amount: 351}
    arguments = {"struct": [["destination", {"bytes": 24}], ["amount", "compact64"]]}
    destination = bytes(21) + bytes.fromhex("033333")
    yield from both("golden_spend_arguments", arguments, {"destination": destination, "amount": 351},
                    destination.hex() + "7d05", ref, "GS wallet SpendArguments: Address then compact64")
    nested = {"struct": [["head", "compact8"], ["inner", payload], ["tail", "bool"]]}
    yield from both("nested_inline", nested, {"head": 1, "inner": {"nonce": 0, "gas_price": 64}, "tail": True},
                    "04" + "00" + "0101" + "01", ref, "a nested struct is inlined without a prefix")
    yield from both("empty_struct", {"struct": []}, {}, "", ref, "a struct without fields encodes as nothing")
    yield bad("golden_spend_payload_trailing", payload, "1d18f678841a00", "trailing_bytes", "decode-decode_prefix",
              "codec.Decode requires every byte to be consumed")
    yield bad("truncated", payload, "1d18f67884", "short_input", ref, "the second field is cut")
    yield bad("bad_second_field", payload, "1d180100", "non_canonical_compact", ref,
              "the second field is 0 in the two-byte form")


def nested_options(levels: int) -> dict[str, Any]:
    """{"option": {"struct": [["inner", {"option": ... {"struct": [["x", "compact8"]]}}]]}}."""
    kind: dict[str, Any] = {"struct": [["x", "compact8"]]}
    for _ in range(levels):
        kind = {"option": kind}
        kind = {"struct": [["inner", kind]]}
    return kind


def nested_value(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"x": 1}
    for _ in range(levels):
        value = {"inner": value}
    return value


@vector_source("scale", "codec", "nesting")
def test_nesting():
    ref = "enter_nested"
    six, seven = nested_options(6), nested_options(7)
    yield from both("six_options", six, nested_value(6), "01" * 6 + "04", ref,
                    "six nested options of structs are within go-spacemesh's limit of 6")
    yield bad_value("seven_options", seven, nested_value(7), "nested_too_deep", ref,
                    "a seventh option level cannot be encoded")
    yield bad("seven_options", seven, "01" * 7 + "04", "nested_too_deep", ref,
              "a seventh option level is rejected when decoding")
    yield from both("seven_options_outer_absent", seven, {"inner": None}, "00", ref,
                    "the limit is value-dependent: an absent outer option never reaches the deep levels")
    compact_options = {"struct": [["a", {"option": "compact8"}]]}
    deep = compact_options
    for _ in range(6):
        deep = {"struct": [["inner", {"option": deep}]]}
    deep_value: dict[str, Any] = {"a": 5}
    for _ in range(6):
        deep_value = {"inner": deep_value}
    yield from both("compact_option_not_counted", deep, deep_value, "01" * 6 + "0114", ref,
                    "an optional compact (CompactNPtr) takes no nesting level")
    slices = {"slice": {"struct": [["s", {"slice": "compact32", "max": 2}]]}, "max": 2}
    for _ in range(5):
        slices = {"slice": {"struct": [["s", slices]]}, "max": 2}
    slices_value: list[Any] = [{"s": []}]
    for _ in range(5):
        slices_value = [{"s": slices_value}]
    yield from both("six_struct_slices", slices, slices_value, "04" * 6 + "00", ref,
                    "six struct-slice levels, the innermost compact slice is not counted")
    deeper = {"slice": {"struct": [["s", slices]]}, "max": 2}
    yield bad("seven_struct_slices", deeper, "04" * 6 + "00", "nested_too_deep", ref,
              "the seventh struct-slice level fails on entry")
    yield bad("seven_struct_slices_checked_first", deeper, "04" * 6, "nested_too_deep", ref,
              "nesting is checked on entry, before the count is read")
