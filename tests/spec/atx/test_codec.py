"""ATX v2 / v1 wire format: a hand-assembled encoding, round trips, leniencies, rejections, versions."""

from __future__ import annotations

import attrs
import pytest
from smspec.conformance.cases import Case, vector_source
from smspec.conformance.jsonio import value_from_jsonable, value_to_jsonable
from smspec.spec.errors import InvalidEncoding
from smspec.tests.spec.atx.builders import Member, World, atx, married_pair, scale
from smspec.tests.spec.atx.test_ids import scenario

POS = bytes([0xAA]) * 32
PREV = bytes([0xBB]) * 32
CHALLENGE = bytes([0xCC]) * 32
SMESHER = bytes([0xDD]) * 32
SIGNATURE = bytes([0xEE]) * 64
COINBASE = bytes([0x11]) * 24


def hand_encoded_solo() -> bytes:
    """A solo ATX v2 assembled byte by byte from the layout of GS wire_v2.go (not via scale.md)."""
    return b"".join([
        bytes([5 << 2]),  # PublishEpoch 5, compact32
        POS,
        COINBASE,
        b"\x00",  # Initial: absent
        bytes([1 << 2]), PREV,  # PreviousATXs: 1 entry
        bytes([1 << 2]),  # NiPosts: 1
        bytes([1 << 2]), bytes([0x01]) * 32,  # Membership.Nodes: 1 node
        CHALLENGE,
        bytes([1 << 2]),  # Posts: 1
        b"\x00", b"\x00",  # MarriageIndex 0, PrevATXIndex 0
        bytes([3 << 2]),  # MembershipLeafIndex 3
        bytes([9 << 2]), bytes([2 << 2]), b"\x01\x02", bytes([0x01, 0x01]),  # Post: nonce 9, indices 0102, pow 64
        bytes([16 << 2]),  # NumUnits 16
        bytes.fromhex("0300000040"),  # VRFNonce 2^30 (big-integer mode)
        b"\x00",  # Marriages: none
        b"\x00",  # MarriageATX: absent
        SMESHER,
        SIGNATURE,
    ])


def hand_decoded_solo():
    sub = atx.SubPostV2(0, 0, 3, atx.PostV1(9, b"\x01\x02", 64), 16)
    nipost = atx.NiPostV2(atx.MerkleProofV2([bytes([0x01]) * 32]), CHALLENGE, [sub])
    return atx.ActivationTxV2(5, POS, COINBASE, None, [PREV], [nipost], 2**30, [], None, SMESHER, SIGNATURE)


def test_hand_encoded_solo_decodes_field_by_field():
    assert atx.decode_atx_v2(hand_encoded_solo()) == hand_decoded_solo()
    assert scale.encode(hand_decoded_solo(), atx.ActivationTxV2) == hand_encoded_solo()


def test_round_trips_of_every_kind():
    for scheme in (atx.IdScheme.A, atx.IdScheme.B):
        for kind, value in scenario(scheme).items():
            blob = scale.encode(value, atx.ActivationTxV2)
            assert atx.decode_atx_v2(blob) == value, kind
            data = value_to_jsonable(value, atx.ActivationTxV2)
            assert value_from_jsonable(data, atx.ActivationTxV2) == value, kind


def mutate(blob: bytes, offset: int, byte: int) -> bytes:
    return blob[:offset] + bytes([byte]) + blob[offset + 1:]


INITIAL_TAG = 1 + 32 + 24  # offset of the Initial option tag in hand_encoded_solo


@vector_source("atx", "codec", "decode_v2")
def test_decode_vectors():
    blob = hand_encoded_solo()
    yield Case("hand_assembled_solo", inputs={"blob": blob},
               expected={"atx": value_to_jsonable(hand_decoded_solo(), atx.ActivationTxV2), "reencoded": blob},
               spec_ref="atx.md#activationtxv2", description="a solo ATX v2 assembled byte by byte from the wire layout (GS wire_v2.go field order)")
    for kind, value in scenario(atx.IdScheme.A).items():
        encoded = scale.encode(value, atx.ActivationTxV2)
        yield Case(f"round_trip_{kind}", inputs={"blob": encoded},
                   expected={"atx": value_to_jsonable(value, atx.ActivationTxV2), "reencoded": encoded},
                   spec_ref="atx.md#activationtxv2",
                   description=f"the {kind} ATX of the validation scenario decodes and re-encodes to the same bytes")
    # go-scale leniency: an option tag other than 01 reads as absent; the re-encoding differs.
    lenient = mutate(blob, INITIAL_TAG, 0x02)
    yield Case("option_tag_02_reads_absent", inputs={"blob": lenient},
               expected={"atx": value_to_jsonable(hand_decoded_solo(), atx.ActivationTxV2), "reencoded": blob},
               spec_ref="atx.md#atx_id_v2", description="go-scale leniency: the Initial option tag 02 reads as absent; the re-encoding writes 00")
    yield Case("trailing_byte", inputs={"blob": blob + b"\x00"}, error="InvalidEncoding", reason="trailing_bytes", description="the hand-assembled ATX with one byte appended", spec_ref="atx.md#encode_atx_v2-decode_atx_v2-decode_atx_v1-decode_atx")
    yield Case("truncated", inputs={"blob": blob[:-1]}, error="InvalidEncoding", reason="short_input", description="the hand-assembled ATX without its last byte", spec_ref="atx.md#encode_atx_v2-decode_atx_v2-decode_atx_v1-decode_atx")
    yield Case("empty", inputs={"blob": b""}, error="InvalidEncoding", reason="short_input", description="no bytes at all", spec_ref="atx.md#encode_atx_v2-decode_atx_v2-decode_atx_v1-decode_atx")
    # NiPosts count 5 > max 4
    too_many = blob[:INITIAL_TAG + 1 + 1 + 32] + bytes([5 << 2]) + blob[INITIAL_TAG + 1 + 1 + 32 + 1:]
    yield Case("five_niposts", inputs={"blob": too_many}, error="InvalidEncoding", reason="length_over_max", description="a NiPosts count of 5 above the maximum of 4 is rejected before the elements are read", spec_ref="atx.md#activationtxv2")
    # PublishEpoch 5 written in the two-byte mode: non-canonical compact
    yield Case("non_canonical_epoch", inputs={"blob": bytes([(5 << 2) | 1, 0]) + blob[1:]},
               error="InvalidEncoding", reason="non_canonical_compact", description="PublishEpoch 5 written in the two-byte compact mode", spec_ref="atx.md#activationtxv2")


@vector_source("atx", "codec", "encode_v2")
def test_encode_vectors():
    yield Case("hand_assembled_solo", inputs={"atx": value_to_jsonable(hand_decoded_solo(), atx.ActivationTxV2)},
               expected={"blob": hand_encoded_solo()}, spec_ref="atx.md#activationtxv2", description="a solo ATX v2 assembled byte by byte from the wire layout (GS wire_v2.go field order)")


def test_option_tag_leniency_keeps_the_id():
    lenient = mutate(hand_encoded_solo(), INITIAL_TAG, 0x02)
    for scheme in (atx.IdScheme.A, atx.IdScheme.B):
        assert atx.atx_id_v2(atx.decode_atx_v2(lenient), scheme) == atx.atx_id_v2(hand_decoded_solo(), scheme)


def test_decode_errors_are_invalid_encoding():
    with pytest.raises(InvalidEncoding):
        atx.decode_atx_v2(hand_encoded_solo()[:40])


def v1_atx(epoch: int = 3, initial: bool = True):
    post = atx.PostV1(1, b"\x05\x06", 7)
    challenge = atx.NIPostChallengeV1(
        epoch, 0, bytes(32), POS, bytes([0x42]) * 32 if initial else None, post if initial else None
    )
    nipost = atx.NIPostV1(atx.MerkleProofV1([CHALLENGE], 2), post, atx.PostMetadataV1(CHALLENGE, 1024))
    inner = atx.InnerActivationTxV1(challenge, COINBASE, 4, nipost, SMESHER if initial else None, 77)
    return atx.ActivationTxV1(inner, SMESHER, SIGNATURE)


@vector_source("atx", "id", "v1")
def test_v1_vectors():
    import blake3

    value = v1_atx()
    blob = scale.encode(value, atx.ActivationTxV1)
    inner = scale.encode(value.inner, atx.InnerActivationTxV1)
    # ID = blake3(SCALE(inner)); the inner bytes are the blob without SmesherID and Signature.
    assert blob[: len(inner)] == inner and len(blob) == len(inner) + 96
    expected_id = blake3.blake3(inner).digest()
    yield Case("initial_v1", inputs={"blob": blob},
               expected={"id": expected_id, "signed_bytes": bytes([3 << 2]) + expected_id},
               spec_ref="atx.md#atx_id_v1-signed_bytes_v1", description="an initial ATX v1: ID = blake3(SCALE(InnerActivationTxV1)); signed bytes = compact(publish epoch) || ID")
    yield Case("trailing", inputs={"blob": blob + b"\x00"}, error="InvalidEncoding", reason="trailing_bytes", description="an ATX v1 with one byte appended", spec_ref="atx.md#encode_atx_v2-decode_atx_v2-decode_atx_v1-decode_atx")


def version_config(versions):
    world = World()
    config = attrs.evolve(world.config, atx_versions=tuple(versions))
    from smspec.conformance.handlers.atx import config_json

    return config_json(config)


@vector_source("atx", "codec", "version")
def test_version_vectors():
    v2 = hand_encoded_solo()  # publish epoch 5
    v1 = scale.encode(v1_atx(epoch=5), atx.ActivationTxV1)
    yield Case("mainnet_no_versions_is_v1", inputs={"blob": v1, "config": version_config([])},
               expected={"version": 1, "decoded_as": "ActivationTxV1"}, spec_ref="atx.md#atx_version", description="without a version table every ATX is decoded as v1")
    yield Case("v2_from_epoch_5", inputs={"blob": v2, "config": version_config([[5, 2]])},
               expected={"version": 2, "decoded_as": "ActivationTxV2"}, description="table [[5, 2]]: a blob published in epoch 5 is v2", spec_ref="atx.md#atx_version")
    yield Case("v2_from_epoch_6", inputs={"blob": v1, "config": version_config([[6, 2]])},
               expected={"version": 1, "decoded_as": "ActivationTxV1"}, description="table [[6, 2]]: a blob published in epoch 5 is still v1", spec_ref="atx.md#atx_version")
    yield Case("v2_blob_before_switch_fails_as_v1", inputs={"blob": v2, "config": version_config([[6, 2]])},
               error="InvalidEncoding", description="table [[6, 2]]: a v2 blob of epoch 5 is read as v1 and does not decode", spec_ref="atx.md#atx_version")
    yield Case("unsorted_config", inputs={"blob": v2, "config": version_config([[9, 2], [2, 2]])},
               expected={"version": 2, "decoded_as": "ActivationTxV2"}, description="an unsorted table [[9, 2], [2, 2]] is read sorted: epoch 5 is v2", spec_ref="atx.md#atx_version")


def test_merged_scenario_decodes_with_two_niposts():
    world = World()
    ids = married_pair(world)
    members = [Member("alice", 0, ids["marriage"], 4, nipost=0), Member("bob", 1, ids["bob_solo"], 3, nipost=1)]
    value = world.merged("alice", 4, ids["marriage"], members, positioning=ids["marriage"], leaf_counts=(500, 700))
    assert atx.decode_atx_v2(scale.encode(value, atx.ActivationTxV2)) == value
    assert [len(n.posts) for n in value.niposts] == [1, 1]


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x02\x00", b"\x03\x00\x00\x00"])
def test_blob_too_short_for_the_epoch_is_invalid_encoding(blob):
    # atx.md, a blob too short for the epoch: reading the version fails at once.
    config = attrs.evolve(World().config, atx_versions=((5, 2),))
    with pytest.raises(InvalidEncoding) as error:
        atx.atx_version(blob, config)
    assert error.value.reason == "short_input"
    with pytest.raises(InvalidEncoding):
        atx.decode_atx(blob, config)
