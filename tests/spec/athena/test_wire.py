"""Codec pair of Athena's ExecutionPayload (vectors athena/wire/execution_payload): a
transaction's input to a program, with payloads Athena cannot read beside it.

Known answers are written byte by byte from athena.md's layout: SCALE vec state (compact length
+ bytes), option tag 00 / 01 + the 4-byte selector blake3(name)[:4], SCALE vec arguments.
"""

from __future__ import annotations

import blake3
from smspec.conformance.cases import Case, vector_source

REF = "athena.md#encode_payload-encode_execution_payload-decode_execution_payload"
SPEND = blake3.blake3(b"athexp_spend").digest()[:4]


def value(state: bytes, selector: bytes | None, args: bytes) -> dict:
    return {"state": "0x" + state.hex(), "selector": None if selector is None else "0x" + selector.hex(),
            "args": "0x" + args.hex()}


def both(name: str, state: bytes, selector: bytes | None, args: bytes, encoded: bytes, what: str):
    yield Case(f"{name}_encode", inputs={"value": value(state, selector, args)}, expected={"encoded": encoded},
               spec_ref=REF, description=f"{what}: encode")
    yield Case(f"{name}_decode", inputs={"encoded": encoded}, expected={"value": value(state, selector, args)},
               spec_ref=REF, description=f"{what}: decode")


@vector_source("athena", "wire", "execution_payload")
def test_execution_payload_triad():
    yield from both("entry_point", b"", None, b"", bytes([0, 0, 0]), "no state, the entry point, no arguments")
    yield from both("spend", b"ST", SPEND, b"args", bytes([2 << 2]) + b"ST" + b"\x01" + SPEND + bytes([4 << 2]) + b"args",
                    "state, the athexp_spend selector, arguments")
    state = bytes(range(256)) * 64  # 16384 bytes: the four-byte compact length 02 00 01 00
    yield from both("long_state", state, None, b"", bytes.fromhex("02000100") + state + b"\x00\x00",
                    "a 16384-byte state takes the four-byte compact length")
    yield Case("trailing_ignored_decode", inputs={"encoded": bytes([0, 0, 0]) + b"junk"},
               expected={"value": value(b"", None, b"")}, spec_ref=REF,
               description="bytes after the arguments are ignored (parity-scale-codec's decode)")
    for name, data, reason, what in [
        ("empty", b"", "payload_truncated", "no bytes"),
        ("missing_option", b"\x00", "payload_truncated", "the payload ends before the selector option"),
        ("truncated_selector", b"\x00\x01\xaa", "payload_truncated", "a selector of one byte"),
        ("option_tag_2", b"\x00\x02\x00", "payload_option", "option tag 02"),
        ("non_canonical_length", b"\x01\x00\x00\x00", "payload_compact", "a state length 0 in the two-byte mode"),
        ("length_wider_than_u32", b"\x07" + bytes(5), "payload_compact", "a big-integer length of 5 bytes"),
        ("state_beyond_end", b"\x08\x00", "payload_truncated", "a state of 2 bytes with 1 given"),
        ("big_length_not_canonical", b"\x03\xff\xff\xff\x3f", "payload_compact",
         "a state length 2^30 - 1 in the big-integer mode (03 then 4 bytes), which the four-byte mode holds"),
        ("big_length_beyond_end", b"\x03\x00\x00\x00\x40" + bytes(3), "payload_truncated",
         "a canonical big-integer state length of 2^30 with 3 bytes given"),
    ]:
        yield Case(f"{name}_decode", inputs={"encoded": data}, error="InvalidProgram", reason=reason, spec_ref=REF,
                   description=what)
