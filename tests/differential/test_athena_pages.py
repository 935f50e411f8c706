"""Athena: the page cache of bulk syscall reads (impl/athena.py) against the spec.

While the fast ``run`` executes, syscall reads of 1 KiB or more are served from a cache of 4 KiB
pages of the memory; every write to the memory (stores of compiled blocks and tier 0, syscall
writes, the spec's step) writes the cached page too or drops it. Checked here: random sequences
of stores, syscall writes and reads on a memory with the cache enabled against the spec's
functions on a plain dict (also with a tiny cache and a tiny store allowance, so eviction and
dropping run), and random programs that store into buffers crossing page boundaries and write
them out with WRITE, HINT_READ, HOST_READ and HOST_WRITE in a loop, spec against impl at every
tiering threshold and random gas limits (so the spec's step stores at block boundaries too).
"""

from __future__ import annotations

import pytest
import smspec.spec.athena as athena_module
from hypothesis import given, settings
from hypothesis import strategies as st
from smspec.impl import athena as impl
from smspec.impl import registry
from smspec.tests.differential.test_athena import machine_with, outcome_of, run_both
from smspec.tests.spec.athena.asm import raw_program

pytestmark = pytest.mark.usefixtures("spec_backend")

M = 0xFFFFFFFF
PAGE = 1 << impl.PAGE_SHIFT
# addresses around page boundaries, at the bottom and at the top of the address space
ADDRESSES = st.one_of(st.integers(PAGE - 64, 3 * PAGE + 64), st.integers(M - 2 * PAGE, M), st.integers(0, 200))
VALUES = st.integers(0, M)

STORE = st.tuples(st.just("store"), ADDRESSES.map(lambda a: a & ~3), VALUES)
WRITE = st.tuples(st.just("write"), ADDRESSES.map(lambda a: a & ~3), st.binary(max_size=600))
HINT = st.tuples(st.just("hint"), ADDRESSES, st.integers(0, 600))
READ = st.tuples(st.just("read"), ADDRESSES, st.one_of(st.integers(0, 64), st.integers(1000, 3 * PAGE)))


def apply(operations, spec_machine, fast_machine, tracker, input_stream: bytes) -> None:
    spec_read = registry.original(athena_module, "read_bytes")
    spec_write = registry.original(athena_module, "write_words")
    spec_hint = registry.original(athena_module, "syscall_hint_read")
    fast_read = impl._read_bytes_factory(athena_module)
    fast_write = impl._write_words_factory(athena_module)
    fast_hint = impl._syscall_hint_read_factory(athena_module)
    for kind, address, argument in operations:
        if kind == "store":
            spec_machine.memory[address] = argument
            tracker[address] = argument
        elif kind == "write":
            chunk = argument[: len(argument) - len(argument) % 4]
            assert outcome_of(fast_write, fast_machine, address, chunk) == outcome_of(
                spec_write, spec_machine, address, chunk)
        elif kind == "hint":
            for machine in (spec_machine, fast_machine):
                machine.input_stream = bytearray(input_stream)
                machine.input_position = 0
            assert outcome_of(fast_hint, fast_machine, address, argument) == outcome_of(
                spec_hint, spec_machine, address, argument)
        else:
            assert outcome_of(fast_read, fast_machine, address, argument) == outcome_of(
                spec_read, spec_machine, address, argument)
    assert dict(fast_machine.memory) == dict(spec_machine.memory)


@settings(max_examples=200)
@given(st.dictionaries(ADDRESSES.map(lambda a: a & ~3), VALUES, max_size=30),
       st.lists(st.one_of(STORE, WRITE, HINT, READ, READ), max_size=30),
       st.binary(min_size=600, max_size=600), st.sampled_from([(1, 1), (2, 3), (256, 4096)]))
def test_cached_pages_match_the_spec(words, operations, input_stream, limits):
    cached_pages, tracked_stores = limits
    saved = impl._CACHED_PAGES, impl._TRACKED_STORES
    impl._CACHED_PAGES, impl._TRACKED_STORES = limits
    try:
        lazy_image = impl.LazyImage([(a, impl._words_of(v.to_bytes(4, "little"))) for a, v in sorted(words.items())])
        memory = impl.LazyMemory(lazy_image)
        memory.pages = {}
        apply(operations, machine_with(dict(words)), machine_with(memory), impl._InvalidatingStores(memory),
              input_stream)
        assert len(memory.pages) <= cached_pages
    finally:
        impl._CACHED_PAGES, impl._TRACKED_STORES = saved


def test_reads_outside_a_run_do_not_cache():
    memory = impl.LazyMemory()
    machine = machine_with(memory)
    read_bytes = impl._read_bytes_factory(athena_module)
    for _ in range(2):
        assert read_bytes(machine, 0x1000, 5000) == bytes(5000)
    assert memory.pages is None and memory.read_once == set()


# Programs: a loop that stores into a buffer crossing pages and moves it through syscalls

BUFFER = 0x3000 - 100  # the buffer s0 points at: 6 KiB from just below a page boundary


def action_text(draw) -> str:
    kind = draw(st.sampled_from(["sw", "sh", "sb", "write", "write", "hint", "host_read", "host_write"]))
    offset = draw(st.integers(0, 6000))
    if kind in ("sw", "sh", "sb"):
        offset &= ~3 if kind == "sw" else ~1 if kind == "sh" else ~0
        return f"li t1, {offset}\nadd t1, t1, s0\n{kind} a4, 0(t1)\n"
    if kind == "write":
        length = draw(st.one_of(st.integers(1000, 5000), st.integers(0, 40)))
        return f"li t0, 2\nli a0, 3\nli a1, {offset}\nadd a1, a1, s0\nli a2, {length}\necall\n"
    if kind == "hint":
        return f"li t0, 0xF1\nli a0, {offset}\nadd a0, a0, s0\nli a1, {draw(st.integers(0, 40))}\necall\n"
    offset &= ~3  # HOST_READ writes its value over the key: an aligned pointer
    if kind == "host_read":
        return f"li t0, 0xA0\nli a0, {offset}\nadd a0, a0, s0\necall\n"
    value = draw(st.integers(0, 6000))
    return f"li t0, 0xA1\nli a0, {offset}\nadd a0, a0, s0\nli a1, {value}\nadd a1, a1, s0\necall\n"


@st.composite
def buffer_program(draw) -> bytes:
    actions = "".join(action_text(draw) for _ in range(draw(st.integers(1, 6))))
    turns = draw(st.integers(1, 4))
    return raw_program(f"li s0, {BUFFER}\nli a4, {draw(st.integers(0, M))}\nli s1, {turns}\nloop:\n{actions}"
                       "li t2, 0x9E3779B9\nadd a4, a4, t2\naddi s1, s1, -1\nbne s1, zero, loop\n"
                       "li t0, 0\nli a0, 0\necall\n")


@settings(max_examples=40, deadline=None)
@given(buffer_program(), st.one_of(st.just(10**6), st.integers(50, 3000)), st.binary(min_size=200, max_size=200))
def test_programs_moving_buffers_match_the_spec(code, gas, input_stream):
    spec_state, *impl_states = run_both(code, gas, input_stream)
    for impl_state in impl_states:
        assert impl_state == spec_state


def test_a_store_the_spec_steps_reaches_the_cached_page():
    # After two WRITEs cache the buffer's pages (the second read of a page caches it), the store
    # starts a compiled superblock longer than the gas left (a taken branch, then padding on the
    # fall-through path): the spec's step runs the store, then the third WRITE must see it. Some
    # gas limits in the range land there.
    write = "li t0, 2\nli a0, 3\nmv a1, s0\nli a2, 2000\necall\n"
    code = raw_program(f"li s0, {BUFFER}\nli a4, 0x12345678\n" + write + write +
                       "sw a4, 0(s0)\nbeq zero, zero, again\n" + "nop\n" * 30 +
                       "again:\n" + write + "li t0, 0\nli a0, 0\necall\n")
    outputs = set()
    for gas in range(0, 160):
        spec_state, *impl_states = run_both(code, gas, thresholds=(0,))
        for impl_state in impl_states:
            assert impl_state == spec_state
        outputs.add((len(spec_state[7]), spec_state[7][4000:4004]))
    assert outputs == {(0, b""), (2000, b""), (4000, b""), (6000, (0x12345678).to_bytes(4, "little"))}


@pytest.mark.parametrize(("address", "length"), [(0x1001, 3), (0x1002, 1), (0x1003, 10), (0x1FFE, 7), (0x1000, 9)])
def test_hint_read_writes_the_cached_page(address, length):
    # a second read caches the pages, then HINT_READ writes a partial first word (and whole words after)
    words = {0x1000: 0x11223344, 0x1FFC: 0x55667788, 0x2000: 0x99AABBCC}
    memory = impl.LazyMemory(impl.LazyImage([(a, impl._words_of(v.to_bytes(4, "little"))) for a, v in words.items()]))
    memory.pages = {}
    spec_machine, fast_machine = machine_with(dict(words), b"0123456789"), machine_with(memory, b"0123456789")
    reads = [("read", 0x1000, 2 * PAGE)] * 2
    apply([*reads, ("hint", address, length), ("read", 0x1000, 2 * PAGE)],
          spec_machine, fast_machine, impl._InvalidatingStores(memory), b"0123456789")
    assert set(memory.pages) == {1, 2}
    assert impl._read_bytes_factory(athena_module)(fast_machine, address, length) == b"0123456789"[:length]


def test_a_buffer_read_once_is_not_cached():
    memory = impl.LazyMemory()
    memory.pages = {}
    memory[0x2000] = 0x64636261
    machine = machine_with(memory)
    read_bytes = impl._read_bytes_factory(athena_module)
    expected = bytes(0x800) + b"abcd" + bytes(5000 - 0x804)
    assert read_bytes(machine, 0x1800, 5000) == expected
    assert memory.pages == {} and memory.read_once == {1, 2}
    assert read_bytes(machine, 0x1800, 5000) == expected
    assert set(memory.pages) == {1, 2}
    assert read_bytes(machine, 0x1FFE, 4) == b"\x00\x00ab"  # short: from the words


SEGMENT_ADDRESSES = st.integers(PAGE - 40, 3 * PAGE).map(lambda a: a & ~3)


@settings(max_examples=200)
@given(st.lists(st.tuples(SEGMENT_ADDRESSES, st.lists(VALUES, max_size=1100)), max_size=4),
       st.dictionaries(SEGMENT_ADDRESSES, VALUES, max_size=20), st.lists(st.integers(0, 4), max_size=3),
       SEGMENT_ADDRESSES, st.integers(0, 2 * PAGE).map(lambda n: n & ~3))
def test_reading_from_the_words_held_matches_the_spec(segments, stores, loaded, start, length):
    # overlapping image segments (the later wins), words stored into pages loaded or not yet
    # loaded: the read that goes over the words held (a small memory) gives the spec's bytes
    image = impl.LazyImage([(a, impl._words_of(b"".join(v.to_bytes(4, "little") for v in values)))
                            for a, values in segments])
    memory = impl.LazyMemory(image)
    for page in loaded:
        if page in memory.pending:
            memory.load_page(page)
    for address, value in stores.items():
        memory[address] = value
    model = {**image.full(), **stores}
    expected = registry.original(athena_module, "read_bytes")(machine_with(model), start, length)
    assert impl._read_sparse(memory, start, start + length) == expected
    assert impl._read_words(memory, start, start + length) == expected


@pytest.mark.parametrize("loaded", [(), (1,), (2,), (1, 2)])
def test_reads_of_one_or_two_words_across_a_page_boundary(loaded):
    # a read of 1 to 8 bytes at each address around the end of page 1, image words in pages 1
    # and 2, each page loaded or not yet: the bytes of the spec's read (the impl reads one or
    # two words without iterators, loading the image pages they fall in)
    values = list(range(0x11111111, 0x11111111 + 2 * PAGE // 4))
    image = impl.LazyImage([(PAGE, impl._words_of(b"".join(v.to_bytes(4, "little") for v in values)))])
    model = image.full()
    spec_read = registry.original(athena_module, "read_bytes")
    for start in range(2 * PAGE - 12, 2 * PAGE + 5):
        for length in range(1, 9):
            memory = impl.LazyMemory(image)
            for page in loaded:
                memory.load_page(page)
            expected = spec_read(machine_with(model), start, length)
            assert impl._read_bytes_factory(athena_module)(machine_with(memory), start, length) == expected, (start, length)
