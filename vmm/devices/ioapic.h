/* The IOAPIC, emulated in userspace for KVM's split irqchip: 24 pins whose
 * redirection entries become MSIs. It never calls KVM; the core gives it
 * two callbacks. */
#ifndef VIREO_VMM_DEVICES_IOAPIC_H
#define VIREO_VMM_DEVICES_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "irq.h"

#define IOAPIC_NR_PINS 24
#define IOAPIC_ID      0 /* also in the MADT */
#define IOAPIC_VERSION                                                                             \
    0x11 /* 82093AA: no EOI register; registered at LAYOUT_IOAPIC_START, LAYOUT_IOAPIC_SIZE */

/* Both are called with the IOAPIC's lock held: they must not call back into
 * the IOAPIC. */
struct ioapic_msi_ops {
    /* Deliver one interrupt (KVM_SIGNAL_MSI). */
    int (*signal_msi)(void *opaque, uint64_t address, uint32_t data);
    /* A redirection entry changed: the core rewrites GSI `pin`'s routing
     * entry so KVM's EOI-exit bitmap covers level-triggered vectors. */
    int (*update_route)(void *opaque, unsigned int pin, uint64_t address, uint32_t data,
                        bool masked);
};

struct ioapic;

/* ops is not copied and must outlive the IOAPIC. All pins start masked. */
struct ioapic *ioapic_new(const struct ioapic_msi_ops *ops, void *opaque);
void ioapic_free(struct ioapic *io);
const struct bus_ops *ioapic_bus_ops(void);

/* Calls update_route for every pin, e.g. once before the guest runs.
 * Returns the first error update_route returned. */
int ioapic_sync_routes(struct ioapic *io) __attribute__((warn_unused_result));

/* A device's line changed. level is the logical assertion (polarity is the
 * guest's description of the wire and is not applied here). Edge pins
 * deliver on a rising edge; level pins deliver while asserted and remote
 * IRR is clear. -EINVAL for a bad pin, or the signal_msi error. */
int ioapic_set_irq(struct ioapic *io, unsigned int pin, bool level);

/* KVM_EXIT_IOAPIC_EOI: clears remote IRR of the level pins using vector and
 * redelivers those still asserted. */
void ioapic_end_of_interrupt(struct ioapic *io, uint8_t vector);

/* A handle for a device wired to pin (-EINVAL if pin is out of range). */
int ioapic_irq_line(struct ioapic *io, unsigned int pin, struct irq_line *line)
    __attribute__((warn_unused_result));

/* The MSI a redirection entry turns into (exposed for tests). */
void ioapic_entry_to_msi(uint64_t entry, uint64_t *address, uint32_t *data);

#endif
