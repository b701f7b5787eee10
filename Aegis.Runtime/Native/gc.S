/*
 * gc.S - the allocation fast paths and the collector's register spill (docs/runtime.md,
 * "Garbage collection"). The heap's logic is in Internal/Runtime/Heap.cs and GcCollector.cs;
 * here is only what must be quick or needs the registers.
 *
 * Allocation contexts: one per size class (GcSizeClasses.Count of them), 32 bytes each:
 *    0 current  next free cell (its first word is the object header, the object starts 8 later)
 *    8 limit    end of the run of free, zeroed cells being handed out
 *   16 cell     cell size of the class
 *   24 start    where the run began (allocation counting: Heap.Allocations)
 * Invariant (kept by Heap.cs): every byte in [current, limit) is zero, so the fast path only
 * stores the MethodTable (and an array's length). A context with current == limit == 0 sends
 * every allocation of its class to the managed slow path (RhpGcAllocateSlow).
 * The size-class table maps (size / 8) for size <= GC_MAX_SMALL to a class index.
 */
    .text
    .code64
#define FUNCTION(name) .globl name; .type name, @function; name:

#define GC_MAX_SMALL 8192
#define GC_CLASS_COUNT 62

/* The bump: rax = rounded size in bytes (<= GC_MAX_SMALL). Leaves the cell in rax and the
   context's `current` advanced, or jumps to `slow` having changed nothing in memory. Everything
   before the store to `current` can be redone from the function's start: an upcall that lands
   there (and may allocate itself) resumes the function from its start
   (RuntimeHost.AllocationRestartPoint), so two allocations never get the same cell. */
.macro BUMP slow
    lea aegis_gc_size_classes(%rip), %rdx
    shr $3, %eax
    movzbl (%rdx,%rax), %eax
    shl $5, %eax
    lea aegis_gc_contexts(%rip), %rdx
    add %rax, %rdx
    mov (%rdx), %rax                    /* the cell */
    mov 16(%rdx), %rcx
    add %rax, %rcx
    cmp 8(%rdx), %rcx
    ja \slow
    mov %rcx, (%rdx)
.endm

/* The two fast paths lie together, RhpNewFast first, so one range check tells a host whether an
   interrupted instruction pointer may need restarting: [aegis_gc_fast_paths, + bytes) (the
   absolute symbol aegis_gc_fast_paths_bytes), then RuntimeHost.AllocationRestartPoint decides. */
    .globl aegis_gc_fast_paths
aegis_gc_fast_paths:
/* object RhpNewFast(MethodTable* rdi): a fixed-size object. */
FUNCTION(RhpNewFast)
    xor %esi, %esi                      /* length 0 (also for the slow path) */
    mov 4(%rdi), %eax                   /* base size: a multiple of 8 */
    cmp $GC_MAX_SMALL, %eax
    ja 9f
    BUMP 9f
aegis_gc_new_fast_committed:
    mov %rdi, 8(%rax)
    add $8, %rax
    ret
9:  /* slow path: RhpGcAllocateSlow(MethodTable*, int length) */
    jmp RhpGcAllocateSlow

/* object RhpNewArray(MethodTable* rdi, int esi length) (also RhNewString and the array variants) */
FUNCTION(RhpNewArray)
    cmp $GC_MAX_SMALL, %esi             /* negative or long: the slow path checks and allocates */
    jae 9f
    movzwl (%rdi), %eax                 /* component size */
    imul %esi, %eax
    add 4(%rdi), %eax
    add $7, %eax
    and $-8, %eax
    cmp $GC_MAX_SMALL, %eax
    ja 9f
    BUMP 9f
aegis_gc_new_array_committed:
    .globl aegis_gc_fast_paths_bytes
    .set aegis_gc_fast_paths_bytes, aegis_gc_new_array_committed - aegis_gc_fast_paths
    mov %rdi, 8(%rax)
    mov %esi, 16(%rax)                  /* the length, after the MethodTable */
    add $8, %rax
    ret
9:  jmp RhpGcAllocateSlow

/* void aegis_gc_restart_ranges(ulong* four): [RhpNewFast, its commit), [RhpNewArray, its commit). */
FUNCTION(aegis_gc_restart_ranges)
    lea RhpNewFast(%rip), %rax
    mov %rax, (%rdi)
    lea aegis_gc_new_fast_committed(%rip), %rax
    mov %rax, 8(%rdi)
    lea RhpNewArray(%rip), %rax
    mov %rax, 16(%rdi)
    lea aegis_gc_new_array_committed(%rip), %rax
    mov %rax, 24(%rdi)
    ret

FUNCTION(RhpNewArrayFast)
    jmp RhpNewArray
FUNCTION(RhpNewPtrArrayFast)
    jmp RhpNewArray
FUNCTION(RhNewString)
    jmp RhpNewArray
FUNCTION(RhNewArray)
    jmp RhpNewArray

/* void aegis_gc_spill_and_call(void (*body)(nint stackPointer)): pushes the callee-saved
   registers (the only ones that can hold a caller's references across this call) and calls
   body with the stack pointer below them, so a conservative scan from there sees them. */
FUNCTION(aegis_gc_spill_and_call)
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rdi, %rax
    mov %rsp, %rdi
    sub $8, %rsp
    call *%rax
    add $8, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    ret

/* void aegis_gc_zero(void* start, size_t bytes): bytes a multiple of 8. Plain 16-byte stores,
   128 bytes a round: no `rep stos`, whose every iteration counts under -icount. */
FUNCTION(aegis_gc_zero)
    pxor %xmm0, %xmm0
    cmp $128, %rsi
    jb 2f
1:  movups %xmm0, (%rdi)
    movups %xmm0, 16(%rdi)
    movups %xmm0, 32(%rdi)
    movups %xmm0, 48(%rdi)
    movups %xmm0, 64(%rdi)
    movups %xmm0, 80(%rdi)
    movups %xmm0, 96(%rdi)
    movups %xmm0, 112(%rdi)
    add $128, %rdi
    sub $128, %rsi
    cmp $128, %rsi
    jae 1b
2:  test %rsi, %rsi
    jz 4f
3:  movq $0, (%rdi)
    add $8, %rdi
    sub $8, %rsi
    jnz 3b
4:  ret

FUNCTION(aegis_gc_contexts_address)
    lea aegis_gc_contexts(%rip), %rax
    ret

FUNCTION(aegis_gc_size_classes_address)
    lea aegis_gc_size_classes(%rip), %rax
    ret

FUNCTION(aegis_gc_timestamp)
    rdtsc
    shl $32, %rdx
    or %rdx, %rax
    ret

/* The current stack pointer (of the caller, after its call returns). */
FUNCTION(aegis_gc_stack_pointer)
    lea 8(%rsp), %rax
    ret

    .bss
    .balign 64
aegis_gc_contexts:
    .skip GC_CLASS_COUNT * 32
aegis_gc_size_classes:
    .skip GC_MAX_SMALL / 8 + 1

    .section .note.GNU-stack, "", @progbits
