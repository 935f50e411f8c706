"""Sync wire bytes and range answers written out by hand, as known answers for the vectors.

Independent of spec/sync.md's code: the layouts follow go-spacemesh's `sync2/rangesync` as read
from its source (GS `wire_conduit.go`: one tag byte, then the fields; `wire_helpers.go`: the
compact hash and the key collection; `wire_types_scale.go`: field order and compact32 counts;
`minhash.go`: fixed 4-byte little-endian sample items). Ranges and fingerprints are computed by
brute force over the whole ID list (no binary search, no ordering tricks). Compact integers come
from the Hare known-answer writer.
"""

from __future__ import annotations

from smspec.tests.spec.hare.wire import compact  # SCALE compact integers, written out by hand

TAGS = {"done": 0, "end_round": 1, "empty_set": 2, "empty_range": 3, "fingerprint": 4, "range_contents": 5,
        "item_batch": 6, "probe": 7, "sample": 8, "recent": 9}


def chash(key: bytes | None) -> bytes:
    """Compact hash: 0x00 for nil; else 0x40 | n and the ID up to its last non-zero byte."""
    if key is None:
        return b"\x00"
    kept = key.rstrip(b"\x00")
    return bytes([0x40 | len(kept)]) + kept


def message(m: dict) -> bytes:
    """The wire bytes of a message in the vectors' JSON form (values as bytes/ints)."""
    kind = m["type"]
    out = bytes([TAGS[kind]])
    if kind in ("done", "end_round", "empty_set"):
        return out
    if kind == "item_batch":
        items = m["items"]
        return out + compact(len(items)) + ((b"\x01" + b"".join(items)) if items else b"")
    if kind == "recent":
        return out + compact(m["since"])
    out += chash(m["x"]) + chash(m["y"])
    if kind in ("fingerprint", "probe", "sample"):
        out += m["fingerprint"]
    if kind in ("fingerprint", "range_contents", "sample"):
        out += compact(m["count"])
    if kind == "probe":
        out += compact(m["sample_size"])
    if kind == "sample":
        out += compact(len(m["sample"])) + b"".join(item.to_bytes(4, "little") for item in m["sample"])
    return out


def in_range(key: bytes, x: bytes, y: bytes) -> bool:
    if x == y:
        return True
    if x < y:
        return x <= key < y
    return key >= x or key < y


def range_items(items: list[bytes], x: bytes, y: bytes) -> list[bytes]:
    """The IDs of [x, y) in range order: those at or above x first, then the wrapped ones."""
    chosen = sorted(key for key in set(items) if in_range(key, x, y))
    return [key for key in chosen if key >= x] + [key for key in chosen if key < x]


def fingerprint(keys: list[bytes]) -> bytes:
    out = bytearray(12)
    for key in keys:
        for index in range(12):
            out[index] ^= key[index]
    return bytes(out)


def key(first: int, *rest: int) -> bytes:
    """A readable 32-byte ID: the given leading bytes, then zeros."""
    return bytes([first, *rest]).ljust(32, b"\x00")
