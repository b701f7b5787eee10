/*
 * syscallupcall.S - the program side and the libOS side of a system-call upcall, in assembly so
 * that every register is under control (Program.cs; judged by ProtectionSuite.SystemCallUpcall.cs).
 *
 * scu_run(values, number): loads every general register but RSP from values[0..14] (UserRegisters
 * order: r15 r14 r13 r12 r11 r10 r9 r8 rbp rdi rsi rdx rcx rbx rax; rax is replaced by 'number'),
 * executes `syscall` at scu_syscall_site, and right after it pushes RAX, RCX, R11, RDI and RFLAGS
 * (so RSP then points at rflags, rdi, r11, rcx, rax) and stops at the kernel's checkpoint
 * (EnvironmentStop(Self)): the kernel compares every register with the values it derives itself.
 * Once resumed it restores the callee-saved registers and returns.
 *
 * scu_entry: the system-call upcall entry (SetSystemCallUpcall). RSP = RDI = the UpcallFrame. It
 * copies RDI into R12 and stops at a checkpoint (the kernel reads the frame and R12/RSP), then
 * answers the call with RAX = ~number and resumes the program with scu_resume.
 *
 * scu_resume: RSP = an UpcallFrame of kind SystemCall: restores RFLAGS and every register from it
 * and jumps to its RIP with its RSP, as a libOS returns from a Linux system call (RCX = RIP and
 * R11 = RFLAGS, as Linux leaves them). No kernel call.
 *
 * scu_fsgs(fs, gs): sets its FS and GS bases with wrfsbase/wrgsbase, yields 20 times (other
 * environments run in between), reads them back into R12 (FS) and R13 (GS), makes a child with
 * EnvironmentCreate (slot in R14), puts its own FS base back (the runtime's thread pointer) and
 * stops at a checkpoint; the kernel checks R12, R13 and the child's bases.
 */
#include "abi.h"
#define FUNCTION(name) .globl name; .type name, @function; name:
#define REG(name) (UPCALL_FRAME_REGISTERS + USER_REGISTERS_##name)

    .text
FUNCTION(scu_run)
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, scu_saved_rsp(%rip)
    mov %rsi, %rax
    mov 0(%rdi), %r15
    mov 8(%rdi), %r14
    mov 16(%rdi), %r13
    mov 24(%rdi), %r12
    mov 32(%rdi), %r11
    mov 40(%rdi), %r10
    mov 48(%rdi), %r9
    mov 56(%rdi), %r8
    mov 64(%rdi), %rbp
    mov 80(%rdi), %rsi
    mov 88(%rdi), %rdx
    mov 96(%rdi), %rcx
    mov 104(%rdi), %rbx
    mov 72(%rdi), %rdi
    .globl scu_syscall_site
scu_syscall_site:
    syscall
    push %rax
    push %rcx
    push %r11
    push %rdi
    pushfq
    mov $SYSTEM_CALL_ENVIRONMENT_STOP, %eax
    xor %edi, %edi
    syscall
    mov scu_saved_rsp(%rip), %rsp
    cld
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

FUNCTION(scu_entry)
    mov %rdi, %r12
    mov $SYSTEM_CALL_ENVIRONMENT_STOP, %eax
    xor %edi, %edi
    syscall
    notq REG(RAX)(%rsp)
    jmp scu_resume

FUNCTION(scu_resume)
    pushq REG(RFLAGS)(%rsp)
    popfq
    mov REG(R15)(%rsp), %r15
    mov REG(R14)(%rsp), %r14
    mov REG(R13)(%rsp), %r13
    mov REG(R12)(%rsp), %r12
    mov REG(R11)(%rsp), %r11
    mov REG(R10)(%rsp), %r10
    mov REG(R9)(%rsp), %r9
    mov REG(R8)(%rsp), %r8
    mov REG(RBP)(%rsp), %rbp
    mov REG(RDI)(%rsp), %rdi
    mov REG(RSI)(%rsp), %rsi
    mov REG(RDX)(%rsp), %rdx
    mov REG(RBX)(%rsp), %rbx
    mov REG(RAX)(%rsp), %rax
    mov REG(RIP)(%rsp), %rcx
    mov REG(RSP)(%rsp), %rsp
    jmp *%rcx

FUNCTION(scu_fsgs)
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    rdfsbase %rbx
    wrfsbase %rdi
    wrgsbase %rsi
    mov $20, %r15
1:  mov $SYSTEM_CALL_YIELD, %eax
    xor %edi, %edi
    syscall
    dec %r15
    jnz 1b
    rdfsbase %r12
    rdgsbase %r13
    mov $SYSTEM_CALL_ENVIRONMENT_CREATE, %eax
    syscall
    mov %rax, %r14
    wrfsbase %rbx
    mov $SYSTEM_CALL_ENVIRONMENT_STOP, %eax
    xor %edi, %edi
    syscall
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

FUNCTION(scu_entry_address)
    lea scu_entry(%rip), %rax
    ret
FUNCTION(scu_syscall_site_address)
    lea scu_syscall_site(%rip), %rax
    ret

    .bss
    .balign 8
scu_saved_rsp:
    .skip 8

    .section .note.GNU-stack, "", @progbits
