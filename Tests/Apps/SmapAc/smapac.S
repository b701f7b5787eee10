/*
 * smapac.S - smapac_spin(ticks, count): sets RFLAGS.AC (allowed in ring 3: popfq), spins until
 * *ticks (the information page's tick counter) has advanced by count, clears AC and returns.
 * Every timer interrupt in between enters the kernel from code running with AC set.
 */
#define FUNCTION(name) .globl name; .type name, @function; name:
#define RFLAGS_AC 0x40000
    .text
FUNCTION(smapac_spin)
    pushfq
    orq $RFLAGS_AC, (%rsp)
    popfq
    mov (%rdi), %rax
    add %rsi, %rax
1:  cmp %rax, (%rdi)
    jb 1b
    pushfq
    andq $~RFLAGS_AC, (%rsp)
    popfq
    ret

    .section .note.GNU-stack, "", @progbits
