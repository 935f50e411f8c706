"""Counterexamples of the bounded checker as ``tortoise/events/trace`` vectors (docs/check.md).

``smspec check claims --write`` explores each claim whose bounds exceed the protocol's
assumptions, minimises the violating schedule and records each honest node's events and the
records the handler gives for them (``check_counterexamples.py``). Replaying them, a client sees
the outcome that breaks the claim's invariant (for the heavy-byzantine claim: the verified layer
stays behind). ``tests/unit/test_check_claims.py`` re-explores and checks that the same data
comes out.
"""

from __future__ import annotations

from smspec.conformance.cases import Case, vector_source

from .check_counterexamples import COUNTEREXAMPLES


@vector_source("tortoise", "events", "trace", presets=("mainnet",))
def test_check_counterexample_vectors():
    for document in COUNTEREXAMPLES:
        violation = document["minimised"]["violations"][0]
        for node, trace in enumerate(document["traces"]):
            yield Case(f"check_{document['name']}_node{'ab'[node]}", inputs=trace["inputs"],
                       expected=trace["outputs"], spec_ref="tortoise.md#tally_votes",
                       description=f"honest node {'AB'[node]} of a minimised counterexample of `smspec check "
                                   f"tortoise` (claim {document['claim']}, bounds {document['bounds']}): {violation}")
