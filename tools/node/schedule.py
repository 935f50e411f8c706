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

Self-clocked processes (``smspec node run`` / ``smspec smesher run`` without a coordinator) run
the same duties at the times of a :class:`LayerTiming` (*Devnet rule* **clocked-phases**): each
node runs its part with :class:`ClockedNodeSchedule`, each smeshing service its part with
:class:`ClockedSmesherSchedule`; the order within a layer is the one above, with time instead of
barriers between the steps.
"""

from __future__ import annotations

import math
import threading
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
    weights: list = field(default_factory=list)  # the epoch's ATXs: weight and declared storage (host.atx_weights)
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
            live = c.live_nodes()
            if live:
                info.weights = c.node(live[0], "atx_weights", epoch=epoch).get("atxs", [])
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


# ---------------------------------------------------------------------------------------------
# The layer clock (rule "clocked-phases")

# When each step of a layer happens, as a fraction of the layer duration after the layer start.
PROPOSE_AT = 0.02  # smeshing services publish their proposals
HARE_START_AT = 0.20  # nodes start the Hare and execute the preround
HARE_END_AT = 0.80  # the Hare's last round (a session still running then is closed)
ATX_PUBLISH_AT = 0.82  # smeshing services publish the ATXs they built (after the Hare: the nodes are idle)
HARE_WINDOW_ROUNDS = 20  # Hare rounds between HARE_START_AT and HARE_END_AT (an honest session takes 15)
SIGN_AT = 0.3  # a service reads a round's template this fraction of a round after the nodes executed it
POET_REGISTER_LAYERS = 3  # services register for the PoET round of epoch e from layer e*L - 3


@dataclass(frozen=True)
class LayerTiming:
    """The layer clock of a network: layer L starts at ``genesis_time + L * duration`` (unix
    seconds), and each step of a layer at its fraction of the duration (rule "clocked-phases")."""

    genesis_time: float
    duration: float
    layers_per_epoch: int

    @classmethod
    def of(cls, genesis: Any) -> LayerTiming:
        if not genesis.layer_duration:
            raise ValueError("this genesis has no layer clock (layer duration 0): a coordinator runs its layers")
        return cls(float(genesis.genesis_time), float(genesis.layer_duration), genesis.layers_per_epoch)

    def start(self, layer: int) -> float:
        return self.genesis_time + layer * self.duration

    def at(self, layer: int, fraction: float) -> float:
        return self.start(layer) + fraction * self.duration

    def layer_at(self, now: float) -> int:
        """The layer in progress at `now` (negative before genesis)."""
        return math.floor((now - self.genesis_time) / self.duration)

    @property
    def hare_round(self) -> float:
        """Seconds per Hare round."""
        return (HARE_END_AT - HARE_START_AT) * self.duration / HARE_WINDOW_ROUNDS

    def hare_round_at(self, layer: int, k: int) -> float:
        """When the nodes execute the `k`-th round (0: the preround) of `layer`'s Hare session."""
        return self.at(layer, HARE_START_AT) + k * self.hare_round

    def poet_round_end(self, epoch: int) -> float:
        """The PoET round of publish epoch `epoch` ends when the epoch starts (rule "poet-instant")."""
        return self.start(epoch * self.layers_per_epoch)

    def poet_register_layer(self, epoch: int) -> int:
        return epoch * self.layers_per_epoch - POET_REGISTER_LAYERS


def hare_rounds(hare: Any, count: int) -> list[tuple[int, int]]:
    """The (iteration, round) a Hare session executes at its rounds 0 .. count-1 (hare.md
    `next_iter_round` from the preround)."""
    out = []
    ir = hare.IterRound(0, hare.Round.PREROUND)
    for _ in range(count):
        out.append((ir.iter, int(ir.round)))
        ir = hare.next_iter_round(ir)
    return out


class Clock:
    """Waiting for a wall-clock time; `stop` ends every wait early (a process shutting down)."""

    def __init__(self, stop: threading.Event | None = None, idle: Callable[[float], None] | None = None) -> None:
        self.stop = stop or threading.Event()
        self.idle = idle  # called with the seconds left while waiting (a node handles its gossip)

    @staticmethod
    def now() -> float:
        return time.time()

    def wait_until(self, when: float) -> bool:
        """Wait until `when`; False when stopped."""
        while not self.stop.is_set():
            left = when - time.time()
            if left <= 0:
                return True
            if self.idle is not None:
                self.idle(min(left, 0.25))
            else:
                self.stop.wait(min(left, 0.25))
        return False


class ClockedNodeSchedule:
    """A node's part of the layer schedule on a layer clock: begin the layer and relay the
    transactions submitted through its API; from the first ballot layer, the Hare (start and
    preround at HARE_START_AT, one round every `hare_round` seconds, at most HARE_WINDOW_ROUNDS,
    then close the session); end the layer when the next one starts."""

    def __init__(self, timing: LayerTiming, duty: Callable[..., Any], clock: Clock, first_ballot_layer: int) -> None:
        self.timing = timing
        self.duty = duty
        self.clock = clock
        self.first_ballot_layer = first_ballot_layer

    def run_layer(self, layer: int) -> dict | None:
        """Run `layer` (joined late: the steps whose time has passed are skipped, the Hare when its
        preround is past); the end-of-layer report, or None when stopped."""
        timing, duty = self.timing, self.duty
        duty("begin", layer=layer)
        duty("relay")
        if layer >= self.first_ballot_layer and self.clock.now() <= timing.hare_round_at(layer, 0) + timing.hare_round / 2:
            if not self.clock.wait_until(timing.hare_round_at(layer, 0)):
                return None
            if duty("hare_start", layer=layer)["active"]:
                for k in range(HARE_WINDOW_ROUNDS):
                    if not self.clock.wait_until(timing.hare_round_at(layer, k)):
                        return None
                    if not duty("hare_round", layer=layer)["active"]:
                        break
                duty("hare_done", layer=layer)
        if not self.clock.wait_until(timing.start(layer + 1)):
            return None
        return duty("end", layer=layer)


class ClockedSmesherSchedule:
    """A smeshing service's part of the layer schedule on a layer clock: the ATX phase of epoch e
    (register at the PoET from layer e*L - POET_REGISTER_LAYERS, take the round's proof when epoch
    e starts, build the ATXs, publish them at ATX_PUBLISH_AT of the first layer they are ready in;
    started by `start_atx`, it runs beside the layers); from the first ballot layer, proposals at
    PROPOSE_AT, then at every Hare round the message for the round the node executed (read SIGN_AT
    into the round) until the node's session is closed, then the certificate."""

    def __init__(self, timing: LayerTiming, duty: Callable[..., Any], clock: Clock, first_ballot_layer: int,
                 rounds: list[tuple[int, int]], message_rounds: tuple, poet: Any,
                 start_atx: Callable[[int], Any] | None = None) -> None:
        self.timing = timing
        self.duty = duty
        # starts the ATX phase of an epoch beside the layers; returns something with is_alive()
        # (default: a thread running `atx_phase`; a smeshing service runs it in a process of its own)
        self.start_atx = start_atx or self._atx_thread
        self.clock = clock
        self.first_ballot_layer = first_ballot_layer
        self.rounds = rounds
        self.message_rounds = {int(r) for r in message_rounds}
        self.poet = poet
        self.atx_worker: Any = None
        self.atx_epochs: set[int] = set()
        self.atx_events: list[str] = []

    def run_layer(self, layer: int) -> None:
        timing, duty = self.timing, self.duty
        L = timing.layers_per_epoch
        epoch = (layer + POET_REGISTER_LAYERS) // L  # the epoch whose PoET registration window holds `layer`
        if (epoch >= 1 and epoch not in self.atx_epochs and self.clock.now() < timing.poet_round_end(epoch)
                and (self.atx_worker is None or not self.atx_worker.is_alive())):
            self.atx_epochs.add(epoch)
            self.atx_worker = self.start_atx(epoch)
        if layer < self.first_ballot_layer:
            return
        if self.clock.now() < timing.at(layer, HARE_START_AT):
            if not self.clock.wait_until(timing.at(layer, PROPOSE_AT)):
                return
            duty("propose", layer=layer)
        certified = False
        for k, (iteration, round_kind) in enumerate(self.rounds):
            when = timing.hare_round_at(layer, k) + SIGN_AT * timing.hare_round
            if self.clock.now() > when + timing.hare_round / 2:
                continue  # joined late: this round is past
            if not self.clock.wait_until(when):
                return
            if duty("certify", layer=layer).get("ready"):
                certified = True
                break
            if round_kind in self.message_rounds:
                duty("hare_messages", layer=layer, iteration=iteration, round=round_kind)
        if not certified and self.clock.wait_until(timing.at(layer, HARE_END_AT) + timing.hare_round / 2):
            duty("certify", layer=layer)

    def _atx_thread(self, epoch: int) -> threading.Thread:
        thread = threading.Thread(target=self.atx_phase, args=(epoch,), daemon=True, name=f"atx-epoch-{epoch}")
        thread.start()
        return thread

    def atx_phase(self, epoch: int) -> None:
        """Rule "clocked-phases": the ATX phase of publish epoch `epoch`."""
        timing, duty = self.timing, self.duty
        challenges = duty("atx_register", epoch=epoch).get("challenges", [])
        if not challenges:
            return  # nothing to publish this epoch (or no node answered: the service's state says so)
        registered = [c for c in challenges if self.poet.submit(epoch, c)]
        if not registered:
            failures = "; ".join(getattr(self.poet, "failures", [])[-1:]) or "no challenge"
            self.atx_events.append(f"epoch {epoch}: not registered at the PoET ({failures})")
            return
        if not self.clock.wait_until(timing.poet_round_end(epoch)):
            return
        answer = None
        deadline = timing.start((epoch + 1) * timing.layers_per_epoch)
        while answer is None and self.clock.now() < deadline:
            answer = self.poet.proof(epoch)
            if answer is None and not self.clock.wait_until(self.clock.now() + timing.hare_round):
                return
        if answer is None:
            self.atx_events.append(f"epoch {epoch}: the PoET served no proof")
            return
        proof, leaves = answer
        duty("atx_publish", epoch=epoch, proof=proof, leaves=leaves, publish=False)  # PoST proofs, signing
        layer = max(timing.layer_at(self.clock.now()), epoch * timing.layers_per_epoch)
        if self.clock.now() > timing.at(layer, ATX_PUBLISH_AT):
            layer += 1
        if self.clock.wait_until(timing.at(layer, ATX_PUBLISH_AT)):
            duty("atx_publish", epoch=epoch, proof=proof, leaves=leaves, publish=True)


def summarize(statuses: dict[int, dict], byzantine_nodes: set, layers: int, mode: str) -> dict:
    """The run's summary from every live node's status."""
    nodes = {index: {"applied": s["applied"], "verified": s["verified"], "state_root": s["state_root"],
                     "byzantine": index in byzantine_nodes, "malicious_seen": len(s["malicious"]),
                     "rejections": s["rejections"]}
             for index, s in sorted(statuses.items())}
    roots = {(n["state_root"], n["applied"]) for n in nodes.values() if not n["byzantine"]}
    return {"layers": layers, "nodes": nodes, "agree": len(roots) == 1,
            "state_root": next(iter(roots))[0] if len(roots) == 1 else None, "mode": mode}


def weight_spread(atxs: list[dict]) -> str:
    """The measured weight of an epoch's best-labels ATXs (v3) next to their declared storage
    (declared units x ticks, what a v2 ATX weighs): each ATX, then the spread of weight / declared."""
    best = [a for a in atxs if a.get("version") == 3 and a.get("declared")]
    if not best:
        return ""
    ratios = [a["weight"] / a["declared"] for a in best]
    mean = sum(ratios) / len(ratios)
    sd = math.sqrt(sum((r - mean) ** 2 for r in ratios) / len(ratios))
    each = ", ".join(f"{a['smesher'][:8]}{'+' + str(a['members'] - 1) if a['members'] > 1 else ''} "
                     f"{a['weight']}/{a['declared']}" for a in best)
    total = sum(a["weight"] for a in best) / sum(a["declared"] for a in best)
    return (f"best-labels weight / declared storage (units x ticks): {each}; "
            f"per ATX {min(ratios):.2f}..{max(ratios):.2f} (mean {mean:.3f}, sd {sd:.3f}), total {total:.3f}")


def format_progress(info: Progress) -> list[str]:
    """Lines of live progress for one layer."""
    lines = [f"layer {info.layer}: {event}" for event in info.events]
    if info.atxs:
        kinds = ", ".join(f"{v} {k}" for k, v in sorted(info.atxs.items()))
        lines.append(f"epoch {info.epoch}: ATXs published {sum(info.atxs.values())} ({kinds})")
    spread = weight_spread(info.weights)
    if spread:
        lines.append(f"epoch {info.epoch}: {spread}")
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
