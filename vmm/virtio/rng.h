/* virtio-rng (virtio 1.x, section 5.4): one request queue whose
 * device-writable buffers are filled from a host entropy source. */
#ifndef VIREO_VMM_VIRTIO_RNG_H
#define VIREO_VMM_VIRTIO_RNG_H

#include "virtio/device.h"

#define VIRTIO_RNG_QUEUE_SIZE 256

struct virtio_rng;

/* source_fd: the entropy source the caller opened (--rng src=, default
 * /dev/urandom); the device owns it from now on and closes it in free.
 * NULL on allocation failure (the fd is then closed too). */
struct virtio_rng *virtio_rng_new(int source_fd);
/* Describes the device for the transport, which then owns it (ops->free). */
void virtio_rng_device(struct virtio_rng *rng, const char *id, struct virtio_device *out);

#endif
