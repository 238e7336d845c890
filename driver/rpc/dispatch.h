/* The procedure table of a program and the dispatch of one CALL: look the
 * procedure up, refuse what this client may not call, decode the arguments,
 * run the handler, encode its reply or its error. */
#ifndef VIREO_RPC_DISPATCH_H
#define VIREO_RPC_DISPATCH_H

#include <glib.h>
#include <stdbool.h>

#include "message.h"

struct rpc_client;

/* Fills *ret (zeroed, freed with xdr_free after encoding) or returns -1
 * with *error set. */
typedef int (*rpc_handler)(void *opaque, struct rpc_client *client, void *args, void *ret,
                           GError **error);

enum {
    RPC_PROC_BEFORE_OPEN = 1 << 0, /* may be called before CONNECT_OPEN */
    RPC_PROC_WRITE = 1 << 1,       /* changes something: refused when read-only */
};

struct rpc_procedure {
    int proc;
    const char *api; /* the libvirt API it serves, for messages */
    xdrproc_t args_proc;
    size_t args_size;
    xdrproc_t ret_proc;
    size_t ret_size;
    rpc_handler handler; /* NULL: known but not supported */
    unsigned int flags;
};

struct rpc_program {
    const struct rpc_procedure *procs; /* sorted by proc */
    size_t nprocs;
    /* True once the client has opened a connection. */
    bool (*is_open)(void *opaque, struct rpc_client *client);
    /* The libvirt code, domain and message of an error a handler reported. */
    char *(*describe)(const GError *error, int *code, int *domain);
    /* A STREAM packet from the client (console input, finish, abort); NULL
     * when the program has no streams. */
    void (*stream)(void *opaque, struct rpc_client *client, const wire_header *hdr,
                   const uint8_t *payload, size_t len);
    void *opaque;
};

const struct rpc_procedure *rpc_program_lookup(const struct rpc_program *prog, int proc);

/* The reply to a CALL of the remote program (never NULL unless the reply
 * itself cannot be encoded). */
GBytes *rpc_dispatch_call(const struct rpc_program *prog, struct rpc_client *client,
                          const wire_header *hdr, const uint8_t *payload, size_t len);

#endif
