"""Athena syscalls: register and memory layouts, results in t0, failure statuses.

Most programs first copy their whole input stream to 0x1000 (HINT_LEN, HINT_READ), then set up
one syscall. Expected values come from the host-ABI table of spec/athena.md and, for addresses,
from BLAKE3 computed here independently of the spec.
"""

from __future__ import annotations

import blake3
import nacl.signing
from smspec.conformance.cases import Case, vector_source

from .asm import raw_program
from .helpers import GAS, outcome

M = 0xFFFFFFFF
LOAD_INPUT = "li t0, 0xF0\necall\nmv a1, t0\nlui a0, 1\nli t0, 0xF1\necall\n"
CALLEE = bytes(range(1, 25))
CALLER = bytes(range(101, 125))
TEMPLATE = bytes([7]) * 24


def steps_of(text: str) -> int:
    return len(raw_program(text)) // 4 - 1


def words(data: bytes, base: int = 0x1000) -> dict[str, int]:
    """Memory words of `data` (zero-padded) stored at `base`."""
    data = data + b"\x00" * (-len(data) % 4)
    return {str(base + i): int.from_bytes(data[i : i + 4], "little") for i in range(0, len(data), 4)}


def syscall_case(name, text, expected_registers, input_data=b"", extra_gas=0, status="SUCCESS", reason=None,
                 memory=None, storage=None, output="0x", pc=None, steps=None, initial_storage=None, description="",
                 spec_ref="", **inputs):
    if initial_storage is not None:
        inputs["storage"] = initial_storage
    if status != "SUCCESS" and steps is None:
        # the failing syscall is the last instruction and is not counted
        steps = steps_of(text) - 1
    steps = steps_of(text) if steps is None else steps
    registers = {k: v for k, v in expected_registers.items() if v}
    expected = outcome(
        steps, registers, pc=pc, status=status, reason=reason, extra_gas=extra_gas,
        output=output, storage=storage, memory=memory,
    )
    return Case(
        name,
        inputs={"program": raw_program(text), "input": input_data, "memory_words": [int(a) for a in (memory or {})], **inputs},
        expected=expected,
        description=description,
        spec_ref=spec_ref,
    )


def loaded(input_data: bytes) -> dict[str, int]:
    """Registers after LOAD_INPUT."""
    return {"x5": len(input_data), "x10": 0x1000, "x11": len(input_data)}


@vector_source("athena", "syscalls", "run")
def test_halt_and_write():
    yield syscall_case("halt_zero_succeeds", "li t0, 0\necall\naddi a1, zero, 1", {}, pc=0, steps=2, description="HALT with a0 = 0 ends successfully; the instruction after it never runs", spec_ref="athena.md#syscalls-the-host-abi")
    yield syscall_case(
        "halt_nonzero_fails", "addi a0, zero, 7\nli t0, 0\necall", {"x10": 7}, status="FAILURE",
        reason="halt_nonzero", steps=2, pc=8, description="HALT with a0 = 7 ends with FAILURE (halt_nonzero)", spec_ref="athena.md#syscalls-the-host-abi",
    )
    write = LOAD_INPUT + "li t0, 2\nli a0, {fd}\nlui a1, 1\nli a2, {n}\necall"
    regs = {"x5": 2, "x11": 0x1000}
    yield syscall_case(
        "write_output", write.format(fd=3, n=3), {**regs, "x10": 3, "x12": 3}, input_data=b"abcd",
        output="0x616263", memory=words(b"abcd"), description="WRITE to fd 3 appends 3 bytes of memory to the output", spec_ref="athena.md#write",
    )
    yield syscall_case(
        "write_output_twice_appends", write.format(fd=3, n=2) + "\nli a2, 4\necall", {**regs, "x10": 3, "x12": 4},
        input_data=b"wxyz", output="0x7778" + "7778797a", description="two WRITEs to fd 3 append in order", spec_ref="athena.md#write",
    )
    yield syscall_case("write_console_utf8", write.format(fd=1, n=4), {**regs, "x10": 1, "x12": 4}, input_data="hé!".encode(), description="WRITE to fd 1 (console) accepts UTF-8 text and leaves the output empty", spec_ref="athena.md#write")
    yield syscall_case(
        "write_console_not_utf8", write.format(fd=2, n=2), {**regs, "x10": 2, "x12": 2}, input_data=b"\xff\xfe",
        status="INVALID_SYSCALL_ARGUMENT", reason="console_not_utf8", pc=4 * (steps_of(write.format(fd=2, n=2)) - 1),
        steps=steps_of(write.format(fd=2, n=2)) - 1, description="WRITE to fd 2 of bytes ff fe, not UTF-8: INVALID_SYSCALL_ARGUMENT", spec_ref="athena.md#write",
    )
    text = write.format(fd=7, n=1)
    yield syscall_case(
        "write_unknown_fd", text, {**regs, "x10": 7, "x12": 1}, input_data=b"a",
        status="INVALID_SYSCALL_ARGUMENT", reason="unknown_fd", steps=steps_of(text) - 1, pc=4 * (steps_of(text) - 1), description="WRITE to fd 7: INVALID_SYSCALL_ARGUMENT (unknown_fd)", spec_ref="athena.md#write",
    )
    text = write.format(fd=4, n=3) + "\nli t0, 0xF0\necall"
    yield syscall_case("write_to_input_stream", text, {**regs, "x5": 3, "x10": 4, "x12": 3}, input_data=b"abc", description="WRITE to fd 4 appends to the input stream: HINT_LEN then reports 3", spec_ref="athena.md#write")
    text = "li t0, 2\nli a0, 3\nli a1, 0x1000\nli a2, 0x10001\necall"
    yield syscall_case(
        "write_too_long", text, {"x5": 2, "x10": 3, "x11": 0x1000, "x12": 0x10001},
        status="INVALID_SYSCALL_ARGUMENT", reason="buffer_too_long", steps=steps_of(text) - 1, pc=4 * (steps_of(text) - 1), description="WRITE of 0x10001 bytes exceeds the buffer bound: buffer_too_long", spec_ref="athena.md#write",
    )
    text = "li t0, 2\nli a0, 3\nli a1, -1\nli a2, 2\necall"
    yield syscall_case(
        "write_wraps_address_space", text, {"x5": 2, "x10": 3, "x11": M, "x12": 2},
        status="INVALID_SYSCALL_ARGUMENT", reason="buffer_wraps", steps=steps_of(text) - 1, pc=4 * (steps_of(text) - 1), description="WRITE of a buffer that wraps past 2^32: buffer_wraps", spec_ref="athena.md#write",
    )


@vector_source("athena", "syscalls", "run")
def test_hint():
    yield syscall_case("hint_len", "li t0, 0xF0\necall", {"x5": 5}, input_data=b"\x01\x02\x03\x04\x05", description="HINT_LEN returns the input length (5) in t0", spec_ref="athena.md#hint_read")
    yield syscall_case("hint_len_empty", "li t0, 0xF0\necall", {"x5": 0}, description="HINT_LEN of an empty input is 0", spec_ref="athena.md#hint_read")
    # The partial last word is zero-filled (Decision "HINT_READ zero-fill").
    text = "lui s0, 1\nli t1, -1\nsw t1, 4(s0)\nsw t1, 8(s0)\n" + LOAD_INPUT
    yield syscall_case(
        "hint_read_zero_fills_last_word", text, {"x8": 0x1000, "x6": M, **loaded(b"123456")}, input_data=b"123456",
        memory={"4096": 0x34333231, "4100": 0x00003635, "4104": M}, description="HINT_READ of 6 bytes zero-fills the rest of the last word (Decision)", spec_ref="athena.md#hint_read",
    )
    text = "lui s0, 1\nli t1, 0xAAAAAAAA\nsw t1, 0(s0)\nli t0, 0xF1\naddi a0, s0, 1\nli a1, 2\necall"
    yield syscall_case(
        "hint_read_unaligned_start_merges", text, {"x8": 0x1000, "x6": 0xAAAAAAAA, "x5": 2, "x10": 0x1001, "x11": 2},
        input_data=b"\x01\x02\x03", memory={"4096": 0xAA0201AA}, description="HINT_READ to an unaligned address merges with the bytes already in the word", spec_ref="athena.md#hint_read",
    )
    text = "li t0, 0xF1\nli a0, 0\nli a1, 4\necall\nli t0, 0xF0\necall"
    yield syscall_case(
        "hint_read_below_40_allowed", text, {"x5": 1, "x11": 4}, input_data=b"\x11\x22\x33\x44\x55",
        memory={"0": 0x44332211}, description="HINT_READ may write below address 40 (only stores are bounded)", spec_ref="athena.md#hint_read",
    )
    text = "li t0, 0xF1\nlui a0, 1\nli a1, 6\necall"
    yield syscall_case(
        "hint_read_insufficient_input", text, {"x5": 0xF1, "x10": 0x1000, "x11": 6}, input_data=b"12345",
        status="INSUFFICIENT_INPUT", reason="insufficient_input", steps=3, pc=12, description="HINT_READ of 6 bytes with 5 left: INSUFFICIENT_INPUT", spec_ref="athena.md#hint_read",
    )


KEY = bytes([1]) + bytes(31)
VALUE = bytes([0x2A]) + bytes(30) + bytes([0xFF])


@vector_source("athena", "syscalls", "run")
def test_storage_balance_context():
    text = LOAD_INPUT + "li t0, 0xA1\nlui a0, 1\naddi a1, a0, 32\necall"
    regs = {"x10": 0x1000, "x11": 0x1020}
    yield syscall_case(
        "host_write_added", text, {**regs, "x5": 1}, input_data=KEY + VALUE,
        storage={"0x" + KEY.hex(): "0x" + VALUE.hex()}, description="HOST_WRITE of a new key returns 1 (added)", spec_ref="athena.md#storage-host_read-host_write",
    )
    yield syscall_case(
        "host_write_assigned", text, {**regs, "x5": 0}, input_data=KEY + VALUE,
        storage={"0x" + KEY.hex(): "0x" + VALUE.hex()}, initial_storage={"0x" + KEY.hex(): "0x" + VALUE.hex()}, description="HOST_WRITE of the value already stored returns 0 (assigned)", spec_ref="athena.md#storage-host_read-host_write",
    )
    yield syscall_case(
        "host_write_deleted", text, {**regs, "x5": 2}, input_data=KEY + bytes(32),
        storage={"0x" + KEY.hex(): "0x" + bytes(32).hex()}, initial_storage={"0x" + KEY.hex(): "0x" + VALUE.hex()}, description="HOST_WRITE of 32 zero bytes over a value returns 2 (deleted)", spec_ref="athena.md#storage-host_read-host_write",
    )
    yield syscall_case(
        "host_write_modified", LOAD_INPUT + "li t0, 0xA1\nlui a0, 1\naddi a1, a0, 32\necall", {**regs, "x5": 3},
        input_data=KEY + VALUE, storage={"0x" + KEY.hex(): "0x" + VALUE.hex()},
        initial_storage={"0x" + KEY.hex(): "0x" + bytes([9] * 32).hex()}, description="HOST_WRITE of a new value over another returns 3 (modified)", spec_ref="athena.md#storage-host_read-host_write",
    )
    text = LOAD_INPUT + "li t0, 0xA0\nlui a0, 1\necall"
    yield syscall_case(
        "host_read_overwrites_key", text, {"x5": 0xA0, "x10": 0x1000, "x11": 32}, input_data=KEY,
        memory=words(VALUE), storage={"0x" + KEY.hex(): "0x" + VALUE.hex()},
        initial_storage={"0x" + KEY.hex(): "0x" + VALUE.hex()}, description="HOST_READ writes the value over the key's 32 bytes", spec_ref="athena.md#storage-host_read-host_write",
    )
    yield syscall_case(
        "host_read_missing_is_zero", text, {"x5": 0xA0, "x10": 0x1000, "x11": 32}, input_data=KEY, memory=words(bytes(32)), description="HOST_READ of a missing key gives 32 zero bytes", spec_ref="athena.md#storage-host_read-host_write",
    )
    text = "li t0, 0xA0\nli a0, 0x1002\necall"
    yield syscall_case(
        "host_read_unaligned", text, {"x5": 0xA0, "x10": 0x1002}, status="INVALID_MEMORY_ACCESS",
        reason="unaligned_syscall_pointer", pc=4 * (steps_of(text) - 1), description="HOST_READ with an unaligned pointer: INVALID_MEMORY_ACCESS", spec_ref="athena.md#storage-host_read-host_write",
    )
    text = "li t0, 0xA3\nlui a0, 1\necall"
    yield syscall_case(
        "get_balance", text, {"x5": 0xA3, "x10": 0x1000}, memory={"4096": 2, "4100": 1}, balance=0x1_0000_0002, description="GET_BALANCE writes the 64-bit balance 0x100000002 as two words", spec_ref="athena.md#balance-and-context-host_getbalance-host_context",
    )
    text = "li t0, 0xA3\nli a0, 0x1001\necall"
    yield syscall_case(
        "get_balance_unaligned", text, {"x5": 0xA3, "x10": 0x1001}, status="INVALID_MEMORY_ACCESS",
        reason="unaligned_syscall_pointer", pc=4 * (steps_of(text) - 1), balance=5, description="GET_BALANCE with an unaligned pointer: INVALID_MEMORY_ACCESS", spec_ref="athena.md#balance-and-context-host_getbalance-host_context",
    )
    context = {"callee": CALLEE, "caller": CALLER, "caller_template": TEMPLATE, "received": 0x0102030405060708, "depth": 3}
    layout = (0x0102030405060708).to_bytes(8, "little") + CALLER + TEMPLATE + CALLEE
    text = "li t0, 0xA6\nlui a0, 1\necall"
    yield syscall_case("context_layout", text, {"x5": 0xA6, "x10": 0x1000}, memory=words(layout), context=context, description="HOST_CONTEXT writes received (u64), caller, caller template and callee in that order", spec_ref="athena.md#balance-and-context-host_getbalance-host_context")
    text = "li t0, 0xA6\nli a0, 0x1002\necall"
    yield syscall_case(
        "context_unaligned", text, {"x5": 0xA6, "x10": 0x1002}, status="INVALID_MEMORY_ACCESS",
        reason="unaligned_syscall_pointer", pc=4 * (steps_of(text) - 1), context=context, description="HOST_CONTEXT with an unaligned pointer: INVALID_MEMORY_ACCESS", spec_ref="athena.md#balance-and-context-host_getbalance-host_context",
    )


SEED = bytes(range(32))
SIGNER = nacl.signing.SigningKey(SEED)
PUBLIC = bytes(SIGNER.verify_key)
MESSAGE = b"athena spend 100"
SIGNATURE = SIGNER.sign(MESSAGE).signature
ED_PROGRAM = LOAD_INPUT + "li t0, 0x00640020\nlui a2, 1\naddi a3, a2, 32\naddi a0, a2, 96\nli a1, {n}\necall"
L_ORDER = 2**252 + 27742317777372353535851937790883648493


@vector_source("athena", "syscalls", "run")
def test_ed25519_precompile():
    regs = {"x10": 0x1000 + 96, "x11": len(MESSAGE), "x12": 0x1000, "x13": 0x1020}
    text = ED_PROGRAM.format(n=len(MESSAGE))
    yield syscall_case("ed25519_valid", text, {**regs, "x5": 1}, input_data=PUBLIC + SIGNATURE + MESSAGE, extra_gas=100, description="the ED25519_VERIFY precompile accepts a valid RFC 8032 signature (t0 = 1, 100 gas)", spec_ref="athena.md#ed25519_verify-precompile")
    bad = SIGNATURE[:10] + bytes([SIGNATURE[10] ^ 1]) + SIGNATURE[11:]
    yield syscall_case("ed25519_wrong_signature", text, {**regs, "x5": 0}, input_data=PUBLIC + bad + MESSAGE, extra_gas=100, description="ED25519_VERIFY of a signature with one bit flipped returns 0", spec_ref="athena.md#ed25519_verify-precompile")
    yield syscall_case(
        "ed25519_wrong_message", text, {**regs, "x5": 0}, input_data=PUBLIC + SIGNATURE + b"athena spend 999", extra_gas=100, description="ED25519_VERIFY of another message returns 0", spec_ref="athena.md#ed25519_verify-precompile",
    )
    # s + L verifies under a non-reducing check; dalek (no legacy_compatibility) rejects s >= L.
    s = int.from_bytes(SIGNATURE[32:], "little") + L_ORDER
    if s < 2**256:
        malleable = SIGNATURE[:32] + s.to_bytes(32, "little")
        yield syscall_case("ed25519_s_not_reduced", text, {**regs, "x5": 0}, input_data=PUBLIC + malleable + MESSAGE, extra_gas=100, description="ED25519_VERIFY rejects s + L (s not reduced), as dalek does", spec_ref="athena.md#ed25519_verify-precompile")
    # y = 2 is not the y-coordinate of a curve point: Athena panics, the spec fails cleanly.
    invalid_key = bytes([2]) + bytes(31)
    yield syscall_case(
        "ed25519_invalid_public_key", text, {**regs, "x5": 0x00640020}, input_data=invalid_key + SIGNATURE + MESSAGE,
        status="INVALID_SYSCALL_ARGUMENT", reason="invalid_public_key", steps=steps_of(text) - 1, pc=4 * (steps_of(text) - 1), description="ED25519_VERIFY with a key that is no curve point fails the run (Athena panics)", spec_ref="athena.md#ed25519_verify-precompile",
    )


RECIPIENT = bytes([0x55]) * 24
CALL_PROGRAM = (
    LOAD_INPUT + "lui s0, 1\nli t0, 0xA2\nmv a0, s0\naddi a1, s0, 24\nli a2, {input_len}\nli a3, {out}\nli a4, {cap}\n"
    "addi a5, s0, {amount_at}\necall"
)


@vector_source("athena", "syscalls", "run")
def test_host_call_spawn_deploy():
    amount = (5).to_bytes(8, "little")
    data = RECIPIENT + amount
    text = CALL_PROGRAM.format(input_len=0, out=0, cap=0, amount_at=24)
    regs = {"x8": 0x1000, "x10": 0x1000, "x11": 0x1018, "x15": 0x1018}
    yield syscall_case(
        "call_transfers_value", text, {**regs, "x5": 0}, input_data=data, balance=10,
        context={"callee": CALLEE}, description="HOST_CALL to an account without a template transfers 5 and returns 0", spec_ref="athena.md#host_call",
    )
    yield syscall_case(
        "call_insufficient_balance", text, {**regs, "x5": 0xA2}, input_data=data, balance=4, context={"callee": CALLEE},
        # a failed call returns no gas, and the caller is charged all it gave (host.rs:140-151)
        extra_gas=GAS - 4 * (steps_of(text) - 1),
        status="INSUFFICIENT_BALANCE", reason="call_failed", steps=steps_of(text) - 1, pc=4 * (steps_of(text) - 1), description="HOST_CALL sending more than the balance: INSUFFICIENT_BALANCE, all gas given is charged", spec_ref="athena.md#host_call",
    )
    yield syscall_case(
        "call_depth_exceeded", text, {**regs, "x5": 0xA2}, input_data=data, balance=10, context={"callee": CALLEE, "depth": 10},
        status="CALL_DEPTH_EXCEEDED", reason="call_failed", extra_gas=GAS - 4 * (steps_of(text) - 1), description="HOST_CALL at depth 10: CALL_DEPTH_EXCEEDED", spec_ref="athena.md#host_call",
    )
    text = CALL_PROGRAM.format(input_len=0, out=0, cap=0, amount_at=26)
    yield syscall_case(
        "call_unaligned_amount", text, {**regs, "x5": 0xA2, "x15": 0x101A}, input_data=data, balance=10,
        status="INVALID_MEMORY_ACCESS", reason="unaligned_syscall_pointer", steps=steps_of(text) - 1, pc=4 * (steps_of(text) - 1), description="HOST_CALL with an unaligned amount pointer: INVALID_MEMORY_ACCESS", spec_ref="athena.md#host_call",
    )
    # The callee writes 6 bytes of output; the caller's buffer takes 5 (merged into the last word).
    callee = raw_program(
        "lui s0, 2\nli t1, 0x64636261\nsw t1, 0(s0)\nli t1, 0x6665\nsw t1, 4(s0)\n"
        "li t0, 2\nli a0, 3\nmv a1, s0\nli a2, 6\necall"
    )
    callee_steps = steps_of(
        "lui s0, 2\nli t1, 0x64636261\nsw t1, 0(s0)\nli t1, 0x6665\nsw t1, 4(s0)\nli t0, 2\nli a0, 3\nmv a1, s0\nli a2, 6\necall"
    )
    template_address = "0x" + (bytes([9]) * 24).hex()
    text = "lui s0, 1\nli t1, -1\nsw t1, 0x104(s0)\n" + CALL_PROGRAM.format(input_len=0, out=0x1100, cap=5, amount_at=24)
    yield syscall_case(
        "call_runs_template_and_copies_output", text,
        {**regs, "x6": M, "x5": 5, "x13": 0x1100, "x14": 5},
        input_data=RECIPIENT + bytes(8), extra_gas=4 * callee_steps,
        memory={"4352": 0x64636261, "4356": 0xFFFFFF65}, context={"callee": CALLEE},
        accounts=[{"address": "0x" + RECIPIENT.hex(), "balance": 0, "template": template_address, "state": "0x"}],
        templates={template_address: callee}, description="HOST_CALL runs the recipient's template; 5 of its 6 output bytes are copied into the caller's buffer", spec_ref="athena.md#host_call",
    )
    text = "lui s0, 1\nli t1, -1\nsw t1, 0x104(s0)\n" + CALL_PROGRAM.format(input_len=0, out=0x1100, cap=0, amount_at=24)
    yield syscall_case(
        "call_output_buffer_of_zero", text,
        {**regs, "x6": M, "x13": 0x1100},
        input_data=RECIPIENT + bytes(8), extra_gas=4 * callee_steps,
        memory={"4352": 0, "4356": M}, context={"callee": CALLEE},
        accounts=[{"address": "0x" + RECIPIENT.hex(), "balance": 0, "template": template_address, "state": "0x"}],
        templates={template_address: callee}, description="HOST_CALL with an output buffer of 0 bytes: the callee's "
        "6 output bytes are not copied (memory unchanged) and the call returns 0 in t0", spec_ref="athena.md#host_call",
    )
    blob = b"wallet state"
    text = LOAD_INPUT + f"li t0, 0xA4\nlui a0, 1\nli a1, {len(blob)}\nli a2, 0x2000\necall"
    spawned = blake3.blake3(TEMPLATE + blob).digest()[:24]
    yield syscall_case(
        "spawn_address", text, {"x5": 0xA4, "x10": 0x1000, "x11": len(blob), "x12": 0x2000}, input_data=blob,
        memory={**words(blob), **words(spawned, 0x2000)}, context={"callee": CALLEE}, template=TEMPLATE, description="HOST_SPAWN returns the address blake3(template || state)[:24]", spec_ref="athena.md#host_spawn-host_deploy",
    )
    text = LOAD_INPUT + "li t0, 0xA4\nlui a0, 1\nli a1, 1\nli a2, 0x2002\necall"
    yield syscall_case(
        "spawn_unaligned_output", text, {"x5": 0xA4, "x10": 0x1000, "x11": 1, "x12": 0x2002}, input_data=b"x",
        status="INVALID_MEMORY_ACCESS", reason="unaligned_syscall_pointer", steps=steps_of(text) - 1, pc=4 * (steps_of(text) - 1), description="HOST_SPAWN with an unaligned output pointer: INVALID_MEMORY_ACCESS", spec_ref="athena.md#host_spawn-host_deploy",
    )
    code = raw_program("addi a0, zero, 1")
    text = LOAD_INPUT + f"li t0, 0xA5\nlui a0, 1\nli a1, {len(code)}\nli a2, 0x2000\necall"
    yield syscall_case(
        "deploy_address", text, {"x5": 0xA5, "x10": 0x1000, "x11": len(code), "x12": 0x2000}, input_data=code,
        memory=words(blake3.blake3(code).digest()[:24], 0x2000), description="HOST_DEPLOY returns the template address blake3(code)[:24]", spec_ref="athena.md#host_spawn-host_deploy",
    )
    junk = b"\x7fATH\x00\x00\x00\x00"
    yield syscall_case(
        "deploy_refused", text.replace(f"li a1, {len(code)}", f"li a1, {len(junk)}"),
        {"x5": 0xA5, "x10": 0x1000, "x11": len(junk), "x12": 0x2000}, input_data=junk,
        status="FAILURE", reason="deploy_refused", steps=steps_of(text) - 1, pc=4 * (steps_of(text) - 1), description="HOST_DEPLOY of code that does not load fails the run (deploy_refused)", spec_ref="athena.md#host_spawn-host_deploy",
    )
