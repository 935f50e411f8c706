"""Handlers of the ``hare/*`` vectors (spec/hare.md, spec/hare4.md, spec/fixed.md).

Byte strings are ``0x`` hex; integers above 2^53 are decimal strings.

``hare/protocol/trace`` — the round state machine of one participant.
  inputs: ``threshold`` (int), ``initial`` (list of 20-byte IDs), ``steps``: a list of
  ``{"next": true}`` (execute the current round and advance) or ``{"input": MSG}`` (a message that
  passed signature and eligibility checks, at the participant's current round), where MSG has
  ``sender`` (32 bytes), ``iter``, ``round``, ``proposals`` (list of IDs), ``reference`` (32 bytes or
  null), ``proof`` (80 bytes), ``count``, ``atx_grade`` (0..5), ``malicious`` (bool: sender already
  known malicious), ``msg_hash`` (32 bytes: the equivocation key).
  output: ``steps``, one per input step: for ``next`` ``{"coin": bool|null, "result": [IDs]|null,
  "terminated": bool, "message": {"iter", "round", "proposals", "reference"}|null}``; for an input
  ``{"relay": bool, "equivocation": HareProof SCALE bytes|null}``.

``hare/message/encode`` — inputs: ``layer``, ``iter``, ``round``, ``proposals``, ``reference``,
  ``proof``, ``count``, ``sender``, ``signature``, optional ``compact_proposals`` (hare4).
  output: ``encoded`` (the message), ``body_hash`` (the message hash), ``signed_bytes`` (SCALE
  HareMetadata, before the genesis prefix and domain byte).

``hare/message/decode`` — inputs: ``encoded``, ``hare4`` (bool). output: the fields above and
  ``body_hash``; errors ``InvalidEncoding`` (SCALE) or ``InvalidHareMessage`` (reasons
  ``reference_missing``, ``reference_present``, ``round_out_of_range``, ``duplicate_proposals``).

``hare/message/sign`` — inputs: ``secret`` (32-byte ed25519 seed), ``genesis_id`` (20 bytes), the
  body fields. output: ``sender``, ``signature``, ``encoded``.

``hare/eligibility/count`` — inputs: ``proof`` (80 bytes), ``weight``, ``total_weight``,
  ``committee``, optional ``count`` to validate. output: ``count`` (CalcEligibility) and, when
  ``count`` was given, ``valid``; ``EligibilityError`` for oracle errors.

``hare/eligibility/vrf`` — inputs: ``secret``, ``beacon`` (4 bytes), ``layer``, ``iter``, ``round``,
  ``weight``, ``total_weight``. output: ``vrf_message``, ``proof``, ``count`` (0: not eligible).

``hare/grade/grade`` — inputs: ``received``, ``since`` (each ``[iter, round]``). output: ``delay``,
  ``grade`` (the spec's saturating grade), ``upstream_grade`` (go-spacemesh's uint8 wrap).

``hare/malfeasance/validate`` — inputs: ``proof`` (HareProof SCALE bytes), ``genesis_id``,
  ``has_atx``. output: ``smesher_id``, ``encoded_wrapper`` (MalfeasanceProof bytes);
  ``InvalidMalfeasanceProof`` otherwise.

``hare4/compact/reconstruct`` — see spec/hare4.md: inputs ``compacts`` (list of 4-byte IDs),
  ``local`` (list of ``[id, compact]``). output: ``proposals`` (sorted IDs); errors
  ``InvalidHareMessage`` (``no_layer_proposals``, ``cannot_match_proposals``).

``hare4/exchange/frames`` — inputs ``msg_id`` and ``ids``. output ``request`` and ``response``
  frames; ``InvalidValue`` (``length_over_max``) when ``ids`` exceeds the response limit.
"""

from __future__ import annotations

from typing import Any

from smspec.conformance.handlers import as_int, handler, hexbytes, hexstr
from smspec.conformance.schema import Record, Schema, inp, out, raises

TRACE_MESSAGE = Record("TraceMessage", """
A message that passed signature and eligibility checks, at the participant's current round.
""", (
    inp("sender", "hex:32", "the sender's identity"),
    inp("iter", "uint:8", "iteration"),
    inp("round", "uint:8", "round: 0 preround ... 6 commit, 7 notify"),
    inp("proposals", "list<hex:20>", "proposal IDs"),
    inp("reference", "hex:32|null", "the referenced message hash, or null"),
    inp("proof", "hex:80", "the eligibility VRF proof"),
    inp("count", "uint:16", "the eligibility count"),
    inp("atx_grade", "uint:8", "the grade of the sender's ATX, 0..5"),
    inp("malicious", "bool", "the sender is already known malicious"),
    inp("msg_hash", "hex:32", "the equivocation key"),
))
TRACE_STEP = Record("Step", "Exactly one of `next` and `input`.", (
    inp("next", "bool", "`true`: execute the current round and advance", optional=True),
    inp("input", "{TraceMessage}", "a received message", optional=True),
))


def trace_schema(page: str, summary: str) -> Schema:
    return Schema(
        page=page, summary=summary, spec=("hare.md#on_input", "hare.md#next_round"),
        inputs=(inp("threshold", "uint", "the threshold (committee members needed)"),
                inp("initial", "list<hex:20>", "the participant's initial proposals"),
                inp("steps", "list<{Step}>", "the timed sequence of inputs and round ends")),
        outputs=(out("steps", "list<json>", "one per input step: for `next` {coin: bool|null, result: [IDs]|null, "
                     "terminated: bool, message: {iter, round, proposals, reference}|null}; for an input "
                     "{relay: bool, equivocation: HareProof SCALE hex|null}"),),
        records=(TRACE_STEP, TRACE_MESSAGE))


BODY_FIELDS = (
    inp("layer", "uint:32", "the layer"), inp("iter", "uint:8", "iteration"),
    inp("round", "uint:8", "round: 0 preround, 1 hardlock, 2 softlock, 3 propose, 4 wait1, 5 wait2, 6 commit, 7 notify"),
    inp("proposals", "list<hex:20>", "proposal IDs"),
    inp("reference", "hex:32|null", "the referenced message hash (commit, notify), or null"),
    inp("proof", "hex:80", "the eligibility VRF proof"), inp("count", "uint:16", "the eligibility count"),
)


def _iter_round(hare: Any, pair: list[int]) -> Any:
    return hare.IterRound(int(pair[0]), int(pair[1]))


def _out_json(out: Any) -> dict[str, Any]:
    message = None
    if out.message is not None:
        value = out.message.value
        message = {
            "iter": out.message.iter, "round": int(out.message.round),
            "proposals": [hexstr(x) for x in value.proposals],
            "reference": None if value.reference is None else hexstr(value.reference),
        }
    return {
        "coin": out.coin,
        "result": None if out.result is None else [hexstr(x) for x in out.result],
        "terminated": out.terminated,
        "message": message,
    }


def run_trace(hare: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    state = hare.ProtocolState(threshold=int(inputs["threshold"]))
    hare.on_initial(state, tuple(hexbytes(x, 20) for x in inputs["initial"]))
    outputs: list[dict[str, Any]] = []
    for step in inputs["steps"]:
        if "next" in step:
            outputs.append(_out_json(hare.next_round(state)))
            continue
        msg = step["input"]
        reference = None if msg["reference"] is None else hexbytes(msg["reference"], 32)
        body = hare.Body(
            layer=0, iter=int(msg["iter"]), round=int(msg["round"]),
            value=hare.Value(proposals=tuple(hexbytes(x, 20) for x in msg["proposals"]), reference=reference),
            eligibility=hare.HareEligibility(proof=hexbytes(msg["proof"], 80), count=int(msg["count"])),
        )
        message = hare.Message(body=body, sender=hexbytes(msg["sender"], 32))
        inp = hare.HareInput(message=message, atx_grade=int(msg["atx_grade"]), malicious=bool(msg["malicious"]),
                             msg_hash=hexbytes(msg["msg_hash"], 32))
        relay, proof = hare.on_input(state, inp)
        encoded = None if proof is None else hexstr(hare.encode(proof, hare.HareProof))
        outputs.append({"relay": relay, "equivocation": encoded})
    return {"steps": outputs}


@handler("hare", "protocol", "trace", schema=trace_schema("hare-protocol-trace", "A timed sequence of inputs and rounds through one participant's state machine (traces written by hand)."))
def protocol_trace(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Run a timed sequence of inputs and rounds through one participant's state machine."""
    return run_trace(spec("hare"), inputs)


@handler("hare", "protocol", "trace_simulated", schema=trace_schema("hare-protocol-trace_simulated", "One honest node's inputs recorded from a simulated network; same format as hare/protocol/trace."))
def protocol_trace_simulated(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """One honest node's inputs recorded from a simulated network (same format as ``trace``)."""
    return run_trace(spec("hare"), inputs)


@handler("hare", "protocol", "trace_decisions", schema=trace_schema("hare-protocol-trace_decisions", "Traces whose outcome depends on a *Decision* of hare.md; same format as hare/protocol/trace."))
def protocol_trace_decisions(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Traces whose outcome depends on a *Decision* of hare.md (same format as ``trace``)."""
    return run_trace(spec("hare"), inputs)


def _body(hare: Any, hare4: Any, inputs: dict[str, Any]) -> Any:
    reference = inputs.get("reference")
    reference = None if reference is None else hexbytes(reference, 32)
    eligibility = hare.HareEligibility(proof=hexbytes(inputs["proof"], 80), count=as_int(inputs["count"]))
    proposals = tuple(hexbytes(x, 20) for x in inputs.get("proposals", []))
    if "compact_proposals" in inputs:
        value = hare4.Value4(proposals=proposals, compact_proposals=tuple(hexbytes(x, 4) for x in inputs["compact_proposals"]),
                             reference=reference)
        return hare4.Body4(layer=as_int(inputs["layer"]), iter=as_int(inputs["iter"]), round=as_int(inputs["round"]),
                           value=value, eligibility=eligibility)
    value = hare.Value(proposals=proposals, reference=reference)
    return hare.Body(layer=as_int(inputs["layer"]), iter=as_int(inputs["iter"]), round=as_int(inputs["round"]),
                     value=value, eligibility=eligibility)


def _message_json(hare: Any, message: Any) -> dict[str, Any]:
    body = message.body
    out = {
        "layer": body.layer, "iter": body.iter, "round": body.round,
        "proposals": [hexstr(x) for x in body.value.proposals],
        "reference": None if body.value.reference is None else hexstr(body.value.reference),
        "proof": hexstr(body.eligibility.proof), "count": body.eligibility.count,
        "sender": hexstr(message.sender), "signature": hexstr(message.signature),
        "body_hash": hexstr(hare.message_hash(body)),
        "signed_bytes": hexstr(hare.signed_bytes(body)),
    }
    if hasattr(body.value, "compact_proposals"):
        out["compact_proposals"] = [hexstr(x) for x in body.value.compact_proposals]
    return out


@handler("hare", "message", "encode", schema=Schema(
    page="hare-message-encode", summary="Encode a Hare 3 message (or a Hare 4 one, given `compact_proposals`).",
    spec=("hare.md#message", "hare.md#message_hash", "hare.md#message_metadata-signed_bytes", "hare4.md#message4"),
    inputs=(*BODY_FIELDS, inp("sender", "hex:32", "the sender"), inp("signature", "hex:64", "the signature"),
            inp("compact_proposals", "list<hex:4>", "Hare 4: the compact IDs (the message is a Message4)", optional=True)),
    outputs=(out("encoded", "hex", "the message's SCALE bytes"), out("body_hash", "hex:32", "the message hash"),
             out("signed_bytes", "hex", "SCALE HareMetadata, before the genesis prefix and domain byte")),
    raises=(raises("InvalidValue", "length_over_max", "more proposal IDs than the wire type holds"),)))
def message_encode(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Encode a message; output its bytes, body hash and signed bytes."""
    hare = spec("hare")
    hare4 = spec("hare4") if "compact_proposals" in inputs else None
    body = _body(hare, hare4, inputs)
    message_class = hare4.Message4 if hare4 is not None else hare.Message
    message = message_class(body=body, sender=hexbytes(inputs["sender"], 32), signature=hexbytes(inputs["signature"], 64))
    return {"encoded": hexstr(hare.encode(message, message_class)), "body_hash": hexstr(hare.message_hash(body)),
            "signed_bytes": hexstr(hare.signed_bytes(body))}


@handler("hare", "message", "decode", schema=Schema(
    page="hare-message-decode", summary="Decode and validate a Hare message.",
    spec=("hare.md#decode_message", "hare.md#validate_message", "hare4.md#decode_message4"),
    inputs=(inp("encoded", "hex", "the message bytes"),
            inp("hare4", "bool", "decode as a Hare 4 Message4", default=False)),
    outputs=(*(out(f.name, f.type, f.doc) for f in BODY_FIELDS),
             out("sender", "hex:32", "the sender"), out("signature", "hex:64", "the signature"),
             out("body_hash", "hex:32", "the message hash"), out("signed_bytes", "hex", "SCALE HareMetadata"),
             out("compact_proposals", "list<hex:4>", "Hare 4 only", optional=True)),
    raises=(raises("InvalidEncoding", ("trailing_bytes", "short_input", "non_canonical_compact", "compact_overflow",
                                       "length_over_max"), "bytes that do not decode (SCALE)"), raises("InvalidHareMessage", ("round_out_of_range", "reference_missing", "reference_present", "duplicate_proposals"), "a message go-spacemesh must not accept, checked in this order"))))
def message_decode(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Decode and validate a message; output its fields and body hash."""
    hare = spec("hare")
    data = hexbytes(inputs["encoded"])
    message = spec("hare4").decode_message4(data) if inputs.get("hare4") else hare.decode_message(data)
    return _message_json(hare, message)


@handler("hare", "message", "sign", schema=Schema(
    page="hare-message-sign", summary="Sign a message body with an Ed25519 seed under a genesis ID.",
    spec=("hare.md#sign_body",),
    inputs=(inp("secret", "hex:32", "the Ed25519 seed"), inp("genesis_id", "hex:20", "the genesis ID"), *BODY_FIELDS),
    outputs=(out("sender", "hex:32", "the public key"), out("signature", "hex:64", "the signature"),
             out("encoded", "hex", "the signed message's bytes"))))
def message_sign(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Sign a body with an ed25519 seed under a genesis ID; output sender, signature, encoding."""
    hare = spec("hare")
    crypto = spec("crypto")
    body = _body(hare, None, inputs)
    secret = hexbytes(inputs["secret"], 32)
    sender = crypto.public_key(secret)
    signature = hare.sign_body(secret, hexbytes(inputs["genesis_id"], 20), body)
    message = hare.Message(body=body, sender=sender, signature=signature)
    return {"sender": hexstr(sender), "signature": hexstr(signature), "encoded": hexstr(hare.encode(message, hare.Message))}


@handler("hare", "eligibility", "count", schema=Schema(
    page="hare-eligibility-count", summary="The eligibility count of a VRF proof (CalcEligibility), and the "
    "validation of a claimed count.",
    spec=("hare.md#eligibility_count", "hare.md#validate_eligibility_count", "hare.md#eligibility_parameters"),
    inputs=(inp("proof", "hex:80", "the VRF proof (its first 7 bytes are the fraction)"),
            inp("weight", "uint:64", "the identity's weight"), inp("total_weight", "uint:64", "the active set's weight"),
            inp("committee", "uint:32", "the committee size"),
            inp("count", "uint:16", "a claimed count to validate", optional=True)),
    outputs=(out("count", "uint", "the count"), out("valid", "bool", "whether the claimed count is valid (when given)",
                                                      optional=True)),
    raises=(raises("EligibilityError", ("zero_committee", "zero_total_weight", "weight_above_maximum"),
                   "the oracle refuses (weight_above_maximum only when validating a claimed count)"),)))
def eligibility_count(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Eligibility count (and validation) from raw proof bytes."""
    hare = spec("hare")
    proof = hexbytes(inputs["proof"], 80)
    weight, total, committee = as_int(inputs["weight"]), as_int(inputs["total_weight"]), as_int(inputs["committee"])
    out: dict[str, Any] = {"count": hare.eligibility_count(proof, weight, total, committee)}
    if "count" in inputs:
        out["valid"] = hare.validate_eligibility_count(proof, weight, total, committee, as_int(inputs["count"]))
    return out


@handler("hare", "eligibility", "vrf", schema=Schema(
    page="hare-eligibility-vrf", summary="A participant's own VRF proof and count for a round.",
    spec=("hare.md#own_eligibility", "hare.md#vrf_message"),
    inputs=(inp("secret", "hex:32", "the Ed25519 seed"), inp("beacon", "hex:4", "the epoch beacon"),
            inp("layer", "uint:32", "the layer"), inp("iter", "uint:8", "iteration"), inp("round", "uint:8", "round"),
            inp("weight", "uint:64", "own weight"), inp("total_weight", "uint:64", "the active set's weight")),
    outputs=(out("vrf_message", "hex", "the VRF input"), out("proof", "hex:80", "the VRF proof"),
             out("count", "uint", "the count (0: not eligible)"))))
def eligibility_vrf(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """A participant's own VRF proof and count for a round."""
    hare = spec("hare")
    crypto = spec("crypto")
    secret = hexbytes(inputs["secret"], 32)
    beacon = hexbytes(inputs["beacon"], 4)
    layer = as_int(inputs["layer"])
    ir = hare.IterRound(as_int(inputs["iter"]), as_int(inputs["round"]))
    alpha = hare.vrf_message(beacon, layer, hare.absolute_round(ir))
    proof = crypto.vrf_prove(secret, alpha)
    committee = hare.round_committee(layer, ir.round)
    count = hare.eligibility_count(proof, as_int(inputs["weight"]), as_int(inputs["total_weight"]), committee)
    return {"vrf_message": hexstr(alpha), "proof": hexstr(proof), "count": count}


@handler("hare", "grade", "grade", schema=Schema(
    page="hare-grade-grade", summary="The delay and the receive-time grade of a message of round `since` "
    "received during round `received`.",
    spec=("hare.md#delay_since", "hare.md#grade_since-upstream_grade_since"),
    inputs=(inp("received", "list<uint>", "[iteration, round] when received"),
            inp("since", "list<uint>", "[iteration, round] of the message")),
    outputs=(out("delay", "uint", "rounds of delay"), out("grade", "uint", "the spec's saturating grade"),
             out("upstream_grade", "uint", "go-spacemesh's uint8 grade (wraps)"))))
def grade(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Delay and receive-time grade of a message of round `since` stamped `received`."""
    hare = spec("hare")
    received, since = _iter_round(hare, inputs["received"]), _iter_round(hare, inputs["since"])
    return {"delay": hare.delay_since(received, since), "grade": hare.grade_since(received, since),
            "upstream_grade": hare.upstream_grade_since(received, since)}


@handler("hare", "malfeasance", "validate", schema=Schema(
    page="hare-malfeasance-validate", summary="Validate a Hare equivocation proof.",
    spec=("hare.md#validate_hare_proof", "hare.md#malfeasance_proof"),
    inputs=(inp("proof", "hex", "HareProof SCALE bytes"), inp("genesis_id", "hex:20", "the genesis ID"),
            inp("has_atx", "bool", "whether the identity has an ATX")),
    outputs=(out("smesher_id", "hex:32", "the convicted identity"),
             out("encoded_wrapper", "hex", "the stored MalfeasanceProof bytes")),
    raises=(raises("InvalidMalfeasanceProof", ("bad_signature", "no_atx", "different_smeshers", "different_rounds",
                                                "same_message"), "not a proof of equivocation, checked in this order"),
            raises("InvalidEncoding", (), "bytes that do not decode"))))
def malfeasance_validate(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Validate a Hare equivocation proof."""
    hare = spec("hare")
    proof = hare.decode(hexbytes(inputs["proof"]), hare.HareProof)
    smesher = hare.validate_hare_proof(proof, hexbytes(inputs["genesis_id"], 20), bool(inputs["has_atx"]))
    wrapper = hare.malfeasance_proof(proof)
    return {"smesher_id": hexstr(smesher), "encoded_wrapper": hexstr(hare.encode(wrapper, hare.MalfeasanceProof))}


@handler("hare4", "compact", "reconstruct", schema=Schema(
    page="hare4-compact-reconstruct", summary="Match compact IDs against the local proposals of the layer.",
    spec=("hare4.md#reconstruct_proposals",),
    inputs=(inp("compacts", "list<hex:4>", "the message's compact IDs"),
            inp("local", "list<list<hex>>", "local proposals as [ID (20 bytes), compact ID (4 bytes)] pairs")),
    outputs=(out("proposals", "list<hex:20>", "the matched IDs, sorted"),),
    raises=(raises("InvalidHareMessage", ("no_layer_proposals", "cannot_match_proposals"), "no local proposal, or a "
                   "compact ID without an unused match"),)))
def compact_reconstruct(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Match compact IDs against the local proposals of the layer."""
    hare4 = spec("hare4")
    local = [(hexbytes(pair[0], 20), hexbytes(pair[1], 4)) for pair in inputs["local"]]
    compacts = tuple(hexbytes(x, 4) for x in inputs["compacts"])
    return {"proposals": [hexstr(x) for x in hare4.reconstruct_proposals(compacts, local)]}


@handler("hare4", "exchange", "frames", schema=Schema(
    page="hare4-exchange-frames", summary="The full-exchange request and response frames.",
    spec=("hare4.md#request_frame", "hare4.md#response_frame"),
    inputs=(inp("msg_id", "hex:32", "the message ID"), inp("ids", "list<hex:20>", "the proposal IDs to serve")),
    outputs=(out("request", "hex", "LEB128 length 32 then the message ID"),
             out("response", "hex", "compact32 length, then the SCALE list of IDs")),
    raises=(raises("InvalidValue", "length_over_max", "more IDs than the response limit (2050)"),)))
def exchange_frames(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Full-exchange request and response frames."""
    hare4 = spec("hare4")
    ids = tuple(hexbytes(x, 20) for x in inputs["ids"])
    return {"request": hexstr(hare4.request_frame(hexbytes(inputs["msg_id"], 32))),
            "response": hexstr(hare4.response_frame(ids))}


SESSION_FIELDS = (
    inp("layer", "uint:32", "the session's layer"), inp("genesis_id", "hex:20", "the genesis ID (signing prefix)"),
    inp("beacon", "hex:4", "the epoch beacon"),
    inp("weights", "map<uint:64>", "the active set: identity (32 bytes hex) → ATX weight"),
    inp("committee", "uint:32", "the committee size (committee_for(layer) on the live network)"),
    inp("leaders", "uint:32", "the propose-round committee size (LEADERS on the live network)"),
)
RECEIVE_OUTCOMES = ("per message, in order: {relay: true, proof: HareProof SCALE hex|null} (Hare 4 adds msg_id, "
                    "full_proposals, fetched), or {error, reason} when the message is dropped: InvalidEncoding, "
                    "InvalidSignature bad_signature, InvalidHareMessage not_registered / not_eligible / not_relayed / "
                    "reference_missing ... (Hare 4: no_layer_proposals, fetch_failed, proposals_mismatch)")


def _context(hare: Any, inputs: dict[str, Any]) -> Any:
    active = hare.ActiveSet(beacon=hexbytes(inputs["beacon"], 4),
                            weights={hexbytes(k, 32): as_int(v) for k, v in inputs["weights"].items()})
    return hare.SessionContext(layer=as_int(inputs["layer"]), genesis_id=hexbytes(inputs["genesis_id"], 20),
                               active=active, committee=as_int(inputs["committee"]), leaders=as_int(inputs["leaders"]))


def _dropped(error: Exception) -> dict[str, Any]:
    return {"error": type(error).__name__, "reason": getattr(error, "reason", None)}


@handler("hare", "session", "receive", schema=Schema(
    page="hare-session-receive", summary="The Hare 3 receive pipeline of one node's session: messages in order "
    "through decoding, layer, signature, eligibility grade and the state machine.",
    spec=("hare.md#receive_message", "hare.md#receive_decoded", "hare.md#message_grade", "hare.md#verify_body"),
    inputs=(*SESSION_FIELDS, inp("threshold", "uint", "the state machine's threshold"),
            inp("messages", "list<{Incoming}>", "the messages received, in order")),
    outputs=(out("results", "list<json>", RECEIVE_OUTCOMES),),
    records=(Record("Incoming", "A received message.", (
        inp("encoded", "hex", "the message's wire bytes"),
        inp("malicious", "bool", "the sender is already known malicious", default=False))),),
    notes=("A dropped message is an outcome, not an error of the case: the pipeline goes on with the next one.",)))
def session_receive(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Feed wire messages to one session's state machine."""
    from smspec.spec.errors import SpecError

    hare = spec("hare")
    context = _context(hare, inputs)
    state = hare.ProtocolState(threshold=as_int(inputs["threshold"]))
    results: list[dict[str, Any]] = []
    for incoming in inputs["messages"]:
        try:
            received = hare.receive_message(context, state, hexbytes(incoming["encoded"]), bool(incoming["malicious"]))
        except SpecError as error:
            results.append(_dropped(error))
            continue
        results.append({"relay": received.relay,
                        "proof": None if received.proof is None else hexstr(hare.encode(received.proof, hare.HareProof))})
    return {"results": results}


ROUND_FIELDS = (
    inp("iter", "uint:8", "iteration"), inp("round", "uint:8", "round: 0 preround ... 7 notify"),
    inp("proposals", "list<hex:20>", "the round output's proposal IDs", default=[]),
    inp("reference", "hex:32|null", "the round output's reference", default=None),
)


@handler("hare", "session", "send", schema=Schema(
    page="hare-session-send", summary="What a node sends in a round: its own eligibility and, when eligible, the "
    "signed message; with the round's start time and the layer's committee and threshold.",
    spec=("hare.md#own_eligibility", "hare.md#build_message", "hare.md#round_start_ms", "hare.md#committee_for",
          "hare.md#threshold_for"),
    inputs=(*SESSION_FIELDS, inp("secret", "hex:32", "the identity's Ed25519 seed"), *ROUND_FIELDS),
    outputs=(out("eligibility", "json", "null (not in the active set, or count 0), or {proof: hex80, count}"),
             out("message", "hex|null", "the signed message's wire bytes, or null"),
             out("round_start_ms", "uint", "milliseconds after the layer start at which the round executes"),
             out("committee_for_layer", "uint", "the live committee size of the layer"),
             out("threshold_for_layer", "uint", "the live threshold of the layer")),
    raises=(raises("InvalidValue", "length_over_max", "more proposal IDs than the wire type holds"),)))
def session_send(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Own eligibility and the message of one round."""
    hare = spec("hare")
    crypto = spec("crypto")
    context = _context(hare, inputs)
    secret = hexbytes(inputs["secret"], 32)
    public = crypto.public_key(secret)
    ir = hare.IterRound(as_int(inputs["iter"]), as_int(inputs["round"]))
    eligibility = hare.own_eligibility(context.active, secret, public, context.layer, ir, context.committee,
                                       context.leaders)
    message = None
    if eligibility is not None:
        reference = inputs["reference"]
        value = hare.Value(proposals=tuple(hexbytes(x, 20) for x in inputs["proposals"]),
                           reference=None if reference is None else hexbytes(reference, 32))
        built = hare.build_message(secret, public, context.genesis_id, context.layer,
                                   hare.ProtocolMessage(ir.iter, ir.round, value), eligibility)
        message = hexstr(hare.encode(built, hare.Message))
    return {
        "eligibility": None if eligibility is None else {"proof": hexstr(eligibility.proof), "count": eligibility.count},
        "message": message,
        "round_start_ms": hare.round_start_ms(ir),
        "committee_for_layer": hare.committee_for(context.layer),
        "threshold_for_layer": hare.threshold_for(context.layer),
    }


@handler("hare", "session", "stop", schema=Schema(
    page="hare-session-stop", summary="Whether the session driver stops after executing a round.",
    spec=("hare.md#session_should_stop",),
    inputs=(inp("executed", "list<uint>", "[iteration, round] just executed"),
            inp("terminated", "bool", "the round's output reports termination"),
            inp("iterations_limit", "uint", "the iteration limit (ITERATIONS_LIMIT on the live network)")),
    outputs=(out("stop", "bool", "whether the driver stops"),)))
def session_stop(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """The session driver's stop rule."""
    hare = spec("hare")
    out_ = hare.Output(coin=None, result=None, terminated=bool(inputs["terminated"]), message=None)
    executed = _iter_round(hare, inputs["executed"])
    return {"stop": hare.session_should_stop(executed, out_, as_int(inputs["iterations_limit"]))}


@handler("hare4", "session", "receive", schema=Schema(
    page="hare4-session-receive", summary="The Hare 4 receive pipeline: reconstruction from local proposals, the "
    "full exchange (answered from the case's table), signature, eligibility and the state machine.",
    spec=("hare4.md#receive_message4", "hare4.md#with_proposals", "hare4.md#reconstruct_proposals"),
    inputs=(*SESSION_FIELDS, inp("threshold", "uint", "the state machine's threshold"),
            inp("local", "list<list<hex>>", "the receiver's proposals of the layer as [ID, compact ID] pairs"),
            inp("exchange", "map<list<hex:20>|null>", "message ID (32 bytes hex) → the full IDs a peer answers, or "
                "null for a failed exchange; absent IDs fail too", default={}),
            inp("messages", "list<{Incoming}>", "the messages received, in order")),
    outputs=(out("results", "list<json>", RECEIVE_OUTCOMES),),
    records=(Record("Incoming", "A received message.", (
        inp("encoded", "hex", "the message's wire bytes"),
        inp("malicious", "bool", "the sender is already known malicious", default=False))),)))
def session_receive4(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Feed Hare 4 wire messages to one session's state machine."""
    from smspec.spec.errors import SpecError

    hare = spec("hare")
    hare4 = spec("hare4")
    context = _context(hare, inputs)
    state = hare.ProtocolState(threshold=as_int(inputs["threshold"]))
    local = [(hexbytes(pair[0], 20), hexbytes(pair[1], 4)) for pair in inputs["local"]]
    table = inputs["exchange"]

    def fetch(msg_id: bytes) -> tuple[bytes, ...] | None:
        answer = table.get(hexstr(msg_id))
        return None if answer is None else tuple(hexbytes(x, 20) for x in answer)

    results: list[dict[str, Any]] = []
    for incoming in inputs["messages"]:
        try:
            got = hare4.receive_message4(context, state, hexbytes(incoming["encoded"]), bool(incoming["malicious"]),
                                         local, fetch)
        except SpecError as error:
            results.append(_dropped(error))
            continue
        results.append({
            "relay": got.relay, "proof": None if got.proof is None else hexstr(hare.encode(got.proof, hare.HareProof)),
            "msg_id": hexstr(got.msg_id), "fetched": got.fetched,
            "full_proposals": None if got.full_proposals is None else [hexstr(x) for x in got.full_proposals],
        })
    return {"results": results}


@handler("hare4", "session", "send", schema=Schema(
    page="hare4-session-send", summary="A Hare 4 round message: signed over the reconstructed body, sent with compact "
    "IDs in preround (compact ID = the first 4 bytes of a proposal's first eligibility proof).",
    spec=("hare4.md#build_message4", "hare4.md#compact_id"),
    inputs=(inp("secret", "hex:32", "the identity's Ed25519 seed"), inp("genesis_id", "hex:20", "the genesis ID"),
            inp("layer", "uint:32", "the layer"), *ROUND_FIELDS,
            inp("proof", "hex:80", "the identity's eligibility proof"), inp("count", "uint:16", "its count"),
            inp("proposal_proofs", "map<hex>", "proposal ID → its first ballot eligibility proof (the compact ID "
                "source)", default={})),
    outputs=(out("message", "hex|null", "the wire message, or null (a preround proposal without a compact ID)"),
             out("msg_id", "hex:32|null", "the hash of the wire body, or null"),
             out("compacts", "map<hex:4>", "proposal ID → its compact ID")),
    raises=(raises("InvalidValue", "length_over_max", "more IDs than the wire type holds"),)))
def session_send4(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Build a Hare 4 round message."""
    hare = spec("hare")
    hare4 = spec("hare4")
    crypto = spec("crypto")
    secret = hexbytes(inputs["secret"], 32)
    compacts = {hexbytes(k, 20): hare4.compact_id(hexbytes(v)) for k, v in inputs["proposal_proofs"].items()}
    reference = inputs["reference"]
    value = hare.Value(proposals=tuple(hexbytes(x, 20) for x in inputs["proposals"]),
                       reference=None if reference is None else hexbytes(reference, 32))
    out_ = hare.ProtocolMessage(as_int(inputs["iter"]), as_int(inputs["round"]), value)
    eligibility = hare.HareEligibility(proof=hexbytes(inputs["proof"], 80), count=as_int(inputs["count"]))
    built = hare4.build_message4(secret, crypto.public_key(secret), hexbytes(inputs["genesis_id"], 20),
                                 as_int(inputs["layer"]), out_, eligibility, compacts)
    return {"message": None if built is None else hexstr(hare.encode(built[0], hare4.Message4)),
            "msg_id": None if built is None else hexstr(built[1]),
            "compacts": {hexstr(k): hexstr(v) for k, v in sorted(compacts.items())}}


@handler("hare4", "exchange", "parse_response", schema=Schema(
    page="hare4-exchange-parse_response", summary="Parse a full-exchange response frame.",
    spec=("hare4.md#parse_response_frame",),
    inputs=(inp("frame", "hex", "the bytes a server wrote"),),
    outputs=(out("ids", "list<hex:20>", "the full proposal IDs"),),
    raises=(raises("InvalidEncoding", ("response_too_big", "length_mismatch", "short_input", "trailing_bytes",
                                       "non_canonical_compact", "compact_overflow", "length_over_max"),
                   "an announced length of 1,000,000 or more, a length that differs from the bytes, a bad body"),)))
def parse_response(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """The IDs of a response frame."""
    return {"ids": [hexstr(x) for x in spec("hare4").parse_response_frame(hexbytes(inputs["frame"]))]}
