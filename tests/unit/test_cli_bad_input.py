"""Every ``smspec`` subcommand, given bad input, answers one line and a nonzero status, in bounded
time and memory (issue 12, section 3).

The subcommands are discovered from :func:`smspec.tools.cli.build_parser`. Each has an entry in
:data:`COMMANDS`: a *base* invocation and the *kind* of each argument (hex of a size, an input
file, JSON, an output path, ...). The matrix replaces one argument of the base at a time with
every bad value of its kind; numbers typed with :func:`~smspec.tools.cli.integer` /
:func:`~smspec.tools.cli.real` and choices get their bad values from the parser itself (below,
above and far outside the bounds, not a number, nan). A new subcommand or a new option without
a kind fails :func:`test_every_argument_has_bad_input_cases` until it gets one.

The invocations run in two child processes that call ``main()`` repeatedly (a subprocess each
would cost half a second): each call has a wall-clock alarm, the child an address-space limit,
and each call's growth of the peak resident memory is measured. ``SMSPEC_DEBUG=1`` is set in the
children, so the catch-all of ``main()`` re-raises: any exception is a test failure here, never
hidden behind "internal error".

Accepted outcomes of a bad invocation: status 2 (or 1 for a command's negative verdict) and, on
standard error, nothing but one line starting ``smspec: error:``; a verdict (status 1) may
instead print its reason on standard output with nothing on standard error.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from smspec.tools import cli

CALL_SECONDS = 10.0  # wall-clock bound of one bad invocation (two busy cores; most take < 0.1 s)
CALL_PEAK_MIB = 256  # bound on how far one invocation may raise the child's peak resident memory
ADDRESS_SPACE_GIB = 3  # the child's address-space limit above what it has mapped at start
SHARDS = 2

# ---------------------------------------------------------------------------------------------
# Bad values per argument kind. "{name}" is a fixture path (see make_fixtures).

NOT_HEX = ["zz", "0x0", "0xzz", "0x0g"]
FILES = ["{missing}", "{dir}", "{huge}"]  # bad for every input file
CONTENTS = ["{binary}", "{empty}", "{text}", "{deep}", "{jsonlist}", "{jsonobject}"]  # bad for a structured file
DEEP = "[" * 100_000


def hex_of(size: int) -> list[str]:
    return [*NOT_HEX, "", "00" * (size - 1), "00" * (size + 1), "0x" + "00" * 60_000]


KINDS: dict[str, list[str]] = {
    "hex": NOT_HEX,  # any number of bytes is valid
    "blob": [*NOT_HEX, *FILES, "{binary}", "{empty}", "-"],  # HEX, a file of hex or raw bytes, or stdin
    "json": ["{", DEEP, '{"a": ' * 50_000, "null", "[]", "1", *FILES, *CONTENTS, "-"],  # JSON text or a file
    "json_file": [*FILES, *CONTENTS, "-"],  # a file holding JSON ('-': empty standard input)
    "message_file": FILES,  # any bytes are a message
    "program": FILES,  # any bytes are a program (a bad one is the VM's verdict)
    "trace_file": [*FILES, *CONTENTS, "{badtrace}", "{badtrace2}", "{badlegacy}", "{badlegacy2}"],
    # an existing directory with content: not there, a file, empty, or holding malformed files
    "in_dir": ["{missing}", "{text}", "{dir}", "{deepmeta}", "{binmeta}", "{dirmeta}", "{badnode}", "{badvectors}"],
    "new_dir": ["{text}", "{binary}", "{nodir}"],  # a directory created if missing (its parent must exist)
    "vectors_dir": ["{text}", "{binary}", "{nodir}", "{postdir}"],  # and not a directory of something else
    "out_file": ["{nodir}", "{dir}"],
    "sqlite": ["{nodir}", "{dir}", "{binary}", "{text}", "{huge}"],
    "url": ["garbage", "http://", "http://[::1", "ftp://127.0.0.1/", "http://127.0.0.1:99999",
            "http://127.0.0.1:-1", "http://%zz", "http://127.0.0.1:1"],
    "genesis_id": [*NOT_HEX, "00", "00" * 21],  # 20 bytes, or '' for none
    "domain": ["nosuch", "999", "-1", "9" * 5000],
    "time": ["9" * 5000, "99999999999999999999", "-99999999999999999999", "yesterday", "1e10", ""],
    "extra_data": ["", "x" * 256],
    "storage": ["noequals", "zz=00", "00=00", "00" * 32 + "=zz", "=", "00" * 32 + "=" + "00" * 33],
    "method": ["nosuch"],
    "crash": ["x", "1:2:3:4", "5:1", "0:5:2", "0:-1", "9" * 5000 + ":1", "0:" + "9" * 5000],
    "layers": ["a,b", "0", "-1", "1,,2", "9" * 5000, "3", ",".join(str(n) for n in range(1, 50_001))],
    "devnet_partition": ["x", "0/1", "0/1:2", "0,1:3:5", "0/0:3:5", "0/1:5:3", "0/1:0:2", "0/a:1:2",
                         "9" * 5000, "0/1:1:" + "9" * 5000],
    "partition": ["3", "a:b", "0:2", "1:0", "1:2:3:4", "1:2:nan", "1:2:2", "9" * 5000 + ":1", "1:" + "9" * 5000],
    "behaviours": ["nosuch", ",", "silent,nosuch"],
    "int_list": ["a", "0", "-1", "", "9" * 5000, "100000000"],
    "count_list": ["a", "-1", "", "1,,2", "9" * 5000, "100000000"],  # comma-separated counts, 0 allowed
    "elf_suite": ["{missing}", "{nodir}", "{dir}"],  # no ELF file there (a bad one is the VM's verdict)
    "backends": ["nosuch", "", "spec,nosuch"],
    "wallet": ["0xzz", "0x00", "not a name!", "0x" + "00" * 33],
    "tx_id": ["zz", "0x00", "../../etc/passwd", "0x" + "zz" * 32, "0x" + "00" * 33],
    "scale_type": ["nosuch", "{", DEEP, '{"option": ' * 10_000 + '"compact8"' + "}" * 10_000,
                   '{"slice": {"bytes": 0}, "max": 1073741823}', '{"array": {"bytes": 0}, "length": 100000000}',
                   '{"array": {"struct": []}, "length": 100000000}', '{"slice": "compact32"}', '{"bytes": -1}',
                   '{"bytes": 2.5}', '{"bytes": true}', '{"bytes": "1"}', '{"bytes": 1e400}',
                   '{"byte_slice": 99999999999999999999999}', '{"struct": 5}', '{"struct": [["a"]]}',
                   '{"struct": [["a", "compact8"], ["a", "compact8"]]}', '{"array": "compact8", "length": 2}',
                   '{"option": "bool"}', "[]", "null", "5"],
    "client": ["/no/such/program", "", "'unterminated"],
    "vrf_proof": [*NOT_HEX, "", "00" * 7, "00" * 81],  # 8 to 80 bytes (shorter is zero-filled)
    "library": [*FILES, "{text}", "{binary}"],  # a shared library (the C scrypt-jane)
    "cluster": ["local:0", "local:x", "local:999", "local:"],  # local:N or a Dask scheduler address
    "identity_names": ["", ",", "n0,,n0b", "bad name!", "../n0", "n\udcff", ",".join(["n"] * 300)],
    "selector": ["0xzz", "0x00", "0x" + "00" * 5, "not a name!", "", "x" * 5000],
    "hostport": ["garbage", "", "127.0.0.1", ":7190", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:-1",
                 "127.0.0.1:x", "9" * 5000],
}

# a node URL that is only passed on (smesher serve): the unreachable one of "url" is valid there
KINDS["url_syntax"] = [url for url in KINDS["url"] if url != "http://127.0.0.1:1"]
# a directory read leniently (smesher serve reports a malformed entry in its answers): must exist
KINDS["any_dir"] = ["{missing}", "{text}", "{binary}"]

NOT_UTF8 = "bad\udcff"  # what Python makes of a command-line argument holding the byte 0xff
KINDS["text"] = [NOT_UTF8]  # any other text is a valid message / name / seed string
KINDS["filter"] = ["nosuch/prefix", NOT_UTF8]
KINDS["report"] = ["junit"]  # FORMAT without FILE (bad pairs are extra invocations)  # an --only that selects nothing is an error

# Kinds whose every value is valid input. Each needs a reason.
FREE = {"skip": "an --skip prefix that matches nothing skips nothing"}


@dataclass
class Command:
    """One subcommand: a base invocation (valid apart from what the matrix replaces) and the kind
    of each argument (options by option string, positionals by dest)."""

    base: list[tuple[str, str | None]]
    kinds: dict[str, str] = field(default_factory=dict)
    extra: list[list[str]] = field(default_factory=list)  # hand-written bad invocations (argument combinations)
    exempt: str = ""  # why the subcommand has no bad-input cases
    root: list[str] = field(default_factory=list)  # global options before the command path


K32 = "11" * 32
TINY = ["--preset", "tiny"]  # the global option

COMMANDS: dict[str, Command] = {
    "athena run": Command(
        [("program", "{program}"), ("--gas", "1000")],
        {"program": "program", "--input": "hex", "--state": "hex", "--method": "method", "--storage": "storage",
         "--callee": "hex24", "--caller": "hex24", "--trace": "out_file"}),
    "athena selector": Command([("name", "athexp_spend")], {"name": "text"}),
    "atx decode": Command([("atx", "00")], {"atx": "blob"}),
    "atx encode": Command([("json", "{}")], {"json": "json"}),
    "atx id": Command([("atx", "00")], {"atx": "blob"}),
    "atx validate": Command(
        [("atx", "00"), ("--context", "{context}")],
        {"atx": "blob", "--context": "json", "--store": "sqlite"},
        extra=[["atx", "validate", "00", "--context", '{"config": 1}'],
               ["atx", "validate", "00", "--context", '{"config": {}, "history": [1]}'],
               ["atx", "validate", "00", "--context", '{"config": {}, "poet_proofs": 5}']]),
    "atx verify-proof": Command([("proof", "00"), ("--context", "{context}")], {"proof": "blob", "--context": "json"}),
    "bench all": Command([("--only", "scale")], {"--only": "filter", "--skip": "filter"},
                         extra=[["bench", "all", "--only", "scale", "--skip", "scale"]]),
    "bench athena": Command([("--repeat", "1")], {"--elf": "elf_suite", "--sizes": "int_list"}),
    "bench atx": Command([("--seconds", "0.01")], {"--sizes": "int_list"}),
    "bench crypto": Command([("--seconds", "0.01")]),
    "bench devnet": Command([("--layers", "9"), ("--nodes-list", "1"), ("--smeshers-list", "1"), ("--no-tcp", None)],
                            {"--nodes-list": "int_list", "--smeshers-list": "int_list"}),
    "bench hare": Command([("--committees", "2"), ("--backends", "impl")],
                          {"--committees": "int_list", "--backends": "backends"}),
    "bench post": Command([("--no-init", None), ("--no-prove", None)], {"--scrypt-jane": "library"}),
    "bench post_best": Command([("--no-stats", None), ("--no-throughput", None)]),
    "bench scale": Command([("--seconds", "0.01")]),
    "bench sync": Command([("--sizes", "50"), ("--diffs", "0"), ("--spec-max", "50")],
                          {"--sizes": "int_list", "--diffs": "count_list"},
                          extra=[["bench", "sync", "--sizes", "10", "--diffs", "20"]]),
    "bench tortoise": Command([("--layers", "4"), ("--ballots", "1"), ("--backends", "impl")],
                              {"--backends": "backends", "--layers": "int_list"}),
    "check hare": Command(
        [("--members", "3"), ("--quiet", None)],
        {"--invariants": "behaviours", "--scheduler": "text", "--counterexample": "out_file"},
        extra=[["check", "hare", "--members", "3", "--byzantine", "3"],
               ["check", "hare", "--members", "3", "--search", "dfs", "--workers", "2"],
               ["check", "hare", "--members", "3", "--scheduler", "tcp://127.0.0.1:1"]]),
    "check tortoise": Command(
        [("--layers", "1"), ("--quiet", None)],
        {"--invariants": "behaviours", "--hare": "behaviours", "--votes": "behaviours", "--partition": "partition",
         "--scheduler": "text", "--counterexample": "out_file"},
        extra=[["check", "tortoise", "--layers", "2", "--partition", "1:1", "--honest", "1"],
               ["check", "tortoise", "--layers", "1", "--partition", "1:1"],
               ["check", "tortoise", "--layers", "1", "--honest", "2", "--split", "3"]]),
    "check claims": Command([("--quiet", None)], {"--only": "text"},
                            extra=[["check", "claims", "--only", "nosuch"]]),
    "crypto hash": Command(
        [("--text", "a")], {"--hex": "hex", "--text": "text", "--file": "message_file"},
        extra=[["crypto", "hash"], ["crypto", "hash", "--text", "a", "--hex", "00"]]),
    "crypto public-key": Command([("--seed", K32)], {"--seed": "hex32"}),
    "crypto sign": Command(
        [("--seed", K32), ("--domain", "atx"), ("--text", "a")],
        {"--seed": "hex32", "--domain": "domain", "--genesis-id": "genesis_id", "--hex": "hex", "--text": "text",
         "--file": "message_file"}),
    "crypto verify": Command(
        [("--public-key", K32), ("--signature", "00" * 64), ("--domain", "atx"), ("--text", "a")],
        {"--public-key": "hex32", "--signature": "hex64", "--domain": "domain", "--genesis-id": "genesis_id",
         "--hex": "hex", "--text": "text", "--file": "message_file"}),
    "crypto vrf-prove": Command([("--seed", K32), ("--text", "a")],
                                {"--seed": "hex32", "--hex": "hex", "--text": "text", "--file": "message_file"}),
    "crypto vrf-verify": Command(
        [("--public-key", K32), ("--proof", "00" * 80), ("--text", "a")],
        {"--public-key": "hex32", "--proof": "hex80", "--hex": "hex", "--text": "text", "--file": "message_file"}),
    "crypto genesis-id": Command([("--time", "1689321600"), ("--extra-data", "x")],
                                 {"--time": "time", "--extra-data": "extra_data"}),
    "crypto merkle-root": Command([("leaves", "00")], {"leaves": "hex"}),
    "devnet up": Command(
        [("--layers", "1"), ("--nodes", "1"), ("--quiet", None), ("--datadir", "{devnet}")],
        {"--datadir": "new_dir", "--crash": "crash", "--key-seed": "text", "--partition": "devnet_partition"},
        extra=[["devnet", "up", "--datadir", "{devnet}", "--nodes", "2", "--api-port", "65535"],
               ["devnet", "up", "--datadir", "{devnet}", "--nodes", "2", "--partition", "0/1:5:3"],
               ["devnet", "up", "--datadir", "{devnet}", "--nodes", "3", "--partition", "0/1:2:4"],
               ["devnet", "up", "--datadir", "{devnet}", "--clocked", "--partition", "0/1:2:4"],
               ["devnet", "up", "--datadir", "{devnet}", "--nodes", "2", "--byzantine", "2"],
               ["devnet", "up", "--datadir", "{devnet}", "--genesis", "testnet-like", "--units", "1"],
               ["devnet", "up", "--datadir", "{devnet}", "--nodes", "2", "--dashboard", "--api-port", "65535"],
               ["devnet", "up", "--datadir", "{text}", "--dashboard"],
               ["devnet", "up", "--datadir", "{devnet}", "--clocked", "--tcp"],
               ["devnet", "up", "--datadir", "{devnet}", "--clocked", "--layer-seconds", "1"],
               ["devnet", "up", "--datadir", "{devnet}", "--post", "best", "--genesis", "testnet-like"],
               ["devnet", "up", "--datadir", "{devnet}", "--set-size", "1"]]),
    "devnet init": Command(
        [("--datadir", "{devnet}"), ("--nodes", "1"), ("--genesis-in", "0")],
        {"--datadir": "new_dir", "--key-seed": "text"},
        extra=[["devnet", "init", "--datadir", "{devnet}", "--genesis", "testnet-like", "--units", "1"],
               ["devnet", "init", "--datadir", "{devnet}", "--post", "best", "--genesis", "testnet-like"],
               ["devnet", "init", "--datadir", "{devnet}", "--set-size", "1"],
               ["devnet", "init", "--datadir", "{devnet}", "--nodes", "2", "--api-port", "65535"],
               ["devnet", "init", "--datadir", "{dir}/..", "--nodes", "1"]]),
    "devnet rules": Command([]),
    "node status": Command([("--url", "http://127.0.0.1:1")], {"--url": "url", "--datadir": "in_dir"}),
    "node run": Command([("--data", "{devnet}"), ("--genesis", "{context}"), ("--api-port", "0")],
                        {"--data": "new_dir", "--genesis": "json_file", "--log-file": "out_file",
                         "--listen": "hostport", "--peer": "hostport"}),
    "poet run": Command([("--data", "{devnet}"), ("--genesis", "{context}"), ("--api-port", "0")],
                        {"--data": "new_dir", "--genesis": "json_file", "--log-file": "out_file"}),
    "smesher run": Command([("--keys", "{dir}"), ("--post", "{dir}"), ("--node", "http://127.0.0.1:1"),
                            ("--poet", "http://127.0.0.1:1")],
                           {"--keys": "in_dir", "--post": "in_dir", "--node": "url", "--log-file": "out_file",
                            "--poet": "url"},
                           extra=[["smesher", "run", "--keys", "{dir}", "--post", "{dir}", "--node",
                                   "http://127.0.0.1:1"]]),
    "smesher check": Command([("--keys", "{dir}"), ("--post", "{dir}")], {"--keys": "in_dir", "--post": "in_dir"}),
    "smesher states": Command([("--keys", "{dir}"), ("--post", "{dir}")], {"--keys": "in_dir", "--post": "in_dir"}),
    "smesher serve": Command([("--keys", "{dir}"), ("--post", "{dir}"), ("--port", "0")],
                             {"--keys": "any_dir", "--post": "any_dir", "--node": "url_syntax"}),
    **{f"smesher {name}": Command(
        [("--keys", "{dir}"), ("--post", "{dir}"), ("--identities", "n0,n0b"), ("--node", "http://127.0.0.1:1")],
        {"--keys": "in_dir", "--post": "in_dir", "--identities": "identity_names", "--node": "url"},
        extra=[["smesher", name, "--keys", "{dir}", "--post", "{dir}", "--identities", "n0,n0b"]])  # no --node
       for name in ("marry", "merge")},
    "smesher sets": Command([("--keys", "{dir}"), ("--post", "{dir}")],
                            {"--keys": "in_dir", "--post": "in_dir", "--node": "url"}),
    "tx send": Command(
        [("--url", "http://127.0.0.1:1"), ("--to", "bob"), ("--amount", "1")],
        {"--url": "url", "--from": "wallet", "--to": "wallet", "--keys": "json_file", "--datadir": "in_dir",
         "--call": "selector", "--input": "hex", "--code": "program"},
        extra=[["tx", "send", "--url", "http://127.0.0.1:1", "--to", "bob"],
               *(["tx", "send", "--url", "http://127.0.0.1:1", *options] for options in (
                   ["--method", "proxy"], ["--method", "deploy"], ["--spawn", "--method", "proxy"],
                   ["--method", "deploy", "--code", "{program}", "--to", "bob"],
                   ["--method", "deploy", "--code", "{empty}"], ["--method", "deploy", "--code", "{huge}"],
                   ["--method", "deploy", "--code", "{dir}"], ["--method", "deploy", "--code", "{missing}"],
                   ["--method", "proxy", "--to", "bob", "--call", "not a name!"],
                   ["--method", "proxy", "--to", "bob", "--call", "0x00"],
                   ["--method", "proxy", "--to", "bob", "--call", ""],
                   ["--method", "proxy", "--to", "bob", "--input", "zz"],
                   ["--method", "proxy", "--to", "bob", "--input", "0xzz"],
                   ["--method", "proxy", "--to", "bob", "--input", "0x" + "00" * 40_000],
                   ["--method", "proxy", "--to", "bob", "--code", "{program}"]))]),
    "tx status": Command([("id", "0x" + K32), ("--url", "http://127.0.0.1:1")], {"id": "tx_id", "--url": "url"}),
    "hare eligibility": Command(
        [("--vrf-proof", "00" * 80), ("--weight", "1"), ("--total-weight", "10"), ("--committee", "50")],
        {"--vrf-proof": "vrf_proof"},
        extra=[["hare", "eligibility", "--vrf-proof", "00" * 80, "--weight", "11", "--total-weight", "10",
                "--committee", "50"],
               ["hare", "eligibility", "--vrf-proof", "00" * 7, "--weight", "1", "--total-weight", "10",
                "--committee", "50"]]),
    "hare simulate": Command([("--members", "3"), ("--quiet", None)], {"--behaviours": "behaviours"},
                             extra=[["hare", "simulate", "--members", "3", "--byzantine", "3"]]),
    "post commitment": Command([("node_id", K32), ("atx_id", K32)], {"node_id": "hex32", "atx_id": "hex32"}, root=TINY),
    "post label": Command([("commitment", K32), ("index", "0")], {"commitment": "hex32"},
                          extra=[["post", "label", K32, "0", "--scrypt-n", "3"]], root=TINY),
    "post init": Command(
        [("datadir", "{postnew}"), ("--node-id", K32), ("--commitment-atx", K32), ("--num-units", "1"),
         ("--backend", "cpu"), ("--no-progress", None)],
        {"datadir": "new_dir", "--node-id": "hex32", "--commitment-atx": "hex32", "--cluster": "cluster",
         "--work": "new_dir"},  # --work alone (without --devices or --cluster) is refused too
        extra=[["post", "init", "{postnew}", "--node-id", K32, "--commitment-atx", K32, "--num-units", "1",
                "--backend", "cpu", "--max-file-size", "17"],
               *[["post", "init", "{postnew}", "--node-id", K32, "--commitment-atx", K32, "--num-units", "1",
                  "--backend", "cpu", "--no-progress", *bad] for bad in (
                   ["--from", "3"], ["--from", "64", "--to", "64"], ["--to", "129"], ["--from", "0", "--devices", "all"],
                   ["--devices", "all", "--cluster", "local:1"], ["--to", "64", "--cluster", "local:1"])]], root=TINY),
    "post merge": Command(
        [("ranges", "{rangedir}"), ("--into", "{postnew}")], {"ranges": "in_dir", "--into": "new_dir"},
        extra=[["post", "merge", "{rangedir}", "{rangedir}", "--into", "{postnew}"],  # overlapping ranges
               ["post", "merge", "{rangedir}", "--into", "{postdir}"],  # not empty
               ["post", "merge", "{postdir}", "--into", "{postnew}"]], root=TINY),  # a data directory, not a range
    "post verify-data": Command(
        [("datadir", "{postdir}"), ("--no-progress", None)],
        {"datadir": "in_dir"}, root=TINY),
    "post prove": Command(
        [("datadir", "{postdir}"), ("--challenge", K32), ("--no-progress", None)],
        {"datadir": "in_dir", "--challenge": "hex32", "--out": "out_file"},
        extra=[["post", "prove", "{postdir}", "--challenge", K32, "--nonces", "17"]], root=TINY),
    "post verify": Command(
        [("datadir", "{postdir}"), ("proof", "{proof}"), ("--challenge", K32)],
        {"datadir": "in_dir", "proof": "json_file", "--challenge": "hex32", "--seed": "hex"}, root=TINY),
    "post prove-best": Command(
        [("datadirs", "{postdir}"), ("--challenge", K32), ("--no-progress", None)],
        {"datadirs": "in_dir", "--challenge": "hex32", "--out": "out_file"}, root=TINY),
    "post verify-best": Command([("proof", "{bestproof}")],
                                {"proof": "json_file", "--challenge": "hex32", "--seed": "hex"}, root=TINY),
    "post-best prove": Command(
        [("datadirs", "{postdir}"), ("--challenge", K32), ("--no-progress", None)],
        {"datadirs": "in_dir", "--challenge": "hex32", "--out": "out_file"}, root=TINY),
    "post-best verify": Command([("proof", "{bestproof}")],
                                {"proof": "json_file", "--challenge": "hex32", "--seed": "hex"}, root=TINY),
    "scale encode": Command([("type", "compact8"), ("value", "5")], {"type": "scale_type", "value": "scale_value"}),
    "scale decode": Command([("type", "compact8"), ("hex", "00")], {"type": "scale_type", "hex": "hex"},
                            extra=[["scale", "decode", '{"slice": {"bytes": 1}, "max": 1073741823}', "0xfeffffff"],
                                   ["scale", "decode", '{"array": {"bytes": 1}, "length": 100000000}', "0x"],
                                   ["scale", "decode", "--prefix", '{"array": {"bytes": 0}, "length": 100000000}',
                                    "0x"]]),
    "post devices": Command([], exempt="only --fresh, a flag"),
    "spec list": Command([], exempt="takes no arguments"),
    "spec presets": Command([], exempt="only --write, a flag"),
    "spec build": Command([("--out", "{specout}")], {"--out": "new_dir"}),
    "tortoise replay": Command([("trace", "{trace}"), ("--quiet", None)], {"trace": "trace_file"}, root=TINY),
    "tortoise simulate": Command(
        [("--layers", "2"), ("--smeshers", "2"), ("--quiet", None)],
        {"--partition": "partition", "--missing-hare": "layers", "--empty-hare": "layers", "--late-blocks": "layers",
         "--save": "out_file"}, root=TINY),
    "vectors generate": Command([("--dir", "{vectorsnew}"), ("--only", "scale/codec/bool"), ("--quiet", None)],
                                {"--dir": "vectors_dir", "--only": "filter", "--skip": "skip"},
                                extra=[["vectors", "generate", "--dir", "{vectorsnew}", "--only", "nosuch"]]),
    "vectors check": Command([("--dir", "{vectors}"), ("--quiet", None)],
                             {"--dir": "in_dir", "--only": "filter", "--skip": "skip"},
                             extra=[["vectors", "check", "--dir", "{vectors}", "--only", "nosuch"]]),
    "vectors run": Command([("--client", "smspec vectors serve"), ("--dir", "{vectors}")],
                           {"--client": "client", "--dir": "in_dir", "--only": "filter", "--skip": "skip",
                            "--report": "report"},
                           extra=[["vectors", "run", "--client", "smspec vectors serve", "--dir", "{vectors}",
                                   "--report", kind, path] for kind, path in
                                  (("xml", "{text}"), ("junit", "{dir}"), ("json", "{nodir}"))]),
    "vectors serve": Command([]),
    "vectors corpus": Command([("--out", "{corpusout}"), ("--dir", "{vectors}"), ("--only", "scale/bool"),
                               ("--max-examples", "0"), ("--quiet", None)],
                              {"--out": "new_dir", "--dir": "in_dir", "--only": "filter"}),
    "vectors coverage": Command([("--dir", "{badvectors}")], {"--dir": "in_dir", "--json": "out_file"}),
    "vectors pack": Command([("--dir", "{vectors}"), ("--out", "{packout}")],
                            {"--dir": "in_dir", "--out": "new_dir"}),
    "vectors list": Command([], exempt="takes no arguments"),
}
KINDS["scale_value"] = ["{", DEEP, "-1", "256", '"x"', "1e400", "null", "[]", "99999999999999999999999"]
for _size in (24, 32, 64, 80):
    KINDS[f"hex{_size}"] = hex_of(_size)

# ---------------------------------------------------------------------------------------------
# Discovery


def leaf_parsers() -> dict[str, argparse.ArgumentParser]:
    """Every runnable subcommand, by its path ("post label")."""
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not groups:
            found[" ".join(path)] = parser
            return
        for name, sub in groups[0].choices.items():
            walk(sub, [*path, name])

    walk(cli.build_parser(), [])
    return found


def value_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The arguments that take a value (not --help, not flags)."""
    return [a for a in parser._actions if a.nargs != 0 and not isinstance(a, argparse._HelpAction)]


def key(action: argparse.Action) -> str:
    return action.option_strings[0] if action.option_strings else action.dest


def automatic_values(action: argparse.Action) -> list[str] | None:
    """Bad values read off the parser: bounded numbers and choices (None: not automatic)."""
    if action.choices is not None:
        return ["nosuch"]
    low, high = getattr(action.type, "low", None), getattr(action.type, "high", None)
    name = getattr(action.type, "__name__", "")
    if name == "integer":  # the helper's other refusals are unit-tested once (test_cli_helpers.py)
        return ["abc", "9" * 5000, str(low - 1), str(high + 1)]
    if name == "integer_list":
        return ["abc", "", str(low - 1), f"{low},{high + 1}"]
    if name == "real":
        return ["nan", "inf", str(low - 1), str(high + 1)]
    return None


def invocations(path: str, parser: argparse.ArgumentParser, command: Command) -> list[list[str]]:
    """The bad invocations of one subcommand (argument cases first, then generic ones)."""
    actions = {key(a): a for a in value_actions(parser)}
    cases: list[list[str]] = []
    for name, action in actions.items():
        kind = command.kinds.get(name)
        values = KINDS.get(kind, []) if kind is not None else (automatic_values(action) or [])
        for value in values:
            cases.append(command.root + build_argv(path, actions, command.base, name, value))
    cases.extend(command.root + extra for extra in command.extra)
    return cases


def generic_invocations(path: str, parser: argparse.ArgumentParser, command: Command) -> list[list[str]]:
    actions = {key(a): a for a in value_actions(parser)}
    base = build_argv(path, actions, command.base, None, None)
    cases = [[*command.root, *base, "--no-such-option"], ["--preset", "nosuch", *base]]
    if any(a.required and a.nargs not in ("*", "?") for a in actions.values()):
        cases.append([*command.root, *path.split()])
    return cases


def build_argv(path: str, actions: dict[str, argparse.Action], base: list[tuple[str, str | None]],
               replace: str | None, value: str | None) -> list[str]:
    given = dict(base)
    if replace is not None:
        given[replace] = value
    argv = path.split()
    positionals = [k for k, a in actions.items() if not a.option_strings]
    for name in positionals:
        if name in given:
            argv.append(given[name])  # type: ignore[arg-type]
    for name, option_value in given.items():
        if name in positionals:
            continue
        argv.append(name)
        if option_value is not None:
            argv.append(option_value)
    return argv


def matrix() -> list[list[str]]:
    parsers = leaf_parsers()
    cases: list[list[str]] = []
    for path, parser in parsers.items():
        command = COMMANDS.get(path)
        if command is None:
            continue
        cases += invocations(path, parser, command)
        cases += generic_invocations(path, parser, command)
    return cases


# ---------------------------------------------------------------------------------------------
# The child: fixtures, then main() once per invocation


def make_fixtures(root: Path) -> dict[str, str]:
    from smspec.tests.spec.athena.asm import raw_program

    paths = {
        "missing": root / "missing" / "nothing",
        "nodir": root / "missing" / "dir" / "out",
        "dir": root / "emptydir",
        "binary": root / "binary.bin",
        "empty": root / "empty.txt",
        "text": root / "text.txt",
        "deep": root / "deep.json",
        "huge": root / "huge.bin",
        "program": root / "program.bin",
        "context": root / "context.json",
        "postdir": root / "post",
        "postnew": root / "postnew",
        "rangedir": root / "range",
        "proof": root / "post" / "proof.json",
        "bestproof": root / "post" / "best.json",
        "trace": root / "trace.json",
        "devnet": root / "devnet",
        "specout": root / "specout",
        "vectors": root / "vectors",
        "vectorsnew": root / "vectorsnew",
        "packout": root / "packout",
        "corpusout": root / "corpusout",
        "jsonlist": root / "list.json",
        "jsonobject": root / "object.json",
        "badtrace": root / "badtrace.json",
        "badtrace2": root / "badtrace2.json",
        "badlegacy": root / "badlegacy.jsonl",
        "badlegacy2": root / "badlegacy2.jsonl",
        "deepmeta": root / "deepmeta",  # PoST directories whose metadata is deep JSON, binary, a directory
        "binmeta": root / "binmeta",
        "dirmeta": root / "dirmeta",
        "badnode": root / "badnode",  # a node directory whose database is not one
        "badvectors": root / "badvectors",  # a vector directory with a malformed case
    }
    fixtures = {name: str(path) for name, path in paths.items()}
    if (root / "ready").exists():
        return fixtures
    paths["dir"].mkdir()
    paths["binary"].write_bytes(bytes(range(256)) * 64)
    paths["empty"].write_bytes(b"")
    paths["text"].write_text("hello world\n")
    paths["deep"].write_text(DEEP)
    with paths["huge"].open("wb") as file:  # sparse: 8 GiB that take no disk
        file.truncate(8 * 2**30)
    from smspec.tools.tortoise_trace import SMSPEC_FORMAT

    paths["jsonlist"].write_text("[1, [2], {}]")
    paths["jsonobject"].write_text('{"a": {"b": [1]}, "nonce": "x", "indices": 5, "pow": null}')
    paths["badtrace"].write_text(json.dumps({"format": SMSPEC_FORMAT, "events": 5, "outputs": 3}))
    paths["badtrace2"].write_text(json.dumps({"format": SMSPEC_FORMAT, "config": {"hdist": "x"},
                                              "events": [[1, 2], {"op": None}], "outputs": []}))
    paths["badlegacy"].write_text('{"t": 1, "o": 5}\n')
    paths["badlegacy2"].write_text('{"t": 0, "o": {"x": 1}}\n{"t": 99, "o": []}\n')
    for name in ("deepmeta", "binmeta", "dirmeta", "badnode"):
        paths[name].mkdir()
    (paths["deepmeta"] / "postdata_metadata.json").write_text(DEEP)
    (paths["binmeta"] / "postdata_metadata.json").write_bytes(bytes(range(256)))
    (paths["dirmeta"] / "postdata_metadata.json").mkdir()
    (paths["badnode"] / "node.sqlite").write_bytes(bytes(range(256)) * 64)
    case = paths["badvectors"] / "tiny" / "scale" / "codec" / "bool" / "case"
    case.mkdir(parents=True)
    (case / "case.json").write_text(DEEP)
    paths["program"].write_bytes(raw_program("addi a0, zero, 5\naddi zero, zero, 1"))
    paths["context"].write_text(json.dumps({"config": {
        "genesis_id": "0x" + "00" * 20, "golden_atx": "0x" + "00" * 32, "current_epoch": 2, "tick_size": 1,
        "id_scheme": "a"}}))
    setup = [
        ["--preset", "tiny", "post", "init", fixtures["postdir"], "--node-id", K32, "--commitment-atx", K32,
         "--num-units", "1", "--backend", "cpu", "--no-progress"],
        ["--preset", "tiny", "post", "prove", fixtures["postdir"], "--challenge", K32, "--no-progress",
         "--out", fixtures["proof"]],
        ["--preset", "tiny", "post", "init", fixtures["rangedir"], "--node-id", K32, "--commitment-atx", K32,
         "--num-units", "1", "--backend", "cpu", "--no-progress", "--from", "0", "--to", "64"],
        ["--preset", "tiny", "post", "prove-best", fixtures["postdir"], "--challenge", K32, "--no-progress",
         "--out", fixtures["bestproof"]],
        ["--preset", "tiny", "tortoise", "simulate", "--layers", "6", "--smeshers", "2", "--quiet",
         "--save", fixtures["trace"]],
        ["vectors", "generate", "--dir", fixtures["vectors"], "--only", "scale/codec/bool", "--quiet"],
    ]
    for argv in setup:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
            if cli.main(argv) != 0:
                raise RuntimeError(f"fixture {argv} failed: {err.getvalue()}")
    (root / "ready").write_text("")
    return fixtures


class CallTimeout(BaseException):
    """Raised by the per-call alarm (a BaseException: `except Exception` in a command cannot eat it)."""


def _alarm(signum: int, frame: Any) -> None:
    raise CallTimeout


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(argv: list[str]) -> dict[str, Any]:
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="replace")
    stderr = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="replace")
    environ = dict(os.environ)
    cwd = os.getcwd()
    result: dict[str, Any] = {"argv": argv}
    before = peak_mib()
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, CALL_SECONDS)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            result["status"] = cli.main(argv)
    except SystemExit as e:
        result["status"] = e.code if isinstance(e.code, int) else 1
        if not isinstance(e.code, int) and e.code is not None:
            stderr.write(f"{e.code}\n")
    except CallTimeout:
        result["timeout"] = True
    except BaseException as e:  # noqa: BLE001 - every escape is the finding
        result["exception"] = "".join(traceback.format_exception(e)[-6:])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        os.environ.clear()
        os.environ.update(environ)
        os.chdir(cwd)
    result["seconds"] = round(time.monotonic() - started, 3)
    result["peak_growth_mib"] = round(peak_mib() - before, 1)
    for name, stream in (("stdout", stdout), ("stderr", stderr)):
        stream.flush()
        text = stream.buffer.getvalue().decode("utf-8", "replace")  # type: ignore[attr-defined]
        result[name] = text[:2000]
    return result


def substitute(part: str, fixtures: dict[str, str]) -> str:
    for name, path in fixtures.items():
        part = part.replace("{" + name + "}", path)
    return part


def child(root: str, shard: int, shards: int, out: str) -> None:
    os.environ["SMSPEC_DEBUG"] = "1"
    os.environ.pop("SMSPEC_PRESET", None)
    os.chdir(root)
    fixtures = make_fixtures(Path(root))
    if shards == 0:  # set-up only
        return
    from smspec import spec

    for name in spec.available_modules():  # compile every document once, outside the timed calls
        spec.load(name)
    parser = cli.build_parser()
    cli.build_parser = lambda: parser  # one parser for every call (argparse keeps no state between parses)
    signal.signal(signal.SIGALRM, _alarm)
    mapped = int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()
    limit = mapped + ADDRESS_SPACE_GIB * 2**30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    cases = matrix()[shard::shards]
    with open(out, "w", encoding="utf-8") as results:
        for argv in cases:
            argv = [substitute(part, fixtures) for part in argv]
            results.write(json.dumps({"start": argv}) + "\n")
            results.flush()
            results.write(json.dumps(run_one(argv)) + "\n")
            results.flush()


# ---------------------------------------------------------------------------------------------
# Judging one result


def problem(result: dict[str, Any]) -> str | None:
    """Why a bad invocation's outcome is not acceptable (None: it is)."""
    if result.get("timeout"):
        return f"did not finish within {CALL_SECONDS} s"
    if "exception" in result:
        return "raised:\n" + result["exception"]
    if result["peak_growth_mib"] > CALL_PEAK_MIB:
        return f"raised the peak memory by {result['peak_growth_mib']} MiB"
    status, err = result["status"], result["stderr"]
    lines = err.splitlines()
    if status == 0:
        return f"accepted (status 0): stdout {result['stdout'][:200]!r}"
    if status not in (1, 2):
        return f"status {status}, expected 1 or 2: {err[:300]!r}"
    if status == 1 and not lines:
        return None  # a verdict on standard output
    if len(lines) != 1 or not lines[0].startswith("smspec: error: "):
        return f"standard error is not one 'smspec: error:' line: {err[:600]!r}"
    return None


def shorten(argv: list[str]) -> str:
    return " ".join(part if len(part) <= 60 else part[:40] + f"...({len(part)} chars)" for part in argv)


# ---------------------------------------------------------------------------------------------
# Tests


def test_every_argument_has_bad_input_cases():
    """A new subcommand, or a new argument without a kind, fails here until it gets bad values."""
    missing = []
    for path, parser in leaf_parsers().items():
        command = COMMANDS.get(path)
        if command is None:
            missing.append(f"{path}: no entry in COMMANDS (a base invocation and argument kinds)")
            continue
        for action in value_actions(parser):
            name = key(action)
            kind = command.kinds.get(name)
            if kind is None and automatic_values(action) is None:
                missing.append(f"{path} {name}: no kind (and not an integer()/real()/choices argument)")
            elif kind is not None and kind not in KINDS and kind not in FREE:
                missing.append(f"{path} {name}: unknown kind {kind!r}")
        cases = invocations(path, parser, command)
        if not cases and not command.exempt:
            missing.append(f"{path}: no bad-input cases and no reason for an exemption")
        if cases and command.exempt:
            missing.append(f"{path}: exempt, but has cases")
    stale = set(COMMANDS) - set(leaf_parsers())
    assert not missing and not stale, "\n".join(missing + [f"{p}: no such subcommand" for p in sorted(stale)])


def test_numbers_are_bounded_at_parsing():
    """Every numeric argument is an integer()/real() with both bounds: sizes never come on trust."""
    unbounded = []
    for path, parser in leaf_parsers().items():
        for action in value_actions(parser):
            if action.type in (int, float) or (
                    getattr(action.type, "__name__", "") in ("integer", "integer_list", "real")
                    and (action.type.low is None or action.type.high is None)):  # type: ignore[union-attr]
                unbounded.append(f"{path} {key(action)}")
    assert not unbounded, "unbounded numeric arguments: " + ", ".join(unbounded)


def test_bad_input_matrix(tmp_path):
    """Hundreds of bad invocations: one line, a nonzero status, bounded time and memory each."""
    module = "smspec.tests.unit.test_cli_bad_input"
    env = {**os.environ, "SMSPEC_DEBUG": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", module, str(tmp_path), "0", "0", os.devnull], check=True,
                   stdin=subprocess.DEVNULL, env=env, timeout=300)
    outs = [tmp_path / f"results{i}.jsonl" for i in range(SHARDS)]
    children = [subprocess.Popen([sys.executable, "-m", module, str(tmp_path), str(i), str(SHARDS), str(out)],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
                for i, out in enumerate(outs)]
    failures = []
    for proc, out in zip(children, outs, strict=True):
        try:
            _, err = proc.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        records = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
        finished = [r for r in records if "start" not in r]
        if proc.returncode != 0:
            last = records[-1].get("start") if records and "start" in records[-1] else None
            failures.append(f"child ended with {proc.returncode} during {shorten(last) if last else '?'}: "
                            f"{err.decode(errors='replace')[-2000:]}")
        for result in finished:
            why = problem(result)
            if why:
                failures.append(f"smspec {shorten(result['argv'])}\n    {why}")
    total = sum(1 for out in outs if out.exists() for line in out.read_text().splitlines() if '"start"' not in line)
    assert total >= 600, f"only {total} invocations ran"
    assert not failures, f"{len(failures)} of {total} bad invocations misbehaved:\n" + "\n".join(failures)


def test_internal_error_is_one_line_and_status_70(monkeypatch, capsys):
    """A bug in a command: one line naming the exception, status 70; SMSPEC_DEBUG=1 re-raises."""
    from smspec.tools.commands import crypto

    def broken(args: argparse.Namespace) -> int:
        raise ZeroDivisionError("division by zero\nsecond line")

    monkeypatch.setattr(crypto, "cmd_hash", broken)
    monkeypatch.delenv("SMSPEC_DEBUG", raising=False)
    assert cli.main(["crypto", "hash", "--text", "a"]) == 70
    assert capsys.readouterr().err == ("smspec: internal error: ZeroDivisionError: division by zero (please "
                                       "report; rerun with SMSPEC_DEBUG=1 for the traceback)\n")
    monkeypatch.setenv("SMSPEC_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        cli.main(["crypto", "hash", "--text", "a"])


def test_usage_errors_are_one_line(capsys):
    assert cli.main(["crypto", "hash", "--length", "-1", "--text", "a"]) == 2
    assert capsys.readouterr().err == ("smspec: error: argument --length: expected a byte count >= 0, got -1 "
                                       "(see `smspec crypto hash --help`)\n")
    assert cli.main(["nosuch"]) == 2
    assert capsys.readouterr().err.startswith("smspec: error: argument COMMAND: invalid choice: 'nosuch'")


def test_wrong_acceptances_of_issue_12_are_refused(tmp_path, capsys):
    """The three bad inputs that used to succeed with status 0."""
    seed = "11" * 32
    assert cli.main(["crypto", "sign", "--seed", seed, "--domain", "atx", "--text", "a", "--genesis-id", "00"]) == 2
    assert capsys.readouterr().err == ("smspec: error: --genesis-id must be 20 bytes (40 hex digits), or '' for "
                                       "none; got 1 bytes\n")
    proof = "00" * 80
    elig = ["hare", "eligibility", "--vrf-proof", proof, "--weight", "1", "--total-weight", "15", "--committee", "10"]
    assert cli.main([*elig, "--count", "-1"]) == 2
    assert capsys.readouterr().err.startswith("smspec: error: argument --count: expected a u16 count >= 0, got -1")
    out = tmp_path / "no" / "such" / "x"
    assert cli.main(["spec", "build", "--out", str(out)]) == 2
    assert capsys.readouterr().err == (f"smspec: error: --out '{out}': the directory '{out.parent}' does not "
                                       "exist\n")
    assert not (tmp_path / "no").exists()


def test_an_invalid_claimed_count_is_a_negative_verdict(capsys):
    elig = ["hare", "eligibility", "--vrf-proof", "00" * 80, "--weight", "1", "--total-weight", "15",
            "--committee", "10"]
    assert cli.main(elig) == 0
    count = int(capsys.readouterr().out)
    assert cli.main([*elig, "--count", str(count)]) == 0
    assert capsys.readouterr().out == f"{count} (claimed count {count} is valid)\n"
    assert cli.main([*elig, "--count", str(count + 1)]) == 1
    assert capsys.readouterr().out == f"{count} (claimed count {count + 1} is invalid)\n"


@pytest.mark.parametrize(("status", "body", "message"), [
    (200, b"hello", "smspec: error: the answer of {url}/status is not valid JSON: Expecting value: line 1 column 1 "
                    "(char 0)"),
    (200, b"[" * 100_000, "smspec: error: the answer of {url}/status is nested deeper than 64 levels"),
    (200, b'{"node": 1}', "smspec: error: unexpected status from the node API: KeyError: 'layer'"),
    (200, b"5", "smspec: error: unexpected status from the node API: TypeError: 'int' object is not subscriptable"),
    (200, b"\xff", "smspec: error: the answer of {url}/status is not UTF-8 text"),
    (500, b"\xff[", "smspec: error: {url}/status: HTTP Error 500: Internal Server Error"),
])
def test_node_status_survives_a_wrong_server(capsys, status, body, message):
    """`node status` against something that is not a node API: one line, status 2."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert cli.main(["node", "status", "--url", url]) == 2
    finally:
        server.shutdown()
        server.server_close()
    assert capsys.readouterr().err == message.format(url=url) + "\n"


def test_exit_statuses_are_documented():
    from smspec.tools.cli import EXIT_STATUSES, build_parser

    help_text = " ".join(build_parser().format_help().split())
    for status, meaning in EXIT_STATUSES.items():
        assert f"{status} {' '.join(meaning.split())}" in help_text
    assert sorted(EXIT_STATUSES) == [0, 1, 2, 70, 130]
    reference = (Path(__file__).parents[2] / "docs" / "cli.md").read_text()
    for status in EXIT_STATUSES:
        assert f"\n| {status} | " in reference


if __name__ == "__main__":
    child(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
