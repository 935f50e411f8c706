"""Identity sets of a smeshing service: marry, merge, and the status of a set (docs/node.md
"Identity sets: marry and merge").

A smesher that runs several identities may commit them to one *set* (a marriage: the signer's
ATX carries a marriage certificate of every member, atx.md `MarriageCertificate`) and, from
`MARRIAGE_EPOCH_DISTANCE` epochs after that ATX, publish one *merged* ATX for them (v2: one
sub-post per member; v3, `--post best`: one best-labels proof over all their labels).

The operations act on the service's keys directory, as ``smspec smesher states`` does: they
record the decision in its database (``KEYS/smesher.sqlite``, tables ``identity_sets`` and
``merges``), and the service, running or started later, carries it out at its next ATX phase
(``Smesher.atx_plans``). Before recording, they refuse what the protocol would punish, after
asking a node what the network knows:

* marrying an identity that is already married, in a set of this service or in an ATX the node
  knows (a double marriage, malfeasance.md `ProofDoubleMarry`, convicts it);
* a second merge of one marriage (two merged ATXs naming one marriage ATX in an epoch: a double
  merge, `ProofDoubleMerge`), recorded here or seen at the node (a merged ATX of the marriage that
  this service did not sign);
* an identity the node already holds malicious.

``force`` records it anyway (tests and demonstrations of the malfeasance proofs).
"""

from __future__ import annotations

import time
from typing import Any

from smspec.tools.node.smesher import NodeUnavailable, Smesher


class SetError(Exception):
    """A request the service cannot carry out (unknown identity, no marriage to merge, ...)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class SetRefused(SetError):
    """A request the protocol would punish; ``force`` records it anyway."""


def _names(smesher: Smesher, names: list[str]) -> list[Any]:
    """The identities named, in order (each once, each held by this service)."""
    by_name = {ident.name: ident for ident in smesher.identities}
    out = []
    for name in names:
        if name not in by_name:
            raise SetError("unknown_identity", f"{name!r} is not an identity of this service "
                                               f"({', '.join(sorted(by_name))})")
        if by_name[name] in out:
            raise SetError("duplicate_identity", f"{name!r} is named twice")
        out.append(by_name[name])
    return out


def _set_of(smesher: Smesher, key: bytes) -> dict | None:
    for record in smesher.store.identity_sets():
        if key in [node_id for _, node_id in record["members"]]:
            return record
    return None


def _describe(record: dict) -> str:
    names = ", ".join(name for name, _ in record["members"])
    if record["marriage_atx"] is None:
        return f"set {record['id']} ({names}; its marriage ATX is not signed yet)"
    return (f"set {record['id']} ({names}; marriage ATX 0x{record['marriage_atx'].hex()[:16]}... "
            f"of epoch {record['marriage_epoch']})")


def _ask(smesher: Smesher, call: Any) -> Any:
    if not smesher.nodes:
        raise SetError("no_node", "no node to check with: name one with --node URL (or --force)")
    try:
        return smesher._ask(call)
    except NodeUnavailable as error:
        raise SetError("node_unavailable", f"cannot check with a node: {error}") from None


def _check_not_malicious(smesher: Smesher, identities: list[Any]) -> None:
    for ident in identities:
        if _ask(smesher, lambda c, i=ident: c.malicious(i.key)):
            raise SetRefused("malicious", f"{ident.name} is malicious at the node: its ATXs no longer count")


def marry(smesher: Smesher, names: list[str], force: bool = False) -> dict:
    """Record that `names` marry (the first signs the marriage ATX); refuse a double marriage."""
    atx = smesher.m.atx
    identities = _names(smesher, names)
    if len(identities) < 2:
        raise SetError("too_few", "a marriage needs at least two identities")
    if len(identities) > atx.MAX_MARRIAGES:
        raise SetError("too_many", f"an ATX holds at most {atx.MAX_MARRIAGES} marriage certificates")
    if not force:
        for ident in identities:
            record = _set_of(smesher, ident.key)
            if record is not None:
                raise SetRefused("already_married", f"{ident.name} is already married in {_describe(record)}: a "
                                                    "second marriage certificate is a double marriage (malfeasance)")
        for ident in identities:
            known = _ask(smesher, lambda c, i=ident: c.marriage(i.key))
            if known is not None:
                raise SetRefused("married_elsewhere",
                                 f"{ident.name} is married in ATX 0x{known['marriage_atx'].hex()[:16]}... of epoch "
                                 f"{known['publish_epoch']}, which this service did not record: a second marriage "
                                 "certificate is a double marriage (malfeasance)")
        _check_not_malicious(smesher, identities)
    set_id = smesher.store.add_identity_set([(i.name, i.key) for i in identities], force, time.time())
    return {"set": set_id, "signer": identities[0].name, "members": [i.name for i in identities], "forced": force,
            "next": "the signer's next ATX carries the marriage certificates (every member needs an ATX first)"}


def _our_atx_ids(smesher: Smesher) -> set[bytes]:
    """The IDs of every ATX this service signed."""
    ids = set()
    for ident in smesher.identities:
        for slot, blob in smesher.store.signed_slots("atx", ident.key):
            ids.add(smesher.atx_id(blob, int(slot)))
    return ids


def merge(smesher: Smesher, names: list[str] | None = None, force: bool = False) -> dict:
    """Record that `names` (default: the whole set) publish one merged ATX from the first epoch
    the protocol allows; refuse a second merge of one marriage."""
    records = smesher.store.identity_sets()
    if not records:
        raise SetError("not_married", "this service has no identity set: marry the identities first "
                                      "(smspec smesher marry)")
    if names:
        identities = _names(smesher, names)
        record = _set_of(smesher, identities[0].key)
        if record is None:
            raise SetError("not_married", f"{identities[0].name} is not married: marry it first (smspec smesher marry)")
        keys = [node_id for _, node_id in record["members"]]
        for ident in identities:
            if ident.key not in keys:
                raise SetError("not_in_set", f"{ident.name} is not a member of {_describe(record)}")
        # the signer of a merged ATX is a member; the set's order is the marriage's
        identities = sorted(identities, key=lambda i: keys.index(i.key))
    else:
        if len(records) > 1:
            raise SetError("ambiguous", f"this service has {len(records)} identity sets: name the identities "
                                        "to merge (--identities)")
        record = records[0]
        identities = [smesher.by_key[node_id] for _, node_id in record["members"] if node_id in smesher.by_key]
    if not force:
        if record["merges"]:
            merged = ", ".join(name for name, _ in record["merges"][0]["members"])
            raise SetRefused("already_merged", f"{_describe(record)} is already merged ({merged}): a second merged "
                                               "ATX of one marriage in an epoch is a double merge (malfeasance)")
        if record["marriage_atx"] is not None:
            ours = _our_atx_ids(smesher)
            for _, node_id in record["members"]:
                latest = _ask(smesher, lambda c, k=node_id: c.last_atx(k))
                if latest is not None and latest["marriage_atx"] == record["marriage_atx"] and latest["id"] not in ours:
                    raise SetRefused("merged_elsewhere",
                                     f"the node holds merged ATX 0x{latest['id'].hex()[:16]}... of this marriage that "
                                     "this service did not sign: a second merged ATX in an epoch is a double merge "
                                     "(malfeasance)")
        _check_not_malicious(smesher, identities)
    smesher.store.add_merge(record["id"], [(i.name, i.key) for i in identities], force, time.time())
    first = None if record["marriage_epoch"] is None else record["marriage_epoch"] + smesher.m.atx.MARRIAGE_EPOCH_DISTANCE
    return {"set": record["id"], "signer": identities[0].name, "members": [i.name for i in identities],
            "forced": force, "from_epoch": first}


def status(smesher: Smesher) -> dict:
    """Each identity set: its members with their PoST data and newest ATX, the marriage, the
    merges and the next merged ATX (what ``smspec smesher sets`` prints)."""
    atx = smesher.m.atx
    info = None
    if smesher.nodes:
        try:
            info = smesher._ask(lambda c: c.info())
        except NodeUnavailable:
            info = None
    current_epoch = None if info is None else info["current_layer"] // info["layers_per_epoch"]

    def from_node(call: Any) -> Any:
        if info is None:
            return None
        try:
            return smesher._ask(call)
        except NodeUnavailable:
            return None

    labels_per_unit = smesher.m.post.LABELS_PER_UNIT
    out = []
    for record in smesher.store.identity_sets():
        members = []
        for name, node_id in record["members"]:
            ident = smesher.by_key.get(node_id)
            latest = from_node(lambda c, k=node_id: c.last_atx(k))
            members.append({
                "name": name, "node_id": "0x" + node_id.hex(),
                "post": None if ident is None else {"units": ident.units, "labels": ident.units * labels_per_unit,
                                                    "directory": ident.post_dir,
                                                    "commitment_atx": "0x" + ident.commitment_atx.hex()},
                "last_atx": None if latest is None else {"id": "0x" + latest["id"].hex(),
                                                         "publish_epoch": latest["publish_epoch"],
                                                         "weight": latest["weight"]},
                "malicious": from_node(lambda c, k=node_id: c.malicious(k))})
        marriage: dict[str, Any] = {"state": "recorded", "atx": None, "epoch": record["marriage_epoch"]}
        if record["marriage_atx"] is not None:
            marriage["atx"] = "0x" + record["marriage_atx"].hex()
            known = from_node(lambda c, a=record["marriage_atx"]: c.atx(a))
            marriage["state"] = "published" if known is not None else "signed"
        merges = [{"members": [name for name, _ in merge["members"]], "forced": merge["forced"]}
                  for merge in record["merges"]]
        next_merged = None
        if record["merges"]:
            group = record["merges"][0]["members"]
            signer = smesher.by_key.get(group[0][1])
            first = None
            if record["marriage_epoch"] is not None:
                first = record["marriage_epoch"] + atx.MARRIAGE_EPOCH_DISTANCE
            epoch = first
            if first is not None and current_epoch is not None:
                epoch = max(first, current_epoch + 1)
            signed = None
            if signer is not None and epoch is not None and info is not None:
                blobs = smesher.store.signed("atx", str(epoch), signer.key)
                signed = None if not blobs else "0x" + smesher.atx_id(blobs[0], epoch).hex()
            version = None if epoch is None or info is None else (3 if smesher.atx_v3(epoch) else 2)
            units = sum(smesher.by_key[k].units for _, k in group if k in smesher.by_key)
            next_merged = {"epoch": epoch, "signer": group[0][0], "members": [name for name, _ in group],
                           "declared_units": units, "version": version,
                           "proof": None if version is None else (
                               f"one best-labels proof over {len(group)} identities ({units * labels_per_unit} "
                               "labels)" if version == 3 else f"{len(group)} sub-posts (today's PoST each)"),
                           "signed": signed}
        out.append({"set": record["id"], "signer": record["members"][0][0], "forced": record["forced"],
                    "members": members, "marriage": marriage, "merges": merges, "next_merged_atx": next_merged})
    return {"current_epoch": current_epoch, "sets": out}
