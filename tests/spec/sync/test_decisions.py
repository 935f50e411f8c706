"""Outcomes sync.md's *Decision* paragraphs fix: the node's traffic limit, a range settled only
when fingerprint and count match, Recent only in whole-set sessions, and IDs stored as they
arrive."""

from __future__ import annotations

from smspec.spec import sync


def accept_all(key: bytes) -> bool:
    return True


def reconciler(items: dict[bytes, int], config: sync.SyncConfig) -> sync.Reconciler:
    return sync.Reconciler(sync.new_item_store(items), accept_all, config, now=200)


def held(store) -> set[bytes]:
    first = store.first()
    return set() if first is None else set(store.range_items(first, first, None))


def test_traffic_limit_is_the_nodes():
    # 200,000,000 of sync2.Config, not the 300,000,000 of RangeSetReconcilerConfig.
    assert sync.SyncConfig().traffic_limit == sync.DEFAULT_TRAFFIC_LIMIT == 200_000_000


def test_equal_fingerprints_with_other_counts_are_not_settled():
    config = sync.SyncConfig(max_diff=None, max_send_range=1)
    a_items = {bytes([1]) * 32: 0, bytes([2]) * 32: 0, bytes([4]) * 32: 0}
    b_items = {bytes([7]) * 32: 0}  # 01 ^ 02 ^ 04 = 07: one fingerprint, counts 3 and 1
    assert sync.fingerprint_of(sorted(a_items)) == sync.fingerprint_of(sorted(b_items))
    a, b = reconciler(a_items, config), reconciler(b_items, config)
    sync.sync_pair(a, b)
    assert held(a.store) == held(b.store) == set(a_items) | set(b_items)


def test_recent_primes_only_whole_set_sessions():
    config = sync.SyncConfig(max_send_range=1, recent_time_span=100)
    items = {bytes([n]) * 32: 150 for n in range(1, 40)}
    whole = reconciler(items, config).initiate()
    assert any(isinstance(m, sync.RecentMessage) for m in whole)
    part = reconciler(items, config).initiate(bytes([0x05]) * 32, bytes([0x20]) * 32)
    assert not any(isinstance(m, sync.RecentMessage) for m in part)


def test_recent_ids_are_stored_on_arrival():
    # A responder with an empty set stores the initiator's recent IDs before it answers, so it
    # opens its own session with a Sample over them where go-spacemesh would send EmptySet.
    config = sync.SyncConfig(max_send_range=1, recent_time_span=100)
    old = {bytes([n]) * 32: 10 for n in range(1, 30)}
    fresh = {bytes([0x80 + n]) * 32: 190 for n in range(3)}
    a, b = reconciler({**old, **fresh}, config), reconciler({}, config)
    rounds = sync.sync_pair(a, b)
    answer = rounds[1]
    assert any(isinstance(m, sync.SampleMessage) for m in answer)
    assert not any(isinstance(m, sync.EmptySetMessage) for m in answer)
    assert held(b.store) == set(old) | set(fresh)
