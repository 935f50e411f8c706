"""Ed25519 signatures with go-spacemesh's layout and curve25519-voi's verification rules
(spec/crypto.md#ed25519-signatures): vectors crypto/signature/{ed25519_sign, ed25519_verify,
sign, verify}.

Known answers: RFC 8032 §7.1 TEST 1, 2, 3 and TEST SHA(abc) (the pure Ed25519 one, whose message
is SHA-512("abc")). go-spacemesh has no hex known answers for signing (its tests use random keys),
so the `sign` cases take their expected signatures from libsodium (PyNaCl `crypto_sign`) over
`genesis_id ‖ domain ‖ message`, an implementation independent of the spec.

The crafted `ed25519_verify` cases pin the rules where Ed25519 libraries disagree (see the
*Decision* in crypto.md#ed25519_verify): they are built here from the curve equations.
"""

from __future__ import annotations

import hashlib

import nacl.bindings
import pytest
from smspec.conformance.cases import Case, vector_source
from smspec.spec import crypto
from smspec.spec.errors import InvalidValue

# RFC 8032 §7.1: (seed, public key, message, signature)
RFC8032 = {
    "rfc8032_test_1": ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
                       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
                       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                       "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    "rfc8032_test_2": ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
                       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
                       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
                       "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    "rfc8032_test_3": ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
                       "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
                       "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
                       "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    "rfc8032_test_sha_abc": ("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
                             "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
                             "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                             "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
                             "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
                             "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"),
}

MAINNET_GENESIS_ID = bytes.fromhex("9eebff023abb17ccb775c602daade8ed708f0a50")
# GS activation/e2e/atx_merge_test.go test keys (seed = first 32 bytes of the 64-byte key).
GS_KEY0_SEED = bytes.fromhex("1f2b77052ecc193038156d5c32f08d449742e7dda81fa172f8ac90839d34c769")
GS_KEY0_PUBLIC = bytes.fromhex("35a5d9365d1317c3002838126409e138321c57a5651d758485336c1e7e5af101")
SEED = bytes(range(32))
L = crypto.GROUP_ORDER


def libsodium_sign(seed: bytes, message: bytes) -> bytes:
    _, secret = nacl.bindings.crypto_sign_seed_keypair(seed)
    return nacl.bindings.crypto_sign(message, secret)[:64]


def challenge(r: bytes, a: bytes, message: bytes) -> int:
    return int.from_bytes(hashlib.sha512(r + a + message).digest(), "little") % L


def order8_point() -> crypto.Point:
    """A point of order 8: L·P for the first decodable P with a full torsion component."""
    for y in range(2, 1000):
        p = crypto.decode_point(y.to_bytes(32, "little"))
        if p is None:
            continue
        t = crypto.point_mul(L, p)
        if not crypto.point_equal(crypto.point_mul(4, t), crypto.IDENTITY):
            return t
    raise AssertionError("no order-8 point found")


def crafted_verify_cases() -> list[tuple[str, bytes, bytes, bytes, bool, str]]:
    """(name, public key, message, signature, valid, description)."""
    a, _ = crypto.secret_expand(SEED)
    public = crypto.public_key(SEED)
    message = b"crafted"
    t8 = order8_point()
    t8_bytes = crypto.encode_point(t8)
    cases = []

    # S·B − k·A = 0 and R small order: valid under the cofactored equation; VOI allows small R.
    k = challenge(t8_bytes, public, message)
    cases.append(("small_order_r_accepted", public, message, t8_bytes + (k * a % L).to_bytes(32, "little"),
                  True, "R of order 8 is allowed (VOI AllowSmallOrderR); libsodium would reject"))

    # R = identity written non-canonically (y = p + 1): equation holds, encoding check fails.
    noncanonical_identity = (crypto.FIELD_PRIME + 1).to_bytes(32, "little")
    k = challenge(noncanonical_identity, public, message)
    cases.append(("non_canonical_r_rejected", public, message,
                  noncanonical_identity + (k * a % L).to_bytes(32, "little"), False,
                  "R must be canonically encoded (y < p)"))

    # R = identity with the sign bit set (x = 0, sign 1): not a canonical encoding.
    signed_identity = bytes([1]) + bytes(30) + bytes([0x80])
    k = challenge(signed_identity, public, message)
    cases.append(("r_negative_zero_rejected", public, message,
                  signed_identity + (k * a % L).to_bytes(32, "little"), False,
                  "x = 0 with the sign bit set is not canonical (RFC 8032 §5.1.3)"))

    # A = identity (small order): the equation 0·B − k·A − R = 0 holds for R = identity, S = 0.
    identity = crypto.encode_point(crypto.IDENTITY)
    cases.append(("small_order_a_rejected", identity, message, identity + bytes(32), False,
                  "a public key of small order is rejected even though the equation holds"))

    # A = a·B + T8 (torsion component, not small order): honest-looking signature with
    # S = r + k·a is valid only under the cofactored equation when k is not a multiple of 8.
    torsion_public = crypto.encode_point(crypto.point_add(crypto.point_mul(a, crypto.BASE_POINT), t8))
    r = 123456789
    r_bytes = crypto.encode_point(crypto.point_mul(r, crypto.BASE_POINT))
    for i in range(100):
        msg = b"torsion %d" % i
        k = challenge(r_bytes, torsion_public, msg)
        if k % 8:
            break
    cases.append(("torsion_public_key_cofactored", torsion_public, msg,
                  r_bytes + ((r + k * a) % L).to_bytes(32, "little"), True,
                  "valid only with the cofactored equation VOI uses (cofactorless verifiers reject)"))

    honest = crypto.ed25519_sign(SEED, message)
    s = int.from_bytes(honest[32:], "little")
    cases.append(("honest", public, message, honest, True, "an RFC 8032 signature"))
    cases.append(("s_plus_l_rejected", public, message, honest[:32] + (s + L).to_bytes(32, "little"), False,
                  "S + L verifies the same equation but S must be < L (malleability)"))
    cases.append(("flipped_message", public, message + b"!", honest, False, "another message"))
    cases.append(("flipped_r", public, message, bytes([honest[0] ^ 1]) + honest[1:], False, "R changed"))
    not_on_curve = (2).to_bytes(32, "little")  # y = 2 has no x on edwards25519
    cases.append(("public_key_not_on_curve", not_on_curve, message, honest, False, "A does not decode"))
    # A point whose y is written as y + p (non-canonical): find one that decodes as y < p would.
    for y in range(3, 19):
        if crypto.decode_point(y.to_bytes(32, "little")) is not None:
            noncanonical_a = (y + crypto.FIELD_PRIME).to_bytes(32, "little")
            break
    cases.append(("public_key_non_canonical", noncanonical_a, message, honest, False,
                  "A encoded with y >= p is rejected"))
    return cases


@vector_source("crypto", "signature", "ed25519_sign")
def test_ed25519_sign():
    for name, (seed, public, message, signature) in RFC8032.items():
        yield Case(name, inputs={"seed": bytes.fromhex(seed), "message": bytes.fromhex(message)},
                   expected={"public_key": "0x" + public, "signature": "0x" + signature},
                   spec_ref="crypto.md#ed25519_sign", description="RFC 8032 §7.1 known answer")
    # GS activation/e2e/atx_merge_test.go: the 64-byte key is seed ‖ public key.
    yield Case("go_spacemesh_test_key0", inputs={"seed": GS_KEY0_SEED, "message": b""},
               expected={"public_key": GS_KEY0_PUBLIC, "signature": libsodium_sign(GS_KEY0_SEED, b"")},
               spec_ref="crypto.md#public_key", description="go-spacemesh e2e test key: public half")
    yield Case("seed_too_short", inputs={"seed": bytes(31), "message": b""}, error="InvalidValue",
               reason="bad_length", spec_ref="crypto.md#secret_expand", description="a 31-byte seed")


@vector_source("crypto", "signature", "ed25519_verify")
def test_ed25519_verify():
    for name, (_, public, message, signature) in RFC8032.items():
        yield Case(name, inputs={"public_key": bytes.fromhex(public), "message": bytes.fromhex(message),
                                 "signature": bytes.fromhex(signature)},
                   expected={"valid": True}, spec_ref="crypto.md#ed25519_verify",
                   description="RFC 8032 §7.1 signature verifies")
    for name, public, message, signature, valid, note in crafted_verify_cases():
        yield Case(name, inputs={"public_key": public, "message": message, "signature": signature},
                   expected={"valid": valid}, spec_ref="crypto.md#ed25519_verify", description=note)
    public = crypto.public_key(SEED)
    yield Case("public_key_too_short", inputs={"public_key": public[:31], "message": b"",
                                               "signature": bytes(64)},
               error="InvalidValue", reason="bad_length", spec_ref="crypto.md#ed25519_verify",
               description="a 31-byte public key")
    yield Case("signature_too_long", inputs={"public_key": public, "message": b"", "signature": bytes(65)},
               error="InvalidValue", reason="bad_length", spec_ref="crypto.md#ed25519_verify",
               description="a 65-byte signature")


def layout_cases():
    messages = [b"", b"\x00" * 32, bytes(range(40))]
    for domain in crypto.Domain:
        for i, message in enumerate(messages):
            yield f"{domain.name.lower()}_mainnet_{i}", domain, MAINNET_GENESIS_ID, message
    yield "hare_empty_prefix", crypto.Domain.HARE, b"", b"unit tests use no prefix"


@vector_source("crypto", "signature", "sign")
def test_sign():
    for name, domain, genesis, message in layout_cases():
        expected = libsodium_sign(SEED, genesis + bytes([int(domain)]) + message)
        yield Case(name, inputs={"seed": SEED, "domain": int(domain), "genesis_id": genesis, "message": message},
                   expected={"public_key": crypto.public_key(SEED), "signature": expected},
                   spec_ref="crypto.md#sign",
                   description=f"Ed25519 over genesis ‖ {domain.name} ({int(domain)}) ‖ message")


@vector_source("crypto", "signature", "verify")
def test_verify():
    public = crypto.public_key(SEED)
    message = b"\x8f" * 36
    signature = libsodium_sign(SEED, MAINNET_GENESIS_ID + bytes([crypto.Domain.ATX]) + message)
    base = {"public_key": public, "domain": int(crypto.Domain.ATX), "genesis_id": MAINNET_GENESIS_ID,
            "message": message, "signature": signature}

    def case(name: str, changes: dict, valid: bool, note: str) -> Case:
        return Case(name, inputs={**base, **changes}, expected={"valid": valid},
                    spec_ref="crypto.md#verify_signature", description=note)

    yield case("valid", {}, True, "signed for domain ATX on mainnet")
    yield case("wrong_domain", {"domain": int(crypto.Domain.BALLOT)}, False, "verified as BALLOT")
    yield case("marriage_vs_atx", {"domain": int(crypto.Domain.MARRIAGE)}, False, "verified as MARRIAGE")
    yield case("wrong_genesis", {"genesis_id": bytes(20)}, False, "another network's genesis ID")
    yield case("no_prefix", {"genesis_id": b""}, False, "verified without the genesis prefix")
    yield case("wrong_message", {"message": message[:-1]}, False, "a truncated message")
    yield case("wrong_key", {"public_key": crypto.public_key(bytes(32))}, False, "another identity")
    yield case("flipped_s", {"signature": signature[:40] + bytes([signature[40] ^ 4]) + signature[41:]},
               False, "S changed")
    yield Case("unknown_domain", inputs={**base, "domain": 6}, error="InvalidValue", reason="unknown_domain",
               spec_ref="crypto.md#domain", description="6 is not a go-spacemesh signing domain")
    yield Case("signature_too_short", inputs={**base, "signature": signature[:63]}, error="InvalidValue",
               reason="bad_length", spec_ref="crypto.md#verify_signature", description="a 63-byte signature")


def test_domain_values_match_go_spacemesh():
    # GS signing/signer.go:18-31
    assert {d.name: int(d) for d in crypto.Domain} == {
        "ATX": 0, "PROPOSAL": 1, "BALLOT": 2, "HARE": 3, "POET": 4, "MARRIAGE": 5,
        "BEACON_FIRST_MSG": 10, "BEACON_FOLLOWUP_MSG": 11,
    }


def test_signed_bytes_layout():
    assert crypto.signed_bytes(crypto.Domain.HARE, b"G" * 20, b"msg") == b"G" * 20 + b"\x03msg"


def test_libsodium_rejects_what_voi_accepts():
    # Documents why the impl cannot hand verification to libsodium alone (crypto.md Decision).
    crafted = {name: (pk, m, sig) for name, pk, m, sig, _, _ in crafted_verify_cases()}
    for name in ("small_order_r_accepted", "torsion_public_key_cofactored"):
        pk, m, sig = crafted[name]
        assert crypto.ed25519_verify(pk, m, sig)
        with pytest.raises(nacl.exceptions.BadSignatureError):
            nacl.bindings.crypto_sign_open(sig + m, pk)


def test_bad_seed_length():
    with pytest.raises(InvalidValue):
        crypto.public_key(bytes(33))
