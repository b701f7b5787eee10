/*
 * linux.S - the machine-level half of the Linux personality (LibOS.Unixish/Linux):
 *   linux_upcall_entry     the environment's upcall entry while a Linux program runs: every
 *                          upcall (the program's system calls, UpcallKind.SystemCall, and the
 *                          usual exceptions, slice ends, IPC, revocations) comes here;
 *   linux_resume_direct    resumes the state in an UpcallFrame without touching its stack
 *                          (RSP = the frame): how the program is entered and resumed;
 *   linux_fp_to_frame,     a signal's FP state moves (into a signal frame with the handler's
 *   linux_fp_from_frame    initial state live after; back at rt_sigreturn) by FXRSTOR/FXSAVE;
 *   linux_symbol_*         addresses for C#.
 *
 * FS base. The program and the libOS each have their own thread pointer (the libOS's managed
 * code keeps its thread-local storage behind FS). On every upcall the live FS base is saved in
 * the frame (UpcallFrame.Reserved2) and the libOS's loaded; on resume the frame's value goes
 * back. With FSGSBASE (InfoPage CpuFeatures bit 0: the kernel set CR4.FSGSBASE) that is
 * rdfsbase/wrfsbase; without it linux_current_fs tracks the value last asked of the kernel
 * and SetFsBase (its number is given by C#: nothing here hard-codes a system-call number) is
 * called - always on entry (a nested upcall may have come between the store and the call),
 * on resume only when the value differs from the libOS's.
 *
 * Resuming without touching the program's stack (Linux code keeps data in the 128-byte red
 * zone below RSP, so libos.S's "push RIP below RSP and ret" would corrupt it): every register
 * is loaded from the frame, RFLAGS by popfq, RSP by pop, and the last instruction is
 * `jmp *linux_resume_rip(%rip)`, a per-environment slot holding the RIP. Nesting rules (an
 * upcall can arrive at any instruction here):
 *   - an upcall that interrupted the libOS image (RIP inside [__image_start, __image_end))
 *     other than at that final jmp resumes by libos.S's aegis_upcall_resume (stack-based: libOS
 *     stacks have no red zone), so it never rewrites the slot another level is about to use;
 *   - an upcall that interrupted exactly the final jmp sees the program's registers in its
 *     frame except RIP: it replaces RIP by the slot's value (as if it had interrupted the
 *     program), then resumes directly like any upcall that interrupted the program.
 * The allocation-restart rule of libos.S applies to upcalls that interrupted the libOS (the
 * program never runs the allocator): the same four-instruction range check.
 *
 * Invariants: the SSE/x87 state of whatever was interrupted is saved below the frame and
 * restored before it resumes; the hot path (a system call) allocates nothing and enters the
 * kernel only in the no-FSGSBASE fallback.
 */
#define FUNCTION(name) .globl name; .type name, @function; name:

#include "abi.h"

#define FRAME_SAVED_FS UPCALL_FRAME_RESERVED2
#define FRAME_R15    (UPCALL_FRAME_REGISTERS + USER_REGISTERS_R15)
#define FRAME_R14    (UPCALL_FRAME_REGISTERS + USER_REGISTERS_R14)
#define FRAME_R13    (UPCALL_FRAME_REGISTERS + USER_REGISTERS_R13)
#define FRAME_R12    (UPCALL_FRAME_REGISTERS + USER_REGISTERS_R12)
#define FRAME_R11    (UPCALL_FRAME_REGISTERS + USER_REGISTERS_R11)
#define FRAME_R10    (UPCALL_FRAME_REGISTERS + USER_REGISTERS_R10)
#define FRAME_R9     (UPCALL_FRAME_REGISTERS + USER_REGISTERS_R9)
#define FRAME_R8     (UPCALL_FRAME_REGISTERS + USER_REGISTERS_R8)
#define FRAME_RBP    (UPCALL_FRAME_REGISTERS + USER_REGISTERS_RBP)
#define FRAME_RDI    (UPCALL_FRAME_REGISTERS + USER_REGISTERS_RDI)
#define FRAME_RSI    (UPCALL_FRAME_REGISTERS + USER_REGISTERS_RSI)
#define FRAME_RDX    (UPCALL_FRAME_REGISTERS + USER_REGISTERS_RDX)
#define FRAME_RCX    (UPCALL_FRAME_REGISTERS + USER_REGISTERS_RCX)
#define FRAME_RBX    (UPCALL_FRAME_REGISTERS + USER_REGISTERS_RBX)
#define FRAME_RAX    (UPCALL_FRAME_REGISTERS + USER_REGISTERS_RAX)
#define FRAME_RIP    (UPCALL_FRAME_REGISTERS + USER_REGISTERS_RIP)
#define FRAME_RFLAGS (UPCALL_FRAME_REGISTERS + USER_REGISTERS_RFLAGS)
#define FRAME_RSP    (UPCALL_FRAME_REGISTERS + USER_REGISTERS_RSP)
#define FXSAVE_AREA_SIZE 512

    .text
    .code64

/* Entered by the kernel with RSP = RDI = the UpcallFrame (16-byte aligned), interrupts on. */
FUNCTION(linux_upcall_entry)
    cmpb $0, linux_has_fsgsbase(%rip)
    je 20f
    rdfsbase %rax
    mov %rax, FRAME_SAVED_FS(%rdi)
    mov linux_libos_fs(%rip), %rax
    wrfsbase %rax
1:  cmpq $UPCALL_KIND_SYSTEM_CALL, UPCALL_FRAME_KIND(%rdi)
    jne 30f

    /* The program's system call (the frame is at the upcall stack's top - 256: 16-byte aligned,
       so is RSP - 512). */
    cld
    mov %rdi, %rbx
    sub $FXSAVE_AREA_SIZE, %rsp
    fxsave64 (%rsp)
    ldmxcsr linux_default_mxcsr(%rip)
    xor %ebp, %ebp
    call linux_dispatch_system_call     /* long LinuxUpcalls.DispatchSystemCall(UpcallFrame*) */
    mov %rax, FRAME_RAX(%rbx)
    fxrstor64 (%rsp)
    mov %rbx, %rsp
    /* fall through */

/* linux_resume_direct: RSP = an UpcallFrame; resumes its state with FS base = its saved FS,
   never writing below the resumed RSP. */
    .globl linux_resume_direct
linux_resume_direct:
    cmpb $0, linux_has_fsgsbase(%rip)
    je 25f
    mov FRAME_SAVED_FS(%rsp), %rax
    wrfsbase %rax
2:  mov FRAME_RIP(%rsp), %rax
    mov %rax, linux_resume_rip(%rip)
    mov FRAME_R15(%rsp), %r15
    mov FRAME_R14(%rsp), %r14
    mov FRAME_R13(%rsp), %r13
    mov FRAME_R12(%rsp), %r12
    mov FRAME_R11(%rsp), %r11
    mov FRAME_R10(%rsp), %r10
    mov FRAME_R9(%rsp), %r9
    mov FRAME_R8(%rsp), %r8
    mov FRAME_RBP(%rsp), %rbp
    mov FRAME_RDI(%rsp), %rdi
    mov FRAME_RSI(%rsp), %rsi
    mov FRAME_RDX(%rsp), %rdx
    mov FRAME_RCX(%rsp), %rcx
    mov FRAME_RBX(%rsp), %rbx
    mov FRAME_RAX(%rsp), %rax
    lea FRAME_RFLAGS(%rsp), %rsp
    popfq
    pop %rsp
    .globl linux_resume_jump
linux_resume_jump:
    jmp *linux_resume_rip(%rip)

    /* No FSGSBASE, entry: remember what was live, ask for the libOS's FS base. */
20: mov linux_current_fs(%rip), %rax
    mov %rax, FRAME_SAVED_FS(%rdi)
    mov linux_libos_fs(%rip), %rax
    mov %rax, linux_current_fs(%rip)
    mov %rax, %rdi
    mov linux_set_fs_base_number(%rip), %rax
    syscall                             /* clobbers RAX, RCX, R11: all saved in the frame */
    mov %rsp, %rdi
    jmp 1b

    /* No FSGSBASE, resume: give the saved FS base back unless it is the libOS's (live now). */
25: mov FRAME_SAVED_FS(%rsp), %rdi
    cmp linux_libos_fs(%rip), %rdi
    je 2b
    mov %rdi, linux_current_fs(%rip)
    mov linux_set_fs_base_number(%rip), %rax
    syscall
    jmp 2b

    /* Any other upcall. Interrupted at the final jmp: it is the program's state but for RIP. */
30: lea linux_resume_jump(%rip), %rax
    cmp %rax, FRAME_RIP(%rdi)
    jne 31f
    mov linux_resume_rip(%rip), %rax
    mov %rax, FRAME_RIP(%rdi)
31: cld
    mov %rdi, %rbx
    sub $FXSAVE_AREA_SIZE, %rsp
    and $-16, %rsp
    fxsave64 (%rsp)
    ldmxcsr linux_default_mxcsr(%rip)
    xor %ebp, %ebp
    /* Interrupted the runtime's allocation fast paths? (libos.S, docs/runtime.md) */
    mov FRAME_RIP(%rdi), %rax
    sub $aegis_gc_fast_paths, %rax
    cmp $aegis_gc_fast_paths_bytes, %rax
    jae 32f
    call aegis_upcall_restart_allocation
    mov %rbx, %rdi
32: call linux_dispatch_upcall          /* void LinuxUpcalls.Dispatch(UpcallFrame*) */
    fxrstor64 (%rsp)
    mov %rbx, %rsp
    /* Interrupted the libOS: resume by its stack (no red zone there), FS first. */
    mov FRAME_RIP(%rsp), %rax
    sub $__image_start, %rax
    cmp $__image_bytes, %rax
    jae linux_resume_direct
    cmpb $0, linux_has_fsgsbase(%rip)
    je 35f
    mov FRAME_SAVED_FS(%rsp), %rax
    wrfsbase %rax
    jmp aegis_upcall_resume
35: mov FRAME_SAVED_FS(%rsp), %rdi
    cmp linux_libos_fs(%rip), %rdi
    je aegis_upcall_resume
    mov %rdi, linux_current_fs(%rip)
    mov linux_set_fs_base_number(%rip), %rax
    syscall
    jmp aegis_upcall_resume
    .size linux_upcall_entry, . - linux_upcall_entry

/* void linux_configure(ulong libosFs, ulong hasFsGsBase, ulong setFsBaseNumber): the values
   the trampoline needs, set once by LinuxPersonality.Start before the entry is registered. */
FUNCTION(linux_configure)
    mov %rdi, linux_libos_fs(%rip)
    mov %rdi, linux_current_fs(%rip)
    mov %sil, linux_has_fsgsbase(%rip)
    mov %rdx, linux_set_fs_base_number(%rip)
    ret
    .size linux_configure, . - linux_configure

/* void linux_enter(UpcallFrame* state): starts the program (execve's new image, the first
   program) in the state given; never returns. The caller's stack is abandoned. */
FUNCTION(linux_enter)
    mov %rdi, %rsp
    jmp linux_resume_direct
    .size linux_enter, . - linux_enter

/* ulong linux_thread_pointer(): the FS base now live ([FS:0] holds the thread pointer, TLS variant II). */
FUNCTION(linux_thread_pointer)
    mov %fs:0, %rax
    ret
    .size linux_thread_pointer, . - linux_thread_pointer

/* ulong linux_rdtsc() */
FUNCTION(linux_rdtsc)
    rdtsc
    shl $32, %rdx
    or %rdx, %rax
    ret
    .size linux_rdtsc, . - linux_rdtsc

/* void linux_cpuid(uint leaf, uint subleaf, uint* eaxEbxEcxEdx) */
FUNCTION(linux_cpuid)
    mov %rbx, %r8
    mov %rdx, %r9
    mov %edi, %eax
    mov %esi, %ecx
    cpuid
    mov %eax, 0(%r9)
    mov %ebx, 4(%r9)
    mov %ecx, 8(%r9)
    mov %edx, 12(%r9)
    mov %r8, %rbx
    ret
    .size linux_cpuid, . - linux_cpuid

/* int linux_rdrand(ulong* value): 1 with a value, 0 when the CPU had none ready (call only when
   CPUID says RDRAND exists); linux_rdseed the same for RDSEED. */
FUNCTION(linux_rdrand)
    xor %eax, %eax
    rdrand %rdx
    setc %al
    mov %rdx, (%rdi)
    ret
    .size linux_rdrand, . - linux_rdrand

FUNCTION(linux_rdseed)
    xor %eax, %eax
    rdseed %rdx
    setc %al
    mov %rdx, (%rdi)
    ret
    .size linux_rdseed, . - linux_rdseed

/* GS base, for the program's arch_prctl(ARCH_SET_GS/GET_GS) (only with FSGSBASE: the libOS never
   uses GS, so the program's value stays live across upcalls). */
FUNCTION(linux_wrgsbase)
    wrgsbase %rdi
    ret
    .size linux_wrgsbase, . - linux_wrgsbase

FUNCTION(linux_rdgsbase)
    rdgsbase %rax
    ret
    .size linux_rdgsbase, . - linux_rdgsbase

/* void linux_fp_to_frame(byte* area, byte* frameFp): a signal handler's FP switch (Signals/
   SignalFrame.SwitchFpToHandler). area is the trampoline's FXSAVE area (the interrupted FP
   state); frameFp the signal frame's FP area (16-aligned, checked writable by the caller):
   frameFp gets the interrupted state (bytes 0..463; FXSAVE leaves 464..511 alone), area the
   handler's initial state (linux_initial_fp, with this CPU's MXCSR_MASK). FXRSTOR/FXSAVE move
   the image in four instructions instead of copying 464 bytes and clearing 512. The libOS's
   own SSE use afterwards does not matter: the trampoline restores from area on the way out. */
FUNCTION(linux_fp_to_frame)
    fxrstor64 (%rdi)
    fxsave64 (%rsi)
    fxrstor64 linux_initial_fp(%rip)
    fxsave64 (%rdi)
    ret
    .size linux_fp_to_frame, . - linux_fp_to_frame

/* void linux_fp_from_frame(byte* area, byte* frameFp): rt_sigreturn's FP restore: area gets the
   image at frameFp (16-aligned, readable, MXCSR holding only bits MXCSR_MASK allows: checked by
   the caller, SignalFrame.RestoreFp, else FXRSTOR would fault). */
FUNCTION(linux_fp_from_frame)
    fxrstor64 (%rsi)
    fxsave64 (%rdi)
    ret
    .size linux_fp_from_frame, . - linux_fp_from_frame

#define SYMBOL_ACCESSOR(name, symbol) FUNCTION(name) lea symbol(%rip), %rax; ret
SYMBOL_ACCESSOR(linux_symbol_upcall_entry, linux_upcall_entry)
SYMBOL_ACCESSOR(linux_symbol_resume_jump, linux_resume_jump)
SYMBOL_ACCESSOR(linux_symbol_image_start, __image_start)
SYMBOL_ACCESSOR(linux_symbol_image_end, __image_end)

    .section .rodata
    .balign 4
linux_default_mxcsr:
    .long 0x1F80
/* The FP state a signal handler starts with (Linux's fpu__clear_user_states): an FXSAVE image
   with FCW 0x37F, MXCSR 0x1F80, every register empty and zero. */
    .balign 16
linux_initial_fp:
    .word 0x37F
    .fill 22, 1, 0
    .long 0x1F80
    .fill 512 - 28, 1, 0

    .section .data
    .balign 8
linux_libos_fs:
    .quad 0
linux_current_fs:
    .quad 0
linux_set_fs_base_number:
    .quad 0
    .globl linux_resume_rip
linux_resume_rip:
    .quad 0
linux_has_fsgsbase:
    .byte 0

    .section .note.GNU-stack, "", @progbits
