"""spec/node.md: the reference node's rules, as vectors (proposal eligibility and validation,
certificates, addresses, double-proposal proofs). Every case is built here from seeds named by
the case, so the vectors are deterministic."""

from __future__ import annotations

import attrs
from smspec.conformance.cases import Case, vector_source
from smspec.spec import crypto
from smspec.spec import node as n
from smspec.spec.scale import encode

GENESIS_ID = crypto.genesis_id(1_700_000_000, "smspec-devnet")
BEACON = bytes([1, 2, 3, 4])
L = 4


def seed(name: str) -> bytes:
    return crypto.hash32(b"smspec node vectors", name.encode())


def sign(proposal: n.Proposal, secret: bytes) -> n.Proposal:
    signature = crypto.sign(secret, crypto.Domain.PROPOSAL, GENESIS_ID, n.unsigned_bytes(encode(proposal, n.Proposal)))
    return attrs.evolve(proposal, signature=signature)


def scenario() -> dict:
    """A valid first proposal of an identity in epoch 2, with its view."""
    secret = seed("smesher")
    key = crypto.public_key(secret)
    atx = n.AtxFacts(crypto.hash32(b"atx"), 1, key, 20, 7)
    slots = n.proposal_slots(atx.weight, 100, L, 10)
    proofs = [crypto.vrf_prove(secret, n.ballot_vrf_alpha(BEACON, 2, atx.vrf_nonce, c)) for c in range(slots)]
    layer = n.eligible_layer(2, L, proofs[0])
    eligibilities = [n.Eligibility(c, proof) for c, proof in enumerate(proofs) if n.eligible_layer(2, L, proof) == layer]
    votes = n.WireVotes(bytes(20), [], [], [])
    proposal = sign(n.Proposal(layer, atx.id, n.EpochData(BEACON, slots), None, bytes(32), votes, eligibilities, [],
                               key, bytes(64)), secret)
    view = n.ProposalView(GENESIS_ID, layer, 8, L, 10, atx, 100, False, None, False)
    return {"secret": secret, "key": key, "atx": atx, "proposal": proposal, "view": view, "slots": slots}


def view_json(view: n.ProposalView) -> dict:
    atx = view.atx
    return {"genesis_id": view.genesis_id, "current_layer": view.current_layer,
            "first_ballot_layer": view.first_ballot_layer, "layers_per_epoch": view.layers_per_epoch,
            "layer_size": view.layer_size, "total_weight": view.total_weight,
            "atx": None if atx is None else {"id": atx.id, "publish_epoch": atx.publish_epoch, "smesher_id": atx.smesher_id,
                                             "weight": atx.weight, "vrf_nonce": atx.vrf_nonce},
            "smesher_malicious": view.smesher_malicious,
            "reference": None if view.reference is None else encode(view.reference, n.Proposal),
            "other_in_layer": view.other_in_layer}


PROPOSAL_CASES = {
    "valid_first_proposal": "a smesher's first proposal of the epoch, with its epoch data: 8 slots",
    "genesis_layer": "a proposal before the first layer with ballots",
    "future_layer": "a proposal for a layer after the current one",
    "bad_signature": "the proposal was changed after signing",
    "no_atx": "the smesher has no ATX for the epoch",
    "atx_of_another_epoch": "the ATX named was published for another epoch",
    "atx_of_another_smesher": "the ATX named belongs to another smesher",
    "malicious_smesher": "the smesher is known to be malicious",
    "ref_and_epoch_data": "a proposal carrying both a reference and epoch data",
    "wrong_eligibility_count": "epoch data declaring another number of eligibilities than the weight gives",
    "no_epoch_data": "a first proposal without epoch data and without a reference",
    "ref_unknown": "a later proposal whose reference proposal is unknown",
    "valid_later_proposal": "a later proposal naming the first by its ID",
    "bad_ref": "the reference proposal is another smesher's",
    "no_eligibilities": "a proposal with no eligibility",
    "counter_beyond_slots": "an eligibility counter equal to the number of slots",
    "bad_eligibility_proof": "an eligibility whose VRF proof does not verify",
    "not_eligible_in_layer": "a valid eligibility proof for another layer of the epoch",
    "double_proposal": "a second proposal of the smesher in the layer",
}


def proposal_case(name: str, proposal: n.Proposal, view: n.ProposalView, reason: str | None = None,
                  slots: int | None = None) -> Case:
    inputs = {"proposal": encode(proposal, n.Proposal), **view_json(view)}
    if reason is None:
        return Case(name, inputs=inputs, expected={"slots": slots}, description=PROPOSAL_CASES[name],
                    spec_ref="node.md#validate_proposal")
    return Case(name, inputs=inputs, error="InvalidProposal", reason=reason, description=PROPOSAL_CASES[name],
                spec_ref="node.md#validate_proposal")


@vector_source("node", "eligibility", "proposal_slots")
def test_proposal_slots():
    yield Case("quarter_weight", description="a quarter of the weight: a quarter of the epoch's 40 expected ballots", inputs={"weight": 25, "total_weight": 100, "layers_per_epoch": 4, "layer_size": 10},
               expected={"slots": 10}, spec_ref="node.md#proposal_slots")
    yield Case("rounds_up", description="1/3 of 40 ballots is rounded up to 14", spec_ref="node.md#proposal_slots", inputs={"weight": 1, "total_weight": 3, "layers_per_epoch": 4, "layer_size": 10},
               expected={"slots": 14})
    yield Case("at_least_one", description="a tiny weight still gets one slot", spec_ref="node.md#proposal_slots", inputs={"weight": 1, "total_weight": 10**6, "layers_per_epoch": 4, "layer_size": 10},
               expected={"slots": 1})
    yield Case("no_weight", description="no weight, no slot", spec_ref="node.md#proposal_slots", inputs={"weight": 0, "total_weight": 0, "layers_per_epoch": 4, "layer_size": 10},
               expected={"slots": 0})


@vector_source("node", "eligibility", "eligible_layer")
def test_eligible_layer():
    for counter in range(3):
        proof = crypto.vrf_prove(seed("eligible"), n.ballot_vrf_alpha(BEACON, 5, 9, counter))
        # epoch 5 of 4 layers: the layer is 20 + LE64(proof[:8]) mod 4
        layer = 20 + int.from_bytes(proof[:8], "little") % 4
        yield Case(f"counter_{counter}", inputs={"epoch": 5, "layers_per_epoch": L, "proof": proof},
                   expected={"layer": layer}, spec_ref="node.md#eligible_layer",
                   description=f"eligibility counter {counter}: the layer is the epoch's first plus LE64(proof[:8]) "
                   "mod the layers per epoch")


@vector_source("node", "proposal", "validate")
def test_validate_proposal():
    s = scenario()
    proposal, view, secret = s["proposal"], s["view"], s["secret"]
    # 20 of 100 weight units, 4 layers of 10 expected ballots: ceil(20 * 10 * 4 / 100) = 8 slots
    yield proposal_case("valid_first_proposal", proposal, view, slots=8)
    yield proposal_case("genesis_layer", proposal, attrs.evolve(view, first_ballot_layer=proposal.layer + 1),
                        "genesis_layer")
    yield proposal_case("future_layer", proposal, attrs.evolve(view, current_layer=proposal.layer - 2), "future_layer")
    yield proposal_case("bad_signature", attrs.evolve(proposal, opinion=b"\x01" * 32), view, "bad_signature")
    yield proposal_case("no_atx", proposal, attrs.evolve(view, atx=None), "atx_not_in_epoch")
    yield proposal_case("atx_of_another_epoch", proposal, attrs.evolve(view, atx=attrs.evolve(s["atx"], publish_epoch=0)),
                        "atx_not_in_epoch")
    other = crypto.public_key(seed("other"))
    yield proposal_case("atx_of_another_smesher", proposal,
                        attrs.evolve(view, atx=attrs.evolve(s["atx"], smesher_id=other)), "atx_of_another_smesher")
    yield proposal_case("malicious_smesher", proposal, attrs.evolve(view, smesher_malicious=True), "malicious_smesher")
    yield proposal_case("ref_and_epoch_data", sign(attrs.evolve(proposal, ref=bytes(20)), secret), view,
                        "ref_and_epoch_data")
    yield proposal_case("wrong_eligibility_count", sign(attrs.evolve(proposal, epoch_data=n.EpochData(BEACON, 99)),
                                                        secret), view, "wrong_eligibility_count")
    later = sign(attrs.evolve(proposal, epoch_data=None), secret)
    yield proposal_case("no_epoch_data", later, view, "no_epoch_data")
    named = sign(attrs.evolve(proposal, epoch_data=None, ref=n.proposal_id(proposal)), secret)
    yield proposal_case("ref_unknown", named, view, "ref_unknown")
    yield proposal_case("valid_later_proposal", named, attrs.evolve(view, reference=proposal), slots=8)
    yield proposal_case("bad_ref", named, attrs.evolve(view, reference=attrs.evolve(proposal, smesher=other)), "bad_ref")
    yield proposal_case("no_eligibilities", sign(attrs.evolve(proposal, eligibilities=[]), secret), view,
                        "bad_eligibility_counters")
    first = proposal.eligibilities[0]
    yield proposal_case("counter_beyond_slots",
                        sign(attrs.evolve(proposal, eligibilities=[n.Eligibility(s["slots"], first.proof)]), secret),
                        view, "bad_eligibility_counters")
    yield proposal_case("bad_eligibility_proof",
                        sign(attrs.evolve(proposal, eligibilities=[n.Eligibility(first.counter, bytes(80))]), secret),
                        view, "bad_eligibility_proof")
    alphas = [n.ballot_vrf_alpha(BEACON, 2, 7, c) for c in range(s["slots"])]
    elsewhere = next((c, crypto.vrf_prove(secret, a)) for c, a in enumerate(alphas)
                     if n.eligible_layer(2, L, crypto.vrf_prove(secret, a)) != proposal.layer)
    yield proposal_case("not_eligible_in_layer",
                        sign(attrs.evolve(proposal, eligibilities=[n.Eligibility(*elsewhere)]), secret),
                        view, "not_eligible_in_layer")
    yield proposal_case("double_proposal", proposal, attrs.evolve(view, other_in_layer=True), "double_proposal")


@vector_source("node", "certificate", "majority")
def test_certificate_majority():
    a, b, c = (crypto.public_key(seed(x)) for x in "abc")
    block, other = b"\x0b" * 20, b"\x0c" * 20
    weights = [[a, 40], [b, 35], [c, 25]]
    yield Case("more_than_half", description="signers of 65 of 100 weight units on the block: a majority", inputs={"weights": weights, "signed": [[a, block], [c, block]], "block": block},
               expected={"majority": True}, spec_ref="node.md#certificate_majority")
    yield Case("exactly_half_is_not_enough", description="exactly half of the weight is not a majority", spec_ref="node.md#certificate_majority", inputs={"weights": [[a, 50], [b, 50]], "signed": [[a, block]],
                                                      "block": block}, expected={"majority": False})
    yield Case("other_block_does_not_count", description="a signature on another block counts for nothing", spec_ref="node.md#certificate_majority", inputs={"weights": weights, "signed": [[a, block], [b, other]],
                                                      "block": block}, expected={"majority": False})
    yield Case("unknown_signer_weighs_nothing", description="a signer outside the weight table weighs nothing", spec_ref="node.md#certificate_majority",
               inputs={"weights": weights, "signed": [[a, block], [crypto.public_key(seed("x")), block]],
                       "block": block}, expected={"majority": False})


@vector_source("node", "address", "encode")
def test_address_encode():
    yield Case("zero_address_sm", description="the zero address with mainnet's hrp `sm`: bech32 as go-spacemesh writes it", inputs={"hrp": "sm", "address": bytes(24)},
               expected={"text": "sm1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq2wqd6r"}, spec_ref="node.md#encode_address")
    address = crypto.hash32(b"address")[:24]

    def round_trip(output: dict) -> None:
        assert output["text"].startswith("stest1") and len(output["text"]) == 6 + 39 + 6
        assert n.decode_address("stest", output["text"]) == address

    yield Case("devnet_address", description="a 24-byte devnet address with hrp `stest` decodes back to itself", spec_ref="node.md#encode_address", inputs={"hrp": "stest", "address": address}, check=round_trip)


@vector_source("node", "address", "decode")
def test_address_decode():
    text = n.encode_address("stest", bytes(range(24)))
    yield Case("round_trip", description="an address encoded by the spec decodes to its 24 bytes", inputs={"hrp": "stest", "text": text}, expected={"address": bytes(range(24))},
               spec_ref="node.md#decode_address")
    yield Case("upper_case", description="an all upper-case address is accepted (bech32)", spec_ref="node.md#decode_address", inputs={"hrp": "stest", "text": text.upper()}, expected={"address": bytes(range(24))})
    yield Case("wrong_hrp", description="an address of another network (hrp `stest` where `sm` is expected)", spec_ref="node.md#decode_address", inputs={"hrp": "sm", "text": text}, error="InvalidAddress", reason="wrong_hrp")
    flipped = text[:-1] + ("q" if text[-1] != "q" else "p")
    yield Case("bad_checksum", description="the last character changed: the checksum fails", spec_ref="node.md#decode_address", inputs={"hrp": "stest", "text": flipped}, error="InvalidAddress", reason="bad_checksum")
    yield Case("mixed_case", description="mixed upper and lower case is refused (bech32)", spec_ref="node.md#decode_address", inputs={"hrp": "stest", "text": text[:8] + text[8:].upper()}, error="InvalidAddress",
               reason="bad_format")
    yield Case("bad_character", description="`b` is not in the bech32 alphabet", spec_ref="node.md#decode_address", inputs={"hrp": "stest", "text": text[:-2] + "b" + text[-1]}, error="InvalidAddress",
               reason="bad_character")
    short = n.encode_address("stest", bytes(24))
    data = [n.BECH32_CHARSET.find(ch) for ch in short[6:-6]][:-4]
    polymod = n.bech32_polymod(n.bech32_hrp_expand("stest") + data + [0] * 6) ^ 1
    wrong_length = "stest1" + "".join(n.BECH32_CHARSET[d] for d in data + [(polymod >> 5 * (5 - i)) & 31
                                                                          for i in range(6)])
    yield Case("wrong_length", description="a valid bech32 string of 20 bytes where an address is 24", spec_ref="node.md#decode_address", inputs={"hrp": "stest", "text": wrong_length}, error="InvalidAddress", reason="bad_length")


@vector_source("node", "malfeasance", "double_proposal")
def test_double_proposal_proof():
    s = scenario()
    proposal, secret = s["proposal"], s["secret"]
    twin = sign(attrs.evolve(proposal, tx_ids=[bytes(32)]), secret)
    first, second = encode(proposal, n.Proposal), encode(twin, n.Proposal)

    def proof(a: bytes, b: bytes) -> bytes:
        return encode(n.DoubleProposalProof(a, b), n.DoubleProposalProof)

    yield Case("two_proposals_one_layer", description="two signed proposals of one smesher in one layer: the smesher is malicious", inputs={"proof": proof(first, second), "genesis_id": GENESIS_ID},
               expected={"smesher": s["key"]}, spec_ref="node.md#validate_double_proposal_proof")
    yield Case("same_proposal", description="the same proposal twice proves nothing", spec_ref="node.md#validate_double_proposal_proof", inputs={"proof": proof(first, first), "genesis_id": GENESIS_ID},
               error="InvalidProposal", reason="same_proposal")
    other_layer = encode(sign(attrs.evolve(proposal, layer=proposal.layer + 1), secret), n.Proposal)
    yield Case("different_layer", description="two proposals in different layers prove nothing", spec_ref="node.md#validate_double_proposal_proof", inputs={"proof": proof(first, other_layer), "genesis_id": GENESIS_ID},
               error="InvalidProposal", reason="different_layer")
    forged = encode(attrs.evolve(twin, signature=bytes(64)), n.Proposal)
    yield Case("forged_second", description="the second proposal's signature does not verify", spec_ref="node.md#validate_double_proposal_proof", inputs={"proof": proof(first, forged), "genesis_id": GENESIS_ID},
               error="InvalidProposal", reason="bad_signature")
    yield Case("not_a_proposal", description="the second entry does not decode as a proposal", spec_ref="node.md#validate_double_proposal_proof", inputs={"proof": proof(first, b"\x01\x02"), "genesis_id": GENESIS_ID},
               error="InvalidProposal", reason="bad_encoding")
