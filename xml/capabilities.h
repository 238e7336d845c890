/* What the host offers, as libvirt clients read it: the host description
 * probed once by the driver, and the capabilities and domain capabilities
 * XML built from it. */
#ifndef VIREO_XML_CAPABILITIES_H
#define VIREO_XML_CAPABILITIES_H

#include <glib.h>
#include <stdint.h>

struct vireo_host_cpu {
    unsigned int id;        /* logical CPU number */
    unsigned int socket_id; /* cpuinfo "physical id" */
    unsigned int core_id;   /* cpuinfo "core id" */
    char *siblings;         /* logical CPUs on the same core: "0,4" */
};

struct vireo_host_info {
    uint8_t uuid[16];       /* /etc/machine-id, else random */
    char *arch;             /* "x86_64" */
    char *cpu_vendor;       /* "Intel", "AMD" or NULL (from vendor_id) */
    char *cpu_model_name;   /* cpuinfo "model name" (for nodeinfo; not a libvirt CPU model) */
    unsigned int cpu_mhz;   /* cpuinfo "cpu MHz", 0 when unknown */
    unsigned int sockets;   /* >= 1 */
    unsigned int cores;     /* per socket, >= 1 */
    unsigned int threads;   /* per core, >= 1 */
    GArray *cpus;           /* struct vireo_host_cpu, one per logical CPU */
    uint64_t memory_kib;    /* MemTotal */
    unsigned int page_kib;  /* base page size */
    unsigned int max_vcpus; /* VIREO_MAX_VCPUS */
    char *emulator;         /* absolute path of vireo-vmm */
    char *machine;          /* VIREO_DEFAULT_MACHINE */
    GPtrArray *firmware;    /* char *: firmware files found (for <loader>) */
};

/* Reads /proc/cpuinfo, /proc/meminfo and /etc/machine-id under root ("/" on
 * a real host; a fake tree in tests). emulator is the vireo-vmm path. Never
 * fails: what cannot be read gets a safe default (one CPU, random uuid). */
struct vireo_host_info *vireo_host_info_probe_at(const char *root, const char *emulator);
struct vireo_host_info *vireo_host_info_probe(const char *emulator);
void vireo_host_info_free(struct vireo_host_info *host);
typedef struct vireo_host_info vireo_host_info;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vireo_host_info, vireo_host_info_free)

/* virConnectGetCapabilities. */
char *vireo_capabilities_format(const struct vireo_host_info *host);

/* virConnectGetDomainCapabilities. NULL arguments mean "the default"; an
 * emulator, arch, machine or virttype that is not ours gives NULL and
 * VIR_ERR_INVALID_ARG in the VIREO_XML_ERROR domain. */
char *vireo_domain_capabilities_format(const struct vireo_host_info *host, const char *emulator,
                                       const char *arch, const char *machine, const char *virttype,
                                       GError **error);

#endif
