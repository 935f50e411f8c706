"""Fuzz corpora per decoder (issue 15): seeds from the vectors, boundary encodings, Hypothesis finds;
deterministic, and every input's recorded outcome is the spec's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from smspec.conformance import corpus
from smspec.tools.cli import main


@pytest.fixture(scope="module")
def vectors(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus") / "vectors"
    assert main(["vectors", "generate", "--dir", str(root), "--quiet", "--only", "scale/codec/compact32",
                 "--only", "post/wire/proof_json"]) == 0
    return root


def test_corpus_is_deterministic_and_true(vectors: Path, tmp_path: Path, capsys) -> None:
    argv = ["vectors", "corpus", "--dir", str(vectors), "--only", "scale/compact32", "--only", "post/proof_from_json",
            "--max-examples", "100", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    assert main([*argv, "--out", str(tmp_path / "b")]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("wrote ")
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b and all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
                                      for f in files_a)
    decoders = {d.name: d for d in corpus.decoders()}
    for name in ("scale/compact32", "post/proof_from_json"):
        folder = tmp_path / "a" / name
        index = json.loads((folder / "index.json").read_text())
        assert index["format"] == "smspec-corpus/1" and index["decoder"] == name
        origins = {entry["origin"] for entry in index["inputs"].values()}
        assert {"seed", "boundary"} <= origins
        for file, entry in index["inputs"].items():
            assert corpus.outcome_of(decoders[name], (folder / file).read_bytes()) == entry["outcome"], file
    compact = json.loads((tmp_path / "a" / "scale/compact32" / "index.json").read_text())["inputs"]
    outcomes = {e["outcome"] for e in compact.values()}
    assert {"ok", "InvalidEncoding/short_input", "InvalidEncoding/non_canonical_compact",
            "InvalidEncoding/compact_overflow", "InvalidEncoding/trailing_bytes"} <= outcomes
    two_byte_63 = ((63 << 2) | 1).to_bytes(2, "little")  # 63 in the two-byte mode: a boundary encoding
    assert compact[corpus.hashlib.sha256(two_byte_63).hexdigest()[:16] + ".bin"]["outcome"] == \
        "InvalidEncoding/non_canonical_compact"


def test_every_decoder_has_seeds_in_the_vectors() -> None:
    """Each decoder names vector handlers that exist (its seeds come from their cases)."""
    from smspec.conformance.handlers import discover

    handlers = discover()
    for decoder in corpus.decoders():
        assert all(key in handlers for key in decoder.seed_keys), decoder.name


def test_no_decoder_matches(tmp_path: Path, vectors: Path, capsys) -> None:
    assert main(["vectors", "corpus", "--dir", str(vectors), "--out", str(tmp_path / "c"), "--only", "nosuch"]) == 2
    assert capsys.readouterr().err == "smspec: error: no decoder matches --only\n"
