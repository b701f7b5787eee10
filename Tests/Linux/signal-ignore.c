/* signal-ignore: SIG_IGN on SIGUSR1 (kill to self does nothing, the program goes on); SIG_DFL
   of SIGCHLD/SIGURG/SIGWINCH ignores; a blocked ignored signal is pending until unblocked, then
   dropped; SA_RESETHAND makes the handler run once, then SIG_DFL; SA_NODEFER lets the handler be
   interrupted by its own signal; SIGKILL's action cannot be set. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int failures;
static void check(int ok, const char *what) { printf("%s: %s\n", what, ok ? "ok" : "FAILED"); if (!ok) failures++; }

static volatile int hits, depth, max_depth, calls;

static void once(int sig) { (void)sig; hits++; }

static void nested(int sig)
{
    calls++;
    depth++;
    if (depth > max_depth) max_depth = depth;
    if (calls < 3) raise(sig);
    depth--;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("== signal-ignore\n");
    check(signal(SIGUSR1, SIG_IGN) != SIG_ERR, "SIG_IGN on SIGUSR1");
    check(kill(getpid(), SIGUSR1) == 0, "kill self SIGUSR1");
    check(raise(SIGUSR1) == 0, "raise SIGUSR1");
    printf("still running after an ignored SIGUSR1\n");
    raise(SIGCHLD);
    raise(SIGURG);
    raise(SIGWINCH);
    printf("still running after SIGCHLD, SIGURG, SIGWINCH by default\n");

    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    raise(SIGUSR1);
    sigpending(&pending);
    check(sigismember(&pending, SIGUSR1), "blocked and ignored: pending");
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    sigpending(&pending);
    check(!sigismember(&pending, SIGUSR1), "unblocked: dropped");

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = once;
    action.sa_flags = SA_RESETHAND;
    sigaction(SIGUSR2, &action, NULL);
    raise(SIGUSR2);
    struct sigaction now;
    sigaction(SIGUSR2, NULL, &now);
    check(hits == 1 && now.sa_handler == SIG_DFL, "SA_RESETHAND: ran once, then SIG_DFL");

    action.sa_handler = nested;
    action.sa_flags = SA_NODEFER;
    sigaction(SIGUSR2, &action, NULL);
    raise(SIGUSR2);
    check(max_depth == 3, "SA_NODEFER: the handler nested three deep");
    action.sa_flags = 0;
    depth = max_depth = calls = 0;
    sigaction(SIGUSR2, &action, NULL);
    raise(SIGUSR2);
    check(max_depth == 1 && calls == 3, "without SA_NODEFER: each raise inside waits for the return");

    check(sigaction(SIGKILL, &action, NULL) == -1 && errno == EINVAL, "sigaction SIGKILL: EINVAL");
    check(signal(SIGSTOP, SIG_IGN) == SIG_ERR && errno == EINVAL, "SIG_IGN on SIGSTOP: EINVAL");
    printf("failures: %d\n", failures);
    return failures != 0;
}
