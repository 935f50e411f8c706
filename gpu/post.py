"""OpenCL PoST initializer: drives ``gpu/scrypt.cl`` (labels and the VRF-nonce scan).

Replaces (backend ``gpu``) the spec's ``compute_labels`` and ``initialize_range``. One work item
computes ``labels_per_item`` labels, each with its whole ROMix table in device memory
(``128 * N`` bytes), so a launch covers ``batch_size(N)`` labels; longer ranges run as several
launches, the last one partial. The global size is padded to whole work groups, so every launch
runs the kernel compiled for the configuration's work-group size, the one its self-check ran.

The configuration (labels per item 1, 2 or 4; ``contiguous`` or ``interleaved`` tables; the
work-group size) and the device are chosen by ``gpu/opencl.py``: each candidate is built,
checked against ``gpu/known_answers.py`` and timed in a child process, and the fastest passing
one runs. Environment: ``SMSPEC_OPENCL_DEVICE`` = ``platform:device`` restricts the device;
``SMSPEC_OPENCL_LABELS_PER_ITEM``, ``SMSPEC_OPENCL_LAYOUT`` and ``SMSPEC_OPENCL_LOCAL`` restrict
the candidates (still self-checked; refused when none passes); ``SMSPEC_OPENCL_MEMORY`` bounds the
scratch bytes per launch.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np
from smspec.gpu import kernel_source
from smspec.gpu.opencl import OpenCLUnavailable, SelfCheckFailed, best_rate
from smspec.impl.registry import replaces

DEFAULT_SCRATCH = 256 * 2**20
MEASURE_N = 8192  # mainnet scrypt N: configurations are timed where they will run
MEASURE_REPEATS = 3
MEASURE_SECONDS = 1.0
LAYOUTS = ("contiguous", "interleaved")


class ScryptOpenCL:
    """A compiled ``scrypt.cl`` on one OpenCL device, in one configuration."""

    KIND = "scrypt"
    TITLE = "scrypt labels"
    KERNELS = ("scrypt",)

    def __init__(self, device: Any, config: dict[str, Any]) -> None:
        import pyopencl as cl

        self.cl = cl
        self.device = device
        self.config = dict(config)
        self.labels_per_item = int(config["labels_per_item"])
        self.layout = str(config["layout"])
        self.local = int(config["local"])
        if self.labels_per_item not in (1, 2, 4) or self.layout not in LAYOUTS or self.local < 1:
            raise ValueError(f"not a scrypt configuration: {config}")
        self.context = cl.Context([device])
        self.queue = cl.CommandQueue(self.context)
        self.is_cpu = bool(device.type & cl.device_type.CPU)
        options = [f"-DLABELS_PER_ITEM={self.labels_per_item}"]
        if self.layout == "contiguous":
            options.append("-DCONTIGUOUS_SCRATCH")
        self.program = cl.Program(self.context, kernel_source("scrypt")).build(options=options)
        self.labels_kernel = cl.Kernel(self.program, "scrypt_labels")
        self.scan_kernel = cl.Kernel(self.program, "vrf_scan")
        self.lock = threading.Lock()
        self.scratch_limit = scratch_limit(device)

    # -- candidates and checks (gpu/opencl.py) ---------------------------------------------------

    @staticmethod
    def candidates(device: Any) -> list[dict[str, Any]]:
        """The configurations worth trying on ``device``, restricted by the environment."""
        import pyopencl as cl

        if device.type & cl.device_type.GPU:
            per_item, layouts, locals_ = (1, 2), ("interleaved", "contiguous"), (64, 256)
        else:
            per_item, layouts, locals_ = (4, 2, 1), LAYOUTS, (1, 8)
        forced = _forced()
        chosen = []
        for labels in forced.get("labels_per_item", per_item):
            for layout in forced.get("layout", layouts):
                for local in forced.get("local", locals_):
                    if local <= device.max_work_group_size:
                        chosen.append({"labels_per_item": labels, "layout": layout, "local": local})
        return chosen

    @staticmethod
    def restriction() -> str:
        """The environment variables that restrict the candidates, as text ('' when none)."""
        return " ".join(f"{name}={os.environ[name]}" for name in _FORCING if os.environ.get(name))

    @staticmethod
    def describe(config: dict[str, Any]) -> str:
        return f"{config['labels_per_item']}/item {config['layout']} local {config['local']}"

    @staticmethod
    def measure_parameters(device: Any) -> dict[str, Any]:
        return {"scrypt_n": MEASURE_N, "scratch": scratch_limit(device), "repeats": MEASURE_REPEATS,
                "seconds": MEASURE_SECONDS}

    def self_check(self) -> None:
        """Raise SelfCheckFailed unless every known answer (gpu/known_answers.py) is reproduced."""
        from smspec.gpu.known_answers import LABELS, SCANS

        for case in LABELS:
            got = self.outputs(case.commitment, case.start, case.count, case.scrypt_n, batch=case.batch)[0]
            if got.hex() != case.outputs:
                wrong = next(i for i in range(case.count) if got[32 * i:32 * i + 32].hex() != case.outputs[64 * i:64 * i + 64])
                raise SelfCheckFailed(f"labels differ from the spec ({case.name}: label {case.start + wrong})")
        for scan in SCANS:
            got, below = self.outputs(scan.commitment, scan.start, scan.count, scan.scrypt_n, batch=scan.batch,
                                      difficulty=scan.difficulty)
            rows = [got[32 * i:32 * i + 32] for i in range(scan.count)]
            if tuple(below) != scan.below or [i for i, row in enumerate(rows) if row < scan.difficulty] != list(scan.below):
                raise SelfCheckFailed(f"VRF-nonce scan differs from the spec ({scan.name}: {below} != {list(scan.below)})")

    def measure(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """Labels per second (wall clock, and per CPU-second of this process on CPU devices) at
        mainnet N, in launches of the production batch size: the best of up to ``repeats``
        launches (others' load on a shared machine only ever slows a launch down), fewer once
        ``seconds`` have passed."""
        n = parameters["scrypt_n"]
        batch = self.batch_size(n)
        return best_rate(lambda first: self.outputs(bytes(32), first * batch, batch, n), batch, parameters,
                         self.is_cpu)

    # -- running ---------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return f"{self.device.platform.name}: {self.device.name.strip()}"

    def batch_size(self, scrypt_n: int) -> int:
        """Labels per launch: as many ROMix tables as the scratch limit holds, in whole work groups
        when at least one fits."""
        size = max(1, self.scratch_limit // (128 * scrypt_n))
        group = self.labels_per_item * self.local
        return size - size % group if size >= group else size

    def outputs(self, commitment: bytes, start: int, count: int, scrypt_n: int, batch: int | None = None,
                difficulty: bytes | None = None) -> tuple[bytes, list[int]]:
        """The 32-byte outputs of the range, and (with difficulty) the indices below it."""
        cl = self.cl
        batch = batch or self.batch_size(scrypt_n)
        mf = cl.mem_flags
        result = bytearray(32 * count)
        below_indices: list[int] = []
        launch = min(batch, count) if count else 0
        if launch == 0:
            return b"", []
        per_item = self.labels_per_item
        with self.lock:
            commit_buf = cl.Buffer(self.context, mf.READ_ONLY | mf.COPY_HOST_PTR,
                                   hostbuf=np.frombuffer(commitment, dtype="<u4").copy())
            scratch = cl.Buffer(self.context, mf.READ_WRITE, 128 * scrypt_n * _round_up(launch, per_item))
            out_buf = cl.Buffer(self.context, mf.WRITE_ONLY, 32 * launch)
            diff_buf = below_buf = None
            if difficulty is not None:
                diff_buf = cl.Buffer(self.context, mf.READ_ONLY | mf.COPY_HOST_PTR,
                                     hostbuf=np.frombuffer(difficulty, dtype=np.uint8).copy())
                below_buf = cl.Buffer(self.context, mf.WRITE_ONLY, _round_up(launch, self.local))
            for offset in range(0, count, launch):
                this = min(launch, count - offset)
                items = -(-this // per_item)
                self.labels_kernel.set_args(commit_buf, np.uint64(start + offset), np.uint32(this),
                                            np.uint32(scrypt_n), np.uint32(items * per_item), scratch, out_buf)
                cl.enqueue_nd_range_kernel(self.queue, self.labels_kernel, (_round_up(items, self.local),),
                                           (self.local,))
                host = np.empty(8 * this, dtype=np.uint32)
                cl.enqueue_copy(self.queue, host, out_buf)
                result[32 * offset:32 * (offset + this)] = host.astype("<u4").tobytes()
                if difficulty is not None:
                    self.scan_kernel.set_args(out_buf, np.uint32(this), diff_buf, below_buf)
                    cl.enqueue_nd_range_kernel(self.queue, self.scan_kernel, (_round_up(this, self.local),),
                                               (self.local,))
                    flags = np.empty(this, dtype=np.uint8)
                    cl.enqueue_copy(self.queue, flags, below_buf)
                    below_indices.extend(int(i) + offset for i in np.nonzero(flags)[0])
            self.queue.finish()
        return bytes(result), below_indices


_FORCING = ("SMSPEC_OPENCL_LABELS_PER_ITEM", "SMSPEC_OPENCL_LAYOUT", "SMSPEC_OPENCL_LOCAL")


def _forced() -> dict[str, tuple[Any, ...]]:
    """The candidate dimensions the environment fixes; a bad value is a one-line error."""
    forced: dict[str, tuple[Any, ...]] = {}
    labels = os.environ.get("SMSPEC_OPENCL_LABELS_PER_ITEM")
    if labels:
        if labels.strip() not in ("1", "2", "4"):
            raise OpenCLUnavailable(f"SMSPEC_OPENCL_LABELS_PER_ITEM must be 1, 2 or 4, got {labels!r}")
        forced["labels_per_item"] = (int(labels),)
    layout = os.environ.get("SMSPEC_OPENCL_LAYOUT")
    if layout:
        if layout.strip() not in LAYOUTS:
            raise OpenCLUnavailable(f"SMSPEC_OPENCL_LAYOUT must be contiguous or interleaved, got {layout!r}")
        forced["layout"] = (layout.strip(),)
    local = os.environ.get("SMSPEC_OPENCL_LOCAL")
    if local:
        if not local.strip().isdigit() or not 1 <= int(local) <= 4096:
            raise OpenCLUnavailable(f"SMSPEC_OPENCL_LOCAL must be a work-group size from 1 to 4096, got {local!r}")
        forced["local"] = (int(local),)
    return forced


def scratch_limit(device: Any) -> int:
    """Scratch bytes per launch: SMSPEC_OPENCL_MEMORY, else 256 MiB on CPUs and half the memory
    of other devices, within the largest allocation the device allows."""
    import pyopencl as cl

    wanted = os.environ.get("SMSPEC_OPENCL_MEMORY", "").strip()
    if wanted and not wanted.isdigit():
        raise OpenCLUnavailable(f"SMSPEC_OPENCL_MEMORY must be a number of bytes, got {wanted!r}")
    default = DEFAULT_SCRATCH if device.type & cl.device_type.CPU else device.global_mem_size // 2
    return min(int(wanted) if wanted and int(wanted) else default, device.max_mem_alloc_size)


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


_ENGINE: ScryptOpenCL | None = None
_ENGINE_LOCK = threading.Lock()


def engine() -> ScryptOpenCL:
    """The process-wide OpenCL scrypt engine: the chosen device and configuration, self-checked.
    Raises OpenCLUnavailable (one line) when no configuration passes."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            from smspec.gpu import opencl

            _ENGINE = opencl.build("scrypt")
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
    return initialize_range_on(None, commitment, start, count, scrypt_n, difficulty)


def initialize_range_on(chosen: ScryptOpenCL | None, commitment: bytes, start: int, count: int, scrypt_n: int,
                        difficulty: bytes) -> tuple[bytes, tuple[int, bytes] | None]:
    """:func:`initialize_range` on a given engine (one per device for ``post init --devices all``),
    or on the process-wide one."""
    from smspec.spec.errors import InvalidValue

    if count < 0:
        raise InvalidValue("out_of_range", "negative label count")
    if count == 0:
        return b"", None
    _check(commitment, start, count, scrypt_n)
    runner = chosen or engine()
    if len(difficulty) == 32:
        outputs, below = runner.outputs(commitment, start, count, scrypt_n, difficulty=difficulty)
    else:  # the kernel compares 32-byte thresholds; any other length is compared on the host
        outputs = runner.outputs(commitment, start, count, scrypt_n)[0]
        below = [i for i in range(count) if outputs[32 * i:32 * i + 32] < difficulty]
    rows = np.frombuffer(outputs, dtype=np.uint8).reshape(count, 32)
    best = None
    for position in below:
        value = outputs[32 * position:32 * position + 32]
        if best is None or value < best[1]:
            best = (start + position, value)
    return rows[:, :16].tobytes(), best


def engines_per_device() -> list[ScryptOpenCL]:
    """One self-checked engine per OpenCL device that has a passing configuration (its fastest),
    in the engine's order of preference; raises OpenCLUnavailable when there is none."""
    from smspec.gpu import opencl

    engines: list[ScryptOpenCL] = []
    seen: set[str] = set()
    for device, result in opencl.plan("scrypt"):
        if device.address in seen:
            continue
        try:
            candidate = ScryptOpenCL(device.get(), result["config"])
            candidate.self_check()
        except Exception:  # noqa: BLE001 - a device that fails here is left out, like build() does
            continue
        seen.add(device.address)
        candidate.device_ref = device
        candidate.verdict = result
        engines.append(candidate)
    if not engines:
        raise OpenCLUnavailable("no OpenCL device has a configuration that passes its self-check in this process")
    return engines
