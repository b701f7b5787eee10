/* core-calls: identity, time and the small calls a libc makes, with their error paths (EFAULT for
 * a bad pointer, EINVAL for a bad argument, ENOSYS for a number nothing serves). Prints only
 * facts that are the same on Linux and on Aegis; exit status 0 when every check holds. */
// Linked static (LinuxCoreTests: the static programs of the personality's core; tools/rootfs/build-program.sh):
// aegis-link: static
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <asm/prctl.h>

static int failures;

static void check(int ok, const char *what)
{
    printf("%s: %s\n", what, ok ? "ok" : "FAILED");
    if (!ok)
        failures++;
}

static long raw(long number, long a, long b, long c)
{
    long result;
    __asm__ volatile("syscall" : "=a"(result) : "a"(number), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return result;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    void *bad = (void *)16;

    check(getpid() > 0 && syscall(SYS_gettid) == getpid(), "getpid is gettid (one thread)");
    check(getppid() >= 0, "getppid");
    check(getuid() == geteuid() && getgid() == getegid(), "real and effective ids agree");

    struct utsname name;
    check(uname(&name) == 0 && strcmp(name.sysname, "Linux") == 0 && strcmp(name.machine, "x86_64") == 0, "uname: Linux x86_64");
    check(raw(SYS_uname, (long)bad, 0, 0) == -EFAULT, "uname with a bad pointer is EFAULT");

    struct timespec t0, t1, res;
    check(clock_gettime(CLOCK_MONOTONIC, &t0) == 0, "clock_gettime MONOTONIC");
    int backwards = 0;
    for (int i = 0; i < 1000; i++) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (t1.tv_sec < t0.tv_sec || (t1.tv_sec == t0.tv_sec && t1.tv_nsec < t0.tv_nsec))
            backwards = 1;
        t0 = t1;
    }
    check(!backwards, "CLOCK_MONOTONIC never goes backwards");
    check(clock_gettime(CLOCK_BOOTTIME, &t1) == 0 && clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1) == 0, "BOOTTIME and PROCESS_CPUTIME");
    check(raw(SYS_clock_gettime, 12345, (long)&t1, 0) == -EINVAL, "clock_gettime of an unknown clock is EINVAL");
    check(raw(SYS_clock_gettime, CLOCK_MONOTONIC, (long)bad, 0) == -EFAULT, "clock_gettime with a bad pointer is EFAULT");
    check(clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0, "clock_getres");
    struct timespec before, after, nap = {0, 2000000};
    clock_gettime(CLOCK_MONOTONIC, &before);
    check(nanosleep(&nap, NULL) == 0, "nanosleep 2 ms");
    clock_gettime(CLOCK_MONOTONIC, &after);
    long slept = (after.tv_sec - before.tv_sec) * 1000000000L + (after.tv_nsec - before.tv_nsec);
    check(slept >= 2000000, "nanosleep slept at least 2 ms");
    struct timespec wrong = {0, 1000000000};
    check(nanosleep(&wrong, NULL) == -1 && errno == EINVAL, "nanosleep with tv_nsec 1e9 is EINVAL");

    unsigned char random[64];
    memset(random, 0, sizeof random);
    check(getrandom(random, sizeof random, 0) == sizeof random, "getrandom fills the buffer");
    int nonzero = 0;
    for (unsigned i = 0; i < sizeof random; i++)
        nonzero |= random[i];
    check(nonzero != 0, "getrandom's bytes are not all zero");
    check(raw(SYS_getrandom, (long)random, 8, 0x40) == -EINVAL, "getrandom with unknown flags is EINVAL");

    unsigned long fs = 0, thread_pointer;
    __asm__("mov %%fs:0, %0" : "=r"(thread_pointer));
    check(raw(SYS_arch_prctl, ARCH_GET_FS, (long)&fs, 0) == 0 && fs == thread_pointer, "arch_prctl ARCH_GET_FS is the thread pointer");
    check(raw(SYS_arch_prctl, 0x7777, 0, 0) == -EINVAL, "arch_prctl with an unknown code is EINVAL");

    struct rlimit limit;
    check(getrlimit(RLIMIT_STACK, &limit) == 0 && limit.rlim_cur <= limit.rlim_max, "getrlimit RLIMIT_STACK");
    check(raw(SYS_getrlimit, 999, (long)&limit, 0) == -EINVAL, "getrlimit of an unknown resource is EINVAL");
    struct rlimit lower = {limit.rlim_cur / 2, limit.rlim_max}, now;
    check(setrlimit(RLIMIT_STACK, &lower) == 0 && getrlimit(RLIMIT_STACK, &now) == 0 && now.rlim_cur == lower.rlim_cur, "setrlimit takes effect");
    struct rlimit inverted = {2, 1};
    check(setrlimit(RLIMIT_STACK, &inverted) == -1 && errno == EINVAL, "a soft limit above the hard one is EINVAL");

    struct sysinfo info;
    check(sysinfo(&info) == 0 && info.totalram > 0 && info.freeram <= info.totalram && info.mem_unit > 0, "sysinfo");
    cpu_set_t set;
    check(sched_getaffinity(0, sizeof set, &set) == 0 && CPU_ISSET(0, &set), "sched_getaffinity includes CPU 0");
    check(sched_yield() == 0, "sched_yield");

    check(syscall(400) == -1 && errno == ENOSYS, "an unassigned number (400) is ENOSYS");
    check(syscall(400) == -1 && errno == ENOSYS, "again");
    check(raw(SYS_write, 1, (long)bad, 5) == -EFAULT, "write from a bad pointer is EFAULT");

    printf("calls: %s\n", failures == 0 ? "all ok" : "FAILED");
    return failures == 0 ? 0 : 1;
}
