/* Vireo's domain definition: what libvirt domain XML means to us, parsed from
 * and formatted back to XML with libxml2. The driver keeps one per domain
 * (and one live copy per running domain); the VMM never sees XML. */
#ifndef VIREO_XML_DOMAIN_DEF_H
#define VIREO_XML_DOMAIN_DEF_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

enum vireo_lifecycle_action {
    VIREO_ACTION_DESTROY,
    VIREO_ACTION_RESTART,
    VIREO_ACTION_PRESERVE,
};

enum vireo_disk_format {
    VIREO_DISK_RAW,
    VIREO_DISK_QCOW2,
};

struct vireo_pci_address {
    bool set;
    unsigned int domain, bus, slot, function;
};

struct vireo_disk_def {
    bool is_block;          /* <disk type='block'> vs 'file' */
    char *source;           /* file or dev path */
    char *target;           /* vda, vdb, ... */
    enum vireo_disk_format format;
    bool readonly;
    char *serial;
    char *alias;            /* "ua-..." kept as given, otherwise assigned */
    struct vireo_pci_address addr;
};

enum vireo_net_type {
    VIREO_NET_ETHERNET,
    VIREO_NET_BRIDGE,
    VIREO_NET_NETWORK,
    VIREO_NET_USER,
};

struct vireo_net_def {
    enum vireo_net_type type;
    uint8_t mac[6];
    char *source;           /* bridge or network name */
    char *target_dev;       /* tap name */
    unsigned int queues;
    unsigned int mtu;
    char *alias;
    struct vireo_pci_address addr;
};

enum vireo_chardev_kind {
    VIREO_CHARDEV_PTY,
    VIREO_CHARDEV_FILE,
    VIREO_CHARDEV_NULL,
};

struct vireo_chardev_def {
    enum vireo_chardev_kind kind;
    char *path;             /* file path, or the allocated pty in live XML */
    bool virtio;            /* <console> with target type virtio */
    char *alias;
};

/* The whole definition. Strings are owned (g_free); arrays are GPtrArrays
 * with free functions set. */
struct vireo_domain_def {
    char *name;
    uint8_t uuid[16];
    char *title;
    char *description;
    char *metadata_xml;     /* <metadata> children, kept verbatim */
    uint64_t memory_kib;    /* <memory> */
    uint64_t current_memory_kib;
    unsigned int vcpus;     /* current */
    unsigned int max_vcpus;
    char *os_type;          /* "hvm" */
    char *arch;             /* "x86_64" */
    char *machine;
    char *kernel;
    char *initrd;
    char *cmdline;
    char *loader;
    bool acpi, apic;
    enum vireo_lifecycle_action on_poweroff, on_reboot, on_crash;
    GPtrArray *disks;       /* struct vireo_disk_def * */
    GPtrArray *nets;        /* struct vireo_net_def * */
    GPtrArray *serials;     /* struct vireo_chardev_def * */
    GPtrArray *consoles;    /* struct vireo_chardev_def * */
    bool rng;
    char *rng_backend;      /* /dev/urandom */
    bool vsock;
    unsigned int vsock_cid;
    int id;                 /* live: the domain id; -1 when inactive */
};

/* Flags for parsing and formatting. */
#define VIREO_DOMAIN_DEF_PARSE_VALIDATE (1u << 0) /* also validate against libvirt's RNG */
#define VIREO_DOMAIN_DEF_FORMAT_INACTIVE (1u << 0)
#define VIREO_DOMAIN_DEF_FORMAT_SECURE (1u << 1)

/* Errors are GErrors in this domain; codes are libvirt's virErrorNumber
 * values (VIR_ERR_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED, ...) so the driver
 * reports them unchanged. Messages name the offending element. */
#define VIREO_XML_ERROR (vireo_xml_error_quark())
GQuark vireo_xml_error_quark(void);

struct vireo_domain_def *vireo_domain_def_new(void);
void vireo_domain_def_free(struct vireo_domain_def *def);
typedef struct vireo_domain_def vireo_domain_def;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vireo_domain_def, vireo_domain_def_free)

/* Parses, fills defaults (uuid, MACs, aliases, PCI addresses) and checks
 * that Vireo can run what it describes. NULL with *error set on failure. */
struct vireo_domain_def *vireo_domain_def_parse(const char *xml, unsigned int flags,
                                                GError **error);

/* The XML libvirt clients see (dumpxml). */
char *vireo_domain_def_format(const struct vireo_domain_def *def, unsigned int flags);

struct vireo_domain_def *vireo_domain_def_copy(const struct vireo_domain_def *def);

void vireo_uuid_generate(uint8_t uuid[16]);
bool vireo_uuid_parse(const char *str, uint8_t uuid[16]);
void vireo_uuid_format(const uint8_t uuid[16], char out[37]);
void vireo_mac_generate(uint8_t mac[6]); /* 52:54:00:xx:xx:xx */

#endif
