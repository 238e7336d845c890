/* Type-0 configuration space: a byte image plus a write mask. The BAR
 * sizing protocol needs no special case: a BAR's mask only covers the
 * address bits above its size, so writing all ones reads back the size
 * mask with the read-only type bits. */
#include "pci/config.h"

#include <errno.h>
#include <string.h>

#define PCI_HEADER_TYPE_NORMAL 0x00
#define PCI_CAP_MAX_WALK       48

static void put_le(uint8_t *p, uint64_t v, unsigned int size)
{
    for (unsigned int i = 0; i < size; i++)
        p[i] = v >> (8 * i);
}

static uint64_t get_le(const uint8_t *p, unsigned int size)
{
    uint64_t v = 0;

    for (unsigned int i = 0; i < size; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

uint16_t pci_config_get16(const struct pci_config *c, uint32_t offset)
{
    return offset + 2 <= PCI_CONFIG_SIZE ? get_le(c->data + offset, 2) : 0;
}

uint32_t pci_config_get32(const struct pci_config *c, uint32_t offset)
{
    return offset + 4 <= PCI_CONFIG_SIZE ? get_le(c->data + offset, 4) : 0;
}

void pci_config_set16(struct pci_config *c, uint32_t offset, uint16_t v)
{
    if (offset + 2 <= PCI_CONFIG_SIZE)
        put_le(c->data + offset, v, 2);
}

void pci_config_set32(struct pci_config *c, uint32_t offset, uint32_t v)
{
    if (offset + 4 <= PCI_CONFIG_SIZE)
        put_le(c->data + offset, v, 4);
}

void pci_config_init(struct pci_config *c, const struct pci_ids *ids)
{
    memset(c, 0, sizeof(*c));
    for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
        c->bars[i].assigned = 0;
        c->bars[i].mapped = PCI_BAR_UNMAPPED;
    }
    pci_config_set16(c, PCI_VENDOR_ID, ids->vendor);
    pci_config_set16(c, PCI_DEVICE_ID, ids->device);
    c->data[PCI_REVISION_ID] = ids->revision;
    put_le(c->data + PCI_CLASS_PROG, ids->class_code, 3);
    c->data[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
    pci_config_set16(c, PCI_SUBSYSTEM_VENDOR_ID, ids->subsystem_vendor);
    pci_config_set16(c, PCI_SUBSYSTEM_ID, ids->subsystem);
    put_le(c->wmask + PCI_COMMAND,
           PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
               PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE,
           2);
    /* Scratch registers drivers and firmware write. */
    c->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    c->wmask[PCI_LATENCY_TIMER] = 0xff;
    c->wmask[PCI_INTERRUPT_LINE] = 0xff;
    c->cap_free = PCI_CAP_START;
}

int pci_config_add_bar(struct pci_config *c, unsigned int bar, uint64_t size, bool is_64,
                       bool prefetchable, const struct bus_ops *ops, void *opaque)
{
    uint32_t off = PCI_BASE_ADDRESS_0 + 4 * bar;
    uint64_t mask = ~(size - 1);
    uint32_t flags = (is_64 ? PCI_BAR_MEM_TYPE_64 : 0) | (prefetchable ? PCI_BAR_MEM_PREFETCH : 0);

    if (bar >= PCI_NUM_BARS || (is_64 && bar + 1 >= PCI_NUM_BARS) || !ops)
        return -EINVAL;
    if (size < PCI_BAR_MIN_SIZE || (size & (size - 1)) || (!is_64 && size > (1ull << 31)))
        return -EINVAL;
    if (c->bars[bar].size || (is_64 && c->bars[bar + 1].size))
        return -EBUSY;
    if (bar > 0 && c->bars[bar - 1].is_64)
        return -EBUSY;
    c->bars[bar] = (struct pci_bar){
        .size = size,
        .is_64 = is_64,
        .prefetchable = prefetchable,
        .ops = ops,
        .opaque = opaque,
        .mapped = PCI_BAR_UNMAPPED,
    };
    pci_config_set32(c, off, flags);
    put_le(c->wmask + off, mask & PCI_BAR_MEM_MASK & UINT32_MAX, 4);
    if (is_64) {
        /* Marks the upper half as taken so no BAR is declared there. */
        pci_config_set32(c, off + 4, 0);
        put_le(c->wmask + off + 4, mask >> 32, 4);
    }
    return 0;
}

uint64_t pci_config_bar_address(const struct pci_config *c, unsigned int bar)
{
    uint32_t off = PCI_BASE_ADDRESS_0 + 4 * bar;
    uint64_t addr;

    if (bar >= PCI_NUM_BARS || !c->bars[bar].size)
        return 0;
    addr = pci_config_get32(c, off) & PCI_BAR_MEM_MASK & UINT32_MAX;
    if (c->bars[bar].is_64)
        addr |= (uint64_t)pci_config_get32(c, off + 4) << 32;
    return addr;
}

void pci_config_set_bar_address(struct pci_config *c, unsigned int bar, uint64_t addr)
{
    uint32_t off = PCI_BASE_ADDRESS_0 + 4 * bar;
    uint32_t flags;

    if (bar >= PCI_NUM_BARS || !c->bars[bar].size)
        return;
    flags = pci_config_get32(c, off) & ~PCI_BAR_MEM_MASK;
    pci_config_set32(c, off, (uint32_t)(addr & PCI_BAR_MEM_MASK) | flags);
    if (c->bars[bar].is_64)
        pci_config_set32(c, off + 4, addr >> 32);
}

uint64_t pci_config_bar_target(const struct pci_config *c, unsigned int bar)
{
    uint64_t addr = pci_config_bar_address(c, bar);
    uint64_t size;

    if (bar >= PCI_NUM_BARS || !(size = c->bars[bar].size))
        return PCI_BAR_UNMAPPED;
    if (!(pci_config_get16(c, PCI_COMMAND) & PCI_COMMAND_MEMORY))
        return PCI_BAR_UNMAPPED;
    if (addr == 0 || addr + size < addr || addr + size == 0)
        return PCI_BAR_UNMAPPED;
    return addr;
}

int pci_config_add_capability(struct pci_config *c, const uint8_t *cap, uint8_t len,
                              const uint8_t *wmask)
{
    /* Capabilities start dword-aligned (PCI 3.0, 6.7). */
    uint32_t at = (c->cap_free + 3u) & ~3u;

    if (len < 2)
        return -EINVAL;
    if (at + len > PCI_CONFIG_SIZE)
        return -ENOSPC;
    memcpy(c->data + at, cap, len);
    c->data[at + 1] = 0;
    if (wmask) {
        memcpy(c->wmask + at, wmask, len);
        c->wmask[at] = 0;
        c->wmask[at + 1] = 0;
    }
    if (c->cap_last)
        c->data[c->cap_last + 1] = at;
    else
        c->data[PCI_CAPABILITY_LIST] = at;
    c->cap_last = at;
    c->cap_free = at + len;
    pci_config_set16(c, PCI_STATUS, pci_config_get16(c, PCI_STATUS) | PCI_STATUS_CAP_LIST);
    return at;
}

uint8_t pci_config_find_capability(const struct pci_config *c, uint8_t id, uint8_t after)
{
    uint8_t pos = after ? c->data[after + 1] : c->data[PCI_CAPABILITY_LIST];

    for (int i = 0; i < PCI_CAP_MAX_WALK && pos >= PCI_CAP_START; i++) {
        pos &= ~3u;
        if (c->data[pos] == id)
            return pos;
        pos = c->data[pos + 1];
    }
    return 0;
}

void pci_config_read(const struct pci_config *c, uint32_t offset, uint8_t *data, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        data[i] = offset + i < PCI_CONFIG_SIZE ? c->data[offset + i] : 0;
}

void pci_config_write(struct pci_config *c, uint32_t offset, const uint8_t *data, uint32_t len)
{
    for (uint32_t i = 0; i < len && offset + i < PCI_CONFIG_SIZE; i++) {
        uint8_t m = c->wmask[offset + i];
        c->data[offset + i] = (c->data[offset + i] & ~m) | (data[i] & m);
    }
}
