"""A deliberately wrong client adapter, to show how the runner reports failures.

It answers like the reference adapter, then breaks some answers on purpose, chosen by the
case id so runs are reproducible:

* id % 5 == 1: flips the last hex digit of the first hex string in the output;
* id % 5 == 2: answers an error case with the wrong error class (or a valid output with an error);
* id % 5 == 3: claims the case is unsupported (reported as skipped);
* other ids: correct.

Run: ``smspec vectors run --client "python -m smspec.conformance.adapters.broken_adapter"``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from smspec.conformance.adapters.reference import answer


def _flip_first_hex(value: Any) -> tuple[Any, bool]:
    if isinstance(value, str) and value.startswith("0x") and len(value) > 2:
        last = value[-1]
        return value[:-1] + ("0" if last != "0" else "1"), True
    if isinstance(value, dict):
        out = {}
        done = False
        for k in sorted(value):
            v = value[k]
            if not done:
                v, done = _flip_first_hex(v)
            out[k] = v
        return out, done
    if isinstance(value, list):
        items = []
        done = False
        for v in value:
            if not done:
                v, done = _flip_first_hex(v)
            items.append(v)
        return items, done
    if isinstance(value, int) and not isinstance(value, bool):
        return value + 1, True
    return value, False


def break_answer(good: dict[str, Any]) -> dict[str, Any]:
    case_id = good["id"]
    if case_id % 5 == 1 and "output" in good:
        output, _ = _flip_first_hex(good["output"])
        return {"id": case_id, "output": output}
    if case_id % 5 == 2:
        if "error" in good:
            return {"id": case_id, "error": "WrongErrorClass", "reason": "made_up"}
        return {"id": case_id, "error": "InvalidEncoding", "reason": "made_up"}
    if case_id % 5 == 3:
        return {"id": case_id, "unsupported": True}
    return good


def main() -> int:
    for line in sys.stdin:
        if line.strip():
            good = answer(json.loads(line))
            sys.stdout.write(json.dumps(break_answer(good), sort_keys=True) + "\n")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
