/* machinework.h: the machine's work as the benchmarks measure it (smallfile.c, workmeter.c):
 * the time stamp counter, and the ticks the CPU spent halted where the system says:
 *  - Aegis: /proc/aegis/idle_tsc, in ticks;
 *  - Linux: the idle and iowait sleep times of every CPU's tick-sched state in /proc/timer_list,
 *    in nanoseconds (exact; /proc/stat rounds the same count to 10 ms), taken as ticks: under
 *    QEMU's -icount shift=0 one tick is one nanosecond (docs/linux-reference.md).
 * Under -icount shift=0 the difference of the two over a stretch is every instruction the
 * machine ran in it. */
#ifndef AEGIS_MACHINEWORK_H
#define AEGIS_MACHINEWORK_H
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline uint64_t rdtscp(void)
{
    uint32_t low, high, aux;
    __asm__ volatile("rdtscp" : "=a"(low), "=d"(high), "=c"(aux)::"memory");
    return ((uint64_t)high << 32) | low;
}

/* Linux: nanoseconds every CPU spent idle (idle and iowait sleep), or 0 where nothing says. */
static inline uint64_t linux_idle_nanoseconds(void)
{
    FILE *file = fopen("/proc/timer_list", "r");
    if (file == NULL) return 0;
    char line[256];
    uint64_t total = 0;
    while (fgets(line, sizeof line, file) != NULL) {
        unsigned long long value;
        if (sscanf(line, " .idle_sleeptime : %llu nsecs", &value) == 1
            || sscanf(line, " .iowait_sleeptime: %llu nsecs", &value) == 1)
            total += value;
    }
    fclose(file);
    return total;
}

/* Ticks the CPU spent halted since boot, or 0 where the system does not say. */
static inline uint64_t idle_ticks(void)
{
    char text[64];
    int fd = open("/proc/aegis/idle_tsc", O_RDONLY);
    if (fd < 0) return linux_idle_nanoseconds();
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return 0;
    text[n] = 0;
    return strtoull(text, NULL, 10);
}
#endif
