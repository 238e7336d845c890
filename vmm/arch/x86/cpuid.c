/* CPUID adjustments: the guest must see a topology that matches the VM (APIC
 * ids, logical counts), know it runs on KVM (so Linux uses kvmclock), and not
 * see host details that make no sense inside a VM. */
#include "config.h"

#include "arch/x86/cpuid.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT        (1u << 28)
#define CPUID_6_ECX_EPB        (1u << 3)
/* KVM_FEATURE_CLOCKSOURCE | KVM_FEATURE_CLOCKSOURCE2 | KVM_FEATURE_CLOCKSOURCE_STABLE_BIT */
#define CPUID_KVM_FALLBACK_FEATURES ((1u << 0) | (1u << 3) | (1u << 24))

/* "KVMKVMKVM\0\0\0" as the EBX, ECX, EDX of leaf 0x40000000. */
#define CPUID_KVM_SIG_EBX 0x4b4d564bu
#define CPUID_KVM_SIG_ECX 0x564b4d56u
#define CPUID_KVM_SIG_EDX 0x0000004du

#define CPUID_AMD_VENDOR_EBX 0x68747541u /* "Auth" */

struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *cpuid, unsigned int function,
                                    unsigned int index)
{
    for (unsigned int i = 0; i < cpuid->nent; i++) {
        struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
        if (e->function != function)
            continue;
        if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) && e->index != index)
            continue;
        return e;
    }
    return NULL;
}

static struct kvm_cpuid_entry2 *cpuid_add(struct kvm_cpuid2 *cpuid, unsigned int function)
{
    struct kvm_cpuid_entry2 *e = &cpuid->entries[cpuid->nent++];

    memset(e, 0, sizeof(*e));
    e->function = function;
    return e;
}

/* Bits needed to number `n` things (the x2APIC id shift of a level). */
static unsigned int cpuid_order(unsigned int n)
{
    unsigned int bits = 0;

    while ((1u << bits) < n)
        bits++;
    return bits;
}

/* Leaves 0xb and 0x1f: one thread per core, all vCPUs cores of one package. */
static void cpuid_extended_topology(struct kvm_cpuid_entry2 *e, unsigned int apic_id,
                                    unsigned int nr_vcpus)
{
    e->edx = apic_id;
    switch (e->index) {
    case 0: /* SMT level */
        e->eax = 0;
        e->ebx = 1;
        e->ecx = (1u << 8) | e->index;
        break;
    case 1: /* core level */
        e->eax = cpuid_order(nr_vcpus);
        e->ebx = nr_vcpus;
        e->ecx = (2u << 8) | e->index;
        break;
    default: /* end of the list */
        e->eax = 0;
        e->ebx = 0;
        e->ecx = e->index;
        break;
    }
}

struct kvm_cpuid2 *cpuid_for_vcpu(const struct kvm_cpuid2 *supported, unsigned int apic_id,
                                  unsigned int nr_vcpus)
{
    /* Room for the two KVM leaves in case KVM did not list them. */
    size_t size = sizeof(*supported) + (supported->nent + 2) * sizeof(supported->entries[0]);
    struct kvm_cpuid2 *cpuid = malloc(size);
    struct kvm_cpuid_entry2 *e;
    unsigned int logical = nr_vcpus > 255 ? 255 : nr_vcpus;
    bool amd;

    if (!cpuid)
        return NULL;
    memcpy(cpuid, supported, sizeof(*supported) + supported->nent * sizeof(supported->entries[0]));
    e = cpuid_find(cpuid, 0, 0);
    amd = e && e->ebx == CPUID_AMD_VENDOR_EBX;

    for (unsigned int i = 0; i < cpuid->nent; i++) {
        e = &cpuid->entries[i];
        switch (e->function) {
        case 1:
            e->ebx = (e->ebx & 0x0000ffffu) | (apic_id << 24) | (logical << 16);
            e->ecx |= CPUID_1_ECX_HYPERVISOR;
            if (nr_vcpus > 1)
                e->edx |= CPUID_1_EDX_HTT;
            else
                e->edx &= ~CPUID_1_EDX_HTT;
            break;
        case 4:
            /* Deterministic cache parameters (Intel): cores per package, and
             * the last-level cache shared by all of them. */
            if (e->eax & 0x1f) {
                unsigned int level = (e->eax >> 5) & 0x7;
                unsigned int sharing = level >= 3 ? nr_vcpus - 1 : 0;
                e->eax = (e->eax & 0x3fffu) | ((sharing & 0xfffu) << 14) |
                         (((nr_vcpus - 1) & 0x3fu) << 26);
            }
            break;
        case 6:
            e->ecx &= ~CPUID_6_ECX_EPB;
            break;
        case 0xb:
        case 0x1f:
            cpuid_extended_topology(e, apic_id, nr_vcpus);
            break;
        case 0x80000008:
            if (amd)
                e->ecx =
                    (e->ecx & ~0xf0ffu) | (cpuid_order(nr_vcpus) << 12) | ((nr_vcpus - 1) & 0xffu);
            break;
        case 0x8000001e:
            if (amd) {
                e->eax = apic_id;
                e->ebx = (e->ebx & ~0xffffu) | (apic_id & 0xffu);
                e->ecx = 0;
            }
            break;
        default:
            break;
        }
    }

    e = cpuid_find(cpuid, CPUID_KVM_SIGNATURE_LEAF, 0);
    if (!e)
        e = cpuid_add(cpuid, CPUID_KVM_SIGNATURE_LEAF);
    if (e->eax < CPUID_KVM_FEATURES_LEAF)
        e->eax = CPUID_KVM_FEATURES_LEAF;
    e->ebx = CPUID_KVM_SIG_EBX;
    e->ecx = CPUID_KVM_SIG_ECX;
    e->edx = CPUID_KVM_SIG_EDX;
    if (!cpuid_find(cpuid, CPUID_KVM_FEATURES_LEAF, 0)) {
        e = cpuid_add(cpuid, CPUID_KVM_FEATURES_LEAF);
        e->eax = CPUID_KVM_FALLBACK_FEATURES;
    }
    return cpuid;
}
