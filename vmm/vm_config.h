/* The VM configuration model: what to boot and with what resources. Front
 * ends (the command line now, JSON later) fill it; the VM reads it. */
#ifndef VIREO_VMM_VM_CONFIG_H
#define VIREO_VMM_VM_CONFIG_H

#include <stdint.h>

enum vm_chardev_mode {
    VM_CHARDEV_OFF,
    VM_CHARDEV_NULL,
    VM_CHARDEV_PTY,
    VM_CHARDEV_TTY,
    VM_CHARDEV_FILE,
    VM_CHARDEV_SOCKET,
};

struct vm_chardev_config {
    enum vm_chardev_mode mode;
    char *path; /* FILE and SOCKET */
};

struct vm_config {
    char *kernel;
    char *initramfs;
    char *cmdline;
    char *firmware;
    unsigned int boot_vcpus;
    unsigned int max_vcpus;
    uint64_t memory_size;
    struct vm_chardev_config serial;
    struct vm_chardev_config console;
};

#define VM_CONFIG_DEFAULT_MEMORY (512ull << 20)
#define VM_CONFIG_MIN_MEMORY     (4ull << 20)
#define VM_CONFIG_MAX_VCPUS      254 /* xAPIC ids; 255 is the broadcast id */

/* Cloud Hypervisor's defaults, except the console (off until virtio-console). */
void vm_config_init(struct vm_config *cfg);
void vm_config_clear(struct vm_config *cfg);

/* Checks the model as a whole. Returns 0, or -EINVAL with a one-line
 * message in *err (g_free it). */
int vm_config_validate(const struct vm_config *cfg, char **err) __attribute__((warn_unused_result));

const char *vm_chardev_mode_name(enum vm_chardev_mode mode);

#endif
