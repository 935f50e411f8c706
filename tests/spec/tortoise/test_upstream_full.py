"""go-spacemesh `tortoise/full_test.go` TestFullCountVotes and TestFullBallotFilter, ported onto
the spec (upstream inputs and expected margins).

TestFullCountVotes setup (upstream): 4 layers per epoch, layer size 3; ATX i has weight = tick
count and height = tick count; a ballot's epoch eligibility count is
`max(1, weight * layer_size * L // total)` (proposals/util GetNumEligibleSlots) and it carries
one proof. Blocks of layer index i sit at genesis + 1 + i; ballots of layer index i at the same
layer, voting (from index 1 on) with a base ballot and exceptions; after each layer the ballots
are counted in full mode. The expected value is the margin of the target block.
"""

from __future__ import annotations

from fractions import Fraction

import attrs
import pytest
import smspec.spec.tortoise as T

W = 2**56
G = 7
LAYER_SIZE = 3
L = 4
LOCAL_HEIGHT = 100


def full_margin(activeset, layer_blocks, layer_ballots, target):
    config = attrs.evolve(T.TortoiseConfig(), layers_per_epoch=L, hdist=10, zdist=8, window_size=30,
                          historical_window_end=0, max_exceptions=3000, bad_beacon_vote_delay_layers=6)
    state = T.new_tortoise(config)
    total = sum(activeset)
    atx_ids = []
    for index, ticks in enumerate(activeset):
        atx_id = bytes([index + 1]) + bytes(31)
        T.on_atx(state, 2, atx_id, T.AtxData(node=bytes([index + 1]) * 32, weight=ticks, height=ticks))
        atx_ids.append(atx_id)
    blocks = []
    for index, heights in enumerate(layer_blocks):
        lid = G + 1 + index
        headers = [T.BlockHeader(id=bytes([index + 1, j + 1]) + bytes(18), layer=lid, height=h)
                   for j, h in enumerate(heights)]
        T.get_epoch(state, T.epoch_of(config, lid)).height = LOCAL_HEIGHT
        for header in headers:
            T.on_block(state, header)
        blocks.append(headers)
    ballot_ids: list = []
    for index, layer in enumerate(layer_ballots):
        lid = G + 1 + index
        ids = []
        for j, spec in enumerate(layer):
            atx = spec.get("atx", 0)
            elig = max(1, activeset[atx] * LAYER_SIZE * L // total)
            base = T.EMPTY_BALLOT_ID
            support, against, abstain = (), (), ()
            if index > 0:
                support = tuple(blocks[a][b] for a, b in spec.get("support", ()))
                against = tuple(blocks[a][b] for a, b in spec.get("against", ()))
                abstain = tuple(G + 1 + n for n in spec.get("abstain", ()))
                base = ballot_ids[spec["base"][0]][spec["base"][1]]
            votes = T.Votes(base=base, support=support, against=against, abstain=abstain)
            if base == T.EMPTY_BALLOT_ID:
                base_layer, base_votes = G, None
            else:
                info = state.ballot_refs[base]
                base_layer, base_votes = info.layer, info.votes
            tail, _ = T.decode_votes(lid, base_layer, base_votes, votes)
            ballot_id = bytes([index + 1, j + 1, 7]) + bytes(17)
            ids.append(ballot_id)
            state.processed = state.last = lid
            T.on_ballot(state, T.BallotData(
                id=ballot_id, smesher=bytes(32), layer=lid, atx_id=atx_ids[atx], eligibilities=1,
                opinion=T.Opinion(hash=T.votes_opinion(tail), votes=votes),
                epoch_data=T.ReferenceData(beacon=bytes(4), eligibilities=elig)))
        ballot_ids.append(ids)
        state.processed = state.last = lid
        for counted in range(state.full_counted + 1, state.processed + 1):  # full.countVotes
            T.count_ballots_full(state, state.ballots.get(counted, []))
        state.full_counted = state.processed
    return T.find_block(state, blocks[target[0]][target[1]]).margin


ALL0 = [(0, 1), (0, 0), (0, 2)]
ALL1 = [(1, 1), (1, 0), (1, 2)]
ALL2 = [(2, 1), (2, 0), (2, 2)]
FIRST = [{"atx": 0}, {"atx": 1}, {"atx": 2}]
CASES = {
    "TwoLayersSupport": ([10, 10, 10], [[0, 0, 0], [0, 0, 0]], [
        FIRST,
        [{"atx": i, "base": (0, 1), "support": ALL0} for i in range(3)],
        [{"atx": i, "base": (1, 1), "support": ALL1} for i in range(3)],
    ], 15),
    "ConflictWithBase": ([10, 10, 10], [[0, 0, 0], [0, 0, 0]], [
        FIRST,
        [{"atx": i, "base": (0, 1), "support": ALL0} for i in range(3)],
        [{"atx": i, "base": (1, 1), "support": ALL1, "against": ALL0} for i in range(3)],
    ], 0),
    "UnequalWeights": ([90, 60, 30], [[0, 0, 0]] * 3, [
        FIRST,
        [{"atx": i, "base": (0, 1), "support": ALL0} for i in range(3)],
        [{"atx": a, "base": (1, 1), "support": ALL1} for a in (0, 0, 1)],
        [{"atx": a, "base": (2, 1), "support": ALL2} for a in (0, 0, 0, 1)],
    ], 150),
    "UnequalWeightsVoteFromAtxMissing": ([90, 60, 30], [[0, 0, 0]] * 3, [
        FIRST,
        [{"atx": a, "base": (0, 1), "support": ALL0} for a in (0, 2)],
        [{"atx": 0, "base": (1, 1), "support": [(1, 1), (1, 0)]}] * 2,
        [{"atx": 0, "base": (2, 1), "support": [(2, 1), (2, 0)]}] * 3,
    ], 105),
    "OneLayerSupport": ([10, 10, 10], [[0, 0, 0]], [
        FIRST, [{"atx": i, "base": (0, 1), "support": ALL0} for i in range(3)],
    ], Fraction(15, 2)),
    "OneBlockAbstain": ([10, 10, 10], [[0, 0, 0]], [
        FIRST,
        [{"atx": 0, "base": (0, 1), "support": ALL0}, {"atx": 1, "base": (0, 1), "support": ALL0},
         {"atx": 2, "base": (0, 1), "abstain": [0]}],
    ], 5),
    "OneBlockAgainst": ([10, 10, 10], [[0, 0, 0]], [
        FIRST,
        [{"atx": 0, "base": (0, 1), "support": ALL0}, {"atx": 1, "base": (0, 1), "support": ALL0},
         {"atx": 2, "base": (0, 1), "against": ALL0}],
    ], Fraction(5, 2)),
    "MajorityAgainst": ([10, 10, 10], [[0, 0, 0]], [
        FIRST,
        [{"atx": 0, "base": (0, 1), "support": ALL0}, {"atx": 1, "base": (0, 1), "against": ALL0},
         {"atx": 2, "base": (0, 1), "against": ALL0}],
    ], Fraction(-5, 2)),
    "NoVotes": ([10, 10, 10], [[0, 0, 0]], [FIRST], 0),
    "FutureVotes": ([10, 12], [[11]], [
        [{"atx": 0}, {"atx": 1}],
        [{"atx": 0, "base": (0, 1), "support": [(0, 0)]}, {"atx": 1, "base": (0, 1), "support": [(0, 0)]}],
        [{"atx": 0, "base": (1, 1)}, {"atx": 1, "base": (1, 0)}],
    ], 4),
}


@pytest.mark.parametrize("name", list(CASES))
def test_full_count_votes(name):
    activeset, blocks, ballots, expected = CASES[name]
    assert full_margin(activeset, blocks, ballots, (0, 0)) == Fraction(expected) * W


@pytest.mark.parametrize("layer,last,distance,delayed", [(0, 0, 0, False), (10, 11, 2, True), (8, 11, 2, False)])
def test_full_ballot_filter(layer, last, distance, delayed):
    """TestFullBallotFilter: Good (not bad beacon), BadFromRecent (delayed), BadFromOld (counted now)."""
    config = attrs.evolve(T.TortoiseConfig(), bad_beacon_vote_delay_layers=distance)
    state = T.Tortoise(config=config, last=last, processed=0, verified=0, evicted=0, pending=0)
    reference = T.ReferenceInfo(smesher=b"", atx_id=b"", expected_ballots=0, beacon=b"", height=0,
                                weight_numerator=0, weight_denominator=1)
    ballot = T.BallotInfo(id=b"\x01" + bytes(19), layer=layer, malicious=False, weight=0, reference=reference,
                          votes=None, bad_beacon=layer != 0)
    assert T.should_be_delayed(state, ballot) is delayed


P, NEG, NEU = 7, -7, 3
VERIFY_CASES = {
    "support": ([(0, P)], 0, [1]),
    "abstain": ([(0, NEU)], 0, None),
    "abstain_before_support": ([(10, NEU), (20, P)], 0, None),
    "abstain_after_support": ([(30, NEU), (20, P)], 0, [1, -1]),
    "abstained_same_height": ([(20, P), (20, NEU)], 0, None),
    "support_after_against": ([(10, NEG), (20, P)], 0, [-1, 1]),
    "only_against": ([(10, NEG), (20, NEG)], 0, [-1, -1]),
    "support_same_height": ([(10, P), (10, P)], 0, [1, 1]),
    "support_different_height": ([(10, P), (20, P)], 0, [1, 1]),
    "support_abstain_support": ([(10, P), (11, NEU), (20, P)], 0, [1, -1, 1]),
    "against_abstain_support": ([(10, NEG), (10, NEU), (10, P)], 0, None),
    "empty_layer": ([], P, []),
    "empty_layer_not_verified": ([], NEU, None),
}


@pytest.mark.parametrize("name", list(VERIFY_CASES))
def test_full_verify(name):
    """TestFullVerify: epoch 1 of weight 10, target = last layer of epoch 0, last = target + L:
    the global threshold is 10/3; margins +7 / -7 / 3. Upstream reads validity after its verifyLayer
    sorted the blocks by height; the spec's layers are always in (height, id) order."""
    blocks, empty, validity = VERIFY_CASES[name]
    config = attrs.evolve(T.TortoiseConfig(), layers_per_epoch=L, window_size=0, historical_window_end=0)
    target = L - 1
    state = T.Tortoise(config=config, last=target + L, processed=target + L, verified=0, evicted=0, pending=0)
    state.epochs[1] = T.EpochInfo(weight=10 * W)
    layer = T.get_layer(state, target)
    layer.empty = empty * W
    infos = [T.BlockInfo(id=bytes([i + 1]) + bytes(19), layer=target, height=h, margin=m * W)
             for i, (h, m) in enumerate(blocks)]
    layer.blocks = sorted(infos, key=T.block_order_key)
    ok, _ = T.verify_full(state, target)
    assert ok == (validity is not None)
    if validity is not None:
        assert [b.validity for b in layer.blocks] == validity
