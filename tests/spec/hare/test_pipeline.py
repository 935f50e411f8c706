"""The receive pipelines of hare.md (receive_message) and hare4.md (receive_message4)."""

from __future__ import annotations

import pytest
from smspec.spec import crypto, hare, hare4
from smspec.spec.errors import InvalidSignature

GENESIS = bytes.fromhex("9eebff023abb17ccb775c602daade8ed708f0a50")
LAYER = 4242
SECRET = bytes([11]) * 32
SENDER = crypto.public_key(SECRET)
ACTIVE = hare.ActiveSet(beacon=b"\x0a\x0b\x0c\x0d", weights={SENDER: 10, bytes([1]) * 32: 10})
CONTEXT = hare.SessionContext(layer=LAYER, genesis_id=GENESIS, active=ACTIVE, committee=10, leaders=5)
PRE = hare.IterRound(0, hare.Round.PREROUND)


def pid(name: str) -> bytes:
    return name.encode().ljust(20, b"\0")


def eligibility(ir=PRE):
    found = hare.own_eligibility(ACTIVE, SECRET, SENDER, LAYER, ir, CONTEXT.committee, CONTEXT.leaders)
    assert found is not None and found.count > 0  # n = 10, p = 1/2: count 0 has probability 2^-10
    return found


def preround_bytes(proposals) -> bytes:
    out = hare.ProtocolMessage(0, hare.Round.PREROUND, hare.Value(proposals=tuple(sorted(proposals))))
    message = hare.build_message(SECRET, SENDER, GENESIS, LAYER, out, eligibility())
    return hare.encode(message, hare.Message)


def test_hare3_accepts_relays_and_detects_equivocation():
    state = hare.ProtocolState(threshold=6)
    first = preround_bytes([pid("a")])
    assert hare.receive_message(CONTEXT, state, first, False).relay
    with pytest.raises(hare.InvalidHareMessage) as duplicate:
        hare.receive_message(CONTEXT, state, first, False)
    assert duplicate.value.reason == "not_relayed"
    received = hare.receive_message(CONTEXT, state, preround_bytes([pid("b")]), False)
    assert received.relay and received.proof is not None
    assert hare.validate_hare_proof(received.proof, GENESIS, has_atx=True) == SENDER
    with pytest.raises(hare.InvalidHareMessage):
        hare.receive_message(CONTEXT, state, preround_bytes([pid("c")]), False)  # a third: dropped


def test_hare3_rejections():
    state = hare.ProtocolState(threshold=6)
    good = hare.decode(preround_bytes([pid("a")]), hare.Message)
    forged = hare.encode(hare.Message(body=good.body, sender=good.sender, signature=bytes(64)), hare.Message)
    with pytest.raises(InvalidSignature):
        hare.receive_message(CONTEXT, state, forged, False)
    other_layer = hare.SessionContext(layer=LAYER + 1, genesis_id=GENESIS, active=ACTIVE, committee=10, leaders=5)
    with pytest.raises(hare.InvalidHareMessage) as wrong_layer:
        hare.receive_message(other_layer, state, preround_bytes([pid("a")]), False)
    assert wrong_layer.value.reason == "not_registered"
    inflated_body = hare.Body(layer=LAYER, iter=0, round=0, value=good.body.value,
                              eligibility=hare.HareEligibility(good.body.eligibility.proof, good.body.eligibility.count + 1))
    inflated = hare.build_message(SECRET, SENDER, GENESIS, LAYER,
                                  hare.ProtocolMessage(0, 0, good.body.value), inflated_body.eligibility)
    with pytest.raises(hare.InvalidHareMessage) as not_eligible:
        hare.receive_message(CONTEXT, state, hare.encode(inflated, hare.Message), False)
    assert not_eligible.value.reason == "not_eligible"
    assert state.gossip == {}


def test_known_malicious_sender_yields_no_new_proof():
    # "multiple malicious not broadcasted": the first message of a known equivocator is relayed,
    # any other one of the same round is dropped, and no proof is produced again.
    state = hare.ProtocolState(threshold=6)
    assert hare.receive_message(CONTEXT, state, preround_bytes([pid("a")]), True) == hare.Received(relay=True, proof=None)
    with pytest.raises(hare.InvalidHareMessage) as dropped:
        hare.receive_message(CONTEXT, state, preround_bytes([pid("b")]), True)
    assert dropped.value.reason == "not_relayed"


# --- hare4 ---------------------------------------------------------------------------------

A, B, C = pid("a"), pid("b"), pid("c")
COMPACTS = {A: b"\x01\x01\x01\x01", B: b"\x02\x02\x02\x02", C: b"\x01\x01\x01\x01"}  # a and c collide


def hare4_preround(proposals):
    out = hare.ProtocolMessage(0, hare.Round.PREROUND, hare.Value(proposals=tuple(sorted(proposals))))
    message, msg_id = hare4.build_message4(SECRET, SENDER, GENESIS, LAYER, out, eligibility(), COMPACTS)
    return hare.encode(message, hare4.Message4), msg_id


def test_hare4_wire_form_and_local_reconstruction():
    data, msg_id = hare4_preround([A, B])
    wire = hare4.decode_message4(data)
    assert wire.body.value.proposals == () and wire.body.value.compact_proposals == (COMPACTS[A], COMPACTS[B])
    assert msg_id == hare.message_hash(wire.body)
    state = hare.ProtocolState(threshold=6)
    local = [(A, COMPACTS[A]), (B, COMPACTS[B])]
    received = hare4.receive_message4(CONTEXT, state, data, False, local, lambda _: pytest.fail("no fetch expected"))
    assert received.full_proposals == (A, B) and not received.fetched
    stored = next(iter(state.gossip.values())).input.message
    assert stored.body.value.proposals == (A, B) and stored.body.value.compact_proposals == ()


def test_hare4_unmatched_compact_fetches_full_list():
    data, msg_id = hare4_preround([A, B])
    requests = []

    def fetch(requested):
        requests.append(requested)
        return (B, A)  # the server's list, in any order: the receiver sorts it

    received = hare4.receive_message4(CONTEXT, hare.ProtocolState(threshold=6), data, False, [(B, COMPACTS[B])], fetch)
    assert requests == [msg_id] and received.fetched and received.full_proposals == (A, B)


def test_hare4_collision_recovers_through_signature_failure():
    # The receiver knows c (same compact ID as a) but not a: reconstruction yields [b, c], the
    # signature check fails, and one full exchange recovers [a, b] (TestHare_ReconstructCollision).
    data, msg_id = hare4_preround([A, B])
    requests = []

    def fetch(requested):
        requests.append(requested)
        return (A, B)

    local = [(C, COMPACTS[C]), (B, COMPACTS[B])]
    received = hare4.receive_message4(CONTEXT, hare.ProtocolState(threshold=6), data, False, local, fetch)
    assert requests == [msg_id] and received.fetched and received.full_proposals == (A, B)


def test_hare4_failures():
    data, _ = hare4_preround([A, B])
    with pytest.raises(hare.InvalidHareMessage) as no_local:
        hare4.receive_message4(CONTEXT, hare.ProtocolState(threshold=6), data, False, [], lambda _: (A, B))
    assert no_local.value.reason == "no_layer_proposals"
    with pytest.raises(hare.InvalidHareMessage) as failed:
        hare4.receive_message4(CONTEXT, hare.ProtocolState(threshold=6), data, False, [(B, COMPACTS[B])], lambda _: None)
    assert failed.value.reason == "fetch_failed"
    local = [(C, COMPACTS[C]), (B, COMPACTS[B])]
    with pytest.raises(hare.InvalidHareMessage) as mismatch:
        hare4.receive_message4(CONTEXT, hare.ProtocolState(threshold=6), data, False, local, lambda _: (A,))
    assert mismatch.value.reason == "proposals_mismatch"
    with pytest.raises(InvalidSignature):
        hare4.receive_message4(CONTEXT, hare.ProtocolState(threshold=6), data, False, local, lambda _: (A, C))


def test_hare4_sender_skips_preround_without_compact_ids():
    out = hare.ProtocolMessage(0, hare.Round.PREROUND, hare.Value(proposals=(pid("unknown"),)))
    assert hare4.build_message4(SECRET, SENDER, GENESIS, LAYER, out, eligibility(), COMPACTS) is None
