/* libFuzzer target for vmm/virtio/net.c's guest-facing parsers: the
 * transmit path (virtio_net_tx_frame, and virtio_net_tx_iov, which must
 * agree with it: a descriptor chain as virtq_pop() hands it over, over
 * fuzzed guest memory) and the control-queue parser (virtio_net_ctrl_parse).
 * Input: a feature selector byte, a buffer count, 5 bytes per buffer, then
 * guest memory (also the control command).
 * Built by `configure CC=clang --enable-fuzz` as tests/fuzz/virtio-net-fuzz. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/net.h"

#define RAM_BASE 0x10000u
#define RAM_SIZE (16u << 10)
#define BUF_DESC 5u /* gpa (2 bytes), len (2 bytes), flags (1 byte) */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t features_of(uint8_t sel)
{
    static const unsigned int bits[] = {
        VIRTIO_NET_F_CSUM,     VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6,
        VIRTIO_NET_F_HOST_UFO, VIRTIO_NET_F_HOST_ECN,  VIRTIO_NET_F_MQ,
        VIRTIO_NET_F_CTRL_RX,
    };
    uint64_t f = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_NET_F_CTRL_VQ |
                 1ull << VIRTIO_NET_F_CTRL_GUEST_OFFLOADS | 1ull << VIRTIO_NET_F_GUEST_CSUM;

    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        if (sel & (1u << i))
            f |= 1ull << bits[i];
    }
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t ram[RAM_SIZE];
    static uint8_t out[VIRTIO_NET_HDR_SIZE + VIRTIO_NET_MAX_FRAME];
    static struct virtq_chain chain;
    struct guest_memory mem = {.nr_regions = 1};
    struct virtio_net_ctrl_cmd cmd;
    uint64_t features;
    size_t mem_len;
    bool vnet_hdr, writable = false;
    unsigned int n, max_pairs;
    int len;

    if (size < 2)
        return 0;
    features = features_of(data[0]);
    vnet_hdr = !(data[0] & 0x80);
    max_pairs = 1 + (data[0] & 7);
    n = data[1] % 17;
    data += 2;
    size -= 2;
    if (size < n * BUF_DESC)
        return 0;
    mem.regions[0] = (struct guest_region){.gpa = RAM_BASE, .size = RAM_SIZE, .hva = ram};
    memset(ram, 0, sizeof(ram));
    mem_len = size - n * BUF_DESC < RAM_SIZE ? size - n * BUF_DESC : RAM_SIZE;
    memcpy(ram, data + n * BUF_DESC, mem_len);

    /* Keep to what virtq_pop() guarantees: in RAM, readable first. */
    memset(&chain, 0, sizeof(chain));
    for (unsigned int i = 0; i < n; i++) {
        const uint8_t *d = data + i * BUF_DESC;
        struct virtq_buf b = {
            .gpa = RAM_BASE + (d[0] | d[1] << 8) % RAM_SIZE,
            .len = (uint32_t)(d[2] | d[3] << 8),
            .device_writes = d[4] & 1,
        };

        if (b.len > RAM_BASE + RAM_SIZE - b.gpa)
            b.len = (uint32_t)(RAM_BASE + RAM_SIZE - b.gpa);
        if (writable && !b.device_writes)
            b.device_writes = true;
        writable |= b.device_writes;
        chain.bufs[chain.nr_bufs++] = b;
        if (b.device_writes) {
            chain.writable += b.len;
            chain.writable_seen = true;
        } else {
            chain.readable += b.len;
        }
    }
    len = virtio_net_tx_frame(&mem, &chain, features, vnet_hdr, out);
    if (len >= 0) {
        /* What goes to the backend: no more than the chain held, at least
         * an Ethernet header, and a header that asks only for what was
         * negotiated. */
        if ((uint64_t)len > chain.readable || len < (int)VIRTIO_NET_MIN_FRAME)
            abort();
        if (vnet_hdr && ((out[1] & 0x7f) != VIRTIO_NET_HDR_GSO_NONE) &&
            !(features & (1ull << VIRTIO_NET_F_HOST_TSO4 | 1ull << VIRTIO_NET_F_HOST_TSO6 |
                          1ull << VIRTIO_NET_F_HOST_UFO)))
            abort();
    }
    /* The writev() form agrees: refused alike, or the same bytes. */
    {
        static uint8_t joined[VIRTIO_NET_HDR_SIZE + VIRTIO_NET_MAX_FRAME];
        uint8_t hdr[VIRTIO_NET_HDR_SIZE];
        struct iovec iov[20];
        size_t at = 0;
        int nr_iov = virtio_net_tx_iov(&mem, &chain, features, vnet_hdr, hdr, iov, 20);

        if ((nr_iov < 0) != (len < 0) && nr_iov != -E2BIG)
            abort();
        for (int i = 0; i < nr_iov; i++) {
            memcpy(joined + at, iov[i].iov_base, iov[i].iov_len);
            at += iov[i].iov_len;
        }
        if (nr_iov >= 0 && (at != (size_t)len || memcmp(joined, out, at)))
            abort();
    }

    virtio_net_ctrl_parse(ram, mem_len, features, max_pairs, &cmd);
    if (cmd.ack != VIRTIO_NET_OK && cmd.action != VIRTIO_NET_CTRL_ACT_NONE)
        abort();
    if (cmd.action == VIRTIO_NET_CTRL_ACT_SET_PAIRS && (cmd.arg < 1 || cmd.arg > max_pairs))
        abort();
    return 0;
}
