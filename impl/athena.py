"""Fast Athena interpreter: basic blocks compiled to Python functions.

Replaces ``athena.run``. Each basic block (straight-line code up to a jump, branch or system
instruction) is translated once into the source of a Python function that keeps the registers
it uses in local variables, inlines every ALU, load and store, and loops in place when the block
branches back to its own start. Anything unusual is left to the spec's own ``step``: a block
returns early *before* an instruction that may trap (misaligned access, store below 40), before
``ecall``/``ebreak``/unimplemented instructions, and whenever its gas budget might not cover the
whole block. So traps, syscalls, out-of-gas and halting are always decided by the spec's code;
the compiled code only ever runs instructions that are certain to complete.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smspec.spec.athena import AthenaContext, Host, Machine, Program, TraceRecord

from smspec.impl.registry import replaces

M = 0xFFFFFFFF
MAX_BLOCK = 64
_CACHE_SIZE = 32

# id(program) -> (program, {pc: block function}); the program is held so its id stays valid.
_block_caches: dict[int, tuple[Any, dict[int, Any]]] = {}


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


def _signed(expr: str) -> str:
    return f"(({expr}) ^ 0x80000000) - 0x80000000"


class _BlockCompiler:
    """Generates the source of one block function."""

    def __init__(self, program: Any, start: int) -> None:
        self.program = program
        self.start = start
        self.lines: list[str] = []
        self.used: set[int] = set()
        self.written: set[int] = set()

    def reg(self, index: int) -> str:
        if index == 0:
            return "0"
        self.used.add(index)
        return f"x{index}"

    def assign(self, rd: int, expr: str, indent: str) -> None:
        if rd != 0:
            self.used.add(rd)
            self.written.add(rd)
            self.lines.append(f"{indent}x{rd} = {expr}")

    def exit(self, pc: int, count: str, need_step: bool) -> str:
        return f"return ({pc}, {count}, {need_step})"

    def instruction_index(self, pc: int) -> int | None:
        index = ((pc - self.program.pc_base) & M) >> 2
        if index < len(self.program.instructions):
            return index
        return None

    def compile(self) -> str:
        ins_list = []
        pc = self.start
        while len(ins_list) < MAX_BLOCK:
            index = self.instruction_index(pc)
            if index is None:
                break
            ins = self.program.instructions[index]
            ins_list.append((pc, ins))
            if ins.name in ("jal", "jalr", "beq", "bne", "blt", "bge", "bltu", "bgeu", "ecall", "ebreak", "unimplemented"):
                break
            if pc + 4 > M:
                break
            pc += 4
        body: list[str] = []
        self.lines = body
        n = len(ins_list)
        ind = "        "
        loops = False
        last_pc, last = ins_list[-1]
        system_end = last.name in ("ecall", "ebreak", "unimplemented")
        # Instructions that are certain to complete before the terminator.
        count_full = n - 1 if system_end else n
        body.append(f"{ind}if budget - done < {max(count_full, 1)}:")
        body.append(f"{ind}    WB; return ({self.start}, done, True)")
        for k, (pc, ins) in enumerate(ins_list):
            name = ins.name
            is_last = k == n - 1
            if name in ("ecall", "ebreak", "unimplemented"):
                body.append(f"{ind}WB; return ({pc}, done + {k}, True)")
                break
            if name == "lui":
                self.assign(ins.rd, str(ins.imm & M), ind)
            elif name == "auipc":
                self.assign(ins.rd, str((pc + ins.imm) & M), ind)
            elif name in ("jal", "jalr", "beq", "bne", "blt", "bge", "bltu", "bgeu"):
                loops |= self.terminator(pc, ins, k, n, ind)
            elif name in ("lb", "lh", "lw", "lbu", "lhu"):
                self.load(pc, ins, k, ind)
            elif name in ("sb", "sh", "sw"):
                self.store(pc, ins, k, ind)
            else:
                self.alu(ins, ind)
            if is_last and name not in ("jal", "jalr", "beq", "bne", "blt", "bge", "bltu", "bgeu"):
                body.append(f"{ind}WB; return ({(pc + 4) & M}, done + {n}, False)")
        loads = "; ".join(f"x{i} = r[{i}]" for i in sorted(self.used)) or "pass"
        writeback = "; ".join(f"r[{i}] = x{i}" for i in sorted(self.written)) or "pass"
        source = ["def block(r, m, budget):", f"    {loads}", "    done = 0", "    while True:"]
        for line in body:
            source.append(line.replace("WB;", writeback + ";"))
        return "\n".join(source) + "\n"

    def terminator(self, pc: int, ins: Any, k: int, n: int, ind: str) -> bool:
        name = ins.name
        link = (pc + 4) & M
        count = f"done + {n}"

        def goto(target: int, indent: str) -> bool:
            if target == self.start and self.start != 0:
                self.lines.append(f"{indent}done += {n}; continue")
                return True
            self.lines.append(f"{indent}WB; return ({target}, {count}, False)")
            return False

        if name == "jal":
            self.assign(ins.rd, str(link), ind)
            return goto((pc + ins.imm) & M, ind)
        if name == "jalr":
            self.lines.append(f"{ind}t = ({self.reg(ins.rs1)} + {ins.imm}) & {M}")
            self.assign(ins.rd, str(link), ind)
            self.lines.append(f"{ind}WB; return (t, {count}, False)")
            return False
        a, b = self.reg(ins.rs1), self.reg(ins.rs2)
        if name == "beq":
            cond = f"{a} == {b}"
        elif name == "bne":
            cond = f"{a} != {b}"
        elif name == "blt":
            cond = f"{_signed(a)} < {_signed(b)}"
        elif name == "bge":
            cond = f"{_signed(a)} >= {_signed(b)}"
        elif name == "bltu":
            cond = f"{a} < {b}"
        else:
            cond = f"{a} >= {b}"
        self.lines.append(f"{ind}if {cond}:")
        looped = goto((pc + ins.imm) & M, ind + "    ")
        looped |= goto(link, ind)
        return looped

    def load(self, pc: int, ins: Any, k: int, ind: str) -> None:
        name = ins.name
        self.lines.append(f"{ind}t = ({self.reg(ins.rs1)} + {ins.imm}) & {M}")
        if name == "lw":
            self.lines.append(f"{ind}if t & 3: WB; return ({pc}, done + {k}, True)")
            self.assign(ins.rd, "m.get(t, 0)", ind)
        elif name in ("lh", "lhu"):
            self.lines.append(f"{ind}if t & 1: WB; return ({pc}, done + {k}, True)")
            half = "(m.get(t & 0xFFFFFFFC, 0) >> ((t & 2) << 3)) & 0xFFFF"
            self.assign(ins.rd, half if name == "lhu" else f"(({half}) ^ 0x8000) - 0x8000 & {M}", ind)
        else:
            byte = "(m.get(t & 0xFFFFFFFC, 0) >> ((t & 3) << 3)) & 0xFF"
            self.assign(ins.rd, byte if name == "lbu" else f"(({byte}) ^ 0x80) - 0x80 & {M}", ind)

    def store(self, pc: int, ins: Any, k: int, ind: str) -> None:
        name = ins.name
        value = self.reg(ins.rs2)
        self.lines.append(f"{ind}t = ({self.reg(ins.rs1)} + {ins.imm}) & {M}")
        trap = f"WB; return ({pc}, done + {k}, True)"
        if name == "sw":
            self.lines.append(f"{ind}if t & 3 or t < 40: {trap}")
            self.lines.append(f"{ind}m[t] = {value}")
            return
        mask, align = ("0xFFFF", "t & 1") if name == "sh" else ("0xFF", "0")
        shift = "((t & 2) << 3)" if name == "sh" else "((t & 3) << 3)"
        self.lines.append(f"{ind}a = t & 0xFFFFFFFC")
        self.lines.append(f"{ind}if {align} or a < 40: {trap}")
        self.lines.append(f"{ind}s = {shift}")
        self.lines.append(f"{ind}m[a] = (m.get(a, 0) & ~({mask} << s) & {M}) | (({value} & {mask}) << s)")

    def alu(self, ins: Any, ind: str) -> None:
        name = ins.name
        a = self.reg(ins.rs1)
        imm = ins.imm
        uimm = imm & M
        immediate_forms = {
            "addi": f"({a} + {imm}) & {M}",
            "slti": f"1 if {_signed(a)} < {imm} else 0",
            "sltiu": f"1 if {a} < {uimm} else 0",
            "xori": f"{a} ^ {uimm}",
            "ori": f"{a} | {uimm}",
            "andi": f"{a} & {uimm}",
            "slli": f"({a} << {imm}) & {M}",
            "srli": f"{a} >> {imm}",
            "srai": f"({_signed(a)} >> {imm}) & {M}",
        }
        if name in immediate_forms:
            expr = immediate_forms[name]
        else:
            b = self.reg(ins.rs2)
            expr = {
                "add": f"({a} + {b}) & {M}",
                "sub": f"({a} - {b}) & {M}",
                "sll": f"({a} << ({b} & 31)) & {M}",
                "slt": f"1 if {_signed(a)} < {_signed(b)} else 0",
                "sltu": f"1 if {a} < {b} else 0",
                "xor": f"{a} ^ {b}",
                "srl": f"{a} >> ({b} & 31)",
                "sra": f"({_signed(a)} >> ({b} & 31)) & {M}",
                "or": f"{a} | {b}",
                "and": f"{a} & {b}",
                "mul": f"({a} * {b}) & {M}",
                "mulh": f"(({_signed(a)}) * ({_signed(b)}) >> 32) & {M}",
                "mulhsu": f"(({_signed(a)}) * {b} >> 32) & {M}",
                "mulhu": f"({a} * {b}) >> 32",
                "div": f"_div({a}, {b})",
                "divu": f"({a} // {b}) if {b} else {M}",
                "rem": f"_rem({a}, {b})",
                "remu": f"({a} % {b}) if {b} else {a}",
            }[name]
        self.assign(ins.rd, expr, ind)


def compile_block(program: Any, pc: int) -> Any:
    """The compiled function of the block starting at `pc` (see the module docstring)."""
    source = _BlockCompiler(program, pc).compile()
    namespace = dict(_NAMESPACE)
    exec(compile(source, f"<athena block {pc:#x}>", "exec"), namespace)  # noqa: S102 - our own generated code
    return namespace["block"]


def block_source(program: Any, pc: int) -> str:
    """The generated source of one block (for debugging and tests)."""
    return _BlockCompiler(program, pc).compile()


def _blocks_of(program: Any) -> dict[int, Any]:
    entry = _block_caches.get(id(program))
    if entry is not None and entry[0] is program:
        return entry[1]
    if len(_block_caches) >= _CACHE_SIZE:
        _block_caches.pop(next(iter(_block_caches)))
    blocks: dict[int, Any] = {}
    _block_caches[id(program)] = (program, blocks)
    return blocks


@replaces("athena", "run", factory=True)
def make_run(spec: Any) -> Any:
    spec_run = spec.__dict__.get("__spec_originals__", {}).get("run", spec.run)

    def run(
        program: Program,
        entry: int,
        input_stream: bytes,
        host: Host,
        context: AthenaContext,
        max_gas: int,
        trace: Callable[[TraceRecord], None] | None = None,
    ) -> Machine:
        if trace is not None:
            return spec_run(program, entry, input_stream, host, context, max_gas, trace)
        machine = spec.new_machine(program, entry, input_stream, host, context, max_gas)
        blocks = _blocks_of(program)
        registers = machine.registers
        memory = machine.memory
        base = program.pc_base
        size = len(program.instructions)
        step = spec.step
        pc = entry
        gas = 0
        steps = 0
        if ((pc - base) & M) >> 2 >= size:
            try:
                step(machine)
            except spec.VmTrap as trap:
                machine.trap = trap
            return machine
        while True:
            block = blocks.get(pc)
            if block is None:
                block = blocks[pc] = compile_block(program, pc)
            next_pc, count, need_step = block(registers, memory, (max_gas - gas) >> 2)
            if count:
                gas += count << 2
                steps += count
                pc = next_pc
                if pc == 0 or ((pc - base) & M) >> 2 >= size:
                    machine.pc, machine.gas, machine.steps, machine.halted = pc, gas, steps, True
                    return machine
            if need_step:
                machine.pc, machine.gas, machine.steps = pc, gas, steps
                try:
                    step(machine)
                except spec.VmTrap as trap:
                    machine.trap = trap
                    return machine
                if machine.halted:
                    return machine
                pc, gas, steps = machine.pc, machine.gas, machine.steps

    return run
