"""A node with its gossip: what the layer schedule drives, in one process or in a node process.

:class:`NodeHost` puts a :class:`~smspec.tools.node.node.Node` on a transport: what a smeshing
service publishes through it (and what the API submits) is validated by the node and, when
valid, gossiped to the peers; what a peer gossips goes through the node's handlers.
:func:`node_op` and :func:`smesher_op` are the duties of the layer schedule, the same whether the
schedule calls them directly (in-process devnet) or over a connection (``--tcp``).
"""

from __future__ import annotations

from typing import Any, Protocol

from smspec.tools.node.node import Node, Verdict


class Transport(Protocol):
    """Gossip between nodes: in-process (direct calls) or TCP frames (tools/node/tcp.py)."""

    def gossip(self, sender: int, kind: str, data: bytes) -> None: ...


class NodeHost:
    def __init__(self, index: int, node: Node | None, transport: Transport) -> None:
        self.index = index
        self.node = node
        self.transport = transport
        self.hare_layer = -1
        self.gossiped: dict[str, int] = {}
        self.ready = True  # False while a self-clocked node catches up: its node-service API answers 503

    def publish(self, kind: str, data: bytes) -> Verdict:
        """An object from a smeshing service: validate, then gossip it when it is valid (a
        byzantine node gossips it anyway; Hare messages are always passed on, rule hare-sync)."""
        node = self.node
        assert node is not None
        if kind == "hare":
            verdict = Verdict("accepted" if node.hare_receive(self.hare_layer, data) else "rejected", "")
            relay = True
        else:
            verdict = node.receive(kind, data)
            relay = verdict.valid or node.behaviour == "byzantine"
        if relay:
            self.gossiped[kind] = self.gossiped.get(kind, 0) + 1
            self.transport.gossip(self.index, kind, data)
        for proof_kind, proof in node.take_outbox():  # a proof this node made: after the object itself
            self.transport.gossip(self.index, proof_kind, proof)
        return verdict

    def on_gossip(self, kind: str, data: bytes) -> bool:
        """An object from a peer (its proofs are not passed on: every peer got the object too)."""
        node = self.node
        if node is None:
            return False
        accepted = node.hare_receive(self.hare_layer, data) if kind == "hare" else node.handle(kind, data)
        node.take_outbox()
        return accepted


def node_op(host: NodeHost, op: str, call: dict) -> Any:
    """One duty of the layer schedule on a node (the answer is JSON-able)."""
    node = host.node
    assert node is not None
    if op == "begin":
        node.begin_layer(call["layer"])
        return {}
    if op == "relay":  # transactions submitted through the API since the last layer
        for data in node.take_relay():
            host.gossiped["tx"] = host.gossiped.get("tx", 0) + 1
            host.transport.gossip(host.index, "tx", data)
        return {}
    if op == "submit":
        verdict = host.publish(call["kind"], bytes.fromhex(call["data"]))
        return {"status": verdict.status, "reason": verdict.reason}
    if op == "hare_start":
        host.hare_layer = call["layer"]
        return {"active": node.hare_start(call["layer"])}
    if op == "hare_round":
        asked = node.hare_round(call["layer"])
        return {"asked": None if asked is None else list(asked), "active": node.hare_active(call["layer"])}
    if op == "hare_done":
        block_id = node.hare_done(call["layer"])
        return {"block": None if block_id is None else block_id.hex()}
    if op == "end":
        report = node.end_layer(call["layer"])
        return {"proposals": report.proposals, "hare": report.hare, "verified": report.verified,
                "applied": report.applied, "state_root": report.state_root.hex()}
    if op == "status":
        return node.status()
    if op == "atx_kinds":
        return atx_kinds(node, call["epoch"])
    if op == "atx_weights":
        return {"atxs": atx_weights(node, call["epoch"])}
    raise ValueError(f"unknown node duty {op!r}")


def smesher_op(smesher: Any, op: str, call: dict) -> Any:
    """One duty of the layer schedule on a smeshing service (bytes travel as hex)."""
    if op == "atx_register":
        result = smesher.run_phase("atx_register", epoch=call["epoch"])
        return {"challenges": [c.hex() for c in result.get("challenges", [])]}
    if op == "atx_publish":
        proof = bytes.fromhex(call["proof"]) if call["proof"] else None
        return smesher.run_phase("atx_publish", epoch=call["epoch"], proof=proof,
                                 leaves=[bytes.fromhex(x) for x in call["leaves"]], publish=call.get("publish", True))
    if op == "propose":
        return smesher.run_phase("propose", layer=call["layer"])
    if op == "hare_messages":
        return smesher.run_phase("hare_messages", layer=call["layer"], iteration=call["iteration"],
                                 round_kind=call["round"])
    if op == "certify":
        return smesher.run_phase("certify", layer=call["layer"])
    if op == "garbage":
        return smesher.run_phase("garbage", layer=call["layer"], transactions=call.get("transactions", True))
    if op == "states":
        return smesher.identity_states()
    raise ValueError(f"unknown smesher duty {op!r}")


def atx_kinds(node: Node, epoch: int) -> dict:
    """The ATXs published in `epoch` by kind (initial, marriage, solo, merged)."""
    kinds: dict[str, int] = {}
    for atx_id in node.store.atx_ids_published(epoch):
        atx = node.m.atx_best.decode_stored(node.store.get_atx(atx_id))
        kind = ("initial" if atx.initial is not None else "merged" if atx.marriage_atx is not None
                else "marriage" if atx.marriages else "solo")
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def atx_weights(node: Node, epoch: int) -> list[dict]:
    """Each ATX published in `epoch`: its signer, version, members, the weight the node gave it and
    the weight its declared storage stands for (the members' declared units x its ticks)."""
    out = []
    for atx_id in node.store.atx_ids_published(epoch):
        stored = node.store.get_atx(atx_id)
        declared_units = sum(post.units for post in stored.posts)
        out.append({"id": atx_id.hex(), "smesher": stored.smesher_id.hex(), "version": stored.version,
                    "members": len(stored.posts), "declared_units": declared_units, "ticks": stored.tick_count,
                    "declared": declared_units * stored.tick_count, "weight": stored.weight})
    return out
