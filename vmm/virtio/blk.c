/* virtio-blk: requests are parsed from the descriptor chain, checked against
 * the disk's limits, handed to the disk queue of the worker that serves the
 * virtqueue, and answered in the used ring when the I/O completes. */
#include "config.h"

#include "virtio/blk.h"

#include <endian.h>
#include <errno.h>
#include <glib.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

#define DEFAULT_QUEUE_SIZE  128
#define MAX_QUEUES          64
#define SIZE_MAX_BYTES      (1u << 20)
#define MAX_ZERO_SECTORS    (1u << 16)
#define DISCARD_ALIGN_SECTS 8
#define COMPLETIONS         32

/* ---- request parsing ---- */

/* Copies `len` bytes starting `skip` bytes into the chain's readable part. */
static int gather_readable(const struct guest_memory *mem, const struct virtq_chain *chain,
                           uint64_t skip, void *dst, size_t len)
{
    uint8_t *p = dst;

    for (unsigned int i = 0; i < chain->nr_bufs && len; i++) {
        const struct virtq_buf *b = &chain->bufs[i];
        size_t take;

        if (b->device_writes)
            break;
        if (skip >= b->len) {
            skip -= b->len;
            continue;
        }
        take = MIN(b->len - skip, len);
        if (guest_memory_read(mem, b->gpa + skip, p, take) < 0)
            return -EFAULT;
        p += take;
        len -= take;
        skip = 0;
    }
    return len ? -EINVAL : 0;
}

static void add_seg(struct blk_request *req, uint64_t gpa, uint64_t len)
{
    if (len) {
        req->segs[req->nr_segs++] = (struct blk_seg){gpa, (uint32_t)len};
        req->data_len += len;
    }
}

/* Data of a driver->device request: the readable bytes after the header. */
static void segs_readable(const struct virtq_chain *chain, struct blk_request *req)
{
    uint64_t skip = VIRTIO_BLK_HDR_SIZE;

    for (unsigned int i = 0; i < chain->nr_bufs; i++) {
        const struct virtq_buf *b = &chain->bufs[i];

        if (b->device_writes)
            break;
        if (skip >= b->len) {
            skip -= b->len;
            continue;
        }
        add_seg(req, b->gpa + skip, b->len - skip);
        skip = 0;
    }
}

/* Data of a device->driver request: the writable bytes but the status. */
static void segs_writable(const struct virtq_chain *chain, unsigned int status_buf,
                          struct blk_request *req)
{
    for (unsigned int i = 0; i <= status_buf; i++) {
        const struct virtq_buf *b = &chain->bufs[i];

        if (b->device_writes)
            add_seg(req, b->gpa, i == status_buf ? b->len - 1 : b->len);
    }
}

static bool range_ok(const struct blk_limits *lim, uint64_t sector, uint64_t sectors)
{
    return sector <= lim->capacity && sectors <= lim->capacity - sector;
}

static uint8_t parse_zeroes(const struct guest_memory *mem, const struct virtq_chain *chain,
                            const struct blk_limits *lim, struct blk_request *req)
{
    uint8_t seg[16];
    uint64_t readable = chain->readable - VIRTIO_BLK_HDR_SIZE;
    bool discard = req->type == VIRTIO_BLK_T_DISCARD;

    /* We advertise one segment per request. */
    if (readable != sizeof(seg) || gather_readable(mem, chain, VIRTIO_BLK_HDR_SIZE, seg, 16))
        return VIRTIO_BLK_S_IOERR;
    memcpy(&req->zero_sector, seg, 8);
    memcpy(&req->zero_sectors, seg + 8, 4);
    memcpy(&req->zero_flags, seg + 12, 4);
    req->zero_sector = le64toh(req->zero_sector);
    req->zero_sectors = le32toh(req->zero_sectors);
    req->zero_flags = le32toh(req->zero_flags);
    if (req->zero_flags & ~VIRTIO_BLK_DISCARD_UNMAP)
        return VIRTIO_BLK_S_UNSUPP;
    if (discard && req->zero_flags)
        return VIRTIO_BLK_S_UNSUPP; /* unmap is only defined for write zeroes */
    if (lim->readonly)
        return VIRTIO_BLK_S_IOERR;
    if (req->zero_sectors > (discard ? lim->max_discard_sectors : lim->max_write_zeroes_sectors) ||
        !range_ok(lim, req->zero_sector, req->zero_sectors))
        return VIRTIO_BLK_S_IOERR;
    return VIRTIO_BLK_S_OK;
}

static uint8_t parse_body(const struct guest_memory *mem, const struct virtq_chain *chain,
                          const struct blk_limits *lim, unsigned int status_buf,
                          struct blk_request *req)
{
    uint8_t hdr[VIRTIO_BLK_HDR_SIZE];

    if (chain->readable < VIRTIO_BLK_HDR_SIZE || gather_readable(mem, chain, 0, hdr, sizeof(hdr)))
        return VIRTIO_BLK_S_IOERR;
    memcpy(&req->type, hdr, 4);
    memcpy(&req->sector, hdr + 8, 8);
    req->type = le32toh(req->type);
    req->sector = le64toh(req->sector);

    switch (req->type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT:
        if (req->type == VIRTIO_BLK_T_IN)
            segs_writable(chain, status_buf, req);
        else
            segs_readable(chain, req);
        if (req->type == VIRTIO_BLK_T_OUT && lim->readonly)
            return VIRTIO_BLK_S_IOERR;
        if (req->data_len % VIRTIO_BLK_SECTOR_SIZE || req->data_len > lim->max_data ||
            !range_ok(lim, req->sector, req->data_len / VIRTIO_BLK_SECTOR_SIZE))
            return VIRTIO_BLK_S_IOERR;
        return VIRTIO_BLK_S_OK;
    case VIRTIO_BLK_T_FLUSH:
        return VIRTIO_BLK_S_OK;
    case VIRTIO_BLK_T_GET_ID:
        segs_writable(chain, status_buf, req);
        return VIRTIO_BLK_S_OK;
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        return parse_zeroes(mem, chain, lim, req);
    default:
        return VIRTIO_BLK_S_UNSUPP;
    }
}

int blk_request_parse(const struct guest_memory *mem, const struct virtq_chain *chain,
                      const struct blk_limits *lim, struct blk_request *req)
{
    unsigned int status_buf = chain->nr_bufs;

    req->type = UINT32_MAX;
    req->sector = 0;
    req->data_len = 0;
    req->nr_segs = 0;
    req->zero_sector = 0;
    req->zero_sectors = 0;
    req->zero_flags = 0;
    /* The status is the last byte the device may write (5.2.6). */
    for (unsigned int i = chain->nr_bufs; i-- > 0;) {
        if (chain->bufs[i].device_writes && chain->bufs[i].len) {
            status_buf = i;
            break;
        }
    }
    if (status_buf == chain->nr_bufs)
        return -EINVAL;
    req->status_gpa = chain->bufs[status_buf].gpa + chain->bufs[status_buf].len - 1;
    req->status = parse_body(mem, chain, lim, status_buf, req);
    return 0;
}

/* ---- the device ---- */

struct blk_inflight {
    struct disk_request dreq;
    uint16_t head;
    uint32_t type;
    uint64_t status_gpa;
    uint32_t data_written; /* bytes the device writes into the driver's buffers */
    struct iovec iov[];
};

struct blk_worker {
    struct virtio_blk *blk;
    unsigned int index;
    struct virtq *vq;
    int kick_fd;
    int stop_fd;
    struct disk_queue *dq;
    GThread *thread;
    bool pushed; /* since the last interrupt decision */
    struct log_ratelimit rl;
    struct virtq_chain chain;
    struct blk_request req;
};

struct virtio_blk {
    struct disk *disk;
    bool readonly;
    unsigned int num_queues;
    uint16_t queue_size;
    char serial[VIRTIO_BLK_ID_BYTES];
    char id[32];
    uint8_t config[VIRTIO_BLK_CONFIG_SIZE];
    struct blk_limits limits;
    struct virtio_activation act;
    struct blk_worker **workers;
    unsigned int nr_workers;
};

static void put_le16(uint8_t *p, uint16_t v)
{
    v = htole16(v);
    memcpy(p, &v, 2);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    v = htole32(v);
    memcpy(p, &v, 4);
}

static void put_le64(uint8_t *p, uint64_t v)
{
    v = htole64(v);
    memcpy(p, &v, 8);
}

static uint32_t seg_max(const struct virtio_blk *b)
{
    return b->queue_size - 2; /* header and status take a descriptor each */
}

static void config_build(struct virtio_blk *b)
{
    uint8_t *c = b->config;

    memset(c, 0, sizeof(b->config));
    put_le64(c + 0, b->limits.capacity);
    put_le32(c + 8, SIZE_MAX_BYTES);
    put_le32(c + 12, seg_max(b));
    put_le32(c + 20, VIRTIO_BLK_SECTOR_SIZE);
    put_le16(c + 34, (uint16_t)b->num_queues);
    put_le32(c + 36, b->limits.max_discard_sectors);
    put_le32(c + 40, 1);
    put_le32(c + 44, DISCARD_ALIGN_SECTS);
    put_le32(c + 48, b->limits.max_write_zeroes_sectors);
    put_le32(c + 52, 1);
    c[56] = 1; /* write_zeroes_may_unmap */
}

static uint64_t blk_features(void *dev)
{
    struct virtio_blk *b = dev;
    uint64_t f = 1ull << VIRTIO_BLK_F_SIZE_MAX | 1ull << VIRTIO_BLK_F_SEG_MAX |
                 1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_FLUSH |
                 1ull << VIRTIO_F_EVENT_IDX | 1ull << VIRTIO_F_INDIRECT_DESC;

    if (b->num_queues > 1)
        f |= 1ull << VIRTIO_BLK_F_MQ;
    if (b->readonly)
        f |= 1ull << VIRTIO_BLK_F_RO;
    else
        f |= 1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
    return f;
}

static uint32_t blk_config_size(void *dev)
{
    return VIRTIO_BLK_CONFIG_SIZE;
}

static void blk_config_read(void *dev, uint32_t offset, uint8_t *data, uint32_t len)
{
    struct virtio_blk *b = dev;

    for (uint32_t i = 0; i < len; i++) {
        uint64_t at = (uint64_t)offset + i;

        data[i] = at < sizeof(b->config) ? b->config[at] : 0;
    }
}

static void blk_config_write(void *dev, uint32_t offset, const uint8_t *data, uint32_t len)
{
    /* Nothing is writable: VIRTIO_BLK_F_CONFIG_WCE is not offered. */
}

/* Answers a request: status byte, used ring. */
static void finish(struct blk_worker *w, uint16_t head, uint64_t status_gpa, uint8_t status,
                   uint32_t data_written)
{
    uint32_t written = 0;

    if (guest_memory_write(w->blk->act.mem, status_gpa, &status, 1) == 0)
        written = (status == VIRTIO_BLK_S_OK ? data_written : 0) + 1;
    if (virtq_push(w->vq, head, written) < 0)
        return;
    w->pushed = true;
}

static void notify(struct blk_worker *w)
{
    if (w->pushed && virtq_needs_notification(w->vq))
        w->blk->act.interrupt.signal(w->blk->act.interrupt.opaque, w->index);
    w->pushed = false;
}

static void complete(struct blk_worker *w, struct blk_inflight *f)
{
    uint8_t status = VIRTIO_BLK_S_OK;

    if (f->dreq.result < 0) {
        unsigned int dropped;

        status = VIRTIO_BLK_S_IOERR;
        if (log_ratelimit(&w->rl, &dropped))
            log_warn("virtio-blk %s: request type %u failed: %s (%u messages dropped)", w->blk->id,
                     f->type, g_strerror(-f->dreq.result), dropped);
    }
    finish(w, f->head, f->status_gpa, status, f->data_written);
    g_free(f);
}

static void answer_get_id(struct blk_worker *w, const struct blk_request *req)
{
    const struct virtio_blk *b = w->blk;
    uint32_t done = 0;

    for (unsigned int i = 0; i < req->nr_segs && done < VIRTIO_BLK_ID_BYTES; i++) {
        uint32_t n = MIN(req->segs[i].len, VIRTIO_BLK_ID_BYTES - done);

        if (guest_memory_write(b->act.mem, req->segs[i].gpa, b->serial + done, n) < 0) {
            finish(w, w->chain.head, req->status_gpa, VIRTIO_BLK_S_IOERR, 0);
            return;
        }
        done += n;
    }
    finish(w, w->chain.head, req->status_gpa, VIRTIO_BLK_S_OK, done);
}

/* Turns a parsed request into a disk request; answers at once what it can. */
static void handle(struct blk_worker *w)
{
    struct blk_request *req = &w->req;
    struct blk_inflight *f;
    int r;

    r = blk_request_parse(w->blk->act.mem, &w->chain, &w->blk->limits, req);
    if (r < 0) {
        if (virtq_push(w->vq, w->chain.head, 0) == 0)
            w->pushed = true;
        return;
    }
    if (req->status != VIRTIO_BLK_S_OK) {
        finish(w, w->chain.head, req->status_gpa, req->status, 0);
        return;
    }
    if (req->type == VIRTIO_BLK_T_GET_ID) {
        answer_get_id(w, req);
        return;
    }
    f = g_malloc0(sizeof(*f) + (size_t)req->nr_segs * sizeof(struct iovec));
    f->head = w->chain.head;
    f->type = req->type;
    f->status_gpa = req->status_gpa;
    for (unsigned int i = 0; i < req->nr_segs; i++) {
        f->iov[i].iov_base = guest_memory_ptr(w->blk->act.mem, req->segs[i].gpa, req->segs[i].len);
        f->iov[i].iov_len = req->segs[i].len;
        if (!f->iov[i].iov_base) {
            finish(w, f->head, f->status_gpa, VIRTIO_BLK_S_IOERR, 0);
            g_free(f);
            return;
        }
    }
    f->dreq.opaque = f;
    f->dreq.iov = f->iov;
    f->dreq.iovcnt = (int)req->nr_segs;
    switch (req->type) {
    case VIRTIO_BLK_T_IN:
        f->dreq.op = DISK_OP_READ;
        f->dreq.offset = req->sector * VIRTIO_BLK_SECTOR_SIZE;
        f->data_written = (uint32_t)req->data_len;
        break;
    case VIRTIO_BLK_T_OUT:
        f->dreq.op = DISK_OP_WRITE;
        f->dreq.offset = req->sector * VIRTIO_BLK_SECTOR_SIZE;
        break;
    case VIRTIO_BLK_T_FLUSH:
        f->dreq.op = DISK_OP_FLUSH;
        f->dreq.iovcnt = 0;
        break;
    default: /* DISCARD, WRITE_ZEROES */
        f->dreq.op = req->type == VIRTIO_BLK_T_DISCARD ? DISK_OP_DISCARD : DISK_OP_WRITE_ZEROES;
        f->dreq.offset = req->zero_sector * VIRTIO_BLK_SECTOR_SIZE;
        f->dreq.len = (uint64_t)req->zero_sectors * VIRTIO_BLK_SECTOR_SIZE;
        f->dreq.iovcnt = 0;
        break;
    }
    if (disk_queue_submit(w->dq, &f->dreq) == 1)
        complete(w, f);
}

static void reap(struct blk_worker *w)
{
    struct disk_request *done[COMPLETIONS];
    unsigned int n;

    do {
        n = disk_queue_complete(w->dq, done, COMPLETIONS);
        for (unsigned int i = 0; i < n; i++)
            complete(w, done[i]->opaque);
    } while (n == COMPLETIONS);
}

/* Submits every available request, then starts their I/O in one batch. */
static void drain_avail(struct blk_worker *w)
{
    disk_queue_plug(w->dq);
    for (;;) {
        int r;

        virtq_set_notification(w->vq, false);
        while ((r = virtq_pop(w->vq, &w->chain)) == 1)
            handle(w);
        if (r < 0) {
            log_error("virtio-blk %s: queue %u broken by the driver (%s); no more requests",
                      w->blk->id, w->index, g_strerror(-r));
            break;
        }
        virtq_set_notification(w->vq, true);
        if (!virtq_has_available(w->vq))
            break;
    }
    disk_queue_unplug(w->dq);
}

static gpointer worker_run(gpointer opaque)
{
    struct blk_worker *w = opaque;
    struct pollfd p[3] = {
        {.fd = w->stop_fd, .events = POLLIN},
        {.fd = w->kick_fd, .events = POLLIN},
        {.fd = disk_queue_event_fd(w->dq), .events = POLLIN},
    };
    uint64_t v;

    /* Buffers may have been made available before activation. */
    drain_avail(w);
    notify(w);
    for (;;) {
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents)
            break;
        if (p[1].revents && read(w->kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
            break;
        reap(w);
        if (!w->vq->broken)
            drain_avail(w);
        notify(w);
    }
    /* Reset: wait for the I/O still touching guest memory, answer nothing. */
    while (disk_queue_inflight(w->dq)) {
        struct disk_request *done[COMPLETIONS];
        unsigned int n;

        if (poll(&p[2], 1, -1) < 0 && errno != EINTR)
            break;
        n = disk_queue_complete(w->dq, done, COMPLETIONS);
        for (unsigned int i = 0; i < n; i++)
            g_free(done[i]->opaque);
    }
    return NULL;
}

static void worker_free(struct blk_worker *w)
{
    if (!w)
        return;
    disk_queue_free(w->dq);
    if (w->stop_fd >= 0)
        close(w->stop_fd);
    g_free(w);
}

static void blk_reset(void *dev)
{
    struct virtio_blk *b = dev;

    for (unsigned int i = 0; i < b->nr_workers; i++) {
        struct blk_worker *w = b->workers[i];
        uint64_t one = 1;

        if (w->thread) {
            if (write(w->stop_fd, &one, sizeof(one)) < 0)
                log_error("virtio-blk %s: cannot stop worker: %s", b->id, g_strerror(errno));
            g_thread_join(w->thread);
        }
        worker_free(w);
    }
    g_free(b->workers);
    b->workers = NULL;
    b->nr_workers = 0;
    memset(&b->act, 0, sizeof(b->act));
}

static int blk_activate(void *dev, const struct virtio_activation *act)
{
    struct virtio_blk *b = dev;
    int r;

    if (act->nr_queues == 0 || act->nr_queues > b->num_queues)
        return -EINVAL;
    b->act = *act;
    b->workers = g_new0(struct blk_worker *, act->nr_queues);
    for (unsigned int i = 0; i < act->nr_queues; i++) {
        struct blk_worker *w = g_new0(struct blk_worker, 1);

        w->blk = b;
        w->index = i;
        w->vq = &act->queues[i];
        w->kick_fd = act->kick_fds[i];
        w->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(10);
        w->stop_fd = eventfd(0, EFD_CLOEXEC);
        b->workers[b->nr_workers++] = w;
        if (w->stop_fd < 0) {
            r = -errno;
            goto fail;
        }
        r = disk_queue_new(b->disk, BLK_ENGINE_AUTO, w->vq->size ? w->vq->size : 1, &w->dq);
        if (r < 0)
            goto fail;
    }
    log_info("virtio-blk %s: %u queue(s) of %u on the %s engine", b->id, b->nr_workers,
             act->queues[0].size, disk_queue_engine_name(b->workers[0]->dq));
    for (unsigned int i = 0; i < b->nr_workers; i++) {
        g_autofree char *name = g_strdup_printf("blk-%s-q%u", b->id, i);

        b->workers[i]->thread = g_thread_new(name, worker_run, b->workers[i]);
    }
    return 0;
fail:
    log_error("virtio-blk %s: cannot start queue workers: %s", b->id, g_strerror(-r));
    blk_reset(b);
    return r;
}

static void blk_free(void *dev)
{
    struct virtio_blk *b = dev;

    if (!b)
        return;
    blk_reset(b);
    disk_close(b->disk);
    g_free(b);
}

static const struct virtio_device_ops virtio_blk_ops = {
    .device_id = VIRTIO_ID_BLOCK,
    .features = blk_features,
    .config_size = blk_config_size,
    .config_read = blk_config_read,
    .config_write = blk_config_write,
    .activate = blk_activate,
    .reset = blk_reset,
    .free = blk_free,
};

int virtio_blk_new(const struct virtio_blk_opts *opts, struct virtio_device *vdev, char **err)
{
    struct disk_open_opts dopts = {
        .path = opts->path,
        .readonly = opts->readonly,
        .direct = opts->direct,
        .type = opts->image_type,
    };
    struct virtio_blk *b;
    const char *serial;
    uint16_t qsize = opts->queue_size ? opts->queue_size : DEFAULT_QUEUE_SIZE;
    unsigned int nq = opts->num_queues ? opts->num_queues : 1;
    int r;

    if (nq > MAX_QUEUES || qsize < 4 || qsize > VIRTQ_MAX_SIZE || (qsize & (qsize - 1))) {
        if (err)
            *err = g_strdup_printf("disk %s: num_queues must be 1..%d and queue_size a power "
                                   "of two from 4 to %d",
                                   opts->path ? opts->path : "", MAX_QUEUES, VIRTQ_MAX_SIZE);
        return -EINVAL;
    }
    b = g_new0(struct virtio_blk, 1);
    r = disk_open(&dopts, &b->disk, err);
    if (r < 0) {
        g_free(b);
        return r;
    }
    b->readonly = opts->readonly;
    b->num_queues = nq;
    b->queue_size = qsize;
    g_strlcpy(b->id, opts->id ? opts->id : "", sizeof(b->id));
    serial = opts->serial ? opts->serial : b->id;
    memcpy(b->serial, serial, MIN(strlen(serial), sizeof(b->serial)));
    b->limits.capacity = disk_size(b->disk) / VIRTIO_BLK_SECTOR_SIZE;
    b->limits.readonly = opts->readonly;
    b->limits.max_data = (uint64_t)seg_max(b) * SIZE_MAX_BYTES;
    b->limits.max_discard_sectors = MAX_ZERO_SECTORS;
    b->limits.max_write_zeroes_sectors = MAX_ZERO_SECTORS;
    config_build(b);

    memset(vdev, 0, sizeof(*vdev));
    vdev->ops = &virtio_blk_ops;
    vdev->dev = b;
    vdev->max_queues = nq;
    vdev->max_queue_size = qsize;
    g_strlcpy(vdev->id, b->id, sizeof(vdev->id));
    return 0;
}
