"""Self-clocked processes started by hand, as a user would (docs/node.md "Self-clocked nodes"):
``smspec devnet init``, one ``smspec poet run``, three ``smspec node run --listen --peer`` and two
``smspec smesher run --node URL --node URL2 --poet URL``, each on the layer clock of the genesis.
The nodes agree block by block and state root by state root; the services' ATXs and proposals
land, and so does a user's transaction sent through one node; a node killed with SIGKILL costs
its service nothing (it fails over to its second node); restarted, the node catches up from a
peer and agrees again."""

from __future__ import annotations

import base64
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest
from smspec.tools.node.clocked import free_ports

LAYER_SECONDS = 6  # 20 Hare rounds of 0.18 s: enough on a busy 2-core machine
V2 = "/spacemesh.v2alpha1."


def smspec(*args: str) -> list[str]:
    return [sys.executable, "-m", "smspec.tools.cli", *args]


def post(url: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(url + path, data=json.dumps(body or {}).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def get(url: str, path: str) -> dict:
    with urllib.request.urlopen(url + path, timeout=10) as response:
        return json.loads(response.read())


class Network:
    """The processes of one self-clocked network (stopped at the end of the test)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.processes: dict[str, subprocess.Popen] = {}
        ports = free_ports(7)
        self.gossip, self.api, self.poet_port = ports[:3], ports[3:6], ports[6]

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.api[index]}"

    def start(self, name: str, *args: str) -> None:
        log = open(os.path.join(self.directory, f"{name}.out"), "a", encoding="utf-8")  # noqa: SIM115
        self.processes[name] = subprocess.Popen(smspec(*args), stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def node(self, index: int) -> None:
        peers = [arg for j in range(3) if j != index for arg in ("--peer", f"127.0.0.1:{self.gossip[j]}")]
        self.start(f"node{index}", "node", "run", "--data", os.path.join(self.directory, f"node{index}"),
                   "--genesis", os.path.join(self.directory, "genesis.json"), "--index", str(index),
                   "--listen", f"127.0.0.1:{self.gossip[index]}", *peers, "--api-port", str(self.api[index]),
                   "--log-level", "DEBUG")

    def smesher(self, index: int, nodes: list[int]) -> None:
        home = os.path.join(self.directory, f"smesher{index}")
        urls = [arg for k in nodes for arg in ("--node", self.url(k))]
        self.start(f"smesher{index}", "smesher", "run", "--keys", os.path.join(home, "keys"), "--post",
                   os.path.join(home, "post"), *urls, "--poet", f"http://127.0.0.1:{self.poet_port}",
                   "--log-level", "DEBUG")

    def status(self, index: int) -> dict:
        try:
            return get(self.url(index), "/status")
        except OSError:
            return {}

    def wait(self, what: str, condition, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            for name, process in self.processes.items():
                assert process.poll() is None, f"{name} exited with {process.returncode} while waiting for {what}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}: " + json.dumps(
                {i: {k: self.status(i).get(k) for k in ("layer", "applied", "verified")} for i in range(3)})
            time.sleep(0.5)

    def layers(self, index: int, first: int, last: int) -> list[tuple]:
        """(layer, block ID, state hash) of the applied layers first..last, from a node's public API."""
        rows = post(self.url(index), V2 + "LayerService/List", {"startLayer": first, "endLayer": last})["layers"]
        return [(r["number"], (r["block"] or {}).get("id"), r["stateHash"]) for r in rows
                if r["status"] == "LAYER_STATUS_VERIFIED"]

    def stop(self) -> dict[str, int]:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = {}
        for name, process in self.processes.items():
            try:
                codes[name] = process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                codes[name] = process.wait()
        return codes


def clock_layer(genesis: dict) -> int:
    """The layer in progress on the network's layer clock."""
    return math.floor((time.time() - genesis["genesis_time"]) / genesis["layer_duration"])


def identity_key(directory: str, smesher: int) -> bytes:
    from smspec.spec import crypto

    with open(os.path.join(directory, f"smesher{smesher}", "keys", f"n{smesher}.key"), encoding="utf-8") as f:
        return crypto.public_key(bytes.fromhex(f.read().strip()))


def proposal_layers(directory: str, node: int, key: bytes) -> set[int]:
    db = sqlite3.connect(f"file:{os.path.join(directory, f'node{node}', 'node.sqlite')}?mode=ro", uri=True)
    try:
        return {layer for layer, smesher in db.execute("SELECT layer, smesher FROM proposals") if smesher == key}
    finally:
        db.close()


@pytest.mark.slow
def test_three_nodes_and_two_services_run_by_hand_agree_fail_over_and_catch_up(tmp_path, wallet_code):
    directory = str(tmp_path / "net")
    network = Network(str(tmp_path))
    made = subprocess.run(smspec("devnet", "init", "--datadir", directory, "--nodes", "3", "--no-marriage",
                                 "--layer-seconds", str(LAYER_SECONDS), "--genesis-in", "12"),
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    assert "smspec node run --data" in made.stdout and "smspec poet run" in made.stdout
    network.directory = directory
    with open(os.path.join(directory, "genesis.json"), encoding="utf-8") as f:
        genesis = json.load(f)
    assert genesis["layer_duration"] == LAYER_SECONDS and "seed" not in json.dumps(genesis)
    L = genesis["layers_per_epoch"]
    try:
        network.start("poet", "poet", "run", "--data", os.path.join(directory, "poet"), "--genesis",
                      os.path.join(directory, "genesis.json"), "--api-port", str(network.poet_port))
        for index in range(3):
            network.node(index)
        network.smesher(0, [0, 1])  # fails over to node 1
        network.smesher(1, [1, 2])
        budget = LAYER_SECONDS * 30

        # every node applies the blocks of the first ballot layers
        network.wait("layer 10 applied", lambda: all(network.status(i).get("applied", -1) >= 10 for i in range(3)),
                     budget)
        first = 2 * L
        reference = network.layers(1, first, 10)
        assert [row[0] for row in reference] == list(range(first, 11))
        assert sum(row[1] is not None for row in reference) >= 2  # blocks, not only empty layers
        for index in (0, 2):
            assert network.layers(index, first, 10) == reference

        # a user's transaction, submitted through node 2, lands on every node
        sent = subprocess.run(smspec("tx", "send", "--url", network.url(2), "--datadir", directory, "--from", "alice",
                                     "--spawn", "--json"), capture_output=True, text=True, timeout=120)
        assert sent.returncode == 0, sent.stderr
        tid = json.loads(sent.stdout)["id"]

        # kill -9 node 0: service 0 goes on through node 1. `killed_at` is the layer in progress on
        # the clock once node 0 is dead (a node's /status is what it wrote at the end of its last
        # layer: one layer behind), so a proposal of a later layer went through node 1.
        network.processes["node0"].send_signal(signal.SIGKILL)
        network.processes["node0"].wait()
        del network.processes["node0"]
        killed_at = clock_layer(genesis)
        n0, n1 = identity_key(directory, 0), identity_key(directory, 1)
        network.wait("proposals of both services after the kill (service 0's through node 1)",
                     lambda: all(any(layer > killed_at for layer in proposal_layers(directory, 1, key)) for key in (n0, n1)),
                     LAYER_SECONDS * 6)

        # restart node 0: it catches up from a peer and agrees on every layer. The target covers
        # the layers node 0 was down in: node 1's applied layer alone trails the clock by the
        # tortoise's verification lag (2 to 4 layers on a busy machine), so applied + 2 may not
        # pass the proposals made after the kill.
        time.sleep(LAYER_SECONDS)
        network.node(0)
        target = max(network.status(1)["applied"] + 2, clock_layer(genesis))
        network.wait(f"node 0 applying layer {target}",
                     lambda: network.status(0).get("applied", -1) >= target
                     and network.status(1).get("applied", -1) >= target, budget)
        reference = network.layers(1, first, target)
        assert [row[0] for row in reference] == list(range(first, target + 1))
        assert network.layers(0, first, target) == reference == network.layers(2, first, target)
        log = open(os.path.join(directory, "node0", "node.log"), encoding="utf-8").read()
        assert "caught up to layer" in log

        # both services' ATXs of every epoch so far landed, and their proposals
        last_epoch = target // L
        for epoch in range(1, last_epoch):
            assert post(network.url(2), V2 + "ActivationService/ActivationsCount", {"epoch": epoch}) == {"count": 2}
        smeshers = {base64.b64decode(a["smesherId"]) for a in post(network.url(2), V2 + "ActivationService/List",
                                                                   {"startEpoch": 1})["activations"]}
        assert smeshers == {n0, n1}
        for key in (n0, n1):  # every node holds the same proposals of each service up to the target layer
            held = [{layer for layer in proposal_layers(directory, i, key) if layer <= target} for i in range(3)]
            assert held[0] == held[1] == held[2] and max(held[0]) > killed_at, \
                f"proposal layers of {key.hex()[:8]} up to {target} (killed at {killed_at}): {[sorted(h) for h in held]}"
        for index in range(3):
            assert network.status(index)["malicious"] == []

        def landed(index: int) -> bool:
            shown = subprocess.run(smspec("tx", "status", tid, "--url", network.url(index)), capture_output=True,
                                   text=True, timeout=120)
            return json.loads(shown.stdout)["status"] == "ok"

        network.wait("the transaction applied on every node", lambda: all(landed(i) for i in range(3)),
                     LAYER_SECONDS * 10)
    finally:
        codes = network.stop()
    assert codes == {name: 0 for name in codes}, codes
