"""The wheel `pip install .` builds works without the checkout.

The wheel is built from a copy of the working tree (the files git would clone: tracked and
untracked-but-not-ignored), without build isolation and without the network, then installed
with ``--no-deps`` into a temporary virtual environment that sees the development venv's
site-packages through a ``.pth`` path line. A path line does not run the ``.pth`` files of that
directory, so the editable finder that maps ``smspec`` to the checkout is not loaded: the
test asserts that ``import smspec`` resolves to the installed wheel. Every command then runs
from a temporary directory outside the repository.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import smspec
from smspec.tests.spec.athena import toolchain

REPO = Path(__file__).resolve().parents[2]
# the folders of the import package (setup.py ROOTS) whose modules must all be in the wheel
SOURCE_FOLDERS = ("spec", "impl", "gpu", "conformance", "tools", "tests")
# data the code reads at run time, as the checkout holds it: (glob in the tree, its place in the wheel)
DATA = [
    ("spec/*.md", "smspec/spec/"),
    ("spec/presets/*.json", "smspec/spec/presets/"),
    ("gpu/*.cl", "smspec/gpu/"),
    ("conformance/formats/*.md", "smspec/conformance/formats/"),
    ("tests/spec/athena/programs/*", "smspec/tests/spec/athena/programs/"),
    ("tools/dashboard/static/*", "smspec/tools/dashboard/static/"),
]


def _run(command: list, cwd: Path, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                            env=env)
    assert result.returncode == 0, f"{command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The wheel built from a copy of the working tree, and pip's output of the build."""
    root = tmp_path_factory.mktemp("wheel")
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, check=True).stdout.decode().split("\0")
    source = root / "src"
    for name in filter(None, files):
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    build = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                  "-w", root / "dist", source], cwd=root)
    [built] = (root / "dist").glob("smspec-*.whl")
    return built, build.stdout + build.stderr


def test_wheel_holds_every_module_and_data_file(wheel: tuple[Path, str]) -> None:
    path, output = wheel
    # setuptools' warnings (SetuptoolsDeprecationWarning, "Package would be ignored", ...) print
    # as "<Class>Warning:"; pip's own notes are upper-case "WARNING:" and may come from the machine
    assert "Warning:" not in output, output
    names = set(zipfile.ZipFile(path).namelist())
    modules = {"smspec/" + p.relative_to(REPO).as_posix() for folder in SOURCE_FOLDERS
               for p in (REPO / folder).rglob("*.py") if "_root" not in p.parts and "__pycache__" not in p.parts}
    assert sorted(modules - names) == []
    assert "smspec/__init__.py" in names and "smspec/tools/_root/__init__.py" not in names
    for pattern, place in DATA:
        files = sorted(REPO.glob(pattern))
        assert files, pattern
        assert sorted(place + f.name for f in files if place + f.name not in names) == []
    metadata = zipfile.ZipFile(path).read(f"smspec-{smspec.__version__}.dist-info/METADATA").decode()
    assert "License-Expression: Apache-2.0" in metadata.splitlines()
    licence = zipfile.ZipFile(path).read(f"smspec-{smspec.__version__}.dist-info/licenses/LICENSE")
    assert licence == (REPO / "LICENSE").read_bytes()


def _loop_output(n: int) -> str:
    """programs/loop.S: the sum of (i*i mod 2^32) ^ i for i = n..1, as 4 little-endian bytes."""
    total = 0
    for i in range(n, 0, -1):
        total = (total + (((i * i) & 0xFFFFFFFF) ^ i)) & 0xFFFFFFFF
    return "0x" + struct.pack("<I", total).hex()


def _matching(cases: dict, prefixes: tuple[str, ...]) -> dict:
    return {key: value for key, value in cases.items() if key.split("/", 1)[1].startswith(prefixes)}


def test_installed_wheel_works_outside_the_checkout(wheel: tuple[Path, str], tmp_path: Path) -> None:
    if not toolchain.toolchain_available():
        pytest.skip(toolchain.MISSING + ": the devnet's wallet template cannot be built")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path)
    python = venv / "bin" / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=tmp_path).stdout.strip())
    # the development venv's dependencies, as a plain path (its .pth files, the editable finder among them, stay unread)
    (site / "smspec_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel[0]], cwd=tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    smspec_cli = venv / "bin" / "smspec"

    where = json.loads(_run([python, "-c", "import json, sys, smspec, smspec.tools.cli, smspec.tests.spec.athena.toolchain as t; "
                                          "print(json.dumps([smspec.__file__, smspec.tools.cli.__file__, str(t.PROGRAMS), "
                                          "[type(f).__name__ for f in sys.meta_path]]))"], cwd=work, env=env).stdout)
    for location in where[:3]:
        assert Path(location).is_relative_to(site / "smspec"), location
    assert not any("Editable" in name for name in where[3]), where[3]

    assert _run([smspec_cli, "--version"], cwd=work, env=env).stdout.strip() == f"smspec {smspec.__version__}"

    # the dashboard page is package data the node API serves (docs/dashboard.md)
    page = _run([python, "-c", "from smspec.tools.dashboard import asset; print(*(asset(n)[1] for n in "
                               "('index.html', 'dashboard.js', 'dashboard.css')))"], cwd=work, env=env).stdout.split()
    assert page == ["text/html;", "charset=utf-8", "text/javascript;", "charset=utf-8", "text/css;", "charset=utf-8"]

    # vectors from the installed spec and spec tests: byte-identical to the committed index
    prefixes = ("scale", "athena/programs")
    _run([smspec_cli, "vectors", "generate", "--dir", tmp_path / "vectors", "--quiet",
          *(x for p in prefixes for x in ("--only", p))], cwd=work, env=env)
    generated = json.loads((tmp_path / "vectors" / "index.json").read_text())["cases"]
    committed = json.loads((REPO / "vectors" / "index.json").read_text())["cases"]
    assert generated and generated == _matching(committed, prefixes)
    assert any(key.startswith("mainnet/athena/programs/call/wallet_") for key in generated)
    assert not (work / "vectors").exists()

    # the devnet: the wallet template is compiled from the installed programs/
    devnet = _run([smspec_cli, "devnet", "up", "--layers", "8", "--datadir", tmp_path / "devnet", "--json"],
                  cwd=work, env=env, timeout=300)
    summary = json.loads(devnet.stdout)
    assert (summary["agree"], summary["layers"]) == (True, 8)
    assert {node["applied"] for node in summary["nodes"].values()} == {7}
    assert sorted(os.listdir(tmp_path / "devnet" / "node0")).count("node.sqlite") == 1

    # an Athena program built with the installed toolchain helper, run by the installed CLI
    program = tmp_path / "loop.elf"
    _run([python, "-c", "import sys; from smspec.tests.spec.athena import toolchain; "
                        "open(sys.argv[1], 'wb').write(toolchain._build('loop'))", program], cwd=work, env=env)
    result = json.loads(_run([smspec_cli, "athena", "run", program, "--input", struct.pack("<I", 1000).hex()],
                             cwd=work, env=env).stdout)
    assert (result["status"], result["output"]) == ("SUCCESS", _loop_output(1000))
    assert sorted(os.listdir(work)) == []
