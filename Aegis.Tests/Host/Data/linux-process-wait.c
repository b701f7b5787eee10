/* Raw wait statuses and waitid siginfo from the host kernel, as "name value" lines, for
   LinuxProcessTests (the process layer's WaitStatus must encode exactly these). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static int status_of(int how)
{
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit none = {0, 0};
        setrlimit(RLIMIT_CORE, &none); /* no core file: WCOREDUMP stays clear */
        if (how == 0) _exit(7);
        if (how == 1) _exit(255);
        if (how == 2) { kill(getpid(), SIGKILL); for (;;) pause(); }
        if (how == 3) { kill(getpid(), SIGTERM); for (;;) pause(); }
        if (how == 4) { raise(SIGSTOP); _exit(3); }
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, WUNTRACED);
    if (how == 4) { printf("stopped %d\n", status); kill(pid, SIGCONT); waitpid(pid, &status, WCONTINUED); printf("continued %d\n", status); waitpid(pid, &status, 0); }
    return status;
}

int main(void)
{
    printf("exit7 %d\n", status_of(0));
    printf("exit255 %d\n", status_of(1));
    printf("sigkill %d\n", status_of(2));
    printf("sigterm %d\n", status_of(3));
    printf("stopthenexit3 %d\n", status_of(4));
    pid_t pid = fork();
    if (pid == 0) _exit(5);
    siginfo_t info = {0};
    waitid(P_PID, pid, &info, WEXITED);
    printf("waitid_signo %d\nwaitid_code %d\nwaitid_status %d\nwaitid_pid_matches %d\n", info.si_signo, info.si_code, info.si_status, info.si_pid == pid);
    pid = fork();
    if (pid == 0) { kill(getpid(), SIGKILL); for (;;) pause(); }
    siginfo_t killed = {0};
    waitid(P_PID, pid, &killed, WEXITED);
    printf("waitid_killed_code %d\nwaitid_killed_status %d\n", killed.si_code, killed.si_status);
    int status;
    printf("echild %d\n", waitpid(-1, &status, WNOHANG) == -1);
    printf("wnohang_option %d\nwuntraced_option %d\nwcontinued_option %d\nwnowait_option %d\nwexited_option %d\n", WNOHANG, WUNTRACED, WCONTINUED, WNOWAIT, WEXITED);
    return 0;
}
