"""Proving thresholds, cipher keys and the proving pass (spec/post.md#proving): vectors
post/proving/{difficulty,pow_difficulty,cipher_keys,find_nonce}.

Known answers: post-rs src/difficulty.rs tests (proving_difficulty, scale_pow_difficulty),
research §6.5 (mainnet values), post-rs src/prove.rs `proving_vector` (nonce 3, the multiples
of 3) and `sanity`; the cipher keys of the proving vector were derived in research §6.3.
"""

from __future__ import annotations

import pytest
from smspec.conformance.cases import Blob, Case, vector_source
from smspec.spec import load
from smspec.spec.errors import InvalidValue

from .helpers import CHALLENGE

MAINNET_POW = bytes.fromhex("000dfb23b0979b4b") + bytes(24)


@vector_source("post", "proving", "difficulty")
def test_proving_difficulty():
    for name, k1, num_labels, value in [
        ("k1_1_labels_2", 1, 2, 2**63),
        ("k1_1_labels_4", 1, 4, 2**62),
        ("k1_1_labels_128", 1, 128, 2**57),
        ("proving_vector", 4, 128, 0x0800000000000000),
        ("mainnet_4_units", 26, 4 * 2**32, 27917287424),
        ("mainnet_5_units", 26, 5 * 2**32, 22333829939),
        ("mainnet_16_units", 26, 16 * 2**32, 6979321856),
        ("mainnet_100_units", 26, 100 * 2**32, 1116691496),
    ]:
        yield Case(name, inputs={"k1": k1, "num_labels": num_labels},
                   expected={"difficulty": value, "msb": value >> 56, "lsb": value & (2**56 - 1)},
                   spec_ref="post.md#proving_difficulty", description="post-rs difficulty.rs / research §6.5")
    for name, k1, num_labels in [("no_labels", 1, 0), ("labels_equal_k1", 1, 1), ("labels_below_k1", 2, 1)]:
        yield Case(name, inputs={"k1": k1, "num_labels": num_labels}, error="InvalidValue",
                   reason="invalid_num_labels", spec_ref="post.md#proving_difficulty",
                   description="post-rs difficulty.rs rejects these")


@vector_source("post", "proving", "pow_difficulty")
def test_pow_difficulty():
    ff = b"\xff" * 32
    for name, base, units, scaled in [
        ("ff_1", ff, 1, "ff" * 32),
        ("ff_2", ff, 2, "7f" + "ff" * 31),
        ("ff_32", ff, 32, "07" + "ff" * 31),
        ("mainnet_1", MAINNET_POW, 1, "000dfb23b0979b4b" + "00" * 24),
        ("mainnet_4", MAINNET_POW, 4, "00037ec8ec25e6d2c0" + "00" * 23),
        ("mainnet_16", MAINNET_POW, 16, "0000dfb23b0979b4b0" + "00" * 23),
        ("mainnet_256", MAINNET_POW, 256, "00000dfb23b0979b4b" + "00" * 23),
    ]:
        yield Case(name, inputs={"pow_difficulty": base, "num_units": units}, expected={"scaled": "0x" + scaled},
                   spec_ref="post.md#scale_pow_difficulty", description="post-rs difficulty.rs / research §6.5")
    yield Case("zero_units", inputs={"pow_difficulty": ff, "num_units": 0}, error="InvalidValue", reason="out_of_range",
               spec_ref="post.md#scale_pow_difficulty", description="no space units: refused (no division by zero)")


@vector_source("post", "proving", "cipher_keys")
def test_cipher_keys():
    yield Case("proving_vector_nonce_3", inputs={"challenge": CHALLENGE, "nonce_group": 0, "pow": 0, "nonce": 3},
               expected={"group_key": "0xa6f11e79d0c30fa56e53454c8c6ab6d3", "nonce_key": "0xdbbd9ffd536b2bb9460d42767477454a"},
               spec_ref="post.md#group_cipher_key-nonce_cipher_key", description="research §6.3 (post-rs proving_vector)")


@vector_source("post", "proving", "find_nonce")
def test_find_nonce():
    # post-rs src/prove.rs `proving_vector`: 128 labels whose bytes are 0..=11 repeated.
    data = bytes(j % 12 for j in range(2048))
    yield Case("post_rs_proving_vector",
               inputs={"labels": Blob(data), "challenge": CHALLENGE, "first_nonce": 0, "nonce_count": 16,
                       "pows": [0], "k1": 4, "k2": 32},
               expected={"nonce": 3, "indices": list(range(0, 96, 3))},
               spec_ref="post.md#find_passing_nonce", description="post-rs proving_vector known answer")
    yield Case("not_found_in_pass",
               inputs={"labels": Blob(data), "challenge": CHALLENGE, "first_nonce": 0, "nonce_count": 16,
                       "pows": [0], "k1": 4, "k2": 44},
               expected={"nonce": None, "indices": None},
               spec_ref="post.md#find_passing_nonce",
               description="labels repeat every 3 indices: nonce 3 passes all 43 multiples of 3, no nonce passes 44")
    yield Case("bad_nonce_range",
               inputs={"labels": Blob(data), "challenge": CHALLENGE, "first_nonce": 8, "nonce_count": 16,
                       "pows": [0], "k1": 4, "k2": 32},
               error="InvalidValue", reason="bad_nonce_range",
               spec_ref="post.md#find_passing_nonce", description="nonces start at a multiple of 16")
    yield Case("one_pow_for_two_groups",
               inputs={"labels": Blob(data), "challenge": CHALLENGE, "first_nonce": 0, "nonce_count": 32,
                       "pows": [0], "k1": 4, "k2": 32},
               error="InvalidValue", reason="bad_nonce_range",
               spec_ref="post.md#find_passing_nonce", description="32 nonces are two groups of 16: one k2pow is missing")


def test_sanity_order():
    # post-rs src/prove.rs `sanity`: difficulty u64::MAX and zero labels: label-major, then nonce.
    post = load("post")
    labels = bytes(16 * 8)
    key = post.group_cipher_key(bytes(32), 0, 0)
    assert post.find_passing_nonce(labels, bytes(32), 0, 16, [0], 2**64 - 1, 8) == (0, list(range(8)))
    # All 16 nonces pass label 0 before any passes label 1 (unless byte k of AES(0) is 0xff).
    ciphertext = post.aes128_encrypt(key, bytes(16))
    assert 0xFF not in ciphertext
    assert post.find_passing_nonce(labels, bytes(32), 0, 16, [0], 2**64 - 1, 1) == (0, [0])


def test_label_failure_reasons():
    post = load("post")
    label = bytes(range(16))
    key = post.group_cipher_key(CHALLENGE, 0, 0)
    msb = post.aes128_encrypt(key, label)[5]
    assert post.label_failure(label, CHALLENGE, 5, 0, (msb + 1) << 56) is None
    assert post.label_failure(label, CHALLENGE, 5, 0, msb << 56) == "invalid_lsb"
    assert post.label_failure(label, CHALLENGE, 5, 0, (msb << 56) - 1 if msb else 0) == "invalid_msb"
    lsb = int.from_bytes(post.aes128_encrypt(post.nonce_cipher_key(CHALLENGE, 0, 0, 5), label)[:8], "little") & (2**56 - 1)
    assert post.label_failure(label, CHALLENGE, 5, 0, (msb << 56) | (lsb + 1)) is None
    assert post.label_failure(label, CHALLENGE, 5, 0, (msb << 56) | lsb) == "invalid_lsb"


def test_pow_difficulty_rejects_zero_units():
    post = load("post")
    with pytest.raises(InvalidValue):
        post.scale_pow_difficulty(b"\xff" * 32, 0)
