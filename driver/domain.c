/* Domain objects, their lookup tables and their files in the config dir. */
#include <config.h>

#include "domain.h"

#include <errno.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

struct vireo_domain_list {
    char *config_dir;
    char *autostart_dir;
    GHashTable *by_name; /* name -> struct vireo_domain * (owned) */
    GHashTable *by_uuid; /* uuid string -> struct vireo_domain * */
};

static void domain_free(struct vireo_domain *dom)
{
    vireo_domain_def_free(dom->def);
    vireo_domain_def_free(dom->live);
    g_mutex_clear(&dom->job);
    g_free(dom);
}

static struct vireo_domain *domain_new(struct vireo_domain_def *def)
{
    struct vireo_domain *dom = g_new0(struct vireo_domain, 1);

    dom->def = def;
    dom->persistent = true;
    dom->id = -1;
    dom->state = VIR_DOMAIN_SHUTOFF;
    dom->reason = VIR_DOMAIN_SHUTOFF_UNKNOWN;
    g_mutex_init(&dom->job);
    return dom;
}

void vireo_domain_job_begin(struct vireo_domain *dom)
{
    g_mutex_lock(&dom->job);
}

void vireo_domain_job_end(struct vireo_domain *dom)
{
    g_mutex_unlock(&dom->job);
}

static char *uuid_key(const uint8_t uuid[16])
{
    char str[37];

    vireo_uuid_format(uuid, str);
    return g_strdup(str);
}

struct vireo_domain_list *vireo_domain_list_new(const char *config_dir)
{
    struct vireo_domain_list *list = g_new0(struct vireo_domain_list, 1);

    list->config_dir = g_strdup(config_dir);
    list->autostart_dir = g_build_filename(config_dir, "autostart", NULL);
    list->by_name =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)domain_free);
    list->by_uuid = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return list;
}

void vireo_domain_list_free(struct vireo_domain_list *list)
{
    if (!list)
        return;
    g_hash_table_unref(list->by_uuid);
    g_hash_table_unref(list->by_name);
    g_free(list->autostart_dir);
    g_free(list->config_dir);
    g_free(list);
}

static char *config_path(const struct vireo_domain_list *list, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);

    return g_build_filename(list->config_dir, file, NULL);
}

static char *autostart_path(const struct vireo_domain_list *list, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);

    return g_build_filename(list->autostart_dir, file, NULL);
}

static void list_insert(struct vireo_domain_list *list, struct vireo_domain *dom)
{
    g_hash_table_insert(list->by_name, g_strdup(dom->def->name), dom);
    g_hash_table_insert(list->by_uuid, uuid_key(dom->def->uuid), dom);
}

struct vireo_domain *vireo_domain_list_find_name(struct vireo_domain_list *list, const char *name)
{
    return g_hash_table_lookup(list->by_name, name);
}

struct vireo_domain *vireo_domain_list_find_uuid(struct vireo_domain_list *list,
                                                 const uint8_t uuid[16])
{
    g_autofree char *key = uuid_key(uuid);

    return g_hash_table_lookup(list->by_uuid, key);
}

struct vireo_domain *vireo_domain_list_find_id(struct vireo_domain_list *list, int id)
{
    GHashTableIter iter;
    gpointer value;

    if (id < 0)
        return NULL;
    g_hash_table_iter_init(&iter, list->by_name);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        struct vireo_domain *dom = value;
        if (dom->id == id)
            return dom;
    }
    return NULL;
}

static int compare_name(gconstpointer a, gconstpointer b)
{
    const struct vireo_domain *da = *(struct vireo_domain *const *)a;
    const struct vireo_domain *db = *(struct vireo_domain *const *)b;

    return strcmp(da->def->name, db->def->name);
}

GPtrArray *vireo_domain_list_all(struct vireo_domain_list *list)
{
    GPtrArray *all = g_ptr_array_new();
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, list->by_name);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        g_ptr_array_add(all, value);
    g_ptr_array_sort(all, compare_name);
    return all;
}

static int ensure_dir(const char *dir, GError **error)
{
    if (g_mkdir_with_parents(dir, 0700) < 0) {
        int saved = errno;
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                    _("cannot create directory '%s': %s"), dir, g_strerror(saved));
        return -1;
    }
    return 0;
}

/* Writes the definition atomically: temp file, fsync, rename. */
static int domain_save(struct vireo_domain_list *list, const struct vireo_domain_def *def,
                       GError **error)
{
    g_autofree char *path = config_path(list, def->name);
    g_autofree char *xml = vireo_domain_def_format(def, VIREO_DOMAIN_DEF_FORMAT_INACTIVE |
                                                            VIREO_DOMAIN_DEF_FORMAT_SECURE);
    g_autoptr(GError) io_error = NULL;

    if (ensure_dir(list->config_dir, error) < 0)
        return -1;
    if (!xml) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INTERNAL_ERROR,
                    _("internal error: cannot format the definition of domain '%s'"), def->name);
        return -1;
    }
    if (!g_file_set_contents_full(path, xml, -1,
                                  G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                  0600, &io_error)) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
                    _("operation failed: cannot save the definition of domain '%s': %s"), def->name,
                    io_error->message);
        return -1;
    }
    return 0;
}

/* libvirt refuses these in names: a name becomes a file name. */
static bool name_valid(const char *name, GError **error)
{
    if (!name || !*name) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_XML_ERROR,
                    _("XML error: a domain needs a name"));
        return false;
    }
    if (strchr(name, '/') || strchr(name, '\n') || name[0] == '.') {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_XML_ERROR,
                    _("XML error: name '%s' cannot contain '/' or a newline, nor start with '.'"),
                    name);
        return false;
    }
    return true;
}

struct vireo_domain *vireo_domain_list_define(struct vireo_domain_list *list,
                                              struct vireo_domain_def *def, bool *added,
                                              GError **error)
{
    g_autoptr(vireo_domain_def) owned = def;
    struct vireo_domain *by_uuid, *by_name;
    char uuid[37];

    if (!name_valid(def->name, error))
        return NULL;
    by_uuid = vireo_domain_list_find_uuid(list, def->uuid);
    by_name = vireo_domain_list_find_name(list, def->name);
    if (by_uuid && by_uuid != by_name) {
        vireo_uuid_format(by_uuid->def->uuid, uuid);
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
                    _("operation failed: domain '%s' is already defined with uuid %s"),
                    by_uuid->def->name, uuid);
        return NULL;
    }
    if (by_name && by_name != by_uuid) {
        vireo_uuid_format(by_name->def->uuid, uuid);
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
                    _("operation failed: domain '%s' already exists with uuid %s"),
                    by_name->def->name, uuid);
        return NULL;
    }
    if (domain_save(list, def, error) < 0)
        return NULL;
    *added = !by_name;
    if (by_name) {
        vireo_domain_def_free(by_name->def);
        by_name->def = g_steal_pointer(&owned);
        by_name->persistent = true;
        return by_name;
    }
    struct vireo_domain *dom = domain_new(g_steal_pointer(&owned));
    list_insert(list, dom);
    return dom;
}

struct vireo_domain *vireo_domain_list_add_transient(struct vireo_domain_list *list,
                                                     struct vireo_domain_def *def, GError **error)
{
    g_autoptr(vireo_domain_def) owned = def;
    struct vireo_domain *dom;
    char uuid[37];

    if (!name_valid(def->name, error))
        return NULL;
    if ((dom = vireo_domain_list_find_uuid(list, def->uuid)) ||
        (dom = vireo_domain_list_find_name(list, def->name))) {
        vireo_uuid_format(dom->def->uuid, uuid);
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
                    _("operation failed: domain '%s' already exists with uuid %s"), dom->def->name,
                    uuid);
        return NULL;
    }
    dom = domain_new(g_steal_pointer(&owned));
    dom->persistent = false;
    list_insert(list, dom);
    return dom;
}

void vireo_domain_list_remove(struct vireo_domain_list *list, struct vireo_domain *dom)
{
    g_autofree char *key = uuid_key(dom->def->uuid);

    g_hash_table_remove(list->by_uuid, key);
    g_hash_table_remove(list->by_name, dom->def->name);
}

int vireo_domain_list_make_transient(struct vireo_domain_list *list, struct vireo_domain *dom,
                                     GError **error)
{
    g_autofree char *path = config_path(list, dom->def->name);
    g_autofree char *link = autostart_path(list, dom->def->name);

    if ((unlink(link) < 0 && errno != ENOENT) || (unlink(path) < 0 && errno != ENOENT)) {
        int saved = errno;
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                    _("cannot remove the files of domain '%s': %s"), dom->def->name,
                    g_strerror(saved));
        return -1;
    }
    dom->persistent = false;
    dom->autostart = false;
    return 0;
}

int vireo_domain_list_undefine(struct vireo_domain_list *list, struct vireo_domain *dom,
                               GError **error)
{
    g_autofree char *path = config_path(list, dom->def->name);
    g_autofree char *link = autostart_path(list, dom->def->name);
    g_autofree char *key = uuid_key(dom->def->uuid);

    if (unlink(link) < 0 && errno != ENOENT) {
        int saved = errno;
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                    _("cannot remove autostart link '%s': %s"), link, g_strerror(saved));
        return -1;
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        int saved = errno;
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                    _("cannot remove config file '%s': %s"), path, g_strerror(saved));
        return -1;
    }
    g_hash_table_remove(list->by_uuid, key);
    g_hash_table_remove(list->by_name, dom->def->name);
    return 0;
}

int vireo_domain_list_set_autostart(struct vireo_domain_list *list, struct vireo_domain *dom,
                                    bool autostart, GError **error)
{
    g_autofree char *link = autostart_path(list, dom->def->name);
    g_autofree char *target = config_path(list, dom->def->name);

    if (autostart == dom->autostart)
        return 0;
    if (autostart) {
        if (ensure_dir(list->autostart_dir, error) < 0)
            return -1;
        if (symlink(target, link) < 0 && errno != EEXIST) {
            int saved = errno;
            g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                        _("failed to create symlink '%s' to '%s': %s"), link, target,
                        g_strerror(saved));
            return -1;
        }
    } else if (unlink(link) < 0 && errno != ENOENT) {
        int saved = errno;
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                    _("failed to delete symlink '%s': %s"), link, g_strerror(saved));
        return -1;
    }
    dom->autostart = autostart;
    return 0;
}

/* Loads one file; reports and returns false when it cannot be used. */
static bool load_one(struct vireo_domain_list *list, const char *file)
{
    g_autofree char *path = g_build_filename(list->config_dir, file, NULL);
    g_autofree char *xml = NULL;
    g_autofree char *expected = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(vireo_domain_def) def = NULL;
    struct vireo_domain *dom;

    if (!g_file_get_contents(path, &xml, NULL, &error)) {
        g_warning(_("skipping domain config '%s': %s"), path, error->message);
        return false;
    }
    def = vireo_domain_def_parse(xml, 0, &error);
    if (!def) {
        g_warning(_("skipping corrupt domain config '%s': %s"), path, error->message);
        return false;
    }
    expected = g_strconcat(def->name, ".xml", NULL);
    if (strcmp(expected, file) != 0) {
        g_warning(_("skipping domain config '%s': it defines domain '%s'"), path, def->name);
        return false;
    }
    if (vireo_domain_list_find_uuid(list, def->uuid)) {
        g_warning(_("skipping domain config '%s': its uuid is already used"), path);
        return false;
    }
    dom = domain_new(g_steal_pointer(&def));
    g_autofree char *link = autostart_path(list, dom->def->name);
    dom->autostart = g_file_test(link, G_FILE_TEST_EXISTS);
    list_insert(list, dom);
    return true;
}

unsigned int vireo_domain_list_load(struct vireo_domain_list *list)
{
    g_autoptr(GDir) dir = g_dir_open(list->config_dir, 0, NULL);
    const char *file;
    unsigned int loaded = 0;

    if (!dir)
        return 0;
    while ((file = g_dir_read_name(dir))) {
        if (!g_str_has_suffix(file, ".xml") || file[0] == '.')
            continue;
        if (load_one(list, file))
            loaded++;
    }
    return loaded;
}
