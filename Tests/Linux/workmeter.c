/* workmeter: measures the machine's work over a window the host opens and closes, for
 * benchmarks whose load comes from outside the machine (./aegis bench's nginx set: ab on the
 * host drives the guest's nginx; docs/benchmarks.md).
 *
 *   workmeter [PORT]   (default 9999)
 *
 * Listens on UDP PORT (all addresses) and answers each datagram with one datagram:
 *   "start"               opens the window: the work so far is noted; prints "workmeter: window
 *                         opened" (before it notes the work) and answers "started".
 *   "stop NAME COUNT"     closes it; prints   BENCH NAME COUNT <work per COUNT, one decimal>
 *                         and, where the system says how many requests its file server answered
 *                         (Aegis: /proc/aegis/file_server, "OPERATION COUNT" lines), for each
 *                         operation it answered in the window
 *                           IO NAME calls_OPERATION <requests per COUNT, two decimals>
 *                         and, where the system counts its CR3 loads (Aegis:
 *                         /proc/aegis/address_space_loads, InfoPage.AddressSpaceLoads),
 *                           IO NAME address_space_loads <loads per COUNT, two decimals>
 *                         then answers "stopped".
 *   "quit"                answers "bye", prints "workmeter: bye" and exits 0.
 * Anything else is answered "error: ..." and changes nothing. A datagram sent again because its
 * answer was lost is answered again: "start" while open restarts the window, "stop" while closed
 * answers "stopped" without printing.
 *
 * The work is the time stamp counter less the ticks the CPU spent halted (machinework.h: Aegis
  * /proc/aegis/idle_tsc, Linux /proc/timer_list; 0 where the system does not say): under QEMU's -icount shift=0 that is
 * every instruction the machine ran in the window (the server, its libOS, the file server, the
 * kernel, interrupts), the meter's own two datagrams included (a few thousand instructions).
 * Prints "workmeter: listening on udp port PORT" when ready.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "machinework.h"

#define MAXIMUM_OPERATIONS 128

/* The file server's requests by operation (/proc/aegis/file_server), or 0 operations where the
 * system does not say. */
struct calls {
    int count;
    char names[MAXIMUM_OPERATIONS][32];
    unsigned long long values[MAXIMUM_OPERATIONS];
};

static void read_calls(struct calls *calls)
{
    calls->count = 0;
    FILE *file = fopen("/proc/aegis/file_server", "r");
    if (file == NULL) return;
    while (calls->count < MAXIMUM_OPERATIONS
           && fscanf(file, "%31s %llu", calls->names[calls->count], &calls->values[calls->count]) == 2)
        calls->count++;
    fclose(file);
}

static void report_calls(const char *name, unsigned long count, const struct calls *before, const struct calls *after)
{
    for (int i = 0; i < after->count && i < before->count; i++) {
        if (strcmp(before->names[i], after->names[i]) != 0 || after->values[i] == before->values[i]) continue;
        unsigned long long hundredths = ((after->values[i] - before->values[i]) * 100 + count / 2) / count;
        printf("IO %s calls_%s %llu.%02llu\n", name, after->names[i], hundredths / 100, hundredths % 100);
    }
}


/* CR3 loads since boot (Aegis: /proc/aegis/address_space_loads), or -1 where not counted. */
static long long address_space_loads(void)
{
    FILE *file = fopen("/proc/aegis/address_space_loads", "r");
    if (file == NULL) return -1;
    long long value = -1;
    if (fscanf(file, "%lld", &value) != 1) value = -1;
    fclose(file);
    return value;
}

/* The machine's work since boot: ticks less halted ticks. The idle count is read first, so a
 * halt between the two reads can only add to the work, never make it go back. */
static uint64_t work(void)
{
    uint64_t idle = idle_ticks();
    uint64_t ticks = rdtscp();
    return ticks > idle ? ticks - idle : 0;
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 9999;
    if (port <= 0 || port > 65535) { fprintf(stderr, "workmeter: bad port '%s'\n", argv[1]); return 2; }
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) { perror("workmeter: socket"); return 1; }
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_ANY) };
    if (bind(s, (struct sockaddr *)&address, sizeof address) != 0) { perror("workmeter: bind"); return 1; }
    printf("workmeter: listening on udp port %d\n", port);
    fflush(stdout);

    int open_window = 0;
    uint64_t opened = 0;
    long long loads_opened = -1;
    static struct calls calls_before, calls_after;
    for (;;) {
        char text[256];
        struct sockaddr_in from;
        socklen_t from_length = sizeof from;
        ssize_t n = recvfrom(s, text, sizeof text - 1, 0, (struct sockaddr *)&from, &from_length);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("workmeter: recvfrom");
            return 1;
        }
        uint64_t now = work();
        text[n] = 0;
        int starting = strncmp(text, "start", 5) == 0;
        if (starting) {
            /* Read and print before the window opens: their own work stays outside it. */
            printf("workmeter: window opened\n");
            fflush(stdout);
            read_calls(&calls_before);
            loads_opened = address_space_loads();
            now = work();
        }
        while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r')) text[--n] = 0;
        char answer[160];
        char name[64];
        unsigned long count;
        int quit = 0;
        if (strcmp(text, "start") == 0) {
            opened = now;
            open_window = 1;
            snprintf(answer, sizeof answer, "started");
        } else if (sscanf(text, "stop %63s %lu", name, &count) == 2 && count > 0) {
            if (open_window) {
                long long loads_closed = address_space_loads();
                uint64_t tenths = ((now - opened) * 10 + count / 2) / count;
                printf("BENCH %s %lu %lu.%lu\n", name, count, (unsigned long)(tenths / 10), (unsigned long)(tenths % 10));
                read_calls(&calls_after);
                report_calls(name, count, &calls_before, &calls_after);
                if (loads_opened >= 0 && loads_closed >= loads_opened) {
                    unsigned long long hundredths = ((unsigned long long)(loads_closed - loads_opened) * 100 + count / 2) / count;
                    printf("IO %s address_space_loads %llu.%02llu\n", name, hundredths / 100, hundredths % 100);
                }
                fflush(stdout);
                open_window = 0;
            }
            snprintf(answer, sizeof answer, "stopped");
        } else if (strcmp(text, "quit") == 0) {
            snprintf(answer, sizeof answer, "bye");
            quit = 1;
        } else {
            snprintf(answer, sizeof answer, "error: expected 'start', 'stop NAME COUNT' or 'quit'");
        }
        sendto(s, answer, strlen(answer), 0, (struct sockaddr *)&from, from_length);
        if (quit) {
            printf("workmeter: bye\n");
            return 0;
        }
    }
}
