/* The control API client: connect, write the request, read until the
 * response is complete, with one deadline for the whole exchange. */
#include "config.h"

#include "api/client.h"

#include <errno.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for `events` on fd until the deadline. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = events};
        int64_t left = deadline - now_ms();
        int n;

        if (left <= 0)
            return -ETIMEDOUT;
        n = poll(&pfd, 1, (int)MIN(left, INT32_MAX));
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -errno;
    }
}

static int exchange(int fd, const GString *req, int64_t deadline, struct http_message **response,
                    char **err)
{
    g_autoptr(http_parser) parser = http_parser_new(HTTP_KIND_RESPONSE);
    size_t off = 0;
    char buf[16384];
    int ret;

    while (off < req->len) {
        ssize_t n = send(fd, req->str + off, req->len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            ret = wait_fd(fd, POLLOUT, deadline);
            if (ret)
                goto io_fail;
            continue;
        }
        /* The server may have answered early (413) and closed: read that. */
        break;
    }

    for (;;) {
        enum http_parse_result res;
        ssize_t n;
        size_t used = 0, pos = 0;

        ret = wait_fd(fd, POLLIN, deadline);
        if (ret)
            goto io_fail;
        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0 && errno != ECONNRESET) {
            ret = -errno;
            goto io_fail;
        }
        if (n <= 0) {
            res = http_parser_finish(parser);
            if (res == HTTP_PARSE_DONE) {
                *response = http_parser_take(parser);
                return 0;
            }
            *err = g_strdup_printf("the VMM closed the connection without a complete "
                                   "response (%s)",
                                   http_parser_error(parser));
            return -ECONNRESET;
        }
        while (pos < (size_t)n) {
            res = http_parser_feed(parser, buf + pos, (size_t)n - pos, &used);
            pos += used;
            if (res == HTTP_PARSE_ERROR) {
                *err = g_strdup_printf("malformed response: %s", http_parser_error(parser));
                return -EPROTO;
            }
            if (res != HTTP_PARSE_DONE)
                continue;
            *response = http_parser_take(parser);
            if ((*response)->status / 100 != 1)
                return 0;
            g_clear_pointer(response, http_message_free); /* 100 Continue */
        }
    }

io_fail:
    *err = ret == -ETIMEDOUT ? g_strdup("no response from the VMM in time")
                             : g_strdup_printf("talking to the VMM: %s", g_strerror(-ret));
    return ret;
}

int api_client_request(const char *socket_path, const char *method, const char *endpoint,
                       const char *body, size_t body_len, int timeout_ms,
                       struct http_message **response, char **err)
{
    g_autoptr(GString) req = g_string_new(NULL);
    g_autofree char *path = g_strdup_printf("/api/v1/%s", endpoint);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int64_t deadline = now_ms() + timeout_ms;
    int fd, ret;

    *response = NULL;
    if (strlen(socket_path) >= sizeof(sa.sun_path)) {
        *err = g_strdup_printf("socket path '%s' is too long", socket_path);
        return -ENAMETOOLONG;
    }
    strcpy(sa.sun_path, socket_path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        ret = -errno;
        *err = g_strdup_printf("cannot connect to '%s': %s", socket_path, g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return ret;
    }
    http_request_append(req, method, path, body_len ? "application/json" : NULL, body, body_len,
                        true);
    ret = exchange(fd, req, deadline, response, err);
    close(fd);
    return ret;
}

char *api_client_error_text(const struct http_message *response)
{
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GString) out = g_string_new(NULL);
    JsonNode *root;

    if (!response->body_len)
        return g_strdup("");
    if (json_parser_load_from_data(parser, (const char *)response->body, (gssize)response->body_len,
                                   NULL) &&
        (root = json_parser_get_root(parser)) && JSON_NODE_HOLDS_ARRAY(root)) {
        JsonArray *a = json_node_get_array(root);

        for (guint i = 0; i < json_array_get_length(a); i++) {
            JsonNode *e = json_array_get_element(a, i);
            if (JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING)
                g_string_append_printf(out, "%s%s", out->len ? ": " : "", json_node_get_string(e));
        }
        if (out->len)
            return g_string_free(g_steal_pointer(&out), FALSE);
    }
    return g_strndup((const char *)response->body, response->body_len);
}
