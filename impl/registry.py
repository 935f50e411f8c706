"""Registry of optimized replacements for named spec functions (the EELS "optimized" model).

``impl/`` and ``gpu/`` modules decorate functions with :func:`replaces`. Selecting a backend
(:func:`use_backend`) patches every spec module as it is loaded (and the ones already loaded),
so the whole spec test suite and the vector checker run against the replacements.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

BACKENDS = ("spec", "impl", "gpu")


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


def replaces(module: str, name: str | None = None, *, backend: str = "impl", factory: bool = False):
    """Register the decorated function as the ``backend`` replacement of ``module.name``."""
    if backend not in BACKENDS[1:]:
        raise ValueError(f"unknown backend {backend!r}")

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        _REPLACEMENTS.append(Replacement(backend, module, name or fn.__name__, fn, factory))
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


def replacements(backend: str) -> list[Replacement]:
    """The replacements in force for ``backend`` (gpu = impl overridden by gpu)."""
    if backend == "spec":
        return []
    discover(backend)
    chosen: dict[tuple[str, str], Replacement] = {}
    for layer in ("impl", "gpu") if backend == "gpu" else ("impl",):
        for r in _REPLACEMENTS:
            if r.backend == layer:
                chosen[(r.module, r.name)] = r
    return list(chosen.values())


def all_replacements() -> list[Replacement]:
    discover("gpu")
    return list(_REPLACEMENTS)


def spec_module_name(module: types.ModuleType) -> str:
    return module.__name__.rsplit(".", 1)[1]


def _patch(module: types.ModuleType) -> None:
    originals = module.__dict__.setdefault("__spec_originals__", {})
    for r in replacements(_active):
        if r.module != spec_module_name(module):
            continue
        if r.name not in module.__dict__ and r.name not in originals:
            raise LookupError(f"{r.backend} replaces {r.module}.{r.name}, which the spec does not define")
        originals.setdefault(r.name, module.__dict__[r.name])
        module.__dict__[r.name] = r.function(module) if r.factory else r.function


def _unpatch(module: types.ModuleType) -> None:
    for name, original in module.__dict__.pop("__spec_originals__", {}).items():
        module.__dict__[name] = original


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
    for module in spec_package.loaded_modules():
        _unpatch(module)
    _active = backend
    if _patch not in spec_package.post_load_hooks:
        spec_package.post_load_hooks.append(_patch)
    for module in spec_package.loaded_modules():
        _patch(module)


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
