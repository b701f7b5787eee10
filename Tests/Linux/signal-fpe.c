/* signal-fpe: an integer division by zero raises SIGFPE (FPE_INTDIV, si_addr = the divide
   instruction); the handler leaves with siglongjmp (which restores the mask), twice. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

static int failures;
static void check(int ok, const char *what) { printf("%s: %s\n", what, ok ? "ok" : "FAILED"); if (!ok) failures++; }

static sigjmp_buf jump;
static volatile int code, hits, addr_is_rip;

static void jumper(int sig, siginfo_t *info, void *context)
{
    ucontext_t *uc = context;
    (void)sig;
    hits++;
    code = info->si_code;
    addr_is_rip = (uintptr_t)info->si_addr == (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    siglongjmp(jump, 1);
}

static volatile int divisor = 0;

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("== signal-fpe\n");
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = jumper;
    action.sa_flags = SA_SIGINFO;
    check(sigaction(SIGFPE, &action, NULL) == 0, "sigaction SIGFPE");
    volatile int result = -1;
    if (sigsetjmp(jump, 1) == 0) {
        result = 100 / divisor;
        check(0, "division by zero did not trap");
    }
    check(hits == 1, "handler ran");
    check(code == FPE_INTDIV, "si_code FPE_INTDIV");
    check(addr_is_rip, "si_addr is the instruction");
    check(result == -1, "the result was never stored");
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    check(!sigismember(&now, SIGFPE), "siglongjmp restored the mask");
    if (sigsetjmp(jump, 1) == 0) {
        result = 7 / divisor;
    }
    check(hits == 2, "a second division by zero is caught again");
    printf("failures: %d\n", failures);
    return failures != 0;
}
