"""Shared inputs of the PoST spec tests: the tiny data set and the RandomX skip marker."""

from __future__ import annotations

import ctypes
from functools import lru_cache

import pytest

# post-rs tests/generate_and_verify.rs uses node id [77; 32] and a zero commitment ATX.
NODE_ID = bytes([77]) * 32
COMMITMENT_ATX_ID = bytes(32)
# post-rs src/prove.rs `proving_vector` challenge.
CHALLENGE = b"hello world, CHALLENGE me!!!!!!!"
TINY_UNITS = 2


def randomx_available() -> bool:
    try:
        ctypes.CDLL("librandomx.so.0")
    except OSError:
        return False
    return True


needs_randomx = pytest.mark.skipif(
    not randomx_available(), reason="librandomx0 is not installed (scripts/setup-system.sh installs it)"
)


@lru_cache(maxsize=1)
def tiny_labels() -> bytes:
    """The 16-byte labels of the tiny data set (2 units of 128 labels, scrypt N = 16)."""
    from smspec.spec import load

    post = load("post", "tiny")
    commitment = post.compute_commitment(NODE_ID, COMMITMENT_ATX_ID)
    count = TINY_UNITS * post.LABELS_PER_UNIT
    outputs = post.compute_labels(commitment, 0, count, post.SCRYPT_N)
    return b"".join(outputs[32 * i:32 * i + 16] for i in range(count))
