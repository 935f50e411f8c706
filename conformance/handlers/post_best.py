"""Handlers of the ``post_best/*`` vectors: the best-labels PoST (spec/post_best.md).

Common JSON forms:

* an *identity set* is a list of ``{"node_id": hex32, "commitment_atx_id": hex32,
  "num_units": int}`` objects (``BestIdentity``), in set order;
* a *proof* is its SCALE encoding as ``0x`` hex (``BestProof``); ``proof_json`` is the same proof
  as ``{"kth_score": int, "groups": [{"identity": int, "index_steps": [int, ...]}, ...]}``;
* integers above 2^53 (scores, weights) are decimal strings.

Kinds:

* ``post_best/score/label_score``: inputs ``key`` (hex16), ``label`` (hex16) -> ``score``.
* ``post_best/score/score_key``: inputs ``identities``, ``challenge`` (hex32), ``identity``
  (position) -> ``set_root`` (hex32), ``commitment`` (hex32), ``key`` (hex16).
* ``post_best/estimator/weight``: inputs ``kth_score``, ``k``, ``identities``, ``tick_count`` ->
  ``estimate`` (uncapped labels), ``cap``, ``weight`` (labels), ``effective_num_units``,
  ``atx_weight``. Errors: ``InvalidValue`` ``k_too_small`` / ``k_too_large`` /
  ``score_out_of_range``.
* ``post_best/proof/encoding``: inputs either ``proof_json`` (encode) -> ``proof`` (hex), or
  ``proof`` (hex, decode) -> ``proof_json``; undecodable bytes give ``InvalidEncoding``.
* ``post_best/select/prove``: inputs ``identities``, ``challenge``, ``k``, ``chunks`` (a list of
  ``{"identity": int, "first_index": int, "data": hex or blob}``) -> ``proof``, ``proof_json``,
  ``weight``. Errors: ``InvalidValue`` ``bad_label_chunk`` / ``not_enough_labels`` / ...
* ``post_best/verify/spot_check_positions``: inputs ``seed``, ``challenge``, ``set_root`` (hex),
  ``k``, ``k3`` -> ``positions``.
* ``post_best/verify/verify``: inputs ``identities``, ``challenge``, ``k``, ``k3``, ``seed``,
  ``proof`` (hex) -> ``weight``; a rejected proof gives ``InvalidProof(reason)`` (reasons in
  spec/post_best.md), an undecodable one ``InvalidEncoding``. Labels are recomputed with the
  preset's scrypt ``N``.
* ``post_best/verify/entry``: inputs ``identities``, ``challenge``, ``k``, ``position``, ``proof``
  (hex) -> ``valid`` (bool): the malfeasance check of one entry. Errors as for ``verify``, and
  ``InvalidValue`` ``position_out_of_range``.
"""

from __future__ import annotations

from typing import Any

from smspec.conformance.handlers import as_int, blob_bytes, handler, hexbytes, hexstr
from smspec.conformance.jsonio import value_from_jsonable, value_to_jsonable
from smspec.conformance.schema import Record, Schema, inp, out, raises

IDENTITY = Record("BestIdentity", "One identity of the set (post_best.md#bestidentity).", (
    inp("node_id", "hex:32", "the identity"), inp("commitment_atx_id", "hex:32", "its commitment ATX"),
    inp("num_units", "uint:32", "its declared space units"),
))
PROOF_JSON = Record("BestProofJson", "A BestProof as JSON (post_best.md#bestproof).", (
    inp("kth_score", "uint", "the K-th lowest score (a u64)"),
    inp("groups", "list<{Group}>", "entries grouped by identity, identities increasing"),
))
GROUP = Record("Group", "The entries of one identity.", (
    inp("identity", "uint", "the identity's position in the set (a u8)"),
    inp("index_steps", "list<uint>", "label indices as steps (u64 each): the first index, then differences"),
))
CHUNK = Record("LabelChunk", "Consecutive labels of one identity.", (
    inp("identity", "uint", "the identity's position"), inp("first_index", "uint", "the first label's index"),
    inp("data", "hex|blob", "the labels, 16 bytes each"),
))
SET_ERR = raises("InvalidValue", "bad_identity_set", "an empty or oversized set, a repeated identity, or units below the minimum")
K_ERR = raises("InvalidValue", ("k_too_small", "k_too_large"), "K outside 2 .. 2^16")
STRUCTURE = raises("InvalidProof", ("identity_out_of_range", "identities_not_increasing", "empty_group", "duplicate_entry",
                                    "index_out_of_range", "wrong_entry_count", "score_above_kth",
                                    "kth_score_not_attained"),
                   "the first rule the proof breaks: structure in group order, then the checked entries' scores")
ENCODING = raises("InvalidEncoding", ("short_input", "trailing_bytes", "non_canonical_compact", "compact_overflow",
                                      "length_over_max"), "proof bytes that do not decode")


def identities_from(inputs: dict[str, Any], pb: Any) -> list[Any]:
    return value_from_jsonable(inputs["identities"], pb.Slice(pb.BestIdentity, pb.MAX_IDENTITIES), "identities")


def _data(value: Any) -> bytes:
    return blob_bytes(value) if isinstance(value, dict) else hexbytes(value)


@handler("post_best", "score", "label_score", schema=Schema(
    page="post_best-score-label_score", summary="The score of a label: the first 8 bytes, big-endian, of AES-128(key, label).",
    spec=("post_best.md#label_score",),
    inputs=(inp("key", "hex:16", "the identity's score key"), inp("label", "hex:16", "the label")),
    outputs=(out("score", "uint:64", "the score"),)))
def label_score(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: key (hex16), label (hex16). output: score (u64)."""
    pb = spec("post_best")
    return {"score": pb.label_score(hexbytes(inputs["key"], 16), hexbytes(inputs["label"], 16))}


@handler("post_best", "score", "score_key", schema=Schema(
    page="post_best-score-score_key", summary="The identity set's root, an identity's commitment and its score key.",
    spec=("post_best.md#score_key", "post_best.md#identity_set_root", "post_best.md#check_identity_set"),
    inputs=(inp("identities", "list<{BestIdentity}>", "the identity set, in set order"),
            inp("challenge", "hex:32", "the challenge"), inp("identity", "uint", "the identity's position")),
    outputs=(out("set_root", "hex:32", "the set root"), out("commitment", "hex:32", "the identity's commitment"),
             out("key", "hex:16", "the score key")),
    raises=(SET_ERR,), records=(IDENTITY,)))
def score_key(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: identities, challenge (hex32), identity (position). output: set_root, commitment, key."""
    pb = spec("post_best")
    identities = identities_from(inputs, pb)
    pb.check_identity_set(identities)
    identity = identities[inputs["identity"]]
    set_root = pb.identity_set_root(identities)
    commitment = pb.compute_commitment(identity.node_id, identity.commitment_atx_id)
    key = pb.score_key(hexbytes(inputs["challenge"], 32), set_root, commitment)
    return {"set_root": hexstr(set_root), "commitment": hexstr(commitment), "key": hexstr(key)}


@handler("post_best", "estimator", "weight", schema=Schema(
    page="post_best-estimator-weight", summary="The labels a K-th lowest score stands for, the cap, and the ATX weight.",
    spec=("post_best.md#estimate_labels", "post_best.md#weight_cap", "post_best.md#best_proof_weight",
          "post_best.md#effective_num_units-best_atx_weight"),
    inputs=(inp("kth_score", "uint", "the K-th lowest score (a u64; larger: an error)"), inp("k", "uint", "K"),
            inp("identities", "list<{BestIdentity}>", "the identity set"), inp("tick_count", "uint", "the ATX's ticks")),
    outputs=(out("estimate", "uint", "uncapped labels"), out("cap", "uint", "twice the declared labels"),
             out("weight", "uint", "min(estimate, cap), labels"), out("effective_num_units", "uint", "weight in units"),
             out("atx_weight", "uint", "the ATX weight")),
    raises=(K_ERR, raises("InvalidValue", "score_out_of_range", "a score of 2^64 or more")), records=(IDENTITY,)))
def weight(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: kth_score, k, identities, tick_count. output: estimate, cap, weight, effective_num_units, atx_weight."""
    pb = spec("post_best")
    identities = identities_from(inputs, pb)
    kth_score, k = as_int(inputs["kth_score"]), as_int(inputs["k"])
    estimate = pb.estimate_labels(kth_score, k)
    capped = pb.best_proof_weight(kth_score, k, identities)
    return {
        "estimate": estimate,
        "cap": pb.weight_cap(identities),
        "weight": capped,
        "effective_num_units": pb.effective_num_units(capped),
        "atx_weight": pb.best_atx_weight(capped, as_int(inputs["tick_count"])),
    }


@handler("post_best", "proof", "encoding", schema=Schema(
    page="post_best-proof-encoding", summary="BestProof SCALE encoding, both ways.",
    spec=("post_best.md#bestproof",),
    inputs=(inp("proof_json", "{BestProofJson}", "a proof to encode"), inp("proof", "hex", "bytes to decode")),
    one_of=(("proof_json", "proof"),),
    outputs=(out("proof", "hex", "the encoding (cases with proof_json)", optional=True),
             out("proof_json", "{BestProofJson}", "the decoded proof (cases with proof)", optional=True)),
    raises=(ENCODING, raises("InvalidValue", "out_of_range", "a value that does not fit its field")),
    records=(PROOF_JSON, GROUP)))
def encoding(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: proof_json (encode) or proof (hex, decode). output: the other form."""
    pb = spec("post_best")
    scale = spec("scale")
    if "proof_json" in inputs:
        proof = value_from_jsonable(inputs["proof_json"], pb.BestProof, "proof_json")
        return {"proof": hexstr(scale.encode(proof, pb.BestProof))}
    proof = scale.decode(hexbytes(inputs["proof"]), pb.BestProof)
    return {"proof_json": value_to_jsonable(proof, pb.BestProof)}


@handler("post_best", "select", "prove", schema=Schema(
    page="post_best-select-prove", summary="The best-labels proof: the K lowest scores over the set's labels.",
    spec=("post_best.md#prove_best", "post_best.md#chunk_scores"),
    inputs=(inp("identities", "list<{BestIdentity}>", "the identity set"), inp("challenge", "hex:32", "the challenge"),
            inp("k", "uint", "K"), inp("chunks", "list<{LabelChunk}>", "the labels read, in any order")),
    outputs=(out("proof", "hex", "the proof's SCALE bytes"), out("proof_json", "{BestProofJson}", "the same proof"),
             out("weight", "uint", "its weight, labels")),
    raises=(K_ERR, SET_ERR, raises("InvalidValue", ("bad_label_chunk", "not_enough_labels"),
                                   "a chunk of no identity, outside the declared labels, overlapping or not whole "
                                   "labels; fewer than K labels")),
    records=(IDENTITY, CHUNK, PROOF_JSON, GROUP)))
def prove(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: identities, challenge (hex32), k, chunks. output: proof (hex), proof_json, weight."""
    pb = spec("post_best")
    scale = spec("scale")
    identities = identities_from(inputs, pb)
    chunks = [
        pb.LabelChunk(identity=c["identity"], first_index=as_int(c["first_index"]), data=_data(c["data"]))
        for c in inputs["chunks"]
    ]
    k = as_int(inputs["k"])
    proof = pb.prove_best(identities, chunks, hexbytes(inputs["challenge"], 32), k)
    return {
        "proof": hexstr(scale.encode(proof, pb.BestProof)),
        "proof_json": value_to_jsonable(proof, pb.BestProof),
        "weight": pb.best_proof_weight(proof.kth_score, k, identities),
    }


@handler("post_best", "verify", "spot_check_positions", schema=Schema(
    page="post_best-verify-spot_check_positions", summary="The positions a verifier checks: K3 distinct of K "
    "(every position, in order, when K3 >= K).",
    spec=("post_best.md#spot_check_positions",),
    inputs=(inp("seed", "hex", "the verifier's seed"), inp("challenge", "hex:32", "the challenge"),
            inp("set_root", "hex:32", "the identity set root"), inp("k", "uint", "K"), inp("k3", "uint", "K3")),
    outputs=(out("positions", "list<uint>", "the positions"),)))
def spot_check_positions(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: seed (hex), challenge (hex32), set_root (hex32), k, k3. output: positions."""
    pb = spec("post_best")
    positions = pb.spot_check_positions(
        hexbytes(inputs["seed"]), hexbytes(inputs["challenge"], 32), hexbytes(inputs["set_root"], 32),
        as_int(inputs["k"]), as_int(inputs["k3"]),
    )
    return {"positions": positions}


@handler("post_best", "verify", "verify", schema=Schema(
    page="post_best-verify-verify", summary="Verify a best-labels proof; its weight, or InvalidProof with the first "
    "rule it breaks. Labels are recomputed with the preset's scrypt N.",
    spec=("post_best.md#verify_best_proof", "post_best.md#check_proof_structure"),
    inputs=(inp("identities", "list<{BestIdentity}>", "the identity set"), inp("challenge", "hex:32", "the challenge"),
            inp("k", "uint", "K"), inp("k3", "uint", "entries checked"), inp("seed", "hex", "the verifier's seed"),
            inp("proof", "hex", "the proof's SCALE bytes")),
    outputs=(out("weight", "uint", "the proof's weight, labels"),),
    raises=(STRUCTURE, ENCODING, K_ERR, SET_ERR), records=(IDENTITY,)))
def verify(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: identities, challenge (hex32), k, k3, seed (hex), proof (hex). output: weight."""
    pb = spec("post_best")
    scale = spec("scale")
    identities = identities_from(inputs, pb)
    proof = scale.decode(hexbytes(inputs["proof"]), pb.BestProof)
    weight = pb.verify_best_proof(
        proof, identities, hexbytes(inputs["challenge"], 32), as_int(inputs["k"]), as_int(inputs["k3"]),
        hexbytes(inputs["seed"]),
    )
    return {"weight": weight}


@handler("post_best", "verify", "entry", schema=Schema(
    page="post_best-verify-entry", summary="The malfeasance check of one entry of a best-labels proof.",
    spec=("post_best.md#verify_best_entry",),
    inputs=(inp("identities", "list<{BestIdentity}>", "the identity set"), inp("challenge", "hex:32", "the challenge"),
            inp("k", "uint", "K"), inp("position", "int", "the entry's position"), inp("proof", "hex", "the proof")),
    outputs=(out("valid", "bool", "whether the entry's score is at most the K-th"),),
    raises=(STRUCTURE, ENCODING, K_ERR, SET_ERR, raises("InvalidValue", "position_out_of_range", "not in 0 .. K - 1")),
    records=(IDENTITY,)))
def verify_entry(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: identities, challenge (hex32), k, position, proof (hex). output: valid (bool)."""
    pb = spec("post_best")
    scale = spec("scale")
    identities = identities_from(inputs, pb)
    proof = scale.decode(hexbytes(inputs["proof"]), pb.BestProof)
    valid = pb.verify_best_entry(proof, identities, hexbytes(inputs["challenge"], 32), as_int(inputs["k"]), as_int(inputs["position"]))
    return {"valid": valid}


@handler("post_best", "proof", "entries", schema=Schema(
    page="post_best-proof-entries", summary="The (identity, label index) entries a proof lists, in proof order "
    "(steps summed per group).",
    spec=("post_best.md#proof_entries-make_proof",),
    inputs=(inp("proof", "hex", "the proof's SCALE bytes"),),
    outputs=(out("entries", "list<list<uint>>", "[identity position, label index] per entry"),),
    raises=(ENCODING,)))
def entries(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """proof_entries of a decoded proof."""
    pb = spec("post_best")
    proof = spec("scale").decode(hexbytes(inputs["proof"]), pb.BestProof)
    return {"entries": [list(entry) for entry in pb.proof_entries(proof)]}
