/*
 * libos.S - the machine-level half of LibOS.Base, linked into every app image:
 *   _start               the image's ELF entry: start-up, the app's Main, Exit;
 *   aegis_syscall*       system-call stubs (convention: Aegis.Abi/SystemCall.cs);
 *   aegis_fiber_*        switching between fibers' stacks (LibOS.Base/Fiber.cs);
 *   aegis_upcall_entry   the upcall trampoline (frame layout: Aegis.Abi/Upcall.cs, as offsets in
 *                        Aegis.Abi/abi.h);
 *   aegis_symbol_*       addresses defined by Native/app.ld and this file, for C#.
 * Invariants: nothing here enters the kernel except through `syscall`; an upcall is resumed
 * entirely in user mode, with every general register, RFLAGS and the SSE state as the
 * (possibly edited) frame says.
 */
#ifndef AEGIS_IMAGE_NAME
#define AEGIS_IMAGE_NAME "app"
#endif

#define FUNCTION(name) .globl name; .type name, @function; name:

#include "abi.h"

/* Where the interrupted registers are in an UpcallFrame. */
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

/* The kernel enters here with RSP = UserAddresses.InitialStackTop, every other register 0,
   FS base 0. AppStartup.Start (aegis_libos_start) brings up the runtime and the libOS;
   __managed__Main is ILC's wrapper around the app's static Main; AppStartup.Exit ends the
   environment with Main's return value. */
FUNCTION(_start)
    xor %ebp, %ebp
    and $-16, %rsp
    call aegis_libos_start
    xor %edi, %edi
    xor %esi, %esi
    call __managed__Main
    mov %eax, %edi
    call aegis_libos_exit
1:  ud2
    jmp 1b
    .size _start, . - _start

/* SystemCallResult aegis_syscall(number, a0, a1, a2, a3, a4, a5): the general stub. The
   16-byte result struct comes back in RAX:RDX, which is exactly what the kernel returns. */
FUNCTION(aegis_syscall)
    mov %rdi, %rax
    mov %rsi, %rdi
    mov %rdx, %rsi
    mov %rcx, %rdx
    mov %r8, %r10
    mov %r9, %r8
    mov 8(%rsp), %r9
    syscall
    ret
    .size aegis_syscall, . - aegis_syscall

/* SystemCallResult aegis_syscall_rsi(number, a0, a1, a2, a3, a4, a5, ulong* rsi): as
   aegis_syscall, and stores what the kernel left in RSI (IpcCall's reply word 1) at *rsi. */
FUNCTION(aegis_syscall_rsi)
    mov %rdi, %rax
    mov %rsi, %rdi
    mov %rdx, %rsi
    mov %rcx, %rdx
    mov %r8, %r10
    mov %r9, %r8
    mov 8(%rsp), %r9
    syscall
    mov 16(%rsp), %rcx
    mov %rsi, (%rcx)
    ret
    .size aegis_syscall_rsi, . - aegis_syscall_rsi

/* ulong aegis_rdtsc(void): the time-stamp counter (Time.Timestamp). */
FUNCTION(aegis_rdtsc)
    rdtsc
    shl $32, %rdx
    or %rdx, %rax
    ret
    .size aegis_rdtsc, . - aegis_rdtsc

/* long aegis_syscall0(number): the fast stub for calls without arguments. */
FUNCTION(aegis_syscall0)
    mov %rdi, %rax
    syscall
    ret
    .size aegis_syscall0, . - aegis_syscall0

/* long aegis_syscall1(number, a0) */
FUNCTION(aegis_syscall1)
    mov %rdi, %rax
    mov %rsi, %rdi
    syscall
    ret
    .size aegis_syscall1, . - aegis_syscall1

/* The upcall trampoline. The kernel starts it with RSP = RDI = the UpcallFrame (16-byte
   aligned) holding the interrupted registers. It saves the SSE state below the frame, calls
   Upcalls.Dispatch(frame) (aegis_upcall_dispatch), restores the SSE state, and resumes the
   state in the frame: the interrupted RIP is written just below the interrupted RSP (the
   kernel leaves a 128-byte gap below an RSP on the upcall stack, and generated code uses no
   red zone), every general register is loaded from the frame, RFLAGS is popped from the
   frame, RSP is popped from the frame (already lowered by 8), and `ret` takes the RIP. */
FUNCTION(aegis_upcall_entry)
    cld                                 /* the ABI's direction flag for the managed code */
    mov %rdi, %rbx                      /* the frame, kept across the call (callee-saved) */
    sub $FXSAVE_AREA_SIZE, %rsp
    and $-16, %rsp
    fxsave64 (%rsp)
    ldmxcsr default_mxcsr(%rip)         /* managed code expects the default rounding/masks */
    xor %ebp, %ebp                      /* ends frame-pointer walks here */
    /* Did the upcall interrupt the runtime's allocation fast paths (Aegis.Runtime/Native/gc.S)
       before they took their cell? (A COW fault on the allocation context's page or a slice end
       can.) Four instructions when not (apps are linked below 2 GiB, so the address is an
       immediate); when so, C# may move RIP back to the path's start. */
    mov FRAME_RIP(%rdi), %rax
    sub $aegis_gc_fast_paths, %rax
    cmp $aegis_gc_fast_paths_bytes, %rax
    jb 3f
4:  cmpq $UPCALL_KIND_EXCEPTION, UPCALL_FRAME_KIND(%rdi) /* straight to the exception dispatcher */
    jne 1f
    call aegis_upcall_dispatch_exception
    jmp 2f
1:  call aegis_upcall_dispatch
    jmp 2f
3:  call aegis_upcall_restart_allocation /* RSP is 16-byte aligned here (below the FX area) */
    mov %rbx, %rdi
    jmp 4b
2:  fxrstor64 (%rsp)
    mov %rbx, %rsp
    /* aegis_upcall_resume: RSP = an UpcallFrame; resumes the state it holds (also the target of
       apps' own assembly upcall entries, e.g. Apps/Bench). */
    .globl aegis_upcall_resume
aegis_upcall_resume:

    mov FRAME_RSP(%rsp), %rax
    sub $8, %rax
    mov FRAME_RIP(%rsp), %rcx
    mov %rcx, (%rax)
    mov %rax, FRAME_RSP(%rsp)

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
    ret
    .size aegis_upcall_entry, . - aegis_upcall_entry

/* Fibers (LibOS.Base/Fiber.cs): stacks of control that take turns on the environment's one CPU.
   void aegis_fiber_switch(long *save, long next): pushes the callee-saved registers, MXCSR and
   the x87 control word, stores the resulting stack pointer at *save (the stack's resume word:
   the collector scans a suspended stack from there up), and resumes the stack whose saved
   pointer is 'next' (popping the same layout). A new fiber's stack is laid out by Fiber.cs so
   that this pop ends in aegis_fiber_start with R12 = the entry point and R13 = its argument. */
FUNCTION(aegis_fiber_switch)
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    sub $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    mov %rsp, (%rdi)
    mov %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    add $8, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret
    .size aegis_fiber_switch, . - aegis_fiber_switch

/* A new fiber's first instruction: RSP is 16-byte aligned here; the entry never returns. */
FUNCTION(aegis_fiber_start)
    .cfi_startproc
    .cfi_undefined rip
    xor %ebp, %ebp
    mov %r13, %rdi
    call *%r12
1:  ud2
    jmp 1b
    .cfi_endproc
    .size aegis_fiber_start, . - aegis_fiber_start

/* Addresses for C# (ILC cannot take a symbol's address directly). */
#define SYMBOL_ACCESSOR(name, symbol) FUNCTION(name) lea symbol(%rip), %rax; ret

SYMBOL_ACCESSOR(aegis_symbol_upcall_entry, aegis_upcall_entry)
SYMBOL_ACCESSOR(aegis_symbol_modules_start, __modules_start)
SYMBOL_ACCESSOR(aegis_symbol_modules_end, __modules_end)
SYMBOL_ACCESSOR(aegis_symbol_tdata_start, __tdata_start)
SYMBOL_ACCESSOR(aegis_symbol_tdata_end, __tdata_end)
SYMBOL_ACCESSOR(aegis_symbol_tbss_end, __tbss_end)
SYMBOL_ACCESSOR(aegis_symbol_image_start, __image_start)
SYMBOL_ACCESSOR(aegis_symbol_image_end, __image_end)
SYMBOL_ACCESSOR(aegis_symbol_initial_heap_start, initial_heap_start)
SYMBOL_ACCESSOR(aegis_symbol_initial_heap_end, initial_heap_end)
SYMBOL_ACCESSOR(aegis_symbol_image_name, image_name)
SYMBOL_ACCESSOR(aegis_symbol_fiber_start, aegis_fiber_start)

    .section .rodata
    .balign 4
default_mxcsr:
    .long 0x1F80
image_name:
    .asciz AEGIS_IMAGE_NAME

/* The runtime's first heap region; AppStartup.Start hands it over, and UserHeap grows the
   heap with frames mapped above it. 512 KiB: fifteen 32 KiB blocks once aligned (the heap's
   tables, reserve and mark stack take three; each size class in use takes one), enough for an
   app to start without asking the kernel for frames. */
#define INITIAL_HEAP_SIZE (512 * 1024)
    .section .bss
    .balign 4096
initial_heap_start:
    .zero INITIAL_HEAP_SIZE
initial_heap_end:

    .section .note.GNU-stack, "", @progbits
