"""The shell commands in README.md and docs/*.md run as written.

Convention (docs/developing.md, "Commands in the documentation"):

* A fenced block tagged ``sh``, ``bash`` or ``console`` is runnable: every line of an ``sh``/
  ``bash`` block, and every ``$ `` line of a ``console`` block, is a command. A synopsis with
  placeholders (``DIR``, ``<hex>``, ``[--option]``) or an example that needs the reader's own
  data goes in a ``text`` block, which is never run.
* In a ``console`` block the lines after a command are its documented output: each must appear,
  in order, among the lines the command prints (a line ending in ``...`` is a prefix; a lone
  ``...`` elides).
* A command must exit 0 unless the HTML comment right above the block says otherwise:
  ``<!-- docs-test: status=1 -->``. ``needs=PROGRAM`` in the same comment (``<!-- docs-test:
  status=1 needs=node -->``) skips the block where PROGRAM is not on PATH (an example that drives
  another language's runtime, which smspec's set-up does not install).

Each block runs in a fresh workspace (a temporary directory holding links to the checkout's
files, the development venv first on PATH as after ``. .venv/bin/activate``, TMPDIR inside
it), with a ``./my-adapter`` (the reference adapter, standing in for a client's) and a
``vectors/`` directory holding the scale and crypto vectors. Port 9190 is replaced by free
ports. Special commands:

* ``make TARGET`` runs as ``make -n TARGET``: the target exists and its recipe parses (``make
  test`` is the suite running this test).
* A command with ``--serve`` starts in the background; once it says it is serving, the rest of
  the block runs against it (``node status``, ``tx send`` from "another terminal"), then it
  gets Ctrl-C (SIGINT) and must exit 0. Run as written, ``smspec devnet up --dashboard`` (which
  serves until Ctrl-C) starts in the background beside any ``--serve`` command and gets Ctrl-C
  (exit 0) once it prints its page's address.

Sizes: the default suite runs a ``smspec devnet up ... --serve`` with ``--layers 2`` appended
(and probes it), checks that the other ``smspec devnet up`` and the ``smspec bench`` commands
parse (argparse of the real CLI) without running them, and runs ``pytest`` commands with
``--collect-only``. Blocks holding such commands run once more exactly as written under
``-m slow`` (test_documented_commands_as_written: the devnet runs take 10-40 s each on a busy
2-core machine, the benchmarks and the spec suite minutes).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from smspec.tools.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
RUNNABLE = ("sh", "bash", "console")
DOC_PORT = "9190"
SERVING = "serving the API until interrupted"
DASHBOARD_READY = "dashboard: http://"  # `devnet up --dashboard` prints its page's address once it serves
TIMEOUT = 900  # seconds for one command as written (the spec suite on the impl backend)
FAST_TIMEOUT = 180


@dataclass
class Command:
    text: str
    output: list[str] = field(default_factory=list)  # documented output lines (console blocks)


@dataclass
class Block:
    document: str
    line: int
    commands: list[Command]
    status: int = 0
    needs: str = ""

    @property
    def name(self) -> str:
        return f"{self.document}:{self.line}"


FENCE = re.compile(r"^(?P<fence>`{3,})(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S)
DIRECTIVE = re.compile(r"<!--\s*docs-test:\s*(?P<body>[^>]*?)\s*-->\s*$")


def parse_blocks(text: str, document: str) -> list[Block]:
    """The runnable blocks of one Markdown text."""
    blocks = []
    for match in FENCE.finditer(text):
        language = match.group("info").strip().split(" ")[0]
        if language not in RUNNABLE:
            continue
        line = text.count("\n", 0, match.start()) + 1
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        status, needs = 0, ""
        directive = DIRECTIVE.search(before)
        if directive:
            for setting in directive.group("body").split():
                key, _, value = setting.partition("=")
                if key == "status" and value.isdigit():
                    status = int(value)
                elif key == "needs" and re.fullmatch(r"[\w.+-]+", value):
                    needs = value
                else:
                    raise ValueError(f"{document}:{line}: unknown docs-test directive {directive.group('body')!r}")
        commands: list[Command] = []
        for raw in match.group("body").splitlines():
            if language == "console":
                if raw.startswith("$ "):
                    commands.append(Command(raw[2:].strip()))
                elif raw.strip() and commands:
                    commands[-1].output.append(raw.rstrip())
            elif raw.strip() and not raw.lstrip().startswith("#"):
                commands.append(Command(raw.strip()))
        blocks.append(Block(document, line, commands, status, needs))
    return blocks


BLOCKS = [block for path in DOCUMENTS
          for block in parse_blocks(path.read_text(encoding="utf-8"), path.relative_to(REPO).as_posix())]


def _words(command: str) -> list[str]:
    return shlex.split(command, comments=True)


def _smspec_argv(command: str) -> list[str] | None:
    words = _words(command)
    if words and Path(words[0]).name == "smspec":
        return words[1:]
    return None


def is_devnet_up(command: str) -> bool:
    argv = _smspec_argv(command)
    return argv is not None and argv[:2] == ["devnet", "up"]


def is_bench(command: str) -> bool:
    argv = _smspec_argv(command)
    return argv is not None and argv[:1] == ["bench"]


def is_pytest(command: str) -> bool:
    words = _words(command)
    return bool(words) and Path(words[0]).name == "pytest"


def shrunk(command: str) -> str | None:
    """The default suite's form of a command (None: parse it only), or the command itself."""
    if is_devnet_up(command) and "--serve" in _words(command):
        return shlex.join([*_words(command), "--layers", "2"])
    if is_devnet_up(command) or is_bench(command):
        return None
    if is_pytest(command):
        return shlex.join([*_words(command), "--collect-only", "-q"])
    return command


def _free_port_base(count: int = 8) -> int:
    """A port P with P..P+count-1 free on 127.0.0.1 (node i of a devnet serves on P+i)."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count > 65535:
            continue
        sockets = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free port range")


@pytest.fixture(scope="session")
def prepared_vectors(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scale and crypto vectors (what `make vectors` writes, in part), for `vectors run`."""
    directory = tmp_path_factory.mktemp("docs-vectors") / "vectors"
    subprocess.run([REPO / ".venv" / "bin" / "smspec", "vectors", "generate", "--dir", directory, "--only", "scale",
                    "--only", "crypto", "--quiet"], check=True, capture_output=True, timeout=FAST_TIMEOUT)
    return directory


def workspace(root: Path, vectors: Path) -> tuple[Path, dict]:
    """A directory that looks like the checkout to the commands, and their environment."""
    work = root / "work"
    work.mkdir()
    for entry in REPO.iterdir():
        if entry.name not in {".git", "vectors", "build", "docs", "devnet"} and not entry.name.endswith(".egg-info"):
            (work / entry.name).symlink_to(entry)
    (work / "vectors").symlink_to(vectors)
    (work / "docs").mkdir()
    adapter = work / "my-adapter"
    adapter.write_text("#!/bin/sh\n# a client's adapter, here the reference one\nexec smspec vectors serve\n")
    adapter.chmod(0o755)
    (root / "tmp").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONPATH", "COV_"))}
    venv = REPO / ".venv"
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv),
               TMPDIR=str(root / "tmp"), COLUMNS="100")
    return work, env


def _check_output(command: Command, printed: str) -> None:
    lines = [line.rstrip() for line in printed.replace("\r", "\n").splitlines()]
    position = 0
    for expected in command.output:
        if expected.strip() in ("...", "…"):
            continue
        prefix = expected.endswith(("...", "…"))
        wanted = expected.rstrip(".…") if prefix else expected
        for index in range(position, len(lines)):
            if (lines[index].startswith(wanted) if prefix else lines[index] == wanted):
                position = index + 1
                break
        else:
            raise AssertionError(f"`{command.text}`: documented output line not printed (in order):\n"
                                 f"{expected}\n--- printed:\n{printed}")


def _run(command: str, work: Path, env: dict, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True, timeout=timeout)


def _interrupt(server: subprocess.Popen, block: Block, log: Path) -> None:
    """Ctrl-C a serving command: it must exit 0."""
    server.send_signal(signal.SIGINT)
    assert server.wait(timeout=120) == 0, f"{block.name}: the serving command after Ctrl-C:\n{log.read_text()}"


def _start_server(command: str, work: Path, env: dict, log: Path, timeout: float,
                  ready: str = SERVING) -> subprocess.Popen:
    """Start a --serve command; return once it prints `ready` (its SIGINT handler restored: Ctrl-C)."""
    handle = log.open("w")
    process = subprocess.Popen(["bash", "-c", "exec " + command], cwd=work, env=env, stdout=handle,
                               stderr=subprocess.STDOUT, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    handle.close()
    deadline = time.monotonic() + timeout
    while ready not in log.read_text():
        if process.poll() is not None:
            raise AssertionError(f"`{command}` exited with {process.returncode} before serving:\n{log.read_text()}")
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise AssertionError(f"`{command}` did not serve within {timeout} s:\n{log.read_text()}")
        time.sleep(0.2)
    return process


def run_block(block: Block, root: Path, vectors: Path, as_written: bool) -> None:
    work, env = workspace(root, vectors)
    port = str(_free_port_base())
    timeout = TIMEOUT if as_written else FAST_TIMEOUT
    server: subprocess.Popen | None = None
    log = root / "server.log"
    try:
        for command in block.commands:
            text = command.text.replace(DOC_PORT, port)
            words = _words(text)
            if words[:1] == ["make"]:
                result = _run(shlex.join(["make", "-n", *words[1:]]), work, env, timeout)
                assert result.returncode == 0, f"{block.name}: `{command.text}`: {result.stderr}"
                continue
            run = text if as_written else shrunk(text)
            if run is None:  # a devnet run or a benchmark: it must parse
                try:
                    build_parser().parse_args(_smspec_argv(text))
                except SystemExit as error:
                    raise AssertionError(f"{block.name}: `{command.text}` does not parse (exit {error.code})") from None
                continue
            if "--serve" in words:
                assert server is None, f"{block.name}: one --serve command per block"
                server = _start_server(run, work, env, log, timeout)
                continue
            if "--dashboard" in words and run == text:  # serves until Ctrl-C: once its page is up, Ctrl-C
                board_log = log.with_name("dashboard.log")
                _interrupt(_start_server(run, work, env, board_log, timeout, ready=DASHBOARD_READY), block, board_log)
                continue
            result = _run(run, work, env, timeout)
            printed = result.stdout + result.stderr
            assert result.returncode == block.status, (
                f"{block.name}: `{command.text}` (ran as `{run}`) exited {result.returncode}, "
                f"expected {block.status}:\n{printed}")
            if run == text:
                _check_output(command, printed)
        if server is not None:
            _interrupt(server, block, log)
            server = None
    finally:
        if server is not None:
            server.kill()
            server.wait()


def _slow_in_default_suite(block: Block) -> bool:
    return any(shrunk(c.text) != c.text for c in block.commands)


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.name)
def test_documented_commands(block: Block, tmp_path: Path, prepared_vectors: Path) -> None:
    if block.needs and shutil.which(block.needs) is None:
        pytest.skip(f"{block.needs} is not installed; the block drives it")
    run_block(block, tmp_path, prepared_vectors, as_written=False)


@pytest.mark.slow
@pytest.mark.parametrize("block", [b for b in BLOCKS if _slow_in_default_suite(b)], ids=lambda b: b.name)
def test_documented_commands_as_written(block: Block, tmp_path: Path, prepared_vectors: Path) -> None:
    if block.needs and shutil.which(block.needs) is None:
        pytest.skip(f"{block.needs} is not installed; the block drives it")
    run_block(block, tmp_path, prepared_vectors, as_written=True)


def test_the_runnable_blocks_are_found() -> None:
    """The documents the README points a new user at keep runnable commands (not just text)."""
    names = {block.document for block in BLOCKS}
    assert {"README.md", "docs/devnet.md", "docs/clients.md", "docs/hare.md"} <= names
    commands = [c.text for block in BLOCKS for c in block.commands]
    assert "smspec devnet up --tcp --api-port 9190 --serve --datadir ./devnet" in [c.split("#")[0].strip()
                                                                                for c in commands]


def test_parse_blocks_convention() -> None:
    text = ("```text\nsmspec post init DIR\n```\n\n"
            "<!-- docs-test: status=1 -->\n```console\n$ smspec a b  # comment\nout 1\n...\n$ smspec c\n```\n\n"
            "```sh\n# a comment line\nmake run   # trailing\n\nsmspec d\n```\n\n"
            "<!-- docs-test: status=1 needs=node -->\n```sh\nnode x.mjs\n```\n")
    blocks = parse_blocks(text, "x.md")
    assert [(b.name, b.status, b.needs, [(c.text, c.output) for c in b.commands]) for b in blocks] == [
        ("x.md:6", 1, "", [("smspec a b  # comment", ["out 1", "..."]), ("smspec c", [])]),
        ("x.md:13", 0, "", [("make run   # trailing", []), ("smspec d", [])]),
        ("x.md:21", 1, "node", [("node x.mjs", [])]),
    ]
    with pytest.raises(ValueError, match="unknown docs-test directive 'needs=a b;'"):
        parse_blocks("<!-- docs-test: needs=a b; -->\n```sh\nsmspec x\n```\n", "x.md")
    with pytest.raises(ValueError, match="x.md:2: unknown docs-test directive 'slow'"):
        parse_blocks("<!-- docs-test: slow -->\n```sh\nsmspec x\n```\n", "x.md")


def test_check_output_matches_in_order() -> None:
    command = Command("x", ["a", "b...", "...", "d"])
    _check_output(command, "a\nbcd\nc\nd\n")
    with pytest.raises(AssertionError, match="documented output line not printed"):
        _check_output(command, "bcd\na\nd\n")


def test_shrunk_forms() -> None:
    assert shrunk("smspec devnet up --tcp --api-port 9190 --serve  # API") == "smspec devnet up --tcp --api-port 9190 --serve --layers 2"
    assert shrunk("smspec devnet up --tcp --layers 16  # one process per node") is None
    assert shrunk("smspec bench devnet") is None
    assert shrunk(".venv/bin/pytest tests/spec/scale -q") == ".venv/bin/pytest tests/spec/scale -q --collect-only -q"
    assert shrunk("smspec devnet rules") == "smspec devnet rules"
