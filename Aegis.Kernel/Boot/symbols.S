/*
 * symbols.S - returns the addresses of linker-script and boot-stub symbols to C# (Hal/LinkerSymbols.cs).
 */
    .text
    .code64

    .globl aegis_symbol_modules_start
    .type aegis_symbol_modules_start, @function
aegis_symbol_modules_start:
    movabs $__modules_start, %rax
    ret

    .globl aegis_symbol_modules_end
    .type aegis_symbol_modules_end, @function
aegis_symbol_modules_end:
    movabs $__modules_end, %rax
    ret

    .globl aegis_symbol_early_heap_start
    .type aegis_symbol_early_heap_start, @function
aegis_symbol_early_heap_start:
    movabs $early_heap_start, %rax
    ret

    .globl aegis_symbol_early_heap_end
    .type aegis_symbol_early_heap_end, @function
aegis_symbol_early_heap_end:
    movabs $early_heap_end, %rax
    ret

    .globl aegis_symbol_text_start
    .type aegis_symbol_text_start, @function
aegis_symbol_text_start:
    movabs $__text_start, %rax
    ret

    .globl aegis_symbol_text_end
    .type aegis_symbol_text_end, @function
aegis_symbol_text_end:
    movabs $__text_end, %rax
    ret

    .globl aegis_symbol_rodata_start
    .type aegis_symbol_rodata_start, @function
aegis_symbol_rodata_start:
    movabs $__rodata_start, %rax
    ret

    .globl aegis_symbol_rodata_end
    .type aegis_symbol_rodata_end, @function
aegis_symbol_rodata_end:
    movabs $__rodata_end, %rax
    ret

    .globl aegis_symbol_data_start
    .type aegis_symbol_data_start, @function
aegis_symbol_data_start:
    movabs $__data_start, %rax
    ret

    .globl aegis_symbol_data_end
    .type aegis_symbol_data_end, @function
aegis_symbol_data_end:
    movabs $__data_end, %rax
    ret

    .globl aegis_symbol_kernel_physical_start
    .type aegis_symbol_kernel_physical_start, @function
aegis_symbol_kernel_physical_start:
    movabs $__kernel_physical_start, %rax
    ret

    .globl aegis_symbol_kernel_physical_end
    .type aegis_symbol_kernel_physical_end, @function
aegis_symbol_kernel_physical_end:
    movabs $__kernel_physical_end, %rax
    ret

    .globl aegis_symbol_stack_guard
    .type aegis_symbol_stack_guard, @function
aegis_symbol_stack_guard:
    movabs $kernel_stack_guard, %rax
    ret

    .globl aegis_symbol_stack_top
    .type aegis_symbol_stack_top, @function
aegis_symbol_stack_top:
    movabs $kernel_stack_top, %rax
    ret

    .globl aegis_symbol_tdata_start
    .type aegis_symbol_tdata_start, @function
aegis_symbol_tdata_start:
    movabs $__tdata_start, %rax
    ret

    .globl aegis_symbol_tdata_end
    .type aegis_symbol_tdata_end, @function
aegis_symbol_tdata_end:
    movabs $__tdata_end, %rax
    ret

    .globl aegis_symbol_tbss_end
    .type aegis_symbol_tbss_end, @function
aegis_symbol_tbss_end:
    movabs $__tbss_end, %rax
    ret
