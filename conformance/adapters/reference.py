"""The reference adapter: smspec itself answering the adapter protocol.

``smspec vectors serve`` runs this loop. It is what a client adapter looks like from the
outside, and lets the runner be tested end to end (``smspec vectors run --client "smspec
vectors serve"`` must pass every case).
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from smspec.conformance import handlers as handler_registry
from smspec.conformance.execute import run_handler


def answer(request: dict[str, Any]) -> dict[str, Any]:
    key = f"{request['domain']}/{request['runner']}/{request['handler']}"
    if key not in handler_registry.discover():
        return {"id": request["id"], "unsupported": True}
    outcome = run_handler(key, request["inputs"], request["preset"])
    return {"id": request["id"], **outcome}


def serve(stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    for line in stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        stdout.write(json.dumps(answer(request), sort_keys=True) + "\n")
        stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(serve())
