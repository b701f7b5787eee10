/* proc-wait: fork, exit statuses and wait (the process layer, LibOS.Unixish/Linux/Processes).
 * fork + _exit(7) + wait gives WIFEXITED 7; the child's getppid is the parent's pid; the child's
 * writes stay its own; WNOHANG gives 0 while the only child runs, then its pid; a child that
 * exits before the parent waits is kept (a zombie) until waited for, once; waitpid of a
 * non-child and wait without children give ECHILD; waitid reports CLD_EXITED with the code;
 * WNOWAIT leaves the child waitable; wait4 zeroes nothing it should not (status of exit(0)). */
#include "difftest.h"
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    dt_start("proc-wait");
    pid_t me = getpid();
    static volatile int shared_value = 1;

    pid_t child = fork();
    if (child == 0) {
        shared_value = 2;
        _exit(getppid() == me ? 7 : 8);
    }
    int status = -1;
    pid_t waited = wait(&status);
    dt_check(waited == child, "wait returns the child's pid", "%s", dt_result(waited, errno));
    dt_check(WIFEXITED(status) && WEXITSTATUS(status) == 7, "fork + _exit(7) + wait gives WIFEXITED 7 (the child's getppid was the parent's pid)",
             "status 0x%x", status);
    dt_check(shared_value == 1, "the child's write is not seen by the parent", "it is");

    /* A zombie: the child has surely ended before we look (we wait for it with WNOHANG polling). */
    child = fork();
    if (child == 0) _exit(0);
    int polls = 0;
    pid_t got;
    while ((got = waitpid(child, &status, WNOHANG)) == 0 && polls < 1000000) { polls++; sched_yield(); }
    dt_check(got == child && WIFEXITED(status) && WEXITSTATUS(status) == 0, "WNOHANG polling eventually reports the child (exit 0)",
             "%s, status 0x%x", dt_result(got, errno), status);
    DT_EXPECT_ERRNO(waitpid(child, &status, WNOHANG), ECHILD, "a child is reported once (then ECHILD)");

    /* WNOHANG while the child is blocked. */
    int gate[2];
    pipe(gate);
    child = fork();
    if (child == 0) {
        char byte = 0;
        close(gate[1]);
        read(gate[0], &byte, 1);
        _exit(byte);
    }
    close(gate[0]);
    got = waitpid(-1, &status, WNOHANG);
    dt_check(got == 0, "waitpid(-1, WNOHANG) gives 0 while the child runs", "%s", dt_result(got, errno));
    char byte = 12;
    write(gate[1], &byte, 1);
    close(gate[1]);
    got = waitpid(-1, &status, 0);
    dt_check(got == child && WIFEXITED(status) && WEXITSTATUS(status) == 12, "waitpid(-1) then reports exit 12", "%s, 0x%x", dt_result(got, errno), status);

    /* waitid, WNOWAIT. */
    child = fork();
    if (child == 0) _exit(33);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    int r = waitid(P_PID, child, &info, WEXITED | WNOWAIT);
    dt_check(r == 0 && info.si_pid == child && info.si_code == CLD_EXITED && info.si_status == 33 && info.si_signo == SIGCHLD,
             "waitid(WNOWAIT) reports CLD_EXITED 33", "r %d code %d status %d", r, info.si_code, info.si_status);
    memset(&info, 0, sizeof info);
    r = waitid(P_ALL, 0, &info, WEXITED);
    dt_check(r == 0 && info.si_pid == child && info.si_status == 33, "after WNOWAIT the child is still waitable", "r %d pid match %d", r, info.si_pid == child);

    struct rusage usage;
    child = fork();
    if (child == 0) _exit(0);
    got = wait4(child, &status, 0, &usage);
    dt_check(got == child && status == 0, "wait4 with rusage reports exit 0 as status 0", "%s 0x%x", dt_result(got, errno), status);

    DT_EXPECT_ERRNO(wait(&status), ECHILD, "wait with no children gives ECHILD");
    DT_EXPECT_ERRNO(waitpid(1, &status, 0), ECHILD, "waitpid of a non-child gives ECHILD");
    DT_EXPECT_ERRNO(waitpid(-1, &status, 0x1000), EINVAL, "an unknown option gives EINVAL");
    return dt_finish();
}
