/*
 * boot.S - the first instructions of Aegis.
 * GRUB (multiboot2) enters _start in 32-bit protected mode with paging off, EAX = magic,
 * EBX = physical address of the boot information. This stub checks the CPU, builds
 * temporary page tables (identity map of the first 4 GiB and the kernel's higher-half
 * window at 0xFFFFFFFF80000000 -> physical 0), enters 64-bit long mode with SSE on, moves to
 * the higher half and calls the managed entry point aegis_kernel_main(magic, info).
 * Symbols in .boot.* are linked at their physical addresses; PHYS() converts the others.
 * The kernel replaces these tables with its own as soon as it has a frame allocator.
 */
#define KERNEL_VMA 0xFFFFFFFF80000000
#define PHYS(x) ((x) - KERNEL_VMA)

    .section .multiboot, "a"
    .balign 8
multiboot2_header:
    .long 0xE85250D6                      /* magic */
    .long 0                               /* architecture: i386 protected mode */
    .long multiboot2_header_end - multiboot2_header
    .long -(0xE85250D6 + 0 + (multiboot2_header_end - multiboot2_header))
    .balign 8
    .short 0, 0                           /* end tag */
    .long 8
multiboot2_header_end:

    .section .boot.text, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    mov $PHYS(boot_stack_top), %esp
    mov %eax, %edi                        /* keep magic and info for the managed entry */
    mov %ebx, %esi

    cmp $0x36D76289, %eax
    jne .Lnot_multiboot2

    /* Long mode available? CPUID 0x80000001 EDX bit 29. */
    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb .Lno_long_mode
    mov $0x80000001, %eax
    cpuid
    test $(1 << 29), %edx
    jz .Lno_long_mode
    mov %edx, %ebp                        /* EDX bit 20 = NX support, used below */

    /* PML4[0] -> low PDPT (identity 0..4 GiB), PML4[511] -> high PDPT. */
    mov $PHYS(boot_pdpt_low), %eax
    or $3, %eax
    mov %eax, PHYS(boot_pml4)
    mov $PHYS(boot_pdpt_high), %eax
    or $3, %eax
    mov %eax, PHYS(boot_pml4) + 511 * 8

    /* Low PDPT entries 0..3 -> the four page directories. */
    mov $PHYS(boot_pd), %eax
    or $3, %eax
    mov $0, %ecx
1:  mov %eax, PHYS(boot_pdpt_low)(,%ecx,8)
    add $4096, %eax
    inc %ecx
    cmp $4, %ecx
    jne 1b

    /* High PDPT entries 510, 511 -> directories for physical 0..1 GiB and 1..2 GiB. */
    mov $PHYS(boot_pd), %eax
    or $3, %eax
    mov %eax, PHYS(boot_pdpt_high) + 510 * 8
    add $4096, %eax
    mov %eax, PHYS(boot_pdpt_high) + 511 * 8

    /* 2048 directory entries of 2 MiB pages: present, writable, large. */
    mov $0, %ecx
2:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax
    mov %eax, PHYS(boot_pd)(,%ecx,8)
    mov %ecx, %eax
    shr $11, %eax                         /* high dword: bits 32+ of the address */
    mov %eax, PHYS(boot_pd) + 4(,%ecx,8)
    inc %ecx
    cmp $2048, %ecx
    jne 2b

    mov $PHYS(boot_pml4), %eax
    mov %eax, %cr3

    mov %cr4, %eax
    or $(1 << 5), %eax                    /* PAE */
    mov %eax, %cr4

    mov $0xC0000080, %ecx                 /* EFER */
    rdmsr
    or $(1 << 8), %eax                    /* LME */
    test $(1 << 20), %ebp
    jz 3f
    or $(1 << 11), %eax                   /* NXE when the CPU has NX */
3:  wrmsr

    mov %cr0, %eax
    or $((1 << 31) | (1 << 16) | 1), %eax /* PG, WP, PE */
    mov %eax, %cr0

    lgdt boot_gdt_pointer
    ljmp $0x08, $long_mode_entry

.Lnot_multiboot2:
    mov $message_not_multiboot2, %ebx
    jmp boot_fail32
.Lno_long_mode:
    mov $message_no_long_mode, %ebx
    jmp boot_fail32

/* Prints the NUL-terminated message at EBX to COM1 and the VGA screen, then halts. */
boot_fail32:
    mov $0xB8000, %edi
4:  movb (%ebx), %al
    test %al, %al
    jz 6f
    movb %al, (%edi)
    movb $0x4F, 1(%edi)
    add $2, %edi
    mov $0x3FD, %dx
5:  inb %dx, %al
    test $0x20, %al
    jz 5b
    movb (%ebx), %al
    mov $0x3F8, %dx
    outb %al, %dx
    inc %ebx
    jmp 4b
6:  cli
    hlt
    jmp 6b

    .code64
long_mode_entry:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    movabs $higher_half_entry, %rax
    jmp *%rax

    .section .boot.data, "aw"
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF              /* 0x08: 64-bit code */
    .quad 0x00CF92000000FFFF              /* 0x10: data */
boot_gdt_end:
boot_gdt_pointer:
    .short boot_gdt_end - boot_gdt - 1
    .long boot_gdt
message_not_multiboot2:
    .asciz "Aegis: not started by a multiboot2 loader (bad magic in EAX). Boot the ISO through GRUB."
message_no_long_mode:
    .asciz "Aegis: this CPU has no 64-bit long mode; Aegis needs an x86-64 processor."

    .section .text
    .code64
higher_half_entry:
    movabs $kernel_stack_top, %rsp
    xor %rbp, %rbp
    /* SSE: CR0.EM = 0, CR0.MP = 1; CR4.OSFXSR and CR4.OSXMMEXCPT. Managed code uses SSE. */
    mov %cr0, %rax
    and $~(1 << 2), %rax
    or $(1 << 1), %rax
    mov %rax, %cr0
    mov %cr4, %rax
    or $((1 << 9) | (1 << 10)), %rax
    mov %rax, %cr4
    /* System V: rdi = multiboot2 magic, rsi = physical address of the boot information. */
    mov %edi, %edi
    mov %esi, %esi
    call aegis_kernel_main
7:  cli
    hlt
    jmp 7b

    .section .bss
    .balign 4096
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pdpt_high: .skip 4096
boot_pd:        .skip 4096 * 4
boot_stack:     .skip 16384
boot_stack_top:
    /* The kernel stack. The page below it is left unmapped by the kernel's page tables,
       so an overflow faults (on an IST stack) instead of silently corrupting memory. */
    .balign 4096
    .globl kernel_stack_guard
kernel_stack_guard: .skip 4096
    .globl kernel_stack_bottom
kernel_stack_bottom: .skip 262144
    .globl kernel_stack_top
kernel_stack_top:
    /* The first heap region, used until the frame allocator can hand out more. */
    .balign 4096
    .globl early_heap_start
early_heap_start: .skip 4 * 1024 * 1024
    .globl early_heap_end
early_heap_end:
