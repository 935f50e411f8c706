"""Handlers of the ``node_api/*`` vectors: request/response cases of the node's HTTP API
(tools/node/api.py, docs/node.md): the public API (API v2alpha1 shapes) and the node-service
API (``/node/v1``, after go-spacemesh's ``api/node/node_service.yaml``).

* ``request/answer``: inputs ``method`` (``GET``/``POST``), ``path``, ``body`` (``0x`` hex).
  The request goes to a node that has its genesis and nothing else (no layer, no ATX, no
  transaction; read-only: no layer clock). Output ``{"status", "body"}``: the HTTP status and the
  JSON answer (``null`` for a non-JSON answer). An implementation of the node checks that it
  answers the same; one of a smeshing service, that it reads these answers as ours does.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from typing import Any

from smspec.conformance.handlers import handler, hexbytes
from smspec.conformance.schema import Schema, inp, out

GENESIS = {"accounts": {}, "config": "tiny", "extra_data": "smspec-devnet", "genesis_time": 1700000000,
           "hrp": "stest", "layer_reward": 1000000, "layer_size": 10, "layers_per_epoch": 4, "poet_leaves": 1000,
           "tick_size": 100, "wallet_code": "00"}


@handler("node_api", "request", "answer", schema=Schema(
    page="node_api-request-answer", summary="A request to the reference node's HTTP API (the public API in API "
    "v2alpha1 shapes, and the node-service API `/node/v1` for smeshing services) and its answer.",
    spec=("node.md#introduction",),
    inputs=(inp("method", "enum:GET,POST", "the HTTP method"), inp("path", "text", "the absolute path"),
            inp("body", "hex", "the request body")),
    outputs=(out("status", "uint", "the HTTP status"),
             out("body", "json", "the JSON answer (an error answer is `{\"message\": reason}`), or null for a "
                 "non-JSON answer")),
    notes=("The node has its genesis (tiny configuration, genesis time 1700000000, extra data `smspec-devnet`, "
           "human-readable part `stest`, no accounts) and nothing else: no layer, no ATX, no transaction, no layer "
           "clock. An implementation of the node checks it answers the same; one of a smeshing service, that it "
           "reads these answers as ours does.",
           "The API is described in docs/node.md (\"The node-service API\", \"The public API\"); it is the "
           "devnet's, so these cases are of level `devnet`.",
           "The bodies published through `/node/v1/publish/{protocol}` and `/node/v1/poet` are the wire types of "
           "`node/wire/*` (proposal, transaction, certificate, double-proposal proof, PoET proof) and the ATX and "
           "Hare wire types.")))
def answer(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: method, path, body (hex). output: status (int), body (JSON or null)."""
    from smspec.impl.registry import active_backend, use_backend

    backend = active_backend()
    try:
        return _answer(inputs, spec)
    finally:
        # the node's modules switch the process to the impl backend: the cases after this one
        # must run on the backend under test (and be measured by `smspec vectors coverage`)
        if active_backend() != backend:
            use_backend(backend)


def _answer(inputs: dict[str, Any], spec) -> dict[str, Any]:
    from smspec.tools.node.api import Api
    from smspec.tools.node.storage import NodeStore

    method, path, body = inputs["method"], inputs["path"], hexbytes(inputs["body"])
    if method not in ("GET", "POST") or not isinstance(path, str) or not path.startswith("/"):
        raise ValueError("method GET or POST and an absolute path")
    with tempfile.TemporaryDirectory(prefix="smspec-node-api-") as directory:
        store = NodeStore(spec("atx"), os.path.join(directory, "node.sqlite"))
        with store.transaction():
            store.set_meta("genesis", json.dumps(GENESIS, sort_keys=True))
        store.close()
        app = Api(directory)
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list) -> None:
            captured["status"] = int(status.split()[0])
            captured["type"] = dict(headers).get("Content-Type", "")

        environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "CONTENT_LENGTH": str(len(body)),
                   "wsgi.input": io.BytesIO(body)}
        data = b"".join(app(environ, start_response))
    parsed = json.loads(data) if captured["type"].startswith("application/json") else None
    return {"status": captured["status"], "body": parsed}
