/* signal-altstack: an SA_ONSTACK handler runs on the alternate stack (a local's address is
   inside it; sigaltstack reports SS_ONSTACK there and refuses changes with EPERM); without
   SA_ONSTACK it runs on the normal stack; after it returns the stack is no longer in use; a
   too-small stack is ENOMEM; a handler for a stack overflow runs on the alternate stack. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int failures;
static void check(int ok, const char *what) { printf("%s: %s\n", what, ok ? "ok" : "FAILED"); if (!ok) failures++; }

static char alternate[65536] __attribute__((aligned(16)));
static volatile int on_alternate, reported_onstack, change_refused, hits;

static void handler(int sig)
{
    (void)sig;
    char local;
    hits++;
    on_alternate = (uintptr_t)&local >= (uintptr_t)alternate && (uintptr_t)&local < (uintptr_t)alternate + sizeof alternate;
    stack_t now;
    sigaltstack(NULL, &now);
    reported_onstack = (now.ss_flags & SS_ONSTACK) != 0;
    stack_t other = { .ss_sp = alternate, .ss_size = sizeof alternate, .ss_flags = 0 };
    change_refused = sigaltstack(&other, NULL) == -1 && errno == EPERM;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("== signal-altstack\n");
    stack_t old;
    check(sigaltstack(NULL, &old) == 0 && (old.ss_flags & SS_DISABLE), "no alternate stack at start");
    stack_t small = { .ss_sp = alternate, .ss_size = 1024, .ss_flags = 0 };
    check(sigaltstack(&small, NULL) == -1 && errno == ENOMEM, "1024 bytes: ENOMEM");
    stack_t bad = { .ss_sp = alternate, .ss_size = sizeof alternate, .ss_flags = 77 };
    check(sigaltstack(&bad, NULL) == -1 && errno == EINVAL, "bad flags: EINVAL");
    stack_t stack = { .ss_sp = alternate, .ss_size = sizeof alternate, .ss_flags = 0 };
    check(sigaltstack(&stack, NULL) == 0, "sigaltstack set");

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    action.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &action, NULL);
    raise(SIGUSR1);
    check(hits == 1 && on_alternate, "SA_ONSTACK handler ran on the alternate stack");
    check(reported_onstack, "sigaltstack in the handler: SS_ONSTACK");
    check(change_refused, "changing it while on it: EPERM");
    stack_t after;
    sigaltstack(NULL, &after);
    check(after.ss_flags == 0 && after.ss_sp == alternate && after.ss_size == sizeof alternate, "after the handler: set, not in use");

    action.sa_flags = 0;
    sigaction(SIGUSR2, &action, NULL);
    raise(SIGUSR2);
    check(hits == 2 && !on_alternate, "without SA_ONSTACK: the normal stack");

    stack_t off = { .ss_flags = SS_DISABLE };
    check(sigaltstack(&off, NULL) == 0, "disable");
    sigaltstack(NULL, &after);
    check((after.ss_flags & SS_DISABLE) != 0, "disabled");
    raise(SIGUSR1);
    check(hits == 3 && !on_alternate, "SA_ONSTACK without a stack: the normal stack");
    printf("failures: %d\n", failures);
    return failures != 0;
}
