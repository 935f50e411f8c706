"""Reading and replaying tortoise traces (tooling).

Two formats are understood:

* **smspec traces**: a JSON object ``{"format": "smspec-tortoise-trace/1", "config": {...},
  "events": [...], "outputs": [...]}`` as written by ``smspec tortoise simulate --save``; the
  events are those of :mod:`smspec.conformance.handlers.tortoise`; ``outputs`` (optional) are the
  expected records.
* **go-spacemesh traces** (``tortoise/tracer.go``), JSON lines ``{"t": type, "o": event}``, in the
  May-2023 schema of the four historical traces kept in the workplace (tortoise.md §8.3): 1
  config, 2 weak coin, 3 beacon, 4 ATX, 6 decode ballot, 7 store ballot, 8 encode votes, 9 tally,
  10 block, 11 hare output, 13 results, 14 updates. Ballots carry no smesher id in that schema; the
  ATX's node id is used. Their expectations (encoded opinion hashes, per-layer opinions, verified
  flags and block validity) are compared with what the spec computes.

The historical traces are not exact oracles of go-spacemesh at the pinned commit: the opinion
handling was reworked after they were recorded (June 2023) and the active set left the tortoise
in September 2023 (PR #5002). ``replay_legacy`` therefore reports agreement per kind of check
instead of failing at the first difference.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smspec.conformance.handlers import hexstr
from smspec.conformance.handlers import tortoise as events_mod

SMSPEC_FORMAT = "smspec-tortoise-trace/1"


class TraceError(ValueError):
    """A trace file that cannot be read."""


def _b64hex(text: str | None, size: int) -> str:
    if not text:
        return "0x" + "00" * size
    raw = base64.b64decode(text)
    if len(raw) != size:
        raise TraceError(f"expected {size} bytes, got {len(raw)}")
    return hexstr(raw)


def _hexhash(text: str) -> str:
    return text if text.startswith("0x") else "0x" + text


def load(path: Path) -> tuple[str, Any]:
    """("smspec", trace object) or ("legacy", list of (type, event))."""
    try:
        text = path.read_text()
    except OSError as error:
        raise TraceError(f"cannot read {path}: {error.strerror}") from None
    return parse(text, path)


def parse(text: str, path: Path) -> tuple[str, Any]:
    """`load` of the text of the trace file `path`."""
    stripped = text.lstrip()
    if not stripped:
        raise TraceError(f"{path} is empty")
    if stripped.startswith("{") and '"format"' in stripped[:200]:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise TraceError(f"{path}: invalid JSON: {error.msg} at line {error.lineno}") from None
        if data.get("format") != SMSPEC_FORMAT:
            raise TraceError(f"{path}: unknown trace format {data.get('format')!r}")
        return "smspec", data
    events = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            events.append((int(item["t"]), item["o"]))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            raise TraceError(f"{path}:{number}: not a go-spacemesh trace line") from None
    return "legacy", events


@dataclass
class LegacyReport:
    checks: Counter = field(default_factory=Counter)
    mismatches: Counter = field(default_factory=Counter)
    examples: list = field(default_factory=list)
    config: dict = field(default_factory=dict)
    events: list = field(default_factory=list)

    def check(self, kind: str, ok: bool, detail: str) -> None:
        self.checks[kind] += 1
        if not ok:
            self.mismatches[kind] += 1
            if len(self.examples) < 10:
                self.examples.append(f"{kind}: {detail}")


def legacy_config(tortoise: Any, event: dict) -> Any:
    if "epoch-size" not in event:
        raise TraceError("this go-spacemesh trace uses the 2023-05-30 schema (Go field names, full ATX "
                         "bodies), which is not supported; traces from 2023-05-31 on are")
    return events_mod.config_from_json(tortoise, {
        "layers_per_epoch": event["epoch-size"], "hdist": event["hdist"], "zdist": event["zdist"],
        "window_size": event["window"], "max_exceptions": event["exceptions"],
        "bad_beacon_vote_delay_layers": event["delay"], "historical_window_end": 0,
    })


def _legacy_ballot(event: dict, atx_nodes: dict) -> dict:
    ballot = event["Ballot"]
    opinion = ballot["opinion"]
    header = lambda h: [_b64hex(h["id"], 20), h["lid"], h["height"]]  # noqa: E731
    atx = _b64hex(ballot["atxid"], 32)
    out = {
        "op": "ballot", "id": _b64hex(ballot["id"], 20), "smesher": atx_nodes.get(atx, "0x" + "00" * 32),
        "layer": ballot["lid"], "atx": atx, "eligibilities": ballot["elig"],
        "opinion": _hexhash(opinion["hash"]), "base": _b64hex(opinion.get("base"), 20),
        "support": [header(h) for h in opinion.get("support") or []],
        "against": [header(h) for h in opinion.get("against") or []],
        "abstain": list(opinion.get("abstain") or []),
        "malicious": bool(ballot.get("mal")),
    }
    if ballot.get("epochdata"):
        out["epoch_data"] = {"beacon": _b64hex(ballot["epochdata"]["beacon"], 4),
                             "eligibilities": ballot["epochdata"]["elig"]}
    else:
        out["ref"] = _b64hex(ballot["ref"], 20)
    return out


def replay_legacy(tortoise: Any, events: list, progress: Any = None) -> LegacyReport:
    """Replay a go-spacemesh (May 2023) trace on a fresh node and compare its expectations."""
    report = LegacyReport()
    if not events or events[0][0] != 1:
        raise TraceError("a go-spacemesh trace starts with its config event (type 1)")
    config = legacy_config(tortoise, events[0][1])
    report.config = {"hdist": config.hdist, "zdist": config.zdist, "window": config.window_size,
                     "layers_per_epoch": config.layers_per_epoch, "delay": config.bad_beacon_vote_delay_layers}
    state = tortoise.new_tortoise(config)
    atx_nodes: dict = {}
    decoded: dict = {}
    for kind, event in events[1:]:
        if progress is not None:
            progress.update(1)
        if kind == 2:
            tortoise.on_weak_coin(state, event["lid"], bool(event["coin"]))
        elif kind == 3:
            tortoise.on_beacon(state, event["epoch"], base64.b64decode(event["beacon"]))
        elif kind == 4:
            header = event["Header"]
            atx = _b64hex(header["id"], 32)
            atx_nodes[atx] = _b64hex(header["node"], 32)
            tortoise.on_atx(state, header["target"], bytes.fromhex(atx[2:]),
                            tortoise.AtxData(node=bytes.fromhex(atx_nodes[atx][2:]), weight=header["weight"],
                                             height=header["height"]))
        elif kind == 6:
            ballot = events_mod.ballot_from_json(tortoise, _legacy_ballot(event, atx_nodes))
            try:
                decoded[ballot.id] = tortoise.decode_ballot(state, ballot)
                error = ""
            except tortoise.InvalidBallot as failure:
                error = failure.reason
            report.check("decode", bool(error) == bool(event.get("e")), f"ballot {ballot.id.hex()[:10]}: {error or 'ok'} vs {event.get('e') or 'ok'}")
        elif kind == 7:
            ballot_id = base64.b64decode(event["id"])
            if ballot_id in decoded:
                try:
                    tortoise.store_ballot(state, decoded.pop(ballot_id))
                except tortoise.InvalidBallot:
                    pass
        elif kind == 8:
            try:
                opinion = tortoise.encode_votes(state, event["lid"])
                got = hexstr(opinion.hash)
            except tortoise.EncodeVotesError as failure:
                got = "error:" + failure.reason
            want = _hexhash(event["opinion"]["hash"]) if event.get("opinion") else "error:" + event.get("e", "")
            if want.startswith("error:") or got.startswith("error:"):
                report.check("encode", want.startswith("error:") and got.startswith("error:"), f"layer {event['lid']}: {got} vs {want}")
            else:
                report.check("encode", got == want, f"layer {event['lid']}: {got[:12]} vs {want[:12]}")
        elif kind == 9:
            tortoise.tally_votes(state, event["lid"])
        elif kind == 10:
            header = event["Header"]
            tortoise.on_block(state, tortoise.BlockHeader(id=base64.b64decode(header["id"]), layer=header["lid"],
                                                          height=header["height"]))
        elif kind == 11:
            tortoise.on_hare_output(state, event["lid"], base64.b64decode(event["vote"]) if event.get("vote") else bytes(20))
        elif kind in (13, 14):
            for layer in event.get("results") or []:
                lid = layer["lid"]
                if lid <= state.evicted:
                    continue
                info = tortoise.get_layer(state, lid)
                report.check("layer_opinion", hexstr(info.opinion) == _hexhash(layer["opinion"]), f"layer {lid}")
                report.check("layer_verified", (state.verified >= lid) == bool(layer["v"]), f"layer {lid}: verified {state.verified}")
                for block in layer.get("blocks") or []:
                    header = block["header"]
                    found = tortoise.find_block(state, tortoise.BlockHeader(
                        id=base64.b64decode(header["id"]), layer=header["lid"], height=header["height"]))
                    valid = found is not None and found.validity == tortoise.SUPPORT
                    report.check("block_validity", valid == bool(block["v"]), f"layer {lid} block {header['id'][:8]}")
        elif kind in (1, 5, 12, 15):
            continue
        else:
            raise TraceError(f"unknown go-spacemesh trace event type {kind}")
    return report


def replay_smspec(tortoise: Any, data: dict) -> tuple[list, list]:
    """Run an smspec trace; returns (outputs, differences against its recorded outputs)."""
    config = events_mod.config_from_json(tortoise, data.get("config"))
    outputs = events_mod.run_trace(tortoise, config, data["events"], int(data.get("depth", events_mod.SNAPSHOT_DEPTH)))
    expected = data.get("outputs")
    differences = []
    if expected is not None:
        for index, (want, got) in enumerate(zip(expected, outputs)):
            if want != got:
                differences.append((index, want, got))
        if len(expected) != len(outputs):
            differences.append((min(len(expected), len(outputs)), f"{len(expected)} records", f"{len(outputs)} records"))
    return outputs, differences
