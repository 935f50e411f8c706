"""ECVRF-EDWARDS25519-SHA512-ELL2 (spec/crypto.md#ecvrf-edwards25519-sha512-ell2): vectors
crypto/vrf/{prove, verify, proof_to_hash, encode_to_curve}.

Known answers: RFC 9381 Appendix B.4 (ECVRF-EDWARDS25519-SHA512-ELL2), all three examples: SK,
PK, alpha, H (encode_to_curve), k, U, V, pi and beta. The same pi/beta pairs are the "v11 and
later" vectors of curve25519-voi's ecvrf_test.go, the library go-spacemesh links. The
hash-to-curve step is also checked against RFC 9380 Appendix J.5.2 (its own DST).

Reject cases are built here from the curve equations; a verifier answers ``valid: false`` for
all of them (go-spacemesh's VRFVerify returns false, never an error).
"""

from __future__ import annotations

import nacl.signing
import pytest
from smspec.conformance.cases import Case, output_fields, vector_source
from smspec.spec import crypto
from smspec.spec.errors import InvalidSignature, InvalidValue

# RFC 9381 Appendix B.4: (SK, PK, alpha, H, k, U, V, pi, beta)
RFC9381_ELL2 = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "b8066ebbb706c72b64390324e4a3276f129569eab100c26b9f05011200c1bad9",
     "55cbb247af9b8372259a97b2cfec656d78868deb33b203d51b9961c364522400",
     "762f5c178b68f0cddcc1157918edf45ec334ac8e8286601a3256c3bbf858edd9",
     "4652eba1c4612e6fce762977a59420b451e12964adbe4fbecd58a7aeff5860af",
     "7d9c633ffeee27349264cf5c667579fc583b4bda63ab71d001f89c10003ab46f14adf9a3cd8b8412d9038531e865c341"
     "cafa73589b023d14311c331a9ad15ff2fb37831e00f0acaa6d73bc9997b06501",
     "9d574bf9b8302ec0fc1e21c3ec5368269527b87b462ce36dab2d14ccf80c53cccf6758f058c5b1c856b116388152bbe5"
     "09ee3b9ecfe63d93c3b4346c1fbc6c54"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "76ac3ccb86158a9104dff819b1ca293426d305fd76b39b13c9356d9b58c08e57",
     "9565956daeedf376cad61b829b2a4d21ba1b52e9b3e2457477a64630a9711003",
     "8ec26e77b8cb3114dd2265fe1564a4efb40d109aa3312536d93dfe3d8d80a061",
     "fe799eb5770b4e3a5a27d22518bb631db183c8316bb552155f442c62a47d1c8b",
     "47b327393ff2dd81336f8a2ef10339112401253b3c714eeda879f12c509072ef055b48372bb82efbdce8e10c8cb9a2f9"
     "d60e93908f93df1623ad78a86a028d6bc064dbfc75a6a57379ef855dc6733801",
     "38561d6b77b71d30eb97a062168ae12b667ce5c28caccdf76bc88e093e4635987cd96814ce55b4689b3dd2947f80e59a"
     "ac7b7675f8083865b46c89b2ce9cc735"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "13d2a8b5ca32db7e98094a61f656a08c6c964344e058879a386a947a4e189ed1",
     "1fda4077f737098b3f361c33a36cccafd7e9e9b720e1f84011254e25f37eed02",
     "a012f35433df219a88ab0f9481f4e0065d00422c3285f3d34a8b0202f20bac60",
     "fb613986d171b3e98319c7ca4dc44c5dd8314a6e5616c1a4f16ce72bd7a0c25a",
     "926e895d308f5e328e7aa159c06eddbe56d06846abf5d98c2512235eaa57fdce35b46edfc655bc828d44ad09d1150f31"
     "374e7ef73027e14760d42e77341fe05467bb286cc2c9d7fde29120a0b2320d04",
     "121b7f9b9aaaa29099fc04a94ba52784d44eac976dd1a3cca458733be5cd090a7b5fbd148444f17f8daf1fb55cb04b1a"
     "e85a626e30a54b4b0f8abf4a43314a58"),
]

# GS activation/e2e/atx_merge_test.go identity seeds, and go-spacemesh-shaped alphas:
# hare VrfMessage{type 2, beacon 01000000, round 1, layer 50} (hare.md §3.1) and an arbitrary one.
GS_SEEDS = {
    "key0": bytes.fromhex("1f2b77052ecc193038156d5c32f08d449742e7dda81fa172f8ac90839d34c769"),
    "key1": bytes.fromhex("6f385445a53d8af57874acd2dd98023858df7aa62f0b6e91ffdd51198036e2c3"),
}
ALPHAS = {"hare_message": bytes.fromhex("080100000004c8"), "hello_world": b"hello world",
          "long": bytes(range(256)) * 2}

L = crypto.GROUP_ORDER
REF = "crypto.md#vrf_verify"


def rfc(i: int) -> dict[str, bytes]:
    names = ("sk", "pk", "alpha", "h", "k", "u", "v", "pi", "beta")
    return dict(zip(names, (bytes.fromhex(x) for x in RFC9381_ELL2[i]), strict=True))


def with_s(proof: bytes, s: int) -> bytes:
    return proof[:48] + s.to_bytes(32, "little")


def torsion_point() -> crypto.Point:
    for y in range(2, 1000):
        p = crypto.decode_point(y.to_bytes(32, "little"))
        if p is not None:
            t = crypto.point_mul(L, p)
            if not crypto.point_equal(crypto.point_mul(4, t), crypto.IDENTITY):
                return t
    raise AssertionError("no order-8 point")


@vector_source("crypto", "vrf", "prove")
def test_prove():
    for i in range(3):
        v = rfc(i)
        yield Case(f"rfc9381_ell2_example_{i + 1}", inputs={"seed": v["sk"], "alpha": v["alpha"]},
                   expected={"public_key": v["pk"], "proof": v["pi"], "beta": v["beta"]},
                   spec_ref="crypto.md#vrf_prove", description="RFC 9381 Appendix B.4 known answer")
    for key, seed in GS_SEEDS.items():
        # The public key is known independently (PyNaCl); proof and beta are the spec's, and
        # test_verify checks that a proof made this way verifies.
        public_key = bytes(nacl.signing.SigningKey(seed).verify_key)
        for name, alpha in ALPHAS.items():
            yield Case(f"go_spacemesh_{key}_{name}", inputs={"seed": seed, "alpha": alpha},
                       check=output_fields(public_key=public_key),
                       spec_ref="crypto.md#vrf_prove", description="go-spacemesh test identity, computed proof")
    yield Case("seed_too_long", inputs={"seed": bytes(33), "alpha": b""}, error="InvalidValue",
               reason="bad_length", spec_ref="crypto.md#vrf_prove", description="a 33-byte seed")


def reject_cases():
    """(name, public key, proof, alpha, description) of proofs that must not verify."""
    v, w = rfc(0), rfc(1)
    pk, pi, alpha = v["pk"], v["pi"], v["alpha"]
    s = int.from_bytes(pi[48:], "little")
    yield "wrong_alpha", pk, pi, b"\x00", "the proof of another alpha"
    yield "wrong_public_key", w["pk"], pi, alpha, "another identity's key"
    yield "flipped_gamma", pk, bytes([pi[0] ^ 1]) + pi[1:], alpha, "Gamma changed"
    yield "flipped_c", pk, pi[:32] + bytes([pi[32] ^ 1]) + pi[33:], alpha, "c changed"
    yield "flipped_s", pk, pi[:48] + bytes([pi[48] ^ 1]) + pi[49:], alpha, "s changed"
    yield "s_plus_l", pk, with_s(pi, s + L), alpha, "s + L: same equation, but s must be < L"
    yield "gamma_not_on_curve", pk, (2).to_bytes(32, "little") + pi[32:], alpha, "Gamma does not decode"
    yield ("gamma_non_canonical", pk, (crypto.FIELD_PRIME + 1).to_bytes(32, "little") + pi[32:], alpha,
           "Gamma encoded with y >= p")
    yield "public_key_identity", crypto.encode_point(crypto.IDENTITY), pi, alpha, "a small-order key"
    yield "public_key_not_on_curve", (2).to_bytes(32, "little"), pi, alpha, "the key does not decode"
    yield "all_zero_proof", pk, bytes(80), alpha, "Gamma = (x, 0) of order 4, c = s = 0"
    # A key with a torsion component (not of small order, so VOI decodes and accepts it as a key):
    # a proof made with the secret x still fails, because U picks up c·T.
    t8 = torsion_point()
    x, _ = crypto.secret_expand(v["sk"])
    torsion_pk = crypto.encode_point(crypto.point_add(crypto.point_mul(x, crypto.BASE_POINT), t8))
    yield "torsion_public_key", torsion_pk, pi, alpha, "key = x·B + T8 with x's proof"
    # Gamma with a torsion component: beta is unchanged (8·Gamma) but V picks up c·T.
    gamma = crypto.point_add(crypto.decode_point(pi[:32]), t8)
    yield "torsion_gamma", pk, crypto.encode_point(gamma) + pi[32:], alpha, "Gamma + T8"


@vector_source("crypto", "vrf", "verify")
def test_verify():
    for i in range(3):
        v = rfc(i)
        yield Case(f"rfc9381_ell2_example_{i + 1}", inputs={"public_key": v["pk"], "proof": v["pi"],
                                                            "alpha": v["alpha"]},
                   expected={"valid": True}, spec_ref=REF, description="RFC 9381 Appendix B.4 proof verifies")
    for key, seed in GS_SEEDS.items():
        alpha = ALPHAS["hare_message"]
        yield Case(f"go_spacemesh_{key}_hare_message", inputs={"public_key": crypto.public_key(seed),
                                                               "proof": crypto.vrf_prove(seed, alpha),
                                                               "alpha": alpha},
                   expected={"valid": True}, spec_ref=REF, description="a proof made by vrf_prove verifies")
    for name, public, proof, alpha, note in reject_cases():
        yield Case(name, inputs={"public_key": public, "proof": proof, "alpha": alpha},
                   expected={"valid": False}, spec_ref=REF, description=note)
    v = rfc(0)
    yield Case("proof_too_short", inputs={"public_key": v["pk"], "proof": v["pi"][:79], "alpha": b""},
               error="InvalidValue", reason="bad_length", spec_ref=REF, description="a 79-byte proof")
    yield Case("public_key_too_long", inputs={"public_key": v["pk"] + b"\x00", "proof": v["pi"], "alpha": b""},
               error="InvalidValue", reason="bad_length", spec_ref=REF, description="a 33-byte key")


@vector_source("crypto", "vrf", "proof_to_hash")
def test_proof_to_hash():
    for i in range(3):
        v = rfc(i)
        yield Case(f"rfc9381_ell2_example_{i + 1}", inputs={"proof": v["pi"]}, expected={"beta": v["beta"]},
                   spec_ref="crypto.md#vrf_proof_to_hash", description="RFC 9381 Appendix B.4 beta")
    v = rfc(0)
    pi = v["pi"]
    gamma = crypto.point_add(crypto.decode_point(pi[:32]), torsion_point())
    yield Case("torsion_gamma_same_beta", inputs={"proof": crypto.encode_point(gamma) + pi[32:]},
               expected={"beta": v["beta"]}, spec_ref="crypto.md#vrf_proof_to_hash",
               description="beta uses 8·Gamma, so a torsion component does not change it (not verified)")
    s = int.from_bytes(pi[48:], "little")
    for name, proof, note in [
        ("s_not_reduced", with_s(pi, s + L), "s >= L does not decode"),
        ("gamma_not_on_curve", (2).to_bytes(32, "little") + pi[32:], "Gamma does not decode"),
        ("gamma_non_canonical", (crypto.FIELD_PRIME + 1).to_bytes(32, "little") + pi[32:], "Gamma y >= p"),
    ]:
        yield Case(name, inputs={"proof": proof}, error="InvalidSignature", reason="malformed_proof",
                   spec_ref="crypto.md#vrf_proof_to_hash", description=note)
    yield Case("proof_too_long", inputs={"proof": pi + b"\x00"}, error="InvalidValue", reason="bad_length",
               spec_ref="crypto.md#vrf_proof_to_hash", description="an 81-byte proof")


@vector_source("crypto", "vrf", "encode_to_curve")
def test_encode_to_curve():
    for i in range(3):
        v = rfc(i)
        yield Case(f"rfc9381_ell2_example_{i + 1}", inputs={"public_key": v["pk"], "alpha": v["alpha"]},
                   expected={"point": v["h"]}, spec_ref="crypto.md#encode_to_curve",
                   description="RFC 9381 Appendix B.4 H")


@pytest.mark.parametrize("i", range(3))
def test_rfc9381_intermediate_values(i):
    v = rfc(i)
    x, prefix = crypto.secret_expand(v["sk"])
    h = crypto.encode_to_curve(v["pk"], v["alpha"])
    assert crypto.encode_point(h) == v["h"]
    k = crypto.vrf_nonce(prefix, v["h"])
    assert k.to_bytes(32, "little") == v["k"]
    assert crypto.encode_point(crypto.point_mul(k, crypto.BASE_POINT)) == v["u"]
    assert crypto.encode_point(crypto.point_mul(k, h)) == v["v"]
    # The verifier's U = s·B − c·Y and V = s·H − c·Gamma reproduce k·B and k·H.
    gamma, c, s = crypto.vrf_decode_proof(v["pi"])
    y = crypto.decode_point(v["pk"])
    u = crypto.point_add(crypto.point_mul(s, crypto.BASE_POINT), crypto.point_negate(crypto.point_mul(c, y)))
    assert crypto.encode_point(u) == v["u"]


def test_rational_map_constant():
    # RFC 9380 §6.8.2: c1 = sqrt(-486664) with sgn0(c1) = 0.
    c1 = crypto.SQRT_MINUS_A_MINUS_2
    assert c1 * c1 % crypto.FIELD_PRIME == -486664 % crypto.FIELD_PRIME and crypto.sgn0(c1) == 0


def test_expand_message_xmd_known_answer():
    # RFC 9380 Appendix K.3, expand_message_xmd(SHA-512), DST "QUUX-V01-CS02-with-expander-SHA512-256",
    # msg "" and len_in_bytes 0x20.
    dst = b"QUUX-V01-CS02-with-expander-SHA512-256"
    assert crypto.expand_message_xmd(b"", dst, 0x20).hex() == (
        "6b9a7312411d92f921c6f68ca0b6380730a1a4d982c507211a90964c394179ba")


def test_proof_to_hash_rejects_malformed():
    with pytest.raises(InvalidSignature):
        crypto.vrf_proof_to_hash((2).to_bytes(32, "little") + bytes(48))
    with pytest.raises(InvalidValue):
        crypto.vrf_verify(bytes(32), bytes(10), b"")


# RFC 9380 Appendix J.5.2, edwards25519_XMD:SHA-512_ELL2_NU_ (the hash-to-curve suite of the VRF,
# here with the RFC's own DST): msg -> (u, Q = map_to_curve(u), P = clear_cofactor(Q)), affine x/y.
H2C_DST = b"QUUX-V01-CS02-with-edwards25519_XMD:SHA-512_ELL2_NU_"
H2C_VECTORS = [
    (b"", "7f3e7fb9428103ad7f52db32f9df32505d7b427d894c5093f7a0f0374a30641d",
     ("42836f691d05211ebc65ef8fcf01e0fb6328ec9c4737c26050471e50803022eb",
      "22cb4aaa555e23bd460262d2130d6a3c9207aa8bbb85060928beb263d6d42a95"),
     ("1ff2b70ecf862799e11b7ae744e3489aa058ce805dd323a936375a84695e76da",
      "222e314d04a4d5725e9f2aff9fb2a6b69ef375a1214eb19021ceab2d687f0f9b")),
    (b"abc", "09cfa30ad79bd59456594a0f5d3a76f6b71c6787b04de98be5cd201a556e253b",
     ("333e41b61c6dd43af220c1ac34a3663e1cf537f996bab50ab66e33c4bd8e4e19",
      "51b6f178eb08c4a782c820e306b82c6e273ab22e258d972cd0c511787b2a3443"),
     ("5f13cc69c891d86927eb37bd4afc6672360007c63f68a33ab423a3aa040fd2a8",
      "67732d50f9a26f73111dd1ed5dba225614e538599db58ba30aaea1f5c827fa42")),
    (b"abcdef0123456789", "475ccff99225ef90d78cc9338e9f6a6bb7b17607c0c4428937de75d33edba941",
     ("55186c242c78e7d0ec5b6c9553f04c6aeef64e69ec2e824472394da32647cfc6",
      "5b9ea3c265ee42256a8f724f616307ef38496ef7eba391c08f99f3bea6fa88f0"),
     ("1dd2fefce934ecfd7aae6ec998de088d7dd03316aa1847198aecf699ba6613f1",
      "2f8a6c24dd1adde73909cada6a4a137577b0f179d336685c4a955a0a8e1a86fb")),
    (b"q128_" + b"q" * 128, "049a1c8bd51bcb2aec339f387d1ff51428b88d0763a91bcdf6929814ac95d03d",
     ("024b6e1621606dca8071aa97b43dce4040ca78284f2a527dcf5d0fbfac2b07e7",
      "5102353883d739bdc9f8a3af650342b171217167dcce34f8db57208ec1dfdbf2"),
     ("35fbdc5143e8a97afd3096f2b843e07df72e15bfca2eaf6879bf97c5d3362f73",
      "2af6ff6ef5ebba128b0774f4296cb4c2279a074658b083b8dcca91f57a603450")),
    (b"a512_" + b"a" * 512, "3cb0178a8137cefa5b79a3a57c858d7eeeaa787b2781be4a362a2f0750d24fa0",
     ("3e6368cff6e88a58e250c54bd27d2c989ae9b3acb6067f2651ad282ab8c21cd9",
      "38fb39f1566ca118ae6c7af42810c0bb9767ae5960abb5a8ca792530bfb9447d"),
     ("6e5e1f37e99345887fc12111575fc1c3e36df4b289b8759d23af14d774b66bff",
      "2c90c3d39eb18ff291d33441b35f3262cdd307162cc97c31bfcc7a4245891a37")),
]


def affine(point: crypto.Point) -> tuple[int, int]:
    z_inverse = crypto.field_inverse(point[2])
    return point[0] * z_inverse % crypto.FIELD_PRIME, point[1] * z_inverse % crypto.FIELD_PRIME


@pytest.mark.parametrize("message, u, q, p", H2C_VECTORS, ids=["empty", "abc", "abcdef", "q128", "a512"])
def test_rfc9380_hash_to_curve_vectors(message, u, q, p):
    field_element = crypto.hash_to_field(message, H2C_DST)
    assert field_element == int(u, 16)
    mapped = crypto.montgomery_to_edwards(*crypto.map_to_curve_elligator2(field_element))
    assert affine(mapped) == (int(q[0], 16), int(q[1], 16))
    assert affine(crypto.point_mul(crypto.COFACTOR, mapped)) == (int(p[0], 16), int(p[1], 16))
