/* Entry points that start, stop, pause and reboot domains, the daemon's
 * own start (vireo.conf, recovery of running VMMs, autostart) and stop. */
#include <config.h>

#include <errno.h>
#include <grp.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <pwd.h>
#include <string.h>

#include "conf.h"
#include "driver.h"
#include "error.h"
#include "process.h"

static bool require_active(const struct vireo_domain *dom, GError **error)
{
    if (!dom->vm) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_INVALID,
                    _("Requested operation is not valid: domain is not running"));
        return false;
    }
    return true;
}

/* ---- start ---- */

static int start(struct vireo_driver *drv, struct vireo_domain *dom,
                 const struct vireo_domain_def *run, unsigned int flags, GError **error)
{
    int rc;

    vireo_domain_job_begin(dom);
    if (dom->vm) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_INVALID,
                    _("Requested operation is not valid: domain is already running"));
        rc = -1;
    } else {
        rc = vireo_process_start(drv, dom, run, flags, error);
    }
    vireo_domain_job_end(dom);
    if (rc == 0)
        g_info("domain '%s' started (id %d)", dom->def->name, dom->id);
    return rc;
}

/* Flags of virDomainCreateWithFlags that mean something here. AUTODESTROY
 * and BYPASS_CACHE have nothing to act on yet; FORCE_BOOT is the default
 * (there is no managed save to resume from). */
#define START_FLAGS                                                                                \
    (VIR_DOMAIN_START_PAUSED | VIR_DOMAIN_START_FORCE_BOOT | VIR_DOMAIN_START_BYPASS_CACHE |       \
     VIR_DOMAIN_START_VALIDATE)

VIREO_ENTRY(vireo_domain_create)
{
    struct vireo_domain *dom = vireo_lookup(opaque, &((wire_domain_args *)args)->dom, error);

    if (!dom)
        return -1;
    return start(opaque, dom, NULL, 0, error);
}

VIREO_ENTRY(vireo_domain_create_with_flags)
{
    wire_domain_flags_args *a = args;
    struct vireo_domain *dom;

    if (!vireo_check_flags(a->flags, START_FLAGS, "virDomainCreateWithFlags", error))
        return -1;
    if (!(dom = vireo_lookup(opaque, &a->dom, error)))
        return -1;
    if (start(opaque, dom, NULL, a->flags, error) < 0)
        return -1;
    vireo_wire_domain_fill(&((wire_domain_ret *)ret)->dom, dom);
    return 0;
}

VIREO_ENTRY(vireo_domain_create_xml)
{
    struct vireo_driver *drv = opaque;
    wire_domain_create_xml_args *a = args;
    g_autoptr(vireo_domain_def) def = NULL;
    struct vireo_domain *dom;

    if (!vireo_check_flags(a->flags, START_FLAGS, "virDomainCreateXML", error))
        return -1;
    def = vireo_domain_def_parse(
        a->xml_desc, (a->flags & VIR_DOMAIN_START_VALIDATE) ? VIREO_DOMAIN_DEF_PARSE_VALIDATE : 0,
        error);
    if (!def)
        return -1;
    /* As libvirt: an inactive persistent domain of that uuid and name runs
     * this definition for this run only; anything else that clashes is
     * refused. */
    dom = vireo_domain_list_find_uuid(drv->domains, def->uuid);
    if (!dom)
        dom = vireo_domain_list_find_name(drv->domains, def->name);
    if (dom) {
        if (strcmp(dom->def->name, def->name) != 0 ||
            memcmp(dom->def->uuid, def->uuid, sizeof(def->uuid)) != 0 || dom->vm) {
            g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
                        dom->vm ? _("operation failed: domain '%s' is already active")
                                : _("operation failed: domain '%s' already exists with another "
                                    "uuid or name"),
                        dom->def->name);
            return -1;
        }
        if (start(drv, dom, def, a->flags, error) < 0)
            return -1;
        vireo_wire_domain_fill(&((wire_domain_ret *)ret)->dom, dom);
        return 0;
    }
    if (!(dom = vireo_domain_list_add_transient(drv->domains, g_steal_pointer(&def), error)))
        return -1;
    if (start(drv, dom, NULL, a->flags, error) < 0) {
        vireo_domain_list_remove(drv->domains, dom);
        return -1;
    }
    vireo_wire_domain_fill(&((wire_domain_ret *)ret)->dom, dom);
    return 0;
}

/* ---- stop ---- */

static int destroy(struct vireo_driver *drv, const wire_nonnull_domain *wd, unsigned int flags,
                   GError **error)
{
    struct vireo_domain *dom = vireo_lookup(drv, wd, error);
    g_autofree char *name = NULL;
    int rc;

    if (!dom)
        return -1;
    vireo_domain_job_begin(dom);
    if (!require_active(dom, error)) {
        vireo_domain_job_end(dom);
        return -1;
    }
    name = g_strdup(dom->def->name);
    /* A transient domain is freed by the stop: end the job first. */
    vireo_domain_job_end(dom);
    rc = vireo_process_stop(drv, dom, VIR_DOMAIN_SHUTOFF_DESTROYED,
                            VIR_DOMAIN_EVENT_STOPPED_DESTROYED,
                            (flags & VIR_DOMAIN_DESTROY_GRACEFUL) != 0, error);
    if (rc == 0)
        g_info("domain '%s' destroyed", name);
    return rc;
}

VIREO_ENTRY(vireo_domain_destroy)
{
    return destroy(opaque, &((wire_domain_args *)args)->dom, 0, error);
}

VIREO_ENTRY(vireo_domain_destroy_flags)
{
    wire_domain_flags_args *a = args;

    if (!vireo_check_flags(a->flags, VIR_DOMAIN_DESTROY_GRACEFUL, "virDomainDestroyFlags", error))
        return -1;
    return destroy(opaque, &a->dom, a->flags, error);
}

/* A request without an answer to an active domain, under its job. */
static struct vireo_domain *act(struct vireo_driver *drv, const wire_nonnull_domain *wd,
                                const char *endpoint, GError **error)
{
    struct vireo_domain *dom = vireo_lookup(drv, wd, error);
    int rc;

    if (!dom)
        return NULL;
    vireo_domain_job_begin(dom);
    rc = require_active(dom, error) ? vireo_process_api(dom, "PUT", endpoint, NULL, NULL, error)
                                    : -1;
    vireo_domain_job_end(dom);
    return rc == 0 ? dom : NULL;
}

static int shutdown_domain(struct vireo_driver *drv, const wire_nonnull_domain *wd,
                           unsigned int flags, GError **error)
{
    /* The ACPI power button is the only way Vireo has to ask a guest. */
    if (flags & ~VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_UNSUPPORTED,
                    _("Operation not supported: Vireo shuts guests down with the ACPI power "
                      "button only (--mode acpi)"));
        return -1;
    }
    return act(drv, wd, "vm.power-button", error) ? 0 : -1;
}

VIREO_ENTRY(vireo_domain_shutdown)
{
    return shutdown_domain(opaque, &((wire_domain_args *)args)->dom, 0, error);
}

VIREO_ENTRY(vireo_domain_shutdown_flags)
{
    wire_domain_flags_args *a = args;

    return shutdown_domain(opaque, &a->dom, a->flags, error);
}

VIREO_ENTRY(vireo_domain_reboot)
{
    wire_domain_flags_args *a = args;

    /* vm.reboot resets the VM: the same for every mode a guest could use. */
    if (a->flags & ~(VIR_DOMAIN_REBOOT_DEFAULT | VIR_DOMAIN_REBOOT_ACPI_POWER_BTN)) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_UNSUPPORTED,
                    _("Operation not supported: Vireo reboots guests through the VMM only "
                      "(--mode acpi)"));
        return -1;
    }
    return act(opaque, &a->dom, "vm.reboot", error) ? 0 : -1;
}

VIREO_ENTRY(vireo_domain_suspend)
{
    struct vireo_driver *drv = opaque;
    struct vireo_domain *dom = vireo_lookup(drv, &((wire_domain_args *)args)->dom, error);
    int rc = -1;

    if (!dom)
        return -1;
    vireo_domain_job_begin(dom);
    if (!require_active(dom, error))
        goto out;
    if (dom->state == VIR_DOMAIN_PAUSED) {
        rc = 0; /* as libvirt: suspending a paused domain succeeds */
        goto out;
    }
    if (vireo_process_api(dom, "PUT", "vm.pause", NULL, NULL, error) < 0)
        goto out;
    vireo_process_set_state(drv, dom, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER,
                            VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
    rc = 0;
out:
    vireo_domain_job_end(dom);
    return rc;
}

VIREO_ENTRY(vireo_domain_resume)
{
    struct vireo_driver *drv = opaque;
    struct vireo_domain *dom = vireo_lookup(drv, &((wire_domain_args *)args)->dom, error);
    int rc = -1;

    if (!dom)
        return -1;
    vireo_domain_job_begin(dom);
    if (!require_active(dom, error))
        goto out;
    if (dom->state != VIR_DOMAIN_PAUSED) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_INVALID,
                    _("Requested operation is not valid: domain is not paused"));
        goto out;
    }
    if (vireo_process_api(dom, "PUT", "vm.resume", NULL, NULL, error) < 0)
        goto out;
    vireo_process_set_state(drv, dom, VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_UNPAUSED,
                            VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_UNPAUSED);
    rc = 0;
out:
    vireo_domain_job_end(dom);
    return rc;
}

/* ---- vCPUs and memory: the definition only, until the VMM can resize ---- */

/* Which of live and config a call with `flags` affects; -1 with *error set
 * for what cannot be done. */
static int affect(const struct vireo_domain *dom, unsigned int flags, bool *config,
                  const char *what, GError **error)
{
    bool live = flags & VIR_DOMAIN_AFFECT_LIVE;

    *config = flags & VIR_DOMAIN_AFFECT_CONFIG;
    if (!live && !*config) {
        live = dom->vm != NULL;
        *config = !live;
    }
    if (live) {
        if (!dom->vm) {
            g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_INVALID,
                        _("Requested operation is not valid: domain is not running"));
            return -1;
        }
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_UNSUPPORTED,
                    _("Operation not supported: Vireo cannot change the %s of a running domain "
                      "yet; use --config"),
                    what);
        return -1;
    }
    if (*config && !dom->persistent) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_INVALID,
                    _("Requested operation is not valid: transient domains do not have any "
                      "persistent config"));
        return -1;
    }
    return 0;
}

/* A change to a copy of the persistent definition: `value` from the call,
 * `flags` its flags. -1 with *error set for a value out of range. */
typedef int (*config_edit_fn)(struct vireo_domain_def *def, uint64_t value, unsigned int flags,
                              GError **error);

/* What the vCPU and memory calls share: checks `flags` against `allowed`,
 * finds the domain, and under its job applies `edit` to a copy of the
 * definition and saves that. `what` names the setting in errors. */
static int edit_config(struct vireo_driver *drv, const wire_nonnull_domain *wd, uint64_t value,
                       unsigned int flags, unsigned int allowed, const char *api, const char *what,
                       config_edit_fn edit, GError **error)
{
    struct vireo_domain *dom;
    g_autoptr(vireo_domain_def) def = NULL;
    bool config, added;
    int rc = -1;

    if (!vireo_check_flags(flags, allowed, api, error))
        return -1;
    if (!(dom = vireo_lookup(drv, wd, error)))
        return -1;
    vireo_domain_job_begin(dom);
    if (affect(dom, flags, &config, what, error) < 0)
        goto out;
    def = vireo_domain_def_copy(dom->def);
    if (edit(def, value, flags, error) < 0)
        goto out;
    if (vireo_domain_list_define(drv->domains, g_steal_pointer(&def), &added, error))
        rc = 0;
out:
    vireo_domain_job_end(dom);
    return rc;
}

static int edit_vcpus(struct vireo_domain_def *def, uint64_t n, unsigned int flags, GError **error)
{
    if (flags & VIR_DOMAIN_VCPU_MAXIMUM) {
        if (n < 1 || n > VIREO_MAX_VCPUS) {
            g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INVALID_ARG,
                        _("invalid argument: the maximum of vCPUs must be 1 to %d"),
                        VIREO_MAX_VCPUS);
            return -1;
        }
        def->max_vcpus = (unsigned int)n;
        if (def->vcpus > n)
            def->vcpus = (unsigned int)n;
    } else {
        unsigned int max = def->max_vcpus ? def->max_vcpus : def->vcpus;

        if (n < 1 || n > max) {
            g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INVALID_ARG,
                        _("invalid argument: requested vcpus (%u) is greater than max allowable "
                          "vcpus for the persistent domain: %u"),
                        (unsigned int)n, max);
            return -1;
        }
        def->vcpus = (unsigned int)n;
    }
    return 0;
}

static int edit_memory(struct vireo_domain_def *def, uint64_t kib, unsigned int flags,
                       GError **error)
{
    if (kib < VIREO_MIN_MEMORY_KIB) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INVALID_ARG,
                    _("invalid argument: memory must be at least %d KiB"), VIREO_MIN_MEMORY_KIB);
        return -1;
    }
    if (flags & VIR_DOMAIN_MEM_MAXIMUM) {
        def->memory_kib = kib;
        if (def->current_memory_kib > kib)
            def->current_memory_kib = kib;
    } else {
        if (kib > def->memory_kib) {
            g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INVALID_ARG,
                        _("invalid argument: cannot set memory higher than max memory"));
            return -1;
        }
        def->current_memory_kib = kib;
    }
    return 0;
}

static int set_vcpus(struct vireo_driver *drv, const wire_nonnull_domain *wd, unsigned int n,
                     unsigned int flags, GError **error)
{
    return edit_config(drv, wd, n, flags,
                       VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG | VIR_DOMAIN_VCPU_MAXIMUM,
                       "virDomainSetVcpusFlags", _("number of vCPUs"), edit_vcpus, error);
}

static int set_memory(struct vireo_driver *drv, const wire_nonnull_domain *wd, uint64_t kib,
                      unsigned int flags, GError **error)
{
    return edit_config(drv, wd, kib, flags,
                       VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG | VIR_DOMAIN_MEM_MAXIMUM,
                       "virDomainSetMemoryFlags", _("memory size"), edit_memory, error);
}

VIREO_ENTRY(vireo_domain_set_vcpus)
{
    wire_domain_set_vcpus_args *a = args;

    return set_vcpus(opaque, &a->dom, a->nvcpus, VIR_DOMAIN_AFFECT_LIVE, error);
}

VIREO_ENTRY(vireo_domain_set_vcpus_flags)
{
    wire_domain_set_vcpus_flags_args *a = args;

    return set_vcpus(opaque, &a->dom, a->nvcpus, a->flags, error);
}

VIREO_ENTRY(vireo_domain_set_memory)
{
    wire_domain_set_memory_args *a = args;

    return set_memory(opaque, &a->dom, a->memory, VIR_DOMAIN_AFFECT_LIVE, error);
}

VIREO_ENTRY(vireo_domain_set_memory_flags)
{
    wire_domain_set_memory_flags_args *a = args;

    return set_memory(opaque, &a->dom, a->memory, a->flags, error);
}

/* ---- the daemon ---- */

int vireo_driver_load_config(struct vireo_driver *drv, GError **error)
{
    g_autofree char *path = g_build_filename(drv->config_dir, "vireo.conf", NULL);
    g_autofree char *text = NULL;
    g_auto(vireo_conf) conf = {0};
    const char *user, *group;
    struct passwd *pw;
    struct group *gr;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0; /* no file: the VMM runs as the daemon's user */
    if (vireo_conf_parse(&conf, path, text, error) < 0)
        return -1;
    if (conf.networks) {
        g_clear_pointer(&drv->networks, g_hash_table_unref);
        drv->networks = g_steal_pointer(&conf.networks);
    }
    user = conf.user;
    group = conf.group;
    if (!user && !group)
        return 0;
    if (!drv->privileged) {
        g_warning(_("%s: user and group apply to the system daemon only"), path);
        return 0;
    }
    pw = getpwnam(user ? user : "root");
    if (!pw) {
        char *end;
        unsigned long uid = strtoul(user ? user : "0", &end, 10);
        if (*end || !user) {
            g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_CONF_SYNTAX,
                        _("configuration file syntax error: %s: unknown user '%s'"), path, user);
            return -1;
        }
        drv->run_uid = uid;
        drv->run_gid = uid;
    } else {
        drv->run_uid = pw->pw_uid;
        drv->run_gid = pw->pw_gid;
    }
    if (group) {
        gr = getgrnam(group);
        if (gr) {
            drv->run_gid = gr->gr_gid;
        } else {
            char *end;
            unsigned long gid = strtoul(group, &end, 10);
            if (*end) {
                g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_CONF_SYNTAX,
                            _("configuration file syntax error: %s: unknown group '%s'"), path,
                            group);
                return -1;
            }
            drv->run_gid = gid;
        }
    }
    drv->run_as_set = true;
    drv->run_user = g_strdup_printf("%u:%u", (unsigned)drv->run_uid, (unsigned)drv->run_gid);
    g_message(_("VMMs run as uid %u, gid %u"), (unsigned)drv->run_uid, (unsigned)drv->run_gid);
    return 0;
}

void vireo_driver_recover(struct vireo_driver *drv)
{
    g_autoptr(GPtrArray) all = NULL;

    vireo_process_recover_all(drv);
    all = vireo_domain_list_all(drv->domains);
    for (guint i = 0; i < all->len; i++) {
        struct vireo_domain *dom = g_ptr_array_index(all, i);
        g_autoptr(GError) error = NULL;

        if (!dom->autostart || dom->vm)
            continue;
        if (start(drv, dom, NULL, 0, &error) < 0)
            g_warning(_("cannot autostart domain '%s': %s"), dom->def->name, error->message);
        else
            g_message(_("domain '%s' autostarted"), dom->def->name);
    }
}

void vireo_driver_detach_all(struct vireo_driver *drv)
{
    g_autoptr(GPtrArray) all = vireo_domain_list_all(drv->domains);

    for (guint i = 0; i < all->len; i++)
        vireo_process_detach(g_ptr_array_index(all, i));
}
