"""The embedded PoET service (rule "poet"): one round per publish epoch, persisted in SQLite.

Identities register their NIPoST challenge hashes; closing a round sorts the challenges into the
leaves of a Merkle tree (crypto.md), whose root is the statement; the sequential work is
``POET_LEAVES`` chained BLAKE3 hashes over it, and ``leaf_count // TICK_SIZE`` its ticks. Each
member gets a membership proof for its leaves. The proof is gossiped as a ``PoetProof``; every
node recomputes the work before it accepts it.
"""

from __future__ import annotations

from typing import Any

from smspec.tools.node import protocol as p
from smspec.tools.node.storage import PoetStore


class PoetService:
    def __init__(self, m: Any, path: str, leaf_count: int = p.POET_LEAVES) -> None:
        self.m = m
        self.leaf_count = leaf_count
        self.store = PoetStore(path)

    def register(self, epoch: int, challenge: bytes) -> bool:
        """Register a challenge for the round of `epoch`; False once the round is closed."""
        if self.proof(epoch) is not None:
            return self.leaves(epoch).count(challenge) > 0
        self.store.add_member(epoch, challenge)
        return True

    def leaves(self, epoch: int) -> list[bytes]:
        return self.store.members(epoch)

    def close(self, epoch: int) -> bytes | None:
        """Run the round's sequential work; the encoded `PoetProof` (None without members)."""
        existing = self.proof(epoch)
        if existing is not None:
            return existing
        leaves = self.leaves(epoch)
        if not leaves:
            return None
        statement = self.m.crypto.merkle_root(leaves)
        proof = p.PoetProof(epoch, statement, self.leaf_count, p.poet_work(statement, self.leaf_count))
        data = p.encode(proof, p.PoetProof)
        self.store.add_round(epoch, data)
        return data

    def proof(self, epoch: int) -> bytes | None:
        return self.store.round_proof(epoch)

    def close_db(self) -> None:
        self.store.close()
