"""``smspec post devices`` and the OpenCL engine checks of ``post label`` / ``post init``.

``post devices`` lists every OpenCL platform and device, each engine's candidate configurations
with their self-check verdict and measured speed, and the configuration each engine runs
(gpu/opencl.py explains how it is chosen). The verdicts come from the on-disk cache, or are
probed now (in child processes) when the cache has none for the current drivers and kernels.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from smspec.tools.cli import CliError

KINDS = ("scrypt", "score")


def register_devices(post_subparsers: argparse._SubParsersAction) -> None:
    p = post_subparsers.add_parser(
        "devices", help="list OpenCL devices, their self-checked configurations and labels/s",
        description="List the OpenCL platforms and devices, and for each engine (scrypt labels, "
        "best-labels scores) every candidate configuration with its self-check verdict and measured "
        "speed, and the configuration the engine runs. Verdicts are cached per device, driver and "
        "kernel; the first run (or --fresh) builds, checks and times every candidate in child "
        "processes, which takes a minute or two on a CPU.")
    p.add_argument("--fresh", action="store_true", help="probe again instead of reading the cache")
    p.set_defaults(func=run_devices)


def _rate(result: dict[str, Any]) -> str:
    if not result["ok"]:
        return f"FAIL  {result['reason']}"
    text = "pass"
    if result.get("rate") is not None:
        text += f"  {result['rate']:>12,.0f} labels/s"
    if result.get("cpu_rate") is not None:
        text += f"  {result['cpu_rate']:>12,.0f} per CPU-second"
    return text


def run_devices(args: argparse.Namespace) -> int:
    from smspec.gpu import opencl

    try:
        devices = opencl.devices_to_consider()
    except opencl.OpenCLUnavailable as e:
        raise CliError(str(e)) from None
    platform = None
    for device in devices:
        info = device.info
        if device.platform_index != platform:
            platform = device.platform_index
            print(f"platform {platform}: {info['platform']} ({info['platform_version']})")
        print(f"  device {device.address}: {info['device']} [{info['type']}], driver {info['driver']}")
        for kind in KINDS:
            cls = opencl.engine_class(kind)
            try:
                results = opencl.verdicts(kind, device, fresh=args.fresh)
            except opencl.OpenCLUnavailable as e:
                raise CliError(str(e)) from None
            best = opencl.best_first(results)
            chosen = cls.describe(best[0]["config"]) if best else "none passes its self-check"
            print(f"    {cls.TITLE}: best {chosen}")
            for result in results:
                print(f"      {cls.describe(result['config']):<28} {_rate(result)}")
    for kind in KINDS:
        cls = opencl.engine_class(kind)
        try:
            choice = opencl.plan(kind)[0]
        except opencl.OpenCLUnavailable as e:
            print(f"{cls.TITLE} engine: none ({e})")
            continue
        device, result = choice
        print(f"{cls.TITLE} engine: device {device.address} ({device.info['device']}, {device.info['platform']} "
              f"{device.info['driver']}), {cls.describe(result['config'])}")
    return 0


def require_engine() -> None:
    """Build the OpenCL scrypt engine now (self-checked), or fail with a one-line CliError."""
    from smspec.gpu import opencl
    from smspec.gpu import post as gpu_post

    try:
        gpu_post.engine()
    except opencl.OpenCLUnavailable as e:
        raise CliError(str(e)) from None


def init_backend(requested: str | None) -> str:
    """The backend of ``post init``: the one asked for (opencl only when its engine passes its
    self-check, else a one-line error), or by default opencl when an engine passes, else cpu
    with a one-line notice."""
    if requested is not None:
        if requested == "opencl":
            require_engine()
        return requested
    try:
        require_engine()
    except CliError as e:
        reason = str(e).split("; use --backend cpu")[0]
        print(f"smspec: OpenCL is not usable ({reason}); initializing on the CPU", file=sys.stderr)
        return "cpu"
    return "opencl"
