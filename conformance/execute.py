"""Running cases through handlers, and writing / reading vector files.

Vector layout (see ``conformance/formats/README.md``)::

    vectors/<preset>/<domain>/<runner>/<handler>/<case>/case.json
    vectors/blobs/<sha256>.bin
    vectors/index.json          sha256 of every case file and blob
"""

from __future__ import annotations

import hashlib
import importlib
import json
import pkgutil
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smspec.conformance import handlers as handler_registry
from smspec.conformance.cases import SOURCES, Case, VectorSource, input_sources, to_json
from smspec.conformance.levels import level_of
from smspec.conformance.runner import (  # noqa: F401 - one comparison for the generator, checker and runner
    INDEX_FORMAT,
    VECTOR_FORMAT,
    StoredCase,
    describe_difference,
    load_cases,
    outcome_matches,
    selected,
    show_outcome,
)

FORMAT = VECTOR_FORMAT


def canonical_json(value: Any) -> str:
    """The one byte-exact JSON text of a value (sorted keys, no floats expected, LF at the end)."""
    return json.dumps(value, sort_keys=True, indent=1, ensure_ascii=True) + "\n"


def spec_accessor(preset: str):
    from smspec import spec

    def get(name: str) -> Any:
        return spec.load(name, preset)

    return get


def run_handler(key: str, inputs: dict[str, Any], preset: str) -> dict[str, Any]:
    """Run one case; the outcome is ``{"output": ...}`` or ``{"error": Class, "reason": r}``."""
    from smspec.spec.errors import SpecError

    handlers = handler_registry.discover()
    if key not in handlers:
        raise LookupError(f"no handler for {key}")
    schema = handlers[key].schema
    if schema is not None:
        inputs = schema.complete(inputs)
    try:
        output = handlers[key].function(inputs, spec_accessor(preset))
    except SpecError as e:
        return {"error": type(e).__name__, "reason": e.reason}
    return {"output": to_json(output)}


def expected_outcome(case: Case) -> dict[str, Any] | None:
    """The known outcome of a case; None for a case whose output is recorded from the spec
    (``check=``). A case that expects nothing is refused (:class:`UncheckedCase`)."""
    case.validate()
    if case.expected is not None:
        return {"output": to_json(case.expected)}
    if case.error is not None:
        outcome: dict[str, Any] = {"error": case.error}
        if case.reason is not None:
            outcome["reason"] = case.reason
        return outcome
    return None


class CaseFailure(AssertionError):
    pass


@dataclass
class CaseRun:
    """One case run through its handler: the JSON inputs, their blobs, and both outcomes."""

    inputs: dict[str, Any]
    blobs: dict[str, bytes]
    got: dict[str, Any]
    want: dict[str, Any] | None  # None: an output recorded from the spec, judged by `case.check`
    case: Case

    schema_problems: list[str] = field(default_factory=list)

    @property
    def failure(self) -> str | None:
        """Why the outcome contradicts what the case knows or what the handler's schema says, or None."""
        if self.schema_problems:
            return "disagrees with the handler's schema: " + "; ".join(self.schema_problems[:5])
        if self.want is not None:
            return None if outcome_matches(self.want, self.got) else describe_difference(self.want, self.got)
        if "output" not in self.got:
            return f"expected an output, got {show_outcome(self.got)}"
        assert self.case.check is not None  # Case.validate: no `want` means a check
        try:
            self.case.check(self.got["output"])
        except AssertionError as e:
            return f"output contradicts what is known of it: {e or 'assertion failed'}"
        return None

    @property
    def contradicts_known_answer(self) -> bool:
        return self.failure is not None


def run_case(key: str, case: Case, preset: str) -> CaseRun:
    """Convert a case's inputs to JSON (registering its blobs) and run them through the handler.
    A case that expects nothing is refused before it runs (:class:`UncheckedCase`)."""
    want = expected_outcome(case)
    blobs: dict[str, bytes] = {}
    inputs = to_json(case.inputs, blobs)
    for sha, data in blobs.items():
        handler_registry.register_blob(sha, data)
    handler = handler_registry.discover().get(key)
    if handler is None:
        raise LookupError(f"no handler for {key}")
    problems = ["the handler has no schema"] if handler.schema is None else []
    if handler.schema is not None:
        inputs = handler.schema.complete(inputs)
    got = run_handler(key, inputs, preset)
    if handler.schema is not None:
        problems = handler.schema.problems(inputs, got)
    return CaseRun(inputs, blobs, got, want, case, problems)


def check_source(source: VectorSource) -> None:
    """The pytest body of a vector source: run each case and check known answers."""
    failures = []
    cases = source.cases()
    for preset in source.presets:
        for case in cases:
            failure = run_case(source.key, case, preset).failure
            if failure is not None:
                failures.append(f"{preset}/{source.key}/{case.name}: {failure}")
    if failures:
        raise CaseFailure("\n".join(failures))


def discover_sources() -> list[VectorSource]:
    """Import every spec test module so their vector sources register."""
    import smspec.tests as tests_package

    for info in pkgutil.walk_packages(tests_package.__path__, prefix="smspec.tests."):
        if ".spec" in info.name and info.name.rsplit(".", 1)[-1].startswith("test_"):
            importlib.import_module(info.name)
    # pytest may import a test module under a second name (tests.spec...); keep one of each.
    unique: dict[tuple[str, str, str], VectorSource] = {}
    for source in SOURCES:
        module_tail = source.module.split("tests.", 1)[-1]
        unique.setdefault((source.key, module_tail, source.function.__qualname__), source)
    return sorted(unique.values(), key=lambda s: (s.key, s.module))


@dataclass
class GeneratedCase:
    path: str  # relative: <preset>/<domain>/<runner>/<handler>/<case>/case.json
    text: str
    blobs: dict[str, bytes]


def generate_cases(sources: Iterable[VectorSource], presets: set[str] | None = None,
                   only: list[str] | None = None, skip: list[str] | None = None) -> Iterator[GeneratedCase]:
    """Produce the vector files of ``sources`` (the cases ``only``/``skip`` select); expected
    outcomes come from the spec backend."""
    for source in sources:
        try:
            source_cases = source.cases()
        except BaseException as e:  # pytest.skip() inside a source: a missing optional tool
            if type(e).__name__ != "Skipped":
                raise
            warnings.warn(f"vector source {source.key} ({source.function.__name__}) skipped: {e}", stacklevel=2)
            continue
        for preset in source.presets:
            if presets is not None and preset not in presets:
                continue
            for case in source_cases:
                if not selected(f"{source.key}/{case.name}", only or [], skip or []):
                    continue
                run = run_case(source.key, case, preset)
                if run.failure is not None:
                    raise CaseFailure(f"{preset}/{source.key}/{case.name}: {run.failure}")
                inputs, blobs = run.inputs, run.blobs
                expected = dict(run.got)
                if "error" in expected and case.reason is None:
                    # Error reasons are normative only where the case names one.
                    expected.pop("reason", None)
                document = {
                    "format": FORMAT,
                    "manifest": {
                        "preset": preset,
                        "domain": source.domain,
                        "runner": source.runner,
                        "handler": source.handler,
                        "case": case.name,
                    },
                    "description": case.description,
                    "spec_ref": case.spec_ref,
                    "inputs": inputs,
                    "expected": expected,
                    "blobs": {sha: len(data) for sha, data in sorted(blobs.items())},
                }
                made = input_sources(case.inputs)
                if made:
                    document["sources"] = made
                document.update(level_of(f"{source.key}/{case.name}", run.got.get("reason"), case.strict,
                                         case.strict_why, case.untyped).fields())
                path = f"{preset}/{source.key}/{case.name}/case.json"
                yield GeneratedCase(path, canonical_json(document), blobs)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_index(cases: Iterable[GeneratedCase]) -> dict[str, Any]:
    from smspec import __version__
    from smspec.conformance.release import expected_digest

    files: dict[str, str] = {}
    blobs: dict[str, int] = {}
    expected: dict[str, str] = {}
    for c in cases:
        files[c.path] = sha256_text(c.text)
        expected[c.path] = expected_digest(json.loads(c.text)["expected"])
        for sha, data in c.blobs.items():
            blobs[sha] = len(data)
    return {
        "format": INDEX_FORMAT,
        "spec_version": __version__,
        "cases": dict(sorted(files.items())),
        "blobs": dict(sorted(blobs.items())),
        "expected": dict(sorted(expected.items())),
    }


def write_vectors(out: Path, cases: Iterable[GeneratedCase]) -> list[GeneratedCase]:
    written = []
    for c in cases:
        target = out / c.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(c.text, encoding="utf-8", newline="\n")
        for sha, data in c.blobs.items():
            blob = out / "blobs" / f"{sha}.bin"
            if not blob.exists():
                blob.parent.mkdir(parents=True, exist_ok=True)
                blob.write_bytes(data)
        written.append(c)
    return written


def load_vectors(root: Path) -> list[StoredCase]:
    """Every case under ``root`` (sorted by path), validated against the format (and against
    ``index.json`` where there is one); their blobs become readable by the handlers."""
    cases = load_cases(root)
    handler_registry.add_blob_dir(root / "blobs")
    return cases


def source_selected(key: str, only: list[str], skip: list[str]) -> bool:
    """Whether a vector source ``domain/runner/handler`` has cases the filters select: a PREFIX
    selects the cases whose ``domain/runner/handler/case`` starts with it (``runner.selected``)."""
    def reaches(pattern: str) -> bool:
        pattern = pattern.lstrip("/")
        return (key + "/").startswith(pattern) or pattern.startswith(key + "/")

    if only and not any(reaches(p) for p in only):
        return False
    return not any((key + "/").startswith(p.lstrip("/")) for p in skip)
