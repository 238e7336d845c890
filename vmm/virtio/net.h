/* virtio-net (virtio 1.x, section 5.1): receive/transmit queue pairs in
 * front of a network backend (net/backend.h), a control queue, and per-pair
 * counters. The transmit-frame builder and the control-command parser
 * (virtio/net_request.c) are pure functions over guest memory so tests and
 * fuzzers can drive them. */
#ifndef VIREO_VMM_VIRTIO_NET_H
#define VIREO_VMM_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "guest_memory.h"
#include "net/backend.h"
#include "virtio/device.h"
#include "virtio/queue.h"

#define VIRTIO_NET_F_CSUM                0
#define VIRTIO_NET_F_GUEST_CSUM          1
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MTU                 3
#define VIRTIO_NET_F_MAC                 5
#define VIRTIO_NET_F_GUEST_TSO4          7
#define VIRTIO_NET_F_GUEST_TSO6          8
#define VIRTIO_NET_F_GUEST_ECN           9
#define VIRTIO_NET_F_GUEST_UFO           10
#define VIRTIO_NET_F_HOST_TSO4           11
#define VIRTIO_NET_F_HOST_TSO6           12
#define VIRTIO_NET_F_HOST_ECN            13
#define VIRTIO_NET_F_HOST_UFO            14
#define VIRTIO_NET_F_MRG_RXBUF           15
#define VIRTIO_NET_F_STATUS              16
#define VIRTIO_NET_F_CTRL_VQ             17
#define VIRTIO_NET_F_CTRL_RX             18
#define VIRTIO_NET_F_MQ                  22

/* struct virtio_net_hdr_v1 (all VERSION_1 drivers use it). */
#define VIRTIO_NET_HDR_SIZE         12u
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE     0
#define VIRTIO_NET_HDR_GSO_TCPV4    1
#define VIRTIO_NET_HDR_GSO_UDP      3
#define VIRTIO_NET_HDR_GSO_TCPV6    4
#define VIRTIO_NET_HDR_GSO_ECN      0x80
/* The largest frame either way: 64 KiB of IP plus an Ethernet/VLAN header. */
#define VIRTIO_NET_MAX_FRAME (65535u + 18u)
#define VIRTIO_NET_MIN_FRAME 14u /* an Ethernet header */

/* The receive offloads a guest may take. */
#define VIRTIO_NET_GUEST_OFFLOADS                                                                  \
    (1ull << VIRTIO_NET_F_GUEST_CSUM | 1ull << VIRTIO_NET_F_GUEST_TSO4 |                           \
     1ull << VIRTIO_NET_F_GUEST_TSO6 | 1ull << VIRTIO_NET_F_GUEST_ECN |                            \
     1ull << VIRTIO_NET_F_GUEST_UFO)

/* Control queue (5.1.6.5). */
#define VIRTIO_NET_OK                   0
#define VIRTIO_NET_ERR                  1
#define VIRTIO_NET_CTRL_RX              0
#define VIRTIO_NET_CTRL_MAC             1
#define VIRTIO_NET_CTRL_VLAN            2
#define VIRTIO_NET_CTRL_ANNOUNCE        3
#define VIRTIO_NET_CTRL_MQ              4
#define VIRTIO_NET_CTRL_GUEST_OFFLOADS  5
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN 1
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX 0x8000

#define VIRTIO_NET_CONFIG_SIZE 12u /* mac, status, max_virtqueue_pairs, mtu */
#define VIRTIO_NET_S_LINK_UP   1

#define VIRTIO_NET_DEFAULT_QUEUE_SIZE 256
#define VIRTIO_NET_MAX_PAIRS          16

struct virtio_net_opts {
    struct net_backend backend; /* taken over, even on failure */
    uint8_t mac[6];
    unsigned int mtu;        /* 0: no VIRTIO_NET_F_MTU */
    unsigned int queue_size; /* 0: VIRTIO_NET_DEFAULT_QUEUE_SIZE */
    const char *id;          /* user-visible id */
};

/* One queue pair's counters, or the device's total. */
struct virtio_net_stats {
    uint64_t rx_bytes, rx_frames, rx_dropped;
    uint64_t tx_bytes, tx_frames, tx_dropped;
};

struct virtio_net;

/* 0 with *out, or -errno with a one-line reason in *err (g_free it). */
int virtio_net_new(const struct virtio_net_opts *opts, struct virtio_net **out, char **err)
    __attribute__((warn_unused_result));
/* Describes the device for the transport, which then owns it (ops->free). */
void virtio_net_device(struct virtio_net *n, struct virtio_device *out);

/* Counters, readable from any thread while the device runs. */
unsigned int virtio_net_pairs(const struct virtio_net *n);
void virtio_net_pair_stats(const struct virtio_net *n, unsigned int pair,
                           struct virtio_net_stats *out);
/* Control commands refused as malformed. */
uint64_t virtio_net_ctrl_dropped(const struct virtio_net *n);
const char *virtio_net_id(const struct virtio_net *n);

/* ---- parsing, exposed for tests and fuzzers ---- */

/* Builds the frame a transmit chain carries into `out` (at least
 * VIRTIO_NET_HDR_SIZE + VIRTIO_NET_MAX_FRAME bytes): with `vnet_hdr` the
 * checked header first, then the Ethernet frame. `features` are the
 * negotiated ones. Returns the length, or -EINVAL for a chain to drop: too
 * short or long, device-writable parts, a header that names an offload not
 * negotiated or offsets outside the frame. */
int virtio_net_tx_frame(const struct guest_memory *mem, const struct virtq_chain *chain,
                        uint64_t features, bool vnet_hdr, uint8_t *out)
    __attribute__((warn_unused_result));

/* The same checks, without copying the frame: `hdr` (VIRTIO_NET_HDR_SIZE
 * bytes) gets the checked header, `iov` the header (with `vnet_hdr`) and
 * then the frame's bytes where they lie in guest memory, for one writev()
 * in which the kernel reads them once. Returns the number of entries, or
 * -EINVAL as above, or -E2BIG when more than `max_iov` would be needed. */
int virtio_net_tx_iov(const struct guest_memory *mem, const struct virtq_chain *chain,
                      uint64_t features, bool vnet_hdr, uint8_t *hdr, struct iovec *iov,
                      unsigned int max_iov) __attribute__((warn_unused_result));

enum virtio_net_ctrl_action {
    VIRTIO_NET_CTRL_ACT_NONE,
    VIRTIO_NET_CTRL_ACT_SET_PAIRS,    /* arg: the number of pairs */
    VIRTIO_NET_CTRL_ACT_SET_OFFLOADS, /* arg: guest offload feature bits */
};

struct virtio_net_ctrl_cmd {
    uint8_t ack; /* VIRTIO_NET_OK or VIRTIO_NET_ERR */
    enum virtio_net_ctrl_action action;
    uint64_t arg;
    bool malformed; /* wrong length or unknown class: counted as dropped */
};

/* Parses a control command (class, command, data: `cmd` holds the chain's
 * readable bytes) against the negotiated features and the device's pairs. */
void virtio_net_ctrl_parse(const uint8_t *cmd, size_t len, uint64_t features,
                           unsigned int max_pairs, struct virtio_net_ctrl_cmd *out);

#endif
