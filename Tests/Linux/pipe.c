/* pipe: a pipe within one process. Bytes written come back in order and in pieces; fstat says
 * FIFO; an empty O_NONBLOCK pipe gives EAGAIN; with the write end closed, read returns 0 (end
 * of file); with the read end closed and SIGPIPE ignored, write gives EPIPE, and with SIGPIPE
 * handled the handler runs once; sendfile cannot read a pipe (EINVAL: busybox cat then reads,
 * and a sendfile that read on took a terminal's ^D). Exit status 0 when every check passed. */
#include "difftest.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile int sigpipes;

static void on_sigpipe(int signal)
{
    (void)signal;
    sigpipes++;
}

int main(void)
{
    dt_start("pipe");
    int fds[2];
    DT_EXPECT_OK(pipe2(fds, 0), "pipe2");
    struct stat st;
    DT_EXPECT_OK(fstat(fds[0], &st), "fstat the read end");
    dt_check(S_ISFIFO(st.st_mode), "the read end is a FIFO", "mode %o", st.st_mode);
    printf("write: %ld\n", (long)write(fds[1], "hello, pipe", 11));
    char buffer[8192] = {0};
    long n = read(fds[0], buffer, 5);
    printf("read 5: %ld '%.5s'\n", n, buffer);
    memset(buffer, 0, sizeof buffer);
    n = read(fds[0], buffer, sizeof buffer);
    printf("read the rest: %ld '%s'\n", n, buffer);

    char block[4096];
    for (int i = 0; i < 4096; i++)
        block[i] = (char)(i * 7);
    n = write(fds[1], block, sizeof block);
    printf("write 4096: %ld\n", n);
    long total = 0;
    int same = 1;
    while (total < 4096) {
        long got = read(fds[0], buffer, 1000);
        if (got <= 0)
            break;
        if (memcmp(buffer, block + total, got) != 0)
            same = 0;
        total += got;
    }
    dt_check(total == 4096 && same, "4096 bytes come back in order", "got %ld, same %d", total, same);

    DT_EXPECT_OK(fcntl(fds[0], F_SETFL, O_NONBLOCK), "set O_NONBLOCK");
    DT_EXPECT_ERRNO(read(fds[0], buffer, 1), EAGAIN, "an empty non-blocking pipe gives EAGAIN");
    close(fds[1]);
    n = read(fds[0], buffer, 1);
    dt_check(n == 0, "with the write end closed, read gives end of file", "got %s", dt_result(n, errno));
    close(fds[0]);

    DT_EXPECT_OK(pipe2(fds, 0), "pipe2 for sendfile");
    DT_EXPECT_OK(write(fds[1], "abc", 3), "three bytes into it");
    int sink = open("/dev/null", O_WRONLY);
    DT_EXPECT_ERRNO(sendfile(sink, fds[0], NULL, 100), EINVAL, "sendfile from a pipe gives EINVAL");
    n = read(fds[0], buffer, 100);
    dt_check(n == 3, "the pipe's bytes are still there after it", "got %s", dt_result(n, errno));
    close(sink);
    close(fds[0]);
    close(fds[1]);

    DT_EXPECT_OK(pipe2(fds, O_CLOEXEC), "pipe2 O_CLOEXEC");
    dt_check(fcntl(fds[0], F_GETFD) == FD_CLOEXEC && fcntl(fds[1], F_GETFD) == FD_CLOEXEC, "both ends have FD_CLOEXEC", "missing");
    close(fds[0]);
    signal(SIGPIPE, SIG_IGN);
    DT_EXPECT_ERRNO(write(fds[1], "x", 1), EPIPE, "with the read end closed, write gives EPIPE");
    signal(SIGPIPE, on_sigpipe);
    DT_EXPECT_ERRNO(write(fds[1], "x", 1), EPIPE, "again with a SIGPIPE handler");
    dt_check(sigpipes == 1, "the SIGPIPE handler ran once", "%d times", sigpipes);
    close(fds[1]);
    DT_EXPECT_ERRNO(pipe2(fds, 0x7fff0000), EINVAL, "pipe2 with bad flags gives EINVAL");
    return dt_finish();
}
