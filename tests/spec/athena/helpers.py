"""Shared helpers of the Athena spec tests: expected outcomes of the ``run`` handler."""

from __future__ import annotations

from typing import Any

from smspec.conformance.cases import Case

from .asm import raw_program

GAS = 1_000_000


def outcome(
    steps: int,
    registers: dict[str, int] | None = None,
    pc: int | None = None,
    status: str = "SUCCESS",
    reason: str | None = None,
    extra_gas: int = 0,
    gas: int = GAS,
    output: str = "0x",
    storage: dict[str, str] | None = None,
    memory: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The full ``run`` output; `gas_used` is 4 per completed instruction plus `extra_gas`."""
    gas_used = 4 * steps + extra_gas
    return {
        "status": status,
        "reason": reason,
        "gas_used": gas_used,
        "gas_left": gas - gas_used if status == "SUCCESS" else 0,
        "steps": steps,
        "pc": 4 * steps if pc is None else pc,
        "registers": registers or {},
        "output": output,
        "storage": storage or {},
        "memory": memory or {},
    }


def raw_case(name: str, text: str, expected: dict[str, Any], description: str = "", spec_ref: str = "",
             **inputs: Any) -> Case:
    """A case running a raw-format program (code at address 0)."""
    return Case(name, inputs={"program": raw_program(text), **inputs}, expected=expected, description=description,
                spec_ref=spec_ref)
