"""Every vector case expects something exact, and the case runner refuses one that does not.

A case without ``expected``, ``error`` or ``check`` would pass under pytest whatever the spec
did (even raise); ``test_every_vector_case_expects_something`` lists any such case in the
spec test suite, and the other tests feed the runner such cases directly.
"""

from __future__ import annotations

import pytest
from smspec.conformance import handlers as handler_module
from smspec.conformance.cases import Case as SpecCase
from smspec.conformance.cases import UncheckedCase, VectorSource, output_fields, spec_output
from smspec.conformance.execute import (
    CaseFailure,
    check_source,
    discover_sources,
    generate_cases,
    run_case,
)
from smspec.conformance.handlers import handler, hexbytes
from smspec.conformance.schema import Schema, inp, out, raises

KEY = "selftest/bytes/length"


def Case(*args, **kw) -> SpecCase:  # noqa: N802 - the self-test handler's cases, explained once
    kw.setdefault("description", "a case of the self-test handler")
    kw.setdefault("spec_ref", "errors.md#invalidvalue")
    return SpecCase(*args, **kw)


@pytest.fixture
def length_handler():
    @handler("selftest", "bytes", "length", schema=Schema(
        page="selftest-bytes-length", summary="Measure bytes.", spec=("errors.md#invalidvalue",),
        inputs=(inp("data", "hex", "the bytes"),),
        outputs=(out("length", "uint", "their number"), out("first", "uint", "the first byte")),
        raises=(raises("InvalidValue", "empty", "no bytes"),)))
    def length(inputs, spec):
        """inputs: data (hex). output: length. Empty data: InvalidValue(empty)."""
        data = hexbytes(inputs["data"])
        if not data:
            raise spec("errors").InvalidValue("empty", "nothing to measure")
        return {"length": len(data), "first": data[0]}

    yield KEY
    del handler_module.HANDLERS[KEY]


def source_of(*cases: Case) -> VectorSource:
    return VectorSource("selftest", "bytes", "length", ("mainnet",), lambda: iter(cases))


def unchecked_cases(sources: list[VectorSource]) -> list[str]:
    """Every case of `sources` that expects nothing (or more than one kind of outcome)."""
    found = []
    for source in sources:
        try:
            source_cases = list(source.function())
        except BaseException as e:  # pytest.skip() in a source: a missing optional tool
            if type(e).__name__ != "Skipped":
                raise
            continue
        for case in source_cases:
            try:
                case.validate()
            except UncheckedCase as e:
                found.append(f"{source.key} ({source.module}.{source.function.__name__}): {e}")
    return found


def test_every_vector_case_expects_something():
    assert unchecked_cases(discover_sources()) == []


def test_unchecked_cases_are_listed():
    sources = [source_of(Case("fine", inputs={}, check=spec_output), Case("bare", inputs={}), Case("bare_too", inputs={}))]
    listed = unchecked_cases(sources)
    assert len(listed) == 2 and "'bare' expects nothing" in listed[0] and "'bare_too' expects nothing" in listed[1]


def test_runner_refuses_a_case_that_expects_nothing(length_handler):
    bare = Case("bare", inputs={"data": b"\x01"})
    with pytest.raises(UncheckedCase, match="'bare' expects nothing"):
        run_case(KEY, bare, "mainnet")
    with pytest.raises(UncheckedCase, match="selftest/bytes/length: case 'bare' expects nothing"):
        check_source(source_of(bare))
    with pytest.raises(UncheckedCase):
        list(generate_cases([source_of(bare)]))
    # A case that raises is refused too: it must not pass for want of an expectation.
    with pytest.raises(UncheckedCase):
        run_case(KEY, Case("bare_error", inputs={"data": b""}), "mainnet")


def test_runner_refuses_a_case_that_expects_two_things(length_handler):
    for case in (Case("both", inputs={"data": b"\x01"}, expected={"length": 1, "first": 1}, check=spec_output),
                 Case("both", inputs={"data": b""}, error="InvalidValue", check=spec_output),
                 Case("reason_only", inputs={"data": b""}, reason="empty")):
        with pytest.raises(UncheckedCase):
            run_case(KEY, case, "mainnet")


def test_recorded_output_must_be_an_output(length_handler):
    # check=spec_output: no independent answer, but an error is still a failure.
    check_source(source_of(Case("measured", inputs={"data": b"\x05\x06"}, check=spec_output)))
    with pytest.raises(CaseFailure, match=r"raises: expected an output, got error InvalidValue \(empty\)"):
        check_source(source_of(Case("raises", inputs={"data": b""}, check=spec_output)))
    with pytest.raises(CaseFailure, match="contradicts its own|expected an output"):
        list(generate_cases([source_of(Case("raises", inputs={"data": b""}, check=spec_output))]))


def test_check_compares_with_the_known_fields(length_handler):
    check_source(source_of(Case("right", inputs={"data": b"\x05\x06"}, check=output_fields(length=2))))
    wrong = Case("wrong", inputs={"data": b"\x05\x06"}, check=output_fields(length=2, first=6))
    with pytest.raises(CaseFailure, match="wrong: output contradicts what is known of it: first: expected 6, got 5"):
        check_source(source_of(wrong))
    with pytest.raises(CaseFailure, match="first: expected 6, got 5"):
        list(generate_cases([source_of(wrong)]))


def test_generated_vector_records_the_whole_output(length_handler):
    (generated,) = generate_cases([source_of(Case("measured", inputs={"data": b"\x05\x06"}, check=output_fields(length=2)))])
    assert '"output": {\n   "first": 5,\n   "length": 2\n  }' in generated.text
