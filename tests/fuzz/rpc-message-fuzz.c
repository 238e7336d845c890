/* libFuzzer target for the RPC decoder: any bytes as one message of libvirt's
 * remote protocol, decoded the way virtvireod decodes what a client sends:
 * the length word and header, then the payload as each argument layout the
 * daemon serves. Nothing may crash, leak or read out of bounds. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>

#include "rpc/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The argument layouts of the served procedures, by their decoders. */
#define LAYOUT(type)                                                                               \
    {                                                                                              \
        (xdrproc_t) xdr_##type, sizeof(type)                                                       \
    }
static const struct {
    xdrproc_t proc;
    size_t size;
} layouts[] = {
    LAYOUT(wire_connect_open_args),
    LAYOUT(wire_connect_supports_feature_args),
    LAYOUT(wire_connect_get_max_vcpus_args),
    LAYOUT(wire_connect_get_domain_capabilities_args),
    LAYOUT(wire_connect_list_domains_args),
    LAYOUT(wire_connect_list_defined_domains_args),
    LAYOUT(wire_connect_list_all_domains_args),
    LAYOUT(wire_domain_lookup_by_id_args),
    LAYOUT(wire_domain_lookup_by_uuid_args),
    LAYOUT(wire_domain_lookup_by_name_args),
    LAYOUT(wire_domain_define_xml_args),
    LAYOUT(wire_domain_define_xml_flags_args),
    LAYOUT(wire_domain_args),
    LAYOUT(wire_domain_flags_args),
    LAYOUT(wire_domain_create_xml_args),
    LAYOUT(wire_error),
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wire_header hdr;
    uint32_t len;

    if (size < RPC_MESSAGE_MIN)
        return 0;
    len = rpc_length_decode(data);
    if (len < RPC_MESSAGE_MIN || len > RPC_MESSAGE_MAX || len > size)
        return 0;
    if (!rpc_header_decode(data + RPC_LEN_BYTES, RPC_HEADER_BYTES, &hdr))
        return 0;
    for (size_t i = 0; i < G_N_ELEMENTS(layouts); i++) {
        void *out = g_malloc0(layouts[i].size);
        if (rpc_payload_decode(data + RPC_MESSAGE_MIN, len - RPC_MESSAGE_MIN, layouts[i].proc, out))
            xdr_free(layouts[i].proc, out);
        g_free(out);
    }
    return 0;
}
