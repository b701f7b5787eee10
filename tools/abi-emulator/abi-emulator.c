/*
 * abi-emulator: runs one Aegis app image (artifacts/<cfg>/apps/NAME.elf) as a Linux process
 * and plays the kernel's part of the ABI (Aegis.Abi) for it, so LibOS.Base and apps can
 * be exercised on the build machine: system calls (stopped with PTRACE_SYSEMU and answered
 * here), frames and page mappings (pages of a memfd mapped into the process), the information
 * pages, and upcalls (a CPU exception stops the process; the UpcallFrame is written on its
 * upcall stack and it is restarted at its upcall entry, exactly as the ABI describes).
 *
 * A test double, not the kernel: one environment, no time slices, no IPC, no child
 * environments; the page-fault error code carries only the present and user bits (Linux does
 * not tell a tracer whether the access was a write). What it checks is the libOS side: the
 * start-up, the stubs, the trampoline, the dispatchers and the apps' handlers.
 *
 *   abi-emulator [--argument TEXT] APP.elf
 * Prints the app's console output on stdout and one line on stderr about how it ended; exits
 * with the app's exit status, or 128 + 64 if the "kernel" destroyed it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <linux/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Aegis.Abi's constants (checked against the C# by Aegis.Tests/Host/AsmHeaderTests.cs). */
#include "../../Aegis.Abi/abi.h"

#define PAGE ((uint64_t)USER_ADDRESSES_PAGE_SIZE)
#define BIT_PRESENT ((uint64_t)PAGE_BITS_PRESENT)
#define BIT_WRITABLE ((uint64_t)PAGE_BITS_WRITABLE)
#define BIT_USER ((uint64_t)PAGE_BITS_USER)
#define BIT_NO_EXECUTE ((uint64_t)PAGE_BITS_NO_EXECUTE)
#define ANY_FRAME ((uint64_t)SYSTEM_CALL_LIMITS_ANY_FRAME)
#define WORD(offset) ((offset) / 8)   /* a byte offset of abi.h as an index of uint64_t words */

/* The CPU's exception vectors (UpcallFrame.Trap): the hardware's numbers, not Aegis's. */
#define X86_DIVIDE_ERROR 0
#define X86_BREAKPOINT 3
#define X86_INVALID_OPCODE 6
#define X86_GENERAL_PROTECTION 13
#define X86_PAGE_FAULT 14
#define ENVIRONMENT_ID 0x1001
#define DESTROYED_STATUS (128 + 64)

/* Frames: pages of one memfd, mapped into the app with MAP_SHARED and into this process too. */
#define FRAME_COUNT 16384
#define FIRST_FRAME 0x100
#define MAX_MAPPINGS 65536

struct page_map_request { uint64_t address, frame, permissions; uint32_t operation, reserved; };
_Static_assert(sizeof(struct page_map_request) == PAGE_MAP_REQUEST_SIZE, "PageMapRequest");
_Static_assert(__builtin_offsetof(struct page_map_request, operation) == PAGE_MAP_REQUEST_OPERATION, "PageMapRequest.Operation");
struct mapping { uint64_t address, frame, permissions; };

static pid_t app;
static int frames_fd;
static uint8_t *frames;
static uint8_t frame_owned[FRAME_COUNT];
static struct mapping mappings[MAX_MAPPINGS];
static int mapping_count;
static uint64_t upcall_entry, upcall_stack_top;
static uint64_t *info_page, *environment_page;
static const char *image_name;

static void die(const char *what) { perror(what); if (app > 0) kill(app, SIGKILL); exit(125); }

static void destroy(const char *reason, uint64_t address)
{
    fprintf(stderr, "abi-emulator: environment 0x%x (%s) destroyed: %s (address 0x%llx)\n",
            ENVIRONMENT_ID, image_name, reason, (unsigned long long)address);
    kill(app, SIGKILL);
    exit(DESTROYED_STATUS);
}

static struct user_regs_struct get_regs(void)
{
    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, app, 0, &regs) < 0) die("PTRACE_GETREGS");
    return regs;
}

static void set_regs(struct user_regs_struct *regs)
{
    if (ptrace(PTRACE_SETREGS, app, 0, regs) < 0) die("PTRACE_SETREGS");
}

static int wait_stop(void)
{
    int status;
    if (waitpid(app, &status, 0) < 0) die("waitpid");
    if (WIFEXITED(status)) { fprintf(stderr, "abi-emulator: the process exited by itself (%d)\n", WEXITSTATUS(status)); exit(125); }
    if (WIFSIGNALED(status)) { fprintf(stderr, "abi-emulator: the process died of signal %d\n", WTERMSIG(status)); exit(125); }
    return status;
}

/* Runs one Linux system call inside the app. Precondition: the app is stopped at the entry of
   a system call it made (RIP just after its `syscall`), which SYSEMU is skipping. */
static long inject(struct user_regs_struct *at, long number, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
    struct user_regs_struct regs = *at;
    regs.rax = number; regs.orig_rax = number;
    regs.rdi = a0; regs.rsi = a1; regs.rdx = a2; regs.r10 = a3; regs.r8 = a4; regs.r9 = a5;
    regs.rip -= 2;
    set_regs(&regs);
    /* Resuming with PTRACE_SYSCALL first reports the exit of the skipped call, then the entry
       and the exit of the injected one. */
    int entered = 0;
    for (;;) {
        if (ptrace(PTRACE_SYSCALL, app, 0, 0) < 0) die("PTRACE_SYSCALL");
        wait_stop();
        struct ptrace_syscall_info info;
        if (ptrace(PTRACE_GET_SYSCALL_INFO, app, sizeof info, &info) < 0) die("PTRACE_GET_SYSCALL_INFO");
        if (info.op == PTRACE_SYSCALL_INFO_ENTRY) entered = 1;
        else if (info.op == PTRACE_SYSCALL_INFO_EXIT && entered) break;
    }
    long result = (long)get_regs().rax;
    set_regs(at);
    return result;
}

static int read_user(uint64_t address, void *buffer, size_t length)
{
    if (address >= USER_ADDRESSES_USER_END || length > USER_ADDRESSES_USER_END - address) return -1;
    struct iovec local = { buffer, length }, remote = { (void *)address, length };
    return process_vm_readv(app, &local, 1, &remote, 1, 0) == (ssize_t)length ? 0 : -1;
}

static int write_user(uint64_t address, const void *buffer, size_t length)
{
    if (address >= USER_ADDRESSES_USER_END || length > USER_ADDRESSES_USER_END - address) return -1;
    struct iovec local = { (void *)buffer, length }, remote = { (void *)address, length };
    return process_vm_writev(app, &local, 1, &remote, 1, 0) == (ssize_t)length ? 0 : -1;
}

static struct mapping *find_mapping(uint64_t address)
{
    for (int i = 0; i < mapping_count; i++)
        if (mappings[i].address == address) return &mappings[i];
    return NULL;
}

static int linux_protection(uint64_t permissions)
{
    return PROT_READ | ((permissions & BIT_WRITABLE) ? PROT_WRITE : 0) | ((permissions & BIT_NO_EXECUTE) ? 0 : PROT_EXEC);
}

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static uint64_t free_frames(void)
{
    uint64_t n = 0;
    for (int i = FIRST_FRAME; i < FRAME_COUNT; i++) n += !frame_owned[i];
    return n;
}

/* The two information pages: frames of the memfd mapped read-only at their fixed addresses. */
static void map_information_pages(struct user_regs_struct *at)
{
    const uint64_t info_frame = 1, environment_frame = 2;
    long r1 = inject(at, SYS_mmap, USER_ADDRESSES_INFO_PAGE, PAGE, PROT_READ, MAP_SHARED | MAP_FIXED_NOREPLACE, frames_fd, info_frame * PAGE);
    long r2 = inject(at, SYS_mmap, USER_ADDRESSES_ENVIRONMENT_PAGE, PAGE, PROT_READ, MAP_SHARED | MAP_FIXED_NOREPLACE, frames_fd, environment_frame * PAGE);
    if (r1 != (long)USER_ADDRESSES_INFO_PAGE || r2 != (long)USER_ADDRESSES_ENVIRONMENT_PAGE) {
        fprintf(stderr, "abi-emulator: cannot map the information pages: %ld, %ld\n", r1, r2);
        kill(app, SIGKILL);
        exit(125);
    }
    info_page = (uint64_t *)(frames + info_frame * PAGE);
    environment_page = (uint64_t *)(frames + environment_frame * PAGE);
    info_page[WORD(INFO_PAGE_MAGIC)] = INFO_PAGE_INFO_PAGE_MAGIC;
    info_page[WORD(INFO_PAGE_TIMESTAMP_HZ)] = 1000000000ULL;     /* nominal */
    info_page[WORD(INFO_PAGE_TOTAL_FRAMES)] = FRAME_COUNT - FIRST_FRAME;
    info_page[WORD(INFO_PAGE_SLICE_COUNT)] = (INFO_PAGE_SIZE - INFO_PAGE_SLICE_OWNERS) / 8;
    environment_page[WORD(ENVIRONMENT_PAGE_ID)] = ENVIRONMENT_ID;
}

static long page_map(struct user_regs_struct *at, uint64_t slot, uint64_t address, uint64_t count)
{
    static struct page_map_request requests[SYSTEM_CALL_LIMITS_MAXIMUM_MAP_REQUESTS];
    if (slot != CAPABILITY_SLOTS_SELF) return ERROR_NO_CAPABILITY;
    if (count == 0 || count > SYSTEM_CALL_LIMITS_MAXIMUM_MAP_REQUESTS) return ERROR_INVALID_ARGUMENT;
    if (read_user(address, requests, count * sizeof requests[0]) < 0) return ERROR_BAD_ADDRESS;
    /* Validate everything before changing anything. */
    for (uint64_t i = 0; i < count; i++) {
        struct page_map_request *r = &requests[i];
        if ((r->address & (PAGE - 1)) || r->address < USER_ADDRESSES_LOWEST_MAPPABLE || r->address >= USER_ADDRESSES_RESERVED_TOP) return ERROR_BAD_ADDRESS;
        if (r->operation > PAGE_MAP_OPERATION_PROTECT || r->reserved != 0) return ERROR_INVALID_ARGUMENT;
        if (r->operation != PAGE_MAP_OPERATION_UNMAP && (r->permissions & ~PAGE_BITS_ALLOWED)) return ERROR_INVALID_ARGUMENT;
        if (r->operation == PAGE_MAP_OPERATION_MAP && (r->frame >= FRAME_COUNT || !frame_owned[r->frame])) return ERROR_NOT_OWNER;
        if (r->operation != PAGE_MAP_OPERATION_MAP && !find_mapping(r->address)) return ERROR_NOT_MAPPED;
        if (r->operation == PAGE_MAP_OPERATION_MAP && !find_mapping(r->address) && mapping_count + (int)count > MAX_MAPPINGS) return ERROR_NO_MEMORY;
    }
    for (uint64_t i = 0; i < count; i++) {
        struct page_map_request *r = &requests[i];
        struct mapping *m = find_mapping(r->address);
        long result;
        if (r->operation == PAGE_MAP_OPERATION_MAP) {
            /* A fresh address must not hide something of Linux's (its stack, the vDSO). */
            result = inject(at, SYS_mmap, r->address, PAGE, linux_protection(r->permissions),
                            MAP_SHARED | (m ? MAP_FIXED : MAP_FIXED_NOREPLACE), frames_fd, r->frame * PAGE);
            if (!m) m = &mappings[mapping_count++];
            m->address = r->address; m->frame = r->frame; m->permissions = r->permissions;
        } else if (r->operation == PAGE_MAP_OPERATION_UNMAP) {
            result = inject(at, SYS_munmap, r->address, PAGE, 0, 0, 0, 0);
            *m = mappings[--mapping_count];
        } else {
            result = inject(at, SYS_mprotect, r->address, PAGE, linux_protection(r->permissions), 0, 0, 0);
            m->permissions = r->permissions;
        }
        if (result < 0 && result > -4096) { errno = (int)-result; die("injected mmap/munmap/mprotect"); }
    }
    return (long)count;
}

static long frame_free(struct user_regs_struct *at, uint64_t frame)
{
    if (frame >= FRAME_COUNT || frame < FIRST_FRAME || !frame_owned[frame]) return ERROR_NOT_OWNER;
    for (int i = mapping_count - 1; i >= 0; i--) {
        if (mappings[i].frame == frame) {
            inject(at, SYS_munmap, mappings[i].address, PAGE, 0, 0, 0, 0);
            mappings[i] = mappings[--mapping_count];
        }
    }
    frame_owned[frame] = 0;
    return 0;
}

/* PageAllocate(address, count, permissions): fresh zeroed frames mapped there, all or nothing. */
static long page_allocate(struct user_regs_struct *at, uint64_t address, uint64_t count, uint64_t permissions)
{
    if ((address & (PAGE - 1)) || count == 0 || count > SYSTEM_CALL_LIMITS_MAXIMUM_MAP_REQUESTS || (permissions & ~PAGE_BITS_ALLOWED))
        return ERROR_INVALID_ARGUMENT;
    if (address < USER_ADDRESSES_LOWEST_MAPPABLE || address >= USER_ADDRESSES_RESERVED_TOP
        || count > (USER_ADDRESSES_RESERVED_TOP - address) / PAGE) return ERROR_BAD_ADDRESS;
    for (uint64_t i = 0; i < count; i++)
        if (find_mapping(address + i * PAGE)) return ERROR_BUSY;
    if (free_frames() < count || mapping_count + (int)count > MAX_MAPPINGS) return ERROR_NO_MEMORY;
    uint64_t frame = FIRST_FRAME;
    for (uint64_t i = 0; i < count; i++) {
        while (frame_owned[frame]) frame++;
        frame_owned[frame] = 1;
        memset(frames + frame * PAGE, 0, PAGE);
        long result = inject(at, SYS_mmap, address + i * PAGE, PAGE, linux_protection(permissions),
                             MAP_SHARED | MAP_FIXED_NOREPLACE, frames_fd, frame * PAGE);
        if (result < 0 && result > -4096) { errno = (int)-result; die("injected mmap"); }
        struct mapping *m = &mappings[mapping_count++];
        m->address = address + i * PAGE; m->frame = frame; m->permissions = permissions;
    }
    return (long)count;
}

/* PageShare: only Discard over the app's own pages (one environment: nothing to hand on to). Every
   frame here is the app's alone, so a discarded page's frame is freed. */
static long page_share(struct user_regs_struct *at, uint64_t slot, uint64_t address, uint64_t count, uint64_t flags, uint64_t mark)
{
    if (slot != CAPABILITY_SLOTS_SELF) return ERROR_NO_CAPABILITY;
    if (flags != PAGE_SHARE_FLAGS_DISCARD || mark != 0) return ERROR_INVALID_ARGUMENT; /* the rest needs a second environment */
    if ((address & (PAGE - 1)) || count == 0 || count > SYSTEM_CALL_LIMITS_MAXIMUM_MAP_REQUESTS) return ERROR_INVALID_ARGUMENT;
    if (address < USER_ADDRESSES_LOWEST_MAPPABLE || address >= USER_ADDRESSES_RESERVED_TOP
        || count > (USER_ADDRESSES_RESERVED_TOP - address) / PAGE) return ERROR_BAD_ADDRESS;
    long discarded = 0;
    for (uint64_t i = 0; i < count; i++) {
        struct mapping *m = find_mapping(address + i * PAGE);
        if (!m) continue;
        frame_free(at, m->frame);
        discarded++;
    }
    return discarded;
}

/* Answers one Aegis system call; returns RAX (RDX in *second). */
static long system_call(struct user_regs_struct *regs, uint64_t *second)
{
    uint64_t a0 = regs->rdi, a1 = regs->rsi, a2 = regs->rdx;
    *second = regs->rdx;
    info_page[WORD(INFO_PAGE_TICKS)] = now_ms();
    info_page[WORD(INFO_PAGE_FREE_FRAMES)] = free_frames();
    switch (regs->orig_rax) {
    case SYSTEM_CALL_NULL:
    case SYSTEM_CALL_YIELD:
        return 0;
    case SYSTEM_CALL_CONSOLE_WRITE: {
        static char buffer[SYSTEM_CALL_LIMITS_MAXIMUM_CONSOLE_WRITE];
        if (a0 != CAPABILITY_SLOTS_CONSOLE) return ERROR_NO_CAPABILITY;
        if (a2 > SYSTEM_CALL_LIMITS_MAXIMUM_CONSOLE_WRITE) return ERROR_INVALID_ARGUMENT;
        if (read_user(a1, buffer, a2) < 0) return ERROR_BAD_ADDRESS;
        fwrite(buffer, 1, a2, stdout);
        fflush(stdout);
        return (long)a2;
    }
    case SYSTEM_CALL_EXIT:
        fprintf(stderr, "abi-emulator: environment 0x%x (%s) exited with status %llu\n", ENVIRONMENT_ID, image_name, (unsigned long long)a0);
        kill(app, SIGKILL);
        exit((int)(a0 & 0xFF));
    case SYSTEM_CALL_ENVIRONMENT_SET_UPCALL:
        if (a0 != CAPABILITY_SLOTS_SELF) return ERROR_NO_CAPABILITY;
        if (a1 >= USER_ADDRESSES_USER_END || a2 >= USER_ADDRESSES_USER_END) return ERROR_BAD_ADDRESS;
        upcall_entry = a1;
        upcall_stack_top = a2;
        return 0;
    case SYSTEM_CALL_FRAME_ALLOCATE:
        for (uint64_t f = (a0 == ANY_FRAME ? FIRST_FRAME : a0); f < FRAME_COUNT; f++) {
            if (f < FIRST_FRAME) return ERROR_INVALID_ARGUMENT;
            if (!frame_owned[f]) {
                frame_owned[f] = 1;
                memset(frames + f * PAGE, 0, PAGE);
                return (long)f;
            }
            if (a0 != ANY_FRAME) return ERROR_BUSY;
        }
        return a0 == ANY_FRAME ? ERROR_NO_MEMORY : ERROR_INVALID_ARGUMENT;
    case SYSTEM_CALL_FRAME_FREE:
        return frame_free(regs, a0);
    case SYSTEM_CALL_PAGE_MAP:
        return page_map(regs, a0, a1, a2);
    case SYSTEM_CALL_PAGE_ALLOCATE:
        return page_allocate(regs, a0, a1, a2);
    case SYSTEM_CALL_PAGE_SHARE:
        return page_share(regs, a0, a1, a2, regs->r10, regs->r8);
    case SYSTEM_CALL_PAGE_QUERY: {
        if (a0 != CAPABILITY_SLOTS_SELF) return ERROR_NO_CAPABILITY;
        struct mapping *m = find_mapping(a1 & ~(PAGE - 1));
        if (!m) return ERROR_NOT_MAPPED;
        return (long)((m->frame << PAGE_BITS_FRAME_SHIFT) | BIT_PRESENT | BIT_USER | m->permissions);
    }
    case SYSTEM_CALL_SET_FS_BASE:
        if (a0 >= USER_ADDRESSES_USER_END) return ERROR_BAD_ADDRESS;
        regs->fs_base = a0;
        return 0;
    case SYSTEM_CALL_DEBUG:
        fprintf(stderr, "abi-emulator: Debug(%llu): %d mappings, %llu frames free\n", (unsigned long long)a0, mapping_count, (unsigned long long)free_frames());
        return 0;
    default:
        return ERROR_NO_SUCH_CALL;
    }
}

/* A CPU exception: deliver it as an UpcallFrame on the upcall stack, as Aegis.Abi/Upcall.cs says. */
static void deliver_exception(int signal, siginfo_t *info)
{
    struct user_regs_struct regs = get_regs();
    uint64_t trap, error = BIT_USER, address = 0;
    switch (signal) {
    case SIGFPE: trap = X86_DIVIDE_ERROR; break;
    case SIGTRAP: trap = X86_BREAKPOINT; break;
    case SIGILL: trap = X86_INVALID_OPCODE; break;
    case SIGSEGV:
    case SIGBUS:
        trap = info->si_code == SI_KERNEL ? X86_GENERAL_PROTECTION : X86_PAGE_FAULT;
        address = (uint64_t)info->si_addr;
        if (info->si_code == SEGV_ACCERR) error |= BIT_PRESENT;
        if (trap == X86_GENERAL_PROTECTION) error = 0;
        break;
    default: destroy("unexpected signal", regs.rip);
    }
    if (upcall_entry == 0) destroy("unhandled exception", address);
    if (regs.rip == upcall_entry && trap == X86_PAGE_FAULT) destroy("upcall entry is not executable user memory", upcall_entry);

    uint64_t frame_address;
    if (regs.rsp <= upcall_stack_top && regs.rsp > upcall_stack_top - UPCALL_LIMITS_UPCALL_STACK_PAGES * PAGE)
        frame_address = (regs.rsp - UPCALL_FRAME_RED_ZONE - UPCALL_FRAME_SIZE) & ~15ULL;  /* nested: below the interrupted RSP */
    else
        frame_address = (upcall_stack_top - UPCALL_FRAME_SIZE) & ~15ULL;
    uint64_t frame[UPCALL_FRAME_SIZE / 8] = { 0 };
    frame[WORD(UPCALL_FRAME_KIND)] = UPCALL_KIND_EXCEPTION;
    frame[WORD(UPCALL_FRAME_TRAP)] = trap;
    frame[WORD(UPCALL_FRAME_ERROR_CODE)] = error;
    frame[WORD(UPCALL_FRAME_FAULT_ADDRESS)] = address;
    frame[WORD(UPCALL_FRAME_FRAME)] = (uint64_t)UPCALL_FRAME_NO_FRAME;
#define REGISTER(name) frame[WORD(UPCALL_FRAME_REGISTERS + USER_REGISTERS_##name)]
    REGISTER(R15) = regs.r15; REGISTER(R14) = regs.r14; REGISTER(R13) = regs.r13; REGISTER(R12) = regs.r12;
    REGISTER(R11) = regs.r11; REGISTER(R10) = regs.r10; REGISTER(R9) = regs.r9; REGISTER(R8) = regs.r8;
    REGISTER(RBP) = regs.rbp; REGISTER(RDI) = regs.rdi; REGISTER(RSI) = regs.rsi; REGISTER(RDX) = regs.rdx;
    REGISTER(RCX) = regs.rcx; REGISTER(RBX) = regs.rbx; REGISTER(RAX) = regs.rax; REGISTER(RIP) = regs.rip;
    REGISTER(RFLAGS) = regs.eflags; REGISTER(RSP) = regs.rsp;
#undef REGISTER
    if (write_user(frame_address, frame, sizeof frame) < 0) destroy("cannot write the upcall frame (no upcall stack)", frame_address);
    regs.rip = upcall_entry;
    regs.rsp = frame_address;
    regs.rdi = frame_address;
    regs.eflags &= ~(1ULL << 8);                  /* TF */
    set_regs(&regs);
}

int main(int argc, char **argv)
{
    const char *argument = "";
    int first = 1;
    if (argc > 2 && strcmp(argv[1], "--argument") == 0) { argument = argv[2]; first = 3; }
    if (argc != first + 1) { fprintf(stderr, "usage: abi-emulator [--argument TEXT] APP.elf\n"); return 2; }
    image_name = argv[first];

    frames_fd = memfd_create("aegis-frames", 0);
    if (frames_fd < 0 || ftruncate(frames_fd, FRAME_COUNT * PAGE) < 0) die("memfd");
    frames = mmap(NULL, FRAME_COUNT * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, frames_fd, 0);
    if (frames == MAP_FAILED) die("mmap frames");

    app = fork();
    if (app < 0) die("fork");
    if (app == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        char *child_argv[] = { (char *)image_name, NULL };
        char *child_env[] = { NULL };
        execve(image_name, child_argv, child_env);
        perror("execve");
        _exit(127);
    }
    int status = wait_stop();
    if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP) { fprintf(stderr, "abi-emulator: the image did not start\n"); return 125; }
    if (ptrace(PTRACE_SETOPTIONS, app, 0, PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD) < 0) die("PTRACE_SETOPTIONS");

    int pages_mapped = 0;
    int pending_signal = 0;
    for (;;) {
        if (ptrace(PTRACE_SYSEMU, app, 0, pending_signal) < 0) die("PTRACE_SYSEMU");
        pending_signal = 0;
        status = wait_stop();
        int signal = WSTOPSIG(status);
        if (signal == (SIGTRAP | 0x80)) {
            struct user_regs_struct regs = get_regs();
            if (!pages_mapped) {
                map_information_pages(&regs);
                size_t length = strlen(argument);
                if (length > ENVIRONMENT_PAGE_SIZE - ENVIRONMENT_PAGE_ARGUMENT) length = ENVIRONMENT_PAGE_SIZE - ENVIRONMENT_PAGE_ARGUMENT;
                environment_page[WORD(ENVIRONMENT_PAGE_ARGUMENT_LENGTH)] = length;
                memcpy((uint8_t *)environment_page + ENVIRONMENT_PAGE_ARGUMENT, argument, length);
                pages_mapped = 1;
            }
            uint64_t second;
            long result = system_call(&regs, &second);
            regs.rax = (uint64_t)result;
            regs.rdx = second;
            set_regs(&regs);
        } else if (signal == SIGSEGV || signal == SIGFPE || signal == SIGILL || signal == SIGTRAP || signal == SIGBUS) {
            siginfo_t info;
            if (ptrace(PTRACE_GETSIGINFO, app, 0, &info) < 0) die("PTRACE_GETSIGINFO");
            deliver_exception(signal, &info);
        } else {
            pending_signal = signal;
        }
    }
}
