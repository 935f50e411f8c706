"""``smspec post``: PoST as post-rs runs it (spec/post.md): commitment, labels, init, prove, verify.

``init`` writes a data directory exactly as post-rs does (``postdata_<k>.bin`` files of 16-byte
labels and ``postdata_metadata.json``). It is resumable: after every batch the labels are
flushed to disk and then a small checkpoint, ``.smspec-init.json`` (labels done, best VRF-nonce
candidate so far, scrypt N, batch size), is replaced atomically. A rerun checks the checkpoint
against the metadata and the data (``smspec.tools.post_data``: nothing is truncated before
that, and never more than the one unsaved batch a kill leaves), truncates that batch and
continues, so the final files are byte-identical to an uninterrupted run. The checkpoint is
removed when the metadata gets its nonce; ``.smspec-params.json`` (every parameter, scrypt N
included) stays. ``verify-data`` re-derives labels of a directory and reports damage.

``init --from N --to M`` writes one label range into a range directory and ``merge`` joins
ranges into a directory byte-identical to one run (``smspec.tools.post_data``, "label ranges");
``init --devices all`` and ``init --cluster`` split the work over OpenCL devices or a Dask
cluster and merge (``smspec.tools.post_parallel``).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from smspec.tools import post_data
from smspec.tools.cli import (
    MAX_JSON_DEPTH,
    CliError,
    check_output,
    integer,
    json_depth,
    read_input,
    set_backend_from_args,
)
from smspec.tools.post_data import MAX_BATCH, MAX_SCRYPT_N, PARAMS_FILE, STATE_FILE, read_metadata

MAX_U32 = 2**32 - 1
MAX_U64 = 2**64 - 1


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


SCRYPT_N = integer(2, MAX_SCRYPT_N, "scrypt N (a power of two)")


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
    p.add_argument("index", metavar="INDEX", type=integer(0, MAX_U64, "a label index (u64)"), help="label index (u64)")
    p.add_argument("--scrypt-n", type=SCRYPT_N, default=None,
                   help=f"scrypt N, a power of two up to {MAX_SCRYPT_N:,} (default: the preset's SCRYPT_N)")
    p.add_argument("--backend", choices=("spec", "impl", "opencl"), default="impl",
                   help="implementation: spec (readable Python), impl (numpy, default), opencl")
    p.add_argument("--preset", dest="post_preset", choices=("mainnet", "testnet", "tiny"), default=None,
                   help="parameter preset (default: global --preset, $SMSPEC_PRESET or mainnet)")
    p.set_defaults(func=run_label)

    p = sub.add_parser("init", help="initialize (or resume) a PoST data directory",
                       description="Compute all labels of an identity into DIR as post-rs does, find the "
                       "VRF nonce, and write postdata_metadata.json. Killed at any moment (or stopped by a "
                       "full disk) and rerun with the same arguments, it resumes; the final files are "
                       "byte-identical to an uninterrupted run. Every parameter is recorded in "
                       f"DIR/{PARAMS_FILE} (kept after initialization) and a directory made with other "
                       "parameters is refused. Nothing is ever deleted: a checkpoint that disagrees with the "
                       "data is refused before any file is touched.")
    p.add_argument("datadir", metavar="DIR", help="data directory (created if missing)")
    p.add_argument("--node-id", required=True, help="the identity's 32-byte public key, hex")
    p.add_argument("--commitment-atx", required=True, help="32-byte commitment ATX id, hex")
    p.add_argument("--num-units", required=True, type=integer(1, MAX_U32, "a unit count (u32)"),
                   help="space units to initialize")
    p.add_argument("--labels-per-unit", type=integer(1, MAX_U64, "a label count (u64)"), default=None,
                   help="labels per unit (default: the preset's)")
    p.add_argument("--max-file-size", type=integer(16, MAX_U64, "a file size (u64)"), default=None,
                   help="bytes per postdata_N.bin file, a multiple of 16 (default: the preset's, 4 GiB on mainnet)")
    p.add_argument("--scrypt-n", type=SCRYPT_N, default=None,
                   help=f"scrypt N, a power of two up to {MAX_SCRYPT_N:,} (default: the preset's SCRYPT_N)")
    p.add_argument("--backend", choices=("opencl", "cpu", "spec"), default=None,
                   help="label engine: opencl (default when an OpenCL configuration passes its "
                   "self-check, see `post devices`), cpu (numpy) or spec")
    p.add_argument("--batch", type=integer(1, MAX_BATCH, "a label count"), default=None,
                   help="labels per checkpoint (default: about a second of work)")
    p.add_argument("--preset", dest="post_preset", choices=("mainnet", "testnet", "tiny"), default=None,
                   help="parameter preset (default: global --preset, $SMSPEC_PRESET or mainnet)")
    p.add_argument("--no-progress", action="store_true", help="do not show the progress bar")
    p.add_argument("--stop-after", type=integer(1, MAX_U64, "a label count"), default=None, help=argparse.SUPPRESS)  # tests: simulate a kill
    p.add_argument("--from", dest="range_from", type=integer(0, MAX_U64, "a label index (u64)"), default=None,
                   help="write only labels from this index on (a data-file boundary) into DIR as a range "
                   "directory, joined later by `post merge` (default 0 when --to is given)")
    p.add_argument("--to", dest="range_to", type=integer(1, MAX_U64, "a label index (u64)"), default=None,
                   help="write only labels before this index (a data-file boundary, or the number of labels)")
    p.add_argument("--devices", choices=("all",), default=None,
                   help="all: one label range per OpenCL device with a passing configuration, at once, "
                   "then merged into DIR")
    p.add_argument("--cluster", metavar="ADDRESS", default=None,
                   help="one label range per task on a Dask cluster (smspec[distributed]): local:N for N "
                   "local worker processes, or a scheduler address; then merged into DIR")
    p.add_argument("--work", metavar="WORK", default=None,
                   help="where --devices/--cluster put the range directories (default DIR.ranges; for a "
                   "cluster, storage every worker shares); they are kept, hard-linked into DIR where possible")
    p.set_defaults(func=run_init)

    p = sub.add_parser("merge", help="join range directories of `post init --from/--to` into one data directory",
                       description="Check every range directory (finished, same parameters, records and sizes "
                       "consistent, first and last labels and VRF-nonce candidate re-derived), check that the "
                       "ranges tile the whole data set, then write DIR byte-identical to one `post init` run "
                       "(data files, metadata with the VRF nonce, parameter record) and check it: as a "
                       "finished directory, plus the labels at every join re-derived. The ranges are only read.")
    p.add_argument("ranges", metavar="RANGE_DIR", nargs="+", help="range directories, in any order")
    p.add_argument("--into", required=True, metavar="DIR", help="the data directory to write (new or empty)")
    p.add_argument("--link", action="store_true", help="hard-link the data files instead of copying (one file system)")
    p.add_argument("--backend", choices=("cpu", "opencl", "spec"), default="cpu",
                   help="label engine of the checks: cpu (numpy, default), opencl or spec")
    p.add_argument("--preset", dest="post_preset", choices=("mainnet", "testnet", "tiny"), default=None,
                   help="parameter preset (default: global --preset, $SMSPEC_PRESET or mainnet)")
    p.set_defaults(func=run_merge)

    p = sub.add_parser("verify-data", help="re-derive labels of a data directory and report damage",
                       description="Recompute labels of DIR (the first and last of every file, plus a "
                       "seeded random sample, or --all) and compare them with the stored ones; check "
                       "that every file is present with its size and that the VRF nonce is valid. "
                       "Prints each damaged file with its label index ranges. Exit status 0 when clean, "
                       "1 when anything is damaged, 2 on bad input.")
    p.add_argument("datadir", metavar="DIR", help="data directory (post-rs layout)")
    p.add_argument("--sample", type=integer(0, 1 << 24, "a number of labels"), default=64,
                   help="random labels to re-derive besides each file's first and last (default 64)")
    p.add_argument("--all", dest="everything", action="store_true", help="re-derive every label")
    p.add_argument("--seed", type=integer(0, 2**64 - 1, "a seed"), default=None,
                   help="seed of the random sample (default: a random one, printed)")
    p.add_argument("--scrypt-n", type=integer(2, MAX_SCRYPT_N, "a power of two"), default=None,
                   help=f"scrypt N (default: the one recorded in DIR/{PARAMS_FILE}, else the preset's)")
    p.add_argument("--backend", choices=("cpu", "opencl", "spec"), default="cpu",
                   help="label engine: cpu (numpy, default), opencl or spec")
    p.add_argument("--preset", dest="post_preset", choices=("mainnet", "testnet", "tiny"), default=None,
                   help="parameter preset (default: global --preset, $SMSPEC_PRESET or mainnet)")
    p.add_argument("--no-progress", action="store_true", help="do not show the progress bar")
    p.set_defaults(func=run_verify_data)

    p = sub.add_parser("prove", help="generate a proof for a challenge and write it as JSON",
                       description="Read DIR (post-rs layout), run the k2pow for each nonce group and the "
                       "AES label test over all labels, and write the proof as post-rs's JSON "
                       "{\"nonce\", \"indices\" (base64), \"pow\"}.")
    p.add_argument("datadir", metavar="DIR", help="initialized data directory")
    p.add_argument("--challenge", required=True, help="32-byte challenge, hex (zeros for an initial PoST)")
    p.add_argument("--nonces", type=integer(16, 2**16, "a nonce count"), default=None,
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
    p.add_argument("--k3", type=integer(1, MAX_U32, "K3"), default=None, help="labels to regenerate (default: the preset's K3)")
    p.add_argument("--all", action="store_true", help="regenerate every label of the proof (K3 = K2)")
    p.add_argument("--seed", default="", help="hex seed of the K3 subset (go-spacemesh: the peer id)")
    p.add_argument("--strict", action="store_true", help="also reject indices >= num_labels and duplicates")
    p.add_argument("--check-vrf-nonce", action="store_true", help="also verify the metadata's VRF nonce")
    p.add_argument("--labels-per-unit", type=integer(1, MAX_U64, "a label count (u64)"), default=None,
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


def run_init(args: argparse.Namespace) -> int:
    post = _post(args)
    from smspec.impl.registry import active_backend
    from smspec.tools.opencl_devices import init_backend

    _backend(args, init_backend(args.backend))  # engine first: nothing is created if it fails
    node_id = _hex(args.node_id, 32, "--node-id")
    atx_id = _hex(args.commitment_atx, 32, "--commitment-atx")
    scrypt_n = args.scrypt_n or post.SCRYPT_N
    params = post_data.InitParams(node_id, atx_id, args.labels_per_unit or post.LABELS_PER_UNIT, args.num_units,
                                  args.max_file_size or post.MAX_FILE_SIZE, scrypt_n)
    post_data.check_parameters(post, params)
    num_labels = params.num_labels
    datadir = args.datadir
    if args.work is not None and not (args.devices or args.cluster):
        raise CliError("--work is where --devices all or --cluster put their ranges: give one of them")
    if args.range_from is not None or args.range_to is not None or args.devices or args.cluster:
        return _init_split(post, args, params)
    check_output(datadir, "DIR", directory=True)  # a directory, created inside an existing one
    if not os.path.exists(datadir):
        post_data.check_free_space(datadir, post_data.LABEL_SIZE * num_labels)  # before creating anything
        try:
            os.makedirs(datadir, exist_ok=True)
        except OSError as e:
            raise CliError(f"cannot create {datadir}: {e.strerror}") from None
    batch = args.batch or max(64, min(1 << 16, (1 << 22) // scrypt_n))
    with post_data.locked(datadir):
        plan = post_data.plan_init(post, datadir, params)  # every check; nothing changed yet
        if plan.kind == "done":
            print(f"{datadir} is already initialized (VRF nonce {plan.nonce})", file=sys.stderr)
            return 0
        labels_done = 0 if plan.checkpoint is None else plan.checkpoint.labels_done
        post_data.check_free_space(datadir, post_data.LABEL_SIZE * (num_labels - labels_done))
        try:
            if plan.checkpoint is None:
                post_data.start_fresh(post, datadir, params, batch)
            else:
                post_data.resume(post, datadir, params, plan.checkpoint)
        except OSError as e:
            raise post_data.write_error(e, datadir, labels_done, num_labels) from None
        best = None if plan.checkpoint is None else plan.checkpoint.best
        return _init_labels(post, args, datadir, params, labels_done, best, batch, active_backend())


def _init_labels(post: Any, args: argparse.Namespace, datadir: str, params: Any, labels_done: int,
                 best: tuple[int, bytes] | None, batch: int, backend: str) -> int:
    """Compute, append and checkpoint the labels from labels_done on, then the VRF nonce and metadata."""
    from tqdm import tqdm

    num_labels = params.num_labels
    commitment = post.compute_commitment(params.node_id, params.commitment_atx_id)
    difficulty = post.vrf_difficulty(num_labels)
    per_file = post.labels_per_file(params.max_file_size)
    stop_at = None if args.stop_after is None else labels_done + args.stop_after
    with tqdm(total=num_labels, initial=labels_done, unit="label", unit_scale=True, smoothing=0.05,
              desc=f"init ({backend})", disable=args.no_progress or None) as bar:
        while labels_done < num_labels:
            if stop_at is not None and labels_done >= stop_at:
                print("smspec: stopped (--stop-after)", file=sys.stderr)
                return 3
            file_index = labels_done // per_file
            count = min(batch, num_labels - labels_done, (file_index + 1) * per_file - labels_done)
            labels, found = post.initialize_range(commitment, labels_done, count, params.scrypt_n, difficulty)
            path = os.path.join(datadir, post.data_file_name(file_index))
            try:
                post_data.append_labels(path, labels)
                best = post.better_vrf_nonce(best, found)
                post_data.write_checkpoint(
                    datadir, post_data.Checkpoint(params.scrypt_n, labels_done + count, best, batch))
            except OSError as e:
                raise post_data.write_error(e, path, labels_done, num_labels) from None
            labels_done += count
            bar.update(count)
    last_position = None
    if best is None:
        print("no VRF nonce among the labels; searching past the end", file=sys.stderr)
        best = post.search_vrf_nonce_beyond(commitment, num_labels, params.scrypt_n)
        last_position = best[0] + 1
    import attrs

    metadata = attrs.evolve(params.metadata(post), nonce=best[0], last_position=last_position)
    meta_path = os.path.join(datadir, post.METADATA_FILE_NAME)
    try:
        post_data.write_atomic(meta_path, post.metadata_to_json(metadata))
        os.remove(os.path.join(datadir, STATE_FILE))
    except OSError as e:
        raise post_data.write_error(e, meta_path, num_labels, num_labels) from None
    print(f"initialized {num_labels} labels in {post.num_files(metadata)} files; VRF nonce {best[0]}",
          file=sys.stderr)
    return 0


def _init_split(post: Any, args: argparse.Namespace, params: Any) -> int:
    """``post init`` of one label range (``--from/--to``), or split over devices or a cluster."""
    from smspec.impl.registry import active_backend
    from tqdm import tqdm

    if (args.range_from is not None or args.range_to is not None) and (args.devices or args.cluster):
        raise CliError("--from/--to write one range; --devices and --cluster split the whole data set: use one or the other")
    if args.devices and args.cluster:
        raise CliError("--devices all and --cluster are two ways to split the work: choose one")
    if args.stop_after is not None and (args.devices or args.cluster):
        raise CliError("--stop-after applies to one range")
    datadir = args.datadir
    check_output(datadir, "DIR", directory=True)
    batch = args.batch or max(64, min(1 << 16, (1 << 22) // params.scrypt_n))
    say = lambda text: print(text, file=sys.stderr)  # noqa: E731
    if args.range_from is None and args.range_to is None:
        from smspec.tools import post_parallel

        if args.cluster:
            post_parallel.check_address(args.cluster)
        elif active_backend() != "gpu":
            raise CliError("--devices all runs the OpenCL engine: leave out --backend or use --backend opencl")
        work = args.work or datadir.rstrip("/\\") + ".ranges"
        check_output(work, "--work", directory=True)
        if os.path.isdir(datadir) and os.listdir(datadir):
            # written by an earlier run: finished (every check of `post init`), or not ours to touch
            if post_data.plan_init(post, datadir, params).kind == "done":
                say(f"{datadir} is already initialized")
                return 0
            raise CliError(f"{datadir} holds an unfinished single-run initialization: finish it without "
                           "--devices/--cluster, or use another directory")
        os.makedirs(work, exist_ok=True)
        with tqdm(total=params.num_labels, unit="label", unit_scale=True, desc="init (split)",
                  disable=args.no_progress or None) as bar:
            if args.devices:
                metadata = post_parallel.run_devices(post, params, datadir, work, batch, bar.update, say)
            else:
                metadata = post_parallel.run_cluster(post, _preset(args), active_backend(), params, datadir, work,
                                                     batch, args.cluster, say=say)
        say(f"initialized {params.num_labels} labels in {post.num_files(metadata)} files; VRF nonce {metadata.nonce}"
            f" (range directories kept in {work})")
        return 0
    first = 0 if args.range_from is None else args.range_from
    end = params.num_labels if args.range_to is None else args.range_to
    post_data.check_range(post, params, first, end)
    if not os.path.exists(datadir):
        post_data.check_free_space(datadir, post_data.LABEL_SIZE * (end - first))
    with tqdm(total=end - first, unit="label", unit_scale=True, smoothing=0.05,
              desc=f"init {first}..{end - 1} ({active_backend()})", disable=args.no_progress or None) as bar:
        try:
            record = post_data.init_range(post, datadir, params, first, end, batch, progress=bar.update,
                                          stop_after=args.stop_after)
        except OSError as e:
            raise CliError(f"cannot write {datadir}: {e.strerror or e}") from None
    if not record.done:
        print("smspec: stopped (--stop-after)", file=sys.stderr)
        return 3
    say(f"labels {first} .. {end - 1} are in {datadir}; join the ranges with `smspec post merge ... --into DIR`")
    return 0


def run_merge(args: argparse.Namespace) -> int:
    post = _post(args)
    _backend(args, "cpu")
    check_output(args.into, "--into", directory=True)
    metadata = post_data.merge_ranges(post, args.ranges, args.into, args.link,
                                      say=lambda text: print(text, file=sys.stderr))
    print(f"merged {len(args.ranges)} ranges into {args.into}: {post.total_labels(metadata)} labels in "
          f"{post.num_files(metadata)} files; VRF nonce {metadata.nonce}", file=sys.stderr)
    return 0


def run_verify_data(args: argparse.Namespace) -> int:
    post = _post(args)
    _backend(args, "cpu")
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    return post_data.verify_data(post, args.datadir, args.scrypt_n, args.sample, args.everything, seed,
                                 not args.no_progress)


# --------------------------------------------------------------------------------------------
# prove and verify


def _load_checked(post: Any, datadir: str) -> Any:
    """The metadata of an initialized directory whose data files all have their full size."""
    metadata = read_metadata(post, datadir)
    try:
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
    if args.out != "-":
        check_output(args.out, "--out")
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
    metadata = read_metadata(post, args.datadir)
    try:
        text = read_input(args.proof, "PROOF").decode("utf-8")
    except UnicodeDecodeError:
        text = "\x00"  # not JSON: the verifier says malformed_proof
    config = post.preset_config()
    if args.labels_per_unit:
        import attrs

        config = attrs.evolve(config, labels_per_unit=args.labels_per_unit)
    k3 = config.k2 if args.all else args.k3
    try:
        if json_depth(text) > MAX_JSON_DEPTH:
            raise post.InvalidProof("malformed_proof", f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
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
