/* Dispatch of remote-program CALLs through a procedure table. */
#include <config.h>

#include "dispatch.h"

#include <libvirt/virterror.h>

#include "driver/error.h"
#include "server.h"

static int compare_proc(const void *key, const void *elem)
{
    int proc = *(const int *)key;
    const struct rpc_procedure *p = elem;

    return proc < p->proc ? -1 : proc > p->proc;
}

const struct rpc_procedure *rpc_program_lookup(const struct rpc_program *prog, int proc)
{
    return bsearch(&proc, prog->procs, prog->nprocs, sizeof(prog->procs[0]), compare_proc);
}

static GBytes *error_reply(const struct rpc_program *prog, const wire_header *hdr,
                           const GError *error)
{
    int code, domain;
    g_autofree char *message = prog->describe(error, &code, &domain);

    return rpc_error_encode(hdr, WIRE_REPLY, code, domain, message);
}

/* Checks that the procedure may run for this client now. */
static bool may_call(const struct rpc_program *prog, struct rpc_client *client,
                     const wire_header *hdr, const struct rpc_procedure *p, GError **error)
{
    if (!p) {
        g_set_error(error, VIREO_RPC_ERROR, VIR_ERR_NO_SUPPORT,
                    _("this function is not supported by the connection driver: "
                      "remote procedure %d"),
                    hdr->proc);
        return false;
    }
    if (!(p->flags & RPC_PROC_BEFORE_OPEN) && !prog->is_open(prog->opaque, client)) {
        g_set_error(error, VIREO_RPC_ERROR, VIR_ERR_INTERNAL_ERROR,
                    _("internal error: connection not open"));
        return false;
    }
    if (!p->handler) {
        g_set_error(error, VIREO_RPC_ERROR, VIR_ERR_NO_SUPPORT,
                    _("this function is not supported by the connection driver: %s"), p->api);
        return false;
    }
    if ((p->flags & RPC_PROC_WRITE) && rpc_client_is_readonly(client)) {
        g_set_error(error, VIREO_RPC_ERROR, VIR_ERR_OPERATION_DENIED,
                    _("operation forbidden: read only access prevents %s"), p->api);
        return false;
    }
    return true;
}

GBytes *rpc_dispatch_call(const struct rpc_program *prog, struct rpc_client *client,
                          const wire_header *hdr, const uint8_t *payload, size_t len)
{
    const struct rpc_procedure *p = rpc_program_lookup(prog, hdr->proc);
    g_autoptr(GError) error = NULL;
    g_autofree void *args = NULL;
    g_autofree void *ret = NULL;
    wire_header reply = *hdr;
    GBytes *out;

    if (!may_call(prog, client, hdr, p, &error))
        return error_reply(prog, hdr, error);

    args = g_malloc0(p->args_size ? p->args_size : 1);
    ret = g_malloc0(p->ret_size ? p->ret_size : 1);
    if (p->args_proc) {
        if (!rpc_payload_decode(payload, len, p->args_proc, args)) {
            g_set_error(&error, VIREO_RPC_ERROR, VIR_ERR_RPC,
                        _("RPC error: cannot decode the arguments of %s"), p->api);
            return error_reply(prog, hdr, error);
        }
    }

    if (p->handler(prog->opaque, client, args, ret, &error) < 0) {
        out = error_reply(prog, hdr, error);
    } else {
        reply.type = WIRE_REPLY;
        reply.status = WIRE_OK;
        out = rpc_message_encode(&reply, p->ret_proc, ret);
        if (!out) {
            g_clear_error(&error);
            g_set_error(&error, VIREO_RPC_ERROR, VIR_ERR_RPC,
                        _("RPC error: cannot encode the reply of %s"), p->api);
            out = error_reply(prog, hdr, error);
        }
    }
    if (p->args_proc)
        xdr_free(p->args_proc, args);
    if (p->ret_proc)
        xdr_free(p->ret_proc, ret);
    return out;
}
