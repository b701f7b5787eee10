/* signal-mask: a blocked signal stays pending (sigpending shows it) and is delivered when
   unblocked, before sigprocmask returns; two pending signals unblocked together are delivered
   with the higher one's handler first (Linux builds the lower one's frame, then the higher's on
   top of it); a standard signal sent twice while blocked is delivered once; a real-time signal
   queues. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int failures;
static void check(int ok, const char *what) { printf("%s: %s\n", what, ok ? "ok" : "FAILED"); if (!ok) failures++; }

static volatile int order[16], count;

static void handler(int sig) { if (count < 16) order[count++] = sig; }

static void install(int sig)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    sigaction(sig, &action, NULL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("== signal-mask\n");
    install(SIGUSR1);
    install(SIGUSR2);
    install(SIGRTMIN + 2);
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGRTMIN + 2);
    check(sigprocmask(SIG_BLOCK, &set, NULL) == 0, "block SIGUSR1, SIGUSR2, SIGRTMIN+2");
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGUSR1);
    check(count == 0, "blocked: not delivered");
    sigpending(&pending);
    check(sigismember(&pending, SIGUSR1) && !sigismember(&pending, SIGUSR2), "sigpending shows SIGUSR1 only");
    kill(getpid(), SIGUSR2);
    sigqueue(getpid(), SIGRTMIN + 2, (union sigval){ .sival_int = 1 });
    sigqueue(getpid(), SIGRTMIN + 2, (union sigval){ .sival_int = 2 });
    check(sigprocmask(SIG_UNBLOCK, &set, NULL) == 0, "unblock");
    printf("delivered %d:", count);
    for (int i = 0; i < count; i++) printf(" %s", order[i] == SIGUSR1 ? "USR1" : order[i] == SIGUSR2 ? "USR2" : "RTMIN+2");
    printf("\n");
    check(count == 4, "SIGUSR1 once (coalesced), SIGUSR2 once, SIGRTMIN+2 twice (queued)");
    sigpending(&pending);
    check(sigisemptyset(&pending), "nothing pending after");

    /* SIG_SETMASK returns the old mask; SIGKILL and SIGSTOP cannot be blocked. */
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    sigprocmask(SIG_SETMASK, NULL, &old);
    check(!sigismember(&old, SIGKILL) && !sigismember(&old, SIGSTOP) && sigismember(&old, SIGTERM), "SIGKILL/SIGSTOP never blocked");
    sigemptyset(&set);
    sigprocmask(SIG_SETMASK, &set, NULL);
    check(sigprocmask(5, &set, NULL) == -1, "bad how: EINVAL");
    printf("failures: %d\n", failures);
    return failures != 0;
}
