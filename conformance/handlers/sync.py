"""Handlers of the ``sync/*`` vectors: set reconciliation (spec/sync.md).

Bytes are ``0x`` hex; integers above 2^53 are decimal strings. The vector format has no floats:
a ``max_diff`` is a decimal string (``"0.01"``, read as the nearest IEEE double, as a Go
constant is) and a similarity is the shortest decimal string that reads back as the exact double
(Python ``repr``, Go ``strconv.FormatFloat(f, 'g', -1, 64)``).

A *message* in JSON is ``{"type": T, ...fields}`` (the record ``SyncMessage`` of the pages); a
*side* of a session is ``{"items", "config", "now", "reject"}`` (``SyncSide``), every config field
written out. Inputs, outputs and errors of each handler: its schema (the format pages under
``conformance/formats/handlers/``). The message pair ``message/encode`` + ``message/decode`` is the
codec triad of the sync wire (a message has no ID), with its invalid-encoding suite.
"""

from __future__ import annotations

from typing import Any

from smspec.conformance.handlers import as_int, handler, hexbytes, hexstr
from smspec.conformance.schema import Record, Schema, inp, out, raises
from smspec.spec import load as _load_spec

_sync = _load_spec("sync", "mainnet")
MESSAGE_TYPES = "enum:done,end_round,empty_set,empty_range,fingerprint,range_contents,item_batch,probe,sample,recent"
MESSAGE = Record("SyncMessage", """
A sync message (sync.md#messages): `type` and the fields of that type. `done`, `end_round`,
`empty_set`: none; `empty_range`: `x`, `y`; `fingerprint`: `x`, `y`, `fingerprint`, `count`;
`range_contents`: `x`, `y`, `count`; `item_batch`: `items`; `probe`: `x`, `y`, `fingerprint`,
`sample_size`; `sample`: `x`, `y`, `fingerprint`, `count`, `sample`; `recent`: `since`. The
types are wide on purpose: a value the wire cannot carry is an input `message/encode` refuses.
""", (
    inp("type", MESSAGE_TYPES, "the message type"),
    inp("x", "hex|null", "the range's lower bound (a 32-byte ID), or null: no bound", optional=True),
    inp("y", "hex|null", "the range's upper bound (exclusive; y <= x wraps around)", optional=True),
    inp("fingerprint", "hex", "12 bytes: the XOR of the range's IDs' first 12 bytes", optional=True),
    inp("count", "uint", "IDs in the range (uint32 on the wire)", optional=True),
    inp("items", "list<hex>", "32-byte IDs, at most 1,024", optional=True),
    inp("sample_size", "uint", "the sample size asked for", optional=True),
    inp("sample", "list<uint>", "MinHash sample items (uint32: the last 4 bytes of an ID, big-endian), at most "
        "1,000", optional=True),
    inp("since", "uint", "nanoseconds; 0 in a reply", optional=True),
))
ROUND_MESSAGE = Record("RoundMessage", "A message as sent in a round.", (
    inp("message", "{SyncMessage}", "the message"), inp("encoded", "hex", "its encoding (sync.md#encode_message)"),
))


def _decimal(value: float | None) -> str | None:
    return None if value is None else repr(float(value))


_DEFAULTS = _sync.SyncConfig()
CONFIG = Record("SyncConfig", "A side's reconciler parameters (sync.md#syncconfig; the defaults are go-spacemesh's). "
                "`max_diff` is a decimal string read as the nearest double, or null: no MinHash (recursive method).", (
    inp("max_send_range", "uint", "a differing range with at most this many local IDs is sent whole",
        default=_DEFAULTS.max_send_range),
    inp("item_chunk_size", "uint", "IDs per ItemBatch when sending", default=_DEFAULTS.item_chunk_size),
    inp("sample_size", "uint", "MinHash sample size", default=_DEFAULTS.sample_size),
    inp("max_diff", "text|null", "largest estimated Jaccard distance for the recursive method",
        default=_decimal(_DEFAULTS.max_diff)),
    inp("recent_time_span", "uint", "nanoseconds of recent IDs exchanged first; 0: no recent sync",
        default=_DEFAULTS.recent_time_span),
    inp("message_limit", "uint", "most messages per session, both directions", default=_DEFAULTS.message_limit),
    inp("traffic_limit", "uint", "most bytes per session, both directions", default=_DEFAULTS.traffic_limit),
))
SIDE = Record("SyncSide", "One side of a session: its set, configuration, clock and validation callback.", (
    inp("items", "list<hex|list<hex|uint>>", "its IDs: an ID (received at time 0) or [ID, receipt time in ns]"),
    inp("config", "{SyncConfig}", "its parameters", default={}),
    inp("now", "uint", "its clock, in ns (recent sync looks back from it)", default=0),
    inp("reject", "list<hex>", "the IDs its validation callback refuses", default=[]),
))
_MULTI = _sync.MultiPeerConfig()
MULTI_CONFIG = Record("MultiPeerConfig", "Multi-peer parameters (sync.md#multipeerconfig); "
                      "`min_complete_fraction` is a decimal string.", (
    inp("sync_peer_count", "uint", "peers picked for one multi-peer sync", default=_MULTI.sync_peer_count),
    inp("min_split_sync_peers", "uint", "fewest split-syncable peers for a split sync",
        default=_MULTI.min_split_sync_peers),
    inp("min_split_sync_count", "uint", "a peer needs more IDs than this for a split sync",
        default=_MULTI.min_split_sync_count),
    inp("max_full_diff", "uint", "largest estimated difference of a nearly-synced peer", default=_MULTI.max_full_diff),
    inp("max_sync_diff", "uint", "a peer with this many fewer IDs is not synced against", default=_MULTI.max_sync_diff),
    inp("min_complete_fraction", "text", "fraction of nearly-synced peers from which a full sync is preferred",
        default=_decimal(_MULTI.min_complete_fraction)),
    inp("max_depth", "uint", "split-sync ranges are aligned to this many prefix bits", default=_MULTI.max_depth),
))
PROBE = Record("ProbeResult", "A peer's probe result (sync.md#proberesult); `similarity` is a decimal string.", (
    inp("in_sync", "bool", "fingerprints and counts agree"), inp("count", "uint", "the peer's count"),
    inp("similarity", "text", "the MinHash estimate"),
))
RANGE = inp("range", "list<hex>|null", "[x, y]: the range to sync (y <= x wraps around), or null: the whole set",
            default=None)
DECODING = raises("InvalidEncoding", ("short_input", "unknown_message_type", "invalid_compact_hash",
                                      "compact_hash_too_long", "length_over_max", "trailing_bytes",
                                      "non_canonical_compact", "compact_overflow"),
                  "bytes that are not one message (sync.md#decode_message_prefix-decode_message)")
SESSION_ERRORS = raises("SyncError", ("session_finished", "invalid_item", "missing_range", "unexpected_message",
                                      "unexpected_range", "incomplete_split", "missing_initiation",
                                      "request_in_done_round", "probe_not_final", "fingerprint_collision",
                                      "sample_size_over_max", "too_many_rounds", "message_limit", "traffic_limit"),
                        "a side ends the session: the first rule of sync.md's reconciler (Bounds against a hostile "
                        "peer, sync.md#errors) a received message breaks")
CONFIG_ERRORS = raises("InvalidValue", ("bad_config", "wrong_length", "missing_range"),
                       "parameters go-spacemesh refuses, an ID that is not 32 bytes, or a range with one bound")
RESTART_ERROR = raises("InvalidValue", "session_started",
                       "`restart` asks a side that has already started (initiated, probed or answered) for a second "
                       "session: a reconciler runs one session")
STRICT_NOTE = ("Cases that follow a *Decision* of sync.md departing from go-spacemesh (its done rule, its hostile-peer "
               "shape checks, its decoding bounds) are of level `spec-strict` and name the Decision.")


def _bound(value: str | None) -> bytes | None:
    return None if value is None else hexbytes(value)


def _hex_bound(value: bytes | None) -> str | None:
    return None if value is None else hexstr(value)


def message_from_json(sync: Any, data: dict[str, Any]) -> Any:
    """A spec message from its JSON form."""
    kind = data["type"]
    if kind == "done":
        return sync.DoneMessage()
    if kind == "end_round":
        return sync.EndRoundMessage()
    if kind == "empty_set":
        return sync.EmptySetMessage()
    if kind == "item_batch":
        return sync.ItemBatchMessage(tuple(hexbytes(key) for key in data["items"]))
    if kind == "recent":
        return sync.RecentMessage(as_int(data["since"]))
    x, y = _bound(data["x"]), _bound(data["y"])
    if kind == "empty_range":
        return sync.EmptyRangeMessage(x, y)
    if kind == "range_contents":
        return sync.RangeContentsMessage(x, y, as_int(data["count"]))
    if kind == "fingerprint":
        return sync.FingerprintMessage(x, y, hexbytes(data["fingerprint"]), as_int(data["count"]))
    if kind == "probe":
        return sync.ProbeMessage(x, y, hexbytes(data["fingerprint"]), as_int(data["sample_size"]))
    if kind == "sample":
        return sync.SampleMessage(x, y, hexbytes(data["fingerprint"]), as_int(data["count"]),
                                  tuple(as_int(item) for item in data["sample"]))
    raise ValueError(f"unknown message type {kind!r}")


def message_to_json(sync: Any, message: Any) -> dict[str, Any]:
    """The JSON form of a spec message."""
    kind = sync.message_type(message).name.lower()
    out: dict[str, Any] = {"type": kind}
    if kind == "item_batch":
        out["items"] = [hexstr(key) for key in message.items]
    elif kind == "recent":
        out["since"] = message.since
    elif kind not in ("done", "end_round", "empty_set"):
        out["x"] = _hex_bound(message.x)
        out["y"] = _hex_bound(message.y)
        if kind in ("fingerprint", "probe", "sample"):
            out["fingerprint"] = hexstr(message.fingerprint)
        if kind in ("fingerprint", "range_contents", "sample"):
            out["count"] = message.count
        if kind == "probe":
            out["sample_size"] = message.sample_size
        if kind == "sample":
            out["sample"] = list(message.sample)
    return out


def similarity_text(value: float) -> str:
    """A similarity as the shortest decimal string of the exact double."""
    return repr(float(value))


def _items(data: list[Any]) -> dict[bytes, int]:
    items = {}
    for entry in data:
        if isinstance(entry, list):
            items[hexbytes(entry[0])] = as_int(entry[1])
        else:
            items[hexbytes(entry)] = 0
    return items


def config_from_json(sync: Any, data: dict[str, Any] | None) -> Any:
    values = dict(data or {})
    if "max_diff" in values and values["max_diff"] is not None:
        values["max_diff"] = float(values["max_diff"])
    return sync.SyncConfig(**values)


def side_from_json(sync: Any, data: dict[str, Any]) -> Any:
    """A reconciler for one side: its set, configuration, clock and validation callback."""
    rejected = {hexbytes(key) for key in data.get("reject", [])}
    store = sync.new_item_store(_items(data["items"]))
    return sync.Reconciler(store, lambda key: key not in rejected, config_from_json(sync, data.get("config")),
                           as_int(data.get("now", 0)))


def _range(data: list[str] | None) -> tuple[bytes | None, bytes | None]:
    if data is None:
        return None, None
    return _bound(data[0]), _bound(data[1])


def _round_json(sync: Any, messages: list[Any]) -> list[dict[str, Any]]:
    return [{"message": message_to_json(sync, m), "encoded": hexstr(sync.encode_message(m))} for m in messages]


def _all_items(store: Any) -> list[str]:
    first = store.first()
    return [] if first is None else [hexstr(key) for key in store.range_items(first, first, None)]


@handler("sync", "message", "encode", schema=Schema(
    page="sync-message-encode", summary="Encode a sync message (the encoding half of the sync wire's codec triad).",
    spec=("sync.md#encode_message", "sync.md#wire-encoding"),
    inputs=(inp("message", "{SyncMessage}", "the message"),),
    outputs=(out("encoded", "hex", "the message type byte, then its fields (compact hashes, compact counts)"),),
    raises=(raises("InvalidValue", ("wrong_length", "out_of_range", "length_over_max", "wrong_type"),
                   "a value the wire cannot carry"),),
    records=(MESSAGE,), notes=(STRICT_NOTE,)))
def message_encode(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: message (JSON). output: encoded."""
    sync = spec("sync")
    return {"encoded": hexstr(sync.encode_message(message_from_json(sync, inputs["message"])))}


@handler("sync", "message", "decode", schema=Schema(
    page="sync-message-decode", summary="Decode one sync message (the decoding half of the sync wire's codec triad); "
    "its JSON and its canonical re-encoding.",
    spec=("sync.md#decode_message_prefix-decode_message", "sync.md#decode_compact_hash", "sync.md#decode_items"),
    inputs=(inp("encoded", "hex", "the bytes: exactly one message"),),
    outputs=(out("message", "{SyncMessage}", "the message read"),
             out("reencoded", "hex", "its canonical encoding (differs from `encoded` where go-spacemesh's decoder "
                 "is lenient)")),
    raises=(DECODING,), records=(MESSAGE,),
    notes=("Leniencies kept from go-spacemesh: a nil-typed compact-hash byte is nil whatever its low bits; trailing "
           "zero bytes of a compact hash are accepted.", STRICT_NOTE)))
def message_decode(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: encoded. output: message (JSON), reencoded (the canonical encoding)."""
    sync = spec("sync")
    message = sync.decode_message(hexbytes(inputs["encoded"]))
    return {"message": message_to_json(sync, message), "reencoded": hexstr(sync.encode_message(message))}


@handler("sync", "fingerprint", "range", schema=Schema(
    page="sync-fingerprint-range", summary="The fingerprint, count and IDs of a range of a set.",
    spec=("sync.md#sorteditemstore", "sync.md#fingerprint_of", "sync.md#in_range"),
    inputs=(inp("items", "list<hex>", "the set's 32-byte IDs"), inp("x", "hex:32", "the range's lower bound"),
            inp("y", "hex:32", "the upper bound (exclusive; y <= x wraps around, x = y is the whole set)")),
    outputs=(out("fingerprint", "hex:12", "the XOR of the range's IDs' first 12 bytes"),
             out("count", "uint", "IDs in the range"), out("items", "list<hex:32>", "the range's IDs in range order")),
    raises=(raises("InvalidValue", ("wrong_length",), "an ID that is not 32 bytes"),)))
def fingerprint_range(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: items, x, y. output: fingerprint, count, items (in range order)."""
    sync = spec("sync")
    store = sync.new_item_store(_items(inputs["items"]))
    x, y = hexbytes(inputs["x"], 32), hexbytes(inputs["y"], 32)
    info = store.range_info(x, y)
    return {"fingerprint": hexstr(info.fingerprint), "count": info.count,
            "items": [hexstr(key) for key in store.range_items(x, y, None)]}


@handler("sync", "fingerprint", "split", schema=Schema(
    page="sync-fingerprint-split", summary="Split a range after its first `count` IDs (in range order).",
    spec=("sync.md#sorteditemstore", "sync.md#rangesplit"),
    inputs=(inp("items", "list<hex>", "the set's 32-byte IDs"), inp("x", "hex:32", "the range's lower bound"),
            inp("y", "hex:32", "the upper bound"), inp("count", "uint", "IDs in the first part")),
    outputs=(out("middle", "hex:32", "the first ID of the second part"),
             out("first", "{RangeInfo}", "the first part"), out("second", "{RangeInfo}", "the second part")),
    raises=(raises("InvalidValue", ("bad_split", "wrong_length"), "a count of 0 or at least the range's count; an "
                   "ID that is not 32 bytes"),),
    records=(Record("RangeInfo", "A part of a range.", (inp("fingerprint", "hex:12", "its fingerprint"),
                                                        inp("count", "uint", "its count"))),)))
def fingerprint_split(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: items, x, y, count. output: middle, first, second."""
    sync = spec("sync")
    store = sync.new_item_store(_items(inputs["items"]))
    split = store.split_range(hexbytes(inputs["x"], 32), hexbytes(inputs["y"], 32), inputs["count"])
    return {"middle": hexstr(split.middle),
            "first": {"fingerprint": hexstr(split.first.fingerprint), "count": split.first.count},
            "second": {"fingerprint": hexstr(split.second.fingerprint), "count": split.second.count}}


STORE_OP = Record("StoreOp", """
One call on the store (sync.md#itemstore): `op` and its arguments. `count`, `first`: none;
`contains`: `key`; `add`: `key`, `received_at`; `range_items`: `x`, `y`, `limit`; `recent`: `since`.
""", (
    inp("op", "enum:count,first,contains,add,range_items,recent", "the call"),
    inp("key", "hex", "a 32-byte ID", optional=True),
    inp("received_at", "uint:64", "the receipt time in ns", optional=True),
    inp("x", "hex:32", "the range's lower bound", optional=True),
    inp("y", "hex:32", "its upper bound (exclusive; y <= x wraps around, x = y is the whole set)", optional=True),
    inp("limit", "uint|null", "at most this many IDs; null: all", optional=True),
    inp("since", "uint:64", "the earliest receipt time in ns", optional=True),
))


@handler("sync", "store", "calls", schema=Schema(
    page="sync-store-calls", summary="A sequence of calls on an item store (the contract a client's set "
    "implements): counts, the smallest ID, membership, additions, range listings and recent IDs.",
    spec=("sync.md#itemstore", "sync.md#sorteditemstore", "sync.md#new_item_store"),
    inputs=(inp("items", "list<hex|list<hex|uint>>", "the IDs stored first: an ID (received at time 0) or [ID, "
                "receipt time in ns]"),
            inp("calls", "list<{StoreOp}>", "the calls, in order")),
    outputs=(out("results", "list<json>", "per call: `count` a uint, `first` an ID or null, `contains` a bool, "
                 "`add` null, `range_items` and `recent` lists of IDs (range order, ID order)"),),
    raises=(raises("InvalidValue", ("wrong_length",), "an ID that is not 32 bytes (the calls before it are made)"),),
    records=(STORE_OP,),
    notes=("Adding an ID the store holds changes nothing, its first receipt time included.",)))
def store_calls(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: items, calls. output: results (one per call)."""
    sync = spec("sync")
    store = sync.new_item_store(_items(inputs["items"]))
    results: list[Any] = []
    for call in inputs["calls"]:
        op = call["op"]
        if op == "count":
            results.append(store.count())
        elif op == "first":
            first = store.first()
            results.append(None if first is None else hexstr(first))
        elif op == "contains":
            results.append(store.contains(hexbytes(call["key"])))
        elif op == "add":
            store.add(hexbytes(call["key"]), as_int(call["received_at"]))
            results.append(None)
        elif op == "range_items":
            limit = call.get("limit")
            keys = store.range_items(hexbytes(call["x"], 32), hexbytes(call["y"], 32),
                                     None if limit is None else as_int(limit))
            results.append([hexstr(key) for key in keys])
        elif op == "recent":
            results.append([hexstr(key) for key in store.recent(as_int(call["since"]))])
        else:
            raise ValueError(f"unknown store call {op!r}")
    return {"results": results}


@handler("sync", "minhash", "sample", schema=Schema(
    page="sync-minhash-sample", summary="The MinHash sample of a range: the sample items of its first IDs in range "
    "order.",
    spec=("sync.md#minhash_sample", "sync.md#sample_item"),
    inputs=(inp("items", "list<hex>", "the set's 32-byte IDs"), inp("x", "hex:32", "the range's lower bound"),
            inp("y", "hex:32", "the upper bound"), inp("sample_size", "uint", "items wanted")),
    outputs=(out("sample", "list<uint:32>", "the last 4 bytes (big-endian) of each of the first `sample_size` IDs"),),
    raises=(raises("InvalidValue", ("wrong_length",), "an ID that is not 32 bytes"),)))
def minhash_sample(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: items, x, y, sample_size. output: sample."""
    sync = spec("sync")
    store = sync.new_item_store(_items(inputs["items"]))
    sample = sync.minhash_sample(store, hexbytes(inputs["x"], 32), hexbytes(inputs["y"], 32), inputs["sample_size"])
    return {"sample": list(sample)}


@handler("sync", "minhash", "similarity", schema=Schema(
    page="sync-minhash-similarity", summary="The Jaccard estimate of two MinHash samples, and whether it is too "
    "different for the recursive method.",
    spec=("sync.md#jaccard_estimate", "sync.md#too_different"),
    inputs=(inp("local", "list<uint:32>", "our sample"), inp("remote", "list<uint:32>", "the peer's sample"),
            inp("max_diff", "text", "the largest distance, a decimal string read as the nearest double")),
    outputs=(out("similarity", "text", "the estimate as the shortest decimal string of the exact double"),
             out("too_different", "bool", "1 - similarity > max_diff, in doubles")),
    notes=("Double arithmetic in go-spacemesh's order (sync.md, *Decision* MinHash arithmetic).",)))
def minhash_similarity(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: local, remote (uint32 lists), max_diff (decimal string). output: similarity, too_different."""
    sync = spec("sync")
    similarity = sync.jaccard_estimate([as_int(v) for v in inputs["local"]], [as_int(v) for v in inputs["remote"]])
    return {"similarity": similarity_text(similarity),
            "too_different": sync.too_different(similarity, float(inputs["max_diff"]))}


@handler("sync", "conversation", "pair", schema=Schema(
    page="sync-conversation-pair", summary="A whole session between two honest sides: every round, the sets after "
    "and the bytes each side sent.",
    spec=("sync.md#sync_pair", "sync.md#reconciler", "sync.md#sessions-and-rounds"),
    inputs=(inp("initiator", "{SyncSide}", "the side that opens"), inp("responder", "{SyncSide}", "the other side"),
            RANGE),
    outputs=(out("rounds", "list<list<{RoundMessage}>>", "every round, the initiator's first"),
             out("initiator_items", "list<hex:32>", "the initiator's set after, sorted"),
             out("responder_items", "list<hex:32>", "the responder's set after, sorted"),
             out("initiator_bytes", "uint", "bytes the initiator sent (message bytes, types included)"),
             out("responder_bytes", "uint", "bytes the responder sent")),
    raises=(SESSION_ERRORS, CONFIG_ERRORS), records=(SIDE, CONFIG, ROUND_MESSAGE, MESSAGE), notes=(STRICT_NOTE,)))
def conversation_pair(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: initiator, responder (sides), range. output: rounds, final sets, bytes sent."""
    sync = spec("sync")
    initiator = side_from_json(sync, inputs["initiator"])
    responder = side_from_json(sync, inputs["responder"])
    x, y = _range(inputs.get("range"))
    rounds = sync.sync_pair(initiator, responder, x, y)
    return {"rounds": [_round_json(sync, r) for r in rounds],
            "initiator_items": _all_items(initiator.store), "responder_items": _all_items(responder.store),
            "initiator_bytes": initiator.bytes_sent, "responder_bytes": responder.bytes_sent}


@handler("sync", "conversation", "probe", schema=Schema(
    page="sync-conversation-probe", summary="A probe session: one side asks for the other's fingerprint, count and "
    "sample of a range.",
    spec=("sync.md#probe_pair", "sync.md#reconciler", "sync.md#proberesult"),
    inputs=(inp("prober", "{SyncSide}", "the side that probes"), inp("responder", "{SyncSide}", "the other side"),
            RANGE),
    outputs=(out("rounds", "list<list<{RoundMessage}>>", "both rounds"),
             out("in_sync", "bool", "fingerprints and counts agree"), out("count", "uint", "the responder's count"),
             out("similarity", "text", "the MinHash estimate, shortest decimal string")),
    raises=(SESSION_ERRORS, CONFIG_ERRORS), records=(SIDE, CONFIG, ROUND_MESSAGE, MESSAGE)))
def conversation_probe(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: prober, responder (sides), range. output: rounds, in_sync, count, similarity."""
    sync = spec("sync")
    prober = side_from_json(sync, inputs["prober"])
    responder = side_from_json(sync, inputs["responder"])
    x, y = _range(inputs.get("range"))
    rounds, result = sync.probe_pair(prober, responder, x, y)
    return {"rounds": [_round_json(sync, r) for r in rounds], "in_sync": result.in_sync, "count": result.count,
            "similarity": similarity_text(result.similarity)}


@handler("sync", "conversation", "trace", schema=Schema(
    page="sync-conversation-trace", summary="One side against a scripted (possibly hostile) peer: its first round, "
    "its answer to each peer message, its set after and whether the session ended.",
    spec=("sync.md#reconciler", "sync.md#bounds-against-a-hostile-peer"),
    inputs=(inp("side", "{SyncSide}", "the side under test"),
            inp("initiate", "json", "{\"range\": [x, y] | null}: the side opens a session; {\"probe\": [x, y] | "
                "null}: it probes; null: it responds"),
            inp("peer", "list<{SyncMessage}>", "the peer's messages, in order"),
            inp("restart", "json", "{\"range\": [x, y] | null} or {\"probe\": [x, y] | null}: after the peer's "
                "messages the side is asked to open (or probe) again; absent: it is not", optional=True)),
    outputs=(out("first", "list<{SyncMessage}>", "the side's first round (empty for a responder)"),
             out("answers", "list<list<{SyncMessage}>>", "its answer to each peer message, then, when `restart` is "
                 "given to a side that had not started, the round of that start"),
             out("items", "list<hex:32>", "its set after, sorted"), out("done", "bool", "whether the session ended")),
    raises=(SESSION_ERRORS, CONFIG_ERRORS, RESTART_ERROR), records=(SIDE, CONFIG, MESSAGE), notes=(STRICT_NOTE,)))
def conversation_trace(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: side, initiate, peer (messages). output: first, answers, items, done."""
    sync = spec("sync")
    side = side_from_json(sync, inputs["side"])
    start = inputs.get("initiate")
    first: list[Any] = []
    if start is not None and "probe" in start:
        first = side.probe(*_range(start["probe"]))
    elif start is not None:
        first = side.initiate(*_range(start.get("range")))
    answers = []
    for data in inputs["peer"]:
        answers.append([message_to_json(sync, m) for m in side.handle(message_from_json(sync, data))])
    restart = inputs.get("restart")
    if restart is not None:
        again = side.probe(*_range(restart["probe"])) if "probe" in restart else side.initiate(*_range(restart.get("range")))
        answers.append([message_to_json(sync, m) for m in again])
    return {"first": [message_to_json(sync, m) for m in first], "answers": answers,
            "items": _all_items(side.store), "done": side.done}


@handler("sync", "multipeer", "delimiters", schema=Schema(
    page="sync-multipeer-delimiters", summary="The split-sync ranges of the ID space for a number of peers.",
    spec=("sync.md#split_delimiters", "sync.md#split_ranges"),
    inputs=(inp("peer_count", "uint", "peers"), inp("max_depth", "uint", "prefix bits the delimiters are aligned to")),
    outputs=(out("delimiters", "list<hex:32>", "the peer_count - 1 delimiters"),
             out("ranges", "list<list<hex:32>>", "[x, y] per peer")),
    raises=(raises("InvalidValue", ("bad_depth",), "a depth outside 1..64"),)))
def multipeer_delimiters(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: peer_count, max_depth. output: delimiters, ranges."""
    sync = spec("sync")
    delimiters = sync.split_delimiters(inputs["peer_count"], inputs["max_depth"])
    ranges = sync.split_ranges(inputs["peer_count"], inputs["max_depth"])
    return {"delimiters": [hexstr(d) for d in delimiters], "ranges": [[hexstr(x), hexstr(y)] for x, y in ranges]}


@handler("sync", "multipeer", "plan", schema=Schema(
    page="sync-multipeer-plan", summary="What one multi-peer round does after probing the peers: in sync, no peers, "
    "full sync with some peers, or split sync.",
    spec=("sync.md#plan_sync", "sync.md#syncplan"),
    inputs=(inp("local_count", "uint", "our set's size"),
            inp("probes", "list<{ProbeResult}|null>", "per peer, its probe result or null (no answer)"),
            inp("last_was_split", "bool", "whether the previous round was a split sync"),
            inp("config", "{MultiPeerConfig}", "the parameters", default={})),
    outputs=(out("kind", "enum:in_sync,no_peers,full,split", "what to do"),
             out("peers", "list<uint>", "the peers (indices into `probes`)"),
             out("ranges", "list<list<hex:32>>", "for a split sync, [x, y] per peer")),
    records=(PROBE, MULTI_CONFIG)))
def multipeer_plan(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: local_count, probes, last_was_split, config. output: kind, peers, ranges."""
    sync = spec("sync")
    probes = [None if p is None else sync.ProbeResult(bool(p["in_sync"]), as_int(p["count"]), float(p["similarity"]))
              for p in inputs["probes"]]
    values = dict(inputs.get("config") or {})
    if "min_complete_fraction" in values:
        values["min_complete_fraction"] = float(values["min_complete_fraction"])
    plan = sync.plan_sync(as_int(inputs["local_count"]), probes, bool(inputs["last_was_split"]),
                          sync.MultiPeerConfig(**values))
    return {"kind": plan.kind, "peers": list(plan.peers), "ranges": [[hexstr(x), hexstr(y)] for x, y in plan.ranges]}
