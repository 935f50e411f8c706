"""The smeshing service: identity keys, PoST data and proofs, PoET registration, eligibility,
and every message an identity signs (ATXs, proposals, Hare messages, certificates).

A :class:`Smesher` holds the keys of its identities (``KEYS_DIR/<name>.key``, mode 0600) and
their PoST data (``POST_DIR/<name>/``, as ``smspec post init`` makes it). It reads the public view
of one or more nodes through a :class:`NodeClient` (in-process, or the node-service HTTP API of
``tools/node/api.py``) and publishes through the first node that answers: a node that is down
costs it nothing but a retry on the next one. Every message it signs is kept in its own
database (``KEYS_DIR/smesher.sqlite``) before it is published, and published again, never
signed anew, when it is asked for the same slot: a restarted service cannot equivocate. Per
identity it records a state history like go-spacemesh's ``IdentityState``.
"""

from __future__ import annotations

import os
import time
from typing import Any, Protocol

import attrs
from smspec.tools.node import keys as key_files
from smspec.tools.node import protocol as p
from smspec.tools.node import wallet as w
from smspec.tools.node.storage import SmesherStore

# go-spacemesh's IdentityState names (spacemeshos/api v2alpha1 smeshing_identities.proto)
STATES = ("WAIT_FOR_ATX_SYNCED", "RETRYING", "WAITING_FOR_POET_REGISTRATION_WINDOW", "POET_CHALLENGE_READY",
          "POET_REGISTERED", "WAIT_FOR_POET_ROUND_END", "POET_PROOF_RECEIVED", "GENERATING_POST_PROOF",
          "POST_PROOF_READY", "ATX_READY", "ATX_BROADCASTED", "PROPOSAL_PUBLISHED")

# the rest of the active set in a two-entry ActiveSet (hare.md `own_eligibility` reads only the
# identity's weight and the total)
_OTHERS = b"\xff" * 31 + b"\x00"


class NodeUnavailable(Exception):
    """The node did not answer (down, restarting, unreachable)."""


class NodeClient(Protocol):
    """What a smeshing service asks a node (docs/node.md "Node-service API")."""

    name: str

    def info(self) -> dict: ...
    def last_atx(self, node_id: bytes) -> dict | None: ...
    def atx(self, atx_id: bytes) -> dict | None: ...
    def marriage(self, node_id: bytes) -> dict | None: ...
    def malicious(self, node_id: bytes) -> bool: ...
    def beacon(self, epoch: int) -> bytes: ...
    def hare_total_weight(self, layer: int) -> int: ...
    def hare_weight(self, node_id: bytes, layer: int) -> int: ...
    def eligibility_slots(self, node_id: bytes, epoch: int) -> int | None: ...
    def partial_proposal(self, layer: int, node_id: bytes) -> bytes | None: ...
    def hare_round_template(self, layer: int, iteration: int, round_kind: int) -> bytes | None: ...
    def certificate_template(self, layer: int) -> tuple[bytes, bytes | None] | None: ...
    def store_poet(self, data: bytes) -> dict: ...
    def publish(self, kind: str, data: bytes) -> dict: ...


class LocalNodeClient:
    """A node in the same process (a :class:`~smspec.tools.node.host.NodeHost`)."""

    def __init__(self, host: Any) -> None:
        self.host = host
        self.name = f"node{host.index}"

    def _node(self) -> Any:
        node = self.host.node
        if node is None:
            raise NodeUnavailable(f"{self.name} is down")
        return node

    def info(self) -> dict:
        return self._node().info()

    def last_atx(self, node_id: bytes) -> dict | None:
        return self._node().last_atx(node_id)

    def atx(self, atx_id: bytes) -> dict | None:
        return self._node().atx_summary(atx_id)

    def marriage(self, node_id: bytes) -> dict | None:
        return self._node().marriage(node_id)

    def malicious(self, node_id: bytes) -> bool:
        return self._node().is_malicious(node_id)

    def beacon(self, epoch: int) -> bytes:
        return self._node().beacon(epoch)

    def hare_total_weight(self, layer: int) -> int:
        return sum(self._node().hare_weights(layer).values())

    def hare_weight(self, node_id: bytes, layer: int) -> int:
        return self._node().hare_weights(layer).get(node_id, 0)

    def eligibility_slots(self, node_id: bytes, epoch: int) -> int | None:
        return self._node().eligibility_slots(node_id, epoch)

    def partial_proposal(self, layer: int, node_id: bytes) -> bytes | None:
        return self._node().partial_proposal(layer, node_id)

    def hare_round_template(self, layer: int, iteration: int, round_kind: int) -> bytes | None:
        return self._node().hare_round_template(layer, iteration, round_kind)

    def certificate_template(self, layer: int) -> tuple[bytes, bytes | None] | None:
        return self._node().certificate_template(layer)

    def store_poet(self, data: bytes) -> dict:
        self._node()
        return self.host.publish("poet", data).__dict__

    def publish(self, kind: str, data: bytes) -> dict:
        self._node()
        return self.host.publish(kind, data).__dict__


@attrs.frozen
class Identity:
    name: str
    seed: bytes = attrs.field(repr=False)
    key: bytes
    units: int
    post_dir: str
    commitment_atx: bytes = b""  # the commitment ATX its PoST data was initialized with


class SmesherError(Exception):
    """A smeshing service that cannot start (keys, PoST data)."""


class Smesher:
    def __init__(self, keys_dir: str, post_dir: str, nodes: list[Any], m: Any, memo: dict | None = None,
                 behaviour: str | None = None, married: bool = False, name: str = "smesher") -> None:
        self.keys_dir = keys_dir
        self.post_dir = post_dir
        self.nodes = list(nodes)
        self.m = m
        self.memo = memo
        self.behaviour = behaviour  # "byzantine": equivocates and publishes garbage
        self.married = married  # all identities form a married set (then merge), as if marry + merge were run
        self.name = name
        try:
            seeds = key_files.read_identities(keys_dir)
        except key_files.KeyError_ as error:
            raise SmesherError(str(error)) from None
        self.identities: list[Identity] = []
        for ident_name, seed in seeds:
            key = m.crypto.public_key(seed)
            directory = os.path.join(post_dir, ident_name)
            try:
                metadata = m.post.load_metadata(directory)
            except Exception as error:  # a missing or unreadable metadata file is the operator's to fix
                raise SmesherError(f"identity {ident_name}: no PoST data in {directory} ({error}); "
                                   "initialize it with `smspec post init`") from None
            if metadata.node_id != key:
                raise SmesherError(f"identity {ident_name}: the PoST data in {directory} belongs to "
                                   f"0x{metadata.node_id.hex()}, not to this key 0x{key.hex()}")
            self.identities.append(Identity(ident_name, seed, key, metadata.num_units, directory,
                                            metadata.commitment_atx_id))
        self.by_key = {i.key: i for i in self.identities}
        self.store = SmesherStore(os.path.join(keys_dir, "smesher.sqlite"))
        if married and len(self.identities) >= 2 and not self.store.identity_sets():
            # the devnet's operator (or `smesher run --married`): all identities marry, then merge
            # (what `smspec smesher marry` and `merge` record; tools/node/sets.py)
            members = [(i.name, i.key) for i in self.identities]
            set_id = self.store.add_identity_set(members, False, time.time())
            self.store.add_merge(set_id, members, False, time.time())
        self._context: Any = None
        self.slot_cache: dict[tuple, Any] = {}
        self.hare_layer: dict[str, Any] = {}  # the Hare session's total weight, beacon and weights of one layer
        self.last_node: str | None = None

    def close(self) -> None:
        self.store.close()

    # -- talking to nodes ------------------------------------------------------------------------

    def _ask(self, call: Any) -> Any:
        """Run `call(client)` on the first node that answers."""
        failures = []
        for client in self.nodes:
            try:
                result = call(client)
            except NodeUnavailable as error:
                failures.append(str(error))
                continue
            self.last_node = client.name
            return result
        raise NodeUnavailable("; ".join(failures) or "no node configured")

    def publish(self, kind: str, data: bytes) -> dict:
        return self._ask(lambda c: c.publish(kind, data))

    def context(self) -> Any:
        """The network's public parameters, read once from a node."""
        if self._context is None:
            from smspec.tools.node.node import Genesis

            info = self._ask(lambda c: c.info())
            genesis = Genesis(**info["genesis"]) if isinstance(info["genesis"], dict) else info["genesis"]
            params = p.genesis_params(genesis.config, self.m)
            self._context = {"genesis": genesis, "params": params, "L": genesis.layers_per_epoch,
                             "genesis_id": genesis.genesis_id(self.m.crypto), "golden": genesis.golden_atx(self.m.crypto),
                             "template": w.template_address(bytes.fromhex(genesis.wallet_code))}
        return self._context

    def state(self, ident: Identity, state: str, epoch: int | None = None, detail: str = "") -> None:
        self.store.add_state(ident.key, state, epoch, detail, time.time())

    def run_phase(self, phase: str, **args: Any) -> Any:
        """Run one duty of the schedule; a node that is down is reported, not raised."""
        try:
            return getattr(self, phase)(**args)
        except NodeUnavailable as error:
            for ident in self.identities:
                self.state(ident, "RETRYING", detail=f"{phase}: {error}")
            return {"unavailable": str(error)}

    # -- signing, once per slot ------------------------------------------------------------------

    def _signed(self, kind: str, slot: str, ident: Identity, make: Any) -> bytes | None:
        """The message of (kind, slot) for an identity: the stored one, or `make()` signed now
        and stored before it leaves (None when there is nothing to sign)."""
        stored = self.store.signed(kind, slot, ident.key)
        if stored:
            return stored[0]
        data = make()
        if data is not None:
            self.store.add_signed(kind, slot, ident.key, data)
        return data

    # -- ATXs ------------------------------------------------------------------------------------

    def _prove(self, ident: Identity, challenge: bytes) -> Any:
        """A PoST proof; with the "post-memo" rule memoized by (identity, commitment, units,
        challenge), which determine the data and hence the proof."""
        ctx = self.context()
        params = ctx["params"]
        key = (ctx["genesis"].config, "prove", ident.key, ctx["golden"], ident.units, challenge)
        if self.memo is not None and key in self.memo:
            return self.memo[key]
        proof = self.m.post.generate_proof(ident.post_dir, challenge, params.proving_nonces, params.post)
        result = self.m.atx.PostV1(proof.nonce, proof.indices, proof.pow)
        if self.memo is not None:
            self.memo[key] = result
        return result

    def _initial_post(self, ident: Identity) -> Any:
        raw = self.store.initial_post(ident.key)
        if raw is not None:
            return p.decode(raw, self.m.atx.PostV1)
        self.state(ident, "GENERATING_POST_PROOF", detail="initial PoST")
        post = self._prove(ident, bytes(32))
        self.store.set_initial_post(ident.key, p.encode(post, self.m.atx.PostV1))
        return post

    def atx_v3(self, epoch: int) -> bool:
        """Whether ATXs of publish epoch `epoch` are version 3 (best-labels PoST) on this network."""
        genesis = self.context()["genesis"]
        version = 2
        for from_epoch, configured in sorted(genesis.atx_version_pairs()):
            if epoch >= from_epoch:
                version = configured
        return version == 3

    def sets(self) -> list[dict]:
        """The identity sets recorded in the service's database (tools/node/sets.py), each with its
        members resolved to identities (a set with a member whose key is gone is left out)."""
        out = []
        for record in self.store.identity_sets():
            members = [self.by_key.get(node_id) for _, node_id in record["members"]]
            merges = []
            for merge in record["merges"]:
                group = [self.by_key.get(node_id) for _, node_id in merge["members"]]
                if None not in group:
                    merges.append({**merge, "identities": group})
            if None not in members:
                out.append({**record, "identities": members, "merges": merges})
        return out

    def atx_plans(self, epoch: int) -> list[dict]:
        """What each identity publishes in `epoch`: initial, solo (maybe marrying) or merged."""
        atx = self.m.atx
        ctx = self.context()
        plans = []
        latest = {ident.name: self._ask(lambda c, i=ident: c.last_atx(i.key)) for ident in self.identities}
        done = {name for name, a in latest.items() if a is not None and a["publish_epoch"] >= epoch}
        done |= {i.name for i in self.identities if self.store.signed("atx", str(epoch), i.key)}
        pending = [ident for ident in self.identities if ident.name not in done]
        for identity_set in self.sets():
            members = identity_set["identities"]
            signer = members[0]
            if identity_set["marriage_atx"] is None:
                # the marriage: the signer's ATX holds a certificate of every member, which names
                # one of the member's ATXs (so every member needs one first)
                if signer in pending and all(latest[m.name] is not None for m in members):
                    plans.append({"kind": "solo", "members": [signer], "prev": [latest[signer.name]["id"]],
                                  "marry": [(m, latest[m.name]["id"]) for m in members[1:]],
                                  "set": identity_set["id"]})
                    pending.remove(signer)
                continue
            for merge in identity_set["merges"]:
                group = merge["identities"]
                record = self._ask(lambda c, g=group: c.marriage(g[0].key))
                if record is None or record["marriage_atx"] != identity_set["marriage_atx"]:
                    continue  # the node does not know the marriage (yet)
                if record["publish_epoch"] + atx.MARRIAGE_EPOCH_DISTANCE > epoch:
                    continue
                if not all(m in pending and latest[m.name] is not None for m in group):
                    continue
                plans.append({"kind": "merged", "members": group, "marriage_atx": record["marriage_atx"],
                              "prev": [latest[m.name]["id"] for m in group],
                              "indices": [members.index(m) for m in group]})
                pending = [i for i in pending if i not in group]
        for ident in pending:
            if latest[ident.name] is None:
                plans.append({"kind": "initial", "members": [ident], "prev": [atx.EMPTY_ID]})
            else:
                plans.append({"kind": "solo", "members": [ident], "prev": [latest[ident.name]["id"]]})
        v3 = self.atx_v3(epoch)
        for plan in plans:
            # the devnet smesher positions on its own previous ATX (or the golden ATX)
            positioning = ctx["golden"] if plan["kind"] == "initial" else plan["prev"][0]
            plan["positioning"] = positioning
            plan["initial_post"] = self._initial_post(plan["members"][0]) if plan["kind"] == "initial" else None
            if v3:
                # one registration for the whole set (atx_best.md `nipost_challenge_v3`)
                best = self.m.atx_best
                plan["identities"] = [self.m.post_best.BestIdentity(m.key, m.commitment_atx, m.units)
                                      for m in plan["members"]]
                challenge = best.nipost_challenge_v3(epoch, positioning, plan["identities"], plan["prev"],
                                                     plan["initial_post"])
                plan["challenges"] = [best.challenge_hash_v3(challenge)]
                continue
            challenges = []
            for prev in plan["prev"]:
                challenge_v2 = atx.NIPostChallengeV2(epoch, prev, positioning, plan["initial_post"])
                challenges.append(atx.challenge_hash_v2(challenge_v2))
            plan["challenges"] = challenges
        return plans

    def atx_register(self, epoch: int) -> dict:
        """The NIPoST challenges to register at the PoET for `epoch` (rule "poet"): one per
        identity, or with ATX v3 one per plan (its whole set)."""
        challenges = []
        for plan in self.atx_plans(epoch):
            for member in plan["members"]:
                self.state(member, "POET_CHALLENGE_READY", epoch)
            challenges += plan["challenges"]
            shared = len(plan["challenges"]) != len(plan["members"])  # ATX v3: the set's one challenge
            for k, member in enumerate(plan["members"]):
                challenge = plan["challenges"][0 if shared else k]
                self.state(member, "POET_REGISTERED", epoch, f"challenge 0x{challenge.hex()}")
        return {"challenges": challenges}

    def atx_publish(self, epoch: int, proof: bytes | None, leaves: list[bytes], publish: bool = True) -> dict:
        """Store the PoET proof at the node, build, sign and publish this service's ATXs of
        `epoch` (ATXs signed before are published again). With `publish` False the ATXs are
        built and signed (kept in the service's database) but not published yet."""
        published = 0
        if proof is None:
            return {"published": 0}
        self._ask(lambda c: c.store_poet(proof))
        ref = p.poet_ref(p.decode(proof, p.PoetProof))
        for ident in self.identities:
            for blob in self.store.signed("atx", str(epoch), ident.key) if publish else []:
                self.publish("atx", blob)
                self.state(ident, "ATX_BROADCASTED", epoch)
                published += 1
        for plan in self.atx_plans(epoch):
            indices = []
            for challenge in plan["challenges"]:
                if challenge not in leaves:
                    break
                indices.append(leaves.index(challenge))
            if len(indices) != len(plan["challenges"]):
                continue  # not registered in time: no ATX this epoch
            members = plan["members"]
            signer = members[0]
            for member in members:
                self.state(member, "POET_PROOF_RECEIVED", epoch)
            make = self._build_v3(epoch, plan, ref, leaves, indices) if self.atx_v3(epoch) else \
                self._build_v2(epoch, plan, ref, leaves, indices)
            blob = self._signed("atx", str(epoch), signer, make)
            atx_id = self.atx_id(blob, epoch)
            if "set" in plan:
                self.store.set_marriage_atx(plan["set"], atx_id, epoch)
            if "marry" in plan:  # the service's own record of its married set (its status API shows it)
                for member in (signer, *(partner for partner, _ in plan["marry"])):
                    self.store.set_marriage(member.key, atx_id, epoch)
            for member in members:
                self.state(member, "ATX_READY", epoch, f"ATX 0x{atx_id.hex()}")
            if not publish:
                continue
            self.publish("atx", blob)
            published += 1
            for member in members:
                self.state(member, "ATX_BROADCASTED", epoch, f"ATX 0x{atx_id.hex()}")
        return {"published": published}

    def atx_id(self, blob: bytes, epoch: int) -> bytes:
        """The ID of an ATX this service signed for `epoch`."""
        scheme = self.m.atx.IdScheme.A  # the devnet's ID scheme (AtxConfig's default)
        if self.atx_v3(epoch):
            best = self.m.atx_best
            return best.atx_id_v3(best.decode_atx_v3(blob), scheme)
        return self.m.atx.atx_id_v2(self.m.atx.decode_atx_v2(blob), scheme)

    def _previous(self, plan: dict) -> tuple[list[bytes], list[int]]:
        """The ATX's distinct previous ATXs and each member's index into them."""
        previous: list[bytes] = []
        for prev in plan["prev"]:
            if plan["kind"] != "initial" and prev not in previous:
                previous.append(prev)
        return previous, [previous.index(prev) if previous else 0 for prev in plan["prev"]]

    def _marriages(self, plan: dict) -> list:
        """The marriage certificates of a marrying plan: the signer's own, then each partner's,
        naming the partner's ATX (atx.md `MarriageCertificate`)."""
        atx, crypto = self.m.atx, self.m.crypto
        genesis_id = self.context()["genesis_id"]
        signer = plan["members"][0]
        if "marry" not in plan:
            return []
        certificates = [atx.MarriageCertificate(atx.EMPTY_ID, crypto.sign(signer.seed, crypto.Domain.MARRIAGE,
                                                                          genesis_id, signer.key))]
        for partner, partner_atx in plan["marry"]:
            certificates.append(atx.MarriageCertificate(partner_atx, crypto.sign(partner.seed, crypto.Domain.MARRIAGE,
                                                                                 genesis_id, signer.key)))
        return certificates

    def _build_v2(self, epoch: int, plan: dict, ref: bytes, leaves: list[bytes], indices: list[int]) -> Any:
        """`make` of the plan's ATX v2: one sub-post (today's PoST) per member."""
        atx, crypto = self.m.atx, self.m.crypto
        ctx = self.context()
        members = plan["members"]
        signer = members[0]
        nodes = crypto.merkle_proof(leaves, sorted(set(indices)))
        previous, prev_indices = self._previous(plan)
        marriage_indices = plan.get("indices", list(range(len(members))))
        subs = []
        for position, (member, leaf) in enumerate(zip(members, indices)):
            self.state(member, "GENERATING_POST_PROOF", epoch)
            subs.append(atx.SubPostV2(marriage_indices[position], prev_indices[position], leaf,
                                      self._prove(member, ref), member.units))
            self.state(member, "POST_PROOF_READY", epoch)
        total_units = sum(m.units for m in members)
        value = atx.ActivationTxV2(
            publish_epoch=epoch, positioning_atx=plan["positioning"],
            coinbase=w.wallet_address(ctx["template"], signer.key),
            initial=atx.InitialAtxPartsV2(ctx["golden"], plan["initial_post"]) if plan["kind"] == "initial" else None,
            previous_atxs=previous, niposts=[atx.NiPostV2(atx.MerkleProofV2(nodes), ref, subs)],
            vrf_nonce=self._vrf_nonce(signer, total_units), marriages=self._marriages(plan),
            marriage_atx=plan.get("marriage_atx"), smesher_id=signer.key, signature=bytes(64))
        atx_id = atx.atx_id_v2(value, atx.IdScheme.A)

        def make() -> bytes:
            signature = crypto.sign(signer.seed, crypto.Domain.ATX, ctx["genesis_id"], atx_id)
            return atx.encode_atx_v2(attrs.evolve(value, signature=signature))

        return make

    def _build_v3(self, epoch: int, plan: dict, ref: bytes, leaves: list[bytes], indices: list[int]) -> Any:
        """`make` of the plan's ATX v3: one best-labels proof over every member's labels
        (atx_best.md "Building a v3 ATX"), proven only when nothing was signed for the slot."""
        atx, best, pb, crypto = self.m.atx, self.m.atx_best, self.m.post_best, self.m.crypto
        ctx = self.context()
        members = plan["members"]
        signer = members[0]
        (leaf,) = indices
        previous, prev_indices = self._previous(plan)
        marriage_indices = plan.get("indices", list(range(len(members))))
        entries = [best.MemberV3(marriage_indices[k], prev_indices[k], m.units) for k, m in enumerate(members)]

        def make() -> bytes:
            from smspec.impl.post_best import stream_chunks

            for member in members:
                self.state(member, "GENERATING_POST_PROOF", epoch, "best labels")
            chunks = list(stream_chunks(self.m.post, [m.post_dir for m in members]))
            proof = pb.prove_best(plan["identities"], chunks, ref, pb.POST_BEST_K)
            for member in members:
                self.state(member, "POST_PROOF_READY", epoch)
            initial = None
            if plan["kind"] == "initial":
                initial = atx.InitialAtxPartsV2(signer.commitment_atx, plan["initial_post"])
            value = best.build_atx_v3(
                epoch, plan["positioning"], w.wallet_address(ctx["template"], signer.key), previous, entries,
                plan["identities"], ref, crypto.merkle_proof(leaves, [leaf]), leaf, proof,
                self._vrf_nonce(signer, sum(m.units for m in members)), signer.key, initial=initial,
                marriages=self._marriages(plan), marriage_atx=plan.get("marriage_atx"))
            return best.encode_atx_v3(best.sign_atx_v3(value, signer.seed, ctx["genesis_id"], atx.IdScheme.A))

        return make

    def _vrf_nonce(self, ident: Identity, total_units: int) -> int:
        """The identity's initialization nonce, or for a merged ATX the first index valid for the
        summed units (ATX rule C11 checks the signer's nonce against them)."""
        post = self.m.post
        metadata = post.load_metadata(ident.post_dir)
        if total_units == ident.units:
            return metadata.nonce
        ctx = self.context()
        index = 0
        while not post.verify_vrf_nonce(ident.key, ctx["golden"], total_units, index, ctx["params"].post):
            index += 1
        return index

    # -- proposals -----------------------------------------------------------------------------

    def _slots(self, ident: Identity, epoch: int, atx_id: bytes) -> list:
        """Rule "proposal-eligibility": (counter, proof, layer) of every slot of the epoch."""
        key = (ident.key, epoch, atx_id)
        if key not in self.slot_cache:
            ctx = self.context()
            slots = self._ask(lambda c: c.eligibility_slots(ident.key, epoch)) or 0
            summary = self._ask(lambda c: c.atx(atx_id))
            epoch_beacon = self._ask(lambda c: c.beacon(epoch))
            found = []
            for counter in range(slots):
                alpha = p.ballot_vrf_alpha(epoch_beacon, epoch, summary["vrf_nonce"], counter)
                proof = self.m.crypto.vrf_prove(ident.seed, alpha)
                found.append((counter, proof, p.eligible_layer(epoch, ctx["L"], proof)))
            self.store.add_eligibilities(ident.key, epoch, [layer for _, _, layer in found])  # for the status API
            self.slot_cache[key] = found
        return self.slot_cache[key]

    def _sign_proposal(self, ident: Identity, proposal: p.Proposal) -> p.Proposal:
        crypto = self.m.crypto
        signature = crypto.sign(ident.seed, crypto.Domain.PROPOSAL, self.context()["genesis_id"],
                                p.unsigned_bytes(proposal, p.Proposal))
        return attrs.evolve(proposal, signature=signature)

    def propose(self, layer: int) -> dict:
        """Fill in and sign each identity's partial proposal where it is eligible; publish."""
        ctx = self.context()
        epoch = layer // ctx["L"]
        published = 0
        for ident in self.identities:
            stored = self.store.signed("proposal", str(layer), ident.key)
            if stored:
                data = stored[0]
            else:
                if self.behaviour != "byzantine" and self._ask(lambda c, i=ident: c.malicious(i.key)):
                    continue  # an honest identity known malicious stays silent
                partial = self._ask(lambda c, i=ident: c.partial_proposal(layer, i.key))
                if partial is None:
                    continue
                proposal = p.decode(partial, p.Proposal)
                found = self._slots(ident, epoch, proposal.atx_id)
                eligibilities = [p.Eligibility(c, proof) for c, proof, at in found if at == layer]
                if not eligibilities:
                    continue
                signed = self._sign_proposal(ident, attrs.evolve(proposal, eligibilities=eligibilities))
                data = self._signed("proposal", str(layer), ident, lambda s=signed: p.encode(s, p.Proposal))
            self.publish("proposal", data)
            self.state(ident, "PROPOSAL_PUBLISHED", epoch, f"layer {layer}")
            published += 1
        if self.behaviour == "byzantine":
            for ident in self.identities:
                for data in self.store.signed("proposal", str(layer), ident.key):
                    proposal = p.decode(data, p.Proposal)
                    twin = self._sign_proposal(ident, attrs.evolve(proposal, tx_ids=[bytes(32)], signature=bytes(64)))
                    self.publish("proposal", p.encode(twin, p.Proposal))
        return {"published": published}

    # -- Hare ------------------------------------------------------------------------------------

    def hare_messages(self, layer: int, iteration: int, round_kind: int) -> dict:
        """Sign the node's round template for each eligible identity; publish."""
        hare = self.m.hare
        ctx = self.context()
        params = ctx["params"]
        template = self._ask(lambda c: c.hare_round_template(layer, iteration, round_kind))
        if template is None:
            return {"published": 0}
        body = hare.decode(template, hare.Body)
        if self.hare_layer.get("layer") != layer:  # fixed for a layer's session: asked once per layer
            self.hare_layer = {"layer": layer, "total": self._ask(lambda c: c.hare_total_weight(layer)),
                               "beacon": self._ask(lambda c: c.beacon(layer // ctx["L"])), "weights": {}}
        total, epoch_beacon, weights = self.hare_layer["total"], self.hare_layer["beacon"], self.hare_layer["weights"]
        published = 0
        for ident in self.identities:
            slot = f"{layer}:{iteration}:{round_kind}"
            stored = self.store.signed("hare", slot, ident.key)
            if stored:
                data = stored[0]
            else:
                if ident.key not in weights:
                    weights[ident.key] = self._ask(lambda c, i=ident: c.hare_weight(i.key, layer))
                weight = weights[ident.key]
                if weight == 0:
                    continue
                if self.behaviour != "byzantine" and self._ask(lambda c, i=ident: c.malicious(i.key)):
                    continue
                active = hare.ActiveSet(beacon=epoch_beacon, weights={ident.key: weight, _OTHERS: total - weight})
                executed = hare.IterRound(iteration, hare.Round(round_kind))
                eligibility = hare.own_eligibility(active, ident.seed, ident.key, layer, executed,
                                                   params.committee(hare, layer), params.hare_leaders)
                if eligibility is None:
                    continue
                message = hare.build_message(ident.seed, ident.key, ctx["genesis_id"], layer,
                                             hare.ProtocolMessage(body.iter, body.round, body.value), eligibility)
                data = self._signed("hare", slot, ident, lambda mm=message: hare.encode(mm, hare.Message))
            self.publish("hare", data)
            published += 1
            if self.behaviour == "byzantine":
                for extra in self._byzantine_hare(ident, layer, data):
                    self.publish("hare", extra)
        return {"published": published}

    def _byzantine_hare(self, ident: Identity, layer: int, message: bytes) -> list[bytes]:
        """An equivocating twin of a Hare message (same round, another value) plus a truncated copy."""
        hare = self.m.hare
        decoded = hare.decode(message, hare.Message)
        body = decoded.body
        fake = self.m.crypto.hash32(b"fake proposal", layer.to_bytes(4, "little"))[:20]
        value = (hare.Value(proposals=(fake,)) if body.value.reference is None
                 else hare.Value(reference=hare.proposals_hash((fake,))))
        twin_body = attrs.evolve(body, value=value)
        twin = hare.Message(body=twin_body, sender=decoded.sender,
                            signature=hare.sign_body(ident.seed, self.context()["genesis_id"], twin_body))
        return [hare.encode(twin, hare.Message), message[:-1]]

    def certify(self, layer: int) -> dict:
        """Sign a certificate of the block the node's Hare decided, for each active identity."""
        crypto = self.m.crypto
        ctx = self.context()
        template = self._ask(lambda c: c.certificate_template(layer))
        if template is None:
            return {"published": 0, "ready": False}
        block_id, raw = template
        block = None if raw is None else p.decode(raw, p.Block)
        published = 0
        for ident in self.identities:
            stored = self.store.signed("cert", str(layer), ident.key)
            if stored:
                data = stored[0]
            else:
                if self._ask(lambda c, i=ident: c.hare_weight(i.key, layer)) == 0:
                    continue

                def make(ident: Identity = ident) -> bytes:
                    signature = crypto.sign(ident.seed, crypto.Domain.HARE, ctx["genesis_id"],
                                            p.rules.certificate_bytes(layer, block_id))
                    return p.encode(p.Certificate(layer, block_id, block, ident.key, signature), p.Certificate)

                data = self._signed("cert", str(layer), ident, make)
            self.publish("cert", data)
            published += 1
        return {"published": published, "ready": True}

    # -- adversary -------------------------------------------------------------------------------

    def garbage(self, layer: int, transactions: bool = True) -> dict:
        """Byzantine: malformed objects of every kind, a forged and a replayed transaction."""
        if self.behaviour != "byzantine":
            return {"published": 0}
        ctx = self.context()
        crypto = self.m.crypto
        junk = crypto.hash32(b"garbage", layer.to_bytes(4, "little"))
        out = [(kind, junk[: 7 + i]) for i, kind in enumerate(("poet", "atx", "proposal", "tx", "cert"))]
        out.append(("atx", b"\x01" * 40))
        if transactions and layer >= 2 * ctx["L"] + 1:
            seed = self.identities[0].seed
            other = w.wallet_address(ctx["template"], crypto.public_key(crypto.hash32(b"smspec devnet victim")))
            victim = crypto.hash32(b"smspec devnet victim", layer.to_bytes(4, "little"))
            spawn = w.make_spawn(self.m, ctx["genesis_id"], ctx["template"], victim)
            forged = attrs.evolve(spawn, signature=crypto.ed25519_sign(seed, b"another message"))  # not the owner's
            replay = w.make_spend(self.m, ctx["genesis_id"], ctx["template"], seed, 0, other, 5)
            out += [("tx", p.encode(forged, p.Tx)), ("tx", p.encode(replay, p.Tx))]
        for kind, data in out:
            self.publish(kind, data)
        return {"published": len(out)}

    # -- reporting -------------------------------------------------------------------------------

    def identity_states(self) -> dict:
        """go-spacemesh `SmeshingIdentitiesService.States`: per identity, its state history."""
        out: dict[str, dict] = {ident.key.hex(): {"name": ident.name, "history": []} for ident in self.identities}
        for node_id, state, epoch, detail, at in self.store.states():
            entry = {"state": state, "time": at}
            if epoch is not None:
                entry["publishEpoch"] = epoch
            if detail:
                entry["error" if state == "RETRYING" else "detail"] = detail
            out.setdefault(node_id.hex(), {"history": []})["history"].append(entry)
        return {"identities": out}


class RefusedByNode(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class HttpNodeClient:
    """A node's node-service API over HTTP (``URL/node/v1``): what `smspec smesher run` uses."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.name = self.url
        self.timeout = timeout

    def _request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        import http.client
        import json
        import urllib.error
        import urllib.request

        request = urllib.request.Request(self.url + "/node/v1" + path, data=body, method=method,
                                         headers={"Content-Type": "application/octet-stream"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            if error.code in (404,):
                return error.code, error.read()
            if error.code == 503:
                raise NodeUnavailable(f"{self.url}: the node is not running") from None
            text = error.read()[:2000]
            if error.code == 400 and method == "POST":
                try:
                    raise RefusedByNode(json.loads(text)["message"]) from None
                except (ValueError, KeyError):
                    pass
            raise RuntimeError(f"{self.url}{path}: HTTP {error.code}: {text[:300]!r}") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            raise NodeUnavailable(f"{self.url}: {getattr(error, 'reason', error)}") from None

    def _json(self, path: str) -> Any:
        import json

        status, data = self._request("GET", path)
        return None if status in (204, 404) else json.loads(data)

    def _bytes(self, path: str) -> bytes | None:
        status, data = self._request("GET", path)
        return None if status in (204, 404) else data

    @staticmethod
    def _atx(data: dict | None) -> dict | None:
        if data is None:
            return None
        return {"id": bytes.fromhex(data["ID"]), "smesher_id": bytes.fromhex(data["SmesherID"]),
                "publish_epoch": data["PublishEpoch"], "num_units": data["NumUnits"], "tick_count": data["TickCount"],
                "weight": data["Weight"], "sequence": data["Sequence"], "vrf_nonce": int(data["VRFNonce"]),
                "marriage_atx": None if data.get("MarriageATX") is None else bytes.fromhex(data["MarriageATX"])}

    def info(self) -> dict:
        return self._json("/info")

    def last_atx(self, node_id: bytes) -> dict | None:
        return self._atx(self._json(f"/activation/last_atx/{node_id.hex()}"))

    def atx(self, atx_id: bytes) -> dict | None:
        return self._atx(self._json(f"/activation/atx/{atx_id.hex()}"))

    def marriage(self, node_id: bytes) -> dict | None:
        data = self._json(f"/activation/marriage/{node_id.hex()}")
        return None if data is None else {"marriage_atx": bytes.fromhex(data["MarriageATX"]),
                                          "publish_epoch": data["PublishEpoch"]}

    def malicious(self, node_id: bytes) -> bool:
        return bool(self._json(f"/malfeasance/{node_id.hex()}")["Malicious"])

    def beacon(self, epoch: int) -> bytes:
        return self._bytes(f"/hare/beacon/{epoch}") or b""

    def hare_total_weight(self, layer: int) -> int:
        return int(self._bytes(f"/hare/total_weight/{layer}") or b"0")

    def hare_weight(self, node_id: bytes, layer: int) -> int:
        return int(self._bytes(f"/hare/weight/{node_id.hex()}/{layer}") or b"0")

    def eligibility_slots(self, node_id: bytes, epoch: int) -> int | None:
        slots = self._json(f"/eligibility/slots/{node_id.hex()}/{epoch}")["Slots"]
        return slots or None

    def partial_proposal(self, layer: int, node_id: bytes) -> bytes | None:
        return self._bytes(f"/proposal/{layer}/{node_id.hex()}")

    def hare_round_template(self, layer: int, iteration: int, round_kind: int) -> bytes | None:
        return self._bytes(f"/hare/round_template/{layer}/{iteration}/{round_kind}")

    def certificate_template(self, layer: int) -> tuple[bytes, bytes | None] | None:
        data = self._json(f"/hare/certificate/{layer}")
        if data is None:
            return None
        return bytes.fromhex(data["BlockID"]), None if data["Block"] is None else bytes.fromhex(data["Block"])

    def store_poet(self, data: bytes) -> dict:
        return self.publish("poet", data)

    def publish(self, kind: str, data: bytes) -> dict:
        """Publish through the node: its verdict (a refused object is a verdict, not an error)."""
        import json

        from smspec.tools.node.api import PUBLISH_KINDS

        path = "/poet" if kind == "poet" else "/publish/" + {v: k for k, v in PUBLISH_KINDS.items()}[kind]
        try:
            return json.loads(self._request("POST", path, data)[1])
        except RefusedByNode as refused:
            return {"status": "rejected", "reason": refused.reason}
