"""The ``smspec`` command line.

Command groups live in ``tools/commands/<group>.py``; each defines ``register(subparsers)``
and is discovered automatically. A command handler raises :class:`CliError` for bad input,
which prints ``smspec: error: <message>`` and exits with status 2 (never a traceback).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from smspec import __version__


class CliError(Exception):
    """Bad input or a failed precondition, reported to the user in one line (exit 2)."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


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
