/* Domain events for clients: the callbacks each connection registered
 * (libvirt's remote event procedures, new and legacy) and the MESSAGE
 * packets that carry an event to them. */
#ifndef VIREO_DRIVER_EVENTS_H
#define VIREO_DRIVER_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

struct vireo_event_callback {
    int id;       /* the callbackID we assigned (316); 0 for legacy registrations */
    int event_id; /* VIR_DOMAIN_EVENT_ID_* */
    bool has_dom; /* only events about this domain */
    uint8_t uuid[16];
    bool legacy; /* 105 or 167: sent as proc 107 without a callback id */
};

#endif
