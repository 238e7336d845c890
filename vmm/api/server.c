/* The API server thread: a poll loop over the listening socket and its
 * connections, each with its own parser and output buffer, so a slow or
 * silent client only ever holds up itself. Requests are answered in order
 * (pipelining); a connection with unread output is not read further. */
#include "config.h"

#include "api/server.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api/http.h"
#include "api/routes.h"

#define READ_CHUNK    16384
#define REQUEST_BURST 32 /* requests served per connection per poll round */
#define LINGER_MS     2000
#define LINGER_BYTES  (4u << 20)

struct conn {
    int fd;
    struct http_parser *parser;
    GByteArray *in;
    size_t in_off;
    GString *out;
    size_t out_off;
    bool closing;         /* close once `out` is written */
    uint64_t idle_since;  /* accept or last response */
    uint64_t req_start;   /* first byte of the current request; 0: none */
    uint64_t write_start; /* `out` became non-empty */
    uint64_t shut_at;     /* when closing: our side was shut down */
    size_t discarded;
};

struct api_server {
    int listen_fd;
    int wake_fd;
    char *unlink_path;
    pthread_t thread;
    const struct api_backend_ops *ops;
    void *opaque;
    struct api_server_options opts;
    GPtrArray *conns;
};

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- connections ---- */

static void conn_free(struct conn *c)
{
    close(c->fd);
    http_parser_free(c->parser);
    g_byte_array_unref(c->in);
    g_string_free(c->out, TRUE);
    g_free(c);
}

static void conn_queue(struct conn *c, unsigned int status, const char *body, bool close,
                       const char *extra_headers)
{
    if (c->out->len == c->out_off)
        c->write_start = now_ms();
    http_response_append(c->out, status, "application/json", body, body ? strlen(body) : 0, close,
                         extra_headers);
    if (close)
        c->closing = true;
}

static void conn_queue_error(struct conn *c, unsigned int status, const char *detail)
{
    struct api_reply r = {0};

    api_reply_error(&r, status, http_status_reason(status), detail);
    conn_queue(c, status, r.body, true, NULL);
    g_free(r.body);
}

/* Writes what the socket takes now. False: the connection is dead. */
static bool conn_flush(struct conn *c)
{
    while (c->out_off < c->out->len) {
        ssize_t n = send(c->fd, c->out->str + c->out_off, c->out->len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->out_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return true;
        } else {
            return false;
        }
    }
    g_string_truncate(c->out, 0);
    c->out_off = 0;
    return true;
}

static void conn_serve_one(struct api_server *s, struct conn *c)
{
    size_t consumed = 0;
    enum http_parse_result res;

    res = http_parser_feed(c->parser, c->in->data + c->in_off, c->in->len - c->in_off, &consumed);
    c->in_off += consumed;
    if (!c->req_start && !http_parser_idle(c->parser))
        c->req_start = now_ms();
    if (http_parser_take_expect_continue(c->parser)) {
        if (c->out->len == c->out_off)
            c->write_start = now_ms();
        g_string_append(c->out, HTTP_CONTINUE_RESPONSE);
    }
    if (res == HTTP_PARSE_ERROR) {
        conn_queue_error(c, http_parser_error_status(c->parser), http_parser_error(c->parser));
        return;
    }
    if (res == HTTP_PARSE_DONE) {
        g_autoptr(http_message) m = http_parser_take(c->parser);
        struct api_reply r = {0};

        api_route(s->ops, s->opaque, m, &r);
        conn_queue(c, r.status, r.body, !m->keep_alive, r.allow);
        g_free(r.body);
        c->req_start = 0;
        c->idle_since = now_ms();
    }
}

/* After the last response, reads and drops what the client still sends
 * until it closes: closing with unread input would reset the connection
 * and could destroy the response before the client reads it. */
static bool conn_linger(struct conn *c)
{
    char buf[4096];

    if (!c->shut_at) {
        shutdown(c->fd, SHUT_WR);
        c->shut_at = now_ms();
    }
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            c->discarded += (size_t)n;
            if (c->discarded > LINGER_BYTES)
                return false;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

/* Serves what is ready. *again: input is left that poll will not report. */
static bool conn_service(struct api_server *s, struct conn *c, bool *again)
{
    unsigned int budget = REQUEST_BURST;

    for (;;) {
        if (c->out_off < c->out->len) {
            if (!conn_flush(c))
                return false;
            if (c->out_off < c->out->len)
                return true; /* wait for POLLOUT; read nothing more meanwhile */
        }
        if (c->closing)
            return conn_linger(c);
        if (c->in_off < c->in->len) {
            if (budget-- == 0) {
                *again = true;
                return true;
            }
            conn_serve_one(s, c);
            continue;
        }
        g_byte_array_set_size(c->in, READ_CHUNK);
        c->in_off = 0;
        ssize_t n = recv(c->fd, c->in->data, READ_CHUNK, MSG_DONTWAIT);
        if (n < 0) {
            g_byte_array_set_size(c->in, 0);
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        g_byte_array_set_size(c->in, (guint)n);
        if (n == 0)
            return false; /* the client is done; any partial request goes with it */
    }
}

/* Applies the timeouts; returns false to drop the connection. */
static bool conn_check_time(struct api_server *s, struct conn *c, uint64_t now,
                            uint64_t *next_deadline)
{
    uint64_t deadline;

    if (c->shut_at) {
        deadline = c->shut_at + LINGER_MS;
        if (now >= deadline)
            return false;
    } else if (c->out_off < c->out->len) {
        deadline = c->write_start + s->opts.write_timeout_ms;
        if (now >= deadline)
            return false;
    } else if (c->req_start) {
        deadline = c->req_start + s->opts.request_timeout_ms;
        if (now >= deadline) {
            conn_queue_error(c, 408, "the request did not arrive in time");
            conn_flush(c);
            return false;
        }
    } else {
        deadline = c->idle_since + s->opts.idle_timeout_ms;
        if (now >= deadline)
            return false;
    }
    *next_deadline = MIN(*next_deadline, deadline);
    return true;
}

static void accept_all(struct api_server *s)
{
    for (;;) {
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct conn *c;

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return; /* EAGAIN, or EMFILE and the like: try again next round */
        }
        if (s->conns->len >= s->opts.max_connections) {
            close(fd);
            continue;
        }
        c = g_new0(struct conn, 1);
        c->fd = fd;
        c->parser = http_parser_new(HTTP_KIND_REQUEST);
        c->in = g_byte_array_new();
        c->out = g_string_new(NULL);
        c->idle_since = now_ms();
        g_ptr_array_add(s->conns, c);
    }
}

static void *server_thread(void *opaque)
{
    struct api_server *s = opaque;
    g_autofree struct pollfd *pfds = g_new0(struct pollfd, s->opts.max_connections + 2);
    bool again = false;

    for (;;) {
        uint64_t now = now_ms(), next = UINT64_MAX;
        int timeout;
        nfds_t n = 0;

        for (guint i = 0; i < s->conns->len;) {
            struct conn *c = s->conns->pdata[i];
            if (!conn_check_time(s, c, now, &next)) {
                g_ptr_array_remove_index_fast(s->conns, i);
                conn_free(c);
                continue;
            }
            i++;
        }
        timeout = again ? 0 : next == UINT64_MAX ? -1 : (int)MIN(next - now + 1, 60000);
        again = false;

        pfds[n++] = (struct pollfd){.fd = s->wake_fd, .events = POLLIN};
        pfds[n++] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
        for (guint i = 0; i < s->conns->len; i++) {
            struct conn *c = s->conns->pdata[i];
            pfds[n++] =
                (struct pollfd){.fd = c->fd, .events = c->out_off < c->out->len ? POLLOUT : POLLIN};
        }
        if (poll(pfds, n, timeout) < 0 && errno != EINTR)
            break;
        if (pfds[0].revents)
            break;

        /* Connections first (pfds[2..] match conns[] as built), then accept. */
        for (guint i = s->conns->len; i-- > 0;) {
            struct conn *c = s->conns->pdata[i];
            bool pending = c->in_off < c->in->len;

            if (!pfds[i + 2].revents && !pending)
                continue;
            if (!conn_service(s, c, &again)) {
                g_ptr_array_remove_index_fast(s->conns, i);
                conn_free(c);
            }
        }
        if (pfds[1].revents)
            accept_all(s);
    }
    return NULL;
}

/* ---- sockets and life cycle ---- */

static int fill_addr(const char *path, struct sockaddr_un *sa, char **err)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa->sun_path)) {
        *err = g_strdup_printf("--api-socket: path '%s' is too long for a unix socket", path);
        return -ENAMETOOLONG;
    }
    strcpy(sa->sun_path, path);
    return 0;
}

int api_socket_listen_path(const char *path, int *out, char **err)
{
    struct sockaddr_un sa;
    struct stat st;
    int fd, ret;

    ret = fill_addr(path, &sa, err);
    if (ret)
        return ret;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            *err = g_strdup_printf("--api-socket: '%s' exists and is not a socket", path);
            return -EEXIST;
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            goto sys_fail;
        ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
        close(fd);
        if (ret == 0) {
            *err = g_strdup_printf("--api-socket: '%s' is in use by another process", path);
            return -EADDRINUSE;
        }
        if (errno != ECONNREFUSED)
            goto sys_fail;
        unlink(path); /* stale: left by a VMM that died */
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto sys_fail;
    /* Nobody can connect before listen(), so the chmod comes in time. */
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
        listen(fd, 16) < 0) {
        ret = -errno;
        *err = g_strdup_printf("--api-socket: cannot listen on '%s': %s", path, g_strerror(errno));
        close(fd);
        unlink(path);
        return ret;
    }
    *out = fd;
    return 0;

sys_fail:
    ret = -errno;
    *err = g_strdup_printf("--api-socket: '%s': %s", path, g_strerror(errno));
    return ret;
}

int api_socket_check_fd(int fd, char **err)
{
    int domain = 0, type = 0, listening = 0;
    socklen_t len = sizeof(int);

    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0) {
        int ret = -errno;
        *err = g_strdup_printf("--api-socket: fd=%d is not a socket: %s", fd, g_strerror(errno));
        return ret;
    }
    len = sizeof(int);
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
    len = sizeof(int);
    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
    if (domain != AF_UNIX || type != SOCK_STREAM || !listening) {
        *err = g_strdup_printf("--api-socket: fd=%d is not a listening unix stream socket", fd);
        return -EINVAL;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    return 0;
}

int api_server_start(int listen_fd, const char *unlink_path, const struct api_backend_ops *ops,
                     void *opaque, const struct api_server_options *opts, struct api_server **out,
                     char **err)
{
    static const struct api_server_options defaults = API_SERVER_OPTIONS_DEFAULT;
    struct api_server *s;
    sigset_t all, old;
    int fl, ret;

    s = g_new0(struct api_server, 1);
    s->listen_fd = listen_fd;
    s->unlink_path = g_strdup(unlink_path);
    s->ops = ops;
    s->opaque = opaque;
    s->opts = opts ? *opts : defaults;
    if (!s->opts.max_connections)
        s->opts.max_connections = defaults.max_connections;
    s->conns = g_ptr_array_new();
    fl = fcntl(listen_fd, F_GETFL);
    if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0)
        goto fail_errno;
    s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->wake_fd < 0)
        goto fail_errno;
    /* Signals belong to the VM's control loop, never to this thread. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    ret = -pthread_create(&s->thread, NULL, server_thread, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (ret) {
        close(s->wake_fd);
        errno = -ret;
        goto fail_errno;
    }
    *out = s;
    return 0;

fail_errno:
    ret = -errno;
    *err = g_strdup_printf("cannot start the API server: %s", g_strerror(errno));
    close(listen_fd);
    g_ptr_array_free(s->conns, TRUE);
    g_free(s->unlink_path);
    g_free(s);
    return ret;
}

void api_server_stop(struct api_server *s)
{
    uint64_t one = 1;

    if (!s)
        return;
    if (write(s->wake_fd, &one, sizeof(one)) < 0) {
        /* An eventfd write only fails on overflow: it is signalled already. */
    }
    pthread_join(s->thread, NULL);
    for (guint i = 0; i < s->conns->len; i++)
        conn_free(s->conns->pdata[i]);
    g_ptr_array_free(s->conns, TRUE);
    close(s->wake_fd);
    close(s->listen_fd);
    if (s->unlink_path)
        unlink(s->unlink_path);
    g_free(s->unlink_path);
    g_free(s);
}
