"""Merkle trees as spacemeshos/merkle-tree v0.2.4 (spec/crypto.md#merkle-trees):
vectors crypto/merkle/root, crypto/merkle/proof, crypto/merkle/validate.

Known answers marked "MT" are from the library's own tests (`merkle_test.go`,
`validation_test.go` at v0.2.4), which use its default node hash sha256(l ‖ r) and the leaves
`NewNodeFromUint64(i)` = i as 8 little-endian bytes padded with zeros to 32 bytes.

Cases with go-spacemesh's node hash blake3(0x01 ‖ l ‖ r) take their expected values from
`level_root` / `level_proof` below: an independent, level-by-level statement of the same tree
(each level of odd width is padded with one zero node), not the spec's streaming algorithm.
"""

from __future__ import annotations

import hashlib
import random

import blake3
import pytest
from smspec.conformance.cases import Case, vector_source
from smspec.spec import crypto
from smspec.spec.errors import InvalidValue

ZERO = bytes(32)

# MT merkle_test.go / validation_test.go known answers (sha256 node hash).
MT_ROOT_8 = "89a0f1577268cc19b0a39c7a69f804fd140640c699585eb635ebb03c06154cce"
MT_ROOT_9 = "cb71c80ee780788eedb819ec125a41e0cde57bd0955cdd3157ca363193ab5ff1"
MT_ROOT_10 = "59f32a43534fe4c4c0966421aef624267cdf65bd11f74998c60f27c7caccb12d"
MT_ROOT_15 = "b9746fb884ed07041c5cbb3bb5526e1383928e832a8385e08db995966889b5a8"
MT_NODE_0094 = "0094579cfc7b716038d416a311465309bea202baa922b224a7b08f01599642fb"  # H(L2, L3)
MT_NODE_FA67 = "fa670379e5c2212ed93ff09769622f81f98a91e1ec8fb114d607dd25220b9088"  # H(L6, L7)
MT_NODE_BA94 = "ba94ffe7edabf26ef12736f8eb5ce74d15bedb6af61444ae2906e926b1a95084"  # H(H(L0,L1), H(L2,L3))
MT_NODE_BC68 = "bc68417a8495de6e22d95b980fca5a1183f29eff0e2a9b7ddde91ed5bcbea952"
MT_VALIDATE_ROOT = "2657509b700c67b205c5196ee9a231e0fe567f1dae4a15bb52c0de813d65677a"


def mt_leaf(i: int) -> bytes:
    """MT NewNodeFromUint64."""
    return i.to_bytes(8, "little") + bytes(24)


def mt_leaves(n: int) -> list[bytes]:
    return [mt_leaf(i) for i in range(n)]


def h(left: bytes, right: bytes) -> bytes:
    return blake3.blake3(b"\x01" + left + right).digest()


def level_root(leaves: list[bytes]) -> bytes:
    """Reference: pad every level of odd width with one zero node, hash pairs, repeat."""
    if not leaves:
        return b""
    level = list(leaves)
    while len(level) > 1:
        if len(level) % 2:
            level.append(ZERO)
        level = [h(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def level_proof(leaves: list[bytes], index: int) -> list[bytes]:
    """Reference: the sibling at every level, bottom-up (zero node where the level is padded)."""
    level, proof = list(leaves), []
    while len(level) > 1:
        if len(level) % 2:
            level.append(ZERO)
        proof.append(level[index ^ 1])
        level = [h(level[i], level[i + 1]) for i in range(0, len(level), 2)]
        index >>= 1
    return proof


def blake_leaves(name: str, n: int) -> list[bytes]:
    rng = random.Random(name)
    return [rng.randbytes(32) for _ in range(n)]


@vector_source("crypto", "merkle", "root")
def test_root():
    for n, root in [(8, MT_ROOT_8), (9, MT_ROOT_9), (10, MT_ROOT_10), (15, MT_ROOT_15)]:
        yield Case(f"mt_sha256_{n}_leaves", inputs={"leaves": mt_leaves(n), "node_hash": "sha256"},
                   expected={"root": "0x" + root}, spec_ref="crypto.md#merkle_root",
                   description=f"MT known answer (TestNewTree / TestNewTreeUnbalanced*), {n} leaves")
    for n in [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33]:
        leaves = blake_leaves(f"root_{n}", n)
        yield Case(f"blake3_{n}_leaves", inputs={"leaves": leaves, "node_hash": "blake3"},
                   expected={"root": level_root(leaves)}, spec_ref="crypto.md#merkle_root",
                   description=f"{n} leaves; odd levels padded with one zero node")
    yield Case("no_leaves", inputs={"leaves": []}, expected={"root": "0x"},
               spec_ref="crypto.md#merkle_root", description="the root of an empty tree is empty")
    a, b, c = blake_leaves("quirk", 3)
    short = b"\x07\x00\x00\x00"
    yield Case("variable_length_leaves", inputs={"leaves": [short, a[:24], c]},
               expected={"root": h(h(short, a[:24]), h(c, ZERO))}, spec_ref="crypto.md#merkle_root",
               description="leaves are not hashed first and may have any length (ATX v2 scheme A)")
    yield Case("empty_leaf_first_vanishes", inputs={"leaves": [b"", a, b]}, expected={"root": h(a, b)},
               spec_ref="crypto.md#merkle_root",
               description="MT quirk: an empty leaf arriving at an empty slot disappears")
    yield Case("empty_leaf_as_right_sibling", inputs={"leaves": [a, b""]},
               expected={"root": blake3.blake3(b"\x01" + a).digest()}, spec_ref="crypto.md#merkle_root",
               description="MT quirk: an empty right sibling is hashed as H(left ‖ \"\")")
    yield Case("empty_leaf_in_the_middle", inputs={"leaves": [a, b"", b]},
               expected={"root": h(blake3.blake3(b"\x01" + a).digest(), h(b, ZERO))},
               spec_ref="crypto.md#merkle_root", description="MT quirk with a third leaf after it")
    yield Case("only_empty_leaves", inputs={"leaves": [b"", b""]}, expected={"root": "0x"},
               spec_ref="crypto.md#merkle_root", description="every leaf vanishes: empty root")


@vector_source("crypto", "merkle", "proof")
def test_proof():
    def mt(name: str, n: int, indices: list[int], root: str, proof: list[str], test: str) -> Case:
        return Case(name, inputs={"leaves": mt_leaves(n), "indices": indices, "node_hash": "sha256"},
                    expected={"root": "0x" + root, "proof": ["0x" + p for p in proof]},
                    spec_ref="crypto.md#merkle_root_and_proof", description=f"MT known answer ({test})")

    yield mt("mt_prove_4_of_8", 8, [4], MT_ROOT_8, [mt_leaf(5).hex(), MT_NODE_FA67, MT_NODE_BA94],
             "TestNewProvingTree")
    yield mt("mt_prove_1_4_of_8", 8, [1, 4], MT_ROOT_8,
             [mt_leaf(0).hex(), MT_NODE_0094, mt_leaf(5).hex(), MT_NODE_FA67], "TestNewProvingTreeMultiProof")
    yield mt("mt_prove_0_1_4_of_8", 8, [0, 1, 4], MT_ROOT_8, [MT_NODE_0094, mt_leaf(5).hex(), MT_NODE_FA67],
             "TestNewProvingTreeMultiProof2")
    yield mt("mt_prove_0_4_7_of_10", 10, [0, 4, 7], MT_ROOT_10,
             [mt_leaf(1).hex(), MT_NODE_0094, mt_leaf(5).hex(), mt_leaf(6).hex(), MT_NODE_BC68],
             "TestNewTreeUnbalancedProof")
    yield mt("mt_prove_4_6_of_8", 8, [4, 6], MT_ROOT_8, [mt_leaf(5).hex(), mt_leaf(7).hex(), MT_NODE_BA94],
             "TestValidatePartialTreeParkingSnapshots")
    for n, index in [(1, 0), (2, 1), (5, 4), (9, 8), (9, 3), (12, 11), (17, 16)]:
        leaves = blake_leaves(f"proof_{n}_{index}", n)
        yield Case(f"blake3_prove_{index}_of_{n}", inputs={"leaves": leaves, "indices": [index]},
                   expected={"root": level_root(leaves), "proof": level_proof(leaves, index)},
                   spec_ref="crypto.md#merkle_root_and_proof",
                   description="one leaf: its siblings bottom-up, padding nodes included")
    leaves = blake_leaves("proof_out_of_range", 4)
    yield Case("index_beyond_leaves_ignored", inputs={"leaves": leaves, "indices": [9]},
               expected={"root": level_root(leaves), "proof": []}, spec_ref="crypto.md#merkle_root_and_proof",
               description="an index with no leaf proves nothing (MT sparseBoolStack)")


@vector_source("crypto", "merkle", "validate")
def test_validate():
    def case(name: str, inputs: dict, valid: bool, note: str) -> Case:
        return Case(name, inputs=inputs, expected={"valid": valid}, spec_ref="crypto.md#validate_partial_tree",
                    description=note)

    # MT TestValidatePartialTree: leaf 3, three zero-ish proof nodes, known root.
    yield case("mt_leaf_3", {"indices": [3], "leaves": [mt_leaf(3)], "proof": [mt_leaf(0)] * 3,
                             "root": bytes.fromhex(MT_VALIDATE_ROOT), "node_hash": "sha256"}, True,
               "MT known answer (TestValidatePartialTree)")
    proof_014 = [bytes.fromhex(MT_NODE_0094), mt_leaf(5), bytes.fromhex(MT_NODE_FA67)]
    root8 = bytes.fromhex(MT_ROOT_8)
    base = {"indices": [0, 1, 4], "leaves": [mt_leaf(0), mt_leaf(1), mt_leaf(4)], "proof": proof_014,
            "root": root8, "node_hash": "sha256"}
    yield case("mt_multi_0_1_4", base, True, "MT known answer (TestValidatePartialTreeMulti2)")
    yield case("wrong_leaf", {**base, "leaves": [mt_leaf(0), mt_leaf(1), mt_leaf(5)]}, False,
               "a leaf value that is not in the tree")
    yield case("wrong_index", {**base, "indices": [0, 1, 5]}, False, "the right value at the wrong index")
    yield case("missing_proof_node", {**base, "proof": proof_014[:2]}, False, "the proof stops one level early")
    yield case("extra_proof_node", {**base, "proof": [*proof_014, ZERO]}, False,
               "an extra node is consumed as one more level")
    yield case("mt_4_6", {"indices": [4, 6], "leaves": [mt_leaf(4), mt_leaf(6)],
                          "proof": [mt_leaf(5), mt_leaf(7), bytes.fromhex(MT_NODE_BA94)], "root": root8,
                          "node_hash": "sha256"}, True, "MT known answer (TestValidatePartialTreeParkingSnapshots)")
    leaves = blake_leaves("validate_blake3", 9)
    root = level_root(leaves)
    yield case("blake3_single", {"indices": [8], "leaves": [leaves[8]], "proof": level_proof(leaves, 8),
                                 "root": root}, True, "a padded path in a 9-leaf tree")
    yield case("blake3_flipped_root", {"indices": [2], "leaves": [leaves[2]], "proof": level_proof(leaves, 2),
                                       "root": bytes([root[0] ^ 1]) + root[1:]}, False, "another root")
    yield case("later_leaf_not_reached", {"indices": [0, 5], "leaves": [leaves[0], b"anything"],
                                          "proof": [], "root": leaves[0]}, True,
               "MT: with no proof nodes the walk stops at the first leaf; leaf 5 is never used")
    err = {"node_hash": "blake3", "proof": [], "root": root}
    for name, indices, values, reason in [
        ("error_count_mismatch", [0, 1], [leaves[0]], "leaf_count_mismatch"),
        ("error_no_leaves", [], [], "no_leaves"),
        ("error_unsorted", [2, 1], [leaves[2], leaves[1]], "indices_not_sorted"),
        ("error_duplicates", [1, 1], [leaves[1], leaves[1]], "duplicate_indices"),
    ]:
        yield Case(name, inputs={**err, "indices": indices, "leaves": values}, error="InvalidValue",
                   reason=reason, spec_ref="crypto.md#validate_partial_tree",
                   description=f"MT returns an error: {reason}")


def level_snapshot(leaves: list[bytes], index: int) -> list[bytes | None]:
    """Reference for a 2^k-leaf tree: when leaf `index` is added, layer h holds the root of the
    left sibling subtree of height h if bit h of the index is set, and nothing otherwise."""
    snapshot: list[bytes | None] = []
    height = 0
    while (1 << height) < len(leaves):
        if index >> height & 1:
            start = (index >> height << height) - (1 << height)
            snapshot.append(level_root(leaves[start:start + (1 << height)]))
        else:
            snapshot.append(None)
        height += 1
    return snapshot


@vector_source("crypto", "merkle", "validate_snapshots")
def test_validate_snapshots():
    ba94 = bytes.fromhex(MT_NODE_BA94)
    # MT TestValidatePartialTreeParkingSnapshots: snapshots [[-, -, ba94], [-, bd50, ba94]].
    bd50 = hashlib.sha256(mt_leaf(4) + mt_leaf(5)).digest()
    assert bd50.hex().startswith("bd50456d5ad175ae99a1612a53ca229124b65d3eaabd9ff9c7ab979a385cf6b3")
    yield Case("mt_4_6", inputs={"indices": [4, 6], "leaves": [mt_leaf(4), mt_leaf(6)],
                                 "proof": [mt_leaf(5), mt_leaf(7), ba94], "root": bytes.fromhex(MT_ROOT_8),
                                 "node_hash": "sha256"},
               expected={"valid": True, "snapshots": [[None, None, ba94], [None, bd50, ba94]]},
               spec_ref="crypto.md#validate_partial_tree_with_parking_snapshots",
               description="MT known answer (TestValidatePartialTreeParkingSnapshots)")
    for name, n, indices in [("single_13_of_16", 16, [13]), ("multi_of_32", 32, [0, 3, 4, 17, 30, 31]),
                             ("all_of_8", 8, list(range(8)))]:
        leaves = blake_leaves(f"snapshots_{name}", n)
        root, proof = crypto.merkle_root_and_proof(leaves, indices)
        yield Case(name, inputs={"indices": indices, "leaves": [leaves[i] for i in indices], "proof": proof,
                                 "root": level_root(leaves)},
                   expected={"valid": True, "snapshots": [level_snapshot(leaves, i) for i in indices]},
                   spec_ref="crypto.md#validate_partial_tree_with_parking_snapshots",
                   description=f"{len(indices)} proven leaves of {n}")
    leaves = blake_leaves("snapshots_bad", 8)
    yield Case("wrong_root", inputs={"indices": [5], "leaves": [leaves[5]], "proof": level_proof(leaves, 5),
                                     "root": ZERO},
               expected={"valid": False, "snapshots": [level_snapshot(leaves, 5)]},
               spec_ref="crypto.md#validate_partial_tree_with_parking_snapshots",
               description="the snapshots are returned even when the root does not match")
    yield Case("error_unsorted", inputs={"indices": [5, 4], "leaves": [leaves[5], leaves[4]], "proof": [],
                                         "root": ZERO},
               error="InvalidValue", reason="indices_not_sorted",
               spec_ref="crypto.md#validate_partial_tree_with_parking_snapshots", description="MT error")


@pytest.mark.parametrize("seed", range(8))
def test_snapshots_match_the_builder_state(seed):
    rng = random.Random(1000 + seed)
    n = 1 << rng.randint(0, 6)
    leaves = [rng.randbytes(32) for _ in range(n)]
    indices = sorted(rng.sample(range(n), rng.randint(1, n)))
    root, proof = crypto.merkle_root_and_proof(leaves, indices)
    valid, snapshots = crypto.validate_partial_tree_with_parking_snapshots(
        indices, [leaves[i] for i in indices], proof, root)
    assert valid
    assert snapshots == [level_snapshot(leaves, i) for i in indices]


def test_reference_matches_the_mt_known_answers():
    # The level-by-level reference used for the blake3 cases, checked against MT with sha256.
    def sha_level_root(leaves: list[bytes]) -> bytes:
        level = list(leaves)
        while len(level) > 1:
            if len(level) % 2:
                level.append(ZERO)
            level = [hashlib.sha256(level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
        return level[0]

    for n, root in [(8, MT_ROOT_8), (9, MT_ROOT_9), (10, MT_ROOT_10), (15, MT_ROOT_15)]:
        assert sha_level_root(mt_leaves(n)).hex() == root


@pytest.mark.parametrize("n", range(1, 23))
def test_every_single_leaf_proof(n):
    leaves = blake_leaves(f"single_{n}", n)
    assert crypto.merkle_root(leaves) == level_root(leaves)
    for index in range(n):
        root, proof = crypto.merkle_root_and_proof(leaves, [index])
        assert proof == level_proof(leaves, index)
        assert crypto.validate_partial_tree([index], [leaves[index]], proof, root)


@pytest.mark.parametrize("seed", range(12))
def test_multi_leaf_proofs_validate(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 40)
    leaves = [rng.randbytes(32) for _ in range(n)]
    indices = sorted(rng.sample(range(n), rng.randint(1, n)))
    root, proof = crypto.merkle_root_and_proof(leaves, indices)
    assert crypto.validate_partial_tree(indices, [leaves[i] for i in indices], proof, root)
    if proof:
        tampered = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
        assert not crypto.validate_partial_tree(indices, [leaves[i] for i in indices], tampered, root)


def test_validation_errors_are_invalid_value():
    with pytest.raises(InvalidValue) as error:
        crypto.validate_partial_tree([], [], [], b"")
    assert error.value.reason == "no_leaves"
