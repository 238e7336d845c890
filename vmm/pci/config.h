/* A type-0 PCI configuration space as a device model holds it: the 256
 * header and capability bytes, a mask of the bits the guest may write, the
 * BARs (with the sizing protocol that falls out of the mask) and a
 * capability list builder. No locking: the PCI bus serialises accesses. */
#ifndef VIREO_VMM_PCI_CONFIG_H
#define VIREO_VMM_PCI_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"

#define PCI_CONFIG_SIZE 256
#define PCI_NUM_BARS    6

/* Header registers (PCI Local Bus 3.0, 6.1). */
#define PCI_VENDOR_ID           0x00
#define PCI_DEVICE_ID           0x02
#define PCI_COMMAND             0x04
#define PCI_STATUS              0x06
#define PCI_REVISION_ID         0x08
#define PCI_CLASS_PROG          0x09
#define PCI_CACHE_LINE_SIZE     0x0c
#define PCI_LATENCY_TIMER       0x0d
#define PCI_HEADER_TYPE         0x0e
#define PCI_BASE_ADDRESS_0      0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID        0x2e
#define PCI_ROM_ADDRESS         0x30
#define PCI_CAPABILITY_LIST     0x34
#define PCI_INTERRUPT_LINE      0x3c
#define PCI_INTERRUPT_PIN       0x3d
#define PCI_CAP_START           0x40

#define PCI_COMMAND_IO           0x0001
#define PCI_COMMAND_MEMORY       0x0002
#define PCI_COMMAND_MASTER       0x0004
#define PCI_COMMAND_PARITY       0x0040
#define PCI_COMMAND_SERR         0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_CAP_LIST      0x0010

#define PCI_BAR_MEM_TYPE_64  0x04
#define PCI_BAR_MEM_PREFETCH 0x08
#define PCI_BAR_MEM_MASK     (~0xfull)

#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

#define PCI_VENDOR_ID_INVALID 0xffff

/* BAR sizes are powers of two of at least one page, so that every BAR
 * (and each region in it) can be mapped and trapped on its own. */
#define PCI_BAR_MIN_SIZE 0x1000ull

/* Where a BAR is registered when it is not (decode off, or address 0). */
#define PCI_BAR_UNMAPPED UINT64_MAX

struct pci_ids {
    uint16_t vendor;
    uint16_t device;
    uint8_t revision;
    uint32_t class_code; /* base class << 16 | subclass << 8 | prog-if */
    uint16_t subsystem_vendor;
    uint16_t subsystem;
};

struct pci_bar {
    uint64_t size; /* 0: not implemented (also the upper half of a 64-bit BAR) */
    bool is_64;
    bool prefetchable;
    const struct bus_ops *ops; /* accesses, with offsets relative to the BAR */
    void *opaque;
    uint64_t assigned; /* address given at plug time, restored on reset */
    uint64_t mapped;   /* where the PCI bus registered it, or PCI_BAR_UNMAPPED */
};

struct pci_config {
    uint8_t data[PCI_CONFIG_SIZE];
    uint8_t wmask[PCI_CONFIG_SIZE]; /* 1: the guest may write this bit */
    struct pci_bar bars[PCI_NUM_BARS];
    uint8_t cap_last; /* offset of the last capability, 0 if none */
    uint8_t cap_free; /* first free byte for the next capability */
};

/* A header-type-0 function with no BARs and no capabilities, no INTx pin,
 * command register cleared. */
void pci_config_init(struct pci_config *c, const struct pci_ids *ids);

/* Declares memory BAR `bar` (0-5; 0-4 for 64-bit ones, which also take
 * bar + 1). -EINVAL for a size that is not a power of two >=
 * PCI_BAR_MIN_SIZE (or over 2 GiB for a 32-bit BAR), -EBUSY when taken. */
int pci_config_add_bar(struct pci_config *c, unsigned int bar, uint64_t size, bool is_64,
                       bool prefetchable, const struct bus_ops *ops, void *opaque)
    __attribute__((warn_unused_result));

/* The address the guest programmed into the BAR (both halves for 64-bit). */
uint64_t pci_config_bar_address(const struct pci_config *c, unsigned int bar);
void pci_config_set_bar_address(struct pci_config *c, unsigned int bar, uint64_t addr);
/* Where the BAR should be decoded now: its address when memory decode is on
 * and the address is sane, PCI_BAR_UNMAPPED otherwise. */
uint64_t pci_config_bar_target(const struct pci_config *c, unsigned int bar);

/* Appends a capability: cap[0] is the id, cap[1] (next) is filled in here.
 * `wmask` (len bytes, may be NULL) marks the guest-writable bits. Returns
 * its offset in config space, -ENOSPC when it does not fit, -EINVAL for
 * len < 2. */
int pci_config_add_capability(struct pci_config *c, const uint8_t *cap, uint8_t len,
                              const uint8_t *wmask) __attribute__((warn_unused_result));
/* Offset of the first capability with this id after `after` (0: from the
 * start), or 0. Walks at most 48 entries so a loop cannot hang it. */
uint8_t pci_config_find_capability(const struct pci_config *c, uint8_t id, uint8_t after);

/* Accesses of 1, 2 or 4 bytes; bytes past the end read 0, writes to them and
 * to read-only bits are ignored. */
void pci_config_read(const struct pci_config *c, uint32_t offset, uint8_t *data, uint32_t len);
void pci_config_write(struct pci_config *c, uint32_t offset, const uint8_t *data, uint32_t len);

/* Little-endian helpers on the config bytes, for device code. */
uint16_t pci_config_get16(const struct pci_config *c, uint32_t offset);
uint32_t pci_config_get32(const struct pci_config *c, uint32_t offset);
void pci_config_set16(struct pci_config *c, uint32_t offset, uint16_t v);
void pci_config_set32(struct pci_config *c, uint32_t offset, uint32_t v);

#endif
