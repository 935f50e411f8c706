"""Copying spec state objects for branching (tooling).

The spec keeps a node's state in mutable attrs objects (``hare.ProtocolState``,
``tortoise.Tortoise``) that its functions change in place; an explorer needs a private copy per
branch. :func:`snapshot` copies the mutable parts (mutable attrs instances, dicts, lists, sets)
and shares the immutable ones (frozen attrs instances, tuples, bytes, numbers), keeping any
sharing between objects (a memo, as ``copy.deepcopy``), so identity tests in the spec behave the
same on the copy. Nothing in the spec is changed for this.
"""

from __future__ import annotations

from typing import Any

import attrs

_ATOMS = (bytes, str, int, float, bool, type(None), frozenset)
_FROZEN: dict[type, bool] = {}


def _is_frozen(cls: type) -> bool:
    known = _FROZEN.get(cls)
    if known is None:
        known = _FROZEN[cls] = getattr(cls.__setattr__, "__name__", "") == "_frozen_setattrs"
    return known


def snapshot(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """A copy of ``value`` whose mutable parts are new objects (sharing preserved)."""
    if isinstance(value, _ATOMS):
        return value
    cls = type(value)
    frozen = _FROZEN.get(cls)
    if frozen is None and attrs.has(cls):
        frozen = _is_frozen(cls)
    if frozen:
        return value
    if memo is None:
        memo = {}
    known = memo.get(id(value))
    if known is not None:
        return known
    if isinstance(value, tuple):
        if all(isinstance(item, _ATOMS) for item in value):
            return value
        copied_tuple = tuple(snapshot(item, memo) for item in value)
        memo[id(value)] = copied_tuple
        return copied_tuple
    if isinstance(value, dict):
        copied_dict: dict[Any, Any] = {}
        memo[id(value)] = copied_dict
        for key, item in value.items():
            copied_dict[key] = snapshot(item, memo)
        return copied_dict
    if isinstance(value, list):
        copied_list: list[Any] = []
        memo[id(value)] = copied_list
        copied_list.extend(snapshot(item, memo) for item in value)
        return copied_list
    if isinstance(value, set):
        copied_set = set(value)
        memo[id(value)] = copied_set
        return copied_set
    if frozen is False:
        copied = object.__new__(cls)
        memo[id(value)] = copied
        for field in attrs.fields(cls):
            object.__setattr__(copied, field.name, snapshot(getattr(value, field.name), memo))
        return copied
    if hasattr(value, "__dataclass_fields__"):
        copied = object.__new__(cls)
        memo[id(value)] = copied
        for name in value.__dataclass_fields__:
            object.__setattr__(copied, name, snapshot(getattr(value, name), memo))
        return copied
    if hasattr(value, "__dict__") and not isinstance(value, type):
        raise TypeError(f"cannot snapshot a {cls.__name__}")
    return value  # functions, enums and other immutable values


def module_state(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """``__getstate__`` of an object holding spec modules: the modules by import name (a patched
    copy, which has no import name, cannot go to another process)."""
    import sys

    state = dict(obj.__dict__)
    for name in names:
        module = state.get(name)
        if module is None:
            continue
        if sys.modules.get(module.__name__) is not module:
            raise TypeError(f"the {name} module {module.__name__} is not importable: explore it in one process")
        state[name] = ("module", module.__name__)
    return state


def restore_modules(obj: Any, state: dict[str, Any], names: tuple[str, ...]) -> None:
    """``__setstate__`` counterpart of :func:`module_state`."""
    import importlib

    for name in names:
        value = state.get(name)
        if isinstance(value, tuple) and value and value[0] == "module":
            state[name] = importlib.import_module(value[1])
    obj.__dict__.update(state)
