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
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import blake3
import nacl.bindings as sodium
import nacl.exceptions
from smspec.impl.registry import replaces
from smspec.spec.errors import InvalidSignature, InvalidValue

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
SQRT_M1 = pow(2, (P - 1) // 4, P)
MONTGOMERY_A = 486662
SQRT_MINUS_A_MINUS_2 = 6853475219497561581579357271197624642482790079785650197046958215289687604742
SQRT_EXPONENT = (P + 3) // 8
Z_ROOT_FACTOR = pow(2, SQRT_EXPONENT, P)  # (2·v)^((p+3)/8) = 2^((p+3)/8) · v^((p+3)/8)
IDENTITY = (1).to_bytes(32, "little")
NodeHash = Callable[[bytes, bytes], bytes]
SUITE = b"\x04"
DST = b"ECVRF_edwards25519_XMD:SHA-512_ELL2_NU_\x04"


def _original(spec: ModuleType, name: str) -> Callable[..., Any]:
    """The spec's own function, even when the module is already patched."""
    originals = spec.__dict__.get("__spec_originals__", {})
    return originals.get(name, spec.__dict__[name])  # type: ignore[no-any-return]


def _scalar(value: int) -> bytes:
    return value.to_bytes(32, "little")


def _in_prime_subgroup(point: bytes) -> bool:
    """Canonical, on the curve, not of small order, in the prime-order subgroup."""
    return bool(sodium.crypto_core_ed25519_is_valid_point(point))


def _clamped(seed: bytes) -> tuple[int, bytes]:
    digest = hashlib.sha512(seed).digest()
    scalar = int.from_bytes(digest[:32], "little") & ((1 << 254) - 8) | (1 << 254)
    return scalar, digest[32:]


def _check_seed(seed: bytes) -> None:
    if len(seed) != 32:
        raise InvalidValue("bad_length", f"seed must be 32 bytes, got {len(seed)}")


def _encode_to_curve(hash_to_field: Callable[[bytes, bytes], int], salt: bytes, alpha: bytes) -> bytes:
    """RFC 9380 edwards25519_XMD:SHA-512_ELL2_NU_ with two exponentiations (one square root,
    one inversion), the cofactor cleared by three libsodium doublings."""
    u = hash_to_field(salt + alpha, DST)
    # x1 = n / d on the Montgomery curve; g(x1) = big_n / d^3, so sqrt(g(x1)) = sqrt(big_n·d) / d^2.
    n = -MONTGOMERY_A % P
    d = (1 + 2 * u * u) % P
    big_n = (n * n * n + MONTGOMERY_A * n * n * d + n * d * d) % P
    value = big_n * d % P
    root = pow(value, SQRT_EXPONENT, P)
    if root * root % P == value:
        square, s_num = True, n
    elif root * root % P == P - value:
        root = root * SQRT_M1 % P
        square, s_num = True, n
    else:
        # g(x2) = 2u²·g(x1) with x2 = 2u²·x1: sqrt(g(x2)) = u·sqrt(2·big_n·d) / d².
        value2 = 2 * value % P
        root = root * Z_ROOT_FACTOR % P
        if root * root % P != value2:
            root = root * SQRT_M1 % P
        root = root * u % P
        square, s_num = False, 2 * u * u * n % P
    # s = s_num / d, t = root / d²; one inversion of d²·root·(s_num + d) gives all three inverses.
    denominator = d * d % P * root % P * ((s_num + d) % P) % P
    if denominator == 0:
        return IDENTITY  # t = 0 or s = -1: the exceptional case of the rational map
    inverse = pow(denominator, P - 2, P)
    inverse_d2 = root * ((s_num + d) % P) % P * inverse % P
    inverse_root = d * d % P * ((s_num + d) % P) % P * inverse % P
    inverse_sum = d * d % P * root % P * inverse % P
    t = root * inverse_d2 % P
    if t % 2 != (1 if square else 0):
        inverse_root = P - inverse_root  # t -> -t, i.e. root -> -root (RFC 9380 sgn0 rule)
    # x = c1·s/t = c1·s_num·d / root ; y = (s - 1)/(s + 1) = (s_num - d)/(s_num + d)
    x = SQRT_MINUS_A_MINUS_2 * s_num % P * d % P * inverse_root % P
    y = (s_num - d) % P * inverse_sum % P
    point = _scalar(y | ((x & 1) << 255))
    for _ in range(3):
        point = sodium.crypto_core_ed25519_add(point, point)
    return point


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
        x, nonce_prefix = _clamped(seed)
        y_string = bytes(sodium.crypto_sign_seed_keypair(seed)[0])
        h_string = _encode_to_curve(hash_to_field, y_string, alpha)
        k = int.from_bytes(hashlib.sha512(nonce_prefix + h_string).digest(), "little") % L
        if k == 0 or not _in_prime_subgroup(h_string):
            return bytes(exact(seed, alpha))
        gamma = sodium.crypto_scalarmult_ed25519_noclamp(_scalar(x % L), h_string)
        u = sodium.crypto_scalarmult_ed25519_base_noclamp(_scalar(k))
        v = sodium.crypto_scalarmult_ed25519_noclamp(_scalar(k), h_string)
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
        if not (_in_prime_subgroup(public) and _in_prime_subgroup(gamma)) or c == 0 or s == 0:
            return bool(exact(public, proof, alpha))
        if s >= L:
            return False
        h = _encode_to_curve(hash_to_field, public, alpha)
        if not _in_prime_subgroup(h):
            return bool(exact(public, proof, alpha))
        u = sodium.crypto_core_ed25519_sub(
            sodium.crypto_scalarmult_ed25519_base_noclamp(_scalar(s)),
            sodium.crypto_scalarmult_ed25519_noclamp(_scalar(c), public),
        )
        v = sodium.crypto_core_ed25519_sub(
            sodium.crypto_scalarmult_ed25519_noclamp(_scalar(s), h),
            sodium.crypto_scalarmult_ed25519_noclamp(_scalar(c), gamma),
        )
        return _challenge([public, h, gamma, u, v]) == c

    return vrf_verify


@replaces("crypto", "vrf_proof_to_hash", factory=True)
def _vrf_proof_to_hash_factory(spec: ModuleType) -> Callable[..., Any]:
    exact = _original(spec, "vrf_proof_to_hash")

    def vrf_proof_to_hash(proof: bytes) -> bytes:
        """beta = SHA-512(0x04 ‖ 0x03 ‖ encode(8·Gamma) ‖ 0x00)."""
        if len(proof) != 80 or not _in_prime_subgroup(proof[:32]):
            return bytes(exact(proof))
        if int.from_bytes(proof[48:], "little") >= L:
            raise InvalidSignature("malformed_proof", "the proof does not decode")
        cofactor_gamma = sodium.crypto_scalarmult_ed25519_noclamp(_scalar(8), proof[:32])
        return hashlib.sha512(SUITE + b"\x03" + cofactor_gamma + b"\x00").digest()

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
