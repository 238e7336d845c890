/* The VM configuration model: what to boot and with what resources. Front
 * ends (the command line now, JSON later) fill it; the VM reads it. */
#ifndef VIREO_VMM_VM_CONFIG_H
#define VIREO_VMM_VM_CONFIG_H

#include <stdbool.h>
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

/* Cloud Hypervisor's image_type: Unknown (probe), Raw or Qcow2. */
enum vm_image_type {
    VM_IMAGE_AUTO, /* qcow2 when the file starts with its magic, raw otherwise */
    VM_IMAGE_RAW,
    VM_IMAGE_QCOW2,
};

/* One virtio-blk disk (--disk, VmConfig "disks"). */
struct vm_disk_config {
    char *path;
    bool readonly;
    bool direct;             /* O_DIRECT */
    unsigned int num_queues; /* default VM_CONFIG_DEFAULT_DISK_QUEUES */
    unsigned int queue_size; /* default VM_CONFIG_DEFAULT_DISK_QUEUE_SIZE */
    char *id;                /* NULL: "_disk<index>", as CH names them */
    char *serial;            /* GET_ID answer; NULL: the id */
    enum vm_image_type image_type;
};

/* virtio-rng (--rng, VmConfig "rng"): always present, as in CH. */
struct vm_rng_config {
    char *src; /* default VM_CONFIG_DEFAULT_RNG_SRC */
};

/* One virtio-net device on a TAP or passt (--net, VmConfig "net"). */
struct vm_net_config {
    char *tap;  /* interface name; NULL: the kernel picks vmtapN (or from fds) */
    char *ip;   /* host-side IPv4 address; NULL: none */
    char *mask; /* its netmask; NULL: none */
    uint8_t mac[6];
    bool has_mac; /* else a random locally administered one */
    uint8_t host_mac[6];
    bool has_host_mac;
    unsigned int num_queues; /* receive + transmit queues: 2 per pair */
    unsigned int queue_size;
    unsigned int mtu; /* 0: leave the TAP's, do not tell the guest */
    int *fds;         /* TAP queue fds from the parent, one per pair, or one
                         connected stream socket to passt */
    unsigned int nr_fds;
    char *id;    /* NULL: "_net<index>", as CH names them */
    char *passt; /* "on": start passt; a path: connect to passt's socket */
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
    struct vm_chardev_config console; /* virtio-console (hvc0) */
    struct vm_disk_config *disks;     /* nr_disks entries, in PCI order */
    unsigned int nr_disks;
    struct vm_rng_config rng;
    struct vm_net_config *nets; /* nr_nets entries, in PCI order */
    unsigned int nr_nets;
};

#define VM_CONFIG_DEFAULT_MEMORY          (512ull << 20)
#define VM_CONFIG_MIN_MEMORY              (4ull << 20)
#define VM_CONFIG_MAX_VCPUS               254 /* xAPIC ids; 255 is the broadcast id */
#define VM_CONFIG_DEFAULT_DISK_QUEUES     1
#define VM_CONFIG_DEFAULT_DISK_QUEUE_SIZE 128
#define VM_CONFIG_MAX_DISK_QUEUES         64
#define VM_CONFIG_MIN_DISK_QUEUE_SIZE     4
#define VM_CONFIG_MAX_DISK_QUEUE_SIZE     32768
#define VM_CONFIG_DEFAULT_RNG_SRC         "/dev/urandom"
#define VM_CONFIG_DEFAULT_NET_QUEUES      2
#define VM_CONFIG_MAX_NET_QUEUES          32 /* 16 pairs */
#define VM_CONFIG_DEFAULT_NET_QUEUE_SIZE  256
#define VM_CONFIG_MIN_NET_QUEUE_SIZE      2
#define VM_CONFIG_MAX_NET_QUEUE_SIZE      32768
#define VM_CONFIG_MIN_NET_MTU             68
#define VM_CONFIG_MAX_NET_MTU             65535
#define VM_NET_PASST_DEFAULT_MTU          65520 /* passt's own default */

/* Cloud Hypervisor's defaults: serial null, console tty, an rng on
 * /dev/urandom, no disks. */
void vm_config_init(struct vm_config *cfg);
void vm_config_clear(struct vm_config *cfg);
/* A deep copy of `src` into `dst` (not initialized; vm_config_clear it). */
void vm_config_copy(struct vm_config *dst, const struct vm_config *src);

/* Appends a disk with CH's defaults (path unset) and returns it; the
 * pointer is valid until the next call or vm_config_clear(). */
struct vm_disk_config *vm_config_add_disk(struct vm_config *cfg);
/* The same for a network device (num_queues and queue_size defaulted). */
struct vm_net_config *vm_config_add_net(struct vm_config *cfg);
/* "52:54:00:12:34:56" -> 6 bytes. */
bool vm_config_parse_mac(const char *s, uint8_t mac[6]);

/* Checks the model as a whole. Returns 0, or -EINVAL with a one-line
 * message in *err (g_free it). */
int vm_config_validate(const struct vm_config *cfg, char **err) __attribute__((warn_unused_result));

const char *vm_chardev_mode_name(enum vm_chardev_mode mode);
const char *vm_image_type_name(enum vm_image_type type);

#endif
