/* sigchld: signals to this process. With SIGCHLD blocked, a child's exit(9) leaves SIGCHLD
 * pending (sigpending); sigsuspend then runs the SA_SIGINFO handler once with si_signo SIGCHLD,
 * si_code CLD_EXITED, si_pid the child and si_status 9; a SIGUSR1 sent to itself with kill runs
 * its handler before kill returns, with si_code SI_USER and si_pid its own pid; a handler
 * installed with SA_RESETHAND runs once and is then reset to SIG_DFL; rt_sigaction and
 * sigprocmask read back what was set; SIGKILL cannot be caught (EINVAL); sigaltstack runs a
 * handler on the alternate stack. Exit status 0 when every check passed. */
#include "difftest.h"
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int chld_count, chld_code, chld_status, usr1_count, usr1_code, usr2_count, on_alternate;
static volatile pid_t chld_pid, usr1_pid;
static char alternate[65536];

static void on_chld(int signal, siginfo_t *info, void *context)
{
    (void)context;
    if (signal != SIGCHLD || info->si_signo != SIGCHLD)
        _exit(3);
    chld_count++;
    chld_code = info->si_code;
    chld_pid = info->si_pid;
    chld_status = info->si_status;
}

static void on_usr1(int signal, siginfo_t *info, void *context)
{
    (void)signal;
    (void)context;
    usr1_count++;
    usr1_code = info->si_code;
    usr1_pid = info->si_pid;
    char local;
    on_alternate = (uintptr_t)&local >= (uintptr_t)alternate && (uintptr_t)&local < (uintptr_t)alternate + sizeof alternate;
}

static void on_usr2(int signal)
{
    (void)signal;
    usr2_count++;
}

int main(void)
{
    dt_start("sigchld");
    struct sigaction action = {0};
    action.sa_sigaction = on_chld;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&action.sa_mask);
    DT_EXPECT_OK(sigaction(SIGCHLD, &action, NULL), "sigaction SIGCHLD");
    struct sigaction read_back;
    sigaction(SIGCHLD, NULL, &read_back);
    dt_check(read_back.sa_sigaction == on_chld && (read_back.sa_flags & SA_SIGINFO), "sigaction reads back the handler", "differs");

    sigset_t block, old, pending;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    DT_EXPECT_OK(sigprocmask(SIG_BLOCK, &block, &old), "block SIGCHLD");
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    dt_check(sigismember(&now, SIGCHLD) == 1, "sigprocmask reads back SIGCHLD blocked", "not blocked");

    int gate[2];
    pipe(gate);
    pid_t child = fork();
    if (child == 0)
        _exit(9);
    /* Wait for the child's end without reaping it: its SIGCHLD becomes pending. */
    siginfo_t info;
    memset(&info, 0, sizeof info);
    DT_EXPECT_OK(waitid(P_PID, child, &info, WEXITED | WNOWAIT), "waitid WNOWAIT");
    sigpending(&pending);
    dt_check(sigismember(&pending, SIGCHLD) == 1, "SIGCHLD is pending while blocked", "not pending");
    dt_check(chld_count == 0, "the handler has not run while blocked", "ran %d times", chld_count);
    sigset_t wait_mask = old;
    sigdelset(&wait_mask, SIGCHLD);
    sigsuspend(&wait_mask);
    dt_check(chld_count == 1, "sigsuspend ran the SIGCHLD handler once", "%d times", chld_count);
    dt_check(chld_code == CLD_EXITED, "si_code is CLD_EXITED", "%d", chld_code);
    dt_check(chld_pid == child, "si_pid is the child", "another pid");
    dt_check(chld_status == 9, "si_status is 9", "%d", chld_status);
    int status = 0;
    dt_check(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 9, "the child is reaped with 9", "status 0x%x", status);
    sigprocmask(SIG_SETMASK, &old, NULL);

    stack_t stack = {.ss_sp = alternate, .ss_size = sizeof alternate, .ss_flags = 0};
    DT_EXPECT_OK(sigaltstack(&stack, NULL), "sigaltstack");
    action.sa_sigaction = on_usr1;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    DT_EXPECT_OK(sigaction(SIGUSR1, &action, NULL), "sigaction SIGUSR1 on the alternate stack");
    DT_EXPECT_OK(kill(getpid(), SIGUSR1), "kill(getpid(), SIGUSR1)");
    dt_check(usr1_count == 1, "the SIGUSR1 handler ran before kill returned", "%d times", usr1_count);
    dt_check(usr1_code == SI_USER, "si_code is SI_USER", "%d", usr1_code);
    dt_check(usr1_pid == getpid(), "si_pid is this process", "another pid");
    dt_check(on_alternate, "the handler ran on the alternate stack", "on another stack");

    struct sigaction once = {0};
    once.sa_handler = on_usr2;
    once.sa_flags = SA_RESETHAND;
    sigemptyset(&once.sa_mask);
    sigaction(SIGUSR2, &once, NULL);
    raise(SIGUSR2);
    sigaction(SIGUSR2, NULL, &read_back);
    dt_check(usr2_count == 1, "the SA_RESETHAND handler ran once", "%d times", usr2_count);
    dt_check(read_back.sa_handler == SIG_DFL, "SA_RESETHAND reset the action to SIG_DFL", "not reset");

    DT_EXPECT_ERRNO(sigaction(SIGKILL, &action, NULL), EINVAL, "catching SIGKILL gives EINVAL");
    DT_EXPECT_ERRNO(kill(getpid(), 1000), EINVAL, "an unknown signal number gives EINVAL");
    return dt_finish();
}
