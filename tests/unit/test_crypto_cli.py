"""``smspec crypto`` commands: outputs equal the spec functions; bad input is one line, exit 2."""

from __future__ import annotations

import pytest
from smspec.impl import registry
from smspec.spec import crypto
from smspec.tools.cli import main

SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"  # RFC 8032 TEST 1
PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
PROOF = ("7d9c633ffeee27349264cf5c667579fc583b4bda63ab71d001f89c10003ab46f14adf9a3cd8b8412d9038531e865c341"
         "cafa73589b023d14311c331a9ad15ff2fb37831e00f0acaa6d73bc9997b06501")  # RFC 9381 B.4 example 1


@pytest.fixture(autouse=True)
def keep_backend():
    """The commands select a backend for the process; put the session's back afterwards."""
    previous = registry.active_backend()
    yield
    registry.use_backend(previous)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(["crypto", *argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("backend", ["spec", "impl"])
def test_sign_and_verify_round_trip(capsys, backend):
    status, out, _ = run(capsys, "sign", "--seed", SEED, "--domain", "hare", "--text", "hi", "--backend", backend)
    assert status == 0
    signature = out.split("signature:")[1].strip()
    genesis = bytes.fromhex("9eebff023abb17ccb775c602daade8ed708f0a50")
    assert signature == crypto.sign(bytes.fromhex(SEED), crypto.Domain.HARE, genesis, b"hi").hex()
    status, out, _ = run(capsys, "verify", "--public-key", PUBLIC, "--domain", "3", "--text", "hi",
                         "--signature", signature, "--backend", backend)
    assert (status, out) == (0, "valid\n")
    status, out, _ = run(capsys, "verify", "--public-key", PUBLIC, "--domain", "atx", "--text", "hi",
                         "--signature", signature, "--backend", backend)
    assert (status, out) == (1, "invalid\n")


def test_vrf_commands(capsys):
    status, out, _ = run(capsys, "vrf-prove", "--seed", SEED, "--hex", "")
    assert status == 0 and f"proof:      {PROOF}" in out
    status, out, _ = run(capsys, "vrf-verify", "--public-key", PUBLIC, "--proof", "0x" + PROOF, "--hex", "")
    assert status == 0 and out.startswith("valid\nbeta: 9d574bf9")
    status, out, _ = run(capsys, "vrf-verify", "--public-key", PUBLIC, "--proof", PROOF, "--hex", "00")
    assert (status, out) == (1, "invalid\n")


def test_hash_genesis_and_merkle(capsys):
    assert run(capsys, "hash", "--hex", "")[1].strip() == crypto.hash32(b"").hex()
    assert run(capsys, "hash", "--text", "abc", "--length", "40")[1].strip() == crypto.blake3_xof(b"abc", 40).hex()
    status, out, _ = run(capsys, "genesis-id", "--time", "2023-07-14T08:00:00Z", "--extra-data",
                         "00000000000000000001a6bc150307b5c1998045752b3c87eccf3c013036f3cc")
    assert status == 0 and "genesis_id: 9eebff023abb17ccb775c602daade8ed708f0a50" in out
    assert run(capsys, "genesis-id", "--time", "1689321600", "--extra-data", "x")[1] == \
        run(capsys, "genesis-id", "--time", "2023-07-14T08:00:00Z", "--extra-data", "x")[1]
    leaves = [bytes([i]) * 32 for i in range(5)]
    out = run(capsys, "merkle-root", *[leaf.hex() for leaf in leaves])[1].strip()
    assert out == crypto.merkle_root(leaves).hex()


@pytest.mark.parametrize("argv, message", [
    (["sign", "--seed", "00", "--domain", "hare", "--hex", "00"], "--seed must be 32 bytes"),
    (["sign", "--seed", SEED, "--domain", "nope", "--hex", "00"], "unknown domain 'nope'"),
    (["hash"], "give exactly one of --hex, --text, --file"),
    (["hash", "--hex", "xyz"], "--hex is not hex"),
    (["hash", "--file", "/nonexistent/file"], "--file '/nonexistent/file' does not exist"),
    (["genesis-id", "--time", "yesterday", "--extra-data", "x"], "--time must be Unix seconds or RFC 3339"),
    (["vrf-verify", "--public-key", PUBLIC, "--proof", "00", "--hex", ""], "--proof must be 80 bytes"),
])
def test_bad_input_is_one_line(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.startswith("smspec: error: ") and message in err and err.count("\n") == 1


def test_bench_crypto_prints_each_vrf_floor(capsys):
    """``bench crypto`` times the primitives and prints one floor line per VRF operation, with the
    spec ratio it allows and the impl's fraction of it; each floor is also a recorded measure."""
    from smspec.tools import bench_crypto, benchtable

    benchtable.take()
    assert main(["bench", "crypto", "--seconds", "0.01", "--rounds", "1", "--leaves", "4"]) == 0
    out = capsys.readouterr().out
    floor_lines = [line for line in out.splitlines() if line.startswith("vrf ") and " floor " in line]
    assert [line.split()[:2] for line in floor_lines] == [["vrf", "prove"], ["vrf", "verify"],
                                                        ["vrf", "proof_to_hash"]]
    assert all("x spec; impl at" in line for line in floor_lines)
    assert "var-base mult" in out and "X25519 ladder" in out and "would make the floors: prove " in out
    floors = [m for m in benchtable.take() if m.name.endswith("(its primitive floor)")]
    assert [m.name for m in floors] == ["vrf prove (its primitive floor)", "vrf verify (its primitive floor)",
                                       "vrf proof_to_hash (its primitive floor)"]
    assert all(m.peer == "the sum of its primitives (same run)" and m.ratio is not None for m in floors)
    assert bench_crypto.floors(native=False) == {
        "vrf prove": {"var-base mult": 2, "base mult": 1, "SHA-512 block": 5, "inversion mod p": 1,
                      "point add": 1, "from_uniform": 1},
        "vrf verify": {"var-base mult": 3, "base mult": 1, "SHA-512 block": 4, "inversion mod p": 1,
                       "point add": 3, "from_uniform": 1},
        "vrf proof_to_hash": {"point add": 3, "SHA-512 block": 1},
    }
