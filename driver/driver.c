/* The domain entry points of the driver that define, list and describe
 * domains, and the driver object. Starting and stopping is lifecycle.c. */
#include <config.h>

#include "driver.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "error.h"
#include "process.h"
#include "rpc/server.h"
#include "vireo_protocol.h"

#define check_flags      vireo_check_flags
#define lookup           vireo_lookup
#define wire_domain_fill vireo_wire_domain_fill

struct vireo_driver *vireo_driver_new(bool privileged, const char *config_dir, const char *run_dir,
                                      const char *log_dir, const char *emulator)
{
    struct vireo_driver *drv = g_new0(struct vireo_driver, 1);

    drv->privileged = privileged;
    drv->log_dir = g_strdup(log_dir);
    drv->emulator = g_strdup(emulator);
    drv->next_id = 1;
    drv->uri = g_strdup(privileged ? "vireo:///system" : "vireo:///session");
    drv->config_dir = g_strdup(config_dir);
    drv->run_dir = g_strdup(run_dir);
    drv->domains = vireo_domain_list_new(config_dir);
    drv->host = vireo_host_info_probe(emulator);
    return drv;
}

void vireo_driver_free(struct vireo_driver *drv)
{
    if (!drv)
        return;
    vireo_domain_list_free(drv->domains);
    vireo_host_info_free(drv->host);
    g_free(drv->run_user);
    if (drv->networks)
        g_hash_table_unref(drv->networks);
    g_free(drv->emulator);
    g_free(drv->log_dir);
    g_free(drv->run_dir);
    g_free(drv->config_dir);
    g_free(drv->uri);
    g_free(drv);
}

bool vireo_check_flags(unsigned int flags, unsigned int supported, const char *api, GError **error)
{
    if (flags & ~supported) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INVALID_ARG,
                    _("invalid argument: unsupported flags (0x%x) in function %s"),
                    flags & ~supported, api);
        return false;
    }
    return true;
}

void vireo_wire_domain_fill(wire_nonnull_domain *out, const struct vireo_domain *dom)
{
    out->name = g_strdup(dom->def->name);
    memcpy(out->uuid, dom->def->uuid, sizeof(out->uuid));
    out->id = dom->id;
}

static bool domain_is_active(const struct vireo_domain *dom)
{
    return dom->id >= 0;
}

/* The domain a call names; libvirt identifies it by uuid. */
struct vireo_domain *vireo_lookup(struct vireo_driver *drv, const wire_nonnull_domain *wd,
                                  GError **error)
{
    struct vireo_domain *dom = vireo_domain_list_find_uuid(drv->domains, (const uint8_t *)wd->uuid);
    char uuid[37];

    if (!dom) {
        vireo_uuid_format((const uint8_t *)wd->uuid, uuid);
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_NO_DOMAIN,
                    _("Domain not found: no domain with matching uuid '%s' (%s)"), uuid,
                    wd->name ? wd->name : "");
    }
    return dom;
}

/* ---- listing ---- */

/* A flag pair filters only when exactly one of its flags is given. */
static bool match_pair(unsigned int flags, unsigned int yes, unsigned int no, bool value)
{
    if ((flags & yes) && !(flags & no))
        return value;
    if ((flags & no) && !(flags & yes))
        return !value;
    return true;
}

static bool match_list_flags(const struct vireo_domain *dom, unsigned int flags)
{
    const unsigned int states = VIR_CONNECT_LIST_DOMAINS_RUNNING | VIR_CONNECT_LIST_DOMAINS_PAUSED |
                                VIR_CONNECT_LIST_DOMAINS_SHUTOFF | VIR_CONNECT_LIST_DOMAINS_OTHER;

    if (!match_pair(flags, VIR_CONNECT_LIST_DOMAINS_ACTIVE, VIR_CONNECT_LIST_DOMAINS_INACTIVE,
                    domain_is_active(dom)))
        return false;
    if (!match_pair(flags, VIR_CONNECT_LIST_DOMAINS_PERSISTENT, VIR_CONNECT_LIST_DOMAINS_TRANSIENT,
                    dom->persistent))
        return false;
    if (!match_pair(flags, VIR_CONNECT_LIST_DOMAINS_AUTOSTART,
                    VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART, dom->autostart))
        return false;
    /* Vireo has no managed save, snapshots or checkpoints yet. */
    if (!match_pair(flags, VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE,
                    VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE, false))
        return false;
    if (!match_pair(flags, VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT,
                    VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT, false))
        return false;
    if (!match_pair(flags, VIR_CONNECT_LIST_DOMAINS_HAS_CHECKPOINT,
                    VIR_CONNECT_LIST_DOMAINS_NO_CHECKPOINT, false))
        return false;
    if (flags & states) {
        unsigned int state;
        switch (dom->state) {
        case VIR_DOMAIN_RUNNING:
            state = VIR_CONNECT_LIST_DOMAINS_RUNNING;
            break;
        case VIR_DOMAIN_PAUSED:
            state = VIR_CONNECT_LIST_DOMAINS_PAUSED;
            break;
        case VIR_DOMAIN_SHUTOFF:
            state = VIR_CONNECT_LIST_DOMAINS_SHUTOFF;
            break;
        default:
            state = VIR_CONNECT_LIST_DOMAINS_OTHER;
            break;
        }
        if (!(flags & state))
            return false;
    }
    return true;
}

VIREO_ENTRY(vireo_connect_list_all_domains)
{
    struct vireo_driver *drv = opaque;
    wire_connect_list_all_domains_args *a = args;
    wire_connect_list_all_domains_ret *r = ret;
    g_autoptr(GPtrArray) all = NULL;
    unsigned int n = 0;

    if (!check_flags(a->flags, VIR_CONNECT_LIST_DOMAINS_NO_CHECKPOINT * 2 - 1,
                     "virConnectListAllDomains", error))
        return -1;
    all = vireo_domain_list_all(drv->domains);
    if (a->need_results)
        r->domains.domains_val = g_new0(wire_nonnull_domain, all->len ? all->len : 1);
    for (guint i = 0; i < all->len; i++) {
        const struct vireo_domain *dom = g_ptr_array_index(all, i);
        if (!match_list_flags(dom, a->flags))
            continue;
        if (a->need_results)
            wire_domain_fill(&r->domains.domains_val[n], dom);
        n++;
    }
    if (a->need_results)
        r->domains.domains_len = n;
    r->ret = n;
    return 0;
}

static bool check_max(int max, GError **error)
{
    if (max < 0 || max > WIRE_DOMAIN_LIST_MAX) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_RPC,
                    _("RPC error: the number of domains asked for (%d) is out of range"), max);
        return false;
    }
    return true;
}

VIREO_ENTRY(vireo_connect_num_of_domains)
{
    struct vireo_driver *drv = opaque;
    wire_connect_num_of_domains_ret *r = ret;
    g_autoptr(GPtrArray) all = vireo_domain_list_all(drv->domains);

    r->num = 0;
    for (guint i = 0; i < all->len; i++)
        if (domain_is_active(g_ptr_array_index(all, i)))
            r->num++;
    return 0;
}

VIREO_ENTRY(vireo_connect_list_domains)
{
    struct vireo_driver *drv = opaque;
    wire_connect_list_domains_args *a = args;
    wire_connect_list_domains_ret *r = ret;
    g_autoptr(GPtrArray) all = NULL;

    if (!check_max(a->maxids, error))
        return -1;
    all = vireo_domain_list_all(drv->domains);
    r->ids.ids_val = g_new0(int, all->len ? all->len : 1);
    for (guint i = 0; i < all->len && r->ids.ids_len < (unsigned int)a->maxids; i++) {
        const struct vireo_domain *dom = g_ptr_array_index(all, i);
        if (domain_is_active(dom))
            r->ids.ids_val[r->ids.ids_len++] = dom->id;
    }
    return 0;
}

VIREO_ENTRY(vireo_connect_num_of_defined_domains)
{
    struct vireo_driver *drv = opaque;
    wire_connect_num_of_defined_domains_ret *r = ret;
    g_autoptr(GPtrArray) all = vireo_domain_list_all(drv->domains);

    r->num = 0;
    for (guint i = 0; i < all->len; i++)
        if (!domain_is_active(g_ptr_array_index(all, i)))
            r->num++;
    return 0;
}

VIREO_ENTRY(vireo_connect_list_defined_domains)
{
    struct vireo_driver *drv = opaque;
    wire_connect_list_defined_domains_args *a = args;
    wire_connect_list_defined_domains_ret *r = ret;
    g_autoptr(GPtrArray) all = NULL;

    if (!check_max(a->maxnames, error))
        return -1;
    all = vireo_domain_list_all(drv->domains);
    r->names.names_val = g_new0(char *, all->len ? all->len : 1);
    for (guint i = 0; i < all->len && r->names.names_len < (unsigned int)a->maxnames; i++) {
        const struct vireo_domain *dom = g_ptr_array_index(all, i);
        if (!domain_is_active(dom))
            r->names.names_val[r->names.names_len++] = g_strdup(dom->def->name);
    }
    return 0;
}

/* ---- lookup ---- */

VIREO_ENTRY(vireo_domain_lookup_by_name)
{
    struct vireo_driver *drv = opaque;
    wire_domain_lookup_by_name_args *a = args;
    struct vireo_domain *dom = vireo_domain_list_find_name(drv->domains, a->name);

    if (!dom) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_NO_DOMAIN,
                    _("Domain not found: no domain with matching name '%s'"), a->name);
        return -1;
    }
    wire_domain_fill(&((wire_domain_ret *)ret)->dom, dom);
    return 0;
}

VIREO_ENTRY(vireo_domain_lookup_by_uuid)
{
    struct vireo_driver *drv = opaque;
    wire_domain_lookup_by_uuid_args *a = args;
    struct vireo_domain *dom = vireo_domain_list_find_uuid(drv->domains, (const uint8_t *)a->uuid);
    char uuid[37];

    if (!dom) {
        vireo_uuid_format((const uint8_t *)a->uuid, uuid);
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_NO_DOMAIN,
                    _("Domain not found: no domain with matching uuid '%s'"), uuid);
        return -1;
    }
    wire_domain_fill(&((wire_domain_ret *)ret)->dom, dom);
    return 0;
}

VIREO_ENTRY(vireo_domain_lookup_by_id)
{
    struct vireo_driver *drv = opaque;
    wire_domain_lookup_by_id_args *a = args;
    struct vireo_domain *dom = vireo_domain_list_find_id(drv->domains, a->id);

    if (!dom) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_NO_DOMAIN,
                    _("Domain not found: no domain with matching id %d"), a->id);
        return -1;
    }
    wire_domain_fill(&((wire_domain_ret *)ret)->dom, dom);
    return 0;
}

/* ---- definition ---- */

static int define(struct vireo_driver *drv, const char *xml, unsigned int flags, wire_domain_ret *r,
                  GError **error)
{
    g_autoptr(vireo_domain_def) def = NULL;
    struct vireo_domain *old, *dom;
    bool added = false;

    def = vireo_domain_def_parse(
        xml, (flags & VIR_DOMAIN_DEFINE_VALIDATE) ? VIREO_DOMAIN_DEF_PARSE_VALIDATE : 0, error);
    if (!def)
        return -1;
    old = vireo_domain_list_find_uuid(drv->domains, def->uuid);
    if (old)
        vireo_domain_job_begin(old);
    dom = vireo_domain_list_define(drv->domains, g_steal_pointer(&def), &added, error);
    if (old)
        vireo_domain_job_end(old);
    if (!dom)
        return -1;
    g_info("domain '%s' %s", dom->def->name, added ? "defined" : "updated");
    vireo_event_lifecycle(drv, dom, VIR_DOMAIN_EVENT_DEFINED,
                          added ? VIR_DOMAIN_EVENT_DEFINED_ADDED
                                : VIR_DOMAIN_EVENT_DEFINED_UPDATED);
    wire_domain_fill(&r->dom, dom);
    return 0;
}

VIREO_ENTRY(vireo_domain_define_xml)
{
    wire_domain_define_xml_args *a = args;

    return define(opaque, a->xml, 0, ret, error);
}

VIREO_ENTRY(vireo_domain_define_xml_flags)
{
    wire_domain_define_xml_flags_args *a = args;

    if (!check_flags(a->flags, VIR_DOMAIN_DEFINE_VALIDATE, "virDomainDefineXMLFlags", error))
        return -1;
    return define(opaque, a->xml, a->flags, ret, error);
}

/* As libvirt: undefining a running domain makes it transient; it goes away
 * when it stops. */
static int undefine(struct vireo_driver *drv, const wire_nonnull_domain *wd, GError **error)
{
    struct vireo_domain *dom = lookup(drv, wd, error);
    g_autofree char *name = NULL;
    int rc;

    if (!dom)
        return -1;
    if (!dom->persistent) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_INVALID,
                    _("Requested operation is not valid: cannot undefine transient domain"));
        return -1;
    }
    name = g_strdup(dom->def->name);
    vireo_domain_job_begin(dom);
    if (domain_is_active(dom)) {
        rc = vireo_domain_list_make_transient(drv->domains, dom, error);
        if (rc == 0)
            vireo_event_lifecycle(drv, dom, VIR_DOMAIN_EVENT_UNDEFINED,
                                  VIR_DOMAIN_EVENT_UNDEFINED_REMOVED);
        vireo_domain_job_end(dom);
        if (rc == 0)
            g_info("running domain '%s' undefined: now transient", name);
        return rc;
    }
    vireo_domain_job_end(dom);
    /* The event names the domain, which is freed by then: keep its identity. */
    g_autoptr(vireo_domain_def) ident = vireo_domain_def_new();
    struct vireo_domain copy = {.def = ident, .id = -1};
    ident->name = g_strdup(dom->def->name);
    memcpy(ident->uuid, dom->def->uuid, sizeof(ident->uuid));
    if (vireo_domain_list_undefine(drv->domains, dom, error) < 0)
        return -1;
    vireo_event_lifecycle(drv, &copy, VIR_DOMAIN_EVENT_UNDEFINED,
                          VIR_DOMAIN_EVENT_UNDEFINED_REMOVED);
    g_info("domain '%s' undefined", name);
    return 0;
}

VIREO_ENTRY(vireo_domain_undefine)
{
    return undefine(opaque, &((wire_domain_args *)args)->dom, error);
}

VIREO_ENTRY(vireo_domain_undefine_flags)
{
    wire_domain_flags_args *a = args;
    /* Nothing of these exists for a Vireo domain yet, so each is honoured
     * by doing nothing. */
    const unsigned int supported = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                                   VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                                   VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_KEEP_NVRAM |
                                   VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA |
                                   VIR_DOMAIN_UNDEFINE_TPM | VIR_DOMAIN_UNDEFINE_KEEP_TPM;

    if (!check_flags(a->flags, supported, "virDomainUndefineFlags", error))
        return -1;
    return undefine(opaque, &a->dom, error);
}

/* ---- queries ---- */

VIREO_ENTRY(vireo_domain_get_xml_desc)
{
    wire_domain_flags_args *a = args;
    wire_domain_get_xml_desc_ret *r = ret;
    struct vireo_domain *dom;
    unsigned int format = VIREO_DOMAIN_DEF_FORMAT_INACTIVE;

    if (!check_flags(a->flags,
                     VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_UPDATE_CPU |
                         VIR_DOMAIN_XML_MIGRATABLE,
                     "virDomainGetXMLDesc", error))
        return -1;
    if ((a->flags & VIR_DOMAIN_XML_SECURE) && rpc_client_is_readonly(client)) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_DENIED,
                    _("operation forbidden: virDomainGetXMLDesc with secure flag"));
        return -1;
    }
    if (!(dom = lookup(opaque, &a->dom, error)))
        return -1;
    if (a->flags & VIR_DOMAIN_XML_SECURE)
        format |= VIREO_DOMAIN_DEF_FORMAT_SECURE;
    /* A running domain shows what runs (id, ptys, aliases) unless asked
     * for its definition. */
    if (dom->live && !(a->flags & VIR_DOMAIN_XML_INACTIVE))
        r->xml = vireo_domain_def_format(dom->live, format & ~VIREO_DOMAIN_DEF_FORMAT_INACTIVE);
    else
        r->xml = vireo_domain_def_format(dom->def, format);
    if (!r->xml) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INTERNAL_ERROR,
                    _("internal error: cannot format the definition of domain '%s'"),
                    dom->def->name);
        return -1;
    }
    return 0;
}

VIREO_ENTRY(vireo_domain_get_info)
{
    wire_domain_args *a = args;
    wire_domain_get_info_ret *r = ret;
    struct vireo_domain *dom = lookup(opaque, &a->dom, error);

    const struct vireo_domain_def *def;

    if (!dom)
        return -1;
    def = vireo_domain_current_def(dom);
    r->state = dom->state;
    r->maxMem = def->memory_kib;
    r->memory = def->current_memory_kib ? def->current_memory_kib : def->memory_kib;
    r->nrVirtCpu = def->vcpus;
    r->cpuTime = vireo_process_cpu_time(dom);
    return 0;
}

VIREO_ENTRY(vireo_domain_get_state)
{
    wire_domain_flags_args *a = args;
    wire_domain_get_state_ret *r = ret;
    struct vireo_domain *dom;

    if (!check_flags(a->flags, 0, "virDomainGetState", error))
        return -1;
    if (!(dom = lookup(opaque, &a->dom, error)))
        return -1;
    r->state = dom->state;
    r->reason = dom->reason;
    return 0;
}

VIREO_ENTRY(vireo_domain_is_active)
{
    struct vireo_domain *dom = lookup(opaque, &((wire_domain_args *)args)->dom, error);

    if (!dom)
        return -1;
    ((wire_int_ret *)ret)->value = domain_is_active(dom);
    return 0;
}

VIREO_ENTRY(vireo_domain_is_persistent)
{
    struct vireo_domain *dom = lookup(opaque, &((wire_domain_args *)args)->dom, error);

    if (!dom)
        return -1;
    ((wire_int_ret *)ret)->value = dom->persistent;
    return 0;
}

VIREO_ENTRY(vireo_domain_is_updated)
{
    struct vireo_domain *dom = lookup(opaque, &((wire_domain_args *)args)->dom, error);

    if (!dom)
        return -1;
    /* Only a running domain can differ from its definition. */
    ((wire_int_ret *)ret)->value = 0;
    return 0;
}

VIREO_ENTRY(vireo_domain_get_autostart)
{
    struct vireo_domain *dom = lookup(opaque, &((wire_domain_args *)args)->dom, error);

    if (!dom)
        return -1;
    ((wire_int_ret *)ret)->value = dom->autostart;
    return 0;
}

VIREO_ENTRY(vireo_domain_set_autostart)
{
    struct vireo_driver *drv = opaque;
    wire_domain_set_autostart_args *a = args;
    struct vireo_domain *dom = lookup(drv, &a->dom, error);
    int rc;

    if (!dom)
        return -1;
    if (!dom->persistent) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_INVALID,
                    _("Requested operation is not valid: cannot set autostart for transient "
                      "domain"));
        return -1;
    }
    vireo_domain_job_begin(dom);
    rc = vireo_domain_list_set_autostart(drv->domains, dom, a->autostart != 0, error);
    vireo_domain_job_end(dom);
    return rc;
}

VIREO_ENTRY(vireo_domain_get_max_memory)
{
    struct vireo_domain *dom = lookup(opaque, &((wire_domain_args *)args)->dom, error);

    if (!dom)
        return -1;
    ((wire_domain_get_max_memory_ret *)ret)->memory = dom->def->memory_kib;
    return 0;
}

static bool require_active(const struct vireo_domain *dom, GError **error)
{
    if (!domain_is_active(dom)) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_INVALID,
                    _("Requested operation is not valid: domain is not running"));
        return false;
    }
    return true;
}

VIREO_ENTRY(vireo_domain_get_vcpus_flags)
{
    wire_domain_flags_args *a = args;
    struct vireo_domain *dom;

    if (!check_flags(a->flags,
                     VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG | VIR_DOMAIN_VCPU_MAXIMUM |
                         VIR_DOMAIN_VCPU_GUEST,
                     "virDomainGetVcpusFlags", error))
        return -1;
    if ((a->flags & VIR_DOMAIN_AFFECT_LIVE) && (a->flags & VIR_DOMAIN_AFFECT_CONFIG)) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INVALID_ARG,
                    _("invalid argument: flags 'live' and 'config' are mutually exclusive"));
        return -1;
    }
    if (!(dom = lookup(opaque, &a->dom, error)))
        return -1;
    if ((a->flags & (VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_VCPU_GUEST)) &&
        !require_active(dom, error))
        return -1;
    ((wire_int_ret *)ret)->value =
        (a->flags & VIR_DOMAIN_VCPU_MAXIMUM) ? dom->def->max_vcpus : dom->def->vcpus;
    return 0;
}

VIREO_ENTRY(vireo_domain_get_os_type)
{
    struct vireo_domain *dom = lookup(opaque, &((wire_domain_args *)args)->dom, error);

    if (!dom)
        return -1;
    ((wire_domain_get_os_type_ret *)ret)->type =
        g_strdup(dom->def->os_type ? dom->def->os_type : "hvm");
    return 0;
}

VIREO_ENTRY(vireo_domain_has_managed_save_image)
{
    wire_domain_flags_args *a = args;

    if (!check_flags(a->flags, 0, "virDomainHasManagedSaveImage", error))
        return -1;
    if (!lookup(opaque, &a->dom, error))
        return -1;
    ((wire_int_ret *)ret)->value = 0; /* no managed save in Vireo yet */
    return 0;
}

VIREO_ENTRY(vireo_domain_get_metadata)
{
    wire_domain_get_metadata_args *a = args;
    wire_domain_get_metadata_ret *r = ret;
    struct vireo_domain *dom;
    const char *value = NULL;

    if (!check_flags(a->flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG,
                     "virDomainGetMetadata", error))
        return -1;
    if (!(dom = lookup(opaque, &a->dom, error)))
        return -1;
    if ((a->flags & VIR_DOMAIN_AFFECT_LIVE) && !require_active(dom, error))
        return -1;
    switch (a->type) {
    case VIR_DOMAIN_METADATA_DESCRIPTION:
        value = dom->def->description;
        break;
    case VIR_DOMAIN_METADATA_TITLE:
        value = dom->def->title;
        break;
    case VIR_DOMAIN_METADATA_ELEMENT:
        if (dom->def->metadata_xml) {
            g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_NO_SUPPORT,
                        _("this function is not supported by the connection driver: "
                          "virDomainGetMetadata of a <metadata> element"));
            return -1;
        }
        break;
    default:
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INVALID_ARG,
                    _("invalid argument: unknown metadata type %d"), a->type);
        return -1;
    }
    if (!value) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_NO_DOMAIN_METADATA,
                    _("metadata not found: Requested metadata element is not present"));
        return -1;
    }
    r->metadata = g_strdup(value);
    return 0;
}
