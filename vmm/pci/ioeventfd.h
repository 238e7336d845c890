/* How a device asks for guest writes to an address to become eventfd
 * signals without a vCPU exit to userspace (KVM_IOEVENTFD). Implemented by
 * the VM core; optional: without it the device's MMIO handler signals the
 * same eventfd itself, so behaviour is identical, only slower. */
#ifndef VIREO_VMM_PCI_IOEVENTFD_H
#define VIREO_VMM_PCI_IOEVENTFD_H

#include <stdint.h>

struct ioeventfd_ops {
    /* From now on a guest write of `len` bytes (0: any length) at the
     * guest physical MMIO address `addr` signals `fd` (owned by the caller)
     * and is not seen by the MMIO bus. No data match. 0 or -errno. */
    int (*add)(void *opaque, uint64_t addr, uint32_t len, int fd);
    /* Undoes add() with the same arguments. */
    int (*del)(void *opaque, uint64_t addr, uint32_t len, int fd);
};

#endif
