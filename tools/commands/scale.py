"""``smspec scale``: encode and decode SCALE values (spec/scale.md) from the command line."""

from __future__ import annotations

import argparse
import json
from typing import Any

from smspec.tools.cli import CliError, load_json, set_backend_from_args

TYPE_HELP = (
    "the SCALE type: compact8|compact16|compact32|compact64|uint16|uint32|uint64|bool, or JSON "
    'such as \'{"bytes": 32}\', \'{"byte_slice": 64}\', \'{"string": 10}\', '
    '\'{"slice": "compact32", "max": 5}\', \'{"array": {"bytes": 2}, "length": 3}\', '
    '\'{"option": "compact8"}\', \'{"struct": [["nonce", "compact64"], ["gas", "compact64"]]}\''
)


def _codec(text: str) -> Any:
    from smspec.conformance.handlers.scale import codec_from_description
    from smspec.spec import scale

    if text.lstrip().startswith(("{", "[", '"')):
        description = load_json(text, "TYPE")
    else:
        description = text  # a bare name such as compact32
    try:
        return codec_from_description(description, scale)
    except (ValueError, TypeError, KeyError) as error:
        raise CliError(f"TYPE: {str(error)[:300]}") from None


def _raise_spec_error(error: Exception) -> None:
    reason = getattr(error, "reason", "")
    detail = getattr(error, "detail", "")
    raise CliError(f"{type(error).__name__} ({reason}){': ' + detail if detail else ''}", status=1)


def encode_command(args: argparse.Namespace) -> None:
    from smspec.conformance.jsonio import value_from_jsonable
    from smspec.spec import scale
    from smspec.spec.errors import SpecError

    set_backend_from_args(args)
    codec = _codec(args.type)
    data = load_json(args.value, "VALUE")
    try:
        value = value_from_jsonable(data, codec)
    except (ValueError, TypeError) as error:
        raise CliError(f"VALUE: {str(error)[:300]}") from None
    try:
        print("0x" + scale.encode(value, codec).hex())
    except SpecError as error:
        _raise_spec_error(error)


def decode_command(args: argparse.Namespace) -> None:
    from smspec.conformance.jsonio import value_to_jsonable
    from smspec.spec import scale
    from smspec.spec.errors import SpecError

    set_backend_from_args(args)
    codec = _codec(args.type)
    text = "".join(args.hex.split())
    text = text[2:] if text.startswith(("0x", "0X")) else text
    try:
        data = bytes.fromhex(text)
    except ValueError:
        raise CliError(f"HEX: not a hex string: {args.hex[:40]!r}") from None
    try:
        if args.prefix:
            value, used = scale.decode_prefix(data, codec)
            result = {"value": value_to_jsonable(value, codec), "consumed": used}
        else:
            result = value_to_jsonable(scale.decode(data, codec), codec)
    except SpecError as error:
        _raise_spec_error(error)
    print(json.dumps(result))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "scale",
        help="encode / decode SCALE values (go-scale v1.2.1 rules)",
        description="Encode a JSON value to SCALE bytes, or decode SCALE bytes to JSON, exactly as "
        "go-spacemesh's codec does (spec/scale.md). Bytes are 0x-hex; options are null. Invalid "
        "input is reported as the spec's error class and reason, with exit status 1.",
    )
    sub = parser.add_subparsers(dest="scale_command", metavar="SUBCOMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("type", metavar="TYPE", help=TYPE_HELP)
        p.add_argument("--backend", choices=("spec", "impl"), default="impl",
                       help="run the readable spec or the fast impl codec (default: impl)")

    enc = sub.add_parser("encode", help="encode a JSON value", description="Print the 0x-hex SCALE encoding of VALUE.")
    common(enc)
    enc.add_argument("value", metavar="VALUE", help='the value as JSON, e.g. 5, "0x00ff", null, [1, 2], {"nonce": 1, "gas": 2}')
    enc.set_defaults(func=encode_command)

    dec = sub.add_parser("decode", help="decode 0x-hex bytes",
                         description="Print the JSON value that HEX encodes (every byte must be used).")
    common(dec)
    dec.add_argument("hex", metavar="HEX", help="the bytes, 0x-hex")
    dec.add_argument("--prefix", action="store_true",
                     help="decode one value from the start and report how many bytes it used")
    dec.set_defaults(func=decode_command)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)
