"""The FPTree: spec/sync.md's item store as a prefix tree of fingerprints.

``new_item_store`` replaces the spec's function of the same name: instead of a sorted list whose
range fingerprints cost one XOR per item of the range, it returns an :class:`FPTreeStore`, the
structure go-spacemesh keeps its synced sets in (``sync2/fptree``):

* a complete binary tree over the leading ``depth`` bits of the IDs (the 64-bit big-endian
  prefix ``>> (64 - depth)`` is the leaf index); every node holds the count and the XOR
  fingerprint of the IDs below it, level by level in plain lists (level ``l`` has ``2**l``
  nodes, node ``i``'s children are ``2i`` and ``2i + 1``);
* each leaf holds its IDs as a small sorted list (a *bucket*), about ``LEAF_TARGET`` of them.

Every query reduces to "the count and fingerprint of the IDs below a bound", one walk from the
root to the bound's leaf adding the left siblings, plus the few IDs of that leaf below the
bound: ``range_info`` of any range (normal, wrapped, whole) is two such walks, ``split_range``
adds a walk down by counts to the item at a rank, and ``add`` updates one node per level. A
normal range whose ends lie at most ``SMALL_SPAN`` leaves apart (the deep end of a
reconciliation, where ranges hold a handful of IDs) is read straight from those leaves instead:
a few list slices cost less than two walks of Python code. The
tree is built with numpy (the leaf aggregates of a sorted key array are ``reduceat`` runs) and
rebuilt one level deeper whenever additions make the leaves four times fuller than planned.

Fingerprints are 96-bit Python ints inside the tree; results are the spec's ``RangeInfo`` and
``RangeSplit`` with 12-byte fingerprints, equal to the spec store's answers for every query
(``tests/differential/test_sync.py``).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from smspec.impl.registry import replaces

if TYPE_CHECKING:
    from smspec.spec.sync import ItemStore, RangeInfo, RangeSplit

LEAF_TARGET = 4  # planned IDs per leaf
MIN_DEPTH = 1
MAX_DEPTH = 24  # 2^24 leaves: 16M-item sets before buckets grow past the target
SMALL_SPAN = 8  # a normal range within this many leaves is read from the leaves directly
_FP_BYTES = 12


def _depth_for(count: int) -> int:
    return max(MIN_DEPTH, min(MAX_DEPTH, (count // LEAF_TARGET).bit_length()))


def _words(keys: list[bytes]) -> np.ndarray:
    """The four big-endian 64-bit words of each 32-byte key, one row per key."""
    return np.frombuffer(b"".join(keys), dtype=">u8").astype(np.uint64).reshape(len(keys), 4)


def _fp(key: bytes) -> int:
    return int.from_bytes(key[:_FP_BYTES], "big")


class FPTreeStore:
    """An ``ItemStore`` over a prefix tree of counts and fingerprints."""

    def __init__(self, spec: Any, items: Mapping[bytes, int]) -> None:
        self.spec = spec
        given = list(items)
        if set(map(type, given)) - {bytes} or set(map(len, given)) - {spec.KEY_SIZE}:
            for key in sorted(given):
                spec.check_key(key)  # the spec's error, for the same key
        words = _words(given)
        order = np.lexsort((words[:, 3], words[:, 2], words[:, 1], words[:, 0]))
        self.received_at = dict(items)
        self._build([given[index] for index in order.tolist()], words[order], _depth_for(len(given)))

    # -- building ------------------------------------------------------------------------

    def _build(self, keys: list[bytes], words: np.ndarray, depth: int) -> None:
        """Leaves and levels for the sorted ``keys`` (``words``: their 64-bit words) at ``depth``."""
        self.depth = depth
        self.shift = 64 - depth
        leaves = 1 << depth
        n = len(keys)
        high = words[:, 0]  # bytes 0..7 of each key
        low = words[:, 1] >> np.uint64(32)  # bytes 8..11
        leaf_of = high >> np.uint64(self.shift)
        starts = np.searchsorted(leaf_of, np.arange(leaves, dtype=np.uint64), side="left")
        ends = np.append(starts[1:], n)
        counts = (ends - starts).astype(np.int64)
        occupied = counts > 0
        fp_high = np.zeros(leaves, dtype=np.uint64)
        fp_low = np.zeros(leaves, dtype=np.uint64)
        if n:
            fp_high[occupied] = np.bitwise_xor.reduceat(high, starts[occupied])
            fp_low[occupied] = np.bitwise_xor.reduceat(low, starts[occupied])
        self.buckets: list[list[bytes]] = []
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            self.buckets.append(keys[start:end])
        # Levels from the leaves up: each node aggregates its two children.
        level_counts = [counts]
        level_high = [fp_high]
        level_low = [fp_low]
        for _ in range(depth):
            level_counts.append(level_counts[-1].reshape(-1, 2).sum(axis=1))
            level_high.append(np.bitwise_xor.reduce(level_high[-1].reshape(-1, 2), axis=1))
            level_low.append(np.bitwise_xor.reduce(level_low[-1].reshape(-1, 2), axis=1))
        level_counts.reverse()
        level_high.reverse()
        level_low.reverse()
        self.counts: list[list[int]] = [c.tolist() for c in level_counts]
        self.fps: list[list[int]] = []
        for highs, lows in zip(level_high, level_low, strict=True):
            self.fps.append([(h << 32) | lo for h, lo in zip(highs.tolist(), lows.tolist(), strict=True)])

    def _rebuild_if_full(self) -> None:
        if self.depth < MAX_DEPTH and self.counts[0][0] > 4 * LEAF_TARGET << self.depth:
            keys = [key for bucket in self.buckets for key in bucket]
            self._build(keys, _words(keys), _depth_for(len(keys)))

    # -- tree walks ----------------------------------------------------------------------

    def _leaf(self, key: bytes) -> int:
        return int.from_bytes(key[:8].ljust(8, b"\0"), "big") >> self.shift

    def _below(self, key: bytes) -> tuple[int, int]:
        """The count and fingerprint of the IDs below ``key``."""
        leaf = self._leaf(key)
        count = 0
        fp = 0
        index = 0
        depth = self.depth
        counts = self.counts
        fps = self.fps
        for level in range(1, depth + 1):
            left = index << 1
            if (leaf >> (depth - level)) & 1:
                count += counts[level][left]
                fp ^= fps[level][left]
                index = left + 1
            else:
                index = left
        bucket = self.buckets[leaf]
        position = bisect_left(bucket, key)
        for below in bucket[:position]:
            fp ^= _fp(below)
        return count + position, fp

    def _select(self, rank: int) -> bytes:
        """The ID at ``rank`` in ID order (0 is the smallest)."""
        index = 0
        counts = self.counts
        for level in range(1, self.depth + 1):
            left = index << 1
            left_count = counts[level][left]
            if rank < left_count:
                index = left
            else:
                rank -= left_count
                index = left + 1
        return self.buckets[index][rank]

    def _range(self, x: bytes, y: bytes) -> tuple[int, int, int]:
        """(rank of the range's first position, count, fingerprint) of [x, y)."""
        total = self.counts[0][0]
        below_x, fp_x = self._below(x)
        if x == y:
            return below_x, total, self.fps[0][0]
        below_y, fp_y = self._below(y)
        if x < y:
            return below_x, below_y - below_x, fp_x ^ fp_y
        return below_x, total - below_x + below_y, self.fps[0][0] ^ fp_x ^ fp_y

    # -- the ItemStore interface ---------------------------------------------------------

    def count(self) -> int:
        return self.counts[0][0]

    def first(self) -> bytes | None:
        return self._select(0) if self.counts[0][0] else None

    def contains(self, key: bytes) -> bool:
        return key in self.received_at

    def add(self, key: bytes, received_at: int) -> None:
        self.spec.check_key(key)
        if key in self.received_at:
            return
        leaf = self._leaf(key)
        insort(self.buckets[leaf], key)
        fp = _fp(key)
        for level in range(self.depth, -1, -1):
            index = leaf >> (self.depth - level)
            self.counts[level][index] += 1
            self.fps[level][index] ^= fp
        self.received_at[key] = received_at
        self._rebuild_if_full()

    def _small(self, x: bytes, y: bytes) -> list[bytes] | None:
        """The IDs of a normal range whose ends are at most SMALL_SPAN leaves apart, else None."""
        if not x < y:
            return None
        first = self._leaf(x)
        last = self._leaf(y)
        if last - first > SMALL_SPAN:
            return None
        buckets = self.buckets
        if first == last:
            bucket = buckets[first]
            return bucket[bisect_left(bucket, x):bisect_left(bucket, y)]
        bucket = buckets[first]
        items = bucket[bisect_left(bucket, x):]
        for index in range(first + 1, last):
            items.extend(buckets[index])
        bucket = buckets[last]
        items.extend(bucket[:bisect_left(bucket, y)])
        return items

    def _info(self, items: list[bytes]) -> RangeInfo:
        fp = 0
        for key in items:
            fp ^= _fp(key)
        return self.spec.RangeInfo(fp.to_bytes(_FP_BYTES, "big"), len(items))

    def range_info(self, x: bytes, y: bytes) -> RangeInfo:
        small = self._small(x, y)
        if small is not None:
            return self._info(small)
        _, count, fp = self._range(x, y)
        return self.spec.RangeInfo(fp.to_bytes(_FP_BYTES, "big"), count)

    def range_items(self, x: bytes, y: bytes, limit: int | None) -> list[bytes]:
        small = self._small(x, y)
        if small is not None:
            return small if limit is None else small[:max(0, limit)]
        _, count, _ = self._range(x, y)
        want = count if limit is None else max(0, min(count, limit))
        if want == 0:
            return []
        leaf = self._leaf(x)
        bucket = self.buckets[leaf]
        position = bisect_left(bucket, x)
        items = bucket[position:position + want]
        buckets = self.buckets
        leaves = len(buckets)
        index = leaf
        while len(items) < want:
            index = index + 1 if index + 1 < leaves else 0  # on past the top: the wrapped part
            bucket = buckets[index]
            if bucket:
                items.extend(bucket[:want - len(items)])
        return items

    def split_range(self, x: bytes, y: bytes, count: int) -> RangeSplit:
        small = self._small(x, y)
        if small is not None:
            if not 0 < count < len(small):
                raise self.spec.InvalidValue("bad_split", f"cannot split {len(small)} items after {count}")
            return self.spec.RangeSplit(small[count], self._info(small[:count]), self._info(small[count:]))
        start, total, _ = self._range(x, y)
        if not 0 < count < total:
            raise self.spec.InvalidValue("bad_split", f"cannot split {total} items after {count}")
        middle = self._select((start + count) % self.counts[0][0])
        return self.spec.RangeSplit(middle, self.range_info(x, middle), self.range_info(middle, y))

    def recent(self, since: int) -> list[bytes]:
        return sorted(key for key, received_at in self.received_at.items() if received_at >= since)


@replaces("sync", "new_item_store", factory=True)
def _new_item_store_factory(spec: Any) -> Any:
    def new_item_store(items: Mapping[bytes, int]) -> ItemStore:
        """A store holding ``items`` (ID -> receipt time), kept in an FPTree."""
        return FPTreeStore(spec, items)

    return new_item_store
