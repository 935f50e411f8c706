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

    def execute(self, session: Any, state: Any) -> None:
        data = self.data()
        decoded = T.decode_ballot(state, data)
        if self.expect_store_error is None:
            T.store_ballot(state, decoded)
            return
        try:
            T.store_ballot(state, decoded)
        except T.InvalidBallot as error:
            assert error.reason == self.expect_store_error
        else:
            raise AssertionError("store succeeded")


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

    def execute(self, session: Any, state: Any) -> None:
        T.on_atx(state, self.publish + 1, self.id, T.AtxData(node=self.node, weight=self.weight, height=self.height))

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
        self.session.register(lambda session, state: T.on_malfeasance(state, node))


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
        self.last_block = self.register(lambda session, state: T.on_block(state, header))
        return header

    def hareblock(self, lid: int, name: str, height: int) -> None:
        header = self.block(lid, name, height)
        self.register(lambda session, state: T.on_hare_output(state, header.layer, header.id), [self.last_block])

    def beacon(self, epoch: int, value: str) -> None:
        self.register(lambda session, state: T.on_beacon(state, epoch + 1, padded(value, 4)))

    def tally(self, lid: int) -> None:
        self.register(lambda session, state: T.tally_votes(state, self.genesis + lid))

    def tally_wait(self, lid: int) -> None:
        self.register(lambda session, state: T.tally_votes(state, self.genesis + lid), list(self.actions))

    def results(self) -> Results:
        return Results()

    def next(self, results: Results, lid: int) -> Results:
        return results._layer(self, lid, False)

    def verified(self, results: Results, lid: int) -> Results:
        return results._layer(self, lid, True)

    def updates(self, expect: Results) -> None:
        def check(session: Any, state: Any) -> None:
            got = []
            for layer in T.updates(state):
                T.on_applied(state, layer.layer, layer.opinion)
                got.append([layer.layer, layer.verified,
                            [(b.header, b.valid, b.invalid, b.hare, b.data, b.local) for b in layer.blocks]])
            assert got == expect.layers, f"updates differ:\n got  {got}\n want {expect.layers}"
        self.register(check, list(self.actions))

    def mode(self, full: bool) -> None:
        def check(session: Any, state: Any) -> None:
            assert state.is_full == full
        self.register(check, list(self.actions))

    def register(self, action: Any, deps: list | None = None) -> Any:
        self.actions.append(action)
        self.deps[id(action)] = list(deps or [])
        return action

    def run(self, actions: list) -> Any:
        state = T.new_tortoise(self.config)
        for action in actions:
            if callable(action) and not hasattr(action, "execute"):
                action(self, state)
            else:
                action.execute(self, state)
        return state

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
