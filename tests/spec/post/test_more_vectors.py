"""More PoST vectors: the VRF nonce search past the data (post/vrf_nonce/search_beyond) and one
RandomX hash (post/k2pow/randomx).

Known answers: RandomX's reference vector (tevador/RandomX tests: key "test key 000", input
"This is a test"); for the search, what the result must satisfy (an index at or past the data
set's end whose output is below the difficulty, and none before it: checked here label by label).
"""

from __future__ import annotations

import pytest
from smspec.conformance.cases import Case, vector_source
from smspec.spec import load

from .helpers import randomx_available

post = load("post", "mainnet")


def first_below(commitment: bytes, num_labels: int, scrypt_n: int):
    difficulty = post.vrf_difficulty(num_labels)

    def check(output: dict) -> None:
        nonce = output["nonce"]
        value = bytes.fromhex(output["value"][2:])
        assert nonce >= num_labels and value < difficulty
        assert post.compute_label(commitment, nonce, scrypt_n) == value
        assert all(post.compute_label(commitment, i, scrypt_n) >= difficulty for i in range(num_labels, nonce))
    return check


@vector_source("post", "vrf_nonce", "search_beyond")
def test_search_beyond_vectors():
    ref = "post.md#search_vrf_nonce_beyond"
    for name, labels in (("sixteen_labels", 16), ("one_unit_tiny", 128)):
        commitment = post.compute_commitment(bytes([3]) * 32, bytes([4]) * 32)
        yield Case(name, inputs={"commitment": commitment, "num_labels": labels, "scrypt_n": 16},
                   check=first_below(commitment, labels, 16), spec_ref=ref,
                   description=f"{labels} labels, scrypt N 16: the first qualifying index from {labels} on")


@vector_source("post", "k2pow", "randomx")
def test_randomx_vectors():
    if not randomx_available():
        pytest.skip("librandomx0 is not installed (scripts/setup-system.sh installs it)")
    yield Case("reference_vector", inputs={"key": b"test key 000", "input": b"This is a test"},
               expected={"hash": "0x639183aae1bf4c9a35884cb46b09cad9175f04efd7684e7262a0ac1c2f0b4e3f"},
               spec_ref="randomx.md#randomx_hash", description="RandomX's reference vector (tevador/RandomX tests)")
