/* Tests for vmm/virtio/blk.c: request parsing alone, then the device end to
 * end on a temporary raw file with a pretend driver filling the rings. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "virtio/blk.h"
#include "virtq-driver.h"

#define DISK_SIZE (1u << 20)
#define CAPACITY  (DISK_SIZE / 512)

static char *tmpdir;
static struct virtq_chain chain;
static struct blk_request req;

/* ---- parsing ---- */

static const struct blk_limits limits = {
    .capacity = CAPACITY,
    .max_data = 1 << 20,
    .max_discard_sectors = 1024,
    .max_write_zeroes_sectors = 1024,
};

static void put_hdr(struct drv *d, uint64_t gpa, uint32_t type, uint64_t sector)
{
    uint32_t t = htole32(type), z = 0;
    uint64_t s = htole64(sector);

    memcpy(d->ram + gpa, &t, 4);
    memcpy(d->ram + gpa + 4, &z, 4);
    memcpy(d->ram + gpa + 8, &s, 8);
}

static void put_zero_seg(struct drv *d, uint64_t gpa, uint64_t sector, uint32_t n, uint32_t flags)
{
    uint64_t s = htole64(sector);
    uint32_t nn = htole32(n), f = htole32(flags);

    memcpy(d->ram + gpa, &s, 8);
    memcpy(d->ram + gpa + 8, &nn, 4);
    memcpy(d->ram + gpa + 12, &f, 4);
}

/* Pops what the driver published and parses it. */
static int parse(struct drv *d, const struct blk_limits *lim)
{
    g_assert_cmpint(virtq_pop(&d->q, &chain), ==, 1);
    return blk_request_parse(&d->mem, &chain, lim, &req);
}

static void test_parse_in_out(void)
{
    struct drv d;
    uint64_t h, data, st;

    drv_init(&d, 16, false, false);
    h = drv_alloc(&d, 16);
    data = drv_alloc(&d, 4096);
    st = drv_alloc(&d, 1);
    put_hdr(&d, h, VIRTIO_BLK_T_IN, 8);
    drv_chain(&d, (struct drv_buf[]){{h, 16, false}, {data, 4096, true}, {st, 1, true}}, 3);
    g_assert_cmpint(parse(&d, &limits), ==, 0);
    g_assert_cmpuint(req.status, ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(req.type, ==, VIRTIO_BLK_T_IN);
    g_assert_cmpuint(req.sector, ==, 8);
    g_assert_cmpuint(req.nr_segs, ==, 1);
    g_assert_cmpuint(req.data_len, ==, 4096);
    g_assert_cmpuint(req.status_gpa, ==, st);

    /* Header split over two descriptors, data and status in one buffer. */
    put_hdr(&d, h, VIRTIO_BLK_T_IN, 16);
    drv_chain(&d, (struct drv_buf[]){{h, 8, false}, {h + 8, 8, false}, {data, 513, true}}, 3);
    g_assert_cmpint(parse(&d, &limits), ==, 0);
    g_assert_cmpuint(req.status, ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(req.sector, ==, 16);
    g_assert_cmpuint(req.data_len, ==, 512);
    g_assert_cmpuint(req.status_gpa, ==, data + 512);

    /* OUT: header and data in one readable buffer. */
    put_hdr(&d, data, VIRTIO_BLK_T_OUT, CAPACITY - 2);
    drv_chain(&d, (struct drv_buf[]){{data, 16 + 1024, false}, {st, 1, true}}, 2);
    g_assert_cmpint(parse(&d, &limits), ==, 0);
    g_assert_cmpuint(req.status, ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(req.segs[0].gpa, ==, data + 16);
    g_assert_cmpuint(req.data_len, ==, 1024);
    drv_free(&d);
}

static void expect_status(struct drv *d, const struct blk_limits *lim, uint8_t status)
{
    g_assert_cmpint(parse(d, lim), ==, 0);
    g_assert_cmpuint(req.status, ==, status);
}

static void test_parse_bad(void)
{
    struct drv d;
    struct blk_limits ro = limits;
    uint64_t h, data, st;

    ro.readonly = true;
    drv_init(&d, 64, false, false);
    h = drv_alloc(&d, 16);
    data = drv_alloc(&d, 4096);
    st = drv_alloc(&d, 1);

    /* No writable byte: nowhere to answer. */
    put_hdr(&d, h, VIRTIO_BLK_T_IN, 0);
    drv_chain(&d, (struct drv_buf[]){{h, 16, false}, {data, 512, false}}, 2);
    g_assert_cmpint(parse(&d, &limits), ==, -EINVAL);
    drv_chain(&d, (struct drv_buf[]){{h, 16, false}, {st, 0, true}}, 2);
    g_assert_cmpint(parse(&d, &limits), ==, -EINVAL);
    /* Header too short. */
    drv_chain(&d, (struct drv_buf[]){{h, 8, false}, {st, 1, true}}, 2);
    expect_status(&d, &limits, VIRTIO_BLK_S_IOERR);
    /* Not whole sectors. */
    drv_chain(&d, (struct drv_buf[]){{h, 16, false}, {data, 100, true}, {st, 1, true}}, 3);
    expect_status(&d, &limits, VIRTIO_BLK_S_IOERR);
    /* Past the end, and sector numbers that would overflow. */
    put_hdr(&d, h, VIRTIO_BLK_T_IN, CAPACITY - 1);
    drv_chain(&d, (struct drv_buf[]){{h, 16, false}, {data, 1024, true}, {st, 1, true}}, 3);
    expect_status(&d, &limits, VIRTIO_BLK_S_IOERR);
    put_hdr(&d, h, VIRTIO_BLK_T_OUT, UINT64_MAX);
    drv_chain(&d, (struct drv_buf[]){{h, 16, false}, {data, 512, false}, {st, 1, true}}, 3);
    expect_status(&d, &limits, VIRTIO_BLK_S_IOERR);
    /* Too much data in one request. */
    put_hdr(&d, h, VIRTIO_BLK_T_IN, 0);
    {
        struct blk_limits small = limits;

        small.max_data = 512;
        drv_chain(&d, (struct drv_buf[]){{h, 16, false}, {data, 1024, true}, {st, 1, true}}, 3);
        expect_status(&d, &small, VIRTIO_BLK_S_IOERR);
    }
    /* Unknown type. */
    put_hdr(&d, h, 99, 0);
    drv_chain(&d, (struct drv_buf[]){{h, 16, false}, {st, 1, true}}, 2);
    expect_status(&d, &limits, VIRTIO_BLK_S_UNSUPP);
    /* Writes to a read-only disk. */
    put_hdr(&d, h, VIRTIO_BLK_T_OUT, 0);
    drv_chain(&d, (struct drv_buf[]){{h, 16, false}, {data, 512, false}, {st, 1, true}}, 3);
    expect_status(&d, &ro, VIRTIO_BLK_S_IOERR);
    put_hdr(&d, h, VIRTIO_BLK_T_WRITE_ZEROES, 0);
    put_zero_seg(&d, data, 0, 8, 0);
    drv_chain(&d, (struct drv_buf[]){{h, 16, false}, {data, 16, false}, {st, 1, true}}, 3);
    expect_status(&d, &ro, VIRTIO_BLK_S_IOERR);
    /* Discard: unmap flag, two segments, too many sectors, out of range. */
    put_hdr(&d, h, VIRTIO_BLK_T_DISCARD, 0);
    put_zero_seg(&d, data, 0, 8, VIRTIO_BLK_DISCARD_UNMAP);
    drv_chain(&d, (struct drv_buf[]){{h, 16, false}, {data, 16, false}, {st, 1, true}}, 3);
    expect_status(&d, &limits, VIRTIO_BLK_S_UNSUPP);
    put_zero_seg(&d, data, 0, 8, 0);
    put_zero_seg(&d, data + 16, 8, 8, 0);
    drv_chain(&d, (struct drv_buf[]){{h, 16, false}, {data, 32, false}, {st, 1, true}}, 3);
    expect_status(&d, &limits, VIRTIO_BLK_S_IOERR);
    put_zero_seg(&d, data, 0, 2048, 0);
    drv_chain(&d, (struct drv_buf[]){{h, 16, false}, {data, 16, false}, {st, 1, true}}, 3);
    expect_status(&d, &limits, VIRTIO_BLK_S_IOERR);
    put_zero_seg(&d, data, CAPACITY - 4, 8, 0);
    drv_chain(&d, (struct drv_buf[]){{h, 16, false}, {data, 16, false}, {st, 1, true}}, 3);
    expect_status(&d, &limits, VIRTIO_BLK_S_IOERR);
    /* Write zeroes may ask to unmap; reserved flags are refused. */
    put_hdr(&d, h, VIRTIO_BLK_T_WRITE_ZEROES, 0);
    put_zero_seg(&d, data, 8, 8, VIRTIO_BLK_DISCARD_UNMAP);
    drv_chain(&d, (struct drv_buf[]){{h, 16, false}, {data, 16, false}, {st, 1, true}}, 3);
    expect_status(&d, &limits, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(req.zero_sector, ==, 8);
    g_assert_cmpuint(req.zero_sectors, ==, 8);
    put_zero_seg(&d, data, 8, 8, 4);
    drv_chain(&d, (struct drv_buf[]){{h, 16, false}, {data, 16, false}, {st, 1, true}}, 3);
    expect_status(&d, &limits, VIRTIO_BLK_S_UNSUPP);
    drv_free(&d);
}

/* ---- the device, end to end ---- */

struct rig {
    struct drv d;
    struct virtio_device vdev;
    struct virtq queues[2];
    int kick[2];
    int irqs[2];
    char *path;
    int fd; /* the disk file, to check behind the device's back */
};

static void on_irq(void *opaque, unsigned int queue)
{
    struct rig *r = opaque;

    g_assert_cmpuint(queue, <, 2);
    __atomic_add_fetch(&r->irqs[queue], 1, __ATOMIC_SEQ_CST);
}

static void rig_start(struct rig *r, bool readonly, unsigned int nq, bool event_idx)
{
    struct virtio_blk_opts o = {
        .readonly = readonly,
        .num_queues = nq,
        .queue_size = 64,
        .id = "disk0",
        .serial = "VIREO-SERIAL-0123456789",
        .image_type = DISK_IMAGE_AUTO,
    };
    struct virtio_activation act = {0};
    g_autofree char *err = NULL;
    uint8_t *content = g_malloc(DISK_SIZE);

    memset(r, 0, sizeof(*r));
    r->path = g_build_filename(tmpdir, "disk.raw", NULL);
    for (unsigned int i = 0; i < DISK_SIZE; i++)
        content[i] = (uint8_t)(i / 512);
    g_assert_true(g_file_set_contents(r->path, (char *)content, DISK_SIZE, NULL));
    g_free(content);
    r->fd = open(r->path, O_RDONLY);
    o.path = r->path;
    g_assert_cmpint(virtio_blk_new(&o, &r->vdev, &err), ==, 0);
    g_assert_cmpuint(r->vdev.ops->device_id, ==, VIRTIO_ID_BLOCK);
    g_assert_cmpuint(r->vdev.max_queues, ==, nq);
    g_assert_cmpstr(r->vdev.id, ==, "disk0");

    drv_init(&r->d, 64, event_idx, true);
    for (unsigned int i = 0; i < nq; i++) {
        r->queues[i] = r->d.q;
        r->queues[i].desc_gpa += 0x40000u * i;
        r->queues[i].avail_gpa += 0x40000u * i;
        r->queues[i].used_gpa += 0x40000u * i;
        r->kick[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    }
    act.mem = &r->d.mem;
    act.features = r->vdev.ops->features(r->vdev.dev);
    act.nr_queues = nq;
    act.queues = r->queues;
    act.kick_fds = r->kick;
    act.interrupt = (struct virtio_interrupt){on_irq, r};
    g_assert_cmpint(r->vdev.ops->activate(r->vdev.dev, &act), ==, 0);
}

static void rig_stop(struct rig *r)
{
    r->vdev.ops->reset(r->vdev.dev);
    r->vdev.ops->free(r->vdev.dev);
    for (unsigned int i = 0; i < 2; i++)
        if (r->kick[i] > 0)
            close(r->kick[i]);
    close(r->fd);
    g_unlink(r->path);
    g_free(r->path);
    drv_free(&r->d);
}

/* Points the pretend driver at queue i (the rings differ, RAM is shared). */
static void rig_use_queue(struct rig *r, unsigned int i, uint16_t *avail_idx)
{
    r->d.q.desc_gpa = r->queues[0].desc_gpa + 0x40000u * i;
    r->d.q.avail_gpa = r->queues[0].avail_gpa + 0x40000u * i;
    r->d.q.used_gpa = r->queues[0].used_gpa + 0x40000u * i;
    r->d.avail_idx = *avail_idx;
}

static void kick_and_wait(struct rig *r, unsigned int q, uint16_t used)
{
    uint64_t one = 1;

    g_assert_cmpint(write(r->kick[q], &one, 8), ==, 8);
    for (int i = 0; i < 5000 && drv_used_idx(&r->d) != used; i++)
        g_usleep(1000);
    g_assert_cmpuint(drv_used_idx(&r->d), ==, used);
}

/* One request: header, optional data, status. Returns the status byte. */
static uint8_t rig_request(struct rig *r, unsigned int q, uint32_t type, uint64_t sector,
                           uint64_t data, uint32_t len, bool data_writable, uint32_t *used_len)
{
    uint64_t h = drv_alloc(&r->d, 16), st = drv_alloc(&r->d, 1);
    uint16_t expect = (uint16_t)(drv_used_idx(&r->d) + 1);
    uint32_t id;

    put_hdr(&r->d, h, type, sector);
    r->d.ram[st] = 0xff;
    if (len)
        drv_chain(&r->d,
                  (struct drv_buf[]){{h, 16, false}, {data, len, data_writable}, {st, 1, true}}, 3);
    else
        drv_chain(&r->d, (struct drv_buf[]){{h, 16, false}, {st, 1, true}}, 2);
    kick_and_wait(r, q, expect);
    drv_used_elem(&r->d, (uint16_t)(expect - 1), &id, used_len);
    return r->d.ram[st];
}

static void test_device_config(void)
{
    struct rig r;
    uint8_t cfg[64];
    uint64_t cap;
    uint64_t f;

    rig_start(&r, false, 1, false);
    g_assert_cmpuint(r.vdev.ops->config_size(r.vdev.dev), ==, 60);
    r.vdev.ops->config_read(r.vdev.dev, 0, cfg, 64);
    memcpy(&cap, cfg, 8);
    g_assert_cmpuint(le64toh(cap), ==, CAPACITY);
    g_assert_cmpuint(cfg[60], ==, 0); /* past the end reads as zero */
    g_assert_cmpuint(cfg[20] | cfg[21] << 8, ==, 512);
    g_assert_cmpuint(cfg[34], ==, 1);
    f = r.vdev.ops->features(r.vdev.dev);
    g_assert_true(f & 1ull << VIRTIO_BLK_F_FLUSH);
    g_assert_true(f & 1ull << VIRTIO_BLK_F_DISCARD);
    g_assert_true(f & 1ull << VIRTIO_BLK_F_WRITE_ZEROES);
    g_assert_true(f & 1ull << VIRTIO_F_EVENT_IDX);
    g_assert_true(f & 1ull << VIRTIO_F_INDIRECT_DESC);
    g_assert_false(f & 1ull << VIRTIO_BLK_F_RO);
    g_assert_false(f & 1ull << VIRTIO_BLK_F_MQ);
    /* Writes are ignored. */
    r.vdev.ops->config_write(r.vdev.dev, 0, (uint8_t[]){1, 2, 3, 4}, 4);
    r.vdev.ops->config_read(r.vdev.dev, 0, cfg, 8);
    memcpy(&cap, cfg, 8);
    g_assert_cmpuint(le64toh(cap), ==, CAPACITY);
    rig_stop(&r);
}

static void test_device_requests(gconstpointer event_idx)
{
    struct rig r;
    uint64_t buf;
    uint32_t used_len;
    uint8_t file[4096];

    rig_start(&r, false, 1, GPOINTER_TO_INT(event_idx));
    buf = drv_alloc(&r.d, 8192);

    /* IN: sector 5 holds bytes 5. */
    g_assert_cmpuint(rig_request(&r, 0, VIRTIO_BLK_T_IN, 5, buf, 1024, true, &used_len), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpuint(used_len, ==, 1025);
    g_assert_cmpuint(r.d.ram[buf], ==, 5);
    g_assert_cmpuint(r.d.ram[buf + 1023], ==, 6);
    g_assert_cmpint(__atomic_load_n(&r.irqs[0], __ATOMIC_SEQ_CST), >=, 1);

    /* OUT, then check the file itself. */
    memset(r.d.ram + buf, 0xab, 4096);
    g_assert_cmpuint(rig_request(&r, 0, VIRTIO_BLK_T_OUT, 100, buf, 4096, false, &used_len), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpuint(used_len, ==, 1);
    g_assert_cmpuint(rig_request(&r, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, &used_len), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpint(pread(r.fd, file, 4096, 100 * 512), ==, 4096);
    for (int i = 0; i < 4096; i++)
        g_assert_cmpuint(file[i], ==, 0xab);

    /* GET_ID. */
    memset(r.d.ram + buf, 0, 64);
    g_assert_cmpuint(rig_request(&r, 0, VIRTIO_BLK_T_GET_ID, 0, buf, 64, true, &used_len), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpint(memcmp(r.d.ram + buf, "VIREO-SERIAL-0123456", 20), ==, 0);
    g_assert_cmpuint(r.d.ram[buf + 20], ==, 0);
    g_assert_cmpuint(used_len, ==, 21);

    /* WRITE_ZEROES and DISCARD read back as zeroes. */
    put_zero_seg(&r.d, buf, 100, 4, 0);
    g_assert_cmpuint(rig_request(&r, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, buf, 16, false, &used_len),
                     ==, VIRTIO_BLK_S_OK);
    put_zero_seg(&r.d, buf, 104, 4, 0);
    g_assert_cmpuint(rig_request(&r, 0, VIRTIO_BLK_T_DISCARD, 0, buf, 16, false, &used_len), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpint(pread(r.fd, file, 4096, 100 * 512), ==, 4096);
    for (int i = 0; i < 4096; i++)
        g_assert_cmpuint(file[i], ==, 0);
    g_assert_cmpint(pread(r.fd, file, 512, 108 * 512), ==, 512);
    g_assert_cmpuint(file[0], ==, 108);

    /* Unsupported type, out of range. */
    g_assert_cmpuint(rig_request(&r, 0, 42, 0, 0, 0, false, &used_len), ==, VIRTIO_BLK_S_UNSUPP);
    g_assert_cmpuint(used_len, ==, 1);
    g_assert_cmpuint(rig_request(&r, 0, VIRTIO_BLK_T_IN, CAPACITY, buf, 512, true, &used_len), ==,
                     VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(used_len, ==, 1);
    g_assert_cmpuint(
        rig_request(&r, 0, VIRTIO_BLK_T_OUT, CAPACITY - 1, buf, 1024, false, &used_len), ==,
        VIRTIO_BLK_S_IOERR);
    rig_stop(&r);
}

/* Many requests published before a single kick, read through an indirect
 * table each: the worker batches them. */
static void test_device_batch(void)
{
    struct rig r;
    uint64_t bufs[32], sts[32];
    uint64_t one = 1;

    rig_start(&r, false, 1, true);
    for (int i = 0; i < 32; i++) {
        uint64_t t = drv_alloc(&r.d, 48), h = drv_alloc(&r.d, 16);

        bufs[i] = drv_alloc(&r.d, 512);
        sts[i] = drv_alloc(&r.d, 1);
        put_hdr(&r.d, h, VIRTIO_BLK_T_IN, (uint64_t)i * 3);
        drv_desc_at(&r.d, t, 0, h, 16, DESC_F_NEXT, 1);
        drv_desc_at(&r.d, t, 1, bufs[i], 512, DESC_F_NEXT | DESC_F_WRITE, 2);
        drv_desc_at(&r.d, t, 2, sts[i], 1, DESC_F_WRITE, 0);
        drv_desc(&r.d, (uint16_t)i, t, 48, DESC_F_INDIRECT, 0);
        drv_publish(&r.d, (uint16_t)i);
    }
    g_assert_cmpint(write(r.kick[0], &one, 8), ==, 8);
    for (int i = 0; i < 5000 && drv_used_idx(&r.d) != 32; i++)
        g_usleep(1000);
    g_assert_cmpuint(drv_used_idx(&r.d), ==, 32);
    for (int i = 0; i < 32; i++) {
        g_assert_cmpuint(r.d.ram[sts[i]], ==, VIRTIO_BLK_S_OK);
        g_assert_cmpuint(r.d.ram[bufs[i]], ==, (uint8_t)(i * 3));
    }
    rig_stop(&r);
}

static void test_device_readonly(void)
{
    struct rig r;
    uint64_t buf;
    uint32_t used_len;
    uint8_t file[512];

    rig_start(&r, true, 1, false);
    g_assert_true(r.vdev.ops->features(r.vdev.dev) & 1ull << VIRTIO_BLK_F_RO);
    g_assert_false(r.vdev.ops->features(r.vdev.dev) & 1ull << VIRTIO_BLK_F_DISCARD);
    buf = drv_alloc(&r.d, 512);
    memset(r.d.ram + buf, 0xee, 512);
    g_assert_cmpuint(rig_request(&r, 0, VIRTIO_BLK_T_OUT, 0, buf, 512, false, &used_len), ==,
                     VIRTIO_BLK_S_IOERR);
    g_assert_cmpint(pread(r.fd, file, 512, 0), ==, 512);
    g_assert_cmpuint(file[0], ==, 0);
    g_assert_cmpuint(rig_request(&r, 0, VIRTIO_BLK_T_IN, 1, buf, 512, true, &used_len), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpuint(r.d.ram[buf], ==, 1);
    g_assert_cmpuint(rig_request(&r, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, &used_len), ==,
                     VIRTIO_BLK_S_OK);
    rig_stop(&r);
}

static void test_device_multiqueue(void)
{
    struct rig r;
    uint64_t buf;
    uint32_t used_len;
    uint16_t idx[2] = {0, 0};
    uint8_t cfg[2];

    rig_start(&r, false, 2, true);
    g_assert_true(r.vdev.ops->features(r.vdev.dev) & 1ull << VIRTIO_BLK_F_MQ);
    r.vdev.ops->config_read(r.vdev.dev, 34, cfg, 2);
    g_assert_cmpuint(cfg[0], ==, 2);
    buf = drv_alloc(&r.d, 512);
    for (int round = 0; round < 3; round++) {
        for (unsigned int q = 0; q < 2; q++) {
            rig_use_queue(&r, q, &idx[q]);
            g_assert_cmpuint(rig_request(&r, q, VIRTIO_BLK_T_IN, 10 + q, buf, 512, true, &used_len),
                             ==, VIRTIO_BLK_S_OK);
            g_assert_cmpuint(r.d.ram[buf], ==, 10 + q);
            idx[q] = r.d.avail_idx;
        }
    }
    g_assert_cmpint(__atomic_load_n(&r.irqs[1], __ATOMIC_SEQ_CST), >=, 1);
    rig_use_queue(&r, 0, &idx[0]);
    rig_stop(&r);
}

/* A driver that breaks the rules loses the queue, not the VMM. */
static void test_device_broken_queue(void)
{
    struct rig r;
    uint64_t one = 1, buf;
    uint32_t used_len, id;

    rig_start(&r, false, 1, false);
    buf = drv_alloc(&r.d, 512);
    g_assert_cmpuint(rig_request(&r, 0, VIRTIO_BLK_T_IN, 0, buf, 512, true, &used_len), ==,
                     VIRTIO_BLK_S_OK);
    drv_desc(&r.d, 40, buf, 16, DESC_F_NEXT, 40); /* a loop */
    drv_publish(&r.d, 40);
    g_assert_cmpint(write(r.kick[0], &one, 8), ==, 8);
    for (int i = 0; i < 5000 && !__atomic_load_n(&r.queues[0].broken, __ATOMIC_SEQ_CST); i++)
        g_usleep(1000);
    g_assert_true(__atomic_load_n(&r.queues[0].broken, __ATOMIC_SEQ_CST));
    g_assert_cmpuint(drv_used_idx(&r.d), ==, 1);
    rig_stop(&r);

    /* A request without status byte is returned with nothing written. */

    rig_start(&r, false, 1, false);
    buf = drv_alloc(&r.d, 16);
    put_hdr(&r.d, buf, VIRTIO_BLK_T_IN, 0);
    drv_chain(&r.d, (struct drv_buf[]){{buf, 16, false}}, 1);
    kick_and_wait(&r, 0, 1);
    drv_used_elem(&r.d, 0, &id, &used_len);
    g_assert_cmpuint(used_len, ==, 0);
    rig_stop(&r);
}

static void test_device_bad_open(void)
{
    struct virtio_device vdev;
    g_autofree char *err = NULL;
    struct virtio_blk_opts o = {.path = "/nonexistent/disk.img", .id = "x"};

    g_assert_cmpint(virtio_blk_new(&o, &vdev, &err), ==, -ENOENT);
    g_assert_nonnull(err);
    g_clear_pointer(&err, g_free);
    o.queue_size = 100;
    g_assert_cmpint(virtio_blk_new(&o, &vdev, &err), ==, -EINVAL);
    g_assert_nonnull(err);
}

int main(int argc, char **argv)
{
    int r;

    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("vireo-blk-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);
    g_test_add_func("/virtio-blk/parse/in-out", test_parse_in_out);
    g_test_add_func("/virtio-blk/parse/bad", test_parse_bad);
    g_test_add_func("/virtio-blk/device/config", test_device_config);
    g_test_add_data_func("/virtio-blk/device/requests", GINT_TO_POINTER(0), test_device_requests);
    g_test_add_data_func("/virtio-blk/device/requests-event-idx", GINT_TO_POINTER(1),
                         test_device_requests);
    g_test_add_func("/virtio-blk/device/batch", test_device_batch);
    g_test_add_func("/virtio-blk/device/readonly", test_device_readonly);
    g_test_add_func("/virtio-blk/device/multiqueue", test_device_multiqueue);
    g_test_add_func("/virtio-blk/device/broken-queue", test_device_broken_queue);
    g_test_add_func("/virtio-blk/device/bad-open", test_device_bad_open);
    r = g_test_run();
    g_rmdir(tmpdir);
    g_free(tmpdir);
    return r;
}
