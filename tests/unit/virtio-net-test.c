/* Tests for vmm/virtio/net.c: the driver side of the receive, transmit and
 * control queues is played on a plain buffer as guest memory; the backend is
 * a SOCK_SEQPACKET socket pair per queue pair (one frame per message, as a
 * TAP reads and writes them), with the vnet header in front. */
#include "virtio/net.h"
#include "net/tap.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define RAM_SIZE (8u << 20)
#define QSIZE    64
#define PAIRS    2
#define NQ       (2 * PAIRS + 1)
#define CTRLQ    (2 * PAIRS)
#define BUFS     0x100000u
#define HDR      VIRTIO_NET_HDR_SIZE

struct fixture {
    uint8_t *ram;
    struct guest_memory mem;
    struct virtio_net *net;
    struct virtio_device vdev;
    struct virtq q[NQ];
    int kick[NQ];
    int peer[PAIRS]; /* the test's end of each pair's socket */
    int dev_fds[PAIRS];
    uint16_t avail_idx[NQ], next_desc[NQ], seen_used[NQ];
    uint64_t next_buf;
    uint64_t features;
    /* What the device asked of the backend. */
    unsigned int offloads;
    int offload_calls;
    bool enabled[PAIRS];
    bool freed;
    /* Per queue: interrupts raised, and the used idx when the first came
     * (written by the device's worker threads). */
    int irqs[NQ];
    int first_irq_used[NQ];
};

static int be_set_offload(void *opaque, unsigned int offloads)
{
    struct fixture *f = opaque;

    f->offloads = offloads;
    f->offload_calls++;
    return 0;
}

static int be_set_queue_enabled(void *opaque, unsigned int pair, bool enabled)
{
    struct fixture *f = opaque;

    g_assert_cmpuint(pair, <, PAIRS);
    f->enabled[pair] = enabled;
    return 0;
}

static void be_free(void *opaque)
{
    struct fixture *f = opaque;

    for (int i = 0; i < PAIRS; i++)
        close(f->dev_fds[i]);
    f->freed = true;
}

static const struct net_backend_ops be_ops = {
    .set_offload = be_set_offload,
    .set_queue_enabled = be_set_queue_enabled,
    .free = be_free,
};

static uint64_t qbase(unsigned int i);
static uint16_t get16(const uint8_t *p);

static void irq_signal(void *opaque, unsigned int queue)
{
    struct fixture *f = opaque;
    int none = -1;

    g_assert_cmpuint(queue, <, NQ);
    __atomic_compare_exchange_n(&f->first_irq_used[queue], &none,
                                get16(f->ram + qbase(queue) + 0x2000 + 2), false, __ATOMIC_SEQ_CST,
                                __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&f->irqs[queue], 1, __ATOMIC_SEQ_CST);
}

static uint64_t qbase(unsigned int i)
{
    return 0x10000u * (i + 1);
}

static void put16(uint8_t *p, uint16_t v)
{
    v = htole16(v);
    memcpy(p, &v, 2);
}

static uint16_t get16(const uint8_t *p)
{
    uint16_t v;

    memcpy(&v, p, 2);
    return le16toh(v);
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return le32toh(v);
}

static uint64_t alloc_buf(struct fixture *f, uint32_t len)
{
    uint64_t at = f->next_buf;

    f->next_buf = (f->next_buf + len + 63) & ~63ull;
    g_assert_cmpuint(f->next_buf, <=, RAM_SIZE);
    return at;
}

struct buf {
    uint64_t gpa;
    uint32_t len;
    bool write;
};

/* Publishes a chain on queue `qi` and kicks. */
static uint16_t add_chain(struct fixture *f, unsigned int qi, const struct buf *b, unsigned int n)
{
    uint8_t *desc = f->ram + qbase(qi);
    uint8_t *avail = f->ram + qbase(qi) + 0x1000;
    uint16_t head = f->next_desc[qi] % QSIZE;
    uint64_t one = 1;

    for (unsigned int i = 0; i < n; i++) {
        uint16_t id = (head + i) % QSIZE;
        uint8_t *d = desc + 16 * id;
        uint64_t a = htole64(b[i].gpa);
        uint32_t l = htole32(b[i].len);

        memcpy(d, &a, 8);
        memcpy(d + 8, &l, 4);
        put16(d + 12, (uint16_t)((i + 1 < n ? 1 : 0) | (b[i].write ? 2 : 0)));
        put16(d + 14, (id + 1) % QSIZE);
    }
    f->next_desc[qi] = (uint16_t)(f->next_desc[qi] + n);
    put16(avail + 4 + 2 * (f->avail_idx[qi] % QSIZE), head);
    f->avail_idx[qi]++;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    put16(avail + 2, f->avail_idx[qi]);
    g_assert_cmpint(write(f->kick[qi], &one, sizeof(one)), ==, sizeof(one));
    return head;
}

static uint16_t used_idx(struct fixture *f, unsigned int qi)
{
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return get16(f->ram + qbase(qi) + 0x2000 + 2);
}

/* Waits for the next used element of queue qi; returns its length. */
static uint32_t wait_used(struct fixture *f, unsigned int qi, uint16_t *id)
{
    uint16_t slot = f->seen_used[qi];
    const uint8_t *e;

    for (int i = 0; i < 5000 && used_idx(f, qi) == slot; i++)
        g_usleep(1000);
    g_assert_cmpuint(used_idx(f, qi), !=, slot);
    e = f->ram + qbase(qi) + 0x2000 + 4 + 8 * (slot % QSIZE);
    if (id)
        *id = (uint16_t)get32(e);
    f->seen_used[qi]++;
    return get32(e + 4);
}

/* Nothing more is used on queue qi for a while. */
static void assert_no_used(struct fixture *f, unsigned int qi)
{
    g_usleep(50000);
    g_assert_cmpuint(used_idx(f, qi), ==, f->seen_used[qi]);
}

static void fixture_init(struct fixture *f, unsigned int mtu)
{
    struct virtio_net_opts o = {
        .mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56},
        .mtu = mtu,
        .queue_size = QSIZE,
        .id = "net0",
    };
    char *err = NULL;

    memset(f, 0, sizeof(*f));
    f->ram = g_malloc0(RAM_SIZE);
    f->mem.regions[0] = (struct guest_region){.gpa = 0, .size = RAM_SIZE, .hva = f->ram};
    f->mem.nr_regions = 1;
    f->next_buf = BUFS;
    for (int i = 0; i < NQ; i++)
        f->first_irq_used[i] = -1;
    f->enabled[0] = true; /* as a backend starts: the first pair attached */
    for (int i = 0; i < PAIRS; i++) {
        int sv[2];

        g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), ==, 0);
        f->dev_fds[i] = sv[0];
        f->peer[i] = sv[1];
    }
    o.backend = (struct net_backend){.ops = &be_ops,
                                     .opaque = f,
                                     .fds = f->dev_fds,
                                     .nr_fds = PAIRS,
                                     .vnet_hdr = true,
                                     .offloads = true,
                                     .name = "test"};
    g_assert_cmpint(virtio_net_new(&o, &f->net, &err), ==, 0);
    g_assert_null(err);
    virtio_net_device(f->net, &f->vdev);
    for (int i = 0; i < NQ; i++) {
        f->kick[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        f->q[i] = (struct virtq){.mem = &f->mem,
                                 .size = QSIZE,
                                 .desc_gpa = qbase(i),
                                 .avail_gpa = qbase(i) + 0x1000,
                                 .used_gpa = qbase(i) + 0x2000,
                                 .ready = true};
    }
}

static void activate(struct fixture *f, uint64_t features)
{
    const struct virtio_activation act = {
        .mem = &f->mem,
        .features = features,
        .nr_queues = NQ,
        .queues = f->q,
        .kick_fds = f->kick,
        .interrupt = {.signal = irq_signal, .opaque = f},
    };

    f->features = features;
    g_assert_cmpint(f->vdev.ops->activate(f->vdev.dev, &act), ==, 0);
}

static void fixture_fini(struct fixture *f)
{
    f->vdev.ops->free(f->vdev.dev);
    g_assert_true(f->freed);
    for (int i = 0; i < PAIRS; i++)
        close(f->peer[i]);
    for (int i = 0; i < NQ; i++)
        close(f->kick[i]);
    g_free(f->ram);
}

#define F(bit) (1ull << (bit))
/* What a Linux guest takes (MQ aside). */
#define BASIC                                                                                      \
    (F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS) |                        \
     F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_CTRL_RX) | F(VIRTIO_NET_F_CSUM) |                    \
     F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO4))

/* Receives one frame from the peer end (with header); -1 when none comes. */
static ssize_t peer_recv(struct fixture *f, int pair, uint8_t *buf, size_t len)
{
    struct pollfd p = {.fd = f->peer[pair], .events = POLLIN};

    if (poll(&p, 1, 5000) != 1)
        return -1;
    return recv(f->peer[pair], buf, len, 0);
}

static bool peer_quiet(struct fixture *f, int pair)
{
    struct pollfd p = {.fd = f->peer[pair], .events = POLLIN};

    return poll(&p, 1, 50) == 0;
}

/* A transmit chain: header `hdr` then `len` bytes of pattern `seed`, the
 * data split in two descriptors. */
static void tx_frame(struct fixture *f, unsigned int qi, const uint8_t *hdr, uint32_t len,
                     uint8_t seed)
{
    uint64_t h = alloc_buf(f, HDR), d = alloc_buf(f, len);
    struct buf b[3] = {{h, HDR, false}, {d, len / 2, false}, {d + len / 2, len - len / 2, false}};

    memcpy(f->ram + h, hdr, HDR);
    for (uint32_t i = 0; i < len; i++)
        f->ram[d + i] = (uint8_t)(seed + i);
    add_chain(f, qi, b, 3);
}

static void test_config(void)
{
    struct fixture f;
    uint64_t feat;
    uint8_t cfg[VIRTIO_NET_CONFIG_SIZE + 4];

    fixture_init(&f, 1400);
    g_assert_cmpuint(f.vdev.ops->device_id, ==, VIRTIO_ID_NET);
    g_assert_cmpuint(f.vdev.max_queues, ==, NQ);
    g_assert_cmpuint(f.vdev.max_queue_size, ==, QSIZE);
    feat = f.vdev.ops->features(f.vdev.dev);
    for (unsigned int bit = 0; bit < 64; bit++) {
        bool want = bit == VIRTIO_NET_F_MAC || bit == VIRTIO_NET_F_STATUS ||
                    bit == VIRTIO_NET_F_MQ || bit == VIRTIO_NET_F_MTU ||
                    bit == VIRTIO_NET_F_MRG_RXBUF || bit == VIRTIO_NET_F_CTRL_VQ ||
                    bit == VIRTIO_NET_F_CSUM || bit == VIRTIO_NET_F_GUEST_TSO6 ||
                    bit == VIRTIO_NET_F_HOST_UFO || bit == VIRTIO_F_EVENT_IDX;
        if (want)
            g_assert_true(feat & F(bit));
    }
    g_assert_cmpuint(f.vdev.ops->config_size(f.vdev.dev), ==, VIRTIO_NET_CONFIG_SIZE);
    f.vdev.ops->config_read(f.vdev.dev, 0, cfg, sizeof(cfg));
    g_assert_cmpmem(cfg, 6, ((uint8_t[]){0x52, 0x54, 0x00, 0x12, 0x34, 0x56}), 6);
    g_assert_cmpuint(get16(cfg + 6), ==, VIRTIO_NET_S_LINK_UP);
    g_assert_cmpuint(get16(cfg + 8), ==, PAIRS);
    g_assert_cmpuint(get16(cfg + 10), ==, 1400);
    g_assert_cmpuint(cfg[12], ==, 0); /* past the end reads as zero */
    fixture_fini(&f);
}

static void test_no_offloads_without_vnet_hdr(void)
{
    struct virtio_net *n;
    struct virtio_device vdev;
    int sv[2];
    char *err = NULL;
    struct virtio_net_opts o = {.queue_size = 0};
    uint64_t feat;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), ==, 0);
    o.backend = (struct net_backend){.fds = sv, .nr_fds = 1, .vnet_hdr = false, .offloads = true};
    g_assert_cmpint(virtio_net_new(&o, &n, &err), ==, 0);
    virtio_net_device(n, &vdev);
    feat = vdev.ops->features(vdev.dev);
    g_assert_false(feat & F(VIRTIO_NET_F_CSUM));
    g_assert_false(feat & F(VIRTIO_NET_F_GUEST_TSO4));
    g_assert_false(feat & F(VIRTIO_NET_F_MQ));
    g_assert_false(feat & F(VIRTIO_NET_F_MTU));
    g_assert_cmpuint(vdev.max_queues, ==, 3);
    g_assert_cmpuint(vdev.max_queue_size, ==, VIRTIO_NET_DEFAULT_QUEUE_SIZE);
    vdev.ops->free(vdev.dev);
    close(sv[0]);
    close(sv[1]);
}

static void test_bad_options(void)
{
    struct virtio_net *n = NULL;
    int fds[1] = {-1};
    char *err = NULL;
    struct virtio_net_opts o = {.queue_size = 100};

    o.backend = (struct net_backend){.fds = fds, .nr_fds = 1};
    g_assert_cmpint(virtio_net_new(&o, &n, &err), ==, -EINVAL);
    g_assert_nonnull(strstr(err, "queue_size"));
    g_clear_pointer(&err, g_free);
    o.queue_size = 0;
    o.mtu = 10;
    g_assert_cmpint(virtio_net_new(&o, &n, &err), ==, -EINVAL);
    g_assert_nonnull(strstr(err, "mtu"));
    g_free(err);
}

static void test_tx(void)
{
    struct fixture f;
    uint8_t hdr[HDR] = {0}, out[256];
    struct virtio_net_stats s;
    uint16_t id, head;
    ssize_t n;

    fixture_init(&f, 0);
    activate(&f, BASIC);
    g_assert_cmpint(f.offload_calls, ==, 1);
    g_assert_cmpuint(f.offloads, ==, NET_OFFLOAD_CSUM | NET_OFFLOAD_TSO4);
    g_assert_true(f.enabled[0]);
    g_assert_false(f.enabled[1]);

    /* Checksum offload: csum_start 34, csum_offset 16 (TCP) inside 100 bytes. */
    hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    hdr[6] = 34;
    hdr[8] = 16;
    hdr[10] = 7; /* num_buffers: cleared on the way out */
    head = f.next_desc[1];
    tx_frame(&f, 1, hdr, 100, 3);
    n = peer_recv(&f, 0, out, sizeof(out));
    g_assert_cmpint(n, ==, HDR + 100);
    g_assert_cmpuint(out[0], ==, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    g_assert_cmpuint(out[6], ==, 34);
    g_assert_cmpuint(get16(out + 10), ==, 0);
    for (int i = 0; i < 100; i++)
        g_assert_cmpuint(out[HDR + i], ==, (uint8_t)(3 + i));
    g_assert_cmpuint(wait_used(&f, 1, &id), ==, 0);
    g_assert_cmpuint(id, ==, head);
    virtio_net_pair_stats(f.net, 0, &s);
    g_assert_cmpuint(s.tx_frames, ==, 1);
    g_assert_cmpuint(s.tx_bytes, ==, 100);
    g_assert_cmpuint(s.tx_dropped, ==, 0);
    fixture_fini(&f);
}

/* Waits until pair 0 has dropped `want` received frames. */
static void wait_rx_dropped(struct fixture *f, uint64_t want)
{
    struct virtio_net_stats s;

    for (int i = 0; i < 5000; i++) {
        virtio_net_pair_stats(f->net, 0, &s);
        if (s.rx_dropped >= want)
            break;
        g_usleep(1000);
    }
    g_assert_cmpuint(s.rx_dropped, ==, want);
}

static void rx_post(struct fixture *f, unsigned int qi, uint32_t len, uint64_t *gpa)
{
    struct buf b = {alloc_buf(f, len), len, true};

    *gpa = b.gpa;
    add_chain(f, qi, &b, 1);
}

static void peer_send(struct fixture *f, int pair, uint32_t len, uint8_t seed)
{
    g_autofree uint8_t *frame = g_malloc0(HDR + len);

    frame[0] = VIRTIO_NET_HDR_F_DATA_VALID;
    for (uint32_t i = 0; i < len; i++)
        frame[HDR + i] = (uint8_t)(seed + i);
    g_assert_cmpint(send(f->peer[pair], frame, HDR + len, 0), ==, HDR + len);
}

static void test_rx_single_buffer(void)
{
    struct fixture f;
    struct virtio_net_stats s;
    uint64_t gpa;

    fixture_init(&f, 0);
    activate(&f, BASIC); /* no MRG_RXBUF: one chain per frame */
    rx_post(&f, 0, 1526, &gpa);
    peer_send(&f, 0, 200, 9);
    g_assert_cmpuint(wait_used(&f, 0, NULL), ==, HDR + 200);
    g_assert_cmpuint(f.ram[gpa], ==, VIRTIO_NET_HDR_F_DATA_VALID);
    g_assert_cmpuint(get16(f.ram + gpa + 10), ==, 1);
    for (int i = 0; i < 200; i++)
        g_assert_cmpuint(f.ram[gpa + HDR + i], ==, (uint8_t)(9 + i));

    /* A frame before there are buffers waits for them. */
    peer_send(&f, 0, 60, 1);
    assert_no_used(&f, 0);
    rx_post(&f, 0, 1526, &gpa);
    g_assert_cmpuint(wait_used(&f, 0, NULL), ==, HDR + 60);
    g_assert_cmpuint(f.ram[gpa + HDR], ==, 1);
    virtio_net_pair_stats(f.net, 0, &s);
    g_assert_cmpuint(s.rx_frames, ==, 2);
    g_assert_cmpuint(s.rx_bytes, ==, 260);
    fixture_fini(&f);
}

static void test_rx_mergeable(void)
{
    struct fixture f;
    uint64_t gpa[4];
    uint32_t total = 0;
    uint32_t len[3];

    fixture_init(&f, 0);
    activate(&f, BASIC | F(VIRTIO_NET_F_MRG_RXBUF));
    for (int i = 0; i < 4; i++)
        rx_post(&f, 0, 1024, &gpa[i]);
    peer_send(&f, 0, 3000, 5); /* 3012 bytes: three buffers */
    for (int i = 0; i < 3; i++) {
        len[i] = wait_used(&f, 0, NULL);
        total += len[i];
    }
    g_assert_cmpuint(len[0], ==, 1024);
    g_assert_cmpuint(total, ==, HDR + 3000);
    g_assert_cmpuint(get16(f.ram + gpa[0] + 10), ==, 3);
    g_assert_cmpuint(f.ram[gpa[1]], ==, (uint8_t)(5 + 1024 - HDR));
    g_assert_cmpuint(f.ram[gpa[2] + 3000 + HDR - 2048 - 1], ==, (uint8_t)(5 + 2999));

    /* One buffer left: a 2000-byte frame waits until a second comes. */
    peer_send(&f, 0, 2000, 0);
    assert_no_used(&f, 0);
    rx_post(&f, 0, 1024, &gpa[0]);
    g_assert_cmpuint(wait_used(&f, 0, NULL) + wait_used(&f, 0, NULL), ==, HDR + 2000);
    g_assert_cmpuint(get16(f.ram + gpa[3] + 10), ==, 2);
    fixture_fini(&f);
}

/* With VIRTIO_F_EVENT_IDX, used_event 0 asks for an interrupt as soon as
 * the first chain is used: it comes then, not once the device has worked
 * through everything that was queued (the driver refills its receive ring
 * and frees sent buffers while the device goes on). */
static void test_interrupt_when_asked(void)
{
    struct fixture f;
    uint64_t gpa;
    uint8_t hdr[HDR] = {0}, out[256];

    fixture_init(&f, 0);
    for (int i = 0; i < NQ; i++)
        f.q[i].event_idx = true;
    /* used_event (after the avail ring) stays 0 for both queues. */
    for (int i = 0; i < 3; i++) {
        rx_post(&f, 0, 1526, &gpa);
        peer_send(&f, 0, 100, (uint8_t)i);
        tx_frame(&f, 1, hdr, 100, (uint8_t)i);
    }
    activate(&f, BASIC | F(VIRTIO_F_EVENT_IDX));
    for (int i = 0; i < 3; i++) {
        wait_used(&f, 0, NULL);
        wait_used(&f, 1, NULL);
        g_assert_cmpint(peer_recv(&f, 0, out, sizeof(out)), ==, HDR + 100);
    }
    g_assert_cmpint(__atomic_load_n(&f.first_irq_used[0], __ATOMIC_SEQ_CST), ==, 1);
    g_assert_cmpint(__atomic_load_n(&f.first_irq_used[1], __ATOMIC_SEQ_CST), ==, 1);
    /* used_event did not move: no more interrupts for the other two. */
    g_assert_cmpint(__atomic_load_n(&f.irqs[0], __ATOMIC_SEQ_CST), ==, 1);
    g_assert_cmpint(__atomic_load_n(&f.irqs[1], __ATOMIC_SEQ_CST), ==, 1);
    fixture_fini(&f);
}

/* Joins what virtio_net_tx_iov() points at; the length. */
static size_t iov_join(const struct iovec *iov, int n, uint8_t *out)
{
    size_t at = 0;

    for (int i = 0; i < n; i++) {
        memcpy(out + at, iov[i].iov_base, iov[i].iov_len);
        at += iov[i].iov_len;
    }
    return at;
}

/* The writev() form of a transmit chain carries the same bytes as the
 * copied one: the header checked on a copy (even when it spans buffers),
 * then the frame where it lies in guest memory. */
static void test_tx_iov(void)
{
    struct fixture f;
    struct virtq_chain *c = g_new0(struct virtq_chain, 1);
    uint8_t hdr[HDR], copied[256], joined[256];
    struct iovec iov[8];
    uint64_t a, b, d;
    int len, n;

    fixture_init(&f, 0);
    a = alloc_buf(&f, 5);
    b = alloc_buf(&f, 10);
    d = alloc_buf(&f, 100);
    c->bufs[0] = (struct virtq_buf){a, 5, false};
    c->bufs[1] = (struct virtq_buf){b, 10, false};
    c->bufs[2] = (struct virtq_buf){d, 100, false};
    c->nr_bufs = 3;
    c->readable = 115;
    for (int i = 0; i < 5; i++)
        f.ram[a + i] = (uint8_t)(0x40 + i);
    for (int i = 0; i < 10; i++)
        f.ram[b + i] = (uint8_t)(0x50 + i);
    for (int i = 0; i < 100; i++)
        f.ram[d + i] = (uint8_t)i;
    /* Header: NEEDS_CSUM, csum_start 34, csum_offset 16, num_buffers 7. */
    f.ram[a] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    f.ram[a + 1] = 0;
    f.ram[b + 1] = 34; /* byte 6 */
    f.ram[b + 2] = 0;
    f.ram[b + 3] = 16; /* byte 8 */
    f.ram[b + 4] = 0;
    f.ram[b + 5] = 7; /* byte 10 */
    f.ram[b + 6] = 0;

    len = virtio_net_tx_frame(&f.mem, c, BASIC, true, copied);
    g_assert_cmpint(len, ==, 115);
    n = virtio_net_tx_iov(&f.mem, c, BASIC, true, hdr, iov, G_N_ELEMENTS(iov));
    g_assert_cmpint(n, ==, 3); /* header copy, the rest of b, d */
    g_assert_true(iov[0].iov_base == hdr);
    g_assert_true(iov[1].iov_base == f.ram + b + 7);
    g_assert_true(iov[2].iov_base == f.ram + d);
    g_assert_cmpuint(iov_join(iov, n, joined), ==, 115);
    g_assert_cmpmem(joined, 115, copied, 115);
    g_assert_cmpuint(get16(hdr + 10), ==, 0);
    /* Too many pieces for the room given: the caller copies instead. */
    g_assert_cmpint(virtio_net_tx_iov(&f.mem, c, BASIC, true, hdr, iov, 2), ==, -E2BIG);

    /* Without a vnet header on the backend: the frame alone. */
    f.ram[a] = 0;
    f.ram[b + 1] = f.ram[b + 3] = 0;
    len = virtio_net_tx_frame(&f.mem, c, BASIC, false, copied);
    g_assert_cmpint(len, ==, 103);
    n = virtio_net_tx_iov(&f.mem, c, BASIC, false, hdr, iov, G_N_ELEMENTS(iov));
    g_assert_cmpint(n, ==, 2);
    g_assert_cmpuint(iov_join(iov, n, joined), ==, 103);
    g_assert_cmpmem(joined, 103, copied, 103);

    /* Refused alike: an offload not negotiated, an offset past the frame, a
     * device-writable buffer, too short. */
    f.ram[a] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    f.ram[a + 1] = VIRTIO_NET_HDR_GSO_TCPV6;
    f.ram[b + 1] = 34;
    f.ram[b + 3] = 16;
    g_assert_cmpint(virtio_net_tx_iov(&f.mem, c, BASIC, true, hdr, iov, 8), ==, -EINVAL);
    g_assert_cmpint(virtio_net_tx_frame(&f.mem, c, BASIC, true, copied), ==, -EINVAL);
    f.ram[a + 1] = 0;
    f.ram[b + 1] = 90;
    g_assert_cmpint(virtio_net_tx_iov(&f.mem, c, BASIC, true, hdr, iov, 8), ==, -EINVAL);
    f.ram[b + 1] = 34;
    c->bufs[2].device_writes = true;
    c->writable_seen = true;
    g_assert_cmpint(virtio_net_tx_iov(&f.mem, c, BASIC, true, hdr, iov, 8), ==, -EINVAL);
    c->bufs[2].device_writes = false;
    c->writable_seen = false;
    c->nr_bufs = 2;
    c->readable = 15;
    g_assert_cmpint(virtio_net_tx_iov(&f.mem, c, BASIC, true, hdr, iov, 8), ==, -EINVAL);
    g_free(c);
    fixture_fini(&f);
}

static void test_tx_hostile(void)
{
    struct fixture f;
    uint8_t hdr[HDR] = {0}, out[256];
    struct virtio_net_stats s;
    uint64_t d;

    fixture_init(&f, 0);
    activate(&f, BASIC);
    /* GSO TCPv6: HOST_TSO6 was not negotiated. */
    hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    hdr[1] = VIRTIO_NET_HDR_GSO_TCPV6;
    hdr[4] = 100;
    tx_frame(&f, 1, hdr, 100, 0);
    g_assert_cmpuint(wait_used(&f, 1, NULL), ==, 0);
    /* The checksum field lies past the end of the frame. */
    memset(hdr, 0, sizeof(hdr));
    hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    hdr[6] = 90;
    hdr[8] = 16;
    tx_frame(&f, 1, hdr, 100, 0);
    g_assert_cmpuint(wait_used(&f, 1, NULL), ==, 0);
    /* TSO4 without a segment size. */
    hdr[1] = VIRTIO_NET_HDR_GSO_TCPV4;
    hdr[6] = 34;
    tx_frame(&f, 1, hdr, 100, 0);
    g_assert_cmpuint(wait_used(&f, 1, NULL), ==, 0);
    /* Unknown flags. */
    memset(hdr, 0, sizeof(hdr));
    hdr[0] = 0x80;
    tx_frame(&f, 1, hdr, 100, 0);
    g_assert_cmpuint(wait_used(&f, 1, NULL), ==, 0);
    /* Shorter than a header and an Ethernet header. */
    d = alloc_buf(&f, 16);
    add_chain(&f, 1, &(struct buf){d, 16, false}, 1);
    g_assert_cmpuint(wait_used(&f, 1, NULL), ==, 0);
    /* Longer than any frame: 12 + 70000 bytes. */
    d = alloc_buf(&f, 70012);
    add_chain(&f, 1, &(struct buf){d, 70012, false}, 1);
    g_assert_cmpuint(wait_used(&f, 1, NULL), ==, 0);
    /* A device-writable buffer in a transmit chain. */
    d = alloc_buf(&f, 200);
    add_chain(&f, 1, (struct buf[]){{d, HDR + 60, false}, {d + 100, 60, true}}, 2);
    g_assert_cmpuint(wait_used(&f, 1, NULL), ==, 0);
    g_assert_true(peer_quiet(&f, 0));
    virtio_net_pair_stats(f.net, 0, &s);
    g_assert_cmpuint(s.tx_dropped, ==, 7);
    g_assert_cmpuint(s.tx_frames, ==, 0);

    /* The queue still works. */
    memset(hdr, 0, sizeof(hdr));
    tx_frame(&f, 1, hdr, 64, 0);
    g_assert_cmpint(peer_recv(&f, 0, out, sizeof(out)), ==, HDR + 64);
    g_assert_cmpuint(wait_used(&f, 1, NULL), ==, 0);
    fixture_fini(&f);
}

static void test_rx_hostile(void)
{
    struct fixture f;
    uint64_t small, big;

    fixture_init(&f, 0);
    activate(&f, BASIC);
    /* Without MRG_RXBUF a buffer too small for the frame: dropped, the
     * buffer is kept for the next frame that fits. */
    rx_post(&f, 0, 100, &small);
    peer_send(&f, 0, 500, 0);
    assert_no_used(&f, 0);
    wait_rx_dropped(&f, 1);
    peer_send(&f, 0, 50, 4);
    g_assert_cmpuint(wait_used(&f, 0, NULL), ==, HDR + 50);
    g_assert_cmpuint(f.ram[small + HDR], ==, 4);
    /* A frame shorter than an Ethernet header from the backend. */
    g_assert_cmpint(send(f.peer[0], "\0\0\0\0\0\0\0\0\0\0\0\0\0", 13, 0), ==, 13);
    /* A receive buffer outside guest RAM breaks the receive queue only. */
    add_chain(&f, 0, &(struct buf){RAM_SIZE - 16, 4096, true}, 1);
    peer_send(&f, 0, 60, 0);
    assert_no_used(&f, 0);
    rx_post(&f, 0, 1526, &big);
    assert_no_used(&f, 0);
    /* Transmit on the same pair goes on. */
    {
        uint8_t hdr[HDR] = {0}, out[128];

        tx_frame(&f, 1, hdr, 64, 0);
        g_assert_cmpint(peer_recv(&f, 0, out, sizeof(out)), ==, HDR + 64);
        g_assert_cmpuint(wait_used(&f, 1, NULL), ==, 0);
    }
    wait_rx_dropped(&f, 2);
    fixture_fini(&f);
}

/* A control command: class, command, data; an ack byte (unless no_ack). */
static uint8_t ctrl(struct fixture *f, const uint8_t *cmd, uint32_t len, bool no_ack,
                    uint32_t *used_len)
{
    uint64_t c = alloc_buf(f, len), a = alloc_buf(f, 1);
    struct buf b[2] = {{c, len, false}, {a, 1, true}};
    uint32_t l;

    memcpy(f->ram + c, cmd, len);
    f->ram[a] = 0xee;
    add_chain(f, CTRLQ, b, no_ack ? 1 : 2);
    l = wait_used(f, CTRLQ, NULL);
    if (used_len)
        *used_len = l;
    return f->ram[a];
}

static void test_ctrl_mq(void)
{
    struct fixture f;
    uint8_t hdr[HDR] = {0}, out[128];
    uint32_t l;

    fixture_init(&f, 0);
    activate(&f, BASIC | F(VIRTIO_NET_F_MQ));
    g_assert_false(f.enabled[1]);
    g_assert_cmpuint(ctrl(&f, (uint8_t[]){VIRTIO_NET_CTRL_MQ, 0, 2, 0}, 4, false, &l), ==,
                     VIRTIO_NET_OK);
    g_assert_cmpuint(l, ==, 1);
    g_assert_true(f.enabled[1]);
    /* The second pair now carries traffic both ways. */
    tx_frame(&f, 3, hdr, 64, 1);
    g_assert_cmpint(peer_recv(&f, 1, out, sizeof(out)), ==, HDR + 64);
    g_assert_cmpuint(wait_used(&f, 3, NULL), ==, 0);
    {
        uint64_t gpa;

        rx_post(&f, 2, 1526, &gpa);
        peer_send(&f, 1, 80, 2);
        g_assert_cmpuint(wait_used(&f, 2, NULL), ==, HDR + 80);
    }
    /* Back to one pair; 0 and 3 pairs are refused without breaking anything. */
    g_assert_cmpuint(ctrl(&f, (uint8_t[]){VIRTIO_NET_CTRL_MQ, 0, 1, 0}, 4, false, NULL), ==,
                     VIRTIO_NET_OK);
    g_assert_false(f.enabled[1]);
    g_assert_cmpuint(ctrl(&f, (uint8_t[]){VIRTIO_NET_CTRL_MQ, 0, 0, 0}, 4, false, NULL), ==,
                     VIRTIO_NET_ERR);
    g_assert_cmpuint(ctrl(&f, (uint8_t[]){VIRTIO_NET_CTRL_MQ, 0, 3, 0}, 4, false, NULL), ==,
                     VIRTIO_NET_ERR);
    g_assert_cmpuint(virtio_net_ctrl_dropped(f.net), ==, 0);
    fixture_fini(&f);
}

static void test_ctrl_hostile(void)
{
    struct fixture f;
    uint8_t hdr[HDR] = {0}, out[128];
    uint32_t l;

    fixture_init(&f, 0);
    activate(&f, BASIC | F(VIRTIO_NET_F_MQ) | F(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS));
    /* VQ_PAIRS_SET with three bytes of data. */
    g_assert_cmpuint(ctrl(&f, (uint8_t[]){VIRTIO_NET_CTRL_MQ, 0, 2, 0, 0}, 5, false, NULL), ==,
                     VIRTIO_NET_ERR);
    g_assert_false(f.enabled[1]);
    /* Class and command only, no data. */
    g_assert_cmpuint(ctrl(&f, (uint8_t[]){VIRTIO_NET_CTRL_MQ, 0}, 2, false, NULL), ==,
                     VIRTIO_NET_ERR);
    /* Unknown class, unknown command, and a one-byte command. */
    g_assert_cmpuint(ctrl(&f, (uint8_t[]){99, 0, 0}, 3, false, NULL), ==, VIRTIO_NET_ERR);
    g_assert_cmpuint(ctrl(&f, (uint8_t[]){VIRTIO_NET_CTRL_RX, 77, 1}, 3, false, NULL), ==,
                     VIRTIO_NET_ERR);
    g_assert_cmpuint(ctrl(&f, (uint8_t[]){VIRTIO_NET_CTRL_RX}, 1, false, NULL), ==, VIRTIO_NET_ERR);
    /* No room for the ack: used with length 0. */
    g_assert_cmpuint(ctrl(&f, (uint8_t[]){VIRTIO_NET_CTRL_MQ, 0, 2, 0}, 4, true, &l), ==, 0xee);
    g_assert_cmpuint(l, ==, 0);
    g_assert_false(f.enabled[1]);
    /* Guest offloads the driver did not negotiate. */
    g_assert_cmpuint(ctrl(&f,
                          (uint8_t[]){VIRTIO_NET_CTRL_GUEST_OFFLOADS, 0, 0, 1 /* GUEST_TSO6 */, 0,
                                      0, 0, 0, 0, 0},
                          10, false, NULL),
                     ==, VIRTIO_NET_ERR);
    g_assert_cmpuint(virtio_net_ctrl_dropped(f.net), ==, 6);
    /* Well-formed commands still work, and so do the data queues. */
    g_assert_cmpuint(ctrl(&f, (uint8_t[]){VIRTIO_NET_CTRL_RX, 0, 1}, 3, false, NULL), ==,
                     VIRTIO_NET_OK);
    g_assert_cmpuint(ctrl(&f,
                          (uint8_t[]){VIRTIO_NET_CTRL_GUEST_OFFLOADS, 0,
                                      1u << VIRTIO_NET_F_GUEST_CSUM, 0, 0, 0, 0, 0, 0, 0},
                          10, false, NULL),
                     ==, VIRTIO_NET_OK);
    g_assert_cmpuint(f.offloads, ==, NET_OFFLOAD_CSUM);
    tx_frame(&f, 1, hdr, 64, 1);
    g_assert_cmpint(peer_recv(&f, 0, out, sizeof(out)), ==, HDR + 64);
    /* A control chain outside RAM breaks the control queue, not the rest. */
    add_chain(&f, CTRLQ, &(struct buf){RAM_SIZE + 4096, 4, false}, 1);
    assert_no_used(&f, CTRLQ);
    tx_frame(&f, 1, hdr, 64, 1);
    g_assert_cmpint(peer_recv(&f, 0, out, sizeof(out)), ==, HDR + 64);
    fixture_fini(&f);
}

static void test_reset(void)
{
    struct fixture f;
    uint8_t hdr[HDR] = {0}, out[128];
    struct virtio_net_stats s;

    fixture_init(&f, 0);
    activate(&f, BASIC | F(VIRTIO_NET_F_MQ));
    g_assert_cmpuint(ctrl(&f, (uint8_t[]){VIRTIO_NET_CTRL_MQ, 0, 2, 0}, 4, false, NULL), ==,
                     VIRTIO_NET_OK);
    tx_frame(&f, 1, hdr, 64, 1);
    g_assert_cmpint(peer_recv(&f, 0, out, sizeof(out)), ==, HDR + 64);
    f.vdev.ops->reset(f.vdev.dev);
    g_assert_cmpuint(f.offloads, ==, 0);
    g_assert_false(f.enabled[1]);
    g_assert_true(f.enabled[0]);

    /* A new driver: fresh rings. */
    memset(f.ram, 0, BUFS);
    memset(f.avail_idx, 0, sizeof(f.avail_idx));
    memset(f.next_desc, 0, sizeof(f.next_desc));
    memset(f.seen_used, 0, sizeof(f.seen_used));
    for (int i = 0; i < NQ; i++)
        virtq_reset(&f.q[i]);
    activate(&f, BASIC);
    tx_frame(&f, 1, hdr, 70, 1);
    g_assert_cmpint(peer_recv(&f, 0, out, sizeof(out)), ==, HDR + 70);
    g_assert_cmpuint(wait_used(&f, 1, NULL), ==, 0);
    virtio_net_pair_stats(f.net, 0, &s);
    g_assert_cmpuint(s.tx_frames, ==, 2); /* counters survive a reset */
    fixture_fini(&f);
}

static void test_ctrl_parse(void)
{
    static const struct {
        uint8_t cmd[24];
        size_t len;
        uint8_t ack;
        bool malformed;
    } cases[] = {
        {{VIRTIO_NET_CTRL_RX, 0, 1}, 3, VIRTIO_NET_OK, false},
        {{VIRTIO_NET_CTRL_RX, 5, 0}, 3, VIRTIO_NET_OK, false},
        {{VIRTIO_NET_CTRL_RX, 6, 0}, 3, VIRTIO_NET_ERR, true},
        {{VIRTIO_NET_CTRL_RX, 0, 1, 1}, 4, VIRTIO_NET_ERR, true},
        /* MAC table: 1 unicast entry, 0 multicast. */
        {{VIRTIO_NET_CTRL_MAC, 0, 1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0},
         16,
         VIRTIO_NET_OK,
         false},
        /* ... claiming 2 entries with room for 1. */
        {{VIRTIO_NET_CTRL_MAC, 0, 2, 0, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0},
         16,
         VIRTIO_NET_ERR,
         true},
        /* ... a huge count. */
        {{VIRTIO_NET_CTRL_MAC, 0, 0xff, 0xff, 0xff, 0xff}, 6, VIRTIO_NET_ERR, true},
        {{VIRTIO_NET_CTRL_MAC, 1, 1, 2, 3, 4, 5, 6}, 8, VIRTIO_NET_OK, false},
        {{VIRTIO_NET_CTRL_MAC, 1, 1, 2, 3}, 5, VIRTIO_NET_ERR, true},
        {{VIRTIO_NET_CTRL_ANNOUNCE, 0}, 2, VIRTIO_NET_OK, false},
        {{VIRTIO_NET_CTRL_MQ, 0, 4, 0}, 4, VIRTIO_NET_OK, false},
        {{VIRTIO_NET_CTRL_MQ, 0, 5, 0}, 4, VIRTIO_NET_ERR, false},
        {{VIRTIO_NET_CTRL_MQ, 1, 2, 0}, 4, VIRTIO_NET_ERR, true},
        {{VIRTIO_NET_CTRL_VLAN, 0, 1, 0}, 4, VIRTIO_NET_ERR, true},
        {{0}, 0, VIRTIO_NET_ERR, true},
    };
    uint64_t f = BASIC | F(VIRTIO_NET_F_MQ);

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct virtio_net_ctrl_cmd c;

        virtio_net_ctrl_parse(cases[i].cmd, cases[i].len, f, 4, &c);
        g_assert_cmpuint(c.ack, ==, cases[i].ack);
        g_assert_cmpint(c.malformed, ==, cases[i].malformed);
    }
    {
        struct virtio_net_ctrl_cmd c;

        /* MQ commands without MQ negotiated are refused. */
        virtio_net_ctrl_parse((uint8_t[]){VIRTIO_NET_CTRL_MQ, 0, 1, 0}, 4, BASIC, 4, &c);
        g_assert_cmpuint(c.ack, ==, VIRTIO_NET_ERR);
        virtio_net_ctrl_parse((uint8_t[]){VIRTIO_NET_CTRL_MQ, 0, 3, 0}, 4, f, 4, &c);
        g_assert_cmpint(c.action, ==, VIRTIO_NET_CTRL_ACT_SET_PAIRS);
        g_assert_cmpuint(c.arg, ==, 3);
    }
}

/* A VmConfig may name any fd of the VMM: one that is not a TAP is refused
 * and stays open (it may be the VMM's own API socket). */
static void test_tap_refuses_non_tap_fd(void)
{
    struct net_backend be;
    g_autofree char *err = NULL;
    int sv[2];

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    g_assert_cmpint(tap_open(&(struct tap_opts){.fds = sv, .nr_fds = 2}, &be, &err), <, 0);
    g_assert_true(g_str_has_prefix(err, "fd=") && strstr(err, "is not a usable TAP fd"));
    g_assert_cmpint(fcntl(sv[0], F_GETFD), >=, 0);
    g_assert_cmpint(fcntl(sv[1], F_GETFD), >=, 0);
    close(sv[0]);
    close(sv[1]);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-net/config", test_config);
    g_test_add_func("/virtio-net/no-offloads-without-vnet-hdr", test_no_offloads_without_vnet_hdr);
    g_test_add_func("/virtio-net/bad-options", test_bad_options);
    g_test_add_func("/virtio-net/tx", test_tx);
    g_test_add_func("/virtio-net/rx-single-buffer", test_rx_single_buffer);
    g_test_add_func("/virtio-net/rx-mergeable", test_rx_mergeable);
    g_test_add_func("/virtio-net/interrupt-when-asked", test_interrupt_when_asked);
    g_test_add_func("/virtio-net/tx-iov", test_tx_iov);
    g_test_add_func("/virtio-net/tx-hostile", test_tx_hostile);
    g_test_add_func("/virtio-net/rx-hostile", test_rx_hostile);
    g_test_add_func("/virtio-net/ctrl-mq", test_ctrl_mq);
    g_test_add_func("/virtio-net/ctrl-hostile", test_ctrl_hostile);
    g_test_add_func("/virtio-net/reset", test_reset);
    g_test_add_func("/virtio-net/ctrl-parse", test_ctrl_parse);
    g_test_add_func("/virtio-net/tap-refuses-non-tap-fd", test_tap_refuses_non_tap_fd);
    return g_test_run();
}
