"""The devnet with real processes: one node per process, gossip over loopback TCP.

``smspec devnet up --tcp`` starts one ``python -m smspec.tools.node.tcp`` process per node. Each
listens on ``127.0.0.1`` (a free port), connects to every peer and sends its gossip (ATXs, PoET
proofs, proposals, Hare messages, certificates, transactions) straight to them as frames; every
received frame goes through the node's own handlers. A coordinator (the ``devnet up`` process,
which also runs the embedded PoET) paces the layers: it tells the nodes to run a phase (begin
layer, ATX registration and publication, proposals, each Hare round, certificates, end of layer)
and waits until every frame sent has been received and handled by its recipient (*Devnet rule*
**tcp-phases**: the phases of the in-process devnet, separated by barriers instead of a simulated
clock). A phase in which nodes gossip runs node by node in index order, with a barrier after each
node, so every node handles every object in the order the in-process devnet delivers it: a
node's tortoise picks its base ballot in arrival order and certificates that arrive after a
node's Hare session closed count differently, so an order left to the scheduler would change the
state. Every wait has a deadline; a node process exits when its coordinator goes away, so
everything stops by itself.

Frame: ``kind`` (1-byte length, ASCII) ‖ 4-byte big-endian length ‖ payload. A coordinator call
is the frame kind ``rpc`` with a JSON payload; the node answers with one ``rpc`` frame.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from types import SimpleNamespace
from typing import Any

DEADLINE = 120.0  # seconds any single wait may take


def send_frame(sock: socket.socket, kind: str, payload: bytes) -> None:
    name = kind.encode()
    sock.sendall(bytes([len(name)]) + name + len(payload).to_bytes(4, "big") + payload)


def _read_exact(sock: socket.socket, count: int) -> bytes:
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return bytes(data)


def read_frame(sock: socket.socket) -> tuple[str, bytes]:
    size = _read_exact(sock, 1)[0]
    kind = _read_exact(sock, size).decode()
    length = int.from_bytes(_read_exact(sock, 4), "big")
    if length > 64 * 2**20:
        raise ConnectionError("frame too large")
    return kind, _read_exact(sock, length)


class _Poet:
    """The PoET round as the coordinator sends it: the proof and the sorted leaves."""

    def __init__(self, m: Any, proof: bytes | None, leaves: list[bytes]) -> None:
        self.m = m
        self._proof = proof
        self._leaves = leaves

    def proof(self, epoch: int) -> bytes | None:
        return self._proof

    def membership(self, epoch: int, challenges: list[bytes]) -> Any:
        indices = []
        for challenge in challenges:
            if challenge not in self._leaves:
                return None
            indices.append(self._leaves.index(challenge))
        return indices, self.m.crypto.merkle_proof(self._leaves, sorted(set(indices)))


class _Registrar:
    def __init__(self) -> None:
        self.challenges: list[bytes] = []

    def register(self, epoch: int, challenge: bytes) -> bool:
        self.challenges.append(challenge)
        return True


# ---------------------------------------------------------------------------------------------
# node process


class NodeProcess:
    def __init__(self, directory: str, index: int) -> None:
        from smspec.tools.node import protocol as p
        from smspec.tools.node.devnet import DevnetConfig
        from smspec.tools.node.node import Genesis, Node
        from smspec.tools.node.wallet import template_address

        with open(os.path.join(directory, "genesis.json"), encoding="utf-8") as f:
            genesis = Genesis.from_json(f.read())
        with open(os.path.join(directory, "devnet.json"), encoding="utf-8") as f:
            config = DevnetConfig.from_json(f.read())
        self.m = p.modules()
        behaviour = "byzantine" if index in config.byzantine else None
        self.node = Node(os.path.join(directory, f"node{index}"), genesis, index, self.m, None, behaviour)
        # what the byzantine behaviours of devnet.py read from a devnet
        self.context = SimpleNamespace(m=self.m, config=config, L=genesis.layers_per_epoch,
                                       template=template_address(bytes.fromhex(genesis.wallet_code)))
        self.index = index
        self.inbox: queue.Queue = queue.Queue()
        self.peers: dict[int, socket.socket] = {}
        self.sent: dict[int, int] = {}
        self.received: dict[int, int] = {}
        self.hare_layer = -1
        self.outbox: list[bytes] = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]

    def accept_loop(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.read_loop, args=(connection,), daemon=True).start()

    def read_loop(self, connection: socket.socket) -> None:
        try:
            while True:
                kind, payload = read_frame(connection)
                self.inbox.put((kind, payload, connection))
        except (ConnectionError, OSError):
            self.inbox.put(("closed", b"", connection))

    def gossip(self, kind: str, data: bytes) -> None:
        for peer, sock in list(self.peers.items()):
            try:
                send_frame(sock, kind, self.index.to_bytes(2, "big") + data)
            except OSError:
                del self.peers[peer]  # the peer died; it syncs when it comes back
                continue
            self.sent[peer] = self.sent.get(peer, 0) + 1

    def on_gossip(self, kind: str, payload: bytes) -> None:
        sender = int.from_bytes(payload[:2], "big")
        data = payload[2:]
        self.received[sender] = self.received.get(sender, 0) + 1
        if kind == "hare":
            self.node.hare_receive(self.hare_layer, data)
        else:
            self.node.handle(kind, data)

    def rpc(self, call: dict) -> Any:
        node = self.node
        op = call["op"]
        if op == "peers":
            for peer, port in call["ports"].items():
                peer = int(peer)
                if peer == self.index or (peer in self.peers and peer not in call.get("renew", [])):
                    continue
                old = self.peers.pop(peer, None)
                if old is not None:
                    old.close()
                self.peers[peer] = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
                # a new process of that peer: both sides count frames from zero again
                self.sent[peer] = 0
                self.received[peer] = 0
            return {}
        if op == "export":
            return {"objects": [[kind, data.hex()] for kind, data in node.export()]}
        if op == "sync":
            objects = [(kind, bytes.fromhex(data)) for kind, data in call["objects"]]
            return {"accepted": node.sync_from(objects, call["upto"])}
        if op == "begin":
            node.begin_layer(call["layer"])
            return {}
        if op == "relay_inbox":
            from smspec.tools.node.api import take_inbox

            for kind, data in take_inbox(node.db):
                if node.handle(kind, data):
                    self.gossip(kind, data)
            return {}
        if op == "garbage":
            if node.behaviour == "byzantine":
                from smspec.tools.node.devnet import byzantine_garbage

                for kind, data in byzantine_garbage(self.context, node, call["layer"]):
                    node.handle(kind, data)
                    self.gossip(kind, data)
            return {}
        if op == "submit":
            data = bytes.fromhex(call["data"])
            if node.handle(call["kind"], data):
                self.gossip(call["kind"], data)
            return {}
        if op == "atx_register":
            registrar = _Registrar()
            node.atx_register(call["epoch"], registrar)
            return {"challenges": [c.hex() for c in registrar.challenges]}
        if op == "atx_publish":
            proof = bytes.fromhex(call["proof"]) if call["proof"] else None
            poet = _Poet(self.m, proof, [bytes.fromhex(x) for x in call["leaves"]])
            if proof is not None and node.handle("poet", proof):
                self.gossip("poet", proof)
            for blob in node.atx_publish(call["epoch"], poet):
                self.gossip("atx", blob)
            return {}
        if op == "propose":
            for data in node.propose(call["layer"]):
                self.gossip("proposal", data)
            if node.behaviour == "byzantine":
                from smspec.tools.node.devnet import byzantine_proposals

                for data in byzantine_proposals(self.context, node, call["layer"]):
                    node.handle("proposal", data)
                    self.gossip("proposal", data)
            return {}
        if op == "hare_start":
            self.hare_layer = call["layer"]
            return {"active": node.hare_start(call["layer"])}
        if op == "hare_round":
            # execute the round everywhere first, then send (as the in-process lock step does)
            self.outbox = node.hare_round(call["layer"])
            return {"active": node.hare_active(call["layer"])}
        if op == "hare_send":
            for message in self.outbox:
                messages = [message]
                if node.behaviour == "byzantine":
                    from smspec.tools.node.devnet import byzantine_hare

                    messages += byzantine_hare(self.context, node, call["layer"], message)
                for data in messages:
                    node.hare_receive(call["layer"], data)
                    self.gossip("hare", data)
            self.outbox = []
            return {}
        if op == "hare_done":
            for cert in node.hare_done(call["layer"]):
                self.gossip("cert", cert)
            return {}
        if op == "end":
            report = node.end_layer(call["layer"])
            return {"proposals": report.proposals, "hare": report.hare, "verified": report.verified,
                    "applied": report.applied, "state_root": report.state_root.hex()}
        if op == "status":
            return node.status()
        raise ValueError(f"unknown rpc {op!r}")

    def serve(self) -> None:
        threading.Thread(target=self.accept_loop, daemon=True).start()
        print(f"PORT {self.port}", flush=True)
        pending_barrier: tuple | None = None
        while True:
            try:
                kind, payload, connection = self.inbox.get(timeout=DEADLINE)
            except queue.Empty:
                return  # the coordinator is gone
            if kind == "closed":
                if connection is self.coordinator_connection():
                    return
                continue
            if kind != "rpc":
                self.on_gossip(kind, payload)
            else:
                self._coordinator = connection
                call = json.loads(payload)
                if call["op"] == "shutdown":
                    send_frame(connection, "rpc", b"{}")
                    return
                if call["op"] == "barrier":
                    pending_barrier = (connection, {int(k): v for k, v in call["expect"].items()})
                else:
                    try:
                        answer = {"ok": True, "result": self.rpc(call), "sent": self.sent}
                    except Exception as error:  # reported to the coordinator, which stops the run
                        answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
                    send_frame(connection, "rpc", json.dumps(answer).encode())
            if pending_barrier is not None and self.inbox.empty():
                connection, expect = pending_barrier
                if all(self.received.get(peer, 0) >= count for peer, count in expect.items()):
                    send_frame(connection, "rpc", json.dumps({"ok": True, "result": {}, "sent": self.sent}).encode())
                    pending_barrier = None

    def coordinator_connection(self) -> socket.socket | None:
        return getattr(self, "_coordinator", None)


# ---------------------------------------------------------------------------------------------
# coordinator


class TcpDevnet:
    """Start the node processes of a devnet directory and drive them layer by layer."""

    def __init__(self, devnet: Any, api_port: int | None = None) -> None:
        self.devnet = devnet  # an in-process Devnet used for its configuration, genesis and PoET
        self.api_port = api_port  # node i serves its API on api_port + i
        self.processes: dict[int, subprocess.Popen] = {}
        self.ports: dict[int, int] = {}
        self.sockets: dict[int, socket.socket] = {}
        self.sent: dict[int, dict[int, int]] = {}

    def _spawn(self, index: int) -> int:
        command = [sys.executable, "-m", "smspec.tools.node.tcp", self.devnet.directory, str(index)]
        if self.api_port is not None:
            command += ["--api-port", str(self.api_port + index if self.api_port else 0)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        self.processes[index] = process
        return index

    def _connect(self, index: int) -> None:
        line = self.processes[index].stdout.readline()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"node process {index} did not start")
        self.ports[index] = int(line.split()[1])
        self.sockets[index] = socket.create_connection(("127.0.0.1", self.ports[index]), timeout=DEADLINE)

    def start(self, first: int = 0) -> None:
        config = self.devnet.config
        live = [i for i in range(config.nodes) if self.devnet.alive_at(i, first)]
        for index in live:
            self._spawn(index)
        for index in live:
            self._connect(index)
        self.call_all({"op": "peers", "ports": self.ports})

    def kill(self, index: int) -> None:
        """SIGKILL a node process (its peers notice when their next frame to it fails)."""
        self.processes[index].kill()
        self.processes[index].wait()
        self.processes[index].stdout.close()
        self.sockets.pop(index).close()
        self.ports.pop(index)
        self.sent.pop(index, None)

    def restart(self, index: int, layer: int) -> int:
        """Start a killed node's process again on its database and sync it from a live peer."""
        # the in-process devnet's peer: the first live honest node
        peer = next((i for i in sorted(self.sockets) if i not in self.devnet.config.byzantine), None)
        objects = self.call(peer, {"op": "export"})["objects"] if peer is not None else []
        self._spawn(index)
        self._connect(index)
        for other in self.live():
            self.call(other, {"op": "peers", "ports": self.ports, "renew": [index]})
        for other in self.sent:
            self.sent[other][index] = 0
        if peer is None:
            return 0
        return self.call(index, {"op": "sync", "objects": objects, "upto": layer - 1})["accepted"]

    def live(self) -> list[int]:
        """The running node processes in index order (the in-process devnet's order)."""
        return sorted(self.sockets)

    def call(self, index: int, op: dict) -> Any:
        sock = self.sockets[index]
        send_frame(sock, "rpc", json.dumps(op).encode())
        kind, payload = read_frame(sock)
        answer = json.loads(payload)
        if not answer["ok"]:
            raise RuntimeError(f"node {index}: {answer['error']}")
        self.sent[index] = {int(k): v for k, v in answer["sent"].items()}
        return answer["result"]

    def call_all(self, op: dict, barrier: bool = True) -> dict:
        """Run a phase that gossips nothing on every node (then, by default, a barrier)."""
        results = {index: self.call(index, op) for index in self.live()}
        if barrier:
            self.barrier()
        return results

    def call_each(self, op: dict) -> dict:
        """Run a gossiping phase node by node in index order, a barrier after each node: every
        node receives the phase's objects in the order the in-process devnet broadcasts them."""
        results = {}
        for index in self.live():
            results[index] = self.call(index, op)
            self.barrier()
        return results

    def barrier(self) -> None:
        """Wait until every node has received and handled every frame sent to it so far."""
        for index, sock in sorted(self.sockets.items()):
            expect = {sender: sent.get(index, 0) for sender, sent in self.sent.items() if sender != index}
            send_frame(sock, "rpc", json.dumps({"op": "barrier", "expect": expect}).encode())
        for sock in self.sockets.values():
            read_frame(sock)

    def step(self, layer: int) -> dict:
        devnet = self.devnet
        epoch = layer // devnet.L
        events = []
        for index, (down, up) in sorted(devnet.config.crash.items()):
            if layer == down and index in self.sockets:
                self.kill(index)
                events.append(f"node {index} killed (SIGKILL)")
            if up is not None and layer == up and index not in self.sockets:
                accepted = self.restart(index, layer)
                events.append(f"node {index} restarted and synced {accepted} objects")
        # the order of Devnet.step: begin every node, relay the API inboxes, the users'
        # transactions, the byzantine garbage
        self.call_all({"op": "begin", "layer": layer}, barrier=False)
        self.call_each({"op": "relay_inbox"})
        if devnet.config.transactions:
            live = self.live()
            for k, data in enumerate(devnet.user_transactions(layer)):
                self.call(live[k % len(live)], {"op": "submit", "kind": "tx", "data": data.hex()})
                self.barrier()
        if set(devnet.config.byzantine) & set(self.sockets):
            self.call_each({"op": "garbage", "layer": layer})
        atxs = 0
        if layer % devnet.L == 0 and epoch >= 1:
            for result in self.call_all({"op": "atx_register", "epoch": epoch}, barrier=False).values():
                for challenge in result["challenges"]:
                    devnet.poet.register(epoch, bytes.fromhex(challenge))
            proof = devnet.poet.close(epoch)
            leaves = [leaf.hex() for leaf in devnet.poet.leaves(epoch)]
            self.call_each({"op": "atx_publish", "epoch": epoch, "proof": proof.hex() if proof else "",
                            "leaves": leaves})
            atxs = self.call(self.live()[0], {"op": "status"})["atxs"]
        rounds = 0
        if layer >= 2 * devnet.L:
            self.call_each({"op": "propose", "layer": layer})
            active = self.call_all({"op": "hare_start", "layer": layer}, barrier=False)
            running = any(r["active"] for r in active.values())
            while running and rounds < 64:
                rounds += 1
                results = self.call_all({"op": "hare_round", "layer": layer}, barrier=False)
                self.call_each({"op": "hare_send", "layer": layer})
                running = any(r["active"] for r in results.values())
            self.call_each({"op": "hare_done", "layer": layer})
        reports = self.call_all({"op": "end", "layer": layer}, barrier=False)
        return {"layer": layer, "epoch": epoch, "rounds": rounds, "atxs": atxs, "reports": reports, "events": events}

    def first_layer(self) -> int:
        """The first layer some node has not finished (the processes resume from their databases)."""
        return min(self.call(index, {"op": "status"})["last_done"] for index in self.live()) + 1

    def run(self, progress: Any = None, pace: float = 0.0, layer_seconds: float = 0.0) -> dict:
        """Start the processes, run every remaining layer, stop them; the summary."""
        from smspec.tools.node.devnet import LayerClock

        self.start(self.devnet.resume_layer_from_disk())
        try:
            first = self.first_layer()
            clock = LayerClock(first, layer_seconds)
            for layer in range(first, self.devnet.config.layers):
                clock.wait(layer)
                started = time.perf_counter()
                info = self.step(layer)
                info["seconds"] = time.perf_counter() - started
                if progress is not None:
                    progress(info)
                if pace:
                    time.sleep(pace)
            statuses = {index: self.call(index, {"op": "status"}) for index in self.live()}
        finally:
            self.stop()
        byzantine = set(self.devnet.config.byzantine)
        nodes = {index: {"applied": s["applied"], "verified": s["verified"], "state_root": s["state_root"],
                         "byzantine": index in byzantine, "malicious_seen": len(s["malicious"]),
                         "rejections": s["rejections"]}
                 for index, s in statuses.items()}
        roots = {(n["state_root"], n["applied"]) for n in nodes.values() if not n["byzantine"]}
        return {"layers": self.devnet.config.layers, "nodes": nodes, "agree": len(roots) == 1,
                "state_root": next(iter(roots))[0] if len(roots) == 1 else None, "mode": "tcp"}

    def stop(self) -> None:
        for sock in list(self.sockets.values()):
            try:
                send_frame(sock, "rpc", json.dumps({"op": "shutdown"}).encode())
                read_frame(sock)
            except (ConnectionError, OSError):
                pass
            sock.close()
        self.sockets.clear()
        deadline = time.monotonic() + 30
        for process in self.processes.values():
            if process.returncode is not None:
                continue
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None and not process.stdout.closed:
                process.stdout.close()


def format_tcp_progress(info: dict) -> str:
    reports = info["reports"]
    events = "".join(f"layer {info['layer']}: {event}\n" for event in info.get("events", []))
    hare = "/".join(sorted({r["hare"] for r in reports.values()}))
    roots = {r["state_root"] for r in reports.values()}
    atxs = f" | ATXs stored {info['atxs']}" if info["atxs"] else ""
    return events + (f"layer {info['layer']:3d} (epoch {info['epoch']}) | hare {hare} ({info['rounds']} rounds) | verified "
            f"{min(r['verified'] for r in reports.values())} | applied {min(r['applied'] for r in reports.values())} | "
            f"root {next(iter(roots))[:12]}{'' if len(roots) == 1 else ' (nodes differ)'}{atxs} | {info['seconds']:.2f}s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="one devnet node process (started by smspec devnet up --tcp)")
    parser.add_argument("directory")
    parser.add_argument("index", type=int)
    parser.add_argument("--api-port", type=int, help="serve the node's HTTP JSON API on 127.0.0.1:PORT")
    args = parser.parse_args(argv)
    process = NodeProcess(args.directory, args.index)
    if args.api_port is not None:
        from smspec.tools.node.api import ApiServer

        ApiServer(process.node.datadir, args.api_port).start()
    process.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
