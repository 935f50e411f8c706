"""Gossip between self-clocked nodes over TCP, and catching up after a restart.

:class:`PeerNetwork` is the transport of a self-clocked node (``smspec node run --listen HOST:PORT
--peer HOST:PORT ...``): it listens on its address, dials every ``--peer`` (again and again
while it is unreachable), and carries the frames of ``tools/node/tcp.py`` (``kind`` ‖ length ‖
payload) on every link. The first frame on a link is ``hello`` (the network's genesis ID and the
node's listen address); a link of another network is closed. A gossiped object travels as the
frame of its kind; a node passes on to its other links what it accepted as new (*Devnet rule*
**peer-gossip**), so peers need not form a full mesh.

:class:`CatchUp` is how a node that was down gets what it missed from a peer (rule "sync"):
:class:`ExportCatchUp` asks one peer for its whole store and feeds it through the node's
handlers. A set-reconciliation sync replaces it by implementing the same three methods.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from typing import Any, Protocol

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


class CatchUp(Protocol):
    """How a node gets from a peer what it missed while it was down."""

    request_kind: str  # the frame kind of a request (the answer's kind is `answer_kind`)
    answer_kind: str

    def request(self, node: Any, upto: int) -> bytes:
        """The payload of a request made by `node`, which wants to finish layer `upto`."""
        ...

    def answer(self, node: Any, payload: bytes) -> bytes:
        """A peer's answer to a request."""
        ...

    def apply(self, node: Any, payload: bytes, upto: int, current: int) -> int:
        """Feed an answer to `node` (the network being in layer `current`) and finish every layer
        up to `upto`; the objects accepted."""
        ...


def pack(objects: list[tuple[str, bytes]]) -> bytes:
    """Objects as consecutive frames (kind ‖ length ‖ data)."""
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


class ExportCatchUp:
    """Rule "sync": the peer sends every object it stores (PoET proofs, ATXs, transactions,
    proposals, certificates); the node feeds them through its gossip handlers, then finishes the
    layers it missed."""

    request_kind = "sync?"
    answer_kind = "sync!"

    def request(self, node: Any, upto: int) -> bytes:
        return json.dumps({"upto": upto}).encode()

    def answer(self, node: Any, payload: bytes) -> bytes:
        return pack(node.export())

    def apply(self, node: Any, payload: bytes, upto: int, current: int) -> int:
        return int(node.sync_from(unpack(payload), upto, current))


def wait_for(condition: Any, seconds: float, step: Any) -> bool:
    """Run `step(timeout)` until `condition()` or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while not condition():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        step(min(left, 0.1))
    return True


__all__ = ["CatchUp", "ExportCatchUp", "PeerNetwork", "pack", "parse_address", "read_frame", "unpack"]
