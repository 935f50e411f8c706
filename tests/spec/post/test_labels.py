"""Commitment and scrypt-jane labels (spec/post.md#labels): vectors post/commitment/blake3 and
post/labels/scrypt.

Provenance of the known answers: shared/research/post.md §6.1, computed with the upstream C
scrypt-jane (spacemeshos/scrypt-jane f09a907e built with SCRYPT_CHACHA and SCRYPT_KECCAK512, the
flags spacemeshos/scrypt-jane-rs uses) and re-derived independently; the commitments are
BLAKE3-256(node_id || atx_id) as post-rs `calc_commitment` computes them.
"""

from __future__ import annotations

import pytest
from smspec.conformance.cases import Case, vector_source
from smspec.spec import load
from smspec.spec.errors import InvalidValue

ZERO = bytes(32)
COMMIT_ZERO = bytes.fromhex("4d006976636a8696d909a630a4081aad4d7c50f81afdee04020bf05086ab6a55")
COMMIT_77 = bytes.fromhex("788596c567c2b8f4d5fd10329c57077e432f42caee8283101e0f3964f8c7e076")


@vector_source("post", "commitment", "blake3")
def test_commitment():
    yield Case("zero_ids", inputs={"node_id": ZERO, "commitment_atx_id": ZERO},
               expected={"commitment": COMMIT_ZERO}, spec_ref="post.md#compute_commitment",
               description="research §1.1 [verified]: commitment(0^32, 0^32)")
    yield Case("post_rs_test_identity", inputs={"node_id": bytes([77]) * 32, "commitment_atx_id": ZERO},
               expected={"commitment": COMMIT_77}, spec_ref="post.md#compute_commitment",
               description="identity of post-rs tests/generate_and_verify.rs")
    yield Case("short_node_id", inputs={"node_id": bytes(31), "commitment_atx_id": ZERO},
               error="InvalidValue", reason="wrong_length", spec_ref="post.md#compute_commitment",
               description="node ids are 32 bytes")


# (commitment, N, index, full 32-byte output) from research §6.1 (C reference scrypt-jane).
LABEL_KATS = [
    (COMMIT_ZERO, 4, 0, "b57b3f6f2ffb5975799c21c5387e4c6f00502344a861dfd5bcdadeb22573d3c8"),
    (COMMIT_ZERO, 4, 1, "20ed33a0d795f45f7cb9acddd4fbb24bf5ef4b272bef485122320b66f456a052"),
    (ZERO, 2, 0, "ff29deee2578176c8c7d9495164e88213859c3db4b0fe3cdfdd27818b26943a6"),
    (ZERO, 2, 1, "eb665e438dcd38363f8b73e7105dc84ce9d629396a6d621c606eddc07e079792"),
    (ZERO, 2, 2, "2252a78682594920344d2558dd991339526da087b68784cf557b46364f75300a"),
    (ZERO, 2, 3, "a6b3531becdfe21c2f3aa1c082f46f3b9b0b7a0f0b85374be7906a543779d372"),
    (COMMIT_77, 2, 0, "62b14f1021413fe30425a2927430cc7bdb581669be6ec20e0e2548ef59efad5f"),
    (COMMIT_77, 2, 1, "611d1114821ddc764e6e1a41abd0f78a50c907f98ef879875d7460592964d941"),
    (COMMIT_77, 2, 2, "951803bbc57d0e521250d952b3551b1adaab6f641dd88cca2d13f822134f2e32"),
    (COMMIT_77, 2, 3, "c2e1ee2b071a1619ca6831d24af306eec9e66710d20b501e40f62d342c7a8eef"),
]


@vector_source("post", "labels", "scrypt")
def test_scrypt_labels():
    names = {COMMIT_ZERO: "commit_zero", ZERO: "zero", COMMIT_77: "commit_77"}
    for commitment, n, index, output in LABEL_KATS:
        yield Case(f"{names[commitment]}_n{n}_index{index}",
                   inputs={"commitment": commitment, "index": index, "scrypt_n": n},
                   expected={"output": "0x" + output, "label": "0x" + output[:32]},
                   spec_ref="post.md#compute_label", description="C scrypt-jane known answer (research §6.1)")
    yield Case("n_not_power_of_two", inputs={"commitment": ZERO, "index": 0, "scrypt_n": 6},
               error="InvalidValue", reason="scrypt_n_not_power_of_two", spec_ref="post.md#scrypt_jane",
               description="post-rs ScryptParams::new asserts a power of two")
    yield Case("n_one", inputs={"commitment": ZERO, "index": 0, "scrypt_n": 1},
               error="InvalidValue", reason="scrypt_n_not_power_of_two", spec_ref="post.md#scrypt_jane",
               description="N must be at least 2")
    yield Case("index_not_u64", inputs={"commitment": ZERO, "index": 2**64, "scrypt_n": 2},
               error="InvalidValue", reason="out_of_range", spec_ref="post.md#label_password",
               description="the index is a u64")


def test_keccak512_is_original_keccak():
    # Keccak team known answer for the empty message (original padding 0x01, not SHA3's 0x06).
    post = load("post")
    assert post.keccak512(b"").hex() == (
        "0eab42de4c3ceb9235fc91acffe746b29c29a8c366b7c60e4e67c466f36a4304"
        "c00fa9caf9d87976ba469bcbe06713b435f091ef2769fb160cdab33d3670680e"
    )


def test_compute_labels_concatenates_outputs():
    post = load("post")
    outputs = post.compute_labels(ZERO, 1, 3, 2)
    assert outputs == b"".join(bytes.fromhex(kat[3]) for kat in LABEL_KATS[3:6])


def test_password_layout():
    post = load("post")
    password = post.label_password(COMMIT_ZERO, 0x0102030405060708)
    assert password == COMMIT_ZERO + bytes([8, 7, 6, 5, 4, 3, 2, 1]) + bytes(32)


def test_hmac_long_key_is_hashed():
    post = load("post")
    long_key = bytes(range(100))
    assert post.hmac_keccak512(long_key, b"m") == post.hmac_keccak512(post.keccak512(long_key), b"m")


def test_bad_commitment_length():
    post = load("post")
    with pytest.raises(InvalidValue):
        post.compute_label(bytes(31), 0, 2)
