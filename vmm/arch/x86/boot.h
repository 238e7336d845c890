/* Direct kernel boot on x86: loads a PVH ELF vmlinux or a bzImage plus an
 * optional initramfs and command line into guest memory, and says where and
 * how the boot vCPU enters it. */
#ifndef VIREO_VMM_ARCH_X86_BOOT_H
#define VIREO_VMM_ARCH_X86_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "arch/x86/cpu.h"
#include "guest_memory.h"

struct x86_boot_config {
    const char *kernel;      /* path */
    const char *initramfs;   /* path or NULL */
    const char *cmdline;     /* NULL means empty */
    uint64_t rsdp_addr;      /* 0 when there are no ACPI tables */
    uint64_t low_ram_end;    /* RAM is [0, low_ram_end) ... */
    uint64_t high_ram_size;  /* ... and [4 GiB, 4 GiB + high_ram_size) */
    uint64_t reserved_start; /* reserved in the memory map (PCI MMCONFIG) ... */
    uint64_t reserved_size;  /* ... when not 0 */
};

/* Guest memory must be zeroed beforehand. On failure `err` says what is
 * wrong, naming the file, and -errno is returned. */
int x86_boot_load(const struct guest_memory *mem, const struct x86_boot_config *cfg,
                  struct x86_boot_entry *entry, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
