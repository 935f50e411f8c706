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
* ``on_ballot``: a ballot whose opinion is already known in its layer is stored without decoding;
  the last opinion object is recognised by identity, and reference ballots are looked up in a
  small per-state cache (pruned at each eviction) rather than in ``ballot_refs``.
* ``count_ballots``: a run of ballots with the same layer, beacon and vote list is judged once.
* ``evict``: the vote lists at the window start are cut once per run of ballots sharing one.
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

import weakref
from typing import TYPE_CHECKING, Any

from smspec.impl.registry import original as registry_original
from smspec.impl.registry import replaces

if TYPE_CHECKING:
    from smspec.spec.tortoise import (
        BallotData,
        BallotInfo,
        BlockHeader,
        BlockInfo,
        LayerVote,
        Opinion,
        Tortoise,
    )

_MASK64 = (1 << 64) - 1
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
            for ballot in state.ballots.get(layer, ()):
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
            for ballot in state.ballots.get(target, ()):
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
        total = state.total_good_weight
        local = state.local_threshold
        fraction = spec.ADVERSARIAL_WEIGHT_FRACTION
        settle_until = state.last - state.config.hdist  # beyond hdist: decided by validity from now on
        settled = start - 1
        lowest = track.lowest if start > first else None
        # targets first .. start-1 are settled: they pass, and verify_layer would change nothing
        verified, changed = start - 1, None
        for target in range(start, state.processed):
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

            def decide(block: Any, reference_height: int = reference_height) -> int:
                if block.height > reference_height:
                    return 0
                return local_vote(state, state.verified, state.last, block)[0]

            ok, flipped = verify_layer(layer.blocks, decide)
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
        decoded, _ = spec.decode_votes(current, base_layer, base_votes, votes)
        return spec.Opinion(hash=spec.votes_opinion(decoded), votes=votes)

    return encode_votes_with_base


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
                choices = ((b.id, b.layer, b.votes, b.malicious) for b in state.ballots.get(layer, ()))
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
# id(state) -> (weak reference to it, its fast-path cache, its reference-ballot cache)
_fast_paths: dict[int, tuple[Any, dict, dict]] = {}


def _fast_path_entry(state: Any) -> tuple[Any, dict, dict]:
    entry = _fast_paths.get(id(state))
    if entry is None or entry[0]() is not state:
        for key in [key for key, (ref, _, _) in _fast_paths.items() if ref() is None]:
            del _fast_paths[key]
        entry = _fast_paths[id(state)] = (weakref.ref(state), {}, {})
    return entry


def _fast_path_cache(state: Any) -> dict:
    """{(layer, opinion hash, base id): the layer's decoded votes for it}, emptied at each eviction."""
    return _fast_path_entry(state)[1]


def _reference_cache(state: Any) -> dict:
    """{reference ballot id: (its ReferenceInfo, weight of one eligibility or None, its layer)}: a
    small dict in place of a look-up of the reference ballot in ``ballot_refs`` (every ballot of
    the window) for every ballot. At each eviction the references it evicted are dropped (an
    entry is kept exactly while its ballot is in ``ballot_refs``: a ballot leaves it only by
    eviction, and an evicted layer never takes ballots again)."""
    return _fast_path_entry(state)[2]


@replaces("tortoise", "on_ballot", factory=True)
def _on_ballot_factory(spec: Any):
    empty_ballot_id = spec.EMPTY_BALLOT_ID
    BallotInfo = spec.BallotInfo
    ReferenceInfo = spec.ReferenceInfo
    reduce_fraction = spec.reduce_fraction

    def dead() -> None:
        return None

    # The run of fast-path ballots in progress: the last one's opinion object and layer, the
    # state (weakly) and its `evicted` then, and what every ballot of the run shares: the decoded
    # votes, the state's reference-ballot cache and the layer's list in `state.ballots`. A ballot
    # with the same opinion object, layer and state, with no eviction since, continues the run
    # without any lookup: only an eviction removes a layer's list (the spec never replaces the
    # `ballots` dict, nor a list in it).
    run_opinion: Any = None
    run_layer = run_evicted = -1
    run_state: Any = dead
    run_votes: Any = None
    run_references: dict = {}
    run_list: list = []

    def slow(state: Any, ballot: Any) -> None:
        spec.store_ballot(state, spec.decode_ballot(state, ballot))

    def fast_votes(state: Any, layer_id: int, opinion: Any) -> Any:
        """The layer's decoded votes for this opinion if the fast path applies to it, else None."""
        _, cache, references = _fast_path_entry(state)
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
                base = state.ballot_refs.get(base_id)
                if base is None or base.layer >= layer_id:
                    return None
            elif spec.effective_genesis(state.config) >= layer_id:
                return None
            if len(cache) >= 4096:
                cache.clear()
                cache[_EVICTED] = state.evicted
            cache[key] = votes
        return votes

    def on_ballot(state: Tortoise, ballot: BallotData) -> None:
        """Decode and store a ballot in one step.

        Fast path for the common case, a ballot whose signed opinion hash is already known in its
        layer (every honest ballot after the first of its layer) and whose base ballot is known:
        no vote decoding, no block resolution. What the spec's decode_ballot would check about the
        layer, the opinion and the base is the same for every ballot of the layer with the same
        opinion hash and base, so it is checked once and remembered until the next eviction; the
        last opinion object seen is recognised by identity, without a lookup.
        Anything else goes through the spec's decode_ballot and store_ballot.
        """
        nonlocal run_opinion, run_layer, run_evicted, run_state, run_votes, run_references, run_list
        layer_id = ballot.layer
        opinion = ballot.opinion
        if opinion is run_opinion and layer_id == run_layer and state.evicted == run_evicted and run_state() is state:
            votes, references, layer_ballots = run_votes, run_references, run_list
        else:
            votes = fast_votes(state, layer_id, opinion)
            if votes is None:
                return slow(state, ballot)
            references = _fast_path_entry(state)[2]
            layer_ballots = None
        ref_id = ballot.ref
        epoch_data = ballot.epoch_data
        if epoch_data is None:
            try:
                known = references[ref_id]
            except KeyError:
                ref = state.ballot_refs.get(ref_id) if ref_id is not None else None
                if ref is None or ref.reference is None:
                    return slow(state, ballot)
                known = references[ref_id] = (ref.reference, None, ref.layer)
            reference, per_eligibility, _ = known
        else:
            atx = state.atxs.get(layer_id // state.config.layers_per_epoch, {}).get(ballot.atx_id)
            if atx is None or epoch_data.eligibilities == 0:
                return slow(state, ballot)
            numerator, denominator = reduce_fraction(atx.weight, epoch_data.eligibilities)
            reference = ReferenceInfo(ballot.smesher, ballot.atx_id, epoch_data.eligibilities, epoch_data.beacon,
                                      atx.height, numerator, denominator)
            per_eligibility = None
        ballot_id = ballot.id
        if ballot.malicious or (state.malicious_nodes and ballot.smesher in state.malicious_nodes):
            info = BallotInfo(ballot_id, layer_id, True, 0, reference, votes)
        else:
            if per_eligibility is None:
                per_eligibility = spec.ballot_weight(reference.weight_numerator, reference.weight_denominator, 1)
                if epoch_data is None:
                    references[ref_id] = (reference, per_eligibility, known[2])
            eligibilities = ballot.eligibilities
            info = BallotInfo(ballot_id, layer_id, False,
                              per_eligibility if eligibilities == 1 else per_eligibility * eligibilities,
                              reference, votes)
        if state.ballot_refs.setdefault(ballot_id, info) is not info:  # a ballot already stored: the spec decides
            return slow(state, ballot)
        if layer_ballots is None:
            ballots = state.ballots
            layer_ballots = ballots.get(layer_id)
            if layer_ballots is None:
                layer_ballots = ballots[layer_id] = []
            run_opinion, run_layer, run_evicted, run_state = opinion, layer_id, state.evicted, weakref.ref(state)
            run_votes, run_references, run_list = votes, references, layer_ballots
        layer_ballots.append(info)
        if layer_id <= state.processed:
            spec.count_ballot_or_retry(state, info)
        return None

    def forget_run(state: Any) -> None:
        """The state evicted layers: hold nothing of them (the run's list may be one of them)."""
        nonlocal run_opinion, run_layer, run_evicted, run_state, run_votes, run_references, run_list
        if run_state() is state:
            run_opinion, run_layer, run_evicted, run_state = None, -1, -1, dead
            run_votes, run_references, run_list = None, {}, []

    on_ballot.forget_run = forget_run  # type: ignore[attr-defined]
    _ballot_runs.add(on_ballot)
    return on_ballot


_ballot_runs: weakref.WeakSet = weakref.WeakSet()  # the on_ballot replacements alive, for evict


def _cut_votes_before(ballot: Any, layer: int) -> int:
    """The spec's cut_votes_before, saying what it did: 0 nothing, 1 cut a shared link, 2 dropped
    the ballot's votes."""
    current = ballot.votes
    while current is not None:
        if current.prev is not None and current.prev.layer < layer:
            current.prev = None
            return 1
        if current.layer < layer:
            ballot.votes = None
            return 2
        current = current.prev
    return 0


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
            for ballot in ballots.pop(layer, ()):
                refs.pop(ballot.id, None)
            state.layers.pop(layer, None)
            if spec.ordinal_in_epoch(config, layer) == config.layers_per_epoch - 1:
                state.epochs.pop(spec.epoch_of(config, layer), None)
                state.atxs.pop(spec.epoch_of(config, layer), None)
        last_votes: Any = _NOT_VOTES
        outcome = 1
        for ballot in ballots.get(window_start, ()):
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
        for on_ballot in list(_ballot_runs):
            on_ballot.forget_run(state)

    return evict


_NOT_VOTES = object()


@replaces("tortoise", "count_ballots", factory=True)
def _count_ballots_factory(spec: Any):
    unknown = object()
    no_opinion = b"\x00" * 32

    def count_ballots(state: Tortoise, ballots: list[BallotInfo]) -> None:
        """Count a processed layer's ballots; queue those whose epoch beacon is unknown.

        The beacon comparison is made once per (epoch, declared beacon), the goodness test reads
        the previous layer once per ballot layer and compares a vote list's opinion once, and the
        good weight is summed per layer before it is added to the layers it does not vote on.
        """
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
