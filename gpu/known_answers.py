"""Known answers of the OpenCL self-checks (``gpu/opencl.py``): fixed inputs and the spec's outputs.

Every OpenCL engine configuration must reproduce these before it is used. Two kinds of values:

* upstream known answers, with their provenance (the C scrypt-jane rows of
  ``tests/spec/post/test_labels.py``, go-post's VRF-nonce test, FIPS-197 AES vectors);
* values the readable spec computed (``derive``). ``tests/unit/test_opencl_selfcheck.py``
  recomputes them from the spec and asserts they equal the committed ones, so they are never
  guesses; ``python -m smspec.gpu.known_answers`` prints the recomputed table after a change.

The inputs are chosen to reach what configurations get wrong: several launches with the last one
partial, a launch that ends inside a work item of several labels, label indices that carry into the
high 32-bit word and end at 2^64 - 1, mainnet's N = 8192, and VRF thresholds equal to an output
(the scan compares strictly) or one above it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

ZERO = bytes(32)
COMMIT_ZERO = bytes.fromhex("4d006976636a8696d909a630a4081aad4d7c50f81afdee04020bf05086ab6a55")
COMMIT_77 = bytes.fromhex("788596c567c2b8f4d5fd10329c57077e432f42caee8283101e0f3964f8c7e076")
GO_POST_COMMITMENT = bytes.fromhex("e26b543725490682675f6f84ea7689601adeaf14caa7024ec1140c82754ca339")
RAMP = bytes(range(32))

C_SCRYPT_JANE = "upstream: C scrypt-jane (research post.md §6.1; tests/spec/post/test_labels.py)"
GO_POST = "upstream: go-post internal/postrs/api_test.go Test_ScryptPositions_Pow / _NoPow"
FIPS_197 = "upstream: FIPS-197 appendix B / C.1 (tests/spec/post_best/test_vectors.py)"
SPEC = "spec: derive() recomputes it"


@dataclass(frozen=True)
class LabelCase:
    """``compute_labels(commitment, start, count, scrypt_n)`` run as launches of ``batch`` labels."""

    name: str
    commitment: bytes
    start: int
    count: int
    scrypt_n: int
    batch: int
    outputs: str  # the 32-byte outputs, concatenated, hex
    source: str


@dataclass(frozen=True)
class ScanCase:
    """The VRF-nonce scan: which outputs of the range are strictly below ``difficulty``."""

    name: str
    commitment: bytes
    start: int
    count: int
    scrypt_n: int
    batch: int
    difficulty: bytes
    below: tuple[int, ...]  # positions in the range, ascending
    best: tuple[int, str] | None  # the spec's initialize_range candidate: (index, output hex)
    source: str


@dataclass(frozen=True)
class ScoreCase:
    """Best-labels scores of ``data`` under ``key``: the scores themselves, or their SHA-256."""

    name: str
    key: bytes
    data: bytes
    scores: tuple[int, ...] | None
    scores_sha256: str | None
    source: str


def pseudo_random(seed: str, size: int) -> bytes:
    """Deterministic test bytes: SHAKE-256 of the seed."""
    return hashlib.shake_256(f"smspec opencl self-check {seed}".encode()).digest(size)


def scores_digest(scores: list[int]) -> str:
    return hashlib.sha256(b"".join(score.to_bytes(8, "big") for score in scores)).hexdigest()


LABELS: tuple[LabelCase, ...] = (
    LabelCase("c_zero_n2", ZERO, 0, 4, 2, 3,
              "ff29deee2578176c8c7d9495164e88213859c3db4b0fe3cdfdd27818b26943a6"
              "eb665e438dcd38363f8b73e7105dc84ce9d629396a6d621c606eddc07e079792"
              "2252a78682594920344d2558dd991339526da087b68784cf557b46364f75300a"
              "a6b3531becdfe21c2f3aa1c082f46f3b9b0b7a0f0b85374be7906a543779d372", C_SCRYPT_JANE),
    LabelCase("c_commit77_n2", COMMIT_77, 0, 4, 2, 4,
              "62b14f1021413fe30425a2927430cc7bdb581669be6ec20e0e2548ef59efad5f"
              "611d1114821ddc764e6e1a41abd0f78a50c907f98ef879875d7460592964d941"
              "951803bbc57d0e521250d952b3551b1adaab6f641dd88cca2d13f822134f2e32"
              "c2e1ee2b071a1619ca6831d24af306eec9e66710d20b501e40f62d342c7a8eef", C_SCRYPT_JANE),
    LabelCase("c_commit_zero_n4", COMMIT_ZERO, 0, 2, 4, 1,
              "b57b3f6f2ffb5975799c21c5387e4c6f00502344a861dfd5bcdadeb22573d3c8"
              "20ed33a0d795f45f7cb9acddd4fbb24bf5ef4b272bef485122320b66f456a052", C_SCRYPT_JANE),
    LabelCase("spec_zero_n8192", ZERO, 0, 3, 8192, 3,  # mainnet N
              "8c7b34d495266b23799ddaddc2a1836babdd6719c20aca272b42e9d9675ad2b7"
              "82032392c5605bfbfed09343fa06f086ff881bab4e77f3b0c6ff408c369bf4d3"
              "073b1e043c5746ee6e48af178ebeac91544fe368efb6ea16a3203f120b318486", SPEC),
    LabelCase("spec_u64_end", RAMP, 2**64 - 7, 7, 16, 5,
              "da58b302fbc62d019c36c9b523cdda0726edffaf6663d12e94ac15f67349d3f6"
              "5ca3ed8f35b9c38dcddcb68b3517829bbd9067504e6cd07f3058924223bf4a7f"
              "9a896ebb3185d891977a31703bf4bcea51a8b829a10dbc4afcdadf48011bdbc9"
              "da86fc12868c594ecd443f97263b88ecbe713bc61caaa072e867fe881818335e"
              "d394c37575712ae4492b485f4ada445d8fc703d72db9a19d32a168dccea2a0bd"
              "3b5edf5ede72fdebc5f20b23cf172e8319052cacd2695031ce27edaedc9f88ce"
              "27cf4e5dbc193c84a832dfb4a4f6d2025d3ec98e0a0e0dcc399b330a2e008758", SPEC),
    LabelCase("spec_u32_carry", RAMP[::-1], 2**32 - 5, 9, 8, 9,
              "07e6978cc38e34794e7913d67cf29de6a5692f97ed0c2482e96d9c2adac8c954"
              "2a3741766a24cd4c1f213b5935df8d599deb33ff1a864e81307b8ce376d1669c"
              "7a31cc55ea3c3048a576d10498a14f88def0ab4255e6eb770538995a42c5f8ac"
              "6409897d477b5b44a814f0f5c261330ac5c5d1e799664d4463215e8847bbc0ec"
              "c86c96f1c1abf1f82fb55d6eb01084bbc5eab0715c294479107c0db04e6f1b00"
              "6e1506306089e37fd1b179996d6394da12e9e2325705dba60c498be7b28cfdab"
              "f325ff9f8051b895a94cd21d51ce18127caf042cbf6ec3af850edac4c897b101"
              "341176058da40a0377aa723ebf6ec2e56f3d07eb20a53b1cb4bc69b771f12100"
              "16e356cc1fd601e0e718c94274fba8b1167083a1efeb75fbfc546184fc6b8af1", SPEC),
)

SCANS: tuple[ScanCase, ...] = (
    ScanCase("go_post_pow", GO_POST_COMMITMENT, 165540, 11, 32, 4, bytes([0, 0, 0x3F]) + b"\xff" * 29,
             (5,), (165545, "00001f81fadfc488b990c940aba8367a97e85cbb5bc0720a308d293b22902a74"), GO_POST),
    ScanCase("go_post_no_pow", GO_POST_COMMITMENT, 165540, 11, 32, 11, bytes([0, 0, 0]) + b"\xff" * 29,
             (), None, GO_POST),
    ScanCase("spec_threshold_equal", RAMP, 2**64 - 7, 7, 16, 3,
             bytes.fromhex("9a896ebb3185d891977a31703bf4bcea51a8b829a10dbc4afcdadf48011bdbc9"),
             (1, 5, 6), (2**64 - 1, "27cf4e5dbc193c84a832dfb4a4f6d2025d3ec98e0a0e0dcc399b330a2e008758"), SPEC),
    ScanCase("spec_threshold_above", RAMP, 2**64 - 7, 7, 16, 7,
             bytes.fromhex("9a896ebb3185d891977a31703bf4bcea51a8b829a10dbc4afcdadf48011bdbca"),
             (1, 2, 5, 6), (2**64 - 1, "27cf4e5dbc193c84a832dfb4a4f6d2025d3ec98e0a0e0dcc399b330a2e008758"), SPEC),
)

SCORES: tuple[ScoreCase, ...] = (
    ScoreCase("fips197_c1", bytes(range(16)), bytes.fromhex("00112233445566778899aabbccddeeff"),
              (0x69C4E0D86A7B0430,), None, FIPS_197),
    ScoreCase("fips197_b", bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c"),
              bytes.fromhex("3243f6a8885a308d313198a2e0370734"), (0x3925841D02DC09FB,), None, FIPS_197),
    ScoreCase("spec_random_1000", pseudo_random("key", 16), pseudo_random("labels", 16 * 1000), None,
              "6467840aaf83cc05246fd98613772c0cc83fe01a84ecb23691855d185e4361d6", SPEC),
)


# ------------------------------------------------------------------------------------------------
# Recomputing every expected value with the spec


def derive(post: Any, post_best: Any) -> tuple[tuple[LabelCase, ...], tuple[ScanCase, ...], tuple[ScoreCase, ...]]:
    """The three tables with every expected value recomputed by the given spec modules.

    ``post`` and ``post_best`` must be the spec's own functions (the ``spec`` backend): the
    point is to take nothing from an optimized implementation.
    """
    labels = tuple(replace(case, outputs=post.compute_labels(case.commitment, case.start, case.count,
                                                              case.scrypt_n).hex()) for case in LABELS)
    scans = []
    for case in SCANS:
        outputs = post.compute_labels(case.commitment, case.start, case.count, case.scrypt_n)
        rows = [outputs[32 * i:32 * i + 32] for i in range(case.count)]
        difficulty = case.difficulty
        if case.source == SPEC:  # the threshold is itself derived from the range's outputs
            difficulty = derived_threshold(case.name, rows)
        best = post.initialize_range(case.commitment, case.start, case.count, case.scrypt_n, difficulty)[1]
        scans.append(replace(case, difficulty=difficulty,
                             below=tuple(i for i, row in enumerate(rows) if row < difficulty),
                             best=None if best is None else (best[0], best[1].hex())))
    scores = []
    for case in SCORES:
        values = post_best.chunk_scores(case.key, case.data)
        if case.scores is not None:
            scores.append(replace(case, scores=tuple(values)))
        else:
            scores.append(replace(case, scores_sha256=scores_digest(values)))
    return labels, tuple(scans), tuple(scores)


def derived_threshold(name: str, rows: list[bytes]) -> bytes:
    """Spec-derived VRF thresholds: the fourth-lowest output itself (``_equal``: it is not below)
    or that output plus one (``_above``: it is)."""
    fourth = sorted(rows)[3]
    if name.endswith("_equal"):
        return fourth
    return (int.from_bytes(fourth, "big") + 1).to_bytes(32, "big")


def differences(post: Any, post_best: Any) -> list[str]:
    """Names of the committed cases whose expected values the spec does not reproduce."""
    return changed(derive(post, post_best))


def changed(derived: tuple[tuple[Any, ...], ...]) -> list[str]:
    return [case.name for committed, fresh in zip((LABELS, SCANS, SCORES), derived, strict=True)
            for case, again in zip(committed, fresh, strict=True) if case != again]


if __name__ == "__main__":  # after changing a case: which expected values must be updated
    from smspec.impl.registry import use_backend
    from smspec.spec import load

    use_backend("spec")
    tables = derive(load("post"), load("post_best"))
    for table in tables:
        for case in table:
            print(case)
    print("differ from the committed values:", changed(tables) or "none")
