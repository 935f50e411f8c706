"""Vector cases and vector sources (the consensus-specs "yield" model).

A vector source is a spec test: a generator function that yields :class:`Case` objects. Run by
pytest, every case goes through its handler on the active backend and known answers are
checked; run by ``smspec vectors generate``, the cases are written to ``vectors/``.

Every case says what it expects, in exactly one of three ways:

* ``expected=``: the whole output is known (a known answer, with its provenance);
* ``error=`` (and optionally ``reason=``): the input must be rejected with that error;
* ``check=``: the case expects an *output*, which the generator records from the spec; ``check``
  asserts what is known about it independently (some fields, a bound, a property). Where nothing
  is known independently, ``check=spec_output`` says so: the spec's output is the vector, and the
  case still fails when the spec raises.

A case with none of the three is refused (:class:`UncheckedCase`): under pytest it would pass
whatever the spec did.
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


OutputCheck = Callable[[Any], None]


class UncheckedCase(ValueError):
    """A case that expects nothing (no ``expected``, ``error`` or ``check``), or more than one."""


class UnexplainedCase(ValueError):
    """A case without a description, or whose ``spec_ref`` names no heading of the spec."""


def spec_output(output: Any) -> None:
    """The check of a case without an independent answer: the spec's output is the vector."""


def output_fields(**known: Any) -> OutputCheck:
    """A check that the output has these fields with these values (the rest comes from the spec)."""
    want = {name: to_json(value) for name, value in known.items()}

    def check(output: Any) -> None:
        assert isinstance(output, dict), f"expected an object, got {output!r}"
        wrong = [name for name in want if output.get(name, "<missing>") != want[name]]
        assert not wrong, "; ".join(f"{name}: expected {want[name]!r}, got {output.get(name, '<missing>')!r}"
                                    for name in wrong)

    return check


@dataclass(frozen=True)
class Case:
    name: str
    inputs: dict[str, Any]
    expected: dict[str, Any] | None = None  # the whole known output
    error: str | None = None  # expected error class name
    reason: str | None = None  # expected error reason (optional)
    description: str = ""
    spec_ref: str = ""
    check: OutputCheck | None = None  # an output recorded from the spec, checked by this (see above)
    strict: str = ""  # a spec-strict case: the section (document.md#anchor) of the Decision it follows
    strict_why: str = ""  # ... and what the live network does instead
    untyped: str = ""  # why a typed client cannot represent the input ("" when it can)

    def validate(self) -> None:
        """Raise :class:`UncheckedCase` unless the case expects exactly one kind of outcome."""
        kinds = [kind for kind, given in (("expected", self.expected is not None), ("error", self.error is not None),
                                          ("check", self.check is not None)) if given]
        if not kinds:
            raise UncheckedCase(f"case {self.name!r} expects nothing: give it expected=, error= or check= "
                                "(check=spec_output where the spec's output is the vector)")
        if len(kinds) > 1:
            raise UncheckedCase(f"case {self.name!r} expects {' and '.join(kinds)}: give exactly one")
        if self.reason is not None and self.error is None:
            raise UncheckedCase(f"case {self.name!r} names a reason without an error")

    def check_explained(self) -> None:
        """Raise :class:`UnexplainedCase` unless the case says what it exercises (a description)
        and where the spec states it (a ``spec_ref`` naming a heading of the documentation site)."""
        from smspec.conformance.specrefs import BadReference, resolve

        if not self.description.strip():
            raise UnexplainedCase(f"case {self.name!r} has no description")
        try:
            resolve(self.spec_ref)
        except BadReference as e:
            raise UnexplainedCase(f"case {self.name!r}: spec_ref {e}") from None
        if self.strict:
            from smspec.conformance.specrefs import has_decision

            try:
                decided = has_decision(self.strict)
            except BadReference as e:
                raise UnexplainedCase(f"case {self.name!r}: strict {e}") from None
            if not decided:
                raise UnexplainedCase(f"case {self.name!r}: strict {self.strict!r} holds no *Decision* paragraph")


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
            try:
                case.validate()
                case.check_explained()
            except (UncheckedCase, UnexplainedCase) as e:
                raise type(e)(f"{self.key}: {e}") from None
            seen.add(case.name)
        return found

    @property
    def key(self) -> str:
        return f"{self.domain}/{self.runner}/{self.handler}"


SOURCES: list[VectorSource] = []

class Built(bytes):
    """Bytes that remember how they were made (``source``: e.g. ``{"language": "riscv32-asm", "text":
    ..., "built_with": ...}``). A case whose inputs hold them carries that under ``sources``;
    anything computed from them (a slice, a concatenation) is plain bytes again."""

    source: dict[str, Any]

    def __new__(cls, data: bytes, source: dict[str, Any]) -> Built:
        made = super().__new__(cls, data)
        made.source = source
        return made


def record_provenance(data: bytes, how: dict[str, Any]) -> Built:
    """``data`` as :class:`Built` bytes that remember ``how`` they were made."""
    return Built(data, how)


def provenance(data: bytes) -> dict[str, Any] | None:
    return data.source if isinstance(data, Built) else None


def input_sources(inputs: Any, path: str = "") -> dict[str, dict[str, Any]]:
    """``{input path: provenance}`` for every byte string or blob of ``inputs`` whose making was
    recorded (paths like ``program`` or ``templates.0x00..01``)."""
    found: dict[str, dict[str, Any]] = {}
    if isinstance(inputs, Blob | bytes | bytearray):
        how = provenance(inputs.data if isinstance(inputs, Blob) else inputs)
        if how is not None:
            found[path] = how
    elif isinstance(inputs, dict):
        for key, value in inputs.items():
            found.update(input_sources(value, f"{path}.{key}" if path else str(key)))
    elif isinstance(inputs, list | tuple):
        for index, value in enumerate(inputs):
            found.update(input_sources(value, f"{path}[{index}]"))
    return found


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
        return {("0x" + bytes(k).hex() if isinstance(k, bytes | bytearray) else str(k)): to_json(v, blobs)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v, blobs) for v in value]
    raise TypeError(f"cannot put a {type(value).__name__} into a vector")
