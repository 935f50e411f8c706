"""Read-only views of the node API for dashboards and explorers (docs/node.md, docs/dashboard.md).

Registered in tools/node/api.py's route table and documented in its OpenAPI document
(:func:`paths`):

* ``POST /spacemesh.v2alpha1.RewardService/List``: the rewards of the applied blocks, in the
  shape of go-spacemesh's API v2alpha1
  (spacemeshos/api@15155026f05e2ba2ecbd43b29c29dae71ed4bd08:spacemesh/v2alpha1/reward.proto);
* ``GET /smspec/v1/hare/{first}/{last}``: each layer's proposals, Hare outcome (block or empty,
  the iteration that decided it, the rounds this node ran) and certificates;
* ``GET /smspec/v1/epochs/{first}/{last}``: each epoch's ATXs by kind (initial, solo, marriage,
  merged) and their total weight;
* ``GET /dashboard``, ``GET /dashboard/{file}``: the dashboard page (tools/dashboard).

API answers carry ``Access-Control-Allow-Origin`` for pages served from a loopback origin only
(:func:`cors_headers`), so the dashboard of one node can read its peers' APIs and no other site
can read any of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from smspec.tools.node import protocol as p

MAX_SPAN = 1000  # layers or epochs in one view request
KINDS = ("initial", "solo", "marriage", "merged")
LOOPBACK_ORIGIN = re.compile(r"http://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]{1,5})?")


def cors_headers(environ: dict) -> list[tuple[str, str]]:
    """Let a page from a loopback origin (another node's or service's dashboard) read the answer."""
    origin = environ.get("HTTP_ORIGIN", "")
    if LOOPBACK_ORIGIN.fullmatch(origin):
        return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
    return [("Vary", "Origin")]


def _span(first: str, last: str, what: str) -> tuple[int, int]:
    from smspec.tools.node.api import bad, path_int

    low, high = path_int(first, f"first {what}"), path_int(last, f"last {what}")
    if high < low or high - low >= MAX_SPAN:
        raise bad(f"{what}s {low}..{high}: expected first <= last and at most {MAX_SPAN} {what}s")
    return low, high


def dashboard_file(name: str = "index.html") -> Any:
    from smspec.tools.dashboard import asset
    from smspec.tools.node.api import ApiError, Raw

    found = asset(name)
    if found is None:
        raise ApiError(404, f"no dashboard file {name[:60]!r}")
    return Raw(*found)


def routes(api: Any) -> list[tuple[str, str, Callable]]:
    """(method, path pattern, handler) of the views, for the route table of `api` (an `Api`)."""
    from smspec.tools.node.api import b64, bad, field_bytes, field_int, parse_json

    def rewards(body: bytes) -> dict:
        request = parse_json(body)
        offset, limit = api._page(request)
        first = field_int(request, "startLayer", 0)
        last = field_int(request, "endLayer", 2**32 - 1)
        if request.get("coinbase") is not None and request.get("smesher") is not None:
            raise bad("coinbase, smesher: give one of them (filter_by)")
        coinbase = None if request.get("coinbase") is None else api.parse_address(request["coinbase"], "coinbase")
        smesher = None if request.get("smesher") is None else field_bytes(request["smesher"], "smesher", 32)
        layer_reward = api.genesis().layer_reward
        out: list[dict] = []
        skipped = 0
        for layer, raw in api.reader.applied_blocks(first, last):
            if raw is None:
                continue
            block = p.decode(raw, p.Block)
            signers = api.reader.atx_smeshers([r.atx_id for r in block.rewards])
            for reward, (paid_to, amount) in zip(block.rewards, p.split_rewards(block.rewards, layer_reward)):
                signer = signers.get(reward.atx_id, b"")
                if (coinbase is not None and paid_to != coinbase) or (smesher is not None and signer != smesher):
                    continue
                if skipped < offset:
                    skipped += 1
                    continue
                out.append({"layer": layer, "total": str(amount), "layerReward": str(amount),
                            "coinbase": api.address(paid_to), "smesher": b64(signer)})
                if len(out) == limit:
                    return {"rewards": out}
        return {"rewards": out}

    def hare(body: bytes, first: str, last: str) -> dict:
        low, high = _span(first, last, "layer")
        genesis = api.genesis()
        first_ballot_layer = 2 * genesis.layers_per_epoch
        done = api.reader.top_layer()
        layers = []
        for layer, proposals, certificates, block, source, iteration, rounds in api.reader.hare_rows(low, high):
            if block is not None:
                outcome = "empty" if block == p.EMPTY_ID20 else "block"
            else:
                outcome = "no_ballots" if layer < first_ballot_layer else "pending" if layer > done else "none"
            layers.append({"layer": layer, "proposals": proposals, "outcome": outcome,
                           "block": None if block is None or block == p.EMPTY_ID20 else block.hex(),
                           "source": source, "iteration": iteration, "rounds": rounds,
                           "certificates": certificates})
        return {"layers": layers}

    def epochs(body: bytes, first: str, last: str) -> dict:
        low, high = _span(first, last, "epoch")
        table = {epoch: {"epoch": epoch, "atxs": 0, "weight": 0, "kinds": dict.fromkeys(KINDS, 0)}
                 for epoch in range(low, high + 1)}
        for epoch, weight, kind in api.reader.atx_kind_rows(low, high):
            entry = table[epoch]
            entry["atxs"] += 1
            entry["weight"] += int(weight)
            entry["kinds"][kind] += 1
        return {"epochs": [{**entry, "weight": str(entry["weight"])} for entry in table.values()]}

    return [
        ("POST", "/spacemesh.v2alpha1.RewardService/List", rewards),
        ("GET", "/smspec/v1/hare/{first}/{last}", hare),
        ("GET", "/smspec/v1/epochs/{first}/{last}", epochs),
        ("GET", "/dashboard", lambda body: dashboard_file()),
        ("GET", "/dashboard/{file}", lambda body, name: dashboard_file(name)),
    ]


def paths() -> dict:
    """The OpenAPI paths of the views (merged into tools/node/openapi.py's document)."""
    from smspec.tools.node.openapi import BYTES, U32, U64_STRING, _get, _json, _obj, _param, _v2

    hare_layer = _obj(layer=U32, proposals=U32, certificates=U32,
                      outcome={"type": "string", "enum": ["block", "empty", "none", "pending", "no_ballots"]},
                      block={"type": "string", "format": "hex", "nullable": True},
                      source={"type": "string", "enum": ["hare", "certificate"], "nullable": True},
                      iteration={"type": "integer", "nullable": True}, rounds={"type": "integer", "nullable": True})
    epoch = _obj(epoch=U32, atxs=U32, weight=U64_STRING, kinds=_obj(**{kind: U32 for kind in KINDS}))
    html = {"200": {"description": "the page", "content": {"text/html": {"schema": {"type": "string"}}}}}
    return {
        "/spacemesh.v2alpha1.RewardService/List": _v2(
            "rewards of the applied blocks (filter by coinbase or smesher; total = layerReward: no fees)",
            _obj(startLayer=U32, endLayer=U32, coinbase={"type": "string"}, smesher=BYTES,
                 offset=U64_STRING, limit=U64_STRING),
            _obj(rewards={"type": "array", "items": _obj(layer=U32, total=U64_STRING, layerReward=U64_STRING,
                                                         coinbase={"type": "string"}, smesher=BYTES)})),
        "/smspec/v1/hare/{first}/{last}": _get(
            "per layer: proposals, the Hare outcome (block, iteration, rounds this node ran, or why none), "
            "certificates", "smspec", [_param("first", U32), _param("last", U32)],
            {"200": _json(_obj(layers={"type": "array", "items": hare_layer}))}, True),
        "/smspec/v1/epochs/{first}/{last}": _get(
            "per publish epoch: ATXs by kind (initial, solo, marriage, merged) and their total weight", "smspec",
            [_param("first", U32), _param("last", U32)],
            {"200": _json(_obj(epochs={"type": "array", "items": epoch}))}, True),
        "/dashboard": _get("the dashboard page (docs/dashboard.md)", "smspec", [], html, True),
        "/dashboard/{file}": _get("the dashboard's script and style sheet", "smspec",
                                  [_param("file", {"type": "string"})],
                                  {"200": {"description": "the file"}, "404": {"description": "no such file"}},
                                  True),
    }
