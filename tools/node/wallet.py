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
TX_SIGNING_PREFIX = b"smspec-devnet-tx"


class TxError(Exception):
    """A transaction the node refuses (not included, nothing changes)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def build_wallet_program() -> bytes:
    """The wallet template's ELF, compiled now (needs riscv64-unknown-elf-gcc and picolibc)."""
    from smspec.tests.spec.athena import toolchain

    if not toolchain.toolchain_available():
        raise RuntimeError(toolchain.MISSING)
    return toolchain._build("wallet")


def template_address(code: bytes) -> bytes:
    """The address the in-memory host deploys a template at (spec/athena.md, `InMemoryHost.deploy`)."""
    return blake3.blake3(code).digest()[:24]


def wallet_address(template: bytes, owner: bytes) -> bytes:
    """The address a wallet spawned with state `owner` gets (`InMemoryHost.spawn`)."""
    return blake3.blake3(template + owner).digest()[:24]


def tx_signed_bytes(genesis_id: bytes, tx: p.Tx) -> bytes:
    return genesis_id + TX_SIGNING_PREFIX + p.unsigned_bytes(tx, p.Tx)


def make_spawn(m: Any, genesis_id: bytes, template: bytes, seed: bytes) -> p.Tx:
    owner = m.crypto.public_key(seed)
    tx = p.Tx(wallet_address(template, owner), 0, p.METHOD_SPAWN, owner, bytes(64))
    return sign_tx(m, genesis_id, tx, seed)


def make_spend(m: Any, genesis_id: bytes, template: bytes, seed: bytes, nonce: int, recipient: bytes, amount: int) -> p.Tx:
    owner = m.crypto.public_key(seed)
    arguments = recipient + amount.to_bytes(8, "little")
    wallet_signature = m.crypto.ed25519_sign(seed, arguments)
    tx = p.Tx(wallet_address(template, owner), nonce, p.METHOD_SPEND, arguments + wallet_signature, bytes(64))
    return sign_tx(m, genesis_id, tx, seed)


def sign_tx(m: Any, genesis_id: bytes, tx: p.Tx, seed: bytes) -> p.Tx:
    import attrs

    return attrs.evolve(tx, signature=m.crypto.ed25519_sign(seed, tx_signed_bytes(genesis_id, tx)))


def check_form(tx: p.Tx, template: bytes) -> None:
    """The checks a transaction of a principal not spawned yet can take: a spend's argument
    layout (its signature needs the owner key, which only the spawned wallet holds)."""
    if tx.method == p.METHOD_SPEND:
        if len(tx.args) != 24 + 8 + 64:
            raise TxError("bad_arguments", "spend takes recipient, amount and signature")
    elif tx.method != p.METHOD_SPAWN:
        raise TxError("unknown_method", str(tx.method))


# ---------------------------------------------------------------------------------------------
# State: accounts held in an athena.InMemoryHost plus nonces


class State:
    """Accounts of one node while a block is applied (loaded from and saved to SQLite)."""

    def __init__(self, m: Any, code: bytes, rows: list) -> None:
        self.m = m
        self.code = code
        self.template = template_address(code)
        self.host = m.athena.InMemoryHost()
        self.host.templates[self.template] = code
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

    def owner(self, address: bytes) -> bytes | None:
        account = self.host.accounts.get(address)
        if account is None or account.template != self.template:
            return None
        return account.state

    def check(self, genesis_id: bytes, tx: p.Tx, exact_nonce: bool) -> None:
        """Raise `TxError` unless `tx` is well-formed, signed by the owner, with a usable nonce."""
        crypto = self.m.crypto
        if tx.method == p.METHOD_SPAWN:
            if len(tx.args) != 32:
                raise TxError("bad_arguments", "spawn takes the 32-byte owner key")
            owner = tx.args
            if wallet_address(self.template, owner) != tx.principal:
                raise TxError("wrong_principal", "the principal is not the spawned wallet's address")
            if self.owner(tx.principal) is not None:
                raise TxError("already_spawned")
        elif tx.method == p.METHOD_SPEND:
            if len(tx.args) != 24 + 8 + 64:
                raise TxError("bad_arguments", "spend takes recipient, amount and signature")
            owner = self.owner(tx.principal)
            if owner is None:
                raise TxError("not_spawned", "the principal is not a spawned wallet")
        else:
            raise TxError("unknown_method", str(tx.method))
        if not crypto.ed25519_verify(owner, tx_signed_bytes(genesis_id, tx), tx.signature):
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
        snapshot = copy.deepcopy(self.host.accounts)
        if tx.method == p.METHOD_SPAWN:
            self.host.current_template = self.template
            message = athena.Message(recipient=tx.principal, sender=tx.principal, gas=p.GAS_LIMIT,
                                     input=athena.encode_execution_payload(b"", athena.method_selector(SPAWN_METHOD), tx.args))
            result = athena.call_program(self.code, message, self.host, self.template)
            if result.status == athena.StatusCode.SUCCESS and result.output != tx.principal:
                result = athena.ExecutionResult(athena.StatusCode.FAILURE, 0, None)
        else:
            self.host.current_template = bytes(24)
            message = athena.Message(recipient=tx.principal, sender=tx.principal, gas=p.GAS_LIMIT,
                                     input=athena.encode_payload(athena.method_selector(SPEND_METHOD), tx.args))
            result = self.host.call(message)
        self.host.current_template = bytes(24)
        self.nonces[tx.principal] = self.nonces.get(tx.principal, 0) + 1
        if result.status != athena.StatusCode.SUCCESS:
            self.host.accounts = snapshot
            return f"failed:{athena.StatusCode(result.status).name}"
        return "ok"

    def credit(self, address: bytes, amount: int) -> None:
        account = self.host.account(address)
        account.balance = (account.balance + amount) % 2**64

    def root(self) -> bytes:
        """Rule "state-root"."""
        crypto = self.m.crypto
        leaves = []
        for address, balance, nonce, template, state, storage in self.rows():
            leaves.append(crypto.hash32(address, int(balance).to_bytes(8, "little"), int(nonce).to_bytes(8, "little"),
                                        template or bytes(24), crypto.hash32(state), crypto.hash32(storage.encode())))
        if not leaves:
            return bytes(32)
        return crypto.merkle_root(leaves)
