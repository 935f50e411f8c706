"""``smspec atx``: decode, encode, identify and validate ATXs (spec/atx.md, spec/malfeasance.md)."""

from __future__ import annotations

import argparse
import json
import string
from pathlib import Path
from typing import Any

from smspec.tools.cli import CliError, load_json, read_input, set_backend_from_args

HEX_DIGITS = set(string.hexdigits)


def parse_hex(text: str, what: str) -> bytes:
    cleaned = "".join(text.split())
    if cleaned.startswith(("0x", "0X")):
        cleaned = cleaned[2:]
    if not cleaned or not set(cleaned) <= HEX_DIGITS or len(cleaned) % 2:
        raise CliError(f"{what}: not a hex string (and no such file): {text[:40]!r}")
    return bytes.fromhex(cleaned)


def is_path(argument: str) -> bool:
    """Whether `argument` names an existing file or directory (a long hex string is not a path)."""
    try:
        return Path(argument).exists()
    except (OSError, ValueError):
        return False


def read_blob(argument: str, what: str = "ATX") -> bytes:
    """HEX or FILE: a file is read as hex text when it holds only hex digits, else as raw bytes."""
    if argument != "-" and not is_path(argument):
        return parse_hex(argument, what)
    data = read_input(argument, what)
    try:
        text = data.decode("ascii").strip()
    except UnicodeDecodeError:
        return data
    body = text[2:] if text.startswith(("0x", "0X")) else text
    body = "".join(body.split())
    if body and set(body) <= HEX_DIGITS and len(body) % 2 == 0:
        return bytes.fromhex(body)
    return data


def read_json(argument: str, what: str) -> Any:
    """JSON text, or a file holding it (``-``: standard input); depth and size bounded."""
    if argument == "-" or (not argument.lstrip().startswith(("{", "[")) and is_path(argument)):
        return load_json(read_input(argument, what), what)
    return load_json(argument, what)


def modules() -> tuple[Any, Any, Any]:
    from smspec import spec

    return spec.load("atx"), spec.load("malfeasance"), spec.load("scale")


def spec_error(error: Exception, what: str) -> CliError:
    reason = getattr(error, "reason", "")
    detail = getattr(error, "detail", "")
    return CliError(f"{what}: {type(error).__name__} {reason}" + (f" ({detail})" if detail else ""))


def decode_command(args: argparse.Namespace) -> int:
    set_backend_from_args(args)
    atx, _, _ = modules()
    from smspec.conformance.jsonio import value_to_jsonable
    from smspec.spec.errors import SpecError

    blob = read_blob(args.atx)
    try:
        if args.v1:
            value, codec = atx.decode_atx_v1(blob), atx.ActivationTxV1
        else:
            value, codec = atx.decode_atx_v2(blob), atx.ActivationTxV2
    except SpecError as error:
        raise spec_error(error, f"cannot decode {'v1' if args.v1 else 'v2'} ATX") from None
    print(json.dumps(value_to_jsonable(value, codec), indent=1))
    return 0


def encode_command(args: argparse.Namespace) -> int:
    set_backend_from_args(args)
    atx, _, scale = modules()
    from smspec.conformance.jsonio import value_from_jsonable
    from smspec.spec.errors import SpecError

    data = read_json(args.json, "ATX JSON")
    codec = atx.ActivationTxV1 if args.v1 else atx.ActivationTxV2
    try:
        value = value_from_jsonable(data, codec)
        blob = scale.encode(value, codec)
    except SpecError as error:
        raise spec_error(error, "cannot encode ATX") from None
    except (ValueError, TypeError, KeyError) as error:
        raise CliError(f"ATX JSON does not describe a {codec.__name__}: {error}") from None
    print("0x" + blob.hex())
    return 0


def id_command(args: argparse.Namespace) -> int:
    set_backend_from_args(args)
    atx, _, _ = modules()
    from smspec.spec.errors import SpecError

    blob = read_blob(args.atx)
    try:
        if args.v1:
            print("0x" + atx.atx_id_v1(atx.decode_atx_v1(blob)).hex())
        else:
            print("0x" + atx.atx_id_v2(atx.decode_atx_v2(blob), atx.IdScheme(args.scheme)).hex())
    except SpecError as error:
        raise spec_error(error, "cannot decode ATX") from None
    return 0


def make_verifier(name: str, preset: str | None) -> Any:
    if name == "stub":
        from smspec.conformance.handlers.atx import StubPostVerifier

        return StubPostVerifier()
    from smspec import spec

    atx = spec.load("atx")
    return atx.SpecPostVerifier(spec.load("post", preset))


def open_store(atx: Any, path: str) -> Any:
    """The SQLite ATX store at `path` (created if missing), or a one-line error."""
    import sqlite3

    from smspec.impl.atx import SqliteAtxStore

    if Path(path).is_dir():
        raise CliError(f"--store {path!r} is a directory, expected an SQLite file")
    if not Path(path).absolute().parent.is_dir():
        raise CliError(f"--store {path!r}: the directory {str(Path(path).absolute().parent)!r} does not exist")
    try:
        return SqliteAtxStore(atx, path)
    except sqlite3.Error as error:
        raise CliError(f"--store {path!r} is not a usable ATX store: {error}") from None


def validate_command(args: argparse.Namespace) -> int:
    import sqlite3

    try:
        return validate(args)
    except sqlite3.Error as error:  # a database that opened but is not an ATX store
        raise CliError(f"--store {args.store!r}: {error}") from None


def validate(args: argparse.Namespace) -> int:
    set_backend_from_args(args)
    from smspec.conformance.handlers import atx as handlers
    from smspec.spec.errors import SpecError

    context = read_json(args.context, "context") if args.context else {}
    if not isinstance(context, dict) or "config" not in context:
        raise CliError("context: expected a JSON object with 'config' (and optionally 'poet_proofs', 'history')")
    blob = read_blob(args.atx)
    verifier = make_verifier(args.verifier, getattr(args, "preset", None))
    atx, mal, _ = modules()
    store = open_store(atx, args.store) if args.store else atx.MemoryAtxStore()
    try:
        config = handlers.load_config(atx, context["config"])
    except (KeyError, ValueError, TypeError) as error:
        raise CliError(f"context: bad config: {error}") from None
    try:
        for poet in context.get("poet_proofs", []):
            store.add_poet_proof(atx.PoetProofInfo(handlers.hexbytes(poet["ref"], 32),
                                                   handlers.hexbytes(poet["membership_root"], 32),
                                                   handlers.as_int(poet["leaf_count"])))
        history = context.get("history", [])
    except (KeyError, ValueError, TypeError) as error:
        raise CliError(f"context: bad poet_proofs: {error}") from None
    if not isinstance(history, list):
        raise CliError("context: 'history' must be a list")
    from tqdm import tqdm

    for position, entry in enumerate(tqdm(history, desc="history", unit="atx", disable=len(history) < 20)):
        try:
            if "v2" in entry:
                mal.handle_atx_v2(handlers.hexbytes(entry["v2"]), store, config, verifier)
            else:
                v1_blob = handlers.hexbytes(entry["v1"])
                store.add_atx(atx.stored_atx_v1(atx.decode_atx_v1(v1_blob), v1_blob,
                                                handlers.as_int(entry["base_tick_height"]),
                                                handlers.as_int(entry["tick_count"])))
        except SpecError as error:
            raise spec_error(error, f"context: history entry {position} is not valid") from None
        except (KeyError, ValueError, TypeError) as error:
            raise CliError(f"context: bad history entry {position}: {error}") from None
    try:
        stored, finding = mal.handle_atx_v2(blob, store, config, verifier)
    except SpecError as error:
        print(json.dumps({"valid": False, "error": type(error).__name__, "reason": error.reason,
                          "detail": error.detail}, indent=1))
        return 1
    out = {"valid": True, **handlers.stored_json(stored), "finding": None}
    if finding is not None:
        out["finding"] = {"node_id": "0x" + finding.node_id.hex(), "proof_type": finding.proof_type}
    print(json.dumps(out, indent=1))
    return 0


def verify_proof_command(args: argparse.Namespace) -> int:
    set_backend_from_args(args)
    from smspec.conformance.handlers import atx as handlers
    from smspec.spec.errors import SpecError

    atx, mal, scale = modules()
    context = read_json(args.context, "context")
    if not isinstance(context, dict) or "config" not in context:
        raise CliError("context: expected a JSON object with 'config'")
    try:
        config = handlers.load_config(atx, context["config"])
    except (KeyError, ValueError, TypeError) as error:
        raise CliError(f"context: bad config: {error}") from None
    blob = read_blob(args.proof, "proof")
    verifier = make_verifier(args.verifier, getattr(args, "preset", None))
    try:
        envelope = scale.decode(blob, mal.ATXProof)
        node_id = mal.verify_atx_proof(envelope, config, verifier)
    except SpecError as error:
        print(json.dumps({"valid": False, "error": type(error).__name__, "reason": error.reason,
                          "detail": error.detail}, indent=1))
        return 1
    print(json.dumps({"valid": True, "proof_type": envelope.proof_type, "node_id": "0x" + node_id.hex()}, indent=1))
    return 0


def backend_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=("spec", "impl"), default="impl",
                        help="run the readable spec or the fast impl (default impl)")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "atx",
        help="decode, encode, identify and validate activation transactions",
        description="Activation transactions (spec/atx.md): the ATX v2 wire format, IDs under both "
        "upstream schemes, and the validation pipeline with malfeasance detection.",
    )
    sub = parser.add_subparsers(dest="atx_command", metavar="ACTION")

    decode = sub.add_parser("decode", help="decode an ATX and print it as JSON",
                            description="Decode ATX bytes (hex, a file of hex or raw bytes, or - for stdin) "
                            "and print the value as JSON (bytes as 0x-hex).")
    decode.add_argument("atx", metavar="HEX|FILE", help="the ATX bytes: hex, a file, or - for stdin")
    decode.add_argument("--v1", action="store_true", help="decode as ATX v1 (default: v2)")
    backend_option(decode)
    decode.set_defaults(func=decode_command)

    encode = sub.add_parser("encode", help="encode an ATX given as JSON and print its hex",
                            description="Encode the JSON form of an ATX (as printed by `smspec atx decode`) "
                            "and print the wire bytes as 0x-hex.")
    encode.add_argument("json", metavar="JSON|FILE", help="the ATX as JSON text, a file holding it, or -")
    encode.add_argument("--v1", action="store_true", help="the JSON is an ATX v1 (default: v2)")
    backend_option(encode)
    encode.set_defaults(func=encode_command)

    ident = sub.add_parser("id", help="print the ID of an ATX",
                           description="Print the ATX ID: for v2 the Merkle root under scheme A (go-spacemesh "
                           "v1.7.6, the default) or scheme B (later development code); for v1 the hash "
                           "of the inner ATX.")
    ident.add_argument("atx", metavar="HEX|FILE", help="the ATX bytes: hex, a file, or - for stdin")
    ident.add_argument("--scheme", choices=("a", "b"), default="a", help="ATX v2 ID scheme (default a)")
    ident.add_argument("--v1", action="store_true", help="the bytes are an ATX v1")
    backend_option(ident)
    ident.set_defaults(func=id_command)

    validate = sub.add_parser(
        "validate",
        help="validate a v2 ATX against a context and print the outcome as JSON",
        description="Validate a v2 ATX as a node would: replay the context's history into a store, then "
        "decode, validate, store and run malfeasance detection. The context is a JSON object "
        "{config, poet_proofs, history} in the format of the `atx/validate/v2` vectors "
        "(conformance/handlers/atx.py). Exit status 0: valid; 1: rejected (the JSON names the reason).",
    )
    validate.add_argument("atx", metavar="HEX|FILE", help="the ATX bytes: hex, a file, or - for stdin")
    validate.add_argument("--context", metavar="JSON|FILE", required=True,
                          help="config, PoET proofs and history (JSON text or a file)")
    validate.add_argument("--verifier", choices=("stub", "post"), default="stub",
                          help="PoST verification: 'stub' (the vectors' stand-in rule) or 'post' (spec/post.md "
                          "for --preset; slow)")
    validate.add_argument("--store", metavar="PATH",
                          help="keep the state in this SQLite file (impl/atx.py) instead of memory")
    backend_option(validate)
    validate.set_defaults(func=validate_command)

    proof = sub.add_parser(
        "verify-proof",
        help="verify an ATX malfeasance proof and print the identity it convicts",
        description="Verify an ATX-domain malfeasance proof (the SCALE ATXProof envelope of spec/malfeasance.md, "
        "as printed by the atx/malfeasance/detect vectors) under the context's config (ID scheme, genesis ID). "
        "Exit status 0: valid (prints the convicted node ID); 1: invalid (prints the reason).",
    )
    proof.add_argument("proof", metavar="HEX|FILE", help="the ATXProof envelope: hex, a file, or - for stdin")
    proof.add_argument("--context", metavar="JSON|FILE", required=True, help="a JSON object with 'config'")
    proof.add_argument("--verifier", choices=("stub", "post"), default="stub",
                       help="PoST index checks of invalid-PoST proofs: 'stub' or 'post' (spec/post.md for --preset)")
    backend_option(proof)
    proof.set_defaults(func=verify_proof_command)

    parser.set_defaults(func=lambda args: parser.print_help() or 2)
