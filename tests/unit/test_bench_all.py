"""`smspec bench all` and the measure records (tools/benchtable.py, tools/commands/bench.py): a peer
measured in the same run gives a ratio, one measured elsewhere never does, and the table and its
JSON carry every measure of every benchmark run. No timing is asserted: the benchmarks here are
stand-ins that record fixed figures."""

from __future__ import annotations

import argparse
import json
import types

import pytest
from smspec.tools import benchtable
from smspec.tools.commands import bench


def test_ratio_only_for_a_peer_measured_here():
    benchtable.take()
    here = benchtable.record("post", "proving, 16 nonces", "GiB per CPU-s", 2.0, "AES limit", 8.0)
    there = benchtable.elsewhere("post", "init", "labels per CPU-s", 900.0, "C scrypt-jane", "360-470", "issue 17")
    alone = benchtable.record("post", "k2pow", "hashes per CPU-s", 5.0)
    assert (here.ratio, here.source) == (0.25, benchtable.HERE)
    assert (there.ratio, there.peer_value, there.source) == (None, None, "measured elsewhere (issue 17)")
    assert there.peer == "C scrypt-jane: 360-470"
    assert (alone.ratio, alone.source) == (None, "")
    assert benchtable.take() == [here, there, alone]
    assert benchtable.take() == []
    lines = benchtable.table([here, there]).splitlines()
    assert lines[0].split() == ["bench", "measure", "ours", "unit", "peer", "or", "limit", "peer", "ratio", "source"]
    assert "0.25x" in lines[1] and "measured elsewhere (issue 17)" in lines[2]


def _fake(name: str, figure: float | None):
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--figure", type=float, default=figure)

    def run(args: argparse.Namespace) -> None:
        print(f"{name} ran")
        if args.figure is not None:
            benchtable.record(name, f"{name} speed", "ops per CPU-s", args.figure, "its limit", 4 * args.figure)

    return types.SimpleNamespace(add_arguments=add_arguments, run=run)


def test_bench_all_json_holds_every_measure(capsys):
    modules = {"one": _fake("one", 3.0), "two": _fake("two", 5.0), "mute": _fake("mute", None)}
    args = argparse.Namespace(only=None, skip=["two"], json=True)
    assert bench.run_all(args, modules) == 0
    out = capsys.readouterr()
    table = json.loads(out.out)
    assert [(m["bench"], m["ours"], m["peer_value"], m["ratio"]) for m in table["measures"]] == [("one", 3.0, 12.0, 0.25)]
    assert table["printed_only"] == {"mute": "mute ran\n"}
    assert "one ran" in out.err and "two ran" not in out.err


def test_bench_all_names_are_checked():
    parse = bench._names(["crypto", "post"])
    assert parse("post, crypto") == ["post", "crypto"]
    for bad in ("nosuch", "", "post,nosuch"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse(bad)
