/*
 * usermode.S - crossing between the kernel and environments (ring 3).
 *
 * The kernel is event-driven with one "scheduler loop" context: Scheduler.Run calls
 * aegis_run_user(frame, loop, fx), which saves the loop's callee-saved registers and stack
 * pointer in *loop, loads the environment's SSE state from fx, and enters ring 3 with the
 * registers in *frame (an InterruptFrame, see Hal/InterruptFrame.cs) through iretq.
 * Entries from ring 3 (interrupts, exceptions, system calls) run on the separate trap stack
 * (TSS.rsp0 and the per-CPU block's first word). When the kernel decides the loop must pick
 * what runs next, it calls aegis_return_to_loop(loop), which abandons the trap stack and
 * returns from aegis_run_user. To go straight back to ring 3 instead, aegis_resume_user(frame)
 * restores *frame and iretqs.
 *
 * System calls enter at aegis_syscall_entry (LSTAR). syscall leaves the user RIP in RCX and
 * RFLAGS in R11 and does not switch stacks: swapgs reaches the per-CPU block (KERNEL_GS_BASE),
 * whose word 0 is the trap stack top and word 1 a scratch slot for the user RSP. Calls that
 * cannot switch environments take a fast path (a direct call of their handler, sysretq back);
 * the others build the same InterruptFrame an interrupt would (vector 0x100), so one
 * dispatcher and one return path serve both. Interrupts stay off in the kernel (SFMASK clears IF).
 */
    .text
    .code64
#define FUNCTION(name) .globl name; .type name, @function; name:

#define USER_CS  0x23
#define USER_SS  0x1b
#define SYSCALL_VECTOR 0x100
#define CLEAR_SSE xorps %xmm0, %xmm0; xorps %xmm1, %xmm1; xorps %xmm2, %xmm2; xorps %xmm3, %xmm3; \
    xorps %xmm4, %xmm4; xorps %xmm5, %xmm5; xorps %xmm6, %xmm6; xorps %xmm7, %xmm7; \
    xorps %xmm8, %xmm8; xorps %xmm9, %xmm9; xorps %xmm10, %xmm10; xorps %xmm11, %xmm11; \
    xorps %xmm12, %xmm12; xorps %xmm13, %xmm13; xorps %xmm14, %xmm14; xorps %xmm15, %xmm15
#define SYSCALL_COUNT 29   /* Aegis.Abi.SystemCall.Count; SystemCalls.Initialize checks it */

FUNCTION(aegis_syscall_entry)
    swapgs
    mov %rsp, %gs:8
    mov %gs:0, %rsp
    cmp $SYSCALL_COUNT, %rax
    jae 2f
    /* Fast path: a handler that never switches environments is called directly with the
       System V convention (arguments already in RDI, RSI, RDX; R10 -> RCX; R8, R9). It
       preserves RBX, RBP, R12-R15 itself; the ABI lets RCX, R11, RDI, RSI, RDX, R8-R10 be
       clobbered. Interrupts stay off, GS stays the kernel's until the return. */
    push %rcx
    push %r11
    lea aegis_syscall_fast(%rip), %r11
    mov (%r11,%rax,8), %r11
    test %r11, %r11
    jz 1f
    mov %gs:16, %rcx
    incq (%rcx)
    mov %r10, %rcx
    call *%r11
    test %rax, %rax
    jns 3f
    mov %gs:16, %rcx
    incq 8(%rcx)
3:
    /* Leave no kernel value in a register the ABI lets us clobber: the scratch registers
       and the SSE registers are cleared (RAX is the result; RCX, R11 are the user's). */
    xor %edi, %edi
    xor %esi, %esi
    xor %edx, %edx
    xor %r8d, %r8d
    xor %r9d, %r9d
    xor %r10d, %r10d
    CLEAR_SSE
    pop %r11
    pop %rcx
    mov %gs:8, %rsp
    swapgs
    sysretq
1:  pop %r11
    pop %rcx
2:  /* Slow path: the full register frame, for calls that may block, switch or end the caller. */
    pushq $USER_SS
    pushq %gs:8
    push %r11
    pushq $USER_CS
    push %rcx
    pushq $0
    pushq $SYSCALL_VECTOR
    swapgs
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    cld
    mov %rsp, %rdi
    call aegis_syscall_dispatch
    /* The general registers come back from the frame (the user's own values, plus the
       results); the SSE registers may hold kernel values: clear them. */
    CLEAR_SSE
    mov %rsp, %rdi
    jmp aegis_resume_user

/* void aegis_resume_user(InterruptFrame* frame): restores the frame and returns to ring 3. */
FUNCTION(aegis_resume_user)
    mov %rdi, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    iretq

/* void aegis_run_user(InterruptFrame* frame, ulong* loopContext, void* fxState) */
FUNCTION(aegis_run_user)
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, (%rsi)
    fxrstor (%rdx)
    jmp aegis_resume_user

/* void aegis_return_to_loop(ulong* loopContext): returns from aegis_run_user. */
FUNCTION(aegis_return_to_loop)
    mov (%rdi), %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

/* void aegis_fxsave(void* area) / aegis_fxrstor(void* area): 512 bytes, 16-byte aligned. */
FUNCTION(aegis_fxsave)
    fxsave (%rdi)
    ret
FUNCTION(aegis_fxrstor)
    fxrstor (%rdi)
    ret

/* The per-CPU block swapgs finds: [0] trap stack top, [8] user RSP scratch,
   [16] the running environment's counters (system calls, errors). */
    .bss
    .balign 16
    .globl aegis_cpu_block
aegis_cpu_block:
    .skip 64
/* Fast system-call handlers by number (0 = take the slow path), filled by SystemCalls.Initialize. */
    .balign 8
    .globl aegis_syscall_fast
aegis_syscall_fast:
    .skip 8 * SYSCALL_COUNT
/* The kernel's stacks besides the boot stack, all static, each above an unmapped guard page
   (KernelMemory.Initialize unmaps them, Hal/KernelStacks.cs describes the layout): the trap
   stack (64 KiB), then the double-fault, NMI and machine-check IST stacks (32 KiB each). */
    .balign 4096
    .globl aegis_trap_stack_guard
aegis_trap_stack_guard:
    .skip 4096
    .globl aegis_trap_stack_bottom
aegis_trap_stack_bottom:
    .skip 65536
    .globl aegis_trap_stack_top
aegis_trap_stack_top:
    .globl aegis_ist_stacks
aegis_ist_stacks:
    .skip 3 * (4096 + 32768)

    .text
FUNCTION(aegis_symbol_cpu_block)
    movabs $aegis_cpu_block, %rax
    ret
FUNCTION(aegis_symbol_trap_stack_top)
    movabs $aegis_trap_stack_top, %rax
    ret
FUNCTION(aegis_symbol_trap_stack_bottom)
    movabs $aegis_trap_stack_bottom, %rax
    ret
FUNCTION(aegis_symbol_trap_stack_guard)
    movabs $aegis_trap_stack_guard, %rax
    ret
FUNCTION(aegis_symbol_ist_stacks)
    movabs $aegis_ist_stacks, %rax
    ret
FUNCTION(aegis_symbol_syscall_fast)
    movabs $aegis_syscall_fast, %rax
    ret
FUNCTION(aegis_symbol_syscall_entry)
    movabs $aegis_syscall_entry, %rax
    ret

    .section .note.GNU-stack, "", @progbits

/* The per-page loops of the PageProtect system call (Exo/SystemCalls.cs), in assembly because
   they run once per page and a count-down loop keeps them to a dozen instructions.
   ulong aegis_protect_run(ulong* leaf, ulong count, ulong leafBits, ulong* saved):
   for each entry: stop if it lacks Present|User; save it; keep frame, accessed, dirty; set
   leafBits. Returns the number of entries changed (count when all were). */
    .text
FUNCTION(aegis_protect_run)
    test %rsi, %rsi
    jz 3f
    lea (%rdi,%rsi,8), %rdi
    lea (%rcx,%rsi,8), %rcx
    mov %rsi, %rax
    neg %rax
    movabs $0x000FFFFFFFFFF060, %r8
1:  mov (%rdi,%rax,8), %r9
    mov %r9, %r10
    not %r10
    test $5, %r10
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
    movabs $0x000FFFFFFFFFF060, %r9
1:  mov (%rdi,%rax,8), %r10
    mov %r10, %r11
    not %r11
    test $5, %r11
    jnz 4f
    mov %r10, %r11
    shl $12, %r11
    shr $24, %r11
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
