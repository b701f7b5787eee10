/*
 * entry.h - what every kernel entry and exit shares (included by interrupts.S and usermode.S).
 *
 * Guarantees: the InterruptFrame layout (Hal/InterruptFrame.cs) is defined here once, as
 * offsets, and SAVE_FRAME_REGISTERS / RESTORE_FRAME_REGISTERS are the only register
 * save/restore sequence for it: an interrupt, an exception and a system call's slow path build
 * the same frame with the same macro, and every return to ring 3 by iretq restores it with the
 * same macro. Aegis.Tests/Host/AsmHeaderTests.cs checks every #define below against the C#
 * struct (offsets, size) and GlobalDescriptorTable's selectors, so a field moved on one side
 * fails a host test instead of corrupting registers.
 *
 * Lines of the form "#define NAME number" are the checked constants: keep one per line.
 */
#ifndef AEGIS_ENTRY_H
#define AEGIS_ENTRY_H

/* InterruptFrame (Hal/InterruptFrame.cs), lowest address first. */
#define IFRAME_R15 0
#define IFRAME_R14 8
#define IFRAME_R13 16
#define IFRAME_R12 24
#define IFRAME_R11 32
#define IFRAME_R10 40
#define IFRAME_R9 48
#define IFRAME_R8 56
#define IFRAME_RBP 64
#define IFRAME_RDI 72
#define IFRAME_RSI 80
#define IFRAME_RDX 88
#define IFRAME_RCX 96
#define IFRAME_RBX 104
#define IFRAME_RAX 112
#define IFRAME_VECTOR 120
#define IFRAME_ERROR_CODE 128
#define IFRAME_RIP 136
#define IFRAME_CS 144
#define IFRAME_RFLAGS 152
#define IFRAME_RSP 160
#define IFRAME_SS 168
#define IFRAME_SIZE 176

/* The vector number a system call's slow path puts in its frame (no CPU vector is >= 256). */
#define IFRAME_SYSCALL_VECTOR 256

/* Selectors (Hal/GlobalDescriptorTable.cs): user data 0x18 and user code 0x20, RPL 3. */
#define GDT_USER_DATA_RPL3 27
#define GDT_USER_CODE_RPL3 35

/* The running environment's counter block (Exo/Environment.cs, Counters; the per-CPU block's word 2
   points at it, set at switch-in): [0] system calls, [1] failed ones, then its system-call upcall:
   the frame address (UpcallStackTop - 256; 0 = off) and the entry (SetSystemCallUpcall). */
#define COUNTERS_SYSTEM_CALL_UPCALL_FRAME 16
#define COUNTERS_SYSTEM_CALL_UPCALL_ENTRY 24

/* fxsave/fxrstor area: 512 bytes, 16-byte aligned. */
#define FXSAVE_AREA_SIZE 512

#ifdef __ASSEMBLER__

#define FUNCTION(name) .globl name; .type name, @function; name:

/* Pushes RAX ... R15: with the vector, error code and the CPU's five words already on the
   stack, RSP then points at a complete InterruptFrame. */
.macro SAVE_FRAME_REGISTERS
    .irp reg, rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15
    push %\reg
    .endr
.endm

/* RSP = an InterruptFrame: reloads R15 ... RAX, drops vector and error code and returns with
   iretq (to ring 3, or to ring 0 for an interrupt taken in the kernel). */
.macro RESTORE_FRAME_AND_IRETQ
    .irp reg, r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax
    pop %\reg
    .endr
    add $(IFRAME_RIP - IFRAME_VECTOR), %rsp
    iretq
.endm

/* Zeroes XMM0-XMM15: no kernel value leaves in an SSE register. */
.macro CLEAR_SSE
    .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    xorps %xmm\n, %xmm\n
    .endr
.endm

#endif /* __ASSEMBLER__ */
#endif /* AEGIS_ENTRY_H */
