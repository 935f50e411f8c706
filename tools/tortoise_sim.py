"""A network simulator for the tortoise (tooling; the protocol rules live in spec/tortoise.md).

Smeshers publish one ATX per epoch and cast ballots every layer; each layer has one block per
network side and a Hare output; honest ballots carry the opinion that their side's node encodes
(``encode_votes``), as an honest smesher's node would. Scenarios:

* ``partition``: from ``partition_start`` for ``partition_layers`` layers the smeshers are split
  (fraction ``partition_fraction`` on side 0); each side sees only its own ballots and blocks, has
  its own Hare output, weak coin and, for epochs that start during the split, its own beacon. At
  the end of the split every node receives what the other side produced (late blocks, late
  ballots), and the sides vote together again: self-healing must bring them to one history.
* ``byzantine``: a fraction of smeshers builds on an honest base ballot but votes against the
  previous layer's Hare block (or supports a block nobody has, the "early block").
* ``bad_beacon``: a fraction of smeshers declares a wrong beacon.
* ``missing_hare`` / ``empty_hare``: layers without Hare output (terminated after zdist) or with
  an empty one.
* ``late_blocks``: layers whose block reaches the nodes only after the next layer's ballots.

After each tally the mesh applies the verified layer (``on_applied`` with its opinion), which is
what lets the window move. Every node is driven through the event-trace format of ``smspec.conformance.handlers.tortoise``
and its events are recorded, so any run can be saved and replayed (``smspec tortoise replay``).
With ``record=False`` (long runs, the benchmark) nothing is kept per event: ballots go to the
nodes as objects, without the JSON round trip, and each node only adds up the CPU time its
tortoise calls take (``Node.seconds``; ``Node.marks`` holds the total after each tally).
Assumptions (simplifications of the real network, documented in docs/tortoise.md): ATXs are seen
by every node; all ballots of one side in one layer share one opinion; one ballot per smesher per
layer, with ``L`` eligibilities per epoch, so each ballot weighs ``atx_weight / L``.
"""

from __future__ import annotations

import gc
import random
import time
from dataclasses import dataclass, field
from typing import Any

import blake3
from smspec.conformance.handlers import as_int, hexbytes, hexstr
from smspec.conformance.handlers import tortoise as events_mod


@dataclass
class Scenario:
    layers: int = 40
    smeshers: int = 12
    nodes_per_side: int = 1
    observed_sides: int = 2  # 1: only side 0 runs a node (enough when there is no partition)
    atx_units: int = 10
    ticks: int = 100
    seed: int = 0
    partition_start: int = 0  # layer offset after genesis (0: no partition)
    partition_layers: int = 0
    partition_fraction: float = 0.5
    byzantine_fraction: float = 0.0
    early_block_fraction: float = 0.0
    bad_beacon_fraction: float = 0.0
    missing_hare: tuple[int, ...] = ()  # layer offsets after genesis
    empty_hare: tuple[int, ...] = ()
    late_blocks: tuple[int, ...] = ()
    shuffle_ballots: bool = False
    shuffle_seed: int = 0  # delivery order only; does not change what is produced
    order_per_node: bool = False  # each node gets each layer's ballots in its own random order
    apply_verified: bool = True  # the mesh applies verified layers (on_applied), which lets the window move
    record: bool = True  # keep every node's events and outputs (False: only CPU time per tally)
    config: dict = field(default_factory=dict)


def _id(size: int, *parts: Any) -> bytes:
    return blake3.blake3(repr(parts).encode()).digest(length=size)


@dataclass
class Node:
    side: int
    state: Any
    events: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    pending: list = field(default_factory=list)  # events from the other side, held back during a split
    seconds: float = 0.0  # CPU time spent in this node's tortoise calls
    marks: list = field(default_factory=list)  # `seconds` after each tally (record=False)
    gc_seconds: float = 0.0  # the part of `seconds` spent in garbage collections (record=False)


class Simulation:
    """Run a scenario on ``2 * nodes_per_side`` nodes sharing one spec (or impl) module."""

    def __init__(self, tortoise: Any, scenario: Scenario) -> None:
        self.t = tortoise
        self.s = scenario
        self.config = events_mod.config_from_json(tortoise, scenario.config)
        self.rng = random.Random(scenario.seed)
        self.order_rng = random.Random(scenario.shuffle_seed)
        self.genesis = tortoise.effective_genesis(self.config)
        if scenario.observed_sides not in (1, 2) or (scenario.observed_sides == 1 and scenario.partition_layers):
            raise ValueError("observed_sides must be 2 for a partition, else 1 or 2")
        self.nodes = [Node(side, tortoise.new_tortoise(self.config))
                      for side in range(scenario.observed_sides) for _ in range(scenario.nodes_per_side)]
        n = scenario.smeshers
        self.smesher_ids = [_id(32, "smesher", scenario.seed, i) for i in range(n)]
        order = list(range(n))
        self.rng.shuffle(order)
        split = round(n * scenario.partition_fraction)
        self.side_of = {i: (0 if rank < split else 1) for rank, i in enumerate(order)}
        byz = round(n * scenario.byzantine_fraction)
        bad = round(n * scenario.bad_beacon_fraction)
        early = round(n * scenario.early_block_fraction)
        self.byzantine = set(order[:byz])
        self.bad_beacon = set(order[byz:byz + bad])
        self.early = set(order[byz + bad:byz + bad + early])
        self.atx_of: dict = {}  # (epoch, smesher) -> atx id
        self.ref_of: dict = {}  # (epoch, smesher) -> reference ballot id
        self.beacons: dict = {}  # (epoch, side) -> beacon
        self.blocks: dict = {}  # (layer, side) -> block id
        self.history: list = []  # per layer: [(node index, verified, mode)]
        self.timed: Node | None = None  # the node whose tortoise calls are being timed (record=False)
        self.gc_node: Node | None = None  # the node timed when the running garbage collection started
        self.gc_start = 0.0

    # -- helpers -----------------------------------------------------------------------------
    def partitioned(self, layer: int) -> bool:
        s = self.s
        start = self.genesis + s.partition_start
        return s.partition_layers > 0 and start <= layer < start + s.partition_layers

    def deliver(self, event: dict, side: int | None, layer: int, nodes: list | None = None) -> None:
        """Deliver an event to every node (side None) or to one side, holding it for the other."""
        for node in self.nodes if nodes is None else nodes:
            if side is None or node.side == side or not self.partitioned(layer):
                self.apply(node, event)
            else:
                node.pending.append(event)

    def apply(self, node: Node, event: Any) -> None:
        if self.s.record:
            node.events.append(event)
            out = events_mod.apply_event(self.t, node.state, event)
            if out is not None:
                node.outputs.append(out)
            return
        call = self.decoded(event) if isinstance(event, dict) else None
        start = self.clock(node)
        if call is not None:
            call[0](node.state, *call[1])
        else:
            self.apply_unrecorded(node, event)
        self.stop(node, start)
        if isinstance(event, dict) and event["op"] == "tally":
            node.marks.append(node.seconds)

    def clock(self, node: Node) -> float:
        """Start timing a node's tortoise calls (record=False)."""
        self.timed = node
        return time.process_time()

    def stop(self, node: Node, start: float) -> None:
        node.seconds += time.process_time() - start
        self.timed = None

    def on_gc(self, phase: str, info: dict) -> None:
        """gc callback: a collection that runs inside a node's timed calls is counted in its
        ``gc_seconds`` (which collections fall there depends on every allocation in the process,
        the simulator's included, so the benchmark shows it apart)."""
        if phase == "start":
            self.gc_node, self.gc_start = self.timed, time.process_time()
        elif self.gc_node is not None:
            self.gc_node.gc_seconds += time.process_time() - self.gc_start
            self.gc_node = None

    def decoded(self, event: dict) -> tuple[Any, tuple] | None:
        """An event as the tortoise call it makes, its arguments decoded from the trace format
        before the clock starts (unrecorded: only the tortoise's own work is timed); None for the
        events that go through the trace handler."""
        t, op = self.t, event["op"]
        if op == "tally":
            return t.tally_votes, (int(event["layer"]),)  # without the snapshot record
        if op == "atx":
            return t.on_atx, (int(event["epoch"]), hexbytes(event["id"], 32),
                              t.AtxData(node=hexbytes(event["node"], 32), weight=as_int(event["weight"]),
                                        height=as_int(event["height"])))
        if op == "beacon":
            return t.on_beacon, (int(event["epoch"]), hexbytes(event["beacon"], 4))
        if op == "weakcoin":
            return t.on_weak_coin, (int(event["layer"]), bool(event["coin"]))
        if op == "block":
            return t.on_block, (t.BlockHeader(id=hexbytes(event["id"], 20), layer=int(event["layer"]),
                                              height=as_int(event["height"])),)
        if op == "hare":
            return t.on_hare_output, (int(event["layer"]), hexbytes(event["block"], 20))
        if op == "applied":
            return t.on_applied, (int(event["layer"]), hexbytes(event["opinion"], 32))
        return None

    def apply_unrecorded(self, node: Node, event: Any) -> None:
        if isinstance(event, dict):
            events_mod.apply_event(self.t, node.state, event)
        else:  # a BallotData, delivered as the "ballot" event would deliver it
            try:
                self.t.on_ballot(node.state, event)
            except self.t.InvalidBallot:
                pass

    def deliver_ballots(self, produced: list, layer: int) -> None:
        """Deliver a layer's ballots in order; unrecorded, each node's share goes in one timed
        ``on_ballots`` call (on_ballot on each, refusals reported in their places)."""
        if self.s.record:
            for side, ballot, _ in produced:
                self.deliver(self.ballot_event(ballot), side, layer)
            return
        on_ballots = self.t.on_ballots
        split = self.partitioned(layer)
        for node in self.nodes:
            # what the node receives is picked before the clock starts: only on_ballots is timed (the
            # spec's on_ballots is on_ballot on each ballot in order, refusals reported, not raised)
            received = [ballot for side, ballot, _ in produced if side is None or node.side == side or not split]
            node.pending.extend(ballot for side, ballot, _ in produced
                                if not (side is None or node.side == side or not split))
            state = node.state
            start = self.clock(node)
            on_ballots(state, received)
            self.stop(node, start)

    def heal(self) -> None:
        for node in self.nodes:
            held, node.pending = node.pending, []
            for event in held:
                self.apply(node, event)

    # -- epochs ------------------------------------------------------------------------------
    def start_epoch(self, epoch: int, layer: int) -> None:
        s = self.s
        events = []
        for i, smesher in enumerate(self.smesher_ids):
            atx = _id(32, "atx", s.seed, epoch, i)
            self.atx_of[(epoch, i)] = atx
            events.append({"op": "atx", "epoch": epoch, "id": hexstr(atx), "node": hexstr(smesher),
                           "weight": s.atx_units * s.ticks, "height": s.ticks * (epoch + 1)})
        if s.record:
            for event in events:
                self.deliver(event, None, layer)
        else:  # every node receives them all; each node's share is timed at once, as for ballots
            for node in self.nodes:
                calls = [self.decoded(event) for event in events]
                state = node.state
                start = self.clock(node)
                for function, arguments in calls:  # type: ignore[misc]
                    function(state, *arguments)
                self.stop(node, start)
        split = self.partitioned(layer)
        for side in (0, 1):
            beacon = _id(4, "beacon", s.seed, epoch, side if split else 0)
            self.beacons[(epoch, side)] = beacon
            self.deliver({"op": "beacon", "epoch": epoch, "beacon": hexstr(beacon)}, side, layer)

    # -- one layer ---------------------------------------------------------------------------
    def step(self, layer: int) -> None:
        s, t, config = self.s, self.t, self.config
        epoch = layer // config.layers_per_epoch
        if layer % config.layers_per_epoch == 0 or layer == self.genesis + 1:
            self.start_epoch(epoch, layer)
        split = self.partitioned(layer)
        offset = layer - self.genesis
        # ballots of this layer, voting on everything before it
        opinions = {}
        for side in (0, 1):
            node = next((n for n in self.nodes if n.side == side), None)
            if node is None:
                opinions[side] = opinions[0]
                continue
            # unrecorded (the benchmark), the one encode_votes call the node makes is the timed one;
            # recorded, the "encode" event repeats it so that a replay reproduces its output
            start = self.clock(node)
            try:
                opinions[side] = t.encode_votes(node.state, layer)
            except t.EncodeVotesError:
                opinions[side] = None
            if s.record:
                self.apply(node, {"op": "encode", "layer": layer})
            else:
                self.stop(node, start)
        produced = []
        for i, smesher in enumerate(self.smesher_ids):
            side = self.side_of[i] if split else 0
            opinion = opinions[side] if split else (opinions[0] or opinions[1])
            if opinion is None:
                continue
            if i in self.byzantine or i in self.early:
                opinion = self.adversarial_opinion(layer, opinion, i in self.early) or opinion
            beacon = self.beacons[(epoch, side)]
            if i in self.bad_beacon:
                beacon = _id(4, "bad beacon", s.seed, epoch, i)
            ballot_id = _id(20, "ballot", s.seed, layer, i)
            ref = self.ref_of.get((epoch, i))
            ballot = t.BallotData(
                id=ballot_id, smesher=smesher, layer=layer, atx_id=self.atx_of[(epoch, i)],
                eligibilities=1, opinion=opinion,
                epoch_data=None if ref else t.ReferenceData(beacon=beacon, eligibilities=config.layers_per_epoch),
                ref=ref,
            )
            if ref is None:
                self.ref_of[(epoch, i)] = ballot_id
            produced.append((side, ballot, ref is None))
        if s.shuffle_ballots:
            # reference ballots first: a secondary ballot depends on its reference ballot
            self.order_rng.shuffle(produced)
            produced.sort(key=lambda item: not item[2])
        if s.order_per_node:
            # every node receives the layer's ballots in its own order (reference ballots first)
            for index, node in enumerate(self.nodes):
                order = list(produced)
                random.Random(f"{s.shuffle_seed}/{layer}/{index}").shuffle(order)
                order.sort(key=lambda item: not item[2])
                for side, ballot, _ in order:
                    self.deliver(self.ballot_event(ballot), side, layer, [node])
        else:
            self.deliver_ballots(produced, layer)
        # blocks, Hare output and weak coin of this layer
        height = s.ticks * epoch
        for side in (0, 1) if split else (0,):
            block = _id(20, "block", s.seed, layer, side)
            self.blocks[(layer, side)] = block
            block_event = {"op": "block", "layer": layer, "id": hexstr(block), "height": height}
            if offset in s.late_blocks:
                self.late.append((block_event, side))
            else:
                self.deliver(block_event, side if split else None, layer)
            if offset in s.missing_hare:
                continue
            output = bytes(20) if offset in s.empty_hare else block
            if offset in s.late_blocks:
                output = block  # the Hare decided on a block this node does not have yet
            self.deliver({"op": "hare", "layer": layer, "block": hexstr(output)}, side if split else None, layer)
        for side in (0, 1) if split else (None,):
            self.deliver({"op": "weakcoin", "layer": layer, "coin": self.rng.random() < 0.5}, side, layer)

    def ballot_event(self, ballot: Any) -> Any:
        """The event delivering a ballot: its JSON record, or (record=False) the ballot itself."""
        return events_mod.ballot_to_json(ballot) if self.s.record else ballot

    def adversarial_opinion(self, layer: int, honest: Any, early: bool) -> Any:
        """An honest base with the previous layer's Hare block voted against (or a block nobody has)."""
        t = self.t
        node = self.nodes[0].state
        base = node.ballot_refs.get(honest.votes.base)
        previous = layer - 1
        if base is None or previous <= self.genesis:
            return None
        block = self.blocks.get((previous, 0))
        if early:
            support = (t.BlockHeader(id=_id(20, "early", layer), layer=previous, height=0),)
            votes = t.Votes(base=honest.votes.base, support=honest.votes.support + support,
                            against=honest.votes.against, abstain=honest.votes.abstain)
        else:
            keep = tuple(h for h in honest.votes.support if h.id != block)
            votes = t.Votes(base=honest.votes.base, support=keep, against=honest.votes.against,
                            abstain=honest.votes.abstain)
        try:
            tail, _ = t.decode_votes(layer, base.layer, base.votes, votes)
        except t.InvalidBallot:
            return None
        return t.Opinion(hash=t.votes_opinion(tail), votes=votes)

    def run(self, progress: Any = None) -> Simulation:
        if self.s.record:
            return self.run_layers(progress)
        gc.callbacks.append(self.on_gc)
        try:
            return self.run_layers(progress)
        finally:
            gc.callbacks.remove(self.on_gc)

    def run_layers(self, progress: Any = None) -> Simulation:
        self.late: list = []
        for layer in range(self.genesis + 1, self.genesis + self.s.layers + 1):
            late, self.late = self.late, []
            for event, side in late:
                self.deliver(event, side if self.partitioned(layer - 1) else None, layer - 1)
            if self.s.partition_layers and layer == self.genesis + self.s.partition_start + self.s.partition_layers:
                self.heal()
            self.step(layer)
            for node in self.nodes:
                self.apply(node, {"op": "tally", "layer": layer})
                state = node.state
                if self.s.apply_verified and state.verified > state.evicted:
                    opinion = self.t.get_layer(state, state.verified).opinion
                    self.apply(node, {"op": "applied", "layer": state.verified, "opinion": hexstr(opinion)})
            self.history.append([(i, n.state.verified, n.state.is_full) for i, n in enumerate(self.nodes)])
            if progress is not None:
                progress.update(1)
        return self

    # -- checks ------------------------------------------------------------------------------
    def lag(self) -> list[int]:
        """For each node, how far verified trails the last layer (1 = fully live)."""
        return [n.state.last - n.state.verified for n in self.nodes]

    def agree(self, upto: int | None = None) -> bool:
        """Whether all nodes report the same opinion hash for every layer up to `upto`."""
        states = [n.state for n in self.nodes]
        top = min(s.verified for s in states) if upto is None else upto
        low = max(s.evicted for s in states) + 1
        for layer in range(low, top + 1):
            if len({self.t.get_layer(s, layer).opinion for s in states}) != 1:
                return False
        return True


def simulate(tortoise: Any, scenario: Scenario, progress: Any = None) -> Simulation:
    return Simulation(tortoise, scenario).run(progress)
