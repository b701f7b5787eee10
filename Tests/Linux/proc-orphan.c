/* proc-orphan: a process whose parent exits. The program forks A, A forks B; B asks for SIGUSR1
 * when its parent dies (prctl PR_SET_PDEATHSIG), tells A it is ready, and waits; A exits 7. B's
 * handler runs, its getppid no longer names A (Linux reparents it), and PR_GET_PDEATHSIG still
 * reads SIGUSR1; B reports through a pipe the program reads (poll: at most 5 seconds). */
#include "difftest.h"
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static void on_usr1(int signal) { got = signal; }

static void run_b(int ready, int report)
{
    signal(SIGUSR1, on_usr1);
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGUSR1) != 0) _exit(1);
    write(ready, "r", 1);
    struct timespec tick = {0, 10 * 1000 * 1000};
    for (int i = 0; i < 500 && !got; i++) nanosleep(&tick, NULL);
    for (int i = 0; i < 500 && getppid() == parent; i++) nanosleep(&tick, NULL);
    int kept = 0;
    prctl(PR_GET_PDEATHSIG, &kept);
    char line[128];
    int length = snprintf(line, sizeof line, "B: %s, getppid %s, PR_GET_PDEATHSIG %d\n",
                          got == SIGUSR1 ? "SIGUSR1 came" : "no signal", getppid() != parent ? "changed" : "unchanged", kept);
    write(report, line, length);
    _exit(0);
}

int main(void)
{
    dt_start("proc-orphan");
    int ready[2], report[2];
    pipe(ready);
    pipe(report);
    pid_t a = fork();
    if (a == 0) {
        pid_t b = fork();
        if (b == 0) run_b(ready[1], report[1]);
        char byte;
        read(ready[0], &byte, 1);
        _exit(7);
    }
    close(report[1]);
    int status = 0;
    dt_check(waitpid(a, &status, 0) == a && WIFEXITED(status) && WEXITSTATUS(status) == 7, "A exits 7", "status 0x%x", status);
    struct pollfd wanted = {.fd = report[0], .events = POLLIN};
    char line[128] = {0};
    ssize_t length = poll(&wanted, 1, 5000) == 1 ? read(report[0], line, sizeof line - 1) : -1;
    if (length > 0) line[length] = 0;
    printf("%s", length > 0 ? line : "B did not report\n");
    return dt_finish();
}
