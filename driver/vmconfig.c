/* Domain definition -> VmConfig JSON, and the live facts of vm.info back
 * into the live definition. */
#include <config.h>

#include "vmconfig.h"

#include <json-glib/json-glib.h>
#include <libvirt/virterror.h>

#include "error.h"

static void add_string(JsonBuilder *b, const char *name, const char *value)
{
    if (!value)
        return;
    json_builder_set_member_name(b, name);
    json_builder_add_string_value(b, value);
}

/* {"mode": "Pty"|"File"|"Null"|"Off", "file": ...} */
static void add_chardev(JsonBuilder *b, const char *name, const struct vireo_chardev_def *chr)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "mode");
    if (!chr) {
        json_builder_add_string_value(b, "Off");
    } else {
        switch (chr->kind) {
        case VIREO_CHARDEV_PTY:
            json_builder_add_string_value(b, "Pty");
            break;
        case VIREO_CHARDEV_FILE:
            json_builder_add_string_value(b, "File");
            add_string(b, "file", chr->path);
            break;
        case VIREO_CHARDEV_NULL:
            json_builder_add_string_value(b, "Null");
            break;
        }
    }
    json_builder_end_object(b);
}

static const struct vireo_chardev_def *virtio_console(const struct vireo_domain_def *def)
{
    for (guint i = 0; i < def->consoles->len; i++) {
        const struct vireo_chardev_def *c = def->consoles->pdata[i];
        if (c->virtio)
            return c;
    }
    return NULL;
}

static void add_disks(JsonBuilder *b, const struct vireo_domain_def *def)
{
    json_builder_set_member_name(b, "disks");
    json_builder_begin_array(b);
    for (guint i = 0; i < def->disks->len; i++) {
        const struct vireo_disk_def *d = def->disks->pdata[i];

        json_builder_begin_object(b);
        add_string(b, "path", d->source);
        json_builder_set_member_name(b, "readonly");
        json_builder_add_boolean_value(b, d->readonly);
        /* cache='none' and 'directsync' bypass the host page cache. */
        if (d->cache && (!g_strcmp0(d->cache, "none") || !g_strcmp0(d->cache, "directsync"))) {
            json_builder_set_member_name(b, "direct");
            json_builder_add_boolean_value(b, TRUE);
        }
        json_builder_set_member_name(b, "image_type");
        json_builder_add_string_value(b, d->format == VIREO_DISK_QCOW2 ? "Qcow2" : "Raw");
        add_string(b, "serial", d->serial);
        add_string(b, "id", d->alias);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

unsigned int vireo_vmconfig_net_fds(const struct vireo_net_def *net)
{
    if (net->type == VIREO_NET_USER)
        return 0; /* the VMM starts passt itself */
    return net->queues ? net->queues : 1;
}

/* One NetConfig per interface; its taps are fds the VMM inherits, numbered
 * from VIREO_VMCONFIG_FIRST_NET_FD in interface order; a type='user'
 * interface has none, the VMM starts passt for it (as the VMM's user). */
static void add_nets(JsonBuilder *b, const struct vireo_domain_def *def)
{
    int fd = VIREO_VMCONFIG_FIRST_NET_FD;

    json_builder_set_member_name(b, "net");
    json_builder_begin_array(b);
    for (guint i = 0; i < def->nets->len; i++) {
        const struct vireo_net_def *n = def->nets->pdata[i];
        unsigned int pairs = vireo_vmconfig_net_fds(n);
        char mac[18];

        json_builder_begin_object(b);
        if (n->type == VIREO_NET_USER) {
            add_string(b, "passt", "on");
            pairs = 1;
        } else {
            json_builder_set_member_name(b, "fds");
            json_builder_begin_array(b);
            for (unsigned int q = 0; q < pairs; q++)
                json_builder_add_int_value(b, fd++);
            json_builder_end_array(b);
        }
        vireo_mac_format(n->mac, mac);
        add_string(b, "mac", mac);
        json_builder_set_member_name(b, "num_queues");
        json_builder_add_int_value(b, 2 * pairs);
        if (n->mtu) {
            json_builder_set_member_name(b, "mtu");
            json_builder_add_int_value(b, n->mtu);
        }
        add_string(b, "id", n->alias);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

char *vireo_vmconfig_build(const struct vireo_domain_def *def, GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = NULL;
    unsigned int max_vcpus = def->max_vcpus > def->vcpus ? def->max_vcpus : def->vcpus;

    for (guint i = 0; i < def->nets->len; i++) {
        const struct vireo_net_def *n = def->nets->pdata[i];

        if (n->type == VIREO_NET_USER && n->queues > 1) {
            g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                        _("unsupported configuration: <interface type='user'><driver "
                          "queues='%u'>: passt serves one queue"),
                        n->queues);
            return NULL;
        }
    }
    if (!def->kernel && !def->loader) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                    _("unsupported configuration: <os> needs a <kernel> or a <loader> to boot"));
        return NULL;
    }

    json_builder_begin_object(b);

    json_builder_set_member_name(b, "cpus");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "boot_vcpus");
    json_builder_add_int_value(b, def->vcpus ? def->vcpus : 1);
    json_builder_set_member_name(b, "max_vcpus");
    json_builder_add_int_value(b, max_vcpus ? max_vcpus : 1);
    json_builder_end_object(b);

    json_builder_set_member_name(b, "memory");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "size");
    json_builder_add_int_value(b, (gint64)(def->memory_kib * 1024));
    json_builder_end_object(b);

    json_builder_set_member_name(b, "payload");
    json_builder_begin_object(b);
    add_string(b, "firmware", def->loader);
    add_string(b, "kernel", def->kernel);
    add_string(b, "initramfs", def->initrd);
    add_string(b, "cmdline", def->cmdline);
    json_builder_end_object(b);

    /* Both always given: Cloud Hypervisor's default console is the VMM's
     * own terminal, which a daemon has not got. */
    add_chardev(b, "serial", def->serials->len ? def->serials->pdata[0] : NULL);
    add_chardev(b, "console", virtio_console(def));

    if (def->disks->len)
        add_disks(b, def);
    if (def->nets->len)
        add_nets(b, def);
    if (def->rng) {
        json_builder_set_member_name(b, "rng");
        json_builder_begin_object(b);
        add_string(b, "src", def->rng_backend ? def->rng_backend : "/dev/urandom");
        json_builder_end_object(b);
    }
    if (def->vsock) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                    _("unsupported configuration: <vsock>: Vireo cannot start domains with a "
                      "vsock device yet"));
        return NULL;
    }
    json_builder_end_object(b);

    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

static JsonObject *parse_object(JsonParser *parser, const char *json)
{
    JsonNode *root;

    if (!json || !json_parser_load_from_data(parser, json, -1, NULL))
        return NULL;
    root = json_parser_get_root(parser);
    return root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
}

static const char *string_member(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(n);
}

/* config.<name>.file when its mode is Pty. */
static const char *pty_of(JsonObject *config, const char *name)
{
    JsonNode *n = json_object_get_member(config, name);
    JsonObject *o;

    if (!n || !JSON_NODE_HOLDS_OBJECT(n))
        return NULL;
    o = json_node_get_object(n);
    if (g_strcmp0(string_member(o, "mode"), "Pty") != 0)
        return NULL;
    return string_member(o, "file");
}

static int set_pty(struct vireo_chardev_def *chr, const char *path, const char *what,
                   GError **error)
{
    if (chr->kind != VIREO_CHARDEV_PTY)
        return 0;
    if (!path || !*path) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INTERNAL_ERROR,
                    _("internal error: the VMM did not report the pty of the %s"), what);
        return -1;
    }
    g_free(chr->path);
    chr->path = g_strdup(path);
    return 0;
}

int vireo_vmconfig_apply_info(struct vireo_domain_def *live, const char *info_json, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *root = parse_object(parser, info_json);
    JsonObject *config;
    JsonNode *n;
    const char *serial, *console;

    if (!root || !(n = json_object_get_member(root, "config")) || !JSON_NODE_HOLDS_OBJECT(n)) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INTERNAL_ERROR,
                    _("internal error: vm.info answered without a VM configuration"));
        return -1;
    }
    config = json_node_get_object(n);
    serial = pty_of(config, "serial");
    console = pty_of(config, "console");
    for (guint i = 0; i < live->serials->len; i++)
        if (set_pty(live->serials->pdata[i], serial, "serial port", error) < 0)
            return -1;
    for (guint i = 0; i < live->consoles->len; i++) {
        struct vireo_chardev_def *c = live->consoles->pdata[i];
        if (set_pty(c, c->virtio ? console : serial, c->virtio ? "virtio console" : "serial port",
                    error) < 0)
            return -1;
    }
    return 0;
}

char *vireo_vmconfig_info_state(const char *info_json)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *root = parse_object(parser, info_json);

    if (!root)
        return NULL;
    return g_strdup(string_member(root, "state"));
}
