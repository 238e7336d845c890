/* A domain's network interfaces on the host: the taps made for them when it
 * starts, which its VMM inherits, and their counters. */
#ifndef VIREO_DRIVER_NETWORK_H
#define VIREO_DRIVER_NETWORK_H

#include <glib.h>

#include "driver.h"

/* Makes the taps of every interface of `live` (bridges joined, networks
 * resolved through vireo.conf) and appends their fds to `fds` (int), in the
 * order vmconfig.c numbers them; the tap names go into the live definition
 * (<target dev>), and so do the bridges networks resolved to (<source
 * bridge>). -1 with *error set naming what failed, and every tap already
 * made is gone again (fds emptied). */
int vireo_network_prepare(struct vireo_driver *drv, struct vireo_domain_def *live, GArray *fds,
                          GError **error) __attribute__((warn_unused_result));

/* Closes every fd in `fds` and empties it. */
void vireo_network_close_fds(GArray *fds);

#endif
