/* Tests for vmm/virtio/console.c: output from the transmit queue reaches a
 * file chardev, input fills receive queue buffers (and waits when there
 * are none), the config space and resizes. Guest memory is a plain buffer;
 * the driver side of both queues is played here. */
#include "virtio/console.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define RAM_SIZE 0x40000
#define QSIZE    8
#define BUFS     0x10000

struct drv_queue {
    uint64_t desc, avail, used;
    uint16_t avail_idx, next_desc;
};

struct fixture {
    uint8_t *ram;
    struct guest_memory mem;
    struct virtio_console *console;
    struct virtio_device vdev;
    struct chardev *chardev;
    char *dir, *path;
    struct virtq q[2];
    struct drv_queue drv[2];
    int kick_fds[2];
    int irq_fd[2], config_irq_fd;
};

static void irq_signal(void *opaque, unsigned int queue)
{
    struct fixture *f = opaque;
    uint64_t one = 1;
    int fd = queue == VIRTIO_INTERRUPT_CONFIG ? f->config_irq_fd : f->irq_fd[queue];

    g_assert_cmpint(write(fd, &one, sizeof(one)), ==, sizeof(one));
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = v;
    p[1] = v >> 8;
}

static void add_buf(struct fixture *f, unsigned int qi, uint64_t gpa, uint32_t len, bool writable)
{
    struct drv_queue *d = &f->drv[qi];
    uint16_t id = d->next_desc;
    uint8_t *desc = f->ram + d->desc + 16 * id;
    uint64_t one = 1;

    for (int b = 0; b < 8; b++)
        desc[b] = gpa >> (8 * b);
    for (int b = 0; b < 4; b++)
        desc[8 + b] = len >> (8 * b);
    put16(desc + 12, writable ? 2 : 0);
    put16(desc + 14, 0);
    d->next_desc = (id + 1) % QSIZE;
    put16(f->ram + d->avail + 4 + 2 * (d->avail_idx % QSIZE), id);
    d->avail_idx++;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    put16(f->ram + d->avail + 2, d->avail_idx);
    g_assert_cmpint(write(f->kick_fds[qi], &one, sizeof(one)), ==, sizeof(one));
}

static bool wait_fd(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    uint64_t n;

    if (poll(&p, 1, ms) != 1)
        return false;
    return read(fd, &n, sizeof(n)) == sizeof(n);
}

static uint16_t used_idx(struct fixture *f, unsigned int qi)
{
    const uint8_t *u = f->ram + f->drv[qi].used;
    return u[2] | u[3] << 8;
}

static uint32_t used_len(struct fixture *f, unsigned int qi, uint16_t slot)
{
    const uint8_t *e = f->ram + f->drv[qi].used + 4 + 8 * (slot % QSIZE) + 4;
    return e[0] | e[1] << 8 | e[2] << 16 | (uint32_t)e[3] << 24;
}

static void fixture_init(struct fixture *f, bool with_chardev, uint16_t cols, uint16_t rows)
{
    g_autofree char *spec = NULL;
    char *err = NULL;

    memset(f, 0, sizeof(*f));
    f->ram = g_malloc0(RAM_SIZE);
    f->mem.regions[0] = (struct guest_region){.gpa = 0, .size = RAM_SIZE, .hva = f->ram};
    f->mem.nr_regions = 1;
    if (with_chardev) {
        f->dir = g_dir_make_tmp("virtio-console-XXXXXX", NULL);
        f->path = g_build_filename(f->dir, "out", NULL);
        spec = g_strdup_printf("file=%s", f->path);
        f->chardev = chardev_new(spec, &err);
        g_assert_null(err);
        g_assert_nonnull(f->chardev);
    }
    f->console = virtio_console_new(f->chardev, cols, rows);
    g_assert_nonnull(f->console);
    virtio_console_device(f->console, NULL, &f->vdev);
    g_assert_cmpuint(f->vdev.ops->device_id, ==, VIRTIO_ID_CONSOLE);
    g_assert_cmpuint(f->vdev.max_queues, ==, 2);
    for (unsigned int i = 0; i < 2; i++) {
        f->drv[i] = (struct drv_queue){
            .desc = 0x1000 + 0x3000 * i, .avail = 0x2000 + 0x3000 * i, .used = 0x3000 + 0x3000 * i};
        f->q[i] = (struct virtq){.mem = &f->mem,
                                 .size = QSIZE,
                                 .desc_gpa = f->drv[i].desc,
                                 .avail_gpa = f->drv[i].avail,
                                 .used_gpa = f->drv[i].used,
                                 .ready = true};
        f->kick_fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        f->irq_fd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    }
    f->config_irq_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

static void activate(struct fixture *f, uint64_t features)
{
    const struct virtio_activation act = {
        .mem = &f->mem,
        .features = features | 1ull << VIRTIO_F_VERSION_1,
        .nr_queues = 2,
        .queues = f->q,
        .kick_fds = f->kick_fds,
        .interrupt = {.signal = irq_signal, .opaque = f},
    };

    g_assert_cmpint(f->vdev.ops->activate(f->vdev.dev, &act), ==, 0);
}

static void fixture_fini(struct fixture *f)
{
    f->vdev.ops->free(f->vdev.dev);
    if (f->chardev) {
        chardev_free(f->chardev);
        g_unlink(f->path);
        g_rmdir(f->dir);
    }
    for (unsigned int i = 0; i < 2; i++) {
        close(f->kick_fds[i]);
        close(f->irq_fd[i]);
    }
    close(f->config_irq_fd);
    g_free(f->path);
    g_free(f->dir);
    g_free(f->ram);
}

static void test_output(void)
{
    struct fixture f;
    g_autofree char *contents = NULL;
    size_t len;

    fixture_init(&f, true, 0, 0);
    memcpy(f.ram + BUFS, "hello, ", 7);
    memcpy(f.ram + BUFS + 0x100, "world\n", 6);
    /* Output queued before DRIVER_OK goes out on activation. */
    add_buf(&f, VIRTIO_CONSOLE_TX, BUFS, 7, false);
    activate(&f, 0);
    g_assert_true(wait_fd(f.irq_fd[VIRTIO_CONSOLE_TX], 5000));
    add_buf(&f, VIRTIO_CONSOLE_TX, BUFS + 0x100, 6, false);
    g_assert_true(wait_fd(f.irq_fd[VIRTIO_CONSOLE_TX], 5000));
    g_assert_cmpuint(used_idx(&f, VIRTIO_CONSOLE_TX), ==, 2);
    g_assert_cmpuint(used_len(&f, VIRTIO_CONSOLE_TX, 0), ==, 0);
    g_assert_true(g_file_get_contents(f.path, &contents, &len, NULL));
    g_assert_cmpstr(contents, ==, "hello, world\n");
    fixture_fini(&f);
}

static void test_input(void)
{
    struct fixture f;

    fixture_init(&f, false, 0, 0);
    /* Before the driver is ready nothing is taken. */
    g_assert_cmpuint(virtio_console_input(f.console, (const uint8_t *)"abc", 3), ==, 0);
    add_buf(&f, VIRTIO_CONSOLE_RX, BUFS, 2, true);
    activate(&f, 0);
    /* A 2-byte buffer takes 2 of 5; the rest waits for more buffers. */
    g_assert_cmpuint(virtio_console_input(f.console, (const uint8_t *)"abcde", 5), ==, 2);
    g_assert_true(wait_fd(f.irq_fd[VIRTIO_CONSOLE_RX], 5000));
    g_assert_cmpuint(used_idx(&f, VIRTIO_CONSOLE_RX), ==, 1);
    g_assert_cmpuint(used_len(&f, VIRTIO_CONSOLE_RX, 0), ==, 2);
    g_assert_cmpmem(f.ram + BUFS, 2, "ab", 2);
    g_assert_cmpuint(virtio_console_input(f.console, (const uint8_t *)"cde", 3), ==, 0);
    /* Two buffers: both are used, each up to its length. */
    add_buf(&f, VIRTIO_CONSOLE_RX, BUFS + 0x100, 2, true);
    add_buf(&f, VIRTIO_CONSOLE_RX, BUFS + 0x200, 16, true);
    g_assert_cmpuint(virtio_console_input(f.console, (const uint8_t *)"cde", 3), ==, 3);
    g_assert_cmpuint(used_idx(&f, VIRTIO_CONSOLE_RX), ==, 3);
    g_assert_cmpuint(used_len(&f, VIRTIO_CONSOLE_RX, 2), ==, 1);
    g_assert_cmpmem(f.ram + BUFS + 0x100, 2, "cd", 2);
    g_assert_cmpmem(f.ram + BUFS + 0x200, 1, "e", 1);
    /* A driver->device buffer on the receive queue takes nothing. */
    add_buf(&f, VIRTIO_CONSOLE_RX, BUFS + 0x300, 16, false);
    g_assert_cmpuint(virtio_console_input(f.console, (const uint8_t *)"x", 1), ==, 0);
    /* A buffer outside RAM breaks the queue; the device survives reset. */
    add_buf(&f, VIRTIO_CONSOLE_RX, RAM_SIZE - 1, 16, true);
    g_assert_cmpuint(virtio_console_input(f.console, (const uint8_t *)"x", 1), ==, 0);
    f.vdev.ops->reset(f.vdev.dev);
    g_assert_cmpuint(virtio_console_input(f.console, (const uint8_t *)"x", 1), ==, 0);
    fixture_fini(&f);
}

static void test_config_and_resize(void)
{
    struct fixture f;
    uint8_t cfg[VIRTIO_CONSOLE_CONFIG_SIZE + 4];

    /* No size known: F_SIZE not offered. */
    fixture_init(&f, false, 0, 0);
    g_assert_cmphex(f.vdev.ops->features(f.vdev.dev), ==, 0);
    fixture_fini(&f);

    fixture_init(&f, false, 80, 25);
    g_assert_cmphex(f.vdev.ops->features(f.vdev.dev), ==, 1ull << VIRTIO_CONSOLE_F_SIZE);
    g_assert_cmpuint(f.vdev.ops->config_size(f.vdev.dev), ==, VIRTIO_CONSOLE_CONFIG_SIZE);
    f.vdev.ops->config_read(f.vdev.dev, 0, cfg, 4);
    g_assert_cmpuint(cfg[0] | cfg[1] << 8, ==, 80);
    g_assert_cmpuint(cfg[2] | cfg[3] << 8, ==, 25);
    f.vdev.ops->config_read(f.vdev.dev, 10, cfg, 4); /* past the end reads zero */
    g_assert_cmphex(cfg[2] | cfg[3], ==, 0);
    f.vdev.ops->config_write(f.vdev.dev, 0, cfg, 4); /* ignored */
    f.vdev.ops->config_read(f.vdev.dev, 0, cfg, 2);
    g_assert_cmpuint(cfg[0], ==, 80);
    /* Resize before activation: no interrupt. Once negotiated: one. */
    virtio_console_resize(f.console, 100, 30);
    g_assert_false(wait_fd(f.config_irq_fd, 0));
    activate(&f, 1ull << VIRTIO_CONSOLE_F_SIZE);
    virtio_console_resize(f.console, 132, 43);
    g_assert_true(wait_fd(f.config_irq_fd, 0));
    f.vdev.ops->config_read(f.vdev.dev, 0, cfg, 4);
    g_assert_cmpuint(cfg[0] | cfg[1] << 8, ==, 132);
    g_assert_cmpuint(cfg[2] | cfg[3] << 8, ==, 43);
    fixture_fini(&f);
}

static void test_input_thread(void)
{
    struct fixture f;

    /* A file chardev has no input: not an error for the core. */
    fixture_init(&f, true, 0, 0);
    g_assert_cmpint(virtio_console_start_input(f.console), ==, -ENOTSUP);
    fixture_fini(&f);
    fixture_init(&f, false, 0, 0);
    g_assert_cmpint(virtio_console_start_input(f.console), ==, -ENOTSUP);
    fixture_fini(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-console/output", test_output);
    g_test_add_func("/virtio-console/input", test_input);
    g_test_add_func("/virtio-console/config-and-resize", test_config_and_resize);
    g_test_add_func("/virtio-console/input-thread", test_input_thread);
    return g_test_run();
}
