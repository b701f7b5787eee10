/* epoll: eventfd and epoll, the same on any Linux (docs/libos-unixish.md, "Files").
 *   - eventfd: the counter (a read takes it all), EFD_SEMAPHORE (a read takes 1), EFD_NONBLOCK
 *     (EAGAIN at 0 and at the maximum), short buffers and the all-ones value (EINVAL), poll's
 *     POLLIN/POLLOUT, fstat's mode, the /proc/self/fd link, eventfd2's unknown flags;
 *   - epoll on pipes and eventfds: level-triggered (reported while ready), edge-triggered
 *     (reported once, again after a drain and a write with no wait between, and after more bytes
 *     arrive while still readable: Linux's wake-ups), EPOLLONESHOT and MOD re-arming it, DEL,
 *     the 64-bit data verbatim, EPOLLHUP without asking, closing a registered descriptor;
 *   - epoll_ctl's errors: EEXIST, ENOENT, EBADF, EPERM (a regular file), EINVAL (epfd is not an
 *     epoll, epfd == fd, an unknown op), epoll_create's and epoll_wait's EINVAL;
 *   - waits: timeout 0 returns at once, a 100 ms timeout expires (0 events, at least 90 ms),
 *     a blocking epoll_wait is woken by a forked child's write into a pipe 200 ms later, a signal
 *     ends a wait with EINTR, epoll_pwait's, ppoll's and pselect's masks hold a signal back until
 *     they return, and let a held-back one through to end them at once (the mask back afterwards),
 *     epoll_pwait2's timespec, a read of an empty eventfd and an epoll_wait on one are woken by
 *     another thread's write. Events are printed sorted by their data, so the order of the ready
 *     list never matters. */
#include "difftest.h"
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void pause_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

/* One epoll_wait: "N: data:events data:events" sorted by data. */
static const char *look(int epfd, int max, int timeout)
{
    static char text[256];
    struct epoll_event events[16];
    int n = epoll_wait(epfd, events, max, timeout);
    if (n < 0) {
        snprintf(text, sizeof text, "-1 %s", dt_errno_name(errno));
        return text;
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && events[j - 1].data.u64 > events[j].data.u64; j--) {
            struct epoll_event swap = events[j];
            events[j] = events[j - 1];
            events[j - 1] = swap;
        }
    int at = snprintf(text, sizeof text, "%d:", n);
    for (int i = 0; i < n; i++)
        at += snprintf(text + at, sizeof text - at, " %llx:%x", (unsigned long long)events[i].data.u64, events[i].events);
    return text;
}

static void expect_look(int epfd, int timeout, const char *expected, const char *what)
{
    const char *got = look(epfd, 16, timeout);
    dt_check(strcmp(got, expected) == 0, what, "got '%s', expected '%s'", got, expected);
}

static int add(int epfd, int op, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event event = {.events = events, .data.u64 = data};
    return epoll_ctl(epfd, op, fd, &event);
}

static uint64_t counter_read(int fd, long *result)
{
    uint64_t value = 0;
    *result = read(fd, &value, sizeof value);
    return value;
}

static long counter_write(int fd, uint64_t value) { return write(fd, &value, sizeof value); }

static void eventfd_counter(void)
{
    long result;
    int fd = eventfd(5, EFD_NONBLOCK);
    dt_check(counter_write(fd, 3) == 8, "eventfd write adds", "write failed");
    uint64_t value = counter_read(fd, &result);
    dt_check(result == 8 && value == 8, "eventfd read takes the counter", "got %ld, %llu", result, (unsigned long long)value);
    DT_EXPECT_ERRNO(read(fd, &value, 8), EAGAIN, "eventfd nonblocking read of 0");
    DT_EXPECT_ERRNO(read(fd, &value, 7), EINVAL, "eventfd read of 7 bytes");
    DT_EXPECT_ERRNO(write(fd, &value, 4), EINVAL, "eventfd write of 4 bytes");
    DT_EXPECT_ERRNO(counter_write(fd, UINT64_MAX), EINVAL, "eventfd write of all ones");
    dt_check(counter_write(fd, UINT64_MAX - 2) == 8, "eventfd write up to one below the maximum", "failed");
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
    poll(&p, 1, 0);
    printf("eventfd poll near the maximum: %x\n", p.revents);
    DT_EXPECT_ERRNO(counter_write(fd, 2), EAGAIN, "eventfd write past the maximum");
    dt_check(counter_write(fd, 1) == 8, "eventfd write to the maximum", "failed");
    poll(&p, 1, 0);
    printf("eventfd poll at the maximum: %x\n", p.revents);
    value = counter_read(fd, &result);
    dt_check(result == 8 && value == UINT64_MAX - 1, "eventfd read of the maximum", "got %llx", (unsigned long long)value);
    poll(&p, 1, 0);
    printf("eventfd poll at 0: %x\n", p.revents);
    struct stat st;
    fstat(fd, &st);
    printf("eventfd mode: %o size %lld\n", st.st_mode, (long long)st.st_size);
    char path[64], link[64] = {0};
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    readlink(path, link, sizeof link - 1);
    printf("eventfd link: %s\n", link);
    printf("eventfd flags: %x\n", fcntl(fd, F_GETFL));
    close(fd);

    fd = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
    printf("semaphore close-on-exec: %d\n", fcntl(fd, F_GETFD));
    for (int i = 0; i < 4; i++) {
        value = counter_read(fd, &result);
        printf("semaphore read %d: %s value %llu\n", i, dt_result(result, errno), (unsigned long long)value);
    }
    close(fd);
    DT_EXPECT_ERRNO(eventfd(0, 4), EINVAL, "eventfd2 with an unknown flag");
    DT_EXPECT_ERRNO(syscall(SYS_eventfd2, 0, O_APPEND), EINVAL, "eventfd2 with O_APPEND");
}

static void epoll_modes(void)
{
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    printf("epoll close-on-exec: %d\n", fcntl(epfd, F_GETFD));
    char path[64], link[64] = {0};
    snprintf(path, sizeof path, "/proc/self/fd/%d", epfd);
    readlink(path, link, sizeof link - 1);
    printf("epoll link: %s\n", link);
    int p[2];
    pipe(p);
    int counter = eventfd(0, EFD_NONBLOCK);
    char buffer[64];

    /* Level-triggered: reported while ready. */
    add(epfd, EPOLL_CTL_ADD, p[0], EPOLLIN, 0x1122334455667788ULL);
    expect_look(epfd, 0, "0:", "level: empty pipe");
    write(p[1], "ab", 2);
    expect_look(epfd, 0, "1: 1122334455667788:1", "level: data verbatim");
    expect_look(epfd, 0, "1: 1122334455667788:1", "level: reported again while ready");
    read(p[0], buffer, sizeof buffer);
    expect_look(epfd, 0, "0:", "level: drained");

    /* Edge-triggered: once, then again after not ready and ready. */
    add(epfd, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLET, 2);
    write(p[1], "c", 1);
    expect_look(epfd, 0, "1: 2:1", "edge: reported");
    expect_look(epfd, 0, "0:", "edge: not again");
    read(p[0], buffer, sizeof buffer);
    write(p[1], "d", 1);
    expect_look(epfd, 0, "1: 2:1", "edge: ready again after a drain");
    write(p[1], "d", 1);
    expect_look(epfd, 0, "1: 2:1", "edge: more bytes while still readable wake it again");
    add(epfd, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLET, 3);
    expect_look(epfd, 0, "1: 3:1", "edge: MOD re-arms");
    read(p[0], buffer, sizeof buffer);

    /* Oneshot on an eventfd, re-armed by MOD. */
    add(epfd, EPOLL_CTL_ADD, counter, EPOLLIN | EPOLLONESHOT, 4);
    counter_write(counter, 1);
    expect_look(epfd, 0, "1: 4:1", "oneshot: reported");
    expect_look(epfd, 0, "0:", "oneshot: disabled");
    add(epfd, EPOLL_CTL_MOD, counter, EPOLLIN | EPOLLONESHOT, 5);
    expect_look(epfd, 0, "1: 5:1", "oneshot: MOD re-arms");
    add(epfd, EPOLL_CTL_MOD, counter, EPOLLIN | EPOLLOUT, 6);
    write(p[1], "e", 1);
    expect_look(epfd, 0, "2: 3:1 6:5", "two ready: pipe and eventfd");
    dt_check(add(epfd, EPOLL_CTL_DEL, counter, 0, 0) == 0, "DEL", "failed");
    expect_look(epfd, 0, "0:", "after DEL: the eventfd is gone, the edge of the pipe was reported");
    read(p[0], buffer, sizeof buffer);

    /* The write end, and hang-up without asking. */
    add(epfd, EPOLL_CTL_ADD, p[1], EPOLLOUT, 7);
    expect_look(epfd, 0, "1: 7:4", "write end ready");
    add(epfd, EPOLL_CTL_MOD, p[1], 0, 7);
    close(p[1]);
    expect_look(epfd, 0, "1: 3:10", "closing a registered fd: it goes, the reader sees EPOLLHUP");
    close(p[0]);
    expect_look(epfd, 0, "0:", "closing the last one: nothing left");

    /* A descriptor kept open by a dup stays registered. */
    int kept = eventfd(1, 0);
    int copy = dup(kept);
    add(epfd, EPOLL_CTL_ADD, kept, EPOLLIN, 8);
    close(kept);
    expect_look(epfd, 0, "1: 8:1", "a closed fd whose description lives on still reports");
    DT_EXPECT_ERRNO(add(epfd, EPOLL_CTL_DEL, copy, 0, 0), ENOENT, "DEL by another fd of the description");
    close(copy);
    expect_look(epfd, 0, "0:", "the last reference closed");

    /* epoll of an epoll. */
    int inner = epoll_create1(0);
    int ready = eventfd(1, 0);
    add(inner, EPOLL_CTL_ADD, ready, EPOLLIN, 9);
    add(epfd, EPOLL_CTL_ADD, inner, EPOLLIN, 10);
    expect_look(epfd, 0, "1: a:1", "nested epoll is readable");
    struct pollfd pollable = {.fd = inner, .events = POLLIN};
    dt_check(poll(&pollable, 1, 0) == 1 && pollable.revents == POLLIN, "poll of an epoll", "revents %x", pollable.revents);
    close(ready);
    close(inner);
    close(counter);
    close(epfd);
}

static void epoll_errors(void)
{
    int epfd = epoll_create(1);
    int p[2];
    pipe(p);
    int file = open("/tmp/epoll-regular", O_CREAT | O_RDWR | O_TRUNC, 0600);
    unlink("/tmp/epoll-regular");
    dt_check(add(epfd, EPOLL_CTL_ADD, p[0], EPOLLIN, 0) == 0, "ADD", "failed");
    DT_EXPECT_ERRNO(add(epfd, EPOLL_CTL_ADD, p[0], EPOLLIN, 0), EEXIST, "ADD twice");
    DT_EXPECT_ERRNO(add(epfd, EPOLL_CTL_MOD, p[1], EPOLLOUT, 0), ENOENT, "MOD of one not added");
    DT_EXPECT_ERRNO(add(epfd, EPOLL_CTL_DEL, p[1], 0, 0), ENOENT, "DEL of one not added");
    DT_EXPECT_ERRNO(add(epfd, EPOLL_CTL_ADD, 900, EPOLLIN, 0), EBADF, "ADD of a closed fd");
    DT_EXPECT_ERRNO(add(901, EPOLL_CTL_ADD, p[0], EPOLLIN, 0), EBADF, "a closed epfd");
    if (file >= 0)
        DT_EXPECT_ERRNO(add(epfd, EPOLL_CTL_ADD, file, EPOLLIN, 0), EPERM, "ADD of a regular file");
    else
        dt_check(0, "ADD of a regular file", "cannot create /tmp/epoll-regular");
    DT_EXPECT_ERRNO(add(p[0], EPOLL_CTL_ADD, p[1], EPOLLIN, 0), EINVAL, "epfd that is not an epoll");
    DT_EXPECT_ERRNO(add(epfd, EPOLL_CTL_ADD, epfd, EPOLLIN, 0), EINVAL, "epfd == fd");
    DT_EXPECT_ERRNO(add(epfd, 99, p[1], EPOLLIN, 0), EINVAL, "an unknown op");
    DT_EXPECT_ERRNO(epoll_ctl(epfd, EPOLL_CTL_ADD, p[1], NULL), EFAULT, "ADD without an event");
    DT_EXPECT_ERRNO(epoll_create(0), EINVAL, "epoll_create(0)");
    DT_EXPECT_ERRNO(epoll_create1(1), EINVAL, "epoll_create1 with an unknown flag");
    struct epoll_event events[2];
    DT_EXPECT_ERRNO(epoll_wait(epfd, events, 0, 0), EINVAL, "epoll_wait with maxevents 0");
    DT_EXPECT_ERRNO(epoll_wait(p[0], events, 2, 0), EINVAL, "epoll_wait on a pipe");
    DT_EXPECT_ERRNO(epoll_wait(902, events, 2, 0), EBADF, "epoll_wait on a closed fd");
    close(file);
    close(p[0]);
    close(p[1]);
    close(epfd);
}

static volatile sig_atomic_t alarms;
static void on_alarm(int signal) { (void)signal; alarms++; }

static void arm_ms(long ms)
{
    struct itimerval timer = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
    setitimer(ITIMER_REAL, &timer, NULL);
}

static void *write_later(void *argument)
{
    pause_ms(100);
    counter_write((int)(long)argument, 7);
    return NULL;
}

static void epoll_waits(void)
{
    int epfd = epoll_create1(0);
    int p[2];
    pipe(p);
    add(epfd, EPOLL_CTL_ADD, p[0], EPOLLIN, 1);

    long start = now_ms();
    expect_look(epfd, 0, "0:", "timeout 0");
    long took = now_ms() - start;
    dt_check(took < 50, "timeout 0 returns at once", "took %ld ms", took);
    start = now_ms();
    expect_look(epfd, 100, "0:", "timeout 100 ms expires");
    took = now_ms() - start;
    dt_check(took >= 90, "the timeout waited", "took %ld ms", took);
    struct timespec ts = {0, 50 * 1000000};
    struct epoll_event event;
    start = now_ms();
    int n = syscall(SYS_epoll_pwait2, epfd, &event, 1, &ts, NULL, 8);
    took = now_ms() - start;
    dt_check(n == 0 && took >= 40, "epoll_pwait2 timespec expires", "n %d took %ld ms", n, took);

    /* A child writes 200 ms later: the wait sleeps, then wakes with the event. */
    pid_t child = fork();
    if (child == 0) {
        pause_ms(200);
        write(p[1], "w", 1);
        _exit(0);
    }
    start = now_ms();
    expect_look(epfd, 5000, "1: 1:1", "blocking wait woken by a child's write");
    took = now_ms() - start;
    dt_check(took >= 150 && took < 4000, "the wait slept until the write", "took %ld ms", took);
    waitpid(child, NULL, 0);
    char byte;
    read(p[0], &byte, 1);

    /* A signal ends the wait: EINTR. */
    struct sigaction action = {0};
    action.sa_handler = on_alarm;
    sigaction(SIGALRM, &action, NULL);
    arm_ms(50);
    expect_look(epfd, 5000, "-1 EINTR", "a signal ends the wait");
    dt_check(alarms == 1, "the handler ran", "alarms %d", (int)alarms);

    /* epoll_pwait's mask blocks it for the wait's time: the handler runs after the wait returns. */
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    arm_ms(30);
    n = epoll_pwait(epfd, &event, 1, 150, &block);
    int during = alarms;
    dt_check(n == 0, "epoll_pwait with SIGALRM blocked runs to its timeout", "got %s", dt_result(n, errno));
    dt_check(during == 2, "the held signal's handler ran after it returned", "alarms %d", during);

    /* ppoll's and pselect's masks do the same (the pipe is empty: nothing is ready). */
    struct pollfd empty_pipe = { p[0], POLLIN, 0 };
    struct timespec wait = { 0, 150 * 1000000 };
    arm_ms(30);
    n = ppoll(&empty_pipe, 1, &wait, &block);
    during = alarms;
    dt_check(n == 0 && during == 3, "ppoll with SIGALRM blocked runs to its timeout, then the handler runs",
             "got %s, alarms %d", dt_result(n, errno), during);
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(p[0], &readable);
    wait.tv_sec = 0;
    wait.tv_nsec = 150 * 1000000;
    arm_ms(30);
    n = pselect(p[0] + 1, &readable, NULL, NULL, &wait, &block);
    during = alarms;
    dt_check(n == 0 && during == 4, "pselect with SIGALRM blocked runs to its timeout, then the handler runs",
             "got %s, alarms %d", dt_result(n, errno), during);
    /* The other way round: a signal held back by the process's mask, let through by the wait's,
       ends the wait at once; afterwards the process's mask is back. */
    sigset_t old, open, now;
    sigemptyset(&open);
    sigprocmask(SIG_BLOCK, &block, &old);
    raise(SIGALRM);
    wait.tv_sec = 2;
    wait.tv_nsec = 0;
    start = now_ms();
    n = ppoll(&empty_pipe, 1, &wait, &open);
    int saved = errno;
    sigprocmask(SIG_BLOCK, NULL, &now);
    dt_check(n == -1 && saved == EINTR && alarms == 5 && now_ms() - start < 1500 && sigismember(&now, SIGALRM),
             "a pending signal ppoll's mask lets through ends it (EINTR), and the mask is back", "got %s, alarms %d", dt_result(n, saved), (int)alarms);
    raise(SIGALRM);
    FD_ZERO(&readable);
    FD_SET(p[0], &readable);
    n = pselect(p[0] + 1, &readable, NULL, NULL, &wait, &open);
    saved = errno;
    sigprocmask(SIG_BLOCK, NULL, &now);
    dt_check(n == -1 && saved == EINTR && alarms == 6 && sigismember(&now, SIGALRM),
             "the same for pselect", "got %s, alarms %d", dt_result(n, saved), (int)alarms);
    sigprocmask(SIG_SETMASK, &old, NULL);
    DT_EXPECT_ERRNO(syscall(SYS_ppoll, &empty_pipe, 1, &wait, &open, 4), EINVAL, "ppoll with a sigset size of 4");
    action.sa_handler = SIG_DFL;
    sigaction(SIGALRM, &action, NULL);

    /* Another thread wakes a read of an empty eventfd, and an epoll_wait on one. */
    int counter = eventfd(0, 0);
    pthread_t thread;
    pthread_create(&thread, NULL, write_later, (void *)(long)counter);
    long result;
    uint64_t value = counter_read(counter, &result);
    dt_check(result == 8 && value == 7, "a blocking eventfd read woken by another thread", "got %ld, %llu", result, (unsigned long long)value);
    pthread_join(thread, NULL);
    add(epfd, EPOLL_CTL_ADD, counter, EPOLLIN, 2);
    pthread_create(&thread, NULL, write_later, (void *)(long)counter);
    expect_look(epfd, 5000, "1: 2:1", "an epoll_wait woken by another thread's eventfd write");
    pthread_join(thread, NULL);
    close(counter);
    close(p[0]);
    close(p[1]);
    close(epfd);
}

int main(void)
{
    dt_start("epoll");
    eventfd_counter();
    epoll_modes();
    epoll_errors();
    epoll_waits();
    return dt_finish();
}
