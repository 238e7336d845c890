/* Probing the host for the capabilities XML: CPU vendor and topology from
 * /proc/cpuinfo, memory from /proc/meminfo, the host uuid from machine-id. */
#include "capabilities.h"
#include "domain_def.h"
#include "xml_util.h"

#include <string.h>
#include <unistd.h>

/* Firmware Vireo can boot with <loader>: Cloud Hypervisor's. */
static const char *const firmware_candidates[] = {
    "/usr/share/cloud-hypervisor/CLOUDHV.fd",
    "/usr/share/cloud-hypervisor/hypervisor-fw",
};

static char *read_file_at(const char *root, const char *path)
{
    g_autofree char *full = g_build_filename(root, path, NULL);
    char *contents = NULL;

    if (!g_file_get_contents(full, &contents, NULL, NULL))
        return NULL;
    return contents;
}

/* "key\t: value" -> value, when line starts with key. */
static const char *cpuinfo_value(const char *line, const char *key)
{
    size_t len = strlen(key);
    const char *p;

    if (strncmp(line, key, len))
        return NULL;
    p = line + len;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != ':')
        return NULL;
    p++;
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

struct cpuinfo_entry {
    unsigned int id, socket, core;
};

static void probe_cpuinfo(struct vireo_host_info *host, const char *root)
{
    g_autofree char *text = read_file_at(root, "proc/cpuinfo");
    g_auto(GStrv) lines = NULL;
    g_autoptr(GArray) entries = g_array_new(FALSE, TRUE, sizeof(struct cpuinfo_entry));
    g_autoptr(GHashTable) sockets = g_hash_table_new(g_direct_hash, g_direct_equal);
    struct cpuinfo_entry *cur = NULL;
    unsigned int cores_per_socket = 0, siblings_per_socket = 0;

    if (text) {
        lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l; l++) {
            const char *v;
            unsigned int n;

            if ((v = cpuinfo_value(*l, "processor")) && vireo_parse_uint(v, 10, G_MAXINT, &n)) {
                struct cpuinfo_entry e = {.id = n};

                g_array_append_val(entries, e);
                cur = &g_array_index(entries, struct cpuinfo_entry, entries->len - 1);
            } else if ((v = cpuinfo_value(*l, "vendor_id")) && !host->cpu_vendor) {
                if (!strcmp(v, "GenuineIntel"))
                    host->cpu_vendor = g_strdup("Intel");
                else if (!strcmp(v, "AuthenticAMD"))
                    host->cpu_vendor = g_strdup("AMD");
                else if (!strcmp(v, "HygonGenuine"))
                    host->cpu_vendor = g_strdup("Hygon");
            } else if ((v = cpuinfo_value(*l, "model name")) && !host->cpu_model_name) {
                host->cpu_model_name = g_strdup(v);
            } else if ((v = cpuinfo_value(*l, "cpu MHz")) && !host->cpu_mhz) {
                host->cpu_mhz = (unsigned int)g_ascii_strtod(v, NULL);
            } else if ((v = cpuinfo_value(*l, "physical id")) && cur &&
                       vireo_parse_uint(v, 10, G_MAXINT, &n)) {
                cur->socket = n;
                g_hash_table_add(sockets, GUINT_TO_POINTER(n + 1));
            } else if ((v = cpuinfo_value(*l, "core id")) && cur &&
                       vireo_parse_uint(v, 10, G_MAXINT, &n)) {
                cur->core = n;
            } else if ((v = cpuinfo_value(*l, "cpu cores")) && !cores_per_socket) {
                vireo_parse_uint(v, 10, G_MAXINT, &cores_per_socket);
            } else if ((v = cpuinfo_value(*l, "siblings")) && !siblings_per_socket) {
                vireo_parse_uint(v, 10, G_MAXINT, &siblings_per_socket);
            }
        }
    }
    if (entries->len == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        for (long i = 0; i < (n > 0 ? n : 1); i++) {
            struct cpuinfo_entry e = {.id = (unsigned int)i, .core = (unsigned int)i};

            g_array_append_val(entries, e);
        }
    }
    host->sockets = MAX(g_hash_table_size(sockets), 1);
    host->cores = cores_per_socket ? cores_per_socket : MAX(entries->len / host->sockets, 1);
    host->threads = siblings_per_socket && siblings_per_socket >= host->cores
                        ? MAX(siblings_per_socket / host->cores, 1)
                        : 1;
    for (guint i = 0; i < entries->len; i++) {
        const struct cpuinfo_entry *e = &g_array_index(entries, struct cpuinfo_entry, i);
        struct vireo_host_cpu cpu = {.id = e->id, .socket_id = e->socket, .core_id = e->core};
        g_autoptr(GString) sib = g_string_new(NULL);

        for (guint j = 0; j < entries->len; j++) {
            const struct cpuinfo_entry *o = &g_array_index(entries, struct cpuinfo_entry, j);

            if (o->socket == e->socket && o->core == e->core)
                g_string_append_printf(sib, "%s%u", sib->len ? "," : "", o->id);
        }
        cpu.siblings = g_string_free(g_steal_pointer(&sib), FALSE);
        g_array_append_val(host->cpus, cpu);
    }
}

static void probe_meminfo(struct vireo_host_info *host, const char *root)
{
    g_autofree char *text = read_file_at(root, "proc/meminfo");
    g_auto(GStrv) lines = NULL;

    if (!text)
        return;
    lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        const char *v = cpuinfo_value(*l, "MemTotal");

        if (v) {
            g_autofree char *num = g_strdup(v);
            char *unit = strstr(num, "kB");
            uint64_t kib;

            if (unit)
                *unit = '\0';
            if (vireo_parse_u64(num, 10, &kib, NULL))
                host->memory_kib = kib;
            return;
        }
    }
}

static void probe_uuid(struct vireo_host_info *host, const char *root)
{
    g_autofree char *id = read_file_at(root, "etc/machine-id");

    if (!id || !vireo_uuid_parse(g_strstrip(id), host->uuid))
        vireo_uuid_generate(host->uuid);
}

static void clear_host_cpu(gpointer p)
{
    struct vireo_host_cpu *cpu = p;

    g_free(cpu->siblings);
}

struct vireo_host_info *vireo_host_info_probe_at(const char *root, const char *emulator)
{
    struct vireo_host_info *host = g_new0(struct vireo_host_info, 1);
    long page = sysconf(_SC_PAGESIZE);

    host->cpus = g_array_new(FALSE, TRUE, sizeof(struct vireo_host_cpu));
    g_array_set_clear_func(host->cpus, clear_host_cpu);
    host->firmware = g_ptr_array_new_with_free_func(g_free);
    host->arch = g_strdup("x86_64");
    host->machine = g_strdup(VIREO_DEFAULT_MACHINE);
    host->max_vcpus = VIREO_MAX_VCPUS;
    host->emulator = g_strdup(emulator);
    host->page_kib = page > 0 ? (unsigned int)(page / 1024) : 4;
    probe_cpuinfo(host, root);
    probe_meminfo(host, root);
    probe_uuid(host, root);
    for (size_t i = 0; i < G_N_ELEMENTS(firmware_candidates); i++) {
        g_autofree char *full = g_build_filename(root, firmware_candidates[i], NULL);

        if (g_file_test(full, G_FILE_TEST_IS_REGULAR))
            g_ptr_array_add(host->firmware, g_strdup(firmware_candidates[i]));
    }
    return host;
}

struct vireo_host_info *vireo_host_info_probe(const char *emulator)
{
    return vireo_host_info_probe_at("/", emulator);
}

void vireo_host_info_free(struct vireo_host_info *host)
{
    if (!host)
        return;
    g_free(host->arch);
    g_free(host->cpu_vendor);
    g_free(host->cpu_model_name);
    g_array_unref(host->cpus);
    g_free(host->emulator);
    g_free(host->machine);
    g_ptr_array_unref(host->firmware);
    g_free(host);
}
