"""Builders of ATX v2 scenarios for the ATX spec tests and vectors.

Everything is deterministic: keys are derived from names, PoET trees from their challenges.
A ``World`` holds a node's state (config, store, replayable history) and signs, submits and
describes ATXs as vector inputs.
"""

from __future__ import annotations

from typing import Any

import attrs
from smspec.conformance.handlers.atx import StubPostVerifier, config_json
from smspec.spec import load

atx = load("atx", "mainnet")
mal = load("malfeasance", "mainnet")
crypto = load("crypto", "mainnet")
scale = load("scale", "mainnet")

GENESIS_ID = crypto.hash32(b"smspec atx tests: genesis")[:20]
GOLDEN = crypto.hash32(b"smspec atx tests: golden atx")
TICK_SIZE = 100
EMPTY = bytes(32)
BIG_NONCE = 2**40
COINBASE = bytes(range(24))


def seed(name: str) -> bytes:
    return crypto.hash32(b"smspec atx tests: key", name.encode())


def node_id(name: str) -> bytes:
    return crypto.public_key(seed(name))


def good_post(tag: int = 0) -> Any:
    """A PoST the stub verifier accepts."""
    return atx.PostV1(nonce=tag, indices=bytes([1, 2, 3, 4]), pow=1000 + tag)


def bad_post(tag: int = 0) -> Any:
    """A PoST the stub verifier rejects: position 2 fails, the others pass."""
    return atx.PostV1(nonce=tag, indices=bytes([1, 2, 0xFF, 4]), pow=1000 + tag)


@attrs.define
class Member:
    """One identity in a merged ATX."""

    name: str
    marriage_index: int
    prev: bytes
    num_units: int
    post: Any = None
    nipost: int = 0
    leaf_index: int | None = None


class World:
    """A node's view: config, store, PoET proofs and the ATXs submitted so far."""

    def __init__(self, scheme: Any = None, current_epoch: int = 30, tick_size: int = TICK_SIZE) -> None:
        self.config = atx.AtxConfig(
            genesis_id=GENESIS_ID,
            golden_atx=GOLDEN,
            current_epoch=current_epoch,
            tick_size=tick_size,
            id_scheme=scheme or atx.IdScheme.A,
        )
        self.store = atx.MemoryAtxStore()
        self.verifier = StubPostVerifier()
        self.history: list[dict[str, Any]] = []
        self.poets: list[dict[str, Any]] = []

    @property
    def scheme(self) -> Any:
        return self.config.id_scheme

    # PoET

    def poet(self, challenges: dict[int, bytes], leaf_count: int) -> tuple[bytes, list]:
        """Register a PoET proof whose tree holds `challenges` at their leaf indices."""
        width = max(challenges) + 2
        leaves = [challenges.get(i, crypto.hash32(b"other member", bytes([i % 256]), bytes([i // 256]))) for i in range(width)]
        root = crypto.merkle_root(leaves)
        nodes = crypto.merkle_proof(leaves, sorted(challenges))
        ref = crypto.hash32(b"poet proof", root, leaf_count.to_bytes(8, "little"))
        info = atx.PoetProofInfo(ref, root, leaf_count)
        self.store.add_poet_proof(info)
        self.poets.append({"ref": ref, "membership_root": root, "leaf_count": leaf_count})
        return ref, nodes

    # Signing

    def sign(self, value: Any, name: str) -> Any:
        value = attrs.evolve(value, smesher_id=node_id(name), signature=bytes(64))
        atx_id = atx.atx_id_v2(value, self.scheme)
        signature = crypto.sign(seed(name), crypto.Domain.ATX, GENESIS_ID, atx_id)
        return attrs.evolve(value, signature=signature)

    def certificate(self, signer: str, smesher: str, reference: bytes) -> Any:
        signature = crypto.sign(seed(signer), crypto.Domain.MARRIAGE, GENESIS_ID, node_id(smesher))
        return atx.MarriageCertificate(reference, signature)

    def atx_id(self, value: Any) -> bytes:
        return atx.atx_id_v2(value, self.scheme)

    # ATX constructors

    def initial(
        self,
        name: str,
        epoch: int,
        num_units: int = 4,
        leaf_count: int = 1000,
        positioning: bytes | None = None,
        commitment: bytes | None = None,
        marriages: list | None = None,
        vrf_nonce: int = BIG_NONCE,
        post: Any = None,
        leaf_index: int = 1,
        initial_post: Any = None,
    ) -> Any:
        positioning = GOLDEN if positioning is None else positioning
        commitment = GOLDEN if commitment is None else commitment
        initial_post = initial_post or good_post(7)
        challenge = atx.challenge_hash_v2(atx.NIPostChallengeV2(epoch, EMPTY, positioning, initial_post))
        ref, nodes = self.poet({leaf_index: challenge}, leaf_count)
        sub = atx.SubPostV2(0, 0, leaf_index, post or good_post(1), num_units)
        value = atx.ActivationTxV2(
            publish_epoch=epoch,
            positioning_atx=positioning,
            coinbase=COINBASE,
            initial=atx.InitialAtxPartsV2(commitment, initial_post),
            previous_atxs=[],
            niposts=[atx.NiPostV2(atx.MerkleProofV2(nodes), ref, [sub])],
            vrf_nonce=vrf_nonce,
            marriages=marriages or [],
            marriage_atx=None,
            smesher_id=EMPTY,
            signature=bytes(64),
        )
        return self.sign(value, name)

    def solo(
        self,
        name: str,
        epoch: int,
        prev: bytes,
        num_units: int = 4,
        leaf_count: int = 1000,
        positioning: bytes | None = None,
        marriages: list | None = None,
        vrf_nonce: int = BIG_NONCE,
        post: Any = None,
        leaf_index: int = 0,
        coinbase: bytes = COINBASE,
    ) -> Any:
        positioning = prev if positioning is None else positioning
        challenge = atx.challenge_hash_v2(atx.NIPostChallengeV2(epoch, prev, positioning, None))
        ref, nodes = self.poet({leaf_index: challenge}, leaf_count)
        sub = atx.SubPostV2(0, 0, leaf_index, post or good_post(2), num_units)
        value = atx.ActivationTxV2(
            publish_epoch=epoch,
            positioning_atx=positioning,
            coinbase=coinbase,
            initial=None,
            previous_atxs=[prev],
            niposts=[atx.NiPostV2(atx.MerkleProofV2(nodes), ref, [sub])],
            vrf_nonce=vrf_nonce,
            marriages=marriages or [],
            marriage_atx=None,
            smesher_id=EMPTY,
            signature=bytes(64),
        )
        return self.sign(value, name)

    def merged(
        self,
        signer: str,
        epoch: int,
        marriage_atx: bytes,
        members: list[Member],
        positioning: bytes,
        leaf_counts: tuple = (1000,),
        vrf_nonce: int = BIG_NONCE,
        previous_atxs: list | None = None,
    ) -> Any:
        """A merged ATX: each member's sub-post goes into NiPost `member.nipost`."""
        if previous_atxs is None:
            previous_atxs = []
            for member in members:
                if member.prev not in previous_atxs:
                    previous_atxs.append(member.prev)
        niposts = []
        for index, leaf_count in enumerate(leaf_counts):
            challenges: dict[int, bytes] = {}
            subs = []
            for position, member in enumerate(m for m in members if m.nipost == index):
                leaf = position if member.leaf_index is None else member.leaf_index
                challenge = atx.challenge_hash_v2(atx.NIPostChallengeV2(epoch, member.prev, positioning, None))
                challenges.setdefault(leaf, challenge)
                subs.append(
                    atx.SubPostV2(
                        member.marriage_index,
                        previous_atxs.index(member.prev),
                        leaf,
                        member.post or good_post(10 + member.marriage_index),
                        member.num_units,
                    )
                )
            ref, nodes = self.poet(challenges, leaf_count)
            niposts.append(atx.NiPostV2(atx.MerkleProofV2(nodes), ref, subs))
        value = atx.ActivationTxV2(
            publish_epoch=epoch,
            positioning_atx=positioning,
            coinbase=COINBASE,
            initial=None,
            previous_atxs=previous_atxs,
            niposts=niposts,
            vrf_nonce=vrf_nonce,
            marriages=[],
            marriage_atx=marriage_atx,
            smesher_id=EMPTY,
            signature=bytes(64),
        )
        return self.sign(value, signer)

    # Submitting and describing

    def blob(self, value: Any) -> bytes:
        return scale.encode(value, atx.ActivationTxV2)

    def submit(self, value: Any) -> tuple[Any, Any]:
        """Process an ATX that must be accepted; it joins the history."""
        blob = self.blob(value)
        stored, finding = mal.handle_atx_v2(blob, self.store, self.config, self.verifier)
        self.history.append({"v2": blob})
        return stored, finding

    def v1(self, name: str, epoch: int, prev: bytes, sequence: int, num_units: int = 5) -> Any:
        """A signed ATX v1 of `name` (initial when `prev` is the empty ID)."""
        initial = prev == EMPTY
        challenge = atx.NIPostChallengeV1(
            epoch, sequence, prev, GOLDEN if initial else prev, GOLDEN if initial else None,
            good_post(3) if initial else None,
        )
        nipost = atx.NIPostV1(atx.MerkleProofV1([], 0), good_post(4), atx.PostMetadataV1(bytes(32), 1024))
        inner = atx.InnerActivationTxV1(challenge, COINBASE, num_units, nipost, node_id(name) if initial else None,
                                        BIG_NONCE if initial else None)
        unsigned = atx.ActivationTxV1(inner, node_id(name), bytes(64))
        signature = crypto.sign(seed(name), crypto.Domain.ATX, GENESIS_ID, atx.signed_bytes_v1(unsigned))
        return attrs.evolve(unsigned, signature=signature)

    def submit_v1(self, value: Any, base_tick_height: int, tick_count: int) -> bytes:
        """Store a v1 ATX validated elsewhere; returns its ID."""
        blob = scale.encode(value, atx.ActivationTxV1)
        self.store.add_atx(atx.stored_atx_v1(value, blob, base_tick_height, tick_count))
        self.history.append({"v1": blob, "base_tick_height": base_tick_height, "tick_count": tick_count})
        return atx.atx_id_v1(value)

    def inputs(self, value: Any | bytes) -> dict[str, Any]:
        """Vector inputs for processing `value` (an ATX or raw bytes) on top of the history."""
        blob = value if isinstance(value, bytes) else self.blob(value)
        return {
            "config": config_json(self.config),
            "poet_proofs": list(self.poets),
            "history": list(self.history),
            "verifier": "stub",
            "blob": blob,
        }


def married_pair(world: World, epoch: int = 1, alice_units: int = 4, bob_units: int = 3) -> dict[str, Any]:
    """alice and bob publish initial ATXs in `epoch`; in `epoch + 1` alice marries bob in a solo
    ATX and bob publishes a solo ATX.

    Returns the ATX IDs: alice_initial, bob_initial, marriage (alice's marriage ATX), bob_solo."""
    alice0 = world.initial("alice", epoch, num_units=alice_units, leaf_index=1)
    world.submit(alice0)
    bob0 = world.initial("bob", epoch, num_units=bob_units, leaf_index=2)
    world.submit(bob0)
    alice_id, bob_id = world.atx_id(alice0), world.atx_id(bob0)
    marriages = [world.certificate("alice", "alice", EMPTY), world.certificate("bob", "alice", bob_id)]
    wedding = world.solo("alice", epoch + 1, alice_id, num_units=alice_units, marriages=marriages)
    world.submit(wedding)
    # bob keeps publishing solo ATXs
    bob1 = world.solo("bob", epoch + 1, bob_id, num_units=bob_units, leaf_index=1)
    world.submit(bob1)
    return {
        "alice_initial": alice_id,
        "bob_initial": bob_id,
        "marriage": world.atx_id(wedding),
        "bob_solo": world.atx_id(bob1),
    }


def married_group(world: World, size: int, epoch: int = 1) -> dict[str, Any]:
    """`size` identities m0..m{size-1} publish initial ATXs in `epoch`; in `epoch + 1` m0 marries all
    of them and the others publish solo ATXs. Returns names, their latest ATX IDs and the marriage ATX."""
    names = [f"m{i}" for i in range(size)]
    initial_ids = {}
    for i, name in enumerate(names):
        value = world.initial(name, epoch, num_units=4, leaf_index=i)
        world.submit(value)
        initial_ids[name] = world.atx_id(value)
    certificates = [world.certificate(names[0], names[0], EMPTY)]
    for name in names[1:]:
        certificates.append(world.certificate(name, names[0], initial_ids[name]))
    wedding = world.solo(names[0], epoch + 1, initial_ids[names[0]], marriages=certificates)
    world.submit(wedding)
    latest = {names[0]: world.atx_id(wedding)}
    for i, name in enumerate(names[1:], start=1):
        value = world.solo(name, epoch + 1, initial_ids[name], leaf_index=i)
        world.submit(value)
        latest[name] = world.atx_id(value)
    return {"names": names, "latest": latest, "marriage": world.atx_id(wedding), "wedding": wedding}
