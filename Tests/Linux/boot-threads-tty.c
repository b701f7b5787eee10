/* boot-threads-tty: a terminal read does not stop the process's other threads (LinuxThreads: the read
 * gives way, ERESTART_THREAD, while another thread can run, and waits in the kernel only until the
 * earliest sleeping thread's deadline). The main thread reads a line from the terminal; a second
 * thread sleeps 300 ms meanwhile, then reports whether the read was still waiting. The boot test
 * (LinuxThreadPolicyTests) types the line only after that report.
 * Prints: "reading", "worker: the read was still waiting" (or "...had returned"), "read: LINE". */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile int read_done;

static void *worker(void *unused)
{
    (void)unused;
    const struct timespec pause = {0, 300000000};
    nanosleep(&pause, NULL);
    printf("worker: the read %s\n", read_done ? "had returned" : "was still waiting");
    fflush(stdout);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    pthread_t thread;
    if (pthread_create(&thread, NULL, worker, NULL) != 0) { printf("pthread_create failed\n"); return 1; }
    printf("reading\n");
    char line[128];
    ssize_t n = read(0, line, sizeof line - 1);
    read_done = 1;
    if (n < 0) { perror("read"); return 1; }
    line[n] = 0;
    line[strcspn(line, "\r\n")] = 0;
    pthread_join(thread, NULL);
    printf("read: %s\n", line);
    return 0;
}
