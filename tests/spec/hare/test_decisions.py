"""The deterministic orders hare.md's *Decision* paragraphs fix where go-spacemesh leaves map or
unstable-sort order: the initial list, gradecast ties between equal VRF proofs, and the choice
among several passing references."""

from __future__ import annotations

from smspec.spec import hare

PROPOSE = hare.IterRound(0, hare.Round.PROPOSE)
COMMIT = hare.IterRound(0, hare.Round.COMMIT)


def pid(name: str) -> bytes:
    return name.encode().ljust(20, b"\0")


def entry(sender: bytes, received: hare.IterRound, value: hare.Value, proof: bytes = bytes(80), count: int = 1):
    body = hare.Body(layer=7, iter=received.iter, round=received.round, value=value,
                     eligibility=hare.HareEligibility(proof=proof, count=count))
    return hare.GossipEntry(input=hare.HareInput(message=hare.Message(body=body, sender=sender)), received=received)


def test_initial_list_is_sorted():
    state = hare.ProtocolState(threshold=1)
    hare.on_initial(state, (pid("c"), pid("a"), pid("b")))
    assert state.initial == (pid("a"), pid("b"), pid("c"))


def test_gradecast_breaks_ties_between_equal_proofs_by_sender():
    state = hare.ProtocolState(threshold=1)
    proof = bytes([9]) * 80
    high, low = bytes([2]) * 32, bytes([1]) * 32
    # Inserted high sender first: the order must not follow insertion.
    state.gossip[(high, 0, hare.Round.PROPOSE)] = entry(high, PROPOSE, hare.Value(proposals=(pid("x"),)), proof)
    state.gossip[(low, 0, hare.Round.PROPOSE)] = entry(low, PROPOSE, hare.Value(proposals=(pid("y"),)), proof)
    graded = hare.gradecast(state, PROPOSE)
    assert [g.sender for g in graded] == [low, high]
    assert [g.values for g in graded] == [(pid("y"),), (pid("x"),)]


def test_the_smallest_passing_reference_is_chosen():
    state = hare.ProtocolState(threshold=1)
    small, big = bytes([1]) * 32, bytes([0xF0]) * 32
    # Both references pass; the bigger one is tallied first (dict insertion order).
    state.gossip[(bytes([5]) * 32, 0, hare.Round.COMMIT)] = entry(bytes([5]) * 32, COMMIT, hare.Value(reference=big))
    state.gossip[(bytes([6]) * 32, 0, hare.Round.COMMIT)] = entry(bytes([6]) * 32, COMMIT, hare.Value(reference=small))
    state.valid_proposals = {big: (pid("big"),), small: (pid("small"),)}
    assert hare.passing_items(state, COMMIT, hare.Grade.GRADE5, by_reference=True) == [small, big]
    assert hare.threshold_proposals(state, COMMIT, hare.Grade.GRADE5) == (small, (pid("small"),))
