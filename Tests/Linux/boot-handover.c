/* boot-handover: a TCP server the host talks to (LinuxSocketBootTests). It accepts with SOCK_NONBLOCK,
 * so on Aegis each connection may run in this process's own stack (docs/libos-unixish.md,
 * "Connections run by the process"), and answers each line it reads:
 *   "echo TEXT" -> "TEXT"                (read, poll and write on the connection)
 *   "timeout"   -> "timeout"             (after SO_RCVTIMEO: a call the process does not serve itself)
 *   "fork"      -> the child answers "child PID-DIFFERS" and closes; the parent closes its copy
 *   "quit"      -> "bye", then the program exits 0
 *   "close"     -> "closing", then this side closes first
 *   "block" / "nonblock" -> the same word, after the listener's O_NONBLOCK is cleared / set
 *   "relisten"  -> "relisten", after the listener is closed and a new (blocking) one made on the port
 *   "hold"      -> "held": this connection stays open, unread, while the next ones are served
 *   "release"   -> "released", after the held connection is closed
 *   "facts"     -> "lent N lend M": the file server's loans so far (/proc/aegis/handover) and the
 *                  Lend calls it was asked (/proc/aegis/file_server); "lent -1 lend -1" off Aegis
 *   "share"     -> "shared", after forking a child that shares the listener and waits
 *   "queue"     -> "queued R S": waits (10 s at most) until a connection waits for the listener (R 1),
 *                  closes this process's descriptor of it and lets the child accept (blocking, 20 s at
 *                  most) that connection, which the child answers "child got LINE" for its first line;
 *                  S is the child's exit status (0: it answered); then a new listener here. On Aegis
 *                  the waiting connection is in the twin of the listener lent to this process
 *                  ("The listener in the process"), and the close gives it to the server's queue
 *   "letgo"     -> "let go" once this process's descriptor of the listener is closed, then as
 *                  "queue" without waiting for a connection to be ready (R is 0): a handshake the
 *                  twin answered and the peer has not finished goes to the server
 * One connection at a time; a connection ends at its peer's close, or after fork, quit or close.
 * With "lend" the listener is non-blocking and the loop waits for it with poll, as an event loop's
 * is: on Aegis the file server then lends it to this process ("The listener in the process").
 * Usage: boot-handover PORT [lend] */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static int wait_for(int fd, short events)
{
    struct pollfd p = { .fd = fd, .events = events };
    for (;;) {
        int n = poll(&p, 1, -1);
        if (n > 0) return p.revents;
        if (n < 0 && errno != EINTR) return -1;
    }
}

static int send_all(int fd, const char *text)
{
    size_t length = strlen(text), done = 0;
    while (done < length) {
        ssize_t n = write(fd, text + done, length - done);
        if (n > 0) { done += (size_t)n; continue; }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) { wait_for(fd, POLLOUT); continue; }
        return -1;
    }
    return 0;
}

/* One line into line (without its '\n'): its length, 0 at the peer's close, -1 on an error. */
static int read_line(int fd, char *buffer, int *held, char *line, int room)
{
    for (;;) {
        char *end = memchr(buffer, '\n', (size_t)*held);
        if (end != NULL) {
            int length = (int)(end - buffer);
            if (length >= room) length = room - 1;
            memcpy(line, buffer, (size_t)length);
            line[length] = 0;
            *held -= (int)(end - buffer) + 1;
            memmove(buffer, end + 1, (size_t)*held);
            return length > 0 ? length : 1;
        }
        if (*held == 4096) return -1;
        ssize_t n = read(fd, buffer + *held, (size_t)(4096 - *held));
        if (n > 0) { *held += (int)n; continue; }
        if (n == 0) return 0;
        if (errno == EAGAIN || errno == EINTR) { wait_for(fd, POLLIN); continue; }
        return -1;
    }
}

/* The count on the line "NAME N" of the file at path, or -1. */
static long named_count(const char *path, const char *name)
{
    char text[8192];
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return -1;
    text[n] = 0;
    size_t length = strlen(name);
    for (char *line = text; line != NULL && *line != 0; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, name, length) == 0 && line[length] == ' ') return atol(line + length + 1);
    return -1;
}

static int listen_on(int port)
{
    int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 8) != 0) { perror("handover: listen"); return -1; }
    return listener;
}

static int set_nonblocking(int fd, int on)
{
    int flags = fcntl(fd, F_GETFL);
    return fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK);
}

/* "share"'s child: at a byte on go, one blocking accept on the shared listener; the first line of
 * that connection answered "child got LINE". Exits 0 when it answered. */
static void sharer(int listener, int go)
{
    char byte, buffer[4096], line[4096], answer[4200];
    int held = 0;
    if (read(go, &byte, 1) != 1) _exit(3);
    struct timeval limit = { .tv_sec = 20 };
    setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    set_nonblocking(listener, 0);
    int fd = accept(listener, NULL, NULL);
    if (fd < 0) { perror("handover: the sharer's accept"); _exit(1); }
    if (read_line(fd, buffer, &held, line, (int)sizeof line) <= 0) _exit(2);
    snprintf(answer, sizeof answer, "child got %s\n", line);
    _exit(send_all(fd, answer) == 0 ? 0 : 4);
}

int main(int argc, char **argv)
{
    if (argc != 2 && !(argc == 3 && strcmp(argv[2], "lend") == 0)) { fprintf(stderr, "usage: boot-handover PORT [lend]\n"); return 2; }
    int lend = argc == 3;
    int port = atoi(argv[1]), listener = listen_on(port), held = -1, go = -1;
    pid_t shared = -1;
    if (listener < 0) return 1;
    if (lend) set_nonblocking(listener, 1);
    printf("handover: listening\n");
    fflush(stdout);
    pid_t self = getpid();
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
        if (fd < 0 && errno == EAGAIN) { wait_for(listener, POLLIN); continue; }
        if (fd < 0) { if (errno == EINTR) continue; perror("handover: accept4"); return 1; }
        char buffer[4096], line[4096];
        int buffered = 0, quit = 0, keep = 0;
        for (;;) {
            int length = read_line(fd, buffer, &buffered, line, (int)sizeof line);
            if (length <= 0) break;
            if (strncmp(line, "echo ", 5) == 0) {
                strcat(line, "\n");
                if (send_all(fd, line + 5) != 0) break;
            } else if (strcmp(line, "timeout") == 0) {
                struct timeval limit = { .tv_sec = 30 };
                if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) != 0 || send_all(fd, "timeout\n") != 0) break;
            } else if (strcmp(line, "fork") == 0) {
                pid_t child = fork();
                if (child == 0) {
                    send_all(fd, getpid() != self ? "child PID-DIFFERS\n" : "child PID-SAME\n");
                    close(fd);
                    _exit(0);
                }
                if (child > 0) waitpid(child, NULL, 0);
                break;
            } else if (strcmp(line, "quit") == 0) {
                send_all(fd, "bye\n");
                quit = 1;
                break;
            } else if (strcmp(line, "close") == 0) {
                send_all(fd, "closing\n");
                break;
            } else if (strcmp(line, "block") == 0 || strcmp(line, "nonblock") == 0) {
                if (set_nonblocking(listener, line[0] == 'n') != 0 || send_all(fd, strcat(line, "\n")) != 0) break;
            } else if (strcmp(line, "relisten") == 0) {
                close(listener);
                listener = listen_on(port);
                if (listener < 0 || send_all(fd, "relisten\n") != 0) break;
            } else if (strcmp(line, "hold") == 0) {
                if (held >= 0 || send_all(fd, "held\n") != 0) break;
                held = fd;
                keep = 1;
                break;
            } else if (strcmp(line, "release") == 0) {
                if (held >= 0) close(held);
                held = -1;
                if (send_all(fd, "released\n") != 0) break;
            } else if (strcmp(line, "share") == 0) {
                int pipe_ends[2];
                if (shared > 0 || pipe(pipe_ends) != 0) break;
                shared = fork();
                if (shared == 0) {
                    close(fd);
                    close(pipe_ends[1]);
                    sharer(listener, pipe_ends[0]);
                }
                close(pipe_ends[0]);
                go = pipe_ends[1];
                if (shared < 0 || send_all(fd, "shared\n") != 0) break;
            } else if (strcmp(line, "queue") == 0 || strcmp(line, "letgo") == 0) {
                if (shared <= 0) break;
                struct pollfd waiting = { .fd = listener, .events = POLLIN };
                int ready = poll(&waiting, 1, line[0] == 'q' ? 10000 : 0) > 0 && (waiting.revents & POLLIN) != 0, status = -1;
                close(listener);
                if (line[0] == 'l' && send_all(fd, "let go\n") != 0) break; /* the descriptor is closed now */
                if (write(go, "g", 1) != 1) break;
                close(go);
                waitpid(shared, &status, 0);
                shared = -1;
                listener = listen_on(port);
                if (listener < 0) return 1;
                if (lend) set_nonblocking(listener, 1);
                char queued[64];
                snprintf(queued, sizeof queued, "queued %d %d\n", ready, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
                if (send_all(fd, queued) != 0) break;
            } else if (strcmp(line, "facts") == 0) {
                char facts[96];
                snprintf(facts, sizeof facts, "lent %ld lend %ld\n", named_count("/proc/aegis/handover", "lent"),
                         named_count("/proc/aegis/file_server", "lend"));
                if (send_all(fd, facts) != 0) break;
            } else {
                send_all(fd, "what?\n");
            }
        }
        if (!keep) close(fd);
        if (quit) return 0;
    }
}
