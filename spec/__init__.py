"""The normative Spacemesh specification, written as Markdown documents.

Every ``spec/<name>.md`` is importable as ``smspec.spec.<name>``.  The Python that runs is
extracted from the document at import time by :mod:`smspec.spec._markdown`, so an edited
document takes effect on the next import and can never be stale.  Line N of the compiled code is
line N of the Markdown file: tracebacks, coverage and debuggers point into the document.

Each document is compiled once per preset (``mainnet``, ``testnet``, ``tiny``).  The plain name
``smspec.spec.post`` is the module of the active preset (environment variable ``SMSPEC_PRESET``,
default ``mainnet``); ``smspec.spec.tiny.post`` names a preset explicitly.  Inside a document,
``from smspec.spec.encoding import ...`` always resolves to the same preset as the importer.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import os
import re
import sys
import types
from collections.abc import Callable, Sequence
from pathlib import Path

from smspec.spec._markdown import SpecFormatError, compile_document, parse_document

SPEC_DIR = Path(__file__).resolve().parent
PRESETS = ("mainnet", "testnet", "tiny")
PACKAGE = __name__  # "smspec.spec"
_SPEC_IMPORT = re.compile(r"^from smspec\.spec\.([a-z0-9_]+) import")

__all__ = [
    "PRESETS",
    "SPEC_DIR",
    "SpecFormatError",
    "SpecImportCycle",
    "active_preset",
    "available_modules",
    "load",
    "loaded_modules",
    "post_load_hooks",
]


class SpecImportCycle(ImportError):
    """Spec modules import each other in a cycle (forbidden: the spec is a DAG)."""


def active_preset() -> str:
    """The preset that ``smspec.spec.<name>`` resolves to."""
    preset = os.environ.get("SMSPEC_PRESET", "mainnet")
    if preset not in PRESETS:
        raise ValueError(f"SMSPEC_PRESET={preset!r}: expected one of {', '.join(PRESETS)}")
    return preset


def available_modules() -> list[str]:
    """Names of all spec documents (``spec/*.md`` not starting with an underscore)."""
    names = {p.stem for directory in search_path for p in directory.glob("*.md")}
    return sorted(name for name in names if not name.startswith("_") and name.isidentifier())


# Directories searched for documents, in order. Tests append temporary directories.
search_path: list[Path] = [SPEC_DIR]


def document_path(name: str) -> Path:
    """The Markdown document of spec module ``name`` (may not exist)."""
    for directory in search_path:
        candidate = directory / f"{name}.md"
        if candidate.exists():
            return candidate
    return SPEC_DIR / f"{name}.md"


# Called as hook(module) after each spec module is executed; used by impl/gpu backends to
# install their replacements.  The spec itself never imports impl.
post_load_hooks: list[Callable[[types.ModuleType], None]] = []

_loading: list[str] = []


def loaded_modules() -> list[types.ModuleType]:
    """Every spec module (of any preset) imported so far."""
    prefixes = tuple(f"{PACKAGE}.{preset}." for preset in PRESETS)
    return [m for name, m in list(sys.modules.items()) if name.startswith(prefixes)]


def load(name: str, preset: str | None = None) -> types.ModuleType:
    """Import spec module ``name`` for ``preset`` (default: the active preset)."""
    return importlib.import_module(f"{PACKAGE}.{preset or active_preset()}.{name}")


def spec_imports(name: str) -> list[str]:
    """Names of the spec modules that document ``name`` imports."""
    doc = parse_document(document_path(name))
    found = []
    for code in doc.code_lines.values():
        match = _SPEC_IMPORT.match(code)
        if match:
            found.append(match.group(1))
    return found


def check_acyclic(name: str, chain: tuple[str, ...] = ()) -> None:
    """Raise :class:`SpecImportCycle` if document ``name`` reaches itself through its imports."""
    if name in chain:
        cycle = " -> ".join([*chain[chain.index(name):], name])
        raise SpecImportCycle(f"spec modules import each other in a cycle: {cycle}")
    for dep in spec_imports(name):
        if document_path(dep).exists():
            check_acyclic(dep, (*chain, name))


def depends_on_preset(name: str) -> bool:
    """Whether document ``name`` or anything it imports has preset parameters."""
    check_acyclic(name)
    doc = parse_document(document_path(name))
    if any(c.kind == "preset" for c in doc.constants):
        return True
    return any(depends_on_preset(dep) for dep in spec_imports(name) if document_path(dep).exists())


class _PresetPackageLoader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        module.__path__ = []  # a package with no files: its children come from the finder
        module.__doc__ = f"Spec modules compiled for the {module.__name__.rsplit('.', 1)[1]} preset."


class _DocumentLoader(importlib.abc.Loader):
    def __init__(self, name: str, preset: str, path: Path) -> None:
        self.name = name
        self.preset = preset
        self.path = path

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        check_acyclic(self.name)
        key = f"{self.preset}.{self.name}"
        _loading.append(key)
        try:
            code, check = compile_document(self.path, preset=self.preset, package=PACKAGE)
            module.__file__ = str(self.path)
            module.PRESET = self.preset  # type: ignore[attr-defined]
            exec(code, module.__dict__)
            check(module.__dict__)
        finally:
            _loading.pop()
        for hook in list(post_load_hooks):
            hook(module)

    def get_source(self, fullname: str) -> str:
        return self.path.read_text(encoding="utf-8")


class _AliasLoader(importlib.abc.Loader):
    """``smspec.spec.post`` is the very module object ``smspec.spec.<active>.post``."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return importlib.import_module(self.target)

    def exec_module(self, module: types.ModuleType) -> None:
        return None


class _SpecFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(PACKAGE + "."):
            return None
        parts = fullname[len(PACKAGE) + 1:].split(".")
        if len(parts) == 1 and parts[0] in PRESETS:
            return importlib.machinery.ModuleSpec(fullname, _PresetPackageLoader(), is_package=True)
        if len(parts) == 2 and parts[0] in PRESETS and document_path(parts[1]).exists():
            doc = document_path(parts[1])
            if parts[0] != PRESETS[0] and not depends_on_preset(parts[1]):
                # Identical under every preset: one module object (and one set of classes).
                canonical = f"{PACKAGE}.{PRESETS[0]}.{parts[1]}"
                return importlib.machinery.ModuleSpec(fullname, _AliasLoader(canonical))
            loader = _DocumentLoader(parts[1], parts[0], doc)
            return importlib.machinery.ModuleSpec(fullname, loader, origin=str(doc))
        if len(parts) == 1 and document_path(parts[0]).exists():
            target_name = f"{PACKAGE}.{active_preset()}.{parts[0]}"
            return importlib.machinery.ModuleSpec(fullname, _AliasLoader(target_name))
        return None


if not any(isinstance(f, _SpecFinder) for f in sys.meta_path):
    sys.meta_path.insert(0, _SpecFinder())
