"""``smspec crypto``: hash, sign, verify, VRF prove/verify, genesis ID and Merkle roots exactly as
go-spacemesh computes them (spec/crypto.md)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from smspec.tools.cli import CliError, integer, read_input, set_backend_from_args

MAINNET_GENESIS_ID = "9eebff023abb17ccb775c602daade8ed708f0a50"
GENESIS_ID_SIZE = 20  # spec/crypto.md GENESIS_ID_SIZE
MAX_XOF_LENGTH = 2**20  # --length: printed as hex, so a MiB is plenty
MAX_EXTRA_DATA = 255  # go-spacemesh refuses empty or longer extra data (spec/crypto.md, Genesis ID)
INT64 = 2**63


def _hex(text: str, what: str, size: int | None = None) -> bytes:
    body = text[2:] if text.startswith(("0x", "0X")) else text
    try:
        data = bytes.fromhex(body)
    except ValueError:
        raise CliError(f"{what} is not hex: {text!r}") from None
    if size is not None and len(data) != size:
        raise CliError(f"{what} must be {size} bytes ({2 * size} hex digits), got {len(data)}")
    return data


def _crypto(args: argparse.Namespace) -> Any:
    set_backend_from_args(args)
    from smspec.spec import crypto

    return crypto


def _genesis(text: str) -> bytes:
    genesis = _hex(text, "--genesis-id")
    if len(genesis) not in (0, GENESIS_ID_SIZE):
        raise CliError(f"--genesis-id must be {GENESIS_ID_SIZE} bytes ({2 * GENESIS_ID_SIZE} hex digits), "
                       f"or '' for none; got {len(genesis)} bytes")
    return genesis


def _domain(crypto: Any, text: str) -> Any:
    names = {d.name.lower(): d for d in crypto.Domain}
    key = text.lower().replace("-", "_")
    if key in names:
        return names[key]
    if key.isdigit() and len(key) <= 3 and int(key) in {int(d) for d in crypto.Domain}:
        return crypto.Domain(int(key))
    raise CliError(f"unknown domain {text!r}; expected one of {', '.join(sorted(names))} or its number")


def _message(args: argparse.Namespace) -> bytes:
    given = [x for x in (args.hex, args.text, args.file) if x is not None]
    if len(given) != 1:
        raise CliError("give exactly one of --hex, --text, --file")
    if args.hex is not None:
        return _hex(args.hex, "--hex")
    if args.text is not None:
        try:
            return str(args.text).encode("utf-8")
        except UnicodeEncodeError:
            raise CliError("--text is not encodable as UTF-8") from None
    return read_input(args.file, "--file")


def _add_message_options(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--hex", metavar="HEX", help=f"{what} as hex bytes")
    parser.add_argument("--text", metavar="TEXT", help=f"{what} as UTF-8 text")
    parser.add_argument("--file", metavar="PATH", help=f"{what}: the bytes of a file")


def _add_backend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=("spec", "impl"), default="impl",
                        help="spec (readable Python) or impl (libsodium-backed; default)")


def _genesis_time(text: str) -> int:
    """Unix seconds (a Go int64, as go-spacemesh's time.Time.Unix()) or an RFC 3339 time."""
    if text.lstrip("-").isdigit() and len(text) <= 20:
        seconds = int(text)
    else:
        try:
            seconds = int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
        except (ValueError, OverflowError):
            raise CliError(f"--time must be Unix seconds or RFC 3339 (2023-07-14T08:00:00Z), got {text[:40]!r}") from None
    if not -INT64 <= seconds < INT64:
        raise CliError(f"--time: {seconds} seconds is outside go-spacemesh's int64 range")
    return seconds


def cmd_hash(args: argparse.Namespace) -> int:
    crypto = _crypto(args)
    data = _message(args)
    if args.length is None:
        print(crypto.hash32(data).hex())
    else:
        print(crypto.blake3_xof(data, args.length).hex())
    return 0


def cmd_public_key(args: argparse.Namespace) -> int:
    crypto = _crypto(args)
    print(crypto.public_key(_hex(args.seed, "--seed", 32)).hex())
    return 0


def cmd_sign(args: argparse.Namespace) -> int:
    crypto = _crypto(args)
    seed = _hex(args.seed, "--seed", 32)
    domain = _domain(crypto, args.domain)
    genesis = _genesis(args.genesis_id)
    signature = crypto.sign(seed, domain, genesis, _message(args))
    print(f"public_key: {crypto.public_key(seed).hex()}")
    print(f"signature:  {signature.hex()}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    crypto = _crypto(args)
    valid = crypto.verify_signature(
        _hex(args.public_key, "--public-key", 32), _domain(crypto, args.domain),
        _genesis(args.genesis_id), _message(args), _hex(args.signature, "--signature", 64))
    print("valid" if valid else "invalid")
    return 0 if valid else 1


def cmd_vrf_prove(args: argparse.Namespace) -> int:
    crypto = _crypto(args)
    seed = _hex(args.seed, "--seed", 32)
    proof = crypto.vrf_prove(seed, _message(args))
    print(f"public_key: {crypto.public_key(seed).hex()}")
    print(f"proof:      {proof.hex()}")
    print(f"beta:       {crypto.vrf_proof_to_hash(proof).hex()}")
    return 0


def cmd_vrf_verify(args: argparse.Namespace) -> int:
    crypto = _crypto(args)
    proof = _hex(args.proof, "--proof", 80)
    valid = crypto.vrf_verify(_hex(args.public_key, "--public-key", 32), proof, _message(args))
    print("valid" if valid else "invalid")
    if valid:
        print(f"beta: {crypto.vrf_proof_to_hash(proof).hex()}")
    return 0 if valid else 1


def cmd_genesis_id(args: argparse.Namespace) -> int:
    crypto = _crypto(args)
    time = _genesis_time(args.time)
    try:
        size = len(args.extra_data.encode("utf-8"))
    except UnicodeEncodeError:
        raise CliError("--extra-data is not valid UTF-8") from None
    if not 1 <= size <= MAX_EXTRA_DATA:
        raise CliError(f"--extra-data: go-spacemesh requires 1 to {MAX_EXTRA_DATA} bytes, got {size}")
    print(f"genesis_id: {crypto.genesis_id(time, args.extra_data).hex()}")
    print(f"golden_atx: {crypto.golden_atx(time, args.extra_data).hex()}")
    return 0


def cmd_merkle_root(args: argparse.Namespace) -> int:
    crypto = _crypto(args)
    leaves = [_hex(leaf, f"leaf {i}") for i, leaf in enumerate(args.leaves)]
    if args.stdin:
        leaves += [_hex(line.strip(), "stdin leaf") for line in sys.stdin if line.strip()]
    node_hash = crypto.sha256_node_hash if args.sha256 else None
    print(crypto.merkle_root(leaves, node_hash).hex())
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "crypto", help="hash, sign, verify and VRF exactly as go-spacemesh",
        description="Cryptographic primitives of spec/crypto.md: BLAKE3, go-spacemesh signatures "
        "(genesis ID ‖ domain ‖ message), ECVRF-EDWARDS25519-SHA512-ELL2, genesis ID, Merkle roots. "
        "Byte arguments are hex (an optional 0x prefix is accepted). Verification commands exit 1 "
        "when the signature or proof is invalid.")
    sub = parser.add_subparsers(dest="crypto_command", metavar="COMMAND")

    p = sub.add_parser("hash", help="BLAKE3-256 (or --length bytes of XOF output)",
                       description="BLAKE3-256 of the input, or the first --length bytes of its XOF stream.")
    _add_message_options(p, "input")
    p.add_argument("--length", type=integer(0, MAX_XOF_LENGTH, "a byte count"),
                   help=f"output this many bytes of the XOF stream instead (at most {MAX_XOF_LENGTH:,})")
    _add_backend(p)
    p.set_defaults(func=cmd_hash)

    p = sub.add_parser("public-key", help="the Ed25519 public key (node ID) of a seed",
                       description="The Ed25519 public key (= go-spacemesh node ID) of a 32-byte seed.")
    p.add_argument("--seed", required=True, help="32-byte private key seed (hex)")
    _add_backend(p)
    p.set_defaults(func=cmd_public_key)

    for name, func, what in (("sign", cmd_sign, "sign"), ("verify", cmd_verify, "verify")):
        p = sub.add_parser(name, help=f"{what} a message as go-spacemesh (genesis ‖ domain ‖ message)",
                           description=f"{what.capitalize()} with Ed25519 over genesis_id ‖ domain byte ‖ "
                           "message, as go-spacemesh's EdSigner/EdVerifier (curve25519-voi rules).")
        if name == "sign":
            p.add_argument("--seed", required=True, help="32-byte private key seed (hex)")
        else:
            p.add_argument("--public-key", required=True, help="32-byte public key / node ID (hex)")
            p.add_argument("--signature", required=True, help="64-byte signature (hex)")
        p.add_argument("--domain", required=True,
                       help="signing domain: atx, proposal, ballot, hare, poet, marriage, "
                       "beacon_first_msg, beacon_followup_msg, or its number")
        p.add_argument("--genesis-id", default=MAINNET_GENESIS_ID,
                       help=f"{GENESIS_ID_SIZE}-byte genesis ID prefix (hex; default: mainnet's; '' for none as "
                       "in go-spacemesh's unit tests)")
        _add_message_options(p, "message")
        _add_backend(p)
        p.set_defaults(func=func)

    p = sub.add_parser("vrf-prove", help="ECVRF proof (80 bytes) and output of an alpha",
                       description="ECVRF-EDWARDS25519-SHA512-ELL2 proof of alpha with the identity key "
                       "(RFC 9381), and its 64-byte output beta.")
    p.add_argument("--seed", required=True, help="32-byte private key seed (hex)")
    _add_message_options(p, "alpha")
    _add_backend(p)
    p.set_defaults(func=cmd_vrf_prove)

    p = sub.add_parser("vrf-verify", help="verify an ECVRF proof",
                       description="Verify an ECVRF-EDWARDS25519-SHA512-ELL2 proof as go-spacemesh "
                       "(curve25519-voi): prints valid/invalid (exit 0/1) and beta when valid.")
    p.add_argument("--public-key", required=True, help="32-byte public key / node ID (hex)")
    p.add_argument("--proof", required=True, help="80-byte proof (hex)")
    _add_message_options(p, "alpha")
    _add_backend(p)
    p.set_defaults(func=cmd_vrf_verify)

    p = sub.add_parser("genesis-id", help="genesis ID and golden ATX of a genesis configuration",
                       description="GenesisID = first 20 bytes of blake3(decimal Unix time ‖ extra data).")
    p.add_argument("--time", required=True, help="genesis time: Unix seconds or RFC 3339 (…Z)")
    p.add_argument("--extra-data", required=True,
                   help=f"the genesis extra-data string (1 to {MAX_EXTRA_DATA} bytes of UTF-8)")
    _add_backend(p)
    p.set_defaults(func=cmd_genesis_id)

    p = sub.add_parser("merkle-root", help="merkle-tree root over hex leaves",
                       description="Root of spacemeshos/merkle-tree over the leaves (node hash "
                       "blake3(0x01 ‖ l ‖ r) as go-spacemesh, or --sha256 for the library default).")
    p.add_argument("leaves", nargs="*", help="leaves (hex)")
    p.add_argument("--stdin", action="store_true", help="also read one hex leaf per line from stdin")
    p.add_argument("--sha256", action="store_true", help="use sha256(l ‖ r) as the node hash")
    _add_backend(p)
    p.set_defaults(func=cmd_merkle_root)

    parser.set_defaults(func=lambda args: parser.print_help() or 2)
