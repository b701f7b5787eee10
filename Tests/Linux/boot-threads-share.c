/* boot-threads-share: how two processes share the CPU when one has four busy threads and the other
 * one (the libOS's thread policy and its slices, docs/libos-unixish.md "Threads").
 *
 *   boot-threads-share [POLICY]   POLICY: round-robin (default) or run-to-completion, passed to the
 *                            four-thread process as AEGIS_THREADS at its execve
 *
 * Both processes spin from a common start (the parent's monotonic clock + 300 ms) for 600 ms,
 * counting loop iterations per thread, and report through a pipe. Prints:
 *   busy4 TOTAL A B C D     (the four-thread process: total and per thread)
 *   busy1 TOTAL             (the single-threaded one)
 * The test judges the numbers (their ratio); the program judges nothing. Exit status 0, or 1 when
 * something failed (printed). Internal: boot-threads-share child THREADS START_NS END_NS FD.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long start_ns, end_ns;
static volatile unsigned long long work[4];

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void *spin(void *argument)
{
    int index = (int)(long)argument;
    while (now_ns() < start_ns) { }
    unsigned long long n = 0;
    while (now_ns() < end_ns) n++;
    work[index] = n;
    return NULL;
}

static int child(int threads, int fd)
{
    pthread_t ids[4];
    for (int i = 1; i < threads; i++)
        if (pthread_create(&ids[i], NULL, spin, (void *)(long)i) != 0) { printf("boot-threads-share: pthread_create failed\n"); return 1; }
    spin((void *)0);
    for (int i = 1; i < threads; i++) pthread_join(ids[i], NULL);
    char line[160];
    unsigned long long total = 0;
    for (int i = 0; i < threads; i++) total += work[i];
    int n = snprintf(line, sizeof line, "busy%d %llu", threads, total);
    if (threads > 1)
        for (int i = 0; i < threads; i++) n += snprintf(line + n, sizeof line - (size_t)n, " %llu", work[i]);
    snprintf(line + n, sizeof line - (size_t)n, "\n");
    return write(fd, line, strlen(line)) > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "child") == 0) {
        start_ns = atoll(argv[3]);
        end_ns = atoll(argv[4]);
        return child(atoi(argv[2]), atoi(argv[5]));
    }
    const char *policy = argc > 1 ? argv[1] : "round-robin";
    int out[2];
    if (pipe(out) != 0) { printf("boot-threads-share: pipe failed\n"); return 1; }
    long long start = now_ns() + 300000000LL, end = start + 600000000LL;
    pid_t pids[2];
    for (int p = 0; p < 2; p++) {
        int threads = p == 0 ? 4 : 1;
        pids[p] = fork();
        if (pids[p] == 0) {
            char t[8], s[24], e[24], f[8], variable[64];
            snprintf(t, sizeof t, "%d", threads);
            snprintf(s, sizeof s, "%lld", start);
            snprintf(e, sizeof e, "%lld", end);
            snprintf(f, sizeof f, "%d", out[1]);
            snprintf(variable, sizeof variable, "AEGIS_THREADS=%s", threads == 4 ? policy : "round-robin");
            char *arguments[] = {argv[0], "child", t, s, e, f, NULL};
            char *environment[] = {variable, NULL};
            execve("/proc/self/exe", arguments, environment);
            _exit(127);
        }
    }
    close(out[1]);
    char text[512];
    size_t used = 0;
    ssize_t n;
    while (used < sizeof text - 1 && (n = read(out[0], text + used, sizeof text - 1 - used)) > 0) used += (size_t)n;
    text[used] = 0;
    int failed = 0;
    for (int p = 0; p < 2; p++) {
        int status = 0;
        waitpid(pids[p], &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) { printf("boot-threads-share: child %d ended with 0x%x\n", p, status); failed = 1; }
    }
    /* busy4 first, then busy1, whichever came first through the pipe. */
    char *b4 = strstr(text, "busy4"), *b1 = strstr(text, "busy1 ");
    if (!b4 || !b1) { printf("boot-threads-share: missing reports: %s\n", text); return 1; }
    printf("%.*s", (int)(strchr(b4, '\n') - b4 + 1), b4);
    printf("%.*s", (int)(strchr(b1, '\n') - b1 + 1), b1);
    return failed;
}
