/* pvpanic: QEMU's ISA panic device (one I/O port, ACPI id QEMU0001), through
 * which a guest kernel tells the host that it panicked. Linux binds its
 * pvpanic-mmio driver to it (module pvpanic_mmio in Debian's kernel). */
#ifndef VIREO_VMM_DEVICES_PVPANIC_H
#define VIREO_VMM_DEVICES_PVPANIC_H

#include <stdint.h>

#include "acpi/aml.h"
#include "bus.h"

#define PVPANIC_PIO_LEN      1
#define PVPANIC_PANICKED     (1u << 0)
#define PVPANIC_CRASH_LOADED (1u << 1)

struct pvpanic_ops {
    /* The guest wrote `events` (PVPANIC_* bits, at least one set). Runs on
     * a vCPU thread. */
    void (*event)(void *opaque, uint8_t events);
};

struct pvpanic;

/* ops is not copied. */
struct pvpanic *pvpanic_new(const struct pvpanic_ops *ops, void *opaque);
void pvpanic_free(struct pvpanic *dev);

/* Reads give the supported events; writes report them. */
const struct bus_ops *pvpanic_bus_ops(void);

/* Device (PEVT) { _HID "QEMU0001", _CRS IO (port, 1), _STA 0x0B }. */
void pvpanic_aml(struct aml *dsdt, uint16_t port);

#endif
