"""Data layout, metadata and initialization (spec/post.md#data_layout): vectors
post/metadata/{parse,write}, post/init/data_dir.

Known answers: post-rs src/metadata.rs tests (num_files 121), src/initialize.rs tests (67 files
of 15 labels, the last holding 10; a single file of 16000 bytes; split and single layouts give
the same bytes and nonce), go-post shared/post_metadata_test.go (NonceValue [1,2,3] <-> "010203"),
serde_json's pretty printer format (two-space indent, `"Key": value`).
"""

from __future__ import annotations

import json
import math
import os

import pytest
from smspec.conformance.cases import Case, vector_source
from smspec.spec import load

from .helpers import COMMITMENT_ATX_ID, NODE_ID, TINY_UNITS, tiny_labels

NODE_B64 = "TU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU0="  # base64 of [77; 32]
ZERO_B64 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
RUST_JSON = (
    "{\n"
    f'  "NodeId": "{NODE_B64}",\n'
    f'  "CommitmentAtxId": "{ZERO_B64}",\n'
    '  "LabelsPerUnit": 128,\n'
    '  "NumUnits": 2,\n'
    '  "MaxFileSize": 1024,\n'
    '  "Nonce": 208,\n'
    '  "LastPosition": null\n'
    "}"
)
FIELDS = {"node_id": NODE_ID, "commitment_atx_id": COMMITMENT_ATX_ID, "labels_per_unit": 128, "num_units": 2,
          "max_file_size": 1024, "nonce": 208, "last_position": None}


@vector_source("post", "metadata", "write")
def test_metadata_write():
    yield Case("rust_pretty", inputs=FIELDS, expected={"json": RUST_JSON}, spec_ref="post.md#metadata_to_json",
               description="serde_json::to_writer_pretty of post-rs PostMetadata")
    yield Case("nonce_value", inputs={**FIELDS, "nonce_value": b"\x01\x02\x03"},
               expected={"json": RUST_JSON[:-2] + ',\n  "NonceValue": "010203"\n}'},
               spec_ref="post.md#metadata_to_json",
               description="a metadata with go-post's NonceValue [1, 2, 3]: written last, as the hex text \"010203\"")


@vector_source("post", "metadata", "parse")
def test_metadata_parse():
    parsed = {**FIELDS, "nonce_value": None}
    yield Case("rust_form", inputs={"json": RUST_JSON}, expected=parsed, spec_ref="post.md#metadata_from_json",
               description="nulls as Rust writes them")
    go_json = (f'{{"NodeId": "{NODE_B64}", "CommitmentAtxId": "{ZERO_B64}", "LabelsPerUnit": 128, "NumUnits": 2, '
               '"MaxFileSize": 1024, "Nonce": 208, "NonceValue": "010203"}')
    yield Case("go_form", inputs={"json": go_json}, expected={**parsed, "nonce_value": b"\x01\x02\x03"},
               spec_ref="post.md#metadata_from_json", description="Go omits LastPosition and writes NonceValue as hex")
    bad = [
        ("not_json", "{", "not JSON"),
        ("not_object", "[]", "a JSON array"),
        ("missing_num_units", RUST_JSON.replace('  "NumUnits": 2,\n', ""), "NumUnits is required"),
        ("short_node_id", RUST_JSON.replace(NODE_B64, "TU1N"), "3-byte node id"),
        ("bad_base64", RUST_JSON.replace(NODE_B64, "!" * 44), "not base64"),
        ("base64_padding_inside", RUST_JSON.replace(NODE_B64, "TU0=" + NODE_B64[4:]), "padding inside the base64 text"),
        ("base64_not_canonical", RUST_JSON.replace(NODE_B64, NODE_B64[:42] + "1="),
         "non-zero padding bits: not the canonical base64 of any bytes"),
        ("negative_units", RUST_JSON.replace('"NumUnits": 2', '"NumUnits": -2'), "u32 below 0"),
        ("units_over_u32", RUST_JSON.replace('"NumUnits": 2', '"NumUnits": 4294967296'), "u32 overflow"),
        ("bool_units", RUST_JSON.replace('"NumUnits": 2', '"NumUnits": true'), "a bool is not a number"),
        ("string_nonce", RUST_JSON.replace('"Nonce": 208', '"Nonce": "208"'), "a string is not a number"),
        ("nonce_value_not_hex", go_json.replace('"010203"', '"01020z"'), "a NonceValue that is not hex text"),
    ]
    for name, text, description in bad:
        yield Case(name, inputs={"json": text}, error="InvalidPostData", reason="bad_metadata",
                   spec_ref="post.md#metadata_from_json", description=description)


def test_num_files_post_rs():
    post = load("post")
    assert post.num_files(post.PostMetadata(bytes(32), bytes(32), 100, 77, 1024)) == 121
    with pytest.raises(post.InvalidPostData):
        post.num_files(post.PostMetadata(bytes(32), bytes(32), 100, 77, 1000))


def test_initialize_layouts_agree(tmp_path):
    # post-rs initialize.rs: 100 labels x 10 units, 15 labels per file -> 67 files, last 10 labels
    post = load("post")
    split = post.initialize(str(tmp_path / "split"), NODE_ID, COMMITMENT_ATX_ID, 10, 100, 15 * 16, 2)
    single = post.initialize(str(tmp_path / "single"), NODE_ID, COMMITMENT_ATX_ID, 10, 100, 2000 * 16, 2)
    names = sorted(os.listdir(tmp_path / "split"), key=lambda n: (len(n), n))
    assert len(names) == 68 and names[-1] == "postdata_metadata.json"
    sizes = [os.path.getsize(tmp_path / "split" / post.data_file_name(k)) for k in range(67)]
    assert sizes == [240] * 66 + [160]
    joined = b"".join((tmp_path / "split" / post.data_file_name(k)).read_bytes() for k in range(67))
    assert joined == (tmp_path / "single" / "postdata_0.bin").read_bytes()
    assert len(joined) == 16000
    assert split.nonce == single.nonce is not None
    assert post.read_labels(str(tmp_path / "split"), split, 14, 3) == joined[14 * 16:17 * 16]


def test_read_labels_errors(tmp_path):
    post = load("post", "tiny")
    metadata = post.PostMetadata(NODE_ID, COMMITMENT_ATX_ID, 128, 2, 1024)
    data = tiny_labels()
    for k in range(4):
        (tmp_path / post.data_file_name(k)).write_bytes(data[1024 * k:1024 * (k + 1)])
    assert post.read_labels(str(tmp_path), metadata, 60, 8) == data[960:1088]
    (tmp_path / "postdata_2.bin").write_bytes(data[2048:2048 + 500])
    with pytest.raises(post.InvalidPostData) as error:
        post.read_labels(str(tmp_path), metadata, 0, 256)
    assert error.value.reason == "truncated_data_file"
    (tmp_path / "postdata_3.bin").unlink()
    with pytest.raises(post.InvalidPostData) as error:
        post.read_labels(str(tmp_path), metadata, 200, 56)
    assert error.value.reason == "missing_data_file"
    with pytest.raises(post.InvalidValue):
        post.read_labels(str(tmp_path), metadata, 250, 7)


def test_tiny_initializer_pins(tmp_path):
    post = load("post", "tiny")
    metadata = post.initialize(str(tmp_path), NODE_ID, COMMITMENT_ATX_ID, TINY_UNITS, post.LABELS_PER_UNIT,
                               post.MAX_FILE_SIZE, post.SCRYPT_N)
    assert metadata.nonce == 208 and metadata.last_position is None
    assert (tmp_path / post.METADATA_FILE_NAME).read_text() == RUST_JSON
    assert b"".join((tmp_path / post.data_file_name(k)).read_bytes() for k in range(4)) == tiny_labels()
    assert post.load_metadata(str(tmp_path)) == metadata


def test_vrf_search_beyond_data(tmp_path):
    # 9 labels: threshold (2^256 / 9) << 3 is 8/9 of the range; force the continuation with a
    # data set whose outputs all fail by checking the search function directly.
    post = load("post")
    commitment = post.compute_commitment(NODE_ID, COMMITMENT_ATX_ID)
    index, output = post.search_vrf_nonce_beyond(commitment, 9, 2)
    assert index >= 9 and output < post.vrf_difficulty(9)
    assert all(post.compute_label(commitment, i, 2) >= post.vrf_difficulty(9) for i in range(9, index))


def one_unit_layout(output: dict) -> None:
    """What is known of a 1-unit, 128-label, 1024-byte-file directory: two files of 64 labels whose
    labels are the first 128 of the 2-unit set (labels depend on the index, not on the unit count,
    post-rs initialize.rs), and the metadata post-rs writes, with the unit's own VRF nonce."""
    labels = tiny_labels()[:128 * 16]
    assert output["files"] == {"postdata_0.bin": "0x" + labels[:1024].hex(), "postdata_1.bin": "0x" + labels[1024:].hex()}
    nonce = json.loads(output["metadata"])["Nonce"]
    assert isinstance(nonce, int) and 0 <= nonce
    assert output["metadata"] == RUST_JSON.replace('"NumUnits": 2', '"NumUnits": 1').replace('"Nonce": 208', f'"Nonce": {nonce}')


@vector_source("post", "init", "data_dir", presets=("tiny",))
def test_init_data_dir():
    yield Case("tiny_one_unit", inputs={"node_id": NODE_ID, "commitment_atx_id": COMMITMENT_ATX_ID, "num_units": 1,
                                        "labels_per_unit": 128, "max_file_size": 1024, "scrypt_n": 16},
               check=one_unit_layout, spec_ref="post.md#initialize",
               description="a whole tiny data directory (the VRF nonce is the spec's)")
    yield Case("one_label_per_file", inputs={"node_id": NODE_ID, "commitment_atx_id": COMMITMENT_ATX_ID,
                                             "num_units": 1, "labels_per_unit": 16, "max_file_size": 16,
                                             "scrypt_n": 16},
               check=one_label_per_file, spec_ref="post.md#initialize",
               description="16 labels in 16 files of one label each: the VRF nonce is the lowest passing label over "
               "all files (files without a passing label change nothing)")
    yield Case("file_size_not_label_multiple", inputs={"node_id": NODE_ID, "commitment_atx_id": COMMITMENT_ATX_ID,
                                                       "num_units": 1, "labels_per_unit": 16, "max_file_size": 24,
                                                       "scrypt_n": 16},
               error="InvalidPostData", reason="bad_metadata", spec_ref="post.md#labels_per_file",
               strict="post.md#labels_per_file", strict_why="post-rs asserts that MaxFileSize is a multiple of 16 (a "
               "panic)",
               description="a largest file of 24 bytes, not a multiple of the 16-byte label: refused as bad metadata")


def one_label_per_file(output: dict) -> None:
    """16 files of one label each (the first 16 labels of the tiny set), and the nonce: the index of the
    lowest 32-byte output below the difficulty of 16 labels ((2^256 / 16) << 3), worked out here from
    the outputs."""
    post = load("post", "tiny")
    labels = tiny_labels()[:16 * 16]
    assert output["files"] == {f"postdata_{i}.bin": "0x" + labels[16 * i:16 * (i + 1)].hex() for i in range(16)}
    commitment = post.compute_commitment(NODE_ID, COMMITMENT_ATX_ID)
    outputs = [int.from_bytes(post.compute_label(commitment, i, 16), "big") for i in range(16)]
    passing = [(value, i) for i, value in enumerate(outputs) if value < (2**256 // 16) << 3]
    assert len(passing) < 16  # some files hold no passing label
    nonce = min(passing)[1]
    want = (RUST_JSON.replace('"LabelsPerUnit": 128', '"LabelsPerUnit": 16').replace('"NumUnits": 2', '"NumUnits": 1')
            .replace('"MaxFileSize": 1024', '"MaxFileSize": 16').replace('"Nonce": 208', f'"Nonce": {nonce}'))
    assert output["metadata"] == want


def test_num_files_is_exact_above_float_precision():
    # post-rs divides as f64: (2^58 + 16) bytes rounds to 2^58 and gives one file; the exact
    # count (post.md, file count in integers) is two, the second holding one label.
    post = load("post")
    labels, max_file_size = 2**54 + 1, 2**58
    assert math.ceil(float(labels * 16) / float(max_file_size)) == 1
    assert post.num_files(post.PostMetadata(bytes(32), bytes(32), labels, 1, max_file_size)) == 2
