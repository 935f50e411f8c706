"""Shared fixtures of the best-labels PoST tests: identity sets, label data, honest proofs."""

from __future__ import annotations

import functools

import blake3
from smspec import spec

TINY = "tiny"


def module(preset: str = TINY):
    return spec.load("post_best", preset)


def post(preset: str = TINY):
    return spec.load("post", preset)


def pseudo_random(name: str, length: int) -> bytes:
    """Deterministic bytes named by `name` (BLAKE3 XOF); stands in for labels in math tests."""
    return blake3.blake3(b"smspec-test/post_best/" + name.encode()).digest(length=length)


def identity(pb, number: int, num_units: int = 1):
    return pb.BestIdentity(node_id=bytes([number]) * 32, commitment_atx_id=bytes([0xA0 + number]) * 32, num_units=num_units)


def identity_set(pb, count: int, num_units: int = 1, first: int = 1):
    return [identity(pb, first + n, num_units) for n in range(count)]


@functools.cache
def real_labels(preset: str, node_id: bytes, commitment_atx_id: bytes, count: int) -> bytes:
    """The stored labels 0 .. count - 1 of an identity, computed with post.md's scrypt."""
    p = post(preset)
    commitment = p.compute_commitment(node_id, commitment_atx_id)
    outputs = p.compute_labels(commitment, 0, count, p.SCRYPT_N)
    return b"".join(p.stored_label(outputs[i * 32:(i + 1) * 32]) for i in range(count))


def real_chunks(pb, identities, preset: str = TINY):
    """One chunk per identity holding all its declared labels (real scrypt labels)."""
    chunks = []
    for position, ident in enumerate(identities):
        count = pb.identity_num_labels(ident)
        data = real_labels(preset, ident.node_id, ident.commitment_atx_id, count)
        chunks.append(pb.LabelChunk(identity=position, first_index=0, data=data))
    return chunks


def random_chunks(pb, identities, name: str, fraction_kept: float = 1.0, chunk_labels: int = 32):
    """Chunks of pseudo-random labels covering each identity's declared size (or a prefix)."""
    chunks = []
    for position, ident in enumerate(identities):
        count = int(pb.identity_num_labels(ident) * fraction_kept)
        data = pseudo_random(f"{name}/{position}", count * 16)
        for start in range(0, count, chunk_labels):
            end = min(count, start + chunk_labels)
            chunks.append(pb.LabelChunk(identity=position, first_index=start, data=data[start * 16:end * 16]))
    return chunks


def all_scores(pb, identities, chunks, challenge: bytes):
    """Every (score, identity, index) of the chunks, by brute force: the selection's oracle."""
    root = pb.identity_set_root(identities)
    out = []
    for chunk in chunks:
        ident = identities[chunk.identity]
        key = pb.score_key(challenge, root, pb.compute_commitment(ident.node_id, ident.commitment_atx_id))
        for offset in range(len(chunk.data) // 16):
            label = chunk.data[offset * 16:(offset + 1) * 16]
            out.append((pb.label_score(key, label), chunk.identity, chunk.first_index + offset))
    return sorted(out)
