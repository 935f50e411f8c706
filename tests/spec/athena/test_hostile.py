"""Hostile programs: every one ends with a defined status, never a Python exception, and the
memory it makes the VM hold stays bounded by its gas and the spec's syscall bounds."""

from __future__ import annotations

from smspec.conformance.cases import Case, vector_source

from .asm import by_hand, raw_program
from .helpers import outcome

M = 0xFFFFFFFF


@vector_source("athena", "hostile", "run")
def test_hostile_programs():
    # An infinite loop ends by gas: 2 instructions per turn; the instruction that crosses the
    # limit has executed (lazy check) and is counted.
    yield Case(
        "infinite_loop_out_of_gas",
        inputs={"program": raw_program("addi a0, zero, 1\nloop: addi a1, a1, 1\nj loop"), "gas": 4001},
        expected=outcome(1001, {"x10": 1, "x11": 500}, pc=4, status="OUT_OF_GAS", reason="out_of_gas", gas=4001), description="an infinite loop ends by gas; the instruction crossing the limit is counted (lazy check)", spec_ref="athena.md#run",
    )
    yield Case(
        "gas_exactly_enough",
        inputs={"program": raw_program("nop\nnop\nnop"), "gas": 12},
        expected=outcome(3, {}, gas=12), description="3 instructions with exactly 12 gas succeed with 0 gas left", spec_ref="athena.md#run",
    )
    yield Case(
        "gas_one_short",
        inputs={"program": raw_program("nop\nnop\nnop"), "gas": 11},
        expected=outcome(3, {}, status="OUT_OF_GAS", reason="out_of_gas", gas=11), description="3 instructions with 11 gas: OUT_OF_GAS after the third", spec_ref="athena.md#run",
    )
    yield Case(
        "zero_gas", inputs={"program": raw_program("nop"), "gas": 0},
        expected=outcome(1, {}, status="OUT_OF_GAS", reason="out_of_gas", gas=0), description="zero gas: the first instruction runs and the run is OUT_OF_GAS", spec_ref="athena.md#run",
    )
    # Touch a word every 64 KiB across the whole address space: bounded by gas.
    yield Case(
        "memory_sweep_bounded_by_gas",
        inputs={"program": raw_program("lui a0, 1\nlui a1, 16\nloop: sw a0, 0(a0)\nadd a0, a0, a1\nj loop"), "gas": 4000},
        expected=outcome(
            1001, {"x10": 0x1000 + 333 * 0x10000, "x11": 0x10000}, pc=8, status="OUT_OF_GAS", reason="out_of_gas", gas=4000
        ), description="a store every 64 KiB across the address space is bounded by gas", spec_ref="athena.md#run",
    )
    # Stores that wrap around the top of memory reach the protected low words and fail.
    yield Case(
        "store_wraps_to_protected_low_memory",
        inputs={"program": raw_program("li a0, -4\nsw a0, 0(a0)\nsw a0, 8(a0)")},
        expected=outcome(2, {"x10": M - 3}, pc=8, status="FAILURE", reason="store_out_of_bounds"), description="a store that wraps past 2^32 reaches the protected low words and fails", spec_ref="athena.md#stores-sb-sh-sw",
    )
    yield Case(
        "huge_write_is_refused",
        inputs={"program": raw_program("li t0, 2\nli a0, 3\nli a2, -1\necall")},
        expected=outcome(3, {"x5": 2, "x10": 3, "x12": M}, status="INVALID_SYSCALL_ARGUMENT", reason="buffer_too_long"), description="WRITE of 2^32 - 1 bytes is refused (buffer_too_long)", spec_ref="athena.md#write",
    )
    yield Case(
        "huge_hint_read_is_refused",
        inputs={"program": raw_program("li t0, 0xF1\nlui a0, 1\nli a1, -1\necall"), "input": b"abc"},
        expected=outcome(3, {"x5": 0xF1, "x10": 0x1000, "x11": M}, status="INSUFFICIENT_INPUT", reason="insufficient_input"), description="HINT_READ of 2^32 - 1 bytes: INSUFFICIENT_INPUT", spec_ref="athena.md#hint_read",
    )
    # Output grows 60 KiB per WRITE until the cap.
    yield Case(
        "output_growth_capped",
        inputs={"program": raw_program("li t0, 2\nli a0, 3\nli a2, 0xF000\nloop: ecall\nj loop")},
        expected=outcome(
            6, {"x5": 2, "x10": 3, "x12": 0xF000}, pc=16, status="INVALID_SYSCALL_ARGUMENT", reason="output_too_large",
            output="0x" + "00" * 0xF000,
        ), description="60 KiB WRITEs to the output stop at the output cap (output_too_large)", spec_ref="athena.md#write",
    )
    yield Case(
        "input_stream_growth_capped",
        inputs={"program": raw_program("li t0, 2\nli a0, 4\nli a2, 0xF000\nloop: ecall\nj loop")},
        expected=outcome(
            38, {"x5": 2, "x10": 4, "x12": 0xF000}, pc=16, status="INVALID_SYSCALL_ARGUMENT", reason="input_too_large",
        ), description="60 KiB WRITEs to the input stream stop at its cap (input_too_large)", spec_ref="athena.md#write",
    )
    yield Case(
        "jump_into_nowhere_first_instruction",
        inputs={"program": raw_program("nop"), "entry": 0x8000},
        expected=outcome(0, {}, pc=0x8000, status="FAILURE", reason="instruction_fetch_failed"), description="an entry point where no code is: the first fetch fails", spec_ref="athena.md#fetch",
    )
    yield Case("empty_raw_program", inputs={"program": by_hand(b"\x7fATH", "the raw-format magic and no code")},
               expected=outcome(0, {}, pc=0, status="FAILURE", reason="instruction_fetch_failed"), description="a raw program of only the magic loads; the first fetch fails", spec_ref="athena.md#load_raw")
    yield Case("unknown_format", inputs={"program": by_hand(b"\x7fXYZ\x13\x00\x00\x00", "an unknown magic, then a nop")}, error="InvalidProgram", reason="unknown_format", description="a file with neither ELF nor raw magic: unknown_format", spec_ref="athena.md#load_program")
    yield Case("too_short", inputs={"program": by_hand(b"\x7fE", "two bytes")}, error="InvalidProgram", reason="too_short", description="a two-byte file: too_short", spec_ref="athena.md#load_program")
    yield Case("raw_length_not_word_multiple", inputs={"program": by_hand(b"\x7fATH\x13\x00\x00", "the raw magic and three bytes of a nop")}, error="InvalidProgram", reason="raw_length", description="a raw program whose code is not a whole number of words: raw_length", spec_ref="athena.md#load_raw")
    yield Case("truncated_elf", inputs={"program": by_hand(b"\x7fELF\x01\x01\x01" + bytes(20), "an ELF identification and 20 zero bytes")}, error="InvalidProgram", reason="truncated_elf", description="an ELF header cut at 27 bytes: truncated_elf", spec_ref="athena.md#load_elf")


def test_memory_held_is_bounded_by_gas():
    # every store adds at most one word; a sweep over the whole address space with 40,000 gas
    # leaves at most 10,000 words in the machine, whatever the addresses
    import smspec.spec.athena as athena

    program = athena.load_program(raw_program("lui a0, 1\nlui a1, 0x10\nloop: sw a0, 0(a0)\nadd a0, a0, a1\nj loop"))
    machine = athena.run(program, 0, b"", athena.InMemoryHost(), athena.AthenaContext(), 40_000)
    assert machine.trap.status == athena.StatusCode.OUT_OF_GAS
    assert len(machine.memory) == machine.steps // 3  # one new word per completed sw (every third step)


class RefundingHost:
    """A host whose call returns more gas than it was given (Athena panics: host.rs:140-142)."""

    def __init__(self) -> None:
        import smspec.spec.athena as athena

        self.inner = athena.InMemoryHost()

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def call(self, message):
        import smspec.spec.athena as athena

        return athena.ExecutionResult(athena.StatusCode.SUCCESS, message.gas + 1, b"")


def test_host_refunding_gas_is_an_internal_error():
    import smspec.spec.athena as athena

    text = "lui s0, 1\nli t0, 0xA2\nmv a0, s0\nmv a1, s0\nli a2, 0\nli a3, 0\nli a4, 0\nmv a5, s0\necall"
    program = athena.load_program(raw_program(text))
    machine = athena.run(program, 0, b"", RefundingHost(), athena.AthenaContext(), 1000)
    assert (machine.trap.status, machine.trap.reason) == (athena.StatusCode.INTERNAL_ERROR, "host_refunded_gas")
    assert athena.machine_result(machine) == athena.ExecutionResult(athena.StatusCode.INTERNAL_ERROR, 0, None)
