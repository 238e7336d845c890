/* Picks an I/O engine at run time and keeps the bookkeeping common to all. */
#include "config.h"

#include "block/engine.h"
#include "block/engine_impl.h"

#include <errno.h>
#include <glib.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static int engine_try(const struct blk_engine_ops *ops, unsigned int depth, struct blk_engine **out)
{
    struct blk_engine *e = g_new0(struct blk_engine, 1);
    int r;

    e->ops = ops;
    e->depth = depth;
    e->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (e->efd < 0) {
        r = -errno;
        g_free(e);
        return r;
    }
    r = ops->init(e);
    if (r < 0) {
        close(e->efd);
        g_free(e);
        return r;
    }
    *out = e;
    return 0;
}

int blk_engine_new(enum blk_engine_kind kind, unsigned int depth, struct blk_engine **out)
{
    const char *env = getenv("VIREO_BLOCK_ENGINE");
    int r;

    if (depth == 0 || depth > 4096)
        return -EINVAL;
    if (kind == BLK_ENGINE_AUTO && env && *env) {
        if (!strcmp(env, "threads"))
            kind = BLK_ENGINE_THREADS;
        else if (!strcmp(env, "io_uring"))
            kind = BLK_ENGINE_URING;
    }
    if (kind == BLK_ENGINE_THREADS)
        return engine_try(&blk_engine_threads_ops, depth, out);
    r = engine_try(&blk_engine_uring_ops, depth, out);
    if (r == 0 || kind == BLK_ENGINE_URING)
        return r;
    /* io_uring missing or forbidden (old kernel, seccomp, sysctl). */
    return engine_try(&blk_engine_threads_ops, depth, out);
}

void blk_engine_free(struct blk_engine *e)
{
    struct blk_completion c[32];

    if (!e)
        return;
    blk_engine_unplug(e);
    while (e->inflight) {
        struct pollfd p = {.fd = e->efd, .events = POLLIN};

        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            break;
        blk_engine_reap(e, c, G_N_ELEMENTS(c));
    }
    e->ops->fini(e);
    close(e->efd);
    g_free(e);
}

const char *blk_engine_name(const struct blk_engine *e)
{
    return e->ops->name;
}

int blk_engine_event_fd(const struct blk_engine *e)
{
    return e->efd;
}

unsigned int blk_engine_inflight(const struct blk_engine *e)
{
    return e->inflight;
}

int blk_engine_submit(struct blk_engine *e, const struct blk_io *io)
{
    int r;

    if (e->inflight >= e->depth)
        return -EAGAIN;
    r = e->ops->submit(e, io);
    if (r < 0)
        return r;
    e->inflight++;
    if (!e->plugged && e->ops->kick)
        e->ops->kick(e);
    return 0;
}

void blk_engine_plug(struct blk_engine *e)
{
    e->plugged = true;
}

void blk_engine_unplug(struct blk_engine *e)
{
    if (e->plugged && e->ops->kick)
        e->ops->kick(e);
    e->plugged = false;
}

unsigned int blk_engine_reap(struct blk_engine *e, struct blk_completion *out, unsigned int max)
{
    uint64_t v;
    unsigned int n;

    /* Clear first: a completion racing with us re-arms the counter. */
    if (read(e->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        return 0;
    n = e->ops->reap(e, out, max);
    e->inflight -= n;
    if (n == max && e->inflight) {
        /* More may be waiting: keep the fd readable for the caller. */
        v = 1;
        if (write(e->efd, &v, sizeof(v)) < 0)
            return n;
    }
    return n;
}
