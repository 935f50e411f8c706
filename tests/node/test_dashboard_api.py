"""The APIs the dashboard reads (docs/dashboard.md): the node API's views (rewards, Hare per layer,
ATXs per epoch, tortoise mode, loopback CORS, the page's files) and the smeshing service's status
API (identity states, eligibilities, PoST data with the init rate and time left, proofs, married
set), checked against the devnet's own records."""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request

import pytest
from smspec.tools import post_data
from smspec.tools.node import protocol as p
from smspec.tools.node.api import ApiServer
from smspec.tools.node.devnet import smesher_dir
from smspec.tools.node.smesher_api import SmesherStatusApi, document, serve_status

V2 = "/spacemesh.v2alpha1."


def request(url: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, dict, object]:
    """(status, headers, JSON or text) of a GET (body None) or POST."""
    req = urllib.request.Request(url, data=body, method="GET" if body is None else "POST", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            status, answer_headers, data = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, data = error.code, dict(error.headers), error.read()
    text = data.decode()
    return status, answer_headers, json.loads(text) if answer_headers.get("Content-Type") == "application/json" else text


@pytest.fixture(scope="module")
def node_api(honest):
    devnet, _ = honest
    server = ApiServer(devnet.node_dir(1), 0, devnet.cluster.hosts[1]).start()
    yield devnet, devnet.live()[1], server
    server.stop()


@pytest.fixture(scope="module")
def status_api(honest, node_api):
    """The status server of node 0's smeshing service (the married identities n0 and n0b)."""
    devnet, _ = honest
    home = smesher_dir(devnet.directory, 0, 0)
    server = serve_status(os.path.join(home, "keys"), os.path.join(home, "post"), 0, [node_api[2].url])
    yield devnet, devnet.smeshers[0], server
    server.stop()


def test_hare_view_matches_the_node(node_api):
    devnet, node, server = node_api
    status, _, answer = request(f"{server.url}/smspec/v1/hare/0/{node.last_done() + 1}")
    assert status == 200
    rows = {row["layer"]: row for row in answer["layers"]}
    assert [rows[layer]["outcome"] for layer in range(8)] == ["no_ballots"] * 8
    assert rows[node.last_done() + 1]["outcome"] == "pending"
    for layer in range(node.first_ballot_layer, node.last_done() + 1):
        block_id, source, iteration = node.store.hare_output(layer)
        row = rows[layer]
        assert row["block"] == (None if block_id == p.EMPTY_ID20 else block_id.hex())
        assert row["outcome"] == ("empty" if block_id == p.EMPTY_ID20 else "block")
        assert (row["source"], row["iteration"]) == (source, iteration) == ("hare", 1)
        # the tiny preset's Hare decides in iteration 1: preround, then 7 rounds each of iterations 0 and 1
        assert row["rounds"] == 15
        assert row["proposals"] == node.store.proposal_count(layer)
        assert row["certificates"] == len(node.store.certificates(layer)) == 5


def test_epochs_view_counts_atxs_by_kind(node_api):
    devnet, node, server = node_api
    status, _, answer = request(f"{server.url}/smspec/v1/epochs/0/3")
    kinds = {e["epoch"]: (e["atxs"], e["kinds"]) for e in answer["epochs"]}
    none = {"initial": 0, "solo": 0, "marriage": 0, "merged": 0}
    # 5 identities; in epoch 2 n0 marries n0b (one solo ATX carries the two certificates)
    assert kinds == {0: (0, none), 1: (5, {**none, "initial": 5}), 2: (5, {**none, "solo": 4, "marriage": 1}),
                     3: (5, {**none, "solo": 5})}
    for epoch in (1, 2, 3):
        _, _, listed = request(server.url + V2 + "ActivationService/List",
                               json.dumps({"startEpoch": epoch, "endEpoch": epoch}).encode())
        weight = next(e["weight"] for e in answer["epochs"] if e["epoch"] == epoch)
        assert int(weight) == sum(int(a["weight"]) for a in listed["activations"]) > 0


def test_rewards_pay_each_applied_block_its_layer_reward(node_api):
    devnet, node, server = node_api
    _, _, answer = request(server.url + V2 + "RewardService/List", json.dumps({"limit": 1000}).encode())
    by_layer: dict[int, int] = {}
    for reward in answer["rewards"]:
        assert reward["total"] == reward["layerReward"] and reward["coinbase"].startswith("stest1")
        by_layer[reward["layer"]] = by_layer.get(reward["layer"], 0) + int(reward["total"])
    applied = [layer for layer, block_id, _ in node.store.applied_rows() if block_id != p.EMPTY_ID20]
    assert sorted(by_layer) == applied and set(by_layer.values()) == {node.genesis.layer_reward}
    key = devnet.smeshers[1].identities[0].key
    _, _, mine = request(server.url + V2 + "RewardService/List",
                         json.dumps({"smesher": base64.b64encode(key).decode(), "limit": 1000}).encode())
    assert mine["rewards"] and {r["smesher"] for r in mine["rewards"]} == {base64.b64encode(key).decode()}
    expected = [r for r in answer["rewards"] if r["smesher"] == base64.b64encode(key).decode()]
    assert mine["rewards"] == expected
    coinbase = mine["rewards"][0]["coinbase"]
    _, _, paid = request(server.url + V2 + "RewardService/List",
                         json.dumps({"coinbase": coinbase, "startLayer": 10, "endLayer": 11}).encode())
    assert paid["rewards"] == [r for r in expected if 10 <= r["layer"] <= 11]
    _, _, page = request(server.url + V2 + "RewardService/List", json.dumps({"offset": 2, "limit": 3}).encode())
    assert page["rewards"] == answer["rewards"][2:5]


def test_status_names_the_tortoise_mode(node_api):
    _, node, server = node_api
    _, _, status = request(server.url + "/status")
    assert status["tortoise_mode"] == node.tortoise_mode() == "verifying"


@pytest.mark.parametrize("path, body, code, reason", [
    ("/smspec/v1/hare/9/8", None, 400, "expected first <= last"),
    ("/smspec/v1/hare/0/1000", None, 400, "at most 1000 layers"),
    ("/smspec/v1/epochs/x/2", None, 400, "first epoch: expected an integer"),
    ("/smspec/v1/hare/0/99999999999", None, 400, "last layer: expected 0..4294967295"),
    (V2 + "RewardService/List", b'{"coinbase": "stest1x", "smesher": "AA=="}', 400, "give one of them"),
    (V2 + "RewardService/List", b'{"smesher": "AA=="}', 400, "smesher: expected 32 bytes"),
    (V2 + "RewardService/List", b'{"coinbase": "sm1qqqq"}', 400, "not an address of this network"),
    (V2 + "RewardService/List", b'{"startLayer": -1}', 400, "startLayer: expected 0..4294967295"),
    ("/dashboard/nothing.js", None, 404, "no dashboard file"),
    ("/dashboard/..%2F..%2Fnode%2Fapi.py", None, 404, "unknown path"),
    ("/dashboard/__init__.py", None, 404, "no dashboard file"),
    ("/dashboard/.index.html", None, 404, "no dashboard file"),
])
def test_views_refuse_bad_requests(node_api, path, body, code, reason):
    _, _, server = node_api
    status, _, answer = request(server.url + path, body)
    assert status == code and reason in answer["message"], answer


def test_dashboard_files_are_served(node_api):
    _, _, server = node_api
    status, headers, page = request(server.url + "/dashboard")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<script src="/dashboard/dashboard.js" defer></script>' in page
    status, headers, script = request(server.url + "/dashboard/dashboard.js")
    assert status == 200 and headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "SmeshingIdentitiesService/States" in script
    status, headers, _ = request(server.url + "/dashboard/dashboard.css")
    assert headers["Content-Type"] == "text/css; charset=utf-8"


@pytest.mark.parametrize("origin, allowed", [
    ("http://127.0.0.1:9191", True), ("http://localhost:8000", True), ("http://[::1]:9190", True),
    ("https://127.0.0.1:9191", False), ("http://127.0.0.1.example.com", False), ("http://evil.example", False),
    ("null", False),
])
def test_only_loopback_pages_may_read_the_answers(node_api, status_api, origin, allowed):
    for server in (node_api[2], status_api[2]):
        _, headers, _ = request(server.url + "/openapi.json", headers={"Origin": origin})
        assert headers.get("Access-Control-Allow-Origin") == (origin if allowed else None)
        assert headers["Vary"] == "Origin"


# -- the smeshing service's status API -------------------------------------------------------------


def test_status_api_lists_identities_and_the_married_set(status_api, node_api):
    devnet, smesher, server = status_api
    node = node_api[1]
    _, _, answer = request(server.url + "/smesher/v1/identities")
    n0, n0b = smesher.identities
    wedding = node.marriage(n0.key)
    assert wedding is not None and node.marriage(n0b.key) == wedding
    assert answer == {"service": "smesher0", "nodes": [node_api[2].url], "identities": [
        {"name": ident.name, "nodeId": ident.key.hex(), "numUnits": ident.units,
         "marriageAtx": wedding["marriage_atx"].hex(), "marriageEpoch": wedding["publish_epoch"]}
        for ident in (n0, n0b)]}


def test_status_api_states_are_the_services_history(status_api):
    devnet, smesher, server = status_api
    _, _, answer = request(server.url + V2 + "SmeshingIdentitiesService/States", b"")
    own = smesher.identity_states()["identities"]
    assert set(answer["identities"]) == set(own)
    for node_id, entry in answer["identities"].items():
        history = own[node_id]["history"]
        assert [(h["state"], h.get("publishEpoch")) for h in entry["history"]] == \
            [(h["state"], h.get("publishEpoch")) for h in history]
        assert entry["history"][-1]["time"].endswith("Z")


def test_status_api_eligibilities_are_the_nodes_slots(status_api, node_api):
    devnet, smesher, server = status_api
    node = node_api[1]
    _, _, answer = request(server.url + V2 + "SmeshingIdentitiesService/Eligibilities", b"{}")
    for ident in smesher.identities:
        epochs = answer["eligibilities"][ident.key.hex()]["epochs"]
        assert sorted(epochs) == ["2", "3"]
        for epoch, slots in epochs.items():
            layers = [s["layer"] for s in slots["eligibilities"]]
            assert layers == sorted(set(layers)) and all(int(epoch) * 4 <= x < int(epoch) * 4 + 4 for x in layers)
            assert sum(s["count"] for s in slots["eligibilities"]) == node.eligibility_slots(ident.key, int(epoch))


def test_status_api_proofs_name_the_atxs_on_the_node(status_api, node_api):
    devnet, smesher, server = status_api
    node = node_api[1]
    _, _, answer = request(server.url + "/smesher/v1/proofs")
    proofs = {(proof["name"], proof["publishEpoch"]): proof for proof in answer["proofs"]}
    assert sorted(proofs) == [(name, epoch) for name in ("n0", "n0b") for epoch in (1, 2, 3)]
    for ident in smesher.identities:
        for epoch in (1, 2, 3):
            proof = proofs[(ident.name, epoch)]
            rows = node.db.execute("SELECT id FROM atxs WHERE smesher_id = ? AND publish_epoch = ?",
                                   (ident.key, epoch)).fetchall()
            assert [bytes.fromhex(proof["atx"])] == [row[0] for row in rows]
            assert proof["seconds"] >= 0 and proof["started"].endswith("Z")


def test_status_api_reports_complete_post_data(status_api):
    devnet, smesher, server = status_api
    _, _, answer = request(server.url + "/smesher/v1/post")
    post = p.modules().post
    for ident, data in zip(smesher.identities, answer["identities"]):
        metadata = post.load_metadata(ident.post_dir)
        labels = post.total_labels(metadata)
        assert data == {"name": ident.name, "nodeId": ident.key.hex(), "state": "STATE_COMPLETE",
                        "numUnits": ident.units, "numLabels": str(labels), "numLabelsWritten": str(labels),
                        "files": post.num_files(metadata), "filesWritten": post.num_files(metadata),
                        "sizeBytes": str(16 * labels), "bytesWritten": str(16 * labels), "error": None,
                        "labelsPerSecond": None, "secondsLeft": None}


def test_status_api_measures_a_running_init(tmp_path):
    """While `post init` writes an identity's data (parameter record, metadata without a nonce,
    checkpoint), the status API reports the labels written, the rate between its requests and the
    time left."""
    post = p.modules().post
    keys, data = tmp_path / "keys", tmp_path / "post" / "alice"
    keys.mkdir()
    data.mkdir(parents=True)
    params = post_data.InitParams(b"\x07" * 32, b"\x08" * 32, 1000, 4, 16 * 1000, 16)
    (data / post_data.PARAMS_FILE).write_text(params.to_json())
    (data / post.METADATA_FILE_NAME).write_text(post.metadata_to_json(params.metadata(post)))
    now = [100.0]
    app = SmesherStatusApi(str(keys), str(tmp_path / "post"), clock=lambda: now[0])
    server = ApiServer(str(keys), 0, app=app).start()
    try:
        def progress(labels_done: int) -> dict:
            post_data.write_checkpoint(str(data), post_data.Checkpoint(16, labels_done, None, 100))
            (data / "postdata_0.bin").write_bytes(bytes(16 * min(labels_done, 1000)))
            return request(server.url + "/smesher/v1/post")[2]["identities"][0]

        first = progress(500)
        assert (first["state"], first["numLabels"], first["numLabelsWritten"], first["files"], first["filesWritten"],
                first["bytesWritten"]) == ("STATE_IN_PROGRESS", "4000", "500", 4, 1, "8000")
        assert (first["labelsPerSecond"], first["secondsLeft"]) == (None, None)  # one sample: no rate yet
        now[0] += 4.0
        second = progress(1300)
        assert (second["labelsPerSecond"], second["secondsLeft"]) == (200.0, 13.5)  # 800 labels in 4 s; 2700 left
        (data / post_data.STATE_FILE).unlink()
        done = post.metadata_to_json(post.PostMetadata(b"\x07" * 32, b"\x08" * 32, 1000, 4, 16 * 1000, nonce=5))
        (data / post.METADATA_FILE_NAME).write_text(done)
        complete = request(server.url + "/smesher/v1/post")[2]["identities"][0]
        assert (complete["state"], complete["numLabelsWritten"], complete["labelsPerSecond"]) == \
            ("STATE_COMPLETE", "4000", None)
        (data / post_data.PARAMS_FILE).write_text("{")
        (data / post.METADATA_FILE_NAME).unlink()
        broken = request(server.url + "/smesher/v1/post")[2]["identities"][0]
        assert broken["state"] == "STATE_ERROR" and "not valid JSON" in broken["error"], broken
        _, _, states = request(server.url + V2 + "SmeshingIdentitiesService/States", b"")
        assert states == {"identities": {}}  # the service has not run: no database yet
    finally:
        server.stop()


def test_status_api_document_matches_its_routes(status_api):
    _, _, server = status_api
    _, _, answer = request(server.url + "/openapi.json")
    assert answer == document()
    documented = {(method.upper(), path) for path, item in answer["paths"].items() for method in item}
    assert documented == {(method, pattern) for method, pattern, _, _ in server.app.routes}


@pytest.mark.parametrize("path, body, code, reason", [
    (V2 + "SmeshingIdentitiesService/States", b"{", 400, "not valid JSON"),
    (V2 + "SmeshingIdentitiesService/Eligibilities", b"[1]", 400, "must be a JSON object"),
    ("/smesher/v1/post", b"{}", 405, "takes GET"),
    ("/smesher/v1/keys", None, 404, "unknown path"),
])
def test_status_api_refuses_bad_requests(status_api, path, body, code, reason):
    _, _, server = status_api
    status, _, answer = request(server.url + path, body)
    assert status == code and reason in answer["message"], answer
