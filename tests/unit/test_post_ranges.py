"""`smspec post init --from/--to`, `post merge`, `--devices all` and `--cluster` (tools/post_data.py,
tools/post_parallel.py): ranges joined in any order give a directory byte-identical to one run,
a killed range resumes to the same bytes, and every inconsistent range or merge is refused with
one line before anything is written (the sources are hashed before and after).
"""

from __future__ import annotations

import hashlib
import json
import os

import pytest
from smspec.impl.registry import active_backend, use_backend
from smspec.tools import post_data
from smspec.tools.cli import main

NODE = "5e" * 32
ZERO = "00" * 32
# tiny preset, 2 units of 40 labels in files of 10 labels: 8 files, scrypt N = 16
SHAPE = ["--num-units", "2", "--labels-per-unit", "40", "--max-file-size", "160", "--scrypt-n", "16"]
ARGS = ["--node-id", NODE, "--commitment-atx", ZERO, *SHAPE, "--no-progress"]
INIT = ["--preset", "tiny", "post", "init"]
MERGE = ["--preset", "tiny", "post", "merge"]


@pytest.fixture(autouse=True)
def restore_backend(monkeypatch):
    monkeypatch.setenv("SMSPEC_PRESET", "tiny")
    before = active_backend()
    yield
    use_backend(before)


def init(d, *extra: str) -> int:
    return main([*INIT, str(d), *ARGS, "--backend", "cpu", *extra])


def contents(d) -> dict[str, bytes]:
    return {name: (d / name).read_bytes() for name in sorted(os.listdir(d))}


def hashes(*dirs) -> dict[str, str]:
    return {f"{d}/{name}": hashlib.sha256((d / name).read_bytes()).hexdigest() for d in dirs for name in os.listdir(d)}


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("smspec: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    d = tmp_path_factory.mktemp("single") / "data"
    os.environ["SMSPEC_PRESET"] = "tiny"
    before = active_backend()
    try:
        assert init(d) == 0
    finally:
        use_backend(before)
    return contents(d)


@pytest.fixture
def ranges(tmp_path):
    """Three finished ranges: labels 0..29, 30..59, 60..79."""
    dirs = []
    for first, end in ((0, 30), (30, 60), (60, 80)):
        d = tmp_path / f"r{first}"
        assert init(d, "--from", str(first), "--to", str(end)) == 0
        dirs.append(d)
    return dirs


def test_merge_is_byte_identical_to_one_run(tmp_path, single, ranges):
    # a range directory is never taken for a data directory: no metadata, a range record
    assert "postdata_metadata.json" not in os.listdir(ranges[0])
    assert json.loads((ranges[1] / post_data.RANGE_FILE).read_text())["from"] == 30
    before = hashes(*ranges)
    assert main([*MERGE, str(ranges[2]), str(ranges[0]), str(ranges[1]), "--into", str(tmp_path / "m")]) == 0
    assert contents(tmp_path / "m") == single
    assert hashes(*ranges) == before  # the sources are only read
    assert main([*MERGE, *map(str, ranges), "--into", str(tmp_path / "linked"), "--link"]) == 0
    assert contents(tmp_path / "linked") == single
    # the merged directory is a finished data directory: init with the same arguments says so
    assert init(tmp_path / "m") == 0


def test_killed_range_resumes_to_the_same_bytes(tmp_path, single):
    d = tmp_path / "r"
    assert init(d, "--from", "30", "--to", "80", "--batch", "4", "--stop-after", "9") == 3
    record = json.loads((d / post_data.RANGE_FILE).read_text())
    assert (record["labels_done"], record["done"]) == (40, False)  # batches stop at file ends: 34, 38, 40
    # a kill after a batch was written, before the record moved on: at most one batch past it
    with open(d / "postdata_4.bin", "ab") as file:
        file.write(b"\xaa" * 16 * 3)
    assert init(d, "--from", "30", "--to", "80") == 0
    assert init(tmp_path / "r0", "--from", "0", "--to", "30") == 0
    assert main([*MERGE, str(d), str(tmp_path / "r0"), "--into", str(tmp_path / "m")]) == 0
    assert contents(tmp_path / "m") == single
    assert init(d, "--from", "30", "--to", "80") == 0  # finished: checked, nothing written


@pytest.mark.parametrize(("first", "end", "message"), [
    ("5", "30", "--from 5 is not on a data-file boundary (files hold 10 labels: 0 or 10)"),
    ("30", "30", "--from 30 --to 30 is not a non-empty range of the 80 labels"),
    ("0", "81", "--from 0 --to 81 is not a non-empty range of the 80 labels"),
    ("0", "35", "--to 35 is not on a data-file boundary (files hold 10 labels: 30 or 40)"),
])
def test_bad_ranges_are_refused(tmp_path, capsys, first, end, message):
    assert init(tmp_path / "r", "--from", first, "--to", end) == 2
    assert one_error_line(capsys) == f"smspec: error: {message}\n"
    assert not (tmp_path / "r").exists()


def test_range_directory_mismatches_are_refused(tmp_path, capsys, ranges):
    capsys.readouterr()
    before = hashes(*ranges)
    assert init(ranges[0], "--from", "0", "--to", "40") == 2
    assert "holds the range --from 0 --to 30, not --from 0 --to 40" in one_error_line(capsys)
    assert main([*INIT, str(ranges[0]), *ARGS, "--backend", "cpu", "--from", "0", "--to", "30",
                 "--scrypt-n", "32"]) == 2
    assert "scrypt_n differ" in one_error_line(capsys)
    assert init(ranges[1], "--devices", "all", "--from", "30") == 2
    assert "use one or the other" in one_error_line(capsys)
    assert hashes(*ranges) == before


def test_merge_refusals(tmp_path, capsys, ranges):
    capsys.readouterr()
    before = hashes(*ranges)
    into = str(tmp_path / "m")
    assert main([*MERGE, str(ranges[0]), str(ranges[2]), "--into", into]) == 2
    assert one_error_line(capsys) == ("smspec: error: labels 30 .. 59 are in none of the ranges: the merge "
                                      "needs the whole data set\n")
    other = tmp_path / "other"
    assert init(other, "--from", "0", "--to", "40") == 0
    capsys.readouterr()
    assert main([*MERGE, *map(str, ranges), str(other), "--into", into]) == 2
    assert "overlaps another range" in one_error_line(capsys)
    differ = tmp_path / "differ"
    assert main([*INIT, str(differ), "--node-id", "77" * 32, "--commitment-atx", ZERO, *SHAPE, "--no-progress",
                 "--backend", "cpu", "--from", "60", "--to", "80"]) == 0
    capsys.readouterr()
    assert main([*MERGE, str(ranges[0]), str(ranges[1]), str(differ), "--into", into]) == 2
    assert "(node_id differ): ranges of one data set only" in one_error_line(capsys)
    unfinished = tmp_path / "unfinished"
    assert init(unfinished, "--from", "60", "--to", "80", "--batch", "4", "--stop-after", "4") == 3
    capsys.readouterr()
    assert main([*MERGE, str(ranges[0]), str(ranges[1]), str(unfinished), "--into", into]) == 2
    assert "holds an unfinished range (4 of 20 labels)" in one_error_line(capsys)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    assert main([*MERGE, *map(str, ranges), "--into", str(tmp_path / "full")]) == 2
    assert "is not empty" in one_error_line(capsys)
    assert main([*MERGE, str(tmp_path / "full"), "--into", into]) == 2
    assert "is not a range directory" in one_error_line(capsys)
    assert not os.path.exists(into)
    assert hashes(*ranges) == before


def test_damaged_range_is_refused_before_the_merge(tmp_path, capsys, ranges):
    # the first label of a range sits at a join: it is re-derived before anything is written
    capsys.readouterr()
    path = ranges[1] / "postdata_3.bin"
    data = bytearray(path.read_bytes())
    data[0] ^= 1
    path.write_bytes(bytes(data))
    assert main([*MERGE, *map(str, ranges), "--into", str(tmp_path / "m")]) == 2
    assert "label 30 is not the label of these parameters" in one_error_line(capsys)
    assert not (tmp_path / "m").exists()
    # a record that promises more than the files hold
    record = json.loads((ranges[2] / post_data.RANGE_FILE).read_text())
    (ranges[2] / "postdata_7.bin").write_bytes((ranges[2] / "postdata_7.bin").read_bytes()[:16])
    assert init(ranges[2], "--from", "60", "--to", "80") == 2
    assert "does not explain" in one_error_line(capsys)
    assert json.loads((ranges[2] / post_data.RANGE_FILE).read_text()) == record


def test_split_ranges_follow_files():
    from smspec import spec
    from smspec.tools.post_parallel import split_ranges

    post = spec.load("post", "tiny")
    params = post_data.InitParams(bytes(32), bytes(32), 40, 2, 160, 16)
    assert split_ranges(post, params, 3) == [(0, 20), (20, 50), (50, 80)]
    assert split_ranges(post, params, 100) == [(k, k + 10) for k in range(0, 80, 10)]
    assert split_ranges(post, post_data.InitParams(bytes(32), bytes(32), 7, 1, 160, 16), 4) == [(0, 7)]


def test_dask_local_cluster_is_byte_identical(tmp_path, single):
    pytest.importorskip("distributed", reason="Dask's distributed scheduler is not installed "
                        "(pip install 'smspec[distributed]'): --cluster is not tested here")
    assert init(tmp_path / "d", "--cluster", "local:2", "--work", str(tmp_path / "work")) == 0
    assert contents(tmp_path / "d") == single
    assert sorted(os.listdir(tmp_path / "work")) == ["labels-0-40", "labels-40-80"]
    # a rerun checks the finished directory (no cluster is started) and changes nothing
    assert init(tmp_path / "d", "--cluster", "local:2", "--work", str(tmp_path / "work")) == 0
    assert contents(tmp_path / "d") == single


@pytest.mark.gpu
def test_devices_all_is_byte_identical(tmp_path, single):
    from smspec.gpu import opencl_available

    if not opencl_available():
        pytest.skip("no OpenCL platform")
    assert main([*INIT, str(tmp_path / "d"), *ARGS, "--devices", "all"]) == 0
    assert contents(tmp_path / "d") == single
