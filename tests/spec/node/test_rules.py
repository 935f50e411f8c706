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
    other_smesher = encode(attrs.evolve(twin, smesher=bytes([0x5A]) * 32), n.Proposal)
    yield Case("different_smesher", description="two proposals naming different smeshers prove nothing (refused "
               "before any signature is checked)", spec_ref="node.md#validate_double_proposal_proof",
               inputs={"proof": proof(first, other_smesher), "genesis_id": GENESIS_ID},
               error="InvalidProposal", reason="different_smesher")
    forged = encode(attrs.evolve(twin, signature=bytes(64)), n.Proposal)
    yield Case("forged_second", description="the second proposal's signature does not verify", spec_ref="node.md#validate_double_proposal_proof", inputs={"proof": proof(first, forged), "genesis_id": GENESIS_ID},
               error="InvalidProposal", reason="bad_signature")
    yield Case("not_a_proposal", description="the second entry does not decode as a proposal", spec_ref="node.md#validate_double_proposal_proof", inputs={"proof": proof(first, b"\x01\x02"), "genesis_id": GENESIS_ID},
               error="InvalidProposal", reason="bad_encoding")


def certificate(secret: bytes, layer: int, block_id: bytes, block: n.Block | None) -> n.Certificate:
    signature = crypto.sign(secret, crypto.Domain.HARE, GENESIS_ID, n.CERTIFICATE_PREFIX + layer.to_bytes(4, "little")
                            + block_id)
    return n.Certificate(layer, block_id, block, crypto.public_key(secret), signature)


@vector_source("node", "certificate", "validate")
def test_validate_certificate():
    import blake3

    secret = seed("certifier")
    signer = crypto.public_key(secret)
    block = n.Block(layer=9, tick_height=100, proposals=[bytes([1]) * 20], tx_ids=[], rewards=[])
    block_id = blake3.blake3(encode(block, n.Block)).digest()[:20]  # node.md#proposal_id-block_id-tx_id-poet_ref
    view = {"genesis_id": GENESIS_ID, "first_ballot_layer": 8, "current_layer": 10, "weights": [[signer, 10]]}
    ref = "node.md#validate_certificate"

    def case(name: str, cert: n.Certificate, description: str, reason: str | None = None, **changes) -> Case:
        inputs = {"certificate": encode(cert, n.Certificate), **view, **changes}
        if reason is None:
            return Case(name, inputs=inputs, expected={"valid": True}, description=description, spec_ref=ref)
        return Case(name, inputs=inputs, error="InvalidCertificate", reason=reason, description=description,
                    spec_ref=ref)

    good = certificate(secret, 9, block_id, block)
    yield case("with_block", good, "a signed certificate of layer 9 with its block attached")
    yield case("empty_layer", certificate(secret, 9, bytes(20), None), "the empty block ID, no block attached")
    yield case("current_layer", certificate(secret, 10, bytes(20), None), "a certificate of the current layer")
    yield case("before_first_ballot_layer", certificate(secret, 7, bytes(20), None), "layer 7 before the first "
               "ballot layer 8", "certificate_layer")
    yield case("future_layer", certificate(secret, 11, bytes(20), None), "layer 11 after the current layer 10",
               "certificate_layer")
    yield case("signer_not_active", good, "the signer is not in the epoch's active set", "certificate_signer_not_active",
               weights=[[crypto.public_key(seed("other")), 10]])
    yield case("signed_for_another_layer", attrs.evolve(good, signature=certificate(secret, 8, block_id, block).signature),
               "the signature is over layer 8", "bad_signature")
    yield case("empty_id_with_block", certificate(secret, 9, bytes(20), block), "the empty block ID with a block",
               "certificate_block_mismatch")
    yield case("missing_block", certificate(secret, 9, block_id, None), "a block ID without its block",
               "certificate_block_mismatch")
    other = attrs.evolve(block, tick_height=101)
    yield case("block_of_another_id", certificate(secret, 9, block_id, other), "the block attached has another ID",
               "certificate_block_mismatch")
    moved = attrs.evolve(block, layer=8)
    moved_id = blake3.blake3(encode(moved, n.Block)).digest()[:20]
    yield case("block_of_another_layer", certificate(secret, 9, moved_id, moved),
               "the block attached is of layer 8 (its ID matches)", "certificate_block_mismatch")
    yield Case("not_a_certificate", inputs={"certificate": b"\x01", **view}, error="InvalidEncoding",
               description="one byte: not a certificate", spec_ref="node.md#certificate")


@vector_source("node", "block", "build")
def test_build_block():
    import blake3

    s = scenario()
    first = s["proposal"]
    second = sign(attrs.evolve(first, smesher=crypto.public_key(seed("b")), tx_ids=[bytes([2]) * 32, bytes([1]) * 32]),
                  seed("b"))
    third = sign(attrs.evolve(first, smesher=crypto.public_key(seed("c")), tx_ids=[bytes([1]) * 32]), seed("c"))
    coinbases = [bytes([0xA0 + i]) * 24 for i in range(3)]
    entries = [{"proposal": encode(p, n.Proposal), "coinbase": c, "weight": w, "height": h}
               for p, c, w, h in zip((first, second, third), coinbases, (20, 10, 3), (500, 300, 400), strict=True)]
    ids = [blake3.blake3(encode(p, n.Proposal)[:-64]).digest()[:20] for p in (first, second, third)]
    order = sorted(range(3), key=lambda i: ids[i])
    tx_ids = []
    for i in order:
        for tid in (first, second, third)[i].tx_ids:
            if tid not in tx_ids:
                tx_ids.append(tid)
    rewards = [n.Reward(coinbases[i], first.atx_id, (20, 10, 3)[i]) for i in order]
    block = n.Block(layer=first.layer, tick_height=300, proposals=sorted(ids), tx_ids=tx_ids, rewards=rewards)
    shares = [1000 * (20, 10, 3)[i] // 33 for i in order]
    shares[0] += 1000 - sum(shares)
    yield Case("three_proposals", inputs={"layer": first.layer, "proposals": entries, "amount": 1000},
               expected={"block": encode(block, n.Block), "block_id": blake3.blake3(encode(block, n.Block)).digest()[:20],
                         "paid": [[coinbases[i], share] for i, share in zip(order, shares, strict=True)]},
               description="three proposals: IDs sorted, transactions once each, the least tick height; 1000 split "
               "by weight 20:10:3, the remainder to the first entry", spec_ref="node.md#build_block")
    yield Case("empty_output", inputs={"layer": 9, "proposals": [], "amount": 1000},
               expected={"block": None, "block_id": None, "paid": []},
               description="an empty Hare output: no block", spec_ref="node.md#build_block")
    zero = [{**entries[0], "weight": 0}]
    single = n.Block(layer=first.layer, tick_height=500, proposals=[ids[0]], tx_ids=[],
                     rewards=[n.Reward(coinbases[0], first.atx_id, 0)])
    yield Case("zero_weight", inputs={"layer": first.layer, "proposals": zero, "amount": 1000},
               expected={"block": encode(single, n.Block),
                         "block_id": blake3.blake3(encode(single, n.Block)).digest()[:20], "paid": []},
               description="a reward entry of weight 0: nothing is paid", spec_ref="node.md#split_rewards")
    yield Case("not_a_proposal", inputs={"layer": 9, "proposals": [{**entries[0], "proposal": b"\x01"}], "amount": 1},
               error="InvalidEncoding", description="a proposal that does not decode", spec_ref="node.md#proposal")


@vector_source("node", "randomness", "epoch")
def test_randomness():
    import blake3

    def h(*chunks: bytes) -> bytes:
        return blake3.blake3(b"".join(chunks)).digest()

    for epoch, layer, leaves in ((2, 9, 0), (3, 12, 1), (70000, 280003, 1000)):
        statement = h(b"statement", epoch.to_bytes(4, "little"))
        beacon = h(b"smspec-devnet-beacon", GENESIS_ID, epoch.to_bytes(4, "little"))[:4]
        coin = h(b"smspec-devnet-weakcoin", beacon, layer.to_bytes(4, "little"))[0] & 1 == 1
        work = h(b"smspec-devnet-poet-work", statement)
        for _ in range(leaves):
            work = h(work)
        yield Case(f"epoch_{epoch}", inputs={"genesis_id": GENESIS_ID, "epoch": epoch, "layer": layer,
                                             "statement": statement, "leaf_count": leaves},
                   expected={"beacon": beacon, "weak_coin": coin, "poet_work": work},
                   description=f"epoch {epoch}: its beacon, the weak coin of layer {layer}, and {leaves} iterations "
                   "of the PoET's hash chain (computed here with the blake3 package)",
                   spec_ref="node.md#poet-beacon-and-weak-coin")
