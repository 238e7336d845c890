/* Tests for vmm/virtio/rng.c: the driver side of the request queue is
 * played here on a plain buffer as guest memory; the entropy source is a
 * pipe with known bytes. */
#include "virtio/rng.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define RAM_SIZE 0x40000
#define QSIZE    16
#define DESC     0x1000
#define AVAIL    0x2000
#define USED     0x3000
#define BUFS     0x10000

struct fixture {
    uint8_t *ram;
    struct guest_memory mem;
    struct virtio_device vdev;
    struct virtq q;
    int kick_fd, irq_fd;
    int source[2];
    uint16_t avail_idx, next_desc;
};

static void irq_signal(void *opaque, unsigned int queue)
{
    struct fixture *f = opaque;
    uint64_t one = 1;

    g_assert_cmpuint(queue, ==, 0);
    g_assert_cmpint(write(f->irq_fd, &one, sizeof(one)), ==, sizeof(one));
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = v;
    p[1] = v >> 8;
}

static uint32_t get32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Makes one chain of `n` buffers available and kicks. */
static void add_chain(struct fixture *f, const uint64_t *gpa, const uint32_t *len,
                      const bool *writable, unsigned int n)
{
    uint16_t head = f->next_desc;
    uint64_t one = 1;

    for (unsigned int i = 0; i < n; i++) {
        uint16_t id = (head + i) % QSIZE;
        uint8_t *d = f->ram + DESC + 16 * id;
        uint16_t flags = (i + 1 < n ? 1 : 0) | (writable[i] ? 2 : 0);
        for (int b = 0; b < 8; b++)
            d[b] = gpa[i] >> (8 * b);
        for (int b = 0; b < 4; b++)
            d[8 + b] = len[i] >> (8 * b);
        put16(d + 12, flags);
        put16(d + 14, (id + 1) % QSIZE);
    }
    f->next_desc = (head + n) % QSIZE;
    put16(f->ram + AVAIL + 4 + 2 * (f->avail_idx % QSIZE), head);
    f->avail_idx++;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    put16(f->ram + AVAIL + 2, f->avail_idx);
    g_assert_cmpint(write(f->kick_fd, &one, sizeof(one)), ==, sizeof(one));
}

static bool wait_irq(struct fixture *f)
{
    struct pollfd p = {.fd = f->irq_fd, .events = POLLIN};
    uint64_t n;

    if (poll(&p, 1, 5000) != 1)
        return false;
    return read(f->irq_fd, &n, sizeof(n)) == sizeof(n);
}

static uint16_t used_idx(struct fixture *f)
{
    return f->ram[USED + 2] | f->ram[USED + 3] << 8;
}

static uint32_t used_len(struct fixture *f, uint16_t slot)
{
    return get32(f->ram + USED + 4 + 8 * (slot % QSIZE) + 4);
}

static void fixture_init(struct fixture *f)
{
    struct virtio_rng *rng;

    memset(f, 0, sizeof(*f));
    f->ram = g_malloc0(RAM_SIZE);
    f->mem.regions[0] = (struct guest_region){.gpa = 0, .size = RAM_SIZE, .hva = f->ram};
    f->mem.nr_regions = 1;
    g_assert_cmpint(pipe(f->source), ==, 0);
    rng = virtio_rng_new(f->source[0]);
    g_assert_nonnull(rng);
    virtio_rng_device(rng, "rng0", &f->vdev);
    g_assert_cmpuint(f->vdev.ops->device_id, ==, VIRTIO_ID_RNG);
    g_assert_cmpuint(f->vdev.max_queues, ==, 1);
    g_assert_cmpstr(f->vdev.id, ==, "rng0");
    f->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    f->irq_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    f->q = (struct virtq){.mem = &f->mem,
                          .size = QSIZE,
                          .desc_gpa = DESC,
                          .avail_gpa = AVAIL,
                          .used_gpa = USED,
                          .ready = true};
}

static void activate(struct fixture *f)
{
    const struct virtio_activation act = {
        .mem = &f->mem,
        .features = 1ull << VIRTIO_F_VERSION_1,
        .nr_queues = 1,
        .queues = &f->q,
        .kick_fds = &f->kick_fd,
        .interrupt = {.signal = irq_signal, .opaque = f},
    };

    g_assert_cmpint(f->vdev.ops->activate(f->vdev.dev, &act), ==, 0);
}

static void fixture_fini(struct fixture *f)
{
    f->vdev.ops->free(f->vdev.dev); /* closes source[0] */
    close(f->source[1]);
    close(f->kick_fd);
    close(f->irq_fd);
    g_free(f->ram);
}

static void test_fill(void)
{
    struct fixture f;
    uint8_t pattern[96];
    const uint64_t gpa[2] = {BUFS, BUFS + 0x1000};
    const uint32_t len[2] = {32, 64};
    const bool wr[2] = {true, true};

    fixture_init(&f);
    g_assert_cmpuint(f.vdev.ops->features(f.vdev.dev), ==, 0);
    g_assert_cmpuint(f.vdev.ops->config_size(f.vdev.dev), ==, 0);
    for (unsigned int i = 0; i < sizeof(pattern); i++)
        pattern[i] = i * 7 + 1;
    g_assert_cmpint(write(f.source[1], pattern, sizeof(pattern)), ==, sizeof(pattern));
    activate(&f);
    add_chain(&f, gpa, len, wr, 2);
    g_assert_true(wait_irq(&f));
    g_assert_cmpuint(used_idx(&f), ==, 1);
    g_assert_cmpuint(used_len(&f, 0), ==, 96);
    g_assert_cmpmem(f.ram + BUFS, 32, pattern, 32);
    g_assert_cmpmem(f.ram + BUFS + 0x1000, 64, pattern + 32, 64);
    /* A second request, after a reset and a new activation. */
    f.vdev.ops->reset(f.vdev.dev);
    g_assert_cmpint(write(f.source[1], pattern, 16), ==, 16);
    activate(&f);
    add_chain(&f, gpa, (const uint32_t[]){16}, wr, 1);
    g_assert_true(wait_irq(&f));
    g_assert_cmpuint(used_idx(&f), ==, 2);
    g_assert_cmpuint(used_len(&f, 1), ==, 16);
    fixture_fini(&f);
}

static void test_source_ends_and_readable_buffers(void)
{
    struct fixture f;
    const uint64_t gpa[1] = {BUFS};
    const bool ro[1] = {false}, wr[1] = {true};

    fixture_init(&f);
    activate(&f);
    /* Only a driver->device buffer: nothing written. */
    add_chain(&f, gpa, (const uint32_t[]){64}, ro, 1);
    g_assert_true(wait_irq(&f));
    g_assert_cmpuint(used_idx(&f), ==, 1);
    g_assert_cmpuint(used_len(&f, 0), ==, 0);
    /* The source ends after 10 bytes: a short fill, the device carries on. */
    g_assert_cmpint(write(f.source[1], "0123456789", 10), ==, 10);
    close(f.source[1]);
    f.source[1] = open("/dev/null", O_RDONLY);
    add_chain(&f, gpa, (const uint32_t[]){64}, wr, 1);
    g_assert_true(wait_irq(&f));
    g_assert_cmpuint(used_idx(&f), ==, 2);
    g_assert_cmpuint(used_len(&f, 1), ==, 10);
    g_assert_cmpmem(f.ram + BUFS, 10, "0123456789", 10);
    fixture_fini(&f);
}

static void test_bad_descriptor(void)
{
    struct fixture f;
    const uint64_t gpa[1] = {RAM_SIZE - 8};
    const bool wr[1] = {true};
    struct pollfd p;

    fixture_init(&f);
    activate(&f);
    /* A buffer that runs past RAM: the queue breaks, nothing is used, the
     * VMM survives and a reset brings the device back. */
    add_chain(&f, gpa, (const uint32_t[]){64}, wr, 1);
    p = (struct pollfd){.fd = f.irq_fd, .events = POLLIN};
    g_assert_cmpint(poll(&p, 1, 200), ==, 0);
    g_assert_cmpuint(used_idx(&f), ==, 0);
    f.vdev.ops->reset(f.vdev.dev);
    f.vdev.ops->reset(f.vdev.dev); /* twice is harmless */
    fixture_fini(&f);
}

static void test_activate_without_queue(void)
{
    struct fixture f;
    struct virtio_activation act = {.mem = NULL, .nr_queues = 0};

    fixture_init(&f);
    act.mem = &f.mem;
    act.queues = &f.q;
    act.kick_fds = &f.kick_fd;
    g_assert_cmpint(f.vdev.ops->activate(f.vdev.dev, &act), ==, -EINVAL);
    fixture_fini(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-rng/fill", test_fill);
    g_test_add_func("/virtio-rng/source-ends-and-readable-buffers",
                    test_source_ends_and_readable_buffers);
    g_test_add_func("/virtio-rng/bad-descriptor", test_bad_descriptor);
    g_test_add_func("/virtio-rng/activate-without-queue", test_activate_without_queue);
    return g_test_run();
}
