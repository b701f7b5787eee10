/* devices: the time stamp counter (wall time = InfoPage.BootUnixNanoseconds + the TSC since
 * InfoPage.BootTimestamp). */
#define FUNCTION(name) .globl name; .type name, @function; name:

    .text
    .code64

/* ulong devices_rdtsc(void) */
FUNCTION(devices_rdtsc)
    rdtsc
    shl $32, %rdx
    or %rdx, %rax
    ret

    .section .note.GNU-stack, "", @progbits
