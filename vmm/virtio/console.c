/* virtio-console, one port. Output: a worker thread (started on activation,
 * joined on reset) waits for transmitq kicks and writes each chain's
 * readable buffers to the backend. Input: the backend's reader thread calls
 * virtio_console_input(), which copies into receiveq buffers; when they run
 * out, the rest waits in the backend until the driver adds buffers (a
 * receiveq kick) and the worker tells the backend to offer it again. One
 * mutex guards the queues and the config. */
#include "virtio/console.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

struct virtio_console {
    pthread_mutex_t lock;
    struct chardev *backend;
    uint16_t cols, rows;
    bool offer_size;

    bool active;
    bool input_waiting; /* input was held back for lack of buffers */
    struct virtio_activation act;
    struct virtq *rx, *tx;
    int stop_fd;
    pthread_t worker;
    bool running;
    bool input_started;
    struct virtq_chain chain; /* under lock; large */
    struct log_ratelimit rl;
};

static void console_signal(struct virtio_console *c, unsigned int queue)
{
    c->act.interrupt.signal(c->act.interrupt.opaque, queue);
}

static void console_queue_error(struct virtio_console *c, const char *queue, int err)
{
    unsigned int suppressed;

    if (log_ratelimit(&c->rl, &suppressed))
        log_warn("virtio-console: malformed %s: %s (%u suppressed)", queue, strerror(-err),
                 suppressed);
}

size_t virtio_console_input(struct virtio_console *c, const uint8_t *buf, size_t len)
{
    size_t taken = 0;
    bool pushed = false;
    int ret = 0;

    pthread_mutex_lock(&c->lock);
    if (!c->active || !c->rx) {
        c->input_waiting = true;
        goto out;
    }
    while (taken < len && (ret = virtq_pop(c->rx, &c->chain)) > 0) {
        uint32_t written = 0;
        for (unsigned int i = 0; i < c->chain.nr_bufs && taken < len; i++) {
            const struct virtq_buf *b = &c->chain.bufs[i];
            size_t n = len - taken < b->len ? len - taken : b->len;
            uint8_t *p;
            if (!b->device_writes)
                continue;
            p = guest_memory_ptr(c->act.mem, b->gpa, n);
            if (!p)
                break;
            memcpy(p, buf + taken, n);
            taken += n;
            written += n;
        }
        if (virtq_push(c->rx, c->chain.head, written) < 0)
            break;
        pushed = true;
    }
    if (ret < 0)
        console_queue_error(c, "receiveq", ret);
    c->input_waiting = taken < len;
    if (pushed && virtq_needs_notification(c->rx))
        console_signal(c, VIRTIO_CONSOLE_RX);
out:
    pthread_mutex_unlock(&c->lock);
    return taken;
}

static size_t console_input_cb(void *opaque, const uint8_t *buf, size_t len)
{
    return virtio_console_input(opaque, buf, len);
}

/* With the lock held. */
static void console_transmit(struct virtio_console *c)
{
    bool pushed = false;
    int ret;

    if (!c->tx)
        return;
    while ((ret = virtq_pop(c->tx, &c->chain)) > 0) {
        for (unsigned int i = 0; i < c->chain.nr_bufs; i++) {
            const struct virtq_buf *b = &c->chain.bufs[i];
            const uint8_t *p;
            if (b->device_writes)
                break; /* readable buffers come first */
            p = guest_memory_ptr(c->act.mem, b->gpa, b->len);
            if (p && c->backend && b->len)
                (void)chardev_write(c->backend, p, b->len); /* drops are counted there */
        }
        if (virtq_push(c->tx, c->chain.head, 0) < 0)
            break;
        pushed = true;
    }
    if (ret < 0)
        console_queue_error(c, "transmitq", ret);
    if (pushed && virtq_needs_notification(c->tx))
        console_signal(c, VIRTIO_CONSOLE_TX);
}

static void drain(int fd)
{
    uint64_t count;

    if (read(fd, &count, sizeof(count)) < 0) {
        /* EAGAIN: nothing there. */
    }
}

static void *console_worker(void *opaque)
{
    struct virtio_console *c = opaque;
    struct pollfd fds[3] = {{.fd = c->stop_fd, .events = POLLIN},
                            {.fd = -1, .events = POLLIN},
                            {.fd = -1, .events = POLLIN}};

    if (c->rx)
        fds[1].fd = c->act.kick_fds[VIRTIO_CONSOLE_RX];
    if (c->tx)
        fds[2].fd = c->act.kick_fds[VIRTIO_CONSOLE_TX];
    for (;;) {
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[0].revents)
            break;
        if (fds[1].revents & POLLIN) {
            bool wake;
            drain(fds[1].fd);
            pthread_mutex_lock(&c->lock);
            wake = c->input_waiting;
            pthread_mutex_unlock(&c->lock);
            if (wake && c->backend)
                chardev_input_ready(c->backend);
        }
        if (fds[2].revents & POLLIN) {
            drain(fds[2].fd);
            pthread_mutex_lock(&c->lock);
            console_transmit(c);
            pthread_mutex_unlock(&c->lock);
        }
    }
    return NULL;
}

static uint64_t console_features(void *dev)
{
    struct virtio_console *c = dev;

    return c->offer_size ? 1ull << VIRTIO_CONSOLE_F_SIZE : 0;
}

static uint32_t console_config_size(void *dev)
{
    return VIRTIO_CONSOLE_CONFIG_SIZE;
}

static void console_config_read(void *dev, uint32_t offset, uint8_t *data, uint32_t len)
{
    struct virtio_console *c = dev;
    uint8_t cfg[VIRTIO_CONSOLE_CONFIG_SIZE] = {0};

    pthread_mutex_lock(&c->lock);
    cfg[0] = c->cols;
    cfg[1] = c->cols >> 8;
    cfg[2] = c->rows;
    cfg[3] = c->rows >> 8;
    pthread_mutex_unlock(&c->lock);
    cfg[4] = 1; /* max_nr_ports, meaningful only with MULTIPORT */
    for (uint32_t i = 0; i < len; i++)
        data[i] = offset + i < sizeof(cfg) ? cfg[offset + i] : 0;
}

static void console_config_write(void *dev, uint32_t offset, const uint8_t *data, uint32_t len)
{
    /* emerg_wr needs VIRTIO_CONSOLE_F_EMERG_WRITE, which is not offered. */
}

static int console_activate(void *dev, const struct virtio_activation *act)
{
    struct virtio_console *c = dev;
    int ret;

    if (c->running)
        return -EBUSY;
    pthread_mutex_lock(&c->lock);
    c->act = *act;
    c->rx = act->nr_queues > VIRTIO_CONSOLE_RX && act->queues[VIRTIO_CONSOLE_RX].ready
                ? &act->queues[VIRTIO_CONSOLE_RX]
                : NULL;
    c->tx = act->nr_queues > VIRTIO_CONSOLE_TX && act->queues[VIRTIO_CONSOLE_TX].ready
                ? &act->queues[VIRTIO_CONSOLE_TX]
                : NULL;
    ret = pthread_create(&c->worker, NULL, console_worker, c);
    if (ret == 0) {
        c->running = true;
        c->active = true;
        /* Output queued before DRIVER_OK. */
        console_transmit(c);
    }
    pthread_mutex_unlock(&c->lock);
    if (ret != 0)
        return -ret;
    if (c->backend)
        chardev_input_ready(c->backend);
    return 0;
}

static void console_reset(void *dev)
{
    struct virtio_console *c = dev;
    uint64_t one = 1;

    pthread_mutex_lock(&c->lock);
    c->active = false;
    pthread_mutex_unlock(&c->lock);
    if (c->running) {
        if (write(c->stop_fd, &one, sizeof(one)) < 0) {
            /* Cannot fail for a fresh eventfd counter. */
        }
        pthread_join(c->worker, NULL);
        drain(c->stop_fd);
        c->running = false;
    }
    pthread_mutex_lock(&c->lock);
    c->rx = c->tx = NULL;
    c->input_waiting = false;
    memset(&c->act, 0, sizeof(c->act));
    pthread_mutex_unlock(&c->lock);
}

static void console_free(void *dev)
{
    struct virtio_console *c = dev;

    if (!c)
        return;
    /* The input thread may be inside virtio_console_input(): stop it first. */
    if (c->input_started)
        chardev_stop_input(c->backend);
    console_reset(c);
    close(c->stop_fd);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static const struct virtio_device_ops console_ops = {
    .device_id = VIRTIO_ID_CONSOLE,
    .features = console_features,
    .config_size = console_config_size,
    .config_read = console_config_read,
    .config_write = console_config_write,
    .activate = console_activate,
    .reset = console_reset,
    .free = console_free,
};

struct virtio_console *virtio_console_new(struct chardev *backend, uint16_t cols, uint16_t rows)
{
    struct virtio_console *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (c->stop_fd < 0) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    c->backend = backend;
    c->cols = cols;
    c->rows = rows;
    c->offer_size = cols && rows;
    c->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(5);
    return c;
}

void virtio_console_device(struct virtio_console *c, const char *id, struct virtio_device *out)
{
    virtio_device_init(out, &console_ops, c, 2, VIRTIO_CONSOLE_QUEUE_SIZE, id, "console0");
}

int virtio_console_start_input(struct virtio_console *c)
{
    int ret;

    if (!c->backend)
        return -ENOTSUP;
    ret = chardev_start_input(c->backend, console_input_cb, c);
    if (ret == 0)
        c->input_started = true;
    return ret;
}

void virtio_console_resize(struct virtio_console *c, uint16_t cols, uint16_t rows)
{
    bool tell;

    pthread_mutex_lock(&c->lock);
    c->cols = cols;
    c->rows = rows;
    tell = c->active && (c->act.features & (1ull << VIRTIO_CONSOLE_F_SIZE));
    if (tell)
        console_signal(c, VIRTIO_INTERRUPT_CONFIG);
    pthread_mutex_unlock(&c->lock);
}
