"""Real compiled programs: our ISA conformance program (C + picolibc), a loop in assembly, and the
wallet template (C), built by ``toolchain.py`` with Debian's riscv64-unknown-elf-gcc.

Outputs are checked against oracles computed here in Python with C semantics (zlib's CRC-32,
``sorted``, truncating division) and, for the wallet, against BLAKE3 and PyNaCl. Gas is checked
against Unicorn's instruction count in tests/differential/test_athena.py.
"""

from __future__ import annotations

import struct
import zlib

import blake3
import nacl.signing
from smspec.conformance.cases import Blob, Case, output_fields, vector_source

from .toolchain import build

M = 0xFFFFFFFF
ISA_SEEDS = (0, 6, 25, 1000)
LOOP_SEEDS = (1, 1000)
WALLET = bytes(range(200, 224))
RECIPIENT = bytes([0x77]) * 24
TEMPLATE = bytes([0]) * 23 + b"\x01"
OWNER = nacl.signing.SigningKey(bytes(range(32, 64)))
OWNER_KEY = bytes(OWNER.verify_key)


def signed(value: int) -> int:
    return value - (1 << 32) if value >> 31 else value


def truncating_division(x: int, y: int) -> tuple[int, int]:
    quotient = abs(x) // abs(y)
    if (x < 0) != (y < 0):
        quotient = -quotient
    return quotient, x - quotient * y


def isa_oracle(n: int) -> bytes:
    """What programs/isa.c writes for seed n, computed with C semantics."""
    out = []
    a, b = 0, 1
    for _ in range(n):
        a, b = b, (a + b) % 7919
    out += [a, b]
    out.append(zlib.crc32(bytes((i * 7 + n) & 0xFF for i in range(256))))

    def fib(k: int) -> int:
        return k if k < 2 else fib(k - 1) + fib(k - 2)

    out.append(fib(n % 16))
    state = (n * 2654435761 + 1) & M

    def xorshift() -> int:
        nonlocal state
        x = state
        x ^= (x << 13) & M
        x ^= x >> 17
        x ^= (x << 5) & M
        state = x
        return x

    for i in range(16):
        x = signed(xorshift())
        y = signed(xorshift() >> (i & 15))
        if i == 0:
            y = 0
        if i == 1:
            x, y = -(2**31), -1
        ux, uy = x & M, y & M
        if y == 0:
            quotient, remainder = M, x & M
        elif x == -(2**31) and y == -1:
            quotient, remainder = x & M, 0
        else:
            q, r = truncating_division(x, y)
            quotient, remainder = q & M, r & M
        out += [quotient, remainder]
        out += [M if uy == 0 else ux // uy, ux if uy == 0 else ux % uy]
        out += [((x * y) >> 32) & M, (ux * uy) >> 32, ((x * uy) >> 32) & M]
        wide = (ux << 32) | uy
        divisor = (uy | 1) * 3
        out += [(wide // divisor) & M, (wide // divisor) >> 32 & M, (wide % divisor) & M]
    values = sorted(signed(xorshift()) for _ in range(64))
    out += [v & M for v in values]
    out += [13, 1]
    return struct.pack(f"<{len(out)}I", *out)


def loop_oracle(n: int) -> bytes:
    total = 0
    for i in range(n, 0, -1):
        total = (total + (((i * i) & M) ^ i)) & M
    return struct.pack("<I", total)


def entry_payload(input_data: bytes) -> bytes:
    """ExecutionPayload{state: [], payload: {selector: None, input}} (input shorter than 64 bytes)."""
    return b"\x00\x00" + bytes([len(input_data) << 2]) + input_data


def outcome(status: str, output: bytes | None, gas_left: int | None = None, balances: dict | None = None):
    """A check of a call's status and output (and, where given, gas and balances) against an oracle;
    the gas the spec charges is recorded from the spec (Unicorn checks it, tests/differential)."""
    known = {"status": status, "output": output}
    if gas_left is not None:
        known["gas_left"] = gas_left
    if balances is not None:
        known["balances"] = balances
    return output_fields(**known)


@vector_source("athena", "programs", "call")
def test_isa_program():
    code = build("isa")
    if code is None:
        return
    program = Blob(code)
    for n in ISA_SEEDS:
        yield Case(f"isa_seed_{n}", inputs={"program": program, "payload": entry_payload(struct.pack("<I", n)), "gas": 10**8},
                   check=outcome("SUCCESS", isa_oracle(n)),
                   description=f"programs/isa.c (GCC -O2 + picolibc) with seed {n}: its output (Fibonacci, CRC-32, "
                   "recursion, xorshift, sorting, division) is checked against a Python oracle",
                   spec_ref="athena.md#call_program")
    yield Case("isa_out_of_gas", inputs={"program": program, "payload": entry_payload(b"\x06\x00\x00\x00"), "gas": 1000},
               check=outcome("OUT_OF_GAS", None, gas_left=0),
               description="programs/isa.c with 1000 gas runs out: OUT_OF_GAS, no output, no gas left",
               spec_ref="athena.md#call_program")


@vector_source("athena", "programs", "call")
def test_loop_program():
    code = build("loop")
    if code is None:
        return
    program = Blob(code)
    for n in LOOP_SEEDS:
        yield Case(f"loop_{n}", inputs={"program": program, "payload": entry_payload(struct.pack("<I", n))},
                   check=outcome("SUCCESS", loop_oracle(n)),
                   description=f"programs/loop.S (assembly, no libc) with count {n}, checked against a Python oracle",
                   spec_ref="athena.md#call_program")


def spend_arguments(amount: int) -> bytes:
    return RECIPIENT + struct.pack("<Q", amount)


def wallet_inputs(method: str, state: bytes, args: bytes, balance: int = 1000, caller: bytes = WALLET) -> dict:
    return {
        "program": Blob(build("wallet") or b""),
        "method": method,
        "state": state,
        "args": args,
        "balance": balance,
        "template": TEMPLATE,
        "context": {"callee": WALLET, "caller": caller},
    }


def wallet_cases() -> list[Case]:
    """The wallet template's flows through the VM entry point, each checked against
    BLAKE3/PyNaCl-derived answers (every method through the host: test_wallet.py)."""
    transaction = b"some transaction"
    good = OWNER.sign(transaction).signature
    other = nacl.signing.SigningKey(bytes(32)).sign(transaction).signature
    spawned = blake3.blake3(TEMPLATE + OWNER_KEY).digest()[:24]
    wallet, recipient, child = ("0x" + address.hex() for address in (WALLET, RECIPIENT, spawned))
    untouched = {wallet: 1000}
    refused = outcome("FAILURE", None, gas_left=0, balances=untouched)
    verify_args = bytes([len(transaction) << 2]) + transaction  # SCALE Vec<u8>: compact length, bytes
    return [
        Case("wallet_spawn", inputs=wallet_inputs("athexp_spawn", b"", OWNER_KEY),
             check=outcome("SUCCESS", spawned, balances={wallet: 1000, child: 0}),
             description="the wallet template (programs/wallet.c) spawns a wallet for an owner key: the new address "
             "is blake3(template || key)[:24]", spec_ref="athena.md#host_spawn-host_deploy"),
        Case("wallet_spend", inputs=wallet_inputs("athexp_spend", OWNER_KEY, spend_arguments(100)),
             check=outcome("SUCCESS", b"", balances={wallet: 900, recipient: 100}),
             description="the wallet's own transaction (caller == callee) spends 100: the host moves 100 to the "
             "recipient", spec_ref="athena.md#call_program"),
        Case("wallet_spend_other_caller", inputs=wallet_inputs("athexp_spend", OWNER_KEY, spend_arguments(100),
                                                               caller=RECIPIENT),
             check=refused, description="only the wallet's own transaction (caller == callee) may spend: another "
             "caller gets FAILURE, balances untouched", spec_ref="athena.md#call_program"),
        Case("wallet_spend_insufficient_balance",
             inputs=wallet_inputs("athexp_spend", OWNER_KEY, spend_arguments(100), balance=99),
             check=output_fields(status="INSUFFICIENT_BALANCE", balances={wallet: 99}),
             description="a spend of 100 from a balance of 99: INSUFFICIENT_BALANCE, balance untouched",
             spec_ref="athena.md#call_program"),
        Case("wallet_max_spend", inputs=wallet_inputs("athexp_max_spend", OWNER_KEY, spend_arguments(12345)),
             check=outcome("SUCCESS", struct.pack("<Q", 12345)),
             description="the wallet's max_spend method returns the amount of the spend arguments (u64 12345)",
             spec_ref="athena.md#call_program"),
        Case("wallet_verify", inputs=wallet_inputs("athexp_verify", OWNER_KEY, verify_args + good),
             check=outcome("SUCCESS", b"\x01"),
             description="verify (a SCALE Vec<u8> transaction, then a 64-byte Ed25519 signature) with the owner's "
             "signature answers 1 (through the ED25519_VERIFY precompile)", spec_ref="athena.md#call_program"),
        Case("wallet_verify_wrong_signer", inputs=wallet_inputs("athexp_verify", OWNER_KEY, verify_args + other),
             check=outcome("SUCCESS", b"\x00"),
             description="verify with another key's signature over the same transaction answers 0 (SUCCESS)",
             spec_ref="athena.md#call_program"),
        Case("wallet_spend_short_input", inputs=wallet_inputs("athexp_spend", OWNER_KEY, RECIPIENT),
             check=output_fields(status="INSUFFICIENT_INPUT"),
             description="a spend whose arguments stop after the recipient (no amount): the wallet reads past its "
             "input (INSUFFICIENT_INPUT)", spec_ref="athena.md#call_program"),
        Case("wallet_no_entry_point", inputs={**wallet_inputs("athexp_spawn", b"", b""), "method": None}, check=refused,
             description="calling the wallet without a method: it has no entry point, FAILURE",
             spec_ref="athena.md#call_program"),
    ]


@vector_source("athena", "programs", "call")
def test_wallet_flows():
    if build("wallet") is None:
        return
    yield from wallet_cases()
