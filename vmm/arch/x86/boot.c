/* Picks the boot path from the kernel file's contents, as Cloud Hypervisor
 * does: an ELF with a PVH entry note boots through PVH, else a bzImage. */
#include "config.h"

#include "arch/x86/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/boot_file.h"
#include "arch/x86/layout.h"

int boot_file_map(struct boot_file *f, const char *path, const char *what, char *err, size_t errlen)
{
    struct stat st;
    int fd, ret;

    f->path = path;
    f->data = NULL;
    f->size = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ret = -errno;
        snprintf(err, errlen, "cannot open %s %s: %s", what, path, strerror(errno));
        return ret;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        ret = S_ISREG(st.st_mode) ? -errno : -EINVAL;
        snprintf(err, errlen, "%s %s is not a regular file", what, path);
        close(fd);
        return ret;
    }
    if (st.st_size == 0) {
        snprintf(err, errlen, "%s %s is empty", what, path);
        close(fd);
        return -EINVAL;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    ret = -errno;
    close(fd);
    if (p == MAP_FAILED) {
        snprintf(err, errlen, "cannot map %s %s: %s", what, path, strerror(-ret));
        return ret;
    }
    f->data = p;
    f->size = (size_t)st.st_size;
    return 0;
}

void boot_file_unmap(struct boot_file *f)
{
    if (f->data)
        munmap((void *)f->data, f->size);
    f->data = NULL;
}

int boot_place_initramfs(const struct guest_memory *mem, const struct boot_file *initrd,
                         uint64_t floor, uint64_t top, uint64_t *addr, char *err, size_t errlen)
{
    uint64_t at;

    if (initrd->size > top || ((top - initrd->size) & ~0xfffull) < floor) {
        snprintf(err, errlen,
                 "initramfs %s (%zu bytes) does not fit in guest memory between 0x%llx and "
                 "0x%llx; give the VM more --memory",
                 initrd->path, initrd->size, (unsigned long long)floor, (unsigned long long)top);
        return -ENOSPC;
    }
    at = (top - initrd->size) & ~0xfffull;
    if (guest_memory_write(mem, at, initrd->data, initrd->size) < 0) {
        snprintf(err, errlen, "initramfs %s: 0x%llx+%zu is not guest RAM", initrd->path,
                 (unsigned long long)at, initrd->size);
        return -EFAULT;
    }
    *addr = at;
    return 0;
}

int boot_write_cmdline(const struct guest_memory *mem, const char *cmdline, uint64_t max, char *err,
                       size_t errlen)
{
    size_t len = strlen(cmdline) + 1;

    if (max > LAYOUT_CMDLINE_MAX)
        max = LAYOUT_CMDLINE_MAX;
    if (len > max) {
        snprintf(err, errlen, "kernel command line is %zu bytes; the kernel accepts at most %llu",
                 len - 1, (unsigned long long)(max - 1));
        return -E2BIG;
    }
    if (guest_memory_write(mem, LAYOUT_CMDLINE_START, cmdline, len) < 0) {
        snprintf(err, errlen, "no guest RAM for the kernel command line");
        return -EFAULT;
    }
    return 0;
}

int x86_boot_load(const struct guest_memory *mem, const struct x86_boot_config *cfg,
                  struct x86_boot_entry *entry, char *err, size_t errlen)
{
    struct boot_file kernel, initrd = {0};
    int ret;

    ret = boot_file_map(&kernel, cfg->kernel, "kernel", err, errlen);
    if (ret)
        return ret;
    if (cfg->initramfs) {
        ret = boot_file_map(&initrd, cfg->initramfs, "initramfs", err, errlen);
        if (ret)
            goto out;
    }
    if (pvh_probe(&kernel)) {
        ret = pvh_load(mem, cfg, &kernel, cfg->initramfs ? &initrd : NULL, entry, err, errlen);
    } else if (bzimage_probe(&kernel)) {
        ret = bzimage_load(mem, cfg, &kernel, cfg->initramfs ? &initrd : NULL, entry, err, errlen);
    } else if (kernel.size >= 4 && !memcmp(kernel.data, "\177ELF", 4)) {
        snprintf(err, errlen,
                 "kernel %s is an ELF file without a PVH entry note "
                 "(XEN_ELFNOTE_PHYS32_ENTRY); boot it as a bzImage or build it with "
                 "CONFIG_PVH=y",
                 cfg->kernel);
        ret = -ENOEXEC;
    } else {
        snprintf(err, errlen, "kernel %s is neither an ELF vmlinux with a PVH note nor a bzImage",
                 cfg->kernel);
        ret = -ENOEXEC;
    }
out:
    boot_file_unmap(&initrd);
    boot_file_unmap(&kernel);
    return ret;
}
