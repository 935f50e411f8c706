"""Athena instruction semantics, one vector source per instruction group.

Every program is in Athena's raw format (code at address 0, no data image), hand-assembled by
``asm.py``; expected registers were worked out by hand from the RISC-V manual and the quirks
named in spec/athena.md.
"""

from __future__ import annotations

from smspec.conformance.cases import Case, vector_source

from .asm import CODE_BASE, elf_program, i_type, r_type, raw_program
from .helpers import outcome, raw_case

M = 0xFFFFFFFF


@vector_source("athena", "instructions", "run")
def test_upper_immediates_and_jumps():
    yield raw_case("lui", "lui a0, 0x12345", outcome(1, {"x10": 0x12345000}), description="LUI writes the immediate shifted left by 12: a0 = 0x12345000", spec_ref="athena.md#upper-immediates-lui-auipc")
    yield raw_case("lui_top_bit", "lui a0, 0xFFFFF", outcome(1, {"x10": 0xFFFFF000}), description="LUI with the top immediate bit set gives a negative word 0xfffff000", spec_ref="athena.md#upper-immediates-lui-auipc")
    yield raw_case("auipc", "nop\nauipc a0, 1", outcome(2, {"x10": 0x1004}), description="AUIPC adds the shifted immediate to its own pc (4): a0 = 0x1004", spec_ref="athena.md#upper-immediates-lui-auipc")
    yield raw_case(
        "jal_links_and_skips",
        "jal ra, skip\naddi a0, zero, 1\nskip: addi a1, zero, 2",
        outcome(2, {"x1": 4, "x11": 2}, pc=12), description="JAL stores the return address (4) in ra and skips one instruction", spec_ref="athena.md#jumps-jal-jalr",
    )
    # JALR keeps the low bit of the target; the misaligned pc fetches the word below it and
    # AUIPC sees the misaligned pc (spec: Decision "JALR low bit" and "misaligned pc").
    yield raw_case(
        "jalr_keeps_low_bit",
        "addi a0, zero, 9\njalr ra, a0, 0\naddi a1, zero, 5\nauipc a2, 0",
        outcome(4, {"x10": 9, "x1": 8, "x11": 5, "x12": 13}, pc=17), description="JALR to an odd target keeps the low bit (Decision): the misaligned pc fetches the word below and AUIPC sees the odd pc", spec_ref="athena.md#jumps-jal-jalr",
    )
    yield raw_case(
        "jalr_rd_equals_rs1",
        "addi ra, zero, 12\njalr ra, ra, 0\nnop\naddi a0, zero, 1",
        outcome(3, {"x1": 8, "x10": 1}, pc=16), description="JALR with rd = rs1 reads the target before writing the link", spec_ref="athena.md#jumps-jal-jalr",
    )
    # Jumping to address 0 ends the program successfully, even when code is there.
    yield raw_case("jump_to_zero_halts", "start: addi a0, a0, 1\nj start", outcome(2, {"x10": 1}, pc=0), description="a jump to address 0 ends the program successfully even though code is there", spec_ref="athena.md#step")
    yield raw_case(
        "jump_outside_code_halts", "lui a0, 4\njalr zero, a0, 0\naddi a1, zero, 1", outcome(2, {"x10": 0x4000}, pc=0x4000), description="a jump outside the code ends the program successfully (pc = 0x4000)", spec_ref="athena.md#step",
    )
    # funct3 of JALR is not checked (lax decoding): funct3 = 7 behaves as JALR.
    lax_jalr = i_type(0, 10, 7, 1, 0x67)
    yield raw_case(
        "jalr_any_funct3",
        f"addi a0, zero, 12\n.word {lax_jalr}\nnop\naddi a1, zero, 3",
        outcome(3, {"x10": 12, "x1": 8, "x11": 3}, pc=16), description="JALR ignores funct3 (lax decoding): funct3 = 7 still jumps and links", spec_ref="athena.md#decode_instruction",
    )


BRANCH_CASES = [
    ("beq", 5, 5, True), ("beq", 5, 6, False),
    ("bne", 5, 6, True), ("bne", 5, 5, False),
    ("blt", -1, 1, True), ("blt", 1, -1, False), ("blt", 3, 3, False),
    ("bge", 1, -1, True), ("bge", -1, 1, False), ("bge", 3, 3, True),
    ("bltu", 1, -1, True), ("bltu", -1, 1, False),
    ("bgeu", -1, 1, True), ("bgeu", 1, -1, False), ("bgeu", 0, 0, True),
]


@vector_source("athena", "instructions", "run")
def test_branches():
    for name, left, right, taken in BRANCH_CASES:
        text = f"addi a0, zero, {left}\naddi a1, zero, {right}\n{name} a0, a1, taken\naddi a2, zero, 1\ntaken: addi a3, zero, 1"
        registers = {"x10": left & M, "x11": right & M}
        if not taken:
            registers["x12"] = 1
        registers["x13"] = 1
        registers = {k: v for k, v in registers.items() if v}
        label = f"{name}_{'taken' if taken else 'not_taken'}_{left & 0xFF}_{right & 0xFF}"
        yield raw_case(label, text, outcome(4 if taken else 5, registers, pc=20),
                       description=f"{name.upper()} with a0 = {left}, a1 = {right} is {'taken' if taken else 'not taken'}"
                       + ("" if name in ("beq", "bne") else f" ({'unsigned' if name.endswith('u') else 'signed'} comparison)"),
                       spec_ref="athena.md#branches-beq-bne-blt-bge-bltu-bgeu")
    yield raw_case(
        "backward_loop",
        "addi a0, zero, 5\nloop: addi a0, a0, -1\nbne a0, zero, loop",
        outcome(11, {}, pc=12), description="a BNE loop counting a0 down from 5 runs 11 instructions", spec_ref="athena.md#branches-beq-bne-blt-bge-bltu-bgeu",
    )


@vector_source("athena", "instructions", "run")
def test_loads():
    setup = "lui s0, 1\nli t1, 0x80F0A0B0\nsw t1, 0(s0)\n"
    loads = "lb a0, 0(s0)\nlbu a1, 0(s0)\nlb a2, 3(s0)\nlbu a3, 1(s0)\nlh a4, 0(s0)\nlhu a5, 2(s0)\nlh t2, 2(s0)\nlw s1, 0(s0)"
    yield raw_case(
        "all_widths",
        setup + loads,
        outcome(
            12,
            {
                "x8": 0x1000, "x6": 0x80F0A0B0, "x10": 0xFFFFFFB0, "x11": 0xB0, "x12": 0xFFFFFF80,
                "x13": 0xA0, "x14": 0xFFFFA0B0, "x15": 0x80F0, "x7": 0xFFFF80F0, "x9": 0x80F0A0B0,
            },
            memory={"4096": 0x80F0A0B0},
        ),
        memory_words=[4096], description="LB, LBU, LH, LHU, LW of one stored word: sign and zero extension of each width", spec_ref="athena.md#loads-lb-lh-lw-lbu-lhu",
    )
    yield raw_case("unwritten_memory_reads_zero", "lui s0, 0x7FFFF\nlw a0, 0(s0)", outcome(2, {"x8": 0x7FFFF000}), description="a load from a word never written reads 0", spec_ref="athena.md#load_word-store_word")
    yield raw_case("address_wraps", "addi a0, zero, -4\nlw a1, 0(a0)\naddi s0, zero, 8\nlw a2, -8(s0)", outcome(4, {"x10": M - 3, "x8": 8}), description="load addresses wrap modulo 2^32 (-4 + 0 and 8 - 8)", spec_ref="athena.md#loads-lb-lh-lw-lbu-lhu")
    for name, offset in (("lw", 1), ("lw", 2), ("lw", 3), ("lh", 1), ("lh", 3), ("lhu", 3)):
        yield raw_case(
            f"misaligned_{name}_{offset}",
            f"lui s0, 1\n{name} a0, {offset}(s0)",
            outcome(1, {"x8": 0x1000}, pc=4, status="FAILURE", reason="misaligned_load"),
            description=f"{name.upper()} at offset {offset} of an aligned word is misaligned: FAILURE",
            spec_ref="athena.md#loads-lb-lh-lw-lbu-lhu",
        )
    yield raw_case("lb_any_alignment", "lui s0, 1\nlb a0, 3(s0)\nlhu a1, 2(s0)", outcome(3, {"x8": 0x1000}), description="LB has no alignment rule; LHU at an even address is aligned", spec_ref="athena.md#loads-lb-lh-lw-lbu-lhu")


@vector_source("athena", "instructions", "run")
def test_stores():
    yield raw_case(
        "byte_and_half_merge",
        "lui s0, 1\nli t1, 0x11223344\nsw t1, 0(s0)\naddi t2, zero, 0xAB\nsb t2, 1(s0)\nsh t2, 2(s0)",
        outcome(7, {"x8": 0x1000, "x6": 0x11223344, "x7": 0xAB}, memory={"4096": 0x00ABAB44}),
        memory_words=[4096], description="SB and SH merge into the stored word: 0x11223344 becomes 0x00abab44", spec_ref="athena.md#stores-sb-sh-sw",
    )
    yield raw_case(
        "store_at_40_allowed", "addi a0, zero, 40\nsw a0, 0(a0)", outcome(2, {"x10": 40}, memory={"40": 40}), memory_words=[40], description="a store at address 40, the first writable word, succeeds", spec_ref="athena.md#stores-sb-sh-sw",
    )
    for name, address in (("sw", 36), ("sw", 0), ("sb", 39), ("sh", 38)):
        yield raw_case(
            f"{name}_below_40_fails_{address}",
            f"addi a0, zero, {address}\n{name} a0, 0(a0)",
            outcome(1, {"x10": address} if address else {}, pc=4, status="FAILURE", reason="store_out_of_bounds"),
            description=f"{name.upper()} at address {address}, below the first writable word 40: store_out_of_bounds",
            spec_ref="athena.md#stores-sb-sh-sw",
        )
    for name, offset in (("sw", 2), ("sw", 1), ("sh", 1), ("sh", 3)):
        yield raw_case(
            f"misaligned_{name}_{offset}",
            f"lui s0, 1\n{name} s0, {offset}(s0)",
            outcome(1, {"x8": 0x1000}, pc=4, status="FAILURE", reason="misaligned_store"),
            description=f"{name.upper()} at offset {offset} of an aligned word is misaligned: FAILURE",
            spec_ref="athena.md#stores-sb-sh-sw",
        )
    yield raw_case(
        "sh_high_half", "lui s0, 1\naddi a0, zero, -1\nsh a0, 2(s0)", outcome(3, {"x8": 0x1000, "x10": M}, memory={"4096": 0xFFFF0000}), memory_words=[4096], description="SH at offset 2 writes the high half of the word", spec_ref="athena.md#stores-sb-sh-sw",
    )


@vector_source("athena", "instructions", "run")
def test_register_immediate():
    yield raw_case("addi_wraps", "lui a0, 0x80000\naddi a0, a0, -1", outcome(2, {"x10": 0x7FFFFFFF}), description="ADDI wraps: 0x80000000 - 1 = 0x7fffffff", spec_ref="athena.md#register-immediate-arithmetic-addi-slti-sltiu-xori-ori-andi-slli-srli-srai")
    yield raw_case("slti", "addi a0, zero, -5\nslti a1, a0, -4\nslti a2, a0, -6", outcome(3, {"x10": M - 4, "x11": 1}), description="SLTI compares signed: -5 < -4 is 1, -5 < -6 is 0", spec_ref="athena.md#register-immediate-arithmetic-addi-slti-sltiu-xori-ori-andi-slli-srli-srai")
    yield raw_case("sltiu_sign_extended_immediate", "addi a0, zero, 5\nsltiu a1, a0, -1\nsltiu a2, a0, 5", outcome(3, {"x10": 5, "x11": 1}), description="SLTIU sign-extends its immediate, then compares unsigned: 5 < 0xffffffff", spec_ref="athena.md#register-immediate-arithmetic-addi-slti-sltiu-xori-ori-andi-slli-srli-srai")
    yield raw_case(
        "logic_immediates",
        "addi a0, zero, 0xF0\nxori a1, a0, -1\nori a2, a0, 0xF\nandi a3, a0, 0x30",
        outcome(4, {"x10": 0xF0, "x11": 0xFFFFFF0F, "x12": 0xFF, "x13": 0x30}), description="XORI -1, ORI and ANDI on 0xf0", spec_ref="athena.md#register-immediate-arithmetic-addi-slti-sltiu-xori-ori-andi-slli-srli-srai",
    )
    yield raw_case(
        "shifts_immediate",
        "addi a0, zero, -16\nslli a1, a0, 4\nsrli a2, a0, 4\nsrai a3, a0, 4\nsrai a4, a0, 31",
        outcome(5, {"x10": 0xFFFFFFF0, "x11": 0xFFFFFF00, "x12": 0x0FFFFFFF, "x13": M, "x14": M}), description="SLLI, SRLI, SRAI by 4 and SRAI by 31 of -16", spec_ref="athena.md#register-immediate-arithmetic-addi-slti-sltiu-xori-ori-andi-slli-srli-srai",
    )
    # SLLI ignores bits 31..25 (lax decoding): funct7 = 0x20 still shifts left by 4.
    lax_slli = r_type(0x20, 4, 10, 1, 11, 0x13)
    yield raw_case("slli_lax_funct7", f"addi a0, zero, 3\n.word {lax_slli}", outcome(2, {"x10": 3, "x11": 48}), description="SLLI ignores bits 31..25 (lax decoding): funct7 = 0x20 still shifts left", spec_ref="athena.md#decode_instruction")
    yield raw_case("writes_to_x0_dropped", "addi zero, zero, 5\nadd a0, zero, zero\nlui zero, 1", outcome(3, {}), description="writes to x0 (ADDI, ADD, LUI) are dropped: x0 stays 0", spec_ref="athena.md#read_register-write_register")


@vector_source("athena", "instructions", "run")
def test_register_register():
    prologue = "li a0, 0x80000001\naddi a1, zero, -3\naddi a2, zero, 36\n"
    base = {"x10": 0x80000001, "x11": M - 2, "x12": 36}
    ops = [
        ("add", "a0, a1", 0x7FFFFFFE), ("sub", "a1, a0", 0x7FFFFFFC), ("sll", "a0, a2", 0x00000010),
        ("slt", "a0, a1", 1), ("sltu", "a0, a1", 1), ("xor", "a0, a1", 0x7FFFFFFC),
        ("srl", "a0, a2", 0x08000000), ("sra", "a0, a2", 0xF8000000), ("or", "a0, a1", 0xFFFFFFFD),
        ("and", "a0, a1", 0x80000001), ("slt", "a1, a0", 0), ("sltu", "a1, a0", 0),
    ]
    for index, (name, operands, value) in enumerate(ops):
        registers = dict(base)
        if value:
            registers["x13"] = value
        yield raw_case(f"{name}_{index}", f"{prologue}{name} a3, {operands}", outcome(5, registers),
                       description=f"{name.upper()} {operands} with a0 = 0x80000001, a1 = -3, a2 = 36 gives {value:#x}",
                       spec_ref="athena.md#register-register-arithmetic-add-sub-sll-slt-sltu-xor-srl-sra-or-and")


MULDIV = [
    ("mul", M, M, 1), ("mul", 0x10000, 0x10000, 0), ("mulh", M, M, 0),
    ("mulh", 0x80000000, 0x80000000, 0x40000000), ("mulh", 0x80000000, 0x7FFFFFFF, 0xC0000000),
    ("mulhsu", M, M, M), ("mulhsu", 2, M, 1), ("mulhu", M, M, 0xFFFFFFFE),
    ("div", 7, M - 1, M - 2), ("div", M - 6, 2, M - 2), ("div", 7, 0, M), ("div", 0x80000000, M, 0x80000000),
    ("divu", M, 2, 0x7FFFFFFF), ("divu", 7, 0, M),
    ("rem", 7, M - 1, 1), ("rem", M - 6, 2, M), ("rem", 7, 0, 7), ("rem", 0x80000000, M, 0),
    ("remu", M, 10, 5), ("remu", 7, 0, 7),
]


@vector_source("athena", "instructions", "run")
def test_multiply_divide():
    for index, (name, left, right, value) in enumerate(MULDIV):
        registers = {"x10": left, "x11": right, "x12": value}
        registers = {k: v for k, v in registers.items() if v}
        text = f"li a0, {left}\nli a1, {right}\n{name} a2, a0, a1"
        steps = len(raw_program(text)) // 4 - 1
        yield raw_case(f"{name}_{index}", text, outcome(steps, registers),
                       description=f"{name.upper()} of {left:#x} and {right:#x} is {value:#x}"
                       + (" (division by zero: RISC-V's defined result)" if right == 0 and name[:3] in ("div", "rem") else ""),
                       spec_ref="athena.md#multiply-and-divide-m-mul-mulh-mulhsu-mulhu-div-divu-rem-remu")


@vector_source("athena", "instructions", "run")
def test_system():
    yield raw_case("ebreak_fails", "addi a0, zero, 1\nebreak", outcome(1, {"x10": 1}, pc=4, status="FAILURE", reason="breakpoint"), description="EBREAK fails the run with reason breakpoint after one instruction", spec_ref="athena.md#system-ecall-ebreak-and-the-unimplemented-instructions")
    yield raw_case("fence_loads_but_fails", "fence", outcome(0, {}, pc=0, status="FAILURE", reason="unimplemented_instruction"), description="FENCE decodes (the program loads) but fails when executed: unimplemented_instruction", spec_ref="athena.md#system-ecall-ebreak-and-the-unimplemented-instructions")
    csrrw = i_type(0x300, 20, 1, 20, 0x73)  # registers beyond x15 are not checked for CSR
    yield raw_case("csr_loads_but_fails", f"nop\n.word {csrrw}", outcome(1, {}, pc=4, status="FAILURE", reason="unimplemented_instruction"), description="a CSR instruction decodes (registers beyond x15 unchecked) but fails when executed", spec_ref="athena.md#system-ecall-ebreak-and-the-unimplemented-instructions")
    yield raw_case("wfi_fails", ".word 0x10500073", outcome(0, {}, pc=0, status="FAILURE", reason="unimplemented_instruction"), description="WFI decodes but fails when executed: unimplemented_instruction", spec_ref="athena.md#system-ecall-ebreak-and-the-unimplemented-instructions")
    yield raw_case("mret_fails", ".word 0x30200073", outcome(0, {}, pc=0, status="FAILURE", reason="unimplemented_instruction"), description="MRET decodes but fails when executed: unimplemented_instruction", spec_ref="athena.md#system-ecall-ebreak-and-the-unimplemented-instructions")
    yield raw_case(
        "unknown_syscall_fails", "addi t0, zero, 0x99\necall", outcome(1, {"x5": 0x99}, pc=4, status="FAILURE", reason="unsupported_syscall"), description="ECALL with t0 = 0x99, no such syscall: unsupported_syscall", spec_ref="athena.md#execute_syscall",
    )


UNDECODABLE = {
    "zero_word": 0x00000000,
    "compressed": 0x00004501,
    "fence_i": 0x0000100F,
    "srli_bad_funct7": r_type(0x01, 1, 10, 5, 10, 0x13),
    "srai_bad_funct7": r_type(0x21, 1, 10, 5, 10, 0x13),
    "sll_funct7_0x20": r_type(0x20, 1, 10, 1, 10, 0x33),
    "op_funct7_0x02": r_type(0x02, 1, 10, 0, 10, 0x33),
    "branch_funct3_2": 0x00002063,
    "load_funct3_3": 0x00003003,
    "store_funct3_3": 0x00003023,
    "ecall_with_rd": 0x000000F3,
    "ecall_with_rs1": 0x00008073,
    "system_unknown_function": 0x00200073,
    "system_funct3_4": 0x00004073,
    "custom_opcode": 0x0000000B,
    "all_ones": 0xFFFFFFFF,
}
OUT_OF_RANGE = {
    "lui_x16": "lui x16, 1",
    "addi_rs1_x20": "addi a0, x20, 1",
    "add_rs2_x31": "add a0, a1, x31",
    "sw_rs2_x16": "sw x16, 0(a0)",
    "beq_rs1_x17": "beq x17, a0, 0",
    "jal_x16": "jal x16, 0",
}


@vector_source("athena", "instructions", "run")
def test_load_time_validation():
    for name, word in UNDECODABLE.items():
        # the bad word sits after valid code: the whole program is rejected before running
        yield Case(
            f"undecodable_{name}",
            inputs={"program": raw_program(f"addi a0, zero, 1\n.word {word}")},
            error="InvalidProgram",
            reason="undecodable_instruction",
            description=f"the word {word:#010x} ({name.replace('_', ' ')}) does not decode: the program is rejected at load",
            spec_ref="athena.md#decode_instruction",
        )
    for name, text in OUT_OF_RANGE.items():
        yield Case(
            f"register_{name}",
            inputs={"program": raw_program(f"nop\n{text}")},
            error="InvalidProgram",
            reason="register_out_of_range",
            description=f"`{text}` names a register above x15 (RV32E): the program is rejected at load",
            spec_ref="athena.md#check_registers",
        )


def _traced(expected: dict, steps: list[tuple[int, int, dict[str, int], int]]) -> dict:
    """``expected`` with the step trace (pc, word, writes, gas of each completed instruction)."""
    return {**expected, "trace": [{"step": n, "pc": pc, "word": word, "writes": writes, "gas": gas}
                                  for n, (pc, word, writes, gas) in enumerate(steps, 1)]}


@vector_source("athena", "instructions", "run")
def test_step_trace():
    # words written by hand from the RISC-V encoding (I-type: imm | rs1 | funct3 | rd | opcode)
    addi_a0_5 = i_type(5, 0, 0, 10, 0x13)
    addi_a0_a0_0 = i_type(0, 10, 0, 10, 0x13)
    addi_a1_a0_2 = i_type(2, 10, 0, 11, 0x13)
    yield raw_case(
        "trace_writes_and_gas",
        "addi a0, zero, 5\naddi a0, a0, 0\naddi a1, a0, 2",
        _traced(outcome(3, {"x10": 5, "x11": 7}), [
            (0, addi_a0_5, {"x10": 5}, 4), (4, addi_a0_a0_0, {}, 8), (8, addi_a1_a0_2, {"x11": 7}, 12)]),
        trace=True,
        description="a traced run reports each completed instruction: its pc, raw word, the registers it changed "
        "(rewriting a0 with its own value lists none) and the gas used after it",
        spec_ref="athena.md#run",
    )
    lui_s0_1 = 0x1000 | (8 << 7) | 0x37
    yield raw_case(
        "trace_stops_before_trap",
        "lui s0, 1\nlw a1, 1(s0)",
        _traced(outcome(1, {"x8": 0x1000}, pc=4, status="FAILURE", reason="misaligned_load"),
                [(0, lui_s0_1, {"x8": 0x1000}, 4)]),
        trace=True,
        description="the instruction that traps (a misaligned LW) is not completed and has no trace record; the "
        "records before it stand",
        spec_ref="athena.md#run",
    )
    yield Case(
        "trace_elf_code_base",
        inputs={"program": elf_program("addi a0, zero, 5\naddi a1, a0, 2"), "trace": True},
        expected=_traced(outcome(2, {"x10": 5, "x11": 7}, pc=CODE_BASE + 8), [
            (CODE_BASE, addi_a0_5, {"x10": 5}, 4), (CODE_BASE + 4, addi_a1_a0_2, {"x11": 7}, 8)]),
        description="in an ELF whose code starts at 0x1000, the trace reports the instructions' addresses and the "
        "words fetched there",
        spec_ref="athena.md#run",
    )
    yield raw_case(
        "trace_false_no_trace",
        "addi a0, zero, 5",
        outcome(1, {"x10": 5}),
        trace=False,
        description="trace false: the output has no `trace` field, as when the input is absent",
        spec_ref="athena.md#run",
    )
