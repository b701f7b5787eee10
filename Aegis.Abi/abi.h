/*
 * abi.h - the Aegis ABI's constants for assembly and C: the one place they are written outside
 * the Aegis.Abi sources. Included by the kernel's assembly (Aegis.Kernel/Arch/x86_64), LibOS.Base's
 * libos.S, apps' assembly (Apps/Bench/Native/bench.S) and tools/abi-emulator; Cosmos.targets
 * puts this directory on the assembler's include path (#include "abi.h").
 *
 * Guarantee: every public constant of Aegis.Abi is here, with its value, and nothing else:
 * enum values, const fields, and struct field offsets and sizes, named TYPE_MEMBER in upper
 * snake case (SystemCall.IpcCall -> SYSTEM_CALL_IPC_CALL, UpcallFrame.Word0 ->
 * UPCALL_FRAME_WORD0, sizeof(UpcallFrame) -> UPCALL_FRAME_SIZE). Aegis.Tests/Host/
 * AsmHeaderTests.cs compares the two both ways (as NativeAOT's AsmOffsets.h is checked): a
 * change to Aegis.Abi fails that test with the line to write here. Values are plain numbers
 * (decimal, 0x hex or (-N)) so that both the C compiler and the GNU assembler read them.
 */
#ifndef AEGIS_ABI_H
#define AEGIS_ABI_H


/* SystemCall (SystemCall.cs): system-call numbers (SYSTEM_CALL_FIRST + index). */
#define SYSTEM_CALL_NULL 512
#define SYSTEM_CALL_CONSOLE_WRITE 513
#define SYSTEM_CALL_EXIT 514
#define SYSTEM_CALL_YIELD 515
#define SYSTEM_CALL_ENVIRONMENT_CREATE 516
#define SYSTEM_CALL_ENVIRONMENT_DESTROY 517
#define SYSTEM_CALL_ENVIRONMENT_START 518
#define SYSTEM_CALL_ENVIRONMENT_SET_UPCALL 519
#define SYSTEM_CALL_ENVIRONMENT_STATUS 520
#define SYSTEM_CALL_FRAME_ALLOCATE 521
#define SYSTEM_CALL_FRAME_FREE 522
#define SYSTEM_CALL_FRAME_GRANT 523
#define SYSTEM_CALL_PAGE_MAP 524
#define SYSTEM_CALL_PAGE_QUERY 525
#define SYSTEM_CALL_IPC_CALL 526
#define SYSTEM_CALL_IPC_REPLY 527
#define SYSTEM_CALL_IPC_SEND 528
#define SYSTEM_CALL_WAIT 529
#define SYSTEM_CALL_SLICE_ALLOCATE 530
#define SYSTEM_CALL_SLICE_FREE 531
#define SYSTEM_CALL_REVOKE_FRAMES 532
#define SYSTEM_CALL_IMAGE_SPAWN 533
#define SYSTEM_CALL_CAPABILITY_COPY 534
#define SYSTEM_CALL_SET_FS_BASE 535
#define SYSTEM_CALL_CAPABILITY_QUERY 536
#define SYSTEM_CALL_PAGE_CLEAN 537
#define SYSTEM_CALL_DEBUG 538
#define SYSTEM_CALL_PAGE_PROTECT 539
#define SYSTEM_CALL_ENVIRONMENT_STOP 540
#define SYSTEM_CALL_SET_SYSTEM_CALL_UPCALL 541
#define SYSTEM_CALL_INPUT_READ 542
#define SYSTEM_CALL_INPUT_WATCH 543
#define SYSTEM_CALL_DEVICE_MAP 544
#define SYSTEM_CALL_NOTIFY_CONTROL 545
#define SYSTEM_CALL_WAIT_UNTIL 546
#define SYSTEM_CALL_INPUT_PEEK 547

/* SystemCallNumbers (SystemCall.cs): Aegis's numbers are [SYSTEM_CALL_FIRST, SYSTEM_CALL_END). */
#define SYSTEM_CALL_FIRST 512
#define SYSTEM_CALL_END 548

/* ExitCrash (SystemCall.cs): Exit's second argument. */
#define EXIT_CRASH_NONE 0
#define EXIT_CRASH_MANAGED_EXCEPTION 1

/* SystemCallLimits (SystemCall.cs). */
#define SYSTEM_CALL_LIMITS_ANY_FRAME (-1)
#define SYSTEM_CALL_LIMITS_ANY_SLICE (-1)
#define SYSTEM_CALL_LIMITS_MAXIMUM_CONSOLE_WRITE 4096
#define SYSTEM_CALL_LIMITS_MAXIMUM_MAP_REQUESTS 512

/* NotifyFlags, WaitResult (SystemCall.cs): NotifyControl's flags, Wait's and WaitUntil's results. */
#define NOTIFY_FLAGS_ASYNCHRONOUS 1
#define NOTIFY_FLAGS_CHILD_ENDED 2
#define NOTIFY_FLAGS_ALL 3
#define WAIT_RESULT_WOKEN 0
#define WAIT_RESULT_DEADLINE_PASSED 1
#define WAIT_RESULT_CHILD_ENDED 2

/* Error (Error.cs): results of a failed call, negative in RAX. */
#define ERROR_NONE 0
#define ERROR_INVALID_ARGUMENT (-1)
#define ERROR_BAD_ADDRESS (-2)
#define ERROR_NO_MEMORY (-3)
#define ERROR_NO_CAPABILITY (-4)
#define ERROR_NOT_OWNER (-5)
#define ERROR_BAD_ENVIRONMENT (-6)
#define ERROR_WOULD_BLOCK (-7)
#define ERROR_NO_SUCH_CALL (-8)
#define ERROR_BUSY (-9)
#define ERROR_NOT_MAPPED (-10)
#define ERROR_NO_SUCH_IMAGE (-11)
#define ERROR_QUOTA_EXCEEDED (-12)

/* UpcallKind (Upcall.cs): UpcallFrame.Kind. */
#define UPCALL_KIND_EXCEPTION 1
#define UPCALL_KIND_IPC_CALL 2
#define UPCALL_KIND_IPC_SEND 3
#define UPCALL_KIND_SLICE_END 4
#define UPCALL_KIND_REVOKE 5
#define UPCALL_KIND_SYSTEM_CALL 6
#define UPCALL_KIND_INPUT 7

/* UpcallDelivery, IpcLimits (Upcall.cs): UpcallFrame.Trap of IPC and input upcalls; pending messages. */
#define UPCALL_DELIVERY_INTO_WAIT 0
#define UPCALL_DELIVERY_ASYNCHRONOUS 1
#define IPC_LIMITS_PENDING_MESSAGES 16

/* UpcallFrame (Upcall.cs): field offsets, size and constants. */
#define UPCALL_FRAME_NO_FRAME (-1)
#define UPCALL_FRAME_KIND 0
#define UPCALL_FRAME_TRAP 8
#define UPCALL_FRAME_ERROR_CODE 16
#define UPCALL_FRAME_FAULT_ADDRESS 24
#define UPCALL_FRAME_SENDER 32
#define UPCALL_FRAME_WORD0 40
#define UPCALL_FRAME_WORD1 48
#define UPCALL_FRAME_WORD2 56
#define UPCALL_FRAME_WORD3 64
#define UPCALL_FRAME_FRAME 72
#define UPCALL_FRAME_RESERVED0 80
#define UPCALL_FRAME_RESERVED1 88
#define UPCALL_FRAME_REGISTERS 96
#define UPCALL_FRAME_REGISTERS_OFFSET 96
#define UPCALL_FRAME_RED_ZONE 128
#define UPCALL_FRAME_RESERVED2 240
#define UPCALL_FRAME_RESERVED3 248
#define UPCALL_FRAME_SIZE 256

/* UserRegisters (Upcall.cs): field offsets inside UpcallFrame.Registers. */
#define USER_REGISTERS_R15 0
#define USER_REGISTERS_R14 8
#define USER_REGISTERS_R13 16
#define USER_REGISTERS_R12 24
#define USER_REGISTERS_R11 32
#define USER_REGISTERS_R10 40
#define USER_REGISTERS_R9 48
#define USER_REGISTERS_R8 56
#define USER_REGISTERS_RBP 64
#define USER_REGISTERS_RDI 72
#define USER_REGISTERS_RSI 80
#define USER_REGISTERS_RDX 88
#define USER_REGISTERS_RCX 96
#define USER_REGISTERS_RBX 104
#define USER_REGISTERS_RAX 112
#define USER_REGISTERS_RIP 120
#define USER_REGISTERS_RFLAGS 128
#define USER_REGISTERS_RSP 136
#define USER_REGISTERS_SIZE 144

/* UpcallLimits (Upcall.cs). */
#define UPCALL_LIMITS_MAXIMUM_UPCALL_STACK_PAGES 256
#define UPCALL_LIMITS_SLICE_GRACE_TICKS 2
#define UPCALL_LIMITS_SLICE_TICKS 10
#define UPCALL_LIMITS_UPCALL_STACK_PAGES 16

/* PageBits (Memory.cs): page-table entry bits as the ABI sees them. */
#define PAGE_BITS_ACCESSED 32
#define PAGE_BITS_ALLOWED 0x8000000000000E02
#define PAGE_BITS_DIRTY 64
#define PAGE_BITS_FRAME_MASK 0xFFFFFFFFFF000
#define PAGE_BITS_FRAME_SHIFT 12
#define PAGE_BITS_NO_EXECUTE 0x8000000000000000
#define PAGE_BITS_PRESENT 1
#define PAGE_BITS_SOFTWARE0 512
#define PAGE_BITS_SOFTWARE1 1024
#define PAGE_BITS_SOFTWARE2 2048
#define PAGE_BITS_USER 4
#define PAGE_BITS_WRITABLE 2

/* PageMapOperation (Memory.cs). */
#define PAGE_MAP_OPERATION_MAP 0
#define PAGE_MAP_OPERATION_UNMAP 1
#define PAGE_MAP_OPERATION_PROTECT 2

/* PageMapRequest (Memory.cs): field offsets and size. */
#define PAGE_MAP_REQUEST_VIRTUAL_ADDRESS 0
#define PAGE_MAP_REQUEST_FRAME 8
#define PAGE_MAP_REQUEST_PERMISSIONS 16
#define PAGE_MAP_REQUEST_OPERATION 24
#define PAGE_MAP_REQUEST_RESERVED 28
#define PAGE_MAP_REQUEST_SIZE 32

/* UserAddresses (Memory.cs): fixed places in every address space. */
#define USER_ADDRESSES_ENVIRONMENT_PAGE 0x7FFFFFFFD000
#define USER_ADDRESSES_IMAGE_BASE 0x400000
#define USER_ADDRESSES_INFO_PAGE 0x7FFFFFFFE000
#define USER_ADDRESSES_INITIAL_STACK_PAGES 16
#define USER_ADDRESSES_INITIAL_STACK_TOP 0x7FFFFFF00000
#define USER_ADDRESSES_LOWEST_MAPPABLE 0x100000
#define USER_ADDRESSES_PAGE_SIZE 4096
#define USER_ADDRESSES_RESERVED_TOP 0x7FFFFFFF0000
#define USER_ADDRESSES_USER_END 0x800000000000

/* EnvironmentState (Environment.cs). */
#define ENVIRONMENT_STATE_FREE 0
#define ENVIRONMENT_STATE_STOPPED 1
#define ENVIRONMENT_STATE_RUNNABLE 2
#define ENVIRONMENT_STATE_RUNNING 3
#define ENVIRONMENT_STATE_BLOCKED 4
#define ENVIRONMENT_STATE_EXITED 5
#define ENVIRONMENT_STATE_DESTROYED 6

/* DestroyReason (Environment.cs). */
#define DESTROY_REASON_NONE 0
#define DESTROY_REASON_BY_CAPABILITY 1
#define DESTROY_REASON_UNHANDLED_EXCEPTION 2
#define DESTROY_REASON_BAD_UPCALL 3
#define DESTROY_REASON_BAD_IMAGE 4
#define DESTROY_REASON_ANCESTOR_ENDED 5

/* CapabilityKind (Environment.cs). */
#define CAPABILITY_KIND_NONE 0
#define CAPABILITY_KIND_ENVIRONMENT 1
#define CAPABILITY_KIND_CONSOLE 2
#define CAPABILITY_KIND_INPUT 3
#define CAPABILITY_KIND_DISPLAY 4

/* InputDevice (Environment.cs): the object of an Input capability. */
#define INPUT_DEVICE_NONE 0
#define INPUT_DEVICE_KEYBOARD 1
#define INPUT_DEVICE_SERIAL 2

/* InputLimits (Environment.cs). */
#define INPUT_LIMITS_DISPLAY_FIRST_FRAME 0xB8
#define INPUT_LIMITS_DISPLAY_PAGES 8
#define INPUT_LIMITS_RING_BYTES 256

/* CapabilitySlots (Environment.cs). */
#define CAPABILITY_SLOTS_CONSOLE 1
#define CAPABILITY_SLOTS_COUNT 64
#define CAPABILITY_SLOTS_DISPLAY 4
#define CAPABILITY_SLOTS_KEYBOARD 2
#define CAPABILITY_SLOTS_SELF 0
#define CAPABILITY_SLOTS_SERIAL 3

/* InfoPage (Environment.cs): field offsets, size and magic. */
#define INFO_PAGE_MAGIC 0
#define INFO_PAGE_TICKS 8
#define INFO_PAGE_TIMESTAMP_HZ 16
#define INFO_PAGE_FREE_FRAMES 24
#define INFO_PAGE_TOTAL_FRAMES 32
#define INFO_PAGE_CURRENT_SLICE 40
#define INFO_PAGE_SLICE_COUNT 48
#define INFO_PAGE_SLICE_OWNERS 56
#define INFO_PAGE_CPU_FEATURES 568
#define INFO_PAGE_BOOT_UNIX_NANOSECONDS 576
#define INFO_PAGE_BOOT_TIMESTAMP 584
#define INFO_PAGE_INFO_PAGE_MAGIC 0x4145474953494E46
#define INFO_PAGE_SIZE 592

/* CpuFeatureBits (Environment.cs): InfoPage.CpuFeatures. */
#define CPU_FEATURE_BITS_FS_GS_BASE 1

/* EnvironmentPage (Environment.cs): field offsets and size. */
#define ENVIRONMENT_PAGE_ID 0
#define ENVIRONMENT_PAGE_PARENT_ID 8
#define ENVIRONMENT_PAGE_FRAMES_OWNED 16
#define ENVIRONMENT_PAGE_REVOCATION_PENDING 24
#define ENVIRONMENT_PAGE_REVOCATION_DEADLINE 32
#define ENVIRONMENT_PAGE_REPOSSESSED_COUNT 40
#define ENVIRONMENT_PAGE_PREEMPTED_COUNT 48
#define ENVIRONMENT_PAGE_REPOSSESSED 56
#define ENVIRONMENT_PAGE_ARGUMENT_LENGTH 568
#define ENVIRONMENT_PAGE_ARGUMENT 576
#define ENVIRONMENT_PAGE_SIZE 832

#endif /* AEGIS_ABI_H */
