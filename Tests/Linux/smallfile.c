/* smallfile: the "small files" workloads of the disk benchmark (shared docs, workloads.md), one
 * static binary run unchanged on Linux and on Aegis.
 *
 *   smallfile_create  sync() (untimed); timed: for i = 0..999 openat(dir, "f%04d", O_CREAT|O_EXCL|
 *                     O_WRONLY, 0644), one write of 1,024 bytes (byte j = (7i + j) mod 256), close;
 *                     then sync(). Per file.
 *   smallfile_read    untimed: sync(), then "3" into /proc/sys/vm/drop_caches (every cached page
 *                     of the files goes); timed: open the directory, then for each file
 *                     openat(O_RDONLY), one read of 1,024 bytes, close. Contents verified after
 *                     timing. Per file; and the disk's read requests (/proc/diskstats).
 *   smallfile_delete  straight after, no cache drop: unlinkat each in order, then sync(). Per file.
 *
 * Each prints   BENCH <name> 1000 <TSC ticks per file, one decimal>
 * with the ticks the CPU spent halted taken out when the system says how many there were
 * (Aegis: /proc/aegis/idle_tsc): under QEMU's -icount shift=0 that is the instructions of all
 * CPU work (program, libOS, kernel, interrupts), without the time spent waiting for the disk.
 * and   IO <name> reads|kib_read|writes|kib_written <number>   (device requests and KiB, from
 * the first line of /proc/diskstats: the root file system's disk).
 *
 * Usage: smallfile [--keep] [DIRECTORY]   (default /smallfile, made if missing; its old f0000..
 *        f0999 are removed first). --keep: stop after the read phase (the files stay, for the
 *        host to check). Exit status 0, or 1 when a call failed or a byte was wrong (printed).
 */
// Linked static (a benchmark: its instruction counts stay comparable across versions; tools/rootfs/build-program.sh):
// aegis-link: static
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "machinework.h"

#define FILES 1000
#define SIZE 1024


/* Requests completed and sectors of the first disk in /proc/diskstats (0 when none). */
struct io { unsigned long long reads, sectors_read, writes, sectors_written; };

static struct io disk_io(void)
{
    struct io io = { 0, 0, 0, 0 };
    char text[512];
    int fd = open("/proc/diskstats", O_RDONLY);
    if (fd < 0) return io;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return io;
    text[n] = 0;
    unsigned major, minor;
    char name[32];
    unsigned long long merged, ms, wmerged;
    if (sscanf(text, " %u %u %31s %llu %llu %llu %llu %llu %llu %llu", &major, &minor, name, &io.reads, &merged,
               &io.sectors_read, &ms, &io.writes, &wmerged, &io.sectors_written) != 10)
        memset(&io, 0, sizeof io);
    return io;
}

static void report_io(const char *name, struct io before, struct io after)
{
    printf("IO %s reads %llu\n", name, after.reads - before.reads);
    printf("IO %s kib_read %llu\n", name, (after.sectors_read - before.sectors_read) / 2);
    printf("IO %s writes %llu\n", name, after.writes - before.writes);
    printf("IO %s kib_written %llu\n", name, (after.sectors_written - before.sectors_written) / 2);
}

static void report(const char *name, uint64_t ticks, uint64_t idle)
{
    uint64_t busy = ticks > idle ? ticks - idle : 0;
    uint64_t tenths = (busy * 10 + FILES / 2) / FILES;
    printf("BENCH %s %d %lu.%lu\n", name, FILES, (unsigned long)(tenths / 10), (unsigned long)(tenths % 10));
    fflush(stdout);
}

static int fail(const char *what, int i)
{
    printf("smallfile: %s f%04d failed: %s\n", what, i, strerror(errno));
    return 1;
}

static unsigned char expected_byte(int i, int j) { return (unsigned char)((7 * i + j) % 256); }

int main(int argc, char **argv)
{
    const char *directory = "/smallfile";
    int keep = 0;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--keep") == 0) keep = 1;
        else directory = argv[a];
    }
    static unsigned char data[FILES][SIZE];
    char name[16];

    if (mkdir(directory, 0755) != 0 && errno != EEXIST) { printf("smallfile: mkdir %s: %s\n", directory, strerror(errno)); return 1; }
    int dir = open(directory, O_RDONLY | O_DIRECTORY);
    if (dir < 0) { printf("smallfile: open %s: %s\n", directory, strerror(errno)); return 1; }
    for (int i = 0; i < FILES; i++) {
        snprintf(name, sizeof name, "f%04d", i);
        unlinkat(dir, name, 0); /* a previous run's */
        for (int j = 0; j < SIZE; j++) data[i][j] = expected_byte(i, j);
    }
    sync();

    /* smallfile_create */
    struct io io0 = disk_io(), io1;
    uint64_t idle0 = idle_ticks(), t0 = rdtscp();
    for (int i = 0; i < FILES; i++) {
        snprintf(name, sizeof name, "f%04d", i);
        int fd = openat(dir, name, O_CREAT | O_EXCL | O_WRONLY, 0644);
        if (fd < 0) return fail("create", i);
        if (write(fd, data[i], SIZE) != SIZE) return fail("write", i);
        if (close(fd) != 0) return fail("close", i);
    }
    sync();
    uint64_t t1 = rdtscp(), idle1 = idle_ticks();
    io1 = disk_io();
    report("smallfile_create", t1 - t0, idle1 - idle0);
    report_io("smallfile_create", io0, io1);

    /* smallfile_read: cold */
    close(dir);
    sync();
    int drop = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (drop < 0 || write(drop, "3", 1) != 1) printf("smallfile: drop_caches: %s (the read is not cold)\n", strerror(errno));
    if (drop >= 0) close(drop);
    static unsigned char got[FILES][SIZE];
    io0 = disk_io();
    idle0 = idle_ticks();
    t0 = rdtscp();
    dir = open(directory, O_RDONLY | O_DIRECTORY);
    if (dir < 0) { printf("smallfile: open %s: %s\n", directory, strerror(errno)); return 1; }
    for (int i = 0; i < FILES; i++) {
        snprintf(name, sizeof name, "f%04d", i);
        int fd = openat(dir, name, O_RDONLY);
        if (fd < 0) return fail("open", i);
        if (read(fd, got[i], SIZE) != SIZE) return fail("read", i);
        if (close(fd) != 0) return fail("close", i);
    }
    t1 = rdtscp();
    idle1 = idle_ticks();
    io1 = disk_io();
    report("smallfile_read", t1 - t0, idle1 - idle0);
    report_io("smallfile_read", io0, io1);
    for (int i = 0; i < FILES; i++)
        for (int j = 0; j < SIZE; j++)
            if (got[i][j] != expected_byte(i, j)) {
                printf("smallfile: f%04d byte %d is %d, not %d\n", i, j, got[i][j], expected_byte(i, j));
                return 1;
            }
    if (keep) { printf("smallfile: %d files of %d bytes kept in %s\n", FILES, SIZE, directory); return 0; }

    /* smallfile_delete: straight after */
    io0 = disk_io();
    idle0 = idle_ticks();
    t0 = rdtscp();
    for (int i = 0; i < FILES; i++) {
        snprintf(name, sizeof name, "f%04d", i);
        if (unlinkat(dir, name, 0) != 0) return fail("unlink", i);
    }
    sync();
    t1 = rdtscp();
    idle1 = idle_ticks();
    io1 = disk_io();
    report("smallfile_delete", t1 - t0, idle1 - idle0);
    report_io("smallfile_delete", io0, io1);
    close(dir);
    printf("smallfile: done\n");
    return 0;
}
