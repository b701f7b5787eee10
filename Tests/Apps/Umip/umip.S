/*
 * umip.S - the five instructions that User-Mode Instruction Prevention forbids in ring 3
 * (sgdt, sidt, sldt, str, smsw), one per function, each at a label the handler can check.
 * umip_run(n, buffer) executes instruction n (0..4) storing into buffer (16 bytes);
 * umip_address(n) / umip_end_address(n) give where instruction n is and the one after it.
 */
#define FUNCTION(name) .globl name; .type name, @function; name:
    .text
FUNCTION(umip_run)
    lea umip_table(%rip), %rax
    jmp *(%rax,%rdi,8)
umip_0: sgdt (%rsi)
umip_0_end: ret
umip_1: sidt (%rsi)
umip_1_end: ret
umip_2: sldt (%rsi)
umip_2_end: ret
umip_3: str (%rsi)
umip_3_end: ret
umip_4: smsw (%rsi)
umip_4_end: ret

/* ulong umip_address(ulong n), umip_end_address(ulong n) */
FUNCTION(umip_address)
    lea umip_table(%rip), %rax
    mov (%rax,%rdi,8), %rax
    ret
FUNCTION(umip_end_address)
    lea umip_end_table(%rip), %rax
    mov (%rax,%rdi,8), %rax
    ret

    .section .rodata
    .balign 8
umip_table:
    .quad umip_0, umip_1, umip_2, umip_3, umip_4
umip_end_table:
    .quad umip_0_end, umip_1_end, umip_2_end, umip_3_end, umip_4_end

    .section .note.GNU-stack, "", @progbits
