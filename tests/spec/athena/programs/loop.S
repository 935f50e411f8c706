/* Loop-heavy benchmark program: a0 = input word n (default 100000); sums i*i ^ i over n turns. */
    .option norelax
    .section .text._start, "ax"
    .globl _start
_start:
    li t0, 0xF0
    ecall
    li a0, 100000
    beqz t0, 1f
    lui a0, 0x201
    li a1, 4
    li t0, 0xF1
    ecall
    lui a1, 0x201
    lw a0, 0(a1)
1:  li a1, 0
2:  mul a2, a0, a0
    xor a2, a2, a0
    add a1, a1, a2
    addi a0, a0, -1
    bnez a0, 2b
    lui a0, 0x201
    sw a1, 0(a0)
    mv a1, a0
    li a0, 3
    li a2, 4
    li t0, 2
    ecall
    li t0, 0
    li a0, 0
    ecall
    .balign 8
