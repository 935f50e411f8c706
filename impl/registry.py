"""Registry of optimized replacements for named spec functions (the EELS "optimized" model).

``impl/`` and ``gpu/`` modules decorate functions with :func:`replaces`. Selecting a backend
(:func:`use_backend`) installs its replacements in every spec module loaded so far, of every
preset, and in each one loaded later, so the whole spec test suite and the vector checker run
against the replacements; selecting ``spec`` puts every spec definition back.

How a replacement is installed: by the identity of the spec function
--------------------------------------------------------------------
Spec documents import each other's definitions by name, as plain Python does
(``spec/hare.md``: ``from smspec.spec.crypto import vrf_prove, vrf_verify``), so one spec
function object is bound in the globals of its own module *and* of every document that imports
it (and of documents importing it from those). Setting only the defining module's attribute
would leave every importer calling whatever was bound when it loaded: the impl backend would
run spec code, or the spec backend impl code, depending on the order of switches.

So a replacement is installed wherever the original function object is bound: for each
replaced original, every global name of every loaded spec module (any preset) whose value *is*
that original is rebound to the replacement, and the name is recorded in that module's
``__spec_originals__`` (name -> original). Selecting another backend restores every recorded
name first. A document that loads while a backend is active imports replacements from its
(already patched) dependencies; the post-load hook maps those back to their originals, then
installs the module's own replacements and its imports' ones the same way. The spec documents
stay plain Python, and ``hare.vrf_prove`` is always the function in force.

Rules for replacements, which keep this exact:

* A factory (``factory=True``: ``function(spec_module) -> replacement``) is called afresh at
  every selection of its backend (its caches start empty; nothing it built survives into another
  backend), on its spec module holding only spec definitions: ``module.name`` or
  ``module.__spec_originals__[name]`` is the spec's own function, for exact fallbacks. Functions
  of *other* spec modules, and replaced functions the replacement means to call fast, are read
  from the module at call time (``spec.count_ballots_full(...)``).
* A spec function referenced other than by a global name (a default argument, a table of
  functions, a class attribute) would not be rebound; ``tests/unit/test_backend_isolation.py``
  checks that no spec module does that with a replaced function.

:func:`check_backend` verifies the result: under ``spec`` no global of a spec module is an
impl/gpu object; under ``impl``/``gpu`` no name still holds a replaced original and every
replacement is the active backend's.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

BACKENDS = ("spec", "impl", "gpu")
ORIGINALS = "__spec_originals__"  # per spec module: global name -> the spec function it held


@dataclass(frozen=True)
class Replacement:
    backend: str
    module: str  # spec module name, e.g. "scale"
    name: str  # spec function name
    function: Callable[..., Any]
    factory: bool  # function(spec_module) -> replacement


_REPLACEMENTS: list[Replacement] = []
_active = "spec"
_discovered: set[str] = set()
# For the active backend: id(original) -> (original, replacement, defining module, name), and
# the reverse id(replacement) -> originals (a plain replacement serves the modules of all presets).
_installed: dict[int, tuple[Callable[..., Any], Callable[..., Any], types.ModuleType, str]] = {}
_originals_of: dict[int, list[Callable[..., Any]]] = {}
_prepared: dict[int, types.ModuleType] = {}  # the spec modules whose replacements are in _installed


def replaces(module: str, name: str | None = None, *, backend: str = "impl", factory: bool = False):
    """Register the decorated function as the ``backend`` replacement of ``module.name``."""
    if backend not in BACKENDS[1:]:
        raise ValueError(f"unknown backend {backend!r}")

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        _REPLACEMENTS.append(Replacement(backend, module, name or fn.__name__, fn, factory))
        if backend in _layers(_active):
            # registered after its backend was selected (a module imported while it was being
            # discovered, e.g. SMSPEC_BACKEND set when an impl module is imported first)
            use_backend(_active)
        return fn

    return decorate


def discover(backend: str) -> None:
    """Import every module of ``smspec.impl`` (and ``smspec.gpu`` for the gpu backend)."""
    packages = ["smspec.impl"] + (["smspec.gpu"] if backend == "gpu" else [])
    for package_name in packages:
        if package_name in _discovered:
            continue
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            if not info.name.startswith("_") and info.name != "registry":
                importlib.import_module(f"{package_name}.{info.name}")
        _discovered.add(package_name)


def _layers(backend: str) -> tuple[str, ...]:
    """The registration layers of ``backend``, later ones overriding earlier ones."""
    return {"spec": (), "impl": ("impl",), "gpu": ("impl", "gpu")}[backend]


def replacements(backend: str) -> list[Replacement]:
    """The replacements in force for ``backend`` (gpu = impl overridden by gpu)."""
    if backend == "spec":
        return []
    discover(backend)
    chosen: dict[tuple[str, str], Replacement] = {}
    for layer in _layers(backend):
        for r in _REPLACEMENTS:
            if r.backend == layer:
                chosen[(r.module, r.name)] = r
    return list(chosen.values())


def all_replacements() -> list[Replacement]:
    discover("gpu")
    return list(_REPLACEMENTS)


def spec_module_name(module: types.ModuleType) -> str:
    return module.__name__.rsplit(".", 1)[1]


def original(module: types.ModuleType, name: str) -> Any:
    """The spec's own definition ``module.name``, whatever backend is installed."""
    return module.__dict__.get(ORIGINALS, {}).get(name, module.__dict__[name])


def _spec_modules() -> list[types.ModuleType]:
    """Every loaded spec module once (a preset-independent document is one module for all)."""
    import smspec.spec as spec_package

    unique: dict[int, types.ModuleType] = {}
    for module in spec_package.loaded_modules():
        unique.setdefault(id(module), module)
    return list(unique.values())


def _restore(module: types.ModuleType) -> None:
    for name, value in module.__dict__.pop(ORIGINALS, {}).items():
        module.__dict__[name] = value


def _normalize(module: types.ModuleType) -> None:
    """Map replacements a just-loaded module imported from patched modules back to originals."""
    for name, value in list(module.__dict__.items()):
        candidates = _originals_of.get(id(value))
        if not candidates or name == ORIGINALS:
            continue
        chosen = candidates[0]
        if len(candidates) > 1:
            # the same plain replacement serves every preset: take this module's preset's original
            preset = module.__dict__.get("PRESET")
            for candidate in candidates:
                defining = _installed[id(candidate)][2]
                if sys.modules.get(f"smspec.spec.{preset}.{spec_module_name(defining)}") is defining:
                    chosen = candidate
                    break
        module.__dict__.setdefault(ORIGINALS, {}).setdefault(name, chosen)
        module.__dict__[name] = chosen


def _prepare(module: types.ModuleType) -> None:
    """Build the active backend's replacements of ``module``'s definitions (module unpatched)."""
    if _prepared.get(id(module)) is module:
        return
    _prepared[id(module)] = module
    for r in replacements(_active):
        if r.module != spec_module_name(module):
            continue
        if r.name not in module.__dict__:
            raise LookupError(f"{r.backend} replaces {r.module}.{r.name}, which the spec does not define")
        spec_function = original(module, r.name)
        function = r.function(module) if r.factory else r.function
        _installed[id(spec_function)] = (spec_function, function, module, r.name)
        _originals_of.setdefault(id(function), []).append(spec_function)


def _rebind(module: types.ModuleType) -> None:
    """Bind every global of ``module`` that holds a replaced original to its replacement."""
    for name, value in list(module.__dict__.items()):
        entry = _installed.get(id(value))
        if entry is None or entry[0] is not value or name == ORIGINALS:
            continue
        module.__dict__.setdefault(ORIGINALS, {}).setdefault(name, value)
        module.__dict__[name] = entry[1]


def _on_load(module: types.ModuleType) -> None:
    """Post-load hook: install the active backend in a spec module that just loaded."""
    if _active == "spec":
        return
    _normalize(module)
    _prepare(module)
    _rebind(module)


def active_backend() -> str:
    return _active


def use_backend(backend: str) -> None:
    """Make ``backend`` the one every spec module (loaded now or later) runs with."""
    global _active
    import smspec.spec as spec_package

    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    if backend == "gpu":
        from smspec.gpu import opencl_available

        if not opencl_available():
            raise RuntimeError("the gpu backend needs an OpenCL platform (pyopencl + pocl or a GPU driver)")
    if _on_load not in spec_package.post_load_hooks:
        spec_package.post_load_hooks.append(_on_load)
    replacements(backend)  # import the impl/gpu modules before anything is installed
    _active = "spec"
    for module in _spec_modules():
        _restore(module)
    _installed.clear()
    _originals_of.clear()
    _prepared.clear()
    _active = backend
    if backend == "spec":
        return
    # Every replacement is built while every module is unpatched (a factory that loads another
    # spec module installs it through the hook; the loop picks up what it added).
    while True:
        pending = [m for m in _spec_modules() if _prepared.get(id(m)) is not m]
        if not pending:
            break
        for module in pending:
            _prepare(module)
    for module in _spec_modules():
        _rebind(module)


def installed() -> list[tuple[types.ModuleType, str, Callable[..., Any], Callable[..., Any]]]:
    """(defining spec module, name, spec function, replacement) of every replacement in force."""
    return [(module, name, fn, replacement) for fn, replacement, module, name in _installed.values()]


def _foreign(value: Any) -> bool:
    """Whether ``value`` is a function or class of impl/ or gpu/ (the registry's own excepted)."""
    module = getattr(value, "__module__", None)
    return (
        isinstance(value, (types.FunctionType, type))
        and isinstance(module, str)
        and module.startswith(("smspec.impl.", "smspec.gpu."))
        and module != __name__
    )


def foreign_bindings(module: types.ModuleType) -> list[str]:
    """The globals of ``module`` bound to impl/gpu functions or classes, as ``name = where``."""
    return [
        f"{module.__name__}.{name} = {value.__module__}.{value.__qualname__}"
        for name, value in module.__dict__.items()
        if name != ORIGINALS and _foreign(value)
    ]


def check_backend() -> None:
    """Raise ``RuntimeError`` unless every loaded spec module runs exactly the active backend.

    Under ``spec``: no global of a spec module is an impl/gpu function or class. Under ``impl`` or
    ``gpu``: no global still holds a replaced spec function, and every impl/gpu function bound is
    one of the active backend's replacements.
    """
    active = {id(entry[1]) for entry in _installed.values()}
    problems = []
    for module in _spec_modules():
        for name, value in module.__dict__.items():
            if name == ORIGINALS:
                continue
            if _foreign(value) and id(value) not in active:
                problems.append(f"{module.__name__}.{name} is {value.__module__}.{value.__qualname__}")
            entry = _installed.get(id(value))
            if entry is not None and entry[0] is value:
                problems.append(f"{module.__name__}.{name} is still the spec's under {_active}")
    if problems:
        raise RuntimeError(f"backend {_active} is not cleanly installed: " + "; ".join(problems))


def normalized_signature(fn: Callable[..., Any]) -> str:
    """A signature text where annotations are compared by name, not by object identity."""

    def text(annotation: Any) -> str:
        if annotation is inspect.Parameter.empty:
            return ""
        if isinstance(annotation, str):
            return annotation.replace("typing.", "")
        return getattr(annotation, "__name__", repr(annotation)).replace("typing.", "")

    sig = inspect.signature(fn)
    params = [f"{p.kind.name}:{p.name}:{text(p.annotation)}:{p.default!r}" for p in sig.parameters.values()]
    return f"({', '.join(params)}) -> {text(sig.return_annotation)}"


if os.environ.get("SMSPEC_BACKEND", "spec") != "spec":
    use_backend(os.environ["SMSPEC_BACKEND"])
