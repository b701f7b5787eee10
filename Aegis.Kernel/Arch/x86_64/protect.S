/*
 * protect.S - the per-page loops of the PageProtect system call (their caller is the C# that
 * validated the whole request and holds the leaf table: Exo/SystemCalls.cs), in assembly
 * because they run once per page and a count-down loop keeps them to a dozen instructions.
 * Guarantees: an entry is changed only if it is Present and User (and, for unprotect, its
 * frame's owner is the caller or the target); the old entry is saved first; the frame number,
 * Accessed and Dirty are kept; the loop stops at the first entry it may not change and returns
 * how many it changed. The page-bit values come from Aegis.Abi/abi.h (PageBits).
 */
#include "abi.h"
#include "entry.h"

/* What a changed entry keeps of its old value. */
#define KEPT_BITS (PAGE_BITS_FRAME_MASK | PAGE_BITS_ACCESSED | PAGE_BITS_DIRTY)
#define PRESENT_USER (PAGE_BITS_PRESENT | PAGE_BITS_USER)

/*
   ulong aegis_protect_run(ulong* leaf, ulong count, ulong leafBits, ulong* saved):
   for each entry: stop if it lacks Present|User; save it; keep frame, accessed, dirty; set
   leafBits. Returns the number of entries changed (count when all were). */
    .text
    .code64
FUNCTION(aegis_protect_run)
    test %rsi, %rsi
    jz 3f
    lea (%rdi,%rsi,8), %rdi
    lea (%rcx,%rsi,8), %rcx
    mov %rsi, %rax
    neg %rax
    movabs $KEPT_BITS, %r8
1:  mov (%rdi,%rax,8), %r9
    mov %r9, %r10
    not %r10
    test $PRESENT_USER, %r10
    jnz 2f
    mov %r9, (%rcx,%rax,8)
    and %r8, %r9
    or %rdx, %r9
    mov %r9, (%rdi,%rax,8)
    inc %rax
    jnz 1b
2:  add %rsi, %rax
    ret
3:  xor %eax, %eax
    ret

/* ulong aegis_unprotect_run(ulong* leaf, ulong count, ulong leafBits, ulong* saved,
   ulong* owners, ulong* ids): the same, and it also stops at an entry whose frame's owner
   (owners[frame]) is neither ids[0] (the caller) nor ids[1] (the target): the C# side then
   decides that page by the grants. */
FUNCTION(aegis_unprotect_run)
    push %rbx
    push %r12
    push %r13
    xor %eax, %eax
    test %rsi, %rsi
    jz 2f
    mov (%r9), %r12
    mov 8(%r9), %r13
    lea (%rdi,%rsi,8), %rdi
    lea (%rcx,%rsi,8), %rcx
    mov %rsi, %rax
    neg %rax
    movabs $KEPT_BITS, %r9
1:  mov (%rdi,%rax,8), %r10
    mov %r10, %r11
    not %r11
    test $PRESENT_USER, %r11
    jnz 4f
    mov %r10, %r11
    shl $12, %r11                       /* frame number: bits 12..51 (PAGE_BITS_FRAME_MASK) */
    shr $(12 + PAGE_BITS_FRAME_SHIFT), %r11
    mov (%r8,%r11,8), %rbx
    cmp %rbx, %r12
    je 5f
    cmp %rbx, %r13
    jne 4f
5:  mov %r10, (%rcx,%rax,8)
    and %r9, %r10
    or %rdx, %r10
    mov %r10, (%rdi,%rax,8)
    inc %rax
    jnz 1b
4:  add %rsi, %rax
2:  pop %r13
    pop %r12
    pop %rbx
    ret

    .section .note.GNU-stack, "", @progbits
