/* proc-group: process groups and sessions, as a shell's job control uses them. A child starts
 * in its parent's group; setpgid(child, child) in the parent (and in the child: the shell's
 * race-free pair) makes it a group leader, seen by getpgid from both; waitpid(-pgid) and
 * waitpid(0) select by group; kill(-pgid, SIGTERM) ends every member of the group and nobody
 * else; setsid in a child makes it a session leader (getsid, and a new group); setpgid of an
 * unknown pid is ESRCH; a session leader cannot setpgid to another group (EPERM). */
#include "difftest.h"
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    dt_start("proc-group");
    pid_t me = getpid();
    setpgid(0, 0); /* a group of our own, as a shell leads its own */
    dt_check(getpgrp() == me && getpgid(0) == me, "setpgid(0, 0) makes the caller a group leader", "pgrp is not the pid");

    int ready[2], hold[2];
    pipe(ready);
    pipe(hold);
    pid_t child = fork();
    if (child == 0) {
        char byte = getpgrp() == me ? 'i' : '-';
        write(ready[1], &byte, 1);
        setpgid(0, 0);
        close(hold[1]);
        read(hold[0], &byte, 1);
        _exit(0);
    }
    char inherited;
    read(ready[0], &inherited, 1);
    setpgid(child, child);
    dt_check(inherited == 'i', "a child starts in its parent's group", "it did not");
    dt_check(getpgid(child) == child, "after setpgid the child leads its own group", "getpgid %d", (int)(getpgid(child) == child));

    pid_t second = fork();
    if (second == 0) {
        setpgid(0, child); /* joins the first child's group (a pipeline's second command) */
        write(ready[1], "j", 1);
        char byte;
        close(hold[1]);
        read(hold[0], &byte, 1);
        _exit(0);
    }
    setpgid(second, child);
    char joined;
    read(ready[0], &joined, 1);
    dt_check(getpgid(second) == child, "a second child joins the first one's group", "it did not");

    pid_t bystander = fork();
    if (bystander == 0) {
        char byte;
        close(hold[1]);
        read(hold[0], &byte, 1);
        _exit(7);
    }
    int status = 0;
    dt_check(waitpid(-child, &status, WNOHANG) == 0, "waitpid(-pgid, WNOHANG) gives 0 while the group runs", "it did not");
    dt_check(kill(-child, SIGTERM) == 0, "kill(-pgid, SIGTERM) succeeds", "%s", dt_errno_name(errno));
    int ended = 0;
    for (int i = 0; i < 2; i++) {
        pid_t got = waitpid(-child, &status, 0);
        if ((got == child || got == second) && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) ended++;
    }
    dt_check(ended == 2, "kill(-pgid) ends both members, waitpid(-pgid) reports both", "%d ended", ended);
    DT_EXPECT_ERRNO(waitpid(-child, &status, WNOHANG), ECHILD, "then the group has nobody left to wait for");
    close(hold[1]);
    pid_t got = waitpid(0, &status, 0);
    dt_check(got == bystander && WIFEXITED(status) && WEXITSTATUS(status) == 7, "the bystander in our group was untouched; waitpid(0) finds it",
             "status 0x%x", status);

    child = fork();
    if (child == 0) {
        pid_t session = setsid();
        int ok = session == getpid() && getsid(0) == getpid() && getpgrp() == getpid();
        int perm = setpgid(0, me) == -1 && errno == EPERM;
        _exit(ok && perm ? 60 : 61);
    }
    waitpid(child, &status, 0);
    dt_check(WIFEXITED(status) && WEXITSTATUS(status) == 60, "setsid makes a child the leader of a new session and group; it cannot leave it",
             "status 0x%x", status);
    DT_EXPECT_ERRNO(setsid(), EPERM, "a group leader cannot setsid");
    return dt_finish();
}
