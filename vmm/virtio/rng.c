/* virtio-rng. A worker thread, started on activation and joined on reset,
 * waits for the request queue's kick, fills every device-writable buffer
 * of each chain with bytes read from the source and returns the chain. */
#include "virtio/rng.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

struct virtio_rng {
    int source_fd;
    int stop_fd;
    pthread_t worker;
    bool running;
    struct virtio_activation act;
    struct virtq *q;
    int kick_fd;
    struct virtq_chain chain; /* large: kept off the worker's stack */
    struct log_ratelimit rl;
};

/* Fills one buffer; returns the bytes written, stopping early when the
 * source fails or ends. */
static uint32_t rng_fill(struct virtio_rng *rng, const struct virtq_buf *buf, bool *source_ok)
{
    uint8_t *p = guest_memory_ptr(rng->act.mem, buf->gpa, buf->len);
    uint32_t done = 0;

    if (!p)
        return 0; /* the queue checked it; a region change would land here */
    while (done < buf->len) {
        ssize_t n = read(rng->source_fd, p + done, buf->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *source_ok = false;
            break;
        }
        done += n;
    }
    return done;
}

static void rng_process(struct virtio_rng *rng)
{
    unsigned int suppressed;
    bool source_ok = true;
    bool pushed = false;
    int ret;

    while (source_ok && (ret = virtq_pop(rng->q, &rng->chain)) > 0) {
        uint32_t written = 0;
        for (unsigned int i = 0; i < rng->chain.nr_bufs && source_ok; i++) {
            if (rng->chain.bufs[i].device_writes)
                written += rng_fill(rng, &rng->chain.bufs[i], &source_ok);
        }
        if (virtq_push(rng->q, rng->chain.head, written) < 0)
            break;
        pushed = true;
    }
    if (ret < 0 && log_ratelimit(&rng->rl, &suppressed))
        log_warn("virtio-rng: malformed request queue: %s (%u suppressed)", strerror(-ret),
                 suppressed);
    if (!source_ok && log_ratelimit(&rng->rl, &suppressed))
        log_warn("virtio-rng: entropy source failed (%u suppressed)", suppressed);
    if (pushed && virtq_needs_notification(rng->q))
        rng->act.interrupt.signal(rng->act.interrupt.opaque, 0);
}

static void *rng_worker(void *opaque)
{
    struct virtio_rng *rng = opaque;
    struct pollfd fds[2] = {{.fd = rng->stop_fd, .events = POLLIN},
                            {.fd = rng->kick_fd, .events = POLLIN}};
    uint64_t count;

    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[0].revents)
            break;
        if (fds[1].revents & POLLIN) {
            if (read(rng->kick_fd, &count, sizeof(count)) < 0) {
                /* EAGAIN: another reader got it; process anyway. */
            }
            rng_process(rng);
        }
    }
    return NULL;
}

static uint64_t rng_features(void *dev)
{
    return 0;
}

static uint32_t rng_config_size(void *dev)
{
    return 0;
}

static int rng_activate(void *dev, const struct virtio_activation *act)
{
    struct virtio_rng *rng = dev;
    uint64_t one = 1;
    int ret;

    if (rng->running)
        return -EBUSY;
    if (act->nr_queues < 1 || !act->queues[0].ready)
        return -EINVAL;
    rng->act = *act;
    rng->q = &act->queues[0];
    rng->kick_fd = act->kick_fds[0];
    ret = pthread_create(&rng->worker, NULL, rng_worker, rng);
    if (ret != 0)
        return -ret;
    rng->running = true;
    /* Buffers made available before DRIVER_OK are served at once. */
    if (write(rng->kick_fd, &one, sizeof(one)) < 0) {
        /* EAGAIN: a kick is already pending. */
    }
    return 0;
}

static void rng_reset(void *dev)
{
    struct virtio_rng *rng = dev;
    uint64_t one = 1, count;

    if (!rng->running)
        return;
    if (write(rng->stop_fd, &one, sizeof(one)) < 0) {
        /* Cannot fail for a fresh eventfd counter. */
    }
    pthread_join(rng->worker, NULL);
    if (read(rng->stop_fd, &count, sizeof(count)) < 0) {
        /* Already drained. */
    }
    rng->running = false;
    rng->q = NULL;
    memset(&rng->act, 0, sizeof(rng->act));
}

static void rng_free(void *dev)
{
    struct virtio_rng *rng = dev;

    if (!rng)
        return;
    rng_reset(rng);
    close(rng->stop_fd);
    close(rng->source_fd);
    free(rng);
}

static const struct virtio_device_ops rng_ops = {
    .device_id = VIRTIO_ID_RNG,
    .features = rng_features,
    .config_size = rng_config_size,
    .activate = rng_activate,
    .reset = rng_reset,
    .free = rng_free,
};

struct virtio_rng *virtio_rng_new(int source_fd)
{
    struct virtio_rng *rng = calloc(1, sizeof(*rng));

    if (!rng) {
        close(source_fd);
        return NULL;
    }
    rng->source_fd = source_fd;
    rng->kick_fd = -1;
    rng->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(5);
    rng->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (rng->stop_fd < 0) {
        close(source_fd);
        free(rng);
        return NULL;
    }
    return rng;
}

void virtio_rng_device(struct virtio_rng *rng, const char *id, struct virtio_device *out)
{
    virtio_device_init(out, &rng_ops, rng, 1, VIRTIO_RNG_QUEUE_SIZE, id, "rng0");
}
