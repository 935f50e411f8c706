"""The devnet's protocol modules and its *Devnet rules*.

Every protocol rule the node applies comes from the spec documents (loaded here once, with the
impl backend's replacements when they exist). What the spec does not define is a *Devnet rule*:
each one is a small named function or constant below, listed in :data:`DEVNET_RULES` (printed by
``smspec devnet up`` and documented in ``docs/devnet.md``). Nothing else in the node decides a
protocol question.
"""

from __future__ import annotations

from typing import Any

import attrs
from smspec.spec.scale import (
    Bytes,
    ByteSlice,
    Compact8,
    Compact16,
    Compact32,
    Compact64,
    Option,
    Slice,
    decode,
    encode,
    scale_field,
)

PRESET = "tiny"

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
    ("transactions", "a transaction is (principal, nonce, method, args, signature); the node checks an ed25519 "
                     "envelope signature by the wallet owner and the account nonce (the wallet template has no nonce); "
                     "spawn runs the template's athexp_spawn, spend its athexp_spend; no gas fees"),
    ("failed-tx", "a transaction whose VM call fails is rolled back but its nonce is consumed"),
    ("state-root", "state root = Merkle root (crypto.md) over the accounts sorted by address, one leaf per account: "
                   "BLAKE3(address | balance | nonce | template | BLAKE3(state) | storage digest)"),
    ("ballot-malfeasance", "two different proposals of one smesher in one layer mark it malicious (no wire proof)"),
    ("sync", "a restarted node catches up by feeding a peer's stored objects through its own gossip handlers"),
    ("tcp-phases", "with --tcp, a coordinator paces the layers: every node runs a phase, then all gossip of the phase "
                   "is received before the next (barriers instead of a simulated clock; the PoET runs in the coordinator); "
                   "a phase that gossips runs node by node in index order with a barrier after each node, so every node "
                   "receives every object in the in-process devnet's order (base ballots are picked in arrival order)"),
    ("post-memo", "in-process nodes share a memo of successful PoST verifications (and of PoST proofs) keyed by "
                  "all their inputs (--no-post-memo: every node verifies every PoST itself)"),
)

GENESIS_TIME = 1_700_000_000
EXTRA_DATA = "smspec-devnet"
POET_LEAVES = 1000  # sequential work steps of one PoET round
TICK_SIZE = 100  # PoET leaves per tick: an ATX over one PoET round has 10 ticks
LAYER_SIZE = 10  # expected ballots per layer (proposal eligibility)
LAYER_REWARD = 1_000_000
GENESIS_BALANCE = 10**12
GAS_LIMIT = 10_000_000
MAX_TXS_PER_PROPOSAL = 32
ELIGIBILITY_VOTING = 3
EMPTY_ID20 = bytes(20)
EMPTY_ID32 = bytes(32)


# ---------------------------------------------------------------------------------------------
# Genesis configurations (rule "testnet-like")

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
    ("PoET (phase shift, cycle gap, tick size)", "a real PoET", f"{POET_LEAVES} leaves, tick {TICK_SIZE}",
     "rules poet and poet-instant (PoET is not specified in spec/)"),
    ("layer reward", "go-spacemesh issuance schedule", f"{LAYER_REWARD:,}",
     "rule rewards (issuance is not specified in spec/)"),
)

TESTNET_LIKE_RULE = (
    "testnet-like", "--genesis testnet-like: the spec's testnet preset values (Hare committee, leaders, iterations; "
                    "tortoise hdist, zdist, windows, max exceptions, bad-beacon delay; PoST K1, K2, K3, units, labels "
                    "per unit, PoW difficulty; layer size) passed as parameters to the tiny spec modules, except: "
                    + "; ".join(f"{name} {testnet} -> {used}" for name, testnet, used, _ in TESTNET_LIKE_DEVIATIONS),
)


def devnet_rules(genesis_config: str = "tiny") -> tuple:
    """The devnet rules in force for a genesis configuration (name, one-line summary)."""
    return DEVNET_RULES + ((TESTNET_LIKE_RULE,) if genesis_config == "testnet-like" else ())


GENESIS_CONFIGS = ("tiny", "testnet-like")
DEFAULT_GENESIS = "tiny"


@attrs.frozen
class GenesisParams:
    """The protocol parameters a genesis configuration puts in force (on the tiny spec modules)."""

    name: str
    layers_per_epoch: int
    layer_size: int  # proposal eligibility (rule "proposal-eligibility")
    tortoise: dict  # TortoiseConfig fields other than layers_per_epoch
    post: Any  # the spec's PostConfig
    proving_nonces: int
    max_file_size: int
    hare_committee: int | None  # None: the hare module's committee_for(layer)
    hare_leaders: int
    hare_iterations: int

    def tortoise_config(self, tortoise: Any) -> Any:
        return attrs.evolve(tortoise.TortoiseConfig(), layers_per_epoch=self.layers_per_epoch, **self.tortoise)

    def committee(self, hare: Any, layer: int) -> int:
        return hare.committee_for(layer) if self.hare_committee is None else self.hare_committee

    def threshold(self, hare: Any, layer: int) -> int:
        """The Hare threshold `committee // 2 + 1` (hare.md `threshold_for`) of this committee."""
        if self.hare_committee is None:
            return hare.threshold_for(layer)
        return self.hare_committee // 2 + 1


_TORTOISE_FIELDS = ("hdist", "zdist", "window_size", "historical_window_end", "historical_window_size",
                    "max_exceptions", "bad_beacon_vote_delay_layers")


def genesis_params(name: str, m: Any) -> GenesisParams:
    """The parameters of genesis configuration `name` ("tiny" or "testnet-like") for modules `m`
    (the tiny preset's spec modules)."""
    if name == "tiny":
        post = m.post
        return GenesisParams(name=name, layers_per_epoch=m.tortoise.LAYERS_PER_EPOCH, layer_size=LAYER_SIZE,
                             tortoise={}, post=post.preset_config(), proving_nonces=post.PROVING_NONCES,
                             max_file_size=post.MAX_FILE_SIZE, hare_committee=None, hare_leaders=m.hare.LEADERS,
                             hare_iterations=m.hare.ITERATIONS_LIMIT)
    if name != "testnet-like":
        raise ValueError(f"unknown genesis configuration {name!r} (expected one of {', '.join(GENESIS_CONFIGS)})")
    from smspec.spec import load

    # the testnet preset's values, read from the spec documents compiled for that preset (only
    # their constants are used: every function that runs is the tiny modules' own, given these
    # values through its parameters)
    hare, tortoise, post = (load(module, "testnet") for module in ("hare", "tortoise", "post"))
    if hare.COMMITTEE_UPGRADE_LAYER is not None:
        raise ValueError("the testnet preset's Hare committee changes at a layer; testnet-like expects one committee")
    testnet_tortoise = tortoise.TortoiseConfig()
    return GenesisParams(
        name=name,
        layers_per_epoch=m.tortoise.LAYERS_PER_EPOCH,  # rule testnet-like: 4, not 288
        layer_size=tortoise.LAYER_SIZE,
        tortoise={f: getattr(testnet_tortoise, f) for f in _TORTOISE_FIELDS},
        # the tiny module's PostConfig holding the testnet values (rule testnet-like: scrypt N)
        post=m.post.PostConfig(**{**attrs.asdict(post.preset_config()), "scrypt_n": m.post.SCRYPT_N}),
        proving_nonces=m.post.PROVING_NONCES,  # rule testnet-like
        max_file_size=post.MAX_FILE_SIZE,
        hare_committee=hare.COMMITTEE,
        hare_leaders=hare.LEADERS,
        hare_iterations=hare.ITERATIONS_LIMIT,
    )


# ---------------------------------------------------------------------------------------------
# Wire types (rule "wire-formats")

@attrs.frozen
class WireHeader:
    id: bytes = scale_field(Bytes(20))
    layer: int = scale_field(Compact32)
    height: int = scale_field(Compact64)


@attrs.frozen
class WireVotes:
    base: bytes = scale_field(Bytes(20))
    support: list = scale_field(Slice(WireHeader, 10000))
    against: list = scale_field(Slice(WireHeader, 10000))
    abstain: list = scale_field(Slice(Compact32, 10000))


@attrs.frozen
class EpochData:
    beacon: bytes = scale_field(Bytes(4))
    eligibilities: int = scale_field(Compact32)


@attrs.frozen
class Eligibility:
    counter: int = scale_field(Compact32)
    proof: bytes = scale_field(Bytes(80))


@attrs.frozen
class Proposal:
    layer: int = scale_field(Compact32)
    atx_id: bytes = scale_field(Bytes(32))
    epoch_data: EpochData | None = scale_field(Option(EpochData))
    ref: bytes | None = scale_field(Option(Bytes(20)))
    opinion: bytes = scale_field(Bytes(32))
    votes: WireVotes = scale_field(WireVotes)
    eligibilities: list = scale_field(Slice(Eligibility, 1000))
    tx_ids: list = scale_field(Slice(Bytes(32), 1000))
    smesher: bytes = scale_field(Bytes(32))
    signature: bytes = scale_field(Bytes(64))


@attrs.frozen
class Reward:
    coinbase: bytes = scale_field(Bytes(24))
    atx_id: bytes = scale_field(Bytes(32))
    weight: int = scale_field(Compact64)


@attrs.frozen
class Block:
    layer: int = scale_field(Compact32)
    tick_height: int = scale_field(Compact64)
    proposals: list = scale_field(Slice(Bytes(20), 2350))
    tx_ids: list = scale_field(Slice(Bytes(32), 100000))
    rewards: list = scale_field(Slice(Reward, 2350))


@attrs.frozen
class Certificate:
    layer: int = scale_field(Compact32)
    block_id: bytes = scale_field(Bytes(20))
    block: Block | None = scale_field(Option(Block))
    signer: bytes = scale_field(Bytes(32))
    signature: bytes = scale_field(Bytes(64))


@attrs.frozen
class PoetProof:
    epoch: int = scale_field(Compact32)
    statement: bytes = scale_field(Bytes(32))
    leaf_count: int = scale_field(Compact64)
    final: bytes = scale_field(Bytes(32))


@attrs.frozen
class Tx:
    principal: bytes = scale_field(Bytes(24))
    nonce: int = scale_field(Compact64)
    method: int = scale_field(Compact8)
    args: bytes = scale_field(ByteSlice(1024))
    signature: bytes = scale_field(Bytes(64))


@attrs.frozen
class BallotVrfMessage:
    eligibility_type: int = scale_field(Compact16)
    beacon: bytes = scale_field(Bytes(4))
    epoch: int = scale_field(Compact32)
    nonce: int = scale_field(Compact64)
    counter: int = scale_field(Compact32)


METHOD_SPAWN = 0
METHOD_SPEND = 1


def unsigned_bytes(value: object, codec: object) -> bytes:
    """The encoding of a signed struct without its trailing 64-byte signature."""
    return encode(value, codec)[:-64]


def proposal_id(proposal: Proposal) -> bytes:
    from smspec.spec.crypto import hash32

    return hash32(unsigned_bytes(proposal, Proposal))[:20]


def block_id(block: Block) -> bytes:
    from smspec.spec.crypto import hash32

    return hash32(encode(block, Block))[:20]


def tx_id(tx: Tx) -> bytes:
    from smspec.spec.crypto import hash32

    return hash32(encode(tx, Tx))


def poet_ref(proof: PoetProof) -> bytes:
    from smspec.spec.crypto import hash32

    return hash32(b"smspec-devnet-poet", encode(proof, PoetProof))


def poet_work(statement: bytes, leaf_count: int) -> bytes:
    """Rule "poet": the sequential work, `leaf_count` chained BLAKE3 hashes from the statement."""
    from smspec.spec.crypto import hash32

    value = hash32(b"smspec-devnet-poet-work", statement)
    for _ in range(leaf_count):
        value = hash32(value)
    return value


def beacon(genesis_id: bytes, epoch: int) -> bytes:
    """Rule "beacon"."""
    from smspec.spec.crypto import hash32

    return hash32(b"smspec-devnet-beacon", genesis_id, epoch.to_bytes(4, "little"))[:4]


def weak_coin(epoch_beacon: bytes, layer: int) -> bool:
    """Rule "weak-coin"."""
    from smspec.spec.crypto import hash32

    return hash32(b"smspec-devnet-weakcoin", epoch_beacon, layer.to_bytes(4, "little"))[0] & 1 == 1


def proposal_slots(weight: int, total_weight: int, layers_per_epoch: int, layer_size: int = LAYER_SIZE) -> int:
    """Rule "proposal-eligibility": eligibility slots of an ATX in its target epoch."""
    if total_weight == 0:
        return 0
    numerator = weight * layer_size * layers_per_epoch
    return max(1, (numerator + total_weight - 1) // total_weight)


def ballot_vrf_alpha(epoch_beacon: bytes, epoch: int, nonce: int, counter: int) -> bytes:
    message = BallotVrfMessage(ELIGIBILITY_VOTING, epoch_beacon, epoch, nonce % 2**64, counter)
    return encode(message, BallotVrfMessage)


def eligible_layer(epoch: int, layers_per_epoch: int, proof: bytes) -> int:
    return epoch * layers_per_epoch + int.from_bytes(proof[:8], "little") % layers_per_epoch


def split_rewards(rewards: list, amount: int = LAYER_REWARD) -> list[tuple[bytes, int]]:
    """Rule "rewards": (coinbase, amount) per reward entry."""
    total = sum(r.weight for r in rewards)
    if total == 0:
        return []
    paid = [(r.coinbase, amount * r.weight // total) for r in rewards]
    remainder = amount - sum(p for _, p in paid)
    coinbase, first = paid[0]
    paid[0] = (coinbase, first + remainder)
    return paid


__all__ = [
    "Block", "Certificate", "DEVNET_RULES", "GENESIS_CONFIGS", "GenesisParams", "Eligibility", "EpochData", "PoetProof", "Proposal", "Reward", "Tx",
    "WireHeader", "WireVotes", "decode", "encode", "genesis_params", "modules",
]
