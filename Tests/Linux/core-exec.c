/* core-exec: execve in place. Run without arguments it first tries three execve calls that
 * must fail and return (a missing file: ENOENT, a text file: ENOEXEC, a bad path pointer:
 * EFAULT), then execs itself with the argument "child" and a one-variable environment; the
 * child prints what it received and exits 5 (the status the test sees, from the same pid). */
// Linked static (LinuxCoreTests: execve of a static program in place; tools/rootfs/build-program.sh):
// aegis-link: static
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv, char **envp)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        printf("child: argc %d, argv[0] %s, env %s, next env %s\n", argc, argv[0], envp[0] ? envp[0] : "(none)",
               envp[0] && envp[1] ? envp[1] : "(none)");
        printf("child: pid %s\n", argc > 2 && atoi(argv[2]) == getpid() ? "unchanged" : "CHANGED");
        return 5;
    }
    char *arguments[] = {"/tests/core-exec", "child", NULL, NULL};
    char *environment[] = {"FROM=parent", NULL};
    char *volatile bad = (char *)16;
    errno = 0;
    printf("missing file: %s\n", execve("/tests/no-such-file", arguments, environment) == -1 && errno == ENOENT ? "ENOENT" : "WRONG");
    printf("text file: %s\n", execve("/tests/core-text", arguments, environment) == -1 && errno == ENOEXEC ? "ENOEXEC" : "WRONG");
    printf("bad path: %s\n", execve(bad, arguments, environment) == -1 && errno == EFAULT ? "EFAULT" : "WRONG");
    char pid[32];
    snprintf(pid, sizeof pid, "%d", getpid());
    arguments[2] = pid;
    execve("/tests/core-exec", arguments, environment);
    printf("execve returned: WRONG (errno %d)\n", errno);
    return 1;
}
