"""Gas schedules (spec/athena.md, *Gas schedules*): exact gas under the live and the bounded one.

Each program ends with one syscall; the expected gas is worked out here from the rule: 4 per
completed instruction, plus ED25519_VERIFY's extra, plus (bounded schedule) one gas per byte the
syscall moved, as the table of ``syscall_bytes_moved`` lists them. Every program first copies its
input stream to 0x1000 (HINT_LEN, HINT_READ: their bytes count too).
"""

from __future__ import annotations

import blake3
import nacl.signing
import pytest
import smspec.spec.athena as athena

from .asm import raw_program

LOAD_INPUT = "li t0, 0xF0\necall\nmv a1, t0\nlui a0, 1\nli t0, 0xF1\necall\n"
SIGNER = nacl.signing.SigningKey(bytes(range(32)))
PUBLIC = bytes(SIGNER.verify_key)
MESSAGE = b"athena spend 100"
SIGNATURE = SIGNER.sign(MESSAGE).signature
CALLEE = bytes(range(1, 25))


def run(text: str, input_stream: bytes, schedule, gas: int = 10**6):
    program = athena.load_program(raw_program(text))
    host = athena.InMemoryHost(schedule=schedule)
    host.account(CALLEE).balance = 1000
    context = athena.AthenaContext(callee=CALLEE)
    return athena.run(program, 0, input_stream, host, context, gas, None, schedule)


def steps(text: str) -> int:
    return len(raw_program(text)) // 4 - 1


# (name, program after LOAD_INPUT, input stream, bytes the last syscall moves, its extra gas)
CASES = [
    ("write_output", "li t0, 2\nli a0, 3\nlui a1, 1\nli a2, 5\necall", b"hello", 5, 0),
    ("write_console", "li t0, 2\nli a0, 1\nlui a1, 1\nli a2, 3\necall", b"abc", 3, 0),
    ("hint_len", "li t0, 0xF0\necall", b"xy", 0, 0),
    ("host_write", "li t0, 0xA1\nlui a0, 1\naddi a1, a0, 32\necall", bytes(range(64)), 64, 0),
    ("host_read", "li t0, 0xA0\nlui a0, 1\necall", bytes(range(32)), 64, 0),
    ("get_balance", "li t0, 0xA3\nlui a0, 1\necall", b"", 8, 0),
    ("context", "li t0, 0xA6\nlui a0, 1\necall", b"", 80, 0),
    ("spawn", "li t0, 0xA4\nlui a0, 1\nli a1, 7\nli a2, 0x2000\necall", b"a blob!", 7 + 24, 0),
    ("host_call", "li t0, 0xA2\nlui a0, 1\naddi a1, a0, 24\nli a2, 9\nli a3, 0\nli a4, 0\naddi a5, a0, 40\necall",
     bytes(24) + b"some data" + bytes(7) + (5).to_bytes(8, "little"), 24 + 9 + 8 + 0, 0),
    ("ed25519", f"li t0, 0x00640020\nlui a2, 1\naddi a3, a2, 32\naddi a0, a2, 96\nli a1, {len(MESSAGE)}\necall",
     PUBLIC + SIGNATURE + MESSAGE, len(MESSAGE) + 32 + 64, None),
]


@pytest.mark.parametrize(("name", "text", "input_stream", "moved", "extra"), CASES, ids=[c[0] for c in CASES])
def test_gas_under_both_schedules(name, text, input_stream, moved, extra):
    program = LOAD_INPUT + text
    live = run(program, input_stream, athena.LIVE_GAS_SCHEDULE)
    bounded = run(program, input_stream, athena.BOUNDED_GAS_SCHEDULE)
    assert live.trap is None and bounded.trap is None, (live.trap, bounded.trap)
    count = steps(program)
    hint_bytes = len(input_stream)  # the HINT_READ of LOAD_INPUT
    live_extra = 100 if extra is None else extra
    bounded_extra = 3000 if extra is None else extra
    assert live.gas == 4 * count + live_extra
    assert bounded.gas == 4 * count + bounded_extra + hint_bytes + moved
    # the schedule changes gas only: same registers, memory, output and host
    assert (live.registers, dict(live.memory), bytes(live.output)) == (
        bounded.registers, dict(bounded.memory), bytes(bounded.output))


def test_failing_syscall_charges_no_bytes():
    # a WRITE to an unknown descriptor fails: the instruction is not charged at all
    text = LOAD_INPUT + "li t0, 2\nli a0, 9\nlui a1, 1\nli a2, 4\necall"
    machine = run(text, b"abcd", athena.BOUNDED_GAS_SCHEDULE)
    assert (machine.trap.status, machine.trap.reason) == (athena.StatusCode.INVALID_SYSCALL_ARGUMENT, "unknown_fd")
    assert machine.gas == 4 * (steps(text) - 1) + 4  # the 4 bytes of the HINT_READ only


def test_byte_cost_can_exhaust_gas_after_the_syscall():
    # 60 KiB written with 1,000 gas left: the WRITE completes, then the limit check fails
    text = "li t0, 2\nli a0, 3\nlui a1, 1\nlui a2, 15\necall\nnop"
    machine = run(text, b"", athena.BOUNDED_GAS_SCHEDULE, gas=1000)
    assert (machine.trap.status, machine.trap.reason) == (athena.StatusCode.OUT_OF_GAS, "out_of_gas")
    assert machine.gas == 4 * 5 + 15 * 4096
    assert len(machine.output) == 15 * 4096


def test_nested_calls_use_the_hosts_schedule():
    # a program calls an account whose template writes 10 bytes to its output, and copies them
    callee_code = raw_program("li t0, 2\nli a0, 3\nlui a1, 1\nli a2, 10\necall")
    callee_gas = {"live": 4 * 5, "bounded": 4 * 5 + 10}
    callee = bytes([5]) * 24
    text = LOAD_INPUT + "li t0, 0xA2\nlui a0, 1\nli a1, 0\nli a2, 0\nli a3, 0x2000\nli a4, 16\naddi a5, a0, 24\necall"
    for label, schedule in (("live", athena.LIVE_GAS_SCHEDULE), ("bounded", athena.BOUNDED_GAS_SCHEDULE)):
        host = athena.InMemoryHost(schedule=schedule)
        template = host.deploy(callee_code)
        assert template == blake3.blake3(callee_code).digest()[:24]
        host.account(callee).template = template
        program = athena.load_program(raw_program(text))
        machine = athena.run(program, 0, callee + bytes(8), host, athena.AthenaContext(callee=CALLEE), 10**6,
                             None, schedule)
        assert machine.trap is None and machine.registers[5] == 10  # bytes copied
        own = 4 * steps(text)
        if label == "live":
            assert machine.gas == own + callee_gas["live"]
        else:
            assert machine.gas == own + 32 + callee_gas["bounded"] + 24 + 8 + 10
