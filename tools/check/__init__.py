"""Exhaustive bounded checking of Hare and the Tortoise on the spec's own code (docs/check.md).

``explore`` enumerates a model level by level (``search`` depth first); the models (``hare``,
``tortoise``) drive the normative spec functions and supply only the environment; ``minimize``
shrinks counterexamples; ``vectors`` turns them into conformance vectors; ``claims`` runs the
checks behind the spec documents' Claims sections.
"""
