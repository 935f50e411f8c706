"""Keeping PoST data safe: what ``smspec post init`` checks before it writes, and ``post verify-data``.

A data directory (spec/post.md, "Data layout") can be terabytes of labels and days of GPU
time, so the initializer treats everything it reads as untrusted and follows four rules:

1. **Check everything before changing anything.** The arguments, ``postdata_metadata.json``,
   the parameter record ``.smspec-params.json``, the checkpoint ``.smspec-init.json`` and the
   sizes of the data files are all checked against each other first; a disagreement is refused
   with one line and nothing is written, truncated or removed.
2. **Re-derive what can be re-derived.** The last label before the checkpoint, the checkpoint's
   VRF-nonce candidate, and for a finished directory its first and last labels and the
   metadata's VRF nonce are recomputed and compared with what is stored.
3. **The only destructive step is small and explained by a kill.** A run writes a batch of
   labels, then the checkpoint; a kill in between leaves at most one batch (the checkpoint
   records its size) past the checkpoint in the one file being written. Resuming truncates
   exactly that tail, and nothing else. No file is ever removed: data files without a
   checkpoint are refused, not recomputed.
4. **Every parameter that shapes the data is recorded and stays.** scrypt N is not part of
   post-rs's metadata (it is a network constant there), so ``.smspec-params.json`` records all
   of them (node id, commitment ATX, labels per unit, units, file size, scrypt N) and is kept
   after initialization; a rerun with any other value is refused. A directory made by post-rs
   or go-post has no record: its labels and nonce are checked under the requested scrypt N.

*Decision* (a separate record rather than an extra key in ``postdata_metadata.json``): both
readers tolerate unknown keys (post-rs's ``PostMetadata`` derives serde's ``Deserialize``
without ``deny_unknown_fields``, spacemeshos/post-rs@a2d155a2:src/metadata.rs; go-post reads
it with ``encoding/json``, spacemeshos/post@d483b39c:initialization/metadata.go, which is how
go-spacemesh reads it, spacemeshos/go-spacemesh@cc65f271:activation/post.go), but go-post's
initializer rewrites the metadata from its own struct every time it starts
(spacemeshos/post@d483b39c:initialization/initialization.go, ``NewInitializer`` ->
``saveMetadata``), which would silently drop the key, and the metadata would no longer be
byte-identical to what post-rs writes. go-post skips files it does not recognise
(``removeRedundantFiles``), so the record survives there.
"""

from __future__ import annotations

import bisect
import contextlib
import errno
import json
import os
import random
import re
import shutil
from collections.abc import Callable, Iterator
from typing import Any, TypeGuard

import attrs
from smspec.tools.cli import MAX_JSON_DEPTH, CliError, json_depth, load_json, read_input

STATE_FILE = ".smspec-init.json"
PARAMS_FILE = ".smspec-params.json"
PARAMS_FORMAT = "smspec-post-params/1"  # labels of spec/post.md: scrypt-jane r = p = 1, 16 stored bytes
LABEL_SIZE = 16

# Bounds on what one data directory may be asked to hold (never sized on trust).
MAX_BATCH = 1 << 20  # labels per write (16 MiB)
MAX_SCRYPT_N = 1 << 20  # 128 MiB of scrypt memory per label
MAX_DATA_BYTES = 1 << 50  # 1 PiB
MAX_DATA_FILES = 1 << 20
SPACE_MARGIN = 1 << 20  # room for the metadata, checkpoint and parameter record
MAX_RECORD_BYTES = 1 << 16

PARAMETERS = ("node_id", "commitment_atx_id", "labels_per_unit", "num_units", "max_file_size")
DATA_FILE = re.compile(r"postdata_(0|[1-9][0-9]{0,18})\.bin")


def human_size(size: int) -> str:
    """``size`` bytes in binary units (``1.5 GiB``)."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


@attrs.frozen
class InitParams:
    """Everything that shapes the bytes of a data directory."""

    node_id: bytes
    commitment_atx_id: bytes
    labels_per_unit: int
    num_units: int
    max_file_size: int
    scrypt_n: int

    def metadata(self, post: Any) -> Any:
        return post.PostMetadata(self.node_id, self.commitment_atx_id, self.labels_per_unit, self.num_units,
                                 self.max_file_size)

    @property
    def num_labels(self) -> int:
        return self.num_units * self.labels_per_unit

    def to_json(self) -> str:
        return json.dumps({
            "format": PARAMS_FORMAT,
            "node_id": self.node_id.hex(),
            "commitment_atx_id": self.commitment_atx_id.hex(),
            "labels_per_unit": self.labels_per_unit,
            "num_units": self.num_units,
            "max_file_size": self.max_file_size,
            "scrypt_n": self.scrypt_n,
        }, indent=2) + "\n"


@attrs.frozen
class Checkpoint:
    """``.smspec-init.json``: labels written and synced, the best VRF-nonce candidate among them,
    and the batch size of the run that wrote it (the most that can lie past it after a kill)."""

    scrypt_n: int
    labels_done: int
    best: tuple[int, bytes] | None
    batch: int

    def to_json(self) -> str:
        return json.dumps({"scrypt_n": self.scrypt_n, "labels_done": self.labels_done, "batch": self.batch,
                           "best": None if self.best is None else [self.best[0], self.best[1].hex()]})


@attrs.frozen
class Plan:
    """What ``post init`` will do: ``fresh`` start, ``resume`` from a checked checkpoint, or ``done``."""

    kind: str
    checkpoint: Checkpoint | None = None
    nonce: int | None = None


def check_parameters(post: Any, params: InitParams) -> None:
    """Refuse parameters no data directory should have, before anything is sized on them."""
    if params.max_file_size < LABEL_SIZE or params.max_file_size % LABEL_SIZE:
        raise CliError(f"the file size must be a positive multiple of 16 bytes, got {params.max_file_size}")
    if params.scrypt_n < 2 or params.scrypt_n & (params.scrypt_n - 1) or params.scrypt_n > MAX_SCRYPT_N:
        raise CliError(f"scrypt N must be a power of two in 2..{MAX_SCRYPT_N}, got {params.scrypt_n}")
    if not 1 <= params.num_units <= post.MAX_U32:
        raise CliError(f"the number of units must be in 1..{post.MAX_U32}, got {params.num_units}")
    if not 1 <= params.labels_per_unit <= post.MAX_U64:
        raise CliError(f"labels per unit must be in 1..{post.MAX_U64}, got {params.labels_per_unit}")
    total = LABEL_SIZE * params.num_labels
    if total > MAX_DATA_BYTES:
        raise CliError(f"{params.num_units} units of {params.labels_per_unit} labels are {human_size(total)}, "
                       f"more than the {human_size(MAX_DATA_BYTES)} one data directory may hold")
    files = -(-total // params.max_file_size)
    if files > MAX_DATA_FILES:
        raise CliError(f"{human_size(total)} in files of {params.max_file_size} bytes would be {files} files, "
                       f"more than {MAX_DATA_FILES}: use a larger file size")


def check_free_space(datadir: str, needed: int) -> None:
    """Refuse up front when ``needed`` more bytes cannot fit on the file system of ``datadir``."""
    probe = os.path.abspath(datadir)
    while not os.path.exists(probe) and os.path.dirname(probe) != probe:
        probe = os.path.dirname(probe)
    try:
        free = shutil.disk_usage(probe).free
    except OSError as e:
        raise CliError(f"cannot read the free space of {probe}: {e.strerror or e}") from None
    if needed + SPACE_MARGIN > free:
        raise CliError(f"{datadir} needs {human_size(needed)} more for its labels but only {human_size(free)} "
                       "is free there: free some space, use another disk or fewer units")


@contextlib.contextmanager
def locked(datadir: str) -> Iterator[None]:
    """Hold an exclusive lock on ``datadir`` so that two initializers never write it at once."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    try:
        fd = os.open(datadir, os.O_RDONLY)
    except OSError as e:
        raise CliError(f"cannot open {datadir}: {e.strerror or e}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise CliError(f"{datadir} is being written by another `smspec post init`; "
                           "wait for it to finish") from None
        yield
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------------------
# records


def _load_record(path: str, what: str, advice: str) -> Any:
    try:
        return load_json(read_input(path, what, MAX_RECORD_BYTES), what)
    except CliError as e:
        raise CliError(f"{e}; {advice}") from None


def _bytes32(value: Any) -> bytes | None:
    if not isinstance(value, str) or len(value) != 64:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def read_params(datadir: str) -> InitParams | None:
    """The parameter record of ``datadir`` (None when there is none); refuses a corrupt one."""
    path = os.path.join(datadir, PARAMS_FILE)
    if not os.path.lexists(path):
        return None
    advice = (f"it records the parameters of the data in {datadir}: restore it, or move the data away "
              "and start over; nothing was changed")
    fields = _load_record(path, f"the parameter record {path}", advice)

    def corrupt(why: str) -> CliError:
        return CliError(f"{path} is corrupt ({why}); {advice}")

    if not isinstance(fields, dict):
        raise corrupt("not a JSON object")
    if fields.get("format") != PARAMS_FORMAT:
        raise corrupt(f"format is {fields.get('format')!r}, not {PARAMS_FORMAT!r}")
    values: dict[str, Any] = {}
    for name in ("node_id", "commitment_atx_id"):
        values[name] = _bytes32(fields.get(name))
        if values[name] is None:
            raise corrupt(f"{name} must be 64 hex digits")
    for name, high in (("labels_per_unit", 2**64 - 1), ("num_units", 2**32 - 1), ("max_file_size", 2**64 - 1),
                       ("scrypt_n", MAX_SCRYPT_N)):
        values[name] = fields.get(name)
        if not _is_int(values[name]) or not 1 <= values[name] <= high:
            raise corrupt(f"{name} must be an integer in 1..{high}")
    return InitParams(**values)


def read_checkpoint(datadir: str) -> Checkpoint | None:
    """The checkpoint of ``datadir`` (None when there is none), checked for form only:
    :func:`plan_init` checks it against the metadata and the data."""
    path = os.path.join(datadir, STATE_FILE)
    if not os.path.lexists(path):
        return None
    advice = refusal(datadir)
    fields = _load_record(path, f"the checkpoint {path}", advice)

    def corrupt(why: str) -> CliError:
        return CliError(f"{path} is corrupt ({why}); {advice}")

    if not isinstance(fields, dict):
        raise corrupt("not a JSON object")
    scrypt_n, labels_done = fields.get("scrypt_n"), fields.get("labels_done")
    batch = fields.get("batch", MAX_BATCH)  # checkpoints of earlier versions did not record it
    if not _is_int(scrypt_n) or not 2 <= scrypt_n <= MAX_SCRYPT_N:
        raise corrupt(f"scrypt_n must be an integer in 2..{MAX_SCRYPT_N}, got {scrypt_n!r}")
    if not _is_int(labels_done) or labels_done < 0:
        raise corrupt(f"labels_done must be a non-negative integer, got {labels_done!r}")
    if not _is_int(batch) or not 1 <= batch <= MAX_BATCH:
        raise corrupt(f"batch must be an integer in 1..{MAX_BATCH}, got {batch!r}")
    best = fields.get("best", 0)
    if best is not None:
        if not (isinstance(best, list) and len(best) == 2 and _is_int(best[0]) and best[0] >= 0
                and _bytes32(best[1]) is not None):
            raise corrupt("best must be null or [index, 64 hex digits]")
        best = (best[0], _bytes32(best[1]))
    return Checkpoint(scrypt_n, labels_done, best, batch)


def refusal(datadir: str) -> str:
    """What to do about a checkpoint that disagrees with the data (the tail of the error)."""
    return (f"nothing was changed: check the labels with `smspec post verify-data {datadir}`, "
            "or move the data files away to start over")


def write_atomic(path: str, text: str) -> None:
    """Replace ``path`` by ``text`` all at once (a kill leaves the old or the new content)."""
    temporary = path + ".tmp"
    try:
        with open(temporary, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where the OS allows it
        fd = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_checkpoint(datadir: str, checkpoint: Checkpoint) -> None:
    write_atomic(os.path.join(datadir, STATE_FILE), checkpoint.to_json())


def append_labels(path: str, labels: bytes) -> None:
    """Append one batch of labels to a data file and sync it (before the checkpoint moves on)."""
    with open(path, "ab") as file:
        file.write(labels)
        file.flush()
        os.fsync(file.fileno())


def write_error(error: OSError, path: str, labels_done: int, num_labels: int) -> CliError:
    """The one line for a failed write: how much is safe, and that a rerun resumes."""
    full = error.errno in (errno.ENOSPC, errno.EDQUOT)
    reason = "no space left on the device" if full else (error.strerror or str(error))
    return CliError(f"cannot write {path}: {reason}; {labels_done} of {num_labels} labels "
                    f"({human_size(LABEL_SIZE * labels_done)}) are written and checkpointed: "
                    f"{'free some space and ' if full else ''}rerun the same command to resume")


# --------------------------------------------------------------------------------------------
# the data files


def data_files(datadir: str) -> dict[int, int]:
    """``{file index: size}`` of the ``postdata_<k>.bin`` files in ``datadir``."""
    found = {}
    try:
        names = os.listdir(datadir)
    except OSError as e:
        raise CliError(f"cannot list {datadir}: {e.strerror or e}") from None
    for name in names:
        match = DATA_FILE.fullmatch(name)
        if match is None:
            continue
        path = os.path.join(datadir, name)
        if not os.path.isfile(path):
            raise CliError(f"{path} is not a regular file; nothing was changed")
        found[int(match.group(1))] = os.path.getsize(path)
    return found


def read_stored(datadir: str, per_file: int, index: int) -> bytes | None:
    """Stored label ``index`` (None when its file is missing or too short)."""
    path = os.path.join(datadir, f"postdata_{index // per_file}.bin")
    try:
        with open(path, "rb") as file:
            file.seek(LABEL_SIZE * (index % per_file))
            label = file.read(LABEL_SIZE)
    except OSError:
        return None
    return label if len(label) == LABEL_SIZE else None


def derive(post: Any, commitment: bytes, indices: list[int], scrypt_n: int,
           progress: Callable[[int], object] | None = None) -> list[bytes]:
    """The 32-byte outputs of labels at arbitrary ``indices`` with the active backend (the numpy
    backend computes them side by side, one lane each)."""
    from smspec.impl.registry import active_backend

    outputs: list[bytes] = []
    if active_backend() == "impl":
        from smspec.impl.post import lanes_for, scrypt_lanes

        step = lanes_for(scrypt_n)
        for first in range(0, len(indices), step):
            chunk = indices[first:first + step]
            outputs.extend(scrypt_lanes([post.label_password(commitment, i) for i in chunk], scrypt_n, 32))
            if progress:
                progress(len(chunk))
        return outputs
    for index in indices:
        outputs.append(post.compute_labels(commitment, index, 1, scrypt_n))
        if progress:
            progress(1)
    return outputs


# --------------------------------------------------------------------------------------------
# post init


MAX_METADATA_BYTES = 1 << 20


def read_metadata(post: Any, datadir: str) -> Any:
    """The metadata of data directory `datadir`, or a one-line error: the file is read with a size
    limit and checked as UTF-8 JSON of bounded depth before the spec's parser sees it."""
    if not os.path.isdir(datadir):
        raise CliError(f"{datadir}: not a directory")
    path = os.path.join(datadir, post.METADATA_FILE_NAME)
    if not os.path.exists(path):
        raise CliError(f"{datadir}: {path} does not exist (not a PoST data directory)")
    try:
        text = read_input(path, "the metadata file", MAX_METADATA_BYTES).decode("utf-8")
    except UnicodeDecodeError:
        raise CliError(f"{path}: not UTF-8 text") from None
    if json_depth(text) > MAX_JSON_DEPTH:
        raise CliError(f"{path}: JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return post.metadata_from_json(text)
    except post.SpecError as e:
        raise CliError(f"{datadir}: {e}") from None


def plan_init(post: Any, datadir: str, params: InitParams) -> Plan:
    """Check ``datadir`` against ``params`` and decide what ``post init`` does; reads only."""
    wanted = params.metadata(post)
    num_labels = params.num_labels
    meta_path = os.path.join(datadir, post.METADATA_FILE_NAME)
    existing = None
    if os.path.lexists(meta_path):
        existing = read_metadata(post, datadir)
        different = [name for name in PARAMETERS if getattr(existing, name) != getattr(wanted, name)]
        if different:
            raise CliError(f"{datadir} was initialized with other parameters ({', '.join(different)} differ); "
                           "use another directory")
    recorded = read_params(datadir)
    if recorded is not None:
        different = [name for name in PARAMETERS if getattr(recorded, name) != getattr(params, name)]
        if different:
            raise CliError(f"{datadir} was initialized with other parameters ({', '.join(different)} differ, "
                           f"recorded in {PARAMS_FILE}); use another directory")
        if recorded.scrypt_n != params.scrypt_n:
            raise CliError(f"{datadir} was initialized with scrypt N = {recorded.scrypt_n}, not {params.scrypt_n}; "
                           "use another directory")
    checkpoint = read_checkpoint(datadir)
    files = data_files(datadir)
    if checkpoint is None:
        if existing is not None and existing.nonce is not None:
            check_complete(post, datadir, params, existing, files)
            return Plan("done", nonce=existing.nonce)
        holding = sorted(index for index, size in files.items() if size > 0)
        if holding:
            raise CliError(f"{datadir} holds {len(holding)} data files (postdata_{holding[0]}.bin, ...) "
                           f"but no checkpoint ({STATE_FILE}), so how much of them is valid is unknown and "
                           "they are not overwritten: move them away or use another directory")
        return Plan("fresh")

    state_path = os.path.join(datadir, STATE_FILE)
    advice = refusal(datadir)
    if existing is None:
        raise CliError(f"{state_path} exists but {post.METADATA_FILE_NAME} does not; {advice}")
    if recorded is not None and checkpoint.scrypt_n != recorded.scrypt_n:
        raise CliError(f"{state_path} says scrypt N = {checkpoint.scrypt_n} but {PARAMS_FILE} records "
                       f"{recorded.scrypt_n}; {advice}")
    if checkpoint.scrypt_n != params.scrypt_n:
        raise CliError(f"{datadir} was initialized with scrypt N = {checkpoint.scrypt_n}, not {params.scrypt_n}; "
                       "use another directory")
    labels_done = checkpoint.labels_done
    if labels_done > num_labels:
        raise CliError(f"{state_path} says {labels_done} labels are done, more than the {num_labels} of the data "
                       f"set; {advice}")
    _check_files_against(post, datadir, wanted, checkpoint, files, advice)

    # the data before the checkpoint and the VRF-nonce candidate must be these parameters' labels
    commitment = post.compute_commitment(params.node_id, params.commitment_atx_id)
    per_file = post.labels_per_file(params.max_file_size)
    indices = [labels_done - 1] if labels_done else []
    best = checkpoint.best
    if best is not None:
        if best[0] >= labels_done:
            raise CliError(f"{state_path}: its VRF-nonce candidate {best[0]} lies beyond the {labels_done} labels "
                           f"done; {advice}")
        if best[1] >= post.vrf_difficulty(num_labels):
            raise CliError(f"{state_path}: its VRF-nonce candidate {best[0]} is not below the threshold; {advice}")
        indices.append(best[0])
    outputs = derive(post, commitment, indices, params.scrypt_n)
    if labels_done and read_stored(datadir, per_file, labels_done - 1) != post.stored_label(outputs[0]):
        raise CliError(f"label {labels_done - 1}, the last before the checkpoint, is not the label of these "
                       f"parameters (scrypt N = {params.scrypt_n}); {advice}")
    if best is not None and (outputs[-1] != best[1]
                             or read_stored(datadir, per_file, best[0]) != post.stored_label(best[1])):
        raise CliError(f"{state_path}: its VRF-nonce candidate {best[0]} does not match the recomputed label; "
                       f"{advice}")
    # killed after the metadata got its nonce: it is the checkpoint's candidate, or one found past
    # the data when there was none (that search is repeated and finds it again)
    searched = best is None and labels_done == num_labels and existing.nonce >= num_labels
    if existing.nonce is not None and not searched and (best is None or existing.nonce != best[0]):
        raise CliError(f"{meta_path} has VRF nonce {existing.nonce} but the checkpoint has "
                       f"{None if best is None else best[0]}; {advice}")
    return Plan("resume", checkpoint=checkpoint)


def _check_files_against(post: Any, datadir: str, metadata: Any, checkpoint: Checkpoint, files: dict[int, int],
                         advice: str) -> None:
    """Every file holds exactly the labels the checkpoint counts, plus at most one unsaved batch
    in the file being written (what a kill between the data write and the checkpoint leaves)."""
    labels_done = checkpoint.labels_done
    per_file = post.labels_per_file(metadata.max_file_size)
    count = post.num_files(metadata)
    current = labels_done // per_file
    for index in sorted(set(files) | set(range(min(count, -(-labels_done // per_file))))):
        if index >= count:
            continue  # not part of this data set: never touched
        first, end = post.file_label_range(metadata, index)
        keep = min(max(labels_done - first, 0), end - first)
        path = os.path.join(datadir, post.data_file_name(index))
        if index not in files:
            raise CliError(f"{path} is missing but the checkpoint counts {keep} labels in it; {advice}")
        size = files[index]
        if size < LABEL_SIZE * keep:
            raise CliError(f"{path} holds {size // LABEL_SIZE} labels but the checkpoint counts {keep}; {advice}")
        allowed = LABEL_SIZE * keep + (LABEL_SIZE * checkpoint.batch if index == current else 0)
        if size > min(allowed, LABEL_SIZE * (end - first)):
            raise CliError(f"{path} holds {size} bytes, more than the checkpoint ({labels_done} labels done) "
                           f"explains; {advice}")


def resume(post: Any, datadir: str, params: InitParams, checkpoint: Checkpoint) -> None:
    """Record the parameters if a directory of an earlier version has no record (its labels were
    checked under them), then truncate the unsaved tail (at most one batch, checked by
    :func:`plan_init`) of the file being written: the only bytes ``post init`` ever discards."""
    if read_params(datadir) is None:
        write_atomic(os.path.join(datadir, PARAMS_FILE), params.to_json())
    per_file = post.labels_per_file(params.max_file_size)
    index = checkpoint.labels_done // per_file
    path = os.path.join(datadir, post.data_file_name(index))
    keep = LABEL_SIZE * (checkpoint.labels_done - index * per_file)
    if os.path.exists(path) and os.path.getsize(path) > keep:
        with open(path, "r+b") as file:
            file.truncate(keep)
            file.flush()
            os.fsync(file.fileno())


def start_fresh(post: Any, datadir: str, params: InitParams, batch: int) -> Checkpoint:
    """Write the parameter record, the metadata (no nonce yet) and an empty checkpoint."""
    write_atomic(os.path.join(datadir, PARAMS_FILE), params.to_json())
    write_atomic(os.path.join(datadir, post.METADATA_FILE_NAME), post.metadata_to_json(params.metadata(post)))
    checkpoint = Checkpoint(params.scrypt_n, 0, None, batch)
    write_checkpoint(datadir, checkpoint)
    return checkpoint


def check_complete(post: Any, datadir: str, params: InitParams, metadata: Any, files: dict[int, int]) -> None:
    """A finished directory: every file has its exact size, and its first and last labels and its
    VRF nonce are those of ``params`` (this is what catches another scrypt N without a record)."""
    hint = f"check it with `smspec post verify-data {datadir}`"
    for index in range(post.num_files(metadata)):
        first, end = post.file_label_range(metadata, index)
        path = os.path.join(datadir, post.data_file_name(index))
        if index not in files:
            raise CliError(f"{datadir} is initialized but {path} is missing; {hint}")
        if files[index] != LABEL_SIZE * (end - first):
            raise CliError(f"{datadir} is initialized but {path} has {files[index]} bytes, not "
                           f"{LABEL_SIZE * (end - first)}; {hint}")
    commitment = post.compute_commitment(params.node_id, params.commitment_atx_id)
    per_file = post.labels_per_file(params.max_file_size)
    last = params.num_labels - 1
    first_output, last_output, nonce_output = derive(post, commitment, [0, last, metadata.nonce], params.scrypt_n)
    for index, output in ((0, first_output), (last, last_output)):
        if read_stored(datadir, per_file, index) != post.stored_label(output):
            raise CliError(f"{datadir}: label {index} is not the label of these parameters (scrypt N = "
                           f"{params.scrypt_n}): the directory was made with other parameters or is damaged; {hint}")
    if nonce_output >= post.vrf_difficulty(params.num_labels) or (
            metadata.nonce < params.num_labels
            and read_stored(datadir, per_file, metadata.nonce) != post.stored_label(nonce_output)):
        raise CliError(f"{datadir}: the metadata's VRF nonce {metadata.nonce} is not valid for these parameters "
                       f"(scrypt N = {params.scrypt_n}); {hint}")


# --------------------------------------------------------------------------------------------
# post verify-data


def _ranges(indices: list[int]) -> list[tuple[int, int]]:
    """Sorted indices as inclusive runs ``(first, last)``."""
    runs: list[tuple[int, int]] = []
    for index in sorted(indices):
        if runs and runs[-1][1] + 1 == index:
            runs[-1] = (runs[-1][0], index)
        else:
            runs.append((index, index))
    return runs


def _labels_text(first: int, last: int) -> str:
    return f"label {first}" if first == last else f"labels {first}..{last}"


def verify_data(post: Any, datadir: str, scrypt_n: int | None, sample: int, everything: bool, seed: int,
                show_progress: bool, echo: Callable[[str], object] = print) -> int:
    """Re-derive labels of ``datadir`` and report every file that is missing, truncated, too long
    or holds a wrong label, with label index ranges. Returns 1 when anything is wrong, else 0."""
    from tqdm import tqdm

    metadata = read_metadata(post, datadir)
    recorded = read_params(datadir)
    if recorded is not None:
        different = [name for name in PARAMETERS if getattr(recorded, name) != getattr(metadata, name)]
        if different:
            raise CliError(f"{PARAMS_FILE} and {post.METADATA_FILE_NAME} of {datadir} disagree "
                           f"({', '.join(different)})")
        if scrypt_n is not None and scrypt_n != recorded.scrypt_n:
            raise CliError(f"{datadir} records scrypt N = {recorded.scrypt_n}, not {scrypt_n}")
        scrypt_n, source = recorded.scrypt_n, PARAMS_FILE
    elif scrypt_n is not None:
        source = "--scrypt-n"
    else:
        scrypt_n, source = post.SCRYPT_N, "the preset"
    params = InitParams(metadata.node_id, metadata.commitment_atx_id, metadata.labels_per_unit, metadata.num_units,
                        metadata.max_file_size, scrypt_n)
    check_parameters(post, params)
    num_labels = params.num_labels
    limit = num_labels
    checkpoint = read_checkpoint(datadir)
    if checkpoint is not None:
        limit = min(checkpoint.labels_done, num_labels)
        echo(f"{datadir}: initialization in progress, checking the {limit} of {num_labels} labels checkpointed")
    per_file = post.labels_per_file(metadata.max_file_size)
    files = data_files(datadir)
    problems: list[str] = []
    available: list[tuple[int, int]] = []  # (first, end) of the labels present, per file
    for index in range(post.num_files(metadata)):
        first, end = post.file_label_range(metadata, index)
        end = min(end, limit)
        if end <= first:
            break
        name = post.data_file_name(index)
        expected = LABEL_SIZE * (end - first)
        size = files.get(index)
        if size is None:
            problems.append(f"{name}: missing ({_labels_text(first, end - 1)})")
            continue
        present = min(size // LABEL_SIZE, end - first)
        if size < expected:
            problems.append(f"{name}: truncated to {size} of {expected} bytes "
                            f"({_labels_text(first + present, end - 1)} missing)")
        elif size > expected and checkpoint is None:
            problems.append(f"{name}: {size - expected} bytes past its last label {end - 1}")
        if present:
            available.append((first, first + present))

    chosen: set[int] = set()
    starts, counts = [], [0]
    for first, end in available:
        chosen.update((first, end - 1))
        starts.append(first)
        counts.append(counts[-1] + end - first)
    total = counts[-1]
    offsets = [] if everything else random.Random(seed).sample(range(total), min(sample, total))
    for offset in offsets:
        run = bisect.bisect_right(counts, offset) - 1
        chosen.add(starts[run] + offset - counts[run])
    commitment = post.compute_commitment(metadata.node_id, metadata.commitment_atx_id)
    bad: list[int] = []
    with tqdm(total=total if everything else len(chosen), unit="label", desc="verify", smoothing=0.05,
              disable=not show_progress or None) as bar:
        if everything:
            batch = max(64, min(1 << 16, (1 << 22) // scrypt_n))
            for first, end in available:
                name = post.data_file_name(first // per_file)
                try:
                    with open(os.path.join(datadir, name), "rb") as file:
                        for start in range(first, end, batch):
                            count = min(batch, end - start)
                            stored = file.read(LABEL_SIZE * count)
                            outputs = post.compute_labels(commitment, start, count, scrypt_n)
                            for position in range(count):
                                label = outputs[32 * position:32 * position + LABEL_SIZE]
                                if stored[LABEL_SIZE * position:LABEL_SIZE * (position + 1)] != label:
                                    bad.append(start + position)
                            bar.update(count)
                except OSError as e:
                    problems.append(f"{name}: unreadable ({e.strerror or e})")
        else:
            indices = sorted(chosen)
            outputs = derive(post, commitment, indices, scrypt_n, bar.update)
            for index, output in zip(indices, outputs, strict=True):
                if read_stored(datadir, per_file, index) != post.stored_label(output):
                    bad.append(index)
    checked = total if everything else len(chosen)
    by_file: dict[int, list[int]] = {}
    for index in bad:
        by_file.setdefault(index // per_file, []).append(index)
    for file_index, indices in sorted(by_file.items()):
        runs = _ranges(indices)
        shown = ", ".join(_labels_text(first, last) for first, last in runs[:20])
        more = f" and {len(runs) - 20} more ranges" if len(runs) > 20 else ""
        problems.append(f"{post.data_file_name(file_index)}: corrupt: {shown}{more}")
    if metadata.nonce is not None:
        (output,) = derive(post, commitment, [metadata.nonce], scrypt_n)
        if output >= post.vrf_difficulty(num_labels):
            problems.append(f"{post.METADATA_FILE_NAME}: VRF nonce {metadata.nonce} is not below the threshold")
        elif metadata.nonce < limit and read_stored(datadir, per_file, metadata.nonce) != post.stored_label(output):
            problems.append(f"{post.METADATA_FILE_NAME}: VRF nonce {metadata.nonce}: its stored label differs")
    for problem in problems:
        echo(problem)
    how = "all" if everything else f"sample of {sample}, seed {seed}"
    summary = (f"{checked} labels re-derived in {len(available)} files ({how}; scrypt N = {scrypt_n} from {source})")
    if problems:
        echo(f"{datadir}: {len(problems)} problem{'s' if len(problems) > 1 else ''}; {summary}")
        return 1
    echo(f"{datadir}: clean; {summary}")
    return 0


# --------------------------------------------------------------------------------------------
# label ranges: `post init --from N --to M`, `post merge`, and the orchestrated runs that use them
#
# A range directory holds the data files of labels N .. M - 1 (N and M on file boundaries, so
# each file is whole and written by one range), the parameter record, and the range record
# ``.smspec-range.json``: the range, the labels done, the best VRF-nonce candidate so far, the
# batch size and whether it is finished. It has no ``postdata_metadata.json``, so it is never
# mistaken for a data directory. The safety rules are the single run's: every record and size
# is checked and the last label before the checkpoint and the candidate are re-derived before
# anything is written; resuming truncates at most the one unsaved batch; nothing is removed.


RANGE_FILE = ".smspec-range.json"
RANGE_FORMAT = "smspec-post-range/1"


@attrs.frozen
class RangeRecord:
    """``.smspec-range.json`` of a range directory."""

    first: int
    end: int
    scrypt_n: int
    labels_done: int  # absolute: labels first .. labels_done - 1 are written and synced
    best: tuple[int, bytes] | None
    batch: int
    done: bool

    def to_json(self) -> str:
        return json.dumps({"format": RANGE_FORMAT, "from": self.first, "to": self.end, "scrypt_n": self.scrypt_n,
                           "labels_done": self.labels_done, "batch": self.batch, "done": self.done,
                           "best": None if self.best is None else [self.best[0], self.best[1].hex()]}, indent=2) + "\n"


def file_boundaries(post: Any, params: InitParams) -> list[int]:
    """The label indices where data files start, and the end of the data."""
    per_file = post.labels_per_file(params.max_file_size)
    return [*range(0, params.num_labels, per_file), params.num_labels]


def check_range(post: Any, params: InitParams, first: int, end: int) -> None:
    """A label range ``first .. end - 1`` that ``post init --from/--to`` can write: non-empty,
    inside the data, on data-file boundaries (each file is written whole by one range)."""
    num_labels = params.num_labels
    if not 0 <= first < end <= num_labels:
        raise CliError(f"--from {first} --to {end} is not a non-empty range of the {num_labels} labels")
    per_file = post.labels_per_file(params.max_file_size)
    for name, value in (("--from", first), ("--to", end)):
        if value % per_file and value != num_labels:
            below = value - value % per_file
            raise CliError(f"{name} {value} is not on a data-file boundary (files hold {per_file} labels: "
                           f"{below} or {min(below + per_file, num_labels)})")


def range_files(post: Any, params: InitParams, first: int, end: int) -> range:
    """The data files a (boundary-aligned) label range covers."""
    per_file = post.labels_per_file(params.max_file_size)
    return range(first // per_file, -(-end // per_file))


def read_range(datadir: str) -> RangeRecord | None:
    """The range record of ``datadir`` (None when there is none), checked for form only."""
    path = os.path.join(datadir, RANGE_FILE)
    if not os.path.lexists(path):
        return None
    advice = refusal(datadir)
    fields = _load_record(path, f"the range record {path}", advice)

    def corrupt(why: str) -> CliError:
        return CliError(f"{path} is corrupt ({why}); {advice}")

    if not isinstance(fields, dict) or fields.get("format") != RANGE_FORMAT:
        raise corrupt(f"not a JSON object of format {RANGE_FORMAT!r}")
    values = {}
    for key in ("from", "to", "scrypt_n", "labels_done", "batch"):
        values[key] = fields.get(key)
        if not _is_int(values[key]) or not 0 <= values[key] < 2**64:
            raise corrupt(f"{key} must be an integer in 0..2^64-1")
    if not isinstance(fields.get("done"), bool):
        raise corrupt("done must be true or false")
    if not values["from"] <= values["labels_done"] <= values["to"] or not 1 <= values["batch"] <= MAX_BATCH:
        raise corrupt("labels_done must lie in from..to and batch in 1..2^20")
    best = fields.get("best")
    if best is not None:
        if not (isinstance(best, list) and len(best) == 2 and _is_int(best[0]) and best[0] >= 0
                and _bytes32(best[1]) is not None):
            raise corrupt("best must be null or [index, 64 hex digits]")
        best = (best[0], _bytes32(best[1]))
    return RangeRecord(values["from"], values["to"], values["scrypt_n"], values["labels_done"], best,
                       values["batch"], fields["done"])


def plan_range(post: Any, datadir: str, params: InitParams, first: int, end: int) -> RangeRecord | None:
    """Check range directory ``datadir`` against the request; None for a fresh start, else its
    checked record (``done`` or to resume). Reads only."""
    advice = refusal(datadir)
    for name in (post.METADATA_FILE_NAME, STATE_FILE):
        if os.path.lexists(os.path.join(datadir, name)):
            raise CliError(f"{datadir} holds {name}: it is a data directory, not a range directory; "
                           "use another directory for --from/--to")
    recorded = read_params(datadir)
    if recorded is not None and recorded != params:
        different = [name for name in (*PARAMETERS, "scrypt_n") if getattr(recorded, name) != getattr(params, name)]
        raise CliError(f"{datadir} was initialized with other parameters ({', '.join(different)} differ, "
                       f"recorded in {PARAMS_FILE}); use another directory")
    record = read_range(datadir)
    files = data_files(datadir)
    covered = range_files(post, params, first, end)
    if record is None:
        holding = sorted(index for index, size in files.items() if size > 0)
        if holding:
            raise CliError(f"{datadir} holds {len(holding)} data files (postdata_{holding[0]}.bin, ...) but no "
                           f"range record ({RANGE_FILE}), so how much of them is valid is unknown and they are "
                           "not overwritten: move them away or use another directory")
        return None
    if recorded is None:
        raise CliError(f"{os.path.join(datadir, RANGE_FILE)} exists but {PARAMS_FILE} does not; {advice}")
    if (record.first, record.end) != (first, end):
        raise CliError(f"{datadir} holds the range --from {record.first} --to {record.end}, not --from {first} "
                       f"--to {end}; use another directory")
    if record.scrypt_n != params.scrypt_n:
        raise CliError(f"{datadir}: its range record says scrypt N = {record.scrypt_n} but {PARAMS_FILE} records "
                       f"{params.scrypt_n}; {advice}")
    metadata = params.metadata(post)
    per_file = post.labels_per_file(params.max_file_size)
    current = record.labels_done // per_file
    for index in covered:
        file_first, file_end = post.file_label_range(metadata, index)
        keep = min(max(record.labels_done - file_first, 0), file_end - file_first)
        path = os.path.join(datadir, post.data_file_name(index))
        size = files.get(index)
        if size is None:
            if keep:
                raise CliError(f"{path} is missing but the range record counts {keep} labels in it; {advice}")
            continue
        allowed = LABEL_SIZE * keep + (LABEL_SIZE * record.batch if index == current and not record.done else 0)
        if size < LABEL_SIZE * keep or size > min(allowed, LABEL_SIZE * (file_end - file_first)):
            raise CliError(f"{path} holds {size // LABEL_SIZE} labels, which the range record "
                           f"({record.labels_done - first} of {end - first} done) does not explain; {advice}")
    if record.done and record.labels_done != end:
        raise CliError(f"{datadir}: its range record says done with {record.labels_done - first} of {end - first} "
                       f"labels; {advice}")
    # re-derive the last label before the checkpoint (and the range's first when done) and the candidate
    commitment = post.compute_commitment(params.node_id, params.commitment_atx_id)
    indices = sorted({first, record.labels_done - 1}) if record.labels_done > first else []
    best = record.best
    if best is not None:
        if not first <= best[0] < record.labels_done or best[1] >= post.vrf_difficulty(params.num_labels):
            raise CliError(f"{datadir}: its VRF-nonce candidate {best[0]} is outside the labels done or not below "
                           f"the threshold; {advice}")
    outputs = derive(post, commitment, indices + ([best[0]] if best else []), params.scrypt_n)
    for index, output in zip(indices, outputs):
        if read_stored(datadir, per_file, index) != post.stored_label(output):
            raise CliError(f"{datadir}: label {index} is not the label of these parameters (scrypt N = "
                           f"{params.scrypt_n}); {advice}")
    if best is not None and (outputs[-1] != best[1]
                             or read_stored(datadir, per_file, best[0]) != post.stored_label(best[1])):
        raise CliError(f"{datadir}: its VRF-nonce candidate {best[0]} does not match the recomputed label; {advice}")
    return record


def resume_range(post: Any, datadir: str, params: InitParams, record: RangeRecord) -> None:
    """Truncate the unsaved tail (at most one batch, checked by :func:`plan_range`) of the file
    being written: the only bytes a range run ever discards."""
    per_file = post.labels_per_file(params.max_file_size)
    index = record.labels_done // per_file
    path = os.path.join(datadir, post.data_file_name(index))
    keep = LABEL_SIZE * (record.labels_done - index * per_file)
    if record.labels_done < record.end and os.path.exists(path) and os.path.getsize(path) > keep:
        with open(path, "r+b") as file:
            file.truncate(keep)
            file.flush()
            os.fsync(file.fileno())


def init_range(post: Any, datadir: str, params: InitParams, first: int, end: int, batch: int,
               initialize_range: Callable[..., Any] | None = None, progress: Callable[[int], object] | None = None,
               stop_after: int | None = None) -> RangeRecord:
    """Write (or resume, or confirm) labels ``first .. end - 1`` into range directory ``datadir``
    under its lock; returns the finished record (or the record at ``stop_after`` more labels).
    ``initialize_range`` defaults to the active backend's ``post.initialize_range``."""
    check_parameters(post, params)
    check_range(post, params, first, end)
    os.makedirs(datadir, exist_ok=True)
    compute = initialize_range or post.initialize_range
    with locked(datadir):
        record = plan_range(post, datadir, params, first, end)
        if record is not None and record.done:
            return record
        done = first if record is None else record.labels_done
        check_free_space(datadir, LABEL_SIZE * (end - done))
        try:
            if record is None:
                write_atomic(os.path.join(datadir, PARAMS_FILE), params.to_json())
                record = RangeRecord(first, end, params.scrypt_n, first, None, batch, False)
                write_atomic(os.path.join(datadir, RANGE_FILE), record.to_json())
            else:
                resume_range(post, datadir, params, record)
                record = attrs.evolve(record, batch=batch)
        except OSError as e:
            raise write_error(e, datadir, done - first, end - first) from None
        commitment = post.compute_commitment(params.node_id, params.commitment_atx_id)
        difficulty = post.vrf_difficulty(params.num_labels)
        per_file = post.labels_per_file(params.max_file_size)
        stop_at = None if stop_after is None else record.labels_done + stop_after
        while record.labels_done < end:
            if stop_at is not None and record.labels_done >= stop_at:
                return record
            done = record.labels_done
            file_index = done // per_file
            count = min(batch, end - done, (file_index + 1) * per_file - done)
            labels, found = compute(commitment, done, count, params.scrypt_n, difficulty)
            path = os.path.join(datadir, post.data_file_name(file_index))
            try:
                append_labels(path, labels)
                record = attrs.evolve(record, labels_done=done + count, best=post.better_vrf_nonce(record.best, found),
                                      done=done + count == end)
                write_atomic(os.path.join(datadir, RANGE_FILE), record.to_json())
            except OSError as e:
                raise write_error(e, path, done - first, end - first) from None
            if progress is not None:
                progress(count)
        if not record.done:  # an empty tail after a resume that had written every label
            record = attrs.evolve(record, done=True)
            write_atomic(os.path.join(datadir, RANGE_FILE), record.to_json())
        return record


def _empty_target(into: str) -> None:
    if os.path.lexists(into):
        if not os.path.isdir(into):
            raise CliError(f"--into {into} exists and is not a directory")
        if os.listdir(into):
            raise CliError(f"--into {into} is not empty: merge into a new or empty directory")


def _place(source: str, target: str, link: bool | str) -> bool:
    """Copy (or hard-link; ``"auto"``: link where the file system allows it) ``source`` to
    ``target`` through a temporary name, synced; whether it was linked."""
    temporary = target + ".tmp"
    linked = False
    if link:
        try:
            os.link(source, temporary)
            linked = True
        except OSError as e:
            if link != "auto":
                raise CliError(f"cannot hard-link {source} into {os.path.dirname(target)}: {e.strerror or e} "
                               "(--link needs one file system); merge without --link to copy") from None
    if not linked:
        shutil.copyfile(source, temporary)
        with open(temporary, "rb+") as file:
            os.fsync(file.fileno())
    os.replace(temporary, target)
    return linked


def merge_ranges(post: Any, sources: list[str], into: str, link: bool | str = False,
                 say: Callable[[str], object] = lambda text: None) -> Any:
    """Join finished range directories into the data directory ``into``, byte-identical to one
    ``post init`` run; returns its metadata. The sources are only read.

    Checked before anything is written: every source is a finished range whose records, file
    sizes, first and last labels and VRF-nonce candidate check out (:func:`plan_range`); all
    record the same parameters; the ranges tile the data with no gap and no overlap. Checked
    after: the merged directory as ``post init`` checks a finished one, plus the labels on both
    sides of every join re-derived from the merged files.
    """
    if not sources:
        raise CliError("name at least one range directory to merge")
    pieces: list[tuple[RangeRecord, str]] = []
    params: InitParams | None = None
    for source in sources:
        if not os.path.isdir(source):
            raise CliError(f"{source}: not a directory")
        record, recorded = read_range(source), read_params(source)
        if record is None or recorded is None:
            raise CliError(f"{source} is not a range directory (no {RANGE_FILE} or {PARAMS_FILE}): "
                           "make ranges with `smspec post init ... --from N --to M`")
        if params is not None and recorded != params:
            different = [name for name in (*PARAMETERS, "scrypt_n") if getattr(recorded, name) != getattr(params, name)]
            raise CliError(f"{source} was initialized with other parameters than {sources[0]} "
                           f"({', '.join(different)} differ): ranges of one data set only")
        params = recorded
        check_parameters(post, params)
        check_range(post, params, record.first, record.end)
        checked = plan_range(post, source, params, record.first, record.end)
        if checked is None or not checked.done:
            raise CliError(f"{source} holds an unfinished range ({record.labels_done - record.first} of "
                           f"{record.end - record.first} labels): rerun its `post init --from {record.first} "
                           f"--to {record.end}` first")
        pieces.append((checked, source))
    assert params is not None
    pieces.sort(key=lambda piece: piece[0].first)
    position = 0
    for record, source in pieces:
        if record.first > position:
            raise CliError(f"labels {position} .. {record.first - 1} are in none of the ranges: the merge needs "
                           "the whole data set")
        if record.first < position:
            raise CliError(f"{source} (labels {record.first} .. {record.end - 1}) overlaps another range")
        position = record.end
    if position != params.num_labels:
        raise CliError(f"labels {position} .. {params.num_labels - 1} are in none of the ranges: the merge needs "
                       "the whole data set")
    _empty_target(into)
    check_free_space(into, 0 if link else LABEL_SIZE * params.num_labels)
    os.makedirs(into, exist_ok=True)
    best = None
    with locked(into):
        try:
            for record, source in pieces:
                linked = False
                for index in range_files(post, params, record.first, record.end):
                    name = post.data_file_name(index)
                    linked = _place(os.path.join(source, name), os.path.join(into, name), link)
                best = post.better_vrf_nonce(best, record.best)
                say(f"{'linked' if linked else 'copied'} labels {record.first} .. {record.end - 1} from {source}")
            last_position = None
            commitment = post.compute_commitment(params.node_id, params.commitment_atx_id)
            if best is None:
                say("no VRF nonce among the labels; searching past the end")
                best = post.search_vrf_nonce_beyond(commitment, params.num_labels, params.scrypt_n)
                last_position = best[0] + 1
            metadata = attrs.evolve(params.metadata(post), nonce=best[0], last_position=last_position)
            write_atomic(os.path.join(into, PARAMS_FILE), params.to_json())
            write_atomic(os.path.join(into, post.METADATA_FILE_NAME), post.metadata_to_json(metadata))
        except OSError as e:
            raise CliError(f"cannot write {into}: {e.strerror or e}; the sources are unchanged") from None
        check_complete(post, into, params, metadata, data_files(into))
        joins = sorted({index for record, _ in pieces[1:] for index in (record.first - 1, record.first)})
        per_file = post.labels_per_file(params.max_file_size)
        for index, output in zip(joins, derive(post, commitment, joins, params.scrypt_n)):
            if read_stored(into, per_file, index) != post.stored_label(output):
                raise CliError(f"{into}: label {index}, at a join of two ranges, is not the label of these "
                               "parameters after the merge; the sources are unchanged")
    return metadata
