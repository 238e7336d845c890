/* The one place that issues KVM ioctls. Everything above it (vm, vcpu, boot)
 * speaks in these calls, so every ioctl and its error reporting is here. */
#ifndef VIREO_VMM_KVM_KVM_H
#define VIREO_VMM_KVM_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KVM_WUR __attribute__((warn_unused_result))

struct kvm {
    int sys_fd;      /* /dev/kvm */
    int vm_fd;       /* the VM */
    size_t run_size; /* size of each vCPU's kvm_run mapping */
    int max_vcpus;   /* KVM_CAP_MAX_VCPUS (or NR_VCPUS) */
    bool has_xcrs;   /* KVM_CAP_XCRS */
    bool has_debugregs;
};

struct kvm_vcpu_fd {
    int fd;
    unsigned int id;
    struct kvm_run *run; /* mmap'd, run_size bytes */
};

/* Opens `dev` (normally "/dev/kvm"), checks the API version and the
 * capabilities Vireo relies on, creates the VM with the split irqchip
 * (`ioapic_pins` routes reserved for the userspace IOAPIC) and places the TSS
 * and identity-map pages at `tss_addr`/`identity_map_addr`. On failure the
 * reason is written into `err` (size `errlen`) and -errno returned. */
int kvm_open(struct kvm *kvm, const char *dev, unsigned int ioapic_pins, uint64_t tss_addr,
             uint64_t identity_map_addr, char *err, size_t errlen) KVM_WUR;
void kvm_close(struct kvm *kvm);

/* Caps how long KVM polls before it really halts an idle vCPU (0: never
 * poll). -EINVAL or -ENOTSUP when KVM lacks KVM_CAP_HALT_POLL. */
int kvm_set_halt_poll_ns(struct kvm *kvm, uint32_t ns) KVM_WUR;

int kvm_set_user_memory(struct kvm *kvm, uint32_t slot, uint64_t gpa, uint64_t size,
                        void *hva) KVM_WUR;

/* Caller frees the result with free(). */
int kvm_get_supported_cpuid(struct kvm *kvm, struct kvm_cpuid2 **out) KVM_WUR;
/* Every MSR index KVM can save and restore; caller frees. */
int kvm_get_msr_index_list(struct kvm *kvm, struct kvm_msr_list **out) KVM_WUR;

/* Routes are replaced as a whole, as KVM requires. */
int kvm_set_gsi_routing(struct kvm *kvm, const struct kvm_irq_routing_entry *entries,
                        unsigned int nr) KVM_WUR;
/* Returns >0 when delivered, 0 when the guest blocked it, -errno on error. */
int kvm_signal_msi(struct kvm *kvm, uint64_t addr, uint32_t data) KVM_WUR;
int kvm_irqfd(struct kvm *kvm, int fd, uint32_t gsi, int resample_fd, bool deassign) KVM_WUR;
int kvm_ioeventfd(struct kvm *kvm, int fd, uint64_t addr, uint32_t len, bool pio, bool match_data,
                  uint64_t datamatch, bool deassign) KVM_WUR;

int kvm_vcpu_create(struct kvm *kvm, unsigned int id, struct kvm_vcpu_fd *vcpu) KVM_WUR;
void kvm_vcpu_destroy(struct kvm *kvm, struct kvm_vcpu_fd *vcpu);

int kvm_vcpu_set_cpuid(struct kvm_vcpu_fd *vcpu, const struct kvm_cpuid2 *cpuid) KVM_WUR;
/* Returns the number of MSRs KVM accepted or read (it stops at the first
 * one it refuses), or -errno. */
int kvm_vcpu_set_msrs(struct kvm_vcpu_fd *vcpu, const struct kvm_msrs *msrs) KVM_WUR;
int kvm_vcpu_get_msrs(struct kvm_vcpu_fd *vcpu, struct kvm_msrs *msrs) KVM_WUR;
int kvm_vcpu_get_regs(struct kvm_vcpu_fd *vcpu, struct kvm_regs *regs) KVM_WUR;
int kvm_vcpu_set_regs(struct kvm_vcpu_fd *vcpu, const struct kvm_regs *regs) KVM_WUR;
int kvm_vcpu_get_sregs(struct kvm_vcpu_fd *vcpu, struct kvm_sregs *sregs) KVM_WUR;
int kvm_vcpu_set_sregs(struct kvm_vcpu_fd *vcpu, const struct kvm_sregs *sregs) KVM_WUR;
int kvm_vcpu_get_fpu(struct kvm_vcpu_fd *vcpu, struct kvm_fpu *fpu) KVM_WUR;
int kvm_vcpu_set_fpu(struct kvm_vcpu_fd *vcpu, const struct kvm_fpu *fpu) KVM_WUR;
int kvm_vcpu_get_lapic(struct kvm_vcpu_fd *vcpu, struct kvm_lapic_state *lapic) KVM_WUR;
int kvm_vcpu_set_lapic(struct kvm_vcpu_fd *vcpu, const struct kvm_lapic_state *lapic) KVM_WUR;
int kvm_vcpu_get_mp_state(struct kvm_vcpu_fd *vcpu, struct kvm_mp_state *mp) KVM_WUR;
int kvm_vcpu_set_mp_state(struct kvm_vcpu_fd *vcpu, const struct kvm_mp_state *mp) KVM_WUR;
int kvm_vcpu_get_events(struct kvm_vcpu_fd *vcpu, struct kvm_vcpu_events *ev) KVM_WUR;
int kvm_vcpu_set_events(struct kvm_vcpu_fd *vcpu, const struct kvm_vcpu_events *ev) KVM_WUR;
int kvm_vcpu_get_xcrs(struct kvm_vcpu_fd *vcpu, struct kvm_xcrs *xcrs) KVM_WUR;
int kvm_vcpu_set_xcrs(struct kvm_vcpu_fd *vcpu, const struct kvm_xcrs *xcrs) KVM_WUR;
int kvm_vcpu_get_debugregs(struct kvm_vcpu_fd *vcpu, struct kvm_debugregs *dr) KVM_WUR;
int kvm_vcpu_set_debugregs(struct kvm_vcpu_fd *vcpu, const struct kvm_debugregs *dr) KVM_WUR;

/* One KVM_RUN. Returns 0 on an exit to handle (see vcpu->run), -EINTR when a
 * signal or immediate_exit interrupted it, other -errno on failure. */
int kvm_vcpu_run(struct kvm_vcpu_fd *vcpu) KVM_WUR;

const char *kvm_exit_reason_name(uint32_t reason);

#endif
