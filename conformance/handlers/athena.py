"""Athena VM vectors: run a program on the machine, or call it through the VM's entry point.

Two handlers, each registered under the runners ``instructions``, ``syscalls``, ``programs`` and
``hostile`` (``athena/<runner>/run`` and ``athena/<runner>/call``); their inputs, outputs and
defaults are :data:`RUN_SCHEMA` and :data:`CALL_SCHEMA`.
"""

from __future__ import annotations

from typing import Any

from smspec.conformance.handlers import blob_bytes, handler, hexbytes, hexstr
from smspec.conformance.schema import Computed, Record, Schema, inp, out, raises

RUNNERS = ("instructions", "syscalls", "programs", "hostile")
DEFAULT_GAS = 1_000_000
ZERO_ADDRESS = b"\x00" * 24
ZERO24 = "0x" + "00" * 24
STATUS = ("enum:SUCCESS,FAILURE,REVERT,OUT_OF_GAS,INVALID_INSTRUCTION,UNDEFINED_INSTRUCTION,STACK_OVERFLOW,"
          "STACK_UNDERFLOW,BAD_JUMP_DESTINATION,INVALID_MEMORY_ACCESS,CALL_DEPTH_EXCEEDED,STATIC_MODE_VIOLATION,"
          "PRECOMPILE_FAILURE,CONTRACT_VALIDATION_FAILURE,ARGUMENT_OUT_OF_RANGE,UNREACHABLE_INSTRUCTION,TRAP,"
          "INSUFFICIENT_BALANCE,INTERNAL_ERROR,REJECTED,OUT_OF_MEMORY,INSUFFICIENT_INPUT,INVALID_SYSCALL_ARGUMENT")
CONTEXT = Record("AthenaContext", "The running program's context (athena.md#athenacontext).", (
    inp("callee", "hex:24", "the running account", default=ZERO24),
    inp("caller", "hex:24", "the calling account", default=ZERO24),
    inp("caller_template", "hex:24", "the caller's template", default=ZERO24),
    inp("received", "uint:64", "the amount received", default=0),
    inp("depth", "uint:32", "the call depth", default=0),
))
TRACE_STEP = Record("TraceStep", "One completed instruction of a traced run (athena.md#tracerecord).", (
    inp("step", "uint", "the number of instructions completed with this one (1 for the first)"),
    inp("pc", "uint:32", "the instruction's address"),
    inp("word", "uint:32", "the raw instruction word at that address"),
    inp("writes", "map<uint:32>", "`xN` → new value, every register whose value the instruction changed "
        "(a write of the value a register already held is not listed)"),
    inp("gas", "uint", "the gas used after the instruction"),
))
ACCOUNT = Record("Account", "Another account the host knows (a HOST_CALL recipient).", (
    inp("address", "hex:24", "its address"), inp("balance", "uint:64", "its balance", default=0),
    inp("template", "hex:24|null", "its template, or null", default=None),
    inp("state", "hex", "its state", default="0x"),
))
COMMON = (
    inp("program", "blob|hex", "the executable: ELF, or Athena's raw format (magic 7f 41 54 48, code at 0)"),
    inp("gas", "uint", "the gas limit", default=DEFAULT_GAS),
    inp("balance", "uint:64", "the running account's balance", default=0),
    inp("storage", "map<hex:32>", "the running account's storage before the run, key (32 bytes) → value", default={}),
    inp("context", "{AthenaContext}", "the context", default={}),
    inp("accounts", "list<{Account}>", "other accounts the host knows", default=[]),
    inp("templates", "map<blob|hex>", "template address (24 bytes) → program, known to the host", default={}),
    inp("template", "hex:24", "the running program's template (HOST_SPAWN spawns accounts of it)", default=ZERO24),
)
PROGRAM_NOTE = ("Every case carries `sources.program`: the assembly text (smspec's assembler, "
                "tests/spec/athena/asm.py), the C files and compiler command, or the hand-made bytes and patches "
                "the program was built from.")
PROGRAM_ERRORS = raises("InvalidProgram", ("too_short", "unknown_format", "raw_length", "truncated_elf", "elf_ident",
                                           "elf_type", "elf_machine", "elf_entry_unaligned", "elf_phentsize",
                                           "elf_too_many_segments", "elf_segment_unaligned", "elf_segment_overflow",
                                           "elf_sections", "export_version", "export_record_truncated",
                                           "export_name_outside_file", "export_name_not_utf8",
                                           "undecodable_instruction", "register_out_of_range"),
                        "a program that does not load (status FAILURE)")


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
    records: list[Any] | None = [] if inputs.get("trace") is True else None
    machine = athena.run(
        program, entry, hexbytes(inputs.get("input", "0x")), host, context, int(inputs.get("gas", DEFAULT_GAS)),
        None if records is None else records.append,
    )
    result = athena.machine_result(machine)
    answer = {
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
    if records is not None:
        answer["trace"] = [{"step": r.step, "pc": r.pc, "word": r.word,
                            "writes": {f"x{register}": value for register, value in sorted(r.writes.items())},
                            "gas": r.gas} for r in records]
    return answer


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


RUN_SCHEMA = Schema(
    page="athena-run",
    summary="Run a program on the machine from an entry point (athena.md#run): the machine's state when it stops.",
    spec=("athena.md#run", "athena.md#load_program", "athena.md#machine_result"),
    inputs=(*COMMON,
            inp("input", "hex", "the raw input stream", default="0x"),
            inp("method", "text|null", "an exported name to start at; null: the entry point", default=None),
            inp("entry", "uint:32", "the start address; absent: the program's entry point, or `method`'s address",
                optional=True),
            inp("memory_words", "list<uint:32>", "word addresses whose final values are reported", default=[]),
            inp("trace", "bool", "true: the output also holds `trace`, the step trace of the run; absent or false: "
                "no trace", optional=True)),
    outputs=(out("status", STATUS, "the StatusCode name"), out("reason", "text|null", "the trap's reason, or null"),
             out("gas_used", "uint", "gas used"), out("gas_left", "uint", "0 unless SUCCESS"),
             out("steps", "uint", "instructions completed"), out("pc", "uint:32", "the pc when it stopped"),
             out("registers", "map<uint:32>", "`xN` → value, every non-zero register"),
             out("output", "hex", "bytes written to fd 3 (those written before a failure too)"),
             out("storage", "map<hex:32>", "the running account's storage after the run"),
             out("memory", "map<uint:32>", "address (decimal) → value, for `memory_words`"),
             out("trace", "list<{TraceStep}>", "only when the input `trace` is true: one record per completed "
                 "instruction, in order (an instruction that traps is not completed and has none)", optional=True)),
    raises=(PROGRAM_ERRORS, raises("VmTrap", "unknown_method", "`method` is not an export")),
    records=(CONTEXT, ACCOUNT, TRACE_STEP), notes=(PROGRAM_NOTE,))

CALL_SCHEMA = Schema(
    page="athena-call",
    summary="Call a program through the VM's entry point (athena.md#call_program), as a transaction does.",
    spec=("athena.md#call_program", "athena.md#encode_payload-encode_execution_payload-decode_execution_payload"),
    inputs=(*COMMON,
            inp("payload", "hex|null", "the message input, SCALE ExecutionPayload; null: no input", optional=True),
            inp("state", "hex", "with `method` and `args`, the parts the payload is encoded from", default="0x",
                unless="payload"),
            inp("method", "text|null", "the method name; null: the entry point", default=None, unless="payload"),
            inp("args", "hex", "the arguments", default="0x", unless="payload"),
            inp("value", "uint:64", "the amount sent",
                default=Computed("context.received", lambda given: given.get("context", {}).get("received", 0)))),
    outputs=(out("status", STATUS, "the StatusCode name"), out("gas_left", "uint", "gas left"),
             out("output", "hex|null", "the output, or null"),
             out("storage", "map<hex:32>", "the running account's storage after the call"),
             out("balances", "map<uint>", "address → balance, every account the host knows")),
    records=(CONTEXT, ACCOUNT),
    notes=(PROGRAM_NOTE, "A call never raises: a program that does not load, a bad payload, gas above 2^32 - 1 "
           "are a FAILURE result."))


for _runner in RUNNERS:
    handler("athena", _runner, "run", schema=RUN_SCHEMA)(run_case)
    handler("athena", _runner, "call", schema=CALL_SCHEMA)(call_case)


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


WALLET_ACCOUNT = Record("HostAccount", "An account of the in-memory host (athena.md#account-inmemoryhost).", (
    inp("address", "hex:24", "its address"), inp("balance", "uint:64", "its balance", default=0),
    inp("template", "hex:24|null", "its template, or null (a plain account: no code runs)", default=None),
    inp("state", "hex", "its state (a wallet's: the owner's public key)", default="0x"),
    inp("storage", "map<hex:32>", "its storage, key (32 bytes) → value", default={}),
))
ACCOUNT_AFTER = Record("AccountState", "An account after the transaction.", (
    inp("balance", "uint:64", "its balance"), inp("template", "hex:24|null", "its template"),
    inp("state", "hex", "its state"), inp("storage", "map<hex:32>", "its storage"),
))
MESSAGE = Record("TransactionMessage", "The transaction's message (athena.md#message).", (
    inp("recipient", "hex:24", "the account called"),
    inp("sender", "hex:24", "the caller", default=Computed("message.recipient", lambda given: given.get("recipient"))),
    inp("method", "text|null", "an exported name, or null: no selector (a plain transfer when `args` is empty)",
        default=None),
    inp("args", "hex", "the arguments", default="0x"),
    inp("value", "uint:64", "the amount sent", default=0),
    inp("gas", "uint:32", "the gas limit", default=DEFAULT_GAS),
))
TRANSACTION_SCHEMA = Schema(
    page="athena-wallet-transaction",
    summary="A transaction as the devnet runs it: a call through the in-memory host's dispatch (athena.md, \"Calls "
            "between accounts\"), with the whole state before and after.",
    spec=("athena.md#calls-between-accounts-the-hosts-dispatch", "athena.md#dispatch_input",
          "athena.md#account-inmemoryhost", "athena.md#call_program"),
    inputs=(inp("accounts", "list<{HostAccount}>", "the accounts before the transaction", default=[]),
            inp("templates", "map<blob|hex>", "template address (24 bytes) → program", default={}),
            inp("message", "{TransactionMessage}", "the message"),
            inp("template", "hex:24|null", "null: call the recipient's account; otherwise run this template's code "
                "for the recipient (a spawn: the account does not exist yet; the payload carries no state)",
                default=None)),
    outputs=(out("status", STATUS, "the StatusCode name"), out("gas_left", "uint", "gas left"),
             out("gas_used", "uint", "the gas limit minus `gas_left`"),
             out("output", "hex|null", "the output, or null"),
             out("accounts", "map<{AccountState}>", "every account after the transaction, by address"),
             out("templates", "list<hex:24>", "the addresses of the deployed templates, sorted")),
    records=(WALLET_ACCOUNT, MESSAGE, ACCOUNT_AFTER),
    notes=("Every case carries `sources`: for each program of `templates` (input path `templates.<address>`) the "
           "C files and compiler command it was built from.", "A transaction never raises: a failed call is a result (FAILURE and the others), and the "
           "state after a failed call is the state before (athena.md, *Decision* atomic calls).",
           "The programs are smspec's wallet template (tests/spec/athena/programs/wallet.c) and a receiver "
           "(receiver.c); which code a call to an account runs is the devnet host's rule, so these cases are of "
           "level `devnet`."))


@handler("athena", "wallet", "transaction", schema=TRANSACTION_SCHEMA)
def transaction(inputs: dict[str, Any], spec) -> dict[str, Any]:
    """A transaction as the devnet runs it, through the host's dispatch (schema: TRANSACTION_SCHEMA)."""
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
