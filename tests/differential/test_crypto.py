"""impl/crypto.py against spec/crypto.md: same result or same error (class and reason).

Hypothesis draws seeds, messages and alphas, and also hostile inputs: random 32-byte strings as
public keys and Gamma points, points with a torsion component, small-order points, non-canonical
encodings, scalars at and above the group order, and Merkle leaves of any length (including the
empty leaves MT treats specially).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smspec.impl import registry
from smspec.spec import crypto as spec

L = spec.GROUP_ORDER


@pytest.fixture(autouse=True, scope="module")
def spec_backend():
    """Run the spec side unpatched, whatever backend the session uses; restore it afterwards."""
    previous = registry.active_backend()
    registry.use_backend("spec")
    yield
    registry.use_backend(previous)


def impl_function(name: str):
    for r in registry.all_replacements():
        if r.module == "crypto" and r.name == name and r.backend == "impl":
            return r.function(spec) if r.factory else r.function
    raise LookupError(name)


def outcome(function, *args):
    try:
        return ("ok", function(*args))
    except Exception as error:  # noqa: BLE001 - compared by class and reason
        return ("error", type(error).__name__, getattr(error, "reason", None))


def same(name: str, *args):
    expected = outcome(getattr(spec, name), *args)
    got = outcome(impl_function(name), *args)
    assert got == expected, (name, args)


def torsion_points() -> list[bytes]:
    points = []
    for y in range(2, 60):
        p = spec.decode_point(y.to_bytes(32, "little"))
        if p is not None:
            points.append(spec.encode_point(spec.point_mul(L, p)))
    return sorted(set(points))


TORSION = torsion_points()
SMALL_ORDER_AND_ODD = [
    *TORSION,
    (1).to_bytes(32, "little"),                          # identity
    bytes([1]) + bytes(30) + bytes([0x80]),              # identity with the sign bit
    (spec.FIELD_PRIME + 1).to_bytes(32, "little"),       # identity, y non-canonical
    (2).to_bytes(32, "little"),                          # not on the curve
    bytes([0xFF] * 32),
]

seeds = st.binary(min_size=32, max_size=32)
messages = st.binary(max_size=80)


@st.composite
def points(draw):
    """Encodings of prime-subgroup points, torsioned points, small-order points and junk."""
    kind = draw(st.sampled_from(["good", "torsion", "odd", "random"]))
    if kind == "random":
        return draw(st.binary(min_size=32, max_size=32))
    if kind == "odd":
        return draw(st.sampled_from(SMALL_ORDER_AND_ODD))
    public = spec.public_key(draw(seeds))
    if kind == "good":
        return public
    t = spec.decode_point(draw(st.sampled_from(TORSION)))
    return spec.encode_point(spec.point_add(spec.decode_point(public), t))


@st.composite
def scalars(draw):
    return draw(st.one_of(st.integers(0, 2**256 - 1), st.sampled_from([0, 1, L - 1, L, L + 1, 2**255]),
                          st.integers(0, 2**128 - 1)))


@given(seeds, messages)
def test_public_key_and_sign(seed, message):
    same("public_key", seed)
    same("ed25519_sign", seed, message)


@given(st.binary(max_size=40))
def test_bad_seed_lengths(seed):
    same("public_key", seed)
    same("ed25519_sign", seed, b"m")
    same("vrf_prove", seed, b"a")


@given(seeds, messages, st.integers(0, 5))
@settings(max_examples=40)
def test_verify_honest_and_tampered(seed, message, flip):
    signature = spec.ed25519_sign(seed, message)
    public = spec.public_key(seed)
    same("ed25519_verify", public, message, signature)
    tampered = bytearray(signature)
    tampered[flip * 11 % 64] ^= 1 << flip
    same("ed25519_verify", public, message, bytes(tampered))


@given(points(), points(), scalars(), messages)
@settings(max_examples=60)
def test_verify_hostile(public, r, s, message):
    same("ed25519_verify", public, message, r + (s % 2**256).to_bytes(32, "little"))


@given(st.binary(max_size=70), st.binary(max_size=70))
def test_verify_lengths(public, signature):
    same("ed25519_verify", public, b"", signature)


@given(seeds, messages)
@settings(max_examples=25)
def test_vrf_prove_verify_hash(seed, alpha):
    same("vrf_prove", seed, alpha)
    proof = spec.vrf_prove(seed, alpha)
    same("vrf_verify", spec.public_key(seed), proof, alpha)
    same("vrf_verify", spec.public_key(seed), proof, alpha + b"x")
    same("vrf_proof_to_hash", proof)


@given(points(), points(), scalars(), scalars(), messages)
@settings(max_examples=40)
def test_vrf_verify_hostile(public, gamma, c, s, alpha):
    proof = gamma + (c % 2**128).to_bytes(16, "little") + (s % 2**256).to_bytes(32, "little")
    same("vrf_verify", public, proof, alpha)
    same("vrf_proof_to_hash", proof)


@given(seeds, messages, points())
@settings(max_examples=25)
def test_vrf_torsioned_gamma(seed, alpha, junk):
    proof = spec.vrf_prove(seed, alpha)
    t = spec.decode_point(TORSION[len(alpha) % len(TORSION)])
    shifted = spec.encode_point(spec.point_add(spec.decode_point(proof[:32]), t)) + proof[32:]
    same("vrf_verify", spec.public_key(seed), shifted, alpha)
    same("vrf_proof_to_hash", shifted)
    same("vrf_verify", junk, proof, alpha)


@given(st.binary(max_size=90), st.binary(max_size=90))
def test_vrf_lengths(public, proof):
    same("vrf_verify", public, proof, b"")
    same("vrf_proof_to_hash", proof)


leaves = st.lists(st.one_of(st.binary(min_size=32, max_size=32), st.binary(max_size=40)), max_size=70)


@given(leaves, st.sampled_from([None, "blake3", "sha256", "custom"]))
def test_merkle_root(values, hash_name):
    node_hash = {None: None, "blake3": spec.merkle_node_hash, "sha256": spec.sha256_node_hash,
                 "custom": lambda left, right: spec.hash32(b"\x07", right, left)}[hash_name]
    same("merkle_root", values, node_hash)


def test_every_replaced_function_is_covered():
    replaced = {r.name for r in registry.all_replacements() if r.module == "crypto"}
    assert replaced == {"public_key", "ed25519_sign", "ed25519_verify", "vrf_prove", "vrf_verify",
                        "vrf_proof_to_hash", "merkle_root"}


# The self-check of the fast ECVRF path (impl/crypto.py): its known answers are the spec's, and a
# path that fails it is refused with a warning.
from smspec.impl import crypto as impl_crypto  # noqa: E402


def test_self_check_known_answers_are_the_specs():
    first = spec.public_key(bytes.fromhex(impl_crypto.RFC9381_B4[0][0]))
    for alpha, h in impl_crypto.ENCODE_TO_CURVE_BRANCHES:
        assert spec.encode_point(spec.encode_to_curve(first, bytes.fromhex(alpha))).hex() == h
    for sk, alpha, h, pi, beta in impl_crypto.RFC9381_B4:
        seed, alpha_bytes = bytes.fromhex(sk), bytes.fromhex(alpha)
        assert spec.encode_point(spec.encode_to_curve(spec.public_key(seed), alpha_bytes)).hex() == h
        assert spec.vrf_prove(seed, alpha_bytes).hex() == pi
        assert spec.vrf_proof_to_hash(bytes.fromhex(pi)).hex() == beta


def test_the_branch_answers_cover_both_branches_and_signs():
    """(x2, odd), (x1, even), (x1, odd), (x2, even), as their comment says."""
    first = spec.public_key(bytes.fromhex(impl_crypto.RFC9381_B4[0][0]))
    seen = []
    for alpha, _ in impl_crypto.ENCODE_TO_CURVE_BRANCHES:
        u = spec.hash_to_field(first + bytes.fromhex(alpha), spec.ECVRF_H2C_DST)
        s, t = spec.map_to_curve_elligator2(u)
        x1 = -spec.MONTGOMERY_A * spec.field_inverse(1 + 2 * u * u) % spec.FIELD_PRIME
        seen.append(("x1" if s == x1 else "x2", spec.montgomery_to_edwards(s, t)[0] % 2))
    assert seen == [("x2", 1), ("x1", 0), ("x1", 1), ("x2", 0)]


@pytest.fixture
def fresh_self_checks():
    impl_crypto.fast_vrf_ok.cache_clear()
    impl_crypto.native_point_ok.cache_clear()
    yield
    impl_crypto.fast_vrf_ok.cache_clear()
    impl_crypto.native_point_ok.cache_clear()


def test_a_failing_fast_path_is_refused_loudly(monkeypatch, fresh_self_checks):
    wrong = [(alpha, "00" * 32) if alpha == "02" else (alpha, h)
             for alpha, h in impl_crypto.ENCODE_TO_CURVE_BRANCHES]
    monkeypatch.setattr(impl_crypto, "ENCODE_TO_CURVE_BRANCHES", wrong)
    with pytest.warns(RuntimeWarning, match=r"fails its self-check \(encode_to_curve\(alpha=02\)\)"):
        prove = impl_function("vrf_prove")
    assert prove is spec.vrf_prove
    assert impl_function("vrf_verify") is spec.vrf_verify
    assert impl_function("vrf_proof_to_hash") is spec.vrf_proof_to_hash


def test_a_failing_native_point_is_refused_loudly(monkeypatch, fresh_self_checks):
    decode = impl_crypto._decode_native
    if decode is None:
        pytest.skip("pycryptodome is not installed")
    monkeypatch.setattr(impl_crypto, "_decode_native", lambda data, curve: decode(data, curve).double())
    with pytest.warns(RuntimeWarning, match="pycryptodome's Ed25519 point fails its self-check"):
        proof_to_hash = impl_function("vrf_proof_to_hash")
    sk, alpha, _, pi, beta = impl_crypto.RFC9381_B4[1]
    assert proof_to_hash(bytes.fromhex(pi)).hex() == beta  # by libsodium's additions


@given(points(), st.sampled_from([True, False]))
@settings(max_examples=40)
def test_proof_to_hash_both_point_paths(gamma, native):
    proof = gamma + bytes(16) + (7).to_bytes(32, "little")
    beta = impl_crypto._proof_hash(proof, native)
    if beta is None:
        with pytest.raises(spec.InvalidSignature):
            spec.vrf_proof_to_hash(proof)
    else:
        assert beta == spec.vrf_proof_to_hash(proof)
