/* proc-files: one file tree for every process. What a child creates, writes, renames, unlinks or
 * mkdirs its parent sees at once (and the other way round); an open file description is shared
 * after fork: its offset (writes of parent and children follow each other, reads continue where
 * the other process stopped, also for a file of the root file system) and its status flags; a
 * file unlinked by one process stays readable through a description another holds. All names
 * live in a fresh directory under /tmp (its name is never printed). */
#include "difftest.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int run_child(void (*body)(void))
{
    pid_t child = fork();
    if (child == 0) {
        body();
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void child_check(void (*body)(void), const char *what)
{
    int status = run_child(body);
    dt_check(status == 0, what, "status %d", status);
}

static void write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) _exit(10);
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) _exit(11);
    close(fd);
}

static const char *read_text(const char *path)
{
    static char buffer[256];
    int fd = open(path, O_RDONLY);
    if (fd < 0) return dt_errno_name(errno);
    ssize_t n = read(fd, buffer, sizeof buffer - 1);
    close(fd);
    buffer[n < 0 ? 0 : n] = 0;
    return buffer;
}

static const char *stat_result(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? "exists" : dt_errno_name(errno);
}

static void child_creates(void) { write_text("made-by-child", "child wrote this\n"); }
static void child_renames(void) { if (rename("a", "b") != 0) _exit(12); }
static void child_unlinks(void) { if (unlink("b") != 0) _exit(13); }
static void child_mkdirs(void) { if (mkdir("dir", 0755) != 0) _exit(14); write_text("dir/inside", "x"); }
static void child_removes_dir(void) { if (unlink("dir/inside") != 0 || rmdir("dir") != 0) _exit(15); }

static int shared_fd;
static void child_writes_line(void)
{
    if (write(shared_fd, "child\n", 6) != 6) _exit(16);
}
static void child_sets_append(void)
{
    if (fcntl(shared_fd, F_SETFL, O_APPEND) != 0) _exit(17);
}
static void child_reads_four(void)
{
    char b[4];
    if (read(shared_fd, b, 4) != 4) _exit(18);
}
static void child_unlinks_keep(void) { if (unlink("keep") != 0) _exit(19); }

int main(void)
{
    dt_start("proc-files");
    char directory[] = "/tmp/proc-files-XXXXXX";
    if (mkdtemp(directory) == NULL || chdir(directory) != 0) {
        printf("cannot make the directory: %s\n", dt_errno_name(errno));
        return 2;
    }

    child_check(child_creates, "a child creates and writes a file");
    printf("the parent reads: %s", read_text("made-by-child"));

    write_text("a", "renamed\n");
    child_check(child_renames, "a child renames the parent's file");
    printf("old name: %s, new name: %s, content: %s", stat_result("a"), stat_result("b"), read_text("b"));
    child_check(child_unlinks, "a child unlinks it");
    printf("after the child's unlink: %s\n", stat_result("b"));

    child_check(child_mkdirs, "a child makes a directory with a file");
    DIR *dir = opendir("dir");
    int entries = 0;
    struct dirent *entry;
    while (dir != NULL && (entry = readdir(dir)) != NULL) entries++;
    if (dir != NULL) closedir(dir);
    printf("the parent lists the child's directory: %d entries, inside: %s\n", entries, read_text("dir/inside"));
    child_check(child_removes_dir, "a child removes it");
    printf("after the child's rmdir: %s\n", stat_result("dir"));

    /* One description, parent and children writing through it in turn: each write lands after
       the one before (the offset is shared), nothing is overwritten. */
    shared_fd = open("log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    write(shared_fd, "parent\n", 7);
    child_check(child_writes_line, "a child writes through the inherited descriptor");
    printf("the parent's offset after the child's write: %ld\n", (long)lseek(shared_fd, 0, SEEK_CUR));
    write(shared_fd, "parent again\n", 13);
    run_child(child_writes_line);
    run_child(child_writes_line);
    int flags = fcntl(shared_fd, F_GETFL);
    printf("O_APPEND before the child sets it: %s\n", (flags & O_APPEND) ? "set" : "clear");
    child_check(child_sets_append, "a child sets O_APPEND on the shared description");
    flags = fcntl(shared_fd, F_GETFL);
    printf("O_APPEND after: %s\n", (flags & O_APPEND) ? "set" : "clear");
    close(shared_fd);
    printf("the log:\n%s", read_text("log"));

    /* (echo a; echo b) > f, as a shell does it: two children, one description. */
    shared_fd = open("f", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    run_child(child_writes_line);
    run_child(child_writes_line);
    close(shared_fd);
    printf("f: %zu bytes\n", strlen(read_text("f")));

    /* Reads continue where the other process stopped: a file of the root file system and one of /tmp. */
    const char *paths[] = { "/etc/passwd", "log" };
    for (int i = 0; i < 2; i++) {
        char b[4];
        shared_fd = open(paths[i], O_RDONLY);
        read(shared_fd, b, 4);
        run_child(child_reads_four);
        printf("%s: the parent's offset after its read and the child's: %ld\n", i == 0 ? "root file" : "tmp file",
               (long)lseek(shared_fd, 0, SEEK_CUR));
        close(shared_fd);
    }

    /* An unlinked file stays readable through an open description. */
    write_text("keep", "still here\n");
    int keep = open("keep", O_RDONLY);
    child_check(child_unlinks_keep, "a child unlinks a file the parent has open");
    char kept[32] = { 0 };
    ssize_t n = read(keep, kept, sizeof kept - 1);
    printf("read after the unlink: %zd bytes: %s", n, kept);
    printf("its name: %s\n", stat_result("keep"));
    close(keep);

    unlink("made-by-child");
    unlink("log");
    unlink("f");
    chdir("/");
    dt_check(rmdir(directory) == 0, "the directory is empty at the end", "%s", dt_errno_name(errno));
    return dt_finish();
}
