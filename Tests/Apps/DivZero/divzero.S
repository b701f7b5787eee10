/*
 * divzero.S - divzero_divide(dividend, divisor) divides with `div %rsi` (48 F7 F6, 3 bytes) at the
 * label divzero_div; divzero_div_end is the instruction after it. The accessors give C# both
 * addresses, so the handler knows exactly where the exception must come from and where to resume.
 */
#define FUNCTION(name) .globl name; .type name, @function; name:
    .text
FUNCTION(divzero_divide)
    mov %rdx, %r8                       /* the EnvironmentStop number */
    mov %rdi, %rax
    xor %edx, %edx
divzero_div:
    div %rsi
divzero_div_end:
    mov %r8, %rax                       /* the kernel's checkpoint: EnvironmentStop(Self) right */
    xor %edi, %edi                      /* after the resume, so it sees where the app resumed */
    syscall
    ret

FUNCTION(divzero_div_address)
    lea divzero_div(%rip), %rax
    ret

FUNCTION(divzero_div_end_address)
    lea divzero_div_end(%rip), %rax
    ret

    .section .note.GNU-stack, "", @progbits
