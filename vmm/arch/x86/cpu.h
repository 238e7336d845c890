/* The register state a vCPU starts the guest in: segments, control
 * registers, page tables, MSRs, FPU and the local APIC's LINT pins. */
#ifndef VIREO_VMM_ARCH_X86_CPU_H
#define VIREO_VMM_ARCH_X86_CPU_H

#include <linux/kvm.h>
#include <stdint.h>

#include "guest_memory.h"

enum x86_entry_mode {
    X86_ENTRY_PVH32,   /* PVH: 32-bit protected mode, paging off, EBX = start_info */
    X86_ENTRY_LINUX32, /* bzImage 32-bit entry: paging off, ESI = zero page */
    X86_ENTRY_LINUX64, /* bzImage 64-bit entry: identity paging, RSI = zero page */
};

struct x86_boot_entry {
    enum x86_entry_mode mode;
    uint64_t rip;
    uint64_t arg; /* start_info (PVH) or zero page (Linux) address */
};

/* GDT selectors as the boot GDT lays them out. */
#define X86_BOOT_CS  0x08
#define X86_BOOT_DS  0x10
#define X86_BOOT_TSS 0x18

/* Writes the boot GDT, an empty IDT and (for the 64-bit entry) identity page
 * tables for the first 1 GiB into guest memory. */
int x86_cpu_write_boot_tables(const struct guest_memory *mem, enum x86_entry_mode mode)
    __attribute__((warn_unused_result));

/* There is no firmware, but Linux on a hardware-reduced ACPI platform
 * without EFI reboots by jumping to the BIOS reset vector. Puts a few
 * real-mode instructions there that write the ACPI reset register, so that
 * jump reboots the VM instead of running through zeroed memory forever. */
int x86_cpu_write_reset_vector(const struct guest_memory *mem, uint16_t reset_port,
                               uint8_t reset_value) __attribute__((warn_unused_result));

/* Fill the boot processor's state for `entry`; `sregs` starts as KVM's. */
void x86_cpu_boot_sregs(struct kvm_sregs *sregs, enum x86_entry_mode mode);
void x86_cpu_boot_regs(struct kvm_regs *regs, const struct x86_boot_entry *entry);
void x86_cpu_boot_fpu(struct kvm_fpu *fpu);

#define X86_CPU_BOOT_MSRS 12
/* Fills `msrs` (room for X86_CPU_BOOT_MSRS entries) with what Linux expects
 * at entry: fast strings on, write-back MTRR default, syscall MSRs cleared. */
void x86_cpu_boot_msrs(struct kvm_msrs *msrs);

/* LINT0 = ExtINT and LINT1 = NMI, as a PC's BIOS leaves them. */
void x86_cpu_lapic_lint(struct kvm_lapic_state *lapic);

#define X86_LAPIC_LVT_LINT0 0x350
#define X86_LAPIC_LVT_LINT1 0x360

#endif
