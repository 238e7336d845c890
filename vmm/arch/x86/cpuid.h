/* The CPUID table each vCPU gets: what KVM supports, with the topology, APIC
 * id and hypervisor leaves filled in for this VM. */
#ifndef VIREO_VMM_ARCH_X86_CPUID_H
#define VIREO_VMM_ARCH_X86_CPUID_H

#include <linux/kvm.h>

/* A new table (free() it) for vCPU `apic_id` of `nr_vcpus`, derived from
 * KVM_GET_SUPPORTED_CPUID's answer. NULL when out of memory. */
struct kvm_cpuid2 *cpuid_for_vcpu(const struct kvm_cpuid2 *supported, unsigned int apic_id,
                                  unsigned int nr_vcpus);

/* The entry for (function, index), or NULL. */
struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *cpuid, unsigned int function,
                                    unsigned int index);

#define CPUID_KVM_SIGNATURE_LEAF 0x40000000u
#define CPUID_KVM_FEATURES_LEAF  0x40000001u

#endif
