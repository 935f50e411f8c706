"""Small builders for tortoise protocol tests (tiny preset unless a config is given)."""

from __future__ import annotations

import blake3
import smspec.spec.tiny.tortoise as T


def ident(size: int, *parts) -> bytes:
    return blake3.blake3(repr(parts).encode()).digest(length=size)


def config(**fields):
    import attrs

    return attrs.evolve(T.TortoiseConfig(), **fields)


def reference_ballot(state, layer: int, atx_id: bytes, smesher: bytes, *, beacon: bytes, epoch_eligibilities: int,
                     support=(), abstain=(), base: bytes = T.EMPTY_BALLOT_ID, name="ballot"):
    """A reference ballot whose opinion hash is computed from the given votes over `base`."""
    votes = T.Votes(base=base, support=tuple(support), abstain=tuple(abstain))
    if base == T.EMPTY_BALLOT_ID:
        base_layer, base_votes = T.effective_genesis(state.config), None
    else:
        info = state.ballot_refs[base]
        base_layer, base_votes = info.layer, info.votes
    tail, _ = T.decode_votes(layer, base_layer, base_votes, votes)
    return T.BallotData(id=ident(20, name, layer, smesher), smesher=smesher, layer=layer, atx_id=atx_id,
                        eligibilities=1, opinion=T.Opinion(hash=T.votes_opinion(tail), votes=votes),
                        epoch_data=T.ReferenceData(beacon=beacon, eligibilities=epoch_eligibilities))
