"""The devnet with real processes: node processes gossiping over loopback TCP, smeshing-service
processes talking to their nodes over HTTP, and a coordinator running the layer schedule.

``smspec devnet up --tcp`` starts one node process per node (``smspec node run``: its database,
its HTTP API with the node-service API, a TCP port for gossip) and one process per smeshing
service (``smspec smesher run``: its keys and PoST data, the URL of its node or nodes). The
coordinator (the ``devnet up`` process, which also runs the embedded PoET) drives both through
the duties of ``tools/node/schedule.py`` and waits, after each duty that gossips, until every
node has handled every frame sent to it (*Devnet rule* **tcp-phases**), so every node handles
every object in the order of the in-process devnet and the run reaches the same state.

A node process that dies (``kill -9``) is noticed at the next call; the run goes on without it
and starts a new process on its database at the next layer, which syncs from a peer and rejoins.
A smeshing service that dies is started again the same way (it publishes what it had signed
again, never signing anew). Every wait has a deadline; a node or smesher process exits when its
coordinator's connection closes, so everything stops by itself.

Frame: ``kind`` (1-byte length, ASCII) ‖ 4-byte big-endian length ‖ payload. A coordinator call
is the frame kind ``rpc`` with a JSON payload; the process answers with one ``rpc`` frame.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from smspec.tools.node.reconcile import (
    FETCH_REPLY,
    FETCH_REQUEST,
    FRAME_KINDS,
    SYNC_REPLY,
    SYNC_REQUEST,
    PeerError,
    decode_fetch_reply,
    decode_reply,
    encode_fetch,
    encode_request,
    frame_ident,
)
from smspec.tools.node.schedule import LayerSchedule, summarize

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
    kind = _read_exact(sock, size).decode(errors="replace")
    length = int.from_bytes(_read_exact(sock, 4), "big")
    if length > 64 * 2**20:
        raise ConnectionError("frame too large")
    return kind, _read_exact(sock, length)


class FrameServer:
    """A listening socket whose connections' frames land in one queue (served by one thread)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.inbox: queue.Queue = queue.Queue()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.listener.bind((host, port))
        except OSError:
            self.listener.close()
            raise
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.coordinator: socket.socket | None = None

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

    def answer(self, connection: socket.socket, call: dict, run: Any) -> None:
        try:
            answer = {"ok": True, "result": run(call)}
        except Exception as error:  # reported to the coordinator, which stops the run
            logging.getLogger("smspec").exception("duty %s failed", call.get("op"))
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        self.extend(answer)
        send_frame(connection, "rpc", json.dumps(answer).encode())

    def extend(self, answer: dict) -> None:
        """Add process-specific fields to every answer."""


# ---------------------------------------------------------------------------------------------
# node process (smspec node run)


class NodeProcess(FrameServer):
    def __init__(self, data: str, genesis_path: str, index: int, byzantine: bool = False, api_port: int | None = 0,
                 log_level: str = "INFO") -> None:
        super().__init__()
        from smspec.tools.node import protocol as p
        from smspec.tools.node.host import NodeHost
        from smspec.tools.node.node import Genesis, Node

        with open(genesis_path, encoding="utf-8") as f:
            genesis = Genesis.from_json(f.read())
        self.m = p.modules()
        self.index = index
        self.node = Node(data, genesis, index, self.m, None, "byzantine" if byzantine else None)
        self.host = NodeHost(index, self.node, self)
        self.peers: dict[int, socket.socket] = {}
        self.blocked: set[int] = set()  # peers cut off by a partition (devnet --partition)
        self.held: list[tuple] = []  # frames read while waiting for a fetch answer, handled next
        self.sent: dict[int, int] = {}
        self.received: dict[int, int] = {}
        self.send_lock = threading.Lock()
        self.api = None
        if api_port is not None:
            from smspec.tools.node.api import ApiServer

            self.api = ApiServer(data, api_port, self.host)
        self.log = logging.getLogger(f"smspec.node{index}")

    # the transport of NodeHost
    def gossip(self, sender: int, kind: str, data: bytes) -> None:
        with self.send_lock:
            for peer, sock in list(self.peers.items()):
                if peer in self.blocked:
                    continue
                try:
                    send_frame(sock, kind, self.index.to_bytes(2, "big") + data)
                except OSError:
                    del self.peers[peer]  # the peer died; it syncs when it comes back
                    self.log.warning("peer %d is gone", peer)
                    continue
                self.sent[peer] = self.sent.get(peer, 0) + 1
            self.node.peers = len(self.peers)

    def on_gossip(self, kind: str, payload: bytes) -> None:
        sender = int.from_bytes(payload[:2], "big")
        self.received[sender] = self.received.get(sender, 0) + 1
        self.host.on_gossip(kind, payload[2:])

    def extend(self, answer: dict) -> None:
        with self.send_lock:
            answer["sent"] = dict(self.sent)

    def duty(self, call: dict) -> Any:
        from smspec.tools.node.host import node_op

        op = call["op"]
        if op == "peers":
            with self.send_lock:
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
                self.node.peers = len(self.peers)
            return {}
        if op == "sent":
            return {}
        if op == "partition":  # gossip reaches only the peers not blocked
            self.blocked = {int(peer) for peer in call["blocked"]}
            return {}
        if op in ("catch_up", "reconcile"):  # set reconciliation with the named peers (rule "sync")
            from dataclasses import asdict

            from smspec.tools.node.reconcile import catch_up, reconcile

            peers = [LinkPeer(self, int(peer)) for peer in call["peers"] if int(peer) in self.peers]
            if op == "catch_up":
                spent = catch_up(self.node, peers, call["upto"])
            else:
                spent = reconcile(self.node, peers, call["first"], call["last"])
            return asdict(spent)
        return node_op(self.host, op, call)

    # -- set reconciliation: answering peers ----------------------------------------------------------

    def on_sync_frame(self, kind: str, payload: bytes, connection: socket.socket) -> None:
        """A request of a peer's sync session (answered on its connection); a stray answer is dropped."""
        try:
            if kind == SYNC_REQUEST:
                send_frame(connection, SYNC_REPLY,
                           self.node.sync.serve_request(connection, InboxPeer(self, connection), payload))
            elif kind == FETCH_REQUEST:
                send_frame(connection, FETCH_REPLY, self.node.sync.serve_fetch(payload))
        except OSError:
            self.node.sync.forget_peer(connection)

    def next_frame(self, timeout: float) -> tuple[str, bytes, socket.socket]:
        if self.held:
            return self.held.pop(0)
        return self.inbox.get(timeout=timeout)

    def serve(self) -> None:
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the coordinator, which stops this process
        threading.Thread(target=self.accept_loop, daemon=True).start()
        if self.api is not None:
            self.api.start()
        print(f"PORT {self.port} API {self.api.port if self.api else 0}", flush=True)
        self.log.info("node %d listening: gossip port %d, API %s", self.index, self.port,
                      self.api.url if self.api else "-")
        pending_barrier: tuple | None = None
        try:
            while True:
                try:
                    kind, payload, connection = self.next_frame(DEADLINE)
                except queue.Empty:
                    self.log.warning("no call from the coordinator for %ds: exiting", DEADLINE)
                    return
                if kind == "closed":
                    if connection is self.coordinator:
                        self.log.info("the coordinator is gone: exiting")
                        return
                    self.node.sync.forget_peer(connection)
                    continue
                if kind in FRAME_KINDS:
                    self.on_sync_frame(kind, payload, connection)
                elif kind != "rpc":
                    self.on_gossip(kind, payload)
                else:
                    self.coordinator = connection
                    call = json.loads(payload)
                    if call["op"] == "shutdown":
                        send_frame(connection, "rpc", b"{}")
                        return
                    if call["op"] == "barrier":
                        pending_barrier = (connection, {int(k): v for k, v in call["expect"].items()})
                    else:
                        self.answer(connection, call, self.duty)
                if pending_barrier is not None and self.inbox.empty() and not self.held:
                    connection, expect = pending_barrier
                    if all(self.received.get(peer, 0) >= count for peer, count in expect.items()):
                        answer = {"ok": True, "result": {}}
                        self.extend(answer)
                        send_frame(connection, "rpc", json.dumps(answer).encode())
                        pending_barrier = None
        finally:
            if self.api is not None:
                self.api.stop()
            self.node.close()


class LinkPeer:
    """A peer of a node process reached on the node's own link to it (no reader thread: the
    answers are read here, and a fetch the peer makes meanwhile is answered on the spot)."""

    def __init__(self, process: NodeProcess, index: int) -> None:
        self.process = process
        self.sock = process.peers[index]
        self.name = f"node{index}"
        self.requests = 0

    def exchange(self, set_name: str, sid: int, data: bytes) -> bytes:
        self._send(SYNC_REQUEST, encode_request(sid, set_name, data))
        return decode_reply(self._await(SYNC_REPLY, sid))[1]

    def fetch(self, set_name: str, key: bytes) -> bytes | None:
        self.requests += 1
        self._send(FETCH_REQUEST, encode_fetch(self.requests, set_name, key))
        return decode_fetch_reply(self._await(FETCH_REPLY, self.requests))[1]

    def _send(self, kind: str, payload: bytes) -> None:
        try:
            with self.process.send_lock:
                send_frame(self.sock, kind, payload)
        except OSError as error:
            raise PeerError("gone", str(error)) from None

    def _await(self, kind: str, ident: int) -> bytes:
        while True:
            try:
                got, payload = read_frame(self.sock)
            except (ConnectionError, OSError) as error:
                raise PeerError("gone", str(error)) from None
            if got == kind and frame_ident(payload) == ident:
                return payload
            if got == FETCH_REQUEST:  # the peer, answering us, fetches what we sent
                self._send(FETCH_REPLY, self.process.node.sync.serve_fetch(payload))
                continue
            raise PeerError("unexpected_frame", got[:16])


class InboxPeer:
    """The peer of a session this node process answers: its requests arrive through the inbox,
    so does the answer to a fetch we send it (other frames meanwhile are held for later)."""

    def __init__(self, process: NodeProcess, connection: socket.socket) -> None:
        self.process = process
        self.connection = connection
        self.name = f"link {connection.fileno()}"
        self.requests = 0

    def exchange(self, set_name: str, sid: int, data: bytes) -> bytes:
        raise PeerError("unexpected_frame", "a responder opens no session")

    def fetch(self, set_name: str, key: bytes) -> bytes | None:
        process = self.process
        self.requests += 1
        try:
            send_frame(self.connection, FETCH_REQUEST, encode_fetch(self.requests, set_name, key))
        except OSError as error:
            raise PeerError("gone", str(error)) from None
        deadline = time.monotonic() + DEADLINE
        while True:
            try:
                frame = process.inbox.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise PeerError("no_answer", "the peer did not answer a fetch") from None
            kind, payload, connection = frame
            if connection is self.connection and kind == FETCH_REPLY and frame_ident(payload) == self.requests:
                return decode_fetch_reply(payload)[1]
            process.held.append(frame)
            if connection is self.connection and kind == "closed":
                raise PeerError("gone", "the link closed")


# ---------------------------------------------------------------------------------------------
# smeshing-service process (smspec smesher run)


class SmesherProcess(FrameServer):
    def __init__(self, keys: str, post: str, nodes: list[str], byzantine: bool = False, married: bool = False,
                 log_level: str = "INFO") -> None:
        super().__init__()
        from smspec.tools.node import protocol as p
        from smspec.tools.node.smesher import HttpNodeClient, Smesher

        self.smesher = Smesher(keys, post, [HttpNodeClient(url) for url in nodes], p.modules(), None,
                               "byzantine" if byzantine else None, married, name=os.path.basename(keys))
        self.log = logging.getLogger("smspec.smesher")

    def duty(self, call: dict) -> Any:
        from smspec.tools.node.host import smesher_op

        result = smesher_op(self.smesher, call["op"], call)
        if isinstance(result, dict) and "unavailable" in result:
            self.log.warning("%s: %s", call["op"], result["unavailable"])
        return result

    def serve(self) -> None:
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the coordinator, which stops this process
        threading.Thread(target=self.accept_loop, daemon=True).start()
        print(f"PORT {self.port}", flush=True)
        self.log.info("smeshing service with %d identities, nodes %s", len(self.smesher.identities),
                      [c.name for c in self.smesher.nodes])
        try:
            while True:
                try:
                    kind, payload, connection = self.inbox.get(timeout=DEADLINE)
                except queue.Empty:
                    return
                if kind == "closed":
                    if connection is self.coordinator:
                        return
                    continue
                if kind != "rpc":
                    continue
                self.coordinator = connection
                call = json.loads(payload)
                if call["op"] == "shutdown":
                    send_frame(connection, "rpc", b"{}")
                    return
                self.answer(connection, call, self.duty)
        finally:
            self.smesher.close()


# ---------------------------------------------------------------------------------------------
# coordinator


class ProcessGone(Exception):
    pass


class Child:
    """A started node or smesher process and the coordinator's connection to it."""

    def __init__(self, command: list[str], log_path: str) -> None:
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
        self.log = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"process {' '.join(command[-4:])} did not start (see {log_path})")
        words = line.split()
        self.port = int(words[1])
        self.api_port = int(words[3]) if len(words) > 3 else 0
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=DEADLINE)

    def call(self, op: dict) -> dict:
        try:
            send_frame(self.sock, "rpc", json.dumps(op).encode())
            _, payload = read_frame(self.sock)
        except (ConnectionError, OSError) as error:
            raise ProcessGone(str(error)) from None
        return json.loads(payload)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self.stop()

    def stop(self, graceful: bool = False) -> None:
        if graceful and self.process.poll() is None:
            try:
                send_frame(self.sock, "rpc", json.dumps({"op": "shutdown"}).encode())
                read_frame(self.sock)
            except (ConnectionError, OSError):
                pass
        if hasattr(self, "sock"):
            self.sock.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None and not self.process.stdout.closed:
            self.process.stdout.close()
        self.log.close()


class TcpCluster:
    """The schedule's cluster of node and smesher processes."""

    def __init__(self, devnet: Any, api_port: int | None = None, log_level: str = "INFO") -> None:
        from smspec.tools.node.devnet import smesher_dir

        self.devnet = devnet
        self.L = devnet.L
        self.poet = devnet.poet
        self.first_ballot_layer = 2 * devnet.L
        self.api_port = api_port  # node i serves its API on api_port + i (0: any free port)
        self.log_level = log_level
        self.children: dict[int, Child] = {}
        self.smesher_children: dict[int, Child] = {}
        self.sent: dict[int, dict[int, int]] = {}
        self.events: list[str] = []
        config = devnet.config
        self.smesher_home: dict[int, int] = {}
        self.smesher_paths: dict[int, str] = {}
        sid = 0
        for index in range(config.nodes):
            for j in range(config.smeshers):
                self.smesher_home[sid] = index
                self.smesher_paths[sid] = smesher_dir(devnet.directory, index, j)
                sid += 1

    def log_path(self, name: str) -> str:
        return os.path.join(self.devnet.directory, "logs", f"{name}.log")

    # -- processes ---------------------------------------------------------------------------------

    def _spawn_node(self, index: int) -> None:
        devnet = self.devnet
        port = None if self.api_port is None else (self.api_port + index if self.api_port else 0)
        command = [sys.executable, "-m", "smspec.tools.cli", "node", "run", "--data", devnet.node_dir(index),
                   "--genesis", os.path.join(devnet.directory, "genesis.json"), "--index", str(index),
                   "--api-port", str(port if port is not None else 0), "--log-level", self.log_level,
                   "--log-file", "-", "--coordinated"]
        if index in devnet.config.byzantine:
            command.append("--byzantine")
        self.children[index] = Child(command, self.log_path(f"node{index}"))

    def node_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.children[index].api_port}"

    def _spawn_smesher(self, sid: int) -> None:
        home = self.smesher_paths[sid]
        index = self.smesher_home[sid]
        config = self.devnet.config
        command = [sys.executable, "-m", "smspec.tools.cli", "smesher", "run", "--keys", os.path.join(home, "keys"),
                   "--post", os.path.join(home, "post"), "--log-level", self.log_level, "--log-file", "-",
                   "--coordinated"]
        for url in self.smesher_urls(sid):
            command += ["--node", url]
        if index in config.byzantine:
            command.append("--byzantine")
        if index == 0 and home.endswith("smesher0") and config.married:
            command.append("--married")
        self.smesher_children[sid] = Child(command, self.log_path(os.path.basename(home)))

    def smesher_urls(self, sid: int) -> list[str]:
        index = self.smesher_home[sid]
        nodes = self.devnet.config.nodes
        order = [index] + ([(index + 1) % nodes] if self.devnet.config.failover and nodes > 1 else [])
        return [self.node_url(i) for i in order if i in self.children]

    def start(self, first: int = 0) -> None:
        devnet = self.devnet
        for index in range(devnet.config.nodes):
            if devnet.alive_at(index, first):
                self._spawn_node(index)
        self.call_peers()
        for sid in self.smesher_home:
            if self.smesher_home[sid] in self.children:
                self._spawn_smesher(sid)

    def call_peers(self, renew: list[int] | None = None) -> None:
        ports = {index: child.port for index, child in self.children.items()}
        for index in list(self.children):
            self._call_node(index, {"op": "peers", "ports": ports, "renew": renew or []})

    def stop(self) -> None:
        for child in list(self.smesher_children.values()) + list(self.children.values()):
            child.stop(graceful=True)
        self.smesher_children.clear()
        self.children.clear()

    def _died(self, index: int) -> None:
        child = self.children.pop(index, None)
        self.sent.pop(index, None)
        if child is not None:
            child.stop()
        self.events.append(f"node {index} died (its process is gone); the run goes on without it")

    def kill(self, index: int) -> None:
        """SIGKILL a node process (its peers notice when their next frame to it fails)."""
        self.children.pop(index).kill()
        self.sent.pop(index, None)

    def restart(self, index: int, layer: int) -> str:
        """Start a node's process again on its database; it catches up by reconciliation with
        the live honest peers (rule "sync"). What it did, in words."""
        from smspec.tools.node.reconcile import SyncStats, describe

        peers = [i for i in sorted(self.children) if i not in self.devnet.config.byzantine]
        self._spawn_node(index)
        self.call_peers(renew=[index])
        for other in self.sent:
            self.sent[other][index] = 0
        for sid, home in self.smesher_home.items():
            if home == index:
                child = self.smesher_children.pop(sid, None)
                if child is not None:
                    child.stop(graceful=True)
                self._spawn_smesher(sid)
        from smspec.tools.node.devnet import partition_groups

        groups = partition_groups(self.devnet.config, layer)
        if groups is not None:  # it comes back while the partition holds: its own group only
            peers = [i for i in peers if groups.get(i) == groups.get(index)]
            self.partition(groups)
        spent = self._call_node(index, {"op": "catch_up", "peers": peers, "upto": layer - 1})
        return (f"caught up by reconciliation with {', '.join(f'node{i}' for i in peers) or 'no peer'}: "
                f"{describe(SyncStats(**spent))}")

    def partition(self, groups: dict[int, int] | None) -> None:
        """Cut gossip between the groups (None: every link again)."""
        for index in list(self.children):
            blocked = [] if groups is None else [i for i in range(self.devnet.config.nodes)
                                                 if groups.get(i) != groups.get(index)]
            self._try_node(index, {"op": "partition", "blocked": blocked})

    def heal(self, since: int, layer: int) -> list[str]:
        """Every live node reconciles the layers since the partition began with every other; what
        each node did in the whole heal (its own sessions and its answers to its peers' sessions,
        read from its counters before and after) and the devnet-wide total, as in-process."""
        from smspec.tools.node.reconcile import heal_events

        self.partition(None)
        before = {index: self.sync_stats(index) for index in list(self.children)}
        for index in list(self.children):
            peers = [i for i in sorted(self.children) if i != index]
            self._try_node(index, {"op": "reconcile", "peers": peers, "first": since - 1, "last": layer - 1})
        after = {index: self.sync_stats(index) for index in list(self.children)}
        return heal_events({i: s for i, s in before.items() if s is not None and after.get(i) is not None},
                           {i: s for i, s in after.items() if s is not None and before.get(i) is not None})

    def sync_stats(self, index: int) -> dict[str, int] | None:
        """A node process's reconciliation counters (`SyncStats` as a dict; None: it died)."""
        status = self._try_node(index, {"op": "status"})
        if status is None:
            return None
        return {k.removeprefix("sync_"): v for k, v in status["metrics"].items() if k.startswith("sync_")}

    # -- calls ---------------------------------------------------------------------------------------

    def _call_node(self, index: int, op: dict) -> Any:
        child = self.children[index]
        answer = child.call(op)
        if not answer["ok"]:
            raise RuntimeError(f"node {index}: {answer['error']}")
        self.sent[index] = {int(k): v for k, v in answer.get("sent", {}).items()}
        return answer["result"]

    def _try_node(self, index: int, op: dict) -> Any:
        try:
            return self._call_node(index, op)
        except ProcessGone:
            self._died(index)
            return None

    def barrier(self) -> None:
        """Wait until every node has received and handled every frame sent to it so far."""
        for index in list(self.children):
            self._try_node(index, {"op": "sent"})
        waiting = []
        for index, child in sorted(self.children.items()):
            expect = {sender: sent.get(index, 0) for sender, sent in self.sent.items()
                      if sender != index and sender in self.children}
            try:
                send_frame(child.sock, "rpc", json.dumps({"op": "barrier", "expect": expect}).encode())
                waiting.append(index)
            except OSError:
                self._died(index)
        for index in waiting:
            if index in self.children:
                try:
                    read_frame(self.children[index].sock)
                except (ConnectionError, OSError):
                    self._died(index)

    # -- the Cluster protocol ------------------------------------------------------------------------

    def live_nodes(self) -> list[int]:
        return sorted(self.children)

    def node(self, index: int, op: str, **call: Any) -> Any:
        if index not in self.children:
            return {}
        result = self._try_node(index, {"op": op, **call})
        self.barrier()
        return {} if result is None else result

    def nodes(self, op: str, **call: Any) -> dict[int, Any]:
        results = {}
        for index in self.live_nodes():
            result = self._try_node(index, {"op": op, **call})
            if result is not None:
                results[index] = result
        return results

    def smeshers(self) -> list[int]:
        return sorted(self.smesher_children, key=lambda sid: (self.smesher_home[sid], sid))

    def smeshers_of(self, index: int) -> list[int]:
        return [sid for sid in self.smeshers() if self.smesher_home[sid] == index]

    def smesher(self, sid: int, op: str, **call: Any) -> Any:
        child = self.smesher_children.get(sid)
        if child is None:
            return {}
        try:
            answer = child.call({"op": op, **call})
        except ProcessGone:
            self.smesher_children.pop(sid).stop()
            self.events.append(f"smeshing service {sid} died; it is started again at the next layer")
            return {}
        if not answer["ok"]:
            raise RuntimeError(f"smeshing service {sid}: {answer['error']}")
        self.barrier()
        return answer["result"]

    def lifecycle(self, layer: int) -> list[str]:
        devnet = self.devnet
        events, self.events = self.events, []
        for index, (down, up) in sorted(devnet.config.crash.items()):
            if layer == down and index in self.children:
                self.kill(index)
                events.append(f"node {index} killed (SIGKILL)")
            if up is not None and layer == up and index not in self.children:
                events.append(f"node {index} restarted and {self.restart(index, layer)}")
        # a node whose process died (not a scripted crash) rejoins at the next layer
        for index in range(devnet.config.nodes):
            if index not in self.children and devnet.alive_at(index, layer) and layer > 0:
                events.append(f"node {index} rejoined: a new process {self.restart(index, layer)}")
        part = devnet.config.partition
        if part and layer == part["from"]:
            from smspec.tools.node.devnet import partition_groups

            self.partition(partition_groups(devnet.config, layer))
            events.append(f"partition: {' | '.join(','.join(map(str, g)) for g in part['groups'])} until layer "
                          f"{part['until']}")
        if part and layer == part["until"]:
            events += self.heal(part["from"], layer)
        for sid, home in self.smesher_home.items():
            if sid not in self.smesher_children and home in self.children:
                self._spawn_smesher(sid)
                events.append(f"smeshing service {sid} started again")
        return events


class TcpDevnet:
    """Start the processes of a devnet directory and drive them with the layer schedule."""

    def __init__(self, devnet: Any, api_port: int | None = None, log_level: str = "INFO") -> None:
        self.devnet = devnet  # the in-process Devnet: configuration, genesis, PoET, workload
        self.cluster = TcpCluster(devnet, api_port, log_level)
        self.schedule = LayerSchedule(self.cluster, devnet.schedule.workload,
                                      byzantine=tuple(sid for sid, home in self.cluster.smesher_home.items()
                                                      if home in devnet.config.byzantine),
                                      transactions=devnet.config.transactions)

    def first_layer(self) -> int:
        return min(self.cluster._call_node(i, {"op": "status"})["last_done"] for i in self.cluster.live_nodes()) + 1

    def run(self, progress: Any = None, pace: float = 0.0, layer_seconds: float = 0.0, stop: Any = None,
            started: Any = None, hold: Any = None) -> dict:
        """Start the processes, run every remaining layer, stop them; the summary. `hold(summary,
        ping)`, when given, runs after the last layer while the processes still serve their APIs
        (`ping()` keeps them from timing out)."""
        from smspec.tools.node.devnet import LayerClock

        devnet = self.devnet
        self.cluster.start(devnet.resume_layer_from_disk())
        try:
            if started is not None:
                started(self.cluster)
            layer = self.first_layer()
            clock = LayerClock(layer, layer_seconds)
            while devnet.config.layers == 0 or layer < devnet.config.layers:
                if stop is not None and stop():
                    break
                clock.wait(layer, stop)
                began = time.perf_counter()
                info = self.schedule.step(layer)
                info.seconds = time.perf_counter() - began
                if progress is not None:
                    progress(info)
                if pace:
                    time.sleep(pace)
                layer += 1
            statuses = {index: self.cluster._call_node(index, {"op": "status"}) for index in self.cluster.live_nodes()}
            summary = summarize(statuses, set(devnet.config.byzantine), devnet.config.layers, "tcp")
            if hold is not None:
                hold(summary, lambda: self.cluster.nodes("status"))
        finally:
            self.cluster.stop()
        return summary
