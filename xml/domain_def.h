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
    bool is_block; /* <disk type='block'> vs 'file' */
    char *source;  /* file or dev path */
    char *target;  /* vda, vdb, ... */
    enum vireo_disk_format format;
    bool readonly;
    char *serial;
    char *alias; /* "ua-..." kept as given, otherwise assigned */
    struct vireo_pci_address addr;
    /* <driver cache= io= discard=>, kept verbatim (NULL when absent); the
     * driver maps cache='none'/'directsync' to direct I/O. */
    char *cache;
    char *io;
    char *discard;
    unsigned int boot_order; /* <boot order=>; 0 when absent */
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
    char *source;        /* bridge or network name */
    char *bridge;        /* live only: the bridge a network resolved to */
    char *target_dev;    /* tap name */
    unsigned int queues; /* 0 when absent */
    unsigned int mtu;    /* 0 when absent */
    char *alias;
    struct vireo_pci_address addr;
    unsigned int boot_order; /* 0 when absent */
    /* VIREO_NET_USER always has <backend type='passt'/>: nothing else is accepted. */
};

enum vireo_chardev_kind {
    VIREO_CHARDEV_PTY,
    VIREO_CHARDEV_FILE,
    VIREO_CHARDEV_NULL,
};

struct vireo_chardev_def {
    enum vireo_chardev_kind kind;
    char *path;  /* file path, or the allocated pty in live XML */
    bool virtio; /* <console> with target type virtio */
    char *alias;
    struct vireo_pci_address addr; /* virtio consoles only */
};

/* The whole definition. Strings are owned (g_free); arrays are GPtrArrays
 * with free functions set. */
struct vireo_domain_def {
    char *name;
    uint8_t uuid[16];
    char *title;
    char *description;
    char *metadata_xml;  /* <metadata> children, kept verbatim */
    uint64_t memory_kib; /* <memory> */
    uint64_t current_memory_kib;
    unsigned int vcpus; /* current */
    unsigned int max_vcpus;
    char *os_type; /* "hvm" */
    char *arch;    /* "x86_64" */
    char *machine;
    char *kernel;
    char *initrd;
    char *cmdline;
    char *loader;
    bool acpi, apic;
    enum vireo_lifecycle_action on_poweroff, on_reboot, on_crash;
    GPtrArray *disks;    /* struct vireo_disk_def * */
    GPtrArray *nets;     /* struct vireo_net_def * */
    GPtrArray *serials;  /* struct vireo_chardev_def * */
    GPtrArray *consoles; /* struct vireo_chardev_def * */
    bool rng;
    char *rng_backend; /* /dev/urandom */
    bool vsock;
    unsigned int vsock_cid;
    int id; /* live: the domain id; -1 when inactive */

    /* Additions. Everything below is accepted from clients and shown back to
     * them; the "_xml" strings are whole elements kept verbatim, not
     * interpreted (a client's <cpu mode=...> or <seclabel> survives dumpxml). */
    char *rng_alias;
    struct vireo_pci_address rng_addr;
    bool vsock_auto_cid; /* <cid auto='yes'>: the driver picks vsock_cid at start */
    char *vsock_alias;
    struct vireo_pci_address vsock_addr;
    char *loader_type;          /* <loader type=> "rom"/"pflash", NULL when absent */
    char *loader_readonly;      /* <loader readonly=> "yes"/"no", NULL when absent */
    GPtrArray *boot_devs;       /* char *: <os><boot dev=> in order ("hd", "network") */
    bool pae;                   /* <features><pae/>: harmless, kept */
    GPtrArray *features_off;    /* char *: other features given with state='off' */
    char *clock_offset;         /* "utc" (default) or "localtime" */
    char *clock_xml;            /* the <clock> children (timers) verbatim, or NULL */
    char *emulator;             /* <devices><emulator>, or NULL */
    GPtrArray *controllers_xml; /* char *: accepted <controller> elements verbatim */
    bool input_ps2_mouse, input_ps2_keyboard; /* given <input bus='ps2'> devices */
    bool video_none;                          /* <video><model type='none'/></video> was given */
    char *resource_xml;                       /* <resource>, verbatim, or NULL */
    char *cpu_xml;                            /* <cpu>, verbatim, or NULL (never with <numa>) */
    char *pm_xml;                             /* <pm>, verbatim, or NULL */
    char *on_lockfailure;                     /* text of <on_lockfailure>, or NULL */
    char *seclabel_xml;                       /* every <seclabel>, verbatim, or NULL */
};

#define VIREO_MAX_VCPUS       254  /* the VMM's limit (xAPIC ids) */
#define VIREO_MIN_MEMORY_KIB  4096 /* the VMM's limit: 4 MiB */
#define VIREO_DEFAULT_MACHINE "vireo"
#define VIREO_MAX_PCI_SLOT    31 /* bus 0, slots 1..31; slot 0 is the host bridge */

/* Flags for parsing and formatting. */
#define VIREO_DOMAIN_DEF_PARSE_VALIDATE (1u << 0) /* also validate against libvirt's RNG */
/* Parsing our own live/status XML: keep the id attribute, pty paths, the
 * vsock cid of <cid auto='yes'> and every alias. Without it (define, create),
 * as libvirt does, these are ignored and only "ua-" aliases are kept. */
#define VIREO_DOMAIN_DEF_PARSE_LIVE      (1u << 1)
#define VIREO_DOMAIN_DEF_FORMAT_INACTIVE (1u << 0)
#define VIREO_DOMAIN_DEF_FORMAT_SECURE   (1u << 1)

/* The RNG that PARSE_VALIDATE uses when it exists; the environment variable
 * VIREO_LIBVIRT_SCHEMA_DIR overrides the directory (for tests). */
#define VIREO_LIBVIRT_SCHEMA_DIR "/usr/share/libvirt/schemas"

/* Errors are GErrors in this domain; codes are libvirt's virErrorNumber
 * values (VIR_ERR_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED, ...) so the driver
 * reports them unchanged. Messages name the offending element. A message is
 * the detail only: the driver adds libvirt's prefix for the code
 * ("unsupported configuration: %s", "XML error: %s", ...). Codes used:
 * VIR_ERR_XML_ERROR (malformed XML, wrong root, missing or invalid values,
 * conflicts between devices), VIR_ERR_CONFIG_UNSUPPORTED (valid libvirt XML
 * that Vireo cannot run), VIR_ERR_NO_NAME (no <name>), VIR_ERR_XML_DETAIL
 * (illegal characters in the name), VIR_ERR_OVERFLOW (a number too large),
 * VIR_ERR_XML_INVALID_SCHEMA (PARSE_VALIDATE), VIR_ERR_INVALID_ARG (domain
 * capabilities asked for something we are not). */
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
bool vireo_mac_parse(const char *str, uint8_t mac[6]);
void vireo_mac_format(const uint8_t mac[6], char out[18]);

/* A memory size as libvirt reads it: value in unit (NULL or "" = KiB; b,
 * bytes, k, KiB, KB, M, MiB, MB, ... E, EiB, EB; case-insensitive), rounded
 * up to KiB. 0, or -1 with *error set (XML_ERROR for garbage, OVERFLOW past
 * LLONG_MAX bytes). */
int vireo_memory_parse_kib(const char *value, const char *unit, uint64_t *kib, GError **error)
    __attribute__((warn_unused_result));

/* Names that Vireo uses as file names: non-empty, at most 200 bytes, no '/',
 * no control characters, not "." or "..". */
bool vireo_domain_name_valid(const char *name);

#endif
