"""The in-process devnet: N nodes, one embedded PoET, a simulated clock (one step per layer).

Each step of layer ``L`` runs, in this order: the users' transactions for ``L`` (gossiped), at an
epoch's first layer the ATX phase (PoET registration, the PoET round, PoST proofs, ATX v2
publication and validation), the proposals of ``L`` (gossiped), the Hare session of ``L`` in lock
step on every live node, the certificates, and each node's end of layer (weak coin, tortoise
tally, application of verified layers). Everything is a function of the configuration: the same
configuration gives the same state root, whether or not the process is killed and restarted
(the devnet resumes from its directory: every node from its own SQLite database).

Adversaries: a *crashed* node is closed at its crash layer (like ``kill -9``) and, when a
restart layer is given, reopened there from its database and synced from a peer. A *byzantine*
node equivocates its proposals and Hare messages, gossips malformed bytes of every kind and
submits invalid transactions.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from smspec.tools.node import protocol as p
from smspec.tools.node import wallet as w
from smspec.tools.node.api import take_inbox
from smspec.tools.node.node import Genesis, LayerReport, Node
from smspec.tools.node.poet import PoetService

KINDS = ("poet", "atx", "proposal", "tx", "cert")


@dataclass
class DevnetConfig:
    nodes: int = 4
    layers: int = 20  # layers 0 .. layers-1 (epochs 0 and 1 are genesis epochs without ballots)
    units: int = 2  # PoST space units per identity (tiny preset)
    married: bool = True  # node 0 has two identities that marry and then merge
    byzantine: tuple = ()  # node indices
    crash: dict = field(default_factory=dict)  # node index -> [crash layer, restart layer or None]
    transactions: bool = True
    post_memo: bool = True
    seed: str = "smspec-devnet"
    genesis: str = p.DEFAULT_GENESIS  # genesis configuration: "tiny" or "testnet-like" (rule testnet-like)

    def to_json(self) -> str:
        data = asdict(self)
        data["byzantine"] = list(self.byzantine)
        data["crash"] = {str(k): list(v) for k, v in self.crash.items()}
        if self.genesis == p.DEFAULT_GENESIS:
            del data["genesis"]  # a tiny devnet's file is what it was before configurations existed
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DevnetConfig:
        data = json.loads(text)
        data["byzantine"] = tuple(data["byzantine"])
        data["crash"] = {int(k): list(v) for k, v in data["crash"].items()}
        return cls(**data)


USERS = ("alice", "bob")
RECIPIENTS = ("carol", "dave")
SPEND_DELAY = 3


def user_key_seed(devnet_seed: str, name: str) -> bytes:
    """The key seed of devnet user `name` (alice, bob, ...) of the devnet named `devnet_seed`."""
    from smspec.spec.crypto import hash32

    return hash32(b"smspec devnet user", devnet_seed.encode(), name.encode())


def user_seed(m: Any, config: DevnetConfig, name: str) -> bytes:
    return user_key_seed(config.seed, name)


def make_genesis(m: Any, config: DevnetConfig, wallet_code: bytes) -> Genesis:
    crypto = m.crypto
    identities = {}
    template = w.template_address(wallet_code)
    accounts = {}
    for index in range(config.nodes):
        names = [f"n{index}"] + ([f"n{index}b"] if index == 0 and config.married else [])
        rows = []
        for name in names:
            seed = crypto.hash32(b"smspec devnet identity", config.seed.encode(), name.encode())
            rows.append([name, seed.hex(), config.units])
        identities[str(index)] = rows
    for name in USERS:
        owner = crypto.public_key(user_seed(m, config, name))
        accounts[w.wallet_address(template, owner).hex()] = p.GENESIS_BALANCE
    params = p.genesis_params(config.genesis, m)
    return Genesis(genesis_time=p.GENESIS_TIME, extra_data=p.EXTRA_DATA,
                   layers_per_epoch=params.layers_per_epoch, identities=identities,
                   married=[0] if config.married else [], accounts=accounts, wallet_code=wallet_code.hex(),
                   layer_size=params.layer_size, config=config.genesis)


class LayerClock:
    """Wall-clock layers: layer L starts `seconds` after layer L-1 did (0: no clock, run at once)."""

    def __init__(self, first: int, seconds: float) -> None:
        self.first = first
        self.seconds = seconds
        self.start = time.monotonic()

    def wait(self, layer: int) -> None:
        if self.seconds > 0:
            delay = self.start + (layer - self.first) * self.seconds - time.monotonic()
            if delay > 0:
                time.sleep(delay)


@dataclass
class Progress:
    """What the devnet reports after each layer (for the CLI's live output)."""

    layer: int
    epoch: int
    reports: dict  # node index -> LayerReport
    atxs: dict = field(default_factory=dict)  # kind -> count, at an epoch's first layer
    hare_rounds: int = 0
    gossip: dict = field(default_factory=dict)
    seconds: float = 0.0


class Devnet:
    def __init__(self, directory: str, config: DevnetConfig | None = None, m: Any = None,
                 wallet_code: bytes | None = None, memo: dict | None = None) -> None:
        self.m = m or p.modules()
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        config_path = os.path.join(directory, "devnet.json")
        genesis_path = os.path.join(directory, "genesis.json")
        if os.path.exists(config_path):
            with open(config_path, encoding="utf-8") as f:
                stored = DevnetConfig.from_json(f.read())
            if config is not None and replace(config, layers=stored.layers).to_json() != stored.to_json():
                raise ValueError(f"{directory} holds a devnet with another configuration; use a new --datadir")
            if config is not None and config.layers != stored.layers:
                stored = replace(stored, layers=config.layers)  # run fewer or more layers of the same devnet
                with open(config_path + ".tmp", "w", encoding="utf-8") as f:
                    f.write(stored.to_json())
                os.replace(config_path + ".tmp", config_path)
            self.config = stored
            with open(genesis_path, encoding="utf-8") as f:
                self.genesis = Genesis.from_json(f.read())
        else:
            self.config = config or DevnetConfig()
            self.genesis = make_genesis(self.m, self.config, wallet_code or w.build_wallet_program())
            with open(genesis_path + ".tmp", "w", encoding="utf-8") as f:
                f.write(self.genesis.to_json())
            os.replace(genesis_path + ".tmp", genesis_path)
            with open(config_path + ".tmp", "w", encoding="utf-8") as f:
                f.write(self.config.to_json())
            os.replace(config_path + ".tmp", config_path)
        self.memo: dict | None = None
        if self.config.post_memo:
            self.memo = {} if memo is None else memo
        self.poet = PoetService(self.m, os.path.join(directory, "poet.sqlite"), self.genesis.poet_leaves)
        self.L = self.genesis.layers_per_epoch
        self.nodes: dict[int, Node | None] = {i: None for i in range(self.config.nodes)}
        self.template = w.template_address(bytes.fromhex(self.genesis.wallet_code))
        self.gossip_stats: dict[str, int] = {}
        self.timings: dict[str, float] = {}

    # -- node lifecycle ----------------------------------------------------------------------------

    def node_dir(self, index: int) -> str:
        return os.path.join(self.directory, f"node{index}")

    def alive_at(self, index: int, layer: int) -> bool:
        crash = self.config.crash.get(index)
        if crash is None:
            return True
        down, up = crash
        return not (down <= layer and (up is None or layer < up))

    def open_node(self, index: int) -> Node:
        behaviour = "byzantine" if index in self.config.byzantine else None
        node = Node(self.node_dir(index), self.genesis, index, self.m, self.memo, behaviour)
        self.nodes[index] = node
        return node

    def live(self) -> list[Node]:
        return [n for _, n in sorted(self.nodes.items()) if n is not None]

    def honest(self) -> list[Node]:
        return [n for n in self.live() if n.behaviour is None]

    def close(self) -> None:
        for index, node in self.nodes.items():
            if node is not None:
                node.close()
                self.nodes[index] = None
        self.poet.close_db()

    # -- gossip ------------------------------------------------------------------------------------

    def broadcast(self, kind: str, data: bytes) -> None:
        for node in self.live():
            accepted = node.handle(kind, data)
            key = f"{kind}:{'accepted' if accepted else 'dropped'}"
            self.gossip_stats[key] = self.gossip_stats.get(key, 0) + 1

    # -- the run -----------------------------------------------------------------------------------

    def resume_layer_from_disk(self) -> int:
        """The first layer some node has not finished, read from the databases without opening nodes."""
        import sqlite3

        done = []
        for index in range(self.config.nodes):
            path = os.path.join(self.node_dir(index), "node.sqlite")
            if not os.path.exists(path):
                if self.alive_at(index, 0):
                    done.append(-1)
                continue
            db = sqlite3.connect(path)
            try:
                row = db.execute("SELECT MAX(layer) FROM progress").fetchone()
            except sqlite3.Error:
                row = (None,)
            db.close()
            done.append(-1 if row[0] is None else row[0])
        return min(done) + 1 if done else 0

    def resume_layer(self) -> int:
        """The first layer some live node has not finished (0 for a fresh devnet)."""
        done = []
        for index in range(self.config.nodes):
            path = os.path.join(self.node_dir(index), "node.sqlite")
            if not os.path.exists(path):
                done.append(-1)
                continue
            node = self.nodes[index]
            if node is None:
                continue
            done.append(node.last_done())
        return min(done) + 1 if done else 0

    def run(self, progress: Callable[[Progress], None] | None = None, pace: float = 0.0,
            stop: Callable[[], bool] | None = None, layer_seconds: float = 0.0) -> dict:
        """Run (or resume) every layer of the configuration; returns the summary.

        `pace`: pause after each layer; `layer_seconds`: start layer L of this run at
        ``start + (L - first) * layer_seconds`` on the wall clock (a layer that overruns delays the next)."""
        self.m.activate()
        first = None
        for index in range(self.config.nodes):
            if self.alive_at(index, 0) or os.path.exists(os.path.join(self.node_dir(index), "node.sqlite")):
                self.open_node(index)
        first = self.resume_layer()
        for index in range(self.config.nodes):
            if not self.alive_at(index, first) and self.nodes[index] is not None:
                self.nodes[index].close()
                self.nodes[index] = None
        clock = LayerClock(first, layer_seconds)
        for layer in range(first, self.config.layers):
            if stop is not None and stop():
                break
            clock.wait(layer)
            started = time.perf_counter()
            info = self.step(layer)
            info.seconds = time.perf_counter() - started
            if progress is not None:
                progress(info)
            if pace:
                time.sleep(pace)
        return self.summary()

    def _lifecycle(self, layer: int) -> list[str]:
        events = []
        for index, (down, up) in sorted(self.config.crash.items()):
            if layer == down and self.nodes[index] is not None:
                self.nodes[index].close()
                self.nodes[index] = None
                events.append(f"node {index} crashed")
            if up is not None and layer == up and self.nodes[index] is None:
                node = self.open_node(index)
                peer = next((n for n in self.honest() if n is not node), None)
                accepted = node.sync_from(peer.export(), layer - 1) if peer is not None else 0
                events.append(f"node {index} restarted and synced {accepted} objects from node {peer.index if peer else '-'}")
        return events

    def _timed(self, phase: str, started: float) -> float:
        now = time.perf_counter()
        self.timings[phase] = self.timings.get(phase, 0.0) + now - started
        return now

    def step(self, layer: int) -> Progress:
        epoch = layer // self.L
        info = Progress(layer=layer, epoch=epoch, reports={})
        clock = time.perf_counter()
        lifecycle = self._lifecycle(layer)
        clock = self._timed("restart and sync", clock)
        for node in self.live():
            node.begin_layer(layer)
        for node in self.live():
            for kind, data in take_inbox(node.db):
                if node.handle(kind, data):
                    self.broadcast(kind, data)
        if self.config.transactions:
            for data in self.user_transactions(layer):
                self.broadcast("tx", data)
        for node in self.live():
            if node.behaviour == "byzantine":
                for kind, data in byzantine_garbage(self, node, layer):
                    self.broadcast(kind, data)
        clock = self._timed("transactions and gossip", clock)
        if layer % self.L == 0 and epoch >= 1:
            info.atxs = self.atx_phase(epoch)
        clock = time.perf_counter()
        if layer >= self.live()[0].first_ballot_layer if self.live() else False:
            for node in self.live():
                for data in node.propose(layer):
                    self.broadcast("proposal", data)
                if node.behaviour == "byzantine":
                    for data in byzantine_proposals(self, node, layer):
                        self.broadcast("proposal", data)
            clock = self._timed("proposals (eligibility, ballots)", clock)
            info.hare_rounds = self.hare(layer)
            clock = self._timed("hare (rounds, certificates)", clock)
        for node in self.live():
            report = node.end_layer(layer)
            report.events = lifecycle
            info.reports[node.index] = report
        self._timed("tortoise and state (tally, apply blocks)", clock)
        info.gossip = dict(self.gossip_stats)
        return info

    def atx_phase(self, epoch: int) -> dict:
        clock = time.perf_counter()
        for node in self.live():
            node.atx_register(epoch, self.poet)
        clock = self._timed("ATX: initial PoST and PoET registration", clock)
        proof = self.poet.close(epoch)
        if proof is not None:
            self.broadcast("poet", proof)
        clock = self._timed("ATX: PoET round", clock)
        for node in self.live():
            for blob in node.atx_publish(epoch, self.poet):
                self.broadcast("atx", blob)
        self._timed("ATX: PoST proving, ATX build and validation", clock)
        kinds: dict[str, int] = {}
        observer = self.honest()[0] if self.honest() else None
        if observer is not None:
            for (blob,) in observer.db.execute("SELECT blob FROM atxs WHERE publish_epoch = ?", (epoch,)):
                atx = self.m.atx.decode_atx_v2(blob)
                kind = ("initial" if atx.initial is not None else "merged" if atx.marriage_atx is not None
                        else "marriage" if atx.marriages else "solo")
                kinds[kind] = kinds.get(kind, 0) + 1
        return kinds

    def hare(self, layer: int) -> int:
        """Rule "hare-sync": run every live node's session round by round; returns the rounds run."""
        nodes = [n for n in self.live() if n.hare_start(layer)]
        rounds = 0
        while any(n.hare_active(layer) for n in nodes) and rounds < 64:
            rounds += 1
            outbox = []
            for node in nodes:
                for message in node.hare_round(layer):
                    outbox.append(message)
                    if node.behaviour == "byzantine":
                        outbox += byzantine_hare(self, node, layer, message)
            for message in outbox:
                for node in nodes:
                    node.hare_receive(layer, message)
        for node in nodes:
            for cert in node.hare_done(layer):
                self.broadcast("cert", cert)
        return rounds

    # -- workload ------------------------------------------------------------------------------------

    def user_transactions(self, layer: int) -> list[bytes]:
        """The users' transactions submitted in `layer`: both wallets spawn in the first ballot
        layer, then (from SPEND_DELAY layers later) alice pays carol and bob pays dave in turn.
        carol and dave are not spawned: a call into a spawned wallet runs wallet.c without a method
        selector, whose entry point halts, so a spend to a spawned wallet fails (docs/devnet.md)."""
        start = 2 * self.L
        if layer < start:
            return []
        m = self.m
        genesis_id = m.crypto.genesis_id(self.genesis.genesis_time, self.genesis.extra_data)
        seeds = {name: user_seed(m, self.config, name) for name in USERS}
        if layer == start:
            return [p.encode(w.make_spawn(m, genesis_id, self.template, seeds[name]), p.Tx) for name in USERS]
        if layer < start + SPEND_DELAY:
            return []  # the spawns are applied once their layer is verified
        k = layer - start - SPEND_DELAY
        payer, payee = USERS[k % 2], RECIPIENTS[k % 2]
        nonce = 1 + k // 2
        recipient = w.wallet_address(self.template, m.crypto.public_key(user_seed(m, self.config, payee)))
        tx = w.make_spend(m, genesis_id, self.template, seeds[payer], nonce, recipient, 1000 + layer)
        return [p.encode(tx, p.Tx)]

    # -- results -------------------------------------------------------------------------------------

    def summary(self) -> dict:
        nodes = {}
        for node in self.live():
            status = node.status()
            nodes[node.index] = {"applied": status["applied"], "verified": status["verified"],
                                 "state_root": status["state_root"], "byzantine": node.behaviour == "byzantine",
                                 "malicious_seen": len(status["malicious"]), "rejections": status["rejections"]}
        honest_roots = {v["state_root"] for v in nodes.values() if not v["byzantine"]}
        honest_applied = {v["applied"] for v in nodes.values() if not v["byzantine"]}
        return {"layers": self.config.layers, "nodes": nodes, "agree": len(honest_roots) == 1 and len(honest_applied) == 1,
                "state_root": honest_roots.pop() if len(honest_roots) == 1 else None}


# ---------------------------------------------------------------------------------------------
# Byzantine behaviour (harness side: what a misbehaving node sends)


def byzantine_garbage(devnet: Devnet, node: Node, layer: int) -> list[tuple[str, bytes]]:
    """Malformed gossip of every kind, and invalid transactions (bad signature, replayed nonce)."""
    crypto = devnet.m.crypto
    junk = crypto.hash32(b"garbage", layer.to_bytes(4, "little"))
    out = [(kind, junk[: 7 + i]) for i, kind in enumerate(KINDS)]
    out.append(("atx", b"\x01" * 40))
    if devnet.config.transactions and layer >= 2 * devnet.L + 1:
        seed = user_seed(devnet.m, devnet.config, "alice")
        bob = w.wallet_address(devnet.template, crypto.public_key(user_seed(devnet.m, devnet.config, "bob")))
        good = w.make_spend(devnet.m, node.genesis_id, devnet.template, seed, 1, bob, 5)
        forged = p.Tx(good.principal, 10_000 + layer, good.method, good.args, good.signature)  # signature of another tx
        replay = w.make_spend(devnet.m, node.genesis_id, devnet.template, node.identities[0].seed, 0, bob, 5)
        out += [("tx", p.encode(forged, p.Tx)), ("tx", p.encode(replay, p.Tx))]
    return out


def byzantine_proposals(devnet: Devnet, node: Node, layer: int) -> list[bytes]:
    """A second, different proposal of the same smesher and layer (equivocation)."""
    out = []
    for data in node.propose(layer):
        proposal = p.decode(data, p.Proposal)
        ident = node.by_key.get(proposal.smesher)
        if ident is None:
            continue
        import attrs

        twin = node.sign_proposal(ident, attrs.evolve(proposal, tx_ids=[bytes(32)], signature=bytes(64)))
        out.append(p.encode(twin, p.Proposal))
    return out


def byzantine_hare(devnet: Devnet, node: Node, layer: int, message: bytes) -> list[bytes]:
    """An equivocating twin of a Hare message (same round, another value) plus a truncated copy."""
    hare = devnet.m.hare
    decoded = hare.decode(message, hare.Message)
    ident = node.by_key.get(decoded.sender)
    if ident is None:
        return [message[:-1]]
    body = decoded.body
    fake = devnet.m.crypto.hash32(b"fake proposal", layer.to_bytes(4, "little"))[:20]
    value = hare.Value(proposals=(fake,)) if body.value.reference is None else hare.Value(reference=hare.proposals_hash((fake,)))
    import attrs

    twin_body = attrs.evolve(body, value=value)
    twin = hare.Message(body=twin_body, sender=decoded.sender,
                        signature=hare.sign_body(ident.seed, node.genesis_id, twin_body))
    return [hare.encode(twin, hare.Message), message[:-1]]


def format_progress(info: Progress, verbose: bool = False) -> list[str]:
    """Lines of live progress for one layer."""
    lines = []
    if info.atxs:
        kinds = ", ".join(f"{v} {k}" for k, v in sorted(info.atxs.items()))
        lines.append(f"epoch {info.epoch}: ATXs published {sum(info.atxs.values())} ({kinds})")
    reports = info.reports
    if not reports:
        return lines + [f"layer {info.layer}: no live node"]
    first: LayerReport = next(iter(reports.values()))
    for event in first.events:
        lines.append(f"layer {info.layer}: {event}")
    hare = {r.hare for r in reports.values()}
    roots = {r.state_root for r in reports.values()}
    lines.append(
        f"layer {info.layer:3d} (epoch {info.epoch}) | proposals {first.proposals:2d} | hare {'/'.join(sorted(hare))}"
        f" ({info.hare_rounds} rounds) | verified {min(r.verified for r in reports.values())}"
        f" | applied {min(r.applied for r in reports.values())} | root {first.state_root[:6].hex()}"
        f"{'' if len(roots) == 1 else ' (nodes differ)'} | {info.seconds:.2f}s")
    return lines
