"""Hare wire bytes written out by hand, as known answers for the message vectors.

Independent of spec/hare.md's codec: the layouts follow go-spacemesh's SCALE rules as the
research notes state them (hare.md research §2-3: compact integers, 1-byte option tags,
compact-prefixed slices), hashes are the ``blake3`` package and signatures PyNaCl's ed25519
(deterministic, RFC 8032). The worked example in test_messages.py pins one message of each.
"""

from __future__ import annotations

import blake3
import nacl.signing

HARE_DOMAIN = 3  # GS signing/signer.go: HARE
ROUNDS_PER_ITERATION = 7  # absolute round = 7 * iter + round (GS hare3 IterRound.Absolute)


def compact(value: int) -> bytes:
    """SCALE compact encoding of a non-negative integer."""
    if value < 1 << 6:
        return bytes([value << 2])
    if value < 1 << 14:
        return ((value << 2) | 1).to_bytes(2, "little")
    if value < 1 << 30:
        return ((value << 2) | 2).to_bytes(4, "little")
    size = (value.bit_length() + 7) // 8
    return bytes([((size - 4) << 2) | 3]) + value.to_bytes(size, "little")


def body(fields: dict) -> bytes:
    """Body: layer, iter, round, value (proposals, reference option[, hare4 compacts]), eligibility."""
    out = compact(fields["layer"]) + compact(fields["iter"]) + compact(fields["round"])
    out += compact(len(fields["proposals"])) + b"".join(fields["proposals"])
    out += b"\x00" if fields["reference"] is None else b"\x01" + fields["reference"]
    if "compact_proposals" in fields:
        out += compact(len(fields["compact_proposals"])) + b"".join(fields["compact_proposals"])
    return out + fields["proof"] + compact(fields["count"])


def body_hash(fields: dict) -> bytes:
    return blake3.blake3(body(fields)).digest()


def signed_bytes(fields: dict) -> bytes:
    """HareMetadata: layer, absolute round, message hash."""
    absolute = ROUNDS_PER_ITERATION * fields["iter"] + fields["round"]
    return compact(fields["layer"]) + compact(absolute) + body_hash(fields)


def message(fields: dict) -> bytes:
    return body(fields) + fields["sender"] + fields["signature"]


def public_key(secret: bytes) -> bytes:
    return bytes(nacl.signing.SigningKey(secret).verify_key)


def signature(secret: bytes, genesis_id: bytes, fields: dict) -> bytes:
    """ed25519 over genesis ID || domain byte || signed bytes."""
    signed = genesis_id + bytes([HARE_DOMAIN]) + signed_bytes(fields)
    return nacl.signing.SigningKey(secret).sign(signed).signature


def vrf_message(beacon: bytes, layer: int, absolute_round: int) -> bytes:
    """VrfMessage: eligibility type 2 (Hare), beacon, round, layer."""
    return compact(2) + beacon + compact(absolute_round) + compact(layer)
