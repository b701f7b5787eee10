/*
 * linuxfiles.S - what the Linux personality's VFS (LibOS.Unixish/Linux/Files) needs from the machine:
 *   aegis_linuxfiles_rootfs_start/_end   the root file-system archive the build embeds in the image
 *                                        (symbols aegis_rootfs_start/aegis_rootfs_end; weak: 0 in
 *                                        an image without one, so every image that links
 *                                        LibOS.Unixish still links);
 *   aegis_linuxfiles_cpuid               CPUID (vendor, model name for /proc/cpuinfo; RDRAND bit);
 *   aegis_linuxfiles_rdrand              one RDRAND value (/dev/random), retried as Intel advises.
 */
#define FUNCTION(name) .globl name; .type name, @function; name:

    .weak aegis_rootfs_start
    .weak aegis_rootfs_end

    .text
    .code64

FUNCTION(aegis_linuxfiles_rootfs_start)
    movabs $aegis_rootfs_start, %rax
    ret

FUNCTION(aegis_linuxfiles_rootfs_end)
    movabs $aegis_rootfs_end, %rax
    ret

/* void aegis_linuxfiles_cpuid(uint leaf (edi), uint subleaf (esi), uint* out4 (rdx)): eax, ebx, ecx, edx. */
FUNCTION(aegis_linuxfiles_cpuid)
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

/* int aegis_linuxfiles_rdrand(ulong* out (rdi)): 1 and *out = a random value, or 0 after 10 failed tries. */
FUNCTION(aegis_linuxfiles_rdrand)
    mov $10, %ecx
1:  rdrand %rax
    jc 2f
    dec %ecx
    jnz 1b
    xor %eax, %eax
    ret
2:  mov %rax, (%rdi)
    mov $1, %eax
    ret
