"""OpenCL driver of the best-labels scoring kernel (``gpu/post_best.cl``).

``score_chunk(key, data)`` scores a chunk of labels on the first OpenCL device (pocl on CPU
where no GPU exists); ``prove_best`` is the impl's streaming top-K prover with this scoring
step, registered for ``backend="gpu"``. The differential tests compare both with the spec.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
from smspec.gpu import kernel_source
from smspec.impl import post_best as impl
from smspec.impl.registry import replaces

ROUNDS = 10
RCON = (0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1B, 0x36)


@lru_cache(maxsize=1)
def _sbox() -> tuple[int, ...]:
    """The AES S-box (FIPS-197 5.1.1): GF(2^8) inverse, then the affine map."""

    def multiply(a: int, b: int) -> int:
        product = 0
        while b:
            if b & 1:
                product ^= a
            a = ((a << 1) ^ 0x11B) if a & 0x80 else a << 1
            b >>= 1
        return product

    inverse = [0] * 256
    for a in range(1, 256):
        for b in range(1, 256):
            if multiply(a, b) == 1:
                inverse[a] = b
                break
    box = []
    for a in range(256):
        x = inverse[a]
        s = x
        for shift in range(1, 5):
            s ^= ((x << shift) | (x >> (8 - shift))) & 0xFF
        box.append(s ^ 0x63)
    return tuple(box)


def expand_key(key: bytes) -> bytes:
    """The 11 AES-128 round keys (FIPS-197 5.2), 176 bytes."""
    box = _sbox()
    words = [list(key[4 * i:4 * i + 4]) for i in range(4)]
    for i in range(4, 4 * (ROUNDS + 1)):
        word = list(words[i - 1])
        if i % 4 == 0:
            word = word[1:] + word[:1]
            word = [box[b] for b in word]
            word[0] ^= RCON[i // 4 - 1]
        words.append([a ^ b for a, b in zip(words[i - 4], word, strict=True)])
    return bytes(b for word in words for b in word)


@lru_cache(maxsize=1)
def encryption_table() -> np.ndarray:
    """Te0 of the kernel: for each byte x, the column (2S(x), S(x), S(x), 3S(x)) as a u32."""
    box = _sbox()

    def double(b: int) -> int:
        return ((b << 1) ^ 0x11B) if b & 0x80 else b << 1

    return np.array(
        [(double(s) << 24) | (s << 16) | (s << 8) | (double(s) ^ s) for s in box], dtype=np.uint32
    )


@lru_cache(maxsize=1)
def _context() -> tuple[Any, Any, Any]:
    import pyopencl as cl

    device = next(d for p in cl.get_platforms() for d in p.get_devices())
    context = cl.Context([device])
    queue = cl.CommandQueue(context)
    program = cl.Program(context, kernel_source("post_best")).build()
    return context, queue, cl.Kernel(program, "score_labels")


def score_chunk(key: bytes, data: bytes) -> np.ndarray:
    """Scores (u64) of the 16-byte labels in `data` under the AES-128 `key`, on the device."""
    import pyopencl as cl

    count = len(data) // 16
    if count == 0:
        return np.zeros(0, dtype=np.uint64)
    context, queue, kernel = _context()
    flags = cl.mem_flags
    labels = cl.Buffer(context, flags.READ_ONLY | flags.COPY_HOST_PTR, hostbuf=np.frombuffer(data[:16 * count], dtype=np.uint8))
    words = np.frombuffer(expand_key(key), dtype=">u4").astype(np.uint32)
    keys = cl.Buffer(context, flags.READ_ONLY | flags.COPY_HOST_PTR, hostbuf=words)
    table = cl.Buffer(context, flags.READ_ONLY | flags.COPY_HOST_PTR, hostbuf=encryption_table())
    scores = np.empty(count, dtype=np.uint64)
    output = cl.Buffer(context, flags.WRITE_ONLY, scores.nbytes)
    kernel(queue, (count,), None, labels, keys, table, output, np.uint64(count))
    cl.enqueue_copy(queue, scores, output)
    return scores


@replaces("post_best", "prove_best", backend="gpu", factory=True)
def prove_best(spec: Any) -> Callable[..., Any]:
    return impl.make_prover(spec, score_chunk)


@replaces("post_best", "chunk_scores", backend="gpu")
def chunk_scores(key: bytes, data: bytes) -> list[int]:
    return [int(s) for s in score_chunk(key, data)]
