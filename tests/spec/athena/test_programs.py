"""Whole programs in ELF form: loading rules, the memory image, exports, selectors, payloads.

The ELF files are written by ``asm.elf_program`` (code in an R+X segment at 0x1000, data in an
R+W segment, exports in ``.note.athena_export``); expected values are worked out by hand.
"""

from __future__ import annotations

import struct

import blake3
from smspec.conformance.cases import Blob, Case, vector_source

from .asm import CODE_BASE, assemble_words, by_hand, elf_program, patched
from .helpers import GAS, outcome

ECHO_PROGRAM = """
main:
  lui s0, 0x20
  li t1, 0x6e69616d
  sw t1, 0(s0)
  li t0, 2
  li a0, 3
  mv a1, s0
  li a2, 4
  ecall
  li t0, 0
  li a0, 0
  ecall
echo:
  li t0, 0xF0
  ecall
  mv a1, t0
  mv a2, t0
  lui a0, 0x20
  li t0, 0xF1
  ecall
  li t0, 2
  li a0, 3
  lui a1, 0x20
  ecall
  ret
"""
ECHO_ELF = elf_program(ECHO_PROGRAM, exports={"athexp_echo": "echo"}, entry="main")
ECHO_STEPS = 12
MAIN_STEPS = 12


def selector(name: str) -> bytes:
    return blake3.blake3(name.encode()).digest()[:4]


def compact(n: int) -> bytes:
    assert n < 64
    return bytes([n << 2])


def payload(state: bytes, method: str | None, args: bytes) -> bytes:
    option = b"\x00" if method is None else b"\x01" + selector(method)
    return compact(len(state)) + state + option + compact(len(args)) + args


def call_outcome(status: str, steps: int = 0, output: str | None = None) -> dict:
    return {
        "status": status,
        "gas_left": GAS - 4 * steps if status == "SUCCESS" else 0,
        "output": output,
        "storage": {},
        "balances": {"0x" + bytes(24).hex(): 0},
    }


@vector_source("athena", "programs", "run")
def test_elf_loading():
    data = struct.pack("<II", 0xCAFEBABE, 0x12345678)
    text = "lui s0, 0x10\nlw a0, 4(s0)\nlw a1, 8(s0)"
    yield Case(
        "data_image_is_loaded",
        inputs={"program": Blob(elf_program(text, data=data))},
        expected=outcome(3, {"x8": 0x10000, "x10": 0x12345678}, pc=CODE_BASE + 12), description="an ELF's data segment is in memory at its address", spec_ref="athena.md#load_elf",
    )
    # loads have no lower bound: a data segment at address 0 is readable (not writable)
    yield Case(
        "low_memory_readable",
        inputs={"program": Blob(elf_program("lw a0, 4(zero)\nsw a0, 36(zero)", data=data, data_base=0))},
        expected=outcome(1, {"x10": 0x12345678}, pc=CODE_BASE + 4, status="FAILURE", reason="store_out_of_bounds"), description="a data segment at address 0 is readable; a store below 40 still fails", spec_ref="athena.md#load_elf",
    )
    patched = assemble_words("addi a0, zero, 7")[0]
    text = f"lui s0, 1\nli t1, {patched}\nsw t1, 24(s0)\nlw a1, 24(s0)\nnop\naddi a0, zero, 1"
    yield Case(
        "code_is_not_fetched_from_memory",
        inputs={"program": Blob(elf_program(text)), "memory_words": [CODE_BASE + 24]},
        expected=outcome(
            7, {"x8": 0x1000, "x6": patched, "x11": patched, "x10": 1}, pc=CODE_BASE + 28,
            memory={str(CODE_BASE + 24): patched},
        ), description="overwriting code in memory does not change what runs (code is decoded at load)", spec_ref="athena.md#fetch",
    )
    yield Case(
        "entry_label",
        inputs={"program": Blob(elf_program("addi a0, zero, 1\nstart: addi a1, zero, 2", entry="start"))},
        expected=outcome(1, {"x11": 2}, pc=CODE_BASE + 8), description="execution starts at the ELF entry point, not at the first instruction", spec_ref="athena.md#load_elf",
    )
    yield Case(
        "method_by_export",
        inputs={"program": Blob(ECHO_ELF), "method": "athexp_echo", "input": b"hello"},
        expected=outcome(ECHO_STEPS, {"x5": 2, "x10": 3, "x11": 0x20000, "x12": 5}, pc=0, output="0x" + b"hello".hex()), description="running an exported method by name: the echo method copies its input to the output", spec_ref="athena.md#read_exports",
    )


def patch(elf: bytes, offset: int, layout: str, value: int) -> bytes:
    """``elf`` with the field at ``offset`` (struct ``layout``) set to ``value``, its making recorded."""
    new = struct.pack(layout, value)
    return patched(elf, offset, new, f"field {layout} := {value:#x}")


@vector_source("athena", "programs", "run")
def test_elf_rejections():
    good = elf_program("nop")
    yield Case("elf_class_64", inputs={"program": patch(good, 4, "<B", 2)}, error="InvalidProgram", reason="elf_ident", description="ELFCLASS64: rejected (elf_ident)", spec_ref="athena.md#load_elf")
    yield Case("elf_big_endian", inputs={"program": patch(good, 5, "<B", 2)}, error="InvalidProgram", reason="elf_ident", description="big-endian ELF: rejected (elf_ident)", spec_ref="athena.md#load_elf")
    yield Case("elf_machine_x86_64", inputs={"program": patch(good, 18, "<H", 62)}, error="InvalidProgram", reason="elf_machine", description="e_machine x86-64: rejected (elf_machine)", spec_ref="athena.md#load_elf")
    yield Case("elf_type_dyn", inputs={"program": patch(good, 16, "<H", 3)}, error="InvalidProgram", reason="elf_type", description="ET_DYN: rejected (elf_type)", spec_ref="athena.md#load_elf")
    yield Case("elf_entry_unaligned", inputs={"program": patch(good, 24, "<I", CODE_BASE + 2)}, error="InvalidProgram",
               reason="elf_entry_unaligned", description="an entry point not word-aligned: rejected", spec_ref="athena.md#load_elf")
    yield Case("elf_too_many_headers", inputs={"program": patch(good, 44, "<H", 257)}, error="InvalidProgram",
               reason="elf_too_many_segments", description="257 program headers: rejected (elf_too_many_segments)", spec_ref="athena.md#load_elf")
    yield Case("elf_segment_unaligned", inputs={"program": patch(good, 52 + 8, "<I", CODE_BASE + 2)}, error="InvalidProgram",
               reason="elf_segment_unaligned", description="a segment address not word-aligned: rejected", spec_ref="athena.md#load_elf")
    yield Case("elf_segment_past_file", inputs={"program": patch(good, 52 + 16, "<I", 4096)}, error="InvalidProgram",
               reason="truncated_elf", description="a segment whose bytes lie past the end of the file: truncated_elf", spec_ref="athena.md#load_elf")
    yield Case("data_in_code_segment", inputs={"program": elf_program("nop\n.word 0")}, error="InvalidProgram",
               reason="undecodable_instruction", description="a zero word in the executable segment does not decode: the whole program is rejected", spec_ref="athena.md#load_program")
    # a file without an executable segment loads but has nothing to run
    no_code = patch(good, 52 + 24, "<I", 4)
    yield Case("no_executable_segment", inputs={"program": no_code, "entry": CODE_BASE},
               expected=outcome(0, {}, pc=CODE_BASE, status="FAILURE", reason="instruction_fetch_failed"), description="a file without an executable segment loads; running it fails to fetch the first instruction", spec_ref="athena.md#load_elf")
    yield Case("elf_phentsize", inputs={"program": patch(good, 42, "<H", 40)}, error="InvalidProgram", reason="elf_phentsize", description="e_phentsize 40 instead of 32: rejected", spec_ref="athena.md#load_elf")
    # a segment whose last word would end at 2^32
    top = patch(patch(good, 52 + 8, "<I", 0xFFFFFFFC), 24, "<I", 0xFFFFFFFC)
    yield Case("elf_segment_overflow", inputs={"program": top}, error="InvalidProgram", reason="elf_segment_overflow", description="a segment whose last word would end at 2^32: rejected", spec_ref="athena.md#load_elf")
    # a non-PT_LOAD header (PT_NOTE) is ignored: the data segment is gone, the code still runs
    note = patch(elf_program("lui s0, 0x10\nlw a0, 0(s0)", data=b"\x01\x00\x00\x00"), 52 + 32, "<I", 4)
    yield Case("non_load_segment_ignored", inputs={"program": note},
               expected=outcome(2, {"x8": 0x10000}, pc=CODE_BASE + 8), description="a PT_NOTE header is ignored: its data is not loaded, the code runs", spec_ref="athena.md#load_elf")
    exported = elf_program("f: nop", exports={"athexp_f": "f"})
    shoff = struct.unpack_from("<I", exported, 32)[0]
    records_offset = struct.unpack_from("<I", exported, shoff + 40 + 16)[0]
    yield Case("elf_section_entry_size", inputs={"program": patch(exported, 46, "<H", 32)}, error="InvalidProgram",
               reason="elf_sections", description="e_shentsize 32 instead of 40 with an export section: rejected (elf_sections)", spec_ref="athena.md#read_exports")
    yield Case("export_section_past_file", inputs={"program": patch(exported, shoff + 40 + 20, "<I", 9 * 1000)},
               error="InvalidProgram", reason="truncated_elf", description="an export section past the end of the file: truncated_elf", spec_ref="athena.md#read_exports")
    yield Case("export_version_1", inputs={"program": patch(exported, records_offset, "<B", 1)}, error="InvalidProgram",
               reason="export_version", description="an export record of version 1: rejected (export_version)", spec_ref="athena.md#read_exports")
    # name pointer inside the data segment's memory size but past its file bytes
    beyond = patch(patch(exported, 52 + 32 + 20, "<I", 4096), records_offset + 5, "<I", 0x10000 + 100)
    yield Case("export_name_outside_file", inputs={"program": beyond}, error="InvalidProgram",
               reason="export_name_outside_file", description="an export name pointer inside the data segment's memory but past its file bytes: rejected", spec_ref="athena.md#read_exports")
    data_offset = struct.unpack_from("<I", exported, 52 + 32 + 4)[0]
    yield Case("export_name_not_utf8", inputs={"program": patch(exported, data_offset, "<B", 0xFF)}, error="InvalidProgram",
               reason="export_name_not_utf8", description="an export name that is not UTF-8: rejected", spec_ref="athena.md#read_exports")
    # a name pointer in no segment is skipped: the program loads without that export
    nowhere = patch(exported, records_offset + 5, "<I", 0x900000)
    yield Case("export_name_in_no_segment", inputs={"program": nowhere, "method": "athexp_f"}, error="VmTrap",
               reason="unknown_method", description="an export whose name pointer is in no segment is skipped: the method is unknown", spec_ref="athena.md#read_exports")
    # shrink the export section by one byte: a partial record
    yield Case("export_record_truncated", inputs={"program": patch(exported, shoff + 40 + 20, "<I", 8)},
               error="InvalidProgram", reason="export_record_truncated", description="an export section one byte short of a whole record: rejected", spec_ref="athena.md#read_exports")


@vector_source("athena", "programs", "call")
def test_payloads_and_selectors():
    program = Blob(ECHO_ELF)
    yield Case("no_input_runs_entry", inputs={"program": program, "payload": None},
               expected=call_outcome("SUCCESS", MAIN_STEPS, "0x" + b"main".hex()), description="a call without input runs the entry point", spec_ref="athena.md#call_program")
    yield Case("no_selector_runs_entry", inputs={"program": program, "payload": payload(b"", None, b"")},
               expected=call_outcome("SUCCESS", MAIN_STEPS, "0x" + b"main".hex()), description="a payload without a method selector runs the entry point", spec_ref="athena.md#call_program")
    # the input stream is the state followed by the arguments
    yield Case("selector_runs_method", inputs={"program": program, "payload": payload(b"ST", "athexp_echo", b"args")},
               expected=call_outcome("SUCCESS", ECHO_STEPS, "0x" + b"STargs".hex()), description="a payload with a selector runs that method; its input stream is state then arguments", spec_ref="athena.md#call_program")
    yield Case("trailing_bytes_ignored", inputs={"program": program, "payload": payload(b"", "athexp_echo", b"x") + b"junk"},
               expected=call_outcome("SUCCESS", ECHO_STEPS, "0x78"), description="bytes after the payload's arguments are ignored (Athena reads a prefix)", spec_ref="athena.md#encode_payload-encode_execution_payload-decode_execution_payload")
    yield Case("unknown_selector", inputs={"program": program, "payload": payload(b"", "athexp_nothing", b"")},
               expected=call_outcome("FAILURE"), description="a selector no export matches: FAILURE", spec_ref="athena.md#call_program")
    yield Case("empty_payload_bytes", inputs={"program": program, "payload": b""}, expected=call_outcome("FAILURE"), description="an empty (present but zero-byte) payload does not decode: FAILURE", spec_ref="athena.md#encode_payload-encode_execution_payload-decode_execution_payload")
    yield Case("option_tag_2", inputs={"program": program, "payload": b"\x00\x02\x00"}, expected=call_outcome("FAILURE"), description="a selector option tag 02 does not decode: FAILURE", spec_ref="athena.md#encode_payload-encode_execution_payload-decode_execution_payload")
    yield Case("non_canonical_compact", inputs={"program": program, "payload": b"\x01\x00\x00\x00"},
               expected=call_outcome("FAILURE"), description="a state length in a longer compact form than needed: FAILURE", spec_ref="athena.md#encode_compact-decode_compact")
    yield Case("truncated_compact", inputs={"program": program, "payload": b"\x01"}, expected=call_outcome("FAILURE"), description="a two-byte compact with one byte: FAILURE", spec_ref="athena.md#encode_compact-decode_compact")
    yield Case("compact_wider_than_u32", inputs={"program": program, "payload": b"\x07" + bytes(5)},
               expected=call_outcome("FAILURE"), description="a big-integer compact wider than 32 bits: FAILURE", spec_ref="athena.md#encode_compact-decode_compact")
    yield Case("missing_option", inputs={"program": program, "payload": b"\x00"}, expected=call_outcome("FAILURE"), description="a payload that ends before the selector option: FAILURE", spec_ref="athena.md#encode_payload-encode_execution_payload-decode_execution_payload")
    yield Case("truncated_selector", inputs={"program": program, "payload": b"\x00\x01\xaa"}, expected=call_outcome("FAILURE"), description="a selector of one byte instead of four: FAILURE", spec_ref="athena.md#encode_payload-encode_execution_payload-decode_execution_payload")
    yield Case("four_byte_compact_length", inputs={"program": program, "payload": b"\x02\x00\x01\x00" + bytes(16384) + b"\x00\x00"},
               expected=call_outcome("SUCCESS", MAIN_STEPS, "0x" + b"main".hex()), description="a 16384-byte state takes the four-byte compact length form", spec_ref="athena.md#encode_compact-decode_compact")
    yield Case("vec_longer_than_payload", inputs={"program": program, "payload": b"\x08\x00"}, expected=call_outcome("FAILURE"), description="a state length beyond the payload's end: FAILURE", spec_ref="athena.md#encode_vec-decode_vec")
    yield Case("empty_code", inputs={"program": by_hand(b"", "no bytes at all"), "payload": None}, expected=call_outcome("FAILURE"), description="calling empty code: FAILURE", spec_ref="athena.md#call_program")
    yield Case("unloadable_code", inputs={"program": by_hand(b"\x7fATH\x00\x00\x00\x00", "the raw magic and a zero word"), "payload": None}, expected=call_outcome("FAILURE"), description="calling code that does not load (a zero word): FAILURE", spec_ref="athena.md#call_program")
    yield Case("gas_above_u32", inputs={"program": program, "payload": None, "gas": 2**32}, expected=call_outcome("FAILURE"), description="gas above 2^32 - 1 is refused: FAILURE", spec_ref="athena.md#call_program")
    yield Case("out_of_gas_reports_nothing", inputs={"program": program, "payload": None, "gas": 20},
               expected=call_outcome("OUT_OF_GAS"), description="a call that runs out of gas reports no output and no gas left", spec_ref="athena.md#call_program")


def test_selector_known_answers():
    # interface/src/lib.rs:289-296 (athenavm/athena): "test" -> 4878ca04, "test2" -> 74704b4c
    import smspec.spec.athena as athena

    assert athena.method_selector("test").hex() == "4878ca04"
    assert athena.method_selector("test2").hex() == "74704b4c"


def test_getbalance_known_answer():
    # athenavm/athena tests/minimal/getbalance.bin with balance 9999 and gas 1000: output u64 9999,
    # gas left 968 (runner/src/vm.rs:278-297)
    import smspec.spec.athena as athena

    words = [0x10000513, 0x0A300293, 0x00000073, 0x00300513, 0x10000593, 0x02000613, 0x00200293, 0x00000073]
    code = b"\x7fATH" + b"".join(w.to_bytes(4, "little") for w in words)
    host = athena.InMemoryHost()
    host.account(bytes(24)).balance = 9999
    message = athena.Message(recipient=bytes(24), sender=bytes(24), gas=1000, input=None)
    result = athena.call_program(code, message, host, bytes(24))
    assert result == athena.ExecutionResult(athena.StatusCode.SUCCESS, 968, (9999).to_bytes(8, "little") + bytes(24))


def test_payload_round_trip():
    import smspec.spec.athena as athena

    encoded = athena.encode_execution_payload(b"s" * 70, athena.method_selector("m"), b"a" * 20000)
    assert encoded[:2] == ((70 << 2) | 1).to_bytes(2, "little")
    assert athena.decode_execution_payload(encoded) == (b"s" * 70, athena.method_selector("m"), b"a" * 20000)
    assert athena.encode_compact(2**30) == b"\x03\x00\x00\x00\x40"
    assert athena.decode_compact(b"\x03\x00\x00\x00\x40", 0) == (2**30, 5)
