"""Outcomes tortoise.md's *Decision* paragraphs fix where go-spacemesh would panic or has no
rule: epochs without a record, reference ballots with zero eligibilities, and malfeasance that
is not retroactive."""

from __future__ import annotations

import pytest
import smspec.spec.tiny.tortoise as T

from .helpers import config, ident, reference_ballot

G = 7  # 4 layers per epoch: layers 8..11 are epoch 2, 12..15 epoch 3
W = 2**56


def test_an_epoch_without_a_record_weighs_zero():
    state = T.new_tortoise(config(layers_per_epoch=4))
    state.epochs[2] = T.EpochInfo(weight=T.fixed_from_int(8))
    assert 3 not in state.epochs
    assert T.epoch_weight(state, 3) == 0
    # Layers G+1 .. G+8 span epochs 2 and 3: only epoch 2 contributes.
    assert T.expected_weight(state, G, G + 8) == 8 * W
    assert 3 not in state.epochs  # reading an unknown epoch does not create it


def test_reference_ballot_with_zero_eligibilities_is_refused():
    state = T.new_tortoise(config(layers_per_epoch=4))
    smesher, atx = ident(32, "s"), ident(32, "a")
    T.on_atx(state, 2, atx, T.AtxData(node=smesher, weight=10, height=100))
    T.on_beacon(state, 2, b"bcn1")
    ballot = reference_ballot(state, G + 1, atx, smesher, beacon=b"bcn1", epoch_eligibilities=0)
    with pytest.raises(T.InvalidBallot) as error:
        T.decode_ballot(state, ballot)
    assert error.value.reason == "zero_eligibilities"


def test_malfeasance_is_not_retroactive():
    state = T.new_tortoise(config(layers_per_epoch=4))
    early, late = ident(32, "early"), ident(32, "late")
    T.on_atx(state, 2, ident(32, "a1"), T.AtxData(node=early, weight=10, height=100))
    T.on_malfeasance(state, early)
    T.on_malfeasance(state, late)
    T.on_atx(state, 2, ident(32, "a2"), T.AtxData(node=late, weight=7, height=100))
    # The ATX stored before the report keeps its weight; the one after adds none.
    assert T.epoch_weight(state, 2) == 10 * W
