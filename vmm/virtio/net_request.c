/* The guest-facing parsers of virtio-net: the header and frame of a
 * transmit chain, and control-queue commands. Pure functions over guest
 * memory, so tests and fuzzers drive them alone. */
#include "config.h"

#include "virtio/net.h"

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

static uint16_t get_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static bool has(uint64_t features, unsigned int bit)
{
    return features & (1ull << bit);
}

/* The header rules of 5.1.6.2 from the device's side: only what was
 * negotiated, offsets inside the frame. */
static bool tx_hdr_ok(const uint8_t *h, size_t frame_len, uint64_t f)
{
    uint8_t flags = h[0], gso = h[1];
    uint16_t hdr_len = get_le16(h + 2), gso_size = get_le16(h + 4);
    uint16_t csum_start = get_le16(h + 6), csum_offset = get_le16(h + 8);

    if (flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
        return false;
    if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        if (!has(f, VIRTIO_NET_F_CSUM))
            return false;
        if ((size_t)csum_start + csum_offset + 2 > frame_len)
            return false;
    }
    if ((gso & VIRTIO_NET_HDR_GSO_ECN) && !has(f, VIRTIO_NET_F_HOST_ECN))
        return false;
    switch (gso & ~VIRTIO_NET_HDR_GSO_ECN) {
    case VIRTIO_NET_HDR_GSO_NONE:
        return !(gso & VIRTIO_NET_HDR_GSO_ECN);
    case VIRTIO_NET_HDR_GSO_TCPV4:
        if (!has(f, VIRTIO_NET_F_HOST_TSO4))
            return false;
        break;
    case VIRTIO_NET_HDR_GSO_TCPV6:
        if (!has(f, VIRTIO_NET_F_HOST_TSO6))
            return false;
        break;
    case VIRTIO_NET_HDR_GSO_UDP:
        if (!has(f, VIRTIO_NET_F_HOST_UFO))
            return false;
        break;
    default:
        return false;
    }
    /* A segment size of 0 or headers longer than the frame: the kernel would
     * have to guess. */
    return gso_size != 0 && hdr_len <= frame_len && (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
}

/* Copies the chain's header (its first VIRTIO_NET_HDR_SIZE bytes, which may
 * span buffers) into `hdr` and checks the chain and the copy: the frame's
 * length, or -EINVAL. */
static int tx_check(const struct guest_memory *mem, const struct virtq_chain *chain,
                    uint64_t features, bool vnet_hdr, uint8_t *hdr)
{
    uint64_t frame_len;
    size_t at = 0;

    if (chain->writable_seen)
        return -EINVAL; /* a transmit chain is driver->device only */
    if (chain->readable < VIRTIO_NET_HDR_SIZE + VIRTIO_NET_MIN_FRAME ||
        chain->readable > VIRTIO_NET_HDR_SIZE + VIRTIO_NET_MAX_FRAME)
        return -EINVAL;
    frame_len = chain->readable - VIRTIO_NET_HDR_SIZE;
    for (unsigned int i = 0; i < chain->nr_bufs && at < VIRTIO_NET_HDR_SIZE; i++) {
        const struct virtq_buf *b = &chain->bufs[i];
        size_t take = b->len < VIRTIO_NET_HDR_SIZE - at ? b->len : VIRTIO_NET_HDR_SIZE - at;

        if (guest_memory_read(mem, b->gpa, hdr + at, take) < 0)
            return -EINVAL;
        at += take;
    }
    /* Checked on our copy: the guest cannot change it behind us. */
    if (!tx_hdr_ok(hdr, frame_len, features))
        return -EINVAL;
    if (!vnet_hdr && (hdr[0] || hdr[1]))
        return -EINVAL;    /* no offloads were offered: nothing to ask for */
    hdr[10] = hdr[11] = 0; /* num_buffers means nothing on transmit */
    return (int)frame_len;
}

int virtio_net_tx_frame(const struct guest_memory *mem, const struct virtq_chain *chain,
                        uint64_t features, bool vnet_hdr, uint8_t *out)
{
    size_t skip = VIRTIO_NET_HDR_SIZE;
    uint8_t *at;
    int len;

    len = tx_check(mem, chain, features, vnet_hdr, out);
    if (len < 0)
        return len;
    /* The frame after the checked header, or over it without vnet_hdr. */
    at = vnet_hdr ? out + VIRTIO_NET_HDR_SIZE : out;
    for (unsigned int i = 0; i < chain->nr_bufs; i++) {
        const struct virtq_buf *b = &chain->bufs[i];

        if (skip >= b->len) {
            skip -= b->len;
            continue;
        }
        if (guest_memory_read(mem, b->gpa + skip, at, b->len - skip) < 0)
            return -EINVAL;
        at += b->len - skip;
        skip = 0;
    }
    return len + (vnet_hdr ? (int)VIRTIO_NET_HDR_SIZE : 0);
}

int virtio_net_tx_iov(const struct guest_memory *mem, const struct virtq_chain *chain,
                      uint64_t features, bool vnet_hdr, uint8_t *hdr, struct iovec *iov,
                      unsigned int max_iov)
{
    size_t skip = VIRTIO_NET_HDR_SIZE;
    unsigned int n = 0;
    int len;

    len = tx_check(mem, chain, features, vnet_hdr, hdr);
    if (len < 0)
        return len;
    if (vnet_hdr) {
        if (max_iov == 0)
            return -E2BIG;
        iov[n++] = (struct iovec){.iov_base = hdr, .iov_len = VIRTIO_NET_HDR_SIZE};
    }
    for (unsigned int i = 0; i < chain->nr_bufs; i++) {
        const struct virtq_buf *b = &chain->bufs[i];
        void *p;

        if (skip >= b->len) {
            skip -= b->len;
            continue;
        }
        if (n == max_iov)
            return -E2BIG;
        p = guest_memory_ptr(mem, b->gpa + skip, b->len - skip);
        if (!p)
            return -EINVAL;
        iov[n++] = (struct iovec){.iov_base = p, .iov_len = b->len - skip};
        skip = 0;
    }
    return (int)n;
}

static void ctrl_mac_table(const uint8_t *d, size_t len, struct virtio_net_ctrl_cmd *out)
{
    /* Two tables (unicast, multicast): le32 entries, then 6 bytes each. */
    for (int t = 0; t < 2; t++) {
        uint32_t n;

        if (len < 4)
            return;
        memcpy(&n, d, 4);
        n = le32toh(n);
        d += 4;
        len -= 4;
        if (n > len / 6)
            return;
        d += 6u * n;
        len -= 6u * n;
    }
    if (len == 0) {
        out->ack = VIRTIO_NET_OK;
        out->malformed = false;
    }
}

void virtio_net_ctrl_parse(const uint8_t *cmd, size_t len, uint64_t features,
                           unsigned int max_pairs, struct virtio_net_ctrl_cmd *out)
{
    const uint8_t *d = cmd + 2;
    size_t dlen = len - 2;
    uint64_t v;

    out->ack = VIRTIO_NET_ERR;
    out->action = VIRTIO_NET_CTRL_ACT_NONE;
    out->arg = 0;
    out->malformed = true;
    if (len < 2)
        return;
    switch (cmd[0]) {
    case VIRTIO_NET_CTRL_RX:
        /* PROMISC .. NOBCAST, one byte on/off: we forward everything. */
        if (has(features, VIRTIO_NET_F_CTRL_RX) && cmd[1] <= 5 && dlen == 1) {
            out->ack = VIRTIO_NET_OK;
            out->malformed = false;
        }
        return;
    case VIRTIO_NET_CTRL_MAC:
        if (cmd[1] == 0 && has(features, VIRTIO_NET_F_CTRL_RX))
            ctrl_mac_table(d, dlen, out);
        else if (cmd[1] == 1 && dlen == 6) {
            out->ack = VIRTIO_NET_OK; /* ADDR_SET: nothing filters on it */
            out->malformed = false;
        }
        return;
    case VIRTIO_NET_CTRL_ANNOUNCE:
        if (cmd[1] == 0 && dlen == 0) {
            out->ack = VIRTIO_NET_OK;
            out->malformed = false;
        }
        return;
    case VIRTIO_NET_CTRL_MQ:
        if (!has(features, VIRTIO_NET_F_MQ) || cmd[1] != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET ||
            dlen != 2)
            return;
        out->malformed = false;
        v = get_le16(d);
        if (v < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || v > max_pairs)
            return; /* well formed, but not a number we can do: ERR */
        out->ack = VIRTIO_NET_OK;
        out->action = VIRTIO_NET_CTRL_ACT_SET_PAIRS;
        out->arg = v;
        return;
    case VIRTIO_NET_CTRL_GUEST_OFFLOADS:
        if (!has(features, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) || cmd[1] != 0 || dlen != 8)
            return;
        out->malformed = false;
        memcpy(&v, d, 8);
        v = le64toh(v);
        if (v & ~(features & VIRTIO_NET_GUEST_OFFLOADS))
            return;
        out->ack = VIRTIO_NET_OK;
        out->action = VIRTIO_NET_CTRL_ACT_SET_OFFLOADS;
        out->arg = v;
        return;
    default:
        return;
    }
}
