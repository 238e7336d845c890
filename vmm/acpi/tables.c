/* ACPI table construction and layout. Tables are built in host buffers,
 * then placed one after another from LAYOUT_ACPI_START (RSDP first, XSDT
 * last, since its size depends on how many tables there are), with the
 * FADT's DSDT pointer and every checksum fixed on the way. */
#include "acpi/tables.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "devices/acpi_power.h"
#include "devices/i8042.h"
#include "devices/pvpanic.h"
#include "devices/ioapic.h"
#include "devices/rtc.h"
#include "devices/serial.h"

#define ACPI_OEM_ID       "VIREO "
#define ACPI_OEM_TABLE_ID "VIREOVMM"
#define ACPI_CREATOR_ID   "VIRO"
#define ACPI_TABLE_ALIGN  16

#define RSDP_LEN          36
#define RSDP_V1_LEN       20
#define RSDP_CHECKSUM     8
#define RSDP_EXT_CHECKSUM 32

#define HDR_LENGTH   4
#define HDR_CHECKSUM 9

/* FADT (ACPI 6.5, table 5.9): offsets of the fields we set. */
#define FADT_LEN             276
#define FADT_REVISION        6
#define FADT_MINOR_REVISION  5
#define FADT_IAPC_BOOT_ARCH  109
#define FADT_FLAGS           112
#define FADT_RESET_REG       116
#define FADT_RESET_VALUE     128
#define FADT_MINOR_VERSION   131
#define FADT_X_DSDT          140
#define FADT_SLEEP_CONTROL   244
#define FADT_SLEEP_STATUS    256
#define FADT_HYPERVISOR_ID   268
#define FADT_F_PWR_BUTTON    (1u << 4) /* no fixed-feature power button */
#define FADT_F_SLP_BUTTON    (1u << 5)
#define FADT_F_RESET_REG_SUP (1u << 10)
#define FADT_F_HW_REDUCED    (1u << 20)
#define BOOT_ARCH_8042       (1u << 1)
#define BOOT_ARCH_VGA_ABSENT (1u << 2)

#define GAS_SYSTEM_IO   1
#define GAS_ACCESS_BYTE 1

/* MADT (ACPI 6.5, 5.2.12). */
#define MADT_REVISION       5
#define MADT_LEN            44
#define MADT_LOCAL_APIC     0
#define MADT_IOAPIC         1
#define MADT_LOCAL_X2APIC   9
#define MADT_LOCAL_APIC_LEN 8
#define MADT_IOAPIC_LEN     12
#define MADT_X2APIC_LEN     16
#define MADT_CPU_ENABLED    1

#define DSDT_REVISION 2 /* 64-bit integers */
#define XSDT_REVISION 1

struct acpi_blob {
    uint8_t *data;
    size_t len;
};

struct acpi_tables {
    struct acpi_blob dsdt;
    struct acpi_blob tables[ACPI_MAX_TABLES];
    unsigned int nr;
};

static void put_le(uint8_t *p, uint64_t v, unsigned int size)
{
    for (unsigned int i = 0; i < size; i++)
        p[i] = v >> (8 * i);
}

static uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;

    for (size_t i = 0; i < len; i++)
        sum += p[i];
    return -sum;
}

void acpi_header_init(uint8_t *table, const char signature[4], uint32_t len, uint8_t revision)
{
    memcpy(table, signature, 4);
    put_le(table + HDR_LENGTH, len, 4);
    table[8] = revision;
    table[HDR_CHECKSUM] = 0;
    memcpy(table + 10, ACPI_OEM_ID, 6);
    memcpy(table + 16, ACPI_OEM_TABLE_ID, 8);
    put_le(table + 24, 1, 4); /* OEM revision */
    memcpy(table + 28, ACPI_CREATOR_ID, 4);
    put_le(table + 32, 1, 4); /* creator revision */
}

struct acpi_tables *acpi_tables_new(void)
{
    return g_new0(struct acpi_tables, 1);
}

void acpi_tables_free(struct acpi_tables *t)
{
    if (!t)
        return;
    g_free(t->dsdt.data);
    for (unsigned int i = 0; i < t->nr; i++)
        g_free(t->tables[i].data);
    g_free(t);
}

static int acpi_blob_set(struct acpi_blob *b, const void *table, size_t len)
{
    if (len < ACPI_HEADER_LEN || len > UINT32_MAX)
        return -EINVAL;
    b->data = g_memdup2(table, len);
    b->len = len;
    put_le(b->data + HDR_LENGTH, len, 4);
    return 0;
}

int acpi_tables_add(struct acpi_tables *t, const void *table, size_t len)
{
    if (t->nr == ACPI_MAX_TABLES)
        return -ENOSPC;
    if (len >= 4 && memcmp(table, "DSDT", 4) == 0)
        return -EINVAL; /* reached through the FADT, never the XSDT */
    if (acpi_blob_set(&t->tables[t->nr], table, len) < 0)
        return -EINVAL;
    t->nr++;
    return 0;
}

int acpi_tables_set_dsdt(struct acpi_tables *t, const void *table, size_t len)
{
    if (t->dsdt.data)
        return -EEXIST;
    return acpi_blob_set(&t->dsdt, table, len);
}

static size_t acpi_align(size_t v)
{
    return (v + ACPI_TABLE_ALIGN - 1) & ~(size_t)(ACPI_TABLE_ALIGN - 1);
}

int acpi_tables_install(const struct acpi_tables *t, const struct guest_memory *mem, uint64_t base,
                        uint64_t size, uint64_t *rsdp_gpa)
{
    g_autofree uint8_t *img = NULL;
    size_t off, xsdt_off, xsdt_len, dsdt_off = 0, total;
    size_t table_off[ACPI_MAX_TABLES];
    uint8_t *xsdt, *rsdp;
    int ret;

    /* Layout first, so nothing is written when it does not fit. */
    off = acpi_align(RSDP_LEN);
    if (t->dsdt.data) {
        dsdt_off = off;
        off = acpi_align(off + t->dsdt.len);
    }
    for (unsigned int i = 0; i < t->nr; i++) {
        table_off[i] = off;
        off = acpi_align(off + t->tables[i].len);
    }
    xsdt_off = off;
    xsdt_len = ACPI_HEADER_LEN + 8 * t->nr;
    total = xsdt_off + xsdt_len;
    if (total > size || base + total < base)
        return -ENOSPC;

    img = g_malloc0(total);
    if (t->dsdt.data) {
        memcpy(img + dsdt_off, t->dsdt.data, t->dsdt.len);
        img[dsdt_off + HDR_CHECKSUM] = acpi_checksum(img + dsdt_off, t->dsdt.len);
    }
    xsdt = img + xsdt_off;
    acpi_header_init(xsdt, "XSDT", xsdt_len, XSDT_REVISION);
    for (unsigned int i = 0; i < t->nr; i++) {
        uint8_t *table = img + table_off[i];

        memcpy(table, t->tables[i].data, t->tables[i].len);
        if (memcmp(table, "FACP", 4) == 0 && t->dsdt.data && t->tables[i].len >= FADT_LEN)
            put_le(table + FADT_X_DSDT, base + dsdt_off, 8);
        table[HDR_CHECKSUM] = acpi_checksum(table, t->tables[i].len);
        put_le(xsdt + ACPI_HEADER_LEN + 8 * i, base + table_off[i], 8);
    }
    xsdt[HDR_CHECKSUM] = acpi_checksum(xsdt, xsdt_len);

    rsdp = img;
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, ACPI_OEM_ID, 6);
    rsdp[15] = 2;            /* revision: ACPI 2.0+, has the XSDT */
    put_le(rsdp + 16, 0, 4); /* no RSDT */
    put_le(rsdp + 20, RSDP_LEN, 4);
    put_le(rsdp + 24, base + xsdt_off, 8);
    rsdp[RSDP_CHECKSUM] = acpi_checksum(rsdp, RSDP_V1_LEN);
    rsdp[RSDP_EXT_CHECKSUM] = acpi_checksum(rsdp, RSDP_LEN);

    ret = guest_memory_write(mem, base, img, total);
    if (ret < 0)
        return ret;
    *rsdp_gpa = base;
    return 0;
}

static void acpi_put_gas_io(uint8_t *p, uint16_t port)
{
    p[0] = GAS_SYSTEM_IO;
    p[1] = 8; /* bit width */
    p[2] = 0; /* bit offset */
    p[3] = GAS_ACCESS_BYTE;
    put_le(p + 4, port, 8);
}

int acpi_build_fadt(const struct acpi_config *cfg, uint8_t **out, size_t *len)
{
    uint8_t *fadt = g_malloc0(FADT_LEN);
    uint16_t boot_arch = BOOT_ARCH_VGA_ABSENT;

    acpi_header_init(fadt, "FACP", FADT_LEN, FADT_REVISION);
    if (cfg->i8042)
        boot_arch |= BOOT_ARCH_8042;
    put_le(fadt + FADT_IAPC_BOOT_ARCH, boot_arch, 2);
    put_le(fadt + FADT_FLAGS,
           FADT_F_HW_REDUCED | FADT_F_RESET_REG_SUP | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON, 4);
    acpi_put_gas_io(fadt + FADT_RESET_REG, LAYOUT_PORT_ACPI_SLEEP + ACPI_POWER_RESET);
    fadt[FADT_RESET_VALUE] = ACPI_POWER_RESET_VALUE;
    fadt[FADT_MINOR_VERSION] = FADT_MINOR_REVISION;
    acpi_put_gas_io(fadt + FADT_SLEEP_CONTROL, LAYOUT_PORT_ACPI_SLEEP + ACPI_POWER_SLEEP_CONTROL);
    acpi_put_gas_io(fadt + FADT_SLEEP_STATUS, LAYOUT_PORT_ACPI_SLEEP + ACPI_POWER_SLEEP_STATUS);
    memcpy(fadt + FADT_HYPERVISOR_ID, "VIREOVMM", 8);
    *out = fadt;
    *len = FADT_LEN;
    return 0;
}

int acpi_build_madt(const struct acpi_config *cfg, uint8_t **out, size_t *len)
{
    size_t size = MADT_LEN + MADT_IOAPIC_LEN, off;
    uint8_t *madt;

    if (cfg->nr_cpus == 0 || cfg->nr_cpus > ACPI_MAX_CPUS)
        return -EINVAL;
    for (unsigned int i = 0; i < cfg->nr_cpus; i++) {
        uint32_t id = cfg->apic_ids ? cfg->apic_ids[i] : i;
        /* 0xff is the xAPIC broadcast id: such CPUs need x2APIC entries. */
        size += id < 0xff ? MADT_LOCAL_APIC_LEN : MADT_X2APIC_LEN;
    }
    madt = g_malloc0(size);
    acpi_header_init(madt, "APIC", size, MADT_REVISION);
    put_le(madt + 36, LAYOUT_APIC_START, 4);
    put_le(madt + 40, 0, 4); /* no 8259s (PCAT_COMPAT clear) */
    off = MADT_LEN;
    for (unsigned int i = 0; i < cfg->nr_cpus; i++) {
        uint32_t id = cfg->apic_ids ? cfg->apic_ids[i] : i;
        uint8_t *e = madt + off;

        if (id < 0xff) {
            e[0] = MADT_LOCAL_APIC;
            e[1] = MADT_LOCAL_APIC_LEN;
            e[2] = i; /* ACPI processor UID (wraps past 255; x2APIC takes over) */
            e[3] = id;
            put_le(e + 4, MADT_CPU_ENABLED, 4);
            off += MADT_LOCAL_APIC_LEN;
        } else {
            e[0] = MADT_LOCAL_X2APIC;
            e[1] = MADT_X2APIC_LEN;
            put_le(e + 4, id, 4);
            put_le(e + 8, MADT_CPU_ENABLED, 4);
            put_le(e + 12, i, 4);
            off += MADT_X2APIC_LEN;
        }
    }
    /* The IOAPIC takes GSIs from 0, identity-mapped to the ISA IRQs with
     * ISA's edge/high defaults, so no interrupt source override is needed:
     * there is no PIT to move from IRQ 0 to GSI 2. */
    madt[off] = MADT_IOAPIC;
    madt[off + 1] = MADT_IOAPIC_LEN;
    madt[off + 2] = IOAPIC_ID;
    put_le(madt + off + 4, LAYOUT_IOAPIC_START, 4);
    put_le(madt + off + 8, 0, 4);
    *out = madt;
    *len = size;
    return 0;
}

int acpi_build_dsdt(const struct acpi_config *cfg, uint8_t **out, size_t *len)
{
    struct aml a;
    size_t scope;
    uint8_t header[ACPI_HEADER_LEN];
    int ret;

    aml_init(&a);
    acpi_header_init(header, "DSDT", 0, DSDT_REVISION);
    aml_bytes(&a, header, sizeof(header));
    scope = aml_scope_begin(&a, "\\_SB_");
    if (cfg->serial)
        serial_aml(&a, "COM1", 0, LAYOUT_PORT_SERIAL0, LAYOUT_IRQ_SERIAL);
    rtc_aml(&a, LAYOUT_PORT_RTC);
    if (cfg->i8042)
        i8042_aml(&a, LAYOUT_PORT_I8042);
    if (cfg->pvpanic)
        pvpanic_aml(&a, LAYOUT_PORT_PVPANIC);
    aml_end(&a, scope);
    acpi_power_aml(&a, LAYOUT_GED_START, LAYOUT_IRQ_GED);
    if (cfg->dsdt_append)
        cfg->dsdt_append(cfg->opaque, &a);
    ret = aml_error(&a);
    if (ret == 0 && a.len > UINT32_MAX)
        ret = -E2BIG;
    if (ret < 0) {
        aml_release(&a);
        return ret;
    }
    put_le(a.buf + HDR_LENGTH, a.len, 4);
    *out = g_memdup2(a.buf, a.len);
    *len = a.len;
    aml_release(&a);
    return 0;
}

int acpi_tables_build(const struct acpi_config *cfg, const struct guest_memory *mem,
                      uint64_t *rsdp_gpa)
{
    struct acpi_tables *t;
    g_autofree uint8_t *dsdt = NULL, *fadt = NULL, *madt = NULL;
    size_t dsdt_len, fadt_len, madt_len;
    int ret;

    if (!cfg || !mem || !rsdp_gpa)
        return -EINVAL;
    ret = acpi_build_dsdt(cfg, &dsdt, &dsdt_len);
    if (ret == 0)
        ret = acpi_build_fadt(cfg, &fadt, &fadt_len);
    if (ret == 0)
        ret = acpi_build_madt(cfg, &madt, &madt_len);
    if (ret < 0)
        return ret;

    t = acpi_tables_new();
    ret = acpi_tables_set_dsdt(t, dsdt, dsdt_len);
    if (ret == 0)
        ret = acpi_tables_add(t, fadt, fadt_len);
    if (ret == 0)
        ret = acpi_tables_add(t, madt, madt_len);
    if (ret == 0 && cfg->tables_append)
        ret = cfg->tables_append(cfg->opaque, t);
    if (ret == 0)
        ret = acpi_tables_install(t, mem, LAYOUT_ACPI_START, LAYOUT_ACPI_SIZE, rsdp_gpa);
    acpi_tables_free(t);
    return ret;
}
