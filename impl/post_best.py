"""Fast best-labels prover: one streaming pass with numpy top-K (spec/post_best.md).

``prove_best`` replaces the spec's function of the same name and signature. Each chunk of labels
is scored in one AES-ECB call over the whole chunk (pycryptodome, AES-NI), the scores are read as
big-endian u64 with numpy, and only the labels that can still enter the K best (score at most
the current K-th) are merged into a running top-K kept sorted by (score, identity, index) with
``np.lexsort``. After the first few chunks almost nothing passes, so the pass runs at AES speed.
Chunks are consumed as an iterator, so a reader can stream files of any size through it.

Checks and their order (which decides the error reason) mirror the spec exactly;
``tests/differential/test_post_best.py`` compares the two with Hypothesis.

``score_chunk`` is the scoring step on its own; the OpenCL driver (``gpu/post_best.py``) swaps
it for a kernel and reuses everything else through :func:`make_prover`.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from Crypto.Cipher import AES
from smspec.impl.registry import replaces

if TYPE_CHECKING:
    from smspec.spec.post_best import BestIdentity, BestProof, LabelChunk

ScoreFunction = Callable[[bytes, bytes], np.ndarray]


def score_chunk(key: bytes, data: bytes) -> np.ndarray:
    """Scores (u64) of the 16-byte labels in `data` under the AES-128 `key`."""
    if not data:
        return np.zeros(0, dtype=np.uint64)
    blocks = AES.new(key, AES.MODE_ECB).encrypt(data)
    return np.frombuffer(blocks, dtype=">u8")[0::2].astype(np.uint64)


class TopK:
    """The K lowest (score, identity, index) seen so far, sorted."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.scores = np.zeros(0, dtype=np.uint64)
        self.identities = np.zeros(0, dtype=np.int64)
        self.indices = np.zeros(0, dtype=np.uint64)

    def add(self, identity: int, first_index: int, scores: np.ndarray) -> None:
        if len(scores) == 0:
            return
        if len(self.scores) >= self.k:
            # Only a score at most the current K-th can enter (ties are settled by the sort).
            positions = np.flatnonzero(scores <= self.scores[-1])
            if len(positions) == 0:
                return
            scores = scores[positions]
        else:
            positions = np.arange(len(scores))
        indices = positions.astype(np.uint64) + np.uint64(first_index)
        all_scores = np.concatenate([self.scores, scores])
        all_identities = np.concatenate([self.identities, np.full(len(scores), identity, dtype=np.int64)])
        all_indices = np.concatenate([self.indices, indices])
        order = np.lexsort((all_indices, all_identities, all_scores))[: self.k]
        self.scores = all_scores[order]
        self.identities = all_identities[order]
        self.indices = all_indices[order]

    def entries(self) -> list[tuple[int, int, int]]:
        return [(int(s), int(i), int(j)) for s, i, j in zip(self.scores, self.identities, self.indices, strict=True)]


class Coverage:
    """Label ranges already read, per identity: the spec's overlap rule in O(log n) per chunk.

    Ranges accepted so far never overlap (in the spec's sense, empty ranges included), so sorted
    by (start, stop) their stops are non-decreasing and one bisection answers the query.
    """

    def __init__(self, count: int) -> None:
        self.ranges: list[list[tuple[int, int]]] = [[] for _ in range(count)]

    def overlaps(self, identity: int, start: int, end: int) -> bool:
        ranges = self.ranges[identity]
        below = bisect.bisect_left(ranges, (end, -1))  # ranges starting before `end`
        return below > 0 and ranges[below - 1][1] > start

    def add(self, identity: int, start: int, end: int) -> None:
        bisect.insort(self.ranges[identity], (start, end))


def make_prover(spec: Any, score: ScoreFunction) -> Callable[..., Any]:
    """A `prove_best` for the spec module `spec` that scores chunks with `score`."""

    def prove_best(identities: list[BestIdentity], chunks: list[LabelChunk], challenge: bytes, k: int) -> BestProof:
        """The spec's `prove_best`; `chunks` may be any iterable (a stream)."""
        spec.check_k(k)
        spec.check_identity_set(identities)
        set_root = spec.identity_set_root(identities)
        keys = [
            spec.score_key(challenge, set_root, spec.compute_commitment(i.node_id, i.commitment_atx_id))
            for i in identities
        ]
        limits = [spec.identity_num_labels(i) for i in identities]
        coverage = Coverage(len(identities))
        best = TopK(k)
        total = 0
        label_size = spec.LABEL_SIZE
        for chunk in chunks:
            if not 0 <= chunk.identity < len(identities) or len(chunk.data) % label_size != 0:
                raise spec.InvalidValue("bad_label_chunk", "identity position or data length")
            end = chunk.first_index + len(chunk.data) // label_size
            if chunk.first_index < 0 or end > limits[chunk.identity]:
                raise spec.InvalidValue("bad_label_chunk", "labels outside the declared size")
            if coverage.overlaps(chunk.identity, chunk.first_index, end):
                raise spec.InvalidValue("bad_label_chunk", "chunks overlap")
            coverage.add(chunk.identity, chunk.first_index, end)
            total += end - chunk.first_index
            best.add(chunk.identity, chunk.first_index, score(keys[chunk.identity], bytes(chunk.data)))
        if total < k:
            raise spec.InvalidValue("not_enough_labels", f"{total} labels, K = {k}")
        selected = [spec.BestEntry(s, i, j) for s, i, j in best.entries()]
        return spec.make_proof(selected)

    return prove_best


@replaces("post_best", "prove_best", factory=True)
def prove_best(spec: Any) -> Callable[..., Any]:
    return make_prover(spec, score_chunk)


@replaces("post_best", "chunk_scores")
def chunk_scores(key: bytes, data: bytes) -> list[int]:
    return [int(s) for s in score_chunk(key, data)]


def stream_chunks(post: Any, datadirs: list[str], batch_labels: int = 1 << 16,
                  progress: Callable[[int], None] | None = None) -> Iterator[Any]:
    """``LabelChunk``s of every identity's data directory (position = order of `datadirs`).

    Reads with the PoST impl's streaming reader (``smspec.impl.post.iter_label_batches``:
    sequential reads, batches never straddle a file); `progress` gets the bytes of each batch.
    `post` is the spec's post module of the preset in force.
    """
    from smspec import spec as spec_package
    from smspec.impl.post import iter_label_batches

    pb = spec_package.load("post_best", post.PRESET)
    for position, datadir in enumerate(datadirs):
        metadata = post.load_metadata(datadir)
        for first_index, data in iter_label_batches(datadir, metadata, batch_labels):
            if progress is not None:
                progress(len(data))
            yield pb.LabelChunk(identity=position, first_index=first_index, data=data)
