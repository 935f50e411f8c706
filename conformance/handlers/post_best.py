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


def identities_from(inputs: dict[str, Any], pb: Any) -> list[Any]:
    return value_from_jsonable(inputs["identities"], pb.Slice(pb.BestIdentity, pb.MAX_IDENTITIES), "identities")


def _data(value: Any) -> bytes:
    return blob_bytes(value) if isinstance(value, dict) else hexbytes(value)


@handler("post_best", "score", "label_score")
def label_score(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: key (hex16), label (hex16). output: score (u64)."""
    pb = spec("post_best")
    return {"score": pb.label_score(hexbytes(inputs["key"], 16), hexbytes(inputs["label"], 16))}


@handler("post_best", "score", "score_key")
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


@handler("post_best", "estimator", "weight")
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


@handler("post_best", "proof", "encoding")
def encoding(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: proof_json (encode) or proof (hex, decode). output: the other form."""
    pb = spec("post_best")
    scale = spec("scale")
    if "proof_json" in inputs:
        proof = value_from_jsonable(inputs["proof_json"], pb.BestProof, "proof_json")
        return {"proof": hexstr(scale.encode(proof, pb.BestProof))}
    proof = scale.decode(hexbytes(inputs["proof"]), pb.BestProof)
    return {"proof_json": value_to_jsonable(proof, pb.BestProof)}


@handler("post_best", "select", "prove")
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


@handler("post_best", "verify", "spot_check_positions")
def spot_check_positions(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: seed (hex), challenge (hex32), set_root (hex32), k, k3. output: positions."""
    pb = spec("post_best")
    positions = pb.spot_check_positions(
        hexbytes(inputs["seed"]), hexbytes(inputs["challenge"], 32), hexbytes(inputs["set_root"], 32),
        as_int(inputs["k"]), as_int(inputs["k3"]),
    )
    return {"positions": positions}


@handler("post_best", "verify", "verify")
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


@handler("post_best", "verify", "entry")
def verify_entry(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: identities, challenge (hex32), k, position, proof (hex). output: valid (bool)."""
    pb = spec("post_best")
    scale = spec("scale")
    identities = identities_from(inputs, pb)
    proof = scale.decode(hexbytes(inputs["proof"]), pb.BestProof)
    valid = pb.verify_best_entry(proof, identities, hexbytes(inputs["challenge"], 32), as_int(inputs["k"]), as_int(inputs["position"]))
    return {"valid": valid}
