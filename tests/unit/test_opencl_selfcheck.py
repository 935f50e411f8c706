"""The OpenCL self-check and configuration choice (gpu/opencl.py, gpu/known_answers.py).

A broken kernel configuration (wrong labels, a compile error, a crash of the probing child) is
rejected and the next passing one is used; verdicts are cached under an exact key; a forced
configuration that fails is refused loudly; with nothing passing, ``post init --backend opencl``
answers one line and leaves nothing behind. The broken kernels are the real ``gpu/scrypt.cl``
with one deliberate fault each, handed over through ``SMSPEC_OPENCL_KERNELS``.
"""

from __future__ import annotations

import json
import types

import pytest
from smspec.gpu import KERNEL_DIR, known_answers, opencl
from smspec.impl import post as impl
from smspec.impl.registry import use_backend
from smspec.spec import load
from smspec.tools.cli import main

ZERO = "00" * 32
SMALL_MEMORY = str(16 * 2**20)  # 16 labels per launch at N = 8192: quick measurements


@pytest.fixture
def spec_modules():
    use_backend("spec")  # tests/plugin.py restores the session's backend afterwards
    return load("post"), load("post_best")


def test_known_answers_are_the_spec_outputs(spec_modules):
    """Every committed expected value is what the spec computes (N = 8192 through the impl here,
    which the differential tests hold equal to the spec; the slow test below uses the spec)."""
    post, post_best = spec_modules

    def compute_labels(commitment, start, count, scrypt_n):
        if scrypt_n == 8192:
            return impl.compute_labels(commitment, start, count, scrypt_n)
        return post.compute_labels(commitment, start, count, scrypt_n)

    hybrid = types.SimpleNamespace(compute_labels=compute_labels, initialize_range=post.initialize_range)
    assert known_answers.differences(hybrid, post_best) == []


@pytest.mark.slow
def test_known_answers_n8192_from_the_spec(spec_modules):
    post, post_best = spec_modules
    assert known_answers.differences(post, post_best) == []


def test_known_answers_cover_what_configurations_get_wrong():
    labels = {case.name: case for case in known_answers.LABELS}
    assert labels["spec_zero_n8192"].outputs[64:128].startswith("82032392")  # the label issue 12 got wrong
    assert any(case.start + case.count == 2**64 for case in known_answers.LABELS)
    assert any(case.start < 2**32 < case.start + case.count for case in known_answers.LABELS)
    assert any(case.count % case.batch and case.batch % 4 for case in known_answers.LABELS)  # partial items
    scans = {case.name: case for case in known_answers.SCANS}
    assert scans["go_post_pow"].best == (165545, "00001f81fadfc488b990c940aba8367a97e85cbb5bc0720a308d293b22902a74")
    equal = scans["spec_threshold_equal"]
    outputs = labels["spec_u64_end"].outputs
    assert equal.difficulty.hex() in outputs and outputs.index(equal.difficulty.hex()) // 64 not in equal.below


# ------------------------------------------------------------------------------------------------
# The verdict cache (no device needed)


def test_cache_reads_only_its_own_key(tmp_path, monkeypatch):
    monkeypatch.setenv("SMSPEC_CACHE_DIR", str(tmp_path))
    key = {"format": 1, "engine": "scrypt", "device": {"device": "d"}, "source": "s",
           "candidates": [{"local": 1}], "measure": {}}
    results = [{"config": {"local": 1}, "ok": True, "reason": None, "rate": 1.0, "cpu_rate": None}]
    assert opencl.read_cache(key) is None
    opencl.write_cache(key, results)
    path = opencl.cache_path(key)
    assert path.parent == tmp_path and opencl.read_cache(key) == results
    other = {**key, "device": {"device": "e"}}
    assert opencl.cache_path(other) != path and opencl.read_cache(other) is None
    # a file at the right place with another key inside is not trusted
    data = json.loads(path.read_text())
    data["key"]["source"] = "t"
    path.write_text(json.dumps(data))
    assert opencl.read_cache(key) is None
    for corrupt in ("{not json", "[]", '{"key": null}', json.dumps({"key": key, "results": [{"ok": True}]})):
        path.write_text(corrupt)
        assert opencl.read_cache(key) is None
    opencl.write_cache(key, results)  # rewritten
    assert opencl.read_cache(key) == results


def test_cache_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("SMSPEC_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert opencl.cache_dir() == tmp_path / "xdg" / "smspec"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert opencl.cache_dir() == tmp_path / "home" / ".cache" / "smspec"
    monkeypatch.setenv("SMSPEC_CACHE_DIR", str(tmp_path / "mine"))
    assert opencl.cache_dir() == tmp_path / "mine"


# ------------------------------------------------------------------------------------------------
# Probing real builds on the device the engine chose


def broken_kernel(directory, *, always_fails: bool = False):
    """scrypt.cl with deliberate faults: 4 labels per item does not compile, 2 per item computes
    wrong labels (one bit of the HMAC pad), 1 per item with interleaved tables writes far out of
    bounds (the probing child crashes); 1 per item with contiguous tables is the real kernel.
    (4 per item is the build pocl 3.0 itself gets wrong on some CPUs, so it carries the fault
    that fails the same way everywhere.)"""
    source = (KERNEL_DIR / "scrypt.cl").read_text()
    pad = "0x3636363636363636UL"
    assert source.count(pad) == 1
    source = source.replace(pad, "(LABELS_PER_ITEM == 2 ? 0x3636363636363637UL : 0x3636363636363636UL)")
    body = "    const uint gid = get_global_id(0);\n    if (gid * LABELS_PER_ITEM >= count)"
    assert source.count(body) == 1
    source = source.replace(body, "    const uint gid = get_global_id(0);\n"
                            "#if LABELS_PER_ITEM == 1 && !defined(CONTIGUOUS_SCRATCH)\n"
                            "    ((__global volatile uint *)out)[(ulong)gid + (1UL << 40)] = 1;\n"
                            "#endif\n" + body[len("    const uint gid = get_global_id(0);\n"):])
    guard = "#error \"deliberately broken\"\n"
    source = (guard if always_fails else "#if LABELS_PER_ITEM == 4\n" + guard + "#endif\n") + source
    directory.mkdir(exist_ok=True)
    (directory / "scrypt.cl").write_text(source)
    return directory


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """A private verdict cache, fresh in-process choices and engines, one device (the one the
    engine chose for the real kernel), small launches."""
    device = opencl.plan("scrypt")[0][0]
    from smspec.gpu import post as gpu_post
    from smspec.gpu import post_best as gpu_best

    monkeypatch.setenv("SMSPEC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SMSPEC_OPENCL_DEVICE", device.address)
    monkeypatch.setenv("SMSPEC_OPENCL_MEMORY", SMALL_MEMORY)
    monkeypatch.setattr(opencl, "_VERDICTS", {})
    monkeypatch.setattr(opencl, "_PLANS", {})
    monkeypatch.setattr(gpu_post, "_ENGINE", None)
    monkeypatch.setattr(gpu_best, "_ENGINE", None)
    return device


def count_children(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = opencl._run_child

    def counting(kind, device, batch, *rest):
        calls.append(len(batch))
        return real(kind, device, batch, *rest)

    monkeypatch.setattr(opencl, "_run_child", counting)
    return calls


@pytest.mark.gpu
def test_broken_configurations_are_rejected_and_the_next_is_used(isolated, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SMSPEC_OPENCL_KERNELS", str(broken_kernel(tmp_path / "kernels")))
    monkeypatch.setenv("SMSPEC_OPENCL_LAYOUT", "contiguous")
    monkeypatch.setenv("SMSPEC_OPENCL_LOCAL", "1")
    children = count_children(monkeypatch)
    describe = opencl.engine_class("scrypt").describe
    results = {describe(r["config"]): r for r in opencl.verdicts("scrypt", isolated)}
    assert list(results) == ["4/item contiguous local 1", "2/item contiguous local 1", "1/item contiguous local 1"]
    assert results["4/item contiguous local 1"]["reason"].startswith("does not build: clBuildProgram failed")
    assert results["4/item contiguous local 1"]["reason"].endswith('"deliberately broken"')
    assert results["2/item contiguous local 1"]["reason"] == "labels differ from the spec (c_zero_n2: label 0)"
    assert [r["ok"] for r in results.values()] == [False, False, True]
    assert results["1/item contiguous local 1"]["rate"] > 0
    assert children == [3, 2, 1]  # a child stops after a failed candidate; a fresh one takes the rest

    from smspec.gpu import post as gpu_post

    engine = gpu_post.engine()
    assert engine.config == {"labels_per_item": 1, "layout": "contiguous", "local": 1}
    post = load("post")
    spec_compute = post.__dict__.get("__spec_originals__", {}).get("compute_labels") or post.compute_labels
    assert engine.outputs(bytes(range(32)), 5, 9, 16, batch=4)[0] == spec_compute(bytes(range(32)), 5, 9, 16)

    # `post devices` shows every verdict and the choice (scrypt from the cache: no new child)
    capsys.readouterr()
    assert main(["post", "devices"]) == 0
    out = capsys.readouterr().out
    assert children == [3, 2, 1, 3]  # the score engine's three candidates, probed once
    assert f"device {isolated.address}: {isolated.info['device']}" in out
    assert "    scrypt labels: best 1/item contiguous local 1\n" in out
    assert "      4/item contiguous local 1    FAIL  does not build: clBuildProgram failed" in out
    assert "      2/item contiguous local 1    FAIL  labels differ from the spec (c_zero_n2: label 0)\n" in out
    line = next(li for li in out.splitlines() if li.strip().startswith("1/item contiguous local 1"))
    assert line.split()[4] == "pass" and line.split()[6] == "labels/s"
    engines = out.splitlines()[-2:]
    assert engines[0].startswith(f"scrypt labels engine: device {isolated.address} (")
    assert engines[0].endswith("), 1/item contiguous local 1")
    assert engines[1].startswith(f"best-labels score engine: device {isolated.address} (")


@pytest.mark.gpu
def test_crashing_configuration_is_rejected(isolated, tmp_path, monkeypatch):
    """The 1-label-per-item interleaved build of the broken kernel writes far out of bounds; on a
    CPU device that kills the probing child, which is reported and survived."""
    monkeypatch.setenv("SMSPEC_OPENCL_KERNELS", str(broken_kernel(tmp_path / "kernels")))
    monkeypatch.setenv("SMSPEC_OPENCL_LABELS_PER_ITEM", "1")
    monkeypatch.setenv("SMSPEC_OPENCL_LOCAL", "1")
    results = opencl.verdicts("scrypt", isolated)
    assert [r["config"]["layout"] for r in results] == ["contiguous", "interleaved"]
    assert [r["ok"] for r in results] == [True, False]
    if "CPU" in isolated.info["type"]:  # pocl runs kernels in the child's own threads
        assert results[1]["reason"] == "crashed (SIGSEGV)"
    from smspec.gpu import post as gpu_post

    assert gpu_post.engine().config == {"labels_per_item": 1, "layout": "contiguous", "local": 1}


@pytest.mark.gpu
def test_cache_is_reused_and_keyed(isolated, tmp_path, monkeypatch):
    for name, value in (("LABELS_PER_ITEM", "1"), ("LAYOUT", "contiguous"), ("LOCAL", "1")):
        monkeypatch.setenv(f"SMSPEC_OPENCL_{name}", value)
    children = count_children(monkeypatch)
    first = opencl.verdicts("scrypt", isolated)
    assert len(children) == 1 and [r["ok"] for r in first] == [True]
    files = sorted((tmp_path / "cache").glob("opencl-scrypt-*.json"))
    assert len(files) == 1
    stored = json.loads(files[0].read_text())
    assert stored["results"] == first
    assert stored["key"]["device"] == isolated.info and stored["key"]["candidates"] == [
        {"labels_per_item": 1, "layout": "contiguous", "local": 1}]
    assert stored["key"]["measure"]["scratch"] == int(SMALL_MEMORY)

    opencl.reset()
    assert opencl.verdicts("scrypt", isolated) == first and len(children) == 1  # from the file
    files[0].write_text("{corrupt")
    opencl.reset()
    assert opencl.verdicts("scrypt", isolated)[0]["ok"] and len(children) == 2  # probed again ...
    assert json.loads(files[0].read_text())["key"] == stored["key"]  # ... and rewritten
    # another kernel text is another key: a new file, never the old verdict
    kernels = tmp_path / "kernels"
    kernels.mkdir()
    (kernels / "scrypt.cl").write_text((KERNEL_DIR / "scrypt.cl").read_text() + "\n/* changed */\n")
    monkeypatch.setenv("SMSPEC_OPENCL_KERNELS", str(kernels))
    opencl.reset()
    opencl.verdicts("scrypt", isolated)
    assert len(children) == 3 and len(list((tmp_path / "cache").glob("opencl-scrypt-*.json"))) == 2


@pytest.mark.gpu
def test_forced_configuration_that_fails_is_refused(isolated, tmp_path, monkeypatch):
    monkeypatch.setenv("SMSPEC_OPENCL_KERNELS", str(broken_kernel(tmp_path / "kernels")))
    monkeypatch.setenv("SMSPEC_OPENCL_LABELS_PER_ITEM", "4")  # the build with a compile error
    monkeypatch.setenv("SMSPEC_OPENCL_LAYOUT", "contiguous")
    monkeypatch.setenv("SMSPEC_OPENCL_LOCAL", "1")
    from smspec.gpu import post as gpu_post

    with pytest.raises(opencl.OpenCLUnavailable) as error:
        gpu_post.engine()
    message = str(error.value)
    assert "\n" not in message and "(restricted by SMSPEC_OPENCL_LABELS_PER_ITEM=4 " in message
    assert "4/item contiguous local 1: does not build: clBuildProgram failed" in message and message.endswith(
        "use --backend cpu (details: smspec post devices)")


def test_bad_forcing_values_are_one_line_errors(monkeypatch):
    from smspec.gpu import post as gpu_post

    for name, value in (("LABELS_PER_ITEM", "3"), ("LAYOUT", "diagonal"), ("LOCAL", "0")):
        monkeypatch.setenv(f"SMSPEC_OPENCL_{name}", value)
        with pytest.raises(opencl.OpenCLUnavailable, match=f"SMSPEC_OPENCL_{name} must be"):
            gpu_post._forced()
        monkeypatch.delenv(f"SMSPEC_OPENCL_{name}")


def test_in_process_failure_falls_back_to_the_next_passing(monkeypatch, capsys):
    """A configuration that passed in the probe but fails its self-check when built here is
    skipped with a warning (the engine classes are stand-ins: no device needed)."""
    device = opencl.Device(0, 0, (("platform", "p"), ("platform_version", "v"), ("vendor", "x"),
                                  ("device", "fake"), ("driver", "1"), ("device_version", "1"), ("type", "CPU")))
    monkeypatch.setattr(opencl.Device, "get", lambda self: None)
    built = []

    class Engine:
        TITLE = "test"

        def __init__(self, device, config):
            self.config = config
            built.append(config["local"])

        @staticmethod
        def describe(config):
            return f"local {config['local']}"

        def self_check(self):
            if self.config["local"] == 8:
                raise opencl.SelfCheckFailed("labels differ from the spec (x: label 0)")

    results = [{"config": {"local": local}, "ok": True, "reason": None, "rate": rate, "cpu_rate": None}
               for local, rate in ((8, 10.0), (1, 5.0))]
    monkeypatch.setattr(opencl, "engine_class", lambda kind: Engine)
    monkeypatch.setattr(opencl, "plan", lambda kind: [(device, r) for r in results])
    engine = opencl.build("scrypt")
    assert engine.config == {"local": 1} and built == [8, 1] and engine.verdict == results[1]
    assert "passed in the probe but fails here: labels differ from the spec" in capsys.readouterr().err
    monkeypatch.setattr(opencl, "plan", lambda kind: [(device, results[0])])
    with pytest.raises(opencl.OpenCLUnavailable, match="use --backend cpu$"):
        opencl.build("scrypt")


# ------------------------------------------------------------------------------------------------
# The CLI with every configuration failing


@pytest.mark.gpu
def test_post_init_opencl_with_nothing_passing(isolated, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("SMSPEC_OPENCL_DEVICE")  # every device fails
    monkeypatch.setenv("SMSPEC_OPENCL_KERNELS", str(broken_kernel(tmp_path / "kernels", always_fails=True)))
    for name, value in (("LABELS_PER_ITEM", "1"), ("LAYOUT", "contiguous"), ("LOCAL", "1")):
        monkeypatch.setenv(f"SMSPEC_OPENCL_{name}", value)
    monkeypatch.setenv("SMSPEC_PRESET", "tiny")
    init = ["--preset", "tiny", "post", "init", "--node-id", "4d" * 32, "--commitment-atx", ZERO,
            "--num-units", "1", "--no-progress"]
    datadir = tmp_path / "data"
    capsys.readouterr()
    assert main([*init, str(datadir), "--backend", "opencl"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("smspec: error: no OpenCL configuration of the scrypt labels")
    assert "use --backend cpu" in err and "does not build" in err
    for device in opencl.all_devices():
        assert device.label in err
    assert not datadir.exists()
    assert main(["post", "label", ZERO, "1", "--scrypt-n", "4", "--backend", "opencl"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("smspec: error: no OpenCL configuration")
    # without --backend, init falls back to the CPU with a one-line notice
    assert main([*init, str(datadir), "--stop-after", "1", "--batch", "64"]) == 3
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("smspec: OpenCL is not usable (no OpenCL configuration") and err[0].endswith(
        "initializing on the CPU")
    assert json.loads((datadir / ".smspec-init.json").read_text())["labels_done"] == 64
