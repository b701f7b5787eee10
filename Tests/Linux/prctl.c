/* prctl: the process name (PR_SET_NAME/PR_GET_NAME, at most 15 bytes, seen in /proc/self/comm and
 * /proc/self/status, inherited by a fork's child), PR_GET/SET_DUMPABLE (0 and 1; 2 refused),
 * PR_SET/GET_PDEATHSIG (stored; a fork's child starts with 0; a signal above 64 refused), an
 * unknown option (EINVAL) and bad pointers (EFAULT). Exit status 0 when every check passed. */
#include "difftest.h"
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void read_line(const char *path, const char *prefix, char *out, size_t size)
{
    out[0] = 0;
    FILE *file = fopen(path, "r");
    if (file == NULL)
        return;
    char line[256];
    while (fgets(line, sizeof line, file) != NULL)
        if (strncmp(line, prefix, strlen(prefix)) == 0) {
            snprintf(out, size, "%s", line + strlen(prefix));
            out[strcspn(out, "\n")] = 0;
            break;
        }
    fclose(file);
}

int main(void)
{
    dt_start("prctl");
    char name[32] = { 0 };
    DT_EXPECT_OK(prctl(PR_GET_NAME, name), "PR_GET_NAME");
    printf("the name at start: %s\n", name);
    DT_EXPECT_OK(prctl(PR_SET_NAME, "renamed-by-prctl-long"), "PR_SET_NAME with 21 bytes");
    memset(name, 'x', sizeof name);
    DT_EXPECT_OK(prctl(PR_GET_NAME, name), "PR_GET_NAME after it");
    printf("the name now: %s (%zu bytes)\n", name, strlen(name));
    char comm[64];
    read_line("/proc/self/comm", "", comm, sizeof comm);
    printf("/proc/self/comm: %s\n", comm);
    char status[64];
    read_line("/proc/self/status", "Name:\t", status, sizeof status);
    printf("/proc/self/status Name: %s\n", status);

    printf("PR_GET_DUMPABLE: %d\n", prctl(PR_GET_DUMPABLE));
    DT_EXPECT_OK(prctl(PR_SET_DUMPABLE, 0), "PR_SET_DUMPABLE 0");
    printf("PR_GET_DUMPABLE after setting 0: %d\n", prctl(PR_GET_DUMPABLE));
    DT_EXPECT_ERRNO(prctl(PR_SET_DUMPABLE, 2), EINVAL, "PR_SET_DUMPABLE 2 gives EINVAL");
    DT_EXPECT_OK(prctl(PR_SET_DUMPABLE, 1), "PR_SET_DUMPABLE 1");

    int death = -1;
    DT_EXPECT_OK(prctl(PR_GET_PDEATHSIG, &death), "PR_GET_PDEATHSIG");
    printf("the parent-death signal at start: %d\n", death);
    DT_EXPECT_OK(prctl(PR_SET_PDEATHSIG, SIGUSR1), "PR_SET_PDEATHSIG SIGUSR1");
    DT_EXPECT_OK(prctl(PR_GET_PDEATHSIG, &death), "PR_GET_PDEATHSIG");
    printf("the parent-death signal now: %d\n", death);
    DT_EXPECT_ERRNO(prctl(PR_SET_PDEATHSIG, 65), EINVAL, "PR_SET_PDEATHSIG 65 gives EINVAL");

    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        int child_death = -1;
        char child_name[32] = { 0 };
        prctl(PR_GET_PDEATHSIG, &child_death);
        prctl(PR_GET_NAME, child_name);
        printf("in a fork's child: parent-death signal %d, name %s\n", child_death, child_name);
        fflush(stdout);
        _exit(0);
    }
    int wait_status = 0;
    waitpid(child, &wait_status, 0);
    dt_check(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0, "the child exited with 0", "status %#x", wait_status);

    DT_EXPECT_ERRNO(prctl(0x7fff0000, 0, 0, 0, 0), EINVAL, "an unknown option gives EINVAL");
    DT_EXPECT_ERRNO(prctl(PR_GET_NAME, (void *)1), EFAULT, "PR_GET_NAME into a bad pointer gives EFAULT");
    DT_EXPECT_ERRNO(prctl(PR_SET_NAME, (void *)1), EFAULT, "PR_SET_NAME from a bad pointer gives EFAULT");
    DT_EXPECT_ERRNO(prctl(PR_GET_PDEATHSIG, (void *)1), EFAULT, "PR_GET_PDEATHSIG into a bad pointer gives EFAULT");
    return dt_finish();
}
