/* What a parsed definition gets before anyone uses it: the checks that need
 * the whole domain (sizes, boot sources, conflicts between devices) and the
 * defaults libvirt clients expect to see (aliases, PCI addresses). */
#include "domain_def.h"
#include "domain_internal.h"
#include "i18n.h"

#include <libvirt/virterror.h>
#include <string.h>

#define UNSUPPORTED(error, ...)                                                                    \
    g_set_error(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED, __VA_ARGS__)
#define XML_ERROR(error, ...) g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR, __VA_ARGS__)

static int check_sizes_and_boot(struct vireo_domain_def *def, GError **error)
{
    if (def->memory_kib < VIREO_MIN_MEMORY_KIB) {
        UNSUPPORTED(error,
                    _("<memory>: %" G_GUINT64_FORMAT " KiB is below Vireo's minimum of %u KiB"),
                    def->memory_kib, VIREO_MIN_MEMORY_KIB);
        return -1;
    }
    if (def->current_memory_kib < def->memory_kib) {
        UNSUPPORTED(error,
                    _("<currentMemory>: %" G_GUINT64_FORMAT " KiB is less than <memory>, which "
                      "needs a memory balloon; Vireo has none"),
                    def->current_memory_kib);
        return -1;
    }
    if (def->kernel && def->loader) {
        UNSUPPORTED(error, _("<os>: Vireo boots either a <kernel> or a <loader>, not both"));
        return -1;
    }
    if (!def->kernel && (def->initrd || def->cmdline)) {
        UNSUPPORTED(error, _("<os>: <initrd> and <cmdline> need a <kernel>"));
        return -1;
    }
    return 0;
}

static int check_boot_order(struct vireo_domain_def *def, GError **error)
{
    g_autoptr(GHashTable) orders = g_hash_table_new(g_direct_hash, g_direct_equal);
    guint n = 0;

    for (guint i = 0; i < def->disks->len + def->nets->len; i++) {
        unsigned int order =
            i < def->disks->len
                ? ((struct vireo_disk_def *)def->disks->pdata[i])->boot_order
                : ((struct vireo_net_def *)def->nets->pdata[i - def->disks->len])->boot_order;

        if (!order)
            continue;
        n++;
        if (!g_hash_table_add(orders, GUINT_TO_POINTER(order))) {
            XML_ERROR(error, _("<boot order='%u'> is used by more than one device"), order);
            return -1;
        }
    }
    if (n && def->boot_devs->len) {
        XML_ERROR(error, _("per-device <boot order> cannot be used together with <os><boot>"));
        return -1;
    }
    return 0;
}

/* Moves the serial-type console first and ties it to the serial port, as
 * libvirt does: it is the same device seen twice. */
static int fix_consoles(struct vireo_domain_def *def, GError **error)
{
    struct vireo_chardev_def *serial_console = NULL, *virtio_console = NULL;

    if (def->serials->len > 1) {
        UNSUPPORTED(error, _("more than one <serial>: Vireo has one serial port"));
        return -1;
    }
    for (guint i = 0; i < def->consoles->len; i++) {
        struct vireo_chardev_def *c = def->consoles->pdata[i];
        struct vireo_chardev_def **slot = c->virtio ? &virtio_console : &serial_console;

        if (*slot) {
            if (c->virtio)
                UNSUPPORTED(error, _("more than one <console><target type='virtio'>: Vireo has "
                                     "one virtio console"));
            else
                UNSUPPORTED(error, _("more than one <console><target type='serial'>: Vireo has "
                                     "one serial port"));
            return -1;
        }
        *slot = c;
    }
    if (serial_console && def->consoles->pdata[0] != serial_console) {
        def->consoles->pdata[1] = def->consoles->pdata[0];
        def->consoles->pdata[0] = serial_console;
    }
    if (!serial_console)
        return 0;
    if (def->serials->len == 0) {
        struct vireo_chardev_def *s = g_new0(struct vireo_chardev_def, 1);

        s->kind = serial_console->kind;
        s->path = g_strdup(serial_console->path);
        s->alias = g_strdup(serial_console->alias);
        g_ptr_array_add(def->serials, s);
    } else {
        struct vireo_chardev_def *s = def->serials->pdata[0];

        serial_console->kind = s->kind;
        g_free(serial_console->path);
        serial_console->path = g_strdup(s->path);
    }
    return 0;
}

static int check_targets(struct vireo_domain_def *def, GError **error)
{
    for (guint i = 0; i < def->disks->len; i++) {
        const struct vireo_disk_def *a = def->disks->pdata[i];

        for (guint j = i + 1; j < def->disks->len; j++) {
            const struct vireo_disk_def *b = def->disks->pdata[j];

            if (!strcmp(a->target, b->target)) {
                XML_ERROR(error, _("<target dev='%s'> is used by more than one <disk>"), a->target);
                return -1;
            }
        }
    }
    for (guint i = 0; i < def->nets->len; i++) {
        const struct vireo_net_def *a = def->nets->pdata[i];

        for (guint j = i + 1; a->target_dev && j < def->nets->len; j++) {
            const struct vireo_net_def *b = def->nets->pdata[j];

            if (b->target_dev && !strcmp(a->target_dev, b->target_dev)) {
                XML_ERROR(error, _("<target dev='%s'> is used by more than one <interface>"),
                          a->target_dev);
                return -1;
            }
        }
    }
    return 0;
}

/* Every alias-carrying device, in the order addresses and aliases are given. */
struct device_ref {
    const char *kind; /* element name, for messages */
    char **alias;
    struct vireo_pci_address *addr; /* NULL: not on PCI */
    const char *prefix;             /* assigned alias prefix */
    unsigned int preferred;         /* assigned alias index to try first */
};

static unsigned int disk_index(const char *target)
{
    unsigned int idx = 0;
    const char *p = target + (g_str_has_prefix(target, "vd") ? 2 : 0);

    /* vda -> 0, vdz -> 25, vdaa -> 26, as libvirt's virDiskNameToIndex(). */
    for (int i = 0; *p >= 'a' && *p <= 'z'; p++, i++) {
        if (idx > 100000)
            return 0;
        idx = (idx + (i ? 1 : 0)) * 26 + (unsigned int)(*p - 'a');
    }
    return idx;
}

static GArray *collect_devices(struct vireo_domain_def *def)
{
    GArray *refs = g_array_new(FALSE, TRUE, sizeof(struct device_ref));
    struct device_ref r;

    for (guint i = 0; i < def->disks->len; i++) {
        struct vireo_disk_def *d = def->disks->pdata[i];

        r = (struct device_ref){"disk", &d->alias, &d->addr, "virtio-disk", disk_index(d->target)};
        g_array_append_val(refs, r);
    }
    for (guint i = 0; i < def->nets->len; i++) {
        struct vireo_net_def *n = def->nets->pdata[i];

        r = (struct device_ref){"interface", &n->alias, &n->addr, "net", i};
        g_array_append_val(refs, r);
    }
    if (def->rng) {
        r = (struct device_ref){"rng", &def->rng_alias, &def->rng_addr, "rng", 0};
        g_array_append_val(refs, r);
    }
    if (def->vsock) {
        r = (struct device_ref){"vsock", &def->vsock_alias, &def->vsock_addr, "vsock", 0};
        g_array_append_val(refs, r);
    }
    for (guint i = 0; i < def->consoles->len; i++) {
        struct vireo_chardev_def *c = def->consoles->pdata[i];

        if (c->virtio) {
            r = (struct device_ref){"console", &c->alias, &c->addr, "console", 0};
            g_array_append_val(refs, r);
        }
    }
    for (guint i = 0; i < def->serials->len; i++) {
        struct vireo_chardev_def *s = def->serials->pdata[i];

        r = (struct device_ref){"serial", &s->alias, NULL, "serial", i};
        g_array_append_val(refs, r);
    }
    return refs;
}

static int assign_aliases(struct vireo_domain_def *def, GArray *refs, GError **error)
{
    g_autoptr(GHashTable) taken = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; i < refs->len; i++) {
        struct device_ref *r = &g_array_index(refs, struct device_ref, i);

        if (*r->alias && !g_hash_table_add(taken, *r->alias)) {
            XML_ERROR(error, _("<alias name='%s'> is used by more than one device"), *r->alias);
            return -1;
        }
    }
    for (guint i = 0; i < refs->len; i++) {
        struct device_ref *r = &g_array_index(refs, struct device_ref, i);

        for (unsigned int n = r->preferred; !*r->alias; n++) {
            char *name = g_strdup_printf("%s%u", r->prefix, n);

            if (g_hash_table_contains(taken, name)) {
                g_free(name);
                continue;
            }
            *r->alias = name;
            g_hash_table_add(taken, name);
        }
    }
    /* The serial console is the serial port: same alias. */
    for (guint i = 0; i < def->consoles->len; i++) {
        struct vireo_chardev_def *c = def->consoles->pdata[i];

        if (!c->virtio && def->serials->len) {
            g_free(c->alias);
            c->alias = g_strdup(((struct vireo_chardev_def *)def->serials->pdata[0])->alias);
        }
    }
    return 0;
}

static int assign_pci_addresses(GArray *refs, GError **error)
{
    const struct device_ref *owner[VIREO_MAX_PCI_SLOT + 1] = {NULL};
    unsigned int next = 1;

    for (guint i = 0; i < refs->len; i++) {
        const struct device_ref *r = &g_array_index(refs, struct device_ref, i);

        if (!r->addr || !r->addr->set)
            continue;
        if (owner[r->addr->slot]) {
            XML_ERROR(error,
                      _("PCI address 0000:00:%02x.0 is used by both <%s> '%s' and <%s> '%s'"),
                      r->addr->slot, owner[r->addr->slot]->kind, *owner[r->addr->slot]->alias,
                      r->kind, *r->alias);
            return -1;
        }
        owner[r->addr->slot] = r;
    }
    for (guint i = 0; i < refs->len; i++) {
        const struct device_ref *r = &g_array_index(refs, struct device_ref, i);

        if (!r->addr || r->addr->set)
            continue;
        while (next <= VIREO_MAX_PCI_SLOT && owner[next])
            next++;
        if (next > VIREO_MAX_PCI_SLOT) {
            UNSUPPORTED(error, _("<%s> '%s': no PCI slot left; Vireo has %u slots on bus 0"),
                        r->kind, *r->alias, VIREO_MAX_PCI_SLOT);
            return -1;
        }
        *r->addr = (struct vireo_pci_address){.set = true, .slot = next};
        owner[next] = r;
    }
    return 0;
}

int vireo_domain_def_post_parse(struct vireo_domain_def *def, GError **error)
{
    g_autoptr(GArray) refs = NULL;

    if (!def->arch)
        def->arch = g_strdup("x86_64");
    if (!def->machine)
        def->machine = g_strdup(VIREO_DEFAULT_MACHINE);
    if (!def->clock_offset)
        def->clock_offset = g_strdup("utc");
    if (check_sizes_and_boot(def, error) < 0 || check_boot_order(def, error) < 0 ||
        fix_consoles(def, error) < 0 || check_targets(def, error) < 0)
        return -1;
    refs = collect_devices(def);
    if (assign_aliases(def, refs, error) < 0 || assign_pci_addresses(refs, error) < 0)
        return -1;
    return 0;
}
