"""An example client adapter, written the way a client team would write one.

It does not use smspec at all: it is an independent, from-scratch implementation of SCALE
integers and booleans (go-scale's compact, fixed-width and bool codecs) that speaks the adapter
protocol (``conformance/formats/adapter.md``). Everything else it answers ``unsupported``.

    smspec vectors run --client "python -m smspec.conformance.adapters.example_adapter" --only scale

should report every compact/uint/bool case passed and the rest skipped.
"""

from __future__ import annotations

import json
import sys
from typing import Any

COMPACT_BITS = {"compact8": 8, "compact16": 16, "compact32": 32, "compact64": 64}
UINT_BYTES = {"uint16": 2, "uint32": 4, "uint64": 8}


class Rejected(Exception):
    def __init__(self, error: str, reason: str) -> None:
        super().__init__(reason)
        self.error = error
        self.reason = reason


def encode_compact(value: int, bits: int) -> bytes:
    if not 0 <= value < 2**bits:
        raise Rejected("InvalidValue", "out_of_range")
    if value < 2**6:
        return bytes([value << 2])
    if value < 2**14:
        return ((value << 2) | 1).to_bytes(2, "little")
    if value < 2**30:
        return ((value << 2) | 2).to_bytes(4, "little")
    length = (value.bit_length() + 7) // 8
    return bytes([((length - 4) << 2) | 3]) + value.to_bytes(length, "little")


def decode_compact(data: bytes, bits: int) -> int:
    if not data:
        raise Rejected("InvalidEncoding", "short_input")
    mode = data[0] & 3
    if mode == 0:
        value, used = data[0] >> 2, 1
    elif mode in (1, 2):
        used = 2 if mode == 1 else 4
        if bits == 8 and mode == 2:
            raise Rejected("InvalidEncoding", "compact_overflow")
        if len(data) < used:
            raise Rejected("InvalidEncoding", "short_input")
        value = int.from_bytes(data[:used], "little") >> 2
        if value < (2**6 if mode == 1 else 2**14):
            raise Rejected("InvalidEncoding", "non_canonical_compact")
    else:
        if bits <= 16:
            raise Rejected("InvalidEncoding", "compact_overflow")
        length = (data[0] >> 2) + 4
        if (bits == 32 and length != 4) or length > 8:
            raise Rejected("InvalidEncoding", "compact_overflow")
        if len(data) < 1 + length:
            raise Rejected("InvalidEncoding", "short_input")
        value, used = int.from_bytes(data[1:1 + length], "little"), 1 + length
        if value < 2**30:
            raise Rejected("InvalidEncoding", "non_canonical_compact")
    if value >= 2**bits:
        raise Rejected("InvalidEncoding", "compact_overflow")
    if used != len(data):
        raise Rejected("InvalidEncoding", "trailing_bytes")
    return value


def as_int(value: Any) -> int:
    """A JSON integer (number or decimal string); JSON of another kind is InvalidValue wrong_type."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    raise Rejected("InvalidValue", "wrong_type")


def json_int(value: int) -> int | str:
    return value if value <= 2**53 - 1 else str(value)


def answer(request: dict[str, Any]) -> dict[str, Any]:
    inputs = request["inputs"]
    kind = inputs.get("type")
    if request["domain"] != "scale" or not isinstance(kind, str) or kind not in {*COMPACT_BITS, *UINT_BYTES, "bool"}:
        return {"unsupported": True}
    try:
        if "value" in inputs:
            if kind == "bool":
                if not isinstance(inputs["value"], bool):
                    raise Rejected("InvalidValue", "wrong_type")
                return {"output": {"encoded": "0x01" if inputs["value"] else "0x00"}}
            value = as_int(inputs["value"])
            if kind in COMPACT_BITS:
                encoded = encode_compact(value, COMPACT_BITS[kind])
            else:
                if not 0 <= value < 2 ** (8 * UINT_BYTES[kind]):
                    raise Rejected("InvalidValue", "out_of_range")
                encoded = value.to_bytes(UINT_BYTES[kind], "little")
            return {"output": {"encoded": "0x" + encoded.hex()}}
        data = bytes.fromhex(inputs["encoded"][2:])
        if kind == "bool":
            if not data:
                raise Rejected("InvalidEncoding", "short_input")
            if len(data) > 1:
                raise Rejected("InvalidEncoding", "trailing_bytes")
            return {"output": {"value": data[0] == 1}}  # go-scale: any byte but 0x01 is false
        if kind in COMPACT_BITS:
            return {"output": {"value": json_int(decode_compact(data, COMPACT_BITS[kind]))}}
        size = UINT_BYTES[kind]
        if len(data) < size:
            raise Rejected("InvalidEncoding", "short_input")
        if len(data) > size:
            raise Rejected("InvalidEncoding", "trailing_bytes")
        return {"output": {"value": json_int(int.from_bytes(data, "little"))}}
    except Rejected as e:
        return {"error": e.error, "reason": e.reason}


def main() -> int:
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        sys.stdout.write(json.dumps({"id": request["id"], **answer(request)}) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
