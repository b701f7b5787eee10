/* notify: the time stamp counter (WaitUntil deadlines are TSC values). */
#define FUNCTION(name) .globl name; .type name, @function; name:

    .text
    .code64

/* ulong notify_rdtsc(void) */
FUNCTION(notify_rdtsc)
    rdtsc
    shl $32, %rdx
    or %rdx, %rax
    ret

    .section .note.GNU-stack, "", @progbits
