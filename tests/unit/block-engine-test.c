/* Tests for vmm/block/engine*.c and the asynchronous queues of disk.c, run
 * once with io_uring and once with the thread pool. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/disk.h"
#include "block/engine.h"

static char *tmpdir;

static int tmp_file(const char *name, size_t size)
{
    g_autofree char *p = g_build_filename(tmpdir, name, NULL);
    int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
    return fd;
}

static unsigned int wait_reap(struct blk_engine *e, struct blk_completion *c, unsigned int want)
{
    unsigned int got = 0;

    while (got < want) {
        struct pollfd p = {.fd = blk_engine_event_fd(e), .events = POLLIN};

        g_assert_cmpint(poll(&p, 1, 5000), ==, 1);
        got += blk_engine_reap(e, c + got, want - got);
    }
    return got;
}

static void test_engine_rw(gconstpointer kind_p)
{
    enum blk_engine_kind kind = GPOINTER_TO_INT(kind_p);
    struct blk_engine *e = NULL;
    struct blk_completion c[4];
    uint8_t a[1000], b[3000], back[4000] = {0};
    struct iovec wv[2] = {{a, sizeof(a)}, {b, sizeof(b)}}, rv = {back, sizeof(back)};
    int fd = tmp_file("engine.img", 8192);

    g_assert_cmpint(blk_engine_new(kind, 2, &e), ==, 0);
    g_assert_cmpstr(blk_engine_name(e), ==, kind == BLK_ENGINE_URING ? "io_uring" : "threads");
    memset(a, 0x11, sizeof(a));
    memset(b, 0x22, sizeof(b));
    g_assert_cmpint(blk_engine_submit(e, &(struct blk_io){BLK_IO_WRITE, fd, wv, 2, 100, wv}), ==,
                    0);
    g_assert_cmpint(blk_engine_submit(e, &(struct blk_io){BLK_IO_FSYNC, fd, NULL, 0, 0, e}), ==, 0);
    /* Depth 2: a third I/O must wait. */
    g_assert_cmpint(blk_engine_submit(e, &(struct blk_io){BLK_IO_READ, fd, &rv, 1, 100, &rv}), ==,
                    -EAGAIN);
    g_assert_cmpuint(blk_engine_inflight(e), ==, 2);
    wait_reap(e, c, 2);
    for (int i = 0; i < 2; i++)
        g_assert_cmpint(c[i].result, ==, c[i].opaque == wv ? 4000 : 0);
    g_assert_cmpint(blk_engine_submit(e, &(struct blk_io){BLK_IO_READ, fd, &rv, 1, 100, &rv}), ==,
                    0);
    wait_reap(e, c, 1);
    g_assert_true(c[0].opaque == &rv);
    g_assert_cmpint(c[0].result, ==, 4000);
    g_assert_true(memcmp(back, a, sizeof(a)) == 0);
    g_assert_true(memcmp(back + 1000, b, sizeof(b)) == 0);
    /* Short read at the end of the file; an error as -errno. */
    g_assert_cmpint(blk_engine_submit(e, &(struct blk_io){BLK_IO_READ, fd, &rv, 1, 8000, &rv}), ==,
                    0);
    wait_reap(e, c, 1);
    g_assert_cmpint(c[0].result, ==, 192);
    g_assert_cmpint(blk_engine_submit(e, &(struct blk_io){BLK_IO_READ, -1, &rv, 1, 0, &rv}), ==, 0);
    wait_reap(e, c, 1);
    g_assert_cmpint(c[0].result, ==, -EBADF);
    g_assert_cmpuint(blk_engine_inflight(e), ==, 0);
    blk_engine_free(e);
    close(fd);
}

/* Many I/Os in flight; freeing waits for the ones not reaped. */
static void test_engine_depth(gconstpointer kind_p)
{
    enum blk_engine_kind kind = GPOINTER_TO_INT(kind_p);
    struct blk_engine *e = NULL;
    static uint8_t bufs[32][4096];
    struct iovec v[32];
    struct blk_completion c[32];
    int fd = tmp_file("depth.img", 32 * 4096);

    g_assert_cmpint(blk_engine_new(kind, 32, &e), ==, 0);
    for (int i = 0; i < 32; i++) {
        memset(bufs[i], i, sizeof(bufs[i]));
        v[i] = (struct iovec){bufs[i], 4096};
        g_assert_cmpint(
            blk_engine_submit(e, &(struct blk_io){BLK_IO_WRITE, fd, &v[i], 1, i * 4096u, &v[i]}),
            ==, 0);
    }
    wait_reap(e, c, 32);
    for (int i = 0; i < 32; i++)
        g_assert_cmpint(c[i].result, ==, 4096);
    for (int i = 0; i < 32; i++)
        g_assert_cmpint(
            blk_engine_submit(e, &(struct blk_io){BLK_IO_READ, fd, &v[i], 1, i * 4096u, &v[i]}), ==,
            0);
    blk_engine_free(e);
    close(fd);
}

/* A plugged batch starts at unplug: io_uring holds it back until then. */
static void test_engine_plug(gconstpointer kind_p)
{
    enum blk_engine_kind kind = GPOINTER_TO_INT(kind_p);
    struct blk_engine *e = NULL;
    static uint8_t bufs[16][512];
    struct iovec v[16];
    struct blk_completion c[16];
    int fd = tmp_file("plug.img", 16 * 512);
    struct pollfd p;

    g_assert_cmpint(blk_engine_new(kind, 16, &e), ==, 0);
    blk_engine_plug(e);
    for (int i = 0; i < 16; i++) {
        memset(bufs[i], 0x40 + i, sizeof(bufs[i]));
        v[i] = (struct iovec){bufs[i], sizeof(bufs[i])};
        g_assert_cmpint(
            blk_engine_submit(e, &(struct blk_io){BLK_IO_WRITE, fd, &v[i], 1, i * 512u, &v[i]}), ==,
            0);
    }
    g_assert_cmpuint(blk_engine_inflight(e), ==, 16);
    if (kind == BLK_ENGINE_URING) {
        p = (struct pollfd){.fd = blk_engine_event_fd(e), .events = POLLIN};
        g_assert_cmpint(poll(&p, 1, 200), ==, 0);
    }
    blk_engine_unplug(e);
    wait_reap(e, c, 16);
    for (int i = 0; i < 16; i++)
        g_assert_cmpint(c[i].result, ==, 512);
    for (int i = 0; i < 16; i++) {
        uint8_t back[512];

        g_assert_cmpint(pread(fd, back, sizeof(back), i * 512), ==, 512);
        g_assert_true(memcmp(back, bufs[i], sizeof(back)) == 0);
    }
    /* Unplugged again: an I/O starts by itself. */
    g_assert_cmpint(blk_engine_submit(e, &(struct blk_io){BLK_IO_FSYNC, fd, NULL, 0, 0, e}), ==, 0);
    wait_reap(e, c, 1);
    g_assert_cmpint(c[0].result, ==, 0);
    /* Freed while plugged with I/O queued: the batch is started and waited for. */
    blk_engine_plug(e);
    g_assert_cmpint(blk_engine_submit(e, &(struct blk_io){BLK_IO_READ, fd, &v[0], 1, 0, &v[0]}), ==,
                    0);
    blk_engine_free(e);
    close(fd);
}

static void test_engine_env(void)
{
    struct blk_engine *e = NULL;

    g_setenv("VIREO_BLOCK_ENGINE", "threads", TRUE);
    g_assert_cmpint(blk_engine_new(BLK_ENGINE_AUTO, 4, &e), ==, 0);
    g_assert_cmpstr(blk_engine_name(e), ==, "threads");
    blk_engine_free(e);
    g_unsetenv("VIREO_BLOCK_ENGINE");
    g_assert_cmpint(blk_engine_new(BLK_ENGINE_AUTO, 0, &e), ==, -EINVAL);
}

/* ---- disk queues ---- */

static int queue_run(struct disk_queue *q, struct disk_request *req)
{
    int r = disk_queue_submit(q, req);

    while (r == 0) {
        struct pollfd p = {.fd = disk_queue_event_fd(q), .events = POLLIN};
        struct disk_request *done[4];

        g_assert_cmpint(poll(&p, 1, 5000), ==, 1);
        if (disk_queue_complete(q, done, 4) == 1) {
            g_assert_true(done[0] == req);
            break;
        }
    }
    return req->result;
}

static void test_disk_queue(gconstpointer args)
{
    const int *a = args; /* engine kind, image type, direct */
    g_autofree char *path = g_build_filename(tmpdir, "q.img", NULL);
    struct disk_open_opts o = {.path = path, .direct = a[2], .type = DISK_IMAGE_AUTO};
    struct disk *d = NULL;
    struct disk_queue *q = NULL;
    uint8_t *buf = NULL, *back = NULL;
    struct iovec v[2];
    struct disk_request req;

    if (a[1] == DISK_IMAGE_QCOW2) {
        g_autofree char *cmd = g_strdup_printf("qemu-img create -q -f qcow2 %s 1M", path);

        g_assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, NULL, NULL));
    } else {
        close(tmp_file("q.img", 1 << 20));
    }
    g_assert_cmpint(disk_open(&o, &d, NULL), ==, 0);
    g_assert_cmpint(disk_queue_new(d, a[0], 8, &q), ==, 0);
    g_assert_cmpstr(disk_queue_engine_name(q), ==,
                    a[0] == BLK_ENGINE_URING ? "io_uring" : "threads");
    g_assert_cmpint(posix_memalign((void **)&buf, 4096, 3 * 65536), ==, 0);
    g_assert_cmpint(posix_memalign((void **)&back, 4096, 3 * 65536), ==, 0);
    for (int i = 0; i < 3 * 65536; i++)
        buf[i] = (uint8_t)(i ^ (i >> 8));

    /* Two segments, crossing qcow2 clusters: allocates, then rewrites. */
    v[0] = (struct iovec){buf, 4096};
    v[1] = (struct iovec){buf + 4096, 2 * 65536};
    for (int pass = 0; pass < 2; pass++) {
        req = (struct disk_request){
            .op = DISK_OP_WRITE, .offset = 65536 - 4096, .iov = v, .iovcnt = 2};
        g_assert_cmpint(queue_run(q, &req), ==, 0);
    }
    req = (struct disk_request){.op = DISK_OP_FLUSH};
    g_assert_cmpint(queue_run(q, &req), ==, 0);
    v[0] = (struct iovec){back, 4096 + 2 * 65536};
    req = (struct disk_request){.op = DISK_OP_READ, .offset = 65536 - 4096, .iov = v, .iovcnt = 1};
    g_assert_cmpint(queue_run(q, &req), ==, 0);
    g_assert_true(memcmp(buf, back, 4096 + 2 * 65536) == 0);
    /* Misaligned buffer: the direct path falls back. */
    v[0] = (struct iovec){back + 1, 512};
    req = (struct disk_request){.op = DISK_OP_READ, .offset = 65536 - 4096, .iov = v, .iovcnt = 1};
    g_assert_cmpint(queue_run(q, &req), ==, 0);
    g_assert_true(memcmp(buf, back + 1, 512) == 0);

    req = (struct disk_request){.op = DISK_OP_WRITE_ZEROES, .offset = 65536, .len = 65536};
    g_assert_cmpint(queue_run(q, &req), ==, 0);
    req = (struct disk_request){.op = DISK_OP_DISCARD, .offset = 0, .len = 65536};
    g_assert_cmpint(queue_run(q, &req), ==, 0);
    v[0] = (struct iovec){back, 3 * 65536};
    req = (struct disk_request){.op = DISK_OP_READ, .offset = 0, .iov = v, .iovcnt = 1};
    g_assert_cmpint(queue_run(q, &req), ==, 0);
    for (int i = 0; i < 2 * 65536; i++)
        g_assert_cmpuint(back[i], ==, 0);
    g_assert_true(memcmp(back + 2 * 65536, buf + 4096 + 65536, 65536 - 4096) == 0);

    /* Out of range. */
    v[0] = (struct iovec){back, 512};
    req =
        (struct disk_request){.op = DISK_OP_READ, .offset = (1 << 20) - 256, .iov = v, .iovcnt = 1};
    g_assert_cmpint(queue_run(q, &req), ==, -EINVAL);
    g_assert_cmpuint(disk_queue_inflight(q), ==, 0);
    disk_queue_free(q);
    disk_close(d);

    /* Read-only: writes refused, reads fine. */
    o.readonly = true;
    g_assert_cmpint(disk_open(&o, &d, NULL), ==, 0);
    g_assert_cmpint(disk_queue_new(d, a[0], 8, &q), ==, 0);
    req = (struct disk_request){.op = DISK_OP_WRITE, .offset = 0, .iov = v, .iovcnt = 1};
    g_assert_cmpint(queue_run(q, &req), ==, -EROFS);
    req = (struct disk_request){.op = DISK_OP_DISCARD, .offset = 0, .len = 512};
    g_assert_cmpint(queue_run(q, &req), ==, -EROFS);
    req = (struct disk_request){.op = DISK_OP_FLUSH};
    g_assert_cmpint(queue_run(q, &req), ==, 0);
    disk_queue_free(q);
    disk_close(d);
    free(buf);
    free(back);
    g_unlink(path);
}

int main(int argc, char **argv)
{
    static const int raw_u[] = {BLK_ENGINE_URING, DISK_IMAGE_RAW, 0};
    static const int raw_t[] = {BLK_ENGINE_THREADS, DISK_IMAGE_RAW, 0};
    static const int raw_ud[] = {BLK_ENGINE_URING, DISK_IMAGE_RAW, 1};
    static const int raw_td[] = {BLK_ENGINE_THREADS, DISK_IMAGE_RAW, 1};
    static const int q_u[] = {BLK_ENGINE_URING, DISK_IMAGE_QCOW2, 0};
    static const int q_t[] = {BLK_ENGINE_THREADS, DISK_IMAGE_QCOW2, 0};
    static const int q_ud[] = {BLK_ENGINE_URING, DISK_IMAGE_QCOW2, 1};
    struct blk_engine *probe = NULL;
    bool uring;
    int r;

    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("vireo-engine-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);
    uring = blk_engine_new(BLK_ENGINE_URING, 1, &probe) == 0;
    blk_engine_free(probe);
    if (uring) {
        g_test_add_data_func("/block-engine/io_uring/rw", GINT_TO_POINTER(BLK_ENGINE_URING),
                             test_engine_rw);
        g_test_add_data_func("/block-engine/io_uring/plug", GINT_TO_POINTER(BLK_ENGINE_URING),
                             test_engine_plug);
        g_test_add_data_func("/block-engine/io_uring/depth", GINT_TO_POINTER(BLK_ENGINE_URING),
                             test_engine_depth);
        g_test_add_data_func("/disk-queue/io_uring/raw", raw_u, test_disk_queue);
        g_test_add_data_func("/disk-queue/io_uring/raw-direct", raw_ud, test_disk_queue);
        g_test_add_data_func("/disk-queue/io_uring/qcow2", q_u, test_disk_queue);
        g_test_add_data_func("/disk-queue/io_uring/qcow2-direct", q_ud, test_disk_queue);
    } else {
        g_test_message("io_uring unavailable here: its cases are skipped");
    }
    g_test_add_data_func("/block-engine/threads/rw", GINT_TO_POINTER(BLK_ENGINE_THREADS),
                         test_engine_rw);
    g_test_add_data_func("/block-engine/threads/plug", GINT_TO_POINTER(BLK_ENGINE_THREADS),
                         test_engine_plug);
    g_test_add_data_func("/block-engine/threads/depth", GINT_TO_POINTER(BLK_ENGINE_THREADS),
                         test_engine_depth);
    g_test_add_func("/block-engine/env", test_engine_env);
    g_test_add_data_func("/disk-queue/threads/raw", raw_t, test_disk_queue);
    g_test_add_data_func("/disk-queue/threads/raw-direct", raw_td, test_disk_queue);
    g_test_add_data_func("/disk-queue/threads/qcow2", q_t, test_disk_queue);
    r = g_test_run();
    {
        g_autofree char *p1 = g_build_filename(tmpdir, "engine.img", NULL);
        g_autofree char *p2 = g_build_filename(tmpdir, "depth.img", NULL);

        g_unlink(p1);
        g_unlink(p2);
    }
    g_rmdir(tmpdir);
    g_free(tmpdir);
    return r;
}
