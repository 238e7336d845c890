/* TAP devices on the host: made by the daemon for a domain's interfaces and
 * handed to its VMM as fds. A tap lives as long as one of its fds is open. */
#ifndef VIREO_DRIVER_TAP_H
#define VIREO_DRIVER_TAP_H

#include <glib.h>
#include <stdint.h>

/* The name pattern of taps the daemon names itself, as libvirt's. */
#define VIREO_TAP_PATTERN "vnet%d"

/* Counters as the guest sees them: what the host sends is what it receives. */
struct vireo_tap_stats {
    int64_t rx_bytes, rx_packets, rx_errs, rx_drop;
    int64_t tx_bytes, tx_packets, tx_errs, tx_drop;
};

/* Creates tap `name` (NULL: the next free vnetN, the kernel picks N) with
 * `queues` fds, one per queue pair (IFF_MULTI_QUEUE when more than one),
 * all with IFF_VNET_HDR. Its name comes back in *ifname. -1 with *error set
 * naming the tap (and EPERM without CAP_NET_ADMIN); nothing is left. */
int vireo_tap_create(const char *name, unsigned int queues, int *fds, char **ifname, GError **error)
    __attribute__((warn_unused_result));

/* The host side: the guest's MAC with 0xfe first (so a bridge never takes
 * it for its own address), `mtu` (0: the bridge's, or the default), on
 * `bridge` if not NULL, link up. -1 with *error set naming what failed. */
int vireo_tap_setup(const char *ifname, const uint8_t mac[6], unsigned int mtu, const char *bridge,
                    GError **error) __attribute__((warn_unused_result));

/* The tap's counters from /sys/class/net/IFNAME/statistics, rx and tx
 * swapped to the guest's view, as libvirt reports taps. */
int vireo_tap_stats(const char *ifname, struct vireo_tap_stats *stats, GError **error)
    __attribute__((warn_unused_result));

/* Closes n fds (-1 entries skipped) and sets them to -1. */
void vireo_tap_close(int *fds, unsigned int n);

#endif
