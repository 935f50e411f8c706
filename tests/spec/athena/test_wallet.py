"""The whole wallet template (programs/wallet.c) through the host's dispatch: one vector per
method and per outcome, with the state before (inputs) and after (outputs), gas used and status.

Known answers come from outside the spec: addresses from BLAKE3, signatures from PyNaCl, SCALE
encodings written out here by hand, balances by arithmetic. Gas is recorded from the spec, with
the exact relations between vectors that the gas rules state checked in
`test_gas_of_a_spend_to_a_wallet_is_the_spend_plus_its_receive` (and instruction counts against
Unicorn in tests/differential).
"""

from __future__ import annotations

import struct
from typing import Any

import blake3
import nacl.signing
from smspec.conformance.cases import Blob, Case, output_fields, to_json, vector_source
from smspec.conformance.execute import run_handler
from smspec.conformance.handlers import register_blob

from .asm import raw_program
from .toolchain import build

GAS = 1_000_000
PLAIN = bytes([0x77]) * 24  # an account without a template
OWNER_A = nacl.signing.SigningKey(bytes(range(32, 64)))
OWNER_B = nacl.signing.SigningKey(bytes(range(64, 96)))
OWNER_C = nacl.signing.SigningKey(bytes(range(96, 128)))
KEY_A, KEY_B, KEY_C = (bytes(k.verify_key) for k in (OWNER_A, OWNER_B, OWNER_C))
RECEIVER_STATE = bytes(8)


def hx(data: bytes) -> str:
    """A dictionary key in a vector (keys are strings; values are converted by the vector writer)."""
    return "0x" + data.hex()


def address(data: bytes) -> bytes:
    return blake3.blake3(data).digest()[:24]


def compact(value: int) -> bytes:
    """SCALE compact u32, written out from the codec's rules (not spec/athena.md's function)."""
    if value < 64:
        return bytes([value << 2])
    if value < 2**14:
        return ((value << 2) | 1).to_bytes(2, "little")
    if value < 2**30:
        return ((value << 2) | 2).to_bytes(4, "little")
    return b"\x03" + value.to_bytes(4, "little")


def vec(data: bytes) -> bytes:
    return compact(len(data)) + data


def selector(name: str) -> bytes:
    return blake3.blake3(name.encode()).digest()[:4]


def spend_arguments(recipient: bytes, amount: int) -> bytes:
    return recipient + struct.pack("<Q", amount)


def proxy_arguments(destination: bytes, method: str | None, args: bytes | None, amount: int) -> bytes:
    method_part = b"\x00" if method is None else b"\x01" + selector(method)
    args_part = b"\x00" if args is None else b"\x01" + vec(args)
    return destination + method_part + args_part + struct.pack("<Q", amount)


class Setup:
    """Two spawned wallets A and B, a receiver account R, and the state as vector JSON."""

    def __init__(self) -> None:
        self.wallet = build("wallet") or b""
        self.receiver = build("receiver") or b""
        self.wallet_template = address(self.wallet)
        self.receiver_template = address(self.receiver)
        self.a = address(self.wallet_template + KEY_A)
        self.b = address(self.wallet_template + KEY_B)
        self.r = bytes([0x52]) * 24
        self.accounts = {
            self.a: {"balance": 1000, "template": self.wallet_template, "state": KEY_A, "storage": {}},
            self.b: {"balance": 50, "template": self.wallet_template, "state": KEY_B, "storage": {}},
            self.r: {"balance": 0, "template": self.receiver_template, "state": RECEIVER_STATE, "storage": {}},
            PLAIN: {"balance": 20, "template": None, "state": b"", "storage": {}},
        }

    def inputs(self, recipient: bytes, method: str | None, args: bytes = b"", value: int = 0,
               sender: bytes | None = None, template: bytes | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {"recipient": recipient, "method": method, "args": args, "value": value, "gas": GAS}
        if sender is not None:
            message["sender"] = sender
        out: dict[str, Any] = {
            "accounts": [{"address": a, **fields} for a, fields in self.accounts.items()],
            "templates": {hx(self.wallet_template): Blob(self.wallet), hx(self.receiver_template): Blob(self.receiver)},
            "message": message,
        }
        if template is not None:
            out["template"] = template
        return out

    def after(self, balances: dict[bytes, int] | None = None, new: dict[bytes, dict] | None = None,
              storage: dict[bytes, dict] | None = None) -> dict[str, Any]:
        """The accounts after a transaction: the state before with these changes."""
        accounts = {a: dict(fields) for a, fields in self.accounts.items()}
        for account, delta in (balances or {}).items():
            accounts.setdefault(account, {"balance": 0, "template": None, "state": b"", "storage": {}})
            accounts[account]["balance"] += delta
        accounts.update(new or {})
        for account, slots in (storage or {}).items():
            accounts[account]["storage"] = slots
        return {hx(a): accounts[a] for a in sorted(accounts)}

    def templates(self, *extra: bytes) -> list[bytes]:
        return sorted([self.wallet_template, self.receiver_template, *extra])


def succeeded(setup: Setup, output: bytes | None, accounts: dict, templates: list | None = None) -> Any:
    return output_fields(status="SUCCESS", output=output, accounts=accounts, templates=templates or setup.templates())


def failed(setup: Setup, status: str = "FAILURE") -> Any:
    """A failed transaction: no output, all gas used, and the state exactly as before."""
    return output_fields(status=status, output=None, gas_left=0, gas_used=GAS, accounts=setup.after(),
                         templates=setup.templates())


def slot(total: int) -> dict:
    return {hx(bytes(32)): struct.pack("<Q", total) + bytes(24)}


def wallet_transactions(setup: Setup) -> list[Case]:
    s = setup
    a, b, r = s.a, s.b, s.r
    tx = b"transfer 5 to the receiver"
    spawned = address(s.wallet_template + KEY_C)
    deployed = raw_program("li t0, 0\nli a0, 0\necall")
    cases = [
        Case("spawn", spec_ref="athena.md#syscall_host_spawn-syscall_host_deploy", inputs=s.inputs(spawned, "athexp_spawn", KEY_C, template=s.wallet_template),
             check=succeeded(s, spawned, s.after(new={spawned: {"balance": 0, "template": s.wallet_template,
                                                                 "state": KEY_C, "storage": {}}})),
             description="static: the new account's address is BLAKE3(template || owner)[:24]"),
        Case("spend_to_plain_account", description="owner A spends 100 to a plain account: no code runs there, the balance moves", spec_ref="athena.md#syscall_host_call", inputs=s.inputs(a, "athexp_spend", spend_arguments(PLAIN, 100)),
             check=succeeded(s, b"", s.after({a: -100, PLAIN: 100}))),
        Case("spend_to_spawned_wallet", spec_ref="athena.md#calls-between-accounts-the-hosts-dispatch", inputs=s.inputs(a, "athexp_spend", spend_arguments(b, 100)),
             check=succeeded(s, b"", s.after({a: -100, b: 100})),
             description="the transfer enters B's receive (the host's dispatch), which accepts it"),
        Case("spend_to_receiver", spec_ref="athena.md#calls-between-accounts-the-hosts-dispatch", inputs=s.inputs(a, "athexp_spend", spend_arguments(r, 40)),
             check=succeeded(s, b"", s.after({a: -40, r: 40}, storage={r: slot(40)})),
             description="R's receive adds the amount to its storage slot 0"),
        Case("spend_with_trailing_bytes", spec_ref="athena.md#calls-between-accounts-the-hosts-dispatch", inputs=s.inputs(a, "athexp_spend", spend_arguments(PLAIN, 100) + bytes(64)),
             check=succeeded(s, b"", s.after({a: -100, PLAIN: 100})),
             description="bytes after the arguments are never read (the devnet appends a signature)"),
        Case("spend_insufficient_balance", description="a spend of more than the wallet holds fails with INSUFFICIENT_BALANCE; nothing moves", spec_ref="athena.md#syscall_host_call", inputs=s.inputs(a, "athexp_spend", spend_arguments(PLAIN, 1001)),
             check=failed(s, "INSUFFICIENT_BALANCE")),
        Case("spend_by_another_account", spec_ref="athena.md#calls-between-accounts-the-hosts-dispatch", inputs=s.inputs(a, "athexp_spend", spend_arguments(PLAIN, 1), sender=b),
             check=failed(s), description="caller B is not the wallet A: only A's own transaction may spend"),
        Case("spend_short_input", description="spend arguments cut short: the program reads past the input (INSUFFICIENT_INPUT)", spec_ref="athena.md#calls-between-accounts-the-hosts-dispatch", inputs=s.inputs(a, "athexp_spend", PLAIN), check=failed(s, "INSUFFICIENT_INPUT")),
        Case("max_spend", description="max_spend returns the amount its arguments name, as a little-endian u64", spec_ref="athena.md#calls-between-accounts-the-hosts-dispatch", inputs=s.inputs(a, "athexp_max_spend", spend_arguments(PLAIN, 12345)),
             check=succeeded(s, struct.pack("<Q", 12345), s.after())),
        Case("verify_valid", description="verify of the owner's signature over the transaction: 1", spec_ref="athena.md#syscall_ed25519_verify", inputs=s.inputs(a, "athexp_verify", vec(tx) + OWNER_A.sign(tx).signature),
             check=succeeded(s, b"\x01", s.after())),
        Case("verify_other_signer", description="verify of another key's signature: 0", spec_ref="athena.md#syscall_ed25519_verify", inputs=s.inputs(a, "athexp_verify", vec(tx) + OWNER_B.sign(tx).signature),
             check=succeeded(s, b"\x00", s.after())),
        Case("verify_non_canonical_length", spec_ref="athena.md#calls-between-accounts-the-hosts-dispatch", inputs=s.inputs(a, "athexp_verify", b"\x01\x00" + bytes(64)),
             check=failed(s), description="compact 0 in two bytes: parity-scale-codec refuses it"),
        Case("proxy_to_wallet_method", spec_ref="athena.md#calls-between-accounts-the-hosts-dispatch", inputs=s.inputs(
            a, "athexp_proxy", proxy_arguments(b, "athexp_max_spend", spend_arguments(PLAIN, 7), 5)),
             check=succeeded(s, vec(struct.pack("<Q", 7)), s.after({a: -5, b: 5})),
             description="B's max_spend runs with B's state; its output comes back as a SCALE Vec"),
        Case("proxy_plain_transfer", description="proxy of a plain transfer to the receiver: its receive runs and counts the amount", spec_ref="athena.md#calls-between-accounts-the-hosts-dispatch", inputs=s.inputs(a, "athexp_proxy", proxy_arguments(r, None, None, 30)),
             check=succeeded(s, vec(struct.pack("<Q", 30)), s.after({a: -30, r: 30}, storage={r: slot(30)}))),
        Case("proxy_to_plain_account", spec_ref="athena.md#calls-between-accounts-the-hosts-dispatch", inputs=s.inputs(a, "athexp_proxy", proxy_arguments(PLAIN, None, b"hi", 3)),
             check=succeeded(s, vec(b""), s.after({a: -3, PLAIN: 3})), description="no code runs: no output"),
        Case("proxy_to_another_wallets_spend", spec_ref="athena.md#calls-between-accounts-the-hosts-dispatch", inputs=s.inputs(
            a, "athexp_proxy", proxy_arguments(b, "athexp_spend", spend_arguments(PLAIN, 10), 0)),
             check=failed(s), description="B refuses a spend that is not its own transaction; nothing moves"),
        Case("proxy_to_failing_method", spec_ref="athena.md#calls-between-accounts-the-hosts-dispatch", inputs=s.inputs(a, "athexp_proxy", proxy_arguments(r, "athexp_refuse", None, 10)),
             check=failed(s), description="the callee halts 4: the value it was sent goes back"),
        Case("proxy_bad_option_tag", description="proxy arguments whose Option tag is 2: the wallet refuses them and the call fails", spec_ref="athena.md#calls-between-accounts-the-hosts-dispatch", inputs=s.inputs(a, "athexp_proxy", PLAIN + b"\x02"), check=failed(s)),
        Case("proxy_by_another_account", description="a proxy call by an account other than the wallet's owner fails", spec_ref="athena.md#calls-between-accounts-the-hosts-dispatch", inputs=s.inputs(a, "athexp_proxy", proxy_arguments(PLAIN, None, None, 1), sender=b),
             check=failed(s)),
        Case("deploy", spec_ref="athena.md#syscall_host_spawn-syscall_host_deploy", inputs=s.inputs(a, "athexp_deploy", vec(deployed)),
             check=succeeded(s, address(deployed), s.after(), s.templates(address(deployed))),
             description="the template address is BLAKE3(code)[:24]"),
        Case("deploy_existing_template", description="deploying code whose template already exists fails", spec_ref="athena.md#syscall_host_spawn-syscall_host_deploy", inputs=s.inputs(a, "athexp_deploy", vec(s.receiver)), check=failed(s)),
        Case("deploy_unloadable_code", description="deploying bytes that do not load as a program fails", spec_ref="athena.md#syscall_host_spawn-syscall_host_deploy", inputs=s.inputs(a, "athexp_deploy", vec(b"\x7fATH\x00\x00\x00\x00")), check=failed(s)),
        Case("deploy_by_another_account", description="a deploy by an account other than the wallet's owner fails", spec_ref="athena.md#syscall_host_spawn-syscall_host_deploy", inputs=s.inputs(a, "athexp_deploy", vec(deployed), sender=b), check=failed(s)),
        Case("receive", description="receive called directly with a value: the balance moves, no output", spec_ref="athena.md#calls-between-accounts-the-hosts-dispatch", inputs=s.inputs(b, "athexp_receive", value=3, sender=PLAIN),
             check=succeeded(s, b"", s.after({PLAIN: -3, b: 3}))),
        Case("plain_transfer_to_wallet", spec_ref="athena.md#calls-between-accounts-the-hosts-dispatch", inputs=s.inputs(b, None, value=4, sender=PLAIN),
             check=succeeded(s, b"", s.after({PLAIN: -4, b: 4})), description="no selector, no input: receive runs"),
        Case("plain_transfer_to_receiver", description="a plain transfer to the receiver runs its receive, which returns the running total", spec_ref="athena.md#calls-between-accounts-the-hosts-dispatch", inputs=s.inputs(r, None, value=6, sender=PLAIN),
             check=succeeded(s, struct.pack("<Q", 6), s.after({PLAIN: -6, r: 6}, storage={r: slot(6)}))),
        Case("input_without_selector", spec_ref="athena.md#calls-between-accounts-the-hosts-dispatch", inputs=s.inputs(b, None, b"x", value=4, sender=PLAIN), check=failed(s),
             description="input but no selector: the program's entry point, which a template does not have"),
    ]
    junk = b"\x7fATH\x00\x00\x00\x00"  # Athena's raw format with one zero word: it does not decode
    junk_template = address(junk)
    broken = bytes([0x42]) * 24
    account = {"balance": 7, "template": junk_template, "state": b"", "storage": {}}
    inputs = s.inputs(broken, None, value=1, sender=PLAIN)
    inputs["accounts"].append({"address": broken, **account})
    inputs["templates"][hx(junk_template)] = junk
    before = s.after(new={broken: account})
    cases.append(Case(
        "account_of_unloadable_template", spec_ref="athena.md#dispatch_input", inputs=inputs,
        check=output_fields(status="FAILURE", output=None, gas_left=0, gas_used=GAS, accounts=before,
                            templates=s.templates(junk_template)),
        description="a plain transfer to an account whose template's code does not load: the host passes the payload "
        "on as it stands and the VM refuses the code (FAILURE, all gas used); nothing moves"))
    return cases


@vector_source("athena", "wallet", "transaction")
def test_wallet_transaction_vectors():
    if build("wallet") is None:
        return
    yield from wallet_transactions(Setup())


def run(case: Case) -> dict[str, Any]:
    blobs: dict[str, bytes] = {}
    inputs = to_json(case.inputs, blobs)
    for sha256, data in blobs.items():
        register_blob(sha256, data)
    outcome = run_handler("athena/wallet/transaction", inputs, "mainnet")
    assert "output" in outcome, outcome
    return outcome["output"]


def test_gas_of_a_spend_to_a_wallet_is_the_spend_plus_its_receive():
    """HOST_CALL's gas rule: the caller pays the callee's gas. A spend to wallet B costs exactly
    a spend to a plain account plus B's receive run alone (the plain transfer to B)."""
    if build("wallet") is None:
        return
    cases = {c.name: c for c in wallet_transactions(Setup())}
    to_plain = run(cases["spend_to_plain_account"])["gas_used"]
    to_wallet = run(cases["spend_to_spawned_wallet"])["gas_used"]
    receive = run(cases["plain_transfer_to_wallet"])["gas_used"]
    assert receive > 0 and to_wallet == to_plain + receive
    # A call that runs no code costs the caller nothing beyond its own instructions: proxying to a
    # plain account costs less than proxying a plain transfer to the receiver by R's receive.
    assert run(cases["proxy_to_plain_account"])["gas_used"] < run(cases["proxy_plain_transfer"])["gas_used"]
    # Deploying costs the same whatever the code's length (the ecall's 4 gas): the wallet's own
    # instructions copy the code, so compare two deploys of equal length.
    one = raw_program("li t0, 0\nli a0, 0\necall")
    two = raw_program("li t0, 0\nli a0, 1\necall")
    setup = Setup()
    gas = [run(Case("d", inputs=setup.inputs(setup.a, "athexp_deploy", vec(code)), check=output_fields()))["gas_used"]
           for code in (one, two)]
    assert gas[0] == gas[1]


def test_the_wallet_exports_the_whole_interface():
    code = build("wallet")
    if code is None:
        return
    from smspec.spec import load

    athena = load("athena", "mainnet")
    names = {"spawn", "spend", "proxy", "deploy", "max_spend", "verify", "receive"}
    assert set(athena.load_program(code).exports) == {f"athexp_{n}" for n in names}
