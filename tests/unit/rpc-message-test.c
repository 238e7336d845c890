/* Tests for driver/rpc/message.c and the rpcgen code of vireo_protocol.x:
 * messages encoded and decoded against byte vectors worked out by hand from
 * libvirt's protocol description (XDR: big-endian 4-byte units, strings with
 * a length and zero padding, optionals with a 0/1 word). */
#include <config.h>

#include <glib.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "rpc/message.h"

static void assert_bytes(GBytes *got, const uint8_t *want, size_t len)
{
    size_t got_len;
    const uint8_t *data = g_bytes_get_data(got, &got_len);

    g_assert_nonnull(got);
    g_assert_cmpmem(data, got_len, want, len);
}

/* The 28 bytes that start every message below: length, then the header. */
#define HEADER(len, proc, type, serial, status)                                                    \
    0, 0, 0, (len), 0x20, 0x00, 0x80, 0x86, 0, 0, 0, 1, 0, 0, 0, (proc), 0, 0, 0, (type), 0, 0, 0, \
        (serial), 0, 0, 0, (status)

static const wire_header call_header = {
    .prog = RPC_PROGRAM,
    .vers = RPC_PROGRAM_VERSION,
    .proc = 66,
    .type = WIRE_CALL,
    .serial = 5,
    .status = WIRE_OK,
};

static void test_empty_call(void)
{
    static const uint8_t want[] = {HEADER(28, 66, 0, 5, 0)};
    g_autoptr(GBytes) msg = rpc_message_encode(&call_header, NULL, NULL);
    wire_header hdr;

    assert_bytes(msg, want, sizeof(want));
    g_assert_cmpuint(rpc_length_decode(want), ==, 28);
    g_assert_true(rpc_header_decode(want + 4, 24, &hdr));
    g_assert_cmpuint(hdr.prog, ==, RPC_PROGRAM);
    g_assert_cmpint(hdr.proc, ==, 66);
    g_assert_cmpuint(hdr.serial, ==, 5);
    g_assert_false(rpc_header_decode(want + 4, 20, &hdr));
}

static void test_auth_list_reply(void)
{
    static const uint8_t want[] = {HEADER(36, 66, 1, 5, 0), 0, 0, 0, 1, 0, 0, 0, 0};
    int none = 0;
    wire_auth_list_ret ret = {.types = {.types_len = 1, .types_val = &none}};
    wire_header hdr = call_header;
    g_autoptr(GBytes) msg = NULL;

    hdr.type = WIRE_REPLY;
    msg = rpc_message_encode(&hdr, (xdrproc_t)xdr_wire_auth_list_ret, &ret);
    assert_bytes(msg, want, sizeof(want));
}

static void test_open_args(void)
{
    static const uint8_t bytes[] = {
        0,   0,   0,   1,  /* name present */
        0,   0,   0,   15, /* length */
        'v', 'i', 'r', 'e', 'o', ':', '/', '/', '/', 's',
        'y', 's', 't', 'e', 'm', 0,   0,   0,   0,   1, /* flags: read-only */
    };
    wire_connect_open_args args = {0};

    g_assert_true(
        rpc_payload_decode(bytes, sizeof(bytes), (xdrproc_t)xdr_wire_connect_open_args, &args));
    g_assert_nonnull(args.name);
    g_assert_cmpstr(*args.name, ==, "vireo:///system");
    g_assert_cmpuint(args.flags, ==, 1);
    xdr_free((xdrproc_t)xdr_wire_connect_open_args, (char *)&args);

    /* Cut short inside the string: refused, nothing leaked. */
    g_assert_false(rpc_payload_decode(bytes, 12, (xdrproc_t)xdr_wire_connect_open_args, &args));

    /* A NULL name is a single 0 word. */
    static const uint8_t null_name[] = {0, 0, 0, 0, 0, 0, 0, 0};
    g_assert_true(rpc_payload_decode(null_name, sizeof(null_name),
                                     (xdrproc_t)xdr_wire_connect_open_args, &args));
    g_assert_null(args.name);
    xdr_free((xdrproc_t)xdr_wire_connect_open_args, (char *)&args);
}

static void test_string_too_long(void)
{
    /* A length word above the 4 MiB string limit must not be believed. */
    static const uint8_t bytes[] = {0, 0x40, 0, 1, 'x', 0, 0, 0};
    wire_domain_define_xml_args args = {0};

    g_assert_false(rpc_payload_decode(bytes, sizeof(bytes),
                                      (xdrproc_t)xdr_wire_domain_define_xml_args, &args));
}

static const uint8_t uuid[16] = {0x4d, 0xea, 0x22, 0xb3, 0x1d, 0x52, 0xd8, 0xf3,
                                 0x2b, 0x8e, 0x25, 0x1c, 0xc4, 0x9b, 0x0f, 0x44};

static void test_domain_ret(void)
{
    static const uint8_t want[] = {
        0,    0,    0,    3,    'v',  'm',  '1',  0,    /* name */
        0x4d, 0xea, 0x22, 0xb3, 0x1d, 0x52, 0xd8, 0xf3, /* uuid: 16 bytes as they are */
        0x2b, 0x8e, 0x25, 0x1c, 0xc4, 0x9b, 0x0f, 0x44, /* */
        0xff, 0xff, 0xff, 0xff,                         /* id -1 */
    };
    wire_domain_ret ret = {.dom = {.name = "vm1", .id = -1}};
    wire_domain_ret back = {0};
    wire_header hdr = call_header;
    g_autoptr(GBytes) msg = NULL;
    size_t len;
    const uint8_t *data;

    memcpy(ret.dom.uuid, uuid, 16);
    hdr.proc = 23;
    hdr.type = WIRE_REPLY;
    msg = rpc_message_encode(&hdr, (xdrproc_t)xdr_wire_domain_ret, &ret);
    data = g_bytes_get_data(msg, &len);
    g_assert_cmpuint(len, ==, 28 + sizeof(want));
    g_assert_cmpmem(data + 28, len - 28, want, sizeof(want));

    g_assert_true(rpc_payload_decode(want, sizeof(want), (xdrproc_t)xdr_wire_domain_ret, &back));
    g_assert_cmpstr(back.dom.name, ==, "vm1");
    g_assert_cmpmem(back.dom.uuid, 16, uuid, 16);
    g_assert_cmpint(back.dom.id, ==, -1);
    xdr_free((xdrproc_t)xdr_wire_domain_ret, (char *)&back);
}

static void test_get_info_ret(void)
{
    /* unsigned char and unsigned short take a whole 4-byte unit each. */
    static const uint8_t want[] = {
        0, 0, 0, 5,                /* state: VIR_DOMAIN_SHUTOFF */
        0, 0, 0, 0, 0, 0x10, 0, 0, /* maxMem 1 GiB in KiB */
        0, 0, 0, 0, 0, 0x08, 0, 0, /* memory 512 MiB in KiB */
        0, 0, 0, 2,                /* nrVirtCpu */
        0, 0, 0, 0, 0, 0,    0, 0, /* cpuTime */
    };
    wire_domain_get_info_ret ret = {
        .state = 5, .maxMem = 1048576, .memory = 524288, .nrVirtCpu = 2};
    wire_header hdr = call_header;
    g_autoptr(GBytes) msg = NULL;
    size_t len;
    const uint8_t *data;

    hdr.proc = 16;
    hdr.type = WIRE_REPLY;
    msg = rpc_message_encode(&hdr, (xdrproc_t)xdr_wire_domain_get_info_ret, &ret);
    data = g_bytes_get_data(msg, &len);
    g_assert_cmpmem(data + 28, len - 28, want, sizeof(want));
}

static void test_node_info_ret(void)
{
    /* char model[32] is 32 units of 4 bytes: 160 bytes in all. */
    wire_node_get_info_ret ret = {
        .memory = 1, .cpus = 2, .mhz = 3, .nodes = 4, .sockets = 5, .cores = 6, .threads = 7};
    wire_header hdr = call_header;
    g_autoptr(GBytes) msg = NULL;
    size_t len;
    const uint8_t *data;

    strcpy(ret.model, "x86_64");
    hdr.proc = 6;
    hdr.type = WIRE_REPLY;
    msg = rpc_message_encode(&hdr, (xdrproc_t)xdr_wire_node_get_info_ret, &ret);
    data = g_bytes_get_data(msg, &len);
    g_assert_cmpuint(len, ==, 28 + 160);
    data += 28;
    g_assert_cmpmem(data, 8, ((const uint8_t[]){0, 0, 0, 'x', 0, 0, 0, '8'}), 8);
    g_assert_cmpmem(data + 128, 8, ((const uint8_t[]){0, 0, 0, 0, 0, 0, 0, 1}), 8);
    g_assert_cmpmem(data + 156, 4, ((const uint8_t[]){0, 0, 0, 7}), 4);
}

static void test_error_reply(void)
{
    static const uint8_t want[] = {
        HEADER(80, 23, 1, 5, 1),
        0,
        0,
        0,
        42, /* code: VIR_ERR_NO_DOMAIN */
        0,
        0,
        0,
        20, /* domain: VIR_FROM_DOMAIN */
        0,
        0,
        0,
        1,
        0,
        0,
        0,
        1,
        'x',
        0,
        0,
        0, /* message "x" */
        0,
        0,
        0,
        2, /* level: VIR_ERR_ERROR */
        0,
        0,
        0,
        0, /* dom: absent */
        0,
        0,
        0,
        0, /* str1 */
        0,
        0,
        0,
        0, /* str2 */
        0,
        0,
        0,
        0, /* str3 */
        0,
        0,
        0,
        0, /* int1 */
        0,
        0,
        0,
        0, /* int2 */
        0,
        0,
        0,
        0, /* net: absent */
    };
    wire_header hdr = call_header;
    g_autoptr(GBytes) msg = NULL;

    hdr.proc = 23;
    msg = rpc_error_encode(&hdr, WIRE_REPLY, VIR_ERR_NO_DOMAIN, VIR_FROM_DOMAIN, "x");
    assert_bytes(msg, want, sizeof(want));
}

static void test_list_all_domains(void)
{
    static const uint8_t args_bytes[] = {0, 0, 0, 1, 0, 0, 0, 0x12};
    static const uint8_t empty_ret[] = {0, 0, 0, 0, 0, 0, 0, 0};
    wire_connect_list_all_domains_args args = {0};
    wire_connect_list_all_domains_ret ret = {0};
    wire_header hdr = call_header;
    g_autoptr(GBytes) msg = NULL;
    size_t len;
    const uint8_t *data;

    g_assert_true(rpc_payload_decode(args_bytes, sizeof(args_bytes),
                                     (xdrproc_t)xdr_wire_connect_list_all_domains_args, &args));
    g_assert_cmpint(args.need_results, ==, 1);
    g_assert_cmpuint(args.flags, ==, 0x12);

    hdr.proc = 273;
    hdr.type = WIRE_REPLY;
    msg = rpc_message_encode(&hdr, (xdrproc_t)xdr_wire_connect_list_all_domains_ret, &ret);
    data = g_bytes_get_data(msg, &len);
    g_assert_cmpmem(data + 28, len - 28, empty_ret, sizeof(empty_ret));
    /* 273 does not fit a byte: check the proc word of the header. */
    g_assert_cmpmem(data + 12, 4, ((const uint8_t[]){0, 0, 1, 0x11}), 4);
}

static void test_keepalive_pong(void)
{
    static const uint8_t want[] = {0, 0, 0, 28, 0x6b, 0x65, 0x65, 0x70, 0, 0, 0, 1, 0, 0,
                                   0, 2, 0, 0,  0,    2,    0,    0,    0, 0, 0, 0, 0, 0};
    wire_header pong = {.prog = RPC_KEEPALIVE_PROGRAM,
                        .vers = RPC_KEEPALIVE_VERSION,
                        .proc = RPC_KEEPALIVE_PONG,
                        .type = WIRE_MESSAGE};
    g_autoptr(GBytes) msg = rpc_message_encode(&pong, NULL, NULL);

    assert_bytes(msg, want, sizeof(want));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rpc/message/empty-call", test_empty_call);
    g_test_add_func("/rpc/message/auth-list-reply", test_auth_list_reply);
    g_test_add_func("/rpc/message/open-args", test_open_args);
    g_test_add_func("/rpc/message/string-too-long", test_string_too_long);
    g_test_add_func("/rpc/message/domain-ret", test_domain_ret);
    g_test_add_func("/rpc/message/get-info-ret", test_get_info_ret);
    g_test_add_func("/rpc/message/node-info-ret", test_node_info_ret);
    g_test_add_func("/rpc/message/error-reply", test_error_reply);
    g_test_add_func("/rpc/message/list-all-domains", test_list_all_domains);
    g_test_add_func("/rpc/message/keepalive-pong", test_keepalive_pong);
    return g_test_run();
}
