"""The layer schedule: one description of what happens in a layer, for every devnet.

:class:`LayerSchedule` runs the duties of a layer on a :class:`Cluster` of nodes and smeshing
services. The in-process devnet (``tools/node/devnet.py``) calls the duties directly and delivers
gossip at once; the TCP devnet (``tools/node/tcp.py``) sends them to node and smesher processes
and waits, after each duty that gossips, until every node has handled every frame (*Devnet rule*
**tcp-phases**). Both therefore deliver every object to every node in the same order, so they
reach the same state.

A layer ``L``, in order:

1. every node begins ``L``; each node gossips the transactions submitted through its API; the
   users' transactions of ``L`` are submitted (the devnet workload); byzantine smeshers publish
   garbage;
2. at an epoch's first layer (epoch >= 1), the ATX phase: each smeshing service registers its
   challenges at the PoET, the PoET round closes, each service stores the proof at its node and
   publishes its ATXs;
3. from the first ballot layer: each service publishes its proposals; every node starts the
   Hare; round by round, every node executes the round and each service signs the node's round
   template for its eligible identities (rule *hare-sync*); each node closes the session and its
   services certify the block;
4. every node ends the layer (weak coin, tortoise, applying verified blocks).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

MAX_HARE_ROUNDS = 64


class Cluster(Protocol):
    """Nodes and smeshing services, as a schedule drives them."""

    L: int
    first_ballot_layer: int
    poet: Any

    def lifecycle(self, layer: int) -> list[str]: ...
    def live_nodes(self) -> list[int]: ...
    def node(self, index: int, op: str, **call: Any) -> Any: ...
    def nodes(self, op: str, **call: Any) -> dict[int, Any]: ...
    def smeshers(self) -> list[int]: ...
    def smesher(self, sid: int, op: str, **call: Any) -> Any: ...
    def smeshers_of(self, index: int) -> list[int]: ...


@dataclass
class Progress:
    """What the devnet reports after each layer (for the CLI's live output)."""

    layer: int
    epoch: int
    reports: dict  # node index -> report dict (proposals, hare, verified, applied, state_root hex)
    atxs: dict = field(default_factory=dict)  # kind -> count, at an epoch's first layer
    hare_rounds: int = 0
    events: list = field(default_factory=list)
    seconds: float = 0.0


class LayerSchedule:
    def __init__(self, cluster: Cluster, workload: Callable[[int], list[bytes]] | None = None,
                 byzantine: tuple = (), transactions: bool = True) -> None:
        self.cluster = cluster
        self.workload = workload
        self.byzantine = tuple(byzantine)  # smesher ids
        self.transactions = transactions
        self.timings: dict[str, float] = {}

    def _timed(self, phase: str, started: float) -> float:
        now = time.perf_counter()
        self.timings[phase] = self.timings.get(phase, 0.0) + now - started
        return now

    def step(self, layer: int) -> Progress:
        c = self.cluster
        epoch = layer // c.L
        info = Progress(layer=layer, epoch=epoch, reports={})
        clock = time.perf_counter()
        info.events = c.lifecycle(layer)
        clock = self._timed("restart and sync", clock)
        c.nodes("begin", layer=layer)
        for index in c.live_nodes():
            c.node(index, "relay")
        live = c.live_nodes()
        if self.workload is not None and live:
            for k, data in enumerate(self.workload(layer)):
                c.node(live[k % len(live)], "submit", kind="tx", data=data.hex())
        for sid in c.smeshers():
            if sid in self.byzantine:
                c.smesher(sid, "garbage", layer=layer, transactions=self.transactions)
        clock = self._timed("transactions and gossip", clock)
        if layer % c.L == 0 and epoch >= 1:
            info.atxs = self.atx_phase(epoch)
        clock = time.perf_counter()
        if layer >= c.first_ballot_layer:
            for sid in c.smeshers():
                c.smesher(sid, "propose", layer=layer)
            clock = self._timed("proposals (eligibility, ballots)", clock)
            info.hare_rounds = self.hare(layer)
            clock = self._timed("hare (rounds, certificates)", clock)
        for index, report in c.nodes("end", layer=layer).items():
            info.reports[index] = report
        self._timed("tortoise and state (tally, apply blocks)", clock)
        return info

    def atx_phase(self, epoch: int) -> dict:
        c = self.cluster
        clock = time.perf_counter()
        for sid in c.smeshers():
            for challenge in c.smesher(sid, "atx_register", epoch=epoch).get("challenges", []):
                c.poet.register(epoch, bytes.fromhex(challenge))
        clock = self._timed("ATX: initial PoST and PoET registration", clock)
        proof = c.poet.close(epoch)
        leaves = [leaf.hex() for leaf in c.poet.leaves(epoch)]
        clock = self._timed("ATX: PoET round", clock)
        for sid in c.smeshers():
            c.smesher(sid, "atx_publish", epoch=epoch, proof=proof.hex() if proof else "", leaves=leaves)
        self._timed("ATX: PoST proving, ATX build and validation", clock)
        live = c.live_nodes()
        return c.node(live[0], "atx_kinds", epoch=epoch) if live else {}

    def hare(self, layer: int) -> int:
        """Rule "hare-sync": every live node's session round by round; returns the rounds run."""
        c = self.cluster
        running = any(r["active"] for r in c.nodes("hare_start", layer=layer).values())
        rounds = 0
        while running and rounds < MAX_HARE_ROUNDS:
            rounds += 1
            results = c.nodes("hare_round", layer=layer)
            asked = next((r["asked"] for r in results.values() if r["asked"] is not None), None)
            if asked is not None:
                for sid in c.smeshers():
                    c.smesher(sid, "hare_messages", layer=layer, iteration=asked[0], round=asked[1])
            running = any(r["active"] for r in results.values())
        for index in c.live_nodes():
            c.node(index, "hare_done", layer=layer)
            for sid in c.smeshers_of(index):
                c.smesher(sid, "certify", layer=layer)
        return rounds


def summarize(statuses: dict[int, dict], byzantine_nodes: set, layers: int, mode: str) -> dict:
    """The run's summary from every live node's status."""
    nodes = {index: {"applied": s["applied"], "verified": s["verified"], "state_root": s["state_root"],
                     "byzantine": index in byzantine_nodes, "malicious_seen": len(s["malicious"]),
                     "rejections": s["rejections"]}
             for index, s in sorted(statuses.items())}
    roots = {(n["state_root"], n["applied"]) for n in nodes.values() if not n["byzantine"]}
    return {"layers": layers, "nodes": nodes, "agree": len(roots) == 1,
            "state_root": next(iter(roots))[0] if len(roots) == 1 else None, "mode": mode}


def format_progress(info: Progress) -> list[str]:
    """Lines of live progress for one layer."""
    lines = [f"layer {info.layer}: {event}" for event in info.events]
    if info.atxs:
        kinds = ", ".join(f"{v} {k}" for k, v in sorted(info.atxs.items()))
        lines.append(f"epoch {info.epoch}: ATXs published {sum(info.atxs.values())} ({kinds})")
    reports = info.reports
    if not reports:
        return lines + [f"layer {info.layer}: no live node"]
    first = next(iter(reports.values()))
    hare = {r["hare"] for r in reports.values()}
    roots = {r["state_root"] for r in reports.values()}
    lines.append(
        f"layer {info.layer:3d} (epoch {info.epoch}) | proposals {first['proposals']:2d} | hare {'/'.join(sorted(hare))}"
        f" ({info.hare_rounds} rounds) | verified {min(r['verified'] for r in reports.values())}"
        f" | applied {min(r['applied'] for r in reports.values())} | root {first['state_root'][:12]}"
        f"{'' if len(roots) == 1 else ' (nodes differ)'} | {info.seconds:.2f}s")
    return lines
