"""Storage: the one module that owns the SQLite schemas of the node and of the smeshing service.

Every SQL statement of ``tools/node`` lives here. :class:`NodeStore` is the node's read-write
store (one connection, WAL; the ATX tables of ``impl/atx.py``'s ``SqliteAtxStore`` share it, so an
ATX and the node's other records commit in one transaction); :class:`NodeReader` answers the
HTTP API's queries on read-only connections of its own (one per request, beside the node);
:class:`SmesherStore` is the smeshing service's private state (what it signed, its initial PoSTs,
its identities' state history). Nothing secret is ever written to a node's database.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator
from typing import Any

from smspec.impl.atx import SCHEMA as ATX_SCHEMA
from smspec.impl.atx import SqliteAtxStore

NODE_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS poet_proofs (ref BLOB PRIMARY KEY, epoch INTEGER, raw BLOB);
CREATE TABLE IF NOT EXISTS proposals (id BLOB PRIMARY KEY, layer INTEGER, smesher BLOB, raw BLOB, seq INTEGER);
CREATE INDEX IF NOT EXISTS proposals_by_layer ON proposals (layer, smesher);
CREATE TABLE IF NOT EXISTS hare_outputs (layer INTEGER PRIMARY KEY, block_id BLOB, source TEXT, iteration INTEGER);
CREATE TABLE IF NOT EXISTS certificates (layer INTEGER, signer BLOB, block_id BLOB, raw BLOB, PRIMARY KEY (layer, signer));
CREATE TABLE IF NOT EXISTS blocks (id BLOB PRIMARY KEY, layer INTEGER, raw BLOB);
CREATE TABLE IF NOT EXISTS txs (id BLOB PRIMARY KEY, raw BLOB, principal BLOB, nonce INTEGER, status TEXT,
                                layer INTEGER, seq INTEGER, relay INTEGER DEFAULT 0, received INTEGER DEFAULT 0);
CREATE INDEX IF NOT EXISTS txs_by_principal ON txs (principal, nonce);
CREATE INDEX IF NOT EXISTS txs_by_status ON txs (status);
CREATE TABLE IF NOT EXISTS tortoise_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT);
CREATE TABLE IF NOT EXISTS applied (layer INTEGER PRIMARY KEY, block_id BLOB, state_root BLOB, results TEXT);
CREATE TABLE IF NOT EXISTS accounts (address BLOB PRIMARY KEY, balance TEXT, nonce TEXT, template BLOB, state BLOB, storage TEXT);
CREATE TABLE IF NOT EXISTS templates (address BLOB PRIMARY KEY, code BLOB);
CREATE TABLE IF NOT EXISTS progress (layer INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS beacons (epoch INTEGER PRIMARY KEY, beacon BLOB);
CREATE TABLE IF NOT EXISTS malfeasance (node_id BLOB PRIMARY KEY, reason TEXT, layer INTEGER, proof BLOB);
CREATE TABLE IF NOT EXISTS rejections (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT, reason TEXT, layer INTEGER);
CREATE TABLE IF NOT EXISTS hare_rounds (layer INTEGER PRIMARY KEY, rounds INTEGER);
"""

# statuses of a transaction that may still land in a block (docs/node.md "Transactions")
WAITING = ("pending", "unchecked")
KNOWN_LIMIT = 4096  # entries of NodeStore's memory of Hare outputs and of blocks found


def connect(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


class NodeStore(SqliteAtxStore):
    """The node's database: impl/atx.py's `AtxStore` tables plus the node's own."""

    def __init__(self, spec: Any, path: str) -> None:
        self.spec = spec
        self.path = path
        self.db = connect(path)
        self.db.executescript(NODE_SCHEMA)
        self.db.executescript(ATX_SCHEMA)
        self.db.execute("INSERT OR IGNORE INTO counters VALUES ('set_id', 1), ('seq', 0)")
        self.db.commit()
        # publish epoch -> its ATXs (`atxs_published`): every node reads its epoch's ATXs for each
        # proposal, certificate and Hare session, so they are read from the tables once per epoch
        # and again only after an ATX is added (or a transaction that may have added one rolls back)
        self._atxs_published: dict[int, tuple] = {}
        # identities in `malicious` or `malfeasance`, asked for every Hare message (None: read again)
        self._flagged: set | None = None
        # rows found in `hare_outputs` and IDs found in `blocks` (asked for every certificate; neither
        # table changes a row once written): only what was read, dropped with a rolled-back
        # transaction, and all of it when `KNOWN_LIMIT` entries are reached
        self._hare_outputs: dict[int, tuple] = {}
        self._blocks: set[bytes] = set()

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        try:
            with self.db:
                yield
        except BaseException:
            self._atxs_published.clear()
            self._flagged = None
            self._hare_outputs.clear()
            self._blocks.clear()
            raise

    def add_atx(self, atx: Any) -> None:
        self._atxs_published.clear()
        super().add_atx(atx)

    def set_malicious(self, node_id: bytes) -> None:
        self._flagged = None
        super().set_malicious(node_id)

    def flagged(self, node_id: bytes) -> bool:
        """Whether the identity is malicious (`is_malicious`) or marked (`is_marked`)."""
        if self._flagged is None:
            self._flagged = {row[0] for row in self.db.execute("SELECT node_id FROM malicious UNION "
                                                                "SELECT node_id FROM malfeasance")}
        return node_id in self._flagged

    def one(self, sql: str, args: tuple = ()) -> Any:
        row = self.db.execute(sql, args).fetchone()
        return None if row is None else row[0]

    # -- meta ------------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        return self.one("SELECT value FROM meta WHERE key = ?", (key,))

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def init_accounts(self, accounts: dict[str, int]) -> None:
        for address, balance in sorted(accounts.items()):
            self.db.execute("INSERT INTO accounts VALUES (?, ?, '0', NULL, X'', '{}')", (bytes.fromhex(address), str(balance)))

    # -- PoET proofs -----------------------------------------------------------------------------

    def has_poet(self, ref: bytes) -> bool:
        return self.one("SELECT 1 FROM poet_proofs WHERE ref = ?", (ref,)) is not None

    def add_poet(self, ref: bytes, epoch: int, raw: bytes) -> None:
        self.db.execute("INSERT INTO poet_proofs VALUES (?, ?, ?)", (ref, epoch, raw))

    # -- ATXs (beyond the AtxStore interface) ------------------------------------------------------

    def atx_ids_published(self, epoch: int) -> list[bytes]:
        return [r[0] for r in self.db.execute("SELECT id FROM atxs WHERE publish_epoch = ? ORDER BY id", (epoch,))]

    def atxs_published(self, epoch: int) -> tuple:
        """The ATXs published in `epoch`, by ID (stored ATXs never change; read once, see above)."""
        found = self._atxs_published.get(epoch)
        if found is None:
            found = self._atxs_published[epoch] = tuple(self.get_atx(atx_id) for atx_id in self.atx_ids_published(epoch))
        return found

    def last_publish_epoch(self) -> int | None:
        """The highest publish epoch of a stored ATX (None: no ATX)."""
        return self.one("SELECT MAX(publish_epoch) FROM atxs")

    def atx_blobs_published(self, epoch: int) -> list[bytes]:
        return [r[0] for r in self.db.execute("SELECT blob FROM atxs WHERE publish_epoch = ? ORDER BY seq", (epoch,))]

    def last_atx_id(self, node_id: bytes) -> bytes | None:
        return self.one("SELECT id FROM atxs WHERE smesher_id = ? ORDER BY publish_epoch DESC LIMIT 1", (node_id,))

    def highest_atx_before(self, epoch: int) -> bytes | None:
        """The ATX of the greatest tick height published before `epoch` (lowest ID on a tie)."""
        return self.one("SELECT id FROM atxs WHERE publish_epoch < ? "
                        "ORDER BY CAST(base_tick_height AS INTEGER) + CAST(tick_count AS INTEGER) DESC, id LIMIT 1",
                        (epoch,))

    def atx_count(self) -> int:
        return self.one("SELECT COUNT(*) FROM atxs")

    # -- proposals --------------------------------------------------------------------------------

    def has_proposal(self, pid: bytes) -> bool:
        return self.one("SELECT 1 FROM proposals WHERE id = ?", (pid,)) is not None

    def proposal_raw(self, pid: bytes) -> bytes | None:
        return self.one("SELECT raw FROM proposals WHERE id = ?", (pid,))

    def proposal_of(self, layer: int, smesher: bytes) -> bytes | None:
        """The raw proposal a smesher made in a layer (None if none)."""
        return self.one("SELECT raw FROM proposals WHERE layer = ? AND smesher = ?", (layer, smesher))

    def first_proposal_id(self, smesher: bytes, first_layer: int, before: int) -> bytes | None:
        """The smesher's first proposal in layers [first_layer, before) (its reference proposal)."""
        return self.one("SELECT id FROM proposals WHERE smesher = ? AND layer >= ? AND layer < ? ORDER BY layer LIMIT 1",
                        (smesher, first_layer, before))

    def proposals_in_layer(self, layer: int) -> list[tuple[bytes, bytes]]:
        """(proposal ID, smesher) of a layer, by ID."""
        return self.db.execute("SELECT id, smesher FROM proposals WHERE layer = ? ORDER BY id", (layer,)).fetchall()

    def add_proposal(self, pid: bytes, layer: int, smesher: bytes, raw: bytes) -> None:
        self.db.execute("INSERT INTO proposals VALUES (?, ?, ?, ?, (SELECT COUNT(*) FROM proposals))",
                        (pid, layer, smesher, raw))

    def proposal_count(self, layer: int | None = None) -> int:
        if layer is None:
            return self.one("SELECT COUNT(*) FROM proposals")
        return self.one("SELECT COUNT(*) FROM proposals WHERE layer = ?", (layer,))

    # -- Hare outputs, certificates, blocks --------------------------------------------------------

    def hare_output(self, layer: int) -> tuple | None:
        """(block ID, source, iteration) of a layer's Hare output."""
        found = self._hare_outputs.get(layer)
        if found is None:
            found = self.db.execute("SELECT block_id, source, iteration FROM hare_outputs WHERE layer = ?",
                                    (layer,)).fetchone()
            if found is not None:
                if len(self._hare_outputs) >= KNOWN_LIMIT:
                    self._hare_outputs.clear()
                self._hare_outputs[layer] = found
        return found

    def add_hare_output(self, layer: int, block_id: bytes, source: str, iteration: int | None) -> None:
        self.db.execute("INSERT OR IGNORE INTO hare_outputs VALUES (?, ?, ?, ?)", (layer, block_id, source, iteration))

    def set_hare_rounds(self, layer: int, rounds: int) -> None:
        """The rounds this node's Hare session of a layer ran (local: not part of a sync)."""
        self.db.execute("INSERT OR REPLACE INTO hare_rounds VALUES (?, ?)", (layer, rounds))

    def has_certificate(self, layer: int, signer: bytes) -> bool:
        return self.one("SELECT 1 FROM certificates WHERE layer = ? AND signer = ?", (layer, signer)) is not None

    def add_certificate(self, layer: int, signer: bytes, block_id: bytes, raw: bytes) -> None:
        self.db.execute("INSERT INTO certificates VALUES (?, ?, ?, ?)", (layer, signer, block_id, raw))

    def certificates(self, layer: int) -> list[tuple[bytes, bytes]]:
        """(signer, block ID) of every certificate of a layer."""
        return self.db.execute("SELECT signer, block_id FROM certificates WHERE layer = ?", (layer,)).fetchall()

    def has_block(self, block_id: bytes) -> bool:
        if block_id in self._blocks:
            return True
        if self.one("SELECT 1 FROM blocks WHERE id = ?", (block_id,)) is None:
            return False
        if len(self._blocks) >= KNOWN_LIMIT:
            self._blocks.clear()
        self._blocks.add(block_id)
        return True

    def block_raw(self, block_id: bytes) -> bytes | None:
        return self.one("SELECT raw FROM blocks WHERE id = ?", (block_id,))

    def add_block(self, block_id: bytes, layer: int, raw: bytes) -> None:
        self.db.execute("INSERT INTO blocks VALUES (?, ?, ?)", (block_id, layer, raw))

    def block_count(self) -> int:
        return self.one("SELECT COUNT(*) FROM blocks")

    # -- transactions (the mempool) ----------------------------------------------------------------

    def tx_status(self, tid: bytes) -> str | None:
        return self.one("SELECT status FROM txs WHERE id = ?", (tid,))

    def tx_raw(self, tid: bytes) -> bytes | None:
        return self.one("SELECT raw FROM txs WHERE id = ?", (tid,))

    def add_tx(self, tid: bytes, raw: bytes, principal: bytes, nonce: int, status: str, relay: bool) -> None:
        self.db.execute("INSERT INTO txs (id, raw, principal, nonce, status, layer, seq, relay, received) "
                        "VALUES (?, ?, ?, ?, ?, NULL, (SELECT COUNT(*) FROM txs), ?, "
                        "(SELECT COALESCE(MAX(received), 0) + 1 FROM txs))",
                        (tid, raw, principal, nonce, status, int(relay)))

    def set_tx_status(self, tid: bytes, status: str, layer: int | None = None) -> None:
        self.db.execute("UPDATE txs SET status = ?, layer = COALESCE(?, layer) WHERE id = ?", (status, layer, tid))

    def delete_tx(self, tid: bytes) -> None:
        self.db.execute("DELETE FROM txs WHERE id = ?", (tid,))

    def waiting_txs(self) -> list[tuple[bytes, bytes, bytes, int, str]]:
        """(id, raw, principal, nonce, status) of every transaction that may still land, in the
        order proposals take them (principal, nonce, ID)."""
        return self.db.execute("SELECT id, raw, principal, nonce, status FROM txs WHERE status IN ('pending', 'unchecked') "
                               "ORDER BY principal, nonce, id").fetchall()

    def waiting_txs_of(self, principal: bytes) -> list[tuple[bytes, bytes, bytes, int, str]]:
        return self.db.execute("SELECT id, raw, principal, nonce, status FROM txs WHERE principal = ? AND status IN "
                               "('pending', 'unchecked') ORDER BY nonce, id", (principal,)).fetchall()

    def waiting_count(self, principal: bytes | None = None, status: str | None = None) -> int:
        sql, args = "SELECT COUNT(*) FROM txs WHERE status IN ('pending', 'unchecked')", ()
        if principal is not None:
            sql, args = sql + " AND principal = ?", (principal,)
        if status is not None:
            sql, args = sql + " AND status = ?", (*args, status)
        return self.one(sql, args)

    def oldest_waiting(self, status: str) -> bytes | None:
        return self.one("SELECT id FROM txs WHERE status = ? ORDER BY received LIMIT 1", (status,))

    def max_waiting_nonce(self, principal: bytes) -> int | None:
        return self.one("SELECT MAX(nonce) FROM txs WHERE principal = ? AND status IN ('pending', 'unchecked')",
                        (principal,))

    def take_relay(self) -> list[bytes]:
        """Raw transactions submitted through the API and not yet gossiped (cleared)."""
        rows = self.db.execute("SELECT id, raw FROM txs WHERE relay = 1 ORDER BY received").fetchall()
        if rows:
            with self.db:
                self.db.execute("UPDATE txs SET relay = 0 WHERE relay = 1")
        return [raw for _, raw in rows]

    def tx_counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM txs GROUP BY status").fetchall())

    def prune_refused(self, keep: int) -> None:
        """Keep only the `keep` latest refused transactions (rejected or evicted) for lookups."""
        self.db.execute("DELETE FROM txs WHERE (status LIKE 'rejected:%' OR status LIKE 'evicted:%') AND received <= "
                        "(SELECT COALESCE(MAX(received), 0) FROM txs) - ?", (keep,))

    # -- tortoise events, malfeasance, rejections ------------------------------------------------------

    def add_event(self, event: dict) -> None:
        self.db.execute("INSERT INTO tortoise_events (event) VALUES (?)", (json.dumps(event),))

    def events(self) -> list[dict]:
        return [json.loads(r[0]) for r in self.db.execute("SELECT event FROM tortoise_events ORDER BY seq")]

    def is_marked(self, node_id: bytes) -> bool:
        return self.one("SELECT 1 FROM malfeasance WHERE node_id = ?", (node_id,)) is not None

    def mark(self, node_id: bytes, reason: str, layer: int, proof: bytes | None = None) -> None:
        self._flagged = None
        self.db.execute("INSERT INTO malfeasance VALUES (?, ?, ?, ?)", (node_id, reason, layer, proof))

    def malfeasance_proof(self, node_id: bytes) -> tuple[str, bytes | None] | None:
        return self.db.execute("SELECT reason, proof FROM malfeasance WHERE node_id = ?", (node_id,)).fetchone()

    def marked(self) -> list[tuple[bytes, str, int]]:
        return self.db.execute("SELECT node_id, reason, layer FROM malfeasance ORDER BY node_id").fetchall()

    def add_rejection(self, kind: str, reason: str, layer: int) -> None:
        with self.db:
            self.db.execute("INSERT INTO rejections (kind, reason, layer) VALUES (?, ?, ?)", (kind, reason, layer))

    def rejection_counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT kind || ':' || reason, COUNT(*) FROM rejections GROUP BY 1").fetchall())

    def rejection_reasons(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT reason FROM rejections ORDER BY seq")]

    def rejection_total(self) -> int:
        return self.one("SELECT COUNT(*) FROM rejections")

    # -- layers: beacons, progress, applied state ------------------------------------------------------

    def has_beacon(self, epoch: int) -> bool:
        return self.one("SELECT 1 FROM beacons WHERE epoch = ?", (epoch,)) is not None

    def add_beacon(self, epoch: int, beacon: bytes) -> None:
        self.db.execute("INSERT INTO beacons VALUES (?, ?)", (epoch, beacon))

    def layer_done(self, layer: int) -> bool:
        return self.one("SELECT 1 FROM progress WHERE layer = ?", (layer,)) is not None

    def mark_done(self, layer: int) -> None:
        self.db.execute("INSERT OR IGNORE INTO progress VALUES (?)", (layer,))

    def last_done(self) -> int:
        top = self.one("SELECT MAX(layer) FROM progress")
        return -1 if top is None else top

    def first_done(self) -> int | None:
        return self.one("SELECT MIN(layer) FROM progress")

    def applied(self, layer: int) -> tuple | None:
        """(block ID, state root) applied at a layer."""
        return self.db.execute("SELECT block_id, state_root FROM applied WHERE layer = ?", (layer,)).fetchone()

    def applied_rows(self) -> list[tuple[int, bytes, bytes]]:
        return self.db.execute("SELECT layer, block_id, state_root FROM applied ORDER BY layer").fetchall()

    def applied_top(self) -> int | None:
        return self.one("SELECT MAX(layer) FROM applied")

    def latest_root(self) -> bytes | None:
        return self.one("SELECT state_root FROM applied ORDER BY layer DESC LIMIT 1")

    def accounts(self) -> list[tuple]:
        return self.db.execute("SELECT address, balance, nonce, template, state, storage FROM accounts").fetchall()

    def templates(self) -> list[tuple[bytes, bytes]]:
        """(address, code) of the templates deployed by transactions."""
        return self.db.execute("SELECT address, code FROM templates ORDER BY address").fetchall()

    def account_nonce(self, address: bytes) -> int:
        value = self.one("SELECT nonce FROM accounts WHERE address = ?", (address,))
        return 0 if value is None else int(value)

    def account_spawned(self, address: bytes, template: bytes) -> bool:
        return self.one("SELECT 1 FROM accounts WHERE address = ? AND template = ?", (address, template)) is not None

    def save_applied(self, layer: int, block_id: bytes, root: bytes, account_rows: list, results: dict[str, str],
                     template_rows: list | None = None) -> None:
        """Inside a transaction: the accounts (and deployed templates) after a layer, the outcome
        of its transactions."""
        self.db.execute("DELETE FROM accounts")
        self.db.executemany("INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?)", account_rows)
        if template_rows is not None:
            self.db.execute("DELETE FROM templates")
            self.db.executemany("INSERT INTO templates VALUES (?, ?)", template_rows)
        for tid, outcome in results.items():
            if not outcome.startswith("skipped"):
                self.db.execute("UPDATE txs SET status = ?, layer = ? WHERE id = ?", (outcome, layer, bytes.fromhex(tid)))
        self.db.execute("INSERT INTO applied VALUES (?, ?, ?, ?)", (layer, block_id, root, json.dumps(results)))

    # -- set reconciliation (tools/node/reconcile.py) -----------------------------------------------

    def sync_ids(self, kind: str, arg: int | None) -> list[bytes]:
        """The stored IDs of a synced set: PoET references, ATX IDs of publish epoch `arg`,
        identities with a servable malfeasance proof, transactions not refused, proposal IDs or
        certificate signers of layer `arg`."""
        if kind == "poet":
            sql, args = "SELECT ref FROM poet_proofs", ()
        elif kind == "atx":
            sql, args = "SELECT id FROM atxs WHERE publish_epoch = ?", (arg,)
        elif kind == "malfeasance":
            sql, args = ("SELECT node_id FROM malfeasance WHERE proof IS NOT NULL AND (reason IN "
                         "('double_proposal', 'hare_equivocation') OR reason LIKE 'atx_proof_%')"), ()
        elif kind == "tx":
            sql, args = "SELECT id FROM txs WHERE status NOT LIKE 'rejected:%' AND status NOT LIKE 'evicted:%'", ()
        elif kind == "proposal":
            sql, args = "SELECT id FROM proposals WHERE layer = ?", (arg,)
        elif kind == "cert":
            sql, args = "SELECT signer FROM certificates WHERE layer = ?", (arg,)
        else:
            raise ValueError(f"no synced set of kind {kind!r}")
        return [r[0] for r in self.db.execute(sql, args)]

    def sync_object(self, kind: str, arg: int | None, key: bytes) -> bytes | None:
        """The object a synced set holds under an ID (what `sync_ids` lists), as gossiped."""
        if kind == "poet":
            return self.one("SELECT raw FROM poet_proofs WHERE ref = ?", (key,))
        if kind == "atx":
            return self.one("SELECT blob FROM atxs WHERE id = ? AND publish_epoch = ?", (key, arg))
        if kind == "tx":
            return self.one("SELECT raw FROM txs WHERE id = ? AND status NOT LIKE 'rejected:%' "
                            "AND status NOT LIKE 'evicted:%'", (key,))
        if kind == "proposal":
            return self.one("SELECT raw FROM proposals WHERE id = ? AND layer = ?", (key, arg))
        if kind == "cert":
            return self.one("SELECT raw FROM certificates WHERE layer = ? AND signer = ?", (arg, key))
        if kind == "malfeasance":
            row = self.malfeasance_proof(key)
            if row is None or row[1] is None:
                return None
            reason, proof = row
            if reason == "double_proposal":
                return b"\x01" + proof
            if reason == "hare_equivocation":
                return b"\x02" + proof
            if reason.startswith("atx_proof_"):
                return b"\x03" + proof
            return None
        raise ValueError(f"no synced set of kind {kind!r}")

    # -- sync export ------------------------------------------------------------------------------

    def export(self) -> list[tuple[str, bytes]]:
        """Every stored object a syncing peer needs, in an order its handlers accept (rule "sync")."""
        out: list[tuple[str, bytes]] = []
        out += [("poet", r[0]) for r in self.db.execute("SELECT raw FROM poet_proofs ORDER BY epoch")]
        out += [("atx", r[0]) for r in self.db.execute("SELECT blob FROM atxs ORDER BY seq")]
        out += [("tx", r[0]) for r in self.db.execute("SELECT raw FROM txs WHERE status NOT LIKE 'rejected:%' "
                                                      "AND status NOT LIKE 'evicted:%' ORDER BY seq")]
        out += [("proposal", r[0]) for r in self.db.execute("SELECT raw FROM proposals ORDER BY layer, seq")]
        out += [("cert", r[0]) for r in self.db.execute("SELECT raw FROM certificates ORDER BY layer, signer")]
        return out


def last_done_on_disk(path: str) -> int | None:
    """The last finished layer of a node database, read without opening the node (None: no database)."""
    if not os.path.exists(path):
        return None
    db = sqlite3.connect(path)
    try:
        row = db.execute("SELECT MAX(layer) FROM progress").fetchone()
    except sqlite3.Error:
        row = (None,)
    finally:
        db.close()
    return -1 if row[0] is None else row[0]


# ---------------------------------------------------------------------------------------------
# Read side for the HTTP API


class NodeReader:
    """Read-only queries over one node's database (a connection of its own per call)."""

    def __init__(self, path: str) -> None:
        self.path = path
        if not os.path.exists(path):
            raise FileNotFoundError(f"no node database at {path}")

    @contextlib.contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
        try:
            yield db
        finally:
            db.close()

    def meta(self, key: str) -> str | None:
        with self.connect() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return None if row is None else row[0]

    def top_layer(self) -> int:
        with self.connect() as db:
            return db.execute("SELECT COALESCE(MAX(layer), -1) FROM progress").fetchone()[0]

    def layer_rows(self, first: int, last: int) -> list[tuple]:
        """(layer, applied block ID, state root, Hare output block ID) of layers [first, last]."""
        with self.connect() as db:
            applied = {r[0]: r[1:] for r in db.execute(
                "SELECT layer, block_id, state_root FROM applied WHERE layer BETWEEN ? AND ?", (first, last))}
            hare = {r[0]: r[1] for r in db.execute(
                "SELECT layer, block_id FROM hare_outputs WHERE layer BETWEEN ? AND ?", (first, last))}
        return [(layer, *(applied.get(layer) or (None, None)), hare.get(layer)) for layer in range(first, last + 1)]

    def atx_rows(self, first_epoch: int, last_epoch: int, ids: list[bytes], smeshers: list[bytes], offset: int,
                 limit: int) -> list[tuple]:
        """(id, smesher, publish epoch, units, weight, ticks, base tick height, coinbase) of ATXs."""
        sql = ("SELECT id, smesher_id, publish_epoch, num_units, weight, tick_count, base_tick_height, coinbase "
               "FROM atxs WHERE publish_epoch BETWEEN ? AND ?")
        args: list = [first_epoch, last_epoch]
        if ids:
            sql += f" AND id IN ({','.join('?' * len(ids))})"
            args += ids
        if smeshers:
            sql += f" AND smesher_id IN ({','.join('?' * len(smeshers))})"
            args += smeshers
        sql += " ORDER BY seq LIMIT ? OFFSET ?"
        with self.connect() as db:
            return db.execute(sql, (*args, limit, offset)).fetchall()

    def atx_count(self, epoch: int | None) -> int:
        with self.connect() as db:
            if epoch is None:
                return db.execute("SELECT COUNT(*) FROM atxs").fetchone()[0]
            return db.execute("SELECT COUNT(*) FROM atxs WHERE publish_epoch = ?", (epoch,)).fetchone()[0]

    def account_rows(self, addresses: list[bytes] | None, offset: int, limit: int) -> list[tuple]:
        """(address, balance, nonce, template) of accounts (all, or the named ones that exist)."""
        with self.connect() as db:
            if addresses is None:
                return db.execute("SELECT address, balance, nonce, template FROM accounts ORDER BY address LIMIT ? OFFSET ?",
                                  (limit, offset)).fetchall()
            rows = []
            for address in addresses:
                row = db.execute("SELECT address, balance, nonce, template FROM accounts WHERE address = ?",
                                 (address,)).fetchone()
                rows.append(row if row is not None else (address, "0", "0", None))
            return rows

    def projected(self, address: bytes) -> tuple[int, int]:
        """(next nonce counting every waiting transaction, number of waiting transactions)."""
        with self.connect() as db:
            nonce, count = db.execute("SELECT MAX(nonce), COUNT(*) FROM txs WHERE principal = ? AND status IN "
                                      "('pending', 'unchecked')", (address,)).fetchone()
            return (-1 if nonce is None else nonce) + 1, count

    def tx_rows(self, ids: list[bytes], principal: bytes | None, first: int | None, last: int | None, offset: int,
                limit: int) -> list[tuple]:
        """(id, raw, principal, nonce, status, layer) of transactions."""
        sql, args = "SELECT id, raw, principal, nonce, status, layer FROM txs WHERE 1", []
        if ids:
            sql += f" AND id IN ({','.join('?' * len(ids))})"
            args += ids
        if principal is not None:
            sql += " AND principal = ?"
            args.append(principal)
        if first is not None:
            sql += " AND layer >= ?"
            args.append(first)
        if last is not None:
            sql += " AND layer <= ?"
            args.append(last)
        sql += " ORDER BY seq LIMIT ? OFFSET ?"
        with self.connect() as db:
            return db.execute(sql, (*args, limit, offset)).fetchall()

    def tx_results(self, layer: int) -> dict[str, str]:
        with self.connect() as db:
            row = db.execute("SELECT results FROM applied WHERE layer = ?", (layer,)).fetchone()
            return {} if row is None else json.loads(row[0])

    def block_raw(self, block_id: bytes) -> bytes | None:
        with self.connect() as db:
            row = db.execute("SELECT raw FROM blocks WHERE id = ?", (block_id,)).fetchone()
            return None if row is None else row[0]

    def malfeasance_rows(self, smeshers: list[bytes], offset: int, limit: int) -> list[tuple]:
        """(node ID, reason, layer, proof) of identities proven malicious."""
        sql, args = "SELECT node_id, reason, layer, proof FROM malfeasance", []
        if smeshers:
            sql += f" WHERE node_id IN ({','.join('?' * len(smeshers))})"
            args += smeshers
        with self.connect() as db:
            return db.execute(sql + " ORDER BY node_id LIMIT ? OFFSET ?", (*args, limit, offset)).fetchall()

    def counts(self) -> dict[str, Any]:
        with self.connect() as db:
            return {
                "atxs": db.execute("SELECT COUNT(*) FROM atxs").fetchone()[0],
                "proposals": db.execute("SELECT COUNT(*) FROM proposals").fetchone()[0],
                "blocks": db.execute("SELECT COUNT(*) FROM blocks").fetchone()[0],
                "txs": dict(db.execute("SELECT status, COUNT(*) FROM txs GROUP BY status").fetchall()),
                "rejections": dict(db.execute("SELECT kind || ':' || reason, COUNT(*) FROM rejections GROUP BY 1")),
                "malicious": [r[0] for r in db.execute("SELECT node_id FROM malfeasance ORDER BY node_id")],
                "hare_outputs": db.execute("SELECT COUNT(*) FROM hare_outputs").fetchone()[0],
            }

    # -- views for dashboards (tools/node/api_views.py) ---------------------------------------------

    def hare_rows(self, first: int, last: int) -> list[tuple]:
        """(layer, proposals, certificates, Hare output block ID, its source, iteration, rounds run
        here) of layers [first, last]; None where there is none."""
        span = (first, last)
        with self.connect() as db:
            proposals = dict(db.execute("SELECT layer, COUNT(*) FROM proposals WHERE layer BETWEEN ? AND ? "
                                        "GROUP BY layer", span).fetchall())
            certificates = dict(db.execute("SELECT layer, COUNT(*) FROM certificates WHERE layer BETWEEN ? AND ? "
                                           "GROUP BY layer", span).fetchall())
            outputs = {r[0]: r[1:] for r in db.execute(
                "SELECT layer, block_id, source, iteration FROM hare_outputs WHERE layer BETWEEN ? AND ?", span)}
            rounds = dict(db.execute("SELECT layer, rounds FROM hare_rounds WHERE layer BETWEEN ? AND ?",
                                     span).fetchall())
        return [(layer, proposals.get(layer, 0), certificates.get(layer, 0), *(outputs.get(layer) or (None,) * 3),
                 rounds.get(layer)) for layer in range(first, last + 1)]

    def atx_kind_rows(self, first_epoch: int, last_epoch: int) -> list[tuple[int, str, str]]:
        """(publish epoch, weight, kind) of every ATX of the epochs: ``merged`` (the PoSTs of
        several identities), ``initial`` (carries its commitment ATX), ``marriage`` (carries the
        marriage certificates of a set) or ``solo``."""
        with self.connect() as db:
            return db.execute(
                "SELECT a.publish_epoch, a.weight, CASE "
                "WHEN (SELECT COUNT(*) FROM posts p WHERE p.atx_id = a.id) > 1 THEN 'merged' "
                "WHEN a.commitment_atx IS NOT NULL THEN 'initial' "
                "WHEN EXISTS (SELECT 1 FROM marriages m WHERE m.marriage_atx = a.id) THEN 'marriage' "
                "ELSE 'solo' END FROM atxs a WHERE a.publish_epoch BETWEEN ? AND ? ORDER BY a.seq",
                (first_epoch, last_epoch)).fetchall()

    def applied_blocks(self, first: int, last: int) -> list[tuple[int, bytes | None]]:
        """(layer, the applied block's encoding; None for an empty layer) of applied layers in [first, last]."""
        with self.connect() as db:
            return db.execute("SELECT a.layer, b.raw FROM applied a LEFT JOIN blocks b ON b.id = a.block_id "
                              "WHERE a.layer BETWEEN ? AND ? ORDER BY a.layer", (first, last)).fetchall()

    def atx_smeshers(self, ids: list[bytes]) -> dict[bytes, bytes]:
        """ATX ID -> the identity that signed it."""
        with self.connect() as db:
            return {atx_id: row[0] for atx_id in set(ids)
                    if (row := db.execute("SELECT smesher_id FROM atxs WHERE id = ?", (atx_id,)).fetchone())}


# ---------------------------------------------------------------------------------------------
# The smeshing service's own state

SMESHER_SCHEMA = """
CREATE TABLE IF NOT EXISTS initial_posts (node_id BLOB PRIMARY KEY, post BLOB);
CREATE TABLE IF NOT EXISTS signed (kind TEXT, slot TEXT, node_id BLOB, raw BLOB, PRIMARY KEY (kind, slot, node_id));
CREATE TABLE IF NOT EXISTS states (seq INTEGER PRIMARY KEY AUTOINCREMENT, node_id BLOB, state TEXT, epoch INTEGER,
                                   detail TEXT, at REAL);
CREATE TABLE IF NOT EXISTS marriages (node_id BLOB PRIMARY KEY, marriage_atx BLOB, epoch INTEGER);
CREATE TABLE IF NOT EXISTS eligibilities (node_id BLOB, epoch INTEGER, counter INTEGER, layer INTEGER,
                                          PRIMARY KEY (node_id, epoch, counter));
CREATE TABLE IF NOT EXISTS identity_sets (id INTEGER PRIMARY KEY AUTOINCREMENT, members TEXT, forced INTEGER, at REAL,
                                          marriage_atx BLOB, marriage_epoch INTEGER);
CREATE TABLE IF NOT EXISTS merges (id INTEGER PRIMARY KEY AUTOINCREMENT, set_id INTEGER, members TEXT, forced INTEGER,
                                   at REAL);
"""

# (node ID, state, epoch, detail, time) of the latest `?` entries per identity, newest last
LATEST_STATES = ("SELECT node_id, state, epoch, detail, at FROM (SELECT *, ROW_NUMBER() OVER "
                 "(PARTITION BY node_id ORDER BY seq DESC) AS n FROM states) WHERE n <= ? ORDER BY seq")


class SmesherStore:
    """What a smeshing service keeps (beside its key files): every message it signed, so that a
    restarted service publishes the same bytes again instead of signing anew."""

    def __init__(self, path: str) -> None:
        self.db = connect(path)
        self.db.executescript(SMESHER_SCHEMA)
        self.db.commit()

    def close(self) -> None:
        self.db.close()

    def initial_post(self, node_id: bytes) -> bytes | None:
        row = self.db.execute("SELECT post FROM initial_posts WHERE node_id = ?", (node_id,)).fetchone()
        return None if row is None else row[0]

    def set_initial_post(self, node_id: bytes, post: bytes) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO initial_posts VALUES (?, ?)", (node_id, post))

    def signed(self, kind: str, slot: str, node_id: bytes) -> list[bytes]:
        """What was signed for (kind, slot) by an identity: the stored messages, oldest first."""
        return [r[0] for r in self.db.execute("SELECT raw FROM signed WHERE kind = ? AND slot LIKE ? AND node_id = ? "
                                              "ORDER BY slot", (kind, slot, node_id))]

    def signed_slots(self, kind: str, node_id: bytes) -> list[tuple[str, bytes]]:
        """(slot, message) of everything of `kind` an identity signed."""
        return self.db.execute("SELECT slot, raw FROM signed WHERE kind = ? AND node_id = ? ORDER BY slot",
                               (kind, node_id)).fetchall()

    def add_signed(self, kind: str, slot: str, node_id: bytes, raw: bytes) -> None:
        with self.db:
            self.db.execute("INSERT OR IGNORE INTO signed VALUES (?, ?, ?, ?)", (kind, slot, node_id, raw))

    def add_state(self, node_id: bytes, state: str, epoch: int | None, detail: str, at: float) -> None:
        with self.db:
            self.db.execute("INSERT INTO states (node_id, state, epoch, detail, at) VALUES (?, ?, ?, ?, ?)",
                            (node_id, state, epoch, detail, at))

    def states(self, limit: int = 50) -> list[tuple]:
        """(node ID, state, epoch, detail, time) history, newest last (the latest `limit` per identity)."""
        return self.db.execute(LATEST_STATES, (limit,)).fetchall()

    def marriage(self, node_id: bytes) -> tuple[bytes, int] | None:
        return self.db.execute("SELECT marriage_atx, epoch FROM marriages WHERE node_id = ?", (node_id,)).fetchone()

    def set_marriage(self, node_id: bytes, marriage_atx: bytes, epoch: int) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO marriages VALUES (?, ?, ?)", (node_id, marriage_atx, epoch))

    def add_eligibilities(self, node_id: bytes, epoch: int, layers: list[int]) -> None:
        """The layer of each proposal-eligibility slot (counter) of an identity in an epoch."""
        with self.db:
            self.db.executemany("INSERT OR IGNORE INTO eligibilities VALUES (?, ?, ?, ?)",
                                [(node_id, epoch, counter, layer) for counter, layer in enumerate(layers)])


    # -- identity sets (tools/node/sets.py: marry, merge) --------------------------------------------

    def add_identity_set(self, members: list[tuple[str, bytes]], forced: bool, at: float) -> int:
        """Record a marriage of `members` (name, node ID), the first the signer of the marriage ATX."""
        with self.db:
            cursor = self.db.execute("INSERT INTO identity_sets (members, forced, at) VALUES (?, ?, ?)",
                                     (json.dumps([[name, key.hex()] for name, key in members]), int(forced), at))
        return int(cursor.lastrowid or 0)

    def add_merge(self, set_id: int, members: list[tuple[str, bytes]], forced: bool, at: float) -> int:
        """Record that `members` of a set publish one merged ATX, the first its signer."""
        with self.db:
            cursor = self.db.execute("INSERT INTO merges (set_id, members, forced, at) VALUES (?, ?, ?, ?)",
                                     (set_id, json.dumps([[name, key.hex()] for name, key in members]), int(forced), at))
        return int(cursor.lastrowid or 0)

    def set_marriage_atx(self, set_id: int, atx_id: bytes, epoch: int) -> None:
        """The marriage ATX of a set was signed (in its publish epoch)."""
        with self.db:
            self.db.execute("UPDATE identity_sets SET marriage_atx = ?, marriage_epoch = ? WHERE id = ?",
                            (atx_id, epoch, set_id))

    def identity_sets(self) -> list[dict]:
        """Every recorded set, oldest first: id, members [(name, node ID)], forced, time, marriage
        ATX and epoch (None until signed), merges [{id, members, forced, at}]."""
        def members(text: str) -> list[tuple[str, bytes]]:
            return [(name, bytes.fromhex(key)) for name, key in json.loads(text)]

        out = []
        for set_id, text, forced, at, marriage_atx, epoch in self.db.execute(
                "SELECT id, members, forced, at, marriage_atx, marriage_epoch FROM identity_sets ORDER BY id").fetchall():
            merges = [{"id": merge_id, "members": members(merge_text), "forced": bool(merge_forced), "at": merge_at}
                      for merge_id, merge_text, merge_forced, merge_at in self.db.execute(
                          "SELECT id, members, forced, at FROM merges WHERE set_id = ? ORDER BY id", (set_id,))]
            out.append({"id": set_id, "members": members(text), "forced": bool(forced), "at": at,
                        "marriage_atx": marriage_atx, "marriage_epoch": epoch, "merges": merges})
        return out


class SmesherReader:
    """Read-only queries over a smeshing service's database, for its status API
    (tools/node/smesher_api.py); a connection of its own per call, beside the running service."""

    def __init__(self, path: str) -> None:
        self.path = path

    @contextlib.contextmanager
    def connect(self) -> Iterator[sqlite3.Connection | None]:
        if not os.path.exists(self.path):
            yield None  # the service has not run yet
            return
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
        try:
            yield db
        finally:
            db.close()

    def states(self, limit: int = 50) -> list[tuple]:
        """(node ID, state, epoch, detail, time), newest last (the latest `limit` per identity)."""
        with self.connect() as db:
            return [] if db is None else db.execute(LATEST_STATES, (limit,)).fetchall()

    def state_rows(self, states: tuple[str, ...]) -> list[tuple]:
        """(node ID, state, epoch, detail, time) of every entry in one of `states`, oldest first."""
        with self.connect() as db:
            return [] if db is None else db.execute(
                f"SELECT node_id, state, epoch, detail, at FROM states WHERE state IN ({','.join('?' * len(states))}) "
                "ORDER BY seq", states).fetchall()

    def marriages(self) -> dict[bytes, tuple[bytes, int]]:
        """Node ID -> (marriage ATX, publish epoch) of the identities the service married."""
        with self.connect() as db:
            return {} if db is None else {r[0]: (r[1], r[2]) for r in db.execute(
                "SELECT node_id, marriage_atx, epoch FROM marriages")}

    def eligibilities(self) -> list[tuple[bytes, int, int]]:
        """(node ID, epoch, layer) of every eligibility slot the service computed."""
        with self.connect() as db:
            if db is None or not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'eligibilities'").fetchone():
                return []
            return db.execute("SELECT node_id, epoch, layer FROM eligibilities ORDER BY node_id, epoch, layer").fetchall()


# ---------------------------------------------------------------------------------------------
# The devnet's embedded PoET (rule "poet")

POET_SCHEMA = """
CREATE TABLE IF NOT EXISTS members (epoch INTEGER, challenge BLOB, PRIMARY KEY (epoch, challenge));
CREATE TABLE IF NOT EXISTS rounds (epoch INTEGER PRIMARY KEY, proof BLOB);
"""


class PoetStore:
    """The PoET's rounds: registered challenges and closed rounds' proofs."""

    def __init__(self, path: str) -> None:
        self.db = connect(path)
        self.db.executescript(POET_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def add_member(self, epoch: int, challenge: bytes) -> None:
        with self.db:
            self.db.execute("INSERT OR IGNORE INTO members VALUES (?, ?)", (epoch, challenge))

    def members(self, epoch: int) -> list[bytes]:
        return [r[0] for r in self.db.execute("SELECT challenge FROM members WHERE epoch = ? ORDER BY challenge",
                                              (epoch,))]

    def add_round(self, epoch: int, proof: bytes) -> None:
        with self.db:
            self.db.execute("INSERT OR IGNORE INTO rounds VALUES (?, ?)", (epoch, proof))

    def round_proof(self, epoch: int) -> bytes | None:
        row = self.db.execute("SELECT proof FROM rounds WHERE epoch = ?", (epoch,)).fetchone()
        return None if row is None else row[0]
