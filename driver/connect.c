/* Entry points about the connection itself: open and close, what the daemon
 * is and supports, and the host it runs on. */
#include <config.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "driver.h"
#include "error.h"
#include "events.h"
#include "rpc/server.h"

/* Features of libvirt's internal virDrvFeature numbering that we offer:
 * remote (2), fd passing (8), string typed params (9), keepalive (10),
 * event callbacks (14), close callback (15). Migration ones stay 0. */
static const int supported_features[] = {2, 8, 9, 10, 14, 15};

/* The client is gone: its event callbacks and console streams go with it. */
static void conn_free(struct vireo_conn *conn)
{
    conn->drv->conns = g_list_remove(conn->drv->conns, conn);
    vireo_console_conn_closed(conn);
    g_array_unref(conn->callbacks);
    g_free(conn->uri);
    g_free(conn);
}

struct vireo_conn *vireo_conn_of(struct vireo_driver *drv, struct rpc_client *client)
{
    struct vireo_conn *conn = rpc_client_get_data(client);

    if (!conn) {
        conn = g_new0(struct vireo_conn, 1);
        conn->drv = drv;
        conn->client = client;
        conn->callbacks = g_array_new(FALSE, TRUE, sizeof(struct vireo_event_callback));
        conn->next_callback_id = 1;
        drv->conns = g_list_prepend(drv->conns, conn);
        rpc_client_set_data(client, conn, (GDestroyNotify)conn_free);
    }
    return conn;
}

/* The URIs a client may open here; "" and NULL mean "the one you serve". */
static bool uri_served(const char *name)
{
    static const char *const served[] = {
        "vireo:///system",
        "vireo:///system/",
        "vireo:///session",
        "vireo:///session/",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(served); i++)
        if (strcmp(name, served[i]) == 0)
            return true;
    return false;
}

VIREO_ENTRY(vireo_connect_open)
{
    struct vireo_driver *drv = opaque;
    wire_connect_open_args *a = args;
    struct vireo_conn *conn = vireo_conn_of(opaque, client);
    const char *name = a->name && *a->name && **a->name ? *a->name : drv->uri;

    if (conn->open) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INTERNAL_ERROR,
                    _("internal error: connection already open"));
        return -1;
    }
    if (!uri_served(name)) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_NO_CONNECT,
                    _("no connection driver available for %s: virtvireod serves "
                      "vireo:///system and vireo:///session"),
                    name);
        return -1;
    }
    /* Flag bits other than read-only are the client library's own business. */
    if (a->flags & VIR_CONNECT_RO)
        rpc_client_set_readonly(client);
    conn->uri = g_strdup(name);
    if (g_str_has_suffix(conn->uri, "/"))
        conn->uri[strlen(conn->uri) - 1] = '\0';
    conn->open = true;
    return 0;
}

VIREO_ENTRY(vireo_connect_close)
{
    struct vireo_conn *conn = vireo_conn_of(opaque, client);

    conn->open = false;
    g_clear_pointer(&conn->uri, g_free);
    return 0;
}

VIREO_ENTRY(vireo_connect_auth_list)
{
    wire_auth_list_ret *r = ret;

    /* Access is decided by the socket (permissions and peer credentials). */
    r->types.types_len = 1;
    r->types.types_val = g_new0(int, 1); /* REMOTE_AUTH_NONE */
    return 0;
}

VIREO_ENTRY(vireo_connect_supports_feature)
{
    wire_connect_supports_feature_args *a = args;
    wire_connect_supports_feature_ret *r = ret;

    r->supported = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(supported_features); i++)
        if (a->feature == supported_features[i])
            r->supported = 1;
    return 0;
}

VIREO_ENTRY(vireo_connect_get_type)
{
    wire_connect_get_type_ret *r = ret;

    r->type = g_strdup("VIREO");
    return 0;
}

/* major * 1,000,000 + minor * 1,000 + micro, as libvirt encodes versions. */
static unsigned long long version_number(const char *version)
{
    unsigned int major = 0, minor = 0, micro = 0;

    if (sscanf(version, "%u.%u.%u", &major, &minor, &micro) < 1)
        return 0;
    return major * 1000000ull + minor * 1000ull + micro;
}

VIREO_ENTRY(vireo_connect_get_version)
{
    wire_connect_get_version_ret *r = ret;

    r->hv_ver = version_number(PACKAGE_VERSION);
    return 0;
}

VIREO_ENTRY(vireo_connect_get_lib_version)
{
    wire_connect_get_lib_version_ret *r = ret;

    /* The libvirt API level the daemon speaks: clients such as nova compare
     * it against their minimum libvirt version. */
    r->lib_ver = LIBVIR_VERSION_NUMBER;
    return 0;
}

VIREO_ENTRY(vireo_connect_get_hostname)
{
    wire_connect_get_hostname_ret *r = ret;

    r->hostname = g_strdup(g_get_host_name());
    return 0;
}

VIREO_ENTRY(vireo_connect_get_uri)
{
    struct vireo_driver *drv = opaque;
    wire_connect_get_uri_ret *r = ret;
    struct vireo_conn *conn = vireo_conn_of(opaque, client);

    r->uri = g_strdup(conn->uri ? conn->uri : drv->uri);
    return 0;
}

VIREO_ENTRY(vireo_connect_get_max_vcpus)
{
    wire_connect_get_max_vcpus_args *a = args;
    wire_connect_get_max_vcpus_ret *r = ret;
    const char *type = a->type ? *a->type : NULL;

    if (type && g_ascii_strcasecmp(type, "kvm") != 0 && g_ascii_strcasecmp(type, "vireo") != 0) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INVALID_ARG,
                    _("invalid argument: unknown type '%s'"), type);
        return -1;
    }
    r->max_vcpus = VIREO_MAX_VCPUS;
    return 0;
}

VIREO_ENTRY(vireo_connect_is_secure)
{
    wire_connect_is_secure_ret *r = ret;

    r->secure = 1; /* a local unix socket */
    return 0;
}

VIREO_ENTRY(vireo_connect_register_close_callback)
{
    return 0;
}

VIREO_ENTRY(vireo_connect_unregister_close_callback)
{
    return 0;
}

VIREO_ENTRY(vireo_node_get_info)
{
    struct vireo_driver *drv = opaque;
    const struct vireo_host_info *host = drv->host;
    wire_node_get_info_ret *r = ret;

    /* libvirt reports the architecture as the "CPU model" of nodeinfo. */
    g_strlcpy(r->model, host->arch ? host->arch : "x86_64", sizeof(r->model));
    r->memory = host->memory_kib;
    r->cpus = host->cpus ? host->cpus->len : host->sockets * host->cores * host->threads;
    r->mhz = host->cpu_mhz;
    r->nodes = 1;
    r->sockets = host->sockets;
    r->cores = host->cores;
    r->threads = host->threads;
    return 0;
}

VIREO_ENTRY(vireo_connect_get_capabilities)
{
    struct vireo_driver *drv = opaque;
    wire_connect_get_capabilities_ret *r = ret;

    r->capabilities = vireo_capabilities_format(drv->host);
    if (!r->capabilities) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INTERNAL_ERROR,
                    _("internal error: cannot format the capabilities"));
        return -1;
    }
    return 0;
}

VIREO_ENTRY(vireo_connect_get_domain_capabilities)
{
    struct vireo_driver *drv = opaque;
    wire_connect_get_domain_capabilities_args *a = args;
    wire_connect_get_domain_capabilities_ret *r = ret;

    if (a->flags) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INVALID_ARG,
                    _("invalid argument: unsupported flags (0x%x) in function %s"), a->flags,
                    "virConnectGetDomainCapabilities");
        return -1;
    }
    r->capabilities = vireo_domain_capabilities_format(
        drv->host, a->emulatorbin ? *a->emulatorbin : NULL, a->arch ? *a->arch : NULL,
        a->machine ? *a->machine : NULL, a->virttype ? *a->virttype : NULL, error);
    return r->capabilities ? 0 : -1;
}
