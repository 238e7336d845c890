/* PCI bus 0. Config accesses from both mechanisms funnel into one function
 * under one mutex (config cycles are rare and CONFIG_ADDRESS is shared by
 * every vCPU). BARs are not registered on the VM's MMIO bus directly: the
 * two windows are, and forward to a private bus of BARs. That way a BAR can
 * move while a vCPU is inside an MMIO handler (an ECAM write) without
 * taking the MMIO bus's lock for writing from under its own read lock, and
 * a BAR can never be placed over RAM or a fixed device. */
#include "pci/pci_bus.h"

#include <errno.h>
#include <inttypes.h>
#include <glib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define CONFIG_ADDRESS_ENABLE 0x80000000u
#define CONFIG_ADDRESS_MASK   0x80fffffcu /* enable, bus, device, function, register */

/* The host bridge Cloud Hypervisor presents (Intel's virtual PCIe host). */
#define HOST_BRIDGE_VENDOR 0x8086
#define HOST_BRIDGE_DEVICE 0x0d57
#define HOST_BRIDGE_CLASS  0x060000

#define MCFG_REVISION    1
#define MCFG_ENTRIES_OFF (ACPI_HEADER_LEN + 8)
#define MCFG_ENTRY_LEN   16

struct pci_slot {
    struct pci_config *cfg;
    const struct pci_device_ops *ops;
    void *opaque;
};

struct pci_window {
    struct pci_bus *bus;
    uint64_t base;
    uint64_t size;
    uint64_t next; /* bump allocator */
    bool registered;
};

struct pci_bus {
    pthread_mutex_t lock;
    struct pci_bus_config cfg;
    struct bus *bars;
    uint32_t config_address;
    struct pci_slot slots[PCI_BUS_MAX_DEVICES];
    unsigned int nr_slots;
    struct pci_window win32, win64;
    struct pci_config host;
    bool pio_registered, ecam_registered;
    struct log_ratelimit rl;
};

static bool window_contains(const struct pci_window *w, uint64_t addr, uint64_t size)
{
    return w->size && addr >= w->base && size <= w->size && addr - w->base <= w->size - size;
}

/* Puts every BAR of `slot` where its registers say, telling the device. */
static void slot_update_bars(struct pci_bus *bus, struct pci_slot *s)
{
    unsigned int suppressed;

    for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
        struct pci_bar *bar = &s->cfg->bars[i];
        uint64_t target = pci_config_bar_target(s->cfg, i);
        uint64_t old = bar->mapped;

        if (!bar->size)
            continue;
        if (target != PCI_BAR_UNMAPPED && !window_contains(&bus->win32, target, bar->size) &&
            !window_contains(&bus->win64, target, bar->size)) {
            if (log_ratelimit(&bus->rl, &suppressed))
                log_warn("pci: BAR %u at 0x%" PRIx64 " is outside the host bridge windows; "
                         "not decoded (%u suppressed)",
                         i, target, suppressed);
            target = PCI_BAR_UNMAPPED;
        }
        if (target == old)
            continue;
        if (old != PCI_BAR_UNMAPPED)
            (void)bus_unregister(bus->bars, old);
        if (target != PCI_BAR_UNMAPPED &&
            bus_register(bus->bars, target, bar->size, bar->ops, bar->opaque) < 0) {
            if (log_ratelimit(&bus->rl, &suppressed))
                log_warn("pci: BAR %u at 0x%" PRIx64 " overlaps another; not decoded "
                         "(%u suppressed)",
                         i, target, suppressed);
            target = PCI_BAR_UNMAPPED;
        }
        bar->mapped = target;
        if (target != old && s->ops && s->ops->bar_moved)
            s->ops->bar_moved(s->opaque, i, old, target);
    }
}

static struct pci_slot *slot_of(struct pci_bus *bus, unsigned int devfn)
{
    unsigned int dev = devfn >> 3;

    /* Only function 0 of each device exists. */
    if ((devfn & 7) || dev >= PCI_BUS_MAX_DEVICES || !bus->slots[dev].cfg)
        return NULL;
    return &bus->slots[dev];
}

static bool config_access_ok(uint32_t offset, uint32_t len)
{
    return (len == 1 || len == 2 || len == 4) && (offset & (len - 1)) == 0 &&
           offset + len <= PCI_ECAM_FN_SIZE;
}

/* With the lock held. */
static void config_read_locked(struct pci_bus *bus, unsigned int devfn, uint32_t offset,
                               uint8_t *data, uint32_t len)
{
    struct pci_slot *s = slot_of(bus, devfn);

    if (!s || !config_access_ok(offset, len)) {
        memset(data, 0xff, len);
        return;
    }
    if (s->ops && s->ops->config_read)
        s->ops->config_read(s->opaque, offset, data, len);
    else
        pci_config_read(s->cfg, offset, data, len);
}

static void config_write_locked(struct pci_bus *bus, unsigned int devfn, uint32_t offset,
                                const uint8_t *data, uint32_t len)
{
    struct pci_slot *s = slot_of(bus, devfn);

    if (!s || !config_access_ok(offset, len))
        return;
    if (s->ops && s->ops->config_write)
        s->ops->config_write(s->opaque, offset, data, len);
    else
        pci_config_write(s->cfg, offset, data, len);
    slot_update_bars(bus, s);
}

void pci_bus_config_read(struct pci_bus *bus, unsigned int devfn, uint32_t offset, uint8_t *data,
                         uint32_t len)
{
    pthread_mutex_lock(&bus->lock);
    config_read_locked(bus, devfn, offset, data, len);
    pthread_mutex_unlock(&bus->lock);
}

void pci_bus_config_write(struct pci_bus *bus, unsigned int devfn, uint32_t offset,
                          const uint8_t *data, uint32_t len)
{
    pthread_mutex_lock(&bus->lock);
    config_write_locked(bus, devfn, offset, data, len);
    pthread_mutex_unlock(&bus->lock);
}

/* 0xcf8: CONFIG_ADDRESS, dword accesses only (byte accesses to 0xcf8-0xcfb
 * are other chipset registers on real hardware; here they do nothing).
 * 0xcfc-0xcff: CONFIG_DATA, a window on the selected dword. */
static bool cf8_target(struct pci_bus *bus, uint64_t offset, uint32_t len, unsigned int *devfn,
                       uint32_t *reg)
{
    uint32_t addr = bus->config_address;
    uint32_t byte = offset - 4;

    if (offset < 4 || (len != 1 && len != 2 && len != 4) || (byte & (len - 1)))
        return false;
    if (!(addr & CONFIG_ADDRESS_ENABLE) || ((addr >> 16) & 0xff) != 0)
        return false;
    *devfn = (addr >> 8) & 0xff;
    *reg = (addr & 0xfc) + byte;
    return true;
}

static void cf8_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
    struct pci_bus *bus = opaque;
    unsigned int devfn;
    uint32_t reg;

    pthread_mutex_lock(&bus->lock);
    if (offset == 0 && len == 4) {
        for (int i = 0; i < 4; i++)
            data[i] = bus->config_address >> (8 * i);
    } else if (cf8_target(bus, offset, len, &devfn, &reg)) {
        config_read_locked(bus, devfn, reg, data, len);
    } else {
        memset(data, 0xff, len);
    }
    pthread_mutex_unlock(&bus->lock);
}

static void cf8_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
    struct pci_bus *bus = opaque;
    unsigned int devfn;
    uint32_t reg;

    pthread_mutex_lock(&bus->lock);
    if (offset == 0 && len == 4)
        bus->config_address = (data[0] | data[1] << 8 | data[2] << 16 | (uint32_t)data[3] << 24) &
                              CONFIG_ADDRESS_MASK;
    else if (cf8_target(bus, offset, len, &devfn, &reg))
        config_write_locked(bus, devfn, reg, data, len);
    pthread_mutex_unlock(&bus->lock);
}

static const struct bus_ops cf8_ops = {.read = cf8_read, .write = cf8_write};

/* ECAM: bus << 20 | device << 15 | function << 12 | register. Bus 0 only. */
static void ecam_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
    struct pci_bus *bus = opaque;

    if (offset >= PCI_ECAM_BUS_SIZE) {
        memset(data, 0xff, len);
        return;
    }
    pci_bus_config_read(bus, offset >> 12, offset & (PCI_ECAM_FN_SIZE - 1), data, len);
}

static void ecam_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
    struct pci_bus *bus = opaque;

    if (offset >= PCI_ECAM_BUS_SIZE)
        return;
    pci_bus_config_write(bus, offset >> 12, offset & (PCI_ECAM_FN_SIZE - 1), data, len);
}

static const struct bus_ops ecam_ops = {.read = ecam_read, .write = ecam_write};

/* The windows forward to the BAR bus; holes read all ones. */
static void window_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
    struct pci_window *w = opaque;

    (void)bus_read(w->bus->bars, w->base + offset, data, len);
}

static void window_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
    struct pci_window *w = opaque;

    (void)bus_write(w->bus->bars, w->base + offset, data, len);
}

static const struct bus_ops window_ops = {.read = window_read, .write = window_write};

static int window_init(struct pci_bus *bus, struct pci_window *w, uint64_t base, uint64_t size)
{
    int ret;

    *w = (struct pci_window){.bus = bus, .base = base, .size = size, .next = base};
    if (!size)
        return 0;
    ret = bus_register(bus->cfg.mmio, base, size, &window_ops, w);
    if (ret < 0)
        return ret;
    w->registered = true;
    return 0;
}

static int window_alloc(struct pci_window *w, uint64_t size, uint64_t *addr)
{
    uint64_t at;

    if (!w->size)
        return -ENOSPC;
    at = (w->next + size - 1) & ~(size - 1);
    if (at < w->next || !window_contains(w, at, size))
        return -ENOSPC;
    w->next = at + size;
    *addr = at;
    return 0;
}

int pci_bus_new(const struct pci_bus_config *cfg, struct pci_bus **out)
{
    const struct pci_ids host_ids = {
        .vendor = HOST_BRIDGE_VENDOR,
        .device = HOST_BRIDGE_DEVICE,
        .class_code = HOST_BRIDGE_CLASS,
    };
    struct pci_bus *bus;
    unsigned int devfn;
    int ret;

    if (!cfg || !cfg->pio || !cfg->mmio || cfg->ecam_size < PCI_ECAM_BUS_SIZE ||
        cfg->mmio32_base + cfg->mmio32_size > (1ull << 32))
        return -EINVAL;
    bus = calloc(1, sizeof(*bus));
    if (!bus)
        return -ENOMEM;
    pthread_mutex_init(&bus->lock, NULL);
    bus->cfg = *cfg;
    bus->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(5);
    bus->bars = bus_new("pci-bars");
    if (!bus->bars) {
        ret = -ENOMEM;
        goto fail;
    }
    ret = bus_register(cfg->pio, PCI_CONFIG_PORT, PCI_CONFIG_PORT_LEN, &cf8_ops, bus);
    if (ret < 0)
        goto fail;
    bus->pio_registered = true;
    ret = bus_register(cfg->mmio, cfg->ecam_base, cfg->ecam_size, &ecam_ops, bus);
    if (ret < 0)
        goto fail;
    bus->ecam_registered = true;
    ret = window_init(bus, &bus->win32, cfg->mmio32_base, cfg->mmio32_size);
    if (ret == 0)
        ret = window_init(bus, &bus->win64, cfg->mmio64_base, cfg->mmio64_size);
    if (ret < 0)
        goto fail;
    pci_config_init(&bus->host, &host_ids);
    ret = pci_bus_add_device(bus, &bus->host, NULL, NULL, &devfn);
    if (ret < 0)
        goto fail;
    *out = bus;
    return 0;
fail:
    pci_bus_free(bus);
    return ret;
}

void pci_bus_free(struct pci_bus *bus)
{
    if (!bus)
        return;
    if (bus->win64.registered)
        (void)bus_unregister(bus->cfg.mmio, bus->win64.base);
    if (bus->win32.registered)
        (void)bus_unregister(bus->cfg.mmio, bus->win32.base);
    if (bus->ecam_registered)
        (void)bus_unregister(bus->cfg.mmio, bus->cfg.ecam_base);
    if (bus->pio_registered)
        (void)bus_unregister(bus->cfg.pio, PCI_CONFIG_PORT);
    bus_free(bus->bars);
    pthread_mutex_destroy(&bus->lock);
    free(bus);
}

int pci_bus_add_device(struct pci_bus *bus, struct pci_config *cfg,
                       const struct pci_device_ops *ops, void *opaque, unsigned int *devfn)
{
    struct pci_window saved32, saved64;
    uint64_t addr[PCI_NUM_BARS] = {0};
    unsigned int dev;
    int ret = 0;

    pthread_mutex_lock(&bus->lock);
    dev = bus->nr_slots;
    if (dev >= PCI_BUS_MAX_DEVICES) {
        ret = -ENOSPC;
        goto out;
    }
    /* Allocate every BAR before touching anything, so failure leaves no trace. */
    saved32 = bus->win32;
    saved64 = bus->win64;
    for (unsigned int i = 0; i < PCI_NUM_BARS && ret == 0; i++) {
        const struct pci_bar *bar = &cfg->bars[i];
        if (!bar->size)
            continue;
        ret = -ENOSPC;
        if (bar->is_64)
            ret = window_alloc(&bus->win64, bar->size, &addr[i]);
        if (ret < 0)
            ret = window_alloc(&bus->win32, bar->size, &addr[i]);
    }
    if (ret < 0) {
        bus->win32 = saved32;
        bus->win64 = saved64;
        goto out;
    }
    for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
        if (!cfg->bars[i].size)
            continue;
        cfg->bars[i].assigned = addr[i];
        cfg->bars[i].mapped = PCI_BAR_UNMAPPED;
        pci_config_set_bar_address(cfg, i, addr[i]);
    }
    bus->slots[dev] = (struct pci_slot){.cfg = cfg, .ops = ops, .opaque = opaque};
    bus->nr_slots++;
    *devfn = dev << 3;
out:
    pthread_mutex_unlock(&bus->lock);
    return ret;
}

void pci_bus_reset(struct pci_bus *bus)
{
    pthread_mutex_lock(&bus->lock);
    for (unsigned int dev = 0; dev < bus->nr_slots; dev++) {
        struct pci_slot *s = &bus->slots[dev];
        pci_config_set16(s->cfg, PCI_COMMAND, 0);
        s->cfg->data[PCI_CACHE_LINE_SIZE] = 0;
        s->cfg->data[PCI_LATENCY_TIMER] = 0;
        s->cfg->data[PCI_INTERRUPT_LINE] = 0;
        for (unsigned int i = 0; i < PCI_NUM_BARS; i++)
            pci_config_set_bar_address(s->cfg, i, s->cfg->bars[i].assigned);
        slot_update_bars(bus, s);
        if (s->ops && s->ops->reset)
            s->ops->reset(s->opaque);
    }
    bus->config_address = 0;
    pthread_mutex_unlock(&bus->lock);
}

/* Scope (\_SB_) {
 *   Device (PCI0) { _HID PNP0A08, _CID PNP0A03, _ADR 0, _SEG 0, _BBN 0, _UID 0,
 *     _CRS: bus 0-0, IO 0xcf8/8, IO windows around it, the MMIO windows }
 *   Device (MBRD) { _HID PNP0C02, _CRS: the ECAM area }  -- Linux only trusts
 *     MCFG when the area is reserved by a motherboard resource device. } */
void pci_bus_dsdt_append(void *opaque, struct aml *dsdt)
{
    const struct pci_bus *bus = opaque;
    size_t scope, dev, crs;

    scope = aml_scope_begin(dsdt, "\\_SB_");
    dev = aml_device_begin(dsdt, "PCI0");
    aml_name_eisaid(dsdt, "_HID", "PNP0A08");
    aml_name_eisaid(dsdt, "_CID", "PNP0A03");
    aml_name_integer(dsdt, "_ADR", 0);
    aml_name_integer(dsdt, "_SEG", 0);
    aml_name_integer(dsdt, "_BBN", 0);
    aml_name_integer(dsdt, "_UID", 0);
    aml_name(dsdt, "_CRS");
    crs = aml_resource_template_begin(dsdt);
    aml_word_bus_number(dsdt, 0, 0);
    aml_io(dsdt, PCI_CONFIG_PORT, PCI_CONFIG_PORT, 1, PCI_CONFIG_PORT_LEN);
    aml_word_io(dsdt, 0x0000, PCI_CONFIG_PORT - 1);
    aml_word_io(dsdt, 0x0d00, 0xffff);
    if (bus->win32.size)
        aml_dword_memory(dsdt, bus->win32.base, bus->win32.base + bus->win32.size - 1, false, true);
    if (bus->win64.size)
        aml_qword_memory(dsdt, bus->win64.base, bus->win64.base + bus->win64.size - 1, false, true);
    aml_resource_template_end(dsdt, crs);
    aml_end(dsdt, dev);

    dev = aml_device_begin(dsdt, "MBRD");
    aml_name_eisaid(dsdt, "_HID", "PNP0C02");
    aml_name_integer(dsdt, "_UID", 0);
    aml_name(dsdt, "_CRS");
    crs = aml_resource_template_begin(dsdt);
    aml_memory32_fixed(dsdt, bus->cfg.ecam_base, PCI_ECAM_BUS_SIZE, true);
    aml_resource_template_end(dsdt, crs);
    aml_end(dsdt, dev);
    aml_end(dsdt, scope);
}

static void put_le(uint8_t *p, uint64_t v, unsigned int size)
{
    for (unsigned int i = 0; i < size; i++)
        p[i] = v >> (8 * i);
}

/* MCFG (PCI Firmware 3.0, 4.1.2): one allocation, segment 0, buses 0-0. */
int pci_bus_build_mcfg(const struct pci_bus *bus, uint8_t **out, size_t *len)
{
    size_t size = MCFG_ENTRIES_OFF + MCFG_ENTRY_LEN;
    uint8_t *t = g_malloc0(size);

    acpi_header_init(t, "MCFG", size, MCFG_REVISION);
    put_le(t + MCFG_ENTRIES_OFF, bus->cfg.ecam_base, 8);
    put_le(t + MCFG_ENTRIES_OFF + 8, 0, 2); /* segment */
    t[MCFG_ENTRIES_OFF + 10] = 0;           /* start bus */
    t[MCFG_ENTRIES_OFF + 11] = 0;           /* end bus */
    *out = t;
    *len = size;
    return 0;
}

int pci_bus_tables_append(void *opaque, struct acpi_tables *tables)
{
    g_autofree uint8_t *mcfg = NULL;
    size_t len;
    int ret;

    ret = pci_bus_build_mcfg(opaque, &mcfg, &len);
    if (ret == 0)
        ret = acpi_tables_add(tables, mcfg, len);
    return ret;
}
