"""Selecting a backend switches every spec module, in any order, and exactly that code runs.

Proved by tracing (``sys.setprofile``): a workload of spec-level entry points (vector cases run
through their handlers, the Hare receive pipeline) runs after each switch of a sequence such as
spec -> impl -> spec. Under ``spec`` no function whose code lives in impl/ or gpu/ may run;
under ``impl`` every impl replacement must run and no gpu code; under ``gpu`` every replacement
of the gpu backend must run and no impl replacement that gpu overrides. The sequences run in a
fresh interpreter, so the first backend is selected before any spec module is loaded (modules
then load under it, through the registry's post-load hook) and the later switches rebind names
imported under another backend.

Two replacements have no spec-level caller and are driven through the module attribute the
spec defines: ``atx.encode_atx_v2`` (no document calls it; the node and the benchmark do) and
``post_best.chunk_scores`` (only the spec's own ``prove_best`` calls it, and every backend
replaces ``prove_best``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import CodeType
from typing import Any

import pytest
import smspec.gpu
import smspec.impl
from smspec.impl import registry

IMPL_DIR = Path(smspec.impl.__file__).resolve().parent
GPU_DIR = Path(smspec.gpu.__file__).resolve().parent
REGISTRY_FILE = Path(registry.__file__).resolve()

# (vector source, preset, case): together they reach every impl and gpu replacement from a spec
# entry point (the comment names what each one is here for).
WORKLOAD_CASES: list[tuple[str, str, str]] = [
    ("athena/syscalls/run", "mainnet", "write_output"),  # athena.run, load_program, read_bytes, syscall_hint_read
    ("athena/syscalls/run", "mainnet", "context_layout"),  # athena.write_words
    ("athena/syscalls/run", "mainnet", "ed25519_valid"),  # athena.ed25519_verify, ed25519_decompress
    ("atx/codec/decode_v2", "mainnet", "round_trip_marriage"),  # decode_atx_v2, scale.decode_compact
    ("atx/codec/version", "mainnet", "v2_from_epoch_5"),  # scale.decode_prefix
    ("atx/id/v2", "mainnet", "marriage_signed_a_id_a"),  # atx_id_v2, scale.encode_compact
    ("atx/id/v3", "tiny", "hand_assembled_a"),  # atx_id_v3
    ("crypto/signature/ed25519_sign", "mainnet", "rfc8032_test_1"),  # public_key, ed25519_sign
    ("crypto/signature/verify", "mainnet", "valid"),  # ed25519_verify
    ("crypto/merkle/root", "mainnet", "blake3_5_leaves"),  # merkle_root
    ("crypto/vrf/prove", "mainnet", "rfc9381_ell2_example_1"),  # vrf_prove, vrf_proof_to_hash
    ("crypto/vrf/verify", "mainnet", "rfc9381_ell2_example_1"),  # vrf_verify
    ("fixed/arith/bin_cdf", "mainnet", "n10_x3_p80000000000000"),  # bin_cdf
    ("hare/eligibility/count", "mainnet", "upstream_oracle_test_0"),  # eligibility_count, validate_...
    ("hare/message/decode", "mainnet", "commit"),  # message_hash, scale.decode
    ("post/vrf_nonce/scan", "mainnet", "go_post_pow"),  # compute_labels (range narrowed below)
    ("post/init/data_dir", "tiny", "tiny_one_unit"),  # initialize_range
    ("post/proving/find_nonce", "mainnet", "post_rs_proving_vector"),  # find_passing_nonce
    ("post/proving/prove", "tiny", "tiny_two_units"),  # generate_proof, find_k2pow
    ("post/k2pow/verify", "mainnet", "above_threshold"),  # verify_k2pow
    ("post_best/select/prove", "tiny", "three_identities_k16"),  # prove_best
    ("tortoise/events/trace", "tiny", "partition_50_50"),  # every tortoise replacement
    ("sync/conversation/pair", "mainnet", "wrapped_range_split"),  # sync.new_item_store
]
# Inputs changed to keep the spec side quick (the known answer still holds: 165545 is the lowest
# output of the case's whole range 165500..165599).
NARROWED = {("post/vrf_nonce/scan", "mainnet", "go_post_pow"): {"start": 165540, "count": 8}}


class Trace:
    """The code objects of every Python function called while active (main and new threads)."""

    def __init__(self) -> None:
        self.codes: set[CodeType] = set()

    def _profile(self, frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            self.codes.add(frame.f_code)

    @contextmanager
    def active(self) -> Iterator[Trace]:
        import threading

        previous = sys.getprofile()
        sys.setprofile(self._profile)
        threading.setprofile(self._profile)
        try:
            yield self
        finally:
            threading.setprofile(None)  # type: ignore[arg-type]
            sys.setprofile(previous)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Record nothing meanwhile (e.g. while a backend is being selected)."""
        saved, self.codes = self.codes, set()
        try:
            yield
        finally:
            self.codes = saved

    def ran(self, function: Callable[..., Any]) -> bool:
        return function.__code__ in self.codes

    def foreign(self) -> list[str]:
        """impl/ and gpu/ functions that ran (the registry's own bookkeeping excepted)."""
        found = []
        for code in self.codes:
            path = Path(code.co_filename).resolve()
            if path == REGISTRY_FILE:
                continue
            if path.is_relative_to(IMPL_DIR) or path.is_relative_to(GPU_DIR):
                found.append(f"{path.parent.name}/{path.name}:{code.co_qualname}")
        return sorted(found)


def hare_pipeline(hare: Any) -> int:
    """One identity's eligibility, message and its reception through hare.md's pipeline:
    hare's own imported ``vrf_prove``/``vrf_verify``/``sign``/``verify_signature`` run; then the
    state machine's ``threshold_tallies`` and ``gradecast``."""
    genesis = bytes.fromhex("9eebff023abb17ccb775c602daade8ed708f0a50")
    layer = 4242
    secret = bytes([11]) * 32
    from smspec import spec

    sender = spec.load("crypto", hare.PRESET).public_key(secret)
    active = hare.ActiveSet(beacon=b"\x0a\x0b\x0c\x0d", weights={sender: 10, bytes([1]) * 32: 10})
    context = hare.SessionContext(layer=layer, genesis_id=genesis, active=active, committee=10, leaders=5)
    preround = hare.IterRound(0, hare.Round.PREROUND)
    found = hare.own_eligibility(active, secret, sender, layer, preround, context.committee, context.leaders)
    assert found is not None and found.count > 0
    out = hare.ProtocolMessage(0, hare.Round.PREROUND, hare.Value(proposals=(b"a".ljust(20, b"\0"),)))
    message = hare.build_message(secret, sender, genesis, layer, out, found)
    state = hare.ProtocolState(threshold=6)
    assert hare.receive_message(context, state, hare.encode(message, hare.Message), False).relay
    # the state machine's tallies and gradecast over the stored message
    assert hare.threshold_tallies(state, preround, 0, False) == {b"a".ljust(20, b"\0"): [found.count, found.count]}
    assert hare.gradecast(state, hare.IterRound(0, hare.Round.PROPOSE)) == []
    return int(found.count)


def tortoise_batch(t: Any) -> list[str | None]:
    """on_ballots on a fresh node: three ballots with neither epoch data nor a reference, each
    refused in its place."""
    opinion = t.Opinion(hash=bytes(32), votes=t.Votes(base=t.EMPTY_BALLOT_ID, support=(), against=(), abstain=()))
    ballots = [t.BallotData(id=bytes([n]) * 20, smesher=bytes([n]) * 32, layer=100, atx_id=bytes([n]) * 32,
                            eligibilities=1, opinion=opinion) for n in (1, 2, 3)]
    return [None if r is None else r.reason for r in t.on_ballots(t.new_tortoise(t.TortoiseConfig()), ballots)]


def _workload_sources() -> dict[tuple[str, str, str], Any]:
    from smspec.conformance.execute import discover_sources

    wanted: dict[tuple[str, str], set[str]] = {}
    for key, preset, name in WORKLOAD_CASES:
        wanted.setdefault((key, preset), set()).add(name)
    found = {}
    for source in discover_sources():
        for preset in source.presets:
            names = wanted.get((source.key, preset))
            if names is None:
                continue
            for case in source.cases():
                if case.name in names:
                    name = case.name
                    key = (source.key, preset, name)
                    found[key] = dataclasses.replace(case, inputs={**case.inputs, **NARROWED.get(key, {})})
    missing = [c for c in WORKLOAD_CASES if c not in found]
    assert not missing, f"workload cases no longer exist: {missing}"
    return found


def _step(backend: str, cases: dict[tuple[str, str, str], Any]) -> dict[str, Any]:
    """Select ``backend``, run the workload traced, and report what ran."""
    from smspec import spec
    from smspec.conformance.execute import run_case

    registry.use_backend(backend)
    report: dict[str, Any] = {"backend": backend}
    try:
        registry.check_backend()
        report["check"] = "ok"
    except RuntimeError as error:
        report["check"] = str(error)
    trace = Trace()
    outcomes = {}
    with trace.active():
        for (key, preset, name), case in cases.items():
            run = run_case(key, case, preset)
            outcomes[f"{preset}/{key}/{name}"] = run.got
            if run.contradicts_known_answer:
                outcomes[f"{preset}/{key}/{name}"] = {"contradicts_known_answer": run.got}
        hare = spec.load("hare", "mainnet")
        hare_trace = Trace()
        with hare_trace.active():
            outcomes["hare_pipeline"] = {"count": hare_pipeline(hare)}
        trace.codes |= hare_trace.codes
        atx = spec.load("atx", "mainnet")
        blob = cases[("atx/codec/decode_v2", "mainnet", "round_trip_marriage")].inputs["blob"]
        outcomes["encode_atx_v2"] = atx.encode_atx_v2(atx.decode_atx_v2(blob)).hex()
        post_best = spec.load("post_best", "tiny")
        outcomes["chunk_scores"] = post_best.chunk_scores(bytes(range(16)), bytes(range(64)))
        outcomes["on_ballots"] = tortoise_batch(spec.load("tortoise", "tiny"))
    report["outcomes"] = json.loads(json.dumps(outcomes, default=repr))
    report["foreign"] = trace.foreign()
    crypto = spec.load("crypto", "mainnet")
    spec_crypto = {name: registry.original(crypto, name) for name in ("vrf_prove", "vrf_verify", "point_mul")}
    report["hare_binds_crypto"] = all(
        spec.load("hare", p).vrf_prove is spec.load("crypto", p).vrf_prove
        and spec.load("hare", p).vrf_verify is spec.load("crypto", p).vrf_verify
        for p in ("mainnet", "tiny")
    )
    report["hare_ran_spec_crypto"] = sorted(n for n, f in spec_crypto.items() if hare_trace.ran(f))
    layers = {"impl": ("impl",), "gpu": ("impl", "gpu")}.get(backend, ())
    in_force = registry.replacements(backend)
    keys = {(r.module, r.name) for r in in_force}
    report["replacements"] = len(keys)
    ran = {(registry.spec_module_name(m), name) for m, name, _, function in registry.installed() if trace.ran(function)}
    report["missing"] = sorted(f"{m}.{n}" for m, n in keys - ran)
    active_codes = {function.__code__ for _, _, _, function in registry.installed()}
    overridden = []
    for r in registry.all_replacements():
        if r.backend not in layers or r in in_force or r.factory:
            continue
        if r.function.__code__ not in active_codes and trace.ran(r.function):
            overridden.append(f"{r.backend}:{r.module}.{r.name}")
    report["overridden_ran"] = sorted(overridden)
    report["gpu_ran"] = [f for f in report["foreign"] if f.startswith("gpu/")]
    return report


def sequence_report(order: list[str]) -> list[dict[str, Any]]:
    """Run the traced workload after each switch of ``order`` (in this interpreter)."""
    cases = _workload_sources()
    return [_step(backend, cases) for backend in order]


def _run_sequence(order: list[str]) -> list[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if k not in ("SMSPEC_BACKEND", "SMSPEC_PRESET")}
    code = (
        "import json, sys\n"
        "from smspec.tests.unit.test_backend_isolation import sequence_report\n"
        "print(json.dumps(sequence_report(sys.argv[1:])))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, *order], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def _assert_clean(steps: list[dict[str, Any]]) -> None:
    reference: dict[str, Any] | None = None
    for number, step in enumerate(steps):
        where = f"step {number} ({step['backend']})"
        assert step["check"] == "ok", where
        assert step["hare_binds_crypto"], where
        if step["backend"] == "spec":
            assert step["foreign"] == [], f"{where}: impl/gpu code ran under spec"
            # the Hare pipeline ran the spec's ECVRF through hare's own imported names
            assert step["hare_ran_spec_crypto"] == ["point_mul", "vrf_prove", "vrf_verify"], where
        else:
            assert step["replacements"] > 0, where
            assert step["missing"] == [], f"{where}: replacements that never ran"
            assert step["overridden_ran"] == [], where
            # the measured leak: hare.md's vrf_prove/vrf_verify ran the spec's point arithmetic
            assert step["hare_ran_spec_crypto"] == [], where
        if step["backend"] == "impl":
            assert step["gpu_ran"] == [], where
        if step["backend"] in ("spec", "impl"):
            # the cases' known answers hold, and both backends give the same answers (the gpu
            # backend's answers are the differential tests' business)
            assert not [k for k, v in step["outcomes"].items() if "contradicts_known_answer" in v], where
            if reference is None:
                reference = step["outcomes"]
            assert step["outcomes"] == reference, where


@pytest.mark.parametrize("order", [["spec", "impl", "spec"], ["impl", "spec", "impl"]], ids="->".join)
def test_switching_runs_exactly_the_selected_backend(order: list[str]) -> None:
    steps = _run_sequence(order)
    assert [s["backend"] for s in steps] == order
    _assert_clean(steps)


@pytest.mark.gpu
def test_switching_with_gpu_runs_exactly_the_selected_backend() -> None:
    order = ["gpu", "spec", "gpu", "impl", "spec"]
    steps = _run_sequence(order)
    assert [s["backend"] for s in steps] == order
    _assert_clean(steps)
    assert all(s["gpu_ran"] for s in steps if s["backend"] == "gpu")


# ---------------------------------------------------------------------------------------------
# In this process (the session's backend is restored by the plugin's autouse fixture)


@pytest.mark.parametrize("order", [["spec", "impl", "spec"], ["impl", "spec", "impl"]], ids="->".join)
def test_hare_calls_the_selected_ecvrf(order: list[str]) -> None:
    """The measured leak: hare.md imports vrf_prove/vrf_verify from crypto by name."""
    from smspec import spec

    hare, crypto = spec.load("hare", "mainnet"), spec.load("crypto", "mainnet")
    spec_vrf = [registry.original(crypto, n) for n in ("vrf_prove", "vrf_verify", "point_mul")]
    counts = []
    for backend in order:
        registry.use_backend(backend)
        registry.check_backend()
        assert hare.vrf_prove is crypto.vrf_prove and hare.vrf_verify is crypto.vrf_verify
        trace = Trace()
        with trace.active():
            counts.append(hare_pipeline(hare))
        if backend == "spec":
            assert trace.foreign() == []
            assert all(trace.ran(f) for f in spec_vrf)
        else:
            fast = {name: function for _, name, _, function in registry.installed()}
            assert all(trace.ran(fast[n]) for n in ("vrf_prove", "vrf_verify", "verify_body", "message_grade"))
            assert not any(trace.ran(f) for f in spec_vrf)
    assert len(set(counts)) == 1


def test_names_bound_under_another_backend_are_restored() -> None:
    """Every spec module's globals: exactly the originals under spec, none of them under impl."""
    from smspec import spec

    for name in spec.available_modules():
        spec.load(name, "tiny")
        spec.load(name, "mainnet")
    registry.use_backend("impl")
    replaced = {id(fn): fn for _, _, fn, _ in registry.installed()}
    modules = {id(m): m for m in spec.loaded_modules()}.values()
    patched = {(m.__name__, k) for m in modules for k in m.__dict__.get(registry.ORIGINALS, {})}
    registry.use_backend("spec")
    registry.check_backend()
    for module in modules:
        assert registry.ORIGINALS not in module.__dict__
        assert registry.foreign_bindings(module) == []
    restored = {(m.__name__, k) for m in modules for k, v in m.__dict__.items() if id(v) in replaced}
    assert restored == patched
    # hare imports crypto's ECVRF and scale's codec: both rebound, not only the defining modules
    assert {("smspec.spec.mainnet.hare", "vrf_prove"), ("smspec.spec.mainnet.hare", "encode"),
            ("smspec.spec.tiny.post_best", "encode"), ("smspec.spec.tiny.hare4", "verify_body")} <= patched


def _hidden_references(value: Any, replaced: dict[int, Any], depth: int = 0) -> int:
    """Replaced spec functions reachable other than by a module global (not rebound)."""
    if id(value) in replaced and depth > 0:
        return 1
    if depth > 2:
        return 0
    found = 0
    if isinstance(value, (tuple, list, set, frozenset)):
        found += sum(_hidden_references(v, replaced, depth + 1) for v in value)
    elif isinstance(value, dict):
        found += sum(_hidden_references(v, replaced, depth + 1) for v in value.values())
    elif callable(value) and hasattr(value, "__defaults__"):
        found += sum(_hidden_references(v, replaced, depth + 1) for v in (value.__defaults__ or ()))
        found += sum(_hidden_references(v, replaced, depth + 1) for v in (value.__kwdefaults__ or {}).values())
    elif isinstance(value, type):
        found += sum(_hidden_references(v, replaced, depth + 1) for v in vars(value).values())
    return found


def test_no_spec_module_hides_a_replaced_function() -> None:
    """Rebinding globals is complete only if no default argument, table or class attribute of a
    spec module holds a replaced function."""
    from smspec import spec

    for name in spec.available_modules():
        spec.load(name, "mainnet")
    registry.use_backend("impl")
    replaced = {id(fn): fn for _, _, fn, _ in registry.installed()}
    registry.use_backend("spec")
    hidden = []
    for module in {id(m): m for m in spec.loaded_modules()}.values():
        for name, value in module.__dict__.items():
            if _hidden_references(value, replaced):
                hidden.append(f"{module.__name__}.{name}")
    assert hidden == []


def test_factories_capture_spec_originals() -> None:
    """A replacement's exact fallback is the spec's function, never a replacement (itself)."""
    registry.use_backend("impl")
    replacements = {id(function) for *_, function in registry.installed()}
    for module, name, _, function in registry.installed():
        for cell in function.__closure__ or ():
            assert id(cell.cell_contents) not in replacements, f"{module.__name__}.{name}"
    # a torsion public key is outside libsodium's domain: the impl hands it to the spec function
    from smspec import spec

    crypto = spec.load("crypto", "mainnet")
    points = (crypto.decode_point(y.to_bytes(32, "little")) for y in range(2, 60))
    torsion = crypto.encode_point(crypto.point_mul(crypto.GROUP_ORDER, next(p for p in points if p is not None)))
    trace = Trace()
    with trace.active():
        answer = crypto.vrf_verify(torsion, bytes(80), b"alpha")
    assert trace.ran(crypto.vrf_verify) and trace.ran(registry.original(crypto, "vrf_verify"))
    registry.use_backend("spec")
    assert answer == crypto.vrf_verify(torsion, bytes(80), b"alpha")


def test_check_backend_reports_a_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    from smspec import spec
    from smspec.impl import crypto as impl_crypto

    registry.use_backend("spec")
    hare = spec.load("hare", "mainnet")
    monkeypatch.setitem(hare.__dict__, "vrf_prove", impl_crypto._vrf_prove_factory(spec.load("crypto", "mainnet")))
    with pytest.raises(RuntimeError, match="smspec.spec.mainnet.hare.vrf_prove is smspec.impl.crypto"):
        registry.check_backend()


def test_backend_from_environment_with_an_impl_module_imported_first(tmp_path: Path) -> None:
    """SMSPEC_BACKEND=impl and ``import smspec.impl.crypto`` first: the registry selects the
    backend while crypto's replacements are not registered yet; they are installed as they come."""
    code = (
        "import smspec.impl.crypto\n"
        "from smspec.impl import registry\n"
        "from smspec.spec import crypto, hare\n"
        "registry.check_backend()\n"
        "print(registry.active_backend(), hare.vrf_prove.__module__, crypto.merkle_root.__module__)\n"
    )
    env = {**os.environ, "SMSPEC_BACKEND": "impl"}
    env.pop("SMSPEC_PRESET", None)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["impl", "smspec.impl.crypto", "smspec.impl.crypto"]


# ---------------------------------------------------------------------------------------------
# vectors generate


VECTOR_SUBSET = ["crypto/vrf", "hare/eligibility", "post_best/verify/verify"]


def generate_after_impl(directory: str, only: list[str]) -> dict[str, Any]:
    """In this process: select impl, import the vector sources and load every spec module under
    it, then run ``smspec vectors generate`` traced (switches excepted)."""
    from smspec import spec
    from smspec.conformance.execute import discover_sources
    from smspec.tools.cli import main

    registry.use_backend("impl")
    discover_sources()
    for name in spec.available_modules():
        for preset in ("mainnet", "tiny"):
            spec.load(name, preset)
    trace = Trace()
    use_backend = registry.use_backend

    def untraced_switch(backend: str) -> None:  # impl factories run when impl is restored after it
        with trace.paused():
            use_backend(backend)

    registry.use_backend = untraced_switch  # type: ignore[assignment]
    with trace.active():
        status = main(["vectors", "generate", "--dir", directory, "--quiet", *[a for p in only for a in ("--only", p)]])
    registry.use_backend = use_backend  # type: ignore[assignment]
    return {"status": status, "backend_after": registry.active_backend(), "foreign": trace.foreign()}


def test_vectors_generate_after_impl_in_process_is_the_spec_s(tmp_path: Path) -> None:
    """A process that selected impl first (every spec module and vector source loaded under it)
    then runs ``vectors generate`` in-process: the spec backend is selected and checked, no impl
    code runs, the files are byte-identical to the committed index, and impl is restored."""
    from smspec import spec
    from smspec.conformance.execute import sha256_text

    env = {k: v for k, v in os.environ.items() if k not in ("SMSPEC_BACKEND", "SMSPEC_PRESET")}
    code = (
        "import json, sys\n"
        "from smspec.tests.unit.test_backend_isolation import generate_after_impl\n"
        "print(json.dumps(generate_after_impl(sys.argv[1], sys.argv[2:])))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path), *VECTOR_SUBSET], capture_output=True,
                          text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout.splitlines()[-1])
    assert report == {"status": 0, "backend_after": "impl", "foreign": []}
    committed = json.loads((spec.SPEC_DIR.parent / "vectors" / "index.json").read_text())["cases"]
    written = sorted(tmp_path.glob("*/*/*/*/*/case.json"))
    assert len(written) == len([c for c in committed if c.split("/", 1)[1].startswith(tuple(VECTOR_SUBSET))]) > 50
    for path in written:
        relative = path.relative_to(tmp_path).as_posix()
        assert committed[relative] == sha256_text(path.read_text(encoding="utf-8")), relative


def test_vectors_generate_refuses_a_source_bound_to_impl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from smspec.conformance.execute import discover_sources
    from smspec.impl import scale as impl_scale
    from smspec.tools.cli import main

    source = next(s for s in discover_sources() if s.key == "crypto/vrf/prove")
    monkeypatch.setitem(sys.modules[source.module].__dict__, "leaked_encode", impl_scale.encode)
    code = main(["vectors", "generate", "--dir", str(tmp_path), "--quiet", "--only", "crypto/vrf/prove"])
    assert code == 2
    assert not any(tmp_path.iterdir())
