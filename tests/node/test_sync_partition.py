"""Catch-up by set reconciliation in the in-process devnet (tools/node/reconcile.py, rule "sync"):
a partition lets two halves of the network diverge, then every node reconciles with every peer
and all of them end with the same objects and the same state root.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from types import SimpleNamespace
from unittest.mock import ANY

import pytest
from smspec.tools.node.devnet import Devnet, DevnetConfig
from smspec.tools.node.metrics import render
from smspec.tools.node.node import Node
from smspec.tools.node.reconcile import (
    LocalPeer,
    SyncStats,
    catch_up,
    describe,
    parse_set_name,
    reconcile,
    reconcile_until,
    set_names,
)

# nodes 0,1 and nodes 2,3 gossip only within their half in layers 9..11 (epoch 2: ballots, Hare,
# certificates); at layer 12 every node reconciles the layers since 8 with every other node
PARTITIONED = DevnetConfig(layers=16, key_seed="smspec-devnet", partition={"groups": [[0, 1], [2, 3]], "from": 9,
                                                                            "until": 12})
FIRST, LAST = PARTITIONED.partition["from"] - 1, PARTITIONED.partition["until"] - 1


def held(node, first: int, last: int) -> dict[str, frozenset]:
    """Every synced set of layers first..last, as the IDs the node's database holds."""
    out = {}
    for name in set_names(node, first, last):
        kind, arg = parse_set_name(name)
        out[name] = frozenset(node.store.sync_ids(kind, arg))
    return out


@pytest.fixture(scope="module")
def partitioned(tmp_path_factory, wallet_code, memo):
    devnet = Devnet(str(tmp_path_factory.mktemp("partitioned")), PARTITIONED, wallet_code=wallet_code, memo=memo)
    first = devnet.start()
    record: dict = {"events": {}}
    heal = devnet.cluster.heal

    def recorded_heal(since: int) -> list[str]:
        """The devnet's heal, with what the nodes held just before and just after it."""
        nodes = devnet.live()
        record["before"] = [held(node, FIRST, LAST) for node in nodes]
        record["roots_before"] = [node.state_root() for node in nodes]
        record["stats_before"] = [asdict(node.sync.stats) for node in nodes]
        events = heal(since)
        record["after"] = [held(node, FIRST, LAST) for node in nodes]
        record["stats_after"] = [asdict(node.sync.stats) for node in nodes]
        return events

    devnet.cluster.heal = recorded_heal  # type: ignore[method-assign]
    for layer in range(first, PARTITIONED.layers):
        record["events"][layer] = devnet.step(layer).events
    yield devnet, devnet.summary(), record
    devnet.close()


def test_the_halves_diverge_and_reconcile_to_one_state(partitioned):
    devnet, summary, record = partitioned
    before, after = record["before"], record["after"]
    # while the partition held, the halves stored different ballots and certificates
    assert before[0] == before[1] and before[2] == before[3]
    differ = sorted(name for name in before[0] if before[0][name] != before[2][name])
    assert "sync2/proposal/9" in differ and "sync2/cert/9" in differ
    assert all(name.startswith(("sync2/proposal/", "sync2/cert/", "sync2/tx")) for name in differ)
    assert record["roots_before"][0] == record["roots_before"][1] != record["roots_before"][2]
    # after the heal every node holds the union of what the halves held, object by object
    union = {name: frozenset().union(*(sets[name] for sets in before)) for name in before[0]}
    for sets in after:
        assert sets == union
    missing = [sum(len(union[name] - sets[name]) for name in union) for sets in before]
    assert missing[0] == missing[1] > 0 and missing[2] == missing[3] > 0
    # each new object was fetched once, by the node lacking it, in its own sessions or a peer's
    fetched = sum(a["items"] - b["items"] for a, b in zip(record["stats_after"], record["stats_before"], strict=True))
    assert fetched == sum(missing)
    assert sum(a["errors"] - b["errors"] for a, b in zip(record["stats_after"], record["stats_before"],
                                                          strict=True)) == 0
    heal = [e for e in record["events"][PARTITIONED.partition["until"]] if e.startswith("partition healed")]
    assert [e.split(":")[1] for e in heal] == [" node 0 reconciled with 3 peers", " node 1 reconciled with 3 peers",
                                               " node 2 reconciled with 3 peers", " node 3 reconciled with 3 peers",
                                               " devnet-wide (4 nodes together)"]
    assert f" {sum(missing)} new objects;" in heal[-1]  # the devnet-wide line adds up the nodes'
    print("partition heal:", *heal, sep="\n  ")
    # and every node applies the same blocks to the same state root (pinned: --key-seed smspec-devnet)
    assert summary["agree"] and len(devnet.live()) == 4
    roots = {node.state_root() for node in devnet.live()}
    assert roots == {bytes.fromhex(summary["state_root"][2:])}
    assert summary["state_root"] == "0x7b5efcc92d67ea4f646c8b6cad1604446cf77503867348d84f9d6073f10a409d"
    applied = {tuple(node.db.execute("SELECT layer, block_id FROM applied ORDER BY layer").fetchall())
               for node in devnet.live()}
    assert len(applied) == 1 and max(layer for layer, _ in next(iter(applied))) >= FIRST + 4


def test_nodes_in_sync_spend_one_round_per_set_and_peer(partitioned):
    """Already in sync: each set costs one probe exchange per peer and nothing is fetched."""
    devnet, _, _ = partitioned
    nodes = devnet.live()
    node = nodes[0]
    peers = [LocalPeer(other, node) for other in nodes[1:]]
    spent = reconcile(node, peers, FIRST, devnet.config.layers - 1)
    sets = len(set_names(node, FIRST, devnet.config.layers - 1))
    assert spent == SyncStats(probes=sets * len(peers), rounds=sets * len(peers),
                              bytes_sent=spent.bytes_sent, bytes_received=spent.bytes_received)
    assert 0 < spent.bytes_sent and 0 < spent.bytes_received


def test_reconciliation_starts_no_set_after_its_deadline(partitioned):
    """The self-clocked node's per-layer reconciliation has a time share: past its deadline no
    set is started and the result says the sets were not all reconciled; without one, all are."""
    devnet, _, _ = partitioned
    nodes = devnet.live()
    node = nodes[0]
    peers = [LocalPeer(other, node) for other in nodes[1:]]
    spent, complete = reconcile_until(node, peers, FIRST, LAST, deadline=0.0)
    assert (spent, complete) == (SyncStats(), False)
    spent, complete = reconcile_until(node, peers, FIRST, LAST, deadline=None)
    assert complete and spent.probes == len(set_names(node, FIRST, LAST)) * len(peers)


def test_reconciliation_out_of_time_resumes_where_it_stopped(partitioned, monkeypatch):
    """A node so busy that each time share covers one set: passes given the same `done` set
    reach a new set each time and finish after one pass per set (without it every pass would
    spend its share on the first set again and never reach the proposals of recent layers)."""
    import smspec.tools.node.reconcile as reconcile_module

    devnet, _, _ = partitioned
    nodes = devnet.live()
    node = nodes[0]
    peers = [LocalPeer(other, node) for other in nodes[1:]]
    names = set_names(node, FIRST, LAST)
    now = [0.0]

    def monotonic() -> float:  # each look at the clock is one second later: one set per share
        now[0] += 1.0
        return now[0]

    clock = {name: getattr(time, name) for name in dir(time) if not name.startswith("_")}
    monkeypatch.setattr(reconcile_module, "time", SimpleNamespace(**{**clock, "monotonic": monotonic}))
    done: set[str] = set()
    passes = []
    while True:
        spent, complete = reconcile_until(node, peers, FIRST, LAST, now[0] + 1.5, done)
        passes.append((spent.probes, complete))
        if complete or len(passes) > len(names) + 1:
            break
    assert done == set(names)
    assert passes == [(len(peers), False)] * (len(names) - 1) + [(len(peers), True)]
    # without `done`, the same shares never get past the first set
    assert reconcile_until(node, peers, FIRST, LAST, now[0] + 1.5) == (
        SyncStats(probes=len(peers), rounds=len(peers), bytes_sent=ANY, bytes_received=ANY), False)


def test_sync_counters_show_in_status_and_metrics(partitioned):
    devnet, _, record = partitioned
    node = devnet.live()[0]
    status = node.status()
    stats = asdict(node.sync.stats)
    assert {f"sync_{k}": v for k, v in stats.items()} == {k: v for k, v in status["metrics"].items()
                                                         if k.startswith("sync_")}
    assert stats["items"] >= record["stats_after"][0]["items"] > 0
    text = render(status, {}, {})
    assert f"smspec_sync_items_total {stats['items']}" in text
    assert f"smspec_sync_rounds_total {stats['rounds']}" in text
    assert f'smspec_sync_bytes_total{{direction="sent"}} {stats["bytes_sent"]}' in text
    assert f'smspec_sync_sessions_total{{role="initiated"}} {stats["sessions"]}' in text


class LyingPeer:
    """A peer that reconciles honestly but serves every object with its last byte changed."""

    def __init__(self, inner: LocalPeer) -> None:
        self.inner = inner
        self.name = "liar"

    def exchange(self, set_name: str, sid: int, data: bytes) -> bytes:
        return self.inner.exchange(set_name, sid, data)

    def fetch(self, set_name: str, key: bytes) -> bytes | None:
        data = self.inner.fetch(set_name, key)
        return None if data is None else data[:-1] + bytes([data[-1] ^ 1])


def test_a_new_node_catches_up_from_nothing_and_a_lying_peer_is_dropped(partitioned, tmp_path):
    devnet, summary, _ = partitioned
    others = devnet.live()
    last = devnet.config.layers - 1
    node = Node(str(tmp_path / "late"), devnet.genesis, 9, devnet.m, devnet.memo)
    try:
        # the liar's first object does not match its ID: the session fails, the liar is dropped
        # for the rest of the catch-up and nothing it served is stored
        spent = catch_up(node, [LyingPeer(LocalPeer(others[0], node))], last)
        assert (spent.errors, spent.items, spent.sessions) == (1, 0, 0)
        assert all(not node.store.sync_ids(*parse_set_name(name)) for name in set_names(node, 0, last))
        # honest peers: the node ends with every object of theirs and on their state root
        node.close()
        node = Node(str(tmp_path / "late2"), devnet.genesis, 9, devnet.m, devnet.memo)
        spent = catch_up(node, [LocalPeer(other, node) for other in others], last)
        assert spent.errors == 0 and spent.items > 0
        assert held(node, 0, last) == held(others[0], 0, last)
        assert node.state_root().hex() == summary["state_root"][2:]
        assert node.db.execute("SELECT layer, block_id, state_root FROM applied ORDER BY layer").fetchall() == \
            others[0].db.execute("SELECT layer, block_id, state_root FROM applied ORDER BY layer").fetchall()
        # malfeasance proofs travel too (none in this honest network: the set is empty on both)
        assert held(node, 0, last)["sync2/malfeasance"] == frozenset()
    finally:
        node.close()


def test_malfeasance_proofs_reach_a_restarted_and_a_new_node(adversarial, tmp_path):
    """Node 3 proposes twice per layer (byzantine), node 2 is down in layers 9..12: the proofs
    against node 3's identities reach node 2 and a node that starts from nothing, through the
    malfeasance set, and both end on the honest nodes' state root."""
    devnet, summary = adversarial
    honest = devnet.honest()
    last = devnet.config.layers - 1
    proofs = held(honest[0], 0, last)["sync2/malfeasance"]
    assert len(proofs) >= 1
    assert held(devnet.nodes[2], 0, last)["sync2/malfeasance"] == proofs
    assert devnet.nodes[2].sync.stats.items > 0  # its catch-up at layer 13 fetched what it missed
    node = Node(str(tmp_path / "late"), devnet.genesis, 9, devnet.m, devnet.memo)
    try:
        spent = catch_up(node, [LocalPeer(other, node) for other in honest], last)
        assert spent.errors == 0
        mine, theirs = held(node, 0, last), held(honest[0], 0, last)
        assert all(mine[name] == theirs[name] for name in mine if not name.startswith("sync2/proposal/"))
        # it knew node 3's identity malicious before it fetched that identity's ballots, so it
        # refused them as the honest nodes refuse such ballots gossiped after a proof: it lacks
        # those ballots and nothing else
        lacked = [pid for name in mine if name.startswith("sync2/proposal/") for pid in theirs[name] - mine[name]]
        assert mine.keys() == theirs.keys() and all(mine[name] <= theirs[name] for name in mine)
        assert lacked and {honest[0].db.execute("SELECT smesher FROM proposals WHERE id = ?", (pid,)).fetchone()[0]
                           for pid in lacked} <= proofs
        assert all(node.is_malicious(node_id) for node_id in proofs)
        assert node.state_root() == honest[0].state_root() == bytes.fromhex(summary["state_root"][2:])
    finally:
        node.close()


def test_a_node_refuses_bad_sync_requests_with_one_answer_each(partitioned):
    """Every `sync>` gets one `sync<`: a refusal (status 1 and the reason) for a set it does not
    serve, a layer beyond the next, bytes that are no messages, or a ninth open session of one
    peer; a `fetch>` of something it does not hold is answered 'not found'."""
    from smspec.spec import sync
    from smspec.tools.node import reconcile as r

    devnet, _, _ = partitioned
    node, other = devnet.live()[:2]
    back = LocalPeer(other, node)

    def ask(sid: int, name: str, data: bytes) -> bytes:
        return node.sync.serve_request(("test", 1), back, r.encode_request(sid, name, data))

    opening = r.encode_round([sync.EmptySetMessage(), sync.EndRoundMessage()])
    far = node.current_layer + 2
    assert ask(1, "sync2/nosuch", opening) == (1).to_bytes(4, "big") + b"\x01unknown_set"
    assert ask(2, f"sync2/proposal/{far}", opening) == (2).to_bytes(4, "big") + b"\x01unknown_set"
    assert ask(3, "sync2/atx/01", opening) == (3).to_bytes(4, "big") + b"\x01unknown_set"
    assert ask(4, "sync2/tx", b"\xff\x00") == (4).to_bytes(4, "big") + b"\x01malformed_round"
    with pytest.raises(r.PeerError, match="refused: unknown_set"):
        r.decode_reply(ask(5, "sync2/nosuch", opening))
    # a peer opening sessions it never ends: eight are kept, the ninth is refused
    fingerprint = r.encode_round([sync.FingerprintMessage(bytes(32), bytes(32), bytes(12), 5),
                                  sync.EndRoundMessage()])
    answers = [ask(100 + i, "sync2/tx", fingerprint) for i in range(9)]
    assert all(a[4] == 0 for a in answers[:8]) and answers[8] == (108).to_bytes(4, "big") + b"\x01busy"
    node.sync.forget_peer(("test", 1))
    assert ask(200, "sync2/tx", fingerprint)[4] == 0
    node.sync.forget_peer(("test", 1))
    # fetches: a held object, an unknown ID, a malformed request
    tid = node.store.sync_ids("tx", None)[0]
    assert r.decode_fetch_reply(node.sync.serve_fetch(r.encode_fetch(7, "sync2/tx", tid))) == \
        (7, node.store.sync_object("tx", None, tid))
    assert r.decode_fetch_reply(node.sync.serve_fetch(r.encode_fetch(8, "sync2/tx", bytes(32)))) == (8, None)
    assert r.decode_fetch_reply(node.sync.serve_fetch(b"\x00\x00\x00\x09\x08sync2/tx\x01")) == (9, None)


def test_heal_reports_each_node_over_the_whole_heal_and_the_devnet_total():
    """`heal_events`: each node's counters over the whole heal (its own sessions and its answers
    to its peers') and their sum. The TCP devnet's heal reads each node process's counters
    before and after every node's reconciliation (a node answers its peers' sessions during
    their calls, not its own), so its lines count the same as the in-process devnet's."""
    from smspec.tools.node.reconcile import heal_events
    from smspec.tools.node.tcp import TcpCluster

    names = list(asdict(SyncStats()))
    counters = {index: dict.fromkeys(names, 0) for index in (0, 1, 2)}
    counters[0]["served"] = 5  # before the heal
    calls = []

    def call(index: int, op: dict):
        calls.append((index, op["op"]))
        if op["op"] == "status":
            return {"metrics": {"gossip_accepted": 7, **{f"sync_{k}": v for k, v in counters[index].items()}}}
        if op["op"] == "reconcile":  # this node opens one session with each peer, which answers it
            counters[index]["sessions"] += len(op["peers"])
            counters[index]["items"] += index
            for peer in op["peers"]:
                counters[peer]["served"] += 1
            return asdict(SyncStats(sessions=len(op["peers"]), items=index))
        return {}

    cluster = object.__new__(TcpCluster)
    cluster.children = {0: None, 1: None, 2: None}
    cluster._try_node = call
    cluster.partition = lambda groups: None
    events = cluster.heal(9, 12)
    assert [c for c in calls if c[1] == "reconcile"] == [(0, "reconcile"), (1, "reconcile"), (2, "reconcile")]
    per_node = SyncStats(sessions=2, served=2)
    assert events == [
        f"partition healed: node 0 reconciled with 2 peers: {describe(per_node)}",
        f"partition healed: node 1 reconciled with 2 peers: {describe(SyncStats(sessions=2, served=2, items=1))}",
        f"partition healed: node 2 reconciled with 2 peers: {describe(SyncStats(sessions=2, served=2, items=2))}",
        f"partition healed: devnet-wide (3 nodes together): {describe(SyncStats(sessions=6, served=6, items=3))}",
    ]
    before = {0: dict.fromkeys(names, 1), 1: dict.fromkeys(names, 0)}
    after = {0: dict.fromkeys(names, 1), 1: dict.fromkeys(names, 2)}
    assert heal_events(before, after)[-1] == (
        f"partition healed: devnet-wide (2 nodes together): {describe(SyncStats(**dict.fromkeys(names, 2)))}")
