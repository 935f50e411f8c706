"""Handlers of the ``post/*`` vectors: PoST as post-rs runs it (spec/post.md).

Conventions: bytes are ``0x`` hex; integers are JSON numbers or decimal strings (read with
``as_int``); a data set travels as a blob of the concatenated 16-byte labels.

Runners and handlers:

* ``post/commitment/blake3``: ``node_id``, ``commitment_atx_id`` -> ``commitment``.
* ``post/labels/scrypt``: ``commitment``, ``index``, ``scrypt_n`` -> ``output`` (the 32-byte
  scrypt-jane output) and ``label`` (its first 16 bytes, what is stored).
* ``post/vrf_nonce/difficulty``: ``num_labels`` -> ``difficulty`` (32 bytes).
* ``post/vrf_nonce/scan``: ``commitment``, ``start``, ``count``, ``scrypt_n``, ``difficulty`` ->
  ``nonce`` and ``value`` (the lowest output below ``difficulty``), both ``null`` if none.
* ``post/vrf_nonce/verify``: ``node_id``, ``commitment_atx_id``, ``num_units``, ``nonce`` ->
  ``valid`` (bool), with the preset's labels per unit and scrypt N.
* ``post/proving/difficulty``: ``k1``, ``num_labels`` -> ``difficulty``, ``msb``, ``lsb``;
  ``InvalidValue`` (``invalid_num_labels``) when there is none.
* ``post/proving/pow_difficulty``: ``pow_difficulty`` (32 bytes), ``num_units`` -> ``scaled``.
* ``post/proving/cipher_keys``: ``challenge``, ``nonce_group``, ``pow``, ``nonce`` ->
  ``group_key``, ``nonce_key``.
* ``post/proving/find_nonce``: ``labels`` (blob), ``challenge``, ``first_nonce``,
  ``nonce_count``, ``pows`` (one per group), ``k1``, ``k2`` -> ``nonce`` and ``indices``
  (``null`` if no nonce reaches ``k2``), with the spec's deterministic scan order.
* ``post/proving/prove``: ``labels`` (blob), ``node_id``, ``commitment_atx_id``, ``num_units``,
  ``challenge``, ``nonces`` -> ``nonce``, ``indices`` (packed bytes), ``pow``; the labels are
  laid out as a data directory with the preset's file size, and the preset's K1 / K2 apply.
  The spec's proof is one of many valid ones (smallest k2pow, single-threaded scan order).
* ``post/compression/pack``: ``indices``, ``bits`` -> ``packed``.
* ``post/compression/unpack``: ``packed``, ``bits`` -> ``indices`` (every whole chunk).
* ``post/compression/required_bits``: ``value`` -> ``bits``.
* ``post/shuffle/prefix``: ``seed``, ``size``, ``count`` -> ``chosen``: the first ``count``
  items of the BLAKE3-seeded shuffle of ``[0, size)``.
* ``post/k2pow/hash``: ``pow``, ``nonce_group``, ``challenge``, ``miner_id`` -> ``hash``
  (RandomX, key ``spacemesh-randomx-cache-key``).
* ``post/k2pow/verify``: the same plus ``difficulty`` -> ``valid``.
* ``post/verify/proof``: ``proof`` ``{nonce, indices, pow}``, ``challenge``, ``node_id``,
  ``commitment_atx_id``, ``num_units``, optional ``k3``, ``seed``, ``only_position``,
  ``strict`` (default false) and ``config`` overrides (any ``PostConfig`` field) ->
  ``{"valid": true}``, or ``InvalidProof`` with the reason of the first failed rule.
* ``post/metadata/parse``: ``json`` (text) -> the metadata fields (hex ids), or
  ``InvalidPostData`` (``bad_metadata``).
* ``post/metadata/write``: the metadata fields -> ``json``, the text post-rs writes.
* ``post/init/data_dir``: ``node_id``, ``commitment_atx_id``, ``num_units``,
  ``labels_per_unit``, ``max_file_size``, ``scrypt_n`` -> ``files`` (name -> content) and
  ``metadata`` (the JSON text).
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import attrs
from smspec.conformance.handlers import as_int, blob_bytes, handler, hexbytes, hexstr
from smspec.conformance.schema import Record, Schema, inp, out, raises

_RANDOMX_VMS: dict[bytes, Any] = {}
PRESET = ("Preset-dependent parameters (labels per unit, K1, K2, K3, scrypt N, file size, PoW difficulty) are "
          "the case's preset's: presets/<preset>.json")
METADATA_FIELDS = (
    inp("node_id", "hex:32", "the identity"), inp("commitment_atx_id", "hex:32", "the commitment ATX"),
    inp("labels_per_unit", "uint:64", "labels per space unit"), inp("num_units", "uint:32", "space units"),
    inp("max_file_size", "uint:64", "the largest data file, bytes"),
)
CONFIG = Record("PostConfig", "Overrides of the preset's PostConfig (post.md#postconfig); absent fields keep the "
                "preset's value.", (
    inp("labels_per_unit", "uint", "labels per space unit", optional=True),
    inp("min_num_units", "uint", "smallest accepted num_units", optional=True),
    inp("max_num_units", "uint", "largest accepted num_units", optional=True),
    inp("k1", "uint", "the K1 parameter", optional=True), inp("k2", "uint", "the K2 parameter", optional=True),
    inp("k3", "uint", "the K3 parameter", optional=True),
    inp("pow_difficulty", "hex:32", "the k2pow difficulty", optional=True),
    inp("scrypt_n", "uint", "scrypt N", optional=True),
))


def randomx_vm(post) -> Any:
    """One light-mode RandomX VM for all cases (building one costs a 256 MiB cache init)."""
    if post.RANDOMX_KEY not in _RANDOMX_VMS:
        _RANDOMX_VMS[post.RANDOMX_KEY] = post.RandomXVm(post.RANDOMX_KEY)
    return _RANDOMX_VMS[post.RANDOMX_KEY]


@handler("post", "commitment", "blake3", schema=Schema(
    page="post-commitment-blake3", summary="The commitment of an identity's PoST data: blake3(node_id ‖ commitment_atx_id).",
    spec=("post.md#compute_commitment",),
    inputs=(inp("node_id", "hex", "32 bytes"), inp("commitment_atx_id", "hex", "32 bytes")),
    outputs=(out("commitment", "hex:32", "the commitment"),),
    raises=(raises("InvalidValue", "wrong_length", "an identifier that is not 32 bytes"),)))
def commitment(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: node_id (hex 32), commitment_atx_id (hex 32). output: commitment (hex 32)."""
    post = spec("post")
    return {"commitment": hexstr(post.compute_commitment(hexbytes(inputs["node_id"]), hexbytes(inputs["commitment_atx_id"])))}


@handler("post", "labels", "scrypt", schema=Schema(
    page="post-labels-scrypt", summary="One PoST label: scrypt-jane (ChaCha8, r = 1, p = 1) of the commitment and the index.",
    spec=("post.md#compute_label", "post.md#label_password"),
    inputs=(inp("commitment", "hex:32", "the commitment"), inp("index", "uint", "the label index (a u64)"),
            inp("scrypt_n", "uint", "scrypt N, a power of two")),
    outputs=(out("output", "hex:32", "the 32-byte scrypt output"), out("label", "hex:16", "its first 16 bytes, what is stored")),
    raises=(raises("InvalidValue", "scrypt_n_not_power_of_two", "N is not a power of two above 1"),
            raises("InvalidValue", "out_of_range", "an index that is not a u64"))))
def scrypt_label(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: commitment (hex 32), index, scrypt_n. output: output (hex 32), label (hex 16)."""
    post = spec("post")
    output = post.compute_label(hexbytes(inputs["commitment"]), as_int(inputs["index"]), as_int(inputs["scrypt_n"]))
    return {"output": hexstr(output), "label": hexstr(post.stored_label(output))}


@handler("post", "vrf_nonce", "difficulty", schema=Schema(
    page="post-vrf_nonce-difficulty", summary="The VRF nonce difficulty for a number of labels.",
    spec=("post.md#vrf_difficulty",),
    inputs=(inp("num_labels", "int", "the data set's labels"),),
    outputs=(out("difficulty", "hex:32", "big-endian"),),
    raises=(raises("InvalidValue", "out_of_range", "no labels"),)))
def vrf_difficulty(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: num_labels. output: difficulty (hex 32, big-endian)."""
    return {"difficulty": hexstr(spec("post").vrf_difficulty(as_int(inputs["num_labels"])))}


@handler("post", "vrf_nonce", "scan", schema=Schema(
    page="post-vrf_nonce-scan", summary="The lowest label output below the difficulty among `count` labels from `start`.",
    spec=("post.md#scan_vrf_nonce",),
    inputs=(inp("commitment", "hex:32", "the commitment"), inp("start", "uint", "the first index"),
            inp("count", "uint", "labels scanned"), inp("scrypt_n", "uint", "scrypt N"),
            inp("difficulty", "hex:32", "the difficulty")),
    outputs=(out("nonce", "uint|null", "the index found, or null"), out("value", "hex:32|null", "its output, or null"))))
def vrf_scan(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: commitment, start, count, scrypt_n, difficulty. output: nonce, value (or nulls)."""
    post = spec("post")
    start = as_int(inputs["start"])
    outputs = post.compute_labels(hexbytes(inputs["commitment"]), start, as_int(inputs["count"]), as_int(inputs["scrypt_n"]))
    found = post.scan_vrf_nonce(outputs, start, hexbytes(inputs["difficulty"], 32))
    if found is None:
        return {"nonce": None, "value": None}
    return {"nonce": found[0], "value": hexstr(found[1])}


@handler("post", "vrf_nonce", "verify", schema=Schema(
    page="post-vrf_nonce-verify", summary="Whether a VRF nonce is valid for an identity (the preset's labels per unit and scrypt N).",
    spec=("post.md#verify_vrf_nonce",),
    inputs=(inp("node_id", "hex:32", "the identity"), inp("commitment_atx_id", "hex:32", "the commitment ATX"),
            inp("num_units", "uint:32", "space units"), inp("nonce", "uint:64", "the nonce")),
    outputs=(out("valid", "bool", "the verdict"),), notes=(PRESET,)))
def vrf_verify(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: node_id, commitment_atx_id, num_units, nonce. output: valid (bool)."""
    post = spec("post")
    valid = post.verify_vrf_nonce(hexbytes(inputs["node_id"]), hexbytes(inputs["commitment_atx_id"]),
                                  as_int(inputs["num_units"]), as_int(inputs["nonce"]))
    return {"valid": valid}


@handler("post", "proving", "difficulty", schema=Schema(
    page="post-proving-difficulty", summary="The proving difficulty for K1 and a number of labels, and its split into msb and lsb.",
    spec=("post.md#proving_difficulty", "post.md#split_difficulty"),
    inputs=(inp("k1", "uint", "K1"), inp("num_labels", "uint", "the data set's labels")),
    outputs=(out("difficulty", "uint:64", "the difficulty"), out("msb", "uint:8", "its top byte"),
             out("lsb", "uint:64", "its low 56 bits")),
    raises=(raises("InvalidValue", "invalid_num_labels", "no labels, not more labels than K1, or a difficulty above a u64"),)))
def proving_difficulty(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: k1, num_labels. output: difficulty, msb, lsb."""
    post = spec("post")
    difficulty = post.proving_difficulty(as_int(inputs["k1"]), as_int(inputs["num_labels"]))
    msb, lsb = post.split_difficulty(difficulty)
    return {"difficulty": difficulty, "msb": msb, "lsb": lsb}


@handler("post", "proving", "pow_difficulty", schema=Schema(
    page="post-proving-pow_difficulty", summary="The k2pow difficulty scaled by the number of space units.",
    spec=("post.md#scale_pow_difficulty",),
    inputs=(inp("pow_difficulty", "hex:32", "the network's difficulty"), inp("num_units", "uint", "space units")),
    outputs=(out("scaled", "hex:32", "the scaled difficulty"),),
    raises=(raises("InvalidValue", "out_of_range", "zero space units"),)))
def pow_difficulty(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: pow_difficulty (hex 32), num_units. output: scaled (hex 32)."""
    post = spec("post")
    return {"scaled": hexstr(post.scale_pow_difficulty(hexbytes(inputs["pow_difficulty"], 32), as_int(inputs["num_units"])))}


@handler("post", "proving", "cipher_keys", schema=Schema(
    page="post-proving-cipher_keys", summary="The AES keys of a nonce group and of one nonce.",
    spec=("post.md#group_cipher_key-nonce_cipher_key",),
    inputs=(inp("challenge", "hex:32", "the challenge"), inp("nonce_group", "uint", "the nonce group"),
            inp("pow", "uint:64", "the group's k2pow"), inp("nonce", "uint", "the nonce")),
    outputs=(out("group_key", "hex:16", "the group's key"), out("nonce_key", "hex:16", "the nonce's key"))))
def cipher_keys(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: challenge, nonce_group, pow, nonce. output: group_key, nonce_key (hex 16)."""
    post = spec("post")
    challenge = hexbytes(inputs["challenge"], 32)
    group, pow, nonce = as_int(inputs["nonce_group"]), as_int(inputs["pow"]), as_int(inputs["nonce"])
    return {"group_key": hexstr(post.group_cipher_key(challenge, group, pow)),
            "nonce_key": hexstr(post.nonce_cipher_key(challenge, group, pow, nonce))}


@handler("post", "proving", "find_nonce", schema=Schema(
    page="post-proving-find_nonce", summary="The first nonce (in the spec's deterministic scan order) whose "
    "passing labels reach K2, and those labels' indices.",
    spec=("post.md#find_passing_nonce",),
    inputs=(inp("labels", "blob", "the labels, 16 bytes each"), inp("challenge", "hex:32", "the challenge"),
            inp("first_nonce", "uint", "first nonce (a multiple of 16)"), inp("nonce_count", "uint", "nonces (a multiple of 16)"),
            inp("pows", "list<uint:64>", "one k2pow per nonce group"), inp("k1", "uint", "K1"), inp("k2", "uint", "K2")),
    outputs=(out("nonce", "uint|null", "the nonce, or null"), out("indices", "list<uint>|null", "its first K2 passing indices")),
    raises=(raises("InvalidValue", "bad_nonce_range", "nonces not aligned to 16, or not one k2pow per group"),
            raises("InvalidValue", "invalid_num_labels", "no proving difficulty for these labels"))))
def find_nonce(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: labels (blob), challenge, first_nonce, nonce_count, pows, k1, k2. output: nonce, indices."""
    post = spec("post")
    labels = blob_bytes(inputs["labels"])
    difficulty = post.proving_difficulty(as_int(inputs["k1"]), len(labels) // post.LABEL_SIZE)
    found = post.find_passing_nonce(labels, hexbytes(inputs["challenge"], 32), as_int(inputs["first_nonce"]),
                                    as_int(inputs["nonce_count"]), [as_int(p) for p in inputs["pows"]],
                                    difficulty, as_int(inputs["k2"]))
    if found is None:
        return {"nonce": None, "indices": None}
    return {"nonce": found[0], "indices": found[1]}


def write_data_dir(post, datadir: str, labels: bytes, node_id: bytes, commitment_atx_id: bytes, num_units: int) -> None:
    """Lay labels out as a data directory with the preset's labels per unit and file size."""
    metadata = post.PostMetadata(node_id, commitment_atx_id, post.LABELS_PER_UNIT, num_units, post.MAX_FILE_SIZE)
    if len(labels) != post.LABEL_SIZE * post.total_labels(metadata):
        raise ValueError("the labels blob does not hold num_units * LABELS_PER_UNIT labels")
    for file_index in range(post.num_files(metadata)):
        first, end = post.file_label_range(metadata, file_index)
        with open(os.path.join(datadir, post.data_file_name(file_index)), "wb") as file:
            file.write(labels[post.LABEL_SIZE * first:post.LABEL_SIZE * end])
    with open(os.path.join(datadir, post.METADATA_FILE_NAME), "w", encoding="utf-8") as file:
        file.write(post.metadata_to_json(metadata))


@handler("post", "proving", "prove", schema=Schema(
    page="post-proving-prove", summary="A PoST proof over labels laid out as a data directory (the spec's "
    "proof: the smallest k2pow, single-threaded scan order; one of many valid proofs).",
    spec=("post.md#generate_proof",),
    inputs=(inp("labels", "blob", "num_units × labels per unit labels"), inp("node_id", "hex:32", "the identity"),
            inp("commitment_atx_id", "hex:32", "the commitment ATX"), inp("num_units", "uint:32", "space units"),
            inp("challenge", "hex:32", "the challenge"), inp("nonces", "uint", "nonces per pass")),
    outputs=(out("nonce", "uint:32", "the proof's nonce"), out("indices", "hex", "the packed indices"),
             out("pow", "uint:64", "the k2pow")), notes=(PRESET,)))
def prove(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: labels (blob), node_id, commitment_atx_id, num_units, challenge, nonces. output: nonce, indices, pow."""
    post = spec("post")
    with tempfile.TemporaryDirectory() as datadir:
        write_data_dir(post, datadir, blob_bytes(inputs["labels"]), hexbytes(inputs["node_id"], 32),
                       hexbytes(inputs["commitment_atx_id"], 32), as_int(inputs["num_units"]))
        proof = post.generate_proof(datadir, hexbytes(inputs["challenge"], 32), as_int(inputs["nonces"]))
    return {"nonce": proof.nonce, "indices": hexstr(proof.indices), "pow": proof.pow}


@handler("post", "compression", "pack", schema=Schema(
    page="post-compression-pack", summary="Pack indices into `bits`-bit little-endian fields.",
    spec=("post.md#compress_indices",),
    inputs=(inp("indices", "list<uint>", "the indices"), inp("bits", "uint", "bits per index")),
    outputs=(out("packed", "hex", "the packed bytes"),),
    raises=(raises("InvalidValue", "out_of_range", "an index that is not a u64"),)))
def pack(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: indices (list), bits. output: packed (hex)."""
    post = spec("post")
    return {"packed": hexstr(post.compress_indices([as_int(i) for i in inputs["indices"]], as_int(inputs["bits"])))}


@handler("post", "compression", "unpack", schema=Schema(
    page="post-compression-unpack", summary="Unpack every whole `bits`-bit field.",
    spec=("post.md#decompress_indices",),
    inputs=(inp("packed", "hex", "packed bytes"), inp("bits", "uint", "bits per index")),
    outputs=(out("indices", "list<uint>", "every whole field"),)))
def unpack(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: packed (hex), bits. output: indices (every whole chunk)."""
    return {"indices": spec("post").decompress_indices(hexbytes(inputs["packed"]), as_int(inputs["bits"]))}


@handler("post", "compression", "required_bits", schema=Schema(
    page="post-compression-required_bits", summary="Bits needed to write indices below `value`.",
    spec=("post.md#required_bits",),
    inputs=(inp("value", "uint", "the number of labels"),),
    outputs=(out("bits", "uint", "bits per index"),)))
def required_bits(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: value. output: bits."""
    return {"bits": spec("post").required_bits(as_int(inputs["value"]))}


@handler("post", "shuffle", "prefix", schema=Schema(
    page="post-shuffle-prefix", summary="The first `count` items of the BLAKE3-seeded shuffle of [0, size).",
    spec=("post.md#shuffled_prefix",),
    inputs=(inp("seed", "hex", "the seed"), inp("size", "uint", "items"), inp("count", "uint", "items taken")),
    outputs=(out("chosen", "list<uint>", "the chosen items in order"),),
    raises=(raises("InvalidValue", "out_of_range", "a size the u16 draws cannot shuffle"),)))
def shuffle_prefix(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: seed (hex), size, count. output: chosen (first count items of the shuffle of 0..size-1)."""
    post = spec("post")
    return {"chosen": post.shuffled_prefix(list(range(as_int(inputs["size"]))), hexbytes(inputs["seed"]), as_int(inputs["count"]))}


@handler("post", "k2pow", "hash", schema=Schema(
    page="post-k2pow-hash", summary="The RandomX (light mode, key `spacemesh-randomx-cache-key`) hash of a k2pow input.",
    spec=("post.md#k2pow_hash", "post.md#k2pow_input"),
    inputs=(inp("pow", "uint:64", "the k2pow"), inp("nonce_group", "uint", "the nonce group"),
            inp("challenge", "hex:32", "the challenge"), inp("miner_id", "hex:32", "the identity")),
    outputs=(out("hash", "hex:32", "the hash"),)))
def k2pow_hash(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: pow, nonce_group, challenge (hex 32), miner_id (hex 32). output: hash (hex 32)."""
    post = spec("post")
    digest = post.k2pow_hash(randomx_vm(post), as_int(inputs["pow"]), as_int(inputs["nonce_group"]),
                             hexbytes(inputs["challenge"], 32), hexbytes(inputs["miner_id"], 32))
    return {"hash": hexstr(digest)}


@handler("post", "k2pow", "verify", schema=Schema(
    page="post-k2pow-verify", summary="Whether a k2pow is below the difficulty.",
    spec=("post.md#verify_k2pow",),
    inputs=(inp("pow", "uint:64", "the k2pow"), inp("nonce_group", "uint", "the nonce group"),
            inp("challenge", "hex:32", "the challenge"), inp("difficulty", "hex:32", "the difficulty"),
            inp("miner_id", "hex:32", "the identity")),
    outputs=(out("valid", "bool", "the verdict"),)))
def k2pow_verify(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: pow, nonce_group, challenge, difficulty (hex 32), miner_id. output: valid (bool)."""
    post = spec("post")
    valid = post.verify_k2pow(as_int(inputs["pow"]), as_int(inputs["nonce_group"]), hexbytes(inputs["challenge"], 32),
                              hexbytes(inputs["difficulty"], 32), hexbytes(inputs["miner_id"], 32), randomx_vm(post))
    return {"valid": valid}


def config_from(post, overrides: dict[str, Any]) -> Any:
    """The preset's PostConfig with the case's overrides (pow_difficulty as hex, the rest ints)."""
    changes: dict[str, Any] = {}
    for name, value in overrides.items():
        changes[name] = hexbytes(value, 32) if name == "pow_difficulty" else as_int(value)
    return attrs.evolve(post.preset_config(), **changes)


@handler("post", "verify", "proof", schema=Schema(
    page="post-verify-proof", summary="post-rs proof verification: `{\"valid\": true}` or InvalidProof with the "
    "reason of the first failed rule (post.md#verify_proof lists the order).",
    spec=("post.md#verify_proof",),
    inputs=(inp("proof", "{Proof}", "the proof"), inp("challenge", "hex:32", "the challenge"),
            inp("node_id", "hex:32", "the identity"), inp("commitment_atx_id", "hex:32", "the commitment ATX"),
            inp("num_units", "uint:32", "space units"),
            inp("k3", "uint|null", "indices checked; null: the preset's K3"),
            inp("seed", "hex", "the verifier's seed choosing which indices to check", default="0x"),
            inp("only_position", "uint|null", "check only this position of the proof; null: K3 positions", default=None),
            inp("strict", "bool", "also reject indices >= num_labels and repeated indices (the live verifier does not)",
                default=False),
            inp("config", "{PostConfig}", "overrides of the preset's PostConfig", default={})),
    outputs=(out("valid", "bool", "always true (a rejection is an error)"),),
    raises=(raises("InvalidProof", ("num_units_too_small", "num_units_too_large", "nonce_group_out_of_bounds",
                                    "k2pow_invalid", "invalid_indices_len", "index_out_of_range", "duplicate_index",
                                    "invalid_num_labels", "invalid_msb", "invalid_lsb"),
                   "the first rule the proof breaks, in this order"),),
    records=(Record("Proof", "A PoST proof.", (inp("nonce", "uint:32", "the nonce"),
                                               inp("indices", "hex", "the packed indices"),
                                               inp("pow", "uint:64", "the k2pow"))), CONFIG),
    notes=(PRESET,)))
def verify_proof(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: proof {nonce, indices, pow}, challenge, node_id, commitment_atx_id, num_units,
    optional k3, seed, only_position, strict, config. output: valid (true) or InvalidProof(reason)."""
    post = spec("post")
    proof = post.Proof(as_int(inputs["proof"]["nonce"]), hexbytes(inputs["proof"]["indices"]), as_int(inputs["proof"]["pow"]))
    only = inputs.get("only_position")
    post.verify_proof(
        proof, hexbytes(inputs["challenge"], 32), hexbytes(inputs["node_id"], 32),
        hexbytes(inputs["commitment_atx_id"], 32), as_int(inputs["num_units"]),
        config=config_from(post, inputs.get("config", {})),
        k3=None if inputs.get("k3") is None else as_int(inputs["k3"]),
        seed=hexbytes(inputs.get("seed", "0x")),
        only_position=None if only is None else as_int(only),
        strict=bool(inputs.get("strict", False)),
        vm=randomx_vm(post),
    )
    return {"valid": True}


def metadata_fields(post, metadata) -> dict[str, Any]:
    return {
        "node_id": hexstr(metadata.node_id),
        "commitment_atx_id": hexstr(metadata.commitment_atx_id),
        "labels_per_unit": metadata.labels_per_unit,
        "num_units": metadata.num_units,
        "max_file_size": metadata.max_file_size,
        "nonce": metadata.nonce,
        "last_position": metadata.last_position,
        "nonce_value": None if metadata.nonce_value is None else hexstr(metadata.nonce_value),
    }


@handler("post", "metadata", "parse", schema=Schema(
    page="post-metadata-parse", summary="Parse postdata_metadata.json as post-rs reads it.",
    spec=("post.md#metadata_from_json",),
    inputs=(inp("json", "text", "the file's text"),),
    outputs=(*(out(f.name, f.type, f.doc) for f in METADATA_FIELDS),
             out("nonce", "uint|null", "the VRF nonce, or null"), out("last_position", "uint|null", "or null"),
             out("nonce_value", "hex|null", "the nonce's label output, or null")),
    raises=(raises("InvalidPostData", "bad_metadata", "not JSON, not an object, or a field of the wrong form"),)))
def metadata_parse(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: json (text). output: node_id, commitment_atx_id, labels_per_unit, num_units,
    max_file_size, nonce, last_position, nonce_value."""
    post = spec("post")
    return metadata_fields(post, post.metadata_from_json(inputs["json"]))


@handler("post", "metadata", "write", schema=Schema(
    page="post-metadata-write", summary="The postdata_metadata.json text post-rs writes.",
    spec=("post.md#metadata_to_json",),
    inputs=(*METADATA_FIELDS, inp("nonce", "uint|null", "the VRF nonce, or null", default=None),
            inp("last_position", "uint|null", "or null", default=None),
            inp("nonce_value", "hex", "the VRF nonce's label value (go-post's `NonceValue`), written as hex after the "
                "other fields; absent: not written", optional=True)),
    outputs=(out("json", "text", "the file's text"),)))
def metadata_write(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: node_id, commitment_atx_id, labels_per_unit, num_units, max_file_size, nonce,
    last_position. output: json (the text post-rs writes)."""
    post = spec("post")
    metadata = post.PostMetadata(
        hexbytes(inputs["node_id"], 32), hexbytes(inputs["commitment_atx_id"], 32), as_int(inputs["labels_per_unit"]),
        as_int(inputs["num_units"]), as_int(inputs["max_file_size"]),
        None if inputs.get("nonce") is None else as_int(inputs["nonce"]),
        None if inputs.get("last_position") is None else as_int(inputs["last_position"]),
        hexbytes(inputs["nonce_value"]) if "nonce_value" in inputs else None,
    )
    return {"json": post.metadata_to_json(metadata)}


@handler("post", "init", "data_dir", schema=Schema(
    page="post-init-data_dir", summary="Initialize a PoST data directory.",
    spec=("post.md#initialize",),
    inputs=(inp("node_id", "hex:32", "the identity"), inp("commitment_atx_id", "hex:32", "the commitment ATX"),
            inp("num_units", "uint:32", "space units"), inp("labels_per_unit", "uint:64", "labels per unit"),
            inp("max_file_size", "uint:64", "the largest data file, bytes"), inp("scrypt_n", "uint", "scrypt N")),
    outputs=(out("files", "map<hex>", "data file name → its bytes"), out("metadata", "text", "the metadata JSON text")),
    raises=(raises("InvalidPostData", "bad_metadata", "a largest file size that is not a positive multiple of 16 "
                   "bytes (post.md#labels_per_file)"),)))
def init_data_dir(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """inputs: node_id, commitment_atx_id, num_units, labels_per_unit, max_file_size, scrypt_n.
    output: files (name -> hex content), metadata (JSON text)."""
    post = spec("post")
    with tempfile.TemporaryDirectory() as datadir:
        post.initialize(datadir, hexbytes(inputs["node_id"], 32), hexbytes(inputs["commitment_atx_id"], 32),
                        as_int(inputs["num_units"]), as_int(inputs["labels_per_unit"]),
                        as_int(inputs["max_file_size"]), as_int(inputs["scrypt_n"]))
        files = {}
        for name in sorted(os.listdir(datadir)):
            if name.endswith(".bin"):
                with open(os.path.join(datadir, name), "rb") as file:
                    files[name] = hexstr(file.read())
        with open(os.path.join(datadir, post.METADATA_FILE_NAME), encoding="utf-8") as file:
            metadata = file.read()
    return {"files": files, "metadata": metadata}


@handler("post", "wire", "proof_json", schema=Schema(
    page="post-wire-proof_json", summary="A PoST proof in post-rs's JSON form (what `smspec post prove` writes and "
    "go-spacemesh's post service returns): parsed, and written back.",
    spec=("post.md#proof_to_json-proof_from_json", "post.md#proof"),
    inputs=(inp("json", "text", "the proof's JSON text: {nonce: u32, indices: base64, pow: u64}"),),
    outputs=(out("proof", "{Proof}", "the proof"), out("json", "text", "post-rs's JSON of it (canonical spacing)")),
    raises=(raises("InvalidEncoding", "malformed_proof", "not JSON, other keys, a number out of range, or indices "
                   "that are not base64"),),
    records=(Record("Proof", "A PoST proof.", (inp("nonce", "uint:32", "the nonce"),
                                               inp("indices", "hex", "the packed indices"),
                                               inp("pow", "uint:64", "the k2pow"))),)))
def proof_json(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Parse and rewrite a PoST proof's JSON."""
    post = spec("post")
    proof = post.proof_from_json(inputs["json"])
    return {"proof": {"nonce": proof.nonce, "indices": hexstr(proof.indices), "pow": proof.pow},
            "json": post.proof_to_json(proof)}


@handler("post", "vrf_nonce", "search_beyond", schema=Schema(
    page="post-vrf_nonce-search_beyond", summary="The first label index at or past the data set's end whose output "
    "is below the VRF difficulty (how a node finds a nonce when its data has none).",
    spec=("post.md#search_vrf_nonce_beyond",),
    inputs=(inp("commitment", "hex:32", "the commitment"), inp("num_labels", "uint", "the data set's labels"),
            inp("scrypt_n", "uint", "scrypt N")),
    outputs=(out("nonce", "uint", "the index found"), out("value", "hex:32", "its label output"))))
def vrf_search_beyond(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """search_vrf_nonce_beyond."""
    index, output = spec("post").search_vrf_nonce_beyond(hexbytes(inputs["commitment"], 32), as_int(inputs["num_labels"]),
                                                         as_int(inputs["scrypt_n"]))
    return {"nonce": index, "value": hexstr(output)}


@handler("post", "k2pow", "randomx", schema=Schema(
    page="post-k2pow-randomx", summary="One RandomX hash in light mode (a VM built for the key and freed).",
    spec=("randomx.md#randomx_hash",),
    inputs=(inp("key", "hex", "the cache key"), inp("input", "hex", "the data hashed")),
    outputs=(out("hash", "hex:32", "the RandomX hash"),)))
def randomx_hash(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """randomx_hash."""
    return {"hash": hexstr(spec("randomx").randomx_hash(hexbytes(inputs["key"]), hexbytes(inputs["input"])))}
