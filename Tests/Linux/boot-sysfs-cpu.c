// boot-sysfs-cpu: what /sys/devices/system/cpu says about the CPUs and caches, next to what glibc's
// sysconf says (glibc decodes CPUID itself). The boot test compares the two columns; the program
// judges nothing. One line per fact: "NAME sysfs VALUE sysconf VALUE" or "NAME VALUE".
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static long read_number(const char *path, char *text, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f) { snprintf(text, size, "missing"); return -1; }
    if (!fgets(text, (int)size, f)) text[0] = 0;
    fclose(f);
    text[strcspn(text, "\n")] = 0;
    long value = 0;
    char unit = 0;
    if (sscanf(text, "%ld%c", &value, &unit) >= 1 && unit == 'K') value *= 1024;
    return value;
}

static void file_line(const char *name, const char *path)
{
    char text[128];
    read_number(path, text, sizeof text);
    printf("%s %s\n", name, text);
}

int main(void)
{
    file_line("online", "/sys/devices/system/cpu/online");
    file_line("possible", "/sys/devices/system/cpu/possible");
    file_line("present", "/sys/devices/system/cpu/present");
    printf("nprocs %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
    // Linux's index order: L1 data, L1 instruction, L2, L3 (what a CPU without L3 lacks is missing).
    long sizes[4] = { sysconf(_SC_LEVEL1_DCACHE_SIZE), sysconf(_SC_LEVEL1_ICACHE_SIZE), sysconf(_SC_LEVEL2_CACHE_SIZE), sysconf(_SC_LEVEL3_CACHE_SIZE) };
    long ways[4] = { sysconf(_SC_LEVEL1_DCACHE_ASSOC), sysconf(_SC_LEVEL1_ICACHE_ASSOC), sysconf(_SC_LEVEL2_CACHE_ASSOC), sysconf(_SC_LEVEL3_CACHE_ASSOC) };
    long lines[4] = { sysconf(_SC_LEVEL1_DCACHE_LINESIZE), sysconf(_SC_LEVEL1_ICACHE_LINESIZE), sysconf(_SC_LEVEL2_CACHE_LINESIZE), sysconf(_SC_LEVEL3_CACHE_LINESIZE) };
    const char *names[4] = { "L1d", "L1i", "L2", "L3" };
    for (int i = 0; i < 4; i++)
    {
        char path[96], text[128], type[128], level[128];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        long size = read_number(path, text, sizeof text);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/ways_of_associativity", i);
        long w = read_number(path, text, sizeof text);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/coherency_line_size", i);
        long line = read_number(path, text, sizeof text);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
        read_number(path, type, sizeof type);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        read_number(path, level, sizeof level);
        printf("%s type %s level %s\n", names[i], type, level);
        printf("%s size sysfs %ld sysconf %ld\n", names[i], size, sizes[i]);
        printf("%s ways sysfs %ld sysconf %ld\n", names[i], w, ways[i]);
        printf("%s line sysfs %ld sysconf %ld\n", names[i], line, lines[i]);
    }
    return 0;
}
