"""The embedded PoET service (rule "poet"): one round per publish epoch, persisted in SQLite.

Identities register their NIPoST challenge hashes; closing a round sorts the challenges into the
leaves of a Merkle tree (crypto.md), whose root is the statement; the sequential work is
``POET_LEAVES`` chained BLAKE3 hashes over it, and ``leaf_count // TICK_SIZE`` its ticks. Each
member gets a membership proof for its leaves. The proof is gossiped as a ``PoetProof``; every
node recomputes the work before it accepts it.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from smspec.tools.node import protocol as p

SCHEMA = """
CREATE TABLE IF NOT EXISTS members (epoch INTEGER, challenge BLOB, PRIMARY KEY (epoch, challenge));
CREATE TABLE IF NOT EXISTS rounds (epoch INTEGER PRIMARY KEY, proof BLOB);
"""


class PoetService:
    def __init__(self, m: Any, path: str, leaf_count: int = p.POET_LEAVES) -> None:
        self.m = m
        self.leaf_count = leaf_count
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)

    def register(self, epoch: int, challenge: bytes) -> bool:
        """Register a challenge for the round of `epoch`; False once the round is closed."""
        if self.proof(epoch) is not None:
            return self.leaves(epoch).count(challenge) > 0
        with self.db:
            self.db.execute("INSERT OR IGNORE INTO members VALUES (?, ?)", (epoch, challenge))
        return True

    def leaves(self, epoch: int) -> list[bytes]:
        rows = self.db.execute("SELECT challenge FROM members WHERE epoch = ? ORDER BY challenge", (epoch,))
        return [row[0] for row in rows]

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
        with self.db:
            self.db.execute("INSERT OR IGNORE INTO rounds VALUES (?, ?)", (epoch, data))
        return data

    def proof(self, epoch: int) -> bytes | None:
        row = self.db.execute("SELECT proof FROM rounds WHERE epoch = ?", (epoch,)).fetchone()
        return None if row is None else row[0]

    def membership(self, epoch: int, challenges: list[bytes]) -> tuple[list[int], list[bytes]] | None:
        """(leaf index of each challenge, proof nodes of their sorted indices), None if one is missing."""
        leaves = self.leaves(epoch)
        indices = []
        for challenge in challenges:
            if challenge not in leaves:
                return None
            indices.append(leaves.index(challenge))
        return indices, self.m.crypto.merkle_proof(leaves, sorted(set(indices)))

    def close_db(self) -> None:
        self.db.close()
