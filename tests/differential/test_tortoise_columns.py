"""The impl's columnar ballot store (impl/tortoise.py ``_Rows``, ``_Refs``) against the spec's lists.

Under the impl a layer's ballots are columns (id, reference entry, weight, votes) and a ballot
becomes a BallotInfo only when code outside the impl reads it. These tests run the networks the
benchmark runs (unrecorded: one opinion object shared by a layer's ballots, so the impl's run of
column appends is at work) and compare, with the spec, every stored ballot as the spec holds it
(fields, order, ``ballot_refs`` pointing at the same object), the counted state and the
verified layers; with the store looked at, copied and pickled in the middle of a run; with
malformed, duplicate, late, malicious, bad-beacon and evicted-layer ballots mixed into a layer's
run; and with eviction dropping whole columns.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import pickle
import random
import signal
from collections.abc import Iterator
from typing import Any

import pytest
import smspec.spec.tiny.tortoise as T
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from smspec.impl import registry
from smspec.impl import tortoise as impl
from smspec.tools.tortoise_sim import Scenario, Simulation, _id

from .test_tortoise import digest, outcome

pytestmark = pytest.mark.usefixtures("spec_backend")


def stored(state) -> tuple:
    """Every stored ballot as the spec holds it, in order, and the ids ``ballot_refs`` knows."""
    rows = []
    for layer in sorted(state.ballots):
        for ballot in state.ballots[layer]:
            r = ballot.reference
            rows.append((layer, ballot.id, ballot.layer, ballot.malicious, ballot.weight, ballot.bad_beacon,
                         T.votes_opinion(ballot.votes),
                         (r.smesher, r.atx_id, r.expected_ballots, r.beacon, r.height, r.weight_numerator,
                          r.weight_denominator),
                         state.ballot_refs[ballot.id] is ballot))
    return tuple(rows), tuple(sorted(state.ballot_refs))


def scenario(seed: int, smeshers: int, partition: int, byzantine: float, bad_beacon: float, late: bool,
             window: int, layers: int = 30) -> Scenario:
    return Scenario(layers=layers, smeshers=smeshers, seed=seed, partition_start=4, partition_layers=partition,
                    byzantine_fraction=byzantine, bad_beacon_fraction=bad_beacon,
                    late_blocks=(6, 15) if late else (), missing_hare=(9,), record=False,
                    config={"bad_beacon_vote_delay_layers": 3, "window_size": window})


def run(backend: str, scene: Scenario, simulation: type = Simulation) -> Simulation:
    registry.use_backend(backend)
    try:
        return simulation(T, scene).run()
    finally:
        registry.use_backend("spec")


NETWORKS = dict(seed=st.integers(0, 2**16), smeshers=st.integers(2, 9), partition=st.sampled_from([0, 4, 8]),
                byzantine=st.sampled_from([0.0, 0.3]), bad_beacon=st.sampled_from([0.0, 0.25]), late=st.booleans(),
                window=st.sampled_from([8, 14, 10**6]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**NETWORKS)
def test_unrecorded_networks_store_the_same_ballots(**draw):
    """The benchmark's delivery (ballots as objects, runs of one opinion object): same counted
    state, same verified layers at every step, and the same ballots as the spec stores them."""
    scene = scenario(**draw)
    spec_sim, impl_sim = run("spec", scene), run("impl", scene)
    assert impl_sim.history == spec_sim.history
    for a, b in zip(spec_sim.nodes, impl_sim.nodes):
        assert digest(b.state) == digest(a.state)
        assert stored(b.state) == stored(a.state)


class Peeking(Simulation):
    """After some tallies, looks at the store as a test or a tool would: a layer's list, a ballot
    by id, the ``ballot_refs`` values; or carries on with a deep copy or a pickled copy of the state."""

    peek_seed = 0

    def apply(self, node, event):
        super().apply(node, event)
        if not (isinstance(event, dict) and event["op"] == "tally"):
            return
        rng = self.__dict__.setdefault("peek_rng", random.Random(self.peek_seed))
        state = node.state
        action = rng.randrange(6)
        layers = sorted(state.ballots)
        if action == 0 and layers:
            list(state.ballots[rng.choice(layers)])
        elif action == 1 and state.ballot_refs:
            state.ballot_refs.get(rng.choice(sorted(state.ballot_refs)))
        elif action == 2:
            node.state = copy.deepcopy(state)
        elif action == 3:
            len(list(state.ballot_refs.values()))
        elif action == 4 and self.s.partition_layers == 0:
            # a pickled copy is a spec state (plain lists and dicts): the impl carries on with it
            node.state = pickle.loads(pickle.dumps(state))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(peek=st.integers(0, 2**16), **NETWORKS)
def test_looking_at_the_store_mid_run_changes_nothing(peek, **draw):
    scene = scenario(**draw)
    spec_sim = run("spec", scene)
    simulation = type("P", (Peeking,), {"peek_seed": peek})
    impl_sim = run("impl", scene, simulation)
    assert impl_sim.history == spec_sim.history
    for a, b in zip(spec_sim.nodes, impl_sim.nodes):
        assert digest(b.state) == digest(a.state)
        assert stored(b.state) == stored(a.state)


KINDS = ["valid", "duplicate", "duplicate_malicious", "duplicate_other_layer", "duplicate_other_opinion", "evicted_layer", "unknown_base",
         "unknown_ref", "ref_to_plain_ballot", "zero_eligibilities", "unknown_atx", "late", "malicious",
         "malicious_smesher", "eligibilities", "both_epoch_data_and_ref", "no_ref", "bad_beacon_reference"]


def crafted(state, valid: list, kinds: list[str], layer: int) -> list:
    """The crafted kinds of ballots, made from a layer's valid ballots (which share one opinion object)."""
    opinion = valid[0].opinion
    stored_ids = [ballot_id for ballot_id in sorted(state.ballot_refs)]
    out = []
    for n, kind in enumerate(kinds):
        base = valid[n % len(valid)]
        new_id = _id(20, "crafted", layer, n)
        if kind == "valid":
            out.append(base)
        elif kind == "duplicate":
            out.append(base)
            out.append(base)
        elif kind == "duplicate_malicious":  # same id and opinion as a ballot of the run: marks it malicious
            out.append(T.BallotData(**{**_fields(base), "malicious": True}))
        elif kind == "duplicate_other_layer":
            out.append(T.BallotData(**{**_fields(base), "id": stored_ids[n % len(stored_ids)]}))
        elif kind == "duplicate_other_opinion":
            out.append(T.BallotData(**{**_fields(base), "id": stored_ids[-1 - n % len(stored_ids)],
                                       "opinion": T.Opinion(hash=b"\x07" * 32, votes=opinion.votes)}))
        elif kind == "evicted_layer":
            out.append(T.BallotData(**{**_fields(base), "id": new_id, "layer": max(state.evicted, 0)}))
        elif kind == "unknown_base":
            out.append(T.BallotData(**{**_fields(base), "id": new_id,
                                       "opinion": T.Opinion(hash=opinion.hash,
                                                            votes=T.Votes(base=b"\x09" * 20,
                                                                          support=opinion.votes.support,
                                                                          against=opinion.votes.against,
                                                                          abstain=opinion.votes.abstain))}))
        elif kind == "unknown_ref":
            out.append(T.BallotData(**{**_fields(base), "id": new_id, "ref": b"\x05" * 20, "epoch_data": None}))
        elif kind == "ref_to_plain_ballot":
            out.append(T.BallotData(**{**_fields(base), "id": new_id, "ref": stored_ids[n % len(stored_ids)],
                                       "epoch_data": None}))
        elif kind == "zero_eligibilities":
            out.append(T.BallotData(**{**_fields(base), "id": new_id, "ref": None,
                                       "epoch_data": T.ReferenceData(beacon=b"\x00" * 4, eligibilities=0)}))
        elif kind == "unknown_atx":
            out.append(T.BallotData(**{**_fields(base), "id": new_id, "atx_id": b"\x03" * 32, "ref": None,
                                       "epoch_data": T.ReferenceData(beacon=b"\x00" * 4, eligibilities=3)}))
        elif kind == "late":
            older = state.processed - n % 3
            if older > state.evicted + 1:
                try:
                    late_opinion = T.encode_votes(state, older)
                except T.SpecError:
                    continue
                out.append(T.BallotData(**{**_fields(base), "id": new_id, "layer": older, "opinion": late_opinion}))
        elif kind == "malicious":
            out.append(T.BallotData(**{**_fields(base), "id": new_id, "malicious": True}))
        elif kind == "malicious_smesher":
            out.append(("malfeasance", base.smesher))
            out.append(T.BallotData(**{**_fields(base), "id": new_id}))
        elif kind == "eligibilities":
            out.append(T.BallotData(**{**_fields(base), "id": new_id, "eligibilities": 3 + n}))
        elif kind == "both_epoch_data_and_ref":
            out.append(T.BallotData(**{**_fields(base), "id": new_id,
                                       "epoch_data": T.ReferenceData(beacon=b"\x00" * 4, eligibilities=2)}))
        elif kind == "no_ref":
            out.append(T.BallotData(**{**_fields(base), "id": new_id, "ref": None, "epoch_data": None}))
        elif kind == "bad_beacon_reference":
            out.append(T.BallotData(**{**_fields(base), "id": new_id, "ref": None,
                                       "epoch_data": T.ReferenceData(beacon=b"\xee" * 4, eligibilities=2)}))
    return out


def _fields(ballot) -> dict:
    return {name: getattr(ballot, name) for name in ("id", "smesher", "layer", "atx_id", "eligibilities", "opinion",
                                                     "epoch_data", "ref", "malicious")}


class Mixing(Simulation):
    """Delivers each layer's ballots with crafted ones mixed in at drawn places, recording every outcome."""

    mix_seed = 0
    mix_kinds: list = []

    def deliver_ballots(self, produced: list, layer: int) -> None:
        rng = self.__dict__.setdefault("mix_rng", random.Random(self.mix_seed))
        outcomes = self.__dict__.setdefault("outcomes", [])
        for node in self.nodes:
            state = node.state
            received = [ballot for _, ballot, _ in produced]
            if not received or layer < self.genesis + 3:
                self.deliver_items(state, received, outcomes)
                continue
            kinds = [rng.choice(self.mix_kinds) for _ in range(rng.randrange(1, 4))]
            items = list(received)
            for item in crafted(state, received, kinds, layer):
                items.insert(rng.randrange(len(items) + 1), item)
            self.deliver_items(state, items, outcomes)

    def deliver_items(self, state, items: list, outcomes: list) -> None:
        for item in items:
            if isinstance(item, tuple):
                outcomes.append(outcome(T.on_malfeasance, state, item[1]))
            else:
                outcomes.append(outcome(T.on_ballot, state, item))


class MixingInBatches(Mixing):
    """The same deliveries through on_ballots: each stretch of ballots between two malfeasance
    reports in one call, each refusal recorded in its ballot's place as on_ballot's outcome."""

    def deliver_items(self, state, items: list, outcomes: list) -> None:
        batch: list = []
        for item in [*items, None]:
            if isinstance(item, T.BallotData):
                batch.append(item)
                continue
            refusals = T.on_ballots(state, batch)
            assert len(refusals) == len(batch)
            outcomes.extend(("ok", None) if refusal is None else ("error", type(refusal).__name__, refusal.reason)
                            for refusal in refusals)
            batch = []
            if item is not None:
                outcomes.append(outcome(T.on_malfeasance, state, item[1]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16), smeshers=st.integers(2, 6), window=st.sampled_from([6, 10**6]),
       kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=6), mix=st.integers(0, 2**16))
def test_odd_ballots_in_a_run_give_the_spec_outcomes(seed, smeshers, window, kinds, mix):
    """Malformed, duplicate, late, malicious and bad-beacon ballots, ballots of an evicted layer and
    ballots naming an unknown base or reference, mixed into a layer's run of valid ballots that
    share one opinion object: each gets the spec's outcome (stored, or the same refusal), and the
    network goes on (tallies, encodes) to the spec's state with the spec's ballots."""
    scene = scenario(seed, smeshers, 0, 0.0, 0.0, False, window, layers=18)
    simulation = type("M", (Mixing,), {"mix_seed": mix, "mix_kinds": kinds})
    results = []
    for backend in ("spec", "impl"):
        sim = run(backend, scene, simulation)
        results.append((sim.outcomes, sim.history, digest(sim.nodes[0].state), stored(sim.nodes[0].state)))
    assert results[1] == results[0]
    assert ("ok", None) in results[0][0]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16), smeshers=st.integers(2, 40), window=st.sampled_from([6, 10**6]),
       kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=8), mix=st.integers(0, 2**16))
def test_on_ballots_is_on_ballot_on_each_ballot_in_order(seed, smeshers, window, kinds, mix):
    """spec/tortoise.md ``on_ballots``: the same layers of valid ballots with crafted ones mixed in
    (duplicates inside one call among them), delivered in one on_ballots call per stretch between
    malfeasance reports, under the spec and under the impl (whose on_ballots takes runs of ballots
    in bulk, in chunks of 8, 32, 128... ballots: up to 40 smeshers, chunks are cut at every kind
    of odd ballot): the refusals in their places, the state and the stored ballots are those of
    the spec's on_ballot called on each ballot in order."""
    scene = scenario(seed, smeshers, 0, 0.0, 0.0, False, window, layers=14)
    fields = {"mix_seed": mix, "mix_kinds": kinds}
    results = []
    for backend, delivery in (("spec", Mixing), ("spec", MixingInBatches), ("impl", MixingInBatches)):
        sim = run(backend, scene, type("M", (delivery,), fields))
        results.append((sim.outcomes, sim.history, digest(sim.nodes[0].state), stored(sim.nodes[0].state)))
    assert results[1] == results[0]
    assert results[2] == results[0]
    assert ("ok", None) in results[0][0]


def test_eviction_drops_whole_columns():
    """A long history with a short window under the impl: ``ballot_refs`` holds exactly the ids of
    the kept layers (no placeholder of a dropped layer), no layer's columns outlive its eviction,
    and every kept layer that nobody looked at is still held as columns."""
    scene = scenario(seed=7, smeshers=6, partition=0, byzantine=0.0, bad_beacon=0.0, late=False, window=8,
                     layers=60)
    spec_state = run("spec", scene).nodes[0].state
    state = run("impl", scene).nodes[0].state
    assert state.evicted > 30
    refs = state.ballot_refs
    assert type(refs) is impl._Refs
    kept = {layer for layer in state.ballots}
    assert min(kept) > state.evicted
    placeholders = [value for value in dict.values(refs) if type(value) is impl._Rows]
    assert placeholders and all(state.ballots[value.layer] is value for value in placeholders)
    assert sum(len(rows) for rows in state.ballots.values()) == len(refs)
    column_layers = [layer for layer, rows in state.ballots.items() if impl._column(rows)]
    assert len(column_layers) >= len(kept) - 2
    gc.collect()
    alive = [o.layer for o in gc.get_objects() if type(o) is impl._Rows and o.refs is refs]
    assert alive and min(alive) > state.evicted
    assert digest(state) == digest(spec_state)
    assert stored(state) == stored(spec_state)


@contextlib.contextmanager
def honest_state_on_impl(seed: int, smeshers: int, layers: int) -> Iterator[Any]:
    """Node 0's tortoise state after an honest scenario run under the impl (the spec backend again
    on leaving)."""
    scene = scenario(seed=seed, smeshers=smeshers, partition=0, byzantine=0.0, bad_beacon=0.0, late=False,
                     window=10**6, layers=layers)
    registry.use_backend("impl")
    try:
        yield Simulation(T, scene).run().nodes[0].state
    finally:
        registry.use_backend("spec")


def test_copies_of_the_store_hold_the_same_ballots():
    """A deep copy keeps the columns (and the rows that exist as objects, shared as the spec
    shares them); a pickled copy is a plain spec state; both list the same ballots."""
    with honest_state_on_impl(seed=3, smeshers=5, layers=12) as state:
        state.ballot_refs.get(next(iter(state.ballot_refs)))  # one row as an object
        deep = copy.deepcopy(state)
        assert any(impl._column(rows) for rows in deep.ballots.values())
        pickled = pickle.loads(pickle.dumps(deep))
        assert all(type(rows) is list for rows in pickled.ballots.values()) and type(pickled.ballot_refs) is dict
        assert stored(deep) == stored(state) == stored(pickled)


def test_a_layer_read_from_outside_becomes_objects_once():
    """Reading a column layer (iteration, indexing, ``in``, len) makes its BallotInfo objects once:
    the same objects every time, the ones ``ballot_refs`` returns, in arrival order."""
    with honest_state_on_impl(seed=5, smeshers=4, layers=8) as state:
        layer = state.processed
        rows = state.ballots[layer]
        assert impl._column(rows)
        ids = list(rows.ids)
        looked_up = state.ballot_refs[ids[-1]]  # one row as an object first
        assert len(rows) == len(ids) and impl._column(rows)
        first = list(rows)
        assert not impl._column(rows) and [b.id for b in first] == ids
        assert first[-1] is looked_up and rows[0] is first[0] and first[1] in rows
        assert all(state.ballot_refs[b.id] is b for b in first)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16), smeshers=st.integers(2, 7), partition=st.sampled_from([0, 4]),
       byzantine=st.sampled_from([0.0, 0.3]), window=st.integers(1, 14), layers=st.integers(12, 30),
       look=st.booleans())
def test_evict_cuts_the_columns_as_the_spec_cuts_its_lists(seed, smeshers, partition, byzantine, window, layers,
                                                           look):
    """A history kept whole under the impl (its layers in columns), then the window shortened: the
    impl's evict (one cut per vote list on the votes column, rows that exist as objects included)
    leaves the vote lists the spec's evict leaves on the same layers made into objects: the first
    row of a shared list keeps a one-link list, the next ones none."""
    import attrs

    from .test_tortoise import vote_lists

    scene = scenario(seed, smeshers, partition, byzantine, 0.0, False, 10**6, layers=layers)
    state = run("impl", scene).nodes[0].state
    if look:  # a few rows as objects first
        for ballot_id in sorted(state.ballot_refs)[::3]:
            state.ballot_refs.get(ballot_id)
    results = []
    for evict in (registry.original(T, "evict"), impl._evict_factory(T)):
        copied = copy.deepcopy(state)
        copied.config = attrs.evolve(copied.config, window_size=window, historical_window_end=0)
        evict(copied)
        results.append((digest(copied), vote_lists(copied), stored(copied)))
    assert results[1] == results[0]


class Eligible(Simulation):
    """Gives some non-reference ballots of each layer several eligibilities (same opinion object,
    so they stay in the layer's run), between ballots of one eligibility."""

    def deliver_ballots(self, produced: list, layer: int) -> None:
        changed = []
        for k, (side, ballot, is_reference) in enumerate(produced):
            if ballot.epoch_data is None and k % 3 == 1:
                ballot = T.BallotData(**{**_fields(ballot), "eligibilities": 2 + k % 4})
            changed.append((side, ballot, is_reference))
        super().deliver_ballots(changed, layer)


@pytest.mark.parametrize("look", [False, True])
def test_rows_of_several_eligibilities_in_a_run_weigh_as_the_spec_weighs_them(look):
    """The impl's run gives a row of one eligibility its weight only when the weights column is
    read (``_Rows.flush``); rows of several eligibilities in the same run carry their own: stored
    weights, the counted state and the verified layers are the spec's, whether a layer is counted
    from its columns or first read from outside (``look``)."""
    scene = scenario(seed=11, smeshers=7, partition=0, byzantine=0.0, bad_beacon=0.0, late=False, window=10**6,
                     layers=14)
    simulation = type("E", (Eligible,), {}) if not look else type("EP", (Eligible, Peeking), {"peek_seed": 4})
    spec_sim, impl_sim = run("spec", scene, simulation), run("impl", scene, simulation)
    spec_state, impl_state = spec_sim.nodes[0].state, impl_sim.nodes[0].state
    several = [b for rows in spec_state.ballots.values() for b in rows
               if b.weight != T.ballot_weight(b.reference.weight_numerator, b.reference.weight_denominator, 1)]
    assert len(several) >= 10  # the runs did hold rows of several eligibilities
    assert impl_sim.history == spec_sim.history
    assert digest(impl_state) == digest(spec_state)
    assert stored(impl_state) == stored(spec_state)


def _project(ballot) -> tuple | None:
    if ballot is None:
        return None
    return (ballot.id, ballot.layer, ballot.malicious, ballot.weight,
            None if ballot.votes is None else T.votes_opinion(ballot.votes))


class Mutating(Simulation):
    """Reads and changes ``ballot_refs`` through the dict interface after each tally (look-ups,
    ``in``, len, pops, deletions, assignments, setdefault, update, keys, values, copies, now and
    then a clear), recording every answer; each layer's refusals are recorded too."""

    mutate_seed = 0

    def deliver_ballots(self, produced: list, layer: int) -> None:
        outcomes = self.__dict__.setdefault("outcomes", [])
        for node in self.nodes:
            refusals = T.on_ballots(node.state, [ballot for _, ballot, _ in produced])
            outcomes.append(tuple(None if refusal is None else refusal.reason for refusal in refusals))

    def apply(self, node, event):
        super().apply(node, event)
        if not (isinstance(event, dict) and event["op"] == "tally"):
            return
        rng = self.__dict__.setdefault("mutate_rng", random.Random(self.mutate_seed))
        outcomes = self.__dict__.setdefault("outcomes", [])
        refs = node.state.ballot_refs
        for n in range(rng.randrange(1, 4)):
            keys = sorted(refs)
            if not keys:
                return
            key, other = rng.choice(keys), rng.choice(keys)
            new_id = _id(20, "alias", event["layer"], n)
            op = rng.randrange(25)
            if op == 0:
                outcomes.append(("get", _project(refs.get(key)), refs.get(b"\x01" * 20, "none")))
            elif op == 1:
                outcomes.append(("getitem", _project(refs[key])))
            elif op == 2:
                outcomes.append(("in", key in refs, b"\x01" * 20 in refs, len(refs)))
            elif op == 3:
                outcomes.append(("pop", _project(refs.pop(key)), key in refs, len(refs), refs.pop(key, "none")))
            elif op == 4:
                del refs[key]
                outcomes.append(("del", key in refs, len(refs)))
            elif op == 5:
                refs[key] = refs[other]
                outcomes.append(("set", _project(refs[key]), len(refs)))
            elif op == 6:
                outcomes.append(("setdefault", _project(refs.setdefault(key, None)),
                                 _project(refs.setdefault(new_id, refs[other])), len(refs)))
            elif op == 7:
                refs.update({key: refs[other]}, **{})
                outcomes.append(("update", _project(refs[key]), len(refs)))
            elif op == 8:
                outcomes.append(("keys", sorted(refs.keys()) == keys, len(refs.keys()), sorted(reversed(refs)) == keys))
            elif op == 9:
                outcomes.append(("values", sorted(map(_project, refs.values())),
                                 sorted((k, _project(v)) for k, v in refs.items())))
            elif op == 10:
                outcomes.append(("copy", refs == dict(refs.items()), refs.copy() == refs, refs != {}, len(refs.copy())))
            elif op == 11 and rng.randrange(8) == 0:
                refs.clear()
                outcomes.append(("clear", len(refs), list(refs)))


def held(state) -> tuple:
    """The stored ballots with what ``ballot_refs`` maps their ids to, and every entry of it."""
    refs = state.ballot_refs
    rows = tuple((layer, _project(ballot), refs.get(ballot.id) is ballot)
                 for layer in sorted(state.ballots) for ballot in state.ballots[layer])
    return rows, tuple(sorted((key, _project(refs[key])) for key in refs))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutate=st.integers(0, 2**16), seed=st.integers(0, 2**16), smeshers=st.integers(2, 40),
       window=st.sampled_from([8, 14, 10**6]))
def test_ballot_refs_read_and_changed_as_a_dict_answers_as_the_spec(mutate, seed, smeshers, window):
    """``ballot_refs`` under the impl (a set of every stored id; the dict holds the objects and
    placeholders; the other ids are column rows found by searching their layers) read and changed
    through the dict interface between layers: every answer, every later refusal, the verified
    layers, the counted state and what ``ballot_refs`` maps to are the spec's."""
    scene = scenario(seed, smeshers, 0, 0.0, 0.0, False, window, layers=20)
    simulation = type("X", (Mutating,), {"mutate_seed": mutate})
    results = []
    for backend in ("spec", "impl"):
        sim = run(backend, scene, simulation)
        results.append((sim.outcomes, sim.history, digest(sim.nodes[0].state), held(sim.nodes[0].state)))
    assert results[1] == results[0]
    assert any(outcome[0] in ("pop", "del", "set", "update") for outcome in results[0][0] if type(outcome[0]) is str)


def test_popitem_takes_one_entry_out():
    """``popitem`` (whose choice of entry is the dict's order, not the spec's) removes exactly the
    entry it returns, a column row turned into its object first."""
    with honest_state_on_impl(seed=2, smeshers=12, layers=8) as state:
        refs = state.ballot_refs
        size = len(refs)
        for n in range(size):
            key, value = refs.popitem()
            assert value.id == key and key not in refs and len(refs) == size - n - 1
            assert any(ballot is value for ballot in state.ballots[value.layer])
        assert not refs and list(refs) == []


class VariedReferences(Simulation):
    """ATXs of different weights and heights (some of height 0, below every block: their ballots are
    not good), and reference ballots declaring different eligibility counts (zero and an unknown
    ATX among them), so that the reference ballots of an epoch's
    first layer, taken in bulk by the impl's on_ballots (``take``, its inline reference entries
    and the ``fractions`` memo), do not all share one (weight, eligibilities) fraction; and some
    ballots of several eligibilities."""

    def decoded(self, event: dict):
        call = super().decoded(event)
        if event["op"] == "atx":
            function, (epoch, atx_id, atx) = call
            atx = T.AtxData(node=atx.node, weight=atx.weight + 7 * (atx_id[0] % 5),
                            height=atx.height + atx_id[1] % 2 if atx_id[1] % 3 else 0)  # 0: below every block
            call = (function, (epoch, atx_id, atx))
        return call

    def deliver_ballots(self, produced: list, layer: int) -> None:
        changed = []
        for k, (side, ballot, is_reference) in enumerate(produced):
            if ballot.epoch_data is not None:
                eligibilities = (0, 1, 2, 3, 5, 6, 8, 8)[ballot.id[0] % 8]
                fields = {**_fields(ballot),
                          "epoch_data": T.ReferenceData(beacon=ballot.epoch_data.beacon, eligibilities=eligibilities)}
                if ballot.id[1] % 11 == 0:
                    fields["atx_id"] = b"\x03" * 32
                ballot = T.BallotData(**fields)
            elif k % 5 == 2:
                ballot = T.BallotData(**{**_fields(ballot), "eligibilities": 2})
            changed.append((side, ballot, is_reference))
        super().deliver_ballots(changed, layer)


@pytest.mark.parametrize("seed", [3, 21])
def test_reference_ballots_taken_in_bulk_weigh_as_the_spec_weighs_them(seed):
    """An epoch's first layer, all reference ballots, delivered in one on_ballots call: the impl
    makes their reference entries inline in ``take`` and memoizes the per-eligibility fraction
    per (ATX weight, eligibilities); with ATX weights, heights and eligibility counts that differ
    from ballot to ballot (and refused ones: zero eligibilities, an unknown ATX) the stored
    ballots (reference fractions, weights), the counted state and the verified layers are the
    spec's."""
    scene = scenario(seed, 40, 0, 0.0, 0.0, False, 10**6, layers=14)
    spec_sim = run("spec", scene, VariedReferences)
    impl_sim = run("impl", scene, VariedReferences)
    spec_state, impl_state = spec_sim.nodes[0].state, impl_sim.nodes[0].state
    fractions = {(b.reference.weight_numerator, b.reference.weight_denominator)
                 for rows in spec_state.ballots.values() for b in rows}
    assert len(fractions) >= 8  # the reference ballots did not share one fraction
    assert {b.reference.height == 0 for rows in spec_state.ballots.values() for b in rows} == {False, True}
    refused = {ballot_id for (_, ballot_id) in spec_sim.ref_of.items()} - set(spec_state.ballot_refs)
    assert refused  # zero eligibilities and unknown ATXs were refused
    assert impl_sim.history == spec_sim.history
    assert digest(impl_state) == digest(spec_state)
    assert stored(impl_state) == stored(spec_state)


class PlainAmongReferences(Simulation):
    """An epoch's first layer (reference ballots) with a plain ballot (no epoch data, naming the
    layer's first reference ballot) third, and a reference ballot of an unknown ATX tenth: the
    impl's first bulk chunk of the layer (ballots 3 to 10) is a plain ballot followed by reference
    ballots and is cut before its last one; the next chunks are reference ballots only (registered
    in bulk). Every later layer brings one more ballot naming the plain ballot as its reference
    ballot (the spec takes any stored ballot's reference data)."""

    plain: list = []

    def deliver_ballots(self, produced: list, layer: int) -> None:
        ballots = [ballot for _, ballot, _ in produced]
        if len(ballots) >= 12 and all(ballot.epoch_data is not None for ballot in ballots):
            first = ballots[0]
            plain = T.BallotData(**{**_fields(first), "id": _id(20, "plain", layer), "epoch_data": None,
                                    "ref": first.id})
            unknown = T.BallotData(**{**_fields(ballots[8]), "id": _id(20, "unknown atx", layer),
                                      "atx_id": b"\x03" * 32})
            ballots = [*ballots[:2], plain, *ballots[2:9], unknown, *ballots[9:]]
            self.plain = [*self.plain, plain]
        elif self.plain and ballots:
            base = ballots[0]
            ballots = [*ballots, T.BallotData(**{**_fields(base), "id": _id(20, "names plain", layer),
                                                 "epoch_data": None, "ref": self.plain[-1].id})]
        super().deliver_ballots([(None, ballot, ballot.epoch_data is not None) for ballot in ballots], layer)


def test_reference_ballots_registered_in_bulk_are_the_spec_reference_ballots():
    """The impl registers a chunk's reference ballots in bulk (reference-cache entries and
    ``ballot_refs`` placeholders) when every ballot it stores is one, else one by one: with a
    plain ballot first in a chunk of reference ballots cut short, later chunks of reference
    ballots only (40 smeshers: chunks of 8 and 32), an unknown ATX refused, and ballots naming
    the plain ballot, the stored ballots, their weights and the counted state are the spec's."""
    scene = scenario(9, 40, 0, 0.0, 0.0, False, 10**6, layers=12)
    spec_sim = run("spec", scene, PlainAmongReferences)
    impl_sim = run("impl", scene, PlainAmongReferences)
    spec_state, impl_state = spec_sim.nodes[0].state, impl_sim.nodes[0].state
    assert spec_sim.plain and all(plain.id in spec_state.ballot_refs for plain in spec_sim.plain)
    assert any(_id(20, "names plain", layer) in spec_state.ballot_refs for layer in range(30))
    assert digest(impl_state) == digest(spec_state)
    assert stored(impl_state) == stored(spec_state)


class CutAfterWhole(Simulation):
    """Delivers each layer in one on_ballots call and records the refusals, and (under the impl) the
    lengths of the chunks ``take`` looked up reference entries for (its ``_KNOWNS`` memo keys,
    emptied after each call); layers 6 and 10 after genesis bring, sixth in their delivery, a second
    copy of the delivery's first ballot (refused: ``ballot_exists``), and layer 8, fifth, a ballot
    naming an unknown reference ballot (refused: ``ref_ballot_unknown``; ``take`` finds no entry for
    it and stops its chunk there), which cut the run there."""

    def deliver_ballots(self, produced: list, layer: int) -> None:
        ballots = [ballot for _, ballot, _ in produced]
        if layer - self.genesis in (6, 10):
            ballots = [*ballots[:5], ballots[0], *ballots[5:]]
        if layer - self.genesis == 8:
            unknown = T.BallotData(**{**_fields(ballots[4]), "id": _id(20, "unknown ref", layer), "ref": bytes(20)})
            ballots = [*ballots[:4], unknown, *ballots[4:]]
        state = self.nodes[0].state
        refusals = T.on_ballots(state, ballots)
        self.__dict__.setdefault("refusals", []).append([None if r is None else r.reason for r in refusals])
        if registry.active_backend() == "impl":
            cache = impl._fast_path_cache(state)
            keys = [key for key in cache if type(key) is tuple and key[0] is impl._KNOWNS]
            self.__dict__.setdefault("chunks", []).append(sorted(key[1] for key in keys))
            for key in keys:
                del cache[key]


def test_a_run_taken_whole_opens_the_next_call_with_its_last_chunk_size():
    """on_ballots opens a call's first run with 8 ballots, and after a call whose last run was taken
    whole to its end, with that call's last chunk size: a layer of 60 ballots after another goes in
    one chunk of 58 (its first two ballots start the run one by one). A run cut inside such a chunk
    (a duplicate sixth) is cut exactly where on_ballot refuses, and the run after it opens with 8
    again; so does a chunk that ``take`` stops at a ballot naming an unknown reference (a run of
    several chunks that never ends there would loop). Refusals, counted state and stored ballots
    are the spec's."""
    scene = scenario(seed=11, smeshers=60, partition=0, byzantine=0.0, bad_beacon=0.0, late=False, window=10**6,
                     layers=12)
    spec_sim = run("spec", scene, CutAfterWhole)

    def stuck(*_):
        raise AssertionError("on_ballots did not return")

    previous = signal.signal(signal.SIGALRM, stuck)
    signal.alarm(60)
    try:
        impl_sim = run("impl", scene, CutAfterWhole)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert impl_sim.refusals == spec_sim.refusals
    assert [k for k, reasons in enumerate(spec_sim.refusals) if "ballot_exists" in reasons] == [5, 9]
    assert [k for k, reasons in enumerate(spec_sim.refusals) if "ref_ballot_unknown" in reasons] == [7]
    assert impl_sim.history == spec_sim.history
    assert digest(impl_sim.nodes[0].state) == digest(spec_sim.nodes[0].state)
    assert stored(impl_sim.nodes[0].state) == stored(spec_sim.nodes[0].state)
    # layers 0, 4 and 8 of the run are an epoch's reference ballots (no reference entries looked up); in layers 5
    # and 9 the chunk cut by the duplicate (59 ballots from the third) names the reference of the layer's first
    # ballot, not cached yet, so it leaves no memo key: the 8, 32 and 15 ballots after the duplicate do
    # (layer 7: the chunk stopped at the unknown reference left no memo key either)
    assert impl_sim.chunks == [[], [58], [58], [58], [], [8, 15, 32], [58], [8, 16, 32], [], [8, 15, 32], [58], [58]]


def _chain(votes) -> list:
    """A decoded vote list as values, top first."""
    out = []
    while votes is not None:
        out.append((votes.layer, votes.vote, [(b.id, b.layer, b.height) for b in votes.supported], votes.opinion))
        votes = votes.prev
    return out


def test_the_list_encode_decoded_serves_the_next_decode_of_the_same_arguments_once(monkeypatch):
    """encode_votes decodes the opinion it makes (to hash it); under the impl that list answers the
    next decode_votes call with the same ballot layer, base layer, base votes object (same top layer
    and opinion) and equal exceptions, once, with no hashing, as the spec's decode would; a base whose
    top opinion changed since, other exceptions, another base list, or a list decoded by copying
    some of the base's votes, are decoded by the spec."""
    with honest_state_on_impl(seed=6, smeshers=5, layers=9) as state:
        spec_decode = registry.original(T, "decode_votes")
        hashed: list = []
        opinion_hash = T.opinion_hash
        monkeypatch.setattr(T, "opinion_hash", lambda *args: hashed.append(1) or opinion_hash(*args))
        current = state.last + 1

        def encoded():
            opinion = T.encode_votes(state, current)
            base = state.ballot_refs[opinion.votes.base]
            return opinion, base

        opinion, base = encoded()
        expected = spec_decode(current, base.layer, base.votes, opinion.votes)
        hashed.clear()
        equal = T.Votes(base=opinion.votes.base, support=tuple(opinion.votes.support),
                        against=tuple(opinion.votes.against), abstain=tuple(opinion.votes.abstain))
        first = T.decode_votes(current, base.layer, base.votes, equal)  # equal exceptions, another object
        assert not hashed and first[1] == expected[1] and _chain(first[0]) == _chain(expected[0])
        assert first[0].prev is base.votes
        again = T.decode_votes(current, base.layer, base.votes, opinion.votes)  # used once: the spec's decode
        assert hashed and again[0] is not first[0] and _chain(again[0]) == _chain(expected[0])

        # the base's top opinion changed after the encode
        opinion, base = encoded()
        saved = base.votes.opinion
        base.votes.opinion = bytes(32)
        try:
            hashed.clear()
            changed = T.decode_votes(current, base.layer, base.votes, opinion.votes)
            assert hashed
            assert _chain(changed[0]) == _chain(spec_decode(current, base.layer, base.votes, opinion.votes)[0])
            assert _chain(changed[0]) != _chain(expected[0])
        finally:
            base.votes.opinion = saved

        # other exceptions; another base list
        opinion, base = encoded()
        other = next(votes for votes in (T.Votes(base=opinion.votes.base, support=(), against=(), abstain=()),
                                         T.Votes(base=opinion.votes.base, support=(), against=(), abstain=(current - 1,)))
                     if votes != opinion.votes)
        hashed.clear()
        assert _chain(T.decode_votes(current, base.layer, base.votes, other)[0]) == _chain(
            spec_decode(current, base.layer, base.votes, other)[0]) and hashed
        opinion, base = encoded()
        copied = copy.deepcopy(base.votes)
        hashed.clear()
        assert _chain(T.decode_votes(current, base.layer, copied, opinion.votes)[0]) == _chain(expected[0]) and hashed

        # a list that copied the base's top vote (an exception at or below it) is not held
        below = T.Votes(base=opinion.votes.base, support=(), against=(), abstain=(base.votes.layer,))
        decoded, lowest = spec_decode(current, base.layer, base.votes, below)
        assert lowest <= base.votes.layer
        T.decode_votes.remember(current, base.layer, base.votes, below, decoded, lowest)
        hashed.clear()
        assert T.decode_votes(current, base.layer, base.votes, below)[0] is not decoded and hashed
