"""The ``smspec`` command line.

Command groups live in ``tools/commands/<group>.py``; each defines ``register(subparsers)``
and is discovered automatically. A command handler raises :class:`CliError` for bad input,
which prints ``smspec: error: <message>`` and exits with status 2 (never a traceback); argument
errors found by argparse are reported the same way, on one line.

Exit statuses (:data:`EXIT_STATUSES`): 0 success, 1 a negative verdict (an invalid proof or
signature, a failed check), 2 bad input, 70 an internal error (a bug: one line, and the
traceback with ``SMSPEC_DEBUG=1``), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import pkgutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from smspec import __version__


class CliError(Exception):
    """Bad input or a failed precondition, reported to the user in one line (exit 2)."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


EXIT_OK, EXIT_NEGATIVE, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 70, 130
EXIT_STATUSES = {
    EXIT_OK: "success",
    EXIT_NEGATIVE: "a negative verdict, for commands that give one (invalid proof or signature, "
    "rejected ATX, failed check)",
    EXIT_BAD_INPUT: "bad input: one line 'smspec: error: ...' on standard error",
    EXIT_INTERNAL: "internal error (a bug): one line; rerun with SMSPEC_DEBUG=1 for the traceback",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``smspec: error: ...``, exit 2) like every other
    bad input, naming the command whose ``--help`` explains it."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        raise CliError(f"{message} (see `{self.prog} --help`)")


# Bounds on what a command reads from the user before it parses it (never taken on trust).
MAX_JSON_DEPTH = 64
MAX_INPUT_BYTES = 64 * 2**20


def integer(low: int | None = None, high: int | None = None, what: str = "an integer") -> Callable[[str], int]:
    """An argparse ``type`` taking a decimal (or 0x-hex) integer in ``[low, high]``.

    Out-of-range values are refused at parse time, so a command never sizes work, memory or a
    loop on an unchecked number. The bounds are kept on the function (``.low``, ``.high``).
    """

    def parse(text: str) -> int:
        if len(text) > 100:
            raise argparse.ArgumentTypeError(f"expected {what}, got {len(text)} characters")
        try:
            value = int(text, 0)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if low is not None and value < low:
            raise argparse.ArgumentTypeError(f"expected {what} >= {low}, got {value}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"expected {what} <= {high}, got {value}")
        return value

    parse.__name__ = "integer"
    parse.low, parse.high = low, high  # type: ignore[attr-defined]
    return parse


def integer_list(low: int, high: int, what: str, max_items: int = 1000) -> Callable[[str], list[int]]:
    """An argparse ``type`` taking comma-separated integers, each in ``[low, high]`` (at least one)."""
    item = integer(low, high, what)

    def parse(text: str) -> list[int]:
        parts = [part.strip() for part in text.split(",")]
        if not text.strip() or len(parts) > max_items:
            raise argparse.ArgumentTypeError(f"expected 1 to {max_items} comma-separated {what}s, got {text[:40]!r}")
        return [item(part) for part in parts]

    parse.__name__ = "integer_list"
    parse.low, parse.high = low, high  # type: ignore[attr-defined]
    return parse


def real(low: float | None = None, high: float | None = None, what: str = "a number") -> Callable[[str], float]:
    """An argparse ``type`` taking a finite decimal number in ``[low, high]`` (no nan, no inf)."""

    def parse(text: str) -> float:
        if len(text) > 100:
            raise argparse.ArgumentTypeError(f"expected {what}, got {len(text)} characters")
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        if low is not None and value < low:
            raise argparse.ArgumentTypeError(f"expected {what} >= {low}, got {text}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"expected {what} <= {high}, got {text}")
        return value

    parse.__name__ = "real"
    parse.low, parse.high = low, high  # type: ignore[attr-defined]
    return parse


def json_depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` in JSON ``text`` (strings skipped), without recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def load_json(text: str | bytes, what: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse user-supplied JSON, refusing deep nesting and malformed text with a :class:`CliError`."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise CliError(f"{what} is not UTF-8 text") from None
    if len(text) > MAX_INPUT_BYTES:
        raise CliError(f"{what} is larger than {MAX_INPUT_BYTES} bytes")
    if json_depth(text) > max_depth:
        raise CliError(f"{what} is nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as e:
        raise CliError(f"{what} is not valid JSON: {e}") from None


def read_input(path: str | Path, what: str, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a user-named file (``-``: standard input), or a one-line :class:`CliError`
    (missing, a directory, unreadable, or larger than ``max_bytes``)."""
    if str(path) == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise CliError(f"{what} on standard input is larger than {max_bytes} bytes")
        return data
    file = Path(path)
    try:
        if file.is_dir():
            raise CliError(f"{what} {str(path)!r} is a directory, expected a file")
        with file.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise CliError(f"{what} {str(path)!r} does not exist") from None
    except OSError as e:
        raise CliError(f"cannot read {what} {str(path)!r}: {e.strerror or e}") from None
    if len(data) > max_bytes:
        raise CliError(f"{what} {str(path)!r} is larger than {max_bytes} bytes")
    return data


def check_output(path: str | Path, what: str, directory: bool = False) -> Path:
    """A path a command is about to write: a file (or, with ``directory``, a directory it creates
    if missing). Refused in one line when it is a directory (a non-directory), or when its parent
    directory does not exist: a typo never creates a tree of directories."""
    target = Path(path)
    if directory:
        if target.exists() and not target.is_dir():
            raise CliError(f"{what} {str(path)!r} exists and is not a directory")
    elif target.is_dir():
        raise CliError(f"{what} {str(path)!r} is a directory, expected a file")
    parent = target.absolute().parent
    if not target.exists() and not parent.is_dir():
        raise CliError(f"{what} {str(path)!r}: the directory {str(parent)!r} does not exist")
    return target


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="smspec",
        description="smspec: the executable specification of the Spacemesh protocol. "
        "Each command group has its own --help.",
        epilog="exit status: " + "; ".join(f"{code} {text}" for code, text in EXIT_STATUSES.items()) + ".",
    )
    parser.add_argument("--version", action="version", version=f"smspec {__version__}")
    parser.add_argument(
        "--preset",
        choices=("mainnet", "testnet", "tiny"),
        default=None,
        help="protocol preset for commands that depend on one (default: $SMSPEC_PRESET or mainnet)",
    )
    subparsers = parser.add_subparsers(dest="group", metavar="COMMAND")
    import smspec.tools.commands as commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"smspec.tools.commands.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit status (see :data:`EXIT_STATUSES`)."""
    try:
        return _run(argv)
    except CliError as e:
        print(f"smspec: error: {e}", file=sys.stderr)
        return e.status
    except KeyboardInterrupt:
        print("smspec: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except Exception as e:  # a bug: one line for the user, the traceback on request
        if os.environ.get("SMSPEC_DEBUG"):
            raise
        print(f"smspec: internal error: {internal_error_text(e)} "
              "(please report; rerun with SMSPEC_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


def internal_error_text(error: BaseException) -> str:
    """``<type>: <first line of the message>``, at most 200 characters."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.preset:
        os.environ["SMSPEC_PRESET"] = args.preset
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.group is None else EXIT_BAD_INPUT
    return int(args.func(args) or 0)


def set_backend_from_args(args: argparse.Namespace) -> str:
    """Apply ``--backend`` (commands that accept it); returns the backend in force."""
    from smspec.impl.registry import use_backend

    backend = getattr(args, "backend", None) or "impl"
    if backend == "opencl":
        backend = "gpu"
    try:
        use_backend(backend)
    except (RuntimeError, ValueError) as e:
        raise CliError(str(e)) from e
    return backend


if __name__ == "__main__":
    sys.exit(main())
