"""A byzantine peer against an honest reconciler (spec/sync.md, "Bounds against a hostile peer").

* Arbitrary message streams (any type, bounds on and off the honest IDs, lying fingerprints and
  counts, IDs the validation callback refuses, markers anywhere): the honest side only ever
  raises SyncError, never stores a refused ID, keeps its per-session state within twice its
  set size, and answers every message with a bounded number of messages.
* A persistent peer that splits every range it may split, with fingerprints that never match,
  cannot keep the session going: it ends (done, or refused) within the split-depth bound.
* A lying peer (honest logic, falsified fingerprints and counts, invalid IDs offered) ends the
  session within the same bound, and the honest side stores no invalid ID.
* A flood of ItemBatches without an EndRound stops at the message and traffic limits.
* MAX_ROUNDS ends a session that runs longer (checked with the constant lowered).
"""

from __future__ import annotations

import hashlib
import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from smspec.spec import sync
from smspec.spec.errors import InvalidValue


def hashed(seed: int) -> bytes:
    return hashlib.sha256(seed.to_bytes(8, "big")).digest()


HONEST = [hashed(i) for i in range(40)]
BAD = {hashed(1000 + i) for i in range(5)}
OTHER = [hashed(2000 + i) for i in range(5)]


def accept(key: bytes) -> bool:
    return key not in BAD


def honest_side(config=None, count=40) -> sync.Reconciler:
    items = {key: 0 for key in HONEST[:count]}
    return sync.Reconciler(sync.new_item_store(items), accept, config or sync.SyncConfig(max_diff=None), now=10)


def check_invariants(side: sync.Reconciler, start_count: int) -> None:
    held = side.store.count()
    assert not any(side.store.contains(key) for key in BAD)
    assert held <= start_count + len(OTHER) + len(HONEST)
    # Ranges kept between rounds: the ones we opened (disjoint, each holding one of our IDs or
    # answering one of the peer's) and the halves the peer still owes.
    assert len(side.open_ranges) + len(side.next_open_ranges) + len(side.split_rest) <= 2 * (held + 1)
    assert len(side.received_keys) <= held


bounds = st.one_of(st.none(), st.sampled_from(HONEST + OTHER), st.binary(min_size=32, max_size=32))
fingerprints = st.one_of(st.binary(min_size=12, max_size=12), st.just(bytes(12)))
counts = st.integers(0, 2**32 - 1)
ids = st.sampled_from(HONEST + OTHER + sorted(BAD))
messages = st.one_of(
    st.just(sync.DoneMessage()), st.just(sync.EndRoundMessage()), st.just(sync.EmptySetMessage()),
    st.builds(sync.EmptyRangeMessage, bounds, bounds),
    st.builds(sync.FingerprintMessage, bounds, bounds, fingerprints, counts),
    st.builds(sync.RangeContentsMessage, bounds, bounds, counts),
    st.builds(lambda items: sync.ItemBatchMessage(tuple(items)), st.lists(ids, max_size=6)),
    st.builds(sync.ProbeMessage, bounds, bounds, fingerprints, st.integers(0, 1200)),
    st.builds(lambda x, y, f, c, s: sync.SampleMessage(x, y, f, c, tuple(s)), bounds, bounds, fingerprints, counts,
              st.lists(st.integers(0, 2**32 - 1), max_size=5)),
    st.builds(sync.RecentMessage, st.one_of(st.just(0), st.integers(1, 2**64 - 1))),
)
starts = st.sampled_from(["respond", "initiate", "initiate_range", "probe"])


def start(side: sync.Reconciler, how: str) -> list:
    if how == "initiate":
        return side.initiate()
    if how == "initiate_range":
        return side.initiate(HONEST[3], HONEST[7])
    if how == "probe":
        return side.probe()
    return []


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(how=starts, stream=st.lists(messages, max_size=40), count=st.integers(0, 40),
       config=st.builds(sync.SyncConfig, max_send_range=st.integers(1, 5), item_chunk_size=st.integers(1, 4),
                        max_diff=st.sampled_from([None, 0.01]), recent_time_span=st.sampled_from([0, 5])))
def test_arbitrary_streams_are_refused_or_survived(how, stream, count, config):
    side = honest_side(config, count)
    start(side, how)
    for message in stream:
        try:
            answers = side.handle(message)
        except sync.SyncError:
            break
        check_invariants(side, count)
        # One message costs at most one range's IDs (in batches) and two range messages.
        assert len(answers) <= math.ceil(side.store.count() / config.item_chunk_size) + 3
        if side.done:
            with pytest.raises(sync.SyncError):
                side.handle(sync.DoneMessage())
            break
    check_invariants(side, count)


def splitting_adversary_round(side: sync.Reconciler, rng: random.Random) -> list:
    """Split every range the side opened, at a random point inside, with fingerprints that never match."""
    out: list = []
    for x, y in side.open_ranges.items():
        candidates = [key for key in HONEST + OTHER if sync.strictly_inside(key, x, y)]
        if not candidates:
            out.append(sync.EmptyRangeMessage(x, y))
            continue
        middle = rng.choice(candidates)
        out.append(sync.FingerprintMessage(x, middle, rng.randbytes(12), rng.randrange(1, 100)))
        out.append(sync.FingerprintMessage(middle, y, rng.randbytes(12), rng.randrange(1, 100)))
    return out + [sync.EndRoundMessage()]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("count", [2, 40])
def test_persistent_splitter_cannot_keep_the_session_alive(seed, count):
    rng = random.Random(seed)
    side = honest_side(sync.SyncConfig(max_diff=None), count)
    side.initiate()
    rounds = 0
    while not side.done and rounds < 100:
        rounds += 1
        for message in splitting_adversary_round(side, rng):
            side.handle(message)
            check_invariants(side, count)
    # Once nothing of ours is open the splitter can ask nothing: its EndRound gets our Done.
    # Each of our splits halves our count of the range: at most log2(count) + 2 rounds of ours.
    assert side.done and rounds <= math.ceil(math.log2(count)) + 2


class Liar:
    """An honest reconciler whose outgoing fingerprints and counts are falsified at random."""

    def __init__(self, rng: random.Random, offer_bad: bool) -> None:
        items = {key: 0 for key in HONEST[10:30] + OTHER}
        if offer_bad:
            items.update({key: 0 for key in BAD})
        self.inner = sync.Reconciler(sync.new_item_store(items), lambda key: True, sync.SyncConfig(max_diff=None))
        self.rng = rng

    def lie(self, messages: list) -> list:
        out = []
        for message in messages:
            if isinstance(message, sync.FingerprintMessage) and self.rng.random() < 0.5:
                message = sync.FingerprintMessage(message.x, message.y, self.rng.randbytes(12), self.rng.randrange(50))
            elif isinstance(message, sync.RangeContentsMessage):
                message = sync.RangeContentsMessage(message.x, message.y, self.rng.randrange(2**32))
            out.append(message)
        return out


@pytest.mark.parametrize("seed", range(10))
def test_lying_peer_ends_the_session_and_plants_nothing(seed):
    rng = random.Random(seed)
    side = honest_side(sync.SyncConfig(max_diff=None))
    liar = Liar(rng, offer_bad=seed % 2 == 0)
    outgoing = side.initiate()
    rounds = 0
    try:
        while outgoing and not side.done and rounds < 100:
            rounds += 1
            answer: list = []
            for message in outgoing:
                answer += liar.inner.handle(message)
            answer = liar.lie(answer)
            outgoing = []
            for message in answer:
                outgoing += side.handle(message)
                check_invariants(side, 40)
    except sync.SyncError as error:
        assert error.reason in {"invalid_item", "unexpected_range"}
    assert rounds <= 2 * math.ceil(math.log2(60)) + 4
    assert not any(side.store.contains(key) for key in BAD)


def test_item_flood_stops_at_the_limits():
    side = honest_side(sync.SyncConfig(max_diff=None, message_limit=500))
    side.initiate()
    batch = sync.ItemBatchMessage(tuple(HONEST[:4]))
    with pytest.raises(sync.SyncError) as refused:
        for _ in range(10_000):
            side.handle(batch)
    assert refused.value.reason == "message_limit" and side.messages_received + side.messages_sent == 501
    side = honest_side(sync.SyncConfig(max_diff=None, traffic_limit=5_000))
    side.initiate()
    with pytest.raises(sync.SyncError) as refused:
        for _ in range(10_000):
            side.handle(batch)
    assert refused.value.reason == "traffic_limit" and side.bytes_received + side.bytes_sent <= 5_000 + 131


def test_max_rounds_ends_a_longer_session(monkeypatch):
    a_items = {hashed(i): 0 for i in range(200)}
    b_items = {hashed(i): 0 for i in range(1, 201)}
    config = sync.SyncConfig(max_diff=None)
    rounds = sync.sync_pair(sync.Reconciler(sync.new_item_store(a_items), accept, config),
                            sync.Reconciler(sync.new_item_store(b_items), accept, config))
    assert len(rounds) > 6
    monkeypatch.setattr(sync, "MAX_ROUNDS", 2)
    with pytest.raises(sync.SyncError) as refused:
        sync.sync_pair(sync.Reconciler(sync.new_item_store(a_items), accept, config),
                       sync.Reconciler(sync.new_item_store(b_items), accept, config))
    assert refused.value.reason == "too_many_rounds"


def test_malformed_in_memory_messages_are_refused():
    side = honest_side()
    side.initiate()
    for message in (sync.FingerprintMessage(HONEST[0], HONEST[0], b"short", 1),
                    sync.ItemBatchMessage((b"\x01" * 31,)),
                    sync.ItemBatchMessage(tuple(HONEST[:1]) * 1025),
                    sync.RangeContentsMessage(HONEST[0], HONEST[1], -1)):
        with pytest.raises(InvalidValue):
            side.handle(message)
        assert side.store.count() == 40
