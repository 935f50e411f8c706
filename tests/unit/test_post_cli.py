"""`smspec post commitment|label|init|prove|verify` end to end on tiny-preset data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from smspec import spec
from smspec.impl.registry import active_backend, use_backend
from smspec.tools.cli import main

NODE = "4d" * 32
ZERO = "00" * 32
CHALLENGE = b"hello world, CHALLENGE me!!!!!!!".hex()
INIT = ["--preset", "tiny", "post", "init", "--node-id", NODE, "--commitment-atx", ZERO, "--num-units", "2",
        "--no-progress"]


@pytest.fixture(autouse=True)
def restore_backend(monkeypatch):
    monkeypatch.setenv("SMSPEC_PRESET", "tiny")
    before = active_backend()
    yield
    use_backend(before)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The tiny data directory as the spec's own initializer writes it."""
    post = spec.load("post", "tiny")
    d = tmp_path_factory.mktemp("reference")
    post.initialize(str(d), bytes.fromhex(NODE), bytes(32), 2, post.LABELS_PER_UNIT, post.MAX_FILE_SIZE, post.SCRYPT_N)
    return d


def directory_bytes(d) -> dict[str, bytes]:
    return {name: (d / name).read_bytes() for name in sorted(os.listdir(d))}


def test_commitment(capsys):
    assert main(["post", "commitment", NODE, ZERO]) == 0
    # post-rs tests/generate_and_verify.rs identity
    assert capsys.readouterr().out.strip() == "788596c567c2b8f4d5fd10329c57077e432f42caee8283101e0f3964f8c7e076"


@pytest.mark.parametrize("backend", ["spec", "impl", pytest.param("opencl", marks=pytest.mark.gpu)])
def test_label(capsys, backend):
    commitment = "4d006976636a8696d909a630a4081aad4d7c50f81afdee04020bf05086ab6a55"
    assert main(["post", "label", commitment, "1", "--scrypt-n", "4", "--backend", backend]) == 0
    # C scrypt-jane known answer (shared/research/post.md §6.1)
    assert capsys.readouterr().out.strip() == "20ed33a0d795f45f7cb9acddd4fbb24bf5ef4b272bef485122320b66f456a052"


@pytest.mark.parametrize("argv, message", [
    (["post", "commitment", "4d", ZERO], "NODE_ID_HEX must be 32 bytes"),
    (["post", "commitment", "zz" * 32, ZERO], "NODE_ID_HEX must be hex"),
    (["post", "label", ZERO, "0", "--scrypt-n", "6"], "scrypt_n_not_power_of_two"),
])
def test_bad_input(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("smspec: error:") and message in err and "Traceback" not in err


@pytest.mark.parametrize("backend", ["cpu", pytest.param("opencl", marks=pytest.mark.gpu)])
def test_init_matches_spec_and_resumes(tmp_path, reference, backend):
    d = tmp_path / "data"
    # stop after 100 labels (a checkpoint), then pretend the kill came after a data write
    # but before the next checkpoint: garbage past the checkpoint must be discarded
    assert main([*INIT, str(d), "--backend", backend, "--batch", "50", "--stop-after", "100"]) == 3
    assert json.loads((d / ".smspec-init.json").read_text())["labels_done"] == 114  # batches 50, 14 (end of file 0), 50
    with open(d / "postdata_1.bin", "ab") as file:
        file.write(b"\xaa" * 100)
    assert main([*INIT, str(d), "--backend", backend, "--batch", "64"]) == 0
    # post-rs's files, byte for byte, plus the parameter record smspec keeps (tools/post_data.py)
    files = directory_bytes(d)
    assert json.loads(files.pop(".smspec-params.json"))["scrypt_n"] == 16
    assert files == directory_bytes(reference)


def test_init_refuses_other_parameters(tmp_path, capsys):
    d = tmp_path / "data"
    assert main([*INIT, str(d), "--backend", "cpu"]) == 0
    assert main([*INIT, str(d), "--backend", "cpu"]) == 0  # already initialized: nothing to do
    argv = [*INIT, str(d), "--backend", "cpu"]
    argv[argv.index("2")] = "3"
    capsys.readouterr()
    assert main(argv) == 2
    assert "initialized with other parameters (num_units differ)" in capsys.readouterr().err
    assert main([*INIT, str(d), "--backend", "cpu", "--max-file-size", "1000"]) == 2


def test_init_refuses_other_scrypt_n(tmp_path, capsys):
    d = tmp_path / "data"
    assert main([*INIT, str(d), "--backend", "cpu", "--stop-after", "64"]) == 3
    assert main([*INIT, str(d), "--backend", "cpu", "--scrypt-n", "32"]) == 2
    assert "scrypt N = 16, not 32" in capsys.readouterr().err


def test_prove_and_verify(tmp_path, reference, capsys):
    proof = tmp_path / "proof.json"
    assert main(["--preset", "tiny", "post", "prove", str(reference), "--challenge", CHALLENGE,
                 "--out", str(proof), "--no-progress"]) == 0
    # the streaming prover finds the spec's proof (tests/spec/post/test_prove.py)
    assert json.loads(proof.read_text()) == {"nonce": 0, "indices": "ABA0mAA=", "pow": 2}
    verify = ["--preset", "tiny", "post", "verify", str(reference), str(proof), "--challenge", CHALLENGE]
    assert main([*verify, "--all", "--strict", "--check-vrf-nonce"]) == 0
    assert capsys.readouterr().out.strip().endswith("valid")
    assert main([*verify[:-1], ZERO]) == 1
    assert "invalid: k2pow_invalid" in capsys.readouterr().out
    (tmp_path / "bad.json").write_text('{"nonce": 0, "indices": "ABA0mAA", "pow": 2}')
    assert main([*verify[:5], str(tmp_path / "bad.json"), *verify[6:]]) == 1
    assert "invalid: malformed_proof" in capsys.readouterr().out


def test_corrupted_label_is_rejected(tmp_path, reference, capsys):
    d = tmp_path / "data"
    d.mkdir()
    for name, data in directory_bytes(reference).items():
        (d / name).write_bytes(data)
    # Overwrite stored label 1 (fails the test for nonce 0) with label 13 (passes): the prover
    # now reports index 1, and the verifier, which regenerates label 1, rejects the proof.
    raw = bytearray((d / "postdata_0.bin").read_bytes())
    raw[16:32] = raw[16 * 13:16 * 14]
    (d / "postdata_0.bin").write_bytes(bytes(raw))
    proof = tmp_path / "proof.json"
    assert main(["--preset", "tiny", "post", "prove", str(d), "--challenge", CHALLENGE, "--out", str(proof),
                 "--no-progress"]) == 0
    post = spec.load("post", "tiny")
    found = post.proof_from_json(proof.read_text())
    assert found.nonce == 0 and post.decompress_indices(found.indices, 9)[:4] == [0, 1, 8, 13]
    capsys.readouterr()
    assert main(["--preset", "tiny", "post", "verify", str(d), str(proof), "--challenge", CHALLENGE, "--all"]) == 1
    assert "invalid: invalid_msb (index 1 at position 1)" in capsys.readouterr().out


@pytest.mark.parametrize("damage, message", [
    ("truncate", "postdata_2.bin is truncated"),
    ("remove", "postdata_3.bin is missing"),
    ("metadata", "bad_metadata"),
    ("no_metadata", "postdata_metadata.json does not exist"),
])
def test_prove_bad_directory(tmp_path, reference, capsys, damage, message):
    d = tmp_path / "data"
    d.mkdir()
    for name, data in directory_bytes(reference).items():
        (d / name).write_bytes(data)
    if damage == "truncate":
        (d / "postdata_2.bin").write_bytes((d / "postdata_2.bin").read_bytes()[:100])
    elif damage == "remove":
        (d / "postdata_3.bin").unlink()
    elif damage == "metadata":
        (d / "postdata_metadata.json").write_text('{"NodeId": 1}')
    else:
        (d / "postdata_metadata.json").unlink()
    assert main(["--preset", "tiny", "post", "prove", str(d), "--challenge", CHALLENGE, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("smspec: error:") and message in err


@pytest.mark.slow
def test_init_killed_at_random_moments(tmp_path):
    """SIGKILL the initializer several times; the finished directory equals an uninterrupted run."""
    argv = [sys.executable, "-m", "smspec.tools.cli", "--preset", "tiny", "post", "init", "--node-id", NODE,
            "--commitment-atx", ZERO, "--num-units", "4", "--scrypt-n", "256", "--batch", "8",
            "--backend", "cpu", "--no-progress"]
    killed = tmp_path / "killed"
    for delay in (1.5, 2.0, 2.5):
        process = subprocess.Popen([*argv, str(killed)], stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert subprocess.run([*argv, str(killed)], stderr=subprocess.DEVNULL).returncode == 0
    clean = tmp_path / "clean"
    assert subprocess.run([*argv, str(clean)], stderr=subprocess.DEVNULL).returncode == 0
    assert directory_bytes(killed) == directory_bytes(clean)
