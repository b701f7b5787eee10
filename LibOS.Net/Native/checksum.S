/*
 * checksum.S - the Internet checksum's sum for LibOS.Net (Checksum.cs; RFC 1071):
 *   net_checksum_le(bytes, length)   the ones'-complement sum of the bytes read as little-endian
 *                                    16-bit words (an odd last byte is the low byte of a word
 *                                    padded with zero), folded to 16 bits.
 * Why assembly: the sum runs over every byte sent and received, and C# has no add-with-carry.
 * Here each 8 bytes cost one `adc` (64 bytes a loop turn): about 0.17 instructions a byte, where
 * the C# loop (Checksum.AddPortable, which the host tests run) costs 1.25.
 * Why 64-bit words are right: 2^16 = 1 modulo 0xFFFF, so a 64-bit word is congruent to the sum of
 * its four 16-bit words, and ones'-complement addition with the end-around carry is addition
 * modulo 0xFFFF (0 only when every byte is 0, as the C# loop's).
 * Registers: rdi bytes, rsi length (no more than 2^63); rax the sum; rcx, rdx, r8, r9 scratch.
 */
#define FUNCTION(name) .globl name; .type name, @function; name:

    .text
FUNCTION(net_checksum_le)
    xor %eax, %eax                  /* the sum */
    mov %rsi, %rcx
    shr $6, %rcx                    /* 64-byte blocks */
    jz 2f
    clc                             /* shr left the length's bit 5 in CF */
1:  adc 0(%rdi), %rax
    adc 8(%rdi), %rax
    adc 16(%rdi), %rax
    adc 24(%rdi), %rax
    adc 32(%rdi), %rax
    adc 40(%rdi), %rax
    adc 48(%rdi), %rax
    adc 56(%rdi), %rax
    lea 64(%rdi), %rdi              /* lea and dec leave CF alone: the carry rides to the next adc */
    dec %rcx
    jnz 1b
    adc $0, %rax                    /* the last carry, end-around... */
    adc $0, %rax                    /* ...and the one that add may make (then rax is 0: now 1) */
2:  mov %rsi, %rcx
    and $63, %rcx
    shr $3, %rcx                    /* 8-byte words left */
    jz 4f
3:  add (%rdi), %rax
    adc $0, %rax                    /* cannot carry again: a carry left rax below 2^64 - 1 */
    lea 8(%rdi), %rdi
    dec %rcx
    jnz 3b
4:  mov %rsi, %r8
    and $7, %r8                     /* bytes left: gathered little-endian into rdx */
    jz 6f
    xor %edx, %edx
    xor %ecx, %ecx
5:  movzbl (%rdi), %r9d
    shl %cl, %r9
    or %r9, %rdx
    inc %rdi
    add $8, %ecx
    dec %r8
    jnz 5b
    add %rdx, %rax
    adc $0, %rax
6:  mov %rax, %rdx                  /* fold 64 -> 33 bits -> 17 -> 16 (twice: 0x1FFFF folds to 0x10000) */
    shr $32, %rdx
    mov %eax, %eax
    add %rdx, %rax
    mov %rax, %rdx
    shr $16, %rdx
    and $0xFFFF, %eax
    add %rdx, %rax
    mov %rax, %rdx
    shr $16, %rdx
    and $0xFFFF, %eax
    add %rdx, %rax
    mov %rax, %rdx
    shr $16, %rdx
    and $0xFFFF, %eax
    add %rdx, %rax
    ret
    .size net_checksum_le, . - net_checksum_le

    .section .note.GNU-stack, "", @progbits
