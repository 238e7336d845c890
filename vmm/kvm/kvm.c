/* Thin wrappers over the KVM ioctls: each returns 0 (or a count) or -errno
 * and leaves policy to its caller. */
#include "config.h"

#include "kvm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int kvm_ioctl(int fd, unsigned long req, const void *arg)
{
    int ret;

    do {
        ret = ioctl(fd, req, arg);
    } while (ret < 0 && errno == EINTR && req != KVM_RUN);
    return ret < 0 ? -errno : ret;
}

static const struct {
    int cap;
    const char *name;
} kvm_required_caps[] = {
    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
    {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
    {KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR"},
    {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
    {KVM_CAP_SPLIT_IRQCHIP, "KVM_CAP_SPLIT_IRQCHIP"},
    {KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING"},
    {KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI"},
    {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
    {KVM_CAP_IRQFD, "KVM_CAP_IRQFD"},
    {KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD"},
    {KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE"},
    {KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS"},
};

int kvm_open(struct kvm *kvm, const char *dev, unsigned int ioapic_pins, uint64_t tss_addr,
             uint64_t identity_map_addr, char *err, size_t errlen)
{
    int ret;

    memset(kvm, 0, sizeof(*kvm));
    kvm->vm_fd = -1;
    kvm->sys_fd = open(dev, O_RDWR | O_CLOEXEC);
    if (kvm->sys_fd < 0) {
        ret = -errno;
        snprintf(err, errlen, "cannot open %s: %s", dev, strerror(errno));
        return ret;
    }
    ret = kvm_ioctl(kvm->sys_fd, KVM_GET_API_VERSION, NULL);
    if (ret != KVM_API_VERSION) {
        snprintf(err, errlen, "%s: KVM API version %d, expected %d", dev, ret, KVM_API_VERSION);
        ret = -ENOTSUP;
        goto fail;
    }
    for (size_t i = 0; i < sizeof(kvm_required_caps) / sizeof(kvm_required_caps[0]); i++) {
        if (kvm_ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, (void *)(long)kvm_required_caps[i].cap) <=
            0) {
            snprintf(err, errlen, "%s lacks %s", dev, kvm_required_caps[i].name);
            ret = -ENOTSUP;
            goto fail;
        }
    }
    kvm->max_vcpus = kvm_ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, (void *)(long)KVM_CAP_MAX_VCPUS);
    if (kvm->max_vcpus <= 0)
        kvm->max_vcpus =
            kvm_ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, (void *)(long)KVM_CAP_NR_VCPUS);
    if (kvm->max_vcpus <= 0)
        kvm->max_vcpus = 4;
    kvm->has_xcrs = kvm_ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, (void *)(long)KVM_CAP_XCRS) > 0;
    kvm->has_debugregs =
        kvm_ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, (void *)(long)KVM_CAP_DEBUGREGS) > 0;

    ret = kvm_ioctl(kvm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
    if (ret < (int)sizeof(struct kvm_run)) {
        snprintf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(ret < 0 ? -ret : EINVAL));
        ret = ret < 0 ? ret : -EINVAL;
        goto fail;
    }
    kvm->run_size = (size_t)ret;

    do {
        ret = kvm_ioctl(kvm->sys_fd, KVM_CREATE_VM, (void *)0);
    } while (ret == -EINTR);
    if (ret < 0) {
        snprintf(err, errlen, "KVM_CREATE_VM: %s", strerror(-ret));
        goto fail;
    }
    kvm->vm_fd = ret;
    (void)fcntl(kvm->vm_fd, F_SETFD, FD_CLOEXEC);

    ret = kvm_ioctl(kvm->vm_fd, KVM_SET_TSS_ADDR, (void *)(unsigned long)tss_addr);
    if (ret < 0) {
        snprintf(err, errlen, "KVM_SET_TSS_ADDR: %s", strerror(-ret));
        goto fail;
    }
    ret = kvm_ioctl(kvm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity_map_addr);
    if (ret < 0) {
        snprintf(err, errlen, "KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(-ret));
        goto fail;
    }
    struct kvm_enable_cap cap = {.cap = KVM_CAP_SPLIT_IRQCHIP, .args = {ioapic_pins}};
    ret = kvm_ioctl(kvm->vm_fd, KVM_ENABLE_CAP, &cap);
    if (ret < 0) {
        snprintf(err, errlen, "enabling KVM_CAP_SPLIT_IRQCHIP with %u pins: %s", ioapic_pins,
                 strerror(-ret));
        goto fail;
    }
    return 0;

fail:
    kvm_close(kvm);
    return ret;
}

void kvm_close(struct kvm *kvm)
{
    if (kvm->vm_fd >= 0)
        close(kvm->vm_fd);
    if (kvm->sys_fd >= 0)
        close(kvm->sys_fd);
    kvm->vm_fd = kvm->sys_fd = -1;
}

int kvm_set_halt_poll_ns(struct kvm *kvm, uint32_t ns)
{
    struct kvm_enable_cap cap = {.cap = KVM_CAP_HALT_POLL, .args = {ns}};

    if (kvm_ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, (void *)(long)KVM_CAP_HALT_POLL) <= 0)
        return -ENOTSUP;
    return kvm_ioctl(kvm->vm_fd, KVM_ENABLE_CAP, &cap);
}

int kvm_set_user_memory(struct kvm *kvm, uint32_t slot, uint64_t gpa, uint64_t size, void *hva)
{
    struct kvm_userspace_memory_region region = {
        .slot = slot,
        .guest_phys_addr = gpa,
        .memory_size = size,
        .userspace_addr = (uint64_t)(uintptr_t)hva,
    };

    return kvm_ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region);
}

int kvm_get_supported_cpuid(struct kvm *kvm, struct kvm_cpuid2 **out)
{
    /* Grow the buffer until KVM stops answering E2BIG. */
    for (unsigned int nent = 128; nent <= 4096; nent *= 2) {
        struct kvm_cpuid2 *cpuid =
            calloc(1, sizeof(*cpuid) + nent * sizeof(struct kvm_cpuid_entry2));
        int ret;

        if (!cpuid)
            return -ENOMEM;
        cpuid->nent = nent;
        ret = kvm_ioctl(kvm->sys_fd, KVM_GET_SUPPORTED_CPUID, cpuid);
        if (ret == 0) {
            *out = cpuid;
            return 0;
        }
        free(cpuid);
        if (ret != -E2BIG)
            return ret;
    }
    return -E2BIG;
}

int kvm_get_msr_index_list(struct kvm *kvm, struct kvm_msr_list **out)
{
    struct kvm_msr_list probe = {.nmsrs = 0};
    struct kvm_msr_list *list;
    int ret;

    ret = kvm_ioctl(kvm->sys_fd, KVM_GET_MSR_INDEX_LIST, &probe);
    if (ret < 0 && ret != -E2BIG)
        return ret;
    list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(uint32_t));
    if (!list)
        return -ENOMEM;
    list->nmsrs = probe.nmsrs;
    ret = kvm_ioctl(kvm->sys_fd, KVM_GET_MSR_INDEX_LIST, list);
    if (ret < 0) {
        free(list);
        return ret;
    }
    *out = list;
    return 0;
}

int kvm_set_gsi_routing(struct kvm *kvm, const struct kvm_irq_routing_entry *entries,
                        unsigned int nr)
{
    struct kvm_irq_routing *table;
    int ret;

    table = calloc(1, sizeof(*table) + nr * sizeof(*entries));
    if (!table)
        return -ENOMEM;
    table->nr = nr;
    if (nr)
        memcpy(table->entries, entries, nr * sizeof(*entries));
    ret = kvm_ioctl(kvm->vm_fd, KVM_SET_GSI_ROUTING, table);
    free(table);
    return ret;
}

int kvm_signal_msi(struct kvm *kvm, uint64_t addr, uint32_t data)
{
    struct kvm_msi msi = {
        .address_lo = (uint32_t)addr,
        .address_hi = (uint32_t)(addr >> 32),
        .data = data,
    };

    return kvm_ioctl(kvm->vm_fd, KVM_SIGNAL_MSI, &msi);
}

int kvm_irqfd(struct kvm *kvm, int fd, uint32_t gsi, int resample_fd, bool deassign)
{
    struct kvm_irqfd irqfd = {.fd = (uint32_t)fd, .gsi = gsi};

    if (deassign)
        irqfd.flags |= KVM_IRQFD_FLAG_DEASSIGN;
    if (resample_fd >= 0) {
        irqfd.flags |= KVM_IRQFD_FLAG_RESAMPLE;
        irqfd.resamplefd = (uint32_t)resample_fd;
    }
    return kvm_ioctl(kvm->vm_fd, KVM_IRQFD, &irqfd);
}

int kvm_ioeventfd(struct kvm *kvm, int fd, uint64_t addr, uint32_t len, bool pio, bool match_data,
                  uint64_t datamatch, bool deassign)
{
    struct kvm_ioeventfd ioev = {.datamatch = datamatch, .addr = addr, .len = len, .fd = fd};

    if (pio)
        ioev.flags |= KVM_IOEVENTFD_FLAG_PIO;
    if (match_data)
        ioev.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
    if (deassign)
        ioev.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
    return kvm_ioctl(kvm->vm_fd, KVM_IOEVENTFD, &ioev);
}

int kvm_vcpu_create(struct kvm *kvm, unsigned int id, struct kvm_vcpu_fd *vcpu)
{
    int ret;
    void *run;

    ret = kvm_ioctl(kvm->vm_fd, KVM_CREATE_VCPU, (void *)(unsigned long)id);
    if (ret < 0)
        return ret;
    vcpu->fd = ret;
    vcpu->id = id;
    (void)fcntl(vcpu->fd, F_SETFD, FD_CLOEXEC);
    run = mmap(NULL, kvm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
    if (run == MAP_FAILED) {
        ret = -errno;
        close(vcpu->fd);
        vcpu->fd = -1;
        return ret;
    }
    vcpu->run = run;
    return 0;
}

void kvm_vcpu_destroy(struct kvm *kvm, struct kvm_vcpu_fd *vcpu)
{
    if (vcpu->run)
        munmap(vcpu->run, kvm->run_size);
    if (vcpu->fd >= 0)
        close(vcpu->fd);
    vcpu->run = NULL;
    vcpu->fd = -1;
}

int kvm_vcpu_set_cpuid(struct kvm_vcpu_fd *vcpu, const struct kvm_cpuid2 *cpuid)
{
    return kvm_ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid);
}

int kvm_vcpu_set_msrs(struct kvm_vcpu_fd *vcpu, const struct kvm_msrs *msrs)
{
    return kvm_ioctl(vcpu->fd, KVM_SET_MSRS, msrs);
}

int kvm_vcpu_get_msrs(struct kvm_vcpu_fd *vcpu, struct kvm_msrs *msrs)
{
    return kvm_ioctl(vcpu->fd, KVM_GET_MSRS, msrs);
}

#define KVM_VCPU_ACCESSORS(name, type, get_req, set_req)                                           \
    int kvm_vcpu_get_##name(struct kvm_vcpu_fd *vcpu, type *val)                                   \
    {                                                                                              \
        return kvm_ioctl(vcpu->fd, get_req, val);                                                  \
    }                                                                                              \
    int kvm_vcpu_set_##name(struct kvm_vcpu_fd *vcpu, const type *val)                             \
    {                                                                                              \
        return kvm_ioctl(vcpu->fd, set_req, val);                                                  \
    }

KVM_VCPU_ACCESSORS(regs, struct kvm_regs, KVM_GET_REGS, KVM_SET_REGS)
KVM_VCPU_ACCESSORS(sregs, struct kvm_sregs, KVM_GET_SREGS, KVM_SET_SREGS)
KVM_VCPU_ACCESSORS(fpu, struct kvm_fpu, KVM_GET_FPU, KVM_SET_FPU)
KVM_VCPU_ACCESSORS(lapic, struct kvm_lapic_state, KVM_GET_LAPIC, KVM_SET_LAPIC)
KVM_VCPU_ACCESSORS(mp_state, struct kvm_mp_state, KVM_GET_MP_STATE, KVM_SET_MP_STATE)
KVM_VCPU_ACCESSORS(events, struct kvm_vcpu_events, KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS)
KVM_VCPU_ACCESSORS(xcrs, struct kvm_xcrs, KVM_GET_XCRS, KVM_SET_XCRS)
KVM_VCPU_ACCESSORS(debugregs, struct kvm_debugregs, KVM_GET_DEBUGREGS, KVM_SET_DEBUGREGS)

int kvm_vcpu_run(struct kvm_vcpu_fd *vcpu)
{
    return kvm_ioctl(vcpu->fd, KVM_RUN, NULL);
}

const char *kvm_exit_reason_name(uint32_t reason)
{
    static const char *const names[] = {
        [KVM_EXIT_UNKNOWN] = "UNKNOWN",
        [KVM_EXIT_EXCEPTION] = "EXCEPTION",
        [KVM_EXIT_IO] = "IO",
        [KVM_EXIT_HYPERCALL] = "HYPERCALL",
        [KVM_EXIT_DEBUG] = "DEBUG",
        [KVM_EXIT_HLT] = "HLT",
        [KVM_EXIT_MMIO] = "MMIO",
        [KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
        [KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
        [KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
        [KVM_EXIT_INTR] = "INTR",
        [KVM_EXIT_SET_TPR] = "SET_TPR",
        [KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
        [KVM_EXIT_NMI] = "NMI",
        [KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
        [KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
        [KVM_EXIT_IOAPIC_EOI] = "IOAPIC_EOI",
        [KVM_EXIT_HYPERV] = "HYPERV",
        [KVM_EXIT_X86_RDMSR] = "X86_RDMSR",
        [KVM_EXIT_X86_WRMSR] = "X86_WRMSR",
        [KVM_EXIT_DIRTY_RING_FULL] = "DIRTY_RING_FULL",
    };

    if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
        return names[reason];
    return "?";
}
