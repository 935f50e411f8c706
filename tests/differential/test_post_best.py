"""impl (numpy top-K) and gpu (OpenCL scores) best-labels provers against the spec, with Hypothesis.

Inputs cover valid streams (any chunking and order, missing data) and every invalid chunk the
spec rejects (overlaps, empty ranges inside others, beyond the declared size, partial labels,
unknown identities, too few labels, bad K); outcomes must be equal: the same proof, or the same
error class and reason.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smspec import spec
from smspec.impl import post_best as impl
from smspec.spec.errors import SpecError

PB = spec.load("post_best", "tiny")


def original(name: str) -> Any:
    return PB.__dict__.get("__spec_originals__", {}).get(name) or getattr(PB, name)


def outcome(function: Any, *args: Any) -> tuple[Any, ...]:
    try:
        return ("ok", function(*args))
    except SpecError as error:
        return (type(error).__name__, error.reason)


@st.composite
def proving_inputs(draw: st.DrawFn) -> tuple[Any, ...]:
    count = draw(st.integers(1, 3))
    identities = [
        PB.BestIdentity(node_id=bytes([n + 1]) * 32, commitment_atx_id=bytes(32), num_units=draw(st.integers(0, 2)))
        for n in range(count)
    ]
    chunks = []
    for _ in range(draw(st.integers(0, 8))):
        identity = draw(st.integers(0, count)) if draw(st.booleans()) else draw(st.integers(0, count - 1))
        first = draw(st.integers(-1, 260))
        labels = draw(st.integers(0, 80))
        data = draw(st.binary(min_size=labels * 16, max_size=labels * 16))
        if draw(st.integers(0, 20)) == 0:
            data += b"\x00"  # a partial label
        chunks.append(PB.LabelChunk(identity=identity, first_index=first, data=data))
    # Mostly well-formed streams: the data of each identity cut into consecutive chunks.
    if draw(st.booleans()):
        chunks = []
        for position, identity in enumerate(identities):
            total = PB.identity_num_labels(identity)
            cut = 0
            while cut < total:
                size = draw(st.integers(1, 97))
                size = min(size, total - cut)
                if draw(st.integers(0, 5)) > 0:  # some chunks missing
                    data = draw(st.binary(min_size=16 * size, max_size=16 * size))
                    chunks.append(PB.LabelChunk(identity=position, first_index=cut, data=data))
                cut += size
        chunks = draw(st.permutations(chunks))
    k = draw(st.integers(0, 40))
    challenge = draw(st.binary(min_size=32, max_size=32))
    return identities, list(chunks), challenge, k


@settings(max_examples=150)
@given(proving_inputs())
def test_impl_prove_best_equals_spec(inputs):
    identities, chunks, challenge, k = inputs
    want = outcome(original("prove_best"), identities, chunks, challenge, k)
    got = outcome(impl.make_prover(PB, impl.score_chunk), identities, iter(chunks), challenge, k)
    assert got == want


def test_impl_equals_spec_testnet_k256():
    """One larger case: testnet preset (1024 labels per unit), three identities of 2 SU, K = 256."""
    import numpy as np

    pb = spec.load("post_best", "testnet")
    spec_prove = pb.__dict__.get("__spec_originals__", {}).get("prove_best") or pb.prove_best
    identities = [pb.BestIdentity(node_id=bytes([n + 1]) * 32, commitment_atx_id=bytes(32), num_units=2) for n in range(3)]
    rng = np.random.default_rng(5)
    chunks = [
        pb.LabelChunk(identity=n, first_index=start, data=rng.integers(0, 256, size=16 * 500, dtype=np.uint8).tobytes()[: 16 * (min(2048, start + 500) - start)])
        for n in range(3) for start in range(0, 2048, 500)
    ]
    want = spec_prove(identities, chunks, bytes(range(32)), pb.POST_BEST_K)
    got = impl.make_prover(pb, impl.score_chunk)(identities, iter(chunks[::-1]), bytes(range(32)), pb.POST_BEST_K)
    assert got == want
    assert len(pb.proof_entries(got)) == 256


@given(st.binary(min_size=16, max_size=16), st.lists(st.binary(min_size=16, max_size=16), max_size=20))
def test_impl_chunk_scores_equal_spec(key, labels):
    data = b"".join(labels)
    assert impl.chunk_scores(key, data) == original("chunk_scores")(key, data)


# OpenCL scores: on the engine's configuration (id "chosen-...") and every other configuration, on
# every device, that passes its self-check (tests/plugin.py parametrizes `opencl_score`).


@pytest.mark.gpu
@settings(max_examples=40)
@given(proving_inputs())
def test_gpu_prove_best_equals_spec(opencl_score, inputs):
    identities, chunks, challenge, k = inputs
    want = outcome(original("prove_best"), identities, chunks, challenge, k)
    got = outcome(impl.make_prover(PB, opencl_score.scores), identities, iter(chunks), challenge, k)
    assert got == want


@pytest.mark.gpu
@given(st.binary(min_size=16, max_size=16), st.lists(st.binary(min_size=16, max_size=16), max_size=300))
def test_gpu_scores_equal_spec(opencl_score, key, labels):
    data = b"".join(labels)
    assert [int(s) for s in opencl_score.scores(key, data)] == original("chunk_scores")(key, data)


@pytest.mark.gpu
def test_gpu_registered_scores_equal_spec():
    # the registered replacement runs the engine's choice
    from smspec.gpu import post_best as gpu

    key, data = bytes(range(16)), bytes(range(256)) * 5
    assert gpu.chunk_scores(key, data) == original("chunk_scores")(key, data)
