"""`smspec post init` never loses PoST data; `smspec post verify-data` finds damage (tools/post_data.py).

Every hostile or inconsistent input is refused with one line and a nonzero status before any
file changes (each test hashes every file before and after), a full disk stops init with the
data kept and a rerun resumes to the same bytes, and verify-data reports flipped and missing
labels by index.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
from collections import namedtuple

import pytest
from smspec import spec
from smspec.impl.registry import active_backend, use_backend
from smspec.tools import post_data
from smspec.tools.cli import main

NODE = "4d" * 32
ZERO = "00" * 32
ARGS = ["--node-id", NODE, "--commitment-atx", ZERO, "--num-units", "2", "--backend", "cpu", "--no-progress"]
INIT = ["--preset", "tiny", "post", "init"]
VERIFY = ["--preset", "tiny", "post", "verify-data"]
NUM_LABELS = 256  # tiny: 2 units of 128 labels, 64 labels (1 KiB) per file, 4 files


@pytest.fixture(autouse=True)
def restore_backend(monkeypatch):
    monkeypatch.setenv("SMSPEC_PRESET", "tiny")
    before = active_backend()
    yield
    use_backend(before)


def init(d, *extra: str) -> int:
    return main([*INIT, str(d), *ARGS, *extra])


def hashes(d) -> dict[str, str]:
    return {name: hashlib.sha256((d / name).read_bytes()).hexdigest() for name in sorted(os.listdir(d))}


def contents(d) -> dict[str, bytes]:
    return {name: (d / name).read_bytes() for name in sorted(os.listdir(d))}


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("smspec: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The tiny data directory as the spec's own initializer writes it (what post-rs writes)."""
    post = spec.load("post", "tiny")
    d = tmp_path_factory.mktemp("reference")
    post.initialize(str(d), bytes.fromhex(NODE), bytes(32), 2, post.LABELS_PER_UNIT, post.MAX_FILE_SIZE, post.SCRYPT_N)
    return d


@pytest.fixture(scope="module")
def complete(tmp_path_factory):
    d = tmp_path_factory.mktemp("complete") / "data"
    assert init(d) == 0
    return d


@pytest.fixture(scope="module")
def partial(tmp_path_factory):
    """Stopped after 114 labels (batches of 50: 50, 14 to the end of file 0, 50)."""
    d = tmp_path_factory.mktemp("partial") / "data"
    assert init(d, "--batch", "50", "--stop-after", "100") == 3
    return d


def copy(source, tmp_path):
    d = tmp_path / "data"
    shutil.copytree(source, d)
    return d


def test_fixtures(complete, partial, reference):
    """What the other tests start from."""
    files = contents(complete)
    params = json.loads(files.pop(post_data.PARAMS_FILE))
    assert files == contents(reference)
    assert params == {"format": "smspec-post-params/1", "node_id": NODE, "commitment_atx_id": ZERO,
                      "labels_per_unit": 128, "num_units": 2, "max_file_size": 1024, "scrypt_n": 16}
    state = json.loads((partial / post_data.STATE_FILE).read_text())
    assert state["labels_done"] == 114 and state["batch"] == 50 and state["scrypt_n"] == 16
    assert [os.path.getsize(partial / f"postdata_{k}.bin") for k in (0, 1)] == [1024, 800]
    assert not (partial / "postdata_2.bin").exists()


# --------------------------------------------------------------------------------------------
# hostile or inconsistent checkpoints


def rewrite(field, value):
    def change(state: dict) -> str:
        state[field] = value
        return json.dumps(state)
    return change


def best_output(index: int) -> str:
    post = spec.load("post", "tiny")
    commitment = post.compute_commitment(bytes.fromhex(NODE), bytes(32))
    return post.compute_label(commitment, index, 16).hex()


Hostile = namedtuple("Hostile", "change message")
HOSTILE = {
    "negative": Hostile(rewrite("labels_done", -5), "labels_done must be a non-negative integer, got -5"),
    "huge": Hostile(rewrite("labels_done", 10**30), "more than the 256 of the data set"),
    "string": Hostile(rewrite("labels_done", "114"), "labels_done must be a non-negative integer, got '114'"),
    "float": Hostile(rewrite("labels_done", 114.0), "labels_done must be a non-negative integer, got 114.0"),
    "bool": Hostile(rewrite("labels_done", True), "labels_done must be a non-negative integer, got True"),
    "missing": Hostile(lambda s: json.dumps({k: v for k, v in s.items() if k != "labels_done"}),
                       "labels_done must be a non-negative integer, got None"),
    "beyond_data": Hostile(rewrite("labels_done", 200), "postdata_1.bin holds 50 labels but the checkpoint counts 64"),
    "all_done": Hostile(rewrite("labels_done", 256), "postdata_1.bin holds 50 labels but the checkpoint counts 64"),
    "far_behind": Hostile(rewrite("labels_done", 10), "postdata_0.bin holds 1024 bytes, more than the checkpoint"),
    "zero": Hostile(rewrite("labels_done", 0), "postdata_0.bin holds 1024 bytes, more than the checkpoint"),
    "wrong_scrypt_n": Hostile(rewrite("scrypt_n", 32), "says scrypt N = 32 but .smspec-params.json records 16"),
    "odd_scrypt_n": Hostile(rewrite("scrypt_n", 2**40), "scrypt_n must be an integer in 2..1048576"),
    "batch_zero": Hostile(rewrite("batch", 0), "batch must be an integer in 1..1048576"),
    "forged_best": Hostile(rewrite("best", [3, ZERO]), "VRF-nonce candidate 3 does not match the recomputed label"),
    "best_beyond": Hostile(rewrite("best", [200, ZERO]), "VRF-nonce candidate 200 lies beyond the 114 labels done"),
    "best_above": Hostile(rewrite("best", [3, "ff" * 32]), "VRF-nonce candidate 3 is not below the threshold"),
    "best_malformed": Hostile(rewrite("best", [3]), "best must be null or [index, 64 hex digits]"),
    "best_negative": Hostile(rewrite("best", [-1, ZERO]), "best must be null or [index, 64 hex digits]"),
    "truncated_json": Hostile(lambda s: json.dumps(s)[:25], "is not valid JSON"),
    "empty": Hostile(lambda s: "", "is not valid JSON"),
    "array": Hostile(lambda s: "[1, 2]", "is corrupt (not a JSON object)"),
    "deep": Hostile(lambda s: "[" * 1000 + "]" * 1000, "is nested deeper than 64 levels"),
    "oversized": Hostile(lambda s: " " * 100000 + json.dumps(s), "is larger than 65536 bytes"),
    "binary": Hostile(lambda s: "\udcff", "is not UTF-8 text"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_checkpoint_changes_nothing(tmp_path, partial, capsys, case):
    d = copy(partial, tmp_path)
    state_path = d / post_data.STATE_FILE
    text = HOSTILE[case].change(json.loads(state_path.read_text()))
    state_path.write_bytes(text.encode("utf-8", "surrogateescape"))
    before = hashes(d)
    assert init(d) == 2
    err = one_error_line(capsys)
    assert HOSTILE[case].message in err
    assert hashes(d) == before


def test_checkpoint_within_one_batch_is_accepted(tmp_path, partial, reference):
    """A checkpoint up to one batch behind the data is what a kill leaves; it is accepted (its
    last label and candidate check out) and the tail past it is recomputed to the same bytes.
    A candidate that is a real label below the threshold is a valid nonce, and is kept until a
    lower one turns up (here the data set's lowest, 208, as in an uninterrupted run)."""
    post = spec.load("post", "tiny")
    d = copy(partial, tmp_path)
    state = json.loads((d / post_data.STATE_FILE).read_text())
    state["labels_done"] = 70
    candidate = next(i for i in range(70) if bytes.fromhex(best_output(i)) < post.vrf_difficulty(NUM_LABELS))
    state["best"] = [candidate, best_output(candidate)]
    (d / post_data.STATE_FILE).write_text(json.dumps(state))
    assert init(d) == 0
    files = contents(d)
    files.pop(post_data.PARAMS_FILE)
    assert files == contents(reference)


@pytest.mark.parametrize("damage, message", [
    ("no_checkpoint", "holds 2 data files (postdata_0.bin, ...) but no checkpoint"),
    ("no_metadata", ".smspec-init.json exists but postdata_metadata.json does not"),
    ("later_file", "postdata_3.bin holds 16 bytes, more than the checkpoint (114 labels done) explains"),
    ("file_removed", "postdata_0.bin is missing but the checkpoint counts 64 labels in it"),
    ("label_flipped", "label 113, the last before the checkpoint, is not the label of these parameters"),
    ("unsaved_too_long", "postdata_1.bin holds 1024 bytes, more than the checkpoint (114 labels done) explains"),
    ("unsaved_in_next_file", "postdata_2.bin holds 16 bytes, more than the checkpoint (114 labels done) explains"),
    ("params_corrupt", ".smspec-params.json is corrupt (scrypt_n must be an integer in 1..1048576)"),
])
def test_inconsistent_directory_changes_nothing(tmp_path, partial, capsys, damage, message):
    d = copy(partial, tmp_path)
    if damage == "no_checkpoint":
        (d / post_data.STATE_FILE).unlink()
    elif damage == "no_metadata":
        (d / "postdata_metadata.json").unlink()
    elif damage == "later_file":
        (d / "postdata_3.bin").write_bytes(bytes(16))
    elif damage == "file_removed":
        (d / "postdata_0.bin").unlink()
    elif damage == "label_flipped":
        raw = bytearray((d / "postdata_1.bin").read_bytes())
        raw[16 * 49] ^= 1  # label 113
        (d / "postdata_1.bin").write_bytes(bytes(raw))
    elif damage == "unsaved_too_long":  # 14 labels past the checkpoint, but its run wrote batches of 13
        with open(d / "postdata_1.bin", "ab") as file:
            file.write(bytes(16 * 14))
        state = json.loads((d / post_data.STATE_FILE).read_text())
        state["batch"] = 13
        (d / post_data.STATE_FILE).write_text(json.dumps(state))
    elif damage == "unsaved_in_next_file":  # a batch never crosses into the next file
        (d / "postdata_2.bin").write_bytes(bytes(16))
    else:
        params = json.loads((d / post_data.PARAMS_FILE).read_text())
        params["scrypt_n"] = "16"
        (d / post_data.PARAMS_FILE).write_text(json.dumps(params))
    before = hashes(d)
    assert init(d) == 2
    assert message in one_error_line(capsys)
    assert hashes(d) == before


def test_unsaved_batch_is_the_only_thing_discarded(tmp_path, partial, reference):
    """A kill after a data write but before its checkpoint leaves up to one batch past the
    checkpoint: that tail (here a partial label) is truncated and recomputed, nothing else."""
    d = copy(partial, tmp_path)
    with open(d / "postdata_1.bin", "ab") as file:
        file.write(b"\xaa" * (16 * 14 - 1))  # the rest of file 1 but one byte
    assert init(d, "--batch", "64") == 0
    files = contents(d)
    files.pop(post_data.PARAMS_FILE)
    assert files == contents(reference)


def test_old_checkpoint_without_batch_resumes(tmp_path, partial, reference):
    d = copy(partial, tmp_path)
    state = json.loads((d / post_data.STATE_FILE).read_text())
    del state["batch"]
    (d / post_data.STATE_FILE).write_text(json.dumps(state))
    (d / post_data.PARAMS_FILE).unlink()  # made before the parameter record existed
    assert init(d) == 0
    assert (d / "postdata_3.bin").read_bytes() == (reference / "postdata_3.bin").read_bytes()
    assert json.loads((d / post_data.PARAMS_FILE).read_text())["scrypt_n"] == 16  # recorded on resume


@pytest.mark.parametrize("nonce, status", [(208, 2), (300, 0)])
def test_killed_after_the_metadata_got_its_nonce(tmp_path, complete, capsys, nonce, status):
    """The checkpoint outlives the metadata's nonce by a moment. With no candidate in it, the nonce
    must have come from the search past the data, which the rerun repeats."""
    post = spec.load("post", "tiny")
    d = copy(complete, tmp_path)
    (d / post_data.STATE_FILE).write_text(json.dumps({"scrypt_n": 16, "labels_done": 256, "batch": 64, "best": None}))
    text = (d / "postdata_metadata.json").read_text().replace('"Nonce": 208', f'"Nonce": {nonce}')
    (d / "postdata_metadata.json").write_text(text)
    data = {k: (d / f"postdata_{k}.bin").read_bytes() for k in range(4)}
    assert init(d) == status
    assert {k: (d / f"postdata_{k}.bin").read_bytes() for k in range(4)} == data
    if status:
        assert "has VRF nonce 208 but the checkpoint has None" in one_error_line(capsys)
        return
    metadata = post.load_metadata(str(d))
    assert metadata.nonce >= 256 and metadata.last_position == metadata.nonce + 1
    assert post.verify_vrf_nonce(bytes.fromhex(NODE), bytes(32), 2, metadata.nonce)
    assert not (d / post_data.STATE_FILE).exists()


def test_concurrent_init_is_refused(tmp_path, partial, capsys):
    d = copy(partial, tmp_path)
    before = hashes(d)
    fd = os.open(d, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert init(d) == 2
    finally:
        os.close(fd)
    assert "is being written by another `smspec post init`" in one_error_line(capsys)
    assert hashes(d) == before


# --------------------------------------------------------------------------------------------
# a finished directory and other parameters


@pytest.mark.parametrize("option, value, message", [
    ("--node-id", "4e" * 32, "initialized with other parameters (node_id differ)"),
    ("--commitment-atx", "01" * 32, "initialized with other parameters (commitment_atx_id differ)"),
    ("--num-units", "3", "initialized with other parameters (num_units differ)"),
    ("--labels-per-unit", "64", "initialized with other parameters (labels_per_unit differ)"),
    ("--max-file-size", "2048", "initialized with other parameters (max_file_size differ)"),
    ("--scrypt-n", "32", "initialized with scrypt N = 16, not 32"),
])
@pytest.mark.parametrize("record", ["recorded", "no_record"])
def test_complete_directory_refuses_other_parameters(tmp_path, complete, capsys, option, value, message, record):
    d = copy(complete, tmp_path)
    if record == "no_record":  # as post-rs or go-post leave it: scrypt N is found out from the labels
        (d / post_data.PARAMS_FILE).unlink()
        if option == "--scrypt-n":
            message = "label 0 is not the label of these parameters (scrypt N = 32)"
    before = hashes(d)
    argv = [*INIT, str(d), *ARGS]
    if option in argv:
        argv[argv.index(option) + 1] = value
    else:
        argv += [option, value]
    assert main(argv) == 2
    assert message in one_error_line(capsys)
    assert hashes(d) == before


def test_postrs_directory_is_recognised(tmp_path, reference, capsys):
    d = copy(reference, tmp_path)
    before = hashes(d)
    assert init(d) == 0
    assert capsys.readouterr().err.strip().endswith("is already initialized (VRF nonce 208)")
    assert hashes(d) == before


def forged_nonce() -> int:
    """The first label index whose output is not below the tiny data set's VRF threshold."""
    post = spec.load("post", "tiny")
    commitment = post.compute_commitment(bytes.fromhex(NODE), bytes(32))
    difficulty = post.vrf_difficulty(NUM_LABELS)
    return next(i for i in range(NUM_LABELS) if post.compute_label(commitment, i, 16) >= difficulty)


@pytest.mark.parametrize("damage, message", [
    ("nonce", "the metadata's VRF nonce {forged} is not valid for these parameters (scrypt N = 16)"),
    ("truncated", "postdata_2.bin has 1008 bytes, not 1024"),
    ("missing", "postdata_3.bin is missing"),
    ("last_label", "label 255 is not the label of these parameters"),
])
def test_damaged_complete_directory_is_not_reported_initialized(tmp_path, complete, capsys, damage, message):
    d = copy(complete, tmp_path)
    if damage == "nonce":
        text = (d / "postdata_metadata.json").read_text().replace('"Nonce": 208', f'"Nonce": {forged_nonce()}')
        (d / "postdata_metadata.json").write_text(text)
    elif damage == "truncated":
        (d / "postdata_2.bin").write_bytes((d / "postdata_2.bin").read_bytes()[:-16])
    elif damage == "missing":
        (d / "postdata_3.bin").unlink()
    else:
        raw = bytearray((d / "postdata_3.bin").read_bytes())
        raw[-1] ^= 0x80
        (d / "postdata_3.bin").write_bytes(bytes(raw))
    before = hashes(d)
    assert init(d) == 2
    assert message.format(forged=forged_nonce()) in one_error_line(capsys)
    assert hashes(d) == before


# --------------------------------------------------------------------------------------------
# sizes and a full disk


def test_impossible_sizes_are_refused_up_front(tmp_path, capsys):
    d = tmp_path / "data"
    assert init(d, "--labels-per-unit", "1099511627776") == 2  # used to hang
    assert "32.0 TiB in files of 1024 bytes would be 34359738368 files, more than 1048576" in one_error_line(capsys)
    assert init(d, "--labels-per-unit", "1099511627776", "--max-file-size", str(2**32)) == 2
    assert "needs 32.0 TiB more for its labels but only" in one_error_line(capsys)
    assert init(d, "--labels-per-unit", str(2**49)) == 2
    assert "more than the 1.0 PiB one data directory may hold" in one_error_line(capsys)
    assert not d.exists()


def test_no_room_is_refused_before_creating_anything(tmp_path, monkeypatch, capsys):
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage._replace(free=4096))
    d = tmp_path / "data"
    assert init(d) == 2
    assert f"{d} needs 4.0 KiB more for its labels but only 4.0 KiB is free there" in one_error_line(capsys)
    assert not d.exists()


class FullDisk:
    """``open`` for tools/post_data.py on a disk that fills up: the ``fail_at``-th file opened for
    writing whose name ends with ``suffix`` takes part of what is written to it, then raises ENOSPC."""

    def __init__(self, suffix: str, fail_at: int) -> None:
        self.suffix, self.fail_at, self.count = suffix, fail_at, 0

    def __call__(self, path, mode="r", *args, **kwargs):
        file = open(path, mode, *args, **kwargs)  # noqa: SIM115 (returned to a with statement)
        if mode not in ("ab", "w") or not str(path).endswith(self.suffix):
            return file
        self.count += 1
        return PartialWrites(file) if self.count == self.fail_at else file


class PartialWrites:
    def __init__(self, file) -> None:
        self.file = file

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.file.close()

    def write(self, data) -> None:
        self.file.write(data[:len(data) // 2 + 3])
        self.file.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.file, name)


@pytest.mark.parametrize("suffix, fail_at", [
    (".bin", 4),  # batches 0..39, 40..63 (end of file 0), 64..103, then 104..127 is cut short
    (post_data.STATE_FILE + ".tmp", 5),  # the empty checkpoint, then 40, 64, 104; writing 128 fails
])
def test_full_disk_then_resume(tmp_path, monkeypatch, capsys, reference, suffix, fail_at):
    d = tmp_path / "data"
    monkeypatch.setattr(post_data, "open", FullDisk(suffix, fail_at), raising=False)
    assert init(d, "--batch", "40") == 2
    err = one_error_line(capsys)
    assert "no space left on the device" in err and "free some space and rerun the same command to resume" in err
    assert "104 of 256 labels (1.6 KiB) are written and checkpointed" in err
    assert json.loads((d / post_data.STATE_FILE).read_text())["labels_done"] == 104
    assert not (d / (post_data.STATE_FILE + ".tmp")).exists()
    assert os.path.getsize(d / "postdata_1.bin") == (16 * 40 + 195 if suffix == ".bin" else 1024)
    monkeypatch.delattr(post_data, "open")
    assert init(d, "--batch", "40") == 0
    files = contents(d)
    files.pop(post_data.PARAMS_FILE)
    assert files == contents(reference)


def test_full_disk_at_the_end(tmp_path, monkeypatch, capsys, reference):
    d = tmp_path / "data"
    write = post_data.write_atomic

    def full(path, text):
        if path.endswith("postdata_metadata.json") and '"Nonce": null' not in text:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        write(path, text)

    monkeypatch.setattr(post_data, "write_atomic", full)
    assert init(d) == 2
    assert "256 of 256 labels (4.0 KiB) are written and checkpointed" in one_error_line(capsys)
    monkeypatch.setattr(post_data, "write_atomic", write)
    assert init(d) == 0
    assert (d / "postdata_metadata.json").read_bytes() == (reference / "postdata_metadata.json").read_bytes()
    assert not (d / post_data.STATE_FILE).exists()


# --------------------------------------------------------------------------------------------
# post verify-data


def verify(d, *extra: str) -> int:
    return main([*VERIFY, str(d), "--no-progress", "--seed", "7", *extra])


def test_verify_clean(complete, reference, capsys):
    assert verify(complete, "--all") == 0
    assert capsys.readouterr().out.strip().endswith(
        "clean; 256 labels re-derived in 4 files (all; scrypt N = 16 from .smspec-params.json)")
    assert verify(reference) == 0  # no record: the preset's scrypt N
    assert capsys.readouterr().out.strip().endswith(
        "clean; 72 labels re-derived in 4 files (sample of 64, seed 7; scrypt N = 16 from the preset)")


@pytest.mark.parametrize("mode", [["--all"], ["--sample", "1000"]])
def test_verify_finds_a_flipped_byte(tmp_path, complete, capsys, mode):
    d = copy(complete, tmp_path)
    raw = bytearray((d / "postdata_1.bin").read_bytes())
    raw[16 * 13 + 5] ^= 0x01  # label 77
    (d / "postdata_1.bin").write_bytes(bytes(raw))
    assert verify(d, *mode) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "postdata_1.bin: corrupt: label 77"
    assert out[1].startswith(f"{d}: 1 problem; 256 labels re-derived")


def test_verify_default_sample_checks_file_ends(tmp_path, complete, capsys):
    d = copy(complete, tmp_path)
    for name, offset in (("postdata_2.bin", 0), ("postdata_2.bin", 1023), ("postdata_3.bin", 1008)):
        raw = bytearray((d / name).read_bytes())
        raw[offset] ^= 0xFF
        (d / name).write_bytes(bytes(raw))
    assert main([*VERIFY, str(d), "--no-progress", "--sample", "0"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["postdata_2.bin: corrupt: label 128, label 191", "postdata_3.bin: corrupt: label 255"]
    assert "8 labels re-derived in 4 files (sample of 0, seed " in out[2]


def test_verify_reports_ranges(tmp_path, complete, capsys):
    d = copy(complete, tmp_path)
    raw = bytearray((d / "postdata_0.bin").read_bytes())
    raw[16 * 3:16 * 7] = bytes(64)  # labels 3..6
    (d / "postdata_0.bin").write_bytes(bytes(raw))
    (d / "postdata_2.bin").write_bytes((d / "postdata_2.bin").read_bytes()[:100])  # 6 labels and 4 bytes
    (d / "postdata_3.bin").unlink()
    (d / "postdata_1.bin").write_bytes((d / "postdata_1.bin").read_bytes() + b"x")
    forged = forged_nonce()
    text = (d / "postdata_metadata.json").read_text().replace('"Nonce": 208', f'"Nonce": {forged}')
    (d / "postdata_metadata.json").write_text(text)
    assert verify(d, "--all") == 1
    assert capsys.readouterr().out.splitlines() == [
        "postdata_1.bin: 1 bytes past its last label 127",
        "postdata_2.bin: truncated to 100 of 1024 bytes (labels 134..191 missing)",
        "postdata_3.bin: missing (labels 192..255)",
        "postdata_0.bin: corrupt: labels 3..6",
        f"postdata_metadata.json: VRF nonce {forged} is not below the threshold",
        f"{d}: 5 problems; 134 labels re-derived in 3 files (all; scrypt N = 16 from .smspec-params.json)",
    ]


def test_verify_in_progress_and_bad_input(tmp_path, partial, capsys):
    assert verify(partial, "--all") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{partial}: initialization in progress, checking the 114 of 256 labels checkpointed"
    assert out[1].startswith(f"{partial}: clean; 114 labels re-derived in 2 files")
    assert verify(partial, "--scrypt-n", "32") == 2
    assert f"{partial} records scrypt N = 16, not 32" in one_error_line(capsys)
    assert verify(tmp_path / "nothing") == 2
    assert "not a directory" in one_error_line(capsys)
    assert main([*VERIFY, str(partial), "--sample", "-1"]) == 2
    assert "expected a number of labels >= 0, got -1" in one_error_line(capsys)
