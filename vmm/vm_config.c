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
    cfg->console.mode = VM_CHARDEV_TTY;
    cfg->rng.src = g_strdup(VM_CONFIG_DEFAULT_RNG_SRC);
}

static void vm_disk_config_clear(struct vm_disk_config *d)
{
    g_free(d->path);
    g_free(d->id);
    g_free(d->serial);
}

struct vm_disk_config *vm_config_add_disk(struct vm_config *cfg)
{
    struct vm_disk_config *d;

    cfg->disks = g_renew(struct vm_disk_config, cfg->disks, cfg->nr_disks + 1);
    d = &cfg->disks[cfg->nr_disks++];
    memset(d, 0, sizeof(*d));
    d->num_queues = VM_CONFIG_DEFAULT_DISK_QUEUES;
    d->queue_size = VM_CONFIG_DEFAULT_DISK_QUEUE_SIZE;
    d->image_type = VM_IMAGE_AUTO;
    return d;
}

static void vm_net_config_clear(struct vm_net_config *n)
{
    g_free(n->tap);
    g_free(n->ip);
    g_free(n->mask);
    g_free(n->fds);
    g_free(n->id);
    g_free(n->passt);
}

struct vm_net_config *vm_config_add_net(struct vm_config *cfg)
{
    struct vm_net_config *n;

    cfg->nets = g_renew(struct vm_net_config, cfg->nets, cfg->nr_nets + 1);
    n = &cfg->nets[cfg->nr_nets++];
    memset(n, 0, sizeof(*n));
    n->num_queues = VM_CONFIG_DEFAULT_NET_QUEUES;
    n->queue_size = VM_CONFIG_DEFAULT_NET_QUEUE_SIZE;
    return n;
}

bool vm_config_parse_mac(const char *s, uint8_t mac[6])
{
    for (int i = 0; i < 6; i++) {
        if (!g_ascii_isxdigit(s[0]) || !g_ascii_isxdigit(s[1]))
            return false;
        mac[i] = (uint8_t)(g_ascii_xdigit_value(s[0]) << 4 | g_ascii_xdigit_value(s[1]));
        s += 2;
        if (*s != (i < 5 ? ':' : '\0'))
            return false;
        s++;
    }
    return true;
}

void vm_config_clear(struct vm_config *cfg)
{
    g_free(cfg->kernel);
    g_free(cfg->initramfs);
    g_free(cfg->cmdline);
    g_free(cfg->firmware);
    g_free(cfg->serial.path);
    g_free(cfg->console.path);
    for (unsigned int i = 0; i < cfg->nr_disks; i++)
        vm_disk_config_clear(&cfg->disks[i]);
    g_free(cfg->disks);
    g_free(cfg->rng.src);
    for (unsigned int i = 0; i < cfg->nr_nets; i++)
        vm_net_config_clear(&cfg->nets[i]);
    g_free(cfg->nets);
    memset(cfg, 0, sizeof(*cfg));
}

void vm_config_copy(struct vm_config *dst, const struct vm_config *src)
{
    *dst = *src;
    dst->kernel = g_strdup(src->kernel);
    dst->initramfs = g_strdup(src->initramfs);
    dst->cmdline = g_strdup(src->cmdline);
    dst->firmware = g_strdup(src->firmware);
    dst->serial.path = g_strdup(src->serial.path);
    dst->console.path = g_strdup(src->console.path);
    dst->disks = src->nr_disks ? g_new0(struct vm_disk_config, src->nr_disks) : NULL;
    for (unsigned int i = 0; i < src->nr_disks; i++) {
        dst->disks[i] = src->disks[i];
        dst->disks[i].path = g_strdup(src->disks[i].path);
        dst->disks[i].id = g_strdup(src->disks[i].id);
        dst->disks[i].serial = g_strdup(src->disks[i].serial);
    }
    dst->rng.src = g_strdup(src->rng.src);
    dst->nets = src->nr_nets ? g_new0(struct vm_net_config, src->nr_nets) : NULL;
    for (unsigned int i = 0; i < src->nr_nets; i++) {
        const struct vm_net_config *s = &src->nets[i];
        struct vm_net_config *d = &dst->nets[i];

        *d = *s;
        d->tap = g_strdup(s->tap);
        d->ip = g_strdup(s->ip);
        d->mask = g_strdup(s->mask);
        d->id = g_strdup(s->id);
        d->passt = g_strdup(s->passt);
        d->fds = s->nr_fds ? g_memdup2(s->fds, s->nr_fds * sizeof(int)) : NULL;
    }
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

const char *vm_image_type_name(enum vm_image_type type)
{
    switch (type) {
    case VM_IMAGE_AUTO:
        return "auto";
    case VM_IMAGE_RAW:
        return "raw";
    case VM_IMAGE_QCOW2:
        return "qcow2";
    }
    return "?";
}

static int validate_disk(const struct vm_config *cfg, unsigned int i, char **err)
{
    const struct vm_disk_config *d = &cfg->disks[i];
    unsigned int qs = d->queue_size;

    if (!d->path || !*d->path) {
        *err = g_strdup_printf("--disk: disk %u has no path= (vhost_user disks are not "
                               "supported)",
                               i);
        return -EINVAL;
    }
    if (d->num_queues < 1 || d->num_queues > VM_CONFIG_MAX_DISK_QUEUES) {
        *err = g_strdup_printf("--disk path=%s: num_queues=%u is out of range (1 to %u)", d->path,
                               d->num_queues, VM_CONFIG_MAX_DISK_QUEUES);
        return -EINVAL;
    }
    if (qs < VM_CONFIG_MIN_DISK_QUEUE_SIZE || qs > VM_CONFIG_MAX_DISK_QUEUE_SIZE ||
        (qs & (qs - 1))) {
        *err = g_strdup_printf("--disk path=%s: queue_size=%u must be a power of two from %u to %u",
                               d->path, qs, VM_CONFIG_MIN_DISK_QUEUE_SIZE,
                               VM_CONFIG_MAX_DISK_QUEUE_SIZE);
        return -EINVAL;
    }
    for (unsigned int j = 0; j < i; j++) {
        if (d->id && cfg->disks[j].id && !strcmp(d->id, cfg->disks[j].id)) {
            *err = g_strdup_printf("--disk path=%s: id=%s is already used by --disk path=%s",
                                   d->path, d->id, cfg->disks[j].path);
            return -EINVAL;
        }
    }
    return 0;
}

static int validate_net(const struct vm_config *cfg, unsigned int i, char **err)
{
    const struct vm_net_config *n = &cfg->nets[i];
    unsigned int qs = n->queue_size;

    if (n->num_queues < 2 || n->num_queues > VM_CONFIG_MAX_NET_QUEUES || n->num_queues % 2) {
        *err = g_strdup_printf("--net: num_queues=%u must be even, from 2 to %u", n->num_queues,
                               VM_CONFIG_MAX_NET_QUEUES);
        return -EINVAL;
    }
    if (n->nr_fds && n->nr_fds * 2 != n->num_queues) {
        *err = g_strdup_printf("--net: num_queues=%u does not match the %u fd(s) given (one "
                               "per queue pair)",
                               n->num_queues, n->nr_fds);
        return -EINVAL;
    }
    if (qs < VM_CONFIG_MIN_NET_QUEUE_SIZE || qs > VM_CONFIG_MAX_NET_QUEUE_SIZE || (qs & (qs - 1))) {
        *err = g_strdup_printf("--net: queue_size=%u must be a power of two from %u to %u", qs,
                               VM_CONFIG_MIN_NET_QUEUE_SIZE, VM_CONFIG_MAX_NET_QUEUE_SIZE);
        return -EINVAL;
    }
    if (n->mtu && (n->mtu < VM_CONFIG_MIN_NET_MTU || n->mtu > VM_CONFIG_MAX_NET_MTU)) {
        *err = g_strdup_printf("--net: mtu=%u is out of range (%u to %u)", n->mtu,
                               VM_CONFIG_MIN_NET_MTU, VM_CONFIG_MAX_NET_MTU);
        return -EINVAL;
    }
    if (n->has_mac && (n->mac[0] & 1)) {
        *err = g_strdup("--net: mac= must not be a multicast address");
        return -EINVAL;
    }
    for (unsigned int k = 0; k <= i; k++) {
        const struct vm_net_config *m = &cfg->nets[k];

        for (unsigned int a = 0; a < n->nr_fds; a++) {
            for (unsigned int b = 0; b < (k == i ? a : m->nr_fds); b++) {
                if (m->fds[b] == n->fds[a]) {
                    *err = g_strdup_printf("--net: fd=%d is given twice", n->fds[a]);
                    return -EINVAL;
                }
            }
        }
    }
    if (n->passt && (n->tap || n->nr_fds || n->ip || n->mask || n->has_host_mac)) {
        *err = g_strdup("--net: passt= takes no tap=, fd=, ip=, mask= or host_mac= (passt "
                        "configures the guest's addresses by DHCP)");
        return -EINVAL;
    }
    if (n->passt && n->num_queues != 2) {
        *err = g_strdup_printf("--net: num_queues=%u: passt serves one queue pair (num_queues=2)",
                               n->num_queues);
        return -EINVAL;
    }
    if (n->passt && !*n->passt) {
        *err = g_strdup("--net: passt= needs 'on' or the path of passt's socket");
        return -EINVAL;
    }
    if (n->tap && n->nr_fds) {
        *err = g_strdup("--net: give tap= or fd=, not both");
        return -EINVAL;
    }
    if (n->tap && strlen(n->tap) > 15) {
        *err = g_strdup_printf("--net: tap=%s is longer than 15 characters", n->tap);
        return -EINVAL;
    }
    for (unsigned int j = 0; j < i; j++) {
        if (n->id && cfg->nets[j].id && !strcmp(n->id, cfg->nets[j].id)) {
            *err = g_strdup_printf("--net: id=%s is used twice", n->id);
            return -EINVAL;
        }
        if (n->tap && cfg->nets[j].tap && !strcmp(n->tap, cfg->nets[j].tap)) {
            *err = g_strdup_printf("--net: tap=%s is used twice", n->tap);
            return -EINVAL;
        }
    }
    return 0;
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
    if (cfg->console.mode == VM_CHARDEV_SOCKET) {
        *err = g_strdup("--console socket= is not supported (use off, null, pty, tty or file=)");
        return -EINVAL;
    }
    /* Both would read the same stdin (Cloud Hypervisor refuses it too). */
    if (cfg->serial.mode == VM_CHARDEV_TTY && cfg->console.mode == VM_CHARDEV_TTY) {
        *err = g_strdup("--serial tty and --console tty cannot share the terminal; add "
                        "--console off (or --serial off)");
        return -EINVAL;
    }
    for (unsigned int i = 0; i < cfg->nr_disks; i++) {
        if (validate_disk(cfg, i, err))
            return -EINVAL;
    }
    for (unsigned int i = 0; i < cfg->nr_nets; i++) {
        if (validate_net(cfg, i, err))
            return -EINVAL;
    }
    if (!cfg->rng.src || !*cfg->rng.src) {
        *err = g_strdup("--rng: src= must name a file");
        return -EINVAL;
    }
    return 0;
}
