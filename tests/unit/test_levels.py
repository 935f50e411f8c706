"""Live vs spec-strict tagging (issue 15): the tables of conformance/levels.py stay true."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import pytest
from smspec.conformance import levels, specrefs

INDEX = Path(__file__).resolve().parents[2] / "vectors" / "index.json"


def case_names() -> list[str]:
    """``domain/runner/handler/case`` of every committed case (from vectors/index.json)."""
    paths = json.loads(INDEX.read_text())["cases"]
    return sorted({"/".join(path.split("/")[1:5]) for path in paths})


@pytest.mark.parametrize("entry", levels.STRICT, ids=lambda e: e.pattern)
def test_every_strict_entry_names_a_case_and_a_decision(entry: levels.Strict) -> None:
    assert any(fnmatch.fnmatchcase(name, entry.pattern) for name in case_names()), f"{entry.pattern}: no such case"
    assert specrefs.has_decision(entry.decision), f"{entry.decision} holds no *Decision* paragraph"
    assert entry.why


@pytest.mark.parametrize("entry", levels.DEVNET, ids=lambda e: e.pattern)
def test_every_devnet_entry_names_a_case_and_a_section(entry: levels.Devnet) -> None:
    assert any(fnmatch.fnmatchcase(name, entry.pattern) for name in case_names()), f"{entry.pattern}: no such case"
    specrefs.resolve(entry.ref)
    assert entry.why


@pytest.mark.parametrize("rule", levels.UNTYPED, ids=lambda r: r.pattern)
def test_every_untyped_rule_names_cases(rule: levels.Untyped) -> None:
    assert any(fnmatch.fnmatchcase(name, rule.pattern) for name in case_names()), f"{rule.pattern}: no such case"


def test_levels_of_known_cases() -> None:
    strict = levels.level_of("scale/codec/string/decode_not_utf8", "invalid_utf8")
    assert strict.fields() == {"level": "spec-strict", "decision": "scale.md#string",
                               "decision_note": "go-scale accepts any bytes in a string field; the spec requires UTF-8",
                               "typed_input": True}
    untyped = levels.level_of("scale/codec/compact8/encode_256", "out_of_range").fields()
    assert untyped["level"] == "live" and untyped["typed_input"] is False
    assert levels.level_of("scale/codec/byte_slice/encode_over_max", "length_over_max").fields() == {
        "level": "live", "typed_input": True}  # a Go slice can be longer than its max
    assert levels.level_of("athena/syscalls/run/host_read_unaligned", "unaligned_syscall_pointer").strict is not None
    devnet = levels.level_of("node/proposal/validate/bad_ref", "bad_ref").fields()
    assert devnet == {"level": "devnet", "devnet_ref": "node.md#proposal-validation",
                      "devnet_note": levels._NODE_RULE + " and its own proposal wire format", "typed_input": True}
    assert levels.level_of("node/address/decode/wrong_hrp", "wrong_hrp").fields()["level"] == "live"
    assert levels.level_of("atx/validate/v3/solo", None).fields()["level"] == "devnet"
    own = levels.level_of("x/y/z/c", None, strict="hare.md#validate_message", strict_why="because")
    assert own.fields()["decision"] == "hare.md#validate_message"


def test_committed_vectors_carry_their_level() -> None:
    """The generator writes the levels: spot-check the generated tree when it is there."""
    root = INDEX.parent
    case = root / "mainnet" / "scale" / "codec" / "string" / "decode_not_utf8" / "case.json"
    if not case.is_file():
        pytest.skip("vectors/ not generated (make vectors)")
    assert json.loads(case.read_text())["level"] == "spec-strict"
