"""The receive and send pipelines of a Hare session as vectors (hare/session/*, hare4/session/*,
hare4/exchange/parse_response), built from the scenarios of test_pipeline.py.

What is known independently of the handler: which messages are relayed and why the others are
dropped (by construction of each scenario), that an equivocation yields a proof naming the
sender, and, for sending, the round timing and committee worked out from hare.md's constants.
The message bytes and proofs themselves are the spec's (signatures and VRF proofs).
"""

from __future__ import annotations

from smspec.conformance.cases import Case, output_fields, vector_source
from smspec.spec import crypto, hare

from .test_pipeline import (
    ACTIVE,
    COMPACTS,
    GENESIS,
    LAYER,
    SECRET,
    SENDER,
    eligibility,
    hare4_preround,
    pid,
    preround_bytes,
)

SESSION = {"layer": LAYER, "genesis_id": GENESIS, "beacon": ACTIVE.beacon,
           "weights": {"0x" + k.hex(): v for k, v in ACTIVE.weights.items()}, "committee": 10, "leaders": 5}


def outcomes(*expected: str):
    """A check of `results`: "relay", "relay+proof" or "Class/reason" per message, in order."""
    def check(output: dict) -> None:
        got = []
        for r in output["results"]:
            if "error" in r:
                got.append(f"{r['error']}/{r['reason']}")
            else:
                assert r["relay"] is True
                got.append("relay+proof" if r["proof"] else "relay")
                if r["proof"]:
                    proof = hare.decode(bytes.fromhex(r["proof"][2:]), hare.HareProof)
                    assert all(m.smesher_id == SENDER for m in proof.messages)
        assert got == list(expected), got
    return check


def incoming(data: bytes, malicious: bool = False) -> dict:
    return {"encoded": data, "malicious": malicious}


@vector_source("hare", "session", "receive")
def test_receive_vectors():
    ref = "hare.md#receive_message"
    a, b, c = preround_bytes([pid("a")]), preround_bytes([pid("b")]), preround_bytes([pid("c")])
    yield Case("relay_duplicate_equivocation", inputs={**SESSION, "threshold": 6, "messages": [
        incoming(a), incoming(a), incoming(b), incoming(c)]},
        check=outcomes("relay", "InvalidHareMessage/not_relayed", "relay+proof", "InvalidHareMessage/not_relayed"),
        spec_ref=ref, description="a preround, the same again (dropped), a second one of the same sender (relayed "
        "with an equivocation proof), a third (dropped)")
    good = hare.decode(a, hare.Message)
    forged = hare.encode(hare.Message(body=good.body, sender=good.sender, signature=bytes(64)), hare.Message)
    inflated = hare.encode(hare.build_message(SECRET, SENDER, GENESIS, LAYER, hare.ProtocolMessage(0, 0, good.body.value),
                                              hare.HareEligibility(good.body.eligibility.proof,
                                                               good.body.eligibility.count + 1)), hare.Message)
    other = hare.encode(hare.build_message(SECRET, SENDER, GENESIS, LAYER + 1, hare.ProtocolMessage(0, 0, good.body.value),
                                           eligibility()), hare.Message)
    stranger_secret = bytes([99]) * 32
    stranger = hare.encode(hare.build_message(stranger_secret, crypto.public_key(stranger_secret), GENESIS, LAYER,
                                              hare.ProtocolMessage(0, 0, good.body.value), eligibility()), hare.Message)
    yield Case("rejections", inputs={**SESSION, "threshold": 6, "messages": [
        incoming(forged), incoming(inflated), incoming(other), incoming(stranger), incoming(b"\x00"), incoming(a)]},
        check=outcomes("InvalidSignature/bad_signature", "InvalidHareMessage/not_eligible",
                       "InvalidHareMessage/not_registered", "InvalidHareMessage/not_eligible", "InvalidEncoding/short_input",
                       "relay"),
        spec_ref="hare.md#receive_decoded", description="a zero signature, an inflated count, another layer, a sender "
        "outside the active set, one byte; then a good message is still relayed")
    yield Case("known_malicious_sender", inputs={**SESSION, "threshold": 6, "messages": [
        incoming(a, True), incoming(b, True)]}, check=outcomes("relay", "InvalidHareMessage/not_relayed"),
        spec_ref=ref, description="a known equivocator's first message is relayed without a new proof, a second dropped")
    proof = good.body.eligibility.proof
    bad_vrf = hare.encode(hare.build_message(SECRET, SENDER, GENESIS, LAYER, hare.ProtocolMessage(0, 0, good.body.value),
                                             hare.HareEligibility(proof[:-1] + bytes([proof[-1] ^ 1]),
                                                                  good.body.eligibility.count)), hare.Message)
    yield Case("bad_vrf_proof", inputs={**SESSION, "threshold": 6, "messages": [incoming(bad_vrf), incoming(a)]},
               check=outcomes("InvalidHareMessage/not_eligible", "relay"), spec_ref="hare.md#message_grade",
               description="a correctly signed preround of a registered sender whose VRF proof has its last byte "
               "flipped: the proof does not verify, grade 0, dropped (not_eligible); the honest message is relayed")
    yield Case("zero_committee", inputs={**SESSION, "committee": 0, "threshold": 6, "messages": [incoming(a)]},
               check=outcomes("InvalidHareMessage/not_eligible"), spec_ref="hare.md#message_grade",
               description="a session whose committee size is 0: the oracle's eligibility check fails "
               "(zero_committee), which gives grade 0, so even an honest preround is dropped (not_eligible)")


@vector_source("hare", "session", "send")
def test_send_vectors():
    ref = "hare.md#own_eligibility"
    # mainnet: preround at 25 s, every other round at 25 s + (absolute round - 1) x 12 s; committee 50 and
    # threshold 26 from the committee upgrade layer 105720 (hare.md constants)
    for name, it, rnd, start in (("preround", 0, 0, 25000), ("propose", 0, 3, 49000), ("hardlock_1", 1, 1, 109000)):
        proposals = [pid("a")] if rnd in (0, 3) else []
        yield Case(name, inputs={**SESSION, "layer": 105720, "secret": SECRET, "iter": it, "round": rnd,
                                 "proposals": proposals}, spec_ref=ref,
                   check=output_fields(round_start_ms=start, committee_for_layer=50, threshold_for_layer=26),
                   description=f"round {name}: own eligibility and the signed message, round start {start} ms")
    yield Case("not_in_active_set", inputs={**SESSION, "secret": bytes([77]) * 32, "iter": 0, "round": 0},
               check=output_fields(eligibility=None, message=None), spec_ref=ref,
               description="an identity outside the active set sends nothing")
    yield Case("zero_committee", inputs={**SESSION, "committee": 0, "secret": SECRET, "iter": 0, "round": 0},
               check=output_fields(eligibility=None, message=None), spec_ref=ref,
               description="a committee size of 0: the oracle's error (zero_committee) means the node sends nothing "
               "in a preround")
    yield Case("count_zero", inputs={**SESSION, "weights": {"0x" + SENDER.hex(): 1, "0x" + "01" * 32: 10**12},
                                     "secret": SECRET, "iter": 0, "round": 0},
               check=output_fields(eligibility=None, message=None), spec_ref=ref,
               description="weight 1 of 10^12 + 1 with a committee of 10: the VRF draw gives a count of 0, so the "
               "node sends nothing")
    yield Case("before_upgrade", inputs={**SESSION, "layer": 105719, "secret": SECRET, "iter": 0, "round": 0},
               check=output_fields(committee_for_layer=400, threshold_for_layer=201), spec_ref="hare.md#committee_for",
               description="before layer 105720 the committee is 400, the threshold 201")


@vector_source("hare", "session", "stop")
def test_stop_vectors():
    ref = "hare.md#session_should_stop"
    for name, executed, terminated, stop in (("terminated", [1, 6], True, True), ("limit_reached", [4, 1], False, True),
                                             ("going_on", [2, 7], False, False)):
        yield Case(name, inputs={"executed": executed, "terminated": terminated, "iterations_limit": 4},
                   expected={"stop": stop}, spec_ref=ref,
                   description=f"after round {executed}, terminated {terminated}: stop is {stop}")


def local(*ids) -> list:
    return [[x, COMPACTS[x]] for x in ids]


@vector_source("hare4", "session", "receive")
def test_receive4_vectors():
    ref = "hare4.md#receive_message4"
    data, msg_id = hare4_preround([pid("a"), pid("b")])
    a, b, c = pid("a"), pid("b"), pid("c")
    yield Case("reconstructed", inputs={**SESSION, "threshold": 6, "local": local(a, b), "messages": [incoming(data)]},
               check=outcomes("relay"), spec_ref=ref, description="both compact IDs match local proposals")
    yield Case("fetched", inputs={**SESSION, "threshold": 6, "local": local(b), "exchange": {"0x" + msg_id.hex(): [b, a]},
                                  "messages": [incoming(data)]}, check=outcomes("relay"), spec_ref=ref,
               description="an unmatched compact ID: the full list is fetched (any order) and sorted")
    yield Case("collision_recovered", inputs={**SESSION, "threshold": 6, "local": local(c, b),
                                              "exchange": {"0x" + msg_id.hex(): [a, b]}, "messages": [incoming(data)]},
               check=outcomes("relay"), spec_ref=ref,
               description="c shares a's compact ID: the signature fails, one full exchange recovers [a, b]")
    yield Case("failures", inputs={**SESSION, "threshold": 6, "local": local(c, b), "exchange": {"0x" + msg_id.hex(): [a]},
                                   "messages": [incoming(data)]},
               check=outcomes("InvalidHareMessage/proposals_mismatch"), spec_ref=ref,
               description="after a collision the fetched list has 1 ID for 2 compact IDs")
    yield Case("no_local_proposals", inputs={**SESSION, "threshold": 6, "local": [], "messages": [incoming(data)]},
               check=outcomes("InvalidHareMessage/no_layer_proposals"), spec_ref=ref,
               description="a receiver without proposals for the layer drops every preround")
    yield Case("fetch_failed", inputs={**SESSION, "threshold": 6, "local": local(b), "messages": [incoming(data)]},
               check=outcomes("InvalidHareMessage/fetch_failed"), spec_ref=ref,
               description="an unmatched compact ID and no peer answer")
    yield Case("bad_signature_after_exchange", inputs={**SESSION, "threshold": 6, "local": local(c, b),
                                                       "exchange": {"0x" + msg_id.hex(): [a, c]}, "messages": [incoming(data)]},
               check=outcomes("InvalidSignature/bad_signature"), spec_ref=ref,
               description="the fetched list does not verify either")


@vector_source("hare4", "session", "receive")
def test_receive4_rejection_vectors():
    from smspec.spec import hare4

    ref = "hare4.md#receive_message4"
    data, msg_id = hare4_preround([pid("a"), pid("b")])
    a, b, c = pid("a"), pid("b"), pid("c")
    pre = hare.ProtocolMessage(0, hare.Round.PREROUND, hare.Value(proposals=(a, b)))
    other_layer, _ = hare4.build_message4(SECRET, SENDER, GENESIS, LAYER + 1, pre, eligibility(), COMPACTS)
    own = eligibility()
    inflated, _ = hare4.build_message4(SECRET, SENDER, GENESIS, LAYER, pre,
                                       hare.HareEligibility(own.proof, own.count + 1), COMPACTS)
    commit = hare.ProtocolMessage(1, hare.Round.COMMIT, hare.Value(reference=hare.proposals_hash((a,))))
    signed, _ = hare4.build_message4(SECRET, SENDER, GENESIS, LAYER, commit, own, COMPACTS)
    forged = hare4.Message4(body=signed.body, sender=signed.sender, signature=bytes(64))
    messages = [incoming(hare.encode(m, hare4.Message4)) for m in (other_layer, forged, inflated)]
    yield Case("rejections", inputs={**SESSION, "threshold": 6, "local": local(a, b),
                                     "messages": [*messages, incoming(data), incoming(data)]},
               check=outcomes("InvalidHareMessage/not_registered", "InvalidSignature/bad_signature",
                              "InvalidHareMessage/not_eligible", "relay", "InvalidHareMessage/not_relayed"),
               spec_ref=ref, description="another layer; a commit message with a zero signature (no full exchange "
               "outside preround); a preround signed over an inflated count; a good preround; the same again")
    yield Case("collision_no_exchange", inputs={**SESSION, "threshold": 6, "local": local(c, b),
                                                "messages": [incoming(data)]},
               check=outcomes("InvalidHareMessage/fetch_failed"), spec_ref=ref,
               description="c shares a's compact ID: the signature fails and no peer answers the full exchange")


@vector_source("hare4", "session", "send")
def test_send4_vectors():
    ref = "hare4.md#build_message4"
    proofs = {pid("a"): b"\x01\x01\x01\x01" + bytes(76), pid("b"): b"\x02\x02\x02\x02" + bytes(76)}
    own = eligibility()
    base = {"secret": SECRET, "genesis_id": GENESIS, "layer": LAYER, "proof": own.proof, "count": own.count,
            "proposal_proofs": proofs}
    compacts = {"0x" + pid("a").hex(): "0x01010101", "0x" + pid("b").hex(): "0x02020202"}
    yield Case("preround_with_compacts", inputs={**base, "iter": 0, "round": 0, "proposals": [pid("a"), pid("b")]},
               check=output_fields(compacts=compacts), spec_ref=ref,
               description="compact IDs are the first 4 bytes of each proposal's first eligibility proof")
    yield Case("preround_missing_compact", inputs={**base, "iter": 0, "round": 0, "proposals": [pid("z")]},
               expected={"message": None, "msg_id": None, "compacts": compacts}, spec_ref=ref,
               description="a preround proposal without a compact ID: nothing is sent")
    reference = hare.proposals_hash((pid("a"),))
    yield Case("commit", inputs={**base, "iter": 1, "round": 6, "reference": reference},
               check=output_fields(compacts=compacts), spec_ref=ref, description="a commit message: no compact IDs")


@vector_source("hare4", "exchange", "parse_response")
def test_parse_response_vectors():
    ref = "hare4.md#parse_response_frame"
    ids = [bytes([9]) * 20, bytes([8]) * 20]
    body = bytes([2 << 2]) + b"".join(ids)
    yield Case("two_ids", inputs={"frame": bytes([len(body) << 2]) + body}, expected={"ids": ids}, spec_ref=ref,
               description="compact32 length 41, then compact 2 and the IDs")
    yield Case("length_mismatch", inputs={"frame": bytes([(len(body) + 1) << 2]) + body}, error="InvalidEncoding",
               reason="length_mismatch", spec_ref=ref, description="the prefix announces one byte more than follows")
    yield Case("too_big", inputs={"frame": bytes.fromhex("02093d00")}, error="InvalidEncoding", reason="response_too_big",
               spec_ref=ref, description="an announced length of 1,000,000")
