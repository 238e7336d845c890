/* MSI-X (PCI 3.0, 6.8.2): the capability in config space, the vector table
 * and the pending bit array that a device exposes in one of its BARs, and
 * the delivery of vectors through struct msi_ops. msix_signal() is the hot
 * path: lock-free, one eventfd write when the vector is live, a pending bit
 * when it is masked (delivered when the guest unmasks it). */
#ifndef VIREO_VMM_PCI_MSIX_H
#define VIREO_VMM_PCI_MSIX_H

#include <stdbool.h>
#include <stdint.h>

#include "pci/config.h"
#include "pci/msi.h"

#define MSIX_MAX_VECTORS 2048
#define MSIX_ENTRY_SIZE  16
#define MSIX_CAP_LEN     12
/* Message control bits. */
#define MSIX_CTRL_TABLE_SIZE 0x07ff
#define MSIX_CTRL_MASKALL    0x4000
#define MSIX_CTRL_ENABLE     0x8000
/* Vector control bit in a table entry. */
#define MSIX_ENTRY_MASKED 0x1

struct msix;

/* Reserves nr_vectors (1..MSIX_MAX_VECTORS) routes through ops, which must
 * outlive the msix. Every vector starts masked. 0 or -errno. */
int msix_new(unsigned int nr_vectors, const struct msi_ops *ops, void *opaque, struct msix **out)
    __attribute__((warn_unused_result));
/* Releases the routes. Nothing may signal any more. */
void msix_free(struct msix *m);
unsigned int msix_nr_vectors(const struct msix *m);

/* Adds the capability to cfg: table at table_offset and PBA at pba_offset
 * in BAR `bar` (offsets 8-byte aligned). Returns its config offset or -errno. */
int msix_add_capability(struct msix *m, struct pci_config *cfg, unsigned int bar,
                        uint32_t table_offset, uint32_t pba_offset)
    __attribute__((warn_unused_result));
/* Bytes the table and the PBA take. */
uint32_t msix_table_size(const struct msix *m);
uint32_t msix_pba_size(const struct msix *m);

/* After a config write that may have touched the capability: applies the
 * enable and function-mask bits now in cfg. */
void msix_config_written(struct msix *m, const struct pci_config *cfg);

/* The table and PBA regions, offsets relative to their start. Aligned 4- and
 * 8-byte accesses; anything else reads all ones and writes nothing. The PBA
 * is read-only. */
void msix_table_read(struct msix *m, uint64_t offset, uint8_t *data, uint32_t len);
void msix_table_write(struct msix *m, uint64_t offset, const uint8_t *data, uint32_t len);
void msix_pba_read(struct msix *m, uint64_t offset, uint8_t *data, uint32_t len);

/* Raises `vector` from any thread without a lock; out of range is ignored. */
void msix_signal(struct msix *m, unsigned int vector);

bool msix_enabled(struct msix *m);
/* Masked by its entry, by the function mask, or because MSI-X is off. */
bool msix_vector_masked(struct msix *m, unsigned int vector);
bool msix_vector_pending(struct msix *m, unsigned int vector);

/* Back to power-on state (all masked, messages zero, nothing pending, MSI-X
 * off), also in cfg's capability. */
void msix_reset(struct msix *m, struct pci_config *cfg);

#endif
