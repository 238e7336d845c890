/* What a virtio device (blk, console, rng, net, ...) offers its transport.
 * Devices know nothing of PCI: the transport (virtio/pci.c) negotiates
 * features, sets up the queues and calls activate() on DRIVER_OK and
 * reset() when the driver resets the device. */
#ifndef VIREO_VMM_VIRTIO_DEVICE_H
#define VIREO_VMM_VIRTIO_DEVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "guest_memory.h"
#include "virtio/queue.h"

/* Device types (virtio 1.x, section 5). */
#define VIRTIO_ID_NET     1
#define VIRTIO_ID_BLOCK   2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG     4
#define VIRTIO_ID_IOMMU   23
#define VIRTIO_ID_VSOCK   19
#define VIRTIO_ID_PMEM    27

/* Feature bits every device may offer; the transport adds VERSION_1. */
#define VIRTIO_F_INDIRECT_DESC   28
#define VIRTIO_F_EVENT_IDX       29
#define VIRTIO_F_VERSION_1       32
#define VIRTIO_F_ACCESS_PLATFORM 33

/* Which interrupt a device raises: a queue's, or the configuration change. */
#define VIRTIO_INTERRUPT_CONFIG (~0u)

struct virtio_interrupt {
    /* Safe from any thread. `queue` is a queue index or VIRTIO_INTERRUPT_CONFIG. */
    void (*signal)(void *opaque, unsigned int queue);
    void *opaque;
};

/* Handed to activate(): valid until reset() returns. */
struct virtio_activation {
    const struct guest_memory *mem;
    uint64_t features;      /* negotiated */
    unsigned int nr_queues; /* queues the driver enabled */
    struct virtq *queues;   /* nr_queues entries, owned by the transport */
    const int *kick_fds;    /* an eventfd per queue, signalled on each notify */
    struct virtio_interrupt interrupt;
};

struct virtio_device_ops {
    uint32_t device_id;
    /* Device-specific feature bits offered to the driver. */
    uint64_t (*features)(void *dev);
    /* Device configuration space (section 4.1.4.6): offsets the device
     * does not have read as zero and writes to them are ignored. */
    uint32_t (*config_size)(void *dev);
    void (*config_read)(void *dev, uint32_t offset, uint8_t *data, uint32_t len);
    void (*config_write)(void *dev, uint32_t offset, const uint8_t *data, uint32_t len);
    /* Starts the device's workers on DRIVER_OK. 0 or -errno (the transport
     * then sets DEVICE_NEEDS_RESET). */
    int (*activate)(void *dev, const struct virtio_activation *act);
    /* Stops and joins the workers; the device is as new afterwards. */
    void (*reset)(void *dev);
    void (*free)(void *dev);
};

/* A device instance as the transport holds it. */
struct virtio_device {
    const struct virtio_device_ops *ops;
    void *dev;
    unsigned int max_queues;
    uint16_t max_queue_size;
    char id[32]; /* user-visible id, e.g. "disk0" */
};

/* Fills `out` for a device instance; `id` falls back to `default_id`. */
static inline void virtio_device_init(struct virtio_device *out,
                                      const struct virtio_device_ops *ops, void *dev,
                                      unsigned int max_queues, uint16_t max_queue_size,
                                      const char *id, const char *default_id)
{
    memset(out, 0, sizeof(*out));
    out->ops = ops;
    out->dev = dev;
    out->max_queues = max_queues;
    out->max_queue_size = max_queue_size;
    snprintf(out->id, sizeof(out->id), "%s", id ? id : default_id);
}

#endif
