/* Tests for vmm/devices/acpi_power.c: S5 and reset writes, the GED event
 * register and the power button interrupt. */
#include "devices/acpi_power.h"

#include <errno.h>
#include <glib.h>

struct calls {
    int shutdowns;
    int reboots;
    int rises;
    int falls;
    bool level;
};

static void on_shutdown(void *opaque)
{
    ((struct calls *)opaque)->shutdowns++;
}

static void on_reboot(void *opaque)
{
    ((struct calls *)opaque)->reboots++;
}

static void on_irq(void *opaque, unsigned int pin, bool level)
{
    struct calls *c = opaque;

    g_assert_cmpuint(pin, ==, 5);
    if (level && !c->level)
        c->rises++;
    if (!level && c->level)
        c->falls++;
    c->level = level;
}

static const struct acpi_power_ops ops = {.shutdown = on_shutdown, .reboot = on_reboot};

static void pio_write(struct acpi_power *dev, uint64_t offset, uint8_t v)
{
    acpi_power_pio_bus_ops()->write(dev, offset, &v, 1);
}

static uint32_t ged_read(struct acpi_power *dev, uint64_t offset, uint32_t len)
{
    uint8_t b[4] = {0};
    uint32_t v = 0;

    acpi_power_ged_bus_ops()->read(dev, offset, b, len);
    for (uint32_t i = 0; i < len; i++)
        v |= (uint32_t)b[i] << (8 * i);
    return v;
}

static void test_sleep_control(void)
{
    struct calls c = {0};
    struct acpi_power *dev = acpi_power_new(&ops, &c, NULL);

    /* What Linux writes: SLP_TYP (from \_S5_) << 2 | SLP_EN. */
    pio_write(dev, ACPI_POWER_SLEEP_CONTROL, ACPI_POWER_SLP_TYP_S5 << 2 | 0x20);
    g_assert_cmpint(c.shutdowns, ==, 1);
    /* Not S5, or no SLP_EN, or the wrong register: nothing. */
    pio_write(dev, ACPI_POWER_SLEEP_CONTROL, 3 << 2 | 0x20);
    pio_write(dev, ACPI_POWER_SLEEP_CONTROL, ACPI_POWER_SLP_TYP_S5 << 2);
    pio_write(dev, ACPI_POWER_SLEEP_CONTROL, 0);
    pio_write(dev, ACPI_POWER_SLEEP_CONTROL, ACPI_POWER_RESET_VALUE);
    pio_write(dev, ACPI_POWER_SLEEP_STATUS, ACPI_POWER_SLP_TYP_S5 << 2 | 0x20);
    pio_write(dev, 3, ACPI_POWER_SLP_TYP_S5 << 2 | 0x20);
    g_assert_cmpint(c.shutdowns, ==, 1);
    g_assert_cmpint(c.reboots, ==, 0);
    /* A 16-bit write is not how the FADT describes the register. */
    {
        uint8_t w[2] = {ACPI_POWER_SLP_TYP_S5 << 2 | 0x20, 0};
        acpi_power_pio_bus_ops()->write(dev, ACPI_POWER_SLEEP_CONTROL, w, 2);
    }
    g_assert_cmpint(c.shutdowns, ==, 1);
    acpi_power_free(dev);
}

static void test_reset_register(void)
{
    struct calls c = {0};
    struct acpi_power *dev = acpi_power_new(&ops, &c, NULL);
    uint8_t v = 0xaa;

    pio_write(dev, ACPI_POWER_RESET, ACPI_POWER_RESET_VALUE);
    g_assert_cmpint(c.reboots, ==, 1);
    pio_write(dev, ACPI_POWER_RESET, ACPI_POWER_RESET_VALUE + 1);
    pio_write(dev, ACPI_POWER_RESET, 0);
    g_assert_cmpint(c.reboots, ==, 1);
    g_assert_cmpint(c.shutdowns, ==, 0);
    acpi_power_pio_bus_ops()->read(dev, ACPI_POWER_SLEEP_STATUS, &v, 1);
    g_assert_cmphex(v, ==, 0);
    acpi_power_free(dev);
}

static void test_power_button(void)
{
    struct calls c = {0};
    struct irq_line irq = {.set_level = on_irq, .opaque = &c, .pin = 5};
    struct acpi_power *dev = acpi_power_new(&ops, &c, &irq);

    g_assert_cmphex(ged_read(dev, 0, 4), ==, 0);
    g_assert_cmpint(acpi_power_button_press(dev), ==, 0);
    g_assert_cmpint(c.rises, ==, 1);
    g_assert_cmpint(c.falls, ==, 1); /* a pulse: the line is low again */
    g_assert_cmphex(ged_read(dev, 0, 4), ==, ACPI_GED_EVENT_POWER_BUTTON);
    g_assert_cmphex(ged_read(dev, 0, 4), ==, 0); /* read clears */
    /* Two events before the guest looks: both are there. */
    g_assert_cmpint(acpi_power_ged_notify(dev, ACPI_GED_EVENT_PCI), ==, 0);
    g_assert_cmpint(acpi_power_button_press(dev), ==, 0);
    g_assert_cmpint(c.rises, ==, 3);
    /* A byte read at offset 1 consumes nothing it did not return. */
    g_assert_cmphex(ged_read(dev, 1, 1), ==, 0);
    g_assert_cmphex(ged_read(dev, 0, 1), ==, ACPI_GED_EVENT_POWER_BUTTON | ACPI_GED_EVENT_PCI);
    g_assert_cmphex(ged_read(dev, 0, 4), ==, 0);
    g_assert_cmpint(c.shutdowns + c.reboots, ==, 0);
    acpi_power_free(dev);
}

static void test_bad_input(void)
{
    struct calls c = {0};
    struct irq_line irq = {.set_level = on_irq, .opaque = &c, .pin = 5};
    struct acpi_power *dev = acpi_power_new(&ops, &c, NULL);
    uint8_t b[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

    g_assert_cmpint(acpi_power_button_press(dev), ==, -ENOTCONN); /* no interrupt wired */
    acpi_power_free(dev);

    dev = acpi_power_new(&ops, &c, &irq);
    g_assert_cmpint(acpi_power_ged_notify(dev, 0), ==, -EINVAL);
    g_assert_cmpint(acpi_power_button_press(dev), ==, 0);
    /* Reads past the register, straddling it, or 8 bytes wide: zeros, nothing consumed. */
    acpi_power_ged_bus_ops()->read(dev, 0, b, 8);
    g_assert_cmphex(b[0], ==, 0);
    g_assert_cmphex(ged_read(dev, 3, 2), ==, 0);
    g_assert_cmphex(ged_read(dev, 8, 4), ==, 0);
    acpi_power_ged_bus_ops()->write(dev, 0, b, 4);
    g_assert_cmphex(ged_read(dev, 0, 4), ==, ACPI_GED_EVENT_POWER_BUTTON);
    acpi_power_free(dev);
    g_assert_null(acpi_power_new(NULL, NULL, NULL));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/acpi-power/sleep-control", test_sleep_control);
    g_test_add_func("/acpi-power/reset-register", test_reset_register);
    g_test_add_func("/acpi-power/power-button", test_power_button);
    g_test_add_func("/acpi-power/bad-input", test_bad_input);
    return g_test_run();
}
