/* Split virtqueues (virtio 1.x, section 2.7) as the device side walks them:
 * pop a descriptor chain the driver made available, push it back used. Every
 * address, index and length read from the guest is checked here. */
#ifndef VIREO_VMM_VIRTIO_QUEUE_H
#define VIREO_VMM_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "guest_memory.h"

#define VIRTQ_MAX_SIZE 32768
/* The longest chain a device accepts, counting indirect descriptors. */
#define VIRTQ_MAX_CHAIN 1024

/* One virtqueue's state, set up by the transport from what the driver wrote. */
struct virtq {
    const struct guest_memory *mem;
    uint16_t size; /* power of two, <= the device's maximum */
    uint64_t desc_gpa;
    uint64_t avail_gpa;
    uint64_t used_gpa;
    bool ready;
    bool event_idx;      /* VIRTIO_F_EVENT_IDX negotiated */
    bool indirect;       /* VIRTIO_F_INDIRECT_DESC negotiated */
    uint16_t next_avail; /* next avail ring slot to read */
    uint16_t next_used;  /* next used ring slot to write */
    uint16_t signalled_used;
    bool signalled_used_valid;
    bool broken; /* the driver broke the rules: no more requests */
};

/* One guest buffer of a chain. */
struct virtq_buf {
    uint64_t gpa;
    uint32_t len;
    bool device_writes; /* VIRTQ_DESC_F_WRITE */
};

struct virtq_chain {
    uint16_t head; /* id to push back */
    unsigned int nr_bufs;
    uint64_t readable;  /* total bytes of driver->device buffers */
    uint64_t writable;  /* total bytes of device->driver buffers */
    bool writable_seen; /* a device-writable buffer came (even empty) */
    struct virtq_buf bufs[VIRTQ_MAX_CHAIN];
};

/* Resets the walking state (not the addresses). */
void virtq_reset(struct virtq *q);

/* 1 with *chain filled, 0 when nothing is available, -EINVAL/-EFAULT when the
 * driver's chain or rings are malformed (loop, out-of-range index or address,
 * too long, readable after writable, bad indirect table, avail idx more than
 * `size` ahead): the queue is then marked broken and every later pop returns
 * -EIO until virtq_reset(). */
int virtq_pop(struct virtq *q, struct virtq_chain *chain) __attribute__((warn_unused_result));

/* Returns a chain with `written` bytes written by the device. -EINVAL for a
 * head outside the table, -EFAULT when the used ring is not guest RAM. */
int virtq_push(struct virtq *q, uint16_t head, uint32_t written)
    __attribute__((warn_unused_result));

/* Whether the driver wants an interrupt for what was pushed since the last
 * call (honours VIRTQ_AVAIL_F_NO_INTERRUPT and used_event). */
bool virtq_needs_notification(struct virtq *q);

/* Tells the driver whether to kick for new buffers (avail_event or
 * VIRTQ_USED_F_NO_NOTIFY), for devices that poll while busy. */
void virtq_set_notification(struct virtq *q, bool enable);

/* Whether the driver made buffers available that virtq_pop() has not taken:
 * the re-check after virtq_set_notification(q, true). */
bool virtq_has_available(struct virtq *q);

/* For a device that needs more buffers than the driver made available (a
 * receive queue short of room for a frame): asks for a kick when buffers
 * beyond those already there arrive, and returns how many chains are
 * available now, not yet popped. */
uint16_t virtq_wait_for_more(struct virtq *q);

#endif
