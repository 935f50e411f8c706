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

ATX v3 (spec/atx_best.md, the best-labels ATX; vectors of the tiny preset): ``history`` entries may
also be ``{v3: hex}`` (processed with ``handle_atx_v3``), and ``best_verifier`` says how many
entries of a best-labels proof are checked. The inputs, outputs and errors of every handler are its
schema (the format pages under ``conformance/formats/handlers/``).
"""

from __future__ import annotations

from typing import Any

from smspec.conformance.handlers import as_int, handler, hexbytes, hexstr
from smspec.conformance.jsonio import value_from_jsonable, value_to_jsonable
from smspec.conformance.schema import Record, Schema, inp, out, raises
from smspec.spec.errors import SpecError

CONFIG = Record("AtxConfig", "The node's ATX configuration (atx.md#atxconfig).", (
    inp("genesis_id", "hex:20", "the genesis ID"), inp("golden_atx", "hex:32", "the golden ATX"),
    inp("current_epoch", "uint:32", "the node's current epoch"), inp("tick_size", "uint:64", "PoET leaves per tick"),
    inp("id_scheme", "enum:a,b", "how ATX v2 IDs are computed: `a` as go-spacemesh v1.7.6, `b` as later develop"),
    inp("atx_versions", "list<list<uint>>", "[epoch, version] pairs: from that epoch on, blobs decode as that "
        "version (read sorted)", default=[]),
))
POET = Record("PoetProof", "A PoET proof the node knows.", (
    inp("ref", "hex:32", "the proof's reference"), inp("membership_root", "hex:32", "its membership root"),
    inp("leaf_count", "uint:64", "its leaf count"),
))
HISTORY = Record("HistoryEntry", """
An ATX the node stored before the case: `{v2}` is processed with `handle_atx_v2` (which must accept
it); `{v3}` with `handle_atx_v3` (atx_best.md; it must accept it too); `{v1, base_tick_height,
tick_count}` is a v1 ATX validated elsewhere, stored as is.
""", (
    inp("v2", "hex", "an ATX v2 blob", optional=True), inp("v3", "hex", "an ATX v3 blob", optional=True),
    inp("v1", "hex", "an ATX v1 blob", optional=True),
    inp("base_tick_height", "uint:64", "the v1 ATX's base tick height", optional=True),
    inp("tick_count", "uint:64", "the v1 ATX's tick count", optional=True),
))
VERIFIER = inp("verifier", "enum:stub,spec", "the node's PoST verifier: `stub` (see the notes) or `spec`, post.md's "
               "real verification with the case's preset", default="stub")
STATE = (inp("config", "{AtxConfig}", "the node's configuration"),
         inp("poet_proofs", "list<{PoetProof}>", "PoET proofs known to the node", default=[]),
         inp("history", "list<{HistoryEntry}>", "ATXs stored before the case, in order", default=[]), VERIFIER)
STUB_NOTE = """The `stub` verifier replaces PoST verification (which costs real labels) so that vectors stay
cheap and every rule can be hit: a PoST is valid iff its `indices` are non-empty and hold no byte `0xff`;
position `p` of a PoST passes (`verify_post_index`) iff `p < len(indices)` and `indices[p] != 0xff`; a VRF
nonce is valid iff `nonce >= num_units` (so that which units the validator passes is visible). A client
implements this stub in its test adapter in place of its PoST verifier. Cases with `spec` (tiny preset) carry real
PoST data and use the real verifier (post.md#verify_proof, K3 = K2, and the VRF nonce check)."""
ATX_ENCODING = raises("InvalidEncoding", ("short_input", "trailing_bytes", "non_canonical_compact", "compact_overflow",
                                          "length_over_max"), "bytes that do not decode (SCALE)")
INVALID_ATX = raises("InvalidAtx", ("invalid_signature", "empty_positioning_atx", "no_self_marriage", "publish_epoch_too_far",
                                  "solo_nipost_count", "solo_post_count", "solo_prev_atx_index", "initial_with_marriage_atx",
                                  "initial_missing_commitment", "initial_with_previous", "invalid_vrf_nonce",
                                  "invalid_initial_post", "empty_previous_atx", "golden_previous_atx",
                                  "merged_with_marriages", "duplicate_marriage_index", "solo_previous_count",
                                  "positioning_atx_missing", "positioning_atx_too_new", "reference_atx_missing",
                                  "invalid_certificate", "duplicate_certificate", "commitment_atx_missing",
                                  "commitment_atx_too_new", "previous_atx_missing", "previous_atx_too_new", "not_married",
                                  "marriage_atx_mismatch", "marriage_atx_missing", "marriage_atx_too_new",
                                  "marriage_index_out_of_range", "prev_atx_index_out_of_range", "identity_not_in_previous",
                                  "poet_proof_missing", "membership_malformed", "invalid_membership", "weight_overflow",
                                  "units_overflow", "commitment_unknown", "invalid_post", "signer_not_included"),
                   "the first rule of atx.md's validation pipeline (S1-S8, then C1-C11) the ATX breaks")
STORED = (
    out("id", "hex:32", "the ATX ID"), out("base_tick_height", "uint:64", "base tick height"),
    out("tick_count", "uint:64", "ticks"), out("tick_height", "uint:64", "base + ticks (mod 2^64)"),
    out("num_units", "uint:32", "the effective units"), out("weight", "uint:64", "the weight"),
    out("posts", "list<json>", "per sub-post {node_id, previous, units}"),
)


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


def verifier_for(inputs: dict[str, Any], spec: Any = None) -> Any:
    """The case's PoST verifier: the stub, or the real one of post.md (the case's preset)."""
    name = inputs.get("verifier", "stub")
    if name == "spec" and spec is not None:
        return spec("atx").SpecPostVerifier(spec("post"))
    if name != "stub":
        raise ValueError(f"unknown verifier {name!r}")
    return StubPostVerifier()


def best_verifier_for(spec: Any, inputs: dict[str, Any]) -> Any:
    """The best-labels verifier of a case: every entry, or ``k3`` entries chosen with ``seed``."""
    best = spec("atx_best")
    options = inputs.get("best_verifier")
    if options is None:
        return best.SpecBestVerifier()
    return best.SpecBestVerifier(as_int(options["k3"]), hexbytes(options["seed"]))


def load_state(spec: Any, inputs: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    """(atx module, malfeasance module, store, config) with the case's history replayed."""
    atx = spec("atx")
    mal = spec("malfeasance")
    config = load_config(atx, inputs["config"])
    store = atx.MemoryAtxStore()
    verifier = verifier_for(inputs, spec)
    for poet in inputs.get("poet_proofs", []):
        store.add_poet_proof(
            atx.PoetProofInfo(hexbytes(poet["ref"], 32), hexbytes(poet["membership_root"], 32), as_int(poet["leaf_count"]))
        )
    for entry in inputs.get("history", []):
        if "v2" in entry:
            mal.handle_atx_v2(hexbytes(entry["v2"]), store, config, verifier)
        elif "v3" in entry:
            spec("atx_best").handle_atx_v3(hexbytes(entry["v3"]), store, config, verifier, best_verifier_for(spec, inputs))
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


def finding_json(spec: Any, mal: Any, finding: Any) -> dict[str, Any] | None:
    """A finding with its proof as the hex of an ``ATXProof`` envelope (null where inexpressible)."""
    if finding is None:
        return None
    if finding.proof is None:
        return {"node_id": hexstr(finding.node_id), "proof_type": finding.proof_type, "proof": None}
    body = spec("scale").encode(finding.proof, type(finding.proof))  # a proof's class is its codec
    envelope = mal.ATXProof(mal.ATX_PROOF_VERSION, finding.proof_type, body)
    return {
        "node_id": hexstr(finding.node_id),
        "proof_type": finding.proof_type,
        "proof": hexstr(spec("scale").encode(envelope, mal.ATXProof)),
    }


@handler("atx", "codec", "decode_v2", schema=Schema(
    page="atx-codec-decode_v2", summary="Decode an ATX v2 blob; its JSON value and its re-encoding.",
    spec=("atx.md#activationtxv2", "atx.md#encode_atx_v2-decode_atx_v2-decode_atx_v1-decode_atx"),
    inputs=(inp("blob", "hex", "the ATX bytes"),),
    outputs=(out("atx", "json", "the ActivationTxV2 value JSON: an object per struct, field by field as atx.md lists them"),
             out("reencoded", "hex", "its encoding (differs from `blob` only where go-scale is lenient)")),
    raises=(ATX_ENCODING,)))
def decode_v2(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: blob (hex). output: atx (JSON of ActivationTxV2), reencoded (hex)."""
    atx = spec("atx")
    value = atx.decode_atx_v2(hexbytes(inputs["blob"]))
    return {
        "atx": value_to_jsonable(value, atx.ActivationTxV2),
        "reencoded": hexstr(spec("scale").encode(value, atx.ActivationTxV2)),
    }


@handler("atx", "codec", "encode_v2", schema=Schema(
    page="atx-codec-encode_v2", summary="Encode an ATX v2 from its JSON value.",
    spec=("atx.md#activationtxv2",),
    inputs=(inp("atx", "json", "the ActivationTxV2 value JSON"),),
    outputs=(out("blob", "hex", "the encoding"),),
    raises=(raises("InvalidValue", ("out_of_range", "length_over_max", "wrong_length"), "a value that does not fit its field"),)))
def encode_v2(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: atx (JSON of ActivationTxV2). output: blob (hex)."""
    atx = spec("atx")
    value = value_from_jsonable(inputs["atx"], atx.ActivationTxV2)
    return {"blob": hexstr(atx.encode_atx_v2(value))}


@handler("atx", "id", "v2", schema=Schema(
    page="atx-id-v2", summary="The ID of an ATX v2 under an ID scheme.",
    spec=("atx.md#atx_id_v2",),
    inputs=(inp("blob", "hex", "the ATX bytes"), inp("scheme", "enum:a,b", "`a` (v1.7.6) or `b` (later develop)")),
    outputs=(out("id", "hex:32", "the ID"),),
    raises=(ATX_ENCODING,)))
def id_v2(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: blob (hex ATX v2), scheme ("a"|"b"). output: id (hex32)."""
    atx = spec("atx")
    value = atx.decode_atx_v2(hexbytes(inputs["blob"]))
    return {"id": hexstr(atx.atx_id_v2(value, atx.IdScheme(inputs["scheme"])))}


@handler("atx", "id", "v1", schema=Schema(
    page="atx-id-v1", summary="The ID and the signed bytes of an ATX v1.",
    spec=("atx.md#atx_id_v1-signed_bytes_v1",),
    inputs=(inp("blob", "hex", "the ATX v1 bytes"),),
    outputs=(out("id", "hex:32", "blake3 of the SCALE inner ATX"), out("signed_bytes", "hex", "compact publish epoch ‖ ID")),
    raises=(ATX_ENCODING,)))
def id_v1(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: blob (hex ATX v1). output: id (hex32), signed_bytes (hex)."""
    atx = spec("atx")
    value = atx.decode_atx_v1(hexbytes(inputs["blob"]))
    return {"id": hexstr(atx.atx_id_v1(value)), "signed_bytes": hexstr(atx.signed_bytes_v1(value))}


@handler("atx", "codec", "version", schema=Schema(
    page="atx-codec-version", summary="Which ATX version a blob decodes as under a configuration's version table.",
    spec=("atx.md#atx_version",),
    inputs=(inp("blob", "hex", "the ATX bytes"), inp("config", "{AtxConfig}", "the configuration")),
    outputs=(out("version", "uint", "1 or 2"), out("decoded_as", "enum:ActivationTxV1,ActivationTxV2", "the type decoded")),
    raises=(ATX_ENCODING,), records=(CONFIG,)))
def version(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: blob (hex), config. output: version (1|2), the version the blob decodes as."""
    atx = spec("atx")
    config = load_config(atx, inputs["config"])
    blob = hexbytes(inputs["blob"])
    decoded = atx.decode_atx(blob, config)
    return {"version": atx.atx_version(blob, config), "decoded_as": type(decoded).__name__}


@handler("atx", "validate", "v2", schema=Schema(
    page="atx-validate-v2", summary="Validate and store an ATX v2 against the node's state (history replayed first).",
    spec=("atx.md#the-validation-pipeline", "atx.md#validate_atx_v2", "malfeasance.md#handle_atx_v2"),
    inputs=(*STATE, inp("blob", "hex", "the ATX")),
    outputs=(*STORED, out("finding", "json", "null, or {node_id, proof_type} of a malfeasance finding")),
    raises=(INVALID_ATX, ATX_ENCODING), records=(CONFIG, POET, HISTORY), notes=(STUB_NOTE,)))
def validate_v2(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: config, poet_proofs, history, verifier, blob. output: the stored ATX
    (id, base_tick_height, tick_count, tick_height, num_units = effective units, weight, posts),
    and finding (null or {node_id, proof_type}); or InvalidAtx(reason) / InvalidEncoding."""
    atx, mal, store, config = load_state(spec, inputs)
    stored, finding = mal.handle_atx_v2(hexbytes(inputs["blob"]), store, config, verifier_for(inputs, spec))
    out = stored_json(stored)
    out["finding"] = None if finding is None else {"node_id": hexstr(finding.node_id), "proof_type": finding.proof_type}
    return out


@handler("atx", "malfeasance", "detect", schema=Schema(
    page="atx-malfeasance-detect", summary="Process an ATX v2 and report the malfeasance it proves.",
    spec=("malfeasance.md#detect_malfeasance", "malfeasance.md#handle_atx_v2"),
    inputs=(*STATE, inp("blob", "hex", "the ATX")),
    outputs=(out("finding", "json", "null, or {node_id, proof_type, proof}: the ATXProof envelope's SCALE hex, or null "
                 "where scheme A cannot express the proof"),
             out("malicious", "list<hex:32>", "node IDs marked malicious, sorted")),
    raises=(ATX_ENCODING,), records=(CONFIG, POET, HISTORY), notes=(STUB_NOTE,)))
def detect(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: as validate/v2. output: finding (null or {node_id, proof_type, proof: hex of the
    ATXProof envelope, or null where scheme A cannot express the proof}), malicious (sorted hex
    node ids marked malicious)."""
    atx, mal, store, config = load_state(spec, inputs)
    _, finding = mal.handle_atx_v2(hexbytes(inputs["blob"]), store, config, verifier_for(inputs, spec))
    return {"finding": finding_json(spec, mal, finding), "malicious": sorted(hexstr(n) for n in store.malicious)}


@handler("atx", "malfeasance", "verify", schema=Schema(
    page="atx-malfeasance-verify", summary="Verify an ATX malfeasance proof (an ATXProof envelope).",
    spec=("malfeasance.md#verify_atx_proof",),
    inputs=(inp("config", "{AtxConfig}", "the configuration"), VERIFIER, inp("proof", "hex", "the ATXProof bytes")),
    outputs=(out("node_id", "hex:32", "the identity the proof convicts"),),
    raises=(raises("InvalidProof", ("unknown_proof_type", "same_atx", "invalid_atx_signature",
                                    "invalid_certificate_signature", "invalid_certificate_proof",
                                    "invalid_marriages_root_proof", "invalid_publish_epoch_proof",
                                    "invalid_marriage_atx_proof", "invalid_prev_atx_proof", "missing_marriage_proof",
                                    "invalid_nipost_root_proof", "invalid_sub_post_root_proof",
                                    "invalid_marriage_index_proof", "invalid_commitment", "post_is_valid",
                                    "invalid_num_units_proof", "invalid_post_proof", "invalid_challenge_proof"),
                   "the first check of malfeasance.md the proof fails"), ATX_ENCODING),
    records=(CONFIG,), notes=(STUB_NOTE,)))
def verify_proof(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: config, verifier, proof (hex of an ATXProof envelope). output: node_id (hex32)
    the proof convicts; or InvalidProof(reason) / InvalidEncoding."""
    atx = spec("atx")
    mal = spec("malfeasance")
    config = load_config(atx, inputs["config"])
    envelope = spec("scale").decode(hexbytes(inputs["proof"]), mal.ATXProof)
    return {"node_id": hexstr(mal.verify_atx_proof(envelope, config, verifier_for(inputs, spec)))}


@handler("atx", "validate", "process", schema=Schema(
    page="atx-validate-process", summary="Decode, validate and store an ATX v2 (no malfeasance detection); an ATX "
    "whose ID is already stored is returned unchanged.",
    spec=("atx.md#process_atx_v2",),
    inputs=(*STATE, inp("blob", "hex", "the ATX")),
    outputs=STORED,
    raises=(INVALID_ATX, ATX_ENCODING),
    records=(CONFIG, POET, HISTORY), notes=(STUB_NOTE,)))
def process(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """process_atx_v2 against the replayed state."""
    atx, mal, store, config = load_state(spec, inputs)
    return stored_json(atx.process_atx_v2(hexbytes(inputs["blob"]), store, config, verifier_for(inputs, spec)))


@handler("atx", "malfeasance", "invalid_post", schema=Schema(
    page="atx-malfeasance-invalid_post", summary="The invalid-PoST proof a node builds against an identity whose "
    "PoST in an ATX fails somewhere (it needs one passing and one failing position).",
    spec=("malfeasance.md#invalid_post_finding", "malfeasance.md#make_invalid_post_proof"),
    inputs=(*STATE, inp("blob", "hex", "the rejected ATX (v2)"), inp("node_id", "hex:32", "the accused identity"),
            inp("nipost_index", "uint", "the NiPost holding its PoST"),
            inp("commitment_atx", "hex:32", "the identity's commitment ATX"), inp("k2", "uint", "the PoST's K2")),
    outputs=(out("finding", "json", "null (no proof can be built), or {node_id, proof_type, proof: the ATXProof "
                 "envelope's SCALE hex}"),),
    raises=(ATX_ENCODING,), records=(CONFIG, POET, HISTORY), notes=(STUB_NOTE,)))
def invalid_post(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """invalid_post_finding for one identity of an ATX."""
    atx, mal, store, config = load_state(spec, inputs)
    value = atx.decode_atx_v2(hexbytes(inputs["blob"]))
    finding = mal.invalid_post_finding(value, hexbytes(inputs["node_id"], 32), as_int(inputs["nipost_index"]),
                                       hexbytes(inputs["commitment_atx"], 32), as_int(inputs["k2"]), store, config,
                                       verifier_for(inputs, spec))
    return {"finding": finding_json(spec, mal, finding)}


# ---------------------------------------------------------------------------------------------
# ATX v3 (atx_best.md): smspec's proposal, tiny preset vectors (level devnet)

BEST_VERIFIER = Record("BestVerifierOptions", """
How many entries of a best-labels proof the node checks (atx_best.md `SpecBestVerifier`): `k3`
entries chosen with `seed` (post_best.md `verify_best_proof`).
""", (inp("k3", "uint", "entries checked"), inp("seed", "hex", "the seed choosing them")))
BEST_IDENTITY = Record("BestIdentity", "A member of an identity set (post_best.md#bestidentity).", (
    inp("node_id", "hex:32", "the identity"), inp("commitment_atx_id", "hex:32", "its commitment ATX"),
    inp("num_units", "uint:32", "its space units (for atx/weight/v3: the *effective* units)"),
))
V3_STATE = (*STATE, inp("best_verifier", "{BestVerifierOptions}|null", "null: every entry of the best-labels proof is "
                        "checked; otherwise `k3` entries chosen with `seed`", default=None))
V3_RECORDS = (CONFIG, POET, HISTORY, BEST_VERIFIER)
V3_NOTE = ("Best-labels proofs are always verified for real (scrypt labels of the case's preset); only today's PoST "
           "(initial PoSTs) and VRF nonces go through the `verifier`. " + STUB_NOTE)
# post_best.md's verifier refusals, as atx_best.md's B2 renames them (`best_<reason>`).
BEST_REASONS = tuple("best_" + r for r in ("score_above_kth", "kth_score_not_attained", "wrong_entry_count",
                                           "index_out_of_range", "identity_out_of_range", "identities_not_increasing",
                                           "duplicate_entry", "empty_group", "bad_identity_set", "k_too_small",
                                           "k_too_large", "position_out_of_range"))
INVALID_ATX_V3 = raises("InvalidAtx", tuple(r for r in INVALID_ATX.reasons if r not in (
    "solo_nipost_count", "solo_post_count", "invalid_post")) + (
    "unsupported_version", "solo_member_count", "no_members", "bad_identity_set", "identity_set_mismatch") + BEST_REASONS,
    "the first rule of atx_best.md's validation pipeline (S, then C and B rules in the table's order) the ATX breaks")
V3_PROOF_REASONS = tuple(r for r in (
    "unknown_proof_type", "same_atx", "invalid_atx_signature", "invalid_certificate_signature",
    "invalid_certificate_proof", "invalid_marriages_root_proof", "invalid_publish_epoch_proof",
    "invalid_marriage_atx_proof", "invalid_prev_atx_proof", "missing_marriage_proof", "invalid_nipost_root_proof",
    "invalid_sub_post_root_proof", "invalid_marriage_index_proof", "invalid_commitment", "post_is_valid",
    "invalid_num_units_proof", "invalid_post_proof", "invalid_challenge_proof", "wrong_identity", "wrong_previous",
    "invalid_identity_set_proof", "invalid_best_proof_proof", "entry_is_valid", "entry_not_checkable",
    "not_expressible_in_scheme_a"))
FINDING_V3 = out("finding", "json", "null, or {node_id, proof_type, proof}: the ATXProof envelope's SCALE hex "
                 "(proof types of malfeasance.md and atx_best.md#malfeasance)")


@handler("atx", "codec", "decode_v3", schema=Schema(
    page="atx-codec-decode_v3", summary="Decode an ATX v3 blob (atx_best.md); its JSON value and its re-encoding.",
    spec=("atx_best.md#activationtxv3", "atx_best.md#encode_atx_v3-decode_atx_v3"),
    inputs=(inp("blob", "hex", "the ATX bytes"),),
    outputs=(out("atx", "json", "the ActivationTxV3 value JSON: an object per struct, field by field as atx_best.md "
                 "lists them (the layout is on the atx/wire/activation_tx_v3 page)"),
             out("reencoded", "hex", "its encoding")),
    raises=(ATX_ENCODING,)))
def decode_v3(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: blob (hex). output: atx (JSON of ActivationTxV3), reencoded (hex)."""
    best = spec("atx_best")
    value = best.decode_atx_v3(hexbytes(inputs["blob"]))
    return {
        "atx": value_to_jsonable(value, best.ActivationTxV3),
        "reencoded": hexstr(best.encode_atx_v3(value)),
    }


@handler("atx", "codec", "encode_v3", schema=Schema(
    page="atx-codec-encode_v3", summary="Encode an ATX v3 from its JSON value.",
    spec=("atx_best.md#activationtxv3", "atx_best.md#encode_atx_v3-decode_atx_v3"),
    inputs=(inp("atx", "json", "the ActivationTxV3 value JSON"),),
    outputs=(out("blob", "hex", "the encoding"),),
    raises=(raises("InvalidValue", ("out_of_range", "length_over_max", "wrong_length"),
                   "a value that does not fit its field"),)))
def encode_v3(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: atx (JSON of ActivationTxV3). output: blob (hex)."""
    best = spec("atx_best")
    value = value_from_jsonable(inputs["atx"], best.ActivationTxV3)
    return {"blob": hexstr(best.encode_atx_v3(value))}


@handler("atx", "id", "v3", schema=Schema(
    page="atx-id-v3", summary="The ID of an ATX v3 under an ID scheme: the Merkle root of its leaves.",
    spec=("atx_best.md#atx_id_v3", "atx_best.md#atx_leaves_v3"),
    inputs=(inp("blob", "hex", "the ATX v3 bytes"), inp("scheme", "enum:a,b", "`a` (v1.7.6 coinbase leaf) or `b`")),
    outputs=(out("id", "hex:32", "the ID"),),
    raises=(ATX_ENCODING,)))
def id_v3(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: blob (hex ATX v3), scheme ("a"|"b"). output: id (hex32)."""
    best = spec("atx_best")
    value = best.decode_atx_v3(hexbytes(inputs["blob"]))
    return {"id": hexstr(best.atx_id_v3(value, spec("atx").IdScheme(inputs["scheme"])))}


@handler("atx", "validate", "v3", schema=Schema(
    page="atx-validate-v3", summary="Validate and store an ATX v3 against the node's state (history replayed first), "
    "with malfeasance detection (atx_best.md `handle_atx_v3`).",
    spec=("atx_best.md#the-validation-pipeline", "atx_best.md#validate_atx_v3", "atx_best.md#handle_atx_v3"),
    inputs=(*V3_STATE, inp("blob", "hex", "the ATX v3")),
    outputs=(*STORED, out("finding", "json", "null, or {node_id, proof_type} of a malfeasance finding")),
    raises=(INVALID_ATX_V3, ATX_ENCODING), records=V3_RECORDS,
    notes=("`num_units` is the whole units the capped estimate stands for; `posts` lists every member.", V3_NOTE)))
def validate_v3(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: config, poet_proofs, history, verifier, best_verifier, blob. output: the stored ATX
    and finding (null or {node_id, proof_type}); or InvalidAtx(reason) / InvalidEncoding."""
    atx, mal, store, config = load_state(spec, inputs)
    stored, finding = spec("atx_best").handle_atx_v3(
        hexbytes(inputs["blob"]), store, config, verifier_for(inputs, spec), best_verifier_for(spec, inputs)
    )
    out = stored_json(stored)
    out["finding"] = None if finding is None else {"node_id": hexstr(finding.node_id), "proof_type": finding.proof_type}
    return out


@handler("atx", "weight", "v3", schema=Schema(
    page="atx-weight-v3", summary="The weight of an ATX v3 from the verified estimate of its best-labels proof: "
    "capped at twice the effective labels, times the ticks over the labels per unit.",
    spec=("atx_best.md#weight_v3",),
    inputs=(inp("verified_labels", "uint:64", "the labels the verified proof stands for"),
            inp("identities", "list<{BestIdentity}>", "the set, each with its *effective* units"),
            inp("tick_count", "uint:64", "the PoET ticks")),
    outputs=(out("weight_labels", "uint", "the capped estimate"), out("num_units", "uint:32", "its whole units"),
             out("weight", "uint:64", "the ATX weight")),
    raises=(raises("InvalidAtx", ("weight_overflow", "units_overflow"), "the weight or the units do not fit"),),
    records=(BEST_IDENTITY,)))
def weight_v3(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: verified_labels, identities (effective units), tick_count. output: weight_labels,
    num_units, weight."""
    best = spec("atx_best")
    pb = spec("post_best")
    identities = value_from_jsonable(inputs["identities"], pb.Slice(pb.BestIdentity, pb.MAX_IDENTITIES), "identities")
    weight_labels, num_units, weight = best.weight_v3(
        as_int(inputs["verified_labels"]), identities, as_int(inputs["tick_count"])
    )
    return {"weight_labels": weight_labels, "num_units": num_units, "weight": weight}


@handler("atx", "malfeasance", "detect_v3", schema=Schema(
    page="atx-malfeasance-detect_v3", summary="Process an ATX v3 and report the malfeasance it proves (an identity in "
    "two sets, a double merge, a double marriage).",
    spec=("atx_best.md#detect_malfeasance_v3", "atx_best.md#handle_atx_v3"),
    inputs=(*V3_STATE, inp("blob", "hex", "the ATX v3")),
    outputs=(FINDING_V3, out("malicious", "list<hex:32>", "node IDs marked malicious, sorted")),
    raises=(ATX_ENCODING,), records=V3_RECORDS, notes=(V3_NOTE,)))
def detect_v3(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: as validate/v3. output: finding (null or {node_id, proof_type, proof: hex of the
    ATXProof envelope}), malicious (sorted hex node ids marked malicious)."""
    atx, mal, store, config = load_state(spec, inputs)
    _, finding = spec("atx_best").handle_atx_v3(
        hexbytes(inputs["blob"]), store, config, verifier_for(inputs, spec), best_verifier_for(spec, inputs)
    )
    return {"finding": finding_json(spec, mal, finding), "malicious": sorted(hexstr(n) for n in store.malicious)}


@handler("atx", "malfeasance", "invalid_entry", schema=Schema(
    page="atx-malfeasance-invalid_entry", summary="The invalid-entry proof a node builds against the signer of an "
    "ATX v3 whose best-labels proof holds an entry above its K-th score (the ATX is not processed).",
    spec=("atx_best.md#invalid_entry_finding", "atx_best.md#make_invalid_entry_proof"),
    inputs=(*V3_STATE, inp("blob", "hex", "the ATX v3")),
    outputs=(FINDING_V3,),
    raises=(ATX_ENCODING,), records=V3_RECORDS, notes=(V3_NOTE,)))
def invalid_entry(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: as validate/v3 (the ATX is not processed). output: finding (null or the
    invalid-entry proof against the ATX's signer)."""
    atx, mal, store, config = load_state(spec, inputs)
    best = spec("atx_best")
    finding = best.invalid_entry_finding(best.decode_atx_v3(hexbytes(inputs["blob"])), store, config)
    return {"finding": finding_json(spec, mal, finding)}


@handler("atx", "malfeasance", "verify_v3", schema=Schema(
    page="atx-malfeasance-verify_v3", summary="Verify an ATX malfeasance proof of any type, atx_best.md's included.",
    spec=("atx_best.md#verify_atx_proof_v3", "malfeasance.md#verify_atx_proof"),
    inputs=(inp("config", "{AtxConfig}", "the configuration"), VERIFIER, inp("proof", "hex", "the ATXProof bytes")),
    outputs=(out("node_id", "hex:32", "the identity the proof convicts"),),
    raises=(raises("InvalidProof", V3_PROOF_REASONS, "the first check of malfeasance.md or atx_best.md the proof "
                   "fails"), ATX_ENCODING),
    records=(CONFIG,), notes=(STUB_NOTE,)))
def verify_proof_v3(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: config, verifier, proof (hex of an ATXProof envelope of any type). output: node_id
    (hex32) the proof convicts; or InvalidProof(reason) / InvalidEncoding."""
    atx = spec("atx")
    mal = spec("malfeasance")
    config = load_config(atx, inputs["config"])
    envelope = spec("scale").decode(hexbytes(inputs["proof"]), mal.ATXProof)
    return {"node_id": hexstr(spec("atx_best").verify_atx_proof_v3(envelope, config, verifier_for(inputs, spec)))}


@handler("atx", "validate", "any", schema=Schema(
    page="atx-validate-any", summary="Validate and store an ATX blob of any version as its publish epoch selects "
    "(atx.md `atx_version`): v2 through malfeasance.md's pipeline, v3 through atx_best.md's (atx_best.md "
    "`handle_atx`).",
    spec=("atx_best.md#handle_atx", "atx.md#atx_version"),
    inputs=(*V3_STATE, inp("blob", "hex", "the ATX, v2 or v3 by its publish epoch")),
    outputs=(*STORED, out("finding", "json", "null, or {node_id, proof_type} of a malfeasance finding")),
    raises=(raises("InvalidAtx", tuple(dict.fromkeys(INVALID_ATX.reasons + INVALID_ATX_V3.reasons)),
                   "`unsupported_version`: the publish epoch selects a version the node does not validate (v1 or "
                   "unknown); otherwise the first rule of the selected version's pipeline the ATX breaks"),
            ATX_ENCODING), records=V3_RECORDS,
    notes=("The version is read from the blob's leading compact publish epoch and the configuration's "
           "`atx_versions` before the blob is decoded; a blob the node already stored is answered with the stored "
           "ATX and no finding.", V3_NOTE)))
def validate_any(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: as validate/v3, blob of any version. output: as validate/v3."""
    atx, mal, store, config = load_state(spec, inputs)
    stored, finding = spec("atx_best").handle_atx(
        hexbytes(inputs["blob"]), store, config, verifier_for(inputs, spec), best_verifier_for(spec, inputs)
    )
    out = stored_json(stored)
    out["finding"] = None if finding is None else {"node_id": hexstr(finding.node_id), "proof_type": finding.proof_type}
    return out


@handler("atx", "build", "challenge_v3", schema=Schema(
    page="atx-build-challenge_v3", summary="The NiPoST challenge an identity set registers at a PoET "
    "(atx_best.md `nipost_challenge_v3`) and its PoET leaf (`challenge_hash_v3`).",
    spec=("atx_best.md#nipost_challenge_v3", "atx_best.md#challenge_hash_v3"),
    inputs=(inp("publish_epoch", "uint:32", "the publish epoch"), inp("positioning_atx", "hex:32", "the positioning ATX"),
            inp("identities", "list<{BestIdentity}>", "the set's members in member order (declared units)"),
            inp("previous", "list<hex:32>", "member i's previous ATX (the empty ID for an initial ATX)"),
            inp("initial_post", "json|null", "null, or the initial PoST as PostV1 value JSON {nonce, indices, pow}")),
    outputs=(out("challenge", "hex", "the SCALE encoding of the NIPostChallengeV3"),
             out("hash", "hex:32", "its PoET membership leaf: BLAKE3(0x03 ‖ challenge)")),
    raises=(raises("InvalidValue", ("out_of_range", "length_over_max", "wrong_length"),
                   "a value that does not fit its field"),),
    records=(BEST_IDENTITY,)))
def build_challenge_v3(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: publish_epoch, positioning_atx, identities, previous, initial_post. output: challenge, hash."""
    best = spec("atx_best")
    pb = spec("post_best")
    identities = value_from_jsonable(inputs["identities"], pb.Slice(pb.BestIdentity, pb.MAX_IDENTITIES), "identities")
    post = inputs["initial_post"]
    challenge = best.nipost_challenge_v3(
        as_int(inputs["publish_epoch"]), hexbytes(inputs["positioning_atx"], 32), identities,
        [hexbytes(p, 32) for p in inputs["previous"]],
        None if post is None else value_from_jsonable(post, spec("atx").PostV1, "initial_post"),
    )
    return {"challenge": hexstr(spec("scale").encode(challenge, best.NIPostChallengeV3)),
            "hash": hexstr(best.challenge_hash_v3(challenge))}


@handler("atx", "build", "v3", schema=Schema(
    page="atx-build-v3", summary="Build an ATX v3 from its parts (atx_best.md `build_atx_v3`) and sign it "
    "(`sign_atx_v3`): its bytes and ID.",
    spec=("atx_best.md#build_atx_v3", "atx_best.md#sign_atx_v3"),
    inputs=(inp("publish_epoch", "uint:32", "the publish epoch"), inp("positioning_atx", "hex:32", "the positioning ATX"),
            inp("coinbase", "hex:24", "the coinbase"),
            inp("previous_atxs", "list<hex:32>", "the distinct previous ATXs"),
            inp("members", "json", "the MemberV3 list as value JSON [{marriage_index, prev_atx_index, num_units}]"),
            inp("identities", "list<{BestIdentity}>", "the set (its root goes into the NiPoST)"),
            inp("poet_ref", "hex:32", "the PoET proof's reference"),
            inp("membership_nodes", "list<hex:32>", "the Merkle path of the challenge in the PoET proof"),
            inp("leaf_index", "uint:64", "the challenge's leaf index"),
            inp("proof", "json", "the best-labels proof as BestProof value JSON {kth_score, groups}"),
            inp("vrf_nonce", "uint:64", "the VRF nonce"), inp("smesher_id", "hex:32", "the signer's node ID"),
            inp("initial", "json|null", "null, or InitialAtxPartsV2 value JSON {commitment_atx, post}", default=None),
            inp("marriages", "json", "MarriageCertificate value JSON list", default=[]),
            inp("marriage_atx", "hex:32|null", "the marriage ATX of a merged ATX", default=None),
            inp("seed", "hex:32", "the signer's Ed25519 secret seed (its public key is `smesher_id`)"),
            inp("genesis_id", "hex:20", "the genesis ID signed over"),
            inp("scheme", "enum:a,b", "the ID scheme of the signed ID")),
    outputs=(out("blob", "hex", "the signed ATX v3's encoding"), out("id", "hex:32", "its ID under `scheme`")),
    raises=(raises("InvalidValue", ("out_of_range", "length_over_max", "wrong_length"),
                   "a value that does not fit its field"),),
    records=(BEST_IDENTITY,)))
def build_v3(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """inputs: the parts of build_atx_v3, seed, genesis_id, scheme. output: blob, id."""
    atx = spec("atx")
    best = spec("atx_best")
    pb = spec("post_best")
    scale = spec("scale")
    identities = value_from_jsonable(inputs["identities"], pb.Slice(pb.BestIdentity, pb.MAX_IDENTITIES), "identities")
    members = value_from_jsonable(inputs["members"], scale.Slice(best.MemberV3, best.MAX_MEMBERS), "members")
    marriages = value_from_jsonable(inputs["marriages"], scale.Slice(atx.MarriageCertificate, atx.MAX_MARRIAGES),
                                    "marriages")
    initial = inputs["initial"]
    marriage_atx = inputs["marriage_atx"]
    value = best.build_atx_v3(
        as_int(inputs["publish_epoch"]), hexbytes(inputs["positioning_atx"], 32), hexbytes(inputs["coinbase"], 24),
        [hexbytes(p, 32) for p in inputs["previous_atxs"]], members, identities, hexbytes(inputs["poet_ref"], 32),
        [hexbytes(n, 32) for n in inputs["membership_nodes"]], as_int(inputs["leaf_index"]),
        value_from_jsonable(inputs["proof"], pb.BestProof, "proof"), as_int(inputs["vrf_nonce"]),
        hexbytes(inputs["smesher_id"], 32),
        initial=None if initial is None else value_from_jsonable(initial, atx.InitialAtxPartsV2, "initial"),
        marriages=marriages, marriage_atx=None if marriage_atx is None else hexbytes(marriage_atx, 32),
    )
    scheme = atx.IdScheme(inputs["scheme"])
    signed = best.sign_atx_v3(value, hexbytes(inputs["seed"], 32), hexbytes(inputs["genesis_id"], 20), scheme)
    return {"blob": hexstr(best.encode_atx_v3(signed)), "id": hexstr(best.atx_id_v3(signed, scheme))}
