"""The devnet: N nodes, M smeshing services per node, one embedded PoET, one layer schedule.

A devnet directory holds ``devnet.json`` (the run's configuration), ``genesis.json`` (public: no
key), ``users.keys.json`` (the users' wallet keys, mode 0600), the PoET's database, one
``nodeK/`` directory per node (its database) and one ``smesherK/`` directory per smeshing service
(``keys/`` with one 0600 key file per identity and the service's own database, ``post/`` with the
identities' PoST data). Keys are generated at creation (``--key-seed TEXT``: derived from a seed,
for reproducible runs). The in-process devnet runs everything in this process with a simulated
clock; ``tools/node/tcp.py`` runs the same schedule over node and smesher processes. The same
configuration (and keys) gives the same state root, whether or not the run is killed and resumed.

Adversaries: a *crashed* node is closed at its crash layer (like ``kill -9``) and, when a
restart layer is given, reopened there from its database and synced from a peer; its smeshing
services, attached to it alone, sit idle meanwhile. A *byzantine* node relays whatever its
smeshing service publishes, and that service equivocates its proposals and Hare messages,
publishes malformed objects of every kind and invalid transactions.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from smspec.tools.node import keys as key_files
from smspec.tools.node import protocol as p
from smspec.tools.node import wallet as w
from smspec.tools.node.host import NodeHost, node_op, smesher_op
from smspec.tools.node.node import Genesis, Node, SharedChecks
from smspec.tools.node.poet import PoetService
from smspec.tools.node.reconcile import LocalPeer, catch_up, describe, heal_events, reconcile
from smspec.tools.node.schedule import LayerSchedule, Progress, format_progress, summarize
from smspec.tools.node.smesher import LocalNodeClient, Smesher
from smspec.tools.node.storage import last_done_on_disk

KINDS = ("poet", "atx", "proposal", "tx", "cert")
USERS = ("alice", "bob")
RECIPIENTS = ("carol", "dave")
SPEND_DELAY = 3
USERS_FILE = "users.keys.json"
DEPLOY_FILE = "receiver.elf"  # the template the workload deploys (tests/spec/athena/programs/receiver.c)


@dataclass
class DevnetConfig:
    nodes: int = 4
    layers: int = 20  # layers 0 .. layers-1 (epochs 0 and 1 are genesis epochs without ballots); 0: no end
    units: int = 2  # PoST space units per identity (tiny preset)
    married: bool = True  # node 0's first smeshing service's identities marry and then merge (the devnet operator)
    byzantine: tuple = ()  # node indices (the node and its smeshing services)
    crash: dict = field(default_factory=dict)  # node index -> [crash layer, restart layer or None]
    transactions: bool = True
    post_memo: bool = True
    verify_memo: bool = True  # rule "verify-memo" (tools/node/node.py `SharedChecks`)
    key_seed: str | None = None  # None: keys from os.urandom; else derived from this (public) seed
    genesis: str = p.DEFAULT_GENESIS  # the Configuration tier's configuration: "tiny" or "testnet-like"
    smeshers: int = 1  # smeshing services per node
    failover: bool = False  # each smeshing service also knows the next node (used when its own is down)
    layer_seconds: float = 0.0  # the layer clock of a self-clocked network (0: a coordinator runs the layers)
    genesis_time: int = 0  # a self-clocked network's genesis time (0: the configuration's)
    # {"groups": [[node, ...], ...], "from": layer, "until": layer}: gossip stays within each group
    # in layers from..until-1; at layer `until` every node reconciles with every peer
    partition: dict = field(default_factory=dict)
    # identities of node 0's first smeshing service (0: 2 when `married`, else 1); they form the
    # married set when `married`
    set_size: int = 0
    post: str = "today"  # "today": ATX v2 with today's PoST; "best": ATX v3 with best-labels PoST from epoch 1

    def to_json(self) -> str:
        data = asdict(self)
        data["byzantine"] = list(self.byzantine)
        data["crash"] = {str(k): list(v) for k, v in self.crash.items()}
        for name in ("layer_seconds", "genesis_time", "partition", "set_size"):  # a coordinated devnet's file reads as it always did
            if not data[name]:
                del data[name]
        if data["post"] == "today":
            del data["post"]
        if data["verify_memo"]:  # a devnet.json of before the rule reads as it did
            del data["verify_memo"]
        return json.dumps(data, sort_keys=True)

    def first_service_identities(self) -> int:
        """How many identities node 0's first smeshing service holds."""
        return self.set_size or (2 if self.married else 1)

    @classmethod
    def from_json(cls, text: str) -> DevnetConfig:
        data = json.loads(text)
        if "seed" in data:
            raise ValueError("this devnet directory was made by an older smspec (its genesis holds private keys); "
                             "use a new --datadir")
        data["byzantine"] = tuple(data["byzantine"])
        data["crash"] = {int(k): list(v) for k, v in data["crash"].items()}
        return cls(**data)


def partition_groups(config: DevnetConfig, layer: int) -> dict[int, int] | None:
    """Node index -> its group while the partition holds at `layer` (None: no partition then)."""
    part = config.partition
    if not part or not part["from"] <= layer < part["until"]:
        return None
    return {index: g for g, group in enumerate(part["groups"]) for index in group}
SET_LETTERS = "bcdefgh"  # n0, n0b, n0c, ...: the identities of node 0's first smeshing service
MAX_SET_SIZE = 1 + len(SET_LETTERS)
V3_FROM_EPOCH = 1  # --post best: ATX v3 from the first ATX epoch on (every ATX is a best-labels ATX)


def identity_names(config: DevnetConfig, index: int, j: int) -> list[str]:
    """The identities of smeshing service `j` of node `index`."""
    base = f"n{index}" if j == 0 else f"n{index}.{j}"
    if index == 0 and j == 0:
        return [base] + [base + letter for letter in SET_LETTERS[: config.first_service_identities() - 1]]
    return [base]


def atx_versions(config: DevnetConfig) -> list:
    """The genesis' `atx_versions` for the devnet's PoST (node.py `Genesis.atx_versions`)."""
    return [[0, 2], [V3_FROM_EPOCH, 3]] if config.post == "best" else []


def smesher_dir(directory: str, index: int, j: int) -> str:
    return os.path.join(directory, f"smesher{index}" if j == 0 else f"smesher{index}.{j}")


def create(directory: str, config: DevnetConfig, m: Any, wallet_code: bytes) -> Genesis:
    """Write a new devnet directory: keys (0600), PoST data, users' key file, genesis."""
    params = p.genesis_params(config.genesis, m)
    users = {name: key_files.new_seed(b"smspec devnet user", config.key_seed, name) for name in USERS + RECIPIENTS}
    key_files.write_users(os.path.join(directory, USERS_FILE), users)
    template = w.template_address(wallet_code)
    accounts = {w.wallet_address(template, m.crypto.public_key(users[name])).hex(): params.genesis_balance
                for name in USERS}
    genesis = Genesis(genesis_time=config.genesis_time or params.genesis_time, extra_data=params.extra_data,
                      layers_per_epoch=params.layers_per_epoch, accounts=accounts, wallet_code=wallet_code.hex(),
                      poet_leaves=params.poet_leaves, tick_size=params.tick_size, layer_size=params.layer_size,
                      layer_reward=params.layer_reward, config=config.genesis, hrp=params.hrp,
                      layer_duration=config.layer_seconds, atx_versions=atx_versions(config))
    golden = genesis.golden_atx(m.crypto)
    for index in range(config.nodes):
        for j in range(config.smeshers):
            home = smesher_dir(directory, index, j)
            for name in identity_names(config, index, j):
                seed = key_files.new_seed(b"smspec devnet identity", config.key_seed, name)
                key_files.write_identity(os.path.join(home, "keys"), name, seed)
                m.post.initialize(os.path.join(home, "post", name), m.crypto.public_key(seed), golden, config.units,
                                  params.post.labels_per_unit, params.max_file_size, params.post.scrypt_n)
    _write(os.path.join(directory, "genesis.json"), genesis.to_json())
    _write(os.path.join(directory, "devnet.json"), config.to_json())
    if config.transactions:
        deploy_program(directory)
    return genesis


def _write(path: str, text: str) -> None:
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def deploy_program(directory: str) -> bytes:
    """The template the workload deploys: ``DEPLOY_FILE`` of the devnet directory (compiled and
    written there when the devnet is made, or now for a directory of an older smspec)."""
    path = os.path.join(directory, DEPLOY_FILE)
    if not os.path.exists(path):
        code = w.build_program("receiver")
        with open(path + ".tmp", "wb") as f:
            f.write(code)
        os.replace(path + ".tmp", path)
    with open(path, "rb") as f:
        return f.read(p.MAX_TX_ARGS)


def read_users(directory: str) -> dict[str, bytes]:
    return key_files.read_users(os.path.join(directory, USERS_FILE))


class LayerClock:
    """Wall-clock layers: layer L starts `seconds` after layer L-1 did (0: no clock, run at once)."""

    def __init__(self, first: int, seconds: float) -> None:
        self.first = first
        self.seconds = seconds
        self.start = time.monotonic()

    def wait(self, layer: int, stop: Callable[[], bool] | None = None) -> None:
        if self.seconds > 0:
            deadline = self.start + (layer - self.first) * self.seconds
            while time.monotonic() < deadline and not (stop is not None and stop()):
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))


class Workload:
    """The users' transactions submitted in each layer (docs/devnet.md "What runs"): both wallets
    spawn in the first ballot layer; from SPEND_DELAY layers later one transaction per layer,
    alice and bob in turn: alice deploys a template (receiver.c, ``DEPLOY_FILE``), bob pays alice
    (a spend to a spawned wallet: hers runs its `receive`), alice pays bob through her wallet's
    proxy (a plain transfer: bob's wallet runs `receive`); then bob pays dave and alice pays carol
    in turn (neither is spawned)."""

    def __init__(self, m: Any, genesis: Genesis, users: dict[str, bytes], deploy_code: bytes) -> None:
        self.m = m
        self.genesis_id = genesis.genesis_id(m.crypto)
        self.template = w.template_address(bytes.fromhex(genesis.wallet_code))
        self.users = users
        self.deploy_code = deploy_code
        self.L = genesis.layers_per_epoch

    def address(self, name: str) -> bytes:
        return w.wallet_address(self.template, self.m.crypto.public_key(self.users[name]))

    def __call__(self, layer: int) -> list[bytes]:
        start = 2 * self.L
        if layer < start:
            return []
        m = self.m
        if layer == start:
            return [p.encode(w.make_spawn(m, self.genesis_id, self.template, self.users[name]), p.Tx) for name in USERS]
        if layer < start + SPEND_DELAY:
            return []  # the spawns are applied once their layer is verified
        k = layer - start - SPEND_DELAY
        payer = USERS[k % 2]
        nonce = 1 + k // 2
        seed = self.users[payer]
        if k == 0:
            tx = w.make_deploy(m, self.genesis_id, self.template, seed, nonce, self.deploy_code)
        elif k == 1:
            tx = w.make_spend(m, self.genesis_id, self.template, seed, nonce, self.address("alice"), 1000 + layer)
        elif k == 2:
            tx = w.make_proxy(m, self.genesis_id, self.template, seed, nonce, self.address("bob"), None, None,
                              2000 + layer)
        else:
            tx = w.make_spend(m, self.genesis_id, self.template, seed, nonce, self.address(RECIPIENTS[k % 2]),
                              1000 + layer)
        return [p.encode(tx, p.Tx)]


class InProcessTransport:
    def __init__(self, cluster: InProcessCluster) -> None:
        self.cluster = cluster

    def gossip(self, sender: int, kind: str, data: bytes) -> None:
        groups = partition_groups(self.cluster.devnet.config, self.cluster.layer)
        for index in self.cluster.live_nodes():
            if groups is not None and groups.get(index) != groups.get(sender):
                continue  # the partition holds
            if index != sender:
                accepted = self.cluster.hosts[index].on_gossip(kind, data)
                key = f"{kind}:{'accepted' if accepted else 'dropped'}"
                self.cluster.gossip_stats[key] = self.cluster.gossip_stats.get(key, 0) + 1


class InProcessCluster:
    """Nodes and smeshing services in this process (the schedule's duties are direct calls)."""

    def __init__(self, devnet: Devnet) -> None:
        self.devnet = devnet
        self.L = devnet.L
        self.poet = devnet.poet
        self.transport = InProcessTransport(self)
        self.hosts = {i: NodeHost(i, None, self.transport) for i in range(devnet.config.nodes)}
        self.gossip_stats: dict[str, int] = {}
        self.smesher_objects: dict[int, Smesher] = {}
        self.smesher_home: dict[int, int] = {}
        self.first_ballot_layer = 2 * self.L
        self.layer = 0  # the layer being run

    def open_node(self, index: int) -> Node:
        devnet = self.devnet
        behaviour = "byzantine" if index in devnet.config.byzantine else None
        node = Node(devnet.node_dir(index), devnet.genesis, index, devnet.m, devnet.memo, behaviour, devnet.shared)
        self.hosts[index].node = node
        self.first_ballot_layer = node.first_ballot_layer
        return node

    def open_smeshers(self) -> None:
        devnet = self.devnet
        config = devnet.config
        sid = 0
        for index in range(config.nodes):
            for j in range(config.smeshers):
                home = smesher_dir(devnet.directory, index, j)
                behaviour = "byzantine" if index in config.byzantine else None
                clients = [LocalNodeClient(self.hosts[index])]
                if config.failover and config.nodes > 1:
                    clients.append(LocalNodeClient(self.hosts[(index + 1) % config.nodes]))
                self.smesher_objects[sid] = Smesher(os.path.join(home, "keys"), os.path.join(home, "post"),
                                                    clients, devnet.m, devnet.memo,
                                                    behaviour, married=index == 0 and j == 0 and config.married,
                                                    name=os.path.basename(home))
                self.smesher_home[sid] = index
                sid += 1

    def live_nodes(self) -> list[int]:
        return [i for i, host in sorted(self.hosts.items()) if host.node is not None]

    def node(self, index: int, op: str, **call: Any) -> Any:
        return node_op(self.hosts[index], op, call)

    def nodes(self, op: str, **call: Any) -> dict[int, Any]:
        return {index: node_op(self.hosts[index], op, call) for index in self.live_nodes()}

    def smeshers(self) -> list[int]:
        return sorted(self.smesher_objects, key=lambda sid: (self.smesher_home[sid], sid))

    def smeshers_of(self, index: int) -> list[int]:
        return [sid for sid in self.smeshers() if self.smesher_home[sid] == index]

    def smesher(self, sid: int, op: str, **call: Any) -> Any:
        return smesher_op(self.smesher_objects[sid], op, call)

    def lifecycle(self, layer: int) -> list[str]:
        devnet = self.devnet
        self.layer = layer
        events = []
        for index, (down, up) in sorted(devnet.config.crash.items()):
            host = self.hosts[index]
            if layer == down and host.node is not None:
                host.node.close()
                host.node = None
                events.append(f"node {index} crashed")
            if up is not None and layer == up and host.node is None:
                node = self.open_node(index)
                groups = partition_groups(devnet.config, layer)
                peers = [LocalPeer(self.hosts[i].node, node) for i in self.live_nodes()
                         if i != index and i not in devnet.config.byzantine
                         and (groups is None or groups.get(i) == groups.get(index))]
                spent = catch_up(node, peers, layer - 1)
                events.append(f"node {index} restarted and caught up by reconciliation with "
                              f"{', '.join(peer.name for peer in peers) or 'no peer'}: {describe(spent)}")
        part = devnet.config.partition
        if part and layer == part["from"]:
            events.append(f"partition: {' | '.join(','.join(map(str, g)) for g in part['groups'])} until layer "
                          f"{part['until']}")
        if part and layer == part["until"]:
            events += self.heal(part["from"])
        return events

    def heal(self, since: int) -> list[str]:
        """The partition ends: every live node reconciles the sets of the layers since the
        partition began (and the epoch before) with every other live node."""
        live = self.live_nodes()
        before = {index: asdict(self.hosts[index].node.sync.stats) for index in live}
        for index in live:
            node = self.hosts[index].node
            reconcile(node, [LocalPeer(self.hosts[i].node, node) for i in live if i != index], since - 1,
                      node.current_layer)
        return heal_events(before, {index: asdict(self.hosts[index].node.sync.stats) for index in live})

    def close(self) -> None:
        for host in self.hosts.values():
            if host.node is not None:
                host.node.close()
                host.node = None
        for smesher in self.smesher_objects.values():
            smesher.close()
        self.smesher_objects.clear()


class Devnet:
    def __init__(self, directory: str, config: DevnetConfig | None = None, m: Any = None,
                 wallet_code: bytes | None = None, memo: dict | None = None) -> None:
        self.m = m or p.modules()
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        config_path = os.path.join(directory, "devnet.json")
        if os.path.exists(config_path):
            with open(config_path, encoding="utf-8") as f:
                stored = DevnetConfig.from_json(f.read())
            if config is not None and replace(config, layers=stored.layers).to_json() != stored.to_json():
                raise ValueError(f"{directory} holds a devnet with another configuration; use a new --datadir")
            if config is not None and config.layers != stored.layers:
                stored = replace(stored, layers=config.layers)  # run fewer or more layers of the same devnet
                _write(config_path, stored.to_json())
            self.config = stored
            with open(os.path.join(directory, "genesis.json"), encoding="utf-8") as f:
                self.genesis = Genesis.from_json(f.read())
        else:
            self.config = config or DevnetConfig()
            self.genesis = create(directory, self.config, self.m, wallet_code or w.build_wallet_program())
        self.memo: dict | None = None
        if self.config.post_memo:
            self.memo = {} if memo is None else memo
        self.shared = SharedChecks() if self.config.verify_memo else None
        self.poet = PoetService(self.m, os.path.join(directory, "poet.sqlite"), self.genesis.poet_leaves)
        self.L = self.genesis.layers_per_epoch
        self.template = w.template_address(bytes.fromhex(self.genesis.wallet_code))
        self.users = read_users(directory)
        self.cluster = InProcessCluster(self)
        workload = None
        if self.config.transactions:
            workload = Workload(self.m, self.genesis, self.users, deploy_program(directory))
        self.schedule = LayerSchedule(
            self.cluster, workload,
            byzantine=(), transactions=self.config.transactions)

    # -- views used by the CLI and the tests -----------------------------------------------------------

    @property
    def nodes(self) -> dict[int, Node | None]:
        return {i: host.node for i, host in self.cluster.hosts.items()}

    @property
    def smeshers(self) -> dict[int, Smesher]:
        return self.cluster.smesher_objects

    @property
    def timings(self) -> dict[str, float]:
        return self.schedule.timings

    @property
    def gossip_stats(self) -> dict[str, int]:
        return self.cluster.gossip_stats

    def node_dir(self, index: int) -> str:
        return os.path.join(self.directory, f"node{index}")

    def alive_at(self, index: int, layer: int) -> bool:
        crash = self.config.crash.get(index)
        if crash is None:
            return True
        down, up = crash
        return not (down <= layer and (up is None or layer < up))

    def open_node(self, index: int) -> Node:
        return self.cluster.open_node(index)

    def live(self) -> list[Node]:
        return [n for _, n in sorted(self.nodes.items()) if n is not None]

    def honest(self) -> list[Node]:
        return [n for n in self.live() if n.behaviour is None]

    def close(self) -> None:
        self.cluster.close()
        self.poet.close_db()

    def user_address(self, name: str) -> bytes:
        return w.wallet_address(self.template, self.m.crypto.public_key(self.users[name]))

    # -- the run -----------------------------------------------------------------------------------

    def resume_layer_from_disk(self) -> int:
        """The first layer some node has not finished, read from the databases without opening nodes."""
        done = []
        for index in range(self.config.nodes):
            last = last_done_on_disk(os.path.join(self.node_dir(index), "node.sqlite"))
            if last is None:
                if self.alive_at(index, 0):
                    done.append(-1)
                continue
            done.append(last)
        return min(done) + 1 if done else 0

    def resume_layer(self) -> int:
        """The first layer some live node has not finished (0 for a fresh devnet)."""
        done = [node.last_done() for node in self.live()]
        return min(done) + 1 if done else 0

    def start(self) -> int:
        """Open the nodes and smeshing services; the first layer to run."""
        self.m.activate()
        if not self.cluster.smesher_objects:
            for index in range(self.config.nodes):
                if self.alive_at(index, 0) or os.path.exists(os.path.join(self.node_dir(index), "node.sqlite")):
                    if self.nodes[index] is None:
                        self.open_node(index)
            self.cluster.open_smeshers()
            self.schedule.byzantine = tuple(sid for sid, home in self.cluster.smesher_home.items()
                                            if home in self.config.byzantine)
        first = self.resume_layer()
        for index in range(self.config.nodes):
            node = self.nodes[index]
            if not self.alive_at(index, first) and node is not None:
                node.close()
                self.cluster.hosts[index].node = None
        return first

    def step(self, layer: int) -> Progress:
        return self.schedule.step(layer)

    def run(self, progress: Callable[[Progress], None] | None = None, pace: float = 0.0,
            stop: Callable[[], bool] | None = None, layer_seconds: float = 0.0) -> dict:
        """Run (or resume) every layer of the configuration (forever with `layers` 0, until
        `stop()`); returns the summary."""
        first = self.start()
        clock = LayerClock(first, layer_seconds)
        layer = first
        while self.config.layers == 0 or layer < self.config.layers:
            if stop is not None and stop():
                break
            clock.wait(layer, stop)
            if stop is not None and stop():
                break
            started = time.perf_counter()
            info = self.step(layer)
            info.seconds = time.perf_counter() - started
            if progress is not None:
                progress(info)
            if pace:
                time.sleep(pace)
            layer += 1
        return self.summary()

    def summary(self) -> dict:
        statuses = {node.index: node.status() for node in self.live()}
        out = summarize(statuses, set(self.config.byzantine), self.config.layers, "in-process")
        honest_applied = {v["applied"] for v in out["nodes"].values() if not v["byzantine"]}
        out["agree"] = out["agree"] and len(honest_applied) == 1
        # rule "verify-memo": checks run, and checks found in the shared memo, so far
        out["shared_checks"] = {} if self.shared is None else dict(sorted(self.shared.counts.items()))
        return out


__all__ = ["Devnet", "DevnetConfig", "Progress", "format_progress", "RECIPIENTS", "USERS"]
