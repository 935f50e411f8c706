"""One format page per handler, generated from its schema (issue 15), and schemas that cannot
disagree with the vectors.

Every case is checked against its handler's schema when its vector source runs (inputs, output
fields, error class and reason: ``execute.run_case``); here: the committed pages are the
schemas' rendering, every reason a schema lists is raised somewhere in the spec or the
handlers, every spec reference resolves, and the mechanism itself refuses a disagreeing case.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from smspec.conformance import pages, specrefs
from smspec.conformance.schema import Computed, Record, Schema, inp, out, raises

ROOT = Path(__file__).resolve().parents[2]


def test_committed_pages_are_the_schemas() -> None:
    assert pages.differences() == [], "regenerate with: python -m smspec.conformance.pages --write"


def raise_sites() -> str:
    texts = [p.read_text() for p in sorted((ROOT / "spec").glob("*.md"))]
    texts += [p.read_text() for p in sorted((ROOT / "conformance" / "handlers").glob("*.py"))]
    return "\n".join(texts)


def test_every_listed_reason_is_raised_somewhere() -> None:
    text = raise_sites()
    missing = []
    for schema in pages.schemas():
        for declared in schema.raises:
            if not re.search(rf"\b{declared.error}\b", text):
                missing.append(f"{schema.page}: class {declared.error}")
            for reason in declared.reasons:
                # atx_best.md re-raises a best-labels proof's reason R as InvalidAtx("best_" + R)
                derived = reason.startswith("best_") and f'"{reason[5:]}"' in text
                if f'"{reason}"' not in text and not (derived and '"best_" + error.reason' in text):
                    missing.append(f"{schema.page}: {declared.error} reason {reason}")
    assert not missing, missing


def test_every_spec_reference_resolves() -> None:
    for schema in pages.schemas():
        for ref in schema.spec:
            specrefs.resolve(ref)


SCHEMA = Schema(
    page="selftest", summary="s", spec=("errors.md#invalidvalue",),
    inputs=(inp("data", "hex:2", "two bytes"), inp("gas", "uint", "gas", default=10),
            inp("ctx", "{Ctx}", "context", default={}),
            inp("value", "uint", "value", default=Computed("ctx.received", lambda given: given["ctx"]["received"])),
            inp("payload", "hex|null", "payload", optional=True), inp("args", "hex", "args", default="0x", unless="payload")),
    outputs=(out("n", "uint:8", "n"), out("extra", "bool", "extra", optional=True)),
    raises=(raises("InvalidValue", ("empty", "too_long"), "bad"), raises("InvalidEncoding", (), "undecodable")),
    records=(Record("Ctx", "c", (inp("received", "uint", "r", default=0), inp("who", "hex:24", "w", default="0x" + "00" * 24))),),
)


def test_defaults_are_written_explicitly() -> None:
    assert SCHEMA.complete({"data": "0x0102"}) == {
        "data": "0x0102", "gas": 10, "ctx": {"received": 0, "who": "0x" + "00" * 24}, "value": 0, "args": "0x"}
    assert SCHEMA.complete({"data": "0x0102", "ctx": {"received": 7}, "payload": None}) == {
        "data": "0x0102", "gas": 10, "ctx": {"received": 7, "who": "0x" + "00" * 24}, "value": 7, "payload": None}


@pytest.mark.parametrize(("inputs", "outcome", "problem"), [
    ({"data": "0x01"}, {"output": {"n": 1}}, "inputs.data: '0x01' is not hex:2"),
    ({"data": "0x0102", "junk": 1}, {"output": {"n": 1}}, "inputs.junk: not a field the schema lists"),
    ({"data": "0x0102", "gas": -1}, {"output": {"n": 1}}, "inputs.gas: -1 is not uint"),
    ({"data": "0x0102", "gas": True}, {"output": {"n": 1}}, "inputs.gas: True is not uint"),
    ({"data": "0x0102", "ctx": {"who": "0x00"}}, {"output": {"n": 1}}, "inputs.ctx.who: '0x00' is not hex:24"),
    ({}, {"output": {"n": 1}}, "inputs.data: missing"),
    ({"data": "0x0102"}, {"output": {"n": 256}}, "output.n: 256 is not uint:8"),
    ({"data": "0x0102"}, {"output": {}}, "output.n: missing"),
    ({"data": "0x0102"}, {"output": {"n": 1, "m": 2}}, "output.m: not a field the schema lists"),
    ({"data": "0x0102"}, {"error": "InvalidProof"}, "error class 'InvalidProof' is not one the schema lists"),
    ({"data": "0x0102"}, {"error": "InvalidValue", "reason": "other"},
     "InvalidValue reason 'other' is not one the schema lists"),
])
def test_a_case_that_disagrees_with_its_schema_is_refused(inputs, outcome, problem) -> None:
    assert problem in SCHEMA.problems(SCHEMA.complete(inputs), outcome)


def test_agreeing_cases_pass() -> None:
    complete = SCHEMA.complete({"data": "0x0102", "payload": "0xff"})
    assert SCHEMA.problems(complete, {"output": {"n": "255", "extra": False}}) == []
    assert SCHEMA.problems(complete, {"error": "InvalidValue", "reason": "too_long"}) == []
    assert SCHEMA.problems(complete, {"error": "InvalidEncoding"}) == []


def test_a_page_names_every_input_output_and_reason() -> None:
    SCHEMA.keys[:] = ["selftest/x/y"]
    page = __import__("smspec.conformance.schema", fromlist=["render_page"]).render_page(SCHEMA)
    for text in ("`data`", "`hex:2`", "`10`", "ctx.received", "(unless `payload` is given)", "`n`",
                 "`empty`, `too_long`", "(class only)", "## Ctx", "`received`"):
        assert text in page, text
