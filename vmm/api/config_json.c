/* VmConfig JSON <-> struct vm_config, with Cloud Hypervisor's field names.
 * Each section has one parse function and a table of the CH fields it does
 * not implement; a new section (disks, net, ...) is one more function and
 * one line in `sections[]`, moved out of `top_unsupported[]`. */
#include "config.h"

#include "api/config_json.h"

#include <errno.h>
#include <string.h>

#define CONFIG_JSON_MAX_DISKS 256

/* A Cloud Hypervisor field Vireo does not implement, and the value CH
 * itself would serialize for it (JSON text; NULL: only "unused" values). */
struct unsupported {
    const char *name;
    const char *default_json;
};

static const char *node_type_name(JsonNode *node)
{
    if (JSON_NODE_HOLDS_NULL(node))
        return "null";
    if (JSON_NODE_HOLDS_OBJECT(node))
        return "an object";
    if (JSON_NODE_HOLDS_ARRAY(node))
        return "an array";
    switch (json_node_get_value_type(node)) {
    case G_TYPE_BOOLEAN:
        return "a boolean";
    case G_TYPE_INT64:
        return "an integer";
    case G_TYPE_DOUBLE:
        return "a number";
    case G_TYPE_STRING:
        return "a string";
    default:
        return "a value";
    }
}

static int type_error(const char *path, const char *want, JsonNode *node, char **err)
{
    *err = g_strdup_printf("%s: expected %s, got %s", path, want, node_type_name(node));
    return -EINVAL;
}

/* null, false, 0, "", [] and {}: the values that leave a feature unused. */
static bool node_is_unused(JsonNode *node)
{
    if (JSON_NODE_HOLDS_NULL(node))
        return true;
    if (JSON_NODE_HOLDS_OBJECT(node))
        return json_object_get_size(json_node_get_object(node)) == 0;
    if (JSON_NODE_HOLDS_ARRAY(node))
        return json_array_get_length(json_node_get_array(node)) == 0;
    switch (json_node_get_value_type(node)) {
    case G_TYPE_BOOLEAN:
        return !json_node_get_boolean(node);
    case G_TYPE_INT64:
        return json_node_get_int(node) == 0;
    case G_TYPE_STRING:
        return !*json_node_get_string(node);
    default:
        return false;
    }
}

/* Is `node` CH's default `def` (an object compares member by member), or
 * with no `def`, an unused value? null always is. */
static bool node_is_default(JsonNode *node, JsonNode *def)
{
    if (JSON_NODE_HOLDS_NULL(node))
        return true;
    if (!def)
        return node_is_unused(node);
    if (JSON_NODE_HOLDS_OBJECT(node) && JSON_NODE_HOLDS_OBJECT(def)) {
        JsonObject *o = json_node_get_object(node), *d = json_node_get_object(def);
        g_autoptr(GList) names = json_object_get_members(o);

        for (GList *l = names; l; l = l->next) {
            JsonNode *dm = json_object_get_member(d, l->data);
            if (!node_is_default(json_object_get_member(o, l->data), dm))
                return false;
        }
        return true;
    }
    return json_node_equal(node, def);
}

static int check_unsupported(JsonObject *o, const char *path, const struct unsupported *u, size_t n,
                             char **err)
{
    for (size_t i = 0; i < n; i++) {
        JsonNode *v = json_object_get_member(o, u[i].name);
        g_autoptr(JsonNode) def = NULL;

        if (!v)
            continue;
        if (u[i].default_json)
            def = json_from_string(u[i].default_json, NULL);
        if (!node_is_default(v, def)) {
            *err = path ? g_strdup_printf("%s.%s: not supported by Vireo", path, u[i].name)
                        : g_strdup_printf("%s: not supported by Vireo", u[i].name);
            return -EINVAL;
        }
    }
    return 0;
}

static int get_object(JsonNode *node, const char *path, JsonObject **out, char **err)
{
    if (!JSON_NODE_HOLDS_OBJECT(node))
        return type_error(path, "an object", node, err);
    *out = json_node_get_object(node);
    return 0;
}

/* An unsigned integer member in [min, max]; absent leaves *out alone. */
static int get_uint(JsonObject *o, const char *path, const char *name, bool required, uint64_t min,
                    uint64_t max, uint64_t *out, char **err)
{
    JsonNode *v = json_object_get_member(o, name);
    g_autofree char *where = g_strdup_printf("%s.%s", path, name);
    gint64 n;

    if (!v || (JSON_NODE_HOLDS_NULL(v) && !required)) {
        if (required) {
            *err = g_strdup_printf("%s: missing", where);
            return -EINVAL;
        }
        return 0;
    }
    if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_INT64)
        return type_error(where, "an integer", v, err);
    n = json_node_get_int(v);
    if (n < 0) {
        *err = g_strdup_printf("%s: must not be negative (got %" G_GINT64_FORMAT ")", where, n);
        return -EINVAL;
    }
    if ((uint64_t)n < min || (uint64_t)n > max) {
        *err = g_strdup_printf("%s: %" G_GINT64_FORMAT " is out of range (%" G_GUINT64_FORMAT
                               " to %" G_GUINT64_FORMAT ")",
                               where, n, min, max);
        return -EINVAL;
    }
    *out = (uint64_t)n;
    return 0;
}

/* A string member; null or absent leaves *out alone. */
static int get_string(JsonObject *o, const char *path, const char *name, bool allow_empty,
                      char **out, char **err)
{
    JsonNode *v = json_object_get_member(o, name);
    const char *s;

    if (!v || JSON_NODE_HOLDS_NULL(v))
        return 0;
    if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_STRING) {
        g_autofree char *where = g_strdup_printf("%s.%s", path, name);
        return type_error(where, "a string", v, err);
    }
    s = json_node_get_string(v);
    if (!*s && !allow_empty) {
        *err = g_strdup_printf("%s.%s: must not be empty", path, name);
        return -EINVAL;
    }
    g_free(*out);
    *out = g_strdup(s);
    return 0;
}

static int parse_cpus(JsonNode *node, struct vm_config *cfg, char **err)
{
    static const struct unsupported unsupported[] = {
        {"topology", NULL},
        {"kvm_hyperv", "false"},
        {"max_phys_bits", "46"},
        {"affinity", NULL},
        {"features", NULL},
        {"nested", "true"},
        {"core_scheduling", "\"Vm\""},
    };
    JsonObject *o;
    uint64_t boot, max;

    if (get_object(node, "cpus", &o, err) ||
        get_uint(o, "cpus", "boot_vcpus", true, 1, VM_CONFIG_MAX_VCPUS, &boot, err) ||
        get_uint(o, "cpus", "max_vcpus", true, 1, VM_CONFIG_MAX_VCPUS, &max, err))
        return -EINVAL;
    if (max < boot) {
        *err = g_strdup_printf("cpus.max_vcpus: %" G_GUINT64_FORMAT
                               " is less than boot_vcpus (%" G_GUINT64_FORMAT ")",
                               max, boot);
        return -EINVAL;
    }
    cfg->boot_vcpus = (unsigned int)boot;
    cfg->max_vcpus = (unsigned int)max;
    return check_unsupported(o, "cpus", unsupported, G_N_ELEMENTS(unsupported), err);
}

static int parse_memory(JsonNode *node, struct vm_config *cfg, char **err)
{
    static const struct unsupported unsupported[] = {
        {"hotplug_size", NULL},  {"hotplugged_size", NULL},
        {"mergeable", NULL},     {"hotplug_method", "\"Acpi\""},
        {"shared", NULL},        {"hugepages", NULL},
        {"hugepage_size", NULL}, {"prefault", NULL},
        {"reserve", NULL},       {"thp", "true"},
        {"zones", NULL},
    };
    JsonObject *o;
    uint64_t size;

    if (get_object(node, "memory", &o, err) ||
        get_uint(o, "memory", "size", true, VM_CONFIG_MIN_MEMORY, INT64_MAX, &size, err))
        return -EINVAL;
    if (size & 0xfff) {
        *err =
            g_strdup_printf("memory.size: %" G_GUINT64_FORMAT " is not a multiple of 4096", size);
        return -EINVAL;
    }
    cfg->memory_size = size;
    return check_unsupported(o, "memory", unsupported, G_N_ELEMENTS(unsupported), err);
}

static int parse_payload(JsonNode *node, struct vm_config *cfg, char **err)
{
    static const struct unsupported unsupported[] = {
        {"igvm", NULL},
        {"host_data", NULL},
        {"fw_cfg_config", NULL},
    };
    JsonObject *o;

    if (get_object(node, "payload", &o, err) ||
        get_string(o, "payload", "kernel", false, &cfg->kernel, err) ||
        get_string(o, "payload", "initramfs", false, &cfg->initramfs, err) ||
        get_string(o, "payload", "cmdline", true, &cfg->cmdline, err) ||
        get_string(o, "payload", "firmware", false, &cfg->firmware, err))
        return -EINVAL;
    return check_unsupported(o, "payload", unsupported, G_N_ELEMENTS(unsupported), err);
}

static const struct {
    const char *name;
    enum vm_chardev_mode mode;
} chardev_modes[] = {
    {"Off", VM_CHARDEV_OFF}, {"Null", VM_CHARDEV_NULL}, {"Pty", VM_CHARDEV_PTY},
    {"Tty", VM_CHARDEV_TTY}, {"File", VM_CHARDEV_FILE}, {"Socket", VM_CHARDEV_SOCKET},
};

/* {"mode": "Off|Null|Pty|Tty|File|Socket", "file": .., "socket": ..} */
static int parse_chardev(JsonNode *node, const char *path, bool allow_socket,
                         struct vm_chardev_config *out, char **err)
{
    static const struct unsupported unsupported[] = {
        {"iommu", NULL},         {"id", NULL},     {"pci_segment", NULL},
        {"pci_device_id", NULL}, {"iobase", NULL},
    };
    JsonObject *o;
    g_autofree char *mode = NULL, *file = NULL, *socket = NULL;
    size_t i;

    if (get_object(node, path, &o, err) || get_string(o, path, "mode", false, &mode, err) ||
        get_string(o, path, "file", false, &file, err) ||
        get_string(o, path, "socket", false, &socket, err))
        return -EINVAL;
    if (!mode) {
        *err = g_strdup_printf("%s.mode: missing", path);
        return -EINVAL;
    }
    for (i = 0; i < G_N_ELEMENTS(chardev_modes); i++) {
        if (!strcmp(mode, chardev_modes[i].name))
            break;
    }
    if (i == G_N_ELEMENTS(chardev_modes) ||
        (!allow_socket && chardev_modes[i].mode == VM_CHARDEV_SOCKET)) {
        *err = g_strdup_printf("%s.mode: unknown mode '%s' (expected Off, Null, Pty, Tty, "
                               "File%s)",
                               path, mode, allow_socket ? " or Socket" : "");
        return -EINVAL;
    }
    if (check_unsupported(o, path, unsupported, G_N_ELEMENTS(unsupported), err))
        return -EINVAL;
    g_clear_pointer(&out->path, g_free);
    out->mode = chardev_modes[i].mode;
    /* Like CH, "file" of a Pty is output only (the pty allocated at boot). */
    if (out->mode == VM_CHARDEV_FILE) {
        if (!file) {
            *err = g_strdup_printf("%s.file: missing (mode File needs a path)", path);
            return -EINVAL;
        }
        out->path = g_steal_pointer(&file);
    } else if (out->mode == VM_CHARDEV_SOCKET) {
        if (!socket) {
            *err = g_strdup_printf("%s.socket: missing (mode Socket needs a path)", path);
            return -EINVAL;
        }
        out->path = g_steal_pointer(&socket);
    }
    return 0;
}

/* A boolean member; null or absent leaves *out alone. */
static int get_bool(JsonObject *o, const char *path, const char *name, bool *out, char **err)
{
    JsonNode *v = json_object_get_member(o, name);

    if (!v || JSON_NODE_HOLDS_NULL(v))
        return 0;
    if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_BOOLEAN) {
        g_autofree char *where = g_strdup_printf("%s.%s", path, name);
        return type_error(where, "a boolean", v, err);
    }
    *out = json_node_get_boolean(v);
    return 0;
}

static const struct {
    const char *name;
    enum vm_image_type type;
} image_types[] = {
    {"Unknown", VM_IMAGE_AUTO},
    {"Raw", VM_IMAGE_RAW},
    {"Qcow2", VM_IMAGE_QCOW2},
};

/* One DiskConfig: {"path", "readonly", "direct", "num_queues", "queue_size",
 * "id", "serial", "image_type"}. */
static int parse_disk(JsonNode *node, const char *path, struct vm_disk_config *d, char **err)
{
    static const struct unsupported unsupported[] = {
        {"iommu", NULL},
        {"vhost_user", NULL},
        {"vhost_socket", NULL},
        {"rate_limit_group", NULL},
        {"rate_limiter_config", NULL},
        {"disable_io_uring", NULL},
        {"disable_aio", NULL},
        {"pci_segment", NULL},
        {"queue_affinity", NULL},
        {"sparse", "true"},
        {"backing_files", NULL},
    };
    g_autofree char *image_type = NULL;
    uint64_t n;
    JsonObject *o;
    size_t i;

    if (get_object(node, path, &o, err) || get_string(o, path, "path", false, &d->path, err) ||
        get_bool(o, path, "readonly", &d->readonly, err) ||
        get_bool(o, path, "direct", &d->direct, err) ||
        get_string(o, path, "id", false, &d->id, err) ||
        get_string(o, path, "serial", true, &d->serial, err) ||
        get_string(o, path, "image_type", false, &image_type, err))
        return -EINVAL;
    n = d->num_queues;
    if (get_uint(o, path, "num_queues", false, 1, VM_CONFIG_MAX_DISK_QUEUES, &n, err))
        return -EINVAL;
    d->num_queues = (unsigned int)n;
    n = d->queue_size;
    if (get_uint(o, path, "queue_size", false, VM_CONFIG_MIN_DISK_QUEUE_SIZE,
                 VM_CONFIG_MAX_DISK_QUEUE_SIZE, &n, err))
        return -EINVAL;
    d->queue_size = (unsigned int)n;
    if (!d->path) {
        *err = g_strdup_printf("%s.path: missing", path);
        return -EINVAL;
    }
    if (image_type) {
        for (i = 0; i < G_N_ELEMENTS(image_types); i++) {
            if (!strcmp(image_type, image_types[i].name))
                break;
        }
        if (i == G_N_ELEMENTS(image_types)) {
            *err = g_strdup_printf("%s.image_type: '%s' is not supported (expected Raw, Qcow2 or "
                                   "Unknown)",
                                   path, image_type);
            return -EINVAL;
        }
        d->image_type = image_types[i].type;
    }
    return check_unsupported(o, path, unsupported, G_N_ELEMENTS(unsupported), err);
}

static int parse_disks(JsonNode *node, struct vm_config *cfg, char **err)
{
    JsonArray *a;

    if (!JSON_NODE_HOLDS_ARRAY(node))
        return type_error("disks", "an array", node, err);
    a = json_node_get_array(node);
    /* Bounds the work a hostile document can cause; PCI allows fewer. */
    if (json_array_get_length(a) > CONFIG_JSON_MAX_DISKS) {
        *err = g_strdup_printf("disks: %u disks are too many (at most %u)",
                               json_array_get_length(a), CONFIG_JSON_MAX_DISKS);
        return -EINVAL;
    }
    for (guint i = 0; i < json_array_get_length(a); i++) {
        g_autofree char *path = g_strdup_printf("disks[%u]", i);

        if (parse_disk(json_array_get_element(a, i), path, vm_config_add_disk(cfg), err))
            return -EINVAL;
    }
    return 0;
}

/* A MAC address member "52:54:00:12:34:56"; null or absent: *has stays. */
static int get_mac(JsonObject *o, const char *path, const char *name, uint8_t mac[6], bool *has,
                   char **err)
{
    g_autofree char *s = NULL;

    if (get_string(o, path, name, false, &s, err))
        return -EINVAL;
    if (!s)
        return 0;
    if (!vm_config_parse_mac(s, mac)) {
        *err = g_strdup_printf("%s.%s: '%s' is not a MAC address", path, name, s);
        return -EINVAL;
    }
    *has = true;
    return 0;
}

/* "fds": [N, ...], TAP fds the VMM inherited from its parent (one per
 * queue pair), as a management daemon passes them at fork. */
static int get_fds(JsonObject *o, const char *path, struct vm_net_config *n, char **err)
{
    JsonNode *v = json_object_get_member(o, "fds");
    g_autofree char *where = g_strdup_printf("%s.fds", path);
    JsonArray *a;
    guint len;

    if (!v || JSON_NODE_HOLDS_NULL(v))
        return 0;
    if (!JSON_NODE_HOLDS_ARRAY(v))
        return type_error(where, "an array", v, err);
    a = json_node_get_array(v);
    len = json_array_get_length(a);
    if (len == 0 || len > VM_CONFIG_MAX_NET_QUEUES / 2) {
        *err = g_strdup_printf("%s: %u fds (expected 1 to %u)", where, len,
                               VM_CONFIG_MAX_NET_QUEUES / 2);
        return -EINVAL;
    }
    g_free(n->fds);
    n->fds = g_new(int, len);
    n->nr_fds = len;
    for (guint i = 0; i < len; i++) {
        JsonNode *e = json_array_get_element(a, i);

        if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_INT64 ||
            json_node_get_int(e) < 3 || json_node_get_int(e) > G_MAXINT32) {
            *err = g_strdup_printf("%s[%u]: expected an fd number of 3 or more", where, i);
            return -EINVAL;
        }
        n->fds[i] = (int)json_node_get_int(e);
    }
    return 0;
}

/* One NetConfig: {"tap", "ip", "mask", "mac", "host_mac", "mtu",
 * "num_queues", "queue_size", "fds", "id"}, and Vireo's "passt". */
static int parse_one_net(JsonNode *node, const char *path, struct vm_net_config *n, char **err)
{
    static const struct unsupported unsupported[] = {
        {"iommu", NULL},          {"vhost_user", NULL},
        {"vhost_socket", NULL},   {"vhost_mode", "\"Client\""},
        {"pci_segment", NULL},    {"rate_limiter_config", NULL},
        {"offload_tso", "true"},  {"offload_ufo", "true"},
        {"offload_csum", "true"},
    };
    uint64_t v;
    JsonObject *o;

    if (get_object(node, path, &o, err) || get_string(o, path, "tap", false, &n->tap, err) ||
        get_string(o, path, "ip", false, &n->ip, err) ||
        get_string(o, path, "mask", false, &n->mask, err) ||
        get_string(o, path, "id", false, &n->id, err) ||
        get_string(o, path, "passt", false, &n->passt, err) ||
        get_mac(o, path, "mac", n->mac, &n->has_mac, err) ||
        get_mac(o, path, "host_mac", n->host_mac, &n->has_host_mac, err) ||
        get_fds(o, path, n, err))
        return -EINVAL;
    v = n->num_queues;
    if (get_uint(o, path, "num_queues", false, 2, VM_CONFIG_MAX_NET_QUEUES, &v, err))
        return -EINVAL;
    n->num_queues = (unsigned int)v;
    v = n->queue_size;
    if (get_uint(o, path, "queue_size", false, VM_CONFIG_MIN_NET_QUEUE_SIZE,
                 VM_CONFIG_MAX_NET_QUEUE_SIZE, &v, err))
        return -EINVAL;
    n->queue_size = (unsigned int)v;
    v = n->mtu;
    if (get_uint(o, path, "mtu", false, VM_CONFIG_MIN_NET_MTU, VM_CONFIG_MAX_NET_MTU, &v, err))
        return -EINVAL;
    n->mtu = (unsigned int)v;
    return check_unsupported(o, path, unsupported, G_N_ELEMENTS(unsupported), err);
}

static int parse_net(JsonNode *node, struct vm_config *cfg, char **err)
{
    JsonArray *a;

    if (!JSON_NODE_HOLDS_ARRAY(node))
        return type_error("net", "an array", node, err);
    a = json_node_get_array(node);
    if (json_array_get_length(a) > CONFIG_JSON_MAX_DISKS) {
        *err = g_strdup_printf("net: %u devices are too many (at most %u)",
                               json_array_get_length(a), CONFIG_JSON_MAX_DISKS);
        return -EINVAL;
    }
    for (guint i = 0; i < json_array_get_length(a); i++) {
        g_autofree char *path = g_strdup_printf("net[%u]", i);

        if (parse_one_net(json_array_get_element(a, i), path, vm_config_add_net(cfg), err))
            return -EINVAL;
    }
    return 0;
}

/* {"src": PATH, "iommu": false} */
static int parse_rng(JsonNode *node, struct vm_config *cfg, char **err)
{
    static const struct unsupported unsupported[] = {
        {"iommu", NULL},
    };
    JsonObject *o;

    if (get_object(node, "rng", &o, err) || get_string(o, "rng", "src", false, &cfg->rng.src, err))
        return -EINVAL;
    return check_unsupported(o, "rng", unsupported, G_N_ELEMENTS(unsupported), err);
}

static int parse_serial(JsonNode *node, struct vm_config *cfg, char **err)
{
    return parse_chardev(node, "serial", true, &cfg->serial, err);
}

static int parse_console(JsonNode *node, struct vm_config *cfg, char **err)
{
    return parse_chardev(node, "console", false, &cfg->console, err);
}

static const struct {
    const char *name;
    int (*parse)(JsonNode *node, struct vm_config *cfg, char **err);
} sections[] = {
    {"cpus", parse_cpus},     {"memory", parse_memory},   {"payload", parse_payload},
    {"serial", parse_serial}, {"console", parse_console}, {"disks", parse_disks},
    {"rng", parse_rng},       {"net", parse_net},
};

/* CH's VmConfig members that Vireo has no section for yet. */
static const struct unsupported top_unsupported[] = {
    {"rate_limit_groups", NULL},
    {"balloon", NULL},
    {"fs", NULL},
    {"generic_vhost_user", NULL},
    {"pmem", NULL},
    {"debug_console", "{\"mode\":\"Off\",\"iobase\":233}"},
    {"devices", NULL},
    {"user_devices", NULL},
    {"vdpa", NULL},
    {"vsock", NULL},
    {"sgx_epc", NULL},
    {"numa", NULL},
    {"iommu", NULL},
    {"watchdog", NULL},
    /* "pvpanic" is ignored: Vireo always has QEMU's ISA pvpanic device. */
    {"pvmemcontrol", NULL},
    {"pci_segments", NULL},
    {"platform", NULL},
    {"tpm", NULL},
    {"landlock_enable", NULL},
    {"landlock_rules", NULL},
    {"rtc", NULL},
    {"ivshmem", NULL},
};

int config_json_parse_node(JsonNode *root, struct vm_config *cfg, char **err)
{
    struct vm_config tmp;
    JsonObject *o;

    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        *err = g_strdup_printf("VmConfig: expected an object, got %s",
                               root ? node_type_name(root) : "nothing");
        return -EINVAL;
    }
    o = json_node_get_object(root);
    vm_config_init(&tmp);
    for (size_t i = 0; i < G_N_ELEMENTS(sections); i++) {
        JsonNode *v = json_object_get_member(o, sections[i].name);

        /* serde: an Option given as null is absent. */
        if (!v || JSON_NODE_HOLDS_NULL(v))
            continue;
        if (sections[i].parse(v, &tmp, err))
            goto fail;
    }
    if (check_unsupported(o, NULL, top_unsupported, G_N_ELEMENTS(top_unsupported), err))
        goto fail;
    *cfg = tmp;
    return 0;
fail:
    vm_config_clear(&tmp);
    return -EINVAL;
}

bool config_json_depth_ok(const char *data, size_t len, unsigned int max_depth)
{
    unsigned int depth = 0;
    bool in_string = false;

    for (size_t i = 0; i < len; i++) {
        char c = data[i];

        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth)
                return false;
        } else if ((c == ']' || c == '}') && depth) {
            depth--;
        }
    }
    return true;
}

int config_json_parse(const char *data, size_t len, struct vm_config *cfg, char **err)
{
    g_autoptr(JsonParser) parser = NULL;
    g_autoptr(GError) gerr = NULL;

    if (len > G_MAXSSIZE || !config_json_depth_ok(data, len, CONFIG_JSON_MAX_DEPTH)) {
        *err =
            g_strdup_printf("malformed JSON: nested deeper than %u levels", CONFIG_JSON_MAX_DEPTH);
        return -EINVAL;
    }
    parser = json_parser_new_immutable();
    if (!json_parser_load_from_data(parser, data, (gssize)len, &gerr)) {
        *err = g_strdup_printf("malformed JSON: %s", gerr->message);
        return -EINVAL;
    }
    if (!json_parser_get_root(parser)) {
        *err = g_strdup("malformed JSON: empty document");
        return -EINVAL;
    }
    return config_json_parse_node(json_parser_get_root(parser), cfg, err);
}

static const char *chardev_mode_json(enum vm_chardev_mode mode)
{
    for (size_t i = 0; i < G_N_ELEMENTS(chardev_modes); i++) {
        if (chardev_modes[i].mode == mode)
            return chardev_modes[i].name;
    }
    return "Off";
}

static void build_chardev(JsonBuilder *b, const char *name, const struct vm_chardev_config *c)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "mode");
    json_builder_add_string_value(b, chardev_mode_json(c->mode));
    if (c->path && c->mode != VM_CHARDEV_OFF) {
        json_builder_set_member_name(b, c->mode == VM_CHARDEV_SOCKET ? "socket" : "file");
        json_builder_add_string_value(b, c->path);
    }
    json_builder_end_object(b);
}

static void add_string(JsonBuilder *b, const char *name, const char *value)
{
    if (!value)
        return;
    json_builder_set_member_name(b, name);
    json_builder_add_string_value(b, value);
}

static void add_mac(JsonBuilder *b, const char *name, const uint8_t *m)
{
    g_autofree char *s =
        g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);

    add_string(b, name, s);
}

static void build_net(JsonBuilder *b, const struct vm_net_config *n)
{
    json_builder_begin_object(b);
    add_string(b, "tap", n->tap);
    add_string(b, "ip", n->ip);
    add_string(b, "mask", n->mask);
    add_string(b, "passt", n->passt);
    if (n->has_mac)
        add_mac(b, "mac", n->mac);
    if (n->has_host_mac)
        add_mac(b, "host_mac", n->host_mac);
    if (n->mtu) {
        json_builder_set_member_name(b, "mtu");
        json_builder_add_int_value(b, n->mtu);
    }
    json_builder_set_member_name(b, "num_queues");
    json_builder_add_int_value(b, n->num_queues);
    json_builder_set_member_name(b, "queue_size");
    json_builder_add_int_value(b, n->queue_size);
    add_string(b, "id", n->id);
    json_builder_end_object(b);
}

static void build_disk(JsonBuilder *b, const struct vm_disk_config *d)
{
    json_builder_begin_object(b);
    add_string(b, "path", d->path);
    json_builder_set_member_name(b, "readonly");
    json_builder_add_boolean_value(b, d->readonly);
    json_builder_set_member_name(b, "direct");
    json_builder_add_boolean_value(b, d->direct);
    json_builder_set_member_name(b, "num_queues");
    json_builder_add_int_value(b, d->num_queues);
    json_builder_set_member_name(b, "queue_size");
    json_builder_add_int_value(b, d->queue_size);
    add_string(b, "id", d->id);
    add_string(b, "serial", d->serial);
    for (size_t i = 0; i < G_N_ELEMENTS(image_types); i++) {
        if (image_types[i].type == d->image_type)
            add_string(b, "image_type", image_types[i].name);
    }
    json_builder_end_object(b);
}

void config_json_build(JsonBuilder *b, const struct vm_config *cfg)
{
    json_builder_begin_object(b);

    json_builder_set_member_name(b, "cpus");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "boot_vcpus");
    json_builder_add_int_value(b, cfg->boot_vcpus);
    json_builder_set_member_name(b, "max_vcpus");
    json_builder_add_int_value(b, cfg->max_vcpus);
    json_builder_end_object(b);

    json_builder_set_member_name(b, "memory");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "size");
    json_builder_add_int_value(b, (gint64)cfg->memory_size);
    json_builder_end_object(b);

    json_builder_set_member_name(b, "payload");
    json_builder_begin_object(b);
    add_string(b, "firmware", cfg->firmware);
    add_string(b, "kernel", cfg->kernel);
    add_string(b, "cmdline", cfg->cmdline);
    add_string(b, "initramfs", cfg->initramfs);
    json_builder_end_object(b);

    build_chardev(b, "serial", &cfg->serial);
    build_chardev(b, "console", &cfg->console);

    /* No disks: left out, as CH's null. */
    if (cfg->nr_disks) {
        json_builder_set_member_name(b, "disks");
        json_builder_begin_array(b);
        for (unsigned int i = 0; i < cfg->nr_disks; i++)
            build_disk(b, &cfg->disks[i]);
        json_builder_end_array(b);
    }

    if (cfg->nr_nets) {
        json_builder_set_member_name(b, "net");
        json_builder_begin_array(b);
        for (unsigned int i = 0; i < cfg->nr_nets; i++)
            build_net(b, &cfg->nets[i]);
        json_builder_end_array(b);
    }

    json_builder_set_member_name(b, "rng");
    json_builder_begin_object(b);
    add_string(b, "src", cfg->rng.src);
    json_builder_end_object(b);

    json_builder_end_object(b);
}

char *config_json_to_string(const struct vm_config *cfg)
{
    g_autoptr(JsonBuilder) b = json_builder_new_immutable();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = NULL;

    config_json_build(b, cfg);
    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}
