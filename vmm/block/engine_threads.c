/* The thread-pool engine, for hosts where io_uring is unavailable: a few
 * threads run blocking preadv/pwritev/fdatasync. */
#include "config.h"

#include "block/engine_impl.h"

#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#define POOL_THREADS 4

struct pool_job {
    struct blk_io io;
    int64_t result;
};

struct pool {
    GMutex lock;
    GCond cond;
    GQueue todo; /* of struct pool_job */
    GQueue done;
    bool stop;
    int efd;
    unsigned int nr_threads;
    GThread *threads[POOL_THREADS];
};

static int64_t job_run(const struct blk_io *io)
{
    ssize_t r = 0;

    switch (io->op) {
    case BLK_IO_READ:
        r = preadv(io->fd, io->iov, io->iovcnt, (off_t)io->offset);
        break;
    case BLK_IO_WRITE:
        r = pwritev(io->fd, io->iov, io->iovcnt, (off_t)io->offset);
        break;
    case BLK_IO_FSYNC:
        r = fdatasync(io->fd);
        break;
    }
    return r < 0 ? -errno : r;
}

static gpointer pool_thread(gpointer opaque)
{
    struct pool *p = opaque;

    g_mutex_lock(&p->lock);
    for (;;) {
        struct pool_job *job;
        uint64_t one = 1;

        while (!p->stop && g_queue_is_empty(&p->todo))
            g_cond_wait(&p->cond, &p->lock);
        if (p->stop)
            break;
        job = g_queue_pop_head(&p->todo);
        g_mutex_unlock(&p->lock);
        job->result = job_run(&job->io);
        g_mutex_lock(&p->lock);
        g_queue_push_tail(&p->done, job);
        if (write(p->efd, &one, sizeof(one)) < 0) {
            /* The counter cannot overflow in practice; nothing to do. */
        }
    }
    g_mutex_unlock(&p->lock);
    return NULL;
}

static int pool_init(struct blk_engine *e)
{
    struct pool *p = g_new0(struct pool, 1);

    g_mutex_init(&p->lock);
    g_cond_init(&p->cond);
    g_queue_init(&p->todo);
    g_queue_init(&p->done);
    p->efd = e->efd;
    p->nr_threads = MIN(e->depth, POOL_THREADS);
    for (unsigned int i = 0; i < p->nr_threads; i++)
        p->threads[i] = g_thread_new("blk-pool", pool_thread, p);
    e->priv = p;
    return 0;
}

static int pool_submit(struct blk_engine *e, const struct blk_io *io)
{
    struct pool *p = e->priv;
    struct pool_job *job = g_new0(struct pool_job, 1);

    job->io = *io;
    g_mutex_lock(&p->lock);
    g_queue_push_tail(&p->todo, job);
    g_cond_signal(&p->cond);
    g_mutex_unlock(&p->lock);
    return 0;
}

static unsigned int pool_reap(struct blk_engine *e, struct blk_completion *out, unsigned int max)
{
    struct pool *p = e->priv;
    unsigned int n = 0;

    g_mutex_lock(&p->lock);
    while (n < max && !g_queue_is_empty(&p->done)) {
        struct pool_job *job = g_queue_pop_head(&p->done);

        out[n].opaque = job->io.opaque;
        out[n].result = job->result;
        g_free(job);
        n++;
    }
    g_mutex_unlock(&p->lock);
    return n;
}

static void pool_fini(struct blk_engine *e)
{
    struct pool *p = e->priv;

    g_mutex_lock(&p->lock);
    p->stop = true;
    g_cond_broadcast(&p->cond);
    g_mutex_unlock(&p->lock);
    for (unsigned int i = 0; i < p->nr_threads; i++)
        g_thread_join(p->threads[i]);
    g_queue_clear_full(&p->todo, g_free);
    g_queue_clear_full(&p->done, g_free);
    g_mutex_clear(&p->lock);
    g_cond_clear(&p->cond);
    g_free(p);
}

const struct blk_engine_ops blk_engine_threads_ops = {
    .name = "threads",
    .init = pool_init,
    .submit = pool_submit,
    .reap = pool_reap,
    .fini = pool_fini,
};
