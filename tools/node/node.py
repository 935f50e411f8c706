"""One devnet node: everything it knows lives in one SQLite database (WAL).

The node is driven by its environment (the in-process devnet, or a TCP runner): ``begin_layer``,
the ATX phase (``atx_register`` / ``atx_publish``), ``propose``, the Hare session
(``hare_start`` / ``hare_round`` / ``hare_receive`` / ``hare_done``) and ``end_layer``; every
message from a peer goes through ``handle(kind, data)``, which validates it with the spec
modules and stores it in one transaction together with the tortoise event it causes. The
tortoise's in-memory state is rebuilt on start by replaying those events, so a node killed at any
moment resumes with nothing lost.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass, field
from typing import Any

import attrs
from smspec.conformance.handlers import hexstr
from smspec.conformance.handlers import tortoise as tortoise_events
from smspec.impl.atx import SCHEMA as ATX_SCHEMA
from smspec.impl.atx import SqliteAtxStore
from smspec.spec.errors import SpecError
from smspec.tools.node import protocol as p
from smspec.tools.node import wallet as w

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS identities (name TEXT PRIMARY KEY, initial_post BLOB);
CREATE TABLE IF NOT EXISTS poet_proofs (ref BLOB PRIMARY KEY, epoch INTEGER, raw BLOB);
CREATE TABLE IF NOT EXISTS proposals (id BLOB PRIMARY KEY, layer INTEGER, smesher BLOB, raw BLOB, seq INTEGER);
CREATE INDEX IF NOT EXISTS proposals_by_layer ON proposals (layer, smesher);
CREATE TABLE IF NOT EXISTS hare_outputs (layer INTEGER PRIMARY KEY, block_id BLOB, source TEXT, iteration INTEGER);
CREATE TABLE IF NOT EXISTS certificates (layer INTEGER, signer BLOB, block_id BLOB, raw BLOB, PRIMARY KEY (layer, signer));
CREATE TABLE IF NOT EXISTS blocks (id BLOB PRIMARY KEY, layer INTEGER, raw BLOB);
CREATE TABLE IF NOT EXISTS txs (id BLOB PRIMARY KEY, raw BLOB, principal BLOB, nonce INTEGER, status TEXT, layer INTEGER, seq INTEGER);
CREATE TABLE IF NOT EXISTS tortoise_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT);
CREATE TABLE IF NOT EXISTS applied (layer INTEGER PRIMARY KEY, block_id BLOB, state_root BLOB, results TEXT);
CREATE TABLE IF NOT EXISTS accounts (address BLOB PRIMARY KEY, balance TEXT, nonce TEXT, template BLOB, state BLOB, storage TEXT);
CREATE TABLE IF NOT EXISTS progress (layer INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS beacons (epoch INTEGER PRIMARY KEY, beacon BLOB);
CREATE TABLE IF NOT EXISTS malfeasance (node_id BLOB PRIMARY KEY, reason TEXT, layer INTEGER);
CREATE TABLE IF NOT EXISTS rejections (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT, reason TEXT, layer INTEGER);
CREATE TABLE IF NOT EXISTS api_inbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT, raw BLOB);
"""


class NodeHalted(Exception):
    """The node met a situation the devnet does not handle (e.g. a revert); it stops."""


class Rejected(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason} {detail}".strip())
        self.reason = reason


@dataclass(frozen=True)
class Identity:
    name: str
    seed: bytes
    units: int


@dataclass
class Genesis:
    """The devnet's genesis configuration (identical on every node)."""

    genesis_time: int
    extra_data: str
    layers_per_epoch: int
    identities: dict  # node index (str) -> [[name, seed hex, units], ...]
    married: list  # node indices whose first two identities marry
    accounts: dict  # address hex -> balance (genesis funds)
    wallet_code: str  # hex ELF of the wallet template
    poet_leaves: int = p.POET_LEAVES
    tick_size: int = p.TICK_SIZE
    layer_size: int = p.LAYER_SIZE
    layer_reward: int = p.LAYER_REWARD
    config: str = p.DEFAULT_GENESIS  # the genesis configuration: "tiny" or "testnet-like"

    def to_json(self) -> str:
        data = dict(self.__dict__)
        if data["config"] == p.DEFAULT_GENESIS:
            del data["config"]  # the tiny genesis keeps the JSON it had before configurations existed
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Genesis:
        return cls(**json.loads(text))


class SharedAtxStore(SqliteAtxStore):
    """impl/atx.py's SQLite `AtxStore` on the node's own connection (so an ATX and the node's
    other records commit in one transaction)."""

    def __init__(self, spec: Any, connection: sqlite3.Connection) -> None:  # noqa: D107
        self.spec = spec
        self.db = connection
        connection.executescript(ATX_SCHEMA)
        connection.execute("INSERT OR IGNORE INTO counters VALUES ('set_id', 1), ('seq', 0)")
        connection.commit()


class ConfiguredPost:
    """The post spec module with a genesis configuration's `PostConfig` in force: what
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


@dataclass
class HareSession:
    state: Any
    context: Any
    result: tuple | None = None
    result_iter: int | None = None
    stopped: bool = False
    rounds: int = 0


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
    def __init__(self, datadir: str, genesis: Genesis, index: int, m: Any, memo: dict | None = None,
                 behaviour: str | None = None) -> None:
        self.datadir = datadir
        self.genesis = genesis
        self.index = index
        self.m = m
        self.behaviour = behaviour
        os.makedirs(datadir, exist_ok=True)
        self.db = sqlite3.connect(os.path.join(datadir, "node.sqlite"), check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.store = SharedAtxStore(m.atx, self.db)
        crypto = m.crypto
        self.golden = crypto.golden_atx(genesis.genesis_time, genesis.extra_data)
        self.genesis_id = crypto.genesis_id(genesis.genesis_time, genesis.extra_data)
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
        self.identities = [Identity(name, bytes.fromhex(seed), units)
                           for name, seed, units in genesis.identities[str(index)]]
        self.keys = {ident.name: crypto.public_key(ident.seed) for ident in self.identities}
        self.by_key = {self.keys[i.name]: i for i in self.identities}
        self.married = index in genesis.married and len(self.identities) >= 2
        self.current_layer = 0
        self.sessions: dict[int, HareSession] = {}
        self.slot_cache: dict[tuple, Any] = {}
        self._init_meta()
        self._init_post()
        self.tortoise = self._replay_tortoise()

    # -- setup -------------------------------------------------------------------------------

    def _init_meta(self) -> None:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'genesis'").fetchone()
        if row is None:
            with self.db:
                self.db.execute("INSERT INTO meta VALUES ('genesis', ?)", (self.genesis.to_json(),))
                self.db.execute("INSERT INTO meta VALUES ('index', ?)", (str(self.index),))
                for address, balance in sorted(self.genesis.accounts.items()):
                    self.db.execute("INSERT INTO accounts VALUES (?, ?, '0', NULL, X'', '{}')",
                                    (bytes.fromhex(address), str(balance)))
        elif Genesis.from_json(row[0]).to_json() != self.genesis.to_json():
            raise NodeHalted(f"{self.datadir} holds a node of another genesis configuration")

    def post_dir(self, ident: Identity) -> str:
        return os.path.join(self.datadir, "post", ident.name)

    def _init_post(self) -> None:
        post = self.m.post
        for ident in self.identities:
            directory = self.post_dir(ident)
            if os.path.exists(os.path.join(directory, post.METADATA_FILE_NAME)):
                continue
            config = self.params.post
            post.initialize(directory, self.keys[ident.name], self.golden, ident.units, config.labels_per_unit,
                            self.params.max_file_size, config.scrypt_n)

    def _replay_tortoise(self) -> Any:
        t = self.m.tortoise
        state = t.new_tortoise(self.tconfig)
        for (event,) in self.db.execute("SELECT event FROM tortoise_events ORDER BY seq").fetchall():
            tortoise_events.apply_event(t, state, json.loads(event))
        return state

    def close(self) -> None:
        self.db.close()

    # -- small helpers -------------------------------------------------------------------------

    def _event(self, event: dict) -> None:
        """Log a tortoise event (inside the caller's transaction) and apply it."""
        self.db.execute("INSERT INTO tortoise_events (event) VALUES (?)", (json.dumps(event),))
        tortoise_events.apply_event(self.m.tortoise, self.tortoise, event)

    def _reject(self, kind: str, reason: str) -> None:
        with self.db:
            self.db.execute("INSERT INTO rejections (kind, reason, layer) VALUES (?, ?, ?)",
                            (kind, reason, self.current_layer))

    def epoch_of(self, layer: int) -> int:
        return layer // self.L

    def beacon(self, epoch: int) -> bytes:
        return p.beacon(self.genesis_id, epoch)

    def atx_config(self) -> Any:
        return self.m.atx.AtxConfig(genesis_id=self.genesis_id, golden_atx=self.golden,
                                    current_epoch=self.epoch_of(self.current_layer), tick_size=self.genesis.tick_size)

    def epoch_atxs(self, epoch: int) -> list:
        """Rule "active-set": every valid ATX published in `epoch - 1` (malicious ones included)."""
        rows = self.db.execute("SELECT id FROM atxs WHERE publish_epoch = ? ORDER BY id", (epoch - 1,)).fetchall()
        return [self.store.get_atx(row[0]) for row in rows]

    def active_weights(self, epoch: int) -> dict[bytes, int]:
        weights: dict[bytes, int] = {}
        for atx in self.epoch_atxs(epoch):
            weights[atx.smesher_id] = weights.get(atx.smesher_id, 0) + atx.weight
        return weights

    def is_malicious(self, node_id: bytes) -> bool:
        return self.store.is_malicious(node_id) or self.db.execute(
            "SELECT 1 FROM malfeasance WHERE node_id = ?", (node_id,)).fetchone() is not None

    def _mark_malicious(self, node_id: bytes, reason: str) -> None:
        """Inside a transaction: record malfeasance and tell the tortoise."""
        if self.db.execute("SELECT 1 FROM malfeasance WHERE node_id = ?", (node_id,)).fetchone():
            return
        self.db.execute("INSERT INTO malfeasance VALUES (?, ?, ?)", (node_id, reason, self.current_layer))
        self._event({"op": "malfeasance", "node": hexstr(node_id)})

    def load_state(self) -> w.State:
        rows = self.db.execute("SELECT address, balance, nonce, template, state, storage FROM accounts").fetchall()
        return w.State(self.m, self.code, rows)

    # -- gossip ----------------------------------------------------------------------------------

    def handle(self, kind: str, data: bytes) -> bool:
        """Validate and store a gossiped object; True when it is new and valid (relay it)."""
        handler = {"poet": self._on_poet, "atx": self._on_atx, "proposal": self._on_proposal, "tx": self._on_tx,
                   "cert": self._on_certificate}.get(kind)
        if handler is None:
            self._reject("unknown", "unknown_kind")
            return False
        errors = (Rejected, SpecError, w.TxError)
        try:
            return handler(data)
        except errors as error:
            self._reject(kind, getattr(error, "reason", type(error).__name__))
            return False

    def _on_poet(self, data: bytes) -> bool:
        proof = p.decode(data, p.PoetProof)
        ref = p.poet_ref(proof)
        if self.db.execute("SELECT 1 FROM poet_proofs WHERE ref = ?", (ref,)).fetchone():
            return False
        if proof.leaf_count < self.genesis.tick_size:
            raise Rejected("poet_too_short")
        if p.poet_work(proof.statement, proof.leaf_count) != proof.final:
            raise Rejected("poet_bad_work")
        with self.db:
            self.db.execute("INSERT INTO poet_proofs VALUES (?, ?, ?)", (ref, proof.epoch, data))
            self.store.add_poet_proof(self.m.atx.PoetProofInfo(ref, proof.statement, proof.leaf_count))
        return True

    def _on_atx(self, data: bytes) -> bool:
        atx_mod, mal = self.m.atx, self.m.mal
        decoded = atx_mod.decode_atx_v2(data)
        if self.store.get_atx(atx_mod.atx_id_v2(decoded, self.atx_config().id_scheme)) is not None:
            return False
        with self.db:
            stored, finding = mal.handle_atx_v2(data, self.store, self.atx_config(), self.verifier)
            self._event({"op": "atx", "epoch": stored.publish_epoch + 1, "id": hexstr(stored.id),
                         "node": hexstr(stored.smesher_id), "weight": stored.weight, "height": stored.tick_height()})
            if finding is not None:
                self._mark_malicious(finding.node_id, f"atx_proof_{finding.proof_type}")
        return True

    def _proposal_eligibility(self, proposal: p.Proposal, atx: Any) -> tuple[int, bytes]:
        """(slots, beacon) of a proposal, from its epoch data or its reference proposal."""
        epoch = self.epoch_of(proposal.layer)
        if proposal.epoch_data is not None:
            if proposal.ref is not None:
                raise Rejected("ref_and_epoch_data")
            total = sum(a.weight for a in self.epoch_atxs(epoch))
            slots = p.proposal_slots(atx.weight, total, self.L, self.genesis.layer_size)
            if proposal.epoch_data.eligibilities != slots:
                raise Rejected("wrong_eligibility_count", f"{proposal.epoch_data.eligibilities} != {slots}")
            return slots, proposal.epoch_data.beacon
        if proposal.ref is None:
            raise Rejected("no_epoch_data")
        row = self.db.execute("SELECT raw FROM proposals WHERE id = ?", (proposal.ref,)).fetchone()
        if row is None:
            raise Rejected("ref_unknown")
        ref = p.decode(row[0], p.Proposal)
        if ref.smesher != proposal.smesher or self.epoch_of(ref.layer) != epoch or ref.epoch_data is None:
            raise Rejected("bad_ref")
        return ref.epoch_data.eligibilities, ref.epoch_data.beacon

    def _on_proposal(self, data: bytes) -> bool:
        t, crypto = self.m.tortoise, self.m.crypto
        proposal = p.decode(data, p.Proposal)
        pid = p.proposal_id(proposal)
        if self.db.execute("SELECT 1 FROM proposals WHERE id = ?", (pid,)).fetchone():
            return False
        layer, epoch = proposal.layer, self.epoch_of(proposal.layer)
        if layer < self.first_ballot_layer:
            raise Rejected("genesis_layer")
        if layer > self.current_layer + 1:
            raise Rejected("future_layer")
        if not crypto.verify_signature(proposal.smesher, crypto.Domain.PROPOSAL, self.genesis_id,
                                       p.unsigned_bytes(proposal, p.Proposal), proposal.signature):
            raise Rejected("bad_signature")
        atx = self.store.get_atx(proposal.atx_id)
        if atx is None or atx.publish_epoch != epoch - 1:
            raise Rejected("atx_not_in_epoch")
        if atx.smesher_id != proposal.smesher:
            raise Rejected("atx_of_another_smesher")
        if self.is_malicious(proposal.smesher):
            raise Rejected("malicious_smesher")
        other = self.db.execute("SELECT id FROM proposals WHERE layer = ? AND smesher = ?",
                                (layer, proposal.smesher)).fetchone()
        slots, declared_beacon = self._proposal_eligibility(proposal, atx)
        counters = [e.counter for e in proposal.eligibilities]
        if not counters or counters != sorted(set(counters)) or counters[-1] >= slots:
            raise Rejected("bad_eligibility_counters")
        for eligibility in proposal.eligibilities:
            alpha = p.ballot_vrf_alpha(declared_beacon, epoch, atx.vrf_nonce, eligibility.counter)
            if not crypto.vrf_verify(proposal.smesher, eligibility.proof, alpha):
                raise Rejected("bad_eligibility_proof")
            if p.eligible_layer(epoch, self.L, eligibility.proof) != layer:
                raise Rejected("not_eligible_in_layer")
        if other is not None:
            # rule "ballot-malfeasance": a second, different proposal in one layer
            with self.db:
                self._mark_malicious(proposal.smesher, "double_proposal")
            raise Rejected("double_proposal")
        ballot = self.ballot_data(pid, proposal, slots)
        decoded = t.decode_ballot(self.tortoise, ballot)
        with self.db:
            self.db.execute("INSERT INTO proposals VALUES (?, ?, ?, ?, (SELECT COUNT(*) FROM proposals))",
                            (pid, layer, proposal.smesher, data))
            self.db.execute("INSERT INTO tortoise_events (event) VALUES (?)",
                            (json.dumps(tortoise_events.ballot_to_json(ballot)),))
            t.store_ballot(self.tortoise, decoded)
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

    def _on_tx(self, data: bytes) -> bool:
        tx = p.decode(data, p.Tx)
        tid = p.tx_id(tx)
        if self.db.execute("SELECT 1 FROM txs WHERE id = ?", (tid,)).fetchone():
            return False
        # Every well-formed transaction is kept (a block may name it). A spend of a wallet not
        # spawned here yet cannot be checked: it waits as 'unchecked' and is relayed; an invalid
        # one is kept as 'rejected' and neither relayed nor proposed.
        status, error = "pending", None
        try:
            self.load_state().check(self.genesis_id, tx, exact_nonce=False)
        except w.TxError as failure:
            if failure.reason == "not_spawned":
                status = "unchecked"
            else:
                status, error = "rejected", failure
        with self.db:
            self.db.execute("INSERT INTO txs VALUES (?, ?, ?, ?, ?, NULL, (SELECT COUNT(*) FROM txs))",
                            (tid, data, tx.principal, tx.nonce, status))
        if error is not None:
            raise error
        return True

    def _certificate_bytes(self, layer: int, block_id: bytes) -> bytes:
        return b"smspec-devnet-certificate" + layer.to_bytes(4, "little") + block_id

    def _on_certificate(self, data: bytes) -> bool:
        crypto = self.m.crypto
        cert = p.decode(data, p.Certificate)
        layer = cert.layer
        if layer < self.first_ballot_layer or layer > self.current_layer:
            raise Rejected("certificate_layer")
        if self.db.execute("SELECT 1 FROM certificates WHERE layer = ? AND signer = ?", (layer, cert.signer)).fetchone():
            return False
        weights = self.active_weights(self.epoch_of(layer))
        if cert.signer not in weights:
            raise Rejected("certificate_signer_not_active")
        if not crypto.verify_signature(cert.signer, crypto.Domain.HARE, self.genesis_id,
                                       self._certificate_bytes(layer, cert.block_id), cert.signature):
            raise Rejected("bad_signature")
        if cert.block_id == p.EMPTY_ID20:
            if cert.block is not None:
                raise Rejected("certificate_block_mismatch")
        elif cert.block is None or p.block_id(cert.block) != cert.block_id or cert.block.layer != layer:
            raise Rejected("certificate_block_mismatch")
        with self.db:
            self.db.execute("INSERT INTO certificates VALUES (?, ?, ?, ?)", (layer, cert.signer, cert.block_id, data))
            if cert.block is not None:
                self._store_block(cert.block)
            own = self.db.execute("SELECT 1 FROM hare_outputs WHERE layer = ?", (layer,)).fetchone()
            if own is None and layer not in self.sessions:
                total = sum(weights.values())
                signed = 0
                for signer, block in self.db.execute("SELECT signer, block_id FROM certificates WHERE layer = ?", (layer,)):
                    if block == cert.block_id:
                        signed += weights.get(signer, 0)
                if 2 * signed > total:
                    self._store_hare_output(layer, cert.block_id, "certificate", None)
        return True

    def _store_block(self, block: p.Block) -> None:
        bid = p.block_id(block)
        if self.db.execute("SELECT 1 FROM blocks WHERE id = ?", (bid,)).fetchone():
            return
        self.db.execute("INSERT INTO blocks VALUES (?, ?, ?)", (bid, block.layer, p.encode(block, p.Block)))
        self._event({"op": "block", "layer": block.layer, "id": hexstr(bid), "height": block.tick_height})

    def _store_hare_output(self, layer: int, block_id: bytes, source: str, iteration: int | None) -> None:
        self.db.execute("INSERT OR IGNORE INTO hare_outputs VALUES (?, ?, ?, ?)", (layer, block_id, source, iteration))
        self._event({"op": "hare", "layer": layer, "block": hexstr(block_id)})

    # -- layers ----------------------------------------------------------------------------------

    def begin_layer(self, layer: int) -> None:
        self.current_layer = layer
        epoch = self.epoch_of(layer)
        if layer % self.L == 0 and not self.db.execute("SELECT 1 FROM beacons WHERE epoch = ?", (epoch,)).fetchone():
            with self.db:
                self.db.execute("INSERT INTO beacons VALUES (?, ?)", (epoch, self.beacon(epoch)))
                self._event({"op": "beacon", "epoch": epoch, "beacon": hexstr(self.beacon(epoch))})

    def layer_done(self, layer: int) -> bool:
        return self.db.execute("SELECT 1 FROM progress WHERE layer = ?", (layer,)).fetchone() is not None

    def last_done(self) -> int:
        row = self.db.execute("SELECT MAX(layer) FROM progress").fetchone()
        return -1 if row[0] is None else row[0]

    # -- ATX phase -------------------------------------------------------------------------------

    def _latest_atx(self, ident: Identity) -> Any:
        atxs = self.store.atxs_of(self.keys[ident.name])
        return max(atxs, key=lambda a: a.publish_epoch) if atxs else None

    def _initial_post(self, ident: Identity) -> Any:
        row = self.db.execute("SELECT initial_post FROM identities WHERE name = ?", (ident.name,)).fetchone()
        if row is not None:
            return p.decode(row[0], self.m.atx.PostV1)
        post = self._prove(ident, bytes(32))
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO identities VALUES (?, ?)", (ident.name, p.encode(post, self.m.atx.PostV1)))
        return post

    def _prove(self, ident: Identity, challenge: bytes) -> Any:
        """A PoST proof; with the "post-memo" rule memoized by (identity, commitment, units,
        challenge), which determine the data and hence the proof."""
        post = self.m.post
        key = (self.genesis.config, "prove", self.keys[ident.name], self.golden, ident.units, challenge)
        memo = self.verifier.memo
        if memo is not None and key in memo:
            return memo[key]
        proof = post.generate_proof(self.post_dir(ident), challenge, self.params.proving_nonces, self.params.post)
        result = self.m.atx.PostV1(proof.nonce, proof.indices, proof.pow)
        if memo is not None:
            memo[key] = result
        return result

    def atx_plans(self, epoch: int) -> list[dict]:
        """What each own identity publishes in `epoch`: initial, solo (maybe marrying) or merged."""
        atx = self.m.atx
        plans = []
        latest = {ident.name: self._latest_atx(ident) for ident in self.identities}
        done = {name for name, a in latest.items() if a is not None and a.publish_epoch >= epoch}
        pending = [ident for ident in self.identities if ident.name not in done]
        if self.married and all(i.name not in done for i in self.identities[:2]):
            first, second = self.identities[:2]
            record = self.store.marriage(self.keys[first.name])
            if record is not None:
                wedding = self.store.get_atx(record.marriage_atx)
                if wedding.publish_epoch + atx.MARRIAGE_EPOCH_DISTANCE <= epoch:
                    plans.append({"kind": "merged", "members": [first, second], "prev": [latest[first.name].id,
                                                                                         latest[second.name].id]})
                    pending = [i for i in pending if i not in (first, second)]
            elif latest[first.name] is not None and latest[second.name] is not None:
                plans.append({"kind": "solo", "members": [first], "prev": [latest[first.name].id],
                              "marry": [second, latest[second.name].id]})
                pending = [i for i in pending if i is not first]
        for ident in pending:
            if latest[ident.name] is None:
                plans.append({"kind": "initial", "members": [ident], "prev": [atx.EMPTY_ID]})
            else:
                plans.append({"kind": "solo", "members": [ident], "prev": [latest[ident.name].id]})
        for plan in plans:
            positioning = self.golden if plan["kind"] == "initial" else plan["prev"][0]
            plan["positioning"] = positioning
            challenges = []
            for member, prev in zip(plan["members"], plan["prev"]):
                initial_post = self._initial_post(member) if plan["kind"] == "initial" else None
                plan["initial_post"] = initial_post
                challenges.append(atx.challenge_hash_v2(atx.NIPostChallengeV2(epoch, prev, positioning, initial_post)))
            plan["challenges"] = challenges
        return plans

    def own_atxs(self, epoch: int) -> list[bytes]:
        blobs = []
        for ident in self.identities:
            for stored in self.store.atxs_of(self.keys[ident.name]):
                if stored.publish_epoch == epoch and stored.smesher_id == self.keys[ident.name]:
                    blobs.append(stored.blob)
        return blobs

    def atx_register(self, epoch: int, poet: Any) -> None:
        for plan in self.atx_plans(epoch):
            for challenge in plan["challenges"]:
                poet.register(epoch, challenge)

    def atx_publish(self, epoch: int, poet: Any) -> list[bytes]:
        """Build, store and return this node's ATXs of `epoch` (ones already stored are returned too)."""
        atx, crypto = self.m.atx, self.m.crypto
        proof_data = poet.proof(epoch)
        if proof_data is None:
            return self.own_atxs(epoch)
        self.handle("poet", proof_data)
        ref = p.poet_ref(p.decode(proof_data, p.PoetProof))
        for plan in self.atx_plans(epoch):
            membership = poet.membership(epoch, plan["challenges"])
            if membership is None:
                continue  # not registered in time: no ATX this epoch
            indices, nodes = membership
            members = plan["members"]
            signer = members[0]
            subs = []
            previous = []
            for prev in plan["prev"]:
                if plan["kind"] != "initial" and prev not in previous:
                    previous.append(prev)
            for position, (member, leaf) in enumerate(zip(members, indices)):
                prev_index = previous.index(plan["prev"][position]) if previous else 0
                subs.append(atx.SubPostV2(position, prev_index, leaf, self._prove(member, ref), member.units))
            marriages = []
            if "marry" in plan:
                partner, partner_atx = plan["marry"]
                marriages = [
                    atx.MarriageCertificate(atx.EMPTY_ID, crypto.sign(signer.seed, crypto.Domain.MARRIAGE, self.genesis_id,
                                                                      self.keys[signer.name])),
                    atx.MarriageCertificate(partner_atx, crypto.sign(partner.seed, crypto.Domain.MARRIAGE, self.genesis_id,
                                                                     self.keys[signer.name])),
                ]
            marriage_atx = None
            if plan["kind"] == "merged":
                marriage_atx = self.store.marriage(self.keys[signer.name]).marriage_atx
            total_units = sum(m.units for m in members)
            value = atx.ActivationTxV2(
                publish_epoch=epoch, positioning_atx=plan["positioning"],
                coinbase=w.wallet_address(self.template, self.keys[signer.name]),
                initial=atx.InitialAtxPartsV2(self.golden, plan["initial_post"]) if plan["kind"] == "initial" else None,
                previous_atxs=previous, niposts=[atx.NiPostV2(atx.MerkleProofV2(nodes), ref, subs)],
                vrf_nonce=self._vrf_nonce(signer, total_units), marriages=marriages, marriage_atx=marriage_atx,
                smesher_id=self.keys[signer.name], signature=bytes(64))
            atx_id = atx.atx_id_v2(value, self.atx_config().id_scheme)
            value = attrs.evolve(value, signature=crypto.sign(signer.seed, crypto.Domain.ATX, self.genesis_id, atx_id))
            self.handle("atx", atx.encode_atx_v2(value))
        return self.own_atxs(epoch)

    def _vrf_nonce(self, ident: Identity, total_units: int) -> int:
        """The identity's initialization nonce, or for a merged ATX the first index valid for the
        summed units (ATX rule C11 checks the signer's nonce against them)."""
        post = self.m.post
        metadata = post.load_metadata(self.post_dir(ident))
        if total_units == ident.units:
            return metadata.nonce
        index = 0
        while not post.verify_vrf_nonce(self.keys[ident.name], self.golden, total_units, index, self.params.post):
            index += 1
        return index

    # -- proposals -----------------------------------------------------------------------------

    def _slots(self, ident: Identity, epoch: int, atx: Any) -> list:
        key = (ident.name, epoch, atx.id)
        if key not in self.slot_cache:
            total = sum(a.weight for a in self.epoch_atxs(epoch))
            slots = p.proposal_slots(atx.weight, total, self.L, self.genesis.layer_size)
            found = []
            for counter in range(slots):
                proof = self.m.crypto.vrf_prove(ident.seed, p.ballot_vrf_alpha(self.beacon(epoch), epoch, atx.vrf_nonce,
                                                                              counter))
                found.append((counter, proof, p.eligible_layer(epoch, self.L, proof)))
            self.slot_cache[key] = (slots, found)
        return self.slot_cache[key]

    def pending_txs(self) -> list[bytes]:
        state = self.load_state()
        ids = []
        rows = self.db.execute("SELECT id, raw FROM txs WHERE status IN ('pending', 'unchecked') "
                               "ORDER BY principal, nonce, id").fetchall()
        for tid, raw in rows:
            try:
                state.check(self.genesis_id, p.decode(raw, p.Tx), exact_nonce=False)
            except w.TxError:
                continue
            ids.append(tid)
        return ids[: p.MAX_TXS_PER_PROPOSAL]

    def propose(self, layer: int, tx_ids: list | None = None) -> list[bytes]:
        """This node's proposals for `layer` (stored ones are returned again, never re-signed)."""
        t = self.m.tortoise
        if layer < self.first_ballot_layer:
            return []
        epoch = self.epoch_of(layer)
        out = []
        for ident in self.identities:
            key = self.keys[ident.name]
            row = self.db.execute("SELECT raw FROM proposals WHERE layer = ? AND smesher = ?", (layer, key)).fetchone()
            if row is not None:
                out.append(row[0])
                continue
            atx = next((a for a in self.epoch_atxs(epoch) if a.smesher_id == key), None)
            if atx is None or (self.is_malicious(key) and self.behaviour != "byzantine"):
                continue
            slots, found = self._slots(ident, epoch, atx)
            eligibilities = [p.Eligibility(c, proof) for c, proof, at in found if at == layer]
            if not eligibilities:
                continue
            try:
                opinion = t.encode_votes(self.tortoise, layer)
            except t.EncodeVotesError:
                continue
            ref_row = self.db.execute(
                "SELECT id FROM proposals WHERE smesher = ? AND layer >= ? AND layer < ? ORDER BY layer LIMIT 1",
                (key, epoch * self.L, layer)).fetchone()
            votes = opinion.votes
            proposal = p.Proposal(
                layer=layer, atx_id=atx.id,
                epoch_data=None if ref_row else p.EpochData(self.beacon(epoch), slots),
                ref=ref_row[0] if ref_row else None, opinion=opinion.hash,
                votes=p.WireVotes(votes.base, [p.WireHeader(h.id, h.layer, h.height) for h in votes.support],
                                  [p.WireHeader(h.id, h.layer, h.height) for h in votes.against], list(votes.abstain)),
                eligibilities=eligibilities, tx_ids=list(self.pending_txs() if tx_ids is None else tx_ids),
                smesher=key, signature=bytes(64))
            proposal = self.sign_proposal(ident, proposal)
            data = p.encode(proposal, p.Proposal)
            if self.handle("proposal", data) or self.behaviour == "byzantine":
                out.append(data)
        return out

    def sign_proposal(self, ident: Identity, proposal: p.Proposal) -> p.Proposal:
        crypto = self.m.crypto
        signature = crypto.sign(ident.seed, crypto.Domain.PROPOSAL, self.genesis_id, p.unsigned_bytes(proposal, p.Proposal))
        return attrs.evolve(proposal, signature=signature)

    # -- Hare ------------------------------------------------------------------------------------

    def hare_start(self, layer: int) -> bool:
        hare = self.m.hare
        if layer < self.first_ballot_layer:
            return False
        epoch = self.epoch_of(layer)
        weights = self.active_weights(epoch)
        if not weights:
            return False
        initial = []
        for pid, smesher in self.db.execute("SELECT id, smesher FROM proposals WHERE layer = ? ORDER BY id", (layer,)):
            if not self.is_malicious(smesher):
                initial.append(pid)
        state = hare.ProtocolState(threshold=self.params.threshold(hare, layer))
        hare.on_initial(state, tuple(initial))
        context = hare.SessionContext(layer=layer, genesis_id=self.genesis_id,
                                      active=hare.ActiveSet(beacon=self.beacon(epoch), weights=weights),
                                      committee=self.params.committee(hare, layer), leaders=self.params.hare_leaders)
        self.sessions[layer] = HareSession(state, context)
        return True

    def hare_round(self, layer: int) -> list[bytes]:
        """Execute the session's current round; the wire messages of this node's eligible identities."""
        hare = self.m.hare
        session = self.sessions.get(layer)
        if session is None or session.stopped:
            return []
        executed = session.state.iter_round
        out = hare.next_round(session.state)
        session.rounds += 1
        if out.result is not None and session.result is None:
            session.result = out.result
            session.result_iter = executed.iter
        messages = []
        if executed.round in hare.MESSAGE_ROUNDS and out.message is not None:
            active = session.context.active
            for ident in self.identities:
                key = self.keys[ident.name]
                # an honest node whose identity is known malicious stays silent; a byzantine one does not
                if key not in active.weights or (self.is_malicious(key) and self.behaviour != "byzantine"):
                    continue
                eligibility = hare.own_eligibility(active, ident.seed, key, layer, executed, session.context.committee,
                                                   session.context.leaders)
                if eligibility is None:
                    continue
                message = hare.build_message(ident.seed, key, self.genesis_id, layer, out.message, eligibility)
                messages.append(hare.encode(message, hare.Message))
        if hare.session_should_stop(executed, out, self.params.hare_iterations):
            session.stopped = True
        return messages

    def hare_active(self, layer: int) -> bool:
        session = self.sessions.get(layer)
        return session is not None and not session.stopped

    def hare_receive(self, layer: int, data: bytes) -> bool:
        hare = self.m.hare
        session = self.sessions.get(layer)
        if session is None or session.stopped:
            return False
        sender = data[-96:-64] if len(data) >= 96 else b""
        try:
            received = hare.receive_message(session.context, session.state, data, self.is_malicious(sender))
        except SpecError as error:
            if error.reason != "not_relayed":
                self._reject("hare", error.reason)
            return False
        if received.proof is not None:
            with self.db:
                self._mark_malicious(sender, "hare_equivocation")
        return True

    def hare_done(self, layer: int) -> list[bytes]:
        """Close the session: store the Hare output and its block; this node's certificates."""
        session = self.sessions.pop(layer, None)
        if session is None:
            return []
        known = self.db.execute("SELECT block_id FROM hare_outputs WHERE layer = ?", (layer,)).fetchone()
        block_id = None
        if known is not None:
            block_id = known[0]
        elif session.result is not None:
            block = self.build_block(layer, session.result)
            if block is not None or not session.result:
                with self.db:
                    if block is not None:
                        self._store_block(block)
                    block_id = p.EMPTY_ID20 if block is None else p.block_id(block)
                    self._store_hare_output(layer, block_id, "hare", session.result_iter)
        if block_id is None:
            return []
        row = self.db.execute("SELECT raw FROM blocks WHERE id = ?", (block_id,)).fetchone()
        block = None if row is None else p.decode(row[0], p.Block)
        certs = []
        crypto = self.m.crypto
        for ident in self.identities:
            key = self.keys[ident.name]
            if key not in session.context.active.weights:
                continue
            signature = crypto.sign(ident.seed, crypto.Domain.HARE, self.genesis_id, self._certificate_bytes(layer, block_id))
            data = p.encode(p.Certificate(layer, block_id, block, key, signature), p.Certificate)
            if self.handle("cert", data) or self.db.execute(
                    "SELECT 1 FROM certificates WHERE layer = ? AND signer = ?", (layer, key)).fetchone():
                certs.append(data)
        return certs

    def build_block(self, layer: int, proposal_ids: tuple) -> p.Block | None:
        """Rule "block": the block of a Hare output (None when empty or a proposal is missing)."""
        if not proposal_ids:
            return None
        tx_ids: list[bytes] = []
        rewards = []
        heights = []
        for pid in sorted(proposal_ids):
            row = self.db.execute("SELECT raw FROM proposals WHERE id = ?", (pid,)).fetchone()
            if row is None:
                return None
            proposal = p.decode(row[0], p.Proposal)
            for tid in proposal.tx_ids:
                if tid not in tx_ids:
                    tx_ids.append(tid)
            atx = self.store.get_atx(proposal.atx_id)
            rewards.append(p.Reward(atx.coinbase, atx.id, atx.weight))
            heights.append(atx.tick_height())
        return p.Block(layer, min(heights), sorted(proposal_ids), tx_ids, rewards)

    # -- end of layer: tortoise and state ------------------------------------------------------

    def end_layer(self, layer: int) -> LayerReport:
        """Weak coin, tally, apply verified layers; mark the layer done (idempotent)."""
        if not self.layer_done(layer):
            epoch_beacon = self.beacon(self.epoch_of(layer))
            with self.db:
                if layer >= self.first_ballot_layer:
                    self._event({"op": "weakcoin", "layer": layer, "coin": p.weak_coin(epoch_beacon, layer)})
                self._event({"op": "tally", "layer": layer})
            self.apply_verified()
            with self.db:
                self.db.execute("INSERT OR IGNORE INTO progress VALUES (?)", (layer,))
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('status', ?)", (json.dumps(self.status()),))
        return self.report(layer)

    def applied_top(self) -> int:
        row = self.db.execute("SELECT MAX(layer) FROM applied").fetchone()
        return self.first_ballot_layer - 1 if row[0] is None else row[0]

    def apply_verified(self) -> None:
        t = self.m.tortoise
        state = self.tortoise
        for result in t.updates(state):
            row = self.db.execute("SELECT block_id FROM applied WHERE layer = ?", (result.layer,)).fetchone()
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
                row = self.db.execute("SELECT raw FROM blocks WHERE id = ?", (valid[0],)).fetchone()
                if row is None:
                    return  # block data missing: wait for it
                block = p.decode(row[0], p.Block)
            self.apply_block(layer, block, result.opinion)
            layer += 1

    def apply_block(self, layer: int, block: p.Block | None, opinion: bytes) -> None:
        state = self.load_state()
        results = {}
        if block is not None:
            for tid in block.tx_ids:
                row = self.db.execute("SELECT raw FROM txs WHERE id = ?", (tid,)).fetchone()
                if row is None:
                    results[tid.hex()] = "skipped:unknown_tx"
                    continue
                results[tid.hex()] = state.execute(self.genesis_id, p.decode(row[0], p.Tx))
            for coinbase, amount in p.split_rewards(block.rewards, self.genesis.layer_reward):
                state.credit(coinbase, amount)
        root = state.root()
        with self.db:
            self.db.execute("DELETE FROM accounts")
            self.db.executemany("INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?)", state.rows())
            for tid, outcome in results.items():
                if not outcome.startswith("skipped"):
                    self.db.execute("UPDATE txs SET status = ?, layer = ? WHERE id = ?", (outcome, layer, bytes.fromhex(tid)))
            self.db.execute("INSERT INTO applied VALUES (?, ?, ?, ?)",
                            (layer, p.EMPTY_ID20 if block is None else p.block_id(block), root, json.dumps(results)))
            self._event({"op": "applied", "layer": layer, "opinion": hexstr(opinion)})

    # -- reporting and sync ------------------------------------------------------------------------

    def state_root(self) -> bytes:
        row = self.db.execute("SELECT state_root FROM applied ORDER BY layer DESC LIMIT 1").fetchone()
        return self.load_state().root() if row is None else row[0]

    def report(self, layer: int) -> LayerReport:
        proposals = self.db.execute("SELECT COUNT(*) FROM proposals WHERE layer = ?", (layer,)).fetchone()[0]
        row = self.db.execute("SELECT block_id, source, iteration FROM hare_outputs WHERE layer = ?", (layer,)).fetchone()
        if row is None:
            hare = "-" if layer < self.first_ballot_layer else "none"
        elif row[0] == p.EMPTY_ID20:
            hare = "empty"
        else:
            hare = f"block {row[0][:4].hex()}" + (f" (iter {row[2]})" if row[2] is not None else f" ({row[1]})")
        return LayerReport(layer=layer, proposals=proposals, hare=hare, verified=self.tortoise.verified,
                           applied=self.applied_top(), state_root=self.state_root())

    def status(self) -> dict:
        return {
            "node": self.index,
            "layer": self.current_layer,
            "last_done": self.last_done(),
            "verified": self.tortoise.verified,
            "applied": self.applied_top(),
            "state_root": hexstr(self.state_root()),
            "atxs": self.db.execute("SELECT COUNT(*) FROM atxs").fetchone()[0],
            "proposals": self.db.execute("SELECT COUNT(*) FROM proposals").fetchone()[0],
            "blocks": self.db.execute("SELECT COUNT(*) FROM blocks").fetchone()[0],
            "malicious": [hexstr(r[0]) for r in self.db.execute("SELECT node_id FROM malfeasance ORDER BY node_id")],
            "rejections": dict(self.db.execute("SELECT kind || ':' || reason, COUNT(*) FROM rejections GROUP BY 1").fetchall()),
            "identities": {i.name: hexstr(self.keys[i.name]) for i in self.identities},
        }

    def export(self) -> list[tuple[str, bytes]]:
        """Everything a syncing peer needs, in an order its handlers accept (rule "sync")."""
        out: list[tuple[str, bytes]] = []
        out += [("poet", r[0]) for r in self.db.execute("SELECT raw FROM poet_proofs ORDER BY epoch")]
        out += [("atx", r[0]) for r in self.db.execute("SELECT blob FROM atxs ORDER BY seq")]
        out += [("tx", r[0]) for r in self.db.execute("SELECT raw FROM txs ORDER BY seq")]
        out += [("proposal", r[0]) for r in self.db.execute("SELECT raw FROM proposals ORDER BY layer, seq")]
        out += [("cert", r[0]) for r in self.db.execute("SELECT raw FROM certificates ORDER BY layer, signer")]
        return out

    def sync_from(self, peer_objects: list[tuple[str, bytes]], upto: int) -> int:
        """Feed a peer's objects through the gossip handlers, then finish every layer up to `upto`."""
        accepted = 0
        self.current_layer = upto
        for epoch in range(0, self.epoch_of(upto) + 1):
            self.begin_layer(epoch * self.L)
        self.current_layer = upto
        for kind, data in peer_objects:
            accepted += self.handle(kind, data)
        for layer in range(self.last_done() + 1, upto + 1):
            self.end_layer(layer)
        return accepted
