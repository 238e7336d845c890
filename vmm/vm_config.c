/* Defaults and whole-model checks for struct vm_config, shared by every
 * front end so they accept and refuse the same things. */
#include "config.h"

#include "vm_config.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

void vm_config_init(struct vm_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->boot_vcpus = 1;
    cfg->max_vcpus = 1;
    cfg->memory_size = VM_CONFIG_DEFAULT_MEMORY;
    cfg->serial.mode = VM_CHARDEV_NULL;
    cfg->console.mode = VM_CHARDEV_OFF;
}

void vm_config_clear(struct vm_config *cfg)
{
    g_free(cfg->kernel);
    g_free(cfg->initramfs);
    g_free(cfg->cmdline);
    g_free(cfg->firmware);
    g_free(cfg->serial.path);
    g_free(cfg->console.path);
    memset(cfg, 0, sizeof(*cfg));
}

const char *vm_chardev_mode_name(enum vm_chardev_mode mode)
{
    switch (mode) {
    case VM_CHARDEV_OFF:
        return "off";
    case VM_CHARDEV_NULL:
        return "null";
    case VM_CHARDEV_PTY:
        return "pty";
    case VM_CHARDEV_TTY:
        return "tty";
    case VM_CHARDEV_FILE:
        return "file";
    case VM_CHARDEV_SOCKET:
        return "socket";
    }
    return "?";
}

int vm_config_validate(const struct vm_config *cfg, char **err)
{
    if (cfg->firmware) {
        *err = g_strdup("not yet supported: --firmware (boot a kernel with --kernel)");
        return -EINVAL;
    }
    if (!cfg->kernel) {
        *err = g_strdup("no kernel to boot: give --kernel PATH");
        return -EINVAL;
    }
    if (cfg->initramfs && !cfg->kernel) {
        *err = g_strdup("--initramfs needs --kernel");
        return -EINVAL;
    }
    if (cfg->boot_vcpus < 1 || cfg->boot_vcpus > VM_CONFIG_MAX_VCPUS) {
        *err = g_strdup_printf("--cpus boot=%u is out of range (1 to %u)", cfg->boot_vcpus,
                               VM_CONFIG_MAX_VCPUS);
        return -EINVAL;
    }
    if (cfg->max_vcpus < cfg->boot_vcpus || cfg->max_vcpus > VM_CONFIG_MAX_VCPUS) {
        *err = g_strdup_printf("--cpus max=%u must be between boot=%u and %u", cfg->max_vcpus,
                               cfg->boot_vcpus, VM_CONFIG_MAX_VCPUS);
        return -EINVAL;
    }
    if (cfg->memory_size < VM_CONFIG_MIN_MEMORY) {
        *err = g_strdup_printf("--memory size=%llu is too small (at least %lluM)",
                               (unsigned long long)cfg->memory_size,
                               (unsigned long long)(VM_CONFIG_MIN_MEMORY >> 20));
        return -EINVAL;
    }
    if (cfg->memory_size & 0xfff) {
        *err = g_strdup("--memory size= must be a multiple of 4K");
        return -EINVAL;
    }
    if (cfg->console.mode != VM_CHARDEV_OFF) {
        g_autofree char *what =
            cfg->console.path ? g_strdup_printf("%s=%s", vm_chardev_mode_name(cfg->console.mode),
                                                cfg->console.path)
                              : g_strdup(vm_chardev_mode_name(cfg->console.mode));
        *err = g_strdup_printf("not yet supported: --console %s (virtio-console comes with PCI "
                               "support); use --console off",
                               what);
        return -EINVAL;
    }
    return 0;
}
