"""Counterexamples of the bounded checker as ``hare/protocol/trace`` vectors (docs/check.md).

``smspec check claims --write`` explores each claim whose bounds exceed the protocol's
assumptions, minimises the violating schedule and records, per honest node, the node's trace
(its initial list, then every ``next_round`` and ``on_input`` in order) and the outputs the
handler gives for it (``check_counterexamples.py``). A client replaying every node's trace of one
counterexample sees the outcome that breaks the claim's invariant (for a termination
counterexample: no node outputs a result by the last hardlock).
``tests/unit/test_check_claims.py`` re-explores and checks that the same data comes out.
"""

from __future__ import annotations

from smspec.conformance.cases import Case, vector_source

from .check_counterexamples import COUNTEREXAMPLES


@vector_source("hare", "protocol", "trace")
def test_check_counterexample_vectors():
    for document in COUNTEREXAMPLES:
        violation = document["minimised"]["violations"][0]
        for node, trace in enumerate(document["traces"]):
            yield Case(f"check_{document['name']}_node{node}", inputs=trace["inputs"], expected=trace["outputs"],
                       spec_ref="hare.md#next_round",
                       description=f"honest node {node} of a minimised counterexample of `smspec check hare` "
                                   f"(claim {document['claim']}, bounds {document['bounds']}): {violation}")
