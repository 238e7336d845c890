/* bzImage boot (Documentation/arch/x86/boot.rst, protocol 2.06+): the setup
 * header goes into a zero page, the protected-mode kernel to 1 MiB, and the
 * vCPU enters at the 64-bit entry (or the 32-bit one on old kernels). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/boot_file.h"
#include "arch/x86/e820.h"
#include "arch/x86/layout.h"

/* Offsets in struct boot_params (the zero page). */
#define BP_ACPI_RSDP_ADDR  0x070
#define BP_E820_ENTRIES    0x1e8
#define BP_SETUP_SECTS     0x1f1
#define BP_BOOT_FLAG       0x1fe
#define BP_JUMP            0x200
#define BP_HEADER          0x202
#define BP_VERSION         0x206
#define BP_TYPE_OF_LOADER  0x210
#define BP_LOADFLAGS       0x211
#define BP_CODE32_START    0x214
#define BP_RAMDISK_IMAGE   0x218
#define BP_RAMDISK_SIZE    0x21c
#define BP_HEAP_END_PTR    0x224
#define BP_CMD_LINE_PTR    0x228
#define BP_INITRD_ADDR_MAX 0x22c
#define BP_XLOADFLAGS      0x236
#define BP_CMDLINE_SIZE    0x238
#define BP_PREF_ADDRESS    0x258
#define BP_INIT_SIZE       0x260
#define BP_E820_TABLE      0x2d0
#define BP_E820_MAX        128
#define BP_SIZE            0x1000

#define LOADFLAGS_CAN_USE_HEAP 0x80
#define XLF_KERNEL_64          0x1
#define LOADER_TYPE_UNDEFINED  0xff
#define BZIMAGE_LOAD_ADDR      LAYOUT_HIGH_RAM_START
/* Where a non-relocated kernel decompresses itself (LOAD_PHYSICAL_ADDR). */
#define BZIMAGE_DEFAULT_PREF LAYOUT_MiB(16)

static uint32_t rd16(const uint8_t *p, size_t off)
{
    return (uint32_t)p[off] | (uint32_t)p[off + 1] << 8;
}

static uint32_t rd32(const uint8_t *p, size_t off)
{
    return rd16(p, off) | rd16(p, off + 2) << 16;
}

static uint64_t rd64(const uint8_t *p, size_t off)
{
    return (uint64_t)rd32(p, off) | (uint64_t)rd32(p, off + 4) << 32;
}

static void wr32(uint8_t *p, size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[off + i] = (uint8_t)(v >> (8 * i));
}

static void wr64(uint8_t *p, size_t off, uint64_t v)
{
    wr32(p, off, (uint32_t)v);
    wr32(p, off + 4, (uint32_t)(v >> 32));
}

bool bzimage_probe(const struct boot_file *kernel)
{
    return kernel->size > BP_CMDLINE_SIZE + 4 && !memcmp(kernel->data + BP_HEADER, "HdrS", 4) &&
           rd16(kernel->data, BP_BOOT_FLAG) == 0xaa55;
}

int bzimage_load(const struct guest_memory *mem, const struct x86_boot_config *cfg,
                 const struct boot_file *kernel, const struct boot_file *initrd,
                 struct x86_boot_entry *entry, char *err, size_t errlen)
{
    const uint8_t *k = kernel->data;
    uint32_t version = rd16(k, BP_VERSION);
    uint8_t zp[BP_SIZE];
    uint64_t setup_size, payload_size, hdr_end, kernel_end, pref;
    struct e820_entry e820[E820_MAX_ENTRIES];
    unsigned int n;
    int ret;

    if (version < 0x206) {
        snprintf(err, errlen, "kernel %s: bzImage boot protocol %u.%02u is too old (need 2.06)",
                 kernel->path, version >> 8, version & 0xff);
        return -ENOEXEC;
    }
    setup_size = ((uint64_t)(k[BP_SETUP_SECTS] ? k[BP_SETUP_SECTS] : 4) + 1) * 512;
    if (setup_size >= kernel->size) {
        snprintf(err, errlen, "kernel %s: truncated bzImage (setup is %llu bytes, file %zu)",
                 kernel->path, (unsigned long long)setup_size, kernel->size);
        return -ENOEXEC;
    }
    payload_size = kernel->size - setup_size;

    /* The header runs from 0x1f1 to 0x202 + the jump's offset byte. */
    hdr_end = 0x202 + k[BP_JUMP + 1];
    if (hdr_end > BP_SIZE)
        hdr_end = BP_SIZE;
    if (hdr_end > kernel->size)
        hdr_end = kernel->size;
    memset(zp, 0, sizeof(zp));
    memcpy(zp + BP_SETUP_SECTS, k + BP_SETUP_SECTS, hdr_end - BP_SETUP_SECTS);

    if (guest_memory_write(mem, BZIMAGE_LOAD_ADDR, k + setup_size, payload_size) < 0) {
        snprintf(err, errlen, "kernel %s (%llu bytes) does not fit in guest memory", kernel->path,
                 (unsigned long long)payload_size);
        return -ENOSPC;
    }

    /* The kernel decompresses to its preferred address and needs init_size
     * bytes there; the initramfs must stay clear of that and of the image. */
    pref = version >= 0x20a ? rd64(k, BP_PREF_ADDRESS) : BZIMAGE_DEFAULT_PREF;
    if (pref < BZIMAGE_DEFAULT_PREF)
        pref = BZIMAGE_DEFAULT_PREF;
    kernel_end = BZIMAGE_LOAD_ADDR + payload_size;
    if (version >= 0x20a && pref + rd32(k, BP_INIT_SIZE) > kernel_end)
        kernel_end = pref + rd32(k, BP_INIT_SIZE);
    if (kernel_end > cfg->low_ram_end) {
        snprintf(err, errlen,
                 "kernel %s needs guest memory up to 0x%llx to decompress; give the VM more "
                 "--memory",
                 kernel->path, (unsigned long long)kernel_end);
        return -ENOSPC;
    }

    ret = boot_write_cmdline(mem, cfg->cmdline ? cfg->cmdline : "",
                             (uint64_t)rd32(k, BP_CMDLINE_SIZE) + 1, err, errlen);
    if (ret)
        return ret;
    wr32(zp, BP_CMD_LINE_PTR, LAYOUT_CMDLINE_START);

    zp[BP_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
    zp[BP_LOADFLAGS] |= LOADFLAGS_CAN_USE_HEAP;
    zp[BP_HEAP_END_PTR] = 0x00;
    zp[BP_HEAP_END_PTR + 1] = 0xfe; /* 0xfe00: the end of the setup heap */

    if (initrd) {
        uint64_t top = (uint64_t)rd32(k, BP_INITRD_ADDR_MAX) + 1, addr;
        if (top > cfg->low_ram_end)
            top = cfg->low_ram_end;
        ret = boot_place_initramfs(mem, initrd, (kernel_end + 0xfff) & ~0xfffull, top, &addr, err,
                                   errlen);
        if (ret)
            return ret;
        wr32(zp, BP_RAMDISK_IMAGE, (uint32_t)addr);
        wr32(zp, BP_RAMDISK_SIZE, (uint32_t)initrd->size);
    }

    n = e820_build_reserved(cfg->low_ram_end, cfg->high_ram_size, cfg->reserved_start,
                            cfg->reserved_size, e820);
    for (unsigned int i = 0; i < n && i < BP_E820_MAX; i++) {
        size_t off = BP_E820_TABLE + i * 20;
        wr64(zp, off, e820[i].addr);
        wr64(zp, off + 8, e820[i].size);
        wr32(zp, off + 16, e820[i].type);
    }
    zp[BP_E820_ENTRIES] = (uint8_t)n;

    if (version >= 0x20e && cfg->rsdp_addr)
        wr64(zp, BP_ACPI_RSDP_ADDR, cfg->rsdp_addr);

    if (guest_memory_write(mem, LAYOUT_ZERO_PAGE_START, zp, sizeof(zp)) < 0) {
        snprintf(err, errlen, "no guest RAM for the zero page");
        return -EFAULT;
    }

    if (version >= 0x20c && (rd16(k, BP_XLOADFLAGS) & XLF_KERNEL_64))
        *entry = (struct x86_boot_entry){X86_ENTRY_LINUX64, BZIMAGE_LOAD_ADDR + 0x200,
                                         LAYOUT_ZERO_PAGE_START};
    else
        *entry =
            (struct x86_boot_entry){X86_ENTRY_LINUX32, BZIMAGE_LOAD_ADDR, LAYOUT_ZERO_PAGE_START};
    return 0;
}
