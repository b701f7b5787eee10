/* core-poll-sleep: poll and select on a pipe another process writes sleep until it writes; they
 * do not spin. A child sleeps 300 ms, then writes a byte (once for poll, once for select); the
 * parent waits for it with poll, then with select. Besides what the calls return, it prints
 * whether the machine was idle for at least half of each wait (/proc/uptime's second field: the
 * CPU's idle time): a poller that looked again and again would keep the CPU busy all along.
 * Aegis only (a busy host has no idle time to show): LinuxCoreTests reads the lines. */
// Linked static (LinuxCoreTests: the static programs of the personality's core; tools/rootfs/build-program.sh):
// aegis-link: static
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double idle_seconds(void)
{
    FILE *file = fopen("/proc/uptime", "r");
    double up = 0, idle = -1;
    if (file == NULL) return -1;
    if (fscanf(file, "%lf %lf", &up, &idle) != 2) idle = -1;
    fclose(file);
    return idle;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static pid_t late_writer(int fd)
{
    pid_t child = fork();
    if (child == 0) {
        struct timespec pause = {0, 300 * 1000 * 1000};
        nanosleep(&pause, NULL);
        write(fd, "x", 1);
        _exit(0);
    }
    return child;
}

static void verdict(const char *call, double idle_before, double started)
{
    double waited = now() - started, idle = idle_seconds() - idle_before;
    if (idle >= waited / 2 && waited >= 0.25)
        printf("%s: slept\n", call);
    else
        printf("%s: spun (idle %.2f s of %.2f s)\n", call, idle, waited);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int p[2];
    char byte;
    pipe(p);

    double idle = idle_seconds(), started = now();
    pid_t child = late_writer(p[1]);
    struct pollfd wanted = {.fd = p[0], .events = POLLIN};
    int ready = poll(&wanted, 1, 5000);
    printf("poll: %d, %s\n", ready, (wanted.revents & POLLIN) ? "POLLIN" : "no POLLIN");
    verdict("poll", idle, started);
    read(p[0], &byte, 1);
    waitpid(child, NULL, 0);

    idle = idle_seconds();
    started = now();
    child = late_writer(p[1]);
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(p[0], &readable);
    struct timeval limit = {5, 0};
    ready = select(p[0] + 1, &readable, NULL, NULL, &limit);
    printf("select: %d, %s\n", ready, FD_ISSET(p[0], &readable) ? "readable" : "not readable");
    verdict("select", idle, started);
    waitpid(child, NULL, 0);
    return 0;
}
