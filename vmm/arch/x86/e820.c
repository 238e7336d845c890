/* Builds the memory map from the layout: low RAM split around the legacy
 * area (EBDA, VGA hole, BIOS/ACPI area), a reserved range in the 32-bit
 * hole (PCI MMCONFIG) and RAM above 4 GiB. */
#include "config.h"

#include "arch/x86/e820.h"

#include "arch/x86/layout.h"

unsigned int e820_build(uint64_t low_end, uint64_t high_size, struct e820_entry *out)
{
    return e820_build_reserved(low_end, high_size, 0, 0, out);
}

unsigned int e820_build_reserved(uint64_t low_end, uint64_t high_size, uint64_t reserved_start,
                                 uint64_t reserved_size, struct e820_entry *out)
{
    unsigned int n = 0;

    out[n++] = (struct e820_entry){0, LAYOUT_EBDA_START, E820_RAM};
    /* The ACPI tables live here; Linux must not treat them as free RAM. */
    out[n++] = (struct e820_entry){LAYOUT_ACPI_START, LAYOUT_ACPI_SIZE, E820_RESERVED};
    if (low_end > LAYOUT_HIGH_RAM_START)
        out[n++] =
            (struct e820_entry){LAYOUT_HIGH_RAM_START, low_end - LAYOUT_HIGH_RAM_START, E820_RAM};
    /* Linux trusts the MCFG area only when the firmware reserved it. */
    if (reserved_size)
        out[n++] = (struct e820_entry){reserved_start, reserved_size, E820_RESERVED};
    if (high_size)
        out[n++] = (struct e820_entry){LAYOUT_RAM_64BIT_START, high_size, E820_RAM};
    return n;
}
