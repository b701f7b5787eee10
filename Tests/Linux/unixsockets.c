/* unixsockets: AF_UNIX sockets, the same on Linux and on Aegis (docs/libos-unixish.md, "Sockets"):
 *   - socketpair of each type across a fork: bytes both ways, datagram and packet boundaries
 *     (MSG_TRUNC, msg_flags), readv/writev of a datagram, EOF, SO_PEERCRED of the creator;
 *   - a path: bind makes a socket file (stat, mode by the umask, open's ENXIO, EADDRINUSE, unlink),
 *     listen, a forked child connects while the parent waits in accept, the names each end gives
 *     and their lengths, SO_PEERCRED both ways, an unterminated 108-byte sun_path (length 111);
 *   - the abstract namespace and autobind (8 bytes, five hex digits), datagrams with their senders;
 *   - EOF, EPIPE with MSG_NOSIGNAL and SIGPIPE without, ECONNRESET for bytes left unread;
 *   - poll's bits in each state, a blocking poll, recv, accept and epoll_wait woken by a child;
 *   - a full backlog (EAGAIN), a full datagram queue (EAGAIN after 11), options, errors;
 *   - SCM_RIGHTS: a file and a socket passed to another process (the same description: its offset
 *     moves), a control buffer too small (MSG_CTRUNC); SO_PASSCRED's SCM_CREDENTIALS.
 * Pids are never printed: each is compared with the value fork or getpid gave. */
#include "difftest.h"
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LISTEN_PATH "/tmp/unixsockets-listen.sock"
#define DGRAM_PATH "/tmp/unixsockets-dgram.sock"
#define SENDER_PATH "/tmp/unixsockets-sender.sock"

static socklen_t path_address(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    strcpy(a->sun_path, path);
    return sizeof *a;
}

/* An abstract name: the family, a NUL, the name; the length counts exactly those bytes. */
static socklen_t abstract_address(struct sockaddr_un *a, const char *name)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    memcpy(a->sun_path + 1, name, strlen(name));
    return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

static int child_status(pid_t child)
{
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

static const char *poll_bits(int fd, short events)
{
    static char text[32];
    struct pollfd p = { fd, events, 0 };
    int n = poll(&p, 1, 0);
    snprintf(text, sizeof text, "%d %#x", n, p.revents);
    return text;
}

static void pairs_across_fork(void)
{
    int sv[2];
    DT_EXPECT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), "socketpair stream");
    struct ucred cred;
    socklen_t length = sizeof cred;
    DT_EXPECT_OK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cred, &length), "SO_PEERCRED of a pair");
    dt_check(length == sizeof cred && cred.pid == getpid() && cred.uid == getuid() && cred.gid == getgid(),
             "a pair's peer is its creator", "length %u", length);
    struct sockaddr_un name;
    length = sizeof name;
    DT_EXPECT_OK(getpeername(sv[0], (struct sockaddr *)&name, &length), "getpeername of a pair");
    dt_check(length == 2 && name.sun_family == AF_UNIX, "an unnamed peer: length 2", "length %u", length);

    pid_t child = fork();
    if (child == 0) {
        close(sv[0]);
        const char *message = "stream from the child";
        if (write(sv[1], message, strlen(message)) != (long)strlen(message)) _exit(10);
        char reply[64];
        long n = read(sv[1], reply, sizeof reply);
        if (n != 5 || memcmp(reply, "reply", 5) != 0) _exit(11);
        _exit(0);
    }
    close(sv[1]);
    char buffer[64];
    long n = read(sv[0], buffer, sizeof buffer - 1);
    buffer[n > 0 ? n : 0] = 0;
    printf("parent read: %s\n", buffer);
    dt_check(write(sv[0], "reply", 5) == 5, "write back", "(no detail)");
    dt_check(child_status(child) == 0, "the child read the reply", "(no detail)");
    dt_check(read(sv[0], buffer, sizeof buffer) == 0, "EOF once the child exited", "(no detail)");
    close(sv[0]);

    /* Datagrams keep their boundaries; a cut one says so. */
    DT_EXPECT_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), "socketpair dgram");
    child = fork();
    if (child == 0) {
        close(sv[0]);
        send(sv[1], "one", 3, 0);
        send(sv[1], "a longer second message", 23, 0);
        send(sv[1], "", 0, 0);
        struct iovec pieces[3] = { { "wri", 3 }, { "te", 2 }, { "v!", 2 } };
        if (writev(sv[1], pieces, 3) != 7) _exit(12);
        _exit(0);
    }
    close(sv[1]);
    dt_check(child_status(child) == 0, "the child sent four datagrams", "(no detail)");
    n = recv(sv[0], buffer, sizeof buffer, 0);
    dt_check(n == 3 && memcmp(buffer, "one", 3) == 0, "first datagram whole", "%ld", n);
    struct iovec into = { buffer, 8 };
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = &into;
    message.msg_iovlen = 1;
    n = recvmsg(sv[0], &message, 0);
    dt_check(n == 8 && (message.msg_flags & MSG_TRUNC) && memcmp(buffer, "a longer", 8) == 0, "a cut datagram: MSG_TRUNC", "%ld flags %#x", n, message.msg_flags);
    n = recv(sv[0], buffer, sizeof buffer, 0);
    dt_check(n == 0, "the empty datagram", "%ld", n);
    char a[4], b[8];
    struct iovec scatter[2] = { { a, 4 }, { b, 8 } };
    n = readv(sv[0], scatter, 2);
    dt_check(n == 7 && memcmp(a, "writ", 4) == 0 && memcmp(b, "ev!", 3) == 0, "writev's pieces came as one datagram, readv scattered it", "%ld", n);
    DT_EXPECT_ERRNO(recv(sv[0], buffer, sizeof buffer, MSG_DONTWAIT), EAGAIN, "no more datagrams");
    dt_check(send(sv[0], "x", 1, MSG_NOSIGNAL) == -1 && errno == ECONNREFUSED, "a datagram to a closed peer: ECONNREFUSED", "%s", dt_errno_name(errno));
    DT_EXPECT_ERRNO(send(sv[0], "x", 1, MSG_NOSIGNAL), ENOTCONN, "then not connected");
    close(sv[0]);

    /* Sequenced packets: boundaries, and EOF. */
    DT_EXPECT_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), "socketpair seqpacket");
    send(sv[1], "packet one", 10, 0);
    send(sv[1], "two", 3, 0);
    n = recv(sv[0], buffer, 6, 0);
    dt_check(n == 6 && memcmp(buffer, "packet", 6) == 0, "a packet cut", "%ld", n);
    n = recv(sv[0], buffer, 6, MSG_TRUNC);
    dt_check(n == 3, "the next packet (the cut one's rest is gone)", "%ld", n);
    close(sv[1]);
    n = recv(sv[0], buffer, sizeof buffer, 0);
    dt_check(n == 0, "EOF of a packet connection", "%ld", n);
    DT_EXPECT_ERRNO(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE, "a packet to a closed peer: EPIPE");
    close(sv[0]);
}

static void path_names(void)
{
    unlink(LISTEN_PATH);
    umask(022);
    struct sockaddr_un address;
    socklen_t length = path_address(&address, LISTEN_PATH);
    int listener = DT_EXPECT_OK(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket stream");
    DT_EXPECT_OK(bind(listener, (struct sockaddr *)&address, length), "bind a path");
    struct stat info;
    DT_EXPECT_OK(stat(LISTEN_PATH, &info), "stat the socket file");
    dt_check(S_ISSOCK(info.st_mode) && (info.st_mode & 07777) == 0755, "a socket file, mode 0755 under umask 022", "mode %o", info.st_mode);
    DT_EXPECT_ERRNO(open(LISTEN_PATH, O_RDWR), ENXIO, "open of a socket file");
    int other = socket(AF_UNIX, SOCK_STREAM, 0);
    DT_EXPECT_ERRNO(bind(other, (struct sockaddr *)&address, length), EADDRINUSE, "bind to a path in use");
    struct sockaddr_un second;
    DT_EXPECT_ERRNO(bind(listener, (struct sockaddr *)&second, path_address(&second, "/tmp/unixsockets-second.sock")), EINVAL, "bind twice");
    dt_check(access("/tmp/unixsockets-second.sock", F_OK) == -1, "the second path was not made", "(no detail)");
    struct sockaddr_un name;
    socklen_t name_length = sizeof name;
    DT_EXPECT_OK(getsockname(listener, (struct sockaddr *)&name, &name_length), "getsockname of a path");
    dt_check(name_length == offsetof(struct sockaddr_un, sun_path) + strlen(LISTEN_PATH) + 1 && strcmp(name.sun_path, LISTEN_PATH) == 0,
             "the name: offsetof(sun_path) + strlen + 1", "%u", name_length);
    DT_EXPECT_ERRNO(connect(other, (struct sockaddr *)&address, length), ECONNREFUSED, "connect before listen");
    DT_EXPECT_OK(listen(listener, 4), "listen");
    int value = 0;
    socklen_t value_length = sizeof value;
    getsockopt(listener, SOL_SOCKET, SO_ACCEPTCONN, &value, &value_length);
    dt_check(value == 1, "SO_ACCEPTCONN of a listener", "%d", value);
    printf("listener poll: %s\n", poll_bits(listener, POLLIN | POLLOUT));

    pid_t child = fork();
    if (child == 0) {
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(s, (struct sockaddr *)&address, length) != 0) _exit(20);
        struct sockaddr_un peer;
        socklen_t peer_length = sizeof peer;
        if (getpeername(s, (struct sockaddr *)&peer, &peer_length) != 0) _exit(21);
        if (peer_length != offsetof(struct sockaddr_un, sun_path) + strlen(LISTEN_PATH) + 1 || strcmp(peer.sun_path, LISTEN_PATH) != 0) _exit(22);
        struct ucred cred;
        socklen_t cred_length = sizeof cred;
        if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &cred_length) != 0 || cred.pid != getppid()) _exit(23);
        if (write(s, "knock knock", 11) != 11) _exit(24);
        char reply[32];
        long n = read(s, reply, sizeof reply);
        if (n != 12 || memcmp(reply, "who is there", 12) != 0) _exit(25);
        _exit(0);
    }
    struct sockaddr_un peer;
    socklen_t peer_length = sizeof peer;
    int connection = DT_EXPECT_OK(accept(listener, (struct sockaddr *)&peer, &peer_length), "accept (waits for the child)");
    dt_check(peer_length == 2 && peer.sun_family == AF_UNIX, "accept: the unnamed client, length 2", "%u", peer_length);
    name_length = sizeof name;
    getsockname(connection, (struct sockaddr *)&name, &name_length);
    dt_check(strcmp(name.sun_path, LISTEN_PATH) == 0, "the accepted socket has the listener's name", "%s", name.sun_path);
    struct ucred cred;
    socklen_t cred_length = sizeof cred;
    DT_EXPECT_OK(getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &cred, &cred_length), "SO_PEERCRED of the accepted socket");
    dt_check(cred.pid == child, "its peer is the connecting child", "(no detail)");
    char buffer[32];
    long n = read(connection, buffer, sizeof buffer);
    dt_check(n == 11 && memcmp(buffer, "knock knock", 11) == 0, "read what the child wrote", "%ld", n);
    write(connection, "who is there", 12);
    dt_check(child_status(child) == 0, "the child's side went as expected", "(no detail)");
    close(connection);
    close(other);
    close(listener);
    DT_EXPECT_OK(unlink(LISTEN_PATH), "unlink the socket file");
    DT_EXPECT_ERRNO(stat(LISTEN_PATH, &info), ENOENT, "gone");

    /* sun_path without a NUL: all 108 bytes are the path, the name 111 bytes long. */
    char long_path[109];
    memset(long_path, 'u', 108);
    memcpy(long_path, "/tmp/", 5);
    long_path[108] = 0;
    unlink(long_path);
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    memcpy(address.sun_path, long_path, 108);
    int full = socket(AF_UNIX, SOCK_DGRAM, 0);
    DT_EXPECT_OK(bind(full, (struct sockaddr *)&address, sizeof address), "bind an unterminated 108-byte path");
    char big[128];
    socklen_t big_length = sizeof big;
    getsockname(full, (struct sockaddr *)big, &big_length);
    dt_check(big_length == 111 && memcmp(big + 2, long_path, 108) == 0 && big[110] == 0, "its name is 111 bytes", "%u", big_length);
    dt_check(access(long_path, F_OK) == 0, "the long path exists", "(no detail)");
    unlink(long_path);
    close(full);
}

static void abstract_and_datagrams(void)
{
    struct sockaddr_un address, from;
    socklen_t length = abstract_address(&address, "unixsockets-abstract");
    int receiver = DT_EXPECT_OK(socket(AF_UNIX, SOCK_DGRAM, 0), "socket dgram");
    DT_EXPECT_OK(bind(receiver, (struct sockaddr *)&address, length), "bind an abstract name");
    socklen_t name_length = sizeof from;
    getsockname(receiver, (struct sockaddr *)&from, &name_length);
    dt_check(name_length == length && memcmp(&from, &address, length) == 0, "getsockname: the abstract bytes, their length", "%u", name_length);
    int taken = socket(AF_UNIX, SOCK_DGRAM, 0);
    DT_EXPECT_ERRNO(bind(taken, (struct sockaddr *)&address, length), EADDRINUSE, "an abstract name in use");
    DT_EXPECT_ERRNO(sendto(taken, "x", 1, 0, (struct sockaddr *)&address, length + 1), ECONNREFUSED, "one more byte is another name");

    unlink(SENDER_PATH);
    struct sockaddr_un sender_address;
    socklen_t sender_length = path_address(&sender_address, SENDER_PATH);
    int named = socket(AF_UNIX, SOCK_DGRAM, 0);
    DT_EXPECT_OK(bind(named, (struct sockaddr *)&sender_address, sender_length), "bind the sender to a path");
    int unnamed = socket(AF_UNIX, SOCK_DGRAM, 0);
    dt_check(sendto(named, "from a path", 11, 0, (struct sockaddr *)&address, length) == 11, "sendto an abstract name", "(no detail)");
    dt_check(sendto(unnamed, "from nobody", 11, 0, (struct sockaddr *)&address, length) == 11, "sendto from an unnamed socket", "(no detail)");
    char buffer[64];
    socklen_t from_length = sizeof from;
    long n = recvfrom(receiver, buffer, sizeof buffer, 0, (struct sockaddr *)&from, &from_length);
    dt_check(n == 11 && from_length == offsetof(struct sockaddr_un, sun_path) + strlen(SENDER_PATH) + 1 && strcmp(from.sun_path, SENDER_PATH) == 0,
             "recvfrom names the sender's path", "%ld %u", n, from_length);
    from_length = sizeof from;
    n = recvfrom(receiver, buffer, sizeof buffer, 0, (struct sockaddr *)&from, &from_length);
    dt_check(n == 11 && from_length == 0, "an unnamed sender: address length 0", "%ld %u", n, from_length);

    /* Autobind: bind with the family alone. */
    struct sockaddr_un family_only = { .sun_family = AF_UNIX };
    DT_EXPECT_OK(bind(unnamed, (struct sockaddr *)&family_only, sizeof(sa_family_t)), "autobind");
    name_length = sizeof from;
    getsockname(unnamed, (struct sockaddr *)&from, &name_length);
    int hex = 1;
    for (int i = 1; i < 6; i++) hex &= (from.sun_path[i] >= '0' && from.sun_path[i] <= '9') || (from.sun_path[i] >= 'a' && from.sun_path[i] <= 'f');
    dt_check(name_length == 8 && from.sun_path[0] == 0 && hex, "autobind: an abstract name of five hex digits", "%u", name_length);

    /* A non-peer's datagrams: the queue takes 11 (max_dgram_qlen 10), then EAGAIN. */
    int count = 0;
    while (count < 50 && sendto(taken, "q", 1, MSG_DONTWAIT, (struct sockaddr *)&address, length) == 1) count++;
    dt_check(count == 11 && errno == EAGAIN, "a full datagram queue after 11", "%d %s", count, dt_errno_name(errno));
    pid_t child = fork();
    if (child == 0) {
        /* Blocks until the parent reads one. */
        _exit(sendto(taken, "late", 4, 0, (struct sockaddr *)&address, length) == 4 ? 0 : 30);
    }
    for (int i = 0; i < 11; i++) recv(receiver, buffer, sizeof buffer, 0);
    dt_check(child_status(child) == 0, "a blocked sender went on when the queue drained", "(no detail)");
    n = recv(receiver, buffer, sizeof buffer, 0);
    dt_check(n == 4 && memcmp(buffer, "late", 4) == 0, "its datagram came", "%ld", n);

    /* connect: only the peer may send then. */
    DT_EXPECT_OK(connect(receiver, (struct sockaddr *)&sender_address, sender_length), "connect a datagram socket");
    DT_EXPECT_ERRNO(sendto(taken, "x", 1, 0, (struct sockaddr *)&address, length), EPERM, "a third socket may not send to it");
    struct sockaddr unspecified = { .sa_family = AF_UNSPEC };
    DT_EXPECT_OK(connect(receiver, &unspecified, sizeof unspecified), "AF_UNSPEC dissolves it");
    DT_EXPECT_ERRNO(send(receiver, "x", 1, 0), ENOTCONN, "no peer any more");
    close(receiver);
    close(taken);
    close(named);
    close(unnamed);
    unlink(SENDER_PATH);
}

static int pipe_signals;
static void on_pipe(int signal_number) { (void)signal_number; pipe_signals++; }

static void endings(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    write(sv[1], "tail", 4);
    close(sv[1]);
    printf("peer closed, poll: %s\n", poll_bits(sv[0], POLLIN | POLLOUT | POLLRDHUP));
    char buffer[16];
    dt_check(read(sv[0], buffer, sizeof buffer) == 4, "the bytes before the close", "(no detail)");
    dt_check(read(sv[0], buffer, sizeof buffer) == 0, "then EOF", "(no detail)");
    DT_EXPECT_ERRNO(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE, "send to a closed peer with MSG_NOSIGNAL");
    dt_check(pipe_signals == 0, "no SIGPIPE with MSG_NOSIGNAL", "%d", pipe_signals);
    signal(SIGPIPE, on_pipe);
    DT_EXPECT_ERRNO(write(sv[0], "x", 1), EPIPE, "write to a closed peer");
    dt_check(pipe_signals == 1, "SIGPIPE without MSG_NOSIGNAL", "%d", pipe_signals);
    signal(SIGPIPE, SIG_DFL);
    close(sv[0]);

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    write(sv[0], "never read", 10);
    close(sv[1]);
    printf("closed with bytes unread, poll: %s\n", poll_bits(sv[0], POLLIN));
    DT_EXPECT_ERRNO(read(sv[0], buffer, sizeof buffer), ECONNRESET, "the other end left bytes unread");
    dt_check(read(sv[0], buffer, sizeof buffer) == 0, "then EOF", "(no detail)");
    close(sv[0]);

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    printf("connected, poll: %s\n", poll_bits(sv[0], POLLIN | POLLOUT));
    DT_EXPECT_OK(shutdown(sv[1], SHUT_WR), "shutdown SHUT_WR");
    printf("peer shut for writing, poll: %s\n", poll_bits(sv[0], POLLIN | POLLOUT | POLLRDHUP));
    printf("shut for writing, poll: %s\n", poll_bits(sv[1], POLLIN | POLLOUT | POLLRDHUP));
    dt_check(read(sv[0], buffer, sizeof buffer) == 0, "EOF after the peer's SHUT_WR", "(no detail)");
    dt_check(write(sv[0], "back", 4) == 4 && read(sv[1], buffer, sizeof buffer) == 4, "the other direction still works", "(no detail)");
    DT_EXPECT_ERRNO(send(sv[1], "x", 1, MSG_NOSIGNAL), EPIPE, "send after SHUT_WR");
    DT_EXPECT_ERRNO(shutdown(sv[1], 7), EINVAL, "shutdown with a bad how");
    close(sv[0]);
    close(sv[1]);

    int loose = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("unconnected stream, poll: %s\n", poll_bits(loose, POLLIN | POLLOUT));
    close(loose);
}

static void waits(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pid_t child = fork();
    if (child == 0) {
        struct timespec pause = { 0, 100 * 1000000 };
        nanosleep(&pause, NULL);
        write(sv[1], "woken", 5);
        nanosleep(&pause, NULL);
        write(sv[1], "again", 5);
        nanosleep(&pause, NULL);
        write(sv[1], "epoll", 5);
        _exit(0);
    }
    struct pollfd p = { sv[0], POLLIN, 0 };
    dt_check(poll(&p, 1, 10000) == 1 && p.revents == POLLIN, "a blocking poll woken by the child's write", "revents %#x", p.revents);
    char buffer[8];
    dt_check(read(sv[0], buffer, sizeof buffer) == 5, "read it", "(no detail)");
    dt_check(read(sv[0], buffer, sizeof buffer) == 5 && memcmp(buffer, "again", 5) == 0, "a blocking read woken by the next", "(no detail)");
    int epfd = epoll_create1(0);
    struct epoll_event event = { .events = EPOLLIN, .data.u64 = 42 };
    DT_EXPECT_OK(epoll_ctl(epfd, EPOLL_CTL_ADD, sv[0], &event), "epoll_ctl ADD a unix socket");
    struct epoll_event got;
    int n = epoll_wait(epfd, &got, 1, 10000);
    dt_check(n == 1 && got.data.u64 == 42 && got.events == EPOLLIN, "epoll_wait woken by the child's write", "%d %#x", n, got.events);
    dt_check(child_status(child) == 0, "the writing child", "(no detail)");
    close(epfd);
    close(sv[0]);
    close(sv[1]);

    /* A full backlog: a non-blocking connect gets EAGAIN; accept makes room. */
    unlink(LISTEN_PATH);
    struct sockaddr_un address;
    socklen_t length = path_address(&address, LISTEN_PATH);
    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(listener, (struct sockaddr *)&address, length);
    listen(listener, 0);
    int first = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0), second = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    DT_EXPECT_OK(connect(first, (struct sockaddr *)&address, length), "a backlog of 0 holds one connection");
    DT_EXPECT_ERRNO(connect(second, (struct sockaddr *)&address, length), EAGAIN, "the next finds it full");
    printf("listener with one waiting, poll: %s\n", poll_bits(listener, POLLIN | POLLOUT));
    int accepted = DT_EXPECT_OK(accept(listener, NULL, NULL), "accept");
    DT_EXPECT_OK(connect(second, (struct sockaddr *)&address, length), "room again");
    close(accepted);
    accepted = accept(listener, NULL, NULL);
    close(accepted);
    close(first);
    close(second);
    close(listener);
    unlink(LISTEN_PATH);
}

static void options_and_errors(void)
{
    int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    int value = 0;
    socklen_t length = sizeof value;
    getsockopt(s, SOL_SOCKET, SO_TYPE, &value, &length);
    dt_check(value == SOCK_SEQPACKET, "SO_TYPE", "%d", value);
    getsockopt(s, SOL_SOCKET, SO_DOMAIN, &value, &length);
    dt_check(value == AF_UNIX, "SO_DOMAIN", "%d", value);
    getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &value, &length);
    dt_check(value == 0, "SO_PROTOCOL", "%d", value);
    int raw = socket(AF_UNIX, SOCK_RAW, 0);
    getsockopt(raw, SOL_SOCKET, SO_TYPE, &value, &length);
    dt_check(value == SOCK_DGRAM, "SOCK_RAW makes a datagram socket", "%d", value);
    close(raw);
    value = 65536;
    DT_EXPECT_OK(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &value, sizeof value), "SO_SNDBUF");
    getsockopt(s, SOL_SOCKET, SO_SNDBUF, &value, &length);
    dt_check(value == 131072, "SO_SNDBUF reads back doubled", "%d", value);
    value = 1;
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &value, sizeof value);
    getsockopt(s, SOL_SOCKET, SO_RCVBUF, &value, &length);
    dt_check(value == 2304, "SO_RCVBUF's floor", "%d", value);
    struct ucred cred;
    length = sizeof cred;
    getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &length);
    dt_check(cred.pid == 0 && cred.uid == (uid_t)-1 && cred.gid == (gid_t)-1, "SO_PEERCRED unconnected", "%d", cred.pid);
    short small = 0;
    length = sizeof small;
    DT_EXPECT_OK(getsockopt(s, SOL_SOCKET, SO_TYPE, &small, &length), "getsockopt into 2 bytes");
    dt_check(length == 2 && small == SOCK_SEQPACKET, "a short buffer gets the first bytes", "%u", length);
    DT_EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, 1, &value, sizeof value), EOPNOTSUPP, "a protocol level on a unix socket");
    DT_EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_PEERCRED, &value, sizeof value), ENOPROTOOPT, "setting SO_PEERCRED");
    DT_EXPECT_ERRNO(send(s, "x", 1, MSG_NOSIGNAL), ENOTCONN, "send on an unconnected packet socket");
    DT_EXPECT_ERRNO(listen(s, 1), EINVAL, "listen without a name");
    close(s);

    int sv[2];
    DT_EXPECT_ERRNO(socketpair(AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP, "socketpair of AF_INET");
    DT_EXPECT_ERRNO(socketpair(AF_UNIX, SOCK_STREAM, 2, sv), EPROTONOSUPPORT, "socketpair with another protocol");
    DT_EXPECT_ERRNO(socket(AF_UNIX, 4, 0), ESOCKTNOSUPPORT, "SOCK_RDM");
    int stream = socket(AF_UNIX, SOCK_STREAM, 0), datagram = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un address;
    socklen_t length2 = path_address(&address, "/tmp/unixsockets-nobody.sock");
    unlink("/tmp/unixsockets-nobody.sock");
    DT_EXPECT_ERRNO(connect(stream, (struct sockaddr *)&address, length2), ENOENT, "connect to a missing path");
    int file = open("/tmp/unixsockets-file", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    close(file);
    length2 = path_address(&address, "/tmp/unixsockets-file");
    DT_EXPECT_ERRNO(connect(stream, (struct sockaddr *)&address, length2), ECONNREFUSED, "connect to a regular file");
    unlink("/tmp/unixsockets-file");
    unlink(DGRAM_PATH);
    length2 = path_address(&address, DGRAM_PATH);
    bind(datagram, (struct sockaddr *)&address, length2);
    DT_EXPECT_ERRNO(connect(stream, (struct sockaddr *)&address, length2), EPROTOTYPE, "connect a stream to a datagram socket");
    DT_EXPECT_ERRNO(connect(stream, (struct sockaddr *)&address, 1), EINVAL, "an address shorter than the family");
    DT_EXPECT_ERRNO(connect(stream, (struct sockaddr *)&address, 2), EINVAL, "an address of the family alone");
    DT_EXPECT_ERRNO(bind(stream, (struct sockaddr *)&address, sizeof address + 1), EINVAL, "an address longer than sockaddr_un");
    struct sockaddr_un wrong = address;
    wrong.sun_family = AF_INET;
    DT_EXPECT_ERRNO(bind(stream, (struct sockaddr *)&wrong, length2), EINVAL, "an address of another family");
    DT_EXPECT_ERRNO(listen(datagram, 1), EOPNOTSUPP, "listen on a datagram socket");
    DT_EXPECT_ERRNO(accept(datagram, NULL, NULL), EOPNOTSUPP, "accept on a datagram socket");
    DT_EXPECT_ERRNO(send(datagram, "x", 1, 0), ENOTCONN, "send without a destination");
    socklen_t name_length = sizeof address;
    DT_EXPECT_ERRNO(getpeername(stream, (struct sockaddr *)&address, &name_length), ENOTCONN, "getpeername unconnected");
    DT_EXPECT_ERRNO(recv(stream, &value, 1, MSG_DONTWAIT), EINVAL, "recv on an unconnected stream");
    DT_EXPECT_ERRNO(accept(stream, NULL, NULL), EINVAL, "accept without listen");
    DT_EXPECT_ERRNO(sendto(stream, "x", 1, MSG_NOSIGNAL, (struct sockaddr *)&address, length2), EOPNOTSUPP, "sendto on an unconnected stream");
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    DT_EXPECT_ERRNO(sendto(sv[0], "x", 1, 0, (struct sockaddr *)&address, length2), EISCONN, "sendto on a connected stream");
    struct stat info;
    fstat(sv[0], &info);
    dt_check(S_ISSOCK(info.st_mode), "fstat: a socket", "%o", info.st_mode);
    close(sv[0]);
    close(sv[1]);
    close(stream);
    close(datagram);
    unlink(DGRAM_PATH);
}

/* Sends fds with SCM_RIGHTS over s, with one byte. */
static long send_fds(int s, const int *fds, int count)
{
    char data = 'F';
    struct iovec iov = { &data, 1 };
    union { struct cmsghdr header; char bytes[CMSG_SPACE(4 * sizeof(int))]; } control;
    memset(&control, 0, sizeof control);
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control.bytes;
    message.msg_controllen = CMSG_SPACE(count * sizeof(int));
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(count * sizeof(int));
    memcpy(CMSG_DATA(header), fds, count * sizeof(int));
    return sendmsg(s, &message, 0);
}

static void passing(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    int file = open("/tmp/unixsockets-passed", O_CREAT | O_RDWR | O_TRUNC, 0644);
    write(file, "0123456789", 10);
    close(file);
    int inner[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, inner);
    pid_t child = fork();
    if (child == 0) {
        int f = open("/tmp/unixsockets-passed", O_RDONLY);
        lseek(f, 3, SEEK_SET);
        int both[2] = { f, inner[0] };
        if (send_fds(sv[1], both, 2) != 1) _exit(40);
        close(f);
        close(inner[0]);
        int two[2] = { inner[1], inner[1] };
        if (send_fds(sv[1], two, 2) != 1) _exit(41);
        _exit(0);
    }
    close(inner[0]);
    dt_check(child_status(child) == 0, "the child passed its descriptors", "(no detail)");

    char data;
    struct iovec iov = { &data, 1 };
    union { struct cmsghdr header; char bytes[CMSG_SPACE(4 * sizeof(int))]; } control;
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control.bytes;
    message.msg_controllen = sizeof control;
    long n = recvmsg(sv[0], &message, MSG_CMSG_CLOEXEC);
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    dt_check(n == 1 && header != NULL && header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS
             && header->cmsg_len == CMSG_LEN(2 * sizeof(int)) && message.msg_controllen == CMSG_SPACE(2 * sizeof(int))
             && !(message.msg_flags & MSG_CTRUNC), "SCM_RIGHTS: two descriptors", "%ld controllen %zu", n, (size_t)message.msg_controllen);
    int got[2] = { -1, -1 };
    if (header != NULL) memcpy(got, CMSG_DATA(header), sizeof got);
    char text[16];
    n = read(got[0], text, sizeof text);
    dt_check(n == 7 && memcmp(text, "3456789", 7) == 0, "the passed file reads from the offset its sender left", "%ld", n);
    dt_check(fcntl(got[0], F_GETFD) == FD_CLOEXEC, "MSG_CMSG_CLOEXEC", "(no detail)");
    struct stat info;
    fstat(got[1], &info);
    dt_check(S_ISSOCK(info.st_mode), "the second is a socket", "%o", info.st_mode);
    dt_check(write(got[1], "via a passed socket", 19) == 19, "write through it", "(no detail)");
    n = read(inner[1], text, sizeof text);
    dt_check(n == 16 && memcmp(text, "via a passed soc", 16) == 0, "the other end of the passed socket reads it", "%ld", n);
    read(inner[1], text, sizeof text);

    /* Room for one: the first arrives, MSG_CTRUNC, the other is closed. */
    memset(&message, 0, sizeof message);
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control.bytes;
    message.msg_controllen = CMSG_LEN(sizeof(int));
    n = recvmsg(sv[0], &message, 0);
    header = CMSG_FIRSTHDR(&message);
    dt_check(n == 1 && (message.msg_flags & MSG_CTRUNC) && header != NULL && header->cmsg_len == CMSG_LEN(sizeof(int))
             && message.msg_controllen == CMSG_LEN(sizeof(int)), "a control buffer for one: MSG_CTRUNC", "%ld flags %#x", n, message.msg_flags);
    close(got[0]);
    close(got[1]);
    if (header != NULL) {
        int one;
        memcpy(&one, CMSG_DATA(header), sizeof one);
        close(one);
    }
    /* Every descriptor of inner[1]'s peer is closed now: EOF. */
    dt_check(read(inner[1], text, sizeof text) == 0, "the passed socket's last descriptor closed: EOF", "(no detail)");
    close(inner[1]);
    unlink("/tmp/unixsockets-passed");

    /* SO_PASSCRED: each read says who sent it. */
    int one = 1;
    DT_EXPECT_OK(setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one), "SO_PASSCRED");
    child = fork();
    if (child == 0) _exit(send(sv[1], "c", 1, 0) == 1 ? 0 : 42);
    dt_check(child_status(child) == 0, "the child sent", "(no detail)");
    memset(&message, 0, sizeof message);
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control.bytes;
    message.msg_controllen = sizeof control;
    n = recvmsg(sv[0], &message, 0);
    header = CMSG_FIRSTHDR(&message);
    struct ucred cred = { 0, 0, 0 };
    if (header != NULL && header->cmsg_type == SCM_CREDENTIALS) memcpy(&cred, CMSG_DATA(header), sizeof cred);
    dt_check(n == 1 && header != NULL && header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_CREDENTIALS
             && header->cmsg_len == CMSG_LEN(sizeof cred) && cred.pid == child && cred.uid == getuid() && cred.gid == getgid(),
             "SCM_CREDENTIALS names the sending child", "%ld", n);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    dt_start("unixsockets");
    pairs_across_fork();
    path_names();
    abstract_and_datagrams();
    endings();
    waits();
    options_and_errors();
    passing();
    return dt_finish();
}
