"""Fast replacements for spec/crypto.md: Ed25519 and ECVRF on libsodium (PyNaCl bindings),
Merkle roots level by level with inlined BLAKE3.

Each replacement has a fast path for the inputs the protocol meets in practice (points in the
prime-order subgroup, non-zero scalars, non-empty Merkle leaves, the two library node hashes).
Where libsodium cannot follow the spec exactly, the replacement hands the call to the spec's own
function, so the result is the spec's by construction:

* libsodium's scalar multiplication refuses points outside the prime-order subgroup, small-order
  points and zero scalars, which the spec (like curve25519-voi) must handle: such public keys,
  VRF Gamma points and zero scalars go to the spec function;
* libsodium's Ed25519 verification is stricter than curve25519-voi (cofactorless, rejects
  small-order R). A signature libsodium accepts is accepted by the spec's rules too, so
  acceptance is final; a rejection is re-checked by the spec function.

The replacements are registered with ``factory=True``: the factory receives the spec module
and keeps its original functions for those hand-overs.

ECVRF without Python big-integer curve work: encode-to-curve takes its one square root from
libsodium's point decompression (adding the 4-torsion point ``(sqrt(-1), 0)`` to ``(x, y)``
gives ``(sqrt(-1)·y, sqrt(-1)·x)``, so ``x`` is read off an encoding), decides the RFC 9380 sign
with two modular inversions, and lets ``crypto_core_ed25519_from_uniform`` (the same Elligator 2
map, the sign given, the cofactor cleared) build ``H``. Scalar multiplications are libsodium's;
its own subgroup checks replace separate ones, a refusal hands the call to the spec. The
expanded key of a seed (scalar, nonce prefix, public key) is kept for the last few seeds, as a
signer holds its key.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import blake3
import nacl.bindings as sodium
import nacl.exceptions
from smspec.impl.registry import replaces
from smspec.spec.errors import InvalidValue

try:  # pycryptodome's native Ed25519 point (decompression, doubling): proof-to-hash without
    # libsodium's re-decompression per doubling; libsodium's additions where it is missing
    from Crypto.PublicKey._point import EccPoint

    _decode_native: Callable[[bytes, str], Any] | None = EccPoint._decode_eddsa
except (ImportError, AttributeError):
    _decode_native = None

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
SQRT_M1 = pow(2, (P - 1) // 4, P)
MONTGOMERY_A = 486662
SQRT_MINUS_A_MINUS_2 = 6853475219497561581579357271197624642482790079785650197046958215289687604742
NodeHash = Callable[[bytes, bytes], bytes]
ORDER_FOUR_POINT = (0 | (SQRT_M1 & 1) << 255).to_bytes(32, "little")  # (sqrt(-1), 0)
Y_MASK = (1 << 255) - 1
SUITE = b"\x04"
DST = b"ECVRF_edwards25519_XMD:SHA-512_ELL2_NU_\x04"


def _original(spec: ModuleType, name: str) -> Callable[..., Any]:
    """The spec's own function, even when the module is already patched."""
    originals = spec.__dict__.get("__spec_originals__", {})
    return originals.get(name, spec.__dict__[name])  # type: ignore[no-any-return]


def _scalar(value: int) -> bytes:
    return value.to_bytes(32, "little")


def _clamped(seed: bytes) -> tuple[int, bytes]:
    digest = hashlib.sha512(seed).digest()
    scalar = int.from_bytes(digest[:32], "little") & ((1 << 254) - 8) | (1 << 254)
    return scalar, digest[32:]


def _check_seed(seed: bytes) -> None:
    if len(seed) != 32:
        raise InvalidValue("bad_length", f"seed must be 32 bytes, got {len(seed)}")


def _x_coordinate(y: int) -> int | None:
    """The even x with (x, y) on edwards25519, or None if there is none (libsodium decompresses:
    (x, y) + (sqrt(-1), 0) = (sqrt(-1)·y, sqrt(-1)·x), whose encoding holds sqrt(-1)·x)."""
    try:
        image = sodium.crypto_core_ed25519_add(_scalar(y), ORDER_FOUR_POINT)
    except nacl.exceptions.RuntimeError:
        return None
    return (P - SQRT_M1) * (int.from_bytes(image, "little") & Y_MASK) % P


def _encode_to_curve(hash_to_field: Callable[[bytes, bytes], int], salt: bytes, alpha: bytes) -> bytes | None:
    """RFC 9380 edwards25519_XMD:SHA-512_ELL2_NU_ of ``salt ‖ alpha``, encoded; None for the
    exceptional inputs (the rational map's identity cases), which the caller hands to the spec."""
    u = hash_to_field(salt + alpha, DST)
    d = (1 + 2 * u * u) % P
    if d == 0 or d == MONTGOMERY_A:  # x1 = 0 (replaced by -A), or x1 = -1 (the identity)
        return None
    # x1 = -A/d; y = (x1 - 1)/(x1 + 1) = (A + d)/(A - d); one inversion gives 1/d and 1/(A - d)
    inverse = pow(d * (MONTGOMERY_A - d) % P, -1, P)
    s = -MONTGOMERY_A * (MONTGOMERY_A - d) % P * inverse % P
    x = _x_coordinate((MONTGOMERY_A + d) * d % P * inverse % P)
    odd_t = True  # g(x1) is a square: t is the odd root (RFC 9380 6.7.1)
    if x is None:
        s = (-s - MONTGOMERY_A) % P  # x2; g(x2) is a square
        if s == 0 or s == P - 1:
            return None  # t = 0 or s = -1: the identity
        x = _x_coordinate((s - 1) * pow(s + 1, -1, P) % P)
        if x is None:
            return None  # cannot happen: exactly one of g(x1), g(x2) is a square
        odd_t = False
    # The RFC's point is (c·s/t, y) with t of the required parity; x is ±c·s/t.
    t = SQRT_MINUS_A_MINUS_2 * s % P * pow(x, -1, P) % P
    if (t & 1) != odd_t:
        x = P - x
    return bytes(sodium.crypto_core_ed25519_from_uniform(_scalar(u | (x & 1) << 255)))


@functools.lru_cache(maxsize=64)
def _expanded(seed: bytes) -> tuple[int, bytes, bytes]:
    """(clamped scalar, nonce prefix, public key) of a 32-byte seed."""
    x, prefix = _clamped(seed)
    return x, prefix, bytes(sodium.crypto_sign_seed_keypair(seed)[0])


def _challenge(points: Sequence[bytes]) -> int:
    digest = hashlib.sha512(SUITE + b"\x02" + b"".join(points) + b"\x00").digest()
    return int.from_bytes(digest[:16], "little")


@replaces("crypto", "public_key", factory=True)
def _public_key_factory(spec: ModuleType) -> Callable[..., Any]:
    def public_key(seed: bytes) -> bytes:
        """The Ed25519 public key (= node ID) of a 32-byte seed."""
        _check_seed(seed)
        public, _ = sodium.crypto_sign_seed_keypair(seed)
        return bytes(public)

    return public_key


@replaces("crypto", "ed25519_sign", factory=True)
def _ed25519_sign_factory(spec: ModuleType) -> Callable[..., Any]:
    def ed25519_sign(seed: bytes, message: bytes) -> bytes:
        """RFC 8032 §5.1.6 pure Ed25519 signature R ‖ S."""
        _check_seed(seed)
        _, secret = sodium.crypto_sign_seed_keypair(seed)
        return bytes(sodium.crypto_sign(message, secret)[:64])

    return ed25519_sign


@replaces("crypto", "ed25519_verify", factory=True)
def _ed25519_verify_factory(spec: ModuleType) -> Callable[..., Any]:
    exact = _original(spec, "ed25519_verify")

    def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
        """Ed25519 verification with curve25519-voi's default (cofactored) rules."""
        if len(public) != 32 or len(signature) != 64:
            return bool(exact(public, message, signature))  # raises the spec's bad_length
        try:
            sodium.crypto_sign_open(signature + message, public)
            return True
        except nacl.exceptions.BadSignatureError:
            return bool(exact(public, message, signature))

    return ed25519_verify


@replaces("crypto", "vrf_prove", factory=True)
def _vrf_prove_factory(spec: ModuleType) -> Callable[..., Any]:
    exact = _original(spec, "vrf_prove")
    hash_to_field = spec.hash_to_field

    def vrf_prove(seed: bytes, alpha: bytes) -> bytes:
        """The 80-byte ECVRF proof of `alpha` under the identity key `seed`."""
        _check_seed(seed)
        x, nonce_prefix, y_string = _expanded(seed)
        h_string = _encode_to_curve(hash_to_field, y_string, alpha)
        if h_string is None:
            return bytes(exact(seed, alpha))
        k = int.from_bytes(hashlib.sha512(nonce_prefix + h_string).digest(), "little") % L
        try:
            # H is in the prime-order subgroup (libsodium refuses it otherwise): x·H = (x mod L)·H
            gamma = sodium.crypto_scalarmult_ed25519_noclamp(_scalar(x % L), h_string)
            u = sodium.crypto_scalarmult_ed25519_base_noclamp(_scalar(k))
            v = sodium.crypto_scalarmult_ed25519_noclamp(_scalar(k), h_string)
        except nacl.exceptions.RuntimeError:  # H the identity, or k = 0
            return bytes(exact(seed, alpha))
        c = _challenge([y_string, h_string, gamma, u, v])
        s = (k + c * x) % L
        return bytes(gamma) + c.to_bytes(16, "little") + _scalar(s)

    return vrf_prove


@replaces("crypto", "vrf_verify", factory=True)
def _vrf_verify_factory(spec: ModuleType) -> Callable[..., Any]:
    exact = _original(spec, "vrf_verify")
    hash_to_field = spec.hash_to_field

    def vrf_verify(public: bytes, proof: bytes, alpha: bytes) -> bool:
        """Whether `proof` is a valid ECVRF proof of `alpha` under `public`."""
        if len(public) != 32 or len(proof) != 80:
            return bool(exact(public, proof, alpha))  # raises the spec's bad_length
        gamma = proof[:32]
        c = int.from_bytes(proof[32:48], "little")
        s = int.from_bytes(proof[48:], "little")
        if s >= L:
            return False
        h = _encode_to_curve(hash_to_field, public, alpha)
        if h is None:
            return bool(exact(public, proof, alpha))
        try:
            # libsodium refuses points outside the prime-order subgroup (small order, torsion,
            # non-canonical, off the curve) and zero scalars: the spec decides those
            u = sodium.crypto_core_ed25519_sub(
                sodium.crypto_scalarmult_ed25519_base_noclamp(_scalar(s)),
                sodium.crypto_scalarmult_ed25519_noclamp(_scalar(c), public),
            )
            v = sodium.crypto_core_ed25519_sub(
                sodium.crypto_scalarmult_ed25519_noclamp(_scalar(s), h),
                sodium.crypto_scalarmult_ed25519_noclamp(_scalar(c), gamma),
            )
        except nacl.exceptions.RuntimeError:
            return bool(exact(public, proof, alpha))
        return _challenge([public, h, gamma, u, v]) == c

    return vrf_verify


def _times_eight(encoded: bytes, exact: Callable[..., Any], proof: bytes) -> bytes:
    """encode(8·P) of a canonical encoding; a point off the curve goes to ``exact(proof)``, which
    raises the spec's malformed_proof."""
    if _decode_native is not None:
        try:
            point = _decode_native(encoded, "Ed25519")
        except ValueError:
            return bytes(exact(proof))
        point.double().double().double()
        x, y = point.xy
        return (y | (x & 1) << 255).to_bytes(32, "little")
    try:  # libsodium's addition takes any point on the curve
        for _ in range(3):
            encoded = sodium.crypto_core_ed25519_add(encoded, encoded)
    except nacl.exceptions.RuntimeError:
        return bytes(exact(proof))
    return bytes(encoded)


@replaces("crypto", "vrf_proof_to_hash", factory=True)
def _vrf_proof_to_hash_factory(spec: ModuleType) -> Callable[..., Any]:
    exact = _original(spec, "vrf_proof_to_hash")

    def vrf_proof_to_hash(proof: bytes) -> bytes:
        """beta = SHA-512(0x04 ‖ 0x03 ‖ encode(8·Gamma) ‖ 0x00)."""
        if len(proof) != 80 or int.from_bytes(proof[48:], "little") >= L:
            return bytes(exact(proof))  # raises bad_length or malformed_proof
        encoded = int.from_bytes(proof[:32], "little")
        y = encoded & Y_MASK
        if y >= P or (encoded >> 255 and y in (1, P - 1)):
            return bytes(exact(proof))  # not a canonical encoding: malformed_proof
        return hashlib.sha512(SUITE + b"\x03" + _times_eight(proof[:32], exact, proof) + b"\x00").digest()

    return vrf_proof_to_hash


@replaces("crypto", "merkle_root", factory=True)
def _merkle_root_factory(spec: ModuleType) -> Callable[..., Any]:
    exact = _original(spec, "merkle_root")
    sha256_node_hash = spec.sha256_node_hash
    blake3_node_hash = spec.merkle_node_hash
    zero = bytes(32)

    def merkle_root(leaves: Sequence[bytes], node_hash: NodeHash | None = None) -> bytes:
        """The MT root over `leaves` (default node hash: `merkle_node_hash`)."""
        if node_hash is None or node_hash is blake3_node_hash:
            def pair(left: bytes, right: bytes) -> bytes:
                return blake3.blake3(b"\x01" + left + right).digest()
        elif node_hash is sha256_node_hash:
            def pair(left: bytes, right: bytes) -> bytes:
                return hashlib.sha256(left + right).digest()
        else:
            return bytes(exact(leaves, node_hash))
        if not leaves or any(len(leaf) == 0 for leaf in leaves):
            return bytes(exact(leaves, node_hash))  # MT's empty-node rules
        # Without empty nodes, MT's streaming tree equals padding each odd level with one zero node.
        level = list(leaves)
        while len(level) > 1:
            if len(level) % 2:
                level.append(zero)
            level = [pair(level[i], level[i + 1]) for i in range(0, len(level), 2)]
        return level[0]

    return merkle_root
