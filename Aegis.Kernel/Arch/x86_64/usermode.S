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
 * dispatcher and one return path serve both: the frame is built by entry.h's
 * SAVE_FRAME_REGISTERS and every iretq to ring 3 goes through RESTORE_FRAME_AND_IRETQ.
 * Interrupts stay off in the kernel; SFMASK also clears AC (so SMAP holds from the first
 * kernel instruction), TF, DF, NT and IOPL.
 *
 * sysretq and a canonical RCX: on Intel CPUs sysretq with a non-canonical RCX raises #GP in
 * ring 0 on the user's stack. The fast path returns to RCX as the syscall instruction left it:
 * the address right after a syscall instruction the environment executed, so at most
 * 2 bytes past the end of an executable user page. No user page is ever mapped at or above
 * UserAddresses.ReservedTop except the two information pages, which are mapped no-execute, and
 * ReservedTop + 2 pages < UserEnd, so that address is always canonical. The slow path
 * (iretq) serves everything else. Checked by Aegis.Tests/Host/AsmHeaderTests.cs
 * (SysretReturnAddressIsCanonical); docs/kernel.md, "Entry, exit and the CPU".
 */
#include "abi.h"
#include "entry.h"

    .text
    .code64

FUNCTION(aegis_syscall_entry)
    swapgs
    mov %rsp, %gs:8
    mov %gs:0, %rsp
    cmp $SYSTEM_CALL_END, %rax
    jae 2f
    /* Fast path: a handler that never switches environments is called directly with the
       System V convention (arguments already in RDI, RSI, RDX; R10 -> RCX; R8, R9). It
       preserves RBX, RBP, R12-R15 itself; the ABI lets RCX, R11, RDI, RSI, RDX, R8-R10 be
       clobbered. Interrupts stay off, GS stays the kernel's until the return. */
    push %rcx
    push %r11
    /* FAST PATH (docs/kernel.md, "Fast paths"): handlers that need no frame, sysretq back. */
    mov aegis_syscall_fast(,%rax,8), %r11  /* the kernel lives in the top 2 GiB: a 32-bit address */
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
    pop %rcx                            /* canonical: see "sysretq and a canonical RCX" above */
    mov %gs:8, %rsp
    swapgs
    sysretq
1:  pop %r11
    pop %rcx
2:  /* Slow path: the full register frame, for calls that may block, switch or end the caller. */
    pushq $GDT_USER_DATA_RPL3
    pushq %gs:8
    push %r11
    pushq $GDT_USER_CODE_RPL3
    push %rcx
    pushq $0
    pushq $IFRAME_SYSCALL_VECTOR
    swapgs
    SAVE_FRAME_REGISTERS
    cld
    mov %rsp, %rdi
    call aegis_syscall_dispatch
    /* The general registers come back from the frame (the user's own values, plus the
       results); the SSE registers may hold kernel values: clear them. RSP is the frame. */
    CLEAR_SSE
    RESTORE_FRAME_AND_IRETQ

/* aegis_syscall_redirect: the fast table's handler for every number below SYSTEM_CALL_FIRST
   (a hosted program's system call, e.g. Linux's). FAST PATH (docs/kernel.md, "System-call
   upcalls"). Entered by the fast path's `call *%r11` above, which counted the call: the stack
   holds the return address, then the user's RFLAGS (8) and RIP (16); RCX = R10, R11 = this
   address; GS is the kernel's; every other register is the program's (RAX the number).
   The running environment's counter block (%gs:16) holds its system-call upcall: the frame
   address (UpcallStackTop - 256, 0 = off) and the entry, kept by SetSystemCallUpcall (Exo/
   SystemCallUpcalls.cs), so switching environments costs nothing here.
   Off: returns NoSuchCall to the fast path (an unknown number's result, counted as an error).
   On: writes the UpcallFrame (Kind = SystemCall, Registers = the whole program state with
   RCX = RIP and R11 = RFLAGS as the syscall instruction leaves them) into the user frame with
   SMAP lifted (stac .. clac), then sysretqs to the entry with RSP = RDI = the frame and
   RFLAGS = IF: the trap stack is abandoned (the next entry starts at its top again). SSE/x87
   are the program's, untouched. A fault while writing the frame (the page is unmapped or
   read-only) is a #PF in ring 0 between aegis_syscall_redirect_write_begin and _end: the
   #PF path (Hal/Interrupts.cs) resumes at aegis_syscall_redirect_fault instead of
   panicking, which restores the user GS and lets the kernel destroy the environment
   (DestroyReason.BadUpcall). RCX at sysretq is the entry SetSystemCallUpcall checked to lie
   below UserAddresses.ReservedTop: canonical (see "sysretq and a canonical RCX"). */
FUNCTION(aegis_syscall_redirect)
    mov %gs:16, %r11
    mov COUNTERS_SYSTEM_CALL_UPCALL_FRAME(%r11), %rcx
    test %rcx, %rcx
    jz 1f
    /* Patched to stac (0f 01 cb) by Cpu.EnableProtectionFeatures when SMAP is on. */
    .globl aegis_smap_redirect_stac_site
aegis_smap_redirect_stac_site:
    .byte 0x0f, 0x1f, 0x00
    .globl aegis_syscall_redirect_write_begin
aegis_syscall_redirect_write_begin:
    movq $UPCALL_KIND_SYSTEM_CALL, UPCALL_FRAME_KIND(%rcx)
    mov %rax, (UPCALL_FRAME_REGISTERS + USER_REGISTERS_RAX)(%rcx)
    mov %rbx, (UPCALL_FRAME_REGISTERS + USER_REGISTERS_RBX)(%rcx)
    mov %rdx, (UPCALL_FRAME_REGISTERS + USER_REGISTERS_RDX)(%rcx)
    mov %rsi, (UPCALL_FRAME_REGISTERS + USER_REGISTERS_RSI)(%rcx)
    mov %rdi, (UPCALL_FRAME_REGISTERS + USER_REGISTERS_RDI)(%rcx)
    mov %rbp, (UPCALL_FRAME_REGISTERS + USER_REGISTERS_RBP)(%rcx)
    mov %r8, (UPCALL_FRAME_REGISTERS + USER_REGISTERS_R8)(%rcx)
    mov %r9, (UPCALL_FRAME_REGISTERS + USER_REGISTERS_R9)(%rcx)
    mov %r10, (UPCALL_FRAME_REGISTERS + USER_REGISTERS_R10)(%rcx)
    mov %r12, (UPCALL_FRAME_REGISTERS + USER_REGISTERS_R12)(%rcx)
    mov %r13, (UPCALL_FRAME_REGISTERS + USER_REGISTERS_R13)(%rcx)
    mov %r14, (UPCALL_FRAME_REGISTERS + USER_REGISTERS_R14)(%rcx)
    mov %r15, (UPCALL_FRAME_REGISTERS + USER_REGISTERS_R15)(%rcx)
    mov 16(%rsp), %rdi                  /* the user RIP, which syscall also left in RCX */
    mov %rdi, (UPCALL_FRAME_REGISTERS + USER_REGISTERS_RIP)(%rcx)
    mov %rdi, (UPCALL_FRAME_REGISTERS + USER_REGISTERS_RCX)(%rcx)
    mov 8(%rsp), %rdi                   /* the user RFLAGS, which syscall also left in R11 */
    mov %rdi, (UPCALL_FRAME_REGISTERS + USER_REGISTERS_RFLAGS)(%rcx)
    mov %rdi, (UPCALL_FRAME_REGISTERS + USER_REGISTERS_R11)(%rcx)
    mov %gs:8, %rdi
    mov %rdi, (UPCALL_FRAME_REGISTERS + USER_REGISTERS_RSP)(%rcx)
    .globl aegis_syscall_redirect_write_end
aegis_syscall_redirect_write_end:
    /* Patched to clac (0f 01 ca) when SMAP is on. */
    .globl aegis_smap_redirect_clac_site
aegis_smap_redirect_clac_site:
    .byte 0x0f, 0x1f, 0x00
    mov %rcx, %rdi
    mov %rcx, %rsp
    mov COUNTERS_SYSTEM_CALL_UPCALL_ENTRY(%r11), %rcx
    mov $0x202, %r11d
    swapgs
    sysretq
1:  mov $ERROR_NO_SUCH_CALL, %rax
    ret

/* Where the #PF path resumes a fault inside aegis_syscall_redirect's frame writes (ring 0, GS
   still the kernel's, RFLAGS.AC possibly set): back to the invariant every other kernel path
   keeps (AC clear; GS base the program's, KERNEL_GS_BASE the per-CPU block), then the kernel
   ends the environment. Never returns. */
FUNCTION(aegis_syscall_redirect_fault)
    .globl aegis_smap_redirect_fault_site
aegis_smap_redirect_fault_site:
    .byte 0x0f, 0x1f, 0x00              /* clac once SMAP is on */
    mov %gs:0, %rsp
    swapgs
    cld
    call aegis_syscall_upcall_fault
    ud2

/* void aegis_resume_user(InterruptFrame* frame): restores the frame and returns to ring 3. */
FUNCTION(aegis_resume_user)
    mov %rdi, %rsp
    RESTORE_FRAME_AND_IRETQ

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
   [16] the running environment's counter block (system calls, errors, its system-call upcall's
   frame and entry: entry.h COUNTERS_*). */
    .bss
    .balign 16
    .globl aegis_cpu_block
aegis_cpu_block:
    .skip 64
/* (see aegis_symbol_smap_redirect_sites) */
    .section .rodata
    .balign 8
smap_redirect_sites:
    .quad aegis_smap_redirect_stac_site, aegis_smap_redirect_clac_site, aegis_smap_redirect_fault_site
    .bss
/* Fast system-call handlers by number (0 = take the slow path), filled by SystemCalls.Initialize:
   [0, SYSTEM_CALL_FIRST) all aegis_syscall_redirect, then Aegis's calls. */
    .balign 8
    .globl aegis_syscall_fast
aegis_syscall_fast:
    .skip 8 * SYSTEM_CALL_END
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
FUNCTION(aegis_symbol_syscall_redirect)
    movabs $aegis_syscall_redirect, %rax
    ret
FUNCTION(aegis_symbol_syscall_redirect_write_begin)
    movabs $aegis_syscall_redirect_write_begin, %rax
    ret
FUNCTION(aegis_symbol_syscall_redirect_write_end)
    movabs $aegis_syscall_redirect_write_end, %rax
    ret
FUNCTION(aegis_symbol_syscall_redirect_fault)
    movabs $aegis_syscall_redirect_fault, %rax
    ret
FUNCTION(aegis_symbol_smap_redirect_sites)
    /* the three patch sites, as an array of addresses */
    lea smap_redirect_sites(%rip), %rax
    ret
FUNCTION(aegis_symbol_syscall_entry)
    movabs $aegis_syscall_entry, %rax
    ret

    .section .note.GNU-stack, "", @progbits
