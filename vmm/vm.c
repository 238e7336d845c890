/* struct vm and its lifecycle. Construction follows a fixed order (host
 * files, KVM, memory, buses, vCPUs; at the first boot the devices: legacy ->
 * IOAPIC -> ACPI -> PCI host -> virtio); a boot zeroes RAM, loads the kernel
 * and resets the vCPUs; a reboot stops the vCPUs, resets the devices and
 * boots again in the same process.
 *
 * virtio devices sit on PCI bus 0 in Cloud Hypervisor's order: the console
 * (00:01.0 when present), the disks in command-line order, the network
 * devices in command-line order, then the rng.
 * Legacy devices are rebuilt for each boot; the PCI bus and its devices are
 * built once and reset (their disks and chardevs stay open). */
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
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "acpi/tables.h"
#include "api/events.h"
#include "arch/x86/boot.h"
#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"
#include "boot_marker.h"
#include "bus.h"
#include "chardev/chardev.h"
#include "devices/acpi_power.h"
#include "devices/i8042.h"
#include "devices/ioapic.h"
#include "devices/pvpanic.h"
#include "devices/rtc.h"
#include "devices/serial.h"
#include "guest_memory.h"
#include "kvm/kvm.h"
#include "log.h"
#include "pci/pci_bus.h"
#include "vcpu.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/net.h"
#include "net/passt.h"
#include "net/stream.h"
#include "net/tap.h"
#include "virtio/pci.h"
#include "virtio/rng.h"

/* KVM's private pages (real-mode TSS and EPT identity map) sit in the 32-bit
 * hole, clear of RAM and of every device. */
#define VM_KVM_IDENTITY_MAP_ADDR 0xfeffc000ull
#define VM_KVM_TSS_ADDR          0xfeffd000ull

/* GSIs KVM routes: the IOAPIC pins, then one per MSI-X vector. */
#define VM_MAX_GSI 1024

struct vm_gsi {
    struct kvm_irq_routing_entry route;
    bool routed;    /* part of the table KVM has */
    bool allocated; /* an MSI-X vector owns it (GSIs >= LAYOUT_IOAPIC_PINS) */
    int irqfd;
};

struct vm {
    const struct vm_config *cfg;
    struct kvm kvm;
    struct kvm_cpuid2 *supported_cpuid;
    struct guest_memory mem;
    uint64_t low_ram_end;
    uint64_t high_ram_size;
    struct bus *pio;
    struct bus *mmio;

    /* Backends outlive reboots; legacy devices are rebuilt for each boot. */
    struct chardev *serial_backend;
    struct chardev *console_backend;
    int rng_fd;                      /* until the rng device takes it */
    struct virtio_device *disk_devs; /* opened disks; ops NULL once on the bus */
    unsigned int nr_disk_devs;
    struct virtio_device *net_devs; /* opened TAPs; ops NULL once on the bus */
    struct virtio_net **nets;       /* for the counters; the transport owns them */
    unsigned int nr_nets;
    struct serial *serial;
    struct rtc *rtc;
    struct i8042 *i8042;
    struct ioapic *ioapic;
    struct acpi_power *power;

    /* Built at the first boot, reset at the others. */
    struct pci_bus *pci;
    struct virtio_pci **virtio;
    unsigned int nr_virtio;

    /* The whole GSI routing table (KVM takes it only whole): the IOAPIC
     * pins' messages and the MSI-X vectors', VM_MAX_GSI entries. */
    pthread_mutex_t routes_lock;
    struct vm_gsi *gsis;
    struct kvm_irq_routing_entry *route_table; /* scratch for KVM_SET_GSI_ROUTING */

    struct vcpu **vcpus;
    unsigned int nr_vcpus;
    unsigned int boots;

    struct log_ratelimit unhandled_rl;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    enum vm_event event; /* under lock */

    /* For the VMM's control loop (vmm.c). */
    int event_fd; /* signalled when an event is requested */
    struct event_monitor *events;
    struct pvpanic *pvpanic;
    char *boot_error; /* why the last boot failed */
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
    if (event > vm->event) {
        __atomic_store_n(&vm->event, event, __ATOMIC_SEQ_CST);
        if (vm->event_fd >= 0 && eventfd_write(vm->event_fd, 1) < 0)
            log_warn("waking the control loop: %s", strerror(errno));
    }
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

/* Hands KVM the routed entries; routes_lock held. */
static int vm_push_routes(struct vm *vm)
{
    unsigned int n = 0;

    for (unsigned int gsi = 0; gsi < VM_MAX_GSI; gsi++) {
        if (vm->gsis[gsi].routed)
            vm->route_table[n++] = vm->gsis[gsi].route;
    }
    return kvm_set_gsi_routing(&vm->kvm, vm->route_table, n);
}

static struct kvm_irq_routing_entry vm_msi_route(unsigned int gsi, uint64_t address, uint32_t data)
{
    return (struct kvm_irq_routing_entry){
        .gsi = gsi,
        .type = KVM_IRQ_ROUTING_MSI,
        .u.msi = {.address_lo = (uint32_t)address,
                  .address_hi = (uint32_t)(address >> 32),
                  .data = data},
    };
}

/* KVM must know the MSI behind every unmasked pin, or it will not exit on
 * the EOI of a level-triggered vector (KVM_EXIT_IOAPIC_EOI). */
static int vm_update_route(void *opaque, unsigned int pin, uint64_t address, uint32_t data,
                           bool masked)
{
    struct vm *vm = opaque;
    int ret;

    if (pin >= LAYOUT_IOAPIC_PINS)
        return -EINVAL;
    pthread_mutex_lock(&vm->routes_lock);
    vm->gsis[pin].routed = !masked;
    vm->gsis[pin].route = vm_msi_route(pin, address, data);
    ret = vm_push_routes(vm);
    pthread_mutex_unlock(&vm->routes_lock);
    if (ret)
        log_warn("KVM_SET_GSI_ROUTING for IOAPIC pin %u: %s", pin, strerror(-ret));
    return ret;
}

/* MSI-X vectors of PCI devices: a GSI each, bound to an irqfd. */
static int vm_msi_alloc(void *opaque, unsigned int *handle, int *irqfd)
{
    struct vm *vm = opaque;
    unsigned int gsi;
    int fd, ret;

    pthread_mutex_lock(&vm->routes_lock);
    for (gsi = LAYOUT_IOAPIC_PINS; gsi < VM_MAX_GSI && vm->gsis[gsi].allocated; gsi++)
        ;
    if (gsi == VM_MAX_GSI) {
        ret = -ENOSPC;
        goto out;
    }
    fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) {
        ret = -errno;
        goto out;
    }
    ret = kvm_irqfd(&vm->kvm, fd, gsi, -1, false);
    if (ret < 0) {
        close(fd);
        goto out;
    }
    vm->gsis[gsi] = (struct vm_gsi){.allocated = true, .irqfd = fd};
    *handle = gsi;
    *irqfd = fd;
    ret = 0;
out:
    pthread_mutex_unlock(&vm->routes_lock);
    return ret;
}

static void vm_msi_release(void *opaque, unsigned int gsi)
{
    struct vm *vm = opaque;
    struct vm_gsi *g;

    if (gsi < LAYOUT_IOAPIC_PINS || gsi >= VM_MAX_GSI)
        return;
    pthread_mutex_lock(&vm->routes_lock);
    g = &vm->gsis[gsi];
    if (g->allocated) {
        if (kvm_irqfd(&vm->kvm, g->irqfd, gsi, -1, true) < 0) {
            /* KVM is gone or never had it: nothing left to undo. */
        }
        close(g->irqfd);
        if (g->routed) {
            g->routed = false;
            (void)vm_push_routes(vm);
        }
        *g = (struct vm_gsi){.irqfd = -1};
    }
    pthread_mutex_unlock(&vm->routes_lock);
}

/* A masked vector is never triggered, so its route may stay stale. */
static int vm_msi_update(void *opaque, unsigned int gsi, uint64_t address, uint32_t data,
                         bool masked)
{
    struct vm *vm = opaque;
    struct kvm_irq_routing_entry route = vm_msi_route(gsi, address, data);
    struct vm_gsi *g;
    int ret = 0;

    if (masked)
        return 0;
    if (gsi < LAYOUT_IOAPIC_PINS || gsi >= VM_MAX_GSI)
        return -EINVAL;
    pthread_mutex_lock(&vm->routes_lock);
    g = &vm->gsis[gsi];
    if (!g->allocated) {
        ret = -EINVAL;
    } else if (!g->routed || memcmp(&g->route, &route, sizeof(route))) {
        g->route = route;
        g->routed = true;
        ret = vm_push_routes(vm);
        if (ret)
            g->routed = false;
    }
    pthread_mutex_unlock(&vm->routes_lock);
    return ret;
}

static const struct msi_ops vm_msi_ops = {
    .alloc = vm_msi_alloc,
    .release = vm_msi_release,
    .update = vm_msi_update,
};

/* Notify writes to a virtio BAR become eventfd signals inside KVM. */
static int vm_ioeventfd_add(void *opaque, uint64_t addr, uint32_t len, int fd)
{
    struct vm *vm = opaque;

    return kvm_ioeventfd(&vm->kvm, fd, addr, len, false, false, 0, false);
}

static int vm_ioeventfd_del(void *opaque, uint64_t addr, uint32_t len, int fd)
{
    struct vm *vm = opaque;

    return kvm_ioeventfd(&vm->kvm, fd, addr, len, false, false, 0, true);
}

static const struct ioeventfd_ops vm_ioeventfd_ops = {
    .add = vm_ioeventfd_add,
    .del = vm_ioeventfd_del,
};

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

static void vm_pvpanic_event(void *opaque, uint8_t events)
{
    struct vm *vm = opaque;

    if (events & PVPANIC_PANICKED) {
        log_warn("the guest reports a kernel panic (pvpanic)");
        event_monitor_emit(vm->events, "guest", "panic", NULL);
    }
}

static const struct pvpanic_ops vm_pvpanic_ops = {
    .event = vm_pvpanic_event,
};

static const struct acpi_power_ops vm_power_ops = {
    .shutdown = vm_power_shutdown,
    .reboot = vm_power_reboot,
};

static struct chardev *vm_open_chardev(const char *opt, const struct vm_chardev_config *c,
                                       char **err)
{
    g_autofree char *spec = NULL;
    g_autofree char *msg = NULL;
    struct chardev *chr;

    spec = c->path ? g_strdup_printf("%s=%s", vm_chardev_mode_name(c->mode), c->path)
                   : g_strdup(vm_chardev_mode_name(c->mode));
    chr = chardev_new(spec, &msg);
    if (!chr)
        *err = g_strdup_printf("%s %s: %s", opt, spec, msg ? msg : "cannot open");
    return chr;
}

static enum disk_image_type vm_disk_image_type(enum vm_image_type t)
{
    switch (t) {
    case VM_IMAGE_RAW:
        return DISK_IMAGE_RAW;
    case VM_IMAGE_QCOW2:
        return DISK_IMAGE_QCOW2;
    case VM_IMAGE_AUTO:
        break;
    }
    return DISK_IMAGE_AUTO;
}

/* passt, started here or listening on a socket, as a network backend. */
static int vm_open_passt(const struct vm_net_config *c, unsigned int mtu, struct net_backend *be,
                         char **err)
{
    pid_t pid = 0;
    int fd;

    if (!strcmp(c->passt, "on"))
        fd = passt_start(mtu, &pid, err);
    else
        fd = stream_connect_unix(c->passt, err);
    if (fd < 0)
        return fd;
    return stream_backend_open(fd, pid, "passt", be, err);
}

/* A TAP (created, opened by name or inherited) or passt, and the virtio-net
 * device on it. */
static int vm_open_net(struct vm *vm, unsigned int i, char **err)
{
    const struct vm_net_config *c = &vm->cfg->nets[i];
    g_autofree char *id = c->id ? g_strdup(c->id) : g_strdup_printf("_net%u", i);
    g_autofree char *msg = NULL;
    struct tap_opts topts = {
        .name = c->tap,
        .fds = c->nr_fds ? c->fds : NULL,
        .nr_fds = c->nr_fds,
        .pairs = c->num_queues / 2,
        .ip = c->ip,
        .mask = c->mask,
        .host_mac = c->has_host_mac ? c->host_mac : NULL,
        .mtu = c->mtu,
    };
    struct virtio_net_opts nopts = {
        .mtu = c->mtu,
        .queue_size = c->queue_size,
        .id = id,
    };
    int ret;

    /* passt's own default MTU, announced to the guest by DHCP and virtio. */
    if (c->passt && !nopts.mtu)
        nopts.mtu = VM_NET_PASST_DEFAULT_MTU;
    if (c->passt)
        ret = vm_open_passt(c, nopts.mtu, &nopts.backend, &msg);
    else
        ret = tap_open(&topts, &nopts.backend, &msg);
    if (ret) {
        *err = g_strdup_printf("--net %s: %s", id, msg ? msg : strerror(-ret));
        return ret;
    }
    if (c->has_mac) {
        memcpy(nopts.mac, c->mac, 6);
    } else {
        /* Random, locally administered, unicast. */
        for (int b = 0; b < 6; b++)
            nopts.mac[b] = (uint8_t)g_random_int_range(0, 256);
        nopts.mac[0] = (nopts.mac[0] & 0xfc) | 0x02;
    }
    g_clear_pointer(&msg, g_free);
    ret = virtio_net_new(&nopts, &vm->nets[i], &msg);
    if (ret) {
        *err = g_strdup_printf("--net %s: %s", id, msg ? msg : strerror(-ret));
        return ret;
    }
    virtio_net_device(vm->nets[i], &vm->net_devs[i]);
    vm->nr_nets++;
    log_info("virtio-net %s: %s %s, mac %02x:%02x:%02x:%02x:%02x:%02x", id,
             c->passt ? "backend" : "tap", nopts.backend.name, nopts.mac[0], nopts.mac[1],
             nopts.mac[2], nopts.mac[3], nopts.mac[4], nopts.mac[5]);
    return 0;
}

/* Every host file the VM uses is opened here, before KVM, so a wrong path
 * is reported as such on any host. */
static int vm_open_backends(struct vm *vm, char **err)
{
    const struct vm_config *cfg = vm->cfg;

    if (cfg->serial.mode != VM_CHARDEV_OFF) {
        vm->serial_backend = vm_open_chardev("--serial", &cfg->serial, err);
        if (!vm->serial_backend)
            return -EINVAL;
        if (cfg->serial.mode == VM_CHARDEV_PTY)
            log_notice("serial port (ttyS0) on pty %s", chardev_path(vm->serial_backend));
    }
    if (cfg->console.mode != VM_CHARDEV_OFF) {
        vm->console_backend = vm_open_chardev("--console", &cfg->console, err);
        if (!vm->console_backend)
            return -EINVAL;
        if (cfg->console.mode == VM_CHARDEV_PTY)
            log_notice("virtio console (hvc0) on pty %s", chardev_path(vm->console_backend));
    }

    vm->disk_devs = g_new0(struct virtio_device, cfg->nr_disks);
    for (unsigned int i = 0; i < cfg->nr_disks; i++) {
        const struct vm_disk_config *d = &cfg->disks[i];
        g_autofree char *id = d->id ? g_strdup(d->id) : g_strdup_printf("_disk%u", i);
        g_autofree char *msg = NULL;
        struct virtio_blk_opts opts = {
            .path = d->path,
            .readonly = d->readonly,
            .direct = d->direct,
            .num_queues = d->num_queues,
            .queue_size = (uint16_t)d->queue_size,
            .id = id,
            .serial = d->serial,
            .image_type = vm_disk_image_type(d->image_type),
        };
        int ret = virtio_blk_new(&opts, &vm->disk_devs[i], &msg);

        if (ret) {
            *err = g_strdup_printf("--disk path=%s: %s", d->path, msg ? msg : strerror(-ret));
            return ret;
        }
        vm->nr_disk_devs++;
    }

    vm->net_devs = g_new0(struct virtio_device, cfg->nr_nets);
    vm->nets = g_new0(struct virtio_net *, cfg->nr_nets);
    for (unsigned int i = 0; i < cfg->nr_nets; i++) {
        int ret = vm_open_net(vm, i, err);

        if (ret)
            return ret;
    }

    vm->rng_fd = open(cfg->rng.src, O_RDONLY | O_CLOEXEC);
    if (vm->rng_fd < 0) {
        *err = g_strdup_printf("--rng src=%s: cannot open: %s", cfg->rng.src, strerror(errno));
        return -errno;
    }
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
    for (unsigned int pin = 0; pin < LAYOUT_IOAPIC_PINS; pin++)
        vm->gsis[pin].routed = false;
    pthread_mutex_unlock(&vm->routes_lock);
}

/* A virtio device started or reset by its driver: an event, as Cloud
 * Hypervisor reports it. */
static void vm_virtio_activity(void *opaque, const char *id, bool active)
{
    struct vm *vm = opaque;
    const char *props[] = {"id", id, NULL};

    event_monitor_emit(vm->events, "virtio-device", active ? "activated" : "reset", props);
}

/* Wraps a virtio device in a PCI function on the next device number. On
 * failure the device stays the caller's unless *owned is set. */
static int vm_add_virtio(struct vm *vm, const struct virtio_device *vdev, const char *what,
                         bool *owned)
{
    const struct virtio_pci_env env = {
        .mem = &vm->mem,
        .msi = &vm_msi_ops,
        .msi_opaque = vm,
        .ioeventfd = &vm_ioeventfd_ops,
        .ioeventfd_opaque = vm,
        .activity = vm_virtio_activity,
        .activity_opaque = vm,
    };
    struct virtio_pci *vp;
    unsigned int devfn;
    int ret;

    *owned = false;
    ret = virtio_pci_new(vdev, &env, &vp);
    if (ret) {
        log_error("creating %s (%s): %s", what, vdev->id, strerror(-ret));
        return ret;
    }
    *owned = true;
    vm->virtio[vm->nr_virtio++] = vp;
    ret = virtio_pci_plug(vp, vm->pci, &devfn);
    if (ret) {
        log_error("plugging %s (%s) into PCI bus 0: %s", what, vdev->id,
                  ret == -ENOSPC ? "no free device number or BAR space" : strerror(-ret));
        return ret;
    }
    log_info("%s %s at PCI 0000:00:%02x.0", what, vdev->id, devfn >> 3);
    return 0;
}

/* Guest physical address bits (CPUID 0x80000008 EAX[7:0]); 36 without it. */
static unsigned int vm_phys_bits(const struct vm *vm)
{
    for (unsigned int i = 0; i < vm->supported_cpuid->nent; i++) {
        const struct kvm_cpuid_entry2 *e = &vm->supported_cpuid->entries[i];
        if (e->function == 0x80000008 && (e->eax & 0xff) >= 32)
            return e->eax & 0xff;
    }
    return 36;
}

/* The PCI host bridge and the virtio devices behind it, once per VM. */
static int vm_create_pci(struct vm *vm)
{
    uint64_t ram_end = LAYOUT_RAM_64BIT_START + vm->high_ram_size;
    uint64_t mmio64_base = (ram_end + LAYOUT_PCI_MMIO64_ALIGN - 1) & ~(LAYOUT_PCI_MMIO64_ALIGN - 1);
    uint64_t mmio64_size = LAYOUT_PCI_MMIO64_SIZE;
    uint64_t limit = 1ull << vm_phys_bits(vm);
    struct virtio_device vdev;
    struct virtio_rng *rng;
    bool owned;
    int ret;

    /* The 64-bit window must be addressable by the guest. */
    if (mmio64_base >= limit)
        mmio64_size = 0;
    else if (mmio64_size > limit - mmio64_base)
        mmio64_size = limit - mmio64_base;
    ret = pci_bus_new(&(struct pci_bus_config){vm->pio, vm->mmio, LAYOUT_PCI_MMCONFIG_START,
                                               LAYOUT_PCI_MMCONFIG_SIZE, LAYOUT_PCI_MMIO32_START,
                                               LAYOUT_PCI_MMIO32_SIZE, mmio64_base, mmio64_size},
                      &vm->pci);
    if (ret) {
        log_error("creating the PCI host bridge: %s", strerror(-ret));
        return ret;
    }
    log_info("PCI: 64-bit window 0x%llx+0x%llx", (unsigned long long)mmio64_base,
             (unsigned long long)mmio64_size);
    vm->virtio = g_new0(struct virtio_pci *, vm->nr_disk_devs + vm->nr_nets + 2);

    if (vm->console_backend) {
        struct virtio_console *c;
        struct winsize ws = {0};

        if (vm->cfg->console.mode == VM_CHARDEV_TTY && isatty(STDOUT_FILENO) &&
            ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
            memset(&ws, 0, sizeof(ws));
        c = virtio_console_new(vm->console_backend, ws.ws_col, ws.ws_row);
        if (!c) {
            log_error("creating the virtio console: out of memory");
            return -ENOMEM;
        }
        virtio_console_device(c, "__console", &vdev);
        ret = vm_add_virtio(vm, &vdev, "virtio-console", &owned);
        if (ret && !owned)
            vdev.ops->free(vdev.dev);
        if (ret)
            return ret;
        ret = virtio_console_start_input(c);
        if (ret && ret != -ENOTSUP) {
            log_error("virtio console input: %s", strerror(-ret));
            return ret;
        }
    }

    for (unsigned int i = 0; i < vm->nr_disk_devs; i++) {
        ret = vm_add_virtio(vm, &vm->disk_devs[i], "virtio-blk", &owned);
        if (owned)
            vm->disk_devs[i].ops = NULL;
        if (ret)
            return ret;
    }

    for (unsigned int i = 0; i < vm->nr_nets; i++) {
        ret = vm_add_virtio(vm, &vm->net_devs[i], "virtio-net", &owned);
        if (owned)
            vm->net_devs[i].ops = NULL;
        if (ret)
            return ret;
    }

    rng = virtio_rng_new(vm->rng_fd);
    vm->rng_fd = -1; /* the device has it now, even on failure */
    if (!rng) {
        log_error("creating the virtio rng: out of memory");
        return -ENOMEM;
    }
    virtio_rng_device(rng, "__rng", &vdev);
    ret = vm_add_virtio(vm, &vdev, "virtio-rng", &owned);
    if (ret && !owned)
        vdev.ops->free(vdev.dev);
    return ret;
}

/* Fresh devices in power-on state, in the fixed order legacy -> IOAPIC ->
 * ACPI -> PCI host -> virtio. Called before every boot: a reboot resets
 * legacy devices by rebuilding them; the PCI part is built only once. */
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

    /* Reported by vm_create_pci itself. */
    if (!vm->pci && vm_create_pci(vm)) {
        vm_destroy_devices(vm);
        return -EIO;
    }
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
    vm->rng_fd = -1;
    vm->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (vm->event_fd < 0) {
        *err = g_strdup_printf("eventfd: %s", strerror(errno));
        goto fail;
    }
    vm->gsis = g_new0(struct vm_gsi, VM_MAX_GSI);
    vm->route_table = g_new0(struct kvm_irq_routing_entry, VM_MAX_GSI);
    for (unsigned int gsi = 0; gsi < VM_MAX_GSI; gsi++)
        vm->gsis[gsi].irqfd = -1;
    if (vm_open_backends(vm, err))
        goto fail;

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
    ret = bus_register(vm->pio, LAYOUT_PORT_BOOT_MARKER, 1, &boot_marker_ops, vm);
    if (ret) {
        *err = g_strdup_printf("registering the boot marker port: %s", strerror(-ret));
        goto fail;
    }
    vm->pvpanic = pvpanic_new(&vm_pvpanic_ops, vm);
    ret =
        bus_register(vm->pio, LAYOUT_PORT_PVPANIC, PVPANIC_PIO_LEN, pvpanic_bus_ops(), vm->pvpanic);
    if (ret) {
        *err = g_strdup_printf("registering the pvpanic port: %s", strerror(-ret));
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
    /* Resets each device (joining its workers), then releases its routes
     * and ioeventfds through our ops, so before the bus and KVM go. */
    for (unsigned int i = 0; i < vm->nr_virtio; i++)
        virtio_pci_free(vm->virtio[i]);
    g_free(vm->virtio);
    pci_bus_free(vm->pci);
    for (unsigned int i = 0; i < vm->nr_disk_devs; i++) {
        if (vm->disk_devs[i].ops)
            vm->disk_devs[i].ops->free(vm->disk_devs[i].dev);
    }
    g_free(vm->disk_devs);
    for (unsigned int i = 0; i < vm->nr_nets; i++) {
        if (vm->net_devs[i].ops)
            vm->net_devs[i].ops->free(vm->net_devs[i].dev);
    }
    g_free(vm->net_devs);
    g_free(vm->nets);
    if (vm->rng_fd >= 0)
        close(vm->rng_fd);
    if (vm->pio && vm->mmio)
        vm_destroy_devices(vm);
    if (vm->serial_backend)
        chardev_free(vm->serial_backend);
    if (vm->console_backend)
        chardev_free(vm->console_backend);
    bus_free(vm->pio);
    bus_free(vm->mmio);
    for (unsigned int i = 0; i < vm->mem.nr_regions; i++)
        munmap(vm->mem.regions[i].hva, vm->mem.regions[i].size);
    free(vm->supported_cpuid);
    kvm_close(&vm->kvm);
    pthread_cond_destroy(&vm->cond);
    pthread_mutex_destroy(&vm->lock);
    pthread_mutex_destroy(&vm->routes_lock);
    pvpanic_free(vm->pvpanic);
    if (vm->event_fd >= 0)
        close(vm->event_fd);
    g_free(vm->boot_error);
    g_free(vm->route_table);
    g_free(vm->gsis);
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
        .reserved_start = LAYOUT_PCI_MMCONFIG_START,
        .reserved_size = LAYOUT_PCI_MMCONFIG_SIZE,
    };
    struct acpi_config acpi = {
        .nr_cpus = vm->nr_vcpus,
        .i8042 = true,
        .pvpanic = true,
    };
    struct x86_boot_entry entry;
    char msg[512];
    int ret;

    if (vm->boots > 0) {
        /* First, as it joins the device workers that may still touch RAM. */
        if (vm->pci)
            pci_bus_reset(vm->pci);
        vm_memory_clear(vm);
        vm_destroy_devices(vm);
    }
    ret = vm_create_devices(vm);
    if (ret)
        return ret;
    acpi.serial = vm->serial != NULL;
    acpi.dsdt_append = pci_bus_dsdt_append;
    acpi.tables_append = pci_bus_tables_append;
    acpi.opaque = vm->pci;
    ret = acpi_tables_build(&acpi, &vm->mem, &boot.rsdp_addr);
    if (ret) {
        log_error("building the ACPI tables: %s", strerror(-ret));
        return ret;
    }
    ret = x86_boot_load(&vm->mem, &boot, &entry, msg, sizeof(msg));
    if (ret) {
        log_error("%s", msg);
        g_free(vm->boot_error);
        vm->boot_error = g_strdup(msg);
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

/* ---- control by the VMM's event loop (vmm.c) ---- */

int vm_event_fd(struct vm *vm)
{
    return vm->event_fd;
}

void vm_set_event_monitor(struct vm *vm, struct event_monitor *events)
{
    vm->events = events;
}

void vm_emit_event(struct vm *vm, const char *source, const char *event, const char *const *props)
{
    event_monitor_emit(vm->events, source, event, props);
}

int vm_start(struct vm *vm)
{
    int ret;

    g_clear_pointer(&vm->boot_error, g_free);
    ret = vm_boot(vm);
    if (ret)
        return ret < 0 ? ret : -EIO;
    pthread_mutex_lock(&vm->lock);
    __atomic_store_n(&vm->event, VM_EVENT_NONE, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&vm->lock);
    return vm_resume(vm);
}

const char *vm_boot_error(struct vm *vm)
{
    return vm->boot_error;
}

int vm_resume(struct vm *vm)
{
    for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
        int ret = vcpu_start(vm->vcpus[i]);
        if (ret) {
            log_error("starting vCPU %u: %s", i, strerror(-ret));
            vm_stop_vcpus(vm);
            return ret;
        }
    }
    return 0;
}

void vm_pause(struct vm *vm)
{
    vm_stop_vcpus(vm);
}

enum vm_event vm_take_event(struct vm *vm)
{
    enum vm_event event;
    eventfd_t n;

    if (eventfd_read(vm->event_fd, &n) < 0 && errno != EAGAIN)
        log_warn("reading the VM's event fd: %s", strerror(errno));
    if (!vm_event_pending(vm))
        return VM_EVENT_NONE;
    vm_stop_vcpus(vm);
    pthread_mutex_lock(&vm->lock);
    event = vm->event;
    __atomic_store_n(&vm->event, VM_EVENT_NONE, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&vm->lock);
    return event;
}

int vm_power_button(struct vm *vm)
{
    return vm->power ? acpi_power_button_press(vm->power) : -ENODEV;
}

const char *vm_serial_pty(struct vm *vm)
{
    return vm->serial_backend && chardev_kind(vm->serial_backend) == CHARDEV_PTY
               ? chardev_path(vm->serial_backend)
               : NULL;
}

const char *vm_console_pty(struct vm *vm)
{
    return vm->console_backend && chardev_kind(vm->console_backend) == CHARDEV_PTY
               ? chardev_path(vm->console_backend)
               : NULL;
}

unsigned int vm_nr_nets(struct vm *vm)
{
    return vm->nr_nets;
}

struct virtio_net *vm_net(struct vm *vm, unsigned int i)
{
    return i < vm->nr_nets ? vm->nets[i] : NULL;
}

unsigned int vm_boots(struct vm *vm)
{
    return vm->boots;
}
