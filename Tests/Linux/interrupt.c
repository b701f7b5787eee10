/* interrupt: a signal ends a blocking call. An alarm (SIGALRM, a handler without SA_RESTART)
 * ends a read of an empty pipe, poll and select on it (with a long and with no timeout) with
 * EINTR, and sendfile between /dev/zero and /dev/null with a huge count ends early with what it
 * copied. Found by the Linux-ABI fuzzer (Tests/Linux/fuzz.c): on Aegis these calls ignored the
 * program's own timer (a pipe read Waited in the kernel for ever, poll and select looped to
 * their timeout, sendfile copied for minutes). Exit status 0 when every check passed. */
#include "difftest.h"
#include <poll.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/time.h>
#include <fcntl.h>
#include <unistd.h>

static volatile int alarms;
static void on_alarm(int signal_number) { (void)signal_number; alarms++; }

static void arm(void)
{
    struct itimerval timer = { { 0, 0 }, { 0, 200000 } };
    setitimer(ITIMER_REAL, &timer, NULL);
}

int main(void)
{
    dt_start("interrupt");
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_alarm;
    sigaction(SIGALRM, &action, NULL);
    int fds[2];
    DT_EXPECT_OK(pipe(fds), "pipe");
    char byte;

    arm();
    DT_EXPECT_ERRNO(read(fds[0], &byte, 1), EINTR, "an alarm ends a read of an empty pipe with EINTR");
    struct pollfd poll_entry = { fds[0], POLLIN, 0 };
    arm();
    DT_EXPECT_ERRNO(poll(&poll_entry, 1, 10000), EINTR, "an alarm ends poll with a 10 s timeout with EINTR");
    arm();
    DT_EXPECT_ERRNO(poll(&poll_entry, 1, -1), EINTR, "an alarm ends poll without a timeout with EINTR");
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(fds[0], &readable);
    struct timeval ten_seconds = { 10, 0 };
    arm();
    DT_EXPECT_ERRNO(select(fds[0] + 1, &readable, NULL, NULL, &ten_seconds), EINTR, "an alarm ends select with EINTR");
    dt_check(alarms == 4, "the handler ran for each alarm", "%d runs", alarms);

    int zero = open("/dev/zero", O_RDONLY), sink = open("/dev/null", O_WRONLY);
    struct itimerval timer = { { 0, 0 }, { 0, 1000 } };
    setitimer(ITIMER_REAL, &timer, NULL);
    ssize_t copied = sendfile(sink, zero, NULL, (size_t)1 << 40);
    dt_check(copied > 0 && copied <= 0x7ffff000, "sendfile of 2^40 bytes copies at most MAX_RW_COUNT, fewer when a signal comes",
             "%zd", copied);
    return dt_finish();
}
