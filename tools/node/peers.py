"""Gossip between self-clocked nodes over TCP, and catching up after a restart.

:class:`PeerNetwork` is the transport of a self-clocked node (``smspec node run --listen HOST:PORT
--peer HOST:PORT ...``): it listens on its address, dials every ``--peer`` (again and again
while it is unreachable), and carries the frames of ``tools/node/tcp.py`` (``kind`` ‖ length ‖
payload) on every link. The first frame on a link is ``hello`` (the network's genesis ID and the
node's listen address); a link of another network is closed. A gossiped object travels as the
frame of its kind; a node passes on to its other links what it accepted as new (*Devnet rule*
**peer-gossip**), so peers need not form a full mesh.

A node that was down, or cut off from its peers, catches up by set reconciliation
(``tools/node/reconcile.py``, rule "sync"): :class:`NetworkPeer` carries its sessions and fetches
on a link, as ``sync>``/``sync<`` and ``fetch>``/``fetch<`` frames, and waits for each answer
while the node goes on handling its inbox (it answers its peers' sessions meanwhile).
"""

from __future__ import annotations

import itertools
import json
import logging
import socket
import threading
import time
from typing import Any

from smspec.tools.node.reconcile import (
    FETCH_REPLY,
    FETCH_REQUEST,
    SYNC_REPLY,
    SYNC_REQUEST,
    PeerError,
    decode_fetch_reply,
    decode_reply,
    encode_fetch,
    encode_request,
    frame_ident,
)
from smspec.tools.node.tcp import FrameServer, read_frame, send_frame

HELLO = "hello"
DIAL_RETRY = 0.5  # seconds between tries to reach a peer


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (port 0..65535) as (host, port); ValueError otherwise."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or len(port) > 5 or int(port) > 65535:
        raise ValueError(f"{text[:100]!r}: expected HOST:PORT")
    return host.strip("[]"), int(port)


class PeerNetwork(FrameServer):
    """Links to peers; every frame received lands in `inbox` as (kind, payload, link)."""

    def __init__(self, listen: tuple[str, int], peers: list[tuple[str, int]], hello: dict) -> None:
        super().__init__(*listen)
        self.address = f"{listen[0]}:{self.port}"
        self.peer_addresses = list(peers)
        self.hello = dict(hello, name=self.address)
        self.stopped = threading.Event()
        self.send_lock = threading.Lock()
        self.links: dict[str, socket.socket] = {}  # peer name -> the link gossip is sent on
        self.names: dict[socket.socket, str] = {}  # every link that said hello -> peer name
        self.awaiting: dict[tuple, bytes | None] = {}  # (link, answer kind, ID) -> the answer, once here
        self.request_ids = itertools.count(1)
        self.log = logging.getLogger("smspec.peers")

    def start(self) -> None:
        threading.Thread(target=self.accept_loop, daemon=True, name="accept").start()
        for address in self.peer_addresses:
            if f"{address[0]}:{address[1]}" == self.address:
                continue  # itself
            threading.Thread(target=self.dial, args=(address,), daemon=True, name=f"dial-{address[1]}").start()

    def read_loop(self, connection: socket.socket) -> None:
        """An accepted link: say hello first, then read it."""
        try:
            with self.send_lock:
                send_frame(connection, HELLO, json.dumps(self.hello).encode())
        except OSError:
            connection.close()
            return
        super().read_loop(connection)

    def dial(self, address: tuple[str, int]) -> None:
        """Keep a link to a peer: connect, say hello, read until it closes; again."""
        while not self.stopped.is_set():
            try:
                connection = socket.create_connection(address, timeout=2)
                connection.settimeout(None)
                with self.send_lock:
                    send_frame(connection, HELLO, json.dumps(self.hello).encode())
            except OSError:
                self.stopped.wait(DIAL_RETRY)
                continue
            FrameServer.read_loop(self, connection)  # until the link closes ("closed" in the inbox)
            self.stopped.wait(DIAL_RETRY)

    # -- called by the node's main thread for the frames of the inbox ------------------------------

    def on_hello(self, payload: bytes, link: socket.socket) -> str | None:
        """Register a link; None (and the link closed) when it belongs to another network."""
        try:
            hello = json.loads(payload)
            name, genesis_id = str(hello["name"]), str(hello["genesis_id"])
        except (ValueError, KeyError, TypeError):
            name, genesis_id = "", ""
        if genesis_id != self.hello["genesis_id"] or not name or name == self.address:
            if name != self.address:
                self.log.warning("a peer of another network (genesis ID %s) is refused", genesis_id[:16])
            self.close_link(link)
            return None
        with self.send_lock:
            self.names[link] = name
            if name not in self.links:
                self.links[name] = link
                self.log.info("peer %s connected", name)
        return name

    def on_closed(self, link: socket.socket) -> None:
        with self.send_lock:
            name = self.names.pop(link, None)
            if name is not None and self.links.get(name) is link:
                del self.links[name]
                other = next((sock for sock, n in self.names.items() if n == name), None)
                if other is not None:
                    self.links[name] = other
                else:
                    self.log.info("peer %s disconnected", name)

    def close_link(self, link: socket.socket) -> None:
        try:
            link.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        link.close()

    def name_of(self, link: socket.socket) -> str | None:
        return self.names.get(link)

    def on_answer(self, kind: str, payload: bytes, link: socket.socket) -> None:
        """A `sync<` or `fetch<` frame: kept when a request of ours waits for it, else dropped."""
        key = (link, kind, frame_ident(payload))
        if key in self.awaiting and self.awaiting[key] is None:
            self.awaiting[key] = payload

    def peer_count(self) -> int:
        return len(self.links)

    def send(self, link: socket.socket, kind: str, payload: bytes) -> bool:
        with self.send_lock:
            try:
                send_frame(link, kind, payload)
                return True
            except OSError:
                return False

    def broadcast(self, kind: str, payload: bytes, exclude: str | None = None) -> int:
        """Send a frame on the link of every peer but `exclude`; the number of peers reached."""
        sent = 0
        with self.send_lock:
            for name, link in list(self.links.items()):
                if name == exclude:
                    continue
                try:
                    send_frame(link, kind, payload)
                    sent += 1
                except OSError:
                    pass  # its reader reports it closed
        return sent

    def close(self) -> None:
        self.stopped.set()
        try:
            self.listener.close()
        except OSError:
            pass
        with self.send_lock:
            links = list(self.names) + [link for link in self.links.values() if link not in self.names]
        for link in links:
            self.close_link(link)


# ---------------------------------------------------------------------------------------------
# catching up


SYNC_ANSWER_WAIT = 30.0  # seconds a node waits for a peer's answer to one sync request


def pack(objects: list[tuple[str, bytes]]) -> bytes:
    """Objects as consecutive frames (kind ‖ length ‖ data): the framing of a whole-store export."""
    out = bytearray()
    for kind, data in objects:
        name = kind.encode()
        out += bytes([len(name)]) + name + len(data).to_bytes(4, "big") + data
    return bytes(out)


def unpack(data: bytes) -> list[tuple[str, bytes]]:
    out = []
    position = 0
    while position < len(data):
        size = data[position]
        kind = data[position + 1:position + 1 + size].decode(errors="replace")
        position += 1 + size
        length = int.from_bytes(data[position:position + 4], "big")
        position += 4
        if position + length > len(data):
            raise ValueError("truncated catch-up answer")
        out.append((kind, data[position:position + length]))
        position += length
    return out


class NetworkPeer:
    """A peer as the sync code talks to it (reconcile.py `Peer`): each request goes on the peer's
    link and its answer comes back through the node's inbox, which `pump` handles meanwhile."""

    def __init__(self, network: PeerNetwork, name: str, link: socket.socket, pump: Any,
                 stop: threading.Event) -> None:
        self.network = network
        self.name = name
        self.link = link
        self.pump = pump
        self.stop = stop

    def exchange(self, set_name: str, sid: int, data: bytes) -> bytes:
        answer = self._request(SYNC_REQUEST, SYNC_REPLY, sid, encode_request(sid, set_name, data))
        return decode_reply(answer)[1]

    def fetch(self, set_name: str, key: bytes) -> bytes | None:
        rid = next(self.network.request_ids) & 0xFFFFFFFF
        answer = self._request(FETCH_REQUEST, FETCH_REPLY, rid, encode_fetch(rid, set_name, key))
        return decode_fetch_reply(answer)[1]

    def _request(self, kind: str, answer_kind: str, ident: int, payload: bytes) -> bytes:
        network, key = self.network, (self.link, answer_kind, ident)
        network.awaiting[key] = None
        try:
            if not network.send(self.link, kind, payload):
                raise PeerError("gone", "the link closed")
            wait_for(lambda: network.awaiting.get(key) is not None or self.link not in network.names
                     or self.stop.is_set(), SYNC_ANSWER_WAIT, self.pump)
            answer = network.awaiting.get(key)
        finally:
            network.awaiting.pop(key, None)
        if answer is None:
            raise PeerError("no_answer", f"{self.name} did not answer")
        return answer


def wait_for(condition: Any, seconds: float, step: Any) -> bool:
    """Run `step(timeout)` until `condition()` or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while not condition():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        step(min(left, 0.1))
    return True


__all__ = ["NetworkPeer", "PeerNetwork", "pack", "parse_address", "read_frame", "unpack", "wait_for"]
