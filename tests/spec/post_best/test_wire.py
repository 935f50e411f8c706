"""Codec triad of the best-labels proof (vectors post_best/wire/best_proof), with an
invalid-encoding suite (tests/spec/wirecases.py)."""

from __future__ import annotations

from smspec.conformance.cases import Case, vector_source
from smspec.spec import load
from smspec.tests.spec.wirecases import invalid_cases, triad_cases

pb = load("post_best", "mainnet")
scale = load("scale", "mainnet")


@vector_source("post_best", "wire", "best_proof")
def test_best_proof_triad():
    two_groups = pb.BestProof(kth_score=300, groups=[pb.BestProofGroup(identity=0, index_steps=[5, 1, 64]),
                                                     pb.BestProofGroup(identity=2, index_steps=[0])])
    # kth_score 300 -> b104; 2 groups -> 08; identity 0 -> 00; 3 steps -> 0c; 5, 1, 64 -> 14 04 0101;
    # identity 2 -> 08; 1 step -> 04; 0 -> 00 (the same bytes as post_best/proof/encoding)
    known = bytes.fromhex("b104" "08" "00" "0c" "14" "04" "0101" "08" "04" "00")
    yield from triad_cases("two_groups", pb.BestProof, two_groups, "post_best.md#bestproof",
                           "a best-labels proof of two groups", encoded=known)
    maximal = pb.BestProof(kth_score=2**64 - 1, groups=[pb.BestProofGroup(identity=255, index_steps=[2**64 - 1])])
    yield from triad_cases("max_values", pb.BestProof, maximal, "post_best.md#bestproof",
                           "a proof whose score and step take the 9-byte compact")
    yield from invalid_cases("two_groups", pb.BestProof, known, "post_best.md#bestproof", "a best-labels proof")


@vector_source("post_best", "proof", "entries")
def test_entries_vectors():
    known = bytes.fromhex("b104" "08" "00" "0c" "14" "04" "0101" "08" "04" "00")
    # identity 0: steps 5, 1, 64 -> indices 5, 6, 70; identity 2: step 0 -> index 0
    yield Case("two_groups", inputs={"proof": known}, expected={"entries": [[0, 5], [0, 6], [0, 70], [2, 0]]},
               spec_ref="post_best.md#proof_entries-make_proof", description="steps are summed within each group")
    yield Case("trailing", inputs={"proof": known + b"\x00"}, error="InvalidEncoding", reason="trailing_bytes",
               spec_ref="post_best.md#bestproof", description="one byte appended")
