"""Vector cases and vector sources (the consensus-specs "yield" model).

A vector source is a spec test: a generator function that yields :class:`Case` objects. Run by
pytest, every case goes through its handler on the active backend and known answers are
checked; run by ``smspec vectors generate``, the cases are written to ``vectors/``.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

CASE_NAME = re.compile(r"^[a-z0-9_]+$")
MAX_SAFE_INT = 2**53 - 1


@dataclass(frozen=True)
class Blob:
    """A large artefact, written beside the vectors as ``blobs/<sha256>.bin``."""

    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Case:
    name: str
    inputs: dict[str, Any]
    expected: dict[str, Any] | None = None  # known answer; None: computed by the spec when generating
    error: str | None = None  # expected error class name
    reason: str | None = None  # expected error reason (optional)
    description: str = ""
    spec_ref: str = ""


@dataclass
class VectorSource:
    domain: str
    runner: str
    handler: str
    presets: tuple[str, ...]
    function: Callable[[], Iterator[Case]]
    module: str = field(default="")

    def cases(self) -> list[Case]:
        found = list(self.function())
        seen: set[str] = set()
        for case in found:
            if not CASE_NAME.match(case.name):
                raise ValueError(f"{self.key}: case name {case.name!r} must match [a-z0-9_]+")
            if case.name in seen:
                raise ValueError(f"{self.key}: duplicate case name {case.name!r}")
            if case.expected is not None and case.error is not None:
                raise ValueError(f"{self.key}/{case.name}: a case expects an output or an error, not both")
            seen.add(case.name)
        return found

    @property
    def key(self) -> str:
        return f"{self.domain}/{self.runner}/{self.handler}"


SOURCES: list[VectorSource] = []


def vector_source(domain: str, runner: str, handler: str, presets: tuple[str, ...] = ("mainnet",)):
    """Declare a generator of cases; the returned function is a pytest test that checks them."""

    def decorate(fn: Callable[[], Iterator[Case]]) -> Callable[[], None]:
        source = VectorSource(domain, runner, handler, tuple(presets), fn, fn.__module__)
        SOURCES.append(source)

        @functools.wraps(fn)
        def test() -> None:
            from smspec.conformance.execute import check_source

            check_source(source)

        test.vector_source = source  # type: ignore[attr-defined]
        return test

    return decorate


def to_json(value: Any, blobs: dict[str, bytes] | None = None) -> Any:
    """Convert case values to their JSON form: bytes -> 0x-hex, big ints -> decimal strings."""
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return str(value) if abs(value) > MAX_SAFE_INT else value
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, Blob):
        if blobs is not None:
            blobs[value.sha256] = value.data
        return {"blob": value.sha256, "size": len(value.data)}
    if isinstance(value, dict):
        return {str(k): to_json(v, blobs) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v, blobs) for v in value]
    raise TypeError(f"cannot put a {type(value).__name__} into a vector")
