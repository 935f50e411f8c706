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


@handler("hare", "protocol", "trace")
def protocol_trace(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Run a timed sequence of inputs and rounds through one participant's state machine."""
    return run_trace(spec("hare"), inputs)


@handler("hare", "protocol", "trace_simulated")
def protocol_trace_simulated(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """One honest node's inputs recorded from a simulated network (same format as ``trace``)."""
    return run_trace(spec("hare"), inputs)


@handler("hare", "protocol", "trace_decisions")
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


@handler("hare", "message", "encode")
def message_encode(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Encode a message; output its bytes, body hash and signed bytes."""
    hare = spec("hare")
    hare4 = spec("hare4") if "compact_proposals" in inputs else None
    body = _body(hare, hare4, inputs)
    message_class = hare4.Message4 if hare4 is not None else hare.Message
    message = message_class(body=body, sender=hexbytes(inputs["sender"], 32), signature=hexbytes(inputs["signature"], 64))
    return {"encoded": hexstr(hare.encode(message, message_class)), "body_hash": hexstr(hare.message_hash(body)),
            "signed_bytes": hexstr(hare.signed_bytes(body))}


@handler("hare", "message", "decode")
def message_decode(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Decode and validate a message; output its fields and body hash."""
    hare = spec("hare")
    data = hexbytes(inputs["encoded"])
    message = spec("hare4").decode_message4(data) if inputs.get("hare4") else hare.decode_message(data)
    return _message_json(hare, message)


@handler("hare", "message", "sign")
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


@handler("hare", "eligibility", "count")
def eligibility_count(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Eligibility count (and validation) from raw proof bytes."""
    hare = spec("hare")
    proof = hexbytes(inputs["proof"], 80)
    weight, total, committee = as_int(inputs["weight"]), as_int(inputs["total_weight"]), as_int(inputs["committee"])
    out: dict[str, Any] = {"count": hare.eligibility_count(proof, weight, total, committee)}
    if "count" in inputs:
        out["valid"] = hare.validate_eligibility_count(proof, weight, total, committee, as_int(inputs["count"]))
    return out


@handler("hare", "eligibility", "vrf")
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


@handler("hare", "grade", "grade")
def grade(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Delay and receive-time grade of a message of round `since` stamped `received`."""
    hare = spec("hare")
    received, since = _iter_round(hare, inputs["received"]), _iter_round(hare, inputs["since"])
    return {"delay": hare.delay_since(received, since), "grade": hare.grade_since(received, since),
            "upstream_grade": hare.upstream_grade_since(received, since)}


@handler("hare", "malfeasance", "validate")
def malfeasance_validate(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Validate a Hare equivocation proof."""
    hare = spec("hare")
    proof = hare.decode(hexbytes(inputs["proof"]), hare.HareProof)
    smesher = hare.validate_hare_proof(proof, hexbytes(inputs["genesis_id"], 20), bool(inputs["has_atx"]))
    wrapper = hare.malfeasance_proof(proof)
    return {"smesher_id": hexstr(smesher), "encoded_wrapper": hexstr(hare.encode(wrapper, hare.MalfeasanceProof))}


@handler("hare4", "compact", "reconstruct")
def compact_reconstruct(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Match compact IDs against the local proposals of the layer."""
    hare4 = spec("hare4")
    local = [(hexbytes(pair[0], 20), hexbytes(pair[1], 4)) for pair in inputs["local"]]
    compacts = tuple(hexbytes(x, 4) for x in inputs["compacts"])
    return {"proposals": [hexstr(x) for x in hare4.reconstruct_proposals(compacts, local)]}


@handler("hare4", "exchange", "frames")
def exchange_frames(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Full-exchange request and response frames."""
    hare4 = spec("hare4")
    ids = tuple(hexbytes(x, 20) for x in inputs["ids"])
    return {"request": hexstr(hare4.request_frame(hexbytes(inputs["msg_id"], 32))),
            "response": hexstr(hare4.response_frame(ids))}
