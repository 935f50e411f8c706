"""The node split: smeshing services fail over between nodes, survive their own restart without
signing twice, and an identity run by two services is caught with a proof."""

from __future__ import annotations

import dataclasses
import os
import shutil

import pytest
from smspec.tools.node import protocol as p
from smspec.tools.node.devnet import Devnet
from smspec.tools.node.smesher import LocalNodeClient, Smesher

from .conftest import HONEST

FAILOVER = dataclasses.replace(HONEST, layers=13, failover=True, crash={1: [9, None]})


@pytest.fixture(scope="module")
def failover(tmp_path_factory, wallet_code, memo):
    """Node 1 is killed at layer 9 for good; its smeshing service knows node 2 too. After layer 10
    the service of node 2 is stopped and started again from its directories."""
    devnet = Devnet(str(tmp_path_factory.mktemp("failover")), FAILOVER, wallet_code=wallet_code, memo=memo)
    restarted = {}

    def progress(info):
        if info.layer == 10:
            old = devnet.smeshers[2]
            signed_before = old.store.db.execute("SELECT COUNT(*) FROM signed").fetchone()[0]
            old.close()
            new = Smesher(old.keys_dir, old.post_dir, old.nodes, devnet.m, memo, name=old.name)
            devnet.cluster.smesher_objects[2] = new
            # a restarted service redoes its last duties: it publishes what it signed, signs nothing new
            restarted["verdicts"] = [new.propose(10), new.certify(10)]
            restarted["signed"] = (signed_before, new.store.db.execute("SELECT COUNT(*) FROM signed").fetchone()[0])

    summary = devnet.run(progress)
    yield devnet, summary, restarted
    devnet.close()


def proposals_of(node, key, first_layer):
    return [layer for layer, smesher in node.db.execute(
        "SELECT layer, smesher FROM proposals WHERE layer >= ? ORDER BY layer", (first_layer,)) if smesher == key]


def test_a_smeshing_service_keeps_smeshing_through_its_second_node(failover):
    devnet, summary, _ = failover
    assert summary["agree"] and sorted(summary["nodes"]) == [0, 2, 3]
    smesher = devnet.smeshers[1]
    (ident,) = smesher.identities
    # node 1 is down from layer 9: the service's proposals of layers 9..12 went through node 2
    layers = proposals_of(devnet.nodes[0], ident.key, 9)
    assert layers and min(layers) >= 9 and smesher.last_node == "node2"
    history = smesher.identity_states()["identities"][ident.key.hex()]["history"]
    assert "RETRYING" not in {entry["state"] for entry in history}


def test_a_restarted_smeshing_service_signs_nothing_twice(failover):
    devnet, summary, restarted = failover
    before, after = restarted["signed"]
    assert before == after  # the restarted service published its stored messages again
    assert [v["published"] for v in restarted["verdicts"]] == [1, 1]
    (key,) = [i.key for i in devnet.smeshers[2].identities]
    for node in devnet.live():
        assert key not in [node_id for node_id, _, _ in node.store.marked()]


def test_an_identity_run_by_two_services_is_caught_with_a_proof(failover, tmp_path):
    """The roadmap's warning: node 3's identity also run by a second service attached to node 2.
    Their nodes' views differ (a transaction node 2 has not relayed yet), so the two services
    sign different proposals for the same layer; every node marks the identity malicious and
    keeps a proof that anyone can check."""
    devnet, _, _ = failover
    m = devnet.m
    original = devnet.smeshers[3]
    (ident,) = original.identities
    clone_home = tmp_path / "clone"
    shutil.copytree(os.path.dirname(original.keys_dir), clone_home, ignore=shutil.ignore_patterns("smesher.sqlite*"))
    clone = Smesher(str(clone_home / "keys"), str(clone_home / "post"), [LocalNodeClient(devnet.cluster.hosts[2])],
                    m, devnet.memo, name="clone")
    layer = devnet.config.layers  # the next layer, run by hand
    epoch = layer // devnet.L
    atx_id = devnet.nodes[3].last_atx(ident.key)["id"]
    while not any(at == layer for _, _, at in original._slots(ident, epoch, atx_id)):
        layer += 1  # a layer where the identity is eligible (within the epoch)
        assert layer // devnet.L == epoch
    for node in devnet.live():
        node.begin_layer(layer)
    alice = devnet.users["alice"]
    principal = devnet.user_address("alice")
    node2 = devnet.nodes[2]
    tx = p.encode(__import__("smspec.tools.node.wallet", fromlist=["w"]).make_spend(
        m, node2.genesis_id, node2.template, alice, node2.store.account_nonce(principal) + 5, bytes(24), 1), p.Tx)
    assert node2.submit_tx(tx)["status"] == "pending"  # only node 2 knows it until its next relay
    original.propose(layer)
    clone.propose(layer)
    first, second = original.store.signed("proposal", str(layer), ident.key), clone.store.signed(
        "proposal", str(layer), ident.key)
    assert first != second
    for node in devnet.live():
        assert node.is_malicious(ident.key)
        reason, proof = node.store.malfeasance_proof(ident.key)
        assert reason == "double_proposal"
        decoded = p.decode(proof, p.rules.DoubleProposalProof)
        assert p.rules.validate_double_proposal_proof(decoded, node.genesis_id) == ident.key
        assert {decoded.first, decoded.second} == {first[0], second[0]}
    clone.close()
