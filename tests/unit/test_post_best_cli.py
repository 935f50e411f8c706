"""`smspec post-best prove|verify` end to end on tiny-preset data directories."""

from __future__ import annotations

import json

import pytest
from smspec import spec
from smspec.tools.cli import main

CHALLENGE = "11" * 32


@pytest.fixture(scope="module")
def datadirs(tmp_path_factory):
    post = spec.load("post", "tiny")
    dirs = []
    for n in range(2):
        d = tmp_path_factory.mktemp(f"id{n}")
        # 1 SU = 128 labels in 3 files of 48 labels (768 bytes): the reader crosses files.
        post.initialize(str(d), bytes([n + 1]) * 32, bytes([0xA1 + n]) * 32, 1, post.LABELS_PER_UNIT, 768, post.SCRYPT_N)
        dirs.append(str(d))
    return dirs


@pytest.fixture(autouse=True)
def tiny(monkeypatch):
    monkeypatch.setenv("SMSPEC_PRESET", "tiny")


def test_prove_then_verify(datadirs, tmp_path, capsys):
    out = tmp_path / "proof.json"
    assert main(["--preset", "tiny", "post-best", "prove", *datadirs, "--challenge", CHALLENGE, "--out", str(out), "--no-progress"]) == 0
    document = json.loads(out.read_text())
    pb = spec.load("post_best", "tiny")
    # The CLI's streaming proof equals the spec prover over the same labels.
    from smspec.tests.spec.post_best.support import real_chunks

    identities = [pb.BestIdentity(node_id=bytes([n + 1]) * 32, commitment_atx_id=bytes([0xA1 + n]) * 32, num_units=1) for n in range(2)]
    proof = pb.prove_best(identities, real_chunks(pb, identities), bytes.fromhex(CHALLENGE), pb.POST_BEST_K)
    scale = spec.load("scale")
    assert document["proof"] == "0x" + scale.encode(proof, pb.BestProof).hex()
    assert int(document["weight"]) == pb.best_proof_weight(proof.kth_score, pb.POST_BEST_K, identities)
    capsys.readouterr()
    assert main(["--preset", "tiny", "post-best", "verify", str(out), "--full"]) == 0
    assert capsys.readouterr().out.startswith(f"valid: weight {document['weight']} labels")
    assert main(["--preset", "tiny", "post-best", "verify", str(out), "--seed", "abcd"]) == 0


def test_verify_rejects_tampered_proof(datadirs, tmp_path, capsys):
    out = tmp_path / "proof.json"
    main(["--preset", "tiny", "post-best", "prove", *datadirs, "--challenge", CHALLENGE, "--out", str(out), "--no-progress"])
    document = json.loads(out.read_text())
    pb = spec.load("post_best", "tiny")
    scale = spec.load("scale")
    proof = scale.decode(bytes.fromhex(document["proof"][2:]), pb.BestProof)
    import attrs

    document["proof"] = "0x" + scale.encode(attrs.evolve(proof, kth_score=proof.kth_score // 2), pb.BestProof).hex()
    out.write_text(json.dumps(document))
    capsys.readouterr()
    assert main(["--preset", "tiny", "post-best", "verify", str(out), "--full"]) == 1
    assert "proof rejected: InvalidProof(score_above_kth)" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv,message",
    [
        (["prove", "DIRS", "--challenge", "zz"], "--challenge must be hex"),
        (["prove", "DIRS", "--challenge", "11"], "--challenge must be 32 bytes"),
        (["prove", "/nonexistent", "--challenge", CHALLENGE], "not a directory"),
        (["prove", "DIRS", "--challenge", CHALLENGE, "--k", "1"], "cannot prove: k_too_small"),
        (["prove", "DIRS", "--challenge", CHALLENGE, "--k", "1000"], "cannot prove: not_enough_labels"),
        (["verify", "/nonexistent.json"], "PROOF '/nonexistent.json' does not exist"),
    ],
)
def test_bad_input_one_line_error(datadirs, capsys, argv, message):
    argv = [a for x in argv for a in (datadirs if x == "DIRS" else [x])]
    assert main(["--preset", "tiny", "post-best", *argv, "--no-progress"] if argv[0] == "prove" else ["--preset", "tiny", "post-best", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("smspec: error: ") and message in err and "Traceback" not in err


def test_register_best_adds_post_aliases():
    import argparse

    from smspec.tools.commands.post_best import register_best

    parser = argparse.ArgumentParser(prog="smspec post")
    register_best(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["prove-best", "d1", "d2", "--challenge", CHALLENGE, "--k", "8"])
    assert args.datadirs == ["d1", "d2"] and args.k == 8 and args.func.__name__ == "run_prove"
    assert parser.parse_args(["verify-best", "p.json", "--full"]).func.__name__ == "run_verify"
