"""Which cases state live-network behaviour, which a stricter rule of the spec, and which a rule
only smspec's devnet has.

Every case file says ``"level": "live"``, ``"level": "spec-strict"`` (with ``"decision"``: the
spec section holding the *Decision* paragraph it follows) or ``"level": "devnet"`` (with
``"devnet_ref"``: the section saying the rule is smspec's own), and ``"typed_input": false``
(with ``"untyped_note"``) when its input cannot be written in a typed client's types (a value
outside its integer type, a fixed-size array of another size). The runner reports the groups
separately and ``--live`` runs only the live ones, so a client that follows the live network can
be 100 % green there.

*devnet* cases state rules no live network has: node.md's *Devnet rules* (the reference node's
proposals, certificates, blocks, eligibility), the reference node's HTTP API, the Athena host's
dispatch of calls between accounts that the devnet follows, and smspec's proposals that only the
devnet runs (post_best.md's best-labels PoST, atx_best.md's ATX v3). A client of the live network
has nothing to check there; a node that wants to join smspec's devnet passes them. The level
wins over the others (a devnet case is never also counted as spec-strict or untyped-input).

A case gets its level from ``Case(strict=..., untyped=...)`` or else from the tables below, all
in one reviewable place: a *spec-strict* entry names the Decision and why the live network
differs; a *devnet* entry names the section that makes the rule smspec's own; an *untyped* rule
names the inputs a typed client cannot hold. ``tests/unit/test_levels.py`` checks that every
entry still matches a case and that every decision anchor holds a *Decision* paragraph.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass


@dataclass(frozen=True)
class Strict:
    pattern: str  # fnmatch pattern over domain/runner/handler/case
    decision: str  # document.md#anchor of the section holding the Decision
    why: str  # what the live network does instead


@dataclass(frozen=True)
class Devnet:
    pattern: str  # fnmatch pattern over domain/runner/handler/case
    ref: str  # document.md#anchor of the section that makes the rule smspec's own
    why: str  # what the live network has instead (or that it has nothing)


@dataclass(frozen=True)
class Untyped:
    pattern: str
    reasons: tuple[str, ...]  # the case's expected error reason must be one of these ("" for any)
    why: str


STRICT: tuple[Strict, ...] = (
    Strict("scale/codec/string/decode_not_utf8", "scale.md#string",
           "go-scale accepts any bytes in a string field; the spec requires UTF-8"),
    Strict("hare/message/decode/round_8_rejected", "hare.md#validate_message",
           "go-spacemesh accepts rounds 8..255 and later panics"),
    Strict("hare/message/decode/duplicate_ids_rejected", "hare.md#validate_message",
           "go-spacemesh accepts repeated proposal IDs and counts each"),
    Strict("hare/grade/grade/preround_delay7_wraps_upstream", "hare.md#grade_since-upstream_grade_since",
           "go-spacemesh's uint8 grade wraps to 255; the spec's grade saturates at 0"),
    Strict("hare/grade/grade/preround_delay8", "hare.md#grade_since-upstream_grade_since",
           "go-spacemesh's uint8 grade wraps to 254; the spec's grade saturates at 0"),
    Strict("hare4/exchange/frames/over_response_limit", "hare4.md#response_frame",
           "go-spacemesh's server panics in codec.MustEncode; the spec refuses"),
    Strict("post/verify/proof/strict_*", "post.md#verify_proof",
           "the live verifier accepts indices beyond the data and repeated indices (strict: true)"),
    Strict("post/vrf_nonce/difficulty/clamped_tiny", "post.md#vrf_difficulty",
           "below 9 labels Go's FillBytes panics; the spec clamps"),
    Strict("athena/*/run/write_too_long", "athena.md#read_bytes",
           "Athena reads a buffer of any length; the spec bounds it"),
    Strict("athena/*/run/write_wraps_address_space", "athena.md#read_bytes",
           "Athena returns fewer bytes or panics on a buffer past 2^32 - 1"),
    Strict("athena/*/run/huge_write_is_refused", "athena.md#read_bytes",
           "Athena reads a buffer of any length; the spec bounds it"),
    Strict("athena/*/run/host_read_unaligned", "athena.md#write_words", "Athena panics on an unaligned pointer"),
    Strict("athena/*/run/get_balance_unaligned", "athena.md#write_words", "Athena panics on an unaligned pointer"),
    Strict("athena/*/run/call_unaligned_amount", "athena.md#write_words",
           "Athena stores words under unaligned keys no load reads"),
    Strict("athena/*/run/spawn_unaligned_output", "athena.md#write_words",
           "Athena stores words under unaligned keys no load reads"),
    Strict("athena/*/run/too_short", "athena.md#executable-formats", "Athena panics on fewer than four bytes"),
    Strict("athena/*/run/unknown_format", "athena.md#executable-formats", "Athena panics on an unknown magic"),
    Strict("athena/*/run/raw_length_not_word_multiple", "athena.md#executable-formats",
           "Athena panics on a raw file whose length is not a multiple of 4"),
    Strict("athena/*/run/export_record_truncated", "athena.md#read_exports",
           "Athena reads a trailing partial record beyond the section (undefined behaviour)"),
    Strict("athena/*/run/export_name_outside_file", "athena.md#read_exports",
           "Athena panics on a name pointer beyond the file bytes"),
    Strict("athena/*/run/unknown_syscall_fails", "athena.md#syscalls-the-host-abi",
           "Athena panics on an unknown syscall number"),
    Strict("athena/*/run/output_growth_capped", "athena.md#write", "Athena lets the output grow without bound"),
    Strict("athena/*/run/input_stream_growth_capped", "athena.md#write",
           "Athena lets the input stream grow without bound"),
    Strict("athena/*/run/ed25519_invalid_public_key", "athena.md#ed25519_verify-precompile",
           "Athena panics on a public key that does not decompress"),
    Strict("athena/*/call/gas_above_u32", "athena.md#call_program",
           "Athena's C ABI panics on a gas limit above 2^32 - 1"),
)

_NODE_RULE = "a rule of smspec's reference node (a *Devnet rule*); go-spacemesh has its own"
_BEST = ("smspec's proposal (post_best.md), not part of any Spacemesh network; only smspec's devnet publishes and "
         "validates it")
_ATX_V3 = "smspec's proposal: go-spacemesh has no ATX v3 (its ATX versions 1 and 2 carry threshold PoSTs)"

DEVNET: tuple[Devnet, ...] = (
    # The devnet's addresses are 24 bytes of BLAKE3: go-spacemesh's parser refuses an address
    # whose first 4 bytes are not zero. Encoding, the checksum and the other refusals are live.
    Devnet("node/address/decode/round_trip", "node.md#addresses",
           "go-spacemesh refuses an address whose reserved first 4 bytes are not zero"),
    Devnet("node/address/decode/upper_case", "node.md#addresses",
           "go-spacemesh refuses an address whose reserved first 4 bytes are not zero"),
    Devnet("node/eligibility/*", "node.md#proposal-eligibility", _NODE_RULE + " (proposals/util)"),
    Devnet("node/proposal/*", "node.md#proposal-validation", _NODE_RULE + " and its own proposal wire format"),
    Devnet("node/certificate/*", "node.md#certificates", _NODE_RULE + " (a certificate of many Hare signatures)"),
    Devnet("node/block/*", "node.md#blocks-and-rewards", _NODE_RULE + " (its own block layout and reward split)"),
    Devnet("node/randomness/*", "node.md#poet-beacon-and-weak-coin",
           "the devnet's beacon, weak coin and PoET stand in for protocols the live network runs"),
    Devnet("node/malfeasance/*", "node.md#proposal-validation", _NODE_RULE + " (its own ballot malfeasance proofs)"),
    Devnet("node/wire/*", "node.md#types", "the devnet's own wire formats, not go-spacemesh's byte layouts"),
    Devnet("node_api/*", "node.md#introduction",
           "the reference node's HTTP API (docs/node.md): go-spacemesh's API has other services and shapes"),
    Devnet("athena/wallet/transaction/*", "athena.md#calls-between-accounts-the-hosts-dispatch",
           "which code a call to an account runs is the host's choice, and upstream leaves it open; the devnet's host "
           "runs the recipient's template (and `receive` for a plain transfer)"),
    Devnet("post_best/*", "post_best.md#introduction", _BEST),
    Devnet("atx/codec/decode_v3/*", "atx_best.md#introduction", _ATX_V3),
    Devnet("atx/codec/encode_v3/*", "atx_best.md#introduction", _ATX_V3),
    Devnet("atx/id/v3/*", "atx_best.md#introduction", _ATX_V3),
    Devnet("atx/validate/v3/*", "atx_best.md#introduction", _ATX_V3),
    Devnet("atx/validate/any/*", "atx_best.md#introduction", _ATX_V3),
    Devnet("atx/build/*", "atx_best.md#introduction", _ATX_V3),
    Devnet("atx/weight/v3/*", "atx_best.md#introduction", _ATX_V3),
    Devnet("atx/malfeasance/detect_v3/*", "atx_best.md#introduction", _ATX_V3),
    Devnet("atx/malfeasance/invalid_entry/*", "atx_best.md#introduction", _ATX_V3),
    Devnet("atx/malfeasance/verify_v3/*", "atx_best.md#introduction", _ATX_V3),
    Devnet("atx/wire/*_v3/*", "atx_best.md#introduction", _ATX_V3),
    Devnet("malfeasance/wire/proof_best_*", "atx_best.md#introduction", _ATX_V3),
)

UNTYPED: tuple[Untyped, ...] = (
    Untyped("scale/codec/*/encode_*", ("out_of_range", "wrong_length", "wrong_type", "invalid_utf8"),
            "a value outside the Go type (an integer that does not fit, a fixed-size array of another size, JSON of "
            "another kind, a string with no UTF-8 form)"),
    Untyped("crypto/*", ("bad_length",),
            "a key, seed, signature or proof of the wrong size, or a negative length: Go uses fixed-size arrays and "
            "unsigned sizes there"),
    Untyped("post/commitment/blake3/*", ("wrong_length",), "an identifier that is not 32 bytes ([32]byte in Go)"),
    Untyped("post/labels/scrypt/*", ("out_of_range",), "a label index that is not a u64"),
    Untyped("post_best/proof/encoding/*", ("out_of_range",), "a score of 2^64: not a u64"),
    Untyped("post_best/estimator/weight/score_2_64", ("score_out_of_range",), "a score of 2^64: not a u64"),
    Untyped("post_best/verify/entry/position_negative", ("position_out_of_range",), "a negative position"),
)


@dataclass(frozen=True)
class Level:
    strict: Strict | None
    untyped: str  # why the input is not representable ("" when it is)
    devnet: Devnet | None = None

    def fields(self) -> dict[str, object]:
        """The case file's level fields."""
        out: dict[str, object] = {"level": "spec-strict" if self.strict else "live"}
        if self.devnet is not None:
            out = {"level": "devnet", "devnet_ref": self.devnet.ref, "devnet_note": self.devnet.why}
        elif self.strict is not None:
            out["decision"] = self.strict.decision
            out["decision_note"] = self.strict.why
        out["typed_input"] = not self.untyped
        if self.untyped:
            out["untyped_note"] = self.untyped
        return out


def matching_strict(name: str) -> Strict | None:
    for entry in STRICT:
        if fnmatch.fnmatchcase(name, entry.pattern):
            return entry
    return None


def matching_devnet(name: str) -> Devnet | None:
    for entry in DEVNET:
        if fnmatch.fnmatchcase(name, entry.pattern):
            return entry
    return None


def matching_untyped(name: str, reason: str | None) -> Untyped | None:
    for rule in UNTYPED:
        if fnmatch.fnmatchcase(name, rule.pattern) and (reason in rule.reasons or "" in rule.reasons):
            return rule
    return None


def level_of(name: str, reason: str | None, strict: str = "", strict_why: str = "", untyped: str = "") -> Level:
    """The level of case ``name`` (``domain/runner/handler/case``) whose expected error reason is
    ``reason``: the case's own tags first, then the tables."""
    entry = Strict(name, strict, strict_why or "see the Decision") if strict else matching_strict(name)
    rule = matching_untyped(name, reason)
    return Level(entry, untyped or (rule.why if rule else ""), matching_devnet(name))
