/* Opening images and running requests on them: the format maps each request
 * to extents of the image file; plain file extents go to the I/O engine, the
 * rest is done here or by the format, synchronously. */
#include "config.h"

#include "block/disk.h"
#include "block/format.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bounce buffer size for extents the format handles itself. */
#define SYNC_CHUNK           (1u << 20)
#define DIRECT_ALIGN         512u
#define COMPLETIONS_PER_REAP 64

int disk_file_read(int fd, void *buf, size_t len, uint64_t offset)
{
    uint8_t *p = buf;

    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)offset);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0) {
            memset(p, 0, len); /* past EOF */
            return 0;
        }
        p += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

int disk_file_write(int fd, const void *buf, size_t len, uint64_t offset)
{
    const uint8_t *p = buf;

    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)offset);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

enum disk_image_type disk_probe_type(int fd)
{
    static const uint8_t qcow2_magic[4] = {'Q', 'F', 'I', 0xfb};
    uint8_t magic[4];

    if (pread(fd, magic, sizeof(magic), 0) == sizeof(magic) && !memcmp(magic, qcow2_magic, 4))
        return DISK_IMAGE_QCOW2;
    return DISK_IMAGE_RAW;
}

static int disk_setup(struct disk *d, enum disk_image_type type, char **err)
{
    int r;

    if (type == DISK_IMAGE_AUTO)
        type = disk_probe_type(d->meta_fd);
    d->ops = type == DISK_IMAGE_QCOW2 ? &disk_qcow2_ops : &disk_raw_ops;
    r = d->ops->open(d, err);
    if (r < 0 && err && !*err)
        *err = g_strdup_printf("%s: cannot open as %s: %s", d->path, d->ops->name, g_strerror(-r));
    return r;
}

static int disk_open_depth(const struct disk_open_opts *opts, int fd, unsigned int depth,
                           struct disk **out, char **err)
{
    struct disk *d = g_new0(struct disk, 1);
    int r;

    d->path = g_strdup(opts->path ? opts->path : "(fd)");
    d->readonly = opts->readonly;
    d->direct = opts->direct;
    d->chain_depth = depth;
    d->meta_fd = -1;
    d->fd = fd;
    if (d->fd < 0) {
        int flags = (opts->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;

        d->fd = open(opts->path, flags | (opts->direct ? O_DIRECT : 0));
        if (d->fd < 0) {
            r = -errno;
            if (err)
                *err = g_strdup_printf("%s: %s", opts->path, g_strerror(errno));
            goto fail;
        }
        if (opts->direct) {
            d->meta_fd = open(opts->path, flags);
            if (d->meta_fd < 0) {
                r = -errno;
                if (err)
                    *err = g_strdup_printf("%s: %s", opts->path, g_strerror(errno));
                goto fail;
            }
        }
    }
    if (d->meta_fd < 0)
        d->meta_fd = d->fd;
    r = disk_setup(d, opts->type, err);
    if (r < 0)
        goto fail;
    *out = d;
    return 0;
fail:
    d->ops = NULL;
    disk_close(d);
    return r;
}

int disk_open(const struct disk_open_opts *opts, struct disk **out, char **err)
{
    if (!opts->path)
        return -EINVAL;
    return disk_open_depth(opts, -1, 0, out, err);
}

int disk_open_fd(int fd, const struct disk_open_opts *opts, struct disk **out, char **err)
{
    struct disk_open_opts o = *opts;

    if (fd < 0)
        return -EBADF;
    o.direct = false;
    return disk_open_depth(&o, fd, 0, out, err);
}

int disk_open_backing(const char *path, enum disk_image_type type, unsigned int depth,
                      struct disk **out, char **err)
{
    struct disk_open_opts o = {.path = path, .readonly = true, .type = type};

    if (depth > DISK_MAX_CHAIN) {
        if (err)
            *err = g_strdup_printf("%s: backing chain longer than %d", path, DISK_MAX_CHAIN);
        return -ELOOP;
    }
    return disk_open_depth(&o, -1, depth, out, err);
}

void disk_close(struct disk *d)
{
    if (!d)
        return;
    if (d->ops)
        d->ops->close(d->fmt);
    if (d->meta_fd >= 0 && d->meta_fd != d->fd)
        close(d->meta_fd);
    if (d->fd >= 0)
        close(d->fd);
    g_free(d->path);
    g_free(d);
}

uint64_t disk_size(const struct disk *d)
{
    return d->size;
}

bool disk_readonly(const struct disk *d)
{
    return d->readonly;
}

const char *disk_format_name(const struct disk *d)
{
    return d->ops->name;
}

static bool range_ok(const struct disk *d, uint64_t offset, uint64_t len)
{
    return offset <= d->size && len <= d->size - offset;
}

/* The format's mapping of the next piece of [offset, offset + len). A format
 * reads its metadata from an untrusted image, so an extent that is empty or
 * longer than asked for is refused rather than trusted as a loop step. */
static int disk_map(struct disk *d, uint64_t offset, uint64_t len, bool write,
                    struct disk_extent *ext)
{
    int r = d->ops->map(d->fmt, offset, len, write, ext);

    if (r < 0)
        return r;
    if (ext->len == 0 || ext->len > len)
        return -EIO;
    return 0;
}

int disk_pread(struct disk *d, void *buf, size_t len, uint64_t offset)
{
    uint8_t *p = buf;

    if (!range_ok(d, offset, len))
        return -EINVAL;
    while (len) {
        struct disk_extent ext;
        int r = disk_map(d, offset, len, false, &ext);

        if (r < 0)
            return r;
        if (ext.kind == DISK_EXTENT_DATA)
            r = disk_file_read(d->meta_fd, p, ext.len, ext.file_offset);
        else if (ext.kind == DISK_EXTENT_ZERO)
            memset(p, 0, ext.len);
        else
            r = d->ops->read(d->fmt, offset, p, ext.len);
        if (r < 0)
            return r;
        p += ext.len;
        len -= ext.len;
        offset += ext.len;
    }
    return 0;
}

int disk_pwrite(struct disk *d, const void *buf, size_t len, uint64_t offset)
{
    const uint8_t *p = buf;

    if (d->readonly)
        return -EROFS;
    if (!range_ok(d, offset, len))
        return -EINVAL;
    while (len) {
        struct disk_extent ext;
        int r = disk_map(d, offset, len, true, &ext);

        if (r < 0)
            return r;
        if (ext.kind == DISK_EXTENT_DATA)
            r = disk_file_write(d->meta_fd, p, ext.len, ext.file_offset);
        else
            r = d->ops->write(d->fmt, offset, p, ext.len);
        if (r < 0)
            return r;
        p += ext.len;
        len -= ext.len;
        offset += ext.len;
    }
    return 0;
}

int disk_flush(struct disk *d)
{
    if (d->readonly)
        return 0;
    return fdatasync(d->meta_fd) < 0 ? -errno : 0;
}

int disk_zero(struct disk *d, uint64_t offset, uint64_t len, bool discard)
{
    if (d->readonly)
        return -EROFS;
    if (!range_ok(d, offset, len))
        return -EINVAL;
    if (len == 0)
        return 0;
    return d->ops->zero(d->fmt, offset, len, discard);
}

/* ---- asynchronous queues ---- */

struct disk_queue {
    struct disk *disk;
    struct blk_engine *engine;
    unsigned int inflight; /* requests */
};

/* One engine I/O: a slice of a request. */
struct disk_sub {
    struct disk_request *req;
    enum blk_io_op op;
    size_t expect;
    int iovcnt;
    struct iovec iov[];
};

int disk_queue_new(struct disk *d, enum blk_engine_kind kind, unsigned int depth,
                   struct disk_queue **out)
{
    struct disk_queue *q = g_new0(struct disk_queue, 1);
    int r = blk_engine_new(kind, depth, &q->engine);

    if (r < 0) {
        g_free(q);
        return r;
    }
    q->disk = d;
    *out = q;
    return 0;
}

void disk_queue_free(struct disk_queue *q)
{
    if (!q)
        return;
    /* The engine waits for its I/Os; the subs they carry are leaked only if
     * the caller frees a queue with requests in flight, which it must not. */
    blk_engine_free(q->engine);
    g_free(q);
}

int disk_queue_event_fd(const struct disk_queue *q)
{
    return blk_engine_event_fd(q->engine);
}

const char *disk_queue_engine_name(const struct disk_queue *q)
{
    return blk_engine_name(q->engine);
}

unsigned int disk_queue_inflight(const struct disk_queue *q)
{
    return q->inflight;
}

static size_t iov_total(const struct iovec *iov, int cnt)
{
    size_t t = 0;

    for (int i = 0; i < cnt; i++)
        t += iov[i].iov_len;
    return t;
}

/* Allocates a sub whose iovec covers [skip, skip + len) of the request's. */
static struct disk_sub *sub_new(struct disk_request *req, size_t skip, size_t len)
{
    struct disk_sub *s;
    int first = 0, n = 0;
    size_t off = skip;

    while (first < req->iovcnt && off >= req->iov[first].iov_len) {
        off -= req->iov[first].iov_len;
        first++;
    }
    for (size_t left = len + off; left && first + n < req->iovcnt; n++)
        left -= MIN(left, req->iov[first + n].iov_len);
    s = g_malloc0(sizeof(*s) + (size_t)n * sizeof(struct iovec));
    s->req = req;
    s->expect = len;
    s->iovcnt = n;
    for (int i = 0; i < n; i++) {
        const struct iovec *v = &req->iov[first + i];
        size_t start = i == 0 ? off : 0;
        size_t take = MIN(v->iov_len - start, len);

        s->iov[i].iov_base = (uint8_t *)v->iov_base + start;
        s->iov[i].iov_len = take;
        len -= take;
    }
    return s;
}

static void iov_zero(const struct iovec *iov, int cnt, size_t skip)
{
    for (int i = 0; i < cnt; i++) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        memset((uint8_t *)iov[i].iov_base + skip, 0, iov[i].iov_len - skip);
        skip = 0;
    }
}

/* Copies between a sub's iovec and a linear buffer, starting `skip` in. */
static void iov_copy(const struct iovec *iov, int cnt, size_t skip, void *buf, size_t len,
                     bool to_iov)
{
    uint8_t *p = buf;

    for (int i = 0; i < cnt && len; i++) {
        size_t take;

        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        take = MIN(iov[i].iov_len - skip, len);
        if (to_iov)
            memcpy((uint8_t *)iov[i].iov_base + skip, p, take);
        else
            memcpy(p, (uint8_t *)iov[i].iov_base + skip, take);
        p += take;
        len -= take;
        skip = 0;
    }
}

static bool sub_aligned(const struct disk_sub *s, uint64_t file_offset)
{
    if (file_offset % DIRECT_ALIGN)
        return false;
    for (int i = 0; i < s->iovcnt; i++)
        if ((uintptr_t)s->iov[i].iov_base % DIRECT_ALIGN || s->iov[i].iov_len % DIRECT_ALIGN)
            return false;
    return true;
}

static int sub_result(struct disk_sub *s, int64_t res)
{
    if (res < 0)
        return (int)res;
    if (s->op == BLK_IO_READ && (size_t)res < s->expect) {
        iov_zero(s->iov, s->iovcnt, (size_t)res); /* past EOF */
        return 0;
    }
    if (s->op == BLK_IO_WRITE && (size_t)res != s->expect)
        return -EIO;
    return 0;
}

static void sub_done(struct disk_sub *s, int r)
{
    if (r < 0 && s->req->result == 0)
        s->req->result = r;
    s->req->pending--;
    g_free(s);
}

/* A file extent: to the engine when it can take it, done here otherwise. */
static void submit_data(struct disk_queue *q, struct disk_sub *s, uint64_t file_offset)
{
    struct disk *d = q->disk;
    struct blk_io io = {
        .op = s->op,
        .fd = d->fd,
        .iov = s->iov,
        .iovcnt = s->iovcnt,
        .offset = file_offset,
        .opaque = s,
    };
    ssize_t n;

    if (!d->direct || sub_aligned(s, file_offset)) {
        if (blk_engine_submit(q->engine, &io) == 0) {
            s->req->pending++;
            return;
        }
    }
    do {
        if (s->op == BLK_IO_READ)
            n = preadv(d->meta_fd, s->iov, s->iovcnt, (off_t)file_offset);
        else
            n = pwritev(d->meta_fd, s->iov, s->iovcnt, (off_t)file_offset);
    } while (n < 0 && errno == EINTR);
    s->req->pending++;
    sub_done(s, sub_result(s, n < 0 ? -errno : n));
}

/* An extent the format handles (or zeroes), through a bounce buffer. */
static int do_sync(struct disk *d, struct disk_request *req, const struct disk_extent *ext,
                   uint64_t offset, size_t skip)
{
    g_autofree uint8_t *buf = NULL;
    bool write = req->op == DISK_OP_WRITE;

    if (!write && ext->kind == DISK_EXTENT_ZERO) {
        struct disk_sub *s = sub_new(req, skip, ext->len);

        iov_zero(s->iov, s->iovcnt, 0);
        g_free(s);
        return 0;
    }
    buf = g_malloc(MIN(ext->len, SYNC_CHUNK));
    for (uint64_t done = 0; done < ext->len;) {
        size_t n = MIN(ext->len - done, SYNC_CHUNK);
        int r;

        if (write) {
            iov_copy(req->iov, req->iovcnt, skip + done, buf, n, false);
            r = d->ops->write(d->fmt, offset + done, buf, n);
        } else {
            r = d->ops->read(d->fmt, offset + done, buf, n);
            if (r == 0)
                iov_copy(req->iov, req->iovcnt, skip + done, buf, n, true);
        }
        if (r < 0)
            return r;
        done += n;
    }
    return 0;
}

static int submit_rw(struct disk_queue *q, struct disk_request *req)
{
    struct disk *d = q->disk;
    bool write = req->op == DISK_OP_WRITE;
    size_t len = iov_total(req->iov, req->iovcnt), skip = 0;
    uint64_t offset = req->offset;

    if (write && d->readonly)
        return -EROFS;
    if (!range_ok(d, offset, len))
        return -EINVAL;
    while (len) {
        struct disk_extent ext;
        int r = disk_map(d, offset, len, write, &ext);

        if (r < 0)
            return r;
        if (ext.kind == DISK_EXTENT_DATA) {
            struct disk_sub *s = sub_new(req, skip, ext.len);

            s->op = write ? BLK_IO_WRITE : BLK_IO_READ;
            submit_data(q, s, ext.file_offset);
        } else {
            r = do_sync(d, req, &ext, offset, skip);
            if (r < 0)
                return r;
        }
        skip += ext.len;
        len -= ext.len;
        offset += ext.len;
    }
    return 0;
}

static int submit_flush(struct disk_queue *q, struct disk_request *req)
{
    struct disk *d = q->disk;
    struct disk_sub *s;
    struct blk_io io = {.op = BLK_IO_FSYNC, .fd = d->fd};

    if (d->readonly)
        return 0;
    s = g_malloc0(sizeof(*s));
    s->req = req;
    s->op = BLK_IO_FSYNC;
    io.opaque = s;
    req->pending++;
    if (blk_engine_submit(q->engine, &io) < 0)
        sub_done(s, fdatasync(d->fd) < 0 ? -errno : 0);
    return 0;
}

int disk_queue_submit(struct disk_queue *q, struct disk_request *req)
{
    int r = 0;

    req->result = 0;
    req->pending = 1; /* held until submission is over */
    switch (req->op) {
    case DISK_OP_READ:
    case DISK_OP_WRITE:
        r = submit_rw(q, req);
        break;
    case DISK_OP_FLUSH:
        r = submit_flush(q, req);
        break;
    case DISK_OP_DISCARD:
    case DISK_OP_WRITE_ZEROES:
        r = disk_zero(q->disk, req->offset, req->len, req->op == DISK_OP_DISCARD);
        break;
    default:
        r = -EOPNOTSUPP;
    }
    if (r < 0 && req->result == 0)
        req->result = r;
    if (--req->pending == 0)
        return 1;
    q->inflight++;
    return 0;
}

void disk_queue_plug(struct disk_queue *q)
{
    blk_engine_plug(q->engine);
}

void disk_queue_unplug(struct disk_queue *q)
{
    blk_engine_unplug(q->engine);
}

unsigned int disk_queue_complete(struct disk_queue *q, struct disk_request **done, unsigned int max)
{
    struct blk_completion c[COMPLETIONS_PER_REAP];
    unsigned int n = 0, got;

    /* Never reap more completions than requests we could report. */
    got = blk_engine_reap(q->engine, c, MIN(max, G_N_ELEMENTS(c)));
    for (unsigned int i = 0; i < got; i++) {
        struct disk_sub *s = c[i].opaque;
        struct disk_request *req = s->req;

        sub_done(s, sub_result(s, c[i].result));
        if (req->pending == 0) {
            done[n++] = req;
            q->inflight--;
        }
    }
    return n;
}
