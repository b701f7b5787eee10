/* sockets: AF_INET sockets over 127.0.0.1, the same on Linux and on Aegis (docs/libos-unixish.md,
 * "Sockets"): TCP listen/accept/connect across a fork, the addresses each end names, poll and
 * select on sockets, blocking and non-blocking reads, MSG_PEEK, shutdown, sendfile from a file,
 * socket options, UDP datagrams with their addresses, SO_RCVTIMEO and SO_SNDTIMEO (only whether a
 * call waited its timeout is printed, never a time; also beside a computing thread), MSG_PEEK and
 * MSG_TRUNC on datagrams,
 * datagrams of 20,000 and 65,507 bytes, sendmmsg, sendmsg/recvmsg on a stream (pieces, scatter,
 * MSG_PEEK, MSG_WAITALL, an address, the end), and the errors of bad calls. */
#include "difftest.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int port_of(int fd)
{
    struct sockaddr_in a;
    socklen_t length = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &length) != 0) return -1;
    return ntohs(a.sin_port);
}

/* Reads until the end of the stream (or size): the bytes read. */
static long read_all(int fd, char *buffer, long size)
{
    long total = 0;
    while (total < size) {
        long n = read(fd, buffer + total, size - total);
        if (n <= 0) break;
        total += n;
    }
    return total;
}

static void tcp_across_fork(void)
{
    int listener = DT_EXPECT_OK(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket stream");
    int one = 1;
    DT_EXPECT_OK(setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), "SO_REUSEADDR");
    struct sockaddr_in any = loopback(0);
    DT_EXPECT_OK(bind(listener, (struct sockaddr *)&any, sizeof any), "bind port 0");
    int port = port_of(listener);
    dt_check(port > 0, "getsockname gives the chosen port", "port %d", port);
    DT_EXPECT_OK(listen(listener, 4), "listen");
    int value = 0;
    socklen_t length = sizeof value;
    DT_EXPECT_OK(getsockopt(listener, SOL_SOCKET, SO_ACCEPTCONN, &value, &length), "getsockopt SO_ACCEPTCONN");
    dt_check(value == 1, "a listener accepts connections", "%d", value);

    struct pollfd p = { listener, POLLIN, 0 };
    dt_check(poll(&p, 1, 0) == 0, "poll: no connection yet", "revents %d", p.revents);

    pid_t child = fork();
    if (child == 0) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in to = loopback(port);
        if (connect(s, (struct sockaddr *)&to, sizeof to) != 0) _exit(10);
        const char *message = "hello from the child";
        if (write(s, message, strlen(message)) != (long)strlen(message)) _exit(11);
        shutdown(s, SHUT_WR);
        char reply[64];
        long n = read_all(s, reply, sizeof reply - 1);
        reply[n] = 0;
        printf("child got: %s\n", reply);
        close(s);
        _exit(0);
    }

    p.revents = 0;
    dt_check(poll(&p, 1, 10000) == 1 && (p.revents & POLLIN), "poll: a connection waits", "revents %d", p.revents);
    struct sockaddr_in peer;
    socklen_t peer_length = sizeof peer;
    int connection = DT_EXPECT_OK(accept4(listener, (struct sockaddr *)&peer, &peer_length, SOCK_CLOEXEC), "accept4");
    dt_check(peer_length == sizeof peer && peer.sin_family == AF_INET && peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
             "accept names the peer at 127.0.0.1", "length %u family %d", peer_length, peer.sin_family);
    struct sockaddr_in me;
    socklen_t me_length = sizeof me;
    DT_EXPECT_OK(getsockname(connection, (struct sockaddr *)&me, &me_length), "getsockname of the connection");
    dt_check(ntohs(me.sin_port) == port, "the connection's local port is the listener's", "%d", ntohs(me.sin_port));
    struct sockaddr_in them;
    socklen_t them_length = sizeof them;
    DT_EXPECT_OK(getpeername(connection, (struct sockaddr *)&them, &them_length), "getpeername");
    dt_check(them.sin_port == peer.sin_port, "getpeername agrees with accept", "%d %d", ntohs(them.sin_port), ntohs(peer.sin_port));

    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(connection, &readable);
    struct timeval ten = { 10, 0 };
    dt_check(select(connection + 1, &readable, NULL, NULL, &ten) == 1 && FD_ISSET(connection, &readable), "select: data to read", "(no detail)");

    char buffer[128];
    long peeked = recv(connection, buffer, 5, MSG_PEEK);
    dt_check(peeked == 5 && memcmp(buffer, "hello", 5) == 0, "MSG_PEEK sees the first bytes", "%ld", peeked);
    long n = read_all(connection, buffer, sizeof buffer - 1);
    buffer[n] = 0;
    printf("parent got: %s\n", buffer);
    dt_check(recv(connection, buffer, sizeof buffer, 0) == 0, "after the peer's shutdown: end of stream", "(no detail)");
    const char *reply = "HELLO BACK";
    dt_check(send(connection, reply, strlen(reply), MSG_NOSIGNAL) == (long)strlen(reply), "send", "(no detail)");
    close(connection);
    int status = 0;
    waitpid(child, &status, 0);
    dt_check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's connection went well", "status %x", status);
    close(listener);
}

static void nonblocking_and_sendfile(void)
{
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = loopback(0);
    bind(listener, (struct sockaddr *)&any, sizeof any);
    listen(listener, 1);
    int port = port_of(listener);
    int client = DT_EXPECT_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), "socket SOCK_NONBLOCK");
    struct sockaddr_in to = loopback(port);
    errno = 0;
    int connected = connect(client, (struct sockaddr *)&to, sizeof to);
    dt_check(connected == 0 || errno == EINPROGRESS, "non-blocking connect: 0 or EINPROGRESS", "%s", dt_result(connected, errno));
    struct pollfd p = { client, POLLOUT, 0 };
    dt_check(poll(&p, 1, 10000) == 1 && (p.revents & POLLOUT), "poll: writable once connected", "revents %d", p.revents);
    int error = -1;
    socklen_t length = sizeof error;
    DT_EXPECT_OK(getsockopt(client, SOL_SOCKET, SO_ERROR, &error, &length), "getsockopt SO_ERROR");
    dt_check(error == 0, "no pending error", "%d", error);
    int server = DT_EXPECT_OK(accept(listener, NULL, NULL), "accept without an address");
    char buffer[64];
    DT_EXPECT_ERRNO(read(client, buffer, sizeof buffer), EAGAIN, "non-blocking read of nothing");
    DT_EXPECT_ERRNO(recv(server, buffer, sizeof buffer, MSG_DONTWAIT), EAGAIN, "MSG_DONTWAIT read of nothing");

    int one = 1, got = 0;
    length = sizeof got;
    DT_EXPECT_OK(setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), "TCP_NODELAY");
    getsockopt(client, IPPROTO_TCP, TCP_NODELAY, &got, &length);
    dt_check(got != 0, "TCP_NODELAY reads back set", "%d", got);
    int type = 0;
    length = sizeof type;
    getsockopt(client, SOL_SOCKET, SO_TYPE, &type, &length);
    dt_check(type == SOCK_STREAM, "SO_TYPE", "%d", type);

    /* sendfile: a file of the tree to the socket, from an offset and from the position. */
    int file = open("/tmp/sockets-sendfile", O_CREAT | O_TRUNC | O_RDWR, 0644);
    char content[20000];
    for (int i = 0; i < (int)sizeof content; i++) content[i] = (char)('a' + i % 26);
    write(file, content, sizeof content);
    lseek(file, 0, SEEK_SET);
    off_t offset = 100;
    dt_check(sendfile(server, file, &offset, 50) == 50 && offset == 150, "sendfile from an offset", "offset %ld", (long)offset);
    dt_check(lseek(file, 0, SEEK_CUR) == 0, "an offset leaves the position", "(no detail)");
    long sent = 0;
    while (sent < (long)sizeof content) {
        long n = sendfile(server, file, NULL, sizeof content - sent);
        if (n <= 0) break;
        sent += n;
    }
    dt_check(sent == (long)sizeof content && lseek(file, 0, SEEK_CUR) == (off_t)sizeof content, "sendfile from the position moves it", "%ld", sent);
    close(file);
    unlink("/tmp/sockets-sendfile");
    shutdown(server, SHUT_WR);
    int flags = fcntl(client, F_GETFL);
    fcntl(client, F_SETFL, flags & ~O_NONBLOCK);
    static char received[20050];
    long total = read_all(client, received, sizeof received);
    dt_check(total == 20050 && memcmp(received, content + 100, 50) == 0 && memcmp(received + 50, content, sizeof content) == 0,
             "the socket carried what sendfile sent", "%ld bytes", total);
    close(server);
    close(client);
    close(listener);
}

/* sendmsg and recvmsg on a TCP connection: pieces gathered into the stream, a read scattered
 * over two buffers, MSG_PEEK and MSG_WAITALL through recvmsg, the name and control lengths a
 * stream's recvmsg gives back, an address sendmsg is given on a connected stream, the end. */
static void stream_messages(void)
{
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = loopback(0);
    bind(listener, (struct sockaddr *)&any, sizeof any);
    listen(listener, 1);
    struct sockaddr_in to = loopback(port_of(listener));
    int client = socket(AF_INET, SOCK_STREAM, 0);
    DT_EXPECT_OK(connect(client, (struct sockaddr *)&to, sizeof to), "connect for sendmsg");
    int server = DT_EXPECT_OK(accept(listener, NULL, NULL), "accept for recvmsg");

    struct iovec pieces[3] = { { "hello", 5 }, { "", 0 }, { ", world", 7 } };
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = pieces;
    message.msg_iovlen = 3;
    long n = sendmsg(client, &message, 0);
    dt_check(n == 12, "sendmsg of three pieces (one empty) on a stream", "%s", dt_result(n, errno));

    char head[4], rest[100], control[64];
    struct sockaddr_in from;
    struct iovec parts[2] = { { head, sizeof head }, { rest, sizeof rest } };
    memset(&message, 0, sizeof message);
    memset(&from, 0x5A, sizeof from);
    message.msg_name = &from;
    message.msg_namelen = sizeof from;
    message.msg_iov = parts;
    message.msg_iovlen = 2;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    n = recvmsg(server, &message, MSG_PEEK);
    dt_check(n == 12 && memcmp(head, "hell", 4) == 0 && memcmp(rest, "o, world", 8) == 0, "recvmsg MSG_PEEK on a stream", "%ld", n);
    message.msg_namelen = sizeof from;
    message.msg_controllen = sizeof control;
    memset(head, 0, sizeof head);
    memset(rest, 0, sizeof rest);
    n = recvmsg(server, &message, 0);
    dt_check(n == 12 && memcmp(head, "hell", 4) == 0 && memcmp(rest, "o, world", 8) == 0,
             "recvmsg scatters the stream over two buffers", "%ld", n);
    dt_check(message.msg_flags == 0, "a stream's recvmsg sets no flags", "%x", message.msg_flags);
    printf("a stream's recvmsg gives back name length %u, control length %lu\n",
           (unsigned)message.msg_namelen, (unsigned long)message.msg_controllen);

    /* MSG_WAITALL waits for the second piece (sent by a child after a pause). */
    pid_t child = fork();
    if (child == 0) {
        send(client, "abc", 3, 0);
        usleep(100 * 1000);
        send(client, "defgh", 5, 0);
        _exit(0);
    }
    char all[8];
    struct iovec whole = { all, sizeof all };
    memset(&message, 0, sizeof message);
    message.msg_iov = &whole;
    message.msg_iovlen = 1;
    n = recvmsg(server, &message, MSG_WAITALL);
    dt_check(n == 8 && memcmp(all, "abcdefgh", 8) == 0, "recvmsg MSG_WAITALL gathers two sends", "%ld", n);
    waitpid(child, NULL, 0);

    /* A destination given to sendmsg on a connected stream. */
    struct sockaddr_in elsewhere = loopback(9);
    struct iovec one = { "x", 1 };
    memset(&message, 0, sizeof message);
    message.msg_name = &elsewhere;
    message.msg_namelen = sizeof elsewhere;
    message.msg_iov = &one;
    message.msg_iovlen = 1;
    errno = 0;
    n = sendmsg(client, &message, 0);
    printf("sendmsg with an address on a connected stream: %s\n", dt_result(n, errno));
    if (n == 1) {
        char x = 0;
        dt_check(recv(server, &x, 1, 0) == 1 && x == 'x', "it went to the connection's peer", "%c", x);
    }

    /* The end: the peer's shutdown reads as 0 through recvmsg. */
    shutdown(client, SHUT_WR);
    memset(&message, 0, sizeof message);
    message.msg_iov = &whole;
    message.msg_iovlen = 1;
    n = recvmsg(server, &message, 0);
    dt_check(n == 0, "recvmsg at the end of the stream", "%s", dt_result(n, errno));
    close(server);
    close(client);
    close(listener);
}

static void datagrams(void)
{
    int a = DT_EXPECT_OK(socket(AF_INET, SOCK_DGRAM, 0), "socket datagram");
    int b = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in any = loopback(0);
    bind(a, (struct sockaddr *)&any, sizeof any);
    bind(b, (struct sockaddr *)&any, sizeof any);
    int port_a = port_of(a), port_b = port_of(b);
    char buffer[64];
    DT_EXPECT_ERRNO(recv(b, buffer, sizeof buffer, 0), EAGAIN, "an empty datagram socket");
    struct sockaddr_in to_b = loopback(port_b);
    dt_check(sendto(a, "first", 5, 0, (struct sockaddr *)&to_b, sizeof to_b) == 5, "sendto", "(no detail)");
    dt_check(sendto(a, "second!", 7, 0, (struct sockaddr *)&to_b, sizeof to_b) == 7, "sendto again", "(no detail)");
    struct pollfd p = { b, POLLIN, 0 };
    dt_check(poll(&p, 1, 10000) == 1, "poll: a datagram waits", "(no detail)");
    struct sockaddr_in from;
    socklen_t from_length = sizeof from;
    long n = recvfrom(b, buffer, sizeof buffer, 0, (struct sockaddr *)&from, &from_length);
    dt_check(n == 5 && memcmp(buffer, "first", 5) == 0 && ntohs(from.sin_port) == port_a && from_length == sizeof from,
             "recvfrom: one datagram and its sender", "%ld", n);
    /* recvmsg with two iovecs gathers the second datagram. */
    char part1[3], part2[16];
    struct iovec iov[2] = { { part1, sizeof part1 }, { part2, sizeof part2 } };
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_name = &from;
    message.msg_namelen = sizeof from;
    message.msg_iov = iov;
    message.msg_iovlen = 2;
    n = recvmsg(b, &message, 0);
    dt_check(n == 7 && memcmp(part1, "sec", 3) == 0 && memcmp(part2, "ond!", 4) == 0 && message.msg_namelen == sizeof from,
             "recvmsg scatters a datagram", "%ld", n);
    struct sockaddr_in to_a = loopback(port_a);
    DT_EXPECT_OK(connect(b, (struct sockaddr *)&to_a, sizeof to_a), "connect a datagram socket");
    dt_check(send(b, "reply", 5, 0) == 5, "send on a connected datagram socket", "(no detail)");
    n = recv(a, buffer, sizeof buffer, 0);
    dt_check(n == 5 && memcmp(buffer, "reply", 5) == 0, "recv of the reply", "%ld", n);
    close(a);
    close(b);
}

static long milliseconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* A datagram socket bound to 127.0.0.1 and a port of the system's choice. */
static int bound_datagram_socket(int extra_type)
{
    int s = socket(AF_INET, SOCK_DGRAM | extra_type, 0);
    struct sockaddr_in any = loopback(0);
    bind(s, (struct sockaddr *)&any, sizeof any);
    return s;
}

static void on_alarm(int signal_number) { (void)signal_number; }

static void timeouts(void)
{
    int s = bound_datagram_socket(0);
    struct timeval tv = { 0, 100000 }, back = { -1, -1 };
    socklen_t length = sizeof back;
    DT_EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), "SO_RCVTIMEO of 100 ms");
    DT_EXPECT_OK(getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &back, &length), "getsockopt SO_RCVTIMEO");
    dt_check(length == sizeof back && back.tv_sec == 0 && back.tv_usec == 100000, "getsockopt gives the timeval set",
             "%u: %ld.%06ld", length, (long)back.tv_sec, (long)back.tv_usec);

    char buffer[64];
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    errno = 0;
    long n = recv(s, buffer, sizeof buffer, 0);
    int error = errno;
    long waited = milliseconds_since(&start);
    dt_check(n == -1 && error == EAGAIN && waited >= 100, "a blocking recv waits its SO_RCVTIMEO, then EAGAIN",
             "%s after %s", dt_result(n, error), waited >= 100 ? "the timeout" : "less than the timeout");
    clock_gettime(CLOCK_MONOTONIC, &start);
    errno = 0;
    n = read(s, buffer, sizeof buffer);
    error = errno;
    waited = milliseconds_since(&start);
    dt_check(n == -1 && error == EAGAIN && waited >= 100, "read honours SO_RCVTIMEO too",
             "%s after %s", dt_result(n, error), waited >= 100 ? "the timeout" : "less than the timeout");

    /* A datagram that is there, or comes in time, is received. */
    struct sockaddr_in self;
    length = sizeof self;
    getsockname(s, (struct sockaddr *)&self, &length);
    sendto(s, "in time", 7, 0, (struct sockaddr *)&self, sizeof self);
    n = recv(s, buffer, sizeof buffer, 0);
    dt_check(n == 7 && memcmp(buffer, "in time", 7) == 0, "a datagram that waits is received within the timeout", "%ld", n);

    /* A signal with SA_RESTART ends a wait with a timeout: EINTR (Linux never restarts it). */
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_alarm;
    action.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &action, NULL);
    struct timeval two_seconds = { 2, 0 };
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &two_seconds, sizeof two_seconds);
    struct itimerval alarm_soon = { { 0, 0 }, { 0, 50000 } };
    setitimer(ITIMER_REAL, &alarm_soon, NULL);
    DT_EXPECT_ERRNO(recv(s, buffer, sizeof buffer, 0), EINTR, "a signal ends a timed recv, SA_RESTART or not");
    signal(SIGALRM, SIG_DFL);

    /* The timeval's checks, and 0: no limit. */
    struct timeval bad = { 1, 1000000 };
    DT_EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &bad, sizeof bad), EDOM, "tv_usec of a million: EDOM");
    bad.tv_usec = -1;
    DT_EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &bad, sizeof bad), EDOM, "a negative tv_usec: EDOM");
    DT_EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv - 1), EINVAL, "a short timeval: EINVAL");
    struct timeval zero = { 0, 0 };
    DT_EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &zero, sizeof zero), "SO_RCVTIMEO of 0");
    length = sizeof back;
    getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &back, &length);
    dt_check(back.tv_sec == 0 && back.tv_usec == 0, "0 reads back: no limit", "%ld.%06ld", (long)back.tv_sec, (long)back.tv_usec);
    /* (A whole number of jiffies at HZ 100, 250 and 1000: Linux reads back what it rounded to.) */
    struct timeval send_limit = { 3, 500000 };
    DT_EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &send_limit, sizeof send_limit), "SO_SNDTIMEO of 3.5 s");
    length = sizeof back;
    getsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &back, &length);
    dt_check(back.tv_sec == 3 && back.tv_usec == 500000, "SO_SNDTIMEO reads back", "%ld.%06ld", (long)back.tv_sec, (long)back.tv_usec);
    struct timeval negative = { -1, 0 };
    DT_EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &negative, sizeof negative), "a negative SO_RCVTIMEO");
    DT_EXPECT_ERRNO(recv(s, buffer, sizeof buffer, 0), EAGAIN, "a negative timeout: recv does not wait");
    close(s);

    /* accept honours SO_RCVTIMEO. */
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = loopback(0);
    bind(listener, (struct sockaddr *)&any, sizeof any);
    listen(listener, 1);
    setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    clock_gettime(CLOCK_MONOTONIC, &start);
    errno = 0;
    n = accept(listener, NULL, NULL);
    error = errno;
    waited = milliseconds_since(&start);
    dt_check(n == -1 && error == EAGAIN && waited >= 100, "accept waits its SO_RCVTIMEO, then EAGAIN",
             "%s after %s", dt_result(n, error), waited >= 100 ? "the timeout" : "less than the timeout");

    /* A stream send the peer never reads stops at SO_SNDTIMEO with what went. */
    int client = socket(AF_INET, SOCK_STREAM, 0);
    int small = 65536;
    setsockopt(client, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    struct sockaddr_in to = loopback(port_of(listener));
    connect(client, (struct sockaddr *)&to, sizeof to);
    int server = accept(listener, NULL, NULL);
    setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    static char lots[8 << 20];
    clock_gettime(CLOCK_MONOTONIC, &start);
    n = send(client, lots, sizeof lots, MSG_NOSIGNAL);
    waited = milliseconds_since(&start);
    dt_check(n > 0 && n < (long)sizeof lots && waited >= 100, "a send that cannot finish answers what went at SO_SNDTIMEO",
             "%s after %s", n > 0 && n < (long)sizeof lots ? "part" : dt_result(n, errno), waited >= 100 ? "the timeout" : "less than the timeout");
    close(server);
    close(client);
    close(listener);
}

static atomic_int computing;

/* Computes until told to stop, 5 s at most: 1 when it was told. */
static void *compute(void *unused)
{
    (void)unused;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    volatile unsigned long sum = 0;
    while (atomic_load(&computing) && milliseconds_since(&start) < 5000) sum++;
    return (void *)(long)!atomic_load(&computing);
}

static pthread_t start_computing(void)
{
    pthread_t thread;
    atomic_store(&computing, 1);
    pthread_create(&thread, NULL, compute, NULL);
    return thread;
}

/* Whether the thread was still computing when told to stop (it did not give up first). */
static int stop_computing(pthread_t thread)
{
    atomic_store(&computing, 0);
    void *told = NULL;
    pthread_join(thread, &told);
    return told != NULL;
}

/* A timed recv, then a blocking connect, while another thread of the process computes (on Aegis
   the call is made again each time the other thread has run: it keeps its deadline, and connect
   knows its handshake began). */
static void beside_a_busy_thread(void)
{
    pthread_t thread = start_computing();
    int s = bound_datagram_socket(0);
    struct timeval tv = { 0, 100000 };
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buffer[16];
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    errno = 0;
    long n = recv(s, buffer, sizeof buffer, 0);
    int error = errno;
    long waited = milliseconds_since(&start);
    int told = stop_computing(thread);
    dt_check(n == -1 && error == EAGAIN && waited >= 100 && told, "a timed recv ends in its time while another thread computes",
             "%s after %s; the thread %s", dt_result(n, error), waited >= 100 ? "the timeout" : "less than the timeout",
             told ? "was stopped" : "gave up first");
    close(s);

    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = loopback(0);
    bind(listener, (struct sockaddr *)&any, sizeof any);
    listen(listener, 1);
    int client = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = loopback(port_of(listener));
    thread = start_computing();
    errno = 0;
    int connected = connect(client, (struct sockaddr *)&to, sizeof to);
    int connect_error = errno;
    told = stop_computing(thread);
    dt_check(connected == 0 && told, "a blocking connect while another thread computes", "%s; the thread %s",
             dt_result(connected, connect_error), told ? "was stopped" : "gave up first");
    close(client);
    close(listener);
}

static void fill(char *bytes, long length, int seed)
{
    for (long i = 0; i < length; i++) bytes[i] = (char)(i * 13 + seed);
}

static void datagram_peek_and_sizes(void)
{
    int a = bound_datagram_socket(0), b = bound_datagram_socket(0);
    int port_a = port_of(a);
    struct sockaddr_in to_b = loopback(port_of(b)), from;
    socklen_t from_length;
    static char out[65508], in[65600];

    /* MSG_PEEK: the datagram and its sender, left for the next receive. */
    sendto(a, "look twice", 10, 0, (struct sockaddr *)&to_b, sizeof to_b);
    for (int look = 0; look < 2; look++) {
        memset(in, 0, 16);
        from_length = sizeof from;
        long n = recvfrom(b, in, sizeof in, MSG_PEEK, (struct sockaddr *)&from, &from_length);
        dt_check(n == 10 && memcmp(in, "look twice", 10) == 0 && ntohs(from.sin_port) == port_a && from_length == sizeof from,
                 look == 0 ? "MSG_PEEK returns the datagram and its sender" : "MSG_PEEK again: the same datagram", "%ld", n);
    }
    long n = recv(b, in, sizeof in, 0);
    dt_check(n == 10 && memcmp(in, "look twice", 10) == 0, "then recv takes it", "%ld", n);
    DT_EXPECT_ERRNO(recv(b, in, sizeof in, MSG_DONTWAIT), EAGAIN, "and it is gone");

    /* Large datagrams over 127.0.0.1: whole, with their sender; peeked and cut ones too. */
    const long sizes[] = { 20000, 65507 };
    for (int i = 0; i < 2; i++) {
        long size = sizes[i];
        fill(out, size, (int)i);
        char what[96];
        snprintf(what, sizeof what, "sendto of a %ld-byte datagram", size);
        dt_check(sendto(a, out, size, 0, (struct sockaddr *)&to_b, sizeof to_b) == size, what, "%s", dt_result(-1, errno));
        from_length = sizeof from;
        n = recvfrom(b, in, sizeof in, MSG_PEEK, (struct sockaddr *)&from, &from_length);
        snprintf(what, sizeof what, "MSG_PEEK of the %ld-byte datagram", size);
        dt_check(n == size && memcmp(in, out, size) == 0 && ntohs(from.sin_port) == port_a, what, "%ld", n);
        memset(in, 0, sizeof in);
        from_length = sizeof from;
        n = recvfrom(b, in, sizeof in, 0, (struct sockaddr *)&from, &from_length);
        snprintf(what, sizeof what, "recvfrom of the %ld-byte datagram: whole", size);
        dt_check(n == size && memcmp(in, out, size) == 0 && ntohs(from.sin_port) == port_a, what, "%ld", n);
    }
    fill(out, 20000, 7);
    sendto(a, out, 20000, 0, (struct sockaddr *)&to_b, sizeof to_b);
    n = recv(b, in, 100, MSG_TRUNC);
    dt_check(n == 20000 && memcmp(in, out, 100) == 0, "MSG_TRUNC: the datagram's length, its first bytes", "%ld", n);
    sendto(a, out, 20000, 0, (struct sockaddr *)&to_b, sizeof to_b);
    struct iovec cut = { in, 100 };
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = &cut;
    message.msg_iovlen = 1;
    n = recvmsg(b, &message, 0);
    dt_check(n == 100 && (message.msg_flags & MSG_TRUNC), "recvmsg of a datagram cut short sets MSG_TRUNC", "%ld flags %x", n, message.msg_flags);
    DT_EXPECT_ERRNO(sendto(a, out, 65508, 0, (struct sockaddr *)&to_b, sizeof to_b), EMSGSIZE, "a 65,508-byte datagram: EMSGSIZE");

    /* sendmsg of two pieces sends one datagram; recvmsg gathers it into two. */
    fill(out, 65507, 3);
    struct iovec pieces[2] = { { out, 30000 }, { out + 30000, 35507 } };
    memset(&message, 0, sizeof message);
    message.msg_name = &to_b;
    message.msg_namelen = sizeof to_b;
    message.msg_iov = pieces;
    message.msg_iovlen = 2;
    dt_check(sendmsg(a, &message, 0) == 65507, "sendmsg of two pieces: one 65,507-byte datagram", "%s", dt_result(-1, errno));
    static char first_half[40000], second_half[40000];
    struct iovec halves[2] = { { first_half, 40000 }, { second_half, 40000 } };
    memset(&message, 0, sizeof message);
    message.msg_iov = halves;
    message.msg_iovlen = 2;
    n = recvmsg(b, &message, 0);
    dt_check(n == 65507 && memcmp(first_half, out, 40000) == 0 && memcmp(second_half, out + 40000, 25507) == 0 && message.msg_flags == 0,
             "recvmsg scatters it into two", "%ld", n);

    /* sendmmsg: two datagrams in one call, each one's length in msg_len. */
    struct iovec one = { "first of two", 12 }, two = { "second", 6 };
    struct mmsghdr messages[2];
    memset(messages, 0, sizeof messages);
    messages[0].msg_hdr.msg_iov = &one;
    messages[0].msg_hdr.msg_iovlen = 1;
    messages[0].msg_hdr.msg_name = &to_b;
    messages[0].msg_hdr.msg_namelen = sizeof to_b;
    messages[1].msg_hdr.msg_iov = &two;
    messages[1].msg_hdr.msg_iovlen = 1;
    messages[1].msg_hdr.msg_name = &to_b;
    messages[1].msg_hdr.msg_namelen = sizeof to_b;
    int sent = sendmmsg(a, messages, 2, 0);
    dt_check(sent == 2 && messages[0].msg_len == 12 && messages[1].msg_len == 6, "sendmmsg sends both", "%d", sent);
    n = recv(b, in, sizeof in, 0);
    long m = recv(b, in + 100, sizeof in - 100, 0);
    dt_check(n == 12 && m == 6 && memcmp(in, "first of two", 12) == 0 && memcmp(in + 100, "second", 6) == 0,
             "in their order", "%ld %ld", n, m);

    /* recvmmsg: three waiting datagrams into four slots; MSG_WAITFORONE stops at the empty queue. */
    struct iovec three = { "third", 5 };
    struct mmsghdr triple[3];
    memset(triple, 0, sizeof triple);
    struct iovec *outgoing[3] = { &one, &two, &three };
    for (int i = 0; i < 3; i++) {
        triple[i].msg_hdr.msg_iov = outgoing[i];
        triple[i].msg_hdr.msg_iovlen = 1;
        triple[i].msg_hdr.msg_name = &to_b;
        triple[i].msg_hdr.msg_namelen = sizeof to_b;
    }
    dt_check(sendmmsg(a, triple, 3, 0) == 3, "sendmmsg sends three", "%s", dt_result(-1, errno));
    static char slots[4][64];
    struct iovec incoming[4];
    struct sockaddr_in senders[4];
    struct mmsghdr four[4];
    memset(four, 0, sizeof four);
    for (int i = 0; i < 4; i++) {
        incoming[i].iov_base = slots[i];
        incoming[i].iov_len = i == 1 ? 4 : sizeof slots[i]; /* the second is cut short: MSG_TRUNC */
        four[i].msg_hdr.msg_iov = &incoming[i];
        four[i].msg_hdr.msg_iovlen = 1;
        four[i].msg_hdr.msg_name = &senders[i];
        four[i].msg_hdr.msg_namelen = sizeof senders[i];
        four[i].msg_len = 999;
    }
    int got = recvmmsg(b, four, 4, MSG_WAITFORONE, NULL);
    dt_check(got == 3 && four[0].msg_len == 12 && four[1].msg_len == 4 && four[2].msg_len == 5 && four[3].msg_len == 999,
             "recvmmsg with MSG_WAITFORONE takes the three waiting", "%d %u %u %u", got, four[0].msg_len, four[1].msg_len, four[2].msg_len);
    dt_check(memcmp(slots[0], "first of two", 12) == 0 && memcmp(slots[1], "seco", 4) == 0 && memcmp(slots[2], "third", 5) == 0,
             "each into its own slot", "%.12s %.4s %.5s", slots[0], slots[1], slots[2]);
    dt_check((four[1].msg_hdr.msg_flags & MSG_TRUNC) != 0 && four[0].msg_hdr.msg_flags == 0
             && four[0].msg_hdr.msg_namelen == sizeof(struct sockaddr_in) && ntohs(senders[0].sin_port) == port_of(a),
             "with its flags and its sender", "%d %d", four[1].msg_hdr.msg_flags, four[0].msg_hdr.msg_namelen);
    DT_EXPECT_ERRNO(recvmmsg(b, four, 4, MSG_DONTWAIT, NULL), EAGAIN, "recvmmsg on an empty queue, MSG_DONTWAIT");
    /* A timeout is looked at after each datagram: a spent one stops the call after the first. */
    dt_check(sendmmsg(a, triple, 2, 0) == 2, "sendmmsg sends two more", "%s", dt_result(-1, errno));
    struct timespec none = { 0, 0 };
    got = recvmmsg(b, four, 4, 0, &none);
    dt_check(got == 1 && none.tv_sec == 0 && none.tv_nsec == 0, "recvmmsg with a spent timeout returns after one", "%d", got);
    dt_check(recvmmsg(b, four, 4, MSG_WAITFORONE, NULL) == 1 && four[0].msg_len == 6, "the other is still there", "%u", four[0].msg_len);
    struct timespec bad = { 0, 1000000000 };
    DT_EXPECT_ERRNO(recvmmsg(b, four, 4, MSG_DONTWAIT, &bad), EINVAL, "recvmmsg with tv_nsec out of range");
    close(a);
    close(b);
}

static void errors(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = loopback(0);
    bind(s, (struct sockaddr *)&any, sizeof any);
    listen(s, 1);
    int taken = port_of(s);
    int t = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in same = loopback(taken);
    DT_EXPECT_ERRNO(bind(t, (struct sockaddr *)&same, sizeof same), EADDRINUSE, "bind to a port in use");
    close(s);
    int u = socket(AF_INET, SOCK_STREAM, 0);
    DT_EXPECT_ERRNO(connect(u, (struct sockaddr *)&same, sizeof same), ECONNREFUSED, "connect to a closed port");
    close(u);
    DT_EXPECT_ERRNO(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT, "a stream socket of UDP");
    DT_EXPECT_ERRNO(bind(t, (struct sockaddr *)&any, 4), EINVAL, "a short address");
    char byte = 0;
    DT_EXPECT_ERRNO(send(t, &byte, 1, MSG_NOSIGNAL), EPIPE, "send on an unconnected stream");
    int pipe_ends[2];
    pipe(pipe_ends);
    struct sockaddr_in a;
    socklen_t length = sizeof a;
    DT_EXPECT_ERRNO(getsockname(pipe_ends[0], (struct sockaddr *)&a, &length), ENOTSOCK, "getsockname of a pipe");
    DT_EXPECT_ERRNO(listen(99, 1), EBADF, "listen on a closed descriptor");
    struct stat info;
    fstat(t, &info);
    dt_check(S_ISSOCK(info.st_mode), "fstat: a socket", "mode %o", info.st_mode);
    close(t);
    close(pipe_ends[0]);
    close(pipe_ends[1]);
}

int main(void)
{
    dt_start("sockets");
    tcp_across_fork();
    nonblocking_and_sendfile();
    stream_messages();
    datagrams();
    timeouts();
    beside_a_busy_thread();
    datagram_peek_and_sizes();
    errors();
    return dt_finish();
}
