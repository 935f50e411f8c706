"""The child process of the OpenCL configuration probe (``gpu/opencl.py``).

Reads one JSON request on stdin (engine kind, device indices and identity, candidate
configurations, measurement parameters); builds, self-checks and times each candidate in turn
and writes one JSON line per candidate on stdout. It stops after the first candidate that fails,
so a driver left in a bad state cannot spoil the next verdict; the parent starts a fresh child
for the rest. A compiler abort or a segfault ends this process only.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys


def main() -> int:
    request = json.loads(sys.stdin.read())
    with contextlib.suppress(ValueError, OSError):  # a crashing compiler leaves no core file behind
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever a driver prints goes to stderr, never into the answers

    from smspec.gpu import opencl

    device_ref = opencl.Device(request["platform"], request["device"], tuple(request["identity"].items()))
    cls = opencl.engine_class(request["engine"])
    try:
        device = device_ref.get()
    except opencl.OpenCLUnavailable as e:
        for index, config in request["candidates"]:
            answers.write(json.dumps({"index": index, "result": opencl.failure(config, str(e))}) + "\n")
        answers.flush()
        return 0
    for index, config in request["candidates"]:
        result = opencl.try_candidate(cls, device, config, request["measure"])
        answers.write(json.dumps({"index": index, "result": result}) + "\n")
        answers.flush()
        if not result["ok"]:
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
