/* signal-alarm: alarm(1) interrupts pause() (-1 EINTR after the handler ran) and nanosleep
   (-1 EINTR, the remaining time written); alarm returns the seconds left of the previous one;
   setitimer/getitimer ITIMER_REAL; SA_RESTART does not restart pause (it never restarts). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int failures;
static void check(int ok, const char *what) { printf("%s: %s\n", what, ok ? "ok" : "FAILED"); if (!ok) failures++; }

static volatile int alarms;
static void handler(int sig) { (void)sig; alarms++; }

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("== signal-alarm\n");
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    action.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &action, NULL);

    check(alarm(5) == 0, "alarm(5) with none before: 0");
    unsigned left = alarm(0);
    check(left == 5 || left == 4, "alarm(0) returns the seconds left (5)");

    alarm(1);
    int result = pause();
    check(result == -1 && errno == EINTR, "pause interrupted: -1 EINTR");
    check(alarms == 1, "the handler ran once");

    alarm(1);
    struct timespec sleep = { 5, 0 }, rem = { 0, 0 };
    result = nanosleep(&sleep, &rem);
    check(result == -1 && errno == EINTR, "nanosleep interrupted: -1 EINTR");
    check(rem.tv_sec >= 3 && rem.tv_sec <= 4, "nanosleep's remaining time (about 4 s)");
    check(alarms == 2, "the handler ran again");

    struct itimerval timer = { { 0, 0 }, { 2, 500000 } }, old;
    check(setitimer(ITIMER_REAL, &timer, NULL) == 0, "setitimer 2.5 s");
    check(getitimer(ITIMER_REAL, &old) == 0 && old.it_value.tv_sec >= 1 && old.it_value.tv_sec <= 2
          && old.it_interval.tv_sec == 0, "getitimer: about 2.5 s left, no interval");
    struct itimerval zero = { { 0, 0 }, { 0, 0 } };
    check(setitimer(ITIMER_REAL, &zero, &old) == 0 && old.it_value.tv_sec >= 1, "setitimer 0 disarms, returns the old one");
    getitimer(ITIMER_REAL, &old);
    check(old.it_value.tv_sec == 0 && old.it_value.tv_usec == 0, "disarmed");
    struct itimerval bad = { { 0, 0 }, { 0, 1000000 } };
    check(setitimer(ITIMER_REAL, &bad, NULL) == -1 && errno == EINVAL, "tv_usec 1000000: EINVAL");

    /* A periodic timer: three expiries counted by a loop of pause(). */
    alarms = 0;
    struct itimerval periodic = { { 0, 100000 }, { 0, 100000 } };
    setitimer(ITIMER_REAL, &periodic, NULL);
    while (alarms < 3) pause();
    setitimer(ITIMER_REAL, &zero, NULL);
    check(alarms == 3, "periodic ITIMER_REAL: three expiries");
    printf("failures: %d\n", failures);
    return failures != 0;
}
