/* files-cache: the calls the Linux personality answers from its caches (stat, lstat, newfstatat
 * and a read-only open of an absolute path: docs/libos-unixish.md, "Files", the fast paths) give
 * Linux's answers when they are repeated and when something changes between the repeats: a
 * write, chmod, rename, unlink, a symlink replaced, a write by a forked child; stat and lstat of a
 * link; a trailing slash; relative paths across chdir; the path's bytes at the edge of readable
 * memory (the NUL the last byte of a page, no NUL before an unreadable page: EFAULT; a path across
 * two pages); a result buffer that cannot be written (EFAULT also when the answer is known).
 * Removes everything it made. Exit status 0 when every check passed. */
#include "difftest.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

static const char *in_dir(const char *name)
{
    static char paths[4][128];
    static int next;
    char *path = paths[next++ & 3];
    snprintf(path, 128, "%s/%s", dir, name);
    return path;
}

/* stat (or lstat) printed as what a program would look at; the errno name on failure. */
static void show(const char *label, const char *path, int follow)
{
    struct stat st;
    errno = 0;
    int result = follow ? stat(path, &st) : lstat(path, &st);
    if (result != 0) {
        printf("%s: %s\n", label, dt_errno_name(errno));
        return;
    }
    const char *type = S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "link" : "other";
    printf("%s: %s mode %o size %ld links %ld\n", label, type, st.st_mode & 07777, (long)st.st_size, (long)st.st_nlink);
}

/* open + read + close, twice, printing what was read. */
static void read_twice(const char *label, const char *path)
{
    for (int round = 0; round < 2; round++) {
        char buffer[64] = {0};
        int fd = open(path, O_RDONLY);
        if (fd < 0) {
            printf("%s %d: open %s\n", label, round, dt_errno_name(errno));
            continue;
        }
        long n = read(fd, buffer, sizeof buffer - 1);
        printf("%s %d: read %ld '%s'\n", label, round, n, buffer);
        close(fd);
    }
}

static void write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        dt_check(0, "write a file", "%s", dt_errno_name(errno));
    if (fd >= 0)
        close(fd);
}

int main(void)
{
    dt_start("files-cache");
    umask(022);
    snprintf(dir, sizeof dir, "/tmp/aegis-cache-%d", (int)getpid());
    DT_EXPECT_OK(mkdir(dir, 0755), "mkdir");
    static char file[128];
    snprintf(file, sizeof file, "%s", in_dir("f"));
    write_file(file, "first");

    /* Repeated, then after each kind of change. */
    show("stat", file, 1);
    show("stat again", file, 1);
    write_file(file, "the second content");
    show("after a write", file, 1);
    DT_EXPECT_OK(chmod(file, 0600), "chmod");
    show("after chmod", file, 1);
    show("after chmod again", file, 1);
    show("missing", in_dir("g"), 1);
    show("missing again", in_dir("g"), 1);
    DT_EXPECT_OK(rename(file, in_dir("g")), "rename");
    show("old name after rename", file, 1);
    show("new name after rename", in_dir("g"), 1);
    DT_EXPECT_OK(link(in_dir("g"), file), "link");
    show("a second link", in_dir("g"), 1);
    show("trailing slash", in_dir("g/"), 1);
    show("trailing slash again", in_dir("g/"), 1);
    show("through a file", in_dir("g/x"), 1);
    show("through a file again", in_dir("g/x"), 1);

    /* Links: stat follows, lstat does not; replacing the link changes what stat sees. */
    DT_EXPECT_OK(symlink("f", in_dir("l")), "symlink");
    show("stat of the link", in_dir("l"), 1);
    show("lstat of the link", in_dir("l"), 0);
    show("stat of the link again", in_dir("l"), 1);
    show("lstat of the link again", in_dir("l"), 0);
    DT_EXPECT_OK(unlink(in_dir("l")), "unlink the link");
    DT_EXPECT_OK(symlink("/proc/self", in_dir("l")), "symlink into /proc");
    for (int round = 0; round < 2; round++) {
        struct stat proc;
        int result = stat(in_dir("l"), &proc);
        printf("the link into /proc %d: %d, a directory %d\n", round, result, result == 0 && S_ISDIR(proc.st_mode));
    }
    show("a dangling name", in_dir("l/none"), 1);

    /* Opens and reads repeated, and with changes in between. */
    read_twice("read", file);
    write_file(file, "changed");
    read_twice("read after a write", file);
    int fd = DT_EXPECT_OK(open(file, O_RDONLY | O_CLOEXEC), "open O_CLOEXEC");
    printf("FD_CLOEXEC %d, access mode %d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC, fcntl(fd, F_GETFL) & O_ACCMODE);
    close(fd);
    fd = DT_EXPECT_OK(open(file, O_RDONLY), "open before an unlink");
    DT_EXPECT_OK(unlink(file), "unlink");
    DT_EXPECT_OK(unlink(in_dir("g")), "unlink the second name");
    char buffer[64] = {0};
    printf("read after the unlink: %ld '%s'\n", (long)read(fd, buffer, sizeof buffer - 1), buffer);
    close(fd);
    read_twice("read of the unlinked name", file);
    show("stat of the unlinked name", file, 1);

    /* A forked child's write is seen by the parent's next stat and open. */
    write_file(file, "parent");
    show("before the child", file, 1);
    read_twice("before the child", file);
    pid_t child = fork();
    if (child == 0) {
        write_file(file, "the child's bytes");
        _exit(0);
    }
    waitpid(child, NULL, 0);
    show("after the child", file, 1);
    read_twice("after the child", file);

    /* Relative paths follow the cwd. */
    DT_EXPECT_OK(mkdir(in_dir("d"), 0755), "mkdir d");
    write_file(in_dir("d/f"), "in d");
    DT_EXPECT_OK(chdir(dir), "chdir");
    show("relative f", "f", 1);
    show("relative f again", "f", 1);
    DT_EXPECT_OK(chdir("d"), "chdir d");
    show("relative f in d", "f", 1);
    read_twice("relative f in d", "f");
    DT_EXPECT_OK(chdir("/"), "chdir /");

    /* The path's bytes at the edge of readable memory. */
    char *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pages == MAP_FAILED) {
        dt_check(0, "mmap", "%s", dt_errno_name(errno));
        return dt_finish();
    }
    DT_EXPECT_OK(mprotect(pages + 4096, 4096, PROT_NONE), "mprotect");
    size_t length = strlen(file) + 1;
    char *edge = pages + 4096 - length;
    memcpy(edge, file, length);
    show("a path ending at the page's end", edge, 1);
    show("a path ending at the page's end again", edge, 1);
    read_twice("a path ending at the page's end", edge);
    edge[length - 1] = '/';
    show("no NUL before the unreadable page", edge, 1);
    DT_EXPECT_ERRNO(open(edge, O_RDONLY), EFAULT, "open with no NUL before the unreadable page gives EFAULT");
    DT_EXPECT_OK(mprotect(pages + 4096, 4096, PROT_READ | PROT_WRITE), "mprotect back");
    char *across = pages + 4096 - 7;
    memcpy(across, file, length);
    show("a path across two pages", across, 1);
    show("a path across two pages again", across, 1);
    struct stat st;
    DT_EXPECT_OK(mprotect(pages, 4096, PROT_READ), "mprotect read-only");
    DT_EXPECT_ERRNO(stat(file, (struct stat *)pages), EFAULT, "stat into a read-only buffer gives EFAULT");
    DT_EXPECT_OK(stat(file, &st), "stat into a good buffer");
    DT_EXPECT_ERRNO(stat(file, (struct stat *)pages), EFAULT, "stat into a read-only buffer gives EFAULT also when known");
    DT_EXPECT_ERRNO(stat(in_dir("none"), (struct stat *)pages), ENOENT, "stat of a missing path into a read-only buffer gives ENOENT");
    DT_EXPECT_ERRNO(syscall(SYS_newfstatat, AT_FDCWD, file, &st, 0x40000000), EINVAL, "newfstatat with a bad flag gives EINVAL");
    DT_EXPECT_OK(syscall(SYS_newfstatat, 12345, file, &st, 0), "newfstatat of an absolute path ignores a bad dirfd");
    munmap(pages, 8192);

    DT_EXPECT_OK(unlink(file), "unlink f");
    DT_EXPECT_OK(unlink(in_dir("l")), "unlink l");
    DT_EXPECT_OK(unlink(in_dir("d/f")), "unlink d/f");
    DT_EXPECT_OK(rmdir(in_dir("d")), "rmdir d");
    DT_EXPECT_OK(rmdir(dir), "rmdir the directory");
    show("the directory is gone", dir, 1);
    return dt_finish();
}
