/* ACPI power device: SLP_TYP/SLP_EN in the sleep control register, the reset
 * register, and a GED event register that reads and clears, as Cloud
 * Hypervisor's GED does. */
#include "devices/acpi_power.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SLP_TYP_SHIFT 2
#define SLP_TYP_MASK  0x07
#define SLP_EN        0x20

#define GED_EVENT_REG           0 /* 32-bit, read-to-clear */
#define GED_EVENT_LEN           4
#define GED_NOTIFY_POWER_BUTTON 0x80

struct acpi_power {
    pthread_mutex_t lock;
    const struct acpi_power_ops *ops;
    void *opaque;
    struct irq_line irq;
    bool has_irq;
    uint32_t events;
};

static void acpi_power_pio_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
    /* Sleep status: never woken (WAK_STS clear); the rest reads as zero. */
    memset(data, 0, len);
}

static void acpi_power_pio_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
    struct acpi_power *dev = opaque;
    uint8_t val = data[0];

    if (len != 1)
        return;
    switch (offset) {
    case ACPI_POWER_SLEEP_CONTROL:
        /* Only S5 is offered (\_S5_); S1-S4 requests are ignored. */
        if ((val & SLP_EN) && ((val >> SLP_TYP_SHIFT) & SLP_TYP_MASK) == ACPI_POWER_SLP_TYP_S5 &&
            dev->ops->shutdown)
            dev->ops->shutdown(dev->opaque);
        break;
    case ACPI_POWER_RESET:
        if (val == ACPI_POWER_RESET_VALUE && dev->ops->reboot)
            dev->ops->reboot(dev->opaque);
        break;
    default:
        break; /* sleep status: write-1-to-clear of bits we never set */
    }
}

static void acpi_power_ged_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
    struct acpi_power *dev = opaque;
    uint32_t returned;

    memset(data, 0, len);
    if (len > GED_EVENT_LEN || offset >= GED_EVENT_LEN || offset + len > GED_EVENT_LEN)
        return;
    pthread_mutex_lock(&dev->lock);
    for (uint32_t i = 0; i < len; i++)
        data[i] = dev->events >> (8 * (offset + i));
    /* Only the bytes read are consumed, so a narrow read loses no events. */
    returned = (len == 4 ? 0xffffffffu : ((1u << (8 * len)) - 1)) << (8 * offset);
    dev->events &= ~returned;
    pthread_mutex_unlock(&dev->lock);
}

static void acpi_power_ged_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
    /* The event register is read-only. */
}

static const struct bus_ops acpi_power_pio_ops = {
    .read = acpi_power_pio_read,
    .write = acpi_power_pio_write,
};

static const struct bus_ops acpi_power_ged_ops = {
    .read = acpi_power_ged_read,
    .write = acpi_power_ged_write,
};

const struct bus_ops *acpi_power_pio_bus_ops(void)
{
    return &acpi_power_pio_ops;
}

const struct bus_ops *acpi_power_ged_bus_ops(void)
{
    return &acpi_power_ged_ops;
}

struct acpi_power *acpi_power_new(const struct acpi_power_ops *ops, void *opaque,
                                  const struct irq_line *ged_irq)
{
    struct acpi_power *dev;

    if (!ops)
        return NULL;
    dev = calloc(1, sizeof(*dev));
    if (!dev)
        return NULL;
    pthread_mutex_init(&dev->lock, NULL);
    dev->ops = ops;
    dev->opaque = opaque;
    if (ged_irq) {
        dev->irq = *ged_irq;
        dev->has_irq = true;
    }
    return dev;
}

void acpi_power_free(struct acpi_power *dev)
{
    if (!dev)
        return;
    pthread_mutex_destroy(&dev->lock);
    free(dev);
}

int acpi_power_ged_notify(struct acpi_power *dev, uint32_t events)
{
    if (events == 0)
        return -EINVAL;
    if (!dev->has_irq)
        return -ENOTCONN;
    pthread_mutex_lock(&dev->lock);
    dev->events |= events;
    /* The GED interrupt is edge-triggered (its _CRS says so). */
    irq_line_set(&dev->irq, true);
    irq_line_set(&dev->irq, false);
    pthread_mutex_unlock(&dev->lock);
    return 0;
}

int acpi_power_button_press(struct acpi_power *dev)
{
    return acpi_power_ged_notify(dev, ACPI_GED_EVENT_POWER_BUTTON);
}

void acpi_power_aml(struct aml *dsdt, uint64_t ged_base, uint32_t ged_irq)
{
    size_t pkg, dev, crs, field, method, cond;

    /* Name (\_S5_, Package () { 5, 0, 0, 0 }): SLP_TYP for S5. */
    aml_name(dsdt, "\\_S5_");
    pkg = aml_package_begin(dsdt, 4);
    aml_integer(dsdt, ACPI_POWER_SLP_TYP_S5);
    aml_integer(dsdt, 0);
    aml_integer(dsdt, 0);
    aml_integer(dsdt, 0);
    aml_end(dsdt, pkg);

    dev = aml_device_begin(dsdt, "\\_SB_.PWRB");
    aml_name_eisaid(dsdt, "_HID", "PNP0C0C");
    aml_name_integer(dsdt, "_UID", 0);
    aml_end(dsdt, dev);

    /* Linux's GED driver wants nothing but interrupts in _CRS; the
     * register lives in an OperationRegion instead. */
    dev = aml_device_begin(dsdt, "\\_SB_.GED_");
    aml_name_str(dsdt, "_HID", "ACPI0013");
    aml_name_integer(dsdt, "_UID", 0);
    aml_name(dsdt, "_CRS");
    crs = aml_resource_template_begin(dsdt);
    aml_interrupt(dsdt, ged_irq, true, false, false);
    aml_resource_template_end(dsdt, crs);
    aml_operation_region(dsdt, "GDST", AML_REGION_SYSTEM_MEMORY, ged_base + GED_EVENT_REG,
                         GED_EVENT_LEN);
    field = aml_field_begin(dsdt, "GDST", AML_FIELD_DWORD_ACC | AML_FIELD_WRITE_AS_ZEROS);
    aml_field_entry(dsdt, "GDAT", 32);
    aml_end(dsdt, field);
    /* Method (_EVT, 1, Serialized) {
     *     Store (GDAT, Local0)
     *     If (LEqual (And (Local0, 8), 8)) { Notify (\_SB_.PWRB, 0x80) }
     * } */
    method = aml_method_begin(dsdt, "_EVT", 1, true);
    aml_op(dsdt, AML_OP_STORE);
    aml_name_string(dsdt, "GDAT");
    aml_local(dsdt, 0);
    cond = aml_if_begin(dsdt);
    aml_op(dsdt, AML_OP_LEQUAL);
    aml_op(dsdt, AML_OP_AND);
    aml_local(dsdt, 0);
    aml_integer(dsdt, ACPI_GED_EVENT_POWER_BUTTON);
    aml_op(dsdt, AML_OP_ZERO); /* no target */
    aml_integer(dsdt, ACPI_GED_EVENT_POWER_BUTTON);
    aml_notify(dsdt, "\\_SB_.PWRB", GED_NOTIFY_POWER_BUTTON);
    aml_end(dsdt, cond);
    aml_end(dsdt, method);
    aml_end(dsdt, dev);
}
