"""A tiny RV32EM assembler and ELF writer for hand-written test programs.

Independent of the spec's decoder: encodings follow the RISC-V manual's formats directly.
``assemble(text, base)`` takes one instruction per line (``addi a0, zero, 5``, ``lw a0, 8(sp)``,
``beq a0, a1, loop``, ``loop:``, ``.word 0x1234``, pseudo-instructions ``li``, ``mv``, ``j``,
``nop``, ``ret``) and returns little-endian bytes.
"""

from __future__ import annotations

import struct

from smspec.conformance.cases import record_provenance

ASSEMBLER = ("tests/spec/athena/asm.py: smspec's RV32EM assembler (encodings from the RISC-V manual; "
             "pseudo-instructions li, mv, j, nop, ret; `.word N` emits a raw word)")

REGISTER_NAMES = {
    "zero": 0, "ra": 1, "sp": 2, "gp": 3, "tp": 4, "t0": 5, "t1": 6, "t2": 7, "s0": 8, "fp": 8,
    "s1": 9, "a0": 10, "a1": 11, "a2": 12, "a3": 13, "a4": 14, "a5": 15,
}
R_TYPE = {
    "add": (0, 0), "sub": (0, 0x20), "sll": (1, 0), "slt": (2, 0), "sltu": (3, 0), "xor": (4, 0),
    "srl": (5, 0), "sra": (5, 0x20), "or": (6, 0), "and": (7, 0),
    "mul": (0, 1), "mulh": (1, 1), "mulhsu": (2, 1), "mulhu": (3, 1),
    "div": (4, 1), "divu": (5, 1), "rem": (6, 1), "remu": (7, 1),
}
I_ALU = {"addi": 0, "slti": 2, "sltiu": 3, "xori": 4, "ori": 6, "andi": 7}
SHIFTS = {"slli": (1, 0), "srli": (5, 0), "srai": (5, 0x20)}
LOADS = {"lb": 0, "lh": 1, "lw": 2, "lbu": 4, "lhu": 5}
STORES = {"sb": 0, "sh": 1, "sw": 2}
BRANCHES = {"beq": 0, "bne": 1, "blt": 4, "bge": 5, "bltu": 6, "bgeu": 7}


def reg(name: str) -> int:
    name = name.strip()
    if name in REGISTER_NAMES:
        return REGISTER_NAMES[name]
    if name.startswith("x") and name[1:].isdigit():
        return int(name[1:])
    raise ValueError(f"unknown register {name!r}")


def r_type(funct7: int, rs2: int, rs1: int, funct3: int, rd: int, opcode: int) -> int:
    return (funct7 << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode


def i_type(imm: int, rs1: int, funct3: int, rd: int, opcode: int) -> int:
    return ((imm & 0xFFF) << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode


def s_type(imm: int, rs2: int, rs1: int, funct3: int, opcode: int) -> int:
    imm &= 0xFFF
    return ((imm >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | ((imm & 31) << 7) | opcode


def b_type(imm: int, rs2: int, rs1: int, funct3: int) -> int:
    imm &= 0x1FFF
    return (
        ((imm >> 12) << 31) | (((imm >> 5) & 0x3F) << 25) | (rs2 << 20) | (rs1 << 15)
        | (funct3 << 12) | (((imm >> 1) & 0xF) << 8) | (((imm >> 11) & 1) << 7) | 0x63
    )


def j_type(imm: int, rd: int) -> int:
    imm &= 0x1FFFFF
    return (
        ((imm >> 20) << 31) | (((imm >> 1) & 0x3FF) << 21) | (((imm >> 11) & 1) << 20)
        | (((imm >> 12) & 0xFF) << 12) | (rd << 7) | 0x6F
    )


def _int(text: str, labels: dict[str, int] | None = None) -> int:
    text = text.strip()
    if labels is not None and text in labels:
        return labels[text]
    return int(text, 0)


def _memory_operand(text: str) -> tuple[int, int]:
    offset, base = text.strip().rstrip(")").split("(")
    return _int(offset or "0"), reg(base)


def _size(mnemonic: str, operands: list[str]) -> int:
    if mnemonic == "li":
        value = _int(operands[1]) & 0xFFFFFFFF
        signed = value - (1 << 32) if value >> 31 else value
        return 4 if -2048 <= signed < 2048 else 8
    return 4


def _encode(mnemonic: str, ops: list[str], pc: int, labels: dict[str, int]) -> list[int]:
    def target(text: str) -> int:
        return _int(text, labels) - pc

    if mnemonic in R_TYPE:
        funct3, funct7 = R_TYPE[mnemonic]
        return [r_type(funct7, reg(ops[2]), reg(ops[1]), funct3, reg(ops[0]), 0x33)]
    if mnemonic in I_ALU:
        return [i_type(_int(ops[2]), reg(ops[1]), I_ALU[mnemonic], reg(ops[0]), 0x13)]
    if mnemonic in SHIFTS:
        funct3, funct7 = SHIFTS[mnemonic]
        return [r_type(funct7, _int(ops[2]) & 31, reg(ops[1]), funct3, reg(ops[0]), 0x13)]
    if mnemonic in LOADS:
        offset, base = _memory_operand(ops[1])
        return [i_type(offset, base, LOADS[mnemonic], reg(ops[0]), 0x03)]
    if mnemonic in STORES:
        offset, base = _memory_operand(ops[1])
        return [s_type(offset, reg(ops[0]), base, STORES[mnemonic], 0x23)]
    if mnemonic in BRANCHES:
        return [b_type(target(ops[2]), reg(ops[1]), reg(ops[0]), BRANCHES[mnemonic])]
    if mnemonic == "lui":
        return [((_int(ops[1]) & 0xFFFFF) << 12) | (reg(ops[0]) << 7) | 0x37]
    if mnemonic == "auipc":
        return [((_int(ops[1]) & 0xFFFFF) << 12) | (reg(ops[0]) << 7) | 0x17]
    if mnemonic == "jal":
        if len(ops) == 1:
            ops = ["ra", ops[0]]
        return [j_type(target(ops[1]), reg(ops[0]))]
    if mnemonic == "jalr":
        if len(ops) == 2 and "(" in ops[1]:
            offset, base = _memory_operand(ops[1])
        elif len(ops) == 3:
            base, offset = reg(ops[1]), _int(ops[2])
        else:
            ops, base, offset = ["ra"], reg(ops[0]), 0
        return [i_type(offset, base, 0, reg(ops[0]), 0x67)]
    if mnemonic == "ecall":
        return [0x00000073]
    if mnemonic == "ebreak":
        return [0x00100073]
    if mnemonic == "fence":
        return [0x0FF0000F]
    if mnemonic == "nop":
        return [i_type(0, 0, 0, 0, 0x13)]
    if mnemonic == "mv":
        return [i_type(0, reg(ops[1]), 0, reg(ops[0]), 0x13)]
    if mnemonic == "j":
        return [j_type(target(ops[0]), 0)]
    if mnemonic == "ret":
        return [i_type(0, 1, 0, 0, 0x67)]
    if mnemonic == "li":
        rd = reg(ops[0])
        value = _int(ops[1]) & 0xFFFFFFFF
        signed = value - (1 << 32) if value >> 31 else value
        if -2048 <= signed < 2048:
            return [i_type(signed, 0, 0, rd, 0x13)]
        low = value & 0xFFF
        high = ((value + 0x800) >> 12) & 0xFFFFF
        return [(high << 12) | (rd << 7) | 0x37, i_type(low, rd, 0, rd, 0x13)]
    if mnemonic == ".word":
        return [_int(ops[0], labels) & 0xFFFFFFFF]
    raise ValueError(f"unknown mnemonic {mnemonic!r}")


def _lines(text: str) -> list[tuple[str | None, str, list[str]]]:
    parsed = []
    for raw in text.splitlines():
        line = raw.split("#")[0].strip()
        while ":" in line and not line.startswith("."):
            label, line = line.split(":", 1)
            parsed.append((label.strip(), "", []))
            line = line.strip()
        if not line:
            continue
        parts = line.split(None, 1)
        operands = [op.strip() for op in parts[1].split(",")] if len(parts) > 1 else []
        parsed.append((None, parts[0].lower(), operands))
    return parsed


def _labels(lines: list[tuple[str | None, str, list[str]]], base: int) -> dict[str, int]:
    labels: dict[str, int] = {}
    pc = base
    for label, mnemonic, operands in lines:
        if label is not None:
            labels[label] = pc
        else:
            pc += _size(mnemonic, operands)
    return labels


def assemble_words(text: str, base: int = 0) -> list[int]:
    lines = _lines(text)
    labels = _labels(lines, base)
    words: list[int] = []
    pc = base
    for label, mnemonic, operands in lines:
        if label is None:
            encoded = _encode(mnemonic, operands, pc, labels)
            words.extend(encoded)
            pc += 4 * len(encoded)
    return words


def assemble(text: str, base: int = 0) -> bytes:
    return b"".join(struct.pack("<I", w) for w in assemble_words(text, base))


def raw_program(text: str) -> bytes:
    """Athena's raw format: the magic, then the code placed at address 0."""
    return record_provenance(b"\x7fATH" + assemble(text, 0), {
        "language": "riscv32-asm", "text": text,
        "built_with": f"{ASSEMBLER}; raw_program: Athena's raw format, the magic 7f 41 54 48 then the code at address 0",
    })


CODE_BASE = 0x1000
DATA_BASE = 0x10000


def elf_program(
    text: str,
    data: bytes = b"",
    exports: dict[str, str] | None = None,
    code_base: int = CODE_BASE,
    data_base: int = DATA_BASE,
    entry: str | None = None,
    machine: int = 243,
) -> bytes:
    """A 32-bit RISC-V ELF executable: code in an R+X segment, ``data`` in an R+W segment.

    ``exports`` maps exported names to code labels; they are listed in ``.note.athena_export``
    (packed records {u8 0, u32 address, u32 name pointer}) with the names stored after ``data``.
    """
    labels = _labels(_lines(text), code_base)
    code = assemble(text, code_base)
    names = b""
    records = b""
    for name, label in (exports or {}).items():
        pointer = data_base + len(data) + len(names)
        names += name.encode() + b"\x00"
        records += struct.pack("<BII", 0, labels[label], pointer)
    data_segment = data + names
    entry_address = labels[entry] if entry else code_base
    shstrtab = b"\x00.note.athena_export\x00.shstrtab\x00"
    header_size, phdr_size = 52, 32
    phnum = 2
    code_offset = header_size + phnum * phdr_size
    data_offset = code_offset + len(code)
    records_offset = data_offset + len(data_segment)
    shstr_offset = records_offset + len(records)
    shoff = (shstr_offset + len(shstrtab) + 3) & ~3
    shnum = 3 if exports else 0
    ident = b"\x7fELF" + bytes([1, 1, 1, 0]) + b"\x00" * 8
    header = ident + struct.pack(
        "<HHIIIIIHHHHHH", 2, machine, 1, entry_address, header_size, shoff if shnum else 0, 0,
        header_size, phdr_size, phnum, 40, shnum, 2 if shnum else 0,
    )
    phdrs = struct.pack("<IIIIIIII", 1, code_offset, code_base, code_base, len(code), len(code), 5, 4)
    phdrs += struct.pack(
        "<IIIIIIII", 1, data_offset, data_base, data_base, len(data_segment), len(data_segment), 6, 4
    )
    body = header + phdrs + code + data_segment + records + shstrtab
    body += b"\x00" * (shoff - len(body))
    if shnum:
        sections = b"\x00" * 40
        sections += struct.pack("<IIIIIIIIII", 1, 7, 2, 0, records_offset, len(records), 0, 0, 1, 0)
        sections += struct.pack("<IIIIIIIIII", 21, 3, 0, 0, shstr_offset, len(shstrtab), 0, 0, 1, 0)
        body += sections
    how: dict = {"language": "riscv32-asm", "text": text,
                 "built_with": f"{ASSEMBLER}; elf_program: a 32-bit RISC-V ELF, code at {code_base:#x} in an R+X "
                 f"segment, data at {data_base:#x} in an R+W segment, exports in .note.athena_export"}
    if data:
        how["data"] = "0x" + data.hex()
    if exports:
        how["exports"] = dict(exports)
    if entry:
        how["entry"] = entry
    if machine != 243:
        how["machine"] = machine
    return record_provenance(body, how)


def by_hand(data: bytes, what: str) -> bytes:
    """A malformed program written byte by byte (its bytes are its source)."""
    return record_provenance(data, {"language": "bytes", "text": "0x" + data.hex(), "built_with": f"written by hand: {what}"})


def patched(program: bytes, offset: int, new: bytes, why: str) -> bytes:
    """``program`` with the bytes at ``offset`` replaced by ``new`` (a hand-made malformed file)."""
    body = program[:offset] + new + program[offset + len(new):]
    return record_provenance(body, {"derived_from": record_of(program), "patch": f"bytes at offset {offset} set to "
                                    f"0x{new.hex()}: {why}"})


def record_of(program: bytes) -> dict:
    from smspec.conformance.cases import provenance

    how = provenance(program)
    if how is None:
        raise ValueError("a program without a recorded source")
    return how
