"""BLAKE3 hashing and the genesis ID (spec/crypto.md#hash32, #blake3_xof, #genesis_id):
vectors crypto/hash/hash32, crypto/hash/xof, crypto/hash/genesis_id.

Known answers marked "BLAKE3 official" are from BLAKE3-team/BLAKE3 `test_vectors/test_vectors.json`
(hash mode; the input of length n is the bytes 0, 1, ..., 250, 0, 1, ... ; the file gives 131
bytes of extended output, whose first 32 bytes are the 256-bit hash).
"""

from __future__ import annotations

import blake3
from smspec.conformance.cases import Case, vector_source
from smspec.spec import crypto

# BLAKE3 official, hash mode: input length -> 131 bytes of output.
BLAKE3_OFFICIAL = {
    0: "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262e00f03e7b69af26b7faaf09fcd333050338ddfe085b8cc869ca98b206c08243a26f5487789e8f660afe6c99ef9e0c52b92e7393024a80459cf91f476f9ffdbda7001c22e159b402631f277ca96f2defdf1078282314e763699a31c5363165421cce14d",
    1: "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213c3a6cb8bf623e20cdb535f8d1a5ffb86342d9c0b64aca3bce1d31f60adfa137b358ad4d79f97b47c3d5e79f179df87a3b9776ef8325f8329886ba42f07fb138bb502f4081cbcec3195c5871e6c23e2cc97d3c69a613eba131e5f1351f3f1da786545e5",
    2: "7b7015bb92cf0b318037702a6cdd81dee41224f734684c2c122cd6359cb1ee63d8386b22e2ddc05836b7c1bb693d92af006deb5ffbc4c70fb44d0195d0c6f252faac61659ef86523aa16517f87cb5f1340e723756ab65efb2f91964e14391de2a432263a6faf1d146937b35a33621c12d00be8223a7f1919cec0acd12097ff3ab00ab1",
    63: "e9bc37a594daad83be9470df7f7b3798297c3d834ce80ba85d6e207627b7db7b1197012b1e7d9af4d7cb7bdd1f3bb49a90a9b5dec3ea2bbc6eaebce77f4e470cbf4687093b5352f04e4a4570fba233164e6acc36900e35d185886a827f7ea9bdc1e5c3ce88b095a200e62c10c043b3e9bc6cb9b6ac4dfa51794b02ace9f98779040755",
    64: "4eed7141ea4a5cd4b788606bd23f46e212af9cacebacdc7d1f4c6dc7f2511b98fc9cc56cb831ffe33ea8e7e1d1df09b26efd2767670066aa82d023b1dfe8ab1b2b7fbb5b97592d46ffe3e05a6a9b592e2949c74160e4674301bc3f97e04903f8c6cf95b863174c33228924cdef7ae47559b10b294acd660666c4538833582b43f82d74",
    65: "de1e5fa0be70df6d2be8fffd0e99ceaa8eb6e8c93a63f2d8d1c30ecb6b263dee0e16e0a4749d6811dd1d6d1265c29729b1b75a9ac346cf93f0e1d7296dfcfd4313b3a227faaaaf7757cc95b4e87a49be3b8a270a12020233509b1c3632b3485eef309d0abc4a4a696c9decc6e90454b53b000f456a3f10079072baaf7a981653221f2c",
    1023: "10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11a182d27a591b05592b15607500e1e8dd56bc6c7fc063715b7a1d737df5bad3339c56778957d870eb9717b57ea3d9fb68d1b55127bba6a906a4a24bbd5acb2d123a37b28f9e9a81bbaae360d58f85e5fc9d75f7c370a0cc09b6522d9c8d822f2f28f485",
    1024: "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af71cf8107265ecdaf8505b95d8fcec83a98a6a96ea5109d2c179c47a387ffbb404756f6eeae7883b446b70ebb144527c2075ab8ab204c0086bb22b7c93d465efc57f8d917f0b385c6df265e77003b85102967486ed57db5c5ca170ba441427ed9afa684e",
    1025: "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444f4c4a22b4b399155358a994e52bf255de60035742ec71bd08ac275a1b51cc6bfe332b0ef84b409108cda080e6269ed4b3e2c3f7d722aa4cdc98d16deb554e5627be8f955c98e1d5f9565a9194cad0c4285f93700062d9595adb992ae68ff12800ab67a",
    2049: "5f4d72f40d7a5f82b15ca2b2e44b1de3c2ef86c426c95c1af0b687952256303096de31d71d74103403822a2e0bc1eb193e7aecc9643a76b7bbc0c9f9c52e8783aae98764ca468962b5c2ec92f0c74eb5448d519713e09413719431c802f948dd5d90425a4ecdadece9eb178d80f26efccae630734dff63340285adec2aed3b51073ad3",
}

MAINNET_GENESIS_TIME = 1689321600  # 2023-07-14T08:00:00Z (GS config/mainnet.go)
MAINNET_EXTRA_DATA = "00000000000000000001a6bc150307b5c1998045752b3c87eccf3c013036f3cc"  # GS config/mainnet.go


def official_input(length: int) -> bytes:
    return bytes(i % 251 for i in range(length))


@vector_source("crypto", "hash", "hash32")
def test_hash32():
    for length, output in BLAKE3_OFFICIAL.items():
        yield Case(f"blake3_official_len_{length}", inputs={"chunks": [official_input(length)]},
                   expected={"hash": "0x" + output[:64]}, spec_ref="crypto.md#hash32",
                   description=f"BLAKE3 official test vector, input length {length}")
    # The same input split into chunks hashes like the concatenation (no length prefixes).
    data = official_input(1025)
    yield Case("chunks_concatenate", inputs={"chunks": [data[:1], data[1:700], b"", data[700:]]},
               expected={"hash": "0x" + BLAKE3_OFFICIAL[1025][:64]}, spec_ref="crypto.md#hash32",
               description="hash.Sum over chunks is the hash of their concatenation")
    # GS common/types/atxid_list_test.go: ATXIDList{CalcHash32("1")}.Hash()
    inner = crypto.hash32(b"1")
    yield Case("go_spacemesh_atxid_list", inputs={"chunks": [inner]},
               expected={"hash": "0x3c462dd7363d6e6fb7d5085679d2ee7de30f2d939722882be0816387983051f6"},
               spec_ref="crypto.md#hash32",
               description="go-spacemesh ATXIDList known answer: blake3(blake3(\"1\"))")


@vector_source("crypto", "hash", "xof")
def test_xof():
    for length, output in BLAKE3_OFFICIAL.items():
        yield Case(f"blake3_official_len_{length}", inputs={"data": official_input(length), "length": 131},
                   expected={"output": "0x" + output}, spec_ref="crypto.md#blake3_xof",
                   description=f"BLAKE3 official extended output (131 bytes), input length {length}")
    yield Case("prefix_20", inputs={"data": official_input(2), "length": 20},
               expected={"output": "0x" + BLAKE3_OFFICIAL[2][:40]}, spec_ref="crypto.md#blake3_xof",
               description="a shorter output is a prefix of the stream (GS hash.Sum20)")
    yield Case("empty_output", inputs={"data": b"abc", "length": 0}, expected={"output": "0x"},
               spec_ref="crypto.md#blake3_xof", description="zero output bytes")
    yield Case("negative_length", inputs={"data": b"abc", "length": -1}, error="InvalidValue",
               reason="bad_length", spec_ref="crypto.md#blake3_xof", description="negative length")


@vector_source("crypto", "hash", "genesis_id")
def test_genesis_id():
    # Mainnet genesis ID and golden ATX: published in go-spacemesh p2p test prologues and wallet
    # configs (shared/research/hare.md §2.4, atx.md §7.1).
    yield Case("mainnet", inputs={"genesis_time": MAINNET_GENESIS_TIME, "extra_data": MAINNET_EXTRA_DATA},
               expected={"golden_atx": "0x9eebff023abb17ccb775c602daade8ed708f0a50d3149a42801184f5b74f2865",
                         "genesis_id": "0x9eebff023abb17ccb775c602daade8ed708f0a50"},
               spec_ref="crypto.md#genesis_id", description="mainnet genesis configuration")
    # Derived with the blake3 package directly: blake3(decimal time ‖ raw extra-data bytes).
    for name, time, extra in [("testnet_like", 1700000000, "testnet-15"), ("zero_time", 0, "x"),
                              ("unicode_extra_data", 1689321600, "genèse")]:
        golden = blake3.blake3(str(time).encode("ascii") + extra.encode("utf-8")).digest()
        yield Case(name, inputs={"genesis_time": time, "extra_data": extra},
                   expected={"golden_atx": golden, "genesis_id": golden[:20]},
                   spec_ref="crypto.md#genesis_id", description="blake3(decimal time ‖ extra data)")


def test_official_inputs_are_the_documented_pattern():
    # Guards the generator of the official inputs: 251 distinct bytes, then it repeats.
    data = official_input(253)
    assert data[250] == 250 and data[251] == 0 and data[252] == 1


def test_hash32_is_the_xof_prefix():
    for length in BLAKE3_OFFICIAL:
        data = official_input(length)
        assert crypto.blake3_xof(data, 64)[:32] == crypto.hash32(data)
