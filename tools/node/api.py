"""The node's HTTP API, served by waitress (a WSGI server) on loopback.

Three parts (docs/node.md has every request with examples):

* the **public API** in the JSON shapes of go-spacemesh's API v2alpha1 (``POST
  /spacemesh.v2alpha1.<Service>/<Method>`` with a JSON body; uint64 values as strings, bytes as
  base64, addresses in bech32), for what ours covers: node status, network info, layers,
  accounts, activations, transactions (list and submit); plus ``GET /status`` (this node's
  detailed status) and ``GET /metrics`` (Prometheus text);
* the **node-service API** under ``/node/v1`` that a smeshing service uses (go-spacemesh's
  node-split contract, ``api/node/node_service.yaml``, with the same resources and shapes);
* ``GET /openapi.json``: the OpenAPI 3 document of all of it (tools/node/openapi.py), which a
  test checks against the routes below.

Every bad request gets a 4xx with a reason (``{"code": ..., "message": ...}``, the gateway's
error shape). Bodies are bounded (64 KiB; waitress refuses a malformed or negative
Content-Length), idle connections time out, and a fixed pool of threads serves a bounded number
of connections.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
import json
import re
import threading
from collections.abc import Callable
from typing import Any

from smspec.tools.node import api_views
from smspec.tools.node import protocol as p
from smspec.tools.node import wallet as w
from smspec.tools.node.storage import NodeReader

MAX_BODY = 64 * 1024
MAX_JSON_DEPTH = 16
MAX_PAGE = 1000
U32 = 2**32 - 1
U64 = 2**64 - 1
PUBLISH_KINDS = {"ax1": "atx", "pp1": "proposal", "tx1": "tx", "mp1": "malfeasance", "hm1": "hare", "cr1": "cert"}


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad(message: str) -> ApiError:
    return ApiError(400, message)


# ---------------------------------------------------------------------------------------------
# request parsing


def parse_json(body: bytes) -> dict:
    from smspec.tools.cli import json_depth

    if not body.strip():
        return {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise bad("body is not UTF-8") from None
    if json_depth(text) > MAX_JSON_DEPTH:
        raise bad(f"body nested deeper than {MAX_JSON_DEPTH} levels")

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    try:
        value = json.loads(text, parse_constant=constant)
    except (ValueError, RecursionError) as error:
        raise bad(f"body is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise bad("body must be a JSON object")
    return value


def field_int(body: dict, name: str, default: int | None = None, high: int = U32) -> int | None:
    """An integer field (JSON number or decimal string, as protojson writes uint64)."""
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise bad(f"{name}: expected an integer")
    if isinstance(value, str):
        if not re.fullmatch(r"[0-9]{1,20}", value):
            raise bad(f"{name}: expected an integer")
        value = int(value)
    if not 0 <= value <= high:
        raise bad(f"{name}: expected 0..{high}, got {value}")
    return value


def field_bytes(value: Any, name: str, size: int | None = None) -> bytes:
    """A bytes field (base64, as protojson writes bytes)."""
    if not isinstance(value, str) or len(value) > 4 * MAX_BODY:
        raise bad(f"{name}: expected a base64 string")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise bad(f"{name}: not base64") from None
    if size is not None and len(data) != size:
        raise bad(f"{name}: expected {size} bytes, got {len(data)}")
    return data


def path_int(text: str, name: str, high: int = U32) -> int:
    if not re.fullmatch(r"[0-9]{1,20}", text):
        raise bad(f"{name}: expected an integer, got {text[:40]!r}")
    value = int(text)
    if value > high:
        raise bad(f"{name}: expected 0..{high}, got {value}")
    return value


def path_hex(text: str, name: str, size: int) -> bytes:
    if text.lower().startswith("0x"):
        text = text[2:]
    if not re.fullmatch(r"[0-9a-fA-F]*", text) or len(text) != 2 * size:
        raise bad(f"{name}: expected {size} bytes of hex")
    return bytes.fromhex(text)


def b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


# ---------------------------------------------------------------------------------------------
# the application


class Api:
    """The WSGI application of one node. `host` (a NodeHost with a live node) serves the writes
    and the node-service API; reads use the node's database through `NodeReader`."""

    def __init__(self, datadir: str, host: Any = None) -> None:
        import os

        self.reader = NodeReader(os.path.join(datadir, "node.sqlite"))
        self.host = host
        self.requests: dict[str, int] = {}
        self.lock = threading.Lock()
        self._genesis: Any = None
        self.routes = self._routes()

    # -- infrastructure ---------------------------------------------------------------------------

    def node(self) -> Any:
        node = None if self.host is None else self.host.node
        if node is None:
            raise ApiError(503, "the node is not running (read-only API)")
        if not getattr(self.host, "ready", True):
            raise ApiError(503, "the node is catching up with its peers")
        return node

    def genesis(self) -> Any:
        if self._genesis is None:
            from smspec.tools.node.node import Genesis

            text = self.reader.meta("genesis")
            if text is None:
                raise ApiError(503, "the node has no genesis yet")
            self._genesis = Genesis.from_json(text)
        return self._genesis

    def address(self, address: bytes) -> str:
        return p.rules.encode_address(self.genesis().hrp, address)

    def parse_address(self, text: Any, name: str) -> bytes:
        if not isinstance(text, str):
            raise bad(f"{name}: expected a bech32 address")
        try:
            return p.rules.decode_address(self.genesis().hrp, text)
        except p.rules.InvalidAddress as error:
            raise bad(f"{name}: not an address of this network ({error.reason})") from None

    def _routes(self) -> list[tuple[str, str, Any, Callable]]:
        """(method, path pattern, compiled regex, handler): the pattern names what openapi.py documents."""
        table = [
            ("POST", "/spacemesh.v2alpha1.NodeService/Status", self.v2_node_status),
            ("POST", "/spacemesh.v2alpha1.NetworkService/Info", self.v2_network_info),
            ("POST", "/spacemesh.v2alpha1.LayerService/List", self.v2_layers),
            ("POST", "/spacemesh.v2alpha1.AccountService/List", self.v2_accounts),
            ("POST", "/spacemesh.v2alpha1.ActivationService/List", self.v2_activations),
            ("POST", "/spacemesh.v2alpha1.ActivationService/ActivationsCount", self.v2_activations_count),
            ("POST", "/spacemesh.v2alpha1.TransactionService/List", self.v2_transactions),
            ("POST", "/spacemesh.v2alpha1.TransactionService/SubmitTransaction", self.v2_submit),
            ("POST", "/spacemesh.v2alpha1.MalfeasanceService/List", self.v2_malfeasance),
            ("GET", "/status", self.status),
            ("GET", "/metrics", self.metrics),
            ("GET", "/openapi.json", self.openapi),
            *api_views.routes(self),  # views for dashboards, and the dashboard page (tools/node/api_views.py)
            ("GET", "/node/v1/info", self.ns_info),
            ("GET", "/node/v1/activation/positioning_atx/{publish_epoch}", self.ns_positioning),
            ("GET", "/node/v1/activation/last_atx/{node_id}", self.ns_last_atx),
            ("GET", "/node/v1/activation/atx/{atx_id}", self.ns_atx),
            ("GET", "/node/v1/activation/marriage/{node_id}", self.ns_marriage),
            ("GET", "/node/v1/malfeasance/{node_id}", self.ns_malicious),
            ("POST", "/node/v1/publish/{protocol}", self.ns_publish),
            ("POST", "/node/v1/poet", self.ns_poet),
            ("GET", "/node/v1/hare/round_template/{layer}/{iter}/{round}", self.ns_round_template),
            ("GET", "/node/v1/hare/total_weight/{layer}", self.ns_total_weight),
            ("GET", "/node/v1/hare/weight/{node_id}/{layer}", self.ns_weight),
            ("GET", "/node/v1/hare/beacon/{epoch}", self.ns_beacon),
            ("GET", "/node/v1/hare/certificate/{layer}", self.ns_certificate),
            ("GET", "/node/v1/proposal/{layer}/{node}", self.ns_proposal),
            ("GET", "/node/v1/eligibility/slots/{node}/{epoch}", self.ns_slots),
        ]
        out: list[tuple[str, str, Any, Callable]] = []
        for method, pattern, handler in table:
            self.add_route(method, pattern, handler, out)
        return out

    def add_route(self, method: str, pattern: str, handler: Callable, table: list | None = None) -> None:
        """Serve `handler(body, *path_parameters)` for `method` on `pattern` (``{name}`` marks a
        path parameter); it answers a dict (JSON) or a `Raw`, or raises `ApiError`. Another part of
        the node (a dashboard, a sync protocol) adds its routes this way; openapi.py documents
        the node's own."""
        regex = re.compile("^" + re.sub(r"\\\{[a-z_]+\\\}", "([^/]+)", re.escape(pattern)) + "$")
        (self.routes if table is None else table).append((method, pattern, regex, handler))

    def __call__(self, environ: dict, start_response: Callable) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        status, headers, body = 200, [], b""
        try:
            matched = [(m, pattern, args, handler) for m, pattern, regex, handler in self.routes
                       if (args := regex.match(path))]
            if not matched:
                raise ApiError(404, f"unknown path {path[:100]}")
            chosen = next((entry for entry in matched if entry[0] == method), None)
            if chosen is None:
                raise ApiError(405, f"{path[:100]} takes {matched[0][0]}")
            _, pattern, args, handler = chosen
            with self.lock:
                self.requests[pattern] = self.requests.get(pattern, 0) + 1
            raw = self._body(environ) if method == "POST" else b""
            result = handler(raw, *args.groups())
            if isinstance(result, Raw):
                status, headers, body = result.status, [("Content-Type", result.content_type)], result.data
            else:
                body = json.dumps(result, indent=1).encode()
                headers = [("Content-Type", "application/json")]
        except ApiError as error:
            status = error.status
            body = json.dumps({"code": 3 if status == 400 else 5 if status == 404 else 14 if status == 503 else 2,
                               "message": error.message, "details": []}).encode()
            headers = [("Content-Type", "application/json")]
        except Exception as error:  # a failure of ours: 500 with the reason, never a hung request
            import sqlite3

            status = 503 if isinstance(error, sqlite3.Error) else 500
            body = json.dumps({"code": 13, "message": f"{type(error).__name__}: {error}", "details": []}).encode()
            headers = [("Content-Type", "application/json")]
        reason = {200: "OK", 204: "No Content", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
                  413: "Payload Too Large", 500: "Internal Server Error", 503: "Service Unavailable"}[status]
        headers += api_views.cors_headers(environ)  # loopback dashboards read every node's API
        start_response(f"{status} {reason}", headers + [("Content-Length", str(len(body)))])
        return [body]

    @staticmethod
    def _body(environ: dict) -> bytes:
        length_text = environ.get("CONTENT_LENGTH") or "0"
        if not length_text.isdigit():
            raise bad("Content-Length: expected a non-negative integer")
        length = int(length_text)
        if length > MAX_BODY:
            raise ApiError(413, f"body larger than {MAX_BODY} bytes")
        return environ["wsgi.input"].read(length)

    # -- public API (v2alpha1 shapes) ---------------------------------------------------------------

    def v2_node_status(self, body: bytes) -> dict:
        parse_json(body)
        status = json.loads(self.reader.meta("status") or "{}")
        top = self.reader.top_layer()
        return {"connectedPeers": str(status.get("peers", 0)),
                "status": "SYNC_STATUS_SYNCED" if status else "SYNC_STATUS_SYNCING",
                "latestLayer": max(top, 0), "appliedLayer": max(status.get("applied", 0), 0),
                "processedLayer": max(status.get("verified", 0), 0), "currentLayer": max(status.get("layer", 0), 0)}

    def v2_network_info(self, body: bytes) -> dict:
        parse_json(body)
        genesis = self.genesis()
        from smspec.impl.registry import active_backend
        from smspec.spec import crypto

        # the backend in force (the node's impl, or the spec under `vectors check --backend spec`)
        params = p.genesis_params(genesis.config, p.modules(backend=active_backend()))
        when = datetime.datetime.fromtimestamp(genesis.genesis_time, datetime.UTC)
        return {"genesisTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "layerDuration": f"{genesis.layer_duration:g}s",  # 0s: no layer clock (a coordinator runs it)
                "genesisId": b64(crypto.genesis_id(genesis.genesis_time, genesis.extra_data)), "hrp": genesis.hrp,
                "effectiveGenesisLayer": 2 * genesis.layers_per_epoch - 1, "layersPerEpoch": genesis.layers_per_epoch,
                "labelsPerUnit": str(params.post.labels_per_unit)}

    def _page(self, request: dict) -> tuple[int, int]:
        offset = field_int(request, "offset", 0, U64)
        limit = field_int(request, "limit", 100, U64)
        if limit == 0 or limit > MAX_PAGE:
            raise bad(f"limit: expected 1..{MAX_PAGE}")
        return offset, limit

    def v2_layers(self, body: bytes) -> dict:
        request = parse_json(body)
        offset, limit = self._page(request)
        top = self.reader.top_layer()
        first = field_int(request, "startLayer", 0)
        last = min(field_int(request, "endLayer", max(top, 0)), max(top, 0))
        if request.get("sortOrder", "ASC") not in ("ASC", "DESC"):
            raise bad("sortOrder: ASC or DESC")
        layers = list(range(first, last + 1))
        if request.get("sortOrder") == "DESC":
            layers.reverse()
        layers = layers[offset:offset + limit]
        out = []
        rows = {row[0]: row for row in self.reader.layer_rows(min(layers), max(layers))} if layers else {}
        for layer in layers:
            _, block, root, hare = rows[layer]
            chosen = block if block is not None else hare
            out.append({"number": layer,
                        "status": "LAYER_STATUS_VERIFIED" if block is not None else
                        "LAYER_STATUS_APPLIED" if hare is not None else "LAYER_STATUS_UNSPECIFIED",
                        "consensusHash": "", "stateHash": b64(root), "cumulativeStateHash": b64(root),
                        "block": None if chosen is None or chosen == p.EMPTY_ID20 else {"id": b64(chosen)}})
        return {"layers": out}

    def _account(self, row: tuple, layer: int) -> dict:
        address, balance, nonce, template = row
        projected_nonce, waiting = self.reader.projected(address)
        current = {"counter": str(int(nonce)), "balance": str(int(balance)), "layer": layer}
        projected = {"counter": str(max(int(nonce), projected_nonce)), "balance": str(int(balance)), "layer": layer}
        return {"address": self.address(address), "current": current, "projected": projected,
                "template": "" if template is None else self.address(template)}

    def v2_accounts(self, body: bytes) -> dict:
        request = parse_json(body)
        offset, limit = self._page(request)
        addresses = request.get("addresses")
        if addresses is not None:
            if not isinstance(addresses, list) or len(addresses) > MAX_PAGE:
                raise bad(f"addresses: expected a list of at most {MAX_PAGE} addresses")
            addresses = [self.parse_address(a, "addresses") for a in addresses]
        status = json.loads(self.reader.meta("status") or "{}")
        layer = max(status.get("applied", 0), 0)
        return {"accounts": [self._account(row, layer) for row in self.reader.account_rows(addresses, offset, limit)]}

    def _activation(self, row: tuple) -> dict:
        atx_id, smesher, epoch, units, weight, ticks, base, coinbase = row
        return {"id": b64(atx_id), "smesherId": b64(smesher), "publishEpoch": epoch, "coinbase": self.address(coinbase),
                "weight": str(int(weight)), "height": str(int(base) + int(ticks)), "numUnits": units}

    def v2_activations(self, body: bytes) -> dict:
        request = parse_json(body)
        offset, limit = self._page(request)
        first = field_int(request, "startEpoch", 0)
        last = field_int(request, "endEpoch", U32)
        ids = [field_bytes(x, "id", 32) for x in _list(request, "id")]
        smeshers = [field_bytes(x, "smesherId", 32) for x in _list(request, "smesherId")]
        return {"activations": [self._activation(row) for row in
                                self.reader.atx_rows(first, last, ids, smeshers, offset, limit)]}

    def v2_activations_count(self, body: bytes) -> dict:
        request = parse_json(body)
        return {"count": self.reader.atx_count(field_int(request, "epoch"))}

    def _transaction(self, row: tuple, include_state: bool, include_result: bool) -> dict:
        tid, raw, principal, nonce, status, layer = row
        tx = p.decode(raw, p.Tx)
        genesis = self.genesis()
        template = p.rules.encode_address(genesis.hrp, _template(genesis))
        contents: dict
        if tx.method == p.METHOD_SPAWN:
            kind, contents = "TRANSACTION_TYPE_SINGLE_SIG_SPAWN", {"singleSigSpawn": {"pubkey": b64(tx.args)}}
        elif tx.method in (p.METHOD_PROXY, p.METHOD_DEPLOY):
            kind, contents = "TRANSACTION_TYPE_UNSPECIFIED", _call_contents(tx, self.address)  # v2alpha1 has no type
        else:
            kind = "TRANSACTION_TYPE_SINGLE_SIG_SEND"
            amount = int.from_bytes(tx.args[24:32], "little") if len(tx.args) >= 32 else 0
            contents = {"send": {"destination": self.address(tx.args[:24]) if len(tx.args) >= 24 else "",
                                 "amount": str(amount)}}
        out: dict[str, Any] = {"tx": {"id": b64(tid), "principal": self.address(principal), "template": template,
                                      "method": tx.method, "nonce": {"counter": str(nonce)}, "maxGas": str(p.GAS_LIMIT),
                                      "gasPrice": "0", "maxSpend": "0", "raw": b64(raw), "type": kind,
                                      "contents": contents}}
        if include_state:
            out["txState"] = tx_state(status)
            out["smspecStatus"] = status
        if include_result and layer is not None and not status.startswith(("rejected:", "evicted:")):
            out["txResult"] = {"status": "TRANSACTION_STATUS_SUCCESS" if status == "ok" else
                               "TRANSACTION_STATUS_FAILURE" if status.startswith("failed:") else
                               "TRANSACTION_STATUS_INVALID",
                               "message": status, "gasConsumed": "0", "fee": "0", "layer": layer,
                               "touchedAddresses": [self.address(principal)]}
        return out

    def v2_transactions(self, body: bytes) -> dict:
        request = parse_json(body)
        offset, limit = self._page(request)
        ids = [field_bytes(x, "txid", 32) for x in _list(request, "txid")]
        principal = None if request.get("address") is None else self.parse_address(request["address"], "address")
        rows = self.reader.tx_rows(ids, principal, field_int(request, "startLayer"), field_int(request, "endLayer"),
                                   offset, limit)
        return {"transactions": [self._transaction(row, bool(request.get("includeState", True)),
                                                   bool(request.get("includeResult", True))) for row in rows]}

    def v2_submit(self, body: bytes) -> dict:
        request = parse_json(body)
        if "transaction" not in request:
            raise bad("transaction: required (base64 of a SCALE Tx)")
        data = field_bytes(request["transaction"], "transaction")
        try:
            p.decode(data, p.Tx)
        except Exception as error:  # any decoding failure is the client's
            raise bad(f"transaction: not a transaction ({error})") from None
        result = self.node().submit_tx(data)
        status = result["status"]
        if status.startswith("rejected:"):
            return {"status": {"code": 3, "message": status, "details": [result.get("detail", "")]},
                    "txId": b64(result["id"]), "smspecStatus": status}
        return {"status": {"code": 0, "message": status, "details": []}, "txId": b64(result["id"]),
                "smspecStatus": status}

    def v2_malfeasance(self, body: bytes) -> dict:
        request = parse_json(body)
        offset, limit = self._page(request)
        smeshers = [field_bytes(x, "smesherId", 32) for x in _list(request, "smesherId")]
        proofs = []
        for node_id, reason, layer, proof in self.reader.malfeasance_rows(smeshers, offset, limit):
            domain = ("DOMAIN_BALLOT" if reason == "double_proposal" else "DOMAIN_HARE" if reason.startswith("hare")
                      else "DOMAIN_ACTIVATION")
            properties = {"reason": reason, "layer": str(layer)}
            if proof is not None:
                properties["proof"] = proof.hex()
            kind = {"double_proposal": 1, "hare_equivocation": 2}.get(reason, 0)
            if reason.startswith("atx_proof_"):
                kind = int(reason.rsplit("_", 1)[1])
            proofs.append({"smesher": b64(node_id), "domain": domain, "type": kind, "properties": properties})
        return {"proofs": proofs}

    # -- smspec extensions -------------------------------------------------------------------------

    def status(self, body: bytes) -> dict:
        status = json.loads(self.reader.meta("status") or "{}")
        status["applied_layers"] = max(status.get("applied", -1), -1)
        return status

    def metrics(self, body: bytes) -> Raw:
        from smspec.tools.node.metrics import render

        status = json.loads(self.reader.meta("status") or "{}")
        node = None if self.host is None else self.host.node
        live = node.status() if node is not None else status
        return Raw(render(live, self.reader.counts(), dict(self.requests)).encode(), "text/plain; version=0.0.4")

    def openapi(self, body: bytes) -> dict:
        from smspec.tools.node.openapi import document

        return document()

    # -- node-service API (for smeshing services) ---------------------------------------------------

    def ns_info(self, body: bytes) -> dict:
        from smspec.spec import crypto

        genesis = self.genesis()
        node = None if self.host is None else self.host.node
        status = json.loads(self.reader.meta("status") or "{}")
        return {"genesis": json.loads(genesis.to_json()), "genesis_id": genesis.genesis_id(crypto).hex(),
                "golden_atx": genesis.golden_atx(crypto).hex(),
                "current_layer": node.current_layer if node is not None else status.get("layer", 0),
                "layers_per_epoch": genesis.layers_per_epoch,
                "wallet_template": _template(genesis).hex(), "writable": node is not None}

    def ns_positioning(self, body: bytes, epoch: str) -> dict:
        publish_epoch = path_int(epoch, "publish_epoch")
        return {"ID": self.node().positioning_atx(publish_epoch).hex()}

    @staticmethod
    def _atx_json(atx: dict) -> dict:
        return {"ID": atx["id"].hex(), "SmesherID": atx["smesher_id"].hex(), "PublishEpoch": atx["publish_epoch"],
                "NumUnits": atx["num_units"], "TickCount": atx["tick_count"], "Weight": atx["weight"],
                "Sequence": atx["sequence"], "VRFNonce": str(atx["vrf_nonce"]),
                "MarriageATX": None if atx["marriage_atx"] is None else atx["marriage_atx"].hex()}

    def ns_last_atx(self, body: bytes, node_id: str) -> Any:
        key = path_hex(node_id, "node_id", 32)
        atx = self.node().last_atx(key)
        if atx is None:
            raise ApiError(404, "there is no ATX of this node")
        return self._atx_json(atx)

    def ns_atx(self, body: bytes, atx_id: str) -> Any:
        key = path_hex(atx_id, "atx_id", 32)
        atx = self.node().atx_summary(key)
        if atx is None:
            raise ApiError(404, "ATX not found")
        return self._atx_json(atx)

    def ns_marriage(self, body: bytes, node_id: str) -> Any:
        key = path_hex(node_id, "node_id", 32)
        record = self.node().marriage(key)
        if record is None:
            raise ApiError(404, "not married")
        return {"MarriageATX": record["marriage_atx"].hex(), "PublishEpoch": record["publish_epoch"]}

    def ns_malicious(self, body: bytes, node_id: str) -> dict:
        key = path_hex(node_id, "node_id", 32)
        return {"Malicious": self.node().is_malicious(key)}

    def ns_publish(self, body: bytes, protocol: str) -> dict:
        kind = PUBLISH_KINDS.get(protocol)
        if kind is None:
            raise bad(f"protocol: one of {', '.join(sorted(PUBLISH_KINDS))} (got {protocol[:20]!r})")
        if not body:
            raise bad("empty body: expected the object's bytes")
        self.node()
        verdict = self.host.publish(kind, body)
        return {"status": verdict.status, "reason": verdict.reason}

    def ns_poet(self, body: bytes) -> Any:
        if not body:
            raise bad("empty body: expected a PoET proof")
        self.node()
        verdict = self.host.publish("poet", body)
        if verdict.status == "rejected":
            raise bad(f"PoET proof rejected: {verdict.reason}")
        return {"status": verdict.status}

    def ns_round_template(self, body: bytes, layer: str, iteration: str, round_kind: str) -> Raw:
        args = path_int(layer, "layer"), path_int(iteration, "iter", 255), path_int(round_kind, "round", 255)
        data = self.node().hare_round_template(*args)
        return Raw(b"", status=204) if data is None else Raw(data)

    def ns_total_weight(self, body: bytes, layer: str) -> Raw:
        number = path_int(layer, "layer")
        return Raw(str(sum(self.node().hare_weights(number).values())).encode())

    def ns_weight(self, body: bytes, node_id: str, layer: str) -> Raw:
        key, number = path_hex(node_id, "node_id", 32), path_int(layer, "layer")
        return Raw(str(self.node().hare_weights(number).get(key, 0)).encode())

    def ns_beacon(self, body: bytes, epoch: str) -> Raw:
        number = path_int(epoch, "epoch")
        return Raw(self.node().beacon(number))

    def ns_certificate(self, body: bytes, layer: str) -> Any:
        number = path_int(layer, "layer")
        template = self.node().certificate_template(number)
        if template is None:
            return Raw(b"", status=204)
        block_id, raw = template
        return {"BlockID": block_id.hex(), "Block": None if raw is None else raw.hex()}

    def ns_proposal(self, body: bytes, layer: str, node_id: str) -> Raw:
        number, key = path_int(layer, "layer"), path_hex(node_id, "node", 32)
        data = self.node().partial_proposal(number, key)
        return Raw(b"", status=204) if data is None else Raw(data)

    def ns_slots(self, body: bytes, node_id: str, epoch: str) -> dict:
        key, number = path_hex(node_id, "node", 32), path_int(epoch, "epoch")
        slots = self.node().eligibility_slots(key, number)
        return {"Slots": 0 if slots is None else slots}


class Raw:
    def __init__(self, data: bytes, content_type: str = "application/octet-stream", status: int = 200) -> None:
        self.data = data
        self.content_type = content_type
        self.status = status


def _list(request: dict, name: str) -> list:
    value = request.get(name, [])
    if not isinstance(value, list) or len(value) > MAX_PAGE:
        raise bad(f"{name}: expected a list of at most {MAX_PAGE} items")
    return value


def _template(genesis: Any) -> bytes:
    from smspec.tools.node.wallet import template_address

    return template_address(bytes.fromhex(genesis.wallet_code))


def _call_contents(tx: p.Tx, address: Any) -> dict:
    """smspec's contents of a proxy or deploy transaction (v2alpha1 has no such types)."""
    if tx.method == p.METHOD_DEPLOY:
        try:
            code = w.parse_deploy_args(tx.args)
        except w.TxError:
            return {"smspecDeploy": {}}
        return {"smspecDeploy": {"template": address(w.template_address(code)), "codeSize": str(len(code))}}
    try:
        destination, selector, call_input, amount = w.parse_proxy_args(tx.args)
    except w.TxError:
        return {"smspecProxy": {}}
    return {"smspecProxy": {"destination": address(destination), "method": None if selector is None else selector.hex(),
                            "args": None if call_input is None else b64(call_input), "amount": str(amount)}}


def tx_state(status: str) -> str:
    """Our transaction status as go-spacemesh's TransactionState (docs/node.md)."""
    if status in ("pending", "unchecked"):
        return "TRANSACTION_STATE_MEMPOOL"
    if status.startswith("rejected:"):
        reason = status.split(":", 1)[1]
        return "TRANSACTION_STATE_CONFLICTING" if reason in ("nonce_too_low", "nonce_in_use") else \
            "TRANSACTION_STATE_REJECTED"
    if status.startswith("evicted:"):
        return "TRANSACTION_STATE_INEFFECTUAL"
    return "TRANSACTION_STATE_PROCESSED"


# ---------------------------------------------------------------------------------------------
# the server


class ApiServer:
    """Serve one node's API on 127.0.0.1:`port` with waitress in a daemon thread (port 0: any
    free port). `host` gives the live node for writes and the node-service API; without it the
    API is read-only over the database."""

    def __init__(self, datadir: str, port: int = 0, host: Any = None, threads: int = 4, connection_limit: int = 64,
                 timeout: int = 15, app: Any = None) -> None:
        from waitress.server import create_server

        self.app = Api(datadir, host) if app is None else app  # another WSGI application (the PoET's)
        self.server = create_server(self.app, host="127.0.0.1", port=port, threads=threads,
                                    connection_limit=connection_limit, channel_timeout=timeout,
                                    max_request_body_size=MAX_BODY, max_request_header_size=16384,
                                    cleanup_interval=max(1, timeout // 3), ident="smspec-node", clear_untrusted_proxy_headers=True)
        self.port = self.server.effective_port
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ApiServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        """Close every connection and the listener from the server's own loop, then join it."""
        from waitress import wasyncore

        def shut() -> None:
            self.server.task_dispatcher.shutdown(cancel_pending=True, timeout=2)
            wasyncore.close_all(self.server._map)

        if not self.thread.is_alive():
            self.server.close()
            return
        try:
            self.server.trigger.pull_trigger(shut)
        except OSError:
            # The wake-up pipe was closed under the server (seen once in a full test run, cause
            # not found). Empty the loop's map so that it ends after its current wait, then close
            # what it held from here.
            channels = list(self.server._map.values())
            self.server._map.clear()
            self.thread.join(timeout=10)
            self.server.task_dispatcher.shutdown(cancel_pending=True, timeout=2)
            for channel in channels:
                try:
                    channel.close()
                except OSError:  # the trigger, failing on its closed end: close what it wraps
                    with contextlib.suppress(OSError):
                        wasyncore.dispatcher.close(channel)
            return
        self.thread.join(timeout=10)
