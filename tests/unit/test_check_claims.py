"""The Claims sections of the spec documents are what the bounded checker recorded, and a new run
reproduces the record (smspec.tools.check.claims, docs/check.md).

``tools/check/results.json`` is written by ``smspec check claims --write``; the tables at the end
of spec/hare.md, spec/hare4.md and spec/tortoise.md are rendered from it, and the counterexample
vectors (tests/spec/<domain>/check_counterexamples.py) are its violated claims' minimised
schedules. The numbers are deterministic (breadth-first levels, canonical state keys), so these
tests compare them exactly; the claims with larger bounds run only with ``-m slow``.
"""

from __future__ import annotations

import importlib

import pytest
from smspec.tools.check import claims

RECORDED = claims.load_results()
FAST = [c for c in claims.CLAIMS if not c.slow]
SLOW = [c for c in claims.CLAIMS if c.slow]


def test_every_claim_is_recorded_with_its_expected_verdict():
    assert sorted(RECORDED) == sorted(c.id for c in claims.CLAIMS)
    for claim in claims.CLAIMS:
        assert RECORDED[claim.id]["verdict"] == claim.expect, claim.id
        if claim.expect == "holds":
            assert RECORDED[claim.id]["complete"] is True, claim.id


@pytest.mark.parametrize("document", sorted({d for c in claims.CLAIMS for d in c.documents}))
def test_claims_sections_are_rendered_from_the_results(document):
    text = (claims.SPEC_DIR / f"{document}.md").read_text(encoding="utf-8")
    assert text.count("\n## Bounded checking\n") == 1
    assert text == claims.with_claims_section(text, document, RECORDED)
    section = text[text.index("\n## Bounded checking\n"):text.index("\n## Claims\n")]
    assert "| Claim | Checked by | Checking done |" in section
    for claim in claims.CLAIMS:
        if document in claim.documents:
            assert f"`{claim.command}`" in section and f"{RECORDED[claim.id]['explored']:,} states explored" in section


def _reproduce(claim):
    record, document = claims.check(claim)
    known = RECORDED[claim.id]
    assert {k: record[k] for k in claims.COMPARED} == {k: known[k] for k in claims.COMPARED}
    if claim.vector is not None:
        module = importlib.import_module(f"smspec.tests.spec.{claim.model}.check_counterexamples")
        stored = {d["name"]: d for d in module.COUNTEREXAMPLES}
        assert document == stored[claim.vector]


@pytest.mark.parametrize("claim", FAST, ids=[c.id for c in FAST])
def test_fast_claims_reproduce_their_results(claim):
    _reproduce(claim)


@pytest.mark.slow
@pytest.mark.parametrize("claim", SLOW, ids=[c.id for c in SLOW])
def test_slow_claims_reproduce_their_results(claim):
    _reproduce(claim)
