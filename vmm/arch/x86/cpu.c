/* Boot-time vCPU state: flat segments from a 4-entry GDT, long mode with 2 MiB
 * identity pages for the 64-bit Linux entry, plain protected mode for PVH. */
#include "config.h"

#include "arch/x86/cpu.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "arch/x86/layout.h"

#define X86_CR0_PE   0x1ull
#define X86_CR0_ET   0x10ull
#define X86_CR0_PG   0x80000000ull
#define X86_CR4_PAE  0x20ull
#define X86_EFER_LME 0x100ull
#define X86_EFER_LMA 0x400ull

#define X86_PTE_PRESENT 0x1ull
#define X86_PTE_WRITE   0x2ull
#define X86_PTE_HUGE    0x80ull

/* Descriptor = base, limit and the access/flags word (0xFLAA: flags in the
 * high nibble, access byte low). */
static uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
    return ((uint64_t)(base & 0xff000000u) << 32) | ((uint64_t)(flags & 0xf0ffu) << 40) |
           ((uint64_t)(limit & 0x000f0000u) << 32) | ((uint64_t)(base & 0x00ffffffu) << 16) |
           (uint64_t)(limit & 0x0000ffffu);
}

#define GDT_CODE32 0xc09b /* G, D/B, present, code exec/read, accessed */
#define GDT_CODE64 0xa09b /* G, L, present, code exec/read, accessed */
#define GDT_DATA   0xc093 /* G, D/B, present, data read/write, accessed */
#define GDT_TSS    0x008b /* present, 32-bit busy TSS */

int x86_cpu_write_boot_tables(const struct guest_memory *mem, enum x86_entry_mode mode)
{
    uint64_t gdt[4] = {
        0,
        gdt_entry(mode == X86_ENTRY_LINUX64 ? GDT_CODE64 : GDT_CODE32, 0, 0xfffff),
        gdt_entry(GDT_DATA, 0, 0xfffff),
        gdt_entry(GDT_TSS, 0, 0x67),
    };
    uint64_t idt = 0;
    int ret;

    ret = guest_memory_write(mem, LAYOUT_GDT_START, gdt, sizeof(gdt));
    if (ret == 0)
        ret = guest_memory_write(mem, LAYOUT_IDT_START, &idt, sizeof(idt));
    if (ret || mode != X86_ENTRY_LINUX64)
        return ret;

    uint64_t *pml4 = guest_memory_ptr(mem, LAYOUT_PML4_START, 4096);
    uint64_t *pdpt = guest_memory_ptr(mem, LAYOUT_PDPTE_START, 4096);
    uint64_t *pd = guest_memory_ptr(mem, LAYOUT_PDE_START, 4096);
    if (!pml4 || !pdpt || !pd)
        return -EFAULT;
    memset(pml4, 0, 4096);
    memset(pdpt, 0, 4096);
    pml4[0] = LAYOUT_PDPTE_START | X86_PTE_PRESENT | X86_PTE_WRITE;
    pdpt[0] = LAYOUT_PDE_START | X86_PTE_PRESENT | X86_PTE_WRITE;
    for (uint64_t i = 0; i < 512; i++)
        pd[i] = (i << 21) | X86_PTE_PRESENT | X86_PTE_WRITE | X86_PTE_HUGE;
    return 0;
}

int x86_cpu_write_reset_vector(const struct guest_memory *mem, uint16_t reset_port,
                               uint8_t reset_value)
{
    const uint8_t code[16] = {
        0xba,
        (uint8_t)reset_port,
        (uint8_t)(reset_port >> 8), /* mov dx, reset_port */
        0xb0,
        reset_value, /* mov al, reset_value */
        0xee,        /* out dx, al */
        0xfa,        /* cli */
        0xf4,        /* hlt */
        0xeb,
        0xfd, /* jmp back to hlt */
    };

    return guest_memory_write(mem, LAYOUT_RESET_VECTOR, code, sizeof(code));
}

static void seg_flat(struct kvm_segment *s, uint16_t selector, uint8_t type, int l, int db)
{
    *s = (struct kvm_segment){
        .base = 0,
        .limit = 0xffffffff,
        .selector = selector,
        .type = type,
        .present = 1,
        .dpl = 0,
        .db = db,
        .s = 1,
        .l = l,
        .g = 1,
    };
}

void x86_cpu_boot_sregs(struct kvm_sregs *sregs, enum x86_entry_mode mode)
{
    bool long_mode = mode == X86_ENTRY_LINUX64;

    seg_flat(&sregs->cs, X86_BOOT_CS, 0xb, long_mode, !long_mode);
    seg_flat(&sregs->ds, X86_BOOT_DS, 0x3, 0, 1);
    sregs->es = sregs->fs = sregs->gs = sregs->ss = sregs->ds;
    sregs->tr = (struct kvm_segment){
        .base = 0,
        .limit = 0x67,
        .selector = X86_BOOT_TSS,
        .type = 0xb,
        .present = 1,
    };
    sregs->gdt.base = LAYOUT_GDT_START;
    sregs->gdt.limit = 4 * 8 - 1;
    sregs->idt.base = LAYOUT_IDT_START;
    sregs->idt.limit = 0;

    sregs->cr0 = X86_CR0_PE | X86_CR0_ET;
    sregs->cr2 = 0;
    sregs->cr3 = 0;
    sregs->cr4 = 0;
    sregs->efer = 0;
    if (long_mode) {
        sregs->cr3 = LAYOUT_PML4_START;
        sregs->cr4 = X86_CR4_PAE;
        sregs->cr0 |= X86_CR0_PG;
        sregs->efer = X86_EFER_LME | X86_EFER_LMA;
    }
}

void x86_cpu_boot_regs(struct kvm_regs *regs, const struct x86_boot_entry *entry)
{
    memset(regs, 0, sizeof(*regs));
    regs->rflags = 0x2; /* bit 1 is always set */
    regs->rip = entry->rip;
    if (entry->mode == X86_ENTRY_PVH32) {
        regs->rbx = entry->arg;
    } else {
        regs->rsi = entry->arg;
        regs->rsp = LAYOUT_BOOT_STACK_TOP;
        regs->rbp = LAYOUT_BOOT_STACK_TOP;
    }
}

void x86_cpu_boot_fpu(struct kvm_fpu *fpu)
{
    memset(fpu, 0, sizeof(*fpu));
    fpu->fcw = 0x37f;
    fpu->mxcsr = 0x1f80;
}

#define MSR_IA32_SYSENTER_CS  0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE  0x1a0
#define MSR_MTRR_DEF_TYPE     0x2ff
#define MSR_STAR              0xc0000081
#define MSR_LSTAR             0xc0000082
#define MSR_CSTAR             0xc0000083
#define MSR_SYSCALL_MASK      0xc0000084
#define MSR_KERNEL_GS_BASE    0xc0000102
#define MSR_FS_BASE           0xc0000100
#define MSR_GS_BASE           0xc0000101

#define MISC_ENABLE_FAST_STRING 0x1ull
#define MTRR_ENABLE             (1ull << 11)
#define MTRR_TYPE_WB            6ull

void x86_cpu_boot_msrs(struct kvm_msrs *msrs)
{
    static const struct {
        uint32_t index;
        uint64_t data;
    } boot[X86_CPU_BOOT_MSRS] = {
        {MSR_IA32_SYSENTER_CS, 0},
        {MSR_IA32_SYSENTER_ESP, 0},
        {MSR_IA32_SYSENTER_EIP, 0},
        {MSR_STAR, 0},
        {MSR_LSTAR, 0},
        {MSR_CSTAR, 0},
        {MSR_SYSCALL_MASK, 0},
        {MSR_KERNEL_GS_BASE, 0},
        {MSR_FS_BASE, 0},
        {MSR_GS_BASE, 0},
        {MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING},
        {MSR_MTRR_DEF_TYPE, MTRR_ENABLE | MTRR_TYPE_WB},
    };

    msrs->nmsrs = X86_CPU_BOOT_MSRS;
    msrs->pad = 0;
    for (unsigned int i = 0; i < X86_CPU_BOOT_MSRS; i++) {
        msrs->entries[i] = (struct kvm_msr_entry){.index = boot[i].index, .data = boot[i].data};
    }
}

#define APIC_DM_NMI    0x4
#define APIC_DM_EXTINT 0x7

static void lapic_set_delivery(struct kvm_lapic_state *lapic, unsigned int reg, uint32_t mode)
{
    uint32_t v;

    memcpy(&v, &lapic->regs[reg], sizeof(v));
    v = (v & ~0x700u) | (mode << 8);
    memcpy(&lapic->regs[reg], &v, sizeof(v));
}

void x86_cpu_lapic_lint(struct kvm_lapic_state *lapic)
{
    lapic_set_delivery(lapic, X86_LAPIC_LVT_LINT0, APIC_DM_EXTINT);
    lapic_set_delivery(lapic, X86_LAPIC_LVT_LINT1, APIC_DM_NMI);
}
