"""The OpenAPI 3 document of the node's HTTP API (served at ``GET /openapi.json``).

The node-service part follows go-spacemesh's node-split contract
(spacemeshos/go-spacemesh@0009c7056a729c7f500a067ad0ad392dca2a5844:api/node/node_service.yaml):
the same resources and shapes under the base path ``/node/v1``; what it adds is marked
``x-smspec: extension``. The public part follows the JSON gateway of API v2alpha1
(spacemeshos/api@17a6abbeffb7a5da55bb56d4248cad509f6d76cf:spacemesh/v2alpha1/*.proto).
``tests/node/test_api.py`` checks that every route of ``tools/node/api.py`` is documented here
and every documented path is routed.
"""

from __future__ import annotations

from typing import Any

VERSION = "1.0.0"

HEX32 = {"type": "string", "format": "hex", "minLength": 64, "maxLength": 64}
U32 = {"type": "integer", "format": "uint32"}
U64_STRING = {"type": "string", "format": "uint64"}
BYTES = {"type": "string", "format": "byte"}
ERROR = {"description": "bad request: the reason", "content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/Error"}}}}
BINARY = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _obj(**properties: Any) -> dict:
    return {"type": "object", "properties": properties}


def _param(name: str, schema: dict) -> dict:
    return {"in": "path", "name": name, "required": True, "schema": schema}


def _v2(summary: str, request: dict, response: dict) -> dict:
    return {"post": {"summary": summary, "tags": ["public (v2alpha1)"],
                     "requestBody": {"required": False, "content": {"application/json": {"schema": request}}},
                     "responses": {"200": _json(response), "400": ERROR}}}


def _get(summary: str, tag: str, params: list[dict], responses: dict, extension: bool = False) -> dict:
    operation: dict = {"summary": summary, "tags": [tag], "parameters": params,
                       "responses": {**responses, "400": ERROR}}
    if extension:
        operation["x-smspec"] = "extension"
    return {"get": operation}


ATX = _obj(ID=HEX32, SmesherID=HEX32, PublishEpoch=U32, NumUnits=U32, TickCount={"type": "integer"},
           Weight={"type": "integer"}, Sequence={"type": "integer"}, VRFNonce=U64_STRING,
           MarriageATX={**HEX32, "nullable": True})
ACCOUNT_STATE = _obj(counter=U64_STRING, balance=U64_STRING, layer=U32)
PAGE = {"offset": U64_STRING, "limit": U64_STRING}


def document() -> dict:
    ns = "node service"
    paths = {
        "/spacemesh.v2alpha1.NodeService/Status": _v2(
            "node status", _obj(),
            _obj(connectedPeers=U64_STRING, status={"type": "string", "enum": [
                "SYNC_STATUS_UNSPECIFIED", "SYNC_STATUS_OFFLINE", "SYNC_STATUS_SYNCING", "SYNC_STATUS_SYNCED"]},
                latestLayer=U32, appliedLayer=U32, processedLayer=U32, currentLayer=U32)),
        "/spacemesh.v2alpha1.NetworkService/Info": _v2(
            "network parameters", _obj(),
            _obj(genesisTime={"type": "string", "format": "date-time"}, layerDuration={"type": "string"},
                 genesisId=BYTES, hrp={"type": "string"}, effectiveGenesisLayer=U32, layersPerEpoch=U32,
                 labelsPerUnit=U64_STRING)),
        "/spacemesh.v2alpha1.LayerService/List": _v2(
            "layers", _obj(startLayer=U32, endLayer=U32, sortOrder={"type": "string", "enum": ["ASC", "DESC"]}, **PAGE),
            _obj(layers={"type": "array", "items": _obj(
                number=U32, status={"type": "string"}, consensusHash={"type": "string"}, stateHash=BYTES,
                cumulativeStateHash=BYTES, block=_obj(id=BYTES))})),
        "/spacemesh.v2alpha1.AccountService/List": _v2(
            "accounts (bech32 addresses)", _obj(addresses={"type": "array", "items": {"type": "string"}}, **PAGE),
            _obj(accounts={"type": "array", "items": _obj(address={"type": "string"}, current=ACCOUNT_STATE,
                                                          projected=ACCOUNT_STATE, template={"type": "string"})})),
        "/spacemesh.v2alpha1.ActivationService/List": _v2(
            "activations (ATXs)", _obj(startEpoch=U32, endEpoch=U32, id={"type": "array", "items": BYTES},
                                       smesherId={"type": "array", "items": BYTES}, **PAGE),
            _obj(activations={"type": "array", "items": _obj(
                id=BYTES, smesherId=BYTES, publishEpoch=U32, coinbase={"type": "string"}, weight=U64_STRING,
                height=U64_STRING, numUnits=U32)})),
        "/spacemesh.v2alpha1.ActivationService/ActivationsCount": _v2(
            "ATXs of an epoch", _obj(epoch=U32), _obj(count=U32)),
        "/spacemesh.v2alpha1.TransactionService/List": _v2(
            "transactions", _obj(txid={"type": "array", "items": BYTES}, address={"type": "string"}, startLayer=U32,
                                 endLayer=U32, includeState={"type": "boolean"}, includeResult={"type": "boolean"},
                                 **PAGE),
            _obj(transactions={"type": "array", "items": _obj(tx={"type": "object"}, txResult={"type": "object"},
                                                              txState={"type": "string"},
                                                              smspecStatus={"type": "string"})})),
        "/spacemesh.v2alpha1.TransactionService/SubmitTransaction": _v2(
            "submit a signed transaction (SCALE Tx, base64)", _obj(transaction=BYTES),
            _obj(status=_obj(code={"type": "integer"}, message={"type": "string"}), txId=BYTES,
                 smspecStatus={"type": "string"})),
        "/spacemesh.v2alpha1.MalfeasanceService/List": _v2(
            "identities proven malicious, with the proof the node keeps (properties.proof, hex)",
            _obj(smesherId={"type": "array", "items": BYTES}, **PAGE),
            _obj(proofs={"type": "array", "items": _obj(
                smesher=BYTES, domain={"type": "string", "enum": ["DOMAIN_ACTIVATION", "DOMAIN_BALLOT", "DOMAIN_HARE"]},
                type={"type": "integer"}, properties={"type": "object", "additionalProperties": {"type": "string"}})})),
        "/status": _get("this node's detailed status (smspec)", "smspec", [], {"200": _json({"type": "object"})}, True),
        "/metrics": _get("Prometheus text metrics", "smspec", [],
                         {"200": {"description": "metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}},
                         True),
        "/openapi.json": _get("this document", "smspec", [], {"200": _json({"type": "object"})}, True),
        "/node/v1/info": _get("genesis and clock (what a smeshing service configures itself from)", ns, [],
                              {"200": _json({"type": "object"})}, True),
        "/node/v1/activation/positioning_atx/{publish_epoch}": _get(
            "positioning ATX ID for a publish epoch", ns, [_param("publish_epoch", U32)],
            {"200": _json(_obj(ID=HEX32))}),
        "/node/v1/activation/last_atx/{node_id}": _get(
            "last ATX of a node ID", ns, [_param("node_id", HEX32)],
            {"200": _json(ATX), "404": {"description": "there is no ATX for this node"}}),
        "/node/v1/activation/atx/{atx_id}": _get(
            "ATX by ID", ns, [_param("atx_id", HEX32)], {"200": _json(ATX), "404": {"description": "ATX not found"}}),
        "/node/v1/activation/marriage/{node_id}": _get(
            "the marriage ATX of a married identity", ns, [_param("node_id", HEX32)],
            {"200": _json(_obj(MarriageATX=HEX32, PublishEpoch=U32)), "404": {"description": "not married"}}, True),
        "/node/v1/malfeasance/{node_id}": _get(
            "whether an identity is known malicious", ns, [_param("node_id", HEX32)],
            {"200": _json(_obj(Malicious={"type": "boolean"}))}, True),
        "/node/v1/publish/{protocol}": {"post": {
            "summary": "validate an object and gossip it when valid; ax1 ATX, pp1 proposal, tx1 transaction, "
                       "mp1 malfeasance proof, hm1 Hare message (smspec), cr1 certificate (smspec)", "tags": [ns],
            "parameters": [_param("protocol", {"type": "string",
                                                "enum": ["ax1", "pp1", "tx1", "mp1", "hm1", "cr1"]})],
            "requestBody": {"required": True, "content": BINARY},
            "responses": {"200": _json(_obj(status={"type": "string", "enum": ["accepted", "duplicate", "rejected"]},
                                            reason={"type": "string"})), "400": ERROR}}},
        "/node/v1/poet": {"post": {"summary": "store (and gossip) a PoET proof", "tags": [ns],
                                   "requestBody": {"required": True, "content": BINARY},
                                   "responses": {"200": _json(_obj(status={"type": "string"})), "400": ERROR}}},
        "/node/v1/hare/round_template/{layer}/{iter}/{round}": _get(
            "the Hare message body to sign (SCALE Body, empty eligibility)", ns,
            [_param("layer", U32), _param("iter", {"type": "integer", "format": "uint8"}),
             _param("round", {"type": "integer", "format": "uint8"})],
            {"200": {"description": "the template", "content": BINARY}, "204": {"description": "nothing to send"}}),
        "/node/v1/hare/total_weight/{layer}": _get(
            "total weight of a layer's active set (decimal text)", ns, [_param("layer", U32)],
            {"200": {"description": "weight", "content": BINARY}}),
        "/node/v1/hare/weight/{node_id}/{layer}": _get(
            "weight of an identity in a layer (decimal text)", ns, [_param("node_id", HEX32), _param("layer", U32)],
            {"200": {"description": "weight", "content": BINARY}}),
        "/node/v1/hare/beacon/{epoch}": _get(
            "the beacon of an epoch (4 bytes)", ns, [_param("epoch", U32)],
            {"200": {"description": "beacon", "content": BINARY}}),
        "/node/v1/hare/certificate/{layer}": _get(
            "the block this node's Hare decided, for its identities to certify", ns, [_param("layer", U32)],
            {"200": _json(_obj(BlockID={"type": "string"}, Block={"type": "string", "nullable": True})),
             "204": {"description": "the node did not decide this layer"}}, True),
        "/node/v1/proposal/{layer}/{node}": _get(
            "a partial proposal (SCALE Proposal without eligibilities and signature)", ns,
            [_param("layer", U32), _param("node", HEX32)],
            {"200": {"description": "the partial proposal", "content": BINARY},
             "204": {"description": "no ATX for this epoch"}}),
        "/node/v1/eligibility/slots/{node}/{epoch}": _get(
            "eligibility slots of an identity in an epoch", ns, [_param("node", HEX32), _param("epoch", U32)],
            {"200": _json(_obj(Slots=U32))}),
    }
    from smspec.tools.node.api_views import paths as view_paths

    paths.update(view_paths())  # rewards, Hare and epoch views, the dashboard (tools/node/api_views.py)
    return {
        "openapi": "3.0.0",
        "info": {"title": "smspec reference node API", "version": VERSION,
                 "description": "public API in API v2alpha1 JSON shapes; node-service API for smeshing services "
                                "(go-spacemesh api/node/node_service.yaml) under /node/v1"},
        "paths": paths,
        "components": {"schemas": {"Error": _obj(code={"type": "integer"}, message={"type": "string"},
                                                 details={"type": "array", "items": {}})}},
    }
