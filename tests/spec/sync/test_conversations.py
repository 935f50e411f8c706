"""Sync vectors: range fingerprints, splits, MinHash, whole two-peer conversations, scripted
hostile peers, and the multi-peer plan.

Known answers (``expected=``) are derived by hand from the rules of sync.md, with the bytes and
fingerprints written by ``wire.py``; each derivation is in the case's comment. Generated
conversations (``check=``) are checked for what is known of every honest session: both sides
end with the union of their sets over the synced range and keep what lies outside it, the
rounds alternate, every round but the last ends with EndRound and the last with Done.
"""

from __future__ import annotations

import random

from smspec.conformance.cases import Case, vector_source
from smspec.tests.spec.sync import wire
from smspec.tests.spec.sync.wire import key


def k(byte: int) -> bytes:
    """An ID whose 32 bytes are all `byte` (so its sample item is byte * 0x01010101)."""
    return bytes([byte]) * 32


def item(key_bytes: bytes) -> int:
    return int.from_bytes(key_bytes[-4:], "big")


def fp(*keys: bytes) -> bytes:
    return wire.fingerprint(list(keys))


def m(kind: str, **fields) -> dict:
    return {"type": kind, **fields}


def rnd(*messages: dict) -> list[dict]:
    return [{"message": message, "encoded": wire.message(message)} for message in messages]


def hexes(keys) -> list[bytes]:
    return sorted(set(keys))


END = m("end_round")
DONE = m("done")
RECURSIVE = {"max_diff": None}


# ---- fingerprints ----------------------------------------------------------------------

RANGE_SET = [key(0x10), key(0x50), key(0x50, 1), key(0x90), key(0xD0, 0xFF)]


@vector_source("sync", "fingerprint", "range")
def test_fingerprint_range_vectors():
    cases = [
        ("normal", key(0x20), key(0x91), "a normal range x < y between items"),
        ("normal_bounds_on_items", key(0x50), key(0x90), "a normal range whose bounds are items: x is in, y is out"),
        ("wrapped", key(0xC0), key(0x50, 1), "a wrapped range x > y: [x, top] and [0, y)"),
        ("wrapped_bound_on_item", key(0x90), key(0x10), "a wrapped range whose bounds are items"),
        ("whole_from_item", key(0x50), key(0x50), "x = y on an item: the whole set"),
        ("whole_between_items", key(0x60), key(0x60), "x = y between items: the whole set"),
        ("empty_normal", key(0x11), key(0x4F), "a normal range holding no item"),
        ("empty_wrapped", key(0xE0), key(0x0F), "a wrapped range holding no item"),
    ]
    for name, x, y, description in cases:
        inside = wire.range_items(RANGE_SET, x, y)
        yield Case(name, inputs={"items": RANGE_SET, "x": x, "y": y},
                   expected={"fingerprint": wire.fingerprint(inside), "count": len(inside), "items": inside},
                   description=description, spec_ref="sync.md#sorteditemstore")
    yield Case("empty_set", description="an empty store: every range has the zero fingerprint and count 0", spec_ref="sync.md#sorteditemstore", inputs={"items": [], "x": key(1), "y": key(1)},
               expected={"fingerprint": bytes(12), "count": 0, "items": []})
    rng = random.Random("fingerprint_range_large")
    many = [rng.randbytes(32) for _ in range(500)]
    x, y = rng.randbytes(32), rng.randbytes(32)
    inside = wire.range_items(many, max(x, y), min(x, y))
    yield Case("large_wrapped", description="500 random IDs, a wrapped range between two random bounds", spec_ref="sync.md#sorteditemstore", inputs={"items": many, "x": max(x, y), "y": min(x, y)},
               expected={"fingerprint": wire.fingerprint(inside), "count": len(inside), "items": inside})


@vector_source("sync", "fingerprint", "split")
def test_fingerprint_split_vectors():
    for name, x, y, count in [("normal_after_one", key(0x00), key(0xF0), 1),
                              ("normal_after_three", key(0x00), key(0xF0), 3),
                              ("wrapped_after_two", key(0x90), key(0x50, 1), 2),
                              ("whole_from_between", key(0x60), key(0x60), 2)]:
        description = f"split {name.split('_')[0]} range [x, y) after {count} ID(s), in range order"
        inside = wire.range_items(RANGE_SET, x, y)
        first, second = inside[:count], inside[count:]
        yield Case(name, inputs={"items": RANGE_SET, "x": x, "y": y, "count": count},
                   expected={"middle": second[0],
                             "first": {"fingerprint": wire.fingerprint(first), "count": len(first)},
                             "second": {"fingerprint": wire.fingerprint(second), "count": len(second)}},
                   description=description, spec_ref="sync.md#sorteditemstore")
    yield Case("count_zero", description="a split after 0 IDs would leave an empty first half", spec_ref="sync.md#sorteditemstore", inputs={"items": RANGE_SET, "x": key(0), "y": key(0), "count": 0},
               error="InvalidValue", reason="bad_split")
    yield Case("count_all", description="a split after all 5 IDs would leave an empty second half", spec_ref="sync.md#sorteditemstore", inputs={"items": RANGE_SET, "x": key(0), "y": key(0), "count": 5},
               error="InvalidValue", reason="bad_split")


# ---- the item store --------------------------------------------------------------------


def store_model(items: list, calls: list[dict]) -> list:
    """What sync.md's ItemStore contract says each call answers, from a dict of IDs and times."""
    held = {}
    for entry in items:
        ident, at = entry if isinstance(entry, list) else (entry, 0)
        held[ident] = at
    results = []
    for call in calls:
        op = call["op"]
        if op == "count":
            results.append(len(held))
        elif op == "first":
            results.append(min(held) if held else None)
        elif op == "contains":
            results.append(call["key"] in held)
        elif op == "add":
            held.setdefault(call["key"], call["received_at"])
            results.append(None)
        elif op == "range_items":
            inside = wire.range_items(list(held), call["x"], call["y"])
            results.append(inside if call["limit"] is None else inside[:call["limit"]])
        else:
            results.append(sorted(i for i, at in held.items() if at >= call["since"]))
    return results


STORE_ITEMS = [[key(0x10), 5], [key(0x50), 9], [key(0x50, 1), 1], [key(0x90), 9], [key(0xD0, 0xFF), 20]]


@vector_source("sync", "store", "calls")
def test_store_calls_vectors():
    def c(op: str, **fields) -> dict:
        return {"op": op, **fields}

    scripts = [
        ("empty", [], [c("count"), c("first"), c("contains", key=key(1)), c("recent", since=0),
                       c("range_items", x=key(1), y=key(1), limit=None)],
         "an empty store: count 0, no first ID, nothing held, nothing recent, an empty whole range"),
        ("queries", STORE_ITEMS, [c("count"), c("first"), c("contains", key=key(0x50)),
                                  c("contains", key=key(0x51)), c("recent", since=9), c("recent", since=21),
                                  c("range_items", x=key(0x90), y=key(0x50, 1), limit=None),
                                  c("range_items", x=key(0x60), y=key(0x60), limit=2),
                                  c("range_items", x=key(0x20), y=key(0x91), limit=0)],
         "five IDs: the count, the smallest, membership, IDs received at or after 9 ns and 21 ns, a wrapped range, "
         "the whole set limited to 2 IDs from a bound between items, a normal range limited to none"),
        ("adds", STORE_ITEMS, [c("add", key=key(0x05), received_at=30), c("count"), c("first"),
                               c("add", key=key(0x90), received_at=100), c("count"), c("recent", since=25),
                               c("contains", key=key(0x05)),
                               c("range_items", x=key(0xD0), y=key(0x10), limit=None)],
         "adding a new smallest ID (received at 30 ns) counts it, makes it first and recent; adding a held ID "
         "(at 100 ns) changes nothing, its receipt time included; a wrapped range then holds the new ID"),
    ]
    for name, items, calls, description in scripts:
        yield Case(name, inputs={"items": items, "calls": calls}, expected={"results": store_model(items, calls)},
                   description=description, spec_ref="sync.md#itemstore")
    yield Case("add_short_id", inputs={"items": STORE_ITEMS, "calls": [c("count"), c("add", key=bytes(31),
                                                                                  received_at=1)]},
               error="InvalidValue", reason="wrong_length", spec_ref="sync.md#check_key",
               description="adding a 31-byte ID: refused")


# ---- MinHash ---------------------------------------------------------------------------

@vector_source("sync", "minhash", "sample")
def test_minhash_sample_vectors():
    for name, x, y, size in [("whole_from_smallest", key(0x10), key(0x10), 200),
                             ("limited_to_two", key(0x10), key(0x10), 2),
                             ("wrapped", key(0x90), key(0x50, 1), 10),
                             ("size_zero", key(0x10), key(0x10), 0)]:
        inside = wire.range_items(RANGE_SET, x, y)[:size]
        yield Case(name, inputs={"items": RANGE_SET, "x": x, "y": y, "sample_size": size},
                   expected={"sample": [item(key_bytes) for key_bytes in inside]}, spec_ref="sync.md#minhash_sample",
                   description=f"the first {size} IDs of the range in range order, as MinHash items")
    tails = [bytes(28) + (0xDEADBEEF + i).to_bytes(4, "big") for i in range(3)]
    yield Case("last_four_bytes_big_endian", description="a MinHash item is the ID's last four bytes read big-endian", spec_ref="sync.md#sample_item", inputs={"items": tails, "x": bytes(32), "y": bytes(32), "sample_size": 3},
               expected={"sample": [0xDEADBEEF, 0xDEADBEF0, 0xDEADBEF1]})


@vector_source("sync", "minhash", "similarity")
def test_minhash_similarity_vectors():
    hundred = list(range(100))
    # 99 of 100 in common: 1 - 0.99 is 0.010000000000000009 in doubles, above 0.01.
    yield Case("boundary_99_of_100", inputs={"local": hundred, "remote": hundred[:99] + [1000], "max_diff": "0.01"},
               expected={"similarity": "0.99", "too_different": True}, spec_ref="sync.md#jaccard_estimate",
               description="the double rounding of 1 - 0.99 decides: a full transfer, as go-spacemesh does")
    yield Case("equal", description="the same items in another order: similarity 1", spec_ref="sync.md#jaccard_estimate", inputs={"local": [5, 1, 3], "remote": [3, 5, 1], "max_diff": "0.01"},
               expected={"similarity": "1.0", "too_different": False})
    yield Case("both_empty", description="two empty samples are equal: similarity 1", spec_ref="sync.md#jaccard_estimate",
               inputs={"local": [], "remote": [], "max_diff": "0"},
               expected={"similarity": "1.0", "too_different": False})
    yield Case("one_empty", description="one sample empty, the other not: similarity 0", spec_ref="sync.md#jaccard_estimate", inputs={"local": [], "remote": [7], "max_diff": "0.99"},
               expected={"similarity": "0.0", "too_different": True})
    # Merge count: 2 matches (4 and one 9) over the larger sample (4 items).
    yield Case("repeats_counted_by_merge", description="repeated items are counted by a merge of the sorted samples, over the larger sample", spec_ref="sync.md#jaccard_estimate", inputs={"local": [9, 4, 9, 1], "remote": [9, 4], "max_diff": "0.5"},
               expected={"similarity": "0.5", "too_different": False})
    yield Case("third", description="one item of three in common: similarity 1/3, more different than 0.6 allows", spec_ref="sync.md#jaccard_estimate", inputs={"local": [1, 2, 3], "remote": [3, 4, 5], "max_diff": "0.6"},
               expected={"similarity": "0.3333333333333333", "too_different": True})


# ---- two-peer conversations ------------------------------------------------------------

def union_check(inputs: dict):
    """The check of a generated honest conversation (see the module docstring)."""
    def ids(side):
        return {entry[0] if isinstance(entry, list) else entry for entry in side["items"]}

    a, b = ids(inputs["initiator"]), ids(inputs["responder"])
    span = inputs.get("range")

    def inside(key_bytes):
        return span is None or wire.in_range(key_bytes, span[0], span[1])

    synced = {x for x in a | b if inside(x)}
    want_a = sorted({x.hex() for x in synced | {x for x in a if not inside(x)}})
    want_b = sorted({x.hex() for x in synced | {x for x in b if not inside(x)}})

    def check(output):
        assert [x[2:] for x in output["initiator_items"]] == want_a
        assert [x[2:] for x in output["responder_items"]] == want_b
        rounds = output["rounds"]
        ends = [r[-1]["message"]["type"] for r in rounds]
        assert ends == ["end_round"] * (len(rounds) - 1) + ["done"], ends
        sent_a = sum(len(e["encoded"]) // 2 - 1 for r in rounds[0::2] for e in r)
        sent_b = sum(len(e["encoded"]) // 2 - 1 for r in rounds[1::2] for e in r)
        assert (output["initiator_bytes"], output["responder_bytes"]) == (sent_a, sent_b)

    return check


@vector_source("sync", "conversation", "pair")
def test_conversation_vectors():
    a_set = [k(1), k(2), k(4)]
    # Equal sets: the opening Sample matches, the responder is done. One round trip.
    yield Case("equal_sets_one_round_trip",
               inputs={"initiator": {"items": a_set}, "responder": {"items": a_set}, "range": None},
               expected={"rounds": [rnd(m("sample", x=k(1), y=k(1), fingerprint=fp(*a_set), count=3,
                                          sample=[item(x) for x in a_set]), END), rnd(DONE)],
                         "initiator_items": a_set, "responder_items": a_set,
                         "initiator_bytes": 2 + 33 + 33 + 12 + 1 + 1 + 12, "responder_bytes": 1},
               spec_ref="sync.md#reconciler", description="already in sync: detected in one round trip")
    yield Case("both_empty", description="two empty sets: EmptySet, then Done", spec_ref="sync.md#reconciler",
               inputs={"initiator": {"items": []}, "responder": {"items": []}, "range": None},
               expected={"rounds": [rnd(m("empty_set"), END), rnd(DONE)], "initiator_items": [], "responder_items": [],
                         "initiator_bytes": 2, "responder_bytes": 1})
    # An empty initiator asks for everything; the IDs need no answer, so the responder ends.
    yield Case("empty_initiator", description="an empty initiator opens with EmptySet; the responder sends all its IDs and is done", spec_ref="sync.md#reconciler", inputs={"initiator": {"items": []}, "responder": {"items": [k(2), k(1)]}, "range": None},
               expected={"rounds": [rnd(m("empty_set"), END), rnd(m("item_batch", items=[k(1), k(2)]), DONE)],
                         "initiator_items": [k(1), k(2)], "responder_items": [k(1), k(2)],
                         "initiator_bytes": 2, "responder_bytes": 1 + 1 + 1 + 64 + 1})
    # An empty responder: its sample is empty, so the estimate is 0 and the range goes whole,
    # as a RangeContents with no IDs; the initiator then sends its one ID and is done.
    yield Case("empty_responder", description="an empty responder's estimate is 0: the whole range goes as a RangeContents, then the initiator's ID", spec_ref="sync.md#reconciler", inputs={"initiator": {"items": [k(7)]}, "responder": {"items": []}, "range": None},
               expected={"rounds": [rnd(m("sample", x=k(7), y=k(7), fingerprint=fp(k(7)), count=1, sample=[item(k(7))]), END),
                                    rnd(m("range_contents", x=k(7), y=k(7), count=0), END),
                                    rnd(m("item_batch", items=[k(7)]), DONE)],
                         "initiator_items": [k(7)], "responder_items": [k(7)],
                         "initiator_bytes": 1 + 66 + 12 + 1 + 5 + 1 + 1 + 1 + 1 + 32 + 1, "responder_bytes": 1 + 66 + 1 + 1})
    # Recursive method (no MinHash), one ID each: the responder holds one ID in the range
    # (<= max_send_range), so it sends it with a RangeContents; the initiator answers with its own.
    yield Case("single_difference_recursive", description="the recursive method, one ID each: each side's one ID goes as an ItemBatch", spec_ref="sync.md#reconciler",
               inputs={"initiator": {"items": [key(0x10)], "config": RECURSIVE},
                       "responder": {"items": [key(0x20)], "config": RECURSIVE}, "range": None},
               expected={"rounds": [rnd(m("fingerprint", x=key(0x10), y=key(0x10), fingerprint=fp(key(0x10)), count=1), END),
                                    rnd(m("item_batch", items=[key(0x20)]),
                                        m("range_contents", x=key(0x10), y=key(0x10), count=1), END),
                                    rnd(m("item_batch", items=[key(0x10)]), DONE)],
                         "initiator_items": [key(0x10), key(0x20)], "responder_items": [key(0x10), key(0x20)],
                         "initiator_bytes": 1 + 2 + 2 + 12 + 1 + 1 + 1 + 1 + 1 + 32 + 1,
                         "responder_bytes": 1 + 1 + 1 + 32 + 1 + 2 + 2 + 1 + 1})
    # A wrapped range [c0.., 40..): the initiator holds d0 and 10 there, the responder e0 and 10.
    # The responder splits after its first ID (range order e0, 10): [c0, 10) and [10, 40). The
    # initiator's [c0, 10) holds d0 only, one ID: sent with a RangeContents; [10, 40) matches.
    # The responder sends e0 (d0 it just received) and is done. 50.. lies outside: untouched.
    a_wrap = [key(0x10), key(0x50), key(0xD0)]
    b_wrap = [key(0x10), key(0xE0)]
    yield Case("wrapped_range_split", description="a wrapped range [c0.., 40..) is split at the responder's first ID; IDs outside it are untouched",
               inputs={"initiator": {"items": a_wrap, "config": RECURSIVE}, "responder": {"items": b_wrap, "config": RECURSIVE},
                       "range": [key(0xC0), key(0x40)]},
               expected={"rounds": [rnd(m("fingerprint", x=key(0xC0), y=key(0x40), fingerprint=fp(key(0xD0), key(0x10)), count=2), END),
                                    rnd(m("fingerprint", x=key(0xC0), y=key(0x10), fingerprint=fp(key(0xE0)), count=1),
                                        m("fingerprint", x=key(0x10), y=key(0x40), fingerprint=fp(key(0x10)), count=1), END),
                                    rnd(m("item_batch", items=[key(0xD0)]), m("range_contents", x=key(0xC0), y=key(0x10), count=1), END),
                                    rnd(m("item_batch", items=[key(0xE0)]), DONE)],
                         "initiator_items": [key(0x10), key(0x50), key(0xD0), key(0xE0)],
                         "responder_items": [key(0x10), key(0xD0), key(0xE0)],
                         "initiator_bytes": 18 + 1 + 35 + 6 + 1, "responder_bytes": 18 + 18 + 1 + 35 + 1},
               spec_ref="sync.md#reconciler")
    rejected = k(9)
    yield Case("invalid_item_refused", spec_ref="sync.md#reconciler",
               inputs={"initiator": {"items": [k(1)], "reject": [rejected]}, "responder": {"items": [k(1), rejected]},
                       "range": None},
               error="SyncError", reason="invalid_item", description="the initiator's callback refuses an ID of the peer")

    # Generated sessions: random sets, several configurations, whole and partial ranges.
    configs = {
        "default": {},
        "recursive": RECURSIVE,
        "send_range_16": {"max_send_range": 16, "max_diff": None},
        "small_chunks": {"item_chunk_size": 2, "max_diff": None},
        "minhash_strict": {"max_diff": "0"},
    }
    for n in (0, 1, 30, 300):
        for d in (0, 1, 8, 40):
            for config_name, config in configs.items():
                if n == 0 and d == 0 and config_name != "default":
                    continue
                name = f"random_n{n}_d{d}_{config_name}"
                rng = random.Random(name)
                shared = [rng.randbytes(32) for _ in range(n)]
                only_a = [rng.randbytes(32) for _ in range(d // 2)]
                only_b = [rng.randbytes(32) for _ in range(d - d // 2)]
                inputs = {"initiator": {"items": shared + only_a, "config": config},
                          "responder": {"items": shared + only_b, "config": config}, "range": None}
                yield Case(name, inputs=inputs, check=union_check(inputs), spec_ref="sync.md#reconciler",
                           description=f"{n} shared random IDs and {d} on one side only, configuration "
                           f"{config_name}: both end with the union")
    for name, span in [("partial_normal", [key(0x40), key(0xC0)]), ("partial_wrapped", [key(0xC0), key(0x40)]),
                       ("partial_whole_from_middle", [key(0x80), key(0x80)])]:
        rng = random.Random(name)
        shared = [rng.randbytes(32) for _ in range(60)]
        inputs = {"initiator": {"items": shared + [rng.randbytes(32) for _ in range(6)], "config": RECURSIVE},
                  "responder": {"items": shared + [rng.randbytes(32) for _ in range(6)], "config": RECURSIVE},
                  "range": span}
        yield Case(name, inputs=inputs, check=union_check(inputs), spec_ref="sync.md#reconciler",
                   description=f"60 shared IDs and 6 on each side, synced over the range {name[8:]}: the "
                   "IDs inside become the union, the others stay")
    # Recent sync: both sides hold IDs received at various times; the initiator's clock is 1000.
    rng = random.Random("recent")
    shared = [[rng.randbytes(32), rng.randrange(0, 500)] for _ in range(40)]
    fresh_a = [[rng.randbytes(32), 950] for _ in range(4)]
    fresh_b = [[rng.randbytes(32), 990] for _ in range(5)]
    for name, config in [("recent_then_sample", {"recent_time_span": 200}),
                         ("recent_then_fingerprint", {"recent_time_span": 200, "max_diff": None})]:
        inputs = {"initiator": {"items": shared + fresh_a, "config": config, "now": 1000},
                  "responder": {"items": shared + fresh_b, "config": config, "now": 1000}, "range": None}
        yield Case(name, inputs=inputs, check=union_check(inputs), spec_ref="sync.md#reconciler",
                   description="IDs received in the last 200 ns are exchanged first")


@vector_source("sync", "conversation", "probe")
def test_probe_vectors():
    a_set = [k(1), k(2), k(4)]
    yield Case("in_sync", description="equal sets: the Probe's Sample has the same fingerprint and count", inputs={"prober": {"items": a_set}, "responder": {"items": a_set}, "range": None},
               expected={"rounds": [rnd(m("probe", x=None, y=None, fingerprint=fp(*a_set), sample_size=200), END),
                                    rnd(m("sample", x=None, y=None, fingerprint=fp(*a_set), count=3, sample=[]), DONE)],
                         "in_sync": True, "count": 3, "similarity": "1.0"},
               spec_ref="sync.md#reconciler")
    # One ID of three differs: samples share 2 of 3 items.
    b_set = [k(1), k(2), k(8)]
    yield Case("one_of_three_differs", description="one ID of three differs: the samples share 2 of 3 items", spec_ref="sync.md#reconciler", inputs={"prober": {"items": a_set}, "responder": {"items": b_set}, "range": None},
               expected={"rounds": [rnd(m("probe", x=None, y=None, fingerprint=fp(*a_set), sample_size=200), END),
                                    rnd(m("sample", x=None, y=None, fingerprint=fp(*b_set), count=3,
                                          sample=[item(x) for x in b_set]), DONE)],
                         "in_sync": False, "count": 3, "similarity": "0.6666666666666666"})
    yield Case("range_probe_small_sample", spec_ref="sync.md#reconciler",
               inputs={"prober": {"items": a_set, "config": {"sample_size": 1}}, "responder": {"items": b_set},
                       "range": [k(2), k(1)]},
               expected={"rounds": [rnd(m("probe", x=k(2), y=k(1), fingerprint=fp(k(2), k(4)), sample_size=1), END),
                                    rnd(m("sample", x=k(2), y=k(1), fingerprint=fp(k(2), k(8)), count=2,
                                          sample=[item(k(2))]), DONE)],
                         "in_sync": False, "count": 2, "similarity": "1.0"},
               description="a wrapped range [2.., 1..): the one-item samples agree though the sets differ")
    yield Case("empty_responder", description="an empty responder answers the Probe with an empty Sample: similarity 0", spec_ref="sync.md#reconciler", inputs={"prober": {"items": a_set}, "responder": {"items": []}, "range": None},
               expected={"rounds": [rnd(m("probe", x=None, y=None, fingerprint=fp(*a_set), sample_size=200), END),
                                    rnd(m("sample", x=None, y=None, fingerprint=bytes(12), count=0, sample=[]), DONE)],
                         "in_sync": False, "count": 0, "similarity": "0.0"})
    # 01.. ^ 02.. ^ 03.. is zero, the empty set's fingerprint: only the count tells them apart.
    yield Case("xor_cancels_count_differs", description="three IDs whose fingerprints XOR to zero against an empty set: equal fingerprints, other counts", spec_ref="sync.md#reconciler",
               inputs={"prober": {"items": [k(1), k(2), k(3)]}, "responder": {"items": []}, "range": None},
               error="SyncError", reason="fingerprint_collision")


# ---- one side against a scripted (hostile) peer ---------------------------------------

@vector_source("sync", "conversation", "trace")
def test_trace_vectors():
    side = {"items": [key(0x10), key(0x50), key(0x90)], "config": RECURSIVE, "reject": [k(0xEE)]}
    opening = m("fingerprint", x=key(0x10), y=key(0x10), fingerprint=fp(key(0x10), key(0x50), key(0x90)), count=3)
    initiator = {"range": None}
    # An honest split of our opening range is accepted and answered.
    half_1 = m("fingerprint", x=key(0x10), y=key(0x60), fingerprint=fp(key(0x10), key(0x50)), count=2)
    half_2 = m("fingerprint", x=key(0x60), y=key(0x10), fingerprint=bytes(12), count=1)
    yield Case("honest_split_answered",
               inputs={"side": side, "initiate": initiator, "peer": [half_1, half_2, END]},
               expected={"first": [opening, END],
                         "answers": [[], [m("item_batch", items=[key(0x90)]),
                                          m("range_contents", x=key(0x60), y=key(0x10), count=1)], [END]],
                         "items": [key(0x10), key(0x50), key(0x90)], "done": False},
               spec_ref="sync.md#reconciler",
               description="[10, 60) matches; [60, 10) holds one of our IDs: sent with a RangeContents")
    for name, peer, reason in [
        ("range_not_asked", [m("fingerprint", x=key(0x20), y=key(0x30), fingerprint=bytes(12), count=1), END],
         "unexpected_range"),
        ("fingerprint_of_our_own_range", [m("fingerprint", x=key(0x10), y=key(0x10), fingerprint=bytes(12), count=5), END],
         "unexpected_range"),
        ("second_half_missing", [half_1, END], "incomplete_split"),
        ("second_half_wrong_end", [half_1, m("fingerprint", x=key(0x60), y=key(0x20), fingerprint=bytes(12), count=1)],
         "unexpected_range"),
        ("range_answered_twice", [m("empty_range", x=key(0x10), y=key(0x10)), m("empty_range", x=key(0x10), y=key(0x10))],
         "unexpected_range"),
        ("opening_inside_session", [m("empty_set"), END], "unexpected_message"),
        ("probe_inside_session", [m("probe", x=None, y=None, fingerprint=bytes(12), sample_size=5), END],
         "unexpected_message"),
        ("invalid_item", [m("item_batch", items=[k(1), k(0xEE)])], "invalid_item"),
        ("missing_bound", [m("empty_range", x=key(0x10), y=None)], "missing_range"),
        ("recent_reply_not_asked", [m("recent", since=0)], "unexpected_message"),
        ("done_with_request", [m("empty_range", x=key(0x10), y=key(0x10)), DONE], "request_in_done_round"),
    ]:
        yield Case(name, inputs={"side": side, "initiate": initiator, "peer": peer}, error="SyncError", reason=reason,
                   spec_ref="sync.md#bounds-against-a-hostile-peer",
                   description=f"an initiator refuses a peer's {name.replace('_', ' ')}: {reason}")
    responder = None
    for name, peer, reason in [
        ("two_openings", [opening, opening], "unexpected_message"),
        ("no_opening", [m("item_batch", items=[k(1)]), DONE], "missing_initiation"),
        ("probe_sample_size_over_max", [m("probe", x=None, y=None, fingerprint=bytes(12), sample_size=1001)],
         "sample_size_over_max"),
        ("recent_reply_as_opening", [m("recent", since=0)], "unexpected_message"),
        ("message_after_done", [m("empty_range", x=key(0x10), y=key(0x20)), END, m("done")], "session_finished"),
    ]:
        yield Case(name, inputs={"side": side, "initiate": responder, "peer": peer}, error="SyncError", reason=reason,
                   spec_ref="sync.md#bounds-against-a-hostile-peer",
                   description=f"a responder refuses a peer's {name.replace('_', ' ')}: {reason}")
    prober = {"probe": None}
    for name, peer, reason in [
        ("probe_answered_with_fingerprint", [m("fingerprint", x=None, y=None, fingerprint=bytes(12), count=1), DONE],
         "unexpected_message"),
        ("probe_answered_for_another_range", [m("sample", x=key(0x10), y=key(0x20), fingerprint=bytes(12), count=0,
                                                sample=[]), DONE], "unexpected_range"),
        ("probe_answered_without_sample", [DONE], "missing_initiation"),
    ]:
        yield Case(name, inputs={"side": side, "initiate": prober, "peer": peer}, error="SyncError", reason=reason,
                   spec_ref="sync.md#bounds-against-a-hostile-peer",
                   description=f"a prober of the whole set refuses a peer's {name.replace('_', ' ')}: {reason}")
    for field, value in [("max_send_range", 0), ("item_chunk_size", 0), ("item_chunk_size", 1025),
                         ("sample_size", 1001), ("max_diff", "1.5"), ("message_limit", 0)]:
        yield Case(f"config_{field}_{value}".replace(".", "_"), error="InvalidValue", reason="bad_config",
                   inputs={"side": {**side, "config": {field: value}}, "initiate": initiator, "peer": []},
                   spec_ref="sync.md#syncconfig", description=f"a side configured with {field} = {value}: refused")
    for name, start in [("initiate_range_one_bound", {"range": [key(0x10), None]}),
                        ("probe_range_one_bound", {"probe": [key(0x10), None]})]:
        yield Case(name, inputs={"side": side, "initiate": start, "peer": []}, error="InvalidValue",
                   reason="missing_range", spec_ref="sync.md#reconciler",
                   description=f"a side asked to {name.split('_')[0]} a range with one bound (y null): refused")
    unbounded = [
        ("initiator", initiator, "fingerprint", m("fingerprint", x=None, y=None, fingerprint=bytes(12), count=1)),
        ("responder", responder, "fingerprint", m("fingerprint", x=None, y=None, fingerprint=bytes(12), count=1)),
        ("responder", responder, "empty_range", m("empty_range", x=None, y=None)),
    ]
    for role, start, kind, message in unbounded:
        yield Case(f"{role}_{kind}_without_range", inputs={"side": side, "initiate": start, "peer": [message]},
                   error="SyncError", reason="missing_range", spec_ref="sync.md#bounds-against-a-hostile-peer",
                   description=f"a {role} refuses a {kind} message with neither bound: missing_range")
    for role, start, restart in [("initiator", initiator, {"range": None}), ("prober", prober, {"range": None}),
                                 ("initiator", initiator, {"probe": None})]:
        again = "open" if "range" in restart else "probe"
        yield Case(f"{role}_asked_to_{again}_again", inputs={"side": side, "initiate": start, "peer": [],
                                                              "restart": restart},
                   error="InvalidValue", reason="session_started", spec_ref="sync.md#reconciler",
                   description=f"{'a' if role == 'prober' else 'an'} {role} asked to {again} a second session: a "
                   "reconciler runs one session (session_started)")
    yield Case("unstarted_side_opens", inputs={"side": side, "initiate": responder, "peer": [],
                                                "restart": {"range": None}},
               expected={"first": [], "answers": [[opening, END]], "items": [key(0x10), key(0x50), key(0x90)],
                         "done": False},
               spec_ref="sync.md#reconciler",
               description="a side that has neither started nor received anything may still open its one session: "
               "its round is the initiator's opening")
    yield Case("responder_asked_to_open", inputs={"side": side, "initiate": responder,
                                                  "peer": [m("empty_set")], "restart": {"range": None}},
               error="InvalidValue", reason="session_started", spec_ref="sync.md#reconciler",
               description="a responder that has answered the peer's opening asked to open a session of its own: "
               "a reconciler runs one session (session_started)")
    yield Case("probe_answered_with_items", inputs={"side": side, "initiate": prober,
                                                    "peer": [m("item_batch", items=[k(1)]), DONE]},
               error="SyncError", reason="unexpected_message", spec_ref="sync.md#bounds-against-a-hostile-peer",
               description="a prober of the whole set refuses IDs in the reply to its probe: unexpected_message")
    recent = {**side, "config": {**RECURSIVE, "recent_time_span": 10}}
    for name, peer, reason in [
        ("probe_in_recent_reply", [m("probe", x=None, y=None, fingerprint=bytes(12), sample_size=5), END],
         "unexpected_message"),
        ("recent_reply_opens_part", [m("empty_range", x=key(0x10), y=key(0x20)), END], "unexpected_range"),
        ("opening_without_recent_reply", [m("empty_set"), END], "missing_initiation"),
    ]:
        yield Case(name, inputs={"side": recent, "initiate": initiator, "peer": peer}, error="SyncError",
                   reason=reason, spec_ref="sync.md#bounds-against-a-hostile-peer",
                   description=f"an initiator with recent sync (time span 10) refuses a peer's "
                   f"{name.replace('_', ' ')}: {reason}")
    yield Case("half_as_range_contents", inputs={"side": side, "initiate": initiator,
                                                 "peer": [m("range_contents", x=key(0x10), y=key(0x60), count=1), END]},
               error="SyncError", reason="unexpected_range", spec_ref="sync.md#bounds-against-a-hostile-peer",
               description="an initiator of the whole set refuses a RangeContents of [10, 60), a half of its opening "
               "range that only a Fingerprint or an EmptyRange may split off: unexpected_range")
    yield Case("initiate_range_holding_nothing", inputs={"side": side, "initiate": {"range": [key(0x20), key(0x30)]},
                                                         "peer": []},
               expected={"first": [m("empty_range", x=key(0x20), y=key(0x30)), END], "answers": [],
                         "items": [key(0x10), key(0x50), key(0x90)], "done": False},
               spec_ref="sync.md#reconciler",
               description="an initiator of [20, 30), where it holds none of its IDs, opens with an EmptyRange (asking "
               "for the peer's IDs) and EndRound")
    limited = {**side, "config": {**RECURSIVE, "message_limit": 2}}
    yield Case("message_limit", inputs={"side": limited, "initiate": initiator, "peer": [half_1, half_2, END]},
               error="SyncError", reason="message_limit", spec_ref="sync.md#bounds-against-a-hostile-peer",
               description="a limit of 2 messages: the opening and its EndRound are sent, the peer's first message "
               "is the third")
    tight = {**side, "config": {**RECURSIVE, "traffic_limit": 100}}
    yield Case("traffic_limit", inputs={"side": tight, "initiate": initiator,
                                        "peer": [m("item_batch", items=[k(1), k(2), k(3)]), END]},
               error="SyncError", reason="traffic_limit", spec_ref="sync.md#bounds-against-a-hostile-peer",
               description="a limit of 100 bytes: an ItemBatch of three 32-byte IDs after our opening exceeds it")
    # A round that asks nothing but ends with EndRound (go-spacemesh's way after sending IDs) is
    # answered with Done, and the ID is stored.
    yield Case("end_round_asking_nothing", description="a round that asks nothing but ends with EndRound is answered with Done, and its ID stored",
               inputs={"side": side, "initiate": initiator, "peer": [m("item_batch", items=[k(1)]), END]},
               expected={"first": [opening, END], "answers": [[], [DONE]],
                         "items": [k(1), key(0x10), key(0x50), key(0x90)], "done": True},
               spec_ref="sync.md#reconciler")
    # A responder holding nothing of a range the peer fingerprints answers EmptyRange (asking for the
    # peer's IDs), and ends its round with EndRound.
    yield Case("responder_holds_nothing_of_range", spec_ref="sync.md#reconciler",
               inputs={"side": side, "initiate": responder,
                       "peer": [m("fingerprint", x=key(0x20), y=key(0x30), fingerprint=fp(key(0x25)), count=1), END]},
               expected={"first": [], "answers": [[m("empty_range", x=key(0x20), y=key(0x30))], [END]],
                         "items": [key(0x10), key(0x50), key(0x90)], "done": False},
               description="the peer's opening fingerprints [20, 30) with one ID; we hold none there: EmptyRange, "
               "then EndRound")
    # A responder answering an opening EmptyRange: its IDs of the range, then Done.
    yield Case("responder_empty_range", spec_ref="sync.md#reconciler",
               inputs={"side": side, "initiate": responder, "peer": [m("empty_range", x=key(0x40), y=key(0x20)), END]},
               expected={"first": [], "answers": [[m("item_batch", items=[key(0x50), key(0x90), key(0x10)])], [DONE]],
                         "items": [key(0x10), key(0x50), key(0x90)], "done": True},
               description="a wrapped range [40, 20): the IDs in range order 50, 90, then 10")
    # A probe whose reply is not final.
    yield Case("probe_reply_not_final", description="a probe's Sample reply must end with Done, not EndRound", spec_ref="sync.md#reconciler",
               inputs={"side": side, "initiate": {"probe": None},
                       "peer": [m("sample", x=None, y=None, fingerprint=bytes(12), count=0, sample=[]), END]},
               error="SyncError", reason="probe_not_final")
    yield Case("probe_reply_collision", description="a Sample reply with our fingerprint but another count: a fingerprint collision", spec_ref="sync.md#reconciler",
               inputs={"side": side, "initiate": {"probe": None},
                       "peer": [m("sample", x=None, y=None, fingerprint=fp(key(0x10), key(0x50), key(0x90)), count=4,
                                  sample=[])]},
               error="SyncError", reason="fingerprint_collision")


# ---- multi-peer ------------------------------------------------------------------------

@vector_source("sync", "multipeer", "delimiters")
def test_delimiter_vectors():
    zero = bytes(32)

    def delimiter(prefix: int) -> bytes:
        return prefix.to_bytes(8, "big") + bytes(24)

    # 2 peers: step 2^62, doubled 2^63: 0x8000.... 3 peers, depth 16: step = 2^63 // 3 =
    # 0x2aaaaaaaaaaaaaaa, doubled 0x5555555555555554, masked 0x5555000000000000; twice that step
    # doubled 0xaaaaaaaaaaaaaaa8, masked 0xaaaa000000000000.
    for name, peers, depth, delimiters in [
        ("one_peer", 1, 16, []),
        ("two_peers", 2, 16, [delimiter(0x8000000000000000)]),
        ("three_peers_depth_16", 3, 16, [delimiter(0x5555000000000000), delimiter(0xAAAA000000000000)]),
        ("three_peers_depth_64", 3, 64, [delimiter(0x5555555555555554), delimiter(0xAAAAAAAAAAAAAAA8)]),
        ("three_peers_depth_1", 3, 1, [zero, delimiter(0x8000000000000000)]),
    ]:
        bounds = [zero] + delimiters + [zero]
        yield Case(name, inputs={"peer_count": peers, "max_depth": depth},
                   expected={"delimiters": delimiters, "ranges": [[bounds[i], bounds[i + 1]] for i in range(max(peers, 1))]},
                   spec_ref="sync.md#split_delimiters",
                   description=f"{peers} peer(s), delimiters masked to the top {depth} bits")
    yield Case("depth_zero", description="a split depth of 0 bits is refused", spec_ref="sync.md#split_delimiters", inputs={"peer_count": 3, "max_depth": 0}, error="InvalidValue", reason="bad_depth")


def probe(in_sync: bool, count: int, similarity: str) -> dict:
    return {"in_sync": in_sync, "count": count, "similarity": similarity}


@vector_source("sync", "multipeer", "plan")
def test_plan_vectors():
    zero = bytes(32)
    half = (0x8000000000000000).to_bytes(8, "big") + bytes(24)
    yield Case("all_in_sync", description="every answering peer is in sync", inputs={"local_count": 5000, "probes": [probe(True, 5000, "1.0"), None],
                                      "last_was_split": False},
               expected={"kind": "in_sync", "peers": [], "ranges": []}, spec_ref="sync.md#plan_sync")
    yield Case("no_peers", description="no peer answered the probe: nothing to sync with", spec_ref="sync.md#plan_sync", inputs={"local_count": 5000, "probes": [None, None], "last_was_split": False},
               expected={"kind": "no_peers", "peers": [], "ranges": []})
    # The only peer lags by more than MAX_SYNC_DIFF (100) IDs: skipped, nobody to sync with.
    yield Case("lagging_peer_skipped", description="the only peer holds more than MAX_SYNC_DIFF (100) fewer IDs: skipped", spec_ref="sync.md#plan_sync", inputs={"local_count": 5000, "probes": [probe(False, 4899, "0.9")],
                                               "last_was_split": False},
               expected={"kind": "no_peers", "peers": [], "ranges": []})
    far = probe(False, 100_000, "0.1")  # |100000 - 5000| >= 10000: not nearly in sync
    yield Case("split_two_far_peers", description="two peers far from in sync: the ID space is split between them", spec_ref="sync.md#plan_sync", inputs={"local_count": 5000, "probes": [far, None, far], "last_was_split": False},
               expected={"kind": "split", "peers": [0, 2], "ranges": [[zero, half], [half, zero]]})
    yield Case("full_after_split", description="after a split sync the next round is a full sync with every peer", spec_ref="sync.md#plan_sync", inputs={"local_count": 5000, "probes": [far, far], "last_was_split": True},
               expected={"kind": "full", "peers": [0, 1], "ranges": []})
    near = probe(False, 5050, "0.5")  # |50| < 10000 and 0.5 x 5000 = 2500 < 10000: nearly in sync
    yield Case("full_when_half_are_near", spec_ref="sync.md#plan_sync", inputs={"local_count": 5000, "probes": [far, near], "last_was_split": False},
               expected={"kind": "full", "peers": [0, 1], "ranges": []},
               description="1 of 2 syncable peers is near: 1 >= 2 x 0.5, so full sync")
    # Local 50,000: neither peer is near (counts 50,000 and 49,100 away); only peer 0 has more
    # than 1,000 IDs, and one split-syncable peer is fewer than 2.
    yield Case("full_when_too_few_split_peers", description="fewer than two peers hold enough IDs for a split: full sync", spec_ref="sync.md#plan_sync",
               inputs={"local_count": 50_000, "probes": [far, probe(False, 900, "0.0")], "last_was_split": False,
                       "config": {"max_sync_diff": 100_000}},
               expected={"kind": "full", "peers": [0, 1], "ranges": []})
