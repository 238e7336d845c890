/* Tests for vmm/pci/config.c and vmm/pci/pci_bus.c: config space through
 * 0xcf8/0xcfc and ECAM, absent functions, odd accesses, BAR sizing,
 * allocation and reprogramming, the capability list, reset and ACPI. */
#define _GNU_SOURCE
#include "pci/pci_bus.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "arch/x86/layout.h"

#define MMIO64_BASE LAYOUT_GiB(8)

struct probe {
    uint64_t last_offset;
    int reads, writes;
    unsigned int moves;
    unsigned int moved_bar;
    uint64_t moved_old, moved_new;
    int resets;
};

static void probe_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
    struct probe *p = opaque;

    p->last_offset = offset;
    p->reads++;
    memset(data, 0x5a, len);
}

static void probe_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
    struct probe *p = opaque;

    p->last_offset = offset;
    p->writes++;
}

static const struct bus_ops probe_ops = {.read = probe_read, .write = probe_write};

static void probe_bar_moved(void *opaque, unsigned int bar, uint64_t old_addr, uint64_t new_addr)
{
    struct probe *p = opaque;

    p->moves++;
    p->moved_bar = bar;
    p->moved_old = old_addr;
    p->moved_new = new_addr;
}

static void probe_reset(void *opaque)
{
    struct probe *p = opaque;

    p->resets++;
}

static const struct pci_device_ops probe_pci_ops = {.bar_moved = probe_bar_moved,
                                                    .reset = probe_reset};

struct fixture {
    struct bus *pio, *mmio;
    struct pci_bus *pci;
    struct pci_config dev;
    struct probe probe;
    unsigned int devfn;
};

static void fixture_init(struct fixture *f, bool with_device)
{
    const struct pci_bus_config cfg = {
        .ecam_base = LAYOUT_PCI_MMCONFIG_START,
        .ecam_size = LAYOUT_PCI_MMCONFIG_SIZE,
        .mmio32_base = LAYOUT_PCI_MMIO32_START,
        .mmio32_size = LAYOUT_PCI_MMIO32_SIZE,
        .mmio64_base = MMIO64_BASE,
        .mmio64_size = LAYOUT_PCI_MMIO64_SIZE,
    };
    struct pci_bus_config c = cfg;
    const struct pci_ids ids = {.vendor = 0x1af4,
                                .device = 0x1044,
                                .revision = 1,
                                .class_code = 0x00ff00,
                                .subsystem_vendor = 0x1af4,
                                .subsystem = 0x1044};

    memset(f, 0, sizeof(*f));
    f->pio = bus_new("pio");
    f->mmio = bus_new("mmio");
    c.pio = f->pio;
    c.mmio = f->mmio;
    g_assert_cmpint(pci_bus_new(&c, &f->pci), ==, 0);
    if (!with_device)
        return;
    pci_config_init(&f->dev, &ids);
    g_assert_cmpint(pci_config_add_bar(&f->dev, 0, 0x4000, true, false, &probe_ops, &f->probe), ==,
                    0);
    g_assert_cmpint(pci_config_add_bar(&f->dev, 2, 0x1000, false, false, &probe_ops, &f->probe), ==,
                    0);
    g_assert_cmpint(pci_bus_add_device(f->pci, &f->dev, &probe_pci_ops, &f->probe, &f->devfn), ==,
                    0);
    g_assert_cmpuint(f->devfn, ==, 1 << 3);
}

static void fixture_fini(struct fixture *f)
{
    pci_bus_free(f->pci);
    bus_free(f->pio);
    bus_free(f->mmio);
}

static uint32_t le(const uint8_t *b, uint32_t len)
{
    uint32_t v = 0;

    for (uint32_t i = 0; i < len; i++)
        v |= (uint32_t)b[i] << (8 * i);
    return v;
}

static void put(uint8_t *b, uint32_t v, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        b[i] = v >> (8 * i);
}

static void cf8_select(struct fixture *f, uint32_t addr)
{
    uint8_t b[4];

    put(b, addr, 4);
    g_assert_true(bus_write(f->pio, 0xcf8, b, 4));
}

static uint32_t cf8_read(struct fixture *f, unsigned int devfn, uint32_t reg, uint32_t len)
{
    uint8_t b[4];

    cf8_select(f, 0x80000000u | devfn << 8 | (reg & 0xfc));
    g_assert_true(bus_read(f->pio, 0xcfc + (reg & 3), b, len));
    return le(b, len);
}

static void cf8_write(struct fixture *f, unsigned int devfn, uint32_t reg, uint32_t v, uint32_t len)
{
    uint8_t b[4];

    cf8_select(f, 0x80000000u | devfn << 8 | (reg & 0xfc));
    put(b, v, len);
    g_assert_true(bus_write(f->pio, 0xcfc + (reg & 3), b, len));
}

static uint32_t ecam_read(struct fixture *f, unsigned int devfn, uint32_t reg, uint32_t len)
{
    uint8_t b[4];

    g_assert_true(bus_read(f->mmio, LAYOUT_PCI_MMCONFIG_START + (devfn << 12) + reg, b, len));
    return le(b, len);
}

static void ecam_write(struct fixture *f, unsigned int devfn, uint32_t reg, uint32_t v,
                       uint32_t len)
{
    uint8_t b[4];

    put(b, v, len);
    g_assert_true(bus_write(f->mmio, LAYOUT_PCI_MMCONFIG_START + (devfn << 12) + reg, b, len));
}

static void test_host_bridge(void)
{
    struct fixture f;

    fixture_init(&f, false);
    /* Both mechanisms see the same function. */
    g_assert_cmphex(cf8_read(&f, 0, 0, 4), ==, 0x0d578086);
    g_assert_cmphex(ecam_read(&f, 0, 0, 4), ==, 0x0d578086);
    g_assert_cmphex(cf8_read(&f, 0, 0x08, 4) >> 8, ==, 0x060000);
    g_assert_cmphex(ecam_read(&f, 0, 0x0b, 1), ==, 0x06);
    g_assert_cmphex(cf8_read(&f, 0, 0x0e, 1), ==, 0x00); /* header type 0, single function */
    /* Byte and word accesses at 0xcfd-0xcff. */
    g_assert_cmphex(cf8_read(&f, 0, 0x01, 1), ==, 0x80);
    g_assert_cmphex(cf8_read(&f, 0, 0x02, 2), ==, 0x0d57);
    g_assert_cmphex(cf8_read(&f, 0, 0x03, 1), ==, 0x0d);
    fixture_fini(&f);
}

static void test_absent_functions(void)
{
    struct fixture f;
    uint8_t b[4];

    fixture_init(&f, false);
    g_assert_cmphex(cf8_read(&f, 5 << 3, 0, 2), ==, 0xffff);
    g_assert_cmphex(cf8_read(&f, 31 << 3, 0, 4), ==, 0xffffffff);
    g_assert_cmphex(cf8_read(&f, 1, 0, 2), ==, 0xffff); /* function 1 of the host bridge */
    g_assert_cmphex(ecam_read(&f, 5 << 3, 0, 2), ==, 0xffff);
    g_assert_cmphex(ecam_read(&f, 2, 0, 4), ==, 0xffffffff);
    /* Bus 1, through both mechanisms. */
    cf8_select(&f, 0x80010000u);
    g_assert_true(bus_read(f.pio, 0xcfc, b, 4));
    g_assert_cmphex(le(b, 4), ==, 0xffffffff);
    g_assert_true(bus_read(f.mmio, LAYOUT_PCI_MMCONFIG_START + (1 << 20), b, 2));
    g_assert_cmphex(le(b, 2), ==, 0xffff);
    /* Writes there go nowhere. */
    ecam_write(&f, 5 << 3, 0x04, 0xffff, 2);
    cf8_write(&f, 5 << 3, 0x04, 0xffff, 2);
    fixture_fini(&f);
}

static void test_config_address(void)
{
    struct fixture f;
    uint8_t b[4];

    fixture_init(&f, false);
    cf8_select(&f, 0x80000810u);
    g_assert_true(bus_read(f.pio, 0xcf8, b, 4));
    g_assert_cmphex(le(b, 4), ==, 0x80000810u);
    /* Reserved bits 30:24 and 1:0 read as zero. */
    cf8_select(&f, 0xff000003u);
    g_assert_true(bus_read(f.pio, 0xcf8, b, 4));
    g_assert_cmphex(le(b, 4), ==, 0x80000000u);
    /* With the enable bit clear CONFIG_DATA is not a config cycle. */
    cf8_select(&f, 0x00000000u);
    g_assert_true(bus_read(f.pio, 0xcfc, b, 4));
    g_assert_cmphex(le(b, 4), ==, 0xffffffff);
    /* Byte accesses to 0xcf8-0xcfb are not CONFIG_ADDRESS. */
    cf8_select(&f, 0x80000000u);
    b[0] = 0x12;
    g_assert_true(bus_write(f.pio, 0xcf9, b, 1));
    g_assert_true(bus_read(f.pio, 0xcf8, b, 1));
    g_assert_cmphex(b[0], ==, 0xff);
    g_assert_true(bus_read(f.pio, 0xcf8, b, 4));
    g_assert_cmphex(le(b, 4), ==, 0x80000000u);
    fixture_fini(&f);
}

static void test_odd_accesses(void)
{
    struct fixture f;
    uint8_t b[8];

    fixture_init(&f, true);
    /* A word at 0xcfd straddles the dword: not a config cycle. */
    cf8_select(&f, 0x80000000u | f.devfn << 8 | 0x04);
    g_assert_true(bus_read(f.pio, 0xcfd, b, 2));
    g_assert_cmphex(le(b, 2), ==, 0xffff);
    put(b, 0xffff, 2);
    g_assert_true(bus_write(f.pio, 0xcfd, b, 2));
    g_assert_cmphex(cf8_read(&f, f.devfn, 0x04, 2), ==, 0);
    /* Misaligned ECAM dword, 8-byte access, register past 4 KiB in the next function. */
    g_assert_cmphex(ecam_read(&f, f.devfn, 0x02, 4), ==, 0xffffffff);
    ecam_write(&f, f.devfn, 0x02, 0xffffffff, 4);
    g_assert_cmphex(ecam_read(&f, f.devfn, 0x04, 2), ==, 0);
    g_assert_true(bus_read(f.mmio, LAYOUT_PCI_MMCONFIG_START + (f.devfn << 12), b, 8));
    g_assert_cmphex(b[0], ==, 0xff);
    /* Extended config space of a conventional function reads zero. */
    g_assert_cmphex(ecam_read(&f, f.devfn, 0x100, 4), ==, 0);
    g_assert_cmphex(ecam_read(&f, f.devfn, 0xffc, 4), ==, 0);
    ecam_write(&f, f.devfn, 0x100, 0x12345678, 4);
    /* Read-only header fields stay put. */
    ecam_write(&f, f.devfn, 0x00, 0x12345678, 4);
    g_assert_cmphex(ecam_read(&f, f.devfn, 0x00, 4), ==, 0x10441af4);
    ecam_write(&f, f.devfn, 0x08, 0xffffffff, 4);
    g_assert_cmphex(ecam_read(&f, f.devfn, 0x08, 4), ==, 0x00ff0001);
    g_assert_cmphex(ecam_read(&f, f.devfn, 0x2c, 4), ==, 0x10441af4);
    /* Scratch registers are writable. */
    ecam_write(&f, f.devfn, 0x3c, 0x0b, 1);
    g_assert_cmphex(ecam_read(&f, f.devfn, 0x3c, 2), ==, 0x000b); /* pin 0: no INTx */
    fixture_fini(&f);
}

static void test_bar_sizing(void)
{
    struct fixture f;
    uint64_t bar0, bar2;

    fixture_init(&f, true);
    bar0 = pci_config_bar_address(&f.dev, 0);
    bar2 = pci_config_bar_address(&f.dev, 2);
    /* 64-bit BARs come from the 64-bit window, 32-bit ones from below 4 GiB. */
    g_assert_cmphex(bar0, ==, MMIO64_BASE);
    g_assert_cmphex(bar2, ==, LAYOUT_PCI_MMIO32_START);
    g_assert_cmphex(ecam_read(&f, f.devfn, 0x10, 4), ==, (uint32_t)MMIO64_BASE | 0x4);
    g_assert_cmphex(ecam_read(&f, f.devfn, 0x14, 4), ==, MMIO64_BASE >> 32);
    /* All ones reads back the size mask with the type bits. */
    ecam_write(&f, f.devfn, 0x10, 0xffffffff, 4);
    ecam_write(&f, f.devfn, 0x14, 0xffffffff, 4);
    g_assert_cmphex(ecam_read(&f, f.devfn, 0x10, 4), ==, 0xffffc004);
    g_assert_cmphex(ecam_read(&f, f.devfn, 0x14, 4), ==, 0xffffffff);
    cf8_write(&f, f.devfn, 0x18, 0xffffffff, 4);
    g_assert_cmphex(cf8_read(&f, f.devfn, 0x18, 4), ==, 0xfffff000);
    /* Unimplemented BARs and the ROM BAR read zero after sizing. */
    cf8_write(&f, f.devfn, 0x1c, 0xffffffff, 4);
    g_assert_cmphex(cf8_read(&f, f.devfn, 0x1c, 4), ==, 0);
    ecam_write(&f, f.devfn, 0x30, 0xfffff800, 4);
    g_assert_cmphex(ecam_read(&f, f.devfn, 0x30, 4), ==, 0);
    /* Decoding was off throughout: nothing moved. */
    g_assert_cmpuint(f.probe.moves, ==, 0);
    fixture_fini(&f);
}

static void test_bar_decode_and_move(void)
{
    struct fixture f;
    uint64_t bar0;
    uint64_t moved = LAYOUT_PCI_MMIO32_START + 0x100000;
    uint8_t b[4];

    fixture_init(&f, true);
    bar0 = pci_config_bar_address(&f.dev, 0);
    /* Decoding off: the window answers all ones, the device sees nothing. */
    g_assert_true(bus_read(f.mmio, bar0 + 8, b, 4));
    g_assert_cmphex(le(b, 4), ==, 0xffffffff);
    g_assert_cmpint(f.probe.reads, ==, 0);
    /* Memory decode on: both BARs appear, each move is reported. */
    ecam_write(&f, f.devfn, 0x04, 0x0006, 2);
    g_assert_cmpuint(f.probe.moves, ==, 2);
    g_assert_true(bus_read(f.mmio, bar0 + 8, b, 4));
    g_assert_cmphex(le(b, 4), ==, 0x5a5a5a5a);
    g_assert_cmpuint(f.probe.last_offset, ==, 8);
    g_assert_true(bus_write(f.mmio, pci_config_bar_address(&f.dev, 2) + 0xffc, b, 4));
    g_assert_cmpuint(f.probe.last_offset, ==, 0xffc);
    /* Linux's way: decode off, program, decode on. The BAR moves once. */
    ecam_write(&f, f.devfn, 0x04, 0x0004, 2);
    g_assert_cmpuint(f.probe.moves, ==, 4);
    g_assert_cmphex(f.probe.moved_new, ==, PCI_BAR_UNMAPPED);
    ecam_write(&f, f.devfn, 0x10, (uint32_t)moved, 4);
    ecam_write(&f, f.devfn, 0x14, 0, 4);
    ecam_write(&f, f.devfn, 0x04, 0x0006, 2);
    g_assert_cmpuint(f.probe.moves, ==, 6);
    g_assert_cmphex(pci_config_bar_address(&f.dev, 0), ==, moved);
    f.probe.reads = 0;
    g_assert_true(bus_read(f.mmio, bar0, b, 4));
    g_assert_cmphex(le(b, 4), ==, 0xffffffff);
    g_assert_cmpint(f.probe.reads, ==, 0);
    g_assert_true(bus_read(f.mmio, moved + 0x3ffc, b, 4));
    g_assert_cmpint(f.probe.reads, ==, 1);
    g_assert_cmpuint(f.probe.last_offset, ==, 0x3ffc);
    /* Reprogrammed with decode on, through the legacy ports. */
    cf8_write(&f, f.devfn, 0x10, (uint32_t)moved + 0x4000, 4);
    g_assert_cmpuint(f.probe.moved_bar, ==, 0);
    g_assert_cmphex(f.probe.moved_old, ==, moved);
    g_assert_cmphex(f.probe.moved_new, ==, moved + 0x4000);
    /* Outside the windows (over RAM) or overlapping BAR 2: not decoded. */
    cf8_write(&f, f.devfn, 0x10, 0x10000, 4);
    g_assert_cmphex(f.probe.moved_new, ==, PCI_BAR_UNMAPPED);
    cf8_write(&f, f.devfn, 0x10, (uint32_t)pci_config_bar_address(&f.dev, 2), 4);
    g_assert_cmphex(f.dev.bars[0].mapped, ==, PCI_BAR_UNMAPPED);
    /* The all-ones sizing pattern with decode on does not map anything. */
    ecam_write(&f, f.devfn, 0x18, 0xffffffff, 4);
    g_assert_cmphex(f.dev.bars[2].mapped, ==, PCI_BAR_UNMAPPED);
    /* Reset: addresses back, decode off, device told. */
    pci_bus_reset(f.pci);
    g_assert_cmpint(f.probe.resets, ==, 1);
    g_assert_cmphex(pci_config_bar_address(&f.dev, 0), ==, bar0);
    g_assert_cmphex(ecam_read(&f, f.devfn, 0x04, 2), ==, 0);
    fixture_fini(&f);
}

static void test_capability_list(void)
{
    struct fixture f;
    const uint8_t cap_a[8] = {0x09, 0xaa, 8, 1, 2, 3, 4, 5};
    const uint8_t cap_b[6] = {0x05, 0x00, 0x11, 0x22, 0x33, 0x44};
    const uint8_t wmask_b[6] = {0xff, 0xff, 0xff, 0x0f, 0, 0};
    uint32_t pos, ids[4], n = 0;
    int a, b;

    fixture_init(&f, true);
    g_assert_cmphex(ecam_read(&f, f.devfn, 0x06, 2) & PCI_STATUS_CAP_LIST, ==, 0);
    a = pci_config_add_capability(&f.dev, cap_a, sizeof(cap_a), NULL);
    b = pci_config_add_capability(&f.dev, cap_b, sizeof(cap_b), wmask_b);
    g_assert_cmpint(a, ==, 0x40);
    g_assert_cmpint(b, ==, 0x48);
    g_assert_cmphex(ecam_read(&f, f.devfn, 0x06, 2) & PCI_STATUS_CAP_LIST, ==, PCI_STATUS_CAP_LIST);
    /* Walk it as a driver does. */
    for (pos = ecam_read(&f, f.devfn, 0x34, 1); pos && n < 4; n++) {
        ids[n] = ecam_read(&f, f.devfn, pos, 1);
        pos = ecam_read(&f, f.devfn, pos + 1, 1);
    }
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpuint(ids[0], ==, 0x09);
    g_assert_cmpuint(ids[1], ==, 0x05);
    g_assert_cmphex(ecam_read(&f, f.devfn, 0x44, 4), ==, 0x05040302);
    /* id and next are never writable; the mask applies to the rest. */
    ecam_write(&f, f.devfn, 0x48, 0xffffffff, 4);
    g_assert_cmphex(ecam_read(&f, f.devfn, 0x48, 4), ==, 0x2fff0005);
    g_assert_cmpuint(pci_config_find_capability(&f.dev, 0x05, 0), ==, 0x48);
    g_assert_cmpuint(pci_config_find_capability(&f.dev, 0x09, 0), ==, 0x40);
    g_assert_cmpuint(pci_config_find_capability(&f.dev, 0x09, 0x40), ==, 0);
    g_assert_cmpuint(pci_config_find_capability(&f.dev, 0x10, 0), ==, 0);
    /* A looping list (as a buggy device might build) does not hang the walk. */
    f.dev.data[0x49] = 0x40;
    g_assert_cmpuint(pci_config_find_capability(&f.dev, 0x10, 0), ==, 0);
    /* Full: refused. */
    {
        uint8_t big[200] = {0x09};
        g_assert_cmpint(pci_config_add_capability(&f.dev, big, 200, NULL), ==, -ENOSPC);
        g_assert_cmpint(pci_config_add_capability(&f.dev, big, 1, NULL), ==, -EINVAL);
    }
    fixture_fini(&f);
}

static void test_bad_bars(void)
{
    struct pci_config c;
    const struct pci_ids ids = {.vendor = 1};

    pci_config_init(&c, &ids);
    g_assert_cmpint(pci_config_add_bar(&c, 0, 0x3000, false, false, &probe_ops, NULL), ==, -EINVAL);
    g_assert_cmpint(pci_config_add_bar(&c, 0, 0x800, false, false, &probe_ops, NULL), ==, -EINVAL);
    g_assert_cmpint(pci_config_add_bar(&c, 5, 0x1000, true, false, &probe_ops, NULL), ==, -EINVAL);
    g_assert_cmpint(pci_config_add_bar(&c, 6, 0x1000, false, false, &probe_ops, NULL), ==, -EINVAL);
    g_assert_cmpint(pci_config_add_bar(&c, 1, 0x1000, true, true, &probe_ops, NULL), ==, 0);
    g_assert_cmpint(pci_config_add_bar(&c, 2, 0x1000, false, false, &probe_ops, NULL), ==, -EBUSY);
    g_assert_cmpint(pci_config_add_bar(&c, 0, 0x1000, true, false, &probe_ops, NULL), ==, -EBUSY);
    g_assert_cmphex(pci_config_get32(&c, 0x14), ==, 0xc); /* 64-bit prefetchable */
}

static void test_device_numbers_and_windows(void)
{
    struct fixture f;
    struct pci_config devs[PCI_BUS_MAX_DEVICES];
    struct pci_config huge;
    const struct pci_ids ids = {.vendor = 0x1234};
    unsigned int devfn;

    fixture_init(&f, true);
    /* A BAR bigger than both windows does not fit: nothing is plugged. */
    pci_config_init(&huge, &ids);
    g_assert_cmpint(pci_config_add_bar(&huge, 0, 1ull << 40, true, false, &probe_ops, NULL), ==, 0);
    g_assert_cmpint(pci_bus_add_device(f.pci, &huge, NULL, NULL, &devfn), ==, -ENOSPC);
    for (unsigned int i = 2; i < PCI_BUS_MAX_DEVICES; i++) {
        pci_config_init(&devs[i], &ids);
        g_assert_cmpint(pci_bus_add_device(f.pci, &devs[i], NULL, NULL, &devfn), ==, 0);
        g_assert_cmpuint(devfn, ==, i << 3);
    }
    g_assert_cmpint(pci_bus_add_device(f.pci, &devs[2], NULL, NULL, &devfn), ==, -ENOSPC);
    g_assert_cmphex(ecam_read(&f, 31 << 3, 0, 2), ==, 0x1234);
    fixture_fini(&f);
}

static void test_acpi(void)
{
    struct fixture f;
    struct aml a;
    g_autofree uint8_t *mcfg = NULL;
    size_t len;
    const uint8_t pnp0a08[] = {0x41, 0xd0, 0x0a, 0x08};
    const uint8_t bus_range[] = {0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00};

    fixture_init(&f, false);
    aml_init(&a);
    pci_bus_dsdt_append(f.pci, &a);
    g_assert_cmpint(aml_error(&a), ==, 0);
    g_assert_nonnull(memmem(a.buf, a.len, "PCI0", 4));
    g_assert_nonnull(memmem(a.buf, a.len, "MBRD", 4));
    g_assert_nonnull(memmem(a.buf, a.len, "_SEG", 4));
    g_assert_nonnull(memmem(a.buf, a.len, "_BBN", 4));
    g_assert_nonnull(memmem(a.buf, a.len, pnp0a08, sizeof(pnp0a08)));
    g_assert_nonnull(memmem(a.buf, a.len, bus_range, sizeof(bus_range)));
    aml_release(&a);

    g_assert_cmpint(pci_bus_build_mcfg(f.pci, &mcfg, &len), ==, 0);
    g_assert_cmpuint(len, ==, 60);
    g_assert_cmpmem(mcfg, 4, "MCFG", 4);
    g_assert_cmpuint(le(mcfg + 4, 4), ==, 60);
    g_assert_cmphex(le(mcfg + 44, 4), ==, (uint32_t)LAYOUT_PCI_MMCONFIG_START);
    g_assert_cmphex(le(mcfg + 48, 4), ==, 0);
    g_assert_cmpuint(mcfg[52] | mcfg[53] << 8, ==, 0); /* segment */
    g_assert_cmpuint(mcfg[54], ==, 0);                 /* start bus */
    g_assert_cmpuint(mcfg[55], ==, 0);                 /* end bus */
    fixture_fini(&f);
}

static void test_bad_bus_config(void)
{
    struct pci_bus_config c = {0};
    struct pci_bus *pci;
    struct bus *pio = bus_new("pio"), *mmio = bus_new("mmio");
    struct probe p = {0};

    g_assert_cmpint(pci_bus_new(NULL, &pci), ==, -EINVAL);
    g_assert_cmpint(pci_bus_new(&c, &pci), ==, -EINVAL);
    c.pio = pio;
    c.mmio = mmio;
    c.ecam_base = LAYOUT_PCI_MMCONFIG_START;
    c.ecam_size = LAYOUT_PCI_MMCONFIG_SIZE;
    /* The config ports are taken: nothing stays registered. */
    g_assert_cmpint(bus_register(pio, 0xcfc, 1, &probe_ops, &p), ==, 0);
    g_assert_cmpint(pci_bus_new(&c, &pci), ==, -EEXIST);
    g_assert_cmpint(bus_unregister(pio, 0xcfc), ==, 0);
    g_assert_cmpint(pci_bus_new(&c, &pci), ==, 0);
    pci_bus_free(pci);
    g_assert_cmpint(bus_register(mmio, LAYOUT_PCI_MMCONFIG_START, 1, &probe_ops, &p), ==, 0);
    bus_free(pio);
    bus_free(mmio);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pci/host-bridge", test_host_bridge);
    g_test_add_func("/pci/absent-functions", test_absent_functions);
    g_test_add_func("/pci/config-address", test_config_address);
    g_test_add_func("/pci/odd-accesses", test_odd_accesses);
    g_test_add_func("/pci/bar-sizing", test_bar_sizing);
    g_test_add_func("/pci/bar-decode-and-move", test_bar_decode_and_move);
    g_test_add_func("/pci/capability-list", test_capability_list);
    g_test_add_func("/pci/bad-bars", test_bad_bars);
    g_test_add_func("/pci/device-numbers-and-windows", test_device_numbers_and_windows);
    g_test_add_func("/pci/acpi", test_acpi);
    g_test_add_func("/pci/bad-bus-config", test_bad_bus_config);
    return g_test_run();
}
