/* The io_uring engine: one ring per engine, completions signalled on the
 * engine's eventfd through io_uring_register_eventfd(). Submissions wait in
 * the ring until a kick hands them to the kernel. */
#include "config.h"

#include "block/engine_impl.h"

#include <errno.h>
#include <glib.h>
#include <liburing.h>

static int uring_init(struct blk_engine *e)
{
    struct io_uring *ring = g_new0(struct io_uring, 1);
    int r;

    r = io_uring_queue_init(e->depth, ring, 0);
    if (r < 0) {
        g_free(ring);
        return r;
    }
    r = io_uring_register_eventfd(ring, e->efd);
    if (r < 0) {
        io_uring_queue_exit(ring);
        g_free(ring);
        return r;
    }
    e->priv = ring;
    return 0;
}

/* Hands the queued entries to the kernel. What it refuses for now (no
 * memory, completions to reap first) stays in the ring for the next kick. */
static void uring_kick(struct blk_engine *e)
{
    int r;

    do
        r = io_uring_submit(e->priv);
    while (r == -EINTR);
}

static int uring_submit(struct blk_engine *e, const struct blk_io *io)
{
    struct io_uring *ring = e->priv;
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

    if (!sqe) {
        /* The ring is full of entries not yet handed over. */
        uring_kick(e);
        sqe = io_uring_get_sqe(ring);
        if (!sqe)
            return -EAGAIN;
    }
    switch (io->op) {
    case BLK_IO_READ:
        io_uring_prep_readv(sqe, io->fd, io->iov, io->iovcnt, io->offset);
        break;
    case BLK_IO_WRITE:
        io_uring_prep_writev(sqe, io->fd, io->iov, io->iovcnt, io->offset);
        break;
    case BLK_IO_FSYNC:
        io_uring_prep_fsync(sqe, io->fd, IORING_FSYNC_DATASYNC);
        break;
    }
    io_uring_sqe_set_data(sqe, io->opaque);
    return 0;
}

static unsigned int uring_reap(struct blk_engine *e, struct blk_completion *out, unsigned int max)
{
    struct io_uring *ring = e->priv;
    struct io_uring_cqe *cqe;
    unsigned int n = 0;

    while (n < max && io_uring_peek_cqe(ring, &cqe) == 0) {
        out[n].opaque = io_uring_cqe_get_data(cqe);
        out[n].result = cqe->res;
        io_uring_cqe_seen(ring, cqe);
        n++;
    }
    return n;
}

static void uring_fini(struct blk_engine *e)
{
    io_uring_queue_exit(e->priv);
    g_free(e->priv);
}

const struct blk_engine_ops blk_engine_uring_ops = {
    .name = "io_uring",
    .init = uring_init,
    .submit = uring_submit,
    .kick = uring_kick,
    .reap = uring_reap,
    .fini = uring_fini,
};
