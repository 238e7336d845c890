/* The VM: owns the KVM fds, guest memory, the PIO and MMIO buses, the devices
 * and the vCPUs, and runs the lifecycle: boot, run, reboot, power off. */
#ifndef VIREO_VMM_VM_H
#define VIREO_VMM_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "vm_config.h"

struct vm;
struct bus;

enum vm_event {
    VM_EVENT_NONE,
    VM_EVENT_RESET,    /* reboot: reset devices, reload the kernel, run again */
    VM_EVENT_POWEROFF, /* the guest is done: exit 0 */
    VM_EVENT_FATAL,    /* the VM cannot go on: exit 1 */
};

/* Builds the whole VM from `cfg` (which must outlive it): KVM, memory,
 * devices, vCPUs. Returns NULL with a one-line reason in *err (g_free it). */
struct vm *vm_new(const struct vm_config *cfg, char **err);
void vm_free(struct vm *vm);

/* Boots the guest and runs it through reboots until it powers off (returns
 * 0) or fails (returns 1, the reason already logged). */
int vm_run(struct vm *vm);

/* For vCPU threads and devices. */
struct bus *vm_pio_bus(struct vm *vm);
struct bus *vm_mmio_bus(struct vm *vm);
void vm_ioapic_eoi(struct vm *vm, uint8_t vector);
/* Asks the lifecycle loop to act; a fatal error wins over a power off, which
 * wins over a reset. Safe from any thread. */
void vm_request(struct vm *vm, enum vm_event event);
/* True once an event is waiting: vCPUs stop instead of running on. */
bool vm_event_pending(struct vm *vm);
void vm_fatal(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Control by the VMM's event loop (vmm.c), all from that one thread. */
struct event_monitor;
/* Readable when vm_request() was called: then call vm_take_event(). */
int vm_event_fd(struct vm *vm);
/* Where the VM and its devices report events (NULL: nowhere). */
void vm_set_event_monitor(struct vm *vm, struct event_monitor *events);
void vm_emit_event(struct vm *vm, const char *source, const char *event, const char *const *props);
/* Boots (a reboot when it ran before) and starts the vCPUs. 0 or -errno,
 * the reason logged; a kernel or initramfs that cannot be loaded is also
 * in vm_boot_error() until the next start. */
int vm_start(struct vm *vm) __attribute__((warn_unused_result));
const char *vm_boot_error(struct vm *vm);
/* Stops every vCPU where it is / runs them on from there. */
void vm_pause(struct vm *vm);
int vm_resume(struct vm *vm) __attribute__((warn_unused_result));
/* Clears the event fd; with an event pending, stops the vCPUs and returns
 * (and clears) the event, else VM_EVENT_NONE. */
enum vm_event vm_take_event(struct vm *vm);
/* Presses the ACPI power button; -ENODEV before the first boot. */
int vm_power_button(struct vm *vm);
/* The ptys allocated for --serial pty / --console pty, or NULL. */
const char *vm_serial_pty(struct vm *vm);
const char *vm_console_pty(struct vm *vm);
unsigned int vm_boots(struct vm *vm);
/* The network devices, for their counters (valid until vm_free). */
struct virtio_net;
unsigned int vm_nr_nets(struct vm *vm);
struct virtio_net *vm_net(struct vm *vm, unsigned int i);

/* Logs, rate-limited, an access no device claimed. */
void vm_unhandled_access(struct vm *vm, bool pio, uint64_t addr, uint32_t len, bool write,
                         const uint8_t *data);

#endif
