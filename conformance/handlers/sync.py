"""Handlers of the ``sync/*`` vectors: set reconciliation (spec/sync.md).

Bytes are ``0x`` hex; integers above 2^53 are decimal strings. The vector format has no floats:
a ``max_diff`` is a decimal string (``"0.01"``, read as the nearest IEEE double, as a Go
constant is) and a similarity is the shortest decimal string that reads back as the exact double
(Python ``repr``, Go ``strconv.FormatFloat(f, 'g', -1, 64)``).

A *message* in JSON is ``{"type": T, ...fields}`` with T and fields:
``done``, ``end_round``, ``empty_set`` (no fields); ``empty_range`` (``x``, ``y``: 32-byte IDs or
null); ``fingerprint`` (``x``, ``y``, ``fingerprint`` (12 bytes), ``count``); ``range_contents``
(``x``, ``y``, ``count``); ``item_batch`` (``items``: IDs); ``probe`` (``x``, ``y``,
``fingerprint``, ``sample_size``); ``sample`` (``x``, ``y``, ``fingerprint``, ``count``,
``sample``: uint32s); ``recent`` (``since``).

A *side* of a session is ``{"items": [...], "config": {...}, "now": t, "reject": [IDs]}``; each
entry of ``items`` is an ID (received at time 0) or ``[ID, receipt time]``; ``config`` holds any of
``max_send_range``, ``item_chunk_size``, ``sample_size``, ``max_diff`` (decimal string or null),
``recent_time_span``, ``message_limit``, ``traffic_limit`` (the rest default); the validation
callback refuses exactly the IDs in ``reject``.

* ``message/encode``: inputs ``message``. Output ``{"encoded"}``; ``InvalidValue`` for a value
  the wire cannot carry.
* ``message/decode``: inputs ``encoded``. Output ``{"message", "reencoded"}`` (the canonical
  encoding of what was read); ``InvalidEncoding`` with its reason.
* ``fingerprint/range``: inputs ``items`` (IDs), ``x``, ``y``. Output ``{"fingerprint", "count",
  "items"}`` (the range's IDs in range order).
* ``fingerprint/split``: inputs ``items``, ``x``, ``y``, ``count``. Output ``{"middle", "first",
  "second"}`` (each ``{"fingerprint", "count"}``); ``InvalidValue`` (``bad_split``).
* ``minhash/sample``: inputs ``items``, ``x``, ``y``, ``sample_size``. Output ``{"sample"}``.
* ``minhash/similarity``: inputs ``local``, ``remote`` (uint32 lists), ``max_diff``. Output
  ``{"similarity", "too_different"}``.
* ``conversation/pair``: inputs ``initiator`` and ``responder`` (sides), ``range`` (``[x, y]`` or
  null: the whole set). Output ``{"rounds", "initiator_items", "responder_items",
  "initiator_bytes", "responder_bytes"}``: every round, the initiator's first, as a list of
  ``{"message", "encoded"}``; the final sets; the bytes each side sent. ``SyncError`` (with its
  reason) when a side ends the session.
* ``conversation/probe``: inputs ``prober`` and ``responder`` (sides), ``range``. Output
  ``{"rounds", "in_sync", "count", "similarity"}``.
* ``conversation/trace``: one side against a scripted peer. Inputs ``side``, ``initiate``
  (``{"range": [x, y] | null}`` to start as initiator, ``{"probe": [x, y] | null}`` to probe, or
  null to respond), ``peer`` (the peer's messages in order). Output ``{"first", "answers",
  "items", "done"}``: the side's first round (empty for a responder), its answer to each peer
  message, its final set and whether the session ended. ``SyncError`` when the side refuses a
  message.
* ``multipeer/delimiters``: inputs ``peer_count``, ``max_depth``. Output ``{"delimiters",
  "ranges"}``.
* ``multipeer/plan``: inputs ``local_count``, ``probes`` (each null or ``{"in_sync", "count",
  "similarity"}`` with a decimal-string similarity), ``last_was_split``, ``config`` (any of the
  ``MultiPeerConfig`` fields; ``min_complete_fraction`` a decimal string). Output ``{"kind",
  "peers", "ranges"}``.
"""

from __future__ import annotations

from typing import Any

from smspec.conformance.handlers import as_int, handler, hexbytes, hexstr


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
    return hexbytes(data[0]), hexbytes(data[1])


def _round_json(sync: Any, messages: list[Any]) -> list[dict[str, Any]]:
    return [{"message": message_to_json(sync, m), "encoded": hexstr(sync.encode_message(m))} for m in messages]


def _all_items(store: Any) -> list[str]:
    first = store.first()
    return [] if first is None else [hexstr(key) for key in store.range_items(first, first, None)]


@handler("sync", "message", "encode")
def message_encode(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: message (JSON). output: encoded."""
    sync = spec("sync")
    return {"encoded": hexstr(sync.encode_message(message_from_json(sync, inputs["message"])))}


@handler("sync", "message", "decode")
def message_decode(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: encoded. output: message (JSON), reencoded (the canonical encoding)."""
    sync = spec("sync")
    message = sync.decode_message(hexbytes(inputs["encoded"]))
    return {"message": message_to_json(sync, message), "reencoded": hexstr(sync.encode_message(message))}


@handler("sync", "fingerprint", "range")
def fingerprint_range(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: items, x, y. output: fingerprint, count, items (in range order)."""
    sync = spec("sync")
    store = sync.new_item_store(_items(inputs["items"]))
    x, y = hexbytes(inputs["x"], 32), hexbytes(inputs["y"], 32)
    info = store.range_info(x, y)
    return {"fingerprint": hexstr(info.fingerprint), "count": info.count,
            "items": [hexstr(key) for key in store.range_items(x, y, None)]}


@handler("sync", "fingerprint", "split")
def fingerprint_split(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: items, x, y, count. output: middle, first, second."""
    sync = spec("sync")
    store = sync.new_item_store(_items(inputs["items"]))
    split = store.split_range(hexbytes(inputs["x"], 32), hexbytes(inputs["y"], 32), inputs["count"])
    return {"middle": hexstr(split.middle),
            "first": {"fingerprint": hexstr(split.first.fingerprint), "count": split.first.count},
            "second": {"fingerprint": hexstr(split.second.fingerprint), "count": split.second.count}}


@handler("sync", "minhash", "sample")
def minhash_sample(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: items, x, y, sample_size. output: sample."""
    sync = spec("sync")
    store = sync.new_item_store(_items(inputs["items"]))
    sample = sync.minhash_sample(store, hexbytes(inputs["x"], 32), hexbytes(inputs["y"], 32), inputs["sample_size"])
    return {"sample": list(sample)}


@handler("sync", "minhash", "similarity")
def minhash_similarity(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: local, remote (uint32 lists), max_diff (decimal string). output: similarity, too_different."""
    sync = spec("sync")
    similarity = sync.jaccard_estimate([as_int(v) for v in inputs["local"]], [as_int(v) for v in inputs["remote"]])
    return {"similarity": similarity_text(similarity),
            "too_different": sync.too_different(similarity, float(inputs["max_diff"]))}


@handler("sync", "conversation", "pair")
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


@handler("sync", "conversation", "probe")
def conversation_probe(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: prober, responder (sides), range. output: rounds, in_sync, count, similarity."""
    sync = spec("sync")
    prober = side_from_json(sync, inputs["prober"])
    responder = side_from_json(sync, inputs["responder"])
    x, y = _range(inputs.get("range"))
    rounds, result = sync.probe_pair(prober, responder, x, y)
    return {"rounds": [_round_json(sync, r) for r in rounds], "in_sync": result.in_sync, "count": result.count,
            "similarity": similarity_text(result.similarity)}


@handler("sync", "conversation", "trace")
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
    return {"first": [message_to_json(sync, m) for m in first], "answers": answers,
            "items": _all_items(side.store), "done": side.done}


@handler("sync", "multipeer", "delimiters")
def multipeer_delimiters(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: peer_count, max_depth. output: delimiters, ranges."""
    sync = spec("sync")
    delimiters = sync.split_delimiters(inputs["peer_count"], inputs["max_depth"])
    ranges = sync.split_ranges(inputs["peer_count"], inputs["max_depth"])
    return {"delimiters": [hexstr(d) for d in delimiters], "ranges": [[hexstr(x), hexstr(y)] for x, y in ranges]}


@handler("sync", "multipeer", "plan")
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
