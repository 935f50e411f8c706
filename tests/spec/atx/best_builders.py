"""Builders of ATX v3 scenarios (spec/atx_best.md) for the tests and vectors, tiny preset.

A ``BestWorld`` is the v2 test ``World`` (builders.py) that can also publish v3 ATXs. Every v3
ATX carries a real best-labels proof over real scrypt labels (the tiny preset: N = 16, 128 labels
per unit), so validation checks it exactly as a node would. The label *data* is computed with the
impl's vectorized scrypt (``smspec.impl.post.compute_labels``, proven equal to the spec's by
tests/differential); the verifier recomputes the labels it checks with the spec's.
"""

from __future__ import annotations

import functools
from typing import Any

import attrs
from smspec.impl.post import compute_labels
from smspec.impl.post_best import make_prover, score_chunk
from smspec.spec import load
from smspec.tests.spec.atx.builders import (
    BIG_NONCE,
    COINBASE,
    EMPTY,
    GOLDEN,
    World,
    atx,
    crypto,
    seed,
)
from smspec.tests.spec.atx.builders import node_id as uncached_node_id

PRESET = "tiny"
best = load("atx_best", PRESET)
pb = load("post_best", PRESET)
post = load("post", PRESET)
scale = load("scale", PRESET)
V3_FROM = 3  # epochs >= 3 are v3 in the BestWorld's configuration
PROVE = make_prover(pb, score_chunk)
node_id = functools.cache(uncached_node_id)  # a public key costs a pure-Python scalar multiplication


@functools.cache
def labels(name: str, commitment_atx: bytes, count: int) -> bytes:
    """The stored labels 0 .. count - 1 of identity `name` initialized with `commitment_atx`."""
    commitment = post.compute_commitment(node_id(name), commitment_atx)
    outputs = compute_labels(commitment, 0, count, post.SCRYPT_N)
    return b"".join(post.stored_label(outputs[i * 32:(i + 1) * 32]) for i in range(count))


@attrs.define
class BestMember:
    """One identity in a v3 ATX: its name, marriage index, previous ATX and declared units."""

    name: str
    marriage_index: int
    prev: bytes
    num_units: int
    commitment: bytes = GOLDEN
    kept: float = 1.0  # the fraction of its labels the prover holds


def identity(member: BestMember) -> Any:
    return pb.BestIdentity(node_id(member.name), member.commitment, member.num_units)


def chunks(members: list[BestMember]) -> list:
    out = []
    for position, member in enumerate(members):
        count = member.num_units * pb.LABELS_PER_UNIT
        data = labels(member.name, member.commitment, count)
        held = int(count * member.kept)
        out.append(pb.LabelChunk(identity=position, first_index=0, data=data[: held * 16]))
    return out


class BestWorld(World):
    """A node's view in which epochs from ``V3_FROM`` on are ATX v3."""

    def __init__(self, scheme: Any = None, current_epoch: int = 30) -> None:
        super().__init__(scheme, current_epoch)
        self.config = attrs.evolve(self.config, atx_versions=((0, 2), (V3_FROM, best.ATX_V3)))
        self.best_verifier = best.SpecBestVerifier()
        self.salt = 0

    def poet_v3(self, challenge: bytes, leaf_index: int, leaf_count: int) -> tuple[bytes, list]:
        """A PoET proof holding `challenge` at `leaf_index` (and a fresh filler: every call is a new round)."""
        self.salt += 1
        round_tag = self.salt.to_bytes(8, "little")
        leaves = [crypto.hash32(b"other member", round_tag, bytes([i])) for i in range(leaf_index + 2)]
        leaves[leaf_index] = challenge
        root = crypto.merkle_root(leaves)
        ref = crypto.hash32(b"poet proof", root, leaf_count.to_bytes(8, "little"))
        self.store.add_poet_proof(atx.PoetProofInfo(ref, root, leaf_count))
        self.poets.append({"ref": ref, "membership_root": root, "leaf_count": leaf_count})
        return ref, crypto.merkle_proof(leaves, [leaf_index])

    def v3(
        self,
        signer: str,
        epoch: int,
        members: list[BestMember],
        positioning: bytes,
        marriage_atx: bytes | None = None,
        leaf_count: int = 1000,
        leaf_index: int = 0,
        vrf_nonce: int = BIG_NONCE,
        marriages: list | None = None,
        initial_post: Any = None,
        previous_atxs: list | None = None,
        registered: list | None = None,
        signed: bool = True,
    ) -> Any:
        """A signed v3 ATX of `members` (initial when `initial_post` is given) with an honest proof.

        `registered` (BestIdentity list) replaces the set the PoET registration commits to."""
        identities = [identity(m) for m in members]
        if initial_post is not None:
            previous_atxs = []
            previous = [EMPTY] * len(members)
            initial = self.initial_parts(members[0].commitment, initial_post)
        else:
            if previous_atxs is None:
                previous_atxs = []
                for member in members:
                    if member.prev not in previous_atxs:
                        previous_atxs.append(member.prev)
            previous = [m.prev for m in members]
            initial = None
        challenge = best.nipost_challenge_v3(epoch, positioning, registered or identities, previous, initial_post)
        ref, nodes = self.poet_v3(best.challenge_hash_v3(challenge), leaf_index, leaf_count)
        proof = PROVE(identities, chunks(members), ref, pb.POST_BEST_K)
        entries = [
            best.MemberV3(m.marriage_index, 0 if initial else previous_atxs.index(m.prev), m.num_units) for m in members
        ]
        value = best.build_atx_v3(
            epoch, positioning, COINBASE, previous_atxs, entries, identities, ref, nodes, leaf_index, proof,
            vrf_nonce, node_id(signer), initial=initial, marriages=marriages, marriage_atx=marriage_atx,
        )
        return self.sign_v3(value, signer) if signed else value

    def initial_parts(self, commitment: bytes, initial_post: Any) -> Any:
        return atx.InitialAtxPartsV2(commitment, initial_post)

    def sign_v3(self, value: Any, name: str) -> Any:
        value = attrs.evolve(value, smesher_id=node_id(name))
        return best.sign_atx_v3(value, seed(name), self.config.genesis_id, self.scheme)

    def atx_id_v3(self, value: Any) -> bytes:
        return best.atx_id_v3(value, self.scheme)

    def blob_v3(self, value: Any) -> bytes:
        return best.encode_atx_v3(value)

    def submit_v3(self, value: Any) -> tuple[Any, Any]:
        """Process a v3 ATX that must be accepted; it joins the history."""
        blob = self.blob_v3(value)
        stored, finding = best.handle_atx_v3(blob, self.store, self.config, self.verifier, self.best_verifier)
        self.history.append({"v3": blob})
        return stored, finding

    def inputs_v3(self, value: Any | bytes) -> dict[str, Any]:
        return self.inputs(value if isinstance(value, bytes) else self.blob_v3(value))


def solo_history(world: BestWorld, names: list[str], units: int = 1, epoch: int = 1) -> dict[str, bytes]:
    """Initial v2 ATXs of `names` in `epoch`: their IDs (the previous ATXs of their first v3 ATXs)."""
    ids = {}
    for index, name in enumerate(names):
        # Distinct VRF nonces keep the initial ATXs apart: under ID scheme A their sub-posts do not
        # enter the ID, so identical ATXs of different smeshers would share it.
        value = world.initial(name, epoch, num_units=units, leaf_index=index, vrf_nonce=BIG_NONCE + len(world.history))
        world.submit(value)
        ids[name] = world.atx_id(value)
    return ids


def married_set(world: BestWorld, names: list[str], units: int = 1) -> dict[str, Any]:
    """`names` publish initial v2 ATXs in epoch 1; in epoch 2 the first marries them all (its
    marriage ATX) and the others publish solo v2 ATXs. Merged v3 ATXs may follow from epoch 4."""
    initial = solo_history(world, names, units)
    certificates = [world.certificate(names[0], names[0], EMPTY)]
    for name in names[1:]:
        certificates.append(world.certificate(name, names[0], initial[name]))
    wedding = world.solo(names[0], 2, initial[names[0]], num_units=units, marriages=certificates)
    world.submit(wedding)
    latest = {names[0]: world.atx_id(wedding)}
    for index, name in enumerate(names[1:], start=1):
        value = world.solo(name, 2, initial[name], num_units=units, leaf_index=index)
        world.submit(value)
        latest[name] = world.atx_id(value)
    return {"marriage": world.atx_id(wedding), "latest": latest, "initial": initial}
