"""A PoST proof's JSON form, as post-rs serializes it (vectors post/wire/proof_json). The wire
form inside ATXs (PostV1, SCALE) is atx/wire/post_v1."""

from __future__ import annotations

import base64

from smspec.conformance.cases import Case, vector_source

REF = "post.md#proof_to_json-proof_from_json"


@vector_source("post", "wire", "proof_json")
def test_proof_json():
    indices = bytes(range(1, 33))
    text = '{"nonce": 7, "indices": "' + base64.b64encode(indices).decode() + '", "pow": 123456789}'
    proof = {"nonce": 7, "indices": "0x" + indices.hex(), "pow": 123456789}
    yield Case("post_rs_form", inputs={"json": text}, expected={"proof": proof, "json": text}, spec_ref=REF,
               description="post-rs's serde JSON: nonce, base64 indices (standard alphabet, padded), pow")
    spaced = '{ "pow":123456789,"nonce":7,\n "indices":"' + base64.b64encode(indices).decode() + '" }'
    yield Case("any_order_and_spacing", inputs={"json": spaced}, expected={"proof": proof, "json": text},
               spec_ref=REF, description="key order and spacing are free; the rewrite is post-rs's form")
    top = '{"nonce": 4294967295, "indices": "", "pow": 18446744073709551615}'
    yield Case("largest_numbers", inputs={"json": top},
               expected={"proof": {"nonce": 2**32 - 1, "indices": "0x", "pow": 2**64 - 1}, "json": top},
               spec_ref=REF, description="nonce 2^32 - 1 and pow 2^64 - 1; empty indices")
    for name, bad, what in [
        ("not_json", "{nonce: 1}", "not JSON"),
        ("not_an_object", "[1, 2, 3]", "a JSON array"),
        ("missing_pow", '{"nonce": 1, "indices": "AA=="}', "no pow"),
        ("extra_key", '{"nonce": 1, "indices": "AA==", "pow": 1, "k2": 5}', "an extra key"),
        ("nonce_too_big", '{"nonce": 4294967296, "indices": "AA==", "pow": 1}', "nonce 2^32"),
        ("negative_pow", '{"nonce": 1, "indices": "AA==", "pow": -1}', "a negative pow"),
        ("bool_nonce", '{"nonce": true, "indices": "AA==", "pow": 1}', "a boolean nonce"),
        ("indices_not_base64", '{"nonce": 1, "indices": "***", "pow": 1}', "indices that are not base64"),
        ("indices_number", '{"nonce": 1, "indices": 5, "pow": 1}', "indices that are a number"),
    ]:
        yield Case(name, inputs={"json": bad}, error="InvalidEncoding", reason="malformed_proof", spec_ref=REF,
                   description=f"{what}: malformed_proof")
