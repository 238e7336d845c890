/* The driver's list of domains: one object per domain with its definition,
 * state and autostart flag, found by name, uuid or id, and kept in the config
 * dir as <name>.xml (plus autostart/<name>.xml symlinks) so that a restart of
 * the daemon loses nothing. */
#ifndef VIREO_DRIVER_DOMAIN_H
#define VIREO_DRIVER_DOMAIN_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "xml/domain_def.h"

struct vireo_vm;

struct vireo_domain {
    struct vireo_domain_def *def;  /* the persistent definition */
    struct vireo_domain_def *live; /* what runs (ids, ptys, aliases); NULL while inactive */
    struct vireo_vm *vm;           /* the running VMM (process.h); NULL while inactive */
    bool persistent;
    bool autostart;
    int id;     /* -1 while inactive */
    int state;  /* virDomainState */
    int reason; /* the matching virDomain*Reason */
    GMutex job; /* held by the entry point acting on the domain */
};

struct vireo_domain_list;

struct vireo_domain_list *vireo_domain_list_new(const char *config_dir);
void vireo_domain_list_free(struct vireo_domain_list *list);

/* Loads every <name>.xml of the config dir. A file that cannot be read or
 * parsed, or that clashes with another, is reported and skipped. Returns the
 * number of domains loaded. */
unsigned int vireo_domain_list_load(struct vireo_domain_list *list);

struct vireo_domain *vireo_domain_list_find_name(struct vireo_domain_list *list, const char *name);
struct vireo_domain *vireo_domain_list_find_uuid(struct vireo_domain_list *list,
                                                 const uint8_t uuid[16]);
struct vireo_domain *vireo_domain_list_find_id(struct vireo_domain_list *list, int id);

/* Every domain, sorted by name (borrowed pointers). */
GPtrArray *vireo_domain_list_all(struct vireo_domain_list *list);

/* Adds a new definition or replaces the one with the same uuid and name,
 * then writes it to disk. Takes def. NULL with *error set on a name or uuid
 * clash or a write failure. */
struct vireo_domain *vireo_domain_list_define(struct vireo_domain_list *list,
                                              struct vireo_domain_def *def, bool *added,
                                              GError **error);

/* Adds a transient domain (virsh create, or a running transient domain
 * found again after a daemon restart). Takes def. NULL with *error set on
 * a name or uuid clash. */
struct vireo_domain *vireo_domain_list_add_transient(struct vireo_domain_list *list,
                                                     struct vireo_domain_def *def, GError **error);

/* Forgets a domain without touching its files (a transient domain that
 * stopped); dom is freed. */
void vireo_domain_list_remove(struct vireo_domain_list *list, struct vireo_domain *dom);

/* Turns a running persistent domain into a transient one: removes its files,
 * keeps it in the list. */
int vireo_domain_list_make_transient(struct vireo_domain_list *list, struct vireo_domain *dom,
                                     GError **error) __attribute__((warn_unused_result));

/* The definition that describes the domain now: the live one while it runs. */
static inline const struct vireo_domain_def *
vireo_domain_current_def(const struct vireo_domain *dom)
{
    return dom->live ? dom->live : dom->def;
}

/* Removes the domain and its files; dom is freed. */
int vireo_domain_list_undefine(struct vireo_domain_list *list, struct vireo_domain *dom,
                               GError **error) __attribute__((warn_unused_result));

int vireo_domain_list_set_autostart(struct vireo_domain_list *list, struct vireo_domain *dom,
                                    bool autostart, GError **error)
    __attribute__((warn_unused_result));

/* The job lock of one domain: entry points that act on a domain hold it. */
void vireo_domain_job_begin(struct vireo_domain *dom);
void vireo_domain_job_end(struct vireo_domain *dom);

#endif
