"""impl/hare.py and impl/fixed.py against spec/hare.md and spec/fixed.md.

* ``fixed.bin_cdf``: Hypothesis draws n, p (raw words, including the exact-division quotients of
  ``div_uint64``) and x around [0, n]; same raw word or the same error.
* ``hare.eligibility_count`` / ``validate_eligibility_count``: random proofs, weights, totals and
  committees (including committee > total weight and weights above 2^30).
* ``hare.message_hash``, ``verify_body``, ``message_grade``: the memoized versions return the spec's
  answers, also on repeated and altered inputs, equal bodies that are other objects, and other
  arguments with the same body object.
* ``hare.threshold_tallies``, ``gradecast``: random sessions (senders, rounds, ATX grades, arrival
  and conflict rounds, malicious entries, counts that wrap uint16), every round, grade and kind.
* A whole simulated network (light mode, with adversaries) ends identically under both backends.
"""

from __future__ import annotations

import pytest
import smspec.spec.mainnet.fixed as F
import smspec.spec.mainnet.hare as H
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from smspec.impl import fixed as impl_fixed
from smspec.impl import hare as impl_hare
from smspec.impl import registry
from smspec.spec.errors import SpecError

pytestmark = pytest.mark.usefixtures("spec_backend")


def outcome(function, *args):
    try:
        result = function(*args)
    except SpecError as error:
        return ("error", type(error).__name__, error.reason)
    return ("ok", getattr(result, "raw", result))


def test_every_replaced_function_is_covered():
    replaced = {(r.module, r.name) for r in registry.all_replacements() if r.module in ("hare", "fixed")}
    assert replaced == {("fixed", "bin_cdf"), ("hare", "eligibility_count"), ("hare", "validate_eligibility_count"),
                        ("hare", "message_hash"), ("hare", "verify_body"), ("hare", "message_grade"),
                        ("hare", "threshold_tallies"), ("hare", "gradecast")}


fast_cdf = impl_fixed._bin_cdf_factory(F)

p_values = st.one_of(
    st.integers(min_value=0, max_value=2**56),
    st.builds(lambda a, b: F.div_uint64(min(a, b), max(a, b, 1)).raw, st.integers(1, 5000), st.integers(1, 2**40)),
    st.integers(min_value=2**56 + 1, max_value=2**64),  # p above 1: a negative 1 - p, or a panic
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.one_of(st.integers(1, 40), st.integers(41, 3000), st.integers(2**20, 2**31)),
       p_raw=p_values, x_offset=st.floats(min_value=-0.1, max_value=1.1))
def test_bin_cdf_matches_spec(n, p_raw, x_offset):
    x = int(n * x_offset)
    p = F.Fixed(p_raw)
    assert outcome(fast_cdf, n, p, x) == outcome(F.bin_cdf, n, p, x)
    assert outcome(fast_cdf, n, p, x) == outcome(F.bin_cdf, n, p, x)  # memoized answer


count_impl = impl_hare._eligibility_count_factory(H)
validate_impl = impl_hare._validate_count_factory(H)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(proof=st.binary(min_size=80, max_size=80), weight=st.one_of(st.integers(0, 30), st.integers(2**30 - 2, 2**30 + 2)),
       extra=st.integers(0, 200), committee=st.integers(0, 60), claimed=st.integers(0, 8))
def test_eligibility_matches_spec(proof, weight, extra, committee, claimed):
    total = weight + extra
    assert outcome(count_impl, proof, weight, total, committee) == outcome(H.eligibility_count, proof, weight, total, committee)
    assert outcome(validate_impl, proof, weight, total, committee, claimed) == \
        outcome(H.validate_eligibility_count, proof, weight, total, committee, claimed)


def test_memoized_message_functions_match_spec():
    from smspec.spec.mainnet import crypto

    secret = bytes([4]) * 32

    sender = crypto.public_key(secret)
    active = H.ActiveSet(beacon=b"\x01\x02\x03\x04", weights={sender: 10, bytes(32): 30})
    hash_impl = impl_hare._message_hash_factory(H)
    verify_impl = impl_hare._verify_body_factory(H)
    grade_impl = impl_hare._message_grade_factory(H)
    for round_kind in (0, 3, 6):
        ir = H.IterRound(1 if round_kind else 0, round_kind)
        eligibility = H.own_eligibility(active, secret, sender, 77, ir, 20, 5) or H.HareEligibility()
        value = H.Value(reference=bytes(32)) if round_kind == 6 else H.Value(proposals=(bytes(20),))
        body = H.Body(layer=77, iter=ir.iter, round=round_kind, value=value, eligibility=eligibility)
        signature = H.sign_body(secret, bytes(20), body)
        for _attempt in range(2):
            assert hash_impl(body) == H.message_hash(body)
            assert verify_impl(sender, bytes(20), body, signature) == H.verify_body(sender, bytes(20), body, signature)
            assert verify_impl(sender, bytes(20), body, bytes(64)) is False
            assert grade_impl(active, body, sender, 20, 5) == H.message_grade(active, body, sender, 20, 5)
            wrong = H.Body(layer=77, iter=ir.iter, round=round_kind, value=value,
                           eligibility=H.HareEligibility(eligibility.proof, eligibility.count + 1))
            assert grade_impl(active, wrong, sender, 20, 5) == H.message_grade(active, wrong, sender, 20, 5) == 0
        other = H.ActiveSet(beacon=b"\x09\x09\x09\x09", weights={sender: 10})
        assert grade_impl(other, body, sender, 20, 5) == H.message_grade(other, body, sender, 20, 5)
        # the same body object with other arguments, and an equal body that is another object
        assert verify_impl(bytes(32), bytes(20), body, signature) is H.verify_body(bytes(32), bytes(20), body, signature)
        assert verify_impl(sender, bytes([1]) * 20, body, signature) is False
        assert verify_impl(sender, bytes(20), body, signature) == H.verify_body(sender, bytes(20), body, signature)
        assert grade_impl(active, body, bytes(32), 20, 5) == H.message_grade(active, body, bytes(32), 20, 5)
        assert grade_impl(active, body, sender, 21, 5) == H.message_grade(active, body, sender, 21, 5)
        assert grade_impl(active, body, sender, 20, 5) == H.message_grade(active, body, sender, 20, 5)
        twin = H.Body(layer=77, iter=ir.iter, round=round_kind, value=value, eligibility=eligibility)
        assert twin is not body and hash_impl(twin) == H.message_hash(body)
        assert verify_impl(sender, bytes(20), twin, signature) == H.verify_body(sender, bytes(20), body, signature)
        assert grade_impl(active, twin, sender, 20, 5) == H.message_grade(active, body, sender, 20, 5)


tallies_impl = impl_hare._threshold_tallies_factory(H)
gradecast_impl = impl_hare._gradecast_factory(H)
PROPOSAL_IDS = [bytes([i]) * 20 for i in range(4)]
rounds = st.builds(H.IterRound, st.integers(0, 2), st.sampled_from(list(H.Round)))


@st.composite
def sessions(draw):
    state = H.ProtocolState(threshold=draw(st.integers(1, 80)))
    for _ in range(draw(st.integers(0, 24))):
        sender = bytes([draw(st.integers(0, 5))]) * 32
        iter_round = draw(rounds)
        value = (H.Value(reference=draw(st.sampled_from([bytes(32), bytes([7]) * 32])))
                 if draw(st.booleans()) else H.Value(proposals=tuple(draw(st.lists(st.sampled_from(PROPOSAL_IDS), max_size=3)))))
        eligibility = H.HareEligibility(draw(st.binary(min_size=80, max_size=80)),
                                        draw(st.sampled_from([0, 1, 3, 40000, 65535])))
        body = H.Body(layer=9, iter=iter_round.iter, round=iter_round.round, value=value, eligibility=eligibility)
        inp = H.HareInput(message=H.Message(body=body, sender=sender), atx_grade=draw(st.sampled_from(list(H.Grade))),
                          malicious=draw(st.booleans()))
        state.gossip[(sender, iter_round.iter, int(iter_round.round))] = H.GossipEntry(
            input=inp, received=draw(rounds), other_received=draw(st.one_of(st.none(), rounds)))
    return state


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(state=sessions())
def test_tallies_and_gradecast_match_spec(state):
    for iter_number in range(3):
        for round_kind in H.Round:
            target = H.IterRound(iter_number, round_kind)
            assert gradecast_impl(state, target) == H.gradecast(state, target)
            for msg_grade in range(7):
                for by_reference in (False, True):
                    expected = H.threshold_tallies(state, target, msg_grade, by_reference)
                    found = tallies_impl(state, target, msg_grade, by_reference)
                    assert found == expected and list(found) == list(expected)


def test_simulated_network_identical_under_both_backends():
    from smspec.spec.mainnet import crypto, hare4
    from smspec.tools.hare_sim import SimConfig, Simulator

    config = SimConfig(members=12, byzantine=2, behaviours=("equivocate", "delay"), seed=21, max_weight=4, layers=1)
    spec_run = Simulator(config, H, hare4, crypto).run_layer(1000)
    registry.use_backend("impl")
    try:
        impl_run = Simulator(config, H, hare4, crypto).run_layer(1000)
    finally:
        registry.use_backend("spec")
    assert impl_run.results == spec_run.results
    assert impl_run.result_iter == spec_run.result_iter
    assert impl_run.coins == spec_run.coins
    assert impl_run.stats == spec_run.stats
    assert impl_run.eligibility == spec_run.eligibility
