/* Encoding and decoding of whole protocol messages over libtirpc's XDR. */
#include <config.h>

#include "message.h"

#include <libvirt/virterror.h>
#include <string.h>

#include "driver/error.h"

GQuark vireo_rpc_error_quark(void)
{
    return g_quark_from_static_string("vireo-rpc-error-quark");
}

uint32_t rpc_length_decode(const uint8_t buf[RPC_LEN_BYTES])
{
    return (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
}

bool rpc_header_decode(const uint8_t *buf, size_t len, wire_header *hdr)
{
    return rpc_payload_decode(buf, len, (xdrproc_t)xdr_wire_header, hdr);
}

bool rpc_payload_decode(const uint8_t *buf, size_t len, xdrproc_t proc, void *out)
{
    XDR xdr;
    bool ok;

    xdrmem_create(&xdr, (char *)buf, len, XDR_DECODE);
    ok = proc(&xdr, out, 0);
    xdr_destroy(&xdr);
    if (!ok)
        xdr_free(proc, out);
    return ok;
}

GBytes *rpc_message_encode(const wire_header *hdr, xdrproc_t proc, const void *payload)
{
    unsigned long payload_len = proc ? xdr_sizeof(proc, (void *)payload) : 0;
    size_t total = RPC_MESSAGE_MIN + payload_len;
    g_autofree uint8_t *buf = NULL;
    XDR xdr;
    bool ok;

    if (total > RPC_MESSAGE_MAX)
        return NULL;
    buf = g_malloc0(total);
    xdrmem_create(&xdr, (char *)buf, total, XDR_ENCODE);
    uint32_t len = total;
    ok = xdr_u_int(&xdr, &len) && xdr_wire_header(&xdr, (wire_header *)hdr) &&
         (!proc || proc(&xdr, (void *)payload, 0));
    ok = ok && xdr_getpos(&xdr) == total;
    xdr_destroy(&xdr);
    if (!ok)
        return NULL;
    return g_bytes_new_take(g_steal_pointer(&buf), total);
}

GBytes *rpc_stream_encode(const wire_header *hdr, const void *data, size_t len)
{
    g_autoptr(GBytes) head = rpc_message_encode(hdr, NULL, NULL);
    size_t head_len;
    const uint8_t *h;
    uint8_t *buf;
    uint32_t total = RPC_MESSAGE_MIN + len;

    if (!head || len > RPC_STREAM_DATA_MAX)
        return NULL;
    h = g_bytes_get_data(head, &head_len);
    buf = g_malloc(total);
    memcpy(buf, h, head_len);
    buf[0] = total >> 24;
    buf[1] = total >> 16;
    buf[2] = total >> 8;
    buf[3] = total;
    if (len)
        memcpy(buf + head_len, data, len);
    return g_bytes_new_take(buf, total);
}

GBytes *rpc_error_encode(const wire_header *call, int type, int code, int domain,
                         const char *message)
{
    wire_header hdr = *call;
    char *msg = (char *)(message ? message : "");
    wire_error err = {
        .code = code,
        .domain = domain,
        .message = &msg,
        .level = VIR_ERR_ERROR,
    };

    hdr.type = type;
    hdr.status = WIRE_ERROR;
    return rpc_message_encode(&hdr, (xdrproc_t)xdr_wire_error, &err);
}
