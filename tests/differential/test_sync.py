"""impl/sync.py (the FPTree store) against spec/sync.md's sorted-list store.

* Hypothesis draws a set and a sequence of operations (adds, range queries over normal,
  wrapped and whole ranges with bounds on, between and beside the IDs, splits at every count
  including the invalid ones, limited item listings, recent queries) and applies each to both
  stores: the same result, or the same error class and reason.
* IDs come from a small set of prefixes as well as at random, so that many share a leaf of the
  tree, sit on leaf boundaries, or are the zero and all-ones IDs.
* A store that starts empty and grows past its planned leaf size is rebuilt deeper; it still
  answers as the spec's.
* Whole sessions (two peers, MinHash on and off, recent sync) give the same rounds, bytes and
  final sets under both stores.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from smspec.impl import registry
from smspec.impl import sync as impl
from smspec.spec import sync
from smspec.spec.errors import SpecError

pytestmark = pytest.mark.usefixtures("spec_backend")

PREFIXES = [b"\x00" * 8, b"\xff" * 8, b"\x80" + b"\x00" * 7, b"\x7f" + b"\xff" * 7, b"\x12\x34\x56\x78" * 2]

keys = st.one_of(
    st.binary(min_size=32, max_size=32),
    st.builds(lambda prefix, tail: prefix + tail, st.sampled_from(PREFIXES), st.binary(min_size=24, max_size=24)),
    st.sampled_from([bytes(32), b"\xff" * 32, b"\x80" + bytes(31)]),
)
times = st.integers(min_value=0, max_value=20)

operation = st.one_of(
    st.tuples(st.just("add"), keys, times),
    st.tuples(st.just("info"), keys, keys),
    st.tuples(st.just("items"), keys, keys, st.one_of(st.none(), st.integers(0, 40))),
    st.tuples(st.just("split"), keys, keys, st.integers(-1, 60)),
    st.tuples(st.just("recent"), times),
    st.tuples(st.just("existing"), st.integers(0, 10**6), st.integers(0, 10**6)),
)


def outcome(function, *args):
    try:
        return ("ok", function(*args))
    except SpecError as error:
        return ("error", type(error).__name__, error.reason)


def apply(store, op, held):
    kind = op[0]
    if kind == "add":
        return outcome(store.add, op[1], op[2])
    if kind == "info":
        return outcome(store.range_info, op[1], op[2])
    if kind == "items":
        return outcome(store.range_items, op[1], op[2], op[3])
    if kind == "split":
        return outcome(store.split_range, op[1], op[2], op[3])
    if kind == "recent":
        return outcome(store.recent, op[1])
    # Bounds on held IDs: the split and the range ends fall on items.
    if not held:
        return ("none",)
    x = held[op[1] % len(held)]
    y = held[op[2] % len(held)]
    count = store.range_info(x, y).count
    return (outcome(store.range_info, x, y), outcome(store.split_range, x, y, max(1, count // 2)),
            outcome(store.range_items, x, y, None))


def test_every_replaced_function_is_covered():
    replaced = {r.name for r in registry.all_replacements() if r.module == "sync"}
    assert replaced == {"new_item_store"}


def fast_store(items):
    return impl.FPTreeStore(sync, items)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(initial=st.dictionaries(keys, times, max_size=120), ops=st.lists(operation, max_size=40))
def test_fptree_answers_as_the_sorted_list(initial, ops):
    spec_store = sync.new_item_store(initial)
    fast = fast_store(initial)
    assert type(spec_store) is sync.SortedItemStore and type(fast) is impl.FPTreeStore
    for op in ops:
        held = list(spec_store.keys)
        assert apply(fast, op, held) == apply(spec_store, op, held), op
        assert (fast.count(), fast.first()) == (spec_store.count(), spec_store.first())
    for key in list(initial)[:5]:
        assert fast.contains(key) and spec_store.contains(key)


@settings(max_examples=20, deadline=None)
@given(bad=st.one_of(st.binary(max_size=31), st.binary(min_size=33, max_size=40)), good=st.lists(keys, max_size=5))
def test_same_error_for_bad_ids(bad, good):
    items = {key: 0 for key in good} | {bad: 0}
    assert outcome(fast_store, items)[:3] == outcome(sync.new_item_store, items)[:3] == \
        ("error", "InvalidValue", "wrong_length")
    spec_store = sync.new_item_store({key: 0 for key in good})
    fast = fast_store({key: 0 for key in good})
    assert outcome(fast.add, bad, 1) == outcome(spec_store.add, bad, 1) == ("error", "InvalidValue", "wrong_length")


def test_growing_store_is_rebuilt_deeper_and_stays_equal():
    rng = random.Random(7)
    spec_store = sync.new_item_store({})
    fast = fast_store({})
    start_depth = fast.depth
    for step in range(3000):
        key = rng.randbytes(32)
        spec_store.add(key, step)
        fast.add(key, step)
        if step % 97 == 0:
            x, y = rng.randbytes(32), rng.randbytes(32)
            assert fast.range_info(x, y) == spec_store.range_info(x, y)
            assert fast.range_info(y, x) == spec_store.range_info(y, x)
    assert fast.depth > start_depth
    assert fast.range_items(bytes(32), bytes(32), None) == spec_store.keys
    for _ in range(50):
        x, y = rng.randbytes(32), rng.randbytes(32)
        count = spec_store.range_info(x, y).count
        assert fast.split_range(x, y, count // 2) == spec_store.split_range(x, y, count // 2)


def session(store_a, store_b, config):
    a = sync.Reconciler(store_a, lambda key: True, config, now=1000)
    b = sync.Reconciler(store_b, lambda key: True, config, now=1000)
    rounds = sync.sync_pair(a, b)
    return rounds, a.bytes_sent, b.bytes_sent, store_a.range_items(bytes(32), bytes(32), None)


@pytest.mark.parametrize("config", [sync.SyncConfig(), sync.SyncConfig(max_diff=None),
                                    sync.SyncConfig(max_send_range=8, recent_time_span=500, item_chunk_size=3)],
                         ids=["minhash", "recursive", "recent"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_whole_sessions_are_identical(config, seed):
    rng = random.Random(seed)
    shared = {rng.randbytes(32): rng.choice([0, 900]) for _ in range(rng.choice([0, 5, 300]))}
    a = dict(shared) | {rng.randbytes(32): 950 for _ in range(rng.randrange(6))}
    b = dict(shared) | {rng.randbytes(32): 980 for _ in range(rng.randrange(6))}
    expected = session(sync.new_item_store(a), sync.new_item_store(b), config)
    assert session(fast_store(a), fast_store(b), config) == expected
    assert expected[3] == sorted(set(a) | set(b))
