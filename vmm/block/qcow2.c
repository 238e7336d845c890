/* qcow2 images, versions 2 and 3 (QEMU's docs/interop/qcow2.txt): the header
 * is checked field by field at open, L2 tables are read through a small
 * cache, and writes allocate clusters at the end of the file with the
 * refcounts updated before an L2 entry points at a new cluster. Metadata is
 * written through at once, so a flush is an fdatasync of the file. */
#include "config.h"

#include "block/format.h"

#include <endian.h>
#include <errno.h>
#include <glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define QCOW2_MAGIC 0x514649fbu

#define HDR_V2_LEN 72u
#define HDR_V3_LEN 104u

#define INCOMPAT_DIRTY       (1ull << 0)
#define INCOMPAT_CORRUPT     (1ull << 1)
#define INCOMPAT_DATA_FILE   (1ull << 2)
#define INCOMPAT_COMPRESSION (1ull << 3)
#define INCOMPAT_EXTL2       (1ull << 4)

#define EXT_END            0x00000000u
#define EXT_BACKING_FORMAT 0xe2792acau

#define OFLAG_COPIED     (1ull << 63)
#define OFLAG_COMPRESSED (1ull << 62)
#define OFLAG_ZERO       1ull
#define L1E_OFFSET_MASK  0x00fffffffffffe00ull
#define L2E_OFFSET_MASK  0x00fffffffffffe00ull
#define L1E_RESERVED     0x7f000000000001ffull
#define L2E_RESERVED     0x3f000000000001feull
#define REFT_RESERVED    0x1ffull

#define MAX_L1_BYTES       (32u << 20)
#define MAX_REFTABLE_BYTES (8u << 20)
#define L2_CACHE_SLOTS     16

enum cluster_type {
    CL_UNALLOCATED,
    CL_ZERO,       /* zero flag, no host cluster */
    CL_ZERO_ALLOC, /* zero flag over a preallocated host cluster */
    CL_NORMAL,
    CL_COMPRESSED,
};

struct l2_slot {
    uint64_t offset; /* 0: empty */
    uint64_t last_use;
    uint64_t *table; /* host byte order */
};

struct qcow2 {
    struct disk *d;
    int fd;
    GMutex lock;
    uint32_t version;
    uint32_t cluster_bits;
    uint64_t cluster_size;
    uint32_t l2_bits; /* log2 of entries per L2 table */
    uint64_t *l1;
    uint32_t l1_size;
    uint64_t l1_offset;
    uint64_t *reftable;
    uint64_t reftable_size; /* entries */
    uint64_t reftable_offset;
    uint32_t refcount_bits;
    uint32_t refblock_bits; /* log2 of entries per refcount block */
    uint64_t file_size;
    uint64_t next_free; /* cluster index where allocation continues */
    struct disk *backing;
    struct l2_slot l2_cache[L2_CACHE_SLOTS];
    uint64_t use_clock;
};

static uint32_t be32_at(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return be32toh(v);
}

static uint64_t be64_at(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return be64toh(v);
}

static int fail(char **err, const char *path, const char *what)
{
    if (err && !*err)
        *err = g_strdup_printf("%s: invalid qcow2 image: %s", path, what);
    return -EINVAL;
}

static bool table_in_file(const struct qcow2 *q, uint64_t offset, uint64_t bytes)
{
    return offset && !(offset & (q->cluster_size - 1)) && offset < q->file_size &&
           bytes <= q->file_size - offset;
}

/* ---- refcounts ---- */

static uint64_t refblock_get(const uint8_t *b, uint64_t i, uint32_t bits)
{
    uint64_t v = 0;

    if (bits < 8) {
        uint32_t per = 8 / bits;

        return (b[i / per] >> ((i % per) * bits)) & ((1u << bits) - 1);
    }
    for (uint32_t k = 0; k < bits / 8; k++)
        v = v << 8 | b[i * (bits / 8) + k];
    return v;
}

/* Sets entry i; returns the byte range touched in *at and *n. */
static void refblock_set(uint8_t *b, uint64_t i, uint32_t bits, uint64_t v, uint64_t *at,
                         uint32_t *n)
{
    if (bits < 8) {
        uint32_t per = 8 / bits, shift = (i % per) * bits;
        uint8_t mask = (uint8_t)(((1u << bits) - 1) << shift);

        b[i / per] = (uint8_t)((b[i / per] & ~mask) | ((v << shift) & mask));
        *at = i / per;
        *n = 1;
        return;
    }
    for (uint32_t k = bits / 8; k-- > 0; v >>= 8)
        b[i * (bits / 8) + k] = (uint8_t)v;
    *at = i * (bits / 8);
    *n = bits / 8;
}

static int refcount_update(struct qcow2 *q, uint64_t cluster, int delta);

/* Makes refcount block `index` exist, allocating it at the end of the file. */
static int refblock_ensure(struct qcow2 *q, uint64_t index)
{
    g_autofree uint8_t *block = NULL;
    uint64_t r, at, be;
    uint32_t n;
    int ret;

    if (index >= q->reftable_size)
        return -ENOSPC; /* growing the refcount table is not supported */
    if (q->reftable[index])
        return 0;
    r = q->next_free++;
    block = g_malloc0(q->cluster_size);
    if (r >> q->refblock_bits == index)
        refblock_set(block, r & ((1ull << q->refblock_bits) - 1), q->refcount_bits, 1, &at, &n);
    ret = disk_file_write(q->fd, block, q->cluster_size, r << q->cluster_bits);
    if (ret < 0)
        return ret;
    q->file_size = MAX(q->file_size, (r + 1) << q->cluster_bits);
    be = htobe64(r << q->cluster_bits);
    ret = disk_file_write(q->fd, &be, 8, q->reftable_offset + index * 8);
    if (ret < 0)
        return ret;
    q->reftable[index] = r << q->cluster_bits;
    if (r >> q->refblock_bits != index)
        return refcount_update(q, r, 1);
    return 0;
}

static int refcount_update(struct qcow2 *q, uint64_t cluster, int delta)
{
    uint64_t index = cluster >> q->refblock_bits;
    uint64_t i = cluster & ((1ull << q->refblock_bits) - 1);
    uint64_t max = q->refcount_bits == 64 ? UINT64_MAX : (1ull << q->refcount_bits) - 1;
    g_autofree uint8_t *block = NULL;
    uint64_t v, at;
    uint32_t n;
    int r;

    if (delta > 0) {
        r = refblock_ensure(q, index);
        if (r < 0)
            return r;
    } else if (index >= q->reftable_size || !q->reftable[index]) {
        return -EIO;
    }
    if (!table_in_file(q, q->reftable[index], q->cluster_size))
        return -EIO;
    block = g_malloc(q->cluster_size);
    r = disk_file_read(q->fd, block, q->cluster_size, q->reftable[index]);
    if (r < 0)
        return r;
    v = refblock_get(block, i, q->refcount_bits);
    if ((delta < 0 && v == 0) || (delta > 0 && v == max))
        return -EIO;
    refblock_set(block, i, q->refcount_bits, delta > 0 ? v + 1 : v - 1, &at, &n);
    return disk_file_write(q->fd, block + at, n, q->reftable[index] + at);
}

/* A new cluster at the end of the file, refcount 1, contents undefined. */
static int cluster_alloc(struct qcow2 *q, uint64_t *offset)
{
    uint64_t c = q->next_free++;
    int r = refcount_update(q, c, 1);

    if (r < 0)
        return r;
    *offset = c << q->cluster_bits;
    /* Keep "inside the file" checks true for the new cluster at once. */
    if (*offset + q->cluster_size > q->file_size) {
        if (ftruncate(q->fd, (off_t)(*offset + q->cluster_size)) < 0)
            return -errno;
        q->file_size = *offset + q->cluster_size;
    }
    return 0;
}

/* ---- L1/L2 ---- */

static int l2_load(struct qcow2 *q, uint64_t offset, uint64_t **table)
{
    struct l2_slot *victim = &q->l2_cache[0];
    uint64_t entries = 1ull << q->l2_bits;
    int r;

    for (unsigned int i = 0; i < L2_CACHE_SLOTS; i++) {
        struct l2_slot *s = &q->l2_cache[i];

        if (s->offset == offset) {
            s->last_use = ++q->use_clock;
            *table = s->table;
            return 0;
        }
        if (s->last_use < victim->last_use)
            victim = s;
    }
    if (!table_in_file(q, offset, q->cluster_size))
        return -EIO;
    if (!victim->table)
        victim->table = g_malloc(q->cluster_size);
    victim->offset = 0;
    r = disk_file_read(q->fd, victim->table, q->cluster_size, offset);
    if (r < 0)
        return r;
    for (uint64_t i = 0; i < entries; i++)
        victim->table[i] = be64toh(victim->table[i]);
    victim->offset = offset;
    victim->last_use = ++q->use_clock;
    *table = victim->table;
    return 0;
}

/* The L2 table for guest cluster `index`; *table NULL when unallocated and
 * `alloc` is false. *l2_offset receives its place in the file. */
static int l2_get(struct qcow2 *q, uint64_t index, bool alloc, uint64_t **table,
                  uint64_t *l2_offset)
{
    uint64_t l1i = index >> q->l2_bits, e, off, be;
    g_autofree uint8_t *zeroes = NULL;
    int r;

    *table = NULL;
    if (l1i >= q->l1_size)
        return -EIO;
    e = q->l1[l1i];
    if (e & L1E_RESERVED)
        return -EIO;
    off = e & L1E_OFFSET_MASK;
    if (off) {
        if (alloc && !(e & OFLAG_COPIED))
            return -ENOTSUP; /* shared with a snapshot */
        *l2_offset = off;
        return l2_load(q, off, table);
    }
    if (!alloc)
        return 0;
    r = cluster_alloc(q, &off);
    if (r < 0)
        return r;
    zeroes = g_malloc0(q->cluster_size);
    r = disk_file_write(q->fd, zeroes, q->cluster_size, off);
    if (r < 0)
        return r;
    be = htobe64(off | OFLAG_COPIED);
    r = disk_file_write(q->fd, &be, 8, q->l1_offset + l1i * 8);
    if (r < 0)
        return r;
    q->l1[l1i] = off | OFLAG_COPIED;
    *l2_offset = off;
    return l2_load(q, off, table);
}

static int l2_set(struct qcow2 *q, uint64_t l2_offset, uint64_t *table, uint64_t i, uint64_t e)
{
    uint64_t be = htobe64(e);
    int r = disk_file_write(q->fd, &be, 8, l2_offset + i * 8);

    if (r == 0)
        table[i] = e;
    return r;
}

/* Classifies an L2 entry, checking what it points at. */
static int l2_entry_type(const struct qcow2 *q, uint64_t e, enum cluster_type *type, uint64_t *host)
{
    uint64_t off = e & L2E_OFFSET_MASK;

    if (e & OFLAG_COMPRESSED) {
        uint32_t x = 62 - (q->cluster_bits - 8);

        if (e & OFLAG_COPIED)
            return -EIO;
        *host = e & ((1ull << x) - 1);
        if (*host >= q->file_size)
            return -EIO;
        *type = CL_COMPRESSED;
        return 0;
    }
    if ((e & L2E_RESERVED) || (off & (q->cluster_size - 1)))
        return -EIO;
    if (e & OFLAG_ZERO) {
        if (q->version < 3)
            return -EIO;
        *type = off ? CL_ZERO_ALLOC : CL_ZERO;
    } else if (!off) {
        if (e & OFLAG_COPIED)
            return -EIO;
        *type = CL_UNALLOCATED;
    } else {
        *type = CL_NORMAL;
    }
    if (off && off >= q->file_size)
        return -EIO;
    *host = off;
    return 0;
}

/* Type and host offset of guest cluster `index` (host 0 when none). */
static int cluster_lookup(struct qcow2 *q, uint64_t index, enum cluster_type *type, uint64_t *host,
                          uint64_t *entry)
{
    uint64_t *table, l2_off;
    int r = l2_get(q, index, false, &table, &l2_off);

    if (r < 0)
        return r;
    if (!table) {
        *type = CL_UNALLOCATED;
        *host = 0;
        *entry = 0;
        return 0;
    }
    *entry = table[index & ((1ull << q->l2_bits) - 1)];
    return l2_entry_type(q, *entry, type, host);
}

static int qcow2_map(void *fmt, uint64_t offset, uint64_t len, bool write, struct disk_extent *ext)
{
    struct qcow2 *q = fmt;
    uint64_t cs = q->cluster_size, in = offset & (cs - 1), index = offset >> q->cluster_bits;
    enum cluster_type type;
    uint64_t host, entry;
    int r;

    g_mutex_lock(&q->lock);
    r = cluster_lookup(q, index, &type, &host, &entry);
    if (r < 0)
        goto out;
    ext->len = MIN(len, cs - in);
    if (type == CL_NORMAL && (!write || (entry & OFLAG_COPIED))) {
        ext->kind = DISK_EXTENT_DATA;
        ext->file_offset = host + in;
    } else if (!write && (type == CL_ZERO || type == CL_ZERO_ALLOC ||
                          (type == CL_UNALLOCATED && !q->backing))) {
        ext->kind = DISK_EXTENT_ZERO;
    } else {
        ext->kind = DISK_EXTENT_SYNC;
    }
    /* Extend over following clusters of the same L2 table that continue
     * the same kind of extent (contiguous in the file for data). */
    while (ext->kind != DISK_EXTENT_SYNC && ext->len < len &&
           ((index + 1) & ((1ull << q->l2_bits) - 1))) {
        enum cluster_type t2;
        uint64_t h2, e2;

        if (cluster_lookup(q, index + 1, &t2, &h2, &e2) < 0)
            break;
        if (ext->kind == DISK_EXTENT_DATA &&
            !(t2 == CL_NORMAL && h2 == host + cs && (!write || (e2 & OFLAG_COPIED))))
            break;
        if (ext->kind == DISK_EXTENT_ZERO &&
            !(t2 == CL_ZERO || t2 == CL_ZERO_ALLOC || (t2 == CL_UNALLOCATED && !q->backing)))
            break;
        index++;
        host = h2;
        ext->len += MIN(len - ext->len, cs);
    }
out:
    g_mutex_unlock(&q->lock);
    return r;
}

/* ---- reading clusters the engine cannot ---- */

static int read_compressed(struct qcow2 *q, uint64_t entry, uint8_t *out)
{
    uint32_t x = 62 - (q->cluster_bits - 8);
    uint64_t host = entry & ((1ull << x) - 1);
    uint64_t sectors = ((entry >> x) & ((1ull << (62 - x)) - 1)) + 1;
    uint64_t csize = sectors * 512 - (host & 511);
    g_autofree uint8_t *in = NULL;
    z_stream zs = {0};
    int r, zr;

    csize = MIN(csize, q->file_size - host);
    in = g_malloc(csize);
    r = disk_file_read(q->fd, in, csize, host);
    if (r < 0)
        return r;
    if (inflateInit2(&zs, -12) != Z_OK)
        return -ENOMEM;
    zs.next_in = in;
    zs.avail_in = (uInt)csize;
    zs.next_out = out;
    zs.avail_out = (uInt)q->cluster_size;
    zr = inflate(&zs, Z_FINISH);
    inflateEnd(&zs);
    /* The stream may carry padding; a full cluster is what counts. */
    if ((zr != Z_STREAM_END && zr != Z_BUF_ERROR && zr != Z_OK) || zs.avail_out)
        return -EIO;
    return 0;
}

static int read_backing(struct qcow2 *q, uint64_t offset, uint8_t *buf, uint64_t len)
{
    uint64_t bsize = q->backing ? disk_size(q->backing) : 0, n = 0;

    if (offset < bsize) {
        int r;

        n = MIN(len, bsize - offset);
        r = disk_pread(q->backing, buf, n, offset);
        if (r < 0)
            return r;
    }
    memset(buf + n, 0, len - n);
    return 0;
}

/* Reads part of one guest cluster; lock held. */
static int read_in_cluster(struct qcow2 *q, uint64_t offset, uint8_t *buf, uint64_t len)
{
    uint64_t in = offset & (q->cluster_size - 1), host, entry;
    enum cluster_type type;
    g_autofree uint8_t *cbuf = NULL;
    int r = cluster_lookup(q, offset >> q->cluster_bits, &type, &host, &entry);

    if (r < 0)
        return r;
    switch (type) {
    case CL_NORMAL:
        return disk_file_read(q->fd, buf, len, host + in);
    case CL_ZERO:
    case CL_ZERO_ALLOC:
        memset(buf, 0, len);
        return 0;
    case CL_UNALLOCATED:
        return read_backing(q, offset, buf, len);
    case CL_COMPRESSED:
        cbuf = g_malloc(q->cluster_size);
        r = read_compressed(q, entry, cbuf);
        if (r == 0)
            memcpy(buf, cbuf + in, len);
        return r;
    }
    return -EIO;
}

static int qcow2_read(void *fmt, uint64_t offset, void *buf, size_t len)
{
    struct qcow2 *q = fmt;
    uint8_t *p = buf;
    int r = 0;

    g_mutex_lock(&q->lock);
    while (len && r == 0) {
        uint64_t n = MIN(len, q->cluster_size - (offset & (q->cluster_size - 1)));

        r = read_in_cluster(q, offset, p, n);
        p += n;
        offset += n;
        len -= n;
    }
    g_mutex_unlock(&q->lock);
    return r;
}

/* ---- writing ---- */

/* Drops the references an entry being replaced held. */
static int release_entry(struct qcow2 *q, enum cluster_type type, uint64_t entry)
{
    if (type == CL_COMPRESSED) {
        uint32_t x = 62 - (q->cluster_bits - 8);
        uint64_t start = (entry & ((1ull << x) - 1)) & ~511ull;
        uint64_t sectors = ((entry >> x) & ((1ull << (62 - x)) - 1)) + 1;
        uint64_t last = (start + sectors * 512 - 1) >> q->cluster_bits;

        for (uint64_t c = start >> q->cluster_bits; c <= last; c++) {
            int r = refcount_update(q, c, -1);

            if (r < 0)
                return r;
        }
        return 0;
    }
    if (type == CL_NORMAL || type == CL_ZERO_ALLOC)
        return refcount_update(q, (entry & L2E_OFFSET_MASK) >> q->cluster_bits, -1);
    return 0;
}

/* Writes part of one guest cluster; lock held. A cluster that is not ours
 * alone and allocated becomes so: old contents (backing, compressed, zero)
 * are merged with the new bytes into a fresh cluster. */
static int write_in_cluster(struct qcow2 *q, uint64_t offset, const uint8_t *buf, uint64_t len)
{
    uint64_t cs = q->cluster_size, index = offset >> q->cluster_bits, in = offset & (cs - 1);
    uint64_t l2i = index & ((1ull << q->l2_bits) - 1), *table, l2_off, entry, host, target;
    g_autofree uint8_t *cbuf = NULL;
    enum cluster_type type;
    int r;

    r = l2_get(q, index, true, &table, &l2_off);
    if (r < 0)
        return r;
    entry = table[l2i];
    r = l2_entry_type(q, entry, &type, &host);
    if (r < 0)
        return r;
    if (type == CL_NORMAL && (entry & OFLAG_COPIED))
        return disk_file_write(q->fd, buf, len, host + in);

    cbuf = g_malloc(cs);
    if (len < cs) {
        r = read_in_cluster(q, offset - in, cbuf, cs);
        if (r < 0)
            return r;
    }
    memcpy(cbuf + in, buf, len);
    if (type == CL_ZERO_ALLOC && (entry & OFLAG_COPIED)) {
        target = host;
    } else {
        r = cluster_alloc(q, &target);
        if (r < 0)
            return r;
    }
    r = disk_file_write(q->fd, cbuf, cs, target);
    if (r < 0)
        return r;
    /* The cache slot may have been evicted by allocations above. */
    r = l2_load(q, l2_off, &table);
    if (r < 0)
        return r;
    r = l2_set(q, l2_off, table, l2i, target | OFLAG_COPIED);
    if (r < 0)
        return r;
    if (target != host)
        return release_entry(q, type, entry);
    return 0;
}

static int qcow2_write(void *fmt, uint64_t offset, const void *buf, size_t len)
{
    struct qcow2 *q = fmt;
    const uint8_t *p = buf;
    int r = 0;

    g_mutex_lock(&q->lock);
    while (len && r == 0) {
        uint64_t n = MIN(len, q->cluster_size - (offset & (q->cluster_size - 1)));

        r = write_in_cluster(q, offset, p, n);
        p += n;
        offset += n;
        len -= n;
    }
    g_mutex_unlock(&q->lock);
    return r;
}

/* Discard and write-zeroes are zero writes, skipping whole clusters that
 * already read as zeroes. */
static int qcow2_zero(void *fmt, uint64_t offset, uint64_t len, bool discard)
{
    struct qcow2 *q = fmt;
    g_autofree uint8_t *zeroes = g_malloc0(q->cluster_size);
    int r = 0;

    g_mutex_lock(&q->lock);
    while (len && r == 0) {
        uint64_t n = MIN(len, q->cluster_size - (offset & (q->cluster_size - 1)));
        enum cluster_type type;
        uint64_t host, entry;

        r = cluster_lookup(q, offset >> q->cluster_bits, &type, &host, &entry);
        if (r == 0 &&
            !(type == CL_ZERO || type == CL_ZERO_ALLOC || (type == CL_UNALLOCATED && !q->backing)))
            r = write_in_cluster(q, offset, zeroes, n);
        offset += n;
        len -= n;
    }
    g_mutex_unlock(&q->lock);
    return r;
}

/* ---- opening ---- */

static int parse_extensions(struct qcow2 *q, const uint8_t *hdr, uint32_t start, uint32_t end,
                            char *backing_fmt, size_t fmt_size, char **err)
{
    uint32_t at = start;

    while (at + 8 <= end) {
        uint32_t type = be32_at(hdr + at), len = be32_at(hdr + at + 4);

        if (type == EXT_END)
            return 0;
        if (len > end - at - 8)
            return fail(err, q->d->path, "header extension beyond the header cluster");
        if (type == EXT_BACKING_FORMAT) {
            if (len >= fmt_size)
                return fail(err, q->d->path, "backing format name too long");
            memcpy(backing_fmt, hdr + at + 8, len);
            backing_fmt[len] = 0;
        }
        at += 8 + ((len + 7) & ~7u);
    }
    return 0;
}

static int open_backing(struct qcow2 *q, const uint8_t *hdr, uint64_t name_off, uint32_t name_len,
                        const char *fmt_name, char **err)
{
    g_autofree char *name = g_strndup((const char *)hdr + name_off, name_len);
    g_autofree char *path = NULL;
    enum disk_image_type type = DISK_IMAGE_AUTO;

    if (strlen(name) != name_len || !name_len)
        return fail(err, q->d->path, "bad backing file name");
    if (!strcmp(fmt_name, "raw"))
        type = DISK_IMAGE_RAW;
    else if (!strcmp(fmt_name, "qcow2"))
        type = DISK_IMAGE_QCOW2;
    else if (fmt_name[0]) {
        if (err)
            *err = g_strdup_printf("%s: backing format '%s' not supported", q->d->path, fmt_name);
        return -ENOTSUP;
    }
    if (g_path_is_absolute(name)) {
        path = g_steal_pointer(&name);
    } else {
        g_autofree char *dir = g_path_get_dirname(q->d->path);

        path = g_build_filename(dir, name, NULL);
    }
    return disk_open_backing(path, type, q->d->chain_depth + 1, &q->backing, err);
}

static int load_table(struct qcow2 *q, uint64_t offset, uint64_t entries, uint64_t **out)
{
    uint64_t *t = g_new(uint64_t, MAX(entries, 1));
    int r = disk_file_read(q->fd, t, entries * 8, offset);

    if (r < 0) {
        g_free(t);
        return r;
    }
    for (uint64_t i = 0; i < entries; i++)
        t[i] = be64toh(t[i]);
    *out = t;
    return 0;
}

/* Every field is checked before anything is derived from it. */
static int parse_header(struct qcow2 *q, const uint8_t *hdr, uint64_t *size, char **err)
{
    const char *path = q->d->path;
    uint64_t backing_off, incompat = 0, autoclear = 0, per_l1, needed_l1;
    uint64_t reft_clusters;
    uint32_t backing_len, hdr_len = HDR_V2_LEN, refcount_order = 4, nb_snapshots;
    char backing_fmt[64] = "";
    int r;

    if (be32_at(hdr) != QCOW2_MAGIC)
        return fail(err, path, "bad magic");
    q->version = be32_at(hdr + 4);
    if (q->version != 2 && q->version != 3)
        return fail(err, path, "version is not 2 or 3");
    q->cluster_bits = be32_at(hdr + 20);
    if (q->cluster_bits < 9 || q->cluster_bits > 21)
        return fail(err, path, "cluster_bits out of range 9..21");
    q->cluster_size = 1ull << q->cluster_bits;
    q->l2_bits = q->cluster_bits - 3;
    if (be32_at(hdr + 32) != 0)
        return fail(err, path, "encrypted images are not supported");
    if (q->version == 3) {
        incompat = be64_at(hdr + 72);
        autoclear = be64_at(hdr + 88);
        refcount_order = be32_at(hdr + 96);
        hdr_len = be32_at(hdr + 100);
        if (hdr_len < HDR_V3_LEN || hdr_len > q->cluster_size || hdr_len % 8)
            return fail(err, path, "bad header_length");
        if (hdr_len > HDR_V3_LEN && hdr[104] != 0)
            return fail(err, path, "compression type other than deflate");
        if (refcount_order > 6)
            return fail(err, path, "refcount_order above 6");
        if (incompat & ~(INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_COMPRESSION))
            return fail(err, path, "unsupported incompatible features");
        if ((incompat & (INCOMPAT_DIRTY | INCOMPAT_CORRUPT)) && !q->d->readonly) {
            if (err)
                *err = g_strdup_printf("%s: image is marked dirty or corrupt; "
                                       "run qemu-img check -r all, or open it read-only",
                                       path);
            return -EINVAL;
        }
    }
    q->refcount_bits = 1u << refcount_order;
    q->refblock_bits = q->cluster_bits + 3 - refcount_order;

    *size = be64_at(hdr + 24);
    if (*size > (1ull << 60))
        return fail(err, path, "virtual size too large");
    per_l1 = 1ull << (q->cluster_bits + q->l2_bits);
    needed_l1 = *size / per_l1 + (*size % per_l1 != 0);
    q->l1_size = be32_at(hdr + 36);
    q->l1_offset = be64_at(hdr + 40);
    if ((uint64_t)q->l1_size * 8 > MAX_L1_BYTES || q->l1_size < needed_l1)
        return fail(err, path, "bad l1_size");
    if (q->l1_size && !table_in_file(q, q->l1_offset, (uint64_t)q->l1_size * 8))
        return fail(err, path, "L1 table outside the file or misaligned");

    q->reftable_offset = be64_at(hdr + 48);
    reft_clusters = be32_at(hdr + 56);
    if (!reft_clusters || reft_clusters * q->cluster_size > MAX_REFTABLE_BYTES)
        return fail(err, path, "bad refcount_table_clusters");
    q->reftable_size = reft_clusters * q->cluster_size / 8;
    if (!table_in_file(q, q->reftable_offset, reft_clusters * q->cluster_size))
        return fail(err, path, "refcount table outside the file or misaligned");

    nb_snapshots = be32_at(hdr + 60);
    if (nb_snapshots && !q->d->readonly) {
        if (err)
            *err = g_strdup_printf("%s: writing qcow2 images with internal snapshots is not "
                                   "supported; open it read-only",
                                   path);
        return -ENOTSUP;
    }

    backing_off = be64_at(hdr + 8);
    backing_len = be32_at(hdr + 16);
    if (backing_off) {
        if (backing_len == 0 || backing_len > 1023 || backing_off < hdr_len ||
            backing_off > q->cluster_size - backing_len)
            return fail(err, path, "backing file name outside the header cluster");
    }
    r = parse_extensions(q, hdr, hdr_len, backing_off ? (uint32_t)backing_off : q->cluster_size,
                         backing_fmt, sizeof(backing_fmt), err);
    if (r < 0)
        return r;
    if (backing_off) {
        r = open_backing(q, hdr, backing_off, backing_len, backing_fmt, err);
        if (r < 0)
            return r;
    }
    /* Our writes would make dirty bitmaps stale: drop them as QEMU does. */
    if (autoclear && !q->d->readonly) {
        uint64_t zero = 0;

        r = disk_file_write(q->fd, &zero, 8, 88);
        if (r < 0)
            return r;
    }
    return 0;
}

static void qcow2_close(void *fmt)
{
    struct qcow2 *q = fmt;

    if (!q)
        return;
    for (unsigned int i = 0; i < L2_CACHE_SLOTS; i++)
        g_free(q->l2_cache[i].table);
    disk_close(q->backing);
    g_free(q->l1);
    g_free(q->reftable);
    g_mutex_clear(&q->lock);
    g_free(q);
}

static int qcow2_open(struct disk *d, char **err)
{
    struct qcow2 *q = g_new0(struct qcow2, 1);
    g_autofree uint8_t *hdr = NULL;
    struct stat st;
    uint64_t size;
    int r;

    g_mutex_init(&q->lock);
    q->d = d;
    q->fd = d->meta_fd;
    if (fstat(q->fd, &st) < 0) {
        r = -errno;
        goto fail;
    }
    q->file_size = (uint64_t)st.st_size;
    if (q->file_size < HDR_V2_LEN) {
        r = fail(err, d->path, "file too short");
        goto fail;
    }
    /* The header, its extensions and the backing name live in cluster 0:
     * peek at cluster_bits (checked again in parse_header) to size it. */
    hdr = g_malloc0(HDR_V2_LEN);
    r = disk_file_read(q->fd, hdr, HDR_V2_LEN, 0);
    if (r < 0)
        goto fail;
    if (be32_at(hdr + 20) >= 9 && be32_at(hdr + 20) <= 21) {
        uint64_t cs = 1ull << be32_at(hdr + 20);

        g_free(hdr);
        hdr = g_malloc0(cs);
        r = disk_file_read(q->fd, hdr, MIN(q->file_size, cs), 0);
        if (r < 0)
            goto fail;
    }
    r = parse_header(q, hdr, &size, err);
    if (r < 0)
        goto fail;
    if (q->l1_size) {
        r = load_table(q, q->l1_offset, q->l1_size, &q->l1);
        if (r < 0)
            goto fail;
    }
    r = load_table(q, q->reftable_offset, q->reftable_size, &q->reftable);
    if (r < 0)
        goto fail;
    for (uint64_t i = 0; i < q->reftable_size; i++) {
        if (q->reftable[i] & REFT_RESERVED) {
            r = fail(err, d->path, "refcount table entry with reserved bits");
            goto fail;
        }
    }
    q->next_free = (q->file_size + q->cluster_size - 1) >> q->cluster_bits;
    d->size = size;
    d->fmt = q;
    return 0;
fail:
    qcow2_close(q);
    return r;
}

const struct disk_ops disk_qcow2_ops = {
    .name = "qcow2",
    .open = qcow2_open,
    .map = qcow2_map,
    .read = qcow2_read,
    .write = qcow2_write,
    .zero = qcow2_zero,
    .close = qcow2_close,
};
