/*
 * kvbench's assembly: kvbench_rdtsc, the time stamp counter (under -icount shift=0:
 * instructions executed).
 */
#define FUNCTION(name) .globl name; .type name, @function; name:

    .text
    .code64

/* ulong kvbench_rdtsc(void) */
FUNCTION(kvbench_rdtsc)
    rdtsc
    shl $32, %rdx
    or %rdx, %rax
    ret
    .size kvbench_rdtsc, . - kvbench_rdtsc

    .section .note.GNU-stack, "", @progbits
