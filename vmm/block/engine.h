/* Asynchronous file I/O for disk backends: submit reads, writes and fsyncs,
 * learn of completions through an eventfd. io_uring when the kernel allows
 * it, a thread pool otherwise. An engine belongs to one thread (a virtio-blk
 * queue worker); engines are cheap, make one per queue. */
#ifndef VIREO_VMM_BLOCK_ENGINE_H
#define VIREO_VMM_BLOCK_ENGINE_H

#include <stdint.h>
#include <sys/uio.h>

enum blk_engine_kind {
    BLK_ENGINE_AUTO, /* io_uring if it works, else threads; VIREO_BLOCK_ENGINE overrides */
    BLK_ENGINE_URING,
    BLK_ENGINE_THREADS,
};

enum blk_io_op {
    BLK_IO_READ,
    BLK_IO_WRITE,
    BLK_IO_FSYNC, /* fdatasync semantics */
};

struct blk_io {
    enum blk_io_op op;
    int fd;
    const struct iovec *iov; /* array and buffers stay valid until completion */
    int iovcnt;
    uint64_t offset;
    void *opaque; /* handed back in the completion */
};

struct blk_completion {
    void *opaque;
    int64_t result; /* bytes transferred (may be short), or -errno */
};

struct blk_engine;

/* 0 or -errno. `depth` bounds the I/Os in flight. */
int blk_engine_new(enum blk_engine_kind kind, unsigned int depth, struct blk_engine **out)
    __attribute__((warn_unused_result));
/* Waits for whatever is still in flight, then frees. */
void blk_engine_free(struct blk_engine *e);

const char *blk_engine_name(const struct blk_engine *e);
/* Readable (eventfd counter) whenever completions may be waiting. */
int blk_engine_event_fd(const struct blk_engine *e);
unsigned int blk_engine_inflight(const struct blk_engine *e);

/* 0 when queued, -EAGAIN when `depth` I/Os are in flight, other -errno.
 * Outside a plug the I/O starts at once. */
int blk_engine_submit(struct blk_engine *e, const struct blk_io *io)
    __attribute__((warn_unused_result));
/* Between plug and unplug, submitted I/Os wait and start together at unplug
 * (io_uring: one system call for the batch rather than one each). */
void blk_engine_plug(struct blk_engine *e);
void blk_engine_unplug(struct blk_engine *e);
/* Collects up to `max` completions without blocking; clears the eventfd. */
unsigned int blk_engine_reap(struct blk_engine *e, struct blk_completion *out, unsigned int max);

#endif
