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

struct vireo_domain {
    struct vireo_domain_def *def; /* the persistent definition */
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
