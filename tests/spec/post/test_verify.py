"""The verifier (spec/post.md#verification): vectors post/verify/proof, every reject reason.

The valid proof is the one the spec prover finds on the tiny data set (test_prove.py pins it:
nonce 0, indices [0, 8, 13, 19], pow 2, challenge of post-rs `proving_vector`). The other
index lists were chosen by regenerating labels 0..511 of the tiny identity with the spec and
sorting them by the outcome of the label test for nonce 0 and pow 2: label 1 fails on the top
byte, label 64 on the low 56 bits (the tiny difficulty 12·2^64/256 has low part 0, so any
label whose top byte equals 12 fails there), and label 259 (beyond the 256 labels) passes.
"""

from __future__ import annotations

from smspec.conformance.cases import Case, vector_source

from .helpers import CHALLENGE, COMMITMENT_ATX_ID, NODE_ID, TINY_UNITS, needs_randomx

pytestmark = needs_randomx

VALID = {"nonce": 0, "indices": "0x0010349800", "pow": 2}  # [0, 8, 13, 19], 9 bits each


def case(name: str, proof: dict, description: str, reason: str | None = None, **extra) -> Case:
    inputs = {"proof": proof, "challenge": CHALLENGE, "node_id": NODE_ID, "commitment_atx_id": COMMITMENT_ATX_ID,
              "num_units": TINY_UNITS, "k3": 4, **extra}
    ref = "post.md#verify_proof"
    if reason is None:
        return Case(name, inputs=inputs, expected={"valid": True}, spec_ref=ref, description=description)
    return Case(name, inputs=inputs, error="InvalidProof", reason=reason, spec_ref=ref, description=description)


@vector_source("post", "verify", "proof", presets=("tiny",))
def test_verify_proof():
    yield case("valid_all_indices", VALID, "K3 = K2: every index regenerated")
    yield case("valid_subset", VALID, "K3 = 1 with a peer seed", k3=1, seed=b"peer")
    yield case("valid_one_position", VALID, "Mode::One (malfeasance check) on position 2", only_position=2)
    yield case("num_units_too_small", VALID, "tiny MIN_NUM_UNITS is 1", "num_units_too_small", num_units=0)
    yield case("num_units_too_large", VALID, "tiny MAX_NUM_UNITS is 4", "num_units_too_large", num_units=5)
    yield case("nonce_group_out_of_bounds", {**VALID, "nonce": 4096}, "group 256 does not fit a u8",
               "nonce_group_out_of_bounds")
    yield case("k2pow_invalid", {**VALID, "pow": 0}, "RandomX hash e6be.. >= 7fff.. (ff..ff / 2 units)",
               "k2pow_invalid")
    yield case("indices_too_short", {**VALID, "indices": "0x00103498"}, "4 bytes instead of ceil(9*4/8) = 5",
               "invalid_indices_len")
    yield case("indices_too_long", {**VALID, "indices": "0x001034980000"}, "6 bytes instead of 5",
               "invalid_indices_len")
    yield case("invalid_msb", {**VALID, "indices": "0x0010340800"}, "[0, 8, 13, 1]: label 1 fails on the top byte",
               "invalid_msb")
    yield case("invalid_lsb", {**VALID, "indices": "0x0010340002"}, "[0, 8, 13, 64]: label 64 fails on the low bits",
               "invalid_lsb")
    yield case("one_position_finds_bad_index", {**VALID, "indices": "0x0010340800"},
               "Mode::One on the failing position", "invalid_msb", only_position=3)
    yield case("subset_misses_bad_index", {**VALID, "indices": "0x0010340800"},
               "K3 = 1 with seed 'peer' picks position 0, so the bad index 1 at position 3 is not checked",
               k3=1, seed=b"peer")
    yield case("lax_index_beyond_data", {**VALID, "indices": "0x0010341808"},
               "[0, 8, 13, 259]: 259 >= 256 labels is accepted, as the live verifier does")
    yield case("strict_index_beyond_data", {**VALID, "indices": "0x0010341808"},
               "strict mode rejects index 259 >= 256", "index_out_of_range", strict=True)
    yield case("lax_duplicate_indices", {**VALID, "indices": "0x0810204000"},
               "[8, 8, 8, 8] is accepted, as the live verifier does")
    yield case("strict_duplicate_indices", {**VALID, "indices": "0x0810204000"},
               "strict mode rejects repeated indices", "duplicate_index", strict=True)
    yield case("invalid_num_labels", {**VALID, "indices": "0x0000"},
               "8 labels (4 per unit) are not more than K1 = 12", "invalid_num_labels",
               config={"labels_per_unit": 4})
