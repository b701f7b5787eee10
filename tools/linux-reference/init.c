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
 * The network (linux-reference.sh --nic): the script puts the card's driver and the modules it
 * needs in /aegis-reference-modules/ (a directory of its own, so that it cannot collide with
 * the stage's /lib, a symbolic link in some trees), named so that their order is the load order, and sets
 * aegis_net=1. init then loads every module there (finit_module), brings up lo and eth0 with
 * QEMU's user-network address (10.0.2.15/24, the gateway 10.0.2.2 as default route) and waits
 * up to 10 s for eth0's carrier before it runs the command. A failure is printed and ends the
 * run with status 125: a benchmark must not run on a half-configured machine.
 *
 * Built by the script with gcc -static -O2; it needs nothing from the file system around it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define RUN_VARIABLE "aegis_run"
#define MARKER_START "LINUX-REFERENCE-START"
#define MARKER_EXIT "LINUX-REFERENCE-EXIT"
#define NET_VARIABLE "aegis_net"
#define MODULE_DIRECTORY "/aegis-reference-modules"
/* QEMU's user network (slirp): the guest's address, its netmask and the gateway. */
#define GUEST_ADDRESS "10.0.2.15"
#define GUEST_NETMASK "255.255.255.0"
#define GATEWAY_ADDRESS "10.0.2.2"
#define CARRIER_WAIT_MS 10000

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

static int compare_names(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_module(const struct dirent *entry)
{
    size_t length = strlen(entry->d_name);
    return length > 3 && strcmp(entry->d_name + length - 3, ".ko") == 0;
}

/* Loads every module of MODULE_DIRECTORY in name order; 0 when all loaded (or were loaded). */
static int load_modules(void)
{
    struct dirent **entries;
    int count = scandir(MODULE_DIRECTORY, &entries, is_module, compare_names);
    if (count < 0) {
        say("init: cannot read " MODULE_DIRECTORY ": %s\n", strerror(errno));
        return -1;
    }
    int failed = 0;
    for (int i = 0; i < count; i++) {
        char path[512];
        snprintf(path, sizeof path, MODULE_DIRECTORY "/%s", entries[i]->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)) {
            say("init: cannot load %s: %s\n", path, strerror(errno));
            failed = 1;
        }
        if (fd >= 0)
            close(fd);
        free(entries[i]);
    }
    free(entries);
    return failed ? -1 : 0;
}

static int set_address(int sock, unsigned long request, const char *name, const char *address)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    struct sockaddr_in *in = (struct sockaddr_in *)&ifr.ifr_addr;
    in->sin_family = AF_INET;
    inet_pton(AF_INET, address, &in->sin_addr);
    return ioctl(sock, request, &ifr);
}

static int bring_up(int sock, const char *name)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
        return -1;
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    return ioctl(sock, SIOCSIFFLAGS, &ifr);
}

/* 1 when /sys/class/net/NAME/carrier reads 1. */
static int has_carrier(const char *name)
{
    char path[128], value = 0;
    snprintf(path, sizeof path, "/sys/class/net/%s/carrier", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, &value, 1);
    close(fd);
    return n == 1 && value == '1';
}

/* lo and eth0 up, eth0 with QEMU's user-network address and the gateway as default route. */
static int configure_network(void)
{
    if (load_modules() < 0)
        return -1;
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        say("init: socket: %s\n", strerror(errno));
        return -1;
    }
    int result = -1;
    if (bring_up(sock, "lo") < 0)
        say("init: cannot bring up lo: %s\n", strerror(errno));
    else if (set_address(sock, SIOCSIFADDR, "eth0", GUEST_ADDRESS) < 0
             || set_address(sock, SIOCSIFNETMASK, "eth0", GUEST_NETMASK) < 0
             || bring_up(sock, "eth0") < 0)
        say("init: cannot configure eth0 (%s/24): %s\n", GUEST_ADDRESS, strerror(errno));
    else {
        int waited = 0;
        while (!has_carrier("eth0") && waited < CARRIER_WAIT_MS) {
            usleep(10000);
            waited += 10;
        }
        struct rtentry route;
        memset(&route, 0, sizeof route);
        struct sockaddr_in *gateway = (struct sockaddr_in *)&route.rt_gateway;
        gateway->sin_family = AF_INET;
        inet_pton(AF_INET, GATEWAY_ADDRESS, &gateway->sin_addr);
        ((struct sockaddr_in *)&route.rt_dst)->sin_family = AF_INET;
        ((struct sockaddr_in *)&route.rt_genmask)->sin_family = AF_INET;
        route.rt_flags = RTF_UP | RTF_GATEWAY;
        route.rt_dev = "eth0";
        if (!has_carrier("eth0"))
            say("init: eth0 has no carrier after %d ms\n", CARRIER_WAIT_MS);
        else if (ioctl(sock, SIOCADDRT, &route) < 0)
            say("init: cannot add the default route via %s: %s\n", GATEWAY_ADDRESS, strerror(errno));
        else
            result = 0;
    }
    close(sock);
    return result;
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

    const char *net = getenv(NET_VARIABLE);
    if (net != NULL && strcmp(net, "1") == 0 && configure_network() < 0)
        finish(125);

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
