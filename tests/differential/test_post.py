"""impl/post.py (and gpu/post.py where OpenCL exists) against spec/post.md, on Hypothesis inputs.

The spec side always calls the spec's own definitions, even when a backend patched the module.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smspec.impl import post as impl
from smspec.spec import load
from smspec.spec.errors import SpecError

post = load("post")


def spec_function(name: str) -> Any:
    return post.__dict__.get("__spec_originals__", {}).get(name) or getattr(post, name)


def outcome(function: Any, *args: Any) -> tuple[Any, ...]:
    try:
        return ("ok", function(*args))
    except SpecError as error:
        return (type(error).__name__, error.reason)


@settings(max_examples=25)
@given(commitment=st.binary(min_size=32, max_size=32), start=st.integers(0, 2**64 - 1),
       count=st.integers(0, 11), log_n=st.integers(1, 5), lanes=st.integers(1, 5))
def test_compute_labels(commitment: bytes, start: int, count: int, log_n: int, lanes: int) -> None:
    # small lane counts put batch edges and a last partial batch inside most ranges
    start = min(start, 2**64 - count) if count else start
    old = impl.MAX_LANES
    impl.MAX_LANES = lanes
    try:
        got = outcome(impl.compute_labels, commitment, start, count, 2**log_n)
    finally:
        impl.MAX_LANES = old
    assert got == outcome(spec_function("compute_labels"), commitment, start, count, 2**log_n)


@settings(max_examples=25)
@given(commitment=st.binary(min_size=0, max_size=33), start=st.integers(-1, 2**64 + 1),
       count=st.integers(-1, 2), scrypt_n=st.sampled_from([0, 1, 2, 3, 4, 6]))
def test_compute_labels_errors(commitment: bytes, start: int, count: int, scrypt_n: int) -> None:
    assert outcome(impl.compute_labels, commitment, start, count, scrypt_n) == \
        outcome(spec_function("compute_labels"), commitment, start, count, scrypt_n)


@st.composite
def proving_inputs(draw):
    num_labels = draw(st.integers(1, 200))
    labels = draw(st.binary(min_size=16 * num_labels, max_size=16 * num_labels))
    if draw(st.booleans()):
        # few distinct labels: many ties between nonces, groups and chunks
        alphabet = [draw(st.binary(min_size=16, max_size=16)) for _ in range(3)]
        labels = b"".join(alphabet[draw(st.integers(0, 2))] for _ in range(num_labels))
    groups = draw(st.integers(1, 3))
    first_nonce = 16 * draw(st.integers(0, 20))
    pows = draw(st.lists(st.integers(0, 2**64 - 1), min_size=groups, max_size=groups))
    k1 = draw(st.integers(1, 40))
    # a top byte of 0 (any real data size: only equal top bytes, all decided by the low bits),
    # the honest k1 difficulty of this tiny data set, or any
    difficulty = draw(st.one_of(st.integers(0, 2**56 - 1),
                                st.just(min(2**64 - 1, 2**64 * k1 // max(num_labels, 1))),
                                st.integers(0, 2**64 - 1)))
    if draw(st.booleans()):
        difficulty = (difficulty >> 56) << 56 | draw(st.integers(0, 2**56 - 1))
    k2 = draw(st.integers(1, 12))
    challenge = draw(st.binary(min_size=32, max_size=32))
    return labels, challenge, first_nonce, 16 * groups, pows, difficulty, k2


def _with(settings_: dict[str, int], function: Any, *args: Any) -> tuple[Any, ...]:
    old = {name: getattr(impl, name) for name in settings_}
    for name, value in settings_.items():
        setattr(impl, name, value)
    try:
        return outcome(function, *args)
    finally:
        for name, value in old.items():
            setattr(impl, name, value)


@settings(max_examples=40)
@given(proving_inputs(), st.integers(1, 64), st.integers(1, 40), st.booleans())
def test_find_passing_nonce(inputs, slice_labels: int, batch: int, wide_codes: bool) -> None:
    # small AES slices put slice edges inside chunks of 8 labels; small candidate batches are
    # decided inside a slice and across slices; wide codes take the int64 path
    got = _with({"AES_SLICE_LABELS": slice_labels, "LOW_BITS_BATCH": batch, "CODE_INT32_LIMIT": 0 if wide_codes else 2**31},
                impl.find_passing_nonce, *inputs)
    assert got == outcome(spec_function("find_passing_nonce"), *inputs)


@settings(max_examples=10)
@given(proving_inputs(), st.integers(2**31, 2**40), st.integers(2**55, 2**56 - 1))
def test_passing_events_far_first_index(inputs, first_index: int, low_difficulty: int) -> None:
    # a read batch far into the data: int32 candidate codes, int64 label indices (a top byte of
    # 0 and a high low-bits limit: many pass, all by the low bits)
    labels, challenge, first_nonce, nonce_count, pows, difficulty, _ = inputs
    difficulty = low_difficulty
    near = impl.passing_events(labels, 0, challenge, first_nonce, pows, difficulty)
    far = impl.passing_events(labels, first_index, challenge, first_nonce, pows, difficulty)
    assert far.keys() == near.keys()
    for nonce, rows in near.items():
        assert far[nonce].dtype == np.int64 and far[nonce].tolist() == [first_index + int(row) for row in rows]


@settings(max_examples=5, deadline=None)
@given(labels=st.integers(1, 12).flatmap(lambda n: st.binary(min_size=16 * n, max_size=16 * n)),
       challenge=st.binary(min_size=32, max_size=32), msb=st.sampled_from([0, 1, 0x40]),
       lsb=st.integers(0, 2**56 - 1), groups=st.integers(17, 18))
def test_find_passing_nonce_many_groups(labels: bytes, challenge: bytes, msb: int, lsb: int, groups: int) -> None:
    # more than 16 groups: 16-bit candidate keys
    inputs = (labels, challenge, 16, 16 * groups, list(range(groups)), msb << 56 | lsb, 2)
    assert outcome(impl.find_passing_nonce, *inputs) == outcome(spec_function("find_passing_nonce"), *inputs)


@settings(max_examples=60)
@given(words=st.integers(1, 40), data=st.data())
def test_set_bits(words: int, data) -> None:
    # sparse (the usual case), multi-bit words (two rounds, then unpacking) and dense masks
    bits = data.draw(st.one_of(st.sets(st.integers(0, 64 * words - 1), max_size=8 * words),
                               st.just(set(range(64 * words))),
                               st.sets(st.integers(0, 64 * words - 1), max_size=64 * words)))
    flags = np.zeros(64 * words, dtype=bool)
    flags[sorted(bits)] = True
    masks = np.packbits(flags, bitorder="little")
    assert sorted(impl._set_bits(masks).tolist()) == sorted(bits)


@settings(max_examples=15)
@given(proving_inputs(), st.integers(1, 40), st.integers(1, 7), st.integers(1, 3))
def test_streaming_scan_matches_spec(tmp_path_factory, inputs, per_file_labels, batch, threads) -> None:
    labels, challenge, first_nonce, nonce_count, pows, difficulty, k2 = inputs
    tmp = tmp_path_factory.mktemp("data")
    metadata = post.PostMetadata(bytes(32), bytes(32), len(labels) // 16, 1, 16 * per_file_labels)
    for k in range(post.num_files(metadata)):
        first, end = post.file_label_range(metadata, k)
        (tmp / post.data_file_name(k)).write_bytes(labels[16 * first:16 * end])
    old = impl.READ_BATCH_LABELS
    impl.READ_BATCH_LABELS = 8 * batch
    try:
        got = impl.scan_data(str(tmp), metadata, challenge, first_nonce, pows, difficulty, k2, threads=threads)
    finally:
        impl.READ_BATCH_LABELS = old
    assert got == spec_function("find_passing_nonce")(labels, challenge, first_nonce, nonce_count, pows, difficulty, k2)


def _randomx_missing() -> bool:
    import ctypes

    try:
        ctypes.CDLL("librandomx.so.0")
    except OSError:
        return True
    return False


@pytest.mark.skipif(_randomx_missing(), reason="librandomx0 is not installed")
@settings(max_examples=2)
@given(group=st.integers(0, 255), challenge=st.binary(min_size=32, max_size=32),
       miner=st.binary(min_size=32, max_size=32), top=st.sampled_from([0x3F, 0x7F, 0xFF]))
def test_k2pow(group: int, challenge: bytes, miner: bytes, top: int) -> None:
    difficulty = bytes([top]) + b"\xff" * 31
    fast = impl._find_k2pow_factory(post)(challenge, group, difficulty, miner)
    assert fast == spec_function("find_k2pow")(challenge, group, difficulty, miner)
    verify = impl._verify_k2pow_factory(post)
    assert verify(fast, group, challenge, difficulty, miner)
    assert verify(fast, group, challenge, difficulty, miner) == spec_function("verify_k2pow")(
        fast, group, challenge, difficulty, miner)


# --------------------------------------------------------------------------------------------
# OpenCL (gpu/scrypt.cl through gpu/post.py); pocl runs these on the CPU. Each test runs on the
# configuration the engine chose (id "chosen-...") and on every other configuration, on every
# device, that passes its self-check (tests/plugin.py parametrizes `opencl_scrypt`).


@pytest.mark.gpu
@settings(max_examples=20)
@given(commitment=st.binary(min_size=32, max_size=32), start=st.integers(0, 2**64 - 1),
       count=st.integers(1, 23), log_n=st.integers(1, 6), batch=st.integers(1, 9))
def test_opencl_labels(opencl_scrypt, commitment: bytes, start: int, count: int, log_n: int, batch: int) -> None:
    # batch sizes below the range length give several launches, the last one partial, and
    # launches that end inside a work item of several labels
    start = min(start, 2**64 - count)
    got = opencl_scrypt.outputs(commitment, start, count, 2**log_n, batch=batch)[0]
    assert got == spec_function("compute_labels")(commitment, start, count, 2**log_n)


@pytest.mark.gpu
@settings(max_examples=15)
@given(commitment=st.binary(min_size=32, max_size=32), start=st.integers(0, 2**40), count=st.integers(1, 40),
       log_n=st.integers(1, 4), batch=st.integers(1, 16),
       difficulty=st.one_of(st.binary(min_size=32, max_size=32),
                            st.integers(0, 255).map(lambda top: bytes([top]) + b"\xff" * 31)))
def test_opencl_vrf_scan(opencl_scrypt, commitment: bytes, start: int, count: int, log_n: int, batch: int,
                         difficulty: bytes) -> None:
    outputs, below = opencl_scrypt.outputs(commitment, start, count, 2**log_n, batch=batch, difficulty=difficulty)
    expected = spec_function("compute_labels")(commitment, start, count, 2**log_n)
    assert outputs == expected
    assert below == [i for i in range(count) if expected[32 * i:32 * i + 32] < difficulty]


@pytest.mark.gpu
@settings(max_examples=15)
@given(commitment=st.binary(min_size=0, max_size=33), start=st.integers(0, 2**64 + 1),
       count=st.integers(-1, 12), scrypt_n=st.sampled_from([1, 2, 3, 8, 32]))
def test_opencl_compute_labels(commitment: bytes, start: int, count: int, scrypt_n: int) -> None:
    # the registered replacement (the engine's choice) with the spec's argument checks
    from smspec.gpu import post as gpu

    assert outcome(gpu.compute_labels, commitment, start, count, scrypt_n) == \
        outcome(spec_function("compute_labels"), commitment, start, count, scrypt_n)


@pytest.mark.gpu
@settings(max_examples=15)
@given(commitment=st.binary(min_size=32, max_size=32), start=st.integers(0, 2**40),
       count=st.integers(0, 40), log_n=st.integers(1, 4),
       difficulty=st.one_of(st.binary(min_size=32, max_size=32),
                            st.integers(0, 255).map(lambda top: bytes([top]) + b"\xff" * 31),
                            st.binary(max_size=40)))
def test_opencl_initialize_range(commitment: bytes, start: int, count: int, log_n: int, difficulty: bytes) -> None:
    from smspec.gpu import post as gpu

    expected = outcome(spec_function("initialize_range"), commitment, start, count, 2**log_n, difficulty)
    assert outcome(gpu.initialize_range, commitment, start, count, 2**log_n, difficulty) == expected
    assert outcome(impl.initialize_range, commitment, start, count, 2**log_n, difficulty) == expected


from smspec.tests.spec.post.helpers import needs_randomx  # noqa: E402


@pytest.fixture(scope="module")
def tiny_datadir(tmp_path_factory):
    from smspec.tests.spec.post.helpers import COMMITMENT_ATX_ID, NODE_ID, TINY_UNITS

    tiny = load("post", "tiny")
    directory = tmp_path_factory.mktemp("tiny_post")
    tiny.initialize(str(directory), NODE_ID, COMMITMENT_ATX_ID, TINY_UNITS, tiny.LABELS_PER_UNIT,
                    tiny.MAX_FILE_SIZE, tiny.SCRYPT_N)
    return str(directory)


@needs_randomx
@settings(max_examples=6)
@given(challenge=st.binary(min_size=32, max_size=32), nonces=st.sampled_from([16, 32]))
def test_generate_proof(tiny_datadir: str, challenge: bytes, nonces: int) -> None:
    """The streaming prover finds exactly the spec's proof (nonce, indices, k2pow)."""
    from smspec.impl.registry import all_replacements

    tiny = load("post", "tiny")
    spec_prove = tiny.__dict__.get("__spec_originals__", {}).get("generate_proof") or tiny.generate_proof
    (replacement,) = [r for r in all_replacements() if r.module == "post" and r.name == "generate_proof"]
    impl_prove = replacement.function(tiny) if replacement.factory else replacement.function
    assert outcome(impl_prove, tiny_datadir, challenge, nonces) == outcome(spec_prove, tiny_datadir, challenge, nonces)


@settings(max_examples=25)
@given(key=st.one_of(st.sampled_from(list(impl._TWEAK_KEYS)), st.binary(min_size=16, max_size=16)),
       blocks=st.lists(st.integers(1, 300), min_size=1, max_size=3), data=st.data())
def test_ecb_encryptor(key: bytes, blocks: list[int], data) -> None:
    # XTS with a zero tweak gives AES-128-ECB's outputs, call after call on one encryptor (also
    # for a key equal to one of the candidate second keys)
    from Crypto.Cipher import AES

    encryptor = impl._ecb_encryptor(key)
    for count in blocks:
        plain = data.draw(st.binary(min_size=16 * count, max_size=16 * count))
        out = bytearray(16 * count + 16)
        encryptor.update_into(plain, out)
        assert bytes(out[:16 * count]) == AES.new(key, AES.MODE_ECB).encrypt(plain)


def test_ecb_encryptor_longest_data_unit() -> None:
    from Crypto.Cipher import AES

    plain = np.random.default_rng(17).integers(0, 256, 16 * impl.XTS_MAX_BLOCKS, dtype=np.uint8).tobytes()
    out = bytearray(len(plain) + 16)
    impl._ecb_encryptor(bytes(16)).update_into(plain, out)
    assert bytes(out[:len(plain)]) == AES.new(bytes(16), AES.MODE_ECB).encrypt(plain)
