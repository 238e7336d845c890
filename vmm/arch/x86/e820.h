/* The guest's physical memory map as the firmware interfaces describe it:
 * the e820 table of the bzImage zero page and the PVH memmap share it. */
#ifndef VIREO_VMM_ARCH_X86_E820_H
#define VIREO_VMM_ARCH_X86_E820_H

#include <stdint.h>

enum e820_type {
    E820_RAM = 1,
    E820_RESERVED = 2,
    E820_ACPI = 3,
    E820_NVS = 4,
    E820_UNUSABLE = 5,
};

struct e820_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
};

#define E820_MAX_ENTRIES 16

/* Fills `out` (E820_MAX_ENTRIES long) for a VM whose RAM is
 * [0, low_end) and [4 GiB, 4 GiB + high_size). Returns the entry count. */
unsigned int e820_build(uint64_t low_end, uint64_t high_size, struct e820_entry *out);
/* The same with [reserved_start, + reserved_size) in the 32-bit hole marked
 * reserved (the PCI MMCONFIG area; size 0: none). */
unsigned int e820_build_reserved(uint64_t low_end, uint64_t high_size, uint64_t reserved_start,
                                 uint64_t reserved_size, struct e820_entry *out);

#endif
