/* Disk images as the block devices see them: a virtual disk of `size` bytes
 * in some image format (raw, qcow2) read and written either synchronously or
 * through per-thread asynchronous queues backed by an I/O engine. */
#ifndef VIREO_VMM_BLOCK_DISK_H
#define VIREO_VMM_BLOCK_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "block/engine.h"

enum disk_image_type {
    DISK_IMAGE_AUTO, /* qcow2 when the file starts with its magic, raw otherwise */
    DISK_IMAGE_RAW,
    DISK_IMAGE_QCOW2,
};

struct disk_open_opts {
    const char *path;
    bool readonly; /* opened O_RDONLY; writes fail with -EROFS */
    bool direct;   /* O_DIRECT for data; misaligned requests fall back to buffered */
    enum disk_image_type type;
};

struct disk;

/* 0 or -errno; *err (if not NULL) then says why, for the user. */
int disk_open(const struct disk_open_opts *opts, struct disk **out, char **err)
    __attribute__((warn_unused_result));
/* The same on a file already open (takes `fd`; opts->path only names it
 * and anchors a relative backing file name). Used by fuzzers on memfds. */
int disk_open_fd(int fd, const struct disk_open_opts *opts, struct disk **out, char **err)
    __attribute__((warn_unused_result));
void disk_close(struct disk *d);

uint64_t disk_size(const struct disk *d);
bool disk_readonly(const struct disk *d);
const char *disk_format_name(const struct disk *d);
enum disk_image_type disk_probe_type(int fd);

/* Synchronous I/O on the calling thread. Out-of-range requests: -EINVAL. */
int disk_pread(struct disk *d, void *buf, size_t len, uint64_t offset)
    __attribute__((warn_unused_result));
int disk_pwrite(struct disk *d, const void *buf, size_t len, uint64_t offset)
    __attribute__((warn_unused_result));
int disk_flush(struct disk *d) __attribute__((warn_unused_result));
/* Zeroes [offset, offset + len); `discard` allows deallocating the range. */
int disk_zero(struct disk *d, uint64_t offset, uint64_t len, bool discard)
    __attribute__((warn_unused_result));

/* Asynchronous requests, one queue per worker thread. */
enum disk_op {
    DISK_OP_READ,
    DISK_OP_WRITE,
    DISK_OP_FLUSH,
    DISK_OP_DISCARD,
    DISK_OP_WRITE_ZEROES,
};

struct disk_request {
    enum disk_op op;
    uint64_t offset;
    uint64_t len; /* DISCARD and WRITE_ZEROES only; READ/WRITE use the iovec */
    const struct iovec *iov;
    int iovcnt;
    void *opaque;
    int result; /* 0 or -errno once complete */
    /* Private to disk.c. */
    unsigned int pending;
};

struct disk_queue;

int disk_queue_new(struct disk *d, enum blk_engine_kind kind, unsigned int depth,
                   struct disk_queue **out) __attribute__((warn_unused_result));
/* Waits for requests in flight (their memory stays in use until then). */
void disk_queue_free(struct disk_queue *q);
int disk_queue_event_fd(const struct disk_queue *q);
const char *disk_queue_engine_name(const struct disk_queue *q);
unsigned int disk_queue_inflight(const struct disk_queue *q);

/* 1 when the request completed at once (req->result is set), 0 when it is in
 * flight and will come back from disk_queue_complete(). The iovec and the
 * request stay untouched by the caller until then. */
int disk_queue_submit(struct disk_queue *q, struct disk_request *req);
/* Requests submitted between plug and unplug start together at unplug. */
void disk_queue_plug(struct disk_queue *q);
void disk_queue_unplug(struct disk_queue *q);
/* Requests that finished since the last call, without blocking. */
unsigned int disk_queue_complete(struct disk_queue *q, struct disk_request **done,
                                 unsigned int max);

#endif
