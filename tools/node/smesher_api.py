"""The smeshing service's status API: a small read-only HTTP server on loopback (docs/node.md,
docs/dashboard.md).

It reads what a smeshing service keeps, never a private key: its database (``KEYS/smesher.sqlite``,
read-only: each identity's state history and the eligibilities it computed), the names of its key
files and its PoST data directories (metadata, or the parameter record and checkpoint of a
``smspec post init`` still running). So it serves the same answers inside the service process
(``smspec smesher run --status-port``), beside it or before it can start (``smspec smesher
serve``), and in a devnet's process (``smspec devnet up --dashboard``).

* ``POST /spacemesh.v2alpha1.SmeshingIdentitiesService/States`` and ``.../Eligibilities``: the
  shapes of go-spacemesh's API v2alpha1
  (spacemeshos/api@16f4f367f656783882636a1c6bde0e812ae252c6:spacemesh/v2alpha1/smeshing_identities.proto);
* ``GET /smesher/v1/identities``: the service's identities (name, node ID, units, the marriage
  ATX it published for them) and the node APIs it uses;
* ``GET /smesher/v1/post``: each identity's PoST data: labels, files and bytes written, and while
  ``post init`` runs its rate and the time left, measured by this server between requests;
* ``GET /smesher/v1/proofs``: each PoST proof the service generated for an ATX, with its timing;
* ``GET /openapi.json`` (this API's document), ``GET /dashboard`` (the page, tools/dashboard).
"""

from __future__ import annotations

import datetime
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from smspec.tools.node.api import Api, ApiError, ApiServer, parse_json
from smspec.tools.node.api_views import dashboard_file
from smspec.tools.node.storage import SmesherReader

VERSION = "1.0.0"
RATE_WINDOW = 60.0  # seconds of samples the init rate is measured over
KEY_SUFFIX = ".key"


def rfc3339(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SmesherStatusApi:
    """The WSGI application of one smeshing service's status (read-only)."""

    # the node API's dispatch: routes, bounded bodies, errors with a reason, loopback CORS
    __call__ = Api.__call__
    add_route = Api.add_route
    _body = staticmethod(Api._body)

    def __init__(self, keys_dir: str, post_dir: str, nodes: list[str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        from smspec.tools.node import protocol as p

        self.keys_dir = keys_dir
        self.post_dir = post_dir
        self.nodes = list(nodes or [])
        self.reader = SmesherReader(os.path.join(keys_dir, "smesher.sqlite"))
        self.post = p.modules().post
        self.clock = clock
        self.samples: dict[str, deque] = {}
        self.requests: dict[str, int] = {}
        self.lock = threading.Lock()
        table = [
            ("POST", "/spacemesh.v2alpha1.SmeshingIdentitiesService/States", self.states),
            ("POST", "/spacemesh.v2alpha1.SmeshingIdentitiesService/Eligibilities", self.eligibilities),
            ("GET", "/smesher/v1/identities", self.identities),
            ("GET", "/smesher/v1/post", self.post_status),
            ("GET", "/smesher/v1/proofs", self.proofs),
            ("GET", "/openapi.json", lambda body: document()),
            ("GET", "/dashboard", lambda body: dashboard_file()),
            ("GET", "/dashboard/{file}", lambda body, name: dashboard_file(name)),
        ]
        self.routes: list = []
        for method, pattern, handler in table:
            self.add_route(method, pattern, handler)

    # -- what the directories hold ------------------------------------------------------------------

    def names(self) -> list[str]:
        """The identities: one per key file (``<name>.key``) or PoST data directory."""
        found: set[str] = set()
        for directory, keys in ((self.keys_dir, True), (self.post_dir, False)):
            try:
                entries = os.listdir(directory)
            except OSError:
                continue
            for entry in entries:
                if keys and entry.endswith(KEY_SUFFIX):
                    found.add(entry[:-len(KEY_SUFFIX)])
                elif not keys and os.path.isdir(os.path.join(directory, entry)):
                    found.add(entry)
        return sorted(found)

    def _data(self, name: str) -> dict:
        """An identity's PoST data directory: its parameters and how much of it is written. The
        data is complete when its metadata holds the VRF nonce; ``post init`` writes the metadata
        without one first and keeps a checkpoint (labels written) while it runs."""
        from smspec.tools import post_data
        from smspec.tools.cli import CliError

        post = self.post
        directory = os.path.join(self.post_dir, name)
        out: dict[str, Any] = {"name": name, "nodeId": None, "state": "STATE_NOT_STARTED", "numUnits": 0,
                               "numLabels": "0", "numLabelsWritten": "0", "files": 0, "filesWritten": 0,
                               "sizeBytes": "0", "bytesWritten": "0", "error": None}
        try:
            checkpoint = post_data.read_checkpoint(directory)
            if os.path.exists(os.path.join(directory, post.METADATA_FILE_NAME)):
                metadata = post_data.read_metadata(post, directory)
            else:
                params = post_data.read_params(directory)
                if params is None:
                    return out
                metadata = params.metadata(post)
            files = post_data.data_files(directory)
        except CliError as error:
            return {**out, "state": "STATE_ERROR", "error": str(error)}
        total = post.total_labels(metadata)
        if checkpoint is None and metadata.nonce is not None:
            state, written = "STATE_COMPLETE", total
        else:
            state = "STATE_IN_PROGRESS"
            written = (min(total, sum(files.values()) // post_data.LABEL_SIZE) if checkpoint is None
                       else checkpoint.labels_done)
        out.update(nodeId=metadata.node_id.hex(), state=state, numUnits=metadata.num_units, numLabels=str(total),
                   numLabelsWritten=str(written), files=post.num_files(metadata), filesWritten=len(files),
                   sizeBytes=str(total * post_data.LABEL_SIZE), bytesWritten=str(sum(files.values())))
        return out

    def _rate(self, name: str, written: int, total: int) -> tuple[float | None, float | None]:
        """(labels per second, seconds left) of a running init, from the samples of this server's
        requests over the last RATE_WINDOW seconds; None until two samples differ."""
        now = self.clock()
        with self.lock:
            samples = self.samples.setdefault(name, deque())
            if not samples or samples[-1][1] != written or now - samples[-1][0] >= 1.0:
                samples.append((now, written))
            while len(samples) > 2 and now - samples[1][0] > RATE_WINDOW:
                samples.popleft()
            (first_time, first_written), (last_time, last_written) = samples[0], samples[-1]
        if last_time <= first_time or last_written < first_written:
            return None, None
        rate = (last_written - first_written) / (last_time - first_time)
        return rate, (None if rate == 0 else (total - written) / rate)

    def _node_ids(self) -> dict[str, str | None]:
        return {name: self._data(name)["nodeId"] for name in self.names()}

    # -- routes -------------------------------------------------------------------------------------

    def identities(self, body: bytes) -> dict:
        marriages = {node_id.hex(): record for node_id, record in self.reader.marriages().items()}
        identities = []
        for name in self.names():
            data = self._data(name)
            marriage = marriages.get(data["nodeId"] or "")
            identities.append({"name": name, "nodeId": data["nodeId"], "numUnits": data["numUnits"],
                               "marriageAtx": None if marriage is None else marriage[0].hex(),
                               "marriageEpoch": None if marriage is None else marriage[1]})
        return {"service": os.path.basename(os.path.dirname(os.path.abspath(self.keys_dir))) or "smesher",
                "nodes": self.nodes, "identities": identities}

    def post_status(self, body: bytes) -> dict:
        out = []
        for name in self.names():
            data = self._data(name)
            rate = eta = None
            if data["state"] == "STATE_IN_PROGRESS":
                rate, eta = self._rate(name, int(data["numLabelsWritten"]), int(data["numLabels"]))
            out.append({**data, "labelsPerSecond": None if rate is None else round(rate, 3),
                        "secondsLeft": None if eta is None else round(eta, 1)})
        return {"identities": out}

    def states(self, body: bytes) -> dict:
        parse_json(body)
        out: dict[str, dict] = {node_id: {"history": []} for node_id in self._node_ids().values() if node_id}
        for node_id, state, epoch, detail, at in self.reader.states():
            entry: dict[str, Any] = {"state": state, "time": rfc3339(at)}
            if epoch is not None:
                entry["publishEpoch"] = epoch
            if detail:
                if state == "RETRYING":
                    entry["error"] = {"message": detail}
                else:
                    entry["smspecDetail"] = detail
            out.setdefault(node_id.hex(), {"history": []})["history"].append(entry)
        return {"identities": out}

    def eligibilities(self, body: bytes) -> dict:
        parse_json(body)
        out: dict[str, dict] = {}
        for node_id, epoch, layer in self.reader.eligibilities():
            epochs = out.setdefault(node_id.hex(), {"epochs": {}})["epochs"]
            slots = epochs.setdefault(str(epoch), {"eligibilities": []})["eligibilities"]
            if slots and slots[-1]["layer"] == layer:
                slots[-1]["count"] += 1
            else:
                slots.append({"layer": layer, "count": 1})
        return {"eligibilities": out}

    def proofs(self, body: bytes) -> dict:
        names = {node_id: name for name, node_id in self._node_ids().items() if node_id}
        started: dict[tuple[bytes, int], float] = {}
        out: list[dict] = []
        for node_id, state, epoch, detail, at in self.reader.state_rows(
                ("GENERATING_POST_PROOF", "POST_PROOF_READY", "ATX_BROADCASTED")):
            if epoch is None:
                continue  # the initial PoST (generated once, before the first ATX)
            key = (node_id, epoch)
            if state == "GENERATING_POST_PROOF":
                started[key] = at
            elif state == "POST_PROOF_READY" and key in started:
                out.append({"nodeId": node_id.hex(), "name": names.get(node_id.hex()), "publishEpoch": epoch,
                            "started": rfc3339(started[key]), "seconds": round(at - started.pop(key), 3),
                            "atx": None})
            elif state == "ATX_BROADCASTED" and detail.startswith("ATX 0x"):
                for proof in reversed(out):
                    if proof["nodeId"] == node_id.hex() and proof["publishEpoch"] == epoch:
                        proof["atx"] = detail[len("ATX 0x"):]
                        break
        return {"proofs": out}


def document() -> dict:
    """The OpenAPI 3 document of the status API."""
    from smspec.tools.node.openapi import U32, U64_STRING, _get, _json, _obj, _param

    tag = "smeshing service status"
    nullable_string = {"type": "string", "nullable": True}
    history = {"type": "array", "items": _obj(
        state={"type": "string"}, publishEpoch=U32, time={"type": "string", "format": "date-time"},
        error=_obj(message={"type": "string"}), smspecDetail={"type": "string"})}

    def v2(summary: str, response: dict) -> dict:
        return {"post": {"summary": summary, "tags": ["public (v2alpha1)"],
                         "requestBody": {"required": False, "content": {"application/json": {"schema": _obj()}}},
                         "responses": {"200": _json(response), "400": {"description": "bad request"}}}}

    eligibility = _obj(layer=U32, count=U32)
    data = _obj(name={"type": "string"}, nodeId=nullable_string, numUnits=U32,
                state={"type": "string", "enum": ["STATE_NOT_STARTED", "STATE_IN_PROGRESS", "STATE_COMPLETE",
                                                  "STATE_ERROR"]},
                numLabels=U64_STRING, numLabelsWritten=U64_STRING, files=U32, filesWritten=U32,
                sizeBytes=U64_STRING, bytesWritten=U64_STRING, error=nullable_string,
                labelsPerSecond={"type": "number", "nullable": True}, secondsLeft={"type": "number", "nullable": True})
    proof = _obj(nodeId={"type": "string"}, name=nullable_string, publishEpoch=U32,
                 started={"type": "string", "format": "date-time"}, seconds={"type": "number"}, atx=nullable_string)
    html = {"200": {"description": "the page", "content": {"text/html": {"schema": {"type": "string"}}}}}
    paths = {
        "/spacemesh.v2alpha1.SmeshingIdentitiesService/States": v2(
            "each identity's state history (IdentityState), keyed by node ID (hex)",
            _obj(identities={"type": "object", "additionalProperties": _obj(history=history)})),
        "/spacemesh.v2alpha1.SmeshingIdentitiesService/Eligibilities": v2(
            "each identity's proposal eligibilities per epoch, keyed by node ID (hex) and epoch",
            _obj(eligibilities={"type": "object", "additionalProperties": _obj(epochs={
                "type": "object", "additionalProperties": _obj(eligibilities={"type": "array", "items": eligibility})})})),
        "/smesher/v1/identities": _get(
            "the service's identities (and the marriage ATX it published for them) and the node APIs it uses", tag, [],
            {"200": _json(_obj(service={"type": "string"}, nodes={"type": "array", "items": {"type": "string"}},
                               identities={"type": "array", "items": _obj(
                                   name={"type": "string"}, nodeId=nullable_string, numUnits=U32,
                                   marriageAtx=nullable_string, marriageEpoch={**U32, "nullable": True})}))},
            True),
        "/smesher/v1/post": _get(
            "each identity's PoST data; while smspec post init runs, its rate and the seconds left", tag, [],
            {"200": _json(_obj(identities={"type": "array", "items": data}))}, True),
        "/smesher/v1/proofs": _get(
            "the PoST proofs generated for ATXs, oldest first, with their timing", tag, [],
            {"200": _json(_obj(proofs={"type": "array", "items": proof}))}, True),
        "/openapi.json": _get("this document", tag, [], {"200": _json({"type": "object"})}, True),
        "/dashboard": _get("the dashboard page (docs/dashboard.md)", tag, [], html, True),
        "/dashboard/{file}": _get("the dashboard's script and style sheet", tag, [_param("file", {"type": "string"})],
                                  {"200": {"description": "the file"}, "404": {"description": "no such file"}}, True),
    }
    return {"openapi": "3.0.0",
            "info": {"title": "smspec smeshing service status API", "version": VERSION,
                     "description": "read-only: identity states, eligibilities, PoST data and proofs of one "
                                    "smeshing service"},
            "paths": paths,
            "components": {"schemas": {"Error": _obj(code={"type": "integer"}, message={"type": "string"},
                                                     details={"type": "array", "items": {}})}}}


def serve_status(keys_dir: str, post_dir: str, port: int = 0, nodes: list[str] | None = None) -> ApiServer:
    """Start the status server of a smeshing service's directories on 127.0.0.1:`port` (0: any)."""
    return ApiServer(keys_dir, port, app=SmesherStatusApi(keys_dir, post_dir, nodes)).start()


__all__ = ["ApiError", "SmesherStatusApi", "document", "serve_status"]
