"""The shared input helpers of ``smspec.tools.cli``: bounded numbers, depth-limited JSON, checked
file reads and output paths. Each refusal is one exact error."""

from __future__ import annotations

import argparse
import io
import sys

import pytest
from smspec.tools.cli import (
    MAX_JSON_DEPTH,
    CliError,
    check_output,
    integer,
    integer_list,
    json_depth,
    load_json,
    read_input,
    real,
)


@pytest.mark.parametrize(("text", "message"), [
    ("-1", "expected a count >= 0, got -1"),
    ("11", "expected a count <= 10, got 11"),
    ("abc", "expected a count, got 'abc'"),
    ("1.5", "expected a count, got '1.5'"),
    ("", "expected a count, got ''"),
    ("9" * 5000, "expected a count, got 5000 characters"),
])
def test_integer_refuses(text, message):
    with pytest.raises(argparse.ArgumentTypeError, match="^" + message.replace("(", r"\(") + "$"):
        integer(0, 10, "a count")(text)


def test_integer_accepts_decimal_and_hex_and_keeps_its_bounds():
    parse = integer(0, 2**64 - 1, "a u64")
    assert parse("0") == 0 and parse("0x10") == 16 and parse(str(2**64 - 1)) == 2**64 - 1
    assert (parse.low, parse.high, parse.__name__) == (0, 2**64 - 1, "integer")  # type: ignore[attr-defined]


@pytest.mark.parametrize(("text", "message"), [
    ("nan", "expected a fraction, got 'nan'"),
    ("inf", "expected a fraction, got 'inf'"),
    ("-inf", "expected a fraction, got '-inf'"),
    ("1e999", "expected a fraction, got '1e999'"),
    ("-0.5", "expected a fraction >= 0, got -0.5"),
    ("2", "expected a fraction <= 1, got 2"),
    ("x", "expected a fraction, got 'x'"),
])
def test_real_refuses(text, message):
    with pytest.raises(argparse.ArgumentTypeError) as error:
        real(0, 1, "a fraction")(text)
    assert str(error.value) == message


def test_real_and_integer_list_accept():
    assert real(0, 1, "a fraction")("0.25") == 0.25
    assert integer_list(2, 64, "size")("2, 16,64") == [2, 16, 64]
    with pytest.raises(argparse.ArgumentTypeError, match="expected size <= 64, got 65"):
        integer_list(2, 64, "size")("2,65")
    with pytest.raises(argparse.ArgumentTypeError, match="expected 1 to 3 comma-separated sizes"):
        integer_list(2, 64, "size", max_items=3)("2,2,2,2")


def test_json_depth_skips_strings_and_counts_nesting():
    assert json_depth('{"a": [1, {"b": "[[[[\\"[["}]}') == 3
    assert json_depth("[" * 100_000) == 100_000


@pytest.mark.parametrize(("text", "message"), [
    ("[" * (MAX_JSON_DEPTH + 1), f"X is nested deeper than {MAX_JSON_DEPTH} levels"),
    ("{", "X is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    (b"\xff", "X is not UTF-8 text"),
])
def test_load_json_refuses(text, message):
    with pytest.raises(CliError) as error:
        load_json(text, "X")
    assert str(error.value) == message and error.value.status == 2


def test_load_json_accepts_the_maximum_depth():
    assert load_json("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, "X") == eval("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)


def test_read_input(tmp_path, monkeypatch):
    (tmp_path / "f").write_bytes(b"12345")
    assert read_input(tmp_path / "f", "F") == b"12345"
    cases = [
        (tmp_path / "missing", {}, f"F '{tmp_path / 'missing'}' does not exist"),
        (tmp_path, {}, f"F '{tmp_path}' is a directory, expected a file"),
        (tmp_path / "f", {"max_bytes": 4}, f"F '{tmp_path / 'f'}' is larger than 4 bytes"),
    ]
    for path, options, message in cases:
        with pytest.raises(CliError) as error:
            read_input(path, "F", **options)
        assert str(error.value) == message
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"abc")))
    assert read_input("-", "F") == b"abc"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"abcde")))
    with pytest.raises(CliError, match="F on standard input is larger than 4 bytes"):
        read_input("-", "F", max_bytes=4)


def test_check_output(tmp_path):
    (tmp_path / "file").write_text("")
    assert check_output(tmp_path / "new", "--out") == tmp_path / "new"
    assert check_output(tmp_path / "file", "--out") == tmp_path / "file"  # a file is replaced
    assert check_output(tmp_path / "new", "--out", directory=True) == tmp_path / "new"
    assert check_output(tmp_path, "--out", directory=True) == tmp_path
    cases = [
        (tmp_path, False, f"--out '{tmp_path}' is a directory, expected a file"),
        (tmp_path / "file", True, f"--out '{tmp_path / 'file'}' exists and is not a directory"),
        (tmp_path / "no" / "x", False, f"--out '{tmp_path / 'no' / 'x'}': the directory '{tmp_path / 'no'}' does not exist"),
        (tmp_path / "no" / "x", True, f"--out '{tmp_path / 'no' / 'x'}': the directory '{tmp_path / 'no'}' does not exist"),
    ]
    for path, directory, message in cases:
        with pytest.raises(CliError) as error:
            check_output(path, "--out", directory)
        assert str(error.value) == message
    assert not (tmp_path / "no").exists()
