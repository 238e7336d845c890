/* Interface ioctls on a struct ifreq: see netif.h. */
#include "config.h"

#include "net/netif.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if_arp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static void ifreq_init(struct ifreq *ifr, const char *ifname)
{
    memset(ifr, 0, sizeof(*ifr));
    g_strlcpy(ifr->ifr_name, ifname, IFNAMSIZ);
}

static int ifreq_ioctl(int sock, unsigned long req, struct ifreq *ifr)
{
    return ioctl(sock, req, ifr) < 0 ? -errno : 0;
}

int netif_tap_open(char name[IFNAMSIZ], bool multi_queue, int open_flags, int *fd)
{
    struct ifreq ifr;
    int ret;

    *fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | open_flags);
    if (*fd < 0)
        return -errno;
    ifreq_init(&ifr, name);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multi_queue ? IFF_MULTI_QUEUE : 0);
    ret = ifreq_ioctl(*fd, TUNSETIFF, &ifr);
    if (ret < 0) {
        close(*fd);
        *fd = -1;
        return ret;
    }
    g_strlcpy(name, ifr.ifr_name, IFNAMSIZ);
    return 0;
}

int netif_set_mac(int sock, const char *ifname, const uint8_t mac[6])
{
    struct ifreq ifr;

    ifreq_init(&ifr, ifname);
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
    return ifreq_ioctl(sock, SIOCSIFHWADDR, &ifr);
}

int netif_get_mtu(int sock, const char *ifname, unsigned int *mtu)
{
    struct ifreq ifr;
    int ret;

    ifreq_init(&ifr, ifname);
    ret = ifreq_ioctl(sock, SIOCGIFMTU, &ifr);
    if (ret == 0)
        *mtu = (unsigned int)ifr.ifr_mtu;
    return ret;
}

int netif_set_mtu(int sock, const char *ifname, unsigned int mtu)
{
    struct ifreq ifr;

    ifreq_init(&ifr, ifname);
    ifr.ifr_mtu = (int)mtu;
    return ifreq_ioctl(sock, SIOCSIFMTU, &ifr);
}

static void set_in_addr(struct sockaddr *sa, const struct in_addr *a)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr = *a};

    memcpy(sa, &sin, sizeof(sin));
}

int netif_set_ipv4(int sock, const char *ifname, const struct in_addr *ip)
{
    struct ifreq ifr;

    ifreq_init(&ifr, ifname);
    set_in_addr(&ifr.ifr_addr, ip);
    return ifreq_ioctl(sock, SIOCSIFADDR, &ifr);
}

int netif_set_ipv4_mask(int sock, const char *ifname, const struct in_addr *mask)
{
    struct ifreq ifr;

    ifreq_init(&ifr, ifname);
    set_in_addr(&ifr.ifr_netmask, mask);
    return ifreq_ioctl(sock, SIOCSIFNETMASK, &ifr);
}

int netif_set_up(int sock, const char *ifname)
{
    struct ifreq ifr;
    int ret;

    ifreq_init(&ifr, ifname);
    ret = ifreq_ioctl(sock, SIOCGIFFLAGS, &ifr);
    if (ret < 0)
        return ret;
    ifr.ifr_flags |= IFF_UP;
    return ifreq_ioctl(sock, SIOCSIFFLAGS, &ifr);
}

int netif_bridge_add(int sock, const char *bridge, const char *ifname)
{
    struct ifreq ifr;

    ifreq_init(&ifr, bridge);
    ifr.ifr_ifindex = (int)if_nametoindex(ifname);
    if (!ifr.ifr_ifindex)
        return -ENODEV;
    return ifreq_ioctl(sock, SIOCBRADDIF, &ifr);
}
