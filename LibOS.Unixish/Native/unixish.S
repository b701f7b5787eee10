/*
 * unixish.S - the machine-level half of LibOS.Unixish:
 *   unixish_fork_capture / unixish_fork_child_entry   fork's register snapshot and the child's
 *                                                      first instructions (ForkContext.cs);
 *   unixish_copy_page                                  4 KiB copy (copy-on-write, dumb fork);
 *   unixish_symbol_*                                   addresses for C#.
 * Invariant: nothing here hard-codes a system-call number; C# passes them in (the ABI is
 * defined once, in Aegis.Abi).
 */
#define FUNCTION(name) .globl name; .type name, @function; name:

/* ForkContext offsets (ForkContext.cs). */
#define CONTEXT_RIP           0
#define CONTEXT_RSP           8
#define CONTEXT_RBX          16
#define CONTEXT_RBP          24
#define CONTEXT_R12          32
#define CONTEXT_R13          40
#define CONTEXT_R14          48
#define CONTEXT_R15          56
#define CONTEXT_FS_BASE      64
#define CONTEXT_MXCSR        72
#define CONTEXT_FPU_CONTROL  76
#define CONTEXT_SET_FS_BASE  80   /* SystemCall.SetFsBase */
#define CONTEXT_SET_UPCALL   88   /* SystemCall.EnvironmentSetUpcall */
#define CONTEXT_UPCALL_ENTRY 96
#define CONTEXT_UPCALL_STACK 104

    .text
    .code64

/* long unixish_fork_capture(ForkContext* context): like setjmp. Saves the callee-saved
   registers, the stack pointer and return address as they will be after this call returns,
   the thread pointer ([FS:0] holds it, TLS variant II) and the SSE/x87 control words; returns
   0. A child started at unixish_fork_child_entry with the same context returns from this call
   a second time, with 1. */
FUNCTION(unixish_fork_capture)
    mov (%rsp), %rax
    mov %rax, CONTEXT_RIP(%rdi)
    lea 8(%rsp), %rax
    mov %rax, CONTEXT_RSP(%rdi)
    mov %rbx, CONTEXT_RBX(%rdi)
    mov %rbp, CONTEXT_RBP(%rdi)
    mov %r12, CONTEXT_R12(%rdi)
    mov %r13, CONTEXT_R13(%rdi)
    mov %r14, CONTEXT_R14(%rdi)
    mov %r15, CONTEXT_R15(%rdi)
    mov %fs:0, %rax
    mov %rax, CONTEXT_FS_BASE(%rdi)
    stmxcsr CONTEXT_MXCSR(%rdi)
    fnstcw CONTEXT_FPU_CONTROL(%rdi)
    xor %eax, %eax
    ret
    .size unixish_fork_capture, . - unixish_fork_capture

/* A forked child's first instruction (EnvironmentStart rip), RDI = its ForkContext, every other
   register zero, FS base zero, no upcall entry. It touches no memory but the context (shared
   read-only, so nothing here can fault): it sets its FS base, registers its own upcall entry
   and stack (from then on faults and IPC reach its libOS, with TLS in place), restores the
   captured registers and returns from unixish_fork_capture with 1. */
FUNCTION(unixish_fork_child_entry)
    mov %rdi, %rbx                      /* the context (system calls keep RBX) */
    mov CONTEXT_SET_FS_BASE(%rbx), %rax
    mov CONTEXT_FS_BASE(%rbx), %rdi
    syscall
    test %rax, %rax
    jnz 1f
    mov CONTEXT_SET_UPCALL(%rbx), %rax
    xor %edi, %edi                      /* CapabilitySlots.Self */
    mov CONTEXT_UPCALL_ENTRY(%rbx), %rsi
    mov CONTEXT_UPCALL_STACK(%rbx), %rdx
    xor %r10d, %r10d                    /* stack pages: the default */
    syscall
    test %rax, %rax
    jnz 1f
    ldmxcsr CONTEXT_MXCSR(%rbx)
    fldcw CONTEXT_FPU_CONTROL(%rbx)
    mov CONTEXT_RBP(%rbx), %rbp
    mov CONTEXT_R12(%rbx), %r12
    mov CONTEXT_R13(%rbx), %r13
    mov CONTEXT_R14(%rbx), %r14
    mov CONTEXT_R15(%rbx), %r15
    mov CONTEXT_RSP(%rbx), %rsp
    mov CONTEXT_RIP(%rbx), %rcx
    mov CONTEXT_RBX(%rbx), %rbx
    xor %edx, %edx
    xor %esi, %esi
    xor %edi, %edi
    mov $1, %eax
    jmp *%rcx
1:  ud2                                 /* no upcall entry yet: the kernel ends the child */
    jmp 1b
    .size unixish_fork_child_entry, . - unixish_fork_child_entry

/* void unixish_copy_page(void* destination, void* source): copies 4096 bytes. */
FUNCTION(unixish_copy_page)
    mov $512, %ecx
    rep movsq
    ret
    .size unixish_copy_page, . - unixish_copy_page

#define SYMBOL_ACCESSOR(name, symbol) FUNCTION(name) lea symbol(%rip), %rax; ret

SYMBOL_ACCESSOR(unixish_symbol_fork_child_entry, unixish_fork_child_entry)
SYMBOL_ACCESSOR(unixish_symbol_image_start, __image_start)
SYMBOL_ACCESSOR(unixish_symbol_image_end, __image_end)

    .section .note.GNU-stack, "", @progbits
