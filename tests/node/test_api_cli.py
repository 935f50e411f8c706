"""The node's HTTP JSON API and the ``smspec devnet`` / ``node`` / ``tx`` commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest
from smspec.tools.cli import main
from smspec.tools.node import protocol as p
from smspec.tools.node import wallet as w
from smspec.tools.node.api import ApiServer, take_inbox
from smspec.tools.node.devnet import user_seed


def get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def api(honest):
    devnet, _ = honest
    server = ApiServer(devnet.node_dir(1)).start()
    yield devnet, server
    server.stop()


def test_api_reads_what_the_node_stored(api):
    devnet, server = api
    node = devnet.live()[1]
    status = get(server.url + "/status")
    assert status["state_root"] == "0x" + node.state_root().hex()
    assert status["applied"] == node.applied_top() and server.url.startswith("http://127.0.0.1:")
    genesis = get(server.url + "/genesis")
    assert genesis["genesis_id"] == "0x" + node.genesis_id.hex()
    assert genesis["wallet_template"] == "0x" + devnet.template.hex()
    layers = get(server.url + f"/layers?from={node.first_ballot_layer}&to={node.applied_top()}")
    rows = node.db.execute("SELECT layer, block_id, state_root FROM applied ORDER BY layer").fetchall()
    assert [(x["layer"], x["applied"]["block"], x["applied"]["state_root"]) for x in layers] == [
        (layer, "0x" + block.hex(), "0x" + root.hex()) for layer, block, root in rows]
    block = get(server.url + "/blocks/0x" + rows[-1][1].hex())
    assert block["layer"] == rows[-1][0] and len(block["rewards"]) == len(block["proposals"])
    atxs = get(server.url + "/atxs?epoch=2")
    assert len(atxs) == 5 and all(a["target_epoch"] == 3 for a in atxs)
    assert get(server.url + "/atxs/" + atxs[0]["id"]) == atxs[0]
    carol = w.wallet_address(devnet.template, node.m.crypto.public_key(user_seed(node.m, devnet.config, "carol")))
    balance = int(node.db.execute("SELECT balance FROM accounts WHERE address = ?", (carol,)).fetchone()[0])
    assert get(server.url + "/accounts/0x" + carol.hex())["balance"] == balance > 0
    assert len(get(server.url + "/accounts")) == node.db.execute("SELECT COUNT(*) FROM accounts").fetchone()[0]
    for path, status_code in (("/blocks/0x00", 404), ("/nothing", 404), ("/layers?from=x", 400), ("/atxs/zz", 400)):
        with pytest.raises(urllib.error.HTTPError) as error:
            get(server.url + path)
        assert error.value.code == status_code


def test_tx_send_and_node_status_through_the_api(api, capsys):
    devnet, server = api
    node = devnet.live()[1]
    devnet.m.activate()
    code, out, err = run(capsys, "tx", "send", "--url", server.url, "--from", "bob", "--to", "carol", "--amount", "77",
                         "--json")
    assert code == 0, err
    sent = json.loads(out)
    bob = user_seed(node.m, devnet.config, "bob")
    assert sent["principal"] == "0x" + w.wallet_address(devnet.template, node.m.crypto.public_key(bob)).hex()
    principal = bytes.fromhex(sent["principal"][2:])
    account_nonce = int(node.db.execute("SELECT nonce FROM accounts WHERE address = ?", (principal,)).fetchone()[0])
    waiting = [n for (n,) in node.db.execute(
        "SELECT nonce FROM txs WHERE principal = ? AND status IN ('pending', 'unchecked')", (principal,))]
    assert sent["nonce"] == max([account_nonce] + [n + 1 for n in waiting])
    assert get(server.url + "/txs/" + sent["id"])["status"] == "queued"
    # the node picks the queued transaction up at its next layer and validates it like gossip
    queued = take_inbox(node.db)
    assert [p.tx_id(p.decode(data, p.Tx)).hex() for _, data in queued] == [sent["id"][2:]]
    assert node.handle(*queued[0]) is True
    assert get(server.url + "/accounts/" + sent["principal"])["next_nonce"] == sent["nonce"] + 1
    assert get(server.url + "/txs/" + sent["id"])["status"] == "pending"
    code, out, _ = run(capsys, "node", "status", "--url", server.url)
    assert code == 0 and f"state root 0x{node.state_root().hex()}" in out
    code, out, _ = run(capsys, "node", "status", "--datadir", devnet.directory, "--node", "2", "--json")
    assert code == 0 and json.loads(out)["node"] == 2


def test_cli_errors_are_one_line(capsys, tmp_path):
    for argv, message in (
        (["devnet", "up", "--nodes", "0"], "--nodes: expected a node count >= 1, got 0"),
        (["devnet", "up", "--crash", "1-4"], "expected NODE:LAYER"),
        (["devnet", "up", "--crash", "1:9:3"], "restart layer must come after"),
        (["devnet", "up", "--units", "9"], "--units: expected a space-unit count <= 4, got 9"),
        (["devnet", "up", "--byzantine", "7"], "no such node"),
        (["node", "status", "--url", "http://127.0.0.1:1"], "cannot reach the node API"),
        (["node", "status", "--datadir", str(tmp_path)], "no node database"),
        (["tx", "send", "--url", "http://127.0.0.1:1"], "cannot reach the node API"),
        (["tx", "send", "--from", "0x12"], "--from: a key seed is 32 bytes"),
        (["tx", "send", "--from", "a b"], "a devnet user name"),
        (["tx", "send", "--to", "bob", "--amount", "0"], "--amount: expected an amount (u64) >= 1, got 0"),
    ):
        code, out, err = run(capsys, *argv)
        assert code == 2 and err.startswith("smspec: error: ") and message in err and err.count("\n") == 1, (argv, err)


def test_devnet_rules_are_listed(capsys):
    code, out, _ = run(capsys, "devnet", "rules")
    assert code == 0
    assert [line.split(":")[0] for line in out.splitlines()] == [name for name, _ in p.DEVNET_RULES]


def test_devnet_up_prints_progress_and_summary(capsys, tmp_path, wallet_code):
    """A short devnet through the CLI (genesis epochs only) resumes from its directory."""
    directory = str(tmp_path / "cli")
    code, out, _ = run(capsys, "devnet", "up", "--layers", "3", "--datadir", directory, "--no-txs")
    assert code == 0
    assert "Devnet rules in force" in out and "* beacon:" in out
    assert [line.split("|")[0].strip() for line in out.splitlines() if line.startswith("layer")] == [
        "layer   0 (epoch 0)", "layer   1 (epoch 0)", "layer   2 (epoch 0)"]
    assert "all 4 honest live nodes agree" in out
    code, out, _ = run(capsys, "devnet", "up", "--datadir", directory, "--json")
    assert code == 0 and json.loads(out)["layers"] == 3


def test_kill_9_and_restart(tmp_path, honest):
    """A devnet process killed with SIGKILL mid-run resumes from its directory and ends in the
    state the uninterrupted (longer) honest run had reached at the same layer."""
    devnet, _ = honest
    directory = str(tmp_path / "killed")
    command = [sys.executable, "-m", "smspec.tools.cli", "devnet", "up", "--layers", "12", "--datadir", directory]
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
    argv = ["devnet", "up", "--layers", "14", "--crash", "1:9:12", "--byzantine", "3", "--json"]
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
