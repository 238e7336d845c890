/* Messages of libvirt's remote protocol: the length word, the 24-byte header,
 * and payloads encoded with the XDR routines rpcgen makes from
 * vireo_protocol.x. */
#ifndef VIREO_RPC_MESSAGE_H
#define VIREO_RPC_MESSAGE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vireo_protocol.h"

#define RPC_PROGRAM           0x20008086u
#define RPC_PROGRAM_VERSION   1u
#define RPC_KEEPALIVE_PROGRAM 0x6b656570u
#define RPC_KEEPALIVE_VERSION 1u
#define RPC_KEEPALIVE_PING    1
#define RPC_KEEPALIVE_PONG    2

#define RPC_LEN_BYTES    4
#define RPC_HEADER_BYTES 24
#define RPC_MESSAGE_MIN  (RPC_LEN_BYTES + RPC_HEADER_BYTES)
/* Newer clients accept 32 MiB messages; the length word counts itself. */
#define RPC_MESSAGE_MAX (32u * 1024 * 1024)
#define RPC_FDS_MAX     32

/* Reads the length word at the start of a message. */
uint32_t rpc_length_decode(const uint8_t buf[RPC_LEN_BYTES]);

/* Decodes the header that follows the length word. */
bool rpc_header_decode(const uint8_t *buf, size_t len, wire_header *hdr)
    __attribute__((warn_unused_result));

/* Decodes a payload into *out (zeroed first). Free it with
 * xdr_free(proc, out). False when the bytes do not match the layout. */
bool rpc_payload_decode(const uint8_t *buf, size_t len, xdrproc_t proc, void *out)
    __attribute__((warn_unused_result));

/* A whole message, length word included; proc may be NULL for an empty
 * payload. NULL if the payload cannot be encoded or is too large. */
GBytes *rpc_message_encode(const wire_header *hdr, xdrproc_t proc, const void *payload);

/* Most stream data in one packet, as libvirt sends it. */
#define RPC_STREAM_DATA_MAX 262120

/* A STREAM packet: the header, then len raw bytes (not XDR). */
GBytes *rpc_stream_encode(const wire_header *hdr, const void *data, size_t len);

/* A REPLY/ERROR (or STREAM/ERROR) answering `call`, carrying a remote_error. */
GBytes *rpc_error_encode(const wire_header *call, int type, int code, int domain,
                         const char *message);

#endif
