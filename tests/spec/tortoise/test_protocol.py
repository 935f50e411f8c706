"""Protocol behaviour of spec/tortoise.md: verifying and full counting, mode switches, and the
four pitfalls of tortoise.md §10 (each pinned by a *Decision* in the spec)."""

from __future__ import annotations

import random

import smspec.spec.tiny.tortoise as T
from smspec.tools.tortoise_sim import Scenario, simulate

from .helpers import config, ident, reference_ballot

G = 7  # tiny preset: 4 layers per epoch
W = 2**56


def honest(layers: int = 20, **kw):
    return simulate(T, Scenario(layers=layers, smeshers=8, **kw))


def test_honest_network_verifies_previous_layer_every_tally():
    """Invariant I3 (liveness): with everyone honest, verified == last - 1 after every tally."""
    sim = honest(24)
    for offset, row in enumerate(sim.history, start=1):
        for _, verified, full in row:
            assert verified == G + offset - 1
            assert not full


def test_encoded_opinion_equals_local_layer_opinion():
    """Invariant I2: an honest node's encoded opinion is its own opinion of the previous layer."""
    sim = honest(12)
    state = sim.nodes[0].state
    opinion = T.encode_votes(state)
    assert opinion.hash == T.get_layer(state, state.last).opinion


def test_verifying_sanity_from_upstream():
    """go-spacemesh verifying_test.go "sanity": W=40 per epoch, totalGood 32,
    goodUncounted {8:8, 9:8, 10:6, 11:10}: layers 8..10 verify."""
    state = T.new_tortoise(config(layers_per_epoch=4))
    state.epochs[2] = T.EpochInfo(weight=40 * W)
    state.epochs[3] = T.EpochInfo(weight=40 * W)
    state.processed = state.last = 11
    state.total_good_weight = 32 * W
    for layer, good in {8: 8, 9: 8, 10: 6, 11: 10}.items():
        info = T.get_layer(state, layer)
        info.good_uncounted = good * W
        info.hare_terminated = True
    assert T.run_verifying(state) == (10, None)
    # "some crossed threshold": layer 9 gets no margin
    T.get_layer(state, 9).good_uncounted = 32 * W
    assert T.run_verifying(state)[0] == 8


def test_full_counting_two_layers_support():
    """Like go-spacemesh full_test.go TwoLayersSupport: 3 ATXs of weight 10 with 4 eligibilities
    each (ballot weight 2.5); 3 ballots per layer support every block: margin 15 after two layers."""
    state = T.new_tortoise(config(layers_per_epoch=4))
    beacon = b"\x01\x02\x03\x04"
    T.on_beacon(state, 2, beacon)
    smeshers = [ident(32, "smesher", i) for i in range(3)]
    atxs = [ident(32, "atx", i) for i in range(3)]
    for atx, smesher in zip(atxs, smeshers):
        T.on_atx(state, 2, atx, T.AtxData(node=smesher, weight=10, height=100))
    blocks = [T.BlockHeader(id=ident(20, "block", i), layer=G + 1, height=0) for i in range(3)]
    for header in blocks:
        T.on_block(state, header)
    T.on_hare_output(state, G + 1, blocks[0].id)
    T.tally_votes(state, G + 1)
    for layer in (G + 2, G + 3):
        for i in range(3):
            support = blocks if layer == G + 2 else ()
            base = T.EMPTY_BALLOT_ID
            ballot = reference_ballot(state, layer, atxs[i], smeshers[i], beacon=beacon, epoch_eligibilities=4,
                                      support=support, base=base, name=f"b{layer}")
            if layer == G + 3:  # second ballot of the epoch refers to the first
                data = reference_ballot(state, layer, atxs[i], smeshers[i], beacon=beacon, epoch_eligibilities=4,
                                        support=blocks, name=f"b{layer}")
                ballot = T.BallotData(id=data.id, smesher=data.smesher, layer=layer, atx_id=data.atx_id,
                                      eligibilities=1, opinion=data.opinion,
                                      ref=ident(20, f"b{G + 2}", G + 2, smeshers[i]))
            T.on_ballot(state, ballot)
    T.tally_votes(state, G + 3)
    T.run_full(state)
    assert [T.get_layer(state, G + 1).blocks[k].margin for k in range(3)] == [15 * W // 2 * 2] * 3
    assert T.get_layer(state, G + 1).empty == -15 * W


def test_pitfall_unstable_sort_layer_keeps_height_id_order():
    """tortoise.md §10.1: 13 same-height blocks stay in (height, id) order through verify_layer and
    the opinion hashes them in that order."""
    state = T.new_tortoise(config(layers_per_epoch=4))
    ids = [ident(20, "b", i) for i in range(13)]
    random.Random(1).shuffle(ids)
    for block_id in ids:
        T.on_block(state, T.BlockHeader(id=block_id, layer=G + 1, height=5))
    layer = T.get_layer(state, G + 1)
    layer.hare_terminated = True
    assert T.verify_layer(layer.blocks, lambda block: T.SUPPORT) == (True, True)
    assert [b.id for b in layer.blocks] == sorted(ids)
    state.last = G + 1 + 2 * state.config.hdist  # outside hdist: the opinion follows validity
    layer.previous = T.get_layer(state, G)
    T.compute_layer_opinion(state, layer)
    previous = T.get_layer(state, G).opinion
    body = b"".join(i + (5).to_bytes(8, "little") for i in sorted(ids))
    import blake3

    assert layer.opinion == blake3.blake3(previous + body).digest()


def test_pitfall_late_block_double_debit():
    """tortoise.md §10.3: a bad-beacon ballot waiting in the delay queue is debited for a late
    block, and again when it is finally counted (reproduced for parity)."""
    state = T.new_tortoise(config(layers_per_epoch=4, bad_beacon_vote_delay_layers=2))
    T.on_beacon(state, 2, b"good")
    smesher, atx = ident(32, "s"), ident(32, "a")
    T.on_atx(state, 2, atx, T.AtxData(node=smesher, weight=10, height=100))
    first = T.BlockHeader(id=ident(20, "x"), layer=G + 1, height=0)
    T.on_block(state, first)
    T.on_hare_output(state, G + 1, first.id)
    T.tally_votes(state, G + 1)
    T.run_full(state)  # switch to full mode now
    assert state.is_full
    ballot = reference_ballot(state, G + 2, atx, smesher, beacon=b"bad!", epoch_eligibilities=1,
                              support=[first])
    T.on_ballot(state, ballot)
    T.tally_votes(state, G + 2)
    assert state.is_full and [b.id for b in state.delayed[G + 4]] == [ballot.id]
    late = T.BlockHeader(id=ident(20, "late"), layer=G + 1, height=0)
    T.on_block(state, late)
    late_info = T.find_block(state, late)
    assert late_info.margin == -10 * W  # first debit, although the ballot is not counted yet
    T.tally_votes(state, G + 3)
    T.tally_votes(state, G + 4)
    assert state.is_full
    assert late_info.margin == -20 * W  # counted at the end of the delay: debited a second time
    assert T.find_block(state, first).margin == 10 * W


def test_pitfall_hare_output_before_block_is_lost():
    """tortoise.md §10.5: a block arriving after its layer's Hare output is not the Hare's choice."""
    state = T.new_tortoise(config(layers_per_epoch=4))
    block = T.BlockHeader(id=ident(20, "x"), layer=G + 1, height=0)
    T.on_hare_output(state, G + 1, block.id)
    T.on_block(state, block)
    assert T.find_block(state, block).hare == T.AGAINST
    T.tally_votes(state, G + 1)
    import blake3

    assert T.get_layer(state, G + 1).opinion == blake3.blake3(T.get_layer(state, G).opinion).digest()


def test_pitfall_verified_layer_can_go_down():
    """tortoise.md §10 "verified going down": more ATX weight for the current epoch raises the
    thresholds; verified drops but block validity stays as it was."""
    sim = honest(14)
    state = sim.nodes[0].state
    before = state.verified
    valid_before = {(b.layer, b.id): b.validity for lid in range(state.evicted + 1, before + 1)
                    for b in T.get_layer(state, lid).blocks}
    epoch = T.epoch_of(state.config, state.last)
    T.on_atx(state, epoch, ident(32, "whale"), T.AtxData(node=ident(32, "w"), weight=10**9, height=1))
    T.tally_votes(state, state.last)
    assert state.verified < before
    valid_after = {(b.layer, b.id): b.validity for lid in range(state.evicted + 1, before + 1)
                   for b in T.get_layer(state, lid).blocks}
    assert valid_after == valid_before


def test_zdist_terminates_missing_hare_output_as_empty():
    """A layer without Hare output is terminated as empty zdist layers later (tortoise.go:373-379)."""
    sim = simulate(T, Scenario(layers=12, smeshers=6, missing_hare=(3,)))
    state = sim.nodes[0].state
    layer = T.get_layer(state, G + 3)
    assert layer.hare_terminated
    assert all(b.hare == T.AGAINST for b in layer.blocks)


def test_partition_heals():
    """Invariant I5: after a 50/50 split of 6 layers, both sides are live again and agree."""
    sim = simulate(T, Scenario(layers=40, smeshers=10, partition_start=5, partition_layers=6))
    assert sim.lag() == [1, 1]
    assert sim.agree()
    assert any(full for row in sim.history for _, _, full in row)  # healing went through full mode


def test_bad_beacon_ballot_not_good():
    """A ballot declaring another beacon is never good for the verifying tortoise."""
    sim = simulate(T, Scenario(layers=10, smeshers=6, bad_beacon_fraction=0.5))
    state = sim.nodes[0].state
    bad = [b for lid in range(G + 2, state.processed + 1) for b in state.ballots.get(lid, []) if b.bad_beacon]
    assert bad and not any(T.is_good_ballot(state, b) for b in bad)


def test_decode_rejects_opinion_mismatch_and_duplicates():
    sim = honest(6)
    state = sim.nodes[0].state
    some = state.ballots[G + 3][0]
    event = next(e for e in sim.nodes[0].events if e["op"] == "ballot" and e["id"] == "0x" + some.id.hex())
    from smspec.conformance.handlers.tortoise import ballot_from_json

    data = ballot_from_json(T, event)
    try:
        T.on_ballot(state, data)
    except T.InvalidBallot as error:
        assert error.reason == "ballot_exists"
    else:
        raise AssertionError("duplicate accepted")
    import attrs

    wrong = attrs.evolve(data, id=ident(20, "other"), opinion=attrs.evolve(data.opinion, hash=bytes(32)))
    try:
        T.decode_ballot(state, wrong)
    except T.InvalidBallot as error:
        assert error.reason == "opinion_mismatch"
    else:
        raise AssertionError("mismatching opinion accepted")


def test_window_bounds_the_state():
    """The window: with the mesh applying verified layers, layers, ballots and epochs older than
    `window` layers behind the verified layer are dropped, so the state stays bounded."""
    sim = simulate(T, Scenario(layers=60, smeshers=4, config={"window_size": 12}))
    state = sim.nodes[0].state
    assert state.verified == state.last - 1
    assert state.evicted == state.verified - 12 - 1
    assert min(state.layers) == state.evicted + 1 and len(state.layers) <= 12 + 2
    assert min(state.ballots) > state.evicted
    assert all(b.layer > state.evicted for b in state.ballot_refs.values())
    assert min(state.epochs) >= T.epoch_of(state.config, state.evicted + 1) - 1


def test_pending_blocks_eviction_until_applied():
    """Eviction never passes `pending`, the lowest layer the mesh has not applied."""
    sim = simulate(T, Scenario(layers=40, smeshers=4, config={"window_size": 12}, apply_verified=False))
    state = sim.nodes[0].state
    assert state.evicted == G - 1 and state.pending == G


def test_ballots_wait_for_the_beacon():
    """Without the epoch's beacon a ballot cannot be counted: it waits in the retry queue, vote
    encoding refuses, and the next tally after the beacon arrives counts it."""
    state = T.new_tortoise(config(layers_per_epoch=4))
    smesher, atx = ident(32, "s"), ident(32, "a")
    T.on_atx(state, 2, atx, T.AtxData(node=smesher, weight=10, height=100))
    T.tally_votes(state, G + 1)
    ballot = reference_ballot(state, G + 1, atx, smesher, beacon=b"bcn1", epoch_eligibilities=1)
    T.on_ballot(state, ballot)
    T.tally_votes(state, G + 1)
    assert [b.id for b in state.retriable] == [ballot.id]
    try:
        T.encode_votes(state)
    except T.EncodeVotesError as error:
        assert error.reason == "not_drained"
    else:
        raise AssertionError("encoded with ballots waiting for a beacon")
    T.on_beacon(state, 2, b"bcn1")
    T.tally_votes(state, G + 2)
    assert state.retriable == [] and state.total_good_weight == 10 * W


def test_encode_needs_the_coin_outside_hdist():
    """Self-healing votes on an undecided block outside hdist use the weak coin of the previous
    layer; without it encoding fails (go-spacemesh "coinflip is not recorded")."""
    state = T.new_tortoise(config(layers_per_epoch=4, hdist=2, zdist=1))
    T.on_atx(state, 2, ident(32, "a"), T.AtxData(node=ident(32, "s"), weight=10, height=100))
    T.on_beacon(state, 2, b"bcn1")
    block = T.BlockHeader(id=ident(20, "x"), layer=G + 1, height=0)
    T.on_block(state, block)
    T.on_hare_output(state, G + 1, block.id)
    T.tally_votes(state, G + 4)  # no ballots: G+1 cannot be verified and is now outside hdist
    assert state.verified == G
    try:
        T.encode_votes(state)
    except T.EncodeVotesError as error:
        assert error.reason == "coinflip_not_recorded"
    else:
        raise AssertionError("encoded without a weak coin")
    T.on_weak_coin(state, G + 4, True)
    opinion = T.encode_votes(state)
    assert opinion.votes.support == (block,)  # the coin said support
    T.on_weak_coin(state, G + 4, False)
    assert T.encode_votes(state).votes.support == ()
