/* TAP devices for a domain's interfaces: /dev/net/tun opened once per queue
 * pair, the host side set up with the classic interface ioctls, bridges
 * joined with SIOCBRADDIF, counters read from sysfs. */
#include <config.h>

#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <libvirt/virterror.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"

void vireo_tap_close(int *fds, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
}

/* One queue of tap `name` (which may be a %d pattern); the kernel's name
 * comes back in `name`. -errno on failure. */
static int open_queue(char name[IFNAMSIZ], bool multi_queue, int *fd)
{
    struct ifreq ifr = {0};

    *fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (*fd < 0)
        return -errno;
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multi_queue ? IFF_MULTI_QUEUE : 0);
    g_strlcpy(ifr.ifr_name, name, IFNAMSIZ);
    if (ioctl(*fd, TUNSETIFF, &ifr) < 0) {
        int ret = -errno;

        close(*fd);
        *fd = -1;
        return ret;
    }
    g_strlcpy(name, ifr.ifr_name, IFNAMSIZ);
    return 0;
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
        int ret = open_queue(actual, queues > 1, &fds[i]);

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
    struct ifreq ifr;
    int sock = -1, ret = -1;

    if (bridge && bridge_check(bridge, error) < 0)
        return -1;
    if ((sock = control_socket(error)) < 0)
        return -1;

    memset(&ifr, 0, sizeof(ifr));
    g_strlcpy(ifr.ifr_name, ifname, IFNAMSIZ);
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
    ifr.ifr_hwaddr.sa_data[0] = (char)0xfe;
    if (ioctl(sock, SIOCSIFHWADDR, &ifr) < 0) {
        int saved = errno;
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                    _("cannot set the MAC address of the tap device '%s': %s"), ifname,
                    g_strerror(saved));
        goto out;
    }

    if (!mtu && bridge) {
        memset(&ifr, 0, sizeof(ifr));
        g_strlcpy(ifr.ifr_name, bridge, IFNAMSIZ);
        if (ioctl(sock, SIOCGIFMTU, &ifr) == 0)
            mtu = (unsigned int)ifr.ifr_mtu;
    }
    if (mtu) {
        memset(&ifr, 0, sizeof(ifr));
        g_strlcpy(ifr.ifr_name, ifname, IFNAMSIZ);
        ifr.ifr_mtu = (int)mtu;
        if (ioctl(sock, SIOCSIFMTU, &ifr) < 0) {
            int saved = errno;
            g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                        _("cannot set the MTU of the tap device '%s' to %u: %s"), ifname, mtu,
                        g_strerror(saved));
            goto out;
        }
    }

    if (bridge) {
        memset(&ifr, 0, sizeof(ifr));
        g_strlcpy(ifr.ifr_name, bridge, IFNAMSIZ);
        ifr.ifr_ifindex = (int)if_nametoindex(ifname);
        if (!ifr.ifr_ifindex || ioctl(sock, SIOCBRADDIF, &ifr) < 0) {
            int saved = ifr.ifr_ifindex ? errno : ENODEV;
            g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                        _("cannot attach the tap device '%s' to the bridge '%s': %s"), ifname,
                        bridge, g_strerror(saved));
            goto out;
        }
    }

    memset(&ifr, 0, sizeof(ifr));
    g_strlcpy(ifr.ifr_name, ifname, IFNAMSIZ);
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(sock, SIOCSIFFLAGS, &ifr) == 0)
            ret = 0;
    }
    if (ret < 0) {
        int saved = errno;
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR,
                    _("cannot bring up the tap device '%s': %s"), ifname, g_strerror(saved));
    }
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
