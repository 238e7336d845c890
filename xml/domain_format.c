/* struct vireo_domain_def -> domain XML as libvirt shows it: two-space
 * indentation, single-quoted attributes, libvirt's element order. */
#include "domain_def.h"
#include "domain_internal.h"
#include "xml_util.h"

#include <string.h>

struct format_ctx {
    GString *buf;
    bool inactive;
};

static const char *action_name(enum vireo_lifecycle_action action)
{
    switch (action) {
    case VIREO_ACTION_RESTART:
        return "restart";
    case VIREO_ACTION_PRESERVE:
        return "preserve";
    case VIREO_ACTION_DESTROY:
    default:
        return "destroy";
    }
}

/* Adds ` name='value'` with the value escaped, when value is not NULL. */
static void add_attr(GString *buf, const char *name, const char *value)
{
    if (!value)
        return;
    g_string_append_printf(buf, " %s='", name);
    vireo_buf_escape(buf, value);
    g_string_append_c(buf, '\'');
}

/* <boot order>, <alias> and <address>, as libvirt's virDomainDeviceInfoFormat(). */
static void format_device_info(struct format_ctx *c, int level, unsigned int boot_order,
                               const char *alias, const struct vireo_pci_address *addr)
{
    if (boot_order)
        vireo_buf_add(c->buf, level, "<boot order='%u'/>\n", boot_order);
    /* Aliases we assigned are live information; user aliases are configuration. */
    if (alias && (!c->inactive || g_str_has_prefix(alias, "ua-"))) {
        vireo_buf_add(c->buf, level, "<alias");
        add_attr(c->buf, "name", alias);
        g_string_append(c->buf, "/>\n");
    }
    if (addr && addr->set)
        vireo_buf_add(c->buf, level,
                      "<address type='pci' domain='0x%04x' bus='0x%02x' slot='0x%02x' "
                      "function='0x%x'/>\n",
                      addr->domain, addr->bus, addr->slot, addr->function);
}

static void format_os(struct format_ctx *c, const struct vireo_domain_def *def)
{
    GString *buf = c->buf;

    vireo_buf_add(buf, 1, "<os>\n");
    vireo_buf_add(buf, 2, "<type");
    add_attr(buf, "arch", def->arch);
    add_attr(buf, "machine", def->machine);
    g_string_append(buf, ">");
    vireo_buf_escape(buf, def->os_type ? def->os_type : "hvm");
    g_string_append(buf, "</type>\n");
    if (def->loader) {
        vireo_buf_add(buf, 2, "<loader");
        add_attr(buf, "readonly", def->loader_readonly);
        add_attr(buf, "type", def->loader_type);
        g_string_append(buf, ">");
        vireo_buf_escape(buf, def->loader);
        g_string_append(buf, "</loader>\n");
    }
    vireo_buf_text_element(buf, 2, "kernel", def->kernel);
    vireo_buf_text_element(buf, 2, "initrd", def->initrd);
    vireo_buf_text_element(buf, 2, "cmdline", def->cmdline);
    for (guint i = 0; i < def->boot_devs->len; i++) {
        vireo_buf_add(buf, 2, "<boot");
        add_attr(buf, "dev", def->boot_devs->pdata[i]);
        g_string_append(buf, "/>\n");
    }
    vireo_buf_add(buf, 1, "</os>\n");
}

static void format_features(struct format_ctx *c, const struct vireo_domain_def *def)
{
    vireo_buf_add(c->buf, 1, "<features>\n");
    if (def->acpi)
        vireo_buf_add(c->buf, 2, "<acpi/>\n");
    if (def->apic)
        vireo_buf_add(c->buf, 2, "<apic/>\n");
    if (def->pae)
        vireo_buf_add(c->buf, 2, "<pae/>\n");
    for (guint i = 0; i < def->features_off->len; i++)
        vireo_buf_add(c->buf, 2, "<%s state='off'/>\n", (const char *)def->features_off->pdata[i]);
    vireo_buf_add(c->buf, 1, "</features>\n");
}

static void format_disk(struct format_ctx *c, const struct vireo_disk_def *disk)
{
    GString *buf = c->buf;

    vireo_buf_add(buf, 2, "<disk type='%s' device='disk'>\n", disk->is_block ? "block" : "file");
    vireo_buf_add(buf, 3, "<driver name='qemu' type='%s'",
                  disk->format == VIREO_DISK_QCOW2 ? "qcow2" : "raw");
    add_attr(buf, "cache", disk->cache);
    add_attr(buf, "io", disk->io);
    add_attr(buf, "discard", disk->discard);
    g_string_append(buf, "/>\n");
    vireo_buf_add(buf, 3, "<source");
    add_attr(buf, disk->is_block ? "dev" : "file", disk->source);
    g_string_append(buf, "/>\n");
    vireo_buf_add(buf, 3, "<target");
    add_attr(buf, "dev", disk->target);
    g_string_append(buf, " bus='virtio'/>\n");
    if (disk->readonly)
        vireo_buf_add(buf, 3, "<readonly/>\n");
    vireo_buf_text_element(buf, 3, "serial", disk->serial);
    format_device_info(c, 3, disk->boot_order, disk->alias, &disk->addr);
    vireo_buf_add(buf, 2, "</disk>\n");
}

static void format_net(struct format_ctx *c, const struct vireo_net_def *net)
{
    static const char *const types[] = {
        [VIREO_NET_ETHERNET] = "ethernet",
        [VIREO_NET_BRIDGE] = "bridge",
        [VIREO_NET_NETWORK] = "network",
        [VIREO_NET_USER] = "user",
    };
    GString *buf = c->buf;
    char mac[18];

    vireo_mac_format(net->mac, mac);
    vireo_buf_add(buf, 2, "<interface type='%s'>\n", types[net->type]);
    vireo_buf_add(buf, 3, "<mac address='%s'/>\n", mac);
    if (net->source && (net->type == VIREO_NET_BRIDGE || net->type == VIREO_NET_NETWORK)) {
        vireo_buf_add(buf, 3, "<source");
        add_attr(buf, net->type == VIREO_NET_BRIDGE ? "bridge" : "network", net->source);
        if (net->type == VIREO_NET_NETWORK && !c->inactive)
            add_attr(buf, "bridge", net->bridge);
        g_string_append(buf, "/>\n");
    }
    if (net->target_dev) {
        vireo_buf_add(buf, 3, "<target");
        add_attr(buf, "dev", net->target_dev);
        g_string_append(buf, "/>\n");
    }
    vireo_buf_add(buf, 3, "<model type='virtio'/>\n");
    if (net->queues)
        vireo_buf_add(buf, 3, "<driver queues='%u'/>\n", net->queues);
    if (net->type == VIREO_NET_USER)
        vireo_buf_add(buf, 3, "<backend type='passt'/>\n");
    if (net->mtu)
        vireo_buf_add(buf, 3, "<mtu size='%u'/>\n", net->mtu);
    format_device_info(c, 3, net->boot_order, net->alias, &net->addr);
    vireo_buf_add(buf, 2, "</interface>\n");
}

static const char *chardev_type(const struct vireo_chardev_def *chr)
{
    switch (chr->kind) {
    case VIREO_CHARDEV_FILE:
        return "file";
    case VIREO_CHARDEV_NULL:
        return "null";
    case VIREO_CHARDEV_PTY:
    default:
        return "pty";
    }
}

/* The opening tag and <source> of a serial port or console. */
static void format_chardev_source(struct format_ctx *c, const char *element,
                                  const struct vireo_chardev_def *chr, bool console)
{
    GString *buf = c->buf;
    const char *path = chr->path;

    if (chr->kind == VIREO_CHARDEV_NULL || (chr->kind == VIREO_CHARDEV_PTY && c->inactive))
        path = NULL;
    vireo_buf_add(buf, 2, "<%s type='%s'", element, chardev_type(chr));
    if (console && chr->kind == VIREO_CHARDEV_PTY)
        add_attr(buf, "tty", path);
    g_string_append(buf, ">\n");
    if (path) {
        vireo_buf_add(buf, 3, "<source");
        add_attr(buf, "path", path);
        g_string_append(buf, "/>\n");
    }
}

static void format_chardevs(struct format_ctx *c, const struct vireo_domain_def *def)
{
    GString *buf = c->buf;

    for (guint i = 0; i < def->serials->len; i++) {
        const struct vireo_chardev_def *s = def->serials->pdata[i];

        format_chardev_source(c, "serial", s, false);
        vireo_buf_add(buf, 3, "<target type='isa-serial' port='%u'>\n", i);
        vireo_buf_add(buf, 4, "<model name='isa-serial'/>\n");
        vireo_buf_add(buf, 3, "</target>\n");
        format_device_info(c, 3, 0, s->alias, NULL);
        vireo_buf_add(buf, 2, "</serial>\n");
    }
    for (guint i = 0; i < def->consoles->len; i++) {
        const struct vireo_chardev_def *con = def->consoles->pdata[i];

        format_chardev_source(c, "console", con, true);
        vireo_buf_add(buf, 3, "<target type='%s' port='%u'/>\n", con->virtio ? "virtio" : "serial",
                      con->virtio ? i : 0);
        format_device_info(c, 3, 0, con->alias, con->virtio ? &con->addr : NULL);
        vireo_buf_add(buf, 2, "</console>\n");
    }
}

static void format_rng_vsock(struct format_ctx *c, const struct vireo_domain_def *def)
{
    GString *buf = c->buf;

    if (def->rng) {
        vireo_buf_add(buf, 2, "<rng model='virtio'>\n");
        vireo_buf_add(buf, 3, "<backend model='random'>");
        vireo_buf_escape(buf, def->rng_backend ? def->rng_backend : "/dev/urandom");
        g_string_append(buf, "</backend>\n");
        format_device_info(c, 3, 0, def->rng_alias, &def->rng_addr);
        vireo_buf_add(buf, 2, "</rng>\n");
    }
    if (def->vsock) {
        vireo_buf_add(buf, 2, "<vsock model='virtio'>\n");
        if (def->vsock_auto_cid && (c->inactive || !def->vsock_cid))
            vireo_buf_add(buf, 3, "<cid auto='yes'/>\n");
        else
            vireo_buf_add(buf, 3, "<cid auto='%s' address='%u'/>\n",
                          def->vsock_auto_cid ? "yes" : "no", def->vsock_cid);
        format_device_info(c, 3, 0, def->vsock_alias, &def->vsock_addr);
        vireo_buf_add(buf, 2, "</vsock>\n");
    }
}

static void format_devices(struct format_ctx *c, const struct vireo_domain_def *def)
{
    GString *buf = c->buf;

    vireo_buf_add(buf, 1, "<devices>\n");
    vireo_buf_text_element(buf, 2, "emulator", def->emulator);
    for (guint i = 0; i < def->disks->len; i++)
        format_disk(c, def->disks->pdata[i]);
    for (guint i = 0; i < def->controllers_xml->len; i++)
        vireo_buf_add_verbatim(buf, 2, def->controllers_xml->pdata[i]);
    for (guint i = 0; i < def->nets->len; i++)
        format_net(c, def->nets->pdata[i]);
    format_chardevs(c, def);
    if (def->input_ps2_mouse)
        vireo_buf_add(buf, 2, "<input type='mouse' bus='ps2'/>\n");
    if (def->input_ps2_keyboard)
        vireo_buf_add(buf, 2, "<input type='keyboard' bus='ps2'/>\n");
    if (def->video_none) {
        vireo_buf_add(buf, 2, "<video>\n");
        vireo_buf_add(buf, 3, "<model type='none'/>\n");
        vireo_buf_add(buf, 2, "</video>\n");
    }
    /* Always shown, so that clients do not assume a balloon is there. */
    vireo_buf_add(buf, 2, "<memballoon model='none'/>\n");
    format_rng_vsock(c, def);
    vireo_buf_add(buf, 1, "</devices>\n");
}

char *vireo_domain_def_format(const struct vireo_domain_def *def, unsigned int flags)
{
    struct format_ctx c = {
        .buf = g_string_new(NULL),
        .inactive = flags & VIREO_DOMAIN_DEF_FORMAT_INACTIVE,
    };
    GString *buf = c.buf;
    char uuid[37];

    g_string_append(buf, "<domain type='kvm'");
    if (!c.inactive && def->id >= 0)
        g_string_append_printf(buf, " id='%d'", def->id);
    g_string_append(buf, ">\n");
    vireo_buf_text_element(buf, 1, "name", def->name);
    vireo_uuid_format(def->uuid, uuid);
    vireo_buf_add(buf, 1, "<uuid>%s</uuid>\n", uuid);
    vireo_buf_text_element(buf, 1, "title", def->title);
    vireo_buf_text_element(buf, 1, "description", def->description);
    if (def->metadata_xml) {
        vireo_buf_add(buf, 1, "<metadata>\n");
        vireo_buf_add_verbatim(buf, 2, def->metadata_xml);
        vireo_buf_add(buf, 1, "</metadata>\n");
    }
    vireo_buf_add(buf, 1, "<memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>\n", def->memory_kib);
    vireo_buf_add(buf, 1, "<currentMemory unit='KiB'>%" G_GUINT64_FORMAT "</currentMemory>\n",
                  def->current_memory_kib);
    vireo_buf_add(buf, 1, "<vcpu placement='static'");
    if (def->vcpus != def->max_vcpus)
        g_string_append_printf(buf, " current='%u'", def->vcpus);
    g_string_append_printf(buf, ">%u</vcpu>\n", def->max_vcpus);
    vireo_buf_add_verbatim(buf, 1, def->resource_xml);
    format_os(&c, def);
    format_features(&c, def);
    vireo_buf_add_verbatim(buf, 1, def->cpu_xml);
    if (def->clock_xml) {
        vireo_buf_add(buf, 1, "<clock");
        add_attr(buf, "offset", def->clock_offset ? def->clock_offset : "utc");
        g_string_append(buf, ">\n");
        vireo_buf_add_verbatim(buf, 2, def->clock_xml);
        vireo_buf_add(buf, 1, "</clock>\n");
    } else {
        vireo_buf_add(buf, 1, "<clock");
        add_attr(buf, "offset", def->clock_offset ? def->clock_offset : "utc");
        g_string_append(buf, "/>\n");
    }
    vireo_buf_add(buf, 1, "<on_poweroff>%s</on_poweroff>\n", action_name(def->on_poweroff));
    vireo_buf_add(buf, 1, "<on_reboot>%s</on_reboot>\n", action_name(def->on_reboot));
    vireo_buf_add(buf, 1, "<on_crash>%s</on_crash>\n", action_name(def->on_crash));
    vireo_buf_text_element(buf, 1, "on_lockfailure", def->on_lockfailure);
    vireo_buf_add_verbatim(buf, 1, def->pm_xml);
    format_devices(&c, def);
    vireo_buf_add_verbatim(buf, 1, def->seclabel_xml);
    g_string_append(buf, "</domain>\n");
    return g_string_free(buf, FALSE);
}
