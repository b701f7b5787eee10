/*
 * /init of the Linux reference initramfs (tools/linux-reference.sh, docs/linux-reference.md).
 *
 * Linux starts this program as process 1 from the RAM initramfs. It mounts the usual
 * pseudo file systems, runs the one command that the host script put on the kernel command
 * line, waits for it, prints a marker line with its exit status and powers the machine off.
 *
 * The command arrives as the environment variable aegis_run (the kernel hands every
 * unknown "name=value" word of its command line to init as environment, as long as the
 * name holds no '.'): the base64 of the command's arguments, each ended by a NUL byte.
 * base64 needs no quoting and holds no space, so any argument survives the command line.
 *
 * Console lines (the host script keys on them, keep them in step with linux-reference.sh):
 *   LINUX-REFERENCE-START            just before the command starts
 *   LINUX-REFERENCE-EXIT <status>    after it ended: its exit code, or 128 + signal number
 *
 * Built by the script with gcc -static -O2; it needs nothing from the file system around it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define RUN_VARIABLE "aegis_run"
#define MARKER_START "LINUX-REFERENCE-START"
#define MARKER_EXIT "LINUX-REFERENCE-EXIT"

/* Writes the whole buffer to fd, retrying short writes and interruptions. */
static void write_all(int fd, const char *text, size_t length)
{
    while (length > 0) {
        ssize_t written = write(fd, text, length);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        text += written;
        length -= (size_t)written;
    }
}

/* printf to the console (fd 1), unbuffered so that the order with the child's output holds. */
static void say(const char *format, ...)
{
    char line[512];
    va_list args;
    va_start(args, format);
    int length = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (length < 0)
        return;
    if ((size_t)length >= sizeof line)
        length = sizeof line - 1;
    write_all(1, line, (size_t)length);
}

static void mount_one(const char *source, const char *target, const char *type,
                      unsigned long flags, const char *data)
{
    if (mkdir(target, 0755) < 0 && errno != EEXIST)
        say("init: cannot create %s: %s\n", target, strerror(errno));
    if (mount(source, target, type, flags, data) < 0 && errno != EBUSY)
        say("init: cannot mount %s on %s: %s\n", type, target, strerror(errno));
}

/* Puts the console on fds 0, 1 and 2. The kernel opens /dev/console for process 1 when the
 * initramfs has that node; when it has not, the fds are closed and this opens them. */
static void attach_console(void)
{
    int fd = open("/dev/console", O_RDWR | O_NOCTTY);
    if (fd < 0) {
        /* Nothing to print the failure on: a kernel without devtmpfs. Go on regardless. */
        return;
    }
    for (int target = 0; target <= 2; target++)
        if (fd != target)
            dup2(fd, target);
    if (fd > 2)
        close(fd);
}

static int base64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decodes base64 text (padding optional) into a new buffer; returns its length or -1. */
static long base64_decode(const char *text, char **out)
{
    size_t length = strlen(text);
    char *buffer = malloc(length / 4 * 3 + 4);
    if (buffer == NULL)
        return -1;
    unsigned int bits = 0;
    int bit_count = 0;
    long produced = 0;
    for (size_t i = 0; i < length; i++) {
        if (text[i] == '=')
            break;
        int value = base64_value((unsigned char)text[i]);
        if (value < 0) {
            free(buffer);
            return -1;
        }
        bits = (bits << 6) | (unsigned int)value;
        bit_count += 6;
        if (bit_count >= 8) {
            bit_count -= 8;
            buffer[produced++] = (char)((bits >> bit_count) & 0xff);
        }
    }
    *out = buffer;
    return produced;
}

/* Splits the decoded NUL-ended arguments into a NULL-ended argv; NULL when malformed. */
static char **split_arguments(char *data, long length)
{
    if (length <= 0 || data[length - 1] != '\0')
        return NULL;
    long count = 0;
    for (long i = 0; i < length; i++)
        if (data[i] == '\0')
            count++;
    char **argv = calloc((size_t)count + 1, sizeof *argv);
    if (argv == NULL)
        return NULL;
    long index = 0;
    for (long start = 0; start < length; ) {
        argv[index++] = data + start;
        start += (long)strlen(data + start) + 1;
    }
    argv[index] = NULL;
    return argv[0][0] == '\0' ? NULL : argv;
}

/* Waits until the serial line has sent everything queued, then powers the machine off. */
static void power_off(void)
{
    tcdrain(1);
    sync();
    reboot(RB_POWER_OFF);
    /* Only reached when the power-off failed; process 1 must not end (the kernel would panic
     * and, with panic=-1, reboot, which -no-reboot turns into QEMU's exit all the same). */
    say("init: power off failed: %s\n", strerror(errno));
    for (;;)
        pause();
}

static void finish(int status)
{
    say("\n" MARKER_EXIT " %d\n", status);
    power_off();
}

static void run_child(char **argv)
{
    setsid();
    /* A clean environment: what the kernel passed to init (HOME=/, TERM=linux, our own
     * variable) is replaced by the variables a shell's login would have. */
    clearenv();
    setenv("PATH", "/bin:/sbin:/usr/bin:/usr/sbin", 1);
    setenv("HOME", "/root", 1);
    setenv("TERM", "linux", 1);
    if (chdir("/") < 0)
        _exit(127);
    execvp(argv[0], argv);
    int error = errno;
    say("init: cannot run %s: %s\n", argv[0], strerror(error));
    _exit(error == ENOENT ? 127 : 126);
}

int main(void)
{
    /* Mount points are made when the file system lacks them (an empty stage directory). */
    mount_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    attach_console();
    mount_one("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_one("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_one("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");

    const char *encoded = getenv(RUN_VARIABLE);
    if (encoded == NULL || encoded[0] == '\0') {
        say("init: no command: the kernel command line has no " RUN_VARIABLE "=\n");
        finish(127);
    }
    char *data = NULL;
    long length = base64_decode(encoded, &data);
    char **argv = length > 0 ? split_arguments(data, length) : NULL;
    if (argv == NULL) {
        say("init: " RUN_VARIABLE "= is not the base64 of NUL-ended arguments\n");
        finish(127);
    }

    say(MARKER_START "\n");
    pid_t child = fork();
    if (child < 0) {
        say("init: fork failed: %s\n", strerror(errno));
        finish(127);
    }
    if (child == 0)
        run_child(argv);

    /* Process 1 inherits every orphan: reap them all until the command itself has ended. */
    int status = 0;
    for (;;) {
        int wait_status;
        pid_t ended = waitpid(-1, &wait_status, 0);
        if (ended < 0) {
            if (errno == EINTR)
                continue;
            say("init: wait failed: %s\n", strerror(errno));
            status = 127;
            break;
        }
        if (ended != child)
            continue;
        if (WIFEXITED(wait_status))
            status = WEXITSTATUS(wait_status);
        else if (WIFSIGNALED(wait_status))
            status = 128 + WTERMSIG(wait_status);
        else
            continue;
        break;
    }
    /* The child's last bytes may still sit in the serial driver's queue. */
    tcdrain(1);
    finish(status);
    return 0;
}
