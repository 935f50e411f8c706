"""Handlers of the ``node/*`` vectors: the reference node's rules (spec/node.md).

Bytes travel as ``0x`` hex. A refused input is ``InvalidProposal`` or ``InvalidAddress`` with its
reason. These are rules of smspec's devnet (node.md's *Devnet rules*; level ``devnet``) except the
bech32 addresses, which are go-spacemesh's. Inputs, outputs and errors: each handler's schema (the
format pages under ``conformance/formats/handlers/``); the wire types are ``node/wire/*``
(``wire.py``).
"""

from __future__ import annotations

from typing import Any

from smspec.conformance.handlers import as_int, handler, hexbytes, hexstr
from smspec.conformance.schema import Record, Schema, inp, out, raises

LAYOUT = inp("layers_per_epoch", "uint:32", "layers per epoch")
PROPOSAL_ENCODING = raises("InvalidEncoding", ("short_input", "trailing_bytes", "non_canonical_compact",
                                               "compact_overflow", "length_over_max"),
                           "bytes that do not decode as a SCALE `Proposal` (node.md#proposal)")
INVALID_PROPOSAL = raises("InvalidProposal", (
    "genesis_layer", "future_layer", "bad_signature", "atx_not_in_epoch", "atx_of_another_smesher",
    "malicious_smesher", "ref_and_epoch_data", "wrong_eligibility_count", "no_epoch_data", "ref_unknown", "bad_ref",
    "bad_eligibility_counters", "bad_eligibility_proof", "not_eligible_in_layer", "double_proposal"),
    "the first rule of node.md#validate_proposal the proposal breaks")
ATX_FACTS = Record("AtxFacts", "What the proposal rules need to know of the ATX a proposal names (node.md#atxfacts).", (
    inp("id", "hex:32", "the ATX ID"), inp("publish_epoch", "uint:32", "its publish epoch"),
    inp("smesher_id", "hex:32", "its smesher"), inp("weight", "uint:64", "its weight"),
    inp("vrf_nonce", "uint:64", "its VRF nonce"),
))
ADDRESS_ERRORS = raises("InvalidAddress", ("bad_format", "wrong_hrp", "bad_character", "bad_checksum", "bad_length"),
                        "text that is not a bech32 address of 24 bytes with this human-readable part "
                        "(node.md#decode_address)")


@handler("node", "eligibility", "proposal_slots", schema=Schema(
    page="node-eligibility-proposal_slots", summary="How many proposal eligibility slots an ATX of this weight gets "
    "in an epoch (a *Devnet rule* after go-spacemesh's proposals/util).",
    spec=("node.md#proposal_slots", "node.md#proposal-eligibility"),
    inputs=(inp("weight", "uint:64", "the ATX's weight"), inp("total_weight", "uint:64", "the epoch's total weight"),
            LAYOUT, inp("layer_size", "uint:32", "expected proposals per layer")),
    outputs=(out("slots", "uint", "ceil(weight x layer_size x layers_per_epoch / total_weight), at least 1; 0 "
                 "when the total weight is 0"),)))
def proposal_slots(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: weight, total_weight, layers_per_epoch, layer_size. output: slots."""
    node = spec("node")
    return {"slots": node.proposal_slots(as_int(inputs["weight"]), as_int(inputs["total_weight"]),
                                         inputs["layers_per_epoch"], inputs["layer_size"])}


@handler("node", "eligibility", "eligible_layer", schema=Schema(
    page="node-eligibility-eligible_layer", summary="The layer a proposal eligibility's VRF proof falls in.",
    spec=("node.md#eligible_layer", "node.md#proposal-eligibility"),
    inputs=(inp("epoch", "uint:32", "the epoch"), LAYOUT, inp("proof", "hex:80", "the eligibility's VRF proof")),
    outputs=(out("layer", "uint:32", "epoch x layers_per_epoch + LE64(proof[:8]) mod layers_per_epoch"),)))
def eligible_layer(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: epoch, layers_per_epoch, proof (80 bytes). output: layer."""
    node = spec("node")
    return {"layer": node.eligible_layer(inputs["epoch"], inputs["layers_per_epoch"], hexbytes(inputs["proof"], 80))}


@handler("node", "proposal", "validate", schema=Schema(
    page="node-proposal-validate", summary="Validate a received proposal against the node's view of it (node.md "
    "`ProposalView`): the eligibility slots it may use, or the first rule it breaks.",
    spec=("node.md#validate_proposal", "node.md#proposal-validation", "node.md#proposalview"),
    inputs=(inp("proposal", "hex", "the SCALE `Proposal` (node/wire/proposal)"),
            inp("genesis_id", "hex:20", "the network's genesis ID (signatures are over it)"),
            inp("current_layer", "uint:32", "the node's current layer"),
            inp("first_ballot_layer", "uint:32", "the first layer that takes ballots"), LAYOUT,
            inp("layer_size", "uint:32", "expected proposals per layer"),
            inp("atx", "{AtxFacts}|null", "the ATX the proposal names, or null when the node does not have it"),
            inp("total_weight", "uint:64", "the total weight of the proposal's epoch"),
            inp("smesher_malicious", "bool", "whether the smesher is known to be malicious"),
            inp("reference", "hex|null", "the SCALE `Proposal` a later proposal names (its first of the epoch), or "
                "null when it names none or the node does not have it"),
            inp("other_in_layer", "bool", "whether the node holds another proposal of this smesher in this layer")),
    outputs=(out("slots", "uint", "the eligibility slots of the smesher in the epoch"),),
    raises=(INVALID_PROPOSAL, PROPOSAL_ENCODING), records=(ATX_FACTS,)))
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


@handler("node", "certificate", "majority", schema=Schema(
    page="node-certificate-majority", summary="Whether signed certificates for a block carry more than half of "
    "the epoch's weight.",
    spec=("node.md#certificate_majority", "node.md#certificates"),
    inputs=(inp("weights", "list<list<hex:32|uint:64>>", "[signer (32 bytes), weight] pairs: the epoch's identities"),
            inp("signed", "list<list<hex>>", "[signer (32 bytes), block ID (20 bytes)] of each certificate received"),
            inp("block", "hex:20", "the block ID")),
    outputs=(out("majority", "bool", "2 x (weight of the signers of `block`) > total weight; an unknown signer "
                 "weighs nothing, a signer counts once per certificate"),)))
def certificate_majority(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: weights [[signer, weight]], signed [[signer, block]], block. output: majority (bool)."""
    node = spec("node")
    weights = {hexbytes(signer, 32): as_int(weight) for signer, weight in inputs["weights"]}
    signed = [(hexbytes(signer, 32), hexbytes(block, 20)) for signer, block in inputs["signed"]]
    return {"majority": node.certificate_majority(weights, signed, hexbytes(inputs["block"], 20))}


@handler("node", "certificate", "validate", schema=Schema(
    page="node-certificate-validate", summary="Validate a certificate: one active identity's signature over a "
    "layer's block ID, with the block attached.",
    spec=("node.md#validate_certificate", "node.md#certificate_bytes", "node.md#certificates"),
    inputs=(inp("certificate", "hex", "the SCALE `Certificate` (node.md#certificate)"),
            inp("genesis_id", "hex:20", "the network's genesis ID"),
            inp("first_ballot_layer", "uint:32", "the first layer with ballots"),
            inp("current_layer", "uint:32", "the current layer"),
            inp("weights", "list<list<hex:32|uint:64>>", "[identity (32 bytes), weight] pairs: the epoch's active set")),
    outputs=(out("valid", "bool", "always true: an invalid certificate raises"),),
    raises=(raises("InvalidEncoding", ("short_input", "trailing_bytes", "non_canonical_compact", "compact_overflow",
                                       "length_over_max"), "bytes that do not decode as a SCALE `Certificate`"),
            raises("InvalidCertificate", ("certificate_layer", "certificate_signer_not_active", "bad_signature",
                                          "certificate_block_mismatch"),
                   "the first rule of node.md#validate_certificate the certificate breaks")),
    notes=("The rules are checked in this order: the layer (from the first ballot layer to the current one), the "
           "signer in the active set, the signature (domain HARE over `CERTIFICATE_PREFIX ‖ LE32(layer) ‖ block "
           "ID`), then the block: none for the empty block ID, else a block of that ID and layer.",)))
def certificate_validate(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: certificate (SCALE), genesis_id, first_ballot_layer, current_layer, weights. output: valid."""
    node = spec("node")
    cert = spec("scale").decode(hexbytes(inputs["certificate"]), node.Certificate)
    weights = {hexbytes(identity, 32): as_int(weight) for identity, weight in inputs["weights"]}
    node.validate_certificate(cert, hexbytes(inputs["genesis_id"], 20), as_int(inputs["first_ballot_layer"]),
                              as_int(inputs["current_layer"]), weights)
    return {"valid": True}


BLOCK_ENTRY = Record("BlockProposal", "A proposal of the Hare output, with its reward entry and tick height.", (
    inp("proposal", "hex", "the SCALE `Proposal` (node.md#proposal)"),
    inp("coinbase", "hex:24", "the reward's coinbase"), inp("weight", "uint:64", "the reward's weight"),
    inp("height", "uint:64", "the tick height of the proposal's ATX"),
))


@handler("node", "block", "build", schema=Schema(
    page="node-block-build", summary="The block of a Hare output and how a layer's reward is split over it.",
    spec=("node.md#build_block", "node.md#split_rewards", "node.md#blocks-and-rewards"),
    inputs=(inp("layer", "uint:32", "the layer"),
            inp("proposals", "list<{BlockProposal}>", "the proposals of the Hare output (empty: an empty layer)"),
            inp("amount", "uint:64", "the layer's reward to split")),
    outputs=(out("block", "hex|null", "the SCALE `Block`, or null for an empty output"),
             out("block_id", "hex:20|null", "its ID (node.md#proposal_id-block_id-tx_id-poet_ref)"),
             out("paid", "list<list<hex:24|uint:64>>", "[coinbase, amount] per reward entry, in the block's order")),
    raises=(raises("InvalidEncoding", ("short_input", "trailing_bytes", "non_canonical_compact", "compact_overflow",
                                       "length_over_max"), "a proposal that does not decode"),),
    records=(BLOCK_ENTRY,),
    notes=("The block lists the proposal IDs sorted, the transaction IDs in the order of the sorted proposals "
           "without repeats, the reward entries in that order, and the least tick height.",
           "The reward entry's ATX ID is the proposal's ATX. The split gives each entry `amount x weight / total` "
           "(rounded down) and the remainder to the first entry; nothing when the total weight is 0.")))
def block_build(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: layer, proposals [{proposal, coinbase, weight, height}], amount. outputs: block, block_id, paid."""
    node, scale = spec("node"), spec("scale")
    entries = []
    for entry in inputs["proposals"]:
        proposal = scale.decode(hexbytes(entry["proposal"]), node.Proposal)
        reward = node.Reward(hexbytes(entry["coinbase"], 24), proposal.atx_id, as_int(entry["weight"]))
        entries.append((node.proposal_id(proposal), proposal, reward, as_int(entry["height"])))
    block = node.build_block(as_int(inputs["layer"]), entries)
    if block is None:
        return {"block": None, "block_id": None, "paid": []}
    paid = node.split_rewards(block.rewards, as_int(inputs["amount"]))
    return {"block": hexstr(scale.encode(block, node.Block)), "block_id": hexstr(node.block_id(block)),
            "paid": [[hexstr(coinbase), share] for coinbase, share in paid]}


@handler("node", "randomness", "epoch", schema=Schema(
    page="node-randomness-epoch", summary="The devnet's beacon of an epoch, the weak coin of a layer under it, and "
    "the devnet PoET's sequential work.",
    spec=("node.md#beacon", "node.md#weak_coin", "node.md#poet_work", "node.md#poet-beacon-and-weak-coin"),
    inputs=(inp("genesis_id", "hex:20", "the network's genesis ID"), inp("epoch", "uint:32", "the epoch"),
            inp("layer", "uint:32", "a layer (for the weak coin)"),
            inp("statement", "hex:32", "a PoET round's statement"),
            inp("leaf_count", "uint:16", "the round's leaf count (the number of hash iterations)")),
    outputs=(out("beacon", "hex:4", "the epoch's beacon"),
             out("weak_coin", "bool", "the weak coin of `layer` under that beacon"),
             out("poet_work", "hex:32", "the round's sequential work")),
    notes=("None of the three exists on the live network: the devnet's beacon is predictable, its weak coin a hash, "
           "its PoET a hash chain (node.md's *Devnet rules* beacon, weak-coin and poet).",)))
def randomness_epoch(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: genesis_id, epoch, layer, statement, leaf_count. outputs: beacon, weak_coin, poet_work."""
    node = spec("node")
    beacon = node.beacon(hexbytes(inputs["genesis_id"], 20), as_int(inputs["epoch"]))
    return {"beacon": hexstr(beacon), "weak_coin": node.weak_coin(beacon, as_int(inputs["layer"])),
            "poet_work": hexstr(node.poet_work(hexbytes(inputs["statement"], 32), as_int(inputs["leaf_count"])))}


@handler("node", "address", "encode", schema=Schema(
    page="node-address-encode", summary="An account address written in bech32 (BIP-173), as go-spacemesh's "
    "`types.Address.String` writes it.",
    spec=("node.md#encode_address", "node.md#addresses"),
    inputs=(inp("hrp", "text", "the network's human-readable part (`sm` on mainnet)"),
            inp("address", "hex:24", "the address")),
    outputs=(out("text", "text", "the bech32 text, lower case"),)))
def address_encode(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: hrp, address (24 bytes). output: text (bech32)."""
    return {"text": spec("node").encode_address(inputs["hrp"], hexbytes(inputs["address"], 24))}


@handler("node", "address", "decode", schema=Schema(
    page="node-address-decode", summary="An account address from its bech32 text.",
    spec=("node.md#decode_address", "node.md#addresses"),
    inputs=(inp("hrp", "text", "the human-readable part the address must have"), inp("text", "text", "the text")),
    outputs=(out("address", "hex:24", "the address"),),
    raises=(ADDRESS_ERRORS,),
    notes=("Checks in order: at most 90 characters, all of one case (`bad_format`); a separator `1` with at "
           "least 6 characters after it and the human-readable part before it (`wrong_hrp`); the characters (`bad_character`), the checksum (`bad_checksum`), then 24 bytes "
           "(`bad_length`).", "An address whose first 4 bytes are not zero (the devnet's) decodes here; "
           "go-spacemesh's parser refuses it (node.md, *Decision* devnet addresses): such cases are of level "
           "`devnet`.")))
def address_decode(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: hrp, text. output: address (24 bytes) or InvalidAddress(reason)."""
    return {"address": hexstr(spec("node").decode_address(inputs["hrp"], inputs["text"]))}


@handler("node", "malfeasance", "double_proposal", schema=Schema(
    page="node-malfeasance-double_proposal", summary="Verify a double-proposal proof: two proposals of one smesher "
    "in one layer; the smesher it convicts.",
    spec=("node.md#validate_double_proposal_proof", "node.md#doubleproposalproof"),
    inputs=(inp("proof", "hex", "the SCALE `DoubleProposalProof` (node/wire/double_proposal_proof)"),
            inp("genesis_id", "hex:20", "the genesis ID the proposals are signed over")),
    outputs=(out("smesher", "hex:32", "the convicted smesher"),),
    raises=(raises("InvalidProposal", ("bad_encoding", "same_proposal", "different_smesher", "different_layer",
                                       "bad_signature"), "the first check of node.md#validate_double_proposal_proof "
                   "the proof fails"), PROPOSAL_ENCODING)))
def double_proposal(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: proof (SCALE DoubleProposalProof), genesis_id. output: smesher."""
    node = spec("node")
    proof = spec("scale").decode(hexbytes(inputs["proof"]), node.DoubleProposalProof)
    return {"smesher": hexstr(node.validate_double_proposal_proof(proof, hexbytes(inputs["genesis_id"], 20)))}
