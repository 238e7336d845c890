/* vireo.conf: libvirt's qemu.conf syntax (`key = "value"`, # comments),
 * parsed into the settings the daemon knows. */
#ifndef VIREO_DRIVER_CONF_H
#define VIREO_DRIVER_CONF_H

#include <glib.h>

typedef struct vireo_conf vireo_conf;

struct vireo_conf {
    char *user;           /* user = "NAME" or uid */
    char *group;          /* group = "NAME" or gid */
    GHashTable *networks; /* network.NAME = "BRIDGE": char * -> char * */
};

/* Parses the text of vireo.conf (`path` is for messages) into conf, which
 * the caller zeroes first and clears with vireo_conf_clear(). -1 with
 * *error set (VIR_ERR_CONF_SYNTAX naming the file and line). */
int vireo_conf_parse(struct vireo_conf *conf, const char *path, const char *text, GError **error)
    __attribute__((warn_unused_result));

void vireo_conf_clear(struct vireo_conf *conf);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(vireo_conf, vireo_conf_clear)

/* The bridge a libvirt network stands for, from networks (NULL for none
 * configured); NULL with *error set (VIR_ERR_NO_NETWORK naming it) when
 * vireo.conf does not name it. */
const char *vireo_conf_network_bridge(GHashTable *networks, const char *network, GError **error);

#endif
