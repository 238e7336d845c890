/* What virtio-net needs from a network backend: one non-blocking fd per
 * queue pair that reads and writes whole frames (one frame per read or
 * write), and a few controls. The TAP backend (net/tap.c) implements it;
 * tests implement it on socket pairs. */
#ifndef VIREO_VMM_NET_BACKEND_H
#define VIREO_VMM_NET_BACKEND_H

#include <stdbool.h>

/* Offloads the guest accepts on receive (TUN_F_* of linux/if_tun.h). */
#define NET_OFFLOAD_CSUM 0x01
#define NET_OFFLOAD_TSO4 0x02
#define NET_OFFLOAD_TSO6 0x04
#define NET_OFFLOAD_ECN  0x08
#define NET_OFFLOAD_UFO  0x10

struct net_backend_ops {
    /* Which receive offloads the backend may hand over from now on. 0 or
     * -errno. NULL: no offloads. */
    int (*set_offload)(void *opaque, unsigned int offloads);
    /* Attaches or detaches queue pair `pair` (multiqueue TAP: traffic is
     * only steered to attached queues). NULL: always attached. */
    int (*set_queue_enabled)(void *opaque, unsigned int pair, bool enabled);
    /* Closes the fds and frees opaque. */
    void (*free)(void *opaque);
};

struct net_backend {
    const struct net_backend_ops *ops;
    void *opaque;
    int *fds; /* one per queue pair, non-blocking; owned by opaque */
    unsigned int nr_fds;
    bool vnet_hdr; /* frames start with a 12-byte virtio_net_hdr_v1 */
    bool offloads; /* set_offload works: checksum/TSO/UFO may be offered */
    char name[32]; /* host interface name, for messages */
};

#endif
