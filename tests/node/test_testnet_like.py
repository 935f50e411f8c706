"""The testnet-like genesis configuration (``smspec devnet up --genesis testnet-like``).

A short devnet (three nodes, layers 0 to 10: ballots, Hare and blocks from layer 8) on the spec's
testnet parameters: the nodes agree, the tortoise verifies layers, and the parameters in force
are the testnet preset's (read from the spec compiled for that preset), except the ones devnet
rule "testnet-like" lists.
"""

from __future__ import annotations

import attrs
import pytest
from smspec.spec import load
from smspec.spec.errors import SpecError
from smspec.tools.cli import main
from smspec.tools.node import protocol as p
from smspec.tools.node.devnet import Devnet, DevnetConfig
from smspec.tools.node.node import Genesis

TESTNET_LIKE = DevnetConfig(nodes=3, layers=11, married=False, genesis="testnet-like", key_seed="smspec-devnet")


def test_testnet_like_devnet(tmp_path, wallet_code, memo, capsys):
    """One run (the checks below share it; one test, so that pytest-xdist runs the devnet once)."""
    devnet = Devnet(str(tmp_path / "testnet_like"), TESTNET_LIKE, wallet_code=wallet_code, memo=memo)
    try:
        summary = devnet.run()
        testnet = {name: load(name, "testnet") for name in ("hare", "tortoise", "post")}
        check_agreement(devnet, summary)
        check_hare_and_tortoise(devnet, testnet)
        check_posts_and_eligibility(devnet, testnet)
        check_rule(devnet, testnet)
    finally:
        devnet.close()
    check_cli(devnet, summary, capsys)


def check_agreement(devnet, summary):
    nodes = devnet.live()
    assert len(nodes) == 3 and summary["agree"]
    first = nodes[0].first_ballot_layer
    assert first == 2 * nodes[0].L  # effective genesis: the last layer of epoch 1
    reference = nodes[0].db.execute("SELECT layer, block_id, state_root FROM applied ORDER BY layer").fetchall()
    assert reference and reference[0][0] == first and nodes[0].tortoise.verified >= first
    assert all(block != p.EMPTY_ID20 for _, block, _ in reference)  # the Hare decided a block
    for node in nodes:
        assert node.db.execute("SELECT layer, block_id, state_root FROM applied ORDER BY layer").fetchall() == reference
        assert node.state_root() == bytes.fromhex(summary["state_root"][2:])


def check_hare_and_tortoise(devnet, testnet):
    hare, tortoise = testnet["hare"], testnet["tortoise"]
    node = devnet.live()[0]
    tiny_hare = node.m.hare
    assert hare.COMMITTEE != tiny_hare.COMMITTEE  # the check below can tell the presets apart
    layer = node.first_ballot_layer
    assert node.hare_start(layer)  # a session as the node opens it for a layer
    session = node.sessions.pop(layer)
    assert session.context.committee == hare.COMMITTEE and session.context.leaders == hare.LEADERS
    assert session.state.threshold == hare.COMMITTEE // 2 + 1
    assert node.params.hare_iterations == hare.ITERATIONS_LIMIT
    # the identities' eligibility counts in a commit round follow the testnet committee
    commit = tiny_hare.IterRound(0, tiny_hare.Round.COMMIT)
    counts = [tiny_hare.own_eligibility(session.context.active, ident.seed, ident.key, layer, commit,
                                        session.context.committee, session.context.leaders)
              for s in devnet.smeshers.values() for ident in s.identities]
    assert sum(e.count for e in counts if e is not None) > 2 * tiny_hare.COMMITTEE
    # (the testnet module's TortoiseConfig is another class: compare the fields)
    expected = attrs.asdict(attrs.evolve(tortoise.TortoiseConfig(), layers_per_epoch=node.m.tortoise.LAYERS_PER_EPOCH))
    for n in devnet.live():
        assert n.tortoise.config is n.tconfig and attrs.asdict(n.tconfig) == expected
    assert expected["hdist"] == tortoise.HDIST != node.m.tortoise.HDIST


def check_posts_and_eligibility(devnet, testnet):
    post, tortoise = testnet["post"], testnet["tortoise"]
    node = devnet.live()[0]
    tiny_post = node.m.post
    metadata = tiny_post.load_metadata(devnet.smeshers[0].identities[0].post_dir)
    assert metadata.labels_per_unit == post.LABELS_PER_UNIT and metadata.num_units >= post.MIN_NUM_UNITS
    # every ATX's PoST carries the testnet preset's K2 indices: it verifies with the testnet-like
    # PostConfig, and a verifier of the tiny preset refuses it
    atxs = node.epoch_atxs(node.epoch_of(node.first_ballot_layer))
    assert len(atxs) == 3 and post.K2 != tiny_post.K2
    bits = tiny_post.required_bits(metadata.num_units * post.LABELS_PER_UNIT)
    for atx in atxs:
        (nipost,) = node.m.atx.decode_atx_v2(atx.blob).niposts
        (sub_post,) = nipost.posts
        assert len(sub_post.post.indices) == tiny_post.expected_indices_bytes(bits, post.K2)
    for atx in atxs[:1]:
        wire = node.m.atx.decode_atx_v2(atx.blob)
        (nipost,) = wire.niposts
        (sub_post,) = nipost.posts
        proof = tiny_post.Proof(sub_post.post.nonce, sub_post.post.indices, sub_post.post.pow)
        commitment = atx.commitment_atx or node.store.commitment_atx(wire.smesher_id)
        tiny_post.verify_proof(proof, nipost.challenge, wire.smesher_id, commitment, sub_post.num_units,
                               node.params.post, post.K2)
        with pytest.raises(SpecError):
            tiny_post.verify_proof(proof, nipost.challenge, wire.smesher_id, commitment, sub_post.num_units,
                                   tiny_post.preset_config(), tiny_post.K2)
    assert attrs.asdict(node.params.post) == attrs.asdict(attrs.evolve(post.preset_config(), scrypt_n=tiny_post.SCRYPT_N))
    # proposals declare the eligibility count of the testnet layer size
    assert node.genesis.layer_size == tortoise.LAYER_SIZE
    epoch = node.epoch_of(node.first_ballot_layer)
    total = sum(a.weight for a in atxs)
    for raw, in node.db.execute("SELECT raw FROM proposals ORDER BY id"):
        proposal = p.decode(raw, p.Proposal)
        if proposal.epoch_data is not None and node.epoch_of(proposal.layer) == epoch:
            atx = node.store.get_atx(proposal.atx_id)
            assert proposal.epoch_data.eligibilities == p.proposal_slots(atx.weight, total, node.L, tortoise.LAYER_SIZE)


def check_rule(devnet, testnet):
    node = devnet.live()[0]
    post, tortoise = testnet["post"], testnet["tortoise"]
    deviations = {name: (testnet_value, used) for name, testnet_value, used, _ in p.TESTNET_LIKE_DEVIATIONS}
    assert deviations["LAYERS_PER_EPOCH"] == (str(tortoise.LAYERS_PER_EPOCH), str(node.L))
    assert deviations["post SCRYPT_N"] == (str(post.SCRYPT_N), str(node.params.post.scrypt_n))
    assert deviations["post PROVING_NONCES"] == (str(post.PROVING_NONCES), str(node.params.proving_nonces))
    assert node.L != tortoise.LAYERS_PER_EPOCH and node.params.post.scrypt_n != post.SCRYPT_N


def check_cli(devnet, summary, capsys):
    from smspec.tools.commands.devnet import GENESIS_CHOICES

    assert GENESIS_CHOICES == p.GENESIS_CONFIGS
    # resuming the finished devnet runs no layer: the header, the rules and the summary
    code = main(["devnet", "up", "--datadir", devnet.directory])
    out = capsys.readouterr().out
    assert code == 0 and "genesis configuration: testnet-like" in out and "  * testnet-like: " in out
    assert summary["state_root"] in out
    assert main(["devnet", "up", "--datadir", devnet.directory, "--genesis", "tiny"]) == 2
    assert "holds a testnet-like devnet" in capsys.readouterr().err
    assert main(["devnet", "rules", "--genesis", "testnet-like"]) == 0
    assert "testnet-like: " in capsys.readouterr().out
    assert main(["devnet", "rules"]) == 0
    assert "testnet-like" not in capsys.readouterr().out
    assert Genesis.from_json(open(f"{devnet.directory}/genesis.json", encoding="utf-8").read()).config == "testnet-like"
