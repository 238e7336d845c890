/* Internal to arch/x86 boot: a kernel or initramfs file mapped read-only,
 * and the steps the PVH and bzImage loaders share. */
#ifndef VIREO_VMM_ARCH_X86_BOOT_FILE_H
#define VIREO_VMM_ARCH_X86_BOOT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/boot.h"

struct boot_file {
    const char *path;
    const uint8_t *data;
    size_t size;
};

int boot_file_map(struct boot_file *f, const char *path, const char *what, char *err,
                  size_t errlen);
void boot_file_unmap(struct boot_file *f);

/* Copies the initramfs to the highest page-aligned address that ends at or
 * below `top` and starts at or above `floor`. */
int boot_place_initramfs(const struct guest_memory *mem, const struct boot_file *initrd,
                         uint64_t floor, uint64_t top, uint64_t *addr, char *err, size_t errlen);

/* Writes the NUL-terminated command line at LAYOUT_CMDLINE_START; `max` is
 * the longest the kernel accepts, including the NUL. */
int boot_write_cmdline(const struct guest_memory *mem, const char *cmdline, uint64_t max, char *err,
                       size_t errlen);

bool pvh_probe(const struct boot_file *kernel);
int pvh_load(const struct guest_memory *mem, const struct x86_boot_config *cfg,
             const struct boot_file *kernel, const struct boot_file *initrd,
             struct x86_boot_entry *entry, char *err, size_t errlen);

bool bzimage_probe(const struct boot_file *kernel);
int bzimage_load(const struct guest_memory *mem, const struct x86_boot_config *cfg,
                 const struct boot_file *kernel, const struct boot_file *initrd,
                 struct x86_boot_entry *entry, char *err, size_t errlen);

#endif
