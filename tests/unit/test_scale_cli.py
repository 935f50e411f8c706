"""``smspec scale encode|decode``: outputs, and one-line errors with the right exit status."""

from __future__ import annotations

import json

import pytest
from smspec.impl import registry
from smspec.tools.cli import main


@pytest.fixture(autouse=True)
def restore_backend():
    """The CLI selects a backend for the whole process; put the session's back afterwards."""
    previous = registry.active_backend()
    yield
    registry.use_backend(previous)


PAYLOAD = '{"struct": [["nonce", "compact64"], ["gas_price", "compact64"]]}'


@pytest.mark.parametrize("backend", ["spec", "impl"])
def test_encode_and_decode(capsys, backend):
    # go-spacemesh wallet golden SpendPayload.json: {Nonce: 1543, GasPrice: 111222333} -> 1d18f678841a
    assert main(["scale", "encode", "--backend", backend, PAYLOAD, '{"nonce": 1543, "gas_price": 111222333}']) == 0
    assert capsys.readouterr().out.strip() == "0x1d18f678841a"
    assert main(["scale", "decode", "--backend", backend, PAYLOAD, "0x1d18f678841a"]) == 0
    assert json.loads(capsys.readouterr().out) == {"nonce": 1543, "gas_price": 111222333}
    assert main(["scale", "decode", "--backend", backend, "--prefix", "compact16", "0101ff"]) == 0
    assert json.loads(capsys.readouterr().out) == {"value": 64, "consumed": 2}


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["scale", "decode", "compact8", "fd00"], 1, "InvalidEncoding (non_canonical_compact)"),
        (["scale", "decode", "compact8", "0400"], 1, "InvalidEncoding (trailing_bytes)"),
        (["scale", "encode", "compact8", "256"], 1, "InvalidValue (out_of_range)"),
        (["scale", "encode", "bogus", "1"], 2, "TYPE: unknown SCALE type 'bogus'"),
        (["scale", "encode", '{"slice": "compact8", "max": 3}', "[]"], 2, "TYPE: go-scale has no slice"),
        (["scale", "encode", '{"bytes": 2}', "0x01"], 2, "VALUE is not valid JSON"),
        (["scale", "encode", '{"bytes": 2}', '"01"'], 2, "VALUE: value: expected a 0x-prefixed hex string"),
        (["scale", "decode", "compact8", "0xzz"], 2, "HEX: not a hex string"),
    ],
)
def test_errors_are_one_line(capsys, argv, status, message):
    assert main(argv) == status
    err = capsys.readouterr().err
    assert err.startswith("smspec: error: ") and message in err
    assert err.count("\n") == 1
