"""Every vector case explains itself (issue 15): a description, a ``spec_ref`` that resolves to a
heading of the documentation site, and, for Athena, the source its program was built from.

``VectorSource.cases()`` refuses an unexplained case, so every spec test (and ``smspec vectors
generate``) fails on one; these tests check the mechanism and that anchors resolve exactly as
MyST (the docs site) makes them.
"""

from __future__ import annotations

import contextlib
import io
import re

import pytest
from smspec.conformance import specrefs
from smspec.conformance.cases import Case, UnexplainedCase, VectorSource, input_sources, spec_output


def myst_anchors(document: str) -> list[str]:
    """The anchors MyST's own `myst-anchors` tool gives the headings of level 1 to 4."""
    cli = pytest.importorskip("myst_parser.cli", reason="myst-parser (a docs dependency) is not installed")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        cli.print_anchors([str(specrefs.spec_dir() / document), "-l", str(specrefs.ANCHOR_LEVELS)])
    return re.findall(r'id="([^"]*)"', out.getvalue())


@pytest.mark.parametrize("document", specrefs.documents())
def test_anchors_are_the_docs_sites(document: str) -> None:
    assert [h.slug for h in specrefs.headings(document) if h.slug] == myst_anchors(document)


def test_resolution_examples() -> None:
    assert specrefs.resolve("scale.md#encode_uint-decode_uint").names == ("encode_uint", "decode_uint")
    assert specrefs.resolve("crypto.md#domain").names == ("Domain",)
    assert specrefs.anchor_of("hare.md", "grade_since") == "hare.md#grade_since-upstream_grade_since"
    for bad, message in [
        ("crypto.md#Domain", "did you mean 'crypto.md#domain'"),
        ("hare.md#grade_since", "did you mean 'hare.md#grade_since-upstream_grade_since'"),
        ("post.md#verify-proof", "did you mean 'post.md#verify_proof'"),
        ("nosuch.md#x", "no spec document 'nosuch.md'"),
        ("scale.md", "is not of the form document.md#anchor"),
    ]:
        with pytest.raises(specrefs.BadReference, match=re.escape(message)):
            specrefs.resolve(bad)
    assert specrefs.has_decision("scale.md#string")
    assert not specrefs.has_decision("scale.md#encode_uint-decode_uint")


def source_of(*cases: Case) -> VectorSource:
    return VectorSource("selftest", "bytes", "reverse", ("mainnet",), lambda: iter(cases))


@pytest.mark.parametrize(("case", "message"), [
    (Case("a", inputs={}, check=spec_output, spec_ref="scale.md#string"), "case 'a' has no description"),
    (Case("b", inputs={}, check=spec_output, description="x"), "spec_ref '' is not of the form"),
    (Case("c", inputs={}, check=spec_output, description="x", spec_ref="scale.md#String"),
     "did you mean 'scale.md#string'"),
])
def test_unexplained_cases_are_refused(case: Case, message: str) -> None:
    with pytest.raises(UnexplainedCase, match=re.escape(message)):
        source_of(case).cases()


def test_athena_cases_carry_their_program_source() -> None:
    from smspec.conformance.execute import discover_sources

    missing = []
    count = 0
    for source in discover_sources():
        if source.domain != "athena" or source.handler not in ("run", "call"):
            continue  # the programs' cases (athena/wire/execution_payload has no program)
        for case in source.cases():
            count += 1
            made = input_sources(case.inputs).get("program")
            if made is None or not (made.get("text") is not None or made.get("files") or made.get("derived_from")):
                missing.append(f"{source.key}/{case.name}")
            elif "built_with" not in made and "patch" not in made:
                missing.append(f"{source.key}/{case.name} (no build description)")
    assert count > 200 and not missing, missing[:10]
