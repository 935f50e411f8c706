"""A port of go-spacemesh's tortoise test fixture DSL (`tortoise/fixture_test.go`), run in order.

Identifiers, opinion hashes and defaults are built exactly as the Go fixture builds them, so the
upstream scenarios (`TestSanity`, `TestSwitch`, ...) can be replayed against the spec with their
upstream expected `Updates()` results, in order and in random topological orders (actions keep
their upstream dependencies: a ballot after its ATX, reference and base ballot; a Hare output
after its block; `tally_wait`, `updates` and `mode` after everything registered before them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import attrs
import blake3
import smspec.spec.tortoise as T
from smspec.conformance.handlers import hexstr
from smspec.conformance.handlers import tortoise as events_mod

HARE, VALID, INVALID, DATA, LOCAL = 1, 2, 4, 8, 16


def hash_sum(*chunks: bytes) -> bytes:
    """go-spacemesh hash.Sum: BLAKE3-256 over the chunks written in order."""
    return blake3.blake3(b"".join(chunks)).digest()


def padded(text: str, size: int) -> bytes:
    return text.encode()[:size].ljust(size, b"\x00")


@dataclass
class Ballot:
    session: Any
    atx: Any
    id: bytes
    layer: int
    eligibilities: int = 0
    beacon: bytes | None = None
    total: int | None = None
    base: Any = None
    support: list = field(default_factory=list)
    against: list = field(default_factory=list)
    abstain: list = field(default_factory=list)
    ref: bytes | None = None
    expect_store_error: str | None = None

    def per_layer_votes(self, votes: list) -> None:
        """The fixture's decodeVotes (including its no-op Against removal)."""
        if self.base is not None:
            self.base.per_layer_votes(votes)
        genesis = self.session.genesis
        for header in self.support:
            position = header.layer - genesis
            if votes[position] is None or header not in votes[position]:
                if votes[position] is None:
                    votes[position] = []
                votes[position].append(header)
        for layer in self.abstain:
            votes[layer - genesis] = None

    def opinion(self) -> bytes:
        votes: list = [[] for _ in range(self.layer - self.session.genesis)]
        self.per_layer_votes(votes)
        result = b""
        for index, layer in enumerate(votes):
            chunks = [result] if index != 0 else []
            if layer is None:
                chunks.append(b"\x00")
            else:
                for header in sorted(layer, key=lambda h: (h.height, h.id)):
                    chunks.append(header.id + header.height.to_bytes(8, "little"))
            result = hash_sum(*chunks)
        return result

    def data(self) -> Any:
        epoch_data = None
        if self.beacon is not None or self.total is not None:
            epoch_data = T.ReferenceData(beacon=self.beacon or bytes(4), eligibilities=self.total or 0)
        votes = T.Votes(base=self.base.id if self.base is not None else T.EMPTY_BALLOT_ID,
                        support=tuple(self.support), against=tuple(self.against), abstain=tuple(self.abstain))
        return T.BallotData(id=self.id, smesher=self.atx.node, layer=self.layer, atx_id=self.atx.id,
                            eligibilities=self.eligibilities, opinion=T.Opinion(hash=self.opinion(), votes=votes),
                            epoch_data=epoch_data, ref=self.ref)

    def event(self) -> dict:
        return events_mod.ballot_to_json(self.data())

    def check(self, out: dict | None) -> None:
        if self.expect_store_error is None:
            assert out is None, out
        else:
            assert out is not None and out["error"] == self.expect_store_error, out


@dataclass
class Atx:
    session: Any
    smesher: int
    id: bytes
    publish: int
    height: int = 0
    weight: int = 0
    reference: Ballot | None = None
    ballots: dict = field(default_factory=dict)

    @property
    def node(self) -> bytes:
        return hash_sum(str(self.smesher).encode())

    def check(self, out: dict | None) -> None:
        assert out is None, out

    def event(self) -> dict:
        return {"op": "atx", "epoch": self.publish + 1, "id": hexstr(self.id), "node": hexstr(self.node),
                "weight": self.weight, "height": self.height}

    def ballot(self, n: int, **options: Any) -> Ballot:
        ballot_id = hash_sum(self.id, str(n).encode())[:20]
        if ballot_id in self.ballots:
            return self.ballots[ballot_id]
        return self.rawballot(ballot_id, n, **options)

    def rawballot(self, ballot_id: bytes, n: int, *, eligibilities: int = 0, beacon: str | None = None,
                  total: int | None = None, base: Ballot | None = None, support=(), against=(), abstain=(),
                  expect_store_error: str | None = None) -> Ballot:
        genesis = self.session.genesis
        ballot = Ballot(self.session, self, ballot_id, genesis + n, eligibilities,
                        padded(beacon, 4) if beacon is not None else None, total, base,
                        [self.session.header(lid, name, height) for lid, name, height in support],
                        [self.session.header(lid, name, height) for lid, name, height in against],
                        [genesis + lid for lid in abstain], expect_store_error=expect_store_error)
        deps = [self]
        if self.reference is None:
            self.reference = ballot
        else:
            ballot.ref = self.reference.id
            deps.append(self.reference)
        if base is not None:
            deps.append(base)
        self.session.register(ballot, deps)
        self.ballots[ballot_id] = ballot
        return ballot


@dataclass
class Smesher:
    session: Any
    index: int
    atxs: dict = field(default_factory=dict)

    def atx(self, publish: int, height: int = 0, weight: int = 0) -> Atx:
        atx_id = hash_sum(str(self.index).encode(), str(publish).encode())
        if atx_id in self.atxs:
            return self.atxs[atx_id]
        return self.rawatx(atx_id, publish, height, weight)

    def rawatx(self, atx_id: bytes, publish: int, height: int = 0, weight: int = 0) -> Atx:
        atx = Atx(self.session, self.index, atx_id, publish, height, weight)
        self.session.register(atx)
        self.atxs[atx_id] = atx
        return atx

    def malfeasant(self) -> None:
        node = hash_sum(str(self.index).encode())
        self.session.register(Event({"op": "malfeasance", "node": hexstr(node)}))


class Event:
    """A fixture action given directly as a trace event, with the record it must produce (if any)."""

    def __init__(self, event: dict, expected: dict | None = None) -> None:
        self._event = event
        self.expected = expected

    def event(self) -> dict:
        return self._event

    def check(self, out: dict | None) -> None:
        if self.expected is not None:
            assert out == self.expected, f"\n got  {out}\n want {self.expected}"


class Results:
    def __init__(self) -> None:
        self.layers: list = []

    def _layer(self, session: Any, lid: int, verified: bool) -> Results:
        self.layers.append([session.genesis + lid, verified, []])
        return self

    def block(self, session: Any, name: str, height: int, fields: int) -> Results:
        layer = self.layers[-1]
        layer[2].append((session.header(layer[0] - session.genesis, name, height), bool(fields & VALID),
                         bool(fields & INVALID), bool(fields & HARE), bool(fields & DATA), bool(fields & LOCAL)))
        return self


class Session:
    def __init__(self, epoch_size: int = 10, layer_size: int = 50, hdist: int = 10, zdist: int = 8,
                 delay: int = 10, window: int = 30) -> None:
        self.epoch_size, self.layer_size, self.hdist = epoch_size, layer_size, hdist
        self.config = T.TortoiseConfig(layers_per_epoch=epoch_size, hdist=hdist, zdist=zdist, window_size=window,
                                       historical_window_end=0, max_exceptions=5000,
                                       bad_beacon_vote_delay_layers=delay)
        self.genesis = 2 * epoch_size - 1
        self.smeshers: dict = {}
        self.actions: list = []
        self.deps: dict = {}
        self.last_block: Any = None

    def with_config(self, **fields: int) -> Session:
        self.config = attrs.evolve(self.config, **fields)
        self.hdist = self.config.hdist
        return self

    def smesher(self, index: int) -> Smesher:
        if index not in self.smeshers:
            self.smeshers[index] = Smesher(self, index)
        return self.smeshers[index]

    def epoch_eligibilities(self) -> int:
        return self.layer_size * self.epoch_size // len(self.smeshers)

    def header(self, lid: int, name: str, height: int) -> Any:
        return T.BlockHeader(id=padded(name, 20), layer=self.genesis + lid, height=height)

    def block(self, lid: int, name: str, height: int) -> Any:
        header = self.header(lid, name, height)
        self.last_block = self.register(Event({"op": "block", "layer": header.layer, "id": hexstr(header.id),
                                               "height": header.height}))
        return header

    def hareblock(self, lid: int, name: str, height: int) -> None:
        header = self.block(lid, name, height)
        self.register(Event({"op": "hare", "layer": header.layer, "block": hexstr(header.id)}), [self.last_block])

    def beacon(self, epoch: int, value: str) -> None:
        self.register(Event({"op": "beacon", "epoch": epoch + 1, "beacon": hexstr(padded(value, 4))}))

    def tally(self, lid: int) -> None:
        self.register(Event({"op": "tally", "layer": self.genesis + lid}))

    def tally_wait(self, lid: int) -> None:
        self.register(Event({"op": "tally", "layer": self.genesis + lid}), list(self.actions))

    def results(self) -> Results:
        return Results()

    def next(self, results: Results, lid: int) -> Results:
        return results._layer(self, lid, False)

    def verified(self, results: Results, lid: int) -> Results:
        return results._layer(self, lid, True)

    def updates(self, expect: Results) -> None:
        """Take Updates() (applying each layer) and compare with upstream's expected results."""
        record = {"op": "updates", "layers": [
            {"layer": layer, "verified": verified, "blocks": [
                {"id": hexstr(h.id), "height": h.height, "valid": valid, "invalid": invalid, "hare": hare,
                 "data": data, "local": local} for h, valid, invalid, hare, data, local in blocks]}
            for layer, verified, blocks in expect.layers]}
        self.register(Event({"op": "updates"}, record), list(self.actions))

    def mode(self, full: bool) -> None:
        self.register(Event({"op": "mode"}, {"op": "mode", "mode": "full" if full else "verifying"}),
                      list(self.actions))

    def register(self, action: Any, deps: list | None = None) -> Any:
        self.actions.append(action)
        self.deps[id(action)] = list(deps or [])
        return action

    def run(self, actions: list) -> Any:
        state = T.new_tortoise(self.config)
        for action in actions:
            action.check(events_mod.apply_event(T, state, action.event()))
        return state

    def trace(self) -> tuple[list, list]:
        """The in-order events and the expected records of their checks (updates, mode)."""
        events = [action.event() for action in self.actions]
        expected = [action.expected for action in self.actions if getattr(action, "expected", None) is not None]
        return events, expected

    def run_in_order(self) -> Any:
        return self.run(self.actions)

    def run_random_order(self, seed: int) -> Any:
        """One random topological order of the actions (go-spacemesh runRandomTopo)."""
        import random

        rng = random.Random(seed)
        waiting = {id(a): {id(d) for d in self.deps[id(a)]} for a in self.actions}
        by_id = {id(a): a for a in self.actions}
        ready = [a for a in self.actions if not waiting[id(a)]]
        rng.shuffle(ready)
        order = []
        while ready:
            action = ready.pop(0)
            order.append(action)
            for other in self.actions:
                pending = waiting[id(other)]
                if id(action) in pending:
                    pending.discard(id(action))
                    if not pending:
                        ready.append(other)
        assert len(order) == len(by_id), "unsatisfiable dependencies"
        return self.run(order)
