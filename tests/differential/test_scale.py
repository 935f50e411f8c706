"""impl/scale.py against spec/scale.md: same result or same error (class and reason).

Hypothesis drives random codecs (nested structs, slices, arrays, options), random and mutated
byte strings and random (often invalid) values through both; CrossHair searches the compact
integer helpers symbolically (a short run in the default suite, a long one marked slow).
"""

from __future__ import annotations

import os
import subprocess
import sys

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smspec.impl import registry
from smspec.impl import scale as impl
from smspec.spec import scale
from smspec.tests.differential.scale_outcomes import BITS, outcome
from smspec.tests.spec.scale.strategies import codec_and_bytes, codecs, maybe_invalid_values

pytestmark = pytest.mark.usefixtures("spec_backend")


def full_outcome(function, *args):
    try:
        return outcome(function, *args)
    except TypeError:
        return ("TypeError",)


def test_every_replaced_function_is_covered():
    replaced = {r.name for r in registry.all_replacements() if r.module == "scale"}
    assert replaced == {"encode", "decode", "decode_prefix", "encode_compact", "decode_compact"}
    assert impl.MAX_NESTED == scale.MAX_NESTED


@given(st.data())
@settings(max_examples=400)
def test_encode(data):
    codec = data.draw(codecs())
    value = data.draw(maybe_invalid_values(codec))
    assert full_outcome(impl.encode, value, codec) == full_outcome(scale.encode, value, codec)


@given(codec_and_bytes())
@settings(max_examples=600)
def test_decode(case):
    codec, data = case
    assert full_outcome(impl.decode, data, codec) == full_outcome(scale.decode, data, codec)
    assert full_outcome(impl.decode_prefix, data, codec) == full_outcome(scale.decode_prefix, data, codec)
    assert full_outcome(impl.decode, bytearray(data), codec) == full_outcome(scale.decode, bytearray(data), codec)


edge_ints = st.sampled_from([0, 63, 64, 255, 256, 16383, 16384, 65535, 65536, 2**30 - 1, 2**30,
                             2**32 - 1, 2**32, 2**64 - 1, 2**64, -1])


@given(edge_ints | st.integers(-(2**70), 2**70) | st.sampled_from([True, 1.0, "1", None]), st.sampled_from(BITS))
@settings(max_examples=500)
def test_encode_compact(value, bits):
    assert full_outcome(impl.encode_compact, value, bits) == full_outcome(scale.encode_compact, value, bits)


@given(st.binary(max_size=12), st.integers(0, 12), st.sampled_from(BITS))
@settings(max_examples=1000)
def test_decode_compact(data, offset, bits):
    offset = min(offset, len(data))
    assert full_outcome(impl.decode_compact, data, offset, bits) == full_outcome(scale.decode_compact, data, offset, bits)


@attrs.frozen
class CompactFields:
    """A struct whose decoder the impl generates with inline compact fast paths."""

    a: int = scale.scale_field(scale.Compact8)
    b: int = scale.scale_field(scale.Compact16)
    c: int = scale.scale_field(scale.Compact32)
    d: int = scale.scale_field(scale.Compact64)


compact_bytes = st.lists(
    st.sampled_from(["00", "fc", "0101", "fd00", "fd03", "0104", "fdff", "02000100", "feff0000", "feff0300",
                     "feff0400", "feffffff", "0300000040", "03ffffff3f", "070000008000", "13ffffffffffffffff",
                     "ff", "01", "02", "03"]) | st.binary(max_size=5).map(bytes.hex),
    max_size=5,
).map(lambda parts: bytes.fromhex("".join(parts)))


@given(compact_bytes)
@settings(max_examples=1000)
def test_decode_struct_of_compacts(data):
    assert full_outcome(impl.decode, data, CompactFields) == full_outcome(scale.decode, data, CompactFields)


@given(st.lists(edge_ints | st.integers(-(2**65), 2**65), min_size=4, max_size=4))
@settings(max_examples=500)
def test_encode_struct_of_compacts(values):
    value = CompactFields(*values)
    assert full_outcome(impl.encode, value, CompactFields) == full_outcome(scale.encode, value, CompactFields)


def run_crosshair(name: str, seconds: float) -> None:
    """`crosshair diffbehavior` of spec_<name> against impl_<name>; fails on any difference."""
    module = "smspec.tests.differential.scale_outcomes"
    command = [
        sys.executable, "-m", "crosshair", "diffbehavior", "--exception_equivalence", "SAME_TYPE",
        "--per_condition_timeout", str(seconds), f"{module}.spec_{name}", f"{module}.impl_{name}",
    ]
    env = dict(os.environ, SMSPEC_BACKEND="spec")
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds * 10 + 120, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No differences found" in result.stdout


def test_crosshair_decode_compact_quick():
    run_crosshair("decode_compact", 4)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["encode_compact", "decode_compact"])
def test_crosshair_long(name):
    run_crosshair(name, 120)
