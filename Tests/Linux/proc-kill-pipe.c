/* proc-kill-pipe: a process's pipe ends close when it is killed. A child that holds the write
 * end of a pipe and computes until SIGKILL ends it: the parent's read then sees end of file (a
 * descriptor of the killed process left open would block it: poll's 5-second limit reports
 * that instead). A child holding the read end, killed: the parent's write fails with EPIPE. */
#include "difftest.h"
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t computing_child(int ready, int keep, int drop)
{
    pid_t child = fork();
    if (child == 0) {
        close(drop);
        (void)keep;
        write(ready, "r", 1);
        for (volatile unsigned long i = 0;; i++) { }
    }
    return child;
}

static int killed(pid_t child)
{
    int status = 0;
    kill(child, SIGKILL);
    return waitpid(child, &status, 0) == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

int main(void)
{
    dt_start("proc-kill-pipe");
    signal(SIGPIPE, SIG_IGN);
    int ready[2], data[2];
    char byte;
    pipe(ready);

    pipe(data);
    pid_t child = computing_child(ready[1], data[1], data[0]);
    close(data[1]);
    read(ready[0], &byte, 1);
    dt_check(killed(child), "the writer is killed by SIGKILL", "not WIFSIGNALED with SIGKILL");
    struct pollfd wait_for = {.fd = data[0], .events = POLLIN};
    int ready_count = poll(&wait_for, 1, 5000);
    dt_check(ready_count == 1, "the read end becomes readable", "poll returned %d", ready_count);
    dt_check(ready_count == 1 && read(data[0], &byte, 1) == 0, "the read sees end of file", "not end of file");
    close(data[0]);

    pipe(data);
    child = computing_child(ready[1], data[0], data[1]);
    close(data[0]);
    read(ready[0], &byte, 1);
    dt_check(killed(child), "the reader is killed by SIGKILL", "not WIFSIGNALED with SIGKILL");
    errno = 0;
    ssize_t written = write(data[1], "x", 1);
    dt_check(written == -1 && errno == EPIPE, "a write with no reader left fails with EPIPE", "wrote %zd, %s", written, dt_errno_name(errno));
    return dt_finish();
}
