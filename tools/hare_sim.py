"""A deterministic, seeded discrete-event network simulator for Hare 3 / Hare 4.

Tooling, not normative: every protocol rule it applies comes from ``spec/hare.md`` and
``spec/hare4.md`` (through the module it is given, so the impl backend's replacements apply when
that backend is active). The simulator only supplies what the spec leaves to the environment:
clocks, message delays, gossip relays, and adversaries.

Model
-----
* ``members`` identities with seeded random weights; ``byzantine`` of them are adversarial, each
  with a behaviour from :data:`BEHAVIOURS` (cycled). Honest identities are hosted by ``nodes``
  honest nodes (round robin; one node per identity by default); every byzantine identity is its
  own node. A node runs one session state per layer and publishes a message for each of its
  eligible identities.
* Time is in milliseconds from the layer start. Every honest node executes round ``ir`` at
  ``hare.round_start_ms(ir, preround_delay_ms, round_ms)`` (a node with no identity eligible for
  preround executes it at once, as go-spacemesh does).
* A message is delivered to every node after a per-(message, receiver) delay drawn from
  ``[1, max_delay_ms]``; honest nodes relay every message they accept to the nodes that have not
  got it (one more delay). With ``partition`` the two halves of the nodes only hear each other
  ``partition_rounds`` rounds late (a broken synchrony assumption).
* ``full_crypto``: messages are signed and VRF-proven and every receiver runs
  ``hare.receive_message`` (or ``hare4.receive_message4``). Otherwise ("light" mode) proofs are
  seeded random bytes, signatures are empty and receivers accept a message whose count equals the
  sender's true count for that round; everything else (encoding, validation, state machine) is
  the spec's.

Everything is a pure function of the configuration: the same configuration gives the same
result, byte for byte.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from smspec.spec.errors import SpecError

BEHAVIOURS = ("silent", "equivocate", "delay", "late", "oversized", "malformed", "split")


@dataclass(frozen=True)
class SimConfig:
    members: int = 20
    byzantine: int = 0
    behaviours: tuple[str, ...] = ("equivocate",)
    layers: int = 1
    seed: int = 0
    committee: int | None = None  # default: members
    leaders: int = 5
    nodes: int | None = None  # honest nodes; default one per honest identity
    hare4: bool = False
    full_crypto: bool = False
    max_delay_ms: int = 300
    round_ms: int = 1000
    preround_delay_ms: int = 1000
    iterations_limit: int = 4
    weights: tuple[int, ...] | None = None
    max_weight: int = 10
    proposals_per_layer: int = 5
    partition: bool = False
    partition_rounds: int = 3
    delay_rounds: int = 2  # extra delay of the "delay" behaviour
    record_node: int | None = None  # light mode: record this honest node's inputs and rounds as a trace
    memo_eligibility: bool = True  # light mode: memoize CDF values in the simulator (False: hare.eligibility_count)
    late_ms: int = 1500  # clock skew of the "late" behaviour
    first_layer: int = 1000
    genesis_id: bytes = bytes(20)


@dataclass
class LayerOutcome:
    layer: int
    results: dict[int, tuple[bytes, ...] | None]  # honest node -> result
    result_iter: dict[int, int | None]
    coins: dict[int, bool | None]
    initial: tuple[bytes, ...]
    stats: Counter = field(default_factory=Counter)
    states: dict[int, Any] = field(default_factory=dict)  # honest node -> final ProtocolState
    trace: list[dict[str, Any]] = field(default_factory=list)  # steps of hare/protocol/trace (record_node)
    outputs: list[Any] = field(default_factory=list)  # the recorded node's Output of every round
    eligibility: dict[tuple[int, int, int], int] = field(default_factory=dict)  # (identity, iter, round) -> count
    proofs: dict[tuple[int, int, int], bytes] = field(default_factory=dict)

    @property
    def agreed(self) -> bool:
        outputs = {r for r in self.results.values() if r is not None}
        return len(outputs) <= 1

    @property
    def decided(self) -> bool:
        return all(r is not None for r in self.results.values())


@dataclass
class SimResult:
    config: SimConfig
    layers: list[LayerOutcome]


def light_eligibility_count(hare: Any, proof: bytes, weight: int, total_weight: int, committee: int,
                            memo: dict[tuple[int, int, int], Any]) -> int:
    """``hare.eligibility_count`` with the CDF values memoized in ``memo`` (same answer).

    The light mode evaluates many identities of equal weight; each CDF value depends only on
    (n, p, x), so a simulator computes it once with the module's ``bin_cdf``.
    """
    try:
        n, p = hare.eligibility_parameters(weight, total_weight, committee)
    except hare.EligibilityError as error:
        if error.reason == "weight_above_maximum":
            return 0
        raise
    fraction = hare.vrf_fraction(proof)
    for x in range(n):
        key = (n, p.raw, x)
        if key not in memo:
            memo[key] = hare.bin_cdf(n, p, x)
        if hare.greater_than(memo[key], fraction):
            return x & hare.MAX_COUNT
    return n & hare.MAX_COUNT


def _digest(*parts: Any) -> bytes:
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else str(part).encode())
        h.update(b"|")
    return h.digest()


class _Node:
    def __init__(self, index: int, identities: list[int], behaviour: str | None) -> None:
        self.index = index
        self.identities = identities
        self.behaviour = behaviour  # None: honest
        self.state: Any = None
        self.skew = 0
        self.stopped = False
        self.known_malicious: set[bytes] = set()
        self.cache: dict[bytes, tuple[bytes, ...]] = {}  # hare4: msg id -> full proposals
        self.result: tuple[bytes, ...] | None = None
        self.result_iter: int | None = None
        self.coin: bool | None = None


class Simulator:
    """Runs the layers of a :class:`SimConfig` with the given ``hare`` (and ``hare4``) modules."""

    def __init__(self, config: SimConfig, hare: Any, hare4: Any = None, crypto: Any = None) -> None:
        if config.byzantine > config.members:
            raise ValueError("more byzantine identities than members")
        for kind in config.behaviours:
            if kind not in BEHAVIOURS:
                raise ValueError(f"unknown behaviour {kind!r}; choose from {', '.join(BEHAVIOURS)}")
        self.config = config
        self.cdf_memo: dict[tuple[int, int, int], Any] = {}
        self.hare = hare
        self.hare4 = hare4
        self.crypto = crypto
        rng = random.Random(_digest("weights", config.seed))
        weights = config.weights or tuple(rng.randint(1, config.max_weight) for _ in range(config.members))
        if len(weights) != config.members:
            raise ValueError("one weight per member")
        self.weights = list(weights)
        self.secrets = [_digest("secret", config.seed, i) for i in range(config.members)]
        if config.full_crypto:
            self.public_keys = [crypto.public_key(s) for s in self.secrets]
        else:
            self.public_keys = [_digest("public", config.seed, i) for i in range(config.members)]
        self.committee = config.committee or config.members
        honest_ids = list(range(config.byzantine, config.members))
        node_count = config.nodes or len(honest_ids)
        node_count = max(1, min(node_count, len(honest_ids))) if honest_ids else 0
        self.nodes: list[_Node] = []
        for n in range(node_count):
            self.nodes.append(_Node(n, honest_ids[n::node_count], None))
        for b in range(config.byzantine):
            kind = config.behaviours[b % len(config.behaviours)]
            self.nodes.append(_Node(len(self.nodes), [b], kind))
        self.honest_nodes = [n for n in self.nodes if n.behaviour is None]
        half = (len(self.honest_nodes) + 1) // 2
        self.group = {node.index: (0 if node.index < half else 1) for node in self.honest_nodes}

    # -- eligibility -------------------------------------------------------------------------

    def _eligibility(self, layer: int, beacon: bytes, identity: int, ir: Any, outcome: LayerOutcome) -> Any:
        hare = self.hare
        key = (identity, ir.iter, ir.round)
        if key in outcome.eligibility:
            count = outcome.eligibility[key]
            return hare.HareEligibility(proof=outcome.proofs[key], count=count) if count else None
        active = self.active[layer]
        if self.config.full_crypto:
            eligibility = hare.own_eligibility(active, self.secrets[identity], self.public_keys[identity], layer, ir,
                                               self.committee, self.config.leaders)
            proof = eligibility.proof if eligibility else bytes(80)
            count = eligibility.count if eligibility else 0
        else:
            proof = hashlib.sha512(_digest("vrf", self.config.seed, identity, layer, hare.absolute_round(ir))).digest()
            proof += bytes(16)
            size = self.config.leaders if ir.round == hare.Round.PROPOSE else self.committee
            if self.config.memo_eligibility:
                count = light_eligibility_count(hare, proof, self.weights[identity], active.total_weight, size, self.cdf_memo)
            else:
                count = hare.eligibility_count(proof, self.weights[identity], active.total_weight, size)
        outcome.eligibility[key] = count
        outcome.proofs[key] = proof
        return hare.HareEligibility(proof=proof, count=count) if count else None

    # -- message construction ----------------------------------------------------------------

    def _encode(self, identity: int, layer: int, out: Any, eligibility: Any, node: _Node) -> tuple[bytes, bytes | None]:
        """(wire bytes, hare4 message id) of an honest message for `out`."""
        hare, config = self.hare, self.config
        secret, public = self.secrets[identity], self.public_keys[identity]
        if config.hare4:
            if config.full_crypto:
                built = self.hare4.build_message4(secret, public, config.genesis_id, layer, out, eligibility, self.compacts)
            else:
                built = self._light_message4(public, layer, out, eligibility)
            if built is None:
                return b"", None
            message, msg_id = built
            if out.round == hare.Round.PREROUND:
                node.cache[msg_id] = out.value.proposals
            return hare.encode(message, self.hare4.Message4), msg_id
        if config.full_crypto:
            message = hare.build_message(secret, public, config.genesis_id, layer, out, eligibility)
        else:
            body = hare.Body(layer=layer, iter=out.iter, round=out.round, value=out.value, eligibility=eligibility)
            message = hare.Message(body=body, sender=public)
        return hare.encode(message, hare.Message), None

    def _light_message4(self, public: bytes, layer: int, out: Any, eligibility: Any) -> tuple[Any, bytes] | None:
        hare4 = self.hare4
        value = hare4.Value4(proposals=out.value.proposals, reference=out.value.reference)
        if out.round == self.hare.Round.PREROUND:
            if any(p not in self.compacts for p in out.value.proposals):
                return None  # like build_message4: no compact ID, no message
            value = hare4.Value4(compact_proposals=tuple(self.compacts[p] for p in out.value.proposals))
        body = hare4.Body4(layer=layer, iter=out.iter, round=out.round, value=value, eligibility=eligibility)
        return hare4.Message4(body=body, sender=public), self.hare.message_hash(body)

    def _variant(self, out: Any, tag: str, layer: int) -> Any:
        """A conflicting value for an equivocating or splitting adversary."""
        hare = self.hare
        fake = _digest("fake", self.config.seed, layer, tag)[:20]
        if out.round in (hare.Round.PREROUND, hare.Round.PROPOSE):
            value = hare.Value(proposals=(fake,))
        else:
            value = hare.Value(reference=hare.proposals_hash((fake,)))
        return hare.ProtocolMessage(out.iter, out.round, value)

    # -- network -------------------------------------------------------------------------------

    def _schedule(self, now: int, data: bytes, sender: _Node, targets: list[_Node], extra: int, msg_id: bytes | None) -> None:
        key = hashlib.sha256(data).digest()
        seen = self.delivered.setdefault(key, set())
        for target in targets:
            if target.index in seen:
                continue
            seen.add(target.index)
            if target is sender:
                delay = 0
            else:
                draw = _digest("delay", self.config.seed, key, target.index)
                delay = 1 + int.from_bytes(draw[:4], "little") % self.config.max_delay_ms
                # the partition separates honest nodes; adversaries reach both sides
                honest_pair = target.index in self.group and sender.index in self.group
                if self.config.partition and honest_pair and self.group[target.index] != self.group[sender.index]:
                    delay += self.config.partition_rounds * self.config.round_ms
            self.sequence += 1
            heapq.heappush(self.events, (now + delay + extra, 0, self.sequence, "deliver", (target, data, sender, msg_id)))

    def _publish(self, now: int, node: _Node, layer: int, executed: Any, out: Any, outcome: LayerOutcome) -> None:
        hare = self.hare
        if executed.round not in hare.MESSAGE_ROUNDS:
            return
        message = out.message
        if message is None and node.behaviour == "split":
            # a splitting adversary votes in every message round, whatever its own state says
            message = hare.ProtocolMessage(executed.iter, executed.round, hare.Value())
        if message is None:
            return
        for identity in node.identities:
            eligibility = self._eligibility(layer, self.beacons[layer], identity, executed, outcome)
            if eligibility is None:
                continue
            kind = node.behaviour
            if kind == "silent":
                continue
            if kind in ("equivocate", "split"):
                half_a = [n for n in self.nodes if self.group.get(n.index, 0) == 0]
                half_b = [n for n in self.nodes if self.group.get(n.index, 0) == 1]
                first = message if kind == "equivocate" else self._variant(message, "x", layer)
                second = self._variant(message, "y", layer)
                for value, targets in ((first, half_a), (second, half_b)):
                    data, msg_id = self._encode(identity, layer, value, eligibility, node)
                    if data:
                        self._send(now, node, data, targets, 0, msg_id, outcome)
                continue
            data, msg_id = self._encode(identity, layer, message, eligibility, node)
            if not data:
                continue
            extra = self.config.delay_rounds * self.config.round_ms if kind == "delay" else 0
            if kind == "oversized" and message.round == hare.Round.PREROUND:
                data = self._oversized(data)
            if kind == "malformed":
                self._send(now, node, _digest("garbage", layer, message.round)[:17], self.nodes, 0, None, outcome)
                data = data + b"\x00"
            self._send(now, node, data, self.nodes, extra, msg_id, outcome)

    def _oversized(self, data: bytes) -> bytes:
        """A preround whose proposal list announces 2351 entries (over the 2350 limit)."""
        hare = self.hare
        message = hare.decode(data, self.hare4.Message4 if self.config.hare4 else hare.Message)
        body = message.body
        head = hare.encode(body.layer, hare.Compact32) + hare.encode(body.iter, hare.Compact8) + hare.encode(body.round, hare.Compact8)
        ids = b"".join(i.to_bytes(20, "big") for i in range(2351))
        eligibility = body.eligibility.proof + hare.encode(body.eligibility.count, hare.Compact16)
        return head + hare.encode(2351, hare.Compact32) + ids + b"\x00" + eligibility + bytes(96)

    def _send(self, now: int, node: _Node, data: bytes, targets: list[_Node], extra: int, msg_id: bytes | None,
              outcome: LayerOutcome) -> None:
        outcome.stats["messages_sent"] += 1
        outcome.stats["bytes_sent"] += len(data)
        self._schedule(now, data, node, targets, extra, msg_id)

    # -- receiving -----------------------------------------------------------------------------

    def _receive(self, now: int, node: _Node, data: bytes, origin: _Node, msg_id: bytes | None, layer: int,
                 outcome: LayerOutcome) -> None:
        if node.stopped or node.state is None:
            outcome.stats["dropped_session_closed"] += 1
            return
        outcome.stats["deliveries"] += 1
        try:
            if self.config.full_crypto and node.behaviour is None:
                received = self._receive_full(node, data, origin, layer)
            else:
                received = self._receive_light(node, data, origin, layer)
        except SpecError as error:
            outcome.stats[f"dropped_{error.reason}"] += 1
            return
        relay, proof, sender = received
        if proof is not None:
            outcome.stats["equivocation_proofs"] += 1
            node.known_malicious.add(sender)
        if relay and node.behaviour is None:
            self._schedule(now, data, node, self.nodes, 0, msg_id)

    def _sender_malicious(self, node: _Node, data: bytes) -> tuple[bool, bytes]:
        sender = data[-96:-64] if len(data) >= 96 else b""
        return sender in node.known_malicious, sender

    def _receive_full(self, node: _Node, data: bytes, origin: _Node, layer: int) -> tuple[bool, Any, bytes]:
        hare = self.hare
        malicious, sender = self._sender_malicious(node, data)
        if self.config.hare4:
            result = self.hare4.receive_message4(self.contexts[layer], node.state, data, malicious, self.local_pairs,
                                                 lambda msg_id: origin.cache.get(msg_id))
            if result.full_proposals is not None:
                node.cache.setdefault(result.msg_id, result.full_proposals)
            return result.relay, result.proof, sender
        result = hare.receive_message(self.contexts[layer], node.state, data, malicious)
        return result.relay, result.proof, sender

    def _receive_light(self, node: _Node, data: bytes, origin: _Node, layer: int) -> tuple[bool, Any, bytes]:
        hare = self.hare
        if self.config.hare4:
            message = self.hare4.decode_message4(data)
            if message.body.round == hare.Round.PREROUND:
                compacts = message.body.value.compact_proposals
                message = self.hare4.with_proposals(message, self.hare4.reconstruct_proposals(compacts, self.local_pairs))
        else:
            message = hare.decode_message(data)
        body = message.body
        if body.layer != layer:
            raise hare.InvalidHareMessage("not_registered", "other layer")
        identity = self.identity_of.get(message.sender)
        ir = hare.IterRound(body.iter, body.round)
        true_count = 0 if identity is None or body.round > 7 else self.light_count(identity, layer, ir)
        if body.eligibility.count == 0 or body.eligibility.count != true_count:
            raise hare.InvalidHareMessage("not_eligible", "count differs from the sender's eligibility")
        malicious = message.sender in node.known_malicious
        inp = hare.HareInput(message=message, atx_grade=hare.Grade.GRADE5, malicious=malicious,
                             msg_hash=hare.message_hash(body))
        if node.index == self.config.record_node:
            self.current.trace.append({"input": {
                "sender": message.sender, "iter": body.iter, "round": body.round,
                "proposals": list(body.value.proposals), "reference": body.value.reference,
                "proof": body.eligibility.proof, "count": body.eligibility.count, "atx_grade": int(inp.atx_grade),
                "malicious": malicious, "msg_hash": inp.msg_hash}})
        relay, proof = hare.on_input(node.state, inp)
        if not relay:
            raise hare.InvalidHareMessage("not_relayed", "duplicate")
        return relay, proof if not malicious else None, message.sender

    def light_count(self, identity: int, layer: int, ir: Any) -> int:
        eligibility = self._eligibility(layer, self.beacons[layer], identity, ir, self.current)
        return 0 if eligibility is None else eligibility.count

    # -- driver --------------------------------------------------------------------------------

    def _tick(self, now: int, node: _Node, layer: int, outcome: LayerOutcome) -> None:
        hare = self.hare
        if node.stopped:
            return
        executed = node.state.iter_round
        out = hare.next_round(node.state)
        if node.index == self.config.record_node:
            outcome.trace.append({"next": True})
            outcome.outputs.append(out)
        if out.coin is not None and node.coin is None:
            node.coin = out.coin
        if out.result is not None and node.result is None:
            node.result = out.result
            node.result_iter = executed.iter
        self._publish(now, node, layer, executed, out, outcome)
        if hare.session_should_stop(executed, out, self.config.iterations_limit):
            node.stopped = True
            return
        upcoming = node.state.iter_round
        at = hare.round_start_ms(upcoming, self.config.preround_delay_ms, self.config.round_ms) + node.skew
        self.sequence += 1
        heapq.heappush(self.events, (at, 1, self.sequence, "tick", (node,)))

    def run_layer(self, layer: int) -> LayerOutcome:
        hare, config = self.hare, self.config
        beacon = _digest("beacon", config.seed, layer)[:4]
        self.beacons = {layer: beacon}
        self.active = {layer: hare.ActiveSet(beacon=beacon, weights=dict(zip(self.public_keys, self.weights)))}
        self.contexts = {layer: hare.SessionContext(layer=layer, genesis_id=config.genesis_id, active=self.active[layer],
                                                    committee=self.committee, leaders=config.leaders)}
        self.identity_of = {pk: i for i, pk in enumerate(self.public_keys)}
        proposals = [_digest("proposal", config.seed, layer, k)[:20] for k in range(config.proposals_per_layer)]
        self.compacts = {p: _digest("compact", p)[:4] for p in proposals}
        self.local_pairs = [(p, self.compacts[p]) for p in proposals]
        initial = tuple(sorted(proposals))
        outcome = LayerOutcome(layer=layer, results={}, result_iter={}, coins={}, initial=initial)
        self.current = outcome
        self.events: list[tuple[int, int, int, str, tuple]] = []
        self.delivered: dict[bytes, set[int]] = {}
        self.sequence = 0
        threshold = self.committee // 2 + 1
        preround = hare.IterRound(0, hare.Round.PREROUND)
        for node in self.nodes:
            node.state = hare.ProtocolState(threshold=threshold)
            hare.on_initial(node.state, initial)
            node.stopped = False
            node.known_malicious = set()
            node.cache = {}
            node.result = node.result_iter = node.coin = None
            node.skew = config.late_ms if node.behaviour == "late" else 0
            eligible = any(self._eligibility(layer, beacon, i, preround, outcome) for i in node.identities)
            start = hare.round_start_ms(preround, config.preround_delay_ms, config.round_ms) if eligible else 0
            self.sequence += 1
            heapq.heappush(self.events, (start + node.skew, 1, self.sequence, "tick", (node,)))
        while self.events:
            now, _, _, kind, payload = heapq.heappop(self.events)
            if kind == "tick":
                self._tick(now, payload[0], layer, outcome)
            else:
                target, data, origin, msg_id = payload
                self._receive(now, target, data, origin, msg_id, layer, outcome)
        for node in self.honest_nodes:
            outcome.results[node.index] = node.result
            outcome.result_iter[node.index] = node.result_iter
            outcome.coins[node.index] = node.coin
            outcome.states[node.index] = node.state
        return outcome

    def run(self, progress: Any = None) -> SimResult:
        layers = []
        for k in range(self.config.layers):
            layers.append(self.run_layer(self.config.first_layer + k))
            if progress is not None:
                progress(k)
        return SimResult(self.config, layers)


def simulate(config: SimConfig, hare: Any = None, hare4: Any = None, crypto: Any = None, progress: Any = None) -> SimResult:
    """Run a simulation with the active backend's spec modules (loaded on demand)."""
    from smspec import spec

    hare = hare or spec.load("hare")
    hare4 = hare4 or spec.load("hare4")
    crypto = crypto or spec.load("crypto")
    return Simulator(config, hare, hare4, crypto).run(progress)


def honest_counts(outcome: LayerOutcome, sim: Simulator, ir: tuple[int, int]) -> tuple[int, int]:
    """(honest, byzantine) summed eligibility counts of a round in a simulated layer."""
    honest = byzantine = 0
    for (identity, iter_number, round_kind), count in outcome.eligibility.items():
        if (iter_number, round_kind) != ir:
            continue
        if identity < sim.config.byzantine:
            byzantine += count
        else:
            honest += count
    return honest, byzantine
