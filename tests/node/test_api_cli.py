"""The node's HTTP API (public v2alpha1 shapes, node-service API, OpenAPI document, hardening)
and the ``smspec devnet`` / ``node`` / ``tx`` / ``smesher`` commands."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from smspec.tools.cli import main
from smspec.tools.node import protocol as p
from smspec.tools.node import wallet as w
from smspec.tools.node.api import ApiServer


def get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def post(url: str, body: object = None, raw: bytes | None = None) -> tuple[int, dict]:
    data = raw if raw is not None else json.dumps(body or {}).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def api(honest):
    devnet, _ = honest
    server = ApiServer(devnet.node_dir(1), 0, devnet.cluster.hosts[1]).start()
    yield devnet, server
    server.stop()


V2 = "/spacemesh.v2alpha1."


def test_public_api_in_v2alpha1_shapes(api):
    devnet, server = api
    node = devnet.live()[1]
    hrp = node.genesis.hrp
    code, status = post(server.url + V2 + "NodeService/Status")
    assert code == 200 and status["appliedLayer"] == node.applied_top() and status["status"] == "SYNC_STATUS_SYNCED"
    code, info = post(server.url + V2 + "NetworkService/Info")
    assert base64.b64decode(info["genesisId"]) == node.genesis_id and info["layersPerEpoch"] == 4 and info["hrp"] == hrp
    code, layers = post(server.url + V2 + "LayerService/List", {"startLayer": node.first_ballot_layer,
                                                                  "endLayer": node.applied_top()})
    rows = node.store.applied_rows()
    assert [(x["number"], base64.b64decode(x["block"]["id"]), base64.b64decode(x["stateHash"]))
            for x in layers["layers"]] == rows
    code, atxs = post(server.url + V2 + "ActivationService/List", {"startEpoch": 2, "endEpoch": 2})
    assert len(atxs["activations"]) == 5 and all(a["publishEpoch"] == 2 for a in atxs["activations"])
    assert post(server.url + V2 + "ActivationService/ActivationsCount", {"epoch": 2})[1] == {"count": 5}
    bob = devnet.user_address("bob")  # spawned, paid through alice's proxy (carol's spend comes after layer 15)
    code, accounts = post(server.url + V2 + "AccountService/List",
                          {"addresses": [p.rules.encode_address(hrp, bob)]})
    (account,) = accounts["accounts"]
    balance = int(node.db.execute("SELECT balance FROM accounts WHERE address = ?", (bob,)).fetchone()[0])
    assert account["address"].startswith(hrp + "1") and int(account["current"]["balance"]) == balance > 0
    code, txs = post(server.url + V2 + "TransactionService/List", {"limit": 3})
    assert code == 200 and [t["txState"] for t in txs["transactions"]] == ["TRANSACTION_STATE_PROCESSED"] * 3


def test_openapi_document_matches_the_routes(api):
    """Every route of the API is documented, every documented path is routed, with its method."""
    _, server = api
    document = get(server.url + "/openapi.json")
    assert document["openapi"].startswith("3.") and document["info"]["version"] == "1.0.0"
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    routed = {(method, pattern) for method, pattern, _, _ in server.app.routes}
    assert documented == routed
    for path, item in document["paths"].items():
        for operation in item.values():
            names = {param["name"] for param in operation.get("parameters", [])}
            assert names == set(__import__("re").findall(r"\{([a-z_]+)\}", path)), path


def test_node_service_api_serves_the_smeshing_service(api):
    devnet, server = api
    node = devnet.live()[1]
    key = next(iter(devnet.smeshers[1].identities)).key
    base = server.url + "/node/v1"
    last = get(f"{base}/activation/last_atx/{key.hex()}")
    assert last["SmesherID"] == key.hex() and last["PublishEpoch"] == 3
    assert get(f"{base}/activation/atx/{last['ID']}") == last
    assert get(f"{base}/eligibility/slots/{key.hex()}/3")["Slots"] == node.eligibility_slots(key, 3)
    with urllib.request.urlopen(f"{base}/hare/beacon/3", timeout=10) as response:
        assert response.read() == node.beacon(3)
    with urllib.request.urlopen(f"{base}/proposal/15/{key.hex()}", timeout=10) as response:
        partial = p.decode(response.read(), p.Proposal)
    assert partial.smesher == key and partial.eligibilities == [] and partial.signature == bytes(64)
    with urllib.request.urlopen(f"{base}/hare/round_template/15/0/0", timeout=10) as response:
        assert response.status == 204  # no session running
    code, verdict = post(f"{base}/publish/pp1", raw=node.store.proposal_of(14, key) or b"\x00")
    assert code == 200 and verdict["status"] in ("duplicate", "rejected")


@pytest.mark.parametrize("path, body, status, reason", [
    (V2 + "TransactionService/SubmitTransaction", b'{"tx": 5}', 400, "transaction: required"),
    (V2 + "TransactionService/SubmitTransaction", b'{"transaction": 5}', 400, "base64"),
    (V2 + "TransactionService/SubmitTransaction", b'{"transaction": NaN}', 400, "not valid JSON"),
    (V2 + "TransactionService/SubmitTransaction", b'{"transaction": "AAAA"}', 400, "not a transaction"),
    (V2 + "NodeService/Status", b"[" * 100 + b"]" * 100, 400, "nested deeper"),
    (V2 + "NodeService/Status", b"{", 400, "not valid JSON"),
    (V2 + "LayerService/List", b'{"startLayer": 99999999999999}', 400, "startLayer: expected 0..4294967295"),
    (V2 + "LayerService/List", b'{"limit": 0}', 400, "limit"),
    (V2 + "ActivationService/ActivationsCount", b'{"epoch": "x"}', 400, "epoch: expected an integer"),
    (V2 + "AccountService/List", b'{"addresses": ["sm1qqqq"]}', 400, "not an address of this network"),
    ("/node/v1/publish/zz1", b"\x00", 400, "protocol: one of"),
    ("/node/v1/publish/pp1", b"", 400, "empty body"),
    ("/node/v1/poet", b"\x00\x01", 400, "PoET proof rejected"),
    ("/nothing", b"{}", 404, "unknown path"),
    ("/status", b"{}", 405, "takes GET"),
])
def test_bad_requests_get_a_4xx_with_a_reason(api, path, body, status, reason):
    devnet, server = api
    node = devnet.live()[1]
    before = (node.store.applied_rows(), node.state_root(), node.store.proposal_count())
    code, answer = post(server.url + path, raw=body)
    assert code == status and reason in answer["message"], answer
    assert (node.store.applied_rows(), node.state_root(), node.store.proposal_count()) == before


@pytest.mark.parametrize("path, status", [
    ("/node/v1/activation/atx/zz", 400), ("/node/v1/activation/atx/" + "00" * 32, 404),
    ("/node/v1/hare/beacon/99999999999999", 400), ("/node/v1/proposal/1/00", 400)])
def test_bad_paths(api, path, status):
    _, server = api
    with pytest.raises(urllib.error.HTTPError) as error:
        get(server.url + path)
    assert error.value.code == status


@pytest.mark.parametrize("header, status", [(b"Content-Length: -1", b"400"), (b"Content-Length: abc", b"400"),
                                            (b"Content-Length: 52428800", b"413")])
def test_bad_content_length_is_refused_at_once(api, header, status):
    """A negative, non-numeric or huge Content-Length is answered at once, the body never read."""
    _, server = api
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(b"POST " + V2.encode() + b"NodeService/Status HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n\r\n")
        assert connection.recv(64).split()[1] == status


def test_slow_clients_do_not_hold_the_server(honest):
    """A server with 8 connection slots and a 2 s idle timeout: 20 half-sent requests do not
    stop it from answering once they time out, and it runs a fixed number of threads."""
    import threading
    import time

    devnet, _ = honest
    server = ApiServer(devnet.node_dir(0), 0, None, threads=2, connection_limit=8, timeout=2).start()
    try:
        threads_before = threading.active_count()
        slow = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(20)]
        for connection in slow:
            connection.sendall(b"POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        assert threading.active_count() == threads_before
        deadline = time.monotonic() + 30
        while True:
            try:
                status = get(server.url + "/status")
                break
            except (urllib.error.URLError, OSError):
                assert time.monotonic() < deadline
                time.sleep(0.5)
        assert status["node"] == 0
        for connection in slow:
            connection.close()
    finally:
        server.stop()


def test_metrics_in_prometheus_text(api):
    _, server = api
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as response:
        text = response.read().decode()
        assert response.headers["Content-Type"].startswith("text/plain")
    lines = dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
    node = api[0].live()[1]
    assert int(float(lines["smspec_verified_layer"])) == node.tortoise.verified
    assert int(float(lines["smspec_applied_layer"])) == node.applied_top()
    assert 'smspec_txpool{status="ok"}' in lines and "smspec_peers" in lines


def test_tx_send_counts_every_known_transaction(api, capsys, tmp_path):
    """A spend sent right after a spawn gets the next nonce (the pool's transactions count), is
    told why it cannot land when it cannot, and a spend of the same nonce is refused with a reason."""
    devnet, server = api
    node = devnet.live()[1]
    keys = os.path.join(devnet.directory, "users.keys.json")
    principal = devnet.user_address("bob")
    waiting = [nonce for _, _, _, nonce, _ in node.store.waiting_txs_of(principal)]
    expected = max([node.store.account_nonce(principal)] + [n + 1 for n in waiting])
    code, out, err = run(capsys, "tx", "send", "--url", server.url, "--keys", keys, "--from", "bob", "--to", "carol",
                         "--amount", "77", "--json")
    assert code == 0, err
    sent = json.loads(out)
    assert sent["principal"] == p.rules.encode_address(node.genesis.hrp, principal)
    assert sent["nonce"] == expected and sent["status"] == "pending"
    code, out, err = run(capsys, "tx", "send", "--url", server.url, "--keys", keys, "--from", "bob", "--to", "carol",
                         "--amount", "78", "--json")
    assert code == 0 and json.loads(out)["nonce"] == sent["nonce"] + 1
    code, out, err = run(capsys, "tx", "send", "--url", server.url, "--keys", keys, "--from", "bob", "--to", "dave",
                         "--amount", "5", "--nonce", str(sent["nonce"]), "--json")
    assert code == 1 and json.loads(out)["status"] == "rejected:nonce_in_use"
    code, out, err = run(capsys, "tx", "send", "--url", server.url, "--keys", keys, "--from", "bob", "--to", "dave",
                         "--amount", "5", "--nonce", "0", "--json")
    assert code == 1 and json.loads(out)["status"] == "rejected:nonce_too_low"
    code, out, _ = run(capsys, "tx", "status", sent["id"], "--url", server.url)
    assert json.loads(out)["status"] == "pending" and json.loads(out)["state"] == "TRANSACTION_STATE_MEMPOOL"
    # the node gossips what the API accepted at its next relay
    assert len(node.take_relay()) == 2
    code, out, _ = run(capsys, "node", "status", "--url", server.url)
    assert code == 0 and f"state root 0x{node.state_root().hex()}" in out
    code, out, _ = run(capsys, "node", "status", "--datadir", devnet.directory, "--node", "2", "--json")
    assert code == 0 and json.loads(out)["node"] == 2


def test_mempool_caps(honest):
    """Spends of unspawned principals with random signatures: at most MEMPOOL_MAX_UNCHECKED are
    kept, the rest refused (pool_full); per principal at most MEMPOOL_MAX_PER_PRINCIPAL."""
    from smspec.tools.node import node as node_module

    devnet, _ = honest
    node = devnet.live()[3]
    m = node.m
    initial = node.store.waiting_count(status="unchecked")
    seed = m.crypto.hash32(b"one principal")
    sent = [w.make_spend(m, node.genesis_id, node.template, seed, n, bytes(24), 1)
            for n in range(node_module.MEMPOOL_MAX_PER_PRINCIPAL + 1)]
    many = [node.receive("tx", p.encode(tx, p.Tx)) for tx in sent]
    assert {v.status for v in many[:-1]} == {"accepted"} and many[-1].reason == "principal_full"
    far = w.make_spend(m, node.genesis_id, node.template, m.crypto.hash32(b"far"), 10**6, bytes(24), 1)
    assert node.receive("tx", p.encode(far, p.Tx)).reason == "nonce_too_high"
    before = node.store.waiting_count(status="unchecked")
    limit = node_module.MEMPOOL_MAX_UNCHECKED
    verdicts = []
    for i in range(limit - before + 5):
        seed = m.crypto.hash32(b"cap", i.to_bytes(4, "little"))
        tx = w.make_spend(m, node.genesis_id, node.template, seed, 0, bytes(24), 1)
        sent.append(tx)
        verdicts.append(node.receive("tx", p.encode(tx, p.Tx)))
    assert [v.status for v in verdicts[-5:]] == ["rejected"] * 5 and verdicts[-1].reason == "pool_full"
    assert node.store.waiting_count(status="unchecked") == limit
    # nothing of it reaches a proposal (their principals are not spawned)
    assert all(node.store.tx_status(tid) == "pending" for tid in node.pending_txs())
    # the devnet is shared by the session's tests: leave its pool as it was
    with node.store.transaction():
        for tx, verdict in zip(sent, [*many, *verdicts], strict=True):
            if verdict.status == "accepted":
                node.store.set_tx_status(p.tx_id(tx), "evicted:test_cleanup")
    assert node.store.waiting_count(status="unchecked") == initial


def test_cli_errors_are_one_line(capsys, tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for argv, message in (
        (["devnet", "up", "--crash", "1-4"], "expected NODE:LAYER"),
        (["devnet", "up", "--crash", "1:9:3"], "restart layer must come after"),
        (["devnet", "up", "--units", "9"], "1..4 space units"),
        (["devnet", "up", "--byzantine", "7"], "no such node"),
        (["devnet", "up", "--datadir", str(a_file)], "is a file"),
        (["devnet", "up", "--serve"], "--serve needs --api-port"),
        (["node", "status", "--url", "http://127.0.0.1:1"], "cannot reach the node API"),
        (["node", "status", "--url", "garbage"], "expected http://HOST:PORT"),
        (["node", "status", "--datadir", str(tmp_path)], "no node database"),
        (["tx", "send", "--url", "http://127.0.0.1:1", "--from", "0x" + "00" * 32, "--spawn"],
         "cannot reach the node API"),
        (["tx", "send", "--from", "0x12", "--spawn"], "--from: a key seed is 32 bytes"),
        (["tx", "send", "--from", "a b", "--spawn"], "a devnet user name"),
        (["tx", "send", "--from", "alice", "--spawn"], "users' key file"),
        (["smesher", "check", "--keys", str(tmp_path), "--post", str(tmp_path)], "no *.key file"),
        (["node", "run", "--data", str(a_file), "--genesis", str(a_file)], "is a file"),
    ):
        code, out, err = run(capsys, *argv)
        assert code == 2 and err.startswith("smspec: error: ") and message in err and err.count("\n") == 1, (argv, err)


def test_devnet_rules_are_listed(capsys):
    code, out, _ = run(capsys, "devnet", "rules")
    assert code == 0
    assert [line.split(":")[0] for line in out.splitlines()] == [name for name, _ in p.DEVNET_RULES]


def test_devnet_up_prints_progress_and_summary(capsys, tmp_path, wallet_code):
    """A short devnet through the CLI (genesis epochs only) resumes from its directory; the
    default (temporary) directory is removed at exit."""
    import tempfile

    directory = str(tmp_path / "cli")
    code, out, _ = run(capsys, "devnet", "up", "--layers", "3", "--datadir", directory, "--no-txs",
                       "--log-level", "DEBUG")
    assert code == 0
    assert "Devnet rules in force" in out and "* beacon:" in out
    assert [line.split("|")[0].strip() for line in out.splitlines() if line.startswith("layer")] == [
        "layer   0 (epoch 0)", "layer   1 (epoch 0)", "layer   2 (epoch 0)"]
    assert "all 4 honest live nodes agree" in out
    assert "layer 2 done" in open(os.path.join(directory, "logs", "node3.log"), encoding="utf-8").read()
    code, out, _ = run(capsys, "devnet", "up", "--datadir", directory, "--json")
    assert code == 0 and json.loads(out)["layers"] == 3
    before = set(os.listdir(tempfile.gettempdir()))
    code, out, _ = run(capsys, "devnet", "up", "--layers", "1", "--no-txs", "--json", "--nodes", "2")
    assert code == 0 and json.loads(out)["datadir"] is None
    assert {e for e in os.listdir(tempfile.gettempdir()) if e.startswith("smspec-devnet-")} <= before


def test_kill_9_and_restart(tmp_path, honest):
    """A devnet process killed with SIGKILL mid-run resumes from its directory and ends in the
    state the uninterrupted (longer) honest run had reached at the same layer."""
    devnet, _ = honest
    directory = str(tmp_path / "killed")
    command = [sys.executable, "-m", "smspec.tools.cli", "devnet", "up", "--layers", "12", "--datadir", directory,
               "--key-seed", "smspec-devnet"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    for line in process.stdout:
        if line.startswith("layer   9"):
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    process.stdout.close()
    assert process.returncode == -signal.SIGKILL
    finished = subprocess.run(command + ["--json"], capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr
    summary = json.loads(finished.stdout)
    applied = {node["applied"] for node in summary["nodes"].values()}
    assert summary["agree"] and len(applied) == 1
    (layer,) = applied
    row = devnet.live()[0].db.execute("SELECT state_root FROM applied WHERE layer = ?", (layer,)).fetchone()
    assert summary["state_root"] == "0x" + row[0].hex()


@pytest.mark.slow
def test_tcp_processes_with_a_killed_and_a_byzantine_node_reach_the_in_process_state(tmp_path, capsys, wallet_code):
    """``devnet up --tcp``: four node processes gossiping over loopback TCP, node 1's process
    killed with SIGKILL at layer 9 and restarted at 12, node 3 byzantine, end in exactly the state
    of the in-process devnet with the same options; every process exits."""
    argv = ["devnet", "up", "--layers", "14", "--crash", "1:9:12", "--byzantine", "3", "--json", "--key-seed", "k"]
    code, out, err = run(capsys, *argv, "--tcp", "--datadir", str(tmp_path / "tcp"))
    assert code == 0, err
    tcp = json.loads(out)
    code, out, err = run(capsys, *argv, "--datadir", str(tmp_path / "in-process"))
    assert code == 0, err
    local = json.loads(out)
    assert tcp["mode"] == "tcp" and tcp["agree"] and local["agree"]
    assert tcp["nodes"]["3"]["byzantine"] and tcp["nodes"]["0"]["malicious_seen"] == 1
    assert len(tcp["nodes"]) == 4 and {n["applied"] for n in tcp["nodes"].values()} == {
        n["applied"] for n in local["nodes"].values()}
    difference = first_difference(tmp_path / "tcp", tmp_path / "in-process")
    assert tcp["state_root"] == local["state_root"], difference
    # not only the root: every node stored the same proposals, Hare outputs and applied blocks
    # in every layer (an order left to the scheduler changes the base ballots, rule tcp-phases)
    assert difference == "no stored layer differs"


def first_difference(left, right) -> str:
    """The first layer whose proposals, Hare output or applied block and state root differ
    between two devnet directories (node by node), for the message of a failed comparison."""
    import sqlite3

    queries = {
        "proposals": "SELECT hex(id) FROM proposals WHERE layer = ? ORDER BY id",
        "hare output": "SELECT hex(block_id) FROM hare_outputs WHERE layer = ?",
        "applied block and state root": "SELECT hex(block_id), hex(state_root) FROM applied WHERE layer = ?",
    }
    lines = []
    for name in sorted(os.listdir(right)):
        if not name.startswith("node") or not os.path.exists(left / name / "node.sqlite"):
            continue
        a, b = (sqlite3.connect(d / name / "node.sqlite") for d in (left, right))
        try:
            top = max(a.execute("SELECT MAX(layer) FROM progress").fetchone()[0] or 0,
                      b.execute("SELECT MAX(layer) FROM progress").fetchone()[0] or 0)
            found = next(((layer, what, a.execute(q, (layer,)).fetchall(), b.execute(q, (layer,)).fetchall())
                          for layer in range(top + 1) for what, q in queries.items()
                          if a.execute(q, (layer,)).fetchall() != b.execute(q, (layer,)).fetchall()), None)
        finally:
            a.close()
            b.close()
        if found is not None:
            layer, what, x, y = found
            lines.append(f"{name}: layer {layer} {what} differ: {left.name} {x} != {right.name} {y}")
    return "\n".join(lines) or "no stored layer differs"


def test_tx_send_proxy_and_deploy(api, capsys):
    """`tx send --method proxy` and `--method deploy` sign what the wallet's athexp_proxy and
    athexp_deploy take: the node accepts both into its pool with the sender's next nonces."""
    from smspec.spec import athena

    devnet, server = api
    node = devnet.live()[1]
    keys = os.path.join(devnet.directory, "users.keys.json")
    code_file = os.path.join(devnet.directory, "receiver.elf")
    code, out, err = run(capsys, "tx", "send", "--url", server.url, "--keys", keys, "--from", "alice", "--method",
                         "proxy", "--to", "bob", "--call", "athexp_max_spend", "--input", "0x0102", "--amount", "9",
                         "--json")
    assert (code, err) == (0, "")
    proxy = json.loads(out)
    assert (proxy["method"], proxy["status"]) == ("proxy", "pending")
    code, out, err = run(capsys, "tx", "send", "--url", server.url, "--keys", keys, "--from", "alice", "--method",
                         "deploy", "--code", code_file)
    assert (code, err) == (0, "")
    with open(code_file, "rb") as f:
        template = w.template_address(f.read())
    assert out.startswith("submitted deploy 0x") and out.rstrip().endswith(
        f"the template's address will be {p.rules.encode_address(node.genesis.hrp, template)}")
    stored = {p.tx_id(tx): tx for tx in (p.decode(raw, p.Tx) for (raw,) in node.db.execute("SELECT raw FROM txs"))}
    sent = stored[bytes.fromhex(proxy["id"][2:])]
    assert sent.method == p.METHOD_PROXY and sent.principal == devnet.user_address("alice")
    assert w.parse_proxy_args(sent.args) == (devnet.user_address("bob"), athena.method_selector("athexp_max_spend"),
                                             b"\x01\x02", 9)
    (deploy,) = [tx for tx in stored.values() if tx.method == p.METHOD_DEPLOY and tx.nonce == proxy["nonce"] + 1]
    assert deploy.principal == devnet.user_address("alice")
    node.take_relay()  # what the API accepted leaves with the next relay (another test counts its own)


def test_stop_ends_the_server_even_when_its_wake_up_pipe_was_closed():
    """stop() wakes the server's loop through waitress's trigger pipe; with that pipe's write end
    closed under it (seen once in a full run), stop still ends the loop and frees the port."""
    import os

    def hello(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hi"]

    server = ApiServer("", 0, app=hello).start()
    with urllib.request.urlopen(server.url + "/", timeout=10) as response:
        assert response.read() == b"hi"
    os.close(server.server.trigger.trigger)
    server.stop()
    assert not server.thread.is_alive()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.port), timeout=5).close()
