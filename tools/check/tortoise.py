"""The bounded Tortoise model: the spec's tortoise (``spec/tortoise.md``) on two honest nodes.

What runs is the normative code, through the event format of the ``tortoise/events/trace``
vectors (``smspec.conformance.handlers.tortoise.apply_event``), so the events each node gets are
exactly a trace a client can replay. The environment, enumerated layer by layer:

* two honest nodes, A and B; ``honest`` smeshers, the first ``split`` of them hosted by A and the
  others by B; ``byzantine`` smeshers; every smesher has one ATX of weight ``weight`` (byzantine:
  ``byzantine_weight``) and casts one ballot per layer (``layers`` layers after genesis);
* each honest ballot carries the opinion its host node encodes (``encode_votes``);
* every layer has one block (one per side during a partition); the Hare output of a layer is
  its block or empty (``hare="block,empty"``), and the weak coin true or false (``coins``), the
  same for both nodes except during a partition;
* each byzantine ballot per layer votes as A, as B, or against the previous layer's block
  (``votes``), or is not cast; it reaches both nodes (gossip relays it), or during a partition
  only A or only B until the heal;
* a partition (``partition=(start, length)``, layers counted from 1): while it lasts each node
  sees only its own side's ballots and blocks, and at the heal it receives all it missed.

Each node tallies every layer and applies its verified layer to its mesh. States are hashed on a
canonical serialization of both tortoise states (the spec's objects are copied per branch with
``snapshot``, never changed for the explorer).
"""

from __future__ import annotations

import itertools
import marshal
from dataclasses import dataclass, field
from typing import Any

import blake3
from smspec.conformance.handlers import hexstr
from smspec.conformance.handlers import tortoise as events_mod
from smspec.tools.check.explore import violations_along
from smspec.tools.check.snapshot import module_state, restore_modules, snapshot

CONFIG = {"layers_per_epoch": 16, "hdist": 2, "zdist": 1, "bad_beacon_vote_delay_layers": 2, "window_size": 100}
VOTES = ("as_a", "as_b", "reject")
INVARIANTS = ("no_flip", "convergence", "opinions")


def _id(size: int, *parts: Any) -> bytes:
    return blake3.blake3(repr(parts).encode()).digest(length=size)


@dataclass(frozen=True)
class TortoiseBounds:
    layers: int = 3
    honest: int = 2
    split: int = 1
    byzantine: int = 1
    weight: int = 100
    byzantine_weight: int = 100
    partition: tuple[int, int] = (0, 0)
    hare: tuple[str, ...] = ("block", "empty")
    coins: bool = True
    votes: tuple[str, ...] = VOTES

    def as_dict(self) -> dict[str, Any]:
        return {"layers": self.layers, "honest": self.honest, "split": self.split, "byzantine": self.byzantine,
                "weight": self.weight, "byzantine_weight": self.byzantine_weight,
                "partition": list(self.partition), "hare": list(self.hare), "coins": self.coins,
                "votes": list(self.votes)}


@dataclass
class Observer:
    state: Any
    held: list[dict[str, Any]] = field(default_factory=list)  # the other side's events during a partition
    validity: dict[bytes, int] = field(default_factory=dict)  # block -> validity once its layer was verified
    events: int = 0


@dataclass
class TWorld:
    layer: int  # layers done (0 = genesis only)
    nodes: list[Observer]
    flips: tuple[str, ...] = ()


@dataclass(frozen=True)
class LayerChoice:
    hare: tuple[str, ...] = ("block",)  # per side (one entry outside a partition)
    coin: tuple[bool, ...] = (True,)
    byzantine: tuple[tuple[str, str], ...] = ()  # per byzantine smesher: (votes, delivery) or ("none", "")

    def to_json(self) -> dict[str, Any]:
        return {"hare": list(self.hare), "coin": list(self.coin), "byzantine": [list(b) for b in self.byzantine]}


class TortoiseModel:
    """Transition system of ``TortoiseBounds`` over a tortoise spec module."""

    name = "tortoise"

    def __init__(self, bounds: TortoiseBounds, tortoise: Any = None, invariants: tuple[str, ...] = INVARIANTS) -> None:
        for name in invariants:
            if name not in INVARIANTS:
                raise ValueError(f"unknown invariant {name!r}; choose from {', '.join(INVARIANTS)}")
        self.invariants = tuple(invariants)
        self.recording: list[list[dict[str, Any]]] | None = None
        if tortoise is None:
            from smspec import spec

            tortoise = spec.load("tortoise")
        if not 1 <= bounds.split <= bounds.honest - 1 and bounds.partition[1] > 0:
            raise ValueError("a partition needs honest smeshers on both sides (1 <= split < honest)")
        self.t = tortoise
        self.bounds = bounds
        self.config = events_mod.config_from_json(tortoise, CONFIG)
        self.genesis = tortoise.effective_genesis(self.config)
        self.epoch = (self.genesis + 1) // self.config.layers_per_epoch
        self.smeshers = [_id(32, "smesher", i) for i in range(bounds.honest + bounds.byzantine)]
        self.beacon = _id(4, "beacon")

    def __getstate__(self) -> dict[str, Any]:
        return module_state(self, ("t",))

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_modules(self, state, ("t",))

    # -- layers and sides ----------------------------------------------------------------------

    def layer_id(self, offset: int) -> int:
        return self.genesis + offset

    def partitioned(self, offset: int) -> bool:
        start, length = self.bounds.partition
        return length > 0 and start <= offset < start + length

    def side_of(self, smesher: int) -> int:
        return 0 if smesher < self.bounds.split else 1

    def apply(self, node: Observer, event: dict[str, Any], index: int) -> dict[str, Any] | None:
        node.events += 1
        if self.recording is not None:
            self.recording[index].append(event)
        return events_mod.apply_event(self.t, node.state, event)

    def deliver(self, world: TWorld, event: dict[str, Any], side: int | None, offset: int) -> None:
        """To both nodes (side None), or to one side, held for the other during a partition."""
        for index, node in enumerate(world.nodes):
            if side is None or index == side or not self.partitioned(offset):
                self.apply(node, event, index)
            else:
                node.held.append(event)

    # -- the transition system -----------------------------------------------------------------

    def initial(self) -> list[tuple[str, TWorld]]:
        t, bounds = self.t, self.bounds
        world = TWorld(layer=0, nodes=[Observer(t.new_tortoise(self.config)) for _ in range(2)])
        if self.recording is not None:
            self.recording[:] = [[], []]
        for i, smesher in enumerate(self.smeshers):
            weight = bounds.weight if i < bounds.honest else bounds.byzantine_weight
            self.deliver(world, {"op": "atx", "epoch": self.epoch, "id": hexstr(_id(32, "atx", i)),
                                 "node": hexstr(smesher), "weight": weight, "height": 100}, None, 0)
        self.deliver(world, {"op": "beacon", "epoch": self.epoch, "beacon": hexstr(self.beacon)}, None, 0)
        return [("start", world)]

    def choices(self, offset: int) -> list[LayerChoice]:
        bounds = self.bounds
        sides = 2 if self.partitioned(offset) else 1
        hares = list(itertools.product(bounds.hare, repeat=sides))
        coins = list(itertools.product((True, False) if bounds.coins else (True,), repeat=sides))
        # outside a partition a ballot that reaches one node reaches the other (gossip relays it)
        deliveries = ("both", "a", "b") if sides == 2 else ("both",)
        per_byzantine = [("none", "")] + [(v, d) for v in bounds.votes for d in deliveries]
        out = []
        for hare in hares:
            for coin in coins:
                for byzantine in itertools.product(per_byzantine, repeat=bounds.byzantine):
                    out.append(LayerChoice(hare=hare, coin=coin, byzantine=byzantine))
        return out

    def successors(self, world: TWorld) -> list[tuple[LayerChoice, TWorld]]:
        if world.layer >= self.bounds.layers:
            return []
        out = []
        seen = set()
        for choice in self.choices(world.layer + 1):
            child = self.step(world, choice)
            events_key = self.key(child)
            if events_key in seen:  # identical byzantine choices (e.g. A and B vote alike)
                continue
            seen.add(events_key)
            out.append((choice, child))
        return out

    def step(self, world: TWorld, choice: LayerChoice) -> TWorld:
        t, bounds = self.t, self.bounds
        world = snapshot(world)
        offset = world.layer + 1
        layer = self.layer_id(offset)
        split = self.partitioned(offset)
        if bounds.partition[1] > 0 and offset == bounds.partition[0] + bounds.partition[1]:
            for index, node in enumerate(world.nodes):  # the partition heals: each side gets what it missed
                held, node.held = node.held, []
                for event in held:
                    self.apply(node, event, index)
        opinions = []
        for index, node in enumerate(world.nodes):
            node.events += 1
            if self.recording is not None:
                self.recording[index].append({"op": "encode", "layer": layer})
            try:
                opinions.append(t.encode_votes(node.state, layer))
            except t.EncodeVotesError:
                opinions.append(None)
        ballots = []
        for i in range(bounds.honest):
            host = self.side_of(i)
            opinion = opinions[host]
            if opinion is not None:
                ballots.append((host if split else None, self.ballot(i, layer, opinion)))
        for k, (votes, delivery) in enumerate(choice.byzantine):
            if votes == "none":
                continue
            i = bounds.honest + k
            opinion = self.byzantine_opinion(world, votes, layer)
            if opinion is None:
                continue
            ballot = self.ballot(i, layer, opinion)
            targets = {"both": None, "a": 0, "b": 1}[delivery]
            for index, node in enumerate(world.nodes):
                if targets is None or targets == index:
                    self.apply(node, ballot, index)
                else:
                    node.held.append(ballot)  # it reaches this side when the partition heals
        for side, ballot in ballots:
            self.deliver(world, ballot, side, offset)
        height = 100
        for side in (0, 1) if split else (None,):
            block = _id(20, "block", layer, 0 if side is None else side)
            self.deliver(world, {"op": "block", "layer": layer, "id": hexstr(block), "height": height}, side, offset)
            index = 0 if side is None else side
            output = block if choice.hare[index] == "block" else bytes(20)
            self.deliver(world, {"op": "hare", "layer": layer, "block": hexstr(output)}, side, offset)
            self.deliver(world, {"op": "weakcoin", "layer": layer, "coin": choice.coin[index]}, side, offset)
        flips = list(world.flips)
        for index, node in enumerate(world.nodes):
            self.apply(node, {"op": "tally", "layer": layer}, index)
            state = node.state
            if state.verified > state.evicted:
                opinion = t.get_layer(state, state.verified).opinion
                self.apply(node, {"op": "applied", "layer": state.verified, "opinion": hexstr(opinion)}, index)
            for target in range(state.evicted + 1, state.verified + 1):
                for block in t.get_layer(state, target).blocks:
                    before = node.validity.get(block.id)
                    if before is not None and before != block.validity and block.validity != t.ABSTAIN:
                        flips.append(f"node {'AB'[index]} layer {target - self.genesis}")
                    if block.validity != t.ABSTAIN:
                        node.validity[block.id] = block.validity
        world.flips = tuple(flips)
        world.layer = offset
        return world

    def ballot(self, smesher: int, layer: int, opinion: Any) -> dict[str, Any]:
        t = self.t
        first = layer == self.genesis + 1
        ballot = t.BallotData(
            id=_id(20, "ballot", layer, smesher), smesher=self.smeshers[smesher], layer=layer,
            atx_id=_id(32, "atx", smesher), eligibilities=1, opinion=opinion,
            epoch_data=t.ReferenceData(beacon=self.beacon, eligibilities=self.config.layers_per_epoch) if first else None,
            ref=None if first else _id(20, "ballot", self.genesis + 1, smesher))
        return events_mod.ballot_to_json(ballot)

    def byzantine_opinion(self, world: TWorld, votes: str, layer: int) -> Any:
        """A's or B's opinion, or A's with the previous layer's blocks voted against."""
        t = self.t
        host = world.nodes[1 if votes == "as_b" else 0].state
        try:
            honest = t.encode_votes(snapshot(host), layer)
        except t.EncodeVotesError:
            return None
        if votes != "reject":
            return honest
        previous = layer - 1
        keep = tuple(h for h in honest.votes.support if h.layer != previous)
        if len(keep) == len(honest.votes.support) or honest.votes.base not in host.ballot_refs:
            return None
        base = host.ballot_refs[honest.votes.base]
        votes_obj = t.Votes(base=honest.votes.base, support=keep, against=honest.votes.against,
                            abstain=honest.votes.abstain)
        try:
            tail, _ = t.decode_votes(layer, base.layer, base.votes, votes_obj)
        except t.InvalidBallot:
            return None
        return t.Opinion(hash=t.votes_opinion(tail), votes=votes_obj)

    # -- canonical encoding --------------------------------------------------------------------

    def encode_state(self, state: Any) -> tuple:
        layers = []
        for number in sorted(state.layers):
            info = state.layers[number]
            blocks = tuple((b.id, b.height, b.hare, b.margin, b.validity, b.data) for b in info.blocks)
            layers.append((number, info.empty, info.hare_terminated, blocks, info.good_uncounted,
                           info.reference_height, info.coinflip, tuple(sorted(info.opinions)), info.opinion))
        ballots = []
        for number in sorted(state.ballots):
            for b in state.ballots[number]:
                ballots.append((b.id, b.layer, b.malicious, b.weight, b.bad_beacon,
                                b.votes.opinion if b.votes is not None else b""))
        epochs = tuple((e, info.weight, info.height, info.beacon) for e, info in sorted(state.epochs.items()))
        return (state.last, state.processed, state.verified, state.evicted, state.pending, state.local_threshold,
                state.total_good_weight, state.is_full, state.full_counted, tuple(layers), tuple(ballots), epochs,
                tuple(sorted(state.malicious_nodes)), tuple(b.id for b in state.retriable),
                tuple((k, tuple(b.id for b in v)) for k, v in sorted(state.delayed.items())))

    def key(self, world: TWorld) -> bytes:
        nodes = tuple((self.encode_state(node.state), repr(node.held).encode(), tuple(sorted(node.validity.items())))
                      for node in world.nodes)
        return marshal.dumps((world.layer, world.flips, nodes), 2)

    # -- invariants ----------------------------------------------------------------------------

    def local_chain(self, state: Any, upto: int) -> list[tuple]:
        """Per layer up to `upto`: the node's own votes as the opinion hash summarises them."""
        t = self.t
        chain = []
        for number in range(state.evicted + 1, upto + 1):
            info = t.get_layer(snapshot(state), number)
            if not info.hare_terminated:
                chain.append((number, "abstain"))
            elif t.within_distance(state.config.hdist, number, state.last):
                chain.append((number, tuple(b.id for b in info.blocks if b.hare == t.SUPPORT)))
            else:
                chain.append((number, tuple(b.id for b in info.blocks if b.validity == t.SUPPORT)))
        return chain

    def stale_opinion(self, state: Any) -> int | None:
        """The first processed layer whose stored opinion hash is not the hash chain of the node's
        own votes (``compute_layer_opinion``'s rule applied afresh), or None."""
        t = self.t
        for number in range(state.evicted + 1, state.processed + 1):
            info = state.layers.get(number)
            if info is None:
                continue
            previous = info.previous.opinion if info.previous is not None else None
            if not info.hare_terminated:
                expected = t.opinion_hash(previous, [], True)
            elif t.within_distance(state.config.hdist, number, state.last):
                expected = t.opinion_hash(previous, [b for b in info.blocks if b.hare == t.SUPPORT], False)
            else:
                expected = t.opinion_hash(previous, [b for b in info.blocks if b.validity == t.SUPPORT], False)
            if expected != info.opinion:
                return number
        return None

    def violations(self, world: TWorld) -> list[str]:
        broken = []
        for index, node in enumerate(world.nodes):
            stale = self.stale_opinion(node.state)
            if stale is not None:
                broken.append(f"opinions: node {'AB'[index]}'s opinion hash of layer {stale - self.genesis} is not "
                              "the hash of its own votes")
        if world.flips:
            broken.append(f"no_flip: a block's validity changed after its layer was verified ({world.flips[0]})")
        a, b = (node.state for node in world.nodes)
        top = min(a.processed, b.processed)
        low = max(a.evicted, b.evicted) + 1
        chain_a, chain_b = self.local_chain(a, top), self.local_chain(b, top)
        for number in range(low, top + 1):
            if chain_a[: number - a.evicted] == chain_b[: number - b.evicted] and \
                    a.layers[number].opinion != b.layers[number].opinion:
                broken.append(f"opinions: opinion hashes differ where the votes agree (layer {number - self.genesis})")
                break
        # without a partition at every layer; with one at the last layer (it healed before)
        if world.layer >= self.bounds.layers or (self.bounds.partition[1] == 0 and world.layer > 0):
            verified = min(a.verified, b.verified)
            for number in range(low, verified + 1):
                if a.layers[number].opinion != b.layers[number].opinion:
                    broken.append(f"convergence: opinions differ at verified layer {number - self.genesis}")
                    break
            if verified < min(a.last, b.last) - 1:
                broken.append(f"convergence: verified layer {verified - self.genesis} "
                              f"behind layer {min(a.last, b.last) - self.genesis}")
        return [v for v in broken if v.split(":", 1)[0] in self.invariants]

    # -- replaying a schedule ------------------------------------------------------------------

    def replay(self, schedule: list[Any]) -> tuple[list[TWorld], list[str]]:
        """The worlds along a schedule (then quiet layers up to the bound) and their violations."""
        (_, world), = self.initial()
        worlds = [world]
        for choice in schedule[1:]:
            if world.layer >= self.bounds.layers:
                break
            sides = 2 if self.partitioned(world.layer + 1) else 1
            choice = LayerChoice(hare=(tuple(choice.hare) * 2)[:sides], coin=(tuple(choice.coin) * 2)[:sides],
                                 byzantine=choice.byzantine)
            world = self.step(world, choice)
            worlds.append(world)
        while world.layer < self.bounds.layers:
            sides = 2 if self.partitioned(world.layer + 1) else 1
            world = self.step(world, LayerChoice(hare=("block",) * sides, coin=(True,) * sides,
                                                 byzantine=(("none", ""),) * self.bounds.byzantine))
            worlds.append(world)
        return worlds, violations_along(self, worlds)

    def deviations(self, schedule: list[Any]) -> list[tuple[int, str, Any]]:
        """Byzantine ballots, empty Hare outputs and false coins, by layer."""
        out: list[tuple[int, str, Any]] = []
        for layer, choice in enumerate(schedule[1:], start=1):
            out += [(layer, "byzantine", (k, b)) for k, b in enumerate(choice.byzantine) if b[0] != "none"]
            out += [(layer, "hare", (k, h)) for k, h in enumerate(choice.hare) if h != "block"]
            out += [(layer, "coin", (k, c)) for k, c in enumerate(choice.coin) if not c]
        return out

    def restrict(self, schedule: list[Any], kept: list[tuple[int, str, Any]]) -> list[Any]:
        keep = set(kept)
        out = [schedule[0]]
        for layer, choice in enumerate(schedule[1:], start=1):
            out.append(LayerChoice(
                hare=tuple(h if (layer, "hare", (k, h)) in keep else "block" for k, h in enumerate(choice.hare)),
                coin=tuple(c if (layer, "coin", (k, c)) in keep else True for k, c in enumerate(choice.coin)),
                byzantine=tuple(b if (layer, "byzantine", (k, b)) in keep else ("none", "")
                                for k, b in enumerate(choice.byzantine))))
        return out

    def traces(self, schedule: list[Any]) -> list[dict[str, Any]]:
        """Per honest node, the ``tortoise/events/trace`` inputs of the schedule."""
        self.recording = [[], []]
        try:
            self.replay(schedule)
        finally:
            recorded, self.recording = self.recording, None
        return [{"config": dict(CONFIG), "events": events} for events in recorded]

    def outcome(self, world: TWorld) -> list[dict[str, Any]]:
        return [{"verified": n.state.verified - self.genesis, "last": n.state.last - self.genesis} for n in world.nodes]
