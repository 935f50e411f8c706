"""Athena VM vectors: run a program on the machine, or call it through the VM's entry point.

Two handlers, each registered under the runners ``instructions``, ``syscalls``, ``programs`` and
``hostile`` (``athena/<runner>/run`` and ``athena/<runner>/call``).

Common inputs (all optional unless said):

* ``program``: the executable, a blob or 0x-hex (ELF, or Athena's raw ``\\x7fATH`` format). Required.
* ``gas``: the gas limit (int, default 1,000,000).
* ``balance``: balance of the running account (int, default 0).
* ``storage``: ``{key hex32: value hex32}``, the running account's storage before the run.
* ``context``: ``{"callee", "caller", "caller_template": hex24, "received": int, "depth": int}``;
  addresses default to 24 zero bytes.
* ``accounts``: list of ``{"address": hex24, "balance": int, "template": hex24 | null,
  "state": hex}`` for other accounts (HOST_CALL recipients).
* ``templates``: ``{address hex24: program blob or hex}`` known to the host.
* ``memory_words``: list of word addresses whose final values are reported.
* ``template``: hex24, the template address of the running program (the in-memory host spawns
  accounts of this template); default 24 zero bytes.

``run`` inputs: ``input`` (hex, the raw input stream), ``entry`` (int; default the program's
start, or the address of ``method`` when given), ``method`` (an exported name).
``run`` outputs: ``status`` (StatusCode name), ``reason`` (the trap's reason or null),
``gas_used``, ``gas_left`` (0 unless SUCCESS), ``steps`` (instructions completed), ``pc``,
``registers`` (``{"xN": value}`` for every non-zero register), ``output`` (hex, the bytes written
to fd 3; "0x" on failure is not implied: the bytes written before the failure are reported),
``storage`` (the running account's storage after the run, ``{key: value}``), ``memory``
(``{address: value}`` for ``memory_words``).
A program that does not load raises ``InvalidProgram`` (status FAILURE) with its reason.

``call`` inputs: ``payload`` (hex, the message input: SCALE ExecutionPayload; absent means no
input), or ``state`` (hex), ``method`` (name; null for the entry point) and ``args`` (hex), from
which the payload is encoded; ``value`` (int, amount sent).
``call`` outputs: ``status``, ``gas_left``, ``output`` (hex or null), ``storage`` (running
account's storage after the call), ``balances`` (``{address: balance}`` of every account the host
knows).
"""

from __future__ import annotations

from typing import Any

from smspec.conformance.handlers import blob_bytes, handler, hexbytes, hexstr

RUNNERS = ("instructions", "syscalls", "programs", "hostile")
DEFAULT_GAS = 1_000_000
ZERO_ADDRESS = b"\x00" * 24


def _bytes(value: Any) -> bytes:
    if isinstance(value, dict):
        return blob_bytes(value)
    return hexbytes(value)


def _host(athena: Any, inputs: dict[str, Any], callee: bytes) -> Any:
    host = athena.InMemoryHost()
    account = host.account(callee)
    account.balance = int(inputs.get("balance", 0))
    for key, value in inputs.get("storage", {}).items():
        account.storage[hexbytes(key, 32)] = hexbytes(value, 32)
    for entry in inputs.get("accounts", []):
        other = host.account(hexbytes(entry["address"], 24))
        other.balance = int(entry.get("balance", 0))
        template = entry.get("template")
        other.template = hexbytes(template, 24) if template else None
        other.state = hexbytes(entry.get("state", "0x"))
    for address, code in inputs.get("templates", {}).items():
        host.templates[hexbytes(address, 24)] = _bytes(code)
    return host


def _context(athena: Any, inputs: dict[str, Any]) -> Any:
    ctx = inputs.get("context", {})
    return athena.AthenaContext(
        callee=hexbytes(ctx["callee"], 24) if "callee" in ctx else ZERO_ADDRESS,
        caller=hexbytes(ctx["caller"], 24) if "caller" in ctx else ZERO_ADDRESS,
        caller_template=hexbytes(ctx["caller_template"], 24) if "caller_template" in ctx else ZERO_ADDRESS,
        depth=int(ctx.get("depth", 0)),
        received=int(ctx.get("received", 0)),
    )


def _storage(host: Any, account: bytes) -> dict[str, str]:
    storage = host.account(account).storage
    return {hexstr(key): hexstr(storage[key]) for key in sorted(storage)}


def run_case(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Run ``program`` from ``entry`` on the machine (see the module docstring for the schema)."""
    athena = spec("athena")
    program = athena.load_program(_bytes(inputs["program"]))
    context = _context(athena, inputs)
    host = _host(athena, inputs, context.callee)
    host.current_template = hexbytes(inputs["template"], 24) if "template" in inputs else ZERO_ADDRESS
    entry = program.pc_start
    if inputs.get("method") is not None:
        if inputs["method"] not in program.exports:
            raise athena.VmTrap(athena.StatusCode.FAILURE, "unknown_method", inputs["method"])
        entry = program.exports[inputs["method"]]
    if "entry" in inputs:
        entry = int(inputs["entry"])
    machine = athena.run(
        program, entry, hexbytes(inputs.get("input", "0x")), host, context, int(inputs.get("gas", DEFAULT_GAS))
    )
    result = athena.machine_result(machine)
    return {
        "status": result.status.name,
        "reason": machine.trap.reason if machine.trap is not None else None,
        "gas_used": machine.gas,
        "gas_left": result.gas_left,
        "steps": machine.steps,
        "pc": machine.pc,
        "registers": {f"x{i}": v for i, v in enumerate(machine.registers) if v != 0},
        "output": hexstr(bytes(machine.output)),
        "storage": _storage(host, context.callee),
        "memory": {str(a): machine.memory.get(int(a), 0) for a in inputs.get("memory_words", [])},
    }


def call_case(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """Call ``program`` through the VM entry point (see the module docstring for the schema)."""
    athena = spec("athena")
    code = _bytes(inputs["program"])
    context = _context(athena, inputs)
    host = _host(athena, inputs, context.callee)
    host.current_template = hexbytes(inputs["template"], 24) if "template" in inputs else ZERO_ADDRESS
    if "payload" in inputs:
        payload = None if inputs["payload"] is None else hexbytes(inputs["payload"])
    else:
        method = inputs.get("method")
        selector = athena.method_selector(method) if method is not None else None
        payload = athena.encode_execution_payload(
            hexbytes(inputs.get("state", "0x")), selector, hexbytes(inputs.get("args", "0x"))
        )
    message = athena.Message(
        recipient=context.callee,
        sender=context.caller,
        gas=int(inputs.get("gas", DEFAULT_GAS)),
        input=payload,
        value=int(inputs.get("value", context.received)),
        depth=context.depth,
    )
    result = athena.call_program(code, message, host, context.caller_template)
    return {
        "status": result.status.name,
        "gas_left": result.gas_left,
        "output": None if result.output is None else hexstr(result.output),
        "storage": _storage(host, context.callee),
        "balances": {hexstr(a): host.accounts[a].balance for a in sorted(host.accounts)},
    }


for _runner in RUNNERS:
    handler("athena", _runner, "run")(run_case)
    handler("athena", _runner, "call")(call_case)


# ---------------------------------------------------------------------------------------------
# Wallet transactions: a call through the in-memory host, with the whole state before and after.


def _accounts_json(host: Any) -> dict[str, Any]:
    out = {}
    for address in sorted(host.accounts):
        account = host.accounts[address]
        out[hexstr(address)] = {
            "balance": account.balance,
            "template": None if account.template is None else hexstr(account.template),
            "state": hexstr(account.state),
            "storage": {hexstr(key): hexstr(account.storage[key]) for key in sorted(account.storage)},
        }
    return out


@handler("athena", "wallet", "transaction")
def transaction(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """A transaction as the devnet runs it, through the host's dispatch (spec/athena.md, "Calls
    between accounts").

    inputs: ``accounts`` (``[{address, balance, template, state, storage}]``, the state before),
    ``templates`` (``{address: program}``), ``message``: ``{recipient, sender (default: the
    recipient), method (an exported name or null), args (hex), value (int), gas (int)}``; and
    ``template`` (hex24, optional): run this template's code for the recipient instead of calling
    the recipient's account (a spawn: the account does not exist yet); the payload then carries no
    state. outputs: ``status``, ``gas_left``, ``gas_used`` (the gas limit minus ``gas_left``),
    ``output`` (hex or null), ``accounts`` (the state after: ``{address: {balance, template,
    state, storage}}``), ``templates`` (the sorted addresses of the deployed templates)."""
    athena = spec("athena")
    host = athena.InMemoryHost()
    for entry in inputs.get("accounts", []):
        account = host.account(hexbytes(entry["address"], 24))
        account.balance = int(entry.get("balance", 0))
        template = entry.get("template")
        account.template = hexbytes(template, 24) if template else None
        account.state = hexbytes(entry.get("state", "0x"))
        account.storage = {hexbytes(k, 32): hexbytes(v, 32) for k, v in entry.get("storage", {}).items()}
    for address, code in inputs.get("templates", {}).items():
        host.templates[hexbytes(address, 24)] = _bytes(code)
    message_inputs = inputs["message"]
    recipient = hexbytes(message_inputs["recipient"], 24)
    sender = hexbytes(message_inputs["sender"], 24) if "sender" in message_inputs else recipient
    method = message_inputs.get("method")
    selector = athena.method_selector(method) if method is not None else None
    args = hexbytes(message_inputs.get("args", "0x"))
    gas = int(message_inputs.get("gas", DEFAULT_GAS))
    if inputs.get("template") is not None:
        template = hexbytes(inputs["template"], 24)
        host.current_template = template
        message = athena.Message(recipient=recipient, sender=sender, gas=gas,
                                 input=athena.encode_execution_payload(b"", selector, args),
                                 value=int(message_inputs.get("value", 0)))
        result = athena.call_program(host.templates[template], message, host, template)
        host.current_template = ZERO_ADDRESS
    else:
        message = athena.Message(recipient=recipient, sender=sender, gas=gas,
                                 input=athena.encode_payload(selector, args), value=int(message_inputs.get("value", 0)))
        result = host.call(message)
    return {
        "status": result.status.name,
        "gas_left": result.gas_left,
        "gas_used": gas - result.gas_left,
        "output": None if result.output is None else hexstr(result.output),
        "accounts": _accounts_json(host),
        "templates": sorted(hexstr(address) for address in host.templates),
    }
