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
* ``message_grade``: memoized per active set object by (body, sender, committee, leaders).

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
    from smspec.spec.hare import ActiveSet

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

    def message_hash(body: Any) -> bytes:
        """The message hash, memoized by body."""
        found = cache.get(body)
        if found is None:
            _bounded(cache)
            found = cache[body] = original(body)
        return found

    return message_hash


@replaces("hare", "verify_body", factory=True)
def _verify_body_factory(spec: ModuleType) -> Callable[..., Any]:
    original = _original(spec, "verify_body")
    cache: dict[tuple[bytes, bytes, Any, bytes], bool] = {}

    def verify_body(sender: bytes, genesis_id: bytes, body: Any, signature: bytes) -> bool:
        """Signature verification, memoized by its inputs."""
        key = (sender, genesis_id, body, signature)
        found = cache.get(key)
        if found is None:
            _bounded(cache)
            found = cache[key] = original(sender, genesis_id, body, signature)
        return found

    return verify_body


@replaces("hare", "message_grade", factory=True)
def _message_grade_factory(spec: ModuleType) -> Callable[..., Any]:
    original = _original(spec, "message_grade")
    cache: dict[tuple[int, Any, bytes, int, int], tuple[Any, int]] = {}

    def message_grade(active: ActiveSet, body: Any, sender: bytes, committee: int, leaders: int) -> int:
        """The oracle's grade, memoized per active set object."""
        key = (id(active), body, sender, committee, leaders)
        found = cache.get(key)
        if found is None or found[0] is not active:
            _bounded(cache)
            found = cache[key] = (active, original(active, body, sender, committee, leaders))
        return found[1]

    return message_grade
