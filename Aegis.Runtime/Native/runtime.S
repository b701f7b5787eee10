/*
 * runtime.S - the runtime helpers whose contract is at the register level, so they cannot
 * be C#: memory block moves used by generated code, and the by-reference write barrier.
 * Linked into every Aegis image (kernel and apps) by Cosmos.targets.
 */
    .text
    .code64
#define FUNCTION(name) .globl name; .type name, @function; name:

/* void* memmove(void* dest, const void* src, size_t n): handles overlap. */
FUNCTION(memmove)
    mov %rdi, %rax
    mov %rdx, %rcx
    cmp %rsi, %rdi
    jbe 1f
    lea (%rsi,%rdx), %r8
    cmp %r8, %rdi
    jae 1f
    /* Destination overlaps the tail of the source: copy backwards. */
    lea -1(%rdi,%rdx), %rdi
    lea -1(%rsi,%rdx), %rsi
    std
    rep movsb
    cld
    ret
1:  rep movsb
    ret

FUNCTION(memcpy)
    mov %rdi, %rax
    mov %rdx, %rcx
    rep movsb
    ret

/* void* memset(void* dest, int c, size_t n) */
FUNCTION(memset)
    mov %rdi, %r8
    mov %esi, %eax
    mov %rdx, %rcx
    rep stosb
    mov %r8, %rax
    ret

/* Copies one object reference from [rsi] to [rdi] and advances both by 8 (JIT helper contract). */
FUNCTION(RhpByRefAssignRef)
    mov (%rsi), %rcx
    mov %rcx, (%rdi)
    add $8, %rdi
    add $8, %rsi
    ret

/* object RhpCheckedLockCmpXchg(object* location, object value, object comparand) */
FUNCTION(RhpCheckedLockCmpXchg)
    mov %rdx, %rax
    lock cmpxchg %rsi, (%rdi)
    ret

/* object RhpCheckedXchg(object* location, object value) */
FUNCTION(RhpCheckedXchg)
    mov %rsi, %rax
    xchg %rax, (%rdi)
    ret

/* Stack probe: touch every page from rsp down to rax (the new stack bottom), so a
   guard page is hit in order. Preserves all registers but flags. */
FUNCTION(RhpStackProbe)
    push %rdx
    mov %rsp, %rdx
1:  sub $4096, %rdx
    cmp %rax, %rdx
    jb 2f
    test %rdx, (%rdx)
    jmp 1b
2:  pop %rdx
    ret

/* The stack-buffer-overrun canary that generated code checks around stackalloc buffers.
   The host may replace it with a boot-time random value before running managed code. */
    .data
    .balign 8
    .globl __security_cookie
__security_cookie:
    .quad 0x2B992DDFA232A5C3

    .section .note.GNU-stack, "", @progbits
