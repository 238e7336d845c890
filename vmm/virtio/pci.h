/* The virtio-pci modern transport (virtio 1.x, section 4.1): one PCI
 * function per virtio device, with the vendor capabilities, the common
 * configuration registers, feature negotiation, the device status state
 * machine, MSI-X interrupts and notify eventfds. The device behind it
 * (struct virtio_device) knows nothing of PCI.
 *
 * BAR 0 is the only BAR: 64-bit memory, not prefetchable (ISR reads have
 * side effects), VIRTIO_PCI_BAR_SIZE bytes, one 4 KiB page per region so
 * each can be trapped on its own:
 *   0x0000 common configuration     0x3000 notifications (4 bytes per queue)
 *   0x1000 ISR status               0x4000 MSI-X table (up to 512 vectors)
 *   0x2000 device configuration     0x6000 MSI-X PBA
 * MSI-X has one vector per queue plus one for configuration changes. */
#ifndef VIREO_VMM_VIRTIO_PCI_H
#define VIREO_VMM_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "guest_memory.h"
#include "pci/config.h"
#include "pci/ioeventfd.h"
#include "pci/msi.h"
#include "pci/pci_bus.h"
#include "virtio/device.h"

#define VIRTIO_PCI_VENDOR_ID   0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* + virtio device id: modern-only devices */

#define VIRTIO_PCI_BAR             0
#define VIRTIO_PCI_BAR_SIZE        0x8000
#define VIRTIO_PCI_COMMON_OFFSET   0x0000
#define VIRTIO_PCI_ISR_OFFSET      0x1000
#define VIRTIO_PCI_DEVICE_OFFSET   0x2000
#define VIRTIO_PCI_NOTIFY_OFFSET   0x3000
#define VIRTIO_PCI_MSIX_OFFSET     0x4000
#define VIRTIO_PCI_PBA_OFFSET      0x6000
#define VIRTIO_PCI_REGION_SIZE     0x1000
#define VIRTIO_PCI_NOTIFY_MULT     4 /* queue_notify_off == queue index */
#define VIRTIO_PCI_MAX_QUEUES      256
#define VIRTIO_PCI_MAX_CONFIG_SIZE VIRTIO_PCI_REGION_SIZE

/* Vendor-specific capability cfg_type values. */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG    3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG    5

/* Common configuration layout (struct virtio_pci_common_cfg). */
#define VIRTIO_PCI_COMMON_DFSELECT      0x00
#define VIRTIO_PCI_COMMON_DF            0x04
#define VIRTIO_PCI_COMMON_GFSELECT      0x08
#define VIRTIO_PCI_COMMON_GF            0x0c
#define VIRTIO_PCI_COMMON_MSIX          0x10
#define VIRTIO_PCI_COMMON_NUMQ          0x12
#define VIRTIO_PCI_COMMON_STATUS        0x14
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15
#define VIRTIO_PCI_COMMON_Q_SELECT      0x16
#define VIRTIO_PCI_COMMON_Q_SIZE        0x18
#define VIRTIO_PCI_COMMON_Q_MSIX        0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE      0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF        0x1e
#define VIRTIO_PCI_COMMON_Q_DESCLO      0x20
#define VIRTIO_PCI_COMMON_Q_DESCHI      0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO     0x28
#define VIRTIO_PCI_COMMON_Q_AVAILHI     0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO      0x30
#define VIRTIO_PCI_COMMON_Q_USEDHI      0x34
#define VIRTIO_PCI_COMMON_SIZE          0x38

/* Device status (section 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER      0x02
#define VIRTIO_STATUS_DRIVER_OK   0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED      0x80

#define VIRTIO_MSI_NO_VECTOR 0xffff

#define VIRTIO_ISR_QUEUE  0x1
#define VIRTIO_ISR_CONFIG 0x2

/* What the VM core provides. The ops tables must outlive the transport. */
struct virtio_pci_env {
    const struct guest_memory *mem;
    const struct msi_ops *msi; /* required */
    void *msi_opaque;
    const struct ioeventfd_ops *ioeventfd; /* NULL: notify writes trap to us */
    void *ioeventfd_opaque;
    /* Told (may be NULL) when the driver starts the device (active) and when
     * a started device is reset; called with the transport's lock held, so
     * it must not call back into the transport. */
    void (*activity)(void *opaque, const char *id, bool active);
    void *activity_opaque;
};

struct virtio_pci;

/* Wraps `vdev` (copied; the transport owns vdev->dev from now on and frees
 * it with its ops->free) in a PCI function. max_queues must be
 * 1..VIRTIO_PCI_MAX_QUEUES, max_queue_size a power of two <= VIRTQ_MAX_SIZE.
 * Allocates one MSI route per queue plus one, and one kick eventfd per
 * queue. 0 or -errno. */
int virtio_pci_new(const struct virtio_device *vdev, const struct virtio_pci_env *env,
                   struct virtio_pci **out) __attribute__((warn_unused_result));
/* Resets the device if it runs, frees it, the routes and the eventfds. The
 * PCI bus must no longer dispatch to it (vCPUs stopped or bus freed). */
void virtio_pci_free(struct virtio_pci *vp);

/* Plugs it into the bus (next device number; *devfn = device << 3). */
int virtio_pci_plug(struct virtio_pci *vp, struct pci_bus *bus, unsigned int *devfn)
    __attribute__((warn_unused_result));

/* For tests and diagnostics. */
struct pci_config *virtio_pci_config(struct virtio_pci *vp);
const struct pci_device_ops *virtio_pci_device_ops(void);
const struct bus_ops *virtio_pci_bar_ops(void); /* BAR 0's handlers; opaque is vp */
uint8_t virtio_pci_status(struct virtio_pci *vp);
int virtio_pci_kick_fd(struct virtio_pci *vp, unsigned int queue);

#endif
