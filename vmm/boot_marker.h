/* Port 0x80 boot-progress marker: a guest writes a byte and the VMM logs it
 * with the time since start (0x40 kernel entry, 0x41 userspace, as Cloud
 * Hypervisor's debug port defines them). */
#ifndef VIREO_VMM_BOOT_MARKER_H
#define VIREO_VMM_BOOT_MARKER_H

#include "bus.h"

#define BOOT_MARKER_KERNEL_START    0x40
#define BOOT_MARKER_USERSPACE_START 0x41

extern const struct bus_ops boot_marker_ops;

#endif
