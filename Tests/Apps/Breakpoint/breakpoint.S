/*
 * breakpoint.S - breakpoint_hit() executes `int3` (CC, 1 byte) at the label breakpoint_int3;
 * breakpoint_int3_end is the instruction after it. The accessors give C# both addresses, so the
 * handler knows exactly where the exception must come from and where to resume.
 */
#define FUNCTION(name) .globl name; .type name, @function; name:
    .text
FUNCTION(breakpoint_hit)
breakpoint_int3:
    int3
breakpoint_int3_end:
    mov %rdi, %rax                      /* the kernel's checkpoint: EnvironmentStop(Self) right */
    xor %edi, %edi                      /* after the resume, so it sees where the app resumed */
    syscall
    ret

FUNCTION(breakpoint_int3_address)
    lea breakpoint_int3(%rip), %rax
    ret

FUNCTION(breakpoint_int3_end_address)
    lea breakpoint_int3_end(%rip), %rax
    ret

    .section .note.GNU-stack, "", @progbits
