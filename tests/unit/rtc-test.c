/* Tests for vmm/devices/rtc.c through ports 0x70/0x71: the host's time in
 * BCD and binary, 12-hour mode, setting the clock, the memory-size bytes. */
#include "devices/rtc.h"

#include <glib.h>
#include <stdlib.h>
#include <time.h>

#define LAYOUT_TEST_1G (1ull << 30)

static uint8_t cmos_read(struct rtc *rtc, uint8_t index)
{
    uint8_t v;

    rtc_bus_ops()->write(rtc, 0, &index, 1);
    rtc_bus_ops()->read(rtc, 1, &v, 1);
    return v;
}

static void cmos_write(struct rtc *rtc, uint8_t index, uint8_t v)
{
    rtc_bus_ops()->write(rtc, 0, &index, 1);
    rtc_bus_ops()->write(rtc, 1, &v, 1);
}

static unsigned int bcd(uint8_t v)
{
    g_assert_cmpuint(v & 0x0f, <=, 9);
    g_assert_cmpuint(v >> 4, <=, 9);
    return (v >> 4) * 10 + (v & 0x0f);
}

static unsigned int dec(uint8_t v, bool binary)
{
    return binary ? v : bcd(v);
}

/* Reads the clock the way Linux's mc146818_get_time() does. */
static time_t read_clock(struct rtc *rtc, bool binary)
{
    struct tm tm = {0};

    while (cmos_read(rtc, 0x0a) & 0x80)
        ; /* update in progress */
    tm.tm_sec = dec(cmos_read(rtc, 0x00), binary);
    tm.tm_min = dec(cmos_read(rtc, 0x02), binary);
    tm.tm_hour = dec(cmos_read(rtc, 0x04), binary);
    tm.tm_mday = dec(cmos_read(rtc, 0x07), binary);
    tm.tm_mon = dec(cmos_read(rtc, 0x08), binary) - 1;
    tm.tm_year = dec(cmos_read(rtc, 0x32), binary) * 100 + dec(cmos_read(rtc, 0x09), binary) - 1900;
    return timegm(&tm);
}

static void test_bcd_time(void)
{
    struct rtc *rtc = rtc_new(LAYOUT_TEST_1G, 0);
    time_t now = time(NULL);
    struct tm tm;
    uint8_t b = cmos_read(rtc, 0x0b);

    g_assert_cmphex(b & 0x06, ==, 0x02); /* BCD, 24 hour */
    g_assert_cmpint(llabs((long long)(read_clock(rtc, false) - now)), <=, 2);
    gmtime_r(&now, &tm);
    g_assert_cmpuint(bcd(cmos_read(rtc, 0x06)), >=, 1); /* day of week, 1-7 */
    g_assert_cmpuint(bcd(cmos_read(rtc, 0x06)), <=, 7);
    g_assert_cmphex(cmos_read(rtc, 0x0a) & 0x7f, ==, 0x26);
    g_assert_cmphex(cmos_read(rtc, 0x0d), ==, 0x80);
    g_assert_cmphex(cmos_read(rtc, 0x0c), ==, 0x00);
    rtc_free(rtc);
}

static void test_binary_and_12h(void)
{
    struct rtc *rtc = rtc_new(LAYOUT_TEST_1G, 0);
    time_t now;
    struct tm tm;
    uint8_t hour;

    cmos_write(rtc, 0x0b, 0x06); /* binary, 24 hour */
    g_assert_cmpint(llabs((long long)(read_clock(rtc, true) - time(NULL))), <=, 2);
    cmos_write(rtc, 0x0b, 0x04); /* binary, 12 hour */
    now = time(NULL);
    hour = cmos_read(rtc, 0x04);
    gmtime_r(&now, &tm);
    g_assert_cmpuint(hour & 0x7f, >=, 1);
    g_assert_cmpuint(hour & 0x7f, <=, 12);
    /* Allow for the hour turning between the two reads. */
    if (cmos_read(rtc, 0x02) != 0 || tm.tm_min != 59) {
        g_assert_cmpuint(hour & 0x7f, ==, tm.tm_hour % 12 ? tm.tm_hour % 12 : 12);
        g_assert_cmpuint(!!(hour & 0x80), ==, tm.tm_hour >= 12);
    }
    rtc_free(rtc);
}

static void test_set_time(void)
{
    struct rtc *rtc = rtc_new(LAYOUT_TEST_1G, 0);
    struct tm want = {.tm_year = 2031 - 1900,
                      .tm_mon = 5,
                      .tm_mday = 15,
                      .tm_hour = 13,
                      .tm_min = 14,
                      .tm_sec = 15};
    time_t t;
    uint8_t v;

    /* hwclock --systohc: SET, the registers, SET off. */
    cmos_write(rtc, 0x0b, 0x82);
    g_assert_cmphex(cmos_read(rtc, 0x0a) & 0x80, ==, 0); /* no updates while SET */
    cmos_write(rtc, 0x00, 0x15);
    cmos_write(rtc, 0x02, 0x14);
    cmos_write(rtc, 0x04, 0x13);
    cmos_write(rtc, 0x07, 0x15);
    cmos_write(rtc, 0x08, 0x06);
    cmos_write(rtc, 0x09, 0x31);
    cmos_write(rtc, 0x32, 0x20);
    g_assert_cmphex(cmos_read(rtc, 0x09), ==, 0x31); /* frozen copy reads back */
    cmos_write(rtc, 0x0b, 0x02);
    t = read_clock(rtc, false);
    g_assert_cmpint(llabs((long long)(t - timegm(&want))), <=, 2);

    /* Garbage (not BCD, month 13) while SET: the clock keeps its time. */
    cmos_write(rtc, 0x0b, 0x82);
    cmos_write(rtc, 0x08, 0x13);
    cmos_write(rtc, 0x00, 0x7a);
    cmos_write(rtc, 0x0b, 0x02);
    t = read_clock(rtc, false);
    g_assert_cmpint(llabs((long long)(t - timegm(&want))), <=, 3);
    /* A single register written while running: the minutes. */
    cmos_write(rtc, 0x02, 0x40);
    v = cmos_read(rtc, 0x02);
    g_assert_true(v == 0x40 || v == 0x41); /* a minute may have passed */
    rtc_free(rtc);
}

static void test_memory_1g(void)
{
    struct rtc *rtc = rtc_new(LAYOUT_TEST_1G, 0);

    g_assert_cmphex(cmos_read(rtc, 0x15) | cmos_read(rtc, 0x16) << 8, ==, 640);
    /* (1 GiB - 1 MiB) in KiB is over 64 MiB: capped. */
    g_assert_cmphex(cmos_read(rtc, 0x17) | cmos_read(rtc, 0x18) << 8, ==, 0xffff);
    g_assert_cmphex(cmos_read(rtc, 0x30) | cmos_read(rtc, 0x31) << 8, ==, 0xffff);
    /* (1 GiB - 16 MiB) / 64 KiB = 16128. */
    g_assert_cmphex(cmos_read(rtc, 0x34) | cmos_read(rtc, 0x35) << 8, ==, 0x3f00);
    g_assert_cmphex(cmos_read(rtc, 0x5b), ==, 0);
    g_assert_cmphex(cmos_read(rtc, 0x5c), ==, 0);
    g_assert_cmphex(cmos_read(rtc, 0x5d), ==, 0);
    rtc_free(rtc);
}

static void test_memory_6g(void)
{
    /* 6 GiB with the hole at 3 GiB: 3 GiB below 4 GiB, 3 GiB above. */
    struct rtc *rtc = rtc_new(3ull << 30, 3ull << 30);

    g_assert_cmphex(cmos_read(rtc, 0x34) | cmos_read(rtc, 0x35) << 8, ==, 0xbf00);
    g_assert_cmphex(cmos_read(rtc, 0x5b) | cmos_read(rtc, 0x5c) << 8 | cmos_read(rtc, 0x5d) << 16,
                    ==, 0xc000);
    rtc_free(rtc);

    /* Small guests and huge ones: no underflow, capped counts. */
    rtc = rtc_new(8ull << 20, 1ull << 50);
    g_assert_cmphex(cmos_read(rtc, 0x34) | cmos_read(rtc, 0x35) << 8, ==, 0);
    g_assert_cmphex(cmos_read(rtc, 0x17) | cmos_read(rtc, 0x18) << 8, ==, 7 * 1024);
    g_assert_cmphex(cmos_read(rtc, 0x5b) | cmos_read(rtc, 0x5c) << 8 | cmos_read(rtc, 0x5d) << 16,
                    ==, 0xffffff);
    rtc_free(rtc);
}

static void test_index_and_bad_accesses(void)
{
    struct rtc *rtc = rtc_new(LAYOUT_TEST_1G, 0);
    uint8_t v, two[2] = {0x0d, 0x0d};

    /* Bit 7 of the index is the NMI mask: ignored, index masked to 0x7f. */
    g_assert_cmphex(cmos_read(rtc, 0x80 | 0x0d), ==, 0x80);
    g_assert_cmphex(cmos_read(rtc, 0xb4), ==, cmos_read(rtc, 0x34));
    /* Read-only registers. */
    cmos_write(rtc, 0x0d, 0x00);
    g_assert_cmphex(cmos_read(rtc, 0x0d), ==, 0x80);
    cmos_write(rtc, 0x0a, 0xff);
    g_assert_cmphex(cmos_read(rtc, 0x0a) & 0x7f, ==, 0x7f);
    /* Plain CMOS RAM, top byte included. */
    cmos_write(rtc, 0x7f, 0xa5);
    g_assert_cmphex(cmos_read(rtc, 0xff), ==, 0xa5);
    /* The index port reads as 0xff; wide and out-of-range accesses do nothing. */
    rtc_bus_ops()->read(rtc, 0, &v, 1);
    g_assert_cmphex(v, ==, 0xff);
    rtc_bus_ops()->write(rtc, 0, two, 2);
    rtc_bus_ops()->read(rtc, 1, two, 2);
    g_assert_cmphex(two[0], ==, 0xff);
    rtc_bus_ops()->write(rtc, 2, &v, 1);
    rtc_bus_ops()->read(rtc, 2, &v, 1);
    g_assert_cmphex(v, ==, 0xff);
    g_assert_cmphex(cmos_read(rtc, 0x7f), ==, 0xa5);
    rtc_free(rtc);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtc/bcd-time", test_bcd_time);
    g_test_add_func("/rtc/binary-and-12h", test_binary_and_12h);
    g_test_add_func("/rtc/set-time", test_set_time);
    g_test_add_func("/rtc/memory-1g", test_memory_1g);
    g_test_add_func("/rtc/memory-6g", test_memory_6g);
    g_test_add_func("/rtc/index-and-bad-accesses", test_index_and_bad_accesses);
    return g_test_run();
}
