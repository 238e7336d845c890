/* A virtual CPU: its KVM fd, the thread that runs it, and the exit handling
 * that turns KVM exits into bus accesses and VM lifecycle requests. */
#ifndef VIREO_VMM_VCPU_H
#define VIREO_VMM_VCPU_H

#include <stddef.h>

#include "arch/x86/cpu.h"
#include "kvm/kvm.h"

struct vm;
struct vcpu;

/* Creates vCPU `id` (also its APIC id) of `nr_vcpus`, sets its CPUID and
 * records its power-on state so vcpu_reset() can return to it. */
int vcpu_create(struct vm *vm, struct kvm *kvm, const struct kvm_cpuid2 *supported, unsigned int id,
                unsigned int nr_vcpus, struct vcpu **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void vcpu_free(struct vcpu *vcpu);

/* Back to power-on state; the boot vCPU (entry != NULL) is then set up to
 * enter the kernel, the others wait for INIT/SIPI. The thread must be
 * stopped. */
int vcpu_reset(struct vcpu *vcpu, const struct x86_boot_entry *entry, char *err, size_t errlen)
    __attribute__((warn_unused_result));

int vcpu_start(struct vcpu *vcpu) __attribute__((warn_unused_result));
/* Asks the thread to leave KVM_RUN and end; returns at once. */
void vcpu_kick(struct vcpu *vcpu);
/* Waits for the thread to end (after vcpu_kick or on its own). */
void vcpu_join(struct vcpu *vcpu);

/* Installs the (empty) handler of the signal that kicks vCPUs out of
 * KVM_RUN; once per process, before any vCPU starts. */
int vcpu_signal_setup(void) __attribute__((warn_unused_result));

#endif
