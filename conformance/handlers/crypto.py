"""Handlers of the ``crypto/*`` vectors: hashing, Merkle trees, signatures and the VRF
(spec/crypto.md).

All byte strings are ``0x`` hex. Verification handlers answer ``{"valid": true|false}``: a bad
signature, a signature over another domain or genesis ID, or a malformed or wrong VRF proof is
``false``, never an error (go-spacemesh's verifiers return ``false``). Errors are only raised
for inputs of the wrong *size* (``InvalidValue``, reason ``bad_length``), for malformed Merkle
index lists (``InvalidValue``), and by ``vrf/proof_to_hash`` for proofs that do not decode
(``InvalidSignature``, reason ``malformed_proof``).
"""

from __future__ import annotations

from typing import Any

from smspec.conformance.handlers import handler, hexbytes, hexstr
from smspec.conformance.schema import Schema, inp, out, raises
from smspec.spec.errors import InvalidValue


def _domain(crypto: Any, value: Any) -> Any:
    try:
        return crypto.Domain(value)
    except ValueError:
        raise InvalidValue("unknown_domain", f"{value!r} is not a signing domain") from None


def _node_hash(crypto: Any, inputs: dict[str, Any]) -> Any:
    name = inputs.get("node_hash", "blake3")
    if name == "blake3":
        return crypto.merkle_node_hash
    if name == "sha256":
        return crypto.sha256_node_hash
    raise ValueError(f"unknown node_hash {name!r}")


@handler("crypto", "hash", "hash32", schema=Schema(
    page="crypto-hash-hash32", summary="BLAKE3-256 of the concatenation of byte strings.",
    spec=("crypto.md#hash32",),
    inputs=(inp("chunks", "list<hex>", "byte strings, hashed as one concatenation"),),
    outputs=(out("hash", "hex:32", "the digest"),)))
def hash32(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """BLAKE3-256 of the concatenation of chunks (crypto.md#hash32).

    inputs: ``chunks``: list of hex byte strings (hashed as one concatenated string).
    output: ``hash``: hex, 32 bytes.
    """
    crypto = spec("crypto")
    return {"hash": hexstr(crypto.hash32(*[hexbytes(c) for c in inputs["chunks"]]))}


@handler("crypto", "hash", "xof", schema=Schema(
    page="crypto-hash-xof", summary="BLAKE3 extendable output of `length` bytes.",
    spec=("crypto.md#blake3_xof",),
    inputs=(inp("data", "hex", "the input"), inp("length", "int", "output bytes (negative: an error)")),
    outputs=(out("output", "hex", "`length` bytes"),),
    raises=(raises("InvalidValue", "bad_length", "a negative length"),)))
def xof(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """BLAKE3 extendable output (crypto.md#blake3_xof).

    inputs: ``data``: hex; ``length``: number of output bytes.
    output: ``output``: hex, ``length`` bytes.
    """
    crypto = spec("crypto")
    return {"output": hexstr(crypto.blake3_xof(hexbytes(inputs["data"]), inputs["length"]))}


@handler("crypto", "hash", "genesis_id", schema=Schema(
    page="crypto-hash-genesis_id", summary="The golden ATX and the genesis ID of a network.",
    spec=("crypto.md#golden_atx", "crypto.md#genesis_id"),
    inputs=(inp("genesis_time", "int", "the genesis time, Unix seconds"),
            inp("extra_data", "text", "the genesis extra-data string")),
    outputs=(out("golden_atx", "hex:32", "the golden ATX"), out("genesis_id", "hex:20", "the genesis ID"))))
def genesis(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Golden ATX and genesis ID (crypto.md#golden_atx, #genesis_id).

    inputs: ``genesis_time``: Unix seconds (int); ``extra_data``: the genesis extra-data string.
    output: ``golden_atx``: hex, 32 bytes; ``genesis_id``: hex, 20 bytes.
    """
    crypto = spec("crypto")
    time, extra = int(inputs["genesis_time"]), inputs["extra_data"]
    return {
        "golden_atx": hexstr(crypto.golden_atx(time, extra)),
        "genesis_id": hexstr(crypto.genesis_id(time, extra)),
    }


@handler("crypto", "merkle", "root", schema=Schema(
    page="crypto-merkle-root", summary="The root of a Merkle tree as spacemeshos/merkle-tree v0.2.4 builds it.",
    spec=("crypto.md#merkle_root",),
    inputs=(inp("leaves", "list<hex>", "the leaves, any length each, possibly none"), inp("node_hash", "enum:blake3,sha256", "`blake3`: go-spacemesh's blake3(0x01 ‖ l ‖ r); `sha256`: the merkle-tree library default sha256(l ‖ r)", default="blake3")),
    outputs=(out("root", "hex", "the root (`0x` for zero leaves)"),)))
def merkle_root(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Merkle root as spacemeshos/merkle-tree v0.2.4 (crypto.md#merkle_root).

    inputs: ``leaves``: list of hex (any length, may be empty); ``node_hash``: ``"blake3"``
    (go-spacemesh: blake3(0x01 ‖ l ‖ r), the default) or ``"sha256"`` (the library default,
    sha256(l ‖ r)).
    output: ``root``: hex (``0x`` for zero leaves).
    """
    crypto = spec("crypto")
    leaves = [hexbytes(leaf) for leaf in inputs["leaves"]]
    return {"root": hexstr(crypto.merkle_root(leaves, _node_hash(crypto, inputs)))}


@handler("crypto", "merkle", "proof", schema=Schema(
    page="crypto-merkle-proof", summary="Root and membership proof of several leaves.",
    spec=("crypto.md#merkle_root_and_proof",),
    inputs=(inp("leaves", "list<hex>", "the leaves"), inp("indices", "list<uint>", "the leaf indices to prove"),
            inp("node_hash", "enum:blake3,sha256", "`blake3`: go-spacemesh's blake3(0x01 ‖ l ‖ r); `sha256`: the merkle-tree library default sha256(l ‖ r)", default="blake3")),
    outputs=(out("root", "hex", "the root"), out("proof", "list<hex>", "the proof nodes in merkle-tree's order"))))
def merkle_proof(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Root and membership proof of several leaves (crypto.md#merkle_root_and_proof).

    inputs: ``leaves``: list of hex; ``indices``: the leaf indices to prove (ints);
    ``node_hash`` as for ``merkle/root``.
    output: ``root``: hex; ``proof``: list of hex proof nodes in merkle-tree's order.
    """
    crypto = spec("crypto")
    leaves = [hexbytes(leaf) for leaf in inputs["leaves"]]
    root, proof = crypto.merkle_root_and_proof(leaves, list(inputs["indices"]), _node_hash(crypto, inputs))
    return {"root": hexstr(root), "proof": [hexstr(node) for node in proof]}


@handler("crypto", "merkle", "validate", schema=Schema(
    page="crypto-merkle-validate", summary="merkle-tree's ValidatePartialTree.",
    spec=("crypto.md#validate_partial_tree",),
    inputs=(inp("indices", "list<uint>", "proven leaf indices (sorted, unique)"),
            inp("leaves", "list<hex>", "their values"), inp("proof", "list<hex>", "the proof nodes"),
            inp("root", "hex", "the claimed root"), inp("node_hash", "enum:blake3,sha256", "`blake3`: go-spacemesh's blake3(0x01 ‖ l ‖ r); `sha256`: the merkle-tree library default sha256(l ‖ r)", default="blake3")),
    outputs=(out("valid", "bool", "whether the proof leads to the root"),),
    raises=(raises("InvalidValue", ("leaf_count_mismatch", "no_leaves", "indices_not_sorted", "duplicate_indices"),
                   "inputs merkle-tree rejects with an error rather than false, checked in this order"),)))
def merkle_validate(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """merkle-tree ValidatePartialTree (crypto.md#validate_partial_tree).

    inputs: ``indices``: proven leaf indices (ints, sorted, unique); ``leaves``: their values
    (hex); ``proof``: list of hex; ``root``: hex; ``node_hash`` as for ``merkle/root``.
    output: ``valid``: bool. Errors: ``InvalidValue`` (``leaf_count_mismatch``, ``no_leaves``,
    ``indices_not_sorted``, ``duplicate_indices``).
    """
    crypto = spec("crypto")
    valid = crypto.validate_partial_tree(
        list(inputs["indices"]),
        [hexbytes(leaf) for leaf in inputs["leaves"]],
        [hexbytes(node) for node in inputs["proof"]],
        hexbytes(inputs["root"]),
        _node_hash(crypto, inputs),
    )
    return {"valid": valid}


@handler("crypto", "merkle", "validate_snapshots", schema=Schema(
    page="crypto-merkle-validate_snapshots", summary="merkle-tree's ValidatePartialTreeWithParkingSnapshots.",
    spec=("crypto.md#validate_partial_tree_with_parking_snapshots",),
    inputs=(inp("indices", "list<uint>", "proven leaf indices (sorted, unique)"),
            inp("leaves", "list<hex>", "their values"), inp("proof", "list<hex>", "the proof nodes"),
            inp("root", "hex", "the claimed root"), inp("node_hash", "enum:blake3,sha256", "`blake3`: go-spacemesh's blake3(0x01 ‖ l ‖ r); `sha256`: the merkle-tree library default sha256(l ‖ r)", default="blake3")),
    outputs=(out("valid", "bool", "whether the proof leads to the root"),
             out("snapshots", "list<list<hex|null>>", "per proven leaf (index order), the nodes parked at each layer "
                 "when it was added, leaf layer first; `null` for an empty slot")),
    raises=(raises("InvalidValue", ("leaf_count_mismatch", "no_leaves", "indices_not_sorted", "duplicate_indices"),
                   "inputs merkle-tree rejects with an error rather than false, checked in this order"),)))
def merkle_validate_snapshots(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """merkle-tree ValidatePartialTreeWithParkingSnapshots
    (crypto.md#validate_partial_tree_with_parking_snapshots).

    inputs: as for ``merkle/validate``.
    output: ``valid``: bool; ``snapshots``: one list per proven leaf (in index order) of the
    nodes parked at each layer when that leaf was added, from the leaf layer up, each hex or
    ``null`` for an empty slot. Errors: as for ``merkle/validate``.
    """
    crypto = spec("crypto")
    valid, snapshots = crypto.validate_partial_tree_with_parking_snapshots(
        list(inputs["indices"]),
        [hexbytes(leaf) for leaf in inputs["leaves"]],
        [hexbytes(node) for node in inputs["proof"]],
        hexbytes(inputs["root"]),
        _node_hash(crypto, inputs),
    )
    return {
        "valid": valid,
        "snapshots": [[None if node is None else hexstr(node) for node in snapshot] for snapshot in snapshots],
    }


@handler("crypto", "signature", "ed25519_sign", schema=Schema(
    page="crypto-signature-ed25519_sign", summary="Plain RFC 8032 Ed25519 signing.",
    spec=("crypto.md#public_key", "crypto.md#ed25519_sign"),
    inputs=(inp("seed", "hex", "the 32-byte private seed"), inp("message", "hex", "the message")),
    outputs=(out("public_key", "hex:32", "the public key"), out("signature", "hex:64", "the signature")),
    raises=(raises("InvalidValue", "bad_length", "an input of the wrong size (Go uses fixed-size arrays there)"),)))
def ed25519_sign(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Plain RFC 8032 Ed25519 (crypto.md#public_key, #ed25519_sign).

    inputs: ``seed``: hex, 32 bytes; ``message``: hex.
    output: ``public_key``: hex, 32 bytes; ``signature``: hex, 64 bytes.
    """
    crypto = spec("crypto")
    seed, message = hexbytes(inputs["seed"]), hexbytes(inputs["message"])
    return {
        "public_key": hexstr(crypto.public_key(seed)),
        "signature": hexstr(crypto.ed25519_sign(seed, message)),
    }


@handler("crypto", "signature", "ed25519_verify", schema=Schema(
    page="crypto-signature-ed25519_verify",
    summary="Plain Ed25519 verification with curve25519-voi's default rules: canonical A not of small order, "
            "S < L, canonical R (small order allowed), the cofactored equation. A bad signature is `false`, "
            "never an error.",
    spec=("crypto.md#ed25519_verify",),
    inputs=(inp("public_key", "hex", "32 bytes"), inp("message", "hex", "the message"),
            inp("signature", "hex", "64 bytes")),
    outputs=(out("valid", "bool", "the verdict"),),
    raises=(raises("InvalidValue", "bad_length", "an input of the wrong size (Go uses fixed-size arrays there)"),)))
def ed25519_verify(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Plain Ed25519 verification with curve25519-voi's default rules (crypto.md#ed25519_verify):
    canonical A not of small order, S < L, canonical R (small order allowed), cofactored equation.

    inputs: ``public_key``: hex (32); ``message``: hex; ``signature``: hex (64).
    output: ``valid``: bool. Errors: ``InvalidValue`` ``bad_length``.
    """
    crypto = spec("crypto")
    valid = crypto.ed25519_verify(
        hexbytes(inputs["public_key"]), hexbytes(inputs["message"]), hexbytes(inputs["signature"])
    )
    return {"valid": valid}


@handler("crypto", "signature", "sign", schema=Schema(
    page="crypto-signature-sign",
    summary="go-spacemesh's EdSigner.Sign: Ed25519 over genesis ID ‖ domain byte ‖ message.",
    spec=("crypto.md#sign", "crypto.md#domain"),
    inputs=(inp("seed", "hex", "the 32-byte private seed"),
            inp("domain", "int", "the signing domain: ATX 0, PROPOSAL 1, BALLOT 2, HARE 3, POET 4, MARRIAGE 5, "
                "BEACON_FIRST_MSG 10, BEACON_FOLLOWUP_MSG 11"),
            inp("genesis_id", "hex", "20 bytes on a network; empty in go-spacemesh's unit tests"),
            inp("message", "hex", "the message")),
    outputs=(out("public_key", "hex:32", "the public key"), out("signature", "hex:64", "the signature")),
    raises=(raises("InvalidValue", "bad_length", "an input of the wrong size (Go uses fixed-size arrays there)"), raises("InvalidValue", "unknown_domain", "a domain number not in the table"))))
def sign(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """go-spacemesh EdSigner.Sign (crypto.md#sign): Ed25519 over genesis ‖ domain ‖ message.

    inputs: ``seed``: hex (32); ``domain``: int (crypto.md#Domain: ATX 0, PROPOSAL 1, BALLOT 2,
    HARE 3, POET 4, MARRIAGE 5, BEACON_FIRST_MSG 10, BEACON_FOLLOWUP_MSG 11); ``genesis_id``:
    hex (20 bytes on a network, empty in go-spacemesh unit tests); ``message``: hex.
    output: ``public_key``: hex (32); ``signature``: hex (64).
    """
    crypto = spec("crypto")
    seed = hexbytes(inputs["seed"])
    signature = crypto.sign(
        seed, _domain(crypto, inputs["domain"]), hexbytes(inputs["genesis_id"]), hexbytes(inputs["message"])
    )
    return {"public_key": hexstr(crypto.public_key(seed)), "signature": hexstr(signature)}


@handler("crypto", "signature", "verify", schema=Schema(
    page="crypto-signature-verify",
    summary="go-spacemesh's EdVerifier.Verify. A signature over another domain or genesis ID is `false`.",
    spec=("crypto.md#verify_signature",),
    inputs=(inp("public_key", "hex", "32 bytes"), inp("domain", "int", "the signing domain (see crypto-signature-sign)"),
            inp("genesis_id", "hex", "the genesis ID"), inp("message", "hex", "the message"),
            inp("signature", "hex", "64 bytes")),
    outputs=(out("valid", "bool", "the verdict"),),
    raises=(raises("InvalidValue", "bad_length", "an input of the wrong size (Go uses fixed-size arrays there)"), raises("InvalidValue", "unknown_domain", "a domain number not in the table"))))
def verify(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """go-spacemesh EdVerifier.Verify (crypto.md#verify_signature).

    inputs: ``public_key``: hex (32); ``domain``: int; ``genesis_id``: hex; ``message``: hex;
    ``signature``: hex (64).
    output: ``valid``: bool. Errors: ``InvalidValue`` ``bad_length``, and ``unknown_domain``
    for a domain number not in the table.
    """
    crypto = spec("crypto")
    valid = crypto.verify_signature(
        hexbytes(inputs["public_key"]),
        _domain(crypto, inputs["domain"]),
        hexbytes(inputs["genesis_id"]),
        hexbytes(inputs["message"]),
        hexbytes(inputs["signature"]),
    )
    return {"valid": valid}


@handler("crypto", "vrf", "prove", schema=Schema(
    page="crypto-vrf-prove", summary="ECVRF-EDWARDS25519-SHA512-ELL2 proving (RFC 9381) as curve25519-voi does it.",
    spec=("crypto.md#vrf_prove",),
    inputs=(inp("seed", "hex", "the 32-byte Ed25519 identity seed"), inp("alpha", "hex", "the VRF input")),
    outputs=(out("public_key", "hex:32", "the public key"), out("proof", "hex:80", "Gamma ‖ c ‖ s"),
             out("beta", "hex:64", "the VRF output")),
    raises=(raises("InvalidValue", "bad_length", "an input of the wrong size (Go uses fixed-size arrays there)"),)))
def vrf_prove(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """ECVRF-EDWARDS25519-SHA512-ELL2 prove (crypto.md#vrf_prove).

    inputs: ``seed``: hex (32, the Ed25519 identity seed); ``alpha``: hex.
    output: ``public_key``: hex (32); ``proof``: hex (80) = Gamma ‖ c ‖ s; ``beta``: hex (64).
    """
    crypto = spec("crypto")
    seed = hexbytes(inputs["seed"])
    proof = crypto.vrf_prove(seed, hexbytes(inputs["alpha"]))
    return {
        "public_key": hexstr(crypto.public_key(seed)),
        "proof": hexstr(proof),
        "beta": hexstr(crypto.vrf_proof_to_hash(proof)),
    }


@handler("crypto", "vrf", "verify", schema=Schema(
    page="crypto-vrf-verify",
    summary="ECVRF verification as go-spacemesh's VRFVerify: malformed proofs and keys of small order or "
            "off the curve are `false`.",
    spec=("crypto.md#vrf_verify",),
    inputs=(inp("public_key", "hex", "32 bytes"), inp("proof", "hex", "80 bytes"), inp("alpha", "hex", "the VRF input")),
    outputs=(out("valid", "bool", "the verdict"),),
    raises=(raises("InvalidValue", "bad_length", "an input of the wrong size (Go uses fixed-size arrays there)"),)))
def vrf_verify(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """ECVRF verify as curve25519-voi / go-spacemesh VRFVerify (crypto.md#vrf_verify).

    inputs: ``public_key``: hex (32); ``proof``: hex (80); ``alpha``: hex.
    output: ``valid``: bool (false for malformed proofs and keys of small order or not on the
    curve). Errors: ``InvalidValue`` ``bad_length``.
    """
    crypto = spec("crypto")
    valid = crypto.vrf_verify(
        hexbytes(inputs["public_key"]), hexbytes(inputs["proof"]), hexbytes(inputs["alpha"])
    )
    return {"valid": valid}


@handler("crypto", "vrf", "proof_to_hash", schema=Schema(
    page="crypto-vrf-proof_to_hash", summary="ECVRF proof-to-hash; the proof is not verified.",
    spec=("crypto.md#vrf_proof_to_hash",),
    inputs=(inp("proof", "hex", "80 bytes"),),
    outputs=(out("beta", "hex:64", "the VRF output"),),
    raises=(raises("InvalidValue", "bad_length", "an input of the wrong size (Go uses fixed-size arrays there)"), raises("InvalidSignature", "malformed_proof", "Gamma is not a canonical point, or s >= L"))))
def vrf_proof_to_hash(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """ECVRF proof-to-hash (crypto.md#vrf_proof_to_hash); does not verify the proof.

    inputs: ``proof``: hex (80).
    output: ``beta``: hex (64). Errors: ``InvalidSignature`` ``malformed_proof`` (Gamma not a
    canonical point, or s >= L); ``InvalidValue`` ``bad_length``.
    """
    crypto = spec("crypto")
    return {"beta": hexstr(crypto.vrf_proof_to_hash(hexbytes(inputs["proof"])))}


@handler("crypto", "vrf", "encode_to_curve", schema=Schema(
    page="crypto-vrf-encode_to_curve",
    summary='The ECVRF hash-to-curve step: RFC 9380 edwards25519_XMD:SHA-512_ELL2_NU_ with the DST '
            '"ECVRF_edwards25519_XMD:SHA-512_ELL2_NU_\\x04".',
    spec=("crypto.md#encode_to_curve",),
    inputs=(inp("public_key", "hex", "the salt (the public key)"), inp("alpha", "hex", "the VRF input")),
    outputs=(out("point", "hex:32", "the encoded point H"),)))
def vrf_encode_to_curve(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """The ECVRF hash-to-curve step (crypto.md#encode_to_curve): RFC 9380
    edwards25519_XMD:SHA-512_ELL2_NU_ with DST "ECVRF_edwards25519_XMD:SHA-512_ELL2_NU_\\x04".

    inputs: ``public_key``: hex (the salt); ``alpha``: hex.
    output: ``point``: hex (32), the encoded point H.
    """
    crypto = spec("crypto")
    point = crypto.encode_to_curve(hexbytes(inputs["public_key"]), hexbytes(inputs["alpha"]))
    return {"point": hexstr(crypto.encode_point(point))}
