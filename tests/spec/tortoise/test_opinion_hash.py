"""Opinion-hash chain (spec/tortoise.md#opinion_hash): vectors tortoise/opinion_hash/chain.

Known answers: the nine cases of go-spacemesh `tortoise/opinionhash/opinion_hash_test.go:11-117`
(the test checks the first 5 bytes; the full digests were recomputed and confirmed by running the
upstream code, shared/research/CONFIRMED.md), and two chain values from `TestEncodeVotes`
(`tortoise_test.go:2744-2776`).
"""

from __future__ import annotations

from smspec.conformance.cases import Case, vector_source

REF = "tortoise.md#opinion_hash"


def bid(n: int) -> bytes:
    """go-spacemesh BlockID{n}: byte n then 19 zero bytes."""
    return bytes([n]) + bytes(19)


def case(name: str, layers: list[dict], digest: str, note: str) -> Case:
    return Case(name, inputs={"layers": layers}, expected={"opinion": "0x" + digest}, spec_ref=REF, description=note)


UPSTREAM = [
    ("support_id1_h10", [{"support": [[bid(1), 10]]}],
     "9792d675f91bda454356c00761f0ee7e4fad33f075f5c02cfd11730f0199f3ed"),
    ("support_id1_h100", [{"support": [[bid(1), 100]]}],
     "fdae510822088f67d47f8229d7971212973688d310c87144a154e8b51d787b4e"),
    ("support_two_blocks_one_layer", [{"support": [[bid(1), 100], [bid(2), 100]]}],
     "c0d65bb2f64a870c3f067bbc6e06ded4437ec95616b7bc61ee52fd02fe9468d2"),
    ("against_all", [{}],
     "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"),
    ("abstain", [{"abstain": True}],
     "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213"),
    ("abstain_abstain", [{"abstain": True}, {"abstain": True}],
     "58716d2accccc68182ffb06de20c77010061d694056defb23d2ad881d9367e16"),
    ("against_against", [{}, {}],
     "82878ed8a480ee41775636820e05a934ca5c747223ca64306658ee5982e6c227"),
    ("support_two_layers", [{"support": [[bid(1), 100]]}, {"support": [[bid(2), 100]]}],
     "88f75279f76898e958fba3409c60cee10967e04910bb97730e286531bbe7a757"),
    ("support_then_against", [{"support": [[bid(1), 100]]}, {}],
     "ae4b107c6601034d18eb7b7817a330abe6ba8a82e58265ef503928050730cd14"),
]


@vector_source("tortoise", "opinion_hash", "chain", presets=("mainnet",))
def test_opinion_hash_vectors():
    for name, layers, digest in UPSTREAM:
        yield case(name, layers, digest, "go-spacemesh opinion_hash_test.go (confirmed upstream)")
    # TestEncodeVotes: genesis (empty, against all) then G+1 abstain / against all.
    yield case("genesis_then_abstain", [{}, {"abstain": True}],
               "59398759f8fb89863c9419128ca04a0dd2e4d82b2f3c156e786f566c5eee7596",
               "go-spacemesh TestEncodeVotes: ballot at G+2 abstaining on G+1")
    # Order: supported blocks hash by (height, id) whatever order the input lists them in.
    yield case("unsorted_input_is_canonicalised", [{"support": [[bid(2), 100], [bid(1), 100]]}],
               "c0d65bb2f64a870c3f067bbc6e06ded4437ec95616b7bc61ee52fd02fe9468d2",
               "same as support_two_blocks_one_layer: blocks are hashed in (height, id) order")


def test_support_with_abstain_flag_hashes_blocks_only():
    """A layer with supported blocks never writes the abstain byte (state.go:369-383)."""
    from smspec.spec import tortoise

    header = tortoise.BlockHeader(id=bid(1), layer=0, height=10)
    assert tortoise.opinion_hash(None, [header], True) == bytes.fromhex(UPSTREAM[0][2])
