/* clocks: time as a program sees it. CLOCK_MONOTONIC, CLOCK_BOOTTIME and the process CPU clock
 * never go backwards over many reads; nanosleep of 10 ms advances the monotonic clock by at
 * least 10 ms; CLOCK_REALTIME is in 2025 or later and agrees with gettimeofday and time() to
 * within two seconds; clock_getres of the monotonic clock is positive; nanoseconds are below
 * 10^9; an unknown clock gives EINVAL and a bad timespec pointer EFAULT. Exit status 0 when every
 * check passed. */
#include "difftest.h"
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int64_t nanoseconds(clockid_t clock)
{
    struct timespec t;
    if (clock_gettime(clock, &t) != 0)
        return -1;
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void never_backwards(clockid_t clock, const char *name)
{
    char what[96];
    snprintf(what, sizeof what, "%s never goes backwards in 10000 reads", name);
    int64_t last = nanoseconds(clock);
    int ok = last >= 0;
    for (int i = 0; i < 10000 && ok; i++) {
        int64_t now = nanoseconds(clock);
        if (now < last)
            ok = 0;
        last = now;
    }
    dt_check(ok, what, "went back or failed");
}

int main(void)
{
    dt_start("clocks");
    never_backwards(CLOCK_MONOTONIC, "CLOCK_MONOTONIC");
    never_backwards(CLOCK_BOOTTIME, "CLOCK_BOOTTIME");
    never_backwards(CLOCK_PROCESS_CPUTIME_ID, "CLOCK_PROCESS_CPUTIME_ID");
    never_backwards(CLOCK_MONOTONIC_RAW, "CLOCK_MONOTONIC_RAW");

    int64_t before = nanoseconds(CLOCK_MONOTONIC);
    struct timespec ten_ms = {0, 10 * 1000 * 1000};
    DT_EXPECT_OK(nanosleep(&ten_ms, NULL), "nanosleep 10 ms");
    int64_t slept = nanoseconds(CLOCK_MONOTONIC) - before;
    dt_check(slept >= 10 * 1000 * 1000, "the monotonic clock advanced by at least 10 ms", "by %ld ns", (long)slept);
    before = nanoseconds(CLOCK_MONOTONIC);
    DT_EXPECT_OK(clock_nanosleep(CLOCK_MONOTONIC, 0, &ten_ms, NULL), "clock_nanosleep 10 ms");
    slept = nanoseconds(CLOCK_MONOTONIC) - before;
    dt_check(slept >= 10 * 1000 * 1000, "clock_nanosleep slept at least 10 ms", "%ld ns", (long)slept);

    struct timespec real;
    DT_EXPECT_OK(clock_gettime(CLOCK_REALTIME, &real), "CLOCK_REALTIME");
    struct tm calendar;
    gmtime_r(&real.tv_sec, &calendar);
    dt_check(calendar.tm_year + 1900 >= 2025, "the real-time year is 2025 or later", "year %d", calendar.tm_year + 1900);
    dt_check(real.tv_nsec >= 0 && real.tv_nsec < 1000000000, "tv_nsec is below 10^9", "%ld", real.tv_nsec);
    struct timeval tv;
    DT_EXPECT_OK(gettimeofday(&tv, NULL), "gettimeofday");
    long difference = (long)(tv.tv_sec - real.tv_sec);
    dt_check(difference >= 0 && difference <= 2, "gettimeofday agrees with CLOCK_REALTIME", "%ld s apart", difference);
    dt_check(tv.tv_usec >= 0 && tv.tv_usec < 1000000, "tv_usec is below 10^6", "%ld", (long)tv.tv_usec);
    time_t seconds = time(NULL);
    difference = (long)(seconds - real.tv_sec);
    /* Linux's time() reads the coarse clock (the last tick's seconds), which may still show the
     * second before CLOCK_REALTIME's for up to a tick: -1 is an answer Linux gives too. */
    dt_check(difference >= -1 && difference <= 2, "time() agrees with CLOCK_REALTIME", "%ld s apart", difference);

    struct timespec resolution = {0, 0};
    DT_EXPECT_OK(clock_getres(CLOCK_MONOTONIC, &resolution), "clock_getres");
    dt_check(resolution.tv_sec == 0 && resolution.tv_nsec > 0, "the monotonic resolution is positive and below a second", "%ld.%09ld",
             (long)resolution.tv_sec, resolution.tv_nsec);
    DT_EXPECT_ERRNO(syscall(SYS_clock_gettime, 12345, &real), EINVAL, "an unknown clock gives EINVAL");
    DT_EXPECT_ERRNO(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)8), EFAULT, "a bad timespec pointer gives EFAULT");
    return dt_finish();
}
