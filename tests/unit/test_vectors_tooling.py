"""Vector generation, checking and the client runner, on a self-contained test handler."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from smspec.conformance import cases as case_module
from smspec.conformance import handlers as handler_module
from smspec.conformance.cases import Blob, output_fields, spec_output, vector_source
from smspec.conformance.cases import Case as SpecCase
from smspec.conformance.execute import (
    CaseFailure,
    build_index,
    canonical_json,
    check_source,
    generate_cases,
    load_vectors,
    write_vectors,
)
from smspec.conformance.handlers import blob_bytes, handler, hexbytes, hexstr
from smspec.conformance.runner import run_client
from smspec.conformance.schema import Schema, inp, out, raises

KEY = "selftest/bytes/reverse"
SELFTEST_SCHEMA = Schema(page="selftest-bytes-reverse", summary="Reverse bytes.", spec=("errors.md#invalidvalue",),
                         inputs=(inp("data", "hex|blob", "the bytes"),),
                         outputs=(out("reversed", "hex", "reversed"), out("length", "uint", "their number")),
                         raises=(raises("InvalidValue", "empty", "no bytes"),))


def Case(*args, **kw) -> SpecCase:  # noqa: N802 - the self-test handler's cases, explained once
    kw.setdefault("description", "a case of the self-test handler")
    kw.setdefault("spec_ref", "errors.md#invalidvalue")
    return SpecCase(*args, **kw)


@pytest.fixture
def selftest_source():
    @handler("selftest", "bytes", "reverse", schema=SELFTEST_SCHEMA)
    def reverse(inputs, spec):
        """inputs: data (hex) or blob. output: reversed (hex). Empty data: InvalidValue."""
        errors = spec("errors")
        data = blob_bytes(inputs["data"]) if isinstance(inputs["data"], dict) else hexbytes(inputs["data"])
        if not data:
            raise errors.InvalidValue("empty", "nothing to reverse")
        return {"reversed": hexstr(data[::-1]), "length": len(data)}

    @vector_source("selftest", "bytes", "reverse")
    def test_reverse():
        yield Case("one_two", inputs={"data": b"\x01\x02"}, expected={"reversed": b"\x02\x01", "length": 2})
        yield Case("computed", inputs={"data": bytes(range(7))}, check=output_fields(length=7))
        yield Case("big_number", inputs={"data": b"\xff" * 3}, expected={"reversed": "0xffffff", "length": 3})
        yield Case("blob", inputs={"data": Blob(bytes(range(200)))}, check=spec_output)
        yield Case("empty", inputs={"data": b""}, error="InvalidValue", reason="empty")
        yield Case("empty_class_only", inputs={"data": b""}, error="InvalidValue")

    source = test_reverse.vector_source
    yield source
    case_module.SOURCES.remove(source)
    del handler_module.HANDLERS[KEY]


def test_known_answers_are_checked(selftest_source) -> None:
    check_source(selftest_source)  # passes
    bad = case_module.VectorSource("selftest", "bytes", "reverse", ("mainnet",),
                                   lambda: iter([Case("wrong", inputs={"data": b"\x01"}, expected={"reversed": "0x02", "length": 1})]))
    with pytest.raises(CaseFailure, match="reversed: expected"):
        check_source(bad)
    bad_error = case_module.VectorSource("selftest", "bytes", "reverse", ("mainnet",),
                                         lambda: iter([Case("wrong", inputs={"data": b""}, error="InvalidEncoding")]))
    with pytest.raises(CaseFailure, match="expected error InvalidEncoding, got error InvalidValue"):
        check_source(bad_error)


def test_generation_is_deterministic_and_loadable(selftest_source, tmp_path: Path) -> None:
    first = list(generate_cases([selftest_source]))
    second = list(generate_cases([selftest_source]))
    assert [c.text for c in first] == [c.text for c in second]
    write_vectors(tmp_path, first)
    (tmp_path / "index.json").write_text(canonical_json(build_index(first)))
    stored = load_vectors(tmp_path)
    assert [c.name for c in stored] == sorted(f"mainnet/{KEY}/{n}" for n in
                                              ["one_two", "computed", "big_number", "blob", "empty", "empty_class_only"])
    doc = json.loads((tmp_path / f"mainnet/{KEY}/empty_class_only/case.json").read_text())
    assert doc["expected"] == {"error": "InvalidValue"}
    doc = json.loads((tmp_path / f"mainnet/{KEY}/empty/case.json").read_text())
    assert doc["expected"] == {"error": "InvalidValue", "reason": "empty"}
    doc = json.loads((tmp_path / f"mainnet/{KEY}/blob/case.json").read_text())
    sha = doc["inputs"]["data"]["blob"]
    assert (tmp_path / "blobs" / f"{sha}.bin").read_bytes() == bytes(range(200))
    assert doc["expected"]["output"]["reversed"] == "0x" + bytes(range(199, -1, -1)).hex()


def _client(module: str) -> str:
    return f"{sys.executable} -m smspec.conformance.adapters.{module}"


def test_reference_adapter_passes_and_broken_adapter_is_reported(selftest_source, tmp_path: Path, monkeypatch) -> None:
    cases = list(generate_cases([selftest_source]))
    write_vectors(tmp_path, cases)
    stored = load_vectors(tmp_path)
    # The adapters are separate processes: they must find the self-test handler, so they run
    # a tiny wrapper that registers it first.
    wrapper = tmp_path / "wrapper.py"
    wrapper.write_text(
        "import sys\n"
        "from smspec.conformance.handlers import handler, hexbytes, hexstr, blob_bytes\n"
        "@handler('selftest', 'bytes', 'reverse')\n"
        "def reverse(inputs, spec):\n"
        "    data = blob_bytes(inputs['data']) if isinstance(inputs['data'], dict) else hexbytes(inputs['data'])\n"
        "    if not data:\n"
        "        raise spec('errors').InvalidValue('empty')\n"
        "    return {'reversed': hexstr(data[::-1]), 'length': len(data)}\n"
        "import runpy\n"
        "runpy.run_module(sys.argv[1], run_name='__main__')\n"
    )
    good = run_client(f"{sys.executable} {wrapper} smspec.conformance.adapters.reference", stored, tmp_path / "blobs")
    assert good.line == "6 passed, 0 failed, 0 skipped"
    broken = run_client(f"{sys.executable} {wrapper} smspec.conformance.adapters.broken_adapter", stored, tmp_path / "blobs")
    by_status = {r.name.rsplit("/", 1)[1]: r for r in broken.results}
    # ids follow sorted case order: big_number=1 blob=2 computed=3 empty=4 empty_class_only=5 one_two=6
    assert broken.line == "2 passed, 3 failed, 1 skipped"
    assert by_status["one_two"].status == "failed"  # id 6: 6 % 5 == 1, output corrupted
    assert by_status["empty"].status == "passed"
    assert by_status["big_number"].status == "failed"
    assert by_status["big_number"].detail == "output differs:\n  length: expected 3\n          got      4"
    assert by_status["blob"].status == "failed"
    assert by_status["blob"].detail == "expected output " + by_status["blob"].detail.split("expected output ", 1)[1]
    assert "got error InvalidEncoding (made_up)" in by_status["blob"].detail
    assert by_status["computed"].status == "skipped"


def test_dead_client_fails_remaining_cases(selftest_source, tmp_path: Path) -> None:
    write_vectors(tmp_path, generate_cases([selftest_source]))
    stored = load_vectors(tmp_path)
    summary = run_client(f"{sys.executable} -c 'import sys; sys.stdin.readline()'", stored, tmp_path / "blobs", timeout=10)
    assert summary.line == "0 passed, 6 failed, 0 skipped"
    assert summary.results[0].detail == "the client exited with status 0"
    assert summary.results[1].detail == "not run: the client exited with status 0"


def _scale_sources():
    from smspec.conformance.execute import discover_sources

    return [s for s in discover_sources() if s.domain == "scale"]


def test_example_adapter_passes_the_scale_integer_vectors(tmp_path: Path) -> None:
    write_vectors(tmp_path, generate_cases(_scale_sources()))
    stored = load_vectors(tmp_path)
    summary = run_client(_client("example_adapter"), stored, tmp_path / "blobs")
    assert summary.count("failed") == 0, [r for r in summary.results if r.status == "failed"][:3]
    passed = [r.name for r in summary.results if r.status == "passed"]
    assert any("/compact64/" in name for name in passed)
    assert any("/bool/" in name for name in passed)
    assert all(r.name.split("/")[4] not in {"struct", "slice"} for r in summary.results if r.status == "passed")


def test_cli_check_run_and_errors(tmp_path: Path, capsys) -> None:
    from smspec.tools.cli import main

    empty = tmp_path / "empty"
    assert main(["vectors", "check", "--dir", str(empty)]) == 2
    assert "no vectors under" in capsys.readouterr().err
    out = tmp_path / "v"
    assert main(["vectors", "generate", "--dir", str(out), "--only", "scale/codec/compact32", "--quiet"]) == 0
    assert main(["vectors", "generate", "--dir", str(out), "--only", "scale/codec/compact32", "--check", "--quiet"]) == 0
    original = (out / "index.json").read_text()
    index = json.loads(original)
    some_case = next(iter(index["cases"]))
    index["cases"][some_case] = "0" * 64
    (out / "index.json").write_text(json.dumps(index))
    capsys.readouterr()
    assert main(["vectors", "generate", "--dir", str(out), "--only", "scale/codec/compact32", "--check", "--quiet"]) == 1
    assert f"changed: {some_case}" in capsys.readouterr().out
    assert main(["vectors", "check", "--dir", str(out), "--quiet"]) == 2  # the runner checks the index too
    assert capsys.readouterr().err.endswith("sha256 differs from index.json (a modified case file)\n")
    (out / "index.json").write_text(original)
    assert main(["vectors", "check", "--dir", str(out), "--quiet"]) == 0
    assert capsys.readouterr().out.strip().endswith("passed, 0 failed")
    broken = f"{sys.executable} -m smspec.conformance.adapters.broken_adapter"
    assert main(["vectors", "run", "--dir", str(out), "--client", broken]) == 1
    text = capsys.readouterr().out
    assert "FAIL mainnet/scale/codec/compact32/" in text
    assert text.strip().splitlines()[-1].endswith("skipped")
    assert main(["vectors", "run", "--dir", str(out), "--client", "/nonexistent/adapter"]) == 2
    assert "cannot start the client" in capsys.readouterr().err
