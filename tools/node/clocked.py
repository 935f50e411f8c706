"""Self-clocked processes: a node, a smeshing service and a PoET service, each on the layer clock
of the network's genesis (genesis time + layer duration), and ``devnet up --clocked``, which
starts them (docs/node.md "Self-clocked nodes").

* :class:`ClockedNode` (``smspec node run``): a node, its HTTP API and its gossip links
  (:class:`~smspec.tools.node.peers.PeerNetwork`); it runs the node's part of the layer schedule
  at the times of the clock (:class:`~smspec.tools.node.schedule.ClockedNodeSchedule`) and handles
  gossip in between. Started behind the clock (a restart), it first catches up with its peers by
  set reconciliation (``tools/node/reconcile.py``); meanwhile its node-service API answers 503, so
  smeshing services use their other nodes.
* :class:`ClockedSmesher` (``smspec smesher run``): a smeshing service that runs its part of the
  schedule (:class:`~smspec.tools.node.schedule.ClockedSmesherSchedule`) through the node-service
  API of its nodes (the first that answers) and registers at a PoET service.
* :func:`serve_poet` (``smspec poet run``): the PoET service (rule *poet-server*).
* :class:`ClockedDevnet` (``smspec devnet up --clocked``): one PoET, N nodes and M smeshing
  services per node as processes of their own; it watches them and reports.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from smspec.tools.node.peers import HELLO, NetworkPeer, PeerNetwork, wait_for
from smspec.tools.node.reconcile import (
    FETCH_REPLY,
    FETCH_REQUEST,
    FRAME_KINDS,
    SYNC_REPLY,
    SYNC_REQUEST,
    SyncStats,
    describe,
)
from smspec.tools.node.schedule import (
    HARE_WINDOW_ROUNDS,
    Clock,
    ClockedNodeSchedule,
    ClockedSmesherSchedule,
    LayerTiming,
    hare_rounds,
)

CATCH_UP_PEER_WAIT = 3.0  # seconds a restarted node waits for a peer to catch up from
RECENT_LAYERS = 3  # layers a running node reconciles at the start of each layer (more after a gap)
RECONCILE_SHARE = 0.25  # of a layer: the most the periodic reconciliation may delay the layer's duties
MAX_RECENT_LAYERS = 64
SEEN_FRAMES = 100_000  # gossip frames a node remembers having handled


WARM_PROOF = b"\xff" * 80  # a VRF proof of the largest fraction: its eligibility count reaches every CDF point


def warm_eligibility(hare: Any, weights: list[int], total: int, sizes: tuple[int, ...]) -> None:
    """Compute the Hare eligibility CDF of each weight once, ahead of the epoch's first session: the
    impl backend memoizes it (~1 s per weight on a busy core), so a node checking a round's
    messages, or a service proving its eligibility, does not spend a round computing it."""
    for weight in sorted(set(weights)):
        for size in sizes:
            try:
                hare.eligibility_count(WARM_PROOF, weight, total, size)
            except Exception:  # noqa: BLE001 - an ineligible weight: nothing to prepare
                pass


def in_thread(target: Any, *args: Any) -> None:
    threading.Thread(target=target, args=args, daemon=True).start()


def stop_on_signals(stop: threading.Event) -> None:
    """SIGINT (Ctrl-C) and SIGTERM end the process at its next wait."""
    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, lambda *_: stop.set())


def read_genesis(path: str) -> Any:
    from smspec.tools.node.node import Genesis

    with open(path, encoding="utf-8") as f:
        return Genesis.from_json(f.read(1 << 22))


# ---------------------------------------------------------------------------------------------
# the node


class ClockedNode:
    """``smspec node run`` without a coordinator."""

    def __init__(self, data: str, genesis: Any, index: int, listen: tuple[str, int], peers: list[tuple[str, int]],
                 api_port: int | None, layers: int = 0, stop: threading.Event | None = None) -> None:
        from smspec.tools.node import protocol as p
        from smspec.tools.node.host import NodeHost
        from smspec.tools.node.node import Node

        self.timing = LayerTiming.of(genesis)
        self.m = p.modules()
        self.index = index
        self.layers = layers
        self.node = Node(data, genesis, index, self.m)
        self.network = PeerNetwork(listen, peers, {"genesis_id": self.node.genesis_id.hex(), "node": index})
        self.host = NodeHost(index, self.node, self)
        self.host.ready = False  # the node-service API answers 503 until the node caught up
        self.api = None
        if api_port is not None:
            from smspec.tools.node.api import ApiServer

            try:
                self.api = ApiServer(data, api_port, self.host)
            except OSError:
                self.network.close()
                self.node.close()
                raise
        self.stop = stop or threading.Event()
        self.clock = Clock(self.stop, idle=self.pump)
        self.schedule = ClockedNodeSchedule(self.timing, self.duty, self.clock, self.node.first_ballot_layer)
        self.deferred: list[tuple] | None = None  # gossip held while catching up
        self.seen: dict[bytes, None] = {}  # digests of the latest frames handled (oldest first)
        self.synced_from = -1  # the first layer the next periodic reconciliation covers
        self.reconciled: set[str] = set()  # the sets an unfinished periodic reconciliation reached
        self.log = logging.getLogger(f"smspec.node{index}")

    # the transport of NodeHost: what the node publishes goes to every peer
    def gossip(self, sender: int, kind: str, data: bytes) -> None:
        self.network.broadcast(kind, data)

    def duty(self, op: str, **call: Any) -> Any:
        from smspec.tools.node.host import node_op

        result = node_op(self.host, op, call)
        if self.log.isEnabledFor(logging.DEBUG):
            self.log.debug("%s %s: %s", op, call, result)
        return result

    # -- frames from the peers -------------------------------------------------------------------

    def pump(self, seconds: float) -> None:
        """Handle the frames that arrive within `seconds`."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            try:
                kind, payload, link = self.network.inbox.get(timeout=left) if left > 0 else \
                    self.network.inbox.get_nowait()
            except queue.Empty:
                return
            self.on_frame(kind, payload, link)

    def pump_one(self, seconds: float) -> None:
        """Handle the next frame that arrives within `seconds` (a sync request's wait: it returns
        as soon as the answer may be there)."""
        try:
            kind, payload, link = self.network.inbox.get(timeout=seconds) if seconds > 0 else \
                self.network.inbox.get_nowait()
        except queue.Empty:
            return
        self.on_frame(kind, payload, link)

    def on_frame(self, kind: str, payload: bytes, link: socket.socket) -> None:
        network = self.network
        if kind == "closed":
            network.on_closed(link)
            self.node.sync.forget_peer(link)
            self.node.peers = network.peer_count()
            return
        if kind == HELLO:
            network.on_hello(payload, link)
            self.node.peers = network.peer_count()
            return
        name = network.name_of(link)
        if name is None:
            return  # no hello yet: not a peer
        if kind in FRAME_KINDS:  # set reconciliation: answered at once, even while catching up
            if kind == SYNC_REQUEST:
                network.send(link, SYNC_REPLY, self.node.sync.serve_request(link, self.peer(name, link), payload))
            elif kind == FETCH_REQUEST:
                network.send(link, FETCH_REPLY, self.node.sync.serve_fetch(payload))
            else:
                network.on_answer(kind, payload, link)
            return
        if self.deferred is not None:
            self.deferred.append((kind, payload, link))
            return
        digest = hashlib.blake2b(kind.encode() + b"\0" + payload, digest_size=16).digest()
        if digest in self.seen:
            return  # a copy of what was accepted: checking a Hare message again would cost its eligibility proof
        if self.host.on_gossip(kind, payload):
            self.seen[digest] = None  # only what was accepted: a copy of what came too early is checked again
            if len(self.seen) > SEEN_FRAMES:
                self.seen.pop(next(iter(self.seen)))
            network.broadcast(kind, payload, exclude=name)  # rule "peer-gossip": pass on what is new

    # -- catching up ---------------------------------------------------------------------------------

    def peer(self, name: str, link: socket.socket) -> NetworkPeer:
        return NetworkPeer(self.network, name, link, self.pump_one, self.stop)

    def peers(self) -> list[NetworkPeer]:
        return [self.peer(name, link) for name, link in sorted(self.network.links.items())]

    def catch_up(self, upto: int) -> str:
        """Reconcile with the peers every set of the layers this node may lack, then finish every
        layer up to `upto` (alone when no peer is there)."""
        from smspec.tools.node.reconcile import catch_up

        node, network = self.node, self.network
        current = max(self.timing.layer_at(time.time()), upto)
        self.deferred = []
        wait_for(lambda: network.peer_count() > 0, CATCH_UP_PEER_WAIT, self.pump)
        peers = self.peers()
        if peers:
            spent = catch_up(node, peers, upto, current)
            result = (f"caught up to layer {upto} by reconciliation with {', '.join(p.name for p in peers)}: "
                      f"{describe(spent)}")
        else:
            node.sync_from([], upto, current)
            result = f"no peer answered: finished layers up to {upto} alone"
        self.synced_from = max(0, upto - RECENT_LAYERS)
        self.reconciled.clear()
        node.begin_layer(max(self.timing.layer_at(time.time()), upto + 1))
        deferred, self.deferred = self.deferred, None
        for frame in deferred:
            self.on_frame(*frame)
        return result

    def reconcile_recent(self, layer: int) -> SyncStats | None:
        """At the start of `layer`: reconcile the sets of the layers since the last reconciliation
        that reached a peer (the last RECENT_LAYERS at least) with every connected peer."""
        from smspec.tools.node.reconcile import reconcile_until

        peers = self.peers()
        if not peers or layer < 1:
            return None
        first = max(0, min(self.synced_from, layer - RECENT_LAYERS), layer - MAX_RECENT_LAYERS)
        started = time.monotonic()
        # The layer's own duties wait for it: no set is started after RECONCILE_SHARE of the layer;
        # what is left is reconciled at the next layer (synced_from stays, and the sets this pass
        # reached are skipped then, so a busy node still gets through every set over a few layers).
        spent, complete = reconcile_until(self.node, peers, first, layer - 1,
                                          started + RECONCILE_SHARE * self.timing.duration, self.reconciled)
        took = time.monotonic() - started
        if complete:
            self.reconciled.clear()
        if spent.probes and complete:
            self.synced_from = layer - RECENT_LAYERS
        if spent.items or spent.errors or not complete or took > 0.1 * self.timing.duration:
            self.log.info("layer %d: reconciled layers %d..%d in %.2fs%s: %s", layer, first, layer - 1, took,
                          "" if complete else " (time share used up: the rest next layer)", describe(spent))
        return spent

    # -- the run -----------------------------------------------------------------------------------

    def warm(self, epoch: int) -> None:
        """Prepare the Hare eligibility of every identity of `epoch`'s active set."""
        node = self.node
        with node.lock:
            weights = node.active_weights(epoch)
        layer = epoch * node.L
        warm_eligibility(self.m.hare, list(weights.values()), sum(weights.values()),
                         (node.params.committee(self.m.hare, layer), node.params.hare_leaders))

    def announce(self) -> str:
        api = self.api.url if self.api is not None else "-"
        return (f"node {self.index}: API {api}, gossip {self.network.address}, peers "
                f"{', '.join(f'{h}:{p}' for h, p in self.network.peer_addresses) or '-'}")

    def run(self) -> None:
        timing, node = self.timing, self.node
        if self.api is not None:
            self.api.start()
        self.network.start()
        print(self.announce(), flush=True)
        self.log.info("%s; layer clock: genesis %s, %g s per layer", self.announce(), timing.genesis_time,
                      timing.duration)
        try:
            now_layer = timing.layer_at(time.time())
            if node.last_done() + 1 < now_layer:
                self.log.info("%s", self.catch_up(now_layer - 1))
            self.host.ready = True
            layer = node.last_done() + 1
            self.synced_from = max(0, layer - RECENT_LAYERS)
            self.reconciled.clear()
            in_thread(self.warm, layer // timing.layers_per_epoch)
            while not self.stop.is_set() and (not self.layers or layer < self.layers):
                if not self.clock.wait_until(timing.start(layer)):
                    break
                self.reconcile_recent(layer)
                if layer % timing.layers_per_epoch == timing.layers_per_epoch - 1:
                    in_thread(self.warm, layer // timing.layers_per_epoch + 1)
                if self.schedule.run_layer(layer) is None:
                    break
                layer += 1
        finally:
            self.close()

    def close(self) -> None:
        if self.api is not None:
            self.api.stop()
        self.network.close()
        self.node.close()


# ---------------------------------------------------------------------------------------------
# the smeshing service


class ClockedSmesher:
    """``smspec smesher run`` without a coordinator. The ATX phase of each epoch (PoST proofs: CPU
    for seconds) runs in a child process at a lower priority, so that it never delays the
    service's proposals and Hare messages."""

    def __init__(self, keys: str, post: str, urls: list[str], poet_url: str, married: bool = False,
                 layers: int = 0, stop: threading.Event | None = None, log_file: str | None = None,
                 log_level: str = "INFO") -> None:
        from smspec.tools.node import protocol as p
        from smspec.tools.node.poet import HttpPoetClient
        from smspec.tools.node.smesher import HttpNodeClient, Smesher

        self.m = p.modules()
        self.args = (keys, post, list(urls), poet_url, married)
        self.log_settings = (log_file, log_level)
        self.stop = stop or threading.Event()
        self.layers = layers
        self.urls = urls
        name = os.path.basename(os.path.dirname(os.path.abspath(keys))) or "smesher"
        self.smesher = Smesher(keys, post, [HttpNodeClient(url, timeout=10.0) for url in urls], self.m, None, None,
                               married, name=name)
        self.poet = HttpPoetClient(poet_url)
        self.log = logging.getLogger("smspec.smesher")
        self.clock = Clock(self.stop)
        self.schedule: ClockedSmesherSchedule | None = None
        self.worker: AtxWorker | None = None

    def duty(self, op: str, **call: Any) -> Any:
        from smspec.tools.node.host import smesher_op

        result = smesher_op(self.smesher, op, call)
        if isinstance(result, dict) and "unavailable" in result:
            self.log.warning("%s: no node answered: %s", op, result["unavailable"])
        elif self.log.isEnabledFor(logging.DEBUG):
            self.log.debug("%s %s: %s", op, {k: v for k, v in call.items() if k not in ("proof", "leaves")}, result)
        return result

    def network(self) -> Any:
        """The network's genesis and parameters, from the first node that answers (waits for one)."""
        from smspec.tools.node.smesher import NodeUnavailable

        while not self.stop.is_set():
            try:
                return self.smesher.context()
            except NodeUnavailable as error:
                self.log.info("waiting for a node: %s", error)
                self.stop.wait(1.0)
        return None

    def make_schedule(self, context: dict, start_atx: Any = None) -> ClockedSmesherSchedule:
        m = self.m
        timing = LayerTiming.of(context["genesis"])
        first_ballot = m.tortoise.effective_genesis(context["params"].tortoise_config(m.tortoise)) + 1
        return ClockedSmesherSchedule(timing, self.duty, self.clock, first_ballot,
                                      hare_rounds(m.hare, HARE_WINDOW_ROUNDS), tuple(m.hare.MESSAGE_ROUNDS), self.poet,
                                      start_atx=start_atx)

    def warm(self, context: dict, epoch: int) -> None:
        """Prepare the Hare eligibility of this service's identities for `epoch`."""
        from smspec.tools.node.smesher import HttpNodeClient, NodeUnavailable

        layer = epoch * context["L"]
        hare, params = self.m.hare, context["params"]
        for url in self.urls:  # a client of its own: this runs beside the service's duties
            client = HttpNodeClient(url, timeout=10.0)
            try:
                total = client.hare_total_weight(layer)
                weights = [client.hare_weight(ident.key, layer) for ident in self.smesher.identities]
            except (NodeUnavailable, RuntimeError, ValueError):
                continue
            warm_eligibility(hare, [w for w in weights if w], total, (params.committee(hare, layer), params.hare_leaders))
            return

    def start_atx(self, epoch: int) -> Any:
        """The ATX phase of `epoch`, in the service's ATX process (started at the first epoch)."""
        if self.worker is None:
            self.worker = AtxWorker(self.args, self.log_settings)
        return self.worker.start(epoch)

    def run(self) -> None:
        try:
            context = self.network()
            if context is None:
                return
            self.schedule = schedule = self.make_schedule(context, self.start_atx)
            self.worker = AtxWorker(self.args, self.log_settings)  # its start-up costs seconds: now, not at a deadline
            timing = schedule.timing
            names = ", ".join(i.name for i in self.smesher.identities)
            print(f"smeshing service {self.smesher.name}: identities {names}; nodes {', '.join(self.urls)}", flush=True)
            self.log.info("identities %s, nodes %s, layer clock %g s", names, self.urls, timing.duration)
            layer = max(0, timing.layer_at(time.time()))
            L = timing.layers_per_epoch
            in_thread(self.warm, context, layer // L)
            while not self.stop.is_set():
                if not self.clock.wait_until(timing.start(layer)) or (self.layers and layer >= self.layers):
                    break  # stopped, or layer --layers has started
                if layer % L == L - 1:
                    in_thread(self.warm, context, layer // L + 1)
                schedule.run_layer(layer)
                layer = max(layer + 1, timing.layer_at(time.time()))
        finally:
            self.stop.set()
            if self.worker is not None:
                self.worker.close()
            self.smesher.close()


class AtxWorker:
    """A smeshing service's ATX process: it runs the ATX phase of each epoch it is given, one at a
    time, at a lower priority (PoST proofs take seconds of CPU)."""

    def __init__(self, args: tuple, log_settings: tuple) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.tasks: Any = context.Queue()
        self.finished: Any = context.Queue()
        self.done: set[int] = set()
        self.process = context.Process(target=atx_process, args=(*args, *log_settings, self.tasks, self.finished),
                                       name="atx", daemon=True)
        self.process.start()

    def start(self, epoch: int) -> Any:
        self.tasks.put(epoch)
        worker = self

        class Handle:
            def is_alive(self) -> bool:
                while True:
                    try:
                        worker.done.add(worker.finished.get_nowait())
                    except queue.Empty:
                        break
                return epoch not in worker.done and worker.process.is_alive()

        return Handle()

    def close(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(timeout=30)


def atx_process(keys: str, post: str, urls: list[str], poet_url: str, married: bool, log_file: str | None,
                log_level: str, tasks: Any, finished: Any) -> None:
    """The body of an `AtxWorker`: the ATX phase of every epoch put in `tasks` (it ends with its
    service, even one killed with SIGKILL)."""
    import multiprocessing

    os.nice(5)
    parent = multiprocessing.parent_process()
    if log_file:
        from smspec.tools.commands.node import configure_logging

        configure_logging(log_file, log_level)
    stop = threading.Event()
    stop_on_signals(stop)

    def watch() -> None:  # the service is gone (SIGKILL): stop too
        if parent is None:
            return
        while parent.is_alive() and not stop.wait(1.0):
            pass
        stop.set()

    in_thread(watch)
    service = ClockedSmesher(keys, post, urls, poet_url, married, stop=stop)
    try:
        context = service.network()
        if context is None:
            return
        schedule = service.make_schedule(context)
        while not stop.is_set():
            try:
                epoch = tasks.get(timeout=0.5)
            except queue.Empty:
                continue
            schedule.atx_phase(epoch)
            for event in schedule.atx_events:  # a failure of the epoch: each identity's state says why
                service.log.warning("%s", event)
                for ident in service.smesher.identities:
                    service.smesher.state(ident, "RETRYING", epoch, event)
            schedule.atx_events.clear()
            finished.put(epoch)
    finally:
        service.smesher.close()


# ---------------------------------------------------------------------------------------------
# the PoET service


def serve_poet(data: str, genesis: Any, port: int, layers: int = 0, stop: threading.Event | None = None) -> None:
    """``smspec poet run``: serve the PoET over HTTP until stopped (or until layer `layers`)."""
    from smspec.tools.node import protocol as p
    from smspec.tools.node.api import ApiServer
    from smspec.tools.node.poet import PoetApp, PoetService

    timing = LayerTiming.of(genesis)
    os.makedirs(data, exist_ok=True)
    service = PoetService(p.modules(), os.path.join(data, "poet.sqlite"), genesis.poet_leaves)
    server = ApiServer(data, port, app=PoetApp(service, timing))
    stop = stop or threading.Event()
    server.start()
    print(f"PoET: API {server.url}", flush=True)
    logging.getLogger("smspec.poet").info("serving on %s; layer clock %g s", server.url, timing.duration)
    try:
        end = timing.start(layers) if layers else None
        while not stop.is_set() and (end is None or time.time() < end):
            stop.wait(0.2 if end is None else max(0.0, min(0.2, end - time.time())))
    finally:
        server.stop()
        service.close_db()


# ---------------------------------------------------------------------------------------------
# devnet up --clocked


def free_ports(count: int) -> list[int]:
    """`count` distinct ports free on 127.0.0.1 now."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class Started:
    """A process of the clocked devnet: its first line of output says where it serves."""

    def __init__(self, name: str, command: list[str], log_path: str) -> None:
        self.name = name
        self.log = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 (closed in wait)
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log, text=True,
                                        start_new_session=True)
        self.line = ""

    def first_line(self, timeout: float = 120.0) -> str:
        """The process's first line of output ('' when it exits before printing one)."""
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.process.stdout.readline()
                                                               if self.process.stdout else ""), daemon=True)
        reader.start()
        reader.join(timeout)
        self.line = result[0].strip() if result else ""
        return self.line

    def url(self) -> str:
        words = self.line.replace(",", " ").split()
        return next((w for w in words if w.startswith("http://")), "")

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = 30.0) -> int:
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.log.close()
        return code


class ClockedDevnet:
    """A devnet directory's PoET, nodes and smeshing services as self-clocked processes."""

    def __init__(self, devnet: Any, api_port: int | None = None, log_level: str = "INFO") -> None:
        self.devnet = devnet
        self.api_port = api_port
        self.log_level = log_level
        self.timing = LayerTiming.of(devnet.genesis)
        self.poet: Started | None = None
        self.nodes: dict[int, Started] = {}
        self.smeshers: dict[str, Started] = {}

    def _cli(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "smspec.tools.cli", *args]

    def _log(self, name: str) -> str:
        directory = os.path.join(self.devnet.directory, "logs")
        os.makedirs(directory, exist_ok=True)
        return os.path.join(directory, f"{name}.log")

    def commands(self, gossip: list[int], api: list[int], poet_port: int) -> dict[str, list[str]]:
        """The command line of every process (what `devnet init` prints for a user to run)."""
        from smspec.tools.node.devnet import smesher_dir

        d = self.devnet
        config = d.config
        genesis = os.path.join(d.directory, "genesis.json")
        layers = [] if not config.layers else ["--layers", str(config.layers)]
        out = {"poet": ["poet", "run", "--data", os.path.join(d.directory, "poet"), "--genesis", genesis,
                        "--api-port", str(poet_port), *layers]}
        for i in range(config.nodes):
            peers = [arg for j in range(config.nodes) if j != i for arg in ("--peer", f"127.0.0.1:{gossip[j]}")]
            out[f"node{i}"] = ["node", "run", "--data", d.node_dir(i), "--genesis", genesis, "--index", str(i),
                               "--listen", f"127.0.0.1:{gossip[i]}", *peers, "--api-port", str(api[i]), *layers]
        for i in range(config.nodes):
            for j in range(config.smeshers):
                home = smesher_dir(d.directory, i, j)
                urls = [i] + ([(i + 1) % config.nodes] if config.nodes > 1 else [])
                nodes = [arg for k in urls for arg in ("--node", f"http://127.0.0.1:{api[k]}")]
                married = ["--married"] if i == 0 and j == 0 and config.married else []
                out[os.path.basename(home)] = ["smesher", "run", "--keys", os.path.join(home, "keys"), "--post",
                                               os.path.join(home, "post"), *nodes, "--poet",
                                               f"http://127.0.0.1:{poet_port}", *married, *layers]
        return out

    def start(self) -> list[str]:
        """Start every process; lines saying where each serves."""
        config = self.devnet.config
        count = config.nodes
        ports = free_ports(2 * count + 1)
        gossip = ports[:count]
        api = [self.api_port + i for i in range(count)] if self.api_port else ports[count:2 * count]
        commands = self.commands(gossip, api, ports[-1])
        lines = []
        for name, command in commands.items():
            process = Started(name, self._cli(*command, "--log-level", self.log_level, "--log-file", "-"),
                              self._log(name))
            if name == "poet":
                self.poet = process
            elif name.startswith("node"):
                self.nodes[int(name[4:])] = process
            else:
                self.smeshers[name] = process
        for process in [self.poet, *self.nodes.values(), *self.smeshers.values()]:
            assert process is not None
            line = process.first_line()
            if not line:
                self.stop()
                raise RuntimeError(f"{process.name} did not start (see {self._log(process.name)})")
            lines.append(line)
        return lines

    def status(self, index: int) -> dict | None:
        import urllib.request

        url = self.nodes[index].url()
        try:
            with urllib.request.urlopen(url + "/status", timeout=5) as response:
                return dict(json.loads(response.read()))
        except (OSError, ValueError):
            return None

    def running(self) -> bool:
        return any(p.process.poll() is None for p in self.nodes.values())

    def stop(self) -> None:
        everything = [*self.smeshers.values(), *self.nodes.values(), *([self.poet] if self.poet else [])]
        for process in everything:
            process.terminate()
        for process in everything:
            process.wait()
        self.smeshers.clear()
        self.nodes.clear()
        self.poet = None

    def run(self, progress: Any = None, stop: Any = None, started: Any = None) -> dict:
        """Start the processes, report each layer as the nodes finish it, stop them after the last
        layer (they stop by themselves with --layers) or when `stop()`; the summary. `started(self)`,
        when given, runs once every process serves (devnet up --dashboard prints its address)."""
        from smspec.tools.node.schedule import summarize

        self.start()
        if started is not None:
            started(self)
        timing = self.timing
        reported = -1
        try:
            layer = max(0, timing.layer_at(time.time()))
            while self.running() and not (stop is not None and stop()):
                deadline = timing.start(layer + 1) + 0.3 * timing.duration
                while time.time() < deadline and self.running() and not (stop is not None and stop()):
                    time.sleep(min(0.2, max(0.0, deadline - time.time())))
                statuses = {i: s for i in sorted(self.nodes) if (s := self.status(i)) is not None}
                if progress is not None and statuses:
                    progress(layer, statuses)
                    reported = layer
                layer = max(layer + 1, timing.layer_at(time.time()))
        finally:
            self.stop()
        final = self.final_statuses()
        last = max((s.get("last_done", -1) for s in final.values()), default=-1)
        if progress is not None and last > reported:
            progress(last, final)  # the last layer, as the databases hold it
        return summarize(final, set(), self.devnet.config.layers, "clocked")

    def weight_spreads(self, index: int = 0) -> list[str]:
        """Per publish epoch, the measured weight of its best-labels ATXs next to their declared
        storage (schedule.weight_spread), from node `index`'s database once the processes stopped
        (the coordinated devnets print it live; a self-clocked node has no coordinator to ask)."""
        from types import SimpleNamespace

        from smspec.tools.node import host
        from smspec.tools.node import protocol as p
        from smspec.tools.node.schedule import weight_spread
        from smspec.tools.node.storage import NodeStore

        path = os.path.join(self.devnet.node_dir(index), "node.sqlite")
        if not os.path.exists(path):
            return []
        store = NodeStore(p.modules().atx, path)
        try:
            node = SimpleNamespace(store=store)
            lines = []
            for epoch in range(0, (store.last_publish_epoch() or 0) + 1):
                spread = weight_spread(host.atx_weights(node, epoch))  # type: ignore[arg-type]
                if spread:
                    lines.append(f"epoch {epoch}: {spread}")
            return lines
        finally:
            store.close()

    def final_statuses(self) -> dict[int, dict]:
        """Every node's status as its database holds it (the processes have stopped)."""
        from smspec.tools.node.storage import NodeReader

        out = {}
        for index in range(self.devnet.config.nodes):
            path = os.path.join(self.devnet.node_dir(index), "node.sqlite")
            if os.path.exists(path):
                text = NodeReader(path).meta("status")
                if text:
                    out[index] = json.loads(text)
        return out


__all__ = ["ClockedDevnet", "ClockedNode", "ClockedSmesher", "serve_poet"]
