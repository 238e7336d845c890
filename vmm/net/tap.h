/* TAP backends for virtio-net: a Linux TAP interface opened through
 * /dev/net/tun (created when absent), or TAP queue fds handed over by the
 * parent (libvirt). One fd per queue pair; frames carry the 12-byte virtio
 * net header when the interface has IFF_VNET_HDR. */
#ifndef VIREO_VMM_NET_TAP_H
#define VIREO_VMM_NET_TAP_H

#include <stdbool.h>
#include <stdint.h>

#include "net/backend.h"

struct tap_opts {
    const char *name;        /* interface name; NULL or "": the kernel picks vmtapN */
    const int *fds;          /* or: already open TAP queue fds (taken over) */
    unsigned int nr_fds;     /* queue pairs when fds is set */
    unsigned int pairs;      /* queue pairs to open by name */
    const char *ip;          /* host-side IPv4 address, or NULL */
    const char *mask;        /* its netmask, or NULL */
    const uint8_t *host_mac; /* 6 bytes, or NULL */
    unsigned int mtu;        /* 0: leave as is */
};

/* Opens or adopts the TAP and configures the host side (address, MAC, MTU,
 * link up). 0 or -errno with a one-line reason in *err (g_free it); on
 * failure the fds in opts that proved to be TAPs are closed, and an fd that
 * is not a TAP (from its first on) is left alone: it is not ours. */
int tap_open(const struct tap_opts *opts, struct net_backend *out, char **err)
    __attribute__((warn_unused_result));

#endif
