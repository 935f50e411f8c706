"""Handlers: the executable contract of each vector kind ``domain/runner/handler``.

A handler takes a case's JSON inputs (exactly what a client adapter receives) and a ``spec``
accessor (``spec("post")`` is the spec module of the case's preset, with the active backend's
replacements) and returns the JSON outputs, or raises a ``SpecError``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smspec.conformance.schema import Schema

SpecAccessor = Callable[[str], Any]
HandlerFunction = Callable[[dict[str, Any], SpecAccessor], dict[str, Any]]


@dataclass(frozen=True)
class Handler:
    domain: str
    runner: str
    handler: str
    function: HandlerFunction
    schema: Schema | None = None

    @property
    def key(self) -> str:
        return f"{self.domain}/{self.runner}/{self.handler}"

    @property
    def doc(self) -> str:
        return (self.function.__doc__ or "").strip()


HANDLERS: dict[str, Handler] = {}
_BLOB_DIRS: list[Path] = []
_BLOB_CACHE: dict[str, bytes] = {}


def handler(domain: str, runner: str, name: str, schema: Schema | None = None):
    """Register the decorated function as the handler of ``domain/runner/name``, with the schema
    of its inputs, outputs and errors (``conformance/schema.py``)."""

    def decorate(fn: HandlerFunction) -> HandlerFunction:
        h = Handler(domain, runner, name, fn, schema)
        if h.key in HANDLERS and HANDLERS[h.key].function is not fn:
            raise ValueError(f"two handlers for {h.key}")
        HANDLERS[h.key] = h
        if schema is not None and h.key not in schema.keys:
            schema.keys.append(h.key)
        return fn

    return decorate


def discover() -> dict[str, Handler]:
    """Import every handler module and return the registry."""
    package = importlib.import_module(__name__)
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    return HANDLERS


def hexbytes(text: str, size: int | None = None) -> bytes:
    """Decode a ``0x`` hex string from a case (optionally of an exact size)."""
    if not isinstance(text, str) or not text.startswith("0x"):
        raise ValueError(f"expected a 0x-prefixed hex string, got {text!r}")
    data = bytes.fromhex(text[2:])
    if size is not None and len(data) != size:
        raise ValueError(f"expected {size} bytes, got {len(data)}")
    return data


def hexstr(data: bytes) -> str:
    return "0x" + bytes(data).hex()


def as_int(value: int | str) -> int:
    """Integers above 2^53 are carried as decimal strings in vectors."""
    return int(value)


def register_blob(sha256: str, data: bytes) -> None:
    _BLOB_CACHE[sha256] = data


def add_blob_dir(path: Path) -> None:
    if path not in _BLOB_DIRS:
        _BLOB_DIRS.append(path)


def blob_bytes(ref: dict[str, Any]) -> bytes:
    """The content of a blob reference ``{"blob": sha256, "size": n}``."""
    sha = ref["blob"]
    if sha in _BLOB_CACHE:
        return _BLOB_CACHE[sha]
    for directory in _BLOB_DIRS:
        path = directory / f"{sha}.bin"
        if path.exists():
            return path.read_bytes()
    if "path" in ref:
        return Path(ref["path"]).read_bytes()
    raise FileNotFoundError(f"blob {sha} not found")
