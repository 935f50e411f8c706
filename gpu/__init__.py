"""OpenCL kernels (``gpu/*.cl``) and their pyopencl drivers.

pocl provides a CPU OpenCL platform where no GPU exists, so the kernels run (slowly) in CI.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

KERNEL_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def opencl_available() -> bool:
    """Whether pyopencl is installed and sees at least one device."""
    try:
        import pyopencl as cl

        return any(p.get_devices() for p in cl.get_platforms())
    except Exception:
        return False


def kernel_source(name: str) -> str:
    """The text of ``gpu/<name>.cl``, or of ``<name>.cl`` in ``$SMSPEC_OPENCL_KERNELS`` when that
    directory has one (kernel development, and the tests that hand the self-check a broken
    kernel; the verdict cache is keyed by the text, so nothing is mixed up)."""
    override = os.environ.get("SMSPEC_OPENCL_KERNELS")
    if override and (Path(override) / f"{name}.cl").is_file():
        return (Path(override) / f"{name}.cl").read_text(encoding="utf-8")
    return (KERNEL_DIR / f"{name}.cl").read_text(encoding="utf-8")
