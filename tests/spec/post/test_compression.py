"""Index packing and the K3 shuffle (spec/post.md#proof_encoding, #choosing-the-indices-to-check):
vectors post/compression/{pack,unpack,required_bits} and post/shuffle/prefix.

Known answers: post-rs src/compression.rs tests, src/prove.rs `Proof::new` test, research §6.5;
post-rs src/random_values_gen.rs `test_vec` (seed = no parts, i.e. BLAKE3 of the empty string).
"""

from __future__ import annotations

from smspec.conformance.cases import Case, vector_source
from smspec.spec import load

SHUFFLE_100 = [39, 13, 95, 77, 36, 41, 74, 17, 59, 87, 91, 63, 40, 20, 94, 78, 48, 60, 18, 32, 67, 43, 23, 69, 71,
               1, 51, 79, 19, 53, 86, 80, 14, 84, 97, 92, 83, 26, 2, 81, 42, 55, 50, 88, 75, 82, 44, 34, 58, 72, 35,
               25, 10, 68, 12, 11, 70, 27, 98, 57, 96, 16, 45, 73, 0, 15, 62, 46, 30, 89, 33, 54, 9, 29, 7, 90, 38, 5,
               49, 61, 93, 99, 22, 6, 64, 24, 76, 85, 37, 65, 31, 4, 52, 3, 56, 21, 8, 28, 66, 47]


@vector_source("post", "compression", "pack")
def test_pack():
    yield Case("three_bits_truncates", inputs={"indices": [0, 0xFFF5, 0, 0xFF0F], "bits": 3},
               expected={"packed": bytes([0b00101000, 0b00001110])}, spec_ref="post.md#compress_indices",
               description="post-rs compression.rs: only the low bits are kept")
    yield Case("sixteen_bits", inputs={"indices": [0, 0xFFF5, 0, 0xFF0F], "bits": 16},
               expected={"packed": bytes.fromhex("0000f5ff00000fff")}, spec_ref="post.md#compress_indices",
               description="post-rs compression.rs")
    yield Case("proof_new_nine_labels", inputs={"indices": list(range(9)), "bits": 4},
               expected={"packed": bytes.fromhex("1032547608")}, spec_ref="post.md#compress_indices",
               description="post-rs Proof::new(7, [0..=8], 9 labels): 4 bits each, LSB first")
    yield Case("empty", inputs={"indices": [], "bits": 35}, expected={"packed": b""},
               spec_ref="post.md#compress_indices", description="no indices")
    yield Case("index_2_64", inputs={"indices": [1, 2**64], "bits": 8}, error="InvalidValue", reason="out_of_range",
               spec_ref="post.md#compress_indices", untyped="an index of 2^64: post-rs indices are u64",
               description="an index of 2^64 is not a u64: refused (out_of_range), although only its low 8 bits "
               "would be kept")
    yield Case("index_max_u64", inputs={"indices": [2**64 - 1], "bits": 8}, expected={"packed": b"\xff"},
               spec_ref="post.md#compress_indices",
               description="the largest u64 index is accepted; only its low 8 bits are kept")


@vector_source("post", "compression", "unpack")
def test_unpack():
    yield Case("padding_gives_extra_chunk", inputs={"packed": bytes.fromhex("1032547608"), "bits": 4},
               expected={"indices": list(range(9)) + [0]}, spec_ref="post.md#decompress_indices",
               description="the padding nibble reads as a tenth index; callers take K2")
    yield Case("three_bits", inputs={"packed": bytes([0b00101000, 0b00001110]), "bits": 3},
               expected={"indices": [0, 5, 0, 7, 0]}, spec_ref="post.md#decompress_indices",
               description="16 bits hold five 3-bit chunks")
    yield Case("zero_bits", inputs={"packed": bytes([0xFF, 0x01]), "bits": 0}, expected={"indices": []},
               spec_ref="post.md#decompress_indices", description="0 bits per index (a data set of one label): no "
               "index is read, whatever the bytes")


@vector_source("post", "compression", "required_bits")
def test_required_bits():
    for value, bits in [(0, 0), (1, 1), (2**19, 20), (2**63 - 1, 63), (2**64 - 1, 64), (4 * 2**32, 35),
                        (16 * 2**32, 37), (100 * 2**32, 39)]:
        yield Case(f"value_{value}", inputs={"value": value}, expected={"bits": bits},
                   spec_ref="post.md#required_bits", description="post-rs compression.rs / research §2.8")


def test_expected_indices_bytes():
    post = load("post")
    # post-rs verification.rs tests and research §2.8 (mainnet 4, 16, 100 SU)
    assert [post.expected_indices_bytes(b, k) for b, k in [(1, 8), (3, 10), (8, 10)]] == [1, 4, 10]
    assert [post.expected_indices_bytes(b, 37) for b in (35, 37, 39)] == [162, 172, 181]


@vector_source("post", "shuffle", "prefix")
def test_shuffle():
    yield Case("post_rs_test_vec", inputs={"seed": b"", "size": 100, "count": 100},
               expected={"chosen": SHUFFLE_100}, spec_ref="post.md#shuffled_prefix",
               description="post-rs random_values_gen.rs test_vec")
    yield Case("post_rs_test_vec_prefix", inputs={"seed": b"", "size": 100, "count": 5},
               expected={"chosen": SHUFFLE_100[:5]}, spec_ref="post.md#shuffled_prefix",
               description="a prefix of the same shuffle")
    yield Case("count_above_size", inputs={"seed": b"", "size": 3, "count": 10},
               expected={"chosen": load("post").shuffled_prefix([0, 1, 2], b"", 3)}, spec_ref="post.md#shuffled_prefix",
               description="at most size items")
    yield Case("size_above_u16", inputs={"seed": b"", "size": 65536, "count": 1}, error="InvalidValue",
               reason="out_of_range", spec_ref="post.md#shuffled_prefix",
               description="65,536 items: the u16 draws cannot reach every position")
    yield Case("size_u16_max", inputs={"seed": b"", "size": 65535, "count": 0}, expected={"chosen": []},
               spec_ref="post.md#shuffled_prefix", description="65,535 items, none taken: the largest size accepted")


def test_shuffle_is_a_permutation():
    post = load("post")
    chosen = post.shuffled_prefix(list(range(37)), b"seed", 37)
    assert sorted(chosen) == list(range(37))
    assert chosen[:5] == post.shuffled_prefix(list(range(37)), b"seed", 5)


def test_proof_json_round_trip_and_errors():
    post = load("post")
    proof = post.Proof(7, bytes([1, 2, 3]), 2**64 - 1)
    text = post.proof_to_json(proof)
    assert text == '{"nonce": 7, "indices": "AQID", "pow": 18446744073709551615}'
    assert post.proof_from_json(text) == proof
    for bad in ["{", "[]", '{"nonce": 1, "indices": "AQID"}', '{"nonce": -1, "indices": "AQID", "pow": 0}',
                '{"nonce": 4294967296, "indices": "AQID", "pow": 0}', '{"nonce": 1, "indices": "AQI", "pow": 0}',
                '{"nonce": 1, "indices": 5, "pow": 0}', '{"nonce": true, "indices": "", "pow": 0}',
                '{"nonce": 1, "indices": "", "pow": 0, "extra": 1}']:
        try:
            post.proof_from_json(bad)
        except post.InvalidEncoding as e:
            assert e.reason == "malformed_proof"
        else:
            raise AssertionError(f"accepted {bad}")
