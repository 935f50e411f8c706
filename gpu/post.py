"""OpenCL PoST initializer: drives ``gpu/scrypt.cl`` (labels and the VRF-nonce scan).

Replaces (backend ``gpu``) the spec's ``compute_labels`` and ``initialize_range``. One work item
computes one label with its whole ROMix table in device memory (``128 * N`` bytes), so a launch
covers ``batch_size(N)`` labels; longer ranges run as several launches, the last one partial.
On pocl (the CPU OpenCL platform) the work items of a work group are vectorized across SIMD
lanes and the groups spread over all cores.

Environment: ``SMSPEC_OPENCL_DEVICE`` = ``platform:device`` indices picks a device (default: the
first GPU, else the first device); ``SMSPEC_OPENCL_MEMORY`` bounds the scratch bytes per launch;
``SMSPEC_OPENCL_LABELS_PER_ITEM`` (1, 2, 4; default 4 on wide-SIMD CPUs, 1 on GPUs),
``SMSPEC_OPENCL_LAYOUT`` (``contiguous`` tables, the CPU default, or ``interleaved``, the GPU
default) and ``SMSPEC_OPENCL_LOCAL`` (work-group size) tune the kernel.
"""

from __future__ import annotations

import os
import threading

import numpy as np
from smspec.gpu import kernel_source
from smspec.impl.registry import replaces

DEFAULT_SCRATCH = 256 * 2**20


class ScryptOpenCL:
    """A compiled ``scrypt.cl`` on one OpenCL device."""

    def __init__(self, device=None) -> None:
        import pyopencl as cl

        self.cl = cl
        self.device = device or pick_device()
        self.context = cl.Context([self.device])
        self.queue = cl.CommandQueue(self.context)
        self.is_cpu = bool(self.device.type & cl.device_type.CPU)
        self.labels_per_item = int(os.environ.get("SMSPEC_OPENCL_LABELS_PER_ITEM", "0")) or (
            4 if self.is_cpu and self.device.preferred_vector_width_int >= 16 else 2 if self.is_cpu else 1)
        layout = os.environ.get("SMSPEC_OPENCL_LAYOUT") or ("contiguous" if self.is_cpu else "interleaved")
        if layout not in ("contiguous", "interleaved"):
            raise ValueError("SMSPEC_OPENCL_LAYOUT must be contiguous or interleaved")
        self.layout = layout
        options = [f"-DLABELS_PER_ITEM={self.labels_per_item}"] + (["-DCONTIGUOUS_SCRATCH"] if layout == "contiguous" else [])
        self.program = cl.Program(self.context, kernel_source("scrypt")).build(options=options)
        self.labels_kernel = cl.Kernel(self.program, "scrypt_labels")
        self.scan_kernel = cl.Kernel(self.program, "vrf_scan")
        self.lock = threading.Lock()
        self.scratch_limit = int(os.environ.get("SMSPEC_OPENCL_MEMORY", "0")) or min(
            DEFAULT_SCRATCH if self.is_cpu else self.device.global_mem_size // 2,
            self.device.max_mem_alloc_size,
        )

    def local_size(self, launch: int) -> tuple[int] | None:
        """Work-group size: SMSPEC_OPENCL_LOCAL (if it divides the launch), else the driver's choice."""
        wanted = int(os.environ.get("SMSPEC_OPENCL_LOCAL", "0"))
        if wanted and launch % wanted == 0:
            return (wanted,)
        return None

    @property
    def name(self) -> str:
        return f"{self.device.platform.name}: {self.device.name.strip()}"

    def batch_size(self, scrypt_n: int) -> int:
        """Labels per launch: as many ROMix tables as the scratch limit holds (a multiple of 64)."""
        per_item = 128 * scrypt_n
        size = max(1, self.scratch_limit // per_item)
        return max(1, size - size % 64) if size >= 64 else size

    def outputs(self, commitment: bytes, start: int, count: int, scrypt_n: int, batch: int | None = None,
                difficulty: bytes | None = None) -> tuple[bytes, list[int]]:
        """The 32-byte outputs of the range, and (with difficulty) the indices below it."""
        cl = self.cl
        batch = batch or self.batch_size(scrypt_n)
        mf = cl.mem_flags
        result = bytearray(32 * count)
        below_indices: list[int] = []
        with self.lock:
            commit_buf = cl.Buffer(self.context, mf.READ_ONLY | mf.COPY_HOST_PTR,
                                   hostbuf=np.frombuffer(commitment, dtype="<u4").copy())
            launch = min(batch, count) if count else 0
            if launch == 0:
                return b"", []
            items = -(-launch // self.labels_per_item)
            scratch = cl.Buffer(self.context, mf.READ_WRITE, 128 * scrypt_n * items * self.labels_per_item)
            out_buf = cl.Buffer(self.context, mf.WRITE_ONLY, 32 * launch)
            diff_buf = below_buf = None
            if difficulty is not None:
                diff_buf = cl.Buffer(self.context, mf.READ_ONLY | mf.COPY_HOST_PTR,
                                     hostbuf=np.frombuffer(difficulty, dtype=np.uint8).copy())
                below_buf = cl.Buffer(self.context, mf.WRITE_ONLY, launch)
            for offset in range(0, count, launch):
                this = min(launch, count - offset)
                self.labels_kernel.set_args(commit_buf, np.uint64(start + offset), np.uint32(this),
                                            np.uint32(scrypt_n), scratch, out_buf)
                items = -(-launch // self.labels_per_item)
                cl.enqueue_nd_range_kernel(self.queue, self.labels_kernel, (items,), self.local_size(items))
                host = np.empty(8 * this, dtype=np.uint32)
                cl.enqueue_copy(self.queue, host, out_buf)
                result[32 * offset:32 * (offset + this)] = host.astype("<u4").tobytes()
                if difficulty is not None:
                    self.scan_kernel.set_args(out_buf, np.uint32(this), diff_buf, below_buf)
                    cl.enqueue_nd_range_kernel(self.queue, self.scan_kernel, (launch,), None)
                    flags = np.empty(this, dtype=np.uint8)
                    cl.enqueue_copy(self.queue, flags, below_buf)
                    below_indices.extend(int(i) + offset for i in np.nonzero(flags)[0])
            self.queue.finish()
        return bytes(result), below_indices


def pick_device():
    """The device named by SMSPEC_OPENCL_DEVICE, else the first GPU, else the first device."""
    import pyopencl as cl

    platforms = cl.get_platforms()
    chosen = os.environ.get("SMSPEC_OPENCL_DEVICE")
    if chosen:
        platform_index, device_index = (int(part) for part in chosen.split(":"))
        return platforms[platform_index].get_devices()[device_index]
    devices = [d for p in platforms for d in p.get_devices()]
    gpus = [d for d in devices if d.type & cl.device_type.GPU]
    if not (gpus or devices):
        raise RuntimeError("no OpenCL device")
    return (gpus or devices)[0]


_ENGINE: ScryptOpenCL | None = None
_ENGINE_LOCK = threading.Lock()


def engine() -> ScryptOpenCL:
    """The process-wide OpenCL scrypt engine (compiled on first use)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = ScryptOpenCL()
        return _ENGINE


def _check(commitment: bytes, start: int, count: int, scrypt_n: int) -> None:
    """The spec's argument checks, in the order its per-label loop meets them (count > 0),
    and the kernel's own bound on N."""
    from smspec.impl.post import check_label_range
    from smspec.spec.errors import InvalidValue

    check_label_range(commitment, start, count, scrypt_n)
    if scrypt_n > 2**31:
        raise InvalidValue("out_of_range", "the OpenCL kernel takes N below 2^32")


@replaces("post", "compute_labels", backend="gpu")
def compute_labels(commitment: bytes, start: int, count: int, scrypt_n: int) -> bytes:
    """The 32-byte outputs of labels start .. start + count - 1, concatenated (OpenCL)."""
    from smspec.spec.errors import InvalidValue

    if count < 0:
        raise InvalidValue("out_of_range", "negative label count")
    if count == 0:
        return b""
    _check(commitment, start, count, scrypt_n)
    return engine().outputs(commitment, start, count, scrypt_n)[0]


@replaces("post", "initialize_range", backend="gpu")
def initialize_range(commitment: bytes, start: int, count: int, scrypt_n: int, difficulty: bytes,
                     ) -> tuple[bytes, tuple[int, bytes] | None]:
    """(stored labels, best VRF-nonce candidate) of a range, with the scan on the device."""
    from smspec.spec.errors import InvalidValue

    if count < 0:
        raise InvalidValue("out_of_range", "negative label count")
    if count == 0:
        return b"", None
    _check(commitment, start, count, scrypt_n)
    if len(difficulty) == 32:
        outputs, below = engine().outputs(commitment, start, count, scrypt_n, difficulty=difficulty)
    else:  # the kernel compares 32-byte thresholds; any other length is compared on the host
        outputs = engine().outputs(commitment, start, count, scrypt_n)[0]
        below = [i for i in range(count) if outputs[32 * i:32 * i + 32] < difficulty]
    rows = np.frombuffer(outputs, dtype=np.uint8).reshape(count, 32)
    best = None
    for position in below:
        value = outputs[32 * position:32 * position + 32]
        if best is None or value < best[1]:
            best = (start + position, value)
    return rows[:, :16].tobytes(), best
