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

from typing import TYPE_CHECKING, Any

from smspec.impl.registry import replaces

if TYPE_CHECKING:
    from smspec.spec.tortoise import BallotData, BallotInfo, BlockInfo, Tortoise

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


@replaces("tortoise", "run_verifying", factory=True)
def _run_verifying_factory(spec: Any):
    def run_verifying(state: Tortoise) -> tuple[int, int | None]:
        """Verify layers in verifying mode; returns (last verified, lowest changed or None)."""
        expected = _expected_weight_function(spec, state)
        fixed_div_int = spec.fixed_div_int
        verify_layer = spec.verify_layer
        local_vote = spec.local_vote
        total = state.total_good_weight
        local = state.local_threshold
        fraction = spec.ADVERSARIAL_WEIGHT_FRACTION
        verified, changed = state.evicted, None
        for target in range(state.evicted + 1, state.processed):
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
        return verified, changed

    return run_verifying


@replaces("tortoise", "run_full", factory=True)
def _run_full_factory(spec: Any):
    def run_full(state: Tortoise) -> tuple[int, int | None]:
        """Verify layers in full mode, switching to it (and catching up on counting) if needed."""
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


@replaces("tortoise", "on_ballot", factory=True)
def _on_ballot_factory(spec: Any):
    empty_ballot_id = spec.EMPTY_BALLOT_ID
    BallotInfo = spec.BallotInfo
    ReferenceInfo = spec.ReferenceInfo

    def on_ballot(state: Tortoise, ballot: BallotData) -> None:
        """Decode and store a ballot in one step.

        Fast path for the common case, a ballot whose signed opinion hash is already known in its
        layer (every honest ballot after the first of its layer): no vote decoding, no block
        resolution. Anything else goes through the spec's decode_ballot and store_ballot.
        """
        layer_id = ballot.layer
        refs = state.ballot_refs
        layer = state.layers.get(layer_id)
        votes = layer.opinions.get(ballot.opinion.hash) if layer is not None else None
        if votes is None or layer_id <= state.evicted or ballot.id in refs:
            spec.store_ballot(state, spec.decode_ballot(state, ballot))
            return
        base_id = ballot.opinion.votes.base
        if base_id != empty_ballot_id:
            base = refs.get(base_id)
            if base is None or base.layer >= layer_id:
                spec.store_ballot(state, spec.decode_ballot(state, ballot))
                return
        elif spec.effective_genesis(state.config) >= layer_id:
            spec.store_ballot(state, spec.decode_ballot(state, ballot))
            return
        epoch_data = ballot.epoch_data
        if epoch_data is not None:
            atx = state.atxs.get(layer_id // state.config.layers_per_epoch, {}).get(ballot.atx_id)
            if atx is None or epoch_data.eligibilities == 0:
                spec.store_ballot(state, spec.decode_ballot(state, ballot))
                return
            numerator, denominator = spec.reduce_fraction(atx.weight, epoch_data.eligibilities)
            reference = ReferenceInfo(smesher=ballot.smesher, atx_id=ballot.atx_id,
                                      expected_ballots=epoch_data.eligibilities, beacon=epoch_data.beacon,
                                      height=atx.height, weight_numerator=numerator,
                                      weight_denominator=denominator)
        else:
            ref = refs.get(ballot.ref) if ballot.ref is not None else None
            if ref is None or ref.reference is None:
                spec.store_ballot(state, spec.decode_ballot(state, ballot))
                return
            reference = ref.reference
        malicious = ballot.malicious or ballot.smesher in state.malicious_nodes
        weight = 0
        if not malicious:
            weight = spec.ballot_weight(reference.weight_numerator, reference.weight_denominator,
                                        ballot.eligibilities)
        info = BallotInfo(id=ballot.id, layer=layer_id, malicious=malicious, weight=weight,
                          reference=reference, votes=votes)
        state.ballots.setdefault(layer_id, []).append(info)
        refs[ballot.id] = info
        if layer_id <= state.processed:
            spec.count_ballot_or_retry(state, info)

    return on_ballot


@replaces("tortoise", "count_ballots", factory=True)
def _count_ballots_factory(spec: Any):
    unknown = object()

    def count_ballots(state: Tortoise, ballots: list[BallotInfo]) -> None:
        """Count a processed layer's ballots; queue those whose epoch beacon is unknown.

        The beacon comparison is made once per (epoch, declared beacon), the goodness test reads
        the previous layer once per ballot layer, and the good weight is summed per layer before
        it is added to the layers it does not vote on.
        """
        evicted = state.evicted
        length = state.config.layers_per_epoch
        beacons: dict = {}
        previous_layers: dict = {}
        good_weight: dict = {}
        for_full = []
        for ballot in ballots:
            layer_id = ballot.layer
            if layer_id - 1 <= evicted:
                continue
            reference = ballot.reference
            key = (layer_id // length, reference.beacon)
            bad = beacons.get(key, unknown)
            if bad is unknown:
                bad = beacons[key] = spec.bad_beacon(state, ballot)
            if bad is None:
                state.retriable.append(ballot)
                continue
            ballot.bad_beacon = bad
            previous = previous_layers.get(layer_id)
            if previous is None:
                previous = previous_layers[layer_id] = spec.get_layer(state, layer_id - 1)
            votes = ballot.votes
            opinion = votes.opinion if votes is not None else b"\x00" * 32
            if not bad and previous.opinion == opinion and previous.reference_height <= reference.height:
                good_weight[layer_id] = good_weight.get(layer_id, 0) + ballot.weight
            if layer_id <= state.full_counted:
                for_full.append(ballot)
        for layer_id, weight in good_weight.items():
            for layer in range(layer_id, state.processed + 1):
                spec.get_layer(state, layer).good_uncounted += weight
            state.total_good_weight += weight
        spec.count_ballots_full(state, for_full)

    return count_ballots
