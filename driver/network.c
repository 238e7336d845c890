/* A domain's network interfaces on the host: taps for type ethernet,
 * bridge and network, made at start and owned by the VMM from then on (the
 * daemon closes its fds, so a tap goes when its VMM goes); and
 * virDomainInterfaceStats, read from the tap. */
#include <config.h>

#include "network.h"

#include <libvirt/virterror.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "error.h"
#include "tap.h"
#include "vmconfig.h"

void vireo_network_close_fds(GArray *fds)
{
    vireo_tap_close((int *)(void *)fds->data, fds->len);
    g_array_set_size(fds, 0);
}

/* The bridge an interface joins: its own, its network's, or none. */
static int bridge_of(struct vireo_driver *drv, const struct vireo_net_def *net, const char **bridge,
                     GError **error)
{
    *bridge = NULL;
    if (net->type == VIREO_NET_BRIDGE)
        *bridge = net->source;
    else if (net->type == VIREO_NET_NETWORK &&
             !(*bridge = vireo_conf_network_bridge(drv->networks, net->source, error)))
        return -1;
    return 0;
}

static int prepare_one(struct vireo_driver *drv, struct vireo_net_def *net, GArray *fds,
                       GError **error)
{
    unsigned int n = vireo_vmconfig_net_fds(net);
    g_autofree int *mine = g_new(int, n);
    g_autofree char *ifname = NULL;
    const char *bridge;

    if (net->type == VIREO_NET_USER)
        return 0; /* no tap: the VMM starts passt */
    if (bridge_of(drv, net, &bridge, error) < 0 ||
        vireo_tap_create(net->target_dev, n, mine, &ifname, error) < 0)
        return -1;
    if (vireo_tap_setup(ifname, net->mac, net->mtu, bridge, error) < 0) {
        vireo_tap_close(mine, n);
        return -1;
    }
    g_array_append_vals(fds, mine, n);
    if (net->type == VIREO_NET_NETWORK) {
        g_free(net->bridge);
        net->bridge = g_strdup(bridge);
    }
    g_free(net->target_dev);
    net->target_dev = g_steal_pointer(&ifname);
    return 0;
}

int vireo_network_prepare(struct vireo_driver *drv, struct vireo_domain_def *live, GArray *fds,
                          GError **error)
{
    for (guint i = 0; i < live->nets->len; i++) {
        if (prepare_one(drv, live->nets->pdata[i], fds, error) < 0) {
            vireo_network_close_fds(fds);
            return -1;
        }
    }
    return 0;
}

/* The interface `path` names: its tap or its MAC address, as libvirt. */
static const struct vireo_net_def *find_interface(const struct vireo_domain_def *live,
                                                  const char *path)
{
    for (guint i = 0; i < live->nets->len; i++) {
        const struct vireo_net_def *net = live->nets->pdata[i];
        char mac[18];

        vireo_mac_format(net->mac, mac);
        if (!g_strcmp0(net->target_dev, path) || !g_ascii_strcasecmp(mac, path))
            return net;
    }
    return NULL;
}

VIREO_ENTRY(vireo_domain_interface_stats)
{
    wire_domain_interface_stats_args *a = args;
    wire_domain_interface_stats_ret *r = ret;
    struct vireo_domain *dom = vireo_lookup(opaque, &a->dom, error);
    const struct vireo_net_def *net;
    struct vireo_tap_stats s;

    if (!dom)
        return -1;
    if (!dom->vm || !dom->live) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_INVALID,
                    _("Requested operation is not valid: domain is not running"));
        return -1;
    }
    if (!(net = find_interface(dom->live, a->path)) || !net->target_dev) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INVALID_ARG,
                    _("invalid argument: '%s' is not a known interface"), a->path);
        return -1;
    }
    if (vireo_tap_stats(net->target_dev, &s, error) < 0)
        return -1;
    r->rx_bytes = s.rx_bytes;
    r->rx_packets = s.rx_packets;
    r->rx_errs = s.rx_errs;
    r->rx_drop = s.rx_drop;
    r->tx_bytes = s.tx_bytes;
    r->tx_packets = s.tx_packets;
    r->tx_errs = s.tx_errs;
    r->tx_drop = s.tx_drop;
    return 0;
}
