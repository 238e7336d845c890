/* PCI bus 0 behind a host bridge: configuration space through the legacy
 * ports 0xcf8/0xcfc and through ECAM (MMCONFIG), device numbers handed out
 * in order, BAR addresses from a 32-bit and a 64-bit MMIO window, BARs
 * (re)mapped as the guest programs them, and the ACPI description (DSDT
 * host bridge and MCFG). */
#ifndef VIREO_VMM_PCI_PCI_BUS_H
#define VIREO_VMM_PCI_PCI_BUS_H

#include <stdint.h>

#include "acpi/aml.h"
#include "acpi/tables.h"
#include "bus.h"
#include "pci/config.h"

#define PCI_BUS_MAX_DEVICES 32
#define PCI_CONFIG_PORT     0xcf8 /* CONFIG_ADDRESS; CONFIG_DATA at 0xcfc */
#define PCI_CONFIG_PORT_LEN 8
#define PCI_ECAM_BUS_SIZE   (1ull << 20) /* 32 devices x 8 functions x 4 KiB */
#define PCI_ECAM_FN_SIZE    0x1000

/* How the bus reaches a device. All optional. Called with the bus's config
 * lock held, so never re-enter the PCI bus from them. */
struct pci_device_ops {
    /* Config accesses (offset < 4096, len 1, 2 or 4, naturally aligned);
     * default: pci_config_read()/pci_config_write() on the device's config.
     * A device that intercepts writes calls pci_config_write() itself. */
    void (*config_read)(void *opaque, uint32_t offset, uint8_t *data, uint32_t len);
    void (*config_write)(void *opaque, uint32_t offset, const uint8_t *data, uint32_t len);
    /* BAR `bar` now decodes at new_addr (either may be PCI_BAR_UNMAPPED):
     * the device moves what it registered at old_addr, e.g. ioeventfds. */
    void (*bar_moved)(void *opaque, unsigned int bar, uint64_t old_addr, uint64_t new_addr);
    /* VM reset: back to power-on state (the bus restores the header). */
    void (*reset)(void *opaque);
};

struct pci_bus_config {
    struct bus *pio;               /* 0xcf8-0xcff are registered here */
    struct bus *mmio;              /* ECAM and both windows are registered here */
    uint64_t ecam_base, ecam_size; /* e.g. LAYOUT_PCI_MMCONFIG_START/_SIZE */
    uint64_t mmio32_base, mmio32_size;
    uint64_t mmio64_base, mmio64_size; /* size 0: no 64-bit window */
};

struct pci_bus;

/* Creates the bus with its host bridge at device 0 and registers the
 * config ports, ECAM and the windows. 0 or -errno. */
int pci_bus_new(const struct pci_bus_config *cfg, struct pci_bus **out)
    __attribute__((warn_unused_result));
/* Unregisters everything. Devices are not freed (their owners do that). */
void pci_bus_free(struct pci_bus *bus);

/* Plugs a function in the next free device number: gives each BAR of cfg
 * an address (64-bit BARs from the 64-bit window, falling back to the
 * 32-bit one; BARs start unmapped, as the command register has decoding
 * off). cfg, ops and opaque must outlive the bus or their removal.
 * *devfn receives device << 3. -ENOSPC when the bus or a window is full. */
int pci_bus_add_device(struct pci_bus *bus, struct pci_config *cfg,
                       const struct pci_device_ops *ops, void *opaque, unsigned int *devfn)
    __attribute__((warn_unused_result));

/* Every function back to power-on state (VM reboot). */
void pci_bus_reset(struct pci_bus *bus);

/* Config space access by address, as the two mechanisms do (for tests and
 * for the core's debugging). Absent functions read all ones. */
void pci_bus_config_read(struct pci_bus *bus, unsigned int devfn, uint32_t offset, uint8_t *data,
                         uint32_t len);
void pci_bus_config_write(struct pci_bus *bus, unsigned int devfn, uint32_t offset,
                          const uint8_t *data, uint32_t len);

/* ACPI, shaped for struct acpi_config's hooks (opaque is the pci_bus):
 * the host bridge device \_SB_.PCI0 with its resources and a PNP0C02
 * device reserving the ECAM area, and the MCFG table. */
void pci_bus_dsdt_append(void *opaque, struct aml *dsdt);
int pci_bus_tables_append(void *opaque, struct acpi_tables *tables)
    __attribute__((warn_unused_result));
/* The MCFG table bytes, g_free()d by the caller. */
int pci_bus_build_mcfg(const struct pci_bus *bus, uint8_t **out, size_t *len)
    __attribute__((warn_unused_result));

#endif
