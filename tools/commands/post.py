"""``smspec post``: PoST as post-rs runs it (spec/post.md): commitment, labels, init, prove, verify.

``init`` writes a data directory exactly as post-rs does (``postdata_<k>.bin`` files of 16-byte
labels and ``postdata_metadata.json``). It is resumable: after every batch the labels are
flushed to disk and then a small checkpoint, ``.smspec-init.json`` (labels done, best VRF-nonce
candidate so far, scrypt N), is replaced atomically. A rerun truncates whatever was written after
the last checkpoint and continues, so the final files are byte-identical to an uninterrupted
run. The checkpoint is removed when the metadata gets its nonce.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from smspec.tools.cli import CliError, set_backend_from_args

STATE_FILE = ".smspec-init.json"


def _hex(text: str, size: int | None, what: str) -> bytes:
    body = text[2:] if text.startswith(("0x", "0X")) else text
    try:
        data = bytes.fromhex(body)
    except ValueError:
        raise CliError(f"{what} must be hex, got {text!r}") from None
    if size is not None and len(data) != size:
        raise CliError(f"{what} must be {size} bytes ({2 * size} hex digits), got {len(data)} bytes")
    return data


def _preset(args: argparse.Namespace) -> str:
    from smspec import spec

    preset = getattr(args, "post_preset", None) or getattr(args, "preset", None) or spec.active_preset()
    os.environ["SMSPEC_PRESET"] = preset
    return preset


def _post(args: argparse.Namespace) -> Any:
    from smspec import spec

    return spec.load("post", _preset(args))


def _backend(args: argparse.Namespace, default: str = "impl") -> str:
    choice = getattr(args, "backend", None) or default
    args.backend = {"cpu": "impl", "opencl": "gpu"}.get(choice, choice)
    backend = set_backend_from_args(args)
    if backend == "gpu":  # the self-checked OpenCL engine, or a one-line error before any work
        from smspec.tools.opencl_devices import require_engine

        require_engine()
    return backend


def _positive(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _non_negative(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "post",
        help="PoST as it runs today: commitment, labels, init, prove, verify (post-rs compatible)",
        description="Proof of Space-Time exactly as spacemeshos/post-rs: data directories, proofs "
        "and verification results are interchangeable with post-rs and go-spacemesh. Use the "
        "global --preset (or this group's --preset) to pick mainnet, testnet or tiny parameters.",
    )
    sub = parser.add_subparsers(dest="post_command", metavar="COMMAND")

    p = sub.add_parser("commitment", help="print the commitment BLAKE3(node_id || commitment_atx_id)",
                       description="Print the 32-byte commitment of an identity's PoST data, in hex.")
    p.add_argument("node_id", metavar="NODE_ID_HEX", help="the identity's 32-byte Ed25519 public key, hex")
    p.add_argument("atx_id", metavar="ATX_ID_HEX", help="the 32-byte commitment ATX id, hex")
    p.set_defaults(func=run_commitment)

    p = sub.add_parser("label", help="print the 32-byte scrypt-jane output of one label",
                       description="Print the full 32-byte scrypt-jane output for a label index; its "
                       "first 16 bytes (32 hex digits) are what init stores on disk.")
    p.add_argument("commitment", metavar="COMMITMENT_HEX", help="32-byte commitment, hex (see `post commitment`)")
    p.add_argument("index", metavar="INDEX", type=_non_negative, help="label index (u64)")
    p.add_argument("--scrypt-n", type=_positive, default=None, help="scrypt N (default: the preset's SCRYPT_N)")
    p.add_argument("--backend", choices=("spec", "impl", "opencl"), default="impl",
                   help="implementation: spec (readable Python), impl (numpy, default), opencl")
    p.add_argument("--preset", dest="post_preset", choices=("mainnet", "testnet", "tiny"), default=None,
                   help="parameter preset (default: global --preset, $SMSPEC_PRESET or mainnet)")
    p.set_defaults(func=run_label)

    p = sub.add_parser("init", help="initialize (or resume) a PoST data directory",
                       description="Compute all labels of an identity into DIR as post-rs does, find the "
                       "VRF nonce, and write postdata_metadata.json. Killed at any moment and rerun "
                       "with the same arguments, it resumes; the final files are byte-identical to an "
                       "uninterrupted run. A directory made with other parameters is refused.")
    p.add_argument("datadir", metavar="DIR", help="data directory (created if missing)")
    p.add_argument("--node-id", required=True, help="the identity's 32-byte public key, hex")
    p.add_argument("--commitment-atx", required=True, help="32-byte commitment ATX id, hex")
    p.add_argument("--num-units", required=True, type=_positive, help="space units to initialize")
    p.add_argument("--labels-per-unit", type=_positive, default=None, help="labels per unit (default: the preset's)")
    p.add_argument("--max-file-size", type=_positive, default=None,
                   help="bytes per postdata_N.bin file, a multiple of 16 (default: the preset's, 4 GiB on mainnet)")
    p.add_argument("--scrypt-n", type=_positive, default=None, help="scrypt N (default: the preset's SCRYPT_N)")
    p.add_argument("--backend", choices=("opencl", "cpu", "spec"), default=None,
                   help="label engine: opencl (default when an OpenCL configuration passes its "
                   "self-check, see `post devices`), cpu (numpy) or spec")
    p.add_argument("--batch", type=_positive, default=None,
                   help="labels per checkpoint (default: about a second of work)")
    p.add_argument("--preset", dest="post_preset", choices=("mainnet", "testnet", "tiny"), default=None,
                   help="parameter preset (default: global --preset, $SMSPEC_PRESET or mainnet)")
    p.add_argument("--no-progress", action="store_true", help="do not show the progress bar")
    p.add_argument("--stop-after", type=_positive, default=None, help=argparse.SUPPRESS)  # tests: simulate a kill
    p.set_defaults(func=run_init)

    p = sub.add_parser("prove", help="generate a proof for a challenge and write it as JSON",
                       description="Read DIR (post-rs layout), run the k2pow for each nonce group and the "
                       "AES label test over all labels, and write the proof as post-rs's JSON "
                       "{\"nonce\", \"indices\" (base64), \"pow\"}.")
    p.add_argument("datadir", metavar="DIR", help="initialized data directory")
    p.add_argument("--challenge", required=True, help="32-byte challenge, hex (zeros for an initial PoST)")
    p.add_argument("--nonces", type=_positive, default=None,
                   help="nonces per pass, a multiple of 16 (default: the preset's PROVING_NONCES)")
    p.add_argument("--out", default="-", help="proof file (default: standard output)")
    p.add_argument("--backend", choices=("spec", "impl"), default="impl", help="prover: impl (default) or spec")
    p.add_argument("--preset", dest="post_preset", choices=("mainnet", "testnet", "tiny"), default=None,
                   help="parameter preset (default: global --preset, $SMSPEC_PRESET or mainnet)")
    p.add_argument("--no-progress", action="store_true", help="do not show the progress bar")
    p.set_defaults(func=run_prove)

    p = sub.add_parser("verify", help="verify a proof (exit 0 valid, 1 invalid with the reason)",
                       description="Verify PROOF for DIR's identity (node id, commitment ATX and units "
                       "from DIR's metadata) and the challenge, as go-spacemesh does. Exit status 0 "
                       "when valid; 1 with the reason when not; 2 on bad input.")
    p.add_argument("datadir", metavar="DIR", help="data directory whose metadata names the identity")
    p.add_argument("proof", metavar="PROOF", help="proof JSON file ('-' for standard input)")
    p.add_argument("--challenge", required=True, help="32-byte challenge, hex")
    p.add_argument("--k3", type=_positive, default=None, help="labels to regenerate (default: the preset's K3)")
    p.add_argument("--all", action="store_true", help="regenerate every label of the proof (K3 = K2)")
    p.add_argument("--seed", default="", help="hex seed of the K3 subset (go-spacemesh: the peer id)")
    p.add_argument("--strict", action="store_true", help="also reject indices >= num_labels and duplicates")
    p.add_argument("--check-vrf-nonce", action="store_true", help="also verify the metadata's VRF nonce")
    p.add_argument("--labels-per-unit", type=_positive, default=None,
                   help="the network's labels per unit (default: the preset's; the verifier never takes it from the prover)")
    p.add_argument("--backend", choices=("spec", "impl"), default="impl", help="verifier: impl (default) or spec")
    p.add_argument("--preset", dest="post_preset", choices=("mainnet", "testnet", "tiny"), default=None,
                   help="parameter preset (default: global --preset, $SMSPEC_PRESET or mainnet)")
    p.set_defaults(func=run_verify)

    from smspec.tools.opencl_devices import register_devices

    register_devices(sub)

    try:  # the best-labels PoST (spec/post_best.md) adds `post prove-best` / `post verify-best`
        from smspec.tools.commands.post_best import register_best
    except ImportError:
        pass
    else:
        register_best(sub)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def run_commitment(args: argparse.Namespace) -> int:
    post = _post(args)
    node_id = _hex(args.node_id, 32, "NODE_ID_HEX")
    atx_id = _hex(args.atx_id, 32, "ATX_ID_HEX")
    print(post.compute_commitment(node_id, atx_id).hex())
    return 0


def run_label(args: argparse.Namespace) -> int:
    post = _post(args)
    _backend(args)
    commitment = _hex(args.commitment, 32, "COMMITMENT_HEX")
    scrypt_n = args.scrypt_n or post.SCRYPT_N
    try:
        print(post.compute_labels(commitment, args.index, 1, scrypt_n).hex())
    except post.SpecError as e:
        raise CliError(f"cannot compute the label: {e}") from None
    return 0


# --------------------------------------------------------------------------------------------
# init


def _read_state(datadir: str) -> dict[str, Any] | None:
    path = os.path.join(datadir, STATE_FILE)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as file:
            state = json.load(file)
        best = state["best"]
        return {"scrypt_n": int(state["scrypt_n"]), "labels_done": int(state["labels_done"]),
                "best": None if best is None else (int(best[0]), bytes.fromhex(best[1]))}
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        raise CliError(f"{path} is corrupt; delete it and the postdata_*.bin files to start over") from None


def _write_state(datadir: str, scrypt_n: int, labels_done: int, best: tuple[int, bytes] | None) -> None:
    path = os.path.join(datadir, STATE_FILE)
    text = json.dumps({"scrypt_n": scrypt_n, "labels_done": labels_done,
                       "best": None if best is None else [best[0], best[1].hex()]})
    with open(path + ".tmp", "w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(path + ".tmp", path)


def _write_metadata(post: Any, datadir: str, metadata: Any) -> None:
    path = os.path.join(datadir, post.METADATA_FILE_NAME)
    with open(path + ".tmp", "w", encoding="utf-8") as file:
        file.write(post.metadata_to_json(metadata))
        file.flush()
        os.fsync(file.fileno())
    os.replace(path + ".tmp", path)


def _truncate_to(post: Any, datadir: str, metadata: Any, labels_done: int) -> None:
    """Drop whatever was written after the checkpoint (a kill between data and checkpoint)."""
    for file_index in range(post.num_files(metadata)):
        path = os.path.join(datadir, post.data_file_name(file_index))
        first, end = post.file_label_range(metadata, file_index)
        keep = max(0, min(end, labels_done) - first)
        if os.path.exists(path):
            if keep == 0 and first >= labels_done:
                os.remove(path)
            elif os.path.getsize(path) > post.LABEL_SIZE * keep:
                with open(path, "r+b") as file:
                    file.truncate(post.LABEL_SIZE * keep)
            elif os.path.getsize(path) < post.LABEL_SIZE * keep:
                raise CliError(f"{path} is shorter than the checkpoint says; delete {STATE_FILE} and the data files")
        elif keep:
            raise CliError(f"{path} is missing but the checkpoint says it holds labels; delete {STATE_FILE}")


def run_init(args: argparse.Namespace) -> int:
    post = _post(args)
    from smspec.impl.registry import active_backend
    from smspec.tools.opencl_devices import init_backend

    _backend(args, init_backend(args.backend))  # engine first: nothing is created if it fails
    node_id = _hex(args.node_id, 32, "--node-id")
    atx_id = _hex(args.commitment_atx, 32, "--commitment-atx")
    labels_per_unit = args.labels_per_unit or post.LABELS_PER_UNIT
    max_file_size = args.max_file_size or post.MAX_FILE_SIZE
    scrypt_n = args.scrypt_n or post.SCRYPT_N
    if max_file_size % 16:
        raise CliError(f"--max-file-size must be a multiple of 16, got {max_file_size}")
    if scrypt_n < 2 or scrypt_n & (scrypt_n - 1):
        raise CliError(f"--scrypt-n must be a power of two, at least 2; got {scrypt_n}")
    if args.num_units > post.MAX_U32:
        raise CliError("--num-units must fit in a u32")
    datadir = args.datadir
    if os.path.exists(datadir) and not os.path.isdir(datadir):
        raise CliError(f"{datadir} exists and is not a directory")
    try:
        os.makedirs(datadir, exist_ok=True)
    except OSError as e:
        raise CliError(f"cannot create {datadir}: {e.strerror}") from None

    wanted = post.PostMetadata(node_id, atx_id, labels_per_unit, args.num_units, max_file_size)
    meta_path = os.path.join(datadir, post.METADATA_FILE_NAME)
    state = _read_state(datadir)
    if os.path.exists(meta_path):
        try:
            existing = post.load_metadata(datadir)
        except post.SpecError as e:
            raise CliError(f"{meta_path}: {e}") from None
        different = [name for name in ("node_id", "commitment_atx_id", "labels_per_unit", "num_units", "max_file_size")
                     if getattr(existing, name) != getattr(wanted, name)]
        if different:
            raise CliError(f"{datadir} was initialized with other parameters ({', '.join(different)} differ); "
                           "use another directory")
        if existing.nonce is not None and state is None:
            _load_checked(post, datadir)  # every data file present with its full size
            print(f"{datadir} is already initialized (VRF nonce {existing.nonce})", file=sys.stderr)
            return 0
    if state is not None and state["scrypt_n"] != scrypt_n:
        raise CliError(f"{datadir} was initialized with scrypt N = {state['scrypt_n']}, not {scrypt_n}")
    if state is None:
        state = {"scrypt_n": scrypt_n, "labels_done": 0, "best": None}
        stale = [name for name in os.listdir(datadir) if name.startswith("postdata_") and name.endswith(".bin")]
        if stale:
            print(f"{datadir}: no smspec checkpoint; recomputing the {len(stale)} existing data files",
                  file=sys.stderr)
        _write_metadata(post, datadir, wanted)
        _write_state(datadir, scrypt_n, 0, None)

    num_labels = post.total_labels(wanted)
    labels_done, best = state["labels_done"], state["best"]
    try:
        _truncate_to(post, datadir, wanted, labels_done)
    except OSError as e:
        raise CliError(f"cannot resume: {e}") from None
    commitment = post.compute_commitment(node_id, atx_id)
    difficulty = post.vrf_difficulty(num_labels)
    batch = args.batch or max(64, min(1 << 16, (1 << 22) // scrypt_n))
    per_file = post.labels_per_file(max_file_size)
    from tqdm import tqdm

    stop_at = None if args.stop_after is None else labels_done + args.stop_after
    with tqdm(total=num_labels, initial=labels_done, unit="label", unit_scale=True, smoothing=0.05,
              desc=f"init ({active_backend()})", disable=args.no_progress or None) as bar:
        while labels_done < num_labels:
            if stop_at is not None and labels_done >= stop_at:
                print("smspec: stopped (--stop-after)", file=sys.stderr)
                return 3
            file_index = labels_done // per_file
            count = min(batch, num_labels - labels_done, (file_index + 1) * per_file - labels_done)
            try:
                labels, found = post.initialize_range(commitment, labels_done, count, scrypt_n, difficulty)
                path = os.path.join(datadir, post.data_file_name(file_index))
                with open(path, "ab") as file:
                    file.write(labels)
                    file.flush()
                    os.fsync(file.fileno())
            except OSError as e:
                raise CliError(f"cannot write {datadir}: {e.strerror}") from None
            best = post.better_vrf_nonce(best, found)
            labels_done += count
            _write_state(datadir, scrypt_n, labels_done, best)
            bar.update(count)
    last_position = None
    if best is None:
        print("no VRF nonce among the labels; searching past the end", file=sys.stderr)
        best = post.search_vrf_nonce_beyond(commitment, num_labels, scrypt_n)
        last_position = best[0] + 1
    import attrs

    _write_metadata(post, datadir, attrs.evolve(wanted, nonce=best[0], last_position=last_position))
    os.remove(os.path.join(datadir, STATE_FILE))
    print(f"initialized {num_labels} labels in {post.num_files(wanted)} files; VRF nonce {best[0]}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------------------------
# prove and verify


def _load_checked(post: Any, datadir: str) -> Any:
    """The metadata of an initialized directory whose data files all have their full size."""
    if not os.path.isdir(datadir):
        raise CliError(f"{datadir}: not a directory")
    try:
        metadata = post.load_metadata(datadir)
        post.num_files(metadata)
    except post.SpecError as e:
        raise CliError(f"{datadir}: {e}") from None
    if os.path.exists(os.path.join(datadir, STATE_FILE)):
        raise CliError(f"{datadir}: initialization has not finished (run `smspec post init` again)")
    for file_index in range(post.num_files(metadata)):
        first, end = post.file_label_range(metadata, file_index)
        path = os.path.join(datadir, post.data_file_name(file_index))
        if not os.path.exists(path):
            raise CliError(f"{path} is missing")
        size = os.path.getsize(path)
        if size < post.LABEL_SIZE * (end - first):
            raise CliError(f"{path} is truncated: {size} bytes, expected {post.LABEL_SIZE * (end - first)}")
    return metadata


def run_prove(args: argparse.Namespace) -> int:
    post = _post(args)
    backend = _backend(args)
    challenge = _hex(args.challenge, 32, "--challenge")
    nonces = args.nonces or post.PROVING_NONCES
    if nonces % 16:
        raise CliError(f"--nonces must be a multiple of 16, got {nonces}")
    metadata = _load_checked(post, args.datadir)
    config = post.preset_config()
    try:
        if backend == "spec":
            proof = post.generate_proof(args.datadir, challenge, nonces, config)
        else:
            proof = _prove_with_progress(post, args.datadir, metadata, challenge, nonces, config, args.no_progress)
    except post.SpecError as e:
        raise CliError(f"cannot prove: {e}") from None
    text = post.proof_to_json(proof)
    if args.out == "-":
        print(text)
    else:
        try:
            with open(args.out, "w", encoding="utf-8") as file:
                file.write(text + "\n")
        except OSError as e:
            raise CliError(f"cannot write {args.out}: {e.strerror}") from None
    return 0


def _prove_with_progress(post: Any, datadir: str, metadata: Any, challenge: bytes, nonces: int, config: Any,
                         no_progress: bool) -> Any:
    from smspec.impl import post as fast
    from tqdm import tqdm

    num_labels = post.total_labels(metadata)
    difficulty = post.proving_difficulty(config.k1, num_labels)
    pow_difficulty = post.scale_pow_difficulty(config.pow_difficulty, metadata.num_units)
    first_nonce = 0
    while True:
        groups = range(first_nonce // 16, (first_nonce + nonces) // 16)
        pows = [post.find_k2pow(challenge, group, pow_difficulty, metadata.node_id)
                for group in tqdm(groups, desc="k2pow", unit="group", disable=no_progress or None)]
        with tqdm(total=16 * num_labels, unit="B", unit_scale=True, unit_divisor=1024,
                  desc=f"nonces {first_nonce}..{first_nonce + nonces - 1}", disable=no_progress or None) as bar:
            found = fast.scan_data(datadir, metadata, challenge, first_nonce, pows, difficulty, config.k2,
                                   progress=lambda labels: bar.update(16 * labels))
        if found is not None:
            nonce, indices = found
            pow = pows[nonce // 16 - first_nonce // 16]
            return post.Proof(nonce, post.compress_indices(indices, post.required_bits(num_labels)), pow)
        first_nonce += nonces


def run_verify(args: argparse.Namespace) -> int:
    post = _post(args)
    _backend(args)
    challenge = _hex(args.challenge, 32, "--challenge")
    seed = _hex(args.seed, None, "--seed") if args.seed else b""
    if not os.path.isdir(args.datadir):
        raise CliError(f"{args.datadir}: not a directory")
    try:
        metadata = post.load_metadata(args.datadir)
    except post.SpecError as e:
        raise CliError(f"{args.datadir}: {e}") from None
    try:
        if args.proof == "-":
            text = sys.stdin.read()
        else:
            with open(args.proof, encoding="utf-8") as file:
                text = file.read()
    except OSError as e:
        raise CliError(f"{args.proof}: {e.strerror}") from None
    except UnicodeDecodeError:
        text = "\x00"
    config = post.preset_config()
    if args.labels_per_unit:
        import attrs

        config = attrs.evolve(config, labels_per_unit=args.labels_per_unit)
    k3 = config.k2 if args.all else args.k3
    try:
        proof = post.proof_from_json(text)
        post.verify_proof(proof, challenge, metadata.node_id, metadata.commitment_atx_id, metadata.num_units,
                          config=config, k3=k3, seed=seed, strict=args.strict)
        if args.check_vrf_nonce:
            if metadata.nonce is None or not post.verify_vrf_nonce(
                    metadata.node_id, metadata.commitment_atx_id, metadata.num_units, metadata.nonce, config):
                raise post.InvalidProof("invalid_vrf_nonce", f"nonce {metadata.nonce}")
    except post.SpecError as e:
        print(f"invalid: {e.reason}" + (f" ({e.detail})" if e.detail else ""))
        return 1
    print("valid")
    return 0
