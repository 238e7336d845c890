/* The control API server: its own thread serving Cloud Hypervisor's REST
 * endpoints (/api/v1/...) over HTTP/1.1 on a unix socket, and handing each
 * request to a backend. The thread never touches VM state itself. */
#ifndef VIREO_VMM_API_SERVER_H
#define VIREO_VMM_API_SERVER_H

#include <json-glib/json-glib.h>
#include <stdint.h>

#include "vm_config.h"

/* Actions without a body or an answer (204 No Content on success). */
enum api_action {
    API_VM_BOOT,
    API_VM_SHUTDOWN,
    API_VM_REBOOT,
    API_VM_POWER_BUTTON,
    API_VM_PAUSE,
    API_VM_RESUME,
    API_VM_DELETE,
    API_VMM_SHUTDOWN,
};

/* "vm.boot", ... */
const char *api_action_endpoint(enum api_action action);

enum api_vm_state {
    API_VM_STATE_CREATED,
    API_VM_STATE_RUNNING,
    API_VM_STATE_SHUTDOWN,
    API_VM_STATE_PAUSED,
};

/* "Created", "Running", "Shutdown", "Paused" as vm.info reports them. */
const char *api_vm_state_name(enum api_vm_state state);

struct api_vm_info {
    enum api_vm_state state;
    /* A copy the server frees. A PTY chardev carries the path of the pty
     * actually allocated in its .path; vm.info shows it as "file". */
    struct vm_config config;
    uint64_t memory_actual_size; /* 0: not reported */
};

/* What the VMM implements. Each call runs on the API thread, and should
 * post the request to the VM's control loop and wait for its answer.
 * Return 0, or -errno with a one-line message in *err (g_free'd by the
 * server; may stay NULL). -errno maps to the status:
 *   -EINVAL 400 (bad argument)       -ENOENT 404 (no VM created)
 *   -EEXIST, -EBUSY, -EALREADY 409 (not possible in the VM's state)
 *   -EAGAIN 429                      -ENOTSUP, -ENOSYS 501
 *   -ETIMEDOUT 503                   anything else 500
 * A NULL member answers 501 Not Implemented. */
struct api_backend_ops {
    /* `cfg` has been parsed and has passed vm_config_validate(). To keep it,
     * move it out (*mine = *cfg; memset(cfg, 0, sizeof(*cfg))); the server
     * vm_config_clear()s whatever is left. */
    int (*vm_create)(void *opaque, struct vm_config *cfg, char **err);
    int (*vm_action)(void *opaque, enum api_action action, char **err);
    /* `info` is zeroed; fill it on success. */
    int (*vm_info)(void *opaque, struct api_vm_info *info, char **err);
    /* Add members to the open JSON object: {"<device>": {"<counter>": N}}. */
    int (*vm_counters)(void *opaque, JsonBuilder *b, char **err);
};

struct api_server_options {
    unsigned int max_connections;    /* more are accepted and closed at once */
    unsigned int request_timeout_ms; /* first byte to last byte of a request */
    unsigned int idle_timeout_ms;    /* keep-alive connection with no request */
    unsigned int write_timeout_ms;   /* client not reading its response */
};

#define API_SERVER_OPTIONS_DEFAULT                                                                 \
    {                                                                                              \
        .max_connections = 32, .request_timeout_ms = 10000, .idle_timeout_ms = 300000,             \
        .write_timeout_ms = 10000                                                                  \
    }

struct api_server;

/* --api-socket path=P: creates the socket (mode 0600) and listens. A stale
 * socket nobody answers on is replaced; a live one is EADDRINUSE. */
int api_socket_listen_path(const char *path, int *fd, char **err)
    __attribute__((warn_unused_result));

/* --api-socket fd=N: checks that N is a listening AF_UNIX stream socket. */
int api_socket_check_fd(int fd, char **err) __attribute__((warn_unused_result));

/* Starts the thread. Takes ownership of `listen_fd` (closed on failure
 * too); `unlink_path`
 * (optional) is removed when the server stops. `opts` may be NULL. */
int api_server_start(int listen_fd, const char *unlink_path, const struct api_backend_ops *ops,
                     void *opaque, const struct api_server_options *opts, struct api_server **out,
                     char **err) __attribute__((warn_unused_result));

/* Stops and joins the thread, closes every connection and the socket. */
void api_server_stop(struct api_server *s);

#endif
