/* core-bench: the cost of one Linux system call round trip, getppid through the raw `syscall`
 * instruction: 1,000 warm-up calls, then N = 20,000 timed with rdtscp around the loop. Under
 * QEMU -icount the TSC counts instructions. Prints
 *   BENCH linux_getppid <N> <instructions per call, one decimal>
 * (the same line format as ./aegis bench). */
// Linked static (a benchmark: its figure stays comparable with earlier ones and with linuxbench's; tools/rootfs/build-program.sh):
// aegis-link: static
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>

static inline uint64_t rdtscp(void)
{
    uint32_t low, high, aux;
    __asm__ volatile("rdtscp" : "=a"(low), "=d"(high), "=c"(aux)::"memory");
    return ((uint64_t)high << 32) | low;
}

static inline long getppid_raw(void)
{
    long result;
    __asm__ volatile("syscall" : "=a"(result) : "a"((long)SYS_getppid) : "rcx", "r11", "memory");
    return result;
}

int main(void)
{
    const long count = 20000;
    long sum = 0;
    for (int i = 0; i < 1000; i++)
        sum += getppid_raw();
    uint64_t start = rdtscp();
    for (long i = 0; i < count; i++)
        sum += getppid_raw();
    uint64_t end = rdtscp();
    uint64_t tenths = (end - start) * 10 / count;
    printf("BENCH linux_getppid %ld %lu.%lu\n", count, (unsigned long)(tenths / 10), (unsigned long)(tenths % 10));
    return sum < 0;
}
