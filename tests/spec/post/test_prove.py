"""A complete proof on the tiny data set (spec/post.md#generate_proof): vector post/proving/prove.

The data set is the tiny identity's 256 labels (node id [77; 32], zero ATX, scrypt N = 16),
whose label function is pinned by the scrypt-jane known answers; the proof is pinned as a
regression value and must verify with every index checked.
"""

from __future__ import annotations

from smspec.conformance.cases import Blob, Case, vector_source
from smspec.spec import load

from .helpers import CHALLENGE, COMMITMENT_ATX_ID, NODE_ID, TINY_UNITS, needs_randomx, tiny_labels

pytestmark = needs_randomx


@vector_source("post", "proving", "prove", presets=("tiny",))
def test_prove_tiny():
    yield Case("tiny_two_units", inputs={"labels": Blob(tiny_labels()), "node_id": NODE_ID,
                                         "commitment_atx_id": COMMITMENT_ATX_ID, "num_units": TINY_UNITS,
                                         "challenge": CHALLENGE, "nonces": 16},
               expected={"nonce": 0, "indices": "0x0010349800", "pow": 2}, spec_ref="post.md#generate_proof",
               description="spec prover: smallest k2pow, single-threaded scan order")


def test_prove_then_verify(tmp_path):
    post = load("post", "tiny")
    post.initialize(str(tmp_path), NODE_ID, COMMITMENT_ATX_ID, TINY_UNITS, post.LABELS_PER_UNIT, post.MAX_FILE_SIZE,
                    post.SCRYPT_N)
    challenge = bytes(range(32))
    proof = post.generate_proof(str(tmp_path), challenge, 16)
    post.verify_proof(proof, challenge, NODE_ID, COMMITMENT_ATX_ID, TINY_UNITS, k3=post.K2, strict=True)
    assert post.proof_from_json(post.proof_to_json(proof)) == proof
