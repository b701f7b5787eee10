/* proc-no-goodbye: what a process holds in other places goes when it ends without running its own
 * exit code. On Aegis the child makes Aegis's Exit call itself (system call 514), so its libOS
 * never says Goodbye to the file server, which holds its sockets (docs/libos-unixish.md, "Files":
 * the server learns of the end from the kernel, InfoPage.EnvironmentEnds and EnvironmentAlive);
 * on Linux, where 514 is no call, the child SIGKILLs itself, the nearest thing. Either way:
 * - the parent, waiting in poll on its end of a socketpair the child also held, sees end of file;
 * - so does a sibling, which no SIGCHLD wakes (on Aegis it passes with and without the file
 *   server's wake at every end, NotifyFlags.OthersEnded: the server is called meanwhile);
 * - a connection the parent made to the child's listener, never accepted, ends (reset or closed);
 * - the child's port can be bound and listened on again. */
#include "difftest.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PORT 47231

/* Aegis's calls are 512 and up: Null (512) answers 0 there; on Linux on x86-64 512 is no call. */
static int on_aegis(void)
{
    return syscall(512) == 0;
}

static void end_without_goodbye(void)
{
    if (on_aegis())
        syscall(514, 7, 0); /* Aegis's Exit: status 7, no crash; the personality does not run */
    kill(getpid(), SIGKILL);
    for (;;)
        pause();
}

static void sleep_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&t, NULL);
}

static struct sockaddr_in loopback(void)
{
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons(PORT);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

static int listener(void)
{
    int one = 1;
    struct sockaddr_in address = loopback();
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        return -1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (struct sockaddr *)&address, sizeof address) != 0 || listen(s, 4) != 0) {
        int saved = errno;
        close(s);
        errno = saved;
        return -1;
    }
    return s;
}

int main(void)
{
    dt_start("proc-no-goodbye");
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) {
        dt_check(0, "socketpair", "%s", dt_errno_name(errno));
        return dt_finish();
    }
    pid_t child = fork();
    if (child == 0) {
        close(pair[0]);
        if (listener() < 0)
            _exit(3);
        sleep_ms(400); /* the parent connects meanwhile */
        end_without_goodbye();
    }
    close(pair[1]);

    int client = -1;
    for (int tries = 0; tries < 500 && client < 0; tries++) {
        struct sockaddr_in address = loopback();
        client = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(client, (struct sockaddr *)&address, sizeof address) != 0) {
            close(client);
            client = -1;
            sleep_ms(10);
        }
    }
    dt_check(client >= 0, "connected to the child's listener", "no connection in 5 s");

    struct pollfd end = { pair[0], POLLIN, 0 };
    int ready = poll(&end, 1, 5000);
    char byte;
    dt_check(ready == 1 && read(pair[0], &byte, 1) == 0, "the socketpair's other end closed with the child",
             "poll %d, revents %#x", ready, end.revents);

    int status = 0;
    dt_check(waitpid(child, &status, 0) == child, "child reaped", "waitpid: %s", dt_errno_name(errno));

    if (client >= 0) {
        struct pollfd queued = { client, POLLIN, 0 };
        ready = poll(&queued, 1, 5000);
        errno = 0;
        long got = ready == 1 ? read(client, &byte, 1) : -2;
        dt_check(got == 0 || (got == -1 && errno == ECONNRESET), "the connection never accepted ended",
                 "poll %d, read %ld %s", ready, got, dt_errno_name(errno));
        close(client);
    }

    /* A sibling: a second child waits in poll on a socketpair whose other end only a third
     * process holds, its sibling, which ends without Goodbye. The waiter is nobody's parent and
     * the parent waits in waitpid: no SIGCHLD reaches the waiter, so the end itself must wake it. */
    int pair2[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair2) == 0) {
        pid_t holder = fork();
        if (holder == 0) {
            close(pair2[0]);
            sleep_ms(300); /* the waiter is in its poll by then */
            end_without_goodbye();
        }
        pid_t waiter = fork();
        if (waiter == 0) {
            close(pair2[1]);
            struct pollfd sibling = { pair2[0], POLLIN, 0 };
            int seen = poll(&sibling, 1, 5000);
            char got;
            _exit(seen == 1 && read(pair2[0], &got, 1) == 0 ? 0 : seen == 0 ? 2 : 1);
        }
        close(pair2[0]);
        close(pair2[1]);
        int waited = -1;
        dt_check(waiter > 0 && waitpid(waiter, &waited, 0) == waiter && WIFEXITED(waited) && WEXITSTATUS(waited) == 0,
                 "a sibling in poll saw end of file at the holder's end", "status %#x (2: poll timed out)", waited);
        if (holder > 0)
            waitpid(holder, NULL, 0);
    } else {
        dt_check(0, "second socketpair", "%s", dt_errno_name(errno));
    }

    int again = listener();
    dt_check(again >= 0, "the child's port listens again", "%s", dt_errno_name(errno));
    if (again >= 0)
        close(again);
    close(pair[0]);
    return dt_finish();
}
