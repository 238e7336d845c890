/* vCPU threads. Each runs KVM_RUN in a loop and hands exits to the buses,
 * the IOAPIC (EOIs) or the VM's lifecycle (poweroff, reset, fatal errors).
 * Stopping is a flag plus immediate_exit plus a signal, so a vCPU leaves
 * KVM_RUN wherever it is. */
#include "config.h"

#include "vcpu.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/cpuid.h"
#include "bus.h"
#include "log.h"
#include "vm.h"

#define VCPU_KICK_SIGNAL  (SIGRTMIN + 1)
#define VCPU_MSR_IA32_TSC 0x10

struct vcpu {
    struct vm *vm;
    struct kvm *kvm;
    struct kvm_vcpu_fd fd;
    pthread_t thread;
    bool thread_started;
    int stop; /* atomic */

    /* Power-on state, captured right after creation. */
    struct kvm_sregs reset_sregs;
    struct kvm_lapic_state reset_lapic;
    struct kvm_xcrs reset_xcrs;
    struct kvm_debugregs reset_debugregs;
    struct kvm_msrs *reset_msrs;
};

static void vcpu_kick_handler(int sig)
{
    (void)sig;
}

int vcpu_signal_setup(void)
{
    struct sigaction sa = {.sa_handler = vcpu_kick_handler};

    sigemptyset(&sa.sa_mask);
    return sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0 ? -errno : 0;
}

/* Reads every MSR KVM can save; those it refuses are left out, so the
 * snapshot holds only MSRs that can be written back. */
static struct kvm_msrs *vcpu_snapshot_msrs(struct vcpu *vcpu)
{
    struct kvm_msr_list *list = NULL;
    struct kvm_msrs *msrs;
    uint32_t n = 0;

    if (kvm_get_msr_index_list(vcpu->kvm, &list) < 0)
        return NULL;
    msrs = calloc(1, sizeof(*msrs) + list->nmsrs * sizeof(msrs->entries[0]));
    if (!msrs) {
        free(list);
        return NULL;
    }
    for (uint32_t i = 0; i < list->nmsrs; i++) {
        struct {
            struct kvm_msrs hdr;
            struct kvm_msr_entry e;
        } one = {.hdr.nmsrs = 1, .e.index = list->indices[i]};
        /* The TSC keeps counting across a reset, as KVM synchronized it
         * between vCPUs at creation; writing it would undo that. */
        if (one.e.index == VCPU_MSR_IA32_TSC)
            continue;
        if (kvm_vcpu_get_msrs(&vcpu->fd, &one.hdr) == 1)
            msrs->entries[n++] = one.e;
    }
    msrs->nmsrs = n;
    free(list);
    return msrs;
}

/* KVM_SET_MSRS stops at the first MSR it refuses: skip it and go on. */
static void vcpu_restore_msrs(struct vcpu *vcpu, const struct kvm_msrs *msrs)
{
    size_t size = sizeof(*msrs) + msrs->nmsrs * sizeof(msrs->entries[0]);
    struct kvm_msrs *rest = malloc(size);
    uint32_t done = 0;

    if (!rest)
        return;
    while (done < msrs->nmsrs) {
        rest->nmsrs = msrs->nmsrs - done;
        rest->pad = 0;
        memcpy(rest->entries, &msrs->entries[done], rest->nmsrs * sizeof(rest->entries[0]));
        int ret = kvm_vcpu_set_msrs(&vcpu->fd, rest);
        if (ret < 0)
            break;
        if ((uint32_t)ret < rest->nmsrs)
            log_debug("vCPU %u: MSR 0x%x not restored on reset", vcpu->fd.id,
                      rest->entries[ret].index);
        done += (uint32_t)ret + 1;
    }
    free(rest);
}

int vcpu_create(struct vm *vm, struct kvm *kvm, const struct kvm_cpuid2 *supported, unsigned int id,
                unsigned int nr_vcpus, struct vcpu **out, char *err, size_t errlen)
{
    struct vcpu *vcpu = calloc(1, sizeof(*vcpu));
    struct kvm_cpuid2 *cpuid = NULL;
    int ret;

    if (!vcpu)
        return -ENOMEM;
    vcpu->vm = vm;
    vcpu->kvm = kvm;
    vcpu->fd.fd = -1;
    ret = kvm_vcpu_create(kvm, id, &vcpu->fd);
    if (ret) {
        snprintf(err, errlen, "creating vCPU %u: %s", id, strerror(-ret));
        goto fail;
    }
    cpuid = cpuid_for_vcpu(supported, id, nr_vcpus);
    if (!cpuid) {
        ret = -ENOMEM;
        snprintf(err, errlen, "vCPU %u: out of memory", id);
        goto fail;
    }
    ret = kvm_vcpu_set_cpuid(&vcpu->fd, cpuid);
    free(cpuid);
    if (ret) {
        snprintf(err, errlen, "vCPU %u: KVM_SET_CPUID2: %s", id, strerror(-ret));
        goto fail;
    }
    ret = kvm_vcpu_get_sregs(&vcpu->fd, &vcpu->reset_sregs);
    if (!ret)
        ret = kvm_vcpu_get_lapic(&vcpu->fd, &vcpu->reset_lapic);
    if (!ret && kvm->has_xcrs)
        ret = kvm_vcpu_get_xcrs(&vcpu->fd, &vcpu->reset_xcrs);
    if (!ret && kvm->has_debugregs)
        ret = kvm_vcpu_get_debugregs(&vcpu->fd, &vcpu->reset_debugregs);
    if (ret) {
        snprintf(err, errlen, "vCPU %u: reading its power-on state: %s", id, strerror(-ret));
        goto fail;
    }
    x86_cpu_lapic_lint(&vcpu->reset_lapic);
    vcpu->reset_msrs = vcpu_snapshot_msrs(vcpu);
    if (!vcpu->reset_msrs) {
        ret = -ENOMEM;
        snprintf(err, errlen, "vCPU %u: reading its MSRs failed", id);
        goto fail;
    }
    *out = vcpu;
    return 0;

fail:
    vcpu_free(vcpu);
    return ret;
}

void vcpu_free(struct vcpu *vcpu)
{
    if (!vcpu)
        return;
    if (vcpu->thread_started) {
        vcpu_kick(vcpu);
        vcpu_join(vcpu);
    }
    kvm_vcpu_destroy(vcpu->kvm, &vcpu->fd);
    free(vcpu->reset_msrs);
    free(vcpu);
}

int vcpu_reset(struct vcpu *vcpu, const struct x86_boot_entry *entry, char *err, size_t errlen)
{
    unsigned int id = vcpu->fd.id;
    struct kvm_mp_state mp = {.mp_state =
                                  entry ? KVM_MP_STATE_RUNNABLE : KVM_MP_STATE_UNINITIALIZED};
    struct kvm_vcpu_events events;
    struct kvm_sregs sregs = vcpu->reset_sregs;
    struct kvm_regs regs;
    struct kvm_fpu fpu;
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e[X86_CPU_BOOT_MSRS];
    } boot_msrs;
    const char *step;
    int ret;

    vcpu_restore_msrs(vcpu, vcpu->reset_msrs);
    x86_cpu_boot_msrs(&boot_msrs.hdr);
    step = "KVM_SET_MSRS";
    ret = kvm_vcpu_set_msrs(&vcpu->fd, &boot_msrs.hdr);
    if (ret >= 0 && ret < X86_CPU_BOOT_MSRS) {
        snprintf(err, errlen, "vCPU %u: KVM refused MSR 0x%x", id,
                 boot_msrs.hdr.entries[ret].index);
        return -EINVAL;
    }
    if (ret < 0)
        goto fail;

    step = "KVM_SET_LAPIC";
    ret = kvm_vcpu_set_lapic(&vcpu->fd, &vcpu->reset_lapic);
    if (ret)
        goto fail;
    if (vcpu->kvm->has_xcrs) {
        step = "KVM_SET_XCRS";
        ret = kvm_vcpu_set_xcrs(&vcpu->fd, &vcpu->reset_xcrs);
        if (ret)
            goto fail;
    }
    if (vcpu->kvm->has_debugregs) {
        step = "KVM_SET_DEBUGREGS";
        ret = kvm_vcpu_set_debugregs(&vcpu->fd, &vcpu->reset_debugregs);
        if (ret)
            goto fail;
    }
    /* Drop whatever exception, NMI or SIPI the previous boot left pending. */
    step = "KVM_GET_VCPU_EVENTS";
    ret = kvm_vcpu_get_events(&vcpu->fd, &events);
    if (ret)
        goto fail;
    memset(&events.exception, 0, sizeof(events.exception));
    memset(&events.interrupt, 0, sizeof(events.interrupt));
    memset(&events.nmi, 0, sizeof(events.nmi));
    events.sipi_vector = 0;
    events.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
    step = "KVM_SET_VCPU_EVENTS";
    ret = kvm_vcpu_set_events(&vcpu->fd, &events);
    if (ret)
        goto fail;

    if (entry) {
        x86_cpu_boot_sregs(&sregs, entry->mode);
        x86_cpu_boot_regs(&regs, entry);
    } else {
        memset(&regs, 0, sizeof(regs));
        regs.rflags = 0x2;
        regs.rip = 0xfff0;
    }
    x86_cpu_boot_fpu(&fpu);
    step = "KVM_SET_SREGS";
    ret = kvm_vcpu_set_sregs(&vcpu->fd, &sregs);
    if (ret)
        goto fail;
    step = "KVM_SET_REGS";
    ret = kvm_vcpu_set_regs(&vcpu->fd, &regs);
    if (ret)
        goto fail;
    step = "KVM_SET_FPU";
    ret = kvm_vcpu_set_fpu(&vcpu->fd, &fpu);
    if (ret)
        goto fail;
    step = "KVM_SET_MP_STATE";
    ret = kvm_vcpu_set_mp_state(&vcpu->fd, &mp);
    if (ret)
        goto fail;
    vcpu->fd.run->immediate_exit = 0;
    __atomic_store_n(&vcpu->stop, 0, __ATOMIC_SEQ_CST);
    return 0;

fail:
    snprintf(err, errlen, "vCPU %u: %s: %s", id, step, strerror(-ret));
    return ret;
}

static void vcpu_dump_regs(struct vcpu *vcpu)
{
    struct kvm_regs r;
    struct kvm_sregs s;

    if (kvm_vcpu_get_regs(&vcpu->fd, &r) || kvm_vcpu_get_sregs(&vcpu->fd, &s))
        return;
    log_error("vCPU %u: rip=0x%llx rsp=0x%llx rflags=0x%llx rax=0x%llx rbx=0x%llx rcx=0x%llx "
              "rdx=0x%llx rsi=0x%llx rdi=0x%llx",
              vcpu->fd.id, r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi);
    log_error("vCPU %u: cs=0x%x(base 0x%llx l=%u db=%u) cr0=0x%llx cr2=0x%llx cr3=0x%llx "
              "cr4=0x%llx efer=0x%llx",
              vcpu->fd.id, s.cs.selector, s.cs.base, s.cs.l, s.cs.db, s.cr0, s.cr2, s.cr3, s.cr4,
              s.efer);
}

enum vcpu_action {
    VCPU_CONTINUE,
    VCPU_EXIT, /* the VM was told why; this thread ends */
};

static void vcpu_io(struct vcpu *vcpu)
{
    struct kvm_run *run = vcpu->fd.run;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    struct bus *pio = vm_pio_bus(vcpu->vm);
    bool out = run->io.direction == KVM_EXIT_IO_OUT;

    /* A string instruction (rep ins/outs) arrives as `count` accesses. */
    for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
        bool claimed = out ? bus_write(pio, run->io.port, data, run->io.size)
                           : bus_read(pio, run->io.port, data, run->io.size);
        if (!claimed)
            vm_unhandled_access(vcpu->vm, true, run->io.port, run->io.size, out, data);
        if (log_enabled(LOG_DEBUG) && (run->io.port < 0x3f8 || run->io.port > 0x3ff)) {
            uint32_t v = 0;
            memcpy(&v, data, run->io.size > 4 ? 4 : run->io.size);
            log_debug("vCPU %u: %s 0x%x/%u = 0x%x", vcpu->fd.id, out ? "out" : "in", run->io.port,
                      run->io.size, v);
        }
    }
}

static void vcpu_mmio(struct vcpu *vcpu)
{
    struct kvm_run *run = vcpu->fd.run;
    struct bus *mmio = vm_mmio_bus(vcpu->vm);
    uint32_t len = run->mmio.len > 8 ? 8 : run->mmio.len;
    bool claimed;

    if (run->mmio.is_write && log_enabled(LOG_DEBUG)) {
        uint64_t v = 0;
        memcpy(&v, run->mmio.data, len);
        log_debug("vCPU %u: MMIO write 0x%llx/%u = 0x%llx", vcpu->fd.id,
                  (unsigned long long)run->mmio.phys_addr, len, (unsigned long long)v);
    }
    if (run->mmio.is_write)
        claimed = bus_write(mmio, run->mmio.phys_addr, run->mmio.data, len);
    else
        claimed = bus_read(mmio, run->mmio.phys_addr, run->mmio.data, len);
    if (!claimed)
        vm_unhandled_access(vcpu->vm, false, run->mmio.phys_addr, len, run->mmio.is_write,
                            run->mmio.data);
}

static enum vcpu_action vcpu_system_event(struct vcpu *vcpu)
{
    struct kvm_run *run = vcpu->fd.run;

    switch (run->system_event.type) {
    case KVM_SYSTEM_EVENT_SHUTDOWN:
        log_info("vCPU %u: guest asked for power off", vcpu->fd.id);
        vm_request(vcpu->vm, VM_EVENT_POWEROFF);
        return VCPU_EXIT;
    case KVM_SYSTEM_EVENT_RESET:
        log_info("vCPU %u: guest asked for a reset", vcpu->fd.id);
        vm_request(vcpu->vm, VM_EVENT_RESET);
        return VCPU_EXIT;
    case KVM_SYSTEM_EVENT_CRASH:
        vm_fatal(vcpu->vm, "vCPU %u: guest crashed (KVM_SYSTEM_EVENT_CRASH)", vcpu->fd.id);
        return VCPU_EXIT;
    default:
        vm_fatal(vcpu->vm, "vCPU %u: unexpected system event %u", vcpu->fd.id,
                 run->system_event.type);
        return VCPU_EXIT;
    }
}

static enum vcpu_action vcpu_handle_exit(struct vcpu *vcpu)
{
    struct kvm_run *run = vcpu->fd.run;

    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        vcpu_io(vcpu);
        return VCPU_CONTINUE;
    case KVM_EXIT_MMIO:
        vcpu_mmio(vcpu);
        return VCPU_CONTINUE;
    case KVM_EXIT_IOAPIC_EOI:
        vm_ioapic_eoi(vcpu->vm, run->eoi.vector);
        return VCPU_CONTINUE;
    case KVM_EXIT_HLT:
        /* The in-kernel LAPIC handles HLT; an exit means nothing can wake
         * this vCPU, which a guest only does when it is done. */
        log_info("vCPU %u: halted with interrupts off", vcpu->fd.id);
        return VCPU_EXIT;
    case KVM_EXIT_INTR:
        return VCPU_CONTINUE;
    case KVM_EXIT_SHUTDOWN:
        vcpu_dump_regs(vcpu);
        vm_fatal(vcpu->vm, "vCPU %u: triple fault (KVM_EXIT_SHUTDOWN)", vcpu->fd.id);
        return VCPU_EXIT;
    case KVM_EXIT_SYSTEM_EVENT:
        return vcpu_system_event(vcpu);
    case KVM_EXIT_FAIL_ENTRY:
        vcpu_dump_regs(vcpu);
        vm_fatal(vcpu->vm,
                 "vCPU %u: KVM could not enter the guest (hardware reason 0x%llx, cpu %u)",
                 vcpu->fd.id, (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
                 run->fail_entry.cpu);
        return VCPU_EXIT;
    case KVM_EXIT_INTERNAL_ERROR: {
        char data[200] = "";
        size_t off = 0;
        for (uint32_t i = 0; i < run->internal.ndata && i < 16 && off < sizeof(data); i++)
            off += (size_t)snprintf(data + off, sizeof(data) - off, " 0x%llx",
                                    (unsigned long long)run->internal.data[i]);
        vcpu_dump_regs(vcpu);
        vm_fatal(vcpu->vm, "vCPU %u: KVM internal error, suberror %u, data:%s", vcpu->fd.id,
                 run->internal.suberror, data);
        return VCPU_EXIT;
    }
    default:
        vcpu_dump_regs(vcpu);
        vm_fatal(vcpu->vm, "vCPU %u: unexpected KVM exit %u (%s)", vcpu->fd.id, run->exit_reason,
                 kvm_exit_reason_name(run->exit_reason));
        return VCPU_EXIT;
    }
}

static void *vcpu_thread(void *opaque)
{
    struct vcpu *vcpu = opaque;
    sigset_t set;
    char name[16];

    snprintf(name, sizeof(name), "vcpu%u", vcpu->fd.id);
    pthread_setname_np(pthread_self(), name);
    sigemptyset(&set);
    sigaddset(&set, VCPU_KICK_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);

    while (!__atomic_load_n(&vcpu->stop, __ATOMIC_SEQ_CST)) {
        int ret = kvm_vcpu_run(&vcpu->fd);
        if (ret == -EINTR || ret == -EAGAIN)
            continue;
        if (ret < 0) {
            vm_fatal(vcpu->vm, "vCPU %u: KVM_RUN: %s", vcpu->fd.id, strerror(-ret));
            break;
        }
        if (vcpu_handle_exit(vcpu) == VCPU_EXIT)
            break;
        /* A device just asked for a power off or reset: stop here rather
         * than run guest code past the point where the machine stopped. */
        if (vm_event_pending(vcpu->vm))
            break;
    }
    return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
    sigset_t set, old;
    int ret;

    /* The thread starts with the kick signal blocked and unblocks it itself,
     * so a kick can never hit a thread that has not set up. */
    sigemptyset(&set);
    sigaddset(&set, VCPU_KICK_SIGNAL);
    /* Also a resume after a pause: run on from where the kick stopped it. */
    __atomic_store_n(&vcpu->stop, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&vcpu->fd.run->immediate_exit, 0, __ATOMIC_SEQ_CST);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    ret = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (ret)
        return -ret;
    vcpu->thread_started = true;
    return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
    if (!vcpu->thread_started)
        return;
    __atomic_store_n(&vcpu->stop, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&vcpu->fd.run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *vcpu)
{
    if (!vcpu->thread_started)
        return;
    pthread_join(vcpu->thread, NULL);
    vcpu->thread_started = false;
}
