/* Domain XML -> struct vireo_domain_def: the <domain> element and everything
 * outside <devices>. Elements Vireo cannot honour are refused by name with
 * VIR_ERR_CONFIG_UNSUPPORTED; elements that carry no meaning for a VMM
 * (<cpu>, <pm>, <resource>, <seclabel>) are kept verbatim. */
#include "domain_def.h"
#include "domain_internal.h"
#include "i18n.h"
#include "xml_util.h"

#include <libvirt/virterror.h>
#include <string.h>

struct parse_state {
    unsigned int flags;
    bool have_uuid, have_memory, have_current_memory;
    GHashTable *seen; /* singleton elements met so far */
};

static int parse_name(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                      GError **error)
{
    g_autofree char *name = vireo_xml_text(node);

    if (!*name) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_NO_NAME, _("<name> is empty"));
        return -1;
    }
    if (!vireo_domain_name_valid(name)) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_DETAIL,
                    _("<name>: '%s' is not a valid domain name (no '/', no control characters, "
                      "not '.' or '..', at most 200 bytes)"),
                    name);
        return -1;
    }
    def->name = g_steal_pointer(&name);
    return 0;
}

static int parse_uuid(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                      GError **error)
{
    g_autofree char *text = vireo_xml_text(node);

    if (!vireo_uuid_parse(text, def->uuid)) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR, _("<uuid>: malformed UUID '%s'"),
                    text);
        return -1;
    }
    st->have_uuid = true;
    return 0;
}

static int parse_title(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                       GError **error)
{
    g_autofree char *text = vireo_xml_text(node);

    if (strchr(text, '\n')) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR,
                    _("<title> must not contain a newline"));
        return -1;
    }
    def->title = g_steal_pointer(&text);
    return 0;
}

static int parse_description(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                             GError **error)
{
    def->description = vireo_xml_text(node);
    return 0;
}

static int parse_metadata(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                          GError **error)
{
    g_autoptr(GString) buf = g_string_new(NULL);

    vireo_for_each_child(child, node)
    {
        g_autofree char *one = vireo_xml_node_dump(child);

        g_string_append(buf, one);
    }
    if (buf->len)
        def->metadata_xml = g_string_free(g_steal_pointer(&buf), FALSE);
    return 0;
}

static int parse_memory_element(xmlNode *node, uint64_t *kib, GError **error)
{
    g_autofree char *unit = vireo_xml_prop(node, "unit");
    g_autofree char *text = vireo_xml_text(node);
    GError *err = NULL;

    if (vireo_memory_parse_kib(text, unit, kib, &err) < 0) {
        g_set_error(error, VIREO_XML_ERROR, err->code, "<%s>: %s", VIREO_NODE_NAME(node),
                    err->message);
        g_error_free(err);
        return -1;
    }
    return 0;
}

static int parse_memory(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                        GError **error)
{
    if (parse_memory_element(node, &def->memory_kib, error) < 0)
        return -1;
    st->have_memory = true;
    return 0;
}

static int parse_current_memory(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                                GError **error)
{
    if (parse_memory_element(node, &def->current_memory_kib, error) < 0)
        return -1;
    st->have_current_memory = true;
    return 0;
}

static int parse_vcpu(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                      GError **error)
{
    g_autofree char *text = vireo_xml_text(node);
    g_autofree char *current = vireo_xml_prop(node, "current");
    g_autofree char *placement = vireo_xml_prop(node, "placement");
    g_autofree char *cpuset = vireo_xml_prop(node, "cpuset");
    uint64_t max, cur;
    bool overflow;

    if (!vireo_parse_u64(text, 10, &max, &overflow) || max == 0) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR, _("<vcpu>: invalid vCPU count '%s'"),
                    text);
        return -1;
    }
    cur = max;
    if (current && (!vireo_parse_u64(current, 10, &cur, &overflow) || cur == 0)) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR,
                    _("<vcpu current='%s'>: invalid vCPU count"), current);
        return -1;
    }
    if (cur > max) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR,
                    _("<vcpu current='%s'>: more current vCPUs than the maximum %s"), current,
                    text);
        return -1;
    }
    if (max > VIREO_MAX_VCPUS) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                    _("<vcpu>: %s vCPUs, but Vireo supports at most %u"), text, VIREO_MAX_VCPUS);
        return -1;
    }
    if (placement && strcmp(placement, "static") && strcmp(placement, "auto")) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR,
                    _("<vcpu placement='%s'>: unknown placement"), placement);
        return -1;
    }
    if (cpuset) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                    _("<vcpu cpuset='%s'>: Vireo does not pin vCPUs"), cpuset);
        return -1;
    }
    def->max_vcpus = (unsigned int)max;
    def->vcpus = (unsigned int)cur;
    return 0;
}

static int parse_os_type(struct vireo_domain_def *def, xmlNode *node, GError **error)
{
    g_autofree char *type = vireo_xml_text(node);
    g_autofree char *arch = vireo_xml_prop(node, "arch");

    g_strstrip(type);
    if (strcmp(type, "hvm")) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                    _("<os><type>%s</type>: Vireo runs hvm guests only"), type);
        return -1;
    }
    if (arch && strcmp(arch, "x86_64")) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                    _("<os><type arch='%s'>: Vireo runs x86_64 guests only"), arch);
        return -1;
    }
    def->os_type = g_steal_pointer(&type);
    def->arch = g_steal_pointer(&arch);
    def->machine = vireo_xml_prop(node, "machine");
    return 0;
}

static int parse_loader(struct vireo_domain_def *def, xmlNode *node, GError **error)
{
    g_autofree char *secure = vireo_xml_prop(node, "secure");
    g_autofree char *type = vireo_xml_prop(node, "type");
    g_autofree char *readonly = vireo_xml_prop(node, "readonly");
    g_autofree char *path = vireo_xml_text(node);

    if (secure && strcmp(secure, "no")) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                    _("<loader secure='%s'>: Vireo has no secure boot (SMM)"), secure);
        return -1;
    }
    if (type && strcmp(type, "rom") && strcmp(type, "pflash")) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                    _("<loader type='%s'>: Vireo loads firmware of type 'rom' or 'pflash'"), type);
        return -1;
    }
    if (readonly && strcmp(readonly, "yes") && strcmp(readonly, "no")) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR,
                    _("<loader readonly='%s'>: expected 'yes' or 'no'"), readonly);
        return -1;
    }
    g_strstrip(path);
    if (!*path) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                    _("<loader> without a path: Vireo cannot pick firmware by itself"));
        return -1;
    }
    def->loader = g_steal_pointer(&path);
    def->loader_type = g_steal_pointer(&type);
    def->loader_readonly = g_steal_pointer(&readonly);
    return 0;
}

static int parse_os(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                    GError **error)
{
    g_autofree char *firmware = vireo_xml_prop(node, "firmware");

    if (firmware) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                    _("<os firmware='%s'>: Vireo has no firmware auto-selection; give <loader>"),
                    firmware);
        return -1;
    }
    vireo_for_each_child(child, node)
    {
        const char *name = VIREO_NODE_NAME(child);
        char **field = NULL;

        if (!strcmp(name, "type")) {
            if (def->os_type) {
                g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR,
                            _("<os> has more than one <type>"));
                return -1;
            }
            if (parse_os_type(def, child, error) < 0)
                return -1;
            continue;
        }
        if (!strcmp(name, "loader")) {
            if (def->loader) {
                g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR,
                            _("<os> has more than one <loader>"));
                return -1;
            }
            if (parse_loader(def, child, error) < 0)
                return -1;
            continue;
        }
        if (!strcmp(name, "boot")) {
            g_autofree char *dev = vireo_xml_prop(child, "dev");

            if (!dev) {
                g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR,
                            _("<os><boot> without a dev attribute"));
                return -1;
            }
            g_ptr_array_add(def->boot_devs, g_steal_pointer(&dev));
            continue;
        }
        if (!strcmp(name, "bootmenu")) {
            g_autofree char *enable = vireo_xml_prop(child, "enable");

            if (enable && !strcmp(enable, "yes")) {
                g_set_error(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                            _("<os><bootmenu enable='yes'>: Vireo has no boot menu"));
                return -1;
            }
            continue;
        }
        if (!strcmp(name, "kernel"))
            field = &def->kernel;
        else if (!strcmp(name, "initrd"))
            field = &def->initrd;
        else if (!strcmp(name, "cmdline"))
            field = &def->cmdline;
        if (!field) {
            g_set_error(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                        _("<os><%s>: Vireo does not support this boot setting"), name);
            return -1;
        }
        if (*field) {
            g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR, _("<os> has more than one <%s>"),
                        name);
            return -1;
        }
        *field = vireo_xml_text(child);
    }
    if (!def->os_type) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR, _("<os> has no <type>"));
        return -1;
    }
    return 0;
}

static int parse_features(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                          GError **error)
{
    vireo_for_each_child(child, node)
    {
        const char *name = VIREO_NODE_NAME(child);
        g_autofree char *state = vireo_xml_prop(child, "state");

        /* ACPI and the APIC are always there (toggle='no' in the capabilities). */
        if (!strcmp(name, "acpi") || !strcmp(name, "apic"))
            continue;
        if (!strcmp(name, "pae")) {
            def->pae = true;
            continue;
        }
        if (state && !strcmp(state, "off") && !vireo_xml_next_element(child->children)) {
            bool dup = false;

            for (guint i = 0; i < def->features_off->len; i++)
                dup |= !strcmp(def->features_off->pdata[i], name);
            if (!dup)
                g_ptr_array_add(def->features_off, g_strdup(name));
            continue;
        }
        if (state)
            g_set_error(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                        _("<features><%s state='%s'>: Vireo cannot provide this feature"), name,
                        state);
        else
            g_set_error(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                        _("<features><%s>: Vireo cannot provide this feature"), name);
        return -1;
    }
    return 0;
}

static int parse_clock(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                       GError **error)
{
    g_autofree char *offset = vireo_xml_prop(node, "offset");
    g_autoptr(GString) buf = g_string_new(NULL);

    if (!offset)
        offset = g_strdup("utc");
    if (strcmp(offset, "utc") && strcmp(offset, "localtime")) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                    _("<clock offset='%s'>: Vireo keeps the guest clock in utc or localtime"),
                    offset);
        return -1;
    }
    vireo_for_each_child(child, node)
    {
        g_autofree char *one = vireo_xml_node_dump(child);

        g_string_append(buf, one);
    }
    def->clock_offset = g_steal_pointer(&offset);
    if (buf->len)
        def->clock_xml = g_string_free(g_steal_pointer(&buf), FALSE);
    return 0;
}

static int parse_action(xmlNode *node, enum vireo_lifecycle_action *action, GError **error)
{
    g_autofree char *text = vireo_xml_text(node);

    g_strstrip(text);
    if (!strcmp(text, "destroy"))
        *action = VIREO_ACTION_DESTROY;
    else if (!strcmp(text, "restart"))
        *action = VIREO_ACTION_RESTART;
    else if (!strcmp(text, "preserve"))
        *action = VIREO_ACTION_PRESERVE;
    else if (!strcmp(text, "rename-restart") || !strcmp(text, "coredump-destroy") ||
             !strcmp(text, "coredump-restart")) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                    _("<%s>%s</%s>: Vireo supports destroy, restart and preserve"),
                    VIREO_NODE_NAME(node), text, VIREO_NODE_NAME(node));
        return -1;
    } else {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR,
                    _("<%s>: unknown lifecycle action '%s'"), VIREO_NODE_NAME(node), text);
        return -1;
    }
    return 0;
}

static int parse_on_poweroff(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                             GError **error)
{
    return parse_action(node, &def->on_poweroff, error);
}

static int parse_on_reboot(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                           GError **error)
{
    return parse_action(node, &def->on_reboot, error);
}

static int parse_on_crash(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                          GError **error)
{
    return parse_action(node, &def->on_crash, error);
}

static int parse_on_lockfailure(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                                GError **error)
{
    def->on_lockfailure = g_strstrip(vireo_xml_text(node));
    return 0;
}

static int parse_cpu(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                     GError **error)
{
    vireo_for_each_child(child, node)
    {
        if (!strcmp(VIREO_NODE_NAME(child), "numa")) {
            g_set_error(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                        _("<cpu><numa>: Vireo has no guest NUMA topology"));
            return -1;
        }
    }
    def->cpu_xml = vireo_xml_node_dump(node);
    return 0;
}

static int parse_pm(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                    GError **error)
{
    def->pm_xml = vireo_xml_node_dump(node);
    return 0;
}

static int parse_resource(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                          GError **error)
{
    def->resource_xml = vireo_xml_node_dump(node);
    return 0;
}

static int parse_seclabel(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                          GError **error)
{
    g_autofree char *one = vireo_xml_node_dump(node);
    char *all = g_strconcat(def->seclabel_xml ? def->seclabel_xml : "", one, NULL);

    g_free(def->seclabel_xml);
    def->seclabel_xml = all;
    return 0;
}

static int parse_memory_backing(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                                GError **error)
{
    xmlNode *child = vireo_xml_next_element(node->children);

    if (child) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                    _("<memoryBacking><%s>: Vireo backs guest memory with anonymous memory only"),
                    VIREO_NODE_NAME(child));
        return -1;
    }
    return 0;
}

static int parse_devices(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                         GError **error)
{
    return vireo_devices_parse(def, node, st->flags, error);
}

typedef int (*element_parser)(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                              GError **error);

static const struct {
    const char *name;
    element_parser parse;
    bool repeats;
} element_parsers[] = {
    {"name", parse_name, false},
    {"uuid", parse_uuid, false},
    {"title", parse_title, false},
    {"description", parse_description, false},
    {"metadata", parse_metadata, false},
    {"memory", parse_memory, false},
    {"currentMemory", parse_current_memory, false},
    {"vcpu", parse_vcpu, false},
    {"os", parse_os, false},
    {"features", parse_features, false},
    {"clock", parse_clock, false},
    {"on_poweroff", parse_on_poweroff, false},
    {"on_reboot", parse_on_reboot, false},
    {"on_crash", parse_on_crash, false},
    {"on_lockfailure", parse_on_lockfailure, false},
    {"cpu", parse_cpu, false},
    {"pm", parse_pm, false},
    {"resource", parse_resource, false},
    {"seclabel", parse_seclabel, true},
    {"memoryBacking", parse_memory_backing, false},
    {"devices", parse_devices, false},
};

/* Valid libvirt elements that ask for something Vireo cannot do. */
static const struct {
    const char *name;
    const char *why;
} unsupported_elements[] = {
    {"maxMemory", N_("<maxMemory>: Vireo has no memory hotplug")},
    {"iothreads", N_("<iothreads>: Vireo has no I/O threads")},
    {"iothreadids", N_("<iothreadids>: Vireo has no I/O threads")},
    {"defaultiothread", N_("<defaultiothread>: Vireo has no I/O threads")},
    {"vcpus", N_("<vcpus>: Vireo has no per-vCPU settings")},
    {"cputune", N_("<cputune>: Vireo does not tune or pin vCPUs")},
    {"numatune", N_("<numatune>: Vireo has no NUMA memory policy")},
    {"blkiotune", N_("<blkiotune>: Vireo does not tune block I/O")},
    {"memtune", N_("<memtune>: Vireo does not tune memory")},
    {"sysinfo", N_("<sysinfo>: Vireo has no SMBIOS tables")},
    {"bootloader", N_("<bootloader>: Vireo has no host boot loader")},
    {"bootloader_args", N_("<bootloader_args>: Vireo has no host boot loader")},
    {"idmap", N_("<idmap>: Vireo runs no containers")},
    {"genid", N_("<genid>: Vireo has no VM generation ID device")},
    {"keywrap", N_("<keywrap>: Vireo has no s390 key wrapping")},
    {"launchSecurity", N_("<launchSecurity>: Vireo has no confidential guests")},
    {"perf", N_("<perf>: Vireo has no perf events")},
    {"throttlegroups", N_("<throttlegroups>: Vireo has no I/O throttling")},
};

static int parse_root_child(struct vireo_domain_def *def, xmlNode *node, struct parse_state *st,
                            GError **error)
{
    const char *name = VIREO_NODE_NAME(node);

    if (node->ns) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                    _("<%s> in namespace '%s': Vireo has no XML extensions"), name,
                    (const char *)node->ns->href);
        return -1;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(element_parsers); i++) {
        if (strcmp(name, element_parsers[i].name))
            continue;
        if (!element_parsers[i].repeats && !g_hash_table_add(st->seen, (gpointer)name)) {
            g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR,
                        _("<domain> has more than one <%s>"), name);
            return -1;
        }
        return element_parsers[i].parse(def, node, st, error);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(unsupported_elements); i++) {
        if (!strcmp(name, unsupported_elements[i].name)) {
            g_set_error_literal(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                                _(unsupported_elements[i].why));
            return -1;
        }
    }
    g_set_error(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                _("<%s>: Vireo does not know this element"), name);
    return -1;
}

static int parse_root(struct vireo_domain_def *def, xmlNode *root, struct parse_state *st,
                      GError **error)
{
    g_autofree char *type = vireo_xml_prop(root, "type");

    if (!type) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR, _("<domain> has no type attribute"));
        return -1;
    }
    if (strcmp(type, "kvm")) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                    _("<domain type='%s'>: Vireo runs KVM domains only (type='kvm')"), type);
        return -1;
    }
    if (st->flags & VIREO_DOMAIN_DEF_PARSE_LIVE) {
        g_autofree char *id = vireo_xml_prop(root, "id");
        unsigned int v;

        if (id && vireo_parse_uint(id, 10, G_MAXINT, &v))
            def->id = (int)v;
    }
    vireo_for_each_child(child, root)
    {
        if (parse_root_child(def, child, st, error) < 0)
            return -1;
    }
    if (!def->name) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_NO_NAME, _("<domain> has no <name>"));
        return -1;
    }
    if (!st->have_memory) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR, _("<domain> has no <memory>"));
        return -1;
    }
    if (!def->os_type) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR, _("<domain> has no <os>"));
        return -1;
    }
    if (!st->have_uuid)
        vireo_uuid_generate(def->uuid);
    /* As libvirt: a missing or too large currentMemory is the full size. */
    if (!st->have_current_memory || def->current_memory_kib > def->memory_kib)
        def->current_memory_kib = def->memory_kib;
    return 0;
}

struct vireo_domain_def *vireo_domain_def_parse(const char *xml, unsigned int flags, GError **error)
{
    g_autoptr(vireo_domain_def) def = NULL;
    struct parse_state st = {.flags = flags};
    xmlDoc *doc;
    xmlNode *root;
    int ret = -1;

    g_return_val_if_fail(xml != NULL, NULL);
    doc = vireo_xml_read(xml, "domain", error);
    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!root || strcmp(VIREO_NODE_NAME(root), "domain") || root->ns) {
        g_set_error(error, VIREO_XML_ERROR, VIR_ERR_XML_ERROR,
                    _("unexpected root element <%s>, expecting <domain>"), VIREO_NODE_NAME(root));
        goto out;
    }
    if ((flags & VIREO_DOMAIN_DEF_PARSE_VALIDATE) &&
        vireo_schema_validate(doc, "domain.rng", error) < 0)
        goto out;
    def = vireo_domain_def_new();
    st.seen = g_hash_table_new(g_str_hash, g_str_equal);
    if (parse_root(def, root, &st, error) < 0)
        goto out;
    if (vireo_domain_def_post_parse(def, error) < 0)
        goto out;
    ret = 0;
out:
    if (st.seen)
        g_hash_table_unref(st.seen);
    xmlFreeDoc(doc);
    return ret < 0 ? NULL : g_steal_pointer(&def);
}
