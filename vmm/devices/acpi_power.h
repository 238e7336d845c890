/* The ACPI power device of a hardware-reduced platform: the sleep control
 * and reset registers the FADT points at (shutdown, reboot), and the
 * Generic Event Device through which the host presses the power button. */
#ifndef VIREO_VMM_DEVICES_ACPI_POWER_H
#define VIREO_VMM_DEVICES_ACPI_POWER_H

#include <stdint.h>

#include "acpi/aml.h"
#include "bus.h"
#include "irq.h"

/* Port I/O registers, at LAYOUT_PORT_ACPI_SLEEP + offset. */
#define ACPI_POWER_SLEEP_CONTROL 0 /* FADT SLEEP_CONTROL_REG */
#define ACPI_POWER_SLEEP_STATUS  1 /* FADT SLEEP_STATUS_REG */
#define ACPI_POWER_RESET         2 /* FADT RESET_REG */
#define ACPI_POWER_PIO_LEN       4
#define ACPI_POWER_RESET_VALUE   0x01 /* FADT RESET_VALUE */
#define ACPI_POWER_SLP_TYP_S5    5    /* in \_S5_ and the sleep control register */

/* GED event bits, read (and cleared) by the DSDT's _EVT at LAYOUT_GED_START. */
#define ACPI_GED_EVENT_CPU          (1u << 0) /* reserved for CPU hotplug */
#define ACPI_GED_EVENT_PCI          (1u << 1) /* reserved for PCI hotplug */
#define ACPI_GED_EVENT_MEMORY       (1u << 2) /* reserved for memory hotplug */
#define ACPI_GED_EVENT_POWER_BUTTON (1u << 3)

struct acpi_power_ops {
    void (*shutdown)(void *opaque); /* the guest entered S5 */
    void (*reboot)(void *opaque);   /* the guest wrote the reset value */
};

struct acpi_power;

/* Callbacks run on a vCPU thread with no device lock held. ops is not
 * copied; ged_irq (copied; may be NULL) is pulsed for each GED event. */
struct acpi_power *acpi_power_new(const struct acpi_power_ops *ops, void *opaque,
                                  const struct irq_line *ged_irq);
void acpi_power_free(struct acpi_power *dev);

/* opaque is the struct acpi_power for both. */
const struct bus_ops *acpi_power_pio_bus_ops(void); /* LAYOUT_PORT_ACPI_SLEEP, ACPI_POWER_PIO_LEN */
const struct bus_ops *acpi_power_ged_bus_ops(void); /* LAYOUT_GED_START, LAYOUT_GED_SIZE */

/* Latches events (ACPI_GED_EVENT_*) and pulses the GED interrupt. */
int acpi_power_ged_notify(struct acpi_power *dev, uint32_t events);
/* What `virsh shutdown` asks for: the guest's button driver powers off. */
int acpi_power_button_press(struct acpi_power *dev);

/* \_S5_, Device (PWRB) { PNP0C0C } and Device (GED_) { ACPI0013, whose
 * _EVT reads the event register at ged_base and notifies PWRB }. */
void acpi_power_aml(struct aml *dsdt, uint64_t ged_base, uint32_t ged_irq);

#endif
