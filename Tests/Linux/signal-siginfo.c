/* signal-siginfo: raise/kill/sigqueue to self with an SA_SIGINFO handler: si_code (SI_TKILL for
   raise, SI_USER for kill, SI_QUEUE with si_value for sigqueue), si_pid, si_uid; the frame's
   shape as a handler sees it (ucontext 16-aligned, siginfo after it, FP state 64-aligned, the
   red zone skipped, the mask during and after the handler, uc_sigmask = the mask before). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

static int failures;
static void check(int ok, const char *what) { printf("%s: %s\n", what, ok ? "ok" : "FAILED"); if (!ok) failures++; }

static volatile int calls, last_code, last_pid_ok, last_uid_ok, last_value, frame_ok, mask_ok, sigmask_ok;

static void handler(int sig, siginfo_t *info, void *context)
{
    ucontext_t *uc = context;
    calls++;
    last_code = info->si_code;
    last_pid_ok = info->si_pid == getpid();
    last_uid_ok = info->si_uid == getuid();
    last_value = info->si_code == SI_QUEUE ? info->si_value.sival_int : -1;
    uintptr_t u = (uintptr_t)uc, s = (uintptr_t)info;
    frame_ok = u % 16 == 0 && s - u == 304 && (uintptr_t)uc->uc_mcontext.fpregs % 64 == 0
        && (uintptr_t)uc->uc_mcontext.fpregs >= s + 128
        && (uintptr_t)uc->uc_mcontext.gregs[REG_RSP] >= u + 128 && info->si_signo == sig;
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    mask_ok = sigismember(&now, SIGUSR1) && sigismember(&now, SIGUSR2) && !sigismember(&now, SIGINT);
    sigmask_ok = !sigismember(&uc->uc_sigmask, SIGUSR1) && sigismember(&uc->uc_sigmask, SIGHUP);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("== signal-siginfo\n");
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    sigprocmask(SIG_BLOCK, &hup, NULL);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = handler;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    sigaddset(&action.sa_mask, SIGUSR2);
    check(sigaction(SIGUSR1, &action, NULL) == 0, "sigaction SIGUSR1");
    struct sigaction back;
    sigaction(SIGUSR1, NULL, &back);
    check(back.sa_sigaction == handler && (back.sa_flags & SA_SIGINFO) && sigismember(&back.sa_mask, SIGUSR2), "sigaction reads back");

    check(raise(SIGUSR1) == 0, "raise");
    check(calls == 1, "handler ran before raise returned");
    check(last_code == SI_TKILL, "raise: si_code SI_TKILL");
    check(last_pid_ok && last_uid_ok, "raise: si_pid and si_uid");
    check(frame_ok, "frame shape (alignment, siginfo after ucontext, red zone)");
    check(mask_ok, "in the handler: the signal and sa_mask blocked");
    check(sigmask_ok, "uc_sigmask is the mask before");

    check(kill(getpid(), SIGUSR1) == 0, "kill self");
    check(calls == 2 && last_code == SI_USER && last_pid_ok, "kill: si_code SI_USER, si_pid");

    union sigval value = { .sival_int = 1234 };
    check(sigqueue(getpid(), SIGUSR1, value) == 0, "sigqueue self");
    check(calls == 3 && last_code == SI_QUEUE && last_value == 1234, "sigqueue: SI_QUEUE and si_value");

    sigset_t after;
    sigprocmask(SIG_BLOCK, NULL, &after);
    check(!sigismember(&after, SIGUSR1) && !sigismember(&after, SIGUSR2) && sigismember(&after, SIGHUP), "mask restored by sigreturn");
    check(kill(getpid(), 0) == 0, "kill self with signal 0");
    check(kill(getpid(), 65) == -1 && errno == EINVAL, "kill with signal 65: EINVAL");
    printf("failures: %d\n", failures);
    return failures != 0;
}
