/* proc-kill-busy: signals from another process reach a process whatever it is doing. A child
 * computing without system calls killed by SIGTERM is WIFSIGNALED with SIGTERM; a computing
 * child's SIGUSR1 handler runs (the loop it ends exits 33); a child sleeping 100 s killed by
 * SIGTERM ends at once; a sleeping child's handler interrupts nanosleep with EINTR and the time
 * left; kill(-pgid) ends a computing process group. (The issue-9 known limit this lifts: a
 * signal reached only a process blocked in the kernel's Wait.) */
#include "difftest.h"
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_usr1;
static void on_usr1(int signal) { got_usr1 = signal; }

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* Forks a child that tells the parent it is ready (one byte on the pipe), then runs body. */
static pid_t start(int ready[2], void (*body)(void))
{
    pid_t child = fork();
    if (child == 0) {
        body();
        _exit(99);
    }
    char byte;
    read(ready[0], &byte, 1);
    return child;
}

static int ready_fd;
static void say_ready(void) { write(ready_fd, "r", 1); }

static void compute(void)
{
    say_ready();
    for (volatile unsigned long i = 0;; i++) { }
}

static void compute_until_usr1(void)
{
    struct sigaction action = {0};
    action.sa_handler = on_usr1;
    sigaction(SIGUSR1, &action, NULL);
    say_ready();
    for (volatile unsigned long i = 0; !got_usr1; i++) { }
    _exit(got_usr1 == SIGUSR1 ? 33 : 34);
}

static void sleep_long(void)
{
    say_ready();
    struct timespec t = {100, 0};
    nanosleep(&t, NULL);
    _exit(40);
}

static void sleep_until_usr1(void)
{
    struct sigaction action = {0};
    action.sa_handler = on_usr1;
    sigaction(SIGUSR1, &action, NULL);
    say_ready();
    struct timespec t = {100, 0}, left = {0, 0};
    if (got_usr1) _exit(46); /* the parent waits before it sends: the signal must find us asleep */
    int r = nanosleep(&t, &left);
    int eintr = r == -1 && errno == EINTR;
    _exit(eintr && got_usr1 == SIGUSR1 && left.tv_sec >= 80 && left.tv_sec <= 100 ? 44 : 45);
}

static void group_compute(void)
{
    setpgid(0, 0);
    pid_t grandchild = fork();
    if (grandchild == 0) {
        for (volatile unsigned long i = 0;; i++) { }
    }
    say_ready();
    for (volatile unsigned long i = 0;; i++) { }
}

int main(void)
{
    dt_start("proc-kill-busy");
    int ready[2];
    pipe(ready);
    ready_fd = ready[1];
    int status = 0;

    pid_t child = start(ready, compute);
    dt_check(kill(child, SIGTERM) == 0, "kill(computing child, SIGTERM) succeeds", "%s", dt_errno_name(errno));
    pid_t got = waitpid(child, &status, 0);
    dt_check(got == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "a computing child killed by SIGTERM is WIFSIGNALED with SIGTERM",
             "status 0x%x", status);

    child = start(ready, compute_until_usr1);
    kill(child, SIGUSR1);
    got = waitpid(child, &status, 0);
    dt_check(got == child && WIFEXITED(status) && WEXITSTATUS(status) == 33, "a computing child's SIGUSR1 handler runs (it exits 33)", "status 0x%x", status);

    double before = now();
    child = start(ready, sleep_long);
    kill(child, SIGTERM);
    got = waitpid(child, &status, 0);
    double took = now() - before;
    dt_check(got == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "a sleeping child killed by SIGTERM is WIFSIGNALED with SIGTERM",
             "status 0x%x", status);
    dt_check(took < 10, "the sleeping child ended at once, not after its 100 s", "took %.1f s", took);

    child = start(ready, sleep_until_usr1);
    struct timespec settle = {0, 300 * 1000 * 1000};
    nanosleep(&settle, NULL); /* time for the child to reach its nanosleep */
    kill(child, SIGUSR1);
    got = waitpid(child, &status, 0);
    dt_check(got == child && WIFEXITED(status) && WEXITSTATUS(status) == 44, "SIGUSR1 interrupts nanosleep with EINTR and the time left (it exits 44)",
             "status 0x%x", status);

    child = start(ready, group_compute);
    dt_check(kill(-child, SIGTERM) == 0, "kill(-pgid, SIGTERM) of a computing group succeeds", "%s", dt_errno_name(errno));
    got = waitpid(child, &status, 0);
    dt_check(got == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "the group's leader is WIFSIGNALED with SIGTERM", "status 0x%x", status);
    return dt_finish();
}
