/* difftest.h: shared helpers of the differential programs (the .c files of Tests/Linux).
 *
 * Each program runs twice, on the host Linux and on Aegis (init=/tests/NAME exit), and the
 * harness (Aegis.Tests/Boot/LinuxDifferentialTests.cs) compares what it prints and its exit
 * status. So every line a program prints is a fact that must be the same on both systems:
 * never an address, a pid, a time or anything else that varies from run to run.
 *
 * Guarantees of these helpers:
 * - dt_start resets every signal to its default action and unblocks them all (the host harness
 *   may pass ignored or blocked signals down), then prints "== NAME" as the first line: the harness finds the program's output in
 *   the serial log from it; stdout is line buffered (the same on a pipe and on a terminal, and
 *   nothing is printed twice by a fork);
 * - dt_check prints "WHAT: ok" or "WHAT: FAILED (detail)" and counts the failures; dt_finish
 *   returns the exit status: 0 when every check passed, 1 otherwise.
 * - dt_errno_name gives the symbolic name of an errno value ("ENOENT"), as Linux's headers
 *   spell it, so a line reads the same on both systems whatever the message catalogue.
 * Only stdout is used: stderr is never written (on Aegis both reach the same console).
 */
#ifndef AEGIS_DIFFTEST_H
#define AEGIS_DIFFTEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DT_UNUSED __attribute__((unused))

static int dt_failures;

DT_UNUSED static void dt_start(const char *name)
{
    /* The host harness may start us with signals ignored or blocked (both survive execve): a
       program that kills its child with SIGTERM would then wait for ever. Start from Linux's
       defaults on both systems. */
    for (int signal_number = 1; signal_number < NSIG; signal_number++)
        signal(signal_number, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("== %s\n", name);
}

DT_UNUSED static const char *dt_errno_name(int value)
{
    const char *name = strerrorname_np(value);
    static char unknown[32];
    if (name != NULL)
        return name;
    snprintf(unknown, sizeof unknown, "errno %d", value);
    return unknown;
}

/* Prints "WHAT: ok" when ok, otherwise "WHAT: FAILED (" the formatted detail ")". */
__attribute__((format(printf, 3, 4)))
DT_UNUSED static void dt_check(int ok, const char *what, const char *detail, ...)
{
    if (ok) {
        printf("%s: ok\n", what);
        return;
    }
    dt_failures++;
    printf("%s: FAILED (", what);
    va_list arguments;
    va_start(arguments, detail);
    vprintf(detail, arguments);
    va_end(arguments);
    printf(")\n");
}

/* A system call's result: "-1 ENOENT" for an error, the value otherwise. */
DT_UNUSED static const char *dt_result(long result, int saved_errno)
{
    static char text[64];
    if (result == -1)
        snprintf(text, sizeof text, "-1 %s", dt_errno_name(saved_errno));
    else
        snprintf(text, sizeof text, "%ld", result);
    return text;
}

/* Checks that a call failed with the expected errno: "WHAT: ok" or what it did instead. */
#define DT_EXPECT_ERRNO(call, expected, what)                                            \
    do {                                                                                 \
        errno = 0;                                                                       \
        long dt_value_ = (long)(call);                                                   \
        int dt_errno_ = errno;                                                           \
        dt_check(dt_value_ == -1 && dt_errno_ == (expected), what, "got %s, expected -1 %s", \
                 dt_result(dt_value_, dt_errno_), dt_errno_name(expected));              \
    } while (0)

/* Checks that a call succeeded (did not return -1). */
#define DT_EXPECT_OK(call, what)                                                         \
    ({                                                                                   \
        errno = 0;                                                                       \
        long dt_value_ = (long)(call);                                                   \
        int dt_errno_ = errno;                                                           \
        dt_check(dt_value_ != -1, what, "got %s", dt_result(dt_value_, dt_errno_));      \
        dt_value_;                                                                       \
    })

DT_UNUSED static int dt_finish(void)
{
    printf("failures: %d\n", dt_failures);
    return dt_failures == 0 ? 0 : 1;
}

#endif
