"""The parts of the self-clocked processes, without processes: the layer clock and the order and
times of the duties a node and a smeshing service run in a layer (rule "clocked-phases"), the
PoET service's rounds (rule "poet-server"), the catch-up framing, and the commands' refusals."""

from __future__ import annotations

import io
import json
import threading

import pytest
from smspec.tools.cli import main
from smspec.tools.node import schedule as s
from smspec.tools.node.node import Genesis
from smspec.tools.node.peers import pack, parse_address, unpack

GENESIS = Genesis(genesis_time=1_000, extra_data="x", layers_per_epoch=4, accounts={}, wallet_code="00",
                  layer_duration=10.0)


class FakeClock(s.Clock):
    """Simulated time: waiting moves the clock forward."""

    def __init__(self, start: float) -> None:
        super().__init__(threading.Event())
        self.time = start

    def now(self) -> float:
        return self.time

    def wait_until(self, when: float) -> bool:
        self.time = max(self.time, when)
        return True


def test_the_layer_clock():
    timing = s.LayerTiming.of(GENESIS)
    assert (timing.start(0), timing.start(3), timing.layer_at(999.9), timing.layer_at(1_030.0)) == (1_000, 1_030, -1, 3)
    assert timing.hare_round == pytest.approx(0.3)  # (80 % - 20 %) of 10 s in 20 rounds
    assert timing.hare_round_at(8, 0) == pytest.approx(1_082.0) and timing.hare_round_at(8, 2) == pytest.approx(1_082.6)
    assert timing.poet_round_end(2) == 1_080 and timing.poet_register_layer(2) == 5
    with pytest.raises(ValueError, match="no layer clock"):
        s.LayerTiming.of(Genesis(genesis_time=1, extra_data="x", layers_per_epoch=4, accounts={}, wallet_code="00"))


def test_the_hare_rounds_follow_next_iter_round():
    from smspec.tools.node import protocol as p

    rounds = s.hare_rounds(p.modules().hare, 9)
    assert rounds == [(0, 0), (0, 2), (0, 3), (0, 4), (0, 5), (0, 6), (0, 7), (1, 1), (1, 2)]


def test_a_node_runs_its_duties_at_their_times():
    timing = s.LayerTiming.of(GENESIS)
    clock = FakeClock(timing.start(8))
    calls = []

    def duty(op, **call):
        calls.append((op, round(clock.now() - timing.start(8), 3)))
        if op == "hare_round":
            return {"active": len([c for c in calls if c[0] == "hare_round"]) < 3}
        return {"active": True} if op == "hare_start" else {}

    s.ClockedNodeSchedule(timing, duty, clock, first_ballot_layer=8).run_layer(8)
    assert calls == [("begin", 0.0), ("relay", 0.0), ("hare_start", 2.0), ("hare_round", 2.0), ("hare_round", 2.3),
                     ("hare_round", 2.6), ("hare_done", 2.6), ("end", 10.0)]
    calls.clear()
    clock.time = timing.start(9) + 2.5  # joined late: the Hare's preround is past
    s.ClockedNodeSchedule(timing, duty, clock, first_ballot_layer=8).run_layer(9)
    assert [op for op, _ in calls] == ["begin", "relay", "end"]


def test_a_smeshing_service_runs_its_duties_at_their_times():
    timing = s.LayerTiming.of(GENESIS)
    clock = FakeClock(timing.start(8))
    calls = []

    def duty(op, **call):
        calls.append((op, call.get("iteration"), call.get("round"), round(clock.now() - timing.start(8), 3)))
        if op == "certify":
            return {"ready": sum(c[0] == "certify" for c in calls) == 4}
        return {}

    rounds = [(0, 0), (0, 2), (0, 3), (0, 4)]
    schedule = s.ClockedSmesherSchedule(timing, duty, clock, 8, rounds, (0, 3, 6, 7), poet=None,
                                        start_atx=lambda epoch: pytest.fail("no ATX phase in layer 8"))
    schedule.run_layer(8)
    assert calls == [("propose", None, None, 0.2), ("certify", None, None, 2.09), ("hare_messages", 0, 0, 2.09),
                     ("certify", None, None, 2.39), ("certify", None, None, 2.69), ("hare_messages", 0, 3, 2.69),
                     ("certify", None, None, 2.99)]


def test_the_atx_phase_registers_waits_for_the_round_and_publishes_after_the_hare():
    timing = s.LayerTiming.of(GENESIS)
    clock = FakeClock(timing.start(5))
    calls = []

    class Poet:
        def submit(self, epoch, challenge):
            calls.append(("submit", epoch, challenge, clock.now()))
            return True

        def proof(self, epoch):
            calls.append(("proof", epoch, None, clock.now()))
            return ("ab", ["cd"])

    def duty(op, **call):
        calls.append((op, call.get("epoch"), call.get("publish"), clock.now()))
        return {"challenges": ["cd"]} if op == "atx_register" else {}

    started = []
    schedule = s.ClockedSmesherSchedule(timing, duty, clock, 8, [], (), Poet(), start_atx=started.append)
    schedule.run_layer(5)
    schedule.run_layer(6)  # the same epoch's registration window: not started twice
    assert started == [2]
    schedule.atx_phase(2)
    assert calls == [("atx_register", 2, None, 1_050), ("submit", 2, "cd", 1_050), ("proof", 2, None, 1_080),
                     ("atx_publish", 2, False, 1_080), ("atx_publish", 2, True, 1_088.2)]


def test_poet_rounds(tmp_path, monkeypatch):
    from smspec.tools.node import protocol as p
    from smspec.tools.node.poet import PoetApp, PoetService

    timing = s.LayerTiming.of(GENESIS)
    app = PoetApp(PoetService(p.modules(), str(tmp_path / "poet.sqlite")), timing)

    def call(method, path, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "CONTENT_LENGTH": str(len(data)),
                   "wsgi.input": io.BytesIO(data)}
        status = []
        answer = b"".join(app(environ, lambda text, headers: status.append(int(text.split()[0]))))
        return status[0], json.loads(answer)

    now = {"t": 1_041.0}  # layer 4: epoch 1 has started, round 2 is open
    monkeypatch.setattr("smspec.tools.node.poet.time.time", lambda: now["t"])
    assert call("GET", "/v1/info")[1]["openRound"] == 2
    assert call("POST", "/v1/submit", {"round": 2, "challenge": "11" * 32}) == (200, {"round": 2, "roundEnd": 1_080})
    assert call("POST", "/v1/submit", {"round": 1, "challenge": "11" * 32})[0] == 400  # ended when epoch 1 began
    assert call("POST", "/v1/submit", {"round": 2, "challenge": "zz"})[0] == 400
    assert call("GET", "/v1/proofs/2") == (404, {"code": 5, "message": "round 2 has not ended yet"})
    now["t"] = 1_080.0
    status, answer = call("GET", "/v1/proofs/2")
    proof = p.decode(bytes.fromhex(answer["proof"]), p.PoetProof)
    assert status == 200 and answer["members"] == ["11" * 32] and proof.epoch == 2
    assert call("GET", "/v1/proofs/3") == (404, {"code": 5, "message": "round 3 has not ended yet"})
    assert call("GET", "/v1/nosuch")[0] == 404 and call("POST", "/v1/info")[0] == 405
    app.service.close_db()


def test_catch_up_framing_and_addresses():
    objects = [("atx", b"\x01" * 300), ("tx", b""), ("cert", bytes(range(256)))]
    assert unpack(pack(objects)) == objects
    with pytest.raises(ValueError, match="truncated"):
        unpack(pack(objects)[:-1])
    assert parse_address("127.0.0.1:7190") == ("127.0.0.1", 7190) and parse_address("[::1]:0") == ("::1", 0)
    for bad in ("7190", "host:", ":1", "h:65536", "h:-1"):
        with pytest.raises(ValueError, match="expected HOST:PORT"):
            parse_address(bad)


def test_commands_refuse_a_network_without_a_clock(tmp_path, capsys):
    coordinated = tmp_path / "genesis.json"
    coordinated.write_text(Genesis(genesis_time=1, extra_data="x", layers_per_epoch=4, accounts={},
                                   wallet_code="00").to_json())
    for argv, message in (
        (["node", "run", "--data", str(tmp_path / "n"), "--genesis", str(coordinated)], "has no layer clock"),
        (["poet", "run", "--data", str(tmp_path / "p"), "--genesis", str(coordinated)], "has no layer clock"),
        (["node", "run", "--data", str(tmp_path / "n"), "--genesis", str(coordinated), "--peer", "x"],
         "--peer 'x': expected HOST:PORT"),
        (["smesher", "run", "--keys", str(tmp_path), "--post", str(tmp_path), "--node", "http://127.0.0.1:1"],
         "--poet URL"),
        (["devnet", "up", "--clocked", "--tcp"], "--tcp is for the coordinated devnet"),
        (["devnet", "init", "--datadir", str(tmp_path)], "is not empty"),
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("smspec: error: ") and message in err and err.count("\n") == 1, (argv, err)
