"""The node's HTTP JSON API (stdlib ``http.server``, bound to 127.0.0.1 only).

Reads go to the node's SQLite database through a connection of their own (WAL lets them run
beside the node); a submitted transaction is only queued (table ``api_inbox``) and the node
validates and gossips it at its next layer, as it would a transaction from a peer.

=========================  ===================================================================
``GET /status``            the node's status (layer, verified, applied, state root, counts)
``GET /genesis``           genesis ID, golden ATX, layers per epoch, genesis configuration, wallet template address
``GET /layers``            ``?from=&to=``: per layer: proposals, Hare output, applied block, root
``GET /layers/N``          one layer, with its proposals
``GET /blocks/ID``         a block (hex ID): proposals, transactions, rewards
``GET /atxs``              ``?epoch=N`` (publish epoch): ATX summaries
``GET /atxs/ID``           one ATX summary
``GET /accounts``          every account
``GET /accounts/ADDRESS``  one account (balance, nonce, spawned)
``GET /txs/ID``            a transaction's status
``POST /tx``               body ``{"tx": "0x..."}`` (a SCALE ``Tx``): queued; returns its ID
=========================  ===================================================================
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from smspec.tools.node import protocol as p

INBOX = "CREATE TABLE IF NOT EXISTS api_inbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT, raw BLOB)"


def hx(data: bytes | None) -> str | None:
    return None if data is None else "0x" + data.hex()


def unhex(text: str) -> bytes:
    text = text[2:] if text.lower().startswith("0x") else text
    return bytes.fromhex(text)


class NotFound(Exception):
    pass


class BadRequest(Exception):
    pass


class NodeView:
    """Read-only queries over one node's database (one connection per call)."""

    def __init__(self, datadir: str) -> None:
        self.path = os.path.join(datadir, "node.sqlite")
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"no node database at {self.path}")

    @contextlib.contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection for one request, closed afterwards."""
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
        try:
            yield db
        finally:
            db.close()

    def status(self) -> dict:
        with self.connect() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'status'").fetchone()
            status = json.loads(row[0]) if row else {}
            status["applied_layers"] = db.execute("SELECT COUNT(*) FROM applied").fetchone()[0]
            return status

    def genesis(self) -> dict:
        from smspec.spec import crypto
        from smspec.tools.node.wallet import template_address

        with self.connect() as db:
            data = json.loads(db.execute("SELECT value FROM meta WHERE key = 'genesis'").fetchone()[0])
        return {"genesis_id": hx(crypto.genesis_id(data["genesis_time"], data["extra_data"])),
                "golden_atx": hx(crypto.golden_atx(data["genesis_time"], data["extra_data"])),
                "genesis_time": data["genesis_time"], "layers_per_epoch": data["layers_per_epoch"],
                "genesis_config": data.get("config", "tiny"),
                "wallet_template": hx(template_address(bytes.fromhex(data["wallet_code"]))),
                "genesis_accounts": {("0x" + k): v for k, v in sorted(data["accounts"].items())}}

    def layer(self, db: sqlite3.Connection, layer: int, with_proposals: bool = False) -> dict:
        proposals = db.execute("SELECT id, smesher FROM proposals WHERE layer = ? ORDER BY id", (layer,)).fetchall()
        hare = db.execute("SELECT block_id, source, iteration FROM hare_outputs WHERE layer = ?", (layer,)).fetchone()
        applied = db.execute("SELECT block_id, state_root, results FROM applied WHERE layer = ?", (layer,)).fetchone()
        out: dict[str, Any] = {
            "layer": layer,
            "proposals": len(proposals),
            "hare": None if hare is None else {"block": hx(hare[0]), "source": hare[1], "iteration": hare[2]},
            "applied": None if applied is None else {"block": hx(applied[0]), "state_root": hx(applied[1]),
                                                     "transactions": json.loads(applied[2])},
        }
        if with_proposals:
            out["proposal_ids"] = [{"id": hx(i), "smesher": hx(s)} for i, s in proposals]
        return out

    def layers(self, first: int | None, last: int | None) -> list:
        with self.connect() as db:
            top = db.execute("SELECT MAX(layer) FROM progress").fetchone()[0] or 0
            first = 0 if first is None else first
            last = top if last is None else min(last, top)
            if last - first > 10000:
                raise BadRequest("at most 10000 layers per request")
            return [self.layer(db, layer) for layer in range(first, last + 1)]

    def one_layer(self, layer: int) -> dict:
        with self.connect() as db:
            return self.layer(db, layer, with_proposals=True)

    def block(self, block_id: bytes) -> dict:
        with self.connect() as db:
            row = db.execute("SELECT raw FROM blocks WHERE id = ?", (block_id,)).fetchone()
            if row is None:
                raise NotFound("unknown block")
            block = p.decode(row[0], p.Block)
            return {"id": hx(block_id), "layer": block.layer, "tick_height": block.tick_height,
                    "proposals": [hx(x) for x in block.proposals], "transactions": [hx(x) for x in block.tx_ids],
                    "rewards": [{"coinbase": hx(r.coinbase), "atx": hx(r.atx_id), "weight": r.weight} for r in block.rewards]}

    def _atx(self, db: sqlite3.Connection, row: tuple) -> dict:
        atx_id, smesher, epoch, units, weight, ticks, base, coinbase, marriage = row
        members = [hx(r[0]) for r in db.execute("SELECT node_id FROM posts WHERE atx_id = ? ORDER BY position", (atx_id,))]
        return {"id": hx(atx_id), "smesher": hx(smesher), "publish_epoch": epoch, "target_epoch": epoch + 1,
                "units": units, "weight": int(weight), "ticks": int(ticks), "base_tick_height": int(base),
                "coinbase": hx(coinbase), "marriage_atx": hx(marriage), "identities": members}

    _ATX_COLUMNS = "id, smesher_id, publish_epoch, num_units, weight, tick_count, base_tick_height, coinbase, marriage_atx"

    def atxs(self, epoch: int | None) -> list:
        with self.connect() as db:
            if epoch is None:
                rows = db.execute(f"SELECT {self._ATX_COLUMNS} FROM atxs ORDER BY seq").fetchall()
            else:
                rows = db.execute(f"SELECT {self._ATX_COLUMNS} FROM atxs WHERE publish_epoch = ? ORDER BY seq",
                                  (epoch,)).fetchall()
            return [self._atx(db, row) for row in rows]

    def atx(self, atx_id: bytes) -> dict:
        with self.connect() as db:
            row = db.execute(f"SELECT {self._ATX_COLUMNS} FROM atxs WHERE id = ?", (atx_id,)).fetchone()
            if row is None:
                raise NotFound("unknown ATX")
            return self._atx(db, row)

    @staticmethod
    def _account(row: tuple) -> dict:
        address, balance, nonce, template, state = row
        return {"address": hx(address), "balance": int(balance), "nonce": int(nonce), "template": hx(template),
                "spawned": template is not None, "owner": hx(state) if template is not None else None}

    def accounts(self) -> list:
        with self.connect() as db:
            rows = db.execute("SELECT address, balance, nonce, template, state FROM accounts ORDER BY address")
            return [self._account(row) for row in rows]

    def account(self, address: bytes) -> dict:
        """One account; `next_nonce` also counts the principal's transactions waiting in the mempool."""
        with self.connect() as db:
            row = db.execute("SELECT address, balance, nonce, template, state FROM accounts WHERE address = ?",
                             (address,)).fetchone()
            if row is None:
                out = {"address": hx(address), "balance": 0, "nonce": 0, "template": None, "spawned": False, "owner": None}
            else:
                out = self._account(row)
            waiting = db.execute("SELECT MAX(nonce) FROM txs WHERE principal = ? AND status IN ('pending', 'unchecked')",
                                 (address,)).fetchone()[0]
            out["next_nonce"] = out["nonce"] if waiting is None else max(out["nonce"], waiting + 1)
            return out

    def tx(self, tid: bytes) -> dict:
        with self.connect() as db:
            row = db.execute("SELECT status, layer, principal, nonce FROM txs WHERE id = ?", (tid,)).fetchone()
            if row is None:
                queued = any(p.tx_id(p.decode(raw, p.Tx)) == tid
                             for (raw,) in db.execute("SELECT raw FROM api_inbox WHERE kind = 'tx'"))
                if queued:
                    return {"id": hx(tid), "status": "queued"}
                raise NotFound("unknown transaction")
            return {"id": hx(tid), "status": row[0], "layer": row[1], "principal": hx(row[2]), "nonce": row[3]}

    def submit(self, data: bytes) -> dict:
        try:
            tx = p.decode(data, p.Tx)
        except Exception as error:  # any decoding failure is the client's
            raise BadRequest(f"not a transaction: {error}") from None
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:
                db.execute(INBOX)
                db.execute("INSERT INTO api_inbox (kind, raw) VALUES ('tx', ?)", (data,))
        finally:
            db.close()
        return {"id": hx(p.tx_id(tx)), "status": "queued"}


def _handler(view: NodeView) -> type:
    class Handler(BaseHTTPRequestHandler):
        server_version = "smspec-node"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body, indent=1).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self, method: str) -> Any:
            url = urlparse(self.path)
            parts = [x for x in url.path.split("/") if x]
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}

            def num(name: str) -> int | None:
                if name not in query:
                    return None
                try:
                    return int(query[name])
                except ValueError:
                    raise BadRequest(f"{name}: not an integer") from None

            if method == "POST":
                if parts != ["tx"]:
                    raise NotFound("unknown path")
                length = int(self.headers.get("Content-Length") or 0)
                if length > 65536:
                    raise BadRequest("body too large")
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                    data = unhex(body["tx"])
                except (ValueError, KeyError, TypeError):
                    raise BadRequest('expected {"tx": "0x<hex>"}') from None
                return view.submit(data)
            try:
                if parts == ["status"]:
                    return view.status()
                if parts == ["genesis"]:
                    return view.genesis()
                if parts == ["layers"]:
                    return view.layers(num("from"), num("to"))
                if len(parts) == 2 and parts[0] == "layers":
                    return view.one_layer(int(parts[1]))
                if len(parts) == 2 and parts[0] == "blocks":
                    return view.block(unhex(parts[1]))
                if parts == ["atxs"]:
                    return view.atxs(num("epoch"))
                if len(parts) == 2 and parts[0] == "atxs":
                    return view.atx(unhex(parts[1]))
                if parts == ["accounts"]:
                    return view.accounts()
                if len(parts) == 2 and parts[0] == "accounts":
                    return view.account(unhex(parts[1]))
                if len(parts) == 2 and parts[0] == "txs":
                    return view.tx(unhex(parts[1]))
            except ValueError:
                raise BadRequest("malformed number or hex in the path") from None
            raise NotFound("unknown path")

        def _serve(self, method: str) -> None:
            try:
                self._send(200, self._route(method))
            except NotFound as error:
                self._send(404, {"error": str(error)})
            except BadRequest as error:
                self._send(400, {"error": str(error)})
            except sqlite3.Error as error:
                self._send(503, {"error": f"database busy: {error}"})

        def do_GET(self) -> None:  # noqa: N802
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

    return Handler


class ApiServer:
    """Serve one node's API on 127.0.0.1:`port` in a daemon thread (port 0: any free port)."""

    def __init__(self, datadir: str, port: int = 0) -> None:
        self.view = NodeView(datadir)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self.view))
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ApiServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def take_inbox(db: sqlite3.Connection) -> list[tuple[str, bytes]]:
    """The node side: queued API submissions, removed from the inbox."""
    db.execute(INBOX)
    rows = db.execute("SELECT seq, kind, raw FROM api_inbox ORDER BY seq").fetchall()
    if rows:
        with db:
            db.execute("DELETE FROM api_inbox WHERE seq <= ?", (rows[-1][0],))
    return [(kind, raw) for _, kind, raw in rows]
