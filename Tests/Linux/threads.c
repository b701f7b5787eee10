/* threads: POSIX threads (glibc's pthreads over clone(CLONE_VM|CLONE_THREAD|...) and futex).
 * What it observes, each a fact that is the same on any Linux:
 *   - four threads add to one counter under a mutex (40,000 in all) and return values to join;
 *   - a condition variable carries 200 items from a producer to two consumers, none lost;
 *   - each thread's __thread variable is its own, across yields;
 *   - gettid: the first thread's is the pid, the others' differ from it and from each other;
 *   - preemption: a thread that spins on a flag gives way to the thread that sets it (it never
 *     yields; on a single CPU only the scheduler's slice end can let the other run);
 *   - a thread's nanosleep lets the others run; pthread_cond_timedwait times out with ETIMEDOUT;
 *   - a semaphore, a detached thread with pthread_exit, pthread_once;
 *   - a thread blocked reading an empty pipe (and one in poll) lets the others run, and gets what
 *     they write;
 *   - a thread made with glibc's clone() itself (the clone system call, not clone3 as pthreads
 *     uses): CLONE_PARENT_SETTID writes its tid, CLONE_CHILD_CLEARTID zeroes it and wakes a futex
 *     waiter when the thread exits;
 *   - membarrier: PRIVATE_EXPEDITED after its registration succeeds;
 *   - a thread that sleeps while another waits for a child (waitpid) runs during that wait;
 *   - the process ends with exit status 0 only if every check passed. */
// Linked static (glibc's pthread_exit unwinds the thread through libgcc_s.so.1, which the root file
// system does not have; the static libc carries the unwinder; tools/rootfs/build-program.sh):
// aegis-link: static
#include "difftest.h"
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *add(void *argument)
{
    long mine = (long)argument;
    for (int i = 0; i < 10000; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
        if (i % 1000 == 0) sched_yield();
    }
    return (void *)(mine * 10);
}

/* Producer and consumers. */
#define ITEMS 200
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER, not_full = PTHREAD_COND_INITIALIZER;
static int queue[8], queue_count, queue_head, produced_done;
static long consumed_sum[2];
static int consumed_count[2];

static void *produce(void *unused)
{
    (void)unused;
    for (int i = 1; i <= ITEMS; i++) {
        pthread_mutex_lock(&queue_lock);
        while (queue_count == 8) pthread_cond_wait(&not_full, &queue_lock);
        queue[(queue_head + queue_count) % 8] = i;
        queue_count++;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&queue_lock);
    }
    pthread_mutex_lock(&queue_lock);
    produced_done = 1;
    pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&queue_lock);
    return NULL;
}

static void *consume(void *argument)
{
    int me = (int)(long)argument;
    for (;;) {
        pthread_mutex_lock(&queue_lock);
        while (queue_count == 0 && !produced_done) pthread_cond_wait(&not_empty, &queue_lock);
        if (queue_count == 0) {
            pthread_mutex_unlock(&queue_lock);
            return NULL;
        }
        int item = queue[queue_head];
        queue_head = (queue_head + 1) % 8;
        queue_count--;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&queue_lock);
        consumed_sum[me] += item;
        consumed_count[me]++;
    }
}

static __thread int own = -1;

static void *tls(void *argument)
{
    own = (int)(long)argument;
    for (int i = 0; i < 20; i++) {
        sched_yield();
        if (own != (int)(long)argument) return (void *)1;
    }
    return NULL;
}

static pid_t tids[3];

static void *record_tid(void *argument)
{
    tids[(long)argument] = (pid_t)syscall(SYS_gettid);
    return NULL;
}

static atomic_int flag;

static void *spin(void *unused)
{
    (void)unused;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (!atomic_load(&flag)) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > 20) return (void *)1; /* the setter never ran */
    }
    return NULL;
}

static void *set_flag(void *unused)
{
    (void)unused;
    atomic_store(&flag, 1);
    return NULL;
}


static void *sleeper(void *unused)
{
    (void)unused;
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
    return NULL;
}

static sem_t semaphore;

static void *post_twice(void *unused)
{
    (void)unused;
    sem_post(&semaphore);
    sem_post(&semaphore);
    return NULL;
}

static atomic_int detached_ran;

static void *detached(void *unused)
{
    (void)unused;
    atomic_store(&detached_ran, 1);
    pthread_exit(NULL);
}

static int once_count;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static void once_body(void) { once_count++; }
static void *call_once(void *unused)
{
    (void)unused;
    pthread_once(&once, once_body);
    return NULL;
}

static int pipe_fds[2], poll_fds[2];

static void *pipe_reader(void *unused)
{
    (void)unused;
    char buffer[16];
    return (void *)(long)read(pipe_fds[0], buffer, sizeof buffer);
}

static void *pipe_poller(void *unused)
{
    (void)unused;
    struct pollfd one = {poll_fds[0], POLLIN, 0};
    int ready = poll(&one, 1, -1);
    return (void *)(long)(ready == 1 && (one.revents & POLLIN) ? 1 : 0);
}

static atomic_int wait_returned, wait_seen_pending;

static void *watch_wait(void *unused)
{
    (void)unused;
    const struct timespec pause = {0, 50000000};
    nanosleep(&pause, NULL);
    atomic_store(&wait_seen_pending, atomic_load(&wait_returned) == 0);
    return NULL;
}

static atomic_int raw_ran;

static int raw_thread(void *argument)
{
    atomic_store(&raw_ran, (int)(long)argument);
    return 0; /* glibc's clone() then calls exit(2) for this thread */
}

int main(void)
{
    dt_start("threads");

    pthread_t workers[4];
    for (long i = 0; i < 4; i++) pthread_create(&workers[i], NULL, add, (void *)(i + 1));
    long returned = 0;
    for (int i = 0; i < 4; i++) {
        void *value;
        pthread_join(workers[i], &value);
        returned += (long)value;
    }
    dt_check(counter == 40000, "four threads add 40000 under a mutex", "%ld", counter);
    dt_check(returned == 100, "join returns each thread's value", "%ld", returned);

    pthread_t producer, consumers[2];
    pthread_create(&consumers[0], NULL, consume, (void *)0);
    pthread_create(&consumers[1], NULL, consume, (void *)1);
    pthread_create(&producer, NULL, produce, NULL);
    pthread_join(producer, NULL);
    pthread_join(consumers[0], NULL);
    pthread_join(consumers[1], NULL);
    dt_check(consumed_count[0] + consumed_count[1] == ITEMS && consumed_sum[0] + consumed_sum[1] == ITEMS * (ITEMS + 1) / 2,
             "a condition variable carries 200 items to two consumers", "%d items, sum %ld", consumed_count[0] + consumed_count[1],
             consumed_sum[0] + consumed_sum[1]);

    pthread_t locals[3];
    for (long i = 0; i < 3; i++) pthread_create(&locals[i], NULL, tls, (void *)i);
    own = 99;
    long bad = 0;
    for (int i = 0; i < 3; i++) {
        void *value;
        pthread_join(locals[i], &value);
        bad += (long)value;
    }
    dt_check(bad == 0 && own == 99, "each thread has its own __thread variable", "%ld bad, own %d", bad, own);

    pthread_t recorders[3];
    for (long i = 0; i < 3; i++) pthread_create(&recorders[i], NULL, record_tid, (void *)i);
    for (int i = 0; i < 3; i++) pthread_join(recorders[i], NULL);
    pid_t pid = getpid();
    dt_check(syscall(SYS_gettid) == pid, "the first thread's tid is the pid", "%s", "no");
    dt_check(tids[0] != pid && tids[1] != pid && tids[2] != pid && tids[0] != tids[1] && tids[1] != tids[2] && tids[0] != tids[2]
             && tids[0] > 0, "the other threads' tids are their own", "%s", "no");

    pthread_t spinner, setter;
    pthread_create(&spinner, NULL, spin, NULL);
    struct timespec little = {0, 20 * 1000 * 1000};
    nanosleep(&little, NULL); /* the spinner is spinning */
    pthread_create(&setter, NULL, set_flag, NULL);
    void *spun;
    pthread_join(spinner, &spun);
    pthread_join(setter, NULL);
    dt_check(spun == NULL, "a spinning thread gives way to the one that stops it", "%s", "no");

    pthread_t sleeping;
    struct timespec before, after;
    clock_gettime(CLOCK_MONOTONIC, &before);
    pthread_create(&sleeping, NULL, sleeper, NULL);
    long work = 0;
    for (int i = 0; i < 1000; i++) work += i;
    pthread_join(sleeping, NULL);
    clock_gettime(CLOCK_MONOTONIC, &after);
    long elapsed = (after.tv_sec - before.tv_sec) * 1000 + (after.tv_nsec - before.tv_nsec) / 1000000;
    dt_check(work == 499500 && elapsed >= 50, "a thread sleeps 50 ms while the others run", "%ld ms", elapsed);

    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 30 * 1000 * 1000;
    if (deadline.tv_nsec >= 1000000000) { deadline.tv_sec++; deadline.tv_nsec -= 1000000000; }
    pthread_mutex_lock(&m);
    int timed = pthread_cond_timedwait(&c, &m, &deadline);
    pthread_mutex_unlock(&m);
    dt_check(timed == ETIMEDOUT, "pthread_cond_timedwait times out", "%s", dt_errno_name(timed));

    sem_init(&semaphore, 0, 0);
    pthread_t poster;
    pthread_create(&poster, NULL, post_twice, NULL);
    sem_wait(&semaphore);
    sem_wait(&semaphore);
    pthread_join(poster, NULL);
    int left = -1;
    sem_getvalue(&semaphore, &left);
    dt_check(left == 0, "a semaphore posted twice is taken twice", "%d left", left);

    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_t lone;
    pthread_create(&lone, &attributes, detached, NULL);
    /* Yielding until it ran, for at most 5 s: a count of yields (it was 1,000) can pass before a
       busy host's scheduler has given the new thread a CPU at all. */
    struct timespec wait_start, wait_now;
    clock_gettime(CLOCK_MONOTONIC, &wait_start);
    do {
        sched_yield();
        clock_gettime(CLOCK_MONOTONIC, &wait_now);
    } while (!atomic_load(&detached_ran) && wait_now.tv_sec - wait_start.tv_sec < 5);
    dt_check(atomic_load(&detached_ran) == 1, "a detached thread runs and ends with pthread_exit", "%s", "no");

    pthread_t callers[3];
    for (int i = 0; i < 3; i++) pthread_create(&callers[i], NULL, call_once, NULL);
    for (int i = 0; i < 3; i++) pthread_join(callers[i], NULL);
    dt_check(once_count == 1, "pthread_once runs its function once", "%d", once_count);
    dt_check(pipe(pipe_fds) == 0 && pipe(poll_fds) == 0, "two pipes", "errno %s", dt_errno_name(errno));
    pthread_t reader, poller;
    pthread_create(&reader, NULL, pipe_reader, NULL);
    pthread_create(&poller, NULL, pipe_poller, NULL);
    struct timespec pause = {0, 30 * 1000 * 1000};
    nanosleep(&pause, NULL); /* both are blocked now */
    long sum = 0;
    for (int i = 0; i < 100000; i++) sum += i % 7;
    dt_check(sum == 299995, "the others run while a thread waits on a pipe", "%ld", sum);
    void *polled, *got;
    dt_check(write(poll_fds[1], "x", 1) == 1, "write 1 byte", "errno %s", dt_errno_name(errno));
    pthread_join(poller, &polled);
    dt_check(write(pipe_fds[1], "hello", 5) == 5, "write 5 bytes", "errno %s", dt_errno_name(errno));
    pthread_join(reader, &got);
    dt_check(polled == (void *)1, "a thread in poll wakes when another writes", "%ld", (long)polled);
    dt_check((long)got == 5, "a thread blocked in read gets what another writes", "%ld bytes", (long)got);
    static char raw_stack[64 * 1024] __attribute__((aligned(16)));
    pid_t parent_tid = 0;
    volatile pid_t child_tid = -1;
    int made = clone(raw_thread, raw_stack + sizeof raw_stack,
                     CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_PARENT_SETTID
                         | CLONE_CHILD_CLEARTID,
                     (void *)7L, &parent_tid, NULL, (pid_t *)&child_tid);
    dt_check(made > 0 && parent_tid == made, "clone() of a thread writes its tid for the parent", "%d, %d", made, parent_tid);
    for (int i = 0; i < 1000 && child_tid != 0; i++) {
        pid_t seen = child_tid;
        if (seen != 0) syscall(SYS_futex, &child_tid, FUTEX_WAIT, seen, NULL, NULL, 0);
    }
    dt_check(child_tid == 0 && atomic_load(&raw_ran) == 7, "its exit clears the tid and wakes the waiter", "tid %d, ran %d", child_tid,
             atomic_load(&raw_ran));

    pid_t sleeper = fork();
    if (sleeper == 0) {
        const struct timespec pause = {0, 400000000};
        nanosleep(&pause, NULL);
        _exit(3);
    }
    pthread_t watcher;
    pthread_create(&watcher, NULL, watch_wait, NULL);
    int child_status = 0;
    pid_t waited = waitpid(sleeper, &child_status, 0);
    atomic_store(&wait_returned, 1);
    pthread_join(watcher, NULL);
    dt_check(waited == sleeper && WIFEXITED(child_status) && WEXITSTATUS(child_status) == 3, "waitpid gets the child's status 3",
             "%d, 0x%x", (int)waited, child_status);
    dt_check(atomic_load(&wait_seen_pending) == 1, "a thread runs while another waits for a child", "%s", "no");

    long registered = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);
    long barrier = syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
    dt_check(registered == 0 && barrier == 0, "membarrier PRIVATE_EXPEDITED after its registration", "%ld, %ld (errno %s)", registered,
             barrier, dt_errno_name(errno));
    return dt_finish();
}
