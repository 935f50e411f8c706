"""``smspec vectors``: generate, check and run conformance vectors against a client."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from smspec.tools.cli import (
    CliError,
    check_output,
    integer,
    load_json,
    read_input,
    real,
    set_backend_from_args,
)

DEFAULT_DIR = Path("vectors")


def _progress(iterable, total: int | None, desc: str, quiet: bool):
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="case", disable=quiet or None, leave=False, file=sys.stderr)


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--only", action="append", default=[], metavar="PREFIX",
        help="only cases whose domain/runner/handler/case starts with PREFIX (e.g. scale, crypto/signature/ed25519, "
        "post/labels); repeatable",
    )
    parser.add_argument(
        "--skip", action="append", default=[], metavar="PREFIX",
        help="skip cases whose domain/runner/handler/case starts with PREFIX; repeatable",
    )
    parser.add_argument("--preset", dest="vector_preset", action="append", default=[],
                        choices=("mainnet", "testnet", "tiny"),
                        help="only cases of this preset (mainnet, testnet, tiny); repeatable")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "vectors",
        help="generate, check and run conformance vectors",
        description="Conformance vectors: JSON cases (see conformance/formats/README.md) that client "
        "teams run against their implementation.",
    )
    sub = parser.add_subparsers(dest="vectors_command", metavar="ACTION")

    gen = sub.add_parser(
        "generate",
        help="write every vector case (from the spec tests) and vectors/index.json",
        description="Run every vector source (spec test) on the spec backend and write the cases under "
        "DIR. Output is deterministic: regenerating gives byte-identical files. With --check, nothing "
        "is written: the regenerated hashes are compared with DIR/index.json (exit 1 on any difference).",
    )
    gen.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="output directory (default: vectors)")
    gen.add_argument("--check", action="store_true", help="compare with DIR/index.json instead of writing")
    gen.add_argument("--quiet", action="store_true", help="no progress bar")
    _filters(gen)
    gen.set_defaults(func=cmd_generate)

    chk = sub.add_parser(
        "check",
        help="run the stored vectors through a backend of smspec itself",
        description="Load every case under DIR and run it through the chosen backend's handlers. "
        "Prints a line per failure and a summary 'N passed, N failed'.",
    )
    chk.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="vector directory (default: vectors)")
    chk.add_argument("--backend", choices=("spec", "impl", "gpu"), default="spec",
                     help="which implementation to check (default: spec)")
    chk.add_argument("--quiet", action="store_true", help="no progress bar")
    _filters(chk)
    chk.set_defaults(func=cmd_check)

    run = sub.add_parser(
        "run",
        help="drive a client implementation (any language) over the adapter protocol",
        description="Start CMD once and exchange one JSON line per case over its stdin/stdout "
        "(protocol: conformance/formats/adapter.md). Prints each failure with a readable diff, then a "
        "coverage line (cases answered vs unsupported), the results per level (live, spec-strict, "
        "untyped-input, devnet) and a summary 'N passed, N failed, N skipped'. Exit 0 when nothing failed. "
        "A release tarball ships this runner as run.py (Python 3 standard library only).",
    )
    from smspec.conformance.runner import add_arguments

    add_arguments(run, DEFAULT_DIR, seconds=real(0.01, 86_400, "seconds"),
                  answer_bytes=integer(1024, 2**32, "bytes"))
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser(
        "serve",
        help="answer the adapter protocol on stdin/stdout with smspec itself (reference adapter)",
        description="The reference client adapter. `smspec vectors run --client 'smspec vectors serve'` "
        "passes every case; client teams can diff their adapter's answers against it.",
    )
    serve.add_argument("--backend", choices=("spec", "impl", "gpu"), default="spec")
    serve.set_defaults(func=cmd_serve)

    pk = sub.add_parser(
        "pack",
        help="write the release tarballs (one per preset) that client teams download",
        description="Write OUT/smspec-vectors-<version>-<preset>.tar.gz for each preset of the vectors under DIR: "
        "the cases and their blobs, the format documents and handler pages, the spec documents, the preset's "
        "parameters, the standalone runner run.py, example adapters and manifest.json (versions, commit, "
        "upstream pins per domain). Reproducible byte for byte. With --release, DIR/release.json records this "
        "version as released: later versions are computed against it (conformance/release.py states the rule).",
    )
    pk.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="vector directory (default: vectors)")
    pk.add_argument("--out", type=Path, default=Path("dist"), help="output directory, created if missing (default: dist)")
    pk.add_argument("--preset", dest="vector_preset", action="append", default=[],
                    choices=("mainnet", "testnet", "tiny"), help="only this preset's tarball; repeatable")
    pk.add_argument("--release", action="store_true", help="record this version as released (DIR/release.json)")
    pk.set_defaults(func=cmd_pack)

    cv = sub.add_parser(
        "coverage",
        help="line and branch coverage of the normative spec code reached by the vectors alone",
        description="Run every case under DIR through the spec backend under coverage.py (in a child process) "
        "and print, per spec document, the statements and branches the vectors reach and the definitions "
        "(functions and methods) that no vector reaches.",
    )
    cv.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="vector directory (default: vectors)")
    cv.add_argument("--json", type=Path, metavar="FILE", help="also write the report as JSON")
    cv.add_argument("--min-statements", type=real(0, 100, "percent"), default=0.0, metavar="PERCENT",
                    help="exit 1 when the statements reached are below PERCENT (all documents together)")
    cv.add_argument("--min-branches", type=real(0, 100, "percent"), default=0.0, metavar="PERCENT",
                    help="exit 1 when the branches taken are below PERCENT")
    cv.set_defaults(func=cmd_coverage)

    cp = sub.add_parser(
        "corpus",
        help="fuzz corpora per decoder: seeds from the vectors, boundary encodings, Hypothesis finds",
        description="Write OUT/<decoder>/<sha256>.bin inputs and OUT/<decoder>/index.json (each input's outcome "
        "and origin) for every decoder of the wire formats: the vectors' inputs, their truncations and compact "
        "boundary encodings, and inputs a derandomized Hypothesis search found to reach new outcomes "
        "(conformance/corpus.py). Deterministic.",
    )
    cp.add_argument("--out", type=Path, default=Path("corpus"), help="output directory (default: corpus)")
    cp.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="vector directory giving the seeds (default: vectors)")
    cp.add_argument("--max-examples", type=integer(0, 100_000, "examples"), default=300,
                    help="Hypothesis examples per decoder (default 300; 0: seeds and boundaries only)")
    cp.add_argument("--only", action="append", default=[], metavar="PREFIX",
                    help="only decoders whose name starts with PREFIX (e.g. scale, atx/wire); repeatable")
    cp.add_argument("--quiet", action="store_true", help="no progress bar")
    cp.set_defaults(func=cmd_corpus)

    lst = sub.add_parser("list", help="list the handlers (vector kinds): summary, inputs, output and format page")
    lst.set_defaults(func=cmd_list)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def _sources(args: argparse.Namespace):
    from smspec.conformance.execute import discover_sources, source_selected

    return [s for s in discover_sources() if source_selected(s.key, args.only, args.skip)]


def cmd_generate(args: argparse.Namespace) -> int:
    from smspec.impl import registry

    previous = registry.active_backend()
    try:
        sources = _spec_sources(args)
        return _generate(args, sources)
    finally:
        registry.use_backend(previous)


def _spec_sources(args: argparse.Namespace):
    """The selected vector sources, with every spec module running the spec's own definitions.

    Whatever ran before in this process (``vectors generate`` is also called in-process), the
    spec backend is selected and checked: no spec module, and no module defining a vector
    source, may hold an impl or gpu function.
    """
    from smspec.impl import registry

    set_backend_from_args(argparse.Namespace(backend="spec"))
    sources = _sources(args)
    leaks = [b for m in {s.module for s in sources} if m in sys.modules for b in registry.foreign_bindings(sys.modules[m])]
    try:
        registry.check_backend()
    except RuntimeError as e:
        leaks.append(str(e))
    if leaks:
        raise CliError("vectors must come from the spec backend, but impl/gpu code is bound: " + "; ".join(leaks))
    return sources


def _generate(args: argparse.Namespace, sources) -> int:
    from smspec.conformance.execute import (
        CaseFailure,
        build_index,
        canonical_json,
        generate_cases,
        write_vectors,
    )

    if not args.check:
        check_output(args.dir, "--dir", directory=True)
        if args.dir.is_dir() and any(args.dir.iterdir()) and not (args.dir / "index.json").is_file():
            # regenerating replaces every case directory under --dir: never in a directory of something else
            raise CliError(f"--dir {str(args.dir)!r} is not empty and has no index.json: not a vector directory")
    if not sources:
        raise CliError("no vector source matches the filters (--only / --skip)")
    presets = set(args.vector_preset) or None
    filtered = bool(args.only or args.skip or presets)
    total = sum(len(s.cases()) * len(s.presets) for s in sources)
    try:
        cases = list(_progress(generate_cases(sources, presets, args.only, args.skip), total, "generating", args.quiet))
    except CaseFailure as e:
        raise CliError(f"a vector source contradicts its own known answer:\n{e}", status=1) from e
    if not cases:
        raise CliError("no case matches the filters (--only / --skip / --preset)")
    index_path = args.dir / "index.json"
    new_index = build_index(cases)
    old_index = load_json(read_input(index_path, "index"), str(index_path)) if index_path.exists() else None
    if filtered and isinstance(old_index, dict):
        # a partial run keeps the rest of the index as it is
        for part in ("cases", "expected"):
            kept = {k: v for k, v in old_index.get(part, {}).items() if not _matches(k, args)}
            new_index[part] = dict(sorted({**kept, **new_index[part]}.items()))
        new_index["blobs"] = dict(sorted({**old_index.get("blobs", {}), **new_index["blobs"]}.items()))
    new_index["vectors_version"], why = _version(args.dir, new_index)
    if args.check:
        if not index_path.exists():
            raise CliError(f"{index_path} does not exist; run `smspec vectors generate` first", status=1)
        old = load_json(read_input(index_path, "index"), str(index_path))
        old_cases = old.get("cases", {})
        if filtered:
            old_cases = {k: v for k, v in old_cases.items() if k in new_index["cases"] or _matches(k, args)}
        problems = []
        for path in sorted(set(old_cases) | set(new_index["cases"])):
            a, b = old_cases.get(path), new_index["cases"].get(path)
            if a != b:
                what = "new" if a is None else "gone" if b is None else "changed"
                problems.append(f"  {what}: {path}")
        if not filtered and old.get("blobs", {}) != new_index["blobs"]:
            problems.append("  blobs differ")
        if old.get("vectors_version") != new_index["vectors_version"]:
            problems.append(f"  vectors_version: {old.get('vectors_version')} in the index, "
                            f"{new_index['vectors_version']} regenerated ({why})")
        if problems:
            print(f"vectors differ from {index_path}:", *problems, sep="\n")
            print("Regenerate with `smspec vectors generate` and commit vectors/index.json if intended.")
            return 1
        print(f"{len(new_index['cases'])} cases: identical to {index_path}")
        return 0
    if args.dir.exists() and not filtered:
        _clear_cases(args.dir)
    write_vectors(args.dir, cases)
    args.dir.mkdir(parents=True, exist_ok=True)
    index_path.write_text(canonical_json(new_index), encoding="utf-8", newline="\n")
    print(f"wrote {len(cases)} cases ({len(new_index['blobs'])} blobs) under {args.dir}/ and {index_path}; "
          f"vectors {new_index['vectors_version']} ({why})")
    return 0


def _version(directory: Path, index: dict) -> tuple[str, str]:
    """The vectors version of ``index`` against the last release recorded in DIR/release.json."""
    from smspec.conformance.release import next_version

    path = directory / "release.json"
    release = load_json(read_input(path, "release record"), str(path)) if path.is_file() else None
    if release is not None and not (isinstance(release, dict) and {"vectors_version", "cases", "expected"} <= set(release)):
        raise CliError(f"{path}: not a release record")
    try:
        return next_version(release, index)
    except ValueError as e:
        raise CliError(f"{path}: {e}") from None


def _matches(path: str, args: argparse.Namespace) -> bool:
    """Whether an index entry ``<preset>/<domain>/<runner>/<handler>/<case>/case.json`` is selected."""
    from smspec.conformance.execute import selected

    parts = path.split("/")
    if args.vector_preset and parts[0] not in args.vector_preset:
        return False
    return selected("/".join(parts[1:5]), args.only, args.skip)


def _clear_cases(root: Path) -> None:
    import shutil

    for child in root.iterdir():
        if child.is_dir():
            shutil.rmtree(child)


def _load(args: argparse.Namespace):
    from smspec.conformance.execute import load_vectors
    from smspec.conformance.runner import VectorError, choose

    if not args.dir.is_dir() or not any(args.dir.glob("*/*/*/*/*/case.json")):
        raise CliError(f"no vectors under {args.dir}/; run `smspec vectors generate` first")
    try:
        cases = load_vectors(args.dir)
    except (VectorError, OSError) as e:
        raise CliError(f"{args.dir}: unreadable vectors: {str(e)[:300]}") from None
    chosen = choose(cases, args.only, args.skip, args.vector_preset)
    if not chosen:
        raise CliError("no case matches the filters")
    return chosen


def cmd_check(args: argparse.Namespace) -> int:
    from smspec.conformance.execute import describe_difference, outcome_matches, run_handler

    backend = set_backend_from_args(args)
    cases = _load(args)
    passed = failed = 0
    for case in _progress(cases, len(cases), f"checking ({backend})", args.quiet):
        try:
            got = run_handler(case.key, case.document["inputs"], case.preset)
        except LookupError as e:
            print(f"FAIL {case.name}: {e}")
            failed += 1
            continue
        if outcome_matches(case.document["expected"], got):
            passed += 1
        else:
            failed += 1
            print(f"FAIL {case.name}: {describe_difference(case.document['expected'], got)}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def cmd_run(args: argparse.Namespace) -> int:
    from smspec.conformance.runner import UsageError, VectorError, run

    try:
        return run(args, out=lambda text: print(text, flush=True))
    except (UsageError, VectorError) as e:
        raise CliError(str(e)) from None


def cmd_serve(args: argparse.Namespace) -> int:
    from smspec.conformance.adapters.reference import serve

    set_backend_from_args(args)
    return serve()


def cmd_pack(args: argparse.Namespace) -> int:
    from smspec.conformance.execute import canonical_json
    from smspec.conformance.release import pack, release_record
    from smspec.conformance.runner import VectorError, load_index

    if not args.dir.is_dir():
        raise CliError(f"no vectors under {args.dir}/ (not a directory)")
    check_output(args.out, "--out", directory=True)
    try:
        index = load_index(args.dir)
        if index is None:
            raise CliError(f"{args.dir}/index.json does not exist; run `smspec vectors generate` first")
        packed = pack(args.dir, args.out, args.vector_preset or None)
    except VectorError as e:
        raise CliError(str(e)[:300]) from None
    if not packed:
        raise CliError("no case of the chosen preset(s) under " + str(args.dir))
    for p in packed:
        print(f"{p.path}: {p.cases} cases, {p.size} bytes")
    if args.release:
        (args.dir / "release.json").write_text(canonical_json(release_record(index)), encoding="utf-8", newline="\n")
        print(f"recorded vectors {index['vectors_version']} as released in {args.dir / 'release.json'}")
    return 0


def cmd_coverage(args: argparse.Namespace) -> int:
    import json

    from smspec.conformance.vector_coverage import measure

    if not args.dir.is_dir() or not any(args.dir.glob("*/*/*/*/*/case.json")):
        raise CliError(f"no vectors under {args.dir}/; run `smspec vectors generate` first")
    if args.json is not None:
        check_output(args.json, "--json")
    try:
        report = measure(args.dir)
    except RuntimeError as e:
        raise CliError(str(e)[:300]) from None
    print("\n".join(report.lines()))
    if args.json is not None:
        args.json.write_text(json.dumps(report.to_json(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    statements, branches = report.total()
    if statements < args.min_statements or branches < args.min_branches:
        print(f"below the minimum: statements {statements:.1f}% (min {args.min_statements}), "
              f"branches {branches:.1f}% (min {args.min_branches})")
        return 1
    return 0


def cmd_corpus(args: argparse.Namespace) -> int:
    from smspec.conformance import corpus
    from smspec.conformance.runner import VectorError, load_cases

    check_output(args.out, "--out", directory=True)
    if not args.dir.is_dir() or not any(args.dir.glob("*/*/*/*/*/case.json")):
        raise CliError(f"no vectors under {args.dir}/ (the seeds): run `smspec vectors generate` first")
    try:
        cases = load_cases(args.dir)
    except (VectorError, OSError) as e:
        raise CliError(f"{args.dir}: unreadable vectors: {str(e)[:300]}") from None
    chosen = [d for d in corpus.decoders() if not args.only or any(d.name.startswith(p) for p in args.only)]
    if not chosen:
        raise CliError("no decoder matches --only")
    set_backend_from_args(argparse.Namespace(backend="spec"))
    total = 0
    for decoder in _progress(chosen, len(chosen), "corpus", args.quiet):
        built = corpus.build(decoder, cases, args.max_examples)
        corpus.write(built, args.out)
        outcomes = sorted({o for o, _ in built.inputs.values()})
        total += len(built.inputs)
        print(f"{decoder.name}: {len(built.inputs)} inputs, {len(outcomes)} outcomes")
    print(f"wrote {total} inputs for {len(chosen)} decoders under {args.out}/")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from smspec.conformance.handlers import discover

    for key, h in sorted(discover().items()):
        if h.schema is None:
            print(f"{key}\n    (no schema)")
            continue
        summary = " ".join(h.schema.summary.split())
        inputs = ", ".join(f.name for f in h.schema.inputs)
        outputs = ", ".join(f.name for f in h.schema.outputs)
        print(key)
        print(f"    {summary}")
        print(f"    inputs: {inputs}; output: {outputs}")
        print(f"    page: conformance/formats/handlers/{h.schema.page}.md")
    return 0
