"""Fast PoST: numpy scrypt-jane over many labels, a batched AES prover, threaded k2pow.

Replaces (spec/post.md):

* ``compute_labels``: scrypt-jane for many indices at once, one numpy lane per label. The
  memory-hard table of every lane lives in one ``(N, 32, lanes)`` array, so the lane count is
  bounded by ``SCRATCH_BYTES``.
* ``find_passing_nonce``: per slice of labels (2 MiB for one or two groups), one AES call per
  nonce group into a reused buffer (OpenSSL through ``cryptography``: its XTS mode with a zero
  tweak, exactly ECB's outputs on its VAES path), ``np.packbits`` of the ciphertext (a bit per
  zero byte), the set bits of all groups at once; the candidates' low-56-bit AES in batches,
  radix-sorted by nonce, one call per nonce; the spec's scan order reconstructed from the
  passing positions.
* ``generate_proof``: streams the data files in batches (never the whole data set in memory),
  several batches tested at once by threads, results taken in index order.
* ``find_k2pow`` / ``verify_k2pow``: RandomX through the spec's ctypes binding, one shared cache
  (light mode) or dataset (fast mode, ``SMSPEC_RANDOMX_FAST=1``) and one VM per thread; ctypes
  releases the GIL, so threads hash in parallel. The search returns the smallest valid pow, like
  the spec.

Reusable pieces for other PoST variants: :func:`scrypt_lanes` (labels of arbitrary index
arrays) and :func:`iter_label_batches` (the streaming data-file reader).
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np
from Crypto.Hash import keccak
from smspec.impl.registry import replaces

if TYPE_CHECKING:
    from smspec.spec.post import PostConfig, Proof
    from smspec.spec.randomx import RandomXVm

SCRATCH_BYTES = 256 * 2**20  # memory for the scrypt tables of all lanes together
MAX_LANES = 4096
READ_BATCH_LABELS = 2**20  # labels per read batch of the streaming prover (16 MiB)

_DIAGONAL_B = np.array([5, 6, 7, 4])
_DIAGONAL_C = np.array([10, 11, 8, 9])
_DIAGONAL_D = np.array([15, 12, 13, 14])


# --------------------------------------------------------------------------------------------
# scrypt-jane


def _keccak512(data: bytes) -> bytes:
    return keccak.new(digest_bits=512, data=data).digest()


def _hmac_pads(password: bytes) -> tuple[bytes, bytes]:
    key = password if len(password) <= 72 else _keccak512(password)
    key = key + bytes(72 - len(key))
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def _hmac(pads: tuple[bytes, bytes], message: bytes) -> bytes:
    inner, outer = pads
    return _keccak512(outer + _keccak512(inner + message))


def _rotate(d: np.ndarray, bits: int, tmp: np.ndarray) -> None:
    np.left_shift(d, bits, out=tmp)
    np.right_shift(d, 32 - bits, out=d)
    np.bitwise_or(d, tmp, out=d)


def _quarter_rounds(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, tmp: np.ndarray) -> None:
    np.add(a, b, out=a)
    np.bitwise_xor(d, a, out=d)
    _rotate(d, 16, tmp)
    np.add(c, d, out=c)
    np.bitwise_xor(b, c, out=b)
    _rotate(b, 12, tmp)
    np.add(a, b, out=a)
    np.bitwise_xor(d, a, out=d)
    _rotate(d, 8, tmp)
    np.add(c, d, out=c)
    np.bitwise_xor(b, c, out=b)
    _rotate(b, 7, tmp)


def _chacha8(block: np.ndarray) -> np.ndarray:
    """ChaCha20/8 core over a (16, lanes) uint32 array."""
    x = block.copy()
    tmp = np.empty_like(x[0:4])
    a, b, c, d = x[0:4], x[4:8], x[8:12], x[12:16]
    for _ in range(4):
        _quarter_rounds(a, b, c, d, tmp)
        bd, cd, dd = x[_DIAGONAL_B], x[_DIAGONAL_C], x[_DIAGONAL_D]
        _quarter_rounds(a, bd, cd, dd, tmp)
        x[_DIAGONAL_B], x[_DIAGONAL_C], x[_DIAGONAL_D] = bd, cd, dd
    x += block
    return x


def _block_mix(x: np.ndarray) -> np.ndarray:
    """BlockMix (r = 1) over a (32, lanes) uint32 array."""
    y0 = _chacha8(x[16:32] ^ x[0:16])
    y1 = _chacha8(y0 ^ x[16:32])
    return np.concatenate((y0, y1))


def scrypt_lanes(passwords: list[bytes], scrypt_n: int, length: int) -> list[bytes]:
    """scrypt-jane (r = p = 1, empty salt) of each password, all lanes at once."""
    if scrypt_n < 2 or scrypt_n & (scrypt_n - 1):
        from smspec.spec.errors import InvalidValue

        raise InvalidValue("scrypt_n_not_power_of_two", f"N = {scrypt_n}")
    lanes = len(passwords)
    if lanes == 0:
        return []
    pads = [_hmac_pads(p) for p in passwords]
    initial = b"".join(_hmac(pad, b"\x00\x00\x00\x01") + _hmac(pad, b"\x00\x00\x00\x02") for pad in pads)
    x = np.frombuffer(initial, dtype="<u4").reshape(lanes, 32).T.copy()
    table = np.empty((scrypt_n, 32, lanes), dtype=np.uint32)
    for i in range(scrypt_n):
        table[i] = x
        x = _block_mix(x)
    lane_ids = np.arange(lanes)
    for _ in range(scrypt_n):
        j = x[16] & (scrypt_n - 1)
        x = _block_mix(x ^ table[j, :, lane_ids].T)
    mixed = x.T.astype("<u4").tobytes()
    outputs = []
    for lane, pad in enumerate(pads):
        salt = mixed[128 * lane:128 * (lane + 1)]
        block = b""
        counter = 1
        while len(block) < length:
            block += _hmac(pad, salt + counter.to_bytes(4, "big"))
            counter += 1
        outputs.append(block[:length])
    return outputs


def lanes_for(scrypt_n: int) -> int:
    """How many labels one numpy batch computes at this N."""
    return max(1, min(MAX_LANES, SCRATCH_BYTES // (128 * scrypt_n)))


def check_label_range(commitment: bytes, start: int, count: int, scrypt_n: int) -> None:
    """The spec's argument checks for a non-empty label range, in the order its per-label loop
    meets them (shared by the numpy and OpenCL backends)."""
    from smspec.spec.errors import InvalidValue

    if len(commitment) != 32:
        raise InvalidValue("wrong_length", "a commitment is 32 bytes")
    if not 0 <= start < 2**64:
        raise InvalidValue("out_of_range", f"label index {start} is not a u64")
    if scrypt_n < 2 or scrypt_n & (scrypt_n - 1):
        raise InvalidValue("scrypt_n_not_power_of_two", f"N = {scrypt_n}")
    if start + count - 1 >= 2**64:
        raise InvalidValue("out_of_range", "label index is not a u64")


@replaces("post", "compute_labels")
def compute_labels(commitment: bytes, start: int, count: int, scrypt_n: int) -> bytes:
    """The 32-byte outputs of labels start .. start + count - 1, concatenated (numpy)."""
    from smspec.spec.errors import InvalidValue

    if count < 0:
        raise InvalidValue("out_of_range", "negative label count")
    if count == 0:
        return b""
    check_label_range(commitment, start, count, scrypt_n)
    step = lanes_for(scrypt_n)
    out = []
    for first in range(start, start + count, step):
        last = min(first + step, start + count)
        passwords = [commitment + i.to_bytes(8, "little") + bytes(32) for i in range(first, last)]
        out.extend(scrypt_lanes(passwords, scrypt_n, 32))
    return b"".join(out)


def best_below(outputs: bytes, start: int, difficulty: bytes) -> tuple[int, bytes] | None:
    """The lowest 32-byte output strictly below difficulty (ties: lower index), numpy scan."""
    count = len(outputs) // 32
    if count == 0:
        return None
    if len(difficulty) < 8:
        difficulty_head = difficulty + b"\xff" * (8 - len(difficulty))  # a prefix bound that admits all candidates
    else:
        difficulty_head = difficulty[:8]
    rows = np.frombuffer(outputs, dtype=np.uint8).reshape(count, 32)
    # only outputs whose first 8 bytes are <= the threshold's can qualify
    heads = rows[:, :8].copy().view(">u8")[:, 0]
    candidates = np.nonzero(heads <= np.frombuffer(difficulty_head, dtype=">u8")[0])[0]
    best = None
    for position in candidates:
        value = outputs[32 * int(position):32 * int(position) + 32]
        if value < difficulty and (best is None or value < best[1]):
            best = (start + int(position), value)
    return best


@replaces("post", "initialize_range")
def initialize_range(commitment: bytes, start: int, count: int, scrypt_n: int, difficulty: bytes,
                     ) -> tuple[bytes, tuple[int, bytes] | None]:
    """(stored 16-byte labels of start .. start + count - 1, best VRF-nonce candidate among them)."""
    outputs = compute_labels(commitment, start, count, scrypt_n)
    rows = np.frombuffer(outputs, dtype=np.uint8).reshape(count, 32) if count else np.empty((0, 32), np.uint8)
    return rows[:, :16].tobytes(), best_below(outputs, start, difficulty)


# --------------------------------------------------------------------------------------------
# proving


def _group_key(challenge: bytes, group: int, pow: int) -> bytes:
    import blake3

    return blake3.blake3(challenge + group.to_bytes(4, "little") + pow.to_bytes(8, "little")).digest()[:16]


def _nonce_key(challenge: bytes, group: int, pow: int, nonce: int) -> bytes:
    import blake3

    data = challenge + group.to_bytes(4, "little") + pow.to_bytes(8, "little") + nonce.to_bytes(4, "little")
    return blake3.blake3(data).digest()[:16]


AES_SLICE_LABELS = 131072  # labels per AES call for one or two groups (2 MiB; halved per doubling of groups beyond)
LOW_BITS_BATCH = 32768  # candidates decided together by the per-nonce AES (their labels: 512 KiB)
CODE_INT32_LIMIT = 2**31  # candidate codes below it are int32
_LOW_56 = np.uint64(2**56 - 1)


_TWEAK_KEYS = (bytes(range(16)), bytes(range(16, 32)))  # XTS's second key: any key but the first
XTS_MAX_BLOCKS = 2**20  # OpenSSL's longest XTS data unit


@functools.cache
def _zero_tweak(second: bytes) -> bytes:
    """The XTS tweak whose encryption under ``second`` is the zero block."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    return Cipher(algorithms.AES(second), modes.ECB()).decryptor().update(bytes(16))


def _ecb_encryptor(key: bytes):
    """AES-128 of each 16-byte block under ``key``, exactly AES-128-ECB, through OpenSSL (via
    `cryptography`): its XTS mode with the tweak whose encryption is zero. XTS encrypts block j
    as ``E(P xor T_j) xor T_j`` with ``T_j = E2(tweak) * alpha**j``; with ``E2(tweak) = 0`` every
    ``T_j`` is 0, so the output is ECB's, and OpenSSL's XTS has a VAES path (1.6x its ECB on
    this machine's AVX-512 EPYC). ``update_into`` writes into a reused buffer; every call is a
    data unit of 1 .. 2**20 whole blocks; no state is kept between calls. Where XTS is missing,
    plain ECB."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    second = _TWEAK_KEYS[0] if key != _TWEAK_KEYS[0] else _TWEAK_KEYS[1]
    try:
        return Cipher(algorithms.AES(key + second), modes.XTS(_zero_tweak(second))).encryptor()
    except UnsupportedAlgorithm:
        return Cipher(algorithms.AES(key), modes.ECB()).encryptor()


_SCRATCH = threading.local()
_MALLOC_PRIMED = False


def _prime_malloc() -> None:
    """Free one 8 MiB array, once per process. glibc hands out memory of 128 KiB or more by
    mmap, and returns it on free, until freeing such a chunk raises its threshold to that size;
    the prover's temporaries (argsort orders, packbits outputs, gathered labels: up to 512 KiB)
    would otherwise fault in fresh pages on every batch (about 6,000 per 32 MiB, +40% time).
    Elsewhere a harmless allocation."""
    global _MALLOC_PRIMED
    if not _MALLOC_PRIMED:
        np.ones(2**20, dtype=np.uint64)  # written, so the chunk is really mapped, then freed
        _MALLOC_PRIMED = True


def _scratch(name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """A buffer of this thread kept across calls (fresh memory costs a page fault per 4 KiB on
    first touch, every call): the first items of the kept one, which grows when too small.
    Contents are left over from earlier calls."""
    dtype, count = np.dtype(dtype), int(np.prod(shape))
    buffer = _SCRATCH.__dict__.get(name)
    if buffer is None or buffer.dtype != dtype or len(buffer) < count:
        buffer = _SCRATCH.__dict__[name] = np.empty(count, dtype=dtype)
    return buffer[:count].reshape(shape)


class _Layout:
    """Where a candidate is: its code is its bit index in the mask rows of its slice (one row of
    ``row`` bits per group, ``row`` a power of two) plus ``slice * width * row``; slices hold
    ``step`` labels. Codes are int32 where they fit (half the memory traffic), else int64."""

    def __init__(self, width: int, step: int, count: int) -> None:
        self.width, self.step = width, step
        self.row = max(64, 1 << (16 * step - 1).bit_length())
        self.shift = self.row.bit_length() - 1
        self.stride = width * self.row
        self.code_type = np.int32 if self.stride * -(-count // step) < CODE_INT32_LIMIT else np.int64

    def keys(self, codes: np.ndarray) -> np.ndarray:
        """``16 * group position + nonce offset`` of codes."""
        if self.width & (self.width - 1) == 0:
            keys = (codes >> (self.shift - 4)) & (16 * (self.width - 1))
        else:
            keys = ((codes >> self.shift) % self.width) << 4
        keys |= codes & 15
        return keys.astype(np.uint8 if self.width <= 16 else np.uint16)

    def positions(self, codes: np.ndarray) -> np.ndarray:
        """Byte positions ``16 * label + offset`` in the labels of codes."""
        if self.width & (self.width - 1) == 0:
            slices = codes >> (self.shift + self.width.bit_length() - 1)
        else:
            slices = codes // self.stride
        slices *= 16 * self.step
        slices += codes & (self.row - 1)
        return slices


class _LowBits:
    """The second test, of candidates whose group-AES byte equals the difficulty's top byte.

    Candidates are queued by code (:class:`_Layout`) into a buffer allocated once and decided
    in batches: a radix sort by key ``16 * group position + nonce offset``, their labels
    gathered in that order, one AES call per nonce key over its run, and the low 56 bits
    compared at once. The codes of passing candidates are kept.
    """

    def __init__(self, rows: np.ndarray, layout: _Layout, challenge: bytes, groups: list[int], pows: list[int],
                 lsb_limit: int) -> None:
        self.rows, self.layout = rows, layout
        self.challenge, self.groups, self.pows = challenge, groups, pows
        self.lsb_limit = np.uint64(lsb_limit)
        self.ciphers: list = [None] * (16 * len(groups))
        self.batch = max(1, min(LOW_BITS_BATCH, XTS_MAX_BLOCKS))
        self.codes = _scratch("codes", (self.batch,), layout.code_type)
        self.output = _scratch("output", (16 * self.batch + 16,), np.uint8)  # one block of room, as update_into asks
        self.queued = 0
        self.passing: list[np.ndarray] = []

    def add(self, hits: np.ndarray, base: int) -> None:
        """Queue the candidates with codes ``hits + base``."""
        start = 0
        while start < len(hits) and self.lsb_limit:  # nothing is below a zero limit
            take = min(len(hits) - start, self.batch - self.queued)
            end = self.queued + take
            np.add(hits[start:start + take], base, out=self.codes[self.queued:end], casting="unsafe")
            self.queued, start = end, start + take
            if end == self.batch:
                self.flush()

    def _cipher(self, key: int):
        group, pow = self.groups[key >> 4], self.pows[key >> 4]
        cipher = self.ciphers[key] = _ecb_encryptor(_nonce_key(self.challenge, group, pow, 16 * group + (key & 15)))
        return cipher

    def flush(self) -> None:
        count, self.queued = self.queued, 0
        if not count:
            return
        codes = self.codes[:count]
        # the labels gathered in queue order (nearly ascending: a stream), then sorted in cache
        labels = self.rows.take(self.layout.positions(codes) >> 4)
        keys = self.layout.keys(codes)
        order = np.argsort(keys, kind="stable")  # a radix sort of small integers
        edges = np.searchsorted(keys.take(order), np.arange(len(self.ciphers) + 1)).tolist()
        source = memoryview(labels.take(order)).cast("B")
        target = memoryview(self.output)
        for key, cipher in enumerate(self.ciphers):
            low, high = edges[key], edges[key + 1]
            if low < high:
                (cipher or self._cipher(key)).update_into(source[16 * low:16 * high], target[16 * low:])
        words = self.output[:16 * count].view("<u8")[0::2]
        keep = np.flatnonzero((words & _LOW_56) < self.lsb_limit)
        if len(keep):
            self.passing.append(codes.take(order.take(keep)))


def _set_bits(masks: np.ndarray) -> np.ndarray:
    """The indices of the set bits of a bit array (``np.packbits`` with little bit order, a whole
    number of 8-byte words), in any order. Only the words holding a set bit, a dense enough
    bool array for numpy's branch-free ``flatnonzero`` (a sparse one costs a mispredicted
    branch per hit), go through it; then each word's lowest set bit, twice (its index is the
    popcount of ``bits ^ (bits - 1)``, less one); the very few words with still more are
    unpacked."""
    words = masks.view("<u8")
    ids = np.flatnonzero(words != 0)
    if not len(ids):
        return ids
    bits = words.take(ids)
    base = (ids << 6) - 1
    parts = []
    for _ in range(2):
        less = bits - np.uint64(1)
        parts.append(base + np.bitwise_count(bits ^ less))
        bits &= less
        more = np.flatnonzero(bits != 0)
        if not len(more):
            return parts[0] if len(parts) == 1 else np.concatenate(parts)
        base, bits = base.take(more), bits.take(more)
    rest = np.flatnonzero(np.unpackbits(bits.view(np.uint8), bitorder="little"))
    parts.append(base.take(rest >> 6) + 1 + (rest & 63))
    return np.concatenate(parts)


def passing_events(labels: bytes, first_index: int, challenge: bytes, first_nonce: int, pows: list[int],
                   difficulty: int) -> dict[int, np.ndarray]:
    """For each nonce, the sorted global indices of the labels that pass.

    One pass over the labels in slices, every buffer allocated once. Per slice and group: the
    group key's AES into a reused buffer and one bit per byte that can pass, into the group's
    row of one mask array (``np.packbits`` of the ciphertext itself where the difficulty's top
    byte is 0, as for any real data size: it packs the nonzero bytes); then the set bits of all
    groups at once (:func:`_set_bits`). Bytes below the top byte pass at once; bytes equal to
    it go to :class:`_LowBits`.
    """
    count = len(labels) // 16
    msb_limit, lsb_limit = difficulty >> 56, difficulty & (2**56 - 1)
    groups = [first_nonce // 16 + position for position in range(len(pows))]
    found: dict[int, np.ndarray] = {}
    empty = np.empty(0, dtype=np.int64)
    for group in groups:
        for offset in range(16):
            found[16 * group + offset] = empty
    if count == 0:
        return found
    _prime_malloc()
    source = memoryview(labels).cast("B")[:16 * count]
    label_rows = np.frombuffer(source, dtype="V16")  # one element per label: a gather copies 16 bytes
    ciphers = [_ecb_encryptor(_group_key(challenge, group, pow)) for group, pow in zip(groups, pows)]
    width = len(groups)
    # per-call overhead favours long slices, cache and candidate batches shorter ones as groups grow
    step = max(1, min(AES_SLICE_LABELS >> max(0, (width - 1).bit_length() - 1), count, XTS_MAX_BLOCKS))
    layout = _Layout(width, step, count)
    step, row = layout.step, layout.row
    low_bits = _LowBits(label_rows, layout, challenge, groups, pows, lsb_limit)
    passing: list[np.ndarray] = []  # codes of bytes below the top byte, then of all passing ones
    # update_into asks for one block of room; one row per group only where top bytes are read again
    ciphertext = _scratch("ciphertext", (width if msb_limit else 1, row + 16), np.uint8)
    flags = _scratch("flags", (row,), bool) if msb_limit else None
    masks = _scratch("masks", (width, row // 8), np.uint8)  # one bit per ciphertext byte; every slice writes all
    for first in range(0, count, step):
        size = 16 * min(step, count - first)
        piece = source[16 * first:16 * first + size]
        for position, cipher in enumerate(ciphers):
            if flags is None:  # bytes equal to 0: the complement of packbits' nonzero bits
                cipher.update_into(piece, ciphertext[0])
                np.invert(np.packbits(ciphertext[0, :size], bitorder="little"), out=masks[position, :size // 8])
            else:
                cipher.update_into(piece, ciphertext[position])
                np.less_equal(ciphertext[position, :size], msb_limit, out=flags[:size])
                masks[position, :size // 8] = np.packbits(flags[:size], bitorder="little")
        if size < row:
            masks[:, size // 8:] = 0
        hits = _set_bits(masks)
        if not len(hits):
            continue
        base = (first // step) * layout.stride
        if flags is not None:  # a top byte below the limit's passes without the low bits
            below = ciphertext.ravel().take(hits + (hits >> layout.shift) * 16) < msb_limit
            if below.any():
                passing.append(hits[below] + base)
                hits = hits[~below]
        low_bits.add(hits, base)
    low_bits.flush()
    passing += low_bits.passing
    if not passing:
        return found
    codes = np.concatenate(passing).astype(np.int64)  # int64 before first_index is added
    group, positions = layout.keys(codes) >> 4, layout.positions(codes)
    for position, nonce_group in enumerate(groups):
        mine = np.sort(positions[group == position])
        if not len(mine):
            continue
        rows, offsets = (mine >> 4) + first_index, mine & 15
        for offset in range(16):
            selected = rows[offsets == offset]
            if len(selected):
                found[16 * nonce_group + offset] = selected
    return found


def _winner(events: dict[int, list[np.ndarray]], counts: dict[int, int], first_nonce: int, k2: int,
            ) -> tuple[int, list[int]] | None:
    """The nonce whose k2-th passing label comes first in the spec's scan order."""
    best_key = None
    best = None
    for nonce, parts in events.items():
        if counts[nonce] < k2:
            continue
        indices = np.concatenate(parts)[:k2]
        last = int(indices[-1])
        key = (last // 8, (nonce - first_nonce) // 16, last, nonce % 16)
        if best_key is None or key < best_key:
            best_key, best = key, (nonce, [int(i) for i in indices])
    return best


@replaces("post", "find_passing_nonce")
def find_passing_nonce(labels: bytes, challenge: bytes, first_nonce: int, nonce_count: int, pows: list[int],
                       difficulty: int, k2: int) -> tuple[int, list[int]] | None:
    """The first nonce with k2 passing labels and its indices, or None (numpy + batched AES)."""
    from smspec.spec.errors import InvalidValue

    if first_nonce % 16 != 0 or nonce_count <= 0 or nonce_count % 16 != 0:
        raise InvalidValue("bad_nonce_range", "nonces must start at and span a multiple of 16")
    if len(pows) != nonce_count // 16:
        raise InvalidValue("bad_nonce_range", "one k2pow per nonce group")
    found = passing_events(labels, 0, challenge, first_nonce, pows, difficulty)
    return _winner({n: [v] for n, v in found.items()}, {n: len(v) for n, v in found.items()}, first_nonce, k2)


def iter_label_batches(datadir: str, metadata, batch_labels: int = READ_BATCH_LABELS) -> Iterator[tuple[int, bytes]]:
    """(first index, labels) batches over a whole data directory, in index order.

    Batches never straddle a data file, and every batch but a file's last one holds a multiple
    of 8 labels. Missing or short files raise the spec's ``InvalidPostData``.
    """
    from smspec.spec import load

    post = load("post")
    batch_labels = max(8, batch_labels - batch_labels % 8)
    for file_index in range(post.num_files(metadata)):
        first, end = post.file_label_range(metadata, file_index)
        path = os.path.join(datadir, post.data_file_name(file_index))
        if not os.path.exists(path):
            raise post.InvalidPostData("missing_data_file", path)
        with open(path, "rb") as file:
            index = first
            while index < end:
                take = min(batch_labels, end - index)
                chunk = file.read(16 * take)
                if len(chunk) != 16 * take:
                    raise post.InvalidPostData("truncated_data_file", path)
                yield index, chunk
                index += take


SCAN_THREADS = min(4, os.cpu_count() or 1)  # read batches tested at once by scan_data


def scan_data(datadir: str, metadata, challenge: bytes, first_nonce: int, pows: list[int], difficulty: int, k2: int,
              progress=None, threads: int | None = None) -> tuple[int, list[int]] | None:
    """One streaming proving pass over a data directory (the spec's scan order).

    Up to ``threads`` read batches are tested at once (OpenSSL and numpy release the GIL);
    their results are taken in index order, so the winner is the same for any thread count.
    """
    from collections import deque

    events: dict[int, list[np.ndarray]] = {}
    counts: dict[int, int] = {}
    threads = max(1, threads or SCAN_THREADS)
    with ThreadPoolExecutor(threads, thread_name_prefix="prove") as pool:
        pending: deque = deque()
        batches = iter_label_batches(datadir, metadata)
        try:
            while True:
                while len(pending) < threads:
                    batch = next(batches, None)
                    if batch is None:
                        break
                    first, chunk = batch
                    pending.append((first, len(chunk) // 16, pool.submit(
                        passing_events, chunk, first, challenge, first_nonce, pows, difficulty)))
                if not pending:
                    break
                first, size, future = pending.popleft()
                for nonce, rows in future.result().items():
                    events.setdefault(nonce, []).append(rows)
                    counts[nonce] = counts.get(nonce, 0) + len(rows)
                if progress is not None:
                    progress(size)
                # a chunk of 8 labels is scanned group by group: decide only at chunk boundaries
                if (first + size) % 8 == 0:
                    winner = _winner(events, counts, first_nonce, k2)
                    if winner is not None:
                        return winner
        finally:
            for _, _, future in pending:
                future.cancel()
    return _winner(events, counts, first_nonce, k2)


@replaces("post", "generate_proof", factory=True)
def _generate_proof_factory(post):
    def generate_proof(datadir: str, challenge: bytes, nonces: int, config: PostConfig | None = None) -> Proof:
        """A proof for the data directory and challenge (streaming, batched AES)."""
        config = config or post.preset_config()
        if len(challenge) != 32:
            raise post.InvalidValue("wrong_length", "a challenge is 32 bytes")
        metadata = post.load_metadata(datadir)
        num_labels = post.total_labels(metadata)
        difficulty = post.proving_difficulty(config.k1, num_labels)
        pow_difficulty = post.scale_pow_difficulty(config.pow_difficulty, metadata.num_units)
        if nonces <= 0 or nonces % 16:
            raise post.InvalidValue("bad_nonce_range", "nonces must start at and span a multiple of 16")
        first_nonce = 0
        while True:
            groups = range(first_nonce // 16, (first_nonce + nonces) // 16)
            pows = [post.find_k2pow(challenge, g, pow_difficulty, metadata.node_id) for g in groups]
            found = scan_data(datadir, metadata, challenge, first_nonce, pows, difficulty, config.k2)
            if found is not None:
                nonce, indices = found
                pow = pows[nonce // 16 - first_nonce // 16]
                return post.Proof(nonce, post.compress_indices(indices, post.required_bits(num_labels)), pow)
            first_nonce += nonces

    return generate_proof


# --------------------------------------------------------------------------------------------
# RandomX


class RandomXPool:
    """One RandomX cache (or dataset) under a key and one VM per thread."""

    def __init__(self, key: bytes, full_memory: bool = False, threads: int | None = None) -> None:
        from smspec.spec.randomx import RANDOMX_FLAG_FULL_MEM, randomx_library

        self.lib = randomx_library()
        self.flags = self.lib.randomx_get_flags()
        self.cache = self.lib.randomx_alloc_cache(self.flags)
        if not self.cache:
            raise MemoryError("randomx_alloc_cache failed")
        self.lib.randomx_init_cache(self.cache, key, len(key))
        self.dataset = None
        self.threads = threads or os.cpu_count() or 1
        if full_memory:
            self.flags |= RANDOMX_FLAG_FULL_MEM
            self.dataset = self.lib.randomx_alloc_dataset(self.flags)
            if not self.dataset:
                raise MemoryError("randomx_alloc_dataset failed (fast mode needs 2 GiB)")
            items = self.lib.randomx_dataset_item_count()
            share = (items + self.threads - 1) // self.threads
            with ThreadPoolExecutor(self.threads) as pool:
                list(pool.map(lambda t: self.lib.randomx_init_dataset(
                    self.dataset, self.cache, t * share, max(0, min(share, items - t * share))), range(self.threads)))
        self.local = threading.local()
        self.lock = threading.Lock()
        # One long-lived pool: its threads keep their RandomX VMs (2 MiB scratchpads) across
        # calls, instead of creating, and leaking, a VM per thread per proof.
        self.executor = ThreadPoolExecutor(self.threads, thread_name_prefix="randomx")

    def vm(self):
        vm = getattr(self.local, "vm", None)
        if vm is None:
            vm = self.lib.randomx_create_vm(self.flags, None if self.dataset else self.cache, self.dataset)
            if not vm:
                raise MemoryError("randomx_create_vm failed")
            self.local.vm = vm
        return vm

    def hash(self, data: bytes) -> bytes:
        output = ctypes.create_string_buffer(32)
        self.lib.randomx_calculate_hash(self.vm(), data, len(data), output)
        return output.raw


_POOLS: dict[tuple[bytes, bool], RandomXPool] = {}
_POOLS_LOCK = threading.Lock()


def randomx_pool(key: bytes, full_memory: bool | None = None) -> RandomXPool:
    """The process-wide pool for a key (fast mode when SMSPEC_RANDOMX_FAST=1)."""
    if full_memory is None:
        full_memory = os.environ.get("SMSPEC_RANDOMX_FAST", "0") == "1"
    with _POOLS_LOCK:
        if (key, full_memory) not in _POOLS:
            _POOLS[(key, full_memory)] = RandomXPool(key, full_memory)
        return _POOLS[(key, full_memory)]


def _k2pow_input(pow: int, group: int, challenge: bytes, miner_id: bytes) -> bytes:
    return pow.to_bytes(8, "little")[:7] + bytes([group]) + challenge[:8] + miner_id


@replaces("post", "find_k2pow", factory=True)
def _find_k2pow_factory(post):
    def find_k2pow(challenge: bytes, nonce_group: int, difficulty: bytes, miner_id: bytes, vm: RandomXVm | None = None) -> int:
        """The smallest pow whose k2pow hash is below difficulty (threads share one RandomX cache;
        `vm` is accepted for the spec's signature and not needed)."""
        if not 0 <= nonce_group <= post.MAX_NONCE_GROUP:
            raise post.InvalidValue("nonce_group_out_of_bounds", f"nonce group {nonce_group} > {post.MAX_NONCE_GROUP}")
        pool = randomx_pool(post.RANDOMX_KEY)
        threads = pool.threads
        round_size = 64 * threads
        base = 0

        def worker(offset: int) -> int | None:
            for pow in range(base + offset, base + round_size, threads):
                if pool.hash(_k2pow_input(pow, nonce_group, challenge, miner_id)) < difficulty:
                    return pow
            return None

        while base < 2**56:
            found = [p for p in pool.executor.map(worker, range(threads)) if p is not None]
            if found:
                # each thread returns its smallest hit; the smallest of those is the first overall
                return min(found)
            base += round_size
        raise post.InvalidValue("k2pow_not_found", "no k2pow below the difficulty")

    return find_k2pow


@replaces("post", "verify_k2pow", factory=True)
def _verify_k2pow_factory(post):
    def verify_k2pow(pow: int, nonce_group: int, challenge: bytes, difficulty: bytes, miner_id: bytes, vm: RandomXVm | None = None) -> bool:
        """Whether pow is a valid k2pow (shared light-mode cache)."""
        pool = randomx_pool(post.RANDOMX_KEY, full_memory=False)
        return pool.hash(_k2pow_input(pow, nonce_group, challenge, miner_id)) < difficulty

    return verify_k2pow
