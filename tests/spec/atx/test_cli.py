"""``smspec atx``: decode / encode / id / validate, one-line errors, and a decode fuzz test."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from smspec.conformance.cases import to_json
from smspec.tests.spec.atx.builders import World, atx, scale
from smspec.tests.spec.atx.test_codec import hand_decoded_solo, hand_encoded_solo
from smspec.tools.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_decode_encode_id_round_trip(capsys, tmp_path):
    blob = hand_encoded_solo()
    status, out, _ = run(capsys, "atx", "decode", blob.hex())
    assert status == 0
    decoded = json.loads(out)
    assert decoded["publish_epoch"] == 5 and decoded["vrf_nonce"] == 2**30
    path = tmp_path / "atx.json"
    path.write_text(out)
    status, out, _ = run(capsys, "atx", "encode", str(path))
    assert status == 0 and out.strip() == "0x" + blob.hex()
    raw = tmp_path / "atx.bin"
    raw.write_bytes(blob)
    for scheme in ("a", "b"):
        status, out, _ = run(capsys, "atx", "id", str(raw), "--scheme", scheme, "--backend", "spec")
        assert status == 0
        assert out.strip() == "0x" + atx.atx_id_v2(hand_decoded_solo(), atx.IdScheme(scheme)).hex()


def test_bad_inputs_give_one_line_errors(capsys):
    for argv in (["atx", "decode", "zz"], ["atx", "decode", "0x" + hand_encoded_solo().hex() + "00"],
                 ["atx", "encode", "{not json"], ["atx", "encode", '{"publish_epoch": 1}'],
                 ["atx", "id", "abc"]):
        status, out, err = run(capsys, *argv)
        assert status == 2, argv
        assert err.startswith("smspec: error: ") and err.count("\n") == 1, err
    status, _, err = run(capsys, "atx", "decode", "0x" + hand_encoded_solo().hex() + "00")
    assert "trailing_bytes" in err


def test_validate_with_context_file(capsys, tmp_path):
    world = World()
    alice0 = world.initial("alice", 1)
    world.submit(alice0)
    solo = world.solo("alice", 2, world.atx_id(alice0))
    inputs = to_json(world.inputs(solo))
    context = tmp_path / "context.json"
    context.write_text(json.dumps({k: inputs[k] for k in ("config", "poet_proofs", "history")}))
    status, out, _ = run(capsys, "atx", "validate", inputs["blob"], "--context", str(context))
    result = json.loads(out)
    assert status == 0 and result["valid"] and result["weight"] == 40 and result["finding"] is None
    status, out, _ = run(capsys, "atx", "validate", inputs["blob"], "--context", str(context),
                         "--store", str(tmp_path / "state.db"))
    assert status == 0 and json.loads(out)["id"] == result["id"]
    broken = bytes.fromhex(inputs["blob"][2:-2]) + b"\x00"  # last signature byte zeroed
    status, out, _ = run(capsys, "atx", "validate", broken.hex(), "--context", str(context))
    assert status == 1 and json.loads(out)["reason"] == "invalid_signature"
    status, _, err = run(capsys, "atx", "validate", inputs["blob"], "--context", '{"poet_proofs": []}')
    assert status == 2 and err.startswith("smspec: error: context")


def fuzz_decode(data: bytes) -> None:
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for argv in (["atx", "decode", data.hex()], ["atx", "id", "0x" + data.hex()],
                     ["atx", "decode", "--v1", data.hex()]):
            assert main(argv) in (0, 2)


def mutations():
    blob = hand_encoded_solo()
    return st.one_of(
        st.binary(max_size=400),
        st.builds(lambda i, b: blob[:i] + bytes([b]) + blob[i + 1:], st.integers(0, len(blob) - 1), st.integers(0, 255)),
        st.builds(lambda i: blob[:i], st.integers(0, len(blob))),
    )


@given(mutations())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_decode_never_crashes(data):
    fuzz_decode(data)


@pytest.mark.slow
@given(mutations())
@settings(max_examples=5000, deadline=None)
def test_decode_never_crashes_long(data):
    fuzz_decode(data)


def test_decode_of_valid_blob_prints_json(capsys):
    blob = scale.encode(hand_decoded_solo(), atx.ActivationTxV2)
    status, out, _ = run(capsys, "atx", "decode", "--backend", "spec", blob.hex())
    assert status == 0 and json.loads(out)["coinbase"] == "0x" + bytes([0x11]).hex() * 24


def test_verify_proof_command(capsys):
    from smspec.tests.spec.atx.test_malfeasance import detected, envelope

    for scheme in (atx.IdScheme.A, atx.IdScheme.B):
        finding, config = detected(scheme)["double_marry"]
        from smspec.conformance.handlers.atx import config_json

        context = json.dumps({"config": config_json(config)})
        blob = envelope(finding.proof_type, finding.proof)
        status, out, _ = run(capsys, "atx", "verify-proof", blob.hex(), "--context", context)
        assert status == 0 and json.loads(out)["node_id"] == "0x" + finding.node_id.hex()
        broken = blob[:-1] + bytes([blob[-1] ^ 1])
        status, out, _ = run(capsys, "atx", "verify-proof", broken.hex(), "--context", context)
        assert status == 1 and json.loads(out)["valid"] is False
