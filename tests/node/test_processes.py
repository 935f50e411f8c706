"""Real processes: a TCP devnet surviving kill -9 of a node and of a smeshing service, and the
long-running mode (``devnet up --layers 0``) whose API keeps taking transactions until Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from smspec.tools.node.devnet import Devnet, DevnetConfig


@pytest.mark.slow
def test_tcp_devnet_survives_kill_9_of_a_node_and_a_smeshing_service(tmp_path, wallet_code):
    """SIGKILL of node 1's process after layer 9 and of smeshing service 2's after layer 10: the
    coordinator goes on, node 1 rejoins from its database and a peer, service 2 is started again,
    and every node ends on the same state root; no identity is caught signing twice."""
    from smspec.tools.node.tcp import TcpDevnet

    devnet = Devnet(str(tmp_path / "killed"), DevnetConfig(layers=14, key_seed="smspec-devnet", failover=True),
                    wallet_code=wallet_code)
    tcp = TcpDevnet(devnet)
    events = []

    def progress(info):
        events.extend(info.events)
        if info.layer == 9:
            tcp.cluster.children[1].process.send_signal(signal.SIGKILL)
        if info.layer == 10:
            tcp.cluster.smesher_children[2].process.send_signal(signal.SIGKILL)

    summary = tcp.run(progress)
    devnet.close()
    assert sorted(summary["nodes"]) == [0, 1, 2, 3] and summary["agree"], summary
    assert any(e.startswith("node 1 died") for e in events) and any(e.startswith("node 1 rejoined") for e in events)
    assert any(e.startswith("smeshing service 2 died") for e in events)
    assert all(node["malicious_seen"] == 0 for node in summary["nodes"].values())
    applied = {node["applied"] for node in summary["nodes"].values()}
    assert len(applied) == 1 and applied.pop() >= 11


@pytest.mark.slow
def test_layers_0_runs_until_interrupted_and_transactions_keep_landing(tmp_path, wallet_code):
    directory = str(tmp_path / "forever")
    command = [sys.executable, "-m", "smspec.tools.cli", "devnet", "up", "--layers", "0", "--datadir", directory,
               "--api-port", "0", "--key-seed", "smspec-devnet", "--nodes", "3", "--no-marriage"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        url = None
        for line in process.stdout:
            if line.startswith("node 0 API: "):
                url = line.split(": ", 1)[1].strip()
                break
        assert url is not None

        def status():
            with urllib.request.urlopen(url + "/status", timeout=10) as response:
                return json.loads(response.read())

        deadline = time.monotonic() + 300
        while status().get("applied", 0) < 10:  # the users' wallets are spawned by then
            assert time.monotonic() < deadline
            time.sleep(1)
        sent = subprocess.run([sys.executable, "-m", "smspec.tools.cli", "tx", "send", "--url", url, "--datadir",
                               directory, "--from", "alice", "--to", "dave", "--amount", "4242", "--json"],
                              capture_output=True, text=True, timeout=60)
        assert sent.returncode == 0, sent.stderr
        tid = json.loads(sent.stdout)["id"]
        while True:
            shown = subprocess.run([sys.executable, "-m", "smspec.tools.cli", "tx", "status", tid, "--url", url],
                                   capture_output=True, text=True, timeout=60)
            if json.loads(shown.stdout)["status"] == "ok":
                break
            assert time.monotonic() < deadline
            time.sleep(1)
    finally:
        process.send_signal(signal.SIGINT)
        rest = process.communicate(timeout=120)[0]
    assert process.returncode in (0, 130) and "interrupted" in rest
