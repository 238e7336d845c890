/* A minimal HTTP/1.1 client for the VMM's api socket, and the reader of its
 * event stream. Requests are short and rare (start, stop, pause), so one
 * blocking request per connection, bounded by a timeout and by the VMM's
 * death, is all the driver needs. */
#include <config.h>

#include "monitor.h"

#include <errno.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <libvirt/virterror.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

#define RESPONSE_MAX (16 * 1024 * 1024)

static gint64 now_ms(void)
{
    return g_get_monotonic_time() / 1000;
}

/* Waits until fd is ready for `events`, the deadline passes, or the VMM
 * exits. 0, or -1 with *error set. */
static int wait_fd(int fd, short events, int pidfd, gint64 deadline, const char *endpoint,
                   GError **error)
{
    for (;;) {
        struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = pidfd, .events = POLLIN}};
        gint64 left = deadline - now_ms();
        int n;

        if (left <= 0) {
            g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_TIMEOUT,
                        _("operation timed out: the VMM did not answer %s"), endpoint);
            return -1;
        }
        n = poll(p, pidfd >= 0 ? 2 : 1, (int)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_SYSTEM_ERROR, "poll: %s",
                        g_strerror(saved));
            return -1;
        }
        if (p[0].revents)
            return 0;
        if (pidfd >= 0 && p[1].revents) {
            g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
                        _("operation failed: the VMM exited while answering %s"), endpoint);
            return -1;
        }
    }
}

static int connect_socket(const char *path, GError **error)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INTERNAL_ERROR,
                    _("internal error: api socket path '%s' is too long"), path);
        return -1;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        int saved = errno;
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
                    _("operation failed: cannot connect to the VMM's api socket '%s': %s"), path,
                    g_strerror(saved));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Status and body out of a complete response; false when it is not one
 * yet (or never will be: *bad). */
static bool parse_response(const GString *in, bool eof, unsigned int *status, char **body,
                           bool *bad)
{
    const char *end = strstr(in->str, "\r\n\r\n");
    const char *p;
    size_t header_len, have, want = 0;
    bool has_length = false;
    unsigned int code;

    *bad = false;
    if (!end) {
        *bad = eof;
        return false;
    }
    if (sscanf(in->str, "HTTP/1.%*d %u", &code) != 1) {
        *bad = true;
        return false;
    }
    header_len = end - in->str + 4;
    for (p = strstr(in->str, "\r\n"); p && p < end; p = strstr(p + 2, "\r\n")) {
        if (g_ascii_strncasecmp(p + 2, "Content-Length:", 15) == 0) {
            want = strtoull(p + 2 + 15, NULL, 10);
            has_length = true;
        }
    }
    have = in->len - header_len;
    if (has_length ? have < want : !eof && code != 204 && code >= 200) {
        *bad = eof;
        return false;
    }
    if (!has_length)
        want = code == 204 ? 0 : have;
    *status = code;
    *body = g_strndup(in->str + header_len, want);
    return true;
}

int vireo_monitor_request(const char *socket_path, int pidfd, const char *method,
                          const char *endpoint, const char *body, int timeout_ms,
                          unsigned int *status, char **response, GError **error)
{
    gint64 deadline = now_ms() + timeout_ms;
    g_autofree char *request = NULL;
    g_autoptr(GString) in = g_string_new(NULL);
    size_t len, off = 0;
    bool bad, eof = false;
    int fd;

    *response = NULL;
    if (body)
        request = g_strdup_printf("%s /api/v1/%s HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n"
                                  "Connection: close\r\nContent-Type: application/json\r\n"
                                  "Content-Length: %zu\r\n\r\n%s",
                                  method, endpoint, strlen(body), body);
    else
        request = g_strdup_printf("%s /api/v1/%s HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n"
                                  "Connection: close\r\nContent-Length: 0\r\n\r\n",
                                  method, endpoint);
    if ((fd = connect_socket(socket_path, error)) < 0)
        return -1;
    len = strlen(request);
    while (off < len) {
        ssize_t n;

        if (wait_fd(fd, POLLOUT, pidfd, deadline, endpoint, error) < 0)
            goto fail;
        n = send(fd, request + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n < 0) {
            int saved = errno;
            g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
                        _("operation failed: cannot send %s to the VMM: %s"), endpoint,
                        g_strerror(saved));
            goto fail;
        }
        off += n;
    }
    for (;;) {
        char buf[4096];
        ssize_t n;

        if (parse_response(in, eof, status, response, &bad)) {
            close(fd);
            return 0;
        }
        if (bad || in->len > RESPONSE_MAX) {
            g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
                        _("operation failed: the VMM's answer to %s is not valid HTTP"), endpoint);
            goto fail;
        }
        if (wait_fd(fd, POLLIN, pidfd, deadline, endpoint, error) < 0)
            goto fail;
        n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n < 0) {
            int saved = errno;
            g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
                        _("operation failed: no answer from the VMM to %s: %s"), endpoint,
                        g_strerror(saved));
            goto fail;
        }
        if (n == 0)
            eof = true;
        else
            g_string_append_len(in, buf, n);
    }
fail:
    close(fd);
    return -1;
}

char *vireo_monitor_error_text(const char *body)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonNode *root;

    if (!body || !*body)
        return g_strdup(_("no details"));
    if (json_parser_load_from_data(parser, body, -1, NULL) &&
        (root = json_parser_get_root(parser)) && JSON_NODE_HOLDS_ARRAY(root)) {
        JsonArray *a = json_node_get_array(root);
        g_autoptr(GString) s = g_string_new(NULL);

        for (guint i = 0; i < json_array_get_length(a); i++) {
            JsonNode *n = json_array_get_element(a, i);
            if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
                continue;
            if (s->len)
                g_string_append(s, ": ");
            g_string_append(s, json_node_get_string(n));
        }
        if (s->len)
            return g_string_free(g_steal_pointer(&s), FALSE);
    }
    return g_strstrip(g_strdup(body));
}

int vireo_monitor_call(const char *socket_path, int pidfd, const char *method, const char *endpoint,
                       const char *body, char **response, GError **error)
{
    g_autofree char *answer = NULL;
    unsigned int status;

    if (vireo_monitor_request(socket_path, pidfd, method, endpoint, body, VIREO_MONITOR_TIMEOUT_MS,
                              &status, &answer, error) < 0)
        return -1;
    if (status < 200 || status > 299) {
        g_autofree char *text = vireo_monitor_error_text(answer);
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
                    _("operation failed: %s: %s"), endpoint, text);
        return -1;
    }
    if (response)
        *response = g_steal_pointer(&answer);
    return 0;
}

/* ---- events ---- */

void vireo_vmm_event_clear(struct vireo_vmm_event *ev)
{
    g_clear_pointer(&ev->source, g_free);
    g_clear_pointer(&ev->event, g_free);
    g_clear_pointer(&ev->id, g_free);
    g_clear_pointer(&ev->reason, g_free);
}

static const char *string_member(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(n);
}

static gint64 int_member(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
        return 0;
    return json_node_get_int(n);
}

bool vireo_vmm_event_parse(const char *line, struct vireo_vmm_event *ev, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonNode *root, *n;
    JsonObject *o;
    const char *source, *event;

    memset(ev, 0, sizeof(*ev));
    if (!json_parser_load_from_data(parser, line, -1, error))
        return false;
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INTERNAL_ERROR,
                    _("an event must be a JSON object"));
        return false;
    }
    o = json_node_get_object(root);
    source = string_member(o, "source");
    event = string_member(o, "event");
    if (!source || !event) {
        g_set_error(error, VIREO_DRIVER_ERROR, VIR_ERR_INTERNAL_ERROR,
                    _("an event needs string members \"source\" and \"event\""));
        return false;
    }
    ev->source = g_strdup(source);
    ev->event = g_strdup(event);
    if ((n = json_object_get_member(o, "timestamp")) && JSON_NODE_HOLDS_OBJECT(n)) {
        JsonObject *t = json_node_get_object(n);
        ev->secs = int_member(t, "secs");
        ev->nanos = int_member(t, "nanos");
    }
    if ((n = json_object_get_member(o, "properties")) && JSON_NODE_HOLDS_OBJECT(n)) {
        ev->id = g_strdup(string_member(json_node_get_object(n), "id"));
        ev->reason = g_strdup(string_member(json_node_get_object(n), "reason"));
    }
    return true;
}

struct vireo_event_reader {
    int fd;
    guint watch;
    GString *line;
    bool skipping; /* inside a line that grew too long */
    unsigned int bad;
    vireo_event_func func;
    void *opaque;
};

static void reader_line(struct vireo_event_reader *r, const char *line)
{
    struct vireo_vmm_event ev;
    g_autoptr(GError) error = NULL;

    if (!*line)
        return;
    if (!vireo_vmm_event_parse(line, &ev, &error)) {
        r->bad++;
        g_warning(_("skipping a malformed event from the VMM (%s): %.200s"), error->message, line);
        return;
    }
    r->func(r->opaque, &ev);
    vireo_vmm_event_clear(&ev);
}

void vireo_event_reader_feed(struct vireo_event_reader *r, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n') {
            if (r->skipping)
                r->skipping = false;
            else
                reader_line(r, r->line->str);
            g_string_truncate(r->line, 0);
            continue;
        }
        if (r->skipping)
            continue;
        if (r->line->len >= VIREO_EVENT_LINE_MAX) {
            r->bad++;
            g_warning(_("skipping an event line from the VMM longer than %d bytes"),
                      VIREO_EVENT_LINE_MAX);
            g_string_truncate(r->line, 0);
            r->skipping = true;
            continue;
        }
        g_string_append_c(r->line, data[i]);
    }
}

void vireo_event_reader_drain(struct vireo_event_reader *r)
{
    char buf[4096];

    if (r->fd < 0)
        return;
    for (;;) {
        ssize_t n = read(r->fd, buf, sizeof(buf));

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        vireo_event_reader_feed(r, buf, n);
    }
}

static gboolean reader_ready(int fd, GIOCondition cond, gpointer opaque)
{
    vireo_event_reader_drain(opaque);
    return G_SOURCE_CONTINUE;
}

struct vireo_event_reader *vireo_event_reader_new(int fd, vireo_event_func func, void *opaque)
{
    struct vireo_event_reader *r = g_new0(struct vireo_event_reader, 1);

    r->fd = fd;
    r->line = g_string_new(NULL);
    r->func = func;
    r->opaque = opaque;
    if (fd >= 0) {
        g_unix_set_fd_nonblocking(fd, TRUE, NULL);
        r->watch = g_unix_fd_add(fd, G_IO_IN, reader_ready, r);
    }
    return r;
}

unsigned int vireo_event_reader_bad_lines(const struct vireo_event_reader *r)
{
    return r->bad;
}

void vireo_event_reader_free(struct vireo_event_reader *r)
{
    if (!r)
        return;
    if (r->watch)
        g_source_remove(r->watch);
    if (r->fd >= 0)
        close(r->fd);
    g_string_free(r->line, TRUE);
    g_free(r);
}
