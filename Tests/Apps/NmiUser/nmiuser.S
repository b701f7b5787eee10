/*
 * nmiuser.S - nmiuser_spin(ticks, count): spins in ring 3, without a system call, until *ticks
 * (the information page's tick counter) has advanced by count.
 */
#define FUNCTION(name) .globl name; .type name, @function; name:
    .text
FUNCTION(nmiuser_spin)
    mov (%rdi), %rax
    add %rsi, %rax
1:  pause
    cmp %rax, (%rdi)
    jb 1b
    ret

    .section .note.GNU-stack, "", @progbits
