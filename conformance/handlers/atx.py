"""Handlers of the ``atx`` vectors (ATX v2 wire format, IDs, validation, malfeasance).

Common inputs:

* ``config``: ``{genesis_id: hex20, golden_atx: hex32, current_epoch: int, tick_size: int,
  id_scheme: "a"|"b", atx_versions: [[epoch, version], ...]}`` (atx.md ``AtxConfig``).
* ``poet_proofs``: ``[{ref: hex32, membership_root: hex32, leaf_count: int}]`` known to the node.
* ``history``: ATXs the node stored before the case, in order. Each is ``{v2: hex}`` (processed
  with ``handle_atx_v2``, which must accept it) or ``{v1: hex, base_tick_height: int,
  tick_count: int}`` (a v1 ATX validated elsewhere, stored with ``stored_atx_v1``).
* ``verifier``: ``"stub"``. PoST verification is replaced by this rule so that vectors stay
  cheap and every rule can be hit: a PoST is valid iff its ``indices`` are non-empty and contain
  no byte ``0xff``; position ``p`` of a PoST passes (``verify_post_index``) iff
  ``p < len(indices)`` and ``indices[p] != 0xff``; a VRF nonce is valid iff
  ``nonce >= num_units`` (so the units the validator passes are visible).
"""

from __future__ import annotations

from typing import Any

from smspec.conformance.handlers import as_int, handler, hexbytes, hexstr
from smspec.conformance.jsonio import value_from_jsonable, value_to_jsonable
from smspec.spec.errors import SpecError


class StubPostVerifier:
    """The stand-in PoST verifier of the ``atx`` vectors (see the module docstring)."""

    def verify_post(self, node_id: bytes, commitment_atx: bytes, challenge: bytes, post: Any, num_units: int) -> None:
        if len(post.indices) == 0 or 0xFF in post.indices:
            raise SpecError("stub_post_invalid", "the stub rejects PoSTs with an 0xff index byte")

    def verify_vrf_nonce(self, node_id: bytes, commitment_atx: bytes, nonce: int, num_units: int) -> None:
        if nonce < num_units:
            raise SpecError("stub_vrf_nonce_invalid", f"nonce {nonce} < units {num_units}")

    def verify_post_index(
        self, node_id: bytes, commitment_atx: bytes, challenge: bytes, post: Any, num_units: int, index: int
    ) -> bool:
        return index < len(post.indices) and post.indices[index] != 0xFF


def load_config(atx: Any, data: dict[str, Any]) -> Any:
    return atx.AtxConfig(
        genesis_id=hexbytes(data["genesis_id"], 20),
        golden_atx=hexbytes(data["golden_atx"], 32),
        current_epoch=as_int(data["current_epoch"]),
        tick_size=as_int(data["tick_size"]),
        id_scheme=atx.IdScheme(data["id_scheme"]),
        atx_versions=tuple((as_int(e), as_int(v)) for e, v in data.get("atx_versions", [])),
    )


def config_json(config: Any) -> dict[str, Any]:
    return {
        "genesis_id": hexstr(config.genesis_id),
        "golden_atx": hexstr(config.golden_atx),
        "current_epoch": config.current_epoch,
        "tick_size": config.tick_size,
        "id_scheme": config.id_scheme.value,
        "atx_versions": [list(pair) for pair in config.atx_versions],
    }


def verifier_for(inputs: dict[str, Any]) -> Any:
    name = inputs.get("verifier", "stub")
    if name != "stub":
        raise ValueError(f"unknown verifier {name!r}")
    return StubPostVerifier()


def load_state(spec: Any, inputs: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    """(atx module, malfeasance module, store, config) with the case's history replayed."""
    atx = spec("atx")
    mal = spec("malfeasance")
    config = load_config(atx, inputs["config"])
    store = atx.MemoryAtxStore()
    verifier = verifier_for(inputs)
    for poet in inputs.get("poet_proofs", []):
        store.add_poet_proof(
            atx.PoetProofInfo(hexbytes(poet["ref"], 32), hexbytes(poet["membership_root"], 32), as_int(poet["leaf_count"]))
        )
    for entry in inputs.get("history", []):
        if "v2" in entry:
            mal.handle_atx_v2(hexbytes(entry["v2"]), store, config, verifier)
        else:
            blob = hexbytes(entry["v1"])
            stored = atx.stored_atx_v1(
                atx.decode_atx_v1(blob), blob, as_int(entry["base_tick_height"]), as_int(entry["tick_count"])
            )
            store.add_atx(stored)
    return atx, mal, store, config


def stored_json(stored: Any) -> dict[str, Any]:
    return {
        "id": hexstr(stored.id),
        "base_tick_height": stored.base_tick_height,
        "tick_count": stored.tick_count,
        "tick_height": stored.tick_height(),
        "num_units": stored.num_units,
        "weight": stored.weight,
        "posts": [
            {"node_id": hexstr(p.node_id), "previous": hexstr(p.previous), "units": p.units} for p in stored.posts
        ],
    }


@handler("atx", "codec", "decode_v2")
def decode_v2(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: blob (hex). output: atx (JSON of ActivationTxV2), reencoded (hex)."""
    atx = spec("atx")
    value = atx.decode_atx_v2(hexbytes(inputs["blob"]))
    return {
        "atx": value_to_jsonable(value, atx.ActivationTxV2),
        "reencoded": hexstr(spec("scale").encode(value, atx.ActivationTxV2)),
    }


@handler("atx", "codec", "encode_v2")
def encode_v2(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: atx (JSON of ActivationTxV2). output: blob (hex)."""
    atx = spec("atx")
    value = value_from_jsonable(inputs["atx"], atx.ActivationTxV2)
    return {"blob": hexstr(spec("scale").encode(value, atx.ActivationTxV2))}


@handler("atx", "id", "v2")
def id_v2(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: blob (hex ATX v2), scheme ("a"|"b"). output: id (hex32)."""
    atx = spec("atx")
    value = atx.decode_atx_v2(hexbytes(inputs["blob"]))
    return {"id": hexstr(atx.atx_id_v2(value, atx.IdScheme(inputs["scheme"])))}


@handler("atx", "id", "v1")
def id_v1(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: blob (hex ATX v1). output: id (hex32), signed_bytes (hex)."""
    atx = spec("atx")
    value = atx.decode_atx_v1(hexbytes(inputs["blob"]))
    return {"id": hexstr(atx.atx_id_v1(value)), "signed_bytes": hexstr(atx.signed_bytes_v1(value))}


@handler("atx", "codec", "version")
def version(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: blob (hex), config. output: version (1|2), the version the blob decodes as."""
    atx = spec("atx")
    config = load_config(atx, inputs["config"])
    blob = hexbytes(inputs["blob"])
    decoded = atx.decode_atx(blob, config)
    return {"version": atx.atx_version(blob, config), "decoded_as": type(decoded).__name__}


@handler("atx", "validate", "v2")
def validate_v2(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: config, poet_proofs, history, verifier, blob. output: the stored ATX
    (id, base_tick_height, tick_count, tick_height, num_units = effective units, weight, posts),
    and finding (null or {node_id, proof_type}); or InvalidAtx(reason) / InvalidEncoding."""
    atx, mal, store, config = load_state(spec, inputs)
    stored, finding = mal.handle_atx_v2(hexbytes(inputs["blob"]), store, config, verifier_for(inputs))
    out = stored_json(stored)
    out["finding"] = None if finding is None else {"node_id": hexstr(finding.node_id), "proof_type": finding.proof_type}
    return out


@handler("atx", "malfeasance", "detect")
def detect(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: as validate/v2. output: finding (null or {node_id, proof_type, proof: hex of the
    ATXProof envelope, or null where scheme A cannot express the proof}), malicious (sorted hex
    node ids marked malicious)."""
    atx, mal, store, config = load_state(spec, inputs)
    _, finding = mal.handle_atx_v2(hexbytes(inputs["blob"]), store, config, verifier_for(inputs))
    out: dict[str, Any] = {"finding": None}
    if finding is not None and finding.proof is None:
        out["finding"] = {"node_id": hexstr(finding.node_id), "proof_type": finding.proof_type, "proof": None}
    elif finding is not None:
        envelope = mal.ATXProof(
            mal.ATX_PROOF_VERSION,
            finding.proof_type,
            spec("scale").encode(finding.proof, mal.proof_class(finding.proof_type, config.id_scheme)),
        )
        out["finding"] = {
            "node_id": hexstr(finding.node_id),
            "proof_type": finding.proof_type,
            "proof": hexstr(spec("scale").encode(envelope, mal.ATXProof)),
        }
    out["malicious"] = sorted(hexstr(n) for n in store.malicious)
    return out


@handler("atx", "malfeasance", "verify")
def verify_proof(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: config, verifier, proof (hex of an ATXProof envelope). output: node_id (hex32)
    the proof convicts; or InvalidProof(reason) / InvalidEncoding."""
    atx = spec("atx")
    mal = spec("malfeasance")
    config = load_config(atx, inputs["config"])
    envelope = spec("scale").decode(hexbytes(inputs["proof"]), mal.ATXProof)
    return {"node_id": hexstr(mal.verify_atx_proof(envelope, config, verifier_for(inputs)))}
