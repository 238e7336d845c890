/* Unix-socket RPC server on the GLib main loop. Each client reads one message
 * at a time (length word, then the rest, then any passed fds), answers it, and
 * queues replies for writing when the socket is ready. A client that breaks
 * the framing is disconnected; nothing a client sends can stop the others. */
#include <config.h>

#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <libvirt/virterror.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "driver/error.h"

#define CLIENTS_MAX 1024
/* Stop reading from a client that does not read its replies. */
#define OUT_QUEUE_MAX 64
/* Messages handled per wake-up, so one busy client cannot starve others. */
#define MESSAGES_PER_WAKEUP 16

struct listener {
    struct rpc_server *srv;
    int fd;
    bool readonly;
    char *path; /* removed on shutdown; NULL for inherited sockets */
    guint watch;
};

struct rpc_server {
    const struct rpc_program *prog;
    uid_t allowed_uid;
    GPtrArray *listeners;
    GHashTable *clients; /* struct rpc_client * set */
};

enum read_state {
    READ_LENGTH,
    READ_BODY,
    READ_FDS,
};

struct client_source {
    GSource base;
    struct rpc_client *client;
};

struct rpc_client {
    struct rpc_server *srv;
    int fd;
    GSource *source;
    gpointer tag;
    GIOCondition events;
    bool readonly;
    bool denied; /* failed the peer check: every call is refused */
    uid_t uid;
    pid_t pid;

    enum read_state state;
    uint8_t lenbuf[RPC_LEN_BYTES];
    uint8_t *msg; /* header + payload */
    uint32_t msg_len;
    uint32_t have;
    int fds[RPC_FDS_MAX];
    unsigned int nfds, nfds_want;
    unsigned int fd_bytes; /* dummy bytes read, one per fd */

    GQueue out; /* GBytes */
    size_t out_off;

    void *data;
    GDestroyNotify free_data;
    const wire_header *current; /* the CALL being dispatched */
};

static void client_update_events(struct rpc_client *c);

bool rpc_client_is_readonly(const struct rpc_client *client)
{
    return client->readonly;
}

void rpc_client_set_readonly(struct rpc_client *client)
{
    client->readonly = true;
}

uid_t rpc_client_uid(const struct rpc_client *client)
{
    return client->uid;
}

void *rpc_client_get_data(const struct rpc_client *client)
{
    return client->data;
}

void rpc_client_set_data(struct rpc_client *client, void *data, GDestroyNotify free_data)
{
    if (client->free_data && client->data)
        client->free_data(client->data);
    client->data = data;
    client->free_data = free_data;
}

void rpc_client_send(struct rpc_client *client, GBytes *msg)
{
    if (!msg) {
        g_warning("client %p: a message could not be encoded", (void *)client);
        return;
    }
    if (g_queue_get_length(&client->out) >= RPC_CLIENT_SEND_MAX) {
        g_warning("client %p does not read its messages: dropping one", (void *)client);
        g_bytes_unref(msg);
        return;
    }
    g_queue_push_tail(&client->out, msg);
    client_update_events(client);
}

const wire_header *rpc_client_current_call(const struct rpc_client *client)
{
    return client->current;
}

unsigned int rpc_client_queue_length(const struct rpc_client *client)
{
    return client->out.length;
}

static void close_fds(struct rpc_client *c)
{
    for (unsigned int i = 0; i < c->nfds; i++)
        close(c->fds[i]);
    c->nfds = 0;
    c->nfds_want = 0;
    c->fd_bytes = 0;
}

static void client_free(struct rpc_client *c)
{
    g_debug("client %p (uid %u pid %d) disconnected", (void *)c, (unsigned)c->uid, (int)c->pid);
    if (c->source) {
        g_source_destroy(c->source);
        g_source_unref(c->source);
    }
    close_fds(c);
    close(c->fd);
    g_free(c->msg);
    g_queue_clear_full(&c->out, (GDestroyNotify)g_bytes_unref);
    if (c->free_data && c->data)
        c->free_data(c->data);
    g_free(c);
}

static void client_disconnect(struct rpc_client *c)
{
    g_hash_table_remove(c->srv->clients, c); /* frees it */
}

static void client_update_events(struct rpc_client *c)
{
    GIOCondition want = 0;

    if (g_queue_get_length(&c->out) < OUT_QUEUE_MAX)
        want |= G_IO_IN;
    if (!g_queue_is_empty(&c->out))
        want |= G_IO_OUT;
    if (want != c->events) {
        g_source_modify_unix_fd(c->source, c->tag, want);
        c->events = want;
    }
}

static void client_queue(struct rpc_client *c, GBytes *msg)
{
    if (!msg) {
        g_warning("client %p: a reply could not be encoded", (void *)c);
        return;
    }
    g_queue_push_tail(&c->out, msg);
}

/* Writes queued replies; false when the peer is gone. */
static bool client_flush(struct rpc_client *c)
{
    while (!g_queue_is_empty(&c->out)) {
        GBytes *head = g_queue_peek_head(&c->out);
        size_t len;
        const uint8_t *data = g_bytes_get_data(head, &len);
        ssize_t n = send(c->fd, data + c->out_off, len - c->out_off, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return true;
            return false;
        }
        c->out_off += n;
        if (c->out_off == len) {
            g_bytes_unref(g_queue_pop_head(&c->out));
            c->out_off = 0;
        }
    }
    return true;
}

/* recvmsg that keeps the fds the current message announced and closes any
 * other fd a peer pushes at us. */
static ssize_t client_recv(struct rpc_client *c, void *buf, size_t len)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * RPC_FDS_MAX)];
    } control;
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr mh = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.buf,
        .msg_controllen = sizeof(control.buf),
    };
    ssize_t n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);

    if (n < 0)
        return n;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int *fds = (int *)CMSG_DATA(cm);
        for (size_t i = 0; i < count; i++) {
            if (c->state == READ_FDS && c->nfds < c->nfds_want)
                c->fds[c->nfds++] = fds[i];
            else
                close(fds[i]);
        }
    }
    return n;
}

static void reply_error(struct rpc_client *c, const wire_header *hdr, int code, const char *msg)
{
    client_queue(c, rpc_error_encode(hdr, WIRE_REPLY, code, VIR_FROM_RPC, msg));
}

/* Answers one complete message; false to disconnect the client. */
static bool client_handle(struct rpc_client *c, const wire_header *hdr, const uint8_t *payload,
                          size_t len)
{
    const struct rpc_program *prog = c->srv->prog;
    bool is_call = hdr->type == WIRE_CALL || hdr->type == WIRE_CALL_WITH_FDS;

    if ((unsigned int)hdr->type > WIRE_STREAM_HOLE) {
        g_info("client %p: message of unknown type %d, disconnecting", (void *)c, hdr->type);
        return false;
    }
    if (hdr->prog == RPC_KEEPALIVE_PROGRAM) {
        if (hdr->type == WIRE_MESSAGE && hdr->proc == RPC_KEEPALIVE_PING) {
            wire_header pong = {
                .prog = RPC_KEEPALIVE_PROGRAM,
                .vers = RPC_KEEPALIVE_VERSION,
                .proc = RPC_KEEPALIVE_PONG,
                .type = WIRE_MESSAGE,
                .serial = 0,
                .status = WIRE_OK,
            };
            client_queue(c, rpc_message_encode(&pong, NULL, NULL));
        }
        return true;
    }
    if (!is_call) {
        /* Stream packets go to the program; anything else from a client
         * (replies, events) has no meaning here and is dropped. */
        if (hdr->type == WIRE_STREAM && hdr->prog == RPC_PROGRAM && prog->stream && !c->denied)
            prog->stream(prog->opaque, c, hdr, payload, len);
        else
            g_debug("client %p: ignoring message type %d proc %d", (void *)c, hdr->type, hdr->proc);
        return true;
    }
    if (hdr->prog != RPC_PROGRAM || hdr->vers != RPC_PROGRAM_VERSION) {
        g_autofree char *msg = g_strdup_printf(_("RPC error: cannot find program %u version %u"),
                                               hdr->prog, hdr->vers);
        reply_error(c, hdr, VIR_ERR_RPC, msg);
        return true;
    }
    if (hdr->status != WIRE_OK) {
        reply_error(c, hdr, VIR_ERR_RPC, _("RPC error: a call must have status OK"));
        return true;
    }
    if (c->denied) {
        g_autofree char *msg =
            g_strdup_printf(_("authentication failed: uid %u may not use the read-write "
                              "socket; use the read-only socket"),
                            (unsigned)c->uid);
        client_queue(c, rpc_error_encode(hdr, WIRE_REPLY, VIR_ERR_AUTH_FAILED, VIR_FROM_RPC, msg));
        return true;
    }
    g_debug("client %p: call proc %d serial %u", (void *)c, hdr->proc, hdr->serial);
    c->current = hdr;
    client_queue(c, rpc_dispatch_call(prog, c, hdr, payload, len));
    c->current = NULL;
    return true;
}

/* The whole message (and its fds) is in: decode the header and answer. */
static bool client_message_done(struct rpc_client *c)
{
    wire_header hdr;
    const uint8_t *payload = c->msg + RPC_HEADER_BYTES;
    size_t len = c->msg_len - RPC_HEADER_BYTES;
    bool ok;

    if (!rpc_header_decode(c->msg, RPC_HEADER_BYTES, &hdr))
        return false;
    if (hdr.type == WIRE_CALL_WITH_FDS) {
        payload += 4; /* the fd count, already read */
        len -= 4;
    }
    ok = client_handle(c, &hdr, payload, len);
    close_fds(c); /* no procedure we serve keeps a passed fd */
    g_clear_pointer(&c->msg, g_free);
    c->state = READ_LENGTH;
    c->have = 0;
    return ok;
}

/* The body is in: find out whether fds follow. */
static bool client_body_done(struct rpc_client *c)
{
    wire_header hdr;

    if (!rpc_header_decode(c->msg, RPC_HEADER_BYTES, &hdr))
        return false;
    if (hdr.type == WIRE_CALL_WITH_FDS) {
        if (c->msg_len < RPC_HEADER_BYTES + 4) {
            g_info("client %p: fd count missing, disconnecting", (void *)c);
            return false;
        }
        c->nfds_want = rpc_length_decode(c->msg + RPC_HEADER_BYTES);
        if (c->nfds_want > RPC_FDS_MAX) {
            g_info("client %p: %u fds announced, disconnecting", (void *)c, c->nfds_want);
            return false;
        }
        if (c->nfds_want > 0) {
            c->state = READ_FDS;
            return true;
        }
    }
    return client_message_done(c);
}

/* Reads what is available; false to disconnect. */
static bool client_read(struct rpc_client *c)
{
    for (int handled = 0; handled < MESSAGES_PER_WAKEUP;) {
        uint8_t *buf;
        size_t want;
        uint8_t dummy;
        ssize_t n;

        switch (c->state) {
        case READ_LENGTH:
            buf = c->lenbuf + c->have;
            want = RPC_LEN_BYTES - c->have;
            break;
        case READ_BODY:
            buf = c->msg + c->have;
            want = c->msg_len - c->have;
            break;
        default:
            buf = &dummy;
            want = 1;
            break;
        }
        n = client_recv(c, buf, want);
        if (n == 0)
            return false;
        if (n < 0)
            return errno == EAGAIN || errno == EINTR;

        switch (c->state) {
        case READ_LENGTH: {
            c->have += n;
            if (c->have < RPC_LEN_BYTES)
                break;
            uint32_t total = rpc_length_decode(c->lenbuf);
            if (total < RPC_MESSAGE_MIN || total > RPC_MESSAGE_MAX) {
                g_info("client %p: message length %u out of range, disconnecting", (void *)c,
                       total);
                return false;
            }
            c->msg_len = total - RPC_LEN_BYTES;
            c->msg = g_malloc(c->msg_len);
            c->have = 0;
            c->state = READ_BODY;
            break;
        }
        case READ_BODY:
            c->have += n;
            if (c->have < c->msg_len)
                break;
            handled++;
            if (!client_body_done(c))
                return false;
            break;
        case READ_FDS:
            c->fd_bytes++;
            if (c->nfds < c->fd_bytes) {
                /* The dummy byte came without its fd. */
                g_info("client %p: fd missing, disconnecting", (void *)c);
                return false;
            }
            if (c->nfds == c->nfds_want) {
                handled++;
                if (!client_message_done(c))
                    return false;
            }
            break;
        }
        if (g_queue_get_length(&c->out) >= OUT_QUEUE_MAX)
            break;
    }
    return true;
}

static gboolean client_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
    struct rpc_client *c = ((struct client_source *)source)->client;
    GIOCondition rev = g_source_query_unix_fd(source, c->tag);

    if (rev & G_IO_IN) {
        if (!client_read(c)) {
            client_flush(c); /* best effort: the error that explains the close */
            client_disconnect(c);
            return G_SOURCE_CONTINUE; /* the source was destroyed with the client */
        }
    } else if (rev & (G_IO_HUP | G_IO_ERR)) {
        client_disconnect(c);
        return G_SOURCE_CONTINUE;
    }
    if (!client_flush(c)) {
        client_disconnect(c);
        return G_SOURCE_CONTINUE;
    }
    client_update_events(c);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs client_source_funcs = {
    .dispatch = client_dispatch,
};

static void client_new(struct listener *l, int fd)
{
    struct rpc_server *srv = l->srv;
    struct rpc_client *c = g_new0(struct rpc_client, 1);
    struct ucred cred = {.pid = -1, .uid = (uid_t)-1};
    socklen_t cl = sizeof(cred);

    c->srv = srv;
    c->fd = fd;
    c->readonly = l->readonly;
    g_queue_init(&c->out);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0) {
        c->uid = cred.uid;
        c->pid = cred.pid;
    } else {
        c->uid = (uid_t)-1;
        c->pid = -1;
    }
    if (!l->readonly && c->uid != srv->allowed_uid && c->uid != 0) {
        g_info("uid %u (pid %d) refused on the read-write socket", (unsigned)c->uid, (int)c->pid);
        c->denied = true;
    }
    c->source = g_source_new(&client_source_funcs, sizeof(struct client_source));
    ((struct client_source *)c->source)->client = c;
    g_source_set_name(c->source, "rpc-client");
    c->events = G_IO_IN;
    c->tag = g_source_add_unix_fd(c->source, fd, c->events);
    g_source_attach(c->source, NULL);
    g_hash_table_add(srv->clients, c);
    g_debug("client %p (uid %u pid %d%s) connected", (void *)c, (unsigned)c->uid, (int)c->pid,
            c->readonly ? ", read-only" : "");
}

static gboolean listener_accept(int lfd, GIOCondition cond, gpointer opaque)
{
    struct listener *l = opaque;

    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                g_warning("accept: %s", g_strerror(errno));
            break;
        }
        if (g_hash_table_size(l->srv->clients) >= CLIENTS_MAX) {
            g_warning("too many clients (%d), refusing one", CLIENTS_MAX);
            close(fd);
            continue;
        }
        client_new(l, fd);
    }
    return G_SOURCE_CONTINUE;
}

static void listener_free(struct listener *l)
{
    if (l->watch)
        g_source_remove(l->watch);
    if (l->path)
        unlink(l->path);
    close(l->fd);
    g_free(l->path);
    g_free(l);
}

struct rpc_server *rpc_server_new(const struct rpc_program *prog, uid_t allowed_uid)
{
    struct rpc_server *srv = g_new0(struct rpc_server, 1);

    srv->prog = prog;
    srv->allowed_uid = allowed_uid;
    srv->listeners = g_ptr_array_new_with_free_func((GDestroyNotify)listener_free);
    srv->clients = g_hash_table_new_full(NULL, NULL, (GDestroyNotify)client_free, NULL);
    return srv;
}

void rpc_server_free(struct rpc_server *srv)
{
    if (!srv)
        return;
    g_ptr_array_unref(srv->listeners);
    g_hash_table_unref(srv->clients);
    g_free(srv);
}

unsigned int rpc_server_client_count(const struct rpc_server *srv)
{
    return g_hash_table_size(srv->clients);
}

void rpc_server_listen_fd(struct rpc_server *srv, int fd, bool readonly)
{
    struct listener *l = g_new0(struct listener, 1);

    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    l->srv = srv;
    l->fd = fd;
    l->readonly = readonly;
    l->watch = g_unix_fd_add(fd, G_IO_IN, listener_accept, l);
    g_ptr_array_add(srv->listeners, l);
}

/* True when a server already answers on `addr`. */
static bool socket_in_use(const struct sockaddr_un *addr)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool used;

    if (fd < 0)
        return false;
    used = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0;
    close(fd);
    return used;
}

int rpc_server_listen_path(struct rpc_server *srv, const char *path, mode_t mode, bool readonly,
                           GError **error)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    struct listener *l;
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        g_set_error(error, VIREO_RPC_ERROR, VIR_ERR_INVALID_ARG, _("socket path '%s' is too long"),
                    path);
        return -1;
    }
    strcpy(addr.sun_path, path);
    if (socket_in_use(&addr)) {
        g_set_error(error, VIREO_RPC_ERROR, VIR_ERR_OPERATION_FAILED,
                    _("another daemon is already listening on '%s'"), path);
        return -1;
    }
    unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || chmod(path, mode) < 0 ||
        listen(fd, 128) < 0) {
        int saved = errno;
        g_set_error(error, VIREO_RPC_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot listen on '%s': %s"),
                    path, g_strerror(saved));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    rpc_server_listen_fd(srv, fd, readonly);
    l = g_ptr_array_index(srv->listeners, srv->listeners->len - 1);
    l->path = g_strdup(path);
    return 0;
}
