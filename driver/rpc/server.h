/* The RPC server: listening unix sockets, one client per accepted
 * connection, message framing with fd passing, keepalive answers, and the
 * hand-off of every CALL to the program's dispatcher. Runs on the GLib main
 * context of the thread that creates it. */
#ifndef VIREO_RPC_SERVER_H
#define VIREO_RPC_SERVER_H

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

#include "dispatch.h"

struct rpc_server;
struct rpc_client;

/* Who may use the read-write socket: peers whose uid is `allowed_uid`
 * (root for a system daemon, the owner for a session daemon). */
struct rpc_server *rpc_server_new(const struct rpc_program *prog, uid_t allowed_uid);

/* Stops listening (removing the socket files it created) and drops every
 * client. */
void rpc_server_free(struct rpc_server *srv);

/* Binds and listens on `path` with the given mode; the file is removed again
 * by rpc_server_free(). */
int rpc_server_listen_path(struct rpc_server *srv, const char *path, mode_t mode, bool readonly,
                           GError **error) __attribute__((warn_unused_result));

/* Serves an already listening socket (systemd socket activation). */
void rpc_server_listen_fd(struct rpc_server *srv, int fd, bool readonly);

unsigned int rpc_server_client_count(const struct rpc_server *srv);

bool rpc_client_is_readonly(const struct rpc_client *client);
void rpc_client_set_readonly(struct rpc_client *client);
uid_t rpc_client_uid(const struct rpc_client *client);

/* Messages queued for one client beyond this are dropped (a client that
 * never reads cannot make the daemon grow without bound). */
#define RPC_CLIENT_SEND_MAX 4096

/* Queues a message the server sends on its own: an event or stream data.
 * Takes msg (NULL is ignored). */
void rpc_client_send(struct rpc_client *client, GBytes *msg);

/* The header of the CALL being dispatched to a handler (NULL outside one):
 * a stream's packets carry its procedure and serial. */
const wire_header *rpc_client_current_call(const struct rpc_client *client);

/* Messages waiting to be written to the client. */
unsigned int rpc_client_queue_length(const struct rpc_client *client);

/* Per-client data of the program, freed with the client. */
void *rpc_client_get_data(const struct rpc_client *client);
void rpc_client_set_data(struct rpc_client *client, void *data, GDestroyNotify free_data);

#endif
