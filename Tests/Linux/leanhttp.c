/* leanhttp: a lean epoll web server in C, the "Linux, a lean epoll server" column
 * (issue #12; docs/benchmarks.md, "Side by side with Linux"). The same binary runs on Linux and
 * on Aegis's Linux personality, so the two systems serve the same program.
 *
 *   leanhttp [PORT [ROOT]]   (defaults 80 and /srv/www)
 *
 * At start it reads every regular file directly in ROOT (at most MAXIMUM_FILES, each at most
 * MAXIMUM_FILE_BYTES) into memory with its response header made once, prints
 * "leanhttp: listening on port PORT, N files" and serves until killed:
 *  - one thread, level-triggered epoll, non-blocking sockets, TCP_NODELAY;
 *  - GET /NAME answers 200 with the file (header and body in one writev, the rest of a large
 *    body as the socket takes it); an unknown name 404; another method or a malformed request
 *    400, then the connection closes; "/" is /index.html;
 *  - keep-alive as HTTP says: HTTP/1.1 unless "Connection: close", HTTP/1.0 only with
 *    "Connection: keep-alive" (ab -k);
 *  - requests that arrive together are answered in order (pipelining), each after the last
 *    one's bytes have all gone.
 * A connection whose request head exceeds REQUEST_BYTES gets 400 and is closed. Errors on one
 * connection close that connection only.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAXIMUM_FILES 64
#define MAXIMUM_FILE_BYTES (16 * 1024 * 1024)
#define REQUEST_BYTES 4096
#define MAXIMUM_EVENTS 64

struct file {
    char name[128];
    char *body;
    size_t length;
    /* The response header made once: [0] keeps the connection, [1] closes it. */
    char header[2][160];
    size_t header_length[2];
};

struct connection {
    int fd;
    char request[REQUEST_BYTES];
    size_t received;
    /* The answer being sent: header (owned elsewhere) then body. */
    const char *header, *body;
    size_t header_length, body_length, sent;
    int close_after, waiting_for_output;
};

static struct file files[MAXIMUM_FILES];
static int file_count;
static int epoll_fd;

static const char *const not_found[2] = {
    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n",
    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
};
static const char bad_request[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

static void load_files(const char *root)
{
    DIR *directory = opendir(root);
    if (directory == NULL) {
        fprintf(stderr, "leanhttp: cannot open %s: %s\n", root, strerror(errno));
        exit(1);
    }
    struct dirent *entry;
    while ((entry = readdir(directory)) != NULL && file_count < MAXIMUM_FILES) {
        if (entry->d_name[0] == '.' || strlen(entry->d_name) >= sizeof files[0].name)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", root, entry->d_name);
        struct stat status;
        if (stat(path, &status) < 0 || !S_ISREG(status.st_mode) || status.st_size > MAXIMUM_FILE_BYTES)
            continue;
        struct file *file = &files[file_count];
        file->body = malloc(status.st_size > 0 ? (size_t)status.st_size : 1);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (file->body == NULL || fd < 0) {
            fprintf(stderr, "leanhttp: cannot read %s: %s\n", path, strerror(errno));
            exit(1);
        }
        size_t length = 0;
        while (length < (size_t)status.st_size) {
            ssize_t n = read(fd, file->body + length, (size_t)status.st_size - length);
            if (n <= 0) break;
            length += (size_t)n;
        }
        close(fd);
        snprintf(file->name, sizeof file->name, "%s", entry->d_name);
        file->length = length;
        for (int close_after = 0; close_after <= 1; close_after++)
            file->header_length[close_after] = (size_t)snprintf(file->header[close_after], sizeof file->header[0],
                "HTTP/1.1 200 OK\r\nServer: leanhttp\r\nContent-Length: %zu\r\nConnection: %s\r\n\r\n",
                length, close_after ? "close" : "keep-alive");
        file_count++;
    }
    closedir(directory);
}

static const struct file *find_file(const char *name, size_t length)
{
    for (int i = 0; i < file_count; i++)
        if (strlen(files[i].name) == length && memcmp(files[i].name, name, length) == 0)
            return &files[i];
    return NULL;
}

static void close_connection(struct connection *connection)
{
    close(connection->fd); /* also leaves the epoll set */
    free(connection);
}

static void watch_output(struct connection *connection, int on)
{
    if (connection->waiting_for_output == on) return;
    /* While an answer is going out the connection reads nothing: the next requests wait in the
     * socket (level-triggered input would otherwise fire again and again). */
    struct epoll_event event = { .events = on ? EPOLLOUT : EPOLLIN, .data.ptr = connection };
    epoll_ctl(epoll_fd, EPOLL_CTL_MOD, connection->fd, &event);
    connection->waiting_for_output = on;
}

/* Sends what is left of the answer; 1 when all of it went, 0 when the socket is full, -1 on error. */
static int send_answer(struct connection *connection)
{
    size_t total = connection->header_length + connection->body_length;
    while (connection->sent < total) {
        struct iovec parts[2];
        int count = 0;
        if (connection->sent < connection->header_length) {
            parts[count].iov_base = (void *)(connection->header + connection->sent);
            parts[count++].iov_len = connection->header_length - connection->sent;
            if (connection->body_length > 0) {
                parts[count].iov_base = (void *)connection->body;
                parts[count++].iov_len = connection->body_length;
            }
        } else {
            size_t offset = connection->sent - connection->header_length;
            parts[count].iov_base = (void *)(connection->body + offset);
            parts[count++].iov_len = connection->body_length - offset;
        }
        ssize_t n = writev(connection->fd, parts, count);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        }
        connection->sent += (size_t)n;
    }
    return 1;
}

/* 1 when the request head names keep-alive the way HTTP says for its version. */
static int wants_keep_alive(const char *head, size_t length, int http11)
{
    const char *line = memchr(head, '\n', length);
    while (line != NULL && (size_t)(line + 1 - head) < length) {
        line++;
        size_t left = length - (size_t)(line - head);
        if (left > 11 && strncasecmp(line, "Connection:", 11) == 0) {
            const char *value = line + 11;
            while (*value == ' ') value++;
            if (strncasecmp(value, "close", 5) == 0) return 0;
            if (strncasecmp(value, "keep-alive", 10) == 0) return 1;
        }
        line = memchr(line, '\n', left);
    }
    return http11;
}

/* Answers every whole request in the buffer, in order, as long as each answer goes out at once.
 * Returns -1 when the connection must close now. */
static int serve(struct connection *connection)
{
    for (;;) {
        if (connection->sent < connection->header_length + connection->body_length) {
            int result = send_answer(connection);
            if (result < 0) return -1;
            if (result == 0) { watch_output(connection, 1); return 0; }
        }
        watch_output(connection, 0);
        connection->header_length = connection->body_length = connection->sent = 0;
        if (connection->close_after) return -1;
        char *end = memmem(connection->request, connection->received, "\r\n\r\n", 4);
        if (end == NULL) {
            if (connection->received == sizeof connection->request) {
                connection->header = bad_request;
                connection->header_length = sizeof bad_request - 1;
                connection->close_after = 1;
                continue;
            }
            return 0;
        }
        size_t head_length = (size_t)(end - connection->request) + 4;
        const char *head = connection->request;
        const char *path_end = head_length > 5 ? memchr(head + 4, ' ', head_length - 4) : NULL;
        if (head_length < 14 || memcmp(head, "GET /", 5) != 0 || path_end == NULL
            || (size_t)(head + head_length - path_end) < 9 || memcmp(path_end, " HTTP/1.", 8) != 0) {
            connection->header = bad_request;
            connection->header_length = sizeof bad_request - 1;
            connection->close_after = 1;
        } else {
            const char *name = head + 5;
            size_t name_length = (size_t)(path_end - name);
            const struct file *file = name_length == 0 ? find_file("index.html", 10) : find_file(name, name_length);
            connection->close_after = !wants_keep_alive(head, head_length, path_end[8] == '1');
            int close_after = connection->close_after;
            if (file == NULL) {
                connection->header = not_found[close_after];
                connection->header_length = strlen(not_found[close_after]);
            } else {
                connection->header = file->header[close_after];
                connection->header_length = file->header_length[close_after];
                connection->body = file->body;
                connection->body_length = file->length;
            }
        }
        memmove(connection->request, connection->request + head_length, connection->received - head_length);
        connection->received -= head_length;
    }
}

static int readable(struct connection *connection)
{
    for (;;) {
        if (connection->received == sizeof connection->request)
            return serve(connection);
        ssize_t n = recv(connection->fd, connection->request + connection->received,
                         sizeof connection->request - connection->received, 0);
        if (n == 0) return -1;
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
            return -1;
        }
        connection->received += (size_t)n;
        if (serve(connection) < 0) return -1;
        if (connection->waiting_for_output) return 0;
    }
}

static void accept_all(int listener)
{
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                fprintf(stderr, "leanhttp: accept: %s\n", strerror(errno));
            if (errno == EINTR || errno == ECONNABORTED) continue;
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct connection *connection = calloc(1, sizeof *connection);
        if (connection == NULL) { close(fd); continue; }
        connection->fd = fd;
        struct epoll_event event = { .events = EPOLLIN, .data.ptr = connection };
        if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0) { close_connection(connection); continue; }
    }
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 80;
    const char *root = argc > 2 ? argv[2] : "/srv/www";
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "usage: leanhttp [PORT [ROOT]]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    load_files(root);
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) < 0 || listen(listener, 511) < 0) {
        fprintf(stderr, "leanhttp: cannot listen on port %d: %s\n", port, strerror(errno));
        return 1;
    }
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event event = { .events = EPOLLIN, .data.ptr = NULL };
    if (epoll_fd < 0 || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &event) < 0) {
        fprintf(stderr, "leanhttp: epoll: %s\n", strerror(errno));
        return 1;
    }
    printf("leanhttp: listening on port %d, %d files\n", port, file_count);
    fflush(stdout);
    struct epoll_event events[MAXIMUM_EVENTS];
    for (;;) {
        int count = epoll_wait(epoll_fd, events, MAXIMUM_EVENTS, -1);
        if (count < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "leanhttp: epoll_wait: %s\n", strerror(errno));
            return 1;
        }
        for (int i = 0; i < count; i++) {
            struct connection *connection = events[i].data.ptr;
            if (connection == NULL) { accept_all(listener); continue; }
            int result = 0;
            if (events[i].events & (EPOLLERR | EPOLLHUP))
                result = -1;
            else {
                if (events[i].events & EPOLLOUT) result = serve(connection);
                if (result == 0 && (events[i].events & EPOLLIN)) result = readable(connection);
            }
            if (result < 0) close_connection(connection);
        }
    }
}
