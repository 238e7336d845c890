/* A minimal i8042 PS/2 controller with no keyboard or mouse behind it: it
 * answers the controller commands a driver probes with, and its reset line
 * (command 0xFE) reboots the VM. */
#ifndef VIREO_VMM_DEVICES_I8042_H
#define VIREO_VMM_DEVICES_I8042_H

#include <stdint.h>

#include "acpi/aml.h"
#include "bus.h"

/* Two one-byte registrations, so ports 0x61-0x63 stay free. */
#define I8042_DATA_PORT_OFFSET    0 /* LAYOUT_PORT_I8042 + 0: data */
#define I8042_COMMAND_PORT_OFFSET 4 /* LAYOUT_PORT_I8042 + 4: status / command */
#define I8042_PORT_LEN            1

struct i8042;

/* reset is called (from a vCPU thread, with no device lock held) when the
 * guest pulses the reset line. */
struct i8042 *i8042_new(void (*reset)(void *opaque), void *opaque);
void i8042_free(struct i8042 *dev);

/* opaque is the struct i8042 for both. */
const struct bus_ops *i8042_data_bus_ops(void);
const struct bus_ops *i8042_command_bus_ops(void);

/* Device (PS2K) { _HID PNP0303, _CRS: IO 0x60, IO 0x64, Interrupt 1 } */
void i8042_aml(struct aml *dsdt, uint16_t base);

#endif
