"""The bounded Hare model: the spec's own state machine (``spec/hare.md``) on a small network.

What runs is the normative code: every honest node is a ``hare.ProtocolState`` driven by
``hare.on_initial``, ``hare.on_input`` and ``hare.next_round``, stopped by
``hare.session_should_stop``. This module only supplies the environment and enumerates it:

* ``members`` identities, each with eligibility count 1 in every round (committee = members,
  threshold = members // 2 + 1); the first ``members - byzantine`` are honest, one node each.
* Rounds are synchronous: all honest nodes execute ``next_round`` together (one *step*). A
  message sent at a step arrives in the gap after it (*on time*: grade 5 at the receiver), up to
  ``late`` steps later, or never. A message that reaches one honest node reaches every other
  within one more round (honest nodes relay what they accept), so under synchrony a message
  reaches all honest nodes or none; honest messages are always on time. With ``synchrony``
  off, each honest message reaches each other honest node on time, late or never, independently.
* Byzantine members send, in each message round of the session, nothing or up to
  ``equivocation`` distinct values (proposal lists: every subset of ``proposals`` IDs;
  references: the hashes of those lists), each with its own delivery.
* VRF proofs: the proposal-round proofs of all members are ordered freshly and arbitrarily at
  each propose round (every ranking is explored; they decide the gradecast leader); preround
  proofs are all equal, so the weak coin is not explored.
* Honest initial sets: every combination of subsets of the proposal IDs (``initial="all"``), or
  all nodes start with every ID (``initial="same"``).

Reductions: honest members are interchangeable, and so are byzantine ones (the key of a state is
the least encoding over all renamings); deliveries to one node from different senders commute,
as do a sender's deliveries that cannot raise an equivocation proof, so those are made in one
canonical order, and only the others in every order; choices that a renaming fixing the current
state maps onto each other are explored once; honest members proposing the same value with the
same delivery keep their proof order (leader classes); gossip entries no later round reads are
left out of the key (dead state); a branch stops once every honest node holds a result
(decided sessions). docs/check.md states why each is sound.
"""

from __future__ import annotations

import itertools
import marshal
from dataclasses import dataclass, field
from typing import Any

from smspec.tools.check.explore import violations_along
from smspec.tools.check.snapshot import module_state, restore_modules, snapshot

LAYER = 1000
INVARIANTS = ("agreement", "validity", "termination", "graded_gossip")


@dataclass(frozen=True)
class HareBounds:
    members: int = 4
    byzantine: int = 1
    iterations: int = 1
    proposals: int = 1
    initial: str = "same"
    equivocation: int = 1
    late: int = 1
    synchrony: bool = True

    @property
    def honest(self) -> int:
        return self.members - self.byzantine

    @property
    def threshold(self) -> int:
        return self.members // 2 + 1

    def as_dict(self) -> dict[str, Any]:
        return {"members": self.members, "byzantine": self.byzantine, "iterations": self.iterations,
                "proposals": self.proposals, "initial": self.initial, "equivocation": self.equivocation,
                "late": self.late, "synchrony": self.synchrony}


@dataclass
class Node:
    """An honest node: its session state and what the driver learned from it."""

    state: Any
    initial: tuple[bytes, ...]
    known_malicious: set[int] = field(default_factory=set)
    result: tuple[bytes, ...] | None = None
    result_iter: int | None = None
    stopped: bool = False


@dataclass
class World:
    """The whole network between two steps."""

    step: int
    nodes: list[Node]
    pending: list[tuple[int, int, Any]]  # (gap it arrives in, receiver, message)
    honest_leader: tuple[bool, ...] = ()  # per iteration so far: was the smallest propose proof honest?


@dataclass(frozen=True)
class StepChoice:
    """The environment's choices for one step (a schedule is a list of these)."""

    ranking: tuple[int, ...] | None = None  # member indices, smallest propose proof first
    byzantine: tuple[tuple[int, int, tuple[int | None, ...]], ...] = ()  # (member, value, delay per honest node)
    honest: tuple[tuple[int, int, int | None], ...] = ()  # (sender, receiver, delay) where not on time
    orders: tuple[tuple[int, int, tuple[int, ...]], ...] = ()  # (receiver, sender, permutation)

    def to_json(self) -> dict[str, Any]:
        return {"ranking": None if self.ranking is None else list(self.ranking),
                "byzantine": [[m, v, list(d)] for m, v, d in self.byzantine],
                "honest": [list(h) for h in self.honest],
                "orders": [[r, s, list(p)] for r, s, p in self.orders]}


@dataclass(frozen=True)
class InitialChoice:
    initial: tuple[tuple[bytes, ...], ...]

    def to_json(self) -> dict[str, Any]:
        return {"initial": [["0x" + p.hex() for p in s] for s in self.initial]}


class HareModel:
    """Transition system of ``HareBounds`` over a hare spec module (``hare`` may be a patched copy)."""

    name = "hare"

    def __init__(self, bounds: HareBounds, hare: Any = None, reduce_dead: bool = True,
                 reduce_rankings: bool = True, stop_decided: bool = True,
                 invariants: tuple[str, ...] = INVARIANTS, wire: str = "hare3", hare4: Any = None) -> None:
        if wire not in ("hare3", "hare4"):
            raise ValueError("wire must be hare3 or hare4")
        self.wire = wire
        if wire == "hare4" and hare4 is None:
            from smspec import spec

            hare4 = spec.load("hare4")
        self.hare4 = hare4
        for name in invariants:
            if name not in INVARIANTS:
                raise ValueError(f"unknown invariant {name!r}; choose from {', '.join(INVARIANTS)}")
        self.invariants = tuple(invariants)
        self.stop_decided = stop_decided
        self.recording: list[list[dict[str, Any]]] | None = None
        self.reduce_dead = reduce_dead
        self.reduce_rankings = reduce_rankings
        if hare is None:
            from smspec import spec

            hare = spec.load("hare")
        if bounds.byzantine >= bounds.members:
            raise ValueError("at least one member must be honest")
        if bounds.initial not in ("same", "all"):
            raise ValueError("initial must be 'same' or 'all'")
        self.hare = hare
        self.bounds = bounds
        self.senders = [bytes([i + 1]) * 32 for i in range(bounds.members)]
        self.index_of = {s: i for i, s in enumerate(self.senders)}
        self.ids = tuple(bytes([0xA0 + k]) * 20 for k in range(bounds.proposals))
        self.lists = [tuple(c) for n in range(len(self.ids) + 1) for c in itertools.combinations(self.ids, n)]
        self.references = [hare.proposals_hash(values) for values in self.lists]
        self.list_of_reference = dict(zip(self.references, self.lists))
        self.max_steps = 7 * bounds.iterations + 1
        self.hashes: dict[Any, bytes] = {}
        honest = range(bounds.honest)
        byzantine = range(bounds.honest, bounds.members)
        self.renamings = [dict(zip(list(honest) + list(byzantine), list(h) + list(b)))
                          for h in itertools.permutations(honest) for b in itertools.permutations(byzantine)]
        self.delay_options = list(range(1, bounds.late + 2))
        self.local = [(p, p[:4]) for p in self.ids]  # hare4: every node has every proposal, compact ID = 4 bytes

    def __getstate__(self) -> dict[str, Any]:
        state = module_state(self, ("hare", "hare4"))
        state["hashes"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_modules(self, state, ("hare", "hare4"))

    # -- messages ------------------------------------------------------------------------------

    def message(self, sender: int, iter_number: int, round_kind: int, value_index: int, rank: int | None) -> Any:
        hare = self.hare
        if round_kind in (hare.Round.COMMIT, hare.Round.NOTIFY):
            value = hare.Value(reference=self.references[value_index])
        else:
            value = hare.Value(proposals=self.lists[value_index])
        body = hare.Body(layer=LAYER, iter=iter_number, round=round_kind, value=value,
                         eligibility=hare.HareEligibility(proof=self.proof(rank), count=1))
        return hare.Message(body=body, sender=self.senders[sender])

    @staticmethod
    def proof(rank: int | None) -> bytes:
        """A member's VRF proof: all equal outside propose rounds; ordered by rank in them."""
        return bytes(80) if rank is None else (rank + 1).to_bytes(80, "little")

    def value_index(self, value: Any) -> int:
        if value.reference is not None:
            return self.references.index(value.reference) if value.reference in self.references else -1
        return self.lists.index(value.proposals) if value.proposals in self.lists else -1

    def msg_hash(self, body: Any) -> bytes:
        known = self.hashes.get(body)
        if known is None:
            known = self.hashes[body] = self.hare.message_hash(body)
        return known

    # -- the transition system -----------------------------------------------------------------

    def initial(self) -> list[tuple[InitialChoice, World]]:
        hare, bounds = self.hare, self.bounds
        if bounds.initial == "same":
            combos = [(self.ids,) * bounds.honest]
        else:
            combos = list(itertools.combinations_with_replacement(self.lists, bounds.honest))
        out = []
        for combo in combos:
            nodes = []
            for initial in combo:
                state = hare.ProtocolState(threshold=bounds.threshold)
                hare.on_initial(state, initial)
                nodes.append(Node(state=state, initial=tuple(initial)))
            out.append((InitialChoice(tuple(combo)), World(step=0, nodes=nodes, pending=[])))
        return out

    def execute(self, world: World) -> tuple[World, Any, list[tuple[int, Any]]] | None:
        """Every running honest node executes its round: (world after it, round, messages)."""
        hare = self.hare
        if self.final(world):
            return None
        after = snapshot(world)
        executed = None
        messages = []
        for index, node in enumerate(after.nodes):
            if node.stopped:
                continue
            executed = node.state.iter_round
            out = hare.next_round(node.state)
            if self.recording is not None:
                self.recording[index].append({"next": True})
            if out.result is not None and node.result is None:
                node.result = out.result
                node.result_iter = executed.iter
            if out.message is not None:
                messages.append((index, out.message))
            if hare.session_should_stop(executed, out, self.bounds.iterations):
                node.stopped = True
        assert executed is not None
        return after, executed, messages

    def successors(self, world: World) -> list[tuple[StepChoice, World]]:
        executed_step = self.execute(world)
        if executed_step is None:
            return []
        after, executed, messages = executed_step
        out = []
        for choice in self.choices(world, after, executed, messages):
            for child, full in self.deliver(after, executed, messages, choice, None):
                out.append((full, child))
        return out

    def choices(self, world: World, after: World, executed: Any, messages: list[tuple[int, Any]]) -> list[StepChoice]:
        """Every choice of the environment for this step, one per class under the symmetries
        that fix the current state."""
        hare, bounds = self.hare, self.bounds
        byzantine_options: list[tuple[tuple[int, int, tuple[int | None, ...]], ...]] = [()]
        if executed.round in hare.MESSAGE_ROUNDS:
            per_member = [self.byzantine_sends(member) for member in range(bounds.honest, bounds.members)]
            byzantine_options = [tuple(itertools.chain.from_iterable(c)) for c in itertools.product(*per_member)]
        honest_options: list[tuple[tuple[int, int, int | None], ...]] = [()]
        if not bounds.synchrony and messages:
            pairs = [(sender, receiver) for sender, _ in messages for receiver in range(bounds.honest)
                     if receiver != sender]
            options = [d for d in self.delay_options if d != 1] + [None]
            honest_options = []
            for delays in itertools.product([1, *options], repeat=len(pairs)):
                honest_options.append(tuple((s, r, d) for (s, r), d in zip(pairs, delays) if d != 1))
        stabilizer = self.stabilizer(world)
        seen = set()
        out = []
        for honest in honest_options:
            rankings: list[tuple[int, ...] | None] = [None]
            if executed.round == hare.Round.PROPOSE:
                rankings = self.rankings(messages, honest)
            for ranking in rankings:
                for byzantine in byzantine_options:
                    choice = StepChoice(ranking=ranking, byzantine=byzantine, honest=honest)
                    if len(stabilizer) > 1:
                        canonical = min(self.rename_choice(choice, renaming) for renaming in stabilizer)
                        if canonical in seen:
                            continue
                        seen.add(canonical)
                    out.append(choice)
        return out

    def rankings(self, messages: list[tuple[int, Any]], honest: tuple[tuple[int, int, int | None], ...]) -> list[tuple[int, ...]]:
        """The orders of the members' propose proofs, one per class: honest members whose
        propose messages are equal in value and delivery are interchangeable leaders (their
        entries have the same values and grade at every receiver; ``execute_commit`` reads only
        those, in proof order, and the proofs die at the commit round), so they keep index order;
        an honest member that sends no proposal is in the class of those that send none."""
        bounds = self.bounds
        value_of = {sender: out.value for sender, out in messages}
        classes: dict[int, Any] = {}
        for member in range(bounds.honest):
            if member not in value_of:
                classes[member] = ("silent",)
            else:
                delays = tuple(sorted((r, -1 if d is None else d) for s, r, d in honest if s == member))
                classes[member] = ("sends", value_of[member].proposals, delays)
        if not self.reduce_rankings:
            return list(itertools.permutations(range(bounds.members)))
        out = []
        for ranking in itertools.permutations(range(bounds.members)):
            last: dict[Any, int] = {}
            ordered = True
            for member in ranking:
                if member >= bounds.honest:
                    continue
                label = classes[member]
                if last.get(label, -1) > member:
                    ordered = False
                    break
                last[label] = member
            if ordered:
                out.append(ranking)
        return out

    def byzantine_sends(self, member: int) -> list[tuple[tuple[int, int, tuple[int | None, ...]], ...]]:
        """A byzantine member's options in a message round: silence, or 1..equivocation values,
        each with a delivery (delay per honest node; None = never)."""
        bounds = self.bounds
        vectors = [v for v in itertools.product([*self.delay_options, None], repeat=bounds.honest)
                   if any(d is not None for d in v)]
        if bounds.synchrony:
            # relayed by whoever gets it first: everyone or no one, within one round of the first
            vectors = [v for v in vectors if None not in v and max(v) <= min(v) + 1]
        options: list[tuple[tuple[int, int, tuple[int | None, ...]], ...]] = [()]
        for count in range(1, bounds.equivocation + 1):
            for values in itertools.combinations(range(len(self.lists)), count):
                for deliveries in itertools.product(vectors, repeat=count):
                    options.append(tuple((member, v, d) for v, d in zip(values, deliveries)))
        return options

    def rename_choice(self, choice: StepChoice, renaming: dict[int, int]) -> tuple:
        """A choice's encoding after renaming members (receivers are honest members)."""
        ranking = None if choice.ranking is None else tuple(renaming[m] for m in choice.ranking)
        byzantine = tuple(sorted((renaming[m], v, tuple(self._permute_vector(d, renaming)))
                                 for m, v, d in choice.byzantine))
        honest = tuple(sorted((renaming[s], renaming[r], -1 if d is None else d) for s, r, d in choice.honest))
        return (ranking or (), tuple((m, v, tuple(-1 if x is None else x for x in d)) for m, v, d in byzantine), honest)

    def _permute_vector(self, vector: tuple[int | None, ...], renaming: dict[int, int]) -> list[int | None]:
        out: list[int | None] = [None] * len(vector)
        for receiver, delay in enumerate(vector):
            out[renaming[receiver]] = delay
        return out

    def stabilizer(self, world: World) -> list[dict[int, int]]:
        """The renamings that map the state onto itself."""
        base = self.encode(world, self.renamings[0])
        return [r for r in self.renamings if r is self.renamings[0] or self.encode(world, r) == base]

    def deliver(self, after: World, executed: Any, messages: list[tuple[int, Any]], choice: StepChoice,
                orders: dict[tuple[int, int], tuple[int, ...]] | None) -> list[tuple[World, StepChoice]]:
        """The worlds after the gap: one per order of the deliveries that do not commute (or the
        one given by ``orders``, when replaying)."""
        hare, bounds = self.hare, self.bounds
        world = snapshot(after)
        gap = world.step
        rank = {m: i for i, m in enumerate(choice.ranking)} if choice.ranking is not None else {}
        if choice.ranking is not None:
            world.honest_leader = world.honest_leader + (choice.ranking[0] < bounds.honest,)
        arrivals: list[tuple[int, Any]] = []

        def schedule(receiver: int, message: Any, delay: int | None) -> None:
            if delay is None:
                return
            if delay == 1:
                arrivals.append((receiver, message))
            else:
                world.pending.append((gap + delay - 1, receiver, message))

        late = {(s, r): d for s, r, d in choice.honest}
        for sender, out in messages:
            eligibility = hare.HareEligibility(proof=self.proof(rank.get(sender)), count=1)
            body = hare.Body(layer=LAYER, iter=out.iter, round=out.round, value=out.value, eligibility=eligibility)
            message = hare.Message(body=body, sender=self.senders[sender])
            for receiver in range(bounds.honest):
                schedule(receiver, message, 1 if receiver == sender else late.get((sender, receiver), 1))
        for member, value, delays in choice.byzantine:
            message = self.message(member, executed.iter, executed.round, value, rank.get(member))
            for receiver, delay in enumerate(delays):
                schedule(receiver, message, delay)
        still = []
        for due, receiver, message in world.pending:
            if due == gap:
                arrivals.append((receiver, message))
            else:
                still.append((due, receiver, message))
        world.pending = still
        # group arrivals per receiver and sender; find the groups whose order matters
        groups: dict[tuple[int, int], list[Any]] = {}
        for receiver, message in arrivals:
            if world.nodes[receiver].stopped:
                continue
            groups.setdefault((receiver, self.index_of[message.sender]), []).append(message)
        for group in groups.values():
            group.sort(key=lambda m: (m.body.iter, m.body.round, self.msg_hash(m.body)))
        variable = [key for key, group in groups.items() if len(group) > 1 and self.may_conflict(world.nodes[key[0]], group)]
        variable.sort()
        if orders is not None:
            order_sets = [tuple(orders.get(key, tuple(range(len(groups[key])))) for key in variable)]
        else:
            order_sets = list(itertools.product(*[list(itertools.permutations(range(len(groups[key]))))
                                                  for key in variable]))
        results = []
        for order_set in order_sets:
            child = snapshot(world) if len(order_sets) > 1 else world
            chosen = dict(zip(variable, order_set))
            for (receiver, sender), group in sorted(groups.items()):
                order = chosen.get((receiver, sender), tuple(range(len(group))))
                if sorted(order) != list(range(len(group))):
                    order = tuple(range(len(group)))
                node = child.nodes[receiver]
                for position in order:
                    self.receive(node, group[position], receiver)
            child.step += 1
            full = StepChoice(ranking=choice.ranking, byzantine=choice.byzantine, honest=choice.honest,
                              orders=tuple((r, s, chosen[(r, s)]) for r, s in variable
                                           if chosen[(r, s)] != tuple(range(len(groups[(r, s)]))))
                              )
            results.append((child, full))
        return results

    def may_conflict(self, node: Node, group: list[Any]) -> bool:
        """Whether delivering a sender's messages in another order can change anything: some
        message can raise an equivocation proof (a second value for one key)."""
        keys = {}
        for message in group:
            key = (message.body.iter, message.body.round)
            if key in keys and keys[key] != self.msg_hash(message.body):
                return True
            keys[key] = self.msg_hash(message.body)
            stored = node.state.gossip.get((message.sender, message.body.iter, message.body.round))
            if stored is not None and stored.input.msg_hash != keys[key] and not stored.input.malicious:
                return True
        return False

    def over_hare4(self, message: Any) -> Any:
        """The message as a hare4 receiver gets it: sent with compact preround IDs (SCALE),
        decoded with ``decode_message4`` and its preround IDs reconstructed from local proposals."""
        hare, hare4 = self.hare, self.hare4
        body = message.body
        value = hare4.Value4(proposals=body.value.proposals, reference=body.value.reference)
        if body.round == hare.Round.PREROUND:
            value = hare4.Value4(compact_proposals=tuple(hare4.compact_id(p) for p in body.value.proposals))
        wire = hare4.Message4(body=hare4.Body4(layer=body.layer, iter=body.iter, round=body.round, value=value,
                                               eligibility=body.eligibility), sender=message.sender)
        received = hare4.decode_message4(hare.encode(wire, hare4.Message4))
        if received.body.round == hare.Round.PREROUND:
            compacts = received.body.value.compact_proposals
            received = hare4.with_proposals(received, hare4.reconstruct_proposals(compacts, self.local))
        return received

    def receive(self, node: Node, message: Any, receiver: int = -1) -> tuple[bool, Any]:
        hare = self.hare
        if self.wire == "hare4":
            message = self.over_hare4(message)
        sender = self.index_of[message.sender]
        inp = hare.HareInput(message=message, atx_grade=hare.Grade.GRADE5, malicious=sender in node.known_malicious,
                             msg_hash=self.msg_hash(message.body))
        if self.recording is not None:
            body = message.body
            self.recording[receiver].append({"input": {
                "sender": message.sender, "iter": body.iter, "round": int(body.round),
                "proposals": list(body.value.proposals), "reference": body.value.reference,
                "proof": body.eligibility.proof, "count": body.eligibility.count, "atx_grade": int(inp.atx_grade),
                "malicious": inp.malicious, "msg_hash": inp.msg_hash}})
        relay, proof = hare.on_input(node.state, inp)
        if proof is not None:
            node.known_malicious.add(sender)
        return relay, proof

    # -- canonical encoding --------------------------------------------------------------------

    def encode_message(self, message: Any, renaming: dict[int, int]) -> tuple:
        body = message.body
        return (renaming[self.index_of[message.sender]], body.iter, int(body.round), self.value_index(body.value),
                body.eligibility.proof)

    def last_reader(self, iter_number: int, round_kind: int) -> int | None:
        """The absolute number of the last round that reads messages of (iter, round), or None
        when no round does (see ``execute_round``): preround messages of iteration 0 are read in
        every iteration, proposals at that iteration's commit, commits up to the next
        iteration's commit, notifies at the next hardlock."""
        hare = self.hare
        if round_kind == hare.Round.PREROUND:
            return self.max_steps * 7 if iter_number == 0 else None
        if round_kind == hare.Round.PROPOSE:
            return 7 * iter_number + hare.Round.COMMIT
        if round_kind == hare.Round.COMMIT:
            return 7 * (iter_number + 1) + hare.Round.COMMIT
        if round_kind == hare.Round.NOTIFY:
            return 7 * (iter_number + 1) + hare.Round.HARDLOCK
        return None

    def encode_node(self, node: Node, renaming: dict[int, int], incoming: set[tuple[bytes, int, int]]) -> tuple:
        """A node's state with other members renamed. A gossip entry that no round will read
        again, and that no pending message can conflict with, is left out (dead state): it can
        change nothing, since the explorer's messages are only ever of the current round."""
        state = node.state
        if node.stopped:
            return (node.initial, node.result, -1 if node.result_iter is None else node.result_iter, True)
        now = self.hare.absolute_round(state.iter_round)
        gossip = []
        for (sender, iter_number, round_kind), entry in state.gossip.items():
            if self.reduce_dead and (sender, iter_number, round_kind) not in incoming:
                last = self.last_reader(iter_number, round_kind)
                if last is None or last < now:
                    continue
            gossip.append((renaming[self.index_of[sender]], iter_number, int(round_kind),
                           self.value_index(entry.input.message.body.value), entry.input.message.body.eligibility.proof,
                           int(entry.input.atx_grade), entry.input.malicious,
                           (entry.received.iter, int(entry.received.round)),
                           () if entry.other_received is None else (entry.other_received.iter, int(entry.other_received.round))))
        gossip.sort()
        return (node.initial, node.result, -1 if node.result_iter is None else node.result_iter, node.stopped,
                tuple(sorted(renaming[i] for i in node.known_malicious)),
                (state.iter_round.iter, int(state.iter_round.round)), state.coin_out, state.coin, state.result,
                state.locked, state.hard_locked, tuple(sorted(state.valid_proposals.items())), tuple(gossip))

    def encode(self, world: World, renaming: dict[int, int]) -> bytes:
        nodes: list[tuple] = [()] * len(world.nodes)
        incoming = self.incoming(world)
        for index, node in enumerate(world.nodes):
            nodes[renaming[index]] = self.encode_node(node, renaming, incoming[index])
        pending = sorted((due, renaming[receiver], self.encode_message(message, renaming))
                         for due, receiver, message in world.pending)
        return marshal.dumps((world.step, world.honest_leader, tuple(nodes), tuple(pending)), 2)

    def incoming(self, world: World) -> list[set[tuple[bytes, int, int]]]:
        incoming: list[set[tuple[bytes, int, int]]] = [set() for _ in world.nodes]
        for _, receiver, message in world.pending:
            incoming[receiver].add((message.sender, message.body.iter, message.body.round))
        return incoming

    def key(self, world: World) -> bytes:
        """The least encoding over the renamings that order honest nodes by a signature that no
        renaming changes (their own state with every other honest member anonymised); only
        nodes with equal signatures are tried in every order."""
        bounds = self.bounds
        incoming = self.incoming(world)
        signatures = []
        for index, node in enumerate(world.nodes):
            anonymous = {m: (-2 if m == index else -1) if m < bounds.honest else m for m in range(bounds.members)}
            mine = [(d, r == index) for d, r, _ in world.pending if r == index]
            signatures.append(marshal.dumps((self.encode_node(node, anonymous, incoming[index]), sorted(mine)), 2))
        order = sorted(range(bounds.honest), key=lambda i: signatures[i])
        groups = [list(g) for _, g in itertools.groupby(order, key=lambda i: signatures[i])]
        best = None
        for arrangement in itertools.product(*[itertools.permutations(g) for g in groups]):
            sequence = [i for part in arrangement for i in part]
            honest = {old: new for new, old in enumerate(sequence)}
            for byzantine in itertools.permutations(range(bounds.honest, bounds.members)):
                renaming = dict(honest)
                renaming.update(zip(range(bounds.honest, bounds.members), byzantine))
                encoding = self.encode(world, renaming)
                if best is None or encoding < best:
                    best = encoding
        assert best is not None
        return best

    # -- invariants ----------------------------------------------------------------------------

    def final(self, world: World) -> bool:
        """No more steps: every node stopped, the last round passed, or (``stop_decided``) every
        honest node holds a result, which no later round can change; each then terminates at
        the next hardlock (``execute_round``)."""
        if self.stop_decided and all(node.result is not None for node in world.nodes):
            return True
        return all(node.stopped for node in world.nodes) or world.step >= self.max_steps

    def violations(self, world: World) -> list[str]:
        hare, bounds = self.hare, self.bounds
        broken = []
        results = {node.result for node in world.nodes if node.result is not None}
        if len(results) > 1:
            broken.append("agreement: honest nodes output different results")
        allowed = set().union(*(set(node.initial) for node in world.nodes))
        for node in world.nodes:
            if node.result is not None and not set(node.result) <= allowed:
                broken.append("validity: a result holds an ID that no honest node proposed")
                break
        for first, second in itertools.combinations(world.nodes, 2):
            for key, entry in first.state.gossip.items():
                twin = second.state.gossip.get(key)
                if twin is None or twin.input.msg_hash != entry.input.msg_hash:
                    continue
                target = hare.IterRound(key[1], key[2])
                if abs(hare.grade_since(entry.received, target) - hare.grade_since(twin.received, target)) > 1:
                    broken.append("graded_gossip: two honest nodes grade one message more than one apart")
                    break
            else:
                continue
            break
        if self.final(world):
            if any(node.result is None for node in world.nodes) and any(world.honest_leader):
                broken.append("termination: a session with an honest leader first in some iteration "
                              f"ended without a result at every honest node (within {bounds.iterations} iterations)")
            if world.step >= self.max_steps and any(not node.stopped for node in world.nodes):
                broken.append("termination: an honest node still runs after the last hardlock")
        return [v for v in broken if v.split(":", 1)[0] in self.invariants]

    # -- replaying a schedule ------------------------------------------------------------------

    def replay(self, schedule: list[Any]) -> tuple[list[World], list[str]]:
        """The worlds along a schedule (an initial choice, then step choices) and the violations
        of its last world. A choice that no longer applies (a removed message) is skipped."""
        first = schedule[0]
        world = None
        for choice, candidate in self.initial():
            if choice == first:
                world = candidate
        if world is None:
            raise ValueError("the schedule's initial choice is not an initial state of these bounds")
        worlds = [world]
        for choice in schedule[1:]:
            executed_step = self.execute(world)
            if executed_step is None:
                break
            after, executed, messages = executed_step
            if executed.round != self.hare.Round.PROPOSE:
                choice = StepChoice(ranking=None, byzantine=choice.byzantine, honest=choice.honest, orders=choice.orders)
            elif choice.ranking is None:
                choice = StepChoice(ranking=tuple(range(self.bounds.members)), byzantine=choice.byzantine,
                                    honest=choice.honest, orders=choice.orders)
            if executed.round not in self.hare.MESSAGE_ROUNDS:
                choice = StepChoice(ranking=choice.ranking, honest=choice.honest, orders=choice.orders)
            orders = {(r, s): p for r, s, p in choice.orders}
            world, _ = self.deliver(after, executed, messages, choice, orders)[0]
            worlds.append(world)
        while True:  # run the session to its end with quiet, synchronous steps
            executed_step = self.execute(world)
            if executed_step is None:
                break
            after, executed, messages = executed_step
            ranking = tuple(range(self.bounds.members)) if executed.round == self.hare.Round.PROPOSE else None
            world, _ = self.deliver(after, executed, messages, StepChoice(ranking=ranking), {})[0]
            worlds.append(world)
        return worlds, violations_along(self, worlds)

    def deviations(self, schedule: list[Any]) -> list[tuple[int, str, Any]]:
        """Every byzantine message, late or lost honest message, and propose ranking other than
        honest-first, by step."""
        out: list[tuple[int, str, Any]] = []
        for step, choice in enumerate(schedule[1:], start=1):
            if choice.ranking is not None and choice.ranking != tuple(range(self.bounds.members)):
                out.append((step, "ranking", choice.ranking))
            out += [(step, "byzantine", item) for item in choice.byzantine]
            out += [(step, "honest", item) for item in choice.honest]
        return out

    def restrict(self, schedule: list[Any], kept: list[tuple[int, str, Any]]) -> list[Any]:
        """The schedule with only the ``kept`` deviations (the others made quiet)."""
        keep = set(kept)
        out = [schedule[0]]
        for step, choice in enumerate(schedule[1:], start=1):
            ranking = choice.ranking if (step, "ranking", choice.ranking) in keep else None
            out.append(StepChoice(ranking=ranking,
                                  byzantine=tuple(b for b in choice.byzantine if (step, "byzantine", b) in keep),
                                  honest=tuple(h for h in choice.honest if (step, "honest", h) in keep),
                                  orders=choice.orders))
        return out

    def traces(self, schedule: list[Any]) -> list[dict[str, Any]]:
        """Per honest node, the ``hare/protocol/trace`` inputs of its part of the schedule: its
        initial list and every ``next_round`` and ``on_input`` in order."""
        self.recording = [[] for _ in range(self.bounds.honest)]
        try:
            worlds, _ = self.replay(schedule)
        finally:
            recorded, self.recording = self.recording, None
        return [{"threshold": self.bounds.threshold, "initial": list(node.initial), "steps": steps}
                for node, steps in zip(worlds[0].nodes, recorded)]

    def outcome(self, world: World) -> list[dict[str, Any]]:
        return [{"result": None if n.result is None else ["0x" + p.hex() for p in n.result],
                 "iteration": n.result_iter} for n in world.nodes]
