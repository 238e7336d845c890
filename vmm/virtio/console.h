/* virtio-console (virtio 1.x, section 5.3) with a single port and no
 * MULTIPORT: receiveq 0 carries input from a chardev to the guest (hvc0),
 * transmitq 1 carries the guest's output to the chardev. */
#ifndef VIREO_VMM_VIRTIO_CONSOLE_H
#define VIREO_VMM_VIRTIO_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "chardev/chardev.h"
#include "virtio/device.h"

#define VIRTIO_CONSOLE_F_SIZE      0
#define VIRTIO_CONSOLE_QUEUE_SIZE  256
#define VIRTIO_CONSOLE_RX          0
#define VIRTIO_CONSOLE_TX          1
#define VIRTIO_CONSOLE_CONFIG_SIZE 12 /* cols, rows, max_nr_ports, emerg_wr */

struct virtio_console;

/* backend (not owned, may be NULL: output discarded, no input) must outlive
 * the device. cols and rows: the console size offered with
 * VIRTIO_CONSOLE_F_SIZE, or 0, 0 to not offer it. NULL on allocation
 * failure. */
struct virtio_console *virtio_console_new(struct chardev *backend, uint16_t cols, uint16_t rows);
/* Describes the device for the transport, which then owns it (ops->free). */
void virtio_console_device(struct virtio_console *c, const char *id, struct virtio_device *out);

/* Pumps the backend's input into the receive queue on the backend's reader
 * thread, for the device's lifetime. 0, or -errno from chardev_start_input
 * (-ENOTSUP for backends without input, which is not an error to the core). */
int virtio_console_start_input(struct virtio_console *c) __attribute__((warn_unused_result));
/* Input for the guest: returns how many bytes the receive queue took (0
 * before the driver is ready or when it has no buffers; the rest is offered
 * again later). Usable as the chardev input callback. */
size_t virtio_console_input(struct virtio_console *c, const uint8_t *buf, size_t len);
/* New console size; the driver is told when it negotiated F_SIZE. */
void virtio_console_resize(struct virtio_console *c, uint16_t cols, uint16_t rows);

#endif
