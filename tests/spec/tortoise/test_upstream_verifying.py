"""go-spacemesh `tortoise/verifying_test.go` TestVerifying_Verify and TestVerifyingProcessLayer,
ported case by case onto the spec's state (upstream inputs, upstream expected results).

Setup of every Verify case (upstream): 4 layers per epoch (genesis 7), epochs 2 and 3 of weight
40 and height 100, window 10, hdist 10, zdist 1, verified = genesis, processed = last = genesis+4;
targets genesis+1 .. genesis+3 are verified in order, stopping at the first failure.
"""

from __future__ import annotations

import attrs
import pytest
import smspec.spec.tortoise as T

W = 2**56
S, A, N = T.SUPPORT, T.AGAINST, T.ABSTAIN
G = 7


def state_for(layers: dict, total: int):
    config = attrs.evolve(T.TortoiseConfig(), layers_per_epoch=4, window_size=10, hdist=10, zdist=1,
                          historical_window_end=0)
    state = T.new_tortoise(config)
    state.epochs[2] = T.EpochInfo(weight=40 * W, height=100)
    state.epochs[3] = T.EpochInfo(weight=40 * W, height=100)
    state.verified = G
    state.processed = state.last = G + 4
    blocks = {}
    for offset, (terminated, good, layer_blocks) in layers.items():
        layer = T.get_layer(state, G + offset)
        layer.hare_terminated = terminated
        layer.good_uncounted = good * W
        for block_id, hare, height in layer_blocks:
            block = T.BlockInfo(id=bytes([block_id]) + bytes(19), layer=G + offset, height=height, hare=hare)
            layer.blocks.append(block)
            blocks[block_id] = block
    for offset in sorted(layers):
        layer = T.get_layer(state, G + offset)
        for block in layer.blocks:
            T.update_reference_height(state, layer, block)
    state.total_good_weight = total * W
    return state, blocks


MULTIPLE = {1: S, 2: A, 3: A, 4: S, 5: S}
CASES = [
    ("sanity", 32, {1: (True, 8, [(1, S, 0)]), 2: (True, 8, [(2, S, 0)]), 3: (True, 6, [(3, S, 0)]),
                    4: (False, 10, [])}, 3, {}),
    ("some_crossed_threshold", 36, {1: (True, 12, [(1, S, 0)]), 2: (True, 26, [(2, S, 0)]),
                                    3: (True, 28, [(3, S, 0)]), 4: (False, 36, [])}, 1, {}),
    ("hare_undecided", 40, {1: (True, 10, [(1, S, 0)]), 2: (True, 20, [(2, S, 0)]), 3: (False, 30, [(3, N, 0)]),
                            4: (False, 40, [])}, 2, {}),
    ("multiple_blocks", 40, {1: (True, 10, [(1, S, 0), (2, A, 0), (3, A, 0)]), 2: (True, 20, [(4, S, 0)]),
                             3: (True, 30, [(5, S, 0)]), 4: (False, 40, [])}, 3, MULTIPLE),
    ("multiple_blocks_hare_lowest", 40, {1: (True, 10, [(1, S, 10), (2, A, 20), (3, A, 30)]),
                                         2: (True, 20, [(4, S, 0)]), 3: (True, 30, [(5, S, 0)]),
                                         4: (False, 40, [])}, 3, MULTIPLE),
    ("multiple_blocks_hare_highest", 40, {1: (True, 10, [(1, S, 30), (2, A, 20), (3, A, 10)]),
                                          2: (True, 20, [(4, S, 0)]), 3: (True, 30, [(5, S, 0)]),
                                          4: (False, 40, [])}, 3, MULTIPLE),
    ("multiple_blocks_higher_than_local_height", 40,
     {1: (True, 10, [(4, S, 0)]), 2: (True, 20, [(1, S, 20), (2, A, 101), (3, A, 101)]),
      3: (True, 30, [(5, S, 0)]), 4: (False, 40, [])}, 3, MULTIPLE),
    ("hare_output_higher_than_local_height", 40,
     {1: (True, 10, [(4, S, 0)]), 2: (True, 20, [(1, S, 101)]), 3: (True, 30, [(5, N, 0)]),
      4: (False, 40, [])}, 1, {1: N, 4: S}),
    ("all_empty_layers", 40, {1: (True, 10, []), 2: (True, 20, []), 3: (True, 30, []), 4: (True, 40, [])}, 3, {}),
    ("some_empty_layers_are_not_verified", 34, {1: (True, 13, []), 2: (True, 26, []), 3: (True, 28, []),
                                                4: (True, 34, [])}, 1, {}),
]


@pytest.mark.parametrize("name,total,layers,expected,validity", CASES, ids=[c[0] for c in CASES])
def test_verifying_verify(name, total, layers, expected, validity):
    state, blocks = state_for(layers, total)
    for target in range(G + 1, G + 4):
        ok, _ = T.verify_verifying(state, target)
        if not ok:
            break
        state.verified = target
    assert state.verified == G + expected
    for block_id, sign in validity.items():
        assert blocks[block_id].validity == sign, block_id


@pytest.mark.parametrize("name,bad,uncounted,total", [
    ("all_good", [[False, False], [False]], [20, 30], [20, 30]),
    ("all_bad", [[True, True], [True]], [0, 0], [0, 0]),
    ("good_in_first_layer", [[False, False], [True]], [20, 20], [20, 20]),
])
def test_verifying_process_layer(name, bad, uncounted, total):
    """TestVerifyingProcessLayer: ballots of weight 10 counted layer by layer."""
    # upstream builds a bare state (newState): no genesis opinion, so every layer's opinion is the
    # zero hash, like that of a ballot without votes
    state = T.Tortoise(config=attrs.evolve(T.TortoiseConfig(), layers_per_epoch=4), last=0,
                       processed=G + 1 + len(bad), verified=0, evicted=0, pending=0)
    reference = T.ReferenceInfo(smesher=b"", atx_id=b"", expected_ballots=0, beacon=b"", height=0,
                                weight_numerator=0, weight_denominator=1)
    for index, layer_bad in enumerate(bad):
        layer = G + 1 + index
        for number, is_bad in enumerate(layer_bad):
            ballot = T.BallotInfo(id=bytes([index, number]), layer=layer, malicious=False, weight=10 * W,
                                  reference=reference, votes=None, bad_beacon=is_bad)
            T.count_ballot_verifying(state, ballot)
        assert T.get_layer(state, layer).good_uncounted == uncounted[index] * W
        assert state.total_good_weight == total[index] * W
