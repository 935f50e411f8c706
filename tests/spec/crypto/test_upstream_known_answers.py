"""Merkle roots, proofs and parking snapshots obtained by running spacemeshos/merkle-tree.

Provenance: spacemeshos/merkle-tree library code at tag v0.2.3 (commit c5fb5ce081d3928bbb34ed5d3c2b6f817ed6f518;
its Go sources are identical to HEAD 43eac1e89f82fd544101d24922539602b254b583, which go-spacemesh
pins as v0.2.4), `TreeBuilder.WithHashFunc/WithLeavesToProve`, `Tree.AddLeaf`,
`Tree.RootAndProof` and `ValidatePartialTreeWithParkingSnapshots`, computed by running upstream
with Go 1.19.8 on 2026-11-22. Node hash "b3" is go-spacemesh's `atxTreeHash`
(blake3(0x01 || left || right), here through Debian's lukechampine.com/blake3), "sha" the
library's default `GetSha256Parent`. The same harness compared the spec with upstream on 3,300
random trees of 0..300 leaves (32-byte, short and empty leaves, up to 10 proven indices) and
about 21,000 validations of honest and tampered proofs (no mismatch); a curated handful is kept.

Leaves are `i.to_bytes(32, "little")` for i = 0, 1, ... unless listed.
"""

from __future__ import annotations

import pytest
from smspec.spec import crypto

HASHES = {"b3": crypto.merkle_node_hash, "sha": crypto.sha256_node_hash}
Z = "00" * 32


def leaves(n: int) -> list[bytes]:
    return [i.to_bytes(32, "little") for i in range(n)]


def word(i: int) -> str:
    return i.to_bytes(32, "little").hex()


ROOTS = [
    (0, "b3", ""),
    (1, "b3", Z),
    (2, "b3", "417821c06d84c75911471e76081e864c981fb4c1cdfbaa2202800d41ced75eef"),
    (3, "b3", "a32a7fee32218a32744faadea2930802a81e8fbf807fe6e0fe9536d6c817ebe3"),
    (5, "b3", "f7ce1e99fd477d6537a03455ca625120d7c4cd4337016847a07fba6f4138fb69"),
    (8, "b3", "f87b6a0cd055284f635f5b216c4c024bfb66fb5dfa18ee166d32a51eaadc4195"),
    (9, "b3", "1b5a40773b26cb584da8ed58380fa09871b992da336e12a75f1f0a03c7428811"),
    (17, "b3", "f27ca6d6db745be48d5763584c787517ce6db5115a688dd23a50f84ae8bfba98"),
    (255, "b3", "531a05bbecf483c803de466f559a9f93ca85f1076ee5d1d6a4276173107ca1f9"),
    (256, "b3", "521e856727ae1aeffd804fc26d708eb66e493817d6fac87083b6d1425f63bd9d"),
    (257, "b3", "0dce7e3a9676e0b66db9dbc729f173500c7d394c55fb8bd7548dac784c72d836"),
    (300, "b3", "13138d6891b96fea523df22b81073e2b1ea6543e93846d8d21f81e55b8a30883"),
    (3, "sha", "4a07d56213d62b2d194a3cc1f19bec40364540bdf3d45eb0d6fe82094d21b4dc"),
    (9, "sha", "cb71c80ee780788eedb819ec125a41e0cde57bd0955cdd3157ca363193ab5ff1"),
]


@pytest.mark.parametrize(("n", "hash_name", "root"), ROOTS)
def test_root(n, hash_name, root):
    assert crypto.merkle_root(leaves(n), HASHES[hash_name]).hex() == root


# Trees with empty leaves (MT treats an empty node as "no node").
EMPTY_LEAF_ROOTS = [
    ([word(0), "", word(2)], "e7f8b4f8538718b81da0c320b581dbfcc822dff4f993961fe9851541fc7f3041"),
    (["", "", word(0)], Z),
    ([word(0), word(1), word(2), word(3), ""], "649b16245bb818e936c523729f1af63b17ddb44bc7a62584354a7796c05f26bf"),
    (["0102", "", "03"], "9ba54b00b9916ee0286fa51b35aa375c6e25c6fa79d431c9d56002fa35d6227d"),
]


@pytest.mark.parametrize(("leaf_hex", "root"), EMPTY_LEAF_ROOTS)
def test_root_with_empty_leaves(leaf_hex, root):
    assert crypto.merkle_root([bytes.fromhex(x) for x in leaf_hex]).hex() == root


PROOFS = [
    (9, [8], [Z, Z, Z, "f87b6a0cd055284f635f5b216c4c024bfb66fb5dfa18ee166d32a51eaadc4195"]),
    (17, [3, 4, 16], [
        word(2),
        "417821c06d84c75911471e76081e864c981fb4c1cdfbaa2202800d41ced75eef",
        word(5),
        "c37a2cfdaf00e586bcb89d755c1a5de43f8ba3b23f5d0754340a68c87866617d",
        "2f5dabacb2d8535899dc352c58b581093341ed15272b36dc7e52c281f4ecce75",
        Z, Z, Z, Z,
    ]),
    (256, [255], [
        word(254),
        "7d2925097d542bee798ab81e68b1ef77ac6dc742d8efb93cb1b29dfdd829cce8",
        "9eef38c3948eb72b202d7f451f5f650e90c2a2a74ce7b6dd584f034d31e9f1ed",
        "17cc40132c2fb5f5bd48c746c785f28291c394012190e8a136102725d79548b6",
        "666e8028903fe9e56f5da7dcbacffde7fbcdce21350c4c6ba0f9fc709b669993",
        "e49b4d54c140bd0aff63178eda08111dfe11c620a8fdcdfb8bbb92855e97ffff",
        "ea0250cf5484a47845cf518a92b886e732957c8f182d1284440e2a6a0b1d0f9c",
        "6be952917f3cc524d50aad98cc925b73a4f4115a18354b7115c6a5b645c2f951",
    ]),
    (300, [0, 150, 299], [
        word(1),
        "3f3c39b4abad35b959112487c512de915e34db2ad90159fc5ff3da4b19894f9f",
        "6be5a50209e595ecae956df6fdec0f946590ea5b72a31f3dc6b9126664fb62eb",
        "2f5dabacb2d8535899dc352c58b581093341ed15272b36dc7e52c281f4ecce75",
        "7e45b5a073216cba646c45d87918a728a0e1b2fff18e0702f73a92cb9cc765ba",
        "a5b86e25e39e0899c6082255a0bcf76779999c41a26066693bad56913969d6ff",
        "a21d7fed9d9d112c20425c95be54d39c393515103ff003c3c9e5b7bc814a18fa",
        word(151),
        "e920d8345a2b5ef40338b704ba1a09418c4f3b54e23f1c11205ac6131b141a46",
        "5efecec5c511c77502a26f5a2ce39c2e3b9f3723ff2ea0db2033f8fff1534dd6",
        "ef8e33af4dfd5ed23e6eb3e99347da469e0b877b55db249e9e16cd15566ad43e",
        "f42f2b9035573a52e6ce807b2ce4bc4bcb35494bcd03214701d213f228c4707c",
        "834f2e80232905b494ee7140d1a5fdaf0f670bcbc8a4edf0e010feff9e9a58f7",
        "4c791d2fefcfaaa3de8f43bd8745fe71218edaf00dd870e8a86011455cd4219f",
        word(298),
        "543f2366027c9f05d8a72a47f36f2657ffcc4d8be257e1c790c382a6011f7346",
        Z,
        "5e4e0267f3a5c6254b54f892ebe4c6738bf71cbc3b94acdb200ce5da47edc00f",
        Z,
        "8fed4c588948fcf4ffe1d9d67eaf7378f31c8f727470d5d20cd970a2d6b7c281",
        Z, Z,
    ]),
    (5, [7], []),  # an index beyond the leaves proves nothing
]


@pytest.mark.parametrize(("n", "indices", "proof"), PROOFS)
def test_proof_and_validation(n, indices, proof):
    tree_leaves = leaves(n)
    root, nodes = crypto.merkle_root_and_proof(tree_leaves, indices)
    assert [node.hex() for node in nodes] == proof
    assert root == crypto.merkle_root(tree_leaves)
    proven = [i for i in indices if i < n]
    if proven:
        assert crypto.validate_partial_tree(proven, [tree_leaves[i] for i in proven], nodes, root)


def test_parking_snapshots():
    tree_leaves = leaves(17)
    root, nodes = crypto.merkle_root_and_proof(tree_leaves, [3, 4, 16])
    ok, snapshots = crypto.validate_partial_tree_with_parking_snapshots(
        [3, 4, 16], [tree_leaves[3], tree_leaves[4], tree_leaves[16]], nodes, root)
    assert ok
    assert [[None if node is None else node.hex() for node in snapshot] for snapshot in snapshots] == [
        [word(2), "417821c06d84c75911471e76081e864c981fb4c1cdfbaa2202800d41ced75eef", None, None, None],
        [None, None, "649b16245bb818e936c523729f1af63b17ddb44bc7a62584354a7796c05f26bf", None, None],
        [None, None, None, None, "70e63265e9a8e6797fda708b403cdb848521b16e8cfbfce6e4bec410b85d984f"],
    ]
