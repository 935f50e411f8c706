"""Outcome wrappers of the SCALE compact helpers, spec vs impl, for CrossHair ``diffbehavior``.

Each wrapper returns ``("ok", result)`` or ``(error class name, reason)``, so two functions
agree exactly when they return equal tuples. The spec side always calls the spec's own
definitions, even when a backend has patched the module.
"""

from __future__ import annotations

from typing import Any

from smspec.impl import scale as impl
from smspec.spec import scale as spec_module
from smspec.spec.errors import SpecError

BITS = (8, 16, 32, 64)


def spec_function(name: str) -> Any:
    return spec_module.__dict__.get("__spec_originals__", {}).get(name) or getattr(spec_module, name)


def outcome(function: Any, *args: Any) -> tuple[Any, ...]:
    try:
        return ("ok", function(*args))
    except SpecError as error:
        return (type(error).__name__, error.reason)


def spec_encode_compact(value: int, selector: int) -> tuple[Any, ...]:
    return outcome(spec_function("encode_compact"), value, BITS[selector % 4])


def impl_encode_compact(value: int, selector: int) -> tuple[Any, ...]:
    return outcome(impl.encode_compact, value, BITS[selector % 4])


def spec_decode_compact(data: bytes, offset: int, selector: int) -> tuple[Any, ...]:
    return outcome(spec_function("decode_compact"), data, offset % (len(data) + 1), BITS[selector % 4])


def impl_decode_compact(data: bytes, offset: int, selector: int) -> tuple[Any, ...]:
    return outcome(impl.decode_compact, data, offset % (len(data) + 1), BITS[selector % 4])
