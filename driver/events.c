/* Domain event registration entry points and the delivery of lifecycle
 * events to every client that asked for them. A client's callbacks live in
 * its connection state, so a client that goes away takes them along. */
#include <config.h>

/* For VIR_DOMAIN_EVENT_ID_LAST. */
#define VIR_ENUM_SENTINELS

#include "events.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "driver.h"
#include "error.h"
#include "rpc/message.h"
#include "rpc/server.h"

#define PROC_DOMAIN_EVENT_LIFECYCLE          107
#define PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE 318
#define PROC_DOMAIN_EVENT_CALLBACK_REBOOT    319

static bool event_id_valid(int event_id, GError **error)
{
    if (event_id < 0 || event_id >= VIR_DOMAIN_EVENT_ID_LAST) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INVALID_ARG,
                    _("invalid argument: unsupported event ID %d"), event_id);
        return false;
    }
    return true;
}

static struct vireo_event_callback *find_legacy(struct vireo_conn *conn, int event_id)
{
    for (guint i = 0; i < conn->callbacks->len; i++) {
        struct vireo_event_callback *cb =
            &g_array_index(conn->callbacks, struct vireo_event_callback, i);
        if (cb->legacy && cb->event_id == event_id)
            return cb;
    }
    return NULL;
}

static void remove_legacy(struct vireo_conn *conn, int event_id)
{
    for (guint i = 0; i < conn->callbacks->len; i++) {
        struct vireo_event_callback *cb =
            &g_array_index(conn->callbacks, struct vireo_event_callback, i);
        if (cb->legacy && cb->event_id == event_id) {
            g_array_remove_index(conn->callbacks, i);
            return;
        }
    }
}

static void add_legacy(struct vireo_conn *conn, int event_id)
{
    struct vireo_event_callback cb = {.event_id = event_id, .legacy = true};

    if (!find_legacy(conn, event_id))
        g_array_append_val(conn->callbacks, cb);
}

VIREO_ENTRY(vireo_connect_domain_event_register)
{
    add_legacy(vireo_conn_of(opaque, client), VIR_DOMAIN_EVENT_ID_LIFECYCLE);
    ((wire_connect_domain_event_register_ret *)ret)->cb_registered = 1;
    return 0;
}

VIREO_ENTRY(vireo_connect_domain_event_deregister)
{
    remove_legacy(vireo_conn_of(opaque, client), VIR_DOMAIN_EVENT_ID_LIFECYCLE);
    ((wire_connect_domain_event_register_ret *)ret)->cb_registered = 0;
    return 0;
}

VIREO_ENTRY(vireo_connect_domain_event_register_any)
{
    wire_connect_domain_event_register_any_args *a = args;
    struct vireo_conn *conn = vireo_conn_of(opaque, client);

    if (!event_id_valid(a->eventID, error))
        return -1;
    if (find_legacy(conn, a->eventID)) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INTERNAL_ERROR,
                    _("internal error: domain event %d already registered"), a->eventID);
        return -1;
    }
    add_legacy(conn, a->eventID);
    return 0;
}

VIREO_ENTRY(vireo_connect_domain_event_deregister_any)
{
    wire_connect_domain_event_register_any_args *a = args;
    struct vireo_conn *conn = vireo_conn_of(opaque, client);

    if (!event_id_valid(a->eventID, error))
        return -1;
    if (!find_legacy(conn, a->eventID)) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INTERNAL_ERROR,
                    _("internal error: domain event %d not registered"), a->eventID);
        return -1;
    }
    remove_legacy(conn, a->eventID);
    return 0;
}

VIREO_ENTRY(vireo_connect_domain_event_callback_register_any)
{
    wire_connect_domain_event_callback_register_any_args *a = args;
    wire_connect_domain_event_callback_register_any_ret *r = ret;
    struct vireo_conn *conn = vireo_conn_of(opaque, client);
    struct vireo_event_callback cb = {.event_id = a->eventID};

    if (!event_id_valid(a->eventID, error))
        return -1;
    if (a->dom) {
        /* As libvirt: a callback may name a domain that does not exist (yet). */
        cb.has_dom = true;
        memcpy(cb.uuid, a->dom->uuid, sizeof(cb.uuid));
    }
    cb.id = conn->next_callback_id++;
    g_array_append_val(conn->callbacks, cb);
    r->callbackID = cb.id;
    return 0;
}

VIREO_ENTRY(vireo_connect_domain_event_callback_deregister_any)
{
    wire_connect_domain_event_callback_deregister_any_args *a = args;
    struct vireo_conn *conn = vireo_conn_of(opaque, client);

    for (guint i = 0; i < conn->callbacks->len; i++) {
        struct vireo_event_callback *cb =
            &g_array_index(conn->callbacks, struct vireo_event_callback, i);
        if (!cb->legacy && cb->id == a->callbackID) {
            g_array_remove_index(conn->callbacks, i);
            return 0;
        }
    }
    g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INVALID_ARG,
                _("invalid argument: callback ID %d not registered"), a->callbackID);
    return -1;
}

static GBytes *lifecycle_message(const struct vireo_event_callback *cb, const char *name,
                                 const uint8_t uuid[16], int id, int event, int detail)
{
    wire_header hdr = {
        .prog = RPC_PROGRAM,
        .vers = RPC_PROGRAM_VERSION,
        .type = WIRE_MESSAGE,
        .serial = 0,
        .status = WIRE_OK,
    };
    wire_domain_event_lifecycle_msg msg = {
        .dom = {.name = (char *)name, .id = id},
        .event = event,
        .detail = detail,
    };

    memcpy(msg.dom.uuid, uuid, 16);
    if (cb->legacy) {
        hdr.proc = PROC_DOMAIN_EVENT_LIFECYCLE;
        return rpc_message_encode(&hdr, (xdrproc_t)xdr_wire_domain_event_lifecycle_msg, &msg);
    }
    wire_domain_event_callback_lifecycle_msg cmsg = {.callbackID = cb->id, .msg = msg};
    hdr.proc = PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE;
    return rpc_message_encode(&hdr, (xdrproc_t)xdr_wire_domain_event_callback_lifecycle_msg, &cmsg);
}

void vireo_event_lifecycle(struct vireo_driver *drv, const struct vireo_domain *dom, int event,
                           int detail)
{
    g_debug("event: domain '%s' lifecycle %d/%d", dom->def->name, event, detail);
    for (GList *l = drv->conns; l; l = l->next) {
        struct vireo_conn *conn = l->data;

        if (!conn->open)
            continue;
        for (guint i = 0; i < conn->callbacks->len; i++) {
            const struct vireo_event_callback *cb =
                &g_array_index(conn->callbacks, struct vireo_event_callback, i);
            if (cb->event_id != VIR_DOMAIN_EVENT_ID_LIFECYCLE)
                continue;
            if (cb->has_dom && memcmp(cb->uuid, dom->def->uuid, 16) != 0)
                continue;
            rpc_client_send(conn->client, lifecycle_message(cb, dom->def->name, dom->def->uuid,
                                                            dom->id, event, detail));
        }
    }
}

void vireo_event_reboot(struct vireo_driver *drv, const struct vireo_domain *dom)
{
    wire_header hdr = {
        .prog = RPC_PROGRAM,
        .vers = RPC_PROGRAM_VERSION,
        .proc = PROC_DOMAIN_EVENT_CALLBACK_REBOOT,
        .type = WIRE_MESSAGE,
        .status = WIRE_OK,
    };

    g_debug("event: domain '%s' rebooted", dom->def->name);
    for (GList *l = drv->conns; l; l = l->next) {
        struct vireo_conn *conn = l->data;

        if (!conn->open)
            continue;
        for (guint i = 0; i < conn->callbacks->len; i++) {
            const struct vireo_event_callback *cb =
                &g_array_index(conn->callbacks, struct vireo_event_callback, i);
            wire_domain_event_callback_reboot_msg msg = {
                .callbackID = cb->id,
                .dom = {.name = dom->def->name, .id = dom->id},
            };

            /* Legacy registrations get lifecycle events only. */
            if (cb->legacy || cb->event_id != VIR_DOMAIN_EVENT_ID_REBOOT)
                continue;
            if (cb->has_dom && memcmp(cb->uuid, dom->def->uuid, 16) != 0)
                continue;
            memcpy(msg.dom.uuid, dom->def->uuid, 16);
            rpc_client_send(conn->client,
                            rpc_message_encode(
                                &hdr, (xdrproc_t)xdr_wire_domain_event_callback_reboot_msg, &msg));
        }
    }
}
