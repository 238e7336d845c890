/* TAP devices for a domain's interfaces: /dev/net/tun opened once per queue
 * pair, the host side set up and bridges joined with the interface calls
 * vireo-vmm uses too (vmm/net/netif.h), counters read from sysfs. */
#include <config.h>

#include "tap.h"

#include <errno.h>
#include <libvirt/virterror.h>
#include <net/if.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"
#include "vmm/net/netif.h"

void vireo_tap_close(int *fds, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
}

static bool usable_name(const char *name)
{
    return *name && strlen(name) < IFNAMSIZ && !strchr(name, '%') && !strchr(name, '/') &&
           !strchr(name, ' ') && strcmp(name, ".") && strcmp(name, "..");
}

int vireo_tap_create(const char *name, unsigned int queues, int *fds, char **ifname, GError **error)
{
    char actual[IFNAMSIZ];
    const char *shown = name ? name : "vnetN";

    for (unsigned int i = 0; i < queues; i++)
        fds[i] = -1;
    if (name && !usable_name(name)) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                    _("unsupported configuration: <interface><target dev='%s'>: not a usable "
                      "interface name"),
                    name);
        return -1;
    }
    /* TUNSETIFF would attach to an existing tap: a name in use is refused. */
    if (name && if_nametoindex(name)) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
                    _("operation failed: cannot create the tap device '%s': an interface of "
                      "that name exists"),
                    name);
        return -1;
    }
    g_strlcpy(actual, name ? name : VIREO_TAP_PATTERN, sizeof(actual));
    for (unsigned int i = 0; i < queues; i++) {
        int ret = netif_tap_open(actual, queues > 1, 0, &fds[i]);

        if (ret < 0) {
            if (i)
                g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                            _("cannot open queue %u of the tap device '%s': %s"), i, actual,
                            g_strerror(-ret));
            else if (ret == -EPERM || ret == -EACCES)
                g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                            _("cannot create the tap device '%s': %s (making taps needs "
                              "CAP_NET_ADMIN: the system daemon, vireo:///system)"),
                            shown, g_strerror(-ret));
            else
                g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                            _("cannot create the tap device '%s': %s"), shown, g_strerror(-ret));
            vireo_tap_close(fds, queues);
            return -1;
        }
    }
    *ifname = g_strdup(actual);
    return 0;
}

static int control_socket(GError **error)
{
    int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (sock < 0) {
        int saved = errno;
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                    _("cannot open a socket to configure interfaces: %s"), g_strerror(saved));
    }
    return sock;
}

static int bridge_check(const char *bridge, GError **error)
{
    g_autofree char *dir = g_build_filename("/sys/class/net", bridge, "bridge", NULL);

    if (!if_nametoindex(bridge)) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
                    _("operation failed: the bridge '%s' does not exist"), bridge);
        return -1;
    }
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
                    _("operation failed: the interface '%s' is not a bridge"), bridge);
        return -1;
    }
    return 0;
}

int vireo_tap_setup(const char *ifname, const uint8_t mac[6], unsigned int mtu, const char *bridge,
                    GError **error)
{
    /* The host side's MAC: the guest's with a first byte of 0xfe, which
     * keeps a bridge from taking the tap's address for its own. */
    uint8_t host_mac[6] = {0xfe, mac[1], mac[2], mac[3], mac[4], mac[5]};
    int sock, ret = -1, err;

    if (bridge && bridge_check(bridge, error) < 0)
        return -1;
    if ((sock = control_socket(error)) < 0)
        return -1;

    if ((err = netif_set_mac(sock, ifname, host_mac)) < 0) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                    _("cannot set the MAC address of the tap device '%s': %s"), ifname,
                    g_strerror(-err));
        goto out;
    }
    if (!mtu && bridge)
        netif_get_mtu(sock, bridge, &mtu); /* the bridge's, when it has one */
    if (mtu && (err = netif_set_mtu(sock, ifname, mtu)) < 0) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                    _("cannot set the MTU of the tap device '%s' to %u: %s"), ifname, mtu,
                    g_strerror(-err));
        goto out;
    }
    if (bridge && (err = netif_bridge_add(sock, bridge, ifname)) < 0) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                    _("cannot attach the tap device '%s' to the bridge '%s': %s"), ifname, bridge,
                    g_strerror(-err));
        goto out;
    }
    if ((err = netif_set_up(sock, ifname)) < 0) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                    _("cannot bring up the tap device '%s': %s"), ifname, g_strerror(-err));
        goto out;
    }
    ret = 0;
out:
    close(sock);
    return ret;
}

static int read_counter(const char *ifname, const char *name, int64_t *value, GError **error)
{
    g_autofree char *path = g_strdup_printf("/sys/class/net/%s/statistics/%s", ifname, name);
    g_autofree char *text = NULL;
    g_autoptr(GError) e = NULL;

    if (!g_file_get_contents(path, &text, NULL, &e)) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
                    _("operation failed: cannot read the counters of interface '%s': %s"), ifname,
                    e->message);
        return -1;
    }
    *value = (int64_t)g_ascii_strtoll(text, NULL, 10);
    return 0;
}

int vireo_tap_stats(const char *ifname, struct vireo_tap_stats *s, GError **error)
{
    /* The host's tx is the guest's rx. */
    if (read_counter(ifname, "tx_bytes", &s->rx_bytes, error) < 0 ||
        read_counter(ifname, "tx_packets", &s->rx_packets, error) < 0 ||
        read_counter(ifname, "tx_errors", &s->rx_errs, error) < 0 ||
        read_counter(ifname, "tx_dropped", &s->rx_drop, error) < 0 ||
        read_counter(ifname, "rx_bytes", &s->tx_bytes, error) < 0 ||
        read_counter(ifname, "rx_packets", &s->tx_packets, error) < 0 ||
        read_counter(ifname, "rx_errors", &s->tx_errs, error) < 0 ||
        read_counter(ifname, "rx_dropped", &s->tx_drop, error) < 0)
        return -1;
    return 0;
}
