/* virtio-net: one worker thread per queue pair moves frames between the
 * pair's virtqueues and its backend fd; the first pair's worker also serves
 * the control queue. What the guest may still change is never read twice:
 * received frames go through a bounce buffer; a transmitted frame's header
 * is copied and checked, and the header copy and the frame's bytes in guest
 * memory go to the backend in one writev(), where the kernel reads them
 * once. What the guest asks for is checked in virtio/net_request.c. */
#include "config.h"

#include "virtio/net.h"

#include <endian.h>
#include <errno.h>
#include <glib.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"

#define MAX_CTRL_CMD  8192u /* a MAC filter table of ~1300 addresses */
#define BUDGET        256   /* frames per direction before looking at the others */
#define MAX_RX_CHAINS 256   /* receive chains one frame may take (MRG_RXBUF) */
#define BUF_SIZE      (VIRTIO_NET_HDR_SIZE + VIRTIO_NET_MAX_FRAME)
#define TX_MAX_IOV    64 /* pieces of a frame sent as they lie; more are copied */

static bool has(uint64_t features, unsigned int bit)
{
    return features & (1ull << bit);
}

struct net_pair {
    struct virtio_net *n;
    unsigned int index;
    struct virtq *rx, *tx, *ctrl; /* NULL when the driver did not enable it */
    int rx_kick, tx_kick, ctrl_kick;
    unsigned int ctrl_index;
    int fd;      /* the backend's fd for this pair */
    int stop_fd; /* eventfd: leave */
    int wake_fd; /* eventfd: `enabled` changed */
    GThread *thread;
    bool rx_pending;      /* a frame waits in rx_buf for receive buffers */
    unsigned int rx_seen; /* chains that were not enough for it */
    size_t rx_len;        /* its length, header included */
    bool tx_blocked;      /* the backend said EAGAIN: wait for POLLOUT */
    bool rx_pushed;       /* rx_deliver() used chains: maybe an interrupt */
    uint8_t *rx_buf, *tx_buf;
    uint8_t tx_hdr[VIRTIO_NET_HDR_SIZE]; /* the checked header of the frame being sent */
    struct virtq_chain first, chain;
    struct log_ratelimit rl;
};

struct virtio_net {
    struct net_backend be;
    unsigned int max_pairs;
    uint16_t queue_size;
    uint8_t config[VIRTIO_NET_CONFIG_SIZE];
    char id[32];
    uint64_t offered;
    struct virtio_activation act;
    bool running;
    struct net_pair *pairs[VIRTIO_NET_MAX_PAIRS];
    unsigned int nr_pairs;                               /* workers running */
    bool enabled[VIRTIO_NET_MAX_PAIRS];                  /* atomic: the pair carries traffic */
    struct virtio_net_stats stats[VIRTIO_NET_MAX_PAIRS]; /* atomic; kept over resets */
    uint64_t ctrl_dropped;                               /* atomic */
};

static void count(uint64_t *c, uint64_t v)
{
    __atomic_fetch_add(c, v, __ATOMIC_RELAXED);
}

static void warn_limited(struct net_pair *p, const char *what, int err)
{
    unsigned int suppressed;

    if (log_ratelimit(&p->rl, &suppressed))
        log_warn("virtio-net %s: queue pair %u: %s%s%s (%u suppressed)", p->n->id, p->index, what,
                 err ? ": " : "", err ? g_strerror(err) : "", suppressed);
}

static void signal_queue(struct net_pair *p, struct virtq *q, unsigned int index)
{
    if (virtq_needs_notification(q))
        p->n->act.interrupt.signal(p->n->act.interrupt.opaque, index);
}

/* Writes `len` bytes at `skip` into the chain's device-writable part;
 * returns the bytes written. */
static size_t chain_scatter(const struct guest_memory *mem, const struct virtq_chain *c,
                            size_t skip, const uint8_t *src, size_t len)
{
    size_t done = 0;

    for (unsigned int i = 0; i < c->nr_bufs && done < len; i++) {
        const struct virtq_buf *b = &c->bufs[i];
        size_t take;

        if (!b->device_writes)
            continue;
        if (skip >= b->len) {
            skip -= b->len;
            continue;
        }
        take = MIN(b->len - skip, len - done);
        if (guest_memory_write(mem, b->gpa + skip, src + done, take) < 0)
            break;
        done += take;
        skip = 0;
    }
    return done;
}

/* Gives back chains popped but not used: they are read again next time. */
static void rewind_avail(struct virtq *q, uint16_t to)
{
    q->next_avail = to;
}

/* Delivers the pending frame. 1: done (delivered or dropped), 0: not enough
 * receive buffers yet, -errno: the receive queue is broken. */
static int rx_deliver(struct net_pair *p)
{
    struct virtio_net *n = p->n;
    const struct guest_memory *mem = n->act.mem;
    bool mrg = has(n->act.features, VIRTIO_NET_F_MRG_RXBUF);
    uint16_t start = p->rx->next_avail;
    uint16_t heads[MAX_RX_CHAINS];
    uint32_t lens[G_N_ELEMENTS(heads)];
    unsigned int used = 0;
    size_t off = 0;
    uint8_t nb[2];
    int r;

    while (off < p->rx_len) {
        struct virtq_chain *c = used ? &p->chain : &p->first;
        size_t take;

        if (used == G_N_ELEMENTS(heads) || used == p->rx->size) {
            /* Buffers too small for any frame: drop it, keep them. */
            rewind_avail(p->rx, start);
            count(&n->stats[p->index].rx_dropped, 1);
            warn_limited(p, "receive buffers too small for a frame; dropped", 0);
            return 1;
        }
        r = virtq_pop(p->rx, c);
        if (r == 0) {
            rewind_avail(p->rx, start);
            p->rx_seen = used;
            return 0;
        }
        if (r < 0)
            return r;
        if (!mrg && c->writable < p->rx_len) {
            rewind_avail(p->rx, start);
            count(&n->stats[p->index].rx_dropped, 1);
            warn_limited(p, "receive buffer smaller than the frame; dropped", 0);
            return 1;
        }
        take = MIN(c->writable, p->rx_len - off);
        take = chain_scatter(mem, c, 0, p->rx_buf + off, take);
        heads[used] = c->head;
        lens[used] = (uint32_t)take;
        used++;
        off += take;
        if (!mrg && off < p->rx_len)
            break; /* a write failed: deliver what fitted */
    }
    /* num_buffers, now that it is known (1 without MRG_RXBUF). */
    nb[0] = used & 0xff;
    nb[1] = used >> 8;
    chain_scatter(mem, &p->first, 10, nb, 2);
    /* Counted first: whoever sees the used ring sees the counters too. */
    count(&n->stats[p->index].rx_frames, 1);
    count(&n->stats[p->index].rx_bytes, p->rx_len - VIRTIO_NET_HDR_SIZE);
    for (unsigned int i = 0; i < used; i++) {
        r = virtq_push(p->rx, heads[i], lens[i]);
        if (r < 0)
            return r;
    }
    p->rx_pushed = true;
    return 1;
}

/* Reads frames from the backend into the receive queue. True when the
 * budget ran out with work left. */
static bool rx_process(struct net_pair *p)
{
    struct virtio_net *n = p->n;
    bool vnet = n->be.vnet_hdr;
    unsigned int done;

    if (!p->rx || p->rx->broken)
        return false;
    for (done = 0; done < BUDGET; done++) {
        int r;

        if (!p->rx_pending) {
            uint8_t *at = vnet ? p->rx_buf : p->rx_buf + VIRTIO_NET_HDR_SIZE;
            size_t min = (vnet ? VIRTIO_NET_HDR_SIZE : 0) + VIRTIO_NET_MIN_FRAME;
            ssize_t got = read(p->fd, at, BUF_SIZE - (vnet ? 0 : VIRTIO_NET_HDR_SIZE));

            if (got < 0) {
                if (errno == EINTR)
                    continue;
                if (errno != EAGAIN)
                    warn_limited(p, "reading from the backend", errno);
                break;
            }
            if ((size_t)got < min) {
                count(&n->stats[p->index].rx_dropped, 1);
                continue;
            }
            if (!vnet)
                memset(p->rx_buf, 0, VIRTIO_NET_HDR_SIZE);
            p->rx_len = (size_t)got + (vnet ? 0 : VIRTIO_NET_HDR_SIZE);
            p->rx_pending = true;
        }
        r = rx_deliver(p);
        if (r == 0) {
            /* Ask for a kick when more buffers come; retry at once if some
             * came meanwhile (each retry sees more, so this ends). */
            if (virtq_wait_for_more(p->rx) > p->rx_seen)
                continue;
            break;
        }
        p->rx_pending = false;
        /* Each frame at once when the driver asked (used_event): it refills
         * the ring while we go on, rather than after the whole batch. */
        if (p->rx_pushed)
            signal_queue(p, p->rx, 2 * p->index);
        p->rx_pushed = false;
        if (r < 0) {
            log_error("virtio-net %s: receive queue %u broken by the driver (%s); no more "
                      "receiving on it",
                      n->id, p->index, g_strerror(-r));
            break;
        }
    }
    return done == BUDGET;
}

/* Sends what the driver queued for transmission. True when the budget ran
 * out with work left. */
static bool tx_process(struct net_pair *p)
{
    struct virtio_net *n = p->n;
    unsigned int done = 0;
    struct iovec iov[TX_MAX_IOV];

    if (!p->tx || p->tx->broken)
        return false;
    while (done < BUDGET) {
        int len, nr_iov, r;
        ssize_t w;

        virtq_set_notification(p->tx, false);
        r = virtq_pop(p->tx, &p->chain);
        if (r == 0) {
            virtq_set_notification(p->tx, true);
            if (virtq_has_available(p->tx))
                continue;
            break;
        }
        if (r < 0) {
            log_error("virtio-net %s: transmit queue %u broken by the driver (%s); no more "
                      "sending on it",
                      n->id, p->index, g_strerror(-r));
            break;
        }
        done++;
        nr_iov = virtio_net_tx_iov(n->act.mem, &p->chain, n->act.features, n->be.vnet_hdr,
                                   p->tx_hdr, iov, G_N_ELEMENTS(iov));
        if (nr_iov == -E2BIG) {
            /* More pieces than a Linux driver makes: copy them together. */
            len = virtio_net_tx_frame(n->act.mem, &p->chain, n->act.features, n->be.vnet_hdr,
                                      p->tx_buf);
            iov[0] = (struct iovec){.iov_base = p->tx_buf, .iov_len = len < 0 ? 0 : len};
            nr_iov = len < 0 ? len : 1;
        }
        if (nr_iov < 0) {
            count(&n->stats[p->index].tx_dropped, 1);
            warn_limited(p, "malformed transmit request; dropped", 0);
        } else {
            len = (int)(p->chain.readable - VIRTIO_NET_HDR_SIZE) +
                  (n->be.vnet_hdr ? (int)VIRTIO_NET_HDR_SIZE : 0);
            do {
                w = writev(p->fd, iov, nr_iov);
            } while (w < 0 && errno == EINTR);
            if (w < 0 && errno == EAGAIN) {
                rewind_avail(p->tx, (uint16_t)(p->tx->next_avail - 1));
                p->tx_blocked = true;
                break;
            }
            if (w < 0) {
                count(&n->stats[p->index].tx_dropped, 1);
                warn_limited(p, "the backend refused a frame", errno);
            } else {
                count(&n->stats[p->index].tx_frames, 1);
                count(&n->stats[p->index].tx_bytes,
                      (uint64_t)len - (n->be.vnet_hdr ? VIRTIO_NET_HDR_SIZE : 0));
            }
        }
        p->tx_blocked = false;
        /* Completions at once when the driver asked: its socket buffers
         * (TCP small queues) are freed while we go on with the batch. */
        if (virtq_push(p->tx, p->chain.head, 0) == 0)
            signal_queue(p, p->tx, 2 * p->index + 1);
    }
    return done == BUDGET;
}

static void pair_set_enabled(struct virtio_net *n, unsigned int pair, bool on)
{
    uint64_t one = 1;

    if (__atomic_load_n(&n->enabled[pair], __ATOMIC_ACQUIRE) == on)
        return;
    if (n->be.ops && n->be.ops->set_queue_enabled) {
        int r = n->be.ops->set_queue_enabled(n->be.opaque, pair, on);
        if (r < 0)
            log_warn("virtio-net %s: cannot %s queue pair %u on %s: %s", n->id,
                     on ? "attach" : "detach", pair, n->be.name, g_strerror(-r));
    }
    __atomic_store_n(&n->enabled[pair], on, __ATOMIC_RELEASE);
    if (pair < n->nr_pairs && write(n->pairs[pair]->wake_fd, &one, sizeof(one)) < 0) {
        /* EAGAIN: a wake-up is pending already. */
    }
}

static unsigned int guest_offloads(uint64_t bits)
{
    unsigned int o = 0;

    if (has(bits, VIRTIO_NET_F_GUEST_CSUM))
        o |= NET_OFFLOAD_CSUM;
    /* Segmentation offloads need checksum offload under them. */
    if (o && has(bits, VIRTIO_NET_F_GUEST_TSO4))
        o |= NET_OFFLOAD_TSO4;
    if (o && has(bits, VIRTIO_NET_F_GUEST_TSO6))
        o |= NET_OFFLOAD_TSO6;
    if ((o & (NET_OFFLOAD_TSO4 | NET_OFFLOAD_TSO6)) && has(bits, VIRTIO_NET_F_GUEST_ECN))
        o |= NET_OFFLOAD_ECN;
    if (o && has(bits, VIRTIO_NET_F_GUEST_UFO))
        o |= NET_OFFLOAD_UFO;
    return o;
}

static int set_offloads(struct virtio_net *n, uint64_t bits)
{
    if (!n->be.offloads || !n->be.ops || !n->be.ops->set_offload)
        return 0;
    return n->be.ops->set_offload(n->be.opaque, guest_offloads(bits));
}

static void ctrl_handle(struct net_pair *p)
{
    struct virtio_net *n = p->n;
    struct virtio_net_ctrl_cmd cmd;
    uint8_t buf[MAX_CTRL_CMD];
    size_t at = 0;
    uint32_t written = 0;

    if (!p->chain.writable || p->chain.readable > MAX_CTRL_CMD) {
        cmd = (struct virtio_net_ctrl_cmd){.ack = VIRTIO_NET_ERR, .malformed = true};
    } else {
        for (unsigned int i = 0; i < p->chain.nr_bufs && !p->chain.bufs[i].device_writes; i++) {
            const struct virtq_buf *b = &p->chain.bufs[i];

            if (guest_memory_read(n->act.mem, b->gpa, buf + at, b->len) < 0)
                break;
            at += b->len;
        }
        virtio_net_ctrl_parse(buf, at, n->act.features, n->max_pairs, &cmd);
    }
    if (cmd.malformed) {
        count(&n->ctrl_dropped, 1);
        warn_limited(p, "malformed control command; refused", 0);
    }
    switch (cmd.action) {
    case VIRTIO_NET_CTRL_ACT_SET_PAIRS:
        for (unsigned int i = 0; i < n->max_pairs; i++)
            pair_set_enabled(n, i, i < cmd.arg);
        log_debug("virtio-net %s: %u queue pair(s) in use", n->id, (unsigned int)cmd.arg);
        break;
    case VIRTIO_NET_CTRL_ACT_SET_OFFLOADS:
        if (set_offloads(n, cmd.arg) < 0)
            cmd.ack = VIRTIO_NET_ERR;
        break;
    case VIRTIO_NET_CTRL_ACT_NONE:
        break;
    }
    if (p->chain.writable)
        written = (uint32_t)chain_scatter(n->act.mem, &p->chain, 0, &cmd.ack, 1);
    if (virtq_push(p->ctrl, p->chain.head, written) == 0)
        signal_queue(p, p->ctrl, p->ctrl_index);
}

static void ctrl_process(struct net_pair *p)
{
    int r;

    if (!p->ctrl || p->ctrl->broken)
        return;
    for (;;) {
        virtq_set_notification(p->ctrl, false);
        while ((r = virtq_pop(p->ctrl, &p->chain)) == 1)
            ctrl_handle(p);
        if (r < 0) {
            log_error("virtio-net %s: control queue broken by the driver (%s)", p->n->id,
                      g_strerror(-r));
            return;
        }
        virtq_set_notification(p->ctrl, true);
        if (!virtq_has_available(p->ctrl))
            return;
    }
}

static void drain_fd(int fd)
{
    uint64_t v;

    if (read(fd, &v, sizeof(v)) < 0) {
        /* EAGAIN: nothing pending. */
    }
}

static gpointer pair_run(gpointer opaque)
{
    struct net_pair *p = opaque;
    struct virtio_net *n = p->n;
    bool busy = true; /* buffers may have come before activation */

    for (;;) {
        struct pollfd fds[6];
        unsigned int nfds = 0;
        bool on = __atomic_load_n(&n->enabled[p->index], __ATOMIC_ACQUIRE);
        short ev = 0;

        fds[nfds++] = (struct pollfd){.fd = p->stop_fd, .events = POLLIN};
        fds[nfds++] = (struct pollfd){.fd = p->wake_fd, .events = POLLIN};
        if (p->rx)
            fds[nfds++] = (struct pollfd){.fd = p->rx_kick, .events = POLLIN};
        if (p->tx)
            fds[nfds++] = (struct pollfd){.fd = p->tx_kick, .events = POLLIN};
        if (p->ctrl)
            fds[nfds++] = (struct pollfd){.fd = p->ctrl_kick, .events = POLLIN};
        if (on && p->rx && !p->rx->broken && !p->rx_pending)
            ev |= POLLIN;
        if (on && p->tx_blocked)
            ev |= POLLOUT;
        if (ev)
            fds[nfds++] = (struct pollfd){.fd = p->fd, .events = ev};
        if (poll(fds, nfds, busy ? 0 : -1) < 0) {
            if (errno == EINTR)
                continue;
            log_error("virtio-net %s: poll: %s", n->id, g_strerror(errno));
            break;
        }
        if (fds[0].revents)
            break;
        for (unsigned int i = 1; i < nfds; i++) {
            if (fds[i].fd != p->fd && fds[i].revents)
                drain_fd(fds[i].fd);
        }
        busy = false;
        ctrl_process(p);
        /* Again: kicks that came while the pair was off were drained, and
         * the wake-up that turned it on must find their buffers now. */
        on = __atomic_load_n(&n->enabled[p->index], __ATOMIC_ACQUIRE);
        if (on) {
            busy |= tx_process(p);
            busy |= rx_process(p);
        }
    }
    return NULL;
}

static void pair_free(struct net_pair *p)
{
    if (!p)
        return;
    if (p->stop_fd >= 0)
        close(p->stop_fd);
    if (p->wake_fd >= 0)
        close(p->wake_fd);
    g_free(p->rx_buf);
    g_free(p->tx_buf);
    g_free(p);
}

static void net_reset(void *dev)
{
    struct virtio_net *n = dev;

    for (unsigned int i = 0; i < n->nr_pairs; i++) {
        struct net_pair *p = n->pairs[i];
        uint64_t one = 1;

        if (p->thread) {
            if (write(p->stop_fd, &one, sizeof(one)) < 0)
                log_error("virtio-net %s: cannot stop worker: %s", n->id, g_strerror(errno));
            g_thread_join(p->thread);
        }
        pair_free(p);
        n->pairs[i] = NULL;
    }
    n->nr_pairs = 0;
    if (n->running) {
        /* As new: one pair, no offloads for the next driver to be surprised by. */
        for (unsigned int i = 0; i < n->max_pairs; i++)
            pair_set_enabled(n, i, i == 0);
        if (set_offloads(n, 0) < 0)
            log_warn("virtio-net %s: cannot clear the offloads of %s", n->id, n->be.name);
    }
    n->running = false;
    memset(&n->act, 0, sizeof(n->act));
}

static struct virtq *queue_if_ready(const struct virtio_activation *act, unsigned int i)
{
    return i < act->nr_queues && act->queues[i].ready ? &act->queues[i] : NULL;
}

static int net_activate(void *dev, const struct virtio_activation *act)
{
    struct virtio_net *n = dev;
    bool mq = has(act->features, VIRTIO_NET_F_MQ);
    unsigned int pairs = mq ? n->max_pairs : 1;
    unsigned int ctrl = 2 * pairs;
    int r;

    if (n->running)
        return -EBUSY;
    if (!queue_if_ready(act, 0) || !queue_if_ready(act, 1))
        return -EINVAL;
    n->act = *act;
    n->running = true;
    r = set_offloads(n, act->features);
    if (r < 0) {
        log_error("virtio-net %s: cannot set the offloads of %s: %s", n->id, n->be.name,
                  g_strerror(-r));
        goto fail;
    }
    for (unsigned int i = 0; i < pairs; i++) {
        struct net_pair *p = g_new0(struct net_pair, 1);

        p->n = n;
        p->index = i;
        p->rx = queue_if_ready(act, 2 * i);
        p->tx = queue_if_ready(act, 2 * i + 1);
        p->rx_kick = act->kick_fds[2 * i];
        p->tx_kick = act->kick_fds[2 * i + 1];
        if (i == 0 && has(act->features, VIRTIO_NET_F_CTRL_VQ)) {
            p->ctrl = queue_if_ready(act, ctrl);
            p->ctrl_kick = p->ctrl ? act->kick_fds[ctrl] : -1;
            p->ctrl_index = ctrl;
        }
        p->fd = n->be.fds[i];
        p->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(10);
        p->rx_buf = g_malloc(BUF_SIZE);
        p->tx_buf = g_malloc(BUF_SIZE);
        p->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        p->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        n->pairs[n->nr_pairs++] = p;
        if (p->stop_fd < 0 || p->wake_fd < 0) {
            r = -errno;
            goto fail;
        }
    }
    /* Only the first pair until VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET (5.1.6.5.5). */
    for (unsigned int i = 0; i < n->max_pairs; i++)
        pair_set_enabled(n, i, i == 0);
    for (unsigned int i = 0; i < n->nr_pairs; i++) {
        g_autofree char *name = g_strdup_printf("net-%s-q%u", n->id, i);

        n->pairs[i]->thread = g_thread_new(name, pair_run, n->pairs[i]);
    }
    log_info("virtio-net %s: %u queue pair(s) of %u on %s", n->id, pairs, act->queues[0].size,
             n->be.name);
    return 0;
fail:
    net_reset(n);
    return r;
}

static uint64_t net_features(void *dev)
{
    return ((struct virtio_net *)dev)->offered;
}

static uint32_t net_config_size(void *dev)
{
    return VIRTIO_NET_CONFIG_SIZE;
}

static void net_config_read(void *dev, uint32_t offset, uint8_t *data, uint32_t len)
{
    struct virtio_net *n = dev;

    for (uint32_t i = 0; i < len; i++) {
        uint64_t at = (uint64_t)offset + i;

        data[i] = at < sizeof(n->config) ? n->config[at] : 0;
    }
}

static void net_config_write(void *dev, uint32_t offset, const uint8_t *data, uint32_t len)
{
    /* The MAC is writable only for legacy drivers; nothing else is. */
}

static void net_free(void *dev)
{
    struct virtio_net *n = dev;

    if (!n)
        return;
    net_reset(n);
    if (n->be.ops && n->be.ops->free)
        n->be.ops->free(n->be.opaque);
    g_free(n);
}

static const struct virtio_device_ops virtio_net_ops = {
    .device_id = VIRTIO_ID_NET,
    .features = net_features,
    .config_size = net_config_size,
    .config_read = net_config_read,
    .config_write = net_config_write,
    .activate = net_activate,
    .reset = net_reset,
    .free = net_free,
};

int virtio_net_new(const struct virtio_net_opts *o, struct virtio_net **out, char **err)
{
    unsigned int qs = o->queue_size ? o->queue_size : VIRTIO_NET_DEFAULT_QUEUE_SIZE;
    struct virtio_net *n;
    uint64_t f;

    if (o->backend.nr_fds < 1 || o->backend.nr_fds > VIRTIO_NET_MAX_PAIRS || !o->backend.fds) {
        *err = g_strdup_printf("virtio-net: %u queue pairs (1 to %d)", o->backend.nr_fds,
                               VIRTIO_NET_MAX_PAIRS);
        goto fail;
    }
    if (qs < 2 || qs > 32768 || (qs & (qs - 1))) {
        *err = g_strdup_printf("queue_size=%u must be a power of two from 2 to 32768", qs);
        goto fail;
    }
    if (o->mtu && (o->mtu < 68 || o->mtu > 65535)) {
        *err = g_strdup_printf("mtu=%u is out of range (68 to 65535)", o->mtu);
        goto fail;
    }
    n = g_new0(struct virtio_net, 1);
    n->be = o->backend;
    n->max_pairs = o->backend.nr_fds;
    n->queue_size = (uint16_t)qs;
    g_strlcpy(n->id, o->id ? o->id : "net0", sizeof(n->id));
    memcpy(n->config, o->mac, 6);
    n->config[6] = VIRTIO_NET_S_LINK_UP;
    n->config[8] = n->max_pairs & 0xff;
    n->config[9] = n->max_pairs >> 8;
    n->config[10] = o->mtu & 0xff;
    n->config[11] = (o->mtu >> 8) & 0xff;
    f = 1ull << VIRTIO_F_EVENT_IDX | 1ull << VIRTIO_F_INDIRECT_DESC | 1ull << VIRTIO_NET_F_MAC |
        1ull << VIRTIO_NET_F_STATUS | 1ull << VIRTIO_NET_F_MRG_RXBUF |
        1ull << VIRTIO_NET_F_CTRL_VQ | 1ull << VIRTIO_NET_F_CTRL_RX;
    if (n->max_pairs > 1)
        f |= 1ull << VIRTIO_NET_F_MQ;
    if (o->mtu)
        f |= 1ull << VIRTIO_NET_F_MTU;
    if (o->backend.vnet_hdr && o->backend.offloads)
        f |= 1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_NET_F_HOST_TSO4 |
             1ull << VIRTIO_NET_F_HOST_TSO6 | 1ull << VIRTIO_NET_F_HOST_ECN |
             1ull << VIRTIO_NET_F_HOST_UFO | VIRTIO_NET_GUEST_OFFLOADS |
             1ull << VIRTIO_NET_F_CTRL_GUEST_OFFLOADS;
    n->offered = f;
    n->enabled[0] = true;
    *out = n;
    return 0;
fail:
    if (o->backend.ops && o->backend.ops->free)
        o->backend.ops->free(o->backend.opaque);
    return -EINVAL;
}

void virtio_net_device(struct virtio_net *n, struct virtio_device *out)
{
    virtio_device_init(out, &virtio_net_ops, n, 2 * n->max_pairs + 1, n->queue_size, n->id, "net0");
}

unsigned int virtio_net_pairs(const struct virtio_net *n)
{
    return n->max_pairs;
}

void virtio_net_pair_stats(const struct virtio_net *n, unsigned int pair,
                           struct virtio_net_stats *out)
{
    const struct virtio_net_stats *s = &n->stats[pair];

    out->rx_bytes = __atomic_load_n(&s->rx_bytes, __ATOMIC_RELAXED);
    out->rx_frames = __atomic_load_n(&s->rx_frames, __ATOMIC_RELAXED);
    out->rx_dropped = __atomic_load_n(&s->rx_dropped, __ATOMIC_RELAXED);
    out->tx_bytes = __atomic_load_n(&s->tx_bytes, __ATOMIC_RELAXED);
    out->tx_frames = __atomic_load_n(&s->tx_frames, __ATOMIC_RELAXED);
    out->tx_dropped = __atomic_load_n(&s->tx_dropped, __ATOMIC_RELAXED);
}

uint64_t virtio_net_ctrl_dropped(const struct virtio_net *n)
{
    return __atomic_load_n(&n->ctrl_dropped, __ATOMIC_RELAXED);
}

const char *virtio_net_id(const struct virtio_net *n)
{
    return n->id;
}
