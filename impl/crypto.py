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

ECVRF without Python big-integer curve work beyond one modular inversion per encode-to-curve:

* hash-to-field is RFC 9380 expand_message_xmd inlined (two SHA-512 blocks, the zero block's
  state kept);
* encode-to-curve takes its one square root from libsodium's point decompression (adding the
  4-torsion point ``(sqrt(-1), 0)`` to ``(x, y)`` gives ``(sqrt(-1)·y, sqrt(-1)·x)``, so ``x``
  is read off an encoding). One batched inversion gives ``y`` for both Elligator 2 branches;
  the RFC 9380 sign of ``t = c·s/x`` needs no second one, because ``x² = c²·s²/g(s)`` makes
  ``t = x·(s² + A·s + 1)/c`` (``c = sqrt(-A-2)``, ``g(s) = s·(s² + A·s + 1)``).
  ``crypto_core_ed25519_from_uniform`` (the same Elligator 2 map, the sign given, the cofactor
  cleared) then builds ``H``;
* scalar multiplications are libsodium's; its own subgroup checks replace separate ones, a
  refusal hands the call to the spec. Those checks are what bounds prove and verify: every
  variable-base multiplication of libsodium's API (the only constant-time one that returns an
  Edwards encoding) first multiplies the point by the group order, about doubling its cost;
  ``smspec bench crypto`` prints that floor beside the measured rates;
* libsodium is called through PyNaCl's cffi module without the bindings' per-call argument
  checks (every argument here is 32 bytes by construction), through the bindings if that module
  is missing;
* the expanded key of a seed (scalar, nonce prefix, public key) is kept for the last few seeds,
  as a signer holds its key.

Before the fast VRF path is used it is checked on known answers (RFC 9381 Appendix B.4, and
encode-to-curve on both Elligator branches with both signs, values the spec computes:
``tests/differential/test_crypto.py`` holds them equal). A path that fails is refused with a
``RuntimeWarning``: the VRF replacements then run the spec's functions, and proof-to-hash uses
libsodium's additions instead of pycryptodome's point.
"""

from __future__ import annotations

import functools
import hashlib
import warnings
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
INVERSE_SQRT_MINUS_A_MINUS_2 = pow(SQRT_MINUS_A_MINUS_2, -1, P)
NodeHash = Callable[[bytes, bytes], bytes]
ORDER_FOUR_POINT = (0 | (SQRT_M1 & 1) << 255).to_bytes(32, "little")  # (sqrt(-1), 0)
Y_MASK = (1 << 255) - 1
SUITE = b"\x04"
DST = b"ECVRF_edwards25519_XMD:SHA-512_ELL2_NU_\x04"
H2C_FIELD_BYTES = 48
_XMD_ZERO_BLOCK = hashlib.sha512(bytes(128))  # Z_pad absorbed once; copied per message
_XMD_B0_SUFFIX = H2C_FIELD_BYTES.to_bytes(2, "big") + b"\x00" + DST + bytes([len(DST)])
_XMD_B1_SUFFIX = b"\x01" + DST + bytes([len(DST)])

Point32 = bytes  # a 32-byte encoding (or scalar) handed to libsodium


def _original(spec: ModuleType, name: str) -> Callable[..., Any]:
    """The spec's own function, even when the module is already patched."""
    originals = spec.__dict__.get("__spec_originals__", {})
    return originals.get(name, spec.__dict__[name])  # type: ignore[no-any-return]


def _scalar(value: int) -> bytes:
    return value.to_bytes(32, "little")


# libsodium's point functions; None where libsodium refuses (off the curve, outside the
# prime-order subgroup, small order, a zero scalar or an identity result). Every argument must
# be exactly 32 bytes: the cffi path hands the buffers to C unchecked.
def _bindings_call(function: Callable[..., bytes], *args: bytes) -> bytes | None:
    try:
        return bytes(function(*args))
    except nacl.exceptions.RuntimeError:
        return None


try:
    from nacl._sodium import ffi as _ffi
    from nacl._sodium import lib as _lib

    def _cffi(function: Callable[..., int]) -> Callable[..., bytes | None]:
        new, buffer = _ffi.new, _ffi.buffer

        def call(*args: bytes) -> bytes | None:
            out = new("unsigned char[32]")
            return None if function(out, *args) else buffer(out)[:]  # type: ignore[no-any-return]

        return call

    _point_add = _cffi(_lib.crypto_core_ed25519_add)
    _point_sub = _cffi(_lib.crypto_core_ed25519_sub)
    _mul = _cffi(_lib.crypto_scalarmult_ed25519_noclamp)  # (scalar, point)
    _mul_base = _cffi(_lib.crypto_scalarmult_ed25519_base_noclamp)
    _from_uniform = _cffi(_lib.crypto_core_ed25519_from_uniform)
    LIBSODIUM_CALLS = "cffi"
except (ImportError, AttributeError):  # pragma: no cover - PyNaCl without its cffi module
    _point_add = functools.partial(_bindings_call, sodium.crypto_core_ed25519_add)
    _point_sub = functools.partial(_bindings_call, sodium.crypto_core_ed25519_sub)
    _mul = functools.partial(_bindings_call, sodium.crypto_scalarmult_ed25519_noclamp)
    _mul_base = functools.partial(_bindings_call, sodium.crypto_scalarmult_ed25519_base_noclamp)
    _from_uniform = functools.partial(_bindings_call, sodium.crypto_core_ed25519_from_uniform)
    LIBSODIUM_CALLS = "bindings"


def _clamped(seed: bytes) -> tuple[int, bytes]:
    digest = hashlib.sha512(seed).digest()
    scalar = int.from_bytes(digest[:32], "little") & ((1 << 254) - 8) | (1 << 254)
    return scalar, digest[32:]


def _check_seed(seed: bytes) -> None:
    if len(seed) != 32:
        raise InvalidValue("bad_length", f"seed must be 32 bytes, got {len(seed)}")


def _hash_to_field(message: bytes) -> int:
    """RFC 9380 hash_to_field (count 1) with expand_message_xmd/SHA-512 and the ECVRF DST."""
    state = _XMD_ZERO_BLOCK.copy()
    state.update(message)
    state.update(_XMD_B0_SUFFIX)
    uniform = hashlib.sha512(state.digest() + _XMD_B1_SUFFIX).digest()[:H2C_FIELD_BYTES]
    return int.from_bytes(uniform, "big") % P


def _even_x(y: int) -> int | None:
    """The even x with (x, y) on edwards25519, or None if there is none (libsodium decompresses:
    (x, y) + (sqrt(-1), 0) = (sqrt(-1)·y, sqrt(-1)·x), whose encoding holds sqrt(-1)·x)."""
    image = _point_add(y.to_bytes(32, "little"), ORDER_FOUR_POINT)
    if image is None:
        return None
    return (P - SQRT_M1) * (int.from_bytes(image, "little") & Y_MASK) % P


def _encode_to_curve(message: bytes) -> bytes | None:
    """RFC 9380 edwards25519_XMD:SHA-512_ELL2_NU_ of ``message`` (= salt ‖ alpha), encoded; None
    for the exceptional inputs (the rational map's identity cases, a zero denominator), which the
    caller hands to the spec."""
    a = MONTGOMERY_A
    u = _hash_to_field(message)
    d = (1 + 2 * u * u) % P  # x1 = -A/d
    e = (a * (1 - d) + d) % P  # x2 + 1 = e/d, with x2 = -x1 - A = A·(1 - d)/d
    if u == 0 or d == 0 or d == a or e == 0:  # x2 = 0, x1 = 0 (-A), x1 = -1, x2 = -1
        return None
    # one inversion for 1/d, 1/(A - d) and 1/e
    inverse = pow(d * (a - d) % P * e % P, -1, P)
    s = -a * (a - d) % P * e % P * inverse % P  # x1
    x = _even_x((a + d) * d % P * e % P * inverse % P)  # y1 = (x1 - 1)/(x1 + 1) = (A + d)/(A - d)
    odd_t = True  # g(x1) is a square: t is the odd root (RFC 9380 6.7.1)
    if x is None:
        s = (-s - a) % P  # x2: g(x2) is a square
        x = _even_x((e - 2 * d) * d % P * (a - d) % P * inverse % P)  # y2 = (e - 2d)/e
        if x is None:
            return None  # cannot happen: exactly one of g(x1), g(x2) is a square
        odd_t = False
    # The RFC's point is (c·s/t, y) with t of the required parity; with x = ±c·s/t,
    # c·s/x = x·g(s)/(c·s) = x·(s² + A·s + 1)/c
    t = x * ((s * s + a * s + 1) % P) % P * INVERSE_SQRT_MINUS_A_MINUS_2 % P
    if (t & 1) != odd_t:
        x = P - x
    return _from_uniform(_scalar(u | (x & 1) << 255))


@functools.lru_cache(maxsize=4096)  # a node's identities; a devnet's nodes in one process
def _expanded(seed: bytes) -> tuple[bytes, int, bytes, bytes]:
    """(clamped scalar mod L as 32 bytes, the scalar, nonce prefix, public key) of a seed."""
    x, prefix = _clamped(seed)
    return _scalar(x % L), x, prefix, bytes(sodium.crypto_sign_seed_keypair(seed)[0])


def _challenge(points: Sequence[bytes]) -> int:
    digest = hashlib.sha512(SUITE + b"\x02" + b"".join(points) + b"\x00").digest()
    return int.from_bytes(digest[:16], "little")


def _prove(seed: bytes, alpha: bytes) -> bytes | None:
    """The ECVRF proof by libsodium, or None where the spec must decide (seed checked)."""
    x_string, x, nonce_prefix, y_string = _expanded(seed)
    h = _encode_to_curve(y_string + alpha)
    if h is None:
        return None
    k = int.from_bytes(hashlib.sha512(nonce_prefix + h).digest(), "little") % L
    k_string = _scalar(k)
    # H is in the prime-order subgroup (libsodium refuses it otherwise): x·H = (x mod L)·H
    gamma = _mul(x_string, h)
    u = _mul_base(k_string)
    v = _mul(k_string, h)
    if gamma is None or u is None or v is None:  # H the identity, or k = 0
        return None
    c = _challenge([y_string, h, gamma, u, v])
    return gamma + c.to_bytes(16, "little") + _scalar((k + c * x) % L)


def _verify(public: bytes, proof: bytes, alpha: bytes) -> bool | None:
    """Whether the proof verifies, by libsodium; None where the spec must decide (lengths checked)."""
    gamma, c_string, s_string = proof[:32], proof[32:48] + bytes(16), proof[48:]
    if int.from_bytes(s_string, "little") >= L:
        return False
    h = _encode_to_curve(public + alpha)
    if h is None:
        return None
    # libsodium refuses points outside the prime-order subgroup (small order, torsion,
    # non-canonical, off the curve) and zero scalars: the spec decides those
    s_b, c_y = _mul_base(s_string), _mul(c_string, public)
    if s_b is None or c_y is None:
        return None
    s_h, c_gamma = _mul(s_string, h), _mul(c_string, gamma)
    if s_h is None or c_gamma is None:
        return None
    u, v = _point_sub(s_b, c_y), _point_sub(s_h, c_gamma)
    if u is None or v is None:
        return None
    return _challenge([public, h, gamma, u, v]) == int.from_bytes(c_string, "little")


def _times_eight(encoded: bytes, native: bool) -> bytes | None:
    """encode(8·P) of a canonical encoding; None for a point off the curve."""
    if native and _decode_native is not None:
        try:
            point = _decode_native(encoded, "Ed25519")
        except ValueError:
            return None
        point.double().double().double()
        x, y = point.xy
        return (y | (x & 1) << 255).to_bytes(32, "little")
    for _ in range(3):  # libsodium's addition takes any point on the curve
        doubled = _point_add(encoded, encoded)
        if doubled is None:
            return None
        encoded = doubled
    return encoded


def _proof_hash(proof: bytes, native: bool) -> bytes | None:
    """beta of an 80-byte proof, or None where the spec must decide (it raises malformed_proof)."""
    if int.from_bytes(proof[48:], "little") >= L:
        return None
    encoded = int.from_bytes(proof[:32], "little")
    y = encoded & Y_MASK
    if y >= P or (encoded >> 255 and y in (1, P - 1)):
        return None  # not a canonical encoding
    eight_gamma = _times_eight(proof[:32], native)
    if eight_gamma is None:
        return None
    return hashlib.sha512(SUITE + b"\x03" + eight_gamma + b"\x00").digest()


# Known answers of the self-check. RFC 9381 Appendix B.4: (SK, alpha, H, pi, beta); and
# encode-to-curve under the first key: (alpha, H) for (Elligator branch, sign of x) = (x2, odd),
# (x1, even), (x1, odd), (x2, even), the spec's values.
RFC9381_B4 = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "",
     "b8066ebbb706c72b64390324e4a3276f129569eab100c26b9f05011200c1bad9",
     "7d9c633ffeee27349264cf5c667579fc583b4bda63ab71d001f89c10003ab46f14adf9a3cd8b8412d9038531e865c341"
     "cafa73589b023d14311c331a9ad15ff2fb37831e00f0acaa6d73bc9997b06501",
     "9d574bf9b8302ec0fc1e21c3ec5368269527b87b462ce36dab2d14ccf80c53cccf6758f058c5b1c856b116388152bbe5"
     "09ee3b9ecfe63d93c3b4346c1fbc6c54"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb", "72",
     "76ac3ccb86158a9104dff819b1ca293426d305fd76b39b13c9356d9b58c08e57",
     "47b327393ff2dd81336f8a2ef10339112401253b3c714eeda879f12c509072ef055b48372bb82efbdce8e10c8cb9a2f9"
     "d60e93908f93df1623ad78a86a028d6bc064dbfc75a6a57379ef855dc6733801",
     "38561d6b77b71d30eb97a062168ae12b667ce5c28caccdf76bc88e093e4635987cd96814ce55b4689b3dd2947f80e59a"
     "ac7b7675f8083865b46c89b2ce9cc735"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7", "af82",
     "13d2a8b5ca32db7e98094a61f656a08c6c964344e058879a386a947a4e189ed1",
     "926e895d308f5e328e7aa159c06eddbe56d06846abf5d98c2512235eaa57fdce35b46edfc655bc828d44ad09d1150f31"
     "374e7ef73027e14760d42e77341fe05467bb286cc2c9d7fde29120a0b2320d04",
     "121b7f9b9aaaa29099fc04a94ba52784d44eac976dd1a3cca458733be5cd090a7b5fbd148444f17f8daf1fb55cb04b1a"
     "e85a626e30a54b4b0f8abf4a43314a58"),
]
ENCODE_TO_CURVE_BRANCHES = [
    ("00", "7c158c5f4622335d3551e91874f88939980e1b538fec169f3aec4ab67cee15a7"),
    ("01", "9404495dc3f50c85186804a0651eb252739102e8cea22d480ddae7a5ef5e0927"),
    ("02", "8a422c7b05c4de16e141803fd57faa8b5b04fdfe244cefebeb88f1a30e2e9ade"),
    ("03", "bb42ea0426574973e14e2d5a960cf6cef1453ace604f0d97befbb2d21df679d6"),
]


def _fast_vrf_failures() -> list[str]:
    """What the libsodium VRF path gets wrong on the known answers (empty: it may be used)."""
    failures = []
    first_public = bytes(sodium.crypto_sign_seed_keypair(bytes.fromhex(RFC9381_B4[0][0]))[0])
    for alpha, h in ENCODE_TO_CURVE_BRANCHES:
        if _encode_to_curve(first_public + bytes.fromhex(alpha)) != bytes.fromhex(h):
            failures.append(f"encode_to_curve(alpha={alpha})")
    for sk, alpha_hex, h, pi_hex, beta_hex in RFC9381_B4:
        seed, alpha, pi = bytes.fromhex(sk), bytes.fromhex(alpha_hex), bytes.fromhex(pi_hex)
        public = _expanded(seed)[3]
        if _encode_to_curve(public + alpha) != bytes.fromhex(h):
            failures.append(f"encode_to_curve (RFC 9381 key {sk[:8]})")
        if _prove(seed, alpha) != pi:
            failures.append(f"prove (RFC 9381 key {sk[:8]})")
        if _verify(public, pi, alpha) is not True or _verify(public, pi, alpha + b"x") is not False:
            failures.append(f"verify (RFC 9381 key {sk[:8]})")
        if _proof_hash(pi, native=False) != bytes.fromhex(beta_hex):
            failures.append(f"proof_to_hash (RFC 9381 key {sk[:8]})")
    return failures


def _native_point_failures() -> list[str]:
    """What pycryptodome's point gets wrong in proof-to-hash on the known answers."""
    return [f"proof_to_hash (RFC 9381 key {sk[:8]})" for sk, _, _, pi, beta in RFC9381_B4
            if _proof_hash(bytes.fromhex(pi), native=True) != bytes.fromhex(beta)]


@functools.cache
def fast_vrf_ok() -> bool:
    """Whether the libsodium VRF path passes its self-check (refused with a warning otherwise)."""
    failures = _fast_vrf_failures()
    if failures:
        warnings.warn("smspec: the libsodium ECVRF path fails its self-check (" + ", ".join(failures)
                      + "); the VRF replacements run the spec's functions", RuntimeWarning, stacklevel=2)
    return not failures


@functools.cache
def native_point_ok() -> bool:
    """Whether pycryptodome's Ed25519 point is present and passes its self-check in proof-to-hash."""
    if _decode_native is None:
        return False
    try:
        failures = _native_point_failures()
    except Exception as error:  # noqa: BLE001 - any failure of the optional library refuses it
        failures = [f"{type(error).__name__}: {error}"]
    if failures:
        warnings.warn("smspec: pycryptodome's Ed25519 point fails its self-check (" + ", ".join(failures)
                      + "); proof-to-hash uses libsodium's additions", RuntimeWarning, stacklevel=2)
    return not failures


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
    if not fast_vrf_ok():
        return exact

    def vrf_prove(seed: bytes, alpha: bytes) -> bytes:
        """The 80-byte ECVRF proof of `alpha` under the identity key `seed`."""
        _check_seed(seed)
        proof = _prove(seed, alpha)
        return bytes(exact(seed, alpha)) if proof is None else proof

    return vrf_prove


@replaces("crypto", "vrf_verify", factory=True)
def _vrf_verify_factory(spec: ModuleType) -> Callable[..., Any]:
    exact = _original(spec, "vrf_verify")
    if not fast_vrf_ok():
        return exact

    def vrf_verify(public: bytes, proof: bytes, alpha: bytes) -> bool:
        """Whether `proof` is a valid ECVRF proof of `alpha` under `public`."""
        if len(public) != 32 or len(proof) != 80:
            return bool(exact(public, proof, alpha))  # raises the spec's bad_length
        valid = _verify(public, proof, alpha)
        return bool(exact(public, proof, alpha)) if valid is None else valid

    return vrf_verify


@replaces("crypto", "vrf_proof_to_hash", factory=True)
def _vrf_proof_to_hash_factory(spec: ModuleType) -> Callable[..., Any]:
    exact = _original(spec, "vrf_proof_to_hash")
    if not fast_vrf_ok():
        return exact
    native = native_point_ok()

    def vrf_proof_to_hash(proof: bytes) -> bytes:
        """beta = SHA-512(0x04 ‖ 0x03 ‖ encode(8·Gamma) ‖ 0x00)."""
        if len(proof) != 80:
            return bytes(exact(proof))  # raises bad_length
        beta = _proof_hash(proof, native)
        return bytes(exact(proof)) if beta is None else beta  # None: exact raises malformed_proof

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
