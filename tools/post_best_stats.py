"""Monte Carlo of the best-labels PoST estimator (spec/post_best.md), shared by the tests, the
benchmark (``smspec bench post_best``) and the figure script (``tools/post_best_figure.py``).

The K-th lowest of N independent uniform 64-bit scores is drawn from its exact law: with
``U ~ Beta(K, N - K + 1)`` the score is ``floor(U * 2^64)``. Every weight is then computed by the
spec's own integer functions (``estimate_labels``, ``best_proof_weight``), so what is measured is
the estimator clients run, not a floating-point stand-in. ``end_to_end_weights`` instead runs the
whole prover on pseudo-random labels, AES scores included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from smspec import spec


def post_best(preset: str = "mainnet"):
    return spec.load("post_best", preset)


def kth_scores(rng: np.random.Generator, num_labels: int, k: int, trials: int) -> list[int]:
    """`trials` draws of the K-th lowest of `num_labels` uniform 64-bit scores."""
    if num_labels < k:
        raise ValueError("fewer labels than K")
    fractions = rng.beta(k, num_labels - k + 1, size=trials)
    return [min(int(u * 2.0**64), 2**64 - 1) for u in fractions]


def weights(pb, scores: list[int], k: int, cap: int) -> np.ndarray:
    """The spec's capped integer weight of each K-th score, as float64 for statistics."""
    return np.array([float(min(pb.estimate_labels(v, k), cap)) for v in scores])


@dataclass
class Ratio:
    value: float
    low: float  # 95 % confidence interval
    high: float

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high


def ratio_of_means(a: np.ndarray, b: np.ndarray, z: float = 1.96) -> Ratio:
    """mean(a) / mean(b) for independent samples, with a delta-method confidence interval."""
    ma, mb = float(a.mean()), float(b.mean())
    r = ma / mb
    se = abs(r) * math.sqrt(a.var(ddof=1) / (len(a) * ma * ma) + b.var(ddof=1) / (len(b) * mb * mb))
    return Ratio(r, r - z * se, r + z * se)


def merged_vs_split(pb, num_labels: int, parts: int, k: int, trials: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Weights of one proof over `num_labels` labels, and sums of `parts` proofs over equal shares.

    Both are capped as the spec caps them (twice the declared labels of the set).
    """
    rng = np.random.default_rng(seed)
    cap_factor = pb.WEIGHT_CAP_FACTOR
    merged = weights(pb, kth_scores(rng, num_labels, k, trials), k, cap_factor * num_labels)
    if num_labels % parts:
        raise ValueError("split the labels into equal shares")
    share = num_labels // parts
    split = np.zeros(trials)
    for _ in range(parts):
        split += weights(pb, kth_scores(rng, share, k, trials), k, cap_factor * share)
    return merged, split


@dataclass
class Spread:
    k: int
    mean: float  # mean weight / true labels
    mean_se: float
    rsd: float  # standard deviation / true labels
    rsd_theory: float


def estimator_spread(
    pb, num_labels: int, k: int, trials: int, seed: int, kept: float = 1.0, capped: bool = True
) -> Spread:
    """Mean and relative standard deviation of the weight when a fraction `kept` of the labels is held.

    `capped=False` measures the bare estimate (`estimate_labels`), without the spec's cap.
    """
    rng = np.random.default_rng(seed)
    held = int(num_labels * kept)
    cap = pb.WEIGHT_CAP_FACTOR * num_labels if capped else 2**200
    w = weights(pb, kth_scores(rng, held, k, trials), k, cap) / num_labels
    theory = kept * math.sqrt((held - k + 1) / (held * (k - 2))) if k > 2 else math.inf
    return Spread(k, float(w.mean()), float(w.std(ddof=1) / math.sqrt(trials)), float(w.std(ddof=1)), theory)


def miss_probability(k: int, k3: int, forged: int) -> float:
    """Exact probability that `k3` distinct spot checks among `k` entries miss all `forged` ones."""
    if k3 >= k:
        return 0.0 if forged else 1.0
    return math.comb(k - forged, k3) / math.comb(k, k3)


def measured_miss_rate(pb, k: int, k3: int, forged_positions: set[int], verifiers: int) -> float:
    """Fraction of verifier seeds whose spot checks sample none of `forged_positions`."""
    root = bytes(32)
    challenge = bytes(range(32))
    missed = 0
    for n in range(verifiers):
        picks = pb.spot_check_positions(n.to_bytes(8, "little"), challenge, root, k, k3)
        if not forged_positions.intersection(picks):
            missed += 1
    return missed / verifiers


def end_to_end_weights(pb, identities, k: int, trials: int, seed: int, kept: float = 1.0, prover=None) -> np.ndarray:
    """Weights of real proofs (AES scores of pseudo-random labels) over `trials` challenges.

    `prover` defaults to the module's `prove_best` (the spec's, or the active backend's).
    """
    prover = prover or pb.prove_best
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(trials):
        chunks = []
        for position, identity in enumerate(identities):
            count = int(pb.identity_num_labels(identity) * kept)
            data = rng.integers(0, 256, size=count * 16, dtype=np.uint8).tobytes()
            chunks.append(pb.LabelChunk(identity=position, first_index=0, data=data))
        challenge = rng.integers(0, 256, size=32, dtype=np.uint8).tobytes()
        proof = prover(identities, chunks, challenge, k)
        out.append(float(pb.best_proof_weight(proof.kth_score, k, identities)))
    return np.array(out)
