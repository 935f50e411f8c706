"""The devnet's protocol modules and its *Devnet rules*.

Every protocol rule the node applies comes from the spec documents (loaded here once, with the
impl backend's replacements when they exist); the node's own rules (wire formats, proposal
eligibility and validation, certificates, blocks, rewards, addresses) are spec/node.md's
(``smspec.spec.node``), re-exported here. :data:`DEVNET_RULES` lists every *Devnet rule* (printed
by ``smspec devnet up`` and documented in ``docs/devnet.md``). The *Configuration tier*
(``spec/presets/configurations.json``: genesis time, layer duration, network parameters, fork
epochs, and which preset's values the Hare, tortoise and PoST take) is read by
:func:`configuration`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
from smspec.spec import node as rules
from smspec.spec import scale as _scale
from smspec.spec.node import (
    BallotVrfMessage,
    Block,
    Certificate,
    Eligibility,
    EpochData,
    PoetProof,
    Proposal,
    Reward,
    Tx,
    WireHeader,
    WireVotes,
    ballot_vrf_alpha,
    beacon,
    block_id,
    eligible_layer,
    poet_ref,
    poet_work,
    proposal_id,
    proposal_slots,
    tx_id,
    weak_coin,
)

PRESET = "tiny"


def encode(value: Any, codec: Any) -> bytes:
    """SCALE encoding with the backend in force (scale.md `encode`, or its impl replacement)."""
    return _scale.encode(value, codec)


def decode(data: bytes, codec: Any) -> Any:
    """SCALE decoding with the backend in force (scale.md `decode`, or its impl replacement)."""
    return _scale.decode(data, codec)

# ---------------------------------------------------------------------------------------------
# Spec modules


class Modules:
    """The spec modules of one preset, with the chosen backend's replacements in force."""

    def __init__(self, preset: str = PRESET, backend: str = "impl") -> None:
        from smspec.impl.registry import use_backend
        from smspec.spec import load

        use_backend(backend)
        self.preset = preset
        self.backend = backend
        self.scale = load("scale", preset)
        self.crypto = load("crypto", preset)
        self.post = load("post", preset)
        self.atx = load("atx", preset)
        self.mal = load("malfeasance", preset)
        self.hare = load("hare", preset)
        self.tortoise = load("tortoise", preset)
        self.athena = load("athena", preset)
        self.post_best = load("post_best", preset)  # best-labels PoST (the ATX v3 of --post best)
        self.atx_best = load("atx_best", preset)

    def activate(self) -> None:
        """Make this backend the active one again (something else may have switched it)."""
        from smspec.impl.registry import active_backend, use_backend

        if active_backend() != self.backend:
            use_backend(self.backend)


_MODULES: dict[tuple[str, str], Modules] = {}


def modules(preset: str = PRESET, backend: str = "impl") -> Modules:
    key = (preset, backend)
    if key not in _MODULES:
        _MODULES[key] = Modules(preset, backend)
    _MODULES[key].activate()
    return _MODULES[key]


# ---------------------------------------------------------------------------------------------
# Devnet rules (everything the spec documents leave open). Each entry: (name, one-line summary).

DEVNET_RULES = (
    ("genesis", "genesis time and extra data are fixed by the devnet config; golden ATX and genesis ID follow crypto.md"),
    ("poet", "one embedded PoET per devnet: a round per publish epoch, leaves = registered challenges (sorted), "
             "statement = Merkle root, sequential work = POET_LEAVES chained BLAKE3 hashes, ref = hash of the proof"),
    ("poet-instant", "the PoET round of epoch e closes at the start of epoch e (no cycle gap); ATXs are published at once"),
    ("beacon", "epoch beacon = BLAKE3('smspec-devnet-beacon' | genesis ID | epoch)[:4] (the beacon protocol is not specified)"),
    ("weak-coin", "weak coin of layer L = low bit of BLAKE3('smspec-devnet-weakcoin' | beacon | L)"),
    ("proposal-eligibility", "slots per epoch = max(1, ceil(weight * LAYER_SIZE * L / total weight)); slot j is a VRF proof "
                             "over (3, beacon, epoch, ATX VRF nonce, j); its layer = first layer + LE64(proof[:8]) mod L"),
    ("active-set", "the active set of epoch e is every non-malicious ATX published in epoch e-1 that the node has validated"),
    ("merged-ballots", "a merged ATX's ballots are cast by its signer only, with the whole ATX weight"),
    ("wire-formats", "proposal (= ballot, one signed message, ID = proposal ID), block, Hare certificate, PoET proof and "
                     "transaction use devnet SCALE structs, not go-spacemesh's byte layout"),
    ("hare-sync", "Hare rounds run in lock step: every message of a round reaches every live node before the next round"),
    ("certificate", "a node that did not run the Hare for a layer adopts the block that certificates signed by more "
                    "than half of the epoch's weight name (certificates are single signatures, not aggregated)"),
    ("block", "block = proposals of the Hare output in ID order, their transactions deduplicated in that order, "
              "one reward entry per proposal; tick height = lowest tick height of the proposals' ATXs"),
    ("apply", "the node applies the valid block of each layer the tortoise has verified, in layer order; "
              "a change of an applied layer (revert) stops the node with an error"),
    ("rewards", "each applied block mints LAYER_REWARD, split by ATX weight over its reward entries (floor; "
                "the remainder goes to the first entry), credited to the ATX coinbase"),
    ("transactions", "a transaction is (principal, nonce, method, args, signature); methods spawn, spend, proxy and "
                     "deploy run the wallet template's athexp_spawn, athexp_spend, athexp_proxy, athexp_deploy with "
                     "args as their SCALE arguments; the node authenticates the envelope signature by running the "
                     "wallet's own athexp_verify (ed25519 precompile) and checks the account nonce (the wallet "
                     "template has no nonce); deployed templates are part of the state; no gas fees"),
    ("failed-tx", "a transaction whose VM call fails is rolled back but its nonce is consumed"),
    ("state-root", "state root = Merkle root (crypto.md) over the accounts sorted by address, one leaf per account: "
                   "BLAKE3(address | balance | nonce | template | BLAKE3(state) | storage digest), then one leaf per "
                   "template deployed by a transaction, sorted by address: BLAKE3(address | BLAKE3(code))"),
    ("ballot-malfeasance", "two different proposals of one smesher in one layer mark it malicious; the node keeps "
                           "and gossips a DoubleProposalProof of the two (spec/node.md)"),
    ("sync", "a node that was down or cut off catches up by set reconciliation (spec/sync.md) of its PoET proofs, "
             "ATXs per epoch, malfeasance proofs, transactions, and proposals and certificates per layer with "
             "its peers, each new ID's object fetched and validated by its handlers, then finishes the layers it "
             "missed"),
    ("tcp-phases", "with --tcp, a coordinator runs the layer schedule on node and smeshing-service processes: after "
                   "each duty that gossips it waits until every node handled every frame (barriers instead of a "
                   "simulated clock; the PoET runs in the coordinator), so every node receives every object in the "
                   "in-process devnet's order (base ballots are picked in arrival order)"),
    ("node-split", "nodes hold public data only; smeshing services hold the keys and PoST data, take partial proposals, "
                   "Hare round templates and certificate templates from their node, sign, and publish through it; "
                   "the node validates what is published and gossips it when valid"),
    ("devnet-keys", "identity keys (one 0600 file each, in the smeshing services' directories) and the users' wallet "
                    "keys (users.keys.json, 0600) are generated at creation from the system's randomness, or derived "
                    "from --key-seed (public) for reproducible runs"),
    ("poet-forwarding", "smeshing services hand their NIPoST challenges to the coordinator, which registers them at "
                        "the embedded PoET and hands each service the round's proof and leaves"),
    ("post-memo", "in-process nodes share a memo of successful PoST verifications (and of PoST proofs) keyed by "
                  "all their inputs (--no-post-memo: every node verifies every PoST itself)"),
    ("verify-memo", "in-process nodes share their successful checks of gossip, each keyed by all its inputs: one "
                    "Hare active set object per equal beacon and weights (so the memo of Hare eligibility grades "
                    "serves every node), proposal and certificate validations, and the decoding of gossip (one "
                    "frozen object per message's bytes, with its proposal or block ID; --no-verify-memo: every node "
                    "decodes and checks every ballot, certificate and Hare eligibility proof itself)"),
    ("clocked-phases", "self-clocked processes (node run, smesher run without a coordinator) run the layer "
                       "schedule's duties at fixed fractions of the layer duration: proposals at 2 %, the Hare from "
                       "20 % (preround) to 80 % in 20 rounds of 3 % each, ATXs published at 82 %; a layer ends when "
                       "the next starts; a service registers at the PoET from 3 layers before the epoch"),
    ("poet-server", "a self-clocked network's PoET is a service of its own (smspec poet run): it takes challenges "
                    "for the round of publish epoch e until epoch e starts (rule poet-instant), then serves the "
                    "round's proof and members; the services register there themselves"),
    ("peer-gossip", "a self-clocked node passes on to its other peers every object it accepted as new (so peers "
                    "need not form a full mesh); a copy it already handled is dropped unchecked"),
)


GAS_LIMIT = 10_000_000
MAX_TXS_PER_PROPOSAL = rules.MAX_TXS_PER_PROPOSAL
METHOD_SPAWN = rules.METHOD_SPAWN
METHOD_SPEND = rules.METHOD_SPEND
METHOD_PROXY = rules.METHOD_PROXY
METHOD_DEPLOY = rules.METHOD_DEPLOY
MAX_TX_ARGS = rules.MAX_TX_ARGS
EMPTY_ID20 = rules.EMPTY_BLOCK_ID
EMPTY_ID32 = bytes(32)


# ---------------------------------------------------------------------------------------------
# The Configuration tier (consensus-specs keeps Constants, Preset and Configuration apart)

CONFIGURATIONS_PATH = Path(__file__).resolve().parents[2] / "spec" / "presets" / "configurations.json"


def _configurations() -> dict:
    from smspec import spec

    path = spec.SPEC_DIR / "presets" / "configurations.json"
    with open(path if path.exists() else CONFIGURATIONS_PATH, encoding="utf-8") as f:
        return json.load(f)


GENESIS_CONFIGS = ("tiny", "testnet-like")
DEFAULT_GENESIS = "tiny"

# Rule "testnet-like": the testnet parameters a devnet cannot afford: (parameter, testnet value,
# devnet value, why).
TESTNET_LIKE_DEVIATIONS = (
    ("LAYERS_PER_EPOCH", "288", "4", "the tortoise's effective genesis is the last layer of epoch 1: "
     "first ballots at layer 576 instead of 8, and 288 layers per ATX phase"),
    ("post SCRYPT_N", "8192", "16", "labels cost 512 times more: initializing the identities' data "
     "would take minutes in Python"),
    ("post PROVING_NONCES", "288", "16", "a prover option, not checked by verifiers: each group of 16 nonces "
     "costs one RandomX k2pow hash, so 288 nonces cost 18 per proof"),
    ("hare PREROUND_DELAY_MS / ROUND_DURATION_MS", "25000 / 12000", "not used",
     "rounds run in lock step (rule hare-sync), not on a clock"),
    ("PoET (phase shift, cycle gap, tick size)", "a real PoET", "1000 leaves, tick 100",
     "rules poet and poet-instant (PoET is not specified in spec/)"),
    ("layer reward", "go-spacemesh issuance schedule", "1,000,000",
     "rule rewards (issuance is not specified in spec/)"),
)

TESTNET_LIKE_RULE = (
    "testnet-like", "--genesis testnet-like: the spec's testnet preset values (Hare committee, leaders, iterations; "
                    "tortoise hdist, zdist, windows, max exceptions, bad-beacon delay; PoST K1, K2, K3, units, labels "
                    "per unit, PoW difficulty; layer size) passed as parameters to the tiny spec modules, except: "
                    + "; ".join(f"{name} {testnet} -> {used}" for name, testnet, used, _ in TESTNET_LIKE_DEVIATIONS),
)


POST_BEST_RULE = (
    "post-best", "--post best: every ATX from epoch 1 is version 3 (spec/atx_best.md, smspec's proposal): one "
                 "best-labels PoST per identity set (K = 16 of the tiny preset), its set registered once at the PoET; "
                 "each node checks POST_BEST_K3 = 4 entries chosen with a seed of its own; the weight is the capped "
                 "estimate x ticks / LABELS_PER_UNIT, printed per epoch next to the declared storage")


def devnet_rules(genesis_config: str = "tiny", post: str = "today") -> tuple:
    """The devnet rules in force for a genesis configuration and PoST (name, one-line summary)."""
    return (DEVNET_RULES + ((TESTNET_LIKE_RULE,) if genesis_config == "testnet-like" else ())
            + ((POST_BEST_RULE,) if post == "best" else ()))


_TORTOISE_FIELDS = ("hdist", "zdist", "window_size", "historical_window_end", "historical_window_size",
                    "max_exceptions", "bad_beacon_vote_delay_layers")


@attrs.frozen
class GenesisParams:
    """A configuration of the Configuration tier, resolved for the modules that run (the tiny
    preset's): the network parameters and the preset whose values the Hare, the tortoise and PoST
    take. Functions of that preset's documents (the Hare committee and threshold) are called on
    that preset's module: no rule is copied here."""

    name: str
    genesis_time: int
    extra_data: str
    hrp: str
    layer_duration_seconds: float
    fork_epochs: dict
    layers_per_epoch: int
    layer_size: int  # proposal eligibility (rule "proposal-eligibility")
    layer_reward: int
    genesis_balance: int
    poet_leaves: int
    tick_size: int
    tortoise: dict  # TortoiseConfig fields other than layers_per_epoch
    post: Any  # the running post module's PostConfig
    proving_nonces: int
    max_file_size: int
    hare_module: Any = attrs.field(eq=False, repr=False)  # the hare document of the parameters' preset
    hare_leaders: int
    hare_iterations: int

    def tortoise_config(self, tortoise: Any) -> Any:
        return attrs.evolve(tortoise.TortoiseConfig(), layers_per_epoch=self.layers_per_epoch, **self.tortoise)

    def committee(self, hare: Any, layer: int) -> int:
        """The Hare committee of a layer (hare.md `committee_for` of the parameters' preset)."""
        return self.hare_module.committee_for(layer)

    def threshold(self, hare: Any, layer: int) -> int:
        """The Hare threshold of a layer (hare.md `threshold_for` of the parameters' preset)."""
        return self.hare_module.threshold_for(layer)


def genesis_params(name: str, m: Any) -> GenesisParams:
    """The Configuration tier's configuration `name` ("tiny" or "testnet-like") for modules `m`
    (the tiny preset's spec modules)."""
    from smspec.spec import load

    configurations = _configurations()
    if name not in configurations:
        raise ValueError(f"unknown genesis configuration {name!r} (expected one of {', '.join(GENESIS_CONFIGS)})")
    config = configurations[name]
    source = config["parameters"]
    running_preset = config["modules"]
    if running_preset != m.preset:
        raise ValueError(f"configuration {name} runs the {running_preset} modules, not {m.preset}")

    def module(document: str) -> Any:
        return getattr(m, document) if source[document] == running_preset else load(document, source[document])

    hare, tortoise, post = module("hare"), module("tortoise"), module("post")
    if post is m.post:
        post_config = post.preset_config()
        max_file_size = post.MAX_FILE_SIZE
    else:
        # the running module's PostConfig holding the other preset's values (rule testnet-like: scrypt N)
        post_config = m.post.PostConfig(**{**attrs.asdict(post.preset_config()), "scrypt_n": m.post.SCRYPT_N})
        max_file_size = post.MAX_FILE_SIZE
    testnet_tortoise = tortoise.TortoiseConfig()
    network = config["network"]
    layer_size = network["layer_size"]
    if isinstance(layer_size, str):
        layer_size = load("tortoise", layer_size).LAYER_SIZE
    return GenesisParams(
        name=name, genesis_time=config["genesis_time"], extra_data=config["extra_data"], hrp=config["hrp"],
        layer_duration_seconds=config["layer_duration_seconds"], fork_epochs=dict(config["fork_epochs"]),
        layers_per_epoch=m.tortoise.LAYERS_PER_EPOCH,  # rule testnet-like: the running modules' 4
        layer_size=layer_size, layer_reward=network["layer_reward"], genesis_balance=network["genesis_balance"],
        poet_leaves=network["poet_leaves"], tick_size=network["tick_size"],
        tortoise={} if tortoise is m.tortoise else {f: getattr(testnet_tortoise, f) for f in _TORTOISE_FIELDS},
        post=post_config, proving_nonces=m.post.PROVING_NONCES, max_file_size=max_file_size,
        hare_module=hare, hare_leaders=hare.LEADERS, hare_iterations=hare.ITERATIONS_LIMIT)


# compatibility names (the devnet's defaults are the tiny configuration's)
GENESIS_TIME = 1_700_000_000
EXTRA_DATA = "smspec-devnet"
POET_LEAVES = 1000
TICK_SIZE = 100
LAYER_SIZE = 10
LAYER_REWARD = 1_000_000
GENESIS_BALANCE = 10**12


def unsigned_bytes(value: object, codec: object) -> bytes:
    """The encoding of a signed struct without its trailing 64-byte signature."""
    return rules.unsigned_bytes(encode(value, codec))


def split_rewards(rewards: list, amount: int = LAYER_REWARD) -> list[tuple[bytes, int]]:
    """Rule "rewards" (spec/node.md `split_rewards`)."""
    return rules.split_rewards(rewards, amount)


__all__ = [
    "Block", "BallotVrfMessage", "Certificate", "DEVNET_RULES", "GENESIS_CONFIGS", "GenesisParams", "Eligibility",
    "EpochData", "PoetProof", "Proposal", "Reward", "Tx", "WireHeader", "WireVotes", "ballot_vrf_alpha", "beacon",
    "block_id", "decode", "eligible_layer", "encode", "genesis_params", "modules", "poet_ref", "poet_work",
    "proposal_id", "proposal_slots", "rules", "tx_id", "weak_coin",
]
