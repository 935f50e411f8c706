"""The node database's in-memory views (tools/node/storage.py): an epoch's ATXs and the flagged
identities are read from the tables once, and again after a write or a rolled-back transaction,
so they always equal what the tables hold."""

from __future__ import annotations

import pytest
from smspec.tools.node import protocol as p
from smspec.tools.node.storage import NodeStore


class Boom(Exception):
    pass


@pytest.fixture
def store(tmp_path):
    m = p.modules()
    db = NodeStore(m.atx, str(tmp_path / "node.sqlite"))
    yield m, db
    db.close()


def atx(m, index: int, epoch: int):
    smesher = bytes([index]) * 32
    return m.atx.StoredAtx(id=bytes([index]) + bytes(31), version=2, smesher_id=smesher, publish_epoch=epoch,
                           coinbase=bytes(24), base_tick_height=0, tick_count=1, num_units=2, weight=10 * index,
                           vrf_nonce=index, commitment_atx=None, marriage_atx=None,
                           posts=(m.atx.IdentityPost(smesher, bytes(32), 0, 2),), blob=b"atx%d" % index)


def ids(atxs) -> list[bytes]:
    return [a.id for a in atxs]


def test_epoch_atxs_follow_writes_and_rollbacks(store) -> None:
    m, db = store
    assert db.atxs_published(1) == ()
    with db.transaction():
        db.add_atx(atx(m, 2, 1))
    first = db.atxs_published(1)
    assert ids(first) == [atx(m, 2, 1).id] and first[0] == atx(m, 2, 1)
    assert db.atxs_published(1) is first  # read once
    with pytest.raises(Boom), db.transaction():
        db.add_atx(atx(m, 1, 1))
        assert ids(db.atxs_published(1)) == [atx(m, 1, 1).id, atx(m, 2, 1).id]  # inside: the new one too
        raise Boom
    assert ids(db.atxs_published(1)) == [atx(m, 2, 1).id]  # rolled back
    with db.transaction():
        db.add_atx(atx(m, 3, 1))
        db.add_atx(atx(m, 4, 2))
    assert ids(db.atxs_published(1)) == [atx(m, 2, 1).id, atx(m, 3, 1).id] == db.atx_ids_published(1)
    assert ids(db.atxs_published(2)) == [atx(m, 4, 2).id]


def test_flagged_identities_follow_writes_and_rollbacks(store) -> None:
    _, db = store
    a, b, c = bytes([1]) * 32, bytes([2]) * 32, bytes([3]) * 32
    assert not db.flagged(a)
    with db.transaction():
        db.set_malicious(a)
    with db.transaction():
        db.mark(b, "double_proposal", 9)
    assert (db.flagged(a), db.flagged(b), db.flagged(c)) == (True, True, False)
    with pytest.raises(Boom), db.transaction():
        db.mark(c, "hare_equivocation", 10)
        assert db.flagged(c)
        raise Boom
    assert not db.flagged(c) and not db.is_marked(c)
    assert [db.flagged(x) for x in (a, b, c)] == [db.is_malicious(x) or db.is_marked(x) for x in (a, b, c)]


def test_hare_outputs_and_blocks_follow_writes_and_rollbacks(store, monkeypatch) -> None:
    """Hare outputs and block IDs found are kept (a certificate asks for both); a row written in
    a rolled-back transaction is forgotten with it, and the memory is emptied at its limit."""
    from smspec.tools.node import storage

    _, db = store
    block, other = bytes([1]) * 20, bytes([2]) * 20
    assert db.hare_output(9) is None and not db.has_block(block)
    with db.transaction():
        db.add_hare_output(9, block, "hare", 0)
        db.add_block(block, 9, b"raw")
    assert db.hare_output(9) == (block, "hare", 0) and db.has_block(block)
    with db.transaction():
        db.add_hare_output(9, other, "certificate", None)  # ignored: a layer's output never changes
    assert db.hare_output(9) == (block, "hare", 0)
    with pytest.raises(Boom), db.transaction():
        db.add_hare_output(10, other, "hare", 1)
        db.add_block(other, 10, b"raw2")
        assert db.hare_output(10) == (other, "hare", 1) and db.has_block(other)  # inside: found
        raise Boom
    assert db.hare_output(10) is None and not db.has_block(other)  # rolled back, forgotten
    assert db.hare_output(9) == (block, "hare", 0) and db.has_block(block)
    monkeypatch.setattr(storage, "KNOWN_LIMIT", 1)
    with db.transaction():
        db.add_hare_output(10, other, "hare", 1)
        db.add_block(other, 10, b"raw2")
    assert db.hare_output(10) == (other, "hare", 1) and db.has_block(other)
    assert db._hare_outputs == {10: (other, "hare", 1)} and db._blocks == {other}
    assert db.hare_output(9) == (block, "hare", 0) and db.has_block(block)
