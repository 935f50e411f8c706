"""The 21 scripted state-machine scenarios of go-spacemesh ``hare3/protocol_test.go`` (TestProtocol).

Re-expressed as data (GS cc65f271 ``hare3/protocol_test.go:204-522``; identical in hare4). Each
scenario starts a session with a threshold and an initial list, then runs steps:

* ``nxt(...)`` is one ``next_round``. Keyword arguments name what the upstream step declares:
  ``active=True`` means the whole output is compared (upstream ``.active()``); otherwise only the
  declared fields (``coin``, ``result``, ``terminated``) are compared.
* ``inp(...)`` is one ``on_input`` of a message from ``sender`` with the given iter, round,
  proposals or reference (a list of IDs whose ``proposals_hash`` is the reference), leading VRF
  bytes, count, ATX grade, malicious flag and message hash; ``relay`` / ``equivocation`` state the
  expected response where upstream asserts one.

IDs are ASCII names right-padded with zero bytes (20 bytes for proposals, 32 for senders and
message hashes), as upstream's ``castIds``/``sender``/``mshHash`` do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

P, H, S, PR, W1, W2, C, N = range(8)  # preround, hardlock, softlock, propose, wait1, wait2, commit, notify
UNSET = object()


@dataclass
class Next:
    active: bool = False
    iter: int = 0
    round: int | None = None
    proposals: list[str] | None = None
    ref: list[str] | None = None
    coin: Any = UNSET
    result: Any = UNSET
    terminated: Any = UNSET


@dataclass
class Input:
    sender: str
    round: int
    iter: int = 0
    proposals: list[str] = field(default_factory=list)
    ref: list[str] | None = None
    vrf: bytes = b""
    count: int = 0
    grade: int = 0
    malicious: bool = False
    msg_hash: str = ""
    relay: bool | None = None
    equivocation: bool = False


def nxt(active: bool = False, **kw: Any) -> Next:
    return Next(active=active, **kw)


def inp(sender: str, round: int, **kw: Any) -> Input:
    return Input(sender=sender, round=round, **kw)


@dataclass
class Scenario:
    name: str
    threshold: int
    initial: list[str]
    steps: list[Any]


SCENARIOS = [
    Scenario("sanity", 10, ["a", "b"], [
        nxt(True, round=P, proposals=["a", "b"]),
        inp("1", P, proposals=["b", "a"], count=3, grade=5),
        inp("2", P, proposals=["a", "c"], count=9, grade=5),
        inp("3", P, proposals=["c"], count=6, grade=5),
        nxt(coin=False),
        nxt(True, round=PR, proposals=["a", "c"]),
        inp("1", PR, proposals=["a", "c"], grade=5, vrf=b"\x02"),
        inp("2", PR, proposals=["b", "d"], grade=5, vrf=b"\x01"),
        nxt(), nxt(),
        nxt(True, round=C, ref=["a", "c"]),
        inp("1", C, ref=["a", "c"], count=4, grade=5),
        inp("2", C, ref=["a", "c"], count=8, grade=5),
        nxt(True, round=N, ref=["a", "c"]),
        inp("1", N, ref=["a", "c"], count=5, grade=5),
        inp("2", N, ref=["a", "c"], count=6, grade=5),
        nxt(result=["a", "c"]),  # hardlock
        nxt(),  # softlock
        nxt(True, round=PR, iter=1, proposals=["a", "c"]),
        nxt(), nxt(),
        nxt(True, round=C, iter=1, ref=["a", "c"]),
        nxt(True, round=N, iter=1, ref=["a", "c"]),
        nxt(terminated=True),
    ]),
    Scenario("commit_on_softlock", 10, ["a", "b"], [
        nxt(),
        inp("1", P, proposals=["a", "b"], count=11, grade=5),
        nxt(coin=False),
        nxt(),
        inp("1", PR, proposals=["a", "b"], grade=5),
        inp("2", PR, proposals=["b"], grade=5),
        nxt(), nxt(), nxt(),
        inp("1", C, ref=["b"], count=11, grade=3),
        nxt(),
        nxt(),  # hardlock
        nxt(),  # softlock
        nxt(),  # propose
        inp("1", PR, iter=1, proposals=["b"], grade=5),
        nxt(), nxt(),
        nxt(True, round=C, iter=1, ref=["b"]),
    ]),
    Scenario("empty_0_iteration", 10, ["a", "b"], [
        nxt(),
        inp("1", P, proposals=["a", "b"], count=3, grade=5),
        inp("2", P, proposals=["a", "b"], count=9, grade=5),
        nxt(coin=False),
        nxt(), nxt(), nxt(), nxt(), nxt(),  # propose wait1 wait2 commit notify
        nxt(), nxt(),  # hardlock softlock (iteration 1)
        nxt(True, iter=1, round=PR, proposals=["a", "b"]),
        inp("1", PR, iter=1, proposals=["a", "b"], grade=5),
        nxt(), nxt(),
        nxt(True, iter=1, round=C, ref=["a", "b"]),
        inp("1", C, iter=1, ref=["a", "b"], grade=5, count=11),
        nxt(True, iter=1, round=N, ref=["a", "b"]),
        inp("1", N, iter=1, ref=["a", "b"], grade=5, count=11),
        nxt(result=["a", "b"]),  # hardlock of iteration 2
        nxt(), nxt(), nxt(), nxt(), nxt(), nxt(),
        nxt(terminated=True),
    ]),
    Scenario("empty_proposal", 10, [], [
        nxt(),
        inp("1", P, count=11, grade=5),
        nxt(coin=False),
        nxt(True, round=PR, proposals=[]),
        inp("1", PR, grade=5, vrf=b"\x02"),
        nxt(), nxt(),
        nxt(True, round=C, ref=[]),
        inp("1", C, ref=[], count=11, grade=5),
        nxt(True, round=N, ref=[]),
        inp("1", N, ref=[], count=11, grade=5),
        nxt(result=[]),
    ]),
    Scenario("coin_true", 10, [], [
        nxt(),
        inp("2", P, vrf=b"\x02", grade=5),
        inp("1", P, vrf=b"\x01", grade=5),
        inp("3", P, vrf=b"\x02", grade=5),
        nxt(coin=True),
    ]),
    Scenario("coin_false", 10, [], [
        nxt(),
        inp("2", P, vrf=b"\x01\x02", grade=5),
        inp("1", P, vrf=b"\x00\x01", grade=5),
        inp("3", P, vrf=b"\x02", grade=5),
        nxt(coin=False),
    ]),
    Scenario("coin_delayed", 10, [], [
        nxt(), nxt(),
        inp("2", P, vrf=b"\x01\x02", grade=5),
        inp("1", P, vrf=b"\x02\x03", grade=5),
        nxt(coin=True),
    ]),
    Scenario("duplicates_dont_affect_thresholds", 10, [], [
        nxt(),
        inp("1", P, proposals=["a", "b"], count=5, grade=5),
        inp("3", P, proposals=["d"], count=6, grade=5, relay=True),
        inp("2", P, proposals=["a", "b"], count=6, grade=5),
        inp("3", P, proposals=["d"], count=6, grade=5),
        nxt(coin=False),
        nxt(True, round=PR, proposals=["a", "b"]),
        inp("1", PR, proposals=["a"], vrf=b"\x02", grade=5),
        inp("2", PR, proposals=["b"], vrf=b"\x01", grade=5),
        nxt(), nxt(), nxt(),
        inp("1", C, ref=["a"], count=4, grade=5),
        inp("2", C, ref=["b"], count=6, grade=5),
        inp("2", C, ref=["b"], count=6, grade=5),
        inp("3", C, ref=["a"], count=7, grade=5),
        nxt(True, round=N, ref=["a"]),
    ]),
    Scenario("malicious_preround", 10, [], [
        nxt(),
        inp("1", P, proposals=["a", "b"], count=9, grade=5),
        inp("2", P, malicious=True, relay=True, proposals=["b", "d"], count=11, grade=5),
        nxt(coin=False),
        nxt(True, round=PR, proposals=["b"]),
    ]),
    Scenario("malicious_proposal", 10, [], [
        nxt(), nxt(),
        inp("5", P, proposals=["a", "b", "c"], count=11, grade=5),
        nxt(coin=False),
        inp("1", PR, proposals=["a", "c"], vrf=b"\x02", grade=5),
        inp("2", PR, malicious=True, relay=True, proposals=["b"], vrf=b"\x01", grade=5),
        nxt(), nxt(),
        nxt(True, round=C, ref=["a", "c"]),
    ]),
    Scenario("malicious_commit", 10, [], [
        nxt(),
        inp("5", P, proposals=["a"], count=11, grade=5),
        nxt(coin=False), nxt(),
        inp("1", PR, proposals=["a"], grade=5),
        nxt(), nxt(), nxt(),
        inp("1", C, malicious=True, relay=True, ref=["a"], count=11, grade=5),
        nxt(True),  # notify sends nothing
    ]),
    Scenario("malicious_notify", 10, [], [
        nxt(),
        inp("5", P, proposals=["a"], count=11, grade=5),
        nxt(coin=False), nxt(),
        inp("1", PR, proposals=["a"], grade=5),
        nxt(), nxt(), nxt(),
        inp("1", C, ref=["a"], count=11, grade=5),
        nxt(),
        inp("1", N, malicious=True, relay=True, ref=["a"], count=11, grade=5),
        nxt(result=None),  # the only notify is malicious: no result
    ]),
    Scenario("equivocation_preround", 10, [], [
        nxt(),
        inp("7", P, msg_hash="m0", proposals=["a"], count=11, grade=4),
        inp("7", P, msg_hash="m1", relay=True, equivocation=True, proposals=["b"], count=11, grade=5),
        inp("7", P, msg_hash="m2", relay=False, proposals=["c"], count=11, grade=3),
    ]),
    Scenario("multiple_malicious_not_broadcasted", 10, [], [
        nxt(),
        inp("7", P, malicious=True, relay=True, proposals=["a"], count=11, grade=5),
        inp("7", P, malicious=True, relay=False, proposals=["b"], count=11, grade=5),
        inp("7", P, malicious=True, relay=False, proposals=["c"], count=11, grade=5),
    ]),
    Scenario("no_commit_for_grade1", 10, [], [
        nxt(),
        inp("5", P, proposals=["a"], count=11, grade=5),
        nxt(coin=False), nxt(), nxt(),
        inp("1", PR, proposals=["a"], grade=5),
        nxt(),
        nxt(True),  # commit: nothing
    ]),
    Scenario("other_gradecast_was_received", 10, [], [
        nxt(),
        inp("5", P, proposals=["a"], count=11, grade=5),
        nxt(coin=False), nxt(),
        inp("1", PR, proposals=["a"], grade=5),
        nxt(),
        inp("1", PR, msg_hash="a", relay=True, proposals=["b"], grade=3),
        nxt(),
        nxt(True),
    ]),
    Scenario("no_commit_if_not_subset_of_grade3", 10, [], [
        nxt(), nxt(), nxt(),
        inp("1", PR, proposals=["a"], grade=5),
        nxt(),
        inp("1", P, proposals=["a"], count=11, grade=2),
        nxt(coin=False),
        nxt(True),
    ]),
    Scenario("grade5_proposals_are_not_in_propose", 10, [], [
        nxt(),
        inp("1", P, proposals=["a"], count=11, grade=5),
        nxt(coin=False),
        inp("2", P, proposals=["b"], count=11, grade=5),
        nxt(),
        inp("1", PR, proposals=["b"], grade=5),
        nxt(), nxt(),
        nxt(True),
    ]),
    Scenario("commit_locked", 10, [], [
        nxt(),
        inp("1", P, proposals=["a", "b"], count=11, grade=5),
        nxt(coin=False), nxt(),
        inp("1", PR, proposals=["a"], grade=5),
        nxt(), nxt(), nxt(), nxt(),  # wait1 wait2 commit notify
        nxt(),  # hardlock
        inp("1", C, ref=["a"], count=11, grade=5),  # grade 3 by now: no hardlock
        nxt(), nxt(),  # softlock propose
        inp("2", C, ref=["b"], count=11, grade=5),  # grade 1: satisfies condition (g)
        inp("1", PR, iter=1, proposals=["a"], grade=5, vrf=b"\x02"),
        inp("2", PR, iter=1, proposals=["b"], grade=5, vrf=b"\x01"),
        nxt(), nxt(),
        nxt(True, round=C, iter=1, ref=["a"]),  # (h): the locked value, though b leads
    ]),
    # Upstream writes `.coin(false)` on the preround step of the two "early proposal" scenarios but
    # never checks it (the step is not `.active()`); the coin is output at softlock, the first
    # round at or after softlock, so the expectation is placed there.
    Scenario("early_proposal_by_one", 10, [], [
        inp("1", P, proposals=["a", "b"], count=11, grade=5),
        nxt(coin=None),  # preround
        nxt(coin=False),  # softlock
        inp("1", PR, proposals=["a", "b"], grade=5, vrf=b"\x01"),
        nxt(), nxt(), nxt(),
        nxt(True, round=C, ref=["a", "b"]),
    ]),
    Scenario("early_proposal_by_two", 10, [], [
        inp("1", P, proposals=["a", "b"], count=11, grade=5),
        nxt(coin=None),  # preround
        inp("1", PR, proposals=["a", "b"], grade=5, vrf=b"\x01"),
        nxt(coin=False), nxt(), nxt(), nxt(),
        nxt(True, round=C, ref=["a", "b"]),
    ]),
]


def pid(name: str) -> bytes:
    return name.encode().ljust(20, b"\0")


def padded32(name: str) -> bytes:
    return name.encode().ljust(32, b"\0")


def trace_inputs(scenario: Scenario, proposals_hash) -> dict[str, Any]:
    """The JSON inputs of a ``hare/protocol/trace`` case for a scenario."""
    steps: list[dict[str, Any]] = []
    for step in scenario.steps:
        if isinstance(step, Next):
            steps.append({"next": True})
            continue
        reference = None if step.ref is None else proposals_hash(tuple(pid(x) for x in step.ref))
        steps.append({"input": {
            "sender": padded32(step.sender), "iter": step.iter, "round": step.round,
            "proposals": [pid(x) for x in step.proposals], "reference": reference,
            "proof": step.vrf.ljust(80, b"\0"), "count": step.count, "atx_grade": step.grade,
            "malicious": step.malicious, "msg_hash": padded32(step.msg_hash) if step.msg_hash else bytes(32),
        }})
    return {"threshold": scenario.threshold, "initial": [pid(x) for x in scenario.initial], "steps": steps}
