/* MC146818 RTC: the time registers show the host's UTC clock plus an offset
 * the guest sets by writing them (hwclock --systohc); the rest of the 128
 * bytes is plain CMOS RAM, preloaded with the memory sizes. */
#include "devices/rtc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    CMOS_SECONDS = 0x00,
    CMOS_SECONDS_ALARM = 0x01,
    CMOS_MINUTES = 0x02,
    CMOS_MINUTES_ALARM = 0x03,
    CMOS_HOURS = 0x04,
    CMOS_HOURS_ALARM = 0x05,
    CMOS_DAY_OF_WEEK = 0x06,
    CMOS_DAY_OF_MONTH = 0x07,
    CMOS_MONTH = 0x08,
    CMOS_YEAR = 0x09,
    CMOS_REG_A = 0x0a,
    CMOS_REG_B = 0x0b,
    CMOS_REG_C = 0x0c,
    CMOS_REG_D = 0x0d,
    CMOS_BASE_MEM_LO = 0x15, /* KiB below 1 MiB */
    CMOS_BASE_MEM_HI = 0x16,
    CMOS_EXT_MEM_LO = 0x17, /* KiB above 1 MiB, capped */
    CMOS_EXT_MEM_HI = 0x18,
    CMOS_EXT_MEM2_LO = 0x30, /* the same, as POST reports it */
    CMOS_EXT_MEM2_HI = 0x31,
    CMOS_CENTURY = 0x32,
    CMOS_MEM_16M_LO = 0x34, /* 64 KiB units between 16 MiB and the 32-bit hole */
    CMOS_MEM_16M_HI = 0x35,
    CMOS_MEM_4G_0 = 0x5b, /* 64 KiB units above 4 GiB, three bytes */
    CMOS_MEM_4G_1 = 0x5c,
    CMOS_MEM_4G_2 = 0x5d,
    CMOS_SIZE = 0x80,
};

#define REG_A_UIP     0x80
#define REG_A_DEFAULT 0x26 /* 32.768 kHz time base, 1024 Hz rate */
#define REG_B_SET     0x80
#define REG_B_UIE     0x10
#define REG_B_BINARY  0x04
#define REG_B_24H     0x02
#define REG_D_VRT     0x80 /* RAM and time valid */
#define HOUR_PM       0x80
/* UIP rises this long before each update (the update cycle follows). */
#define UIP_NS 244000

struct rtc {
    pthread_mutex_t lock;
    uint8_t index;
    uint8_t cmos[CMOS_SIZE];
    int64_t offset; /* guest time minus host time, seconds */
};

static uint8_t to_bcd(unsigned int v)
{
    return ((v / 10) << 4) | (v % 10);
}

static uint8_t rtc_encode(const struct rtc *rtc, unsigned int v)
{
    return (rtc->cmos[CMOS_REG_B] & REG_B_BINARY) ? v : to_bcd(v);
}

/* Returns false for a BCD byte with a digit above 9. */
static bool rtc_decode(const struct rtc *rtc, uint8_t raw, unsigned int *v)
{
    if (rtc->cmos[CMOS_REG_B] & REG_B_BINARY) {
        *v = raw;
        return true;
    }
    if ((raw & 0x0f) > 9 || (raw >> 4) > 9)
        return false;
    *v = (raw >> 4) * 10 + (raw & 0x0f);
    return true;
}

static uint8_t rtc_encode_hour(const struct rtc *rtc, unsigned int hour)
{
    if (rtc->cmos[CMOS_REG_B] & REG_B_24H)
        return rtc_encode(rtc, hour);
    return rtc_encode(rtc, hour % 12 ? hour % 12 : 12) | (hour >= 12 ? HOUR_PM : 0);
}

static bool rtc_decode_hour(const struct rtc *rtc, uint8_t raw, unsigned int *hour)
{
    unsigned int h;

    if (rtc->cmos[CMOS_REG_B] & REG_B_24H)
        return rtc_decode(rtc, raw, hour) && *hour < 24;
    if (!rtc_decode(rtc, raw & ~HOUR_PM, &h) || h < 1 || h > 12)
        return false;
    *hour = h % 12 + ((raw & HOUR_PM) ? 12 : 0);
    return true;
}

static struct timespec rtc_host_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return ts;
}

/* Loads the time registers from the clock. */
static void rtc_latch_time(struct rtc *rtc)
{
    time_t t = rtc_host_now().tv_sec + rtc->offset;
    struct tm tm;

    if (!gmtime_r(&t, &tm))
        return;
    rtc->cmos[CMOS_SECONDS] = rtc_encode(rtc, tm.tm_sec > 59 ? 59 : tm.tm_sec);
    rtc->cmos[CMOS_MINUTES] = rtc_encode(rtc, tm.tm_min);
    rtc->cmos[CMOS_HOURS] = rtc_encode_hour(rtc, tm.tm_hour);
    rtc->cmos[CMOS_DAY_OF_WEEK] = rtc_encode(rtc, tm.tm_wday + 1);
    rtc->cmos[CMOS_DAY_OF_MONTH] = rtc_encode(rtc, tm.tm_mday);
    rtc->cmos[CMOS_MONTH] = rtc_encode(rtc, tm.tm_mon + 1);
    rtc->cmos[CMOS_YEAR] = rtc_encode(rtc, (tm.tm_year + 1900) % 100);
    rtc->cmos[CMOS_CENTURY] = rtc_encode(rtc, ((tm.tm_year + 1900) / 100) % 100);
}

/* Makes the time registers the guest wrote the current time. Nonsense
 * values leave the clock as it was. */
static void rtc_commit_time(struct rtc *rtc)
{
    unsigned int sec, min, hour, mday, mon, year, century;
    struct tm tm = {0};
    time_t t;

    if (!rtc_decode(rtc, rtc->cmos[CMOS_SECONDS], &sec) || sec > 59 ||
        !rtc_decode(rtc, rtc->cmos[CMOS_MINUTES], &min) || min > 59 ||
        !rtc_decode_hour(rtc, rtc->cmos[CMOS_HOURS], &hour) ||
        !rtc_decode(rtc, rtc->cmos[CMOS_DAY_OF_MONTH], &mday) || mday < 1 || mday > 31 ||
        !rtc_decode(rtc, rtc->cmos[CMOS_MONTH], &mon) || mon < 1 || mon > 12 ||
        !rtc_decode(rtc, rtc->cmos[CMOS_YEAR], &year) || year > 99)
        return;
    if (!rtc_decode(rtc, rtc->cmos[CMOS_CENTURY], &century) || century < 19 || century > 99)
        century = 20;
    tm.tm_sec = sec;
    tm.tm_min = min;
    tm.tm_hour = hour;
    tm.tm_mday = mday;
    tm.tm_mon = mon - 1;
    tm.tm_year = century * 100 + year - 1900;
    t = timegm(&tm);
    if (t == (time_t)-1)
        return;
    rtc->offset = (int64_t)t - rtc_host_now().tv_sec;
}

static bool rtc_is_time_reg(uint8_t index)
{
    return index == CMOS_SECONDS || index == CMOS_MINUTES || index == CMOS_HOURS ||
           (index >= CMOS_DAY_OF_WEEK && index <= CMOS_YEAR) || index == CMOS_CENTURY;
}

static uint8_t rtc_read_data(struct rtc *rtc)
{
    uint8_t index = rtc->index;
    uint8_t val;

    switch (index) {
    case CMOS_REG_A:
        val = rtc->cmos[CMOS_REG_A] & ~REG_A_UIP;
        /* Updates stop while SET is on; otherwise UIP warns of the next one. */
        if (!(rtc->cmos[CMOS_REG_B] & REG_B_SET) && rtc_host_now().tv_nsec >= 1000000000 - UIP_NS)
            val |= REG_A_UIP;
        return val;
    case CMOS_REG_C:
        val = rtc->cmos[CMOS_REG_C];
        rtc->cmos[CMOS_REG_C] = 0; /* reading acknowledges the flags */
        return val;
    case CMOS_REG_D:
        return REG_D_VRT;
    default:
        if (rtc_is_time_reg(index) && !(rtc->cmos[CMOS_REG_B] & REG_B_SET))
            rtc_latch_time(rtc);
        return rtc->cmos[index];
    }
}

static void rtc_write_data(struct rtc *rtc, uint8_t val)
{
    uint8_t index = rtc->index, old_b = rtc->cmos[CMOS_REG_B];

    switch (index) {
    case CMOS_REG_A:
        rtc->cmos[CMOS_REG_A] = val & ~REG_A_UIP;
        break;
    case CMOS_REG_B:
        /* Freeze the registers when SET rises (so the guest edits a stable
         * copy); make them the time when it falls. */
        if ((val & REG_B_SET) && !(old_b & REG_B_SET))
            rtc_latch_time(rtc);
        if (val & REG_B_SET)
            val &= ~REG_B_UIE;
        rtc->cmos[CMOS_REG_B] = val;
        if (!(val & REG_B_SET) && (old_b & REG_B_SET))
            rtc_commit_time(rtc);
        break;
    case CMOS_REG_C:
    case CMOS_REG_D:
        break; /* read-only */
    default:
        if (rtc_is_time_reg(index) && !(old_b & REG_B_SET)) {
            /* A single register changed while the clock runs. */
            rtc_latch_time(rtc);
            rtc->cmos[index] = val;
            rtc_commit_time(rtc);
        } else {
            rtc->cmos[index] = val;
        }
        break;
    }
}

static void rtc_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
    struct rtc *rtc = opaque;

    memset(data, 0xff, len);
    /* The index port is write-only. */
    if (len != 1 || offset != 1)
        return;
    pthread_mutex_lock(&rtc->lock);
    data[0] = rtc_read_data(rtc);
    pthread_mutex_unlock(&rtc->lock);
}

static void rtc_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
    struct rtc *rtc = opaque;

    if (len != 1 || offset >= RTC_PIO_LEN)
        return;
    pthread_mutex_lock(&rtc->lock);
    if (offset == 0)
        rtc->index = data[0] & 0x7f; /* bit 7 is the NMI mask: no NMIs here */
    else
        rtc_write_data(rtc, data[0]);
    pthread_mutex_unlock(&rtc->lock);
}

static const struct bus_ops rtc_ops = {
    .read = rtc_read,
    .write = rtc_write,
};

const struct bus_ops *rtc_bus_ops(void)
{
    return &rtc_ops;
}

static void rtc_set_word(struct rtc *rtc, uint8_t lo, uint64_t value, uint64_t cap)
{
    if (value > cap)
        value = cap;
    rtc->cmos[lo] = value;
    rtc->cmos[lo + 1] = value >> 8;
}

struct rtc *rtc_new(uint64_t ram_below_4g, uint64_t ram_above_4g)
{
    struct rtc *rtc = calloc(1, sizeof(*rtc));
    uint64_t ext_kib, above_16m, above_4g;

    if (!rtc)
        return NULL;
    pthread_mutex_init(&rtc->lock, NULL);
    rtc->cmos[CMOS_REG_A] = REG_A_DEFAULT;
    rtc->cmos[CMOS_REG_B] = REG_B_24H; /* BCD, 24 hour, as firmware leaves it */
    rtc->cmos[CMOS_REG_D] = REG_D_VRT;

    rtc_set_word(rtc, CMOS_BASE_MEM_LO, 640, 640);
    ext_kib = ram_below_4g > (1u << 20) ? (ram_below_4g - (1u << 20)) >> 10 : 0;
    rtc_set_word(rtc, CMOS_EXT_MEM_LO, ext_kib, 0xffff);
    rtc_set_word(rtc, CMOS_EXT_MEM2_LO, ext_kib, 0xffff);
    above_16m = ram_below_4g > (16u << 20) ? (ram_below_4g - (16u << 20)) >> 16 : 0;
    rtc_set_word(rtc, CMOS_MEM_16M_LO, above_16m, 0xffff);
    above_4g = ram_above_4g >> 16;
    if (above_4g > 0xffffff)
        above_4g = 0xffffff;
    rtc->cmos[CMOS_MEM_4G_0] = above_4g;
    rtc->cmos[CMOS_MEM_4G_1] = above_4g >> 8;
    rtc->cmos[CMOS_MEM_4G_2] = above_4g >> 16;
    rtc_latch_time(rtc);
    return rtc;
}

void rtc_free(struct rtc *rtc)
{
    if (!rtc)
        return;
    pthread_mutex_destroy(&rtc->lock);
    free(rtc);
}

void rtc_aml(struct aml *dsdt, uint16_t port)
{
    size_t dev = aml_device_begin(dsdt, "RTC_"), crs;

    aml_name_eisaid(dsdt, "_HID", "PNP0B00");
    aml_name(dsdt, "_CRS");
    crs = aml_resource_template_begin(dsdt);
    aml_io(dsdt, port, port, 1, RTC_PIO_LEN);
    aml_resource_template_end(dsdt, crs);
    aml_end(dsdt, dev);
}
