/* Prints the host's (glibc + kernel headers) signal layouts and constants as "name value" lines,
   for LinuxSignalLayoutTests to compare with LibOS.Unixish/Linux/Signals. Built at test time. */
#define _GNU_SOURCE
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <ucontext.h>

#define P(name, value) printf("%s %ld\n", name, (long)(value))

int main(void)
{
    P("uc_flags", offsetof(ucontext_t, uc_flags));
    P("uc_link", offsetof(ucontext_t, uc_link));
    P("uc_stack", offsetof(ucontext_t, uc_stack));
    P("uc_mcontext", offsetof(ucontext_t, uc_mcontext));
    P("uc_sigmask", offsetof(ucontext_t, uc_sigmask));
    P("ss_sp", offsetof(stack_t, ss_sp));
    P("ss_flags", offsetof(stack_t, ss_flags));
    P("ss_size", offsetof(stack_t, ss_size));
    P("gregs", offsetof(mcontext_t, gregs));
    P("fpregs", offsetof(mcontext_t, fpregs));
    P("NGREG", NGREG);
    P("REG_R8", REG_R8); P("REG_R9", REG_R9); P("REG_R10", REG_R10); P("REG_R11", REG_R11);
    P("REG_R12", REG_R12); P("REG_R13", REG_R13); P("REG_R14", REG_R14); P("REG_R15", REG_R15);
    P("REG_RDI", REG_RDI); P("REG_RSI", REG_RSI); P("REG_RBP", REG_RBP); P("REG_RBX", REG_RBX);
    P("REG_RDX", REG_RDX); P("REG_RAX", REG_RAX); P("REG_RCX", REG_RCX); P("REG_RSP", REG_RSP);
    P("REG_RIP", REG_RIP); P("REG_EFL", REG_EFL); P("REG_CSGSFS", REG_CSGSFS); P("REG_ERR", REG_ERR);
    P("REG_TRAPNO", REG_TRAPNO); P("REG_OLDMASK", REG_OLDMASK); P("REG_CR2", REG_CR2);
    P("sizeof_siginfo", sizeof(siginfo_t));
    P("si_signo", offsetof(siginfo_t, si_signo));
    P("si_errno", offsetof(siginfo_t, si_errno));
    P("si_code", offsetof(siginfo_t, si_code));
    P("si_pid", offsetof(siginfo_t, si_pid));
    P("si_uid", offsetof(siginfo_t, si_uid));
    P("si_status", offsetof(siginfo_t, si_status));
    P("si_utime", offsetof(siginfo_t, si_utime));
    P("si_stime", offsetof(siginfo_t, si_stime));
    P("si_value", offsetof(siginfo_t, si_value));
    P("si_addr", offsetof(siginfo_t, si_addr));
    P("si_overrun", offsetof(siginfo_t, si_overrun));
    P("si_band", offsetof(siginfo_t, si_band));
    P("si_fd", offsetof(siginfo_t, si_fd));
    P("si_call_addr", offsetof(siginfo_t, si_call_addr));
    P("si_syscall", offsetof(siginfo_t, si_syscall));
    P("si_arch", offsetof(siginfo_t, si_arch));
    P("SA_NOCLDSTOP", SA_NOCLDSTOP); P("SA_NOCLDWAIT", SA_NOCLDWAIT); P("SA_SIGINFO", SA_SIGINFO);
    P("SA_ONSTACK", SA_ONSTACK); P("SA_RESTART", SA_RESTART); P("SA_NODEFER", SA_NODEFER);
    P("SA_RESETHAND", (unsigned long)(unsigned)SA_RESETHAND); P("SA_RESTORER", 0x04000000);
    P("SIG_BLOCK", SIG_BLOCK); P("SIG_UNBLOCK", SIG_UNBLOCK); P("SIG_SETMASK", SIG_SETMASK);
    P("SS_ONSTACK", SS_ONSTACK); P("SS_DISABLE", SS_DISABLE);
    P("SI_USER", SI_USER); P("SI_KERNEL", SI_KERNEL); P("SI_QUEUE", SI_QUEUE); P("SI_TIMER", SI_TIMER);
    P("SI_TKILL", SI_TKILL); P("ILL_ILLOPN", ILL_ILLOPN); P("FPE_INTDIV", FPE_INTDIV); P("FPE_FLTINV", FPE_FLTINV);
    P("FPE_FLTDIV", FPE_FLTDIV); P("SEGV_MAPERR", SEGV_MAPERR); P("SEGV_ACCERR", SEGV_ACCERR);
    P("BUS_ADRALN", BUS_ADRALN); P("TRAP_TRACE", TRAP_TRACE); P("CLD_EXITED", CLD_EXITED); P("CLD_STOPPED", CLD_STOPPED);
    P("SIGSTKFLT", SIGSTKFLT); P("SIGCHLD", SIGCHLD); P("SIGCONT", SIGCONT); P("SIGSTOP", SIGSTOP);
    P("SIGTSTP", SIGTSTP); P("SIGTTOU", SIGTTOU); P("SIGURG", SIGURG); P("SIGWINCH", SIGWINCH); P("SIGIO", SIGIO);
    P("SIGPWR", SIGPWR); P("SIGSYS", SIGSYS); P("SIGUSR1", SIGUSR1); P("SIGALRM", SIGALRM); P("SIGVTALRM", SIGVTALRM);
    P("SIGPROF", SIGPROF);
    return 0;
}
