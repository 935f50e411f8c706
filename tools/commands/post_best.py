"""``smspec post-best``: prove and verify best-labels PoSTs (spec/post_best.md).

``smspec post-best prove DIR... --challenge HEX`` streams once over the PoST data directories
(one per identity, in set order, as ``smspec post`` / post-rs writes them) and writes a proof
file; ``smspec post-best verify PROOF`` checks it. The proof file is JSON: the identity set, the
challenge, K, the SCALE-encoded proof (``proof``, hex), the same proof as JSON (``proof_json``)
and the weight in labels.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from smspec.tools.cli import (
    CliError,
    check_output,
    integer,
    load_json,
    read_input,
    set_backend_from_args,
)

MAX_K = 2**20
MAX_U32 = 2**32 - 1


def _hex(text: Any, size: int | None, what: str) -> bytes:
    if not isinstance(text, str):
        raise CliError(f"{what} must be a hex string, got {type(text).__name__}")
    body = text[2:] if text.startswith("0x") else text
    try:
        data = bytes.fromhex(body)
    except ValueError:
        raise CliError(f"{what} must be hex, got {text[:80]!r}") from None
    if size is not None and len(data) != size:
        raise CliError(f"{what} must be {size} bytes ({2 * size} hex digits), got {len(data)}")
    return data


def _u32(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or (isinstance(value, str) and len(value) > 10):
        raise ValueError(f"not a u32: {value!r}")
    number = int(value)
    if not 0 <= number <= MAX_U32:
        raise ValueError(f"not a u32: {number}")
    return number


def _modules() -> tuple[Any, Any, Any]:
    from smspec import spec

    return spec.load("post_best"), spec.load("post"), spec.load("scale")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "post-best",
        help="threshold-free best-labels PoST across merged identities (prove, verify)",
        description="The new PoST of spec/post_best.md: the K lowest-scoring labels across all "
        "identities of a set, and a weight estimated from the K-th score.",
    )
    sub = parser.add_subparsers(dest="post_best_command", metavar="COMMAND")
    add_commands(sub, prove_name="prove", verify_name="verify")
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def register_best(post_subparsers: argparse._SubParsersAction) -> None:
    """Hook for the `post` command group: adds `smspec post prove-best` and `post verify-best`
    (the same commands as `smspec post-best prove|verify`)."""
    add_commands(post_subparsers, prove_name="prove-best", verify_name="verify-best")


def add_commands(sub: argparse._SubParsersAction, prove_name: str, verify_name: str) -> None:
    """Add the prove and verify commands to `sub` (also used for `smspec post prove-best`)."""
    prove = sub.add_parser(
        prove_name,
        help="stream over the identities' data once and write a best-labels proof",
        description="Read every label of every data directory once (one directory per identity, "
        "in identity-set order), keep the K lowest scores, and write the proof as JSON.",
    )
    prove.add_argument("datadirs", nargs="+", metavar="DIR", help="PoST data directory of one identity (postdata_metadata.json + postdata_*.bin)")
    prove.add_argument("--challenge", required=True, help="32-byte challenge, hex (the PoET proof reference)")
    prove.add_argument("--k", type=integer(1, MAX_K, "K"), default=None, help="labels in the proof (default: the preset's POST_BEST_K)")
    prove.add_argument("--out", default="-", help="where to write the proof JSON (default: standard output)")
    prove.add_argument("--batch-labels", type=integer(1, 1 << 24, "a label count"), default=1 << 16, help="labels read per batch (default: 65536 = 1 MiB)")
    prove.add_argument("--backend", choices=("spec", "impl", "gpu"), default="impl", help="prover implementation (default: impl, numpy)")
    prove.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    prove.set_defaults(func=run_prove)

    verify = sub.add_parser(
        verify_name,
        help="verify a best-labels proof file and print its weight",
        description="Check the proof's structure, then recompute K3 of its labels with scrypt "
        "(all of them with --full) and compare their scores with the claimed K-th score. "
        "Exit status 0 when valid, 1 when rejected, 2 on bad input.",
    )
    verify.add_argument("proof", help="proof JSON written by prove ('-' for standard input)")
    verify.add_argument("--challenge", default=None, help="expected challenge, hex (default: the one in the file)")
    verify.add_argument("--k", type=integer(1, MAX_K, "K"), default=None, help="K the network requires (default: the preset's POST_BEST_K)")
    verify.add_argument("--k3", type=integer(1, MAX_K, "K3"), default=None, help="entries to recompute (default: the preset's POST_BEST_K3)")
    verify.add_argument("--full", action="store_true", help="recompute every entry (K3 = K), as a malfeasance check does")
    verify.add_argument("--seed", default="", help="verifier seed, hex (default: random; it picks the spot-checked entries)")
    verify.add_argument("--backend", choices=("spec", "impl", "gpu"), default="impl", help="implementation of the label function (default: impl)")
    verify.set_defaults(func=run_verify)


def _load_identity(pb: Any, post: Any, datadir: str) -> tuple[Any, Any]:
    from smspec.tools.commands.post import read_metadata

    metadata = read_metadata(post, datadir)
    if metadata.labels_per_unit != post.LABELS_PER_UNIT:
        raise CliError(
            f"{datadir}: LabelsPerUnit {metadata.labels_per_unit} differs from the {post.PRESET} preset's "
            f"{post.LABELS_PER_UNIT} (choose the preset with --preset)"
        )
    identity = pb.BestIdentity(node_id=metadata.node_id, commitment_atx_id=metadata.commitment_atx_id, num_units=metadata.num_units)
    return identity, metadata


def run_prove(args: argparse.Namespace) -> int:
    from smspec.impl.post_best import stream_chunks
    from smspec.spec.errors import SpecError
    from tqdm import tqdm

    set_backend_from_args(args)
    pb, post, scale = _modules()
    challenge = _hex(args.challenge, 32, "--challenge")
    k = pb.POST_BEST_K if args.k is None else args.k
    if args.out != "-":
        check_output(args.out, "--out")
    loaded = [_load_identity(pb, post, d) for d in args.datadirs]
    identities = [identity for identity, _ in loaded]
    total_bytes = sum(post.total_labels(m) * post.LABEL_SIZE for _, m in loaded)
    with tqdm(total=total_bytes, unit="B", unit_scale=True, desc="scoring", disable=args.no_progress or None) as bar:
        chunks = stream_chunks(post, list(args.datadirs), args.batch_labels, progress=bar.update)
        try:
            proof = pb.prove_best(identities, chunks, challenge, k)
        except SpecError as e:
            raise CliError(f"cannot prove: {e}") from None
    document = {
        "identities": [{"node_id": "0x" + i.node_id.hex(), "commitment_atx_id": "0x" + i.commitment_atx_id.hex(),
                        "num_units": i.num_units} for i in identities],
        "challenge": "0x" + challenge.hex(),
        "k": k,
        "proof": "0x" + scale.encode(proof, pb.BestProof).hex(),
        "proof_json": {"kth_score": str(proof.kth_score),
                       "groups": [{"identity": g.identity, "index_steps": list(g.index_steps)} for g in proof.groups]},
        "weight": str(pb.best_proof_weight(proof.kth_score, k, identities)),
    }
    text = json.dumps(document, indent=1) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        try:
            with open(args.out, "w", encoding="utf-8") as file:
                file.write(text)
        except OSError as e:
            raise CliError(f"cannot write {args.out}: {e.strerror or e}") from None
        print(f"wrote {args.out}: K = {k}, kth_score = {proof.kth_score}, weight = {document['weight']} labels "
              f"({int(document['weight']) / post.LABELS_PER_UNIT:.3f} SU), {len(bytes.fromhex(document['proof'][2:]))} proof bytes",
              file=sys.stderr)
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from smspec.spec.errors import SpecError

    set_backend_from_args(args)
    pb, post, scale = _modules()
    document = load_json(read_input(args.proof, "PROOF"), f"PROOF {args.proof!r}")
    if not isinstance(document, dict) or not {"identities", "challenge", "proof"} <= set(document):
        raise CliError(f"{args.proof}: a proof file has identities, challenge and proof")
    try:
        identities = [
            pb.BestIdentity(node_id=_hex(i["node_id"], 32, "node_id"),
                            commitment_atx_id=_hex(i["commitment_atx_id"], 32, "commitment_atx_id"),
                            num_units=_u32(i["num_units"]))
            for i in document["identities"]
        ]
    except (KeyError, TypeError, ValueError, AttributeError):
        raise CliError(f"{args.proof}: malformed identity list") from None
    challenge = _hex(document["challenge"], 32, "challenge")
    if args.challenge is not None and _hex(args.challenge, 32, "--challenge") != challenge:
        raise CliError("the proof file is for another challenge")
    k = pb.POST_BEST_K if args.k is None else args.k
    k3 = k if args.full else (pb.POST_BEST_K3 if args.k3 is None else args.k3)
    seed = _hex(args.seed, None, "--seed") if args.seed else os.urandom(16)
    try:
        proof = scale.decode(_hex(document["proof"], None, "proof"), pb.BestProof)
        weight = pb.verify_best_proof(proof, identities, challenge, k, k3, seed)
    except SpecError as e:
        raise CliError(f"proof rejected: {type(e).__name__}({e.reason}) {e.detail}".rstrip(), status=1) from None
    print(f"valid: weight {weight} labels = {weight / post.LABELS_PER_UNIT:.3f} SU "
          f"(K = {k}, checked {min(k3, k)} entries, seed {seed.hex()})")
    return 0
