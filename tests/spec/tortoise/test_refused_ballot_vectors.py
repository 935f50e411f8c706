"""Ballots the tortoise refuses (tortoise/events/trace): an honest simulated trace, then ballots
made from its last ones with one thing wrong each (tortoise.md#decode_ballot). A refused ballot
changes nothing and is recorded as {"op": "ballot", "id", "error": reason}; the reason is known
by construction of each mutation (decode_ballot checks, in order: evicted layer, a known ID with
another opinion, the base, the epoch data or reference ballot, then the decoded votes).
"""

from __future__ import annotations

import attrs
import smspec.spec.tiny.tortoise as T
from smspec.conformance.cases import Case, vector_source
from smspec.tools.tortoise_sim import Scenario, Simulation


def new_id(n: int) -> str:
    return "0x" + bytes([0xEE, n]).hex() + "00" * 18


@vector_source("tortoise", "events", "trace", presets=("tiny",))
def test_refused_ballots():
    node = Simulation(T, Scenario(layers=12, smeshers=4, seed=1)).run().nodes[0]
    ballots = [e for e in node.events if e["op"] == "ballot"]
    last = ballots[-1]  # layer 19, refers to a reference ballot
    reference = next(b for b in reversed(ballots) if b.get("epoch_data") and b["smesher"] == last["smesher"])
    same_layer = next(b for b in ballots if b["layer"] == last["layer"] and b["id"] != last["id"])
    without = {k: v for k, v in last.items() if k not in ("ref", "epoch_data")}
    mutations = [
        ("opinion_mismatch", {**last, "opinion": "0x" + "11" * 32}, "a known ballot ID signing another opinion"),
        ("base_not_before_ballot", {**last, "id": new_id(1), "base": same_layer["id"]}, "a base ballot of the same layer"),
        ("atx_unknown", {**without, "id": new_id(2), "epoch_data": {**reference["epoch_data"]}, "atx": "0x" + "22" * 32},
         "epoch data with an ATX the tortoise does not know"),
        ("zero_eligibilities", {**without, "id": new_id(3), "atx": reference["atx"],
                                "epoch_data": {**reference["epoch_data"], "eligibilities": 0}},
         "epoch data declaring zero eligibilities (a Decision: go-spacemesh would panic)"),
        ("ref_ballot_unknown", {**without, "id": new_id(4), "ref": new_id(99)}, "a reference ballot never seen"),
        ("no_epoch_data", {**without, "id": new_id(6)}, "neither epoch data nor a reference ballot"),
        ("opinion_mismatch", {**last, "id": new_id(7), "opinion": "0x" + "33" * 32},
         "a new ballot whose votes do not hash to its signed opinion"),
    ]
    events = list(node.events)
    outputs = list(node.outputs)
    for reason, event, _ in mutations:
        events.append(event)
        outputs.append({"op": "ballot", "id": event["id"], "error": reason})
    config = {f.name: getattr(T.TortoiseConfig(), f.name) for f in attrs.fields(T.TortoiseConfig)}
    yield Case("refused_ballots", inputs={"config": config, "events": events, "depth": 8},
               expected={"outputs": outputs}, spec_ref="tortoise.md#decode_ballot",
               description="after an honest trace: " + "; ".join(f"{what} ({reason})" for reason, _, what in mutations))
    dangling = {**last, "id": new_id(8), "base": new_id(98)}
    yield Case("dangling_base", inputs={"config": config, "events": list(node.events) + [dangling], "depth": 8},
               expected={"outputs": list(node.outputs) + [{"op": "ballot", "id": dangling["id"],
                                                           "error": "dangling_base"}]},
               spec_ref="tortoise.md#decode_ballot",
               description="after an honest trace, a new ballot whose base ballot was never seen (dangling_base)")


@vector_source("tortoise", "events", "trace", presets=("tiny",))
def test_evicted_events():
    """A window of 2 layers: after an honest trace, events of an evicted epoch or layer change nothing,
    and a ballot of an evicted layer is refused (tortoise.md#decode_ballot, its first check)."""
    scenario = Scenario(layers=12, smeshers=4, seed=1, config={"window_size": 2})
    node = Simulation(T, scenario).run().nodes[0]
    first_ballot = next(e for e in node.events if e["op"] == "ballot")
    first_atx = next(e for e in node.events if e["op"] == "atx")
    assert first_ballot["layer"] == 8 and first_atx["epoch"] == 2
    late = [
        {**first_atx, "id": "0x" + "44" * 32},
        {"op": "block", "layer": 8, "id": new_id(0x40), "height": 200},
        {"op": "hare", "layer": 8, "block": new_id(0x40)},
        {"op": "weakcoin", "layer": 8, "coin": False},
        {**first_ballot, "id": new_id(0x41)},
    ]
    config = {f.name: getattr(T.TortoiseConfig(), f.name) for f in attrs.fields(T.TortoiseConfig)}
    config["window_size"] = 2
    yield Case("evicted_events", inputs={"config": config, "events": list(node.events) + late, "depth": 8},
               expected={"outputs": list(node.outputs) + [{"op": "ballot", "id": new_id(0x41), "error": "ballot_evicted"}]},
               spec_ref="tortoise.md#decode_ballot",
               description="window size 2, an honest 12-layer trace; then an epoch-2 ATX, a block, a Hare output and "
               "a weak coin of layer 8 (all evicted: no record) and a new ballot of layer 8 (ballot_evicted)")


@vector_source("tortoise", "events", "trace", presets=("tiny",))
def test_beacon_after_ballots():
    """Ballots are decoded and stored without their epoch's beacon and counted at the tally (tortoise.md
    `count_ballot_or_retry`): a beacon moved after the first layer's ballots (before its tally) changes no
    record; moved after that tally, the ballots wait and the node catches up."""
    node = Simulation(T, Scenario(layers=12, smeshers=4, seed=1)).run().nodes[0]
    events = list(node.events)
    last_epoch = max(e["epoch"] for e in events if e["op"] == "beacon")
    beacons = [i for i, e in enumerate(events) if e["op"] == "beacon" and e["epoch"] == last_epoch]
    tally = next(i for i in range(beacons[-1], len(events)) if events[i]["op"] == "tally")
    last_ballot = max(i for i in range(beacons[-1], tally) if events[i]["op"] == "ballot")
    held = [events[i] for i in beacons]
    others = [e for i, e in enumerate(events[:last_ballot + 1]) if i not in beacons]
    moved = others + held + events[last_ballot + 1:]
    assert len(moved) == len(events)
    config = {f.name: getattr(T.TortoiseConfig(), f.name) for f in attrs.fields(T.TortoiseConfig)}
    yield Case("beacon_after_ballots", inputs={"config": config, "events": moved, "depth": 8},
               expected={"outputs": list(node.outputs)}, spec_ref="tortoise.md#count_ballot_or_retry-count_ballot",
               description=f"an honest 12-layer trace whose epoch-{last_epoch} beacon arrives after that epoch's first "
               "ballots but before their tally: every record as in delivery order")
    late = [e for i, e in enumerate(events[:tally + 1]) if i not in beacons] + held + events[tally + 1:]
    tally_layer = events[tally]["layer"]
    in_order = list(node.outputs)

    def waited_then_caught_up(output: dict) -> None:
        records = output["outputs"]
        assert len(records) == len(in_order) and records[-3:] == in_order[-3:]
        got = next(r for r in records if r["op"] == "tally" and r["layer"] == tally_layer)
        want = next(r for r in in_order if r["op"] == "tally" and r["layer"] == tally_layer)
        assert got["verified"] < want["verified"]
        encode = next(r for r in records if r["op"] == "encode" and r["layer"] == tally_layer + 1)
        assert encode == {"op": "encode", "layer": tally_layer + 1, "error": "not_drained"}

    yield Case("beacon_after_tally", inputs={"config": config, "events": late, "depth": 8},
               check=waited_then_caught_up, spec_ref="tortoise.md#count_ballot_or_retry-count_ballot",
               description=f"the same trace with the epoch-{last_epoch} beacon delivered after the tally of layer "
               f"{tally_layer}: its ballots wait (that tally verifies less), encoding layer {tally_layer + 1} before "
               "the queue drains is refused (not_drained), and the last records equal the in-order trace's")


@vector_source("tortoise", "events", "trace", presets=("tiny",))
def test_late_queries():
    """After an honest trace: a repeated Hare output changes nothing, and the mesh reporting another
    opinion for an applied layer is told it differs (tortoise.md `on_applied`)."""
    node = Simulation(T, Scenario(layers=12, smeshers=4, seed=1)).run().nodes[0]
    events = list(node.events)
    last_hare = [e for e in events if e["op"] == "hare"][-1]
    last_applied = [e for e in events if e["op"] == "applied"][-1]
    late = [dict(last_hare), {"op": "applied", "layer": last_applied["layer"], "opinion": "0x" + "77" * 32}]
    config = {f.name: getattr(T.TortoiseConfig(), f.name) for f in attrs.fields(T.TortoiseConfig)}
    yield Case("late_queries", inputs={"config": config, "events": events + late, "depth": 8},
               expected={"outputs": list(node.outputs) + [{"op": "applied", "layer": last_applied["layer"],
                                                           "result": False}]},
               spec_ref="tortoise.md#on_applied",
               description=f"after an honest trace: layer {last_hare['layer']}'s Hare output again (no record), then "
               f"the mesh applying another opinion at layer {last_applied['layer']} (result false)")


@vector_source("tortoise", "events", "trace", presets=("tiny",))
def test_refused_configs_and_encodings():
    """Configurations and ATX weights the tortoise refuses (tortoise.md `new_tortoise`, `on_atx`), and
    opinions it cannot encode (tortoise.md `encode_votes`: no base ballot, too many exceptions)."""
    node = Simulation(T, Scenario(layers=12, smeshers=4, seed=1)).run().nodes[0]
    events = list(node.events)
    config = {f.name: getattr(T.TortoiseConfig(), f.name) for f in attrs.fields(T.TortoiseConfig)}
    yield Case("hdist_below_zdist", inputs={"config": {**config, "hdist": 1, "zdist": 2}, "events": []},
               error="SpecError", reason="invalid_config", spec_ref="tortoise.md#new_tortoise",
               description="hdist 1 below zdist 2: the configuration is refused (invalid_config)")
    yield Case("zero_window", inputs={"config": {**config, "window_size": 0}, "events": []},
               error="SpecError", reason="invalid_config", spec_ref="tortoise.md#new_tortoise",
               description="a window of 0 layers: the configuration is refused (invalid_config)")
    atx = next(e for e in events if e["op"] == "atx")
    yield Case("atx_weight_overflow", inputs={"config": config, "events": [{**atx, "weight": 2**63}]},
               error="SpecError", reason="atx_weight_overflow", spec_ref="tortoise.md#on_atx",
               description="an ATX of weight 2^63 (above int64): refused (atx_weight_overflow)")
    fresh = [{"op": "encode", "layer": 1}, {"op": "encode", "layer": 5}]
    yield Case("encode_without_ballots", inputs={"config": config, "events": fresh},
               expected={"outputs": [{"op": "encode", "layer": 1, "error": "no_base_ballot"},
                                     {"op": "encode", "layer": 5, "error": "no_base_ballot"}]},
               spec_ref="tortoise.md#encode_votes",
               description="a fresh node asked for an opinion in layers 1 and 5: no ballot to base it on "
               "(no_base_ballot)")
    first = min(e["layer"] for e in events if e["op"] == "ballot")
    refused = [{"op": "encode", "layer": r["layer"], "error": "too_many_exceptions"}
               if r["op"] == "encode" and r["layer"] > first else r for r in node.outputs]
    assert sum(r["op"] == "encode" for r in refused) >= 10
    yield Case("zero_exceptions", inputs={"config": {**config, "max_exceptions": 0}, "events": events, "depth": 8},
               expected={"outputs": refused}, spec_ref="tortoise.md#encode_votes",
               description="the honest 12-layer trace with max_exceptions 0: the opinion for the first layer of ballots "
               "(based on no earlier ballot) needs no exception; every later one needs at least one, so it is refused "
               "(too_many_exceptions); the tallies are the honest trace's")


@vector_source("tortoise", "events", "trace", presets=("tiny",))
def test_late_data_events():
    """After an honest trace, events that only add data produce no record (tortoise.md `on_block`,
    `update_reference_height`, `on_atx`, `on_beacon`): a block delivered again, a block of an epoch
    without ATXs, ATXs of the current and the next epoch; with a window of 2 layers, a beacon of an
    evicted epoch."""
    node = Simulation(T, Scenario(layers=12, smeshers=4, seed=1)).run().nodes[0]
    events = list(node.events)
    last_block = [e for e in events if e["op"] == "block"][-1]
    last_atx = [e for e in events if e["op"] == "atx"][-1]
    current = last_atx["epoch"]
    late = [dict(last_block), {"op": "block", "layer": 100, "id": new_id(0x50), "height": 5},
            {**last_atx, "id": "0x" + "55" * 32, "epoch": current},
            {**last_atx, "id": "0x" + "56" * 32, "epoch": current + 1}]
    config = {f.name: getattr(T.TortoiseConfig(), f.name) for f in attrs.fields(T.TortoiseConfig)}
    yield Case("late_data_events", inputs={"config": config, "events": events + late, "depth": 8},
               expected={"outputs": list(node.outputs)}, spec_ref="tortoise.md#on_block",
               description=f"after an honest trace: layer {last_block['layer']}'s block again, a block of layer 100 "
               f"(an epoch without ATXs), ATXs of epochs {current} and {current + 1}: no record")
    windowed = Simulation(T, Scenario(layers=12, smeshers=4, seed=1, config={"window_size": 2})).run().nodes[0]
    first_beacon = next(e for e in windowed.events if e["op"] == "beacon")
    yield Case("evicted_beacon", inputs={"config": {**config, "window_size": 2}, "depth": 8, "events": list(windowed.events) + [
                   {**first_beacon, "beacon": "0x01020304"}]},
               expected={"outputs": list(windowed.outputs)}, spec_ref="tortoise.md#on_beacon",
               description=f"window size 2, an honest 12-layer trace; then another beacon of epoch "
               f"{first_beacon['epoch']} (evicted): no record")


@vector_source("tortoise", "events", "trace", presets=("tiny",))
def test_malicious_ballots():
    """Ballots of a malicious identity (tortoise.md `store_ballot`, `encode_votes`): a ballot marked
    malicious is stored and counted like any other (no record); an identity proven malicious gives no
    base ballot, and the opinion hash does not depend on which base is chosen."""
    node = Simulation(T, Scenario(layers=12, smeshers=4, seed=1)).run().nodes[0]
    events = list(node.events)
    ballots = [e for e in events if e["op"] == "ballot"]
    last = ballots[-1]
    config = {f.name: getattr(T.TortoiseConfig(), f.name) for f in attrs.fields(T.TortoiseConfig)}
    marked = {**last, "id": new_id(0x60), "malicious": True}
    yield Case("late_malicious_ballot", inputs={"config": config, "events": events + [marked], "depth": 8},
               expected={"outputs": list(node.outputs)}, spec_ref="tortoise.md#store_ballot",
               description=f"after an honest trace, a ballot of layer {last['layer']} marked malicious, with the votes "
               "of the last ballot: stored, no record")
    layer = last["layer"]
    index = next(i for i, e in enumerate(events) if e["op"] == "ballot" and e["layer"] == layer)
    marked_first = events[:index] + [{**events[index], "malicious": True}] + events[index + 1:]
    honest = run_trace_encode(events, config, layer + 1)
    expected_records = list(node.outputs) + [honest]

    def skips_malicious_base(output: dict) -> None:
        records = output["outputs"]
        assert len(records) == len(expected_records)
        for got, want in zip(records, expected_records, strict=True):
            if want["op"] == "tally" and want["layer"] == layer:
                assert got["verified"] <= want["verified"], (got["verified"], want["verified"])
            else:
                assert got == want, (got, want)

    yield Case("malicious_first_base", inputs={"config": config, "events": marked_first + [
                   {"op": "encode", "layer": layer + 1}], "depth": 8},
               check=skips_malicious_base, spec_ref="tortoise.md#encode_votes",
               description=f"an honest trace whose first ballot of layer {layer} is marked malicious: it weighs nothing "
               f"in layer {layer}'s tally (which verifies no more than the honest one) and is skipped as base ballot; "
               f"the opinion for layer {layer + 1} has the honest hash (the hash does not depend on the base)")


def run_trace_encode(events: list, config: dict, layer: int) -> dict:
    """The encode record of `layer` after an honest trace, with no malfeasance."""
    from smspec.conformance.handlers.tortoise import config_from_json, run_trace

    out = run_trace(T, config_from_json(T, config), events + [{"op": "encode", "layer": layer}])
    return out[-1]


@vector_source("tortoise", "events", "trace", presets=("tiny",))
def test_repeated_tallies():
    """A tally of a layer already tallied moves nothing (tortoise.md `tally_votes`, `update_last`: the
    last layer only moves forward): its snapshot is the newest tally's."""
    node = Simulation(T, Scenario(layers=12, smeshers=4, seed=1)).run().nodes[0]
    events = list(node.events)
    tallies = [e for e in events if e["op"] == "tally"]
    newest = [r for r in node.outputs if r["op"] == "tally"][-1]
    config = {f.name: getattr(T.TortoiseConfig(), f.name) for f in attrs.fields(T.TortoiseConfig)}
    late = [dict(tallies[-1]), dict(tallies[-2])]
    yield Case("repeated_tallies", inputs={"config": config, "events": events + late, "depth": 8},
               expected={"outputs": list(node.outputs) + [newest, newest]}, spec_ref="tortoise.md#update_last",
               description=f"after an honest trace, the tally of layer {tallies[-1]['layer']} again and then of layer "
               f"{tallies[-2]['layer']}: both snapshots are the newest tally's (layer {newest['layer']})")
