/* signal-segv: a SIGSEGV handler repairs the fault (mprotect) and returns; the faulting store is
   executed again and completes. Checks si_signo/si_code/si_addr and that the handler ran once
   per fault. Prints only facts that are the same on Linux and Aegis. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int failures;
static void check(int ok, const char *what) { printf("%s: %s\n", what, ok ? "ok" : "FAILED"); if (!ok) failures++; }

static char *page;
static volatile int faults, code, signo, addr_ok;

static void handler(int sig, siginfo_t *info, void *context)
{
    (void)context;
    faults++;
    signo = info->si_signo;
    code = info->si_code;
    addr_ok = (char *)info->si_addr == page + 100;
    if (sig == SIGSEGV)
        mprotect(page, 4096, PROT_READ | PROT_WRITE);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("== signal-segv\n");
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = handler;
    action.sa_flags = SA_SIGINFO;
    check(sigaction(SIGSEGV, &action, NULL) == 0, "sigaction SIGSEGV");
    page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(page != MAP_FAILED, "mmap read-only page");
    volatile char *target = page + 100;
    *target = 42;  /* faults: SEGV_ACCERR; the handler makes the page writable; the store runs again */
    check(faults == 1, "handler ran once");
    check(signo == SIGSEGV, "si_signo SIGSEGV");
    check(code == SEGV_ACCERR, "si_code SEGV_ACCERR");
    check(addr_ok, "si_addr is the faulting address");
    check(page[100] == 42, "the store completed after the handler returned");

    /* A second fault on a PROT_NONE page, by a load: the handler makes it writable again. */
    faults = 0;
    check(mprotect(page, 4096, PROT_NONE) == 0, "mprotect PROT_NONE");
    volatile int *value = (volatile int *)(page + 100);
    int seen = *value;
    check(faults == 1 && code == SEGV_ACCERR && addr_ok && seen == 42, "load from PROT_NONE repaired and read");

    /* The mask in the handler: SIGSEGV blocked while it runs, unblocked after. */
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    check(!sigismember(&now, SIGSEGV), "SIGSEGV unblocked after the handler returned");
    printf("failures: %d\n", failures);
    return failures != 0;
}
