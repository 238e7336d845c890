/* The port 0x80 device. It keeps no state: every write is one log line. The
 * two well-known values are logged by default, others at -v. */
#include "config.h"

#include "boot_marker.h"

#include "log.h"

static void boot_marker_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
    (void)opaque;
    (void)offset;
    (void)len;
    switch (data[0]) {
    case BOOT_MARKER_KERNEL_START:
        log_notice("boot marker 0x40 (kernel start) at %.6f s", log_uptime());
        break;
    case BOOT_MARKER_USERSPACE_START:
        log_notice("boot marker 0x41 (userspace start) at %.6f s", log_uptime());
        break;
    default:
        log_info("boot marker 0x%02x at %.6f s", data[0], log_uptime());
        break;
    }
}

static void boot_marker_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
    (void)opaque;
    (void)offset;
    for (uint32_t i = 0; i < len; i++)
        data[i] = 0xff;
}

const struct bus_ops boot_marker_ops = {.read = boot_marker_read, .write = boot_marker_write};
