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
FUNCTION(aegis_inw)
    mov %edi, %edx
    xor %eax, %eax
    inw %dx, %ax
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
    mov aegis_cr3_load_counter(%rip), %rax
    incq (%rax)
    ret
/* aegis_set_cr3_load_counter(counter): every CR3 load from now on adds one to *counter
   (InfoPage.AddressSpaceLoads; a word of this file until Environments.Initialize sets it). */
FUNCTION(aegis_set_cr3_load_counter)
    mov %rdi, aegis_cr3_load_counter(%rip)
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
/* void aegis_zero_page(void* page): 4096 zero bytes at page (frames for users and page tables).
   Sixteen 16-byte stores a round, 16 rounds: 291 instructions, where `rep stosq` counted 512
   under -icount (one an iteration) and a C# loop about four a word. xmm0 is a scratch register
   here like anywhere in kernel code: every entry from ring 3 that can reach this saved the SSE
   state (interrupts.S) or clears it on the way out (the fast system calls). */
FUNCTION(aegis_zero_page)
    pxor %xmm0, %xmm0
    lea 4096(%rdi), %rax
    mov $-4096, %rcx
1:  movaps %xmm0, (%rax,%rcx)
    movaps %xmm0, 16(%rax,%rcx)
    movaps %xmm0, 32(%rax,%rcx)
    movaps %xmm0, 48(%rax,%rcx)
    movaps %xmm0, 64(%rax,%rcx)
    movaps %xmm0, 80(%rax,%rcx)
    movaps %xmm0, 96(%rax,%rcx)
    movaps %xmm0, 112(%rax,%rcx)
    movaps %xmm0, 128(%rax,%rcx)
    movaps %xmm0, 144(%rax,%rcx)
    movaps %xmm0, 160(%rax,%rcx)
    movaps %xmm0, 176(%rax,%rcx)
    movaps %xmm0, 192(%rax,%rcx)
    movaps %xmm0, 208(%rax,%rcx)
    movaps %xmm0, 224(%rax,%rcx)
    movaps %xmm0, 240(%rax,%rcx)
    add $256, %rcx
    jnz 1b
    ret
/* void aegis_copy_page(void* destination, const void* source): 4096 bytes (rep movsq: 512
   moves; copy-on-write faults the kernel resolves, UserPageTables.CopyOnWrite.cs). */
FUNCTION(aegis_copy_page)
    mov $512, %ecx
    rep movsq
    ret
/* long aegis_scan_nonzero(const ulong* table, long index, long limit): the first i in [index,
   limit) with table[i] != 0, or limit (index >= limit: limit). repe scasq: one instruction an
   entry under -icount, where a C# loop took about 1.75 (UserPageTables.NextPresent: teardown and
   the walks over page tables). */
FUNCTION(aegis_scan_nonzero)
    mov %rdx, %rcx
    sub %rsi, %rcx
    jle 1f
    lea (%rdi,%rsi,8), %rdi
    xor %eax, %eax
    repe scasq
    je 1f
    mov %rdx, %rax
    sub %rcx, %rax
    dec %rax
    ret
1:  mov %rdx, %rax
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
FUNCTION(aegis_pause)
    pause
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
/* Switching environments (Exo/Scheduler.cs), and each environment's FS and GS base:
   bases[0] = FS, bases[1] = GS. In every kernel path but the syscall entry's swapgs window (the
   fast-path handlers), the GS base register holds the running program's GS base and
   KERNEL_GS_BASE the per-CPU block: interrupts never swapgs and the syscall slow path swaps back
   before the managed code runs. The scheduler runs in that state, so these read and write the
   program's values directly. With CR4.FSGSBASE (Cpu.EnableProtectionFeatures) they are the
   rd/wr{fs,gs}base instructions; without it, Cpu patches the 5-byte instruction at each
   user_bases_site_* into a jmp to its MSR twin below, which finishes the function.
   One function per switch (instead of a call per step) keeps the switch as cheap as before the
   bases were kept (the IPC round trip switches twice).

   aegis_enter_environment(nextBases, counters, root): CR3 = root (unless already), the per-CPU
   block's word 2 = counters, FS and GS = nextBases. From the loop (Scheduler.Switch). */
FUNCTION(aegis_enter_environment)
    mov %cr3, %rax
    cmp %rax, %rdx
    je 1f
    mov %rdx, %cr3
    mov aegis_cr3_load_counter(%rip), %rax
    incq (%rax)
1:  mov %rsi, aegis_cpu_block+16(%rip)
    .globl user_bases_site_enter
user_bases_site_enter:
    {disp32} mov 0(%rdi), %rax          /* 48 8b 87 + disp32: 7 bytes, the patch site */
    wrfsbase %rax
    mov 8(%rdi), %rax
    wrgsbase %rax
    ret
/* aegis_switch_environment(previousBases, nextBases, counters, root): as aegis_enter_environment,
   first saving the live FS and GS bases into previousBases (Scheduler.SwitchDirect). */
FUNCTION(aegis_switch_environment)
    mov %cr3, %rax
    cmp %rax, %rcx
    je 1f
    mov %rcx, %cr3
    mov aegis_cr3_load_counter(%rip), %rax
    incq (%rax)
1:  mov %rdx, aegis_cpu_block+16(%rip)
user_bases_site_switch:
    rdfsbase %rax                       /* f3 48 0f ae c0: 5 bytes, the patch site */
    mov %rax, (%rdi)
    rdgsbase %rax
    mov %rax, 8(%rdi)
    mov (%rsi), %rax
    wrfsbase %rax
    mov 8(%rsi), %rax
    wrgsbase %rax
    ret
/* aegis_save_user_bases(bases, kernelFs): saves the live FS and GS bases, loads kernelFs into FS
   (back in the loop: Scheduler.Switch). */
FUNCTION(aegis_save_user_bases)
user_bases_site_save:
    rdfsbase %rax                       /* the patch site */
    mov %rax, (%rdi)
    rdgsbase %rax
    mov %rax, 8(%rdi)
    wrfsbase %rsi
    ret

/* The MSR twins (FS base 0xC0000100, GS base 0xC0000101): for CPUs without FSGSBASE, where
   ring 3 cannot change the bases, but the same save/load keeps one code path above them. */
msr_save_user_bases:
    mov %rsi, %r8
    mov $0xC0000100, %ecx
    rdmsr
    mov %eax, (%rdi)
    mov %edx, 4(%rdi)
    mov $0xC0000101, %ecx
    rdmsr
    mov %eax, 8(%rdi)
    mov %edx, 12(%rdi)
    mov $0xC0000100, %ecx
    mov %r8, %rax
    mov %r8, %rdx
    shr $32, %rdx
    wrmsr
    ret
msr_load_user_bases:
    mov $0xC0000100, %ecx
    mov (%rdi), %eax
    mov 4(%rdi), %edx
    wrmsr
    mov $0xC0000101, %ecx
    mov 8(%rdi), %eax
    mov 12(%rdi), %edx
    wrmsr
    ret
msr_switch_user_bases:
    mov $0xC0000100, %ecx
    rdmsr
    mov %eax, (%rdi)
    mov %edx, 4(%rdi)
    mov $0xC0000101, %ecx
    rdmsr
    mov %eax, 8(%rdi)
    mov %edx, 12(%rdi)
    mov %rsi, %rdi
    jmp msr_load_user_bases

/* ulong aegis_read_gs_base() / aegis_read_fs_base(): the live values (MSRs: any CPU);
   aegis_read_kernel_gs_base(): KERNEL_GS_BASE, the program's GS base inside the swapgs window. */
FUNCTION(aegis_read_fs_base)
    mov $0xC0000100, %ecx
    rdmsr
    shl $32, %rdx
    or %rdx, %rax
    ret
FUNCTION(aegis_read_gs_base)
    mov $0xC0000101, %ecx
    rdmsr
    shl $32, %rdx
    or %rdx, %rax
    ret

FUNCTION(aegis_read_kernel_gs_base)
    mov $0xC0000102, %ecx
    rdmsr
    shl $32, %rdx
    or %rdx, %rax
    ret

/* The patch table for Cpu.cs: (site, MSR twin) pairs. */
FUNCTION(aegis_symbol_user_base_patches)
    lea user_base_patches(%rip), %rax
    ret
    .section .rodata
    .balign 8
user_base_patches:
    .quad user_bases_site_save, msr_save_user_bases
    .quad user_bases_site_enter, msr_load_user_bases
    .quad user_bases_site_switch, msr_switch_user_bases
    .text

FUNCTION(aegis_read_rflags)
    pushfq
    pop %rax
    ret
FUNCTION(aegis_breakpoint)
    int3
    ret

/* The counter the CR3 loads above add to (aegis_set_cr3_load_counter), first a word of its own. */
    .data
    .balign 8
aegis_cr3_load_counter:
    .quad aegis_cr3_loads_before_info
aegis_cr3_loads_before_info:
    .quad 0
