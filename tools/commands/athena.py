"""``smspec athena``: run Athena programs (RV32EM ELF or raw ``\\x7fATH`` files) on the spec or impl."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from smspec.tools.cli import CliError, check_output, integer, read_input, set_backend_from_args

DEFAULT_GAS = 1_000_000
MAX_GAS = 2**32 - 1  # spec/athena.md MAX_GAS
MAX_U64 = 2**64 - 1
MAX_PROGRAM_BYTES = 16 * 2**20


def _hex(text: str, what: str, size: int | None = None) -> bytes:
    cleaned = text[2:] if text.startswith(("0x", "0X")) else text
    try:
        data = bytes.fromhex(cleaned)
    except ValueError:
        raise CliError(f"{what}: not a hex string: {text!r}") from None
    if size is not None and len(data) != size:
        raise CliError(f"{what}: expected {size} bytes, got {len(data)}")
    return data


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "athena",
        help="run programs on the Athena VM (RV32EM)",
        description="The Athena VM of spec/athena.md: run a program and print its result as JSON.",
    )
    sub = parser.add_subparsers(dest="athena_command", metavar="ACTION")
    run = sub.add_parser(
        "run",
        help="run a program and print status, gas, output and storage changes as JSON",
        description="Load PROGRAM (an ELF file or Athena's raw format), start it at its entry point or at "
        "an exported method, feed it STATE followed by INPUT as its input stream, and print a JSON object: "
        "status, reason (why it failed), gas_used, gas_left, steps, output (hex), storage changes. "
        "The host is the spec's in-memory host.",
    )
    run.add_argument("program", metavar="PROGRAM", help="the executable file")
    run.add_argument("--input", default="", metavar="HEX", help="bytes appended to the input stream after --state")
    run.add_argument("--state", default="", metavar="HEX", help="template state placed first in the input stream")
    run.add_argument("--gas", type=integer(0, MAX_GAS, "a gas limit"), default=DEFAULT_GAS, metavar="N",
                     help=f"gas limit, 0 to {MAX_GAS:,} (default {DEFAULT_GAS:,})")
    run.add_argument("--method", metavar="NAME",
                     help="start at this exported method (NAME or athexp_NAME); default: the entry point")
    run.add_argument("--balance", type=integer(0, MAX_U64, "a u64 balance"), default=0, metavar="N",
                     help="balance of the running account, a u64 (default 0)")
    run.add_argument("--storage", action="append", default=[], metavar="KEY=VALUE",
                     help="initial storage slot of the running account (32-byte hex each); repeatable")
    run.add_argument("--callee", default="00" * 24, metavar="HEX24", help="address of the running account")
    run.add_argument("--caller", default="00" * 24, metavar="HEX24", help="address of the caller")
    run.add_argument("--received", type=integer(0, MAX_U64, "a u64 amount"), default=0, metavar="N",
                     help="amount received with the call, a u64 (default 0)")
    run.add_argument("--backend", choices=("spec", "impl"), default="impl",
                     help="spec (readable reference) or impl (compiled basic blocks; default)")
    run.add_argument("--trace", nargs="?", const="-", default=None, metavar="FILE",
                     help="write a JSON-lines step trace (step, pc, instruction, registers written, gas) to FILE "
                     "(default: standard error); tracing runs the spec's stepper")
    run.set_defaults(func=cmd_run)
    selector = sub.add_parser("selector", help="print the method selector of a name",
                              description="Print BLAKE3(NAME)[:4] in hex, the selector a payload names a method by.")
    selector.add_argument("name", metavar="NAME", help="exported name, e.g. athexp_spend")
    selector.set_defaults(func=cmd_selector)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def cmd_selector(args: argparse.Namespace) -> int:
    from smspec.spec import athena

    try:
        args.name.encode("utf-8")
    except UnicodeEncodeError:
        raise CliError("NAME is not valid UTF-8") from None
    print(athena.method_selector(args.name).hex())
    return 0


def _open_trace(path: str) -> Any:
    """The --trace file, opened for writing, or a one-line error."""
    try:
        return open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed by cmd_run
    except OSError as e:
        raise CliError(f"--trace: cannot write {path!r}: {e.strerror or e}") from None


def cmd_run(args: argparse.Namespace) -> int:
    set_backend_from_args(args)
    from smspec.spec import athena

    code = read_input(args.program, "PROGRAM", MAX_PROGRAM_BYTES)
    if args.trace not in (None, "-"):
        check_output(args.trace, "--trace")
    input_stream = _hex(args.state, "--state") + _hex(args.input, "--input")
    context = athena.AthenaContext(
        callee=_hex(args.callee, "--callee", 24), caller=_hex(args.caller, "--caller", 24), received=args.received
    )
    host = athena.InMemoryHost()
    account = host.account(context.callee)
    account.balance = args.balance
    for item in args.storage:
        if "=" not in item:
            raise CliError(f"--storage expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        account.storage[_hex(key, "--storage key", 32)] = _hex(value, "--storage value", 32)
    before = dict(account.storage)
    try:
        program = athena.load_program(code)
    except athena.InvalidProgram as e:
        print(json.dumps({"status": e.status.name, "reason": e.reason, "detail": e.detail, "gas_used": 0, "gas_left": 0}))
        return 0
    entry = program.pc_start
    if args.method:
        names = [args.method, f"athexp_{args.method}"]
        found = [n for n in names if n in program.exports]
        if not found:
            exported = ", ".join(sorted(program.exports)) or "none"
            raise CliError(f"{args.program} exports no method {args.method!r} (exports: {exported})")
        entry = program.exports[found[0]]
    trace_file = None
    tracer = None
    if args.trace is not None:
        trace_file = sys.stderr if args.trace == "-" else _open_trace(args.trace)

        def tracer(record: Any) -> None:
            writes = {f"x{r}": f"{v:#010x}" for r, v in sorted(record.writes.items())}
            line = {"step": record.step, "pc": f"{record.pc:#010x}", "instruction": f"{record.word:08x}",
                    "writes": writes, "gas": record.gas}
            trace_file.write(json.dumps(line) + "\n")

    try:
        machine = athena.run(program, entry, input_stream, host, context, args.gas, tracer)
    finally:
        if trace_file is not None and trace_file is not sys.stderr:
            trace_file.close()
    result = athena.machine_result(machine)
    changes = {}
    for key in sorted(set(before) | set(account.storage)):
        old, new = before.get(key, bytes(32)), account.storage.get(key, bytes(32))
        if old != new:
            changes["0x" + key.hex()] = {"before": "0x" + old.hex(), "after": "0x" + new.hex()}
    print(json.dumps({
        "status": result.status.name,
        "reason": machine.trap.reason if machine.trap is not None else None,
        "gas_used": machine.gas,
        "gas_left": result.gas_left,
        "steps": machine.steps,
        "output": "0x" + bytes(machine.output).hex(),
        "storage_changes": changes,
    }, indent=1))
    return 0
