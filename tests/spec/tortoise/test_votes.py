"""Decoding base ballot + exceptions (spec/tortoise.md#decode_votes): vectors tortoise/votes/decode.

The cases are those of go-spacemesh `tortoise/state_test.go:276-389` (TestStateDecodeVotes), with
layers per epoch 4 (genesis 7). Each ballot of a chain sits one layer above its base. Expected
opinion hashes are computed here directly with BLAKE3 over the rule of tortoise.md §1.6, not with
the spec's functions; the upstream test compares against the same independently built chain.
"""

from __future__ import annotations

import blake3
from smspec.conformance.cases import Case, vector_source

REF = "tortoise.md#decode_votes"
G = 7


def bid(name: str) -> bytes:
    """go-spacemesh test ids: the name's bytes copied into a 20-byte array."""
    return name.encode().ljust(20, b"\x00")


def H(previous: bytes | None, body: bytes = b"") -> bytes:
    return blake3.blake3((previous or b"") + body).digest()


def sup(name: str, height: int) -> bytes:
    return bid(name) + height.to_bytes(8, "little")


def ballot(layer, base_index=-1, support=(), against=(), abstain=()):
    return {"layer": layer, "base_index": base_index,
            "support": [[bid(n), lid, h] for n, lid, h in support],
            "against": [[bid(n), lid, h] for n, lid, h in against],
            "abstain": list(abstain)}


def out(opinion: bytes, layers: list) -> dict:
    return {"opinion": "0x" + opinion.hex(),
            "layers": [[lid, vote, ["0x" + bid(n).hex() for n in names]] for lid, vote, names in layers]}


@vector_source("tortoise", "votes", "decode", presets=("mainnet",))
def test_decode_votes_vectors():
    inputs = lambda chain: {"layers_per_epoch": 4, "chain": chain}  # noqa: E731
    b1 = ballot(G + 1, support=[("a", G, 100)])
    o1 = H(None, sup("a", 100))
    yield Case("sanity", inputs=inputs([b1]), expected={"ballots": [out(o1, [[G, -1, ["a"]]])]},
               spec_ref=REF, description="support one block of the genesis layer")
    yield Case("with_abstain", inputs=inputs([b1, ballot(G + 2, 0, abstain=[G + 1])]),
               expected={"ballots": [out(o1, [[G, -1, ["a"]]]),
                                     out(H(o1, b"\x00"), [[G, -1, ["a"]], [G + 1, 0, []]])]},
               spec_ref=REF, description="inherit support, abstain on the next layer")
    yield Case("cancel_support", inputs=inputs([b1, ballot(G + 2, 0, against=[("a", G, 100)])]),
               expected={"ballots": [out(o1, [[G, -1, ["a"]]]),
                                     out(H(H(None)), [[G, -1, []], [G + 1, -1, []]])]},
               spec_ref=REF, description="an against for the same header cancels the base's support")
    yield Case("overwrite_previous_supported",
               inputs=inputs([b1, ballot(G + 2, 0, support=[("a", G, 101), ("b", G + 1, 100)])]),
               expected={"ballots": [out(o1, [[G, -1, ["a"]]]),
                                     out(H(H(None, sup("a", 101)), sup("b", 100)),
                                         [[G, -1, ["a"]], [G + 1, -1, ["b"]]])]},
               spec_ref=REF, description="a support for an already supported id replaces its header")
    yield Case("wrong_last_target",
               inputs=inputs([b1, ballot(G + 2, 0, support=[("a", G, 101)]),
                              ballot(G + 3, 1, against=[("a", G, 100)])]),
               error="InvalidBallot", reason="wrong_target", spec_ref=REF,
               description="against names a supported id with a different height")
    for name, s, a in [
        ("conflicting_against_against", [], [("a", G, 100), ("a", G, 200)]),
        ("conflicting_support_support", [("a", G, 100), ("a", G, 200)], []),
        ("conflicting_against_support", [("a", G, 200)], [("a", G, 100)]),
    ]:
        yield Case(name, inputs=inputs([ballot(G + 1, support=s, against=a)]), error="InvalidBallot",
                   reason="conflicting_votes", spec_ref=REF, description="the same block id voted twice")
    yield Case("conflicting_abstain", inputs=inputs([ballot(G + 1, against=[("a", G, 100)], abstain=[G])]),
               error="InvalidBallot", reason="conflict_with_abstain", spec_ref=REF,
               description="a layer with block votes is also abstained on")
    # tortoise.md §10.2: base abstains on a layer, the new ballot supports a block there.
    b_abs = ballot(G + 1, abstain=[G])
    yield Case("abstain_base_plus_support",
               inputs=inputs([b_abs, ballot(G + 2, 0, support=[("a", G, 100)])]),
               expected={"ballots": [out(H(None, b"\x00"), [[G, 0, []]]),
                                     out(H(H(None, sup("a", 100))), [[G, 0, ["a"]], [G + 1, -1, []]])]},
               spec_ref=REF, description="quirk kept for parity: vote stays ABSTAIN with a supported block")
    # Against on a layer at or after the base layer changes nothing (state.go:487-505).
    yield Case("against_after_base_is_noop", inputs=inputs([ballot(G + 1, against=[("z", G, 5)])]),
               expected={"ballots": [out(H(None), [[G, -1, []]])]},
               spec_ref=REF, description="against-all is implicit after the base layer")
