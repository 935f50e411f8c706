"""Contract vectors of the node's HTTP API (docs/node.md): requests to a node holding only its
genesis, with the exact answer. The bad requests are those a hostile client sent to the earlier
node (huge numbers, malformed JSON, NaN, unknown protocols); each gets a 4xx with its reason."""

from __future__ import annotations

import json

from smspec.conformance.cases import Case, output_fields, vector_source

V2 = "/spacemesh.v2alpha1."
NODE = "00" * 32


def request(name: str, method: str, path: str, body: bytes | dict = b"", expected_status: int | None = None) -> Case:
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    return Case(name, inputs={"method": method, "path": path, "body": raw}, spec_ref="node.md#introduction",
                description=f"{method} {path}" + (f" -> {expected_status}" if expected_status else ""),
                check=output_fields(status=expected_status or 200))


@vector_source("node_api", "request", "answer")
def test_node_api_contract():
    yield request("status_before_any_layer", "POST", V2 + "NodeService/Status", {})
    yield request("network_info", "POST", V2 + "NetworkService/Info", {})
    yield request("no_layers_yet", "POST", V2 + "LayerService/List", {"startLayer": 0, "endLayer": 3})
    yield request("no_accounts", "POST", V2 + "AccountService/List", {})
    yield request("unknown_account_is_empty", "POST", V2 + "AccountService/List",
                  {"addresses": ["stest1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqhme456"]})
    yield request("no_activations", "POST", V2 + "ActivationService/ActivationsCount", {"epoch": 2})
    yield request("no_malfeasance", "POST", V2 + "MalfeasanceService/List", {})
    yield request("huge_layer", "POST", V2 + "LayerService/List", {"startLayer": 10**30}, 400)
    yield request("limit_zero", "POST", V2 + "LayerService/List", {"limit": 0}, 400)
    yield request("epoch_not_a_number", "POST", V2 + "ActivationService/ActivationsCount", {"epoch": "x"}, 400)
    yield request("tx_is_a_number", "POST", V2 + "TransactionService/SubmitTransaction", {"tx": 5}, 400)
    yield request("transaction_not_base64", "POST", V2 + "TransactionService/SubmitTransaction",
                  {"transaction": "not base64!"}, 400)
    yield request("nan", "POST", V2 + "TransactionService/SubmitTransaction", b'{"transaction": NaN}', 400)
    yield request("deep_nesting", "POST", V2 + "NodeService/Status", b"[" * 50 + b"]" * 50, 400)
    yield request("not_an_object", "POST", V2 + "NodeService/Status", b"[]", 400)
    yield request("address_of_another_network", "POST", V2 + "AccountService/List",
                  {"addresses": ["sm1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq2wqd6r"]}, 400)
    yield request("unknown_path", "GET", "/layers/99999999999999999999", b"", 404)
    yield request("wrong_method", "GET", V2 + "NodeService/Status", b"", 405)
    yield request("node_service_bad_node_id", "GET", "/node/v1/activation/last_atx/zz", b"", 400)
    yield request("node_service_huge_epoch", "GET", "/node/v1/hare/beacon/99999999999", b"", 400)
    yield request("node_service_unknown_protocol", "POST", "/node/v1/publish/xx9", b"\x00", 400)
    yield request("node_service_empty_publish", "POST", "/node/v1/publish/pp1", b"", 400)
    yield request("node_service_needs_a_running_node", "GET", f"/node/v1/activation/last_atx/{NODE}", b"", 503)
    yield request("node_service_info", "GET", "/node/v1/info", b"")


def test_contract_answers_have_the_intended_status():
    """Each case answers the status its description names (200 where none is named)."""
    from smspec.conformance.execute import spec_accessor
    from smspec.conformance.handlers.node_api import answer

    cases = list(test_node_api_contract.vector_source.cases())
    assert len(cases) == 24
    for case in cases:
        inputs = {**case.inputs, "body": "0x" + case.inputs["body"].hex()}
        result = answer(inputs, spec_accessor("mainnet"))
        status = int(case.description.rsplit("-> ", 1)[1]) if "->" in case.description else 200
        assert result["status"] == status, (case.name, result)
        if status >= 400:
            assert result["body"]["message"], case.name
    status = answer({"method": "POST", "path": V2 + "NodeService/Status", "body": "0x"}, spec_accessor("mainnet"))
    assert status == {"status": 200, "body": {"connectedPeers": "0", "status": "SYNC_STATUS_SYNCING", "latestLayer": 0,
                                              "appliedLayer": 0, "processedLayer": 0, "currentLayer": 0}}
