"""The gas counter is an unbounded integer (spec/athena.md, *Decision* (unbounded gas counter)).

Athena counts gas in a ``u32``. The only way to bring the counter near 2^32 without running a
billion instructions is a HOST_CALL whose callee uses the gas it was given: a host reporting
``gas_left = 0`` on a call made with the largest limit, ``MAX_GAS = 2^32 - 1``. The call's own 4
gas then takes the counter to ``2^32 + 3``. Kept unbounded, that exceeds the limit and the program
runs out of gas; a ``u32`` would have wrapped to 3 and the program would have gone on.
"""

from __future__ import annotations

import pytest
import smspec.spec.athena as athena

from .asm import raw_program

CALLEE = bytes(range(1, 25))
# HOST_CALL to the all-zero address with no input, no output buffer and amount 0 at 0x1000 + 40,
# then one more instruction that must not run when the call used up the gas.
PROGRAM = (
    "lui a0, 1\naddi a1, a0, 24\nli a2, 0\nli a3, 0\nli a4, 0\naddi a5, a0, 40\nli t0, 0xA2\necall\n"
    "addi s1, zero, 7\naddi s1, s1, 1"
)


class CalleeUsesGas(athena.InMemoryHost):
    """A host whose every call succeeds and reports `left` gas unused (capped at what it got)."""

    def __init__(self, left: int) -> None:
        super().__init__()
        self.left = left
        self.given: list[int] = []

    def call(self, message: athena.Message) -> athena.ExecutionResult:
        self.given.append(message.gas)
        return athena.ExecutionResult(athena.StatusCode.SUCCESS, min(self.left, message.gas), b"")


def run(left: int) -> tuple[athena.Machine, CalleeUsesGas]:
    host = CalleeUsesGas(left)
    host.account(CALLEE).balance = 1000
    program = athena.load_program(raw_program(PROGRAM))
    machine = athena.run(program, 0, b"", host, athena.AthenaContext(callee=CALLEE), athena.MAX_GAS)
    return machine, host


BEFORE_CALL = 7  # instructions before the ecall


def test_a_call_using_all_the_gas_takes_the_counter_past_two_to_the_32_and_runs_out():
    machine, host = run(left=0)
    assert host.given == [athena.MAX_GAS - 4 * BEFORE_CALL]
    assert machine.trap is not None
    assert (machine.trap.status, machine.trap.reason) == (athena.StatusCode.OUT_OF_GAS, "out_of_gas")
    # the ecall completed and was charged: the limit plus its own 4, beyond what a u32 holds
    assert machine.gas == 2**32 + 3
    assert machine.steps == BEFORE_CALL + 1
    assert machine.registers[9] == 0  # s1: the next instruction never ran
    assert athena.machine_result(machine) == athena.ExecutionResult(athena.StatusCode.OUT_OF_GAS, 0, None)


# (gas the callee leaves, s1 at the end, status, gas counted): after the ecall the counter is
# MAX_GAS + 4 - left, and each of the two instructions after it adds 4 (and writes s1 before the check)
AFTER = [
    (4, 7, athena.StatusCode.OUT_OF_GAS, athena.MAX_GAS + 4),
    (8, 8, athena.StatusCode.OUT_OF_GAS, athena.MAX_GAS + 4),
    (12, 8, None, athena.MAX_GAS),
]


@pytest.mark.parametrize(("left", "s1", "status", "gas"), AFTER, ids=[f"left{a[0]}" for a in AFTER])
def test_gas_the_callee_leaves_is_spent_to_the_last_unit(left, s1, status, gas):
    machine, _ = run(left=left)
    assert (machine.trap.status if machine.trap is not None else None) == status
    assert machine.registers[9] == s1
    assert machine.gas == gas
