"""Fast Athena VM: lazy loading, tiered execution, bulk syscall memory, libsodium ed25519.

Replaces ``athena.load_program``, ``run``, ``read_bytes``, ``write_words``, ``syscall_hint_read``,
``ed25519_decompress`` and ``ed25519_verify``. Everything that decides an outcome (traps,
syscalls, out of gas, halting) is still the spec's own ``step``; the fast paths only run
instructions that are certain to complete.

Loading (``load_program``)
    The spec decodes every word of the executable segments into an ``Instruction`` and copies
    every word of every segment into a dict. Here one vectorized pass (numpy) checks that every
    executable word decodes, with the exact rules of ``decode_instruction`` (the first word that
    does not is then decoded by the spec, so the error is the spec's), and everything else is
    lazy: ``Program.instructions`` decodes a word the first time it is fetched, ``words`` is an
    array, ``memory_image`` reads the segment bytes, and a machine's memory loads a 4 KiB page of
    the image the first time the program touches it (``LazyMemory``). Programs are cached by their
    code bytes, so a template run every layer is loaded and compiled once.

Execution (``run``), in two tiers after a first visit
    A block start entered for the first time (per program) builds nothing: the *walker* runs
    its instructions one at a time from the op tuples cached per word, up to the first jump or
    taken branch, so code that runs once (riscv-tests, a contract call's set-up) costs about
    what the spec's ``step`` costs, and the work a program's first run does is proportional to
    the code it executes. The second entry builds the block.
    Tier 0 interprets a *basic block* (up to a branch or jump; direct jumps are followed) from a
    list of op tuples: a shared module-level function per mnemonic and the instruction's fields
    (a pc-independent op is cached per word, so building a block allocates little). A block
    entered ``threshold`` times asks to be compiled; its *superblock* (the straight-line path from
    its start through conditional branches, leaving when one is taken, following direct jumps,
    returns to a link set on the path and other JALRs to the target tier 0 saw last (checked when
    it runs: a C function called through a pointer and its return are part of the caller's
    block), stopping after a branch back to the start or at ``MAX_BLOCK`` instructions) is compiled once
    the instructions run in the block reach ``threshold`` times the superblock's size, so
    compiling never costs more than a fixed multiple of the interpreting it saves (code that runs
    once, like riscv-tests or a short contract call, is never compiled). A compiled block is one
    Python function: registers in local variables, constants propagated (a load or store at a
    known address has its checks decided at compile time), the low bits of a register learned
    from an access that passed its alignment check (later accesses from it, like a C function's
    stack accesses from ``sp``, are not checked again), loops run in place: a branch back to the
    start is a ``for`` over the turns the gas allows (no per-turn count or check), a branch back
    into the path a nested ``while`` with a gas check per turn (a C loop inside a loop, like a
    CRC's bit loop in its byte loop, is one block). A block returns
    before an instruction that may trap (misaligned access, store below 40) or is a system
    instruction, and whenever the gas left might not cover it; the spec's ``step`` then runs
    that one instruction (an ``ecall``: the spec's ``execute_syscall``, then ``step``'s gas,
    out-of-gas and halting rules, without its fetch and dispatch). Blocks are kept per program,
    and programs per code.
    Along a path the compiler also decides branches on known constants, tests a register the
    path divides by (DIVU, REMU) and never writes once at entry (a copy of the code without zero
    tests runs when it is not 0), checks a store's base register once against 40 + 2048 and
    2**32 - 4 less the offset (later stores from it within those bounds, carried through ADDI,
    have no check or mask), and reuses a word stored or loaded at register + offset for a later
    load of it while no store may have changed it.

Regions
    Once a whole run compiled no new block, the program's compiled blocks are joined into one
    *region* function (``Engine.build_region``, ``region_source``): each block is a segment of
    it, the registers live in its locals from entry to exit, and after a segment it goes on with
    the segment at the pc left for (a binary search on the pc in ``if``s) while there is one and
    the spec has nothing to step, so hot code that crosses blocks stops paying a call, a
    register load and store, and the run loop per block. A region is built again when the blocks
    compiled since are a quarter of it or ``REGION_RUNS`` runs later (compiling it costs about
    what compiling its blocks did). Each time, the blocks still in tier 0 that have been entered
    ``FILL_ENTRIES`` times are compiled first and join it (``Engine.fill``), their paths cut
    before the first start of a block the region holds (short, so cheap to compile).

Syscall memory
    The memory stays a dict of words (what compiled blocks load and store fastest, and what a
    sparse program needs: a word per store, not a page). Buffers are written a word range at a
    time (``dict.update``), and read either a word range at a time (``array`` over ``dict.get``;
    or, when the memory holds fewer words than the range, as a real call's fresh memory does,
    the image's bytes and then each word held: 64 KiB of image data in 50 us instead of 6 ms,
    reads under 1 KiB) or, while ``run`` executes, from a cache of 4 KiB pages as bytes (reads of
    1 KiB or more): a page is cached the second time a bulk read needs it (most buffers are read
    once, and then a word range is cheaper than whole pages), and every later write keeps it exact
    (stores of blocks go through ``_InvalidatingStores`` while pages are cached, which writes
    the cached page too; syscall writes write the pages they overlap; a store the spec's step
    runs drops them all). So a syscall looping on a 64 KiB buffer costs a few microseconds (a
    join of 16 pages) instead of a millisecond (16,384 dict lookups).

ed25519
    The precompile follows ed25519-dalek's lax ``verify``. libsodium accepts only a subset of what
    dalek accepts (canonical keys of the prime-order subgroup, R not of small order), so an
    acceptance by ``crypto_sign_open`` is final; anything else is decided exactly: the key is
    split into its prime-order part and the 8 multiples of its torsion part (libsodium additions and
    one scalar multiplication, cached per key) and ``[s]B - [k]A`` is computed with libsodium primitives.
"""

from __future__ import annotations

import hashlib
import re
import struct
import sys
import warnings
from array import array
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Container, Iterator, Mapping, Sequence
from itertools import repeat
from typing import TYPE_CHECKING, Any

import nacl.bindings as sodium
import nacl.exceptions
import numpy as np

if TYPE_CHECKING:
    from smspec.spec.athena import (
        AthenaContext,
        EdwardsPoint,
        GasSchedule,
        Host,
        Machine,
        Program,
        TraceRecord,
    )

from smspec.impl.registry import replaces

M = 0xFFFFFFFF
MAX_BLOCK = 64
MAX_REGION = 1024  # compiled blocks a region function holds at most
# the least value a compiled store checks its base register for: any negative 12-bit offset from
# it is an address of 40 or more (the greatest is 2**32-4 less the store's offset: C code's stack
# is at the top of memory); later stores from the register within both bounds need no check
STORE_LOW = 40 + 2048
REGION_RUNS = 16  # runs after which a region is built again for any block compiled since
# entries after which a block still in tier 0 joins the region when the region is built
# (``Engine.fill``), its path cut at the first start of a block already in the region
FILL_ENTRIES = 8
DEFAULT_THRESHOLD = 32
PAGE_SHIFT = 12  # LazyMemory loads the image 4 KiB at a time, and caches syscall reads 4 KiB at a time
_CACHED_READ = 1024  # syscall reads at least this long go through the page cache
_CACHED_PAGES = 256  # pages the cache holds at most (1 MiB)
_TRACKED_STORES = 4096  # stores after the last page cached before the cache is dropped
_PAGE_MASK = (1 << PAGE_SHIFT) - 1
_IMAGE_PAGES = 256  # image pages a program keeps as dicts for loading (1 MiB of image)
_pack_word = struct.Struct("<I").pack_into
_PACK_WORDS = [struct.Struct(f"<{count}I").pack for count in range(17)]  # count words -> their little-endian bytes
_ENGINE_CACHE_SIZE = 32
_PROGRAM_CACHE_SIZE = 32
_PROGRAM_CACHE_BYTES = 64 << 20
_BIG_ENDIAN = sys.byteorder == "big"
_dict_get = dict.get
_dict_set = dict.__setitem__
_dict_contains = dict.__contains__


def _words_of(data: bytes) -> array:
    """Little-endian 32-bit words of `data` (length a multiple of 4)."""
    words = array("I", data)
    if _BIG_ENDIAN:
        words.byteswap()
    return words


def _bytes_of(words: array) -> bytes:
    if _BIG_ENDIAN:
        words = array("I", words)
        words.byteswap()
    return words.tobytes()


# ---------------------------------------------------------------------------------------------
# Loading


def _valid_words_by_rules(words: np.ndarray) -> np.ndarray:
    """For each 32-bit word, whether ``decode_instruction`` accepts it (its rules, vectorized)."""
    w = words.astype(np.uint32)
    opcode = w & 0x7F
    rd = (w >> 7) & 31
    funct3 = (w >> 12) & 7
    rs1 = (w >> 15) & 31
    rs2 = (w >> 20) & 31
    funct7 = w >> 25
    rd_ok, rs1_ok, rs2_ok = rd < 16, rs1 < 16, rs2 < 16

    def among(values: np.ndarray, allowed: tuple[int, ...]) -> np.ndarray:
        result = values == allowed[0]
        for value in allowed[1:]:  # a few comparisons cost less than np.isin (it sorts)
            result |= values == value
        return result

    upper = ((opcode == 0x37) | (opcode == 0x17) | (opcode == 0x6F)) & rd_ok
    jalr = (opcode == 0x67) & rd_ok & rs1_ok
    branch = (opcode == 0x63) & among(funct3, (0, 1, 4, 5, 6, 7)) & rs1_ok & rs2_ok
    load = (opcode == 0x03) & among(funct3, (0, 1, 2, 4, 5)) & rd_ok & rs1_ok
    store = (opcode == 0x23) & (funct3 <= 2) & rs1_ok & rs2_ok
    immediate_form = among(funct3, (0, 2, 3, 4, 6, 7, 1)) | ((funct3 == 5) & ((funct7 == 0) | (funct7 == 0x20)))
    op_imm = (opcode == 0x13) & immediate_form & rd_ok & rs1_ok
    op_form = (funct7 == 0) | (funct7 == 1) | ((funct7 == 0x20) & ((funct3 == 0) | (funct3 == 5)))
    op = (opcode == 0x33) & op_form & rd_ok & rs1_ok & rs2_ok
    fence = (opcode == 0x0F) & (funct3 == 0)
    function = w >> 20
    system = (opcode == 0x73) & (
        ((funct3 == 0) & (rd == 0) & (rs1 == 0) & among(function, (0, 1, 0x105, 0x302)))
        | among(funct3, (1, 2, 3, 5, 6, 7))
    )
    return upper | jalr | branch | load | store | op_imm | op | fence | system  # type: ignore[no-any-return]


_validity_table: list[np.ndarray] = []


def _key(w: np.ndarray) -> np.ndarray:
    """The bits validity depends on (outside SYSTEM with funct3 0): opcode, funct3, funct7 and
    the top bit of each register field, packed in 20 bits."""
    return ((w & 0x7F) | ((w >> 5) & 0x380) | ((w >> 15) & 0x1FC00) | ((w << 6) & 0x20000)  # type: ignore[no-any-return]
            | ((w >> 1) & 0x40000) | ((w >> 5) & 0x80000))


def valid_words(words: np.ndarray) -> np.ndarray:
    """For each 32-bit word, whether ``decode_instruction`` accepts it: a table lookup on the bits
    that decide (built once from the rules), the rules themselves for SYSTEM with funct3 0."""
    if not _validity_table:
        keys = np.arange(1 << 20, dtype=np.uint32)
        representatives = ((keys & 0x7F) | ((keys & 0x380) << 5) | ((keys & 0x1FC00) << 15) | ((keys & 0x20000) >> 6)
                           | ((keys & 0x40000) << 1) | ((keys & 0x80000) << 5))
        _validity_table.append(_valid_words_by_rules(representatives))
    w = words.astype(np.uint32)
    valid = _validity_table[0][_key(w)]
    special = (w & 0x707F) == 0x73
    if special.any():
        valid[special] = _valid_words_by_rules(w[special])
    return valid  # type: ignore[no-any-return]


_LOAD_NAMES = {0: "lb", 1: "lh", 2: "lw", 4: "lbu", 5: "lhu"}
_STORE_NAMES = {0: "sb", 1: "sh", 2: "sw"}
_BRANCH_NAMES = {0: "beq", 1: "bne", 4: "blt", 5: "bge", 6: "bltu", 7: "bgeu"}
_OP_NAMES = {
    (0, 0x00): "add", (0, 0x20): "sub", (1, 0x00): "sll", (2, 0x00): "slt",
    (3, 0x00): "sltu", (4, 0x00): "xor", (5, 0x00): "srl", (5, 0x20): "sra",
    (6, 0x00): "or", (7, 0x00): "and",
    (0, 0x01): "mul", (1, 0x01): "mulh", (2, 0x01): "mulhsu", (3, 0x01): "mulhu",
    (4, 0x01): "div", (5, 0x01): "divu", (6, 0x01): "rem", (7, 0x01): "remu",
}
_OP_IMM_NAMES = {0: "addi", 2: "slti", 3: "sltiu", 4: "xori", 6: "ori", 7: "andi"}
Decoded = namedtuple("Decoded", "name rd rs1 rs2 imm")  # the fields of the spec's Instruction
_decoded_words: dict[int, Decoded | None] = {}


def decode_word(word: int) -> Decoded | None:  # noqa: C901 - one case per opcode, as the spec's decoder
    """The fields ``decode_instruction`` gives a word, or None where it raises (cached per word)."""
    cached = _decoded_words.get(word, False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    opcode = word & 0x7F
    rd = (word >> 7) & 31
    funct3 = (word >> 12) & 7
    rs1 = (word >> 15) & 31
    rs2 = (word >> 20) & 31
    funct7 = word >> 25
    imm_i = ((word >> 20) ^ 0x800) - 0x800
    result: Decoded | None = None
    if opcode in (0x37, 0x17):
        if rd < 16:
            result = Decoded("lui" if opcode == 0x37 else "auipc", rd, 0, 0, word & 0xFFFFF000)
    elif opcode == 0x6F:
        if rd < 16:
            imm = ((word >> 31) << 20) | (((word >> 12) & 0xFF) << 12) | (((word >> 20) & 1) << 11) | (((word >> 21) & 0x3FF) << 1)
            result = Decoded("jal", rd, 0, 0, (imm ^ 0x100000) - 0x100000)
    elif opcode == 0x67:
        if rd < 16 and rs1 < 16:
            result = Decoded("jalr", rd, rs1, 0, imm_i)
    elif opcode == 0x63:
        if funct3 in _BRANCH_NAMES and rs1 < 16 and rs2 < 16:
            imm = ((word >> 31) << 12) | (((word >> 7) & 1) << 11) | (((word >> 25) & 0x3F) << 5) | (((word >> 8) & 0xF) << 1)
            result = Decoded(_BRANCH_NAMES[funct3], 0, rs1, rs2, (imm ^ 0x1000) - 0x1000)
    elif opcode == 0x03:
        if funct3 in _LOAD_NAMES and rd < 16 and rs1 < 16:
            result = Decoded(_LOAD_NAMES[funct3], rd, rs1, 0, imm_i)
    elif opcode == 0x23:
        if funct3 in _STORE_NAMES and rs1 < 16 and rs2 < 16:
            result = Decoded(_STORE_NAMES[funct3], 0, rs1, rs2, ((((funct7 << 5) | rd)) ^ 0x800) - 0x800)
    elif opcode == 0x13:
        if rd < 16 and rs1 < 16:
            if funct3 in _OP_IMM_NAMES:
                result = Decoded(_OP_IMM_NAMES[funct3], rd, rs1, 0, imm_i)
            elif funct3 == 1:
                result = Decoded("slli", rd, rs1, 0, rs2)
            elif funct3 == 5 and funct7 in (0, 0x20):
                result = Decoded("srli" if funct7 == 0 else "srai", rd, rs1, 0, rs2)
    elif opcode == 0x33:
        name = _OP_NAMES.get((funct3, funct7))
        if name is not None and rd < 16 and rs1 < 16 and rs2 < 16:
            result = Decoded(name, rd, rs1, rs2, 0)
    elif opcode == 0x0F:
        if funct3 == 0:
            result = Decoded("unimplemented", 0, 0, 0, word)
    elif opcode == 0x73:
        function = word >> 20
        if funct3 == 0 and rd == 0 and rs1 == 0 and function in (0, 1, 0x105, 0x302):
            result = Decoded("ecall", 0, 0, 0, 0) if function == 0 else Decoded("ebreak", 0, 0, 0, 0) \
                if function == 1 else Decoded("unimplemented", 0, 0, 0, word)
        elif funct3 in (1, 2, 3, 5, 6, 7):
            result = Decoded("unimplemented", 0, 0, 0, word)
    if len(_decoded_words) >= 1 << 16:
        _decoded_words.clear()
    _decoded_words[word] = result
    return result


class LazyInstructions(Sequence):
    """``Program.instructions``: each word decoded the first time it is read (every word was
    checked at load, so decoding cannot fail)."""

    def __init__(self, words: array, instruction: Callable[..., Any]) -> None:
        self._words = words
        self._instruction = instruction  # the spec's Instruction class
        self._decoded: dict[int, Any] = {}

    def __len__(self) -> int:
        return len(self._words)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        if index < 0:
            index += len(self._words)
        instruction = self._decoded.get(index)
        if instruction is None:
            instruction = self._decoded[index] = self._instruction(*decode_word(self._words[index]))  # type: ignore[misc]
        return instruction

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self._words)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (tuple, list, Sequence)) and not isinstance(other, (str, bytes)):
            return len(self) == len(other) and tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LazyInstructions({len(self)} words)"


class Words(Sequence):
    """``Program.words``: the executable words, backed by an array."""

    def __init__(self, words: array) -> None:
        self._words = words

    def __len__(self) -> int:
        return len(self._words)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return tuple(self._words[index])
        return self._words[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (tuple, list, Sequence)) and not isinstance(other, (str, bytes)):
            return len(self) == len(other) and tuple(self._words) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Words({len(self)} words)"


class LazyImage(Mapping):
    """``Program.memory_image``: the words of every loadable segment, read from the segment bytes.

    A later segment overrides an earlier one at the same address, as in the spec's dict.
    """

    def __init__(self, segments: list[tuple[int, array]]) -> None:
        self.segments = segments  # (vaddr, words), in header order
        self._full: dict[int, int] | None = None
        self._pages: dict[int, dict[int, int]] = {}  # page -> its words (``page_dict``)
        self._page_set: frozenset[int] | None = None

    def word(self, address: int) -> int | None:
        """The image word at an aligned address, or None when no segment holds it."""
        for vaddr, words in reversed(self.segments):
            index = (address - vaddr) >> 2
            if 0 <= index < len(words) and address >= vaddr:
                return words[index]  # type: ignore[no-any-return]
        return None

    def pages(self) -> set[int]:
        """The pages holding image words (a new set: a machine's memory removes the pages it loads)."""
        if self._page_set is None:
            pages: set[int] = set()
            for vaddr, words in self.segments:
                if words:
                    pages.update(range(vaddr >> PAGE_SHIFT, ((vaddr + 4 * len(words) - 1) >> PAGE_SHIFT) + 1))
            self._page_set = frozenset(pages)
        return set(self._page_set)

    def page_dict(self, page: int) -> dict[int, int]:
        """The image's words in one page (address -> word, the last segment winning), kept for the
        next runs of the program (at most ``_IMAGE_PAGES`` pages)."""
        words = self._pages.get(page)
        if words is None:
            if len(self._pages) >= _IMAGE_PAGES:
                self._pages.clear()
            low, high = page << PAGE_SHIFT, (page + 1) << PAGE_SHIFT
            words = {}
            for vaddr, segment in self.segments:
                start, end = max(low, vaddr), min(high, vaddr + 4 * len(segment))
                if start < end:
                    words.update(zip(range(start, end, 4), segment[(start - vaddr) >> 2 : (end - vaddr) >> 2]))
            self._pages[page] = words
        return words

    def full(self) -> dict[int, int]:
        if self._full is None:
            image: dict[int, int] = {}
            for vaddr, words in self.segments:
                image.update(zip(range(vaddr, vaddr + 4 * len(words), 4), words))
            self._full = image
        return self._full

    def __getitem__(self, address: object) -> int:
        if not isinstance(address, int) or address % 4:
            raise KeyError(address)
        word = self.word(address)
        if word is None:
            raise KeyError(address)
        return word

    def __iter__(self) -> Iterator[int]:
        return iter(self.full())

    def __len__(self) -> int:
        return len(self.full())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self.full() == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LazyImage({len(self.segments)} segments)"


def _materialized(name: str) -> Callable[..., Any]:
    method = getattr(dict, name)

    def wrapper(self: LazyMemory, *args: Any, **kwargs: Any) -> Any:
        self.load_all()
        return method(self, *args, **kwargs)

    wrapper.__name__ = name
    return wrapper


class LazyMemory(dict):
    """A machine's memory (aligned address -> word) whose image words are loaded a page at a time.

    It holds what the spec's dict holds: every image word plus every word written. The words of
    an image page enter the dict the first time the page is touched, without overwriting words
    already written there; any view of the whole memory (iteration, length, items, equality)
    loads every page first. Fast paths read it with ``dict.get`` and call ``miss`` on None.
    """

    __slots__ = ("image", "pending", "pages", "read_once", "stores_left")

    def __init__(self, image: Mapping[int, int] | None = None) -> None:
        self.pending: set[int] = set()
        self.image: LazyImage | None = None
        # the page cache of bulk syscall reads (``_read_cached``): page -> its 4 KiB, enabled
        # (a dict) only while ``run`` executes, when every write to the memory is one of the
        # engine's, each of which writes the cached pages it changes too (or drops them)
        self.pages: dict[int, bytearray] | None = None
        self.stores_left = 0  # stores through ``_InvalidatingStores`` before it drops every page
        self.read_once: set[int] = set()  # pages a bulk read has read without caching them
        if isinstance(image, LazyImage):
            self.image = image
            self.pending = image.pages()
        elif image:
            dict.update(self, image)

    def load_page(self, page: int) -> None:
        self.pending.discard(page)
        assert self.image is not None
        words = self.image.page_dict(page)
        held = dict.keys(self) & words.keys()  # words stored before the page was loaded: they stay
        if held:
            kept = {address: dict.__getitem__(self, address) for address in held}
            dict.update(self, words)
            dict.update(self, kept)
        else:
            dict.update(self, words)

    def load_range(self, start: int, end: int) -> None:
        """Load the image pages of the addresses start..end-1."""
        if self.pending:
            for page in range(start >> PAGE_SHIFT, ((end - 1) >> PAGE_SHIFT) + 1):
                if page in self.pending:
                    self.load_page(page)

    def load_all(self) -> None:
        for page in sorted(self.pending):
            self.load_page(page)

    def miss(self, address: int) -> int:
        """The word at an aligned address absent from the dict (0 unless its image page was
        pending); an address outside 0..2**32-1 (a compiled load's, not reduced) is read modulo 2**32."""
        if not 0 <= address <= M:
            address &= M
            value = _dict_get(self, address)
            if value is not None:
                return value  # type: ignore[no-any-return]
        page = address >> PAGE_SHIFT
        if page in self.pending:
            self.load_page(page)
            return _dict_get(self, address, 0)  # type: ignore[no-any-return]
        return 0

    def get(self, address: Any, default: Any = None) -> Any:
        value = _dict_get(self, address)
        if value is None:
            if isinstance(address, int) and (address >> PAGE_SHIFT) in self.pending:
                self.load_page(address >> PAGE_SHIFT)
                return _dict_get(self, address, default)
            return default
        return value

    def __missing__(self, address: Any) -> int:
        if isinstance(address, int) and (address >> PAGE_SHIFT) in self.pending:
            self.load_page(address >> PAGE_SHIFT)
            if _dict_contains(self, address):
                return dict.__getitem__(self, address)  # type: ignore[no-any-return]
        raise KeyError(address)

    def __contains__(self, address: object) -> bool:
        if isinstance(address, int) and (address >> PAGE_SHIFT) in self.pending:
            self.load_page(address >> PAGE_SHIFT)
        return _dict_contains(self, address)

    __iter__ = _materialized("__iter__")
    __len__ = _materialized("__len__")
    __repr__ = _materialized("__repr__")
    __reversed__ = _materialized("__reversed__")
    __or__ = _materialized("__or__")
    __ror__ = _materialized("__ror__")
    keys = _materialized("keys")
    values = _materialized("values")
    items = _materialized("items")
    copy = _materialized("copy")
    pop = _materialized("pop")
    popitem = _materialized("popitem")
    setdefault = _materialized("setdefault")

    def __eq__(self, other: object) -> bool:
        self.load_all()
        if isinstance(other, LazyMemory):
            other.load_all()
        return dict.__eq__(self, other)  # type: ignore[no-any-return]

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None  # type: ignore[assignment]

    def clear(self) -> None:
        self.pending = set()
        if self.pages:
            self.pages.clear()
        dict.clear(self)


class _InvalidatingStores:
    """What compiled blocks and tier 0 store through while the page cache holds pages: each store
    goes to the memory and into the cached page it changes. After ``_TRACKED_STORES`` stores
    since the last page was cached it drops every page, so the run goes back to plain stores
    (the extra cost of these stores never exceeds a fixed multiple of the caching it serves)."""

    __slots__ = ("memory", "pages", "miss")

    def __init__(self, memory: LazyMemory) -> None:
        self.memory = memory
        assert memory.pages is not None
        self.pages = memory.pages
        self.miss = memory.miss

    def __setitem__(self, address: int, value: int) -> None:
        memory = self.memory
        _dict_set(memory, address, value)
        pages = self.pages
        if pages:
            page = pages.get(address >> PAGE_SHIFT)
            if page is not None:
                _pack_word(page, address & _PAGE_MASK, value)
            memory.stores_left -= 1
            if memory.stores_left <= 0:
                pages.clear()


@replaces("athena", "load_program", factory=True)
def make_load_program(spec: Any) -> Any:
    """load_program with one vectorized validity pass and lazy decoding, cached by code bytes."""
    cache: OrderedDict[bytes, Any] = OrderedDict()
    cached_bytes = [0]

    def remember(code: bytes, result: Any) -> Any:
        cache[code] = result
        cached_bytes[0] += len(code)
        while len(cache) > _PROGRAM_CACHE_SIZE or (cached_bytes[0] > _PROGRAM_CACHE_BYTES and len(cache) > 1):
            old, _ = cache.popitem(last=False)
            cached_bytes[0] -= len(old)
        return result

    def check_words(words: array) -> None:
        if len(words) < 512:  # below this, numpy's fixed costs are more than decoding each word (which a run needs anyway)
            for word in words:
                if decode_word(word) is None:
                    spec.decode_instruction(word)  # raises the spec's error
            return
        array_of_words = np.frombuffer(words, dtype=np.uint32)
        # the rules themselves below 4096 words (the table of valid keys costs more to build once)
        valid = _valid_words_by_rules(array_of_words) if len(words) < 4096 else valid_words(array_of_words)
        if not valid.all():
            spec.decode_instruction(int(words[int(np.argmin(valid))]))  # raises the spec's error
            raise AssertionError("vectorized decoder accepted less than the spec")  # pragma: no cover

    def load_raw(code: bytes) -> Any:
        if len(code) % 4 != 0:
            raise spec.InvalidProgram("raw_length", f"{len(code)} bytes")
        words = _words_of(code[4:])
        check_words(words)
        return spec.Program(LazyInstructions(words, spec.Instruction), Words(words), 0, 0, {}, {}, {})

    def load_elf(code: bytes) -> Any:
        unpack_from = spec.unpack_from
        if len(code) < 52:
            raise spec.InvalidProgram("truncated_elf", "ELF header")
        if code[4] != 1 or code[5] != 1 or code[6] != 1:
            raise spec.InvalidProgram("elf_ident", "must be ELFCLASS32, little-endian, version 1")
        (e_type, e_machine, _version, e_entry, e_phoff, e_shoff, _flags, _ehsize,
         e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx) = unpack_from("<HHIIIIIHHHHHH", code, 16)
        if e_machine != spec.EM_RISCV:
            raise spec.InvalidProgram("elf_machine", f"{e_machine}")
        if e_type != spec.ET_EXEC:
            raise spec.InvalidProgram("elf_type", f"{e_type}")
        if e_entry % 4 != 0:
            raise spec.InvalidProgram("elf_entry_unaligned", f"{e_entry:#x}")
        if e_phnum > spec.MAX_PROGRAM_HEADERS:
            raise spec.InvalidProgram("elf_too_many_segments", f"{e_phnum}")
        if e_phnum > 0 and e_phentsize != 32:
            raise spec.InvalidProgram("elf_phentsize", f"{e_phentsize}")
        segments = []
        for index in range(e_phnum):
            (p_type, p_offset, p_vaddr, _paddr, p_filesz, p_memsz, p_flags, _align) = unpack_from(
                "<IIIIIIII", code, e_phoff + 32 * index)
            if p_type != spec.PT_LOAD:
                continue
            if p_offset + p_filesz > len(code):
                raise spec.InvalidProgram("truncated_elf", f"segment {index} data")
            segments.append(spec.ElfSegment(p_type, p_flags, p_vaddr, p_memsz, code[p_offset : p_offset + p_filesz]))
        image: list[tuple[int, array]] = []
        executable: list[array] = []
        base = M
        for segment in segments:
            if segment.vaddr % 4 != 0:
                raise spec.InvalidProgram("elf_segment_unaligned", f"{segment.vaddr:#x}")
            if segment.flags & spec.PF_X != 0:
                base = min(base, segment.vaddr)
            full_words = len(segment.data) // 4
            if segment.vaddr + 4 * full_words > M:
                raise spec.InvalidProgram("elf_segment_overflow", f"{segment.vaddr:#x}")
            words = _words_of(segment.data + b"\x00" * (-len(segment.data) % 4))
            image.append((segment.vaddr, words))
            if segment.flags & spec.PF_X != 0:
                executable.append(words)
        exports = spec.read_exports(code, segments, e_shoff, e_shentsize, e_shnum, e_shstrndx)
        selectors = {}
        for name in sorted(exports):
            selectors[spec.method_selector(name)] = exports[name]
        code_words = array("I")
        for words in executable:
            code_words.extend(words)
        check_words(code_words)
        return spec.Program(LazyInstructions(code_words, spec.Instruction), Words(code_words), base, e_entry,
                            LazyImage(image), exports, selectors)

    def load_program(code: bytes) -> Program:
        """Parse, load and decode an executable, or raise InvalidProgram."""
        code = bytes(code)
        hit = cache.get(code)
        if hit is not None:
            cache.move_to_end(code)
            if isinstance(hit, tuple):
                raise spec.InvalidProgram(*hit)
            return hit  # type: ignore[no-any-return]
        try:
            if len(code) < 4:
                raise spec.InvalidProgram("too_short", f"{len(code)} bytes")
            if code[:4] == spec.ELF_MAGIC:
                program = load_elf(code)
            elif code[:4] == spec.RAW_MAGIC:
                program = load_raw(code)
            else:
                raise spec.InvalidProgram("unknown_format", code[:4].hex())
        except spec.InvalidProgram as error:
            remember(code, (error.reason, error.detail))
            raise
        return remember(code, program)  # type: ignore[no-any-return]

    return load_program


# ---------------------------------------------------------------------------------------------
# Syscall memory in bulk


def _read_words(memory: dict, start: int, end: int) -> bytes:
    """The bytes of the aligned words start..end-1 of a machine's memory: a lookup per word, or
    when the memory holds fewer words than the range, the image and then every word held."""
    count = (end - start) >> 2
    if 0 < count <= 2 and isinstance(memory, LazyMemory):  # a syscall's amount or pointer: no iterators
        pending = memory.pending
        if pending and (start >> PAGE_SHIFT in pending or (end - 1) >> PAGE_SHIFT in pending):
            memory.load_range(start, end)
        if count == 1:
            return _PACK_WORDS[1](_dict_get(memory, start, 0))  # type: ignore[no-any-return]
        return _PACK_WORDS[2](_dict_get(memory, start, 0), _dict_get(memory, start + 4, 0))  # type: ignore[no-any-return]
    if dict.__len__(memory) < count:
        return _read_sparse(memory, start, end)
    if isinstance(memory, LazyMemory):
        if memory.pending:
            memory.load_range(start, end)
        get = _dict_get.__get__(memory)
    else:
        get = memory.get
    if count < len(_PACK_WORDS):  # a few words (a syscall's address, amount or key): one struct call
        return _PACK_WORDS[count](*map(get, range(start, end, 4), repeat(0)))  # type: ignore[no-any-return]
    return _bytes_of(array("I", map(get, range(start, end, 4), repeat(0))))


def _read_sparse(memory: dict, start: int, end: int) -> bytes:
    """``_read_words`` from the words held: zeros, the image's bytes in pages not loaded yet (a
    later segment over an earlier one, as ``LazyImage.page_dict``), then every word held in the
    range (a word stored in a page not loaded yet wins over the image, as ``LazyMemory.miss``)."""
    data = bytearray(end - start)
    if isinstance(memory, LazyMemory) and memory.pending and memory.image is not None:
        pending = memory.pending
        for page in range(start >> PAGE_SHIFT, ((end - 1) >> PAGE_SHIFT) + 1):
            if page in pending:
                low = max(start, page << PAGE_SHIFT)
                high = min(end, (page + 1) << PAGE_SHIFT)
                for vaddr, words in memory.image.segments:
                    first = max(low, vaddr)
                    last = min(high, vaddr + 4 * len(words))
                    if first < last:
                        data[first - start : last - start] = _bytes_of(words[(first - vaddr) >> 2 : (last - vaddr) >> 2])
    pack = _pack_word
    for address, value in dict.items(memory):
        if start <= address < end and not address & 3:
            pack(data, address - start, value & M)
    return bytes(data)


def _read_cached(memory: LazyMemory, pages: dict[int, bytearray], address: int, length: int) -> bytes:
    """`length` bytes from `address` (not wrapping), whole 4 KiB pages at a time from the page
    cache. A page is cached the second time a bulk read needs it (the first reads only the
    words asked for, as most buffers are read once): it is read from the words then."""
    first = address >> PAGE_SHIFT
    last = (address + length - 1) >> PAGE_SHIFT
    chunks: list[Any] = list(map(pages.get, range(first, last + 1)))
    if None in chunks:
        read_once = memory.read_once
        missing = [first + index for index, data in enumerate(chunks) if data is None]
        if not read_once.issuperset(missing):
            if len(read_once) > _CACHED_PAGES:
                read_once.clear()
            read_once.update(missing)
            start = address & ~3
            return _read_words(memory, start, (address + length + 3) & ~3)[address - start : address - start + length]
        for page in missing:
            low = page << PAGE_SHIFT
            chunks[page - first] = pages[page] = bytearray(_read_words(memory, low, low + (1 << PAGE_SHIFT)))
            memory.stores_left = _TRACKED_STORES
            if len(pages) > _CACHED_PAGES:
                del pages[next(iter(pages))]  # the oldest
    offset = address - (first << PAGE_SHIFT)
    if first == last:
        return bytes(memoryview(chunks[0])[offset : offset + length])
    chunks[0] = memoryview(chunks[0])[offset:]
    chunks[-1] = memoryview(chunks[-1])[: address + length - (last << PAGE_SHIFT)]
    return b"".join(chunks)


@replaces("athena", "read_bytes", factory=True)
def _read_bytes_factory(spec: Any) -> Any:
    def read_bytes(machine: Machine, address: int, length: int) -> bytes:
        if length > spec.MAX_SYSCALL_BUFFER:
            raise spec.VmTrap(spec.StatusCode.INVALID_SYSCALL_ARGUMENT, "buffer_too_long", f"{length} bytes")
        if address + length > M + 1:
            raise spec.VmTrap(spec.StatusCode.INVALID_SYSCALL_ARGUMENT, "buffer_wraps", f"{address:#x}+{length}")
        if length <= 0:
            return b""
        memory = machine.memory
        if length >= _CACHED_READ and isinstance(memory, LazyMemory) and memory.pages is not None:
            return _read_cached(memory, memory.pages, address, length)
        start = address & ~3
        end = (address + length + 3) & ~3
        data = _read_words(memory, start, end)
        offset = address - start
        return data[offset : offset + length]

    return read_bytes


def _write_pages(memory: dict, address: int, data: bytes) -> None:
    """Write `data` (whole words from the aligned `address`) into the cached pages it overlaps,
    as the words are being written (a write that wraps past the top drops every page)."""
    pages = memory.pages if isinstance(memory, LazyMemory) else None
    if not pages or not data:
        return
    end = address + len(data)
    if end > M + 1:
        pages.clear()
        return
    for page in range(address >> PAGE_SHIFT, ((end - 1) >> PAGE_SHIFT) + 1):
        cached = pages.get(page)
        if cached is not None:
            low = max(address, page << PAGE_SHIFT)
            high = min(end, (page + 1) << PAGE_SHIFT)
            cached[low & _PAGE_MASK : ((high - 1) & _PAGE_MASK) + 1] = data[low - address : high - address]


def _store_words(memory: dict, address: int, data: bytes) -> None:
    """Store whole little-endian words of `data` from the aligned `address` on (wrapping)."""
    words = _words_of(data)
    count = len(words)
    _write_pages(memory, address, data[: 4 * count])
    if address + 4 * count <= M + 1:
        memory.update(zip(range(address, address + 4 * count, 4), words))
    else:
        for index in range(count):
            memory[(address + 4 * index) & M] = words[index]


@replaces("athena", "write_words", factory=True)
def _write_words_factory(spec: Any) -> Any:
    def write_words(machine: Machine, address: int, data: bytes) -> None:
        """Write `data` (a multiple of 4 bytes) as words starting at the aligned `address`."""
        spec.require_aligned(address)
        _store_words(machine.memory, address, data[: len(data) - len(data) % 4])

    return write_words


@replaces("athena", "syscall_hint_read", factory=True)
def _syscall_hint_read_factory(spec: Any) -> Any:
    def syscall_hint_read(machine: Machine, destination: int, length: int) -> int:
        stream = machine.input_stream
        position = machine.input_position
        remaining = len(stream) - min(position, len(stream))
        if length > remaining:
            raise spec.VmTrap(spec.StatusCode.INSUFFICIENT_INPUT, "insufficient_input", f"{length} > {remaining}")
        data = bytes(stream[position : position + length])
        memory = machine.memory
        address = destination
        if address % 4 != 0 and data:
            aligned = address & ~3
            offset = address % 4
            count = min(4 - offset, len(data))
            word = bytearray(memory.get(aligned, 0).to_bytes(4, "little"))
            word[offset : offset + count] = data[:count]
            _write_pages(memory, aligned, bytes(word))
            memory[aligned] = int.from_bytes(word, "little")
            address = (aligned + 4) & M
            data = data[count:]
        if data:
            _store_words(memory, address, data + b"\x00" * (-len(data) % 4))
        machine.input_position += length
        return length

    return syscall_hint_read


@replaces("athena", "execute_syscall", factory=True)
def _execute_syscall_factory(spec: Any) -> Any:
    """The spec's ``execute_syscall`` with the syscalls a contract call makes at each run
    (HINT_LEN, HINT_READ, HOST_CONTEXT, HOST_CALL) dispatched at once: registers read from the
    list, the bytes moved (``syscall_bytes_moved``) counted in place; any other number runs the
    spec's own."""
    spec_execute = spec.execute_syscall
    hint_len, hint_read = spec.SYSCALL_HINT_LEN, spec.SYSCALL_HINT_READ
    host_context, host_call = spec.SYSCALL_HOST_CONTEXT, spec.SYSCALL_HOST_CALL
    context_size, address_size = spec.CONTEXT_SIZE, spec.ADDRESS_SIZE
    t0, a0, a1, a2 = spec.REG_T0, spec.REG_A0, spec.REG_A1, spec.REG_A2

    def execute_syscall(machine: Machine) -> int:
        """Run the syscall named by t0; return the next pc."""
        registers = machine.registers
        number = registers[t0]
        if number == hint_read:
            length = registers[a1]
            result = spec.syscall_hint_read(machine, registers[a0], length)
            moved = length
        elif number == hint_len:
            stream = machine.input_stream
            result = len(stream) - min(machine.input_position, len(stream))
            moved = 0
        elif number == host_context:
            spec.syscall_host_context(machine, registers[a0])
            machine.gas += machine.schedule.syscall_byte * context_size
            return (machine.pc + 4) & M
        elif number == host_call:
            result = spec.syscall_host_call(machine, registers[a0], registers[a1])
            moved = address_size + registers[a2] + 8 + result
        else:
            return spec_execute(machine)  # type: ignore[no-any-return]
        machine.gas += machine.schedule.syscall_byte * moved
        registers[t0] = result & M
        return (machine.pc + 4) & M

    return execute_syscall


# ---------------------------------------------------------------------------------------------
# ed25519 on libsodium

_L = 2**252 + 27742317777372353535851937790883648493
_INVERSE_8 = pow(8, -1, _L)
_IDENTITY = (1).to_bytes(32, "little")
_KEY_CACHE_SIZE = 256


def _add(first: bytes, second: bytes) -> bytes:
    return bytes(sodium.crypto_core_ed25519_add(first, second))


def _small_multiples(point: bytes) -> tuple[bytes, ...]:
    """[0]point .. [7]point (a torsion point: its order divides 8)."""
    multiples = [_IDENTITY]
    if point == _IDENTITY:
        return tuple(multiples * 8)
    for _ in range(7):
        multiples.append(_add(multiples[-1], point))
    return tuple(multiples)


@replaces("athena", "ed25519_decompress", factory=True)
def _ed25519_decompress_factory(spec: Any) -> Any:
    decompress = spec.ed25519_decompress
    cache: OrderedDict[bytes, Any] = OrderedDict()

    def ed25519_decompress(encoding: bytes) -> EdwardsPoint | None:
        """The point with this encoding as curve25519-dalek decodes it, or None."""
        encoding = bytes(encoding)
        if encoding in cache:
            cache.move_to_end(encoding)
            return cache[encoding]  # type: ignore[no-any-return]
        point = decompress(encoding)
        cache[encoding] = point
        if len(cache) > _KEY_CACHE_SIZE:
            cache.popitem(last=False)
        return point  # type: ignore[no-any-return]

    return ed25519_decompress


@replaces("athena", "ed25519_verify", factory=True)
def _ed25519_verify_factory(spec: Any) -> Any:
    compress = spec.ed25519_compress
    parts: OrderedDict[bytes, tuple[bytes, tuple[bytes, ...]]] = OrderedDict()

    def split(public_key: bytes, point: Any) -> tuple[bytes, tuple[bytes, ...]]:
        """(prime-order part, the 8 multiples of the torsion part) of a key's point, as canonical
        encodings."""
        if public_key in parts:
            parts.move_to_end(public_key)
            return parts[public_key]
        canonical = compress(point)
        eight = _add(canonical, canonical)
        eight = _add(eight, eight)
        eight = _add(eight, eight)
        if eight == _IDENTITY:
            prime = _IDENTITY
        else:
            prime = bytes(sodium.crypto_scalarmult_ed25519_noclamp(_INVERSE_8.to_bytes(32, "little"), eight))
        torsion = _small_multiples(bytes(sodium.crypto_core_ed25519_sub(canonical, prime)))
        parts[public_key] = (prime, torsion)
        if len(parts) > _KEY_CACHE_SIZE:
            parts.popitem(last=False)
        return prime, torsion

    def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
        public_key, message, signature = bytes(public_key), bytes(message), bytes(signature)
        point = spec.ed25519_decompress(public_key)  # the backend's (cached) decompression
        if point is None or len(signature) != 64:
            return False
        s = int.from_bytes(signature[32:], "little")
        if s >= _L:
            return False
        try:
            sodium.crypto_sign_open(signature + message, public_key)
            return True  # libsodium's rules are a subset of dalek's
        except nacl.exceptions.BadSignatureError:
            pass
        k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little") % _L
        prime, torsion = split(public_key, point)
        if prime == _IDENTITY or k == 0:
            k_a = _IDENTITY
        else:
            k_a = bytes(sodium.crypto_scalarmult_ed25519_noclamp(k.to_bytes(32, "little"), prime))
        if torsion[k % 8] != _IDENTITY:  # [k]A = [k]prime + [k mod 8]torsion
            k_a = torsion[k % 8] if k_a == _IDENTITY else _add(k_a, torsion[k % 8])
        s_b = _IDENTITY if s == 0 else bytes(sodium.crypto_scalarmult_ed25519_base_noclamp(s.to_bytes(32, "little")))
        return bytes(sodium.crypto_core_ed25519_sub(s_b, k_a)) == signature[:32]

    return ed25519_verify


# ---------------------------------------------------------------------------------------------
# Execution


def _div(a: int, b: int) -> int:
    if b == 0:
        return M
    sa = a - (1 << 32) if a >> 31 else a
    sb = b - (1 << 32) if b >> 31 else b
    q = abs(sa) // abs(sb)
    if (sa < 0) != (sb < 0):
        q = -q
    return q & M


def _rem(a: int, b: int) -> int:
    if b == 0:
        return a
    sa = a - (1 << 32) if a >> 31 else a
    sb = b - (1 << 32) if b >> 31 else b
    q = abs(sa) // abs(sb)
    if (sa < 0) != (sb < 0):
        q = -q
    return (sa - q * sb) & M


_NAMESPACE = {"_div": _div, "_rem": _rem}
# the longest loop path (in instructions) whose counted `for` runs two copies of it per turn:
# the `for`'s own cost per turn weighs most in the shortest loops, and the copies cost compile
# time (with 12 or 48, isa.c's short call ran its warm runs 3-5% slower; see docs/athena.md)
UNROLL = 6
# the most instructions (turns x body) an inner loop of ALU instructions counted down from a
# constant is written out in (``_BlockCompiler.unroll``: a CRC's bit loop, 8 turns of 6)
UNROLL_INNER = 64
FULL = (0, M)  # what a register may hold when nothing more is known
HALF = (0, 0x7FFFFFFF)  # the range a counted loop's registers are assumed in (``_BlockCompiler.speculation``)

BRANCHES = ("beq", "bne", "blt", "bge", "bltu", "bgeu")
# a branch's negation: taken exactly when the branch is not
INVERSE = {"beq": "bne", "bne": "beq", "blt": "bge", "bge": "blt", "bltu": "bgeu", "bgeu": "bltu"}
SYSTEM = ("ecall", "ebreak", "unimplemented")
COMPILE = 2  # third value of a block's result: the block ran, and is hot enough to be compiled
COMPILE_THEN_STEP = 3  # the block ran up to an instruction the spec must step, and is hot enough to be compiled
LOADS = ("lb", "lh", "lw", "lbu", "lhu")
STORES = ("sb", "sh", "sw")
_NOT_ALU = ("lui", "auipc", "jal", "jalr", *BRANCHES, *SYSTEM, *LOADS, *STORES)


class Engine:
    """Per-program execution state shared by every run of the program: blocks and their tiers."""

    def __init__(self, program: Any, threshold: int | None) -> None:
        self.program = program
        self.threshold = threshold
        self.base = program.pc_base
        self.size = len(program.instructions)
        words = program.words
        if isinstance(words, Words) and isinstance(program.instructions, LazyInstructions):
            self.words: Sequence[int] | None = words._words
        else:
            self.words = None  # a Program built elsewhere: read its Instruction objects
        self.blocks: dict[int, Callable[..., tuple[int, int, bool]]] = {}
        # block starts entered once, by the first-visit walker (``_walker``): the second entry builds the block
        self.visited: set[int] = set()
        self.walk = _walker(self.words, self.base, self.size) if self.words is not None and threshold != 0 else None
        self.compiled = 0
        self.paths: dict[int, list[tuple[int, Decoded, Any]]] = {}  # start -> path of each compiled block
        self.region_blocks = 0  # `compiled` when the region was last built
        self.compiled_before = 0  # `compiled` at the start of the last run
        self.region: Callable[..., tuple[int, int, bool]] | None = None
        self.runs_since_region = 0
        # start -> its segment in a region function and the registers it uses (``region_source``)
        self.segments: dict[int, tuple[list[str], set[int]]] = {}

    def index(self, pc: int) -> int | None:
        index = ((pc - self.base) & M) >> 2
        return index if index < self.size else None

    def decoded(self, index: int) -> Decoded:
        if self.words is not None:
            return decode_word(self.words[index])  # type: ignore[return-value]
        ins = self.program.instructions[index]
        return Decoded(ins.name, ins.rd, ins.rs1, ins.rs2, ins.imm)

    def superblock(self, start: int, basic: bool = False, stop: Container[int] = ()) -> list[tuple[int, Decoded, Any]]:
        """(pc, instruction, followed) along the path from `start`; `followed` marks a jump whose
        target the path continues at: True for a direct jump, the target for a JALR (a return to
        a link set on the path, or the target tier 0 saw last, checked when the block runs). A
        superblock runs through conditional branches and calls; a basic block (`basic`) ends at
        the first branch or JALR. The path ends before a pc in `stop` (other than `start`)."""
        path: list[tuple[int, Decoded, Any]] = []
        seen = set()
        links: dict[int, int] = {}  # registers holding a link set on the path
        pc = start
        while len(path) < MAX_BLOCK:
            index = self.index(pc)
            if index is None or (path and pc in stop):
                break
            seen.add(pc)
            instruction = self.decoded(index)
            name = instruction.name
            if name == "jal" or (name == "jalr" and not basic):
                if name == "jal":
                    target: int | None = (pc + instruction.imm) & M
                elif instruction.rs1 in links:
                    target = (links[instruction.rs1] + instruction.imm) & M
                else:
                    target = _jalr_targets.get((pc + 4) & M)
                follow = (target is not None and target != 0 and not target & 3 and target not in seen
                          and target != start and target not in stop and self.index(target) is not None
                          and len(path) + 1 < MAX_BLOCK)
                path.append((pc, instruction, (follow if name == "jal" else target) if follow else False))
                if not follow:
                    break
                links.pop(instruction.rd, None)
                if instruction.rd:
                    links[instruction.rd] = (pc + 4) & M
                pc = target  # type: ignore[assignment]
                continue
            links.pop(instruction.rd, None)
            if not basic and name in BRANCHES and pc + 4 <= M and len(path) + 2 < MAX_BLOCK:
                target = (pc + instruction.imm) & M
                if (target != start and target not in seen and target not in stop and pc + 4 not in seen
                        and (target + 4) & M != start
                        and self.closes_loop(target, start)):
                    # the loop's way goes through the taken branch (a loop whose test is a block
                    # of its own, as gcc lays out ``memcmp``): the path goes on at the target,
                    # and the negated branch, to the next instruction, leaves the loop
                    path.append((pc, Decoded(INVERSE[name], 0, instruction.rs1, instruction.rs2, 4), False))
                    pc = target
                    continue
            path.append((pc, instruction, False))
            if name == "jalr" or name in SYSTEM or pc + 4 > M or (basic and name in BRANCHES):
                break
            if name in BRANCHES and (pc + instruction.imm) & M == start:
                break  # a loop: the compiled block runs its body in place, and leaves at its exit
            pc += 4
        return path

    def closes_loop(self, pc: int, start: int) -> bool:
        """Whether the instruction at `pc` is a conditional branch or a JAL back to `start`."""
        index = self.index(pc)
        if index is None:
            return False
        ins = self.decoded(index)
        return ins is not None and (ins.name in BRANCHES or ins.name == "jal") and (pc + ins.imm) & M == start

    def basic(self, start: int) -> tuple[list[tuple], list[int], int]:
        """``_tier0(self.superblock(start, basic=True))`` in one pass over the words: most blocks
        run once or a few times, so building them is a large part of a short run. The op tuple of
        a pc-independent instruction is cached per word, skipping decoding altogether."""
        words = self.words
        assert words is not None
        base = self.base
        size = self.size
        word_ops = _word_ops
        ops: list[tuple] = []
        pcs: list[int] = []
        pc = start
        while len(ops) < MAX_BLOCK:
            index = ((pc - base) & M) >> 2
            if index >= size:
                break
            word = words[index]
            op = word_ops.get(word)
            if op is not None:  # an ALU instruction, load or store: the block goes on
                ops.append(op)
                pcs.append(pc)
                if pc + 4 > M:
                    break
                pc += 4
                continue
            ins = decode_word(word)
            assert ins is not None  # every executable word was checked at load
            name = ins.name
            if name == "jal":
                target = (pc + ins.imm) & M
                follow = (target != 0 and target != pc and target not in pcs and target != start
                          and self.index(target) is not None and len(ops) + 1 < MAX_BLOCK)
                ops.append(_op(pc, ins, follow))
                pcs.append(pc)
                if not follow:
                    break
                pc = target
                continue
            op = _op(pc, ins, False)
            if name in _WRITES_RD or name in LOADS or name in STORES:
                if len(word_ops) >= 1 << 16:
                    word_ops.clear()
                word_ops[word] = op
            ops.append(op)
            pcs.append(pc)
            if name == "jalr" or name in SYSTEM or pc + 4 > M or name in BRANCHES:
                break
            pc += 4
        return ops, pcs, (pcs[-1] + 4) & M

    def tier0_ops(self, pc: int) -> tuple[list[tuple], list[int], int]:
        """The op tuples of the basic block at `pc` for a tier-0 interpreter, their pcs, and the pc
        after the block."""
        return self.basic(pc) if self.words is not None else _tier0(self.superblock(pc, basic=True))

    def block(self, pc: int) -> Callable[..., tuple[int, int, bool]]:
        """The callable that runs the block at `pc`: a basic block in tier 0 until it has been
        entered `threshold` times, then the compiled superblock from `pc`."""
        if self.threshold == 0:
            return self.compile(pc, self.superblock(pc))
        ops, pcs, end = self.tier0_ops(pc)
        threshold = self.threshold
        if threshold is None:
            return _interpreter(ops, pcs, end)
        limit = [threshold]
        tier0 = _counting_interpreter(ops, pcs, end, limit)
        tier0.limit = limit  # type: ignore[attr-defined]
        tier0.size = len(ops)  # type: ignore[attr-defined]
        return tier0

    def promote(self, pc: int, block: Any) -> None:
        """A tier-0 block asked to be compiled: compile its superblock once the instructions run
        in tier 0 from here (entries x block size) reach `threshold` times the superblock's size,
        so that compiling never costs more than a fixed multiple of the interpreting it saves."""
        assert self.threshold is not None
        path = self.superblock(pc)
        entries = block.limit[0]
        if entries * block.size >= self.threshold * len(path):
            self.blocks[pc] = self.compile(pc, path)
        else:
            block.limit[0] = -(-self.threshold * len(path) // block.size)

    def compile(self, pc: int, path: list[tuple[int, Decoded, bool]]) -> Callable[..., tuple[int, int, bool]]:
        """The compiled superblock `path` from `pc`; where CPython cannot compile its source
        (``_compiled``), the basic block at `pc` in tier 0 for good (an interpreter that never asks
        to be compiled; the block joins no region)."""
        block = _compiled(_BlockCompiler(pc, path).compile(), "block", pc)
        if block is None:
            ops, pcs, end = self.tier0_ops(pc)
            return _interpreter(ops, pcs, end)
        self.compiled += 1
        self.paths[pc] = path
        return block

    def settle(self) -> None:
        """Called at the start of each run: once a whole run has compiled no new block, and the
        blocks compiled since the region was built are at least a quarter of it (or the program
        has run ``REGION_RUNS`` times since), every compiled block is joined into a new region
        (``build_region``). Building a region costs about what compiling its blocks cost, so
        the growth by a quarter keeps the regions built for a program within a few times that;
        blocks compiled since run as they are. Before a region is built, and every ``REGION_RUNS``
        runs once one is, the tier-0 blocks entered often enough join it (``fill``)."""
        compiled = self.compiled
        self.runs_since_region += 1
        if compiled == self.compiled_before and len(self.paths) >= 2:
            if compiled != self.region_blocks and (4 * (compiled - self.region_blocks) >= self.region_blocks
                                                   or self.runs_since_region >= REGION_RUNS):
                self.fill()
                self.build_region()
            elif self.region is not None and self.runs_since_region >= REGION_RUNS:
                self.runs_since_region = 0  # look again for blocks to fill in REGION_RUNS runs
                if self.fill():
                    self.build_region()
        self.compiled_before = self.compiled

    def fill(self) -> bool:
        """Compile every tier-0 block entered at least ``FILL_ENTRIES`` times, its path cut before
        the first start of a block that the region will hold. A short call runs many small blocks
        a few times each: under the threshold they would reach it one by one over hundreds of runs,
        each leaving the region and coming back through the run loop; cut at the region's blocks,
        their paths are short (a few instructions, compiled in a fraction of a full superblock's time)."""
        if not self.threshold:
            return False
        candidates = []
        for start, block in self.blocks.items():
            if start not in self.paths and _entries(block) >= FILL_ENTRIES:
                candidates.append(start)
        if not candidates:
            return False
        candidates = candidates[:MAX_REGION - len(self.paths)]
        if not candidates:
            return False
        stop = set(self.paths)
        stop.update(candidates)
        for start in candidates:
            self.blocks[start] = self.compile(start, self.superblock(start, stop=stop))
        return True

    def build_region(self) -> None:
        """Compile every compiled block (up to ``MAX_REGION``) into one region function and enter
        each of them through it: a jump from one of them to another stays in the function, with
        the registers in its locals."""
        self.region_blocks = self.compiled
        self.runs_since_region = 0
        starts = sorted(self.paths)[:MAX_REGION]
        if not starts:
            return
        segments = self.segments
        for start in starts:
            if start not in segments:
                compiler = _BlockCompiler(start, self.paths[start], region=True)
                segments[start] = (compiler.segment(), compiler.used | compiler.written)
        region = _compile_region(starts, segments)
        if region is None:
            return  # the blocks go on as they are: each compiled on its own (or the last region's)
        self.region = region
        for start in starts:
            self.blocks[start] = _region_entry(region, start)


def _region_entry(region: Callable[..., tuple[int, int, bool]], start: int) -> Callable[..., tuple[int, int, bool]]:
    def enter(r: list[int], m: dict, g: Any, budget: int) -> tuple[int, int, bool]:
        return region(r, m, g, budget, start)

    return enter


def region_source(starts: Sequence[int], segments: Mapping[int, tuple[list[str], set[int]]]) -> str:
    """The source of ``region(r, m, g, budget, pc)``: the blocks starting at `starts` (sorted)
    as segments of one function (``_BlockCompiler.segment``, with the registers each uses), the
    registers in its locals from entry to exit. It runs the segment at `pc` (a binary search on
    the pc, in ``if``s), and then the one at the pc it left for, while that pc is one of `starts`
    and no instruction is left for the spec to step; it returns as a block does (next pc,
    instructions run, whether the spec steps the instruction at next pc)."""
    registers: set[int] = set()
    for start in starts:
        registers |= segments[start][1]
    lines = ["def region(r, m, g, budget, pc):"]
    if registers:
        lines.append("    " + "; ".join(f"x{i} = r[{i}]" for i in sorted(registers)))
    lines += ["    done = 0", "    while True:"]

    members = set(starts)
    chained = {start: _chained(start, members, segments) for start in starts}

    def dispatch(pcs: Sequence[int], ind: str) -> None:
        if len(pcs) <= 3:
            for i, start in enumerate(pcs):
                lines.append(f"{ind}{'el' if i else ''}if pc == {start}:")
                lines.extend(ind + "    " + line for line in chained[start])
            lines.append(f"{ind}else: nx = pc; st = False; break")
            return
        middle = len(pcs) // 2
        lines.append(f"{ind}if pc < {pcs[middle]}:")
        dispatch(pcs[:middle], ind + "    ")
        lines.append(f"{ind}else:")
        dispatch(pcs[middle:], ind + "    ")

    dispatch(starts, "        ")
    # a jump to 0 halts (the run checks it): a block at 0 is entered only from outside
    lines += ["        if st or not nx: break" if starts[0] == 0 else "        if st: break", "        pc = nx"]
    if registers:
        lines.append("    " + "; ".join(f"r[{i}] = x{i}" for i in sorted(registers)))
    lines.append("    return nx, done, st")
    return "\n".join(lines) + "\n"


_EXIT = re.compile(r"^( *)nx = (\d+); done \+= ([^;]+); st = False; break$")
INLINE_LINES = 16  # a segment of at most this many lines is written out at the exits that go to it
MAX_LOOPS = 20  # loops nested in a Python function at most (CPython's "statically nested blocks")
# Inner loops nested in one path at most: a region's ``while``, the block's own and a counted
# ``for`` hold them (a copy at a region's exit is checked apart, see ``_chained``)
MAX_INNER_LOOPS = MAX_LOOPS - 4


def _loop_depths(lines: Sequence[str]) -> list[int]:
    """For each of `lines` (generated code, indented by 4 spaces a level), how many ``while`` and
    ``for`` loops hold it."""
    depths = []
    loops: list[int] = []  # the indents of the loops around the line
    for line in lines:
        indent = len(line) - len(line.lstrip(" "))
        while loops and loops[-1] >= indent:
            loops.pop()
        depths.append(len(loops))
        if line.lstrip(" ").startswith(("while ", "for ")):
            loops.append(indent)
    return depths


def _chained(start: int, starts: Container[int], segments: Mapping[int, tuple[list[str], set[int]]]) -> list[str]:
    """The lines of the segment at `start`, where each exit to the start of another segment of
    the region (a constant pc, not 0) that is short (``INLINE_LINES``) is that segment's code:
    ``done`` counts the instructions as the exit did, a copy of the segment runs (its exits set
    ``nx``, ``done`` and ``st`` and leave its own ``while True``), and a ``break`` leaves the loop
    the exit was in (from an inner loop, its ``if nx is not None: break`` goes on out), so the
    region's loop goes on from the pc the copy left for, without the dispatch to the segment.
    A copy's own exits are not written out again, and a copy goes only where the loops around
    it (the region's own ``while``, those of the exit, those of the copy) stay within ``MAX_LOOPS``."""
    out: list[str] = []
    lines = segments[start][0]
    for line, depth in zip(lines, _loop_depths(lines)):
        match = _EXIT.match(line)
        target = int(match.group(2)) if match else 0
        if match is None or target in (start, 0) or target not in starts or len(segments[target][0]) > INLINE_LINES or (
                1 + depth + max(_loop_depths(segments[target][0])) > MAX_LOOPS):
            out.append(line)
            continue
        ind = match.group(1)
        out.append(f"{ind}done += {match.group(3)}")
        out.extend(ind + other for other in segments[target][0])
        out.append(f"{ind}break")
    return out


def _compile_region(starts: Sequence[int], segments: Mapping[int, tuple[list[str], set[int]]]) -> Callable[..., Any] | None:
    return _compiled(region_source(starts, segments), "region", starts[0])


# what ``compile`` raises for source it cannot compile: SyntaxError ("too many statically nested
# blocks"), RecursionError and MemoryError (source nested too deep or too large), ValueError and
# OverflowError (limits of the code object)
COMPILE_ERRORS = (SyntaxError, RecursionError, MemoryError, ValueError, OverflowError)
_compile_failures: set[tuple[str, str, str]] = set()  # the causes warned about (``_compiled``)


class CompileFallbackWarning(RuntimeWarning):
    """Generated code that CPython cannot compile: the code runs in tier 0 (or its blocks apart)."""


def _compiled(source: str, name: str, pc: int) -> Callable[..., Any] | None:
    """The function `name` ("block" or "region") defined by generated `source`, or None where
    CPython cannot compile it (``COMPILE_ERRORS``): the caller then runs that code as before it
    was hot, which the spec's outcome does not depend on. Each cause is warned about once."""
    namespace = dict(_NAMESPACE)
    try:
        exec(compile(source, f"<athena {name} {pc:#x}>", "exec"), namespace)  # noqa: S102 - our own generated code
    except COMPILE_ERRORS as error:
        reason = str(getattr(error, "msg", None) or error)
        cause = (name, type(error).__name__, reason)
        if cause not in _compile_failures:
            _compile_failures.add(cause)
            instead = "runs in tier 0 (interpreted)" if name == "block" else "blocks run on their own"
            warnings.warn(f"athena impl: the {name} at pc {pc:#x} does not compile ({type(error).__name__}: {reason});"
                          f" its code {instead}", CompileFallbackWarning, stacklevel=3)
        return None
    return namespace[name]  # type: ignore[no-any-return]


def block_source(program: Any, pc: int) -> str:
    """The generated source of the superblock at `pc` (for debugging and tests)."""
    return _BlockCompiler(pc, Engine(program, 0).superblock(pc)).compile()


# Tier 0: a block is a list of op tuples (function, rd, rs1, rs2, imm); the interpreter calls
# function(r, m, g, rd, rs1, rs2, imm), which returns None (go on), a pc (jump) or -1 (the spec
# must step this instruction). `r` is the register list, `m` the memory, `g` its dict.get. The
# functions are shared and an op tuple of a pc-independent instruction is cached per word, so
# building a block allocates little (no closure per instruction).


def op_nop(r, m, g, rd, a, b, imm):
    return None


def op_stop(r, m, g, rd, a, b, imm):
    return -1


def op_set(r, m, g, rd, a, b, imm):  # lui, auipc (imm = the value), a followed jal's link
    r[rd] = imm


def op_addi(r, m, g, rd, a, b, imm):
    r[rd] = (r[a] + imm) & M


def op_slti(r, m, g, rd, a, b, imm):
    r[rd] = 1 if ((r[a] ^ 0x80000000) - 0x80000000) < imm else 0


def op_sltiu(r, m, g, rd, a, b, imm):
    r[rd] = 1 if r[a] < (imm & M) else 0


def op_xori(r, m, g, rd, a, b, imm):
    r[rd] = r[a] ^ (imm & M)


def op_ori(r, m, g, rd, a, b, imm):
    r[rd] = r[a] | (imm & M)


def op_andi(r, m, g, rd, a, b, imm):
    r[rd] = r[a] & (imm & M)


def op_slli(r, m, g, rd, a, b, imm):
    r[rd] = (r[a] << imm) & M


def op_srli(r, m, g, rd, a, b, imm):
    r[rd] = r[a] >> imm


def op_srai(r, m, g, rd, a, b, imm):
    r[rd] = (((r[a] ^ 0x80000000) - 0x80000000) >> imm) & M


def op_add(r, m, g, rd, a, b, imm):
    r[rd] = (r[a] + r[b]) & M


def op_sub(r, m, g, rd, a, b, imm):
    r[rd] = (r[a] - r[b]) & M


def op_sll(r, m, g, rd, a, b, imm):
    r[rd] = (r[a] << (r[b] & 31)) & M


def op_slt(r, m, g, rd, a, b, imm):
    r[rd] = 1 if ((r[a] ^ 0x80000000) - 0x80000000) < ((r[b] ^ 0x80000000) - 0x80000000) else 0


def op_sltu(r, m, g, rd, a, b, imm):
    r[rd] = 1 if r[a] < r[b] else 0


def op_xor(r, m, g, rd, a, b, imm):
    r[rd] = r[a] ^ r[b]


def op_srl(r, m, g, rd, a, b, imm):
    r[rd] = r[a] >> (r[b] & 31)


def op_sra(r, m, g, rd, a, b, imm):
    r[rd] = (((r[a] ^ 0x80000000) - 0x80000000) >> (r[b] & 31)) & M


def op_or(r, m, g, rd, a, b, imm):
    r[rd] = r[a] | r[b]


def op_and(r, m, g, rd, a, b, imm):
    r[rd] = r[a] & r[b]


def op_mul(r, m, g, rd, a, b, imm):
    r[rd] = (r[a] * r[b]) & M


def op_mulh(r, m, g, rd, a, b, imm):
    r[rd] = ((((r[a] ^ 0x80000000) - 0x80000000) * ((r[b] ^ 0x80000000) - 0x80000000)) >> 32) & M


def op_mulhsu(r, m, g, rd, a, b, imm):
    r[rd] = ((((r[a] ^ 0x80000000) - 0x80000000) * r[b]) >> 32) & M


def op_mulhu(r, m, g, rd, a, b, imm):
    r[rd] = (r[a] * r[b]) >> 32


def op_div(r, m, g, rd, a, b, imm):
    r[rd] = _div(r[a], r[b])


def op_divu(r, m, g, rd, a, b, imm):
    r[rd] = (r[a] // r[b]) if r[b] else M


def op_rem(r, m, g, rd, a, b, imm):
    r[rd] = _rem(r[a], r[b])


def op_remu(r, m, g, rd, a, b, imm):
    r[rd] = (r[a] % r[b]) if r[b] else r[a]


def op_lw(r, m, g, rd, a, b, imm):
    t = (r[a] + imm) & M
    if t & 3:
        return -1
    if rd:
        v = g(t)
        r[rd] = m.miss(t) if v is None else v
    return None


def op_lh(r, m, g, rd, a, b, imm):
    t = (r[a] + imm) & M
    if t & 1:
        return -1
    if rd:
        w = g(t & 0xFFFFFFFC)
        if w is None:
            w = m.miss(t & 0xFFFFFFFC)
        r[rd] = ((((w >> ((t & 2) << 3)) & 0xFFFF) ^ 0x8000) - 0x8000) & M
    return None


def op_lhu(r, m, g, rd, a, b, imm):
    t = (r[a] + imm) & M
    if t & 1:
        return -1
    if rd:
        w = g(t & 0xFFFFFFFC)
        if w is None:
            w = m.miss(t & 0xFFFFFFFC)
        r[rd] = (w >> ((t & 2) << 3)) & 0xFFFF
    return None


def op_lb(r, m, g, rd, a, b, imm):
    t = (r[a] + imm) & M
    w = g(t & 0xFFFFFFFC)
    if w is None:
        w = m.miss(t & 0xFFFFFFFC)
    r[rd] = ((((w >> ((t & 3) << 3)) & 0xFF) ^ 0x80) - 0x80) & M


def op_lbu(r, m, g, rd, a, b, imm):
    t = (r[a] + imm) & M
    w = g(t & 0xFFFFFFFC)
    if w is None:
        w = m.miss(t & 0xFFFFFFFC)
    r[rd] = (w >> ((t & 3) << 3)) & 0xFF


def op_sw(r, m, g, rd, a, b, imm):
    t = (r[a] + imm) & M
    if t & 3 or t < 40:
        return -1
    m[t] = r[b]
    return None


def op_sh(r, m, g, rd, a, b, imm):
    t = (r[a] + imm) & M
    s = t & 0xFFFFFFFC
    if t & 1 or s < 40:
        return -1
    w = g(s)
    if w is None:
        w = m.miss(s)
    shift = (t & 2) << 3
    m[s] = (w & ~(0xFFFF << shift) & M) | ((r[b] & 0xFFFF) << shift)
    return None


def op_sb(r, m, g, rd, a, b, imm):
    t = (r[a] + imm) & M
    s = t & 0xFFFFFFFC
    if s < 40:
        return -1
    w = g(s)
    if w is None:
        w = m.miss(s)
    shift = (t & 3) << 3
    m[s] = (w & ~(0xFF << shift) & M) | ((r[b] & 0xFF) << shift)
    return None


def op_beq(r, m, g, rd, a, b, imm):  # imm = the target
    return imm if r[a] == r[b] else None


def op_bne(r, m, g, rd, a, b, imm):
    return imm if r[a] != r[b] else None


def op_blt(r, m, g, rd, a, b, imm):
    return imm if ((r[a] ^ 0x80000000) - 0x80000000) < ((r[b] ^ 0x80000000) - 0x80000000) else None


def op_bge(r, m, g, rd, a, b, imm):
    return imm if ((r[a] ^ 0x80000000) - 0x80000000) >= ((r[b] ^ 0x80000000) - 0x80000000) else None


def op_bltu(r, m, g, rd, a, b, imm):
    return imm if r[a] < r[b] else None


def op_bgeu(r, m, g, rd, a, b, imm):
    return imm if r[a] >= r[b] else None


def op_jal(r, m, g, rd, a, b, imm):  # b = the link, imm = the target
    if rd:
        r[rd] = b
    return imm


def op_jalr(r, m, g, rd, a, b, imm):  # b = the link
    t = (r[a] + imm) & M
    if rd:
        r[rd] = b
    _jalr_targets[b] = t  # the superblock through this JALR follows the target seen last
    return t


_OPS = {name[3:]: function for name, function in list(globals().items()) if name.startswith("op_")}
_WRITES_RD = {"addi", "slti", "sltiu", "xori", "ori", "andi", "slli", "srli", "srai", "add", "sub", "sll", "slt",
              "sltu", "xor", "srl", "sra", "or", "and", "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem",
              "remu", "lb", "lbu"}
_op_cache: dict[Decoded, tuple] = {}
_jalr_targets: dict[int, int] = {}  # link (pc + 4) of a JALR -> its target when tier 0 last ran it
_word_ops: dict[int, tuple] = {}  # word -> op tuple, for pc-independent instructions (Engine.basic)


def _op(pc: int, ins: Decoded, followed: bool) -> tuple:
    """The op tuple of one instruction at `pc`."""
    name, rd, a, b, imm = ins
    if name in SYSTEM:
        return (op_stop, 0, 0, 0, 0)
    if name == "lui":
        return (op_set, rd, 0, 0, imm & M) if rd else (op_nop, 0, 0, 0, 0)
    if name == "auipc":
        return (op_set, rd, 0, 0, (pc + imm) & M) if rd else (op_nop, 0, 0, 0, 0)
    if name == "jal":
        link = (pc + 4) & M
        if followed:
            return (op_set, rd, 0, 0, link) if rd else (op_nop, 0, 0, 0, 0)
        return (op_jal, rd, 0, link, (pc + imm) & M)
    if name == "jalr":
        return (op_jalr, rd, a, (pc + 4) & M, imm)
    if name in BRANCHES:
        return (_OPS[name], 0, a, b, (pc + imm) & M)
    if rd == 0 and name in _WRITES_RD:
        return (op_nop, 0, 0, 0, 0)
    return (_OPS[name], rd, a, b, imm)


def _tier0(path: list[tuple[int, Decoded, bool]]) -> tuple[list[tuple], list[int], int]:
    """The op tuples of a block, the pc of each, and the pc after its last instruction."""
    ops = []
    pcs = []
    for pc, ins, followed in path:
        name = ins.name
        if name in _WRITES_RD or name in LOADS or name in STORES:  # independent of the pc: shared
            op = _op_cache.get(ins)
            if op is None:
                if len(_op_cache) >= 1 << 16:
                    _op_cache.clear()
                op = _op_cache[ins] = _op(pc, ins, followed)
            ops.append(op)
        else:
            ops.append(_op(pc, ins, followed))
        pcs.append(pc)
    last_pc = path[-1][0]
    return ops, pcs, (last_pc + 4) & M


def _walker(words: Sequence[int], base: int, size: int) -> Callable[..., tuple[int, int, bool]]:
    """The first-visit path: runs the instructions from `pc` one at a time, from the op tuples
    cached per word (or built for this pc), building no block, up to the first jump or taken
    branch (or an instruction the spec must step, or the end of the code, or `budget`
    instructions). Same result as a block's: (next pc, instructions run, whether the spec must
    step the instruction at next pc). Code that runs once (a test program, a contract call's
    set-up) costs a decoding and a call per instruction, like the spec's ``step``."""
    word_ops = _word_ops

    def walk(r: list[int], m: dict, g: Any, budget: int, pc: int) -> tuple[int, int, bool]:
        count = 0
        while count < budget:
            word = words[((pc - base) & M) >> 2]
            op = word_ops.get(word)
            if op is None:
                if word == 0x73:  # ecall: the spec's syscall path
                    return pc, count, True
                ins = decode_word(word)
                assert ins is not None  # every executable word was checked at load
                op = _op(pc, ins, False)
                name = ins.name
                if name in _WRITES_RD or name in LOADS or name in STORES:
                    if len(word_ops) >= 1 << 16:
                        word_ops.clear()
                    word_ops[word] = op
            function, rd, a, b, imm = op
            result = function(r, m, g, rd, a, b, imm)
            if result is not None:
                if result < 0:
                    return pc, count, True
                return result, count + 1, False
            count += 1
            pc += 4
            if ((pc - base) & M) >> 2 >= size:  # the end of the code (2**32 included: the code ends there)
                return pc & M, count, False
        return pc, count, True

    return walk


def _interpreter(ops: list[tuple], pcs: list[int], end: int) -> Callable[..., tuple[int, int, bool]]:
    count = len(ops)

    def interpret(r: list[int], m: dict, g: Any, budget: int) -> tuple[int, int, bool]:
        i = 0
        if budget >= count:
            for op, rd, a, b, imm in ops:
                result = op(r, m, g, rd, a, b, imm)
                if result is not None:
                    if result < 0:
                        return pcs[i], i, True
                    return result, i + 1, False
                i += 1
            return end, count, False
        for op, rd, a, b, imm in ops[:budget]:
            result = op(r, m, g, rd, a, b, imm)
            if result is not None:
                if result < 0:
                    return pcs[i], i, True
                return result, i + 1, False
            i += 1
        return pcs[budget], budget, True

    return interpret


def _entries(block: Any) -> int:
    """How many times a tier-0 block (``_counting_interpreter``) has been entered; 0 for any other."""
    code = getattr(block, "__code__", None)
    if code is None or "hits" not in code.co_freevars or block.__closure__ is None:
        return 0
    return block.__closure__[code.co_freevars.index("hits")].cell_contents  # type: ignore[no-any-return]


def _counting_interpreter(ops: list[tuple], pcs: list[int], end: int, limit: list[int]) -> Any:
    """``_interpreter`` that also counts its entries: once they reach ``limit[0]``, a run asks the
    dispatcher to compile the block (COMPILE instead of False, COMPILE_THEN_STEP instead of True:
    a loop of syscalls ends its block at the ``ecall`` every time). No reference to the engine
    (no reference cycle)."""
    count = len(ops)
    hits = 0

    def tier0(r: list[int], m: dict, g: Any, budget: int) -> tuple[int, int, Any]:
        nonlocal hits
        hits += 1
        i = 0
        if budget >= count:
            for op, rd, a, b, imm in ops:
                result = op(r, m, g, rd, a, b, imm)
                if result is not None:
                    if result < 0:
                        return pcs[i], i, COMPILE_THEN_STEP if hits >= limit[0] else True
                    return result, i + 1, COMPILE if hits >= limit[0] else False
                i += 1
            return end, count, COMPILE if hits >= limit[0] else False
        for op, rd, a, b, imm in ops[:budget]:
            result = op(r, m, g, rd, a, b, imm)
            if result is not None:
                if result < 0:
                    return pcs[i], i, True
                return result, i + 1, COMPILE if hits >= limit[0] else False
            i += 1
        return pcs[budget], budget, True

    return tier0


def _signed(expr: str) -> str:
    return f"(({expr}) ^ 0x80000000) - 0x80000000"


def _less(a: str, b: str, signed: bool = True) -> str:
    """Whether `a` < `b` (registers' values or constants, 0..2**32-1) as signed 32-bit values,
    without flipping sign bits (``x ^ 0x80000000`` makes a new integer each, 50-60 ns a
    comparison against 20-45): when both are on the same side of 2**31 their unsigned order is
    the signed one, and otherwise the one at or above 2**31 (negative) is the lesser."""
    if not signed:
        return f"{a} < {b}"
    if b.isdigit():
        c = int(b)
        if c == 0:
            return f"{a} >= 2147483648"
        return f"({a} < {c} or {a} >= 2147483648)" if c < 2**31 else f"2147483648 <= {a} < {c}"
    if a.isdigit():
        c = int(a)
        return f"{c} < {b} < 2147483648" if c < 2**31 else f"({b} > {c} or {b} < 2147483648)"
    return f"(({a} < {b}) if ({a} < 2147483648) == ({b} < 2147483648) else ({a} > {b}))"


def _wrapped_sum(a: str, imm: int) -> str:
    """`a` + `imm` modulo 2**32 for a register's value `a` (0..2**32-1) and -2048 <= imm < 2048: a
    test and one addition (the rare wrap, a second) instead of ``& 0xFFFFFFFF`` (the mask makes
    a new integer, and a negative sum takes its slow path: 22-26 ns against 14-20)."""
    if imm >= 0:
        return f"{a} + {imm} if {a} < {2**32 - imm} else {a} + {imm} - 4294967296"
    return f"{a} - {-imm} if {a} >= {-imm} else {a} - {-imm} + 4294967296"


def _evaluate(ins: Decoded, values: dict[int, int]) -> int:
    """What an ALU instruction writes when its sources hold `values` (tier 0's semantics)."""
    registers = [0] * 16
    for index, value in values.items():
        registers[index] = value
    op, rd, a, b, imm = _op(0, ins, False)
    op(registers, None, None, rd, a, b, imm)
    return registers[rd]


class _BlockCompiler:
    """Generates the source of one superblock function ``block(r, m, g, budget)``.

    Registers live in local variables. Along the path the compiler knows which registers hold
    constants (set by LUI, AUIPC, links, or ALU instructions on constants; nothing is known at
    the top of the loop): such instructions become constant assignments, and a load or store at
    a constant address has its alignment and protection checks decided here. It also knows the
    low bits of a register whose alignment an earlier access checked (a word access at
    ``x2 + 8`` passed: ``x2 & 3 == 0``), until the register is written, so later accesses from
    it have their alignment decided here too (C code reads and writes its stack from ``sp``).
    A path that does not loop runs its instructions once: no instruction counter to keep.
    """

    def __init__(self, start: int, path: list[tuple[int, Any, bool]], region: bool = False,
                 nonzero: set[int] | None = None, assumed: dict[int, tuple[int, int]] | None = None,
                 inductions: dict[int, int] | None = None) -> None:
        self.start = start
        self.nonzero = nonzero or set()  # registers not 0 on the whole path (tested at entry)
        # a counted loop's copy under a test at entry (``speculation``): the ranges of registers
        # at the start of every pass, and the registers that only count (ADDIs of one sign; the
        # total a pass adds), which the test keeps from wrapping however many passes the gas allows
        self.assumed = assumed or {}
        self.inductions = inductions or {}
        self.back: list[dict[int, tuple[int, int]]] = []  # the assumed registers' ranges at each loop back
        self.consulted: set[int] = set()  # registers whose range (``span``) the code generated asked for
        self.region = region  # a segment of a region function (see ``_region_source``): `done` accumulates
        self.path = path
        self.lines: list[str] = []
        self.used: set[int] = set()
        self.written: set[int] = set()
        self.known: dict[int, int] = {}
        self.low: dict[int, tuple[int, int]] = {}  # register -> (mask, value): its bits under mask
        # register -> (lo, hi): lo <= its value <= hi, learned from a store's check (``store``)
        # and carried through ADDI; a store at rs1 + imm within 40..2**32-4 needs no check
        self.bounds: dict[int, tuple[int, int]] = {}
        # (base register, offset) -> what the word there holds: a register (x5), a constant or a
        # temporary (f1), set by a word store or load on the path, while no store may have changed it since
        self.memory: dict[tuple[int, int], str] = {}
        # (base register, offset) -> the index in `lines` of the store or load that set the word a
        # register holds there: when the register is written, the word is held by a temporary
        # (``keep``), which that line assigns too once a load reads it (``temporary``)
        self.origins: dict[tuple[int, int], int] = {}
        self.temporaries: dict[str, int] = {}  # temporary -> its line (in `lines`), negative once it assigns it
        # registers holding 0 or 0xFFFFFFFF (a 0 or 1 negated): an AND with one is a choice, no arithmetic
        self.choices: set[int] = set()
        self.heads = self.inner_loops()  # head index -> index of its back-edge
        self.open: list[tuple[int, int]] = []  # the inner loops being generated: (head index, head pc)
        loops_to_start = start != 0 and any(
            (ins.name in BRANCHES or (ins.name == "jal" and not followed)) and (pc + ins.imm) & M == start
            for pc, ins, followed in path)
        self.loops = bool(self.heads) or loops_to_start
        # A loop without inner loops counts its turns with a `for` (see compile): `turn` passes of
        # `self.turn` instructions are not in `done` yet
        self.turn = len(path) if loops_to_start and not self.heads and path[-1][1].name not in SYSTEM else 0
        self.counted = False  # generating inside that `for`
        # Which copy of the path is being generated inside it: 0, the only one; 1 or 2, the first
        # or second of the two copies of an unrolled `for` (see ``unrolled``), whose turn is two passes
        self.copy = 0

    def inner_loops(self) -> dict[int, int]:
        """The inner loops of the path: a conditional branch back to an instruction of the path
        after its start (found once in the path) makes the instructions from there to the
        branch a loop run in place, when it nests within or around the loops found before it
        (a branch that would make overlapping loops leaves the block instead)."""
        first: dict[int, int] = {}
        repeated = set()
        for index, (pc, _, _) in enumerate(self.path):
            if pc in first:
                repeated.add(pc)
            first.setdefault(pc, index)
        heads: dict[int, int] = {}
        depths: dict[int, int] = {}  # head -> how many loops (itself included) the loop holds
        for index, (pc, ins, _) in enumerate(self.path):
            if ins.name not in BRANCHES:
                continue
            target = (pc + ins.imm) & M
            head = first.get(target)
            if head is None or head == 0 or target in repeated or head > index:
                continue
            if any(other <= head <= back for other, back in heads.items()):
                continue  # overlaps a loop found before (or shares its head)
            depth = 1 + max((depths[other] for other in heads if head < other), default=0)
            if depth > MAX_INNER_LOOPS:
                continue  # Python would not compile it: the branch leaves the block
            heads[head] = index
            depths[head] = depth
        return heads

    def reg(self, index: int) -> str:
        if index == 0:
            return "0"
        if index in self.known:
            return str(self.known[index])
        self.used.add(index)
        return f"x{index}"

    def span(self, index: int) -> tuple[int, int]:
        """(lo, hi): what the compiler knows of a register's value here, lo <= value <= hi."""
        if index == 0:
            return 0, 0
        if index in self.known:
            return self.known[index], self.known[index]
        self.consulted.add(index)
        return self.bounds.get(index, FULL)

    def assign(self, rd: int, expr: str, indent: str, constant: int | None = None,
               span: tuple[int, int] = (0, M)) -> None:
        """Write `expr` (or `constant`) to rd; `span` bounds the value written."""
        if rd != 0:
            self.used.add(rd)
            self.written.add(rd)
            self.choices.discard(rd)
            self.low.pop(rd, None)
            self.bounds.pop(rd, None)
            if constant is None and span != FULL:
                self.bounds[rd] = span
            if self.memory:
                self.keep(rd)
            if constant is None:
                self.known.pop(rd, None)
                self.lines.append(f"{indent}x{rd} = {expr}")
            else:
                self.known[rd] = constant
                self.lines.append(f"{indent}x{rd} = {constant}")

    def keep(self, rd: int) -> None:
        """Register `rd` is about to be written: the words at rd + offset are forgotten, and a word
        that rd holds is held by a temporary from now on (``temporary``)."""
        name = f"x{rd}"
        memory: dict[tuple[int, int], str] = {}
        temporary = ""
        for key, held in self.memory.items():
            if key[0] == rd:
                continue
            if held == name:
                if not temporary:
                    temporary = f"f{len(self.temporaries) + 1}"
                    self.temporaries[temporary] = self.origins[key]
                held = temporary
            memory[key] = held
        self.memory = memory

    def temporary(self, name: str) -> str:
        """A temporary that a load reads: the store or load that set the word (which the register
        it kept held then) assigns it too, ``target = fN = value`` (one evaluation, both the same
        value), once; temporaries no load reads cost nothing."""
        line = self.temporaries[name]
        if line >= 0:
            text = self.lines[line]
            cut = text.index(" = ") + 3
            self.lines[line] = f"{text[:cut]}{name} = {text[cut:]}"
            self.temporaries[name] = -1
        return name

    def address(self, rs1: int, imm: int, wrap: bool = True) -> tuple[str, int | None]:
        """The effective address (expression, constant or None); without `wrap`, the expression
        may fall outside 0..2**32-1 (a load's: no word is stored there, and ``LazyMemory.miss``
        reads the address modulo 2**32)."""
        if rs1 == 0 or rs1 in self.known:
            value = ((self.known.get(rs1, 0) if rs1 else 0) + imm) & M
            return str(value), value
        if imm == 0:
            return self.reg(rs1), None
        if not wrap:
            return f"{self.reg(rs1)} + {imm}" if imm > 0 else f"{self.reg(rs1)} - {-imm}", None
        return f"({self.reg(rs1)} + {imm}) & {M}", None

    def goto(self, target: int, count: int, indent: str) -> None:
        """Leave the block for `target` after `count` instructions of this pass, or loop when it
        is the head of the innermost loop being generated (the start, outside inner loops)."""
        if self.open:
            head, head_pc = self.open[-1]
            if target == head_pc:  # the iteration from the head is counted now (exits count from the start)
                self.lines.append(f"{indent}done += {count - head}; continue")
                return
        elif target == self.start and self.start != 0:
            self.back.append({index: (self.known[index],) * 2 if index in self.known else self.bounds.get(index, FULL)
                              for index in self.assumed})
            if self.counted:  # a full turn is counted by the `for`; a shorter one corrects `done`
                ran = count + (self.turn if self.copy == 2 else 0)  # instructions of this turn
                per = self.turn * 2 if self.copy else self.turn
                if self.copy == 1 and count == self.turn:  # the end of the first copy: on into the second
                    return
                self.lines.append(f"{indent}continue" if ran == per else f"{indent}done += {ran - per}; continue")
            else:
                self.lines.append(f"{indent}done += {count}; continue")
            return
        self.lines.append(f"{indent}{self.leave(str(target), count, False)}")

    def open_loop(self, head: int, pc: int, ind: str) -> str:
        """Start the inner loop whose head is the path's instruction `head`: what is known of the
        registers it writes no longer holds there. Returns the indent of its body."""
        back = self.heads[head]
        counter = self.countdown(head, back)
        for _, ins, _ in self.path[head : back + 1]:
            self.known.pop(ins.rd, None)
            self.low.pop(ins.rd, None)
            self.bounds.pop(ins.rd, None)
            self.choices.discard(ins.rd)
        if counter is not None:
            self.bounds[counter[0]] = (1, counter[1])
        self.memory.clear()  # the loop's stores may change any word before the next turn
        self.open.append((head, pc))
        self.lines.append(f"{ind}while True:")
        ind += "    "
        # the gas check of each turn: `done` + `head` instructions have run (see compile)
        self.lines.append(f"{ind}if done > limit: {self.leave(str(pc), head, True)}")
        return ind

    def countdown(self, head: int, back: int) -> tuple[int, int] | None:
        """The inner loop's counter, when it is one (the bit loop of a CRC: ``for (k = 8; k; k--)``):
        a register holding a constant c >= 1 at the loop's entry, written in the loop by a single
        ``addi r, r, -1`` outside any loop nested in it, and tested by the loop's back-edge
        ``bne r, zero``. Then (r, c): r is within 1..c at the head of every turn (by induction:
        within 0..c-1 after the ADDI, and not 0 where the branch goes back)."""
        ins = self.path[back][1]
        if ins.name != "bne" or (ins.rs1 and ins.rs2):
            return None
        index = ins.rs1 or ins.rs2
        constant = self.known.get(index)
        if not index or constant is None or constant < 1:
            return None
        writes = [k for k in range(head, back + 1) if self.path[k][1].rd == index
                  and self.path[k][1].name not in BRANCHES and self.path[k][1].name not in STORES]
        if len(writes) != 1:
            return None
        write = self.path[writes[0]][1]
        if write.name != "addi" or write.rs1 != index or write.imm != -1 or any(
                head < other <= writes[0] <= end for other, end in self.heads.items()):
            return None
        return index, constant

    def unrollable(self, head: int) -> int:
        """The turns of the inner loop at `head` when it is written out turn by turn (0 when
        not): a countdown (``countdown``: it runs exactly c turns, c its counter's value at entry)
        of ALU instructions only (no exit but its back-edge, no loop inside), of at most
        ``UNROLL_INNER`` instructions in all its turns, outside a counted `for`."""
        back = self.heads[head]
        if self.counted or any(head < other <= back for other in self.heads):
            return 0
        if any(ins.name in _NOT_ALU for _, ins, _ in self.path[head:back]):
            return 0
        counter = self.countdown(head, back)
        if counter is None or counter[1] * (back - head + 1) > UNROLL_INNER:
            return 0
        return counter[1]

    def unroll(self, head: int, turns: int, pc: int, ind: str) -> None:
        """The inner loop at `head` (``unrollable``) as `turns` copies of its body, with no
        counter test, no back-edge and one gas check for all its turns: what a pass gives the
        gas is one turn, so the others must fit too, or the block leaves at the loop's head
        (as the loop's own check of a turn does). Its counter is a constant in each copy, and
        the back-edge's test is decided: taken in every copy but the last."""
        back = self.heads[head]
        length = back - head + 1
        counter = self.path[back][1].rs1 or self.path[back][1].rs2
        self.lines.append(f"{ind}if done > limit - {(turns - 1) * length}: {self.leave(str(pc), head, True)}")
        for turn in range(turns):
            for index in range(head, back):
                self.alu(self.path[index][1], ind)
            assert self.known.get(counter) == turns - 1 - turn  # the back-edge goes back while it is not 0
        if turns > 1:
            self.lines.append(f"{ind}done += {(turns - 1) * length}")

    def close_loop(self, ind: str) -> str:
        """End the innermost inner loop (its body has just left or looped); an exit from inside
        it leaves every loop around it too."""
        self.open.pop()
        ind = ind[:-4]
        self.lines.append(f"{ind}if nx is not None: break")
        return ind

    def leave(self, target: str, count: int, step: bool) -> str:
        """Break out of the loop to the single exit, which writes the registers back."""
        if self.counted:
            per = self.turn * 2 if self.copy else self.turn
            ran = count + (self.turn if self.copy == 2 else 0)
            return f"nx = {target}; done += {per} * turn + {ran}; st = {step}; break"
        return f"nx = {target}; done {'+=' if self.loops or self.region else '='} {count}; st = {step}; break"

    def step_here(self, pc: int, k: int) -> str:
        return self.leave(str(pc), k, True)

    def alignment(self, rs1: int, imm: int, mask: int, known: int | None) -> tuple[bool | None, str]:
        """Whether an access at rs1 + imm is misaligned under `mask` (None: decided at run time),
        and the check's expression; a check made at run time teaches rs1's low bits."""
        if known is not None:
            return bool(known & mask), ""
        fact = self.low.get(rs1)
        if fact is not None and fact[0] & mask == mask:
            return bool((fact[1] + imm) & mask), ""
        if rs1:
            self.low[rs1] = (mask, -imm & mask)  # holds from here on: the access traps otherwise
        return None, f"t & {mask}"

    def compile(self) -> str:
        """The source of the standalone block function."""
        loop, count_full = self.bodies("")
        loads = "; ".join(f"x{i} = r[{i}]" for i in sorted(self.used)) or "pass"
        writeback = "; ".join(f"r[{i}] = x{i}" for i in sorted(self.written)) or "pass"
        if self.loops:
            top = ["def block(r, m, g, budget):", f"    {loads}", "    done = 0", "    nx = None",
                   f"    limit = budget - {max(count_full, 1)}"]
        else:  # one pass: it runs only when the gas left covers the whole path
            top = ["def block(r, m, g, budget):", f"    if budget < {max(count_full, 1)}: return {self.start}, 0, True",
                   f"    {loads}"]
        source = [*top, *loop, f"    {writeback}", "    return nx, done, st"]
        return "\n".join(source) + "\n"

    def segment(self) -> list[str]:
        """The lines of this block as a segment of a region function (``_region_source``), at
        the indent of a function body: `done` counts the region's instructions so far (the
        checks against the budget are the standalone block's, shifted by it), the segment leaves
        with `nx`, `done` and `st` set, and `nx` is not None."""
        assert self.region
        if self.loops:
            loop, count_full = self.bodies("")
            return [f"limit = budget - {max(count_full, 1)}", "nx = None", *(line[4:] for line in loop)]
        count_full = len(self.path) - 1 if self.path[-1][1].name in SYSTEM else len(self.path)
        check = f"if done > budget - {max(count_full, 1)}: nx = {self.start}; st = True; break"
        loop, _ = self.bodies(check)
        return [line[4:] for line in loop]

    def bodies(self, check: str) -> tuple[list[str], int]:
        """The block's ``while True`` loop at an indent of 4 (`check` its first statement), and
        the number of instructions of a full pass that the gas must cover. When registers the
        path divides by (DIVU, REMU) are never written on it, two loops: under a test at entry
        that those registers are not 0, one whose divisions have no test of their own, and the
        generic one otherwise."""
        divisors = self.divisors()
        body, count_full = self.generate()
        first = [f"        {check}"] if check else []
        versions: list[tuple[str, list[str]]] = []  # (test at entry, body), the first that holds runs
        speculation = self.speculation(divisors, body)
        if speculation is not None:
            versions.append(speculation)
        if divisors:
            fast = _BlockCompiler(self.start, self.path, self.region, nonzero=divisors)
            fast_body, _ = fast.generate()
            self.used |= fast.used | divisors  # tested at entry even where the path's division is dead code
            self.written |= fast.written
            versions.append((" and ".join(f"x{i}" for i in sorted(divisors)), fast_body))
        if not versions:
            return ["    while True:", *first, *body], count_full
        first = ["    " + line for line in first]
        lines = []
        for i, (test, version) in enumerate(versions):
            lines += [f"    {'el' if i else ''}if {test}:", "        while True:", *first,
                      *("    " + line for line in version)]
        return [*lines, "    else:", "        while True:", *first, *("    " + line for line in body)], count_full

    def speculation(self, divisors: set[int], generic: list[str]) -> tuple[str, list[str]] | None:
        """A counted loop's copy that assumes, at the start of each pass, each register it reads
        before writing below 2**31 (``HALF``) and each counting register (ADDIs of one sign only)
        far enough from the wrap for every pass the gas allows, and the test at entry that makes
        it so; None when no copy would drop a mask or sign flip of the generic `body`, and for a
        block compiled on its own (a region's segment only: the copy is compiled for the runs
        that need the block most, and a program's first runs do not pay for it). The
        assumptions must hold again at each pass's end (what the compiler derives of the
        registers there, from those ranges alone): a register whose range is not kept loses its
        assumption, until the ones left are kept."""
        if not self.region or not self.turn or self.nonzero or self.assumed:
            return None
        reads: set[int] = set()
        written: set[int] = set()
        steps: dict[int, int] = {}
        counting: set[int] = set()
        for _, ins, _ in self.path:
            name = ins.name
            if name in ("lui", "auipc", "jal"):
                sources: tuple[int, ...] = ()
            elif name in _IMMEDIATE_FORMS or name in LOADS or name == "jalr":
                sources = (ins.rs1,)
            else:
                sources = (ins.rs1, ins.rs2)
            reads |= {source for source in sources if source and source not in written}
            if name not in BRANCHES and name not in STORES and ins.rd:
                written.add(ins.rd)
                if name == "addi" and ins.rs1 == ins.rd and ins.imm and (ins.rd not in steps or (
                        ins.rd in counting and (steps[ins.rd] > 0) == (ins.imm > 0))):
                    counting.add(ins.rd)
                    steps[ins.rd] = steps.get(ins.rd, 0) + ins.imm
                else:
                    counting.discard(ins.rd)
                    steps[ins.rd] = 0
        inductions = {index: steps[index] for index in counting}

        def settle(assumed: dict[int, tuple[int, int]]) -> tuple[dict[int, tuple[int, int]], _BlockCompiler,
                                                                 list[str]]:
            while True:
                fast = _BlockCompiler(self.start, self.path, self.region, nonzero=divisors, assumed=assumed,
                                      inductions=inductions)
                body, _ = fast.generate()
                kept = {index: span for index, span in assumed.items() if index in fast.consulted
                        and all(span[0] <= back[index][0] and back[index][1] <= span[1] for back in fast.back)}
                if kept == assumed:
                    return assumed, fast, body
                assumed = kept

        assumed, fast, body = settle({index: HALF for index in reads - counting})
        masks = _masks(body)
        if masks >= _masks(generic):
            return None
        for index in sorted(assumed):  # an assumption that drops nothing only makes the test fail more often
            if index in assumed:
                fewer = settle({other: span for other, span in assumed.items() if other != index})
                if _masks(fewer[2]) <= masks:
                    assumed, fast, body = fewer
        self.used |= fast.used | divisors | set(assumed) | set(inductions)
        self.written |= fast.written
        tests = [f"x{i}" for i in sorted(divisors)] + [f"x{i} <= {span[1]}" for i, span in sorted(assumed.items())]
        exit_test = self.counted_exit(inductions, written)
        if exit_test is None:  # no more passes than the gas allows
            compared, passes = 0, f"((limit - done) // {self.turn} + 1)"
        else:
            compared, test, passes = exit_test
            tests.append(test)
        tests += [f"x{i} <= {M} - {step} * {passes}" if step > 0 else f"x{i} >= {-step} * {passes}"
                  for i, step in sorted(inductions.items()) if i != compared]
        return " and ".join(tests) or "True", body

    def counted_exit(self, inductions: dict[int, int], written: set[int]) -> tuple[int, str, str] | None:
        """When the loop's last instruction is a BNE or BLTU of a counting register against
        one the path never writes (the loop `for (i = a; i != n; i += c)` and its kin): that
        register, the test at entry under which it reaches the exit without a wrap, and the
        number of passes it allows then (an expression), which bounds the other counters."""
        pc, ins, _ = self.path[-1]
        if ins.name not in ("bne", "bltu") or (pc + ins.imm) & M != self.start:
            return None
        for index, other, first in ((ins.rs1, ins.rs2, True), (ins.rs2, ins.rs1, False)):
            if index not in inductions or index == other or (other and other in written):
                continue
            step = inductions[index]
            x, bound = f"x{index}", f"x{other}" if other else "0"
            if other:
                self.used.add(other)
            if ins.name == "bne" and step > 0:  # up to the bound, reached exactly
                exact = f" and not ({bound} - {x}) % {step}" if step > 1 else ""
                return index, f"{x} < {bound}{exact}", f"(({bound} - {x}) // {step})"
            if ins.name == "bne":  # down to it
                exact = f" and not ({x} - {bound}) % {-step}" if step < -1 else ""
                return index, f"{x} > {bound}{exact}", f"(({x} - {bound}) // {-step})"
            if first and step > 0:  # up while below it: the last value is below bound + step
                return index, f"{x} < {bound} <= {M - step + 1}", f"(({bound} - {x} + {step - 1}) // {step})"
            if not first and step < 0:  # down while above it
                return index, f"{bound} < {x} and {bound} >= {-step - 1}", f"(({x} - {bound} - {step} - 1) // {-step})"
        return None

    def divisors(self) -> set[int]:
        """The registers the path divides by (DIVU, REMU) and never writes."""
        divisors = {ins.rs2 for _, ins, _ in self.path if ins.name in ("divu", "remu") and ins.rs2}
        if divisors:
            divisors -= {ins.rd for _, ins, _ in self.path if ins.name not in BRANCHES and ins.name not in STORES}
        return divisors

    def unrolled(self) -> bool:
        """Whether the counted `for` runs two copies of the path in each turn: a path of at most
        `UNROLL` instructions whose last one goes back to the start (a branch taken or a JAL).
        The second copy runs only after the whole first one, as if the path were twice as long:
        what the compiler learned in the first (checked alignments and bounds, constants, words
        stored or loaded) holds in the second, whose checks that depend on nothing else go away;
        every other check and exit of a pass is in both, with the gas counted to its instruction."""
        if not self.turn or self.turn > UNROLL:
            return False
        pc, ins, followed = self.path[-1]
        return (ins.name in BRANCHES or (ins.name == "jal" and not followed)) and (pc + ins.imm) & M == self.start

    def generate(self) -> tuple[list[str], int]:
        """The body of the block (inside its ``while True``, at an indent of 8) and the number of
        instructions of a full pass that the gas must cover."""
        path = self.path
        n = len(path)
        ind = "        "
        body = self.lines
        last_name = path[-1][1].name
        count_full = n - 1 if last_name in SYSTEM else n
        self.bounds.update(self.assumed)
        if self.loops:
            body.append(f"{ind}if done > limit: {self.leave(str(self.start), 0, True)}")
        if not self.turn:
            self.path_code(ind)
            return body, count_full
        # the passes that may start within the budget, run by a `for` (no gas check or count
        # per pass); when they are used up, `done` is brought up to date and checked again
        body.append(f"{ind}turns = (limit - done) // {self.turn} + 1")
        self.counted = True
        if self.unrolled():
            # two passes a turn while two may start (a last odd pass: the `for` below, after the
            # gas check of the `while`); each copy leaves with the count of the turn's passes
            facts = (dict(self.known), dict(self.low), dict(self.bounds), dict(self.memory), set(self.choices),
                     dict(self.origins))
            body.append(f"{ind}if turns > 1:")
            body.append(f"{ind}    for turn in range(turns >> 1):")
            for copy in (1, 2):  # the second copy runs only after the whole first: what it learned holds
                self.copy = copy
                self.path_code(ind + "        ")
            self.copy = 0
            body.append(f"{ind}    else:")
            body.append(f"{ind}        done += {2 * self.turn} * (turns >> 1); continue")
            body.append(f"{ind}    break")
            self.restore(facts)
        body.append(f"{ind}for turn in range(turns):")
        self.path_code(ind + "    ")
        self.counted = False
        body.append(f"{ind}else:")
        body.append(f"{ind}    done += {self.turn} * turns; continue")
        body.append(f"{ind}break")
        return body, count_full

    def restore(self, facts: tuple[dict[int, int], dict[int, tuple[int, int]], dict[int, tuple[int, int]],
                                   dict[tuple[int, int], str], set[int], dict[tuple[int, int], int]]) -> None:
        """Know again only what was known at the top of the counted `for`."""
        self.known, self.low, self.bounds, self.memory, self.choices, self.origins = (
            dict(facts[0]), dict(facts[1]), dict(facts[2]), dict(facts[3]), set(facts[4]), dict(facts[5]))

    def path_code(self, ind: str) -> None:
        """The code of one pass of the path at indent `ind` (see ``generate``)."""
        path = self.path
        n = len(path)
        body = self.lines
        skip = -1  # the last instruction of an inner loop written out turn by turn (``unroll``)
        for k, (pc, ins, followed) in enumerate(path):
            if k <= skip:
                continue
            name = ins.name
            if k in self.heads:
                turns = self.unrollable(k)
                if turns:
                    skip = self.heads[k]
                    self.unroll(k, turns, pc, ind)
                    if skip == n - 1:
                        self.goto((path[skip][0] + 4) & M, skip + 1, ind)
                    continue
                ind = self.open_loop(k, pc, ind)
            if name in SYSTEM:
                body.append(f"{ind}{self.step_here(pc, k)}")
                break
            link = (pc + 4) & M
            if name == "lui":
                self.assign(ins.rd, "", ind, ins.imm & M)
            elif name == "auipc":
                self.assign(ins.rd, "", ind, (pc + ins.imm) & M)
            elif name == "jal":
                self.assign(ins.rd, "", ind, link)
                if not followed:
                    self.goto((pc + ins.imm) & M, k + 1, ind)
                    break
            elif name == "jalr":
                target, known = self.address(ins.rs1, ins.imm)
                if known is None:
                    body.append(f"{ind}t = {target}")
                self.assign(ins.rd, "", ind, link)
                if not followed or (known is not None and known != followed):
                    body.append(f"{ind}{self.leave('t' if known is None else target, k + 1, False)}")
                    break
                if known is None:  # the target seen in tier 0: elsewhere, the block leaves there
                    body.append(f"{ind}if t != {followed}: {self.leave('t', k + 1, False)}")
            elif name in BRANCHES:
                taken = self.decided(ins)
                branch_target = (pc + ins.imm) & M
                if taken is not None and not (self.open and self.heads[self.open[-1][0]] == k) and not (
                        branch_target == self.start or any(branch_target == head_pc for _, head_pc in self.open)):
                    # its registers hold constants here (and it closes no loop): taken or not is decided now
                    if taken:
                        self.goto(branch_target, k + 1, ind)
                        break
                    if k == n - 1:
                        self.goto(link, k + 1, ind)
                    continue
                if self.copy == 1 and k == n - 1 and branch_target == self.start:
                    # the end of the first copy: not taken leaves, taken goes on into the second
                    body.append(f"{ind}if not ({self.condition(ins)}):")
                    self.goto(link, k + 1, ind + "    ")
                    break
                body.append(f"{ind}if {self.condition(ins)}:")
                self.goto((pc + ins.imm) & M, k + 1, ind + "    ")
                if self.open and self.heads[self.open[-1][0]] == k:
                    body.append(f"{ind}break")  # not taken: on after the loop
                    ind = self.close_loop(ind)
                if k == n - 1:
                    self.goto(link, k + 1, ind)
            elif name in LOADS:
                if not self.load(pc, ins, k, ind):
                    break
            elif name in STORES:
                if not self.store(pc, ins, k, ind):
                    break
            else:
                self.alu(ins, ind)
            if k == n - 1 and name not in BRANCHES:
                body.append(f"{ind}{self.leave(str(link), n, False)}")
        while self.open:  # the path ended inside loops (their last statement leaves)
            ind = self.close_loop(ind)

    def decided(self, ins: Any) -> bool | None:
        """Whether a branch is taken, when both its registers hold known values (None otherwise)."""
        values = []
        for index in (ins.rs1, ins.rs2):
            if index and index not in self.known:
                return None
            values.append(self.known[index] if index else 0)
        a, b = values
        sa, sb = a ^ 0x80000000, b ^ 0x80000000
        return {"beq": a == b, "bne": a != b, "blt": sa < sb, "bge": sa >= sb, "bltu": a < b, "bgeu": a >= b}[ins.name]

    def condition(self, ins: Any) -> str:
        a, b = self.reg(ins.rs1), self.reg(ins.rs2)
        if ins.name in ("blt", "bge") and self.span(ins.rs1)[1] <= 0x7FFFFFFF and self.span(ins.rs2)[1] <= 0x7FFFFFFF:
            return f"{a} {'<' if ins.name == 'blt' else '>='} {b}"  # both non-negative as signed values
        return {
            "beq": f"{a} == {b}",
            "bne": f"{a} != {b}",
            "blt": _less(a, b),
            "bge": f"not {_less(a, b)}",
            "bltu": f"{a} < {b}",
            "bgeu": f"{a} >= {b}",
        }[ins.name]

    def check(self, condition: str, constant: bool | None, pc: int, k: int, ind: str) -> bool:
        """Emit a trap check; False when it always traps (the rest of the path is dead)."""
        if constant is None:
            self.lines.append(f"{ind}if {condition}: {self.step_here(pc, k)}")
            return True
        if constant:
            self.lines.append(f"{ind}{self.step_here(pc, k)}")
            return False
        return True

    def load(self, pc: int, ins: Any, k: int, ind: str) -> bool:
        name = ins.name
        address, known = self.address(ins.rs1, ins.imm, wrap=False)
        key = (ins.rs1, ins.imm)
        if name == "lw" and known is None and key in self.memory:
            # the word an earlier access on the path stored or loaded (and checked): no load
            value = self.memory[key]
            if ins.rd and value != f"x{ins.rd}":
                if value.isdigit():
                    self.assign(ins.rd, "", ind, int(value))
                elif value[0] == "f":  # a temporary: never written again, the word's holder from now on
                    self.assign(ins.rd, self.temporary(value), ind)
                    return True
                else:
                    self.assign(ins.rd, value, ind, span=self.span(int(value[1:])))
                self.remember(key, f"x{ins.rd}" if not value.isdigit() else value)
            return True
        if name == "lw":
            misaligned, test = self.alignment(ins.rs1, ins.imm, 3, known)
            if misaligned is None:  # checked here
                self.lines.append(f"{ind}t = {address}")
                self.check(test, None, pc, k, ind)
                address = "t"
            elif not self.check(test, misaligned, pc, k, ind):
                return False
            if ins.rd:
                self.lines.append(f"{ind}v = g({address})")
                self.assign(ins.rd, f"m.miss({address}) if v is None else v", ind)
                if known is None:
                    self.remember(key, f"x{ins.rd}")
            return True
        self.lines.append(f"{ind}t = {address}")
        if name in ("lh", "lhu") and not self.check(*reversed(self.alignment(ins.rs1, ins.imm, 1, known)), pc, k, ind):
            return False
        if ins.rd == 0:
            return True
        self.lines.append(f"{ind}a = t & 0xFFFFFFFC")
        self.lines.append(f"{ind}w = g(a)")
        self.lines.append(f"{ind}if w is None: w = m.miss(a)")
        if name in ("lh", "lhu"):
            half = "(w >> ((t & 2) << 3)) & 0xFFFF"
            if name == "lhu":
                self.assign(ins.rd, half, ind, span=(0, 0xFFFF))
            else:
                self.assign(ins.rd, f"((({half}) ^ 0x8000) - 0x8000) & {M}", ind)
        else:
            byte = "(w >> ((t & 3) << 3)) & 0xFF"
            if name == "lbu":
                self.assign(ins.rd, byte, ind, span=(0, 0xFF))
            else:
                self.assign(ins.rd, f"((({byte}) ^ 0x80) - 0x80) & {M}", ind)
        return True

    def remember(self, key: tuple[int, int], value: str) -> None:
        """The word at register key[0] + key[1] holds `value` (a register or a constant), unless
        the base register is the one just loaded."""
        if key[0] != 0 and f"x{key[0]}" != value:
            self.memory[key] = value
            self.origins[key] = len(self.lines) - 1  # the store or load (or copy) just generated

    def in_bounds(self, rs1: int, imm: int) -> bool:
        """Whether what is known of rs1's value puts rs1 + imm within 40..2**32-4 (no wrap, no
        protected word, the whole word below 2**32)."""
        bounds = self.bounds.get(rs1)
        return bounds is not None and bounds[0] + imm >= 40 and bounds[1] + imm <= M - 3

    def store(self, pc: int, ins: Any, k: int, ind: str) -> bool:
        name = ins.name
        value = self.reg(ins.rs2)
        address, known = self.address(ins.rs1, ins.imm)
        if name == "sw" and known is None:
            # from a register: the first store from it checks that it is within STORE_LOW and
            # 2**32-4 less the offset (else the spec steps the store), which puts the accesses
            # at any offset from it up to this one within 40..2**32-4: no mask, no check
            misaligned, test = self.alignment(ins.rs1, ins.imm, 3, None)
            if misaligned:
                return self.check("", True, pc, k, ind)
            unmasked, _ = self.address(ins.rs1, ins.imm, wrap=False)
            conditions = [] if not test else [f"({unmasked}) & 3"]
            if not self.in_bounds(ins.rs1, ins.imm):
                lo, hi = STORE_LOW, M - 3 - max(ins.imm, 0)
                conditions.insert(0, f"not {lo} <= {self.reg(ins.rs1)} <= {hi}")
                old = self.bounds.get(ins.rs1, (lo, hi))
                # both hold after the check (an empty intersection: the code after it never runs)
                self.bounds[ins.rs1] = (max(lo, old[0]), min(hi, old[1]))
            if conditions:
                self.check(" or ".join(conditions), None, pc, k, ind)
            self.lines.append(f"{ind}m[{unmasked}] = {value}")
            # another base register may point anywhere; the same base at another offset, elsewhere
            self.memory = {key: held for key, held in self.memory.items() if key[0] == ins.rs1 and key[1] != ins.imm}
            self.remember((ins.rs1, ins.imm), value)
            return True
        self.memory.clear()  # a store at a constant address or of a byte or half: forget every word
        self.lines.append(f"{ind}t = {address}")
        if name == "sw":
            assert known is not None
            if not self.check("", bool(known & 3 or known < 40), pc, k, ind):
                return False
            self.lines.append(f"{ind}m[t] = {value}")
            return True
        mask = "0xFFFF" if name == "sh" else "0xFF"
        self.lines.append(f"{ind}a = t & 0xFFFFFFFC")
        if name == "sh" and known is None and self.in_bounds(ins.rs1, ins.imm):
            misaligned, test = self.alignment(ins.rs1, ins.imm, 1, None)
            ok = self.check(test, True if misaligned else None, pc, k, ind) if misaligned is not False else True
        elif name == "sb" and known is None and self.in_bounds(ins.rs1, ins.imm):
            ok = True
        elif name == "sh":
            if known is not None:
                ok = self.check("", bool(known & 1 or (known & ~3) < 40), pc, k, ind)
            else:
                misaligned, test = self.alignment(ins.rs1, ins.imm, 1, None)
                ok = self.check(f"{test} or a < 40" if test else "a < 40", True if misaligned else None, pc, k, ind)
        else:
            ok = self.check("a < 40", None if known is None else (known & ~3) < 40, pc, k, ind)
        if not ok:
            return False
        self.lines.append(f"{ind}w = g(a)")
        self.lines.append(f"{ind}if w is None: w = m.miss(a)")
        self.lines.append(f"{ind}s = (t & 3) << 3")
        self.lines.append(f"{ind}m[a] = (w & ~({mask} << s) & {M}) | (({value} & {mask}) << s)")
        return True

    def alu(self, ins: Any, ind: str) -> None:
        name = ins.name
        sources = [ins.rs1] if name in _IMMEDIATE_FORMS else [ins.rs1, ins.rs2]
        if all(source == 0 or source in self.known for source in sources):
            values = {source: self.known[source] for source in sources if source}
            self.assign(ins.rd, "", ind, _evaluate(ins, values))
            return
        expr, span = self.exact(ins)
        choice = name == "sub" and expr is not None and expr.startswith("0xFFFFFFFF if ")
        if expr is None:
            a = self.reg(ins.rs1)
            imm = ins.imm
            uimm = imm & M
            if name == "addi":
                expr = _wrapped_sum(a, imm)
            elif name == "slli" and imm >= 2:  # the mask before the shift: a one-digit integer
                expr = f"({a} & {M >> imm}) << {imm}"
            elif name == "slti":
                expr = f"1 if {_less(a, str(uimm))} else 0"
            elif name in _IMMEDIATE_FORMS:
                expr = _IMMEDIATE_FORMS[name].format(a=a, imm=imm, uimm=uimm, M=M, sa=_signed(a))
            elif name in ("divu", "remu") and ins.rs2 in self.nonzero and ins.rs2 not in self.known:
                expr = f"{a} {'//' if name == 'divu' else '%'} x{ins.rs2}"
                self.used.add(ins.rs2)
            else:
                b = self.reg(ins.rs2)
                if name == "sub":  # a test and one subtraction (a second when it wraps), as ``_wrapped_sum``
                    expr = f"{a} - {b} if {a} >= {b} else {a} - {b} + 4294967296"
                elif name == "slt":
                    expr = f"1 if {_less(a, b)} else 0"
                else:
                    expr = _REGISTER_FORMS[name].format(a=a, b=b, M=M, sa=_signed(a), sb=_signed(b))
        self.assign(ins.rd, expr, ind, span=span)
        if choice and ins.rd:
            self.choices.add(ins.rd)

    def exact(self, ins: Any) -> tuple[str | None, tuple[int, int]]:  # noqa: C901 - one case per operation
        """What the ranges of its sources (``span``) tell of an ALU instruction: an expression
        with no 32-bit mask (or sign flip) where its value provably stays within 0..2**32-1
        (None: the generic form), and the range of the value it writes."""
        name = ins.name
        la, ha = self.span(ins.rs1)
        imm = ins.imm
        if name == "addi":
            if ins.rs1 in self.inductions and ins.rd == ins.rs1:  # the guard at entry rules out a wrap
                return (f"{self.reg(ins.rs1)} + {imm}" if imm >= 0 else f"{self.reg(ins.rs1)} - {-imm}"), FULL
            if imm == 0:
                return self.reg(ins.rs1), (la, ha)
            if 0 <= la + imm and ha + imm <= M:
                a = self.reg(ins.rs1)
                return (f"{a} + {imm}" if imm > 0 else f"{a} - {-imm}"), (la + imm, ha + imm)
            return None, FULL
        if name in _IMMEDIATE_FORMS:
            uimm = imm & M
            if name in ("slti", "sltiu"):
                if name == "slti" and ha <= 0x7FFFFFFF and uimm <= 0x7FFFFFFF:
                    return f"1 if {self.reg(ins.rs1)} < {uimm} else 0", (0, 1)
                return None, (0, 1)
            if name == "andi":
                return None, (0, min(ha, uimm))
            if name in ("ori", "xori"):
                return None, (0, (1 << max(ha, uimm).bit_length()) - 1)
            if name == "slli":
                if ha << imm <= M:
                    return f"{self.reg(ins.rs1)} << {imm}", (la << imm, ha << imm)
                return None, FULL
            if name == "srli":
                return None, (la >> imm, ha >> imm)
            if name == "srai" and ha <= 0x7FFFFFFF:
                return f"{self.reg(ins.rs1)} >> {imm}", (la >> imm, ha >> imm)
            return None, FULL
        lb, hb = self.span(ins.rs2)
        if name == "add" and ha + hb <= M:
            return f"{self.reg(ins.rs1)} + {self.reg(ins.rs2)}", (la + lb, ha + hb)
        if name == "sub" and la >= hb:
            return f"{self.reg(ins.rs1)} - {self.reg(ins.rs2)}", (la - hb, ha - lb)
        if name == "sub" and ha == 0 and hb <= 1:  # a 0 or 1 negated: all ones or zero, with no arithmetic
            return f"0xFFFFFFFF if {self.reg(ins.rs2)} else 0", FULL
        if name == "mul" and ha * hb <= M:
            return f"{self.reg(ins.rs1)} * {self.reg(ins.rs2)}", (la * lb, ha * hb)
        if name in ("slt", "sltu"):
            if name == "slt" and ha <= 0x7FFFFFFF and hb <= 0x7FFFFFFF:
                return f"1 if {self.reg(ins.rs1)} < {self.reg(ins.rs2)} else 0", (0, 1)
            return None, (0, 1)
        if name == "and":
            if ins.rs1 in self.choices:  # all ones or zero: the other value or 0
                return f"{self.reg(ins.rs2)} if {self.reg(ins.rs1)} else 0", (0, hb)
            if ins.rs2 in self.choices:
                return f"{self.reg(ins.rs1)} if {self.reg(ins.rs2)} else 0", (0, ha)
            return None, (0, min(ha, hb))
        if name in ("or", "xor"):
            return None, (0, (1 << max(ha, hb).bit_length()) - 1)
        if name == "srl":
            return None, (0, ha)
        if name == "sra" and ha <= 0x7FFFFFFF:
            return f"{self.reg(ins.rs1)} >> ({self.reg(ins.rs2)} & 31)", (0, ha)
        if name == "mulhu":
            return None, (0, (ha * hb) >> 32)
        if name in ("remu", "divu"):
            nonzero = lb >= 1 or (ins.rs2 in self.nonzero and ins.rs2 not in self.known)
            if not nonzero:
                return None, (0, ha) if name == "remu" else FULL
            a, b = self.reg(ins.rs1), self.reg(ins.rs2)
            if name == "remu":
                return f"{a} % {b}", (0, min(ha, max(hb, 1) - 1))
            return f"{a} // {b}", (la // hb, ha // max(lb, 1))
        return None, FULL


def _masks(lines: list[str]) -> int:
    """How many 32-bit masks, wraps and sign flips (or sign tests) the generated `lines` hold."""
    return sum(line.count(str(M)) + line.count("4294967296") + line.count("0x80000000") + line.count("2147483648")
               for line in lines)


# the generic form of each ALU instruction (``_BlockCompiler.alu``; ADDI, SLLI by 2 or more, SLTI, SUB
# and SLT are written by ``_wrapped_sum`` and ``_less`` instead, to the same effect)
_IMMEDIATE_FORMS = {
    "addi": "({a} + {imm}) & {M}",
    "slti": "1 if {sa} < {imm} else 0",
    "sltiu": "1 if {a} < {uimm} else 0",
    "xori": "{a} ^ {uimm}",
    "ori": "{a} | {uimm}",
    "andi": "{a} & {uimm}",
    "slli": "({a} << {imm}) & {M}",
    "srli": "{a} >> {imm}",
    "srai": "({sa} >> {imm}) & {M}",
}
_REGISTER_FORMS = {
    "sub": "({a} - {b}) & {M}",
    "slt": "1 if {sa} < {sb} else 0",
    "add": "({a} + {b}) & {M}",
    "sll": "({a} << ({b} & 31)) & {M}",
    "sltu": "1 if {a} < {b} else 0",
    "xor": "{a} ^ {b}",
    "srl": "{a} >> ({b} & 31)",
    "sra": "({sa} >> ({b} & 31)) & {M}",
    "or": "{a} | {b}",
    "and": "{a} & {b}",
    "mul": "({a} * {b}) & {M}",
    "mulh": "(({sa}) * ({sb}) >> 32) & {M}",
    "mulhsu": "(({sa}) * {b} >> 32) & {M}",
    "mulhu": "({a} * {b}) >> 32",
    "div": "_div({a}, {b})",
    "divu": "({a} // {b}) if {b} else {M}",
    "rem": "_rem({a}, {b})",
    "remu": "({a} % {b}) if {b} else {a}",
}


_engines: OrderedDict[tuple[int, Any], tuple[Any, Engine]] = OrderedDict()


def engine_of(program: Any, threshold: int | None) -> Engine:
    """The engine of a program (kept for the next runs of the same Program object)."""
    key = (id(program), threshold)
    entry = _engines.get(key)
    if entry is not None and entry[0] is program:
        _engines.move_to_end(key)
        return entry[1]
    engine = Engine(program, threshold)
    _engines[key] = (program, engine)
    while len(_engines) > _ENGINE_CACHE_SIZE:
        _engines.popitem(last=False)
    return engine


@replaces("athena", "run", factory=True)
def make_run(spec: Any, threshold: int | None = DEFAULT_THRESHOLD) -> Any:
    """The fast ``run``; `threshold` is how many entries a block runs in tier 0 before it is
    compiled (0: compile at once; None: never compile)."""
    spec_run = spec.__dict__.get("__spec_originals__", {}).get("run", spec.run)
    live = spec.LIVE_GAS_SCHEDULE
    trap_class = spec.VmTrap
    out_of_gas = spec.StatusCode.OUT_OF_GAS

    def run(
        program: Program,
        entry: int,
        input_stream: bytes,
        host: Host,
        context: AthenaContext,
        max_gas: int,
        trace: Callable[[TraceRecord], None] | None = None,
        schedule: GasSchedule = live,
    ) -> Machine:
        if trace is not None:
            return spec_run(program, entry, input_stream, host, context, max_gas, trace, schedule)  # type: ignore[no-any-return]
        if len(_jalr_targets) > 1 << 16:
            _jalr_targets.clear()
        memory = LazyMemory(program.memory_image)
        machine = spec.Machine(program=program, host=host, context=context, max_gas=max_gas, pc=entry,
                               memory=memory, input_stream=bytearray(input_stream), schedule=schedule)
        memory.pages = {}  # the page cache of syscall reads, for this run only
        try:
            program = machine.program
            engine = engine_of(program, threshold)
            engine.settle()
            words = engine.words  # 0x73 is the one word that decodes to ecall
            pages = memory.pages
            assert pages is not None
            stores = memory  # where blocks store: the memory, or while pages are cached, a tracker
            tracker: _InvalidatingStores | None = None  # the _InvalidatingStores of this run, once pages are cached
            blocks = engine.blocks
            visited = engine.visited
            walk = engine.walk  # a block start entered for the first time runs through it (no block built)
            base = engine.base
            registers = machine.registers
            get = _dict_get.__get__(memory)
            size = engine.size
            pc = entry
            gas = 0
            steps = 0
            if ((pc - base) & M) >> 2 >= size:
                try:
                    spec.step(machine)
                except trap_class as trap:
                    machine.trap = trap
                return machine  # type: ignore[no-any-return]
            while True:
                block = blocks.get(pc)
                if block is None and walk is not None and pc not in visited:
                    visited.add(pc)
                    next_pc, count, need_step = walk(registers, stores, get, (max_gas - gas) >> 2, pc)
                else:
                    if block is None:
                        block = blocks[pc] = engine.block(pc)
                    next_pc, count, need_step = block(registers, stores, get, (max_gas - gas) >> 2)
                if stores is not memory and not pages:
                    stores = memory
                if need_step is COMPILE:
                    engine.promote(pc, block)
                    need_step = False
                elif need_step is COMPILE_THEN_STEP:
                    engine.promote(pc, block)
                if count:
                    gas += count << 2
                    steps += count
                    pc = next_pc
                    if pc == 0 or ((pc - base) & M) >> 2 >= size:
                        machine.pc, machine.gas, machine.steps, machine.halted = pc, gas, steps, True
                        return machine  # type: ignore[no-any-return]
                if need_step:
                    machine.pc, machine.gas, machine.steps = pc, gas, steps
                    try:
                        index = ((pc - base) & M) >> 2
                        if (words[index] == 0x73) if words is not None else engine.decoded(index).name == "ecall":
                            # the spec's step for an ecall, without its fetch and dispatch: the
                            # spec's syscall, then its gas, out-of-gas and halting rules
                            pc = spec.execute_syscall(machine)
                            machine.pc = pc
                            gas = machine.gas = machine.gas + 4
                            machine.steps = steps = steps + 1
                            if gas > max_gas:
                                raise trap_class(out_of_gas, "out_of_gas", f"{gas} > {max_gas}")
                            if pc == 0 or ((pc - base) & M) >> 2 >= size:
                                machine.halted = True
                                return machine  # type: ignore[no-any-return]
                        else:
                            if pages:
                                pages.clear()  # the spec's step may store (a syscall keeps the pages it writes exact)
                            spec.step(machine)
                            if machine.halted:
                                return machine  # type: ignore[no-any-return]
                            pc, gas, steps = machine.pc, machine.gas, machine.steps
                    except trap_class as trap:
                        machine.trap = trap
                        return machine  # type: ignore[no-any-return]
                    if pages:
                        if tracker is None:
                            tracker = _InvalidatingStores(memory)
                        stores = tracker
                    else:
                        stores = memory
        finally:
            memory.pages = None

    return run
