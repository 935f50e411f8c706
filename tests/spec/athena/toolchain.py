"""Build the C and assembly test programs in ``programs/`` with Debian's RISC-V GCC + picolibc.

Builds are reproducible (fixed flags, no build id, stripped, sources compiled from this
directory with their paths mapped away) and cached per session. ``build(name)`` skips the
calling test with a clear message when the cross toolchain is not installed.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from smspec.conformance.cases import record_provenance

PROGRAMS = Path(__file__).parent / "programs"
GCC = "riscv64-unknown-elf-gcc"
COMMON = [
    "-march=rv32em", "-mabi=ilp32e", "-mno-relax", "-nostartfiles", "-static", "-s",
    "-Wl,--no-relax", "-Wl,--build-id=none", f"-ffile-prefix-map={PROGRAMS}=.",
    "-T", str(PROGRAMS / "athena.ld"), "-I", str(PROGRAMS),
]
SOURCES = {
    "isa": (["start.S", "isa.c"], ["-O2", "--specs=picolibc.specs"], ["-lgcc"]),
    "wallet": (["start.S", "wallet.c"], ["-O2", "--specs=picolibc.specs"], ["-lgcc"]),
    "receiver": (["start.S", "receiver.c"], ["-O2", "--specs=picolibc.specs"], ["-lgcc"]),
    "loop": (["loop.S"], ["-nostdlib"], []),
}
MISSING = (
    "the RISC-V cross toolchain is not installed (riscv64-unknown-elf-gcc and "
    "picolibc-riscv64-unknown-elf; scripts/setup-system.sh installs them)"
)


def toolchain_available() -> bool:
    return shutil.which(GCC) is not None and Path("/usr/lib/picolibc/riscv64-unknown-elf").exists()


@functools.cache
def _build(name: str) -> bytes:
    sources, flags, libraries = SOURCES[name]
    with tempfile.TemporaryDirectory() as directory:
        output = Path(directory) / f"{name}.elf"
        command = [GCC, *flags, *COMMON, "-o", str(output), *(str(PROGRAMS / s) for s in sources), *libraries]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"building {name} failed:\n{result.stderr}")
        shown = [part.replace(str(PROGRAMS) + "/", "").replace(str(PROGRAMS), ".") for part in command]
        shown[shown.index("-o") + 1] = f"{name}.elf"
        version = subprocess.run([GCC, "--version"], capture_output=True, text=True, check=False).stdout
        files = {part: (PROGRAMS / part).read_text() for part in [*sources, "athena.ld", "athena.h"]}
        return record_provenance(output.read_bytes(), {
            "language": "c", "files": files,
            "built_with": " ".join(shown) + f" (in tests/spec/athena/programs; {version.splitlines()[0]}, "
            "picolibc-riscv64-unknown-elf)",
        })


def build(name: str) -> bytes | None:
    """The ELF bytes of program `name`.

    Without the toolchain: under pytest the calling test is skipped; elsewhere (``smspec vectors
    generate``) a warning is printed and None returned, and the vector source yields no cases.
    """
    if not toolchain_available():
        if "PYTEST_CURRENT_TEST" in os.environ:
            pytest.skip(MISSING)
        print(f"warning: athena compiled-program vectors left out: {MISSING}", file=sys.stderr)
        return None
    return _build(name)


def source_digest(name: str) -> str:
    """sha256 over the sources and flags of `name` (identifies a reproducible build)."""
    sources, flags, libraries = SOURCES[name]
    digest = hashlib.sha256()
    for part in [*sources, "athena.ld", "athena.h"]:
        digest.update((PROGRAMS / part).read_bytes())
    digest.update(" ".join(flags + libraries).encode())
    return digest.hexdigest()
