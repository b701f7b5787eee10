/* files: files and directories in /tmp. Creates a private directory, then: open O_CREAT|O_EXCL,
 * write, lseek (SET/CUR/END), read, pread, fstat/stat (type, permission bits, size), O_APPEND,
 * rename, mkdir, a getdents64 listing (sorted, with d_type), unlink, rmdir, and the errors
 * EEXIST, ENOENT, ENOTEMPTY, ENOTDIR, EISDIR. Removes everything it made. Exit status 0 when
 * every check passed. */
#include "difftest.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static char dir[64];

static const char *in_dir(const char *name)
{
    static char paths[4][128];
    static int next;
    char *path = paths[next++ & 3];
    snprintf(path, 128, "%s/%s", dir, name);
    return path;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *type_name(unsigned char type)
{
    switch (type) {
    case DT_REG: return "file";
    case DT_DIR: return "dir";
    case DT_LNK: return "link";
    case DT_UNKNOWN: return "unknown";
    default: return "other";
    }
}

/* Prints the directory's entries, sorted by name, with their types (getdents64, small buffer). */
static void list(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        dt_check(0, "open the directory", "%s", dt_errno_name(errno));
        return;
    }
    char *names[64];
    int count = 0;
    char buffer[256] __attribute__((aligned(8)));
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buffer, sizeof buffer);
        if (n <= 0) {
            dt_check(n == 0, "getdents64 ends with 0", "%s", dt_result(n, errno));
            break;
        }
        for (long offset = 0; offset < n;) {
            struct linux_dirent64 *entry = (struct linux_dirent64 *)(buffer + offset);
            if (count < 64) {
                names[count] = malloc(strlen(entry->d_name) + 16);
                sprintf(names[count], "%s (%s)", entry->d_name, type_name(entry->d_type));
                count++;
            }
            offset += entry->d_reclen;
        }
    }
    close(fd);
    qsort(names, count, sizeof names[0], compare_names);
    printf("listing:");
    for (int i = 0; i < count; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

int main(void)
{
    dt_start("files");
    umask(022);
    snprintf(dir, sizeof dir, "/tmp/aegis-files-%d", (int)getpid());
    DT_EXPECT_OK(mkdir(dir, 0755), "mkdir");
    DT_EXPECT_ERRNO(mkdir(dir, 0755), EEXIST, "mkdir again gives EEXIST");

    int fd = DT_EXPECT_OK(open(in_dir("a.txt"), O_RDWR | O_CREAT | O_EXCL, 0644), "create a.txt");
    DT_EXPECT_ERRNO(open(in_dir("a.txt"), O_RDWR | O_CREAT | O_EXCL, 0644), EEXIST, "O_EXCL on an existing file gives EEXIST");
    const char text[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    printf("write: %ld\n", (long)write(fd, text, 36));
    printf("lseek SEEK_CUR 0: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    printf("lseek SEEK_SET 10: %ld\n", (long)lseek(fd, 10, SEEK_SET));
    char buffer[64] = {0};
    long n = read(fd, buffer, 5);
    printf("read 5: %ld '%.5s'\n", n, buffer);
    printf("lseek SEEK_END -3: %ld\n", (long)lseek(fd, -3, SEEK_END));
    memset(buffer, 0, sizeof buffer);
    n = read(fd, buffer, sizeof buffer);
    printf("read to the end: %ld '%s'\n", n, buffer);
    printf("read at the end: %ld\n", (long)read(fd, buffer, sizeof buffer));
    memset(buffer, 0, sizeof buffer);
    n = pread(fd, buffer, 4, 30);
    printf("pread 4 at 30: %ld '%s'\n", n, buffer);
    printf("offset after pread: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    DT_EXPECT_ERRNO(lseek(fd, -100, SEEK_SET), EINVAL, "lseek before the start gives EINVAL");
    printf("write past the end at 40: %ld\n", (long)pwrite(fd, "!", 1, 40));
    struct stat st;
    DT_EXPECT_OK(fstat(fd, &st), "fstat");
    printf("fstat: regular %d, mode %o, size %ld\n", S_ISREG(st.st_mode), st.st_mode & 07777, (long)st.st_size);
    memset(buffer, 'x', sizeof buffer);
    n = pread(fd, buffer, 5, 36);
    printf("pread the hole: %ld, bytes 36..39 zero %d, byte 40 '%c'\n", n,
           buffer[0] == 0 && buffer[1] == 0 && buffer[2] == 0 && buffer[3] == 0, buffer[4]);
    close(fd);

    fd = DT_EXPECT_OK(open(in_dir("a.txt"), O_WRONLY | O_APPEND), "open O_APPEND");
    lseek(fd, 0, SEEK_SET);
    n = write(fd, "END", 3);
    printf("append: %ld, offset then %ld\n", n, (long)lseek(fd, 0, SEEK_CUR));
    close(fd);
    DT_EXPECT_OK(stat(in_dir("a.txt"), &st), "stat");
    printf("stat: size %ld\n", (long)st.st_size);

    fd = DT_EXPECT_OK(open(in_dir("a.txt"), O_WRONLY | O_TRUNC), "open O_TRUNC");
    close(fd);
    stat(in_dir("a.txt"), &st);
    printf("size after O_TRUNC: %ld\n", (long)st.st_size);

    DT_EXPECT_OK(mkdir(in_dir("sub"), 0700), "mkdir sub");
    DT_EXPECT_OK(stat(in_dir("sub"), &st), "stat sub");
    printf("sub: directory %d, mode %o\n", S_ISDIR(st.st_mode), st.st_mode & 07777);
    fd = DT_EXPECT_OK(open(in_dir("sub/b.txt"), O_WRONLY | O_CREAT, 0600), "create sub/b.txt");
    close(fd);
    fd = DT_EXPECT_OK(open(in_dir("c.txt"), O_WRONLY | O_CREAT, 0666), "create c.txt");
    close(fd);
    stat(in_dir("c.txt"), &st);
    printf("c.txt mode under umask 022: %o\n", st.st_mode & 07777);
    list(dir);

    DT_EXPECT_OK(rename(in_dir("a.txt"), in_dir("renamed.txt")), "rename");
    DT_EXPECT_ERRNO(stat(in_dir("a.txt"), &st), ENOENT, "the old name is gone");
    DT_EXPECT_OK(rename(in_dir("c.txt"), in_dir("renamed.txt")), "rename over an existing file");
    list(dir);

    DT_EXPECT_ERRNO(rmdir(in_dir("sub")), ENOTEMPTY, "rmdir of a non-empty directory gives ENOTEMPTY");
    DT_EXPECT_ERRNO(open(in_dir("renamed.txt/x"), O_RDONLY), ENOTDIR, "a file as a directory gives ENOTDIR");
    DT_EXPECT_ERRNO(open(in_dir("sub"), O_WRONLY), EISDIR, "opening a directory for writing gives EISDIR");
    DT_EXPECT_ERRNO(unlink(in_dir("sub")), EISDIR, "unlink of a directory gives EISDIR");
    DT_EXPECT_ERRNO(unlink(in_dir("missing")), ENOENT, "unlink of a missing file gives ENOENT");
    DT_EXPECT_OK(unlink(in_dir("sub/b.txt")), "unlink sub/b.txt");
    DT_EXPECT_OK(rmdir(in_dir("sub")), "rmdir sub");
    DT_EXPECT_OK(unlink(in_dir("renamed.txt")), "unlink renamed.txt");
    list(dir);
    DT_EXPECT_OK(rmdir(dir), "rmdir the directory");
    DT_EXPECT_ERRNO(open(dir, O_RDONLY), ENOENT, "the directory is gone");
    return dt_finish();
}
