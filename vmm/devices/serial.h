/* A 16550A UART on port I/O: what Linux's 8250 driver binds to as ttyS0. */
#ifndef VIREO_VMM_DEVICES_SERIAL_H
#define VIREO_VMM_DEVICES_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "acpi/aml.h"
#include "bus.h"
#include "chardev/chardev.h"
#include "irq.h"

#define SERIAL_PIO_LEN      8  /* registered at LAYOUT_PORT_SERIAL0 */
#define SERIAL_RX_FIFO_SIZE 64 /* 16 on a real 16550A; larger is invisible to drivers */

struct serial;

/* irq (copied; may be NULL) is held high while an enabled interrupt is
 * pending. backend (may be NULL: output discarded) is not owned. */
struct serial *serial_new(const struct irq_line *irq, struct chardev *backend);
/* Stops the backend's input into this UART first. */
void serial_free(struct serial *s);

/* The port I/O handlers; opaque is the struct serial. */
const struct bus_ops *serial_bus_ops(void);

/* Received bytes: returns how many fit in the receive FIFO; the caller keeps
 * the rest for later (the backend is told when there is room again). In
 * loopback mode the line is disconnected and input is discarded. */
size_t serial_input(struct serial *s, const uint8_t *buf, size_t len);

/* Pumps the backend's input into this UART with the backend's reader thread. */
int serial_start_input(struct serial *s) __attribute__((warn_unused_result));

/* Device (name) { _HID PNP0501, _CRS: IO port..port+7, Interrupt irq } */
void serial_aml(struct aml *dsdt, const char *name, unsigned int uid, uint16_t port,
                unsigned int irq);

#endif
