/* Tests for vmm/acpi/tables.c: the tables are read back from a plain buffer
 * used as guest memory, the way a guest finds them: RSDP -> XSDT -> each
 * table (and FADT -> DSDT), checking signatures, lengths and checksums. */
#include "acpi/tables.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "devices/acpi_power.h"

#define MEM_SIZE LAYOUT_MiB(1)

struct parsed {
    const uint8_t *rsdp, *xsdt, *fadt, *madt, *dsdt;
    const uint8_t *extra; /* a table with signature "TEST" */
    unsigned int nr_tables;
};

static uint64_t le(const uint8_t *p, unsigned int size)
{
    uint64_t v = 0;

    for (unsigned int i = 0; i < size; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint8_t sum(const uint8_t *p, size_t len)
{
    uint8_t s = 0;

    for (size_t i = 0; i < len; i++)
        s += p[i];
    return s;
}

static struct guest_memory low_memory(uint8_t *buf)
{
    struct guest_memory mem = {.nr_regions = 1};

    mem.regions[0] = (struct guest_region){.gpa = 0, .size = MEM_SIZE, .hva = buf};
    return mem;
}

/* A table at gpa: inside guest memory, with a sane length and checksum. */
static const uint8_t *table_at(const struct guest_memory *mem, uint64_t gpa, const char *sig)
{
    const uint8_t *t = guest_memory_ptr(mem, gpa, ACPI_HEADER_LEN);
    uint32_t len;

    g_assert_nonnull(t);
    if (sig)
        g_assert_cmpmem(t, 4, sig, 4);
    len = le(t + 4, 4);
    g_assert_cmpuint(len, >=, ACPI_HEADER_LEN);
    g_assert_nonnull(guest_memory_ptr(mem, gpa, len));
    g_assert_cmpuint(sum(t, len), ==, 0);
    g_assert_cmpmem(t + 10, 6, "VIREO ", 6);
    return t;
}

static struct parsed parse(const struct guest_memory *mem, uint64_t rsdp_gpa)
{
    struct parsed p = {0};
    uint32_t xsdt_len;

    g_assert_cmpuint(rsdp_gpa, ==, LAYOUT_ACPI_START);
    g_assert_cmpuint(rsdp_gpa % 16, ==, 0); /* where a legacy scan finds it */
    p.rsdp = guest_memory_ptr(mem, rsdp_gpa, 36);
    g_assert_nonnull(p.rsdp);
    g_assert_cmpmem(p.rsdp, 8, "RSD PTR ", 8);
    g_assert_cmpuint(sum(p.rsdp, 20), ==, 0);
    g_assert_cmpuint(sum(p.rsdp, 36), ==, 0);
    g_assert_cmpuint(p.rsdp[15], ==, 2);
    g_assert_cmpuint(le(p.rsdp + 20, 4), ==, 36);

    p.xsdt = table_at(mem, le(p.rsdp + 24, 8), "XSDT");
    xsdt_len = le(p.xsdt + 4, 4);
    g_assert_cmpuint((xsdt_len - ACPI_HEADER_LEN) % 8, ==, 0);
    p.nr_tables = (xsdt_len - ACPI_HEADER_LEN) / 8;
    for (unsigned int i = 0; i < p.nr_tables; i++) {
        const uint8_t *t = table_at(mem, le(p.xsdt + ACPI_HEADER_LEN + 8 * i, 8), NULL);
        g_assert_true(le(p.xsdt + ACPI_HEADER_LEN + 8 * i, 8) >= LAYOUT_ACPI_START);
        g_assert_true(le(p.xsdt + ACPI_HEADER_LEN + 8 * i, 8) + le(t + 4, 4) <=
                      LAYOUT_ACPI_START + LAYOUT_ACPI_SIZE);
        if (memcmp(t, "FACP", 4) == 0)
            p.fadt = t;
        else if (memcmp(t, "APIC", 4) == 0)
            p.madt = t;
        else if (memcmp(t, "TEST", 4) == 0)
            p.extra = t;
        else
            g_assert_not_reached();
    }
    g_assert_nonnull(p.fadt);
    g_assert_nonnull(p.madt);
    p.dsdt = table_at(mem, le(p.fadt + 140, 8), "DSDT");
    return p;
}

static bool contains(const uint8_t *hay, size_t len, const void *needle, size_t nlen)
{
    for (size_t i = 0; i + nlen <= len; i++)
        if (memcmp(hay + i, needle, nlen) == 0)
            return true;
    return false;
}

static bool dsdt_has(const struct parsed *p, const char *s)
{
    return contains(p->dsdt, le(p->dsdt + 4, 4), s, strlen(s));
}

static void assert_gas_io(const uint8_t *gas, uint64_t port)
{
    g_assert_cmpuint(gas[0], ==, 1); /* SystemIO */
    g_assert_cmpuint(gas[1], ==, 8);
    g_assert_cmpuint(gas[3], ==, 1); /* byte access */
    g_assert_cmphex(le(gas + 4, 8), ==, port);
}

static void test_full_set(void)
{
    g_autofree uint8_t *ram = g_malloc0(MEM_SIZE);
    struct guest_memory mem = low_memory(ram);
    struct acpi_config cfg = {.nr_cpus = 4, .serial = true, .i8042 = true};
    const uint8_t pnp0501[] = {0x0c, 0x41, 0xd0, 0x05, 0x01};
    const uint8_t pnp0c0c[] = {0x0c, 0x41, 0xd0, 0x0c, 0x0c};
    const uint8_t pnp0b00[] = {0x0c, 0x41, 0xd0, 0x0b, 0x00};
    uint64_t rsdp = 0;
    struct parsed p;
    uint32_t flags, madt_len, off;
    unsigned int cpus = 0, ioapics = 0;

    g_assert_cmpint(acpi_tables_build(&cfg, &mem, &rsdp), ==, 0);
    p = parse(&mem, rsdp);
    g_assert_cmpuint(p.nr_tables, ==, 2);

    /* FADT: hardware-reduced, reset register, sleep registers. */
    g_assert_cmpuint(le(p.fadt + 4, 4), ==, 276);
    g_assert_cmpuint(p.fadt[8], ==, 6);
    flags = le(p.fadt + 112, 4);
    g_assert_true(flags & (1u << 20)); /* HW_REDUCED_ACPI */
    g_assert_true(flags & (1u << 10)); /* RESET_REG_SUP */
    assert_gas_io(p.fadt + 116, LAYOUT_PORT_ACPI_SLEEP + ACPI_POWER_RESET);
    g_assert_cmpuint(p.fadt[128], ==, ACPI_POWER_RESET_VALUE);
    assert_gas_io(p.fadt + 244, LAYOUT_PORT_ACPI_SLEEP + ACPI_POWER_SLEEP_CONTROL);
    assert_gas_io(p.fadt + 256, LAYOUT_PORT_ACPI_SLEEP + ACPI_POWER_SLEEP_STATUS);
    g_assert_true(le(p.fadt + 109, 2) & (1u << 1)); /* 8042 present */
    g_assert_cmpuint(le(p.fadt + 46, 2), ==, 0);    /* no SCI */

    /* MADT: one enabled local APIC per CPU, one IOAPIC at GSI 0. */
    madt_len = le(p.madt + 4, 4);
    g_assert_cmphex(le(p.madt + 36, 4), ==, LAYOUT_APIC_START);
    for (off = 44; off < madt_len; off += p.madt[off + 1]) {
        g_assert_cmpuint(p.madt[off + 1], >=, 2);
        if (p.madt[off] == 0) {
            g_assert_cmpuint(p.madt[off + 3], ==, cpus); /* APIC id */
            g_assert_cmpuint(le(p.madt + off + 4, 4) & 1, ==, 1);
            cpus++;
        } else if (p.madt[off] == 1) {
            g_assert_cmphex(le(p.madt + off + 4, 4), ==, LAYOUT_IOAPIC_START);
            g_assert_cmpuint(le(p.madt + off + 8, 4), ==, 0);
            ioapics++;
        }
    }
    g_assert_cmpuint(off, ==, madt_len);
    g_assert_cmpuint(cpus, ==, 4);
    g_assert_cmpuint(ioapics, ==, 1);

    /* DSDT: the devices that exist. */
    g_assert_cmpuint(p.dsdt[8], ==, 2);
    g_assert_true(dsdt_has(&p, "COM1"));
    g_assert_true(dsdt_has(&p, "RTC_"));
    g_assert_true(dsdt_has(&p, "PS2K"));
    g_assert_true(dsdt_has(&p, "PWRB"));
    g_assert_true(dsdt_has(&p, "GED_"));
    g_assert_true(dsdt_has(&p, "_S5_"));
    g_assert_true(dsdt_has(&p, "_EVT"));
    g_assert_true(dsdt_has(&p, "ACPI0013"));
    g_assert_true(contains(p.dsdt, le(p.dsdt + 4, 4), pnp0501, sizeof(pnp0501)));
    g_assert_true(contains(p.dsdt, le(p.dsdt + 4, 4), pnp0c0c, sizeof(pnp0c0c)));
    g_assert_true(contains(p.dsdt, le(p.dsdt + 4, 4), pnp0b00, sizeof(pnp0b00)));
}

static void test_minimal_set(void)
{
    g_autofree uint8_t *ram = g_malloc0(MEM_SIZE);
    struct guest_memory mem = low_memory(ram);
    struct acpi_config cfg = {.nr_cpus = 1};
    uint64_t rsdp = 0;
    struct parsed p;

    g_assert_cmpint(acpi_tables_build(&cfg, &mem, &rsdp), ==, 0);
    p = parse(&mem, rsdp);
    g_assert_false(dsdt_has(&p, "COM1"));
    g_assert_false(dsdt_has(&p, "PS2K"));
    g_assert_true(dsdt_has(&p, "RTC_"));
    g_assert_true(dsdt_has(&p, "PWRB"));
    g_assert_false(le(p.fadt + 109, 2) & (1u << 1));
}

static void test_x2apic_ids(void)
{
    g_autofree uint8_t *ram = g_malloc0(MEM_SIZE);
    struct guest_memory mem = low_memory(ram);
    const uint32_t ids[] = {0, 2, 254, 255, 300};
    struct acpi_config cfg = {.nr_cpus = G_N_ELEMENTS(ids), .apic_ids = ids};
    unsigned int xapic = 0, x2apic = 0;
    uint64_t rsdp = 0;
    struct parsed p;
    uint32_t off;

    g_assert_cmpint(acpi_tables_build(&cfg, &mem, &rsdp), ==, 0);
    p = parse(&mem, rsdp);
    for (off = 44; off < le(p.madt + 4, 4); off += p.madt[off + 1]) {
        if (p.madt[off] == 0) {
            g_assert_cmpuint(p.madt[off + 3], ==, ids[xapic + x2apic]);
            xapic++;
        } else if (p.madt[off] == 9) {
            g_assert_cmpuint(p.madt[off + 1], ==, 16);
            g_assert_cmpuint(le(p.madt + off + 4, 4), ==, ids[xapic + x2apic]);
            g_assert_cmpuint(le(p.madt + off + 12, 4), ==, xapic + x2apic); /* UID */
            x2apic++;
        }
    }
    g_assert_cmpuint(xapic, ==, 3);
    g_assert_cmpuint(x2apic, ==, 2);
}

static void dsdt_hook(void *opaque, struct aml *dsdt)
{
    size_t dev = aml_device_begin(dsdt, "\\_SB_.PCI0");

    aml_name_eisaid(dsdt, "_HID", "PNP0A08");
    aml_end(dsdt, dev);
}

static int tables_hook(void *opaque, struct acpi_tables *t)
{
    uint8_t table[ACPI_HEADER_LEN + 8] = {0};

    acpi_header_init(table, "TEST", sizeof(table), 1);
    memcpy(table + ACPI_HEADER_LEN, "payload!", 8);
    return acpi_tables_add(t, table, sizeof(table));
}

static void test_hooks_append(void)
{
    g_autofree uint8_t *ram = g_malloc0(MEM_SIZE);
    struct guest_memory mem = low_memory(ram);
    struct acpi_config cfg = {.nr_cpus = 2, .dsdt_append = dsdt_hook, .tables_append = tables_hook};
    uint64_t rsdp = 0;
    struct parsed p;

    g_assert_cmpint(acpi_tables_build(&cfg, &mem, &rsdp), ==, 0);
    p = parse(&mem, rsdp);
    g_assert_cmpuint(p.nr_tables, ==, 3);
    g_assert_nonnull(p.extra);
    g_assert_cmpmem(p.extra + ACPI_HEADER_LEN, 8, "payload!", 8);
    g_assert_true(dsdt_has(&p, "PCI0"));
}

static void test_bad_input(void)
{
    g_autofree uint8_t *ram = g_malloc0(MEM_SIZE);
    struct guest_memory mem = low_memory(ram);
    struct guest_memory small = {.nr_regions = 1};
    struct acpi_config cfg = {.nr_cpus = 0};
    struct acpi_tables *t;
    uint8_t table[ACPI_HEADER_LEN] = {0};
    uint64_t rsdp = 0;

    g_assert_cmpint(acpi_tables_build(&cfg, &mem, &rsdp), ==, -EINVAL);
    cfg.nr_cpus = ACPI_MAX_CPUS + 1;
    g_assert_cmpint(acpi_tables_build(&cfg, &mem, &rsdp), ==, -EINVAL);
    cfg.nr_cpus = 1;
    g_assert_cmpint(acpi_tables_build(NULL, &mem, &rsdp), ==, -EINVAL);

    /* Guest RAM that stops short of the ACPI area: nothing is written. */
    small.regions[0] = (struct guest_region){.gpa = 0, .size = LAYOUT_ACPI_START + 64, .hva = ram};
    g_assert_cmpint(acpi_tables_build(&cfg, &small, &rsdp), ==, -EFAULT);
    g_assert_cmpuint(ram[LAYOUT_ACPI_START], ==, 0);

    t = acpi_tables_new();
    acpi_header_init(table, "DSDT", sizeof(table), 2);
    g_assert_cmpint(acpi_tables_add(t, table, sizeof(table)), ==, -EINVAL); /* not in XSDT */
    g_assert_cmpint(acpi_tables_set_dsdt(t, table, sizeof(table)), ==, 0);
    g_assert_cmpint(acpi_tables_set_dsdt(t, table, sizeof(table)), ==, -EEXIST);
    g_assert_cmpint(acpi_tables_add(t, table, 10), ==, -EINVAL); /* shorter than a header */
    acpi_header_init(table, "TEST", sizeof(table), 1);
    for (int i = 0; i < ACPI_MAX_TABLES; i++)
        g_assert_cmpint(acpi_tables_add(t, table, sizeof(table)), ==, 0);
    g_assert_cmpint(acpi_tables_add(t, table, sizeof(table)), ==, -ENOSPC);
    /* Does not fit the space given. */
    g_assert_cmpint(acpi_tables_install(t, &mem, LAYOUT_ACPI_START, 256, &rsdp), ==, -ENOSPC);
    g_assert_cmpint(acpi_tables_install(t, &mem, UINT64_MAX - 100, UINT64_MAX, &rsdp), ==, -ENOSPC);
    acpi_tables_free(t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/acpi-tables/full-set", test_full_set);
    g_test_add_func("/acpi-tables/minimal-set", test_minimal_set);
    g_test_add_func("/acpi-tables/x2apic-ids", test_x2apic_ids);
    g_test_add_func("/acpi-tables/hooks-append", test_hooks_append);
    g_test_add_func("/acpi-tables/bad-input", test_bad_input);
    return g_test_run();
}
