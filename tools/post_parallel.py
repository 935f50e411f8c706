"""``post init`` split by label range over several OpenCL devices or a Dask cluster.

Both split the data files into contiguous ranges, initialize each range into its own range
directory (``smspec.tools.post_data.init_range``: the same checks, checkpoints and resume as
``post init --from N --to M``), then join them with ``post_data.merge_ranges``, which checks
every range before and the result after, into a directory byte-identical to one run. A rerun
with the same arguments resumes each range from its checkpoint.

* ``--devices all``: one range per OpenCL device with a passing configuration, each in a thread
  with its own self-checked engine.
* ``--cluster ADDRESS``: one range per task on a Dask cluster (``dask.distributed``, the optional
  extra ``smspec[distributed]``): ``local:N`` starts a local cluster of N worker processes, any
  other value is a scheduler address (``tcp://host:8786``). Workers write their range
  directories under the work directory, which must therefore be on storage every worker and
  this machine share (NFS, a cluster file system); the merge then reads them from here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from smspec.tools import post_data
from smspec.tools.cli import CliError


def split_ranges(post: Any, params: post_data.InitParams, parts: int) -> list[tuple[int, int]]:
    """The data files cut into at most ``parts`` contiguous label ranges of nearly equal size."""
    boundaries = post_data.file_boundaries(post, params)
    files = len(boundaries) - 1
    parts = max(1, min(parts, files))
    cuts = [boundaries[files * k // parts] for k in range(parts + 1)]
    return [(cuts[k], cuts[k + 1]) for k in range(parts)]


def range_dir(work: str, first: int, end: int) -> str:
    return os.path.join(work, f"labels-{first}-{end}")


def run_devices(post: Any, params: post_data.InitParams, datadir: str, work: str, batch: int,
                progress: Callable[[int], object] | None = None, say: Callable[[str], object] = print) -> Any:
    """One range per passing OpenCL device, in threads; then the checked merge into ``datadir``."""
    from smspec.gpu import post as gpu
    from smspec.gpu.opencl import OpenCLUnavailable

    try:
        engines = gpu.engines_per_device()
    except OpenCLUnavailable as e:
        raise CliError(str(e)) from None
    ranges = split_ranges(post, params, len(engines))
    lock = threading.Lock()
    errors: list[BaseException] = []

    def counted(count: int) -> None:
        if progress is not None:
            with lock:
                progress(count)

    def work_on(engine: Any, first: int, end: int) -> None:
        def compute(*args: Any) -> Any:
            return gpu.initialize_range_on(engine, *args)

        try:
            post_data.init_range(post, range_dir(work, first, end), params, first, end, batch, compute, counted)
        except BaseException as e:  # noqa: BLE001 - reported after every thread has stopped
            errors.append(e)

    threads = []
    for engine, (first, end) in zip(engines, ranges):
        say(f"labels {first} .. {end - 1} on {engine.name}")
        threads.append(threading.Thread(target=work_on, args=(engine, first, end), name=f"init-{first}"))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        error = errors[0]
        raise error if isinstance(error, CliError) else CliError(f"a device range failed: {error}")
    return post_data.merge_ranges(post, [range_dir(work, first, end) for first, end in ranges], datadir,
                                  link="auto", say=say)


def range_task(preset: str, backend: str, params_json: str, datadir: str, first: int, end: int, batch: int) -> str:
    """One Dask task: initialize a range directory on this worker; returns its range record."""
    import json

    from smspec import spec
    from smspec.impl import registry

    registry.use_backend(backend)
    post = spec.load("post", preset)
    fields = json.loads(params_json)
    params = post_data.InitParams(bytes.fromhex(fields["node_id"]), bytes.fromhex(fields["commitment_atx_id"]),
                                  fields["labels_per_unit"], fields["num_units"], fields["max_file_size"],
                                  fields["scrypt_n"])
    return post_data.init_range(post, datadir, params, first, end, batch).to_json()


def check_address(address: str) -> None:
    """Refuse a malformed ``--cluster`` value, or a missing Dask, before anything is created."""
    if address.startswith("local:"):
        workers = address[len("local:"):]
        if not workers.isdigit() or not 1 <= int(workers) <= 256:
            raise CliError(f"--cluster local:N takes N from 1 to 256 workers, got {address!r}")
    elif "://" not in address or len(address) > 1000:
        raise CliError(f"--cluster takes local:N or a Dask scheduler address such as tcp://host:8786, got {address!r}")
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise CliError("--cluster needs Dask's distributed scheduler: pip install 'smspec[distributed]'") from None


def client_for(address: str) -> Any:
    """A Dask client: a new local cluster for ``local:N``, else the scheduler at ``address``."""
    check_address(address)
    from distributed import Client, LocalCluster

    if address.startswith("local:"):
        workers = address[len("local:"):]
        cluster = LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        return Client(cluster)
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as e:
        raise CliError(f"cannot reach the Dask scheduler at {address}: {e}") from None


def run_cluster(post: Any, preset: str, backend: str, params: post_data.InitParams, datadir: str, work: str,
                batch: int, address: str, parts: int | None = None, say: Callable[[str], object] = print) -> Any:
    """One range per task on a Dask cluster; then the checked merge into ``datadir``."""
    client = client_for(address)
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        ranges = split_ranges(post, params, parts or workers)
        say(f"{len(ranges)} ranges on {workers} Dask workers ({address})")
        futures = [client.submit(range_task, preset, backend, params.to_json(), os.path.abspath(range_dir(work, first, end)),
                                 first, end, batch, pure=False, key=f"smspec-range-{first}-{end}-{os.getpid()}")
                   for first, end in ranges]
        try:
            client.gather(futures)
        except CliError:
            raise
        except Exception as e:  # a task's exception, re-raised by Dask on this side
            raise CliError(f"a range task failed on the cluster: {e}") from None
    finally:
        cluster = getattr(client, "cluster", None)
        client.close()
        if cluster is not None:
            cluster.close()
    return post_data.merge_ranges(post, [range_dir(work, first, end) for first, end in ranges], datadir,
                                  link="auto", say=say)
