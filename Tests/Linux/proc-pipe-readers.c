/* proc-pipe-readers: two processes blocked reading one pipe both get a byte. Children A and B
 * read one byte each from the same pipe and exit with it; the parent waits until both are
 * blocked, then writes 'x', waits, writes 'y'. Each byte wakes one reader; neither may sleep on
 * (a pipe that remembered one waiting reader lost the other's wakeup). A 5-second alarm turns a
 * hang into a failed line; children still blocked then are killed. Then the same for two
 * writers blocked on a full pipe: reading the pipe empty lets both finish. */
#include "difftest.h"
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t timed_out;
static void on_alarm(int signal) { (void)signal; timed_out = 1; }

static void pause_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

static pid_t reader(int fd)
{
    pid_t child = fork();
    if (child == 0) {
        char byte = 0;
        _exit(read(fd, &byte, 1) == 1 ? byte : 1);
    }
    return child;
}

static pid_t writer(int fd, int size)
{
    pid_t child = fork();
    if (child == 0) {
        static char block[65536];
        memset(block, 'w', sizeof block);
        _exit(write(fd, block, size) == size ? 0 : 1);
    }
    return child;
}

/* The exit status of child, or -1 when the alarm came first (the child is killed then). */
static int status_of(pid_t child)
{
    int status = 0;
    if (waitpid(child, &status, 0) == child && WIFEXITED(status)) return WEXITSTATUS(status);
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    return -1;
}

int main(void)
{
    dt_start("proc-pipe-readers");
    struct sigaction action = {0};
    action.sa_handler = on_alarm; /* no SA_RESTART: waitpid returns EINTR */
    sigaction(SIGALRM, &action, NULL);
    int p[2];
    pipe(p);
    pid_t a = reader(p[0]), b = reader(p[0]);
    pause_ms(200);
    alarm(5);
    write(p[1], "x", 1);
    pause_ms(100);
    write(p[1], "y", 1);
    int first = status_of(a), second = status_of(b);
    alarm(0);
    dt_check(!timed_out, "both readers woke", "a reader was still asleep after 5 s");
    dt_check((first == 'x' && second == 'y') || (first == 'y' && second == 'x'), "each got one of the two bytes", "statuses %d and %d", first, second);
    close(p[0]);
    close(p[1]);

    /* A full pipe (the parent fills it), two writers of 1,000 bytes: both block until the parent reads. */
    timed_out = 0;
    pipe(p);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    static char sink[65536];
    long filled = 0;
    for (ssize_t put; (put = write(p[1], sink, sizeof sink)) > 0;) filled += put;
    fcntl(p[1], F_SETFL, 0);
    pid_t c = writer(p[1], 1000), d = writer(p[1], 1000);
    pause_ms(200);
    alarm(5);
    long total = 0;
    while (total < filled + 2000 && !timed_out) {
        ssize_t got = read(p[0], sink, sizeof sink);
        if (got > 0) total += got;
        else pause_ms(10);
    }
    int third = status_of(c), fourth = status_of(d);
    alarm(0);
    dt_check(!timed_out && total == filled + 2000, "both writers finished", "read %ld of %ld bytes", total, filled + 2000);
    dt_check(third == 0 && fourth == 0, "each write wrote all its bytes", "statuses %d and %d", third, fourth);
    return dt_finish();
}
