"""The in-process devnet (tools/node): agreement, ATXs, transactions, rewards, adversaries, resume.

Every assertion compares what the nodes stored with each other or with values recomputed here
from the devnet rules (tools/node/protocol.py) and the spec modules.
"""

from __future__ import annotations

import dataclasses
import os

import pytest
from smspec.tools.node import protocol as p
from smspec.tools.node import wallet as w
from smspec.tools.node.devnet import RECIPIENTS, USERS, Devnet

from .conftest import ADVERSARIAL, HONEST


def applied_rows(node):
    return node.db.execute("SELECT layer, block_id, state_root FROM applied ORDER BY layer").fetchall()


def account(node, address):
    row = node.db.execute("SELECT balance, nonce FROM accounts WHERE address = ?", (address,)).fetchone()
    return (0, 0) if row is None else (int(row[0]), int(row[1]))


def wallet(devnet, name):
    return devnet.user_address(name)


def identity_key(devnet, name):
    """The public key of a devnet identity (held by its smeshing service, never by a node)."""
    return next(i.key for s in devnet.smeshers.values() for i in s.identities if i.name == name)


# ---------------------------------------------------------------------------------------------
# four honest nodes, four epochs (ballots, Hare and blocks in epochs 2 and 3)


def test_every_node_applies_the_same_blocks_and_state_root(honest):
    devnet, summary = honest
    nodes = devnet.live()
    assert len(nodes) == 4 and summary["agree"]
    reference = applied_rows(nodes[0])
    first = nodes[0].first_ballot_layer
    assert [row[0] for row in reference] == list(range(first, nodes[0].applied_top() + 1))
    assert nodes[0].applied_top() >= HONEST.layers - 3  # the tortoise verifies within two layers
    for node in nodes[1:]:
        assert applied_rows(node) == reference
        assert node.state_root() == nodes[0].state_root() == bytes.fromhex(summary["state_root"][2:])
    blocks = [row[1] for row in reference if row[1] != p.EMPTY_ID20]
    assert len(blocks) == len(reference)  # an honest network decides a block in every layer
    # the state root is the rule's Merkle root over the stored accounts
    assert nodes[0].load_state().root() == nodes[0].state_root()


def test_split_devnet_keeps_the_documented_state_roots(honest, adversarial):
    """The split (nodes + smeshing services, one layer schedule) reaches the state roots the
    combined node reached with the same keys (--key-seed smspec-devnet): 16 honest layers, and 16
    layers with node 2 crashed at 9 and back at 13 and node 3 byzantine (the combined node at
    commit a62ad28 reached 0x3b9a0206... and 0x4d4f2831... with the wallet template of that time;
    the full wallet template (spawn, spend, proxy, deploy, max_spend, verify, receive) changed the
    template code and the gas of every spend, so the roots moved to 0x2e2491f4... and 0x7dc50bb8...
    with it and nothing else). The workload then gained a deploy, a spend to a spawned wallet and a
    proxied transfer (docs/devnet.md "What runs"), and the state root a leaf per deployed template:
    that alone moved the roots to the values below. Spends without their old appended signature,
    authentication through the wallet's `verify` and the identity sets of the smeshing services
    change no root: the previous workload still reaches 0x2e2491f4...
    (`test_the_previous_workload_reaches_the_previous_root`)."""
    assert honest[1]["state_root"] == "0xb23bb87fd4b426896f33602eb11f44f0b08baf94c6cd93097c7b181e43a0881e"
    assert adversarial[1]["state_root"] == "0xab15682cd60e77952791179dc79bfe8cba4064cfc0273652d107ca75540c6414"


def test_the_previous_workload_reaches_the_previous_root(tmp_path, wallet_code, memo, monkeypatch):
    """The honest run with the workload of before proxy and deploy (spawns, then alice pays carol
    and bob pays dave in turn) reaches the root pinned before them: what moved the roots is the
    workload, not the shorter spend arguments, the `verify` authentication or the identity sets."""
    from smspec.tools.node import devnet as devnet_module

    def previous(self, layer):
        start = 2 * self.L
        if layer == start:
            return [p.encode(w.make_spawn(self.m, self.genesis_id, self.template, self.users[n]), p.Tx) for n in USERS]
        if layer < start + devnet_module.SPEND_DELAY:
            return []
        k = layer - start - devnet_module.SPEND_DELAY
        tx = w.make_spend(self.m, self.genesis_id, self.template, self.users[USERS[k % 2]], 1 + k // 2,
                          self.address(RECIPIENTS[k % 2]), 1000 + layer)
        return [p.encode(tx, p.Tx)]

    monkeypatch.setattr(devnet_module.Workload, "__call__", previous)
    devnet = Devnet(str(tmp_path / "previous"), HONEST, wallet_code=wallet_code, memo=memo)
    summary = devnet.run()
    devnet.close()
    assert summary["state_root"] == "0x2e2491f415e3eb24974a0262cd35bffabb74676349587e6d688320264aa60eab"


def test_keys_live_only_in_the_smeshing_services(honest):
    """Key files are 0600 and no node's database holds any identity's or user's private key."""
    import stat

    devnet, _ = honest
    secrets = [i.seed for s in devnet.smeshers.values() for i in s.identities] + list(devnet.users.values())
    for smesher in devnet.smeshers.values():
        for entry in os.listdir(smesher.keys_dir):
            if entry.endswith(".key"):
                assert stat.S_IMODE(os.stat(os.path.join(smesher.keys_dir, entry)).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.join(devnet.directory, "users.keys.json")).st_mode) == 0o600
    for path in [os.path.join(devnet.node_dir(i), "node.sqlite") for i in range(4)] + [
            os.path.join(devnet.directory, "genesis.json"), os.path.join(devnet.directory, "devnet.json")]:
        with open(path, "rb") as f:
            data = f.read()
        for seed in secrets:
            assert seed not in data and seed.hex().encode() not in data


def test_hare_output_is_the_block_built_from_the_agreed_proposals(honest):
    devnet, _ = honest
    nodes = devnet.live()
    for layer, block_id, _ in applied_rows(nodes[0]):
        outputs = {n.db.execute("SELECT block_id FROM hare_outputs WHERE layer = ?", (layer,)).fetchone() for n in nodes}
        assert outputs == {(block_id,)}
        block = p.decode(nodes[0].db.execute("SELECT raw FROM blocks WHERE id = ?", (block_id,)).fetchone()[0], p.Block)
        assert p.block_id(block) == block_id and block.layer == layer
        assert nodes[1].build_block(layer, tuple(block.proposals)) == block


def test_atxs_every_epoch_including_a_marriage(honest):
    devnet, _ = honest
    m = devnet.m
    for node in devnet.live():
        epochs = [row[0] for row in node.db.execute("SELECT publish_epoch FROM atxs ORDER BY seq")]
        assert epochs == [1] * 5 + [2] * 5 + [3] * 5
    node = devnet.live()[1]
    first, second = identity_key(devnet, "n0"), identity_key(devnet, "n0b")
    alice_record, bob_record = node.store.marriage(first), node.store.marriage(second)
    assert alice_record.set_id == bob_record.set_id and alice_record.marriage_atx == bob_record.marriage_atx
    wedding = m.atx.decode_atx_v2(node.store.get_atx(alice_record.marriage_atx).blob)
    assert wedding.publish_epoch == 2 and len(wedding.marriages) == 2
    # ATX weight = units x ticks (PoET leaves // tick size)
    for (weight,) in node.db.execute("SELECT weight FROM atxs"):
        assert int(weight) == HONEST.units * (p.POET_LEAVES // p.TICK_SIZE)


def test_wallet_transactions_run_on_athena(honest):
    """The workload's spawns, deploy, spend to a spawned wallet and proxied transfer are applied
    (status ok), every balance is what the transfers make it, and the deployed template is stored
    by every node and counted in the state root (rule "state-root")."""
    devnet, _ = honest
    node = devnet.live()[2]
    outcomes = {}
    for status, raw in node.db.execute("SELECT status, raw FROM txs"):
        outcomes[p.tx_id(p.decode(raw, p.Tx))] = status
    assert outcomes and set(outcomes.values()) <= {"ok", "pending"}
    names = {wallet(devnet, name): name for name in USERS + RECIPIENTS}
    received = {name: 0 for name in USERS + RECIPIENTS}
    paid = {name: 0 for name in USERS}
    nonces = {name: 0 for name in USERS}
    methods = []
    for (raw,) in node.db.execute("SELECT raw FROM txs WHERE status = 'ok' ORDER BY principal, nonce"):
        tx = p.decode(raw, p.Tx)
        payer = names[tx.principal]
        nonces[payer] += 1
        methods.append((payer, tx.method))
        if tx.method == p.METHOD_SPEND:
            recipient, amount = tx.args[:24], int.from_bytes(tx.args[24:32], "little")
        elif tx.method == p.METHOD_PROXY:
            recipient, selector, call_input, amount = w.parse_proxy_args(tx.args)
            assert selector is None and call_input is None  # a plain transfer: the recipient runs `receive`
        else:
            continue
        received[names[recipient]] += amount
        paid[payer] += amount
    assert sorted(methods) == sorted([("alice", p.METHOD_SPAWN), ("bob", p.METHOD_SPAWN), ("alice", p.METHOD_DEPLOY),
                                      ("bob", p.METHOD_SPEND), ("alice", p.METHOD_PROXY)])
    assert received["alice"] > 0 and received["bob"] > 0  # a spend and a proxied transfer to spawned wallets
    for name in RECIPIENTS:
        assert account(node, wallet(devnet, name)) == (received[name], 0)
    for name in USERS:
        balance, nonce = account(node, wallet(devnet, name))
        assert nonce == nonces[name] >= 2
        assert balance == p.GENESIS_BALANCE - paid[name] + received[name]
    code = devnet.schedule.workload.deploy_code
    for other in devnet.live():
        assert other.store.templates() == [(w.template_address(code), code)]
    state = node.load_state()
    assert [address for address, _ in state.template_rows()] == [w.template_address(code)]
    leaves = [node.m.crypto.hash32(row[0], int(row[1]).to_bytes(8, "little"), int(row[2]).to_bytes(8, "little"),
                                   row[3] or bytes(24), node.m.crypto.hash32(row[4]), node.m.crypto.hash32(row[5].encode()))
              for row in state.rows()]
    leaves.append(node.m.crypto.hash32(w.template_address(code), node.m.crypto.hash32(code)))
    assert node.state_root() == node.m.crypto.merkle_root(leaves)


def test_rewards_follow_the_rule(honest):
    devnet, _ = honest
    node = devnet.live()[0]
    expected: dict[bytes, int] = {}
    for _, block_id, _ in applied_rows(node):
        block = p.decode(node.db.execute("SELECT raw FROM blocks WHERE id = ?", (block_id,)).fetchone()[0], p.Block)
        for coinbase, amount in p.split_rewards(block.rewards):
            expected[coinbase] = expected.get(coinbase, 0) + amount
    assert sum(expected.values()) == p.LAYER_REWARD * len(applied_rows(node))
    for coinbase, amount in expected.items():
        assert account(node, coinbase)[0] == amount


def test_malformed_gossip_and_invalid_transactions_are_rejected_with_nothing_lost(honest):
    import attrs

    devnet, _ = honest
    devnet.m.activate()
    node = devnet.live()[3]
    m = node.m
    before = (applied_rows(node), node.state_root(), node.export())
    rejected_before = node.db.execute("SELECT COUNT(*) FROM rejections").fetchone()[0]
    atx_blob = node.db.execute("SELECT blob FROM atxs ORDER BY seq DESC LIMIT 1").fetchone()[0]
    proposal = p.decode(node.db.execute("SELECT raw FROM proposals ORDER BY layer DESC LIMIT 1").fetchone()[0], p.Proposal)
    alice = devnet.users["alice"]
    good = w.make_spend(m, node.genesis_id, devnet.template, alice, 100, wallet(devnet, "carol"), 5)
    # another coinbase: a new ATX ID that the signature does not cover (a flipped signature alone
    # keeps the ID, and a known ID is ignored as a duplicate, as go-spacemesh does)
    bad_atx = m.atx.encode_atx_v2(attrs.evolve(m.atx.decode_atx_v2(atx_blob), coinbase=bytes(24)))
    cases = [
        ("atx", b"\x00\x01", "short_input"),
        ("atx", bytes(bad_atx), "invalid_signature"),
        ("proposal", p.encode(attrs.evolve(proposal, layer=proposal.layer + 1000), p.Proposal), "future_layer"),
        ("proposal", p.encode(attrs.evolve(proposal, opinion=bytes(32)), p.Proposal), "bad_signature"),
        ("tx", p.encode(attrs.evolve(good, args=good.args[:24] + (6).to_bytes(8, "little") + good.args[32:]), p.Tx),
         "bad_signature"),
        ("tx", p.encode(attrs.evolve(w.make_spend(m, node.genesis_id, devnet.template, alice, 0, bytes(24), 5)), p.Tx),
         "nonce_too_low"),
        ("poet", p.encode(p.PoetProof(9, bytes(32), p.POET_LEAVES, bytes(32)), p.PoetProof), "poet_bad_work"),
        ("cert", p.encode(p.Certificate(proposal.layer, bytes(20), None, bytes(32), bytes(64)), p.Certificate),
         "certificate_signer_not_active"),
        ("nonsense", b"", "unknown_kind"),
    ]
    for kind, data, _ in cases:
        assert node.handle(kind, data) is False
    reasons = [r[0] for r in node.db.execute("SELECT reason FROM rejections ORDER BY seq")][rejected_before:]
    assert reasons == [reason for _, _, reason in cases]
    after = (applied_rows(node), node.state_root())
    assert after == before[:2]
    # every object the node had is still there (invalid transactions are kept only as 'rejected'/'unchecked')
    exported = node.export()
    assert [item for item in exported if item[0] != "tx"] == [item for item in before[2] if item[0] != "tx"]
    assert set(before[2]) <= set(exported)
    # a spend of a wallet not spawned here cannot be checked yet: kept as 'unchecked' and relayed
    unknown = w.make_spend(m, node.genesis_id, devnet.template, bytes(32), 0, bytes(24), 5)
    assert node.handle("tx", p.encode(unknown, p.Tx)) is True
    assert node.db.execute("SELECT status FROM txs WHERE id = ?", (p.tx_id(unknown),)).fetchone() == ("unchecked",)
    assert p.tx_id(unknown) not in node.pending_txs()
    # a known object is a duplicate, not an error
    assert node.handle("atx", atx_blob) is False
    assert node.db.execute("SELECT COUNT(*) FROM rejections").fetchone()[0] == rejected_before + len(cases)


# ---------------------------------------------------------------------------------------------
# one crashed (and restarted) node, one byzantine node


def test_crashed_and_byzantine_nodes(adversarial):
    devnet, summary = adversarial
    assert summary["agree"]
    honest = devnet.honest()
    assert [n.index for n in honest] == [0, 1, 2]  # node 2 crashed at layer 9 and restarted at 13
    reference = applied_rows(honest[0])
    assert reference[-1][0] >= devnet.config.layers - 3
    for node in honest[1:]:
        assert applied_rows(node) == reference
    culprit = identity_key(devnet, "n3")
    for node in honest:
        reasons = dict(node.db.execute("SELECT kind || ':' || reason, COUNT(*) FROM rejections GROUP BY 1").fetchall())
        assert reasons.get("proposal:double_proposal", 0) >= 1
        assert reasons.get("proposal:malicious_smesher", 0) >= 1  # it keeps proposing after it was caught
        assert reasons.get("hare:short_input", 0) >= 1  # truncated Hare messages
        for kind in ("poet", "atx", "proposal", "tx", "cert"):
            assert reasons.get(f"{kind}:short_input", 0) >= 1  # malformed gossip of every kind
        assert reasons.get("tx:bad_signature", 0) >= 1  # forged transactions
        assert node.is_malicious(culprit)
        # the byzantine smesher's later proposals are refused and its ballots weigh nothing
        assert node.tortoise.malicious_nodes == {culprit}
    # the restarted node kept what it had before the crash and synced the rest
    restarted = devnet.nodes[2]
    assert restarted.db.execute("SELECT MIN(layer) FROM progress").fetchone()[0] == 0
    assert restarted.last_done() == devnet.config.layers - 1


def rejections(node):
    return node.db.execute("SELECT layer, kind, reason FROM rejections ORDER BY seq").fetchall()


def test_verify_memo_changes_no_state_root(tmp_path, adversarial, wallet_code, memo):
    """Rule "verify-memo" off (every node checks every proposal, certificate and Hare eligibility
    itself) against the session's run with it on, with a byzantine node publishing malformed and
    equivocating objects and a crashed node: the same documented state root, the same applied
    blocks and the same rejections, layer by layer, on every honest node."""
    on, summary_on = adversarial
    assert summary_on["shared_checks"]["proposal shared"] > 0
    off = Devnet(str(tmp_path / "off"), dataclasses.replace(ADVERSARIAL, verify_memo=False), wallet_code=wallet_code,
                 memo=memo)
    try:
        summary = off.run()
        assert off.shared is None and summary["shared_checks"] == {}
        assert summary["state_root"] == summary_on["state_root"] == (
            "0xab15682cd60e77952791179dc79bfe8cba4064cfc0273652d107ca75540c6414")
        assert [n.index for n in off.honest()] == [n.index for n in on.honest()] == [0, 1, 2]
        for node_on, node_off in zip(on.honest(), off.honest(), strict=True):
            assert applied_rows(node_off) == applied_rows(node_on)
            assert rejections(node_off) == rejections(node_on)
    finally:
        off.close()


def test_verify_memo_checks_each_object_once(honest):
    """Four live honest nodes: each proposal and certificate is validated once and found in the
    shared memo by the three other nodes; one Hare active set serves the four nodes per layer."""
    devnet, summary = honest
    counts = summary["shared_checks"]  # of the run (other tests send the nodes more objects later)
    ballot_layers = HONEST.layers - devnet.live()[0].first_ballot_layer
    assert counts["active set checked"] == ballot_layers
    assert counts["active set shared"] == 3 * ballot_layers
    assert counts["proposal shared"] == 3 * counts["proposal checked"]
    assert counts["certificate shared"] == 3 * counts["certificate checked"]
    proposals = devnet.live()[0].db.execute("SELECT COUNT(*) FROM proposals").fetchone()[0]
    certificates = devnet.live()[0].db.execute("SELECT COUNT(*) FROM certificates").fetchone()[0]
    assert (counts["proposal checked"], counts["certificate checked"]) == (proposals, certificates)
    # gossip decoded once per distinct bytes, the decoded object shared by the other nodes
    from smspec.tools.node.node import decode_certificate, decode_proposal

    decoded = devnet.shared.decoded
    for table, decoder in (("proposals", decode_proposal), ("certificates", decode_certificate)):
        for (raw,) in devnet.live()[0].db.execute(f"SELECT raw FROM {table}"):
            assert decoded[(decoder, raw)][0] == decoder(raw)
    hare = devnet.m.hare.decode_message
    assert any(decoder is hare for decoder, _ in decoded)
    assert counts["decode shared"] >= 3 * counts["decode checked"]


def test_verify_memo_decodes_once_and_keeps_no_failure():
    """Rule "verify-memo"'s decoded gossip: one object per (decoder, bytes) and per derived
    name; bytes that fail to decode are decoded (and fail) at every ask; the memo keeps at most
    `DECODED_BYTES` bytes of keys, the oldest dropped first."""
    from smspec.tools.node.node import SharedChecks

    calls = []

    def decoder(data: bytes) -> tuple:
        calls.append(data)
        if data == b"bad":
            raise p.rules.InvalidProposal("short_input")
        return (data,)

    def other(data: bytes) -> tuple:
        return (data, "other")

    shared = SharedChecks()
    first = shared.decode(decoder, b"abc")
    assert shared.decode(decoder, b"abc") is first and first == (b"abc",)
    assert shared.decode(other, b"abc") == (b"abc", "other")  # the decoder is part of the key
    assert shared.derived(decoder, b"abc", "length", len) == 1
    assert shared.derived(decoder, b"abc", "length", lambda _: 99) == 1  # one value per name
    assert shared.derived(decoder, b"abc", "first", lambda d: d[0]) == b"abc"
    for _ in range(2):
        with pytest.raises(p.rules.InvalidProposal):
            shared.decode(decoder, b"bad")
    assert calls == [b"abc", b"bad", b"bad"]
    assert shared.counts == {"decode checked": 2, "decode shared": 1}
    shared.DECODED_BYTES = 10
    shared.decode(decoder, b"0123")  # 3 + 3 + 4 bytes: at the bound
    assert shared.decoded_bytes == 10 and len(shared.decoded) == 3
    shared.decode(decoder, b"x")  # the oldest entry goes
    assert list(shared.decoded) == [(other, b"abc"), (decoder, b"0123"), (decoder, b"x")]
    assert shared.decoded_bytes == 8
    shared.decode(decoder, bytes(11))  # larger than the bound: returned, nothing kept
    assert shared.decoded == {} and shared.decoded_bytes == 0


# ---------------------------------------------------------------------------------------------
# killed at any moment (in-process: an exception out of the middle of a layer), resumed


class Killed(BaseException):
    pass


def test_interrupted_devnet_resumes_to_the_same_state(tmp_path, honest, wallet_code, memo, monkeypatch):
    from smspec.tools.node.node import Node

    _, summary = honest
    directory = str(tmp_path / "resumed")
    original = Node.handle
    for kill_after in (150, 150):
        calls = {"n": 0}

        def handle(self, kind, data, calls=calls, kill_after=kill_after):
            calls["n"] += 1
            if calls["n"] == kill_after:
                raise Killed()
            return original(self, kind, data)

        monkeypatch.setattr(Node, "handle", handle)
        devnet = Devnet(directory, HONEST, wallet_code=wallet_code, memo=memo)
        with pytest.raises(Killed):
            devnet.run()
        for node in devnet.live():  # abandon: uncommitted work is lost, as with kill -9
            node.db.close()
        for smesher in devnet.smeshers.values():
            smesher.store.close()
        devnet.poet.close_db()
    monkeypatch.setattr(Node, "handle", original)
    devnet = Devnet(directory, None, wallet_code=wallet_code, memo=memo)
    assert devnet.config == HONEST
    resumed = devnet.run()
    assert resumed["agree"] and resumed["state_root"] == summary["state_root"]
    devnet.close()
    import sqlite3

    for index in range(HONEST.nodes):
        db = sqlite3.connect(os.path.join(directory, f"node{index}", "node.sqlite"))
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        db.close()


@pytest.fixture(scope="module")
def exported(honest):
    devnet, _ = honest
    return devnet.live()[3].export()


def _mutations():
    from hypothesis import strategies as st

    edit = st.tuples(st.sampled_from(("set", "cut", "append")), st.integers(0, 10**6), st.binary(min_size=1, max_size=8))
    return st.tuples(st.integers(0, 10**6), st.lists(edit, min_size=1, max_size=4))


def _mutate(data: bytes, edits: list) -> bytes:
    out = bytearray(data)
    for op, position, blob in edits:
        if op == "set" and out:
            out[position % len(out)] = blob[0]
        elif op == "cut" and out:
            del out[position % len(out):]
        else:
            out += blob
    return bytes(out)


def test_mutated_gossip_never_crashes_a_node(honest, exported):
    """Mutated copies of every kind of stored object are refused or accepted, never an exception,
    and the applied state does not move."""
    from hypothesis import HealthCheck, given, settings

    devnet, _ = honest
    devnet.m.activate()
    node = devnet.live()[3]
    before = (applied_rows(node), node.state_root())

    @settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(_mutations())
    def check(mutation):
        pick, edits = mutation
        kind, data = exported[pick % len(exported)]
        assert node.handle(kind, _mutate(data, edits)) in (True, False)

    check()
    assert (applied_rows(node), node.state_root()) == before


def test_mutated_hare_messages_never_crash_a_node(honest, monkeypatch):
    """Mutated copies of real Hare messages (a preround of layer 12 signed again by node 0's
    smeshing service) are dropped or accepted by another node's session, never an exception."""
    from hypothesis import HealthCheck, given, settings

    devnet, _ = honest
    devnet.m.activate()
    sender, receiver = devnet.live()[0], devnet.live()[2]
    smesher = devnet.smeshers[0]
    layer = 12
    assert sender.hare_start(layer) and receiver.hare_start(layer)
    asked = sender.hare_round(layer)
    messages = []
    monkeypatch.setattr(smesher, "publish", lambda kind, data: messages.append(data) or {})
    monkeypatch.setattr(smesher.store, "add_signed", lambda *args: None)  # sign without keeping the slot
    smesher.hare_messages(layer, *asked)
    assert messages

    @settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(_mutations())
    def check(mutation):
        pick, edits = mutation
        assert receiver.hare_receive(layer, _mutate(messages[pick % len(messages)], edits)) in (True, False)

    try:
        check()
    finally:
        sender.sessions.pop(layer, None)
        receiver.sessions.pop(layer, None)


def test_married_identities_publish_a_merged_atx(tmp_path, wallet_code, memo):
    """Epoch 4 (MARRIAGE_EPOCH_DISTANCE after the marriage): node 0's two identities publish one
    merged ATX that every node validates, with both identities' PoSTs and their summed weight."""
    import dataclasses

    devnet = Devnet(str(tmp_path / "merged"), dataclasses.replace(HONEST, layers=17), wallet_code=wallet_code, memo=memo)
    summary = devnet.run()
    assert summary["agree"]
    m = devnet.m
    first, second = identity_key(devnet, "n0"), identity_key(devnet, "n0b")
    for node in devnet.live():
        (blob,) = [row[0] for row in node.db.execute("SELECT blob FROM atxs WHERE publish_epoch = 4 AND smesher_id = ?",
                                                      (first,))]
        merged = m.atx.decode_atx_v2(blob)
        assert merged.marriage_atx == node.store.marriage(first).marriage_atx
        assert [sub.marriage_index for sub in merged.niposts[0].posts] == [0, 1]
        stored = node.store.get_atx(m.atx.atx_id_v2(merged, m.atx.IdScheme.A))
        assert [post.node_id for post in stored.posts] == [first, second]
        assert stored.weight == 2 * HONEST.units * (p.POET_LEAVES // p.TICK_SIZE)
        assert node.db.execute("SELECT COUNT(*) FROM atxs WHERE publish_epoch = 4").fetchone()[0] == 4
        assert not node.is_malicious(first) and not node.is_malicious(second)
    devnet.close()
