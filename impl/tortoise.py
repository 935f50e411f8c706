"""Fast tortoise counting: the same state and results as spec/tortoise.md, with less work.

What the spec does ballot by ballot, this module does once per *group* of ballots that share a
decoded vote list (ballots of a layer that sign the same opinion hash share one list object, and
an honest layer has one or a few) and an ATX height:

* ``count_ballots_full``: full-mode counting walks each distinct (vote list, height) once with
  the summed weight, instead of once per ballot. The walk covers the whole window, so this is
  what keeps a switch to full mode (and every new layer while in it) from costing
  ballots x window: it costs (distinct opinions) x window + ballots.
* ``count_for_late_block``: the implicit against votes for a late block, grouped the same way.
* ``recount_good_ballots``: after an opinion change the spec recounts every ballot above the
  changed layer, adding its weight to every later layer (ballots x window); here one pass sums
  the good weight per layer and adds running totals (ballots + window).
* ``on_ballot``: a ballot whose opinion is already known in its layer is stored without decoding
  and without an object: it becomes a row of its layer's columns (``_Rows``: ids, reference-cache
  entries, weights, vote lists), and its id enters ``ballot_refs`` (``_Refs``: a set of every
  stored id, ``members``, with a dict holding only objects and placeholders; an id of a run's row
  is a member only, found by searching the column layers when someone asks for it). A run
  appends two entries per ballot, id and reference-cache entry: its rows share its vote list,
  and a row of one eligibility gets its weight when the column is next read (the weights column
  and its sum are memoized: the next layer's ballots usually name the same references in the
  same order). The last opinion object is recognised by identity, and reference ballots are
  looked up in a small per-state cache (pruned at each eviction, and at each pop from
  ``ballot_refs``) rather than in ``ballot_refs``.
  A row becomes the spec's BallotInfo only when code outside the impl reads it (a base or
  reference ballot the spec's decode_ballot looks up; a layer's list iterated, indexed, copied);
  from then on that object is the truth. Fewer objects per ballot also means fewer garbage
  collections.
* ``on_ballots`` (spec: on_ballot on each ballot, in order): after a ballot that leaves a run in
  progress, the ballots that continue it are checked together (list comprehensions and C loops
  over a chunk: same opinion object, layer, no epoch data, a cached reference, an id not stored,
  no malicious flag or identity) and appended as the run appends them, their ids entering
  ``ballot_refs``'s set in one ``update`` (a chunk naming the same references in the same order
  as a chunk before reuses their reference entries); chunks grow (8, 32, 128... ballots) while they are
  taken whole, a call opens with the last chunk size of a call whose run was taken whole to its end
  (an honest layer after another: one chunk), and any other ballot goes through ``on_ballot``. A reference ballot stored as a
  row also enters the reference cache, so the next layer's ballots are taken from its start.
  An epoch's first layer (reference ballots) is taken the same way: their entries are made
  inline (the per-eligibility fraction memoized per (ATX weight, eligibilities); the last
  fraction and class reused while repeated) and a chunk of reference ballots only enters the
  reference cache and ``ballot_refs`` in bulk.
* ``decode_votes``: the list ``encode_votes_with_base`` decodes to hash the node's opinion answers
  the next decode with the same arguments, once (the layer's first ballot signing that opinion):
  only a list made of new votes on top of the base's list itself, and only while that list is the
  same object with the same top layer and opinion and the exceptions are equal.
* ``on_atx``: the spec's steps inline for an epoch already known.
* ``verify_layers``: the spec's walk over every target of the window (O(window) per tally), which
  sets the verified layer and lowers the changed one, computed from where the verifiers stopped.
* ``count_ballots``: a layer held in columns is judged once per group of rows with the same vote
  list and reference class (usually one group: a sum of the weights); other lists, once per run
  of ballots with the same layer, beacon and vote list.
* ``evict``: a dropped layer's ids leave ``ballot_refs`` (set and dict) straight from its id column; the vote
  lists at the window start are cut once per run of ballots sharing one.
* ``fixed_udiv`` and ``ballot_weight``: the fixed-point division reduced to one exact integer
  division plus the test that decides the library's one-unit-low quotient (see below), and
  memoized, since thresholds divide the same epoch weights again at every tally.

Sums of margins are integer additions, so grouping changes nothing but the order of additions;
the full state (margins, empty weights, delay queues, good weights) is identical, which
``tests/differential/test_tortoise.py`` checks with Hypothesis on simulated networks.

numpy is not used: weights are 128-bit fixed-point values (2^-56 units), beyond int64 and the
exact range of float64, and the remaining per-layer loops are over a handful of groups.
"""

from __future__ import annotations

import collections
import itertools
import math
import operator
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from smspec.impl.registry import original as registry_original
from smspec.impl.registry import replaces

if TYPE_CHECKING:
    from collections.abc import Sequence

    from smspec.spec.tortoise import (
        AtxData,
        BallotData,
        BallotInfo,
        BlockHeader,
        BlockInfo,
        InvalidBallot,
        LayerVote,
        Opinion,
        Tortoise,
    )

_CACHE_LIMIT = 1 << 16
_udiv_cache: dict = {}
_weight_cache: dict = {}


def _panic(reason: str, detail: str) -> Exception:
    from smspec.spec.fixed import ArithmeticPanic

    return ArithmeticPanic(reason, detail)


def _div128(u: int, v: int) -> tuple[int, int]:
    """spacemeshos/fixed div128 for 0 <= u < 2^127 and 0 < v < 2^127.

    The library estimates the quotient from the top 64 bits of the normalized divisor, takes one
    off, and corrects once with a strict comparison. The estimate before the decrement is the
    exact quotient q or q + 1; when it is q and the division is exact, the correction test
    (remainder v > v) fails and the result stays at q - 1 with remainder v.
    """
    if v >> 64 == 0:
        return divmod(u, v)
    quotient, remainder = divmod(u, v)
    shift = 128 - v.bit_length()
    if remainder == 0 and quotient > 0:
        top = (v << shift) >> 64
        estimate = (u // top) >> (64 - shift)
        if estimate == quotient:
            return quotient - 1, v
    return quotient, remainder


@replaces("tortoise", "fixed_udiv")
def fixed_udiv(u: int, v: int) -> int:
    """u / v for non-negative fixed-point values, bit-exact with spacemeshos/fixed udiv."""
    key = (u, v)
    cached = _udiv_cache.get(key)
    if cached is not None:
        return cached
    if v == 0:
        raise _panic("division_by_zero", "div64")
    if (u >> 64) & ~0x7F == 0:
        result = _div128(u << 56, v)[0]
    else:
        high, remainder = _div128(u, v)
        if high >= 1 << 71:
            raise _panic("overflow", "shift left")
        shift = min(64 - (remainder >> 64).bit_length() - 1, 56)
        divisor = v >> (56 - shift)
        if divisor == 0:
            raise _panic("division_by_zero", "div64")
        low = _div128(remainder << shift, divisor)[0]
        result = (high << 56) + low
        if result >= 1 << 127:
            raise _panic("overflow", "add")
    if len(_udiv_cache) >= _CACHE_LIMIT:
        _udiv_cache.clear()
    _udiv_cache[key] = result
    return result


@replaces("tortoise", "ballot_weight", factory=True)
def _ballot_weight_factory(spec: Any):
    def ballot_weight(numerator: int, denominator: int, eligibilities: int) -> int:
        """Weight of a ballot with `eligibilities` proofs, per-eligibility weight numerator/denominator."""
        key = (numerator, denominator)
        per_eligibility = _weight_cache.get(key)
        if per_eligibility is None:
            if len(_weight_cache) >= _CACHE_LIMIT:
                _weight_cache.clear()
            per_eligibility = spec.fixed_divide(numerator, denominator)
            _weight_cache[key] = per_eligibility
        return per_eligibility * eligibilities

    return ballot_weight


def _walk_full(spec: Any, state: Any, votes: Any, height: int, weight: int) -> None:
    """count_ballot_full's walk for a summed weight."""
    evicted = state.evicted
    abstain = spec.ABSTAIN
    vote = votes
    while vote is not None and vote.layer > evicted:
        if vote.vote != abstain:
            layer = spec.get_layer(state, vote.layer)
            supported = {id(block) for block in vote.supported}
            empty = True
            for block in layer.blocks:
                if block.height > height:
                    continue
                if id(block) in supported:
                    empty = False
                    block.margin += weight
                else:
                    block.margin -= weight
            if empty:
                layer.empty += weight
            else:
                layer.empty -= weight
        vote = vote.prev


@replaces("tortoise", "count_ballots_full", factory=True)
def _count_ballots_full_factory(spec: Any):
    def count_ballots_full(state: Tortoise, ballots: list[BallotInfo]) -> None:
        """Count a batch of ballots in full mode, in order."""
        if _column(ballots):  # no row of a column layer is malicious or delayed (bad beacon)
            if ballots.sync():  # type: ignore[attr-defined]
                for votes, reference_class, weight in _groups(ballots):  # type: ignore[arg-type]
                    _walk_full(spec, state, votes, reference_class[1], weight)
                return
            ballots.materialize()  # type: ignore[attr-defined]
        groups: dict = {}
        for ballot in ballots:
            if spec.should_be_delayed(state, ballot):
                continue
            if ballot.malicious:
                continue
            key = (id(ballot.votes), ballot.reference.height)
            group = groups.get(key)
            if group is None:
                groups[key] = [ballot.votes, ballot.reference.height, ballot.weight]
            else:
                group[2] += ballot.weight
        for votes, height, weight in groups.values():
            _walk_full(spec, state, votes, height, weight)

    return count_ballots_full


@replaces("tortoise", "count_for_late_block", factory=True)
def _count_for_late_block_factory(spec: Any):
    def count_for_late_block(state: Tortoise, block: BlockInfo) -> None:
        """Debit a late block with the implicit against votes of already counted ballots."""
        groups: dict = {}
        for layer in range(block.layer + 1, state.full_counted + 1):
            rows = state.ballots.get(layer, ())
            if _column(rows) and not rows.sync():
                rows.materialize()
            if _column(rows):
                for votes, reference_class, weight in _groups(rows):
                    if block.height > reference_class[1]:
                        continue
                    group = groups.get(id(votes))
                    if group is None:
                        groups[id(votes)] = [votes, weight]
                    else:
                        group[1] += weight
                continue
            for ballot in rows:
                if block.height > ballot.reference.height:
                    continue
                group = groups.get(id(ballot.votes))
                if group is None:
                    groups[id(ballot.votes)] = [ballot.votes, ballot.weight]
                else:
                    group[1] += ballot.weight
        target = block.layer
        for votes, weight in groups.values():
            vote = votes
            while vote is not None and vote.layer >= target:
                if vote.layer == target and vote.vote != spec.ABSTAIN:
                    block.margin -= weight
                vote = vote.prev

    return count_for_late_block


@replaces("tortoise", "recount_good_ballots", factory=True)
def _recount_good_ballots_factory(spec: Any):
    def recount_good_ballots(state: Tortoise, voted: int) -> None:
        """Reset the good weight after layer `voted` and count again every ballot above it."""
        track = _track(state)
        track.recount = _lower(track.recount, voted)
        spec.reset_good_weights(state, voted)
        running = 0
        for target in range(voted + 1, state.processed + 1):
            rows = state.ballots.get(target, ())
            if _column(rows) and not rows.sync():
                rows.materialize()
            if _column(rows):  # is_good_ballot once per group (no row has a bad beacon)
                if rows:
                    previous = spec.get_layer(state, target - 1)
                    for votes, reference_class, weight in _groups(rows):
                        if previous.opinion == spec.votes_opinion(votes) \
                                and previous.reference_height <= reference_class[1]:
                            running += weight
            else:
                for ballot in rows:
                    if spec.is_good_ballot(state, ballot):
                        running += ballot.weight
            if running:
                spec.get_layer(state, target).good_uncounted += running
        state.total_good_weight += running

    return recount_good_ballots


def _expected_weight_function(spec: Any, state: Any):
    """expected_weight_in_window(state, target) with the epoch weights read once per pass."""
    config = state.config
    length = config.layers_per_epoch
    last, processed = state.last, state.processed
    fixed_div_int = spec.fixed_div_int
    epochs = state.epochs
    weights: dict = {}

    def weight(epoch: int) -> int:
        value = weights.get(epoch)
        if value is None:
            info = epochs.get(epoch)
            value = weights[epoch] = info.weight if info is not None else 0
        return value

    prefix: dict = {}  # epoch -> summed weight of the epochs from `first` up to, not including, it
    first = (state.evicted + 1) // length

    def weight_before(epoch: int) -> int:
        """Sum of the weights of epochs first .. epoch-1 (memoized running sums)."""
        if epoch <= first:
            return 0
        value = prefix.get(epoch)
        if value is None:
            known = max((e for e in prefix if e < epoch), default=first)
            value = prefix.get(known, 0)
            for e in range(known, epoch):
                value += weight(e)
                prefix[e + 1] = value
        return value

    def expected(target: int) -> int:
        end = last
        window = spec.window_size_for(config, target)
        if last - target > window:
            end = target + window
            if processed > end:
                end = processed
        start = target + 1
        start_epoch, last_epoch = start // length, end // length
        if start_epoch == last_epoch:
            return fixed_div_int(weight(start_epoch) * (end - start + 1), length)
        total = fixed_div_int(weight(start_epoch) * (length - start % length), length)
        if start_epoch + 1 >= first:
            total += weight_before(last_epoch) - weight_before(start_epoch + 1)
        else:
            for epoch in range(start_epoch + 1, last_epoch):
                total += weight(epoch)
        return total + fixed_div_int(weight(last_epoch) * (end % length + 1), length)

    return expected


class _Track:
    """What the incremental ``run_verifying`` remembers about one tortoise state between calls.

    Targets ``evicted + 1 .. settled`` passed the last time they were checked exactly, are
    beyond hdist of ``last`` (their blocks are decided by validity, which the check itself set)
    and nothing that decides them has changed since: no block added to them (``touched``), no
    good-weight recount at or below them (``recount``), no full-mode pass (``full_ran``, which
    rewrites validity). Their weight test is then decided by a bound: each one's slack (margin
    minus threshold) when it was checked, plus ``drift`` at that time, is at least ``lowest``;
    ``drift`` adds up, call after call, the most the slack of any such target can have fallen
    (from the changes of the total good weight, of the expected weight and of the local
    threshold). While ``lowest - drift > 0`` they all still pass, with no validity change.
    """

    __slots__ = ("selection", "settled", "lowest", "drift", "total", "late", "local", "last", "weights",
                 "late_good", "recount", "touched", "full_ran", "dirty_seq", "dirty_log", "clean")

    def __init__(self) -> None:
        self.selection = -1
        self.dirty_seq = 0  # counts the changes that can change a layer's votes in encode_votes
        self.dirty_log: list[tuple[int, int]] = []  # (sequence number, layer) of those changes
        self.clean: list[tuple[Any, int, int, int]] = []  # encode memos: (vote, sequence, start, current)
        self.late_good = 0  # good weight counted for already processed layers (count_ballot_verifying)
        self.recount: int | None = None
        self.touched: int | None = None
        self.full_ran = False
        self.reset()

    def reset(self) -> None:
        self.settled = -1
        self.lowest: int | None = None
        self.drift = 0
        self.total: int | None = None


_tracks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_selection = [0]  # bumped at every impl selection: a switch of backend forgets every track


def _track(state: Any) -> _Track:
    track = _tracks.get(state)
    if track is None:
        track = _tracks[state] = _Track()
    if track.selection != _selection[0]:
        track.selection = _selection[0]
        track.recount = track.touched = None
        track.full_ran = False
        track.clean = []
        track.dirty_log = []
        track.reset()
    return track


def _dirty(state: Any, layer: int) -> None:
    """A layer's blocks, their validity or data, or its Hare termination changed (-1: any layer)."""
    track = _track(state)
    track.dirty_seq += 1
    if track.clean:
        track.dirty_log.append((track.dirty_seq, layer))


def _lower(a: int | None, b: int) -> int:
    return b if a is None else min(a, b)


@replaces("tortoise", "run_verifying", factory=True)
def _run_verifying_factory(spec: Any):
    _selection[0] += 1
    rounding = 16  # units of 2^-56: expected() rounds at most 3 terms, by at most 2 units each, before and after

    def drift_of(state: Any, track: _Track) -> int | None:
        """How far the slack of a settled target may have fallen since the last call (None: no bound)."""
        if track.total is None or track.full_ran:
            return None
        length = state.config.layers_per_epoch
        weights = {epoch: info.weight for epoch, info in state.epochs.items()}
        raised = 0
        for epoch, weight in weights.items():
            before = track.weights.get(epoch, 0)
            if weight < before:
                return None
            raised += weight - before
        heaviest = max(weights.values(), default=0)
        new_layers = state.last - track.last
        expected_rise = raised + -(-heaviest * new_layers // length) + rounding
        margin_rise = (state.total_good_weight - track.total) - (track.late_good - track.late)
        local_rise = max(0, state.local_threshold - track.local)
        slack_rise = min(margin_rise, 2 * margin_rise - expected_rise) - ((expected_rise + 2) // 3 + 2) - local_rise
        return -slack_rise

    def run_verifying(state: Tortoise) -> tuple[int, int | None]:
        """Verify layers in verifying mode; returns (last verified, lowest changed or None)."""
        track = _track(state)
        drift = drift_of(state, track)
        if drift is None:
            track.reset()
        else:
            track.drift += drift
        first = state.evicted + 1
        start = max(track.settled + 1, first)
        if track.recount is not None:
            start = min(start, track.recount + 1)
        if track.touched is not None:
            start = min(start, track.touched)
        start = max(first, min(start, state.verified + 1))
        if start > first and (track.lowest is None or track.lowest - track.drift <= 0):
            track.reset()
            start = first
        expected = _expected_weight_function(spec, state)
        fixed_div_int = spec.fixed_div_int
        verify_layer = spec.verify_layer
        local_vote = spec.local_vote
        abstain = spec.ABSTAIN
        total = state.total_good_weight
        local = state.local_threshold
        fraction = spec.ADVERSARIAL_WEIGHT_FRACTION
        settle_until = state.last - state.config.hdist  # beyond hdist: decided by validity from now on
        settled = start - 1
        lowest = track.lowest if start > first else None
        # targets first .. start-1 are settled: they pass, and verify_layer would change nothing
        verified, changed = start - 1, None
        layers = state.layers
        hdist, last, old_verified = state.config.hdist, state.last, state.verified
        for target in range(start, state.processed):
            layer = layers.get(target)
            if layer is None:
                layer = spec.get_layer(state, target)
            if not layer.hare_terminated:
                break
            margin = total - layer.good_uncounted
            weight = expected(target)
            uncounted = weight - margin
            if uncounted > 0:
                margin -= uncounted
            threshold = fixed_div_int(weight, fraction) + local
            if not (margin > 0 and margin > threshold):
                break
            reference_height = layer.reference_height
            blocks = layer.blocks
            if len(blocks) == 1:  # verify_layer on one block, inline: its decision (local_vote), unless undecided
                block = blocks[0]
                if block.height > reference_height:
                    break
                if block.layer + hdist > last:  # within hdist: the Hare's
                    decision = block.hare
                else:
                    decision = abstain if block.layer > old_verified else block.validity
                if decision == abstain:
                    break
                flipped = block.validity != decision
                block.validity = decision
            else:
                def decide(block: Any, reference_height: int = reference_height) -> int:
                    if block.height > reference_height:
                        return abstain
                    return local_vote(state, state.verified, state.last, block)[0]

                ok, flipped = verify_layer(blocks, decide)
                if not ok:
                    break
            if flipped and changed is None:
                changed = target
            verified = target
            if settled == target - 1 and target <= settle_until:
                settled = target
                lowest = _lower(lowest, margin - threshold + track.drift)
        track.settled = settled
        track.lowest = lowest
        track.total, track.late = state.total_good_weight, track.late_good
        track.local, track.last = state.local_threshold, state.last
        track.weights = {epoch: info.weight for epoch, info in state.epochs.items()}
        track.recount = track.touched = None
        track.full_ran = False
        if changed is not None:
            _dirty(state, changed)
        if verified < state.evicted + 1:
            verified = state.evicted
        return verified, changed

    return run_verifying


def _verified_after(first: int, end: int, before: int, verified: int, new_verified: int,
                    changed: int | None) -> tuple[int, int | None]:
    """verify_layers' walk over the targets first .. end-1, without the walk: the targets up to
    ``new_verified`` pass (the last one passed becomes ``verified``, and the lowest one passed above
    ``before``, the verified layer before, lowers ``changed``), and the first one above it, if it is
    a target below ``before``, lowers ``changed`` too. (The spec's walk is O(window) per tally.)"""
    top = min(new_verified, end - 1)  # the last target that passes
    if top >= first:
        verified = top
        low = max(first, before + 1)  # the lowest passing target above the verified layer before
        if low <= top:
            changed = low if changed is None else min(changed, low)
    stop = max(first, new_verified + 1)  # the target where the walk stops, if it is one
    if stop < end and stop < before:
        changed = stop if changed is None else min(changed, stop)
    return verified, changed


@replaces("tortoise", "verify_layers", factory=True)
def _verify_layers_factory(spec: Any):
    verify_layers_spec = registry_original(spec, "verify_layers")

    def verify_layers(state: Tortoise) -> None:
        """Run the verifiers, switch modes, and update `verified` and the opinions that changed.

        The spec's steps, with its walk over every target of the window (which sets ``verified`` and
        lowers ``changed``) computed from where the walk stops (``_verified_after``)."""
        evicted, processed = state.evicted, state.processed
        if type(evicted) is not int or type(processed) is not int or type(state.verified) is not int:
            return verify_layers_spec(state)  # type: ignore[no-any-return]
        verified = max(evicted, spec.effective_genesis(state.config))
        if state.is_full:
            new_verified, changed = spec.run_full(state)
            verifying_verified, verifying_changed = spec.run_verifying(state)
            if new_verified == state.processed - 1 and new_verified == verifying_verified:
                state.is_full = False
                changed = spec.lowest_of(changed, verifying_changed)
        else:
            new_verified, changed = spec.run_verifying(state)
            if not spec.within_distance(state.config.hdist, new_verified + 1, state.last):
                full_verified, full_changed = spec.run_full(state)
                new_verified = full_verified
                changed = spec.lowest_of(changed, full_changed)
        first, end, before = state.evicted + 1, state.processed, state.verified
        if type(new_verified) is int and type(first) is int and type(end) is int and type(before) is int \
                and (changed is None or type(changed) is int):
            verified, changed = _verified_after(first, end, before, verified, new_verified, changed)
        else:
            for target in range(first, end):
                if new_verified < target:
                    if target < before:
                        changed = spec.lowest_of(changed, target)
                    break
                if target > before:
                    changed = spec.lowest_of(changed, target)
                verified = target
        if changed is not None:
            state.pending = min(state.pending, changed) if state.pending else changed
            spec.on_opinion_change(state, changed, False)
        state.verified = verified

    return verify_layers


@replaces("tortoise", "count_ballot_verifying", factory=True)
def _count_ballot_verifying_factory(spec: Any):
    def count_ballot_verifying(state: Tortoise, ballot: BallotInfo) -> None:
        """Add a good ballot's weight to every processed layer from its own layer up."""
        if not spec.is_good_ballot(state, ballot):
            return
        for layer in range(ballot.layer, state.processed + 1):
            spec.get_layer(state, layer).good_uncounted += ballot.weight
        state.total_good_weight += ballot.weight
        _track(state).late_good += ballot.weight

    return count_ballot_verifying


@replaces("tortoise", "add_block", factory=True)
def _add_block_factory(spec: Any):
    add_block_spec = registry_original(spec, "add_block")

    def add_block(state: Tortoise, block: BlockInfo) -> None:
        """Insert a new block record in its layer (kept in canonical order) and count late votes."""
        track = _track(state)
        track.touched = _lower(track.touched, block.layer)
        _dirty(state, block.layer)
        add_block_spec(state, block)

    return add_block


@replaces("tortoise", "on_atx", factory=True)
def _on_atx_factory(spec: Any):
    on_atx_spec = registry_original(spec, "on_atx")
    fraction_bits = spec.FRACTION_BITS

    def on_atx(state: Tortoise, target_epoch: int, atx_id: bytes, atx: AtxData) -> None:
        """Register an ATX targeting `target_epoch`: the spec's steps with get_epoch, fixed_from_int and
        epoch_of inline (an epoch's ATXs come one call each); an epoch not an int or new, or a weight of
        2^63 or more, through the spec's on_atx."""
        weight = atx.weight
        epoch = state.epochs.get(target_epoch) if type(target_epoch) is int else None
        atxs = state.atxs.get(target_epoch) if epoch is not None else None
        if atxs is None or weight >= 1 << 63:
            on_atx_spec(state, target_epoch, atx_id, atx)
            return
        atxs[atx_id] = atx
        if atx.node not in state.malicious_nodes:
            epoch.weight += weight << fraction_bits
        if target_epoch == state.last // state.config.layers_per_epoch:
            state.local_threshold = spec.compute_local_threshold(state, target_epoch)

    return on_atx


@replaces("tortoise", "on_block", factory=True)
def _on_block_factory(spec: Any):
    on_block_spec = registry_original(spec, "on_block")

    def on_block(state: Tortoise, header: BlockHeader) -> None:
        """A block's data is available locally."""
        _dirty(state, header.layer)
        on_block_spec(state, header)

    return on_block


@replaces("tortoise", "on_hare_output", factory=True)
def _on_hare_output_factory(spec: Any):
    on_hare_output_spec = registry_original(spec, "on_hare_output")

    def on_hare_output(state: Tortoise, layer_id: int, block_id: bytes) -> None:
        """The Hare (or a certificate) decided a layer: one block, or EMPTY_BLOCK_ID for none."""
        _dirty(state, layer_id)
        on_hare_output_spec(state, layer_id, block_id)

    return on_hare_output


def _memo_covers(track: _Track, vote: Any, start: int, verified: int, current: int) -> bool:
    """Whether an earlier encode found `vote` and everything below it (down to its start) without
    an exception, an abstention or a failure, decided by validity, and nothing changed since."""
    for memo_vote, sequence, memo_start, memo_current in track.clean:
        if memo_vote is not vote:
            continue
        if start < memo_start or current < memo_current or vote.layer > verified:
            return False
        return all(layer > vote.layer for seq, layer in track.dirty_log if seq > sequence)
    return False


@replaces("tortoise", "encode_votes_with_base", factory=True)
def _encode_votes_with_base_factory(spec: Any):
    abstain_vote, support_vote, against_vote = spec.ABSTAIN, spec.SUPPORT, spec.AGAINST

    def encode_votes_with_base(state: Tortoise, base_id: bytes, base_layer: int, base_votes: LayerVote | None,
                               start: int, current: int) -> Opinion:
        """Exceptions turning a base ballot's votes into the node's own, and their opinion hash.

        The walk down the base ballot's votes stops at a vote an earlier call found clean (no
        exception below it, every layer decided by validity) when nothing below it has changed
        since; a walk that ends records the top of its clean tail for the next calls.
        """
        track = _track(state)
        verified = state.verified
        hdist = state.config.hdist
        support, against, abstain = [], [], []
        vote = base_votes
        clean_top = None  # top of the run of clean votes ending at the bottom of the walk
        while vote is not None and vote.layer >= start:
            if _memo_covers(track, vote, start, verified, current):
                if clean_top is None:
                    clean_top = vote
                break
            layer = spec.get_layer(state, vote.layer)
            found = len(support) + len(against) + len(abstain)
            if vote.vote == abstain_vote and layer.hare_terminated:
                raise spec.EncodeVotesError("base_ballot_unusable", base_id.hex())
            settled = True  # every vote here follows from what _dirty tracks (data, validity)
            if vote.vote != abstain_vote and not layer.hare_terminated:
                abstain.append(vote.layer)
            elif vote.vote != abstain_vote:
                for block in layer.blocks:
                    own, reason = spec.full_vote(state, verified, current, block)
                    if reason not in ("missing data", "validity") or own == abstain_vote:
                        settled = False
                    if own == spec.get_vote(vote, block):
                        continue
                    if own == support_vote:
                        support.append(spec.block_header(block))
                    elif own == against_vote:
                        against.append(spec.block_header(block))
            clean = (settled and len(support) + len(against) + len(abstain) == found and vote.layer <= verified
                     and vote.layer + hdist <= current and layer.hare_terminated and vote.vote != abstain_vote)
            if not clean:
                clean_top = None
            elif clean_top is None:
                clean_top = vote
            vote = vote.prev
        for layer_id in range(base_layer, current):
            layer = spec.get_layer(state, layer_id)
            if not layer.hare_terminated:
                abstain.append(layer_id)
                continue
            for block in layer.blocks:
                if spec.full_vote(state, verified, current, block)[0] == support_vote:
                    support.append(spec.block_header(block))
        if len(support) + len(against) > state.config.max_exceptions:
            raise spec.EncodeVotesError("too_many_exceptions", str(len(support) + len(against)))
        if clean_top is not None:
            track.clean = [memo for memo in track.clean if memo[0] is not clean_top][-7:]
            track.clean.append((clean_top, track.dirty_seq, start, current))
            oldest = min(memo[1] for memo in track.clean)
            track.dirty_log = [entry for entry in track.dirty_log if entry[0] > oldest]
        votes = spec.Votes(base=base_id, support=tuple(support), against=tuple(against), abstain=tuple(abstain))
        decoded, lowest = spec.decode_votes(current, base_layer, base_votes, votes)
        remember = getattr(spec.decode_votes, "remember", None)
        if remember is not None:  # the first ballot signing this opinion decodes the same list
            remember(current, base_layer, base_votes, votes, decoded, lowest)
        return spec.Opinion(hash=spec.votes_opinion(decoded), votes=votes)

    return encode_votes_with_base


@replaces("tortoise", "decode_votes", factory=True)
def _decode_votes_factory(spec: Any):
    decode_votes_spec = registry_original(spec, "decode_votes")
    Votes = spec.Votes
    # the last list encode_votes_with_base decoded, held for one use: (ballot layer, base layer, base votes, their
    # layer and opinion then, exceptions, decoded list, lowest layer)
    memo: list = []

    def remember(ballot_layer: int, base_layer: int, base_votes: LayerVote | None, exceptions: Any, decoded: Any,
                 lowest: int) -> None:
        """Hold a list just decoded (and seen by nobody else) for the next call with the same arguments. Only
        a list decoded without copying any of the base's votes (every exception above the base's top vote, so
        the list is new votes on top of ``base_votes`` itself): the answer then depends on ``base_votes`` only
        through its identity, its top layer and its top opinion, which a later call compares."""
        memo.clear()
        if type(ballot_layer) is int and type(base_layer) is int and type(lowest) is int \
                and type(exceptions) is Votes and (base_votes is None or lowest > base_votes.layer):
            top = (base_votes.layer, base_votes.opinion) if base_votes is not None else None
            memo.extend((ballot_layer, base_layer, base_votes, top, exceptions, decoded, lowest))

    def decode_votes(ballot_layer: int, base_layer: int, base_votes: LayerVote | None,
                     exceptions: Votes) -> tuple[LayerVote | None, int]:
        """Decoded vote list of a ballot in `ballot_layer`, and the lowest layer it touches: the list
        encode_votes_with_base decoded last, once, when the arguments are the same (the same base
        votes object, with the same top layer and opinion, and equal exceptions); else the spec's."""
        if memo:
            layer, base, votes, top, held, decoded, lowest = memo
            memo.clear()
            if votes is base_votes and type(ballot_layer) is int and type(base_layer) is int and layer == ballot_layer \
                    and base == base_layer and type(exceptions) is Votes \
                    and (votes is None or (votes.layer, votes.opinion) == top) \
                    and (held is exceptions or held == exceptions):
                return decoded, lowest
        return decode_votes_spec(ballot_layer, base_layer, base_votes, exceptions)  # type: ignore[no-any-return]

    decode_votes.remember = remember  # type: ignore[attr-defined]
    return decode_votes


@replaces("tortoise", "encode_votes", factory=True)
def _encode_votes_factory(spec: Any):
    def encode_votes(state: Tortoise, current: int | None = None) -> Opinion:
        """The opinion (base ballot, exceptions, hash) for a new ballot in layer `current`."""
        if state.retriable:
            raise spec.EncodeVotesError("not_drained", f"{len(state.retriable)} ballots wait for a beacon")
        if current is None:
            current = state.last + 1
        genesis = spec.effective_genesis(state.config)
        failure = None
        for layer in range(current - 1, state.evicted, -1):
            if layer == genesis:
                choices: Any = [(spec.EMPTY_BALLOT_ID, genesis, None, False)]
            else:
                rows = state.ballots.get(layer, ())
                if _column(rows) and not rows.sync():
                    rows.materialize()
                if _column(rows):  # no row of a column layer is malicious
                    choices = zip(rows.ids, itertools.repeat(layer), rows.votes, itertools.repeat(False))
                else:
                    choices = ((b.id, b.layer, b.votes, b.malicious) for b in rows)
            for base_id, base_layer, base_votes, malicious in choices:
                if malicious:
                    continue
                try:
                    return spec.encode_votes_with_base(state, base_id, base_layer, base_votes, state.evicted + 1, current)
                except (spec.EncodeVotesError, spec.InvalidBallot) as error:
                    failure = error
        if failure is not None:
            raise failure
        raise spec.EncodeVotesError("no_base_ballot", "no ballots within the window")

    return encode_votes


@replaces("tortoise", "run_full", factory=True)
def _run_full_factory(spec: Any):
    def run_full(state: Tortoise) -> tuple[int, int | None]:
        """Verify layers in full mode, switching to it (and catching up on counting) if needed."""
        _track(state).full_ran = True  # it may rewrite any validity
        _dirty(state, -1)
        if not state.is_full:
            state.is_full = True
            start = max(state.full_counted + 1, state.evicted + 1)
            for layer in range(start, state.processed + 1):
                spec.count_ballots_full(state, state.ballots.get(layer, []))
                spec.count_delayed(state, layer)
                state.full_counted = layer
        expected = _expected_weight_function(spec, state)
        fixed_div_int = spec.fixed_div_int
        crosses_threshold = spec.crosses_threshold
        verify_layer = spec.verify_layer
        local = state.local_threshold
        fraction = spec.ADVERSARIAL_WEIGHT_FRACTION
        support, abstain, against = spec.SUPPORT, spec.ABSTAIN, spec.AGAINST
        verified, changed = state.evicted, None
        for target in range(state.evicted + 1, state.processed):
            threshold = fixed_div_int(expected(target), fraction) + local
            layer = spec.get_layer(state, target)
            empty = crosses_threshold(layer.empty, threshold) == support
            if not layer.blocks:
                ok, flipped = empty, False
            else:
                def decide(block: Any, threshold: int = threshold, empty: bool = empty) -> int:
                    decision = crosses_threshold(block.margin, threshold)
                    if decision == abstain and empty:
                        return against
                    return decision

                ok, flipped = verify_layer(layer.blocks, decide)
            if not ok:
                break
            if flipped and changed is None:
                changed = target
            verified = target
        return verified, changed

    return run_full


_EVICTED = object()  # key of the fast-path cache: the state's ``evicted`` when the cache was last emptied
# key of the fast-path cache, with a chunk length: (the references a chunk of on_ballots named, their entries); every
# change of an entry of the reference cache (an eviction, a pop from ballot_refs) empties the fast-path cache
_KNOWNS = object()
# id(state) -> (weak reference to it, its fast-path cache, its reference-ballot cache, its interned
# reference classes: (beacon, height) -> the one tuple used for it)
_fast_paths: dict[int, tuple[Any, dict, dict, dict]] = {}


def _fast_path_entry(state: Any) -> tuple[Any, dict, dict, dict]:
    entry = _fast_paths.get(id(state))
    if entry is None or entry[0]() is not state:
        for key in [key for key, (ref, *_) in _fast_paths.items() if ref() is None]:
            del _fast_paths[key]
        entry = _fast_paths[id(state)] = (weakref.ref(state), {}, {}, {})
    return entry


def _fast_path_cache(state: Any) -> dict:
    """{(layer, opinion hash, base id): the layer's decoded votes for it}, emptied at each eviction."""
    return _fast_path_entry(state)[1]


def _reference_cache(state: Any) -> dict:
    """{reference ballot id: (its ReferenceInfo, weight of one eligibility, its layer, its class)}: a
    small dict in place of a look-up of the reference ballot in ``ballot_refs`` (every ballot of
    the window) for every ballot. At each eviction the references it evicted are dropped (an
    entry is kept exactly while its ballot is in ``ballot_refs``: a ballot leaves it only by
    eviction, and an evicted layer never takes ballots again)."""
    return _fast_path_entry(state)[2]


_MISSING = object()
_class_of = operator.itemgetter(3)  # a row's reference class, from its reference-cache entry
_weight_of = operator.itemgetter(1)  # the weight of a row with one eligibility, from its reference-cache entry


def _bump() -> None:
    """End every run of column appends in on_ballot (something a run checked once may have changed)."""
    for reference in _ballot_runs:
        on_ballot = reference()
        if on_ballot is not None:
            on_ballot.forget_run(None)


class _Rows(list):  # type: ignore[type-arg]
    """``state.ballots[layer]`` under the impl: the layer's ballots as columns, no object per ballot.

    Column mode (``ids`` is not None): the list itself (at C level) is empty; row k is ``ids[k]``,
    ``knowns[k]`` (its reference-cache entry: ReferenceInfo, weight of one eligibility, layer of
    the reference ballot, interned (beacon, height)), ``weights[k]`` and ``votes[k]`` (the last
    two complete only after ``flush``: a run appends ids and entries), and like
    every ballot the fast path stores it is not malicious and has no bad beacon (a row the impl
    would have to mark so is turned into objects first). A row asked for by ``ballot_refs`` (a
    base or reference ballot looked up by the spec) becomes a BallotInfo once (``mat``), which is
    then the truth for that row: ``sync`` reads its votes back and gives up (False) when it was
    marked malicious or bad. Anything outside the impl that looks at the list (iteration,
    indexing, comparison, copy...) turns the whole layer into objects first (``materialize``):
    from then on it is an ordinary list of BallotInfo, and the impl reads it as such.
    ``ballot_refs`` maps the id of a column row to the ``_Rows`` (a placeholder ``_Refs`` resolves).
    """

    __slots__ = ("layer", "refs", "classes", "info", "ids", "knowns", "weights", "votes", "fill", "mat", "positions")

    def __init__(self, layer: int, refs: Any, classes: dict, info: Any) -> None:
        list.__init__(self)
        self.layer, self.refs, self.classes, self.info = layer, refs, classes, info
        self.ids: list | None = []
        self.knowns: list = []
        self.weights: list = []
        self.votes: list = []
        self.fill: Any = None  # the vote list of the rows past the end of `votes` (a run's; see flush)
        self.mat: dict = {}
        self.positions: dict | None = None

    def flush(self) -> None:
        """Complete the votes and weights columns: the rows a run appended share the run's vote
        list (``fill``), and a row the run appended without a weight has one eligibility, so its
        weight is its reference-cache entry's weight of one eligibility."""
        count = len(self.ids)  # type: ignore[arg-type]
        missing = count - len(self.votes)
        if missing:
            self.votes += [self.fill] * missing
        weights = self.weights
        if len(weights) < count:
            weights += _weights_of(self.knowns[len(weights):count])

    def find(self, ballot_id: bytes) -> int | None:
        """The row holding a stored id that is not an object yet, or None. (A column holds an id
        twice only after a pop, which turns the row popped into its object first.)"""
        ids = self.ids
        if ids is None:
            return None
        index = self.positions
        if index is None:
            try:
                k = ids.index(ballot_id, 0, 32)
            except ValueError:
                k = None
            if k is not None and k not in self.mat:
                return k
            index = self.positions = {}
        if len(index) < len(ids):
            for k in range(len(index), len(ids)):
                index[ids[k]] = k
        k = index.get(ballot_id)
        return None if k is None or k in self.mat else k

    def row(self, k: int) -> Any:
        """Row k as its BallotInfo (created once; ``ballot_refs`` then maps its id to it, if it held
        the row: as a placeholder, or as a member with no entry of its own)."""
        obj = self.mat.get(k)
        if obj is None:
            self.flush()
            ballot_id = self.ids[k]  # type: ignore[index]
            obj = self.mat[k] = self.info(ballot_id, self.layer, False, self.weights[k], self.knowns[k][0],
                                          self.votes[k])
            refs = self.refs
            value = dict.get(refs, ballot_id, _MISSING)
            if value is self or (value is _MISSING and type(refs) is _Refs and ballot_id in refs.members):
                dict.__setitem__(refs, ballot_id, obj)
        return obj

    def sync(self) -> bool:
        """Read the votes of the rows that exist as objects back; False if one was marked malicious or bad."""
        self.flush()
        votes = self.votes
        for k, obj in self.mat.items():
            if obj.malicious or obj.bad_beacon:
                return False
            votes[k] = obj.votes
        return True

    def materialize(self) -> None:
        """Turn every row into its BallotInfo and hold them as an ordinary list."""
        if self.ids is None:
            return
        self.flush()
        objects = [self.row(k) for k in range(len(self.ids))]
        if type(self.refs) is _Refs:
            self.refs.columns.pop(id(self), None)
        self.ids = self.positions = None
        self.knowns = self.weights = self.votes = []
        self.mat = {}
        list.extend(self, objects)
        _bump()

    def append(self, ballot: Any) -> None:  # the spec's store_ballot adds a decoded ballot
        if self.ids is None or type(ballot) is not self.info or ballot.layer != self.layer or ballot.malicious \
                or ballot.bad_beacon:
            self.materialize()
            list.append(self, ballot)
            return
        self.flush()
        reference = ballot.reference
        key = (reference.beacon, reference.height)
        self.mat[len(self.ids)] = ballot
        self.ids.append(ballot.id)
        self.knowns.append((reference, None, self.layer, self.classes.setdefault(key, key)))
        self.weights.append(ballot.weight)
        self.votes.append(ballot.votes)

    def __len__(self) -> int:
        ids = self.ids
        return list.__len__(self) if ids is None else len(ids)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __deepcopy__(self, memo: dict) -> Any:
        import copy

        if self.ids is not None:
            self.flush()
        new = _Rows.__new__(_Rows)
        memo[id(self)] = new
        new.fill = None
        new.layer, new.info, new.positions = self.layer, self.info, None
        new.refs = copy.deepcopy(self.refs, memo)
        new.classes = {}  # the classes of its own rows (the copy's state interns in a store of its own)
        if self.ids is None:
            new.ids, new.knowns, new.weights, new.votes, new.mat = None, [], [], [], {}
            list.extend(new, copy.deepcopy(list(list.__iter__(self)), memo))
        else:
            new.ids, new.weights = list(self.ids), list(self.weights)
            new.knowns = copy.deepcopy(self.knowns, memo)
            new.classes = {known[3]: known[3] for known in new.knowns}
            new.votes = copy.deepcopy(self.votes, memo)
            new.mat = copy.deepcopy(self.mat, memo)
        return new

    def __reduce_ex__(self, protocol: Any) -> Any:
        self.materialize()
        return (list, (list(list.__iter__(self)),))


def _materializing(name: str) -> Any:
    method = getattr(list, name)

    def wrapper(self: _Rows, *args: Any, **kwargs: Any) -> Any:
        if self.ids is not None:
            self.materialize()
        return method(self, *args, **kwargs)

    wrapper.__name__ = name
    return wrapper


for _name in ("__iter__", "__getitem__", "__setitem__", "__delitem__", "__contains__", "__reversed__", "__eq__",
              "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__add__", "__iadd__", "__mul__", "__imul__",
              "__rmul__", "__repr__", "extend", "insert", "pop", "remove", "index", "count", "sort", "reverse",
              "clear", "copy"):
    setattr(_Rows, _name, _materializing(_name))


def _column(rows: Any) -> bool:
    """Whether a list of ballots is a layer still held in columns."""
    return type(rows) is _Rows and rows.ids is not None


class _Refs(dict):  # type: ignore[type-arg]
    """``state.ballot_refs`` under the impl. Its keys are ``members`` (a set: every stored id); the
    dict itself holds only the entries that are objects or placeholders (an id mapped to the
    ``_Rows`` holding its row: a reference ballot stored as a row, a run's first row). The other
    members are *column-only*: rows of a column layer registered in ``columns`` (newest last), found
    by searching those layers, newest first, when someone asks for them. An entry read from outside
    the impl becomes the row's BallotInfo (``_Rows.row``), which the dict then holds.

    A window-wide set in place of a window-wide dict: a run's new ids enter one table of 16-byte
    slots probed in place, not an index plus an entry array, which misses the CPU caches less and
    resizes faster (docs/tortoise.md, Benchmark)."""

    __slots__ = ("members", "columns", "fast")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        dict.__init__(self, *args, **kwargs)
        self.members: set = set(dict.keys(self))
        self.columns: dict = {}  # id(rows) -> rows: the column layers whose rows may be column-only members
        self.fast: Any = None  # the state's fast-path entry (_fast_path_entry), once on_ballot has used it

    def _forget(self, key: Any) -> None:
        """An entry removed or replaced from outside the impl: what the fast path checked once about
        it (a reference ballot's cached entry, a base ballot known before its layer, a run in
        progress) no longer holds."""
        fast = self.fast
        if fast is not None:
            fast[1].clear()
            fast[2].pop(key, None)
        _bump()

    def raw(self, key: Any) -> Any:
        """The entry as stored: an object, or the ``_Rows`` holding the row; _MISSING if none."""
        value = dict.get(self, key, _MISSING)
        if value is _MISSING and key in self.members:
            for rows in reversed(self.columns.values()):
                if rows.find(key) is not None:
                    return rows
            raise AssertionError("a ballot_refs member held nowhere")  # noqa: TRY003 - an invariant
        return value

    def stored_among(self, candidates: set) -> set:
        """The candidates that are stored (with an entry in the dict, or as a column-only row)."""
        found = {key for key in candidates if dict.__contains__(self, key)}
        for rows in self.columns.values():
            ids = rows.ids
            if ids is None:
                continue
            common = candidates.intersection(ids)
            if common:
                mat = rows.mat
                found.update(key for k, key in enumerate(ids) if key in common and k not in mat)
        return found

    def _resolve(self, key: Any, value: Any) -> Any:
        if type(value) is _Rows:
            return value.row(value.find(key))  # type: ignore[arg-type]
        return value

    def _column_only(self) -> Iterator[tuple[_Rows, int, bytes]]:
        """(layer, row, id) of each column-only member, in their layers' order."""
        members = self.members
        for rows in list(self.columns.values()):
            ids = rows.ids
            if ids is None:
                continue
            mat = rows.mat
            for k, key in enumerate(ids):
                if k not in mat and key in members and not dict.__contains__(self, key):
                    yield rows, k, key

    def _resolve_all(self) -> None:
        """Turn every row this maps to into its object (the dict then holds every entry)."""
        for key, value in list(dict.items(self)):
            if type(value) is _Rows:
                value.row(value.find(key))  # type: ignore[arg-type]
        for rows, k, _ in self._column_only():
            rows.row(k)

    def __contains__(self, key: Any) -> bool:
        return key in self.members

    def __len__(self) -> int:
        return len(self.members)

    def __getitem__(self, key: Any) -> Any:
        value = self.raw(key)
        if value is _MISSING:
            raise KeyError(key)
        return self._resolve(key, value)

    def get(self, key: Any, default: Any = None) -> Any:
        value = self.raw(key)
        return default if value is _MISSING else self._resolve(key, value)

    def __setitem__(self, key: Any, value: Any) -> None:
        if key in self.members:
            self._resolve(key, self.raw(key))  # a row replaced: its object first, as for a pop
            self._forget(key)
        dict.__setitem__(self, key, value)
        self.members.add(key)

    def __delitem__(self, key: Any) -> None:
        self.pop(key)

    def pop(self, key: Any, *default: Any) -> Any:
        value = self.raw(key)
        if value is _MISSING:
            return dict.pop(self, key, *default)
        value = self._resolve(key, value)
        dict.pop(self, key)
        self.members.discard(key)
        self._forget(key)
        return value

    def setdefault(self, key: Any, default: Any = None) -> Any:
        value = self.raw(key)
        if value is _MISSING:
            self[key] = default
            return default
        return self._resolve(key, value)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other: Any) -> Any:
        self.update(other)
        return self

    def __or__(self, other: Any) -> Any:
        self._resolve_all()
        return dict.__or__(dict(dict.items(self)), other)

    def __ror__(self, other: Any) -> Any:
        self._resolve_all()
        return dict.__or__(dict(other), dict(dict.items(self)))

    def clear(self) -> None:
        self._resolve_all()
        dict.clear(self)
        self.members.clear()
        if self.fast is not None:
            self.fast[2].clear()
        self._forget(None)

    def _keys(self) -> list:
        """Every key: the dict's, then the column-only members in their layers' order."""
        keys = list(dict.keys(self))
        keys.extend(key for _, _, key in self._column_only())
        return keys

    def __iter__(self) -> Any:  # not dict's own: dict(refs) and update(refs) then read through keys()
        return iter(self._keys())

    def __reversed__(self) -> Any:
        return reversed(self._keys())

    def keys(self) -> Any:
        return dict.fromkeys(self._keys()).keys()

    def values(self) -> Any:
        self._resolve_all()
        return dict.values(self)

    def items(self) -> Any:
        self._resolve_all()
        return dict.items(self)

    def popitem(self) -> Any:
        self._resolve_all()
        item = dict.popitem(self)
        self.members.discard(item[0])
        self._forget(item[0])
        return item

    def copy(self) -> dict:
        self._resolve_all()
        return dict(dict.items(self))

    def __eq__(self, other: Any) -> bool:
        self._resolve_all()
        return dict.__eq__(self, other)  # type: ignore[no-any-return]

    def __ne__(self, other: Any) -> bool:
        self._resolve_all()
        return dict.__ne__(self, other)  # type: ignore[no-any-return]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        self._resolve_all()
        return dict.__repr__(self)

    def __deepcopy__(self, memo: dict) -> Any:
        import copy

        new = _Refs()
        memo[id(self)] = new
        for key, value in dict.items(self):
            dict.__setitem__(new, key, copy.deepcopy(value, memo))
        new.members = set(self.members)
        for rows in self.columns.values():
            copied = copy.deepcopy(rows, memo)
            new.columns[id(copied)] = copied
        return new

    def __reduce_ex__(self, protocol: Any) -> Any:
        self._resolve_all()
        return (dict, (dict(dict.items(self)),))


# The last answers of _weights_of and _total, which a layer's columns repeat when its ballots name the same
# references in the same order as the layer before: [argument (a copy), answer]. Both are pure functions of their
# argument (compared by value, elements by identity first), so an answer serves any state.
_weights_memo: list = [None, None]
_total_memo: list = [None, 0]


def _weights_of(knowns: list) -> list:
    """The weights of rows of one eligibility, from their reference-cache entries (a new list)."""
    if knowns != _weights_memo[0]:  # (a list first: extend from a map of unknown length grows the list step by step)
        _weights_memo[:] = [knowns, list(map(_weight_of, knowns))]
    return _weights_memo[1][:]  # type: ignore[no-any-return]


def _total(weights: list) -> int:
    """sum(weights)."""
    if weights != _total_memo[0]:
        _total_memo[:] = [weights[:], sum(weights)]
    return _total_memo[1]  # type: ignore[no-any-return]


def _groups(rows: _Rows) -> Any:
    """A column layer's rows summed per (vote list, reference class): [[votes, (beacon, height), weight]]."""
    rows.flush()
    votes, knowns, weights = rows.votes, rows.knowns, rows.weights
    if not votes:
        return []
    first_votes, first_class = votes[0], knowns[0][3]
    count = len(votes)
    # rows.classes interned the class of every row (a superset for a live state's store): one class there is one
    # class here
    if votes.count(first_votes) == count and (len(rows.classes) == 1
                                              or list(map(_class_of, knowns)).count(first_class) == count):
        return [[first_votes, first_class, _total(weights)]]
    groups: dict = {}
    for vote, known, weight in zip(votes, knowns, weights):
        key = (id(vote), known[3])
        group = groups.get(key)
        if group is None:
            groups[key] = [vote, known[3], weight]
        else:
            group[2] += weight
    return list(groups.values())




@replaces("tortoise", "on_ballot", factory=True)
def _on_ballot_factory(spec: Any):
    empty_ballot_id = spec.EMPTY_BALLOT_ID
    BallotInfo = spec.BallotInfo
    ReferenceInfo = spec.ReferenceInfo
    reduce_fraction = spec.reduce_fraction

    # The run of column appends in progress: the last ballot's opinion object, layer and state
    # (held only while the run lasts), and what every ballot of the run shares: its decoded votes,
    # the reference-ballot cache, `ballot_refs` and the layer's `_Rows` (its column appends). A
    # ballot with the same opinion object, layer and state continues the run. Every run ends
    # (`_bump`) at each eviction, at each count of a layer (processed rises) and when a layer
    # turns into objects: the only changes that can end what the run checked once.
    run_opinion: Any = None
    run_layer = -1
    run_state: Any = None
    run_references: dict = {}
    run_refs: Any = {}
    run_members: set = set()
    run_cache: dict = {}
    run_rows: Any = None
    run_classes: dict = {}
    ids_append: Any = None
    knowns_append: Any = None
    fractions: dict = {}  # (ATX weight, eligibilities) -> reference_fraction's answer
    # on_ballots' first chunk size: 8, or, after a call whose last run was taken whole to its end, the size of
    # that run's last chunk (up to 4096): the next call's run is taken in one chunk when it is as long
    opening = 8

    def slow(state: Any, ballot: Any) -> None:
        decoded = spec.decode_ballot(state, ballot)
        info = decoded.info
        ballots = state.ballots
        if info.layer > state.evicted and info.layer not in ballots and info.id not in state.ballot_refs:
            ballots[info.layer] = _Rows(info.layer, state.ballot_refs, _fast_path_entry(state)[3], BallotInfo)
        spec.store_ballot(state, decoded)

    def fast_votes(state: Any, layer_id: int, opinion: Any, refs: Any) -> Any:
        """The layer's decoded votes for this opinion if the fast path applies to it, else None."""
        _, cache, references, _ = _fast_path_entry(state)
        evicted = state.evicted
        if cache.get(_EVICTED) != evicted:  # an eviction happened: forget every layer and evicted reference
            cache.clear()
            cache[_EVICTED] = evicted
            for ref_id in [ref_id for ref_id, known in references.items() if known[2] <= evicted]:
                del references[ref_id]
        key = (layer_id, opinion.hash, opinion.votes.base)
        votes = cache.get(key)
        if votes is None:
            layer = state.layers.get(layer_id)
            votes = layer.opinions.get(opinion.hash) if layer is not None else None
            if votes is None or layer_id <= state.evicted:
                return None
            base_id = opinion.votes.base
            if base_id != empty_ballot_id:
                base = refs.raw(base_id)
                if base is _MISSING or base.layer >= layer_id:
                    return None
            elif spec.effective_genesis(state.config) >= layer_id:
                return None
            if len(cache) >= 4096:
                cache.clear()
                cache[_EVICTED] = state.evicted
            cache[key] = votes
        return votes

    def resolve(state: Any, ballot: Any, refs: Any, references: dict, classes: dict) -> Any:
        """A ballot's reference-cache entry: its reference ballot's (cached on first use), or a new
        one for a reference ballot; None where the spec's decode_ballot must decide."""
        epoch_data = ballot.epoch_data
        if epoch_data is None:
            ref_id = ballot.ref
            if ref_id is None:
                return None
            known = references.get(ref_id)
            if known is not None:
                return known
            ref = refs.raw(ref_id)
            if ref is _MISSING:
                return None
            if type(ref) is _Rows:
                reference_known = ref.knowns[ref.find(ref_id)]  # type: ignore[index]
                reference, per_eligibility = reference_known[0], reference_known[1]
            else:
                reference, per_eligibility = ref.reference, None
                if reference is None:
                    return None
            if per_eligibility is None:
                per_eligibility = spec.ballot_weight(reference.weight_numerator, reference.weight_denominator, 1)
            key = (reference.beacon, reference.height)
            known = references[ref_id] = (reference, per_eligibility, ref.layer, classes.setdefault(key, key))
            return known
        atx = state.atxs.get(ballot.layer // state.config.layers_per_epoch, {}).get(ballot.atx_id)
        eligibilities = epoch_data.eligibilities
        if atx is None or eligibilities == 0:
            return None
        weight = atx.weight
        fraction = fractions.get((weight, eligibilities)) if type(weight) is int and type(eligibilities) is int \
            else None
        if fraction is None:
            fraction = reference_fraction(weight, eligibilities)
        reference = ReferenceInfo(ballot.smesher, ballot.atx_id, eligibilities, epoch_data.beacon, atx.height,
                                  fraction[0], fraction[1])
        key = (epoch_data.beacon, atx.height)
        return (reference, fraction[2], ballot.layer, classes.setdefault(key, key))

    def reference_fraction(weight: int, eligibilities: int) -> tuple[int, int, int]:
        """A reference ballot's per-eligibility weight (numerator, denominator, weight of one
        eligibility), memoized in ``fractions`` for int operands (the ATXs of an epoch mostly
        share a weight, and every reference ballot names the epoch's eligibility count)."""
        if weight >= 0 and eligibilities > 0:  # reduce_fraction's Euclid, in C
            divisor = math.gcd(weight, eligibilities)
            numerator, denominator = weight // divisor, eligibilities // divisor
        else:
            numerator, denominator = reduce_fraction(weight, eligibilities)
        fraction = (numerator, denominator, spec.ballot_weight(numerator, denominator, 1))
        if type(weight) is int and type(eligibilities) is int:
            if len(fractions) >= 4096:
                fractions.clear()
            fractions[(weight, eligibilities)] = fraction
        return fraction

    def enter(state: Any, ballot: Any) -> None:
        """A ballot that does not continue the run: store it without decoding if the fast path
        applies (as a column row, starting a run, or as an object when it is malicious or its
        layer is already counted), else through the spec's decode_ballot and store_ballot."""
        nonlocal run_opinion, run_layer, run_state, run_references, run_refs, run_members, run_cache
        nonlocal run_rows, run_classes, ids_append, knowns_append
        refs = state.ballot_refs
        if type(refs) is not _Refs:
            refs = state.ballot_refs = _Refs(refs)
        layer_id = ballot.layer
        opinion = ballot.opinion
        entry = refs.fast = _fast_path_entry(state)
        votes = fast_votes(state, layer_id, opinion, refs)
        if votes is None:
            return slow(state, ballot)
        _, _, references, classes = entry
        known = resolve(state, ballot, refs, references, classes)
        if known is None:
            return slow(state, ballot)
        ballot_id = ballot.id
        if ballot_id in refs.members:  # a ballot already stored: the spec decides
            return slow(state, ballot)
        malicious = ballot.malicious or (state.malicious_nodes and ballot.smesher in state.malicious_nodes)
        ballots = state.ballots
        rows = ballots.get(layer_id)
        if rows is None:
            rows = ballots[layer_id] = _Rows(layer_id, refs, classes, BallotInfo)
        eligibilities = ballot.eligibilities
        weight = known[1] if eligibilities == 1 else known[1] * eligibilities
        if malicious or layer_id <= state.processed or not _column(rows) or rows.refs is not refs \
                or rows.classes is not classes:
            info = BallotInfo(ballot_id, layer_id, bool(malicious), 0 if malicious else weight, known[0], votes)
            rows.append(info)
            dict.__setitem__(refs, ballot_id, info)
            refs.members.add(ballot_id)
            if ballot.epoch_data is not None:  # a reference ballot: the entry resolve would make for it
                references[ballot_id] = known
            if layer_id <= state.processed:
                spec.count_ballot_or_retry(state, info)
            return None
        rows.flush()
        dict.__setitem__(refs, ballot_id, rows)
        refs.members.add(ballot_id)
        refs.columns[id(rows)] = rows  # the run appends column-only members to it
        if ballot.epoch_data is not None:  # a reference ballot: the entry resolve would make for it
            references[ballot_id] = known
        rows.ids.append(ballot_id)
        rows.knowns.append(known)
        rows.weights.append(weight)
        rows.votes.append(votes)
        rows.fill = votes  # the votes of the rows the run appends
        run_opinion, run_layer, run_state = opinion, layer_id, state
        run_references, run_refs, run_rows, run_classes = references, refs, rows, classes
        run_members, run_cache = refs.members, entry[1]
        ids_append, knowns_append = rows.ids.append, rows.knowns.append
        return None

    def on_ballot(state: Tortoise, ballot: BallotData) -> None:
        """Decode and store a ballot in one step.

        Fast path for the common case, a ballot whose signed opinion hash is already known in its
        layer (every honest ballot after the first of its layer) and whose base ballot is known:
        no vote decoding, no block resolution, and no object: the ballot becomes a row of its
        layer's columns (``_Rows``). What the spec's decode_ballot would check about the layer,
        the opinion and the base is the same for every ballot of the layer with the same opinion
        hash and base, so it is checked once and remembered until the next eviction; the last
        opinion object seen is recognised by identity, without a lookup (``enter``).
        Anything else goes through the spec's decode_ballot and store_ballot.
        """
        if ballot.opinion is run_opinion and ballot.layer == run_layer and state is run_state \
                and not ballot.malicious:
            try:
                known = run_references[ballot.ref] if ballot.epoch_data is None else None
            except KeyError:
                known = None
            if known is None:
                known = resolve(state, ballot, run_refs, run_references, run_classes)
            if known is not None:
                ballot_id = ballot.id
                if ballot_id not in run_members and not (state.malicious_nodes and ballot.smesher in state.malicious_nodes):
                    run_members.add(ballot_id)
                    ids_append(ballot_id)
                    knowns_append(known)
                    if ballot.epoch_data is not None:  # a reference ballot: the entry resolve would make for it,
                        run_references[ballot_id] = known  # and a placeholder (found without a search)
                        dict.__setitem__(run_refs, ballot_id, run_rows)
                    eligibilities = ballot.eligibilities
                    if eligibilities != 1:  # a row of one eligibility gets its weight at the next flush
                        run_rows.flush()
                        run_rows.weights[-1] = known[1] * eligibilities
                    return None
        return enter(state, ballot)

    def take(state: Any, chunk: list) -> int:
        """How many ballots at the start of `chunk` continue the run of ``state`` (in progress):
        they are stored as on_ballot's run path above stores them, in bulk. The same checks are
        made with C-level maps over the chunk before anything is stored; nothing the run stores
        changes them (no malicious identity, no layer count), except the ids it adds to
        ``ballot_refs`` (a second copy of an id in the chunk is checked against them; a ballot
        naming a reference stored in the chunk itself is left to on_ballot) and the reference
        ballots it adds to the reference cache once stored.
        Anything unusual (an exception while checking) leaves the chunk to on_ballot."""
        references, refs = run_references, run_refs
        opinion, layer_id = run_opinion, run_layer
        try:
            # each check over the whole chunk at once; where one fails, the chunk is cut before the
            # first ballot that fails it
            with_epoch_data: Any = ()  # the reference ballots of the chunk (positions)
            plain = True  # every ballot continues the run, without epoch data, with one eligibility
            # the ids of the ballots that are plain, in the same pass (plain: all of them)
            ids = [ballot.id for ballot in chunk if not (ballot.opinion is not opinion or ballot.layer != layer_id
                   or ballot.malicious or ballot.epoch_data is not None or ballot.eligibilities != 1)]
            if len(ids) != len(chunk):
                plain = False
                if [ballot for ballot in chunk if ballot.opinion is not opinion or ballot.layer != layer_id
                        or ballot.malicious]:
                    chunk = chunk[:_first(chunk, lambda ballot: ballot.opinion is not opinion
                                          or ballot.layer != layer_id or ballot.malicious)]
                with_epoch_data = [k for k, ballot in enumerate(chunk) if ballot.epoch_data is not None]
                ids = [ballot.id for ballot in chunk]
            resolved = False  # every entry of knowns is made (and none is None)
            if len(with_epoch_data) == len(chunk):  # reference ballots only (or an empty chunk)
                knowns = [None] * len(chunk)  # on_ballot's resolve decides a reference ballot
            else:
                ref_ids = [ballot.ref for ballot in chunk]
                memo = run_cache.get((_KNOWNS, len(ref_ids)))
                if memo is not None and not with_epoch_data and memo[0] == ref_ids:
                    knowns = memo[1][:]  # the entries of the same references, in the same order, as a chunk before
                    resolved = True  # (a memo holds entries only, no None)
                else:
                    knowns = list(map(references.get, ref_ids))
                    if not with_epoch_data and all(knowns):
                        run_cache[(_KNOWNS, len(ref_ids))] = (ref_ids, knowns[:])
                for k in with_epoch_data:
                    knowns[k] = None  # on_ballot's resolve decides a reference ballot
            if not resolved and not all(knowns):  # a reference not cached yet, or a reference ballot: on_ballot's
                # resolve, in its place
                atxs = state.atxs.get(layer_id // state.config.layers_per_epoch, {})
                classes = run_classes
                # the last fraction and class made, reused while the next reference ballot's (int) ATX weight and
                # eligibilities, and (bytes) beacon and (int) height, are equal to theirs
                last_fraction: Any = (None, None, None)
                last_class: Any = (None, None, None)
                for k, known in enumerate(knowns):
                    if known is None:
                        ballot = chunk[k]
                        epoch_data = ballot.epoch_data
                        if epoch_data is not None:  # resolve's entry for a reference ballot, inline
                            atx = atxs.get(ballot.atx_id)
                            eligibilities = epoch_data.eligibilities
                            if atx is not None and eligibilities != 0:
                                weight = atx.weight
                                if type(weight) is int and type(eligibilities) is int:
                                    if weight == last_fraction[0] and eligibilities == last_fraction[1]:
                                        fraction = last_fraction[2]
                                    else:
                                        fraction = fractions.get((weight, eligibilities))
                                        if fraction is None:
                                            fraction = reference_fraction(weight, eligibilities)
                                        last_fraction = (weight, eligibilities, fraction)
                                else:
                                    fraction = reference_fraction(weight, eligibilities)
                                height, beacon = atx.height, epoch_data.beacon
                                if type(beacon) is bytes and type(height) is int and beacon == last_class[0] \
                                        and height == last_class[1]:
                                    reference_class = last_class[2]
                                else:
                                    key = (beacon, height)
                                    reference_class = classes.setdefault(key, key)
                                    last_class = (beacon, height, reference_class)
                                known = knowns[k] = (ReferenceInfo(ballot.smesher, ballot.atx_id, eligibilities, beacon,
                                                                   height, fraction[0], fraction[1]),
                                                     fraction[2], layer_id, reference_class)
                                continue
                        known = knowns[k] = resolve(state, ballot, refs, references, classes)
                        if known is None:
                            del chunk[k:], knowns[k:]
                            break
            malicious_nodes = state.malicious_nodes
            if malicious_nodes:
                chunk = chunk[:_first(chunk, lambda ballot: ballot.smesher in malicious_nodes)]
            count = len(chunk)
            if not count:
                return 0
            eligibilities = None
            if not plain and [ballot for ballot in chunk if ballot.eligibilities != 1]:
                eligibilities = [ballot.eligibilities for ballot in chunk]
        except Exception:  # noqa: BLE001 - on_ballot raises it, in its place
            return 0
        del ids[count:], knowns[count:]
        rows = run_rows
        members = run_members
        size = len(members)
        members.update(ids)
        if len(members) - size != count:  # an id stored before, or twice in the chunk: the rows before it
            candidates = set(ids)
            before = refs.stored_among(candidates)
            members.difference_update(candidates - before)
            seen: set = set()
            for k, ballot_id in enumerate(ids):
                if ballot_id in seen or ballot_id in before:
                    count = k
                    break
                seen.add(ballot_id)
            del ids[count:], knowns[count:]
            if eligibilities is not None:
                del eligibilities[count:]
            if not count:
                return 0
            members.update(ids)
        if eligibilities is None:  # rows of one eligibility get their weights at the next flush
            rows.ids.extend(ids)
            rows.knowns.extend(knowns)
        else:
            rows.flush()
            rows.ids.extend(ids)
            rows.knowns.extend(knowns)
            rows.votes.extend(itertools.repeat(rows.fill, count))
            rows.weights.extend([known[1] * eligibility if eligibility != 1 else known[1]
                                 for known, eligibility in zip(knowns, eligibilities)])
        if with_epoch_data:  # a reference ballot stored: the entry resolve would make for it, and a placeholder
            if len(with_epoch_data) == count and with_epoch_data[-1] == count - 1:  # positions 0 .. count-1 (ascending,
                # distinct): every ballot stored is a reference ballot (an epoch's first layer)
                references.update(zip(ids, knowns))
                dict.update(refs, dict.fromkeys(ids, rows))
            else:
                for k in with_epoch_data:
                    if k < count:
                        references[ids[k]] = knowns[k]
                        dict.__setitem__(refs, ids[k], rows)
        return count

    def on_ballots(state: Tortoise, ballots: Sequence[BallotData]) -> list[InvalidBallot | None]:
        """The spec's on_ballots: on_ballot on each ballot, in order, each refusal in its place.

        After a ballot that leaves a run in progress (see on_ballot), the ballots that continue it
        are taken in bulk (``take``), in chunks that grow while they are taken whole (8, 32,
        128... ballots); a first chunk cut before its fourth ballot sends the next 17 ballots
        through on_ballot one by one (runs are short there: opinions interleaved), and so does
        every ballot that does not continue a run.
        """
        nonlocal opening
        if type(ballots) is not list:
            ballots = list(ballots)
        count = len(ballots)
        refusals: list = [None] * count
        invalid = spec.InvalidBallot
        k, one_by_one = 0, 1
        while k < count:
            end = min(count, k + one_by_one)
            for index in range(k, end):
                try:
                    on_ballot(state, ballots[index])
                except invalid as error:
                    refusals[index] = error
            k, one_by_one = end, 1
            if k < count and run_state is state and ballots[k].opinion is run_opinion:
                size = opening
                while True:
                    length = min(size, count - k)  # (take may shorten the list it is given)
                    taken = take(state, ballots[k:k + size])
                    k += taken
                    if taken < length:  # cut: start small again
                        if taken < 4 and size == 8:  # short runs: the next 17 ballots one by one
                            one_by_one = 17
                        opening = 8
                        break
                    if k >= count:  # taken whole to the end: the next call opens with this size
                        opening = min(size, 4096)
                        break
                    size *= 4
        return refusals

    def forget_run(state: Any) -> None:
        """End the run (of this state; None: of any state), and hold nothing of it."""
        nonlocal run_opinion, run_layer, run_state, run_references, run_refs, run_members, run_cache
        nonlocal run_rows, run_classes, ids_append, knowns_append
        if state is None or run_state is state:
            run_opinion, run_layer, run_state = None, -1, None
            run_references, run_refs, run_rows, run_classes = {}, {}, None, {}
            run_members, run_cache = set(), {}
            ids_append = knowns_append = None

    on_ballot.forget_run = forget_run  # type: ignore[attr-defined]
    on_ballot.batch = on_ballots  # type: ignore[attr-defined]
    _ballot_runs[:] = [reference for reference in _ballot_runs if reference() is not None]
    _ballot_runs.append(weakref.ref(on_ballot))
    return on_ballot


_ballot_runs: list = []  # weak references to the on_ballot replacements made, for _bump (a WeakSet iterates slowly)


def _first(items: list, test: Any) -> int:
    """The index of the first item that passes `test` (the length if none does)."""
    for k, item in enumerate(items):
        if test(item):
            return k
    return len(items)


@replaces("tortoise", "on_ballots", factory=True)
def _on_ballots_factory(spec: Any):
    on_ballots_spec = registry_original(spec, "on_ballots")

    def on_ballots(state: Tortoise, ballots: Sequence[BallotData]) -> list[InvalidBallot | None]:
        """Decode and store ballots in order; each one's refusal, or None where it was stored."""
        batch = getattr(spec.on_ballot, "batch", None)  # the impl's on_ballot, whose runs it shares
        if batch is None:
            return on_ballots_spec(state, ballots)  # type: ignore[no-any-return]
        return batch(state, ballots)  # type: ignore[no-any-return]

    return on_ballots


def _cut_list(votes: Any, layer: int) -> int:
    """The spec's cut_votes_before on a vote list, saying what it did: 0 nothing, 1 cut a shared
    link, 2 the ballot's votes are to be dropped (set to None)."""
    current = votes
    while current is not None:
        if current.prev is not None and current.prev.layer < layer:
            current.prev = None
            return 1
        if current.layer < layer:
            return 2
        current = current.prev
    return 0


def _cut_votes_before(ballot: Any, layer: int) -> int:
    """The spec's cut_votes_before, saying what it did (see _cut_list)."""
    outcome = _cut_list(ballot.votes, layer)
    if outcome == 2:
        ballot.votes = None
    return outcome


@replaces("tortoise", "evict", factory=True)
def _evict_factory(spec: Any):
    def evict(state: Tortoise) -> None:
        """Drop layers, ballots, epochs and ATXs older than the window.

        The vote lists of the ballots at the window start are cut once per run of ballots sharing
        one vote list: after a cut that dropped a ballot's votes or did nothing, the list is
        unchanged and every following ballot with it gets the same outcome; after a cut of a
        shared link the next ballot walks the changed list again, as in the spec.
        """
        config = state.config
        verified = state.verified
        if verified <= spec.effective_genesis(config) + config.hdist:
            return
        size = spec.window_size_for(config, verified)
        if verified < size:
            return
        window_start = verified - size
        if window_start <= state.evicted:
            return
        if state.pending != 0 and state.pending < window_start:
            return
        refs = state.ballot_refs
        ballots = state.ballots
        for layer in range(state.evicted + 1, window_start):
            rows = ballots.pop(layer, ())
            ids = rows.ids if _column(rows) else [ballot.id for ballot in rows]
            if type(refs) is _Refs:
                refs.members.difference_update(ids)
                refs.columns.pop(id(rows), None)
            _consume(map(dict.pop, itertools.repeat(refs, len(ids)), ids, itertools.repeat(None)))
            state.layers.pop(layer, None)
            if spec.ordinal_in_epoch(config, layer) == config.layers_per_epoch - 1:
                state.epochs.pop(spec.epoch_of(config, layer), None)
                state.atxs.pop(spec.epoch_of(config, layer), None)
        rows = ballots.get(window_start, ())
        if _column(rows) and not rows.sync():
            rows.materialize()
        if _column(rows) and rows and rows.votes.count(rows.votes[0]) == len(rows):
            # one vote list: cut it until a cut drops it or changes nothing; that outcome holds for the rest
            column, objects = rows.votes, rows.mat
            count, first = len(column), column[0]
            k, outcome = 0, 1
            while k < count and outcome == 1:
                outcome = _cut_list(first, window_start)
                k += 1
            if outcome == 2:  # rows k-1 .. count-1 lose their votes
                column[k - 1:] = [None] * (count - k + 1)
                for row, ballot in objects.items():
                    if row >= k - 1:
                        ballot.votes = None
        elif _column(rows):  # the same cuts on the votes column (and on the rows that exist as objects)
            column, objects = rows.votes, rows.mat
            last_votes: Any = _NOT_VOTES
            outcome = 1
            for k, votes in enumerate(column):
                if votes is last_votes and outcome != 1:
                    if outcome == 2:
                        column[k] = None
                        if k in objects:
                            objects[k].votes = None
                    continue
                last_votes, outcome = votes, _cut_list(votes, window_start)
                if outcome == 2:
                    column[k] = None
                    if k in objects:
                        objects[k].votes = None
        else:
            last_votes = _NOT_VOTES
            outcome = 1
            for ballot in rows:
                votes = ballot.votes
                if votes is last_votes and outcome != 1:
                    if outcome == 2:
                        ballot.votes = None
                    continue
                last_votes, outcome = votes, _cut_votes_before(ballot, window_start)
        first = state.layers.get(window_start)
        if first is not None and first.previous is not None:
            first.previous = spec.LayerInfo(layer=window_start - 1, opinion=first.previous.opinion)
        state.evicted = window_start - 1
        _bump()

    return evict


_NOT_VOTES = object()
_consume = collections.deque(maxlen=0).extend  # runs an iterator to its end, keeping nothing


@replaces("tortoise", "count_ballots", factory=True)
def _count_ballots_factory(spec: Any):
    unknown = object()
    no_opinion = b"\x00" * 32

    def count_columns(state: Any, rows: _Rows) -> bool:
        """count_ballots on a layer held in columns, once per group of rows with the same vote list
        and reference class; False (nothing changed) when a row would get a bad beacon or wait
        for the epoch's beacon, which the object path does."""
        layer_id = rows.layer
        if not rows.ids or layer_id - 1 <= state.evicted:
            return True
        groups = _groups(rows)
        local = spec.get_epoch(state, spec.epoch_of(state.config, layer_id)).beacon
        if local is None or any(group[1][0] != local for group in groups):
            return False
        previous = spec.get_layer(state, layer_id - 1)
        good = 0
        for votes, reference_class, weight in groups:
            if previous.opinion == spec.votes_opinion(votes) and previous.reference_height <= reference_class[1]:
                good += weight
        if good:
            for layer in range(layer_id, state.processed + 1):
                spec.get_layer(state, layer).good_uncounted += good
            state.total_good_weight += good
        if layer_id <= state.full_counted:
            for votes, reference_class, weight in groups:
                _walk_full(spec, state, votes, reference_class[1], weight)
        return True

    def count_ballots(state: Tortoise, ballots: list[BallotInfo]) -> None:
        """Count a processed layer's ballots; queue those whose epoch beacon is unknown.

        The beacon comparison is made once per (epoch, declared beacon), the goodness test reads
        the previous layer once per ballot layer and compares a vote list's opinion once, and the
        good weight is summed per layer before it is added to the layers it does not vote on.
        """
        if type(ballots) is _Rows:
            _bump()  # its layer is being processed: a run of ballots appended to it ends here
            if _column(ballots):
                if ballots.sync() and count_columns(state, ballots):
                    return
                ballots.materialize()
        evicted = state.evicted
        length = state.config.layers_per_epoch
        full_counted = state.full_counted
        retriable = state.retriable
        beacons: dict = {}
        previous_layers: dict = {}
        good_weight: dict = {}
        agrees: dict = {}  # (id of vote list, layer) -> its opinion is the previous layer's
        for_full = []
        # the previous ballot's layer, beacon and vote list (by identity) and what they decided
        last_layer, last_beacon, last_votes = None, None, None
        bad = agree = False
        previous_height = 0
        run_layer, run_weight = None, 0  # good weight of the current run of ballots of one layer
        for ballot in ballots:
            layer_id = ballot.layer
            reference = ballot.reference
            beacon = reference.beacon
            votes = ballot.votes
            if layer_id != last_layer or beacon is not last_beacon or votes is not last_votes:
                if layer_id - 1 <= evicted:
                    continue
                key = (layer_id // length, beacon)
                bad = beacons.get(key, unknown)
                if bad is unknown:
                    bad = beacons[key] = spec.bad_beacon(state, ballot)
                if bad is None:
                    last_layer = None
                    retriable.append(ballot)
                    continue
                agree = False
                if not bad:
                    previous = previous_layers.get(layer_id)
                    if previous is None:
                        previous = previous_layers[layer_id] = spec.get_layer(state, layer_id - 1)
                    previous_height = previous.reference_height
                    agree_key = (id(votes), layer_id)
                    agree = agrees.get(agree_key)
                    if agree is None:
                        opinion = votes.opinion if votes is not None else no_opinion
                        agree = agrees[agree_key] = previous.opinion == opinion
                last_layer, last_beacon, last_votes = layer_id, beacon, votes
                if layer_id != run_layer:
                    if run_weight:
                        good_weight[run_layer] = good_weight.get(run_layer, 0) + run_weight
                    run_layer, run_weight = layer_id, 0
            ballot.bad_beacon = bad
            if agree and previous_height <= reference.height:
                run_weight += ballot.weight
            if layer_id <= full_counted:
                for_full.append(ballot)
        if run_weight:
            good_weight[run_layer] = good_weight.get(run_layer, 0) + run_weight
        for layer_id, weight in good_weight.items():
            for layer in range(layer_id, state.processed + 1):
                spec.get_layer(state, layer).good_uncounted += weight
            state.total_good_weight += weight
        spec.count_ballots_full(state, for_full)

    return count_ballots
