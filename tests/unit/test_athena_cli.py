"""``smspec athena run|selector``: JSON results, traces, and one-line errors."""

from __future__ import annotations

import json

import pytest
from smspec.impl import registry
from smspec.tests.spec.athena.asm import elf_program, raw_program
from smspec.tools.cli import main


@pytest.fixture(autouse=True)
def restore_backend():
    previous = registry.active_backend()
    yield
    registry.use_backend(previous)


# copies the 4-byte input to the output, stores it under storage key 1, returns
ECHO = """
echo:
  li t0, 0xF1
  lui a0, 3
  li a1, 4
  ecall
  li t0, 2
  li a0, 3
  lui a1, 3
  li a2, 4
  ecall
  lui a0, 2
  li t1, 1
  sw t1, 0(a0)
  li t0, 0xA1
  lui a1, 3
  ecall
  ret
"""


@pytest.mark.parametrize("backend", ["spec", "impl"])
def test_run_prints_result(tmp_path, capsys, backend):
    path = tmp_path / "echo.elf"
    path.write_bytes(elf_program(ECHO, exports={"athexp_echo": "echo"}))
    assert main(["athena", "run", str(path), "--method", "echo", "--input", "0xdeadbeef", "--gas", "1000",
                 "--backend", backend]) == 0
    result = json.loads(capsys.readouterr().out)
    key = "0x01" + "00" * 31
    assert result == {
        "status": "SUCCESS", "reason": None, "gas_used": 4 * 16, "gas_left": 1000 - 4 * 16, "steps": 16,
        "output": "0xdeadbeef",
        "storage_changes": {key: {"before": "0x" + "00" * 32, "after": "0xdeadbeef" + "00" * 28}},
    }


def test_trace_lines(tmp_path, capsys):
    path = tmp_path / "p.bin"
    path.write_bytes(raw_program("addi a0, zero, 5\nadd a1, a0, a0\naddi zero, zero, 1"))
    trace = tmp_path / "trace.jsonl"
    assert main(["athena", "run", str(path), "--trace", str(trace)]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 3
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    assert lines == [
        {"step": 1, "pc": "0x00000000", "instruction": "00500513", "writes": {"x10": "0x00000005"}, "gas": 4},
        {"step": 2, "pc": "0x00000004", "instruction": "00a505b3", "writes": {"x11": "0x0000000a"}, "gas": 8},
        {"step": 3, "pc": "0x00000008", "instruction": "00100013", "writes": {}, "gas": 12},
    ]


def test_failures_are_results(tmp_path, capsys):
    path = tmp_path / "bad.bin"
    path.write_bytes(raw_program("nop\n.word 0"))
    assert main(["athena", "run", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["reason"] == "undecodable_instruction"
    path.write_bytes(raw_program("ebreak"))
    assert main(["athena", "run", str(path), "--backend", "spec"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["status"], result["reason"], result["gas_left"]) == ("FAILURE", "breakpoint", 0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--input", "xyz"], "--input: not a hex string: 'xyz'"),
        (["--gas", "-1"], "argument --gas: expected a gas limit >= 0, got -1 (see `smspec athena run --help`)"),
        (["--method", "nope"], "exports no method 'nope' (exports: none)"),
        (["--storage", "01"], "--storage expects KEY=VALUE, got '01'"),
        (["--callee", "00"], "--callee: expected 24 bytes, got 1"),
    ],
)
def test_bad_input(tmp_path, capsys, argv, message):
    path = tmp_path / "p.bin"
    path.write_bytes(raw_program("nop"))
    assert main(["athena", "run", str(path), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("smspec: error: ") and err.endswith(message)


def test_missing_file_and_selector(capsys):
    assert main(["athena", "run", "/nonexistent/program.elf"]) == 2
    assert "PROGRAM '/nonexistent/program.elf' does not exist" in capsys.readouterr().err
    assert main(["athena", "selector", "test"]) == 0
    assert capsys.readouterr().out.strip() == "4878ca04"
