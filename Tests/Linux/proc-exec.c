/* proc-exec: fork + execve + wait. The child execve's this program (argument "child N"), which
 * reports its argument as its exit status and its parent's pid through getppid being the pid
 * that forked it; an environment variable passes through execve; descriptors stay open across
 * execve (the child writes to an inherited pipe), close-on-exec ones are closed. */
#include "difftest.h"
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "child") == 0) {
        int fd = atoi(argv[3]), cloexec_fd = atoi(argv[4]);
        const char *value = getenv("PROC_EXEC");
        char line[8] = {value && strcmp(value, "passed") == 0 ? 'e' : '-', getppid() == (pid_t)atoi(argv[2]) ? 'p' : '-',
                        fcntl(cloexec_fd, F_GETFD) == -1 && errno == EBADF ? 'c' : '-', 0};
        write(fd, line, 3);
        return 17;
    }
    dt_start("proc-exec");
    int p[2], q[2];
    pipe(p);
    pipe2(q, O_CLOEXEC);
    pid_t child = fork();
    if (child == 0) {
        char parent[16], fd[16], cloexec_fd[16];
        snprintf(parent, sizeof parent, "%d", (int)getppid());
        snprintf(fd, sizeof fd, "%d", p[1]);
        snprintf(cloexec_fd, sizeof cloexec_fd, "%d", q[0]);
        char *arguments[] = {argv[0], "child", parent, fd, cloexec_fd, NULL};
        char *environment[] = {"PROC_EXEC=passed", NULL};
        execve(argv[0], arguments, environment);
        _exit(99);
    }
    close(p[1]);
    char line[4] = {0};
    ssize_t n = read(p[0], line, 3);
    int status = 0;
    pid_t got = waitpid(child, &status, 0);
    dt_check(got == child && WIFEXITED(status) && WEXITSTATUS(status) == 17, "fork + execve + wait reports the new program's exit 17", "status 0x%x", status);
    dt_check(n == 3 && line[0] == 'e', "the environment passes through execve", "got %.3s", line);
    dt_check(n == 3 && line[1] == 'p', "getppid after execve is the forking process", "got %.3s", line);
    dt_check(n == 3 && line[2] == 'c', "a close-on-exec descriptor is closed, an inherited pipe open", "got %.3s", line);
    return dt_finish();
}
