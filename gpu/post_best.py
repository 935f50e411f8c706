"""OpenCL driver of the best-labels scoring kernel (``gpu/post_best.cl``).

``score_chunk(key, data)`` scores a chunk of labels with the process-wide ``ScoreOpenCL`` engine:
the device and work-group size ``gpu/opencl.py`` chose by self-check (FIPS-197 and spec-derived
known answers, ``gpu/known_answers.py``) and measurement. ``prove_best`` is the impl's streaming
top-K prover with this scoring step, registered for ``backend="gpu"``. The differential tests
compare both with the spec.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
from smspec.gpu import kernel_source
from smspec.gpu.opencl import SelfCheckFailed, best_rate
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


MEASURE_LABELS = 2**18
MEASURE_REPEATS = 5
MEASURE_SECONDS = 0.5


class ScoreOpenCL:
    """The compiled scoring kernel on one OpenCL device, with one work-group size."""

    KIND = "score"
    TITLE = "best-labels score"
    KERNELS = ("post_best",)

    def __init__(self, device: Any, config: dict[str, Any]) -> None:
        import pyopencl as cl

        self.cl = cl
        self.device = device
        self.config = dict(config)
        self.local = int(config["local"])
        if self.local < 1:
            raise ValueError(f"not a score configuration: {config}")
        self.is_cpu = bool(device.type & cl.device_type.CPU)
        self.context = cl.Context([device])
        self.queue = cl.CommandQueue(self.context)
        program = cl.Program(self.context, kernel_source("post_best")).build()
        self.kernel = cl.Kernel(program, "score_labels")
        flags = cl.mem_flags
        self.table = cl.Buffer(self.context, flags.READ_ONLY | flags.COPY_HOST_PTR, hostbuf=encryption_table())
        self.lock = threading.Lock()

    @staticmethod
    def candidates(device: Any) -> list[dict[str, Any]]:
        import pyopencl as cl

        sizes = (64, 128, 256) if device.type & cl.device_type.GPU else (1, 16, 64)
        return [{"local": size} for size in sizes if size <= device.max_work_group_size]

    @staticmethod
    def restriction() -> str:
        return ""

    @staticmethod
    def describe(config: dict[str, Any]) -> str:
        return f"local {config['local']}"

    @staticmethod
    def measure_parameters(device: Any) -> dict[str, Any]:
        return {"labels": MEASURE_LABELS, "repeats": MEASURE_REPEATS, "seconds": MEASURE_SECONDS}

    def self_check(self) -> None:
        """Raise SelfCheckFailed unless every known answer (gpu/known_answers.py) is reproduced."""
        from smspec.gpu.known_answers import SCORES, scores_digest

        for case in SCORES:
            got = [int(s) for s in self.scores(case.key, case.data)]
            if (case.scores is not None and tuple(got) != case.scores) or (
                    case.scores_sha256 is not None and scores_digest(got) != case.scores_sha256):
                raise SelfCheckFailed(f"scores differ from the spec ({case.name})")

    def measure(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """Labels scored per second (and per CPU-second of this process on CPU devices): the best
        of a few calls on random labels."""
        data = np.random.default_rng(0).integers(0, 256, size=16 * parameters["labels"], dtype=np.uint8).tobytes()
        return best_rate(lambda repeat: self.scores(bytes(16), data), parameters["labels"], parameters, self.is_cpu)

    @property
    def name(self) -> str:
        return f"{self.device.platform.name}: {self.device.name.strip()}"

    def scores(self, key: bytes, data: bytes) -> np.ndarray:
        """Scores (u64) of the 16-byte labels in `data` under the AES-128 `key`."""
        cl = self.cl
        count = len(data) // 16
        if count == 0:
            return np.zeros(0, dtype=np.uint64)
        flags = cl.mem_flags
        with self.lock:
            labels = cl.Buffer(self.context, flags.READ_ONLY | flags.COPY_HOST_PTR,
                               hostbuf=np.frombuffer(data[:16 * count], dtype=np.uint8))
            words = np.frombuffer(expand_key(key), dtype=">u4").astype(np.uint32)
            keys = cl.Buffer(self.context, flags.READ_ONLY | flags.COPY_HOST_PTR, hostbuf=words)
            scores = np.empty(count, dtype=np.uint64)
            output = cl.Buffer(self.context, flags.WRITE_ONLY, scores.nbytes)
            padded = -(-count // self.local) * self.local  # work items past count return at once
            self.kernel(self.queue, (padded,), (self.local,), labels, keys, self.table, output, np.uint64(count))
            cl.enqueue_copy(self.queue, scores, output)
        return scores


_ENGINE: ScoreOpenCL | None = None
_ENGINE_LOCK = threading.Lock()


def engine() -> ScoreOpenCL:
    """The process-wide scoring engine: the chosen device and work-group size, self-checked.
    Raises OpenCLUnavailable (one line) when no configuration passes."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            from smspec.gpu import opencl

            _ENGINE = opencl.build("score")
        return _ENGINE


def _context() -> tuple[Any, Any, Any]:
    """(context, queue, kernel) of the engine (``smspec bench post_best`` names the device with it)."""
    chosen = engine()
    return chosen.context, chosen.queue, chosen.kernel


def score_chunk(key: bytes, data: bytes) -> np.ndarray:
    """Scores (u64) of the 16-byte labels in `data` under the AES-128 `key`, on the device."""
    return engine().scores(key, data)


@replaces("post_best", "prove_best", backend="gpu", factory=True)
def prove_best(spec: Any) -> Callable[..., Any]:
    return impl.make_prover(spec, score_chunk)


@replaces("post_best", "chunk_scores", backend="gpu")
def chunk_scores(key: bytes, data: bytes) -> list[int]:
    return [int(s) for s in score_chunk(key, data)]
