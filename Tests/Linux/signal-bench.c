/* signal-bench: the cost of a signal sent to oneself and handled: kill(getpid(), SIGUSR1) with
 * a handler that increments a counter (linuxbench's signal_self: getpid, kill, the delivery, the
 * handler, rt_sigreturn), 200 warm-up operations, then N = 5,000 timed with rdtscp around the
 * loop. Under QEMU -icount the TSC counts instructions. Prints
 *   BENCH linux_signal_self <N> <instructions per operation, one decimal>
 * and exits 1 when a signal went missing. */
// Linked static (a benchmark, the counterpart of linuxbench's signal_self; tools/rootfs/build-program.sh):
// aegis-link: static
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile unsigned long signals;

static void on_usr1(int signal)
{
    (void)signal;
    signals++;
}

static inline uint64_t rdtscp(void)
{
    uint32_t low, high, aux;
    __asm__ volatile("rdtscp" : "=a"(low), "=d"(high), "=c"(aux)::"memory");
    return ((uint64_t)high << 32) | low;
}

int main(void)
{
    const long count = 5000;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_usr1;
    sigaction(SIGUSR1, &action, NULL);
    for (int i = 0; i < 200; i++)
        kill(getpid(), SIGUSR1);
    uint64_t start = rdtscp();
    for (long i = 0; i < count; i++)
        kill(getpid(), SIGUSR1);
    uint64_t end = rdtscp();
    uint64_t tenths = ((end - start) * 10 + (uint64_t)count / 2) / (uint64_t)count;
    printf("BENCH linux_signal_self %ld %lu.%lu\n", count, (unsigned long)(tenths / 10), (unsigned long)(tenths % 10));
    return signals != (unsigned long)count + 200;
}
