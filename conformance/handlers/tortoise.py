"""Tortoise vector handlers and the event-trace format they share with the simulator.

Event traces (one JSON object per event, field ``op``) drive one node's tortoise:

=============  ==========================================================================
op             fields
=============  ==========================================================================
atx            epoch, id (hex 32), node (hex 32), weight, height
beacon         epoch, beacon (hex 4)
weakcoin       layer, coin (bool)
block          layer, id (hex 20), height
hare           layer, block (hex 20; all zeroes = empty layer)
malfeasance    node (hex 32)
ballot         id (hex 20), smesher, layer, atx (hex 32), eligibilities, opinion (hex 32),
               base (hex 20), support/against ([[id, layer, height]...]), abstain ([layer...]),
               and either epoch_data {beacon, eligibilities} or ref (hex 20); malicious (bool)
tally          layer
encode         layer (the layer of the new ballot)
applied        layer, opinion (hex 32)
updates        (none): the mesh takes ``updates()`` and applies each layer (``on_applied``)
mode           (none): records the counting mode
latest         (none): records the last verified layer (``latest_complete``)
=============  ==========================================================================

A ballot event decodes and stores the ballot; a refused ballot is recorded as
``{"op": "ballot", "error": reason}`` in the outputs. After each ``tally`` the runner records a
snapshot: verified layer, mode, and for each layer from ``max(evicted + 1, processed - depth)`` to
``processed`` its opinion hash and its valid and invalid block ids. ``encode`` records the
opinion hash (or the error reason). ``updates`` records, per updated layer, its verified flag and
each block's header and flags (valid, invalid, hare, data, local), as go-spacemesh
``Tortoise.Updates`` reports them (opinion hashes left out, as upstream tests do). A trace may
list the kinds of records it wants (``record``); by default all are kept.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from smspec.conformance.handlers import as_int, handler, hexbytes, hexstr
from smspec.conformance.schema import Record, Schema, inp, out, raises

SNAPSHOT_DEPTH = 8
EVENTS_NOTE = ("Event traces: one JSON object per event with field `op` (atx, beacon, weakcoin, block, hare, "
               "malfeasance, ballot, tally, encode, applied, updates, mode, latest); the fields of each op and the records "
               "the runner keeps are described in this module's docstring (conformance/handlers/tortoise.py) and "
               "docs/tortoise.md, \"Event traces\".")
CONFIG = Record("TortoiseConfig", "Overrides of the preset's TortoiseConfig (tortoise.md#tortoiseconfig); absent "
                "fields keep the preset's value (presets/<preset>.json).", (
    inp("layers_per_epoch", "uint", "layers per epoch", optional=True), inp("hdist", "uint", "hdist", optional=True),
    inp("zdist", "uint", "zdist", optional=True), inp("window_size", "uint", "window size", optional=True),
    inp("historical_window_end", "uint", "historical window end", optional=True),
    inp("historical_window_size", "uint", "historical window size", optional=True),
    inp("max_exceptions", "uint", "max exceptions", optional=True),
    inp("bad_beacon_vote_delay_layers", "uint", "bad beacon vote delay", optional=True),
))
VOTE = Record("ChainBallot", "A ballot's votes (tortoise.md#votes).", (
    inp("layer", "uint:32", "the ballot's layer"),
    inp("base", "hex:20", "the base ballot ID", default="0x" + "00" * 20),
    inp("support", "list<list<json>>", "supported blocks as [id (20 bytes), layer, height]", default=[]),
    inp("against", "list<list<json>>", "blocks voted against, same form", default=[]),
    inp("abstain", "list<uint>", "layers abstained", default=[]),
    inp("base_index", "int", "the base ballot's index in the chain; -1: the genesis ballot", default=-1),
))


def header_from_json(tortoise: Any, item: list) -> Any:
    return tortoise.BlockHeader(id=hexbytes(item[0], 20), layer=int(item[1]), height=as_int(item[2]))


def header_to_json(header: Any) -> list:
    return [hexstr(header.id), header.layer, header.height]


def votes_from_json(tortoise: Any, data: dict) -> Any:
    return tortoise.Votes(
        base=hexbytes(data.get("base", "0x" + "00" * 20), 20),
        support=tuple(header_from_json(tortoise, h) for h in data.get("support", [])),
        against=tuple(header_from_json(tortoise, h) for h in data.get("against", [])),
        abstain=tuple(int(x) for x in data.get("abstain", [])),
    )


def votes_to_json(votes: Any) -> dict:
    return {
        "base": hexstr(votes.base),
        "support": [header_to_json(h) for h in votes.support],
        "against": [header_to_json(h) for h in votes.against],
        "abstain": list(votes.abstain),
    }


def ballot_from_json(tortoise: Any, event: dict) -> Any:
    epoch_data = None
    if event.get("epoch_data") is not None:
        epoch_data = tortoise.ReferenceData(
            beacon=hexbytes(event["epoch_data"]["beacon"], 4),
            eligibilities=int(event["epoch_data"]["eligibilities"]),
        )
    return tortoise.BallotData(
        id=hexbytes(event["id"], 20),
        smesher=hexbytes(event["smesher"], 32),
        layer=int(event["layer"]),
        atx_id=hexbytes(event["atx"], 32),
        eligibilities=int(event["eligibilities"]),
        opinion=tortoise.Opinion(hash=hexbytes(event["opinion"], 32), votes=votes_from_json(tortoise, event)),
        epoch_data=epoch_data,
        ref=hexbytes(event["ref"], 20) if event.get("ref") else None,
        malicious=bool(event.get("malicious", False)),
    )


def ballot_to_json(ballot: Any) -> dict:
    event: dict[str, Any] = {
        "op": "ballot",
        "id": hexstr(ballot.id),
        "smesher": hexstr(ballot.smesher),
        "layer": ballot.layer,
        "atx": hexstr(ballot.atx_id),
        "eligibilities": ballot.eligibilities,
        "opinion": hexstr(ballot.opinion.hash),
        **votes_to_json(ballot.opinion.votes),
    }
    if ballot.epoch_data is not None:
        event["epoch_data"] = {"beacon": hexstr(ballot.epoch_data.beacon),
                               "eligibilities": ballot.epoch_data.eligibilities}
    else:
        event["ref"] = hexstr(ballot.ref)
    if ballot.malicious:
        event["malicious"] = True
    return event


def config_from_json(tortoise: Any, data: dict | None) -> Any:
    """A TortoiseConfig: the module's preset defaults with the given fields replaced."""
    return _evolve(tortoise.TortoiseConfig(), {name: int(value) for name, value in (data or {}).items()})


def _evolve(config: Any, fields: dict) -> Any:
    import attrs

    return attrs.evolve(config, **fields)


def snapshot(tortoise: Any, state: Any, depth: int = SNAPSHOT_DEPTH) -> dict:
    """Verified layer, mode and the newest layers' opinions and block validity."""
    first = max(state.evicted + 1, state.processed - depth)
    layers = []
    for result in tortoise.layer_results(state, first, state.processed):
        layers.append({
            "layer": result.layer,
            "opinion": hexstr(result.opinion),
            "valid": [hexstr(b.header.id) for b in result.blocks if b.valid],
            "invalid": [hexstr(b.header.id) for b in result.blocks if b.invalid],
        })
    return {"layer": state.last, "verified": state.verified, "mode": "full" if state.is_full else "verifying",
            "layers": layers}


def apply_event(tortoise: Any, state: Any, event: dict, depth: int = SNAPSHOT_DEPTH) -> dict | None:
    """Apply one event to a node's state; returns the output record for tally/encode/errors."""
    op = event["op"]
    if op == "atx":
        tortoise.on_atx(state, int(event["epoch"]), hexbytes(event["id"], 32),
                        tortoise.AtxData(node=hexbytes(event["node"], 32), weight=as_int(event["weight"]),
                                         height=as_int(event["height"])))
    elif op == "beacon":
        tortoise.on_beacon(state, int(event["epoch"]), hexbytes(event["beacon"], 4))
    elif op == "weakcoin":
        tortoise.on_weak_coin(state, int(event["layer"]), bool(event["coin"]))
    elif op == "block":
        tortoise.on_block(state, tortoise.BlockHeader(id=hexbytes(event["id"], 20), layer=int(event["layer"]),
                                                      height=as_int(event["height"])))
    elif op == "hare":
        tortoise.on_hare_output(state, int(event["layer"]), hexbytes(event["block"], 20))
    elif op == "malfeasance":
        tortoise.on_malfeasance(state, hexbytes(event["node"], 32))
    elif op == "ballot":
        try:
            tortoise.on_ballot(state, ballot_from_json(tortoise, event))
        except tortoise.InvalidBallot as error:
            return {"op": "ballot", "id": event["id"], "error": error.reason}
    elif op == "tally":
        tortoise.tally_votes(state, int(event["layer"]))
        return {"op": "tally", **snapshot(tortoise, state, depth)}
    elif op == "encode":
        try:
            opinion = tortoise.encode_votes(state, int(event["layer"]))
        except tortoise.EncodeVotesError as error:
            return {"op": "encode", "layer": int(event["layer"]), "error": error.reason}
        return {"op": "encode", "layer": int(event["layer"]), "opinion": hexstr(opinion.hash)}
    elif op == "applied":
        ok = tortoise.on_applied(state, int(event["layer"]), hexbytes(event["opinion"], 32))
        return {"op": "applied", "layer": int(event["layer"]), "result": ok}
    elif op == "updates":
        layers = []
        for result in tortoise.updates(state):
            tortoise.on_applied(state, result.layer, result.opinion)
            layers.append({"layer": result.layer, "verified": result.verified, "blocks": [
                {"id": hexstr(b.header.id), "height": b.header.height, "valid": b.valid, "invalid": b.invalid,
                 "hare": b.hare, "data": b.data, "local": b.local} for b in result.blocks]})
        return {"op": "updates", "layers": layers}
    elif op == "mode":
        return {"op": "mode", "mode": "full" if state.is_full else "verifying"}
    elif op == "latest":
        return {"op": "latest", "layer": tortoise.latest_complete(state)}
    else:
        raise ValueError(f"unknown tortoise event op {op!r}")
    return None


def run_trace(tortoise: Any, config: Any, events: Iterable[dict], depth: int = SNAPSHOT_DEPTH,
              record: Collection[str] | None = None) -> list[dict]:
    """Run an event trace on a fresh node; returns the output records (of the kinds in `record`)."""
    return apply_events(tortoise, tortoise.new_tortoise(config), events, depth, record)


def apply_events(tortoise: Any, state: Any, events: Iterable[dict], depth: int = SNAPSHOT_DEPTH,
                 record: Collection[str] | None = None) -> list[dict]:
    """Apply events in order to a node's state (a trace; a node replaying its store); returns the
    output records (of the kinds in `record`). Each stretch of consecutive ballot events goes in
    one ``on_ballots`` call, which is on_ballot on each of them in order, refusals in their places."""
    outputs = []
    ballots: list[tuple[dict, Any]] = []

    def deliver() -> None:
        refusals = tortoise.on_ballots(state, [ballot for _, ballot in ballots])
        for (event, _), refusal in zip(ballots, refusals):
            if refusal is not None and (record is None or "ballot" in record):
                outputs.append({"op": "ballot", "id": event["id"], "error": refusal.reason})
        ballots.clear()

    for event in events:
        if isinstance(event, dict) and event.get("op") == "ballot":
            try:
                ballot = ballot_from_json(tortoise, event)
            except Exception:
                deliver()  # the ballots before a malformed one are delivered first, as one by one
                raise
            ballots.append((event, ballot))
            continue
        if ballots:
            deliver()
        out = apply_event(tortoise, state, event, depth)
        if out is not None and (record is None or out["op"] in record):
            outputs.append(out)
    if ballots:
        deliver()
    return outputs


@handler("tortoise", "opinion_hash", "chain", schema=Schema(
    page="tortoise-opinion_hash-chain", summary="The opinion hash chained over layers.",
    spec=("tortoise.md#opinion_hash",),
    inputs=(inp("layers", "list<{LayerVote}>", "layers from the first, without a previous hash"),),
    outputs=(out("opinion", "hex:32", "the last layer's opinion hash"),),
    records=(Record("LayerVote", "One layer's vote.", (
        inp("abstain", "bool", "the layer is abstained", default=False),
        inp("support", "list<list<json>>", "supported blocks as [id (20 bytes), height]", default=[]))),)))
def opinion_hash_chain(inputs: dict, spec) -> dict:
    """inputs: layers: list of {abstain: bool, support: [[id hex 20, height]]} starting without a
    previous hash. output: opinion (hex 32) of the last layer."""
    tortoise = spec("tortoise")
    previous = None
    for layer in inputs["layers"]:
        blocks = sorted((tortoise.BlockHeader(id=hexbytes(i, 20), layer=0, height=as_int(h))
                         for i, h in layer.get("support", [])), key=tortoise.block_order_key)
        previous = tortoise.opinion_hash(previous, blocks, bool(layer.get("abstain", False)))
    return {"opinion": hexstr(previous)}


@handler("tortoise", "thresholds", "global", schema=Schema(
    page="tortoise-thresholds-global", summary="The global threshold of a target layer.",
    spec=("tortoise.md#global_threshold",),
    inputs=(inp("layers_per_epoch", "uint", "layers per epoch"), inp("window_size", "uint", "window size"),
            inp("historical_window_end", "uint", "historical window end", default=0),
            inp("historical_window_size", "uint", "historical window size", default=0),
            inp("epochs", "map<uint>", "epoch (decimal key) → its weight"), inp("target", "uint", "the target layer"),
            inp("processed", "uint", "the last processed layer"), inp("last", "uint", "the last layer"),
            inp("local_threshold_raw", "uint", "the local threshold in 2^-56 units", default=0)),
    outputs=(out("threshold_raw", "uint", "the threshold in 2^-56 units (a decimal string)"),)))
def global_threshold(inputs: dict, spec) -> dict:
    """inputs: layers_per_epoch, window_size, historical_window_end/size (optional), epochs
    {epoch: weight (integer)}, target, processed, last, local_threshold_raw (optional, 2^-56 units).
    output: threshold_raw (2^-56 units, decimal string)."""
    tortoise = spec("tortoise")
    config = tortoise.TortoiseConfig(
        layers_per_epoch=int(inputs["layers_per_epoch"]), window_size=int(inputs["window_size"]),
        historical_window_end=int(inputs.get("historical_window_end", 0)),
        historical_window_size=int(inputs.get("historical_window_size", 0)),
    )
    state = tortoise.Tortoise(config=config, last=int(inputs["last"]), processed=int(inputs["processed"]),
                              verified=0, evicted=0, pending=0,
                              local_threshold=as_int(inputs.get("local_threshold_raw", 0)))
    for epoch, weight in inputs["epochs"].items():
        state.epochs[int(epoch)] = tortoise.EpochInfo(weight=tortoise.fixed_from_int(as_int(weight)))
    return {"threshold_raw": str(tortoise.global_threshold(state, int(inputs["target"])))}


@handler("tortoise", "thresholds", "ballot_weight", schema=Schema(
    page="tortoise-thresholds-ballot_weight", summary="A ballot's weight: the ATX weight over the epoch's "
    "eligibilities, times the ballot's eligibilities, in 2^-56 units.",
    spec=("tortoise.md#ballot_weight",),
    inputs=(inp("atx_weight", "uint", "the ATX's weight"), inp("epoch_eligibilities", "uint", "eligibilities of the epoch"),
            inp("eligibilities", "uint", "the ballot's eligibilities")),
    outputs=(out("weight_raw", "uint", "the weight in 2^-56 units (a decimal string)"),)))
def ballot_weight(inputs: dict, spec) -> dict:
    """inputs: atx_weight, epoch_eligibilities, eligibilities. output: weight_raw (2^-56 units)."""
    tortoise = spec("tortoise")
    num, den = tortoise.reduce_fraction(as_int(inputs["atx_weight"]), as_int(inputs["epoch_eligibilities"]))
    return {"weight_raw": str(tortoise.ballot_weight(num, den, as_int(inputs["eligibilities"])))}


@handler("tortoise", "thresholds", "median", schema=Schema(
    page="tortoise-thresholds-median", summary="The median tick height.",
    spec=("tortoise.md#median_height",),
    inputs=(inp("heights", "list<uint>", "tick heights"),),
    outputs=(out("median", "uint", "the median (a decimal string)"),)))
def median(inputs: dict, spec) -> dict:
    """inputs: heights (list of ints). output: median."""
    tortoise = spec("tortoise")
    return {"median": str(tortoise.median_height([as_int(h) for h in inputs["heights"]]))}


@handler("tortoise", "votes", "decode", schema=Schema(
    page="tortoise-votes-decode", summary="Decode a chain of ballots' votes, each relative to its base.",
    spec=("tortoise.md#decode_votes",),
    inputs=(inp("layers_per_epoch", "uint", "layers per epoch"), inp("chain", "list<{ChainBallot}>", "ballots, in order")),
    outputs=(out("ballots", "list<json>", "per ballot {opinion: hex32, layers: [[layer, vote, [block IDs]], ...]}"),),
    raises=(raises("InvalidBallot", ("conflicting_votes", "conflict_with_abstain", "wrong_target"),
                   "votes that cannot be decoded"),), records=(VOTE,)))
def decode_votes(inputs: dict, spec) -> dict:
    """inputs: layers_per_epoch, chain: list of ballots {layer, base, support, against, abstain}
    decoded in order (each may name an earlier one of the chain as base by its index "base_index",
    or -1 for the genesis ballot). output: per ballot {opinion, layers: [[layer, vote, [ids]]]}.
    A decoding error raises InvalidBallot with its reason."""
    tortoise = spec("tortoise")
    config = tortoise.TortoiseConfig(layers_per_epoch=int(inputs["layers_per_epoch"]))
    genesis = tortoise.effective_genesis(config)
    decoded: list = []
    outputs = []
    for item in inputs["chain"]:
        index = int(item.get("base_index", -1))
        base_layer, base_votes = (genesis, None) if index < 0 else (decoded[index][0], decoded[index][1])
        votes = votes_from_json(tortoise, item)
        tail, _ = tortoise.decode_votes(int(item["layer"]), base_layer, base_votes, votes)
        decoded.append((int(item["layer"]), tail))
        layers = []
        vote = tail
        while vote is not None:
            layers.append([vote.layer, vote.vote, [hexstr(b.id) for b in vote.supported]])
            vote = vote.prev
        outputs.append({"opinion": hexstr(tortoise.votes_opinion(tail)), "layers": layers[::-1]})
    return {"ballots": outputs}


@handler("tortoise", "events", "trace", schema=Schema(
    page="tortoise-events-trace", summary="Run an event trace through one node's tortoise; the records of "
    "tally/encode/applied/updates/mode events and of refused ballots, in order.",
    spec=("tortoise.md#tally_votes", "tortoise.md#on_ballot", "tortoise.md#on_ballots", "tortoise.md#encode_votes"),
    inputs=(inp("config", "{TortoiseConfig}", "overrides of the preset's configuration", default={}),
            inp("events", "list<json>", "the events (see the notes)"),
            inp("depth", "uint", "layers below the processed one in each tally snapshot", default=SNAPSHOT_DEPTH),
            inp("record", "list<text>|null", "the record kinds to keep; null: all", default=None)),
    outputs=(out("outputs", "list<json>", "the records"),), records=(CONFIG,), notes=(EVENTS_NOTE,),
    raises=(raises("SpecError", "invalid_config", "hdist below zdist, or a window of 0 layers"),
            raises("SpecError", "atx_weight_overflow", "an ATX weight above int64"))))
def event_trace(inputs: dict, spec) -> dict:
    """inputs: config (TortoiseConfig fields), events (format: docs/tortoise.md, "Event traces"), depth (optional),
    record (optional list of record kinds to keep). output: outputs: the records of
    tally/encode/applied/updates/mode events and refused ballots, in order."""
    tortoise = spec("tortoise")
    config = config_from_json(tortoise, inputs.get("config"))
    return {"outputs": run_trace(tortoise, config, inputs["events"], int(inputs.get("depth", SNAPSHOT_DEPTH)),
                                 inputs.get("record"))}
