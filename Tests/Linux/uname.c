/* uname: the fields of struct utsname that a program may compare across systems: sysname is
 * "Linux" and machine "x86_64"; every field is NUL-terminated; release starts with a digit;
 * a bad pointer gives EFAULT. Exit status 0 when every check passed. */
#include "difftest.h"
#include <ctype.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(void)
{
    dt_start("uname");
    struct utsname name;
    memset(&name, 0x7f, sizeof name);
    DT_EXPECT_OK(uname(&name), "uname");
    printf("sysname: %s\n", name.sysname);
    printf("machine: %s\n", name.machine);
    int terminated = memchr(name.sysname, 0, sizeof name.sysname) && memchr(name.nodename, 0, sizeof name.nodename) &&
                     memchr(name.release, 0, sizeof name.release) && memchr(name.version, 0, sizeof name.version) &&
                     memchr(name.machine, 0, sizeof name.machine) && memchr(name.domainname, 0, sizeof name.domainname);
    dt_check(terminated, "every field is NUL-terminated", "a field is not");
    dt_check(isdigit((unsigned char)name.release[0]), "release starts with a digit", "'%s'", name.release);
    dt_check(name.nodename[0] != 0, "nodename is not empty", "empty");
    DT_EXPECT_ERRNO(syscall(SYS_uname, (void *)16), EFAULT, "a bad pointer gives EFAULT");
    return dt_finish();
}
