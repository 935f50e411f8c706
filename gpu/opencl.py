"""Which OpenCL device and kernel configuration an engine uses: chosen by self-check and measurement.

An OpenCL driver may miscompile a kernel without any error (pocl 3.0 on an AMD Zen 4 builds the
4-labels-per-item scrypt kernel into wrong labels, or aborts in LLVM), and what a driver reports
about a device (vector widths, its CPU model) says nothing about that. So no engine trusts it:

1. An engine class (``ScryptOpenCL`` in ``gpu/post.py``, ``ScoreOpenCL`` in ``gpu/post_best.py``)
   lists candidate configurations for a device (labels per work item, table layout, work-group
   size).
2. Every candidate is built, checked against known answers (``gpu/known_answers.py``: upstream
   values and the spec's) and timed in a child process (``python -m smspec.gpu.probe``), so a
   compiler abort or a segfault ends the child, never the caller. A candidate that fails to
   build, crashes, hangs or disagrees is never used.
3. The verdicts are cached in ``$SMSPEC_CACHE_DIR``, else ``$XDG_CACHE_HOME/smspec``, else
   ``~/.cache/smspec``, one JSON file per (engine, platform, device, driver version, kernel and
   host source hash, candidate set, measurement parameters). A file whose recorded key differs
   from the one computed now, or that does not parse, is ignored and rewritten.
4. The engine runs the fastest passing configuration: on the fastest passing GPU when one passes,
   else on the fastest passing device of any other kind (two CPU platforms, say PyPI's and
   Debian's pocl, compete on speed). It is built in this process and self-checked again before
   its first use; if that fails, the next passing candidate is tried.

``SMSPEC_OPENCL_DEVICE=platform:device`` restricts the choice to one device; the engines' own
variables (``SMSPEC_OPENCL_LABELS_PER_ITEM`` ...) restrict their candidate sets. A restricted
choice goes through the same checks and is refused loudly when nothing passes.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CACHE_FORMAT = 1
DEFAULT_PROBE_TIMEOUT = 600  # seconds one candidate may take in the child (compile, check, time)

ENGINES = {"scrypt": ("smspec.gpu.post", "ScryptOpenCL"), "score": ("smspec.gpu.post_best", "ScoreOpenCL")}


class OpenCLUnavailable(RuntimeError):
    """No OpenCL device, or none with a configuration that passes its self-check (one line)."""


class SelfCheckFailed(RuntimeError):
    """A configuration computed something other than the known answers."""


def engine_class(kind: str) -> Any:
    module_name, class_name = ENGINES[kind]
    return getattr(importlib.import_module(module_name), class_name)


# ------------------------------------------------------------------------------------------------
# Devices


@dataclass(frozen=True)
class Device:
    """One OpenCL device, addressed by platform and device index, and what identifies it."""

    platform_index: int
    device_index: int
    identity: tuple[tuple[str, str], ...]

    @property
    def address(self) -> str:
        return f"{self.platform_index}:{self.device_index}"

    @property
    def info(self) -> dict[str, str]:
        return dict(self.identity)

    @property
    def is_gpu(self) -> bool:
        return "GPU" in self.info["type"].split("|")

    @property
    def label(self) -> str:
        info = self.info
        return f"{info['device']!r} ({info['platform']} {info['driver']})"

    def get(self) -> Any:
        """The pyopencl device, checked to be the one this object names."""
        import pyopencl as cl

        try:
            device = cl.get_platforms()[self.platform_index].get_devices()[self.device_index]
        except (IndexError, cl.Error):
            raise OpenCLUnavailable(f"OpenCL device {self.address} is gone") from None
        if identity(device) != self.identity:
            raise OpenCLUnavailable(f"OpenCL device {self.address} is no longer {self.label}")
        return device


def identity(device: Any) -> tuple[tuple[str, str], ...]:
    import pyopencl as cl

    kinds = [name for name in ("CPU", "GPU", "ACCELERATOR", "CUSTOM")
             if device.type & getattr(cl.device_type, name)]
    platform = device.platform
    return (("platform", platform.name.strip()), ("platform_version", platform.version.strip()),
            ("vendor", device.vendor.strip()), ("device", device.name.strip()),
            ("driver", device.driver_version.strip()), ("device_version", device.version.strip()),
            ("type", "|".join(kinds) or "OTHER"))


def all_devices() -> list[Device]:
    """Every device of every OpenCL platform pyopencl sees (none when pyopencl is missing)."""
    try:
        import pyopencl as cl

        platforms = cl.get_platforms()
    except Exception:
        return []
    devices = []
    for platform_index, platform in enumerate(platforms):
        try:
            found = platform.get_devices()
        except cl.Error:
            continue
        for device_index, device in enumerate(found):
            devices.append(Device(platform_index, device_index, identity(device)))
    return devices


def devices_to_consider() -> list[Device]:
    """All devices, or the one SMSPEC_OPENCL_DEVICE names."""
    devices = all_devices()
    if not devices:
        raise OpenCLUnavailable("no OpenCL device (install pyopencl with pocl, or a GPU driver); use --backend cpu")
    wanted = os.environ.get("SMSPEC_OPENCL_DEVICE")
    if not wanted:
        return devices
    chosen = [d for d in devices if d.address == wanted.strip()]
    if not chosen:
        raise OpenCLUnavailable(f"SMSPEC_OPENCL_DEVICE={wanted!r} names no device (there are "
                                f"{', '.join(d.address for d in devices)})")
    return chosen


# ------------------------------------------------------------------------------------------------
# The on-disk verdict cache


def cache_dir() -> Path:
    explicit = os.environ.get("SMSPEC_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "smspec"


def source_hash(cls: Any) -> str:
    """SHA-256 over the kernels, the engine's host module and the known answers."""
    from smspec.gpu import kernel_source

    digest = hashlib.sha256()
    for name in cls.KERNELS:
        digest.update(kernel_source(name).encode())
    for module in (sys.modules[cls.__module__], importlib.import_module("smspec.gpu.known_answers"),
                   sys.modules[__name__]):
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()


def cache_key(cls: Any, device: Device, candidates: list[dict[str, Any]], measure: dict[str, Any]) -> dict[str, Any]:
    return {"format": CACHE_FORMAT, "engine": cls.KIND, "device": device.info, "source": source_hash(cls),
            "candidates": candidates, "measure": measure}


def cache_path(key: dict[str, Any]) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]
    return cache_dir() / f"opencl-{key['engine']}-{digest}.json"


def read_cache(key: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The cached results for exactly this key, or None (missing, corrupt or another key)."""
    try:
        data = json.loads(cache_path(key).read_text(encoding="utf-8"))
        results = data["results"]
        if data["key"] != key or not isinstance(results, list) or len(results) != len(key["candidates"]):
            return None
        for result, candidate in zip(results, key["candidates"], strict=True):
            if result["config"] != candidate or not isinstance(result["ok"], bool):
                return None
        return results
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_cache(key: dict[str, Any], results: list[dict[str, Any]]) -> None:
    path = cache_path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=".tmp-", delete=False, encoding="utf-8") as file:
            json.dump({"key": key, "results": results}, file, indent=1, sort_keys=True)
        os.replace(file.name, path)
    except OSError as e:
        print(f"smspec: cannot cache the OpenCL verdict in {path.parent}: {e.strerror or e}", file=sys.stderr)


@contextlib.contextmanager
def cache_lock() -> Iterator[None]:
    """One prober at a time (parallel test workers would otherwise probe twice and time each
    other's load)."""
    import fcntl

    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        handle = open(cache_dir() / "opencl.lock", "a")  # noqa: SIM115 - held for the block
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ------------------------------------------------------------------------------------------------
# Probing in a child process


def _child_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("SMSPEC_BACKEND", None)  # the child imports engines directly, never a patched spec
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _describe_exit(returncode: int, stderr_path: str) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"crashed ({name})"
    try:
        lines = [line.strip() for line in Path(stderr_path).read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        lines = []
    return f"exited with status {returncode}" + (f": {lines[-1][:200]}" if lines else "")


def _run_child(kind: str, device: Device, batch: list[tuple[int, dict[str, Any]]], measure: dict[str, Any],
               results: list[dict[str, Any] | None], timeout: float) -> None:
    """Probe ``batch`` in one child; fill ``results`` for the candidates it finished, and mark the
    one it died or hung on. The caller starts a new child for the rest."""
    request = {"engine": kind, "platform": device.platform_index, "device": device.device_index,
               "identity": device.info, "candidates": batch, "measure": measure}
    with tempfile.NamedTemporaryFile("w", prefix="smspec-probe-", suffix=".err", delete=False) as stderr_file:
        stderr_path = stderr_file.name
        child = subprocess.Popen([sys.executable, "-m", "smspec.gpu.probe"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=stderr_file, env=_child_environment(), text=True)
    try:
        assert child.stdin is not None and child.stdout is not None
        lines: queue.Queue[str | None] = queue.Queue()

        def read(stream: Any) -> None:
            for line in stream:
                lines.put(line)
            lines.put(None)

        reader = threading.Thread(target=read, args=(child.stdout,), daemon=True)
        reader.start()
        try:
            child.stdin.write(json.dumps(request))
            child.stdin.close()
        except OSError:
            pass
        answered = 0
        for index, config in batch:
            started = time.monotonic()
            try:
                line = lines.get(timeout=timeout)
            except queue.Empty:
                child.kill()
                child.wait()
                results[index] = failure(config, f"timed out after {timeout:.0f} s")
                return
            if line is None:
                returncode = child.wait()
                if returncode == 0 and answered:
                    return  # it stops after a failed candidate; a fresh child takes the rest
                results[index] = failure(config, _describe_exit(returncode, stderr_path))
                results[index]["seconds"] = round(time.monotonic() - started, 2)
                return
            try:
                answer = json.loads(line)
                if answer["index"] != index:
                    raise ValueError(answer["index"])
                results[index] = answer["result"]
                answered += 1
            except (ValueError, KeyError, TypeError):
                child.kill()
                child.wait()
                results[index] = failure(config, f"unreadable probe answer {line.strip()[:100]!r}")
                return
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    finally:
        with contextlib.suppress(OSError):
            os.unlink(stderr_path)


def failure(config: dict[str, Any], reason: str) -> dict[str, Any]:
    return {"config": config, "ok": False, "reason": reason, "rate": None, "cpu_rate": None}


def probe(kind: str, device: Device, candidates: list[dict[str, Any]], measure: dict[str, Any]) -> list[dict[str, Any]]:
    """Build, self-check and time every candidate in child processes."""
    timeout = float(os.environ.get("SMSPEC_OPENCL_PROBE_TIMEOUT", DEFAULT_PROBE_TIMEOUT))
    results: list[dict[str, Any] | None] = [None] * len(candidates)
    while True:
        pending = [(i, c) for i, c in enumerate(candidates) if results[i] is None]
        if not pending:
            return [r for r in results if r is not None]
        _run_child(kind, device, pending, measure, results, timeout)


def try_candidate(cls: Any, device: Any, config: dict[str, Any], measure: dict[str, Any] | None) -> dict[str, Any]:
    """Build, self-check and (with ``measure``) time one configuration, in this process."""
    started = time.monotonic()
    try:
        engine = cls(device, config)
    except Exception as e:  # a driver's build error comes in many classes
        return {**failure(config, f"does not build: {build_error(e)}"), "seconds": round(time.monotonic() - started, 2)}
    try:
        engine.self_check()
        timing = engine.measure(measure) if measure is not None else {"rate": None, "cpu_rate": None}
    except SelfCheckFailed as e:
        return {**failure(config, str(e)), "seconds": round(time.monotonic() - started, 2)}
    except Exception as e:
        return {**failure(config, f"fails: {one_line(e)}"), "seconds": round(time.monotonic() - started, 2)}
    return {"config": config, "ok": True, "reason": None, **timing, "seconds": round(time.monotonic() - started, 2)}


def best_rate(run: Any, labels: int, parameters: dict[str, Any], is_cpu: bool) -> dict[str, Any]:
    """The best wall-clock and CPU-time rates of up to ``parameters["repeats"]`` calls of
    ``run(repeat)``, each handling ``labels`` labels; no new call after ``parameters["seconds"]``."""
    rate = cpu_rate = 0.0
    started = time.perf_counter()
    for repeat in range(parameters["repeats"]):
        wall, cpu = time.perf_counter(), time.process_time()
        run(repeat)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rate = max(rate, labels / wall)
        cpu_rate = max(cpu_rate, labels / cpu) if cpu > 0 else cpu_rate
        if time.perf_counter() - started >= parameters["seconds"]:
            break
    return {"rate": round(rate, 1), "cpu_rate": round(cpu_rate, 1) if is_cpu and cpu_rate else None}


def build_error(error: BaseException) -> str:
    """A build failure in one line: the OpenCL error, then the compiler's first error message."""
    text = str(error)
    head = text.split("\n")[0].split(" - ")[0].strip()
    for line in text.splitlines():
        if "error:" in line:
            detail = re.sub(r"^\S+\.cl:\d+:\d+:\s*", "", line.split("error:", 1)[1].strip())
            return f"{head}: {detail}"[:200]
    return head[:200] or one_line(error)


def one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:200]


# ------------------------------------------------------------------------------------------------
# Verdicts and the choice


_VERDICTS: dict[str, list[dict[str, Any]]] = {}
_PLANS: dict[str, list[tuple[Device, dict[str, Any]]]] = {}
_LOCK = threading.RLock()


def reset() -> None:
    """Forget this process's verdicts and choices (tests; the disk cache stays)."""
    with _LOCK:
        _VERDICTS.clear()
        _PLANS.clear()


def verdicts(kind: str, device: Device, fresh: bool = False) -> list[dict[str, Any]]:
    """One result per candidate of ``kind`` on ``device``: from the cache, else probed now."""
    cls = engine_class(kind)
    cl_device = device.get()
    candidates = cls.candidates(cl_device)
    key = cache_key(cls, device, candidates, cls.measure_parameters(cl_device))
    memo = json.dumps(key, sort_keys=True)
    with _LOCK:
        if not fresh and memo in _VERDICTS:
            return _VERDICTS[memo]
        results = None if fresh else read_cache(key)
        if results is None:
            with cache_lock():
                results = None if fresh else read_cache(key)  # another process may have probed meanwhile
                if results is None:
                    if sys.stderr.isatty():  # a progress note for people, not part of any output
                            print(f"smspec: testing {len(candidates)} OpenCL configurations of the {cls.TITLE} "
                              f"kernel on {device.label} (once; cached in {cache_dir()})", file=sys.stderr)
                    results = probe(kind, device, candidates, key["measure"])
                    write_cache(key, results)
        _VERDICTS[memo] = results
        return results


def speed(result: dict[str, Any]) -> float:
    """What candidates are ranked by: labels per CPU-second where the device is the CPU (a loaded
    or shared machine skews wall-clock rates; the CPU time of the process counts every pocl
    thread), else labels per second of wall-clock time."""
    return float(result["cpu_rate"] or result["rate"] or 0.0)


def best_first(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted((r for r in results if r["ok"]), key=lambda r: -speed(r))


def plan(kind: str) -> list[tuple[Device, dict[str, Any]]]:
    """Passing (device, result) pairs in the order the engine tries them; raises
    OpenCLUnavailable (naming the devices) when there is none."""
    with _LOCK:
        if kind in _PLANS:
            return _PLANS[kind]
        cls = engine_class(kind)
        devices = devices_to_consider()
        refused: list[str] = []
        for group in ([d for d in devices if d.is_gpu], [d for d in devices if not d.is_gpu]):
            passing: list[tuple[Device, dict[str, Any]]] = []
            for device in group:
                results = verdicts(kind, device)
                good = best_first(results)
                passing += [(device, r) for r in good]
                if not good:
                    first = results[0] if results else None
                    reason = f"; {cls.describe(first['config'])}: {first['reason']}" if first else ""
                    refused.append(f"{device.label}: none of {len(results)} configurations passes{reason}")
            if passing:
                passing.sort(key=lambda pair: -speed(pair[1]))
                _PLANS[kind] = passing
                return passing
        restriction = cls.restriction()
        raise OpenCLUnavailable(
            f"no OpenCL configuration of the {cls.TITLE} kernel passes its self-check"
            + (f" (restricted by {restriction})" if restriction else "")
            + f": {'; '.join(refused)}; use --backend cpu (details: smspec post devices)")


def all_passing(kind: str) -> list[tuple[Device, dict[str, Any]]]:
    """Every passing (device, result) pair of ``kind`` on every device considered, the engine's
    choice first (the differential tests run each of them)."""
    chosen = plan(kind)
    others = [(device, result) for device in devices_to_consider() for result in best_first(verdicts(kind, device))
              if (device, result) not in chosen]
    return chosen + others


def build(kind: str) -> Any:
    """The engine of ``kind`` on its chosen device and configuration, self-checked in this process."""
    cls = engine_class(kind)
    problems = []
    for device, result in plan(kind):
        config = result["config"]
        try:
            engine = cls(device.get(), config)
            engine.self_check()
        except Exception as e:
            problem = f"{device.label} {cls.describe(config)} passed in the probe but fails here: {one_line(e)}"
            print(f"smspec: warning: {problem}; trying the next configuration", file=sys.stderr)
            problems.append(problem)
            continue
        engine.device_ref = device
        engine.verdict = result
        return engine
    raise OpenCLUnavailable(f"no OpenCL configuration of the {cls.TITLE} kernel passes its self-check in this "
                            f"process ({'; '.join(problems)}); use --backend cpu")
