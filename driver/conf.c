/* vireo.conf: the daemon's settings file, in the syntax of libvirt's
 * qemu.conf, for the keys Vireo knows. */
#include <config.h>

#include "conf.h"

#include <libvirt/virterror.h>
#include <net/if.h>
#include <string.h>

#include "error.h"

#define NETWORK_PREFIX "network."

/* A network is named by a libvirt network name; its bridge is a Linux
 * interface name. */
static int set_network(struct vireo_conf *conf, const char *path, unsigned int lineno,
                       const char *name, const char *bridge, GError **error)
{
    if (!*name) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_CONF_SYNTAX,
                    _("configuration file syntax error: %s:%u: expected network.NAME = "
                      "\"BRIDGE\""),
                    path, lineno);
        return -1;
    }
    if (!*bridge || strlen(bridge) >= IFNAMSIZ || strchr(bridge, '/') || strchr(bridge, ' ')) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_CONF_SYNTAX,
                    _("configuration file syntax error: %s:%u: network '%s': '%s' is not a "
                      "bridge name"),
                    path, lineno, name, bridge);
        return -1;
    }
    if (!conf->networks)
        conf->networks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_replace(conf->networks, g_strdup(name), g_strdup(bridge));
    return 0;
}

static int parse_line(struct vireo_conf *conf, const char *path, unsigned int lineno, char *line,
                      GError **error)
{
    char *eq, *key, *value;

    if ((eq = strchr(line, '#')))
        *eq = '\0';
    g_strstrip(line);
    if (!*line)
        return 0;
    if (!(eq = strchr(line, '='))) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_CONF_SYNTAX,
                    _("configuration file syntax error: %s:%u: expected key = value"), path,
                    lineno);
        return -1;
    }
    *eq = '\0';
    key = g_strstrip(line);
    value = g_strstrip(eq + 1);
    if (value[0] == '"' && strlen(value) >= 2 && value[strlen(value) - 1] == '"') {
        value[strlen(value) - 1] = '\0';
        value++;
    }
    if (!strcmp(key, "user")) {
        g_free(conf->user);
        conf->user = g_strdup(value);
    } else if (!strcmp(key, "group")) {
        g_free(conf->group);
        conf->group = g_strdup(value);
    } else if (g_str_has_prefix(key, NETWORK_PREFIX)) {
        return set_network(conf, path, lineno, key + strlen(NETWORK_PREFIX), value, error);
    } else {
        g_warning(_("%s:%u: unknown setting '%s' ignored"), path, lineno, key);
    }
    return 0;
}

int vireo_conf_parse(struct vireo_conf *conf, const char *path, const char *text, GError **error)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", 0);

    for (guint i = 0; lines[i]; i++)
        if (parse_line(conf, path, i + 1, lines[i], error) < 0)
            return -1;
    return 0;
}

void vireo_conf_clear(struct vireo_conf *conf)
{
    g_clear_pointer(&conf->user, g_free);
    g_clear_pointer(&conf->group, g_free);
    g_clear_pointer(&conf->networks, g_hash_table_unref);
}

const char *vireo_conf_network_bridge(GHashTable *networks, const char *network, GError **error)
{
    const char *bridge = networks ? g_hash_table_lookup(networks, network) : NULL;

    if (!bridge)
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_NO_NETWORK,
                    _("Network not found: no network with matching name '%s' (vireo.conf has no "
                      "network.%s = \"BRIDGE\")"),
                    network, network);
    return bridge;
}
