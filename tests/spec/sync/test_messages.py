"""Sync message encodings: known answers written by hand (wire.py), decoder leniency and errors."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from smspec.conformance.cases import Case, vector_source
from smspec.spec import sync
from smspec.spec.errors import InvalidEncoding
from smspec.tests.spec.sync import wire
from smspec.tests.spec.sync.wire import key

FP = bytes(range(12))
K1 = key(0x12)
K2 = key(0x12, 0x34)
HIGH = b"\xff" * 32
ZERO = bytes(32)
LONG = bytes(range(1, 33))  # no zero byte: the compact hash carries all 32


def test_known_answers_written_out():
    # Bytes read off go-spacemesh's encoders (GS wire_helpers.go, wire_types_scale.go), by hand.
    assert sync.encode_message(sync.DoneMessage()) == bytes.fromhex("00")
    assert sync.encode_message(sync.EndRoundMessage()) == bytes.fromhex("01")
    assert sync.encode_message(sync.EmptySetMessage()) == bytes.fromhex("02")
    assert sync.encode_message(sync.EmptyRangeMessage(ZERO, HIGH)) == bytes.fromhex("034060" + "ff" * 32)
    assert sync.encode_message(sync.RangeContentsMessage(K1, K2, 5)) == bytes.fromhex("05411242123414")
    assert sync.encode_message(sync.FingerprintMessage(b"\xab" * 32, ZERO, FP, 300)) == \
        bytes.fromhex("0460" + "ab" * 32 + "40" + FP.hex() + "b104")
    assert sync.encode_message(sync.ItemBatchMessage(())) == bytes.fromhex("0600")
    assert sync.encode_message(sync.ItemBatchMessage((K1, LONG))) == bytes.fromhex("060801") + K1 + LONG
    assert sync.encode_message(sync.ProbeMessage(None, None, FP, 200)) == bytes.fromhex("070000") + FP + bytes.fromhex("2103")
    assert sync.encode_message(sync.SampleMessage(K1, K1, FP, 7, (1, 0xDEADBEEF))) == \
        bytes.fromhex("0841124112") + FP + bytes.fromhex("1c08" "01000000" "efbeadde")
    assert sync.encode_message(sync.RecentMessage(0)) == bytes.fromhex("0900")
    # 1.7e18 ns needs the big-integer mode: header (8 - 4) << 2 | 3 = 0x13, eight bytes LE.
    assert sync.encode_message(sync.RecentMessage(1_700_000_000_000_000_000)) == \
        bytes.fromhex("0913") + (1_700_000_000_000_000_000).to_bytes(8, "little")


def j(kind: str, **fields) -> dict:
    return {"type": kind, **fields}


ENCODE_CASES = [
    ("done", "Done (tag 0): the message type alone", j("done")),
    ("end_round", "EndRound (tag 1): the message type alone", j("end_round")),
    ("empty_set", "EmptySet (tag 2): the message type alone", j("empty_set")),
    ("empty_range_zero_to_top", "EmptyRange over [0, 2^256-1]: the zero ID as a one-byte compact hash, the top ID in full", j("empty_range", x=ZERO, y=HIGH)),
    ("empty_range_wrapped", "EmptyRange of a wrapped range (x > y), each bound a compact hash", j("empty_range", x=key(0xC0), y=key(0x40))),
    ("fingerprint_full_ids", "Fingerprint with a bound of 32 non-zero bytes (carried whole) and count 63 (compact one byte)", j("fingerprint", x=LONG, y=HIGH, fingerprint=FP, count=63)),
    ("fingerprint_count_64", "Fingerprint with count 64: the first count needing the two-byte compact mode", j("fingerprint", x=K1, y=K2, fingerprint=FP, count=64)),
    ("fingerprint_count_16384", "Fingerprint with count 16384: the first count needing the four-byte compact mode", j("fingerprint", x=K1, y=K2, fingerprint=FP, count=16384)),
    ("fingerprint_count_max", "Fingerprint with the largest count, 2^32 - 1 (big-integer compact mode)", j("fingerprint", x=K1, y=K1, fingerprint=FP, count=2**32 - 1)),
    ("range_contents", "RangeContents: two bounds and the count of items to follow", j("range_contents", x=K1, y=K2, count=5)),
    ("item_batch_empty", "ItemBatch with no IDs: a compact length 0", j("item_batch", items=[])),
    ("item_batch_two", "ItemBatch with two IDs, each as a compact hash", j("item_batch", items=[K1, LONG])),
    ("item_batch_1024", "ItemBatch with 1,024 IDs, the most one batch carries", j("item_batch", items=[i.to_bytes(32, "big") for i in range(1024)])),
    ("probe_whole_set", "Probe of the whole set: both bounds nil", j("probe", x=None, y=None, fingerprint=FP, sample_size=200)),
    ("probe_range", "Probe of a range with a zero fingerprint and a sample size of 1000", j("probe", x=K1, y=K2, fingerprint=bytes(12), sample_size=1000)),
    ("sample_two_items", "Sample carrying two MinHash items (little-endian uint32 each)", j("sample", x=K1, y=K1, fingerprint=FP, count=7, sample=[1, 0xDEADBEEF])),
    ("sample_empty", "Sample of an empty set: nil bounds, count 0, no items", j("sample", x=None, y=None, fingerprint=bytes(12), count=0, sample=[])),
    ("recent_reply", "Recent with since = 0 (a reply)", j("recent", since=0)),
    ("recent_time", "Recent with a nanosecond time needing the big-integer compact mode", j("recent", since=1_700_000_000_000_000_000)),
]


@vector_source("sync", "message", "encode")
def test_message_encode_vectors():
    for name, description, message in ENCODE_CASES:
        yield Case(name, inputs={"message": message}, expected={"encoded": wire.message(message)},
                   description=description, spec_ref="sync.md#encode_message")
    yield Case("item_batch_1025", inputs={"message": j("item_batch", items=[i.to_bytes(32, "big") for i in range(1025)])},
               error="InvalidValue", reason="length_over_max", description="an ItemBatch carries at most 1,024 IDs",
               spec_ref="sync.md#check_message")
    yield Case("sample_1001", inputs={"message": j("sample", x=K1, y=K2, fingerprint=FP, count=1, sample=[0] * 1001)},
               error="InvalidValue", reason="length_over_max", description="a Sample carries at most 1,000 items",
               spec_ref="sync.md#check_message")
    yield Case("count_over_uint32", inputs={"message": j("range_contents", x=K1, y=K2, count=2**32)},
               error="InvalidValue", reason="out_of_range", description="a count is a uint32: 2^32 is refused",
               spec_ref="sync.md#check_message")
    yield Case("short_fingerprint", inputs={"message": j("fingerprint", x=K1, y=K2, fingerprint=FP[:11], count=1)},
               error="InvalidValue", reason="wrong_length", description="a fingerprint is exactly 12 bytes",
               spec_ref="sync.md#check_fingerprint")
    yield Case("short_id", inputs={"message": j("empty_range", x=K1[:31], y=K2)},
               error="InvalidValue", reason="wrong_length", description="an ID is exactly 32 bytes",
               spec_ref="sync.md#check_message")
    yield Case("sample_item_over_uint32", inputs={"message": j("sample", x=K1, y=K2, fingerprint=FP, count=1,
                                                               sample=[2**32])},
               error="InvalidValue", reason="out_of_range",
               description="a MinHash sample item is a uint32: 2^32 is refused", spec_ref="sync.md#check_message")


DECODE_REF = "sync.md#decode_message_prefix-decode_message"
REFUSED = {
    "empty_input": "no byte: no message type",
    "unknown_tag_10": "message type 10 is past the last one (Recent, 9)",
    "unknown_tag_255": "message type 255 is unknown",
    "hash_type_2": "a compact-hash spec byte of type 2 is undefined",
    "hash_type_3": "a compact-hash spec byte of type 3 is undefined",
    "hash_length_33": "a compact hash longer than 32 bytes",
    "hash_truncated": "a compact hash announcing 5 bytes with 1 present",
    "batch_count_1025": "an ItemBatch announcing 1,025 IDs",
    "batch_count_100m": "an ItemBatch announcing 100 million IDs is refused before any is read",
    "batch_type_2": "an ItemBatch ID with an undefined compact-hash type",
    "batch_short": "an ItemBatch announcing two IDs with one present",
    "sample_count_1001": "a Sample announcing 1,001 items",
    "sample_item_short": "a Sample item cut short",
    "count_non_canonical": "a count in the two-byte compact mode that fits one byte",
    "count_over_uint32": "a count beyond 2^32 - 1 in the big-integer compact mode",
    "trailing_byte": "a whole message followed by a byte",
    "fingerprint_short": "a fingerprint of 5 bytes where 12 are due",
}


def decoded(message: dict) -> dict:
    """The decode handler's known output for a canonically encoded message."""
    return {"message": message, "reencoded": wire.message(message)}


@vector_source("sync", "message", "decode")
def test_message_decode_vectors():
    for name, description, message in ENCODE_CASES:
        yield Case(name, inputs={"encoded": wire.message(message)}, expected=decoded(message),
                   description=f"the canonical encoding of {description[0].lower() + description[1:]}",
                   spec_ref=DECODE_REF)
    # Leniency of go-spacemesh's decoder (GS wire_helpers.go, CompactHash.DecodeScale).
    yield Case("nil_hash_with_low_bits", inputs={"encoded": bytes.fromhex("030541") + b"\x12"},
               expected={"message": j("empty_range", x=None, y=K1),
                         "reencoded": bytes.fromhex("030041") + b"\x12"},
               description="a nil-typed spec byte is nil whatever its low six bits", spec_ref="sync.md#decode_compact_hash")
    yield Case("hash_with_trailing_zeros", inputs={"encoded": bytes.fromhex("03" "4300ab00" "40")},
               expected={"message": j("empty_range", x=bytes([0, 0xAB]).ljust(32, b"\0"), y=ZERO),
                         "reencoded": bytes.fromhex("03" "4200ab" "40")},
               description="data bytes the encoder would have dropped are accepted", spec_ref="sync.md#decode_compact_hash")
    yield Case("zero_hash_full_length", inputs={"encoded": bytes.fromhex("0360") + ZERO + bytes.fromhex("40")},
               expected={"message": j("empty_range", x=ZERO, y=ZERO), "reencoded": bytes.fromhex("034040")},
               description="the zero ID written out in 32 bytes is accepted; it re-encodes as one byte",
               spec_ref="sync.md#decode_compact_hash")
    # Refusals.
    for name, data, reason in [
        ("empty_input", b"", "short_input"),
        ("unknown_tag_10", b"\x0a", "unknown_message_type"),
        ("unknown_tag_255", b"\xff\x00", "unknown_message_type"),
        ("hash_type_2", bytes.fromhex("0380"), "invalid_compact_hash"),
        ("hash_type_3", bytes.fromhex("03c0"), "invalid_compact_hash"),
        ("hash_length_33", bytes.fromhex("0361") + bytes(33) + b"\x40", "compact_hash_too_long"),
        ("hash_truncated", bytes.fromhex("034512"), "short_input"),
        ("batch_count_1025", bytes.fromhex("060510") + b"\x01" + bytes(32), "length_over_max"),
        ("batch_count_100m", bytes.fromhex("06") + (100_000_000 << 2 | 2).to_bytes(4, "little"), "length_over_max"),
        ("batch_type_2", bytes.fromhex("060402") + bytes(32), "invalid_compact_hash"),
        ("batch_short", bytes.fromhex("060801") + bytes(32), "short_input"),
        ("sample_count_1001", bytes.fromhex("084040") + FP + b"\x04" + (1001 << 2 | 1).to_bytes(2, "little"),
         "length_over_max"),
        ("sample_item_short", bytes.fromhex("084040") + FP + bytes.fromhex("040401020304"[:10]), "short_input"),
        ("count_non_canonical", bytes.fromhex("054040") + bytes.fromhex("0100"), "non_canonical_compact"),
        ("count_over_uint32", bytes.fromhex("054040") + bytes.fromhex("070000000001"), "compact_overflow"),
        ("trailing_byte", bytes.fromhex("0000"), "trailing_bytes"),
        ("fingerprint_short", bytes.fromhex("044040") + FP[:5], "short_input"),
    ]:
        yield Case(name, inputs={"encoded": data}, error="InvalidEncoding", reason=reason,
                   description=REFUSED[name], spec_ref=DECODE_REF)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120))
def test_any_bytes_decode_or_fail_cleanly(data):
    # Never anything but a message or InvalidEncoding; a message re-encodes to a prefix-free
    # canonical form that decodes to the same message.
    try:
        message, used = sync.decode_message_prefix(data, 0)
    except InvalidEncoding:
        return
    assert 1 <= used <= len(data)
    again = sync.encode_message(message)
    assert sync.decode_message(again) == message


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([m for _, _, m in ENCODE_CASES[:18]]), st.binary(max_size=8))
def test_stream_of_messages_reads_back(message, tail):
    spec_message = sync.decode_message(wire.message(message))
    stream = sync.encode_message(spec_message) + sync.encode_message(sync.EndRoundMessage())
    first, offset = sync.decode_message_prefix(stream + tail, 0)
    second, end = sync.decode_message_prefix(stream + tail, offset)
    assert (first, second, end) == (spec_message, sync.EndRoundMessage(), len(stream))
