/* linuxbench: the "Unix process primitives" workloads of the Linux-ABI benchmark
 * (shared docs, workloads.md), one static binary run unchanged on Linux and on Aegis.
 *
 * Each workload runs a warm-up, then N iterations timed with rdtscp around the whole loop,
 * and prints one line:   BENCH <name> <N> <TSC ticks per iteration, one decimal>
 * Under QEMU's -icount shift=0 one TSC tick is one guest instruction, so the figure is
 * instructions per operation. The process pins itself to CPU 0 first (an error is ignored:
 * a system with one CPU needs no pinning). The pipe peer and the fork children inherit it.
 *
 * Usage: linuxbench [NAME...]   the named workloads (all when none is named), in the order
 *                               given; an unknown name is an error (status 2)
 *        linuxbench exit0       _exit(0) at once (the program fork_exec_wait executes)
 * dotnet_startup (issue #10): a child reads CLOCK_MONOTONIC and execs /bin/dotnethello (a .NET
 * NativeAOT hello world) with --started-at NANOSECONDS; the first line of its Main reads the same
 * clock and prints "startup NANOSECONDS". The figure is the average over the runs: process start
 * to the first line of Main, nanoseconds (instructions under -icount).
 * Exit status: 0, or 1 when an operation failed (its error is printed, no BENCH line).
 * The file of open_read_close_1k and stat is /tmp/linuxbench.dat (1 KiB), removed at the end.
 */
// Linked static (the benchmark, one binary unchanged on Linux and on Aegis, its figures comparable across versions; tools/rootfs/build-program.sh):
// aegis-link: static
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DATA_FILE "/tmp/linuxbench.dat"

static const char *self_path;
static volatile unsigned long signals;
static int failed;

static inline uint64_t rdtscp(void)
{
    uint32_t low, high, aux;
    __asm__ volatile("rdtscp" : "=a"(low), "=d"(high), "=c"(aux)::"memory");
    return ((uint64_t)high << 32) | low;
}

static void fail(const char *what)
{
    printf("linuxbench: %s failed: %s\n", what, strerror(errno));
    failed = 1;
}

static void report(const char *name, long count, uint64_t ticks)
{
    /* One decimal without floating point: ticks * 10 / count, rounded half up. */
    uint64_t tenths = (ticks * 10 + (uint64_t)count / 2) / (uint64_t)count;
    printf("BENCH %s %ld %lu.%lu\n", name, count, (unsigned long)(tenths / 10), (unsigned long)(tenths % 10));
}

static int op_getppid(void)
{
    syscall(SYS_getppid);
    return 0;
}

static int pipe_to_child[2], pipe_to_parent[2];

static int op_pipe_roundtrip(void)
{
    char byte = 1;
    if (write(pipe_to_child[1], &byte, 1) != 1 || read(pipe_to_parent[0], &byte, 1) != 1) {
        fail("the pipe round trip");
        return -1;
    }
    return 0;
}

static int op_fork_exit_wait(void)
{
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    if (child < 0) {
        fail("fork");
        return -1;
    }
    wait(0);
    return 0;
}

static int op_fork_exec_wait(void)
{
    pid_t child = fork();
    if (child == 0) {
        char *arguments[] = {(char *)self_path, "exit0", NULL};
        char *environment[] = {NULL};
        execve(self_path, arguments, environment);
        _exit(127);
    }
    if (child < 0) {
        fail("fork");
        return -1;
    }
    int status = 0;
    wait(&status);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        errno = ENOEXEC;
        fail("the execve'd child");
        return -1;
    }
    return 0;
}

static void on_usr1(int signal)
{
    (void)signal;
    signals++;
}

static int op_signal_self(void)
{
    kill(getpid(), SIGUSR1);
    return 0;
}

static int op_mmap_touch_munmap(void)
{
    char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        fail("mmap");
        return -1;
    }
    *(volatile char *)page = 1;
    munmap(page, 4096);
    return 0;
}

static char file_buffer[1024];

static int op_open_read_close_1k(void)
{
    int fd = open(DATA_FILE, O_RDONLY);
    if (fd < 0 || read(fd, file_buffer, sizeof file_buffer) != (ssize_t)sizeof file_buffer) {
        fail("open + read");
        return -1;
    }
    close(fd);
    return 0;
}

static int op_stat(void)
{
    struct stat st;
    if (stat(DATA_FILE, &st) != 0) {
        fail("stat");
        return -1;
    }
    return 0;
}

/* Runs `operation` `warm` times, then `count` times between two rdtscp reads. */
#define DOTNET_HELLO "/bin/dotnethello"

/* One start of DOTNET_HELLO: its reported start-up time in nanoseconds, or -1. */
static long long dotnet_start_once(void)
{
    int out[2];
    if (pipe(out) != 0) {
        fail("pipe");
        return -1;
    }
    pid_t child = fork();
    if (child == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        char started[32];
        snprintf(started, sizeof started, "%lld", (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
        char *arguments[] = {DOTNET_HELLO, "--started-at", started, NULL};
        char *environment[] = {NULL};
        execve(DOTNET_HELLO, arguments, environment);
        _exit(127);
    }
    close(out[1]);
    if (child < 0) {
        close(out[0]);
        fail("fork");
        return -1;
    }
    char text[128];
    size_t used = 0;
    ssize_t n;
    while (used < sizeof text - 1 && (n = read(out[0], text + used, sizeof text - 1 - used)) > 0)
        used += (size_t)n;
    text[used] = 0;
    close(out[0]);
    int status = 0;
    waitpid(child, &status, 0);
    long long nanoseconds = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || sscanf(text, "startup %lld", &nanoseconds) != 1) {
        printf("linuxbench: %s did not report its start-up (status 0x%x, output '%s')\n", DOTNET_HELLO, status, text);
        failed = 1;
        return -1;
    }
    return nanoseconds;
}

static void bench_dotnet_startup(void)
{
    const long warm = 1, count = 5;
    /* Between starts, 100 ms of sleep: the previous child's teardown is not the next one's start
     * (Linux tears an address space down before wait returns; Aegis's kernel reaps an ended
     * environment's memory at its timer ticks, which then run while the CPU would idle). */
    const struct timespec pause = {0, 100000000};
    for (long i = 0; i < warm; i++)
        if (dotnet_start_once() < 0)
            return;
    long long total = 0;
    for (long i = 0; i < count; i++) {
        nanosleep(&pause, NULL);
        long long one = dotnet_start_once();
        if (one < 0)
            return;
        total += one;
    }
    report("dotnet_startup", count, (uint64_t)total);
}

static void measure(const char *name, int (*operation)(void), long warm, long count)
{
    for (long i = 0; i < warm; i++)
        if (operation() != 0)
            return;
    uint64_t start = rdtscp();
    for (long i = 0; i < count; i++)
        if (operation() != 0)
            return;
    uint64_t end = rdtscp();
    report(name, count, end - start);
}

static void bench_pipe_roundtrip(void)
{
    if (pipe(pipe_to_child) != 0 || pipe(pipe_to_parent) != 0) {
        fail("pipe");
        return;
    }
    pid_t child = fork();
    if (child == 0) {
        char byte;
        close(pipe_to_child[1]); /* else the parent's close would never reach end of file here */
        close(pipe_to_parent[0]);
        while (read(pipe_to_child[0], &byte, 1) == 1)
            if (write(pipe_to_parent[1], &byte, 1) != 1)
                break;
        _exit(0);
    }
    if (child < 0) {
        fail("fork");
        return;
    }
    measure("pipe_roundtrip", op_pipe_roundtrip, 100, 2000);
    close(pipe_to_child[1]);
    waitpid(child, NULL, 0);
    close(pipe_to_child[0]);
    close(pipe_to_parent[0]);
    close(pipe_to_parent[1]);
}

static void bench_signal_self(void)
{
    struct sigaction action = {0};
    action.sa_handler = on_usr1;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGUSR1, &action, NULL) != 0) {
        fail("sigaction");
        return;
    }
    signals = 0;
    measure("signal_self", op_signal_self, 100, 10000);
    if (!failed && signals != 10100) {
        printf("linuxbench: signal_self: the handler ran %lu times, not 10100\n", signals);
        failed = 1;
    }
}

static int make_data_file(void)
{
    char data[1024];
    memset(data, 'a', sizeof data);
    int fd = open(DATA_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, data, sizeof data) != (ssize_t)sizeof data) {
        fail("creating " DATA_FILE);
        return -1;
    }
    close(fd);
    return 0;
}

static void bench_file(const char *name)
{
    if (make_data_file() != 0)
        return;
    if (strcmp(name, "stat") == 0)
        measure("stat", op_stat, 100, 10000);
    else
        measure("open_read_close_1k", op_open_read_close_1k, 100, 5000);
    unlink(DATA_FILE);
}

static const char *const all[] = {"getppid", "pipe_roundtrip", "fork_exit_wait", "fork_exec_wait",
                                  "signal_self", "mmap_touch_munmap", "open_read_close_1k", "stat",
                                  "dotnet_startup"};

static int run(const char *name)
{
    if (strcmp(name, "getppid") == 0)
        measure("getppid", op_getppid, 1000, 20000);
    else if (strcmp(name, "pipe_roundtrip") == 0)
        bench_pipe_roundtrip();
    else if (strcmp(name, "fork_exit_wait") == 0)
        measure("fork_exit_wait", op_fork_exit_wait, 10, 300);
    else if (strcmp(name, "fork_exec_wait") == 0)
        measure("fork_exec_wait", op_fork_exec_wait, 5, 100);
    else if (strcmp(name, "signal_self") == 0)
        bench_signal_self();
    else if (strcmp(name, "mmap_touch_munmap") == 0)
        measure("mmap_touch_munmap", op_mmap_touch_munmap, 100, 5000);
    else if (strcmp(name, "open_read_close_1k") == 0 || strcmp(name, "stat") == 0)
        bench_file(name);
    else if (strcmp(name, "dotnet_startup") == 0)
        bench_dotnet_startup();
    else
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "exit0") == 0)
        _exit(0);
    setvbuf(stdout, NULL, _IOLBF, 0);
    self_path = argv[0];
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    CPU_SET(0, &cpus);
    sched_setaffinity(0, sizeof cpus, &cpus);
    for (int i = 1; i < argc; i++) {
        int known = 0;
        for (size_t j = 0; j < sizeof all / sizeof all[0]; j++)
            known |= strcmp(argv[i], all[j]) == 0;
        if (!known) {
            printf("linuxbench: unknown workload '%s'; the workloads are:", argv[i]);
            for (size_t j = 0; j < sizeof all / sizeof all[0]; j++)
                printf(" %s", all[j]);
            printf(" (and exit0)\n");
            return 2;
        }
    }
    if (argc == 1)
        for (size_t j = 0; j < sizeof all / sizeof all[0] && !failed; j++)
            run(all[j]);
    for (int i = 1; i < argc && !failed; i++)
        run(argv[i]);
    return failed ? 1 : 0;
}
