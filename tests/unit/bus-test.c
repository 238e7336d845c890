/* Tests for vmm/bus.c: dispatch by range, overlap refusal, unclaimed addresses. */
#include "bus.h"

#include <errno.h>
#include <glib.h>

struct probe {
    uint64_t last_offset;
    uint8_t value;
    int writes;
};

static void probe_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
    struct probe *p = opaque;

    p->last_offset = offset;
    for (uint32_t i = 0; i < len; i++)
        data[i] = p->value;
}

static void probe_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
    struct probe *p = opaque;

    p->last_offset = offset;
    p->value = data[0];
    p->writes++;
}

static const struct bus_ops probe_ops = {.read = probe_read, .write = probe_write};

static void test_dispatch(void)
{
    struct bus *bus = bus_new("pio");
    struct probe a = {0}, b = {0};
    uint8_t v = 0x5a, out[2];

    g_assert_cmpint(bus_register(bus, 0x3f8, 8, &probe_ops, &a), ==, 0);
    g_assert_cmpint(bus_register(bus, 0x70, 2, &probe_ops, &b), ==, 0);
    g_assert_true(bus_write(bus, 0x3fb, &v, 1));
    g_assert_cmpuint(a.last_offset, ==, 3);
    g_assert_cmpint(a.writes, ==, 1);
    g_assert_cmpint(b.writes, ==, 0);
    g_assert_true(bus_read(bus, 0x70, out, 2));
    g_assert_cmpuint(b.last_offset, ==, 0);
    bus_free(bus);
}

static void test_overlap_refused(void)
{
    struct bus *bus = bus_new("mmio");
    struct probe a = {0};

    g_assert_cmpint(bus_register(bus, 0x1000, 0x100, &probe_ops, &a), ==, 0);
    g_assert_cmpint(bus_register(bus, 0x10ff, 1, &probe_ops, &a), ==, -EEXIST);
    g_assert_cmpint(bus_register(bus, 0xf00, 0x101, &probe_ops, &a), ==, -EEXIST);
    g_assert_cmpint(bus_register(bus, 0x1100, 0x10, &probe_ops, &a), ==, 0);
    g_assert_cmpint(bus_register(bus, 0, 0, &probe_ops, &a), ==, -EINVAL);
    g_assert_cmpint(bus_register(bus, UINT64_MAX, 2, &probe_ops, &a), ==, -EINVAL);
    bus_free(bus);
}

static void test_unclaimed(void)
{
    struct bus *bus = bus_new("pio");
    struct probe a = {.value = 7};
    uint8_t out[4];

    g_assert_cmpint(bus_register(bus, 0x60, 1, &probe_ops, &a), ==, 0);
    g_assert_false(bus_read(bus, 0x61, out, 1));
    g_assert_cmpuint(out[0], ==, 0xff);
    g_assert_false(bus_read(bus, 0x60, out, 2)); /* straddles the end */
    g_assert_cmpint(bus_unregister(bus, 0x60), ==, 0);
    g_assert_false(bus_read(bus, 0x60, out, 1));
    g_assert_cmpint(bus_unregister(bus, 0x60), ==, -ENOENT);
    bus_free(bus);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/bus/dispatch", test_dispatch);
    g_test_add_func("/bus/overlap-refused", test_overlap_refused);
    g_test_add_func("/bus/unclaimed", test_unclaimed);
    return g_test_run();
}
