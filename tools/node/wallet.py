"""Accounts, the Athena wallet template and transactions (rule "transactions", "state-root").

The wallet template is the C program of ``tests/spec/athena/programs/wallet.c``, compiled with
the RISC-V toolchain of ``tests/spec/athena/toolchain.py``; its ELF is part of the genesis
configuration (kept in every node's database), so a node never needs the compiler again.
Execution is ``athena.call_program`` / ``InMemoryHost.call`` from spec/athena.md.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import blake3
from smspec.tools.node import protocol as p

SPAWN_METHOD = "athexp_spawn"
SPEND_METHOD = "athexp_spend"
PROXY_METHOD = "athexp_proxy"
DEPLOY_METHOD = "athexp_deploy"
VERIFY_METHOD = "athexp_verify"
TX_SIGNING_PREFIX = b"smspec-devnet-tx"
# the wallet method a transaction of each kind runs on its principal (spawn runs on the template)
CALL_METHODS = {p.METHOD_SPEND: SPEND_METHOD, p.METHOD_PROXY: PROXY_METHOD, p.METHOD_DEPLOY: DEPLOY_METHOD}
METHOD_NAMES = {p.METHOD_SPAWN: "spawn", p.METHOD_SPEND: "spend", p.METHOD_PROXY: "proxy", p.METHOD_DEPLOY: "deploy"}
SELECTOR_SIZE = 4


class TxError(Exception):
    """A transaction the node refuses (not included, nothing changes)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def build_wallet_program() -> bytes:
    """The wallet template's ELF, compiled now (needs riscv64-unknown-elf-gcc and picolibc)."""
    return build_program("wallet")


def build_program(name: str) -> bytes:
    """The ELF of program `name` of tests/spec/athena/programs (the wallet, the receiver, ...)."""
    from smspec.tests.spec.athena import toolchain

    if not toolchain.toolchain_available():
        raise RuntimeError(toolchain.MISSING)
    return toolchain._build(name)


def template_address(code: bytes) -> bytes:
    """The address the in-memory host deploys a template at (spec/athena.md, `InMemoryHost.deploy`)."""
    return blake3.blake3(code).digest()[:24]


def wallet_address(template: bytes, owner: bytes) -> bytes:
    """The address a wallet spawned with state `owner` gets (`InMemoryHost.spawn`)."""
    return blake3.blake3(template + owner).digest()[:24]


def tx_signed_bytes(genesis_id: bytes, tx: p.Tx) -> bytes:
    return genesis_id + TX_SIGNING_PREFIX + p.unsigned_bytes(tx, p.Tx)


# -- arguments (SCALE, as wallet.c reads them) ---------------------------------------------------


def compact(value: int) -> bytes:
    """A SCALE compact integer (athena.md `encode_compact`)."""
    from smspec.spec import athena

    return athena.encode_compact(value)


def spend_args(recipient: bytes, amount: int) -> bytes:
    """SpendArguments { recipient: [u8; 24], amount: u64 }."""
    return recipient + amount.to_bytes(8, "little")


def proxy_args(destination: bytes, selector: bytes | None, call_input: bytes | None, amount: int) -> bytes:
    """ProxyArguments { destination: [u8; 24], method: Option<[u8; 4]>, args: Option<Vec<u8>>, amount: u64 }."""
    method = b"\x00" if selector is None else b"\x01" + selector
    arguments = b"\x00" if call_input is None else b"\x01" + compact(len(call_input)) + call_input
    return destination + method + arguments + amount.to_bytes(8, "little")


def deploy_args(code: bytes) -> bytes:
    """deploy's argument: the template's code as a Vec<u8>."""
    return compact(len(code)) + code


def parse_proxy_args(args: bytes) -> tuple[bytes, bytes | None, bytes | None, int]:
    """(destination, selector, input, amount) of proxy arguments in canonical form, or `TxError`."""
    from smspec.spec import athena

    try:
        destination, offset = args[:24], 24
        if len(args) < offset + 1 or args[offset] > 1:
            raise TxError("bad_arguments", "proxy: the method is an Option<[u8; 4]>")
        selector = None
        if args[offset] == 1:
            selector = args[offset + 1: offset + 1 + SELECTOR_SIZE]
            offset += SELECTOR_SIZE
        offset += 1
        if len(args) < offset + 1 or args[offset] > 1:
            raise TxError("bad_arguments", "proxy: the arguments are an Option<Vec<u8>>")
        call_input = None
        if args[offset] == 1:
            call_input, offset = athena.decode_vec(args, offset + 1)
        else:
            offset += 1
    except athena.InvalidProgram as error:
        raise TxError("bad_arguments", f"proxy: {error.reason}") from None
    if len(destination) != 24 or (selector is not None and len(selector) != SELECTOR_SIZE) or len(args) != offset + 8:
        raise TxError("bad_arguments", "proxy takes destination, method, arguments and amount")
    return destination, selector, call_input, int.from_bytes(args[offset:], "little")


def parse_deploy_args(args: bytes) -> bytes:
    """The code of deploy arguments in canonical form, or `TxError`."""
    from smspec.spec import athena

    try:
        code, offset = athena.decode_vec(args, 0)
    except athena.InvalidProgram as error:
        raise TxError("bad_arguments", f"deploy: {error.reason}") from None
    if offset != len(args) or not code:
        raise TxError("bad_arguments", "deploy takes the template's code (a non-empty Vec<u8>)")
    return code


# -- transactions ----------------------------------------------------------------------------------


def make_spawn(m: Any, genesis_id: bytes, template: bytes, seed: bytes) -> p.Tx:
    owner = m.crypto.public_key(seed)
    tx = p.Tx(wallet_address(template, owner), 0, p.METHOD_SPAWN, owner, bytes(64))
    return sign_tx(m, genesis_id, tx, seed)


def make_call(m: Any, genesis_id: bytes, template: bytes, seed: bytes, nonce: int, method: int, args: bytes) -> p.Tx:
    """A signed transaction of the wallet of `seed` running `method` (spend, proxy, deploy) with `args`."""
    owner = m.crypto.public_key(seed)
    tx = p.Tx(wallet_address(template, owner), nonce, method, args, bytes(64))
    return sign_tx(m, genesis_id, tx, seed)


def make_spend(m: Any, genesis_id: bytes, template: bytes, seed: bytes, nonce: int, recipient: bytes, amount: int) -> p.Tx:
    return make_call(m, genesis_id, template, seed, nonce, p.METHOD_SPEND, spend_args(recipient, amount))


def make_proxy(m: Any, genesis_id: bytes, template: bytes, seed: bytes, nonce: int, destination: bytes,
               selector: bytes | None, call_input: bytes | None, amount: int) -> p.Tx:
    """The wallet calls `destination` with Payload { selector, input or [] } and `amount`."""
    args = proxy_args(destination, selector, call_input, amount)
    return make_call(m, genesis_id, template, seed, nonce, p.METHOD_PROXY, args)


def make_deploy(m: Any, genesis_id: bytes, template: bytes, seed: bytes, nonce: int, code: bytes) -> p.Tx:
    return make_call(m, genesis_id, template, seed, nonce, p.METHOD_DEPLOY, deploy_args(code))


def sign_tx(m: Any, genesis_id: bytes, tx: p.Tx, seed: bytes) -> p.Tx:
    import attrs

    return attrs.evolve(tx, signature=m.crypto.ed25519_sign(seed, tx_signed_bytes(genesis_id, tx)))


def check_form(tx: p.Tx, template: bytes) -> None:
    """The checks a transaction of a principal not spawned yet can take: the layout of its
    arguments (its signature needs the owner key, which only the spawned wallet holds)."""
    if tx.method == p.METHOD_SPAWN:
        if len(tx.args) != 32:
            raise TxError("bad_arguments", "spawn takes the 32-byte owner key")
    elif tx.method == p.METHOD_SPEND:
        if len(tx.args) != 24 + 8:
            raise TxError("bad_arguments", "spend takes recipient and amount")
    elif tx.method == p.METHOD_PROXY:
        parse_proxy_args(tx.args)
    elif tx.method == p.METHOD_DEPLOY:
        parse_deploy_args(tx.args)
    else:
        raise TxError("unknown_method", str(tx.method))


# ---------------------------------------------------------------------------------------------
# State: accounts held in an athena.InMemoryHost plus nonces


class State:
    """Accounts and deployed templates of one node while a block is applied (loaded from and
    saved to SQLite)."""

    def __init__(self, m: Any, code: bytes, rows: list, templates: list | tuple = ()) -> None:
        self.m = m
        self.code = code
        self.template = template_address(code)
        self.host = m.athena.InMemoryHost()
        self.host.templates[self.template] = code
        for address, template_code in templates:
            self.host.templates[address] = template_code
        self.nonces: dict[bytes, int] = {}
        for address, balance, nonce, template, state, storage in rows:
            account = self.host.account(address)
            account.balance = int(balance)
            account.template = template
            account.state = state or b""
            account.storage = {bytes.fromhex(k): bytes.fromhex(v) for k, v in json.loads(storage or "{}").items()}
            self.nonces[address] = int(nonce)

    def rows(self) -> list:
        out = []
        for address in sorted(self.host.accounts):
            account = self.host.accounts[address]
            storage = json.dumps({k.hex(): v.hex() for k, v in sorted(account.storage.items())})
            out.append((address, str(account.balance), str(self.nonces.get(address, 0)), account.template,
                        account.state, storage))
        return out

    def template_rows(self) -> list[tuple[bytes, bytes]]:
        """(address, code) of every template a transaction deployed (the genesis wallet's is not), by address."""
        return [(address, code) for address, code in sorted(self.host.templates.items()) if address != self.template]

    def owner(self, address: bytes) -> bytes | None:
        account = self.host.accounts.get(address)
        if account is None or account.template != self.template:
            return None
        return account.state

    def authentic(self, owner: bytes, genesis_id: bytes, tx: p.Tx) -> bool:
        """Rule "transactions": the wallet template's own `verify` (its ED25519 precompile), run on
        the wallet of `owner`, accepts the envelope signature over the signed bytes."""
        athena = self.m.athena
        payload = athena.encode_vec(tx_signed_bytes(genesis_id, tx)) + tx.signature
        message = athena.Message(recipient=tx.principal, sender=tx.principal, gas=p.GAS_LIMIT,
                                 input=athena.encode_execution_payload(owner, athena.method_selector(VERIFY_METHOD),
                                                                       payload))
        result = athena.call_program(self.code, message, self.host, self.template)
        return result.status == athena.StatusCode.SUCCESS and result.output == b"\x01"

    def check(self, genesis_id: bytes, tx: p.Tx, exact_nonce: bool) -> None:
        """Raise `TxError` unless `tx` is well-formed, signed by the owner, with a usable nonce."""
        check_form(tx, self.template)
        if tx.method == p.METHOD_SPAWN:
            owner = tx.args
            if wallet_address(self.template, owner) != tx.principal:
                raise TxError("wrong_principal", "the principal is not the spawned wallet's address")
            if self.owner(tx.principal) is not None:
                raise TxError("already_spawned")
        else:
            spawned = self.owner(tx.principal)
            if spawned is None:
                raise TxError("not_spawned", "the principal is not a spawned wallet")
            owner = spawned
        if not self.authentic(owner, genesis_id, tx):
            raise TxError("bad_signature")
        nonce = self.nonces.get(tx.principal, 0)
        if tx.nonce < nonce:
            raise TxError("nonce_too_low", f"nonce {tx.nonce}, account nonce {nonce}")
        if exact_nonce and tx.nonce != nonce:
            raise TxError("nonce_gap", f"nonce {tx.nonce}, account nonce {nonce}")

    def execute(self, genesis_id: bytes, tx: p.Tx) -> str:
        """Apply one transaction of a block: 'skipped:<reason>', 'failed:<status>' or 'ok'."""
        athena = self.m.athena
        try:
            self.check(genesis_id, tx, exact_nonce=True)
        except TxError as error:
            return f"skipped:{error.reason}"
        snapshot = copy.deepcopy(self.host.accounts), dict(self.host.templates)
        if tx.method == p.METHOD_SPAWN:
            self.host.current_template = self.template
            message = athena.Message(recipient=tx.principal, sender=tx.principal, gas=p.GAS_LIMIT,
                                     input=athena.encode_execution_payload(b"", athena.method_selector(SPAWN_METHOD), tx.args))
            result = athena.call_program(self.code, message, self.host, self.template)
            if result.status == athena.StatusCode.SUCCESS and result.output != tx.principal:
                result = athena.ExecutionResult(athena.StatusCode.FAILURE, 0, None)
        else:
            # spend, proxy, deploy: the wallet's own transaction (caller = callee = the principal)
            self.host.current_template = bytes(24)
            message = athena.Message(recipient=tx.principal, sender=tx.principal, gas=p.GAS_LIMIT,
                                     input=athena.encode_payload(athena.method_selector(CALL_METHODS[tx.method]), tx.args))
            result = self.host.call(message)
        self.host.current_template = bytes(24)
        self.nonces[tx.principal] = self.nonces.get(tx.principal, 0) + 1
        if result.status != athena.StatusCode.SUCCESS:
            self.host.accounts, self.host.templates = snapshot
            return f"failed:{athena.StatusCode(result.status).name}"
        return "ok"

    def credit(self, address: bytes, amount: int) -> None:
        account = self.host.account(address)
        account.balance = (account.balance + amount) % 2**64

    def root(self) -> bytes:
        """Rule "state-root": one leaf per account (by address), then one per deployed template (by address)."""
        crypto = self.m.crypto
        leaves = []
        for address, balance, nonce, template, state, storage in self.rows():
            leaves.append(crypto.hash32(address, int(balance).to_bytes(8, "little"), int(nonce).to_bytes(8, "little"),
                                        template or bytes(24), crypto.hash32(state), crypto.hash32(storage.encode())))
        for address, code in self.template_rows():
            leaves.append(crypto.hash32(address, crypto.hash32(code)))
        if not leaves:
            return bytes(32)
        return crypto.merkle_root(leaves)
