"""Faster Hare message validation and eligibility for spec/hare.md (caching and batching).

A node validates the same kinds of things over and over: every message of a round is checked
against the same active set, most CDF points repeat for identities of equal weight, and in a
simulated network (or a node hosting several identities) the same message bytes reach many
receivers. The replacements here return exactly what the spec functions return:

* ``eligibility_count`` / ``validate_eligibility_count``: the same quantile search, but the CDF
  values come from ``fixed.bin_cdf`` looked up at call time (the memoized raw-integer version
  of ``impl/fixed.py`` when the impl backend is active) and the (n, p) pair is memoized;
* ``message_hash``: memoized by the (immutable) body;
* ``verify_body``: memoized by (sender, genesis ID, body, signature);
* ``message_grade``: memoized per active set object by (body, sender, committee, leaders);
  each of the three first looks the body object up by identity (hashing a body hashes its
  whole proposal list, and a simulated network hands one decoded message to every receiver),
  comparing the other arguments, then by value;
* ``threshold_tallies`` and ``gradecast``: the same loops over a session's messages, with the
  round compared as two integers instead of an ``IterRound`` built per stored message.

The caches are bounded and cleared when full. ``tests/differential/test_hare.py`` checks each
replacement against the spec with Hypothesis, and a whole simulated network under both backends.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from smspec.impl.registry import replaces

if TYPE_CHECKING:
    from smspec.spec.hare import ActiveSet, GradedSet, IterRound, ProtocolState

CACHE_LIMIT = 100_000


def _original(spec: ModuleType, name: str) -> Callable[..., Any]:
    return spec.__dict__.get("__spec_originals__", {}).get(name, spec.__dict__[name])


def _fixed_module(spec: ModuleType) -> ModuleType:
    return importlib.import_module(spec.__name__.rsplit(".", 1)[0] + ".fixed")


def _bounded(cache: dict[Any, Any]) -> None:
    if len(cache) >= CACHE_LIMIT:
        cache.clear()


def _parameters(spec: ModuleType) -> Callable[[int, int, int], tuple[int, Any]]:
    original = _original(spec, "eligibility_parameters")
    cache: dict[tuple[int, int, int], tuple[int, Any]] = {}

    def parameters(weight: int, total_weight: int, committee: int) -> tuple[int, Any]:
        key = (weight, total_weight, committee)
        if key not in cache:
            _bounded(cache)
            cache[key] = original(weight, total_weight, committee)  # errors propagate, uncached
        return cache[key]

    return parameters


@replaces("hare", "eligibility_count", factory=True)
def _eligibility_count_factory(spec: ModuleType) -> Callable[..., Any]:
    fixed = _fixed_module(spec)
    parameters = _parameters(spec)

    def eligibility_count(proof: bytes, weight: int, total_weight: int, committee: int) -> int:
        """`CalcEligibility` with memoized parameters and CDF values."""
        try:
            n, p = parameters(weight, total_weight, committee)
        except spec.EligibilityError as error:
            if error.reason == "weight_above_maximum":
                return 0
            raise
        fraction = int.from_bytes(proof[:8], "little") & fixed.FRAC_MASK
        cdf = fixed.bin_cdf
        for x in range(n):
            if cdf(n, p, x).raw > fraction:
                return x & spec.MAX_COUNT
        return n & spec.MAX_COUNT

    return eligibility_count


@replaces("hare", "validate_eligibility_count", factory=True)
def _validate_count_factory(spec: ModuleType) -> Callable[..., Any]:
    fixed = _fixed_module(spec)
    parameters = _parameters(spec)

    def validate_eligibility_count(proof: bytes, weight: int, total_weight: int, committee: int, count: int) -> bool:
        """`Validate` with memoized parameters and CDF values."""
        n, p = parameters(weight, total_weight, committee)
        fraction = int.from_bytes(proof[:8], "little") & fixed.FRAC_MASK
        cdf = fixed.bin_cdf
        return not cdf(n, p, count - 1).raw > fraction and fraction < cdf(n, p, count).raw

    return validate_eligibility_count


@replaces("hare", "message_hash", factory=True)
def _message_hash_factory(spec: ModuleType) -> Callable[..., Any]:
    original = _original(spec, "message_hash")
    cache: dict[Any, bytes] = {}
    by_id: dict[int, tuple[Any, bytes]] = {}

    def message_hash(body: Any) -> bytes:
        """The message hash, memoized by body (object, then value)."""
        known = by_id.get(id(body))
        if known is not None and known[0] is body:
            return known[1]
        found = cache.get(body)
        if found is None:
            _bounded(cache)
            found = cache[body] = original(body)
        _bounded(by_id)
        by_id[id(body)] = (body, found)
        return found

    return message_hash


@replaces("hare", "verify_body", factory=True)
def _verify_body_factory(spec: ModuleType) -> Callable[..., Any]:
    original = _original(spec, "verify_body")
    cache: dict[tuple[bytes, bytes, Any, bytes], bool] = {}
    by_id: dict[int, tuple[Any, ...]] = {}

    def verify_body(sender: bytes, genesis_id: bytes, body: Any, signature: bytes) -> bool:
        """Signature verification, memoized by its inputs (the body by object, then by value)."""
        # an entry holds its body, so the body's id is not reused while the entry is kept
        known = by_id.get(id(body))
        if (known is not None and known[0] is body and known[1] == sender and known[2] == genesis_id
                and known[3] == signature):
            return bool(known[4])
        key = (sender, genesis_id, body, signature)
        found = cache.get(key)
        if found is None:
            _bounded(cache)
            found = cache[key] = original(sender, genesis_id, body, signature)
        _bounded(by_id)
        by_id[id(body)] = (body, sender, genesis_id, signature, found)
        return found

    return verify_body


@replaces("hare", "message_grade", factory=True)
def _message_grade_factory(spec: ModuleType) -> Callable[..., Any]:
    original = _original(spec, "message_grade")
    cache: dict[tuple[int, Any, bytes, int, int], tuple[Any, int]] = {}
    by_id: dict[tuple[int, int], tuple[Any, ...]] = {}

    def message_grade(active: ActiveSet, body: Any, sender: bytes, committee: int, leaders: int) -> int:
        """The oracle's grade, memoized per active set object (the body by object, then by value)."""
        known = by_id.get((id(active), id(body)))
        if (known is not None and known[0] is body and known[1] is active and known[2] == sender
                and known[3] == committee and known[4] == leaders):
            return int(known[5])
        key = (id(active), body, sender, committee, leaders)
        found = cache.get(key)
        if found is None or found[0] is not active:
            _bounded(cache)
            found = cache[key] = (active, original(active, body, sender, committee, leaders))
        _bounded(by_id)
        by_id[(id(active), id(body))] = (body, active, sender, committee, leaders, found[1])
        return found[1]

    return message_grade


@replaces("hare", "threshold_tallies", factory=True)
def _threshold_tallies_factory(spec: ModuleType) -> Callable[..., Any]:
    def threshold_tallies(state: ProtocolState, target: IterRound, msg_grade: int, by_reference: bool) -> dict[bytes, list[int]]:
        """`thresholdTallies`: item -> [total, valid] for the messages of round `target`."""
        grade_since = spec.grade_since
        target_iter, target_round = target.iter, target.round
        entries = [entry for (_, iter_number, round_kind), entry in state.gossip.items()
                   if iter_number == target_iter and round_kind == target_round]
        minimum: int = spec.Grade.GRADE5
        for entry in entries:
            inp = entry.input
            if not inp.malicious and inp.atx_grade < minimum and grade_since(entry.received, target) >= msg_grade:
                minimum = inp.atx_grade
        tallies: dict[bytes, list[int]] = {}
        mask = spec.MAX_COUNT
        for entry in entries:
            inp = entry.input
            if inp.atx_grade < minimum or grade_since(entry.received, target) < msg_grade:
                continue
            body = inp.message.body
            count = body.eligibility.count
            for item in ((body.value.reference,) if by_reference else body.value.proposals):
                tally = tallies.setdefault(item, [0, 0])
                tally[0] = (tally[0] + count) & mask
                if not inp.malicious:
                    tally[1] = (tally[1] + count) & mask
        return tallies

    return threshold_tallies


@replaces("hare", "gradecast", factory=True)
def _gradecast_factory(spec: ModuleType) -> Callable[..., Any]:
    def gradecast(state: ProtocolState, target: IterRound) -> list[GradedSet]:
        """`gradecast`: the graded proposal lists of round `target`, in VRF order."""
        delay_since, graded_set, grade = spec.delay_since, spec.GradedSet, spec.Grade
        target_iter, target_round = target.iter, target.round
        found: list[GradedSet] = []
        for (sender, iter_number, round_kind), entry in state.gossip.items():
            if iter_number != target_iter or round_kind != target_round:
                continue
            if entry.input.malicious and entry.other_received is None:
                continue
            body = entry.input.message.body
            late = delay_since(entry.received, target)
            conflict = None if entry.other_received is None else delay_since(entry.other_received, target)
            if entry.input.atx_grade == grade.GRADE5 and late <= 1 and (conflict is None or conflict > 3):
                found.append(graded_set(body.value.proposals, grade.GRADE2, body.eligibility.proof, sender))
            elif entry.input.atx_grade >= grade.GRADE4 and late <= 2 and (conflict is None or conflict > 2):
                found.append(graded_set(body.value.proposals, grade.GRADE1, body.eligibility.proof, sender))
        order = spec.vrf_order_key
        return sorted(found, key=lambda graded: (order(graded.smallest), graded.sender))

    return gradecast
