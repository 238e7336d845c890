/* Tests for vmm/guest_memory.c: every range that is not wholly guest RAM is refused. */
#include "guest_memory.h"

#include <errno.h>
#include <glib.h>

static uint8_t low[4096], high[4096];

static struct guest_memory two_regions(void)
{
    struct guest_memory mem = {.nr_regions = 2};
    mem.regions[0] = (struct guest_region){.gpa = 0, .size = sizeof(low), .hva = low};
    mem.regions[1] =
        (struct guest_region){.gpa = 0x100000000ull, .size = sizeof(high), .hva = high};
    return mem;
}

static void test_inside(void)
{
    struct guest_memory mem = two_regions();

    g_assert_true(guest_memory_ptr(&mem, 0, 4096) == low);
    g_assert_true(guest_memory_ptr(&mem, 4095, 1) == low + 4095);
    g_assert_true(guest_memory_ptr(&mem, 0x100000010ull, 16) == high + 16);
}

static void test_outside(void)
{
    struct guest_memory mem = two_regions();
    uint8_t buf[8];

    g_assert_null(guest_memory_ptr(&mem, 4095, 2));                    /* runs off the end */
    g_assert_null(guest_memory_ptr(&mem, 4096, 1));                    /* in the gap */
    g_assert_null(guest_memory_ptr(&mem, 0, 0));                       /* empty */
    g_assert_null(guest_memory_ptr(&mem, UINT64_MAX, 2));              /* wraps */
    g_assert_null(guest_memory_ptr(&mem, 0x100000000ull + 4000, 200)); /* spans past region */
    g_assert_cmpint(guest_memory_read(&mem, 8192, buf, sizeof(buf)), ==, -EFAULT);
    g_assert_cmpint(guest_memory_write(&mem, 4094, buf, sizeof(buf)), ==, -EFAULT);
}

static void test_copy(void)
{
    struct guest_memory mem = two_regions();
    uint8_t in[4] = {1, 2, 3, 4}, out[4] = {0};

    g_assert_cmpint(guest_memory_write(&mem, 0x100000100ull, in, 4), ==, 0);
    g_assert_cmpint(guest_memory_read(&mem, 0x100000100ull, out, 4), ==, 0);
    g_assert_cmpmem(in, 4, out, 4);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/guest-memory/inside", test_inside);
    g_test_add_func("/guest-memory/outside", test_outside);
    g_test_add_func("/guest-memory/copy", test_copy);
    return g_test_run();
}
