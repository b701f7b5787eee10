/*
 * illegalinstruction.S - illegalinstruction_run() executes `ud2` (0F 0B, 2 bytes) at the label
 * illegalinstruction_ud2; illegalinstruction_ud2_end is the instruction after it. The accessors
 * give C# both addresses, so the handler knows exactly where the exception must come from and where
 * to resume.
 */
#define FUNCTION(name) .globl name; .type name, @function; name:
    .text
FUNCTION(illegalinstruction_run)
illegalinstruction_ud2:
    ud2
illegalinstruction_ud2_end:
    mov %rdi, %rax                      /* the kernel's checkpoint: EnvironmentStop(Self) right */
    xor %edi, %edi                      /* after the resume, so it sees where the app resumed */
    syscall
    ret

FUNCTION(illegalinstruction_ud2_address)
    lea illegalinstruction_ud2(%rip), %rax
    ret

FUNCTION(illegalinstruction_ud2_end_address)
    lea illegalinstruction_ud2_end(%rip), %rax
    ret

    .section .note.GNU-stack, "", @progbits
