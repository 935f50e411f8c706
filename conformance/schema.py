"""Handler schemas: what each vector kind takes, gives and refuses, written once.

A :class:`Schema` is attached to a handler (``@handler(..., schema=...)``). It is the single
source of

* the **format page** of the handler (``conformance/formats/handlers/<page>.md``, rendered by
  :func:`render_page`; ``tests/unit/test_format_pages.py`` keeps the committed pages equal to it);
* the **defaults**: an input with a default is written into every case that omits it
  (:meth:`Schema.complete`), so case files carry every input explicitly;
* the **check** of every case (:meth:`Schema.problems`): its inputs, its output fields and its
  error class and reason must be what the schema says, or the vector source fails (under pytest
  and in ``smspec vectors generate``). The page and the vectors cannot disagree.

Types are short strings (the JSON conventions are in ``formats/adapter.md``):

=====================  =====================================================================
``hex``                ``0x``-prefixed lower-case hex, any length
``hex:N``              exactly N bytes
``uint`` / ``uint:B``  a non-negative integer (below 2^B): a JSON number, or a decimal string
``int``                an integer, possibly negative, number or decimal string
``bool``, ``null``     JSON ``true``/``false``, ``null``
``text``               a JSON string
``enum:a,b``           one of the listed strings
``blob``               ``{"blob": sha256, "size": n}`` (plus ``"path"`` over the adapter protocol)
``json``               any JSON value (its shape is described in the field's text)
``list<T>``            a JSON array of T
``map<T>``             a JSON object with string keys and values of T
``{Name}``             an object of the record ``Name`` defined in the schema
``T|U``                either
=====================  =====================================================================
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)\Z")
_HEX = re.compile(r"0x([0-9a-f]{2})*\Z")
MAX_SAFE_INT = 2**53 - 1


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Computed:
    """A default computed from the other inputs (``what`` is how the page states it)."""

    what: str
    compute: Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    doc: str
    default: Any = MISSING  # a JSON value or a Computed; written into cases that omit the field
    optional: bool = False  # may be absent with no default (its absence has the meaning ``doc`` states)
    unless: str = ""  # the default applies only when this other input is absent

    @property
    def required(self) -> bool:
        return self.default is MISSING and not self.optional


def inp(name: str, type: str, doc: str, default: Any = MISSING, optional: bool = False, unless: str = "") -> Field:
    return Field(name, type, doc, default, optional, unless)


def out(name: str, type: str, doc: str, optional: bool = False) -> Field:
    return Field(name, type, doc, optional=optional)


@dataclass(frozen=True)
class Raises:
    """An error class the handler may answer, with the reasons a case may name (``()``: cases
    name none, only the class is compared)."""

    error: str
    reasons: tuple[str, ...]
    when: str


def raises(error: str, reasons: str | tuple[str, ...], when: str) -> Raises:
    return Raises(error, (reasons,) if isinstance(reasons, str) else tuple(reasons), when)


@dataclass(frozen=True)
class Record:
    name: str
    doc: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Schema:
    page: str  # the page's file name stem, e.g. "crypto-hash-hash32"
    summary: str  # what the handler computes (Markdown)
    spec: tuple[str, ...]  # spec references of the definitions it runs
    inputs: tuple[Field, ...]
    outputs: tuple[Field, ...]
    raises: tuple[Raises, ...] = ()
    records: tuple[Record, ...] = ()
    notes: tuple[str, ...] = ()  # order of checks, conventions particular to the handler (Markdown)
    one_of: tuple[tuple[str, ...], ...] = ()  # sets of inputs of which exactly one is given
    keys: list[str] = field(default_factory=list, compare=False)  # filled by the registry

    def record(self, name: str) -> Record:
        for r in self.records:
            if r.name == name:
                return r
        raise KeyError(f"{self.page}: no record {name!r}")

    # -----------------------------------------------------------------------------------------
    # defaults

    def complete(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """``inputs`` with every default written in (records too), in a new dict."""
        return _complete_fields(self, self.inputs, inputs)

    # -----------------------------------------------------------------------------------------
    # checking cases

    def problems(self, inputs: dict[str, Any], outcome: dict[str, Any]) -> list[str]:
        """Why a case (complete inputs, expected outcome) disagrees with the schema ([] if not)."""
        found = _field_problems(self, self.inputs, inputs, "inputs")
        for group in self.one_of:
            given = [name for name in group if name in inputs]
            if len(given) != 1:
                found.append(f"inputs: exactly one of {', '.join(group)} must be given, got {given or 'none'}")
        if "output" in outcome:
            output = outcome["output"]
            if not isinstance(output, dict):
                found.append("output: not an object")
            else:
                found += _field_problems(self, self.outputs, output, "output")
        elif "error" in outcome:
            declared = [r for r in self.raises if r.error == outcome["error"]]
            if not declared:
                found.append(f"error class {outcome['error']!r} is not one the schema lists")
            elif outcome.get("reason") is not None and not any(outcome["reason"] in r.reasons for r in declared):
                found.append(f"{outcome['error']} reason {outcome['reason']!r} is not one the schema lists")
        return found


def _complete_fields(schema: Schema, fields: tuple[Field, ...], given: dict[str, Any]) -> dict[str, Any]:
    done = dict(given)
    for f in fields:
        if f.name not in done and f.default is not MISSING and not (f.unless and f.unless in given):
            value = f.default.compute(done) if isinstance(f.default, Computed) else f.default
            done[f.name] = _copy(value)
        if f.name in done:
            done[f.name] = _complete_value(schema, f.type, done[f.name])
    return done


def _complete_value(schema: Schema, type_text: str, value: Any) -> Any:
    """Records inside a value get their defaults too (``{Name}``, ``list<{Name}>``, ``map<{Name}>``)."""
    alternatives = _split(type_text)
    if len(alternatives) > 1:
        for alternative in alternatives:
            if not _type_problems(schema, alternative, value, ""):
                return _complete_value(schema, alternative, value)
        return value
    t = type_text.strip()
    if t.startswith("{") and isinstance(value, dict):
        return _complete_fields(schema, schema.record(t[1:-1]).fields, value)
    if t.startswith("list<") and isinstance(value, list):
        return [_complete_value(schema, t[5:-1], v) for v in value]
    if t.startswith("map<") and isinstance(value, dict):
        return {k: _complete_value(schema, t[4:-1], v) for k, v in value.items()}
    return value


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _field_problems(schema: Schema, fields: tuple[Field, ...], value: dict[str, Any], where: str) -> list[str]:
    found = []
    names = {f.name for f in fields}
    for name in sorted(set(value) - names):
        found.append(f"{where}.{name}: not a field the schema lists")
    for f in fields:
        if f.name not in value:
            if f.required and not (f.unless and f.unless in value) and not _in_one_of(schema, f.name, where):
                found.append(f"{where}.{f.name}: missing")
            continue
        found += _type_problems(schema, f.type, value[f.name], f"{where}.{f.name}")
    return found


def _in_one_of(schema: Schema, name: str, where: str) -> bool:
    return where == "inputs" and any(name in group for group in schema.one_of)


def _split(type_text: str) -> list[str]:
    """Split ``T|U`` at the top level (not inside ``<...>``)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(type_text):
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(type_text[start:i])
            start = i + 1
    parts.append(type_text[start:])
    return [p.strip() for p in parts]


def _is_integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) <= MAX_SAFE_INT else None
    if isinstance(value, str) and _DECIMAL.match(value):
        return int(value)
    return None


def _type_problems(schema: Schema, type_text: str, value: Any, where: str) -> list[str]:
    alternatives = _split(type_text)
    if len(alternatives) > 1:
        reasons = [_type_problems(schema, a, value, where) for a in alternatives]
        if any(not r for r in reasons):
            return []
        return [f"{where}: {_show(value)} is none of {type_text}"]
    t = alternatives[0]
    fail = [f"{where}: {_show(value)} is not {t}"]
    if t == "json":
        return []
    if t == "null":
        return [] if value is None else fail
    if t == "bool":
        return [] if isinstance(value, bool) else fail
    if t == "text":
        return [] if isinstance(value, str) else fail
    if t.startswith("enum:"):
        return [] if value in t[5:].split(",") else fail
    if t == "hex" or t.startswith("hex:"):
        if not isinstance(value, str) or not _HEX.match(value):
            return fail
        return [] if t == "hex" or len(value) == 2 + 2 * int(t[4:]) else fail
    if t in ("uint", "int") or t.startswith("uint:"):
        number = _is_integer(value)
        if number is None or (t != "int" and number < 0):
            return fail
        return [] if not t.startswith("uint:") or number < 2 ** int(t[5:]) else fail
    if t == "blob":
        return [] if isinstance(value, dict) and set(value) == {"blob", "size"} else fail
    if t.startswith("list<"):
        if not isinstance(value, list):
            return fail
        return [p for i, v in enumerate(value) for p in _type_problems(schema, t[5:-1], v, f"{where}[{i}]")]
    if t.startswith("map<"):
        if not isinstance(value, dict):
            return fail
        return [p for k, v in value.items() for p in _type_problems(schema, t[4:-1], v, f"{where}[{k!r}]")]
    if t.startswith("{"):
        if not isinstance(value, dict):
            return fail
        return _field_problems(schema, schema.record(t[1:-1]).fields, value, where)
    raise ValueError(f"{schema.page}: unknown type {t!r}")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def type_names(type_text: str) -> list[str]:
    """The record names a type mentions (for the page's links)."""
    return re.findall(r"\{(\w+)\}", type_text)


# ---------------------------------------------------------------------------------------------
# pages


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _type_cell(type_text: str) -> str:
    """The type in a table cell: code, record names as links, ``|`` escaped."""
    parts = []
    for part in re.split(r"(\{\w+\})", type_text):
        if part.startswith("{") and part.endswith("}"):
            parts.append(f"[{part[1:-1]}](#{part[1:-1].lower()})")
        elif part:
            parts.append(f"`{part}`")
    return " ".join(parts).replace("|", "\\|")


def _default_cell(f: Field, one_of: tuple[tuple[str, ...], ...] = ()) -> str:
    if isinstance(f.default, Computed):
        text = f.default.what
    elif f.default is MISSING and any(f.name in group for group in one_of):
        text = "one of " + ", ".join(f"`{n}`" for group in one_of if f.name in group for n in group)
    elif f.default is MISSING:
        text = "optional" if f.optional else "required"
    else:
        import json

        text = "`" + json.dumps(f.default, sort_keys=True) + "`"
    return text + (f" (unless `{f.unless}` is given)" if f.unless else "")


def _field_table(fields: tuple[Field, ...], with_default: bool, one_of: tuple[tuple[str, ...], ...] = ()) -> list[str]:
    head = "| field | type | " + ("default | " if with_default else "") + "meaning |"
    lines = [head, "| --- | --- | " + ("--- | " if with_default else "") + "--- |"]
    for f in fields:
        default = f"{_default_cell(f, one_of)} | " if with_default else ""
        shown = f"`{f.name}`" + (" (optional)" if not with_default and f.optional else "")
        lines.append(f"| {shown} | {_type_cell(f.type)} | {default}{_cell(f.doc)} |")
    return lines


def render_page(schema: Schema) -> str:
    """The Markdown format page of one handler (deterministic)."""
    keys = sorted(schema.keys)
    title = keys[0] if len(keys) == 1 else f"{schema.page}"
    lines = [f"# `{title}`" if len(keys) == 1 else f"# {title}", ""]
    lines.append("<!-- generated from the handler's schema (conformance/handlers/); do not edit: "
                 "python -m smspec.conformance.pages --write -->")
    lines.append("")
    if len(keys) > 1:
        lines += ["Handlers: " + ", ".join(f"`{k}`" for k in keys) + " (one contract).", ""]
    lines += [schema.summary.strip(), ""]
    lines.append("Spec: " + ", ".join(f"[`{ref}`](../../../spec/{ref})" for ref in schema.spec) + ".")
    lines += ["", "JSON conventions (hex, integers, blobs, errors): [adapter.md](../adapter.md#json-conventions).", ""]
    lines += ["## Inputs", ""]
    if schema.one_of:
        for group in schema.one_of:
            lines.append("Exactly one of " + ", ".join(f"`{n}`" for n in group) + " is given.")
        lines.append("")
    lines += _field_table(schema.inputs, True, schema.one_of)
    lines += ["", "Every case file carries every input with a default explicitly (the default column is what "
              "the generator wrote).", "", "## Output", ""]
    lines += _field_table(schema.outputs, False)
    lines += ["", "## Errors", ""]
    if schema.raises:
        lines += ["| class | reasons | when |", "| --- | --- | --- |"]
        for r in schema.raises:
            reasons = ", ".join(f"`{x}`" for x in r.reasons) if r.reasons else "(class only)"
            lines.append(f"| `{r.error}` | {reasons} | {_cell(r.when)} |")
        lines += ["", "A client must answer the same class; where a case names a reason, the same reason too "
                  "(cases without `reason` compare the class only)."]
    else:
        lines.append("None: every input of this kind gives an output.")
    for record in schema.records:
        lines += ["", f"## {record.name}", "", record.doc.strip(), ""]
        lines += _field_table(record.fields, True)
    if schema.notes:
        lines += ["", "## Notes", ""]
        for note in schema.notes:
            lines += [f"* {note.strip()}"]
    return "\n".join(lines).rstrip() + "\n"
