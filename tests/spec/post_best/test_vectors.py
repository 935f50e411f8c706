"""Vector sources of the best-labels PoST (spec/post_best.md): score, estimator, encoding,
selection and verification, each case run through conformance/handlers/post_best.py."""

from __future__ import annotations

import blake3
from Crypto.Cipher import AES
from smspec.conformance.cases import Case, to_json, vector_source
from smspec.conformance.jsonio import value_to_jsonable
from smspec.spec import scale
from smspec.tests.spec.post_best.support import (
    all_scores,
    identity_set,
    module,
    pseudo_random,
    random_chunks,
    real_chunks,
)

CHALLENGE = bytes(range(32))


def identities_json(pb, identities):
    return [value_to_jsonable(i, pb.BestIdentity) for i in identities]


# ----------------------------------------------------------------------------------------------
# score


@vector_source("post_best", "score", "label_score", presets=("mainnet", "tiny"))
def test_label_score_vectors():
    # FIPS-197 appendix C.1: AES-128 with key 000102..0f maps 00112233..ff to
    # 69c4e0d86a7b0430d8cdb78070b4c55a; the score is its first 8 bytes, big-endian.
    yield Case(
        "fips197_c1",
        inputs={"key": bytes(range(16)), "label": bytes.fromhex("00112233445566778899aabbccddeeff")},
        expected={"score": 0x69C4E0D86A7B0430},
        spec_ref="post_best.md#label_score",
        description="AES-128 known answer: score = first 8 ciphertext bytes, big-endian",
    )
    # FIPS-197 appendix B: key 2b7e1516..., plaintext 3243f6a8... -> 3925841d02dc09fbdc118597196a0b32.
    yield Case(
        "fips197_b",
        inputs={
            "key": bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c"),
            "label": bytes.fromhex("3243f6a8885a308d313198a2e0370734"),
        },
        expected={"score": 0x3925841D02DC09FB},
        spec_ref="post_best.md#label_score", description="AES-128 known answer (FIPS-197 appendix B): the first 8 ciphertext bytes, big-endian",
    )
    # AES-128 of the label under the key with pycryptodome directly (not through the spec).
    for n in range(4):
        key, label = pseudo_random(f"key{n}", 16), pseudo_random(f"label{n}", 16)
        score = int.from_bytes(AES.new(key, AES.MODE_ECB).encrypt(label)[:8], "big")
        yield Case(f"random_{n}", inputs={"key": key, "label": label}, expected={"score": score},
                   spec_ref="post_best.md#label_score",
                   description="pseudo-random key and label; the score computed with pycryptodome's AES directly")


@vector_source("post_best", "score", "score_key", presets=("mainnet", "tiny"))
def test_score_key_vectors():
    pb = module("mainnet")
    identities = identity_set(pb, 3, num_units=4)
    encoded_set = scale.encode(identities, pb.Slice(pb.BestIdentity, pb.MAX_IDENTITIES))
    root = blake3.blake3(b"spacemesh/post-best/v1/identity-set" + encoded_set).digest()
    commitment = blake3.blake3(identities[1].node_id + identities[1].commitment_atx_id).digest()
    key = blake3.blake3(b"spacemesh/post-best/v1/score-key" + CHALLENGE + root + commitment).digest()[:16]
    # Expected values follow the formulas of the spec's prose, computed here with the blake3
    # package directly (not through the spec functions).
    yield Case(
        "three_identities_second",
        inputs={"identities": identities_json(pb, identities), "challenge": CHALLENGE, "identity": 1},
        expected={"set_root": root, "commitment": commitment, "key": key},
        spec_ref="post_best.md#score_key", description="key of the second of three identities: blake3 of the domain tag, challenge, set root and commitment (computed with the blake3 package)",
    )
    one_set = scale.encode(identities[:1], pb.Slice(pb.BestIdentity, pb.MAX_IDENTITIES))
    one_root = blake3.blake3(b"spacemesh/post-best/v1/identity-set" + one_set).digest()
    first = blake3.blake3(identities[0].node_id + identities[0].commitment_atx_id).digest()
    yield Case(
        "one_identity",
        inputs={"identities": identities_json(pb, identities[:1]), "challenge": bytes(32), "identity": 0},
        expected={"set_root": one_root, "commitment": first,
                  "key": blake3.blake3(b"spacemesh/post-best/v1/score-key" + bytes(32) + one_root + first).digest()[:16]},
        spec_ref="post_best.md#score_key", description="key of a one-identity set under a zero challenge",
    )
    yield Case(
        "duplicate_identity",
        inputs={"identities": identities_json(pb, [identities[0], identities[0]]), "challenge": bytes(32), "identity": 0},
        error="InvalidValue",
        reason="bad_identity_set", description="an identity set listing one identity twice", spec_ref="post_best.md#check_identity_set",
    )
    yield Case("empty_set", inputs={"identities": [], "challenge": bytes(32), "identity": 0},
               error="InvalidValue", reason="bad_identity_set", description="an empty identity set", spec_ref="post_best.md#check_identity_set")
    small = identities_json(pb, identity_set(pb, 2, num_units=0))
    yield Case("zero_num_units", inputs={"identities": small, "challenge": bytes(32), "identity": 0},
               error="InvalidValue", reason="bad_identity_set", description="0 units: below MIN_NUM_UNITS", spec_ref="post_best.md#check_identity_set")


# ----------------------------------------------------------------------------------------------
# estimator


@vector_source("post_best", "estimator", "weight", presets=("mainnet",))
def test_estimator_vectors():
    pb = module("mainnet")
    four_su = identities_json(pb, identity_set(pb, 1, num_units=4))  # cap 2 * 4 * 2^32 = 2^35
    huge = identities_json(pb, identity_set(pb, 1, num_units=2**32 - 1))  # cap above 2^64
    ticks = 1000

    def case(name, kth_score, k, identities, estimate, weight, description=""):
        return Case(
            name,
            inputs={"kth_score": kth_score, "k": k, "identities": identities, "tick_count": ticks},
            expected={
                "estimate": estimate,
                "cap": 2 * 2**32 * (4 if identities is four_su else 2**32 - 1),
                "weight": weight,
                "effective_num_units": weight // 2**32,
                "atx_weight": weight * ticks // 2**32,
            },
            spec_ref="post_best.md#estimate_labels",
            description=description,
        )

    # floor((K - 1) * 2^64 / (v + 1)), worked by hand.
    yield case("v0_k2_uncapped", 0, 2, huge, 2**64, 2**64, "v = 0: the largest estimate for K = 2")
    yield case("v0_k2_capped", 0, 2, four_su, 2**64, 2**35, "v = 0 hits the cap of twice the declared labels")
    yield case("vmax_k2", 2**64 - 1, 2, four_su, 1, 1, "v = 2^64 - 1: (K - 1) * 2^64 / 2^64 = K - 1")
    yield case("vmax_k1024", 2**64 - 1, 1024, four_su, 1023, 1023, description="v = 2^64 - 1, K = 1024: the estimate is K - 1 = 1023")
    yield case("v0_k1024_capped_huge", 0, 1024, huge, 1023 * 2**64, 2 * (2**32 - 1) * 2**32, description="v = 0, K = 1024 with 2^32 - 1 units: the estimate 1023 x 2^64 hits the cap")
    yield case("k1024_four_su", 2**54 - 1, 1024, four_su, 1023 * 2**10, 1023 * 2**10, description="v = 2^54 - 1, K = 1024, 4 units: estimate 1023 x 2^10, under the cap")
    # 4 SU = 2^34 labels; the expected 1024-th lowest score is about 1024 * 2^64 / 2^34 = 2^40.
    yield case("k1024_typical", 2**40, 1024, four_su, (1023 << 64) // (2**40 + 1), (1023 << 64) // (2**40 + 1), description="v = 2^40, K = 1024: estimate floor(1023 x 2^64 / (2^40 + 1))")
    yield case("k2_v1", 1, 2, four_su, 2**63, 2**35, description="v = 1, K = 2: estimate 2^63, capped at 2^35 (twice 4 units of labels)")
    yield case("k3_v2", 2, 3, four_su, (2 << 64) // 3, 2**35, description="v = 2, K = 3: estimate floor(2 x 2^64 / 3), capped at 2^35")
    yield Case("k1", inputs={"kth_score": 12345, "k": 1, "identities": four_su, "tick_count": ticks},
               error="InvalidValue", reason="k_too_small", description="K = 1 has no unbiased estimator", spec_ref="post_best.md#check_k")
    yield Case("k0", inputs={"kth_score": 12345, "k": 0, "identities": four_su, "tick_count": ticks},
               error="InvalidValue", reason="k_too_small", description="K = 0 is below the minimum of 2", spec_ref="post_best.md#check_k")
    yield Case("k_above_max", inputs={"kth_score": 12345, "k": 2**16 + 1, "identities": four_su, "tick_count": ticks},
               error="InvalidValue", reason="k_too_large", description="K = 2^16 + 1 is above the maximum", spec_ref="post_best.md#check_k")
    yield Case("score_2_64", inputs={"kth_score": 2**64, "k": 16, "identities": four_su, "tick_count": ticks},
               error="InvalidValue", reason="score_out_of_range", description="a K-th score of 2^64 does not fit in a u64 score", spec_ref="post_best.md#estimate_labels")


# ----------------------------------------------------------------------------------------------
# proof encoding


@vector_source("post_best", "proof", "encoding", presets=("mainnet",))
def test_encoding_vectors():
    proof_json = {"kth_score": 300, "groups": [{"identity": 0, "index_steps": [5, 1, 64]}, {"identity": 2, "index_steps": [0]}]}
    # kth_score 300 -> compact 0xb1 0x04; 2 groups -> 08; identity 0 -> 00; 3 steps -> 0c;
    # 5 -> 14, 1 -> 04, 64 -> 0101; identity 2 -> 08; 1 step -> 04; 0 -> 00.
    encoded = bytes.fromhex("b104" "08" "00" "0c" "14" "04" "0101" "08" "04" "00")
    yield Case("encode", inputs={"proof_json": proof_json}, expected={"proof": encoded}, spec_ref="post_best.md#bestproof", description="a two-group proof encoded byte by byte: compact kth_score b104, 2 groups, identity and step compacts")
    yield Case("decode", inputs={"proof": encoded}, expected={"proof_json": proof_json}, spec_ref="post_best.md#bestproof", description="the same bytes decode to the proof's JSON")
    yield Case("decode_trailing", inputs={"proof": encoded + b"\x00"}, error="InvalidEncoding", reason="trailing_bytes", description="the proof with one byte appended", spec_ref="post_best.md#bestproof")
    yield Case("decode_short", inputs={"proof": encoded[:-1]}, error="InvalidEncoding", reason="short_input", description="the proof without its last byte", spec_ref="post_best.md#bestproof")
    big = {"kth_score": 2**64 - 1, "groups": [{"identity": 255, "index_steps": [2**64 - 1]}]}
    # 2^64 - 1 -> big-mode compact 13 ff..ff (8 bytes); 1 group -> 04; identity 255 -> fd 03;
    # 1 step -> 04; 2^64 - 1 -> 13 ff..ff.
    max_u64 = bytes.fromhex("13") + b"\xff" * 8
    yield Case("encode_max_values", inputs={"proof_json": big},
               expected={"proof": max_u64 + bytes.fromhex("04" "fd03" "04") + max_u64}, spec_ref="post_best.md#bestproof", description="score and step 2^64 - 1 take the 9-byte big-integer compact; identity 255 takes fd03")
    yield Case("encode_score_too_big", inputs={"proof_json": {"kth_score": 2**64, "groups": []}},
               error="InvalidValue", reason="out_of_range", description="a K-th score of 2^64 cannot be encoded", spec_ref="post_best.md#bestproof")


# ----------------------------------------------------------------------------------------------
# selection


def chunks_json(chunks):
    return [{"identity": c.identity, "first_index": c.first_index, "data": c.data} for c in chunks]


def k_lowest(pb, identities, chunks, k):
    """A check of a proof against the brute-force oracle: the K lowest scores of all the labels
    held (support.all_scores), listed by identity and index as first index then steps, and the
    weight min((K - 1) * 2^64 // (kth + 1), twice the declared labels)."""
    best = all_scores(pb, identities, chunks, CHALLENGE)[:k]
    kth = best[-1][0]
    declared = sum(i.num_units for i in identities) * pb.LABELS_PER_UNIT

    def check(output: dict) -> None:
        proof = output["proof_json"]
        assert proof["kth_score"] == to_json(kth)
        entries = []
        for group in proof["groups"]:
            index = 0
            for step in group["index_steps"]:
                index += int(step)
                entries.append((group["identity"], index))
        assert entries == sorted((identity, index) for _, identity, index in best)
        assert output["weight"] == to_json(min(((k - 1) << 64) // (kth + 1), 2 * declared))

    return check


@vector_source("post_best", "select", "prove", presets=("tiny",))
def test_prove_vectors():
    pb = module("tiny")
    identities = identity_set(pb, 3)
    chunks = random_chunks(pb, identities, "prove", chunk_labels=64)
    base = {"identities": identities_json(pb, identities), "challenge": CHALLENGE}
    for k in (2, 3, 16, 100):
        yield Case(f"three_identities_k{k}", inputs={**base, "k": k, "chunks": chunks_json(chunks)},
                   check=k_lowest(pb, identities, chunks, k), spec_ref="post_best.md#prove_best",
                   description=f"the {k} lowest scores over three identities' labels (checked by sorting all scores)")
    yield Case("reversed_chunks_k16", inputs={**base, "k": 16, "chunks": chunks_json(chunks[::-1])},
               check=k_lowest(pb, identities, chunks, 16),
               description="same proof as three_identities_k16: order of reading does not matter", spec_ref="post_best.md#prove_best")
    yield Case("partial_data_k16", inputs={**base, "k": 16, "chunks": chunks_json(chunks[::2])},
               check=k_lowest(pb, identities, chunks[::2], 16),
               description="half of the chunks missing: the best of what is there", spec_ref="post_best.md#prove_best")
    yield Case("k1", inputs={**base, "k": 1, "chunks": chunks_json(chunks)}, error="InvalidValue", reason="k_too_small",
               description="K = 1 is below the minimum of 2", spec_ref="post_best.md#check_k")
    few = [{"identity": 0, "first_index": 0, "data": chunks[0].data[:15 * 16]}]
    yield Case("not_enough_labels", inputs={**base, "k": 16, "chunks": few}, error="InvalidValue", reason="not_enough_labels", description="15 labels cannot give K = 16 entries", spec_ref="post_best.md#prove_best")
    overlap = chunks_json(chunks) + [{"identity": 1, "first_index": 10, "data": bytes(32)}]
    yield Case("overlapping_chunks", inputs={**base, "k": 16, "chunks": overlap}, error="InvalidValue", reason="bad_label_chunk", description="a chunk overlapping labels already given", spec_ref="post_best.md#chunk_scores")
    beyond = chunks_json(chunks) + [{"identity": 2, "first_index": 128, "data": bytes(16)}]
    yield Case("chunk_beyond_declared", inputs={**base, "k": 16, "chunks": beyond}, error="InvalidValue", reason="bad_label_chunk", description="a chunk starting at label 128, beyond the identity's declared labels", spec_ref="post_best.md#chunk_scores")
    partial = [{"identity": 0, "first_index": 0, "data": bytes(17)}]
    yield Case("partial_label", inputs={**base, "k": 16, "chunks": partial}, error="InvalidValue", reason="bad_label_chunk", description="17 bytes: not a whole number of 16-byte labels", spec_ref="post_best.md#chunk_scores")
    foreign = chunks_json(chunks) + [{"identity": 3, "first_index": 0, "data": bytes(16)}]
    yield Case("chunk_of_foreign_identity", inputs={**base, "k": 16, "chunks": foreign}, error="InvalidValue", reason="bad_label_chunk", description="a chunk of identity 3 in a set of three", spec_ref="post_best.md#chunk_scores")


# ----------------------------------------------------------------------------------------------
# verification


def honest_setup():
    """Two identities of the tiny preset (1 SU = 128 labels each), real scrypt labels."""
    pb = module("tiny")
    identities = identity_set(pb, 2)
    proof = pb.prove_best(identities, real_chunks(pb, identities), CHALLENGE, pb.POST_BEST_K)
    return pb, identities, proof


def forged(pb, proof, **changes):
    import attrs

    return attrs.evolve(proof, **changes)


def group(pb, identity, steps):
    return pb.BestProofGroup(identity=identity, index_steps=list(steps))


@vector_source("post_best", "verify", "verify", presets=("tiny",))
def test_verify_vectors():
    pb, identities, proof = honest_setup()
    k = pb.POST_BEST_K
    base = {"identities": identities_json(pb, identities), "challenge": CHALLENGE, "k": k}
    weight = (k - 1 << 64) // (proof.kth_score + 1)

    def case(name, p, k3=k, seed=b"verifier", **kw):
        return Case(name, inputs={**base, "k3": k3, "seed": seed, "proof": scale.encode(p, pb.BestProof)}, **kw)

    yield case("honest_full", proof, expected={"weight": min(weight, 2 * 256)}, spec_ref="post_best.md#verify_best_proof",
               description="an honest proof over two identities with real scrypt labels, every entry checked (K3 = K)")
    yield case("honest_spot", proof, k3=4, expected={"weight": min(weight, 2 * 256)}, description="an honest proof with 4 spot checks", spec_ref="post_best.md#verify_best_proof")
    g0, g1 = proof.groups
    yield case("wrong_entry_count", forged(pb, proof, groups=[group(pb, 0, g0.index_steps[:-1]), g1]),
               error="InvalidProof", reason="wrong_entry_count", description="one entry removed: K - 1 entries", spec_ref="post_best.md#check_proof_structure")
    yield case("empty_group_repeating_identity", forged(pb, proof, groups=[g0, g1, group(pb, 1, [])]),
               error="InvalidProof", reason="identities_not_increasing", description="an empty group repeating the last identity", spec_ref="post_best.md#check_proof_structure")
    yield case("empty_group_last", forged(pb, proof, groups=[g0, group(pb, 1, [])]),
               error="InvalidProof", reason="empty_group", description="an empty last group", spec_ref="post_best.md#check_proof_structure")
    yield case("unsorted_identities", forged(pb, proof, groups=[g1, g0]),
               error="InvalidProof", reason="identities_not_increasing", description="groups in decreasing identity order", spec_ref="post_best.md#check_proof_structure")
    split = [g0, group(pb, 1, g1.index_steps[:1]), group(pb, 1, [sum(g1.index_steps)])]
    yield case("identity_split_in_two_groups", forged(pb, proof, groups=split),
               error="InvalidProof", reason="identities_not_increasing", description="one identity's entries split over two groups", spec_ref="post_best.md#check_proof_structure")
    yield case("identity_out_of_range", forged(pb, proof, groups=[g0, group(pb, 2, g1.index_steps)]),
               error="InvalidProof", reason="identity_out_of_range", description="a group of identity 2 in a set of two", spec_ref="post_best.md#check_proof_structure")
    dup = list(g0.index_steps)
    dup[1] = 0
    yield case("duplicate_entry", forged(pb, proof, groups=[group(pb, 0, dup), g1]),
               error="InvalidProof", reason="duplicate_entry", description="an index step of 0 repeats an entry", spec_ref="post_best.md#check_proof_structure")
    beyond = list(g1.index_steps)
    beyond[-1] += 128
    yield case("index_out_of_range", forged(pb, proof, groups=[g0, group(pb, 1, beyond)]),
               error="InvalidProof", reason="index_out_of_range", description="an index beyond the identity's 128 labels", spec_ref="post_best.md#check_proof_structure")
    yield case("kth_score_too_low", forged(pb, proof, kth_score=proof.kth_score // 2),
               error="InvalidProof", reason="score_above_kth", description="claims about twice the weight", spec_ref="post_best.md#verify_best_proof")
    yield case("kth_score_not_attained", forged(pb, proof, kth_score=proof.kth_score + 1),
               error="InvalidProof", reason="kth_score_not_attained", description="a claimed K-th score one above the true one: no entry attains it (full check)", spec_ref="post_best.md#verify_best_proof")
    yield case("kth_score_higher_spot_ok", forged(pb, proof, kth_score=proof.kth_score + 1), k3=4,
               expected={"weight": min((k - 1 << 64) // (proof.kth_score + 2), 2 * 256)},
               description="a claim above the true K-th score only lowers the weight; spot checks accept it", spec_ref="post_best.md#verify_best_proof")
    # Foreign identity: the same entries verified against a set whose second identity is another
    # node: its labels (and keys) differ, so the entries do not reach the claimed score.
    other = identities[:1] + identity_set(pb, 1, first=9)
    yield Case("foreign_identity", inputs={**base, "identities": identities_json(pb, other), "k3": k, "seed": b"v",
                                            "proof": scale.encode(proof, pb.BestProof)},
               error="InvalidProof", reason="score_above_kth", description="the entries verified against a set whose second identity is another node", spec_ref="post_best.md#verify_best_proof")
    # One fabricated entry (an index of identity 0 whose true score is above the K-th): caught by
    # a verifier whose sample contains it, missed by one whose sample does not.
    fake_proof, fake_position = fabricate_one(pb, identities, proof)
    caught, missed = seeds_for(pb, identities, fake_position, k)
    yield case("fabricated_entry_caught", fake_proof, k3=pb.POST_BEST_K3, seed=caught,
               error="InvalidProof", reason="score_above_kth",
               description="one entry replaced by a label above the K-th score; this seed samples it", spec_ref="post_best.md#verify_best_proof")
    yield case("fabricated_entry_missed", fake_proof, k3=pb.POST_BEST_K3, seed=missed,
               expected={"weight": min(weight, 2 * 256)},
               description="spot checks are probabilistic: this seed does not sample the fake entry", spec_ref="post_best.md#verify_best_proof")
    yield case("k3_zero_checks_nothing", fake_proof, k3=0, expected={"weight": min(weight, 2 * 256)}, description="K3 = 0: no entry is checked, the forged proof is accepted", spec_ref="post_best.md#verify_best_proof")


def fabricate_one(pb, identities, proof):
    """Replace the entry of identity 0 with the highest index by a non-selected index."""
    entries = pb.proof_entries(proof)
    chosen = {e for e in entries}
    replaced = max(e for e in entries if e[0] == 0)
    candidate = next(i for i in range(127, -1, -1) if (0, i) not in chosen)
    new_entries = sorted((chosen - {replaced}) | {(0, candidate)})
    fake = pb.make_proof([pb.BestEntry(proof.kth_score, i, j) for i, j in new_entries])
    return fake, new_entries.index((0, candidate))


def seeds_for(pb, identities, position, k):
    root = pb.identity_set_root(identities)
    caught = missed = None
    n = 0
    while caught is None or missed is None:
        seed = f"seed-{n}".encode()
        picks = pb.spot_check_positions(seed, CHALLENGE, root, k, pb.POST_BEST_K3)
        if position in picks:
            caught = caught or seed
        else:
            missed = missed or seed
        n += 1
    return caught, missed


@vector_source("post_best", "verify", "entry", presets=("tiny",))
def test_verify_entry_vectors():
    pb, identities, proof = honest_setup()
    k = pb.POST_BEST_K
    fake_proof, fake_position = fabricate_one(pb, identities, proof)
    base = {"identities": identities_json(pb, identities), "challenge": CHALLENGE, "k": k}

    def case(name, p, position, **kw):
        return Case(name, inputs={**base, "position": position, "proof": scale.encode(p, pb.BestProof)},
                    spec_ref="post_best.md#verify_best_entry", **kw)

    yield case("honest_first", proof, 0, expected={"valid": True}, description="the first entry of an honest proof passes the malfeasance check")
    yield case("honest_last", proof, k - 1, expected={"valid": True}, description="the last entry (position K - 1) of an honest proof passes")
    yield case("fabricated", fake_proof, fake_position, expected={"valid": False},
               description="the malfeasance check convicts the forged entry")
    other = 0 if fake_position else 1
    yield case("fabricated_proof_other_entry", fake_proof, other, expected={"valid": True}, description="an honest entry of the forged proof passes: only the forged one is convicted")
    yield case("position_k", proof, k, error="InvalidValue", reason="position_out_of_range", description="position K is out of range")
    yield case("position_negative", proof, -1, error="InvalidValue", reason="position_out_of_range", description="position -1 is out of range")
    malformed = forged(pb, proof, groups=proof.groups[::-1])
    yield case("malformed_proof", malformed, 0, error="InvalidProof", reason="identities_not_increasing", description="a proof whose groups are out of identity order is rejected before any entry is checked")


def distinct_positions(k: int, k3: int):
    def check(output: dict) -> None:
        positions = output["positions"]
        if k3 >= k:
            assert positions == list(range(k))
        else:
            assert len(positions) == k3 and len(set(positions)) == k3 and all(0 <= p < k for p in positions)

    return check


@vector_source("post_best", "verify", "spot_check_positions", presets=("mainnet",))
def test_spot_check_vectors():
    root = pseudo_random("root", 32)
    # The positions are the spec's own sampling (post_best.md is this project's proposal): what is
    # known of them is their shape, and every position in order when k3 >= k.
    for k, k3 in ((16, 4), (1024, 8), (2, 1), (3, 3), (5, 9), (65536, 8), (7, 0)):
        yield Case(f"k{k}_k3_{k3}", inputs={"seed": b"peer", "challenge": CHALLENGE, "set_root": root, "k": k, "k3": k3},
                   check=distinct_positions(k, k3), spec_ref="post_best.md#spot_check_positions",
                   description=f"{min(k3, k)} distinct positions out of K = {k} (the spec's sampling; shape checked)")
    yield Case("all_when_k3_at_least_k", inputs={"seed": b"x", "challenge": CHALLENGE, "set_root": root, "k": 4, "k3": 4},
               expected={"positions": [0, 1, 2, 3]}, description="K3 >= K: every position, in order", spec_ref="post_best.md#spot_check_positions")
