"""Handlers of the ``node/*`` vectors: the reference node's rules (spec/node.md).

Bytes travel as ``0x`` hex. A refused input is ``InvalidProposal``, ``InvalidCertificate`` or
``InvalidAddress`` with its reason.

* ``eligibility/proposal_slots``: inputs ``weight``, ``total_weight``, ``layers_per_epoch``,
  ``layer_size``. Output ``{"slots"}``.
* ``eligibility/eligible_layer``: inputs ``epoch``, ``layers_per_epoch``, ``proof`` (80 bytes).
  Output ``{"layer"}``.
* ``proposal/validate``: inputs ``proposal`` (SCALE ``Proposal``) and the view: ``genesis_id``,
  ``current_layer``, ``first_ballot_layer``, ``layers_per_epoch``, ``layer_size``, ``atx``
  (``id``, ``publish_epoch``, ``smesher_id``, ``weight``, ``vrf_nonce``, or null),
  ``total_weight``, ``smesher_malicious``, ``reference`` (SCALE ``Proposal`` or null),
  ``other_in_layer``. Output ``{"slots"}``.
* ``certificate/majority``: inputs ``weights`` (``[[signer, weight], ...]``), ``signed``
  (``[[signer, block ID], ...]``), ``block``. Output ``{"majority"}``.
* ``address/encode``: inputs ``hrp``, ``address`` (24 bytes). Output ``{"text"}``;
  ``address/decode``: inputs ``hrp``, ``text``. Output ``{"address"}``.
* ``malfeasance/double_proposal``: inputs ``proof`` (SCALE ``DoubleProposalProof``),
  ``genesis_id``. Output ``{"smesher"}``.
"""

from __future__ import annotations

from typing import Any

from smspec.conformance.handlers import as_int, handler, hexbytes, hexstr


@handler("node", "eligibility", "proposal_slots")
def proposal_slots(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: weight, total_weight, layers_per_epoch, layer_size. output: slots."""
    node = spec("node")
    return {"slots": node.proposal_slots(as_int(inputs["weight"]), as_int(inputs["total_weight"]),
                                         inputs["layers_per_epoch"], inputs["layer_size"])}


@handler("node", "eligibility", "eligible_layer")
def eligible_layer(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: epoch, layers_per_epoch, proof (80 bytes). output: layer."""
    node = spec("node")
    return {"layer": node.eligible_layer(inputs["epoch"], inputs["layers_per_epoch"], hexbytes(inputs["proof"], 80))}


@handler("node", "proposal", "validate")
def validate_proposal(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: proposal and the node's view (see the module). output: slots."""
    node = spec("node")
    scale = spec("scale")
    proposal = scale.decode(hexbytes(inputs["proposal"]), node.Proposal)
    atx = inputs["atx"]
    facts = None if atx is None else node.AtxFacts(hexbytes(atx["id"], 32), atx["publish_epoch"],
                                                   hexbytes(atx["smesher_id"], 32), as_int(atx["weight"]),
                                                   as_int(atx["vrf_nonce"]))
    reference = None if inputs["reference"] is None else scale.decode(hexbytes(inputs["reference"]), node.Proposal)
    view = node.ProposalView(
        genesis_id=hexbytes(inputs["genesis_id"], 20), current_layer=inputs["current_layer"],
        first_ballot_layer=inputs["first_ballot_layer"], layers_per_epoch=inputs["layers_per_epoch"],
        layer_size=inputs["layer_size"], atx=facts, total_weight=as_int(inputs["total_weight"]),
        smesher_malicious=bool(inputs["smesher_malicious"]), reference=reference,
        other_in_layer=bool(inputs["other_in_layer"]))
    return {"slots": node.validate_proposal(proposal, view)}


@handler("node", "certificate", "majority")
def certificate_majority(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: weights [[signer, weight]], signed [[signer, block]], block. output: majority (bool)."""
    node = spec("node")
    weights = {hexbytes(signer, 32): as_int(weight) for signer, weight in inputs["weights"]}
    signed = [(hexbytes(signer, 32), hexbytes(block, 20)) for signer, block in inputs["signed"]]
    return {"majority": node.certificate_majority(weights, signed, hexbytes(inputs["block"], 20))}


@handler("node", "address", "encode")
def address_encode(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: hrp, address (24 bytes). output: text (bech32)."""
    return {"text": spec("node").encode_address(inputs["hrp"], hexbytes(inputs["address"], 24))}


@handler("node", "address", "decode")
def address_decode(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: hrp, text. output: address (24 bytes) or InvalidAddress(reason)."""
    return {"address": hexstr(spec("node").decode_address(inputs["hrp"], inputs["text"]))}


@handler("node", "malfeasance", "double_proposal")
def double_proposal(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: proof (SCALE DoubleProposalProof), genesis_id. output: smesher."""
    node = spec("node")
    proof = spec("scale").decode(hexbytes(inputs["proof"]), node.DoubleProposalProof)
    return {"smesher": hexstr(node.validate_double_proposal_proof(proof, hexbytes(inputs["genesis_id"], 20)))}
