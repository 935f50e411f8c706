"""The devnet's PoET (rule "poet"): one round per publish epoch, persisted in SQLite.

Identities register their NIPoST challenge hashes; closing a round sorts the challenges into the
leaves of a Merkle tree (crypto.md), whose root is the statement; the sequential work is
``POET_LEAVES`` chained BLAKE3 hashes over it, and ``leaf_count // TICK_SIZE`` its ticks. Each
member gets a membership proof for its leaves. The proof is gossiped as a ``PoetProof``; every
node recomputes the work before it accepts it.

:class:`PoetService` is the PoET itself: a coordinated devnet runs it in the coordinator (rule
*poet-forwarding*). A self-clocked network runs it as a service of its own, ``smspec poet run``
(:class:`PoetApp` over HTTP, rule *poet-server*): smeshing services register their challenges for
the round of publish epoch `e` until the round ends when epoch `e` starts, and read the round's
proof and members afterwards (:class:`HttpPoetClient`).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
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


# ---------------------------------------------------------------------------------------------
# The PoET as a service of its own (rule "poet-server")


class PoetApp:
    """The WSGI application of ``smspec poet run`` (docs/node.md "The PoET service"):

    * ``GET /v1/info``: the clock it follows and the round open for registration;
    * ``POST /v1/submit`` ``{"round": e, "challenge": hex}``: register a challenge for the round of
      publish epoch `e` (400 once the round has ended);
    * ``GET /v1/proofs/{round}``: the round's proof (hex of a ``PoetProof``) and its members (404
      before the round ends, or for a round without members).

    The round of publish epoch `e` ends when epoch `e` starts (rule "poet-instant"); it is closed
    (its sequential work run) at the first request for its proof after that."""

    def __init__(self, service: PoetService, timing: Any) -> None:
        from smspec.tools.node.api import ApiError

        self.service = service
        self.timing = timing  # a schedule.LayerTiming
        self.lock = threading.Lock()
        self.error = ApiError
        self.log = logging.getLogger("smspec.poet")

    def open_round(self, now: float) -> int:
        """The first publish epoch whose round has not ended at `now`."""
        L = self.timing.layers_per_epoch
        return max(1, self.timing.layer_at(now) // L + 1)

    def info(self) -> dict:
        now = time.time()
        current = self.open_round(now)
        return {"genesisTime": self.timing.genesis_time, "layerDuration": self.timing.duration,
                "layersPerEpoch": self.timing.layers_per_epoch, "openRound": current,
                "roundEnd": self.timing.poet_round_end(current), "leaves": self.service.leaf_count}

    def submit(self, body: bytes) -> dict:
        from smspec.tools.node.api import bad, field_int, parse_json

        request = parse_json(body)
        epoch = field_int(request, "round")
        if epoch is None or epoch < 1:
            raise bad("round: the publish epoch (1 or more) of the round to register for")
        text = request.get("challenge")
        if not isinstance(text, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", text):
            raise bad("challenge: expected 32 bytes of hex")
        end = self.timing.poet_round_end(epoch)
        if time.time() >= end:
            raise bad(f"round {epoch} has ended (at {end:.3f})")
        with self.lock:
            self.service.register(epoch, bytes.fromhex(text))
        self.log.info("round %d: registered challenge %s", epoch, text[:16])
        return {"round": epoch, "roundEnd": end}

    def proofs(self, epoch: int) -> dict:
        if time.time() < self.timing.poet_round_end(epoch):
            raise self.error(404, f"round {epoch} has not ended yet")
        with self.lock:
            proof = self.service.close(epoch)
            leaves = self.service.leaves(epoch)
        if proof is None:
            raise self.error(404, f"round {epoch} had no members")
        return {"round": epoch, "proof": proof.hex(), "members": [leaf.hex() for leaf in leaves]}

    def __call__(self, environ: dict, start_response: Any) -> list[bytes]:
        from smspec.tools.node.api import Api, ApiError, path_int

        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        status = 200
        try:
            if path == "/v1/info" and method == "GET":
                result = self.info()
            elif path == "/v1/submit" and method == "POST":
                result = self.submit(Api._body(environ))
            elif path.startswith("/v1/proofs/") and method == "GET":
                result = self.proofs(path_int(path[len("/v1/proofs/"):], "round"))
            elif path in ("/v1/info", "/v1/submit") or path.startswith("/v1/proofs/"):
                raise ApiError(405, f"{path[:100]}: wrong method {method[:10]}")
            else:
                raise ApiError(404, f"unknown path {path[:100]}")
        except ApiError as error:
            status, result = error.status, {"code": 3 if error.status == 400 else 5, "message": error.message}
        body = json.dumps(result).encode()
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
                  413: "Payload Too Large"}.get(status, "Error")
        start_response(f"{status} {reason}", [("Content-Type", "application/json"),
                                              ("Content-Length", str(len(body)))])
        return [body]


class HttpPoetClient:
    """A smeshing service's view of a PoET service (``smspec poet run``)."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.log = logging.getLogger("smspec.smesher")
        self.failures: list[str] = []

    def _request(self, path: str, body: dict | None = None) -> tuple[int, Any]:
        import http.client
        import urllib.error
        import urllib.request

        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method="GET" if body is None else "POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, json.loads(response.read(1 << 24))
        except urllib.error.HTTPError as error:
            try:
                return error.code, json.loads(error.read(1 << 16))
            except ValueError:
                return error.code, {"message": f"HTTP {error.code}"}
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as error:
            return 0, {"message": f"the PoET at {self.url} did not answer: {getattr(error, 'reason', error)}"}

    def submit(self, epoch: int, challenge: str) -> bool:
        """Register a challenge (hex) for the round of publish epoch `epoch`."""
        status, answer = self._request("/v1/submit", {"round": epoch, "challenge": challenge})
        if status != 200:
            self.failures.append(f"round {epoch}: {answer.get('message')}")
            self.log.warning("PoET registration for round %d failed: %s", epoch, answer.get("message"))
        return status == 200

    def proof(self, epoch: int) -> tuple[str, list[str]] | None:
        """The round's proof and members (hex), or None while it is not served."""
        status, answer = self._request(f"/v1/proofs/{epoch}")
        if status != 200:
            return None
        return str(answer["proof"]), [str(leaf) for leaf in answer["members"]]
