/* fork: processes and their statuses. A child sees its parent's pid as getppid() and a copy of
 * its memory; waitpid reports exit(3) as WIFEXITED/3, a SIGKILL and a raise(SIGTERM) as
 * WIFSIGNALED with the signal; WNOHANG gives 0 while the child still runs (it waits for a byte
 * on a pipe); a child that execve's this program with the argument "exit 5" reports 5; an
 * execve of a missing file gives ENOENT in the child; vfork + _exit(4) reports 4; wait with no
 * children gives ECHILD. A child sees the touched pages of a small and of a 256 MiB private
 * anonymous mapping (a long area: the libOS hands on the pages it knows, not a page-table walk),
 * and its writes to them are its own. Exit status 0 when every check passed. */
#include "difftest.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static int run(pid_t child, const char *what, int expect_signal, int expected)
{
    int status = 0;
    pid_t waited = waitpid(child, &status, 0);
    int ok = waited == child &&
             (expect_signal ? WIFSIGNALED(status) && WTERMSIG(status) == expected
                            : WIFEXITED(status) && WEXITSTATUS(status) == expected);
    dt_check(ok, what, "waitpid %s, status 0x%x", waited == child ? "matched" : "other", status);
    return status;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "exit") == 0)
        _exit(atoi(argv[2]));
    dt_start("fork");
    pid_t me = getpid();
    volatile int copied = 41;

    int report[2];
    pipe(report);
    pid_t child = fork();
    if (child == 0) {
        char answer[2] = {getppid() == me ? 'y' : 'n', copied == 41 ? 'y' : 'n'};
        copied = 0;
        write(report[1], answer, 2);
        _exit(3);
    }
    dt_check(child > 0, "fork returns the child's pid to the parent", "%s", dt_result(child, errno));
    char answer[2] = {0, 0};
    read(report[0], answer, 2);
    dt_check(answer[0] == 'y', "the child's getppid is the parent's pid", "it is not");
    dt_check(answer[1] == 'y', "the child has a copy of the parent's memory", "it has not");
    run(child, "exit(3) gives WIFEXITED with 3", 0, 3);
    dt_check(copied == 41, "the child's write is not seen by the parent", "it is");
    close(report[0]);
    close(report[1]);

    int gate[2];
    pipe(gate);
    child = fork();
    if (child == 0) {
        char byte;
        read(gate[0], &byte, 1);
        _exit(byte);
    }
    int status = 0;
    pid_t early = waitpid(child, &status, WNOHANG);
    dt_check(early == 0, "WNOHANG gives 0 while the child runs", "got %s", dt_result(early, errno));
    char byte = 9;
    write(gate[1], &byte, 1);
    run(child, "the released child exits 9", 0, 9);
    close(gate[0]);
    close(gate[1]);

    child = fork();
    if (child == 0) {
        for (;;)
            pause();
    }
    kill(child, SIGKILL);
    run(child, "SIGKILL gives WIFSIGNALED with SIGKILL", 1, SIGKILL);

    child = fork();
    if (child == 0) {
        raise(SIGTERM);
        _exit(100);
    }
    run(child, "raise(SIGTERM) gives WIFSIGNALED with SIGTERM", 1, SIGTERM);

    child = fork();
    if (child == 0) {
        char *arguments[] = {argv[0], "exit", "5", NULL};
        char *environment[] = {NULL};
        execve(argv[0], arguments, environment);
        _exit(99);
    }
    run(child, "a child that execve's this program reports its exit 5", 0, 5);

    child = fork();
    if (child == 0) {
        char *arguments[] = {"/no/such/program", NULL};
        char *environment[] = {NULL};
        execve(arguments[0], arguments, environment);
        _exit(errno == ENOENT ? 6 : 7);
    }
    run(child, "execve of a missing file gives ENOENT (the child exits 6)", 0, 6);

    child = vfork();
    if (child == 0)
        _exit(4);
    run(child, "vfork + _exit(4) reports 4", 0, 4);

    size_t small = 16 * 4096, large = (size_t)256 << 20;
    char *a = mmap(NULL, small, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *b = mmap(NULL, large, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    dt_check(a != MAP_FAILED && b != MAP_FAILED, "a small and a 256 MiB anonymous mapping", "mmap failed");
    if (a != MAP_FAILED && b != MAP_FAILED) {
        a[5 * 4096] = 'a';
        b[0] = 'b';
        b[large / 2 + 123] = 'c';
        b[large - 1] = 'd';
        child = fork();
        if (child == 0) {
            int seen = a[5 * 4096] == 'a' && a[0] == 0 && b[0] == 'b' && b[large / 2 + 123] == 'c' && b[large - 1] == 'd' && b[4096] == 0;
            a[5 * 4096] = b[0] = b[large / 2 + 123] = 'x';
            _exit(seen ? 10 : 11);
        }
        run(child, "the child sees the touched pages of both mappings (exits 10)", 0, 10);
        dt_check(a[5 * 4096] == 'a' && b[0] == 'b' && b[large / 2 + 123] == 'c', "the child's writes to them are its own", "the parent sees them");
        munmap(a, small);
        munmap(b, large);
    }

    DT_EXPECT_ERRNO(wait(&status), ECHILD, "wait with no children gives ECHILD");
    DT_EXPECT_ERRNO(waitpid(me, &status, 0), ECHILD, "waitpid of a non-child gives ECHILD");
    return dt_finish();
}
