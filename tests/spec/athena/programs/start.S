/* Program entry: stack below 0x00200400 (Athena's STACK_TOP), call main, halt with its result. */
    .option norelax
    .section .text._start, "ax"
    .globl _start
_start:
    la gp, __global_pointer$
    li sp, 0x00200400
    call main
    li t0, 0          /* HALT */
    ecall
    .balign 8
