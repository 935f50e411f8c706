"""The ``smspec`` command line.

Command groups live in ``tools/commands/<group>.py``; each defines ``register(subparsers)``
and is discovered automatically. A command handler raises :class:`CliError` for bad input,
which prints ``smspec: error: <message>`` and exits with status 2 (never a traceback).
"""

from __future__ import annotations

import argparse
import importlib
import json
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


# Bounds on what a command reads from the user before it parses it (never taken on trust).
MAX_JSON_DEPTH = 64
MAX_INPUT_BYTES = 64 * 2**20


def integer(low: int | None = None, high: int | None = None, what: str = "an integer") -> Callable[[str], int]:
    """An argparse ``type`` taking a decimal (or 0x-hex) integer in ``[low, high]``.

    Out-of-range values are refused at parse time, so a command never sizes work, memory or a
    loop on an unchecked number.
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
    """The bytes of a user-named file, or a one-line :class:`CliError` (missing, a directory,
    unreadable, or larger than ``max_bytes``)."""
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smspec",
        description="smspec: the executable specification of the Spacemesh protocol. "
        "Each command group has its own --help.",
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
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.preset:
        import os

        os.environ["SMSPEC_PRESET"] = args.preset
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.group is None else 2
    try:
        result = args.func(args)
    except CliError as e:
        print(f"smspec: error: {e}", file=sys.stderr)
        return e.status
    except KeyboardInterrupt:
        print("smspec: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return int(result or 0)


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
