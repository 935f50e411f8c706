"""Athena: the impl's direct dispatch of a call's syscalls (impl/athena.py, ``execute_syscall``) against the spec.

The impl runs HINT_LEN, HINT_READ, HOST_CONTEXT and HOST_CALL without the spec's chain of
tests, counting the bytes each moves in place. A program makes each of them (a HINT_READ to an
aligned and to an unaligned address, a HOST_CALL to an account whose template writes an output
that is copied back, and one to an account without code), under the live and the bounded gas
schedule (which charges the bytes moved), and the final state (registers, memory, pc, gas,
steps, status, output, input position) and the accounts afterwards must be the spec's at every
gas limit around each ``ecall``, and for inputs too short for the reads.
"""

from __future__ import annotations

import pytest
import smspec.spec.athena as athena_module
from smspec.tests.differential.test_athena import backend, final_state, impl_run, spec_run
from smspec.tests.spec.athena.asm import raw_program

pytestmark = pytest.mark.usefixtures("spec_backend")

A = athena_module
DATA = 0x2000
CALLEE = bytes(range(1, 25))  # an account whose template writes 6 bytes of output
PLAIN = bytes(range(31, 55))  # an account without code
TEMPLATE = bytes([7]) * 24

# the callee: WRITE "hello!" (at 0x400, stored first) to the output, then HALT
CALLEE_CODE = raw_program("""
  li t1, 0x6c6c6568
  li a0, 0x400
  sw t1, 0(a0)
  li t1, 0x216f
  sw t1, 4(a0)
  li t0, 2
  li a0, 3
  li a1, 0x400
  li a2, 6
  ecall
  li t0, 0
  li a0, 0
  ecall
""")

CALLER = f"""
  li t0, 0xF0
  ecall
  addi tp, t0, 0
  li t0, 0xF1
  li a0, {DATA}
  li a1, 24
  ecall
  addi s0, t0, 0
  li t0, 0xF1
  li a0, {DATA + 0x41}
  li a1, 7
  ecall
  li t0, 0xF1
  li a0, {DATA + 0x80}
  li a1, 10
  ecall
  li t0, 0xF0
  ecall
  addi gp, t0, 0
  li t0, 0xA6
  li a0, {DATA + 0x100}
  ecall
  li t1, 5
  li a5, {DATA + 0x180}
  sw t1, 0(a5)
  li t0, 0xA2
  li a0, {DATA}
  li a1, {DATA + 0x41}
  li a2, 4
  li a3, {DATA + 0x200}
  li a4, 5
  ecall
  addi s1, t0, 0
  li t0, 0xA6
  li a0, {DATA + 0x300}
  ecall
  li t0, 0xA2
  li a0, {DATA + 0x80}
  li a1, 0
  li a2, 0
  li a3, 0
  li a4, 0
  ecall
"""


def host() -> A.InMemoryHost:
    host = A.InMemoryHost()
    host.account(b"\x00" * 24).balance = 1000
    host.templates[TEMPLATE] = CALLEE_CODE
    host.account(CALLEE).template = TEMPLATE
    return host


def outcome(run, code: bytes, gas: int, stream: bytes, schedule) -> tuple:
    program = A.load_program(code)
    the_host = host()
    machine = run(program, program.pc_start, stream, the_host, A.AthenaContext(), gas, None, schedule)
    accounts = {address: (account.balance, account.template, account.state, dict(account.storage))
                for address, account in the_host.accounts.items()}
    return final_state(machine), accounts


def spec_outcome(code: bytes, gas: int, stream: bytes, schedule) -> tuple:
    return outcome(spec_run(), code, gas, stream, schedule)


def impl_outcome(code: bytes, gas: int, stream: bytes, schedule, threshold: int) -> tuple:
    with backend("impl"):
        return outcome(impl_run(threshold), code, gas, stream, schedule)


# the 7 bytes read to an unaligned address begin with the call's input: a Payload without selector, 2 bytes
STREAM = CALLEE + b"\x00\x08\xcc\xdd\xee\xff\x11" + PLAIN[:10]


@pytest.mark.parametrize("threshold", [0, None])
@pytest.mark.parametrize("bounded", [False, True])
def test_a_calls_syscalls_at_every_gas_limit_around_them(bounded, threshold):
    schedule = A.BOUNDED_GAS_SCHEDULE if bounded else A.LIVE_GAS_SCHEDULE
    code = raw_program(CALLER)
    full = spec_outcome(code, 10**6, STREAM, schedule)
    state = full[0]
    assert state[6] is None  # the whole program succeeds: every syscall ran
    assert state[0][4] == 24 + 7 + 10  # tp: HINT_LEN's count
    assert state[0][3] == 0  # gp: HINT_LEN's count after the reads
    assert state[0][9] == 5  # s1: HOST_CALL's result, the bytes copied (the capacity)
    assert state[1][DATA + 0x200] == int.from_bytes(b"hell", "little")  # the callee's output, copied
    assert state[1][DATA + 0x204] == ord("o")  # its fifth byte merged into the word there
    # gas: the live schedule charges the instructions and the callee's; the bounded one adds the bytes moved
    total = state[4]
    for gas in range(0, total + 2):
        assert impl_outcome(code, gas, STREAM, schedule, threshold) == spec_outcome(code, gas, STREAM, schedule), gas


@pytest.mark.parametrize("bounded", [False, True])
@pytest.mark.parametrize("length", [0, 23, 24, 30, 40, 41, 42])
def test_short_inputs_fail_like_the_spec(length, bounded):
    schedule = A.BOUNDED_GAS_SCHEDULE if bounded else A.LIVE_GAS_SCHEDULE
    code = raw_program(CALLER)
    stream = STREAM[:length]  # 0: HINT_LEN gives 0, then the first HINT_READ fails
    assert impl_outcome(code, 10**6, stream, schedule, 0) == spec_outcome(code, 10**6, stream, schedule)
