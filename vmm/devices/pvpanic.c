/* The pvpanic device: stateless apart from its callback. A read answers the
 * events the host understands, so the guest driver knows what to send. */
#include "config.h"

#include "devices/pvpanic.h"

#include <glib.h>

struct pvpanic {
    const struct pvpanic_ops *ops;
    void *opaque;
};

struct pvpanic *pvpanic_new(const struct pvpanic_ops *ops, void *opaque)
{
    struct pvpanic *dev = g_new0(struct pvpanic, 1);

    dev->ops = ops;
    dev->opaque = opaque;
    return dev;
}

void pvpanic_free(struct pvpanic *dev)
{
    g_free(dev);
}

static void pvpanic_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
    (void)opaque;
    for (uint32_t i = 0; i < len; i++)
        data[i] = offset + i == 0 ? PVPANIC_PANICKED | PVPANIC_CRASH_LOADED : 0;
}

static void pvpanic_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
    struct pvpanic *dev = opaque;
    uint8_t events;

    if (offset != 0 || len < 1)
        return;
    events = data[0] & (PVPANIC_PANICKED | PVPANIC_CRASH_LOADED);
    if (events && dev->ops && dev->ops->event)
        dev->ops->event(dev->opaque, events);
}

static const struct bus_ops pvpanic_ops = {.read = pvpanic_read, .write = pvpanic_write};

const struct bus_ops *pvpanic_bus_ops(void)
{
    return &pvpanic_ops;
}

void pvpanic_aml(struct aml *dsdt, uint16_t port)
{
    size_t dev = aml_device_begin(dsdt, "PEVT"), crs;

    aml_name_str(dsdt, "_HID", "QEMU0001");
    aml_name(dsdt, "_CRS");
    crs = aml_resource_template_begin(dsdt);
    aml_io(dsdt, port, port, 1, PVPANIC_PIO_LEN);
    aml_resource_template_end(dsdt, crs);
    /* Present, enabled, functioning; not shown in a UI (as QEMU has it). */
    aml_name_integer(dsdt, "_STA", 0x0b);
    aml_end(dsdt, dev);
}
