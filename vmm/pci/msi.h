/* How PCI devices raise MSI and MSI-X interrupts without calling KVM: the
 * VM core implements these callbacks (with KVM GSI routing and one irqfd per
 * vector) and hands them to the MSI-X emulation. Delivery of an unmasked
 * vector is then a single eventfd write, with no lock taken. */
#ifndef VIREO_VMM_PCI_MSI_H
#define VIREO_VMM_PCI_MSI_H

#include <stdbool.h>
#include <stdint.h>

struct msi_ops {
    /* Reserves an interrupt route for one vector (a GSI with KVM). Sets
     * *handle, and *irqfd to an eventfd the core has bound to that route
     * (KVM_IRQFD): writing 1 to it injects the route's current message. The
     * fd stays owned by the core; -1 means "none, call trigger()". The route
     * starts masked: nothing is injected before update(masked = false).
     * 0 or -errno (e.g. -ENOSPC when GSIs run out). Called at start-up or
     * hotplug, never from the hot path. */
    int (*alloc)(void *opaque, unsigned int *handle, int *irqfd);
    /* Releases a route and its irqfd. */
    void (*release)(void *opaque, unsigned int handle);
    /* From now on the route delivers (address, data). Called from a vCPU
     * thread when a vector becomes deliverable (masked == false), when its
     * message changes while deliverable, and when it becomes masked. When it
     * returns 0 for masked == false the route must be live
     * (KVM_SET_GSI_ROUTING done): an interrupt may follow at once. A masked
     * route is never triggered, so the core may leave it stale. On failure
     * the vector stays masked and its interrupts wait in the PBA. */
    int (*update)(void *opaque, unsigned int handle, uint64_t address, uint32_t data, bool masked);
    /* Optional slow path when alloc gave no irqfd (e.g. KVM_SIGNAL_MSI with
     * the last message update() passed). Any thread; must not block long. */
    int (*trigger)(void *opaque, unsigned int handle);
};

#endif
