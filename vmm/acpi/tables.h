/* The ACPI tables of a hardware-reduced x86 platform (RSDP, XSDT, FADT,
 * MADT, DSDT) written into guest memory at LAYOUT_ACPI_START. Other units
 * can append their own tables (MCFG, ...) and DSDT content (the PCI host
 * bridge) through the hooks in struct acpi_config. */
#ifndef VIREO_VMM_ACPI_TABLES_H
#define VIREO_VMM_ACPI_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acpi/aml.h"
#include "guest_memory.h"

#define ACPI_HEADER_LEN 36
#define ACPI_MAX_CPUS   4096
#define ACPI_MAX_TABLES 32

struct acpi_tables;

struct acpi_config {
    unsigned int nr_cpus;     /* 1..ACPI_MAX_CPUS */
    const uint32_t *apic_ids; /* nr_cpus APIC ids; NULL: CPU i has APIC id i */
    bool serial;              /* COM1 at LAYOUT_PORT_SERIAL0, LAYOUT_IRQ_SERIAL */
    bool i8042;               /* PS/2 controller at LAYOUT_PORT_I8042 */
    bool pvpanic;             /* QEMU0001 panic device at LAYOUT_PORT_PVPANIC */
    /* Optional: more DSDT content, emitted at the root after our devices. */
    void (*dsdt_append)(void *opaque, struct aml *dsdt);
    /* Optional: more tables, with acpi_tables_add(). */
    int (*tables_append)(void *opaque, struct acpi_tables *tables);
    void *opaque;
};

/* Builds every table and writes them at LAYOUT_ACPI_START. -EINVAL for a
 * bad config, -ENOSPC when they do not fit LAYOUT_ACPI_SIZE, -EFAULT when
 * that range is not guest RAM. */
int acpi_tables_build(const struct acpi_config *cfg, const struct guest_memory *mem,
                      uint64_t *rsdp_gpa) __attribute__((warn_unused_result));

/* The pieces, for units that add tables and for tests. */
struct acpi_tables *acpi_tables_new(void);
void acpi_tables_free(struct acpi_tables *t);
/* Fills in the standard header (OEM ids; checksum left for install). */
void acpi_header_init(uint8_t *table, const char signature[4], uint32_t len, uint8_t revision);
/* Copies a complete table to be listed in the XSDT. Its checksum is
 * computed at install time. */
int acpi_tables_add(struct acpi_tables *t, const void *table, size_t len)
    __attribute__((warn_unused_result));
/* The DSDT, which the FADT (found among the added tables) points to. */
int acpi_tables_set_dsdt(struct acpi_tables *t, const void *table, size_t len)
    __attribute__((warn_unused_result));
/* Lays out RSDP, DSDT, the tables and the XSDT from base, fixes addresses
 * and checksums, and writes them to guest memory. */
int acpi_tables_install(const struct acpi_tables *t, const struct guest_memory *mem, uint64_t base,
                        uint64_t size, uint64_t *rsdp_gpa) __attribute__((warn_unused_result));

/* The table builders acpi_tables_build() uses; *out is g_free()d by the caller. */
int acpi_build_dsdt(const struct acpi_config *cfg, uint8_t **out, size_t *len)
    __attribute__((warn_unused_result));
int acpi_build_madt(const struct acpi_config *cfg, uint8_t **out, size_t *len)
    __attribute__((warn_unused_result));
int acpi_build_fadt(const struct acpi_config *cfg, uint8_t **out, size_t *len)
    __attribute__((warn_unused_result));

#endif
