/*
 * cpu.S - the kernel's hardware primitives, one small function each (System V ABI:
 * arguments in rdi, rsi, rdx, rcx; result in rax). Called from Hal/Cpu.cs. Kernel entry and
 * exit are elsewhere in Arch/x86_64 (interrupts.S, usermode.S); boot code is in Boot/.
 */
    .text
    .code64

#include "entry.h"

FUNCTION(aegis_outb)
    mov %esi, %eax
    mov %edi, %edx
    outb %al, %dx
    ret
FUNCTION(aegis_inb)
    mov %edi, %edx
    xor %eax, %eax
    inb %dx, %al
    ret
FUNCTION(aegis_outw)
    mov %esi, %eax
    mov %edi, %edx
    outw %ax, %dx
    ret
FUNCTION(aegis_outl)
    mov %esi, %eax
    mov %edi, %edx
    outl %eax, %dx
    ret
FUNCTION(aegis_inl)
    mov %edi, %edx
    inl %dx, %eax
    ret
FUNCTION(aegis_read_cr0)
    mov %cr0, %rax
    ret
FUNCTION(aegis_read_cr2)
    mov %cr2, %rax
    ret
FUNCTION(aegis_read_cr3)
    mov %cr3, %rax
    ret
FUNCTION(aegis_write_cr3)
    mov %rdi, %cr3
    ret
FUNCTION(aegis_read_cr4)
    mov %cr4, %rax
    ret
FUNCTION(aegis_write_cr4)
    mov %rdi, %cr4
    ret
FUNCTION(aegis_invlpg)
    invlpg (%rdi)
    ret
FUNCTION(aegis_rdtsc)
    rdtsc
    shl $32, %rdx
    or %rdx, %rax
    ret
FUNCTION(aegis_rdmsr)
    mov %edi, %ecx
    rdmsr
    shl $32, %rdx
    or %rdx, %rax
    ret
FUNCTION(aegis_wrmsr)
    mov %edi, %ecx
    mov %rsi, %rax
    mov %rsi, %rdx
    shr $32, %rdx
    wrmsr
    ret
/* aegis_cpuid(leaf, subleaf, uint32 registers[4]) -> eax, ebx, ecx, edx */
FUNCTION(aegis_cpuid)
    push %rbx
    mov %rdx, %r8
    mov %edi, %eax
    mov %esi, %ecx
    cpuid
    mov %eax, 0(%r8)
    mov %ebx, 4(%r8)
    mov %ecx, 8(%r8)
    mov %edx, 12(%r8)
    pop %rbx
    ret
FUNCTION(aegis_lgdt)
    lgdt (%rdi)
    ret
FUNCTION(aegis_lidt)
    lidt (%rdi)
    ret
FUNCTION(aegis_ltr)
    ltr %di
    ret
/* aegis_reload_segments(code selector, data selector): far return into the new CS.
   FS and GS are left alone: loading a selector into them would reset their 64-bit bases
   (FS base = the thread pointer for thread-local storage). */
FUNCTION(aegis_reload_segments)
    mov %si, %ds
    mov %si, %es
    mov %si, %ss
    pop %rax
    push %rdi
    push %rax
    lretq
FUNCTION(aegis_enable_interrupts)
    sti
    ret
FUNCTION(aegis_disable_interrupts)
    cli
    ret
FUNCTION(aegis_halt)
    sti
    hlt
    ret
FUNCTION(aegis_halt_forever)
    cli
1:  hlt
    jmp 1b
FUNCTION(aegis_read_rbp)
    mov %rbp, %rax
    ret
FUNCTION(aegis_read_rsp)
    lea 8(%rsp), %rax
    ret
FUNCTION(aegis_write_fs_base)
    mov $0xC0000100, %ecx
    mov %rdi, %rax
    mov %rdi, %rdx
    shr $32, %rdx
    wrmsr
    ret
FUNCTION(aegis_read_rflags)
    pushfq
    pop %rax
    ret
FUNCTION(aegis_breakpoint)
    int3
    ret
