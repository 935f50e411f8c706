"""Optimized twins of the spec: same names and signatures, proven equal by tests."""
