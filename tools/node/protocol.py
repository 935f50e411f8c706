"""The devnet's protocol modules and its *Devnet rules*.

Every protocol rule the node applies comes from the spec documents (loaded here once, with the
impl backend's replacements when they exist). What the spec does not define is a *Devnet rule*:
each one is a small named function or constant below, listed in :data:`DEVNET_RULES` (printed by
``smspec devnet up`` and documented in ``docs/devnet.md``). Nothing else in the node decides a
protocol question.
"""

from __future__ import annotations

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
                   "is received before the next (barriers instead of a simulated clock; the PoET runs in the coordinator)"),
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
    "Block", "Certificate", "DEVNET_RULES", "Eligibility", "EpochData", "PoetProof", "Proposal", "Reward", "Tx",
    "WireHeader", "WireVotes", "decode", "encode", "modules",
]
