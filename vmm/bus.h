/* Address-range dispatch for port I/O and MMIO: a vCPU exit becomes one
 * bus_read() or bus_write(), and the bus finds the device that owns the range. */
#ifndef VIREO_VMM_BUS_H
#define VIREO_VMM_BUS_H

#include <stdbool.h>
#include <stdint.h>

/* A device's handlers. `offset` is relative to the registered base; `len` is
 * 1, 2, 4 or 8. Handlers may be called from any vCPU thread at once, so a
 * device protects its own state. */
struct bus_ops {
    void (*read)(void *opaque, uint64_t offset, uint8_t *data, uint32_t len);
    void (*write)(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len);
};

struct bus;

struct bus *bus_new(const char *name);
void bus_free(struct bus *bus);

/* Claims [base, base + len). Fails with -EEXIST when the range overlaps one
 * already registered, -EINVAL for an empty or wrapping range. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_ops *ops,
                 void *opaque) __attribute__((warn_unused_result));
int bus_unregister(struct bus *bus, uint64_t base);

/* Return false when no device claims the address (the caller logs it; reads
 * then see all ones). */
bool bus_read(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len);
bool bus_write(struct bus *bus, uint64_t addr, const uint8_t *data, uint32_t len);

#endif
