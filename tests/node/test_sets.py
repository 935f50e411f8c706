"""Identity sets as operations of a smeshing service (tools/node/sets.py, ``smspec smesher marry``,
``merge``, ``sets``): an operator marries four identities on a running devnet with best-labels
PoST (``--post best``) and merges them in the next epoch; a double marriage and a double merge are
refused; a double marriage recorded with ``--force`` is proven by every node (malfeasance)."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from smspec.tools.cli import main
from smspec.tools.node import sets
from smspec.tools.node.api import ApiServer
from smspec.tools.node.devnet import Devnet, DevnetConfig, smesher_dir
from smspec.tools.node.schedule import weight_spread
from smspec.tools.node.smesher import LocalNodeClient, Smesher

FOUR = ["n0", "n0b", "n0c", "n0d"]


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def service_dirs(devnet: Devnet) -> list[str]:
    home = smesher_dir(devnet.directory, 0, 0)
    return ["--keys", os.path.join(home, "keys"), "--post", os.path.join(home, "post")]


def run_to(devnet: Devnet, start: int, end: int) -> dict[int, object]:
    """Step layers start..end-1; the progress of each."""
    return {layer: devnet.step(layer) for layer in range(start, end)}


@pytest.fixture(scope="module")
def operated(tmp_path_factory, wallet_code, memo):
    """A 3-node devnet with best-labels PoST whose node 0 service holds four unmarried identities
    (``devnet up --post best --set-size 4 --no-marriage``); the operator acts through node 0's API
    with the CLI: marry in epoch 1, merge in epoch 2, and the merged ATX appears in epoch 4."""
    config = DevnetConfig(nodes=3, layers=17, set_size=4, married=False, post="best", transactions=False,
                          key_seed="smspec-sets")
    devnet = Devnet(str(tmp_path_factory.mktemp("operated")), config, wallet_code=wallet_code, memo=memo)
    devnet.start()
    server = ApiServer(devnet.node_dir(0), 0, devnet.cluster.hosts[0]).start()
    yield devnet, server
    server.stop()
    devnet.close()


def test_an_operator_marries_four_identities_and_merges_them(operated, capsys, tmp_path):
    devnet, server = operated
    keys = service_dirs(devnet)
    node_url = ["--node", server.url]
    progress = run_to(devnet, 0, 5)  # epoch 1's initial ATXs: every identity has one
    assert progress[4].atxs == {"initial": 6}
    assert cli(capsys, "smesher", "sets", *keys, *node_url)[1:] == (json.dumps({"current_epoch": 1, "sets": []},
                                                                               indent=1) + "\n", "")

    code, out, err = cli(capsys, "smesher", "marry", *keys, "--identities", ",".join(FOUR), *node_url)
    assert (code, err) == (0, "") and out.startswith("set 1: n0, n0b, n0c, n0d marry (signer n0): ")

    # a double marriage: refused by the service's own record ...
    code, out, err = cli(capsys, "smesher", "marry", *keys, "--identities", "n0c,n0d", *node_url)
    assert (code, out) == (2, "") and err.startswith("smspec: error: refused (already_married): n0c is already "
                                                     "married in set 1 (n0, n0b, n0c, n0d; its marriage ATX is not "
                                                     "signed yet)")
    assert err.count("\n") == 1
    # ... and a merge before the marriage ATX exists says when it can happen
    progress.update(run_to(devnet, 5, 9))  # epoch 2: n0 signs the marriage ATX with four certificates
    assert progress[8].atxs == {"marriage": 1, "solo": 5}
    smesher = devnet.smeshers[0]
    (record,) = smesher.store.identity_sets()
    assert record["marriage_epoch"] == 2 and [name for name, _ in record["members"]] == FOUR
    for node in devnet.live():
        for ident in smesher.identities:
            assert node.marriage(ident.key) == {"marriage_atx": record["marriage_atx"], "publish_epoch": 2}

    # ... and by the node for a service that did not record it (the same two keys run elsewhere)
    other_keys = tmp_path / "other-keys"
    other_keys.mkdir()
    for name in ("n0c", "n0d"):
        shutil.copy2(os.path.join(keys[1], name + ".key"), other_keys / (name + ".key"))
    other = Smesher(str(other_keys), keys[3], [LocalNodeClient(devnet.cluster.hosts[1])], devnet.m)
    with pytest.raises(sets.SetRefused) as refused:
        sets.marry(other, ["n0c", "n0d"])
    assert refused.value.reason == "married_elsewhere"
    assert str(refused.value).startswith(f"n0c is married in ATX 0x{record['marriage_atx'].hex()[:16]}... of epoch 2")
    other.close()

    # the merge, in the next epoch (epoch 2); the protocol allows the merged ATX from epoch 4
    code, out, err = cli(capsys, "smesher", "merge", *keys, *node_url, "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == {"set": 1, "signer": "n0", "members": FOUR, "forced": False, "from_epoch": 4}
    code, out, err = cli(capsys, "smesher", "merge", *keys, "--identities", "n0,n0b", *node_url)
    assert (code, out) == (2, "") and err.startswith("smspec: error: refused (already_merged): set 1 ")

    code, out, _ = cli(capsys, "smesher", "sets", *keys, *node_url)
    view = json.loads(out)
    assert view["current_epoch"] == 2
    (entry,) = view["sets"]
    assert [m["name"] for m in entry["members"]] == FOUR
    assert [m["post"]["units"] for m in entry["members"]] == [2] * 4
    assert all(m["last_atx"]["publish_epoch"] == 2 and m["malicious"] is False for m in entry["members"])
    assert entry["marriage"] == {"state": "published", "atx": "0x" + record["marriage_atx"].hex(), "epoch": 2}
    assert entry["merges"] == [{"members": FOUR, "forced": False}]
    assert entry["next_merged_atx"] == {
        "epoch": 4, "signer": "n0", "members": FOUR, "declared_units": 8, "version": 3,
        "proof": f"one best-labels proof over 4 identities ({8 * devnet.m.post.LABELS_PER_UNIT} labels)",
        "signed": None}

    progress.update(run_to(devnet, 9, 17))
    assert progress[12].atxs == {"solo": 6}  # epoch 3: too early for the merged ATX
    assert progress[16].atxs == {"merged": 1, "solo": 2}  # epoch 4: one merged ATX for the four
    merged = devnet.live()[0].last_atx(smesher.identities[0].key)
    assert merged["publish_epoch"] == 4 and merged["marriage_atx"] == record["marriage_atx"]
    for node in devnet.live():
        for ident in smesher.identities:
            assert node.last_atx(ident.key)["id"] == merged["id"]  # every member's PoST is in it
        assert not any(node.is_malicious(ident.key) for ident in smesher.identities)
    weights = progress[16].weights
    (row,) = [a for a in weights if a["members"] == 4]
    assert (row["version"], row["declared_units"], row["weight"]) == (3, 8, merged["weight"])
    line = weight_spread(weights)
    assert line.startswith("best-labels weight / declared storage (units x ticks): ")
    assert f"{row['smesher'][:8]}+3 {row['weight']}/{row['declared']}" in line
    summary = devnet.summary()
    assert summary["agree"] and len({n["state_root"] for n in summary["nodes"].values()}) == 1
    code, out, _ = cli(capsys, "smesher", "sets", *keys, *node_url)
    assert json.loads(out)["sets"][0]["next_merged_atx"]["epoch"] == 5


def test_a_forced_double_marriage_is_proven_malicious(tmp_path, wallet_code, memo):
    """The refusal bypassed (``--force``): n0 marries n0b and, in the same epoch, n0c marries
    n0b again; every node finds n0b certified in two marriage ATXs, keeps the double-marriage
    proof (malfeasance.md ``ProofDoubleMarry``, type 0x11) and holds n0b, and with it both sets it
    married into, malicious; merging them is then refused."""
    config = DevnetConfig(nodes=2, layers=9, set_size=3, married=False, transactions=False, key_seed="smspec-sets")
    devnet = Devnet(str(tmp_path / "forced"), config, wallet_code=wallet_code, memo=memo)
    devnet.start()
    run_to(devnet, 0, 5)
    smesher = devnet.smeshers[0]
    assert sets.marry(smesher, ["n0", "n0b"])["set"] == 1
    with pytest.raises(sets.SetRefused) as refused:
        sets.marry(smesher, ["n0c", "n0b"])
    assert refused.value.reason == "already_married"
    assert sets.marry(smesher, ["n0c", "n0b"], force=True) == {
        "set": 2, "signer": "n0c", "members": ["n0c", "n0b"], "forced": True,
        "next": "the signer's next ATX carries the marriage certificates (every member needs an ATX first)"}
    progress = run_to(devnet, 5, 9)
    assert progress[8].atxs == {"marriage": 2, "solo": 2}  # n0 and n0c marry n0b; n0b and n1 publish solo
    n0b = next(ident.key for ident in smesher.identities if ident.name == "n0b")
    for node in devnet.live():
        assert node.is_malicious(n0b)
        ((reason, proof),) = node.db.execute("SELECT reason, proof FROM malfeasance WHERE node_id = ?", (n0b,))
        assert reason == "atx_proof_17" and proof[0] == 0x11
    view = sets.status(smesher)
    assert [(entry["set"], entry["forced"], entry["marriage"]["state"]) for entry in view["sets"]] == [
        (1, False, "published"), (2, True, "published")]
    # the proof convicts n0b's whole equivocation set: both marriages' identities, no one else
    assert [[(m["name"], m["malicious"]) for m in entry["members"]] for entry in view["sets"]] == [
        [("n0", True), ("n0b", True)], [("n0c", True), ("n0b", True)]]
    n1 = devnet.smeshers[1].identities[0].key
    assert not any(node.is_malicious(n1) for node in devnet.live())

    # a merge of a convicted set is refused: its ATXs no longer count
    with pytest.raises(sets.SetRefused) as refused:
        sets.merge(smesher, ["n0", "n0b"])
    assert (refused.value.reason, str(refused.value)) == (
        "malicious", "n0 is malicious at the node: its ATXs no longer count")
    # a merged ATX of the marriage that this service did not sign (another service holding the
    # keys merged them): a second one would be a double merge
    (first, _) = smesher.store.identity_sets()

    class SeesAMerge(LocalNodeClient):
        def last_atx(self, node_id: bytes) -> dict | None:
            return {**super().last_atx(node_id), "id": b"\x07" * 32, "marriage_atx": first["marriage_atx"]}

    witness = Smesher(smesher.keys_dir, smesher.post_dir, [SeesAMerge(devnet.cluster.hosts[1])], devnet.m)
    with pytest.raises(sets.SetRefused) as refused:
        sets.merge(witness, ["n0", "n0b"])
    assert refused.value.reason == "merged_elsewhere"
    assert str(refused.value).startswith("the node holds merged ATX 0x0707070707070707... of this marriage")
    witness.close()
    devnet.close()


def test_devnet_up_post_best_prints_the_weight_spread(capsys, tmp_path):
    """``smspec devnet up --post best``: every ATX from epoch 1 is a best-labels ATX (v3), the
    rule post-best is listed, each epoch's measured weight is printed next to the declared
    storage, the married set publishes its marriage ATX in epoch 2, and the nodes agree."""
    code, out, err = cli(capsys, "devnet", "up", "--post", "best", "--nodes", "2", "--layers", "9", "--no-txs",
                         "--key-seed", "smspec-sets", "--datadir", str(tmp_path / "best"))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert "PoST: best labels: ATX v3 from epoch 1, one proof per identity set (spec/atx_best.md; devnet rule " \
           "post-best)" in lines
    assert any(line.startswith("  * post-best: --post best: every ATX from epoch 1 is version 3") for line in lines)
    assert "epoch 1: ATXs published 3 (3 initial)" in lines and "epoch 2: ATXs published 3 (1 marriage, 2 solo)" in lines
    spread = [line for line in lines if "best-labels weight / declared storage (units x ticks): " in line]
    assert [line.split(":")[0] for line in spread] == ["epoch 1", "epoch 2"]
    assert all(", total " in line and " per ATX " in line for line in spread)
    assert lines[-1].startswith("all 2 honest live nodes agree: state root 0x")
    code, out, _ = cli(capsys, "devnet", "rules", "--post", "best")
    assert code == 0 and [line.split(":")[0] for line in out.splitlines()][-1] == "post-best"
    assert "post-best" not in cli(capsys, "devnet", "rules")[1]


@pytest.mark.slow
@pytest.mark.parametrize("mode", [["--tcp"], ["--clocked", "--layer-seconds", "2"]], ids=["tcp", "clocked"])
def test_devnet_up_post_best_as_processes(capsys, tmp_path, mode):
    """``--post best`` with node and smesher processes (``--tcp``) and self-clocked ones
    (``--clocked``, whose spread lines come from node 0's database after the run): best-labels
    ATXs from epoch 1, every node agrees (about 30 s each)."""
    code, out, err = cli(capsys, "devnet", "up", "--post", "best", "--nodes", "2", "--layers", "9", "--no-txs",
                         "--key-seed", "smspec-sets", "--datadir", str(tmp_path / "best"), *mode)
    assert code == 0, err
    lines = out.splitlines()
    spread = [line for line in lines if "best-labels weight / declared storage (units x ticks): " in line]
    assert [line.split(":")[0] for line in spread][:1] == ["epoch 1"]
    assert all(", total " in line and " per ATX " in line for line in spread)
    assert lines[-1].startswith("all 2 honest live nodes agree: state root 0x")
