/* Reads a signal frame written by LibOS.Unixish's SignalFrame (a file: the frame's bytes from
   address BASE, given as argv[2]) the way a handler does, through glibc's ucontext_t and
   siginfo_t, and prints what it finds, for LinuxSignalFrameTests. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>

int main(int argc, char **argv)
{
    static unsigned char bytes[8192] __attribute__((aligned(64)));
    FILE *file = fopen(argv[1], "rb");
    size_t length = fread(bytes, 1, sizeof bytes, file);
    fclose(file);
    uintptr_t base = strtoull(argv[2], NULL, 0);
    /* As at the handler's entry: RSP = frame, RSI = frame + 312, RDX = frame + 8. */
    ucontext_t *uc = (ucontext_t *)(bytes + 8);
    siginfo_t *si = (siginfo_t *)(bytes + 312);
    printf("length %zu\n", length);
    printf("pretcode 0x%lx\n", *(unsigned long *)bytes);
    printf("uc_flags 0x%lx\n", uc->uc_flags);
    printf("uc_link %p\n", (void *)uc->uc_link);
    printf("ss_sp 0x%lx ss_flags %d ss_size %zu\n", (unsigned long)uc->uc_stack.ss_sp, uc->uc_stack.ss_flags, uc->uc_stack.ss_size);
    static const char *names[] = { "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15", "RDI", "RSI", "RBP", "RBX",
        "RDX", "RAX", "RCX", "RSP", "RIP", "EFL", "CSGSFS", "ERR", "TRAPNO", "OLDMASK", "CR2" };
    for (int i = 0; i < NGREG; i++)
        printf("%s 0x%llx\n", names[i], (unsigned long long)uc->uc_mcontext.gregs[i]);
    printf("fpregs_offset %ld\n", (long)((uintptr_t)uc->uc_mcontext.fpregs - base));
    unsigned char *fp = bytes + ((uintptr_t)uc->uc_mcontext.fpregs - base);
    struct _libc_fpstate *fpstate = (struct _libc_fpstate *)fp;
    printf("cwd 0x%x mxcsr 0x%x xmm0 0x%x\n", fpstate->cwd, fpstate->mxcsr, fpstate->_xmm[0].element[0]);
    printf("magic1 0x%x\n", *(unsigned *)(fp + 464));
    printf("sigmask 0x%lx\n", *(unsigned long *)&uc->uc_sigmask);
    printf("si_signo %d si_errno %d si_code %d\n", si->si_signo, si->si_errno, si->si_code);
    printf("si_pid %d si_uid %u si_addr %p si_status %d si_value %p\n", si->si_pid, si->si_uid, si->si_addr, si->si_status, si->si_value.sival_ptr);
    return 0;
}
