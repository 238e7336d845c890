/* The MC146818 CMOS real-time clock and its RAM, on ports 0x70/0x71: wall
 * clock time for guests without kvmclock, and the memory-size bytes
 * firmware reads. */
#ifndef VIREO_VMM_DEVICES_RTC_H
#define VIREO_VMM_DEVICES_RTC_H

#include <stdint.h>

#include "acpi/aml.h"
#include "bus.h"

#define RTC_PIO_LEN 2 /* registered at LAYOUT_PORT_RTC: index, data */

struct rtc;

/* ram_below_4g counts from address 0 (including the first MiB). */
struct rtc *rtc_new(uint64_t ram_below_4g, uint64_t ram_above_4g);
void rtc_free(struct rtc *rtc);
const struct bus_ops *rtc_bus_ops(void);

/* Device (RTC_) { _HID PNP0B00, _CRS: IO port..port+1 }. No interrupt:
 * alarms and periodic interrupts are not emulated. */
void rtc_aml(struct aml *dsdt, uint16_t port);

#endif
