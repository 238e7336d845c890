/* The guest physical address map of an x86_64 Vireo VM: where RAM, the
 * boot structures, the ACPI tables and the fixed MMIO devices live. */
#ifndef VIREO_VMM_ARCH_X86_LAYOUT_H
#define VIREO_VMM_ARCH_X86_LAYOUT_H

#include <stdint.h>

#define LAYOUT_MiB(x) ((uint64_t)(x) << 20)
#define LAYOUT_GiB(x) ((uint64_t)(x) << 30)

/* Low memory: boot structures below 1 MiB. */
#define LAYOUT_GDT_START       0x500ull
#define LAYOUT_IDT_START       0x520ull
#define LAYOUT_PVH_INFO_START  0x6000ull /* hvm_start_info and its memmap */
#define LAYOUT_ZERO_PAGE_START 0x7000ull /* bzImage boot_params */
#define LAYOUT_BOOT_STACK_TOP  0x8ff0ull
#define LAYOUT_PML4_START      0x9000ull /* identity page tables: PML4, PDPT, PD */
#define LAYOUT_PDPTE_START     0xa000ull
#define LAYOUT_PDE_START       0xb000ull
#define LAYOUT_CMDLINE_START   0x20000ull
#define LAYOUT_CMDLINE_MAX     0x10000ull
#define LAYOUT_EBDA_START      0x9fc00ull
#define LAYOUT_ACPI_START      0xe0000ull /* RSDP, then the other tables */
#define LAYOUT_ACPI_SIZE       0x20000ull
#define LAYOUT_RESET_VECTOR    0xffff0ull /* F000:FFF0, where a "BIOS reboot" jumps */
#define LAYOUT_HIGH_RAM_START  LAYOUT_MiB(1)
#define LAYOUT_KERNEL_START    LAYOUT_MiB(16) /* bzImage protected-mode code */

/* The 32-bit hole below 4 GiB: PCI MMIO, then the fixed devices. */
#define LAYOUT_MEM_32BIT_GAP_START LAYOUT_MiB(3072)
#define LAYOUT_PCI_MMCONFIG_START  0xe8000000ull
#define LAYOUT_PCI_MMCONFIG_SIZE   LAYOUT_MiB(64)
/* PCI BARs: the 32-bit window fills the hole up to MMCONFIG; the 64-bit one
 * starts at the first LAYOUT_PCI_MMIO64_ALIGN boundary above the end of RAM
 * (never below LAYOUT_RAM_64BIT_START). */
#define LAYOUT_PCI_MMIO32_START LAYOUT_MEM_32BIT_GAP_START
#define LAYOUT_PCI_MMIO32_SIZE  (LAYOUT_PCI_MMCONFIG_START - LAYOUT_PCI_MMIO32_START)
#define LAYOUT_PCI_MMIO64_ALIGN LAYOUT_GiB(1)
#define LAYOUT_PCI_MMIO64_SIZE  LAYOUT_GiB(64)
#define LAYOUT_IOAPIC_START     0xfec00000ull
#define LAYOUT_IOAPIC_SIZE      0x20ull
#define LAYOUT_GED_START        0xfed00000ull /* ACPI generic event device */
#define LAYOUT_GED_SIZE         0x10ull
#define LAYOUT_APIC_START       0xfee00000ull
#define LAYOUT_RAM_64BIT_START  LAYOUT_GiB(4)

/* Fixed legacy interrupts (IOAPIC pins). */
#define LAYOUT_IRQ_SERIAL  4
#define LAYOUT_IRQ_RTC     8
#define LAYOUT_IRQ_GED     5
#define LAYOUT_IOAPIC_PINS 24

/* Port I/O. */
#define LAYOUT_PORT_I8042       0x60 /* 0x60 data, 0x64 command */
#define LAYOUT_PORT_RTC         0x70
#define LAYOUT_PORT_BOOT_MARKER 0x80
#define LAYOUT_PORT_SERIAL0     0x3f8
#define LAYOUT_PORT_ACPI_SLEEP  0x600 /* sleep control/status and reset register */
#define LAYOUT_PORT_PVPANIC     0x505 /* QEMU's ISA pvpanic port */

#endif
