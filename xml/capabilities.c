/* The capabilities XML (virsh capabilities) and the domain capabilities XML
 * (virsh domcapabilities) that virt-manager, virt-install and nova read to
 * learn what Vireo can run. */
#include "capabilities.h"
#include "domain_def.h"
#include "i18n.h"
#include "xml_util.h"

#include <libvirt/virterror.h>
#include <string.h>

static void format_host_cpu(GString *buf, const struct vireo_host_info *host)
{
    vireo_buf_add(buf, 2, "<cpu>\n");
    vireo_buf_text_element(buf, 3, "arch", host->arch);
    /* No <model>: it must be a name from libvirt's CPU map, which we have not. */
    vireo_buf_text_element(buf, 3, "vendor", host->cpu_vendor);
    vireo_buf_add(buf, 3, "<topology sockets='%u' dies='1' cores='%u' threads='%u'/>\n",
                  host->sockets, host->cores, host->threads);
    vireo_buf_add(buf, 3, "<pages unit='KiB' size='%u'/>\n", host->page_kib);
    vireo_buf_add(buf, 2, "</cpu>\n");
}

static void format_host_topology(GString *buf, const struct vireo_host_info *host)
{
    vireo_buf_add(buf, 2, "<topology>\n");
    vireo_buf_add(buf, 3, "<cells num='1'>\n");
    vireo_buf_add(buf, 4, "<cell id='0'>\n");
    vireo_buf_add(buf, 5, "<memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>\n", host->memory_kib);
    vireo_buf_add(buf, 5, "<cpus num='%u'>\n", host->cpus->len);
    for (guint i = 0; i < host->cpus->len; i++) {
        const struct vireo_host_cpu *cpu = &g_array_index(host->cpus, struct vireo_host_cpu, i);

        vireo_buf_add(buf, 6,
                      "<cpu id='%u' socket_id='%u' die_id='0' core_id='%u' siblings='%s'/>\n",
                      cpu->id, cpu->socket_id, cpu->core_id, cpu->siblings);
    }
    vireo_buf_add(buf, 5, "</cpus>\n");
    vireo_buf_add(buf, 4, "</cell>\n");
    vireo_buf_add(buf, 3, "</cells>\n");
    vireo_buf_add(buf, 2, "</topology>\n");
}

char *vireo_capabilities_format(const struct vireo_host_info *host)
{
    GString *buf = g_string_new("<capabilities>\n\n");
    char uuid[37];

    vireo_uuid_format(host->uuid, uuid);
    vireo_buf_add(buf, 1, "<host>\n");
    vireo_buf_add(buf, 2, "<uuid>%s</uuid>\n", uuid);
    format_host_cpu(buf, host);
    vireo_buf_add(buf, 2, "<power_management/>\n");
    vireo_buf_add(buf, 2, "<iommu support='no'/>\n");
    /* Empty: no live migration. */
    vireo_buf_add(buf, 2, "<migration_features/>\n");
    format_host_topology(buf, host);
    vireo_buf_add(buf, 2, "<secmodel>\n");
    vireo_buf_add(buf, 3, "<model>none</model>\n");
    vireo_buf_add(buf, 3, "<doi>0</doi>\n");
    vireo_buf_add(buf, 2, "</secmodel>\n");
    vireo_buf_add(buf, 1, "</host>\n\n");

    vireo_buf_add(buf, 1, "<guest>\n");
    vireo_buf_add(buf, 2, "<os_type>hvm</os_type>\n");
    vireo_buf_add(buf, 2, "<arch name='%s'>\n", host->arch);
    vireo_buf_add(buf, 3, "<wordsize>64</wordsize>\n");
    vireo_buf_text_element(buf, 3, "emulator", host->emulator);
    vireo_buf_add(buf, 3, "<machine maxCpus='%u'>", host->max_vcpus);
    vireo_buf_escape(buf, host->machine);
    g_string_append(buf, "</machine>\n");
    vireo_buf_add(buf, 3, "<domain type='kvm'/>\n");
    vireo_buf_add(buf, 2, "</arch>\n");
    vireo_buf_add(buf, 2, "<features>\n");
    vireo_buf_add(buf, 3, "<acpi default='on' toggle='no'/>\n");
    vireo_buf_add(buf, 3, "<apic default='on' toggle='no'/>\n");
    vireo_buf_add(buf, 2, "</features>\n");
    vireo_buf_add(buf, 1, "</guest>\n\n");
    g_string_append(buf, "</capabilities>\n");
    return g_string_free(buf, FALSE);
}

/* <enum name='...'> with its values; an empty enum when values is NULL. */
static void format_enum(GString *buf, int level, const char *name, const char *const *values)
{
    if (!values || !values[0]) {
        vireo_buf_add(buf, level, "<enum name='%s'/>\n", name);
        return;
    }
    vireo_buf_add(buf, level, "<enum name='%s'>\n", name);
    for (const char *const *v = values; *v; v++)
        vireo_buf_add(buf, level + 1, "<value>%s</value>\n", *v);
    vireo_buf_add(buf, level, "</enum>\n");
}

static void format_domcaps_os(GString *buf, const struct vireo_host_info *host)
{
    static const char *const loader_types[] = {"rom", "pflash", NULL};
    static const char *const yes_no[] = {"yes", "no", NULL};
    static const char *const no[] = {"no", NULL};

    vireo_buf_add(buf, 1, "<os supported='yes'>\n");
    /* No firmware auto-selection (<os firmware='efi'>): an empty enum. */
    format_enum(buf, 2, "firmware", NULL);
    vireo_buf_add(buf, 2, "<loader supported='yes'>\n");
    for (guint i = 0; i < host->firmware->len; i++) {
        vireo_buf_add(buf, 3, "<value>");
        vireo_buf_escape(buf, host->firmware->pdata[i]);
        g_string_append(buf, "</value>\n");
    }
    format_enum(buf, 3, "type", loader_types);
    format_enum(buf, 3, "readonly", yes_no);
    format_enum(buf, 3, "secure", no);
    vireo_buf_add(buf, 2, "</loader>\n");
    vireo_buf_add(buf, 1, "</os>\n");
}

static void format_domcaps_cpu(GString *buf)
{
    static const char *const off[] = {"off", NULL};

    vireo_buf_add(buf, 1, "<cpu>\n");
    vireo_buf_add(buf, 2, "<mode name='host-passthrough' supported='yes'>\n");
    format_enum(buf, 3, "hostPassthroughMigratable", off);
    vireo_buf_add(buf, 2, "</mode>\n");
    vireo_buf_add(buf, 2, "<mode name='maximum' supported='no'/>\n");
    vireo_buf_add(buf, 2, "<mode name='host-model' supported='no'/>\n");
    vireo_buf_add(buf, 2, "<mode name='custom' supported='no'/>\n");
    vireo_buf_add(buf, 1, "</cpu>\n");
}

static void format_domcaps_devices(GString *buf)
{
    static const char *const disk_device[] = {"disk", NULL};
    static const char *const disk_bus[] = {"virtio", NULL};
    static const char *const virtio_models[] = {"virtio", "virtio-non-transitional", NULL};
    static const char *const rng_backend[] = {"random", NULL};
    static const char *const backend_type[] = {"default", "passt", NULL};
    static const char *const console_type[] = {"pty", "file", "null", NULL};
    static const char *const unsupported[] = {"graphics", "video", "hostdev", NULL};
    static const char *const unsupported2[] = {"filesystem", "tpm",    "redirdev",
                                               "channel",    "crypto", NULL};

    vireo_buf_add(buf, 1, "<devices>\n");
    vireo_buf_add(buf, 2, "<disk supported='yes'>\n");
    format_enum(buf, 3, "diskDevice", disk_device);
    format_enum(buf, 3, "bus", disk_bus);
    format_enum(buf, 3, "model", virtio_models);
    vireo_buf_add(buf, 2, "</disk>\n");
    for (const char *const *d = unsupported; *d; d++)
        vireo_buf_add(buf, 2, "<%s supported='no'/>\n", *d);
    vireo_buf_add(buf, 2, "<rng supported='yes'>\n");
    format_enum(buf, 3, "model", virtio_models);
    format_enum(buf, 3, "backendModel", rng_backend);
    vireo_buf_add(buf, 2, "</rng>\n");
    /* libvirt's order: ... channel, crypto, interface, panic, console. */
    for (const char *const *d = unsupported2; *d; d++)
        vireo_buf_add(buf, 2, "<%s supported='no'/>\n", *d);
    vireo_buf_add(buf, 2, "<interface supported='yes'>\n");
    format_enum(buf, 3, "backendType", backend_type);
    vireo_buf_add(buf, 2, "</interface>\n");
    vireo_buf_add(buf, 2, "<panic supported='no'/>\n");
    vireo_buf_add(buf, 2, "<console supported='yes'>\n");
    format_enum(buf, 3, "type", console_type);
    vireo_buf_add(buf, 2, "</console>\n");
    vireo_buf_add(buf, 1, "</devices>\n");
}

static void format_domcaps_features(GString *buf)
{
    static const char *const unsupported[] = {
        "gic",    "vmcoreinfo",     "genid",   "backingStoreInput",
        "backup", "async-teardown", "s390-pv", "sev",
        "sgx",    "hyperv",         NULL};

    vireo_buf_add(buf, 1, "<features>\n");
    for (const char *const *f = unsupported; *f; f++)
        vireo_buf_add(buf, 2, "<%s supported='no'/>\n", *f);
    vireo_buf_add(buf, 1, "</features>\n");
}

char *vireo_domain_capabilities_format(const struct vireo_host_info *host, const char *emulator,
                                       const char *arch, const char *machine, const char *virttype,
                                       GError **error)
{
    GString *buf;

    if (emulator && g_strcmp0(emulator, host->emulator)) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_INVALID_ARG,
                    _("emulator '%s' is not Vireo's (%s)"), emulator,
                    host->emulator ? host->emulator : "");
        return NULL;
    }
    if (arch && strcmp(arch, host->arch)) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_INVALID_ARG,
                    _("architecture '%s' is not supported; Vireo runs %s guests"), arch,
                    host->arch);
        return NULL;
    }
    if (machine && strcmp(machine, host->machine)) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_INVALID_ARG,
                    _("machine type '%s' is not supported; Vireo has '%s'"), machine,
                    host->machine);
        return NULL;
    }
    if (virttype && strcmp(virttype, "kvm")) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_INVALID_ARG,
                    _("virtualization type '%s' is not supported; Vireo runs 'kvm'"), virttype);
        return NULL;
    }
    buf = g_string_new("<domainCapabilities>\n");
    vireo_buf_text_element(buf, 1, "path", host->emulator ? host->emulator : "/usr/bin/vireo-vmm");
    vireo_buf_add(buf, 1, "<domain>kvm</domain>\n");
    vireo_buf_text_element(buf, 1, "machine", host->machine);
    vireo_buf_text_element(buf, 1, "arch", host->arch);
    vireo_buf_add(buf, 1, "<vcpu max='%u'/>\n", host->max_vcpus);
    vireo_buf_add(buf, 1, "<iothreads supported='no'/>\n");
    format_domcaps_os(buf, host);
    format_domcaps_cpu(buf);
    vireo_buf_add(buf, 1, "<memoryBacking supported='no'/>\n");
    format_domcaps_devices(buf);
    format_domcaps_features(buf);
    g_string_append(buf, "</domainCapabilities>\n");
    return g_string_free(buf, FALSE);
}
