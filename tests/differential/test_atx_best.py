"""impl/atx.py's ``atx_id_v3`` against spec/atx_best.md: the same ID for every ATX v3 value.

Hypothesis generates ATX v3 values with every field random within its wire bounds (empty and
non-empty previous ATXs and marriages, initial parts with empty PoST indices, the scheme A corner
case of an empty leaf) and compares the IDs under both schemes; the validation of real v3 ATXs
(tests/spec/atx) is rerun with the impl in force by ``pytest --backend=impl``.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from smspec.impl import atx as impl
from smspec.impl import registry
from smspec.spec import load

PRESETS = ("tiny", "mainnet")
pytestmark = pytest.mark.usefixtures("spec_backend")

H32 = st.binary(min_size=32, max_size=32)
U32 = st.one_of(st.integers(0, 70), st.integers(0, 2**32 - 1))
U64 = st.one_of(st.integers(0, 70), st.integers(0, 2**64 - 1))


def atxs(best, pb, atx):
    posts = st.builds(atx.PostV1, U32, st.binary(max_size=12), U64)
    groups = st.builds(pb.BestProofGroup, st.integers(0, 5), st.lists(U64, max_size=5))
    proofs = st.builds(pb.BestProof, U64, st.lists(groups, max_size=3))
    members = st.builds(best.MemberV3, U32, U32, U32)
    niposts = st.builds(best.NiPostV3, st.builds(atx.MerkleProofV2, st.lists(H32, max_size=4)), H32, U64,
                        st.lists(members, max_size=4), H32, proofs)
    certificates = st.builds(atx.MarriageCertificate, H32, st.binary(min_size=64, max_size=64))
    return st.builds(
        best.ActivationTxV3, U32, H32, st.binary(min_size=24, max_size=24),
        st.none() | st.builds(atx.InitialAtxPartsV2, H32, posts), st.lists(H32, max_size=4), niposts, U64,
        st.lists(certificates, max_size=3), st.none() | H32, H32, st.binary(min_size=64, max_size=64),
    )


def test_every_replaced_function_is_covered():
    replaced = {r.name for r in registry.all_replacements() if r.module == "atx_best"}
    assert replaced == {"atx_id_v3"}


@pytest.mark.parametrize("preset", PRESETS)
def test_atx_id_v3_matches_spec(preset):
    best, pb, atx = load("atx_best", preset), load("post_best", preset), load("atx", preset)
    spec_id = best.__dict__.get("__spec_originals__", {}).get("atx_id_v3", best.atx_id_v3)
    impl_id = impl.make_atx_id_v3(best)

    @given(atxs(best, pb, atx))
    def check(value):
        for scheme in (atx.IdScheme.A, atx.IdScheme.B):
            assert impl_id(value, scheme) == spec_id(value, scheme)

    check()


def test_atx_id_v3_matches_on_real_atxs():
    from smspec.tests.spec.atx.test_best_vectors import alice_solo, merged, merged_world, solo_world

    best = load("atx_best", "tiny")
    impl_id = impl.make_atx_id_v3(best)
    world, ids = solo_world()
    values = [alice_solo(world, ids)]
    world, info = merged_world()
    values.append(merged(world, info, ["m0", "m1", "m2"]))
    for value in values:
        for scheme in (best.IdScheme.A, best.IdScheme.B):
            assert impl_id(value, scheme) == best.atx_id_v3(value, scheme)
