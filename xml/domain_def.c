/* The life of a struct vireo_domain_def (new, copy, free) and the small
 * value types it is made of: UUIDs, MAC addresses, memory sizes, names. */
#include "domain_def.h"
#include "domain_internal.h"
#include "i18n.h"
#include "xml_util.h"

#include <libvirt/virterror.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

GQuark vireo_xml_error_quark(void)
{
    return g_quark_from_static_string("vireo-xml-error-quark");
}

void vireo_disk_def_free(struct vireo_disk_def *disk)
{
    if (!disk)
        return;
    g_free(disk->source);
    g_free(disk->target);
    g_free(disk->serial);
    g_free(disk->alias);
    g_free(disk->cache);
    g_free(disk->io);
    g_free(disk->discard);
    g_free(disk);
}

void vireo_net_def_free(struct vireo_net_def *net)
{
    if (!net)
        return;
    g_free(net->source);
    g_free(net->bridge);
    g_free(net->target_dev);
    g_free(net->alias);
    g_free(net);
}

void vireo_chardev_def_free(struct vireo_chardev_def *chr)
{
    if (!chr)
        return;
    g_free(chr->path);
    g_free(chr->alias);
    g_free(chr);
}

struct vireo_domain_def *vireo_domain_def_new(void)
{
    struct vireo_domain_def *def = g_new0(struct vireo_domain_def, 1);

    def->disks = g_ptr_array_new_with_free_func((GDestroyNotify)vireo_disk_def_free);
    def->nets = g_ptr_array_new_with_free_func((GDestroyNotify)vireo_net_def_free);
    def->serials = g_ptr_array_new_with_free_func((GDestroyNotify)vireo_chardev_def_free);
    def->consoles = g_ptr_array_new_with_free_func((GDestroyNotify)vireo_chardev_def_free);
    def->boot_devs = g_ptr_array_new_with_free_func(g_free);
    def->features_off = g_ptr_array_new_with_free_func(g_free);
    def->controllers_xml = g_ptr_array_new_with_free_func(g_free);
    def->vcpus = 1;
    def->max_vcpus = 1;
    def->acpi = true;
    def->apic = true;
    def->on_poweroff = VIREO_ACTION_DESTROY;
    def->on_reboot = VIREO_ACTION_RESTART;
    def->on_crash = VIREO_ACTION_DESTROY;
    def->id = -1;
    return def;
}

void vireo_domain_def_free(struct vireo_domain_def *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->title);
    g_free(def->description);
    g_free(def->metadata_xml);
    g_free(def->os_type);
    g_free(def->arch);
    g_free(def->machine);
    g_free(def->kernel);
    g_free(def->initrd);
    g_free(def->cmdline);
    g_free(def->loader);
    g_ptr_array_unref(def->disks);
    g_ptr_array_unref(def->nets);
    g_ptr_array_unref(def->serials);
    g_ptr_array_unref(def->consoles);
    g_free(def->rng_backend);
    g_free(def->rng_alias);
    g_free(def->vsock_alias);
    g_free(def->loader_type);
    g_free(def->loader_readonly);
    g_ptr_array_unref(def->boot_devs);
    g_ptr_array_unref(def->features_off);
    g_free(def->clock_offset);
    g_free(def->clock_xml);
    g_free(def->emulator);
    g_ptr_array_unref(def->controllers_xml);
    g_free(def->resource_xml);
    g_free(def->cpu_xml);
    g_free(def->pm_xml);
    g_free(def->on_lockfailure);
    g_free(def->seclabel_xml);
    g_free(def);
}

static GPtrArray *copy_strv(GPtrArray *from)
{
    GPtrArray *to = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < from->len; i++)
        g_ptr_array_add(to, g_strdup(from->pdata[i]));
    return to;
}

static struct vireo_chardev_def *copy_chardev(const struct vireo_chardev_def *from)
{
    struct vireo_chardev_def *to = g_memdup2(from, sizeof(*from));

    to->path = g_strdup(from->path);
    to->alias = g_strdup(from->alias);
    return to;
}

struct vireo_domain_def *vireo_domain_def_copy(const struct vireo_domain_def *from)
{
    struct vireo_domain_def *def = g_memdup2(from, sizeof(*from));

    def->name = g_strdup(from->name);
    def->title = g_strdup(from->title);
    def->description = g_strdup(from->description);
    def->metadata_xml = g_strdup(from->metadata_xml);
    def->os_type = g_strdup(from->os_type);
    def->arch = g_strdup(from->arch);
    def->machine = g_strdup(from->machine);
    def->kernel = g_strdup(from->kernel);
    def->initrd = g_strdup(from->initrd);
    def->cmdline = g_strdup(from->cmdline);
    def->loader = g_strdup(from->loader);
    def->rng_backend = g_strdup(from->rng_backend);
    def->rng_alias = g_strdup(from->rng_alias);
    def->vsock_alias = g_strdup(from->vsock_alias);
    def->loader_type = g_strdup(from->loader_type);
    def->loader_readonly = g_strdup(from->loader_readonly);
    def->clock_offset = g_strdup(from->clock_offset);
    def->clock_xml = g_strdup(from->clock_xml);
    def->emulator = g_strdup(from->emulator);
    def->resource_xml = g_strdup(from->resource_xml);
    def->cpu_xml = g_strdup(from->cpu_xml);
    def->pm_xml = g_strdup(from->pm_xml);
    def->on_lockfailure = g_strdup(from->on_lockfailure);
    def->seclabel_xml = g_strdup(from->seclabel_xml);
    def->boot_devs = copy_strv(from->boot_devs);
    def->features_off = copy_strv(from->features_off);
    def->controllers_xml = copy_strv(from->controllers_xml);

    def->disks = g_ptr_array_new_with_free_func((GDestroyNotify)vireo_disk_def_free);
    for (guint i = 0; i < from->disks->len; i++) {
        const struct vireo_disk_def *f = from->disks->pdata[i];
        struct vireo_disk_def *d = g_memdup2(f, sizeof(*f));

        d->source = g_strdup(f->source);
        d->target = g_strdup(f->target);
        d->serial = g_strdup(f->serial);
        d->alias = g_strdup(f->alias);
        d->cache = g_strdup(f->cache);
        d->io = g_strdup(f->io);
        d->discard = g_strdup(f->discard);
        g_ptr_array_add(def->disks, d);
    }
    def->nets = g_ptr_array_new_with_free_func((GDestroyNotify)vireo_net_def_free);
    for (guint i = 0; i < from->nets->len; i++) {
        const struct vireo_net_def *f = from->nets->pdata[i];
        struct vireo_net_def *n = g_memdup2(f, sizeof(*f));

        n->source = g_strdup(f->source);
        n->bridge = g_strdup(f->bridge);
        n->target_dev = g_strdup(f->target_dev);
        n->alias = g_strdup(f->alias);
        g_ptr_array_add(def->nets, n);
    }
    def->serials = g_ptr_array_new_with_free_func((GDestroyNotify)vireo_chardev_def_free);
    for (guint i = 0; i < from->serials->len; i++)
        g_ptr_array_add(def->serials, copy_chardev(from->serials->pdata[i]));
    def->consoles = g_ptr_array_new_with_free_func((GDestroyNotify)vireo_chardev_def_free);
    for (guint i = 0; i < from->consoles->len; i++)
        g_ptr_array_add(def->consoles, copy_chardev(from->consoles->pdata[i]));
    return def;
}

void vireo_uuid_generate(uint8_t uuid[16])
{
    g_autofree char *str = g_uuid_string_random();

    if (!vireo_uuid_parse(str, uuid))
        g_error("g_uuid_string_random() gave '%s'", str);
}

bool vireo_uuid_parse(const char *str, uint8_t uuid[16])
{
    const char *p = str;
    uint8_t out[16];

    if (!str)
        return false;
    while (g_ascii_isspace(*p))
        p++;
    /* As libvirt: 32 hex digits, with dashes allowed between the bytes. */
    for (int i = 0; i < 16; i++) {
        int hi, lo;

        while (i > 0 && *p == '-')
            p++;
        hi = g_ascii_xdigit_value(p[0]);
        lo = hi < 0 ? -1 : g_ascii_xdigit_value(p[1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
        p += 2;
    }
    while (g_ascii_isspace(*p))
        p++;
    if (*p)
        return false;
    memcpy(uuid, out, 16);
    return true;
}

void vireo_uuid_format(const uint8_t uuid[16], char out[37])
{
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8],
             uuid[9], uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
}

void vireo_mac_generate(uint8_t mac[6])
{
    guint32 r = g_random_int();

    /* QEMU/KVM's locally administered prefix, as libvirt's qemu driver. */
    mac[0] = 0x52;
    mac[1] = 0x54;
    mac[2] = 0x00;
    mac[3] = (uint8_t)(r >> 16);
    mac[4] = (uint8_t)(r >> 8);
    mac[5] = (uint8_t)r;
}

bool vireo_mac_parse(const char *str, uint8_t mac[6])
{
    const char *p = str;
    uint8_t out[6];

    if (!str)
        return false;
    /* libvirt accepts one or two hex digits per byte, ':' or '-' between. */
    for (int i = 0; i < 6; i++) {
        int v = g_ascii_xdigit_value(*p);

        if (v < 0)
            return false;
        p++;
        if (g_ascii_xdigit_value(*p) >= 0) {
            v = v << 4 | g_ascii_xdigit_value(*p);
            p++;
        }
        out[i] = (uint8_t)v;
        if (i < 5) {
            if (*p != ':' && *p != '-')
                return false;
            p++;
        }
    }
    if (*p)
        return false;
    memcpy(mac, out, 6);
    return true;
}

void vireo_mac_format(const uint8_t mac[6], char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
             mac[5]);
}

/* Bytes per unit, following libvirt's virScaleInteger(): "b"/"bytes" are 1,
 * a bare letter or letter + "iB" a power of 1024, letter + "B" of 1000. */
static bool unit_scale(const char *unit, uint64_t *scale)
{
    static const char letters[] = "kmgtpe";
    const char *pos;
    uint64_t base;
    int power;

    if (!unit || !*unit) {
        *scale = 1024;
        return true;
    }
    if (!g_ascii_strcasecmp(unit, "b") || !g_ascii_strcasecmp(unit, "bytes")) {
        *scale = 1;
        return true;
    }
    pos = strchr(letters, g_ascii_tolower(unit[0]));
    if (!pos || !unit[0])
        return false;
    power = (int)(pos - letters) + 1;
    if (!unit[1] || !g_ascii_strcasecmp(unit + 1, "iB"))
        base = 1024;
    else if (!g_ascii_strcasecmp(unit + 1, "B"))
        base = 1000;
    else
        return false;
    *scale = 1;
    while (power--)
        *scale *= base;
    return true;
}

int vireo_memory_parse_kib(const char *value, const char *unit, uint64_t *kib, GError **error)
{
    uint64_t v, scale;
    bool overflow;

    if (!unit_scale(unit, &scale)) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR, _("unknown memory unit '%s'"), unit);
        return -1;
    }
    if (!vireo_parse_u64(value, 10, &v, &overflow)) {
        if (overflow)
            g_set_error(error, VIREO_XML_ERROR, VIR_ERR_OVERFLOW,
                        _("memory size '%s' is too large"), value ? value : "");
        else
            g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR, _("invalid memory size '%s'"),
                        value ? value : "");
        return -1;
    }
    /* libvirt's bound: LLONG_MAX bytes. */
    if (v > (uint64_t)LLONG_MAX / scale) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_OVERFLOW, _("memory size '%s %s' is too large"),
                    value, unit ? unit : "KiB");
        return -1;
    }
    *kib = (v * scale + 1023) / 1024;
    return 0;
}

bool vireo_domain_name_valid(const char *name)
{
    if (!name || !*name || strlen(name) > 200)
        return false;
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        return false;
    if (!g_utf8_validate(name, -1, NULL))
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p == '/' || *p < 0x20 || *p == 0x7f)
            return false;
    }
    return true;
}
