/* TAP backend: opens /dev/net/tun once per queue pair (IFF_MULTI_QUEUE when
 * there are several), or adopts fds the parent opened, and sets up the host
 * side of the link with the classic interface ioctls. */
#include "config.h"

#include "net/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "net/netif.h"

#define TAP_VNET_HDR_SIZE 12 /* struct virtio_net_hdr_v1 */

struct tap {
    int *fds;
    unsigned int nr_fds;
    bool multi_queue;
    char name[IFNAMSIZ];
};

static void tap_close_fds(int *fds, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
    }
}

static int tap_set_offload(void *opaque, unsigned int offloads)
{
    struct tap *t = opaque;

    for (unsigned int i = 0; i < t->nr_fds; i++) {
        if (ioctl(t->fds[i], TUNSETOFFLOAD, (unsigned long)offloads) < 0) {
            /* Kernels without UFO on TAP: keep the rest. */
            if (errno == EINVAL && (offloads & TUN_F_UFO) &&
                ioctl(t->fds[i], TUNSETOFFLOAD, (unsigned long)(offloads & ~TUN_F_UFO)) == 0)
                continue;
            return -errno;
        }
    }
    return 0;
}

static int tap_set_queue_enabled(void *opaque, unsigned int pair, bool enabled)
{
    struct tap *t = opaque;
    struct ifreq ifr = {0};

    if (!t->multi_queue || pair >= t->nr_fds)
        return 0;
    ifr.ifr_flags = enabled ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
    if (ioctl(t->fds[pair], TUNSETQUEUE, &ifr) < 0 && errno != EINVAL)
        return -errno; /* EINVAL: already in that state */
    return 0;
}

static void tap_free(void *opaque)
{
    struct tap *t = opaque;

    if (!t)
        return;
    tap_close_fds(t->fds, t->nr_fds);
    g_free(t->fds);
    g_free(t);
}

static const struct net_backend_ops tap_ops = {
    .set_offload = tap_set_offload,
    .set_queue_enabled = tap_set_queue_enabled,
    .free = tap_free,
};

/* Learns what an inherited fd is: a TAP, its name, whether frames carry
 * the vnet header. */
static int tap_adopt_fd(int fd, char *name, bool *vnet_hdr, bool *multi_queue)
{
    struct ifreq ifr = {0};
    int fl;

    if (ioctl(fd, TUNGETIFF, &ifr) < 0)
        return -errno;
    if (!(ifr.ifr_flags & IFF_TAP) || !(ifr.ifr_flags & IFF_NO_PI))
        return -EPROTO;
    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return -errno;
    g_strlcpy(name, ifr.ifr_name, IFNAMSIZ);
    *vnet_hdr = ifr.ifr_flags & IFF_VNET_HDR;
    *multi_queue = ifr.ifr_flags & IFF_MULTI_QUEUE;
    return 0;
}

/* Host side of the link: MAC, MTU, IPv4 address and mask, up. */
static int tap_configure(const struct tap *t, const struct tap_opts *o, bool up, char **err)
{
    struct in_addr ip, mask;
    const char *what;
    int sock, ret = 0;

    if (o->ip && inet_pton(AF_INET, o->ip, &ip) != 1) {
        *err = g_strdup_printf("ip=%s is not an IPv4 address", o->ip);
        return -EINVAL;
    }
    if (o->mask && inet_pton(AF_INET, o->mask, &mask) != 1) {
        *err = g_strdup_printf("mask=%s is not an IPv4 netmask", o->mask);
        return -EINVAL;
    }
    if (!o->host_mac && !o->mtu && !o->ip && !o->mask && !up)
        return 0;
    sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        ret = -errno;
        *err = g_strdup_printf("tap %s: socket: %s", t->name, g_strerror(-ret));
        return ret;
    }
    if (o->host_mac) {
        what = "host_mac";
        if ((ret = netif_set_mac(sock, t->name, o->host_mac)))
            goto out;
    }
    if (o->mtu) {
        what = "mtu";
        if ((ret = netif_set_mtu(sock, t->name, o->mtu)))
            goto out;
    }
    if (o->ip) {
        what = "ip";
        if ((ret = netif_set_ipv4(sock, t->name, &ip)))
            goto out;
    }
    if (o->mask) {
        what = "mask";
        if ((ret = netif_set_ipv4_mask(sock, t->name, &mask)))
            goto out;
    }
    if (up) {
        what = "link up";
        ret = netif_set_up(sock, t->name);
    }
out:
    if (ret)
        *err = g_strdup_printf("tap %s: setting %s: %s", t->name, what, g_strerror(-ret));
    close(sock);
    return ret;
}

int tap_open(const struct tap_opts *o, struct net_backend *out, char **err)
{
    struct tap *t = g_new0(struct tap, 1);
    bool vnet_hdr = true, created = false;
    int hdr = TAP_VNET_HDR_SIZE;
    int ret;

    memset(out, 0, sizeof(*out));
    if (o->fds) {
        t->nr_fds = o->nr_fds;
        t->fds = g_memdup2(o->fds, sizeof(int) * o->nr_fds);
        for (unsigned int i = 0; i < t->nr_fds; i++) {
            char name[IFNAMSIZ];
            bool vh = false, mq = false;

            ret = tap_adopt_fd(t->fds[i], name, &vh, &mq);
            if (ret) {
                *err = g_strdup_printf("fd=%d is not a usable TAP fd: %s", t->fds[i],
                                       ret == -EPROTO ? "not a TAP without packet info"
                                                      : g_strerror(-ret));
                /* Not known to be a TAP given to us: not ours to close (it may
                 * be the API socket, named by a hostile VmConfig). */
                for (unsigned int j = i; j < t->nr_fds; j++)
                    t->fds[j] = -1;
                goto fail;
            }
            if (i == 0) {
                g_strlcpy(t->name, name, IFNAMSIZ);
                vnet_hdr = vh;
                t->multi_queue = mq;
            } else if (strcmp(name, t->name) || vh != vnet_hdr) {
                *err = g_strdup_printf("fd=%d belongs to %s, not to %s as fd=%d", t->fds[i], name,
                                       t->name, t->fds[0]);
                ret = -EINVAL;
                goto fail;
            }
        }
    } else {
        unsigned int pairs = o->pairs ? o->pairs : 1;

        g_strlcpy(t->name, o->name && *o->name ? o->name : "vmtap%d", IFNAMSIZ);
        if (o->name && strlen(o->name) >= IFNAMSIZ) {
            *err = g_strdup_printf("tap=%s: interface names have at most %d characters", o->name,
                                   IFNAMSIZ - 1);
            ret = -EINVAL;
            goto fail;
        }
        t->multi_queue = pairs > 1;
        t->fds = g_new(int, pairs);
        for (unsigned int i = 0; i < pairs; i++)
            t->fds[i] = -1;
        t->nr_fds = pairs;
        for (unsigned int i = 0; i < pairs; i++) {
            ret = netif_tap_open(t->name, t->multi_queue, O_NONBLOCK, &t->fds[i]);
            if (ret) {
                *err = g_strdup_printf("tap=%s: cannot open queue %u of the TAP: %s",
                                       o->name && *o->name ? o->name : "", i, g_strerror(-ret));
                goto fail;
            }
        }
        created = true;
    }
    if (vnet_hdr) {
        for (unsigned int i = 0; i < t->nr_fds; i++) {
            if (ioctl(t->fds[i], TUNSETVNETHDRSZ, &hdr) < 0) {
                ret = -errno;
                *err = g_strdup_printf("tap %s: TUNSETVNETHDRSZ: %s", t->name, g_strerror(errno));
                goto fail;
            }
        }
        /* Probe: the offloads we may offer the guest need the kernel's help. */
        out->offloads =
            tap_set_offload(t, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN) == 0;
        if (tap_set_offload(t, 0) < 0)
            out->offloads = false;
    }
    ret = tap_configure(t, o, created || o->ip, err);
    if (ret)
        goto fail;
    /* Until the guest says otherwise only the first pair gets traffic. */
    for (unsigned int i = 1; i < t->nr_fds; i++)
        tap_set_queue_enabled(t, i, false);
    out->ops = &tap_ops;
    out->opaque = t;
    out->fds = t->fds;
    out->nr_fds = t->nr_fds;
    out->vnet_hdr = vnet_hdr;
    g_strlcpy(out->name, t->name, sizeof(out->name));
    log_info("tap %s: %u queue(s)%s%s", t->name, t->nr_fds, vnet_hdr ? ", vnet header" : "",
             out->offloads ? ", offloads" : "");
    return 0;
fail:
    tap_free(t);
    return ret;
}
