/* proc-kill: signals between processes. A child computing without system calls killed by
 * SIGKILL is WIFSIGNALED with SIGKILL; a child blocked in a pipe read killed by SIGTERM is
 * WIFSIGNALED with SIGTERM; kill(pid, 0) of a live child is 0; a child that catches SIGUSR1
 * from its parent exits with what its handler saw; SIGCHLD reaches a parent's handler when its
 * child exits. */
#include "difftest.h"
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got_usr1, got_chld;
static void on_usr1(int signal) { got_usr1 = signal; }
static void on_chld(int signal) { got_chld = signal; }

int main(void)
{
    dt_start("proc-kill");
    int status = 0;
    int ready[2];
    pipe(ready);

    pid_t child = fork();
    if (child == 0) {
        write(ready[1], "r", 1);
        for (volatile unsigned long i = 0;; i++) { }
    }
    char byte;
    read(ready[0], &byte, 1);
    dt_check(kill(child, 0) == 0, "kill(pid, 0) of a live child is 0", "%s", dt_errno_name(errno));
    dt_check(kill(child, SIGKILL) == 0, "kill(child, SIGKILL) succeeds", "%s", dt_errno_name(errno));
    pid_t got = waitpid(child, &status, 0);
    dt_check(got == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "a computing child killed by SIGKILL is WIFSIGNALED with SIGKILL",
             "status 0x%x", status);

    int block[2];
    pipe(block);
    child = fork();
    if (child == 0) {
        close(block[1]);
        write(ready[1], "r", 1);
        read(block[0], &byte, 1);
        _exit(50);
    }
    close(block[0]);
    read(ready[0], &byte, 1);
    kill(child, SIGTERM);
    got = waitpid(child, &status, 0);
    dt_check(got == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "a child blocked in read killed by SIGTERM is WIFSIGNALED with SIGTERM",
             "status 0x%x", status);
    close(block[1]);

    signal(SIGCHLD, on_chld);
    int hold[2];
    pipe(hold);
    child = fork();
    if (child == 0) {
        struct sigaction action = {0};
        action.sa_handler = on_usr1; /* no SA_RESTART (signal() would set it): the read returns EINTR */
        sigaction(SIGUSR1, &action, NULL);
        close(hold[1]);
        write(ready[1], "r", 1);
        while (!got_usr1) read(hold[0], &byte, 1); /* EINTR when the signal comes */
        _exit(got_usr1 == SIGUSR1 ? 21 : 22);
    }
    close(hold[0]);
    read(ready[0], &byte, 1);
    kill(child, SIGUSR1);
    got = waitpid(child, &status, 0);
    dt_check(got == child && WIFEXITED(status) && WEXITSTATUS(status) == 21, "a child's SIGUSR1 handler runs (it exits 21)", "status 0x%x", status);
    dt_check(got_chld == SIGCHLD, "SIGCHLD reached the parent's handler", "got %d", (int)got_chld);
    close(hold[1]);
    DT_EXPECT_ERRNO(kill(child, SIGTERM), ESRCH, "kill of a waited-for child gives ESRCH");
    return dt_finish();
}
