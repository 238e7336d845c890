/* Tests for vmm/devices/i8042.c: reset through 0xFE and the output port,
 * harmless handling of everything else. */
#include "devices/i8042.h"

#include <glib.h>

static void count_reset(void *opaque)
{
    (*(int *)opaque)++;
}

static void cmd(struct i8042 *dev, uint8_t v)
{
    i8042_command_bus_ops()->write(dev, 0, &v, 1);
}

static void data_write(struct i8042 *dev, uint8_t v)
{
    i8042_data_bus_ops()->write(dev, 0, &v, 1);
}

static uint8_t status(struct i8042 *dev)
{
    uint8_t v;

    i8042_command_bus_ops()->read(dev, 0, &v, 1);
    return v;
}

static uint8_t data_read(struct i8042 *dev)
{
    uint8_t v;

    i8042_data_bus_ops()->read(dev, 0, &v, 1);
    return v;
}

static void test_reset_command(void)
{
    int resets = 0;
    struct i8042 *dev = i8042_new(count_reset, &resets);

    g_assert_cmphex(status(dev) & 0x02, ==, 0); /* input buffer empty: kb_wait() passes */
    cmd(dev, 0xfe);
    g_assert_cmpint(resets, ==, 1);
    cmd(dev, 0xff); /* pulses nothing */
    cmd(dev, 0xf1); /* pulses lines 1-3, not reset */
    g_assert_cmpint(resets, ==, 1);
    cmd(dev, 0xf0); /* pulses all lines, reset included */
    g_assert_cmpint(resets, ==, 2);
    i8042_free(dev);
}

static void test_output_port_reset(void)
{
    int resets = 0;
    struct i8042 *dev = i8042_new(count_reset, &resets);

    cmd(dev, 0xd0);
    g_assert_cmphex(status(dev) & 0x01, ==, 0x01);
    g_assert_cmphex(data_read(dev) & 0x01, ==, 0x01); /* reset line inactive */
    cmd(dev, 0xd1);
    data_write(dev, 0x03);
    g_assert_cmpint(resets, ==, 0);
    cmd(dev, 0xd1);
    data_write(dev, 0x02);
    g_assert_cmpint(resets, ==, 1);
    i8042_free(dev);
}

static void test_probe_commands(void)
{
    int resets = 0;
    struct i8042 *dev = i8042_new(count_reset, &resets);
    uint8_t ctr;

    g_assert_cmphex(status(dev) & 0x01, ==, 0);
    cmd(dev, 0xaa);
    g_assert_cmphex(status(dev) & 0x01, ==, 0x01);
    g_assert_cmphex(data_read(dev), ==, 0x55);
    g_assert_cmphex(status(dev) & 0x01, ==, 0);
    g_assert_cmphex(status(dev) & 0x04, ==, 0x04); /* system flag */
    cmd(dev, 0x20);
    ctr = data_read(dev);
    cmd(dev, 0x60);
    data_write(dev, ctr & ~0x03);
    cmd(dev, 0x20);
    g_assert_cmphex(data_read(dev), ==, ctr & ~0x03);
    cmd(dev, 0xad);
    cmd(dev, 0x20);
    g_assert_cmphex(data_read(dev) & 0x10, ==, 0x10);
    /* Aux loopback: the byte comes back flagged as aux data. */
    cmd(dev, 0xd3);
    data_write(dev, 0x5a);
    g_assert_cmphex(status(dev) & 0x21, ==, 0x21);
    g_assert_cmphex(data_read(dev), ==, 0x5a);
    g_assert_cmpint(resets, ==, 0);
    i8042_free(dev);
}

static void test_garbage(void)
{
    int resets = 0;
    struct i8042 *dev = i8042_new(count_reset, &resets);
    uint8_t two[2] = {0xfe, 0xfe};

    /* Unknown commands, keyboard bytes with no keyboard, a flood of
     * responses nobody reads, wide accesses: all harmless. */
    for (unsigned int c = 0; c < 0xf0; c++)
        if (c != 0xd1)
            cmd(dev, c);
    data_write(dev, 0xff);
    for (int i = 0; i < 100; i++)
        cmd(dev, 0xaa);
    i8042_command_bus_ops()->write(dev, 0, two, 2);
    i8042_command_bus_ops()->read(dev, 0, two, 2);
    g_assert_cmphex(two[0], ==, 0xff);
    i8042_command_bus_ops()->write(dev, 1, two, 1);
    g_assert_cmpint(resets, ==, 0);
    i8042_free(dev);

    /* No callback: a reset request is simply dropped. */
    dev = i8042_new(NULL, NULL);
    cmd(dev, 0xfe);
    i8042_free(dev);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/i8042/reset-command", test_reset_command);
    g_test_add_func("/i8042/output-port-reset", test_output_port_reset);
    g_test_add_func("/i8042/probe-commands", test_probe_commands);
    g_test_add_func("/i8042/garbage", test_garbage);
    return g_test_run();
}
