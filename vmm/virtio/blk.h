/* virtio-blk (virtio 1.x, section 5.2): a disk image behind one or more
 * request queues, each served by its own worker thread. Request parsing is a
 * pure function over guest memory so tests and fuzzers can drive it alone. */
#ifndef VIREO_VMM_VIRTIO_BLK_H
#define VIREO_VMM_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "block/disk.h"
#include "guest_memory.h"
#include "virtio/device.h"
#include "virtio/queue.h"

#define VIRTIO_BLK_F_SIZE_MAX     1
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_MQ           12
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_SECTOR_SIZE   512u
#define VIRTIO_BLK_ID_BYTES      20u
#define VIRTIO_BLK_HDR_SIZE      16u
#define VIRTIO_BLK_CONFIG_SIZE   60u
#define VIRTIO_BLK_DISCARD_UNMAP 1u

struct virtio_blk_opts {
    const char *path;
    bool readonly;
    bool direct;
    unsigned int num_queues; /* 0 means 1 */
    uint16_t queue_size;     /* 0 means 128; a power of two */
    const char *id;          /* user-visible device id */
    const char *serial;      /* GET_ID answer, at most 20 bytes used; NULL: id */
    enum disk_image_type image_type;
};

/* Opens the image and fills *vdev (ops, dev, max_queues, max_queue_size, id).
 * 0 or -errno with *err saying why. vdev->ops->free(vdev->dev) releases it. */
int virtio_blk_new(const struct virtio_blk_opts *opts, struct virtio_device *vdev, char **err)
    __attribute__((warn_unused_result));

/* ---- request parsing ---- */

/* What the device accepts, for checking a request against. */
struct blk_limits {
    uint64_t capacity; /* sectors */
    bool readonly;
    uint64_t max_data; /* bytes of data in one IN/OUT request */
    uint32_t max_discard_sectors;
    uint32_t max_write_zeroes_sectors;
};

struct blk_seg {
    uint64_t gpa;
    uint32_t len;
};

struct blk_request {
    uint32_t type;
    uint64_t sector;
    uint8_t status;      /* VIRTIO_BLK_S_OK: to be executed; otherwise the answer */
    uint64_t status_gpa; /* the last writable byte of the chain */
    uint64_t data_len;
    unsigned int nr_segs;
    struct blk_seg segs[VIRTQ_MAX_CHAIN]; /* IN/OUT/GET_ID data, header and status excluded */
    /* DISCARD and WRITE_ZEROES: the single segment. */
    uint64_t zero_sector;
    uint32_t zero_sectors;
    uint32_t zero_flags;
};

/* Parses a popped chain. 0 with *req filled, req->status telling whether to
 * execute it; -EINVAL when the chain has no status byte to answer in. */
int blk_request_parse(const struct guest_memory *mem, const struct virtq_chain *chain,
                      const struct blk_limits *lim, struct blk_request *req)
    __attribute__((warn_unused_result));

#endif
