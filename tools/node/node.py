"""The reference node: public data only (docs/node.md).

The node validates what it receives (gossip from peers, and what its smeshing services publish
through it) with the spec modules and spec/node.md's rule functions, keeps it in its
:class:`~smspec.tools.node.storage.NodeStore` (one transaction per object, together with the
tortoise event it causes), runs the Hare sessions and the tortoise, applies blocks to the Athena
state, and answers the node-service requests of smeshing services: partial proposals, Hare round
templates, weights, beacons, ATXs. It holds no key and signs nothing; every signature comes
from a smeshing service (``tools/node/smesher.py``).

It is driven by the layer schedule (``tools/node/schedule.py``): ``begin_layer``,
``hare_start`` / ``hare_round`` / ``hare_done`` and ``end_layer``; every object goes through
:meth:`Node.receive`. The tortoise's in-memory state is rebuilt on start by replaying the stored
events, so a node killed at any moment resumes with nothing lost.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import attrs
from smspec.conformance.handlers import hexstr
from smspec.conformance.handlers import tortoise as tortoise_events
from smspec.spec.errors import SpecError
from smspec.tools.node import protocol as p
from smspec.tools.node import wallet as w
from smspec.tools.node.reconcile import NodeSync
from smspec.tools.node.storage import NodeStore

rules = p.rules

# Mempool bounds (docs/node.md "Transactions")
MEMPOOL_MAX = 10_000  # transactions that may still land, in total
MEMPOOL_MAX_PER_PRINCIPAL = 64  # ... per principal
MEMPOOL_MAX_UNCHECKED = 1_000  # spends of principals not spawned yet (their signature cannot be checked)
MEMPOOL_MAX_NONCE_AHEAD = 64  # a nonce further ahead of the account's is refused
MEMPOOL_KEEP_REFUSED = 1_000  # refused transactions kept for status lookups

KINDS = ("poet", "atx", "proposal", "tx", "cert", "malfeasance")
MALFEASANCE_BALLOT = 1  # a DoubleProposalProof (spec/node.md)
MALFEASANCE_HARE = 2  # a hare.md MalfeasanceProof
MALFEASANCE_ATX = 3  # an ATX-domain proof of malfeasance.md: its type byte and its SCALE bytes


class NodeHalted(Exception):
    """The node met a situation the devnet does not handle (e.g. a revert); it stops."""


class Rejected(SpecError):
    """An object the node refuses for a reason of its own (not a spec rule)."""


@dataclass(frozen=True)
class Verdict:
    """What a node made of an object: accepted (new and valid), duplicate, or rejected (reason)."""

    status: str
    reason: str = ""

    @property
    def valid(self) -> bool:
        return self.status in ("accepted", "duplicate")


ACCEPTED = Verdict("accepted")
DUPLICATE = Verdict("duplicate")


def decode_proposal(data: bytes) -> Any:
    return p.decode(data, p.Proposal)


def decode_certificate(data: bytes) -> Any:
    return p.decode(data, p.Certificate)


def certified_block_id(cert: Any) -> bytes:
    """The ID of the block a certificate carries (spec/node.md `block_id`)."""
    return p.block_id(cert.block)


def certified_block_bytes(cert: Any) -> bytes:
    """The encoding of the block a certificate carries."""
    return p.encode(cert.block, p.Block)


@dataclass
class Genesis:
    """The devnet's genesis configuration (identical on every node; public)."""

    genesis_time: int
    extra_data: str
    layers_per_epoch: int
    accounts: dict  # address hex -> balance (genesis funds)
    wallet_code: str  # hex ELF of the wallet template
    poet_leaves: int = p.POET_LEAVES
    tick_size: int = p.TICK_SIZE
    layer_size: int = p.LAYER_SIZE
    layer_reward: int = p.LAYER_REWARD
    config: str = p.DEFAULT_GENESIS  # the Configuration tier's configuration: "tiny" or "testnet-like"
    hrp: str = "stest"
    # seconds per layer of the layer clock (docs/node.md "Self-clocked nodes"); 0: no clock, a
    # coordinator runs the layers (devnet up, devnet up --tcp)
    layer_duration: float = 0.0
    # atx.md `AtxConfig.atx_versions`: [[epoch, version], ...]; empty: every ATX is v2 (today's
    # PoST); [[0, 2], [1, 3]]: ATX v3 with best-labels PoST from epoch 1 (devnet up --post best)
    atx_versions: list = field(default_factory=list)

    def to_json(self) -> str:
        data = dict(self.__dict__)
        if not data["layer_duration"]:
            del data["layer_duration"]  # a coordinated devnet's genesis reads as it always did
        if not data["atx_versions"]:
            del data["atx_versions"]
        return json.dumps(data, sort_keys=True)

    def atx_version_pairs(self) -> tuple[tuple[int, int], ...]:
        """`atx_versions` as AtxConfig takes it."""
        return tuple((int(epoch), int(version)) for epoch, version in self.atx_versions)

    def best_post(self) -> bool:
        """Whether ATX v3 (best-labels PoST, spec/atx_best.md) is in force from some epoch."""
        return any(int(version) == 3 for _, version in self.atx_versions)

    @classmethod
    def from_json(cls, text: str) -> Genesis:
        data = json.loads(text)
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"genesis: unknown fields {sorted(unknown)} (a genesis of an older smspec holds "
                             "private keys; create a new devnet)")
        return cls(**data)

    def genesis_id(self, crypto: Any) -> bytes:
        return crypto.genesis_id(self.genesis_time, self.extra_data)

    def golden_atx(self, crypto: Any) -> bytes:
        return crypto.golden_atx(self.genesis_time, self.extra_data)


class ConfiguredPost:
    """The post spec module with a configuration's `PostConfig` in force: what
    `SpecPostVerifier` (atx.md) takes as its `post`, so that it verifies with these parameters
    (rule "testnet-like"); every other name is the module's own."""

    def __init__(self, post: Any, config: Any) -> None:
        self._post = post
        self._config = config

    def __getattr__(self, name: str) -> Any:
        return getattr(self._post, name)

    def preset_config(self) -> Any:
        return self._config

    def verify_vrf_nonce(self, node_id: bytes, commitment_atx_id: bytes, num_units: int, nonce: int,
                         config: Any = None) -> bool:
        return self._post.verify_vrf_nonce(node_id, commitment_atx_id, num_units, nonce, config or self._config)


class MemoVerifier:
    """Rule "post-memo": `SpecPostVerifier` with successful results memoized in `memo`."""

    def __init__(self, inner: Any, memo: dict | None, tag: str = p.DEFAULT_GENESIS) -> None:
        self.inner = inner
        self.memo = memo
        self.tag = tag  # the genesis configuration: results of another one's parameters never match

    def _cached(self, key: tuple, call: Any) -> None:
        key = (self.tag, *key)
        if self.memo is not None and key in self.memo:
            return
        call()
        if self.memo is not None:
            self.memo[key] = True

    def verify_post(self, node_id: bytes, commitment_atx: bytes, challenge: bytes, post: Any, num_units: int) -> None:
        key = ("post", node_id, commitment_atx, challenge, post, num_units)
        self._cached(key, lambda: self.inner.verify_post(node_id, commitment_atx, challenge, post, num_units))

    def verify_vrf_nonce(self, node_id: bytes, commitment_atx: bytes, nonce: int, num_units: int) -> None:
        key = ("nonce", node_id, commitment_atx, nonce, num_units)
        self._cached(key, lambda: self.inner.verify_vrf_nonce(node_id, commitment_atx, nonce, num_units))

    def verify_post_index(self, *args: Any) -> bool:
        return self.inner.verify_post_index(*args)


class SharedChecks:
    """Rule "verify-memo": checks of gossip that in-process nodes share, each keyed by all its
    inputs: every node still asks for every check, and a shared answer is the one its own check
    would give.

    * One Hare `ActiveSet` object per equal (beacon, weights): the impl's memo of Hare message
      grades (eligibility proof and count, keyed by the active set object) then serves every
      node instead of each node verifying every eligibility proof of every other node's identities.
    * Successful `validate_proposal` results, keyed by the proposal's bytes and every field of
      the node's `ProposalView`, and successful `validate_certificate` results, keyed by the
      certificate's bytes and every other argument (a failure is checked again by each node).

    * Decoded gossip: the object a decoder (a stable function of the bytes alone, e.g. hare.md
      `decode_message`) returns for the bytes, and values derived from that object alone (a
      proposal's ID, a certificate's block ID and block encoding), keyed by (decoder, bytes[,
      name]): one decoding per message instead of one per receiving node. The objects are
      frozen and no node changes them; bytes that fail to decode are decoded (and refused) by
      every node. At most `DECODED_BYTES` bytes of keys are kept (the oldest dropped first).

    Entries of layers more than `KEEP_LAYERS` before the newest one asked for are dropped."""

    KEEP_LAYERS = 16
    DECODED_BYTES = 4 << 20

    def __init__(self) -> None:
        self.active_sets: dict[int, dict[tuple, Any]] = {}  # layer -> key -> ActiveSet
        self.proposals: dict[int, dict[tuple, int]] = {}  # layer -> key -> slots
        self.certificates: dict[int, dict[tuple, bool]] = {}  # layer -> keys of valid certificates
        self.decoded: dict[tuple, tuple[Any, dict[str, Any]]] = {}  # (decoder, bytes) -> (object, derived), oldest first
        self.decoded_bytes = 0  # the bytes of the keys of `decoded`
        self.counts: dict[str, int] = {}  # "<check> checked" (run) and "<check> shared" (found in the memo)
        self.lock = threading.Lock()  # the nodes' own locks are theirs alone

    def _count(self, check: str, shared: bool) -> None:
        name = f"{check} {'shared' if shared else 'checked'}"
        self.counts[name] = self.counts.get(name, 0) + 1

    def _layer(self, table: dict[int, dict], layer: int) -> dict:
        with self.lock:
            found = table.get(layer)
            if found is None:
                found = table[layer] = {}
                for old in [k for k in table if k < layer - self.KEEP_LAYERS]:
                    del table[old]
            return found

    def _decoded(self, decoder: Callable[[bytes], Any], data: bytes, count: bool = True) -> tuple[Any, dict[str, Any]]:
        key = (decoder, data)
        found = self.decoded.get(key)
        counts = self.counts
        if found is not None:
            if count:
                counts["decode shared"] = counts.get("decode shared", 0) + 1
        else:
            found = (decoder(data), {})  # raises before anything is kept
            counts["decode checked"] = counts.get("decode checked", 0) + 1
            with self.lock:
                if key not in self.decoded:
                    self.decoded[key] = found
                    self.decoded_bytes += len(data)
                    while self.decoded_bytes > self.DECODED_BYTES:
                        oldest = next(iter(self.decoded))
                        del self.decoded[oldest]
                        self.decoded_bytes -= len(oldest[1])
        return found

    def decode(self, decoder: Callable[[bytes], Any], data: bytes) -> Any:
        """`decoder(data)`, one decoding per (decoder, bytes)."""
        return self._decoded(decoder, data)[0]

    def derived(self, decoder: Callable[[bytes], Any], data: bytes, name: str, function: Callable[[Any], Any]) -> Any:
        """`function(decoder(data))`: `name` stands for `function`, one value per (decoder, bytes, name)."""
        decoded, values = self._decoded(decoder, data, count=False)
        if name not in values:
            values[name] = function(decoded)
        return values[name]

    def active_set(self, hare: Any, layer: int, beacon: bytes, weights: dict[bytes, int], weights_key: tuple) -> Any:
        """One `ActiveSet` per equal content; `weights_key` is `weights` sorted."""
        key = (hare.__name__, beacon, weights_key)
        table = self._layer(self.active_sets, layer)
        found = table.get(key)
        self._count("active set", found is not None)
        if found is None:
            found = table[key] = hare.ActiveSet(beacon=beacon, weights=dict(weights))
        return found

    def validate_proposal(self, data: bytes, proposal: p.Proposal, view: Any) -> int:
        """spec/node.md `validate_proposal` (the slot count)."""
        reference = None if view.reference is None else p.encode(view.reference, p.Proposal)
        key = (data, reference, attrs.evolve(view, reference=None))
        slots = self.proposals.get(proposal.layer, {}).get(key)
        self._count("proposal", slots is not None)
        if slots is None:
            slots = rules.validate_proposal(proposal, view)  # raises before anything is kept
            self._layer(self.proposals, proposal.layer)[key] = slots
        return slots

    def validate_certificate(self, data: bytes, cert: Any, genesis_id: bytes, first_ballot_layer: int,
                             current_layer: int, weights: dict[bytes, int], weights_key: tuple) -> None:
        """spec/node.md `validate_certificate`; `weights_key` is `weights` sorted."""
        key = (data, genesis_id, first_ballot_layer, current_layer, weights_key)
        shared = key in self.certificates.get(cert.layer, ())
        self._count("certificate", shared)
        if shared:
            return
        rules.validate_certificate(cert, genesis_id, first_ballot_layer, current_layer, weights)
        self._layer(self.certificates, cert.layer)[key] = True


@dataclass
class HareSession:
    state: Any
    context: Any
    result: tuple | None = None
    result_iter: int | None = None
    stopped: bool = False
    rounds: int = 0
    templates: dict = field(default_factory=dict)  # (iter, round) -> encoded hare Body without eligibility


@dataclass
class LayerReport:
    layer: int
    proposals: int = 0
    hare: str = "-"
    verified: int = 0
    applied: int = 0
    state_root: bytes = b""
    events: list = field(default_factory=list)


class Node:
    MALFEASANCE_ATX = MALFEASANCE_ATX

    def __init__(self, datadir: str, genesis: Genesis, index: int, m: Any, memo: dict | None = None,
                 behaviour: str | None = None, shared: SharedChecks | None = None) -> None:
        self.datadir = datadir
        self.genesis = genesis
        self.index = index
        self.m = m
        self.behaviour = behaviour  # "byzantine": relays what its smeshers publish even when it is invalid
        self.lock = threading.RLock()  # the schedule and the API's submissions take turns
        os.makedirs(datadir, exist_ok=True)
        self.store = NodeStore(m.atx, os.path.join(datadir, "node.sqlite"))
        self.db = self.store.db  # for tests that inspect the database
        crypto = m.crypto
        self.golden = genesis.golden_atx(crypto)
        self.genesis_id = genesis.genesis_id(crypto)
        self.code = bytes.fromhex(genesis.wallet_code)
        self.template = w.template_address(self.code)
        self.L = genesis.layers_per_epoch
        t = m.tortoise
        self.params = p.genesis_params(genesis.config, m)
        if self.params.layers_per_epoch != self.L:
            raise NodeHalted(f"genesis {genesis.config}: {self.L} layers per epoch, expected {self.params.layers_per_epoch}")
        self.tconfig = self.params.tortoise_config(t)
        self.first_ballot_layer = t.effective_genesis(self.tconfig) + 1
        self.post = ConfiguredPost(m.post, self.params.post)
        self.verifier = MemoVerifier(m.atx.SpecPostVerifier(self.post), memo, genesis.config)
        self.shared = shared  # rule "verify-memo" (None: this node checks everything itself)
        self._weights: dict[int, tuple] = {}  # epoch -> (its ATXs, weights, sorted weights)
        # ATX v3: POST_BEST_K3 entries checked with a seed of this node's own (atx_best.md, the
        # spot-check decision); a forged entry another node catches is settled by malfeasance
        self.best_verifier = m.atx_best.SpecBestVerifier(m.post_best.POST_BEST_K3, os.urandom(32))
        self.current_layer = 0
        self.sessions: dict[int, HareSession] = {}
        self.certifiable: dict[int, bytes] = {}  # layer -> block ID this node's Hare decided
        self.peers = 0
        self.metrics: dict[str, int] = {}
        self.log = logging.getLogger(f"smspec.node{index}")
        self.outbox: list[tuple[str, bytes]] = []  # malfeasance proofs this node made, to gossip
        self.sync = NodeSync(self)  # its synced sets (tools/node/reconcile.py)
        self.synced: list[tuple[str, int | None, bytes]] = []  # stored by the handler running now
        self._init_meta()
        self.tortoise = self._replay_tortoise()

    # -- setup -------------------------------------------------------------------------------

    def _init_meta(self) -> None:
        stored = self.store.meta("genesis")
        if stored is None:
            with self.store.transaction():
                self.store.set_meta("genesis", self.genesis.to_json())
                self.store.set_meta("index", str(self.index))
                self.store.init_accounts(self.genesis.accounts)
        elif stored != self.genesis.to_json():
            raise NodeHalted(f"{self.datadir} holds a node of another genesis configuration")

    def _replay_tortoise(self) -> Any:
        """The tortoise rebuilt from the stored events (each stretch of consecutive ballots, a
        layer's proposals as they were stored, in one ``on_ballots`` call: ``apply_events``)."""
        t = self.m.tortoise
        state = t.new_tortoise(self.tconfig)
        tortoise_events.apply_events(t, state, self.store.events(), record=())
        return state

    def close(self) -> None:
        self.store.close()

    # -- small helpers -------------------------------------------------------------------------

    def _synced_after(self) -> None:
        """Objects stored by the handler that just returned join their synced sets."""
        stored, self.synced = self.synced, []
        for kind, arg, key in stored:
            self.sync.stored(kind, arg, key)

    def _count(self, name: str, amount: int = 1) -> None:
        self.metrics[name] = self.metrics.get(name, 0) + amount

    def _event(self, event: dict) -> None:
        """Log a tortoise event (inside the caller's transaction) and apply it."""
        self.store.add_event(event)
        tortoise_events.apply_event(self.m.tortoise, self.tortoise, event)

    def _reject(self, kind: str, reason: str) -> None:
        self.log.debug("rejected %s: %s", kind, reason)
        self.store.add_rejection(kind, reason, self.current_layer)

    def epoch_of(self, layer: int) -> int:
        return layer // self.L

    def beacon(self, epoch: int) -> bytes:
        return p.beacon(self.genesis_id, epoch)

    def atx_config(self) -> Any:
        return self.m.atx.AtxConfig(genesis_id=self.genesis_id, golden_atx=self.golden,
                                    current_epoch=self.epoch_of(self.current_layer), tick_size=self.genesis.tick_size,
                                    atx_versions=self.genesis.atx_version_pairs())

    def epoch_atxs(self, epoch: int) -> list:
        """Rule "active-set": every valid ATX published in `epoch - 1` (malicious ones included)."""
        return list(self.store.atxs_published(epoch - 1))

    def _epoch_weights(self, epoch: int) -> tuple[dict[bytes, int], tuple]:
        """The active set's weights of `epoch` and the same sorted (a key for rule "verify-memo"),
        computed again only when the epoch's ATXs change."""
        atxs = self.store.atxs_published(epoch - 1)
        cached = self._weights.get(epoch)
        if cached is None or cached[0] is not atxs:
            weights: dict[bytes, int] = {}
            for atx in atxs:
                weights[atx.smesher_id] = weights.get(atx.smesher_id, 0) + atx.weight
            cached = self._weights[epoch] = (atxs, weights, tuple(sorted(weights.items())))
        return cached[1], cached[2]

    def active_weights(self, epoch: int) -> dict[bytes, int]:
        return dict(self._epoch_weights(epoch)[0])

    def _decode(self, decoder: Callable[[bytes], Any], data: bytes) -> Any:
        """`decoder(data)`, shared with the other nodes under rule "verify-memo"."""
        return decoder(data) if self.shared is None else self.shared.decode(decoder, data)

    def is_malicious(self, node_id: bytes) -> bool:
        return self.store.flagged(node_id)

    def _mark_malicious(self, node_id: bytes, reason: str, proof: bytes | None = None) -> None:
        """Inside a transaction: record malfeasance (with its proof) and tell the tortoise."""
        if self.store.is_marked(node_id):
            return
        self.store.mark(node_id, reason, self.current_layer, proof)
        self._event({"op": "malfeasance", "node": hexstr(node_id)})
        self.log.warning("identity %s is malicious: %s", hexstr(node_id), reason)
        self.synced.append(("malfeasance", None, node_id))

    def load_state(self) -> w.State:
        return w.State(self.m, self.code, self.store.accounts(), self.store.templates())

    # -- gossip ----------------------------------------------------------------------------------

    def receive(self, kind: str, data: bytes) -> Verdict:
        """Validate and store an object (from a peer or a smeshing service)."""
        handler = {"poet": self._on_poet, "atx": self._on_atx, "proposal": self._on_proposal, "tx": self._on_tx,
                   "cert": self._on_certificate, "malfeasance": self._on_malfeasance}.get(kind)
        with self.lock:
            if handler is None:
                self._reject("unknown", "unknown_kind")
                self._count("gossip_rejected")
                return Verdict("rejected", "unknown_kind")
            try:
                verdict = ACCEPTED if handler(data) else DUPLICATE
            except (SpecError, w.TxError) as error:
                reason = getattr(error, "reason", type(error).__name__)
                self._reject(kind, reason)
                self._count("gossip_rejected")
                self._synced_after()  # a proof recorded on the way (a double proposal)
                return Verdict("rejected", reason)
            self._synced_after()
            self._count("gossip_accepted" if verdict is ACCEPTED else "gossip_duplicate")
            return verdict

    def handle(self, kind: str, data: bytes) -> bool:
        """Validate and store a gossiped object; True when it is new and valid (relay it)."""
        return self.receive(kind, data) is ACCEPTED

    def _on_poet(self, data: bytes) -> bool:
        proof = p.decode(data, p.PoetProof)
        ref = p.poet_ref(proof)
        if self.store.has_poet(ref):
            return False
        if proof.leaf_count < self.genesis.tick_size:
            raise Rejected("poet_too_short")
        if p.poet_work(proof.statement, proof.leaf_count) != proof.final:
            raise Rejected("poet_bad_work")
        with self.store.transaction():
            self.store.add_poet(ref, proof.epoch, data)
            self.store.add_poet_proof(self.m.atx.PoetProofInfo(ref, proof.statement, proof.leaf_count))
        self.synced.append(("poet", None, ref))
        return True

    def atx_id_of(self, data: bytes) -> bytes:
        """The ID of an ATX blob, decoded as the version its publish epoch selects (v2 or v3)."""
        atx_mod, best = self.m.atx, self.m.atx_best
        config = self.atx_config()
        if self.genesis.atx_versions and atx_mod.atx_version(data, config) == best.ATX_V3:
            return best.atx_id_v3(best.decode_atx_v3(data), config.id_scheme)
        return atx_mod.atx_id_v2(atx_mod.decode_atx_v2(data), config.id_scheme)

    def _on_atx(self, data: bytes) -> bool:
        if self.store.get_atx(self.atx_id_of(data)) is not None:
            return False
        config = self.atx_config()
        with self.store.transaction():
            if self.genesis.atx_versions:  # v2 and v3 (atx_best.md `handle_atx`)
                stored, finding = self.m.atx_best.handle_atx(data, self.store, config, self.verifier, self.best_verifier)
            else:
                stored, finding = self.m.mal.handle_atx_v2(data, self.store, config, self.verifier)
            self._event({"op": "atx", "epoch": stored.publish_epoch + 1, "id": hexstr(stored.id),
                         "node": hexstr(stored.smesher_id), "weight": stored.weight, "height": stored.tick_height()})
            if finding is not None:
                proof = None
                if finding.proof is not None:
                    proof = bytes([finding.proof_type]) + p.encode(finding.proof, type(finding.proof))
                self._mark_malicious(finding.node_id, f"atx_proof_{finding.proof_type}", proof)
        self.synced.append(("atx", stored.publish_epoch, stored.id))
        return True

    def proposal_view(self, proposal: p.Proposal) -> Any:
        """The facts spec/node.md `validate_proposal` needs, gathered from the store."""
        epoch = self.epoch_of(proposal.layer)
        stored = self.store.get_atx(proposal.atx_id)
        atx = None if stored is None else rules.AtxFacts(stored.id, stored.publish_epoch, stored.smesher_id,
                                                         stored.weight, stored.vrf_nonce)
        reference = None
        if proposal.ref is not None:
            raw = self.store.proposal_raw(proposal.ref)
            reference = None if raw is None else self._decode(decode_proposal, raw)
        return rules.ProposalView(
            genesis_id=self.genesis_id, current_layer=self.current_layer, first_ballot_layer=self.first_ballot_layer,
            layers_per_epoch=self.L, layer_size=self.genesis.layer_size, atx=atx,
            total_weight=sum(self._epoch_weights(epoch)[0].values()),
            smesher_malicious=self.is_malicious(proposal.smesher), reference=reference,
            other_in_layer=self.store.proposal_of(proposal.layer, proposal.smesher) is not None)

    def _on_proposal(self, data: bytes) -> bool:
        t = self.m.tortoise
        if self.shared is None:
            proposal = decode_proposal(data)
            pid = p.proposal_id(proposal)
        else:  # rule "verify-memo": decoded once for every node
            proposal = self.shared.decode(decode_proposal, data)
            pid = self.shared.derived(decode_proposal, data, "proposal_id", p.proposal_id)
        if self.store.has_proposal(pid):
            return False
        try:
            view = self.proposal_view(proposal)
            if self.shared is not None:
                slots = self.shared.validate_proposal(data, proposal, view)
            else:
                slots = rules.validate_proposal(proposal, view)
        except rules.InvalidProposal as error:
            if error.reason == "double_proposal":  # rule "ballot-malfeasance"
                first = self.store.proposal_of(proposal.layer, proposal.smesher)
                proof = p.encode(rules.DoubleProposalProof(first, data), rules.DoubleProposalProof)
                if not self.is_malicious(proposal.smesher):
                    self.outbox.append(("malfeasance", bytes([MALFEASANCE_BALLOT]) + proof))
                with self.store.transaction():
                    self._mark_malicious(proposal.smesher, "double_proposal", proof)
            raise
        ballot = self.ballot_data(pid, proposal, slots)
        decoded = t.decode_ballot(self.tortoise, ballot)
        with self.store.transaction():
            self.store.add_proposal(pid, proposal.layer, proposal.smesher, data)
            self.store.add_event(tortoise_events.ballot_to_json(ballot))
            t.store_ballot(self.tortoise, decoded)
        self.synced.append(("proposal", proposal.layer, pid))
        return True

    def ballot_data(self, pid: bytes, proposal: p.Proposal, slots: int) -> Any:
        t = self.m.tortoise
        votes = t.Votes(
            base=proposal.votes.base,
            support=tuple(t.BlockHeader(h.id, h.layer, h.height) for h in proposal.votes.support),
            against=tuple(t.BlockHeader(h.id, h.layer, h.height) for h in proposal.votes.against),
            abstain=tuple(proposal.votes.abstain),
        )
        epoch_data = None
        if proposal.epoch_data is not None:
            epoch_data = t.ReferenceData(beacon=proposal.epoch_data.beacon, eligibilities=slots)
        return t.BallotData(id=pid, smesher=proposal.smesher, layer=proposal.layer, atx_id=proposal.atx_id,
                            eligibilities=len(proposal.eligibilities),
                            opinion=t.Opinion(hash=proposal.opinion, votes=votes), epoch_data=epoch_data,
                            ref=proposal.ref)

    def _on_malfeasance(self, data: bytes) -> bool:
        """A gossiped malfeasance proof (rule "ballot-malfeasance", a Hare equivocation, or an
        ATX-domain proof of malfeasance.md): checked, then its identity is marked malicious."""
        node_id, reason, proof = self.malfeasance_identity(data)
        if self.is_malicious(node_id):
            return False
        with self.store.transaction():
            self._mark_malicious(node_id, reason, proof)
        return True

    def malfeasance_identity(self, data: bytes) -> tuple[bytes, str, bytes]:
        """(convicted identity, reason, proof as stored) of a malfeasance object (a domain byte
        and the proof); a SpecError when it proves nothing."""
        if not data:
            raise Rejected("short_input")
        domain, proof = data[0], data[1:]
        if domain == MALFEASANCE_BALLOT:
            node_id = rules.validate_double_proposal_proof(p.decode(proof, rules.DoubleProposalProof), self.genesis_id)
            return node_id, "double_proposal", proof
        if domain == MALFEASANCE_HARE:
            hare = self.m.hare
            decoded = hare.decode(proof, hare.MalfeasanceProof)
            culprit = decoded.data.messages[0].smesher_id
            node_id = hare.validate_hare_proof(decoded.data, self.genesis_id, self.store.last_atx_id(culprit) is not None)
            return node_id, "hare_equivocation", proof
        if domain == MALFEASANCE_ATX and proof:
            mal = self.m.mal
            envelope = mal.ATXProof(version=0, proof_type=proof[0], proof=proof[1:])
            node_id = mal.verify_atx_proof(envelope, self.atx_config(), self.verifier)
            return node_id, f"atx_proof_{proof[0]}", proof
        raise Rejected("unknown_malfeasance_domain")

    def take_outbox(self) -> list[tuple[str, bytes]]:
        out, self.outbox = self.outbox, []
        return out

    # -- transactions (the mempool) -----------------------------------------------------------------

    def _on_tx(self, data: bytes, relay: bool = False) -> bool:
        tx = p.decode(data, p.Tx)
        tid = p.tx_id(tx)
        status = self.store.tx_status(tid)
        if status is not None:
            return False  # known (a refused one stays refused: its status says why)
        try:
            status = self._admit(tx)
        except w.TxError as error:
            with self.store.transaction():
                self.store.add_tx(tid, data, tx.principal, tx.nonce, f"rejected:{error.reason}", False)
                self.store.prune_refused(MEMPOOL_KEEP_REFUSED)
            raise
        with self.store.transaction():
            self.store.add_tx(tid, data, tx.principal, tx.nonce, status, relay)
        self.synced.append(("tx", None, tid))
        return True

    def _admit(self, tx: p.Tx) -> str:
        """The status a new transaction enters the pool with ('pending' or 'unchecked'), or
        `TxError(reason)`. The signature is checked here once; it never needs checking again."""
        store = self.store
        spawned = store.account_spawned(tx.principal, self.template)
        if tx.method != p.METHOD_SPAWN and not spawned:
            status = "unchecked"  # the spawn may be on its way: its signature cannot be checked yet
            w.check_form(tx, self.template)
        else:
            self.load_state().check(self.genesis_id, tx, exact_nonce=False)
            status = "pending"
        account_nonce = store.account_nonce(tx.principal)
        if tx.nonce > account_nonce + MEMPOOL_MAX_NONCE_AHEAD:
            raise w.TxError("nonce_too_high", f"nonce {tx.nonce}, account nonce {account_nonce}")
        for other_id, _, _principal, nonce, _ in store.waiting_txs_of(tx.principal):
            if nonce == tx.nonce:
                raise w.TxError("nonce_in_use", f"transaction 0x{other_id.hex()} has nonce {nonce}")
        if store.waiting_count(tx.principal) >= MEMPOOL_MAX_PER_PRINCIPAL:
            raise w.TxError("principal_full", f"{MEMPOOL_MAX_PER_PRINCIPAL} transactions of this principal wait")
        if status == "unchecked" and store.waiting_count(status="unchecked") >= MEMPOOL_MAX_UNCHECKED:
            raise w.TxError("pool_full", f"{MEMPOOL_MAX_UNCHECKED} transactions of unspawned principals wait")
        if store.waiting_count() >= MEMPOOL_MAX:
            oldest = store.oldest_waiting("unchecked")
            if oldest is None:
                raise w.TxError("pool_full", f"{MEMPOOL_MAX} transactions wait")
            store.set_tx_status(oldest, "evicted:pool_full")
        return status

    def submit_tx(self, data: bytes) -> dict:
        """A transaction submitted through the API: validated now, gossiped at the next relay."""
        tx = p.decode(data, p.Tx)
        tid = p.tx_id(tx)
        with self.lock:
            try:
                new = self._on_tx(data, relay=True)
                self._synced_after()
            except w.TxError as error:
                self._count("tx_rejected")
                return {"id": tid, "status": f"rejected:{error.reason}", "detail": str(error)}
            status = self.store.tx_status(tid)
        return {"id": tid, "status": status, "new": new}

    def take_relay(self) -> list[bytes]:
        with self.lock:
            return self.store.take_relay()

    def pending_txs(self) -> list[bytes]:
        """What a proposal carries: waiting transactions that can still land, in (principal,
        nonce, ID) order. A spend of a principal spawned since it arrived has its signature
        checked once (then it is pending); nothing else is checked again."""
        ids = []
        state = None
        for tid, raw, principal, nonce, status in self.store.waiting_txs():
            if status == "unchecked":
                if not self.store.account_spawned(principal, self.template):
                    continue
                state = state or self.load_state()
                try:
                    state.check(self.genesis_id, p.decode(raw, p.Tx), exact_nonce=False)
                except w.TxError as error:
                    with self.store.transaction():
                        self.store.set_tx_status(tid, f"rejected:{error.reason}")
                    continue
                with self.store.transaction():
                    self.store.set_tx_status(tid, "pending")
            if nonce < self.store.account_nonce(principal):
                continue
            ids.append(tid)
        return ids[: p.MAX_TXS_PER_PROPOSAL]

    def _evict_stale(self) -> None:
        """After a layer is applied: waiting transactions whose nonce the account has passed can
        never land (status `evicted:nonce_too_low`)."""
        for tid, _, principal, nonce, _ in self.store.waiting_txs():
            if nonce < self.store.account_nonce(principal):
                self.store.set_tx_status(tid, "evicted:nonce_too_low")

    # -- certificates ------------------------------------------------------------------------------

    def _on_certificate(self, data: bytes) -> bool:
        cert = self._decode(decode_certificate, data)
        layer = cert.layer
        if layer < self.first_ballot_layer or layer > self.current_layer:
            raise rules.InvalidCertificate("certificate_layer")
        if self.store.has_certificate(layer, cert.signer):
            return False
        weights, weights_key = self._epoch_weights(self.epoch_of(layer))
        if self.shared is not None:
            self.shared.validate_certificate(data, cert, self.genesis_id, self.first_ballot_layer, self.current_layer,
                                             weights, weights_key)
        else:
            rules.validate_certificate(cert, self.genesis_id, self.first_ballot_layer, self.current_layer, weights)
        with self.store.transaction():
            self.store.add_certificate(layer, cert.signer, cert.block_id, data)
            if cert.block is not None:
                if self.shared is None:
                    self._store_block(cert.block)
                else:  # rule "verify-memo": the block's ID and encoding once for every node
                    bid = self.shared.derived(decode_certificate, data, "block_id", certified_block_id)
                    if not self.store.has_block(bid):
                        self._store_block(cert.block, bid,
                                          self.shared.derived(decode_certificate, data, "block", certified_block_bytes))
            if self.store.hare_output(layer) is None and layer not in self.sessions:
                if rules.certificate_majority(weights, self.store.certificates(layer), cert.block_id):
                    self._store_hare_output(layer, cert.block_id, "certificate", None)
        self.synced.append(("cert", layer, cert.signer))
        return True

    def _store_block(self, block: p.Block, bid: bytes | None = None, encoded: bytes | None = None) -> None:
        """Store a block (`bid` and `encoded`: its ID and encoding, when known)."""
        bid = p.block_id(block) if bid is None else bid
        if self.store.has_block(bid):
            return
        self.store.add_block(bid, block.layer, p.encode(block, p.Block) if encoded is None else encoded)
        self._event({"op": "block", "layer": block.layer, "id": hexstr(bid), "height": block.tick_height})

    def _store_hare_output(self, layer: int, block_id: bytes, source: str, iteration: int | None) -> None:
        self.store.add_hare_output(layer, block_id, source, iteration)
        self._event({"op": "hare", "layer": layer, "block": hexstr(block_id)})

    # -- layers ----------------------------------------------------------------------------------

    def begin_layer(self, layer: int) -> None:
        with self.lock:
            self.current_layer = layer
            epoch = self.epoch_of(layer)
            if layer % self.L == 0 and not self.store.has_beacon(epoch):
                with self.store.transaction():
                    self.store.add_beacon(epoch, self.beacon(epoch))
                    self._event({"op": "beacon", "epoch": epoch, "beacon": hexstr(self.beacon(epoch))})

    def layer_done(self, layer: int) -> bool:
        return self.store.layer_done(layer)

    def last_done(self) -> int:
        return self.store.last_done()

    # -- node service: what a smeshing service reads (docs/node.md "Node-service API") -------------

    def info(self) -> dict:
        return {"genesis": json.loads(self.genesis.to_json()), "genesis_id": self.genesis_id, "golden_atx": self.golden,
                "current_layer": self.current_layer, "first_ballot_layer": self.first_ballot_layer,
                "layers_per_epoch": self.L}

    def atx_summary(self, atx_id: bytes) -> dict | None:
        atx = self.store.get_atx(atx_id)
        if atx is None:
            return None
        return {"id": atx.id, "smesher_id": atx.smesher_id, "publish_epoch": atx.publish_epoch,
                "num_units": atx.num_units, "tick_count": atx.tick_count, "weight": atx.weight,
                "sequence": atx.tick_height(), "vrf_nonce": atx.vrf_nonce, "marriage_atx": atx.marriage_atx,
                "coinbase": atx.coinbase}

    def last_atx(self, node_id: bytes) -> dict | None:
        """The identity's newest ATX: the newest one holding its PoST, its own or a merged ATX
        another member of its set signed (the previous ATX its next ATX names)."""
        newest = None
        for atx in self.store.atxs_of(node_id):
            if newest is None or atx.publish_epoch >= newest.publish_epoch:
                newest = atx
        return None if newest is None else self.atx_summary(newest.id)

    def positioning_atx(self, publish_epoch: int) -> bytes:
        """The ATX of the greatest tick height published before `publish_epoch` (golden ATX if none)."""
        return self.store.highest_atx_before(publish_epoch) or self.golden

    def marriage(self, node_id: bytes) -> dict | None:
        record = self.store.marriage(node_id)
        if record is None:
            return None
        wedding = self.store.get_atx(record.marriage_atx)
        return {"marriage_atx": record.marriage_atx, "publish_epoch": None if wedding is None else wedding.publish_epoch}

    def hare_weights(self, layer: int) -> dict[bytes, int]:
        session = self.sessions.get(layer)
        if session is not None:
            return dict(session.context.active.weights)
        return self.active_weights(self.epoch_of(layer))

    def eligibility_slots(self, node_id: bytes, epoch: int) -> int | None:
        """Rule "proposal-eligibility": the slots of the identity's ATX targeting `epoch` (None: no ATX)."""
        atxs = self.epoch_atxs(epoch)
        own = next((a for a in atxs if a.smesher_id == node_id), None)
        if own is None:
            return None
        return p.proposal_slots(own.weight, sum(a.weight for a in atxs), self.L, self.genesis.layer_size)

    def partial_proposal(self, layer: int, node_id: bytes) -> bytes | None:
        """The proposal the identity may make in `layer`, without eligibilities and signature
        (None: no ATX for the epoch, or no opinion to vote with)."""
        t = self.m.tortoise
        with self.lock:
            if layer < self.first_ballot_layer:
                return None
            epoch = self.epoch_of(layer)
            atx = next((a for a in self.epoch_atxs(epoch) if a.smesher_id == node_id), None)
            if atx is None:
                return None
            try:
                opinion = t.encode_votes(self.tortoise, layer)
            except t.EncodeVotesError:
                return None
            ref = self.store.first_proposal_id(node_id, epoch * self.L, layer)
            slots = self.eligibility_slots(node_id, epoch)
            votes = opinion.votes
            proposal = p.Proposal(
                layer=layer, atx_id=atx.id, epoch_data=None if ref else p.EpochData(self.beacon(epoch), slots),
                ref=ref, opinion=opinion.hash,
                votes=p.WireVotes(votes.base, [p.WireHeader(h.id, h.layer, h.height) for h in votes.support],
                                  [p.WireHeader(h.id, h.layer, h.height) for h in votes.against], list(votes.abstain)),
                eligibilities=[], tx_ids=self.pending_txs(), smesher=node_id, signature=bytes(64))
            return p.encode(proposal, p.Proposal)

    def hare_round_template(self, layer: int, iteration: int, round_kind: int) -> bytes | None:
        """The Hare message body this node's session asks its identities to send in a round
        (encoded `Body` with an empty eligibility); None when the round sends nothing."""
        session = self.sessions.get(layer)
        return None if session is None else session.templates.get((iteration, round_kind))

    def certificate_template(self, layer: int) -> tuple[bytes, bytes | None] | None:
        """(block ID, encoded block or None) this node's Hare decided for `layer`, for its
        identities to certify (None: the node did not decide the layer)."""
        block_id = self.certifiable.get(layer)
        if block_id is None:
            return None
        raw = self.store.block_raw(block_id)
        return block_id, raw

    # -- Hare ------------------------------------------------------------------------------------

    def hare_start(self, layer: int) -> bool:
        hare = self.m.hare
        with self.lock:
            if layer < self.first_ballot_layer:
                return False
            epoch = self.epoch_of(layer)
            weights, weights_key = self._epoch_weights(epoch)
            if not weights:
                return False
            initial = [pid for pid, smesher in self.store.proposals_in_layer(layer) if not self.is_malicious(smesher)]
            state = hare.ProtocolState(threshold=self.params.threshold(hare, layer))
            hare.on_initial(state, tuple(initial))
            if self.shared is not None:
                active = self.shared.active_set(hare, layer, self.beacon(epoch), weights, weights_key)
            else:
                active = hare.ActiveSet(beacon=self.beacon(epoch), weights=dict(weights))
            context = hare.SessionContext(layer=layer, genesis_id=self.genesis_id, active=active,
                                          committee=self.params.committee(hare, layer), leaders=self.params.hare_leaders)
            self.sessions[layer] = HareSession(state, context)
            return True

    def hare_round(self, layer: int) -> tuple[int, int] | None:
        """Execute the session's current round; the (iteration, round) executed when it asks for
        a message (its template is then ready for the smeshing services), else None."""
        hare = self.m.hare
        with self.lock:
            session = self.sessions.get(layer)
            if session is None or session.stopped:
                return None
            executed = session.state.iter_round
            out = hare.next_round(session.state)
            session.rounds += 1
            self._count("hare_rounds")
            if out.result is not None and session.result is None:
                session.result = out.result
                session.result_iter = executed.iter
            asked = None
            if executed.round in hare.MESSAGE_ROUNDS and out.message is not None:
                message = out.message
                body = hare.Body(layer=layer, iter=message.iter, round=message.round, value=message.value)
                session.templates[(executed.iter, int(executed.round))] = hare.encode(body, hare.Body)
                asked = (executed.iter, int(executed.round))
            if hare.session_should_stop(executed, out, self.params.hare_iterations):
                session.stopped = True
            return asked

    def hare_active(self, layer: int) -> bool:
        session = self.sessions.get(layer)
        return session is not None and not session.stopped

    def hare_receive(self, layer: int, data: bytes) -> bool:
        hare = self.m.hare
        with self.lock:
            session = self.sessions.get(layer)
            if session is None or session.stopped:
                return False
            sender = data[-96:-64] if len(data) >= 96 else b""
            try:
                if self.shared is None:
                    received = hare.receive_message(session.context, session.state, data, self.is_malicious(sender))
                else:  # hare.md `receive_message`, the message decoded once for every node (rule "verify-memo")
                    message = self.shared.decode(hare.decode_message, data)
                    received = hare.receive_decoded(session.context, session.state, message, self.is_malicious(sender))
            except SpecError as error:
                if error.reason != "not_relayed":
                    self._reject("hare", error.reason)
                    self._count("gossip_rejected")
                return False
            self._count("gossip_accepted")
            if received.proof is not None:
                proof = hare.encode(hare.malfeasance_proof(received.proof), hare.MalfeasanceProof)
                if not self.is_malicious(sender):
                    self.outbox.append(("malfeasance", bytes([MALFEASANCE_HARE]) + proof))
                with self.store.transaction():
                    self._mark_malicious(sender, "hare_equivocation", proof)
                self._synced_after()
            return True

    def hare_done(self, layer: int) -> bytes | None:
        """Close the session: store the Hare output and its block; the block ID its identities
        certify (None when the node ran no session or has no output)."""
        with self.lock:
            session = self.sessions.pop(layer, None)
            if session is None:
                return None
            with self.store.transaction():
                self.store.set_hare_rounds(layer, session.rounds)  # for the API's Hare view
            known = self.store.hare_output(layer)
            block_id = None
            if known is not None:
                block_id = known[0]
            elif session.result is not None:
                block = self.build_block(layer, session.result)
                if block is not None or not session.result:
                    with self.store.transaction():
                        if block is not None:
                            self._store_block(block)
                        block_id = p.EMPTY_ID20 if block is None else p.block_id(block)
                        self._store_hare_output(layer, block_id, "hare", session.result_iter)
            if block_id is not None:
                self.certifiable[layer] = block_id
            return block_id

    def build_block(self, layer: int, proposal_ids: tuple) -> p.Block | None:
        """Rule "block" (spec/node.md `build_block`); None when empty or a proposal is missing."""
        entries = []
        for pid in proposal_ids:
            raw = self.store.proposal_raw(pid)
            if raw is None:
                return None
            proposal = self._decode(decode_proposal, raw)
            atx = self.store.get_atx(proposal.atx_id)
            entries.append((pid, proposal, p.Reward(atx.coinbase, atx.id, atx.weight), atx.tick_height()))
        return rules.build_block(layer, entries)

    # -- end of layer: tortoise and state ------------------------------------------------------

    def end_layer(self, layer: int) -> LayerReport:
        """Weak coin, tally, apply verified layers; mark the layer done (idempotent)."""
        with self.lock:
            if not self.layer_done(layer):
                epoch_beacon = self.beacon(self.epoch_of(layer))
                with self.store.transaction():
                    if layer >= self.first_ballot_layer:
                        self._event({"op": "weakcoin", "layer": layer, "coin": p.weak_coin(epoch_beacon, layer)})
                    self._event({"op": "tally", "layer": layer})
                self.apply_verified()
                with self.store.transaction():
                    self.store.mark_done(layer)
            self.certifiable = {k: v for k, v in self.certifiable.items() if k > layer - self.L}
            with self.store.transaction():
                self.store.set_meta("status", json.dumps(self.status()))
            report = self.report(layer)
            self.log.info("layer %d done: hare %s, verified %d, applied %d, state root 0x%s", layer, report.hare,
                          report.verified, report.applied, report.state_root.hex())
            return report

    def applied_top(self) -> int:
        top = self.store.applied_top()
        return self.first_ballot_layer - 1 if top is None else top

    def apply_verified(self) -> None:
        t = self.m.tortoise
        state = self.tortoise
        for result in t.updates(state):
            row = self.store.applied(result.layer)
            if row is not None and result.verified:
                valid = sorted(b.header.id for b in result.blocks if b.valid)
                if (valid[0] if valid else p.EMPTY_ID20) != row[0]:
                    raise NodeHalted(f"layer {result.layer} changed after it was applied (revert not supported)")
        layer = self.applied_top() + 1
        while layer <= state.verified:
            (result,) = t.layer_results(state, layer, layer)
            valid = sorted(b.header.id for b in result.blocks if b.valid)
            block = None
            if valid:
                raw = self.store.block_raw(valid[0])
                if raw is None:
                    return  # block data missing: wait for it
                block = p.decode(raw, p.Block)
            self.apply_block(layer, block, result.opinion)
            layer += 1

    def apply_block(self, layer: int, block: p.Block | None, opinion: bytes) -> None:
        state = self.load_state()
        results = {}
        if block is not None:
            for tid in block.tx_ids:
                raw = self.store.tx_raw(tid)
                if raw is None:
                    results[tid.hex()] = "skipped:unknown_tx"
                    continue
                results[tid.hex()] = state.execute(self.genesis_id, p.decode(raw, p.Tx))
            for coinbase, amount in p.split_rewards(block.rewards, self.genesis.layer_reward):
                state.credit(coinbase, amount)
        root = state.root()
        with self.store.transaction():
            self.store.save_applied(layer, p.EMPTY_ID20 if block is None else p.block_id(block), root, state.rows(),
                                    results, state.template_rows())
            self._event({"op": "applied", "layer": layer, "opinion": hexstr(opinion)})
            self._evict_stale()

    # -- reporting and sync ------------------------------------------------------------------------

    def state_root(self) -> bytes:
        root = self.store.latest_root()
        return self.load_state().root() if root is None else root

    def report(self, layer: int) -> LayerReport:
        row = self.store.hare_output(layer)
        if row is None:
            hare = "-" if layer < self.first_ballot_layer else "none"
        elif row[0] == p.EMPTY_ID20:
            hare = "empty"
        else:
            hare = f"block {row[0][:4].hex()}" + (f" (iter {row[2]})" if row[2] is not None else f" ({row[1]})")
        return LayerReport(layer=layer, proposals=self.store.proposal_count(layer), hare=hare,
                           verified=self.tortoise.verified, applied=self.applied_top(), state_root=self.state_root())

    def tortoise_mode(self) -> str:
        """``verifying``, ``full``, or ``healing``: full mode with unverified layers beyond
        ``hdist`` of the newest, on which this node's ballots vote by block margins and the weak
        coin rather than by its Hare output (spec/tortoise.md ``full_vote``)."""
        state = self.tortoise
        if not state.is_full:
            return "verifying"
        return "full" if self.m.tortoise.within_distance(state.config.hdist, state.verified + 1, state.last) else "healing"

    def status(self) -> dict:
        return {
            "node": self.index,
            "layer": self.current_layer,
            "last_done": self.last_done(),
            "verified": self.tortoise.verified,
            "tortoise_mode": self.tortoise_mode(),
            "applied": self.applied_top(),
            "state_root": hexstr(self.state_root()),
            "atxs": self.store.atx_count(),
            "proposals": self.store.proposal_count(),
            "blocks": self.store.block_count(),
            "malicious": [hexstr(node_id) for node_id, _, _ in self.store.marked()],
            "rejections": self.store.rejection_counts(),
            "peers": self.peers,
            "mempool": self.store.tx_counts(),
            "metrics": {**self.metrics, **self.sync.stats.as_metrics()},
        }

    def export(self) -> list[tuple[str, bytes]]:
        """Everything a syncing peer needs, in an order its handlers accept (rule "sync")."""
        with self.lock:
            return self.store.export()

    def sync_from(self, peer_objects: list[tuple[str, bytes]], upto: int, current: int | None = None) -> int:
        """Feed a peer's objects through the gossip handlers, then finish every layer up to `upto`.
        `current` is the layer the network is in (a self-clocked node that restarts in the middle
        of a layer: the peer's objects of that layer are taken too); default `upto`."""
        accepted = 0
        self.prepare_layers(upto if current is None else max(upto, current))
        for kind, data in peer_objects:
            accepted += self.handle(kind, data)
        self.finish_layers(upto)
        return accepted

    def prepare_layers(self, now: int) -> None:
        """Before catching up: the network is in layer `now` (every epoch's beacon up to it)."""
        self.current_layer = now
        for epoch in range(0, self.epoch_of(now) + 1):
            self.begin_layer(epoch * self.L)
        self.current_layer = now

    def finish_layers(self, upto: int) -> None:
        """After catching up: end every layer not finished yet up to `upto`."""
        for layer in range(self.last_done() + 1, upto + 1):
            self.end_layer(layer)


def summary_of(atx: dict) -> dict:
    """An ATX summary with its byte fields as 0x hex (JSON)."""
    return {k: (hexstr(v) if isinstance(v, bytes) else v) for k, v in atx.items()}


__all__ = ["Genesis", "LayerReport", "Node", "NodeHalted", "Rejected", "Verdict", "attrs"]
