/* fuzz: the Linux-ABI fuzzer (issue #9). For each seed given on the command line it calls every
 * system-call number 0..511 many times with random arguments, through the raw `syscall`
 * instruction (no libc wrapper in between), and reports what happened. It is not a differential
 * program (it never runs on the host: random calls as root would damage the host); its verdict
 * is not its own: Aegis.Tests/Boot/LinuxFuzzTests.cs boots `init=/bin/sh -c "/tests/fuzz SEEDS;
 * ..."` and checks from outside that the shell still works, that the root file system is
 * intact, that the kernel did not panic and that the libOS logged nothing but missing calls.
 *
 *   usage: /tests/fuzz SEED... [-r ROUNDS] [-n CALLS]   (default 2 rounds of 3 calls per number)
 *
 * Arguments are drawn from a mix: small integers, -1, huge and random 64-bit values, pointers into
 * the fuzzer's own valid buffers (random bytes, zeros, paths, iovecs, short timespecs), file
 * descriptors it holds, and addresses the program must never reach: unmapped ones, the
 * non-canonical hole, the kernel half, the libOS's image (0x60000000..), the libOS's heap
 * (0x1000_0000_0000..), its upcall stack and the information page.
 *
 * How a run stays finite and meaningful:
 *   - every batch runs in a forked child (its own process: a child killed by a signal is counted,
 *     and the next child resumes at the number after the one that killed it); the child first
 *     makes itself harmless to the others: setsid() (no controlling terminal), stdin, stdout and
 *     stderr on /dev/null, cwd /tmp/fuzz;
 *   - before every call a 20 ms ITIMER_REAL is armed with a SIGALRM handler (no SA_RESTART), so a
 *     call that blocks (pause, a read of an empty pipe, futex, ...) ends with EINTR as on Linux;
 *     a call that installs its own signal mask (rt_sigsuspend, ppoll, pselect6, epoll_pwait(2))
 *     gets it without SIGALRM (else it would block for ever on Linux too); a child that makes no
 *     progress for 5 s anyway is killed by the parent and reported as a hang (a finding);
 *   - a child that stops itself (kill(self, SIGSTOP)) is killed and counted as stopped (seen
 *     through WUNTRACED, or, as Aegis's wait4 does not report stops yet, when it makes no
 *     progress after sending itself SIGSTOP, SIGTSTP, SIGTTIN or SIGTTOU);
 *   - after mmap, mprotect, munmap, mremap, madvise, brk and shmat the child maps its buffers again
 *     (MAP_FIXED over the same addresses), after rt_sigaction/rt_sigprocmask it restores its
 *     SIGALRM handler and mask, after arch_prctl its FS base: so one call rarely ends the batch.
 *
 * Skipped numbers (never called), and why:
 *   exit (60), exit_group (231)   end the batch at once: nothing learnt;
 *   fork (57), vfork (58), clone (56), clone3 (435)   would multiply processes (vfork suspends
 *                                 the fuzzer; clone with random flags makes threads);
 *   reboot (169)                  could end the machine with valid magic numbers.
 * Rewritten arguments (the call is made, aimed at the child itself): the pid of kill (62),
 *   tkill (200), tgkill (234), rt_sigqueueinfo (129), rt_tgsigqueueinfo (297), pidfd_open (434),
 *   prlimit64 (302), ptrace (101), process_vm_readv/writev (310/311) is the child's own pid: a
 *   random pid could be the shell's or the fuzzer's (0 and -1 are whole groups).
 * Paths: the path buffer holds paths under /tmp/fuzz, /proc/self/..., /dev/null, /dev/zero, "/"
 *   and ".", and random bytes: never /etc or /tests, which the harness reads afterwards (a call
 *   that damages them through a libOS bug is then seen from outside).
 *
 * Checked here (each failure is an "ANOMALY" line; the harness fails on any):
 *   - every result is >= 0 or a Linux errno (-1..-133), never another negative value (a
 *     kernel-internal code such as -ERESTARTSYS, or garbage), except for the calls whose
 *     success value may be any 64-bit value (mmap, lseek, fcntl, ioctl, ...: returns_int);
 *   - a table of calls with a pointer argument, given each forbidden address above, returns
 *     -EFAULT (before the fuzzing, in every child after its batch, and in the parent at the end);
 *   - after its batch the child still has its pid and can use a fresh pipe (the libOS state
 *     the calls went through is still sound);
 *   - no child hangs (see above).
 * Printed: "fuzz: seed S: C calls in K children; killed by signals: ...; stopped: T; hangs: H;
 * anomalies: A" per seed, then "fuzz: done, anomalies: A"; exit status 0 when A is 0, else 1.
 */
// Linked static (the fuzzer's random calls (munmap, mprotect, brk...) must meet the memory layout its seeds were chosen on; tools/rootfs/build-program.sh):
// aegis-link: static
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NUMBERS 512
#define PAGE 4096UL

/* --- raw system calls (no errno, no libc state: the child's FS base may be garbage for a while) --- */
static inline long raw6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long result;
    __asm__ volatile("syscall" : "=a"(result) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
    return result;
}
#define raw0(n) raw6(n, 0, 0, 0, 0, 0, 0)
#define raw1(n, a) raw6(n, (long)(a), 0, 0, 0, 0, 0)
#define raw2(n, a, b) raw6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define raw3(n, a, b, c) raw6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define raw4(n, a, b, c, d) raw6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define raw5(n, a, b, c, d, e) raw6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* --- what the parent and the children share (a MAP_SHARED page, set up before the forks) --- */
struct shared {
    volatile uint64_t calls;      /* calls made by the current child (progress for the watchdog) */
    volatile long number;         /* the call in progress (or last made) */
    volatile uint64_t args[6];
    volatile long anomalies;      /* anomalies the current child found */
    volatile long anomaly_number; /* the last one's call number, value and where */
    volatile long anomaly_value;
    volatile int anomaly_where;   /* 1 result out of range, 2 EFAULT table, 3 health check */
    volatile uint64_t anomaly_address;
};
static struct shared *shared;

/* --- the child's buffers (one mapping, re-made after memory calls) --- */
enum { DATA = 0, ZERO = 16, PATHS = 17, IOV = 18, TIMES = 19, BUFFER_PAGES = 20 };
#define BUFFERS_AT 0x0000070000000000UL /* fixed, so MAP_FIXED can re-make them wherever the calls moved them */
static unsigned char *buffers = (unsigned char *)BUFFERS_AT;
static const char *const paths[] = {
    "/tmp/fuzz/a", "/tmp/fuzz/b", "/tmp/fuzz/d/e", "/tmp/fuzz/d", "rel", "/proc/self/maps", "/proc/self/stat",
    "/proc/self/fd", "/proc/self/fd/0", "/dev/null", "/dev/zero", "/", ".", "..", "", "/tmp/fuzz/a/x",
};
#define PATH_COUNT (sizeof paths / sizeof paths[0])
#define PATH_SLOT 64

static uint64_t rng;
static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng * 0x2545F4914F6CDD1DUL;
}

/* Addresses a program never reaches: each must give EFAULT to a call that reads or writes it. */
static const uint64_t forbidden[] = {
    0x0,                    /* NULL */
    0x1000,                 /* below every mapping */
    0x60000000,             /* the libOS image's first page */
    0x60010000,             /* inside the libOS image */
    0x100000000000,         /* the libOS heap */
    0x7FFFFFFE8000,         /* the upcall stack */
    0x7FFFFFFFE000,         /* the information page */
    0x7FFFFFFFD000,         /* the environment page */
    0x800000000000,         /* the non-canonical hole */
    0xFFFF800000000000,     /* the kernel half */
    0xFFFFFFFF80100000,     /* the kernel image */
    0x0000060000000000,     /* unmapped, inside the program's window */
    0x0000300000000000,     /* unmapped, above the window */
};
#define FORBIDDEN_COUNT (sizeof forbidden / sizeof forbidden[0])

static int child_fds[8];

static uint64_t random_pointer(void)
{
    uint64_t r = next_random();
    switch (r % 8) {
    case 0: case 1: return BUFFERS_AT + DATA * PAGE + (next_random() % (16 * PAGE)) / 8 * 8;
    case 2: return BUFFERS_AT + ZERO * PAGE + (next_random() % PAGE);
    case 3: case 4: return BUFFERS_AT + PATHS * PAGE + (next_random() % PATH_COUNT) * PATH_SLOT;
    case 5: return BUFFERS_AT + IOV * PAGE + (next_random() % 16) * 16;
    case 6: return BUFFERS_AT + TIMES * PAGE + (next_random() % 16) * 16;
    default: return BUFFERS_AT + DATA * PAGE + 16 * PAGE - 8 * (next_random() % 4); /* at the end */
    }
}

static uint64_t random_argument(void)
{
    uint64_t r = next_random();
    switch (r % 16) {
    case 0: case 1: return next_random() % 8;
    case 2: return next_random() % 4096;
    case 3: return (uint64_t)-1;
    case 4: return next_random();
    case 5: {
        static const uint64_t edges[] = { 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, (uint64_t)-4096, 4096, 65536 };
        return edges[next_random() % 8];
    }
    case 6: case 7: case 8: case 9: return random_pointer();
    case 10: case 11: return forbidden[next_random() % FORBIDDEN_COUNT] + (next_random() % 4) * 8;
    case 12: return 0x60000000 + (next_random() % 0x2000000); /* anywhere in the libOS image */
    case 13: case 14: return (uint64_t)child_fds[next_random() % 8];
    default: return (uint64_t)(next_random() % 64) | (next_random() & 0x80000) | (next_random() & 0x800);
    }
}

static long make_buffers(void)
{
    return raw6(SYS_mmap, BUFFERS_AT, BUFFER_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

/* Writes the structured buffers (paths, iovecs, timespecs) that the last call may have changed. */
static void refresh_buffers(int data_too)
{
    char *slots = (char *)(buffers + PATHS * PAGE);
    for (unsigned i = 0; i < PATH_COUNT; i++) {
        size_t length = strlen(paths[i]);
        memcpy(slots + i * PATH_SLOT, paths[i], length + 1);
    }
    struct iovec *iov = (struct iovec *)(buffers + IOV * PAGE);
    for (int i = 0; i < 16; i++) {
        iov[i].iov_base = buffers + DATA * PAGE + (next_random() % (15 * PAGE));
        iov[i].iov_len = next_random() % 256;
    }
    struct timespec *times = (struct timespec *)(buffers + TIMES * PAGE);
    for (int i = 0; i < 32; i++) {
        times[i].tv_sec = 0;
        times[i].tv_nsec = (long)(next_random() % 1000000);
    }
    if (data_too) {
        uint64_t *data = (uint64_t *)(buffers + DATA * PAGE);
        for (unsigned i = 0; i < 16 * PAGE / 8; i++)
            data[i] = (i & 7) == 0 ? random_argument() : next_random();
    }
}

static void anomaly(int where, long number, long value, uint64_t address)
{
    shared->anomalies++;
    shared->anomaly_where = where;
    shared->anomaly_number = number;
    shared->anomaly_value = value;
    shared->anomaly_address = address;
}

/* --- the EFAULT table: calls with one pointer argument that must refuse every forbidden address --- */
struct pointer_call {
    const char *name;
    long number;
    int pointer;   /* which argument is the pointer */
    int optional;  /* NULL is a valid value of that argument (not checked) */
    long args[6];
};

static int table_fd_zero = -1, table_fd_file = -1, table_fd_dir = -1;

static int check_pointer_table(void)
{
    /* fds: -2 in args means table_fd_zero, -3 table_fd_file, -4 table_fd_dir; -5 a valid path. */
    static const struct pointer_call table[] = {
        { "read", SYS_read, 1, 0, { -2, 0, 16 } },
        { "write", SYS_write, 1, 0, { -3, 0, 16 } },
        { "pread64", SYS_pread64, 1, 0, { -2, 0, 16, 0 } },
        { "pwrite64", SYS_pwrite64, 1, 0, { -3, 0, 16, 0 } },
        { "readv", SYS_readv, 1, 0, { -2, 0, 1 } },
        { "writev", SYS_writev, 1, 0, { -3, 0, 1 } },
        { "open", SYS_open, 0, 0, { 0, O_RDONLY } },
        { "openat", SYS_openat, 1, 0, { AT_FDCWD, 0, O_RDONLY } },
        { "stat path", SYS_stat, 0, 0, { 0, -6 } },
        { "stat buffer", SYS_stat, 1, 0, { -5, 0 } },
        { "lstat buffer", SYS_lstat, 1, 0, { -5, 0 } },
        { "fstat", SYS_fstat, 1, 0, { -3, 0 } },
        { "newfstatat", SYS_newfstatat, 2, 0, { AT_FDCWD, -5, 0, 0 } },
        { "statx", SYS_statx, 4, 0, { AT_FDCWD, -5, 0, 0x7ff, 0 } },
        { "access", SYS_access, 0, 0, { 0, 0 } },
        { "getdents64", SYS_getdents64, 1, 0, { -4, 0, 4096 } },
        { "getcwd", SYS_getcwd, 0, 0, { 0, 256 } },
        { "chdir", SYS_chdir, 0, 0, { 0 } },
        { "mkdir", SYS_mkdir, 0, 0, { 0, 0755 } },
        { "readlink path", SYS_readlink, 0, 0, { 0, -6, 64 } },
        { "readlink buffer", SYS_readlink, 1, 0, { -7, 0, 64 } },
        { "pipe", SYS_pipe, 0, 0, { 0 } },
        { "pipe2", SYS_pipe2, 0, 0, { 0, 0 } },
        { "uname", SYS_uname, 0, 0, { 0 } },
        { "sysinfo", SYS_sysinfo, 0, 0, { 0 } },
        { "times", SYS_times, 0, 1, { 0 } },
        { "getrlimit", SYS_getrlimit, 1, 0, { RLIMIT_NOFILE, 0 } },
        { "prlimit64 new", SYS_prlimit64, 2, 1, { 0, RLIMIT_NOFILE, 0, 0 } },
        { "getrusage", SYS_getrusage, 1, 0, { 0, 0 } },
        { "clock_gettime", SYS_clock_gettime, 1, 0, { CLOCK_MONOTONIC, 0 } },
        { "clock_getres", SYS_clock_getres, 1, 1, { CLOCK_MONOTONIC, 0 } },
        { "gettimeofday", SYS_gettimeofday, 0, 1, { 0, 0 } },
        { "nanosleep", SYS_nanosleep, 0, 0, { 0, 0 } },
        { "clock_nanosleep", SYS_clock_nanosleep, 2, 0, { CLOCK_MONOTONIC, 0, 0, 0 } },
        { "getrandom", SYS_getrandom, 0, 0, { 0, 16, 0 } },
        { "rt_sigaction new", SYS_rt_sigaction, 1, 1, { SIGUSR2, 0, 0, 8 } },
        { "rt_sigaction old", SYS_rt_sigaction, 2, 1, { SIGUSR2, 0, 0, 8 } },
        { "rt_sigprocmask new", SYS_rt_sigprocmask, 1, 1, { SIG_BLOCK, 0, 0, 8 } },
        { "rt_sigprocmask old", SYS_rt_sigprocmask, 2, 1, { SIG_BLOCK, 0, 0, 8 } },
        { "rt_sigpending", SYS_rt_sigpending, 0, 0, { 0, 8 } },
        { "sigaltstack", SYS_sigaltstack, 1, 1, { 0, 0 } },
        { "getitimer", SYS_getitimer, 1, 0, { ITIMER_VIRTUAL, 0 } },
        { "poll", SYS_poll, 0, 0, { 0, 1, 0 } },
        { "select", SYS_select, 1, 1, { 1, 0, 0, 0, -8 } },
        { "getresuid", SYS_getresuid, 0, 0, { 0, -9, -9 } },
        { "sched_getaffinity", SYS_sched_getaffinity, 2, 0, { 0, 128, 0 } },
        { "execve", SYS_execve, 0, 0, { 0, 0, 0 } },
        { "fcntl F_GETLK", SYS_fcntl, 2, 0, { -3, F_GETLK, 0 } },
        { "rename", SYS_rename, 0, 0, { 0, -10 } },
        { "unlink", SYS_unlink, 0, 0, { 0 } },
        { "get_robust_list", SYS_get_robust_list, 1, 0, { 0, 0, -9 } },
    };
    static const char valid_path[] = "/";
    static const char exe[] = "/proc/self/exe";
    static const char target[] = "/tmp/fuzz/renamed";
    static char scratch[256];
    struct timeval short_time = { 0, 0 };
    int failures = 0;
    for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++) {
        const struct pointer_call *call = &table[i];
        for (unsigned f = call->optional ? 1 : 0; f < FORBIDDEN_COUNT; f++) {
            long args[6];
            for (int a = 0; a < 6; a++) {
                long v = call->args[a];
                args[a] = v == -2 ? table_fd_zero : v == -3 ? table_fd_file : v == -4 ? table_fd_dir
                        : v == -5 ? (long)valid_path : v == -6 ? (long)scratch : v == -7 ? (long)exe
                        : v == -8 ? (long)&short_time : v == -9 ? (long)scratch : v == -10 ? (long)target : v;
            }
            args[call->pointer] = (long)forbidden[f];
            long result = raw6(call->number, args[0], args[1], args[2], args[3], args[4], args[5]);
                    if (result != -EFAULT && result != -ENOSYS) { /* a call not served touched nothing */
                if (shared)
                    anomaly(2, call->number, result, forbidden[f]);
                printf("fuzz: ANOMALY: %s with the address %#lx gave %ld, not -EFAULT\n", call->name, (unsigned long)forbidden[f], result);
                failures++;
            }
        }
    }
    return failures;
}

/* --- the child --- */
static void on_alarm(int signal_number) { (void)signal_number; }

static struct kernel_sigaction { uint64_t handler, flags, restorer, mask; } alarm_action;

static void arm_alarm(void)
{
    struct itimerval timer = { { 0, 0 }, { 0, 20000 } };
    raw3(SYS_setitimer, ITIMER_REAL, &timer, 0);
}

static int in_buffers(uint64_t address, uint64_t length)
{
    return address >= BUFFERS_AT && address + length <= BUFFERS_AT + BUFFER_PAGES * PAGE && address + length >= address;
}

/* A call that installs its own signal mask (rt_sigsuspend, ppoll, pselect6, epoll_pwait(2)) with
   SIGALRM blocked and no timeout blocks for ever on Linux too: the mask it is given loses that
   one bit (when it is in our buffers), so such a call ends with EINTR and a hang stays a finding. */
static void keep_alarm_deliverable(long number, const uint64_t *a)
{
    uint64_t mask = 0;
    switch (number) {
    case SYS_rt_sigsuspend: mask = a[0]; break;
    case SYS_ppoll: mask = a[3]; break;
    case SYS_epoll_pwait: case SYS_epoll_pwait2: mask = a[4]; break;
    case SYS_pselect6:
        if (in_buffers(a[5], 16)) mask = *(uint64_t *)a[5];
        break;
    default: return;
    }
    if (in_buffers(mask, 8)) *(uint64_t *)mask &= ~(1UL << (SIGALRM - 1));
}

static int is_skipped(long number)
{
    switch (number) {
    case SYS_exit: case SYS_exit_group: case SYS_fork: case SYS_vfork: case SYS_clone: case SYS_clone3: case SYS_reboot:
        return 1;
    }
    return 0;
}

static int returns_int(long number)
{
    /* Calls whose success value can be anything (an address, an offset, a time, a priority) are
       not checked for the -errno range. */
    switch (number) {
    case SYS_mmap: case SYS_mremap: case SYS_brk: case SYS_lseek: case SYS_shmat: case SYS_time: case SYS_times:
    case SYS_getpriority: case SYS_ptrace: case SYS_fcntl: case SYS_ioctl: case SYS_personality: case SYS_set_tid_address:
    case SYS_arch_prctl: case SYS_prctl:
        return 0;
    }
    return 1;
}

static void fix_arguments(long number, uint64_t *a, long pid)
{
    switch (number) {
    case SYS_kill: case SYS_tkill: case SYS_rt_sigqueueinfo: case SYS_pidfd_open: case SYS_process_vm_readv: case SYS_process_vm_writev:
        a[0] = (uint64_t)pid;
        break;
    case SYS_tgkill: case SYS_rt_tgsigqueueinfo:
        a[0] = (uint64_t)pid;
        a[1] = (uint64_t)pid;
        break;
    case SYS_prlimit64:
        a[0] = 0;
        break;
    case SYS_ptrace:
        a[1] = (uint64_t)pid;
        break;
    }
}

static int run_child(uint64_t seed, int round, long first, int per_number)
{
    raw0(SYS_setsid);
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd < 0) return 10;
    dup2(null_fd, 0);
    dup2(null_fd, 1);
    dup2(null_fd, 2);
    if (null_fd > 2) close(null_fd);
    mkdir("/tmp/fuzz", 0755);
    mkdir("/tmp/fuzz/d", 0755);
    if (chdir("/tmp/fuzz") != 0) return 11;
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) return 12;
    child_fds[0] = 0;
    child_fds[1] = 1;
    child_fds[2] = open("/dev/zero", O_RDONLY);
    child_fds[3] = pipe_fds[0];
    child_fds[4] = pipe_fds[1];
    child_fds[5] = open("/tmp/fuzz/a", O_RDWR | O_CREAT, 0644);
    child_fds[6] = open("/tmp/fuzz", O_RDONLY | O_DIRECTORY);
    child_fds[7] = open("/proc/self/maps", O_RDONLY);
    table_fd_zero = child_fds[2];
    table_fd_file = child_fds[5];
    table_fd_dir = child_fds[6];

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_alarm;
    sigaction(SIGALRM, &action, NULL);
    raw4(SYS_rt_sigaction, SIGALRM, 0, &alarm_action, 8);
    uint64_t fs_base = 0;
    raw2(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, &fs_base);
    long pid = raw0(SYS_getpid);

    if ((unsigned long)make_buffers() != BUFFERS_AT) return 13;
    rng = seed * 0x9E3779B97F4A7C15UL + (uint64_t)round * 1000003 + (uint64_t)first * 7919 + 1;
    refresh_buffers(1);
    if (first == 0 && round == 0 && check_pointer_table() != 0) return 3;

    for (long number = first; number < NUMBERS; number++) {
        if (is_skipped(number)) continue;
        for (int i = 0; i < per_number; i++) {
            uint64_t a[6];
            for (int k = 0; k < 6; k++) a[k] = random_argument();
            fix_arguments(number, a, pid);
            shared->number = number;
            for (int k = 0; k < 6; k++) shared->args[k] = a[k];
            shared->calls++;
            refresh_buffers((shared->calls & 31) == 0);
            keep_alarm_deliverable(number, a);
            arm_alarm();
            long result = raw6(number, (long)a[0], (long)a[1], (long)a[2], (long)a[3], (long)a[4], (long)a[5]);
            if (number == SYS_arch_prctl) raw2(SYS_arch_prctl, 0x1002 /* ARCH_SET_FS */, fs_base);
            if (result < -133 && returns_int(number))
                anomaly(1, number, result, 0);
            switch (number) {
            case SYS_mmap: case SYS_mprotect: case SYS_munmap: case SYS_mremap: case SYS_madvise: case SYS_brk: case SYS_shmat:
            case SYS_remap_file_pages: case SYS_pkey_mprotect: case SYS_mlock: case SYS_munlock: case SYS_mlockall:
                make_buffers();
                break;
            case SYS_rt_sigaction: case SYS_rt_sigprocmask: case SYS_signalfd: case SYS_signalfd4: {
                uint64_t none = 0;
                raw4(SYS_rt_sigaction, SIGALRM, &alarm_action, 0, 8);
                raw4(SYS_rt_sigprocmask, SIG_SETMASK, &none, 0, 8);
                break;
            }
            }
        }
    }
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    raw3(SYS_setitimer, ITIMER_REAL, &off, 0);

    /* Health: the libOS still knows who we are, a fresh pipe carries bytes, bad pointers are still refused. */
    shared->number = -1;
    if (raw0(SYS_getpid) != pid) anomaly(3, SYS_getpid, raw0(SYS_getpid), 0);
    int health[2];
    long made = raw2(SYS_pipe2, health, 0);
    if (made == 0) {
        static const char text[] = "health";
        char back[8] = { 0 };
        long written = raw3(SYS_write, health[1], text, 6);
        long read_back = raw3(SYS_read, health[0], back, 6);
        if (written != 6 || read_back != 6 || memcmp(back, text, 6) != 0) anomaly(3, SYS_read, read_back, 0);
    } else if (made != -EMFILE && made != -ENFILE) {
        anomaly(3, SYS_pipe2, made, 0);
    }
    /* Fresh descriptors for the table (the calls may have closed, moved or exhausted ours). */
    raw1(SYS_chdir, "/");
    table_fd_zero = (int)raw2(SYS_open, "/dev/zero", O_RDONLY);
    table_fd_file = (int)raw3(SYS_open, "/tmp/fuzz/health", O_RDWR | O_CREAT, 0644);
    table_fd_dir = (int)raw2(SYS_open, "/", O_RDONLY | O_DIRECTORY);
    if (table_fd_zero >= 0 && table_fd_file >= 0 && table_fd_dir >= 0 && check_pointer_table() != 0) return 3;
    return 0;
}

/* --- the parent --- */

/* Whether the call sends the child itself a stop signal (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU): it
   stops until SIGCONT. (Linux discards the last three in an orphaned process group, as the
   child's is after setsid; Aegis stops for them too.) */
static int stops_itself(long number, volatile uint64_t *a)
{
    int signal_number;
    switch (number) {
    case SYS_kill: case SYS_tkill: case SYS_rt_sigqueueinfo: signal_number = (int)a[1]; break;
    case SYS_tgkill: case SYS_rt_tgsigqueueinfo: signal_number = (int)a[2]; break;
    default: return 0;
    }
    return signal_number >= SIGSTOP && signal_number <= SIGTTOU;
}
static const char *signal_name(int signal_number)
{
    static char numbered[16];
    const char *name = sigabbrev_np(signal_number);
    if (name) return name;
    snprintf(numbered, sizeof numbered, "%d", signal_number); /* a real-time signal */
    return numbered;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long total_anomalies;
static double slow_seconds = 1.0;

static void report_anomalies(uint64_t seed)
{
    if (shared->anomalies == 0) return;
    printf("fuzz: ANOMALY: seed %lu: %ld in a child, the last in call %ld (%s): value %ld, address %#lx\n", (unsigned long)seed,
           (long)shared->anomalies, (long)shared->anomaly_number,
           shared->anomaly_where == 1 ? "result is not an errno" : shared->anomaly_where == 2 ? "EFAULT table" : "health check",
           (long)shared->anomaly_value, (unsigned long)shared->anomaly_address);
    total_anomalies += shared->anomalies;
}

static void fuzz_seed(uint64_t seed, int rounds, int per_number)
{
    long calls = 0, children = 0, stopped = 0, hangs = 0, odd_exits = 0;
    long killed[65] = { 0 };
    long anomalies_before = total_anomalies;
    double started = now();
    char deaths[1024];
    size_t deaths_length = 0;
    deaths[0] = 0;
    for (int round = 0; round < rounds; round++) {
        long first = 0;
        while (first < NUMBERS) {
            memset((void *)shared, 0, sizeof *shared);
            shared->number = first;
            pid_t child = fork();
            if (child < 0) {
                printf("fuzz: ANOMALY: fork failed: %s\n", strerror(errno));
                total_anomalies++;
                return;
            }
            if (child == 0)
                _exit(run_child(seed, round, first, per_number));
            children++;
            uint64_t last_calls = 0;
            double last_progress = now(), number_since = now();
            long watched = first;
            int status = 0;
            for (;;) {
                pid_t done = waitpid(child, &status, WNOHANG | WUNTRACED);
                if (done == child && !WIFSTOPPED(status)) break;
                if (done == child && WIFSTOPPED(status)) {
                    stopped++;
                    kill(child, SIGKILL);
                    waitpid(child, &status, 0);
                    status = -1;
                    break;
                }
                if (shared->number != watched) {
                    if (now() - number_since > slow_seconds)
                        printf("fuzz: slow: seed %lu round %d: %d calls of %ld took %.1f s\n", (unsigned long)seed, round, per_number, watched,
                               now() - number_since);
                    watched = shared->number;
                    number_since = now();
                }
                if (shared->calls != last_calls) {
                    last_calls = shared->calls;
                    last_progress = now();
                } else if (now() - last_progress > 5.0 && stops_itself(shared->number, shared->args)) {
                    stopped++; /* Aegis's wait4 does not report stops yet (LinuxProcesses.cs) */
                    kill(child, SIGKILL);
                    waitpid(child, &status, 0);
                    status = -1;
                    break;
                } else if (now() - last_progress > 5.0) {
                    long n = shared->number;
                    printf("fuzz: hang: seed %lu round %d: call %ld (%#lx, %#lx, %#lx, %#lx, %#lx, %#lx) did not return in 5 s\n",
                           (unsigned long)seed, round, n, (unsigned long)shared->args[0], (unsigned long)shared->args[1],
                           (unsigned long)shared->args[2], (unsigned long)shared->args[3], (unsigned long)shared->args[4],
                           (unsigned long)shared->args[5]);
                    hangs++;
                    kill(child, SIGKILL);
                    waitpid(child, &status, 0);
                    status = -1;
                    break;
                }
                struct timespec pause_time = { 0, 20 * 1000 * 1000 };
                nanosleep(&pause_time, NULL);
            }
            calls += (long)shared->calls;
            report_anomalies(seed);
            long reached = shared->number;
            if (status != -1 && WIFEXITED(status)) {
                if (WEXITSTATUS(status) != 0) {
                    odd_exits++;
                    printf("fuzz: child exited with %d after call %ld\n", WEXITSTATUS(status), reached);
                    if (WEXITSTATUS(status) == 3 || WEXITSTATUS(status) >= 10) total_anomalies++;
                }
                if (reached == -1 || WEXITSTATUS(status) == 0) break; /* the batch ran to its end */
            } else if (status != -1 && WIFSIGNALED(status)) {
                int s = WTERMSIG(status);
                killed[s < 65 ? s : 0]++;
                if (s >= 65) {
                    printf("fuzz: ANOMALY: a child was ended by signal %d (not a Linux signal) in call %ld\n", s, reached);
                    total_anomalies++;
                }
                if (deaths_length < sizeof deaths - 32)
                    deaths_length += (size_t)snprintf(deaths + deaths_length, sizeof deaths - deaths_length, " %ld:%s", reached, signal_name(s));
                if (reached == -1) break; /* killed in its health check: the round is over */
            }
            first = (reached < 0 ? NUMBERS : reached) + 1;
        }
    }
    printf("fuzz: seed %lu: %ld calls in %ld children, %.1f s; killed by signals:", (unsigned long)seed, calls, children, now() - started);
    int any = 0;
    for (int s = 1; s < 65; s++)
        if (killed[s]) {
            printf(" SIG%s %ld", signal_name(s), killed[s]);
            any = 1;
        }
    printf("%s; stopped: %ld; hangs: %ld; other exits: %ld; anomalies: %ld\n", any ? "" : " none", stopped, hangs, odd_exits,
           total_anomalies - anomalies_before);
    printf("fuzz: seed %lu: the calls that ended a child (number:signal):%s\n", (unsigned long)seed, deaths_length ? deaths : " none");
    total_anomalies += hangs;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int rounds = 2, per_number = 3;
    uint64_t seeds[16];
    int seed_count = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-r") == 0 && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) per_number = atoi(argv[++i]);
        else if (seed_count < 16) seeds[seed_count++] = strtoull(argv[i], NULL, 0);
    }
    if (seed_count == 0) {
        printf("usage: fuzz SEED... [-r ROUNDS] [-n CALLS-PER-NUMBER]\n");
        return 2;
    }
    shared = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        printf("fuzz: cannot map the shared page: %s\n", strerror(errno));
        return 2;
    }
    signal(SIGPIPE, SIG_DFL);
    mkdir("/tmp/fuzz", 0755);
    printf("fuzz: %d seeds, %d rounds of %d calls per number 0..%d\n", seed_count, rounds, per_number, NUMBERS - 1);
    for (int i = 0; i < seed_count; i++)
        fuzz_seed(seeds[i], rounds, per_number);

    /* The parent never fuzzed: its own libOS must refuse the forbidden addresses as well. */
    table_fd_zero = open("/dev/zero", O_RDONLY);
    table_fd_file = open("/tmp/fuzz/parent", O_RDWR | O_CREAT, 0644);
    table_fd_dir = open("/tmp/fuzz", O_RDONLY | O_DIRECTORY);
    struct shared *keep = shared;
    shared = NULL;
    total_anomalies += check_pointer_table();
    shared = keep;
    printf("fuzz: done, anomalies: %ld\n", total_anomalies);
    return total_anomalies == 0 ? 0 : 1;
}
