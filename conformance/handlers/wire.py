"""The codec triad of every wire type (the SCALE analogue of consensus-specs' ``ssz_static``).

For each wire type ``T`` a handler ``<domain>/wire/<type>``: given ``value`` (the value's JSON,
field by field as its spec document declares the struct) it answers the SCALE ``encoded`` bytes
and the type's IDs / hashes; given ``encoded`` it answers the decoded ``value`` and the same IDs,
or the error go-spacemesh's decoder gives. The value's JSON layout is on the type's format page,
generated from the struct declarations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from smspec.conformance.handlers import handler, hexbytes, hexstr
from smspec.conformance.jsonio import value_from_jsonable, value_to_jsonable
from smspec.conformance.schema import Record, Schema, inp, out, raises
from smspec.conformance.specrefs import anchor_of

SCALE_DECODE = raises("InvalidEncoding", ("short_input", "trailing_bytes", "non_canonical_compact", "compact_overflow",
                                          "length_over_max", "nested_too_deep"), "bytes go-scale rejects")
SCALE_ENCODE = raises("InvalidValue", ("out_of_range", "length_over_max", "wrong_length", "nested_too_deep"),
                      "a value that does not fit its fields")


@dataclass(frozen=True)
class WireType:
    domain: str
    name: str  # the handler name
    module: str  # the spec document defining the type
    type_name: str  # the struct class
    summary: str
    ids: tuple[tuple[str, str, Callable[[Any, Any], bytes]], ...] = ()  # (output, meaning, function(spec, value))

    @property
    def key(self) -> str:
        return f"{self.domain}/wire/{self.name}"


def _atx_v2_id(scheme: str) -> Callable[[Any, Any], bytes]:
    def compute(spec: Any, value: Any) -> bytes:
        atx = spec("atx")
        return atx.atx_id_v2(value, atx.IdScheme(scheme))
    return compute


def _atx_v3_id(scheme: str) -> Callable[[Any, Any], bytes]:
    def compute(spec: Any, value: Any) -> bytes:
        return spec("atx_best").atx_id_v3(value, spec("atx").IdScheme(scheme))
    return compute


WIRE_TYPES: tuple[WireType, ...] = (
    WireType("atx", "activation_tx_v1", "atx", "ActivationTxV1", "An ATX v1 (go-spacemesh `wire.ActivationTxV1`).",
             (("id", "blake3 of the SCALE inner ATX (atx.md#atx_id_v1-signed_bytes_v1)",
               lambda spec, v: spec("atx").atx_id_v1(v)),
              ("signed_bytes", "what the smesher signs", lambda spec, v: spec("atx").signed_bytes_v1(v)),
              ("signing_domain", "the domain byte of ATX signatures (crypto.md#domain)",
               lambda spec, v: bytes([spec("atx").atx_signing_domain()])))),
    WireType("atx", "activation_tx_v2", "atx", "ActivationTxV2", "An ATX v2 (go-spacemesh `wire.ActivationTxV2`).",
             (("id_a", "the ID under scheme A, go-spacemesh v1.7.6 (atx.md#atx_id_v2)", _atx_v2_id("a")),
              ("id_b", "the ID under scheme B, later go-spacemesh develop", _atx_v2_id("b")))),
    WireType("atx", "post_v1", "atx", "PostV1", "A PoST proof as ATXs carry it (nonce, packed indices, k2pow)."),
    WireType("atx", "marriage_certificate", "atx", "MarriageCertificate", "A marriage certificate of an ATX v2."),
    WireType("atx", "nipost_challenge_v2", "atx", "NIPostChallengeV2",
             "The NiPoST challenge of an ATX v2 (what is registered with PoET).",
             (("hash", "the PoET membership leaf: blake3(00 ‖ encoding) (atx.md#challenge_hash_v1-challenge_hash_v2)",
               lambda spec, v: spec("atx").challenge_hash_v2(v)),)),
    WireType("atx", "nipost_challenge_v1", "atx", "NIPostChallengeV1", "The NiPoST challenge of an ATX v1.",
             (("hash", "the PoET membership leaf: blake3(00 ‖ encoding) (atx.md#challenge_hash_v1-challenge_hash_v2)",
               lambda spec, v: spec("atx").challenge_hash_v1(v)),)),
    WireType("malfeasance", "atx_proof", "malfeasance", "ATXProof", "The envelope of an ATX malfeasance proof."),
    WireType("malfeasance", "proof_double_marry", "malfeasance", "ProofDoubleMarry",
             "A double-marriage proof (scheme B, later go-spacemesh develop)."),
    WireType("malfeasance", "proof_double_marry_a", "malfeasance", "ProofDoubleMarryA",
             "A double-marriage proof in go-spacemesh v1.7.6's format (scheme A)."),
    WireType("malfeasance", "proof_double_merge", "malfeasance", "ProofDoubleMerge", "A double-merge proof."),
    WireType("malfeasance", "proof_invalid_post", "malfeasance", "ProofInvalidPost", "An invalid-PoST proof."),
    WireType("malfeasance", "proof_invalid_prev_atx_v2", "malfeasance", "ProofInvalidPrevAtxV2",
             "An invalid-previous-ATX proof of two ATX v2."),
    WireType("malfeasance", "proof_invalid_prev_atx_v1", "malfeasance", "ProofInvalidPrevAtxV1",
             "An invalid-previous-ATX proof of an ATX v1 and an ATX v2."),
    WireType("hare", "message", "hare", "Message", "A Hare 3 message.",
             (("body_hash", "the message hash (hare.md#message_hash)", lambda spec, v: spec("hare").message_hash(v.body)),)),
    WireType("hare", "hare_proof", "hare", "HareProof", "A Hare equivocation proof."),
    WireType("hare", "malfeasance_proof", "hare", "MalfeasanceProof", "The stored wrapper of a Hare malfeasance proof."),
    WireType("hare4", "message4", "hare4", "Message4", "A Hare 4 message (compact proposal IDs).",
             (("body_hash", "the message hash", lambda spec, v: spec("hare").message_hash(v.body)),)),
    WireType("hare4", "compact_id_request", "hare4", "CompactIdRequest", "A full-exchange request."),
    WireType("hare4", "compact_id_response", "hare4", "CompactIdResponse", "A full-exchange response."),
    WireType("post_best", "best_proof", "post_best", "BestProof", "A best-labels PoST proof."),
    # ATX v3 (atx_best.md, smspec's proposal; tiny preset vectors)
    WireType("atx", "activation_tx_v3", "atx_best", "ActivationTxV3",
             "An ATX v3: a merged identity set's best-labels PoST (smspec's proposal).",
             (("id_a", "the ID under scheme A (atx_best.md#atx_id_v3)", _atx_v3_id("a")),
              ("id_b", "the ID under scheme B", _atx_v3_id("b")))),
    WireType("atx", "nipost_challenge_v3", "atx_best", "NIPostChallengeV3",
             "The NiPoST challenge of an ATX v3: one PoET registration for the whole identity set.",
             (("hash", "the PoET membership leaf: blake3(03 ‖ encoding) (atx_best.md#challenge_hash_v3)",
               lambda spec, v: spec("atx_best").challenge_hash_v3(v)),)),
    WireType("malfeasance", "proof_best_double_set", "atx_best", "ProofBestDoubleSet",
             "An identity-in-two-sets proof (atx_best.md, smspec's proposal)."),
    WireType("malfeasance", "proof_best_invalid_entry", "atx_best", "ProofBestInvalidEntry",
             "An invalid-entry proof against a best-labels PoST (atx_best.md, smspec's proposal)."),
    # The devnet's wire formats (node.md, rule wire-formats): the bodies of the node-service API's
    # publish, PoET and proposal resources
    WireType("node", "proposal", "node", "Proposal", "A signed proposal carrying its ballot (protocol `pp1`).",
             (("id", "the proposal (and ballot) ID: blake3 of the encoding without the signature, 20 bytes "
               "(node.md#proposal_id-block_id-tx_id-poet_ref)", lambda spec, v: spec("node").proposal_id(v)),)),
    WireType("node", "block", "node", "Block", "A layer's block: the Hare output's proposals, transactions and rewards.",
             (("id", "the block ID: blake3 of the encoding, 20 bytes", lambda spec, v: spec("node").block_id(v)),)),
    WireType("node", "certificate", "node", "Certificate", "A certificate: one identity's signature over a layer's "
             "block ID, with the block attached (protocol `cr1`)."),
    WireType("node", "poet_proof", "node", "PoetProof", "The devnet PoET's proof of one round (`POST /poet`).",
             (("ref", "the reference an ATX names it by", lambda spec, v: spec("node").poet_ref(v)),)),
    WireType("node", "tx", "node", "Tx", "A wallet transaction (protocol `tx1`).",
             (("id", "the transaction ID: blake3 of the encoding", lambda spec, v: spec("node").tx_id(v)),)),
    WireType("node", "double_proposal_proof", "node", "DoubleProposalProof",
             "A proof that one smesher published two proposals in one layer (protocol `mp1`)."),
)


def codec_type_text(codec: Any, scale: Any, records: dict[str, Record]) -> str:
    """The schema type of a SCALE codec's value JSON (records are added for struct classes)."""
    if isinstance(codec, scale.CompactCodec | scale.UintCodec):
        return f"uint:{codec.bits}"
    if isinstance(codec, scale.BoolCodec):
        return "bool"
    if isinstance(codec, scale.Bytes):
        return f"hex:{codec.size}"
    if isinstance(codec, scale.ByteSlice):
        return "hex"
    if isinstance(codec, scale.String):
        return "text"
    if isinstance(codec, scale.Slice | scale.Array):
        return f"list<{codec_type_text(codec.element, scale, records)}>"
    if isinstance(codec, scale.Option):
        return f"{codec_type_text(codec.element, scale, records)}|null"
    if scale.is_struct_class(codec):
        name = codec.__name__
        if name not in records:
            records[name] = None  # type: ignore[assignment]  # placeholder against recursion
            fields = tuple(inp(n, codec_type_text(c, scale, records), _layout(c, scale)) for n, c in
                           scale.struct_fields(codec))
            records[name] = Record(name, f"`{name}`: its fields in encoding order.", fields)
        return "{" + name + "}"
    raise TypeError(f"{codec!r} is not a SCALE codec")


def _layout(codec: Any, scale: Any) -> str:
    """The SCALE layout of a field, in words."""
    if isinstance(codec, scale.CompactCodec):
        return f"compact{codec.bits}"
    if isinstance(codec, scale.UintCodec):
        return f"uint{codec.bits} little-endian"
    if isinstance(codec, scale.BoolCodec):
        return "one byte"
    if isinstance(codec, scale.Bytes):
        return f"{codec.size} bytes"
    if isinstance(codec, scale.ByteSlice):
        return f"compact32 length (at most {codec.max_length}) + bytes"
    if isinstance(codec, scale.String):
        return f"compact32 length (at most {codec.max_length}) + UTF-8"
    if isinstance(codec, scale.Slice):
        return f"compact32 count (at most {codec.max_length}) + elements ({_layout(codec.element, scale)})"
    if isinstance(codec, scale.Array):
        return f"{codec.length} elements ({_layout(codec.element, scale)})"
    if isinstance(codec, scale.Option):
        return f"tag 00 / 01 + {_layout(codec.element, scale)}"
    return f"struct {codec.__name__}"


def wire_schema(wire: WireType) -> Schema:
    from smspec import spec

    module = spec.load(wire.module, "mainnet")
    scale = spec.load("scale", "mainnet")
    records: dict[str, Record] = {}
    value_type = codec_type_text(getattr(module, wire.type_name), scale, records)
    ids = tuple(out(name, "hex", meaning) for name, meaning, _ in wire.ids)
    return Schema(
        page=f"{wire.domain}-wire-{wire.name}",
        summary=f"{wire.summary} The codec triad: value JSON, SCALE bytes and, where the type has them, its IDs.",
        spec=(anchor_of(f"{wire.module}.md", wire.type_name), "scale.md#encode", "scale.md#decode-decode_prefix"),
        inputs=(inp("value", value_type, f"a {wire.type_name} to encode"), inp("encoded", "hex", "bytes to decode")),
        one_of=(("value", "encoded"),),
        outputs=(out("encoded", "hex", "the encoding (cases with `value`)", optional=True),
                 out("value", value_type, "the decoded value (cases with `encoded`)", optional=True), *ids),
        raises=(SCALE_DECODE, SCALE_ENCODE),
        records=tuple(records[name] for name in sorted(records)),
        notes=("Decoding follows go-spacemesh's `codec.Decode`: the whole input is one value; go-scale's "
               "leniencies hold (an option tag other than 01 reads as absent).",),
    )


def wire_handler(wire: WireType) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    def run(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
        scale = spec("scale")
        codec = getattr(spec(wire.module), wire.type_name)
        if "value" in inputs:
            value = value_from_jsonable(inputs["value"], codec, wire.type_name)
            result: dict[str, Any] = {"encoded": hexstr(scale.encode(value, codec))}
        else:
            value = scale.decode(hexbytes(inputs["encoded"]), codec)
            result = {"value": value_to_jsonable(value, codec)}
        for name, _, compute in wire.ids:
            result[name] = hexstr(compute(spec, value))
        return result

    run.__name__ = f"wire_{wire.name}"
    run.__doc__ = f"The codec triad of {wire.type_name} (schema: conformance/formats/handlers/{wire.domain}-wire-{wire.name}.md)."
    return run


for _wire in WIRE_TYPES:
    handler(_wire.domain, "wire", _wire.name, schema=wire_schema(_wire))(wire_handler(_wire))


PAYLOAD_SCHEMA = Schema(
    page="athena-wire-execution_payload",
    summary="Athena's ExecutionPayload (a transaction's input to a program): SCALE vec state, an optional 4-byte "
            "method selector, SCALE vec arguments, as parity-scale-codec writes and Athena reads them.",
    spec=("athena.md#encode_payload-encode_execution_payload-decode_execution_payload",
          "athena.md#encode_compact-decode_compact", "athena.md#method_selector"),
    inputs=(inp("value", "{ExecutionPayload}", "a payload to encode"), inp("encoded", "hex", "bytes to decode")),
    one_of=(("value", "encoded"),),
    outputs=(out("encoded", "hex", "the encoding (cases with `value`)", optional=True),
             out("value", "{ExecutionPayload}", "the decoded payload (cases with `encoded`)", optional=True)),
    raises=(raises("InvalidProgram", ("payload_truncated", "payload_compact", "payload_option"),
                   "bytes Athena cannot read as a payload (the call then fails)"),),
    records=(Record("ExecutionPayload", "A decoded payload.", (
        inp("state", "hex", "the account state"),
        inp("selector", "hex:4|null", "blake3(method name)[:4], or null for the entry point"),
        inp("args", "hex", "the arguments"))),),
    notes=("Trailing bytes after the arguments are ignored (parity-scale-codec's `Decode::decode`; a "
           "*Decision* of athena.md); compact lengths must be canonical and fit a u32.",),
)


@handler("athena", "wire", "execution_payload", schema=PAYLOAD_SCHEMA)
def execution_payload(inputs: dict[str, Any], spec: Any) -> dict[str, Any]:
    """The codec pair of Athena's ExecutionPayload."""
    athena = spec("athena")
    if "value" in inputs:
        value = inputs["value"]
        selector = None if value["selector"] is None else hexbytes(value["selector"], 4)
        return {"encoded": hexstr(athena.encode_execution_payload(hexbytes(value["state"]), selector,
                                                                  hexbytes(value["args"])))}
    state, selector, args = athena.decode_execution_payload(hexbytes(inputs["encoded"]))
    return {"value": {"state": hexstr(state), "selector": None if selector is None else hexstr(selector),
                      "args": hexstr(args)}}
