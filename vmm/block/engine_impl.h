/* What engine.c expects of an I/O engine implementation. Private to block/. */
#ifndef VIREO_VMM_BLOCK_ENGINE_IMPL_H
#define VIREO_VMM_BLOCK_ENGINE_IMPL_H

#include "block/engine.h"

#include <stdbool.h>

struct blk_engine_ops {
    const char *name;
    /* Sets e->priv; e->efd and e->depth are ready. 0 or -errno. */
    int (*init)(struct blk_engine *e);
    /* Queues one I/O; it starts at the next kick. */
    int (*submit)(struct blk_engine *e, const struct blk_io *io);
    /* Starts what submit queued. NULL when submit starts I/O by itself. */
    void (*kick)(struct blk_engine *e);
    unsigned int (*reap)(struct blk_engine *e, struct blk_completion *out, unsigned int max);
    void (*fini)(struct blk_engine *e);
};

struct blk_engine {
    const struct blk_engine_ops *ops;
    int efd;
    unsigned int depth;
    unsigned int inflight;
    bool plugged;
    void *priv;
};

extern const struct blk_engine_ops blk_engine_uring_ops;
extern const struct blk_engine_ops blk_engine_threads_ops;

#endif
