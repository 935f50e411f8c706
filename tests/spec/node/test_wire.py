"""Codec triads of the devnet's wire types (vectors node/wire/*): value JSON, SCALE bytes and the
IDs (computed here with the blake3 package from node.md's definitions), and an invalid-encoding
suite beside each (tests/spec/wirecases.py). Values come from the proposal scenario of
test_rules.py."""

from __future__ import annotations

import attrs
import blake3
from smspec.conformance.cases import vector_source
from smspec.spec import crypto
from smspec.spec import node as n
from smspec.spec.scale import encode
from smspec.tests.spec.wirecases import invalid_cases, triad_cases

from .test_rules import scenario, seed, sign


def b3(data: bytes) -> bytes:
    return blake3.blake3(data).digest()


def block() -> n.Block:
    s = scenario()
    rewards = [n.Reward(bytes([0x11]) * 24, s["atx"].id, 20), n.Reward(bytes([0x22]) * 24, bytes([0x33]) * 32, 7)]
    return n.Block(layer=9, tick_height=12345, proposals=[n.proposal_id(s["proposal"])], tx_ids=[bytes([0x44]) * 32],
                   rewards=rewards)


@vector_source("node", "wire", "proposal")
def test_proposal_triad():
    s = scenario()
    first = s["proposal"]
    later = sign(attrs.evolve(first, epoch_data=None, ref=n.proposal_id(first), tx_ids=[bytes([5]) * 32]), s["secret"])
    for name, value in (("first", first), ("later", later)):
        encoded = encode(value, n.Proposal)
        # the ID: BLAKE3 of the encoding without its 64-byte signature, 20 bytes
        yield from triad_cases(name, n.Proposal, value, "node.md#proposal",
                               f"a signed proposal ({name} of the epoch)", ids={"id": b3(encoded[:-64])[:20]})
    yield from invalid_cases("first", n.Proposal, encode(first, n.Proposal), "node.md#proposal", "a signed proposal")


@vector_source("node", "wire", "block")
def test_block_triad():
    value = block()
    empty = n.Block(layer=0, tick_height=0, proposals=[], tx_ids=[], rewards=[])
    for name, v in (("with_rewards", value), ("empty", empty)):
        yield from triad_cases(name, n.Block, v, "node.md#block", f"a block ({name.replace('_', ' ')})",
                               ids={"id": b3(encode(v, n.Block))[:20]})
    yield from invalid_cases("with_rewards", n.Block, encode(value, n.Block), "node.md#block", "a block")


@vector_source("node", "wire", "certificate")
def test_certificate_triad():
    secret = seed("certifier")
    value = block()
    block_id = b3(encode(value, n.Block))[:20]
    with_block = n.Certificate(layer=9, block_id=block_id, block=value, signer=crypto.public_key(secret),
                               signature=bytes([0xEE]) * 64)
    without = attrs.evolve(with_block, block=None)
    for name, v in (("with_block", with_block), ("without_block", without)):
        yield from triad_cases(name, n.Certificate, v, "node.md#certificate",
                               f"a certificate ({name.replace('_', ' ')})")
    yield from invalid_cases("with_block", n.Certificate, encode(with_block, n.Certificate), "node.md#certificate",
                             "a certificate")


@vector_source("node", "wire", "poet_proof")
def test_poet_proof_triad():
    value = n.PoetProof(epoch=3, statement=bytes([0x5A]) * 32, leaf_count=1000, final=bytes([0xA5]) * 32)
    encoded = encode(value, n.PoetProof)
    yield from triad_cases("round", n.PoetProof, value, "node.md#poetproof", "the devnet PoET's proof of a round",
                           ids={"ref": b3(b"smspec-devnet-poet" + encoded)})
    yield from invalid_cases("round", n.PoetProof, encoded, "node.md#poetproof", "a PoET proof")


@vector_source("node", "wire", "tx")
def test_tx_triad():
    spend = n.Tx(principal=bytes([0x11]) * 24, nonce=7, method=16, args=bytes(range(40)), signature=bytes([0xEE]) * 64)
    spawn = n.Tx(principal=bytes([0x22]) * 24, nonce=0, method=0, args=b"", signature=bytes(64))
    for name, value in (("spend", spend), ("spawn", spawn)):
        yield from triad_cases(name, n.Tx, value, "node.md#tx", f"a wallet transaction ({name})",
                               ids={"id": b3(encode(value, n.Tx))})
    yield from invalid_cases("spend", n.Tx, encode(spend, n.Tx), "node.md#tx", "a wallet transaction")


@vector_source("node", "wire", "double_proposal_proof")
def test_double_proposal_proof_triad():
    s = scenario()
    twin = sign(attrs.evolve(s["proposal"], tx_ids=[bytes(32)]), s["secret"])
    value = n.DoubleProposalProof(encode(s["proposal"], n.Proposal), encode(twin, n.Proposal))
    yield from triad_cases("two_proposals", n.DoubleProposalProof, value, "node.md#doubleproposalproof",
                           "a double-proposal proof of two signed proposals in one layer")
    yield from invalid_cases("two_proposals", n.DoubleProposalProof, encode(value, n.DoubleProposalProof),
                             "node.md#doubleproposalproof", "a double-proposal proof")
