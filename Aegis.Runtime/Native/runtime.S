/*
 * runtime.S - the runtime helpers whose contract is at the register level, so they cannot
 * be C#: memory block moves used by generated code, the by-reference write barrier, atomic
 * operations, stack probing, the interface dispatch stubs and thread-local storage access.
 * Linked into every Aegis image (kernel and apps) by Cosmos.targets. docs/runtime.md
 * describes each contract.
 */
    .text
    .code64
#define FUNCTION(name) .globl name; .type name, @function; name:

/* Block moves work eight bytes at a time where they can: `rep movsq` for the bulk, then
   `rep movsb` for the tail. (Besides being quick on hardware, this matters under QEMU's
   -icount, where each iteration of a rep instruction counts as one instruction.) */

/* void* memmove(void* dest, const void* src, size_t n): handles overlap. */
FUNCTION(memmove)
    mov %rdi, %rax
    cmp %rsi, %rdi
    jbe 1f
    lea (%rsi,%rdx), %r8
    cmp %r8, %rdi
    jae 1f
    /* Destination overlaps the tail of the source (an insertion into an array moves its tail
     * up): copy backwards, the last n mod 8 bytes one at a time, then 8 at a time (a byte at a
     * time cost a .NET start 50,000 instructions under -icount, where each rep iteration counts). */
    mov %rdx, %rcx
    and $7, %rcx
    lea -1(%rdi,%rdx), %rdi
    lea -1(%rsi,%rdx), %rsi
    std
    rep movsb
    mov %rdx, %rcx
    shr $3, %rcx
    sub $7, %rdi
    sub $7, %rsi
    rep movsq
    cld
    ret
1:  mov %rdx, %rcx
    shr $3, %rcx
    rep movsq
    mov %rdx, %rcx
    and $7, %rcx
    rep movsb
    ret

FUNCTION(memcpy)
    mov %rdi, %rax
    mov %rdx, %rcx
    shr $3, %rcx
    rep movsq
    mov %rdx, %rcx
    and $7, %rcx
    rep movsb
    ret

/* void* memset(void* dest, int c, size_t n) */
FUNCTION(memset)
    mov %rdi, %r8
    movzbl %sil, %eax
    movabs $0x0101010101010101, %r9
    imul %r9, %rax
    mov %rdx, %rcx
    shr $3, %rcx
    rep stosq
    mov %rdx, %rcx
    and $7, %rcx
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

/* Interlocked operations on 32- and 64-bit integers (System.Threading.Interlocked).
   Each returns the value the location held before. */
FUNCTION(RhpLockCmpXchg32)          /* int (int* location, int value, int comparand) */
    mov %edx, %eax
    lock cmpxchg %esi, (%rdi)
    ret

FUNCTION(RhpLockCmpXchg64)          /* long (long* location, long value, long comparand) */
    mov %rdx, %rax
    lock cmpxchg %rsi, (%rdi)
    ret

FUNCTION(RhpLockXchg32)             /* int (int* location, int value) */
    mov %esi, %eax
    xchg %eax, (%rdi)
    ret

FUNCTION(RhpLockXchg64)             /* long (long* location, long value) */
    mov %rsi, %rax
    xchg %rax, (%rdi)
    ret

FUNCTION(RhpLockXAdd32)             /* int (int* location, int addend) */
    mov %esi, %eax
    lock xadd %eax, (%rdi)
    ret

FUNCTION(RhpLockXAdd64)             /* long (long* location, long addend) */
    mov %rsi, %rax
    lock xadd %rax, (%rdi)
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

/* Interface dispatch (the managed half, cell layout and cache layout are in
   System/Runtime/CachedInterfaceDispatch.cs). Call sites load the cell address into r11 and
   call through the cell's first word with the arguments already in rdi, rsi, rdx, rcx, r8, r9
   and xmm0-xmm7; a stub must leave all of them intact and jump (not call) to the target.
   rax and r10 are free to use. */

/* First call through a cell, or a miss in its cache: save the argument registers, ask
   RhpResolveInterfaceDispatch(this, cell) for the target (it also updates the cell), restore
   and jump. */
FUNCTION(RhpInitialDynamicInterfaceDispatch)
    .cfi_startproc              /* CFI: an exception from the resolver (a null 'this') unwinds through here (eh.S) */
    push %rbp
    .cfi_def_cfa_offset 16
    .cfi_offset %rbp, -16
    mov %rsp, %rbp
    .cfi_def_cfa_register %rbp
    push %rdi
    push %rsi
    push %rdx
    push %rcx
    push %r8
    push %r9
    sub $128, %rsp              /* rsp is 16-byte aligned here: 8 (return) + 8 + 48 + 128 */
    movdqu %xmm0, 0(%rsp)
    movdqu %xmm1, 16(%rsp)
    movdqu %xmm2, 32(%rsp)
    movdqu %xmm3, 48(%rsp)
    movdqu %xmm4, 64(%rsp)
    movdqu %xmm5, 80(%rsp)
    movdqu %xmm6, 96(%rsp)
    movdqu %xmm7, 112(%rsp)
    mov %r11, %rsi              /* rdi already holds 'this' */
    call RhpResolveInterfaceDispatch
    mov %rax, %r11
    movdqu 0(%rsp), %xmm0
    movdqu 16(%rsp), %xmm1
    movdqu 32(%rsp), %xmm2
    movdqu 48(%rsp), %xmm3
    movdqu 64(%rsp), %xmm4
    movdqu 80(%rsp), %xmm5
    movdqu 96(%rsp), %xmm6
    movdqu 112(%rsp), %xmm7
    add $128, %rsp
    pop %r9
    pop %r8
    pop %rcx
    pop %rdx
    pop %rsi
    pop %rdi
    pop %rbp
    .cfi_def_cfa %rsp, 8
    jmp *%r11
    .cfi_endproc

/* A resolved cell: compare the object's MethodTable with the four cached classes. A null
   'this' or a miss goes the slow way (which reports the null reference or refills the cache). */
FUNCTION(RhpInterfaceDispatchCached)
    test %rdi, %rdi
    jz RhpInitialDynamicInterfaceDispatch
    mov (%rdi), %rax            /* the object's MethodTable */
    mov 8(%r11), %r10           /* the cell's DispatchCache */
    cmp 16(%r10), %rax
    jne 1f
    jmp *24(%r10)
1:  cmp 32(%r10), %rax
    jne 2f
    jmp *40(%r10)
2:  cmp 48(%r10), %rax
    jne 3f
    jmp *56(%r10)
3:  cmp 64(%r10), %rax
    jne RhpInitialDynamicInterfaceDispatch
    jmp *72(%r10)

/* nint RhpInterfaceDispatchCachedAddress(): the address the managed side stores into cells. */
FUNCTION(RhpInterfaceDispatchCachedAddress)
    lea RhpInterfaceDispatchCached(%rip), %rax
    ret

/* Thread-local storage (see Internal/Runtime/ThreadLocalStorage.cs and ThreadStatics.cs).
   The runtime's own thread-local variable, thread_static_bases (the per-thread array of
   thread-static storage objects for code compiled without inlined thread statics), also serves
   as the anchor for finding the block: its @tpoff (offset from the thread pointer, resolved in
   code) minus its @dtpoff (offset inside the TLS block; the linker resolves that as such only
   in data, not in code) is where the block starts relative to the thread pointer, exactly as the
   linker laid it out. */

    .section .tbss, "awT", @nobits
    .balign 8
thread_static_bases:
    .zero 8
    .text

/* nint RhpThreadLocalBlockOffset() */
FUNCTION(RhpThreadLocalBlockOffset)
    mov $thread_static_bases@tpoff, %rax
    sub tls_anchor_block_offset(%rip), %rax
    ret

/* object[]* RhpThreadStaticBasesAddress(): this thread's thread_static_bases variable. */
FUNCTION(RhpThreadStaticBasesAddress)
    mov %fs:0, %rax
    add $thread_static_bases@tpoff, %rax
    ret

/* void* __tls_get_addr(struct { unsigned long module, offset; }*): the general-dynamic TLS
   accessor. A static link rewrites ILC's calls to it into direct FS-relative accesses, so it is
   only reached if the image is ever linked otherwise; there is one module, one block. */
FUNCTION(__tls_get_addr)
    mov %fs:0, %rax
    add $thread_static_bases@tpoff, %rax
    sub tls_anchor_block_offset(%rip), %rax
    add 8(%rdi), %rax
    ret

    .section .rodata
    .balign 8
tls_anchor_block_offset:
    .quad thread_static_bases@dtpoff
    .text

/* The stack-buffer-overrun canary that generated code checks around stackalloc buffers.
   The host may replace it with a boot-time random value before running managed code. */
    .data
    .balign 8
    .globl __security_cookie
__security_cookie:
    .quad 0x2B992DDFA232A5C3

/* The flag generated code tests after a call to unmanaged code without a GC transition
   (SuppressGCTransition: `cmp dword [RhpTrapThreads], 0; jne -> RhpGcPoll`). Aegis's collector
   never stops another thread's managed code (docs/runtime.md), so it stays 0. */
    .balign 4
    .globl RhpTrapThreads
RhpTrapThreads:
    .long 0

    .section .note.GNU-stack, "", @progbits
