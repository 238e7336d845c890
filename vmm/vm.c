/* struct vm and its lifecycle. Construction follows a fixed order (KVM,
 * memory, buses, devices: legacy -> IOAPIC -> ACPI, vCPUs); a boot zeroes RAM,
 * loads the kernel and resets the vCPUs; a reboot stops the vCPUs, resets
 * the devices and boots again in the same process. */
#include "config.h"

#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <pthread.h>
#include <stdarg.h>
#include <cpuid.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "acpi/tables.h"
#include "arch/x86/boot.h"
#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"
#include "boot_marker.h"
#include "bus.h"
#include "chardev/chardev.h"
#include "devices/acpi_power.h"
#include "devices/i8042.h"
#include "devices/ioapic.h"
#include "devices/rtc.h"
#include "devices/serial.h"
#include "guest_memory.h"
#include "kvm/kvm.h"
#include "log.h"
#include "vcpu.h"

/* KVM's private pages (real-mode TSS and EPT identity map) sit in the 32-bit
 * hole, clear of RAM and of every device. */
#define VM_KVM_IDENTITY_MAP_ADDR 0xfeffc000ull
#define VM_KVM_TSS_ADDR          0xfeffd000ull

struct vm {
    const struct vm_config *cfg;
    struct kvm kvm;
    struct kvm_cpuid2 *supported_cpuid;
    struct guest_memory mem;
    uint64_t low_ram_end;
    uint64_t high_ram_size;
    struct bus *pio;
    struct bus *mmio;

    /* Backends outlive reboots; devices are rebuilt for each boot. */
    struct chardev *serial_backend;
    struct serial *serial;
    struct rtc *rtc;
    struct i8042 *i8042;
    struct ioapic *ioapic;
    struct acpi_power *power;

    /* GSI routes of the IOAPIC pins, as KVM last got them. */
    pthread_mutex_t routes_lock;
    struct kvm_irq_routing_entry routes[LAYOUT_IOAPIC_PINS];
    bool route_valid[LAYOUT_IOAPIC_PINS];

    struct vcpu **vcpus;
    unsigned int nr_vcpus;
    unsigned int boots;

    struct log_ratelimit unhandled_rl;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    enum vm_event event; /* under lock */
};

struct bus *vm_pio_bus(struct vm *vm)
{
    return vm->pio;
}

struct bus *vm_mmio_bus(struct vm *vm)
{
    return vm->mmio;
}

void vm_ioapic_eoi(struct vm *vm, uint8_t vector)
{
    if (vm->ioapic)
        ioapic_end_of_interrupt(vm->ioapic, vector);
}

bool vm_event_pending(struct vm *vm)
{
    return __atomic_load_n(&vm->event, __ATOMIC_SEQ_CST) != VM_EVENT_NONE;
}

void vm_request(struct vm *vm, enum vm_event event)
{
    pthread_mutex_lock(&vm->lock);
    if (event > vm->event)
        __atomic_store_n(&vm->event, event, __ATOMIC_SEQ_CST);
    pthread_cond_broadcast(&vm->cond);
    pthread_mutex_unlock(&vm->lock);
}

void vm_fatal(struct vm *vm, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_error("%s", msg);
    vm_request(vm, VM_EVENT_FATAL);
}

void vm_unhandled_access(struct vm *vm, bool pio, uint64_t addr, uint32_t len, bool write,
                         const uint8_t *data)
{
    unsigned int suppressed;
    uint64_t v = 0;

    if (!log_enabled(LOG_INFO) || !log_ratelimit(&vm->unhandled_rl, &suppressed))
        return;
    if (suppressed)
        log_info("%u unhandled accesses not logged", suppressed);
    if (write) {
        memcpy(&v, data, len > 8 ? 8 : len);
        log_info("unhandled %s write 0x%llx/%u = 0x%llx (ignored)", pio ? "port" : "MMIO",
                 (unsigned long long)addr, len, (unsigned long long)v);
    } else {
        log_info("unhandled %s read 0x%llx/%u (reads as all ones)", pio ? "port" : "MMIO",
                 (unsigned long long)addr, len);
    }
}

static int vm_memory_map(struct vm *vm, char **err)
{
    uint64_t size = vm->cfg->memory_size;
    uint64_t low = size < LAYOUT_MEM_32BIT_GAP_START ? size : LAYOUT_MEM_32BIT_GAP_START;
    struct {
        uint64_t gpa, size;
    } want[2] = {{0, low}, {LAYOUT_RAM_64BIT_START, size - low}};

    vm->low_ram_end = low;
    vm->high_ram_size = size - low;
    for (unsigned int i = 0; i < 2; i++) {
        if (!want[i].size)
            continue;
        void *hva = mmap(NULL, want[i].size, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (hva == MAP_FAILED) {
            *err = g_strdup_printf("cannot allocate %llu MiB of guest memory: %s",
                                   (unsigned long long)(want[i].size >> 20), strerror(errno));
            return -ENOMEM;
        }
        /* Huge pages in the host mean far fewer nested page faults, which
         * dominate boot time under nested virtualization. */
        madvise(hva, want[i].size, MADV_HUGEPAGE);
        struct guest_region *r = &vm->mem.regions[vm->mem.nr_regions++];
        *r = (struct guest_region){want[i].gpa, want[i].size, hva};
        int ret = kvm_set_user_memory(&vm->kvm, i, r->gpa, r->size, hva);
        if (ret) {
            *err = g_strdup_printf("KVM_SET_USER_MEMORY_REGION: %s", strerror(-ret));
            return ret;
        }
    }
    return 0;
}

/* Zero-filled again, as after power-on: anonymous private pages read as
 * zeros once dropped. */
static void vm_memory_clear(struct vm *vm)
{
    for (unsigned int i = 0; i < vm->mem.nr_regions; i++)
        madvise(vm->mem.regions[i].hva, vm->mem.regions[i].size, MADV_DONTNEED);
}

/* Legacy devices raise lines through the VM, so they can be built before
 * the IOAPIC they end up on. */
static void vm_irq_set_level(void *opaque, unsigned int pin, bool level)
{
    struct vm *vm = opaque;

    if (vm->ioapic)
        ioapic_set_irq(vm->ioapic, pin, level);
}

static int vm_signal_msi(void *opaque, uint64_t address, uint32_t data)
{
    struct vm *vm = opaque;
    int ret = kvm_signal_msi(&vm->kvm, address, data);

    return ret < 0 ? ret : 0;
}

/* KVM must know the MSI behind every unmasked pin, or it will not exit on
 * the EOI of a level-triggered vector (KVM_EXIT_IOAPIC_EOI). */
static int vm_update_route(void *opaque, unsigned int pin, uint64_t address, uint32_t data,
                           bool masked)
{
    struct vm *vm = opaque;
    struct kvm_irq_routing_entry table[LAYOUT_IOAPIC_PINS];
    unsigned int n = 0;
    int ret;

    if (pin >= LAYOUT_IOAPIC_PINS)
        return -EINVAL;
    pthread_mutex_lock(&vm->routes_lock);
    vm->route_valid[pin] = !masked;
    vm->routes[pin] = (struct kvm_irq_routing_entry){
        .gsi = pin,
        .type = KVM_IRQ_ROUTING_MSI,
        .u.msi = {.address_lo = (uint32_t)address,
                  .address_hi = (uint32_t)(address >> 32),
                  .data = data},
    };
    for (unsigned int i = 0; i < LAYOUT_IOAPIC_PINS; i++) {
        if (vm->route_valid[i])
            table[n++] = vm->routes[i];
    }
    ret = kvm_set_gsi_routing(&vm->kvm, table, n);
    pthread_mutex_unlock(&vm->routes_lock);
    if (ret)
        log_warn("KVM_SET_GSI_ROUTING for IOAPIC pin %u: %s", pin, strerror(-ret));
    return ret;
}

static const struct ioapic_msi_ops vm_ioapic_ops = {
    .signal_msi = vm_signal_msi,
    .update_route = vm_update_route,
};

static void vm_power_shutdown(void *opaque)
{
    log_info("guest entered ACPI S5");
    vm_request(opaque, VM_EVENT_POWEROFF);
}

static void vm_power_reboot(void *opaque)
{
    log_info("guest wrote the ACPI reset register");
    vm_request(opaque, VM_EVENT_RESET);
}

static void vm_i8042_reset(void *opaque)
{
    log_info("guest pulsed the i8042 reset line");
    vm_request(opaque, VM_EVENT_RESET);
}

static const struct acpi_power_ops vm_power_ops = {
    .shutdown = vm_power_shutdown,
    .reboot = vm_power_reboot,
};

static int vm_open_backends(struct vm *vm, char **err)
{
    const struct vm_chardev_config *c = &vm->cfg->serial;
    g_autofree char *spec = NULL;
    g_autofree char *msg = NULL;

    if (c->mode == VM_CHARDEV_OFF)
        return 0;
    spec = c->path ? g_strdup_printf("%s=%s", vm_chardev_mode_name(c->mode), c->path)
                   : g_strdup(vm_chardev_mode_name(c->mode));
    vm->serial_backend = chardev_new(spec, &msg);
    if (!vm->serial_backend) {
        *err = g_strdup_printf("--serial %s: %s", spec, msg ? msg : "cannot open");
        return -EINVAL;
    }
    if (c->mode == VM_CHARDEV_PTY)
        log_notice("serial port (ttyS0) on pty %s", chardev_path(vm->serial_backend));
    return 0;
}

static void vm_destroy_devices(struct vm *vm)
{
    if (vm->power) {
        bus_unregister(vm->mmio, LAYOUT_GED_START);
        bus_unregister(vm->pio, LAYOUT_PORT_ACPI_SLEEP);
        g_clear_pointer(&vm->power, acpi_power_free);
    }
    if (vm->ioapic) {
        bus_unregister(vm->mmio, LAYOUT_IOAPIC_START);
        g_clear_pointer(&vm->ioapic, ioapic_free);
    }
    if (vm->i8042) {
        bus_unregister(vm->pio, LAYOUT_PORT_I8042 + I8042_DATA_PORT_OFFSET);
        bus_unregister(vm->pio, LAYOUT_PORT_I8042 + I8042_COMMAND_PORT_OFFSET);
        g_clear_pointer(&vm->i8042, i8042_free);
    }
    if (vm->rtc) {
        bus_unregister(vm->pio, LAYOUT_PORT_RTC);
        g_clear_pointer(&vm->rtc, rtc_free);
    }
    if (vm->serial) {
        bus_unregister(vm->pio, LAYOUT_PORT_SERIAL0);
        g_clear_pointer(&vm->serial, serial_free);
    }
    pthread_mutex_lock(&vm->routes_lock);
    memset(vm->route_valid, 0, sizeof(vm->route_valid));
    pthread_mutex_unlock(&vm->routes_lock);
}

/* Fresh devices in power-on state, in the fixed order legacy -> IOAPIC ->
 * ACPI. Called before every boot: a reboot resets them by rebuilding. */
static int vm_create_devices(struct vm *vm)
{
    struct irq_line serial_irq = {vm_irq_set_level, vm, LAYOUT_IRQ_SERIAL};
    struct irq_line ged_irq = {vm_irq_set_level, vm, LAYOUT_IRQ_GED};
    const char *what;
    int ret = -ENOMEM;

    what = "the serial port";
    if (vm->serial_backend) {
        vm->serial = serial_new(&serial_irq, vm->serial_backend);
        if (!vm->serial)
            goto fail;
        ret = bus_register(vm->pio, LAYOUT_PORT_SERIAL0, SERIAL_PIO_LEN, serial_bus_ops(),
                           vm->serial);
        if (ret)
            goto fail;
        ret = serial_start_input(vm->serial);
        if (ret && ret != -ENOTSUP)
            goto fail;
    }

    what = "the RTC";
    ret = -ENOMEM;
    vm->rtc = rtc_new(vm->low_ram_end, vm->high_ram_size);
    if (!vm->rtc)
        goto fail;
    ret = bus_register(vm->pio, LAYOUT_PORT_RTC, RTC_PIO_LEN, rtc_bus_ops(), vm->rtc);
    if (ret)
        goto fail;

    what = "the i8042";
    ret = -ENOMEM;
    vm->i8042 = i8042_new(vm_i8042_reset, vm);
    if (!vm->i8042)
        goto fail;
    ret = bus_register(vm->pio, LAYOUT_PORT_I8042 + I8042_DATA_PORT_OFFSET, I8042_PORT_LEN,
                       i8042_data_bus_ops(), vm->i8042);
    if (!ret)
        ret = bus_register(vm->pio, LAYOUT_PORT_I8042 + I8042_COMMAND_PORT_OFFSET, I8042_PORT_LEN,
                           i8042_command_bus_ops(), vm->i8042);
    if (ret)
        goto fail;

    what = "the IOAPIC";
    ret = -ENOMEM;
    vm->ioapic = ioapic_new(&vm_ioapic_ops, vm);
    if (!vm->ioapic)
        goto fail;
    ret = bus_register(vm->mmio, LAYOUT_IOAPIC_START, LAYOUT_IOAPIC_SIZE, ioapic_bus_ops(),
                       vm->ioapic);
    if (!ret)
        ret = ioapic_sync_routes(vm->ioapic);
    if (ret)
        goto fail;

    what = "the ACPI power device";
    ret = -ENOMEM;
    vm->power = acpi_power_new(&vm_power_ops, vm, &ged_irq);
    if (!vm->power)
        goto fail;
    ret = bus_register(vm->pio, LAYOUT_PORT_ACPI_SLEEP, ACPI_POWER_PIO_LEN,
                       acpi_power_pio_bus_ops(), vm->power);
    if (!ret)
        ret = bus_register(vm->mmio, LAYOUT_GED_START, LAYOUT_GED_SIZE, acpi_power_ged_bus_ops(),
                           vm->power);
    if (ret)
        goto fail;
    return 0;

fail:
    log_error("creating %s: %s", what, strerror(-ret));
    vm_destroy_devices(vm);
    return ret;
}

static bool vm_host_is_virtual(void)
{
    unsigned int eax, ebx, ecx, edx;

    return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 31));
}

struct vm *vm_new(const struct vm_config *cfg, char **err)
{
    g_autofree struct vm *vm = g_new0(struct vm, 1);
    char msg[256];
    int ret;

    vm->cfg = cfg;
    vm->kvm.sys_fd = vm->kvm.vm_fd = -1;
    vm->unhandled_rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(10);
    pthread_mutex_init(&vm->lock, NULL);
    pthread_cond_init(&vm->cond, NULL);
    pthread_mutex_init(&vm->routes_lock, NULL);

    ret = kvm_open(&vm->kvm, "/dev/kvm", LAYOUT_IOAPIC_PINS, VM_KVM_TSS_ADDR,
                   VM_KVM_IDENTITY_MAP_ADDR, msg, sizeof(msg));
    if (ret) {
        *err = g_strdup(msg);
        goto fail;
    }
    if (cfg->boot_vcpus > (unsigned int)vm->kvm.max_vcpus) {
        *err = g_strdup_printf("--cpus boot=%u: KVM allows at most %d vCPUs", cfg->boot_vcpus,
                               vm->kvm.max_vcpus);
        goto fail;
    }
    /* When this host is itself a VM, a vCPU that polls before halting burns
     * a virtual CPU the outer hypervisor could run another vCPU on; nested,
     * that made a 2-vCPU Linux boot take half as long again. */
    if (vm_host_is_virtual()) {
        ret = kvm_set_halt_poll_ns(&vm->kvm, 0);
        log_info("nested virtualization: KVM halt polling %s", ret ? "left on" : "turned off");
    }
    ret = kvm_get_supported_cpuid(&vm->kvm, &vm->supported_cpuid);
    if (ret) {
        *err = g_strdup_printf("KVM_GET_SUPPORTED_CPUID: %s", strerror(-ret));
        goto fail;
    }
    if (vm_memory_map(vm, err))
        goto fail;
    vm->pio = bus_new("pio");
    vm->mmio = bus_new("mmio");
    if (!vm->pio || !vm->mmio) {
        *err = g_strdup("out of memory");
        goto fail;
    }
    if (vm_open_backends(vm, err))
        goto fail;
    ret = bus_register(vm->pio, LAYOUT_PORT_BOOT_MARKER, 1, &boot_marker_ops, vm);
    if (ret) {
        *err = g_strdup_printf("registering the boot marker port: %s", strerror(-ret));
        goto fail;
    }

    ret = vcpu_signal_setup();
    if (ret) {
        *err = g_strdup_printf("installing the vCPU signal handler: %s", strerror(-ret));
        goto fail;
    }
    vm->vcpus = g_new0(struct vcpu *, cfg->boot_vcpus);
    for (unsigned int i = 0; i < cfg->boot_vcpus; i++) {
        ret = vcpu_create(vm, &vm->kvm, vm->supported_cpuid, i, cfg->boot_vcpus, &vm->vcpus[i], msg,
                          sizeof(msg));
        if (ret) {
            *err = g_strdup(msg);
            goto fail;
        }
        vm->nr_vcpus++;
    }
    return g_steal_pointer(&vm);

fail:
    vm_free(g_steal_pointer(&vm));
    return NULL;
}

void vm_free(struct vm *vm)
{
    if (!vm)
        return;
    for (unsigned int i = 0; i < vm->nr_vcpus; i++)
        vcpu_free(vm->vcpus[i]);
    g_free(vm->vcpus);
    if (vm->pio && vm->mmio)
        vm_destroy_devices(vm);
    if (vm->serial_backend)
        chardev_free(vm->serial_backend);
    bus_free(vm->pio);
    bus_free(vm->mmio);
    for (unsigned int i = 0; i < vm->mem.nr_regions; i++)
        munmap(vm->mem.regions[i].hva, vm->mem.regions[i].size);
    free(vm->supported_cpuid);
    kvm_close(&vm->kvm);
    pthread_cond_destroy(&vm->cond);
    pthread_mutex_destroy(&vm->lock);
    pthread_mutex_destroy(&vm->routes_lock);
    g_free(vm);
}

/* Fills memory and vCPU state for one boot. */
static int vm_boot(struct vm *vm)
{
    struct x86_boot_config boot = {
        .kernel = vm->cfg->kernel,
        .initramfs = vm->cfg->initramfs,
        .cmdline = vm->cfg->cmdline,
        .rsdp_addr = 0,
        .low_ram_end = vm->low_ram_end,
        .high_ram_size = vm->high_ram_size,
    };
    struct acpi_config acpi = {
        .nr_cpus = vm->nr_vcpus,
        .i8042 = true,
    };
    struct x86_boot_entry entry;
    char msg[512];
    int ret;

    if (vm->boots > 0) {
        vm_memory_clear(vm);
        vm_destroy_devices(vm);
    }
    ret = vm_create_devices(vm);
    if (ret)
        return ret;
    acpi.serial = vm->serial != NULL;
    ret = acpi_tables_build(&acpi, &vm->mem, &boot.rsdp_addr);
    if (ret) {
        log_error("building the ACPI tables: %s", strerror(-ret));
        return ret;
    }
    ret = x86_boot_load(&vm->mem, &boot, &entry, msg, sizeof(msg));
    if (ret) {
        log_error("%s", msg);
        return ret;
    }
    ret = x86_cpu_write_boot_tables(&vm->mem, entry.mode);
    if (!ret)
        ret = x86_cpu_write_reset_vector(&vm->mem, LAYOUT_PORT_ACPI_SLEEP + ACPI_POWER_RESET,
                                         ACPI_POWER_RESET_VALUE);
    if (ret) {
        log_error("no guest RAM for the boot page tables");
        return ret;
    }
    log_info("boot %u: %s entry at 0x%llx", vm->boots + 1,
             entry.mode == X86_ENTRY_PVH32     ? "PVH"
             : entry.mode == X86_ENTRY_LINUX64 ? "bzImage 64-bit"
                                               : "bzImage 32-bit",
             (unsigned long long)entry.rip);
    for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
        ret = vcpu_reset(vm->vcpus[i], i == 0 ? &entry : NULL, msg, sizeof(msg));
        if (ret) {
            log_error("%s", msg);
            return ret;
        }
    }
    vm->boots++;
    return 0;
}

static void vm_stop_vcpus(struct vm *vm)
{
    for (unsigned int i = 0; i < vm->nr_vcpus; i++)
        vcpu_kick(vm->vcpus[i]);
    for (unsigned int i = 0; i < vm->nr_vcpus; i++)
        vcpu_join(vm->vcpus[i]);
}

int vm_run(struct vm *vm)
{
    for (;;) {
        enum vm_event event;

        if (vm_boot(vm))
            return 1;
        pthread_mutex_lock(&vm->lock);
        __atomic_store_n(&vm->event, VM_EVENT_NONE, __ATOMIC_SEQ_CST);
        pthread_mutex_unlock(&vm->lock);
        for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
            int ret = vcpu_start(vm->vcpus[i]);
            if (ret) {
                log_error("starting vCPU %u: %s", i, strerror(-ret));
                vm_stop_vcpus(vm);
                return 1;
            }
        }

        pthread_mutex_lock(&vm->lock);
        while (vm->event == VM_EVENT_NONE)
            pthread_cond_wait(&vm->cond, &vm->lock);
        event = vm->event;
        pthread_mutex_unlock(&vm->lock);
        vm_stop_vcpus(vm);

        switch (event) {
        case VM_EVENT_POWEROFF:
            log_info("guest powered off");
            return 0;
        case VM_EVENT_FATAL:
            return 1;
        case VM_EVENT_RESET:
            log_info("guest reboot");
            break;
        case VM_EVENT_NONE:
            break;
        }
    }
}
