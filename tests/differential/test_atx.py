"""impl/atx.py against spec/atx.md: same values or same errors (class and reason).

* Hypothesis generates ATX v2 values (every field random within its wire bounds, previous-ATX
  indices in and out of range, empty PoST indices: the scheme A corner cases) and compares IDs
  under both schemes, encodings, and decoding of the encodings and of mutated bytes.
* The validation pipeline (with the impl replacements in force) is compared with the spec's on
  valid scenario ATXs and on mutated, re-signed variants.
* The SQLite store replays every validation and detection vector and must give the same outcome
  as the in-memory store.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smspec.conformance.cases import to_json
from smspec.conformance.execute import expected_outcome
from smspec.impl import atx as impl
from smspec.impl import registry
from smspec.spec.errors import SpecError
from smspec.tests.spec.atx.builders import Member, World, atx, mal, married_pair, scale

SPEC_ID = atx.__dict__.get("__spec_originals__", {}).get("atx_id_v2", atx.atx_id_v2)
SPEC_DECODE = atx.__dict__.get("__spec_originals__", {}).get("decode_atx_v2", atx.decode_atx_v2)
SPEC_ENCODE = atx.__dict__.get("__spec_originals__", {}).get("encode_atx_v2", atx.encode_atx_v2)
IMPL_ID = impl.make_atx_id_v2(atx)
IMPL_DECODE = impl.make_decode_atx_v2(atx)
IMPL_ENCODE = impl.make_encode_atx_v2(atx)
SCHEMES = (atx.IdScheme.A, atx.IdScheme.B)


@pytest.fixture(autouse=True, scope="module")
def spec_backend():
    previous = registry.active_backend()
    registry.use_backend("spec")
    yield
    registry.use_backend(previous)


def outcome(function, *args) -> Any:
    try:
        return ("ok", function(*args))
    except SpecError as error:
        return (type(error).__name__, error.reason)


def test_every_replaced_function_is_covered():
    replaced = {r.name for r in registry.all_replacements() if r.module == "atx"}
    assert replaced == {"atx_id_v2", "decode_atx_v2", "encode_atx_v2"}


H32 = st.binary(min_size=32, max_size=32)
U32 = st.one_of(st.integers(0, 70), st.integers(0, 2**32 - 1))
U64 = st.one_of(st.integers(0, 70), st.integers(0, 2**64 - 1))
POSTS = st.builds(atx.PostV1, U32, st.binary(max_size=12), U64)
SUBS = st.builds(atx.SubPostV2, st.integers(0, 5), st.integers(0, 4), U64, POSTS, U32)
NIPOSTS = st.builds(atx.NiPostV2, st.builds(atx.MerkleProofV2, st.lists(H32, max_size=4)), H32,
                    st.lists(SUBS, max_size=4))
CERTS = st.builds(atx.MarriageCertificate, H32, st.binary(min_size=64, max_size=64))
ATXS = st.builds(
    atx.ActivationTxV2,
    U32,
    H32,
    st.binary(min_size=24, max_size=24),
    st.none() | st.builds(atx.InitialAtxPartsV2, H32, POSTS),
    st.lists(H32, max_size=4),
    st.lists(NIPOSTS, max_size=4),
    U64,
    st.lists(CERTS, max_size=3),
    st.none() | H32,
    H32,
    st.binary(min_size=64, max_size=64),
)


@given(ATXS)
@settings(max_examples=150, deadline=None)
def test_id_encode_decode(value):
    for scheme in SCHEMES:
        assert IMPL_ID(value, scheme) == SPEC_ID(value, scheme)
    blob = SPEC_ENCODE(value)
    assert IMPL_ENCODE(value) == blob
    assert IMPL_DECODE(blob) == SPEC_DECODE(blob) == value


@given(ATXS, st.data())
@settings(max_examples=300, deadline=None)
def test_decode_mutated_bytes(value, data):
    blob = bytearray(SPEC_ENCODE(value))
    kind = data.draw(st.sampled_from(["flip", "truncate", "insert", "delete", "set"]))
    position = data.draw(st.integers(0, len(blob)))
    if kind == "flip" and position < len(blob):
        blob[position] ^= 1 << data.draw(st.integers(0, 7))
    elif kind == "truncate":
        del blob[position:]
    elif kind == "insert":
        blob[position:position] = data.draw(st.binary(min_size=1, max_size=3))
    elif kind == "delete" and position < len(blob):
        del blob[position]
    elif kind == "set" and position < len(blob):
        blob[position] = data.draw(st.sampled_from([0x00, 0x01, 0x02, 0x03, 0xFF, 0xFD]))
    mutated = bytes(blob)
    assert outcome(IMPL_DECODE, mutated) == outcome(SPEC_DECODE, mutated)


@given(st.binary(max_size=300))
@settings(max_examples=300, deadline=None)
def test_decode_arbitrary_bytes(data):
    assert outcome(IMPL_DECODE, data) == outcome(SPEC_DECODE, data)


@given(ATXS, U64)
@settings(max_examples=50, deadline=None)
def test_encode_out_of_range(value, big):
    broken = attrs.evolve(value, publish_epoch=big * 2**32 + 2**32)
    assert outcome(IMPL_ENCODE, broken) == outcome(SPEC_ENCODE, broken)


# ---------------------------------------------------------------------------------------------
# The pipeline with the impl backend against the spec backend


def scenario_world(scheme: Any) -> tuple[World, list]:
    world = World(scheme)
    ids = married_pair(world)
    m, bob1 = ids["marriage"], ids["bob_solo"]
    candidates = [
        world.merged("alice", 4, m, [Member("alice", 0, m, 4), Member("bob", 1, bob1, 5)], positioning=m),
        world.merged("bob", 4, m, [Member("bob", 1, bob1, 3)], positioning=bob1),
        world.solo("alice", 4, m),
    ]
    return world, candidates


MUTATIONS = st.sampled_from(["none", "epoch", "units", "leaf", "prev_index", "marriage_index", "nonce", "drop_nipost"])


def mutate(value: Any, kind: str) -> Any:
    if kind == "none":
        return value
    if kind == "epoch":
        return attrs.evolve(value, publish_epoch=value.publish_epoch + 1)
    if kind == "nonce":
        return attrs.evolve(value, vrf_nonce=2)
    if kind == "drop_nipost":
        return attrs.evolve(value, niposts=value.niposts[:0])
    field = {"units": "num_units", "leaf": "membership_leaf_index", "prev_index": "prev_atx_index",
             "marriage_index": "marriage_index"}[kind]
    sub = value.niposts[0].posts[0]
    changed = attrs.evolve(sub, **{field: getattr(sub, field) + 1})
    nipost = attrs.evolve(value.niposts[0], posts=[changed, *value.niposts[0].posts[1:]])
    return attrs.evolve(value, niposts=[nipost, *value.niposts[1:]])


def pipeline(world: World, blob: bytes, backend: str) -> Any:
    registry.use_backend(backend)
    try:
        store = atx.MemoryAtxStore()
        for poet in world.poets:
            store.add_poet_proof(atx.PoetProofInfo(poet["ref"], poet["membership_root"], poet["leaf_count"]))
        for entry in world.history:
            mal.handle_atx_v2(entry["v2"], store, world.config, world.verifier)
        result = outcome(mal.handle_atx_v2, blob, store, world.config, world.verifier)
        if result[0] == "ok":
            stored, finding = result[1]
            return ("ok", stored, None if finding is None else (finding.node_id, finding.proof_type))
        return result
    finally:
        registry.use_backend("spec")


WORLDS = {scheme: scenario_world(scheme) for scheme in SCHEMES}


@given(st.sampled_from(SCHEMES), st.integers(0, 2), MUTATIONS, st.booleans())
@settings(max_examples=40, deadline=None)
def test_pipeline_agrees(scheme, which, kind, resign):
    world, candidates = WORLDS[scheme]
    value = mutate(candidates[which], kind)
    if resign:
        value = world.sign(value, "alice" if which != 1 else "bob")
    blob = scale.encode(value, atx.ActivationTxV2)
    assert pipeline(world, blob, "impl") == pipeline(world, blob, "spec")


# ---------------------------------------------------------------------------------------------
# SQLite store against the in-memory store: replay every validation and detection vector


def replay_outcome(inputs: dict, sqlite: bool) -> dict:
    """Replay a vector's history into a memory or SQLite store, then process its ATX."""
    from smspec.conformance.handlers import atx as handlers
    from smspec.conformance.handlers import hexbytes

    original = atx.MemoryAtxStore
    if sqlite:
        store = impl.SqliteAtxStore(atx)
        atx.MemoryAtxStore = lambda: store  # load_state builds its store through the spec module
    try:
        _, _, store, config = handlers.load_state(lambda name: {"atx": atx, "malfeasance": mal}[name], inputs)
    finally:
        atx.MemoryAtxStore = original
    try:
        stored, finding = mal.handle_atx_v2(hexbytes(inputs["blob"]), store, config, handlers.StubPostVerifier())
    except SpecError as error:
        return {"error": type(error).__name__, "reason": error.reason}
    return {"stored": handlers.stored_json(stored), "finding": None if finding is None else finding.proof_type,
            "malicious": sorted(store.malicious)}


def vector_cases() -> list:
    from smspec.tests.spec.atx.test_malfeasance import test_detection_vectors
    from smspec.tests.spec.atx.test_validate import test_validation_vectors

    cases = []
    for source in (test_validation_vectors.vector_source, test_detection_vectors.vector_source):
        cases.extend(source.cases())
    return cases


def test_sqlite_store_replays_vectors():
    cases = vector_cases()
    assert len(cases) > 80
    for case in cases:
        inputs = to_json(case.inputs)
        got = replay_outcome(inputs, sqlite=True)
        assert got == replay_outcome(inputs, sqlite=False), case.name
        expected = expected_outcome(case)
        if expected is not None and "error" in expected:
            assert got["error"] == expected["error"] and got["reason"] == expected.get("reason", got["reason"])
